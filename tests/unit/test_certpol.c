/*
 * Certificate policy against the test PKI (certs/README.md): every provisioning
 * certificate AMT should accept passes, and every negative one is refused with its
 * own reason. Certificates that the PKI does not hold (two CNs, a NUL in a CN, a
 * leaf as issuer) are minted here under the issuing CA.
 */
#include "certpol.h"
#include "err.h"
#include "thumbprint.h"
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

/* 2020-07-01, inside the expired certificate's validity. */
#define IN_2020 ((time_t)1593561600)
/* 2018-07-01, before the CAs' notBefore (2019-01-01). */
#define IN_2018 ((time_t)1530403200)

static struct amt_thumbprint root_sha256;
static EVP_PKEY *issuing_key;
static X509 *issuing_cert;
static X509 *root_cert;

/* A thumbprint file holds one line, "sha256:<hex>". */
static int
read_thumbprint(const char *file, struct amt_thumbprint *out)
{
    char path[512];
    unsigned char *text;
    int r;

    unit_certs_path(path, sizeof(path), file);
    text = unit_read_file(path, NULL);
    text[strcspn((char *)text, "\n")] = '\0';
    r = thumbprint_parse((char *)text, out);
    free(text);
    return r;
}

static int
suite_init(void)
{
    if (read_thumbprint("root-ca.sha256.txt", &root_sha256) != 0 ||
        (issuing_key = unit_read_key("issuing-ca.key")) == NULL ||
        (issuing_cert = unit_read_cert("issuing-ca.crt")) == NULL ||
        (root_cert = unit_read_cert("root-ca.crt")) == NULL)
        return 1;
    return 0;
}

static int
suite_cleanup(void)
{
    EVP_PKEY_free(issuing_key);
    X509_free(issuing_cert);
    X509_free(root_cert);
    return 0;
}

/* The enterprise site: AMT in contoso.com trusting the enterprise root. */
static struct certpol_policy
contoso(void)
{
    return (struct certpol_policy){
        .domain_suffix = "contoso.com",
        .trusted_roots = &root_sha256,
        .n_trusted_roots = 1,
    };
}

static void
free_chain(X509 *leaf, STACK_OF(X509) *chain)
{
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
}

static void
load(const char *name, X509 **leaf, STACK_OF(X509) **chain)
{
    char file[256], path[512];

    snprintf(file, sizeof(file), "%s.chain.pem", name);
    unit_certs_path(path, sizeof(path), file);
    CU_ASSERT_EQUAL_FATAL(certpol_load_chain_pem(path, leaf, chain), 0);
}

/* Checks NAME.chain.pem under a policy; returns the reason (CERTPOL_OK on success). */
static enum certpol_reason
check_file(const char *name, const struct certpol_policy *p)
{
    X509 *leaf;
    STACK_OF(X509) *chain;
    enum certpol_reason why = CERTPOL_CHAIN_BROKEN;
    int r;

    load(name, &leaf, &chain);
    r = certpol_check_chain(p, leaf, chain, &why);
    CU_ASSERT(r == 0 ? why == CERTPOL_OK
                     : r == AMT_ERR_CERT_REFUSED && why != CERTPOL_OK);
    free_chain(leaf, chain);
    return why;
}

/* Whether a refusal is the one expected, printing the actual one when it is not. */
static int
refused_as(const char *name, const struct certpol_policy *p, enum certpol_reason want)
{
    enum certpol_reason got = check_file(name, p);

    if (got != want)
        fprintf(stderr, "\n    %s: got %s, want %s\n", name, certpol_reason_name(got),
                certpol_reason_name(want));
    return got == want;
}

/* ---- the PKI itself ---- */

static void
test_thumbprint_files_match_roots(void)
{
    static const char *roots[] = {"root-ca", "untrusted-root-ca", "root-ca-4096"};
    static const enum amt_hash_type types[] = {AMT_HASH_SHA1, AMT_HASH_SHA256,
                                               AMT_HASH_SHA384};

    for (size_t i = 0; i < 3; i++) {
        char file[256];
        X509 *cert;

        snprintf(file, sizeof(file), "%s.crt", roots[i]);
        cert = unit_read_cert(file);
        CU_ASSERT_PTR_NOT_NULL_FATAL(cert);
        for (size_t j = 0; j < 3; j++) {
            struct amt_thumbprint want, got;

            snprintf(file, sizeof(file), "%s.%s.txt", roots[i],
                     thumbprint_type_name(types[j]));
            CU_ASSERT_EQUAL_FATAL(read_thumbprint(file, &got), 0);
            CU_ASSERT_EQUAL_FATAL(thumbprint_of_x509(cert, types[j], &want), 0);
            CU_ASSERT(thumbprint_equal(&got, &want));
        }
        X509_free(cert);
    }
}

static void
test_trusted_roots_file(void)
{
    char path[512], line[AMT_THUMBPRINT_TEXT_MAX + 2];
    const enum amt_hash_type types[] = {AMT_HASH_SHA1, AMT_HASH_SHA256, AMT_HASH_SHA384};
    size_t n = 0;
    FILE *f;

    unit_certs_path(path, sizeof(path), "trusted-roots.txt");
    f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        struct amt_thumbprint got, want;

        line[strcspn(line, "\n")] = '\0';
        CU_ASSERT_FATAL(n < 3);
        CU_ASSERT_EQUAL(thumbprint_parse(line, &got), 0);
        CU_ASSERT_EQUAL(thumbprint_of_x509(root_cert, types[n], &want), 0);
        CU_ASSERT(thumbprint_equal(&got, &want));
        n++;
    }
    fclose(f);
    CU_ASSERT_EQUAL(n, 3);
}

/* ---- accepted chains ---- */

static void
test_oid_cert_with_each_hash(void)
{
    static const char *files[] = {"root-ca.sha1.txt", "root-ca.sha256.txt",
                                  "root-ca.sha384.txt"};

    for (size_t i = 0; i < 3; i++) {
        struct certpol_policy p = contoso();
        struct amt_thumbprint tp;

        CU_ASSERT_EQUAL_FATAL(read_thumbprint(files[i], &tp), 0);
        p.trusted_roots = &tp;
        CU_ASSERT_EQUAL(check_file("prov-oid", &p), CERTPOL_OK);
    }
}

static void
test_trusted_among_others(void)
{
    struct certpol_policy p = contoso();
    struct amt_thumbprint tps[3];

    /* An entry of no known hash type is skipped, not fatal. */
    memset(&tps[0], 0, sizeof(tps[0]));
    tps[0].type = (enum amt_hash_type)7;
    CU_ASSERT_EQUAL_FATAL(read_thumbprint("untrusted-root-ca.sha1.txt", &tps[1]), 0);
    CU_ASSERT_EQUAL_FATAL(read_thumbprint("root-ca.sha384.txt", &tps[2]), 0);
    p.trusted_roots = tps;
    p.n_trusted_roots = 3;
    CU_ASSERT_EQUAL(check_file("prov-oid", &p), CERTPOL_OK);
    p.n_trusted_roots = 2;
    CU_ASSERT(refused_as("prov-oid", &p, CERTPOL_ROOT_NOT_TRUSTED));
}

static void
test_ou_cert(void)
{
    struct certpol_policy p = contoso();

    CU_ASSERT_EQUAL(check_file("prov-ou", &p), CERTPOL_OK);
}

static void
test_suffix_forms(void)
{
    struct certpol_policy p = contoso();

    p.domain_suffix = "CONTOSO.COM.";
    CU_ASSERT_EQUAL(check_file("prov-oid", &p), CERTPOL_OK);
    p.domain_suffix = "sales.contoso.com";
    CU_ASSERT(refused_as("prov-oid", &p, CERTPOL_CN_SUFFIX_MISMATCH));
    p.parent_domain_rule = true;
    CU_ASSERT_EQUAL(check_file("prov-oid", &p), CERTPOL_OK);
}

static void
test_validity_at_given_time(void)
{
    struct certpol_policy p = contoso();

    /* The expired certificate was fine in 2020: its date is its only defect. */
    p.now = IN_2020;
    CU_ASSERT_EQUAL(check_file("bad-expired", &p), CERTPOL_OK);
    p.now = IN_2018;
    CU_ASSERT(refused_as("prov-oid", &p, CERTPOL_CERT_NOT_YET_VALID));
}

/* ---- the negative material, one defect each ---- */

static void
test_no_oid_no_ou(void)
{
    struct certpol_policy p = contoso();

    CU_ASSERT(refused_as("bad-no-oid-no-ou", &p, CERTPOL_NO_AMT_OID_OR_OU));
    /* The device certificate has serverAuth only: fine for TLS, not for provisioning. */
    CU_ASSERT(refused_as("device", &p, CERTPOL_NO_AMT_OID_OR_OU));
}

static void
test_ou_other_case(void)
{
    struct certpol_policy p = contoso();

    CU_ASSERT(refused_as("bad-ou-case", &p, CERTPOL_OU_CASE_MISMATCH));
}

static void
test_oid_without_server_auth(void)
{
    struct certpol_policy p = contoso();

    CU_ASSERT(refused_as("bad-oid-no-server-auth", &p, CERTPOL_NO_SERVER_AUTH));
}

static void
test_no_cn(void)
{
    struct certpol_policy p = contoso();

    CU_ASSERT(refused_as("bad-no-cn", &p, CERTPOL_NO_CN));
}

static void
test_other_domain(void)
{
    struct certpol_policy p = contoso();

    CU_ASSERT(refused_as("bad-northwind", &p, CERTPOL_CN_SUFFIX_MISMATCH));
    p.parent_domain_rule = true;
    CU_ASSERT(refused_as("bad-northwind", &p, CERTPOL_CN_SUFFIX_MISMATCH));
    /* Under its own domain the same certificate passes: the name is its only defect. */
    p.domain_suffix = "northwindtraders.com";
    CU_ASSERT_EQUAL(check_file("bad-northwind", &p), CERTPOL_OK);
}

static void
test_lookalike_domain(void)
{
    struct certpol_policy p = contoso();

    CU_ASSERT(refused_as("bad-evilcontoso", &p, CERTPOL_CN_SUFFIX_MISMATCH));
    p.parent_domain_rule = true;
    CU_ASSERT(refused_as("bad-evilcontoso", &p, CERTPOL_CN_SUFFIX_MISMATCH));
    p.domain_suffix = "sales.contoso.com";
    CU_ASSERT(refused_as("bad-evilcontoso", &p, CERTPOL_CN_SUFFIX_MISMATCH));
}

static void
test_empty_suffix(void)
{
    struct certpol_policy p = contoso();

    p.domain_suffix = "";
    CU_ASSERT(refused_as("prov-oid", &p, CERTPOL_EMPTY_SUFFIX));
    p.domain_suffix = NULL;
    p.parent_domain_rule = true;
    CU_ASSERT(refused_as("prov-oid", &p, CERTPOL_EMPTY_SUFFIX));
}

static void
test_expired(void)
{
    struct certpol_policy p = contoso();

    CU_ASSERT(refused_as("bad-expired", &p, CERTPOL_CERT_EXPIRED));
}

static void
test_untrusted_root(void)
{
    struct certpol_policy p = contoso();
    struct amt_thumbprint tp;

    CU_ASSERT(refused_as("bad-untrusted-root", &p, CERTPOL_ROOT_NOT_TRUSTED));
    p.n_trusted_roots = 0;
    p.trusted_roots = NULL;
    CU_ASSERT(refused_as("prov-oid", &p, CERTPOL_ROOT_NOT_TRUSTED));
    /* Trusted by a firmware that stores its hash, the chain is otherwise fine. */
    CU_ASSERT_EQUAL_FATAL(read_thumbprint("untrusted-root-ca.sha256.txt", &tp), 0);
    p.trusted_roots = &tp;
    p.n_trusted_roots = 1;
    CU_ASSERT_EQUAL(check_file("bad-untrusted-root", &p), CERTPOL_OK);
}

static void
test_ca_key_4096(void)
{
    struct certpol_policy p = contoso();
    struct amt_thumbprint tp;
    enum certpol_reason why = CERTPOL_OK;
    X509 *leaf;
    STACK_OF(X509) *chain;

    load("bad-ca-4096", &leaf, &chain);
    CU_ASSERT_EQUAL(certpol_check_ca_keylen(chain, &why), AMT_ERR_CERT_REFUSED);
    CU_ASSERT_EQUAL(why, CERTPOL_CA_KEY_TOO_LONG);
    /* Without a reason pointer the verdict is the same. */
    CU_ASSERT_EQUAL(certpol_check_ca_keylen(chain, NULL), AMT_ERR_CERT_REFUSED);
    free_chain(leaf, chain);

    load("prov-oid", &leaf, &chain);
    CU_ASSERT_EQUAL(certpol_check_ca_keylen(chain, &why), 0);
    CU_ASSERT_EQUAL(why, CERTPOL_OK);
    /* The leaf is no CA: its key length is not this check's business. */
    CU_ASSERT_FATAL(sk_X509_push(chain, leaf) > 0);
    CU_ASSERT_EQUAL(certpol_check_ca_keylen(chain, &why), 0);
    sk_X509_pop_free(chain, X509_free);

    CU_ASSERT(refused_as("bad-ca-4096", &p, CERTPOL_ROOT_NOT_TRUSTED));
    /* Even a firmware that stores the root's hash cannot use it. */
    CU_ASSERT_EQUAL_FATAL(read_thumbprint("root-ca-4096.sha1.txt", &tp), 0);
    p.trusted_roots = &tp;
    CU_ASSERT(refused_as("bad-ca-4096", &p, CERTPOL_CA_KEY_TOO_LONG));

    CU_ASSERT_EQUAL(certpol_check_ca_keylen(NULL, &why), AMT_ERR_INVALID_ARGUMENT);
}

/* ---- the shape of the chain ---- */

/* Checks the leaf of NAME.chain.pem with the certificates that `pick` lists. */
static enum certpol_reason
check_picked(const char *name, const char *pick)
{
    struct certpol_policy p = contoso();
    enum certpol_reason why = CERTPOL_OK;
    X509 *leaf;
    STACK_OF(X509) *chain, *sent = sk_X509_new_null();

    CU_ASSERT_PTR_NOT_NULL_FATAL(sent);
    load(name, &leaf, &chain);
    /* L leaf, I issuing CA, R root, 0 a NULL entry: as listed in NAME.chain.pem. */
    for (const char *c = pick; *c != '\0'; c++) {
        X509 *cert = *c == 'L'   ? leaf
                     : *c == 'I' ? sk_X509_value(chain, 0)
                     : *c == 'R' ? sk_X509_value(chain, sk_X509_num(chain) - 1)
                                 : NULL;
        CU_ASSERT_FATAL(sk_X509_push(sent, cert) > 0);
    }
    certpol_check_chain(&p, leaf, sent, &why);
    sk_X509_free(sent);
    free_chain(leaf, chain);
    return why;
}

static void
test_chain_shapes(void)
{
    struct certpol_policy p = contoso();
    X509 *leaf;
    STACK_OF(X509) *chain;

    CU_ASSERT_EQUAL(check_picked("prov-oid", "IR"), CERTPOL_OK);
    /* Client side, OpenSSL's peer chain starts with the leaf. */
    CU_ASSERT_EQUAL(check_picked("prov-oid", "LIR"), CERTPOL_OK);
    CU_ASSERT_EQUAL(check_picked("prov-oid", "RI"), CERTPOL_OK);
    CU_ASSERT_EQUAL(check_picked("prov-oid", "I0R"), CERTPOL_OK);
    CU_ASSERT_EQUAL(check_picked("prov-oid", ""), CERTPOL_CHAIN_INCOMPLETE);
    CU_ASSERT_EQUAL(check_picked("prov-oid", "I"), CERTPOL_CHAIN_INCOMPLETE);
    CU_ASSERT_EQUAL(check_picked("prov-oid", "R"), CERTPOL_CHAIN_INCOMPLETE);
    CU_ASSERT_EQUAL(check_picked("prov-oid", "IIIIIIIIIR"), CERTPOL_CHAIN_TOO_LONG);
    CU_ASSERT_EQUAL(check_picked("prov-oid", "IIIIIIIIR"), CERTPOL_OK);

    load("prov-oid", &leaf, &chain);
    CU_ASSERT_EQUAL(certpol_check_chain(&p, leaf, NULL, NULL), AMT_ERR_CERT_REFUSED);
    CU_ASSERT_EQUAL(certpol_check_chain(&p, leaf, chain, NULL), 0);
    free_chain(leaf, chain);
}

static void
test_trusted_root_appended(void)
{
    struct certpol_policy p = contoso();
    enum certpol_reason why = CERTPOL_OK;
    X509 *leaf;
    STACK_OF(X509) *chain;

    /* Adding the trusted root does not make another root's chain trusted. */
    load("bad-untrusted-root", &leaf, &chain);
    CU_ASSERT_FATAL(sk_X509_push(chain, root_cert) > 0);
    CU_ASSERT_FATAL(X509_up_ref(root_cert) == 1);
    CU_ASSERT_EQUAL(certpol_check_chain(&p, leaf, chain, &why), AMT_ERR_CERT_REFUSED);
    CU_ASSERT_EQUAL(why, CERTPOL_ROOT_NOT_TRUSTED);
    free_chain(leaf, chain);

    /* Nor does it make an untrusted self-signed leaf trusted. */
    leaf = unit_read_cert("untrusted-root-ca.crt");
    chain = sk_X509_new_null();
    CU_ASSERT_FATAL(leaf != NULL && chain != NULL && sk_X509_push(chain, root_cert) > 0);
    why = CERTPOL_OK;
    CU_ASSERT_EQUAL(certpol_check_chain(&p, leaf, chain, &why), AMT_ERR_CERT_REFUSED);
    CU_ASSERT_EQUAL(why, CERTPOL_ROOT_NOT_TRUSTED);
    sk_X509_free(chain);
    X509_free(leaf);
}

static void
test_tampered_signature(void)
{
    struct certpol_policy p = contoso();
    enum certpol_reason why = CERTPOL_OK;
    unsigned char *der = NULL;
    const unsigned char *in;
    X509 *leaf, *bad;
    STACK_OF(X509) *chain;
    int len;

    load("prov-oid", &leaf, &chain);
    len = i2d_X509(leaf, &der);
    CU_ASSERT_FATAL(len > 0);
    der[len - 1] ^= 0x01;
    in = der;
    bad = d2i_X509(NULL, &in, len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
    CU_ASSERT_EQUAL(certpol_check_chain(&p, bad, chain, &why), AMT_ERR_CERT_REFUSED);
    CU_ASSERT_EQUAL(why, CERTPOL_CHAIN_BROKEN);
    X509_free(bad);
    OPENSSL_free(der);
    free_chain(leaf, chain);
}

static void
test_tampered_root(void)
{
    struct certpol_policy p = contoso();
    enum certpol_reason why = CERTPOL_OK;
    struct amt_thumbprint tp;
    unsigned char *der = NULL;
    const unsigned char *in;
    X509 *leaf, *bad_root;
    STACK_OF(X509) *chain;
    int len;

    /* Trusted by its thumbprint, the root must still have signed itself. */
    len = i2d_X509(root_cert, &der);
    CU_ASSERT_FATAL(len > 0);
    der[len - 1] ^= 0x01;
    in = der;
    bad_root = d2i_X509(NULL, &in, len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bad_root);
    CU_ASSERT_EQUAL_FATAL(thumbprint_of_x509(bad_root, AMT_HASH_SHA256, &tp), 0);
    p.trusted_roots = &tp;
    load("prov-oid", &leaf, &chain);
    X509_free(sk_X509_pop(chain));
    CU_ASSERT_FATAL(sk_X509_push(chain, bad_root) > 0);
    CU_ASSERT_EQUAL(certpol_check_chain(&p, leaf, chain, &why), AMT_ERR_CERT_REFUSED);
    CU_ASSERT_EQUAL(why, CERTPOL_CHAIN_BROKEN);
    OPENSSL_free(der);
    free_chain(leaf, chain);
}

static void
test_bad_arguments(void)
{
    struct certpol_policy p = contoso();
    enum certpol_reason why = CERTPOL_CHAIN_BROKEN;
    X509 *leaf;
    STACK_OF(X509) *chain;

    load("prov-oid", &leaf, &chain);
    CU_ASSERT_EQUAL(certpol_check_chain(NULL, leaf, chain, &why),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(why, CERTPOL_OK);
    CU_ASSERT_EQUAL(certpol_check_chain(&p, NULL, chain, &why), AMT_ERR_INVALID_ARGUMENT);
    p.trusted_roots = NULL;
    CU_ASSERT_EQUAL(certpol_check_chain(&p, leaf, chain, &why), AMT_ERR_INVALID_ARGUMENT);
    free_chain(leaf, chain);
}

/* ---- certificates minted here ---- */

struct rdn {
    int nid;
    int type; /* V_ASN1_* for raw bytes, MBSTRING_UTF8 for text */
    const char *value;
    int len; /* -1: strlen(value) */
};

/*
 * A leaf with the given subject and EKU (NULL: none), signed by `issuer`, with the
 * issuer's own public key (no key to make, and none is used).
 */
static X509 *
mint(X509 *issuer, EVP_PKEY *issuer_key, const struct rdn *rdns, size_t n,
     const char *eku)
{
    X509 *cert = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509V3_CTX ctx;
    X509_EXTENSION *ext;

    CU_ASSERT_FATAL(cert != NULL && name != NULL);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_FATAL(X509_NAME_add_entry_by_NID(name, rdns[i].nid, rdns[i].type,
                                                   (const unsigned char *)rdns[i].value,
                                                   rdns[i].len, -1, 0) == 1);
    CU_ASSERT_FATAL(X509_set_version(cert, X509_VERSION_3) == 1);
    CU_ASSERT_FATAL(ASN1_INTEGER_set(X509_get_serialNumber(cert), 4242) == 1);
    CU_ASSERT_FATAL(X509_set_subject_name(cert, name) == 1);
    CU_ASSERT_FATAL(X509_set_issuer_name(cert, X509_get_subject_name(issuer)) == 1);
    CU_ASSERT_FATAL(X509_gmtime_adj(X509_getm_notBefore(cert), -3600) != NULL);
    CU_ASSERT_FATAL(X509_gmtime_adj(X509_getm_notAfter(cert), 86400) != NULL);
    CU_ASSERT_FATAL(X509_set_pubkey(cert, X509_get0_pubkey(issuer)) == 1);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    if (eku != NULL) {
        ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_ext_key_usage, eku);
        CU_ASSERT_FATAL(ext != NULL && X509_add_ext(cert, ext, -1) == 1);
        X509_EXTENSION_free(ext);
    }
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
    CU_ASSERT_FATAL(ext != NULL && X509_add_ext(cert, ext, -1) == 1);
    X509_EXTENSION_free(ext);
    CU_ASSERT_FATAL(X509_sign(cert, issuer_key, EVP_sha256()) > 0);
    X509_NAME_free(name);
    return cert;
}

#define AMT_EKU "serverAuth," CERTPOL_AMT_OID

/* Mints a leaf under the issuing CA and checks it with the enterprise chain. */
static enum certpol_reason
check_minted(const struct rdn *rdns, size_t n, const char *eku)
{
    struct certpol_policy p = contoso();
    enum certpol_reason why = CERTPOL_CHAIN_BROKEN;
    X509 *leaf = mint(issuing_cert, issuing_key, rdns, n, eku);
    STACK_OF(X509) *chain = sk_X509_new_null();

    CU_ASSERT_FATAL(chain != NULL && sk_X509_push(chain, issuing_cert) > 0 &&
                    sk_X509_push(chain, root_cert) > 0);
    certpol_check_chain(&p, leaf, chain, &why);
    sk_X509_free(chain);
    X509_free(leaf);
    return why;
}

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))
#define CN_OK                                                                            \
    {                                                                                    \
        NID_commonName, MBSTRING_UTF8, "provserver.contoso.com", -1                      \
    }

static void
test_minted_subjects(void)
{
    const struct rdn plain[] = {CN_OK};
    const struct rdn two_cn[] = {CN_OK,
                                 {NID_commonName, MBSTRING_UTF8, "x.evil.example", -1}};
    const struct rdn nul_cn[] = {
        {NID_commonName, V_ASN1_UTF8STRING, "provserver.contoso.com\0.evil.example", 36}};
    /* OpenSSL reads a name attribute held in a BIT STRING, which has no text form. */
    const struct rdn bits_cn[] = {{NID_commonName, V_ASN1_BIT_STRING, "abc", 3}};
    const struct rdn ous[] = {
        {NID_organizationalUnitName, MBSTRING_UTF8, "Sales", -1},
        {NID_organizationalUnitName, V_ASN1_BIT_STRING, "abc", 3},
        {NID_organizationalUnitName, MBSTRING_UTF8, CERTPOL_AMT_OU, -1},
        CN_OK,
    };
    const struct rdn ou_case[] = {
        {NID_organizationalUnitName, MBSTRING_UTF8, "INTEL(R) CLIENT SETUP CERTIFICATE",
         -1},
        CN_OK,
    };

    CU_ASSERT_EQUAL(check_minted(plain, NROWS(plain), AMT_EKU), CERTPOL_OK);
    CU_ASSERT_EQUAL(check_minted(plain, NROWS(plain), "clientAuth"),
                    CERTPOL_NO_AMT_OID_OR_OU);
    CU_ASSERT_EQUAL(check_minted(two_cn, NROWS(two_cn), AMT_EKU), CERTPOL_NO_CN);
    CU_ASSERT_EQUAL(check_minted(nul_cn, NROWS(nul_cn), AMT_EKU), CERTPOL_NO_CN);
    CU_ASSERT_EQUAL(check_minted(bits_cn, NROWS(bits_cn), AMT_EKU), CERTPOL_NO_CN);
    /* The exact OU among others is enough, without any EKU. */
    CU_ASSERT_EQUAL(check_minted(ous, NROWS(ous), NULL), CERTPOL_OK);
    CU_ASSERT_EQUAL(check_minted(ou_case, NROWS(ou_case), NULL),
                    CERTPOL_OU_CASE_MISMATCH);
    /* With the OID, an OU in the wrong case does no harm. */
    CU_ASSERT_EQUAL(check_minted(ou_case, NROWS(ou_case), AMT_EKU), CERTPOL_OK);
}

static void
test_leaf_as_issuer(void)
{
    const struct rdn plain[] = {CN_OK};
    struct certpol_policy p = contoso();
    enum certpol_reason why = CERTPOL_OK;
    EVP_PKEY *key = unit_read_key("prov-oid.key");
    X509 *leaf, *bad;
    STACK_OF(X509) *chain;

    CU_ASSERT_PTR_NOT_NULL_FATAL(key);
    load("prov-oid", &leaf, &chain);
    /* prov-oid is CA:FALSE, so what it signs does not chain. */
    bad = mint(leaf, key, plain, NROWS(plain), AMT_EKU);
    CU_ASSERT_FATAL(sk_X509_insert(chain, leaf, 0) > 0);
    CU_ASSERT_EQUAL(certpol_check_chain(&p, bad, chain, &why), AMT_ERR_CERT_REFUSED);
    CU_ASSERT_EQUAL(why, CERTPOL_CHAIN_BROKEN);
    X509_free(bad);
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);
}

/* ---- CN against the suffix ---- */

static void
test_cn_whole_suffix_rule(void)
{
    CU_ASSERT(certpol_cn_matches_suffix("provserver.contoso.com", "contoso.com", false));
    CU_ASSERT(
        certpol_cn_matches_suffix("provserver.eu.contoso.com", "contoso.com", false));
    CU_ASSERT(certpol_cn_matches_suffix("provserver.sales.contoso.com",
                                        "sales.contoso.com", false));
    /* Whole labels only. */
    CU_ASSERT(
        !certpol_cn_matches_suffix("provserver.evilcontoso.com", "contoso.com", false));
    CU_ASSERT(!certpol_cn_matches_suffix("provserver.contoso.com.evil.example",
                                         "contoso.com", false));
    CU_ASSERT(!certpol_cn_matches_suffix("provserver.northwindtraders.com", "contoso.com",
                                         false));
    /* The CN's domain has to reach the whole suffix. */
    CU_ASSERT(
        !certpol_cn_matches_suffix("provserver.contoso.com", "sales.contoso.com", false));
    CU_ASSERT(!certpol_cn_matches_suffix("host.marketing.contoso.com",
                                         "sales.contoso.com", false));
    /* The CN is a host in the domain, not the domain itself. */
    CU_ASSERT(!certpol_cn_matches_suffix("contoso.com", "contoso.com", false));
    CU_ASSERT(!certpol_cn_matches_suffix("provserver", "contoso.com", false));
}

static void
test_cn_parent_domain_rule(void)
{
    CU_ASSERT(
        certpol_cn_matches_suffix("provserver.contoso.com", "sales.contoso.com", true));
    CU_ASSERT(certpol_cn_matches_suffix("host.marketing.contoso.com", "sales.contoso.com",
                                        true));
    CU_ASSERT(certpol_cn_matches_suffix("host.x.marketing.contoso.com",
                                        "sales.contoso.com", true));
    CU_ASSERT(certpol_cn_matches_suffix("provserver.contoso.com", "contoso.com", true));
    CU_ASSERT(certpol_cn_matches_suffix("provserver.sales.contoso.com",
                                        "a.sales.contoso.com", true));
    /* Sharing only a grandparent is not enough. */
    CU_ASSERT(!certpol_cn_matches_suffix("provserver.marketing.contoso.com",
                                         "a.sales.contoso.com", true));
    /* The shared parent is never a single label. */
    CU_ASSERT(!certpol_cn_matches_suffix("provserver.fabrikam.com", "contoso.com", true));
    CU_ASSERT(!certpol_cn_matches_suffix("provserver.evilcontoso.com",
                                         "sales.contoso.com", true));
    CU_ASSERT(
        !certpol_cn_matches_suffix("provserver.contoso.org", "sales.contoso.com", true));
    CU_ASSERT(!certpol_cn_matches_suffix("provserver", "sales.contoso.com", true));
}

static void
test_cn_forms(void)
{
    char long_label[80], long_name[300];

    /* Case and one trailing dot on either side do not matter. */
    CU_ASSERT(certpol_cn_matches_suffix("ProvServer.Contoso.COM", "contoso.com", false));
    CU_ASSERT(certpol_cn_matches_suffix("provserver.contoso.com", "CONTOSO.com", false));
    CU_ASSERT(certpol_cn_matches_suffix("provserver.contoso.com.", "contoso.com", false));
    CU_ASSERT(certpol_cn_matches_suffix("provserver.contoso.com", "contoso.com.", true));
    CU_ASSERT(
        certpol_cn_matches_suffix("provserver.contoso.com.", "contoso.com.", false));
    /* A single-label suffix is allowed by the whole-suffix rule. */
    CU_ASSERT(certpol_cn_matches_suffix("provserver.corp", "corp", false));
    /* Empty and malformed names match nothing. */
    CU_ASSERT(!certpol_cn_matches_suffix("provserver.contoso.com", "", false));
    CU_ASSERT(!certpol_cn_matches_suffix("provserver.contoso.com", "", true));
    CU_ASSERT(!certpol_cn_matches_suffix("provserver.contoso.com", ".", true));
    CU_ASSERT(!certpol_cn_matches_suffix("provserver.contoso.com", NULL, true));
    CU_ASSERT(!certpol_cn_matches_suffix(NULL, "contoso.com", true));
    CU_ASSERT(!certpol_cn_matches_suffix("", "contoso.com", false));
    CU_ASSERT(
        !certpol_cn_matches_suffix("provserver.contoso.com..", "contoso.com", false));
    CU_ASSERT(
        !certpol_cn_matches_suffix("provserver..contoso.com", "contoso.com", false));
    CU_ASSERT(
        !certpol_cn_matches_suffix(".provserver.contoso.com", "contoso.com", false));
    CU_ASSERT(
        !certpol_cn_matches_suffix("provserver.contoso.com", ".contoso.com", false));
    /* RFC 1035 limits: 63 per label, 253 in all. */
    memset(long_label, 'a', 64);
    snprintf(long_label + 64, sizeof(long_label) - 64, ".contoso.com");
    CU_ASSERT(!certpol_cn_matches_suffix(long_label, "contoso.com", false));
    CU_ASSERT(certpol_cn_matches_suffix(long_label + 1, "contoso.com", false));
    memset(long_name, 0, sizeof(long_name));
    for (size_t i = 0; i < 244; i += 2)
        memcpy(long_name + i, "a.", 2);
    strcat(long_name, "contoso.com");
    CU_ASSERT(!certpol_cn_matches_suffix(long_name, "contoso.com", false));
    CU_ASSERT(certpol_cn_matches_suffix(long_name + 20, "contoso.com", false));
}

/* ---- reason names ---- */

static void
test_reason_names(void)
{
    for (int i = CERTPOL_OK; i <= CERTPOL_CN_SUFFIX_MISMATCH; i++) {
        const char *name = certpol_reason_name((enum certpol_reason)i);

        CU_ASSERT_STRING_NOT_EQUAL(name, "unknown");
        CU_ASSERT(name[0] >= 'a' && name[0] <= 'z');
        CU_ASSERT(strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(name));
        CU_ASSERT(strlen(certpol_reason_text((enum certpol_reason)i)) > 10);
        for (int j = i + 1; j <= CERTPOL_CN_SUFFIX_MISMATCH; j++) {
            CU_ASSERT_STRING_NOT_EQUAL(name, certpol_reason_name((enum certpol_reason)j));
            CU_ASSERT_STRING_NOT_EQUAL(certpol_reason_text((enum certpol_reason)i),
                                       certpol_reason_text((enum certpol_reason)j));
        }
    }
    CU_ASSERT_STRING_EQUAL(certpol_reason_name(CERTPOL_CN_SUFFIX_MISMATCH),
                           "cn-suffix-mismatch");
    CU_ASSERT_STRING_EQUAL(certpol_reason_name(CERTPOL_NO_AMT_OID_OR_OU),
                           "no-amt-oid-or-ou");
    CU_ASSERT_STRING_EQUAL(certpol_reason_name((enum certpol_reason)999), "unknown");
    CU_ASSERT_STRING_EQUAL(certpol_reason_name((enum certpol_reason) - 1), "unknown");
    CU_ASSERT_STRING_EQUAL(certpol_reason_text((enum certpol_reason)999),
                           "unknown certificate policy reason");
}

/* ---- loading PEM ---- */

static int
parse_text(const char *pem, size_t len)
{
    X509 *leaf = (X509 *)1;
    STACK_OF(X509) *chain = (STACK_OF(X509) *)1;
    int r = certpol_parse_chain_pem(pem, len, &leaf, &chain);

    if (r != 0) {
        CU_ASSERT_PTR_NULL(leaf);
        CU_ASSERT_PTR_NULL(chain);
    }
    free_chain(leaf, chain);
    return r;
}

static void
test_parse_pem(void)
{
    char path[512];
    size_t len;
    unsigned char *chain_pem, *key_pem, *big;
    char *mixed, *damaged;
    X509 *leaf;
    STACK_OF(X509) *chain;

    unit_certs_path(path, sizeof(path), "prov-oid.chain.pem");
    chain_pem = unit_read_file(path, &len);
    unit_certs_path(path, sizeof(path), "prov-oid.key");
    key_pem = unit_read_file(path, NULL);

    CU_ASSERT_EQUAL(parse_text((char *)chain_pem, len), 0);
    CU_ASSERT_EQUAL(parse_text("", 0), AMT_ERR_CERT_LOAD);
    CU_ASSERT_EQUAL(parse_text("hello\n", 6), AMT_ERR_CERT_LOAD);
    CU_ASSERT_EQUAL(parse_text((char *)key_pem, strlen((char *)key_pem)),
                    AMT_ERR_CERT_LOAD);

    /* A key and comments around the certificates are skipped. */
    mixed = malloc(len + strlen((char *)key_pem) + 64);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mixed);
    sprintf(mixed, "a comment\n%s%s", key_pem, chain_pem);
    CU_ASSERT_EQUAL(certpol_parse_chain_pem(mixed, strlen(mixed), &leaf, &chain), 0);
    CU_ASSERT_EQUAL(sk_X509_num(chain), 2);
    free_chain(leaf, chain);

    /* A damaged second certificate spoils the whole file. */
    damaged = strdup((char *)chain_pem);
    CU_ASSERT_PTR_NOT_NULL_FATAL(damaged);
    memcpy(strstr(strstr(damaged, "END CERTIFICATE") + 1, "BEGIN CERTIFICATE") + 40,
           "!!!!", 4);
    CU_ASSERT_EQUAL(parse_text(damaged, len), AMT_ERR_CERT_LOAD);
    /* So does a certificate block that claims to be encrypted. */
    sprintf(mixed, "-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n"
                   "DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n"
                   "AAAA\n-----END CERTIFICATE-----\n");
    CU_ASSERT_EQUAL(parse_text(mixed, strlen(mixed)), AMT_ERR_CERT_LOAD);

    /* Caps: the size, and the number of certificates. */
    big = calloc(1, CERTPOL_PEM_MAX + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    CU_ASSERT_EQUAL(parse_text((char *)big, CERTPOL_PEM_MAX + 1), AMT_ERR_TOO_LARGE);
    for (size_t i = 0; i < 4; i++)
        memcpy(big + i * len, chain_pem, len);
    CU_ASSERT_EQUAL(parse_text((char *)big, 3 * len), 0);
    CU_ASSERT_EQUAL(parse_text((char *)big, 4 * len), AMT_ERR_TOO_LARGE);

    CU_ASSERT_EQUAL(certpol_parse_chain_pem(NULL, 0, &leaf, &chain),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(certpol_parse_chain_pem("", 0, NULL, &chain),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(chain);
    CU_ASSERT_EQUAL(certpol_parse_chain_pem("", 0, &leaf, NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(leaf);

    free(big);
    free(damaged);
    free(mixed);
    free(key_pem);
    free(chain_pem);
}

static void
test_load_pem_file(void)
{
    char path[512], tmp[] = "/tmp/test_certpol.XXXXXX";
    X509 *leaf = NULL;
    STACK_OF(X509) *chain = NULL;
    FILE *f;
    int fd;

    unit_certs_path(path, sizeof(path), "prov-oid.crt");
    CU_ASSERT_EQUAL(certpol_load_chain_pem(path, &leaf, &chain), 0);
    CU_ASSERT_PTR_NOT_NULL(leaf);
    CU_ASSERT_EQUAL(sk_X509_num(chain), 0);
    free_chain(leaf, chain);

    unit_certs_path(path, sizeof(path), "no-such-file.pem");
    errno = 0;
    CU_ASSERT_EQUAL(certpol_load_chain_pem(path, &leaf, &chain), AMT_ERR_SYSTEM);
    CU_ASSERT_EQUAL(errno, ENOENT);
    CU_ASSERT_EQUAL(certpol_load_chain_pem(AMT_CERTS_DIR, &leaf, &chain), AMT_ERR_SYSTEM);

    /* One byte over the cap. */
    fd = mkstemp(tmp);
    CU_ASSERT_FATAL(fd >= 0);
    f = fdopen(fd, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (size_t i = 0; i <= CERTPOL_PEM_MAX; i++)
        fputc('\n', f);
    fclose(f);
    CU_ASSERT_EQUAL(certpol_load_chain_pem(tmp, &leaf, &chain), AMT_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(truncate(tmp, CERTPOL_PEM_MAX), 0);
    CU_ASSERT_EQUAL(certpol_load_chain_pem(tmp, &leaf, &chain), AMT_ERR_CERT_LOAD);
    unlink(tmp);

    CU_ASSERT_EQUAL(certpol_load_chain_pem(NULL, &leaf, &chain),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(certpol_load_chain_pem(path, NULL, &chain), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(certpol_load_chain_pem(path, &leaf, NULL), AMT_ERR_INVALID_ARGUMENT);
}

static CU_TestInfo pki_tests[] = {
    {"thumbprint files match the roots", test_thumbprint_files_match_roots},
    {"trusted-roots.txt lists the root's three hashes", test_trusted_roots_file},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo accept_tests[] = {
    {"OID certificate with SHA-1, SHA-256, SHA-384 roots", test_oid_cert_with_each_hash},
    {"trusted root among other entries", test_trusted_among_others},
    {"OU certificate", test_ou_cert},
    {"suffix case, trailing dot, parent rule", test_suffix_forms},
    {"validity judged at the policy's time", test_validity_at_given_time},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo refuse_tests[] = {
    {"neither OID nor OU", test_no_oid_no_ou},
    {"OU in another case", test_ou_other_case},
    {"OID without serverAuth", test_oid_without_server_auth},
    {"no CN", test_no_cn},
    {"other domain (northwindtraders)", test_other_domain},
    {"lookalike domain (evilcontoso)", test_lookalike_domain},
    {"empty suffix", test_empty_suffix},
    {"expired", test_expired},
    {"untrusted root", test_untrusted_root},
    {"CA key of 4096 bits", test_ca_key_4096},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo chain_tests[] = {
    {"order, duplicates, missing links, cap", test_chain_shapes},
    {"trusted root appended to another chain", test_trusted_root_appended},
    {"tampered signature", test_tampered_signature},
    {"tampered root", test_tampered_root},
    {"bad arguments", test_bad_arguments},
    {"minted subjects: CN and OU forms", test_minted_subjects},
    {"leaf used as an issuer", test_leaf_as_issuer},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo name_tests[] = {
    {"whole-suffix rule", test_cn_whole_suffix_rule},
    {"parent-domain rule", test_cn_parent_domain_rule},
    {"case, dots, limits", test_cn_forms},
    {"reason names and texts", test_reason_names},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo load_tests[] = {
    {"parse PEM", test_parse_pem},
    {"load a PEM file", test_load_pem_file},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"certpol pki", suite_init, suite_cleanup, NULL, NULL, pki_tests},
    {"certpol accept", suite_init, suite_cleanup, NULL, NULL, accept_tests},
    {"certpol refuse", suite_init, suite_cleanup, NULL, NULL, refuse_tests},
    {"certpol chain", suite_init, suite_cleanup, NULL, NULL, chain_tests},
    {"certpol names", NULL, NULL, NULL, NULL, name_tests},
    {"certpol load", NULL, NULL, NULL, NULL, load_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    if (access(AMT_CERTS_DIR "/pki.stamp", R_OK) != 0) {
        fprintf(stderr, "test_certpol: no test PKI in %s: build the pki target\n",
                AMT_CERTS_DIR);
        return 99;
    }
    return unit_run("test_certpol", suites);
}
