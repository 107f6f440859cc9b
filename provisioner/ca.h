/*
 * The site's issuing CA (catalogue OOB-7.3, PKI-AUTOAPPROVE, PKI-CERTS,
 * PKI-CA-KEYLEN): it approves on its own every request the site makes for an AMT
 * device, and issues the device's TLS certificate:
 *
 *   key        RSA-2048, drawn from a key pool when one is given
 *   subject    CN=<host>.<domain>
 *   SAN        DNS:<host>.<domain>, DNS:<host>
 *   EKU        serverAuth; keyUsage digitalSignature, keyEncipherment; CA:FALSE
 *   validity   from ten minutes ago (clocks differ a little) for
 *              SITE_CA_VALIDITY_DAYS, never past the issuing CA's own notAfter
 *   serial     159 random bits
 *
 * The chain handed back runs leaf, issuing CA, ..., root: what AMT's
 * SetTLSKeyAndCertificate takes, each certificate as base64 DER, leaf first.
 *
 * The CA's key lives in the process that holds this handle: keep it out of the
 * processes that parse what devices send.
 */
#ifndef AMT_PROV_CA_H
#define AMT_PROV_CA_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "certpol.h"
#include "keypool.h"

#define SITE_CA_VALIDITY_DAYS (5 * 365 + 1)
/* Certificates in a chain from a device's leaf to the root. */
#define SITE_CA_CHAIN_MAX CERTPOL_CHAIN_MAX
/* Largest certificate, key or chain file site_ca_load reads. */
#define SITE_CA_FILE_MAX CERTPOL_PEM_MAX

struct site_ca;

/* A device's key and certificate. Free with site_ca_cert_free, which wipes the key. */
struct site_ca_cert {
    char *key_pem;          /* PKCS#8 PEM: a secret */
    unsigned char *key_der; /* PKCS#1 RSAPrivateKey DER, as AMT takes it: a secret */
    size_t key_der_len;
    char *cert_pem;  /* the leaf alone, for site_db_cert_record */
    char *chain_pem; /* leaf, issuing CA, ..., root */
    size_t n_chain;
    unsigned char *chain_der[SITE_CA_CHAIN_MAX]; /* leaf first */
    size_t chain_der_len[SITE_CA_CHAIN_MAX];
    char serial[48]; /* lower-case hex */
    time_t not_after;
};

/*
 * Loads the CA: its certificate, its private key (PEM, unencrypted), and chain_file
 * with the certificates above it up to a self-signed root, in any order (NULL when
 * the CA is itself the root). Refused, with the reason in err:
 *   AMT_ERR_CA_LOAD          a file missing, unreadable, larger than the cap, or
 *                            without a certificate or key
 *   AMT_ERR_CA_KEY_MISMATCH  the key is not the certificate's
 *   AMT_ERR_CA_NOT_CA        the certificate may not sign certificates, or its key
 *                            is not RSA
 *   AMT_ERR_CERT_REFUSED     PKI-CA-KEYLEN: a certificate of the chain has an RSA key
 *                            over 2048 bits, which AMT cannot use
 *   AMT_ERR_CA_CHAIN         the chain does not reach a root, or does not verify now
 */
int site_ca_load(const char *cert_file, const char *key_file, const char *chain_file,
                 struct site_ca **out, char *err, size_t errlen);
void site_ca_free(struct site_ca *ca);

/* Days a new certificate is valid (1 to 36500); still cut at the CA's notAfter. */
int site_ca_set_validity(struct site_ca *ca, unsigned days);

/*
 * Issues a certificate for host (one DNS label) in domain (AMT_ERR_NS_NAME
 * otherwise). pool may be NULL (a key is made); a pool of other than 2048-bit RSA
 * keys is refused (AMT_ERR_INVALID_ARGUMENT). AMT_ERR_CA_CHAIN when the CA has
 * expired since it was loaded.
 */
int site_ca_issue(struct site_ca *ca, struct keypool *pool, const char *host,
                  const char *domain, struct site_ca_cert **out);
void site_ca_cert_free(struct site_ca_cert *cert);

/*
 * For the SP after phase 1: whether the certificate a device now serves was issued
 * by this CA, is valid now, is for TLS servers, and names fqdn. untrusted holds
 * whatever else the device presented (may be NULL). AMT_ERR_CA_VERIFY (with
 * OpenSSL's reason in err) or AMT_ERR_CA_HOST_MISMATCH.
 */
int site_ca_verify_device(const struct site_ca *ca, X509 *cert, STACK_OF(X509) *untrusted,
                          const char *fqdn, char *err, size_t errlen);

/* The issuing CA's certificate, owned by the handle. */
X509 *site_ca_certificate(const struct site_ca *ca);

#endif
