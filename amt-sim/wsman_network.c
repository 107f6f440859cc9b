/*
 * OOB-8.4 and AMT-8021X: certificates (AMT_PublicKeyManagementService,
 * AMT_PublicKeyCertificate), wireless profiles (AMT_WiFiPortConfigurationService,
 * CIM_WiFiEndpointSettings) and the wired 802.1X profile (AMT_8021XProfile).
 * All of it lives under p2 in the flash:
 *
 *   p2.cert.next               the next certificate handle (1, 2, ...)
 *   p2.cert.<h>.der            the certificate, base64 DER
 *   p2.cert.<h>.root           1 for a trusted root
 *   p2.wifi.<slot>.<field>     a wireless profile (name, ssid, priority, ...)
 *   p2.8021x.<field>           the wired profile
 *
 * Secrets (PSKs, 802.1X passwords) are checked and wiped, never kept: the
 * simulator connects to no network, so only the fact that one was given is
 * stored. Handle 0 is the device's TLS certificate, listed but not deletable.
 *
 * What the catalogue says is supported (seed 000) is what is accepted: WPA or
 * WPA2 with TKIP or AES (CCMP); 802.1X with EAP-TLS, EAP-TTLS/MSCHAPv2 or
 * PEAPv0/EAP-MSCHAPv2; a client certificate under EAP-TLS or EAP-TTLS/MSCHAPv2
 * needs the RADIUS identity domain\computer_account. WPA and WPA2 with a
 * pre-shared key are accepted as the firmware of the time did. RSA keys only, at
 * most 2048 bits (PKI-CA-KEYLEN for roots).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "wsman_classes.h"
#include "xmlsafe.h"

#define CERT_CLASS "AMT_PublicKeyCertificate"
#define CERT_ID_PREFIX "Intel(r) AMT Certificate: Handle: "
#define CERT_MAX 32
#define CERT_DER_MAX 8192
#define CERT_B64_MAX                                                                     \
    (CERT_DER_MAX / 3 * 4 + 8 + CERT_DER_MAX / 16) /* and line breaks                    \
                                                    */
#define RSA_BITS_MAX 2048

#define WIFI_MAX 16
#define WIFI_NAME_MAX 32
#define WIFI_SSID_MAX 32
#define WIFI_ID_PREFIX "Intel(r) AMT:WiFi Endpoint Settings "
#define WIFI_ENDPOINT_NAME "WiFi Endpoint 0"

#define EAP_TEXT_MAX 128
#define EAP_PASSWORD_MAX 32

/* AddWiFiSettings ReturnValue */
enum {
    WIFI_RV_OK = 0,
    WIFI_RV_NOT_SUPPORTED = 1,
    WIFI_RV_FAILED = 2,
    WIFI_RV_INVALID_PARAMETER = 3,
    WIFI_RV_INVALID_REFERENCE = 4,
};

/* CIM_WiFiEndpointSettings AuthenticationMethod and EncryptionMethod */
enum {
    AUTH_WPA_PSK = 4,
    AUTH_WPA_8021X = 5,
    AUTH_WPA2_PSK = 6,
    AUTH_WPA2_8021X = 7,
    ENC_TKIP = 3,
    ENC_CCMP = 4,
};

/* CIM_IEEE8021xSettings AuthenticationProtocol */
enum {
    EAP_TLS = 0,
    EAP_TTLS_MSCHAPV2 = 1,
    EAP_PEAPV0_MSCHAPV2 = 2,
    EAP_PROTOCOL_MAX = 10,
};

/* ---------------------------------------------------------------- certificates */

static unsigned
cert_handle_of(const char *instance_id)
{
    size_t n = strlen(CERT_ID_PREFIX);
    const char *p;
    char *end;
    unsigned long h;

    if (strncmp(instance_id, CERT_ID_PREFIX, n) != 0)
        return 0;
    p = instance_id + n;
    if (*p < '0' || *p > '9')
        return 0;
    h = strtoul(p, &end, 10);
    return *end == '\0' && h <= CERT_MAX * 1000u ? (unsigned)h : 0;
}

static const char *
cert_b64(struct ws_req *w, unsigned handle)
{
    char name[32];

    snprintf(name, sizeof(name), "cert.%u.der", handle);
    return ws_p2_get(w, name);
}

static bool
cert_is_root(struct ws_req *w, unsigned handle)
{
    char name[32];

    snprintf(name, sizeof(name), "cert.%u.root", handle);
    return ws_p2_u(w, name, 0) == 1;
}

/* The handles of the stored certificates, ascending. */
static size_t
cert_handles(struct ws_req *w, unsigned *out, size_t max)
{
    struct sim_flash *flash = sim_device_flash(w->dev);
    const char *prefix = SIM_FLASH_P2_PREFIX "cert.";
    size_t n = 0, plen = strlen(prefix);

    for (size_t i = 0; i < sim_flash_count(flash) && n < max; i++) {
        const char *key = sim_flash_key_at(flash, i);
        char *end;
        unsigned long h;

        if (strncmp(key, prefix, plen) != 0 || key[plen] < '0' || key[plen] > '9')
            continue;
        h = strtoul(key + plen, &end, 10);
        if (strcmp(end, ".der") != 0 || h == 0 || h > UINT32_MAX)
            continue;
        out[n++] = (unsigned)h;
    }
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && out[k - 1] > out[k]; k--) {
            unsigned t = out[k];

            out[k] = out[k - 1];
            out[k - 1] = t;
        }
    return n;
}

/* Which wireless or 802.1X profile ties this certificate, if any. */
static bool cert_in_use(struct ws_req *w, unsigned handle);

static int
cert_list(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n)
{
    unsigned handles[CERT_MAX];
    size_t count = cert_handles(w, handles, CERT_MAX);

    *n = 0;
    if (sim_device_tls_cert_pem(w->dev) != NULL && *n < max) {
        memset(&out[*n], 0, sizeof(out[0]));
        snprintf(out[*n].id, sizeof(out[0].id), "0");
        ws_inst_key(&out[*n], "InstanceID", CERT_ID_PREFIX "0");
        (*n)++;
    }
    for (size_t i = 0; i < count && *n < max; i++) {
        memset(&out[*n], 0, sizeof(out[0]));
        snprintf(out[*n].id, sizeof(out[0].id), "%u", handles[i]);
        ws_inst_key(&out[*n], "InstanceID", CERT_ID_PREFIX "%u", handles[i]);
        (*n)++;
    }
    return 0;
}

/* The device's own PEM certificate as base64 DER. */
static int
tls_cert_b64(struct ws_req *w, char **out)
{
    const char *pem = sim_device_tls_cert_pem(w->dev);
    unsigned char *der = NULL;
    X509 *x = NULL;
    BIO *b = NULL;
    int len, r = AMT_ERR_CRYPTO;

    *out = NULL;
    if (pem == NULL)
        return AMT_ERR_NOT_FOUND;
    if ((b = BIO_new_mem_buf(pem, -1)) == NULL ||
        (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL ||
        (len = i2d_X509(x, &der)) <= 0)
        goto out;
    r = ws_base64_encode(der, (size_t)len, out);
out:
    OPENSSL_free(der);
    X509_free(x);
    BIO_free(b);
    return r;
}

static X509 *
x509_of_b64(const char *b64)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    size_t len = 0;
    X509 *x = NULL;

    if (ws_base64_decode(b64, &der, &len, CERT_DER_MAX) != 0)
        return NULL;
    p = der;
    x = d2i_X509(NULL, &p, (long)len);
    free(der);
    return x;
}

/* RFC 2253 text: non-ASCII and control bytes escaped, so it is always XML text. */
static void
name_text(const X509_NAME *name, char *buf, size_t size)
{
    BIO *b = BIO_new(BIO_s_mem());
    int n = 0;

    buf[0] = '\0';
    if (b == NULL)
        return;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0)
        n = BIO_read(b, buf, (int)size - 1);
    buf[n > 0 ? n : 0] = '\0';
    BIO_free(b);
}

static int
cert_render(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o)
{
    unsigned handle = (unsigned)strtoul(inst->id, NULL, 10);
    char *tls = NULL, subject[256] = "", issuer[256] = "";
    const char *b64;
    X509 *x = NULL;
    int r;

    if (handle == 0) {
        if (o->m != NULL && (r = tls_cert_b64(w, &tls)) != 0)
            return r;
        b64 = tls;
    } else {
        b64 = cert_b64(w, handle);
    }
    if (b64 != NULL && o->m != NULL && (x = x509_of_b64(b64)) != NULL) {
        name_text(X509_get_subject_name(x), subject, sizeof(subject));
        name_text(X509_get_issuer_name(x), issuer, sizeof(issuer));
    }
    ws_prop(o, "ElementName", "Intel(r) AMT Certificate");
    ws_prop_keys(o, inst);
    ws_prop(o, "X509Certificate", b64 != NULL ? b64 : "");
    ws_prop_bool(o, "TrustedRootCertificate", handle != 0 && cert_is_root(w, handle));
    ws_prop(o, "Issuer", issuer);
    ws_prop(o, "Subject", subject);
    ws_prop_bool(o, "ReadOnlyCertificate", handle == 0);
    X509_free(x);
    free(tls);
    return o->err;
}

static int
cert_delete(struct ws_req *w, const struct ws_inst *inst)
{
    unsigned handle = (unsigned)strtoul(inst->id, NULL, 10);
    char prefix[32];
    int r;

    if (handle == 0)
        return ws_fault(w, WSMAN_FAULT_ACCESS_DENIED, "certificate-in-use",
                        "the TLS certificate of the device cannot be deleted");
    if (cert_in_use(w, handle))
        return ws_fault(w, WSMAN_FAULT_ACCESS_DENIED, "certificate-in-use",
                        "certificate %u is used by a wireless or 802.1X profile: delete "
                        "the profile first",
                        handle);
    if ((r = ws_p2_key(prefix, sizeof(prefix), "cert.%u.", handle)) != 0 ||
        (r = sim_flash_remove_prefix(sim_device_flash(w->dev), prefix, NULL)) != 0 ||
        (r = ws_p2_commit(w)) != 0)
        return r;
    WS_EVENT(w, "OOB-8.4", EVLOG_RESULT_OK, EVLOG_STR("what", "certificate-deleted"),
             EVLOG_INT("handle", handle));
    return 0;
}

const struct ws_class ws_public_key_certificate = {
    .name = CERT_CLASS,
    .feature = SIM_FEATURE_WSMAN,
    .read_rights = 0,
    .write_rights = 0,
    .list = cert_list,
    .render = cert_render,
    .gettable = true,
    .enumerable = true,
    .del = cert_delete,
};

#define PKMS_CLASS "AMT_PublicKeyManagementService"
#define PKMS_NAME "Intel(r) AMT Certificate Store Service"

static int
pkms_list(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n)
{
    ws_service_inst(&out[0], PKMS_CLASS, PKMS_NAME);
    *n = 1;
    return 0;
}

static int
pkms_render(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o)
{
    ws_prop_keys(o, inst);
    ws_prop(o, "ElementName", PKMS_NAME);
    ws_prop_u32(o, "EnabledState", 5);
    return o->err;
}

/*
 * Why a certificate is refused, or NULL: one DER certificate and nothing after it,
 * an RSA key of at most 2048 bits, and for a trusted root a CA certificate.
 */
static const char *
cert_refusal(const unsigned char *der, size_t len, bool root, int *bits)
{
    const unsigned char *p = der;
    const char *why = NULL;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    EVP_PKEY *key;

    *bits = 0;
    if (x == NULL || p != der + len)
        why = "not-a-certificate";
    else if ((key = X509_get0_pubkey(x)) == NULL ||
             EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
        why = "key-not-rsa";
    else if ((*bits = EVP_PKEY_get_bits(key)) > RSA_BITS_MAX)
        why = "key-too-long";
    else if (root && X509_check_ca(x) < 1)
        why = "not-a-ca";
    X509_free(x);
    return why;
}

/* <h:AddCertificate_INPUT><h:CertificateBlob>base64 DER</h:CertificateBlob> */
static int
add_cert(struct ws_req *w, xmlNodePtr in, bool root)
{
    static const struct ws_param params[] = {{"CertificateBlob", false}};
    unsigned handles[CERT_MAX], handle;
    unsigned char *der = NULL;
    char *b64 = NULL, *canon = NULL, name[32];
    struct ws_key created = {"InstanceID", ""};
    const char *why;
    size_t len = 0, n;
    bool present;
    int bits = 0, r;

    if ((b64 = malloc(CERT_B64_MAX + 1)) == NULL)
        return AMT_ERR_ALLOC;
    if ((r = ws_check_params(w, in, w->call->resource_uri, params, 1)) != 0 ||
        (r = ws_in_text(w, in, "CertificateBlob", b64, CERT_B64_MAX + 1, &present)) != 0)
        goto out;
    if (!present) {
        r = ws_missing(w, "CertificateBlob");
        goto out;
    }
    if (ws_base64_decode(b64, &der, &len, CERT_DER_MAX) != 0) {
        r = ws_return(w, PT_INVALID_CERT, "not-base64");
        goto out;
    }
    if ((why = cert_refusal(der, len, root, &bits)) != NULL) {
        if (root && strcmp(why, "key-too-long") == 0)
            WS_EVENT(w, "PKI-CA-KEYLEN", EVLOG_RESULT_FAIL, EVLOG_REASON("key-too-long"),
                     EVLOG_INT("rsa-bits", bits), EVLOG_INT("max-bits", RSA_BITS_MAX));
        r = ws_return(w, PT_INVALID_CERT, why);
        goto out;
    }
    if ((r = ws_base64_encode(der, len, &canon)) != 0)
        goto out;
    n = cert_handles(w, handles, CERT_MAX);
    for (size_t i = 0; i < n; i++) {
        const char *have = cert_b64(w, handles[i]);

        if (have != NULL && strcmp(have, canon) == 0) {
            r = ws_return(w, PT_DUPLICATE, "duplicate-certificate");
            goto out;
        }
    }
    if (n >= CERT_MAX) {
        r = ws_return(w, PT_MAX_LIMIT_REACHED, "certificate-store-full");
        goto out;
    }
    handle = (unsigned)ws_p2_u(w, "cert.next", 1);
    snprintf(name, sizeof(name), "cert.%u.der", handle);
    if ((r = ws_p2_set(w, name, canon)) != 0)
        goto out;
    snprintf(name, sizeof(name), "cert.%u.root", handle);
    if ((r = ws_p2_set(w, name, root ? "1" : "0")) != 0 ||
        (r = ws_p2_set_u(w, "cert.next", handle + 1)) != 0 || (r = ws_p2_commit(w)) != 0)
        goto out;
    WS_EVENT(w, "OOB-8.4", EVLOG_RESULT_OK, EVLOG_STR("what", "certificate-added"),
             EVLOG_INT("handle", handle), EVLOG_BOOL("root", root),
             EVLOG_INT("rsa-bits", bits));
    if ((r = ws_return(w, PT_SUCCESS, NULL)) != 0)
        goto out;
    {
        struct ws_out o;

        snprintf(created.value, sizeof(created.value), CERT_ID_PREFIX "%u", handle);
        ws_out_reply(w, &o);
        ws_prop_epr(&o, "CreatedCertificate", CERT_CLASS, &created, 1);
        r = o.err;
    }
out:
    free(der);
    free(canon);
    free(b64);
    return r;
}

static int
pkms_add_cert(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    return add_cert(w, in, false);
}

static int
pkms_add_root(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    return add_cert(w, in, true);
}

static const struct ws_method pkms_methods[] = {
    {"AddCertificate", true, pkms_add_cert},
    {"AddTrustedRootCertificate", true, pkms_add_root},
};

const struct ws_class ws_public_key_management_service = {
    .name = PKMS_CLASS,
    .feature = SIM_FEATURE_WSMAN,
    .read_rights = 0,
    .write_rights = 0,
    .list = pkms_list,
    .render = pkms_render,
    .gettable = true,
    .enumerable = true,
    .methods = pkms_methods,
    .n_methods = N_ELEMS(pkms_methods),
};

/* ---------------------------------------------------------------- 802.1X */

struct eap {
    uint32_t protocol;
    char username[EAP_TEXT_MAX + 1];
    char domain[EAP_TEXT_MAX + 1];
    char roaming[EAP_TEXT_MAX + 1];
    char server_name[EAP_TEXT_MAX + 1];
    uint32_t server_cmp;
    bool has_password;
    unsigned client, ca; /* certificate handles; 0 none */
};

/* How a set of 802.1X settings fails; the caller turns it into its own answer. */
enum eap_verdict {
    EAP_FINE,
    EAP_UNSUPPORTED,   /* a protocol the catalogue does not support */
    EAP_INVALID,       /* a missing or impossible value */
    EAP_BAD_REFERENCE, /* a certificate that is not there or not of the right kind */
    EAP_IDENTITY,      /* not domain\computer_account where it must be */
};

static const char *
eap_name(uint32_t protocol)
{
    switch (protocol) {
    case EAP_TLS:
        return "eap-tls";
    case EAP_TTLS_MSCHAPV2:
        return "eap-ttls-mschapv2";
    case EAP_PEAPV0_MSCHAPV2:
        return "peapv0-eap-mschapv2";
    default:
        return "other";
    }
}

static bool
identity_char(char c, bool account)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || (account && c == '$');
}

static bool
identity_part(const char *s, size_t len, bool account)
{
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!identity_char(s[i], account))
            return false;
    return true;
}

/*
 * The RADIUS identity form for a client certificate: "CONTOSO\PC1$" in Username,
 * or Username "PC1$" with Domain "CONTOSO". A Domain next to a Username that
 * carries one must name the same domain.
 */
static bool
identity_ok(const char *username, const char *domain)
{
    const char *slash = strchr(username, '\\');

    if (slash == NULL)
        return identity_part(domain, strlen(domain), false) &&
               identity_part(username, strlen(username), true);
    if (strchr(slash + 1, '\\') != NULL ||
        !identity_part(username, (size_t)(slash - username), false) ||
        !identity_part(slash + 1, strlen(slash + 1), true))
        return false;
    return domain[0] == '\0' || (strlen(domain) == (size_t)(slash - username) &&
                                 strncasecmp(domain, username, strlen(domain)) == 0);
}

/* A certificate reference: a handle to a stored one of the wanted kind, else 0. */
static unsigned
cert_reference(struct ws_req *w, const xmlNode *epr, bool want_root)
{
    char id[WS_KEY_VALUE_MAX];
    unsigned handle;

    if (ws_epr_selector(epr, CERT_CLASS, "InstanceID", id, sizeof(id)) != 0 ||
        (handle = cert_handle_of(id)) == 0 || cert_b64(w, handle) == NULL ||
        cert_is_root(w, handle) != want_root)
        return 0;
    return handle;
}

/*
 * Reads 802.1X settings from node (CIM_IEEE8021xSettings or AMT_8021XProfile
 * properties) and the two certificate references. A malformed value is a fault
 * (r); a well-formed but refused one is *verdict with *what saying why.
 */
static int
read_eap(struct ws_req *w, const xmlNode *node, const xmlNode *client_epr,
         const xmlNode *ca_epr, struct eap *e, enum eap_verdict *verdict,
         const char **what)
{
    char password[EAP_PASSWORD_MAX * 4 + 1];
    bool has_protocol, has_cmp, present;
    int r;

    memset(e, 0, sizeof(*e));
    *verdict = EAP_FINE;
    *what = NULL;
    if ((r = ws_in_u32(w, node, "AuthenticationProtocol", &e->protocol, &has_protocol)) !=
            0 ||
        (r = ws_in_text(w, node, "Username", e->username, sizeof(e->username),
                        &present)) != 0 ||
        (r = ws_in_text(w, node, "Domain", e->domain, sizeof(e->domain), &present)) !=
            0 ||
        (r = ws_in_text(w, node, "RoamingIdentity", e->roaming, sizeof(e->roaming),
                        &present)) != 0 ||
        (r = ws_in_text(w, node, "ServerCertificateName", e->server_name,
                        sizeof(e->server_name), &present)) != 0 ||
        (r = ws_in_u32(w, node, "ServerCertificateNameComparison", &e->server_cmp,
                       &has_cmp)) != 0 ||
        (r = ws_in_text(w, node, "Password", password, sizeof(password),
                        &e->has_password)) != 0)
        goto out;
    if (client_epr != NULL && (e->client = cert_reference(w, client_epr, false)) == 0) {
        *verdict = EAP_BAD_REFERENCE, *what = "client-certificate-reference";
    } else if (ca_epr != NULL && (e->ca = cert_reference(w, ca_epr, true)) == 0) {
        *verdict = EAP_BAD_REFERENCE, *what = "ca-certificate-reference";
    } else if (!has_protocol) {
        *verdict = EAP_INVALID, *what = "authentication-protocol-missing";
    } else if (e->protocol > EAP_PROTOCOL_MAX) {
        *verdict = EAP_INVALID, *what = "authentication-protocol-invalid";
    } else if (e->protocol != EAP_TLS && e->protocol != EAP_TTLS_MSCHAPV2 &&
               e->protocol != EAP_PEAPV0_MSCHAPV2) {
        *verdict = EAP_UNSUPPORTED, *what = "eap-method-unsupported";
    } else if (e->has_password &&
               (password[0] == '\0' || strlen(password) > EAP_PASSWORD_MAX)) {
        *verdict = EAP_INVALID, *what = "password-length";
    } else if (e->server_name[0] != '\0' &&
               (!has_cmp || e->server_cmp < 2 || e->server_cmp > 3)) {
        /* 2 FullName, 3 DomainSuffix: the name means nothing without one */
        *verdict = EAP_INVALID, *what = "server-certificate-name-comparison";
    } else if (e->protocol == EAP_TLS && e->client == 0) {
        *verdict = EAP_INVALID, *what = "eap-tls-needs-client-certificate";
    } else if (e->protocol != EAP_TLS && e->client == 0 &&
               (e->username[0] == '\0' || !e->has_password)) {
        *verdict = EAP_INVALID, *what = "username-and-password-needed";
    } else if (e->client != 0 && e->protocol != EAP_PEAPV0_MSCHAPV2 &&
               !identity_ok(e->username, e->domain)) {
        *verdict = EAP_IDENTITY, *what = "radius-identity-form";
    }
    if (*verdict != EAP_FINE && *verdict != EAP_BAD_REFERENCE)
        WS_EVENT(w, "AMT-8021X", EVLOG_RESULT_FAIL, EVLOG_REASON(*what),
                 EVLOG_INT("protocol", has_protocol ? (int64_t)e->protocol : -1));
out:
    OPENSSL_cleanse(password, sizeof(password));
    ws_wipe_text(ws_child(node, "Password"));
    ws_wipe_text(ws_child(node, "PACPassword"));
    ws_wipe_text(ws_child(node, "PSK"));
    return r;
}

/* Stores e under p2.<prefix>...; empty fields are removed. */
static int
store_eap(struct ws_req *w, const char *prefix, const struct eap *e)
{
    static const char *const fields[] = {"user", "domain", "roaming", "server-name"};
    const char *values[] = {e->username, e->domain, e->roaming, e->server_name};
    char name[64];
    int r;

    for (size_t i = 0; i < N_ELEMS(fields); i++) {
        snprintf(name, sizeof(name), "%s%s", prefix, fields[i]);
        if ((r = ws_p2_set(w, name, values[i][0] != '\0' ? values[i] : NULL)) != 0)
            return r;
    }
    snprintf(name, sizeof(name), "%sprotocol", prefix);
    if ((r = ws_p2_set_u(w, name, e->protocol)) != 0)
        return r;
    snprintf(name, sizeof(name), "%sserver-cmp", prefix);
    if ((r = e->server_name[0] != '\0' ? ws_p2_set_u(w, name, e->server_cmp)
                                       : ws_p2_set(w, name, NULL)) != 0)
        return r;
    snprintf(name, sizeof(name), "%ssecret", prefix);
    if ((r = ws_p2_set(w, name, e->has_password ? "1" : NULL)) != 0)
        return r;
    snprintf(name, sizeof(name), "%sclient", prefix);
    if ((r = e->client ? ws_p2_set_u(w, name, e->client) : ws_p2_set(w, name, NULL)) != 0)
        return r;
    snprintf(name, sizeof(name), "%sca", prefix);
    return e->ca ? ws_p2_set_u(w, name, e->ca) : ws_p2_set(w, name, NULL);
}

/* ---------------------------------------------------------------- wireless */

static const char *
wifi_get(struct ws_req *w, unsigned slot, const char *field)
{
    char name[48];

    snprintf(name, sizeof(name), "wifi.%u.%s", slot, field);
    return ws_p2_get(w, name);
}

static unsigned long
wifi_u(struct ws_req *w, unsigned slot, const char *field, unsigned long dflt)
{
    char name[48];

    snprintf(name, sizeof(name), "wifi.%u.%s", slot, field);
    return ws_p2_u(w, name, dflt);
}

static bool
cert_in_use(struct ws_req *w, unsigned handle)
{
    if (ws_p2_u(w, "8021x.client", 0) == handle || ws_p2_u(w, "8021x.ca", 0) == handle)
        return true;
    for (unsigned slot = 0; slot < WIFI_MAX; slot++)
        if (wifi_get(w, slot, "name") != NULL &&
            (wifi_u(w, slot, "eap.client", 0) == handle ||
             wifi_u(w, slot, "eap.ca", 0) == handle))
            return true;
    return false;
}

#define WIFI_PORT_CLASS "AMT_WiFiPortConfigurationService"
#define WIFI_PORT_NAME "Intel(r) AMT WiFi Port Configuration Service"

/* Reading this service is how a client learns the device has wireless (OOB-8.4). */
static int
wifi_port_list(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n)
{
    ws_service_inst(&out[0], WIFI_PORT_CLASS, WIFI_PORT_NAME);
    *n = 1;
    if ((w->call->kind == WSMAN_GET && !w->is_delete) || w->call->kind == WSMAN_ENUMERATE)
        WS_EVENT(w, "OOB-8.4", EVLOG_RESULT_OK, EVLOG_STR("what", "wireless-capability"),
                 EVLOG_BOOL("wireless", true));
    return 0;
}

static int
wifi_port_render(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o)
{
    ws_prop_keys(o, inst);
    ws_prop(o, "ElementName", WIFI_PORT_NAME);
    ws_prop_u32(o, "EnabledState", 5);
    return o->err;
}

struct wifi_settings {
    char name[WIFI_NAME_MAX + 1];
    char ssid[WIFI_SSID_MAX + 1];
    uint32_t priority, auth, enc;
    bool has_psk;
};

static bool
is_8021x(uint32_t auth)
{
    return auth == AUTH_WPA_8021X || auth == AUTH_WPA2_8021X;
}

/*
 * <h:WiFiEndpointSettingsInput xmlns:q=".../CIM_WiFiEndpointSettings">
 *   <q:ElementName>home</q:ElementName><q:Priority>1</q:Priority><q:SSID>corp</q:SSID>
 *   <q:AuthenticationMethod>7</q:AuthenticationMethod>
 *   <q:EncryptionMethod>4</q:EncryptionMethod>
 * Returns the ReturnValue in *rv (0 fine) and why in *why.
 */
static int
read_wifi_settings(struct ws_req *w, const xmlNode *node, struct wifi_settings *s,
                   uint32_t *rv, const char **why)
{
    static const struct ws_param params[] = {
        {"ElementName", false},      {"InstanceID", false},
        {"Priority", false},         {"SSID", false},
        {"BSSType", false},          {"AuthenticationMethod", false},
        {"EncryptionMethod", false}, {"PSKPassPhrase", false},
        {"PSKValue", false},         {"Keys", true},
        {"KeyIndex", false},
    };
    char phrase[64 * 4 + 1], psk_value[128 + 1], id[WS_KEY_VALUE_MAX];
    bool has_name, has_ssid, has_prio, has_auth, has_enc, has_phrase, has_value, has_bss,
        has_id;
    uint32_t bss = 3;
    size_t plen;
    int r;

    memset(s, 0, sizeof(*s));
    *rv = WIFI_RV_OK;
    *why = NULL;
    if ((r = ws_check_params(w, node, NULL, params, N_ELEMS(params))) != 0 ||
        (r = ws_in_text(w, node, "ElementName", s->name, sizeof(s->name), &has_name)) !=
            0 ||
        (r = ws_in_text(w, node, "InstanceID", id, sizeof(id), &has_id)) != 0 ||
        (r = ws_in_text(w, node, "SSID", s->ssid, sizeof(s->ssid), &has_ssid)) != 0 ||
        (r = ws_in_u32(w, node, "Priority", &s->priority, &has_prio)) != 0 ||
        (r = ws_in_u32(w, node, "BSSType", &bss, &has_bss)) != 0 ||
        (r = ws_in_u32(w, node, "AuthenticationMethod", &s->auth, &has_auth)) != 0 ||
        (r = ws_in_u32(w, node, "EncryptionMethod", &s->enc, &has_enc)) != 0 ||
        (r = ws_in_text(w, node, "PSKPassPhrase", phrase, sizeof(phrase), &has_phrase)) !=
            0 ||
        (r = ws_in_text(w, node, "PSKValue", psk_value, sizeof(psk_value), &has_value)) !=
            0)
        goto out;
    s->has_psk = has_phrase || has_value;
    plen = strlen(phrase);
    if (!has_name || !has_ssid || !has_prio || !has_auth || !has_enc ||
        s->name[0] == '\0' || s->ssid[0] == '\0' || s->priority > 255 || bss != 3) {
        *rv = WIFI_RV_INVALID_PARAMETER, *why = "invalid-parameter";
    } else if (ws_child(node, "Keys") != NULL || ws_child(node, "KeyIndex") != NULL ||
               s->auth < AUTH_WPA_PSK || s->auth > AUTH_WPA2_8021X) {
        *rv = WIFI_RV_NOT_SUPPORTED, *why = "authentication-method-unsupported";
    } else if (s->enc != ENC_TKIP && s->enc != ENC_CCMP) {
        *rv = WIFI_RV_NOT_SUPPORTED, *why = "encryption-method-unsupported";
    } else if (!is_8021x(s->auth) &&
               (has_phrase == has_value || (has_phrase && (plen < 8 || plen > 63)) ||
                (has_value && strlen(psk_value) != 64))) {
        /* WPA: a passphrase of 8 to 63 characters, or the 256-bit key in hex */
        *rv = WIFI_RV_INVALID_PARAMETER, *why = "invalid-psk";
    } else if (is_8021x(s->auth) && s->has_psk) {
        *rv = WIFI_RV_INVALID_PARAMETER, *why = "psk-with-8021x";
    }
out:
    OPENSSL_cleanse(phrase, sizeof(phrase));
    OPENSSL_cleanse(psk_value, sizeof(psk_value));
    ws_wipe_text(ws_child(node, "PSKPassPhrase"));
    ws_wipe_text(ws_child(node, "PSKValue"));
    return r;
}

static bool
printable_name(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return false;
    return true;
}

/*
 * <h:AddWiFiSettings_INPUT><h:WiFiEndpoint>reference to CIM_WiFiEndpoint</h:WiFiEndpoint>
 *   <h:WiFiEndpointSettingsInput>..</h:WiFiEndpointSettingsInput>
 *   <h:IEEE8021xSettingsInput>..</h:IEEE8021xSettingsInput>
 *   <h:ClientCredential>..</h:ClientCredential><h:CACredential>..</h:CACredential>
 */
static int
wifi_add(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    static const struct ws_param params[] = {
        {"WiFiEndpoint", false},           {"WiFiEndpointSettingsInput", false},
        {"IEEE8021xSettingsInput", false}, {"ClientCredential", false},
        {"CACredential", false},
    };
    xmlNodePtr settings = ws_child(in, "WiFiEndpointSettingsInput");
    xmlNodePtr ieee = ws_child(in, "IEEE8021xSettingsInput");
    struct ws_key created = {"InstanceID", ""};
    struct wifi_settings s;
    struct eap e;
    enum eap_verdict verdict = EAP_FINE;
    const char *why = NULL, *what = NULL;
    char endpoint[64], prefix[32], name[48];
    uint32_t rv = WIFI_RV_OK;
    unsigned slot = WIFI_MAX;
    int r;

    memset(&e, 0, sizeof(e));
    if ((r = ws_check_params(w, in, w->call->resource_uri, params, N_ELEMS(params))) != 0)
        goto out;
    if (settings == NULL) {
        r = ws_missing(w, "WiFiEndpointSettingsInput");
        goto out;
    }
    if ((r = read_wifi_settings(w, settings, &s, &rv, &why)) != 0)
        goto out;
    if (rv == WIFI_RV_OK && is_8021x(s.auth) && ieee == NULL)
        rv = WIFI_RV_INVALID_PARAMETER, why = "8021x-settings-missing";
    else if (rv == WIFI_RV_OK && !is_8021x(s.auth) &&
             (ieee != NULL || ws_child(in, "ClientCredential") != NULL))
        rv = WIFI_RV_INVALID_PARAMETER, why = "8021x-settings-with-psk";
    if (rv == WIFI_RV_OK && ieee != NULL) {
        if ((r = read_eap(w, ieee, ws_child(in, "ClientCredential"),
                          ws_child(in, "CACredential"), &e, &verdict, &what)) != 0)
            goto out;
        if (verdict != EAP_FINE) {
            why = what;
            rv = verdict == EAP_UNSUPPORTED     ? WIFI_RV_NOT_SUPPORTED
                 : verdict == EAP_BAD_REFERENCE ? WIFI_RV_INVALID_REFERENCE
                                                : WIFI_RV_INVALID_PARAMETER;
        }
    }
    if (rv == WIFI_RV_OK &&
        (ws_epr_selector(ws_child(in, "WiFiEndpoint"), "CIM_WiFiEndpoint", "Name",
                         endpoint, sizeof(endpoint)) != 0 ||
         strcmp(endpoint, WIFI_ENDPOINT_NAME) != 0))
        rv = WIFI_RV_INVALID_REFERENCE, why = "wifi-endpoint-reference";
    if (rv == WIFI_RV_OK && (!printable_name(s.name) || !printable_name(s.ssid)))
        rv = WIFI_RV_INVALID_PARAMETER, why = "invalid-name";
    for (unsigned i = 0; rv == WIFI_RV_OK && i < WIFI_MAX; i++) {
        const char *have = wifi_get(w, i, "name");

        if (have == NULL) {
            if (slot == WIFI_MAX)
                slot = i;
        } else if (strcmp(have, s.name) == 0) {
            rv = WIFI_RV_INVALID_PARAMETER, why = "duplicate-profile-name";
        } else if (wifi_u(w, i, "priority", 256) == s.priority) {
            rv = WIFI_RV_INVALID_PARAMETER, why = "duplicate-priority";
        }
    }
    if (rv == WIFI_RV_OK && slot == WIFI_MAX)
        rv = WIFI_RV_FAILED, why = "wireless-profiles-full";
    if (rv != WIFI_RV_OK) {
        WS_EVENT(w, "OOB-8.4", EVLOG_RESULT_FAIL, EVLOG_REASON(why),
                 EVLOG_STR("what", "wireless-profile-added"));
        r = ws_return(w, rv, why);
        goto out;
    }
    snprintf(name, sizeof(name), "wifi.%u.name", slot);
    if ((r = ws_p2_set(w, name, s.name)) != 0)
        goto out;
    snprintf(name, sizeof(name), "wifi.%u.ssid", slot);
    if ((r = ws_p2_set(w, name, s.ssid)) != 0)
        goto out;
    snprintf(name, sizeof(name), "wifi.%u.priority", slot);
    if ((r = ws_p2_set_u(w, name, s.priority)) != 0)
        goto out;
    snprintf(name, sizeof(name), "wifi.%u.auth", slot);
    if ((r = ws_p2_set_u(w, name, s.auth)) != 0)
        goto out;
    snprintf(name, sizeof(name), "wifi.%u.encryption", slot);
    if ((r = ws_p2_set_u(w, name, s.enc)) != 0)
        goto out;
    snprintf(name, sizeof(name), "wifi.%u.psk-set", slot);
    if ((r = ws_p2_set(w, name, s.has_psk ? "1" : NULL)) != 0)
        goto out;
    snprintf(prefix, sizeof(prefix), "wifi.%u.eap.", slot);
    if ((ieee != NULL && (r = store_eap(w, prefix, &e)) != 0) ||
        (r = ws_p2_commit(w)) != 0)
        goto out;
    WS_EVENT(w, "OOB-8.4", EVLOG_RESULT_OK, EVLOG_STR("what", "wireless-profile-added"),
             EVLOG_STR("name", s.name), EVLOG_INT("authentication", s.auth),
             EVLOG_INT("encryption", s.enc),
             EVLOG_STR("eap", ieee != NULL ? eap_name(e.protocol) : "none"));
    if ((r = ws_return(w, WIFI_RV_OK, NULL)) != 0)
        goto out;
    {
        struct ws_out o;

        snprintf(created.value, sizeof(created.value), WIFI_ID_PREFIX "%s", s.name);
        ws_out_reply(w, &o);
        ws_prop_epr(&o, "WiFiEndpointSettings", "CIM_WiFiEndpointSettings", &created, 1);
        r = o.err;
    }
out:
    OPENSSL_cleanse(&e, sizeof(e));
    return r;
}

static const struct ws_method wifi_port_methods[] = {
    {"AddWiFiSettings", true, wifi_add},
};

const struct ws_class ws_wifi_port_configuration_service = {
    .name = WIFI_PORT_CLASS,
    .feature = SIM_FEATURE_WIRELESS,
    .unsupported_id = "AMT-8021X",
    .read_rights = 0,
    .write_rights = 0,
    .list = wifi_port_list,
    .render = wifi_port_render,
    .gettable = true,
    .enumerable = true,
    .methods = wifi_port_methods,
    .n_methods = N_ELEMS(wifi_port_methods),
};

static int
wifi_list(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n)
{
    *n = 0;
    for (unsigned slot = 0; slot < WIFI_MAX && *n < max; slot++) {
        const char *name = wifi_get(w, slot, "name");

        if (name == NULL)
            continue;
        memset(&out[*n], 0, sizeof(out[0]));
        snprintf(out[*n].id, sizeof(out[0].id), "%u", slot);
        ws_inst_key(&out[*n], "InstanceID", WIFI_ID_PREFIX "%s", name);
        (*n)++;
    }
    return 0;
}

static int
wifi_render(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o)
{
    unsigned slot = (unsigned)strtoul(inst->id, NULL, 10);

    ws_prop(o, "ElementName", wifi_get(w, slot, "name"));
    ws_prop_keys(o, inst);
    ws_prop_u32(o, "Priority", (uint32_t)wifi_u(w, slot, "priority", 0));
    ws_prop(o, "SSID", wifi_get(w, slot, "ssid"));
    ws_prop_u32(o, "BSSType", 3);
    ws_prop_u32(o, "EncryptionMethod", (uint32_t)wifi_u(w, slot, "encryption", 0));
    ws_prop_u32(o, "AuthenticationMethod", (uint32_t)wifi_u(w, slot, "auth", 0));
    return o->err;
}

static int
wifi_delete(struct ws_req *w, const struct ws_inst *inst)
{
    unsigned slot = (unsigned)strtoul(inst->id, NULL, 10);
    char prefix[32], name[WIFI_NAME_MAX + 1];
    const char *have = wifi_get(w, slot, "name");
    int r;

    snprintf(name, sizeof(name), "%s", have != NULL ? have : "");
    if ((r = ws_p2_key(prefix, sizeof(prefix), "wifi.%u.", slot)) != 0 ||
        (r = sim_flash_remove_prefix(sim_device_flash(w->dev), prefix, NULL)) != 0 ||
        (r = ws_p2_commit(w)) != 0)
        return r;
    WS_EVENT(w, "OOB-8.4", EVLOG_RESULT_OK, EVLOG_STR("what", "wireless-profile-deleted"),
             EVLOG_STR("name", name));
    return 0;
}

const struct ws_class ws_wifi_endpoint_settings = {
    .name = "CIM_WiFiEndpointSettings",
    .feature = SIM_FEATURE_WIRELESS,
    .unsupported_id = "AMT-8021X",
    .read_rights = 0,
    .write_rights = 0,
    .list = wifi_list,
    .render = wifi_render,
    .gettable = true,
    .enumerable = true,
    .del = wifi_delete,
};

/* ---------------------------------------------------------------- wired 802.1X */

#define DOT1X_ID "Intel(r) AMT 802.1X Profile"
#define PXE_TIMEOUT_MAX 86400

static int
dot1x_list(struct ws_req *w, struct ws_inst *out, size_t max, size_t *n)
{
    memset(&out[0], 0, sizeof(out[0]));
    snprintf(out[0].id, sizeof(out[0].id), "wired");
    ws_inst_key(&out[0], "InstanceID", DOT1X_ID);
    *n = 1;
    return 0;
}

static int
dot1x_render(struct ws_req *w, const struct ws_inst *inst, struct ws_out *o)
{
    static const struct {
        const char *prop, *field;
    } texts[] = {
        {"RoamingIdentity", "8021x.roaming"},
        {"ServerCertificateName", "8021x.server-name"},
        {"Username", "8021x.user"},
        {"Domain", "8021x.domain"},
    };
    bool enabled = ws_p2_u(w, "8021x.enabled", 0) == 1;

    ws_prop(o, "ElementName", DOT1X_ID);
    ws_prop_keys(o, inst);
    ws_prop_bool(o, "Enabled", enabled);
    ws_prop_bool(o, "ActiveInS0", ws_p2_u(w, "8021x.active-in-s0", 1) == 1);
    if (enabled || o->m == NULL)
        ws_prop_u32(o, "AuthenticationProtocol",
                    (uint32_t)ws_p2_u(w, "8021x.protocol", 0));
    for (size_t i = 0; i < N_ELEMS(texts); i++) {
        const char *v = ws_p2_get(w, texts[i].field);

        if (v != NULL || o->m == NULL)
            ws_prop(o, texts[i].prop, v);
    }
    if (ws_p2_get(w, "8021x.server-cmp") != NULL || o->m == NULL)
        ws_prop_u32(o, "ServerCertificateNameComparison",
                    (uint32_t)ws_p2_u(w, "8021x.server-cmp", 2));
    ws_prop_u32(o, "PxeTimeout", (uint32_t)ws_p2_u(w, "8021x.pxe-timeout", 0));
    return o->err;
}

/*
 * <p:AMT_8021XProfile><p:Enabled>true</p:Enabled>
 *   <p:AuthenticationProtocol>0</p:AuthenticationProtocol>
 *   <p:Username>CONTOSO\PC1$</p:Username>
 *   <p:ClientCertificate>reference to AMT_PublicKeyCertificate</p:ClientCertificate>
 * Enabled false turns 802.1X off and forgets the rest (and the certificate ties).
 */
static int
dot1x_put(struct ws_req *w, const struct ws_inst *inst, xmlNodePtr in)
{
    static const char *const cleared[] = {
        "8021x.protocol", "8021x.user",        "8021x.domain",
        "8021x.roaming",  "8021x.server-name", "8021x.server-cmp",
        "8021x.secret",   "8021x.client",      "8021x.ca",
    };
    enum eap_verdict verdict;
    const char *what;
    struct eap e;
    uint32_t pxe = 120;
    bool enabled, has_enabled, s0 = true, has_s0, has_pxe;
    int r;

    memset(&e, 0, sizeof(e));
    if ((r = ws_in_bool(w, in, "Enabled", &enabled, &has_enabled)) != 0 ||
        (r = ws_in_bool(w, in, "ActiveInS0", &s0, &has_s0)) != 0 ||
        (r = ws_in_u32(w, in, "PxeTimeout", &pxe, &has_pxe)) != 0)
        goto out;
    if (!has_enabled) {
        r = ws_missing(w, "Enabled");
        goto out;
    }
    if (has_pxe && pxe > PXE_TIMEOUT_MAX) {
        r = ws_schema(w, "PxeTimeout is at most %d seconds", PXE_TIMEOUT_MAX);
        goto out;
    }
    if (enabled) {
        if ((r = read_eap(w, in, ws_child(in, "ClientCertificate"),
                          ws_child(in, "ServerCertificateIssue"), &e, &verdict, &what)) !=
            0)
            goto out;
        if (verdict != EAP_FINE) {
            r = ws_schema(w, "802.1X profile refused: %s", what);
            w->why = what;
            goto out;
        }
        if ((r = store_eap(w, "8021x.", &e)) != 0 ||
            (r = ws_p2_set_u(w, "8021x.pxe-timeout", has_pxe ? pxe : 120)) != 0)
            goto out;
    } else {
        for (size_t i = 0; i < N_ELEMS(cleared); i++)
            if ((r = ws_p2_set(w, cleared[i], NULL)) != 0)
                goto out;
        if ((r = ws_p2_set(w, "8021x.pxe-timeout", NULL)) != 0)
            goto out;
    }
    if ((r = ws_p2_set_u(w, "8021x.enabled", enabled)) != 0 ||
        (has_s0 && (r = ws_p2_set_u(w, "8021x.active-in-s0", s0)) != 0) ||
        (r = ws_p2_commit(w)) != 0)
        goto out;
    WS_EVENT(w, "OOB-8.4", EVLOG_RESULT_OK, EVLOG_STR("what", "8021x-profile"),
             EVLOG_BOOL("enabled", enabled),
             EVLOG_STR("eap", enabled ? eap_name(e.protocol) : "none"));
out:
    OPENSSL_cleanse(&e, sizeof(e));
    return r;
}

static const char *const dot1x_write_only[] = {
    "Password",    "ClientCertificate",         "ServerCertificateIssue",
    "PACPassword", "ProtectedAccessCredential", NULL};

const struct ws_class ws_8021x_profile = {
    .name = "AMT_8021XProfile",
    .feature = SIM_FEATURE_8021X,
    .unsupported_id = "AMT-8021X",
    .read_rights = 0,
    .write_rights = 0,
    .list = dot1x_list,
    .render = dot1x_render,
    .gettable = true,
    .enumerable = true,
    .put = dot1x_put,
    .write_only = dot1x_write_only,
};
