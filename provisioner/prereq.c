#include "prereq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "certpol.h"
#include "err.h"
#include "nsrules.h"
#include "password.h"
#include "thumbprint.h"

/* Longest sentence a result carries; paths are the long part. */
#define TEXT_MAX 2048
/* A private key file larger than this is not a PEM key. */
#define KEY_FILE_MAX (64 * 1024)
/* A provisioning certificate this close to its end is worth a warning. */
#define EXPIRY_WARN_DAYS 30
/* The longest directory container path taken (AD's DN limit is far above any OU). */
#define OU_MAX 1024

static const struct prov_version version_parent_rule = {3, 2, 1};
static const struct prov_version version_8021x = {4, 0, 0};
static const struct prov_version version_audit = {4, 0, 0};

struct run {
    const struct prov_config *cfg;
    prov_prereq_report_fn report;
    void *arg;
    bool ok;
    const char *file; /* the configuration file, for messages about settings */
    /* the provisioning chain, once loaded */
    X509 *leaf;
    STACK_OF(X509) *chain;
    X509 *root;
    char *cn; /* the leaf's CN, or NULL */
};

static void result(struct run *r, const char *id, const char *check,
                   enum prov_prereq_verdict verdict, const char *fmt, ...)
    AMT_PRINTF(5, 6);

static void
result(struct run *r, const char *id, const char *check, enum prov_prereq_verdict verdict,
       const char *fmt, ...)
{
    struct prov_prereq_result res;
    char text[TEXT_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (verdict == PROV_PREREQ_FAIL)
        r->ok = false;
    res.id = id;
    res.check = check;
    res.verdict = verdict;
    res.text = text;
    if (r->report != NULL)
        r->report(&res, r->arg);
}

const char *
prov_prereq_verdict_name(int verdict)
{
    static const char *const names[] = {"pass", "fail", "warn", "info", "skip"};

    if (verdict < 0 || verdict > PROV_PREREQ_SKIP)
        return "unknown";
    return names[verdict];
}

void
prov_prereq_format(const struct prov_prereq_result *res, char *buf, size_t size)
{
    snprintf(buf, size, "%s: %s", res->id, res->text);
}

void
prov_prereq_print(const struct prov_prereq_result *res, void *arg)
{
    FILE *f = arg != NULL ? arg : stdout;
    char line[TEXT_MAX + 64];

    prov_prereq_format(res, line, sizeof(line));
    fprintf(f, "%-4s  %s\n", prov_prereq_verdict_name(res->verdict), line);
}

/* --- certificate helpers --- */

/* The subject as "CN=...,O=..." (RFC 2253 order), shortened to fit. */
static void
subject_text(X509 *cert, char *buf, size_t size)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int n = 0;

    buf[0] = '\0';
    if (bio == NULL)
        return;
    if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0)
        n = BIO_read(bio, buf, (int)size - 1);
    buf[n > 0 ? n : 0] = '\0';
    BIO_free(bio);
}

/* "2021-01-01 00:00:00 UTC" */
static void
time_text(const ASN1_TIME *t, char *buf, size_t size)
{
    struct tm tm;

    if (ASN1_TIME_to_tm(t, &tm) != 1 ||
        strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
        snprintf(buf, size, "(unreadable time)");
}

/* The instant t names; 0 (certpol's "now") when it cannot be read. */
static time_t
time_of(const ASN1_TIME *t)
{
    struct tm tm;
    time_t at;

    if (ASN1_TIME_to_tm(t, &tm) != 1 || (at = timegm(&tm)) == (time_t)-1)
        return 0;
    return at;
}

/* The subject's first CN as a malloc'd string, or NULL. */
static char *
leaf_cn(X509 *leaf)
{
    const X509_NAME *subject = X509_get_subject_name(leaf);
    unsigned char *utf8 = NULL;
    char *cn = NULL;
    int i, n;

    if ((i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1)) < 0)
        return NULL;
    n = ASN1_STRING_to_UTF8(&utf8,
                            X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
    if (n >= 0 && strlen((char *)utf8) == (size_t)n)
        cn = strdup((char *)utf8);
    OPENSSL_free(utf8);
    return cn;
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

/*
 * Reads a PEM private key of at most KEY_FILE_MAX bytes. An encrypted key is refused
 * (the passphrase callback declines): a service cannot type one at each start.
 */
static int
load_key(const char *path, EVP_PKEY **out)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    ssize_t n;
    BIO *bio = NULL;
    int fd = -1, saved = 0, r = AMT_ERR_INTERNAL;

    *out = NULL;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
        saved = errno;
        r = AMT_ERR_SYSTEM;
        goto out;
    }
    if ((buf = malloc(KEY_FILE_MAX + 1)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    while (len <= KEY_FILE_MAX &&
           (n = read(fd, buf + len, KEY_FILE_MAX + 1 - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            saved = errno;
            r = AMT_ERR_SYSTEM;
            goto out;
        }
        len += (size_t)n;
    }
    if (len > KEY_FILE_MAX) {
        r = AMT_ERR_TOO_LARGE;
        goto out;
    }
    if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    if ((*out = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)) == NULL) {
        r = AMT_ERR_CRYPTO;
        goto out;
    }
    r = 0;
out:
    BIO_free(bio);
    if (buf != NULL) {
        OPENSSL_cleanse(buf, KEY_FILE_MAX + 1);
        free(buf);
    }
    if (fd >= 0)
        close(fd);
    ERR_clear_error();
    /* the caller words the message from errno after AMT_ERR_SYSTEM */
    errno = saved;
    return r;
}

static const char *
load_error(int code, int saved_errno)
{
    return code == AMT_ERR_SYSTEM ? strerror(saved_errno) : amt_strerror(code);
}

/*
 * PKI-CA-KEYLEN over leaf and chain: the first CA certificate with a key over the
 * limit, judged by certpol's own definition, one certificate at a time so the
 * message can name it.
 */
static X509 *
long_ca_key(X509 *leaf, STACK_OF(X509) *chain)
{
    STACK_OF(X509) *one = sk_X509_new_null();
    X509 *found = NULL;
    int n = chain != NULL ? sk_X509_num(chain) : 0;

    if (one == NULL)
        return NULL;
    for (int i = -1; i < n && found == NULL; i++) {
        X509 *cert = i < 0 ? leaf : sk_X509_value(chain, i);

        if (cert == NULL || !sk_X509_push(one, cert))
            continue;
        if (certpol_check_ca_keylen(one, NULL) == AMT_ERR_CERT_REFUSED)
            found = cert;
        sk_X509_pop(one);
    }
    sk_X509_free(one);
    return found;
}

static int
key_bits(X509 *cert)
{
    EVP_PKEY *key = X509_get0_pubkey(cert);

    return key != NULL ? EVP_PKEY_get_bits(key) : 0;
}

/* --- the provisioning chain --- */

static void
skip_chain_checks(struct run *r, const char *why)
{
    result(r, "OOB-3", "chain-root", PROV_PREREQ_SKIP, "not checked: %s", why);
    result(r, "PKI-CA-KEYLEN", "ca-key-length", PROV_PREREQ_SKIP, "not checked: %s", why);
    result(r, "PKI-CERTS", "leaf-validity", PROV_PREREQ_SKIP, "not checked: %s", why);
    result(r, "PKI-CERTS", "chain-verifies", PROV_PREREQ_SKIP, "not checked: %s", why);
    result(r, "OOB-3.4", "amt-purpose", PROV_PREREQ_SKIP, "not checked: %s", why);
    result(r, "PKI-CERTS", "private-key", PROV_PREREQ_SKIP, "not checked: %s", why);
}

static void
check_root(struct run *r, const char *path)
{
    static const enum amt_hash_type types[] = {AMT_HASH_SHA1, AMT_HASH_SHA256,
                                               AMT_HASH_SHA384};
    char subject[256], text[AMT_THUMBPRINT_TEXT_MAX];
    struct amt_thumbprint tp;

    /* the last self-signed certificate: the file puts the root last */
    if (X509_self_signed(r->leaf, 0) == 1)
        r->root = r->leaf;
    for (int i = 0; i < sk_X509_num(r->chain); i++)
        if (X509_self_signed(sk_X509_value(r->chain, i), 0) == 1)
            r->root = sk_X509_value(r->chain, i);
    ERR_clear_error();
    if (r->root == NULL) {
        result(r, "OOB-3", "chain-root", PROV_PREREQ_FAIL,
               "%s: the chain holds no self-signed root: AMT matches the root's "
               "thumbprint, so the file must end with the root certificate",
               path);
        return;
    }
    subject_text(r->root, subject, sizeof(subject));
    result(r, "OOB-3", "chain-root", PROV_PREREQ_PASS,
           "%s: the chain ends in the root %s", path, subject);
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (thumbprint_of_x509(r->root, types[i], &tp) != 0 ||
            thumbprint_format(&tp, text, sizeof(text)) != 0)
            continue;
        result(r, "OOB-3", "root-thumbprint", PROV_PREREQ_INFO,
               "%s: root thumbprint %s: AMT firmware must hold this root's "
               "thumbprint, of one type or another, for its hellos to match",
               path, text);
    }
}

static void
check_ca_keylen(struct run *r, const char *path)
{
    X509 *bad = long_ca_key(r->leaf, r->chain);
    char subject[256];

    if (bad == NULL) {
        result(r, "PKI-CA-KEYLEN", "ca-key-length", PROV_PREREQ_PASS,
               "%s: no CA key is over %d bits", path, CERTPOL_CA_KEY_MAX_BITS);
        return;
    }
    subject_text(bad, subject, sizeof(subject));
    result(r, "PKI-CA-KEYLEN", "ca-key-length", PROV_PREREQ_FAIL,
           "%s: the chain's CA key is %d bits (%s); AMT cannot use CA keys over %d bits",
           path, key_bits(bad), subject, CERTPOL_CA_KEY_MAX_BITS);
}

/* Returns the time at which the rest of the chain is best judged. */
static time_t
check_validity(struct run *r, const char *path)
{
    const ASN1_TIME *before = X509_get0_notBefore(r->leaf);
    const ASN1_TIME *after = X509_get0_notAfter(r->leaf);
    time_t soon = time(NULL) + (time_t)EXPIRY_WARN_DAYS * 86400;
    char when[64];

    if (X509_cmp_current_time(after) <= 0) {
        time_text(after, when, sizeof(when));
        result(r, "PKI-CERTS", "leaf-validity", PROV_PREREQ_FAIL,
               "%s: the provisioning certificate expired on %s: AMT refuses it", path,
               when);
        return time_of(before);
    }
    if (X509_cmp_current_time(before) > 0) {
        time_text(before, when, sizeof(when));
        result(r, "PKI-CERTS", "leaf-validity", PROV_PREREQ_FAIL,
               "%s: the provisioning certificate is not valid before %s: AMT refuses "
               "it until then",
               path, when);
        return time_of(before);
    }
    time_text(after, when, sizeof(when));
    result(r, "PKI-CERTS", "leaf-validity",
           X509_cmp_time(after, &soon) < 0 ? PROV_PREREQ_WARN : PROV_PREREQ_PASS,
           "%s: the provisioning certificate is valid until %s", path, when);
    return 0;
}

/*
 * The chain as AMT judges it, trusting the chain's own root and taking the CN as
 * the domain, so that certpol's verdict isolates the signature and purpose steps:
 * the name steps are OOB-3.5's rows, at the SP's domain.
 */
static void
check_chain_as_amt(struct run *r, const char *path, time_t at, bool keylen_ok)
{
    struct certpol_policy policy;
    struct amt_thumbprint root_tp;
    enum certpol_reason why = CERTPOL_OK;
    int rc;

    if (!keylen_ok) {
        result(r, "PKI-CERTS", "chain-verifies", PROV_PREREQ_SKIP,
               "not checked: the chain breaks PKI-CA-KEYLEN, which AMT checks first");
        result(r, "OOB-3.4", "amt-purpose", PROV_PREREQ_SKIP,
               "not checked: the chain breaks PKI-CA-KEYLEN, which AMT checks first");
        return;
    }
    if (thumbprint_of_x509(r->root, AMT_HASH_SHA256, &root_tp) != 0) {
        result(r, "PKI-CERTS", "chain-verifies", PROV_PREREQ_FAIL,
               "%s: the root's thumbprint cannot be computed", path);
        return;
    }
    memset(&policy, 0, sizeof(policy));
    policy.trusted_roots = &root_tp;
    policy.n_trusted_roots = 1;
    policy.domain_suffix = r->cn != NULL ? r->cn : "no-cn.invalid";
    policy.now = at;
    rc = certpol_check_chain(&policy, r->leaf, r->chain, &why);
    ERR_clear_error();
    if (rc != 0 && rc != AMT_ERR_CERT_REFUSED) {
        result(r, "PKI-CERTS", "chain-verifies", PROV_PREREQ_FAIL,
               "%s: the chain could not be checked: %s", path, amt_strerror(rc));
        return;
    }
    switch (why) {
    case CERTPOL_OK:
    case CERTPOL_NO_CN:
    case CERTPOL_EMPTY_SUFFIX:
    case CERTPOL_CN_SUFFIX_MISMATCH:
        result(r, "PKI-CERTS", "chain-verifies", PROV_PREREQ_PASS,
               "%s: the chain verifies from the certificate to its root", path);
        result(r, "OOB-3.4", "amt-purpose", PROV_PREREQ_PASS,
               "%s: the certificate carries the AMT provisioning OID %s with serverAuth, "
               "or the OU \"%s\"",
               path, CERTPOL_AMT_OID, CERTPOL_AMT_OU);
        break;
    case CERTPOL_NO_AMT_OID_OR_OU:
    case CERTPOL_OU_CASE_MISMATCH:
    case CERTPOL_NO_SERVER_AUTH:
        result(r, "PKI-CERTS", "chain-verifies", PROV_PREREQ_PASS,
               "%s: the chain verifies from the certificate to its root", path);
        result(r, "OOB-3.4", "amt-purpose", PROV_PREREQ_FAIL,
               "%s: %s (%s): AMT refuses it as a provisioning certificate", path,
               certpol_reason_text(why), certpol_reason_name(why));
        break;
    default:
        result(r, "PKI-CERTS", "chain-verifies", PROV_PREREQ_FAIL, "%s: %s (%s)", path,
               certpol_reason_text(why), certpol_reason_name(why));
        result(r, "OOB-3.4", "amt-purpose", PROV_PREREQ_SKIP,
               "not checked: the chain does not verify");
        break;
    }
}

static void
check_private_key(struct run *r, const char *chain_path)
{
    const char *path = r->cfg->paths.key;
    EVP_PKEY *key = NULL;
    int rc, saved;

    if (path == NULL) {
        result(r, "PKI-CERTS", "private-key", PROV_PREREQ_FAIL,
               "%s: [sp] provisioning-key is not set: the TLS handshake needs the "
               "certificate's private key",
               r->file);
        return;
    }
    rc = load_key(path, &key);
    saved = errno;
    if (rc != 0) {
        result(r, "PKI-CERTS", "private-key", PROV_PREREQ_FAIL,
               "%s: the private key cannot be read (%s); it must be PEM and not "
               "encrypted",
               path,
               rc == AMT_ERR_CRYPTO ? "not a PEM key, or encrypted"
                                    : load_error(rc, saved));
        return;
    }
    if (X509_check_private_key(r->leaf, key) != 1)
        result(r, "PKI-CERTS", "private-key", PROV_PREREQ_FAIL,
               "%s: the private key does not belong to the certificate in %s", path,
               chain_path);
    else
        result(r, "PKI-CERTS", "private-key", PROV_PREREQ_PASS,
               "%s: the private key belongs to the provisioning certificate", path);
    ERR_clear_error();
    EVP_PKEY_free(key);
}

static void
check_provisioning_chain(struct run *r)
{
    const char *path = r->cfg->paths.chain;
    time_t at;
    bool keylen_ok;
    int rc, saved;

    if (path == NULL) {
        result(r, "PKI-CERTS", "provisioning-chain", PROV_PREREQ_FAIL,
               "%s: [sp] provisioning-chain is not set: SP has no AMT provisioning "
               "certificate to present",
               r->file);
        skip_chain_checks(r, "no provisioning chain");
        return;
    }
    rc = certpol_load_chain_pem(path, &r->leaf, &r->chain);
    saved = errno;
    ERR_clear_error();
    if (rc != 0) {
        result(r, "PKI-CERTS", "provisioning-chain", PROV_PREREQ_FAIL,
               "%s: the provisioning chain cannot be read: %s", path,
               load_error(rc, saved));
        skip_chain_checks(r, "the provisioning chain did not load");
        return;
    }
    result(r, "PKI-CERTS", "provisioning-chain", PROV_PREREQ_PASS,
           "%s: %d certificates read", path, 1 + sk_X509_num(r->chain));
    r->cn = leaf_cn(r->leaf);
    check_root(r, path);
    check_ca_keylen(r, path);
    keylen_ok = long_ca_key(r->leaf, r->chain) == NULL;
    at = check_validity(r, path);
    if (r->root != NULL) {
        check_chain_as_amt(r, path, at, keylen_ok);
    } else {
        result(r, "PKI-CERTS", "chain-verifies", PROV_PREREQ_SKIP,
               "not checked: the chain has no root");
        result(r, "OOB-3.4", "amt-purpose", PROV_PREREQ_SKIP,
               "not checked: the chain has no root");
    }
    check_private_key(r, path);
}

/* The site's issuing CA: OOB-7.3 has every device's TLS certificate signed by it. */
static void
check_site_ca(struct run *r)
{
    const struct prov_paths *p = &r->cfg->paths;
    X509 *ca = NULL, *bad;
    STACK_OF(X509) *extra = NULL, *above = NULL;
    EVP_PKEY *key = NULL;
    char subject[256];
    int rc, saved;

    if (p->ca_cert == NULL || p->ca_key == NULL) {
        result(r, "PKI-CERTS", "issuing-ca", PROV_PREREQ_FAIL,
               "%s: [site] ca-cert and ca-key must be set: every device's TLS "
               "certificate is issued by that CA (OOB-7.3)",
               r->file);
        return;
    }
    rc = certpol_load_chain_pem(p->ca_cert, &ca, &extra);
    saved = errno;
    if (rc != 0) {
        result(r, "PKI-CERTS", "issuing-ca", PROV_PREREQ_FAIL,
               "%s: the issuing CA certificate cannot be read: %s", p->ca_cert,
               load_error(rc, saved));
        goto out;
    }
    if (p->ca_chain != NULL) {
        X509 *first = NULL;

        rc = certpol_load_chain_pem(p->ca_chain, &first, &above);
        saved = errno;
        if (rc != 0) {
            result(r, "PKI-CERTS", "issuing-ca", PROV_PREREQ_FAIL,
                   "%s: the issuing CA's chain cannot be read: %s", p->ca_chain,
                   load_error(rc, saved));
            goto out;
        }
        if (!sk_X509_insert(above, first, 0)) {
            X509_free(first);
            result(r, "PKI-CERTS", "issuing-ca", PROV_PREREQ_FAIL, "%s: not checked: %s",
                   p->ca_chain, amt_strerror(AMT_ERR_ALLOC));
            goto out;
        }
    }
    if (X509_check_ca(ca) == 0) {
        result(r, "PKI-CERTS", "issuing-ca", PROV_PREREQ_FAIL,
               "%s: the issuing CA certificate is not a CA certificate", p->ca_cert);
        goto out;
    }
    if ((bad = long_ca_key(ca, extra)) != NULL ||
        (above != NULL && (bad = long_ca_key(sk_X509_value(above, 0), above)) != NULL)) {
        subject_text(bad, subject, sizeof(subject));
        result(r, "PKI-CA-KEYLEN", "ca-key-length", PROV_PREREQ_FAIL,
               "%s: the issuing CA chain's CA key is %d bits (%s); AMT cannot use CA "
               "keys over %d bits",
               p->ca_cert, key_bits(bad), subject, CERTPOL_CA_KEY_MAX_BITS);
        goto out;
    }
    rc = load_key(p->ca_key, &key);
    saved = errno;
    if (rc != 0) {
        result(r, "PKI-CERTS", "issuing-ca", PROV_PREREQ_FAIL,
               "%s: the issuing CA's private key cannot be read (%s)", p->ca_key,
               rc == AMT_ERR_CRYPTO ? "not a PEM key, or encrypted"
                                    : load_error(rc, saved));
        goto out;
    }
    if (X509_check_private_key(ca, key) != 1) {
        result(r, "PKI-CERTS", "issuing-ca", PROV_PREREQ_FAIL,
               "%s: the private key does not belong to the CA certificate in %s",
               p->ca_key, p->ca_cert);
        goto out;
    }
    subject_text(ca, subject, sizeof(subject));
    result(r, "PKI-CERTS", "issuing-ca", PROV_PREREQ_PASS,
           "%s: the issuing CA %s and its key are usable", p->ca_cert, subject);
out:
    ERR_clear_error();
    EVP_PKEY_free(key);
    X509_free(ca);
    sk_X509_pop_free(extra, X509_free);
    sk_X509_pop_free(above, X509_free);
}

/* --- names: NS-FOREST, OOB-3.5, DIR-OU --- */

static const char *
forest_root(const struct prov_config *cfg)
{
    return cfg->sp.forest_root != NULL ? cfg->sp.forest_root : cfg->sp.domain;
}

/* Returns whether the names are good enough for OOB-3.5 to use. */
static bool
check_forest(struct run *r)
{
    const struct prov_config *cfg = r->cfg;
    const struct settings_list *doms = &cfg->sp.forest_domains;
    const char *root = forest_root(cfg);
    bool in_forest;

    if (cfg->sp.domain == NULL) {
        result(r, "NS-FOREST", "domain-names", PROV_PREREQ_FAIL,
               "%s: [sp] domain is not set: the SP's directory domain decides which "
               "computers it may manage",
               r->file);
        return false;
    }
    if (ns_name_valid(cfg->sp.domain) != 0) {
        result(r, "NS-FOREST", "domain-names", PROV_PREREQ_FAIL,
               "%s: [sp] domain \"%.*s\" is not a DNS name", r->file, NS_NAME_MAX,
               cfg->sp.domain);
        return false;
    }
    if (ns_name_valid(root) != 0) {
        result(r, "NS-FOREST", "domain-names", PROV_PREREQ_FAIL,
               "%s: [sp] forest-root \"%.*s\" is not a DNS name", r->file, NS_NAME_MAX,
               root);
        return false;
    }
    for (size_t i = 0; i < doms->n; i++) {
        if (ns_name_valid(doms->items[i]) != 0) {
            result(r, "NS-FOREST", "domain-names", PROV_PREREQ_FAIL,
                   "%s: [sp] forest-domain \"%.*s\" is not a DNS name", r->file,
                   NS_NAME_MAX, doms->items[i]);
            return false;
        }
    }
    result(r, "NS-FOREST", "domain-names", PROV_PREREQ_PASS,
           "%s: the domain, the forest root and %zu forest domain(s) are DNS names",
           r->file, doms->n);
    /* the membership rule of nsrules.h: at or under the root, or a listed domain */
    in_forest = ns_name_is_under(cfg->sp.domain, root);
    for (size_t i = 0; i < doms->n && !in_forest; i++)
        in_forest = ns_name_equal(cfg->sp.domain, doms->items[i]);
    if (!in_forest) {
        result(r, "NS-FOREST", "domain-in-forest", PROV_PREREQ_FAIL,
               "%s: [sp] domain %s is not in the forest of %s (neither under its root "
               "nor a listed forest-domain): the SP must be in the forest of the "
               "computers it manages",
               r->file, cfg->sp.domain, root);
        return false;
    }
    result(r, "NS-FOREST", "domain-in-forest", PROV_PREREQ_PASS,
           "%s: [sp] domain %s is in the forest of %s", r->file, cfg->sp.domain, root);
    return true;
}

/*
 * OOB-3.5 seen from the SP: AMT accepts the certificate only when its CN lies under
 * AMT's domain suffix. Every AMT in the SP's own domain would refuse a CN outside it,
 * so that is an error; a device in another domain of the forest might be of a kind
 * the site does not have, so that is a warning.
 */
static void
check_cn_domains(struct run *r, bool names_ok)
{
    const struct prov_config *cfg = r->cfg;
    bool parent_rule = prov_config_version_cmp(&cfg->amt_min, &version_parent_rule) >= 0;
    const char *rule = parent_rule ? "by the parent-domain rule of AMT 3.2.1 and later"
                                   : "by the whole-suffix rule of AMT before 3.2.1";
    const char *root = forest_root(cfg);

    if (r->leaf == NULL || !names_ok) {
        result(r, "OOB-3.5", "cn-in-domain", PROV_PREREQ_SKIP, "not checked: %s",
               r->leaf == NULL ? "no provisioning certificate"
                               : "the SP's domain is not usable");
        return;
    }
    if (r->cn == NULL) {
        result(r, "OOB-3.5", "cn-in-domain", PROV_PREREQ_FAIL,
               "%s: the provisioning certificate has no CN: AMT matches the CN against "
               "its domain and would refuse it",
               r->cfg->paths.chain);
        return;
    }
    if (!certpol_cn_matches_suffix(r->cn, cfg->sp.domain, parent_rule)) {
        result(r, "OOB-3.5", "cn-in-domain", PROV_PREREQ_FAIL,
               "%s: the provisioning certificate's CN %s is not under the SP's domain %s "
               "(%s): no AMT in that domain would accept it",
               r->cfg->paths.chain, r->cn, cfg->sp.domain, rule);
        return;
    }
    result(r, "OOB-3.5", "cn-in-domain", PROV_PREREQ_PASS,
           "%s: the CN %s is under the SP's domain %s", r->cfg->paths.chain, r->cn,
           cfg->sp.domain);
    if (!ns_name_equal(root, cfg->sp.domain) &&
        !certpol_cn_matches_suffix(r->cn, root, parent_rule))
        result(r, "OOB-3.5", "cn-in-forest-domain", PROV_PREREQ_WARN,
               "%s: AMT in the forest root domain %s would refuse the CN %s (%s)",
               r->cfg->paths.chain, root, r->cn, rule);
    for (size_t i = 0; i < cfg->sp.forest_domains.n; i++) {
        const char *d = cfg->sp.forest_domains.items[i];

        if (!certpol_cn_matches_suffix(r->cn, d, parent_rule))
            result(r, "OOB-3.5", "cn-in-forest-domain", PROV_PREREQ_WARN,
                   "%s: AMT in the forest domain %s would refuse the CN %s (%s)",
                   r->cfg->paths.chain, d, r->cn, rule);
    }
}

/*
 * Characters that must be escaped inside an attribute value: RFC 4514's, plus '='
 * which Active Directory escapes too. A '#' needs it only at the start.
 */
static bool
dn_special(char c)
{
    return c == '"' || c == '+' || c == ',' || c == ';' || c == '<' || c == '>' ||
           c == '\\' || c == '=';
}

static bool
is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Whether s, up to the '=' at eq, is the attribute type want, spaces allowed after. */
static bool
attr_is(const char *s, const char *eq, const char *want)
{
    size_t n = strlen(want), len = (size_t)(eq - s);

    return len >= n && strncasecmp(s, want, n) == 0 && strspn(s + n, " ") == len - n;
}

/*
 * One RDN of a container path, "OU=Servers" or "CN=Computers" (spaces around the
 * '=' and the ',' tolerated, as directory tools write them), e.g. in
 * "OU=AMT,OU=Managed Computers". Returns a static sentence for what is wrong, or
 * NULL; *next is where the next RDN starts.
 */
static const char *
ou_rdn(const char *s, const char **next)
{
    size_t value_len = 0;
    const char *eq;

    while (*s == ' ')
        s++;
    if ((eq = strchr(s, '=')) == NULL)
        return "each part must be TYPE=VALUE, such as OU=AMT";
    if (attr_is(s, eq, "DC"))
        return "a DC= part ties the container to one domain; it must be relative "
               "to each domain served, with the same name and path in every one";
    if (!attr_is(s, eq, "OU") && !attr_is(s, eq, "CN"))
        return "only OU= and CN= parts name a container";
    s = eq + 1;
    while (*s == ' ')
        s++;
    if (*s == '#')
        return "a value starting with '#' must escape it with a backslash";
    while (*s != '\0' && *s != ',') {
        if (*s == '\\') {
            if (dn_special(s[1]) || s[1] == ' ' || s[1] == '#') {
                s += 2;
            } else if (is_hex(s[1]) && is_hex(s[2])) {
                s += 3;
            } else {
                return "a backslash must escape a special character or two hex digits";
            }
        } else if (dn_special(*s) || (unsigned char)*s < 0x20 || *s == 0x7f) {
            return "special characters in a value (\" + ; < > = \\) must be escaped "
                   "with a backslash";
        } else {
            s++;
        }
        value_len++;
    }
    if (value_len == 0)
        return "a part has an empty value";
    if (*s == ',' && s[1] == '\0')
        return "the path ends with a comma";
    *next = *s == ',' ? s + 1 : s;
    return NULL;
}

static void
check_ou(struct run *r)
{
    const char *ou = r->cfg->sp.directory_ou, *s, *why = NULL;

    if (ou == NULL || *ou == '\0') {
        result(r, "DIR-OU", "ou-form", PROV_PREREQ_FAIL,
               "%s: [sp] directory-ou is not set: computer accounts need a container",
               r->file);
        return;
    }
    if (strlen(ou) > OU_MAX)
        why = "longer than any directory container path";
    for (s = ou; why == NULL && *s != '\0';)
        why = ou_rdn(s, &s);
    if (why != NULL) {
        result(r, "DIR-OU", "ou-form", PROV_PREREQ_FAIL,
               "%s: [sp] directory-ou \"%.*s\" is not a container path: %s", r->file,
               OU_MAX, ou, why);
        return;
    }
    result(r, "DIR-OU", "ou-form", PROV_PREREQ_PASS,
           "%s: [sp] directory-ou \"%s\" is a container path; whether it exists in "
           "each domain is checked when the site server starts",
           r->file, ou);
}

/* --- accounts: OOB-5, OOB-7.4, OOB-7.5, OOB-8.1 --- */

#define USER_RULE_TEXT "1 to 16 printable characters, no ':', not starting with $$"
#define PASSWORD_RULE_TEXT                                                               \
    "8 to 32 printable characters, none of : , \", with a digit, a lower-case and an "   \
    "upper-case letter, and a symbol"

static void
check_credentials(struct run *r)
{
    const struct prov_config *cfg = r->cfg;
    enum password_user_rule urule;
    bool ok = true;

    if (cfg->n_credentials == 0) {
        result(r, "OOB-5", "credentials", PROV_PREREQ_FAIL,
               "%s: [sp] credential: none given: SP has no user name and password to "
               "try on AMT",
               r->file);
        return;
    }
    /* positions only: these lines are secret, user names included */
    for (size_t i = 0; i < cfg->n_credentials; i++) {
        if (password_check_user(cfg->credentials[i].user, &urule) != 0) {
            result(r, "OOB-5", "credentials", PROV_PREREQ_FAIL,
                   "%s: [sp] credential %zu: the user name breaks AMT's rule (%s): %s",
                   r->file, i + 1, password_user_rule_name(urule), USER_RULE_TEXT);
            ok = false;
        }
    }
    if (ok)
        result(r, "OOB-5", "credentials", PROV_PREREQ_PASS,
               "%s: [sp] credential: %zu to try, in file order", r->file,
               cfg->n_credentials);
}

static void
check_admin_user(struct run *r)
{
    enum password_user_rule urule;

    if (r->cfg->phase1.admin_user == NULL ||
        password_check_user(r->cfg->phase1.admin_user, &urule) != 0) {
        result(r, "OOB-7.4", "admin-user", PROV_PREREQ_FAIL,
               "%s: [phase1] admin-user breaks AMT's user name rule (%s): %s", r->file,
               r->cfg->phase1.admin_user == NULL ? "empty"
                                                 : password_user_rule_name(urule),
               USER_RULE_TEXT);
        return;
    }
    result(r, "OOB-7.4", "admin-user", PROV_PREREQ_PASS,
           "%s: [phase1] admin-user %s gets a random %d-character password", r->file,
           r->cfg->phase1.admin_user, r->cfg->phase1.admin_password_length);
}

static void
check_mebx(struct run *r)
{
    enum password_rule rule;

    if (r->cfg->phase1.mebx_password == NULL) {
        result(r, "OOB-7.5", "mebx-password", PROV_PREREQ_FAIL,
               "%s: [phase1] mebx-password is not set: SP sets the MEBx password to "
               "the strong one configured here",
               r->file);
        return;
    }
    if (password_check(r->cfg->phase1.mebx_password, &rule) != 0) {
        result(r, "OOB-7.5", "mebx-password", PROV_PREREQ_FAIL,
               "%s: [phase1] mebx-password breaks the AMT password policy (%s): %s",
               r->file, password_rule_name(rule), PASSWORD_RULE_TEXT);
        return;
    }
    result(r, "OOB-7.5", "mebx-password", PROV_PREREQ_PASS,
           "%s: [phase1] mebx-password meets the AMT password policy", r->file);
}

static void
check_acl(struct run *r)
{
    const struct prov_config *cfg = r->cfg;
    enum password_user_rule urule;
    enum password_rule prule;
    bool ok = true;

    for (size_t i = 0; i < cfg->n_acl; i++) {
        const struct prov_acl_entry *e = &cfg->acl[i];

        if (password_check_user(e->user, &urule) != 0) {
            result(r, "OOB-8.1", "acl", PROV_PREREQ_FAIL,
                   "%s: [phase2] acl %zu: the user name breaks AMT's rule (%s): %s",
                   r->file, i + 1, password_user_rule_name(urule), USER_RULE_TEXT);
            ok = false;
            continue;
        }
        if (password_check(e->password, &prule) != 0) {
            result(r, "OOB-8.1", "acl", PROV_PREREQ_FAIL,
                   "%s: [phase2] acl %zu: the password breaks the AMT password policy "
                   "(%s): %s",
                   r->file, i + 1, password_rule_name(prule), PASSWORD_RULE_TEXT);
            ok = false;
        }
        if (cfg->phase1.admin_user != NULL &&
            strcmp(e->user, cfg->phase1.admin_user) == 0) {
            result(r, "OOB-8.1", "acl", PROV_PREREQ_FAIL,
                   "%s: [phase2] acl %zu names the admin account, which phase 1 sets "
                   "on its own",
                   r->file, i + 1);
            ok = false;
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(cfg->acl[k].user, e->user) == 0) {
                result(r, "OOB-8.1", "acl", PROV_PREREQ_FAIL,
                       "%s: [phase2] acl %zu names the same user as acl %zu", r->file,
                       i + 1, k + 1);
                ok = false;
                break;
            }
        }
    }
    if (ok)
        result(r, "OOB-8.1", "acl", PROV_PREREQ_PASS,
               "%s: [phase2] acl: %zu account(s), each meeting AMT's rules", r->file,
               cfg->n_acl);
}

/* --- modes and versions: AMT-8021X, OOB-8.3, AMT-AUDIT, AMT-VERSION --- */

static void
check_8021x(struct run *r)
{
    const struct prov_config *cfg = r->cfg;
    bool wired = cfg->dot1x.method != PROV_EAP_NONE;
    bool ok = true;

    if (cfg->n_wifi == 0 && !wired) {
        result(r, "AMT-8021X", "profiles", PROV_PREREQ_PASS,
               "%s: no wireless or 802.1X profile to configure", r->file);
        return;
    }
    if (cfg->sp.mode == PROV_MODE_SP1) {
        result(r, "AMT-8021X", "profiles", PROV_PREREQ_FAIL,
               "%s: %zu wireless profile(s)%s configured, but SP1 mode configures no "
               "wireless or 802.1X: set [sp] mode = sp2 or remove them",
               r->file, cfg->n_wifi, wired ? " and a wired 802.1X profile" : "");
        return;
    }
    if (wired && cfg->dot1x.method != PROV_EAP_TLS &&
        (cfg->dot1x.user == NULL || cfg->dot1x.password == NULL)) {
        result(r, "AMT-8021X", "profiles", PROV_PREREQ_FAIL,
               "%s: [dot1x] method %s needs user and password", r->file,
               prov_config_eap_name(cfg->dot1x.method));
        ok = false;
    }
    if (prov_config_version_cmp(&cfg->amt_min, &version_8021x) < 0) {
        result(r, "AMT-8021X", "profiles", PROV_PREREQ_WARN,
               "%s: AMT from %s is supported, but wireless and 802.1X need AMT 4.0 or "
               "later: older devices get no profile",
               r->file, cfg->sp.amt_version_min);
    } else if (ok) {
        result(r, "AMT-8021X", "profiles", PROV_PREREQ_PASS,
               "%s: %zu wireless profile(s), wired 802.1X %s, in SP2 mode", r->file,
               cfg->n_wifi, prov_config_eap_name(cfg->dot1x.method));
    }
}

static void
check_power_scheme(struct run *r)
{
    const struct prov_config *cfg = r->cfg;

    if (cfg->sp.mode == PROV_MODE_SP1 && cfg->phase2.power_scheme != 0 &&
        cfg->phase2.power_scheme != 5) {
        result(r, "OOB-8.3", "power-scheme", PROV_PREREQ_FAIL,
               "%s: [phase2] power-scheme %d in SP1 mode, which always sets scheme 5: "
               "remove it or set [sp] mode = sp2",
               r->file, cfg->phase2.power_scheme);
        return;
    }
    if (prov_config_power_scheme(cfg) == 0)
        result(r, "OOB-8.3", "power-scheme", PROV_PREREQ_INFO,
               "%s: no [phase2] power-scheme: each device keeps its own", r->file);
    else
        result(r, "OOB-8.3", "power-scheme", PROV_PREREQ_PASS,
               "%s: power scheme %u in %s mode", r->file, prov_config_power_scheme(cfg),
               prov_config_mode_name(cfg->sp.mode));
}

static void
check_audit(struct run *r)
{
    const struct prov_config *cfg = r->cfg;

    if (cfg->phase2.audit && prov_config_version_cmp(&cfg->amt_min, &version_audit) < 0)
        result(r, "AMT-AUDIT", "audit", PROV_PREREQ_WARN,
               "%s: [phase2] audit is on and AMT from %s is supported, but auditing "
               "needs AMT 4.0 or later: older devices report it unsupported",
               r->file, cfg->sp.amt_version_min);
    else
        result(r, "AMT-AUDIT", "audit", PROV_PREREQ_PASS, "%s: [phase2] audit %s",
               r->file, cfg->phase2.audit ? "on" : "off");
}

static void
check_versions(struct run *r)
{
    const struct prov_config *cfg = r->cfg;

    if (cfg->has_amt_max && prov_config_version_cmp(&cfg->amt_min, &cfg->amt_max) > 0) {
        result(r, "AMT-VERSION", "versions", PROV_PREREQ_FAIL,
               "%s: [sp] amt-version-min %s is above amt-version-max %s: no AMT would "
               "be provisioned",
               r->file, cfg->sp.amt_version_min, cfg->sp.amt_version_max);
        return;
    }
    result(r, "AMT-VERSION", "versions", PROV_PREREQ_PASS,
           "%s: AMT %s%s%s supported; other versions are reported, not provisioned",
           r->file, cfg->sp.amt_version_min, cfg->has_amt_max ? " to " : " and later",
           cfg->has_amt_max ? cfg->sp.amt_version_max : "");
}

/* --- network: NET-IPV4, PORT-9971 --- */

static bool
ipv4_text(const char *s, size_t len)
{
    char buf[INET6_ADDRSTRLEN + 8];
    struct in_addr a;

    if (len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return inet_pton(AF_INET, buf, &a) == 1;
}

static void
check_ipv4(struct run *r)
{
    const struct prov_config *cfg = r->cfg;
    const char *hello = cfg->sp.hello_listen, *api = cfg->site.api_listen;
    const char *colon = api != NULL ? strrchr(api, ':') : NULL;
    bool ok = true;

    if (hello == NULL || !ipv4_text(hello, strlen(hello))) {
        result(r, "NET-IPV4", "listen-ipv4", PROV_PREREQ_FAIL,
               "%s: [sp] hello-listen \"%.64s\" is not an IPv4 address: out of band "
               "management uses IPv4 only",
               r->file, hello != NULL ? hello : "");
        ok = false;
    }
    if (colon == NULL || !ipv4_text(api, (size_t)(colon - api))) {
        result(r, "NET-IPV4", "listen-ipv4", PROV_PREREQ_FAIL,
               "%s: [site] api-listen \"%.64s\" is not IPV4:PORT: out of band "
               "management uses IPv4 only",
               r->file, api != NULL ? api : "");
        ok = false;
    }
    if (ok)
        result(r, "NET-IPV4", "listen-ipv4", PROV_PREREQ_PASS,
               "%s: hellos on %s:%d, site API on %s", r->file, hello, cfg->sp.hello_port,
               api);
}

static void
check_port(struct run *r)
{
    if (r->cfg->sp.hello_port != 9971)
        result(r, "PORT-9971", "hello-port", PROV_PREREQ_WARN,
               "%s: [sp] hello-port %d: AMT sends hellos to 9971 unless its MEBx "
               "provisioning server address names another port",
               r->file, r->cfg->sp.hello_port);
    else
        result(r, "PORT-9971", "hello-port", PROV_PREREQ_PASS,
               "%s: hellos are taken on TCP 9971", r->file);
}

bool
prov_prereq_run(const struct prov_config *cfg, prov_prereq_report_fn report, void *arg)
{
    struct run r;
    bool names_ok;

    if (cfg == NULL)
        return false;
    memset(&r, 0, sizeof(r));
    r.cfg = cfg;
    r.report = report;
    r.arg = arg;
    r.ok = true;
    r.file = cfg->path != NULL ? cfg->path : "(settings)";

    check_provisioning_chain(&r);
    check_site_ca(&r);
    names_ok = check_forest(&r);
    check_cn_domains(&r, names_ok);
    check_ou(&r);
    check_credentials(&r);
    check_admin_user(&r);
    check_mebx(&r);
    check_acl(&r);
    check_8021x(&r);
    check_power_scheme(&r);
    check_audit(&r);
    check_versions(&r);
    check_ipv4(&r);
    check_port(&r);

    X509_free(r.leaf);
    sk_X509_pop_free(r.chain, X509_free);
    free(r.cn);
    return r.ok;
}
