#include "certpol.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "err.h"

/* RFC 1035 limits, for the text form without a trailing dot. */
#define DNS_NAME_MAX 253
#define DNS_LABEL_MAX 63

struct reason_row {
    const char *name;
    const char *text;
};

static const struct reason_row reason_table[] = {
    [CERTPOL_OK] = {"ok", "certificate chain accepted"},
    [CERTPOL_CHAIN_INCOMPLETE] = {"chain-incomplete",
                                  "the chain does not reach a self-signed root that the "
                                  "peer presented"},
    [CERTPOL_CHAIN_TOO_LONG] = {"chain-too-long",
                                "the peer presented more certificates than the cap"},
    [CERTPOL_ROOT_NOT_TRUSTED] =
        {"root-not-trusted", "the chain's root thumbprint is not stored in firmware"},
    [CERTPOL_CA_KEY_TOO_LONG] = {"ca-key-too-long",
                                 "a CA certificate has an RSA key longer than 2048 bits"},
    [CERTPOL_CERT_EXPIRED] = {"cert-expired", "a certificate of the chain has expired"},
    [CERTPOL_CERT_NOT_YET_VALID] = {"cert-not-yet-valid",
                                    "a certificate of the chain is not valid yet"},
    [CERTPOL_CHAIN_BROKEN] = {"chain-broken",
                              "the chain does not verify (signature or CA constraints)"},
    [CERTPOL_NO_AMT_OID_OR_OU] = {"no-amt-oid-or-ou",
                                  "the certificate has neither the AMT provisioning OID "
                                  "nor the OU \"" CERTPOL_AMT_OU "\""},
    [CERTPOL_OU_CASE_MISMATCH] = {"ou-case-mismatch",
                                  "the subject OU is \"" CERTPOL_AMT_OU
                                  "\" in another case; AMT compares it exactly"},
    [CERTPOL_NO_SERVER_AUTH] = {"no-server-auth",
                                "the certificate has the AMT provisioning OID but not "
                                "serverAuth"},
    [CERTPOL_EMPTY_SUFFIX] = {"empty-suffix",
                              "AMT has no domain suffix, so no certificate name matches"},
    [CERTPOL_NO_CN] = {"no-cn", "the subject has no single, usable common name"},
    [CERTPOL_CN_SUFFIX_MISMATCH] = {"cn-suffix-mismatch",
                                    "the certificate's CN is not in AMT's domain"},
};

const char *
certpol_reason_name(enum certpol_reason reason)
{
    if ((unsigned)reason >= sizeof(reason_table) / sizeof(reason_table[0]))
        return "unknown";
    return reason_table[reason].name;
}

const char *
certpol_reason_text(enum certpol_reason reason)
{
    if ((unsigned)reason >= sizeof(reason_table) / sizeof(reason_table[0]))
        return "unknown certificate policy reason";
    return reason_table[reason].text;
}

/* Names are compared in ASCII only, whatever the locale says. */
static int
ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool
ascii_equal_nocase(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
            return false;
    return true;
}

/* A DNS name as a view into the caller's string, trailing dot left out. */
struct dns_name {
    const char *text;
    size_t len;
    size_t labels;
};

/* Refuses empty names, empty labels ("a..b", ".a") and names over the RFC limits. */
static bool
dns_name_parse(const char *s, struct dns_name *out)
{
    size_t len, label = 0;

    len = strnlen(s, DNS_NAME_MAX + 2);
    if (len > 0 && s[len - 1] == '.')
        len--;
    if (len == 0 || len > DNS_NAME_MAX)
        return false;
    out->text = s;
    out->len = len;
    out->labels = 1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '.') {
            if (++label > DNS_LABEL_MAX)
                return false;
            continue;
        }
        if (label == 0)
            return false;
        label = 0;
        out->labels++;
    }
    return label > 0;
}

/* The name without its first label; the caller makes sure there are two or more. */
static struct dns_name
dns_parent(struct dns_name n)
{
    const char *dot = memchr(n.text, '.', n.len);
    size_t skip = (size_t)(dot - n.text) + 1;

    return (struct dns_name){n.text + skip, n.len - skip, n.labels - 1};
}

/* Whether `name` is `domain` or lies below it, by whole labels. */
static bool
dns_within(struct dns_name name, struct dns_name domain)
{
    size_t start;

    if (name.len < domain.len)
        return false;
    start = name.len - domain.len;
    if (start > 0 && name.text[start - 1] != '.')
        return false;
    return ascii_equal_nocase(name.text + start, domain.text, domain.len);
}

/*
 * The CN is a host name; its domain is the CN without the host label. Examples with
 * the CN provserver.<domain>:
 *
 *   whole-suffix rule (before AMT 3.2.1): the domain is the suffix or lies below it.
 *     suffix contoso.com:        contoso.com yes, eu.contoso.com yes,
 *                                evilcontoso.com no, northwindtraders.com no
 *     suffix sales.contoso.com:  contoso.com no, marketing.contoso.com no
 *
 *   parent-domain rule (AMT 3.2.1 and later): also accepted when the domain is the
 *   suffix's parent or lies below it, so sales.contoso.com and marketing.contoso.com
 *   match through contoso.com. The parent must keep two labels or more, so the rule
 *   adds nothing for a two-label suffix: contoso.com never reaches "com".
 *     suffix sales.contoso.com:  contoso.com yes, marketing.contoso.com yes,
 *                                x.marketing.contoso.com yes, fabrikam.com no
 *     suffix a.sales.contoso.com: sales.contoso.com yes, marketing.contoso.com no
 *   Where the parent may sit is an assumption: public material only gives the
 *   sales/marketing example and an older note that matched the last two labels.
 *   Two labels are not always a registrable domain (sales.contoso.co.uk reaches
 *   co.uk); no public suffix list is consulted, and none is known in the firmware.
 *
 * A CN without a domain ("provserver") and an empty suffix match nothing.
 */
bool
certpol_cn_matches_suffix(const char *cn, const char *suffix, bool parent_rule)
{
    struct dns_name host, domain, want;

    if (cn == NULL || suffix == NULL || !dns_name_parse(cn, &host) ||
        !dns_name_parse(suffix, &want) || host.labels < 2)
        return false;
    domain = dns_parent(host);
    if (dns_within(domain, want))
        return true;
    return parent_rule && want.labels >= 3 && dns_within(domain, dns_parent(want));
}

static bool
is_ca(X509 *cert)
{
    return X509_check_ca(cert) != 0 || X509_self_signed(cert, 0) == 1;
}

static bool
ca_key_too_long(X509 *cert)
{
    EVP_PKEY *key = X509_get0_pubkey(cert);
    int id;

    if (key == NULL || !is_ca(cert))
        return false;
    id = EVP_PKEY_get_base_id(key);
    return (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) &&
           EVP_PKEY_get_bits(key) > CERTPOL_CA_KEY_MAX_BITS;
}

int
certpol_check_ca_keylen(STACK_OF(X509) *chain, enum certpol_reason *reason)
{
    if (reason != NULL)
        *reason = CERTPOL_OK;
    if (chain == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    for (int i = 0; i < sk_X509_num(chain); i++) {
        X509 *cert = sk_X509_value(chain, i);

        if (cert != NULL && ca_key_too_long(cert)) {
            if (reason != NULL)
                *reason = CERTPOL_CA_KEY_TOO_LONG;
            return AMT_ERR_CERT_REFUSED;
        }
    }
    return 0;
}

static bool
root_is_trusted(const struct certpol_policy *p, X509 *root)
{
    struct amt_thumbprint tp;

    for (size_t i = 0; i < p->n_trusted_roots; i++)
        if (thumbprint_of_x509(root, p->trusted_roots[i].type, &tp) == 0 &&
            thumbprint_equal(&tp, &p->trusted_roots[i]))
            return true;
    return false;
}

static enum certpol_reason
verify_error_reason(int err)
{
    switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return CERTPOL_CERT_EXPIRED;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return CERTPOL_CERT_NOT_YET_VALID;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
        return CERTPOL_CHAIN_INCOMPLETE;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        /* The leaf leads to another root than the trusted one the peer added. */
        return CERTPOL_ROOT_NOT_TRUSTED;
    default:
        return CERTPOL_CHAIN_BROKEN;
    }
}

/*
 * Steps 1 and 2 of certpol_check_chain(). `presented` holds the leaf first. Only
 * presented self-signed certificates whose thumbprint is trusted become trust
 * anchors, so the verified chain ends in one of them.
 */
static int
check_trust(const struct certpol_policy *p, STACK_OF(X509) *presented,
            enum certpol_reason *why)
{
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    int roots = 0, anchors = 0, ok, r = AMT_ERR_INTERNAL;

    if ((store = X509_STORE_new()) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    for (int i = 0; i < sk_X509_num(presented); i++) {
        X509 *cert = sk_X509_value(presented, i);

        if (X509_self_signed(cert, 0) != 1)
            continue;
        roots++;
        if (!root_is_trusted(p, cert))
            continue;
        if (X509_STORE_add_cert(store, cert) != 1) {
            r = AMT_ERR_CRYPTO;
            goto out;
        }
        anchors++;
    }
    if (roots == 0 || anchors == 0) {
        *why = roots == 0 ? CERTPOL_CHAIN_INCOMPLETE : CERTPOL_ROOT_NOT_TRUSTED;
        r = AMT_ERR_CERT_REFUSED;
        goto out;
    }
    if (certpol_check_ca_keylen(presented, why) != 0) {
        r = AMT_ERR_CERT_REFUSED;
        goto out;
    }
    if ((ctx = X509_STORE_CTX_new()) == NULL ||
        X509_STORE_CTX_init(ctx, store, sk_X509_value(presented, 0), presented) != 1) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    /* A trust anchor is found by thumbprint alone: make sure it signed itself. */
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_CHECK_SS_SIGNATURE);
    if (p->now != 0)
        X509_STORE_CTX_set_time(ctx, 0, p->now);
    if ((ok = X509_verify_cert(ctx)) < 0) {
        r = AMT_ERR_CRYPTO;
        goto out;
    }
    if (ok == 0) {
        *why = verify_error_reason(X509_STORE_CTX_get_error(ctx));
        r = AMT_ERR_CERT_REFUSED;
        goto out;
    }
    r = 0;
out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return r;
}

static void
leaf_eku(X509 *leaf, bool *amt_oid, bool *server_auth)
{
    EXTENDED_KEY_USAGE *eku;
    char oid[80];

    *amt_oid = *server_auth = false;
    if ((eku = X509_get_ext_d2i(leaf, NID_ext_key_usage, NULL, NULL)) == NULL)
        return;
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
        ASN1_OBJECT *obj = sk_ASN1_OBJECT_value(eku, i);

        if (OBJ_obj2nid(obj) == NID_server_auth)
            *server_auth = true;
        else if (OBJ_obj2txt(oid, sizeof(oid), obj, 1) > 0 &&
                 strcmp(oid, CERTPOL_AMT_OID) == 0)
            *amt_oid = true;
    }
    EXTENDED_KEY_USAGE_free(eku);
}

enum ou_match {
    OU_NONE,
    OU_OTHER_CASE,
    OU_EXACT,
};

static enum ou_match
leaf_ou(X509 *leaf)
{
    const X509_NAME *subject = X509_get_subject_name(leaf);
    size_t want = strlen(CERTPOL_AMT_OU);
    enum ou_match best = OU_NONE;
    int i = -1;

    while (best != OU_EXACT && (i = X509_NAME_get_index_by_NID(
                                    subject, NID_organizationalUnitName, i)) >= 0) {
        const ASN1_STRING *data =
            X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
        unsigned char *utf8 = NULL;
        int n = ASN1_STRING_to_UTF8(&utf8, data);

        if (n >= 0 && (size_t)n == want) {
            if (memcmp(utf8, CERTPOL_AMT_OU, want) == 0)
                best = OU_EXACT;
            else if (ascii_equal_nocase((const char *)utf8, CERTPOL_AMT_OU, want))
                best = OU_OTHER_CASE;
        }
        OPENSSL_free(utf8);
    }
    return best;
}

/* Step 3: serverAuth with the AMT OID, or the exact OU. */
static enum certpol_reason
check_purpose(X509 *leaf)
{
    bool amt_oid, server_auth;
    enum ou_match ou = leaf_ou(leaf);

    leaf_eku(leaf, &amt_oid, &server_auth);
    if ((amt_oid && server_auth) || ou == OU_EXACT)
        return CERTPOL_OK;
    if (ou == OU_OTHER_CASE)
        return CERTPOL_OU_CASE_MISMATCH;
    return amt_oid ? CERTPOL_NO_SERVER_AUTH : CERTPOL_NO_AMT_OID_OR_OU;
}

/*
 * The subject's only CN as a NUL-terminated UTF-8 string (free with OPENSSL_free), or
 * NULL when there is none, more than one, or one with a NUL inside.
 */
static char *
leaf_cn(X509 *leaf)
{
    const X509_NAME *subject = X509_get_subject_name(leaf);
    unsigned char *utf8 = NULL;
    int i, n;

    if ((i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1)) < 0 ||
        X509_NAME_get_index_by_NID(subject, NID_commonName, i) >= 0)
        return NULL;
    n = ASN1_STRING_to_UTF8(&utf8,
                            X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
    if (n < 0)
        return NULL;
    if (strlen((char *)utf8) != (size_t)n) {
        OPENSSL_free(utf8);
        return NULL;
    }
    return (char *)utf8;
}

/* Step 4: the CN under AMT's domain suffix. */
static enum certpol_reason
check_name(const struct certpol_policy *p, X509 *leaf)
{
    enum certpol_reason why = CERTPOL_OK;
    char *cn;

    if (p->domain_suffix == NULL || p->domain_suffix[0] == '\0')
        return CERTPOL_EMPTY_SUFFIX;
    if ((cn = leaf_cn(leaf)) == NULL)
        return CERTPOL_NO_CN;
    if (!certpol_cn_matches_suffix(cn, p->domain_suffix, p->parent_domain_rule))
        why = CERTPOL_CN_SUFFIX_MISMATCH;
    OPENSSL_free(cn);
    return why;
}

int
certpol_check_chain(const struct certpol_policy *p, X509 *leaf, STACK_OF(X509) *chain,
                    enum certpol_reason *reason)
{
    STACK_OF(X509) *presented = NULL;
    enum certpol_reason why = CERTPOL_OK;
    int r = AMT_ERR_INTERNAL;

    if (reason != NULL)
        *reason = CERTPOL_OK;
    if (p == NULL || leaf == NULL || (p->n_trusted_roots > 0 && p->trusted_roots == NULL))
        return AMT_ERR_INVALID_ARGUMENT;
    /* A refusal is an answer: what OpenSSL queued on the way is dropped at out. */
    ERR_set_mark();
    /* Not owning: the certificates stay the caller's. */
    if ((presented = sk_X509_new_null()) == NULL || !sk_X509_push(presented, leaf)) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
        X509 *cert = sk_X509_value(chain, i);

        if (cert == NULL || X509_cmp(cert, leaf) == 0)
            continue;
        if (sk_X509_num(presented) == CERTPOL_CHAIN_MAX) {
            why = CERTPOL_CHAIN_TOO_LONG;
            r = AMT_ERR_CERT_REFUSED;
            goto out;
        }
        if (!sk_X509_push(presented, cert)) {
            r = AMT_ERR_ALLOC;
            goto out;
        }
    }
    if ((r = check_trust(p, presented, &why)) != 0)
        goto out;
    if ((why = check_purpose(leaf)) != CERTPOL_OK ||
        (why = check_name(p, leaf)) != CERTPOL_OK) {
        r = AMT_ERR_CERT_REFUSED;
        goto out;
    }
    r = 0;
out:
    if (r == AMT_ERR_CERT_REFUSED && reason != NULL)
        *reason = why;
    sk_X509_free(presented);
    if (r == AMT_ERR_CRYPTO)
        ERR_clear_last_mark();
    else
        ERR_pop_to_mark();
    return r;
}

/* A certificate block that claims to be encrypted is damaged, not a prompt. */
static int
no_password(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

int
certpol_parse_chain_pem(const void *pem, size_t len, X509 **leaf, STACK_OF(X509) **chain)
{
    BIO *bio = NULL;
    X509 *first = NULL, *cert = NULL;
    STACK_OF(X509) *rest = NULL;
    unsigned long last;
    int n = 0, r = AMT_ERR_INTERNAL;

    if (leaf != NULL)
        *leaf = NULL;
    if (chain != NULL)
        *chain = NULL;
    if (pem == NULL || leaf == NULL || chain == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (len > CERTPOL_PEM_MAX)
        return AMT_ERR_TOO_LARGE;
    ERR_set_mark();
    if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL ||
        (rest = sk_X509_new_null()) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    while ((cert = PEM_read_bio_X509(bio, NULL, no_password, NULL)) != NULL) {
        if (++n > CERTPOL_CHAIN_MAX) {
            r = AMT_ERR_TOO_LARGE;
            goto out;
        }
        if (first == NULL)
            first = cert;
        else if (!sk_X509_push(rest, cert)) {
            r = AMT_ERR_ALLOC;
            goto out;
        }
        cert = NULL;
    }
    /* The reader ends on "no start line" at the end of the input, on damage otherwise. */
    last = ERR_peek_last_error();
    if (first == NULL || ERR_GET_LIB(last) != ERR_LIB_PEM ||
        ERR_GET_REASON(last) != PEM_R_NO_START_LINE) {
        r = AMT_ERR_CERT_LOAD;
        goto out;
    }
    *leaf = first;
    first = NULL;
    *chain = rest;
    rest = NULL;
    r = 0;
out:
    /* Keep OpenSSL's account of a damaged file for the caller to log. */
    if (r == 0)
        ERR_pop_to_mark();
    else
        ERR_clear_last_mark();
    X509_free(cert);
    X509_free(first);
    sk_X509_pop_free(rest, X509_free);
    BIO_free(bio);
    return r;
}

int
certpol_load_chain_pem(const char *path, X509 **leaf, STACK_OF(X509) **chain)
{
    FILE *f = NULL;
    unsigned char *buf = NULL;
    size_t len;
    int r = AMT_ERR_INTERNAL, saved_errno;

    if (leaf != NULL)
        *leaf = NULL;
    if (chain != NULL)
        *chain = NULL;
    if (path == NULL || leaf == NULL || chain == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((buf = malloc(CERTPOL_PEM_MAX + 1)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    if ((f = fopen(path, "rb")) == NULL) {
        r = AMT_ERR_SYSTEM;
        goto out;
    }
    /* One byte more than the cap tells a file at the cap from a longer one. */
    len = fread(buf, 1, CERTPOL_PEM_MAX + 1, f);
    if (ferror(f)) {
        r = AMT_ERR_SYSTEM;
        goto out;
    }
    if (len > CERTPOL_PEM_MAX) {
        r = AMT_ERR_TOO_LARGE;
        goto out;
    }
    r = certpol_parse_chain_pem(buf, len, leaf, chain);
out:
    saved_errno = errno;
    if (f != NULL)
        fclose(f);
    free(buf);
    errno = saved_errno;
    return r;
}
