/*
 * The site's issuing CA against the test PKI (certs/README.md): a device certificate
 * it issues verifies up to the root, names the device, serves TLS and matches its
 * key; a CA key over 2048 bits is refused at load (PKI-CA-KEYLEN); and the check the
 * SP makes after phase 1 refuses another host name, a self-signed certificate and
 * certificates from other CAs. Certificates the PKI lacks are minted here.
 */
#include "ca.h"
#include "err.h"
#include "keypool.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

static char tmpdir[64];

static int
suite_init(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_prov_ca.XXXXXX");
    return mkdtemp(tmpdir) == NULL;
}

static int
suite_cleanup(void)
{
    rmdir(tmpdir);
    return 0;
}

/* The site's CA as the demo configures it: the issuing CA and the root above it. */
static struct site_ca *
load_issuing(void)
{
    char crt[512], key[512], root[512], err[512];
    struct site_ca *ca = NULL;

    unit_certs_path(crt, sizeof(crt), "issuing-ca.crt");
    unit_certs_path(key, sizeof(key), "issuing-ca.key");
    unit_certs_path(root, sizeof(root), "root-ca.crt");
    if (site_ca_load(crt, key, root, &ca, err, sizeof(err)) != 0)
        fprintf(stderr, "site_ca_load: %s\n", err);
    return ca;
}

static int
try_load(const char *crt_file, const char *key_file, const char *chain_file, char *err,
         size_t errlen)
{
    char crt[512], key[512], chain[512];
    struct site_ca *ca = NULL;
    int r;

    unit_certs_path(crt, sizeof(crt), crt_file);
    unit_certs_path(key, sizeof(key), key_file);
    if (chain_file != NULL)
        unit_certs_path(chain, sizeof(chain), chain_file);
    r = site_ca_load(crt, key, chain_file != NULL ? chain : NULL, &ca, err, errlen);
    CU_ASSERT((r == 0) == (ca != NULL));
    site_ca_free(ca);
    return r;
}

static X509 *
der_cert(const unsigned char *der, size_t len)
{
    const unsigned char *p = der;

    return d2i_X509(NULL, &p, (long)len);
}

static time_t
cert_time(const ASN1_TIME *t)
{
    struct tm tm;

    if (ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return timegm(&tm);
}

/* Does cert verify for TLS servers, from trusted up, through untrusted? */
static bool
verifies(X509 *cert, X509 *trusted, X509 *untrusted)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *chain = sk_X509_new_null();
    bool ok = false;

    if (store != NULL && ctx != NULL && chain != NULL &&
        X509_STORE_add_cert(store, trusted) == 1 &&
        (untrusted == NULL || sk_X509_push(chain, untrusted) > 0) &&
        X509_STORE_CTX_init(ctx, store, cert, chain) == 1 &&
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER) == 1)
        ok = X509_verify_cert(ctx) == 1;
    sk_X509_free(chain);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok;
}

static size_t
count_of(const char *haystack, const char *needle)
{
    size_t n = 0;

    for (const char *p = haystack; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* ---- issuing ---- */

static void
test_issued_certificate(void)
{
    struct site_ca *ca = load_issuing();
    struct site_ca_cert *c = NULL;
    X509 *leaf, *issuing, *root, *from_pem;
    EVP_PKEY *key, *key_from_pem;
    GENERAL_NAMES *san;
    const unsigned char *p;
    char cn[256];
    BIO *bio;
    time_t now = time(NULL);

    CU_ASSERT_PTR_NOT_NULL_FATAL(ca);
    CU_ASSERT_EQUAL_FATAL(site_ca_issue(ca, NULL, "PC1", "Contoso.com", &c), 0);
    CU_ASSERT_EQUAL_FATAL(c->n_chain, 3);
    leaf = der_cert(c->chain_der[0], c->chain_der_len[0]);
    issuing = der_cert(c->chain_der[1], c->chain_der_len[1]);
    root = der_cert(c->chain_der[2], c->chain_der_len[2]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(leaf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(issuing);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);

    /* leaf, issuing CA, root: and it verifies from the root through the issuing CA */
    CU_ASSERT_EQUAL(X509_cmp(issuing, site_ca_certificate(ca)), 0);
    CU_ASSERT_TRUE(X509_self_signed(root, 1) == 1);
    CU_ASSERT_TRUE(verifies(leaf, root, issuing));
    CU_ASSERT_FALSE(verifies(leaf, root, NULL));

    /* the names: CN host.domain, SAN both forms, in lower case */
    X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn,
                              sizeof(cn));
    CU_ASSERT_STRING_EQUAL(cn, "pc1.contoso.com");
    CU_ASSERT_EQUAL(X509_check_host(leaf, "pc1.contoso.com", 0, 0, NULL), 1);
    CU_ASSERT_EQUAL(X509_check_host(leaf, "pc1", 0, 0, NULL), 1);
    CU_ASSERT_NOT_EQUAL(X509_check_host(leaf, "pc2.contoso.com", 0, 0, NULL), 1);
    san = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(san);
    CU_ASSERT_EQUAL(sk_GENERAL_NAME_num(san), 2);
    GENERAL_NAMES_free(san);

    /* a TLS server certificate, not a CA */
    CU_ASSERT(X509_get_extended_key_usage(leaf) & XKU_SSL_SERVER);
    CU_ASSERT_EQUAL(X509_check_ca(leaf), 0);
    CU_ASSERT(X509_get_key_usage(leaf) & KU_KEY_ENCIPHERMENT);

    /* the key: RSA-2048, the certificate's, as PKCS#1 DER and as PEM */
    p = c->key_der;
    key = d2i_AutoPrivateKey(NULL, &p, (long)c->key_der_len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(key);
    CU_ASSERT_EQUAL(X509_check_private_key(leaf, key), 1);
    CU_ASSERT_EQUAL(EVP_PKEY_get_bits(key), 2048);
    CU_ASSERT_EQUAL(EVP_PKEY_get_base_id(key), EVP_PKEY_RSA);
    /* RSAPrivateKey: SEQUENCE { INTEGER 0, INTEGER n ...}; PKCS#8 would have a SEQUENCE
     */
    CU_ASSERT_EQUAL(c->key_der[0], 0x30);
    CU_ASSERT_EQUAL(c->key_der[7], 0x02);
    bio = BIO_new_mem_buf(c->key_pem, -1);
    key_from_pem = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    CU_ASSERT_PTR_NOT_NULL(key_from_pem);
    CU_ASSERT_EQUAL(EVP_PKEY_eq(key, key_from_pem), 1);
    EVP_PKEY_free(key_from_pem);
    EVP_PKEY_free(key);

    /* the PEM forms say the same */
    CU_ASSERT_EQUAL(count_of(c->chain_pem, "-----BEGIN CERTIFICATE-----"), 3);
    CU_ASSERT_EQUAL(count_of(c->cert_pem, "-----BEGIN CERTIFICATE-----"), 1);
    bio = BIO_new_mem_buf(c->cert_pem, -1);
    from_pem = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    CU_ASSERT_EQUAL(X509_cmp(from_pem, leaf), 0);
    X509_free(from_pem);

    /* validity: about five years from now, begun already */
    CU_ASSERT(cert_time(X509_get0_notBefore(leaf)) <= now);
    CU_ASSERT(cert_time(X509_get0_notAfter(leaf)) == c->not_after);
    CU_ASSERT(c->not_after >= now + (time_t)SITE_CA_VALIDITY_DAYS * 86400 - 60);
    CU_ASSERT(c->not_after <= now + (time_t)SITE_CA_VALIDITY_DAYS * 86400 + 60);
    CU_ASSERT(strlen(c->serial) >= 38);

    X509_free(leaf);
    X509_free(issuing);
    X509_free(root);
    site_ca_cert_free(c);
    site_ca_free(ca);
}

static void
test_serials_differ_and_validity_capped(void)
{
    struct site_ca *ca = load_issuing();
    struct site_ca_cert *a = NULL, *b = NULL;
    X509 *issuing;

    CU_ASSERT_PTR_NOT_NULL_FATAL(ca);
    CU_ASSERT_EQUAL_FATAL(site_ca_issue(ca, NULL, "pc1", "contoso.com", &a), 0);
    /* never beyond the CA's own notAfter, however long asked for */
    CU_ASSERT_EQUAL(site_ca_set_validity(ca, 36500), 0);
    CU_ASSERT_EQUAL_FATAL(site_ca_issue(ca, NULL, "pc1", "contoso.com", &b), 0);
    CU_ASSERT_STRING_NOT_EQUAL(a->serial, b->serial);
    issuing = site_ca_certificate(ca);
    CU_ASSERT_EQUAL(b->not_after, cert_time(X509_get0_notAfter(issuing)));
    CU_ASSERT(a->not_after < b->not_after);
    CU_ASSERT_EQUAL(site_ca_set_validity(ca, 0), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_ca_set_validity(ca, 36501), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_ca_set_validity(NULL, 10), AMT_ERR_INVALID_ARGUMENT);
    site_ca_cert_free(a);
    site_ca_cert_free(b);
    site_ca_free(ca);
}

static void
test_keys_from_pool(void)
{
    struct site_ca *ca = load_issuing();
    struct keypool *pool = NULL, *small = NULL;
    struct site_ca_cert *c = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(ca);
    CU_ASSERT_EQUAL_FATAL(keypool_new(2048, &pool), 0);
    CU_ASSERT_EQUAL_FATAL(keypool_fill(pool, 1), 0);
    CU_ASSERT_EQUAL(site_ca_issue(ca, pool, "pc1", "contoso.com", &c), 0);
    CU_ASSERT_EQUAL(keypool_size(pool), 0);
    site_ca_cert_free(c);
    c = NULL;
    /* AMT takes RSA-2048: a pool of other keys is a configuration mistake */
    CU_ASSERT_EQUAL_FATAL(keypool_new(1024, &small), 0);
    CU_ASSERT_EQUAL_FATAL(keypool_fill(small, 1), 0);
    CU_ASSERT_EQUAL(site_ca_issue(ca, small, "pc1", "contoso.com", &c),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(c);
    keypool_free(pool);
    keypool_free(small);
    site_ca_free(ca);
}

static void
test_issue_arguments(void)
{
    struct site_ca *ca = load_issuing();
    struct site_ca_cert *c = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(ca);
    CU_ASSERT_EQUAL(site_ca_issue(ca, NULL, "pc1.contoso.com", "contoso.com", &c),
                    AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(site_ca_issue(ca, NULL, "pc_1", "contoso.com", &c), AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(site_ca_issue(ca, NULL, "pc1", "contoso..com", &c), AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(site_ca_issue(ca, NULL, NULL, "contoso.com", &c),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_ca_issue(ca, NULL, "pc1", "contoso.com", NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(c);
    site_ca_cert_free(NULL);
    site_ca_free(NULL);
    CU_ASSERT_PTR_NULL(site_ca_certificate(NULL));
    site_ca_free(ca);
}

/* ---- loading ---- */

/* Mints a certificate under issuer; ca adds CA:TRUE, eku an extended key usage. */
static X509 *
mint(X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *key, const char *cn, bool ca,
     const char *eku)
{
    X509 *x = X509_new();
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    bool ok;

    ok = x != NULL && X509_set_version(x, X509_VERSION_3) == 1 &&
         ASN1_INTEGER_set(X509_get_serialNumber(x), 4242) == 1 &&
         X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                    (const unsigned char *)cn, -1, -1, 0) == 1 &&
         X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer)
                                                : X509_get_subject_name(x)) == 1 &&
         X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
         X509_gmtime_adj(X509_getm_notAfter(x), 86400) != NULL &&
         X509_set_pubkey(x, key) == 1;
    X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    if (ok && ca) {
        ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
        ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;
        X509_EXTENSION_free(ext);
    }
    if (ok && eku != NULL) {
        ext = X509V3_EXT_conf_nid(NULL, &v3, NID_ext_key_usage, eku);
        ok = ext != NULL && X509_add_ext(x, ext, -1) == 1;
        X509_EXTENSION_free(ext);
    }
    if (!ok || X509_sign(x, issuer_key, EVP_sha256()) <= 0) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static bool
write_pem(const char *path, X509 *cert, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    bool ok;

    if (f == NULL)
        return false;
    ok = cert != NULL ? PEM_write_X509(f, cert) == 1
                      : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
    return fclose(f) == 0 && ok;
}

static void
test_ca_key_over_2048_refused(void)
{
    char err[512] = "", crt[256], key[256], root[512];
    EVP_PKEY *root_key = unit_read_key("root-ca-4096.key"), *mid_key = NULL;
    X509 *root_cert = unit_read_cert("root-ca-4096.crt"), *mid = NULL;
    struct site_ca *ca = NULL;

    /* the 4096-bit root as the issuing CA itself */
    CU_ASSERT_EQUAL(
        try_load("root-ca-4096.crt", "root-ca-4096.key", NULL, err, sizeof(err)),
        AMT_ERR_CERT_REFUSED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "PKI-CA-KEYLEN"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "4096-bit"));

    /* a 2048-bit issuing CA whose root has the long key: the whole chain counts */
    CU_ASSERT_PTR_NOT_NULL_FATAL(root_key);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root_cert);
    mid_key = EVP_RSA_gen(2048);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mid_key);
    mid = mint(root_cert, root_key, mid_key, "Contoso Issuing CA under 4096", true, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mid);
    snprintf(crt, sizeof(crt), "%s/mid.crt", tmpdir);
    snprintf(key, sizeof(key), "%s/mid.key", tmpdir);
    CU_ASSERT_FATAL(write_pem(crt, mid, NULL) && write_pem(key, NULL, mid_key));
    unit_certs_path(root, sizeof(root), "root-ca-4096.crt");
    CU_ASSERT_EQUAL(site_ca_load(crt, key, root, &ca, err, sizeof(err)),
                    AMT_ERR_CERT_REFUSED);
    CU_ASSERT_PTR_NULL(ca);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "Contoso Root CA 4096"));
    unlink(crt);
    unlink(key);
    X509_free(mid);
    X509_free(root_cert);
    EVP_PKEY_free(mid_key);
    EVP_PKEY_free(root_key);
}

static void
test_load_refusals(void)
{
    char err[512] = "", both[256], path[512];
    struct site_ca *ca = NULL;
    FILE *out;

    CU_ASSERT_EQUAL(
        try_load("issuing-ca.crt", "root-ca.key", "root-ca.crt", err, sizeof(err)),
        AMT_ERR_CA_KEY_MISMATCH);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "Contoso Issuing CA"));
    CU_ASSERT_EQUAL(
        try_load("device.crt", "device.key", "device.chain.pem", err, sizeof(err)),
        AMT_ERR_CA_NOT_CA);
    CU_ASSERT_EQUAL(try_load("issuing-ca.crt", "issuing-ca.key", NULL, err, sizeof(err)),
                    AMT_ERR_CA_CHAIN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "lacks the issuer"));
    CU_ASSERT_EQUAL(try_load("issuing-ca.crt", "issuing-ca.key", "untrusted-root-ca.crt",
                             err, sizeof(err)),
                    AMT_ERR_CA_CHAIN);
    CU_ASSERT_EQUAL(try_load("no-such.crt", "issuing-ca.key", NULL, err, sizeof(err)),
                    AMT_ERR_CA_LOAD);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no-such.crt"));
    CU_ASSERT_EQUAL(
        try_load("issuing-ca.crt", "no-such.key", "root-ca.crt", err, sizeof(err)),
        AMT_ERR_CA_LOAD);
    CU_ASSERT_EQUAL(
        try_load("issuing-ca.crt", "issuing-ca.crt", "root-ca.crt", err, sizeof(err)),
        AMT_ERR_CA_LOAD);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no unencrypted private key"));
    CU_ASSERT_EQUAL(try_load("issuing-ca.key", "issuing-ca.key", NULL, err, sizeof(err)),
                    AMT_ERR_CA_LOAD);

    /* a root may issue on its own; a file may hold the CA and its chain together */
    CU_ASSERT_EQUAL(try_load("root-ca.crt", "root-ca.key", NULL, err, sizeof(err)), 0);
    snprintf(both, sizeof(both), "%s/both.pem", tmpdir);
    out = fopen(both, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    for (int i = 0; i < 2; i++) {
        char *text;

        unit_certs_path(path, sizeof(path), i == 0 ? "issuing-ca.crt" : "root-ca.crt");
        text = (char *)unit_read_file(path, NULL);
        fputs(text, out);
        free(text);
    }
    fclose(out);
    unit_certs_path(path, sizeof(path), "issuing-ca.key");
    CU_ASSERT_EQUAL(site_ca_load(both, path, NULL, &ca, err, sizeof(err)), 0);
    site_ca_free(ca);
    unlink(both);
    CU_ASSERT_EQUAL(site_ca_load(NULL, path, NULL, &ca, err, sizeof(err)),
                    AMT_ERR_INVALID_ARGUMENT);
}

/* ---- what the SP checks after phase 1 ---- */

static void
test_verify_device(void)
{
    struct site_ca *ca = load_issuing();
    struct site_ca_cert *c = NULL;
    EVP_PKEY *key = NULL, *root_key = unit_read_key("root-ca.key");
    X509 *leaf, *other, *root = unit_read_cert("root-ca.crt"), *self = NULL, *by_root;
    char *key_pem = NULL, *cert_pem = NULL, err[512];
    BIO *bio;
    const unsigned char *p;

    CU_ASSERT_PTR_NOT_NULL_FATAL(ca);
    CU_ASSERT_EQUAL_FATAL(site_ca_issue(ca, NULL, "pc1", "contoso.com", &c), 0);
    leaf = der_cert(c->chain_der[0], c->chain_der_len[0]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(leaf);
    CU_ASSERT_EQUAL(
        site_ca_verify_device(ca, leaf, NULL, "pc1.contoso.com", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(
        site_ca_verify_device(ca, leaf, NULL, "PC1.Contoso.COM", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(
        site_ca_verify_device(ca, leaf, NULL, "pc2.contoso.com", err, sizeof(err)),
        AMT_ERR_CA_HOST_MISMATCH);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "pc2.contoso.com"));

    /* the device's own first-start certificate, self-signed, for the right name */
    p = c->key_der;
    key = d2i_AutoPrivateKey(NULL, &p, (long)c->key_der_len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(key);
    CU_ASSERT_EQUAL_FATAL(
        keypool_self_signed(key, "pc1.contoso.com", &key_pem, &cert_pem), 0);
    bio = BIO_new_mem_buf(cert_pem, -1);
    self = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    CU_ASSERT_PTR_NOT_NULL_FATAL(self);
    CU_ASSERT_EQUAL(
        site_ca_verify_device(ca, self, NULL, "pc1.contoso.com", err, sizeof(err)),
        AMT_ERR_CA_VERIFY);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "self-signed"));

    /* the PKI's device certificate is from the issuing CA too */
    other = unit_read_cert("device.crt");
    CU_ASSERT_EQUAL(site_ca_verify_device(ca, other, NULL, "amt-device.contoso.com", err,
                                          sizeof(err)),
                    0);
    X509_free(other);
    /* another CA's, expired, or not for TLS servers */
    other = unit_read_cert("bad-untrusted-root.crt");
    CU_ASSERT_EQUAL(site_ca_verify_device(ca, other, NULL, "provserver.contoso.com", err,
                                          sizeof(err)),
                    AMT_ERR_CA_VERIFY);
    X509_free(other);
    other = unit_read_cert("bad-expired.crt");
    CU_ASSERT_EQUAL(site_ca_verify_device(ca, other, NULL, "provserver.contoso.com", err,
                                          sizeof(err)),
                    AMT_ERR_CA_VERIFY);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "expired"));
    X509_free(other);
    other = unit_read_cert("bad-oid-no-server-auth.crt");
    CU_ASSERT_EQUAL(site_ca_verify_device(ca, other, NULL, "provserver.contoso.com", err,
                                          sizeof(err)),
                    AMT_ERR_CA_VERIFY);
    X509_free(other);
    /* issued by the root itself: same PKI, but not this site's issuing CA */
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root_key);
    by_root = mint(root, root_key, key, "pc1.contoso.com", false, "serverAuth");
    CU_ASSERT_PTR_NOT_NULL_FATAL(by_root);
    CU_ASSERT_EQUAL(
        site_ca_verify_device(ca, by_root, NULL, "pc1.contoso.com", err, sizeof(err)),
        AMT_ERR_CA_VERIFY);
    CU_ASSERT_EQUAL(
        site_ca_verify_device(ca, NULL, NULL, "pc1.contoso.com", err, sizeof(err)),
        AMT_ERR_INVALID_ARGUMENT);

    X509_free(by_root);
    X509_free(root);
    EVP_PKEY_free(root_key);
    X509_free(self);
    X509_free(leaf);
    OPENSSL_cleanse(key_pem, strlen(key_pem));
    free(key_pem);
    free(cert_pem);
    EVP_PKEY_free(key);
    site_ca_cert_free(c);
    site_ca_free(ca);
}

static CU_TestInfo ca_tests[] = {
    {"issued certificate: chain, names, purpose, key", test_issued_certificate},
    {"serials differ, validity capped by the CA",
     test_serials_differ_and_validity_capped},
    {"keys from a pool", test_keys_from_pool},
    {"issue arguments", test_issue_arguments},
    {"PKI-CA-KEYLEN: CA key over 2048 bits refused", test_ca_key_over_2048_refused},
    {"load refusals", test_load_refusals},
    {"device certificate check", test_verify_device},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"issuing CA", suite_init, suite_cleanup, NULL, NULL, ca_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_prov_ca", suites);
}
