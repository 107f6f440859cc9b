/*
 * The simulator's network side against real clients on loopback: libcurl (and the
 * curl command line when installed) talking to a device's listeners, with the
 * loop driven by this single thread between the client's steps, in virtual time.
 * Port rules by state (PORT-*, NET-IPV4), Digest with its refusals (OOB-4,
 * CVE-2017-5689, lockout, stale nonces), the provisioning TLS handshake with each
 * certificate of the test PKI (OOB-3), TLS versions by firmware generation, and
 * the fault hooks.
 */
#include "clock.h"
#include "device.h"
#include "digest.h"
#include "err.h"
#include "evlog.h"
#include "json.h"
#include "keypool.h"
#include "loop.h"
#include "net.h"
#include "thumbprint.h"
#include "unit.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GOOD_PASSWORD "P@ssw0rd-Strong1"
#define SOAP_PATH "/SecurityAdministrationService"
#define SOAP_ACTION                                                                      \
    "http://schemas.intel.com/platform/client/SecurityAdministration/2004/01#"           \
    "GetCoreVersion"
/* Real seconds a client exchange may take before the test gives up on it. */
#define EXCHANGE_LIMIT 15.0

static char tmp_root[] = "/tmp/test_sim_http.XXXXXX";
static char events_path[300];
static unsigned device_counter;
static struct keypool *keys;
static struct amt_clock *vclock;
static struct evlog *events;
static struct amt_loop *loop;
static struct sim_net *net;
static struct sim_net_options net_opt;
static CURLM *multi;

/* --- what the services behind the front were given --- */

static struct {
    int calls;
    char method[16];
    char path[128];
    char user[64];
    char action[256];
    char body[512];
    size_t body_len;
    unsigned port;
    bool tls;
    bool provisioning_session;
} seen;

static int
echo_service(const struct sim_request *req, struct sim_response *resp)
{
    seen.calls++;
    snprintf(seen.method, sizeof(seen.method), "%s", req->method);
    snprintf(seen.path, sizeof(seen.path), "%s", req->path);
    snprintf(seen.user, sizeof(seen.user), "%s", req->user);
    snprintf(seen.action, sizeof(seen.action), "%s",
             req->soap_action != NULL ? req->soap_action : "(none)");
    snprintf(seen.body, sizeof(seen.body), "%s", req->body);
    seen.body_len = req->body_len;
    seen.port = req->port;
    seen.tls = req->tls;
    seen.provisioning_session = req->provisioning_session;
    resp->status = 200;
    resp->content_type = "text/plain";
    resp->body = strdup("echo\n");
    resp->body_len = resp->body != NULL ? 5 : 0;
    return resp->body != NULL ? 0 : AMT_ERR_ALLOC;
}

static bool
echo_is_soap_path(const char *path)
{
    size_t n = strlen(path);

    return path[0] == '/' && n > 8 && strcmp(path + n - 7, "Service") == 0;
}

/* --- redirection hooks --- */

static int redir_plain_calls, redir_tls_calls;

static void
redir_plain(void *arg, struct sim_device *dev, int fd, const struct sockaddr_in *peer)
{
    redir_plain_calls++;
    close(fd);
}

static void
redir_tls(void *arg, struct sim_device *dev, SSL *ssl, int fd,
          const struct sockaddr_in *peer)
{
    redir_tls_calls++;
    SSL_free(ssl);
    close(fd);
}

/* --- the root thumbprints of the test PKI --- */

static int
read_thumbprint(const char *name, struct amt_thumbprint *out)
{
    char path[512], line[256];
    FILE *fp;
    int r = AMT_ERR_NOT_FOUND;

    snprintf(path, sizeof(path), "%s/%s", AMT_CERTS_DIR, name);
    if ((fp = fopen(path, "r")) == NULL)
        return AMT_ERR_SYSTEM;
    if (fgets(line, sizeof(line), fp) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        r = thumbprint_parse(line, out);
    }
    fclose(fp);
    return r;
}

/* What the firmware stores: the enterprise root, and the 4096-bit one so that its
 * refusal is for the key length, not for trust. */
static int
load_roots(struct sim_device_config *cfg)
{
    int r;

    if ((r = read_thumbprint("root-ca.sha1.txt", &cfg->roots[0])) != 0 ||
        (r = read_thumbprint("root-ca-4096.sha1.txt", &cfg->roots[1])) != 0)
        return r;
    cfg->n_roots = 2;
    return 0;
}

/* --- devices --- */

struct fixture {
    char dir[256];
    char uuid[40];
    struct sim_device_config cfg;
    struct sim_env env;
    struct sim_device *dev;
};

static void
fixture_config(struct fixture *f, const char *version)
{
    unsigned n = device_counter++;

    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "%s/dev%u", tmp_root, n);
    snprintf(f->uuid, sizeof(f->uuid), "12345678-9abc-def0-1234-%012x", n + 1);
    CU_ASSERT_EQUAL_FATAL(uuid_parse(f->uuid, &f->cfg.uuid), 0);
    CU_ASSERT_EQUAL_FATAL(sim_profile_from_text(version, &f->cfg.profile), 0);
    snprintf(f->cfg.listen, sizeof(f->cfg.listen), "127.0.0.%u", 10 + n % 240);
    f->cfg.flash_dir = f->dir;
    f->cfg.dhcp_domain = "contoso.com";
    f->cfg.lockout_failures = 3;
    f->cfg.lockout_seconds = 60;
    CU_ASSERT_EQUAL_FATAL(load_roots(&f->cfg), 0);
    f->env.events = events;
    f->env.clock = vclock;
    f->env.keys = keys;
}

static void
fixture_start(struct fixture *f)
{
    char err[256] = "";

    f->dev = NULL;
    CU_ASSERT_EQUAL_FATAL(sim_device_open(&f->cfg, &f->env, &f->dev, err, sizeof(err)),
                          0);
    CU_ASSERT_EQUAL_FATAL(sim_net_add_device(net, f->dev, err, sizeof(err)), 0);
}

static void
fixture_stop(struct fixture *f)
{
    sim_net_remove_device(net, f->dev);
    /* let the daemon see the connections end before the device goes */
    for (int i = 0; i < 5; i++)
        loop_run_once(loop, 1);
    sim_device_free(f->dev);
    f->dev = NULL;
}

static void
fixture_provisioned(struct fixture *f, const char *version, bool tls)
{
    fixture_config(f, version);
    f->cfg.start_provisioned = true;
    f->cfg.admin_password = GOOD_PASSWORD;
    f->cfg.tls = tls;
    fixture_start(f);
}

/* --- a client on this thread: curl's multi interface, the loop in between --- */

struct reply {
    CURLcode code;
    long status;
    char headers[8192];
    size_t hlen;
    char body[4096];
    size_t blen;
};

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
    struct reply *rp = arg;
    size_t len = size * n;
    size_t room = sizeof(rp->headers) - 1 - rp->hlen;
    size_t take = len < room ? len : room;

    memcpy(rp->headers + rp->hlen, p, take);
    rp->hlen += take;
    rp->headers[rp->hlen] = '\0';
    return len;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    struct reply *rp = arg;
    size_t len = size * n;
    size_t room = sizeof(rp->body) - 1 - rp->blen;
    size_t take = len < room ? len : room;

    memcpy(rp->body + rp->blen, p, take);
    rp->blen += take;
    rp->body[rp->blen] = '\0';
    return len;
}

static double
real_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Runs one transfer to its end. After `advance_after` rounds (0: never) the
 * virtual clock moves `advance` seconds, for faults that wait in virtual time.
 */
static CURLcode
perform_advancing(CURL *e, struct reply *rp, int advance_after, double advance)
{
    double limit = real_now() + EXCHANGE_LIMIT;
    int running = 1, rounds = 0, left;
    CURLMsg *msg;
    CURLcode code = CURLE_OPERATION_TIMEDOUT;

    memset(rp, 0, sizeof(*rp));
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, rp);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, rp);
    curl_multi_add_handle(multi, e);
    while (running && real_now() < limit) {
        curl_multi_perform(multi, &running);
        if (!running)
            break;
        curl_multi_poll(multi, NULL, 0, 1, NULL);
        loop_run_once(loop, 1);
        if (++rounds == advance_after)
            clock_advance(vclock, advance);
    }
    while ((msg = curl_multi_info_read(multi, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == e)
            code = msg->data.result;
    curl_multi_remove_handle(multi, e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &rp->status);
    rp->code = code;
    /* the server's side of an ending connection runs too */
    for (int i = 0; i < 3; i++)
        loop_run_once(loop, 1);
    return code;
}

static CURLcode
perform(CURL *e, struct reply *rp)
{
    return perform_advancing(e, rp, 0, 0);
}

static void
url_of(const struct fixture *f, enum sim_port port, const char *path, char *buf,
       size_t size)
{
    snprintf(buf, size, "%s://%s:%u%s",
             port == SIM_PORT_HTTPS || port == SIM_PORT_REDIR_TLS ? "https" : "http",
             f->cfg.listen, sim_net_bound_port(net, port), path);
}

/* A handle for one device and port; userpwd NULL sends no credentials. */
static CURL *
client(const struct fixture *f, enum sim_port port, const char *path, const char *userpwd)
{
    CURL *e = curl_easy_init();
    char url[256];

    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    url_of(f, port, path, url, sizeof(url));
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    if (userpwd != NULL) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_DIGEST);
        curl_easy_setopt(e, CURLOPT_USERPWD, userpwd);
    }
    if (f->cfg.profile.tls == SIM_TLS_LEGACY) {
        curl_easy_setopt(e, CURLOPT_SSLVERSION,
                         (long)(CURL_SSLVERSION_TLSv1_0 | CURL_SSLVERSION_MAX_TLSv1_0));
        curl_easy_setopt(e, CURLOPT_SSL_CIPHER_LIST, "AES128-SHA:@SECLEVEL=0");
    }
    return e;
}

/* The client presents build/certs/NAME.chain.pem with its key. */
static void
client_cert(CURL *e, const char *name)
{
    char cert[512], key[512];

    snprintf(cert, sizeof(cert), "%s/%s.chain.pem", AMT_CERTS_DIR, name);
    snprintf(key, sizeof(key), "%s/%s.key", AMT_CERTS_DIR, name);
    curl_easy_setopt(e, CURLOPT_SSLCERT, cert);
    curl_easy_setopt(e, CURLOPT_SSLKEY, key);
}

static struct curl_slist *
soap_headers(void)
{
    return curl_slist_append(NULL, "SOAPAction: \"" SOAP_ACTION "\"");
}

static void
set_post(CURL *e, const char *body)
{
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
}

/* --- the event log --- */

struct event_query {
    const char *device, *id, *result, *reason, *key, *value;
    size_t count;
};

static int
count_event(const struct evlog_event *ev, void *arg)
{
    struct event_query *q = arg;
    const struct json_value *v;
    const char *s;
    size_t len;
    int64_t num;

    if (q->device != NULL && strcmp(ev->device, q->device) != 0)
        return 0;
    if (strcmp(ev->id, q->id) != 0)
        return 0;
    if (q->result != NULL && strcmp(evlog_result_name(ev->result), q->result) != 0)
        return 0;
    if (q->reason != NULL && (ev->reason == NULL || strcmp(ev->reason, q->reason) != 0))
        return 0;
    if (q->key != NULL) {
        if ((v = json_object_get(ev->detail, q->key)) == NULL)
            return 0;
        if (json_get_string(v, &s, &len) == 0) {
            if (strlen(q->value) != len || strncmp(s, q->value, len) != 0)
                return 0;
        } else if (json_get_int(v, &num) == 0) {
            if (num != atoll(q->value))
                return 0;
        } else {
            bool b;

            if (json_get_bool(v, &b) != 0 || strcmp(b ? "true" : "false", q->value) != 0)
                return 0;
        }
    }
    q->count++;
    return 0;
}

/* Events of the device with this id (and result, reason, one detail: NULL = any). */
static size_t
events_of(const struct fixture *f, const char *id, const char *result, const char *reason,
          const char *key, const char *value)
{
    struct event_query q = {f->uuid, id, result, reason, key, value, 0};
    char err[256] = "";

    CU_ASSERT_EQUAL(evlog_read_file(events_path, count_event, &q, NULL, err, sizeof(err)),
                    0);
    return q.count;
}

/* --- tests: listeners --- */

static void
test_default_ports_are_amts(void)
{
    struct sim_net_options o;

    sim_net_options_default(&o);
    CU_ASSERT_EQUAL(o.ports[SIM_PORT_HTTP], 16992);
    CU_ASSERT_EQUAL(o.ports[SIM_PORT_HTTPS], 16993);
    CU_ASSERT_EQUAL(o.ports[SIM_PORT_REDIR], 16994);
    CU_ASSERT_EQUAL(o.ports[SIM_PORT_REDIR_TLS], 16995);
    CU_ASSERT_EQUAL(sim_port_number(SIM_PORT_REDIR_TLS), 16995);
    sim_net_options_port_base(&o, 30000);
    CU_ASSERT_EQUAL(o.ports[SIM_PORT_REDIR_TLS], 30003);
}

static void
test_ipv6_address_refused(void)
{
    struct fixture f;
    char err[256] = "";

    fixture_config(&f, "12.0");
    snprintf(f.cfg.listen, sizeof(f.cfg.listen), "::1");
    CU_ASSERT_EQUAL_FATAL(sim_device_open(&f.cfg, &f.env, &f.dev, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(sim_net_add_device(net, f.dev, err, sizeof(err)), AMT_ERR_NET_IPV6);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "IPv4 only"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "::1"));
    CU_ASSERT_EQUAL(events_of(&f,
                              evlog_id_valid("NET-IPV4") ? "NET-IPV4" : "X-sim.net-ipv4",
                              "fail", "ipv6-refused", NULL, NULL),
                    1);
    snprintf(f.cfg.listen, sizeof(f.cfg.listen), "localhost");
    CU_ASSERT_EQUAL(sim_net_add_device(net, f.dev, err, sizeof(err)),
                    AMT_ERR_NET_ADDRESS);
    sim_device_free(f.dev);
}

static void
test_address_in_use_named(void)
{
    struct fixture f;
    struct sockaddr_in sa;
    char err[256] = "", want[64];
    int one = 1, fd;

    fixture_config(&f, "12.0");
    CU_ASSERT_EQUAL_FATAL(sim_device_open(&f.cfg, &f.env, &f.dev, err, sizeof(err)), 0);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, f.cfg.listen, &sa.sin_addr);
    sa.sin_port = htons((uint16_t)sim_net_bound_port(net, SIM_PORT_HTTPS));
    CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    CU_ASSERT_EQUAL_FATAL(listen(fd, 1), 0);

    CU_ASSERT_EQUAL(sim_net_add_device(net, f.dev, err, sizeof(err)), AMT_ERR_NET_LISTEN);
    CU_ASSERT_EQUAL(errno, EADDRINUSE);
    snprintf(want, sizeof(want), "%s:%u", f.cfg.listen,
             sim_net_bound_port(net, SIM_PORT_HTTPS));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
    CU_ASSERT_EQUAL(sim_net_device_connections(net, f.dev), 0);
    close(fd);
    /* nothing was left bound: the device can start now */
    CU_ASSERT_EQUAL(sim_net_add_device(net, f.dev, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(sim_net_add_device(net, f.dev, err, sizeof(err)),
                    AMT_ERR_NET_DUPLICATE);
    fixture_stop(&f);
}

/* --- tests: discovery and digest on 16992 --- */

static void
test_discovery_in_setup(void)
{
    struct fixture f;
    struct reply rp;
    CURL *e;

    fixture_config(&f, "4.0.3");
    fixture_start(&f);
    e = client(&f, SIM_PORT_HTTP, "/", NULL);
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(rp.headers, "Server: Intel(R) Active Management Technology 4.0.3\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(rp.body, "4.0.3 - not provisioned"));
    CU_ASSERT_EQUAL(events_of(&f, "PORT-16992", "ok", NULL, "status", "200"), 1);
    /* HEAD too: the header alone tells the version */
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(rp.headers, "Intel(R) Active Management Technology"));
    curl_easy_cleanup(e);
    fixture_stop(&f);
}

static void
test_digest_factory_admin_in_setup(void)
{
    struct fixture f;
    struct reply rp;
    struct curl_slist *h = soap_headers();
    char want[128];
    CURL *e;

    fixture_config(&f, "4.0");
    fixture_start(&f);
    memset(&seen, 0, sizeof(seen));
    e = client(&f, SIM_PORT_HTTP, SOAP_PATH, "admin:admin");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    set_post(e, "<Envelope/>");
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    /* the first answer was the challenge, with the device's realm */
    snprintf(want, sizeof(want), "realm=\"%s\"", sim_device_realm(f.dev));
    CU_ASSERT_PTR_NOT_NULL(strstr(rp.headers, "HTTP/1.1 401"));
    CU_ASSERT_PTR_NOT_NULL(strstr(rp.headers, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(rp.headers, "qop=\"auth\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(rp.headers, "Server: Intel(R) Active Management"));
    CU_ASSERT_EQUAL(seen.calls, 1);
    CU_ASSERT_STRING_EQUAL(seen.user, "admin");
    CU_ASSERT_STRING_EQUAL(seen.method, "POST");
    CU_ASSERT_STRING_EQUAL(seen.path, SOAP_PATH);
    CU_ASSERT_STRING_EQUAL(seen.action, SOAP_ACTION);
    CU_ASSERT_STRING_EQUAL(seen.body, "<Envelope/>");
    CU_ASSERT_EQUAL(seen.body_len, 11);
    CU_ASSERT_EQUAL(seen.port, 16992);
    CU_ASSERT_FALSE(seen.tls);
    CU_ASSERT_FALSE(seen.provisioning_session);
    CU_ASSERT(events_of(&f, "OOB-4.1", "ok", NULL, NULL, NULL) >= 1);
    CU_ASSERT(events_of(&f, "OOB-4.2", "ok", NULL, "status", "401") >= 1);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-4.3", "ok", NULL, "user", "admin"), 1);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-4.4", "ok", NULL, "user", "admin"), 1);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-4.4", "fail", NULL, NULL, NULL), 0);
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.conn.open", "info", NULL, "port", "16992"), 1);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    fixture_stop(&f);
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.conn.close", "info", NULL, "port", "16992"), 1);
}

static void
test_wrong_password_is_a_failure(void)
{
    struct fixture f;
    struct reply rp;
    CURL *e;

    fixture_config(&f, "12.0");
    fixture_start(&f);
    memset(&seen, 0, sizeof(seen));
    e = client(&f, SIM_PORT_HTTP, SOAP_PATH, "admin:wrong");
    set_post(e, "x");
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 401);
    CU_ASSERT_PTR_NOT_NULL(strstr(rp.body, "Log on failed"));
    CU_ASSERT_EQUAL(seen.calls, 0);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-4.4", "fail", "wrong-password", "user", "admin"),
                    1);
    curl_easy_cleanup(e);
    /* an unknown user is a failure too */
    e = client(&f, SIM_PORT_HTTP, SOAP_PATH, "mallory:admin");
    set_post(e, "x");
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 401);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-4.4", "fail", "unknown-user", "user", "mallory"),
                    1);
    curl_easy_cleanup(e);
    fixture_stop(&f);
}

/* Fetches a challenge, then sends one hand-made credential with that nonce. */
static long
send_crafted(struct fixture *f, const char *password, size_t keep_response_chars,
             struct reply *rp)
{
    struct digest_challenge c;
    struct digest_authorization a;
    struct digest_input in;
    struct curl_slist *h = NULL;
    char *p, line[DIGEST_HEADER_MAX + 32], value[DIGEST_HEADER_MAX];
    char response[DIGEST_MD5_HEX_LEN + 1], cnonce[64];
    CURL *e = client(f, SIM_PORT_HTTP, SOAP_PATH, NULL);

    set_post(e, "x");
    CU_ASSERT_EQUAL(perform(e, rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp->status, 401);
    p = strstr(rp->headers, "WWW-Authenticate: ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    p += strlen("WWW-Authenticate: ");
    snprintf(value, sizeof(value), "%.*s", (int)strcspn(p, "\r\n"), p);
    CU_ASSERT_EQUAL_FATAL(digest_parse_challenge(value, &c), 0);

    memset(&a, 0, sizeof(a));
    CU_ASSERT_EQUAL(digest_make_cnonce(cnonce, sizeof(cnonce)), 0);
    in = (struct digest_input){"admin",   c.realm, password,   "POST",
                               SOAP_PATH, c.nonce, "00000001", cnonce};
    CU_ASSERT_EQUAL(digest_compute_response(&in, response, sizeof(response)), 0);
    response[keep_response_chars] = '\0';
    snprintf(a.username, sizeof(a.username), "admin");
    snprintf(a.realm, sizeof(a.realm), "%s", c.realm);
    snprintf(a.nonce, sizeof(a.nonce), "%s", c.nonce);
    snprintf(a.uri, sizeof(a.uri), "%s", SOAP_PATH);
    snprintf(a.response, sizeof(a.response), "%s", response);
    snprintf(a.cnonce, sizeof(a.cnonce), "%s", cnonce);
    snprintf(a.nc, sizeof(a.nc), "00000001");
    snprintf(a.qop, sizeof(a.qop), "auth");
    snprintf(a.opaque, sizeof(a.opaque), "%s", c.opaque);
    a.has_opaque = c.has_opaque;
    CU_ASSERT_EQUAL(digest_format_authorization(&a, value, sizeof(value)), 0);
    snprintf(line, sizeof(line), "Authorization: %s", value);
    h = curl_slist_append(h, line);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    CU_ASSERT_EQUAL(perform(e, rp), CURLE_OK);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    return rp->status;
}

static void
test_cve_2017_5689_responses_refused(void)
{
    struct fixture f;
    struct reply rp;

    fixture_config(&f, "4.0");
    f.cfg.lockout_failures = 10;
    fixture_start(&f);
    memset(&seen, 0, sizeof(seen));
    /* the hand-made credential is right when whole: the check is not too strict */
    CU_ASSERT_EQUAL(send_crafted(&f, "admin", DIGEST_MD5_HEX_LEN, &rp), 200);
    CU_ASSERT_EQUAL(seen.calls, 1);

    CU_ASSERT_EQUAL(send_crafted(&f, "admin", 0, &rp), 401);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-4.4", "fail", "empty-response", "user", "admin"),
                    1);
    CU_ASSERT_EQUAL(send_crafted(&f, "admin", 16, &rp), 401);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-4.4", "fail", "prefix-response", "user", "admin"),
                    1);
    CU_ASSERT_EQUAL(send_crafted(&f, "admin", 1, &rp), 401);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-4.4", "fail", "prefix-response", NULL, NULL), 2);
    CU_ASSERT_EQUAL(seen.calls, 1);
    /* each counts as a failed log-on */
    CU_ASSERT_EQUAL(events_of(&f, "OOB-4.4", "fail", NULL, "counted", "true"), 3);
    fixture_stop(&f);
}

static void
test_lockout_and_its_end(void)
{
    struct fixture f;
    struct reply rp;
    CURL *e;

    fixture_config(&f, "12.0");
    fixture_start(&f);
    memset(&seen, 0, sizeof(seen));
    for (int i = 0; i < 3; i++) {
        e = client(&f, SIM_PORT_HTTP, SOAP_PATH, "admin:wrong");
        set_post(e, "x");
        CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
        CU_ASSERT_EQUAL(rp.status, 401);
        curl_easy_cleanup(e);
    }
    CU_ASSERT_TRUE(sim_device_locked_out(f.dev));
    e = client(&f, SIM_PORT_HTTP, SOAP_PATH, "admin:admin");
    set_post(e, "x");
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 401);
    CU_ASSERT_PTR_NOT_NULL(strstr(rp.body, "temporarily locked"));
    CU_ASSERT_EQUAL(seen.calls, 0);
    CU_ASSERT(events_of(&f, "OOB-4.4", "fail", "locked-out", NULL, NULL) >= 1);

    clock_advance(vclock, 61);
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    CU_ASSERT_EQUAL(seen.calls, 1);
    curl_easy_cleanup(e);
    fixture_stop(&f);
}

static void
test_nonce_reset_gives_stale(void)
{
    struct fixture f;
    struct reply rp;
    CURL *e;

    fixture_config(&f, "12.0");
    fixture_start(&f);
    memset(&seen, 0, sizeof(seen));
    e = client(&f, SIM_PORT_HTTP, SOAP_PATH, "admin:admin");
    set_post(e, "x");
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    /* the nonce is reused: no new challenge */
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    CU_ASSERT_PTR_NULL(strstr(rp.headers, "401"));
    CU_ASSERT_EQUAL(seen.calls, 2);

    CU_ASSERT_EQUAL(sim_net_fault_reset_nonces(net, f.dev), 0);
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(rp.headers, "stale=\"true\""));
    CU_ASSERT_EQUAL(seen.calls, 3);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-4.4", "info", NULL, "verdict", "stale-nonce"), 1);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-4.2", "ok", NULL, "stale", "true"), 1);
    /* a stale nonce is not a failed log-on */
    CU_ASSERT_EQUAL(events_of(&f, "OOB-4.4", "fail", NULL, NULL, NULL), 0);
    curl_easy_cleanup(e);
    fixture_stop(&f);
}

static void
test_body_cap_and_unknown_paths(void)
{
    struct fixture f;
    struct reply rp;
    size_t big = SIM_BODY_MAX + 1;
    char *body = malloc(big + 1);
    CURL *e;

    CU_ASSERT_PTR_NOT_NULL_FATAL(body);
    memset(body, 'a', big);
    body[big] = '\0';
    fixture_config(&f, "12.0");
    fixture_start(&f);
    memset(&seen, 0, sizeof(seen));
    e = client(&f, SIM_PORT_HTTP, "/wsman", "admin:admin");
    set_post(e, body);
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 413);
    CU_ASSERT_EQUAL(seen.calls, 0);
    curl_easy_cleanup(e);

    /* just under the cap goes through */
    body[SIM_BODY_MAX] = '\0';
    e = client(&f, SIM_PORT_HTTP, "/wsman", "admin:admin");
    set_post(e, body);
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    CU_ASSERT_EQUAL(seen.calls, 1);
    CU_ASSERT_EQUAL(seen.body_len, SIM_BODY_MAX);
    curl_easy_cleanup(e);

    e = client(&f, SIM_PORT_HTTP, "/nothing-here", "admin:admin");
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 404);
    curl_easy_cleanup(e);
    e = client(&f, SIM_PORT_HTTP, "/wsman", "admin:admin");
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 405);
    curl_easy_cleanup(e);
    e = client(&f, SIM_PORT_HTTP, SOAP_PATH, "admin:admin");
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 405);
    CU_ASSERT_EQUAL(seen.calls, 1);
    CU_ASSERT(events_of(&f, "X-sim.http.request", "info", NULL, "status", "405") == 2);
    curl_easy_cleanup(e);

    /* headers beyond the connection's memory never reach a handler */
    {
        size_t n = net_opt.http.header_memory + 100;
        char *line = malloc(n + 16);
        struct curl_slist *h;

        CU_ASSERT_PTR_NOT_NULL_FATAL(line);
        memcpy(line, "X-Big: ", 7);
        memset(line + 7, 'h', n);
        line[7 + n] = '\0';
        h = curl_slist_append(NULL, line);
        e = client(&f, SIM_PORT_HTTP, "/wsman", "admin:admin");
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
        set_post(e, "x");
        perform(e, &rp);
        CU_ASSERT(rp.status >= 400 || rp.code != CURLE_OK);
        CU_ASSERT_EQUAL(seen.calls, 1);
        curl_easy_cleanup(e);
        curl_slist_free_all(h);
        free(line);
    }
    free(body);
    fixture_stop(&f);
}

/* --- tests: port rules --- */

/* A request to a port, and whether the connection was reset. */
static bool
port_refuses(struct fixture *f, enum sim_port port)
{
    struct reply rp;
    CURL *e = client(f, port, "/", NULL);
    CURLcode code;
    char url[256];

    /* 16994 and 16995 speak no HTTP: a request tells a reset from an open port */
    snprintf(url, sizeof(url), "%s://%s:%u/",
             port == SIM_PORT_HTTP || port == SIM_PORT_REDIR ? "http" : "https",
             f->cfg.listen, sim_net_bound_port(net, port));
    curl_easy_setopt(e, CURLOPT_URL, url);
    code = perform(e, &rp);
    curl_easy_cleanup(e);
    return code != CURLE_OK && rp.status == 0;
}

static void
test_ports_in_setup(void)
{
    struct fixture f;

    fixture_config(&f, "12.0");
    fixture_start(&f);
    CU_ASSERT_TRUE(port_refuses(&f, SIM_PORT_REDIR));
    CU_ASSERT_TRUE(port_refuses(&f, SIM_PORT_REDIR_TLS));
    CU_ASSERT_EQUAL(events_of(&f, "PORT-16994", "fail", "port-closed", "state", "setup"),
                    1);
    CU_ASSERT_EQUAL(events_of(&f, "PORT-16995", "fail", "port-closed", NULL, NULL), 1);
    CU_ASSERT_FALSE(port_refuses(&f, SIM_PORT_HTTP));
    fixture_stop(&f);
}

static void
test_ports_provisioned_tls_on(void)
{
    struct fixture f;
    struct reply rp;
    CURL *e;

    fixture_provisioned(&f, "12.0", true);
    CU_ASSERT_TRUE(port_refuses(&f, SIM_PORT_HTTP));
    CU_ASSERT_EQUAL(
        events_of(&f, "PORT-16992", "fail", "port-closed", "state", "provisioned"), 1);
    CU_ASSERT_TRUE(port_refuses(&f, SIM_PORT_REDIR));
    /* 16995 waits for redirection to be enabled, and for its service */
    CU_ASSERT_TRUE(port_refuses(&f, SIM_PORT_REDIR_TLS));
    CU_ASSERT_EQUAL(sim_device_set_switch(f.dev, SIM_SWITCH_SOL, true), 0);
    CU_ASSERT_TRUE(port_refuses(&f, SIM_PORT_REDIR_TLS));
    CU_ASSERT_EQUAL(
        events_of(&f, "PORT-16995", "fail", "no-redirection-service", NULL, NULL), 1);
    /* with a service registered, it gets the established TLS session */
    sim_net_set_redirection(net, redir_plain, redir_tls, NULL);
    redir_tls_calls = 0;
    CU_ASSERT_TRUE(port_refuses(&f, SIM_PORT_REDIR_TLS));
    CU_ASSERT_EQUAL(redir_tls_calls, 1);
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.tls", "ok", NULL, "port", "16995"), 1);
    sim_net_set_redirection(net, NULL, NULL, NULL);

    /* 16993 serves with the device's certificate and no client certificate */
    memset(&seen, 0, sizeof(seen));
    e = client(&f, SIM_PORT_HTTPS, "/wsman", "admin:" GOOD_PASSWORD);
    set_post(e, "<x/>");
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    CU_ASSERT_EQUAL(seen.calls, 1);
    CU_ASSERT_TRUE(seen.tls);
    CU_ASSERT_EQUAL(seen.port, 16993);
    CU_ASSERT_FALSE(seen.provisioning_session);
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.tls", "ok", NULL, "port", "16993"), 1);
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.tls", "ok", NULL, "protocol", "TLSv1.2"), 2);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.2", NULL, NULL, NULL, NULL), 0);
    curl_easy_cleanup(e);
    fixture_stop(&f);
}

static void
test_ports_provisioned_tls_off(void)
{
    struct fixture f;
    struct reply rp;
    int fd;
    struct sockaddr_in sa;
    CURL *e;

    fixture_provisioned(&f, "12.0", false);
    CU_ASSERT_TRUE(port_refuses(&f, SIM_PORT_HTTPS));
    CU_ASSERT_EQUAL(events_of(&f, "PORT-16993", "fail", "port-closed", NULL, NULL), 1);
    CU_ASSERT_TRUE(port_refuses(&f, SIM_PORT_REDIR_TLS));

    /* discovery of a provisioned device: the challenge, and the version */
    e = client(&f, SIM_PORT_HTTP, "/", NULL);
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 401);
    CU_ASSERT_PTR_NOT_NULL(strstr(rp.headers, "Active Management Technology 12.0"));
    CU_ASSERT_EQUAL(events_of(&f, "PORT-16992", "ok", NULL, "status", "401"), 1);
    /* with the web UI on, a page instead */
    CU_ASSERT_EQUAL(sim_device_set_switch(f.dev, SIM_SWITCH_WEB_UI, true), 0);
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(rp.body, "Log On"));
    curl_easy_cleanup(e);

    /* 16994: closed until redirection is on, then the registered service gets it */
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, f.cfg.listen, &sa.sin_addr);
    sa.sin_port = htons((uint16_t)sim_net_bound_port(net, SIM_PORT_REDIR));
    CU_ASSERT_TRUE(port_refuses(&f, SIM_PORT_REDIR));
    CU_ASSERT_EQUAL(sim_device_set_switch(f.dev, SIM_SWITCH_REDIRECTION_LISTENER, true),
                    0);
    sim_net_set_redirection(net, redir_plain, redir_tls, NULL);
    redir_plain_calls = 0;
    fd = socket(AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_EQUAL(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    for (int i = 0; i < 20 && redir_plain_calls == 0; i++)
        loop_run_once(loop, 5);
    CU_ASSERT_EQUAL(redir_plain_calls, 1);
    close(fd);
    sim_net_set_redirection(net, NULL, NULL, NULL);
    CU_ASSERT_TRUE(port_refuses(&f, SIM_PORT_REDIR));
    CU_ASSERT_EQUAL(
        events_of(&f, "PORT-16994", "fail", "no-redirection-service", NULL, NULL), 1);
    fixture_stop(&f);
}

/* --- tests: the provisioning handshake --- */

/* One request over 16993 with a client chain; the transfer's result. */
static CURLcode
provisioning_request(struct fixture *f, const char *cert, struct reply *rp)
{
    CURL *e = client(f, SIM_PORT_HTTPS, SOAP_PATH, "admin:admin");
    CURLcode code;

    if (cert != NULL)
        client_cert(e, cert);
    /* each call is a handshake of its own */
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    set_post(e, "<Envelope/>");
    code = perform(e, rp);
    curl_easy_cleanup(e);
    return code;
}

static void
test_provisioning_chain_accepted(void)
{
    struct fixture f;
    struct reply rp;

    fixture_config(&f, "12.0");
    fixture_start(&f);
    memset(&seen, 0, sizeof(seen));
    CU_ASSERT_EQUAL(provisioning_request(&f, "prov-oid", &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    CU_ASSERT_EQUAL(seen.calls, 1);
    CU_ASSERT_TRUE(seen.tls);
    CU_ASSERT_TRUE(seen.provisioning_session);
    CU_ASSERT_EQUAL(seen.port, 16993);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.1", "ok", NULL, NULL, NULL), 1);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.2", "ok", NULL, "self-signed", "true"), 1);
    CU_ASSERT_EQUAL(
        events_of(&f, "OOB-3.4", "ok", NULL, "leaf-cn", "provserver.contoso.com"), 1);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.4", "ok", NULL, "chain-length", "3"), 1);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.5", "ok", NULL, NULL, NULL), 1);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.3", "ok", NULL, "protocol", "TLSv1.2"), 1);

    /* the OU alternative passes too */
    CU_ASSERT_EQUAL(provisioning_request(&f, "prov-ou", &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.5", "ok", NULL, NULL, NULL), 2);

    /* a body of many TLS records goes through the bridge whole */
    {
        size_t big = SIM_BODY_MAX - 10;
        char *body = malloc(big + 1);
        CURL *e = client(&f, SIM_PORT_HTTPS, "/wsman", "admin:admin");

        CU_ASSERT_PTR_NOT_NULL_FATAL(body);
        memset(body, 'b', big);
        body[big] = '\0';
        client_cert(e, "prov-oid");
        /* a connection of its own: a kept one would hold a cached credential */
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        set_post(e, body);
        CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
        CU_ASSERT_EQUAL(rp.status, 200);
        CU_ASSERT_EQUAL(seen.body_len, big);
        CU_ASSERT_TRUE(seen.provisioning_session);
        curl_easy_cleanup(e);
        free(body);
    }

    /* no client certificate: no session */
    CU_ASSERT_NOT_EQUAL(provisioning_request(&f, NULL, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.4", "fail", "no-client-certificate", NULL, NULL),
                    1);
    CU_ASSERT_EQUAL(seen.calls, 3);

    /* after CommitChanges the same kind of session is an ordinary one */
    CU_ASSERT_EQUAL(sim_device_set_admin_password(f.dev, "admin", GOOD_PASSWORD), 0);
    CU_ASSERT_EQUAL(sim_device_commit(f.dev), 0);
    CU_ASSERT_TRUE(port_refuses(&f, SIM_PORT_HTTPS));
    fixture_stop(&f);
}

/* An OTP set over the host interface makes the session an in-band one (IB-6, IB-7). */
static void
test_in_band_ids(void)
{
    struct fixture f;
    struct reply rp;

    fixture_config(&f, "12.0");
    fixture_start(&f);
    CU_ASSERT_EQUAL(sim_device_set_otp(f.dev, "0123456789abcdef"), 0);
    CU_ASSERT_EQUAL(provisioning_request(&f, "prov-oid", &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    CU_ASSERT_EQUAL(events_of(&f, "IB-6.5", "ok", NULL, NULL, NULL), 1);
    CU_ASSERT_EQUAL(events_of(&f, "IB-6.3", "ok", NULL, NULL, NULL), 1);
    CU_ASSERT_EQUAL(events_of(&f, "IB-7.4", "ok", NULL, "user", "admin"), 1);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.5", NULL, NULL, NULL, NULL), 0);
    fixture_stop(&f);
}

static void
test_provisioning_chain_refusals(void)
{
    static const struct {
        const char *cert, *reason;
    } cases[] = {
        {"bad-no-oid-no-ou", "no-amt-oid-or-ou"},
        {"bad-ou-case", "ou-case-mismatch"},
        {"bad-oid-no-server-auth", "no-server-auth"},
        {"bad-no-cn", "no-cn"},
        {"bad-northwind", "cn-suffix-mismatch"},
        {"bad-evilcontoso", "cn-suffix-mismatch"},
        {"bad-expired", "cert-expired"},
        {"bad-untrusted-root", "root-not-trusted"},
        {"bad-ca-4096", "ca-key-too-long"},
        {"device", "no-amt-oid-or-ou"},
    };
    struct fixture f;
    struct reply rp;

    fixture_config(&f, "12.0");
    fixture_start(&f);
    memset(&seen, 0, sizeof(seen));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t before = events_of(&f, "OOB-3.5", "fail", cases[i].reason, NULL, NULL);

        CU_ASSERT_NOT_EQUAL(provisioning_request(&f, cases[i].cert, &rp), CURLE_OK);
        CU_ASSERT_EQUAL(rp.status, 0);
        if (events_of(&f, "OOB-3.5", "fail", cases[i].reason, NULL, NULL) != before + 1)
            fprintf(stderr, "\n  %s: no OOB-3.5 fail %s\n", cases[i].cert,
                    cases[i].reason);
        CU_ASSERT_EQUAL(events_of(&f, "OOB-3.5", "fail", cases[i].reason, NULL, NULL),
                        before + 1);
    }
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.5", "ok", NULL, NULL, NULL), 0);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.3", "fail", "chain-refused", NULL, NULL),
                    sizeof(cases) / sizeof(cases[0]));
    CU_ASSERT_EQUAL(seen.calls, 0);
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.conn.close", "info", NULL, "cause", "handshake-failed"),
        sizeof(cases) / sizeof(cases[0]));
    /* nothing is left behind */
    CU_ASSERT_EQUAL(sim_net_device_connections(net, f.dev), 0);
    fixture_stop(&f);
}

static void
test_parent_domain_rule_by_version(void)
{
    struct fixture f;
    struct reply rp;

    /* provserver.contoso.com under sales.contoso.com: only through the parent */
    fixture_config(&f, "3.2.1");
    f.cfg.dhcp_domain = "sales.contoso.com";
    fixture_start(&f);
    CU_ASSERT_EQUAL(provisioning_request(&f, "prov-oid", &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.5", "ok", NULL, "parent-domain-rule", "true"),
                    1);
    fixture_stop(&f);

    fixture_config(&f, "3.2.0");
    f.cfg.dhcp_domain = "sales.contoso.com";
    fixture_start(&f);
    CU_ASSERT_NOT_EQUAL(provisioning_request(&f, "prov-oid", &rp), CURLE_OK);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.5", "fail", "cn-suffix-mismatch", NULL, NULL),
                    1);
    fixture_stop(&f);
}

static void
test_tls_versions_by_generation(void)
{
    struct fixture f;
    struct reply rp;
    CURL *e;

    /* 4.0: TLS 1.0 with AES128-SHA, and nothing newer */
    fixture_config(&f, "4.0");
    fixture_start(&f);
    CU_ASSERT_EQUAL(provisioning_request(&f, "prov-oid", &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.3", "ok", NULL, "protocol", "TLSv1"), 1);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.3", "ok", NULL, "cipher", "AES128-SHA"), 1);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.2", "ok", NULL, "cipher", "AES128-SHA"), 1);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.1", "ok", NULL, "sha1-suite-offered", "true"),
                    1);
    e = client(&f, SIM_PORT_HTTPS, SOAP_PATH, "admin:admin");
    client_cert(e, "prov-oid");
    curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(e, CURLOPT_SSL_CIPHER_LIST, "DEFAULT");
    CU_ASSERT_NOT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.3", "fail", "protocol-mismatch", NULL, NULL), 1);
    curl_easy_cleanup(e);
    fixture_stop(&f);

    /* 12.0: TLS 1.2, not 1.3 */
    fixture_config(&f, "12.0");
    fixture_start(&f);
    e = client(&f, SIM_PORT_HTTPS, SOAP_PATH, "admin:admin");
    client_cert(e, "prov-oid");
    curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_3);
    CU_ASSERT_NOT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.3", "fail", "protocol-mismatch", NULL, NULL), 1);
    curl_easy_cleanup(e);
    CU_ASSERT_EQUAL(provisioning_request(&f, "prov-oid", &rp), CURLE_OK);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.3", "ok", NULL, "protocol", "TLSv1.2"), 1);
    fixture_stop(&f);
}

static void
test_handshake_timeout(void)
{
    struct fixture f;
    struct sockaddr_in sa;
    int fd;

    fixture_config(&f, "12.0");
    fixture_start(&f);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, f.cfg.listen, &sa.sin_addr);
    sa.sin_port = htons((uint16_t)sim_net_bound_port(net, SIM_PORT_HTTPS));
    fd = socket(AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_EQUAL(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    for (int i = 0; i < 20 && sim_net_device_connections(net, f.dev) == 0; i++)
        loop_run_once(loop, 5);
    CU_ASSERT_EQUAL(sim_net_device_connections(net, f.dev), 1);
    clock_advance(vclock, 29);
    loop_run_once(loop, 5);
    CU_ASSERT_EQUAL(sim_net_device_connections(net, f.dev), 1);
    clock_advance(vclock, 2);
    loop_run_once(loop, 5);
    CU_ASSERT_EQUAL(sim_net_device_connections(net, f.dev), 0);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.3", "fail", "handshake-timeout", NULL, NULL), 1);
    close(fd);
    fixture_stop(&f);
}

static void
test_new_certificate_is_served(void)
{
    struct fixture f;
    struct reply rp;
    unsigned char *key, *cert;
    char path[512];

    fixture_config(&f, "12.0");
    fixture_start(&f);
    CU_ASSERT_EQUAL(provisioning_request(&f, "prov-oid", &rp), CURLE_OK);
    snprintf(path, sizeof(path), "%s/device.key", AMT_CERTS_DIR);
    key = unit_read_file(path, NULL);
    snprintf(path, sizeof(path), "%s/device.crt", AMT_CERTS_DIR);
    cert = unit_read_file(path, NULL);
    CU_ASSERT_EQUAL(
        sim_device_set_tls_credentials(f.dev, (const char *)key, (const char *)cert), 0);
    OPENSSL_cleanse(key, strlen((char *)key));
    free(key);
    free(cert);
    CU_ASSERT_EQUAL(provisioning_request(&f, "prov-oid", &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    CU_ASSERT_EQUAL(
        events_of(&f, "OOB-3.2", "ok", NULL, "subject-cn", "amt-device.contoso.com"), 1);
    CU_ASSERT_EQUAL(events_of(&f, "OOB-3.2", "ok", NULL, "self-signed", "false"), 1);
    fixture_stop(&f);
}

/* AMT 6+ keeps the credential of a TLS keep-alive connection; older firmware not. */
static void
test_keepalive_credential_cache(void)
{
    static const struct {
        const char *version;
        long second_status;
    } cases[] = {{"12.0", 200}, {"5.0", 401}};
    struct fixture f;
    struct reply rp;
    CURL *e;

    for (size_t i = 0; i < 2; i++) {
        fixture_provisioned(&f, cases[i].version, true);
        memset(&seen, 0, sizeof(seen));
        e = client(&f, SIM_PORT_HTTPS, "/wsman", "admin:" GOOD_PASSWORD);
        set_post(e, "<x/>");
        CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
        CU_ASSERT_EQUAL(rp.status, 200);
        /* the same connection, no credentials at all */
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_NONE);
        curl_easy_setopt(e, CURLOPT_USERPWD, NULL);
        CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
        CU_ASSERT_EQUAL(rp.status, cases[i].second_status);
        CU_ASSERT_EQUAL(seen.calls, cases[i].second_status == 200 ? 2 : 1);
        CU_ASSERT_EQUAL(events_of(&f, "X-sim.conn.open", NULL, NULL, NULL, NULL), 1);
        curl_easy_cleanup(e);
        fixture_stop(&f);
    }
}

/* --- tests: faults --- */

static void
test_fault_port_reject_and_drop(void)
{
    struct fixture f;
    struct sockaddr_in sa;
    int fd;

    fixture_config(&f, "12.0");
    fixture_start(&f);
    CU_ASSERT_EQUAL(sim_net_fault_port(net, f.dev, SIM_PORT_HTTP, SIM_PORT_FAULT_REJECT),
                    0);
    CU_ASSERT_TRUE(port_refuses(&f, SIM_PORT_HTTP));
    CU_ASSERT_EQUAL(events_of(&f, "PORT-16992", "fail", "port-rejected", NULL, NULL), 1);

    CU_ASSERT_EQUAL(sim_net_fault_port(net, f.dev, SIM_PORT_HTTP, SIM_PORT_FAULT_DROP),
                    0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, f.cfg.listen, &sa.sin_addr);
    sa.sin_port = htons((uint16_t)sim_net_bound_port(net, SIM_PORT_HTTP));
    fd = socket(AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_EQUAL(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    CU_ASSERT_EQUAL(write(fd, "GET / HTTP/1.0\r\n\r\n", 18), 18);
    for (int i = 0; i < 20 && sim_net_device_connections(net, f.dev) == 0; i++)
        loop_run_once(loop, 5);
    CU_ASSERT_EQUAL(sim_net_device_connections(net, f.dev), 1);
    CU_ASSERT_EQUAL(events_of(&f, "PORT-16992", "fail", "port-dropped", NULL, NULL), 1);
    {
        char c;

        fcntl(fd, F_SETFL, O_NONBLOCK);
        CU_ASSERT_EQUAL(read(fd, &c, 1), -1); /* no answer, no end */
        CU_ASSERT_EQUAL(errno, EAGAIN);
    }
    CU_ASSERT_EQUAL(sim_net_fault_port(net, f.dev, SIM_PORT_HTTP, SIM_PORT_FAULT_NONE),
                    0);
    CU_ASSERT_EQUAL(sim_net_device_connections(net, f.dev), 0);
    close(fd);
    CU_ASSERT_FALSE(port_refuses(&f, SIM_PORT_HTTP));
    CU_ASSERT_EQUAL(sim_net_fault_port(net, NULL, SIM_PORT_HTTP, SIM_PORT_FAULT_NONE),
                    AMT_ERR_NOT_FOUND);
    fixture_stop(&f);
}

static void
test_fault_delay_and_drop_after(void)
{
    struct fixture f;
    struct reply rp;
    double before;
    CURL *e;

    fixture_config(&f, "12.0");
    fixture_start(&f);
    memset(&seen, 0, sizeof(seen));
    CU_ASSERT_EQUAL(sim_net_fault_delay(net, f.dev, 10), 0);
    e = client(&f, SIM_PORT_HTTP, "/", NULL);
    /* without the clock moving there is no answer */
    before = real_now();
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 300L);
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OPERATION_TIMEDOUT);
    CU_ASSERT(real_now() - before >= 0.25);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 0L);
    CU_ASSERT_EQUAL(perform_advancing(e, &rp, 20, 10), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    CU_ASSERT_EQUAL(sim_net_fault_delay(net, f.dev, 0), 0);
    curl_easy_cleanup(e);

    /* two answers (the challenge and the reply), then a cut, then normal again */
    CU_ASSERT_EQUAL(sim_net_fault_drop_after(net, f.dev, 2), 0);
    e = client(&f, SIM_PORT_HTTP, "/wsman", "admin:admin");
    set_post(e, "x");
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_GOT_NOTHING);
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.fault.drop", "info", NULL, NULL, NULL), 1);
    CU_ASSERT_EQUAL(perform(e, &rp), CURLE_OK);
    CU_ASSERT_EQUAL(rp.status, 200);
    CU_ASSERT_EQUAL(seen.calls, 2);
    curl_easy_cleanup(e);
    fixture_stop(&f);
}

/* --- a real client on the command line --- */

static void
test_curl_command_line(void)
{
    struct fixture f;
    char url[256], out[64] = "";
    int pipefd[2], status = -1;
    ssize_t n = 0;
    pid_t pid;
    double limit;

    if (access("/usr/bin/curl", X_OK) != 0) {
        fprintf(stderr, "\n  skipped: /usr/bin/curl not installed\n");
        return;
    }
    fixture_config(&f, "4.0");
    fixture_start(&f);
    url_of(&f, SIM_PORT_HTTP, SOAP_PATH, url, sizeof(url));
    CU_ASSERT_EQUAL_FATAL(pipe(pipefd), 0);
    pid = fork();
    CU_ASSERT_NOT_EQUAL_FATAL(pid, -1);
    if (pid == 0) {
        dup2(pipefd[1], STDOUT_FILENO);
        close(pipefd[0]);
        execl("/usr/bin/curl", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
              "--digest", "-u", "admin:admin", "-d", "<Envelope/>", "-H",
              "SOAPAction: \"" SOAP_ACTION "\"", url, (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    limit = real_now() + EXCHANGE_LIMIT;
    memset(&seen, 0, sizeof(seen));
    while (waitpid(pid, &status, WNOHANG) == 0 && real_now() < limit)
        loop_run_once(loop, 5);
    if (real_now() >= limit) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    n = read(pipefd[0], out, sizeof(out) - 1);
    out[n > 0 ? n : 0] = '\0';
    close(pipefd[0]);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT_STRING_EQUAL(out, "200");
    CU_ASSERT_EQUAL(seen.calls, 1);
    CU_ASSERT_STRING_EQUAL(seen.action, SOAP_ACTION);
    fixture_stop(&f);
}

/* --- suite --- */

static int
suite_init(void)
{
    struct sim_http_handlers handlers = {echo_service, echo_service, echo_is_soap_path};

    signal(SIGPIPE, SIG_IGN);
    if (mkdtemp(tmp_root) == NULL || keypool_new(2048, &keys) != 0 ||
        clock_new_virtual(1000, &vclock) != 0 || loop_new(vclock, &loop) != 0 ||
        curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || (multi = curl_multi_init()) == NULL)
        return -1;
    snprintf(events_path, sizeof(events_path), "%s/events.jsonl", tmp_root);
    if (evlog_open(events_path, &events) != 0)
        return -1;
    /* real AMT ports are for real devices; tests keep to their own range */
    sim_net_options_default(&net_opt);
    sim_net_options_port_base(&net_opt, 20000 + (unsigned)(getpid() % 2000) * 5);
    return sim_net_new(loop, &handlers, &net_opt, &net) == 0 ? 0 : -1;
}

static int
suite_clean(void)
{
    char cmd[300];

    curl_multi_cleanup(multi);
    curl_global_cleanup();
    sim_net_free(net);
    loop_free(loop);
    evlog_free(events);
    clock_free(vclock);
    keypool_free(keys);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

static CU_TestInfo http_tests[] = {
    {"default ports are AMT's", test_default_ports_are_amts},
    {"IPv6 address refused", test_ipv6_address_refused},
    {"address in use is named", test_address_in_use_named},
    {"discovery in setup", test_discovery_in_setup},
    {"digest with the factory admin in setup", test_digest_factory_admin_in_setup},
    {"wrong password is a failure", test_wrong_password_is_a_failure},
    {"CVE-2017-5689 responses refused", test_cve_2017_5689_responses_refused},
    {"lockout and its end", test_lockout_and_its_end},
    {"nonce reset gives stale", test_nonce_reset_gives_stale},
    {"body cap and unknown paths", test_body_cap_and_unknown_paths},
    {"ports in setup", test_ports_in_setup},
    {"ports provisioned, TLS on", test_ports_provisioned_tls_on},
    {"ports provisioned, TLS off", test_ports_provisioned_tls_off},
    {"provisioning chain accepted", test_provisioning_chain_accepted},
    {"provisioning chain refusals", test_provisioning_chain_refusals},
    {"in-band ids", test_in_band_ids},
    {"parent-domain rule by version", test_parent_domain_rule_by_version},
    {"TLS versions by generation", test_tls_versions_by_generation},
    {"handshake timeout", test_handshake_timeout},
    {"new certificate is served", test_new_certificate_is_served},
    {"keep-alive credential cache", test_keepalive_credential_cache},
    {"fault: port reject and drop", test_fault_port_reject_and_drop},
    {"fault: delay and drop after", test_fault_delay_and_drop_after},
    {"curl command line", test_curl_command_line},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"sim_http", suite_init, suite_clean, NULL, NULL, http_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_sim_http", suites);
}
