/*
 * Certificate thumbprints (hashes of a DER certificate) as AMT keeps them:
 * SHA-1, SHA-256 or SHA-384, numbered as in the hello (1, 2, 3).
 */
#ifndef AMT_THUMBPRINT_H
#define AMT_THUMBPRINT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

enum amt_hash_type {
    AMT_HASH_SHA1 = 1,
    AMT_HASH_SHA256 = 2,
    AMT_HASH_SHA384 = 3,
};

#define AMT_HASH_MAX_LEN 48
/* "sha384:" + 96 hex digits + NUL */
#define AMT_THUMBPRINT_TEXT_MAX 104

struct amt_thumbprint {
    enum amt_hash_type type;
    size_t len;
    unsigned char bytes[AMT_HASH_MAX_LEN];
};

/* Length in bytes of a hash of this type; 0 for a type that is not 1-3. */
size_t thumbprint_hash_len(int type);

/* "sha1", "sha256", "sha384"; NULL for an unknown type. */
const char *thumbprint_type_name(int type);

/*
 * Reads "[sha1:|sha256:|sha384:]HEX" (colons between hex pairs allowed, case
 * ignored). Without a prefix the type follows from the length (20, 32, 48 bytes).
 */
int thumbprint_parse(const char *text, struct amt_thumbprint *out);

/* Writes "sha256:<lower-case hex>" into buf (AMT_THUMBPRINT_TEXT_MAX bytes). */
int thumbprint_format(const struct amt_thumbprint *tp, char *buf, size_t size);

/* The thumbprint of a certificate (hash of its DER encoding). */
int thumbprint_of_x509(X509 *cert, enum amt_hash_type type, struct amt_thumbprint *out);

bool thumbprint_equal(const struct amt_thumbprint *a, const struct amt_thumbprint *b);

#endif
