/*
 * The hello a factory-fresh AMT sends to ProvisionServer:9971 (catalogue OOB-1),
 * interface version 3 (PKI). Version 2 (PSK) is recognised and refused.
 */
#ifndef AMT_HELLO_H
#define AMT_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "thumbprint.h"
#include "uuid.h"

#define HELLO_VERSION_PSK 2
#define HELLO_VERSION_PKI 3

/* Fixed part: flag, version, retry count, UUID, hash count. */
#define HELLO_HEADER_LEN 25

/*
 * AMT 7 and later send at most 23 hashes; older firmware up to 20 embedded roots
 * plus a few custom ones. 32 leaves room for both and still bounds the struct.
 */
#define HELLO_MAX_HASHES 32

/*
 * Refused unread, before any field is looked at: the cap servers use in the field.
 * A valid hello is never longer than HELLO_ENCODED_MAX, far below it.
 */
#define HELLO_MAX_BYTES 16384

/* The longest hello hello_encode can produce: every hash a SHA-384. */
#define HELLO_ENCODED_MAX (HELLO_HEADER_LEN + HELLO_MAX_HASHES * (2 + AMT_HASH_MAX_LEN))

struct hello {
    bool admin_credentials_set; /* MEBx password no longer the factory default */
    uint16_t version;           /* always HELLO_VERSION_PKI once decoded */
    uint32_t retry_count;
    struct amt_uuid uuid; /* printed order; the wire carries SMBIOS order */
    size_t n_hashes;
    struct amt_thumbprint hashes[HELLO_MAX_HASHES];
};

/*
 * Decodes a whole hello (everything read until the peer closed). Checks, in order,
 * each with its own code:
 *   size > HELLO_MAX_BYTES                         AMT_ERR_HELLO_TOO_LONG
 *   size < 25                                      AMT_ERR_HELLO_SHORT
 *   version 2, whatever follows (PSK, 32 bytes)    AMT_ERR_HELLO_PSK
 *   version other than 2 or 3                      AMT_ERR_HELLO_VERSION
 *   admin-credentials flag other than 0 or 1       AMT_ERR_HELLO_FLAG
 *   hash count > HELLO_MAX_HASHES                  AMT_ERR_HELLO_TOO_MANY_HASHES
 * then for each hash:
 *   input ends exactly where a hash should begin   AMT_ERR_HELLO_HASH_COUNT
 *   input ends inside the hash's type or length    AMT_ERR_HELLO_TRUNCATED
 *   type other than 1, 2, 3                        AMT_ERR_HELLO_HASH_TYPE
 *   length other than 20, 32, 48 for that type     AMT_ERR_HELLO_HASH_LENGTH
 *   input ends inside the hash's bytes             AMT_ERR_HELLO_TRUNCATED
 * and finally:
 *   bytes left after the counted hashes            AMT_ERR_HELLO_TRAILING
 * So when the count disagrees with the bytes: a count above what the bytes hold is
 * HASH_COUNT if the bytes stop on a hash boundary and TRUNCATED if they stop inside
 * a hash; a count below what the bytes hold is TRAILING.
 * The version comes first because it decides the layout of everything else.
 * On failure *out is zeroed.
 */
int hello_decode(const unsigned char *data, size_t size, struct hello *out);

/*
 * Writes h into buf and its length into *len. Refuses what hello_decode would
 * refuse: version 2 (AMT_ERR_HELLO_PSK) or another non-3 version, too many hashes,
 * a bad type or a length that does not fit it; AMT_ERR_TOO_LARGE if size is short
 * (HELLO_ENCODED_MAX always suffices).
 */
int hello_encode(const struct hello *h, unsigned char *buf, size_t size, size_t *len);

/*
 * The index into roots of the first root whose thumbprint (same type and bytes)
 * is one of the hello's hashes, or -1 if none is: OOB-3 opens TLS only on a match.
 * Roots are tried in the caller's order, so the caller's preference wins.
 */
int hello_find_root(const struct hello *h, const struct amt_thumbprint *roots, size_t n);

#endif
