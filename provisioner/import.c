#include "import.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "directory.h"
#include "err.h"
#include "uuid.h"

/* Fields a line may hold: uuid, host, domain, container, directory domain. */
#define FIELDS_MIN 3
#define FIELDS_MAX 5
/* Characters of offending text quoted in a message. */
#define QUOTE_MAX 96

enum field {
    F_UUID,
    F_HOST,
    F_DOMAIN,
    F_CONTAINER,
    F_DIR_DOMAIN,
};

/* Names a header may give each column, compared ignoring case. */
static const char *const header_names[FIELDS_MAX][3] = {
    [F_UUID] = {"uuid"},
    [F_HOST] = {"host", "hostname", "host name"},
    [F_DOMAIN] = {"domain"},
    [F_CONTAINER] = {"ou", "container"},
    [F_DIR_DOMAIN] = {"directory domain", "directory-domain"},
};

/* A line that passed; the strings point into the importer's copy of the text. */
struct row {
    const char *uuid;
    const char *host;
    const char *domain;
    char *container; /* canonical relative path, or NULL */
    unsigned long line;
};

/* Where each UUID and host name was first seen, to name it in a duplicate's report. */
struct seen_slot {
    const char *key;
    unsigned long line;
};

struct seen {
    struct seen_slot *slots;
    size_t mask;
};

struct importer {
    struct site_db *db;
    struct dir *dir;
    const char *name;
    const struct import_policy *policy;
    import_report_fn report;
    void *arg;
    size_t max_rows;
    size_t n_problems;
    int fatal; /* a failure of the database or directory, not of the file */
    struct row *rows;
    size_t n_rows;
    struct seen uuids;
    struct seen hosts;
};

static int
lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static void
lower_in_place(char *s)
{
    for (; *s != '\0'; s++)
        *s = (char)lower((unsigned char)*s);
}

static bool
same_ci(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++)
        if (lower((unsigned char)*a) != lower((unsigned char)*b))
            return false;
    return *a == *b;
}

/* Offending text as a message may show it: printable, and not too long. */
static void
quote_text(const char *text, size_t len, char *out, size_t size)
{
    size_t o = 0;

    for (size_t i = 0; i < len && o + 5 < size; i++) {
        unsigned char c = (unsigned char)text[i];

        if (o >= QUOTE_MAX) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (c >= 0x20 && c <= 0x7e)
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
    }
    out[o] = '\0';
}

static void problem(struct importer *im, unsigned long line, const char *rule,
                    const char *text, size_t text_len, const char *fmt, ...)
    AMT_PRINTF(6, 7);

static void
problem(struct importer *im, unsigned long line, const char *rule, const char *text,
        size_t text_len, const char *fmt, ...)
{
    char what[512], quoted[QUOTE_MAX + 8], message[1024];
    struct import_problem p;
    va_list ap;

    im->n_problems++;
    if (im->report == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    quote_text(text != NULL ? text : "", text != NULL ? text_len : 0, quoted,
               sizeof(quoted));
    if (line > 0 && quoted[0] != '\0')
        snprintf(message, sizeof(message), "%s:%lu: %s: %s: \"%s\"", im->name, line, rule,
                 what, quoted);
    else if (line > 0)
        snprintf(message, sizeof(message), "%s:%lu: %s: %s", im->name, line, rule, what);
    else
        snprintf(message, sizeof(message), "%s: %s: %s", im->name, rule, what);
    p = (struct import_problem){
        .file = im->name,
        .line = line,
        .rule = rule,
        .text = quoted,
        .message = message,
    };
    im->report(im->arg, &p);
}

static void
field_problem(struct importer *im, unsigned long line, const char *rule,
              const char *field, const char *what)
{
    problem(im, line, rule, field, strlen(field), "%s", what);
}

/* ---- first sightings ---- */

static uint64_t
hash_ci(const char *s)
{
    uint64_t h = 0xcbf29ce484222325u;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)lower((unsigned char)*s);
        h *= 0x100000001b3u;
    }
    return h;
}

static int
seen_init(struct seen *s, size_t n)
{
    size_t cap = 16;

    while (cap < 2 * n)
        cap *= 2;
    if ((s->slots = calloc(cap, sizeof(*s->slots))) == NULL)
        return AMT_ERR_ALLOC;
    s->mask = cap - 1;
    return 0;
}

/* The line key was first seen on, or 0 after recording it now. */
static unsigned long
seen_check(struct seen *s, const char *key, unsigned long line)
{
    size_t i = (size_t)hash_ci(key) & s->mask;

    while (s->slots[i].key != NULL) {
        if (same_ci(s->slots[i].key, key))
            return s->slots[i].line;
        i = (i + 1) & s->mask;
    }
    s->slots[i].key = key;
    s->slots[i].line = line;
    return 0;
}

/* ---- CSV ---- */

/*
 * Splits one record in place, dropping quotes, so that fields point into line:
 *
 *   "4c4c...3232","pc ""1""",contoso.com   gives   4c4c...3232 | pc "1" | contoso.com
 *
 * line[len] may be overwritten. Returns false with *why on a syntax error.
 */
static bool
split_csv(char *line, size_t len, char **fields, size_t max, size_t *n, const char **why)
{
    size_t i = 0;

    *n = 0;
    for (;;) {
        size_t start = i, w = i;

        if (*n == max) {
            *why = "too many fields";
            return false;
        }
        if (i < len && line[i] == '"') {
            for (i++;; i++) {
                if (i >= len) {
                    *why = "a quoted field does not end on its line";
                    return false;
                }
                if (line[i] == '"') {
                    if (i + 1 < len && line[i + 1] == '"') {
                        line[w++] = '"';
                        i++;
                        continue;
                    }
                    i++;
                    break;
                }
                line[w++] = line[i];
            }
            if (i < len && line[i] != ',') {
                *why = "text after the closing quote of a field";
                return false;
            }
        } else {
            while (i < len && line[i] != ',') {
                if (line[i] == '"') {
                    *why = "a quote inside a field that does not start with one";
                    return false;
                }
                i++;
            }
            w = i;
        }
        fields[(*n)++] = line + start;
        if (i >= len) {
            line[w] = '\0';
            return true;
        }
        line[w] = '\0';
        i++; /* the ',' */
    }
}

static bool
is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return false;
    return true;
}

static bool
header_name_ok(size_t col, const char *name)
{
    for (size_t k = 0; k < 3 && header_names[col][k] != NULL; k++)
        if (same_ci(name, header_names[col][k]))
            return true;
    return false;
}

static void
check_header(struct importer *im, unsigned long line, char **fields, size_t n)
{
    if (n < FIELDS_MIN || n > FIELDS_MAX) {
        problem(im, line, "bad-header", NULL, 0,
                "a header names 3 to 5 columns: uuid,host,domain[,ou[,directory "
                "domain]]");
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (!header_name_ok(i, fields[i]))
            problem(im, line, "bad-header", fields[i], strlen(fields[i]),
                    "column %zu should be %s", i + 1, header_names[i][0]);
}

/* ---- one device line ---- */

static bool
host_valid(const char *host)
{
    return ns_name_valid(host) == 0 && strchr(host, '.') == NULL &&
           strlen(host) <= NS_LABEL_MAX;
}

static void
strip_dot(char *name)
{
    size_t n = strlen(name);

    if (n > 0 && name[n - 1] == '.')
        name[n - 1] = '\0';
}

/* NS-FOREST; true when the line may be provisioned from this service point. */
static bool
check_namespace(struct importer *im, unsigned long line, const char *host,
                const char *domain, const char *dir_domain)
{
    char fqdn[NS_LABEL_MAX + 1 + NS_NAME_MAX + 1];
    enum ns_verdict v = NS_SUPPORTED;
    const char *sp = im->policy->sp_domain;
    int r;

    if (domain[0] == '\0')
        snprintf(fqdn, sizeof(fqdn), "%s", host);
    else
        snprintf(fqdn, sizeof(fqdn), "%s.%s", host, domain);
    r = ns_classify(sp, fqdn, dir_domain, im->policy->forest, &v);
    if (r == 0)
        return true;
    if (r != AMT_ERR_NS_UNSUPPORTED) {
        field_problem(im, line, "bad-domain", fqdn,
                      "host name and domain do not make a DNS name of at most 253 "
                      "characters");
        return false;
    }
    switch (v) {
    case NS_WORKGROUP:
        problem(im, line, ns_verdict_name(v), host, strlen(host),
                "NS-FOREST: a workgroup computer (no domain) cannot be provisioned");
        break;
    case NS_OTHER_FOREST:
        problem(im, line, ns_verdict_name(v), dir_domain, strlen(dir_domain),
                "NS-FOREST: domain is not in the service point's forest%s%s",
                im->policy->forest != NULL ? " " : "",
                im->policy->forest != NULL ? im->policy->forest->root : "");
        break;
    case NS_NON_CONTIGUOUS:
        problem(im, line, ns_verdict_name(v), fqdn, strlen(fqdn),
                "NS-FOREST: not in the namespace of the service point's domain %s", sp);
        break;
    default:
        problem(im, line, ns_verdict_name(v), fqdn, strlen(fqdn),
                "NS-FOREST: DNS name is not in its directory domain %s", dir_domain);
        break;
    }
    return false;
}

/* DIR-OU; *canon gets the relative path to store, or stays NULL. */
static void
check_container(struct importer *im, unsigned long line, const char *field,
                const char *domain, bool check_exists, char **canon)
{
    char err[DIR_DN_MAX + 128], rel[DIR_DN_MAX + 1];
    const char *path = field[0] != '\0' ? field : im->policy->default_container;
    int r;

    if (path == NULL)
        return;
    if (field[0] != '\0') {
        if ((r = dir_container_path(field, rel, sizeof(rel), err, sizeof(err))) != 0) {
            field_problem(im, line, "bad-container", field, err);
            return;
        }
        if ((*canon = strdup(rel)) == NULL) {
            im->fatal = AMT_ERR_ALLOC;
            return;
        }
    }
    if (!check_exists)
        return;
    r = dir_check_container(im->dir, path, domain, err, sizeof(err));
    if (r == AMT_ERR_DIR_NO_CONTAINER) {
        char what[sizeof(err) + 16];

        snprintf(what, sizeof(what), "DIR-OU: %s", err);
        field_problem(im, line, "no-container", path, what);
    } else if (r == AMT_ERR_DIR_DN || r == AMT_ERR_DIR_DOMAIN || r == AMT_ERR_NS_NAME) {
        field_problem(im, line, "bad-container", path, err);
    } else if (r != 0) {
        field_problem(im, line, "directory", path,
                      err[0] != '\0' ? err : amt_strerror(r));
        im->fatal = r;
    }
}

/* What the database already says about this UUID and host name. */
static void
check_database(struct importer *im, unsigned long line, const char *uuid,
               const char *host, const char *domain, const char *container)
{
    struct site_device cur;
    int r;

    /* renaming a device is judged only on names that are themselves valid */
    if (uuid != NULL && host != NULL && domain != NULL) {
        r = site_db_device_get(im->db, uuid, &cur);
        if (r == 0 &&
            (strcmp(cur.host, host) != 0 || strcmp(cur.domain, domain) != 0 ||
             strcmp(cur.ou, container != NULL ? container : "") != 0) &&
            cur.state != SITE_STATE_IMPORTED && cur.state != SITE_STATE_FAILED) {
            problem(im, line, "device-active", uuid, strlen(uuid),
                    "device is %s as %s.%s: unprovision it before importing other names",
                    site_state_name(cur.state), cur.host, cur.domain);
        } else if (r != 0 && r != AMT_ERR_NOT_FOUND) {
            field_problem(im, line, "database", uuid, amt_strerror(r));
            im->fatal = r;
        }
    }
    if (host != NULL) {
        r = site_db_device_find_host(im->db, host, &cur);
        if (r == 0 && (uuid == NULL || strcmp(cur.uuid, uuid) != 0)) {
            problem(im, line, "host-taken", host, strlen(host),
                    "host name already belongs to device %s", cur.uuid);
        } else if (r != 0 && r != AMT_ERR_NOT_FOUND) {
            field_problem(im, line, "database", host, amt_strerror(r));
            im->fatal = r;
        }
    }
}

static void
check_row(struct importer *im, unsigned long line, char **f, size_t n)
{
    const char *empty = "";
    char *uuid = f[F_UUID], *host = f[F_HOST], *domain = f[F_DOMAIN];
    char *dir_domain =
        n > F_DIR_DOMAIN && f[F_DIR_DOMAIN][0] != '\0' ? f[F_DIR_DOMAIN] : domain;
    const char *container_field = n > F_CONTAINER ? f[F_CONTAINER] : empty;
    bool uuid_ok, host_ok, domain_ok, dir_domain_ok = true, ns_ok = false;
    size_t before = im->n_problems;
    struct amt_uuid u;
    char *container = NULL;
    unsigned long first;

    if ((uuid_ok = uuid_parse(uuid, &u) == 0))
        uuid_format(&u, uuid); /* same length: canonical in place */
    else
        field_problem(im, line, "bad-uuid", uuid,
                      "not a UUID of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
    if ((host_ok = host_valid(host)))
        lower_in_place(host);
    else
        field_problem(im, line, "bad-host", host,
                      strchr(host, '.') != NULL && ns_name_valid(host) == 0
                          ? "host name is one DNS label: put the domain in the third "
                            "column"
                          : "host name is not a DNS label (letters, digits and "
                            "hyphens, 1 to 63)");
    if ((domain_ok = domain[0] == '\0' || ns_name_valid(domain) == 0)) {
        strip_dot(domain);
        lower_in_place(domain);
    } else {
        field_problem(im, line, "bad-domain", domain, "domain is not a DNS name");
    }
    if (dir_domain != domain) {
        if ((dir_domain_ok = ns_name_valid(dir_domain) == 0)) {
            strip_dot(dir_domain);
            lower_in_place(dir_domain);
        } else {
            field_problem(im, line, "bad-domain", dir_domain,
                          "directory domain is not a DNS name");
        }
    }
    if (host_ok && domain_ok && dir_domain_ok)
        ns_ok = check_namespace(im, line, host, domain, dir_domain);
    check_container(im, line, container_field, domain, ns_ok, &container);

    if (uuid_ok && (first = seen_check(&im->uuids, uuid, line)) != 0)
        problem(im, line, "duplicate-uuid", uuid, strlen(uuid),
                "UUID already on line %lu", first);
    if (host_ok && (first = seen_check(&im->hosts, host, line)) != 0)
        problem(im, line, "duplicate-host", host, strlen(host),
                "host name already on line %lu", first);
    if (uuid_ok || host_ok)
        check_database(im, line, uuid_ok ? uuid : NULL, host_ok ? host : NULL,
                       domain_ok ? domain : NULL, container);

    if (im->n_problems != before || im->fatal != 0) {
        free(container);
        return;
    }
    im->rows[im->n_rows++] = (struct row){
        .uuid = uuid,
        .host = host,
        .domain = domain,
        .container = container,
        .line = line,
    };
}

/* ---- the file ---- */

/* An error other than a refused line: a policy that cannot judge any line. */
static int
check_policy(struct importer *im)
{
    const struct import_policy *p = im->policy;
    char err[DIR_DN_MAX + 128], rel[DIR_DN_MAX + 1];
    int r;

    if (p->sp_domain == NULL || ns_name_valid(p->sp_domain) != 0) {
        problem(im, 0, "bad-policy", NULL, 0, "the service point's domain is not set");
        return p->sp_domain == NULL ? AMT_ERR_INVALID_ARGUMENT : AMT_ERR_NS_NAME;
    }
    /*
     * Classifying the domain itself as a computer name only tests the forest
     * description and that the domain lies in it; the verdict does not matter.
     */
    r = ns_classify(p->sp_domain, p->sp_domain, p->sp_domain, p->forest, NULL);
    if (r != 0 && r != AMT_ERR_NS_UNSUPPORTED) {
        problem(im, 0, "bad-policy", NULL, 0,
                "the service point's domain %s is not in the forest described",
                p->sp_domain);
        return r;
    }
    if (p->default_container != NULL &&
        (r = dir_container_path(p->default_container, rel, sizeof(rel), err,
                                sizeof(err))) != 0) {
        problem(im, 0, "bad-policy", NULL, 0, "default container: %s", err);
        return r;
    }
    return 0;
}

static size_t
count_lines(const char *text, size_t len)
{
    size_t n = 1;

    for (const char *p = text; (p = memchr(p, '\n', len - (size_t)(p - text))) != NULL;
         p++)
        n++;
    return n;
}

/* Walks the lines of buf (len bytes, NUL at buf[len]) and checks each. */
static void
read_lines(struct importer *im, char *buf, size_t len)
{
    char raw[IMPORT_LINE_MAX + 1];
    char *fields[FIELDS_MAX];
    bool header_allowed = true;
    unsigned long line_no = 0;
    size_t pos = 0;

    /* the byte-order mark spreadsheets write at the start of UTF-8 text */
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    while (pos < len && im->fatal == 0) {
        char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - line) : len - pos, nfields;
        const char *why;

        line_no++;
        pos += n + (nl != NULL ? 1 : 0);
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (n > IMPORT_LINE_MAX) {
            problem(im, line_no, "line-too-long", line, 40, "line longer than %d bytes",
                    IMPORT_LINE_MAX);
            continue;
        }
        if (memchr(line, '\0', n) != NULL || memchr(line, '\r', n) != NULL) {
            problem(im, line_no, "bad-byte", line, n,
                    "a NUL or a carriage return inside the line");
            continue;
        }
        if (n == 0 || line[0] == '#' || is_blank(line, n))
            continue;
        memcpy(raw, line, n);
        raw[n] = '\0';
        if (!split_csv(line, n, fields, FIELDS_MAX, &nfields, &why)) {
            problem(im, line_no, "csv-syntax", raw, n, "%s", why);
            header_allowed = false;
            continue;
        }
        if (header_allowed && same_ci(fields[0], "uuid")) {
            header_allowed = false;
            check_header(im, line_no, fields, nfields);
            continue;
        }
        header_allowed = false;
        if (nfields < FIELDS_MIN) {
            problem(im, line_no, "field-count", raw, n,
                    "%zu fields; a line is uuid,host,domain[,ou[,directory domain]]",
                    nfields);
            continue;
        }
        if (im->n_rows == im->max_rows) {
            problem(im, line_no, "too-many-rows", NULL, 0, "more than %zu devices",
                    im->max_rows);
            return;
        }
        check_row(im, line_no, fields, nfields);
    }
}

static int
import_text(struct importer *im, const char *text, size_t len, size_t max_bytes,
            size_t *count)
{
    struct site_import_row *out = NULL;
    char *buf = NULL;
    size_t lines;
    int r = AMT_ERR_INTERNAL;

    if ((r = check_policy(im)) != 0)
        return r;
    if (len > max_bytes) {
        problem(im, 0, "file-too-large", NULL, 0, "larger than %zu bytes", max_bytes);
        return AMT_ERR_TOO_LARGE;
    }
    lines = count_lines(text, len);
    if ((buf = malloc(len + 1)) == NULL ||
        (im->rows = calloc(lines < im->max_rows ? lines : im->max_rows,
                           sizeof(*im->rows))) == NULL ||
        (r = seen_init(&im->uuids, lines)) != 0 ||
        (r = seen_init(&im->hosts, lines)) != 0) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    read_lines(im, buf, len);
    if (im->fatal != 0) {
        r = im->fatal;
        goto out;
    }
    if (im->n_problems == 0 && im->n_rows == 0)
        problem(im, 0, "no-devices", NULL, 0, "no device lines");
    if (im->n_problems > 0) {
        r = AMT_ERR_IMPORT_INVALID;
        goto out;
    }
    if ((out = calloc(im->n_rows, sizeof(*out))) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    for (size_t i = 0; i < im->n_rows; i++)
        out[i] = (struct site_import_row){
            .uuid = im->rows[i].uuid,
            .host = im->rows[i].host,
            .domain = im->rows[i].domain,
            .ou = im->rows[i].container,
        };
    if ((r = site_db_import_devices(im->db, out, im->n_rows)) != 0) {
        problem(im, 0, "database", NULL, 0, "nothing imported: %s", amt_strerror(r));
        goto out;
    }
    if (count != NULL)
        *count = im->n_rows;
out:
    if (im->rows != NULL)
        for (size_t i = 0; i < im->n_rows; i++)
            free(im->rows[i].container);
    free(im->rows);
    free(im->uuids.slots);
    free(im->hosts.slots);
    free(out);
    free(buf);
    return r;
}

static size_t
cap_or_default(size_t value, size_t dflt)
{
    return value == 0 || value > dflt ? dflt : value;
}

int
import_csv_text(struct site_db *db, struct dir *dir, const char *name, const char *text,
                size_t len, const struct import_policy *policy, import_report_fn report,
                void *arg, size_t *count)
{
    struct importer im = {0};

    if (count != NULL)
        *count = 0;
    if (db == NULL || dir == NULL || name == NULL || (text == NULL && len > 0) ||
        policy == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    im.db = db;
    im.dir = dir;
    im.name = name;
    im.policy = policy;
    im.report = report;
    im.arg = arg;
    im.max_rows = cap_or_default(policy->max_rows, IMPORT_ROWS_MAX);
    return import_text(&im, text != NULL ? text : "", len,
                       cap_or_default(policy->max_bytes, IMPORT_FILE_MAX), count);
}

/* Reads at most max + 1 bytes, so that a file over the cap is seen to be. */
static int
read_capped(int fd, size_t max, char **out, size_t *len)
{
    size_t cap = 0, n = 0;
    char *buf = NULL, *grown;
    ssize_t got;
    int e;

    for (;;) {
        if (n == cap) {
            if (cap == max + 1)
                break;
            cap = cap == 0 ? 64 * 1024 : cap * 2;
            if (cap > max + 1)
                cap = max + 1;
            if ((grown = realloc(buf, cap)) == NULL) {
                free(buf);
                return AMT_ERR_ALLOC;
            }
            buf = grown;
        }
        got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            e = errno;
            free(buf);
            errno = e;
            return AMT_ERR_SYSTEM;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    *out = buf;
    *len = n;
    return 0;
}

int
import_csv(struct site_db *db, struct dir *dir, const char *path,
           const struct import_policy *policy, import_report_fn report, void *arg,
           size_t *count)
{
    struct importer im = {0};
    size_t max, len = 0;
    char *text = NULL;
    int fd, r;

    if (count != NULL)
        *count = 0;
    if (db == NULL || dir == NULL || path == NULL || policy == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    im.name = path;
    im.report = report;
    im.arg = arg;
    max = cap_or_default(policy->max_bytes, IMPORT_FILE_MAX);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        problem(&im, 0, "file-open", NULL, 0, "%s", strerror(errno));
        return AMT_ERR_SYSTEM;
    }
    r = read_capped(fd, max, &text, &len);
    if (r == AMT_ERR_SYSTEM)
        problem(&im, 0, "file-open", NULL, 0, "%s", strerror(errno));
    close(fd);
    if (r == 0)
        r = import_csv_text(db, dir, path, text, len, policy, report, arg, count);
    free(text);
    return r;
}
