#include "ca.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "nsrules.h"

/* Clocks of the SP and a freshly synchronised device differ by little (OOB-7.1). */
#define BACKDATE_SECONDS (10 * 60)
#define VALIDITY_DAYS_MAX 36500u

struct site_ca {
    X509 *cert;
    EVP_PKEY *key;
    STACK_OF(X509) *above; /* the issuers above cert, in order up to the root */
    time_t not_before;
    time_t not_after;
    unsigned validity_days;
};

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

static void
subject_of(X509 *cert, char *buf, size_t size)
{
    if (X509_NAME_oneline(X509_get_subject_name(cert), buf, (int)size) == NULL)
        snprintf(buf, size, "(unreadable subject)");
}

static void
lower_in_place(char *s)
{
    for (; *s != '\0'; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

static int
asn1_time_to_time(const ASN1_TIME *t, time_t *out)
{
    struct tm tm;

    if (ASN1_TIME_to_tm(t, &tm) != 1)
        return AMT_ERR_CRYPTO;
    *out = timegm(&tm);
    return 0;
}

/* No prompt, ever: the CA key file is read by a server, not at a terminal. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

/* The key file, read whole into memory that is wiped before it is freed. */
static int
load_key(const char *path, EVP_PKEY **out, char *err, size_t errlen)
{
    unsigned char *buf = NULL;
    size_t len = 0, cap = SITE_CA_FILE_MAX + 1;
    BIO *bio = NULL;
    FILE *f = NULL;
    int r = AMT_ERR_CA_LOAD;

    if ((f = fopen(path, "rb")) == NULL) {
        say(err, errlen, "%s: %s", path, strerror(errno));
        return AMT_ERR_CA_LOAD;
    }
    if ((buf = OPENSSL_secure_malloc(cap)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    len = fread(buf, 1, cap, f);
    if (ferror(f) || len == cap) {
        say(err, errlen, "%s: %s", path,
            ferror(f) ? "cannot read it" : "larger than the cap for a key file");
        goto out;
    }
    if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    if ((*out = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)) == NULL) {
        say(err, errlen, "%s: no unencrypted private key in PEM", path);
        goto out;
    }
    r = 0;
out:
    BIO_free(bio);
    OPENSSL_secure_clear_free(buf, cap);
    fclose(f);
    return r;
}

/* Appends every certificate of a PEM file to pool. */
static int
load_certs(const char *path, STACK_OF(X509) *pool, X509 **first, char *err, size_t errlen)
{
    STACK_OF(X509) *rest = NULL;
    X509 *leaf = NULL;
    int r;

    if ((r = certpol_load_chain_pem(path, &leaf, &rest)) != 0) {
        say(err, errlen, "%s: %s", path,
            r == AMT_ERR_SYSTEM ? strerror(errno) : amt_strerror(r));
        return AMT_ERR_CA_LOAD;
    }
    if (first != NULL) {
        X509_up_ref(leaf);
        *first = leaf;
    }
    r = AMT_ERR_ALLOC;
    if (sk_X509_push(pool, leaf) <= 0)
        goto out;
    leaf = NULL;
    while (sk_X509_num(rest) > 0) {
        X509 *x = sk_X509_shift(rest);

        if (sk_X509_push(pool, x) <= 0) {
            X509_free(x);
            goto out;
        }
    }
    r = 0;
out:
    X509_free(leaf);
    sk_X509_pop_free(rest, X509_free);
    return r;
}

/* The issuers of cert among pool, in order up to a self-signed root. */
static int
build_chain(X509 *cert, STACK_OF(X509) *pool, STACK_OF(X509) **out, char *err,
            size_t errlen)
{
    STACK_OF(X509) *above = sk_X509_new_null();
    char subject[256];
    X509 *cur = cert;
    int r = AMT_ERR_ALLOC;

    if (above == NULL)
        return AMT_ERR_ALLOC;
    while (X509_self_signed(cur, 0) != 1) {
        X509 *issuer = NULL;

        if (sk_X509_num(above) + 2 > SITE_CA_CHAIN_MAX) {
            say(err, errlen, "the chain is longer than %d certificates",
                SITE_CA_CHAIN_MAX);
            r = AMT_ERR_CA_CHAIN;
            goto out;
        }
        for (int i = 0; i < sk_X509_num(pool) && issuer == NULL; i++) {
            X509 *c = sk_X509_value(pool, i);

            if (X509_cmp(c, cur) != 0 && X509_check_issued(c, cur) == X509_V_OK)
                issuer = c;
        }
        if (issuer == NULL) {
            subject_of(cur, subject, sizeof(subject));
            say(err, errlen,
                "the chain lacks the issuer of %s: give the certificates "
                "up to the root",
                subject);
            r = AMT_ERR_CA_CHAIN;
            goto out;
        }
        if (sk_X509_push(above, issuer) <= 0)
            goto out;
        X509_up_ref(issuer);
        cur = issuer;
    }
    *out = above;
    above = NULL;
    r = 0;
out:
    sk_X509_pop_free(above, X509_free);
    return r;
}

/* PKI-CA-KEYLEN, with the certificate that breaks it named. */
static int
check_keylen(const struct site_ca *ca, char *err, size_t errlen)
{
    STACK_OF(X509) *all = sk_X509_dup(ca->above);
    char subject[256];
    int r = AMT_ERR_ALLOC;

    if (all == NULL || sk_X509_unshift(all, ca->cert) <= 0)
        goto out;
    if ((r = certpol_check_ca_keylen(all, NULL)) == 0 || r != AMT_ERR_CERT_REFUSED)
        goto out;
    for (int i = 0; i < sk_X509_num(all); i++) {
        X509 *x = sk_X509_value(all, i);
        EVP_PKEY *pk = X509_get0_pubkey(x);

        if (pk != NULL && EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA &&
            EVP_PKEY_get_bits(pk) > CERTPOL_CA_KEY_MAX_BITS) {
            subject_of(x, subject, sizeof(subject));
            say(err, errlen,
                "PKI-CA-KEYLEN: %s has a %d-bit RSA key; AMT cannot use CA keys over "
                "%d bits",
                subject, EVP_PKEY_get_bits(pk), CERTPOL_CA_KEY_MAX_BITS);
            break;
        }
    }
out:
    sk_X509_free(all);
    return r;
}

/* The CA's chain verifies now, up to its root. */
static int
verify_ca(const struct site_ca *ca, char *err, size_t errlen)
{
    X509 *root = sk_X509_num(ca->above) > 0
                     ? sk_X509_value(ca->above, sk_X509_num(ca->above) - 1)
                     : ca->cert;
    STACK_OF(X509) *untrusted = NULL;
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    int r = AMT_ERR_ALLOC;

    if ((store = X509_STORE_new()) == NULL || (ctx = X509_STORE_CTX_new()) == NULL ||
        (untrusted = sk_X509_dup(ca->above)) == NULL)
        goto out;
    if (X509_STORE_add_cert(store, root) != 1)
        goto out;
    X509_STORE_set_flags(store, X509_V_FLAG_CHECK_SS_SIGNATURE);
    if (X509_STORE_CTX_init(ctx, store, ca->cert, untrusted) != 1)
        goto out;
    if (X509_verify_cert(ctx) != 1) {
        say(err, errlen, "the CA's chain does not verify: %s",
            X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        r = AMT_ERR_CA_CHAIN;
        goto out;
    }
    r = 0;
out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    sk_X509_free(untrusted);
    return r;
}

int
site_ca_load(const char *cert_file, const char *key_file, const char *chain_file,
             struct site_ca **out, char *err, size_t errlen)
{
    STACK_OF(X509) *pool = NULL;
    struct site_ca *ca = NULL;
    char subject[256];
    int r = AMT_ERR_INTERNAL;

    say(err, errlen, "%s", "");
    if (out == NULL || cert_file == NULL || key_file == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if ((ca = calloc(1, sizeof(*ca))) == NULL || (pool = sk_X509_new_null()) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    ca->validity_days = SITE_CA_VALIDITY_DAYS;
    if ((r = load_certs(cert_file, pool, &ca->cert, err, errlen)) != 0 ||
        (chain_file != NULL &&
         (r = load_certs(chain_file, pool, NULL, err, errlen)) != 0) ||
        (r = load_key(key_file, &ca->key, err, errlen)) != 0)
        goto out;
    subject_of(ca->cert, subject, sizeof(subject));
    if (X509_check_private_key(ca->cert, ca->key) != 1) {
        say(err, errlen, "%s is not the key of %s", key_file, subject);
        r = AMT_ERR_CA_KEY_MISMATCH;
        goto out;
    }
    if (X509_check_ca(ca->cert) != 1) {
        say(err, errlen,
            "%s is not a CA certificate (basicConstraints CA:TRUE, "
            "keyCertSign)",
            subject);
        r = AMT_ERR_CA_NOT_CA;
        goto out;
    }
    if (EVP_PKEY_get_base_id(ca->key) != EVP_PKEY_RSA) {
        say(err, errlen, "the key of %s is not RSA, which AMT needs", subject);
        r = AMT_ERR_CA_NOT_CA;
        goto out;
    }
    if ((r = build_chain(ca->cert, pool, &ca->above, err, errlen)) != 0 ||
        (r = check_keylen(ca, err, errlen)) != 0 || (r = verify_ca(ca, err, errlen)) != 0)
        goto out;
    if (asn1_time_to_time(X509_get0_notBefore(ca->cert), &ca->not_before) != 0 ||
        asn1_time_to_time(X509_get0_notAfter(ca->cert), &ca->not_after) != 0) {
        say(err, errlen, "cannot read the validity of %s", subject);
        r = AMT_ERR_CA_LOAD;
        goto out;
    }
    *out = ca;
    ca = NULL;
    r = 0;
out:
    ERR_clear_error();
    sk_X509_pop_free(pool, X509_free);
    site_ca_free(ca);
    return r;
}

void
site_ca_free(struct site_ca *ca)
{
    if (ca == NULL)
        return;
    X509_free(ca->cert);
    EVP_PKEY_free(ca->key);
    sk_X509_pop_free(ca->above, X509_free);
    free(ca);
}

int
site_ca_set_validity(struct site_ca *ca, unsigned days)
{
    if (ca == NULL || days == 0 || days > VALIDITY_DAYS_MAX)
        return AMT_ERR_INVALID_ARGUMENT;
    ca->validity_days = days;
    return 0;
}

X509 *
site_ca_certificate(const struct site_ca *ca)
{
    return ca != NULL ? ca->cert : NULL;
}

/* ---- issuing ---- */

static int
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok;

    if (ext == NULL)
        return AMT_ERR_CRYPTO;
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : AMT_ERR_CRYPTO;
}

/* Built as a structure rather than from config text, since the names are input. */
static int
add_san(X509 *x, const char *const *names, size_t n)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    int r = AMT_ERR_CRYPTO;

    if (gens == NULL)
        return AMT_ERR_ALLOC;
    for (size_t i = 0; i < n; i++) {
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();

        if (g == NULL || ia5 == NULL || ASN1_STRING_set(ia5, names[i], -1) != 1) {
            GENERAL_NAME_free(g);
            ASN1_IA5STRING_free(ia5);
            goto out;
        }
        GENERAL_NAME_set0_value(g, GEN_DNS, ia5);
        if (sk_GENERAL_NAME_push(gens, g) <= 0) {
            GENERAL_NAME_free(g);
            goto out;
        }
    }
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1)
        r = 0;
out:
    GENERAL_NAMES_free(gens);
    return r;
}

static int
random_serial(X509 *x, char *hex, size_t size)
{
    BIGNUM *bn = BN_new();
    char *text = NULL;
    int r = AMT_ERR_CRYPTO;

    /* 159 bits with the top one set: positive, non-zero, at most 20 octets */
    if (bn == NULL || BN_rand(bn, 159, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1 ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
        (text = BN_bn2hex(bn)) == NULL)
        goto out;
    lower_in_place(text);
    snprintf(hex, size, "%s", text);
    r = 0;
out:
    OPENSSL_free(text);
    BN_free(bn);
    return r;
}

static int
pem_string(BIO *bio, char **out)
{
    char *data = NULL, *s;
    long len = BIO_get_mem_data(bio, &data);

    if (len <= 0)
        return AMT_ERR_CRYPTO;
    if ((s = malloc((size_t)len + 1)) == NULL)
        return AMT_ERR_ALLOC;
    memcpy(s, data, (size_t)len);
    s[len] = '\0';
    *out = s;
    return 0;
}

/* The key in both forms; the BIO is on the secure heap, which is wiped when freed. */
static int
export_key(EVP_PKEY *key, struct site_ca_cert *c)
{
    BIO *bio = BIO_new(BIO_s_secmem());
    unsigned char *p;
    int len, r = AMT_ERR_CRYPTO;

    if (bio == NULL)
        return AMT_ERR_ALLOC;
    if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1 ||
        (r = pem_string(bio, &c->key_pem)) != 0)
        goto out;
    r = AMT_ERR_CRYPTO;
    if ((len = i2d_PrivateKey(key, NULL)) <= 0)
        goto out;
    if ((c->key_der = malloc((size_t)len)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    p = c->key_der;
    if (i2d_PrivateKey(key, &p) != len)
        goto out;
    c->key_der_len = (size_t)len;
    r = 0;
out:
    BIO_free(bio);
    return r;
}

static int
push_der(struct site_ca_cert *c, X509 *x, BIO *pem)
{
    unsigned char *p;
    int len;

    if (c->n_chain == SITE_CA_CHAIN_MAX)
        return AMT_ERR_TOO_LARGE;
    if ((len = i2d_X509(x, NULL)) <= 0)
        return AMT_ERR_CRYPTO;
    if ((c->chain_der[c->n_chain] = malloc((size_t)len)) == NULL)
        return AMT_ERR_ALLOC;
    p = c->chain_der[c->n_chain];
    c->chain_der_len[c->n_chain] = (size_t)len;
    c->n_chain++;
    if (i2d_X509(x, &p) != len || PEM_write_bio_X509(pem, x) != 1)
        return AMT_ERR_CRYPTO;
    return 0;
}

static int
export_chain(const struct site_ca *ca, X509 *leaf, struct site_ca_cert *c)
{
    BIO *leaf_pem = BIO_new(BIO_s_mem()), *chain_pem = BIO_new(BIO_s_mem());
    int r = AMT_ERR_ALLOC;

    if (leaf_pem == NULL || chain_pem == NULL)
        goto out;
    r = AMT_ERR_CRYPTO;
    if (PEM_write_bio_X509(leaf_pem, leaf) != 1 ||
        (r = pem_string(leaf_pem, &c->cert_pem)) != 0 ||
        (r = push_der(c, leaf, chain_pem)) != 0 ||
        (r = push_der(c, ca->cert, chain_pem)) != 0)
        goto out;
    for (int i = 0; i < sk_X509_num(ca->above); i++)
        if ((r = push_der(c, sk_X509_value(ca->above, i), chain_pem)) != 0)
            goto out;
    r = pem_string(chain_pem, &c->chain_pem);
out:
    BIO_free(leaf_pem);
    BIO_free(chain_pem);
    return r;
}

/* A 2048-bit RSA key, as AMT takes; from the pool when there is one. */
static int
device_key(struct keypool *pool, EVP_PKEY **out)
{
    EVP_PKEY *key = NULL;
    int r;

    if ((r = keypool_take(pool, &key)) != 0)
        return r;
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || EVP_PKEY_get_bits(key) != 2048) {
        EVP_PKEY_free(key);
        return AMT_ERR_INVALID_ARGUMENT;
    }
    *out = key;
    return 0;
}

static int
make_cert(const struct site_ca *ca, EVP_PKEY *key, const char *host, const char *fqdn,
          time_t now, X509 **out, char *serial, size_t serial_size, time_t *not_after)
{
    const char *names[2] = {fqdn, host};
    X509_NAME *subject = X509_NAME_new();
    X509 *x = X509_new();
    X509V3_CTX v3;
    time_t nb = now - BACKDATE_SECONDS;
    time_t na = now + (time_t)ca->validity_days * 86400;
    int r = AMT_ERR_ALLOC;

    if (x == NULL || subject == NULL)
        goto out;
    /* nothing the CA signs outlives or predates the CA itself */
    if (nb < ca->not_before)
        nb = ca->not_before;
    if (na > ca->not_after)
        na = ca->not_after;
    r = AMT_ERR_CRYPTO;
    if (X509_set_version(x, X509_VERSION_3) != 1 ||
        (r = random_serial(x, serial, serial_size)) != 0)
        goto out;
    r = AMT_ERR_CRYPTO;
    if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                   (const unsigned char *)fqdn, -1, -1, 0) != 1 ||
        X509_set_subject_name(x, subject) != 1 ||
        X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1 ||
        ASN1_TIME_set(X509_getm_notBefore(x), nb) == NULL ||
        ASN1_TIME_set(X509_getm_notAfter(x), na) == NULL || X509_set_pubkey(x, key) != 1)
        goto out;
    X509V3_set_ctx(&v3, ca->cert, x, NULL, NULL, 0);
    if ((r = add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE")) != 0 ||
        (r = add_ext(x, &v3, NID_key_usage,
                     "critical,digitalSignature,keyEncipherment")) != 0 ||
        (r = add_ext(x, &v3, NID_ext_key_usage, "serverAuth")) != 0 ||
        (r = add_ext(x, &v3, NID_subject_key_identifier, "hash")) != 0 ||
        (r = add_ext(x, &v3, NID_authority_key_identifier, "keyid:always")) != 0 ||
        (r = add_san(x, names, 2)) != 0)
        goto out;
    if (X509_sign(x, ca->key, EVP_sha256()) <= 0) {
        r = AMT_ERR_CRYPTO;
        goto out;
    }
    *not_after = na;
    *out = x;
    x = NULL;
    r = 0;
out:
    X509_NAME_free(subject);
    X509_free(x);
    return r;
}

int
site_ca_issue(struct site_ca *ca, struct keypool *pool, const char *host,
              const char *domain, struct site_ca_cert **out)
{
    char h[NS_LABEL_MAX + 1], fqdn[NS_NAME_MAX + 2];
    struct site_ca_cert *c = NULL;
    EVP_PKEY *key = NULL;
    X509 *leaf = NULL;
    time_t now = time(NULL);
    size_t dlen;
    int n, r = AMT_ERR_INTERNAL;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (ca == NULL || host == NULL || domain == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (ns_name_valid(host) != 0 || strchr(host, '.') != NULL ||
        strlen(host) > NS_LABEL_MAX || ns_name_valid(domain) != 0)
        return AMT_ERR_NS_NAME;
    dlen = strlen(domain);
    if (domain[dlen - 1] == '.')
        dlen--;
    snprintf(h, sizeof(h), "%s", host);
    n = snprintf(fqdn, sizeof(fqdn), "%s.%.*s", h, (int)dlen, domain);
    if (n < 0 || (size_t)n >= sizeof(fqdn) || ns_name_valid(fqdn) != 0)
        return AMT_ERR_NS_NAME;
    /* names in certificates in lower case, as the database keeps them */
    lower_in_place(h);
    lower_in_place(fqdn);
    if (now < ca->not_before || now >= ca->not_after)
        return AMT_ERR_CA_CHAIN;

    if ((c = calloc(1, sizeof(*c))) == NULL)
        return AMT_ERR_ALLOC;
    if ((r = device_key(pool, &key)) != 0 ||
        (r = make_cert(ca, key, h, fqdn, now, &leaf, c->serial, sizeof(c->serial),
                       &c->not_after)) != 0)
        goto out;
    if ((r = export_key(key, c)) != 0 || (r = export_chain(ca, leaf, c)) != 0)
        goto out;
    *out = c;
    c = NULL;
    r = 0;
out:
    ERR_clear_error();
    site_ca_cert_free(c);
    EVP_PKEY_free(key);
    X509_free(leaf);
    return r;
}

void
site_ca_cert_free(struct site_ca_cert *c)
{
    if (c == NULL)
        return;
    if (c->key_pem != NULL)
        OPENSSL_cleanse(c->key_pem, strlen(c->key_pem));
    free(c->key_pem);
    OPENSSL_cleanse(c->key_der, c->key_der_len);
    free(c->key_der);
    free(c->cert_pem);
    free(c->chain_pem);
    for (size_t i = 0; i < c->n_chain; i++)
        free(c->chain_der[i]);
    free(c);
}

/* ---- checking what a device serves ---- */

int
site_ca_verify_device(const struct site_ca *ca, X509 *cert, STACK_OF(X509) *untrusted,
                      const char *fqdn, char *err, size_t errlen)
{
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    int r = AMT_ERR_ALLOC;

    say(err, errlen, "%s", "");
    if (ca == NULL || cert == NULL || fqdn == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((store = X509_STORE_new()) == NULL || (ctx = X509_STORE_CTX_new()) == NULL)
        goto out;
    /* the issuing CA is the anchor: a certificate from another CA under the same
     * root is not one this site issued */
    if (X509_STORE_add_cert(store, ca->cert) != 1 ||
        X509_STORE_CTX_init(ctx, store, cert, untrusted) != 1)
        goto out;
    X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx),
                                X509_V_FLAG_PARTIAL_CHAIN);
    if (X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER) != 1)
        goto out;
    if (X509_verify_cert(ctx) != 1) {
        say(err, errlen, "device certificate does not verify against the issuing CA: %s",
            X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
        r = AMT_ERR_CA_VERIFY;
        goto out;
    }
    if (X509_check_host(cert, fqdn, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) != 1) {
        say(err, errlen, "device certificate is not for %s", fqdn);
        r = AMT_ERR_CA_HOST_MISMATCH;
        goto out;
    }
    r = 0;
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return r;
}
