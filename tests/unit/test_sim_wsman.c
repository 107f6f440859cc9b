/*
 * The simulator's WS-Management service, driven through sim_wsman_handle as the
 * HTTP front calls it: phase 2 (OOB-8) on a 4.0 device and what survives a restart;
 * the same on 3.2.1 where 802.1X, wireless and audit are faults; no /wsman on 2.5;
 * every DSP0226 fault kind; rights; the provisioning state rule; enumeration
 * paging; power; hostile input; certificates and 802.1X rules; secrets kept out of
 * the event log.
 */
#include "clock.h"
#include "device.h"
#include "err.h"
#include "evlog.h"
#include "json.h"
#include "services.h"
#include "unit.h"
#include "wsman.h"
#include "wsman_classes.h"
#include "xmlsafe.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TO "http://127.0.0.2:16993/wsman"
#define GOOD_PASSWORD "P@ssw0rd-Strong1"
#define OTHER_PASSWORD "0ther-P@ssword9"
#define WIFI_SETTINGS_URI WSMAN_CIM_URI_PREFIX "CIM_WiFiEndpointSettings"
#define IEEE_SETTINGS_URI WSMAN_CIM_URI_PREFIX "CIM_IEEE8021xSettings"
#define CERT_ID "Intel(r) AMT Certificate: Handle: "
#define SCHEME_5 "Intel(r) AMT:PowerScheme 5"
/* secrets sent in the tests, which no event may carry */
#define EAP_SECRET "Eap-S3cret-Word"
#define PSK_SECRET "Psk-Phrase-Secret-42"

static char tmp_root[] = "/tmp/test_sim_wsman.XXXXXX";
static unsigned dir_counter;
static struct amt_clock *vclock;
static struct evlog *events;
static char events_path[300];
/* base64 DER certificates made once: two leaves, a CA, a 3072-bit CA */
static char *client_b64, *ca_b64, *big_ca_b64, *client2_b64;

struct caller {
    const char *user;
    unsigned rights;
    bool provisioning;
};

static const struct caller admin = {"admin", SIM_RIGHT_ADMIN, false};
static const struct caller provisioner = {"admin", SIM_RIGHT_ADMIN, true};

struct fixture {
    char dir[256];
    struct sim_device_config cfg;
    struct sim_env env;
    struct sim_device *dev;
};

struct reply {
    int status;
    const char *content_type;
    char *text;
    xmlDocPtr doc;
    struct wsman_reply r;
    int parse; /* what wsman_reply_parse said */
};

/* ------------------------------------------------------------ fixtures */

static void
fixture_config(struct fixture *f, const char *version)
{
    char uuid[40];

    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "%s/dev%u", tmp_root, dir_counter);
    snprintf(uuid, sizeof(uuid), "12345678-9abc-def0-1234-%012u", dir_counter++);
    CU_ASSERT_EQUAL_FATAL(uuid_parse(uuid, &f->cfg.uuid), 0);
    CU_ASSERT_EQUAL_FATAL(sim_profile_from_text(version, &f->cfg.profile), 0);
    strcpy(f->cfg.listen, "127.0.0.2");
    f->cfg.flash_dir = f->dir;
    f->cfg.dhcp_domain = "contoso.com";
    f->env.events = events;
    f->env.clock = vclock;
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
fixture_free(struct fixture *f)
{
    sim_wsman_forget_device(f->dev);
    sim_device_free(f->dev);
    f->dev = NULL;
}

static void
fixture_reopen(struct fixture *f)
{
    fixture_free(f);
    fixture_open(f);
}

static void
provision(struct fixture *f)
{
    CU_ASSERT_EQUAL_FATAL(sim_device_set_time(f->dev, 1700000000), 0);
    CU_ASSERT_EQUAL_FATAL(sim_device_set_host_name(f->dev, "pc1"), 0);
    CU_ASSERT_EQUAL_FATAL(sim_device_set_domain_name(f->dev, "contoso.com"), 0);
    CU_ASSERT_EQUAL_FATAL(sim_device_set_tls_enabled(f->dev, true), 0);
    CU_ASSERT_EQUAL_FATAL(sim_device_set_admin_password(f->dev, "admin", GOOD_PASSWORD),
                          0);
    CU_ASSERT_EQUAL_FATAL(sim_device_commit(f->dev), 0);
}

static void
provisioned_device(struct fixture *f, const char *version)
{
    fixture_config(f, version);
    fixture_open(f);
    provision(f);
}

/* ------------------------------------------------------------ requests */

static void
reply_free(struct reply *r)
{
    xmlFreeDoc(r->doc);
    free(r->text);
    memset(r, 0, sizeof(*r));
}

static void
send_text(struct fixture *f, const struct caller *who, const char *text, size_t len,
          struct reply *out)
{
    struct sim_request req;
    struct sim_response resp;

    memset(out, 0, sizeof(*out));
    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    req.dev = f->dev;
    req.method = "POST";
    req.path = "/wsman";
    req.content_type = "application/soap+xml;charset=UTF-8";
    req.body = text;
    req.body_len = len;
    req.user = who->user;
    req.rights = who->rights;
    req.port = 16993;
    req.tls = true;
    req.provisioning_session = who->provisioning;
    CU_ASSERT_EQUAL_FATAL(sim_wsman_handle(&req, &resp), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(resp.body);
    out->status = resp.status;
    out->content_type = resp.content_type;
    out->text = resp.body;
    if (strcmp(resp.content_type, "application/soap+xml;charset=UTF-8") != 0)
        return;
    CU_ASSERT_EQUAL_FATAL(xmlsafe_parse(resp.body, resp.body_len, NULL, &out->doc), 0);
    out->parse = wsman_reply_parse(out->doc, &out->r, NULL, 0);
}

static void
send_msg(struct fixture *f, const struct caller *who, struct wsman_msg *m,
         struct reply *out)
{
    char *text = NULL;
    size_t len = 0;

    CU_ASSERT_EQUAL_FATAL(wsman_msg_text(m, &text, &len), 0);
    wsman_msg_free(m);
    send_text(f, who, text, len, out);
    free(text);
}

static struct wsman_msg *
request(enum wsman_kind kind, const char *class_name, const char *arg)
{
    char uri[WSMAN_URI_MAX];
    struct wsman_msg *m = NULL;

    CU_ASSERT_EQUAL_FATAL(wsman_class_uri(class_name, uri, sizeof(uri)), 0);
    CU_ASSERT_EQUAL_FATAL(wsman_request_new(kind, TO, uri, arg, &m), 0);
    return m;
}

static void
add(struct wsman_msg *m, xmlNodePtr parent, const char *name, const char *value)
{
    CU_ASSERT_EQUAL_FATAL(wsman_msg_add(m, parent, name, value, NULL), 0);
}

/* name/value pairs up to a NULL name */
static void
add_pairs(struct wsman_msg *m, va_list ap)
{
    const char *name, *value;

    while ((name = va_arg(ap, const char *)) != NULL) {
        value = va_arg(ap, const char *);
        add(m, NULL, name, value);
    }
}

static void
epr(struct wsman_msg *m, xmlNodePtr parent, const char *name, const char *class_name,
    const char *sel_name, const char *sel_value)
{
    char uri[WSMAN_URI_MAX];
    xmlNodePtr e, ref, set, s;

    CU_ASSERT_EQUAL_FATAL(wsman_class_uri(class_name, uri, sizeof(uri)), 0);
    CU_ASSERT_EQUAL_FATAL(wsman_msg_add(m, parent, name, NULL, &e), 0);
    CU_ASSERT_EQUAL_FATAL(
        wsman_msg_add_ns(m, e, WSMAN_WSA_NS, "Address", WSMAN_ANONYMOUS, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(
        wsman_msg_add_ns(m, e, WSMAN_WSA_NS, "ReferenceParameters", NULL, &ref), 0);
    CU_ASSERT_EQUAL_FATAL(wsman_msg_add_ns(m, ref, WSMAN_NS, "ResourceURI", uri, NULL),
                          0);
    CU_ASSERT_EQUAL_FATAL(wsman_msg_add_ns(m, ref, WSMAN_NS, "SelectorSet", NULL, &set),
                          0);
    CU_ASSERT_EQUAL_FATAL(wsman_msg_add_ns(m, set, WSMAN_NS, "Selector", sel_value, &s),
                          0);
    xmlNewProp(s, (const xmlChar *)"Name", (const xmlChar *)sel_name);
}

static void
get(struct fixture *f, const struct caller *who, const char *cls, const char *sel_name,
    const char *sel_value, struct reply *out)
{
    struct wsman_msg *m = request(WSMAN_GET, cls, NULL);

    if (sel_name != NULL)
        CU_ASSERT_EQUAL_FATAL(wsman_msg_selector(m, sel_name, sel_value), 0);
    send_msg(f, who, m, out);
}

static void
put(struct fixture *f, const struct caller *who, const char *cls, struct reply *out, ...)
{
    struct wsman_msg *m = request(WSMAN_PUT, cls, NULL);
    va_list ap;

    va_start(ap, out);
    add_pairs(m, ap);
    va_end(ap);
    send_msg(f, who, m, out);
}

static void
invoke(struct fixture *f, const struct caller *who, const char *cls, const char *method,
       const char *sel_name, const char *sel_value, struct reply *out, ...)
{
    struct wsman_msg *m = request(WSMAN_INVOKE, cls, method);
    va_list ap;

    if (sel_name != NULL)
        CU_ASSERT_EQUAL_FATAL(wsman_msg_selector(m, sel_name, sel_value), 0);
    va_start(ap, out);
    add_pairs(m, ap);
    va_end(ap);
    send_msg(f, who, m, out);
}

/* A Delete: the Get request with the transfer action swapped, as lib/wsman.h has none. */
static void
delete_instance(struct fixture *f, const struct caller *who, const char *cls,
                const char *sel_name, const char *sel_value, struct reply *out,
                char *message_id, size_t id_size)
{
    struct wsman_msg *m = request(WSMAN_GET, cls, NULL);
    char *text = NULL, *at, *swapped;
    size_t len = 0;

    if (sel_name != NULL)
        CU_ASSERT_EQUAL_FATAL(wsman_msg_selector(m, sel_name, sel_value), 0);
    if (message_id != NULL)
        snprintf(message_id, id_size, "%s", wsman_msg_message_id(m));
    CU_ASSERT_EQUAL_FATAL(wsman_msg_text(m, &text, &len), 0);
    wsman_msg_free(m);
    at = strstr(text, "transfer/Get<");
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    swapped = malloc(len + 8);
    CU_ASSERT_PTR_NOT_NULL_FATAL(swapped);
    snprintf(swapped, len + 8, "%.*stransfer/Delete<%s", (int)(at - text), text,
             at + strlen("transfer/Get<"));
    send_text(f, who, swapped, strlen(swapped), out);
    free(swapped);
    free(text);
}

/* ------------------------------------------------------------ reading replies */

static const char *
prop(const xmlNode *inst, const char *name, char *buf, size_t size)
{
    xmlNodePtr n = xmlsafe_child(inst, NULL, name);

    if (n == NULL || xmlsafe_text(n, buf, size) != 0)
        return NULL;
    return buf;
}

static long long
prop_num(const xmlNode *inst, const char *name)
{
    char buf[32];

    return prop(inst, name, buf, sizeof(buf)) != NULL ? strtoll(buf, NULL, 10) : -1;
}

static bool
prop_is(const xmlNode *inst, const char *name, const char *want)
{
    char buf[4096];

    return prop(inst, name, buf, sizeof(buf)) != NULL && strcmp(buf, want) == 0;
}

/* The selector text of an EPR property (CreatedCertificate, WiFiEndpointSettings). */
static const char *
epr_value(const xmlNode *inst, const char *name, char *buf, size_t size)
{
    xmlNodePtr e = xmlsafe_child(inst, NULL, name);
    xmlNodePtr ref = xmlsafe_child(e, WSMAN_WSA_NS, "ReferenceParameters");
    xmlNodePtr set = xmlsafe_child(ref, WSMAN_NS, "SelectorSet");

    if (xmlsafe_text(xmlsafe_child(set, WSMAN_NS, "Selector"), buf, size) != 0)
        return NULL;
    return buf;
}

static void
assert_ok(const struct reply *r)
{
    CU_ASSERT_EQUAL(r->status, 200);
    CU_ASSERT_EQUAL(r->parse, 0);
}

static void
assert_fault(const struct reply *r, enum wsman_fault fault, int status)
{
    CU_ASSERT_EQUAL(r->status, status);
    CU_ASSERT_EQUAL(r->parse, AMT_ERR_SOAP_FAULT);
    CU_ASSERT_EQUAL(r->r.fault, fault);
}

static void
assert_rv(const struct reply *r, uint32_t rv)
{
    CU_ASSERT_EQUAL(r->status, 200);
    CU_ASSERT_EQUAL(r->parse, 0);
    CU_ASSERT_EQUAL(r->r.kind, WSMAN_INVOKE);
    CU_ASSERT_EQUAL(r->r.return_value, rv);
}

/* Enumerates cls and pulls everything, max per Pull; copies each item's key. */
static size_t
enumerate_all(struct fixture *f, const struct caller *who, const char *cls,
              const char *key, char (*ids)[160], size_t max_ids, unsigned max)
{
    char context[WSMAN_ID_MAX], num[16];
    struct reply rep;
    size_t n = 0;
    bool end = false;

    send_msg(f, who, request(WSMAN_ENUMERATE, cls, NULL), &rep);
    assert_ok(&rep);
    snprintf(context, sizeof(context), "%s", rep.r.context);
    reply_free(&rep);
    for (int rounds = 0; !end && rounds < 64; rounds++) {
        struct wsman_msg *m = request(WSMAN_PULL, cls, context);

        snprintf(num, sizeof(num), "%u", max);
        add(m, NULL, "MaxElements", num);
        send_msg(f, who, m, &rep);
        assert_ok(&rep);
        if (rep.parse != 0) {
            reply_free(&rep);
            break;
        }
        for (xmlNodePtr it = xmlsafe_child(rep.r.items, NULL, NULL); it != NULL;
             it = xmlsafe_next(it, NULL, NULL))
            if (n < max_ids && prop(it, key, ids[n], sizeof(ids[0])) != NULL)
                n++;
        end = rep.r.end_of_sequence;
        snprintf(context, sizeof(context), "%s", rep.r.context);
        reply_free(&rep);
    }
    CU_ASSERT_TRUE(end);
    return n;
}

/* ------------------------------------------------------------ events */

struct ev_query {
    const char *device, *id, *result, *key, *value;
    size_t count, first_line;
};

static int
ev_match(const struct evlog_event *ev, void *arg)
{
    struct ev_query *q = arg;
    const struct json_value *v;
    const char *s;
    bool b;

    if (strcmp(ev->device, q->device) != 0 || strcmp(ev->id, q->id) != 0 ||
        (q->result != NULL && strcmp(evlog_result_name(ev->result), q->result) != 0))
        return 0;
    if (q->key != NULL) {
        if ((v = json_object_get(ev->detail, q->key)) == NULL)
            return 0;
        if (json_get_string(v, &s, NULL) == 0) {
            if (strcmp(s, q->value) != 0)
                return 0;
        } else if (json_get_bool(v, &b) == 0) {
            if (strcmp(b ? "true" : "false", q->value) != 0)
                return 0;
        } else {
            return 0;
        }
    }
    if (q->count++ == 0)
        q->first_line = ev->line;
    return 0;
}

static struct ev_query
events_of(const struct fixture *f, const char *id, const char *result, const char *key,
          const char *value)
{
    struct ev_query q = {sim_device_uuid_text(f->dev), id, result, key, value, 0, 0};

    CU_ASSERT_EQUAL(evlog_read_file(events_path, ev_match, &q, NULL, NULL, 0), 0);
    return q;
}

static size_t
count_events(const struct fixture *f, const char *id, const char *result, const char *key,
             const char *value)
{
    return events_of(f, id, result, key, value).count;
}

/* ------------------------------------------------------------ test data */

/* A self-signed RSA certificate as base64 DER; NULL on failure (suite set-up). */
static char *
make_cert(int bits, bool ca, const char *cn)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    X509 *x = X509_new();
    X509_EXTENSION *ext = NULL;
    X509V3_CTX ctx;
    unsigned char *der = NULL;
    char *b64 = NULL;
    int len;

    if (key == NULL || x == NULL)
        goto out;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)dir_counter++ + 1000);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_set_pubkey(x, key);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
                                   ca ? "critical,CA:TRUE" : "critical,CA:FALSE")) ==
            NULL ||
        X509_add_ext(x, ext, -1) != 1 || X509_sign(x, key, EVP_sha256()) <= 0 ||
        (len = i2d_X509(x, &der)) <= 0 ||
        (b64 = malloc((size_t)(len + 2) / 3 * 4 + 1)) == NULL)
        goto out;
    EVP_EncodeBlock((unsigned char *)b64, der, len);
out:
    X509_EXTENSION_free(ext);
    OPENSSL_free(der);
    X509_free(x);
    EVP_PKEY_free(key);
    return b64;
}

/* base64 of MD5(user:realm:password), what AddUserAclEntryEx carries */
static void
digest_password(const char *user, const char *realm, const char *password, char out[32])
{
    unsigned char md[16];
    unsigned int len = 0;
    char buf[512];

    snprintf(buf, sizeof(buf), "%s:%s:%s", user, realm, password);
    EVP_Digest(buf, strlen(buf), md, &len, EVP_md5(), NULL);
    EVP_EncodeBlock((unsigned char *)out, md, 16);
}

static int
suite_init(void)
{
    if (mkdtemp(tmp_root) == NULL)
        return -1;
    snprintf(events_path, sizeof(events_path), "%s/events.jsonl", tmp_root);
    if (clock_new_virtual(100.0, &vclock) != 0 || evlog_open(events_path, &events) != 0)
        return -1;
    client_b64 = make_cert(1024, false, "pc1.contoso.com");
    client2_b64 = make_cert(1024, false, "pc1-wired.contoso.com");
    ca_b64 = make_cert(1024, true, "Contoso Root CA");
    big_ca_b64 = make_cert(3072, true, "Contoso Big Root CA");
    return client_b64 && client2_b64 && ca_b64 && big_ca_b64 ? 0 : -1;
}

static int
suite_cleanup(void)
{
    char cmd[400];

    sim_wsman_forget_all();
    evlog_free(events);
    clock_free(vclock);
    free(client_b64);
    free(client2_b64);
    free(ca_b64);
    free(big_ca_b64);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

/* Adds a certificate and returns its InstanceID in id. */
static void
add_cert(struct fixture *f, const char *b64, bool root, char *id, size_t size)
{
    struct reply rep;

    invoke(f, &admin, "AMT_PublicKeyManagementService",
           root ? "AddTrustedRootCertificate" : "AddCertificate", NULL, NULL, &rep,
           "CertificateBlob", b64, NULL);
    assert_rv(&rep, 0);
    CU_ASSERT_PTR_NOT_NULL(epr_value(rep.r.instance, "CreatedCertificate", id, size));
    reply_free(&rep);
}

/* AddWiFiSettings; eap < 0 for a pre-shared key. */
static void
add_wifi(struct fixture *f, const char *name, const char *priority, const char *auth,
         const char *enc, int eap, const char *user, const char *client_id,
         const char *ca_id, struct reply *out)
{
    struct wsman_msg *m =
        request(WSMAN_INVOKE, "AMT_WiFiPortConfigurationService", "AddWiFiSettings");
    xmlNodePtr s, ieee;
    char proto[16];

    epr(m, NULL, "WiFiEndpoint", "CIM_WiFiEndpoint", "Name", "WiFi Endpoint 0");
    CU_ASSERT_EQUAL_FATAL(wsman_msg_add(m, NULL, "WiFiEndpointSettingsInput", NULL, &s),
                          0);
    CU_ASSERT_EQUAL(wsman_msg_add_ns(m, s, WIFI_SETTINGS_URI, "ElementName", name, NULL),
                    0);
    CU_ASSERT_EQUAL(wsman_msg_add_ns(m, s, WIFI_SETTINGS_URI, "Priority", priority, NULL),
                    0);
    CU_ASSERT_EQUAL(wsman_msg_add_ns(m, s, WIFI_SETTINGS_URI, "SSID", "corpnet", NULL),
                    0);
    CU_ASSERT_EQUAL(
        wsman_msg_add_ns(m, s, WIFI_SETTINGS_URI, "AuthenticationMethod", auth, NULL), 0);
    CU_ASSERT_EQUAL(
        wsman_msg_add_ns(m, s, WIFI_SETTINGS_URI, "EncryptionMethod", enc, NULL), 0);
    if (eap < 0) {
        CU_ASSERT_EQUAL(
            wsman_msg_add_ns(m, s, WIFI_SETTINGS_URI, "PSKPassPhrase", PSK_SECRET, NULL),
            0);
    } else {
        CU_ASSERT_EQUAL_FATAL(
            wsman_msg_add(m, NULL, "IEEE8021xSettingsInput", NULL, &ieee), 0);
        snprintf(proto, sizeof(proto), "%d", eap);
        CU_ASSERT_EQUAL(wsman_msg_add_ns(m, ieee, IEEE_SETTINGS_URI,
                                         "AuthenticationProtocol", proto, NULL),
                        0);
        if (user != NULL)
            CU_ASSERT_EQUAL(
                wsman_msg_add_ns(m, ieee, IEEE_SETTINGS_URI, "Username", user, NULL), 0);
        if (eap != 0)
            CU_ASSERT_EQUAL(wsman_msg_add_ns(m, ieee, IEEE_SETTINGS_URI, "Password",
                                             EAP_SECRET, NULL),
                            0);
        if (client_id != NULL)
            epr(m, NULL, "ClientCredential", "AMT_PublicKeyCertificate", "InstanceID",
                client_id);
        if (ca_id != NULL)
            epr(m, NULL, "CACredential", "AMT_PublicKeyCertificate", "InstanceID", ca_id);
    }
    send_msg(f, &admin, m, out);
}

static void
put_8021x(struct fixture *f, const char *enabled, const char *protocol, const char *user,
          const char *domain, bool password, const char *client_id, const char *ca_id,
          struct reply *out)
{
    struct wsman_msg *m = request(WSMAN_PUT, "AMT_8021XProfile", NULL);

    add(m, NULL, "ElementName", "Intel(r) AMT 802.1X Profile");
    add(m, NULL, "Enabled", enabled);
    if (protocol != NULL)
        add(m, NULL, "AuthenticationProtocol", protocol);
    if (user != NULL)
        add(m, NULL, "Username", user);
    if (domain != NULL)
        add(m, NULL, "Domain", domain);
    if (password)
        add(m, NULL, "Password", EAP_SECRET);
    if (client_id != NULL)
        epr(m, NULL, "ClientCertificate", "AMT_PublicKeyCertificate", "InstanceID",
            client_id);
    if (ca_id != NULL)
        epr(m, NULL, "ServerCertificateIssue", "AMT_PublicKeyCertificate", "InstanceID",
            ca_id);
    send_msg(f, &admin, m, out);
}

static size_t
p2_keys(struct fixture *f, const char *prefix)
{
    struct sim_flash *flash = sim_device_flash(f->dev);
    size_t n = 0;

    for (size_t i = 0; i < sim_flash_count(flash); i++)
        if (strncmp(sim_flash_key_at(flash, i), prefix, strlen(prefix)) == 0)
            n++;
    return n;
}

/* ------------------------------------------------------------ tests */

static void
test_no_wsman_on_2_5(void)
{
    struct fixture f;
    struct reply rep;

    fixture_config(&f, "2.5");
    fixture_open(&f);
    get(&f, &provisioner, "AMT_GeneralSettings", NULL, NULL, &rep);
    CU_ASSERT_EQUAL(rep.status, 404);
    CU_ASSERT_STRING_EQUAL(rep.content_type, "text/plain");
    CU_ASSERT_PTR_NULL(rep.doc);
    reply_free(&rep);
    CU_ASSERT_EQUAL(count_events(&f, "X-sim.wsman", "fail", "reason", "no-wsman"), 1);
    /* the first version with WS-Management answers */
    fixture_free(&f);
    fixture_config(&f, "3.0");
    fixture_open(&f);
    get(&f, &provisioner, "AMT_GeneralSettings", NULL, NULL, &rep);
    assert_ok(&rep);
    reply_free(&rep);
    fixture_free(&f);
}

/* OOB-8 as Configuration Manager SP2 runs it, on AMT 4.0, then a restart. */
static void
test_phase2_on_4_0(void)
{
    struct fixture f;
    struct reply rep;
    char ha1[32], id[160], old_client[160], old_ca[160], client[160], ca[160], wired[160],
        handle[32], ids[16][160];
    unsigned rights = 0;
    size_t n;
    struct ev_query deleted, added, cleared, acl_added;

    provisioned_device(&f, "4.0");
    /* what a previous provisioning left: an ACL entry, a wireless profile, its certs */
    CU_ASSERT_EQUAL_FATAL(
        sim_device_acl_add(f.dev, "olduser", OTHER_PASSWORD, SIM_RIGHT_REMOTE_CONTROL),
        0);
    add_cert(&f, client_b64, false, old_client, sizeof(old_client));
    add_cert(&f, ca_b64, true, old_ca, sizeof(old_ca));
    add_wifi(&f, "old", "1", "7", "4", 0, "CONTOSO\\PC1$", old_client, old_ca, &rep);
    assert_rv(&rep, 0);
    reply_free(&rep);

    /* OOB-8.1: the ACL entries are removed, then configured */
    invoke(&f, &admin, "AMT_AuthorizationService", "EnumerateUserAclEntries", NULL, NULL,
           &rep, "StartIndex", "1", NULL);
    assert_rv(&rep, 0);
    CU_ASSERT_EQUAL(prop_num(rep.r.instance, "TotalCount"), 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prop(rep.r.instance, "Handles", handle, sizeof(handle)));
    reply_free(&rep);
    invoke(&f, &admin, "AMT_AuthorizationService", "RemoveUserAclEntry", NULL, NULL, &rep,
           "Handle", handle, NULL);
    assert_rv(&rep, 0);
    reply_free(&rep);
    CU_ASSERT_EQUAL(sim_device_acl_count(f.dev), 0);
    digest_password("operator1", sim_device_realm(f.dev), OTHER_PASSWORD, ha1);
    invoke(&f, &admin, "AMT_AuthorizationService", "AddUserAclEntryEx", NULL, NULL, &rep,
           "DigestUsername", "operator1", "DigestPassword", ha1, "AccessPermission", "2",
           "Realms", "2", "Realms", "5", "Realms", "13", NULL);
    assert_rv(&rep, 0);
    CU_ASSERT_PTR_NOT_NULL(prop(rep.r.instance, "Handle", handle, sizeof(handle)));
    reply_free(&rep);
    invoke(&f, &admin, "AMT_AuthorizationService", "GetUserAclEntryEx", NULL, NULL, &rep,
           "Handle", handle, NULL);
    assert_rv(&rep, 0);
    CU_ASSERT(prop_is(rep.r.instance, "DigestUsername", "operator1"));
    reply_free(&rep);

    /* OOB-8.2: ping, web console, SOL and IDE-R, the redirection listener */
    put(&f, &admin, "AMT_GeneralSettings", &rep, "PingResponseEnabled", "true", NULL);
    assert_ok(&rep);
    CU_ASSERT(prop_is(rep.r.instance, "PingResponseEnabled", "true"));
    reply_free(&rep);
    invoke(&f, &admin, "AMT_WebUIService", "RequestStateChange", NULL, NULL, &rep,
           "RequestedState", "2", NULL);
    assert_rv(&rep, 0);
    reply_free(&rep);
    invoke(&f, &admin, "AMT_RedirectionService", "RequestStateChange", NULL, NULL, &rep,
           "RequestedState", "32771", NULL);
    assert_rv(&rep, 0);
    reply_free(&rep);
    put(&f, &admin, "AMT_RedirectionService", &rep, "ListenerEnabled", "true", NULL);
    assert_ok(&rep);
    reply_free(&rep);

    /* OOB-8.3: Kerberos, and power scheme 5 picked from the enumeration */
    put(&f, &admin, "AMT_KerberosSettingData", &rep, "RealmName", "CONTOSO.COM",
        "KrbEnabled", "true", NULL);
    assert_ok(&rep);
    reply_free(&rep);
    n = enumerate_all(&f, &admin, "AMT_SystemPowerScheme", "InstanceID", ids, 16, 2);
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT_STRING_EQUAL(ids[4], SCHEME_5);
    invoke(&f, &admin, "AMT_SystemPowerScheme", "SetPowerScheme", "InstanceID", ids[4],
           &rep, NULL);
    assert_rv(&rep, 0);
    reply_free(&rep);

    /* OOB-8.4: delete the wireless profiles and their certificates, then configure */
    n = enumerate_all(&f, &admin, "CIM_WiFiEndpointSettings", "InstanceID", ids, 16, 5);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    delete_instance(&f, &admin, "CIM_WiFiEndpointSettings", "InstanceID", ids[0], &rep,
                    NULL, 0);
    CU_ASSERT_EQUAL(rep.status, 200);
    reply_free(&rep);
    delete_instance(&f, &admin, "AMT_PublicKeyCertificate", "InstanceID", old_client,
                    &rep, NULL, 0);
    CU_ASSERT_EQUAL(rep.status, 200);
    reply_free(&rep);
    delete_instance(&f, &admin, "AMT_PublicKeyCertificate", "InstanceID", old_ca, &rep,
                    NULL, 0);
    CU_ASSERT_EQUAL(rep.status, 200);
    reply_free(&rep);
    get(&f, &admin, "AMT_WiFiPortConfigurationService", NULL, NULL, &rep);
    assert_ok(&rep);
    reply_free(&rep);
    add_cert(&f, client_b64, false, client, sizeof(client));
    add_cert(&f, ca_b64, true, ca, sizeof(ca));
    add_cert(&f, client2_b64, false, wired, sizeof(wired));
    add_wifi(&f, "corp", "1", "7", "4", 0, "CONTOSO\\PC1$", client, ca, &rep);
    assert_rv(&rep, 0);
    CU_ASSERT_PTR_NOT_NULL(
        epr_value(rep.r.instance, "WiFiEndpointSettings", id, sizeof(id)));
    CU_ASSERT_STRING_EQUAL(id, "Intel(r) AMT:WiFi Endpoint Settings corp");
    reply_free(&rep);
    put_8021x(&f, "true", "1", "PC1$", "CONTOSO", true, wired, ca, &rep);
    assert_ok(&rep);
    CU_ASSERT(prop_is(rep.r.instance, "Enabled", "true"));
    CU_ASSERT_PTR_NULL(xmlsafe_child(rep.r.instance, NULL, "Password"));
    reply_free(&rep);

    /* AMT-AUDIT: 4.0 has the audit log */
    invoke(&f, &admin, "AMT_AuditLog", "RequestStateChange", NULL, NULL, &rep,
           "RequestedState", "2", NULL);
    assert_rv(&rep, 0);
    reply_free(&rep);

    /* all of it is in the flash */
    fixture_reopen(&f);
    CU_ASSERT_TRUE(sim_device_switch(f.dev, SIM_SWITCH_PING));
    CU_ASSERT_TRUE(sim_device_switch(f.dev, SIM_SWITCH_WEB_UI));
    CU_ASSERT_TRUE(sim_device_switch(f.dev, SIM_SWITCH_SOL));
    CU_ASSERT_TRUE(sim_device_switch(f.dev, SIM_SWITCH_IDER));
    CU_ASSERT_TRUE(sim_device_switch(f.dev, SIM_SWITCH_REDIRECTION_LISTENER));
    CU_ASSERT_TRUE(sim_device_switch(f.dev, SIM_SWITCH_KERBEROS));
    CU_ASSERT_TRUE(sim_device_switch(f.dev, SIM_SWITCH_AUDIT));
    CU_ASSERT_EQUAL(sim_device_power_scheme(f.dev), 5);
    CU_ASSERT_EQUAL(sim_device_acl_count(f.dev), 1);
    CU_ASSERT_STRING_EQUAL(sim_device_acl_user(f.dev, 0, &rights), "operator1");
    CU_ASSERT_EQUAL(rights, SIM_RIGHT_REDIRECTION | SIM_RIGHT_REMOTE_CONTROL |
                                SIM_RIGHT_GENERAL_INFO);
    CU_ASSERT_STRING_EQUAL(sim_flash_get(sim_device_flash(f.dev), "p2.8021x.enabled"),
                           "1");
    n = enumerate_all(&f, &admin, "CIM_WiFiEndpointSettings", "InstanceID", ids, 16, 5);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_STRING_EQUAL(ids[0], "Intel(r) AMT:WiFi Endpoint Settings corp");
    /* the TLS certificate and the three new ones */
    n = enumerate_all(&f, &admin, "AMT_PublicKeyCertificate", "InstanceID", ids, 16, 3);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_STRING_EQUAL(ids[0], CERT_ID "0");
    get(&f, &admin, "AMT_8021XProfile", NULL, NULL, &rep);
    assert_ok(&rep);
    CU_ASSERT(prop_is(rep.r.instance, "Username", "PC1$"));
    CU_ASSERT_EQUAL(prop_num(rep.r.instance, "AuthenticationProtocol"), 1);
    reply_free(&rep);
    invoke(&f, &admin, "AMT_AuthorizationService", "GetUserAclEntryEx", NULL, NULL, &rep,
           "Handle", handle, NULL);
    assert_rv(&rep, 0);
    CU_ASSERT(prop_is(rep.r.instance, "DigestUsername", "operator1"));
    reply_free(&rep);

    /* the log tells the same story, in the catalogue's order */
    cleared = events_of(&f, "OOB-8.1", "ok", "what", "acl-removed");
    acl_added = events_of(&f, "OOB-8.1", "ok", "user", "operator1");
    CU_ASSERT_EQUAL(cleared.count, 1);
    CU_ASSERT_EQUAL(acl_added.count, 1);
    CU_ASSERT(cleared.first_line < acl_added.first_line);
    deleted = events_of(&f, "OOB-8.4", "ok", "what", "wireless-profile-deleted");
    added = events_of(&f, "OOB-8.4", "ok", "name", "corp");
    CU_ASSERT_EQUAL(deleted.count, 1);
    CU_ASSERT_EQUAL(added.count, 1);
    CU_ASSERT(deleted.first_line < added.first_line);
    CU_ASSERT_EQUAL(count_events(&f, "OOB-8.4", "ok", "what", "certificate-deleted"), 2);
    CU_ASSERT_EQUAL(count_events(&f, "OOB-8.4", "ok", "wireless", "true"), 1);
    CU_ASSERT_EQUAL(count_events(&f, "OOB-8.4", "ok", "what", "8021x-profile"), 1);
    CU_ASSERT_EQUAL(count_events(&f, "OOB-8.2", "ok", "feature", "web-ui"), 1);
    CU_ASSERT_EQUAL(count_events(&f, "OOB-8.3", "ok", "feature", "kerberos"), 1);
    CU_ASSERT_EQUAL(count_events(&f, "OOB-8.3", "ok", "what", "power-scheme"), 1);
    CU_ASSERT_EQUAL(count_events(&f, "X-sim.wsman", "fail", NULL, NULL), 0);
    fixture_free(&f);
}

/* AMT 3.2.1: 802.1X, wireless and audit are faults, and nothing is stored. */
static void
test_phase2_on_3_2_1(void)
{
    struct fixture f;
    struct reply rep;
    char client[160], ca[160];

    provisioned_device(&f, "3.2.1");
    add_cert(&f, client_b64, false, client, sizeof(client));
    add_cert(&f, ca_b64, true, ca, sizeof(ca));

    put_8021x(&f, "true", "0", "CONTOSO\\PC1$", NULL, false, client, ca, &rep);
    assert_fault(&rep, WSMAN_FAULT_DESTINATION_UNREACHABLE, 400);
    CU_ASSERT_STRING_EQUAL(rep.r.fault_detail,
                           WSMAN_FAULT_DETAIL_PREFIX "InvalidResourceURI");
    reply_free(&rep);
    get(&f, &admin, "AMT_8021XProfile", NULL, NULL, &rep);
    assert_fault(&rep, WSMAN_FAULT_DESTINATION_UNREACHABLE, 400);
    reply_free(&rep);
    add_wifi(&f, "corp", "1", "7", "4", 0, "CONTOSO\\PC1$", client, ca, &rep);
    assert_fault(&rep, WSMAN_FAULT_DESTINATION_UNREACHABLE, 400);
    reply_free(&rep);
    send_msg(&f, &admin, request(WSMAN_ENUMERATE, "CIM_WiFiEndpointSettings", NULL),
             &rep);
    assert_fault(&rep, WSMAN_FAULT_DESTINATION_UNREACHABLE, 400);
    reply_free(&rep);
    get(&f, &admin, "AMT_WiFiPortConfigurationService", NULL, NULL, &rep);
    assert_fault(&rep, WSMAN_FAULT_DESTINATION_UNREACHABLE, 400);
    reply_free(&rep);
    invoke(&f, &admin, "AMT_AuditLog", "RequestStateChange", NULL, NULL, &rep,
           "RequestedState", "2", NULL);
    assert_fault(&rep, WSMAN_FAULT_DESTINATION_UNREACHABLE, 400);
    reply_free(&rep);

    CU_ASSERT_FALSE(sim_device_switch(f.dev, SIM_SWITCH_AUDIT));
    CU_ASSERT_EQUAL(p2_keys(&f, "p2.8021x."), 0);
    CU_ASSERT_EQUAL(p2_keys(&f, "p2.wifi."), 0);
    CU_ASSERT_EQUAL(
        count_events(&f, "AMT-AUDIT", "fail", "reason", "unsupported-version"), 1);
    CU_ASSERT_EQUAL(
        count_events(&f, "AMT-8021X", "fail", "reason", "unsupported-version"), 5);
    CU_ASSERT_EQUAL(count_events(&f, "OOB-8.4", "info", "wireless", "false"), 1);
    CU_ASSERT_EQUAL(count_events(&f, "OOB-8.4", "ok", "what", "wireless-profile-added"),
                    0);
    /* what 3.2.1 has still works */
    invoke(&f, &admin, "AMT_SystemPowerScheme", "SetPowerScheme", "InstanceID", SCHEME_5,
           &rep, NULL);
    assert_rv(&rep, 0);
    reply_free(&rep);
    CU_ASSERT_EQUAL(sim_device_power_scheme(f.dev), 5);
    fixture_free(&f);
}

static void
test_fault_kinds(void)
{
    struct fixture f;
    struct reply rep;
    struct wsman_msg *m;
    char uri[WSMAN_URI_MAX];

    provisioned_device(&f, "4.0");
    /* unknown resource URI */
    get(&f, &admin, "AMT_Frobnicator", NULL, NULL, &rep);
    assert_fault(&rep, WSMAN_FAULT_DESTINATION_UNREACHABLE, 400);
    CU_ASSERT_STRING_EQUAL(rep.r.fault_code, "Sender");
    CU_ASSERT_STRING_EQUAL(rep.r.fault_detail,
                           WSMAN_FAULT_DETAIL_PREFIX "InvalidResourceURI");
    reply_free(&rep);
    /* a known class name under the wrong prefix is no class either */
    snprintf(uri, sizeof(uri), "%s%s", WSMAN_CIM_URI_PREFIX, "AMT_GeneralSettings");
    CU_ASSERT_EQUAL_FATAL(wsman_request_new(WSMAN_GET, TO, uri, NULL, &m), 0);
    send_msg(&f, &admin, m, &rep);
    assert_fault(&rep, WSMAN_FAULT_DESTINATION_UNREACHABLE, 400);
    reply_free(&rep);

    /* selectors: missing where several instances exist, or naming none */
    invoke(&f, &admin, "AMT_SystemPowerScheme", "SetPowerScheme", NULL, NULL, &rep, NULL);
    assert_fault(&rep, WSMAN_FAULT_INVALID_SELECTORS, 400);
    reply_free(&rep);
    invoke(&f, &admin, "AMT_SystemPowerScheme", "SetPowerScheme", "InstanceID",
           "Intel(r) AMT:PowerScheme 9", &rep, NULL);
    assert_fault(&rep, WSMAN_FAULT_INVALID_SELECTORS, 400);
    reply_free(&rep);
    get(&f, &admin, "AMT_GeneralSettings", "Bogus", "x", &rep);
    assert_fault(&rep, WSMAN_FAULT_INVALID_SELECTORS, 400);
    reply_free(&rep);
    get(&f, &admin, "AMT_GeneralSettings", "InstanceID", "Intel(r) AMT: General Settings",
        &rep);
    assert_ok(&rep);
    reply_free(&rep);
    CU_ASSERT_EQUAL(sim_device_power_scheme(f.dev), 1);

    /* actions a class does not have */
    invoke(&f, &admin, "AMT_GeneralSettings", "Frobnicate", NULL, NULL, &rep, NULL);
    assert_fault(&rep, WSMAN_FAULT_ACTION_NOT_SUPPORTED, 400);
    reply_free(&rep);
    put(&f, &admin, "CIM_PowerManagementService", &rep, "ElementName", "x", NULL);
    assert_fault(&rep, WSMAN_FAULT_ACTION_NOT_SUPPORTED, 400);
    reply_free(&rep);
    delete_instance(&f, &admin, "AMT_GeneralSettings", NULL, NULL, &rep, NULL, 0);
    assert_fault(&rep, WSMAN_FAULT_ACTION_NOT_SUPPORTED, 400);
    reply_free(&rep);

    /* bodies that do not fit: nothing changes */
    put(&f, &admin, "AMT_GeneralSettings", &rep, "PingResponseEnabled", "true", "Bogus",
        "1", NULL);
    assert_fault(&rep, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, 400);
    reply_free(&rep);
    put(&f, &admin, "AMT_GeneralSettings", &rep, "PingResponseEnabled", "maybe", NULL);
    assert_fault(&rep, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, 400);
    reply_free(&rep);
    put(&f, &admin, "AMT_GeneralSettings", &rep, "PingResponseEnabled", "true",
        "PingResponseEnabled", "true", NULL);
    assert_fault(&rep, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, 400);
    reply_free(&rep);
    put(&f, &admin, "AMT_GeneralSettings", &rep, "PingResponseEnabled", "true",
        "HostName", "bad_name!", NULL);
    assert_fault(&rep, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, 400);
    reply_free(&rep);
    invoke(&f, &admin, "AMT_RedirectionService", "RequestStateChange", NULL, NULL, &rep,
           NULL);
    assert_fault(&rep, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, 400);
    reply_free(&rep);
    CU_ASSERT_FALSE(sim_device_switch(f.dev, SIM_SWITCH_PING));
    CU_ASSERT_STRING_EQUAL(sim_device_host_name(f.dev), "pc1");

    /* an enumeration context nobody handed out */
    send_msg(&f, &admin, request(WSMAN_PULL, "AMT_SystemPowerScheme", "uuid:bogus"),
             &rep);
    assert_fault(&rep, WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT, 500);
    CU_ASSERT_STRING_EQUAL(rep.r.fault_code, "Receiver");
    reply_free(&rep);
    /* Filter: a WS-Management feature the simulator does not offer */
    m = request(WSMAN_ENUMERATE, "AMT_SystemPowerScheme", NULL);
    CU_ASSERT_EQUAL(wsman_msg_add_ns(m, NULL, WSMAN_NS, "Filter", "x", NULL), 0);
    send_msg(&f, &admin, m, &rep);
    assert_fault(&rep, WSMAN_FAULT_UNSUPPORTED_FEATURE, 400);
    reply_free(&rep);
    CU_ASSERT(
        count_events(&f, "X-sim.wsman", "fail", "fault", "wsa:ActionNotSupported") == 3);
    fixture_free(&f);
}

static void
test_rights(void)
{
    const struct caller power_only = {"operator", SIM_RIGHT_REMOTE_CONTROL, false};
    const struct caller info_only = {"viewer", SIM_RIGHT_GENERAL_INFO, false};
    struct fixture f;
    struct reply rep;

    provisioned_device(&f, "4.0");
    put(&f, &power_only, "AMT_GeneralSettings", &rep, "PingResponseEnabled", "true",
        NULL);
    assert_fault(&rep, WSMAN_FAULT_ACCESS_DENIED, 400);
    reply_free(&rep);
    get(&f, &power_only, "AMT_GeneralSettings", NULL, NULL, &rep);
    assert_fault(&rep, WSMAN_FAULT_ACCESS_DENIED, 400);
    reply_free(&rep);
    invoke(&f, &power_only, "AMT_AuthorizationService", "EnumerateUserAclEntries", NULL,
           NULL, &rep, "StartIndex", "1", NULL);
    assert_fault(&rep, WSMAN_FAULT_ACCESS_DENIED, 400);
    reply_free(&rep);
    invoke(&f, &power_only, "CIM_PowerManagementService", "RequestPowerStateChange", NULL,
           NULL, &rep, "PowerState", "8", NULL);
    assert_rv(&rep, 0);
    reply_free(&rep);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_OFF);

    get(&f, &info_only, "AMT_GeneralSettings", NULL, NULL, &rep);
    assert_ok(&rep);
    CU_ASSERT(prop_is(rep.r.instance, "HostName", "pc1"));
    CU_ASSERT(prop_is(rep.r.instance, "DigestRealm", sim_device_realm(f.dev)));
    reply_free(&rep);
    put(&f, &info_only, "AMT_GeneralSettings", &rep, "PingResponseEnabled", "true", NULL);
    assert_fault(&rep, WSMAN_FAULT_ACCESS_DENIED, 400);
    reply_free(&rep);
    invoke(&f, &info_only, "CIM_PowerManagementService", "RequestPowerStateChange", NULL,
           NULL, &rep, "PowerState", "2", NULL);
    assert_fault(&rep, WSMAN_FAULT_ACCESS_DENIED, 400);
    reply_free(&rep);
    CU_ASSERT_FALSE(sim_device_switch(f.dev, SIM_SWITCH_PING));
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_OFF);
    CU_ASSERT_EQUAL(count_events(&f, "X-sim.wsman", "fail", "reason", "missing-right"),
                    5);
    fixture_free(&f);
}

/* Before CommitChanges only the provisioning session changes settings. */
static void
test_state_rules(void)
{
    struct fixture f;
    struct reply rep;

    fixture_config(&f, "4.0");
    fixture_open(&f);
    get(&f, &admin, "AMT_SetupAndConfigurationService", NULL, NULL, &rep);
    assert_ok(&rep);
    CU_ASSERT_EQUAL(prop_num(rep.r.instance, "ProvisioningState"), 0);
    reply_free(&rep);
    put(&f, &admin, "AMT_GeneralSettings", &rep, "PingResponseEnabled", "true", NULL);
    assert_fault(&rep, WSMAN_FAULT_ACCESS_DENIED, 400);
    reply_free(&rep);
    CU_ASSERT_FALSE(sim_device_switch(f.dev, SIM_SWITCH_PING));
    put(&f, &provisioner, "AMT_GeneralSettings", &rep, "PingResponseEnabled", "true",
        "HostName", "pc7", NULL);
    assert_ok(&rep);
    reply_free(&rep);
    CU_ASSERT_TRUE(sim_device_switch(f.dev, SIM_SWITCH_PING));
    CU_ASSERT_STRING_EQUAL(sim_device_host_name(f.dev), "pc7");
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_IN_PROVISIONING);

    /* CommitChanges: not by another session, not without the admin password */
    invoke(&f, &admin, "AMT_SetupAndConfigurationService", "CommitChanges", NULL, NULL,
           &rep, NULL);
    assert_fault(&rep, WSMAN_FAULT_ACCESS_DENIED, 400);
    reply_free(&rep);
    invoke(&f, &provisioner, "AMT_SetupAndConfigurationService", "CommitChanges", NULL,
           NULL, &rep, NULL);
    assert_rv(&rep, 0x809);
    reply_free(&rep);
    invoke(&f, &provisioner, "AMT_SetupAndConfigurationService", "SetMEBxPassword", NULL,
           NULL, &rep, "Password", "short", NULL);
    assert_rv(&rep, 0x806);
    reply_free(&rep);
    CU_ASSERT_EQUAL_FATAL(sim_device_set_admin_password(f.dev, "admin", GOOD_PASSWORD),
                          0);
    invoke(&f, &provisioner, "AMT_SetupAndConfigurationService", "CommitChanges", NULL,
           NULL, &rep, "_method_dummy", "", NULL);
    assert_rv(&rep, 0);
    reply_free(&rep);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_PROVISIONED);
    CU_ASSERT_EQUAL(count_events(&f, "OOB-7.6", "ok", NULL, NULL), 1);
    CU_ASSERT_EQUAL(
        count_events(&f, "OOB-7.6", "fail", "reason", "admin-password-not-set"), 1);

    /* after provisioning the admin changes settings; a commit has nothing left to do */
    invoke(&f, &admin, "AMT_SetupAndConfigurationService", "CommitChanges", NULL, NULL,
           &rep, NULL);
    assert_rv(&rep, 0);
    reply_free(&rep);
    CU_ASSERT_EQUAL(count_events(&f, "OOB-7.6", "fail", NULL, NULL), 1);
    invoke(&f, &admin, "AMT_SetupAndConfigurationService", "SetMEBxPassword", NULL, NULL,
           &rep, "Password", GOOD_PASSWORD, NULL);
    assert_rv(&rep, 3);
    reply_free(&rep);
    invoke(&f, &admin, "AMT_AuditLog", "RequestStateChange", NULL, NULL, &rep,
           "RequestedState", "2", NULL);
    assert_rv(&rep, 0);
    reply_free(&rep);

    /* partial unprovision keeps the host name, full does not; p2 goes with both */
    invoke(&f, &admin, "AMT_SetupAndConfigurationService", "PartialUnprovision", NULL,
           NULL, &rep, NULL);
    assert_rv(&rep, 0);
    reply_free(&rep);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_SETUP);
    CU_ASSERT_STRING_EQUAL(sim_device_host_name(f.dev), "pc7");
    CU_ASSERT_FALSE(sim_device_switch(f.dev, SIM_SWITCH_AUDIT));
    CU_ASSERT_EQUAL_FATAL(sim_device_set_admin_password(f.dev, "admin", GOOD_PASSWORD),
                          0);
    CU_ASSERT_EQUAL_FATAL(sim_device_commit(f.dev), 0);
    invoke(&f, &admin, "AMT_SetupAndConfigurationService", "Unprovision", NULL, NULL,
           &rep, "ProvisioningMode", "3", NULL);
    assert_rv(&rep, 0x24);
    reply_free(&rep);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_PROVISIONED);
    invoke(&f, &admin, "AMT_SetupAndConfigurationService", "Unprovision", NULL, NULL,
           &rep, "ProvisioningMode", "1", NULL);
    assert_rv(&rep, 0);
    reply_free(&rep);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_SETUP);
    CU_ASSERT_PTR_NULL(sim_device_host_name(f.dev));
    fixture_free(&f);
}

static void
test_enumeration_paging(void)
{
    struct fixture f, other;
    struct reply rep;
    struct wsman_msg *m;
    char context[WSMAN_ID_MAX], first[WSMAN_ID_MAX], second[WSMAN_ID_MAX];
    size_t items;

    provisioned_device(&f, "4.0");
    send_msg(&f, &admin, request(WSMAN_ENUMERATE, "AMT_SystemPowerScheme", NULL), &rep);
    assert_ok(&rep);
    CU_ASSERT_EQUAL(rep.r.kind, WSMAN_ENUMERATE);
    snprintf(context, sizeof(context), "%s", rep.r.context);
    reply_free(&rep);
    for (int round = 0; round < 3; round++) {
        m = request(WSMAN_PULL, "AMT_SystemPowerScheme", context);
        add(m, NULL, "MaxElements", "2");
        send_msg(&f, &admin, m, &rep);
        assert_ok(&rep);
        items = 0;
        for (xmlNodePtr it = xmlsafe_child(rep.r.items, NULL, NULL); it != NULL;
             it = xmlsafe_next(it, NULL, NULL))
            items++;
        CU_ASSERT_EQUAL(items, round < 2 ? 2 : 1);
        CU_ASSERT_EQUAL(rep.r.end_of_sequence, round == 2);
        CU_ASSERT_EQUAL(rep.r.context[0] == '\0', round == 2);
        if (round < 2)
            CU_ASSERT_STRING_EQUAL(rep.r.context, context);
        reply_free(&rep);
    }
    /* a finished enumeration is gone */
    send_msg(&f, &admin, request(WSMAN_PULL, "AMT_SystemPowerScheme", context), &rep);
    assert_fault(&rep, WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT, 500);
    reply_free(&rep);

    /* MaxElements must be positive; the default is one item */
    send_msg(&f, &admin, request(WSMAN_ENUMERATE, "AMT_TLSSettingData", NULL), &rep);
    snprintf(context, sizeof(context), "%s", rep.r.context);
    reply_free(&rep);
    m = request(WSMAN_PULL, "AMT_TLSSettingData", context);
    add(m, NULL, "MaxElements", "0");
    send_msg(&f, &admin, m, &rep);
    assert_fault(&rep, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, 400);
    reply_free(&rep);
    send_msg(&f, &admin, request(WSMAN_PULL, "AMT_TLSSettingData", context), &rep);
    assert_ok(&rep);
    CU_ASSERT_FALSE(rep.r.end_of_sequence);
    CU_ASSERT(prop_is(xmlsafe_child(rep.r.items, NULL, NULL), "Enabled", "true"));
    reply_free(&rep);
    /* a context is for its class and its device */
    send_msg(&f, &admin, request(WSMAN_PULL, "AMT_SystemPowerScheme", context), &rep);
    assert_fault(&rep, WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT, 500);
    reply_free(&rep);
    provisioned_device(&other, "4.0");
    send_msg(&other, &admin, request(WSMAN_PULL, "AMT_TLSSettingData", context), &rep);
    assert_fault(&rep, WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT, 500);
    reply_free(&rep);
    fixture_free(&other);
    /* it expires when left alone */
    CU_ASSERT_EQUAL(clock_advance(vclock, 121.0), 0);
    send_msg(&f, &admin, request(WSMAN_PULL, "AMT_TLSSettingData", context), &rep);
    assert_fault(&rep, WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT, 500);
    reply_free(&rep);

    /* 16 per device: the seventeenth drops the oldest */
    for (int i = 0; i < 17; i++) {
        send_msg(&f, &admin, request(WSMAN_ENUMERATE, "AMT_SystemPowerScheme", NULL),
                 &rep);
        assert_ok(&rep);
        if (i == 0)
            snprintf(first, sizeof(first), "%s", rep.r.context);
        if (i == 1)
            snprintf(second, sizeof(second), "%s", rep.r.context);
        reply_free(&rep);
    }
    send_msg(&f, &admin, request(WSMAN_PULL, "AMT_SystemPowerScheme", first), &rep);
    assert_fault(&rep, WSMAN_FAULT_INVALID_ENUMERATION_CONTEXT, 500);
    reply_free(&rep);
    send_msg(&f, &admin, request(WSMAN_PULL, "AMT_SystemPowerScheme", second), &rep);
    assert_ok(&rep);
    reply_free(&rep);
    fixture_free(&f);
}

static void
test_power(void)
{
    struct fixture f;
    struct reply rep;
    char state[16][160];

    provisioned_device(&f, "4.0");
    get(&f, &admin, "CIM_AssociatedPowerManagementService", NULL, NULL, &rep);
    assert_ok(&rep);
    CU_ASSERT_EQUAL(prop_num(rep.r.instance, "PowerState"), 2);
    reply_free(&rep);
    invoke(&f, &admin, "CIM_PowerManagementService", "RequestPowerStateChange", NULL,
           NULL, &rep, "PowerState", "8", NULL);
    assert_rv(&rep, 0);
    reply_free(&rep);
    CU_ASSERT_EQUAL(enumerate_all(&f, &admin, "CIM_AssociatedPowerManagementService",
                                  "PowerState", state, 16, 1),
                    1);
    CU_ASSERT_STRING_EQUAL(state[0], "8");
    /* off when off, a reset of a machine that is off: not applicable */
    invoke(&f, &admin, "CIM_PowerManagementService", "RequestPowerStateChange", NULL,
           NULL, &rep, "PowerState", "8", NULL);
    assert_rv(&rep, 2);
    reply_free(&rep);
    invoke(&f, &admin, "CIM_PowerManagementService", "RequestPowerStateChange", NULL,
           NULL, &rep, "PowerState", "10", NULL);
    assert_rv(&rep, 2);
    reply_free(&rep);
    /* a state AMT does not offer */
    invoke(&f, &admin, "CIM_PowerManagementService", "RequestPowerStateChange", NULL,
           NULL, &rep, "PowerState", "4", NULL);
    assert_rv(&rep, 1);
    reply_free(&rep);
    /* on again, with the reference to the managed system that consoles send */
    {
        struct wsman_msg *m = request(WSMAN_INVOKE, "CIM_PowerManagementService",
                                      "RequestPowerStateChange");

        add(m, NULL, "PowerState", "2");
        epr(m, NULL, "ManagedElement", "CIM_ComputerSystem", "Name", "ManagedSystem");
        send_msg(&f, &admin, m, &rep);
        assert_rv(&rep, 0);
        reply_free(&rep);
        m = request(WSMAN_INVOKE, "CIM_PowerManagementService",
                    "RequestPowerStateChange");
        add(m, NULL, "PowerState", "8");
        epr(m, NULL, "ManagedElement", "CIM_ComputerSystem", "Name", "OtherSystem");
        send_msg(&f, &admin, m, &rep);
        assert_rv(&rep, 5);
        reply_free(&rep);
    }
    get(&f, &admin, "CIM_AssociatedPowerManagementService", NULL, NULL, &rep);
    CU_ASSERT_EQUAL(prop_num(rep.r.instance, "PowerState"), 2);
    reply_free(&rep);
    invoke(&f, &admin, "CIM_PowerManagementService", "RequestPowerStateChange", NULL,
           NULL, &rep, "PowerState", "10", NULL);
    assert_rv(&rep, 0);
    reply_free(&rep);
    invoke(&f, &admin, "CIM_PowerManagementService", "RequestPowerStateChange", NULL,
           NULL, &rep, "PowerState", "5", NULL);
    assert_rv(&rep, 0);
    reply_free(&rep);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_ON);
    CU_ASSERT_EQUAL(count_events(&f, "X-sim.power", "ok", "action", "power-down"), 1);
    CU_ASSERT_EQUAL(count_events(&f, "X-sim.power", "ok", "action", "reset"), 1);
    CU_ASSERT_EQUAL(count_events(&f, "X-sim.power", "ok", "action", "power-cycle"), 1);
    fixture_free(&f);
}

/* Snapshot of every flash key and value, to see that nothing changed. */
static char *
flash_snapshot(struct fixture *f)
{
    struct sim_flash *flash = sim_device_flash(f->dev);
    size_t size = 1, used = 0;
    char *buf;

    for (size_t i = 0; i < sim_flash_count(flash); i++)
        size += strlen(sim_flash_key_at(flash, i)) +
                strlen(sim_flash_get(flash, sim_flash_key_at(flash, i))) + 2;
    buf = malloc(size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    buf[0] = '\0';
    for (size_t i = 0; i < sim_flash_count(flash); i++) {
        const char *k = sim_flash_key_at(flash, i);

        used += (size_t)snprintf(buf + used, size - used, "%s=%s\n", k,
                                 sim_flash_get(flash, k));
    }
    return buf;
}

static void
test_hostile_input(void)
{
    static const char *const bodies[] = {
        "",
        "<not-closed",
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"true\">]>"
        "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body/>"
        "</s:Envelope>",
        "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>&bogus;"
        "</s:Body></s:Envelope>",
        "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>\xff\xfe"
        "</s:Body></s:Envelope>",
        "<x/>",
    };
    struct fixture f;
    struct reply rep;
    struct wsman_msg *m;
    char *before, *after, *text = NULL, *evil, *at, deep[4096];
    size_t len = 0, used = 0;

    provisioned_device(&f, "4.0");
    before = flash_snapshot(&f);
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        send_text(&f, &admin, bodies[i], strlen(bodies[i]), &rep);
        assert_fault(&rep, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, 400);
        CU_ASSERT_STRING_EQUAL(rep.r.fault_code, "Sender");
        reply_free(&rep);
    }
    /* a Put that would turn ping on, made hostile by an internal DTD */
    m = request(WSMAN_PUT, "AMT_GeneralSettings", NULL);
    add(m, NULL, "PingResponseEnabled", "true");
    CU_ASSERT_EQUAL_FATAL(wsman_msg_text(m, &text, &len), 0);
    wsman_msg_free(m);
    at = strstr(text, "<s:Envelope");
    CU_ASSERT_PTR_NOT_NULL_FATAL(at);
    evil = malloc(len + 128);
    CU_ASSERT_PTR_NOT_NULL_FATAL(evil);
    snprintf(evil, len + 128, "%.*s<!DOCTYPE s:Envelope [<!ENTITY t \"true\">]>%s",
             (int)(at - text), text, at);
    send_text(&f, &admin, evil, strlen(evil), &rep);
    assert_fault(&rep, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, 400);
    reply_free(&rep);
    free(evil);
    free(text);
    /* nested far deeper than any WS-Management message */
    for (int i = 0; i < 200 && used + 8 < sizeof(deep); i++)
        used += (size_t)snprintf(deep + used, sizeof(deep) - used, "<a>");
    send_text(&f, &admin, deep, used, &rep);
    assert_fault(&rep, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, 400);
    reply_free(&rep);

    after = flash_snapshot(&f);
    CU_ASSERT_STRING_EQUAL(before, after);
    CU_ASSERT_FALSE(sim_device_switch(f.dev, SIM_SWITCH_PING));
    CU_ASSERT_EQUAL(count_events(&f, "X-sim.wsman", "fail", "reason", "doctype"), 2);
    free(before);
    free(after);
    fixture_free(&f);
}

static void
test_certificates(void)
{
    struct fixture f;
    struct reply rep;
    char client[160], ca[160], message_id[WSMAN_ID_MAX], got[WSMAN_ID_MAX];
    xmlNodePtr hdr = NULL, body = NULL;

    provisioned_device(&f, "4.0");
    invoke(&f, &admin, "AMT_PublicKeyManagementService", "AddCertificate", NULL, NULL,
           &rep, "CertificateBlob", "not base64!", NULL);
    assert_rv(&rep, 0x80F);
    reply_free(&rep);
    invoke(&f, &admin, "AMT_PublicKeyManagementService", "AddCertificate", NULL, NULL,
           &rep, "CertificateBlob", "AAAA", NULL);
    assert_rv(&rep, 0x80F);
    reply_free(&rep);
    /* PKI-CA-KEYLEN: no CA key over 2048 bits */
    invoke(&f, &admin, "AMT_PublicKeyManagementService", "AddTrustedRootCertificate",
           NULL, NULL, &rep, "CertificateBlob", big_ca_b64, NULL);
    assert_rv(&rep, 0x80F);
    reply_free(&rep);
    CU_ASSERT_EQUAL(count_events(&f, "PKI-CA-KEYLEN", "fail", "reason", "key-too-long"),
                    1);
    /* a leaf is no trusted root */
    invoke(&f, &admin, "AMT_PublicKeyManagementService", "AddTrustedRootCertificate",
           NULL, NULL, &rep, "CertificateBlob", client_b64, NULL);
    assert_rv(&rep, 0x80F);
    reply_free(&rep);
    CU_ASSERT_EQUAL(p2_keys(&f, "p2.cert."), 0);

    add_cert(&f, client_b64, false, client, sizeof(client));
    add_cert(&f, ca_b64, true, ca, sizeof(ca));
    invoke(&f, &admin, "AMT_PublicKeyManagementService", "AddCertificate", NULL, NULL,
           &rep, "CertificateBlob", client_b64, NULL);
    assert_rv(&rep, 0x80A);
    reply_free(&rep);
    get(&f, &admin, "AMT_PublicKeyCertificate", "InstanceID", ca, &rep);
    assert_ok(&rep);
    CU_ASSERT(prop_is(rep.r.instance, "TrustedRootCertificate", "true"));
    CU_ASSERT(prop_is(rep.r.instance, "Subject", "CN=Contoso Root CA"));
    CU_ASSERT(prop_is(rep.r.instance, "X509Certificate", ca_b64));
    reply_free(&rep);

    /* the device's TLS certificate stays, and so does one a profile uses */
    delete_instance(&f, &admin, "AMT_PublicKeyCertificate", "InstanceID", CERT_ID "0",
                    &rep, NULL, 0);
    assert_fault(&rep, WSMAN_FAULT_ACCESS_DENIED, 400);
    reply_free(&rep);
    put_8021x(&f, "true", "0", "CONTOSO\\PC1$", NULL, false, client, ca, &rep);
    assert_ok(&rep);
    reply_free(&rep);
    delete_instance(&f, &admin, "AMT_PublicKeyCertificate", "InstanceID", client, &rep,
                    NULL, 0);
    assert_fault(&rep, WSMAN_FAULT_ACCESS_DENIED, 400);
    reply_free(&rep);
    put_8021x(&f, "false", NULL, NULL, NULL, false, NULL, NULL, &rep);
    assert_ok(&rep);
    reply_free(&rep);
    delete_instance(&f, &admin, "AMT_PublicKeyCertificate", "InstanceID", client, &rep,
                    message_id, sizeof(message_id));
    CU_ASSERT_EQUAL(rep.status, 200);
    /* a DeleteResponse: its action, RelatesTo the request, an empty body */
    CU_ASSERT_EQUAL(soap_envelope(rep.doc, WSMAN_ENV_NS, &hdr, &body), 0);
    CU_ASSERT_EQUAL(
        xmlsafe_text(xmlsafe_child(hdr, WSMAN_WSA_NS, "Action"), got, sizeof(got)), 0);
    CU_ASSERT_STRING_EQUAL(got, WSMAN_WXF_NS "/DeleteResponse");
    CU_ASSERT_EQUAL(
        xmlsafe_text(xmlsafe_child(hdr, WSMAN_WSA_NS, "RelatesTo"), got, sizeof(got)), 0);
    CU_ASSERT_STRING_EQUAL(got, message_id);
    CU_ASSERT_PTR_NULL(xmlsafe_child(body, NULL, NULL));
    reply_free(&rep);
    get(&f, &admin, "AMT_PublicKeyCertificate", "InstanceID", client, &rep);
    assert_fault(&rep, WSMAN_FAULT_INVALID_SELECTORS, 400);
    reply_free(&rep);
    CU_ASSERT_EQUAL(count_events(&f, "OOB-8.4", "ok", "what", "certificate-deleted"), 1);
    fixture_free(&f);
}

/* AMT-8021X: the methods the catalogue names, and domain\computer_account. */
static void
test_8021x_rules(void)
{
    struct fixture f;
    struct reply rep;
    char client[160], ca[160], bogus[160];

    provisioned_device(&f, "4.0");
    add_cert(&f, client_b64, false, client, sizeof(client));
    add_cert(&f, ca_b64, true, ca, sizeof(ca));
    snprintf(bogus, sizeof(bogus), CERT_ID "77");

    /* wired */
    put_8021x(&f, "true", "0", "CONTOSO\\PC1$", NULL, false, NULL, ca, &rep);
    assert_fault(&rep, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, 400);
    reply_free(&rep);
    put_8021x(&f, "true", "0", "PC1$", NULL, false, client, ca, &rep);
    assert_fault(&rep, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, 400);
    reply_free(&rep);
    put_8021x(&f, "true", "1", "pc1@contoso.com", NULL, true, client, NULL, &rep);
    assert_fault(&rep, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, 400);
    reply_free(&rep);
    put_8021x(&f, "true", "6", "user", NULL, true, NULL, NULL, &rep);
    assert_fault(&rep, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, 400);
    reply_free(&rep);
    put_8021x(&f, "true", "2", "user", NULL, false, NULL, NULL, &rep);
    assert_fault(&rep, WSMAN_FAULT_SCHEMA_VALIDATION_ERROR, 400);
    reply_free(&rep);
    CU_ASSERT_EQUAL(p2_keys(&f, "p2.8021x."), 0);
    CU_ASSERT_EQUAL(
        count_events(&f, "AMT-8021X", "fail", "reason", "radius-identity-form"), 2);
    CU_ASSERT_EQUAL(
        count_events(&f, "AMT-8021X", "fail", "reason", "eap-method-unsupported"), 1);
    put_8021x(&f, "true", "2", "user", "CONTOSO", true, NULL, ca, &rep);
    assert_ok(&rep);
    reply_free(&rep);
    put_8021x(&f, "true", "0", "PC1$", "CONTOSO", false, client, ca, &rep);
    assert_ok(&rep);
    reply_free(&rep);
    CU_ASSERT_STRING_EQUAL(sim_flash_get(sim_device_flash(f.dev), "p2.8021x.protocol"),
                           "0");

    /* wireless: WPA or WPA2, TKIP or AES */
    add_wifi(&f, "wep", "1", "7", "2", 0, "CONTOSO\\PC1$", client, ca, &rep);
    assert_rv(&rep, 1);
    reply_free(&rep);
    add_wifi(&f, "open", "1", "2", "5", -1, NULL, NULL, NULL, &rep);
    assert_rv(&rep, 1);
    reply_free(&rep);
    add_wifi(&f, "gtc", "1", "7", "4", 3, "user", NULL, ca, &rep);
    assert_rv(&rep, 1);
    reply_free(&rep);
    add_wifi(&f, "ident", "1", "5", "3", 0, "PC1$", client, ca, &rep);
    assert_rv(&rep, 3);
    reply_free(&rep);
    add_wifi(&f, "ref", "1", "7", "4", 0, "CONTOSO\\PC1$", bogus, ca, &rep);
    assert_rv(&rep, 4);
    reply_free(&rep);
    add_wifi(&f, "swapped", "1", "7", "4", 0, "CONTOSO\\PC1$", ca, client, &rep);
    assert_rv(&rep, 4);
    reply_free(&rep);
    CU_ASSERT_EQUAL(p2_keys(&f, "p2.wifi."), 0);
    add_wifi(&f, "home", "1", "6", "3", -1, NULL, NULL, NULL, &rep);
    assert_rv(&rep, 0);
    reply_free(&rep);
    add_wifi(&f, "peap", "1", "7", "4", 2, "user", NULL, ca, &rep);
    assert_rv(&rep, 3); /* priority 1 is taken */
    reply_free(&rep);
    add_wifi(&f, "peap", "2", "7", "4", 2, "user", NULL, ca, &rep);
    assert_rv(&rep, 0);
    reply_free(&rep);
    add_wifi(&f, "peap", "3", "7", "4", 2, "user", NULL, ca, &rep);
    assert_rv(&rep, 3); /* the name is taken */
    reply_free(&rep);
    add_wifi(&f, "ttls", "4", "5", "3", 1, "CONTOSO\\PC1$", client, NULL, &rep);
    assert_rv(&rep, 0);
    reply_free(&rep);
    CU_ASSERT_EQUAL(count_events(&f, "OOB-8.4", "ok", "what", "wireless-profile-added"),
                    3);
    fixture_free(&f);
}

static void
test_acl_refusals(void)
{
    struct fixture f;
    struct reply rep;
    char ha1[32];

    provisioned_device(&f, "4.0");
    digest_password("operator1", sim_device_realm(f.dev), OTHER_PASSWORD, ha1);
    invoke(&f, &admin, "AMT_AuthorizationService", "AddUserAclEntryEx", NULL, NULL, &rep,
           "DigestUsername", "operator1", "DigestPassword", "short", "Realms", "2", NULL);
    assert_rv(&rep, 0x806);
    reply_free(&rep);
    invoke(&f, &admin, "AMT_AuthorizationService", "AddUserAclEntryEx", NULL, NULL, &rep,
           "DigestUsername", "operator1", "DigestPassword", ha1, "Realms", "99", NULL);
    assert_rv(&rep, 0x807);
    reply_free(&rep);
    invoke(&f, &admin, "AMT_AuthorizationService", "AddUserAclEntryEx", NULL, NULL, &rep,
           "DigestUsername", "operator1", "DigestPassword", ha1, "Realms", "6", NULL);
    assert_rv(&rep, 0x807);
    reply_free(&rep);
    invoke(&f, &admin, "AMT_AuthorizationService", "AddUserAclEntryEx", NULL, NULL, &rep,
           "DigestUsername", "operator1", "DigestPassword", ha1, "Realms", "2",
           "KerberosUserSid", "S-1-5-21", NULL);
    assert_rv(&rep, 0x812);
    reply_free(&rep);
    invoke(&f, &admin, "AMT_AuthorizationService", "AddUserAclEntryEx", NULL, NULL, &rep,
           "DigestUsername", "admin", "DigestPassword", ha1, "Realms", "2", NULL);
    assert_rv(&rep, 0x80A);
    reply_free(&rep);
    invoke(&f, &admin, "AMT_AuthorizationService", "AddUserAclEntryEx", NULL, NULL, &rep,
           "DigestUsername", "$$bad", "DigestPassword", ha1, "Realms", "2", NULL);
    assert_rv(&rep, 0xC);
    reply_free(&rep);
    CU_ASSERT_EQUAL(sim_device_acl_count(f.dev), 0);
    invoke(&f, &admin, "AMT_AuthorizationService", "AddUserAclEntryEx", NULL, NULL, &rep,
           "DigestUsername", "operator1", "DigestPassword", ha1, "Realms", "3", NULL);
    assert_rv(&rep, 0);
    reply_free(&rep);
    invoke(&f, &admin, "AMT_AuthorizationService", "AddUserAclEntryEx", NULL, NULL, &rep,
           "DigestUsername", "operator1", "DigestPassword", ha1, "Realms", "2", NULL);
    assert_rv(&rep, 0x80A);
    reply_free(&rep);
    invoke(&f, &admin, "AMT_AuthorizationService", "RemoveUserAclEntry", NULL, NULL, &rep,
           "Handle", "12345", NULL);
    assert_rv(&rep, 0x805);
    reply_free(&rep);
    invoke(&f, &admin, "AMT_AuthorizationService", "EnumerateUserAclEntries", NULL, NULL,
           &rep, "StartIndex", "0", NULL);
    assert_rv(&rep, 0x23);
    reply_free(&rep);
    CU_ASSERT_EQUAL(sim_device_acl_count(f.dev), 1);
    fixture_free(&f);
}

static void
test_time_and_tls(void)
{
    struct fixture f;
    struct reply rep;
    char ta0[32], tm[32];

    provisioned_device(&f, "4.0");
    invoke(&f, &admin, "AMT_TimeSynchronizationService", "GetLowAccuracyTimeSynch", NULL,
           NULL, &rep, NULL);
    assert_rv(&rep, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(prop(rep.r.instance, "Ta0", ta0, sizeof(ta0)));
    reply_free(&rep);
    invoke(&f, &admin, "AMT_TimeSynchronizationService", "SetHighAccuracyTimeSynch", NULL,
           NULL, &rep, "Ta0", ta0, "Tm1", "1800000010", "Tm2", "1800000005", NULL);
    assert_rv(&rep, 0x24);
    reply_free(&rep);
    snprintf(tm, sizeof(tm), "%d", 1800000000);
    invoke(&f, &admin, "AMT_TimeSynchronizationService", "SetHighAccuracyTimeSynch", NULL,
           NULL, &rep, "Ta0", ta0, "Tm1", tm, "Tm2", tm, NULL);
    assert_rv(&rep, 0);
    reply_free(&rep);
    CU_ASSERT(sim_device_time(f.dev) >= 1800000000 &&
              sim_device_time(f.dev) < 1800000100);

    put(&f, &admin, "AMT_TLSSettingData", &rep, "Enabled", "false", NULL);
    assert_fault(&rep, WSMAN_FAULT_INVALID_SELECTORS, 400); /* two instances */
    reply_free(&rep);
    {
        struct wsman_msg *m = request(WSMAN_PUT, "AMT_TLSSettingData", NULL);

        CU_ASSERT_EQUAL(
            wsman_msg_selector(m, "InstanceID", "Intel(r) AMT 802.3 TLS Settings"), 0);
        add(m, NULL, "Enabled", "false");
        add(m, NULL, "TrustedCN", "sp.contoso.com");
        add(m, NULL, "TrustedCN", "sp2.contoso.com");
        send_msg(&f, &admin, m, &rep);
        assert_ok(&rep);
        CU_ASSERT(prop_is(rep.r.instance, "Enabled", "false"));
        reply_free(&rep);
    }
    CU_ASSERT_FALSE(sim_device_tls_enabled(f.dev));
    CU_ASSERT_STRING_EQUAL(
        sim_flash_get(sim_device_flash(f.dev), "p2.tls.net.trusted-cn.1"),
        "sp2.contoso.com");
    fixture_free(&f);
}

/* Every request is an X-sim.wsman event; no secret reaches the log. */
static void
test_events_keep_secrets_out(void)
{
    struct fixture f;
    struct reply rep;
    char client[160], ca[160], ha1[32];
    unsigned char *log;
    size_t len;

    provisioned_device(&f, "4.0");
    add_cert(&f, client_b64, false, client, sizeof(client));
    add_cert(&f, ca_b64, true, ca, sizeof(ca));
    add_wifi(&f, "home", "1", "6", "4", -1, NULL, NULL, NULL, &rep);
    assert_rv(&rep, 0);
    reply_free(&rep);
    add_wifi(&f, "peap", "2", "7", "4", 2, "user", NULL, ca, &rep);
    assert_rv(&rep, 0);
    reply_free(&rep);
    put_8021x(&f, "true", "2", "user", "CONTOSO", true, NULL, ca, &rep);
    assert_ok(&rep);
    reply_free(&rep);
    digest_password("operator1", sim_device_realm(f.dev), OTHER_PASSWORD, ha1);
    invoke(&f, &admin, "AMT_AuthorizationService", "AddUserAclEntryEx", NULL, NULL, &rep,
           "DigestUsername", "operator1", "DigestPassword", ha1, "Realms", "2", NULL);
    assert_rv(&rep, 0);
    reply_free(&rep);
    CU_ASSERT_EQUAL(count_events(&f, "X-sim.wsman", "ok", "action", "invoke"), 5);
    CU_ASSERT_EQUAL(count_events(&f, "X-sim.wsman", "ok", "class", "AMT_8021XProfile"),
                    1);

    log = unit_read_file(events_path, &len);
    CU_ASSERT_PTR_NULL(strstr((char *)log, EAP_SECRET));
    CU_ASSERT_PTR_NULL(strstr((char *)log, PSK_SECRET));
    CU_ASSERT_PTR_NULL(strstr((char *)log, ha1));
    free(log);
    /* nor the flash */
    for (size_t i = 0; i < sim_flash_count(sim_device_flash(f.dev)); i++) {
        const char *v = sim_flash_get(sim_device_flash(f.dev),
                                      sim_flash_key_at(sim_device_flash(f.dev), i));

        CU_ASSERT_PTR_NULL(strstr(v, EAP_SECRET));
        CU_ASSERT_PTR_NULL(strstr(v, PSK_SECRET));
    }
    fixture_free(&f);
}

int
main(void)
{
    CU_TestInfo tests[] = {
        {"no /wsman before AMT 3", test_no_wsman_on_2_5},
        {"phase 2 on 4.0, kept across a restart", test_phase2_on_4_0},
        {"phase 2 on 3.2.1: 802.1X, wireless, audit are faults", test_phase2_on_3_2_1},
        {"DSP0226 fault kinds", test_fault_kinds},
        {"rights", test_rights},
        {"state rules", test_state_rules},
        {"enumeration paging and contexts", test_enumeration_paging},
        {"power control and power state", test_power},
        {"hostile input leaves the state alone", test_hostile_input},
        {"certificates", test_certificates},
        {"802.1X and wireless rules", test_8021x_rules},
        {"ACL refusals", test_acl_refusals},
        {"time and TLS settings", test_time_and_tls},
        {"events keep secrets out", test_events_keep_secrets_out},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {
        {"sim_wsman", suite_init, suite_cleanup, NULL, NULL, tests},
        CU_SUITE_INFO_NULL,
    };

    return unit_run("test_sim_wsman", suites);
}
