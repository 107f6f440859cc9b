/* The phase 1 SOAP services: replies by position, state and rights rules, refusals. */
#include "clock.h"
#include "device.h"
#include "err.h"
#include "evlog.h"
#include "keypool.h"
#include "services.h"
#include "soap.h"
#include "unit.h"
#include "xmlsafe.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GOOD_PASSWORD "P@ssw0rd-Strong1"
#define MEBX_PASSWORD "Mebx!Passw0rd"
#define OTP_TEXT "OneTimePass1234"

#define SA "SecurityAdministration"
#define NA "NetworkAdministration"
#define NT "NetworkTime"
#define RC "RemoteControl"
#define GI "GeneralInfo"
#define NS_BASE "http://schemas.intel.com/platform/client/"

#define ALL_RIGHTS                                                                       \
    (SIM_RIGHT_ADMIN | SIM_RIGHT_REMOTE_CONTROL | SIM_RIGHT_REDIRECTION |                \
     SIM_RIGHT_GENERAL_INFO | SIM_RIGHT_NETWORK | SIM_RIGHT_EVENT_LOG)

/* What SOAP::Lite (amttool) puts around a call, byte for byte. */
#define SOAPLITE(body)                                                                   \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope "                          \
    "soap:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\" "                  \
    "xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" "                          \
    "xmlns:soapenc=\"http://schemas.xmlsoap.org/soap/encoding/\" "                       \
    "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "                                    \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soap:Body>" body           \
    "</soap:Body></soap:Envelope>"

static char tmp_root[] = "/tmp/test_sim_soap.XXXXXX";
static unsigned dir_counter;
static struct keypool *keys;
static struct amt_clock *vclock;
static struct evlog *events;
static char events_path[300];

struct fixture {
    char dir[256];
    struct sim_device_config cfg;
    struct sim_env env;
    struct sim_device *dev;
};

/* Who calls: the provisioning session with the admin's rights unless said otherwise. */
struct caller {
    bool outsider;
    unsigned rights; /* 0: all */
};

static const struct caller prov = {false, 0};

struct reply {
    int http;
    char *body;
    xmlDocPtr doc;
    struct soap_reply r;
    int parse; /* soap_reply_parse's result */
};

static void
fixture_config(struct fixture *f, const char *version)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "%s/dev%u", tmp_root, dir_counter++);
    CU_ASSERT_EQUAL_FATAL(
        uuid_parse("12345678-9abc-def0-1234-56789abcdef0", &f->cfg.uuid), 0);
    CU_ASSERT_EQUAL_FATAL(sim_profile_from_text(version, &f->cfg.profile), 0);
    strcpy(f->cfg.listen, "127.0.0.2");
    f->cfg.flash_dir = f->dir;
    f->cfg.dhcp_domain = "contoso.com";
    f->env.events = events;
    f->env.clock = vclock;
    f->env.keys = keys;
}

static void
fixture_open(struct fixture *f)
{
    char err[256] = "";

    f->dev = NULL;
    CU_ASSERT_EQUAL_FATAL(sim_device_open(&f->cfg, &f->env, &f->dev, err, sizeof(err)),
                          0);
}

static void
fixture_new(struct fixture *f, const char *version)
{
    fixture_config(f, version);
    fixture_open(f);
}

static void
fixture_reopen(struct fixture *f)
{
    sim_device_free(f->dev);
    fixture_open(f);
}

static void
reply_free(struct reply *rep)
{
    xmlFreeDoc(rep->doc);
    free(rep->body);
    memset(rep, 0, sizeof(*rep));
}

/* One request straight into the handler, as the HTTP front would pass it. */
static void
post_raw(struct fixture *f, const char *path, const char *action, const char *body,
         struct caller who, struct reply *rep)
{
    struct sim_request req;
    struct sim_response resp;

    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    memset(rep, 0, sizeof(*rep));
    req.dev = f->dev;
    req.method = "POST";
    req.path = path;
    req.soap_action = action;
    req.content_type = "text/xml; charset=utf-8";
    req.body = body;
    req.body_len = strlen(body);
    req.user = "admin";
    req.rights = who.rights != 0 ? who.rights : ALL_RIGHTS;
    req.port = 16993;
    req.tls = true;
    req.provisioning_session =
        !who.outsider && sim_device_state(f->dev) != SIM_STATE_PROVISIONED;
    CU_ASSERT_EQUAL_FATAL(sim_soap_handle(&req, &resp), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(resp.body);
    CU_ASSERT_EQUAL(resp.body_len, strlen(resp.body));
    rep->http = resp.status;
    rep->body = resp.body;
    rep->parse = AMT_ERR_SOAP_MESSAGE;
    if (resp.content_type != NULL &&
        strcmp(resp.content_type, "text/xml; charset=utf-8") == 0) {
        CU_ASSERT_EQUAL_FATAL(xmlsafe_parse(resp.body, resp.body_len, NULL, &rep->doc),
                              0);
        rep->parse = soap_reply_parse(rep->doc, NULL, NULL, &rep->r);
    }
}

static struct soap_msg *
request(const char *service, const char *method)
{
    struct soap_msg *m = NULL;
    char ns[128];

    CU_ASSERT_EQUAL_FATAL(soap_service_ns(service, NULL, ns, sizeof(ns)), 0);
    CU_ASSERT_EQUAL_FATAL(soap_request_new(ns, method, &m), 0);
    return m;
}

static xmlNodePtr
add(struct soap_msg *m, xmlNodePtr parent, const char *name, const char *value)
{
    xmlNodePtr n = NULL;

    CU_ASSERT_EQUAL_FATAL(soap_msg_add(m, parent, name, value, &n), 0);
    return n;
}

/* Sends m (and frees it) to its service's path with its own SOAPAction. */
static void
send_msg(struct fixture *f, const char *service, struct soap_msg *m, struct caller who,
         struct reply *rep)
{
    char path[128], action[512];
    const char *quoted = soap_msg_action(m);
    char *text = NULL;
    size_t len = 0;

    CU_ASSERT_EQUAL_FATAL(soap_service_path(service, path, sizeof(path)), 0);
    /* the front hands the header over without its quotes */
    snprintf(action, sizeof(action), "%.*s", (int)strlen(quoted) - 2, quoted + 1);
    CU_ASSERT_EQUAL_FATAL(soap_msg_text(m, &text, &len), 0);
    post_raw(f, path, action, text, who, rep);
    free(text);
    soap_msg_free(m);
}

/* The StatusCode of one call; rep keeps the reply for its outputs. */
static uint32_t
call(struct fixture *f, const char *service, struct soap_msg *m, struct caller who,
     struct reply *rep)
{
    send_msg(f, service, m, who, rep);
    CU_ASSERT_EQUAL(rep->http, 200);
    CU_ASSERT_EQUAL(rep->parse, 0);
    return rep->parse == 0 ? rep->r.status : 0xffffffffu;
}

/* A call whose outputs do not matter. */
static uint32_t
call0(struct fixture *f, const char *service, struct soap_msg *m, struct caller who)
{
    struct reply rep;
    uint32_t st = call(f, service, m, who, &rep);

    reply_free(&rep);
    return st;
}

static uint32_t
call_no_params(struct fixture *f, const char *service, const char *method,
               struct caller who)
{
    return call0(f, service, request(service, method), who);
}

/* The text of output element name (direct child of the response, or of parent). */
static const char *
out(const struct reply *rep, xmlNodePtr parent, const char *name, char *buf, size_t size)
{
    xmlNodePtr n = parent != NULL ? xmlsafe_child(parent, NULL, name)
                                  : soap_reply_get(&rep->r, name);

    buf[0] = '\0';
    if (n == NULL || xmlsafe_text(n, buf, size) != 0)
        return "<absent>";
    return buf;
}

/* The local name of the output at position i (0 is StatusCode). */
static const char *
name_at(const struct reply *rep, size_t i)
{
    xmlNodePtr n = soap_reply_get_at(&rep->r, i);

    return n != NULL ? (const char *)n->name : "<none>";
}

static void
assert_fault(const struct reply *rep)
{
    CU_ASSERT_EQUAL(rep->http, 500);
    CU_ASSERT_EQUAL(rep->parse, AMT_ERR_SOAP_FAULT);
    CU_ASSERT_EQUAL(rep->r.fault, SOAP_FAULT_CLIENT);
}

static char *
b64(const unsigned char *bin, size_t len)
{
    char *text = malloc((len + 2) / 3 * 4 + 1);

    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    EVP_EncodeBlock((unsigned char *)text, bin, (int)len);
    return text;
}

static void
ha1_of(const char *user, const char *realm, const char *password, unsigned char out[16])
{
    char buf[512];
    unsigned int len;

    snprintf(buf, sizeof(buf), "%s:%s:%s", user, realm, password);
    EVP_Digest(buf, strlen(buf), out, &len, EVP_md5(), NULL);
}

static char *
ha1_b64(struct fixture *f, const char *user, const char *password)
{
    unsigned char ha1[16];

    ha1_of(user, sim_device_realm(f->dev), password, ha1);
    return b64(ha1, sizeof(ha1));
}

/* --- test PKI material as SetTLSKeyAndCertificate carries it --- */

enum key_form { KEY_PKCS8, KEY_PKCS1 };

/* A key file of the test PKI as base64 DER. */
static char *
key_b64(const char *name, enum key_form form)
{
    char path[512];
    BIO *bio;
    EVP_PKEY *key;
    unsigned char *der = NULL;
    int len;
    char *text;

    snprintf(path, sizeof(path), "%s/%s.key", AMT_CERTS_DIR, name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bio = BIO_new_file(path, "r"));
    key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    CU_ASSERT_PTR_NOT_NULL_FATAL(key);
    if (form == KEY_PKCS8) {
        PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(key);

        len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
        PKCS8_PRIV_KEY_INFO_free(p8);
    } else {
        /* the traditional form of an RSA key is PKCS#1 RSAPrivateKey */
        len = i2d_PrivateKey(key, &der);
    }
    EVP_PKEY_free(key);
    CU_ASSERT_FATAL(len > 0);
    text = b64(der, (size_t)len);
    OPENSSL_clear_free(der, (size_t)len);
    return text;
}

/* An RSA key shorter than AMT takes, as base64 PKCS#8 DER. */
static char *
small_key_b64(void)
{
    EVP_PKEY *key = EVP_RSA_gen(768);
    PKCS8_PRIV_KEY_INFO *p8;
    unsigned char *der = NULL;
    int len;
    char *text;

    CU_ASSERT_PTR_NOT_NULL_FATAL(key);
    p8 = EVP_PKEY2PKCS8(key);
    len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
    PKCS8_PRIV_KEY_INFO_free(p8);
    EVP_PKEY_free(key);
    CU_ASSERT_FATAL(len > 0);
    text = b64(der, (size_t)len);
    OPENSSL_clear_free(der, (size_t)len);
    return text;
}

/* The base64 of a certificate's DER with two more bytes after it. */
static char *
with_trailing_bytes(const char *cert_b64)
{
    size_t len = strlen(cert_b64);
    unsigned char *der = malloc(len);
    int n = EVP_DecodeBlock(der, (const unsigned char *)cert_b64, (int)len);
    char *text;

    CU_ASSERT_FATAL(n > 0);
    n -= (cert_b64[len - 1] == '=') + (cert_b64[len - 2] == '=');
    der[n] = 0x05;
    der[n + 1] = 0x00;
    text = b64(der, (size_t)n + 2);
    free(der);
    return text;
}

#define CHAIN_MAX 4

/* The certificates of NAME.chain.pem (leaf first) as base64 DER; returns the count. */
static size_t
chain_b64(const char *name, char *out[CHAIN_MAX])
{
    char path[512];
    BIO *bio;
    X509 *x;
    size_t n = 0;

    snprintf(path, sizeof(path), "%s/%s.chain.pem", AMT_CERTS_DIR, name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bio = BIO_new_file(path, "r"));
    while (n < CHAIN_MAX && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        unsigned char *der = NULL;
        int len = i2d_X509(x, &der);

        CU_ASSERT_FATAL(len > 0);
        out[n++] = b64(der, (size_t)len);
        OPENSSL_free(der);
        X509_free(x);
    }
    BIO_free(bio);
    CU_ASSERT_FATAL(n >= 2);
    return n;
}

static void
chain_free(char *certs[CHAIN_MAX], size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(certs[i]);
}

/* SetTLSKeyAndCertificate with key (NULL: none) and the given certificates. */
static uint32_t
set_tls(struct fixture *f, const char *key, char *const certs[], size_t n)
{
    struct soap_msg *m = request(SA, "SetTLSKeyAndCertificate");
    xmlNodePtr chain;

    if (key != NULL)
        add(m, NULL, "PrivateKey", key);
    chain = add(m, NULL, "CertificateChain", NULL);
    for (size_t i = 0; i < n; i++)
        add(m, chain, "Certificate", certs[i]);
    return call0(f, SA, m, prov);
}

/* --- the phase 1 steps one by one --- */

static uint32_t
set_time(struct fixture *f, const char *t, struct caller who)
{
    struct soap_msg *m = request(NT, "SetLowAccuracyTimeSynch");

    add(m, NULL, "Time", t);
    return call0(f, NT, m, who);
}

static uint32_t
set_name(struct fixture *f, const char *method, const char *param, const char *value,
         struct caller who)
{
    struct soap_msg *m = request(NA, method);

    add(m, NULL, param, value);
    return call0(f, NA, m, who);
}

static uint32_t
set_admin(struct fixture *f, const char *user, const char *password)
{
    struct soap_msg *m = request(SA, "SetAdminAclEntryEx");
    xmlNodePtr entry = add(m, NULL, "EntryEx", NULL);
    char *digest = ha1_b64(f, user, password);
    uint32_t st;

    add(m, entry, "Username", user);
    add(m, entry, "DigestPassword", digest);
    st = call0(f, SA, m, prov);
    free(digest);
    return st;
}

static uint32_t
set_mebx(struct fixture *f, const char *password, struct caller who)
{
    struct soap_msg *m = request(SA, "SetMEBxPassword");

    add(m, NULL, "Password", password);
    return call0(f, SA, m, who);
}

static uint32_t
set_tls_enabled(struct fixture *f, const char *on)
{
    struct soap_msg *m = request(SA, "SetTlsEnabled");

    add(m, NULL, "Enabled", on);
    return call0(f, SA, m, prov);
}

/* The whole of OOB-7, as a provisioning server sends it. */
static void
provision(struct fixture *f)
{
    char *key = key_b64("device", KEY_PKCS8), *certs[CHAIN_MAX];
    size_t n = chain_b64("device", certs);

    CU_ASSERT_EQUAL(set_time(f, "1700000000", prov), 0);
    CU_ASSERT_EQUAL(set_name(f, "SetHostName", "HostName", "pc1", prov), 0);
    CU_ASSERT_EQUAL(set_name(f, "SetDomainName", "DomainName", "contoso.com", prov), 0);
    CU_ASSERT_EQUAL(set_tls(f, key, certs, n), 0);
    CU_ASSERT_EQUAL(set_tls_enabled(f, "true"), 0);
    CU_ASSERT_EQUAL(set_admin(f, "admin", GOOD_PASSWORD), 0);
    CU_ASSERT_EQUAL(set_mebx(f, MEBX_PASSWORD, prov), 0);
    CU_ASSERT_EQUAL(call_no_params(f, SA, "CommitChanges", prov), 0);
    free(key);
    chain_free(certs, n);
}

static char *
pem_of(const char *file)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", AMT_CERTS_DIR, file);
    return (char *)unit_read_file(path, NULL);
}

static void
test_phase1_reaches_provisioned_and_persists(void)
{
    struct fixture f;
    struct reply rep;
    unsigned char ha1[16], want[16];
    unsigned rights = 0;
    char buf[256], *chain_pem = pem_of("device.chain.pem");
    int64_t skew;

    fixture_new(&f, "4.0");
    CU_ASSERT_EQUAL(call(&f, GI, request(GI, "GetProvisioningState"), prov, &rep), 0);
    CU_ASSERT_STRING_EQUAL(out(&rep, NULL, "ProvisioningState", buf, sizeof(buf)), "0");
    reply_free(&rep);

    provision(&f);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_PROVISIONED);

    /* what a power loss keeps: everything phase 1 set */
    fixture_reopen(&f);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_PROVISIONED);
    CU_ASSERT_STRING_EQUAL(sim_device_host_name(f.dev), "pc1");
    CU_ASSERT_STRING_EQUAL(sim_device_domain_name(f.dev), "contoso.com");
    CU_ASSERT_TRUE(sim_device_tls_enabled(f.dev));
    CU_ASSERT_TRUE(sim_device_mebx_password_changed(f.dev));
    CU_ASSERT_STRING_EQUAL(sim_device_tls_cert_pem(f.dev), chain_pem);
    CU_ASSERT_PTR_NOT_NULL(strstr(sim_device_tls_key_pem(f.dev), "BEGIN PRIVATE KEY"));
    skew = sim_device_time(f.dev) - 1700000000;
    CU_ASSERT(skew >= 0 && skew < 5);
    CU_ASSERT_EQUAL(sim_device_user_ha1(f.dev, "admin", ha1, &rights), 0);
    ha1_of("admin", sim_device_realm(f.dev), GOOD_PASSWORD, want);
    CU_ASSERT_EQUAL(memcmp(ha1, want, 16), 0);
    CU_ASSERT(rights & SIM_RIGHT_ADMIN);

    /* and the Get methods say the same, status first */
    CU_ASSERT_EQUAL(call(&f, NA, request(NA, "GetHostName"), prov, &rep), 0);
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 1), "HostName");
    CU_ASSERT_STRING_EQUAL(out(&rep, NULL, "HostName", buf, sizeof(buf)), "pc1");
    reply_free(&rep);
    CU_ASSERT_EQUAL(call(&f, NA, request(NA, "GetDomainName"), prov, &rep), 0);
    CU_ASSERT_STRING_EQUAL(out(&rep, NULL, "DomainName", buf, sizeof(buf)),
                           "contoso.com");
    reply_free(&rep);
    CU_ASSERT_EQUAL(call(&f, NT, request(NT, "GetLowAccuracyTimeSynch"), prov, &rep), 0);
    CU_ASSERT(strtoll(out(&rep, NULL, "Time", buf, sizeof(buf)), NULL, 10) - 1700000000 <
              5);
    reply_free(&rep);
    CU_ASSERT_EQUAL(call(&f, SA, request(SA, "GetAdminAclEntryStatus"), prov, &rep), 0);
    CU_ASSERT_STRING_EQUAL(out(&rep, NULL, "IsDefault", buf, sizeof(buf)), "false");
    reply_free(&rep);
    CU_ASSERT_EQUAL(call(&f, GI, request(GI, "GetProvisioningState"), prov, &rep), 0);
    CU_ASSERT_STRING_EQUAL(out(&rep, NULL, "ProvisioningState", buf, sizeof(buf)), "2");
    reply_free(&rep);
    free(chain_pem);
    sim_device_free(f.dev);
}

static void
test_first_change_moves_to_in_provisioning(void)
{
    struct fixture f;
    struct reply rep;
    char buf[16];

    fixture_new(&f, "3.2.1");
    CU_ASSERT_EQUAL(call(&f, SA, request(SA, "GetAdminAclEntryStatus"), prov, &rep), 0);
    CU_ASSERT_STRING_EQUAL(out(&rep, NULL, "IsDefault", buf, sizeof(buf)), "true");
    reply_free(&rep);
    CU_ASSERT_EQUAL(set_name(&f, "SetHostName", "HostName", "pc2", prov), 0);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_IN_PROVISIONING);
    CU_ASSERT_EQUAL(call(&f, SA, request(SA, "GetProvisioningState"), prov, &rep), 0);
    CU_ASSERT_STRING_EQUAL(out(&rep, NULL, "ProvisioningState", buf, sizeof(buf)), "1");
    reply_free(&rep);
    /* AMT will not leave setup with the factory admin password */
    CU_ASSERT_EQUAL(call_no_params(&f, SA, "CommitChanges", prov), 0x809);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_IN_PROVISIONING);
    sim_device_free(f.dev);
}

static void
test_tls_key_and_certificate_refusals(void)
{
    struct fixture f;
    char *device_key = key_b64("device", KEY_PKCS1),
         *other_key = key_b64("prov-oid", KEY_PKCS8);
    char *certs[CHAIN_MAX], *swapped[CHAIN_MAX], *trailing[CHAIN_MAX], *before;
    char *big_key, *small_key;
    char *garbage[1] = {"AAECAwQFBgcICQoLDA0ODw=="}, *not_b64[1] = {"!!!not base64!!!"};
    size_t n;

    fixture_new(&f, "4.0");
    n = chain_b64("device", certs);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    before = strdup(sim_device_tls_cert_pem(f.dev));
    big_key = key_b64("root-ca-4096", KEY_PKCS8);
    small_key = small_key_b64();
    memcpy(trailing, certs, sizeof(trailing));
    trailing[0] = with_trailing_bytes(certs[0]);

    CU_ASSERT_EQUAL(set_tls(&f, other_key, certs, n), 0x810);
    CU_ASSERT_EQUAL(set_tls(&f, device_key, garbage, 1), 0x80f);
    CU_ASSERT_EQUAL(set_tls(&f, device_key, not_b64, 1), 0x80f);
    CU_ASSERT_EQUAL(set_tls(&f, "AAECAwQFBgcICQoLDA0ODw==", certs, n), 0x80e);
    /* the chain must run leaf to root, each certificate issued by the next */
    memcpy(swapped, certs, sizeof(swapped));
    swapped[1] = certs[2];
    swapped[2] = certs[1];
    CU_ASSERT_EQUAL(set_tls(&f, device_key, swapped, n), 0x80f);
    /* AMT's keys are RSA of 1024 to 2048 bits */
    CU_ASSERT_EQUAL(set_tls(&f, big_key, certs, n), 0x80e);
    CU_ASSERT_EQUAL(set_tls(&f, small_key, certs, n), 0x80e);
    /* a certificate with bytes after it is not one certificate */
    CU_ASSERT_EQUAL(set_tls(&f, device_key, trailing, n), 0x80f);
    /* without a key the device keeps its own, which the CA's leaf does not match */
    CU_ASSERT_EQUAL(set_tls(&f, NULL, certs, n), 0x810);
    CU_ASSERT_STRING_EQUAL(sim_device_tls_cert_pem(f.dev), before);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_SETUP);

    /* PKCS#1 is taken as well as PKCS#8 */
    CU_ASSERT_EQUAL(set_tls(&f, device_key, certs, n), 0);
    CU_ASSERT_STRING_NOT_EQUAL(sim_device_tls_cert_pem(f.dev), before);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_IN_PROVISIONING);
    free(before);
    free(device_key);
    free(other_key);
    free(big_key);
    free(small_key);
    free(trailing[0]);
    chain_free(certs, n);
    sim_device_free(f.dev);
}

static void
test_weak_mebx_password_refused(void)
{
    struct fixture f;

    fixture_new(&f, "4.0");
    CU_ASSERT_EQUAL(set_mebx(&f, "password", prov), 0x806);
    CU_ASSERT_EQUAL(set_mebx(&f, "Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!Aa1!x", prov), 0x806);
    CU_ASSERT_FALSE(sim_device_mebx_password_changed(f.dev));
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_SETUP);
    CU_ASSERT_EQUAL(set_mebx(&f, MEBX_PASSWORD, prov), 0);
    CU_ASSERT_TRUE(sim_device_mebx_password_changed(f.dev));
    sim_device_free(f.dev);
}

static void
test_setup_changes_need_the_provisioning_session(void)
{
    struct fixture f;
    struct caller outsider = {true, 0};

    fixture_new(&f, "4.0");
    CU_ASSERT_EQUAL(set_name(&f, "SetHostName", "HostName", "pc9", outsider), 0x10);
    CU_ASSERT_EQUAL(set_time(&f, "1700000000", outsider), 0x10);
    CU_ASSERT_EQUAL(set_mebx(&f, MEBX_PASSWORD, outsider), 0x10);
    CU_ASSERT_EQUAL(call_no_params(&f, SA, "GetProvisioningServerOTP", outsider), 0x10);
    CU_ASSERT_PTR_NULL(sim_device_host_name(f.dev));
    CU_ASSERT_FALSE(sim_device_mebx_password_changed(f.dev));
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_SETUP);
    /* reading is not changing */
    CU_ASSERT_EQUAL(call_no_params(&f, SA, "GetCoreVersion", outsider), 0);
    CU_ASSERT_EQUAL(call_no_params(&f, NA, "GetHostName", outsider), 0);
    sim_device_free(f.dev);
}

static void
test_provisioning_only_methods_after_commit(void)
{
    struct fixture f;
    struct reply rep;
    char buf[64], *want;

    fixture_new(&f, "4.0");
    CU_ASSERT_EQUAL(call_no_params(&f, SA, "GetProvisioningServerOTP", prov), 0x809);
    CU_ASSERT_EQUAL(sim_device_set_otp(f.dev, OTP_TEXT), 0);
    CU_ASSERT_EQUAL(call(&f, SA, request(SA, "GetProvisioningServerOTP"), prov, &rep), 0);
    want = b64((const unsigned char *)OTP_TEXT, strlen(OTP_TEXT));
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 1), "OTP");
    CU_ASSERT_STRING_EQUAL(out(&rep, NULL, "OTP", buf, sizeof(buf)), want);
    reply_free(&rep);

    provision(&f);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_PROVISIONED);
    CU_ASSERT_EQUAL(call_no_params(&f, SA, "CommitChanges", prov), 0x20);
    CU_ASSERT_EQUAL(call_no_params(&f, SA, "GetProvisioningServerOTP", prov), 0x20);
    CU_ASSERT_EQUAL(set_mebx(&f, "0ther!Passw0rd", prov), 0x20);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_PROVISIONED);
    /* an ordinary setting may still change once provisioned */
    CU_ASSERT_EQUAL(set_name(&f, "SetHostName", "HostName", "pc3", prov), 0);
    CU_ASSERT_STRING_EQUAL(sim_device_host_name(f.dev), "pc3");
    free(want);
    sim_device_free(f.dev);
}

static struct soap_msg *
power_request(const char *command, const char *iana)
{
    struct soap_msg *m = request(RC, "RemoteControl");

    add(m, NULL, "Command", command);
    add(m, NULL, "IanaOemNumber", iana);
    return m;
}

static void
test_rights_are_checked(void)
{
    struct fixture f;
    struct caller operator= {false, SIM_RIGHT_REMOTE_CONTROL};
    struct caller reader = {false, SIM_RIGHT_GENERAL_INFO};

    fixture_new(&f, "4.0");
    provision(&f);
    CU_ASSERT_EQUAL(set_name(&f, "SetHostName", "HostName", "evil", operator), 0x10);
    CU_ASSERT_EQUAL(call_no_params(&f, SA, "GetDigestRealm", operator), 0x10);
    CU_ASSERT_EQUAL(set_time(&f, "1800000000", operator), 0x10);
    CU_ASSERT_STRING_EQUAL(sim_device_host_name(f.dev), "pc1");
    CU_ASSERT_EQUAL(call0(&f, RC, power_request("18", "343"), reader), 0x10);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_ON);
    CU_ASSERT_EQUAL(call_no_params(&f, GI, "GetCodeVersions", reader), 0);
    /* discovery's first question needs no right at all */
    CU_ASSERT_EQUAL(call_no_params(&f, SA, "GetCoreVersion", reader), 0);
    CU_ASSERT_EQUAL(call0(&f, RC, power_request("18", "343"), operator), 0);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_OFF);
    sim_device_free(f.dev);
}

static void
test_remote_control_commands(void)
{
    struct fixture f;
    struct reply rep;
    char buf[16];

    fixture_new(&f, "4.0");
    provision(&f);
    CU_ASSERT_EQUAL(call0(&f, RC, power_request("18", "4542"), prov), 0x801);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_ON);
    CU_ASSERT_EQUAL(call0(&f, RC, power_request("17", "343"), prov), 0x803);
    CU_ASSERT_EQUAL(call0(&f, RC, power_request("42", "343"), prov), 0x803);
    CU_ASSERT_EQUAL(call0(&f, RC, power_request("18x", "343"), prov), 0x24);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_ON);

    CU_ASSERT_EQUAL(call0(&f, RC, power_request("18", "343"), prov), 0);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_OFF);
    CU_ASSERT_EQUAL(call(&f, RC, request(RC, "GetSystemPowerState"), prov, &rep), 0);
    CU_ASSERT_STRING_EQUAL(out(&rep, NULL, "SystemPowerState", buf, sizeof(buf)), "5");
    reply_free(&rep);
    CU_ASSERT_EQUAL(call0(&f, RC, power_request("18", "343"), prov), 0x803);
    CU_ASSERT_EQUAL(call0(&f, RC, power_request("16", "343"), prov), 0x803);
    CU_ASSERT_EQUAL(call0(&f, RC, power_request("19", "343"), prov), 0x803);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_OFF);
    CU_ASSERT_EQUAL(call0(&f, RC, power_request("17", "343"), prov), 0);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_ON);
    CU_ASSERT_EQUAL(call(&f, RC, request(RC, "GetSystemPowerState"), prov, &rep), 0);
    CU_ASSERT_STRING_EQUAL(out(&rep, NULL, "SystemPowerState", buf, sizeof(buf)), "0");
    reply_free(&rep);
    sim_device_free(f.dev);
}

static void
test_no_soap_on_a_wsman_only_version(void)
{
    struct fixture f;
    struct reply rep;

    fixture_new(&f, "12.0");
    send_msg(&f, SA, request(SA, "GetCoreVersion"), prov, &rep);
    CU_ASSERT_EQUAL(rep.http, 404);
    CU_ASSERT_PTR_NULL(rep.doc);
    reply_free(&rep);
    send_msg(&f, NA, request(NA, "SetHostName"), prov, &rep);
    CU_ASSERT_EQUAL(rep.http, 404);
    reply_free(&rep);
    CU_ASSERT_PTR_NULL(sim_device_host_name(f.dev));
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_SETUP);
    sim_device_free(f.dev);

    /* the last version with SOAP still has it */
    fixture_new(&f, "8.1");
    CU_ASSERT_EQUAL(call_no_params(&f, SA, "GetCoreVersion", prov), 0);
    sim_device_free(f.dev);
}

#define NA_PATH "/NetworkAdministrationService"
#define NA_NS NS_BASE "NetworkAdministration/2004/01"
#define SET_HOST(ns)                                                                     \
    "<SetHostName xmlns=\"" ns "\"><HostName>evil</HostName></SetHostName>"

static void
test_hostile_requests_are_faults_and_change_nothing(void)
{
    static const struct {
        const char *what, *action, *body;
    } cases[] = {
        {"malformed", NA_NS "#SetHostName",
         SOAPLITE("<SetHostName xmlns=\"" NA_NS "\">")},
        {"doctype", NA_NS "#SetHostName",
         "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"evil\">]>"
         "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
         "<soap:Body>" SET_HOST(NA_NS) "</soap:Body></soap:Envelope>"},
        {"entity", NA_NS "#SetHostName",
         SOAPLITE("<SetHostName xmlns=\"" NA_NS
                  "\"><HostName>&e;</HostName></SetHostName>")},
        {"empty", NA_NS "#SetHostName", ""},
        {"SOAP 1.2 envelope", NA_NS "#SetHostName",
         "<s:Envelope "
         "xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>" SET_HOST(
             NA_NS) "</s:Body></s:Envelope>"},
        {"two calls", NA_NS "#SetHostName", SOAPLITE(SET_HOST(NA_NS) SET_HOST(NA_NS))},
        {"wrong namespace", NS_BASE "SecurityAdministration/2004/01#SetHostName",
         SOAPLITE(SET_HOST(NS_BASE "SecurityAdministration/2004/01"))},
        {"newer namespace", NS_BASE "NetworkAdministration/2006/01#SetHostName",
         SOAPLITE(SET_HOST(NS_BASE "NetworkAdministration/2006/01"))},
        {"no namespace", "#SetHostName",
         SOAPLITE("<SetHostName><HostName>evil</HostName></SetHostName>")},
        {"unknown method", NA_NS "#SetHostNameNow",
         SOAPLITE("<SetHostNameNow xmlns=\"" NA_NS "\"><HostName>evil</HostName>"
                  "</SetHostNameNow>")},
        {"SOAPAction mismatch", NA_NS "#SetDomainName", SOAPLITE(SET_HOST(NA_NS))},
        {"SOAPAction of another service",
         NS_BASE "SecurityAdministration/2004/01#SetHostName", SOAPLITE(SET_HOST(NA_NS))},
    };
    struct fixture f;
    struct reply rep;

    fixture_new(&f, "4.0");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        post_raw(&f, NA_PATH, cases[i].action, cases[i].body, prov, &rep);
        if (rep.http != 500)
            fprintf(stderr, "case \"%s\": HTTP %d\n", cases[i].what, rep.http);
        assert_fault(&rep);
        reply_free(&rep);
    }
    /* a header we are told we must understand, and do not */
    post_raw(
        &f, NA_PATH, NA_NS "#SetHostName",
        "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
        "<soap:Header><x:Tx xmlns:x=\"urn:x\" soap:mustUnderstand=\"1\"/></soap:Header>"
        "<soap:Body>" SET_HOST(NA_NS) "</soap:Body></soap:Envelope>",
        prov, &rep);
    CU_ASSERT_EQUAL(rep.http, 500);
    CU_ASSERT_EQUAL(rep.r.fault, SOAP_FAULT_MUST_UNDERSTAND);
    reply_free(&rep);
    CU_ASSERT_PTR_NULL(sim_device_host_name(f.dev));
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_SETUP);

    /* the same call well formed goes through: the refusals above were the input's */
    post_raw(&f, NA_PATH, NA_NS "#SetHostName", SOAPLITE(SET_HOST(NA_NS)), prov, &rep);
    CU_ASSERT_EQUAL(rep.http, 200);
    CU_ASSERT_EQUAL(rep.r.status, 0);
    reply_free(&rep);
    CU_ASSERT_STRING_EQUAL(sim_device_host_name(f.dev), "evil");
    sim_device_free(f.dev);
}

static void
test_parameter_values_are_checked(void)
{
    static const char *const bad_times[] = {"12abc", "-5",         "+5", "0x10",
                                            "",      "4294967296", "0"};
    struct fixture f;
    struct reply rep;
    struct soap_msg *m;
    xmlNodePtr entry;

    fixture_new(&f, "4.0");
    for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++)
        CU_ASSERT_EQUAL(set_time(&f, bad_times[i], prov), 0x24);
    m = request(NT, "SetLowAccuracyTimeSynch");
    add(m, NULL, "Time", "1700000000");
    add(m, NULL, "Time", "1800000000");
    CU_ASSERT_EQUAL(call0(&f, NT, m, prov), 0x24);
    CU_ASSERT_EQUAL(call_no_params(&f, NT, "SetLowAccuracyTimeSynch", prov), 0x24);

    CU_ASSERT_EQUAL(set_name(&f, "SetHostName", "HostName", "pc1.contoso.com", prov),
                    0xc);
    /* a value is text, not a structure that happens to hold text */
    post_raw(&f, NA_PATH, NA_NS "#SetHostName",
             SOAPLITE("<SetHostName xmlns=\"" NA_NS "\"><HostName><b>x</b>pc1</HostName>"
                      "</SetHostName>"),
             prov, &rep);
    CU_ASSERT_EQUAL(rep.r.status, 0xc);
    reply_free(&rep);
    CU_ASSERT_PTR_NULL(sim_device_host_name(f.dev));
    CU_ASSERT_EQUAL(set_name(&f, "SetDomainName", "DomainName", "contoso..com", prov),
                    0x1c);

    /* a digest password is exactly 16 bytes of base64 */
    m = request(SA, "SetAdminAclEntryEx");
    entry = add(m, NULL, "EntryEx", NULL);
    add(m, entry, "Username", "admin");
    add(m, entry, "DigestPassword", "AAECAwQFBgcICQoLDA0O");
    CU_ASSERT_EQUAL(call0(&f, SA, m, prov), 0x24);
    m = request(SA, "SetAdminAclEntryEx");
    entry = add(m, NULL, "EntryEx", NULL);
    add(m, entry, "Username", "admin");
    add(m, entry, "DigestPassword", "AAECAwQF=gcICQoLDA0ODw==");
    CU_ASSERT_EQUAL(call0(&f, SA, m, prov), 0x24);
    CU_ASSERT_EQUAL(set_tls_enabled(&f, "yes"), 0x24);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_SETUP);
    CU_ASSERT(llabs((long long)(sim_device_time(f.dev) - (int64_t)time(NULL))) < 5);
    sim_device_free(f.dev);
}

static void
test_amttool_requests(void)
{
    struct fixture f;
    struct reply rep;
    char buf[128];
    xmlNodePtr desc, ipv4;

    fixture_new(&f, "4.0.3");
    provision(&f);

    post_raw(&f, "/SecurityAdministrationService",
             NS_BASE "SecurityAdministration/2004/01#GetCoreVersion",
             SOAPLITE("<GetCoreVersion xmlns=\"" NS_BASE
                      "SecurityAdministration/2004/01\" xsi:nil=\"true\" />"),
             prov, &rep);
    CU_ASSERT_EQUAL(rep.http, 200);
    CU_ASSERT_EQUAL(rep.parse, 0);
    CU_ASSERT_EQUAL(rep.r.status, 0);
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 0), "StatusCode");
    CU_ASSERT_STRING_EQUAL(out(&rep, NULL, "Version", buf, sizeof(buf)), "4.0.3");
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 1), "Version");
    reply_free(&rep);

    post_raw(&f, "/RemoteControlService",
             NS_BASE "RemoteControl/2004/01#GetRemoteControlCapabilities",
             SOAPLITE("<GetRemoteControlCapabilities xmlns=\"" NS_BASE
                      "RemoteControl/2004/01\" xsi:nil=\"true\" />"),
             prov, &rep);
    CU_ASSERT_EQUAL(rep.r.status, 0);
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 1), "IanaOemNumber");
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 2), "OemDefinedCapabilities");
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 3), "SpecialCommandsSupported");
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 4), "SystemCapabilitiesSupported");
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 5), "SystemFirmwareCapabilities");
    CU_ASSERT_STRING_EQUAL(out(&rep, NULL, "IanaOemNumber", buf, sizeof(buf)), "343");
    reply_free(&rep);

    post_raw(&f, "/NetworkAdministrationService", NA_NS "#EnumerateInterfaces",
             SOAPLITE("<EnumerateInterfaces xmlns=\"" NA_NS "\" xsi:nil=\"true\" />"),
             prov, &rep);
    CU_ASSERT_EQUAL(rep.r.status, 0);
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 1), "InterfaceHandles");
    CU_ASSERT_STRING_EQUAL(out(&rep, NULL, "InterfaceHandles", buf, sizeof(buf)), "0");
    reply_free(&rep);

    post_raw(&f, "/NetworkAdministrationService", NA_NS "#GetInterfaceSettings",
             SOAPLITE("<GetInterfaceSettings xmlns=\"" NA_NS
                      "\"><InterfaceHandle>0</InterfaceHandle></GetInterfaceSettings>"),
             prov, &rep);
    CU_ASSERT_EQUAL(rep.r.status, 0);
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 1), "InterfaceDescriptor");
    desc = soap_reply_get_at(&rep.r, 1);
    ipv4 = xmlsafe_child(desc, NULL, "IPv4Parameters");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ipv4);
    /* amttool prints LocalAddress / 2^24 first: 127.0.0.2 */
    CU_ASSERT_STRING_EQUAL(out(&rep, ipv4, "LocalAddress", buf, sizeof(buf)),
                           "2130706434");
    CU_ASSERT_STRING_EQUAL(out(&rep, ipv4, "SubnetMask", buf, sizeof(buf)), "4278190080");
    CU_ASSERT_STRING_EQUAL(out(&rep, desc, "InterfaceMode", buf, sizeof(buf)),
                           "SHARED_MAC_ADDRESS");
    CU_ASSERT_STRING_EQUAL(out(&rep, desc, "MACAddress", buf, sizeof(buf)),
                           "02-78-9a-bc-de-f0");
    CU_ASSERT_STRING_EQUAL(out(&rep, desc, "DhcpEnabled", buf, sizeof(buf)), "true");
    reply_free(&rep);

    post_raw(&f, "/NetworkAdministrationService", NA_NS "#GetInterfaceSettings",
             SOAPLITE("<GetInterfaceSettings xmlns=\"" NA_NS
                      "\"><InterfaceHandle>1</InterfaceHandle></GetInterfaceSettings>"),
             prov, &rep);
    CU_ASSERT_EQUAL(rep.r.status, 0x805);
    reply_free(&rep);

    /* amttool powerdown: OEMparameters and SpecialCommand ride along */
    post_raw(
        &f, "/RemoteControlService", NS_BASE "RemoteControl/2004/01#RemoteControl",
        SOAPLITE("<RemoteControl xmlns=\"" NS_BASE "RemoteControl/2004/01\">"
                 "<Command>18</Command><IanaOemNumber>343</IanaOemNumber>"
                 "<SpecialCommand>193</SpecialCommand><OEMparameters>1</OEMparameters>"
                 "</RemoteControl>"),
        prov, &rep);
    CU_ASSERT_EQUAL(rep.r.status, 0);
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 0), "StatusCode");
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 1), "<none>");
    reply_free(&rep);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_OFF);
    post_raw(&f, "/RemoteControlService",
             NS_BASE "RemoteControl/2004/01#GetSystemPowerState",
             SOAPLITE("<GetSystemPowerState xmlns=\"" NS_BASE
                      "RemoteControl/2004/01\" xsi:nil=\"true\" />"),
             prov, &rep);
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 1), "SystemPowerState");
    CU_ASSERT_STRING_EQUAL(out(&rep, NULL, "SystemPowerState", buf, sizeof(buf)), "5");
    reply_free(&rep);
    sim_device_free(f.dev);
}

static struct soap_msg *
user_entry(struct fixture *f, const char *user, const char *perm,
           const char *const *realms, size_t n)
{
    struct soap_msg *m = request(SA, "AddUserAclEntryEx");
    xmlNodePtr entry = add(m, NULL, "EntryEx", NULL);
    xmlNodePtr digest = add(m, entry, "DigestEntry", NULL), list;
    char *pw = ha1_b64(f, user, GOOD_PASSWORD);

    add(m, digest, "DigestUsername", user);
    add(m, digest, "DigestPassword", pw);
    add(m, entry, "AccessPermission", perm);
    list = add(m, entry, "Realms", NULL);
    for (size_t i = 0; i < n; i++)
        add(m, list, "Realm", realms[i]);
    free(pw);
    return m;
}

static void
test_user_acl_entries_map_realms_to_rights(void)
{
    static const char *const console[] = {"5", "13"};
    static const char *const bogus[] = {"5", "99"};
    static const char *const unmodelled[] = {"6"};
    struct fixture f;
    struct reply rep;
    unsigned char ha1[16], want[16];
    unsigned rights = 0;
    char buf[16];

    fixture_new(&f, "4.0");
    provision(&f);
    CU_ASSERT_EQUAL(call(&f, SA,
                         user_entry(&f, "console", "NetworkAccessPermission", console, 2),
                         prov, &rep),
                    0);
    CU_ASSERT_STRING_EQUAL(out(&rep, NULL, "Handle", buf, sizeof(buf)), "0");
    reply_free(&rep);
    CU_ASSERT_EQUAL(sim_device_user_ha1(f.dev, "console", ha1, &rights), 0);
    ha1_of("console", sim_device_realm(f.dev), GOOD_PASSWORD, want);
    CU_ASSERT_EQUAL(memcmp(ha1, want, 16), 0);
    CU_ASSERT_EQUAL(rights, SIM_RIGHT_REMOTE_CONTROL | SIM_RIGHT_GENERAL_INFO);

    CU_ASSERT_EQUAL(
        call0(&f, SA, user_entry(&f, "console", "AnyAccessPermission", console, 2), prov),
        0x80a);
    CU_ASSERT_EQUAL(
        call0(&f, SA, user_entry(&f, "admin", "AnyAccessPermission", console, 2), prov),
        0x80a);
    CU_ASSERT_EQUAL(
        call0(&f, SA, user_entry(&f, "other", "AnyAccessPermission", bogus, 2), prov),
        0x807);
    CU_ASSERT_EQUAL(call0(&f, SA,
                          user_entry(&f, "other", "AnyAccessPermission", unmodelled, 1),
                          prov),
                    0x807);
    CU_ASSERT_EQUAL(
        call0(&f, SA, user_entry(&f, "other", "AnyAccessPermission", console, 0), prov),
        0x24);
    CU_ASSERT_EQUAL(
        call0(&f, SA, user_entry(&f, "other", "RemoteAccess", console, 2), prov), 0x24);
    CU_ASSERT_EQUAL(sim_device_acl_count(f.dev), 1);
    sim_device_free(f.dev);
}

static void
test_unprovision(void)
{
    struct fixture f;
    struct soap_msg *m;

    fixture_new(&f, "4.0");
    CU_ASSERT_EQUAL(call_no_params(&f, SA, "Unprovision", prov), 0x20);
    provision(&f);
    m = request(SA, "Unprovision");
    add(m, NULL, "ProvisioningMode", "7");
    CU_ASSERT_EQUAL(call0(&f, SA, m, prov), 0x24);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_PROVISIONED);
    m = request(SA, "Unprovision");
    add(m, NULL, "ProvisioningMode", "1");
    CU_ASSERT_EQUAL(call0(&f, SA, m, prov), 0);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_SETUP);
    CU_ASSERT_PTR_NULL(sim_device_host_name(f.dev));
    CU_ASSERT_FALSE(sim_device_tls_enabled(f.dev));
    sim_device_free(f.dev);
}

static void
test_settings_kept_under_phase2_prefix(void)
{
    struct fixture f;
    struct reply rep;
    struct soap_msg *m;
    xmlNodePtr desc, ipv4;
    char buf[64];

    fixture_new(&f, "4.0");
    /* amttool netconf 0 1 192.168.1.10 255.255.255.0 192.168.1.1 */
    m = request(NA, "SetInterfaceSettings");
    add(m, NULL, "InterfaceHandle", "0");
    desc = add(m, NULL, "InterfaceDescriptor", NULL);
    add(m, desc, "InterfaceMode", "SEPARATE_MAC_ADDRESS");
    add(m, desc, "LinkPolicy", "1");
    ipv4 = add(m, desc, "IPv4Parameters", NULL);
    add(m, ipv4, "LocalAddress", "3232235786");
    add(m, ipv4, "SubnetMask", "4294967040");
    add(m, ipv4, "DefaultGatewayAddress", "3232235777");
    add(m, ipv4, "PrimaryDnsAddress", "3232235777");
    add(m, ipv4, "SecondaryDnsAddress", "0");
    CU_ASSERT_EQUAL(call0(&f, NA, m, prov), 0);

    m = request(NA, "SetInterfaceSettings");
    add(m, NULL, "InterfaceHandle", "0");
    desc = add(m, NULL, "InterfaceDescriptor", NULL);
    add(m, desc, "InterfaceMode", "SEPARATE_MAC_ADDRESS");
    add(m, desc, "LinkPolicy", "1");
    ipv4 = add(m, desc, "IPv4Parameters", NULL);
    add(m, ipv4, "LocalAddress", "3232235786");
    add(m, ipv4, "SubnetMask", "4278255360");
    add(m, ipv4, "DefaultGatewayAddress", "0");
    add(m, ipv4, "PrimaryDnsAddress", "0");
    add(m, ipv4, "SecondaryDnsAddress", "0");
    CU_ASSERT_EQUAL(call0(&f, NA, m, prov), 0x25);
    m = request(NA, "SetInterfaceSettings");
    add(m, NULL, "InterfaceHandle", "0");
    desc = add(m, NULL, "InterfaceDescriptor", NULL);
    add(m, desc, "InterfaceMode", "SEPARATE_MAC_ADDRESS");
    add(m, desc, "LinkPolicy", "1");
    ipv4 = add(m, desc, "IPv4Parameters", NULL);
    add(m, ipv4, "LocalAddress", "0");
    add(m, ipv4, "SubnetMask", "4294967040");
    add(m, ipv4, "DefaultGatewayAddress", "0");
    add(m, ipv4, "PrimaryDnsAddress", "0");
    add(m, ipv4, "SecondaryDnsAddress", "0");
    CU_ASSERT_EQUAL(call0(&f, NA, m, prov), 0x1b);

    m = request(SA, "SetTrustedFqdnCN");
    add(m, NULL, "FqdnSuffix", "contoso.com");
    add(m, NULL, "FqdnSuffix", "fabrikam.com");
    CU_ASSERT_EQUAL(call0(&f, SA, m, prov), 0);
    m = request(SA, "SetTrustedFqdnCN");
    add(m, NULL, "FqdnSuffix", "bad_name.com");
    CU_ASSERT_EQUAL(call0(&f, SA, m, prov), 0x1c);

    m = request(SA, "SetKerberosOptions");
    desc = add(m, NULL, "KerberosOptions", NULL);
    add(m, desc, "KerberosRealmName", "CONTOSO.COM");
    add(m, desc, "KerberosMasterKey", "AAECAwQFBgcICQoLDA0ODw==");
    CU_ASSERT_EQUAL(call0(&f, SA, m, prov), 0);
    CU_ASSERT_TRUE(sim_device_switch(f.dev, SIM_SWITCH_KERBEROS));

    fixture_reopen(&f);
    CU_ASSERT_STRING_EQUAL(
        sim_flash_get(sim_device_flash(f.dev), "p2.soap.trusted-fqdn-cn"),
        "contoso.com,fabrikam.com");
    CU_ASSERT_STRING_EQUAL(
        sim_flash_get(sim_device_flash(f.dev), "p2.soap.kerberos.realm"), "CONTOSO.COM");
    CU_ASSERT_EQUAL(call(&f, NA, request(NA, "GetInterfaceSettings"), prov, &rep), 0x24);
    reply_free(&rep);
    m = request(NA, "GetInterfaceSettings");
    add(m, NULL, "InterfaceHandle", "0");
    CU_ASSERT_EQUAL(call(&f, NA, m, prov, &rep), 0);
    desc = soap_reply_get_at(&rep.r, 1);
    ipv4 = xmlsafe_child(desc, NULL, "IPv4Parameters");
    CU_ASSERT_STRING_EQUAL(out(&rep, desc, "InterfaceMode", buf, sizeof(buf)),
                           "SEPARATE_MAC_ADDRESS");
    CU_ASSERT_STRING_EQUAL(out(&rep, ipv4, "LocalAddress", buf, sizeof(buf)),
                           "3232235786");
    CU_ASSERT_STRING_EQUAL(out(&rep, desc, "DhcpEnabled", buf, sizeof(buf)), "false");
    reply_free(&rep);
    CU_ASSERT_EQUAL(call(&f, SA, request(SA, "GetTrustedFqdnCN"), prov, &rep), 0);
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 1), "FqdnSuffix");
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 2), "FqdnSuffix");
    reply_free(&rep);

    /* Kerberos off again without options */
    CU_ASSERT_EQUAL(call_no_params(&f, SA, "SetKerberosOptions", prov), 0);
    CU_ASSERT_FALSE(sim_device_switch(f.dev, SIM_SWITCH_KERBEROS));
    sim_device_free(f.dev);
}

static void
test_discovery_replies(void)
{
    struct fixture f;
    struct reply rep;
    char buf[128];

    fixture_new(&f, "5.0");
    CU_ASSERT_EQUAL(call(&f, GI, request(GI, "GetCodeVersions"), prov, &rep), 0);
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 1), "BiosVersion");
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 2), "CodeVersions");
    CU_ASSERT_STRING_EQUAL(
        out(&rep, soap_reply_get_at(&rep.r, 2), "Version", buf, sizeof(buf)), "5.0.0");
    reply_free(&rep);
    CU_ASSERT_EQUAL(call(&f, SA, request(SA, "GetDigestRealm"), prov, &rep), 0);
    CU_ASSERT_STRING_EQUAL(out(&rep, NULL, "Realm", buf, sizeof(buf)),
                           sim_device_realm(f.dev));
    reply_free(&rep);
    CU_ASSERT_EQUAL(call(&f, SA, request(SA, "GetPkiCapabilities"), prov, &rep), 0);
    CU_ASSERT_STRING_EQUAL(name_at(&rep, 1), "PkiCaps");
    reply_free(&rep);
    CU_ASSERT_EQUAL(call(&f, SA, request(SA, "GetProvisioningMode"), prov, &rep), 0);
    CU_ASSERT_STRING_EQUAL(out(&rep, NULL, "ProvisioningMode", buf, sizeof(buf)), "1");
    reply_free(&rep);
    CU_ASSERT_FALSE(sim_soap_path("/wsman"));
    CU_ASSERT_FALSE(sim_soap_path("/RedirectionService"));
    CU_ASSERT_FALSE(sim_soap_path("/SecurityAdministrationServiceX"));
    CU_ASSERT_TRUE(sim_soap_path("/GeneralInfoService"));
    sim_device_free(f.dev);
}

static void
test_events_name_calls_and_keep_secrets_out(void)
{
    struct fixture f;
    char *log, *digest, *otp, *key = key_b64("device", KEY_PKCS8), slice[33];

    fixture_new(&f, "4.0");
    CU_ASSERT_EQUAL(sim_device_set_otp(f.dev, OTP_TEXT), 0);
    CU_ASSERT_EQUAL(call_no_params(&f, SA, "GetProvisioningServerOTP", prov), 0);
    provision(&f);
    CU_ASSERT_EQUAL(set_mebx(&f, "x", prov), 0x20);
    digest = ha1_b64(&f, "admin", GOOD_PASSWORD);
    otp = b64((const unsigned char *)OTP_TEXT, strlen(OTP_TEXT));
    sim_device_free(f.dev);

    log = (char *)unit_read_file(events_path, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(log,
                                  "\"id\":\"X-sim.soap\",\"result\":\"ok\",\"detail\":"
                                  "{\"service\":\"NetworkAdministration\",\"method\":"
                                  "\"SetHostName\",\"http\":200,\"status\":0}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(log,
                                  "\"id\":\"X-sim.soap\",\"result\":\"fail\",\"detail\":"
                                  "{\"service\":\"SecurityAdministration\",\"method\":"
                                  "\"SetMEBxPassword\",\"http\":200,\"status\":32,"
                                  "\"reason\":\"invalid-provisioning-state\"}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"method\":\"CommitChanges\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"id\":\"IB-10.6\",\"result\":\"ok\""));
    CU_ASSERT_PTR_NULL(strstr(log, GOOD_PASSWORD));
    CU_ASSERT_PTR_NULL(strstr(log, MEBX_PASSWORD));
    CU_ASSERT_PTR_NULL(strstr(log, OTP_TEXT));
    CU_ASSERT_PTR_NULL(strstr(log, otp));
    CU_ASSERT_PTR_NULL(strstr(log, digest));
    /* any stretch of the key's base64 would betray it */
    snprintf(slice, sizeof(slice), "%s", key + 200);
    CU_ASSERT_PTR_NULL(strstr(log, slice));
    free(log);
    free(digest);
    free(otp);
    free(key);
}

static void
test_fault_event_and_plain_answers(void)
{
    struct fixture f;
    struct reply rep;
    struct sim_request req;
    struct sim_response resp;
    char *log;

    fixture_new(&f, "4.0");
    post_raw(&f, NA_PATH, NA_NS "#Nope", SOAPLITE("<Nope xmlns=\"" NA_NS "\"/>"), prov,
             &rep);
    assert_fault(&rep);
    reply_free(&rep);
    post_raw(&f, NA_PATH, NA_NS "#SetHostName",
             "<!DOCTYPE x><soap:Envelope "
             "xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"/>",
             prov, &rep);
    assert_fault(&rep);
    CU_ASSERT_PTR_NOT_NULL(strstr(rep.r.faultstring, "malformed XML"));
    reply_free(&rep);
    log = (char *)unit_read_file(events_path, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"method\":\"Nope\",\"http\":500,"
                                       "\"reason\":\"unknown-method\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"http\":500,\"reason\":\"xml-doctype\""));
    free(log);

    memset(&req, 0, sizeof(req));
    req.dev = f.dev;
    req.method = "GET";
    req.path = NA_PATH;
    req.body = "";
    CU_ASSERT_EQUAL(sim_soap_handle(&req, &resp), 0);
    CU_ASSERT_EQUAL(resp.status, 405);
    free(resp.body);
    req.method = "POST";
    req.path = "/EventManagerService";
    CU_ASSERT_EQUAL(sim_soap_handle(&req, &resp), 0);
    CU_ASSERT_EQUAL(resp.status, 404);
    free(resp.body);
    sim_device_free(f.dev);
}

static int
suite_init(void)
{
    if (mkdtemp(tmp_root) == NULL || keypool_new(2048, &keys) != 0 ||
        keypool_fill(keys, 2) != 0 || clock_new_virtual(0, &vclock) != 0)
        return -1;
    snprintf(events_path, sizeof(events_path), "%s/events.jsonl", tmp_root);
    return evlog_open(events_path, &events) == 0 ? 0 : -1;
}

static int
suite_clean(void)
{
    char cmd[300];

    evlog_free(events);
    clock_free(vclock);
    keypool_free(keys);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

static CU_TestInfo soap_tests[] = {
    {"phase 1 reaches provisioned and persists",
     test_phase1_reaches_provisioned_and_persists},
    {"first change moves to in-provisioning", test_first_change_moves_to_in_provisioning},
    {"TLS key and certificate refusals", test_tls_key_and_certificate_refusals},
    {"weak MEBx password refused", test_weak_mebx_password_refused},
    {"setup changes need the provisioning session",
     test_setup_changes_need_the_provisioning_session},
    {"provisioning-only methods after commit",
     test_provisioning_only_methods_after_commit},
    {"rights are checked", test_rights_are_checked},
    {"remote control commands", test_remote_control_commands},
    {"no SOAP on a WS-Management-only version", test_no_soap_on_a_wsman_only_version},
    {"hostile requests are faults and change nothing",
     test_hostile_requests_are_faults_and_change_nothing},
    {"parameter values are checked", test_parameter_values_are_checked},
    {"amttool requests", test_amttool_requests},
    {"user ACL entries map realms to rights", test_user_acl_entries_map_realms_to_rights},
    {"unprovision", test_unprovision},
    {"settings kept under the phase 2 prefix", test_settings_kept_under_phase2_prefix},
    {"discovery replies", test_discovery_replies},
    {"events name calls and keep secrets out",
     test_events_name_calls_and_keep_secrets_out},
    {"fault event and plain answers", test_fault_event_and_plain_answers},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"sim_soap", suite_init, suite_clean, NULL, NULL, soap_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_sim_soap", suites);
}
