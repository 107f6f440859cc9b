#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

/* The longest number token the parser hands to strtod. */
#define JSON_NUMBER_MAX 128

struct json_member {
    char *key;
    size_t key_len;
    struct json_value *value;
};

struct json_value {
    enum json_type type;
    union {
        bool b;
        double n;
        struct {
            char *s;
            size_t len;
        } str;
        struct {
            struct json_value **items;
            size_t n;
        } arr;
        struct {
            struct json_member *members;
            size_t n;
        } obj;
    } u;
};

/*
 * Numbers are written and read with a '.' whatever LC_NUMERIC a program chose, so
 * the formatting calls run under a private "C" locale.
 */
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale = (locale_t)0;

static void
c_locale_make(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static locale_t
c_locale_enter(void)
{
    pthread_once(&c_locale_once, c_locale_make);
    if (c_locale == (locale_t)0)
        return (locale_t)0;
    return uselocale(c_locale);
}

static void
c_locale_leave(locale_t old)
{
    if (old != (locale_t)0)
        uselocale(old);
}

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0.
 */
static size_t
utf8_sequence_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* Writer */

struct json_writer {
    char *buf;
    size_t len;
    size_t cap;
    int err;
    size_t depth;
    bool in_object[JSON_MAX_DEPTH];
    bool first[JSON_MAX_DEPTH];
    bool key_pending;
    bool done;
};

int
json_writer_new(struct json_writer **out)
{
    struct json_writer *w;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if ((w = calloc(1, sizeof(*w))) == NULL)
        return AMT_ERR_ALLOC;
    w->cap = 256;
    if ((w->buf = malloc(w->cap)) == NULL) {
        free(w);
        return AMT_ERR_ALLOC;
    }
    w->buf[0] = '\0';
    *out = w;
    return 0;
}

void
json_writer_free(struct json_writer *w)
{
    if (w == NULL)
        return;
    free(w->buf);
    free(w);
}

static int
writer_fail(struct json_writer *w, int err)
{
    if (w->err == 0)
        w->err = err;
    return w->err;
}

static int
writer_append(struct json_writer *w, const char *s, size_t n)
{
    if (w->err != 0)
        return w->err;
    if (n > JSON_MAX_SIZE - w->len)
        return writer_fail(w, AMT_ERR_JSON_TOO_LARGE);
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap;
        char *p;

        while (w->len + n + 1 > cap)
            cap *= 2;
        if ((p = realloc(w->buf, cap)) == NULL)
            return writer_fail(w, AMT_ERR_ALLOC);
        w->buf = p;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
    return 0;
}

/* Puts the comma a value needs and checks that a value may come here. */
static int
writer_value_start(struct json_writer *w)
{
    if (w->err != 0)
        return w->err;
    if (w->depth == 0) {
        if (w->done)
            return writer_fail(w, AMT_ERR_INVALID_ARGUMENT);
        return 0;
    }
    if (w->in_object[w->depth - 1]) {
        if (!w->key_pending)
            return writer_fail(w, AMT_ERR_INVALID_ARGUMENT);
        w->key_pending = false;
        return 0;
    }
    if (!w->first[w->depth - 1])
        return writer_append(w, ",", 1);
    w->first[w->depth - 1] = false;
    return 0;
}

static void
writer_value_end(struct json_writer *w)
{
    if (w->err == 0 && w->depth == 0)
        w->done = true;
}

static int
writer_begin(struct json_writer *w, bool object)
{
    int r;

    if ((r = writer_value_start(w)) != 0)
        return r;
    if (w->depth == JSON_MAX_DEPTH)
        return writer_fail(w, AMT_ERR_JSON_TOO_DEEP);
    if ((r = writer_append(w, object ? "{" : "[", 1)) != 0)
        return r;
    w->in_object[w->depth] = object;
    w->first[w->depth] = true;
    w->depth++;
    return 0;
}

static int
writer_end(struct json_writer *w, bool object)
{
    int r;

    if (w->err != 0)
        return w->err;
    if (w->depth == 0 || w->in_object[w->depth - 1] != object || w->key_pending)
        return writer_fail(w, AMT_ERR_INVALID_ARGUMENT);
    if ((r = writer_append(w, object ? "}" : "]", 1)) != 0)
        return r;
    w->depth--;
    writer_value_end(w);
    return 0;
}

int
json_write_object_begin(struct json_writer *w)
{
    return writer_begin(w, true);
}

int
json_write_object_end(struct json_writer *w)
{
    return writer_end(w, true);
}

int
json_write_array_begin(struct json_writer *w)
{
    return writer_begin(w, false);
}

int
json_write_array_end(struct json_writer *w)
{
    return writer_end(w, false);
}

/* Quotes and escapes s; the short escapes where JSON has them, else \u00XX. */
static int
writer_quoted(struct json_writer *w, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    int r;

    if ((r = writer_append(w, "\"", 1)) != 0)
        return r;
    while (i < len) {
        unsigned char c = p[i];
        char esc[8];
        size_t n;

        if (c >= 0x20 && c != '"' && c != '\\') {
            if ((n = utf8_sequence_len(p + i, len - i)) == 0)
                return writer_fail(w, AMT_ERR_JSON_UTF8);
            i += n;
            run += n;
            continue;
        }
        if ((r = writer_append(w, (const char *)p + i - run, run)) != 0)
            return r;
        run = 0;
        switch (c) {
        case '"':
        case '\\':
            esc[0] = '\\';
            esc[1] = (char)c;
            n = 2;
            break;
        case '\b':
            memcpy(esc, "\\b", n = 2);
            break;
        case '\f':
            memcpy(esc, "\\f", n = 2);
            break;
        case '\n':
            memcpy(esc, "\\n", n = 2);
            break;
        case '\r':
            memcpy(esc, "\\r", n = 2);
            break;
        case '\t':
            memcpy(esc, "\\t", n = 2);
            break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            n = 6;
            break;
        }
        if ((r = writer_append(w, esc, n)) != 0)
            return r;
        i++;
    }
    if ((r = writer_append(w, (const char *)p + i - run, run)) != 0)
        return r;
    return writer_append(w, "\"", 1);
}

int
json_write_key(struct json_writer *w, const char *key)
{
    size_t d;
    int r;

    if (w->err != 0)
        return w->err;
    if (key == NULL || w->depth == 0 || !w->in_object[w->depth - 1] || w->key_pending)
        return writer_fail(w, AMT_ERR_INVALID_ARGUMENT);
    d = w->depth - 1;
    if (!w->first[d] && (r = writer_append(w, ",", 1)) != 0)
        return r;
    w->first[d] = false;
    if ((r = writer_quoted(w, key, strlen(key))) != 0 ||
        (r = writer_append(w, ":", 1)) != 0)
        return r;
    w->key_pending = true;
    return 0;
}

int
json_write_string_len(struct json_writer *w, const char *s, size_t len)
{
    int r;

    if (w->err != 0)
        return w->err;
    if (s == NULL)
        return writer_fail(w, AMT_ERR_INVALID_ARGUMENT);
    if ((r = writer_value_start(w)) != 0 || (r = writer_quoted(w, s, len)) != 0)
        return r;
    writer_value_end(w);
    return 0;
}

int
json_write_string(struct json_writer *w, const char *s)
{
    if (w->err == 0 && s == NULL)
        return writer_fail(w, AMT_ERR_INVALID_ARGUMENT);
    return json_write_string_len(w, s, s == NULL ? 0 : strlen(s));
}

static int
writer_scalar(struct json_writer *w, const char *text, size_t len)
{
    int r;

    if ((r = writer_value_start(w)) != 0 || (r = writer_append(w, text, len)) != 0)
        return r;
    writer_value_end(w);
    return 0;
}

int
json_write_int(struct json_writer *w, int64_t n)
{
    char buf[32];
    int len = snprintf(buf, sizeof(buf), "%" PRId64, n);

    return writer_scalar(w, buf, (size_t)len);
}

int
json_write_fixed(struct json_writer *w, double n, int decimals)
{
    char buf[400];
    locale_t old;
    int len;

    if (w->err != 0)
        return w->err;
    if (!isfinite(n) || decimals < 0 || decimals > 9)
        return writer_fail(w, AMT_ERR_INVALID_ARGUMENT);
    old = c_locale_enter();
    len = snprintf(buf, sizeof(buf), "%.*f", decimals, n);
    c_locale_leave(old);
    if (len < 0 || (size_t)len >= sizeof(buf))
        return writer_fail(w, AMT_ERR_INTERNAL);
    return writer_scalar(w, buf, (size_t)len);
}

int
json_write_double(struct json_writer *w, double n)
{
    char buf[40];
    locale_t old;
    int len = 0;

    if (w->err != 0)
        return w->err;
    if (!isfinite(n))
        return writer_fail(w, AMT_ERR_INVALID_ARGUMENT);
    old = c_locale_enter();
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(buf, sizeof(buf), "%.*g", prec, n);
        if (strtod(buf, NULL) == n)
            break;
    }
    c_locale_leave(old);
    return writer_scalar(w, buf, (size_t)len);
}

int
json_write_bool(struct json_writer *w, bool b)
{
    return b ? writer_scalar(w, "true", 4) : writer_scalar(w, "false", 5);
}

int
json_write_null(struct json_writer *w)
{
    return writer_scalar(w, "null", 4);
}

int
json_write_value(struct json_writer *w, const struct json_value *v)
{
    int r;

    if (w->err != 0)
        return w->err;
    if (v == NULL)
        return writer_fail(w, AMT_ERR_INVALID_ARGUMENT);
    switch (v->type) {
    case JSON_NULL:
        return json_write_null(w);
    case JSON_BOOL:
        return json_write_bool(w, v->u.b);
    case JSON_NUMBER:
        return json_write_double(w, v->u.n);
    case JSON_STRING:
        return json_write_string_len(w, v->u.str.s, v->u.str.len);
    case JSON_ARRAY:
        if ((r = json_write_array_begin(w)) != 0)
            return r;
        for (size_t i = 0; i < v->u.arr.n; i++)
            if ((r = json_write_value(w, v->u.arr.items[i])) != 0)
                return r;
        return json_write_array_end(w);
    case JSON_OBJECT:
        if ((r = json_write_object_begin(w)) != 0)
            return r;
        for (size_t i = 0; i < v->u.obj.n; i++) {
            const struct json_member *m = &v->u.obj.members[i];

            /* The key may hold "\u0000", so it goes through the length-aware path. */
            if (!w->first[w->depth - 1] && (r = writer_append(w, ",", 1)) != 0)
                return r;
            w->first[w->depth - 1] = false;
            if ((r = writer_quoted(w, m->key, m->key_len)) != 0 ||
                (r = writer_append(w, ":", 1)) != 0)
                return r;
            w->key_pending = true;
            if ((r = json_write_value(w, m->value)) != 0)
                return r;
        }
        return json_write_object_end(w);
    }
    return writer_fail(w, AMT_ERR_INTERNAL);
}

int
json_writer_result(const struct json_writer *w, const char **text, size_t *len)
{
    if (text != NULL)
        *text = NULL;
    if (len != NULL)
        *len = 0;
    if (w == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (w->err != 0)
        return w->err;
    if (!w->done)
        return AMT_ERR_INVALID_ARGUMENT;
    if (text != NULL)
        *text = w->buf;
    if (len != NULL)
        *len = w->len;
    return 0;
}

/* Parser */

struct parser {
    const unsigned char *s;
    size_t len;
    size_t pos;
    struct json_limits lim;
    size_t depth;
    const char *what;
    size_t err_pos;
};

static int
parse_fail(struct parser *p, int err, size_t pos, const char *what)
{
    p->err_pos = pos;
    p->what = what;
    return err;
}

static void
skip_space(struct parser *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];

        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static struct json_value *
value_new(enum json_type type)
{
    struct json_value *v = calloc(1, sizeof(*v));

    if (v != NULL)
        v->type = type;
    return v;
}

void
json_free(struct json_value *v)
{
    if (v == NULL)
        return;
    switch (v->type) {
    case JSON_STRING:
        free(v->u.str.s);
        break;
    case JSON_ARRAY:
        for (size_t i = 0; i < v->u.arr.n; i++)
            json_free(v->u.arr.items[i]);
        free(v->u.arr.items);
        break;
    case JSON_OBJECT:
        for (size_t i = 0; i < v->u.obj.n; i++) {
            free(v->u.obj.members[i].key);
            json_free(v->u.obj.members[i].value);
        }
        free(v->u.obj.members);
        break;
    default:
        break;
    }
    free(v);
}

static int
hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;

    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];

        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t
utf8_put(unsigned char *d, unsigned cp)
{
    if (cp < 0x80) {
        d[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (unsigned char)(0xc0 | (cp >> 6));
        d[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (unsigned char)(0xe0 | (cp >> 12));
        d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        d[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (unsigned char)(0xf0 | (cp >> 18));
    d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    d[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/*
 * One string, p->pos at its opening quote: "caf\u00e9 \ud83d\ude00". The decoded
 * text is never longer than the raw text, so one allocation of the raw length
 * holds it.
 */
static int
parse_string(struct parser *p, char **out, size_t *out_len)
{
    size_t start = ++p->pos, end = start;
    unsigned char *d = NULL;
    size_t n = 0;
    int r = AMT_ERR_INTERNAL;

    *out = NULL;
    *out_len = 0;
    while (end < p->len && p->s[end] != '"')
        end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->len)
        return parse_fail(p, AMT_ERR_JSON_SYNTAX, p->len, "unterminated string");
    if ((d = malloc(end - start + 1)) == NULL)
        return parse_fail(p, AMT_ERR_ALLOC, start, "out of memory");
    while (p->pos < end) {
        unsigned char c = p->s[p->pos];
        unsigned cp, lo;
        size_t k;

        if (c < 0x20) {
            r = parse_fail(p, AMT_ERR_JSON_SYNTAX, p->pos, "control character in string");
            goto out;
        }
        if (c != '\\') {
            if ((k = utf8_sequence_len(p->s + p->pos, end - p->pos)) == 0) {
                r = parse_fail(p, AMT_ERR_JSON_UTF8, p->pos, "invalid UTF-8 in string");
                goto out;
            }
            memcpy(d + n, p->s + p->pos, k);
            n += k;
            p->pos += k;
            continue;
        }
        switch (p->s[p->pos + 1]) {
        case '"':
        case '\\':
        case '/':
            d[n++] = p->s[p->pos + 1];
            break;
        case 'b':
            d[n++] = '\b';
            break;
        case 'f':
            d[n++] = '\f';
            break;
        case 'n':
            d[n++] = '\n';
            break;
        case 'r':
            d[n++] = '\r';
            break;
        case 't':
            d[n++] = '\t';
            break;
        case 'u':
            if (end - p->pos < 6 || hex4(p->s + p->pos + 2, &cp) != 0) {
                r = parse_fail(p, AMT_ERR_JSON_SYNTAX, p->pos, "bad \\u escape");
                goto out;
            }
            if (cp >= 0xdc00 && cp <= 0xdfff) {
                r = parse_fail(p, AMT_ERR_JSON_UTF8, p->pos, "lone low surrogate");
                goto out;
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (end - p->pos < 12 || p->s[p->pos + 6] != '\\' ||
                    p->s[p->pos + 7] != 'u' || hex4(p->s + p->pos + 8, &lo) != 0 ||
                    lo < 0xdc00 || lo > 0xdfff) {
                    r = parse_fail(p, AMT_ERR_JSON_UTF8, p->pos,
                                   "high surrogate without a low one");
                    goto out;
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p->pos += 6;
            }
            n += utf8_put(d + n, cp);
            p->pos += 4;
            break;
        default:
            r = parse_fail(p, AMT_ERR_JSON_SYNTAX, p->pos, "unknown escape");
            goto out;
        }
        p->pos += 2;
    }
    if (n > p->lim.max_string) {
        r = parse_fail(p, AMT_ERR_JSON_TOO_LARGE, start, "string longer than the cap");
        goto out;
    }
    d[n] = '\0';
    p->pos = end + 1;
    *out = (char *)d;
    *out_len = n;
    d = NULL;
    r = 0;
out:
    free(d);
    return r;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
parse_number(struct parser *p, double *out)
{
    size_t start = p->pos, i = p->pos;
    char buf[JSON_NUMBER_MAX + 1];
    locale_t old;
    char *end;
    double v;

#define DIGIT(k) ((k) < p->len && p->s[(k)] >= '0' && p->s[(k)] <= '9')
    if (i < p->len && p->s[i] == '-')
        i++;
    if (!DIGIT(i))
        return parse_fail(p, AMT_ERR_JSON_SYNTAX, i, "expected a digit");
    if (p->s[i] == '0') {
        i++;
        if (DIGIT(i))
            return parse_fail(p, AMT_ERR_JSON_SYNTAX, i, "leading zero in number");
    } else {
        while (DIGIT(i))
            i++;
    }
    if (i < p->len && p->s[i] == '.') {
        i++;
        if (!DIGIT(i))
            return parse_fail(p, AMT_ERR_JSON_SYNTAX, i, "expected a digit after '.'");
        while (DIGIT(i))
            i++;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        if (!DIGIT(i))
            return parse_fail(p, AMT_ERR_JSON_SYNTAX, i, "expected a digit in exponent");
        while (DIGIT(i))
            i++;
    }
#undef DIGIT
    if (i - start > JSON_NUMBER_MAX)
        return parse_fail(p, AMT_ERR_JSON_TOO_LARGE, start, "number longer than the cap");
    memcpy(buf, p->s + start, i - start);
    buf[i - start] = '\0';
    old = c_locale_enter();
    errno = 0;
    v = strtod(buf, &end);
    c_locale_leave(old);
    if (*end != '\0')
        return parse_fail(p, AMT_ERR_INTERNAL, start, "number not read whole");
    if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1.0))
        return parse_fail(p, AMT_ERR_JSON_TOO_LARGE, start, "number out of range");
    p->pos = i;
    *out = v;
    return 0;
}

static int parse_value(struct parser *p, struct json_value **out);

struct key_ref {
    const char *key;
    size_t len;
    size_t offset;
};

static int
key_ref_cmp(const void *a, const void *b)
{
    const struct key_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);

    if (c != 0)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/*
 * Sorting the keys finds a duplicate in n log n, so a large object cannot make the
 * check quadratic; the error names the earliest second occurrence.
 */
static int
check_duplicates(struct parser *p, const struct json_member *m, const size_t *offsets,
                 size_t n)
{
    struct key_ref *refs;
    size_t dup = SIZE_MAX;

    if (n < 2)
        return 0;
    if ((refs = malloc(n * sizeof(*refs))) == NULL)
        return parse_fail(p, AMT_ERR_ALLOC, p->pos, "out of memory");
    for (size_t i = 0; i < n; i++) {
        refs[i].key = m[i].key;
        refs[i].len = m[i].key_len;
        refs[i].offset = offsets[i];
    }
    qsort(refs, n, sizeof(*refs), key_ref_cmp);
    for (size_t i = 1; i < n; i++)
        if (refs[i].len == refs[i - 1].len &&
            memcmp(refs[i].key, refs[i - 1].key, refs[i].len) == 0 &&
            refs[i].offset < dup)
            dup = refs[i].offset;
    free(refs);
    if (dup != SIZE_MAX)
        return parse_fail(p, AMT_ERR_JSON_DUPLICATE_KEY, dup, "duplicate key");
    return 0;
}

static int
grow(void **items, size_t *cap, size_t n, size_t size)
{
    void *q;
    size_t c;

    if (n < *cap)
        return 0;
    c = *cap == 0 ? 4 : *cap * 2;
    if ((q = realloc(*items, c * size)) == NULL)
        return AMT_ERR_ALLOC;
    *items = q;
    *cap = c;
    return 0;
}

/* p->pos at '[' or '{'; both share the comma and cap handling. */
static int
parse_container(struct parser *p, bool object, struct json_value **out)
{
    struct json_value *v = NULL;
    size_t cap = 0, ocap = 0, n = 0;
    size_t *offsets = NULL;
    char close = object ? '}' : ']';
    int r = AMT_ERR_INTERNAL;

    *out = NULL;
    if (++p->depth > p->lim.max_depth)
        return parse_fail(p, AMT_ERR_JSON_TOO_DEEP, p->pos, "nested deeper than the cap");
    if ((v = value_new(object ? JSON_OBJECT : JSON_ARRAY)) == NULL) {
        r = parse_fail(p, AMT_ERR_ALLOC, p->pos, "out of memory");
        goto out;
    }
    p->pos++;
    skip_space(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        goto done;
    }
    for (;;) {
        struct json_value *item = NULL;

        if (n == p->lim.max_items) {
            r = parse_fail(p, AMT_ERR_JSON_TOO_LARGE, p->pos, "more items than the cap");
            goto out;
        }
        if (object) {
            struct json_member *m;

            if (p->pos >= p->len || p->s[p->pos] != '"') {
                r = parse_fail(p, AMT_ERR_JSON_SYNTAX, p->pos, "expected a string key");
                goto out;
            }
            if (grow((void **)&v->u.obj.members, &cap, n, sizeof(*m)) != 0 ||
                grow((void **)&offsets, &ocap, n, sizeof(*offsets)) != 0) {
                r = parse_fail(p, AMT_ERR_ALLOC, p->pos, "out of memory");
                goto out;
            }
            m = &v->u.obj.members[n];
            offsets[n] = p->pos;
            if ((r = parse_string(p, &m->key, &m->key_len)) != 0)
                goto out;
            m->value = NULL;
            v->u.obj.n = ++n;
            skip_space(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                r = parse_fail(p, AMT_ERR_JSON_SYNTAX, p->pos, "expected ':' after key");
                goto out;
            }
            p->pos++;
            skip_space(p);
            if ((r = parse_value(p, &m->value)) != 0)
                goto out;
        } else {
            if (grow((void **)&v->u.arr.items, &cap, n, sizeof(item)) != 0) {
                r = parse_fail(p, AMT_ERR_ALLOC, p->pos, "out of memory");
                goto out;
            }
            if ((r = parse_value(p, &item)) != 0)
                goto out;
            v->u.arr.items[n] = item;
            v->u.arr.n = ++n;
        }
        skip_space(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            skip_space(p);
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == close) {
            p->pos++;
            break;
        }
        r = parse_fail(p, AMT_ERR_JSON_SYNTAX, p->pos,
                       object ? "expected ',' or '}'" : "expected ',' or ']'");
        goto out;
    }
    if (object && (r = check_duplicates(p, v->u.obj.members, offsets, n)) != 0)
        goto out;
done:
    p->depth--;
    *out = v;
    v = NULL;
    r = 0;
out:
    free(offsets);
    json_free(v);
    return r;
}

static int
parse_literal(struct parser *p, const char *word, struct json_value **out,
              enum json_type type, bool b)
{
    size_t n = strlen(word);

    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return parse_fail(p, AMT_ERR_JSON_SYNTAX, p->pos, "expected a value");
    if ((*out = value_new(type)) == NULL)
        return parse_fail(p, AMT_ERR_ALLOC, p->pos, "out of memory");
    (*out)->u.b = b;
    p->pos += n;
    return 0;
}

static int
parse_value(struct parser *p, struct json_value **out)
{
    struct json_value *v;
    int r;

    *out = NULL;
    if (p->pos >= p->len)
        return parse_fail(p, AMT_ERR_JSON_SYNTAX, p->pos, "expected a value");
    switch (p->s[p->pos]) {
    case '{':
        return parse_container(p, true, out);
    case '[':
        return parse_container(p, false, out);
    case '"':
        if ((v = value_new(JSON_STRING)) == NULL)
            return parse_fail(p, AMT_ERR_ALLOC, p->pos, "out of memory");
        if ((r = parse_string(p, &v->u.str.s, &v->u.str.len)) != 0) {
            free(v);
            return r;
        }
        *out = v;
        return 0;
    case 't':
        return parse_literal(p, "true", out, JSON_BOOL, true);
    case 'f':
        return parse_literal(p, "false", out, JSON_BOOL, false);
    case 'n':
        return parse_literal(p, "null", out, JSON_NULL, false);
    default:
        if (p->s[p->pos] != '-' && (p->s[p->pos] < '0' || p->s[p->pos] > '9'))
            return parse_fail(p, AMT_ERR_JSON_SYNTAX, p->pos, "expected a value");
        if ((v = value_new(JSON_NUMBER)) == NULL)
            return parse_fail(p, AMT_ERR_ALLOC, p->pos, "out of memory");
        if ((r = parse_number(p, &v->u.n)) != 0) {
            free(v);
            return r;
        }
        *out = v;
        return 0;
    }
}

int
json_parse(const char *text, size_t len, const struct json_limits *limits,
           struct json_value **out, struct json_error *error)
{
    struct parser p;
    struct json_value *v = NULL;
    int r = AMT_ERR_INTERNAL;

    if (error != NULL) {
        error->offset = 0;
        error->what = NULL;
    }
    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (text == NULL && len != 0)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(&p, 0, sizeof(p));
    p.s = (const unsigned char *)text;
    p.len = len;
    if (limits != NULL)
        p.lim = *limits;
    if (p.lim.max_depth == 0)
        p.lim.max_depth = JSON_MAX_DEPTH;
    if (p.lim.max_size == 0)
        p.lim.max_size = JSON_MAX_SIZE;
    if (p.lim.max_string == 0)
        p.lim.max_string = JSON_MAX_STRING;
    if (p.lim.max_items == 0)
        p.lim.max_items = JSON_MAX_ITEMS;
    if (len > p.lim.max_size) {
        r = parse_fail(&p, AMT_ERR_JSON_TOO_LARGE, p.lim.max_size,
                       "document larger than the cap");
        goto out;
    }
    skip_space(&p);
    if ((r = parse_value(&p, &v)) != 0)
        goto out;
    skip_space(&p);
    if (p.pos != p.len) {
        r = parse_fail(&p, AMT_ERR_JSON_SYNTAX, p.pos,
                       "trailing characters after the value");
        goto out;
    }
    *out = v;
    v = NULL;
    r = 0;
out:
    if (r != 0 && error != NULL) {
        error->offset = p.err_pos;
        error->what = p.what;
    }
    json_free(v);
    return r;
}

/* Reading the tree */

enum json_type
json_type_of(const struct json_value *v)
{
    return v == NULL ? JSON_NULL : v->type;
}

size_t
json_count(const struct json_value *v)
{
    if (v == NULL)
        return 0;
    if (v->type == JSON_ARRAY)
        return v->u.arr.n;
    if (v->type == JSON_OBJECT)
        return v->u.obj.n;
    return 0;
}

const struct json_value *
json_array_at(const struct json_value *array, size_t i)
{
    if (array == NULL || array->type != JSON_ARRAY || i >= array->u.arr.n)
        return NULL;
    return array->u.arr.items[i];
}

const char *
json_object_key_at(const struct json_value *object, size_t i, size_t *len)
{
    if (object == NULL || object->type != JSON_OBJECT || i >= object->u.obj.n)
        return NULL;
    if (len != NULL)
        *len = object->u.obj.members[i].key_len;
    return object->u.obj.members[i].key;
}

const struct json_value *
json_object_value_at(const struct json_value *object, size_t i)
{
    if (object == NULL || object->type != JSON_OBJECT || i >= object->u.obj.n)
        return NULL;
    return object->u.obj.members[i].value;
}

static const struct json_value *
object_get_len(const struct json_value *obj, const char *key, size_t len)
{
    if (obj == NULL || key == NULL || obj->type != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->u.obj.n; i++) {
        const struct json_member *m = &obj->u.obj.members[i];

        if (m->key_len == len && memcmp(m->key, key, len) == 0)
            return m->value;
    }
    return NULL;
}

const struct json_value *
json_object_get(const struct json_value *obj, const char *key)
{
    return key == NULL ? NULL : object_get_len(obj, key, strlen(key));
}

const struct json_value *
json_path(const struct json_value *v, const char *path)
{
    const char *seg = path;

    if (path == NULL)
        return NULL;
    while (v != NULL) {
        const char *dot = strchr(seg, '.');
        size_t n = dot == NULL ? strlen(seg) : (size_t)(dot - seg);

        if (v->type == JSON_ARRAY) {
            size_t idx = 0;

            if (n == 0 || n > 9 || (n > 1 && seg[0] == '0'))
                return NULL;
            for (size_t i = 0; i < n; i++) {
                if (seg[i] < '0' || seg[i] > '9')
                    return NULL;
                idx = idx * 10 + (size_t)(seg[i] - '0');
            }
            v = json_array_at(v, idx);
        } else {
            v = object_get_len(v, seg, n);
        }
        if (dot == NULL)
            return v;
        seg = dot + 1;
    }
    return NULL;
}

int
json_get_string(const struct json_value *v, const char **out, size_t *len)
{
    if (v == NULL)
        return AMT_ERR_NOT_FOUND;
    if (v->type != JSON_STRING)
        return AMT_ERR_JSON_TYPE;
    if (out != NULL)
        *out = v->u.str.s;
    if (len != NULL)
        *len = v->u.str.len;
    return 0;
}

int
json_get_number(const struct json_value *v, double *out)
{
    if (v == NULL)
        return AMT_ERR_NOT_FOUND;
    if (v->type != JSON_NUMBER)
        return AMT_ERR_JSON_TYPE;
    if (out != NULL)
        *out = v->u.n;
    return 0;
}

int
json_get_int(const struct json_value *v, int64_t *out)
{
    /* Beyond 2^53 a double no longer tells neighbouring integers apart. */
    const double limit = 9007199254740992.0;

    if (v == NULL)
        return AMT_ERR_NOT_FOUND;
    if (v->type != JSON_NUMBER || v->u.n != floor(v->u.n) || fabs(v->u.n) > limit)
        return AMT_ERR_JSON_TYPE;
    if (out != NULL)
        *out = (int64_t)v->u.n;
    return 0;
}

int
json_get_bool(const struct json_value *v, bool *out)
{
    if (v == NULL)
        return AMT_ERR_NOT_FOUND;
    if (v->type != JSON_BOOL)
        return AMT_ERR_JSON_TYPE;
    if (out != NULL)
        *out = v->u.b;
    return 0;
}

bool
json_equal(const struct json_value *a, const struct json_value *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case JSON_NULL:
        return true;
    case JSON_BOOL:
        return a->u.b == b->u.b;
    case JSON_NUMBER:
        return a->u.n == b->u.n;
    case JSON_STRING:
        return a->u.str.len == b->u.str.len &&
               memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0;
    case JSON_ARRAY:
        if (a->u.arr.n != b->u.arr.n)
            return false;
        for (size_t i = 0; i < a->u.arr.n; i++)
            if (!json_equal(a->u.arr.items[i], b->u.arr.items[i]))
                return false;
        return true;
    case JSON_OBJECT:
        if (a->u.obj.n != b->u.obj.n)
            return false;
        for (size_t i = 0; i < a->u.obj.n; i++) {
            const struct json_member *x = &a->u.obj.members[i], *y = &b->u.obj.members[i];

            if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0 ||
                !json_equal(x->value, y->value))
                return false;
        }
        return true;
    }
    return false;
}
