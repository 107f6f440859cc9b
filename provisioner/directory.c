#include "directory.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "err.h"

struct dir {
    const struct dir_ops *ops;
    void *ctx;
};

static const char *const rdn_type_names[] = {
    [DIR_RDN_CN] = "CN",
    [DIR_RDN_OU] = "OU",
    [DIR_RDN_DC] = "DC",
};

/* Characters a value must escape wherever they stand (RFC 4514, section 2.4). */
static const char always_escaped[] = ",+\"\\<>;";

static void say(char *err, size_t errlen, const char *fmt, ...) AMT_PRINTF(3, 4);

static void
say(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int
lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool
same_ci(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++)
        if (lower((unsigned char)*a) != lower((unsigned char)*b))
            return false;
    return *a == *b;
}

static void
clear_err(char *err, size_t errlen)
{
    if (err != NULL && errlen > 0)
        err[0] = '\0';
}

static int
hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static bool
is_label(const char *s)
{
    return ns_name_valid(s) == 0 && strchr(s, '.') == NULL;
}

/* A DNS name in lower case without its optional trailing dot. */
static int
canon_domain(const char *in, char out[NS_NAME_MAX + 1])
{
    size_t n;

    if (in == NULL || ns_name_valid(in) != 0)
        return AMT_ERR_NS_NAME;
    n = strlen(in);
    if (in[n - 1] == '.')
        n--;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)lower((unsigned char)in[i]);
    out[n] = '\0';
    return 0;
}

static int
canon_host(const char *in, char out[NS_LABEL_MAX + 1])
{
    size_t n;

    if (in == NULL || !is_label(in) || (n = strlen(in)) > NS_LABEL_MAX)
        return AMT_ERR_NS_NAME;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)lower((unsigned char)in[i]);
    return 0;
}

/* ---- distinguished names ---- */

static int
parse_type(const char *text, size_t *pos, enum dir_rdn_type *type, char *err,
           size_t errlen)
{
    size_t start = *pos, i = *pos;

    while ((text[i] >= 'A' && text[i] <= 'Z') || (text[i] >= 'a' && text[i] <= 'z'))
        i++;
    if (text[i] != '=' || i == start) {
        say(err, errlen, "expected CN=, OU= or DC= at offset %zu", start);
        return AMT_ERR_DIR_DN;
    }
    for (size_t t = 0; t < sizeof(rdn_type_names) / sizeof(rdn_type_names[0]); t++) {
        if (i - start == 2 &&
            lower((unsigned char)text[start]) ==
                lower((unsigned char)rdn_type_names[t][0]) &&
            lower((unsigned char)text[start + 1]) ==
                lower((unsigned char)rdn_type_names[t][1])) {
            *type = (enum dir_rdn_type)t;
            *pos = i + 1;
            return 0;
        }
    }
    say(err, errlen, "attribute type \"%.*s\" is not CN, OU or DC", (int)(i - start),
        text + start);
    return AMT_ERR_DIR_DN;
}

/*
 * One value up to an unescaped ',' or the end:  AMT\, Europe   or   AMT\2C Europe
 */
static int
parse_value(const char *text, size_t *pos, struct dir_rdn *rdn, char *err, size_t errlen)
{
    size_t i = *pos, n = 0;
    bool last_escaped = false;

    while (text[i] != '\0' && text[i] != ',') {
        int c = (unsigned char)text[i];

        if (c == '\\') {
            int hi = hex_value((unsigned char)text[i + 1]), lo = -1;

            if (hi >= 0)
                lo = hex_value((unsigned char)text[i + 2]);
            if (hi >= 0 && lo >= 0) {
                c = hi * 16 + lo;
                if (c < 0x20 || c > 0x7e) {
                    say(err, errlen, "escaped byte at offset %zu is not printable ASCII",
                        i);
                    return AMT_ERR_DIR_DN;
                }
                i += 3;
            } else if (text[i + 1] != '\0' && strchr(",+\"\\<>;=# ", text[i + 1])) {
                c = (unsigned char)text[i + 1];
                i += 2;
            } else {
                say(err, errlen, "bad escape at offset %zu", i);
                return AMT_ERR_DIR_DN;
            }
            last_escaped = true;
        } else {
            if (c < 0x20 || c > 0x7e) {
                say(err, errlen, "character at offset %zu is not printable ASCII", i);
                return AMT_ERR_DIR_DN;
            }
            if (c == '+') {
                say(err, errlen, "multi-valued RDN at offset %zu: not supported", i);
                return AMT_ERR_DIR_DN;
            }
            if (strchr(always_escaped, c) != NULL) {
                say(err, errlen, "'%c' at offset %zu must be escaped", c, i);
                return AMT_ERR_DIR_DN;
            }
            if (n == 0 && (c == '#' || c == ' ')) {
                say(err, errlen, "a value may not start with %s (offset %zu)",
                    c == '#' ? "'#'" : "a space", i);
                return AMT_ERR_DIR_DN;
            }
            i++;
            last_escaped = false;
        }
        if (n == DIR_VALUE_MAX) {
            say(err, errlen, "value longer than %d characters at offset %zu",
                DIR_VALUE_MAX, *pos);
            return AMT_ERR_DIR_DN;
        }
        rdn->value[n++] = (char)c;
    }
    if (n == 0) {
        say(err, errlen, "empty value at offset %zu", *pos);
        return AMT_ERR_DIR_DN;
    }
    if (rdn->value[n - 1] == ' ' && !last_escaped) {
        say(err, errlen, "a value may not end with a space (offset %zu)", i - 1);
        return AMT_ERR_DIR_DN;
    }
    rdn->value[n] = '\0';
    *pos = i;
    return 0;
}

int
dir_dn_parse(const char *text, struct dir_dn *out, char *err, size_t errlen)
{
    size_t len, pos = 0;
    int r;

    if (text == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof(*out));
    len = strnlen(text, DIR_DN_MAX + 1);
    if (len == 0) {
        say(err, errlen, "empty distinguished name");
        return AMT_ERR_DIR_DN;
    }
    if (len > DIR_DN_MAX) {
        say(err, errlen, "distinguished name longer than %d characters", DIR_DN_MAX);
        return AMT_ERR_DIR_DN;
    }
    for (;;) {
        struct dir_rdn *rdn;

        if (out->n == DIR_RDN_MAX) {
            say(err, errlen, "more than %d RDNs", DIR_RDN_MAX);
            return AMT_ERR_DIR_DN;
        }
        rdn = &out->rdn[out->n];
        if ((r = parse_type(text, &pos, &rdn->type, err, errlen)) != 0 ||
            (r = parse_value(text, &pos, rdn, err, errlen)) != 0)
            return r;
        if (rdn->type == DIR_RDN_DC && !is_label(rdn->value)) {
            say(err, errlen, "DC=%s is not a DNS label", rdn->value);
            return AMT_ERR_DIR_DN;
        }
        out->n++;
        if (text[pos] == '\0')
            return 0;
        pos++; /* the ',' */
    }
}

/* Text that stops growing at size - 1 or max characters, and says it did. */
struct text_buf {
    char *buf;
    size_t size;
    size_t max;
    size_t len;
    bool full;
};

static void
tb_putc(struct text_buf *tb, char c)
{
    if (tb->len + 1 >= tb->size || tb->len >= tb->max) {
        tb->full = true;
        return;
    }
    tb->buf[tb->len++] = c;
    tb->buf[tb->len] = '\0';
}

static void
tb_puts(struct text_buf *tb, const char *s)
{
    for (; *s != '\0'; s++)
        tb_putc(tb, *s);
}

static void
format_rdns(struct text_buf *tb, const struct dir_rdn *rdns, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *v = rdns[i].value;
        size_t len = strlen(v);

        if (i > 0)
            tb_putc(tb, ',');
        tb_puts(tb, rdn_type_names[rdns[i].type]);
        tb_putc(tb, '=');
        for (size_t j = 0; j < len; j++) {
            char c = v[j];

            if (strchr(always_escaped, c) != NULL || (j == 0 && (c == '#' || c == ' ')) ||
                (j == len - 1 && c == ' '))
                tb_putc(tb, '\\');
            tb_putc(tb, c);
        }
    }
}

int
dir_dn_format(const struct dir_dn *dn, char *buf, size_t size)
{
    struct text_buf tb = {.buf = buf, .size = size, .max = DIR_DN_MAX};

    if (dn == NULL || buf == NULL || size == 0 || dn->n == 0 || dn->n > DIR_RDN_MAX)
        return AMT_ERR_INVALID_ARGUMENT;
    buf[0] = '\0';
    format_rdns(&tb, dn->rdn, dn->n);
    if (tb.full) {
        buf[0] = '\0';
        return AMT_ERR_TOO_LARGE;
    }
    return 0;
}

/*
 * A container path: OU or CN RDNs, then DC RDNs if any. *n_rel is the count of
 * the former.
 */
static int
parse_container(const char *path, struct dir_dn *dn, size_t *n_rel, char *err,
                size_t errlen)
{
    size_t i = 0;
    int r;

    if (path == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = dir_dn_parse(path, dn, err, errlen)) != 0)
        return r;
    while (i < dn->n && dn->rdn[i].type != DIR_RDN_DC)
        i++;
    *n_rel = i;
    if (i == 0) {
        say(err, errlen, "container %s names no OU or CN before its DC part", path);
        return AMT_ERR_DIR_DN;
    }
    for (; i < dn->n; i++) {
        if (dn->rdn[i].type != DIR_RDN_DC) {
            say(err, errlen, "container %s has %s= after a DC=: DC parts come last", path,
                rdn_type_names[dn->rdn[i].type]);
            return AMT_ERR_DIR_DN;
        }
    }
    return 0;
}

int
dir_container_path(const char *path, char *buf, size_t size, char *err, size_t errlen)
{
    struct dir_dn dn;
    size_t n_rel;
    int r;

    if (buf == NULL || size == 0)
        return AMT_ERR_INVALID_ARGUMENT;
    buf[0] = '\0';
    if ((r = parse_container(path, &dn, &n_rel, err, errlen)) != 0)
        return r;
    dn.n = n_rel;
    return dir_dn_format(&dn, buf, size);
}

int
dir_container_dn(const char *path, const char *domain, char *buf, size_t size, char *err,
                 size_t errlen)
{
    struct dir_rdn dcs[DIR_RDN_MAX];
    char d[NS_NAME_MAX + 1];
    struct dir_dn dn;
    size_t n_rel, n = 0;
    int r;

    if (buf == NULL || size == 0)
        return AMT_ERR_INVALID_ARGUMENT;
    buf[0] = '\0';
    if ((r = parse_container(path, &dn, &n_rel, err, errlen)) != 0)
        return r;
    if (canon_domain(domain, d) != 0) {
        say(err, errlen, "\"%.*s\" is not a DNS domain name", NS_NAME_MAX,
            domain != NULL ? domain : "");
        return AMT_ERR_NS_NAME;
    }
    /* the domain's labels, as DC RDNs */
    for (const char *label = d;; label++) {
        size_t len = strcspn(label, ".");

        if (n == DIR_RDN_MAX) {
            say(err, errlen, "domain %s has more than %d labels", d, DIR_RDN_MAX);
            return AMT_ERR_DIR_DN;
        }
        /* a valid DNS name's labels fit: NS_LABEL_MAX < DIR_VALUE_MAX */
        dcs[n].type = DIR_RDN_DC;
        memcpy(dcs[n].value, label, len);
        dcs[n].value[len] = '\0';
        n++;
        label += len;
        if (*label == '\0')
            break;
    }
    if (dn.n > n_rel) {
        bool same = dn.n - n_rel == n;

        for (size_t i = 0; same && i < n; i++)
            same = same_ci(dn.rdn[n_rel + i].value, dcs[i].value);
        if (!same) {
            say(err, errlen, "container %s is not in domain %s", path, domain);
            return AMT_ERR_DIR_DOMAIN;
        }
    }
    if (n_rel + n > DIR_RDN_MAX) {
        say(err, errlen, "container %s under %s has more than %d RDNs", path, domain,
            DIR_RDN_MAX);
        return AMT_ERR_DIR_DN;
    }
    memcpy(&dn.rdn[n_rel], dcs, n * sizeof(dcs[0]));
    dn.n = n_rel + n;
    if ((r = dir_dn_format(&dn, buf, size)) != 0)
        say(err, errlen, "container longer than %d characters under %s: %s", DIR_DN_MAX,
            domain, path);
    return r;
}

/* "CN=pc1," and the container: a host name is a DNS label, which needs no escape. */
static int
account_dn(const char *name, const char *container, char *buf, size_t size)
{
    int n = snprintf(buf, size, "CN=%s,%s", name, container);

    if (n < 0 || (size_t)n >= size || n > DIR_DN_MAX) {
        buf[0] = '\0';
        return AMT_ERR_TOO_LARGE;
    }
    return 0;
}

int
dir_spn_set(const char *host, const char *domain,
            char spns[DIR_SPN_COUNT][DIR_SPN_MAX + 1])
{
    char h[NS_LABEL_MAX + 1], d[NS_NAME_MAX + 1], fqdn[NS_NAME_MAX + 1];
    size_t hn, dn;

    if (spns == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (canon_host(host, h) != 0 || canon_domain(domain, d) != 0)
        return AMT_ERR_NS_NAME;
    hn = strlen(h);
    dn = strlen(d);
    if (hn + 1 + dn > NS_NAME_MAX)
        return AMT_ERR_NS_NAME;
    memcpy(fqdn, h, hn);
    fqdn[hn] = '.';
    memcpy(fqdn + hn + 1, d, dn + 1);
    snprintf(spns[0], DIR_SPN_MAX + 1, "HTTP/%s:16992", fqdn);
    snprintf(spns[1], DIR_SPN_MAX + 1, "HTTP/%s:16993", fqdn);
    snprintf(spns[2], DIR_SPN_MAX + 1, "HTTP/%s:16992", h);
    snprintf(spns[3], DIR_SPN_MAX + 1, "HTTP/%s:16993", h);
    return 0;
}

/* ---- handles ---- */

int
dir_new(const struct dir_ops *ops, void *ctx, struct dir **out)
{
    struct dir *dir;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (ops == NULL || ops->container_exists == NULL || ops->find_account == NULL ||
        ops->find_account_by_name == NULL || ops->create_computer_account == NULL ||
        ops->set_spns == NULL || ops->delete_account == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((dir = calloc(1, sizeof(*dir))) == NULL)
        return AMT_ERR_ALLOC;
    dir->ops = ops;
    dir->ctx = ctx;
    *out = dir;
    return 0;
}

void
dir_free(struct dir *dir)
{
    if (dir == NULL)
        return;
    if (dir->ops->free != NULL)
        dir->ops->free(dir->ctx);
    free(dir);
}

/* ---- checks and provisioning ---- */

static int
container_exists(struct dir *dir, const char *dn, bool *exists, char *err, size_t errlen)
{
    int r;

    *exists = false;
    if ((r = dir->ops->container_exists(dir->ctx, dn, exists, err, errlen)) != 0 &&
        err != NULL && errlen > 0 && err[0] == '\0')
        say(err, errlen, "cannot look up %s: %s", dn, amt_strerror(r));
    return r;
}

int
dir_check_container(struct dir *dir, const char *path, const char *domain, char *err,
                    size_t errlen)
{
    char dn[DIR_DN_MAX + 1];
    bool exists;
    int r;

    clear_err(err, errlen);
    if (dir == NULL || path == NULL || domain == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = dir_container_dn(path, domain, dn, sizeof(dn), err, errlen)) != 0 ||
        (r = container_exists(dir, dn, &exists, err, errlen)) != 0)
        return r;
    if (!exists) {
        say(err, errlen, "%s does not exist in the directory", dn);
        return AMT_ERR_DIR_NO_CONTAINER;
    }
    return 0;
}

int
dir_check_containers(struct dir *dir, const char *path, const char *const *domains,
                     size_t n, char *err, size_t errlen)
{
    char dn[DIR_DN_MAX + 1];
    struct text_buf missing = {.buf = err, .size = errlen, .max = SIZE_MAX};
    size_t n_missing = 0;
    bool exists;
    int r;

    clear_err(err, errlen);
    if (dir == NULL || path == NULL || (domains == NULL && n > 0))
        return AMT_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++) {
        if ((r = dir_container_dn(path, domains[i], dn, sizeof(dn), err, errlen)) != 0 ||
            (r = container_exists(dir, dn, &exists, err, errlen)) != 0)
            return r;
        if (exists)
            continue;
        if (err != NULL && errlen > 0) {
            if (n_missing > 0)
                tb_puts(&missing, "; ");
            tb_puts(&missing, dn);
        }
        n_missing++;
    }
    if (n_missing == 0)
        return 0;
    if (err != NULL && errlen > 0)
        tb_puts(&missing, n_missing == 1 ? " does not exist in the directory"
                                         : " do not exist in the directory");
    return AMT_ERR_DIR_NO_CONTAINER;
}

int
dir_create_container(struct dir *dir, const char *path, const char *domain, char *err,
                     size_t errlen)
{
    char dn[DIR_DN_MAX + 1];
    int r;

    clear_err(err, errlen);
    if (dir == NULL || path == NULL || domain == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (dir->ops->create_container == NULL) {
        say(err, errlen, "this directory does not let the site create containers");
        return AMT_ERR_INVALID_ARGUMENT;
    }
    if ((r = dir_container_dn(path, domain, dn, sizeof(dn), err, errlen)) != 0)
        return r;
    return dir->ops->create_container(dir->ctx, dn, err, errlen);
}

static int
canon_uuid(const char *in, char out[UUID_TEXT_SIZE], char *err, size_t errlen)
{
    struct amt_uuid u;

    if (in == NULL || uuid_parse(in, &u) != 0) {
        say(err, errlen,
            "device UUID is not of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
        return AMT_ERR_UUID_FORMAT;
    }
    uuid_format(&u, out);
    return 0;
}

int
dir_provision_computer(struct dir *dir, const char *host, const char *domain,
                       const char *path, const char *uuid, struct dir_account *out,
                       char *err, size_t errlen)
{
    char h[NS_LABEL_MAX + 1], d[NS_NAME_MAX + 1], key[UUID_TEXT_SIZE];
    char container[DIR_DN_MAX + 1], dn[DIR_DN_MAX + 1];
    char spns[DIR_SPN_COUNT][DIR_SPN_MAX + 1];
    const char *spn_list[DIR_SPN_COUNT];
    struct dir_account *cur = NULL;
    bool exists;
    int r = AMT_ERR_INTERNAL;

    clear_err(err, errlen);
    if (dir == NULL || host == NULL || domain == NULL || path == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = canon_uuid(uuid, key, err, errlen)) != 0)
        return r;
    if (canon_host(host, h) != 0) {
        say(err, errlen, "host name \"%.*s\" is not one DNS label", NS_LABEL_MAX, host);
        return AMT_ERR_NS_NAME;
    }
    if (canon_domain(domain, d) != 0) {
        say(err, errlen, "\"%.*s\" is not a DNS domain name", NS_NAME_MAX, domain);
        return AMT_ERR_NS_NAME;
    }
    if ((r = dir_container_dn(path, d, container, sizeof(container), err, errlen)) != 0)
        return r;
    if ((r = account_dn(h, container, dn, sizeof(dn))) != 0) {
        say(err, errlen, "account name longer than %d characters: CN=%s,%s", DIR_DN_MAX,
            h, container);
        return AMT_ERR_DIR_DN;
    }
    if ((cur = malloc(sizeof(*cur))) == NULL)
        return AMT_ERR_ALLOC;

    /* DIR-OU: the site publishes computers, it does not make the container */
    if ((r = container_exists(dir, container, &exists, err, errlen)) != 0)
        goto out;
    if (!exists) {
        say(err, errlen, "%s does not exist in the directory", container);
        r = AMT_ERR_DIR_NO_CONTAINER;
        goto out;
    }
    r = dir->ops->find_account_by_name(dir->ctx, h, d, cur, err, errlen);
    if (r == 0 && strcmp(cur->uuid, key) != 0) {
        if (cur->uuid[0] != '\0')
            say(err, errlen, "%s already belongs to device %s", cur->dn, cur->uuid);
        else
            say(err, errlen, "%s already exists and belongs to no AMT device", cur->dn);
        r = AMT_ERR_DIR_NAME_TAKEN;
        goto out;
    }
    if (r != 0 && r != AMT_ERR_NOT_FOUND)
        goto out;
    clear_err(err, errlen);
    if ((r = dir->ops->create_computer_account(dir->ctx, h, d, container, key, err,
                                               errlen)) != 0) {
        if (err != NULL && errlen > 0 && err[0] == '\0')
            say(err, errlen, "cannot create %s: %s", dn, amt_strerror(r));
        goto out;
    }
    if ((r = dir_spn_set(h, d, spns)) != 0)
        goto out;
    for (size_t i = 0; i < DIR_SPN_COUNT; i++)
        spn_list[i] = spns[i];
    if ((r = dir->ops->set_spns(dir->ctx, dn, spn_list, DIR_SPN_COUNT, err, errlen)) !=
        0) {
        if (err != NULL && errlen > 0 && err[0] == '\0')
            say(err, errlen, "cannot set the SPNs of %s: %s", dn, amt_strerror(r));
        goto out;
    }
    if (out != NULL && (r = dir->ops->find_account(dir->ctx, key, out, err, errlen)) != 0)
        goto out;
    r = 0;
out:
    free(cur);
    return r;
}

int
dir_find_computer(struct dir *dir, const char *uuid, struct dir_account *out, char *err,
                  size_t errlen)
{
    char key[UUID_TEXT_SIZE];
    int r;

    clear_err(err, errlen);
    if (dir == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = canon_uuid(uuid, key, err, errlen)) != 0)
        return r;
    return dir->ops->find_account(dir->ctx, key, out, err, errlen);
}

int
dir_remove_computer(struct dir *dir, const char *uuid, char *err, size_t errlen)
{
    struct dir_account *cur;
    int r;

    clear_err(err, errlen);
    if (dir == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((cur = malloc(sizeof(*cur))) == NULL)
        return AMT_ERR_ALLOC;
    if ((r = dir_find_computer(dir, uuid, cur, err, errlen)) == 0)
        r = dir->ops->delete_account(dir->ctx, cur->dn, err, errlen);
    free(cur);
    return r;
}

/* ---- the embedded store ---- */

static int
emb_container_exists(void *ctx, const char *dn, bool *exists, char *err, size_t errlen)
{
    return site_db_dir_container_exists(ctx, dn, exists);
}

static int
emb_create_container(void *ctx, const char *dn, char *err, size_t errlen)
{
    return site_db_dir_container_add(ctx, dn);
}

static int
emb_find_account(void *ctx, const char *uuid, struct dir_account *out, char *err,
                 size_t errlen)
{
    return site_db_dir_account_by_uuid(ctx, uuid, out);
}

static int
emb_find_account_by_name(void *ctx, const char *name, const char *domain,
                         struct dir_account *out, char *err, size_t errlen)
{
    return site_db_dir_account_by_name(ctx, name, domain, out);
}

static int
emb_create_computer_account(void *ctx, const char *name, const char *domain,
                            const char *container, const char *uuid, char *err,
                            size_t errlen)
{
    char dn[DIR_DN_MAX + 1];
    int r;

    if ((r = account_dn(name, container, dn, sizeof(dn))) != 0)
        return r;
    r = site_db_dir_account_put(ctx, dn, name, domain, container, uuid);
    if (r == AMT_ERR_DIR_NAME_TAKEN)
        say(err, errlen, "%s belongs to another account", dn);
    else if (r == AMT_ERR_DIR_NO_CONTAINER)
        say(err, errlen, "%s does not exist in the directory", container);
    return r;
}

static int
emb_set_spns(void *ctx, const char *account_dn, const char *const *spns, size_t n,
             char *err, size_t errlen)
{
    return site_db_dir_spns_set(ctx, account_dn, spns, n, err, errlen);
}

static int
emb_delete_account(void *ctx, const char *account_dn, char *err, size_t errlen)
{
    return site_db_dir_account_delete(ctx, account_dn);
}

static const struct dir_ops embedded_ops = {
    .container_exists = emb_container_exists,
    .create_container = emb_create_container,
    .find_account = emb_find_account,
    .find_account_by_name = emb_find_account_by_name,
    .create_computer_account = emb_create_computer_account,
    .set_spns = emb_set_spns,
    .delete_account = emb_delete_account,
};

int
dir_new_embedded(struct site_db *db, struct dir **out)
{
    if (db == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    return dir_new(&embedded_ops, db, out);
}
