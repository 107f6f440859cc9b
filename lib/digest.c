#include "digest.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "err.h"

#define LEGACY_REALM_PREFIX "Intel(R) AMT (ID:"
#define HEX_REALM_PREFIX "Digest:"
#define UUID_TEXT_LEN 36

_Static_assert(sizeof(LEGACY_REALM_PREFIX) - 1 + UUID_TEXT_LEN + 1 + 1 ==
                   DIGEST_AMT_REALM_SIZE,
               "DIGEST_AMT_REALM_SIZE is the size of the longer, legacy, form");

/* Where a known parameter's value goes: an offset into the parser's result. */
struct param_slot {
    const char *name;
    size_t offset;
    size_t size;
};

#define SLOT(type, text, member)                                                         \
    {                                                                                    \
        text, offsetof(type, member), sizeof(((type *)0)->member)                        \
    }

/* The challenge plus the raw values that are interpreted after parsing. */
struct challenge_scratch {
    struct digest_challenge c;
    char qop[DIGEST_QOP_LIST_MAX + 1];
    char stale[DIGEST_STALE_MAX + 1];
};

enum {
    CH_REALM,
    CH_NONCE,
    CH_OPAQUE,
    CH_ALGORITHM,
    CH_DOMAIN,
    CH_QOP,
    CH_STALE,
};

static const struct param_slot challenge_slots[] = {
    [CH_REALM] = SLOT(struct challenge_scratch, "realm", c.realm),
    [CH_NONCE] = SLOT(struct challenge_scratch, "nonce", c.nonce),
    [CH_OPAQUE] = SLOT(struct challenge_scratch, "opaque", c.opaque),
    [CH_ALGORITHM] = SLOT(struct challenge_scratch, "algorithm", c.algorithm),
    [CH_DOMAIN] = SLOT(struct challenge_scratch, "domain", c.domain),
    [CH_QOP] = SLOT(struct challenge_scratch, "qop", qop),
    [CH_STALE] = SLOT(struct challenge_scratch, "stale", stale),
};

enum {
    AU_USERNAME,
    AU_REALM,
    AU_NONCE,
    AU_URI,
    AU_RESPONSE,
    AU_CNONCE,
    AU_NC,
    AU_QOP,
    AU_OPAQUE,
    AU_ALGORITHM,
};

static const struct param_slot authorization_slots[] = {
    [AU_USERNAME] = SLOT(struct digest_authorization, "username", username),
    [AU_REALM] = SLOT(struct digest_authorization, "realm", realm),
    [AU_NONCE] = SLOT(struct digest_authorization, "nonce", nonce),
    [AU_URI] = SLOT(struct digest_authorization, "uri", uri),
    [AU_RESPONSE] = SLOT(struct digest_authorization, "response", response),
    [AU_CNONCE] = SLOT(struct digest_authorization, "cnonce", cnonce),
    [AU_NC] = SLOT(struct digest_authorization, "nc", nc),
    [AU_QOP] = SLOT(struct digest_authorization, "qop", qop),
    [AU_OPAQUE] = SLOT(struct digest_authorization, "opaque", opaque),
    [AU_ALGORITHM] = SLOT(struct digest_authorization, "algorithm", algorithm),
};

#define BIT(i) (1u << (i))
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(COUNT(authorization_slots) <= 32 && COUNT(challenge_slots) <= 32,
               "one bit per known parameter in an unsigned");

/* Header syntax is ASCII: a locale must not change what matches. */
static int
ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool
same_span(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
            return false;
    return true;
}

/* The n characters at a against the whole string b, ignoring case. */
static bool
same_text(const char *a, size_t n, const char *b)
{
    return strnlen(b, n + 1) == n && same_span(a, b, n);
}

static bool
is_ws(int c)
{
    return c == ' ' || c == '\t';
}

/* RFC 7230 tchar. */
static bool
is_tchar(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* What may stand inside a quoted string, escaped or not: HTAB, SP, VCHAR, obs-text. */
static bool
is_qchar(int c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static const char *
skip_ws(const char *p)
{
    while (is_ws((unsigned char)*p))
        p++;
    return p;
}

/*
 * Reads a token or a quoted string at *pp, unescaped into dst (size bytes with the
 * NUL), or only checks it when dst is NULL. Example inputs: MD5  "auth-int, auth"
 * "a \"quoted\" realm".
 */
static int
read_value(const char **pp, char *dst, size_t size)
{
    const char *p = *pp;
    size_t n = 0, cap = dst != NULL ? size - 1 : DIGEST_OTHER_MAX;

    if (*p == '"') {
        for (p++; *p != '"'; p++) {
            int c = (unsigned char)*p;

            if (c == '\\')
                c = (unsigned char)*++p;
            if (!is_qchar(c))
                return AMT_ERR_DIGEST_SYNTAX;
            if (n == cap)
                return AMT_ERR_DIGEST_FIELD_TOO_LONG;
            if (dst != NULL)
                dst[n] = (char)c;
            n++;
        }
        p++;
    } else {
        for (; is_tchar((unsigned char)*p); p++) {
            if (n == cap)
                return AMT_ERR_DIGEST_FIELD_TOO_LONG;
            if (dst != NULL)
                dst[n] = *p;
            n++;
        }
        if (n == 0)
            return AMT_ERR_DIGEST_SYNTAX;
    }
    if (dst != NULL)
        dst[n] = '\0';
    *pp = p;
    return 0;
}

// clang-format off
/*
 * Reads "Digest" and its comma-separated name=value parameters into out, one slot per
 * known name, and says in *seen which slots were filled. Example input (AMT 16.1):
 *
 *   Digest realm="Digest:4D1B31F6DF34A2C7B6D8E9A2C3D4E5F6", nonce="abc",stale="false",qop="auth-int, auth"
 */
// clang-format on
static int
parse_params(const char *header, const struct param_slot *slots, size_t n_slots,
             void *out, unsigned *seen)
{
    struct {
        const char *p;
        size_t n;
    } names[DIGEST_PARAMS_MAX];
    size_t count = 0;
    const char *p, *start;

    *seen = 0;
    if (strnlen(header, DIGEST_HEADER_MAX + 1) > DIGEST_HEADER_MAX)
        return AMT_ERR_TOO_LARGE;
    start = p = skip_ws(header);
    while (is_tchar((unsigned char)*p))
        p++;
    if (p == start)
        return AMT_ERR_DIGEST_SYNTAX;
    if (!same_text(start, (size_t)(p - start), "digest"))
        return AMT_ERR_DIGEST_NOT_DIGEST;
    if (*p != '\0' && !is_ws((unsigned char)*p))
        return AMT_ERR_DIGEST_SYNTAX;

    for (;;) {
        const struct param_slot *slot = NULL;
        size_t n;
        int r;

        p = skip_ws(p);
        /* RFC 7230 section 7: empty list elements are to be ignored. */
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '\0')
            break;
        for (start = p; is_tchar((unsigned char)*p); p++)
            ;
        if ((n = (size_t)(p - start)) == 0)
            return AMT_ERR_DIGEST_SYNTAX;
        p = skip_ws(p);
        if (*p++ != '=')
            return AMT_ERR_DIGEST_SYNTAX;
        p = skip_ws(p);
        if (count == DIGEST_PARAMS_MAX)
            return AMT_ERR_TOO_LARGE;
        for (size_t i = 0; i < count; i++)
            if (names[i].n == n && same_span(names[i].p, start, n))
                return AMT_ERR_DIGEST_SYNTAX;
        names[count].p = start;
        names[count].n = n;
        count++;
        for (size_t i = 0; i < n_slots && slot == NULL; i++)
            if (same_text(start, n, slots[i].name)) {
                slot = &slots[i];
                *seen |= BIT(i);
            }
        r = slot != NULL ? read_value(&p, (char *)out + slot->offset, slot->size)
                         : read_value(&p, NULL, 0);
        if (r != 0)
            return r;
        p = skip_ws(p);
        if (*p != ',' && *p != '\0')
            return AMT_ERR_DIGEST_SYNTAX;
    }
    return 0;
}

/* A challenge's qop list, e.g. "auth-int, auth": tokens, commas, optional spaces. */
static int
parse_qop_list(const char *list, unsigned *flags)
{
    const char *p = list, *start;

    *flags = 0;
    for (;;) {
        p = skip_ws(p);
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '\0')
            return 0;
        for (start = p; is_tchar((unsigned char)*p); p++)
            ;
        if (p == start)
            return AMT_ERR_DIGEST_SYNTAX;
        if (same_text(start, (size_t)(p - start), "auth"))
            *flags |= DIGEST_QOP_AUTH;
        else if (same_text(start, (size_t)(p - start), "auth-int"))
            *flags |= DIGEST_QOP_AUTH_INT;
        p = skip_ws(p);
        if (*p != ',' && *p != '\0')
            return AMT_ERR_DIGEST_SYNTAX;
    }
}

int
digest_parse_challenge(const char *header, struct digest_challenge *out)
{
    struct challenge_scratch s;
    unsigned seen = 0;
    int r = AMT_ERR_INTERNAL;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (header == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(&s, 0, sizeof(s));
    if ((r = parse_params(header, challenge_slots, COUNT(challenge_slots), &s, &seen)) !=
        0)
        goto out;
    if (s.c.realm[0] == '\0' || s.c.nonce[0] == '\0') {
        r = AMT_ERR_DIGEST_MISSING;
        goto out;
    }
    if (seen & BIT(CH_STALE)) {
        if (same_text(s.stale, strlen(s.stale), "true"))
            s.c.stale = true;
        else if (!same_text(s.stale, strlen(s.stale), "false")) {
            r = AMT_ERR_DIGEST_SYNTAX;
            goto out;
        }
    }
    if (seen & BIT(CH_QOP)) {
        s.c.has_qop = true;
        if ((r = parse_qop_list(s.qop, &s.c.qop)) != 0)
            goto out;
    }
    s.c.has_opaque = (seen & BIT(CH_OPAQUE)) != 0;
    *out = s.c;
    r = 0;
out:
    return r;
}

int
digest_parse_authorization(const char *header, struct digest_authorization *out)
{
    const unsigned required =
        BIT(AU_USERNAME) | BIT(AU_REALM) | BIT(AU_NONCE) | BIT(AU_URI) | BIT(AU_RESPONSE);
    struct digest_authorization a;
    unsigned seen = 0;
    int r = AMT_ERR_INTERNAL;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (header == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(&a, 0, sizeof(a));
    if ((r = parse_params(header, authorization_slots, COUNT(authorization_slots), &a,
                          &seen)) != 0)
        goto out;
    if ((seen & required) != required) {
        r = AMT_ERR_DIGEST_MISSING;
        goto out;
    }
    a.has_opaque = (seen & BIT(AU_OPAQUE)) != 0;
    *out = a;
    r = 0;
out:
    return r;
}

/* Appends to a caller's buffer; the first failure sticks and later appends do nothing. */
struct writer {
    char *buf;
    size_t size;
    size_t len;
    int err;
};

static void
put(struct writer *w, const char *s, size_t n)
{
    if (w->err != 0)
        return;
    if (w->size - w->len <= n) {
        w->err = AMT_ERR_TOO_LARGE;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void
put_text(struct writer *w, const char *s)
{
    put(w, s, strlen(s));
}

/*
 * Length of a field held in a fixed buffer, or refusal when it has no NUL or holds a
 * character that would end the header line early (CR, LF: header injection).
 */
static bool
field_len(const char *s, size_t size, size_t *len)
{
    size_t n = strnlen(s, size);

    if (n == size)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_qchar((unsigned char)s[i]))
            return false;
    *len = n;
    return true;
}

static void
put_quoted(struct writer *w, const char *s, size_t size)
{
    size_t n;

    if (!field_len(s, size, &n)) {
        if (w->err == 0)
            w->err = AMT_ERR_INVALID_ARGUMENT;
        return;
    }
    put(w, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            put(w, "\\", 1);
        put(w, s + i, 1);
    }
    put(w, "\"", 1);
}

/* RFC 2617 writes qop, nc and algorithm as bare tokens; quote only what is not one. */
static void
put_token(struct writer *w, const char *s, size_t size)
{
    size_t n;
    bool token;

    if (!field_len(s, size, &n)) {
        put_quoted(w, s, size);
        return;
    }
    token = n > 0;
    for (size_t i = 0; i < n; i++)
        token = token && is_tchar((unsigned char)s[i]);
    if (token)
        put(w, s, n);
    else
        put_quoted(w, s, size);
}

static int
writer_end(struct writer *w)
{
    if (w->err != 0 && w->size > 0)
        w->buf[0] = '\0';
    return w->err;
}

#define FIELD(x) (x), sizeof(x)

int
digest_format_challenge(const struct digest_challenge *c, char *buf, size_t size)
{
    struct writer w = {buf, size, 0, 0};
    static const char *const qop_lists[] = {
        "", "auth", "auth-int", "auth-int, auth", /* indexed by the flags */
    };

    if (c == NULL || buf == NULL || size == 0)
        return AMT_ERR_INVALID_ARGUMENT;
    buf[0] = '\0';
    put_text(&w, "Digest realm=");
    put_quoted(&w, FIELD(c->realm));
    put_text(&w, ", nonce=");
    put_quoted(&w, FIELD(c->nonce));
    put_text(&w, c->stale ? ",stale=\"true\"" : ",stale=\"false\"");
    if (c->has_qop) {
        const char *list = qop_lists[c->qop & (DIGEST_QOP_AUTH | DIGEST_QOP_AUTH_INT)];

        put_text(&w, ",qop=");
        put_quoted(&w, list, strlen(list) + 1);
    }
    if (c->has_opaque) {
        put_text(&w, ", opaque=");
        put_quoted(&w, FIELD(c->opaque));
    }
    if (c->algorithm[0] != '\0') {
        put_text(&w, ", algorithm=");
        put_token(&w, FIELD(c->algorithm));
    }
    if (c->domain[0] != '\0') {
        put_text(&w, ", domain=");
        put_quoted(&w, FIELD(c->domain));
    }
    return writer_end(&w);
}

int
digest_format_authorization(const struct digest_authorization *a, char *buf, size_t size)
{
    struct writer w = {buf, size, 0, 0};

    if (a == NULL || buf == NULL || size == 0)
        return AMT_ERR_INVALID_ARGUMENT;
    buf[0] = '\0';
    put_text(&w, "Digest username=");
    put_quoted(&w, FIELD(a->username));
    put_text(&w, ", realm=");
    put_quoted(&w, FIELD(a->realm));
    put_text(&w, ", nonce=");
    put_quoted(&w, FIELD(a->nonce));
    put_text(&w, ", uri=");
    put_quoted(&w, FIELD(a->uri));
    put_text(&w, ", response=");
    put_quoted(&w, FIELD(a->response));
    if (a->algorithm[0] != '\0') {
        put_text(&w, ", algorithm=");
        put_token(&w, FIELD(a->algorithm));
    }
    if (a->qop[0] != '\0') {
        put_text(&w, ", qop=");
        put_token(&w, FIELD(a->qop));
    }
    if (a->nc[0] != '\0') {
        put_text(&w, ", nc=");
        put_token(&w, FIELD(a->nc));
    }
    if (a->cnonce[0] != '\0') {
        put_text(&w, ", cnonce=");
        put_quoted(&w, FIELD(a->cnonce));
    }
    if (a->has_opaque) {
        put_text(&w, ", opaque=");
        put_quoted(&w, FIELD(a->opaque));
    }
    return writer_end(&w);
}

static void
to_hex(const unsigned char *bytes, size_t n, const char *digits, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

/*
 * MD5 of the parts joined by ':', in lower-case hex. Fed piece by piece so that the
 * password is never copied into a joined buffer that would need wiping.
 */
static int
md5_hex(const char *const *parts, size_t n_parts, char out[DIGEST_MD5_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx = NULL;
    int r = AMT_ERR_INTERNAL;

    if ((ctx = EVP_MD_CTX_new()) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1) {
        r = AMT_ERR_CRYPTO;
        goto out;
    }
    for (size_t i = 0; i < n_parts; i++)
        if ((i > 0 && EVP_DigestUpdate(ctx, ":", 1) != 1) ||
            EVP_DigestUpdate(ctx, parts[i], strlen(parts[i])) != 1) {
            r = AMT_ERR_CRYPTO;
            goto out;
        }
    if (EVP_DigestFinal_ex(ctx, md, &md_len) != 1 || md_len * 2 != DIGEST_MD5_HEX_LEN) {
        r = AMT_ERR_CRYPTO;
        goto out;
    }
    to_hex(md, md_len, "0123456789abcdef", out);
    r = 0;
out:
    OPENSSL_cleanse(md, sizeof(md));
    EVP_MD_CTX_free(ctx);
    return r;
}

int
digest_compute_response(const struct digest_input *in, char *out, size_t size)
{
    char ha1[DIGEST_MD5_HEX_LEN + 1] = "", ha2[DIGEST_MD5_HEX_LEN + 1] = "";
    int r = AMT_ERR_INTERNAL;

    if (in == NULL || out == NULL || in->username == NULL || in->realm == NULL ||
        in->password == NULL || in->method == NULL || in->uri == NULL ||
        in->nonce == NULL || in->nc == NULL || in->cnonce == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (size < DIGEST_MD5_HEX_LEN + 1)
        return AMT_ERR_TOO_LARGE;
    {
        const char *a1[] = {in->username, in->realm, in->password};
        const char *a2[] = {in->method, in->uri};

        if ((r = md5_hex(a1, COUNT(a1), ha1)) != 0 ||
            (r = md5_hex(a2, COUNT(a2), ha2)) != 0)
            goto out;
    }
    {
        const char *resp[] = {ha1, in->nonce, in->nc, in->cnonce, "auth", ha2};

        if ((r = md5_hex(resp, COUNT(resp), out)) != 0)
            goto out;
    }
    r = 0;
out:
    /* HA1 stands in for the password: anyone holding it can answer any challenge. */
    OPENSSL_cleanse(ha1, sizeof(ha1));
    return r;
}

int
digest_make_cnonce(char *out, size_t size)
{
    unsigned char bytes[DIGEST_MD5_HEX_LEN / 2];

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (size < 2 * sizeof(bytes) + 1)
        return AMT_ERR_TOO_LARGE;
    if (RAND_bytes(bytes, (int)sizeof(bytes)) != 1)
        return AMT_ERR_CRYPTO;
    to_hex(bytes, sizeof(bytes), "0123456789abcdef", out);
    return 0;
}

bool
digest_response_equal(const char *received, const char *expected)
{
    size_t n;

    if (received == NULL || expected == NULL)
        return false;
    n = strlen(expected);
    /* The length of a right response is public; its content is what must not leak. */
    return strlen(received) == n && CRYPTO_memcmp(received, expected, n) == 0;
}

static const char *const suspicion_names[] = {
    [DIGEST_SUSPICION_NONE] = "none",
    [DIGEST_SUSPICION_EMPTY] = "empty-response",
    [DIGEST_SUSPICION_PREFIX] = "prefix-response",
};

const char *
digest_suspicion_name(int suspicion)
{
    if (suspicion < 0 || (size_t)suspicion >= COUNT(suspicion_names))
        return "unknown";
    return suspicion_names[suspicion];
}

/*
 * Vulnerable firmware compared only as many characters as the client sent, so ""
 * and any prefix of the right answer passed. The prefix test is constant time too:
 * it runs on every refused response, and how long it took would otherwise tell an
 * attacker how much of the right answer he has.
 */
enum digest_suspicion
digest_response_suspicion(const char *received, const char *expected)
{
    size_t n;

    if (received == NULL || expected == NULL)
        return DIGEST_SUSPICION_NONE;
    if (received[0] == '\0')
        return DIGEST_SUSPICION_EMPTY;
    n = strlen(received);
    if (n < strlen(expected) && CRYPTO_memcmp(received, expected, n) == 0)
        return DIGEST_SUSPICION_PREFIX;
    return DIGEST_SUSPICION_NONE;
}

int
digest_check(const struct digest_authorization *auth, const char *realm,
             const char *password, const char *method, enum digest_suspicion *suspicion)
{
    char expected[DIGEST_MD5_HEX_LEN + 1] = "";
    struct digest_input in;
    int r = AMT_ERR_INTERNAL;

    if (suspicion != NULL)
        *suspicion = DIGEST_SUSPICION_NONE;
    if (auth == NULL || realm == NULL || password == NULL || method == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    /* Recorded whatever else is wrong: an empty response is an attack in any header. */
    if (auth->response[0] == '\0' && suspicion != NULL)
        *suspicion = DIGEST_SUSPICION_EMPTY;
    if ((auth->algorithm[0] != '\0' &&
         !same_text(auth->algorithm, strlen(auth->algorithm), "md5")) ||
        strcmp(auth->qop, "auth") != 0) {
        r = AMT_ERR_DIGEST_UNSUPPORTED;
        goto out;
    }
    if (auth->nc[0] == '\0' || auth->cnonce[0] == '\0') {
        r = AMT_ERR_DIGEST_MISSING;
        goto out;
    }
    in = (struct digest_input){
        .username = auth->username,
        .realm = auth->realm,
        .password = password,
        .method = method,
        .uri = auth->uri,
        .nonce = auth->nonce,
        .nc = auth->nc,
        .cnonce = auth->cnonce,
    };
    if ((r = digest_compute_response(&in, expected, sizeof(expected))) != 0)
        goto out;
    if (suspicion != NULL)
        *suspicion = digest_response_suspicion(auth->response, expected);
    r = strcmp(auth->realm, realm) == 0 && digest_response_equal(auth->response, expected)
            ? 0
            : AMT_ERR_DIGEST_MISMATCH;
out:
    OPENSSL_cleanse(expected, sizeof(expected));
    return r;
}

static const char *const realm_kind_names[] = {
    [DIGEST_REALM_NOT_AMT] = "not-amt",
    [DIGEST_REALM_LEGACY] = "legacy",
    [DIGEST_REALM_DIGEST_HEX] = "digest-hex",
};

const char *
digest_realm_kind_name(int kind)
{
    if (kind < 0 || (size_t)kind >= COUNT(realm_kind_names))
        return "unknown";
    return realm_kind_names[kind];
}

static bool
is_hex(int c, bool upper_only)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') ||
           (!upper_only && c >= 'a' && c <= 'f');
}

/* 8-4-4-4-12 hex digits; what follows the 36 characters is the caller's business. */
static bool
is_uuid_text(const char *s, bool upper_only)
{
    for (size_t i = 0; i < UUID_TEXT_LEN; i++) {
        bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;

        if (hyphen ? s[i] != '-' : !is_hex((unsigned char)s[i], upper_only))
            return false;
    }
    return true;
}

enum digest_realm_kind
digest_realm_kind(const char *realm)
{
    size_t legacy = sizeof(LEGACY_REALM_PREFIX) - 1, hex = sizeof(HEX_REALM_PREFIX) - 1;

    if (realm == NULL)
        return DIGEST_REALM_NOT_AMT;
    if (strncmp(realm, HEX_REALM_PREFIX, hex) == 0) {
        realm += hex;
        for (size_t i = 0; i < DIGEST_MD5_HEX_LEN; i++)
            if (!is_hex((unsigned char)realm[i], true))
                return DIGEST_REALM_NOT_AMT;
        return realm[DIGEST_MD5_HEX_LEN] == '\0' ? DIGEST_REALM_DIGEST_HEX
                                                 : DIGEST_REALM_NOT_AMT;
    }
    if (strncmp(realm, LEGACY_REALM_PREFIX, legacy) == 0) {
        realm += legacy;
        /* is_uuid_text stops at the first wrong character, so a short string is safe. */
        if (is_uuid_text(realm, true) && strcmp(realm + UUID_TEXT_LEN, ")") == 0)
            return DIGEST_REALM_LEGACY;
    }
    return DIGEST_REALM_NOT_AMT;
}

int
digest_realm_legacy(const char *uuid, char *buf, size_t size)
{
    char upper[UUID_TEXT_LEN + 1];

    if (uuid == NULL || buf == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (!is_uuid_text(uuid, false) || uuid[UUID_TEXT_LEN] != '\0')
        return AMT_ERR_UUID_FORMAT;
    if (size < DIGEST_AMT_REALM_SIZE)
        return AMT_ERR_TOO_LARGE;
    for (size_t i = 0; i <= UUID_TEXT_LEN; i++)
        upper[i] =
            (char)(uuid[i] >= 'a' && uuid[i] <= 'f' ? uuid[i] - 'a' + 'A' : uuid[i]);
    snprintf(buf, size, "%s%s)", LEGACY_REALM_PREFIX, upper);
    return 0;
}

int
digest_realm_hex(const unsigned char id[16], char *buf, size_t size)
{
    size_t prefix = sizeof(HEX_REALM_PREFIX) - 1;

    if (id == NULL || buf == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (size < prefix + DIGEST_MD5_HEX_LEN + 1)
        return AMT_ERR_TOO_LARGE;
    memcpy(buf, HEX_REALM_PREFIX, prefix);
    to_hex(id, 16, "0123456789ABCDEF", buf + prefix);
    return 0;
}
