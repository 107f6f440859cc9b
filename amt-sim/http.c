#include "http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "clock.h"
#include "digest.h"
#include "err.h"
#include "net.h"

/* Challenges remembered per device, so that a nonce reset can refuse older ones. */
#define NONCE_RING 64
#define SOAP_ACTION_MAX 1024

#define AMT_PORT_HTTP 16992u
#define AMT_PORT_HTTPS 16993u

/* The 401 body: the log-on failed, and the two reasons it may have. */
static const char body_auth_failed[] =
    "<!DOCTYPE html>\n<html><head><title>Intel(R) Active Management Technology</title>"
    "</head>\n<body><h1>Log on failed</h1>\n<p>The user name or the password is wrong, "
    "or the account is temporarily locked after too many failed attempts.</p>\n"
    "</body></html>\n";

static const char body_locked_out[] =
    "<!DOCTYPE html>\n<html><head><title>Intel(R) Active Management Technology</title>"
    "</head>\n<body><h1>Log on failed</h1>\n<p>The account is temporarily locked after "
    "too many failed attempts. Try again later.</p>\n</body></html>\n";

struct http_conn;

struct sim_http {
    struct amt_loop *loop;
    struct sim_http_handlers handlers;
    struct sim_http_options opt;
    struct MHD_Daemon *daemon;
    struct loop_watch *watch;
    struct loop_timer *timer;
    bool in_run;
    bool cutting; /* a fault is cutting a connection: the daemon's complaint is ours */
    /* given to libmicrohttpd, which keeps the pointer, not a copy */
    unsigned char nonce_random[32];
    char opaque[33];
    /* connections handed over whose start the daemon has not reported yet */
    struct http_conn **by_fd;
    size_t by_fd_size;
    size_t n_sites;
};

struct sim_http_site {
    struct sim_http *h;
    struct sim_device *dev;
    struct http_conn *conns;
    size_t n_conns;
    double delay;
    bool drop_armed;
    unsigned drop_left;
    uint64_t nonce_hash[NONCE_RING];
    bool nonce_revoked[NONCE_RING];
    size_t nonce_next;
};

struct http_req;

struct http_conn {
    struct sim_http *h;
    struct sim_http_site *site; /* NULL once the site is gone */
    struct MHD_Connection *mc;
    int fd;
    bool started;
    struct sim_http_conn_info info;
    char peer[32];
    unsigned requests;
    /* the credential a TLS keep-alive connection keeps (AMT 6+) */
    bool cached;
    char cached_user[DIGEST_USERNAME_MAX + 1];
    unsigned cached_rights;
    struct http_req *suspended;
    struct http_conn *prev, *next;
};

struct http_req {
    struct http_conn *conn;
    struct MHD_Connection *mc;
    char *body;
    size_t len, cap;
    bool too_large;
    bool answered;
    bool delay_done;
    struct loop_timer *delay_timer;
};

/* --- the daemon on the loop --- */

static void http_reschedule(struct sim_http *h);

static void
http_run(struct sim_http *h)
{
    if (h->in_run)
        return;
    h->in_run = true;
    MHD_run(h->daemon);
    h->in_run = false;
    http_reschedule(h);
}

static void
http_timer(struct amt_loop *loop, void *arg)
{
    struct sim_http *h = arg;

    h->timer = NULL;
    http_run(h);
}

/* libmicrohttpd counts real milliseconds; the loop's timers are in virtual time. */
static double
real_to_virtual(struct sim_http *h, double real_seconds)
{
    double per_virtual = clock_real_delay(loop_clock(h->loop), 1.0);

    return per_virtual > 0 ? real_seconds / per_virtual : real_seconds;
}

static void
http_reschedule(struct sim_http *h)
{
    MHD_UNSIGNED_LONG_LONG ms = 0;

    loop_timer_cancel(h->loop, h->timer);
    h->timer = NULL;
    if (MHD_get_timeout(h->daemon, &ms) != MHD_YES)
        return;
    if (loop_timer_at(h->loop, loop_now(h->loop) + real_to_virtual(h, ms / 1000.0),
                      http_timer, h, &h->timer) != 0)
        fprintf(stderr, "amt-sim: %s: no timer for the HTTP daemon\n", __func__);
}

static void
http_io(struct amt_loop *loop, int fd, uint32_t events, void *arg)
{
    http_run(arg);
}

/* --- responses --- */

static struct http_conn *
conn_of(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci != NULL ? ci->socket_context : NULL;
}

/* Request bodies carry passwords, HA1 values and private keys. */
static void
wipe_free(char *p, size_t len)
{
    if (p != NULL) {
        OPENSSL_cleanse(p, len);
        free(p);
    }
}

static struct MHD_Response *finish_response(struct sim_device *dev,
                                            struct MHD_Response *resp,
                                            const char *content_type);

static struct MHD_Response *
new_response(struct sim_device *dev, const char *body, size_t len,
             enum MHD_ResponseMemoryMode mode, const char *content_type)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, mode);

    return finish_response(dev, resp, content_type);
}

/* Answers from the services may carry secrets (an OTP, say): wiped when freed. The
 * function owns body from the call on, whatever happens. */
struct wiped_body {
    char *data;
    size_t len;
};

static void
free_wiped_body(void *cls)
{
    struct wiped_body *b = cls;

    OPENSSL_cleanse(b->data, b->len);
    free(b->data);
    free(b);
}

static struct MHD_Response *
new_response_wiped(struct sim_device *dev, char *body, size_t len,
                   const char *content_type)
{
    struct wiped_body *b = malloc(sizeof(*b));
    struct MHD_Response *resp;

    if (b == NULL) {
        OPENSSL_cleanse(body, len);
        free(body);
        return NULL;
    }
    b->data = body;
    b->len = len;
    resp = MHD_create_response_from_buffer_with_free_callback_cls(len, body,
                                                                  free_wiped_body, b);
    if (resp == NULL) {
        free_wiped_body(b);
        return NULL;
    }
    /* on failure this destroys resp, which frees body through the callback */
    return finish_response(dev, resp, content_type);
}

static struct MHD_Response *
finish_response(struct sim_device *dev, struct MHD_Response *resp,
                const char *content_type)
{
    char server[96];

    if (resp == NULL)
        return NULL;
    snprintf(server, sizeof(server), "Intel(R) Active Management Technology %s",
             sim_device_profile(dev)->text);
    if (MHD_add_response_header(resp, MHD_HTTP_HEADER_SERVER, server) != MHD_YES ||
        (content_type != NULL &&
         MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) !=
             MHD_YES)) {
        MHD_destroy_response(resp);
        return NULL;
    }
    return resp;
}

static void
log_request(struct http_conn *conn, const char *method, const char *url, int status,
            const char *user)
{
    sim_net_event(conn->site->dev, "X-sim.http.request", EVLOG_RESULT_INFO,
                  EVLOG_STR("method", method), EVLOG_STR("path", url),
                  EVLOG_INT("status", status), EVLOG_INT("port", conn->info.port),
                  EVLOG_BOOL("tls", conn->info.tls),
                  EVLOG_STR("user", user != NULL ? user : ""));
}

static enum MHD_Result
answer_static(struct http_conn *conn, struct http_req *req, const char *method,
              const char *url, int status, const char *body, const char *content_type,
              const char *user)
{
    struct MHD_Response *resp = new_response(conn->site->dev, body, strlen(body),
                                             MHD_RESPMEM_PERSISTENT, content_type);
    enum MHD_Result ret;

    if (resp == NULL)
        return MHD_NO;
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "POST");
    ret = MHD_queue_response(req->mc, (unsigned)status, resp);
    MHD_destroy_response(resp);
    req->answered = true;
    log_request(conn, method, url, status, user);
    return ret;
}

static uint64_t
nonce_hash(const char *nonce)
{
    uint64_t x = 1469598103934665603ull;

    for (const unsigned char *p = (const unsigned char *)nonce; *p != '\0'; p++)
        x = (x ^ *p) * 1099511628211ull;
    return x;
}

static void
remember_nonce(struct sim_http_site *site, struct MHD_Response *resp)
{
    const char *hdr = MHD_get_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE);
    struct digest_challenge *c;

    if (hdr == NULL || (c = malloc(sizeof(*c))) == NULL)
        return;
    if (digest_parse_challenge(hdr, c) == 0) {
        site->nonce_hash[site->nonce_next] = nonce_hash(c->nonce);
        site->nonce_revoked[site->nonce_next] = false;
        site->nonce_next = (site->nonce_next + 1) % NONCE_RING;
    }
    free(c);
}

/*
 * Whether a nonce was handed out before a reset; each answers stale=true once.
 * Once, because libmicrohttpd 0.9.75 makes its nonces from the second, the
 * method, the path and the realm: the challenge that follows may carry the very
 * same nonce, and the client must then get through with it.
 */
static bool
nonce_revoked(struct sim_http_site *site, const char *nonce)
{
    uint64_t x = nonce_hash(nonce);
    bool found = false;

    for (size_t i = 0; i < NONCE_RING; i++) {
        if (site->nonce_revoked[i] && site->nonce_hash[i] == x) {
            site->nonce_revoked[i] = false;
            found = true;
        }
    }
    return found;
}

/* OOB-4.2: 401 with a fresh challenge; stale=true when only the nonce was wrong. */
static enum MHD_Result
challenge(struct http_conn *conn, struct http_req *req, const char *method,
          const char *url, const char *body, bool stale)
{
    struct sim_device *dev = conn->site->dev;
    struct MHD_Response *resp =
        new_response(dev, body, strlen(body), MHD_RESPMEM_PERSISTENT, "text/html");
    enum MHD_Result ret;
    char id[16];

    if (resp == NULL)
        return MHD_NO;
    ret =
        MHD_queue_auth_fail_response2(req->mc, sim_device_realm(dev), conn->h->opaque,
                                      resp, stale ? MHD_YES : MHD_NO, MHD_DIGEST_ALG_MD5);
    if (ret == MHD_YES)
        remember_nonce(conn->site, resp);
    MHD_destroy_response(resp);
    req->answered = true;
    sim_net_event(dev, sim_net_step_id(dev, "OOB-4.2", id, sizeof(id)), EVLOG_RESULT_OK,
                  EVLOG_INT("status", 401), EVLOG_BOOL("stale", stale),
                  EVLOG_STR("realm", sim_device_realm(dev)),
                  EVLOG_INT("port", conn->info.port));
    log_request(conn, method, url, 401, NULL);
    return ret;
}

/* --- digest --- */

static void
hex16(const unsigned char in[16], char out[33])
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[32] = '\0';
}

static int
md5_hex(const char *text, char out[33])
{
    unsigned char md[16];
    unsigned int len = 0;

    if (EVP_Digest(text, strlen(text), md, &len, EVP_md5(), NULL) != 1 || len != 16)
        return AMT_ERR_CRYPTO;
    hex16(md, out);
    return 0;
}

/* RFC 2617 with qop=auth, from the stored HA1: what the client should have sent. */
static int
expected_response(const unsigned char ha1[16], const struct digest_authorization *a,
                  const char *method, char out[33])
{
    char ha1_hex[33], ha2[33];
    char *buf = NULL;
    size_t size = 2 * DIGEST_URI_MAX + DIGEST_NONCE_MAX + DIGEST_CNONCE_MAX + 256;
    int r;

    if ((buf = malloc(size)) == NULL)
        return AMT_ERR_ALLOC;
    hex16(ha1, ha1_hex);
    snprintf(buf, size, "%s:%s", method, a->uri);
    if ((r = md5_hex(buf, ha2)) == 0) {
        snprintf(buf, size, "%s:%s:%s:%s:%s:%s", ha1_hex, a->nonce, a->nc, a->cnonce,
                 a->qop, ha2);
        r = md5_hex(buf, out);
    }
    OPENSSL_cleanse(ha1_hex, sizeof(ha1_hex));
    OPENSSL_cleanse(buf, size);
    free(buf);
    return r;
}

/* The digest uri names this request: the path, maybe with its query. */
static bool
uri_matches(const char *uri, const char *url)
{
    size_t n = strcspn(uri, "?");

    return strlen(url) == n && strncmp(uri, url, n) == 0;
}

enum auth_outcome {
    AUTH_OK,
    AUTH_ANSWERED, /* a 401 was queued (or queuing failed: *ret says) */
};

static void
verdict_fail(struct http_conn *conn, const char *user, const char *reason, bool counted)
{
    struct sim_device *dev = conn->site->dev;
    char id[16];

    if (counted)
        sim_device_auth_failed(dev);
    sim_net_event(dev, sim_net_step_id(dev, "OOB-4.4", id, sizeof(id)), EVLOG_RESULT_FAIL,
                  EVLOG_REASON(reason), EVLOG_STR("user", user),
                  EVLOG_BOOL("counted", counted), EVLOG_INT("port", conn->info.port));
}

static void
verdict_stale(struct http_conn *conn, const char *user)
{
    struct sim_device *dev = conn->site->dev;
    char id[16];

    sim_net_event(dev, sim_net_step_id(dev, "OOB-4.4", id, sizeof(id)), EVLOG_RESULT_INFO,
                  EVLOG_STR("verdict", "stale-nonce"), EVLOG_STR("user", user),
                  EVLOG_INT("port", conn->info.port));
}

/*
 * OOB-4. The Authorization header we read looks like
 *   Digest username="admin", realm="Intel(R) AMT (ID:...)", nonce="...", uri="/x",
 *          response="<32 hex>", qop=auth, nc=00000001, cnonce="..."
 */
static enum auth_outcome
authenticate(struct http_conn *conn, struct http_req *req, const char *method,
             const char *url, char *user, unsigned *rights, enum MHD_Result *ret)
{
    struct sim_device *dev = conn->site->dev;
    const char *realm = sim_device_realm(dev);
    const char *header = MHD_lookup_connection_value(req->mc, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_AUTHORIZATION);
    struct digest_authorization *a = NULL;
    unsigned char ha1[16];
    char expected[33] = "", id[16];
    enum digest_suspicion suspicion;
    enum auth_outcome outcome = AUTH_ANSWERED;
    bool parsed;
    int m;

    *ret = MHD_NO;
    if (header != NULL && (a = calloc(1, sizeof(*a))) == NULL)
        return AUTH_ANSWERED;
    parsed = header != NULL && digest_parse_authorization(header, a) == 0;

    if (sim_device_locked_out(dev)) {
        verdict_fail(conn, parsed ? a->username : "", "locked-out", false);
        *ret = challenge(conn, req, method, url, body_locked_out, false);
        goto out;
    }
    if (header != NULL && !parsed) {
        sim_net_event(dev, sim_net_step_id(dev, "OOB-4.3", id, sizeof(id)),
                      EVLOG_RESULT_OK, EVLOG_STR("user", ""), EVLOG_STR("method", method),
                      EVLOG_STR("path", url), EVLOG_INT("port", conn->info.port));
        verdict_fail(conn, "",
                     strncasecmp(header, "Digest", 6) == 0 ? "malformed-credentials"
                                                           : "not-digest",
                     false);
        *ret = challenge(conn, req, method, url, body_auth_failed, false);
        goto out;
    }

    if (header == NULL) {
        if (conn->cached) {
            snprintf(user, DIGEST_USERNAME_MAX + 1, "%s", conn->cached_user);
            *rights = conn->cached_rights;
            outcome = AUTH_OK;
            goto out;
        }
        sim_net_event(dev, sim_net_step_id(dev, "OOB-4.1", id, sizeof(id)),
                      EVLOG_RESULT_OK, EVLOG_STR("method", method),
                      EVLOG_STR("path", url), EVLOG_INT("port", conn->info.port));
        *ret = challenge(conn, req, method, url, body_auth_failed, false);
        goto out;
    }

    sim_net_event(dev, sim_net_step_id(dev, "OOB-4.3", id, sizeof(id)), EVLOG_RESULT_OK,
                  EVLOG_STR("user", a->username), EVLOG_STR("method", method),
                  EVLOG_STR("path", url), EVLOG_INT("port", conn->info.port));

    if (a->response[0] == '\0') {
        verdict_fail(conn, a->username, digest_suspicion_name(DIGEST_SUSPICION_EMPTY),
                     true);
        *ret = challenge(conn, req, method, url, body_auth_failed, false);
        goto out;
    }
    if (sim_device_user_ha1(dev, a->username, ha1, rights) != 0) {
        verdict_fail(conn, a->username, "unknown-user", true);
        *ret = challenge(conn, req, method, url, body_auth_failed, false);
        goto out;
    }
    if (strcmp(a->qop, "auth") != 0 ||
        (a->algorithm[0] != '\0' && strcasecmp(a->algorithm, "MD5") != 0)) {
        verdict_fail(conn, a->username, "unsupported-digest", false);
        *ret = challenge(conn, req, method, url, body_auth_failed, false);
        goto out;
    }
    if (!uri_matches(a->uri, url)) {
        verdict_fail(conn, a->username, "uri-mismatch", false);
        *ret = challenge(conn, req, method, url, body_auth_failed, false);
        goto out;
    }
    if (strcmp(a->realm, realm) != 0) {
        verdict_fail(conn, a->username, "wrong-realm", true);
        *ret = challenge(conn, req, method, url, body_auth_failed, false);
        goto out;
    }
    if (expected_response(ha1, a, method, expected) != 0)
        goto out;
    suspicion = digest_response_suspicion(a->response, expected);
    if (suspicion != DIGEST_SUSPICION_NONE) {
        verdict_fail(conn, a->username, digest_suspicion_name(suspicion), true);
        *ret = challenge(conn, req, method, url, body_auth_failed, false);
        goto out;
    }
    if (nonce_revoked(conn->site, a->nonce)) {
        verdict_stale(conn, a->username);
        *ret = challenge(conn, req, method, url, body_auth_failed, true);
        goto out;
    }

    m = MHD_digest_auth_check_digest2(req->mc, realm, a->username, ha1, sizeof(ha1),
                                      conn->h->opt.nonce_seconds, MHD_DIGEST_ALG_MD5);
    if (m == MHD_YES) {
        sim_device_auth_succeeded(dev);
        sim_net_event(dev, sim_net_step_id(dev, "OOB-4.4", id, sizeof(id)),
                      EVLOG_RESULT_OK, EVLOG_STR("user", a->username),
                      EVLOG_INT("port", conn->info.port));
        snprintf(user, DIGEST_USERNAME_MAX + 1, "%s", a->username);
        if (conn->info.tls &&
            sim_profile_has(sim_device_profile(dev), SIM_FEATURE_KEEPALIVE_AUTH)) {
            conn->cached = true;
            snprintf(conn->cached_user, sizeof(conn->cached_user), "%s", a->username);
            conn->cached_rights = *rights;
        }
        outcome = AUTH_OK;
    } else if (m == MHD_INVALID_NONCE || digest_response_equal(a->response, expected)) {
        /* the right answer to a nonce the daemon no longer counts: not a guess */
        verdict_stale(conn, a->username);
        *ret = challenge(conn, req, method, url, body_auth_failed, true);
    } else {
        verdict_fail(conn, a->username, "wrong-password", true);
        *ret = challenge(conn, req, method, url, body_auth_failed, false);
    }
out:
    OPENSSL_cleanse(ha1, sizeof(ha1));
    OPENSSL_cleanse(expected, sizeof(expected));
    free(a);
    return outcome;
}

/* --- dispatch --- */

static const char *
discovery_page(struct sim_device *dev, char *buf, size_t size)
{
    const char *version = sim_device_profile(dev)->text;

    if (sim_device_state(dev) != SIM_STATE_PROVISIONED)
        snprintf(buf, size,
                 "<!DOCTYPE html>\n<html><head><title>Intel(R) Active Management "
                 "Technology</title></head>\n<body><p>Intel(R) Active Management "
                 "Technology %s - not provisioned</p></body></html>\n",
                 version);
    else
        snprintf(buf, size,
                 "<!DOCTYPE html>\n<html><head><title>Intel(R) Active Management "
                 "Technology</title></head>\n<body><p>Intel(R) Active Management "
                 "Technology %s</p>\n<p><a href=\"/logon.htm\">Log On</a></p>"
                 "</body></html>\n",
                 version);
    return buf;
}

/* SOAPAction: "http://schemas.intel.com/...#Method" -> the text between the quotes */
static char *
soap_action(struct MHD_Connection *mc)
{
    const char *v = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "SOAPAction");
    size_t n;

    if (v == NULL)
        return NULL;
    while (*v == ' ' || *v == '\t')
        v++;
    n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    if (n > SOAP_ACTION_MAX)
        n = SOAP_ACTION_MAX;
    return strndup(v, n);
}

static enum MHD_Result
call_service(struct http_conn *conn, struct http_req *req, const char *method,
             const char *url, const char *user, unsigned rights,
             int (*handler)(const struct sim_request *, struct sim_response *))
{
    struct sim_device *dev = conn->site->dev;
    struct sim_request sr;
    struct sim_response resp;
    struct MHD_Response *mr;
    enum MHD_Result ret;
    char *action = soap_action(req->mc);
    int status;

    memset(&sr, 0, sizeof(sr));
    memset(&resp, 0, sizeof(resp));
    sr.dev = dev;
    sr.method = method;
    sr.path = url;
    sr.soap_action = action;
    sr.content_type = MHD_lookup_connection_value(req->mc, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_CONTENT_TYPE);
    sr.body = req->body != NULL ? req->body : "";
    sr.body_len = req->len;
    sr.user = user;
    sr.rights = rights;
    sr.port = conn->info.port;
    sr.tls = conn->info.tls;
    /* after CommitChanges the same connection is an ordinary one */
    sr.provisioning_session = conn->info.tls && conn->info.port == AMT_PORT_HTTPS &&
                              conn->info.chain_accepted &&
                              sim_device_state(dev) != SIM_STATE_PROVISIONED;
    if (handler(&sr, &resp) != 0) {
        free(resp.body);
        free(action);
        return answer_static(conn, req, method, url, MHD_HTTP_INTERNAL_SERVER_ERROR,
                             "internal error\n", "text/plain", user);
    }
    free(action);
    status = resp.status > 0 ? resp.status : MHD_HTTP_INTERNAL_SERVER_ERROR;
    if (resp.body != NULL)
        mr = new_response_wiped(dev, resp.body, resp.body_len, resp.content_type);
    else
        mr = new_response(dev, "", 0, MHD_RESPMEM_PERSISTENT, resp.content_type);
    if (mr == NULL)
        return MHD_NO;
    ret = MHD_queue_response(req->mc, (unsigned)status, mr);
    MHD_destroy_response(mr);
    req->answered = true;
    log_request(conn, method, url, status, user);
    return ret;
}

static enum MHD_Result
process(struct http_conn *conn, struct http_req *req, const char *url, const char *method)
{
    struct sim_device *dev = conn->site->dev;
    const struct sim_http_handlers *hd = &conn->h->handlers;
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0;
    char user[DIGEST_USERNAME_MAX + 1] = "", page[512];
    unsigned rights = 0;
    enum MHD_Result ret = MHD_NO;

    /* PORT-16992: discovery reads the Server header and whether a 401 comes back */
    if (conn->info.port == AMT_PORT_HTTP && get && strcmp(url, "/") == 0 &&
        MHD_lookup_connection_value(req->mc, MHD_HEADER_KIND,
                                    MHD_HTTP_HEADER_AUTHORIZATION) == NULL &&
        !conn->cached) {
        bool provisioned = sim_device_state(dev) == SIM_STATE_PROVISIONED;
        bool page_first = !provisioned || sim_device_switch(dev, SIM_SWITCH_WEB_UI);

        sim_net_event(dev, "PORT-16992", EVLOG_RESULT_OK,
                      EVLOG_INT("status", page_first ? 200 : 401),
                      EVLOG_STR("state", sim_state_name(sim_device_state(dev))),
                      EVLOG_STR("version", sim_device_profile(dev)->text));
        if (page_first)
            return answer_static(conn, req, method, url, MHD_HTTP_OK,
                                 discovery_page(dev, page, sizeof(page)), "text/html",
                                 NULL);
    }

    if (authenticate(conn, req, method, url, user, &rights, &ret) != AUTH_OK)
        return ret;

    if (hd->is_soap_path != NULL && hd->is_soap_path(url)) {
        if (!post || hd->soap == NULL)
            return answer_static(conn, req, method, url,
                                 post ? MHD_HTTP_NOT_FOUND : MHD_HTTP_METHOD_NOT_ALLOWED,
                                 post ? "not found\n" : "method not allowed\n",
                                 "text/plain", user);
        return call_service(conn, req, method, url, user, rights, hd->soap);
    }
    if (strcmp(url, "/wsman") == 0) {
        if (!post || hd->wsman == NULL)
            return answer_static(conn, req, method, url,
                                 post ? MHD_HTTP_NOT_FOUND : MHD_HTTP_METHOD_NOT_ALLOWED,
                                 post ? "not found\n" : "method not allowed\n",
                                 "text/plain", user);
        return call_service(conn, req, method, url, user, rights, hd->wsman);
    }
    if (get && strcmp(url, "/") == 0)
        return answer_static(conn, req, method, url, MHD_HTTP_OK,
                             discovery_page(dev, page, sizeof(page)), "text/html", user);
    return answer_static(conn, req, method, url, MHD_HTTP_NOT_FOUND, "not found\n",
                         "text/plain", user);
}

static void
delay_over(struct amt_loop *loop, void *arg)
{
    struct http_req *req = arg;

    req->delay_timer = NULL;
    req->delay_done = true;
    if (req->conn->suspended == req)
        req->conn->suspended = NULL;
    MHD_resume_connection(req->mc);
    http_run(req->conn->h);
}

static bool
content_length_too_large(struct MHD_Connection *mc)
{
    const char *v =
        MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long n;
    char *end;

    if (v == NULL)
        return false;
    errno = 0;
    n = strtoull(v, &end, 10);
    return errno == ERANGE || n > SIM_BODY_MAX;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size,
           void **con_cls)
{
    struct http_conn *conn = conn_of(mc);
    struct http_req *req = *con_cls;
    struct sim_http_site *site = conn != NULL ? conn->site : NULL;

    if (site == NULL)
        return MHD_NO;
    if (req == NULL) {
        if ((req = calloc(1, sizeof(*req))) == NULL)
            return MHD_NO;
        req->conn = conn;
        req->mc = mc;
        *con_cls = req;
        conn->requests++;
        if (site->drop_armed) {
            if (site->drop_left == 0) {
                site->drop_armed = false;
                sim_net_event(site->dev, "X-sim.fault.drop", EVLOG_RESULT_INFO,
                              EVLOG_STR("method", method), EVLOG_STR("path", url),
                              EVLOG_INT("port", conn->info.port),
                              EVLOG_STR("peer", conn->peer));
                conn->h->cutting = true;
                return MHD_NO;
            }
            site->drop_left--;
        }
        if (content_length_too_large(mc)) {
            req->too_large = true;
            return answer_static(conn, req, method, url, MHD_HTTP_CONTENT_TOO_LARGE,
                                 "request body too large\n", "text/plain", NULL);
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;

        *upload_data_size = 0;
        if (req->too_large || req->answered)
            return MHD_YES;
        if (req->len + n > SIM_BODY_MAX) {
            req->too_large = true;
            wipe_free(req->body, req->cap);
            req->body = NULL;
            req->len = req->cap = 0;
            return MHD_YES;
        }
        if (req->len + n + 1 > req->cap) {
            size_t cap = req->cap ? req->cap : 4096;
            char *p;

            while (cap < req->len + n + 1)
                cap *= 2;
            /* not realloc: the old copy may hold a password, and is wiped first */
            if ((p = malloc(cap)) == NULL)
                return MHD_NO;
            if (req->body != NULL)
                memcpy(p, req->body, req->len);
            wipe_free(req->body, req->cap);
            req->body = p;
            req->cap = cap;
        }
        memcpy(req->body + req->len, upload_data, n);
        req->len += n;
        req->body[req->len] = '\0';
        return MHD_YES;
    }
    if (req->answered)
        return MHD_YES;
    if (req->too_large)
        return answer_static(conn, req, method, url, MHD_HTTP_CONTENT_TOO_LARGE,
                             "request body too large\n", "text/plain", NULL);
    if (site->delay > 0 && !req->delay_done) {
        if (loop_timer_at(conn->h->loop, loop_now(conn->h->loop) + site->delay,
                          delay_over, req, &req->delay_timer) != 0)
            return MHD_NO;
        conn->suspended = req;
        MHD_suspend_connection(mc);
        return MHD_YES;
    }
    return process(conn, req, url, method);
}

static void
on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    struct http_req *req = *con_cls;
    struct sim_http *h = cls;

    if (req == NULL)
        return;
    loop_timer_cancel(h->loop, req->delay_timer);
    if (req->conn->suspended == req)
        req->conn->suspended = NULL;
    wipe_free(req->body, req->cap);
    free(req);
    *con_cls = NULL;
}

static void
site_unlink(struct http_conn *conn)
{
    struct sim_http_site *site = conn->site;

    if (site == NULL)
        return;
    if (conn->prev != NULL)
        conn->prev->next = conn->next;
    else
        site->conns = conn->next;
    if (conn->next != NULL)
        conn->next->prev = conn->prev;
    conn->prev = conn->next = NULL;
    site->n_conns--;
    conn->site = NULL;
}

static void
on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
              enum MHD_ConnectionNotificationCode toe)
{
    struct sim_http *h = cls;
    struct http_conn *conn;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
        int fd = ci != NULL ? ci->connect_fd : -1;

        if (fd < 0 || (size_t)fd >= h->by_fd_size || h->by_fd[fd] == NULL)
            return;
        conn = h->by_fd[fd];
        h->by_fd[fd] = NULL;
        conn->mc = mc;
        conn->started = true;
        *socket_context = conn;
        return;
    }
    if ((conn = *socket_context) == NULL)
        return;
    if (conn->site != NULL)
        sim_net_event(conn->site->dev, "X-sim.conn.close", EVLOG_RESULT_INFO,
                      EVLOG_INT("port", conn->info.port), EVLOG_STR("peer", conn->peer),
                      EVLOG_INT("requests", conn->requests));
    site_unlink(conn);
    *socket_context = NULL;
    free(conn);
}

/*
 * The daemon's end of a TLS bridge is a local socket, where TCP_NODELAY and
 * TCP_CORK do not apply; the daemon says so on every answer. Nothing waits in a
 * local socket's buffers, so those messages are noise here.
 */
static void mhd_log(void *cls, const char *fm, va_list ap) AMT_PRINTF(2, 0);

static void
mhd_log(void *cls, const char *fm, va_list ap)
{
    static const char *const noise[] = {
        "Setting TCP_NODELAY",
        "Setting TCP_CORK",
        "Failed to push the data from buffers",
    };
    struct sim_http *h = cls;
    char buf[512];

    vsnprintf(buf, sizeof(buf), fm, ap);
    buf[strcspn(buf, "\n")] = '\0';
    if (h->cutting && strncmp(buf, "Application reported", 20) == 0) {
        h->cutting = false;
        return;
    }
    for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++)
        if (strncmp(buf, noise[i], strlen(noise[i])) == 0)
            return;
    fprintf(stderr, "amt-sim: libmicrohttpd: %s\n", buf);
}

/* --- public --- */

void
sim_http_options_default(struct sim_http_options *o)
{
    memset(o, 0, sizeof(*o));
    o->header_memory = 32 * 1024;
    o->max_connections = 4096;
    o->idle_timeout = 60;
    o->nonce_seconds = 300;
    o->nonce_table_size = 4096;
}

int
sim_http_new(struct amt_loop *loop, const struct sim_http_handlers *handlers,
             const struct sim_http_options *options, struct sim_http **out)
{
    struct sim_http *h = NULL;
    const union MHD_DaemonInfo *di;
    unsigned char op[16];
    int r = AMT_ERR_INTERNAL;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (loop == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((h = calloc(1, sizeof(*h))) == NULL)
        return AMT_ERR_ALLOC;
    h->loop = loop;
    if (handlers != NULL)
        h->handlers = *handlers;
    if (options != NULL)
        h->opt = *options;
    else
        sim_http_options_default(&h->opt);
    if (RAND_bytes(h->nonce_random, sizeof(h->nonce_random)) != 1 ||
        RAND_bytes(op, sizeof(op)) != 1) {
        r = AMT_ERR_CRYPTO;
        goto out;
    }
    hex16(op, h->opaque);
    h->daemon = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_ALLOW_SUSPEND_RESUME |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, h->opt.header_memory,
        MHD_OPTION_CONNECTION_LIMIT, h->opt.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, h->opt.idle_timeout, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, h, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_DIGEST_AUTH_RANDOM, sizeof(h->nonce_random), h->nonce_random,
        MHD_OPTION_NONCE_NC_SIZE, h->opt.nonce_table_size, MHD_OPTION_END);
    if (h->daemon == NULL) {
        r = AMT_ERR_NET_HTTP;
        fprintf(stderr, "amt-sim: %s: MHD_start_daemon failed\n", __func__);
        goto out;
    }
    if ((di = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD)) == NULL ||
        di->epoll_fd < 0) {
        r = AMT_ERR_NET_HTTP;
        goto out;
    }
    if ((r = loop_watch(loop, di->epoll_fd, EPOLLIN, http_io, h, &h->watch)) != 0)
        goto out;
    *out = h;
    h = NULL;
    r = 0;
out:
    sim_http_free(h);
    return r;
}

void
sim_http_free(struct sim_http *h)
{
    if (h == NULL)
        return;
    if (h->n_sites != 0)
        fprintf(stderr, "amt-sim: %s: %zu sites still open\n", __func__, h->n_sites);
    loop_unwatch(h->loop, h->watch);
    loop_timer_cancel(h->loop, h->timer);
    if (h->daemon != NULL)
        MHD_stop_daemon(h->daemon);
    for (size_t i = 0; i < h->by_fd_size; i++)
        free(h->by_fd[i]);
    free(h->by_fd);
    OPENSSL_cleanse(h->nonce_random, sizeof(h->nonce_random));
    free(h);
}

int
sim_http_site_new(struct sim_http *h, struct sim_device *dev, struct sim_http_site **out)
{
    struct sim_http_site *site;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (h == NULL || dev == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((site = calloc(1, sizeof(*site))) == NULL)
        return AMT_ERR_ALLOC;
    site->h = h;
    site->dev = dev;
    h->n_sites++;
    *out = site;
    return 0;
}

void
sim_http_site_free(struct sim_http_site *site)
{
    struct sim_http *h;

    if (site == NULL)
        return;
    h = site->h;
    while (site->conns != NULL) {
        struct http_conn *conn = site->conns;

        sim_net_event(site->dev, "X-sim.conn.close", EVLOG_RESULT_INFO,
                      EVLOG_INT("port", conn->info.port), EVLOG_STR("peer", conn->peer),
                      EVLOG_INT("requests", conn->requests),
                      EVLOG_STR("cause", "device-removed"));
        site_unlink(conn);
        if (conn->suspended != NULL) {
            loop_timer_cancel(h->loop, conn->suspended->delay_timer);
            conn->suspended->delay_timer = NULL;
            conn->suspended = NULL;
            MHD_resume_connection(conn->mc);
        }
        /* the daemon owns the socket: end it, and let the daemon close it */
        shutdown(conn->fd, SHUT_RDWR);
    }
    h->n_sites--;
    free(site);
    http_run(h);
}

size_t
sim_http_site_connections(const struct sim_http_site *site)
{
    return site->n_conns;
}

int
sim_http_add_connection(struct sim_http_site *site, int fd,
                        const struct sim_http_conn_info *info)
{
    struct sim_http *h;
    struct http_conn *conn;
    enum MHD_Result ok;

    if (site == NULL || fd < 0 || info == NULL) {
        if (fd >= 0)
            close(fd);
        return AMT_ERR_INVALID_ARGUMENT;
    }
    h = site->h;
    if ((size_t)fd >= h->by_fd_size) {
        size_t size = (size_t)fd + 64;
        struct http_conn **t = realloc(h->by_fd, size * sizeof(*t));

        if (t == NULL) {
            close(fd);
            fprintf(stderr, "amt-sim: %s: %s\n", __func__, amt_strerror(AMT_ERR_ALLOC));
            return AMT_ERR_ALLOC;
        }
        memset(t + h->by_fd_size, 0, (size - h->by_fd_size) * sizeof(*t));
        h->by_fd = t;
        h->by_fd_size = size;
    }
    if ((conn = calloc(1, sizeof(*conn))) == NULL) {
        close(fd);
        fprintf(stderr, "amt-sim: %s: %s\n", __func__, amt_strerror(AMT_ERR_ALLOC));
        return AMT_ERR_ALLOC;
    }
    conn->h = h;
    conn->site = site;
    conn->fd = fd;
    conn->info = *info;
    sim_net_peer_text(&info->peer, conn->peer, sizeof(conn->peer));
    conn->next = site->conns;
    if (site->conns != NULL)
        site->conns->prev = conn;
    site->conns = conn;
    site->n_conns++;
    free(h->by_fd[fd]); /* a leftover of a start never reported */
    h->by_fd[fd] = conn;

    ok = MHD_add_connection(h->daemon, fd, (const struct sockaddr *)&info->peer,
                            sizeof(info->peer));
    if (ok != MHD_YES) {
        int e = errno;

        /* the daemon has closed fd; a start it reported ends with its close */
        if (!conn->started) {
            if (h->by_fd[fd] == conn)
                h->by_fd[fd] = NULL;
            site_unlink(conn);
            free(conn);
        }
        fprintf(stderr, "amt-sim: %s: MHD_add_connection: %s\n", __func__, strerror(e));
        http_reschedule(h);
        return AMT_ERR_NET_HTTP;
    }
    /* a start not reported yet finds conn in by_fd later */
    http_run(h);
    return 0;
}

void
sim_http_site_set_delay(struct sim_http_site *site, double seconds)
{
    site->delay = seconds > 0 ? seconds : 0;
}

void
sim_http_site_set_drop_after(struct sim_http_site *site, unsigned n)
{
    site->drop_armed = n > 0;
    site->drop_left = n;
}

void
sim_http_site_reset_nonces(struct sim_http_site *site)
{
    for (size_t i = 0; i < NONCE_RING; i++)
        site->nonce_revoked[i] = site->nonce_hash[i] != 0;
}
