#include "thumbprint.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "err.h"

size_t
thumbprint_hash_len(int type)
{
    switch (type) {
    case AMT_HASH_SHA1:
        return 20;
    case AMT_HASH_SHA256:
        return 32;
    case AMT_HASH_SHA384:
        return 48;
    default:
        return 0;
    }
}

const char *
thumbprint_type_name(int type)
{
    switch (type) {
    case AMT_HASH_SHA1:
        return "sha1";
    case AMT_HASH_SHA256:
        return "sha256";
    case AMT_HASH_SHA384:
        return "sha384";
    default:
        return NULL;
    }
}

static int
hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Examples: "sha1:5D2F...", "sha256:ab:cd:...", "0123...89" (type from length). */
int
thumbprint_parse(const char *text, struct amt_thumbprint *out)
{
    struct amt_thumbprint tp;
    int type = 0;
    size_t n = 0;
    const char *p;

    if (text == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(&tp, 0, sizeof(tp));
    for (int t = AMT_HASH_SHA1; t <= AMT_HASH_SHA384; t++) {
        const char *name = thumbprint_type_name(t);
        size_t len = strlen(name);

        if (strncasecmp(text, name, len) == 0 && text[len] == ':') {
            type = t;
            text += len + 1;
            break;
        }
    }
    for (p = text; *p != '\0';) {
        int hi, lo;

        if (*p == ':' && p != text) {
            p++;
            continue;
        }
        if ((hi = hex_value((unsigned char)p[0])) < 0 ||
            (lo = hex_value((unsigned char)p[1])) < 0)
            return AMT_ERR_INVALID_ARGUMENT;
        if (n == AMT_HASH_MAX_LEN)
            return AMT_ERR_INVALID_ARGUMENT;
        tp.bytes[n++] = (unsigned char)(hi << 4 | lo);
        p += 2;
    }
    if (type == 0) {
        for (int t = AMT_HASH_SHA1; t <= AMT_HASH_SHA384; t++)
            if (thumbprint_hash_len(t) == n)
                type = t;
        if (type == 0)
            return AMT_ERR_INVALID_ARGUMENT;
    }
    if (thumbprint_hash_len(type) != n)
        return AMT_ERR_INVALID_ARGUMENT;
    tp.type = (enum amt_hash_type)type;
    tp.len = n;
    *out = tp;
    return 0;
}

int
thumbprint_format(const struct amt_thumbprint *tp, char *buf, size_t size)
{
    const char *name;
    size_t used;

    if (tp == NULL || buf == NULL || (name = thumbprint_type_name(tp->type)) == NULL ||
        tp->len != thumbprint_hash_len(tp->type))
        return AMT_ERR_INVALID_ARGUMENT;
    if (size < strlen(name) + 1 + 2 * tp->len + 1)
        return AMT_ERR_TOO_LARGE;
    used = (size_t)snprintf(buf, size, "%s:", name);
    for (size_t i = 0; i < tp->len; i++)
        used += (size_t)snprintf(buf + used, size - used, "%02x", tp->bytes[i]);
    return 0;
}

int
thumbprint_of_x509(X509 *cert, enum amt_hash_type type, struct amt_thumbprint *out)
{
    const EVP_MD *md;
    unsigned int len = 0;

    if (cert == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    switch (type) {
    case AMT_HASH_SHA1:
        md = EVP_sha1();
        break;
    case AMT_HASH_SHA256:
        md = EVP_sha256();
        break;
    case AMT_HASH_SHA384:
        md = EVP_sha384();
        break;
    default:
        return AMT_ERR_INVALID_ARGUMENT;
    }
    memset(out, 0, sizeof(*out));
    if (X509_digest(cert, md, out->bytes, &len) != 1)
        return AMT_ERR_CRYPTO;
    out->type = type;
    out->len = len;
    return 0;
}

bool
thumbprint_equal(const struct amt_thumbprint *a, const struct amt_thumbprint *b)
{
    return a != NULL && b != NULL && a->type == b->type && a->len == b->len &&
           memcmp(a->bytes, b->bytes, a->len) == 0;
}
