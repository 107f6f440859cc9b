/*
 * HTTP Digest glue (RFC 2617, MD5, qop=auth): what libcurl and libmicrohttpd leave
 * to us. Parsers for the WWW-Authenticate challenge and the Authorization header as
 * AMT and its clients write them, the response computation, a check that refuses the
 * CVE-2017-5689 responses (empty, or a prefix of the right one) and says which it saw,
 * and the two forms of AMT realm.
 *
 * The parsers take one header value (without "WWW-Authenticate:"), read a single
 * challenge or credential, and copy each known parameter into a fixed buffer of the
 * result; nothing is allocated. Limits, all in characters without the NUL:
 *
 *   whole header value       DIGEST_HEADER_MAX      4096 (else AMT_ERR_TOO_LARGE)
 *   parameters in a header   DIGEST_PARAMS_MAX        20 (else AMT_ERR_TOO_LARGE)
 *   realm, nonce, opaque,
 *   cnonce                   256 each
 *   username                 128    uri       1024   domain    1024
 *   response                  64    algorithm   32   nc          16
 *   qop (Authorization)       16    qop list in a challenge    64
 *   stale                     16
 *
 * A value longer than its limit is refused with AMT_ERR_DIGEST_FIELD_TOO_LONG, even
 * for parameters the parser does not keep.
 */
#ifndef AMT_DIGEST_H
#define AMT_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#define DIGEST_HEADER_MAX 4096
#define DIGEST_PARAMS_MAX 20
#define DIGEST_REALM_MAX 256
#define DIGEST_NONCE_MAX 256
#define DIGEST_OPAQUE_MAX 256
#define DIGEST_CNONCE_MAX 256
#define DIGEST_USERNAME_MAX 128
#define DIGEST_URI_MAX 1024
#define DIGEST_DOMAIN_MAX 1024
#define DIGEST_RESPONSE_MAX 64
#define DIGEST_ALGORITHM_MAX 32
#define DIGEST_NC_MAX 16
#define DIGEST_QOP_MAX 16
#define DIGEST_QOP_LIST_MAX 64
#define DIGEST_STALE_MAX 16
/* The longest value of a parameter the parser reads but does not keep. */
#define DIGEST_OTHER_MAX 1024

/* An MD5 response in lower-case hex. */
#define DIGEST_MD5_HEX_LEN 32

/* Buffer size that holds either form of AMT realm with its NUL. */
#define DIGEST_AMT_REALM_SIZE 55

enum digest_qop_flag {
    DIGEST_QOP_AUTH = 1u << 0,
    DIGEST_QOP_AUTH_INT = 1u << 1,
};

/* A WWW-Authenticate Digest challenge. */
struct digest_challenge {
    char realm[DIGEST_REALM_MAX + 1];
    char nonce[DIGEST_NONCE_MAX + 1];
    char opaque[DIGEST_OPAQUE_MAX + 1];
    char algorithm[DIGEST_ALGORITHM_MAX + 1]; /* "" when absent (MD5) */
    char domain[DIGEST_DOMAIN_MAX + 1];
    unsigned qop;    /* DIGEST_QOP_* offered; unknown qop values are ignored */
    bool has_qop;    /* a qop parameter was present (RFC 2069 servers send none) */
    bool has_opaque; /* opaque="" must still be echoed, so "" is not "absent" */
    bool stale;
};

/* An Authorization: Digest credential. Absent optional fields are "". */
struct digest_authorization {
    char username[DIGEST_USERNAME_MAX + 1];
    char realm[DIGEST_REALM_MAX + 1];
    char nonce[DIGEST_NONCE_MAX + 1];
    char uri[DIGEST_URI_MAX + 1];
    char response[DIGEST_RESPONSE_MAX + 1];
    char cnonce[DIGEST_CNONCE_MAX + 1];
    char nc[DIGEST_NC_MAX + 1];
    char qop[DIGEST_QOP_MAX + 1];
    char opaque[DIGEST_OPAQUE_MAX + 1];
    char algorithm[DIGEST_ALGORITHM_MAX + 1];
    bool has_opaque;
};

/*
 * Reads one Digest challenge. Tolerates: any case in the scheme and the parameter
 * names; no space after a comma; spaces or tabs around '=' and commas; empty list
 * elements; values as tokens or as quoted strings with backslash escapes; unknown
 * parameters (checked, then dropped). Refuses: another scheme
 * (AMT_ERR_DIGEST_NOT_DIGEST); bad syntax, a parameter given twice, stale other than
 * true/false, a qop list that is not a list of tokens (AMT_ERR_DIGEST_SYNTAX); no
 * realm or no nonce, or an empty one (AMT_ERR_DIGEST_MISSING); over-long values
 * (AMT_ERR_DIGEST_FIELD_TOO_LONG). A value holding several challenges is not split:
 * its first scheme decides. *out is zeroed unless the result is 0.
 */
int digest_parse_challenge(const char *header, struct digest_challenge *out);

/*
 * Reads one Authorization credential with the same tolerance. Requires username,
 * realm, nonce, uri and response to be present (AMT_ERR_DIGEST_MISSING otherwise),
 * but any of them may be empty: an empty response is an attack to be recorded, not
 * a syntax error.
 */
int digest_parse_authorization(const char *header, struct digest_authorization *out);

/*
 * Writes a challenge the way AMT 16.1 does, commas without spaces included:
 * Digest realm="...", nonce="...",stale="false",qop="auth-int, auth"
 * then opaque, algorithm and domain when set. AMT_ERR_TOO_LARGE when buf is too small,
 * AMT_ERR_INVALID_ARGUMENT for a value with a control character (header injection).
 */
int digest_format_challenge(const struct digest_challenge *c, char *buf, size_t size);

/* Writes an Authorization header value; empty optional fields are left out. */
int digest_format_authorization(const struct digest_authorization *a, char *buf,
                                size_t size);

/* What the response is computed from. nc is the 8 hex digits as sent ("00000001"). */
struct digest_input {
    const char *username;
    const char *realm;
    const char *password;
    const char *method;
    const char *uri;
    const char *nonce;
    const char *nc;
    const char *cnonce;
};

/*
 * The RFC 2617 response for qop=auth, MD5, in lower-case hex, into out (at least
 * DIGEST_MD5_HEX_LEN + 1 bytes, else AMT_ERR_TOO_LARGE).
 */
int digest_compute_response(const struct digest_input *in, char *out, size_t size);

/* A fresh client nonce: 32 lower-case hex digits from the OpenSSL generator. */
int digest_make_cnonce(char *out, size_t size);

/* True when both are the same string; time depends on the lengths only. */
bool digest_response_equal(const char *received, const char *expected);

/* The two responses vulnerable firmware accepted (CVE-2017-5689, INTEL-SA-00075). */
enum digest_suspicion {
    DIGEST_SUSPICION_NONE = 0,
    DIGEST_SUSPICION_EMPTY,  /* response="" */
    DIGEST_SUSPICION_PREFIX, /* a non-empty strict prefix of the right response */
};

/* "none", "empty-response", "prefix-response"; "unknown" otherwise. */
const char *digest_suspicion_name(int suspicion);

enum digest_suspicion digest_response_suspicion(const char *received,
                                                const char *expected);

/*
 * Checks a parsed credential against the account's password: the credential's realm
 * must equal realm, qop must be auth, algorithm MD5 or absent, nc and cnonce present,
 * and the response equal (case-sensitive, constant time) to the computed one.
 * Whether the nonce is fresh is for the caller to decide. Returns 0,
 * AMT_ERR_DIGEST_MISMATCH (wrong password, wrong realm, empty or prefix response),
 * AMT_ERR_DIGEST_UNSUPPORTED (another qop or algorithm), AMT_ERR_DIGEST_MISSING (no
 * nc or cnonce). *suspicion (may be NULL) tells an empty or prefix response so that
 * it can be logged as the attack it is; the result refuses them all the same.
 */
int digest_check(const struct digest_authorization *auth, const char *realm,
                 const char *password, const char *method,
                 enum digest_suspicion *suspicion);

enum digest_realm_kind {
    DIGEST_REALM_NOT_AMT = 0,
    DIGEST_REALM_LEGACY,     /* Intel(R) AMT (ID:4C4C4544-0043-3010-8052-B4C04F564433) */
    DIGEST_REALM_DIGEST_HEX, /* Digest:4D1B31F6DF34A2C7B6D8E9A2C3D4E5F6 */
};

/* "not-amt", "legacy", "digest-hex"; "unknown" otherwise. */
const char *digest_realm_kind_name(int kind);

/* Which AMT realm form this is; hex digits must be upper-case as firmware prints them. */
enum digest_realm_kind digest_realm_kind(const char *realm);

/*
 * The older form from a UUID string (either case; printed upper-case).
 * AMT_ERR_UUID_FORMAT when uuid is not 8-4-4-4-12 hex digits.
 */
int digest_realm_legacy(const char *uuid, char *buf, size_t size);

/* The newer form from a 16-byte id. */
int digest_realm_hex(const unsigned char id[16], char *buf, size_t size);

#endif
