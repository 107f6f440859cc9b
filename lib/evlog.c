#include "evlog.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "err.h"

/* Longest detail key or reason worth a name. */
#define EVLOG_WORD_MAX 64

struct evlog {
    int fd;
    pthread_mutex_t lock;
};

struct evlog_reader {
    int fd;
    char *path;
    char *buf;
    size_t cap;
    size_t start; /* unread data is buf[start, len) */
    size_t len;
    size_t scan;          /* no newline in buf[start, scan) */
    uint64_t offset;      /* file offset of buf[start] */
    size_t line;          /* number of the line at buf[start] */
    bool skipping;        /* dropping bytes up to the next newline */
    bool skip_counted;    /* ... which ends a line already counted */
    bool swallow_newline; /* a line was taken before its newline came */
    char error[512];
};

static const char *const actor_names[] = {
    [EVLOG_ACTOR_AMT] = "AMT",       [EVLOG_ACTOR_SP] = "SP",
    [EVLOG_ACTOR_SITE] = "SITE",     [EVLOG_ACTOR_AGENT] = "AGENT",
    [EVLOG_ACTOR_RUNNER] = "RUNNER",
};

static const char *const result_names[] = {
    [EVLOG_RESULT_OK] = "ok",           [EVLOG_RESULT_FAIL] = "fail",
    [EVLOG_RESULT_DISCARD] = "discard", [EVLOG_RESULT_SKIP] = "skip",
    [EVLOG_RESULT_INFO] = "info",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *
evlog_actor_name(enum evlog_actor actor)
{
    if ((unsigned)actor >= NELEM(actor_names))
        return NULL;
    return actor_names[actor];
}

const char *
evlog_result_name(enum evlog_result result)
{
    if ((unsigned)result >= NELEM(result_names))
        return NULL;
    return result_names[result];
}

int
evlog_actor_parse(const char *name, enum evlog_actor *out)
{
    for (size_t i = 0; name != NULL && i < NELEM(actor_names); i++)
        if (strcmp(name, actor_names[i]) == 0) {
            *out = (enum evlog_actor)i;
            return 0;
        }
    return AMT_ERR_EVENT_FIELD;
}

int
evlog_result_parse(const char *name, enum evlog_result *out)
{
    for (size_t i = 0; name != NULL && i < NELEM(result_names); i++)
        if (strcmp(name, result_names[i]) == 0) {
            *out = (enum evlog_result)i;
            return 0;
        }
    return AMT_ERR_EVENT_FIELD;
}

static bool
is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool
is_lower(int c)
{
    return c >= 'a' && c <= 'z';
}

static bool
is_upper(int c)
{
    return c >= 'A' && c <= 'Z';
}

static bool
is_alnum(int c)
{
    return is_digit(c) || is_lower(c) || is_upper(c);
}

static int
to_lower(int c)
{
    return is_upper(c) ? c - 'A' + 'a' : c;
}

/*
 * Whether s[0, n) is runs of characters that ok() accepts joined by single
 * separators from seps: "no-root-match" for kebab-case.
 */
static bool
joined_words(const char *s, size_t n, bool (*ok)(int), const char *seps)
{
    bool need_char = true;

    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (ok((unsigned char)s[i])) {
            need_char = false;
        } else if (!need_char && s[i] != '\0' && strchr(seps, s[i]) != NULL) {
            need_char = true;
        } else {
            return false;
        }
    }
    return !need_char;
}

static bool
is_lower_or_digit(int c)
{
    return is_lower(c) || is_digit(c);
}

static bool
is_upper_or_digit(int c)
{
    return is_upper(c) || is_digit(c);
}

/*
 * Catalogue IDs: "OOB-4.2", "PORT-16993", "PKI-CA-KEYLEN", "AMT-8021X"; the
 * project's own: "X-" then "sim.flash-load".
 */
bool
evlog_id_valid(const char *id)
{
    const char *dot;
    size_t n, len;

    if (id == NULL || (n = strlen(id)) == 0 || n > EVLOG_ID_MAX)
        return false;
    if (id[0] == 'X' && id[1] == '-') {
        const char *word = id + 2;

        for (;;) {
            dot = strchr(word, '.');
            len = dot == NULL ? strlen(word) : (size_t)(dot - word);
            if (!joined_words(word, len, is_alnum, "-"))
                return false;
            if (dot == NULL)
                return true;
            word = dot + 1;
        }
    }
    dot = strchr(id, '.');
    len = dot == NULL ? n : (size_t)(dot - id);
    if (!is_upper((unsigned char)id[0]) || memchr(id, '-', len) == NULL ||
        !joined_words(id, len, is_upper_or_digit, "-"))
        return false;
    while (dot != NULL) {
        const char *p = dot + 1;

        if (!is_digit((unsigned char)*p))
            return false;
        while (is_digit((unsigned char)*p))
            p++;
        if (*p != '\0' && *p != '.')
            return false;
        dot = *p == '.' ? p : NULL;
    }
    return true;
}

bool
evlog_reason_valid(const char *reason)
{
    size_t n;

    if (reason == NULL || (n = strlen(reason)) > EVLOG_WORD_MAX)
        return false;
    return joined_words(reason, n, is_lower_or_digit, "-");
}

/* Detail keys: "status", "root-hash", "tls_version"; a letter first. */
static bool
key_valid(const char *key)
{
    size_t n;

    if (key == NULL || (n = strlen(key)) > EVLOG_WORD_MAX ||
        !is_lower((unsigned char)*key))
        return false;
    return joined_words(key, n, is_lower_or_digit, "-_");
}

static const char *const secret_infixes[] = {
    "passw", "passphrase", "secret", "private", "privkey",
};

static const char *const secret_words[] = {
    "otp", "pin", "pwd", "pw", "psk", "token", "key", "keys",
};

/* A word starts at a letter or digit after a separator, or at a case change. */
static bool
word_starts(const char *k, size_t i)
{
    unsigned char c = (unsigned char)k[i];

    if (!is_alnum(c))
        return false;
    if (i == 0 || !is_alnum((unsigned char)k[i - 1]))
        return true;
    if (!is_upper(c))
        return false;
    return is_lower((unsigned char)k[i - 1]) ||
           (is_upper((unsigned char)k[i - 1]) && is_lower((unsigned char)k[i + 1]));
}

bool
evlog_key_is_secret(const char *key)
{
    if (key == NULL)
        return false;
    for (size_t i = 0; key[i] != '\0'; i++) {
        for (size_t j = 0; j < NELEM(secret_infixes); j++)
            if (strncasecmp(key + i, secret_infixes[j], strlen(secret_infixes[j])) == 0)
                return true;
        if (!word_starts(key, i))
            continue;
        for (size_t j = 0; j < NELEM(secret_words); j++) {
            const char *w = secret_words[j];
            size_t n = strlen(w), m = 0;

            while (m < n && to_lower((unsigned char)key[i + m]) == w[m])
                m++;
            if (m == n &&
                (!is_alnum((unsigned char)key[i + n]) || word_starts(key, i + n)))
                return true;
        }
    }
    return false;
}

/* 8-4-4-4-12 hex digits; copied in lower case. */
static bool
uuid_lower(const char *s, char out[EVLOG_UUID_LEN + 1])
{
    if (strlen(s) != EVLOG_UUID_LEN)
        return false;
    for (size_t i = 0; i < EVLOG_UUID_LEN; i++) {
        int c = to_lower((unsigned char)s[i]);

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!is_digit(c) && !(c >= 'a' && c <= 'f')) {
            return false;
        }
        out[i] = (char)c;
    }
    out[EVLOG_UUID_LEN] = '\0';
    return true;
}

/* Writing */

int
evlog_open_fd(int fd, struct evlog **out)
{
    struct evlog *log = NULL;
    int r = AMT_ERR_INTERNAL;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (fd < 0)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((log = calloc(1, sizeof(*log))) == NULL)
        return AMT_ERR_ALLOC;
    log->fd = -1;
    if (pthread_mutex_init(&log->lock, NULL) != 0) {
        free(log);
        return AMT_ERR_SYSTEM;
    }
    if ((log->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0) {
        r = AMT_ERR_SYSTEM;
        goto out;
    }
    *out = log;
    log = NULL;
    r = 0;
out:
    evlog_free(log);
    return r;
}

int
evlog_open(const char *path, struct evlog **out)
{
    int fd, r, saved;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (path == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    /* Logs hold no secrets, but a site's device list is nobody else's business. */
    if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640)) < 0)
        return AMT_ERR_SYSTEM;
    r = evlog_open_fd(fd, out);
    saved = errno;
    close(fd);
    errno = saved;
    return r;
}

void
evlog_free(struct evlog *log)
{
    if (log == NULL)
        return;
    if (log->fd >= 0)
        close(log->fd);
    pthread_mutex_destroy(&log->lock);
    free(log);
}

/* Wall clock, UTC, milliseconds: "2026-11-22T01:02:03.456Z". */
static int
format_ts(char *buf, size_t size)
{
    struct timespec now;
    struct tm tm;
    int n;

    if (clock_gettime(CLOCK_REALTIME, &now) != 0 || gmtime_r(&now.tv_sec, &tm) == NULL)
        return AMT_ERR_SYSTEM;
    n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 now.tv_nsec / 1000000);
    if (n != EVLOG_TS_LEN)
        return AMT_ERR_INTERNAL;
    return 0;
}

static int
check_fields(enum evlog_result result, const struct evlog_field *fields, size_t nfields)
{
    bool has_reason = false;

    if (nfields > 0 && fields == NULL)
        return AMT_ERR_EVENT_FIELD;
    for (size_t i = 0; i < nfields; i++) {
        const struct evlog_field *f = &fields[i];

        if (evlog_key_is_secret(f->key))
            return AMT_ERR_EVENT_SECRET;
        if (!key_valid(f->key))
            return AMT_ERR_EVENT_FIELD;
        for (size_t j = 0; j < i; j++)
            if (strcmp(fields[j].key, f->key) == 0)
                return AMT_ERR_EVENT_FIELD;
        switch (f->type) {
        case EVLOG_FIELD_STR:
            if (f->str == NULL)
                return AMT_ERR_EVENT_FIELD;
            break;
        case EVLOG_FIELD_HEX:
            if (f->bytes == NULL && f->nbytes > 0)
                return AMT_ERR_EVENT_FIELD;
            if (f->nbytes > EVLOG_LINE_MAX / 2)
                return AMT_ERR_EVENT_LINE_TOO_LONG;
            break;
        case EVLOG_FIELD_INT:
        case EVLOG_FIELD_BOOL:
            break;
        case EVLOG_FIELD_DOUBLE:
            if (!isfinite(f->dbl))
                return AMT_ERR_EVENT_FIELD;
            break;
        default:
            return AMT_ERR_EVENT_FIELD;
        }
        if (strcmp(f->key, "reason") == 0) {
            if (f->type != EVLOG_FIELD_STR || !evlog_reason_valid(f->str))
                return AMT_ERR_EVENT_FIELD;
            has_reason = true;
        }
    }
    if (result == EVLOG_RESULT_FAIL && !has_reason)
        return AMT_ERR_EVENT_FIELD;
    return 0;
}

static int
write_hex(struct json_writer *w, const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *hex;
    int r;

    if ((hex = malloc(2 * n + 1)) == NULL)
        return AMT_ERR_ALLOC;
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[p[i] >> 4];
        hex[2 * i + 1] = digits[p[i] & 0xf];
    }
    r = json_write_string_len(w, hex, 2 * n);
    free(hex);
    return r;
}

static int
write_fields(struct json_writer *w, const struct evlog_field *fields, size_t nfields)
{
    int r = json_write_object_begin(w);

    for (size_t i = 0; r == 0 && i < nfields; i++) {
        const struct evlog_field *f = &fields[i];

        if ((r = json_write_key(w, f->key)) != 0)
            break;
        switch (f->type) {
        case EVLOG_FIELD_STR:
            r = json_write_string(w, f->str);
            break;
        case EVLOG_FIELD_INT:
            r = json_write_int(w, f->num);
            break;
        case EVLOG_FIELD_BOOL:
            r = json_write_bool(w, f->flag);
            break;
        case EVLOG_FIELD_DOUBLE:
            r = json_write_double(w, f->dbl);
            break;
        case EVLOG_FIELD_HEX:
            r = write_hex(w, f->bytes, f->nbytes);
            break;
        }
    }
    return r != 0 ? r : json_write_object_end(w);
}

/* The whole line in one write(), so that O_APPEND keeps lines whole. */
static int
write_line(struct evlog *log, const char *line, size_t len)
{
    int r = 0, saved = 0;

    pthread_mutex_lock(&log->lock);
    while (len > 0) {
        ssize_t n = write(log->fd, line, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            saved = errno;
            r = AMT_ERR_SYSTEM;
            break;
        }
        /* A short write (disk full, a signal) leaves the rest for a second call. */
        line += n;
        len -= (size_t)n;
    }
    pthread_mutex_unlock(&log->lock);
    if (r != 0)
        errno = saved;
    return r;
}

int
evlog_emit_fields(struct evlog *log, double vt, enum evlog_actor actor,
                  const char *device, const char *id, enum evlog_result result,
                  const struct evlog_field *fields, size_t nfields)
{
    struct json_writer *w = NULL;
    char ts[64], uuid[EVLOG_UUID_LEN + 1];
    const char *text;
    char *line = NULL;
    size_t len;
    int r = AMT_ERR_INTERNAL;

    if (log == NULL)
        return 0;
    if (evlog_actor_name(actor) == NULL || evlog_result_name(result) == NULL ||
        !evlog_id_valid(id) || !isfinite(vt) || vt < 0 ||
        (device != NULL && !uuid_lower(device, uuid)))
        return AMT_ERR_EVENT_FIELD;
    if ((r = check_fields(result, fields, nfields)) != 0)
        return r;
    if ((r = format_ts(ts, sizeof(ts))) != 0)
        return r;
    if ((r = json_writer_new(&w)) != 0)
        goto out;
    json_write_object_begin(w);
    json_write_key(w, "ts");
    json_write_string(w, ts);
    json_write_key(w, "vt");
    json_write_fixed(w, vt, 3);
    json_write_key(w, "actor");
    json_write_string(w, evlog_actor_name(actor));
    if (device != NULL) {
        json_write_key(w, "device");
        json_write_string(w, uuid);
    }
    json_write_key(w, "id");
    json_write_string(w, id);
    json_write_key(w, "result");
    json_write_string(w, evlog_result_name(result));
    json_write_key(w, "detail");
    write_fields(w, fields, nfields);
    json_write_object_end(w);
    if ((r = json_writer_result(w, &text, &len)) != 0) {
        if (r == AMT_ERR_JSON_TOO_LARGE)
            r = AMT_ERR_EVENT_LINE_TOO_LONG;
        goto out;
    }
    if (len > EVLOG_LINE_MAX) {
        r = AMT_ERR_EVENT_LINE_TOO_LONG;
        goto out;
    }
    if ((line = malloc(len + 1)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    memcpy(line, text, len);
    line[len] = '\n';
    r = write_line(log, line, len + 1);
out:
    free(line);
    json_writer_free(w);
    return r;
}

/* Reading */

void
evlog_event_clear(struct evlog_event *ev)
{
    if (ev == NULL)
        return;
    json_free(ev->json);
    memset(ev, 0, sizeof(*ev));
}

/* "2026-11-22T01:02:03.456Z", each part within its calendar range. */
static bool
ts_valid(const char *s, size_t len)
{
    static const char form[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    int mon, day, hour, min, sec;

    if (len != EVLOG_TS_LEN)
        return false;
    for (size_t i = 0; i < EVLOG_TS_LEN; i++)
        if (form[i] == 'd' ? !is_digit((unsigned char)s[i]) : s[i] != form[i])
            return false;
#define TWO(i) ((s[i] - '0') * 10 + (s[(i) + 1] - '0'))
    mon = TWO(5);
    day = TWO(8);
    hour = TWO(11);
    min = TWO(14);
    sec = TWO(17);
#undef TWO
    return mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && hour <= 23 && min <= 59 &&
           sec <= 60;
}

/* Finds a secret-naming key anywhere under v. */
static const char *
find_secret_key(const struct json_value *v)
{
    const char *k;

    for (size_t i = 0; i < json_count(v); i++) {
        if (json_type_of(v) == JSON_OBJECT) {
            if (evlog_key_is_secret(k = json_object_key_at(v, i, NULL)))
                return k;
            if ((k = find_secret_key(json_object_value_at(v, i))) != NULL)
                return k;
        } else if ((k = find_secret_key(json_array_at(v, i))) != NULL) {
            return k;
        }
    }
    return NULL;
}

static int
field_string(const struct json_value *obj, const char *key, const char **out, size_t *len,
             char *why, size_t whylen)
{
    if (json_get_string(json_object_get(obj, key), out, len) != 0) {
        snprintf(why, whylen, "field \"%s\" missing or not a string", key);
        return AMT_ERR_EVENT_FIELD;
    }
    return 0;
}

/* {"ts":"...","vt":1.000,"actor":"SP","id":"OOB-2","result":"ok","detail":{}} */
int
evlog_parse_line(const char *line, size_t len, struct evlog_event *ev, char *why,
                 size_t whylen)
{
    struct json_limits lim = {.max_size = EVLOG_LINE_MAX};
    struct json_value *root = NULL;
    const struct json_value *v;
    struct json_error je;
    char dummy[1];
    const char *s, *k;
    size_t n;
    int r = AMT_ERR_INTERNAL;

    if (why == NULL || whylen == 0) {
        why = dummy;
        whylen = sizeof(dummy);
    }
    why[0] = '\0';
    if (ev == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(ev, 0, sizeof(*ev));
    if (line == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (len > EVLOG_LINE_MAX) {
        snprintf(why, whylen, "line longer than %u bytes", EVLOG_LINE_MAX);
        return AMT_ERR_EVENT_LINE_TOO_LONG;
    }
    if (len == 0 || (len == 1 && line[0] == '\r')) {
        snprintf(why, whylen, "empty line");
        return AMT_ERR_JSON_SYNTAX;
    }
    if ((r = json_parse(line, len, &lim, &root, &je)) != 0) {
        snprintf(why, whylen, "malformed JSON at column %zu: %s", je.offset + 1,
                 je.what != NULL ? je.what : amt_strerror(r));
        goto out;
    }
    r = AMT_ERR_EVENT_FIELD;
    if (json_type_of(root) != JSON_OBJECT) {
        snprintf(why, whylen, "not a JSON object");
        goto out;
    }
    if (field_string(root, "ts", &s, &n, why, whylen) != 0)
        goto out;
    if (!ts_valid(s, n)) {
        snprintf(why, whylen, "field \"ts\" is not of the form 2026-11-22T01:02:03.456Z");
        goto out;
    }
    memcpy(ev->ts, s, n + 1);
    if (json_get_number(json_object_get(root, "vt"), &ev->vt) != 0 || ev->vt < 0) {
        snprintf(why, whylen, "field \"vt\" missing or not a number of seconds");
        goto out;
    }
    if (field_string(root, "actor", &s, NULL, why, whylen) != 0)
        goto out;
    if (evlog_actor_parse(s, &ev->actor) != 0) {
        snprintf(why, whylen, "field \"actor\" is not AMT, SP, SITE, AGENT or RUNNER");
        goto out;
    }
    if ((v = json_object_get(root, "device")) != NULL) {
        if (json_get_string(v, &s, &n) != 0 ||
            (n != 0 && (n != strlen(s) || !uuid_lower(s, ev->device)))) {
            snprintf(why, whylen, "field \"device\" is not a UUID");
            goto out;
        }
    }
    if (field_string(root, "id", &s, &n, why, whylen) != 0)
        goto out;
    if (n != strlen(s) || !evlog_id_valid(s)) {
        snprintf(why, whylen, "field \"id\" is neither a catalogue ID nor an X- ID");
        goto out;
    }
    memcpy(ev->id, s, n + 1);
    if (field_string(root, "result", &s, NULL, why, whylen) != 0)
        goto out;
    if (evlog_result_parse(s, &ev->result) != 0) {
        snprintf(why, whylen, "field \"result\" is not ok, fail, discard, skip or info");
        goto out;
    }
    if ((v = json_object_get(root, "detail")) != NULL && json_type_of(v) != JSON_OBJECT) {
        snprintf(why, whylen, "field \"detail\" is not an object");
        goto out;
    }
    ev->detail = v;
    if ((k = find_secret_key(v)) != NULL) {
        snprintf(why, whylen, "detail key \"%.64s\" names a secret", k);
        r = AMT_ERR_EVENT_SECRET;
        goto out;
    }
    if ((v = json_object_get(ev->detail, "reason")) != NULL) {
        if (json_get_string(v, &s, &n) != 0 || n != strlen(s) || !evlog_reason_valid(s)) {
            snprintf(why, whylen, "detail.reason is not a kebab-case word");
            goto out;
        }
        ev->reason = s;
    }
    if (ev->result == EVLOG_RESULT_FAIL && ev->reason == NULL) {
        snprintf(why, whylen, "a fail without detail.reason");
        goto out;
    }
    ev->json = root;
    root = NULL;
    r = 0;
out:
    if (r != 0)
        memset(ev, 0, sizeof(*ev));
    json_free(root);
    return r;
}

int
evlog_reader_open(const char *path, const struct evlog_position *from,
                  struct evlog_reader **out)
{
    struct evlog_reader *rd = NULL;
    int r = AMT_ERR_INTERNAL;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (path == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((rd = calloc(1, sizeof(*rd))) == NULL)
        return AMT_ERR_ALLOC;
    rd->fd = -1;
    rd->cap = EVLOG_LINE_MAX + 1;
    rd->line = 1;
    if ((rd->path = strdup(path)) == NULL || (rd->buf = malloc(rd->cap)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    if ((rd->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
        r = AMT_ERR_SYSTEM;
        goto out;
    }
    if (from != NULL && from->offset > 0) {
        char prev;

        if (from->offset > INT64_MAX || from->line == 0 ||
            pread(rd->fd, &prev, 1, (off_t)from->offset - 1) != 1 ||
            lseek(rd->fd, (off_t)from->offset, SEEK_SET) < 0) {
            r = AMT_ERR_SYSTEM;
            goto out;
        }
        /* The earlier reader took a last line whose newline had not come yet. */
        rd->swallow_newline = prev != '\n';
        rd->offset = from->offset;
        rd->line = from->line;
    }
    *out = rd;
    rd = NULL;
    r = 0;
out:
    evlog_reader_free(rd);
    return r;
}

void
evlog_reader_free(struct evlog_reader *r)
{
    if (r == NULL)
        return;
    if (r->fd >= 0)
        close(r->fd);
    free(r->path);
    free(r->buf);
    free(r);
}

const char *
evlog_reader_error(const struct evlog_reader *r)
{
    return r == NULL ? "" : r->error;
}

void
evlog_reader_position(const struct evlog_reader *r, struct evlog_position *pos)
{
    pos->offset = r->offset;
    pos->line = r->line;
}

static void
reader_consume(struct evlog_reader *r, size_t n)
{
    r->start += n;
    r->offset += n;
    if (r->scan < r->start)
        r->scan = r->start;
}

static int
reader_deliver(struct evlog_reader *r, const char *line, size_t len, size_t line_no,
               struct evlog_event *ev)
{
    char why[256];
    int rc = evlog_parse_line(line, len, ev, why, sizeof(why));

    if (rc != 0) {
        snprintf(r->error, sizeof(r->error), "%s:%zu: %s", r->path, line_no, why);
        return rc;
    }
    ev->line = line_no;
    return 0;
}

/* A last line without its newline, taken only once it is a whole JSON value. */
static bool
line_complete(const char *s, size_t len)
{
    struct json_limits lim = {.max_size = EVLOG_LINE_MAX};
    struct json_value *v = NULL;
    int r = json_parse(s, len, &lim, &v, NULL);

    json_free(v);
    return r == 0;
}

int
evlog_reader_next(struct evlog_reader *r, struct evlog_event *ev)
{
    if (ev != NULL)
        memset(ev, 0, sizeof(*ev));
    if (r == NULL || ev == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    r->error[0] = '\0';
    for (;;) {
        char *nl;
        ssize_t n;

        while (r->swallow_newline && r->start < r->len) {
            char c = r->buf[r->start];

            /* A line taken as complete went on: the rest of it is refused. */
            if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
                r->swallow_newline = false;
                r->skipping = true;
                r->skip_counted = true;
                snprintf(r->error, sizeof(r->error),
                         "%s:%zu: text after the end of the event on this line", r->path,
                         r->line - 1);
                return AMT_ERR_JSON_SYNTAX;
            }
            reader_consume(r, 1);
            if (c == '\n')
                r->swallow_newline = false;
        }
        if ((nl = memchr(r->buf + r->scan, '\n', r->len - r->scan)) != NULL) {
            char *line = r->buf + r->start;
            size_t len = (size_t)(nl - line);

            reader_consume(r, len + 1);
            if (r->skipping) {
                if (!r->skip_counted)
                    r->line++;
                r->skipping = r->skip_counted = false;
                continue;
            }
            return reader_deliver(r, line, len, r->line++, ev);
        }
        r->scan = r->len;
        if (r->len - r->start > EVLOG_LINE_MAX) {
            reader_consume(r, r->len - r->start);
            r->start = r->scan = r->len = 0;
            if (!r->skipping) {
                r->skipping = true;
                snprintf(r->error, sizeof(r->error), "%s:%zu: line longer than %u bytes",
                         r->path, r->line, EVLOG_LINE_MAX);
                return AMT_ERR_EVENT_LINE_TOO_LONG;
            }
        }
        if (r->start > 0) {
            memmove(r->buf, r->buf + r->start, r->len - r->start);
            r->len -= r->start;
            r->scan -= r->start;
            r->start = 0;
        }
        if ((n = read(r->fd, r->buf + r->len, r->cap - r->len)) < 0) {
            if (errno == EINTR)
                continue;
            snprintf(r->error, sizeof(r->error), "%s: %s", r->path, strerror(errno));
            return AMT_ERR_SYSTEM;
        }
        if (n > 0) {
            r->len += (size_t)n;
            continue;
        }
        if (!r->skipping && r->len > r->start &&
            line_complete(r->buf + r->start, r->len - r->start)) {
            char *line = r->buf + r->start;
            size_t len = r->len - r->start, line_no = r->line++;

            reader_consume(r, len);
            r->swallow_newline = true;
            return reader_deliver(r, line, len, line_no, ev);
        }
        return AMT_ERR_EVENT_AGAIN;
    }
}

int
evlog_read_file(const char *path, int (*fn)(const struct evlog_event *ev, void *arg),
                void *arg, size_t *malformed, char *err, size_t errlen)
{
    struct evlog_reader *rd = NULL;
    struct evlog_event ev;
    bool have_err = false;
    int r = AMT_ERR_INTERNAL;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (malformed != NULL)
        *malformed = 0;
    if (fn == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(&ev, 0, sizeof(ev));
    if ((r = evlog_reader_open(path, NULL, &rd)) != 0) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: %s", path != NULL ? path : "(null)",
                     r == AMT_ERR_SYSTEM ? strerror(errno) : amt_strerror(r));
        return r;
    }
    for (;;) {
        r = evlog_reader_next(rd, &ev);
        if (r == 0) {
            r = fn(&ev, arg);
            evlog_event_clear(&ev);
            if (r != 0)
                break;
            continue;
        }
        if (r == AMT_ERR_EVENT_AGAIN) {
            r = 0;
            break;
        }
        if (!have_err && err != NULL && errlen > 0)
            snprintf(err, errlen, "%s", evlog_reader_error(rd));
        have_err = true;
        if (r == AMT_ERR_SYSTEM || malformed == NULL)
            break;
        (*malformed)++;
    }
    evlog_reader_free(rd);
    return r;
}
