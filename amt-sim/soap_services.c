/*
 * The phase 1 SOAP interface (OOB-7, IB-10): the services AMT 2.x to 8.x answer at
 * /<Name>Service on 16992 and 16993, in the namespace
 * http://schemas.intel.com/platform/client/<Name>/2004/01.
 *
 *   POST /NetworkAdministrationService
 *   SOAPAction: "http://schemas.intel.com/platform/client/NetworkAdministration/
 *               2004/01#SetHostName"
 *   <soap:Envelope ...><soap:Body>
 *     <SetHostName xmlns="http://.../NetworkAdministration/2004/01">
 *       <HostName>pc1</HostName></SetHostName>
 *
 *   200 text/xml: <SetHostNameResponse xmlns="..."><StatusCode>0</StatusCode>...
 *
 * Clients such as amttool (SOAP::Lite) read a reply by position, so every reply
 * starts with StatusCode and then holds its outputs in a fixed order. A request
 * that is not a well-formed call of a method we know, in its service's namespace,
 * is a SOAP 1.1 Client fault (HTTP 500) and changes nothing; a call we understand
 * but refuse is a 200 reply with a non-zero StatusCode.
 *
 * Rules, as AMT applies them:
 *  - rights: each method needs one enum sim_right bit of the caller (the admin has
 *    them all); GetCoreVersion needs none, since discovery tools call it first;
 *  - before CommitChanges only the provisioning session may change anything (0x10
 *    for any other session); methods that exist only for provisioning answer 0x20
 *    once the device is provisioned;
 *  - a version without the SOAP interface answers every SOAP path with 404.
 *
 * Wire forms this file settles where AMT's own documents were not at hand:
 *  - SetTLSKeyAndCertificate: PrivateKey is base64 DER, PKCS#1 RSAPrivateKey or
 *    PKCS#8 PrivateKeyInfo (RSA, 1024 to 2048 bits); CertificateChain holds one
 *    Certificate element per base64 DER certificate, leaf first, each issued by
 *    the next. Without PrivateKey the device keeps its current key, and the leaf
 *    must match it.
 *  - GetProvisioningServerOTP: OTP is the base64 of the bytes set over the host
 *    interface; 0x809 (data missing) when none was set.
 *  - AddUserAclEntryEx: realms as in AMT's UserAclRealmType, mapped to our rights
 *    by sim_realm_right (realms.c).
 *  - SetInterfaceSettings, SetTrustedFqdnCN and SetKerberosOptions keep what they
 *    are given under SIM_FLASH_P2_PREFIX "soap." and answer it back; the simulated
 *    network does not change (the device keeps listening on its --listen address).
 */
#include "services.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "evlog.h"
#include "flash.h"
#include "password.h"
#include "realms.h"
#include "soap.h"
#include "xmlsafe.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The event reason of each status we answer (kebab-case, as evlog wants it). */
static const struct {
    uint32_t status;
    const char *reason;
} status_reasons[] = {
    {SOAP_STATUS_INTERNAL_ERROR, "internal-error"},
    {SOAP_STATUS_INVALID_NAME, "invalid-name"},
    {SOAP_STATUS_NOT_PERMITTED, "not-permitted"},
    {SOAP_STATUS_MAX_LIMIT_REACHED, "max-limit-reached"},
    {SOAP_STATUS_INVALID_IP_ADDRESS, "invalid-ip-address"},
    {SOAP_STATUS_INVALID_DOMAIN_NAME, "invalid-domain-name"},
    {SOAP_STATUS_INVALID_PROVISIONING_STATE, "invalid-provisioning-state"},
    {SOAP_STATUS_INVALID_PARAMETER, "invalid-parameter"},
    {SOAP_STATUS_INVALID_NETMASK, "invalid-netmask"},
    {SOAP_STATUS_UNSUPPORTED_OEM_NUMBER, "unsupported-oem-number"},
    {SOAP_STATUS_INVALID_COMMAND, "invalid-command"},
    {SOAP_STATUS_INVALID_SPECIAL_COMMAND, "invalid-special-command"},
    {SOAP_STATUS_INVALID_HANDLE, "invalid-handle"},
    {SOAP_STATUS_INVALID_PASSWORD, "invalid-password"},
    {SOAP_STATUS_INVALID_REALM, "invalid-realm"},
    {SOAP_STATUS_DATA_MISSING, "data-missing"},
    {SOAP_STATUS_DUPLICATE, "duplicate"},
    {SOAP_STATUS_INVALID_KEY, "invalid-key"},
    {SOAP_STATUS_INVALID_CERT, "invalid-cert"},
    {SOAP_STATUS_CERT_KEY_NOT_MATCH, "cert-key-not-match"},
    {SOAP_STATUS_UNSUPPORTED, "unsupported"},
};

/* IANA enterprise number of Intel: RemoteControl commands carry it. */
#define IANA_INTEL 343

/* Parsing caps: a SOAP call nests a few levels, never dozens. */
#define SOAP_DEPTH_MAX 16
#define CHAIN_CERTS_MAX 8
#define CERT_DER_MAX 4100 /* AMT's X509Certificate is uint8[4100] */
#define CHAIN_DER_MAX (CHAIN_CERTS_MAX * CERT_DER_MAX)
#define KEY_DER_MAX 4096
#define KEY_BITS_MIN 1024
#define KEY_BITS_MAX 2048
#define FQDN_SUFFIXES_MAX 4
#define FQDN_SUFFIX_MAX 63
#define REALMS_MAX 32
#define KERBEROS_KEY_MAX 64

/* What SetInterfaceSettings and friends keep (phase 1 data outside device.h). */
#define K_SOAP SIM_FLASH_P2_PREFIX "soap."
#define K_NET_MODE K_SOAP "net.mode"
#define K_NET_LINK_POLICY K_SOAP "net.link-policy"
#define K_NET_IPV4 K_SOAP "net.ipv4"
#define K_TRUSTED_FQDN K_SOAP "trusted-fqdn-cn"
#define K_KERBEROS_REALM K_SOAP "kerberos.realm"

#define MODE_SHARED "SHARED_MAC_ADDRESS"
#define MODE_SEPARATE "SEPARATE_MAC_ADDRESS"
/* what an interface nobody has configured reports */
#define DEFAULT_LINK_POLICY "1"

/* The flags of a method. */
enum {
    /* before CommitChanges only the provisioning session may call it */
    M_SESSION = 1u << 0,
    /* exists for provisioning only: 0x20 once provisioned */
    M_BEFORE_COMMIT = 1u << 1,
};

struct soap_ctx;
typedef int (*soap_method_fn)(struct soap_ctx *c);

struct soap_method {
    const char *name;
    soap_method_fn fn;
    unsigned right; /* enum sim_right bits needed; 0: any authenticated user */
    unsigned flags; /* M_* */
};

struct soap_service {
    const char *name; /* "SecurityAdministration": path, namespace and events */
    const struct soap_method *methods;
    size_t n_methods;
};

/* One request on its way through. */
struct soap_ctx {
    const struct sim_request *req;
    struct sim_device *dev;
    const struct soap_service *svc;
    const struct soap_method *m;
    char ns[128];
    struct soap_call call;
    struct soap_msg *reply; /* made by respond(), with the status first */
    uint32_t status;
};

/* --- replies --- */

/* Starts the reply: <MethodResponse><StatusCode>status</StatusCode>, outputs next. */
static int
respond(struct soap_ctx *c, uint32_t status)
{
    soap_msg_free(c->reply);
    c->reply = NULL;
    c->status = status;
    return soap_response_new(c->ns, c->m->name, status, &c->reply);
}

static int
out_text(struct soap_ctx *c, xmlNodePtr parent, const char *name, const char *value,
         xmlNodePtr *node)
{
    return soap_msg_add(c->reply, parent, name, value, node);
}

static int
out_u32(struct soap_ctx *c, xmlNodePtr parent, const char *name, uint32_t value)
{
    char text[16];

    snprintf(text, sizeof(text), "%u", (unsigned)value);
    return soap_msg_add(c->reply, parent, name, text, NULL);
}

static int
out_bool(struct soap_ctx *c, xmlNodePtr parent, const char *name, bool value)
{
    return soap_msg_add(c->reply, parent, name, value ? "true" : "false", NULL);
}

/* --- reading parameters --- */

/*
 * The one child element called name of parent (the method element when parent is
 * NULL), in the service's namespace or in none, as clients differ in qualifying
 * parameters. AMT_ERR_NOT_FOUND when absent; AMT_ERR_XML_VALUE when given twice,
 * since a second value that is silently ignored would hide a client's mistake.
 */
static int
param(const struct soap_ctx *c, xmlNodePtr parent, const char *name, xmlNodePtr *out)
{
    xmlNodePtr found = NULL;

    *out = NULL;
    if (parent == NULL)
        parent = c->call.method;
    for (xmlNodePtr n = xmlsafe_child(parent, NULL, name); n != NULL;
         n = xmlsafe_next(n, NULL, name)) {
        const char *ns = xmlsafe_ns(n);

        if (ns != NULL && strcmp(ns, c->ns) != 0)
            continue;
        if (found != NULL)
            return AMT_ERR_XML_VALUE;
        found = n;
    }
    if (found == NULL)
        return AMT_ERR_NOT_FOUND;
    *out = found;
    return 0;
}

/* Text of an element that must be a plain value, not a structure. */
static int
scalar_text(const xmlNode *n, char *buf, size_t size)
{
    if (xmlsafe_child(n, NULL, NULL) != NULL) {
        buf[0] = '\0';
        return AMT_ERR_XML_VALUE;
    }
    return xmlsafe_text(n, buf, size);
}

static int
param_text(const struct soap_ctx *c, xmlNodePtr parent, const char *name, char *buf,
           size_t size)
{
    xmlNodePtr n;
    int r;

    buf[0] = '\0';
    if ((r = param(c, parent, name, &n)) != 0)
        return r;
    return scalar_text(n, buf, size);
}

/* A decimal number, digits only: "+5", "0x10", "5 6" and "" are all refused. */
static int
param_u32(const struct soap_ctx *c, xmlNodePtr parent, const char *name, uint32_t *out)
{
    xmlNodePtr n;
    int r;

    *out = 0;
    if ((r = param(c, parent, name, &n)) != 0)
        return r;
    if (xmlsafe_child(n, NULL, NULL) != NULL)
        return AMT_ERR_XML_VALUE;
    return xmlsafe_text_u32(n, out);
}

/* An optional number: dflt when absent, an error only when present and malformed. */
static int
param_u32_opt(const struct soap_ctx *c, xmlNodePtr parent, const char *name,
              uint32_t dflt, uint32_t *out)
{
    int r = param_u32(c, parent, name, out);

    if (r == AMT_ERR_NOT_FOUND) {
        *out = dflt;
        return 0;
    }
    return r;
}

/* xsd:boolean: true, false, 1, 0. */
static int
param_bool(const struct soap_ctx *c, xmlNodePtr parent, const char *name, bool *out)
{
    char text[8];
    int r;

    *out = false;
    if ((r = param_text(c, parent, name, text, sizeof(text))) != 0)
        return r;
    if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0)
        *out = true;
    else if (strcmp(text, "false") != 0 && strcmp(text, "0") != 0)
        return AMT_ERR_XML_VALUE;
    return 0;
}

/*
 * Overwrites the text of an element that carried a secret, so that the parsed
 * document does not keep it until it is freed. Strings the parser shares through
 * its dictionary are left alone: those are only short runs of white space.
 */
static void
wipe_text(xmlNodePtr n)
{
    if (n == NULL)
        return;
    for (xmlNodePtr t = n->children; t != NULL; t = t->next) {
        if ((t->type != XML_TEXT_NODE && t->type != XML_CDATA_SECTION_NODE) ||
            t->content == NULL)
            continue;
        if (t->doc != NULL && t->doc->dict != NULL &&
            xmlDictOwns(t->doc->dict, t->content))
            continue;
        OPENSSL_cleanse(t->content, strlen((const char *)t->content));
    }
}

/* param_text for a secret: the document's copy is wiped once read. */
static int
param_secret(const struct soap_ctx *c, xmlNodePtr parent, const char *name, char *buf,
             size_t size)
{
    xmlNodePtr n;
    int r;

    buf[0] = '\0';
    if ((r = param(c, parent, name, &n)) != 0)
        return r;
    r = scalar_text(n, buf, size);
    wipe_text(n);
    return r;
}

static bool
b64_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
           (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
}

/*
 * xsd:base64Binary: the RFC 4648 alphabet with its padding, white space allowed
 * between characters (PEM-style line breaks). Decodes into a fresh buffer of at most
 * max bytes; AMT_ERR_TOO_LARGE above that, AMT_ERR_XML_VALUE for anything else
 * that is not base64. The caller wipes and frees *out.
 */
static int
b64_decode(const char *text, size_t max, unsigned char **out, size_t *outlen)
{
    size_t len = strlen(text), n = 0, pad = 0, cap;
    char *compact = NULL;
    unsigned char *bin = NULL;
    int r = AMT_ERR_XML_VALUE;

    *out = NULL;
    *outlen = 0;
    if ((compact = malloc(len + 1)) == NULL)
        return AMT_ERR_ALLOC;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];

        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
            continue;
        if (ch == '=') {
            pad++;
        } else if (!b64_char(ch) || pad > 0) {
            goto out;
        }
        compact[n++] = ch;
    }
    compact[n] = '\0';
    if (n == 0 || n % 4 != 0 || pad > 2)
        goto out;
    if (n / 4 * 3 - pad > max) {
        r = AMT_ERR_TOO_LARGE;
        goto out;
    }
    cap = n / 4 * 3;
    if ((bin = malloc(cap + 1)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    if (EVP_DecodeBlock(bin, (const unsigned char *)compact, (int)n) != (int)cap)
        goto out;
    *outlen = cap - pad;
    *out = bin;
    bin = NULL;
    r = 0;
out:
    if (bin != NULL) {
        OPENSSL_cleanse(bin, n / 4 * 3);
        free(bin);
    }
    OPENSSL_cleanse(compact, len + 1);
    free(compact);
    return r;
}

/* Base64 text of an element as above; secret: wipe the element's text once read. */
static int
param_b64(xmlNodePtr n, size_t max, bool secret, unsigned char **out, size_t *outlen)
{
    /* room for the base64 of max bytes and as much white space again (indented lines) */
    size_t text_max = (max + 2) / 3 * 4 * 2 + 256;
    char *text = NULL;
    int r;

    *out = NULL;
    *outlen = 0;
    if ((text = malloc(text_max)) == NULL)
        return AMT_ERR_ALLOC;
    r = scalar_text(n, text, text_max);
    if (secret)
        wipe_text(n);
    if (r == 0)
        r = b64_decode(text, max, out, outlen);
    OPENSSL_cleanse(text, text_max);
    free(text);
    return r;
}

static char *
b64_encode(const unsigned char *bin, size_t len)
{
    char *text = malloc((len + 2) / 3 * 4 + 1);

    if (text != NULL)
        EVP_EncodeBlock((unsigned char *)text, bin, (int)len);
    return text;
}

static void
free_secret(void *p, size_t len)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, len);
    free(p);
}

/* --- small device helpers --- */

/*
 * Whether provisioning has set an admin password of its own (SetAdminAclEntryEx),
 * as opposed to the factory or MEBx one. device.h has no accessor for it, so this
 * reads device.c's flash key.
 */
/* Writes phase 1 data device.h does not model (values NULL remove), all or none. */
static int
p2_store(struct sim_device *dev, const char *const *keys, const char *const *values,
         size_t n)
{
    struct sim_flash *flash = sim_device_flash(dev);
    int r = 0;

    for (size_t i = 0; i < n && r == 0; i++)
        r = sim_flash_set(flash, keys[i], values[i]);
    if (r == 0)
        r = sim_flash_commit(flash);
    if (r != 0)
        sim_flash_rollback(flash);
    return r;
}

/* An FQDN or suffix: dot-separated labels of letters, digits and inner '-'. */
static bool
dns_name_ok(const char *name, size_t max)
{
    size_t len = strlen(name), label = 0;

    if (len == 0 || len > max)
        return false;
    for (size_t i = 0; i <= len; i++) {
        char ch = name[i];

        if (ch == '.' || ch == '\0') {
            if (label == 0 || label > 63 || name[i - 1] == '-')
                return false;
            label = 0;
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                   (ch >= '0' && ch <= '9') || (ch == '-' && label > 0)) {
            label++;
        } else {
            return false;
        }
    }
    return true;
}

/* A setter's failure as AMT would report it; flash trouble is AMT's own problem. */
static uint32_t
device_status(int r, uint32_t invalid)
{
    if (r == 0)
        return SOAP_STATUS_SUCCESS;
    if (r == AMT_ERR_INVALID_ARGUMENT || r == AMT_ERR_PASSWORD_POLICY ||
        r == AMT_ERR_USERNAME_POLICY)
        return invalid;
    return SOAP_STATUS_INTERNAL_ERROR;
}

/* AMT's ProvisioningStateType: 0 pre, 1 in, 2 post provisioning. */
static uint32_t
provisioning_state(const struct sim_device *dev)
{
    switch (sim_device_state(dev)) {
    case SIM_STATE_SETUP:
        return 0;
    case SIM_STATE_IN_PROVISIONING:
        return 1;
    case SIM_STATE_PROVISIONED:
        return 2;
    }
    return 0;
}

/* --- SecurityAdministration and GeneralInfo --- */

static int
m_get_core_version(struct soap_ctx *c)
{
    int r;

    if ((r = respond(c, SOAP_STATUS_SUCCESS)) != 0)
        return r;
    return out_text(c, NULL, "Version", sim_device_profile(c->dev)->text, NULL);
}

static int
m_get_provisioning_state(struct soap_ctx *c)
{
    int r;

    if ((r = respond(c, SOAP_STATUS_SUCCESS)) != 0)
        return r;
    return out_u32(c, NULL, "ProvisioningState", provisioning_state(c->dev));
}

/* The simulator provisions with certificates only: ProvisioningModeEnterprise (1). */
static int
m_get_provisioning_mode(struct soap_ctx *c)
{
    int r;

    if ((r = respond(c, SOAP_STATUS_SUCCESS)) != 0)
        return r;
    return out_u32(c, NULL, "ProvisioningMode", 1);
}

static int
m_get_digest_realm(struct soap_ctx *c)
{
    int r;

    if ((r = respond(c, SOAP_STATUS_SUCCESS)) != 0)
        return r;
    return out_text(c, NULL, "Realm", sim_device_realm(c->dev), NULL);
}

static int
m_get_admin_acl_entry_status(struct soap_ctx *c)
{
    int r;

    if ((r = respond(c, SOAP_STATUS_SUCCESS)) != 0)
        return r;
    return out_bool(c, NULL, "IsDefault", !sim_device_admin_password_set(c->dev));
}

/* Whether user names the admin or an ACL entry already. */
static bool
user_exists(const struct sim_device *dev, const char *user)
{
    unsigned char ha1[16];
    int r = sim_device_user_ha1(dev, user, ha1, NULL);

    OPENSSL_cleanse(ha1, sizeof(ha1));
    return r == 0;
}

/*
 * <SetAdminAclEntryEx><EntryEx><Username>admin</Username>
 *   <DigestPassword>base64 of MD5(user:realm:password)</DigestPassword>
 * The parameters may also stand directly in the method element.
 */
static int
m_set_admin_acl_entry_ex(struct soap_ctx *c)
{
    char user[64];
    unsigned char *ha1 = NULL;
    size_t ha1_len = 0;
    xmlNodePtr entry = NULL, pw;
    uint32_t st = SOAP_STATUS_INVALID_PARAMETER;
    int r;

    if ((r = param(c, NULL, "EntryEx", &entry)) == AMT_ERR_XML_VALUE)
        goto reply;
    r = param(c, entry, "DigestPassword", &pw);
    if (r == 0)
        r = param_b64(pw, 16, true, &ha1, &ha1_len);
    if (r == AMT_ERR_ALLOC)
        goto out;
    if (r != 0 || ha1_len != 16)
        goto reply;
    if ((r = param_text(c, entry, "Username", user, sizeof(user))) != 0) {
        st = r == AMT_ERR_TOO_LARGE ? SOAP_STATUS_INVALID_NAME
                                    : SOAP_STATUS_INVALID_PARAMETER;
        goto reply;
    }
    /* the admin may keep its name; another account's name is taken */
    for (size_t i = 0; i < sim_device_acl_count(c->dev); i++) {
        const char *name = sim_device_acl_user(c->dev, i, NULL);

        if (name != NULL && strcmp(name, user) == 0) {
            st = SOAP_STATUS_DUPLICATE;
            goto reply;
        }
    }
    st = device_status(sim_device_set_admin_ha1(c->dev, user, ha1),
                       SOAP_STATUS_INVALID_NAME);
reply:
    r = respond(c, st);
out:
    free_secret(ha1, ha1_len);
    return r;
}

/* <Realms><Realm>5</Realm>...</Realms> as rights bits, or the status that refuses. */
static uint32_t
read_realms(const struct soap_ctx *c, xmlNodePtr entry, unsigned *rights)
{
    xmlNodePtr realms;
    size_t count = 0;

    *rights = 0;
    if (param(c, entry, "Realms", &realms) != 0)
        return SOAP_STATUS_INVALID_PARAMETER;
    for (xmlNodePtr n = xmlsafe_child(realms, NULL, NULL); n != NULL;
         n = xmlsafe_next(n, NULL, NULL)) {
        uint32_t realm;
        unsigned right;

        if (!xmlsafe_is(n, NULL, "Realm") ||
            (xmlsafe_ns(n) != NULL && strcmp(xmlsafe_ns(n), c->ns) != 0) ||
            ++count > REALMS_MAX || xmlsafe_text_u32(n, &realm) != 0)
            return SOAP_STATUS_INVALID_PARAMETER;
        if (sim_realm_right(realm, &right) != 0)
            return SOAP_STATUS_INVALID_REALM;
        *rights |= right;
    }
    if (count == 0)
        return SOAP_STATUS_INVALID_PARAMETER;
    /* an account that can reach nothing here is of no use to anyone */
    return *rights != 0 ? SOAP_STATUS_SUCCESS : SOAP_STATUS_INVALID_REALM;
}

/*
 * <AddUserAclEntryEx><EntryEx>
 *   <DigestEntry><DigestUsername>u</DigestUsername><DigestPassword>b64</...>
 *   </DigestEntry>
 *   <AccessPermission>NetworkAccessPermission</AccessPermission>
 *   <Realms><Realm>5</Realm></Realms>
 * DigestUsername and DigestPassword may also stand directly in EntryEx. The
 * access permission is checked but not modelled: the simulator has no local
 * interface, so every account logs on over the network.
 */
static int
m_add_user_acl_entry_ex(struct soap_ctx *c)
{
    static const char *const permissions[] = {
        "LocalAccessPermission",
        "NetworkAccessPermission",
        "AnyAccessPermission",
    };
    char user[64], perm[32];
    unsigned char *ha1 = NULL;
    size_t ha1_len = 0;
    xmlNodePtr entry, digest = NULL, pw, kerberos;
    unsigned rights = 0;
    uint32_t st = SOAP_STATUS_INVALID_PARAMETER;
    bool perm_ok = false;
    int r = 0;

    if (param(c, NULL, "EntryEx", &entry) != 0)
        goto reply;
    if (param(c, entry, "KerberosEntry", &kerberos) != AMT_ERR_NOT_FOUND) {
        st = SOAP_STATUS_UNSUPPORTED;
        goto reply;
    }
    if ((r = param(c, entry, "DigestEntry", &digest)) == AMT_ERR_NOT_FOUND)
        digest = entry;
    else if (r != 0)
        goto reply;
    r = param(c, digest, "DigestPassword", &pw);
    if (r == 0)
        r = param_b64(pw, 16, true, &ha1, &ha1_len);
    if (r == AMT_ERR_ALLOC)
        goto out;
    if (r != 0 || ha1_len != 16)
        goto reply;
    if ((r = param_text(c, digest, "DigestUsername", user, sizeof(user))) != 0) {
        st = r == AMT_ERR_TOO_LARGE ? SOAP_STATUS_INVALID_NAME
                                    : SOAP_STATUS_INVALID_PARAMETER;
        goto reply;
    }
    if (param_text(c, entry, "AccessPermission", perm, sizeof(perm)) != 0)
        goto reply;
    for (size_t i = 0; i < ARRAY_LEN(permissions); i++)
        perm_ok = perm_ok || strcmp(perm, permissions[i]) == 0;
    if (!perm_ok)
        goto reply;
    if ((st = read_realms(c, entry, &rights)) != SOAP_STATUS_SUCCESS)
        goto reply;
    if (user_exists(c->dev, user)) {
        st = SOAP_STATUS_DUPLICATE;
        goto reply;
    }
    if (sim_device_acl_count(c->dev) >= SIM_ACL_MAX) {
        st = SOAP_STATUS_MAX_LIMIT_REACHED;
        goto reply;
    }
    st = device_status(sim_device_acl_add_ha1(c->dev, user, ha1, rights),
                       SOAP_STATUS_INVALID_NAME);
reply:
    if ((r = respond(c, st)) == 0 && st == SOAP_STATUS_SUCCESS)
        r = out_u32(c, NULL, "Handle", (uint32_t)(sim_device_acl_count(c->dev) - 1));
out:
    free_secret(ha1, ha1_len);
    return r;
}

/* <SetMEBxPassword><Password>plain text</Password>: the device checks the policy. */
static int
m_set_mebx_password(struct soap_ctx *c)
{
    char pw[PASSWORD_MAX_LEN + 1];
    uint32_t st;
    int r;

    r = param_secret(c, NULL, "Password", pw, sizeof(pw));
    if (r == 0)
        st = device_status(sim_device_set_mebx_password(c->dev, pw),
                           SOAP_STATUS_INVALID_PASSWORD);
    else
        st = r == AMT_ERR_TOO_LARGE ? SOAP_STATUS_INVALID_PASSWORD
                                    : SOAP_STATUS_INVALID_PARAMETER;
    OPENSSL_cleanse(pw, sizeof(pw));
    return respond(c, st);
}

/* IB-4: the OTP the agent set over the host interface, for the server to compare. */
static int
m_get_provisioning_server_otp(struct soap_ctx *c)
{
    const char *otp = sim_device_otp(c->dev);
    char *text = NULL;
    int r;

    if (otp == NULL || *otp == '\0')
        return respond(c, SOAP_STATUS_DATA_MISSING);
    if ((text = b64_encode((const unsigned char *)otp, strlen(otp))) == NULL)
        return AMT_ERR_ALLOC;
    if ((r = respond(c, SOAP_STATUS_SUCCESS)) == 0)
        r = out_text(c, NULL, "OTP", text, NULL);
    free_secret(text, strlen(text));
    return r;
}

/* What the simulated firmware offers; the caps are the ones this file enforces. */
static int
m_get_pki_capabilities(struct soap_ctx *c)
{
    static const struct {
        const char *name;
        uint32_t value;
    } caps[] = {
        {"CrlStoreSize", 1024},
        {"RootCertMaxSize", CERT_DER_MAX},
        {"RootCertMaxInstances", 4},
        {"FqdnSuffixMaxEntries", FQDN_SUFFIXES_MAX},
        {"FqdnSuffixMaxEntryLength", FQDN_SUFFIX_MAX},
        {"CertChainMaxSize", CHAIN_DER_MAX},
    };
    static const uint32_t key_lengths[] = {1024, 1536, 2048};
    xmlNodePtr pki;
    int r;

    if ((r = respond(c, SOAP_STATUS_SUCCESS)) != 0 ||
        (r = out_text(c, NULL, "PkiCaps", NULL, &pki)) != 0)
        return r;
    for (size_t i = 0; i < ARRAY_LEN(caps) && r == 0; i++)
        r = out_u32(c, pki, caps[i].name, caps[i].value);
    for (size_t i = 0; i < ARRAY_LEN(key_lengths) && r == 0; i++)
        r = out_u32(c, pki, "SupportedKeyLengths", key_lengths[i]);
    return r;
}

/* <SetTrustedFqdnCN><FqdnSuffix>contoso.com</FqdnSuffix>... (none clears the list) */
static int
m_set_trusted_fqdn_cn(struct soap_ctx *c)
{
    char list[FQDN_SUFFIXES_MAX * (FQDN_SUFFIX_MAX + 1) + 1] = "";
    char one[FQDN_SUFFIX_MAX + 1];
    const char *key = K_TRUSTED_FQDN, *value;
    size_t count = 0;

    for (xmlNodePtr n = xmlsafe_child(c->call.method, NULL, "FqdnSuffix"); n != NULL;
         n = xmlsafe_next(n, NULL, "FqdnSuffix")) {
        if (xmlsafe_ns(n) != NULL && strcmp(xmlsafe_ns(n), c->ns) != 0)
            continue;
        if (++count > FQDN_SUFFIXES_MAX)
            return respond(c, SOAP_STATUS_MAX_LIMIT_REACHED);
        if (scalar_text(n, one, sizeof(one)) != 0 || !dns_name_ok(one, FQDN_SUFFIX_MAX))
            return respond(c, SOAP_STATUS_INVALID_DOMAIN_NAME);
        if (count > 1)
            strcat(list, ",");
        strcat(list, one);
    }
    value = count > 0 ? list : NULL;
    return respond(
        c, device_status(p2_store(c->dev, &key, &value, 1), SOAP_STATUS_INTERNAL_ERROR));
}

static int
m_get_trusted_fqdn_cn(struct soap_ctx *c)
{
    const char *stored = sim_flash_get(sim_device_flash(c->dev), K_TRUSTED_FQDN);
    char list[FQDN_SUFFIXES_MAX * (FQDN_SUFFIX_MAX + 1) + 1];
    int r;

    if ((r = respond(c, SOAP_STATUS_SUCCESS)) != 0 || stored == NULL)
        return r;
    snprintf(list, sizeof(list), "%s", stored);
    for (char *save = NULL, *s = strtok_r(list, ",", &save); s != NULL && r == 0;
         s = strtok_r(NULL, ",", &save))
        r = out_text(c, NULL, "FqdnSuffix", s, NULL);
    return r;
}

/*
 * <SetKerberosOptions><KerberosOptions><KerberosRealmName>CONTOSO.COM</...>
 *   <KerberosMasterKey>base64</KerberosMasterKey>...</KerberosOptions>
 * Without KerberosOptions Kerberos is switched off. The master key is checked
 * and wiped, not kept: the simulator runs no Kerberos exchange.
 */
static int
m_set_kerberos_options(struct soap_ctx *c)
{
    const char *keys[] = {K_KERBEROS_REALM};
    const char *values[1] = {NULL};
    char realm[SIM_NAME_MAX + 1];
    unsigned char *mk = NULL;
    size_t mk_len = 0;
    xmlNodePtr opts, mkn;
    uint32_t st = SOAP_STATUS_INVALID_PARAMETER;
    int r;

    r = param(c, NULL, "KerberosOptions", &opts);
    if (r == 0) {
        if (param_text(c, opts, "KerberosRealmName", realm, sizeof(realm)) != 0 ||
            realm[0] == '\0' || xmlsafe_check_text(realm) != 0)
            goto reply;
        if ((r = param(c, opts, "KerberosMasterKey", &mkn)) == 0) {
            r = param_b64(mkn, KERBEROS_KEY_MAX, true, &mk, &mk_len);
            if (r == AMT_ERR_ALLOC)
                goto out;
            if (r != 0)
                goto reply;
        } else if (r != AMT_ERR_NOT_FOUND) {
            goto reply;
        }
        values[0] = realm;
    } else if (r != AMT_ERR_NOT_FOUND) {
        goto reply;
    }
    if ((r = p2_store(c->dev, keys, values, 1)) == 0)
        r = sim_device_set_switch(c->dev, SIM_SWITCH_KERBEROS, values[0] != NULL);
    st = device_status(r, SOAP_STATUS_INVALID_PARAMETER);
reply:
    r = respond(c, st);
out:
    free_secret(mk, mk_len);
    return r;
}

/* Each certificate of <CertificateChain>, leaf first, each issued by the next. */
static uint32_t
read_chain(struct soap_ctx *c, STACK_OF(X509) *chain)
{
    xmlNodePtr list;
    size_t total = 0;

    if (param(c, NULL, "CertificateChain", &list) != 0)
        return SOAP_STATUS_INVALID_PARAMETER;
    for (xmlNodePtr n = xmlsafe_child(list, NULL, NULL); n != NULL;
         n = xmlsafe_next(n, NULL, NULL)) {
        unsigned char *der = NULL;
        const unsigned char *p;
        size_t len = 0;
        X509 *x;
        int r;

        if (!xmlsafe_is(n, NULL, "Certificate") ||
            (xmlsafe_ns(n) != NULL && strcmp(xmlsafe_ns(n), c->ns) != 0))
            return SOAP_STATUS_INVALID_PARAMETER;
        if (sk_X509_num(chain) >= CHAIN_CERTS_MAX)
            return SOAP_STATUS_MAX_LIMIT_REACHED;
        if ((r = param_b64(n, CERT_DER_MAX, false, &der, &len)) != 0)
            return r == AMT_ERR_ALLOC ? SOAP_STATUS_INTERNAL_ERROR
                                      : SOAP_STATUS_INVALID_CERT;
        p = der;
        x = d2i_X509(NULL, &p, (long)len);
        /* trailing bytes after the certificate are not a certificate either */
        if (x != NULL && p != der + len) {
            X509_free(x);
            x = NULL;
        }
        free(der);
        if (x == NULL)
            return SOAP_STATUS_INVALID_CERT;
        if (!sk_X509_push(chain, x)) {
            X509_free(x);
            return SOAP_STATUS_INTERNAL_ERROR;
        }
        if ((total += len) > CHAIN_DER_MAX)
            return SOAP_STATUS_MAX_LIMIT_REACHED;
    }
    if (sk_X509_num(chain) == 0)
        return SOAP_STATUS_INVALID_PARAMETER;
    for (int i = 0; i + 1 < sk_X509_num(chain); i++)
        if (X509_check_issued(sk_X509_value(chain, i + 1), sk_X509_value(chain, i)) !=
            X509_V_OK)
            return SOAP_STATUS_INVALID_CERT;
    return SOAP_STATUS_SUCCESS;
}

/* The device's current key, for a chain sent without PrivateKey. */
static EVP_PKEY *
current_key(struct sim_device *dev)
{
    const char *pem = sim_device_tls_key_pem(dev);
    EVP_PKEY *key = NULL;
    BIO *bio;

    if (pem == NULL || (bio = BIO_new_mem_buf(pem, -1)) == NULL)
        return NULL;
    key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return key;
}

/* <PrivateKey>: base64 DER, PKCS#1 or PKCS#8, RSA of a length AMT supports. */
static uint32_t
read_key(struct soap_ctx *c, X509 *leaf, EVP_PKEY **out)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    size_t len = 0;
    xmlNodePtr n;
    EVP_PKEY *key = NULL;
    uint32_t st = SOAP_STATUS_INVALID_KEY;
    int r, bits;

    *out = NULL;
    if ((r = param(c, NULL, "PrivateKey", &n)) == AMT_ERR_NOT_FOUND) {
        if ((key = current_key(c->dev)) == NULL)
            return SOAP_STATUS_INTERNAL_ERROR;
    } else if (r != 0) {
        return SOAP_STATUS_INVALID_PARAMETER;
    } else {
        if ((r = param_b64(n, KEY_DER_MAX, true, &der, &len)) != 0)
            return r == AMT_ERR_ALLOC ? SOAP_STATUS_INTERNAL_ERROR
                                      : SOAP_STATUS_INVALID_KEY;
        p = der;
        key = d2i_AutoPrivateKey(NULL, &p, (long)len);
        if (key != NULL && p != der + len)
            goto out;
    }
    if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
        goto out;
    bits = EVP_PKEY_get_bits(key);
    if (bits < KEY_BITS_MIN || bits > KEY_BITS_MAX)
        goto out;
    if (X509_check_private_key(leaf, key) != 1) {
        st = SOAP_STATUS_CERT_KEY_NOT_MATCH;
        goto out;
    }
    *out = key;
    key = NULL;
    st = SOAP_STATUS_SUCCESS;
out:
    EVP_PKEY_free(key);
    free_secret(der, len);
    return st;
}

/* A memory BIO's contents as a fresh string; the BIO is freed. */
static char *
bio_string(BIO *bio)
{
    char *data = NULL, *s;
    long len = BIO_get_mem_data(bio, &data);

    if (len <= 0 || (s = malloc((size_t)len + 1)) == NULL) {
        BIO_free(bio);
        return NULL;
    }
    memcpy(s, data, (size_t)len);
    s[len] = '\0';
    BIO_free(bio);
    return s;
}

/* PEM as the device stores it: PKCS#8 key; chain leaf first. */
static int
to_pem(EVP_PKEY *key, STACK_OF(X509) *chain, char **key_pem, char **chain_pem)
{
    /* secmem: the buffer is wiped when freed, wherever it grew */
    BIO *kb = BIO_new(BIO_s_secmem()), *cb = BIO_new(BIO_s_mem());
    int ok = kb != NULL && cb != NULL &&
             PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) == 1;

    for (int i = 0; ok && i < sk_X509_num(chain); i++)
        ok = PEM_write_bio_X509(cb, sk_X509_value(chain, i)) == 1;
    if (!ok) {
        BIO_free(kb);
        BIO_free(cb);
        return AMT_ERR_CRYPTO;
    }
    *key_pem = bio_string(kb);
    *chain_pem = bio_string(cb);
    return *key_pem != NULL && *chain_pem != NULL ? 0 : AMT_ERR_ALLOC;
}

/*
 * <SetTLSKeyAndCertificate><PrivateKey>base64 DER</PrivateKey>
 *   <CertificateChain><Certificate>base64 DER leaf</Certificate>
 *   <Certificate>base64 DER issuer</Certificate>...</CertificateChain>
 * OOB-7.3: the device serves this key and chain from its next handshake on.
 */
static int
m_set_tls_key_and_certificate(struct soap_ctx *c)
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    EVP_PKEY *key = NULL;
    char *key_pem = NULL, *chain_pem = NULL;
    uint32_t st;
    int r;

    if (chain == NULL)
        return AMT_ERR_ALLOC;
    st = read_chain(c, chain);
    if (st == SOAP_STATUS_SUCCESS)
        st = read_key(c, sk_X509_value(chain, 0), &key);
    if (st == SOAP_STATUS_SUCCESS)
        st = to_pem(key, chain, &key_pem, &chain_pem) == 0 ? SOAP_STATUS_SUCCESS
                                                           : SOAP_STATUS_INTERNAL_ERROR;
    if (st == SOAP_STATUS_SUCCESS)
        st = device_status(sim_device_set_tls_credentials(c->dev, key_pem, chain_pem),
                           SOAP_STATUS_INVALID_CERT);
    r = respond(c, st);
    /* refusals leave their reasons in OpenSSL's queue: not ours to pass on */
    ERR_clear_error();
    if (key_pem != NULL)
        free_secret(key_pem, strlen(key_pem));
    free(chain_pem);
    EVP_PKEY_free(key);
    sk_X509_pop_free(chain, X509_free);
    return r;
}

static int
m_set_tls_enabled(struct soap_ctx *c)
{
    bool on;

    if (param_bool(c, NULL, "Enabled", &on) != 0)
        return respond(c, SOAP_STATUS_INVALID_PARAMETER);
    return respond(c, device_status(sim_device_set_tls_enabled(c->dev, on),
                                    SOAP_STATUS_INVALID_PARAMETER));
}

/* OOB-7.6. AMT does not leave setup with the factory admin password in place. */
static int
m_commit_changes(struct soap_ctx *c)
{
    if (!sim_device_admin_password_set(c->dev))
        return respond(c, SOAP_STATUS_DATA_MISSING);
    return respond(c, device_status(sim_device_commit(c->dev),
                                    SOAP_STATUS_INVALID_PROVISIONING_STATE));
}

/*
 * <Unprovision><ProvisioningMode>0</ProvisioningMode>: back to setup with every
 * setting cleared. The mode names what the next provisioning will be (0 current,
 * 1 enterprise, 2 small business); small business (PSK) is not simulated. AMT's
 * partial unprovision has no SOAP form: it is WS-Management's PartialUnprovision.
 */
static int
m_unprovision(struct soap_ctx *c)
{
    uint32_t mode;

    if (param_u32_opt(c, NULL, "ProvisioningMode", 0, &mode) != 0 || mode > 2)
        return respond(c, SOAP_STATUS_INVALID_PARAMETER);
    if (mode == 2)
        return respond(c, SOAP_STATUS_UNSUPPORTED);
    if (sim_device_state(c->dev) == SIM_STATE_SETUP)
        return respond(c, SOAP_STATUS_INVALID_PROVISIONING_STATE);
    return respond(c, device_status(sim_device_unprovision(c->dev, false),
                                    SOAP_STATUS_INVALID_PARAMETER));
}

/*
 * GetCodeVersions: BiosVersion, then one CodeVersions {Description, Version} per
 * firmware part, named as AMT names them.
 */
static int
m_get_code_versions(struct soap_ctx *c)
{
    const char *v = sim_device_profile(c->dev)->text;
    const struct {
        const char *description;
        const char *version;
    } parts[] = {
        {"Flash", v},          {"Netstack", v},
        {"AMTApps", v},        {"AMT", v},
        {"Sku", "16392"},      {"VendorID", "8086"},
        {"Build Number", "0"}, {"Legacy Mode", "False"},
    };
    xmlNodePtr entry;
    int r;

    if ((r = respond(c, SOAP_STATUS_SUCCESS)) != 0 ||
        (r = out_text(c, NULL, "BiosVersion", "AMTSIM.86A." AMT_PROJECT_VERSION, NULL)) !=
            0)
        return r;
    for (size_t i = 0; i < ARRAY_LEN(parts) && r == 0; i++) {
        if ((r = out_text(c, NULL, "CodeVersions", NULL, &entry)) == 0 &&
            (r = out_text(c, entry, "Description", parts[i].description, NULL)) == 0)
            r = out_text(c, entry, "Version", parts[i].version, NULL);
    }
    return r;
}

/* --- NetworkAdministration --- */

static int
m_get_host_name(struct soap_ctx *c)
{
    const char *name = sim_device_host_name(c->dev);
    int r;

    if ((r = respond(c, SOAP_STATUS_SUCCESS)) != 0)
        return r;
    return out_text(c, NULL, "HostName", name != NULL ? name : "", NULL);
}

static int
m_get_domain_name(struct soap_ctx *c)
{
    const char *name = sim_device_domain_name(c->dev);
    int r;

    if ((r = respond(c, SOAP_STATUS_SUCCESS)) != 0)
        return r;
    return out_text(c, NULL, "DomainName", name != NULL ? name : "", NULL);
}

/* OOB-7.2 / IB-10.2: the device checks the name (one label; a domain). */
static int
m_set_host_name(struct soap_ctx *c)
{
    char name[SIM_NAME_MAX + 1];

    if (param_text(c, NULL, "HostName", name, sizeof(name)) != 0)
        return respond(c, SOAP_STATUS_INVALID_NAME);
    return respond(c, device_status(sim_device_set_host_name(c->dev, name),
                                    SOAP_STATUS_INVALID_NAME));
}

static int
m_set_domain_name(struct soap_ctx *c)
{
    char name[SIM_NAME_MAX + 1];

    if (param_text(c, NULL, "DomainName", name, sizeof(name)) != 0)
        return respond(c, SOAP_STATUS_INVALID_DOMAIN_NAME);
    return respond(c, device_status(sim_device_set_domain_name(c->dev, name),
                                    SOAP_STATUS_INVALID_DOMAIN_NAME));
}

/* One wired interface, handle 0: amttool asks each handle for its settings. */
static int
m_enumerate_interfaces(struct soap_ctx *c)
{
    int r;

    if ((r = respond(c, SOAP_STATUS_SUCCESS)) != 0)
        return r;
    return out_u32(c, NULL, "InterfaceHandles", 0);
}

/* An IPv4 address as AMT carries it: a number whose top byte is the first octet. */
static uint32_t
ipv4_number(const char *text)
{
    struct in_addr a;

    if (text == NULL || inet_pton(AF_INET, text, &a) != 1)
        return 0;
    return ntohl(a.s_addr);
}

static const char *const ipv4_fields[] = {
    "LocalAddress",      "SubnetMask",          "DefaultGatewayAddress",
    "PrimaryDnsAddress", "SecondaryDnsAddress",
};

/*
 * <InterfaceDescriptor> HardwareAddressDescription, InterfaceMode, LinkPolicy,
 * MACAddress, IPv4Parameters {LocalAddress, SubnetMask, DefaultGatewayAddress,
 * PrimaryDnsAddress, SecondaryDnsAddress}, DhcpEnabled. Until SetInterfaceSettings
 * stores a static setting, the interface is the DHCP one the simulator listens on.
 */
static int
m_get_interface_settings(struct soap_ctx *c)
{
    struct sim_flash *flash = sim_device_flash(c->dev);
    const struct sim_device_config *cfg = sim_device_config(c->dev);
    const char *mode = sim_flash_get(flash, K_NET_MODE);
    const char *policy = sim_flash_get(flash, K_NET_LINK_POLICY);
    const char *ipv4 = sim_flash_get(flash, K_NET_IPV4);
    uint32_t handle, addr[ARRAY_LEN(ipv4_fields)] = {0};
    xmlNodePtr desc, params;
    char mac[18];
    bool dhcp;
    int r;

    if (param_u32(c, NULL, "InterfaceHandle", &handle) != 0)
        return respond(c, SOAP_STATUS_INVALID_PARAMETER);
    if (handle != 0)
        return respond(c, SOAP_STATUS_INVALID_HANDLE);
    dhcp = ipv4 == NULL || sscanf(ipv4, "%u %u %u %u %u", &addr[0], &addr[1], &addr[2],
                                  &addr[3], &addr[4]) != 5;
    if (dhcp) {
        memset(addr, 0, sizeof(addr));
        addr[0] = ipv4_number(cfg->listen);
        addr[1] = (addr[0] >> 24) == 127 ? 0xff000000u : 0xffffff00u;
    }
    /* a locally administered unicast address that stays the same for the device */
    snprintf(mac, sizeof(mac), "02-%02x-%02x-%02x-%02x-%02x", cfg->uuid.b[11],
             cfg->uuid.b[12], cfg->uuid.b[13], cfg->uuid.b[14], cfg->uuid.b[15]);
    if ((r = respond(c, SOAP_STATUS_SUCCESS)) != 0 ||
        (r = out_text(c, NULL, "InterfaceDescriptor", NULL, &desc)) != 0 ||
        (r = out_text(c, desc, "HardwareAddressDescription",
                      "Intel(R) AMT simulated wired interface", NULL)) != 0 ||
        (r = out_text(c, desc, "InterfaceMode", mode != NULL ? mode : MODE_SHARED,
                      NULL)) != 0 ||
        (r = out_text(c, desc, "LinkPolicy",
                      policy != NULL ? policy : DEFAULT_LINK_POLICY, NULL)) != 0 ||
        (r = out_text(c, desc, "MACAddress", mac, NULL)) != 0 ||
        (r = out_text(c, desc, "IPv4Parameters", NULL, &params)) != 0)
        return r;
    for (size_t i = 0; i < ARRAY_LEN(ipv4_fields) && r == 0; i++)
        r = out_u32(c, params, ipv4_fields[i], addr[i]);
    if (r == 0)
        r = out_bool(c, desc, "DhcpEnabled", dhcp);
    return r;
}

/* A subnet mask: ones, then zeros, at least one of each. */
static bool
netmask_ok(uint32_t m)
{
    uint32_t inv = ~m;

    return m != 0 && m != 0xffffffffu && (inv & (inv + 1)) == 0;
}

/*
 * <SetInterfaceSettings><InterfaceHandle>0</InterfaceHandle><InterfaceDescriptor>
 *   <InterfaceMode>SEPARATE_MAC_ADDRESS</InterfaceMode><LinkPolicy>1</LinkPolicy>
 *   <IPv4Parameters><LocalAddress>3232235777</LocalAddress>...</IPv4Parameters>
 * (amttool netconf). A separate MAC address comes with static IPv4 settings; a
 * shared one uses DHCP and carries none.
 */
static int
m_set_interface_settings(struct soap_ctx *c)
{
    const char *keys[] = {K_NET_MODE, K_NET_LINK_POLICY, K_NET_IPV4};
    const char *values[3];
    char mode[32], policy_text[12], ipv4_text[64];
    uint32_t handle, policy, addr[ARRAY_LEN(ipv4_fields)];
    xmlNodePtr desc, params = NULL;
    bool separate;
    int r;

    if (param_u32(c, NULL, "InterfaceHandle", &handle) != 0)
        return respond(c, SOAP_STATUS_INVALID_PARAMETER);
    if (handle != 0)
        return respond(c, SOAP_STATUS_INVALID_HANDLE);
    if (param(c, NULL, "InterfaceDescriptor", &desc) != 0 ||
        param_text(c, desc, "InterfaceMode", mode, sizeof(mode)) != 0 ||
        param_u32(c, desc, "LinkPolicy", &policy) != 0 || policy == 0 || policy > 255)
        return respond(c, SOAP_STATUS_INVALID_PARAMETER);
    separate = strcmp(mode, MODE_SEPARATE) == 0;
    if (!separate && strcmp(mode, MODE_SHARED) != 0)
        return respond(c, SOAP_STATUS_INVALID_PARAMETER);
    r = param(c, desc, "IPv4Parameters", &params);
    if ((separate && r != 0) || (!separate && r != AMT_ERR_NOT_FOUND))
        return respond(c, SOAP_STATUS_INVALID_PARAMETER);
    if (separate) {
        for (size_t i = 0; i < ARRAY_LEN(ipv4_fields); i++)
            if (param_u32(c, params, ipv4_fields[i], &addr[i]) != 0)
                return respond(c, SOAP_STATUS_INVALID_PARAMETER);
        if (addr[0] == 0 || addr[0] == 0xffffffffu)
            return respond(c, SOAP_STATUS_INVALID_IP_ADDRESS);
        if (!netmask_ok(addr[1]))
            return respond(c, SOAP_STATUS_INVALID_NETMASK);
        snprintf(ipv4_text, sizeof(ipv4_text), "%u %u %u %u %u", (unsigned)addr[0],
                 (unsigned)addr[1], (unsigned)addr[2], (unsigned)addr[3],
                 (unsigned)addr[4]);
    }
    snprintf(policy_text, sizeof(policy_text), "%u", (unsigned)policy);
    values[0] = separate ? MODE_SEPARATE : MODE_SHARED;
    values[1] = policy_text;
    values[2] = separate ? ipv4_text : NULL;
    return respond(
        c, device_status(p2_store(c->dev, keys, values, 3), SOAP_STATUS_INTERNAL_ERROR));
}

/* --- NetworkTime --- */

/* OOB-7.1 / IB-10.1: <Time> is seconds since 1970, as an unsigned 32-bit number. */
static int
m_set_low_accuracy_time_synch(struct soap_ctx *c)
{
    uint32_t t;

    if (param_u32(c, NULL, "Time", &t) != 0 || t == 0)
        return respond(c, SOAP_STATUS_INVALID_PARAMETER);
    return respond(c, device_status(sim_device_set_time(c->dev, (int64_t)t),
                                    SOAP_STATUS_INVALID_PARAMETER));
}

static int
m_get_low_accuracy_time_synch(struct soap_ctx *c)
{
    int64_t now = sim_device_time(c->dev);
    int r;

    if ((r = respond(c, SOAP_STATUS_SUCCESS)) != 0)
        return r;
    return out_u32(c, NULL, "Time",
                   now < 0            ? 0
                   : now > UINT32_MAX ? UINT32_MAX
                                      : (uint32_t)now);
}

/* --- RemoteControl --- */

/* amttool indexes its table by the low nibble: 0 is "S0", 5 is "S5 (soft-off)". */
static int
m_get_system_power_state(struct soap_ctx *c)
{
    int r;

    if ((r = respond(c, SOAP_STATUS_SUCCESS)) != 0)
        return r;
    return out_u32(c, NULL, "SystemPowerState",
                   sim_device_power(c->dev) == SIM_POWER_ON ? 0 : 5);
}

/*
 * In the order amttool prints them: IanaOemNumber; OemDefinedCapabilities (IDER
 * 0x01, SOL 0x02, BIOS setup 0x08, BIOS pause 0x10); SpecialCommandsSupported
 * (PXE 0x100, hard disk 0x200, safe mode 0x400, diagnostics 0x800, CD 0x1000);
 * SystemCapabilitiesSupported (power cycle 0x01, power down 0x02, power up 0x04,
 * reset 0x08); SystemFirmwareCapabilities (none of ASF's firmware options).
 */
static int
m_get_remote_control_capabilities(struct soap_ctx *c)
{
    int r;

    if ((r = respond(c, SOAP_STATUS_SUCCESS)) != 0 ||
        (r = out_u32(c, NULL, "IanaOemNumber", IANA_INTEL)) != 0 ||
        (r = out_u32(c, NULL, "OemDefinedCapabilities", 0x1b)) != 0 ||
        (r = out_u32(c, NULL, "SpecialCommandsSupported", 0x1f00)) != 0 ||
        (r = out_u32(c, NULL, "SystemCapabilitiesSupported", 0x0f)) != 0)
        return r;
    return out_u32(c, NULL, "SystemFirmwareCapabilities", 0);
}

/*
 * <RemoteControl><Command>16</Command><IanaOemNumber>343</IanaOemNumber>
 *   [<SpecialCommand>1</SpecialCommand>] [<OEMparameters>1</OEMparameters>]
 * Commands 16 reset, 17 power up, 18 power down, 19 power cycle. A command that
 * does not apply to the machine's power state (power up a running machine, reset
 * one that is off) is 0x803 invalid command, as is an unknown command.
 */
static int
m_remote_control(struct soap_ctx *c)
{
    static const struct {
        uint32_t command;
        enum sim_power_action action;
    } commands[] = {
        {16, SIM_POWER_RESET},
        {17, SIM_POWER_UP},
        {18, SIM_POWER_DOWN},
        {19, SIM_POWER_CYCLE},
    };
    /* nop, PXE, hard disk, safe mode, diagnostics, CD; 0xc1 is Intel's BIOS setup */
    static const uint32_t special_ok[] = {0, 1, 2, 3, 4, 5, 0xc1};
    uint32_t command, iana, special, unused;
    bool known = false;

    if (param_u32(c, NULL, "Command", &command) != 0 ||
        param_u32(c, NULL, "IanaOemNumber", &iana) != 0 ||
        param_u32_opt(c, NULL, "SpecialCommand", 0, &special) != 0 ||
        param_u32_opt(c, NULL, "SpecialCommandParameter", 0, &unused) != 0 ||
        param_u32_opt(c, NULL, "BootOptions", 0, &unused) != 0 ||
        param_u32_opt(c, NULL, "OEMparameters", 0, &unused) != 0)
        return respond(c, SOAP_STATUS_INVALID_PARAMETER);
    if (iana != IANA_INTEL)
        return respond(c, SOAP_STATUS_UNSUPPORTED_OEM_NUMBER);
    for (size_t i = 0; i < ARRAY_LEN(special_ok); i++)
        known = known || special == special_ok[i];
    if (!known)
        return respond(c, SOAP_STATUS_INVALID_SPECIAL_COMMAND);
    for (size_t i = 0; i < ARRAY_LEN(commands); i++)
        if (commands[i].command == command)
            return respond(
                c, device_status(sim_device_power_action(c->dev, commands[i].action),
                                 SOAP_STATUS_INVALID_COMMAND));
    return respond(c, SOAP_STATUS_INVALID_COMMAND);
}

/* --- the services --- */

#define A SIM_RIGHT_ADMIN
#define SA_SET (M_SESSION)
#define SA_PROV (M_SESSION | M_BEFORE_COMMIT)

static const struct soap_method security_methods[] = {
    {"GetCoreVersion", m_get_core_version, 0, 0},
    {"GetProvisioningMode", m_get_provisioning_mode, A, 0},
    {"GetProvisioningState", m_get_provisioning_state, A, 0},
    {"GetDigestRealm", m_get_digest_realm, A, 0},
    {"GetAdminAclEntryStatus", m_get_admin_acl_entry_status, A, 0},
    {"GetPkiCapabilities", m_get_pki_capabilities, A, 0},
    {"GetTrustedFqdnCN", m_get_trusted_fqdn_cn, A, 0},
    {"SetAdminAclEntryEx", m_set_admin_acl_entry_ex, A, SA_SET},
    {"AddUserAclEntryEx", m_add_user_acl_entry_ex, A, SA_SET},
    {"SetTrustedFqdnCN", m_set_trusted_fqdn_cn, A, SA_SET},
    {"SetKerberosOptions", m_set_kerberos_options, A, SA_SET},
    {"SetTLSKeyAndCertificate", m_set_tls_key_and_certificate, A, SA_SET},
    {"SetTlsEnabled", m_set_tls_enabled, A, SA_SET},
    {"Unprovision", m_unprovision, A, SA_SET},
    {"SetMEBxPassword", m_set_mebx_password, A, SA_PROV},
    {"GetProvisioningServerOTP", m_get_provisioning_server_otp, A, SA_PROV},
    {"CommitChanges", m_commit_changes, A, SA_PROV},
};

static const struct soap_method network_methods[] = {
    {"GetHostName", m_get_host_name, A, 0},
    {"GetDomainName", m_get_domain_name, A, 0},
    {"EnumerateInterfaces", m_enumerate_interfaces, A, 0},
    {"GetInterfaceSettings", m_get_interface_settings, A, 0},
    {"SetHostName", m_set_host_name, A, SA_SET},
    {"SetDomainName", m_set_domain_name, A, SA_SET},
    {"SetInterfaceSettings", m_set_interface_settings, A, SA_SET},
};

static const struct soap_method time_methods[] = {
    {"GetLowAccuracyTimeSynch", m_get_low_accuracy_time_synch, SIM_RIGHT_NETWORK, 0},
    {"SetLowAccuracyTimeSynch", m_set_low_accuracy_time_synch, SIM_RIGHT_NETWORK, SA_SET},
};

static const struct soap_method remote_methods[] = {
    {"GetSystemPowerState", m_get_system_power_state, SIM_RIGHT_REMOTE_CONTROL, 0},
    {"GetRemoteControlCapabilities", m_get_remote_control_capabilities,
     SIM_RIGHT_REMOTE_CONTROL, 0},
    {"RemoteControl", m_remote_control, SIM_RIGHT_REMOTE_CONTROL, 0},
};

static const struct soap_method info_methods[] = {
    {"GetCoreVersion", m_get_core_version, 0, 0},
    {"GetCodeVersions", m_get_code_versions, SIM_RIGHT_GENERAL_INFO, 0},
    {"GetProvisioningState", m_get_provisioning_state, SIM_RIGHT_GENERAL_INFO, 0},
    {"GetProvisioningMode", m_get_provisioning_mode, SIM_RIGHT_GENERAL_INFO, 0},
};

#undef A
#undef SA_SET
#undef SA_PROV

static const struct soap_service services[] = {
    {"SecurityAdministration", security_methods, ARRAY_LEN(security_methods)},
    {"NetworkAdministration", network_methods, ARRAY_LEN(network_methods)},
    {"NetworkTime", time_methods, ARRAY_LEN(time_methods)},
    {"RemoteControl", remote_methods, ARRAY_LEN(remote_methods)},
    {"GeneralInfo", info_methods, ARRAY_LEN(info_methods)},
};

/* "/SecurityAdministrationService" -> its service; NULL for any other path. */
static const struct soap_service *
service_by_path(const char *path)
{
    static const char suffix[] = "Service";

    if (path == NULL || path[0] != '/')
        return NULL;
    for (size_t i = 0; i < ARRAY_LEN(services); i++) {
        size_t n = strlen(services[i].name);

        if (strncmp(path + 1, services[i].name, n) == 0 &&
            strcmp(path + 1 + n, suffix) == 0)
            return &services[i];
    }
    return NULL;
}

bool
sim_soap_path(const char *path)
{
    return service_by_path(path) != NULL;
}

static const struct soap_method *
method_by_name(const struct soap_service *svc, const char *name)
{
    for (size_t i = 0; i < svc->n_methods; i++)
        if (strcmp(svc->methods[i].name, name) == 0)
            return &svc->methods[i];
    return NULL;
}

/* --- events --- */

static const char *
status_reason(uint32_t status)
{
    for (size_t i = 0; i < ARRAY_LEN(status_reasons); i++)
        if (status_reasons[i].status == status)
            return status_reasons[i].reason;
    return "refused";
}

/*
 * A method name for the log: ours, or the caller's when it is short and plain,
 * since a name from the network must not make the event invalid or huge.
 */
static const char *
loggable_method(const struct soap_ctx *c)
{
    const char *name = c->m != NULL ? c->m->name : c->call.name;
    size_t n = 0;

    if (name == NULL)
        return NULL;
    for (; name[n] != '\0'; n++)
        if (n >= 64 ||
            !((name[n] >= 'a' && name[n] <= 'z') || (name[n] >= 'A' && name[n] <= 'Z') ||
              (name[n] >= '0' && name[n] <= '9')))
            return "?";
    return n > 0 ? name : NULL;
}

/*
 * X-sim.soap, one per request: service, method, the HTTP status, and the SOAP
 * status when a reply was made. Parameters never appear: some are secrets.
 */
static void
soap_event(const struct soap_ctx *c, int http, bool replied, const char *reason)
{
    struct evlog_field f[5];
    size_t n = 0;
    const char *method = loggable_method(c);
    bool ok = http == 200 && replied && c->status == SOAP_STATUS_SUCCESS;
    int r;

    f[n++] =
        (struct evlog_field)EVLOG_STR("service", c->svc != NULL ? c->svc->name : "?");
    if (method != NULL)
        f[n++] = (struct evlog_field)EVLOG_STR("method", method);
    f[n++] = (struct evlog_field)EVLOG_INT("http", http);
    if (replied)
        f[n++] = (struct evlog_field)EVLOG_INT("status", (int64_t)c->status);
    if (!ok)
        f[n++] = (struct evlog_field)EVLOG_REASON(
            reason != NULL ? reason : status_reason(c->status));
    r = evlog_emit_fields(sim_device_events(c->dev), sim_device_now(c->dev),
                          EVLOG_ACTOR_AMT, sim_device_uuid_text(c->dev), "X-sim.soap",
                          ok ? EVLOG_RESULT_OK : EVLOG_RESULT_FAIL, f, n);
    if (r != 0)
        fprintf(stderr, "amt-sim: event X-sim.soap not logged: %s\n", amt_strerror(r));
}

/* --- answering --- */

/* Why xmlsafe refused a body, for the event: scenarios tell the attacks apart. */
static const char *
xml_reason(int r)
{
    switch (r) {
    case AMT_ERR_XML_DOCTYPE:
        return "xml-doctype";
    case AMT_ERR_XML_ENTITY:
        return "xml-entity";
    case AMT_ERR_XML_TOO_DEEP:
        return "xml-too-deep";
    case AMT_ERR_XML_TOO_LARGE:
        return "xml-too-large";
    case AMT_ERR_XML_ENCODING:
        return "xml-encoding";
    default:
        return "malformed-xml";
    }
}

static int
answer_plain(struct sim_response *resp, int status, const char *text)
{
    if ((resp->body = strdup(text)) == NULL)
        return AMT_ERR_ALLOC;
    resp->status = status;
    resp->content_type = "text/plain";
    resp->body_len = strlen(text);
    return 0;
}

static int
answer_msg(struct sim_response *resp, int status, const struct soap_msg *m)
{
    char *text = NULL;
    size_t len = 0;
    int r;

    if ((r = soap_msg_text(m, &text, &len)) != 0)
        return r;
    resp->status = status;
    resp->content_type = "text/xml; charset=utf-8";
    resp->body = text;
    resp->body_len = len;
    return 0;
}

/* SOAP 1.1 over HTTP: a fault goes back with 500 (section 6.2). */
static int
answer_fault(struct soap_ctx *c, struct sim_response *resp, enum soap_fault_code code,
             const char *text, const char *reason)
{
    struct soap_msg *m = NULL;
    int r;

    if ((r = soap_fault_new(code, text, &m)) == 0)
        r = answer_msg(resp, 500, m);
    soap_msg_free(m);
    if (r == 0)
        soap_event(c, 500, false, reason);
    return r;
}

/* A header entry the request insists on (mustUnderstand="1"): we understand none. */
static bool
must_understand(xmlDocPtr doc)
{
    xmlNodePtr header = NULL;

    if (soap_envelope(doc, SOAP11_ENV_NS, &header, NULL) != 0 || header == NULL)
        return false;
    for (xmlNodePtr h = xmlsafe_child(header, NULL, NULL); h != NULL;
         h = xmlsafe_next(h, NULL, NULL)) {
        xmlChar *v = xmlGetNsProp(h, (const xmlChar *)"mustUnderstand",
                                  (const xmlChar *)SOAP11_ENV_NS);
        bool must = v != NULL && (strcmp((const char *)v, "1") == 0 ||
                                  strcmp((const char *)v, "true") == 0);

        xmlFree(v);
        if (must)
            return true;
    }
    return false;
}

/* The rights and state rules every method obeys before it runs. */
static int
run_method(struct soap_ctx *c)
{
    bool provisioned = sim_device_state(c->dev) == SIM_STATE_PROVISIONED;
    int r;

    if ((c->req->rights & c->m->right) != c->m->right)
        return respond(c, SOAP_STATUS_NOT_PERMITTED);
    if ((c->m->flags & M_BEFORE_COMMIT) && provisioned)
        return respond(c, SOAP_STATUS_INVALID_PROVISIONING_STATE);
    if ((c->m->flags & M_SESSION) && !provisioned && !c->req->provisioning_session)
        return respond(c, SOAP_STATUS_NOT_PERMITTED);
    if ((r = c->m->fn(c)) == 0 && c->reply == NULL)
        r = respond(c, SOAP_STATUS_INTERNAL_ERROR);
    return r;
}

int
sim_soap_handle(const struct sim_request *req, struct sim_response *resp)
{
    const struct xmlsafe_limits limits = {.max_bytes = SIM_BODY_MAX,
                                          .max_depth = SOAP_DEPTH_MAX};
    struct soap_ctx c;
    xmlDocPtr doc = NULL;
    char detail[XMLSAFE_DETAIL_MAX], why[XMLSAFE_DETAIL_MAX + 32];
    int r;

    if (resp != NULL)
        memset(resp, 0, sizeof(*resp));
    if (req == NULL || resp == NULL || req->dev == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(&c, 0, sizeof(c));
    c.req = req;
    c.dev = req->dev;
    c.svc = service_by_path(req->path);

    /* the interface does not exist on that generation: nothing answers there */
    if (!sim_profile_has(sim_device_profile(c.dev), SIM_FEATURE_SOAP)) {
        if ((r = answer_plain(resp, 404, "not found\n")) == 0)
            soap_event(&c, 404, false, "no-soap-interface");
        return r;
    }
    if (c.svc == NULL) {
        if ((r = answer_plain(resp, 404, "not found\n")) == 0)
            soap_event(&c, 404, false, "unknown-service");
        return r;
    }
    if (req->method == NULL || strcmp(req->method, "POST") != 0) {
        if ((r = answer_plain(resp, 405, "method not allowed\n")) == 0)
            soap_event(&c, 405, false, "not-post");
        return r;
    }
    if ((r = soap_service_ns(c.svc->name, NULL, c.ns, sizeof(c.ns))) != 0)
        return r;

    r = req->body != NULL ? xmlsafe_parse_detail(req->body, req->body_len, &limits, &doc,
                                                 detail, sizeof(detail))
                          : AMT_ERR_XML_PARSE;
    if (r != 0) {
        snprintf(why, sizeof(why), "malformed XML: %s",
                 req->body == NULL ? "no body" : detail);
        r = answer_fault(&c, resp, SOAP_FAULT_CLIENT, why, xml_reason(r));
        goto out;
    }
    if (soap_call_parse(doc, &c.call) != 0) {
        r = answer_fault(&c, resp, SOAP_FAULT_CLIENT,
                         "not a SOAP 1.1 envelope with one call in its body",
                         "not-soap-call");
        goto out;
    }
    if (must_understand(doc)) {
        r = answer_fault(&c, resp, SOAP_FAULT_MUST_UNDERSTAND,
                         "a header entry must be understood", "must-understand");
        goto out;
    }
    if (c.call.ns == NULL || strcmp(c.call.ns, c.ns) != 0) {
        r = answer_fault(&c, resp, SOAP_FAULT_CLIENT,
                         "method not in the namespace of this service",
                         "wrong-namespace");
        goto out;
    }
    if ((c.m = method_by_name(c.svc, c.call.name)) == NULL) {
        r = answer_fault(&c, resp, SOAP_FAULT_CLIENT, "unknown method", "unknown-method");
        goto out;
    }
    /* SOAP 1.1 lets an empty or absent SOAPAction leave the intent to the body */
    if (req->soap_action != NULL && req->soap_action[0] != '\0' &&
        !soap_call_action_matches(&c.call, req->soap_action)) {
        r = answer_fault(&c, resp, SOAP_FAULT_CLIENT, "SOAPAction does not name the call",
                         "soapaction-mismatch");
        goto out;
    }
    if ((r = run_method(&c)) != 0 || (r = answer_msg(resp, 200, c.reply)) != 0)
        goto out;
    soap_event(&c, 200, true, NULL);
out:
    if (r != 0) {
        free(resp->body);
        memset(resp, 0, sizeof(*resp));
    }
    soap_msg_free(c.reply);
    xmlFreeDoc(doc);
    return r;
}
