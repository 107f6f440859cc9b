#include "settings.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "err.h"

/* How much of an offending text a message repeats. */
#define SHOWN_MAX 60

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* The text as a message may show it: quoted, one line, printable, shortened. */
static void
show(char *out, size_t size, const char *s)
{
    size_t n = 0, i;

    out[n++] = '"';
    for (i = 0; s[i] != '\0' && i < SHOWN_MAX && n + 6 < size; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
            n += (size_t)snprintf(out + n, size - n, "\\x%02x", c);
        else
            out[n++] = (char)c;
    }
    out[n++] = '"';
    if (s[i] != '\0' && n + 4 < size) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

static bool
is_name_char(int c, bool dot)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || (dot && c == '.');
}

static bool
name_valid(const char *s, bool dot)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (!is_name_char((unsigned char)*s, dot))
            return false;
    return true;
}

static void *
field(const struct settings_row *row, void *obj)
{
    return (char *)obj + row->offset;
}

static void
free_string(const struct settings_row *row, char **s)
{
    if (*s != NULL && (row->flags & SETTINGS_SECRET))
        OPENSSL_cleanse(*s, strlen(*s));
    free(*s);
    *s = NULL;
}

static bool
section_known(const struct settings_row *table, const char *section)
{
    for (const struct settings_row *row = table; row->name != NULL; row++)
        if (strcmp(row->section, section) == 0)
            return true;
    return false;
}

static const struct settings_row *
find_row(const struct settings_row *table, const char *section, const char *name)
{
    for (const struct settings_row *row = table; row->name != NULL; row++)
        if (strcmp(row->section, section) == 0 && strcmp(row->name, name) == 0)
            return row;
    return NULL;
}

const struct settings_row *
settings_find(const struct settings_row *table, const char *key)
{
    const char *dot;
    char section[SETTINGS_LINE_MAX];
    size_t n;

    if (table == NULL || key == NULL)
        return NULL;
    if ((dot = strrchr(key, '.')) == NULL)
        return find_row(table, "", key);
    if ((n = (size_t)(dot - key)) >= sizeof(section))
        return NULL;
    memcpy(section, key, n);
    section[n] = '\0';
    return find_row(table, section, dot + 1);
}

/* What a row accepts, for messages: "integer 1..65535". */
static void
describe(const struct settings_row *row, const char *why, char *out, size_t size)
{
    size_t n;

    switch (row->type) {
    case SETTINGS_TYPE_INT:
        snprintf(out, size, "integer %lld..%lld", row->min, row->max);
        break;
    case SETTINGS_TYPE_BOOL:
        snprintf(out, size, "true or false, yes or no, on or off, 1 or 0");
        break;
    case SETTINGS_TYPE_DOUBLE:
        snprintf(out, size, "number %g..%g", row->dmin, row->dmax);
        break;
    case SETTINGS_TYPE_ENUM:
        n = (size_t)snprintf(out, size, "one of");
        for (size_t i = 0; row->names[i] != NULL && n < size; i++)
            n += (size_t)snprintf(out + n, size - n, "%s %s", i == 0 ? "" : ",",
                                  row->names[i]);
        break;
    default:
        snprintf(out, size, "%s", "text");
        break;
    }
    /* A validator's reason says more than the type does. */
    if (why != NULL)
        snprintf(out, size, "%s", why);
}

static bool
parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* Decimal only: "-12", "443"; no '+', no spaces, no hex. */
static bool
parse_int(const char *s, long long min, long long max, int *out)
{
    long long v;
    char *end;

    if (!((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')))
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max || v < INT_MIN || v > INT_MAX)
        return false;
    *out = (int)v;
    return true;
}

/* "1", "0.5", "-2.5e3"; no hex, no inf or nan. */
static bool
parse_double(const char *s, double min, double max, double *out)
{
    double v;
    char *end;

    if (*s == '\0' || strspn(s, "0123456789.eE+-") != strlen(s))
        return false;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v) || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static int
list_append(const struct settings_row *row, struct settings_list *list, const char *text)
{
    char **items, *copy;

    if ((copy = strdup(text)) == NULL)
        return AMT_ERR_ALLOC;
    if ((items = realloc(list->items, (list->n + 1) * sizeof(*items))) == NULL) {
        free_string(row, &copy);
        return AMT_ERR_ALLOC;
    }
    items[list->n++] = copy;
    list->items = items;
    return 0;
}

/*
 * Parses text as the row's type and stores it. On a refusal *why describes what
 * the row accepts.
 */
static int
apply(const struct settings_row *row, void *obj, const char *text, char *why,
      size_t whylen)
{
    const char *check_why = NULL;
    char *copy;
    double d = 0;
    bool b = false;
    int i = 0;

    switch (row->type) {
    case SETTINGS_TYPE_INT:
        if (!parse_int(text, row->min, row->max, &i))
            goto refused;
        break;
    case SETTINGS_TYPE_BOOL:
        if (!parse_bool(text, &b))
            goto refused;
        break;
    case SETTINGS_TYPE_DOUBLE:
        if (!parse_double(text, row->dmin, row->dmax, &d))
            goto refused;
        break;
    case SETTINGS_TYPE_ENUM:
        for (i = 0; row->names[i] != NULL; i++)
            if (strcmp(row->names[i], text) == 0)
                break;
        if (row->names[i] == NULL)
            goto refused;
        break;
    default:
        break;
    }
    if (row->check != NULL && row->check(text, &check_why) != 0)
        goto refused;
    switch (row->type) {
    case SETTINGS_TYPE_STRING:
        if ((copy = strdup(text)) == NULL)
            return AMT_ERR_ALLOC;
        free_string(row, field(row, obj));
        *(char **)field(row, obj) = copy;
        return 0;
    case SETTINGS_TYPE_LIST:
        return list_append(row, field(row, obj), text);
    case SETTINGS_TYPE_INT:
    case SETTINGS_TYPE_ENUM:
        *(int *)field(row, obj) = i;
        return 0;
    case SETTINGS_TYPE_BOOL:
        *(bool *)field(row, obj) = b;
        return 0;
    case SETTINGS_TYPE_DOUBLE:
        *(double *)field(row, obj) = d;
        return 0;
    }
    return AMT_ERR_INTERNAL;
refused:
    describe(row, check_why, why, whylen);
    return AMT_ERR_SETTINGS_VALUE;
}

/* "invalid value "abc" for port (integer 1..65535)" without the place. */
static void
value_message(const struct settings_row *row, const char *label, const char *text,
              const char *why, char *out, size_t size)
{
    char shown[SHOWN_MAX * 4 + 8];

    if (row->flags & SETTINGS_SECRET)
        snprintf(shown, sizeof(shown), "(hidden)");
    else
        show(shown, sizeof(shown), text);
    snprintf(out, size, "invalid value %s for %s (%s)", shown, label, why);
}

static bool
table_valid(const struct settings_row *table, char *err, size_t errlen)
{
    for (const struct settings_row *row = table; row->name != NULL; row++) {
        const char *what = NULL;

        if (row->section == NULL ||
            (*row->section != '\0' && !name_valid(row->section, true)))
            what = "bad section";
        else if (!name_valid(row->name, false))
            what = "bad name";
        else if (row->type < SETTINGS_TYPE_STRING || row->type > SETTINGS_TYPE_LIST)
            what = "unknown type";
        else if (row->type == SETTINGS_TYPE_ENUM &&
                 (row->names == NULL || row->names[0] == NULL))
            what = "enum without names";
        else if (row->type == SETTINGS_TYPE_INT && row->min > row->max)
            what = "min above max";
        else if (row->type == SETTINGS_TYPE_DOUBLE && !(row->dmin <= row->dmax))
            what = "min above max";
        else if (row->type == SETTINGS_TYPE_LIST && row->def != NULL)
            what = "a list has no default";
        else if (find_row(table, row->section, row->name) != row)
            what = "given twice";
        if (what != NULL) {
            set_err(err, errlen, "settings table: %s.%s: %s",
                    row->section ? row->section : "", row->name, what);
            return false;
        }
    }
    return true;
}

int
settings_init(const struct settings_row *table, void *obj, char *err, size_t errlen)
{
    char why[256], msg[1024];
    int r;

    if (table == NULL || obj == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (!table_valid(table, err, errlen))
        return AMT_ERR_INVALID_ARGUMENT;
    for (const struct settings_row *row = table; row->name != NULL; row++) {
        switch (row->type) {
        case SETTINGS_TYPE_STRING:
            *(char **)field(row, obj) = NULL;
            break;
        case SETTINGS_TYPE_LIST:
            memset(field(row, obj), 0, sizeof(struct settings_list));
            break;
        case SETTINGS_TYPE_INT:
        case SETTINGS_TYPE_ENUM:
            *(int *)field(row, obj) = 0;
            break;
        case SETTINGS_TYPE_BOOL:
            *(bool *)field(row, obj) = false;
            break;
        case SETTINGS_TYPE_DOUBLE:
            *(double *)field(row, obj) = 0;
            break;
        }
    }
    for (const struct settings_row *row = table; row->name != NULL; row++) {
        if (row->def == NULL)
            continue;
        if ((r = apply(row, obj, row->def, why, sizeof(why))) != 0) {
            if (r == AMT_ERR_SETTINGS_VALUE) {
                value_message(row, row->name, row->def, why, msg, sizeof(msg));
                set_err(err, errlen, "default of [%s] %s: %s", row->section, row->name,
                        msg);
            } else {
                set_err(err, errlen, "%s", amt_strerror(r));
            }
            settings_free_values(table, obj);
            return r;
        }
    }
    return 0;
}

/* Undoes the quoting of "a \"b\" \\ \n \t" in place; false when malformed. */
static bool
unquote(char *s, const char **what)
{
    char *d = s, *p = s + 1;

    for (;;) {
        if (*p == '\0') {
            *what = "unterminated quoted value";
            return false;
        }
        if (*p == '"')
            break;
        if (*p != '\\') {
            *d++ = *p++;
            continue;
        }
        switch (p[1]) {
        case '"':
        case '\\':
            *d++ = p[1];
            break;
        case 'n':
            *d++ = '\n';
            break;
        case 't':
            *d++ = '\t';
            break;
        default:
            *what = "unknown escape in quoted value";
            return false;
        }
        p += 2;
    }
    if (p[1] != '\0') {
        *what = "text after the quoted value";
        return false;
    }
    *d = '\0';
    return true;
}

static char *
trim(char *s)
{
    size_t n;

    while (*s == ' ' || *s == '\t')
        s++;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* One line, already NUL-terminated and without its newline. */
static int
load_line(const struct settings_row *table, void *obj, char *line, char *section,
          size_t *first_line, size_t line_no, char *msg, size_t msglen)
{
    const struct settings_row *row;
    char shown[SHOWN_MAX * 4 + 8], why[256];
    char *s = trim(line), *eq, *key, *value;
    const char *what;
    int r;

    if (*s == '\0' || *s == '#' || *s == ';')
        return 0;
    show(shown, sizeof(shown), s);
    if (*s == '[') {
        size_t n = strlen(s);

        if (s[n - 1] != ']')
            goto syntax;
        s[n - 1] = '\0';
        s = trim(s + 1);
        if (!name_valid(s, true))
            goto syntax;
        if (!section_known(table, s)) {
            snprintf(msg, msglen, "unknown section [%s]", s);
            return AMT_ERR_SETTINGS_UNKNOWN;
        }
        strcpy(section, s);
        return 0;
    }
    if ((eq = strchr(s, '=')) == NULL)
        goto syntax;
    *eq = '\0';
    key = trim(s);
    value = trim(eq + 1);
    if (!name_valid(key, false))
        goto syntax;
    /* The key, not the line: the value may be a secret. */
    if (*value == '"' && !unquote(value, &what)) {
        snprintf(msg, msglen, "%s for \"%s\"", what, key);
        return AMT_ERR_SETTINGS_SYNTAX;
    }
    if ((row = find_row(table, section, key)) == NULL) {
        if (*section == '\0')
            snprintf(msg, msglen, "unknown setting \"%s\"", key);
        else
            snprintf(msg, msglen, "unknown setting \"%s\" in [%s]", key, section);
        return AMT_ERR_SETTINGS_UNKNOWN;
    }
    if (row->type != SETTINGS_TYPE_LIST && first_line[row - table] != 0) {
        snprintf(msg, msglen, "setting \"%s\" given twice (first on line %zu)", key,
                 first_line[row - table]);
        return AMT_ERR_SETTINGS_DUPLICATE;
    }
    if ((r = apply(row, obj, value, why, sizeof(why))) != 0) {
        if (r == AMT_ERR_SETTINGS_VALUE)
            value_message(row, row->name, value, why, msg, msglen);
        else
            snprintf(msg, msglen, "%s", amt_strerror(r));
        return r;
    }
    first_line[row - table] = line_no;
    return 0;
syntax:
    snprintf(msg, msglen, "not a [section], a key = value, or a comment: %s", shown);
    return AMT_ERR_SETTINGS_SYNTAX;
}

/*
 * Reading a line at a time through a copy keeps the caller's text intact; the copy
 * and the message buffers may hold secrets, so they are wiped on the way out.
 */
int
settings_load_text(const struct settings_row *table, void *obj, const char *name,
                   const char *text, size_t len, char *err, size_t errlen)
{
    char *line = NULL, *section = NULL, msg[SHOWN_MAX * 4 + 512];
    size_t *first_line = NULL, nrows = 0, line_no = 0, pos = 0;
    int r = AMT_ERR_INTERNAL;

    if (table == NULL || obj == NULL || (text == NULL && len > 0))
        return AMT_ERR_INVALID_ARGUMENT;
    if (name == NULL)
        name = "(settings)";
    msg[0] = '\0';
    while (table[nrows].name != NULL)
        nrows++;
    if ((first_line = calloc(nrows + 1, sizeof(*first_line))) == NULL ||
        (line = malloc(SETTINGS_LINE_MAX + 1)) == NULL ||
        (section = calloc(1, SETTINGS_LINE_MAX + 1)) == NULL) {
        r = AMT_ERR_ALLOC;
        set_err(err, errlen, "%s: %s", name, amt_strerror(r));
        goto out;
    }
    if (len > SETTINGS_FILE_MAX) {
        r = AMT_ERR_SETTINGS_TOO_LARGE;
        set_err(err, errlen, "%s: larger than %u bytes", name, SETTINGS_FILE_MAX);
        goto out;
    }
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = (nl != NULL ? (size_t)(nl - text) : len) - pos;

        line_no++;
        if (n > SETTINGS_LINE_MAX) {
            r = AMT_ERR_SETTINGS_TOO_LARGE;
            set_err(err, errlen, "%s:%zu: line longer than %d bytes", name, line_no,
                    SETTINGS_LINE_MAX);
            goto out;
        }
        if (memchr(text + pos, '\0', n) != NULL) {
            r = AMT_ERR_SETTINGS_SYNTAX;
            set_err(err, errlen, "%s:%zu: NUL byte in line", name, line_no);
            goto out;
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos += n + (nl != NULL);
        if ((r = load_line(table, obj, line, section, first_line, line_no, msg,
                           sizeof(msg))) != 0) {
            set_err(err, errlen, "%s:%zu: %s", name, line_no, msg);
            goto out;
        }
    }
    r = 0;
out:
    if (line != NULL) {
        OPENSSL_cleanse(line, SETTINGS_LINE_MAX + 1);
        free(line);
    }
    OPENSSL_cleanse(msg, sizeof(msg));
    free(section);
    free(first_line);
    return r;
}

int
settings_load_file(const struct settings_row *table, void *obj, const char *path,
                   char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int fd = -1, r = AMT_ERR_INTERNAL;

    if (table == NULL || obj == NULL || path == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
        r = AMT_ERR_SETTINGS_OPEN;
        set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    /* Reads up to one byte past the cap, which is how "too large" shows. */
    for (;;) {
        ssize_t n;

        if (len == cap) {
            size_t ncap = cap == 0 ? 4096 : cap * 2;
            char *p;

            if (ncap > SETTINGS_FILE_MAX + 1)
                ncap = SETTINGS_FILE_MAX + 1;
            if (ncap == cap) {
                r = AMT_ERR_SETTINGS_TOO_LARGE;
                set_err(err, errlen, "%s: larger than %u bytes", path, SETTINGS_FILE_MAX);
                goto out;
            }
            /* Not realloc: the old block may hold secrets and must be wiped. */
            if ((p = malloc(ncap)) == NULL) {
                r = AMT_ERR_ALLOC;
                set_err(err, errlen, "%s: %s", path, amt_strerror(r));
                goto out;
            }
            if (buf != NULL) {
                memcpy(p, buf, len);
                OPENSSL_cleanse(buf, cap);
                free(buf);
            }
            buf = p;
            cap = ncap;
        }
        if ((n = read(fd, buf + len, cap - len)) < 0) {
            if (errno == EINTR)
                continue;
            r = AMT_ERR_SETTINGS_OPEN;
            set_err(err, errlen, "%s: cannot read: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    r = settings_load_text(table, obj, path, buf, len, err, errlen);
out:
    if (buf != NULL) {
        OPENSSL_cleanse(buf, cap);
        free(buf);
    }
    if (fd >= 0)
        close(fd);
    return r;
}

int
settings_set(const struct settings_row *table, void *obj, const char *key,
             const char *value, char *err, size_t errlen)
{
    const struct settings_row *row;
    char why[256], msg[SHOWN_MAX * 4 + 512];
    int r;

    if (table == NULL || obj == NULL || key == NULL || value == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((row = settings_find(table, key)) == NULL) {
        show(msg, sizeof(msg), key);
        set_err(err, errlen, "unknown setting %s", msg);
        return AMT_ERR_SETTINGS_UNKNOWN;
    }
    if ((r = apply(row, obj, value, why, sizeof(why))) != 0) {
        if (r == AMT_ERR_SETTINGS_VALUE) {
            value_message(row, key, value, why, msg, sizeof(msg));
            set_err(err, errlen, "%s", msg);
        } else {
            set_err(err, errlen, "%s: %s", key, amt_strerror(r));
        }
    }
    return r;
}

void
settings_free_values(const struct settings_row *table, void *obj)
{
    if (table == NULL || obj == NULL)
        return;
    for (const struct settings_row *row = table; row->name != NULL; row++) {
        if (row->type == SETTINGS_TYPE_STRING) {
            free_string(row, field(row, obj));
        } else if (row->type == SETTINGS_TYPE_LIST) {
            struct settings_list *list = field(row, obj);

            for (size_t i = 0; i < list->n; i++)
                free_string(row, &list->items[i]);
            free(list->items);
            list->items = NULL;
            list->n = 0;
        }
    }
}
