/*
 * Certificate policy: the checks AMT makes on the provisioning certificate chain the
 * provisioning server presents (catalogue OOB-3.5), and the configuration check on
 * CA key lengths (PKI-CA-KEYLEN). A refusal returns AMT_ERR_CERT_REFUSED and says
 * which check failed in an enum certpol_reason.
 */
#ifndef AMT_CERTPOL_H
#define AMT_CERTPOL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "thumbprint.h"

/* EKU value that marks an AMT provisioning certificate. */
#define CERTPOL_AMT_OID "2.16.840.1.113741.1.2.3"
/* The subject OU that may stand in for the OID; compared case-sensitively. */
#define CERTPOL_AMT_OU "Intel(R) Client Setup Certificate"
/* AMT cannot use a CA certificate with a longer RSA key. */
#define CERTPOL_CA_KEY_MAX_BITS 2048
/* Most certificates a chain may hold, the leaf included. */
#define CERTPOL_CHAIN_MAX 10
/* Largest PEM chain file certpol_load_chain_pem() reads. */
#define CERTPOL_PEM_MAX (64 * 1024)

enum certpol_reason {
    CERTPOL_OK = 0,
    CERTPOL_CHAIN_INCOMPLETE,   /* no self-signed root presented, or a link missing */
    CERTPOL_CHAIN_TOO_LONG,     /* more than CERTPOL_CHAIN_MAX certificates */
    CERTPOL_ROOT_NOT_TRUSTED,   /* the chain's root is not among the trusted hashes */
    CERTPOL_CA_KEY_TOO_LONG,    /* a CA certificate's RSA key is over 2048 bits */
    CERTPOL_CERT_EXPIRED,       /* a certificate of the chain is past its notAfter */
    CERTPOL_CERT_NOT_YET_VALID, /* a certificate of the chain is before its notBefore */
    CERTPOL_CHAIN_BROKEN,       /* bad signature, a non-CA issuer, or the like */
    CERTPOL_NO_AMT_OID_OR_OU,   /* neither the AMT OID nor the OU */
    CERTPOL_OU_CASE_MISMATCH,   /* the OU is there, but in another case */
    CERTPOL_NO_SERVER_AUTH,     /* the AMT OID without serverAuth, and no OU */
    CERTPOL_EMPTY_SUFFIX,       /* AMT has no domain suffix: nothing can match */
    CERTPOL_NO_CN,              /* subject has no single, usable CN */
    CERTPOL_CN_SUFFIX_MISMATCH, /* CN is not under the domain suffix */
};

struct certpol_policy {
    /* AMT's DNS domain (DHCP option 15 or configured); NULL or "" matches nothing. */
    const char *domain_suffix;
    /* AMT 3.2.1 and later: accept a CN in the parent domain of the suffix. */
    bool parent_domain_rule;
    /* Root thumbprints stored in firmware; each compared with its own hash type. */
    const struct amt_thumbprint *trusted_roots;
    size_t n_trusted_roots;
    /* Time at which validity is judged; 0 means the real time. */
    time_t now;
};

/* Kebab-case name for JSON events ("cn-suffix-mismatch"); "unknown" if out of range. */
const char *certpol_reason_name(enum certpol_reason reason);

/* A sentence for operators. */
const char *certpol_reason_text(enum certpol_reason reason);

/*
 * Checks a provisioning chain as AMT does. `chain` holds the other certificates the
 * peer presented, in any order (NULL or empty is allowed, and a copy of the leaf in it
 * is ignored, so both SSL_get_peer_cert_chain() conventions work). The checks run in
 * this order and the first failure is reported:
 *   1. trust: at most CERTPOL_CHAIN_MAX certificates (chain-too-long), a self-signed
 *      root is presented (chain-incomplete), its thumbprint is trusted
 *      (root-not-trusted), no CA key is over 2048 bits (ca-key-too-long);
 *   2. the chain verifies from the leaf to that root: signatures, CA flags and
 *      validity at p->now (chain-incomplete, chain-broken, cert-expired,
 *      cert-not-yet-valid, root-not-trusted);
 *   3. purpose: serverAuth with the AMT OID, or the exact OU (no-amt-oid-or-ou,
 *      ou-case-mismatch, no-server-auth);
 *   4. name: the leaf's CN lies under the domain suffix (empty-suffix, no-cn,
 *      cn-suffix-mismatch).
 * Returns 0, AMT_ERR_CERT_REFUSED with *reason set, or another error (then *reason is
 * CERTPOL_OK; after AMT_ERR_CRYPTO, OpenSSL's error queue says more). `reason` may be
 * NULL.
 */
int certpol_check_chain(const struct certpol_policy *p, X509 *leaf, STACK_OF(X509) *chain,
                        enum certpol_reason *reason);

/*
 * PKI-CA-KEYLEN, for configuration time: refuses (ca-key-too-long) when any CA
 * certificate in `chain` (basicConstraints CA, or self-signed) has an RSA key longer
 * than CERTPOL_CA_KEY_MAX_BITS. Certificates that are not CAs are ignored.
 */
int certpol_check_ca_keylen(STACK_OF(X509) *chain, enum certpol_reason *reason);

/*
 * Whether a certificate CN lies under AMT's domain suffix, by whole DNS labels,
 * ignoring ASCII case and one trailing dot on either name. See certpol.c for the two
 * rules and their examples.
 */
bool certpol_cn_matches_suffix(const char *cn, const char *suffix, bool parent_rule);

/*
 * Reads PEM certificates: the first is the leaf, the rest go into a new *chain (at
 * most CERTPOL_CHAIN_MAX in all). Other PEM blocks, such as a key, are skipped.
 * Errors: AMT_ERR_CERT_LOAD (no certificate, or a damaged one; OpenSSL's error queue
 * says more), AMT_ERR_TOO_LARGE.
 * Free the results with X509_free() and sk_X509_pop_free(chain, X509_free).
 */
int certpol_parse_chain_pem(const void *pem, size_t len, X509 **leaf,
                            STACK_OF(X509) **chain);

/*
 * certpol_parse_chain_pem() on a file of at most CERTPOL_PEM_MAX bytes. Also:
 * AMT_ERR_SYSTEM when the file cannot be read (errno says why).
 */
int certpol_load_chain_pem(const char *path, X509 **leaf, STACK_OF(X509) **chain);

#endif
