/*
 * The provisioner's AMT client against amt-sim in this process, both on one event
 * loop in virtual time: the provisioning TLS session with the legacy and the TLS 1.2
 * profile and the whole chain, pinning and CA trust, the digest sequence and the
 * credential retry as amt-sim records them (OOB-3, OOB-4, OOB-5), blocked ports,
 * stale nonces, timeouts, SOAP and WS-Management calls. A small raw HTTP server of
 * the test's own shows the requests byte for byte, where amt-sim's log cannot: the
 * same payload without and with credentials, and each credential on a connection
 * of its own.
 */
#include "amtclient.h"
#include "clock.h"
#include "curl_loop.h"
#include "device.h"
#include "digest.h"
#include "err.h"
#include "evlog.h"
#include "json.h"
#include "keypool.h"
#include "loop.h"
#include "net.h"
#include "services.h"
#include "soap.h"
#include "thumbprint.h"
#include "unit.h"
#include "wsman.h"
#include "xmlsafe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SA_SERVICE "SecurityAdministration"
/* Real seconds one call may take before the test gives up on it. */
#define CALL_LIMIT 20.0

static char tmp_root[] = "/tmp/test_prov_amtclient.XXXXXX";
static char sim_events_path[300], sp_events_path[300], ca_path[300];
static unsigned device_counter;
static struct keypool *keys;
static struct amt_clock *vclock;
static struct evlog *sim_events, *sp_events;
static struct amt_loop *loop;
static struct sim_net *net;
static struct curl_loop *cloop;
static struct amt_client *client;

static double
real_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
certs_path(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", AMT_CERTS_DIR, name);
}

/* --- simulated devices --- */

struct fixture {
    char dir[256];
    char uuid[40];
    struct sim_device_config cfg;
    struct sim_env env;
    struct sim_device *dev;
};

static int
read_thumbprint(const char *name, struct amt_thumbprint *out)
{
    char path[512], line[256];
    FILE *fp;
    int r = AMT_ERR_NOT_FOUND;

    certs_path(name, path, sizeof(path));
    if ((fp = fopen(path, "r")) == NULL)
        return AMT_ERR_SYSTEM;
    if (fgets(line, sizeof(line), fp) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        r = thumbprint_parse(line, out);
    }
    fclose(fp);
    return r;
}

/* A factory-fresh device on its own 127.0.0.9x address, trusting the test root. */
static void
fixture_start(struct fixture *f, const char *version)
{
    unsigned n = device_counter++;
    char err[256] = "";

    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "%s/dev%u", tmp_root, n);
    snprintf(f->uuid, sizeof(f->uuid), "8c3a5e10-0000-4000-8000-%012x", n + 1);
    CU_ASSERT_EQUAL_FATAL(uuid_parse(f->uuid, &f->cfg.uuid), 0);
    CU_ASSERT_EQUAL_FATAL(sim_profile_from_text(version, &f->cfg.profile), 0);
    CU_ASSERT_FATAL(n < 9);
    snprintf(f->cfg.listen, sizeof(f->cfg.listen), "127.0.0.%u", 90 + n);
    f->cfg.flash_dir = f->dir;
    f->cfg.dhcp_domain = "contoso.com";
    f->cfg.lockout_failures = 20;
    f->cfg.lockout_seconds = 60;
    CU_ASSERT_EQUAL_FATAL(read_thumbprint("root-ca.sha1.txt", &f->cfg.roots[0]), 0);
    f->cfg.n_roots = 1;
    f->env.events = sim_events;
    f->env.clock = vclock;
    f->env.keys = keys;
    CU_ASSERT_EQUAL_FATAL(sim_device_open(&f->cfg, &f->env, &f->dev, err, sizeof(err)),
                          0);
    CU_ASSERT_EQUAL_FATAL(sim_net_add_device(net, f->dev, err, sizeof(err)), 0);
}

static void
fixture_stop(struct fixture *f)
{
    sim_net_remove_device(net, f->dev);
    for (int i = 0; i < 5; i++)
        loop_run_once(loop, 1);
    sim_wsman_forget_device(f->dev);
    sim_device_free(f->dev);
    f->dev = NULL;
}

/* The device now serves build/certs/device.chain.pem (amt-device.contoso.com). */
static void
fixture_ca_certificate(struct fixture *f)
{
    char path[512];
    unsigned char *key, *chain;

    certs_path("device.key", path, sizeof(path));
    key = unit_read_file(path, NULL);
    certs_path("device.chain.pem", path, sizeof(path));
    chain = unit_read_file(path, NULL);
    CU_ASSERT_EQUAL(
        sim_device_set_tls_credentials(f->dev, (const char *)key, (const char *)chain),
        0);
    OPENSSL_cleanse(key, strlen((char *)key));
    free(key);
    free(chain);
}

/* --- sessions and calls --- */

static const struct amt_credential admin = {"admin", "admin"};

struct session_opts {
    unsigned port; /* AMT port; 0: 16993 */
    enum amt_tls_profile profile;
    const char *chain; /* name in build/certs; NULL: prov-oid */
    enum amt_server_trust trust;
    const char *expected_host;
    const struct amt_credential *creds; /* NULL: admin/admin */
    size_t n_creds;
    double timeout;
};

static struct amt_session *
session_to(const struct fixture *f, const struct session_opts *o)
{
    struct amt_session_config cfg;
    struct amt_session *s = NULL;
    char chain[512], key[512], name[64];
    enum sim_port role;

    memset(&cfg, 0, sizeof(cfg));
    cfg.device = f->uuid;
    cfg.host = f->cfg.listen;
    cfg.port = o->port != 0 ? o->port : AMT_CLIENT_PORT_HTTPS;
    role = cfg.port == AMT_CLIENT_PORT_HTTPS ? SIM_PORT_HTTPS : SIM_PORT_HTTP;
    cfg.connect_port = sim_net_bound_port(net, role);
    cfg.tls_profile = o->profile;
    snprintf(name, sizeof(name), "%s", o->chain != NULL ? o->chain : "prov-oid");
    snprintf(chain, sizeof(chain), "%s/%s.chain.pem", AMT_CERTS_DIR, name);
    snprintf(key, sizeof(key), "%s/%s.key", AMT_CERTS_DIR, name);
    cfg.client_chain = chain;
    cfg.client_key = key;
    cfg.trust = o->trust;
    cfg.ca_file = ca_path;
    cfg.expected_host = o->expected_host;
    cfg.credentials = o->creds != NULL ? o->creds : &admin;
    cfg.n_credentials = o->creds != NULL ? o->n_creds : 1;
    cfg.timeout = o->timeout;
    CU_ASSERT_EQUAL_FATAL(amt_session_new(client, &cfg, &s), 0);
    return s;
}

/* What a result said, kept after the callback. */
struct outcome {
    bool done;
    int err;
    char reason[AMT_CLIENT_REASON_MAX];
    char detail[AMT_CLIENT_DETAIL_MAX];
    long status;
    int credential;
    char protocol[16];
    char cipher[64];
    uint32_t soap_status;
    char version[64];
    enum wsman_kind wsman_kind;
    enum wsman_fault wsman_fault;
    char realm[128];
};

static void
on_result(struct amt_session *s, struct amt_result *res, void *arg)
{
    struct outcome *o = arg;
    xmlNodePtr n;

    o->done = true;
    o->err = res->err;
    snprintf(o->reason, sizeof(o->reason), "%s", res->reason);
    snprintf(o->detail, sizeof(o->detail), "%s", res->detail);
    o->status = res->http_status;
    o->credential = res->credential;
    snprintf(o->protocol, sizeof(o->protocol), "%s", res->tls_protocol);
    snprintf(o->cipher, sizeof(o->cipher), "%s", res->tls_cipher);
    o->soap_status = res->soap.status;
    if (res->soap.response != NULL && (n = soap_reply_get(&res->soap, "Version")) != NULL)
        xmlsafe_text(n, o->version, sizeof(o->version));
    o->wsman_kind = res->wsman.kind;
    o->wsman_fault = res->wsman.fault;
    if (res->wsman.instance != NULL &&
        (n = xmlsafe_child(res->wsman.instance, NULL, "DigestRealm")) != NULL)
        xmlsafe_text(n, o->realm, sizeof(o->realm));
}

/* Runs the loop until the call ends; after `advance_after` rounds (0: never) the
 * virtual clock jumps `advance` seconds. */
static void
wait_advancing(struct outcome *o, int advance_after, double advance)
{
    double limit = real_now() + CALL_LIMIT;
    int rounds = 0;

    while (!o->done && real_now() < limit) {
        loop_run_once(loop, 5);
        if (++rounds == advance_after)
            clock_advance(vclock, advance);
    }
    CU_ASSERT_TRUE_FATAL(o->done);
    /* the device's side of what just ended runs too */
    for (int i = 0; i < 3; i++)
        loop_run_once(loop, 1);
}

static void
wait_for(struct outcome *o)
{
    wait_advancing(o, 0, 0);
}

static void
queue_core_version(struct amt_session *s, struct outcome *o)
{
    struct soap_msg *m = NULL;
    char ns[256];

    memset(o, 0, sizeof(*o));
    CU_ASSERT_EQUAL_FATAL(soap_service_ns(SA_SERVICE, NULL, ns, sizeof(ns)), 0);
    CU_ASSERT_EQUAL_FATAL(soap_request_new(ns, "GetCoreVersion", &m), 0);
    CU_ASSERT_EQUAL_FATAL(
        amt_session_soap(s, SA_SERVICE, NULL, "GetCoreVersion", m, on_result, o), 0);
    soap_msg_free(m);
}

static void
core_version(struct amt_session *s, struct outcome *o)
{
    queue_core_version(s, o);
    wait_for(o);
}

/* A WS-Man request of kind about class_name, sent over s. */
static void
queue_wsman(struct amt_session *s, enum wsman_kind kind, const char *class_name,
            struct outcome *o)
{
    struct wsman_msg *m = NULL;
    char to[256], uri[256];

    memset(o, 0, sizeof(*o));
    CU_ASSERT_EQUAL_FATAL(amt_session_wsman_to(s, to, sizeof(to)), 0);
    CU_ASSERT_EQUAL_FATAL(wsman_class_uri(class_name, uri, sizeof(uri)), 0);
    CU_ASSERT_EQUAL_FATAL(wsman_request_new(kind, to, uri, NULL, &m), 0);
    CU_ASSERT_EQUAL_FATAL(amt_session_wsman(s, m, on_result, o), 0);
    wsman_msg_free(m);
}

static void
general_settings(struct amt_session *s, struct outcome *o)
{
    queue_wsman(s, WSMAN_GET, "AMT_GeneralSettings", o);
    wait_for(o);
}

/* --- the event logs --- */

struct event_query {
    const char *device, *id, *result, *reason, *key, *value;
    size_t count;
    char sequence[512]; /* results, or values of key, in order, comma-separated */
};

static bool
detail_matches(const struct evlog_event *ev, const char *key, const char *value,
               char *text, size_t size)
{
    const struct json_value *v = json_object_get(ev->detail, key);
    const char *s;
    size_t len;
    int64_t num;
    bool b;

    if (v == NULL)
        return false;
    if (json_get_string(v, &s, &len) == 0)
        snprintf(text, size, "%.*s", (int)len, s);
    else if (json_get_int(v, &num) == 0)
        snprintf(text, size, "%lld", (long long)num);
    else if (json_get_bool(v, &b) == 0)
        snprintf(text, size, "%s", b ? "true" : "false");
    else
        return false;
    return value == NULL || strcmp(text, value) == 0;
}

static int
match_event(const struct evlog_event *ev, void *arg)
{
    struct event_query *q = arg;
    char text[256] = "";
    size_t used = strlen(q->sequence);

    if (q->device != NULL && strcmp(ev->device, q->device) != 0)
        return 0;
    if (strcmp(ev->id, q->id) != 0)
        return 0;
    if (q->result != NULL && strcmp(evlog_result_name(ev->result), q->result) != 0)
        return 0;
    if (q->reason != NULL && (ev->reason == NULL || strcmp(ev->reason, q->reason) != 0))
        return 0;
    if (q->key != NULL && !detail_matches(ev, q->key, q->value, text, sizeof(text)))
        return 0;
    q->count++;
    snprintf(q->sequence + used, sizeof(q->sequence) - used, "%s%s", used > 0 ? "," : "",
             q->key != NULL ? text : evlog_result_name(ev->result));
    return 0;
}

static struct event_query
query(const char *path, const struct fixture *f, const char *id, const char *result,
      const char *reason, const char *key, const char *value)
{
    struct event_query q = {
        f != NULL ? f->uuid : NULL, id, result, reason, key, value, 0, ""};
    char err[256] = "";

    CU_ASSERT_EQUAL(evlog_read_file(path, match_event, &q, NULL, err, sizeof(err)), 0);
    return q;
}

/* Events amt-sim logged for the device. */
static size_t
sim_count(const struct fixture *f, const char *id, const char *result, const char *reason,
          const char *key, const char *value)
{
    return query(sim_events_path, f, id, result, reason, key, value).count;
}

/* Events the client logged about the device. */
static size_t
sp_count(const struct fixture *f, const char *id, const char *result, const char *reason,
         const char *key, const char *value)
{
    return query(sp_events_path, f, id, result, reason, key, value).count;
}

static size_t
sim_connections(const struct fixture *f, const char *port)
{
    return sim_count(f, "X-sim.conn.open", NULL, NULL, "port", port);
}

/* --- tests against amt-sim --- */

/* AMT 4.0 in setup: TLS 1.0, AES-SHA, the whole provisioning chain, then digest. */
static void
test_legacy_provisioning_session(void)
{
    struct session_opts o = {.profile = AMT_TLS_LEGACY};
    struct amt_thumbprint pin;
    struct outcome out;
    struct amt_session *s;
    struct fixture f;

    fixture_start(&f, "4.0");
    s = session_to(&f, &o);
    core_version(s, &out);
    CU_ASSERT_EQUAL(out.err, 0);
    CU_ASSERT_STRING_EQUAL(out.reason, "");
    CU_ASSERT_EQUAL(out.status, 200);
    CU_ASSERT_EQUAL(out.soap_status, 0);
    CU_ASSERT_EQUAL(strncmp(out.version, "4.0", 3), 0);
    CU_ASSERT_EQUAL(out.credential, 0);
    CU_ASSERT_STRING_EQUAL(out.protocol, "TLSv1");
    CU_ASSERT_PTR_NOT_NULL(strstr(out.cipher, "-SHA"));
    CU_ASSERT_TRUE(amt_session_pin(s, &pin));
    CU_ASSERT_EQUAL(pin.type, AMT_HASH_SHA256);
    CU_ASSERT_EQUAL(amt_session_tls_profile(s), AMT_TLS_LEGACY);

    /* the device's view: the chain with its root, accepted; SHA-1 suites asked */
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-3.1", "ok", NULL, "sha1-suite-offered", "true"),
                    1);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-3.4", "ok", NULL, "chain-length", "3"), 1);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-3.5", "ok", NULL, NULL, NULL), 1);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-3.3", "ok", NULL, "protocol", "TLSv1"), 1);
    /* digest: no credentials, the challenge, admin, accepted */
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-4.1", "ok", NULL, NULL, NULL), 1);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-4.2", "ok", NULL, "status", "401"), 1);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-4.3", "ok", NULL, "user", "admin"), 1);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-4.4", "ok", NULL, "user", "admin"), 1);

    /* ours: the same steps from the client's side */
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-3.1", "ok", NULL, "sha1-suite-offered", "true"), 1);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-3.2", "ok", NULL, "pinned", "first"), 1);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-3.3", "ok", NULL, "protocol", "TLSv1"), 1);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-3.4", "ok", NULL, "chain-length", "3"), 1);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-3.4", "ok", NULL, "root-included", "true"), 1);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-4.1", "ok", NULL, NULL, NULL), 1);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-4.2", "ok", NULL, "realm", sim_device_realm(f.dev)),
                    1);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-4.3", "ok", NULL, "user", "admin"), 1);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-4.4", "ok", NULL, "user", "admin"), 1);
    CU_ASSERT_EQUAL(
        query(sp_events_path, &f, "OOB-4.1", NULL, NULL, "password", NULL).count, 0);

    /* a second call: same connection, the credential sent at once */
    core_version(s, &out);
    CU_ASSERT_EQUAL(out.err, 0);
    CU_ASSERT_EQUAL(out.soap_status, 0);
    CU_ASSERT_EQUAL(sim_connections(&f, "16993"), 1);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-4.1", NULL, NULL, NULL, NULL), 1);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-4.3", "ok", NULL, "user", "admin"), 2);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-4.4", "ok", NULL, NULL, NULL), 2);
    amt_session_free(s);

    /* AUTO: TLS 1.2 first, refused by this firmware, then the legacy profile */
    o.profile = AMT_TLS_AUTO;
    s = session_to(&f, &o);
    core_version(s, &out);
    CU_ASSERT_EQUAL(out.err, 0);
    if (out.err != 0)
        fprintf(stderr, "\n  AUTO: %s (%s)\n", out.reason, out.detail);
    CU_ASSERT_STRING_EQUAL(out.protocol, "TLSv1");
    CU_ASSERT_EQUAL(amt_session_tls_profile(s), AMT_TLS_LEGACY);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-3", "info", NULL, "next", "legacy"), 1);
    /* the attempt that failed never got to HTTP */
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-4.1", NULL, NULL, NULL, NULL), 2);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-3.3", "fail", "protocol-mismatch", NULL, NULL), 1);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-3.5", "ok", NULL, NULL, NULL), 2);
    amt_session_free(s);
    fixture_stop(&f);
}

/* OOB-5: wrong, wrong, right; each on a connection of its own, in that order. */
static void
test_credential_retry(void)
{
    static const struct amt_credential creds[] = {
        {"admin", "Wrong-Passw0rd"}, {"operator", "Other-Passw0rd"}, {"admin", "admin"}};
    struct session_opts o = {.creds = creds, .n_creds = 3};
    struct outcome out;
    struct amt_session *s, *other;
    struct fixture f;

    fixture_start(&f, "12.0");
    s = session_to(&f, &o);
    general_settings(s, &out);
    CU_ASSERT_EQUAL(out.err, 0);
    CU_ASSERT_EQUAL(out.status, 200);
    CU_ASSERT_EQUAL(out.credential, 2);
    CU_ASSERT_EQUAL(amt_session_credential(s), 2);
    CU_ASSERT_STRING_EQUAL(out.protocol, "TLSv1.2");
    CU_ASSERT_EQUAL(out.wsman_kind, WSMAN_GET);
    CU_ASSERT_STRING_EQUAL(out.realm, sim_device_realm(f.dev));

    CU_ASSERT_STRING_EQUAL(
        query(sim_events_path, &f, "OOB-4.4", NULL, NULL, NULL, NULL).sequence,
        "fail,fail,ok");
    CU_ASSERT_STRING_EQUAL(
        query(sim_events_path, &f, "OOB-4.3", NULL, NULL, "user", NULL).sequence,
        "admin,operator,admin");
    CU_ASSERT_EQUAL(sim_connections(&f, "16993"), 3);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-4.1", NULL, NULL, NULL, NULL), 1);
    CU_ASSERT_STRING_EQUAL(
        query(sp_events_path, &f, "OOB-5", "info", NULL, "credential", NULL).sequence,
        "2,3");
    CU_ASSERT_STRING_EQUAL(
        query(sp_events_path, &f, "OOB-4.4", NULL, NULL, NULL, NULL).sequence,
        "fail,fail,ok");

    /* the next call keeps the connection that worked */
    general_settings(s, &out);
    CU_ASSERT_EQUAL(out.err, 0);
    CU_ASSERT_EQUAL(sim_connections(&f, "16993"), 3);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-4.4", "fail", NULL, NULL, NULL), 2);

    /* another session never rides on it: AMT 12 remembers a TLS connection's user */
    other = session_to(&f, &(struct session_opts){0});
    general_settings(other, &out);
    CU_ASSERT_EQUAL(out.err, 0);
    CU_ASSERT_EQUAL(sim_connections(&f, "16993"), 4);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-4.1", NULL, NULL, NULL, NULL), 2);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-4.2", "fail", NULL, NULL, NULL), 0);
    amt_session_free(other);
    amt_session_free(s);
    fixture_stop(&f);
}

/* None of the credentials: digest-exhausted, and nothing more goes out. */
static void
test_digest_exhausted(void)
{
    static const struct amt_credential creds[] = {{"admin", "Wrong-Passw0rd1"},
                                                  {"admin", "Wrong-Passw0rd2"}};
    struct session_opts o = {.port = AMT_CLIENT_PORT_HTTP, .creds = creds, .n_creds = 2};
    struct outcome out;
    struct amt_session *s;
    struct fixture f;
    size_t requests;

    fixture_start(&f, "4.0");
    s = session_to(&f, &o);
    core_version(s, &out);
    CU_ASSERT_EQUAL(out.err, AMT_ERR_CLIENT_DIGEST_EXHAUSTED);
    CU_ASSERT_STRING_EQUAL(out.reason, "digest-exhausted");
    CU_ASSERT_EQUAL(out.credential, -1);
    CU_ASSERT_STRING_EQUAL(
        query(sim_events_path, &f, "OOB-4.4", NULL, NULL, NULL, NULL).sequence,
        "fail,fail");
    CU_ASSERT_EQUAL(sim_connections(&f, "16992"), 2);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-5", "fail", "digest-exhausted", NULL, NULL), 1);
    requests = sim_count(&f, "X-sim.http.request", NULL, NULL, NULL, NULL);
    CU_ASSERT_EQUAL(requests, 3);

    /* the session stays silent until it gets other credentials */
    core_version(s, &out);
    CU_ASSERT_STRING_EQUAL(out.reason, "digest-exhausted");
    CU_ASSERT_EQUAL(sim_count(&f, "X-sim.http.request", NULL, NULL, NULL, NULL),
                    requests);
    CU_ASSERT_EQUAL(sim_connections(&f, "16992"), 2);
    CU_ASSERT_EQUAL(amt_session_set_credentials(s, &admin, 1), 0);
    core_version(s, &out);
    CU_ASSERT_EQUAL(out.err, 0);
    CU_ASSERT_EQUAL(out.credential, 0);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-4.1", NULL, NULL, NULL, NULL), 2);
    CU_ASSERT_EQUAL(sim_connections(&f, "16992"), 3);
    amt_session_free(s);
    fixture_stop(&f);
}

/* stale=true: the device forgot its nonces; the next call still goes through. */
static void
test_stale_nonce(void)
{
    struct session_opts o = {.port = AMT_CLIENT_PORT_HTTP};
    struct outcome out;
    struct amt_session *s;
    struct fixture f;

    fixture_start(&f, "4.0");
    s = session_to(&f, &o);
    core_version(s, &out);
    CU_ASSERT_EQUAL(out.err, 0);
    CU_ASSERT_EQUAL(sim_net_fault_reset_nonces(net, f.dev), 0);
    core_version(s, &out);
    CU_ASSERT_EQUAL(out.err, 0);
    CU_ASSERT_EQUAL(out.soap_status, 0);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-4.4", "info", NULL, "verdict", "stale-nonce"), 1);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-4.4", "fail", NULL, NULL, NULL), 0);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-4.2", "ok", NULL, "stale", "true"), 1);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-4.4", "fail", NULL, NULL, NULL), 0);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-5", NULL, NULL, NULL, NULL), 0);
    CU_ASSERT_EQUAL(sim_connections(&f, "16992"), 1);
    amt_session_free(s);
    fixture_stop(&f);
}

/* A chain AMT refuses (OOB-3.5) and blocked ports (PORT-BLOCKED). */
static void
test_refusals_and_blocked_ports(void)
{
    struct session_opts o = {.chain = "bad-northwind"};
    struct outcome out;
    struct amt_session *s;
    struct fixture f;

    fixture_start(&f, "12.0");
    s = session_to(&f, &o);
    general_settings(s, &out);
    CU_ASSERT_EQUAL(out.err, AMT_ERR_CLIENT_TLS);
    CU_ASSERT_STRING_EQUAL(out.reason, "tls-handshake-failed");
    CU_ASSERT_NOT_EQUAL(out.detail[0], '\0');
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-3.5", "fail", "cn-suffix-mismatch", NULL, NULL),
                    1);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-3", "fail", "tls-handshake-failed", NULL, NULL), 1);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-4.1", NULL, NULL, NULL, NULL), 0);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-4.1", NULL, NULL, NULL, NULL), 0);
    amt_session_free(s);

    /* a firewall that rejects: the port is named */
    CU_ASSERT_EQUAL(sim_net_fault_port(net, f.dev, SIM_PORT_HTTPS, SIM_PORT_FAULT_REJECT),
                    0);
    s = session_to(&f, &(struct session_opts){0});
    general_settings(s, &out);
    CU_ASSERT_EQUAL(out.err, AMT_ERR_CLIENT_UNREACHABLE);
    CU_ASSERT_STRING_EQUAL(out.reason, "port-16993-unreachable");
    CU_ASSERT_PTR_NOT_NULL(strstr(out.detail, "16993"));
    CU_ASSERT_EQUAL(
        sp_count(&f, "PORT-16993", "fail", "port-16993-unreachable", NULL, NULL), 1);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-3", "fail", NULL, NULL, NULL), 1);

    /* one that drops: nothing comes back before the operation timeout */
    CU_ASSERT_EQUAL(sim_net_fault_port(net, f.dev, SIM_PORT_HTTPS, SIM_PORT_FAULT_DROP),
                    0);
    queue_wsman(s, WSMAN_GET, "AMT_GeneralSettings", &out);
    wait_advancing(&out, 20, AMT_CLIENT_TIMEOUT_DEFAULT + 1);
    CU_ASSERT_STRING_EQUAL(out.reason, "port-16993-unreachable");
    CU_ASSERT_EQUAL(
        sp_count(&f, "PORT-16993", "fail", "port-16993-unreachable", NULL, NULL), 2);
    CU_ASSERT_EQUAL(sim_net_fault_port(net, f.dev, SIM_PORT_HTTPS, SIM_PORT_FAULT_NONE),
                    0);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-4.1", NULL, NULL, NULL, NULL), 0);
    amt_session_free(s);

    /* 16992 rejected: that port is the one named */
    CU_ASSERT_EQUAL(sim_net_fault_port(net, f.dev, SIM_PORT_HTTP, SIM_PORT_FAULT_REJECT),
                    0);
    s = session_to(&f, &(struct session_opts){.port = AMT_CLIENT_PORT_HTTP});
    general_settings(s, &out);
    CU_ASSERT_STRING_EQUAL(out.reason, "port-16992-unreachable");
    CU_ASSERT_EQUAL(
        sp_count(&f, "PORT-16992", "fail", "port-16992-unreachable", NULL, NULL), 1);
    CU_ASSERT_EQUAL(sim_net_fault_port(net, f.dev, SIM_PORT_HTTP, SIM_PORT_FAULT_NONE),
                    0);

    /* a device that answers too late: a timeout, not a blocked port */
    CU_ASSERT_EQUAL(sim_net_fault_delay(net, f.dev, 1000), 0);
    queue_wsman(s, WSMAN_GET, "AMT_GeneralSettings", &out);
    wait_advancing(&out, 20, AMT_CLIENT_TIMEOUT_DEFAULT + 1);
    CU_ASSERT_EQUAL(out.err, AMT_ERR_TIMEOUT);
    CU_ASSERT_STRING_EQUAL(out.reason, "timeout");
    CU_ASSERT_EQUAL(sim_net_fault_delay(net, f.dev, 0), 0);
    /* and the session goes on afterwards */
    general_settings(s, &out);
    CU_ASSERT_EQUAL(out.err, 0);
    amt_session_free(s);
    fixture_stop(&f);
}

/* The pin holds for the session; a CA-issued certificate is checked by CA and name. */
static void
test_pinning_and_ca_trust(void)
{
    struct outcome out;
    struct amt_session *s;
    struct fixture f;
    size_t credentials_sent;

    fixture_start(&f, "12.0");
    s = session_to(&f, &(struct session_opts){0});
    general_settings(s, &out);
    CU_ASSERT_EQUAL(out.err, 0);
    fixture_ca_certificate(&f);
    amt_session_disconnect(s);
    credentials_sent = sim_count(&f, "OOB-4.3", NULL, NULL, NULL, NULL);
    general_settings(s, &out);
    CU_ASSERT_EQUAL(out.err, AMT_ERR_CLIENT_CERT_CHANGED);
    CU_ASSERT_STRING_EQUAL(out.reason, "server-cert-changed");
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-3.2", "fail", "server-cert-changed", NULL, NULL),
                    1);
    /* nothing of HTTP went over the changed certificate */
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-4.3", NULL, NULL, NULL, NULL), credentials_sent);
    amt_session_free(s);

    s = session_to(&f, &(struct session_opts){.trust = AMT_TRUST_CA,
                                              .expected_host = "amt-device.contoso.com"});
    general_settings(s, &out);
    CU_ASSERT_EQUAL(out.err, 0);
    CU_ASSERT_EQUAL(
        sp_count(&f, "OOB-3.2", "ok", NULL, "verified-for", "amt-device.contoso.com"), 1);
    amt_session_free(s);

    s = session_to(&f, &(struct session_opts){.trust = AMT_TRUST_CA,
                                              .expected_host = "other.contoso.com"});
    general_settings(s, &out);
    CU_ASSERT_EQUAL(out.err, AMT_ERR_CLIENT_TLS);
    CU_ASSERT_STRING_EQUAL(out.reason, "tls-handshake-failed");
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-3.2", "fail", "server-host-mismatch", "expected",
                             "other.contoso.com"),
                    1);
    amt_session_free(s);
    fixture_stop(&f);
}

/* AMT 12 speaks TLS 1.2, AUTO takes it at once; WS-Man Get and a fault over it. */
static void
test_tls12_and_wsman(void)
{
    struct outcome out;
    struct amt_session *s;
    struct fixture f;

    fixture_start(&f, "12.0");
    s = session_to(&f, &(struct session_opts){.profile = AMT_TLS_AUTO});
    general_settings(s, &out);
    CU_ASSERT_EQUAL(out.err, 0);
    CU_ASSERT_STRING_EQUAL(out.protocol, "TLSv1.2");
    CU_ASSERT_EQUAL(amt_session_tls_profile(s), AMT_TLS_MODERN);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-3", NULL, NULL, NULL, NULL), 0);
    CU_ASSERT_EQUAL(sim_count(&f, "OOB-3.3", "ok", NULL, "protocol", "TLSv1.2"), 1);
    CU_ASSERT_EQUAL(sp_count(&f, "OOB-3.3", "ok", NULL, "protocol", "TLSv1.2"), 1);

    /* a class this firmware lacks: the fault comes back as such */
    queue_wsman(s, WSMAN_GET, "AMT_NoSuchClass", &out);
    wait_for(&out);
    CU_ASSERT_EQUAL(out.err, AMT_ERR_SOAP_FAULT);
    CU_ASSERT_STRING_EQUAL(out.reason, "wsman-fault");
    CU_ASSERT_EQUAL(out.wsman_fault, WSMAN_FAULT_DESTINATION_UNREACHABLE);

    /* two calls queued at once go one after the other */
    {
        struct outcome a, b;

        queue_wsman(s, WSMAN_GET, "AMT_GeneralSettings", &a);
        queue_wsman(s, WSMAN_GET, "AMT_GeneralSettings", &b);
        CU_ASSERT_EQUAL(amt_session_pending(s), 2);
        wait_for(&b);
        CU_ASSERT_TRUE(a.done);
        CU_ASSERT_EQUAL(a.err, 0);
        CU_ASSERT_EQUAL(b.err, 0);
        CU_ASSERT_EQUAL(amt_session_pending(s), 0);
    }
    amt_session_free(s);
    fixture_stop(&f);
}

static void
test_ipv6_and_bad_hosts_refused(void)
{
    static const char *const bad[] = {"10.0.0.1/x", "user@10.0.0.1", "", "a b"};
    struct amt_session_config cfg;
    struct amt_session *s = NULL;
    struct event_query q;

    memset(&cfg, 0, sizeof(cfg));
    cfg.port = AMT_CLIENT_PORT_HTTP;
    cfg.credentials = &admin;
    cfg.n_credentials = 1;
    cfg.host = "::1";
    CU_ASSERT_EQUAL(amt_session_new(client, &cfg, &s), AMT_ERR_NET_IPV6);
    CU_ASSERT_PTR_NULL(s);
    cfg.host = "[::ffff:127.0.0.1]";
    CU_ASSERT_EQUAL(amt_session_new(client, &cfg, &s), AMT_ERR_NET_IPV6);
    q = query(sp_events_path, NULL, "NET-IPV4", "fail", "ipv6-refused", NULL, NULL);
    CU_ASSERT_EQUAL(q.count, 2);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cfg.host = bad[i];
        CU_ASSERT_EQUAL(amt_session_new(client, &cfg, &s), AMT_ERR_INVALID_ARGUMENT);
    }
    cfg.host = "127.0.0.1";
    cfg.port = 80;
    CU_ASSERT_EQUAL(amt_session_new(client, &cfg, &s), AMT_ERR_INVALID_ARGUMENT);
    cfg.port = AMT_CLIENT_PORT_HTTP;
    cfg.credentials = &(struct amt_credential){"ad\"min", "x"};
    CU_ASSERT_EQUAL(amt_session_new(client, &cfg, &s), AMT_ERR_INVALID_ARGUMENT);
    cfg.credentials = &admin;
    cfg.n_credentials = AMT_CLIENT_CREDENTIALS_MAX + 1;
    CU_ASSERT_EQUAL(amt_session_new(client, &cfg, &s), AMT_ERR_TOO_LARGE);
    CU_ASSERT_PTR_NULL(s);
}

/* A chain without its root, or a key of another certificate, is refused at once. */
static void
test_client_chain_checked(void)
{
    struct amt_session_config cfg;
    struct amt_session *s = NULL;
    char chain[512], key[512];

    memset(&cfg, 0, sizeof(cfg));
    cfg.host = "127.0.0.1";
    cfg.port = AMT_CLIENT_PORT_HTTPS;
    cfg.client_chain = chain;
    cfg.client_key = key;
    certs_path("prov-oid.crt", chain, sizeof(chain));
    certs_path("prov-oid.key", key, sizeof(key));
    CU_ASSERT_EQUAL(amt_session_new(client, &cfg, &s), AMT_ERR_CERT_REFUSED);
    certs_path("prov-oid.chain.pem", chain, sizeof(chain));
    certs_path("prov-ou.key", key, sizeof(key));
    CU_ASSERT_EQUAL(amt_session_new(client, &cfg, &s), AMT_ERR_CERT_REFUSED);
    certs_path("no-such.chain.pem", chain, sizeof(chain));
    CU_ASSERT_NOT_EQUAL(amt_session_new(client, &cfg, &s), 0);
    CU_ASSERT_PTR_NULL(s);
    cfg.client_chain = NULL;
    cfg.trust = AMT_TRUST_CA;
    CU_ASSERT_EQUAL(amt_session_new(client, &cfg, &s), AMT_ERR_INVALID_ARGUMENT);
}

/* --- a raw HTTP server: what the client writes, byte for byte --- */

#define RAW_REALM "Digest:4D1B31F6DF34A2C7B6D8E9A2C3D4E5F6"
#define RAW_PASSWORD "Raw-Passw0rd!"
#define RAW_MAX_REQUESTS 16

enum raw_mode {
    RAW_DIGEST,      /* 401 without credentials, digest_check with them */
    RAW_BIG_HEADERS, /* 200 with more header bytes than the client takes */
    RAW_BIG_LENGTH,  /* 200 announcing a body over the cap */
    RAW_BIG_STREAM,  /* 200 streaming a body over the cap until it closes */
    RAW_NOT_XML,     /* 200 with text */
    RAW_NOT_FOUND,   /* 404 */
    RAW_WRONG_RELATES,
};

struct raw_request {
    int conn;
    char authorization[1024];
    char soap_action[256];
    char path[128];
    char body[4096];
    size_t body_len;
};

struct raw_conn {
    int fd;
    int id;
    struct loop_watch *watch;
    char in[16384];
    size_t in_len;
    char *out;
    size_t out_len, out_off;
};

static struct {
    int lfd;
    unsigned port;
    struct loop_watch *lwatch;
    enum raw_mode mode;
    int conns;
    struct raw_conn *open[8];
    struct raw_request req[RAW_MAX_REQUESTS];
    int n_req;
    unsigned nonce_serial;
} raw;

static void raw_close(struct raw_conn *c);

static void
raw_flush(struct raw_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);

        if (n <= 0)
            break;
        c->out_off += (size_t)n;
    }
    loop_watch_modify(loop, c->watch, EPOLLIN | (c->out_off < c->out_len ? EPOLLOUT : 0));
}

static void
raw_send(struct raw_conn *c, const char *head, const char *body, size_t body_len)
{
    size_t hl = strlen(head);

    free(c->out);
    c->out = malloc(hl + body_len);
    memcpy(c->out, head, hl);
    if (body_len > 0)
        memcpy(c->out + hl, body, body_len);
    c->out_len = hl + body_len;
    c->out_off = 0;
    raw_flush(c);
}

/* A 401 as AMT 16.1 writes it: no space after some commas. */
static void
raw_challenge(struct raw_conn *c)
{
    struct digest_challenge ch;
    char value[DIGEST_HEADER_MAX], head[DIGEST_HEADER_MAX + 256];

    memset(&ch, 0, sizeof(ch));
    snprintf(ch.realm, sizeof(ch.realm), RAW_REALM);
    snprintf(ch.nonce, sizeof(ch.nonce), "raw-nonce-%u", ++raw.nonce_serial);
    ch.qop = DIGEST_QOP_AUTH | DIGEST_QOP_AUTH_INT;
    ch.has_qop = true;
    CU_ASSERT_EQUAL(digest_format_challenge(&ch, value, sizeof(value)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(value, "\",stale=\"false\",qop=\""));
    snprintf(head, sizeof(head),
             "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: %s\r\n"
             "Content-Length: 0\r\n\r\n",
             value);
    raw_send(c, head, NULL, 0);
}

static void
raw_soap_reply(struct raw_conn *c)
{
    struct soap_msg *m = NULL;
    char ns[256], head[128], *text = NULL;
    size_t len = 0;

    soap_service_ns(SA_SERVICE, NULL, ns, sizeof(ns));
    CU_ASSERT_EQUAL(soap_response_new(ns, "GetCoreVersion", 0, &m), 0);
    CU_ASSERT_EQUAL(soap_msg_add(m, NULL, "Version", "16.1.25", NULL), 0);
    CU_ASSERT_EQUAL(soap_msg_text(m, &text, &len), 0);
    snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", len);
    raw_send(c, head, text, len);
    free(text);
    soap_msg_free(m);
}

static void
raw_answer(struct raw_conn *c, const struct raw_request *rq)
{
    static char big[1200 * 1024];
    char head[32 * 1024];
    size_t used;

    switch (raw.mode) {
    case RAW_DIGEST: {
        struct digest_authorization a;
        enum digest_suspicion sus;

        if (rq->authorization[0] == '\0' ||
            digest_parse_authorization(rq->authorization, &a) != 0 ||
            digest_check(&a, RAW_REALM, RAW_PASSWORD, "POST", &sus) != 0)
            raw_challenge(c);
        else
            raw_soap_reply(c);
        return;
    }
    case RAW_BIG_HEADERS:
        used = (size_t)snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n");
        while (used < AMT_CLIENT_HEADERS_MAX + 1024)
            used += (size_t)snprintf(head + used, sizeof(head) - used,
                                     "X-Filler: %0100d\r\n", 0);
        snprintf(head + used, sizeof(head) - used, "Content-Length: 0\r\n\r\n");
        raw_send(c, head, NULL, 0);
        return;
    case RAW_BIG_LENGTH:
        raw_send(c, "HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n<a>", NULL, 0);
        return;
    case RAW_BIG_STREAM:
        memset(big, 'x', sizeof(big));
        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        raw_send(c, head, big, sizeof(big));
        return;
    case RAW_NOT_XML:
        raw_send(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", NULL, 0);
        return;
    case RAW_NOT_FOUND:
        raw_send(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", NULL, 0);
        return;
    case RAW_WRONG_RELATES: {
        static const char body[] =
            "<s:Envelope xmlns:s=\"" WSMAN_ENV_NS "\" xmlns:a=\"" WSMAN_WSA_NS "\">"
            "<s:Header><a:Action>" WSMAN_ACTION_DELETE_RESPONSE "</a:Action>"
            "<a:RelatesTo>uuid:not-yours</a:RelatesTo></s:Header><s:Body/></s:Envelope>";

        snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
                 sizeof(body) - 1);
        raw_send(c, head, body, sizeof(body) - 1);
        return;
    }
    }
}

static bool
raw_header(const char *headers, const char *name, char *buf, size_t size)
{
    const char *p = headers;
    size_t n = strlen(name);

    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;

            while (*v == ' ')
                v++;
            snprintf(buf, size, "%.*s", (int)strcspn(v, "\r\n"), v);
            return true;
        }
    }
    return false;
}

/* The end of the headers in the buffer, or NULL while they are incomplete. */
static char *
headers_end(struct raw_conn *c)
{
    for (size_t i = 0; i + 4 <= c->in_len; i++)
        if (memcmp(c->in + i, "\r\n\r\n", 4) == 0)
            return c->in + i;
    return NULL;
}

/* Takes every complete request out of the buffer and answers it. */
static void
raw_parse(struct raw_conn *c)
{
    char *end, length[32] = "0";
    size_t head_len, body_len;
    struct raw_request *rq;

    while ((end = headers_end(c)) != NULL) {
        *end = '\0';
        head_len = (size_t)(end - c->in) + 4;
        raw_header(c->in, "Content-Length", length, sizeof(length));
        body_len = (size_t)strtoul(length, NULL, 10);
        if (c->in_len < head_len + body_len) {
            *end = '\r';
            return;
        }
        CU_ASSERT_FATAL(raw.n_req < RAW_MAX_REQUESTS);
        rq = &raw.req[raw.n_req++];
        memset(rq, 0, sizeof(*rq));
        rq->conn = c->id;
        sscanf(c->in, "POST %127s HTTP/1.1", rq->path);
        raw_header(c->in, "Authorization", rq->authorization, sizeof(rq->authorization));
        raw_header(c->in, "SOAPAction", rq->soap_action, sizeof(rq->soap_action));
        rq->body_len = body_len < sizeof(rq->body) ? body_len : sizeof(rq->body) - 1;
        memcpy(rq->body, c->in + head_len, rq->body_len);
        memmove(c->in, c->in + head_len + body_len, c->in_len - head_len - body_len);
        c->in_len -= head_len + body_len;
        raw_answer(c, rq);
    }
}

static void
raw_io(struct amt_loop *l, int fd, uint32_t events, void *arg)
{
    struct raw_conn *c = arg;
    ssize_t n;

    if (events & EPOLLOUT)
        raw_flush(c);
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    n = read(fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN)
            return;
        raw_close(c);
        return;
    }
    c->in_len += (size_t)n;
    raw_parse(c);
}

static void
raw_accept(struct amt_loop *l, int fd, uint32_t events, void *arg)
{
    struct raw_conn *c;
    int cfd = accept(fd, NULL, NULL);

    if (cfd < 0)
        return;
    fcntl(cfd, F_SETFL, O_NONBLOCK);
    c = calloc(1, sizeof(*c));
    c->fd = cfd;
    c->id = ++raw.conns;
    for (size_t i = 0; i < 8; i++)
        if (raw.open[i] == NULL) {
            raw.open[i] = c;
            break;
        }
    CU_ASSERT_EQUAL(loop_watch(loop, cfd, EPOLLIN, raw_io, c, &c->watch), 0);
}

static void
raw_close(struct raw_conn *c)
{
    for (size_t i = 0; i < 8; i++)
        if (raw.open[i] == c)
            raw.open[i] = NULL;
    loop_unwatch(loop, c->watch);
    close(c->fd);
    free(c->out);
    free(c);
}

static void
raw_start(enum raw_mode mode)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int one = 1;

    memset(&raw, 0, sizeof(raw));
    raw.mode = mode;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.99", &sa.sin_addr);
    raw.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    setsockopt(raw.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    CU_ASSERT_EQUAL_FATAL(bind(raw.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    CU_ASSERT_EQUAL_FATAL(listen(raw.lfd, 8), 0);
    getsockname(raw.lfd, (struct sockaddr *)&sa, &len);
    raw.port = ntohs(sa.sin_port);
    CU_ASSERT_EQUAL_FATAL(
        loop_watch(loop, raw.lfd, EPOLLIN, raw_accept, NULL, &raw.lwatch), 0);
}

static void
raw_stop(void)
{
    for (size_t i = 0; i < 8; i++)
        if (raw.open[i] != NULL)
            raw_close(raw.open[i]);
    loop_unwatch(loop, raw.lwatch);
    close(raw.lfd);
}

static struct amt_session *
raw_session(const struct amt_credential *creds, size_t n, bool in_band)
{
    struct amt_session_config cfg;
    struct amt_session *s = NULL;

    memset(&cfg, 0, sizeof(cfg));
    cfg.host = "127.0.0.99";
    cfg.port = AMT_CLIENT_PORT_HTTP;
    cfg.connect_port = raw.port;
    cfg.credentials = creds;
    cfg.n_credentials = n;
    cfg.in_band = in_band;
    CU_ASSERT_EQUAL_FATAL(amt_session_new(client, &cfg, &s), 0);
    return s;
}

/*
 * OOB-4.1 to OOB-4.3 on the wire: the same POST without and then with credentials on
 * one connection; the next credential on a second connection; a response the
 * server's own digest_check accepts, to a challenge without spaces after commas.
 */
static void
test_digest_sequence_on_the_wire(void)
{
    static const struct amt_credential creds[] = {{"admin", "Not-The-0ne"},
                                                  {"admin", RAW_PASSWORD}};
    struct digest_authorization a;
    struct outcome out;
    struct amt_session *s;

    raw_start(RAW_DIGEST);
    s = raw_session(creds, 2, true);
    core_version(s, &out);
    CU_ASSERT_EQUAL(out.err, 0);
    CU_ASSERT_STRING_EQUAL(out.version, "16.1.25");
    CU_ASSERT_EQUAL(out.credential, 1);
    CU_ASSERT_EQUAL_FATAL(raw.n_req, 3);
    /* no credentials, the whole SOAP request */
    CU_ASSERT_STRING_EQUAL(raw.req[0].authorization, "");
    CU_ASSERT_STRING_EQUAL(raw.req[0].path, "/SecurityAdministrationService");
    CU_ASSERT_PTR_NOT_NULL(strstr(raw.req[0].soap_action, "#GetCoreVersion\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(raw.req[0].body, "GetCoreVersion"));
    /* the same payload with the first credential, on the same connection */
    CU_ASSERT_EQUAL(raw.req[1].conn, raw.req[0].conn);
    CU_ASSERT_EQUAL(raw.req[1].body_len, raw.req[0].body_len);
    CU_ASSERT_EQUAL(memcmp(raw.req[1].body, raw.req[0].body, raw.req[0].body_len), 0);
    CU_ASSERT_STRING_EQUAL(raw.req[1].soap_action, raw.req[0].soap_action);
    CU_ASSERT_EQUAL_FATAL(digest_parse_authorization(raw.req[1].authorization, &a), 0);
    CU_ASSERT_STRING_EQUAL(a.username, "admin");
    CU_ASSERT_STRING_EQUAL(a.realm, RAW_REALM);
    CU_ASSERT_STRING_EQUAL(a.nonce, "raw-nonce-1");
    CU_ASSERT_STRING_EQUAL(a.uri, "/SecurityAdministrationService");
    CU_ASSERT_STRING_EQUAL(a.qop, "auth");
    CU_ASSERT_STRING_EQUAL(a.nc, "00000001");
    /* the second credential on a new connection, with the latest nonce */
    CU_ASSERT_NOT_EQUAL(raw.req[2].conn, raw.req[1].conn);
    CU_ASSERT_EQUAL(memcmp(raw.req[2].body, raw.req[0].body, raw.req[0].body_len), 0);
    CU_ASSERT_EQUAL_FATAL(digest_parse_authorization(raw.req[2].authorization, &a), 0);
    CU_ASSERT_STRING_EQUAL(a.nonce, "raw-nonce-2");
    CU_ASSERT_PTR_NULL(strstr(raw.req[2].authorization, RAW_PASSWORD));
    CU_ASSERT_EQUAL(raw.conns, 2);
    /* an in-band session: IB-7 and IB-8 (no other session here is one) */
    CU_ASSERT_STRING_EQUAL(
        query(sp_events_path, NULL, "IB-7.4", NULL, NULL, NULL, NULL).sequence,
        "fail,ok");
    CU_ASSERT_EQUAL(query(sp_events_path, NULL, "IB-7.1", "ok", NULL, NULL, NULL).count,
                    1);
    CU_ASSERT_EQUAL(
        query(sp_events_path, NULL, "IB-8", "info", NULL, "credential", "2").count, 1);

    /* later calls: the credential at once, the nonce counted on */
    core_version(s, &out);
    CU_ASSERT_EQUAL(out.err, 0);
    CU_ASSERT_EQUAL_FATAL(raw.n_req, 4);
    CU_ASSERT_EQUAL(raw.req[3].conn, raw.req[2].conn);
    CU_ASSERT_EQUAL_FATAL(digest_parse_authorization(raw.req[3].authorization, &a), 0);
    CU_ASSERT_STRING_EQUAL(a.nonce, "raw-nonce-2");
    CU_ASSERT_STRING_EQUAL(a.nc, "00000002");
    amt_session_free(s);
    raw_stop();
}

/* Replies the client must not take: too large, not XML, another status. */
static void
test_reply_refusals(void)
{
    static const struct {
        enum raw_mode mode;
        bool wsman;
        int err;
        const char *reason;
    } cases[] = {
        {RAW_BIG_HEADERS, false, AMT_ERR_CLIENT_REPLY, "reply-too-large"},
        {RAW_BIG_LENGTH, false, AMT_ERR_CLIENT_REPLY, "reply-too-large"},
        {RAW_BIG_STREAM, false, AMT_ERR_CLIENT_REPLY, "reply-too-large"},
        {RAW_NOT_XML, false, AMT_ERR_CLIENT_REPLY, "malformed-reply"},
        {RAW_NOT_FOUND, false, AMT_ERR_CLIENT_HTTP, "http-404"},
        {RAW_WRONG_RELATES, true, AMT_ERR_CLIENT_REPLY, "malformed-reply"},
    };
    struct outcome out;
    struct amt_session *s;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        raw_start(cases[i].mode);
        s = raw_session(&admin, 1, false);
        if (cases[i].wsman) {
            queue_wsman(s, WSMAN_DELETE, "AMT_PublicKeyCertificate", &out);
            wait_for(&out);
        } else {
            core_version(s, &out);
        }
        CU_ASSERT_EQUAL(out.err, cases[i].err);
        CU_ASSERT_STRING_EQUAL(out.reason, cases[i].reason);
        if (strcmp(out.reason, cases[i].reason) != 0)
            fprintf(stderr, "\n  case %zu: %s (%s)\n", i, out.reason, out.detail);
        amt_session_free(s);
        raw_stop();
    }
}

/* Freeing a session from its own callback, and with calls still queued. */
static void
free_in_callback(struct amt_session *s, struct amt_result *res, void *arg)
{
    on_result(s, res, arg);
    amt_session_free(s);
}

static void
test_session_lifetime(void)
{
    struct outcome first, second;
    struct amt_session *s;
    struct soap_msg *m = NULL;
    char ns[256];

    raw_start(RAW_NOT_FOUND);
    s = raw_session(&admin, 1, false);
    memset(&first, 0, sizeof(first));
    CU_ASSERT_EQUAL_FATAL(soap_service_ns(SA_SERVICE, NULL, ns, sizeof(ns)), 0);
    CU_ASSERT_EQUAL_FATAL(soap_request_new(ns, "GetCoreVersion", &m), 0);
    CU_ASSERT_EQUAL(amt_session_soap(s, SA_SERVICE, NULL, "GetCoreVersion", m,
                                     free_in_callback, &first),
                    0);
    soap_msg_free(m);
    queue_core_version(s, &second);
    wait_for(&first);
    CU_ASSERT_STRING_EQUAL(first.reason, "http-404");
    /* the queued call went with the session, unanswered */
    CU_ASSERT_FALSE(second.done);

    /* a session freed in the middle of a call: nothing dangles */
    s = raw_session(&admin, 1, false);
    queue_core_version(s, &second);
    loop_run_once(loop, 1);
    amt_session_free(s);
    for (int i = 0; i < 5; i++)
        loop_run_once(loop, 1);
    CU_ASSERT_FALSE(second.done);
    CU_ASSERT_EQUAL(curl_loop_count(cloop), 0);
    raw_stop();
}

/* --- suite --- */

static int
write_ca_file(void)
{
    char path[512];
    FILE *out = fopen(ca_path, "w");
    const char *names[] = {"issuing-ca.crt", "root-ca.crt"};

    if (out == NULL)
        return -1;
    for (size_t i = 0; i < 2; i++) {
        unsigned char *pem;

        certs_path(names[i], path, sizeof(path));
        if ((pem = unit_read_file(path, NULL)) == NULL)
            break;
        fputs((const char *)pem, out);
        free(pem);
    }
    return fclose(out) == 0 ? 0 : -1;
}

static int
suite_init(void)
{
    static const struct sim_http_handlers handlers = {
        .soap = sim_soap_handle,
        .wsman = sim_wsman_handle,
        .is_soap_path = sim_soap_path,
    };
    struct sim_net_options o;

    signal(SIGPIPE, SIG_IGN);
    if (mkdtemp(tmp_root) == NULL || keypool_new(2048, &keys) != 0 ||
        clock_new_virtual(1000, &vclock) != 0 || loop_new(vclock, &loop) != 0)
        return -1;
    snprintf(sim_events_path, sizeof(sim_events_path), "%s/sim.jsonl", tmp_root);
    snprintf(sp_events_path, sizeof(sp_events_path), "%s/sp.jsonl", tmp_root);
    snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", tmp_root);
    if (evlog_open(sim_events_path, &sim_events) != 0 ||
        evlog_open(sp_events_path, &sp_events) != 0 || write_ca_file() != 0)
        return -1;
    sim_net_options_default(&o);
    /* each device has an address of its own; the ports only keep off real AMT's */
    sim_net_options_port_base(&o, 23000 + (unsigned)(getpid() % 1000) * 4);
    if (sim_net_new(loop, &handlers, &o, &net) != 0 || curl_loop_new(loop, &cloop) != 0 ||
        amt_client_new(loop, cloop, sp_events, &client) != 0)
        return -1;
    return 0;
}

static int
suite_clean(void)
{
    char cmd[300];

    amt_client_free(client);
    curl_loop_free(cloop);
    sim_net_free(net);
    sim_wsman_forget_all();
    loop_free(loop);
    evlog_free(sim_events);
    evlog_free(sp_events);
    clock_free(vclock);
    keypool_free(keys);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

static CU_TestInfo client_tests[] = {
    /* against amt-sim */
    {"legacy provisioning session (4.0)", test_legacy_provisioning_session},
    {"credential retry, one connection each", test_credential_retry},
    {"digest exhausted", test_digest_exhausted},
    {"stale nonce", test_stale_nonce},
    {"refused chain and blocked ports", test_refusals_and_blocked_ports},
    {"pinning and CA trust", test_pinning_and_ca_trust},
    {"TLS 1.2 and WS-Management", test_tls12_and_wsman},
    /* without a device, or against the raw server */
    {"IPv6 and bad hosts refused", test_ipv6_and_bad_hosts_refused},
    {"client chain checked", test_client_chain_checked},
    {"digest sequence on the wire", test_digest_sequence_on_the_wire},
    {"reply refusals", test_reply_refusals},
    {"session lifetime", test_session_lifetime},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"amtclient", suite_init, suite_clean, NULL, NULL, client_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_prov_amtclient", suites);
}
