#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certpol.h"
#include "err.h"
#include "net.h"

#define TLS_CN_MAX 256
#define BRIDGE_BUF (16 * 1024)

/* The only ciphers of the firmware generations before AMT 12. */
#define LEGACY_CIPHERS "AES128-SHA:AES256-SHA"

struct sim_tls_server {
    struct sim_device *dev;
    SSL_CTX *ctx;
    char *cert_pem; /* the certificate the context was made from */
    bool self_signed;
    char cert_cn[TLS_CN_MAX];
    unsigned generation;
};

struct sim_tls_handshake {
    struct sim_tls_server *srv;
    struct amt_loop *loop;
    SSL *ssl;
    int fd;
    struct loop_watch *watch;
    uint32_t watching;
    struct loop_timer *timer;
    struct sockaddr_in peer;
    unsigned port;
    enum sim_tls_mode mode;
    sim_tls_done_cb cb;
    void *arg;
    bool client_hello_logged;
    bool hello_logged;
    bool chain_seen;
    bool chain_refused;
    bool chain_accepted;
    char alert[64]; /* the alert we sent, if any */
};

/* --- helpers --- */

/* The subject CN as UTF-8, or "" when there is none. */
static void
cert_cn(X509 *cert, char *buf, size_t size)
{
    X509_NAME *name = cert != NULL ? X509_get_subject_name(cert) : NULL;
    int i = name != NULL ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
    unsigned char *utf8 = NULL;
    int n;

    buf[0] = '\0';
    if (i < 0)
        return;
    n = ASN1_STRING_to_UTF8(&utf8,
                            X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (n >= 0)
        snprintf(buf, size, "%.*s", n, (const char *)utf8);
    OPENSSL_free(utf8);
}

/* Issued by itself and signed with its own key (its key usage is not asked). */
static bool
self_signed(X509 *cert)
{
    EVP_PKEY *key = X509_get0_pubkey(cert);
    bool yes =
        key != NULL &&
        X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) == 0 &&
        X509_verify(cert, key) == 1;

    ERR_clear_error();
    return yes;
}

/* A key PEM is never encrypted in flash: refuse to prompt for a pass phrase. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

static const char *
mode_event_id(const struct sim_tls_handshake *hs, const char *oob_id, char *buf,
              size_t size)
{
    if (hs->mode != SIM_TLS_MODE_PROVISIONING)
        return "X-sim.tls";
    return sim_net_step_id(hs->srv->dev, oob_id, buf, size);
}

/* --- the context --- */

static int verify_chain(X509_STORE_CTX *xs, void *arg);
static int client_hello_cb(SSL *ssl, int *alert, void *arg);
static void info_cb(const SSL *ssl, int where, int ret);

static int
load_credentials(SSL_CTX *ctx, const char *key_pem, const char *cert_pem, X509 **leaf_out)
{
    BIO *bio = NULL;
    X509 *cert = NULL, *extra = NULL;
    EVP_PKEY *key = NULL;
    int r = AMT_ERR_NET_TLS_CONTEXT;

    *leaf_out = NULL;
    if ((bio = BIO_new_mem_buf(cert_pem, -1)) == NULL ||
        (cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) == NULL ||
        SSL_CTX_use_certificate(ctx, cert) != 1)
        goto out;
    /* a certificate set after provisioning may come with its chain */
    while ((extra = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) != NULL) {
        if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
            X509_free(extra);
            goto out;
        }
    }
    ERR_clear_error();
    BIO_free(bio);
    if ((bio = BIO_new_mem_buf(key_pem, -1)) == NULL ||
        (key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)) == NULL ||
        SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1)
        goto out;
    *leaf_out = cert;
    cert = NULL;
    r = 0;
out:
    X509_free(cert);
    EVP_PKEY_free(key);
    BIO_free(bio);
    return r;
}

static int
build_ctx(struct sim_tls_server *srv)
{
    const char *key_pem = sim_device_tls_key_pem(srv->dev);
    const char *cert_pem = sim_device_tls_cert_pem(srv->dev);
    const struct sim_profile *profile = sim_device_profile(srv->dev);
    SSL_CTX *ctx = NULL;
    X509 *leaf = NULL;
    char *copy = NULL;
    int r = AMT_ERR_NET_TLS_CONTEXT;

    if (key_pem == NULL || cert_pem == NULL)
        goto out;
    if ((copy = strdup(cert_pem)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
        goto out;
    if (profile->tls == SIM_TLS_LEGACY) {
        /* TLS 1.0 signs with MD5+SHA-1, which every level above 0 refuses */
        SSL_CTX_set_security_level(ctx, 0);
        if (SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) != 1 ||
            SSL_CTX_set_max_proto_version(ctx, TLS1_VERSION) != 1 ||
            SSL_CTX_set_cipher_list(ctx, LEGACY_CIPHERS) != 1)
            goto out;
    } else {
        if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
            SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1)
            goto out;
    }
    if ((r = load_credentials(ctx, key_pem, cert_pem, &leaf)) != 0)
        goto out;
    r = AMT_ERR_NET_TLS_CONTEXT;
    /* a resumed session would skip the client chain: every handshake is a full one */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                 SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_cert_verify_callback(ctx, verify_chain, srv);
    SSL_CTX_set_info_callback(ctx, info_cb);
    SSL_CTX_set_client_hello_cb(ctx, client_hello_cb, NULL);

    srv->self_signed = self_signed(leaf);
    cert_cn(leaf, srv->cert_cn, sizeof(srv->cert_cn));
    SSL_CTX_free(srv->ctx);
    srv->ctx = ctx;
    ctx = NULL;
    free(srv->cert_pem);
    srv->cert_pem = copy;
    copy = NULL;
    srv->generation++;
    r = 0;
out:
    if (r != 0) {
        unsigned long e = ERR_peek_last_error();

        fprintf(stderr, "amt-sim: %s: device %s: %s%s%s\n", __func__,
                sim_device_uuid_text(srv->dev), amt_strerror(r), e != 0 ? ": " : "",
                e != 0 ? ERR_reason_error_string(e) : "");
        ERR_clear_error();
    }
    X509_free(leaf);
    SSL_CTX_free(ctx);
    free(copy);
    return r;
}

int
sim_tls_server_new(struct sim_device *dev, struct sim_tls_server **out)
{
    struct sim_tls_server *srv;
    int r;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (dev == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((srv = calloc(1, sizeof(*srv))) == NULL)
        return AMT_ERR_ALLOC;
    srv->dev = dev;
    if ((r = build_ctx(srv)) != 0) {
        sim_tls_server_free(srv);
        return r;
    }
    *out = srv;
    return 0;
}

void
sim_tls_server_free(struct sim_tls_server *srv)
{
    if (srv == NULL)
        return;
    SSL_CTX_free(srv->ctx);
    free(srv->cert_pem);
    free(srv);
}

int
sim_tls_server_refresh(struct sim_tls_server *srv)
{
    const char *now = sim_device_tls_cert_pem(srv->dev);

    /* the flash may move its strings: compare the text, not the pointer */
    if (now != NULL && srv->cert_pem != NULL && strcmp(now, srv->cert_pem) == 0)
        return 0;
    return build_ctx(srv);
}

unsigned
sim_tls_server_generation(const struct sim_tls_server *srv)
{
    return srv->generation;
}

/* --- the handshake --- */

/*
 * OOB-3.4 and OOB-3.5: OpenSSL hands over the chain the client sent; certpol
 * judges it as AMT does. Returning 0 makes OpenSSL abort with an alert.
 */
static int
verify_chain(X509_STORE_CTX *xs, void *arg)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct sim_tls_handshake *hs = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
    struct sim_tls_server *srv = arg;
    const struct sim_device_config *cfg = sim_device_config(srv->dev);
    X509 *leaf = X509_STORE_CTX_get0_cert(xs);
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_untrusted(xs);
    struct certpol_policy pol;
    enum certpol_reason reason = CERTPOL_OK;
    char cn[TLS_CN_MAX], id[16];
    const char *step;
    int n = chain != NULL ? sk_X509_num(chain) : 0;
    int r;

    if (hs == NULL || hs->mode != SIM_TLS_MODE_PROVISIONING) {
        X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    hs->chain_seen = true;
    /* the stack holds the leaf too on the server side; count what was sent */
    if (n == 0 || X509_cmp(sk_X509_value(chain, 0), leaf) != 0)
        n++;
    cert_cn(leaf, cn, sizeof(cn));
    sim_net_event(srv->dev, sim_net_step_id(srv->dev, "OOB-3.4", id, sizeof(id)),
                  EVLOG_RESULT_OK, EVLOG_STR("leaf-cn", cn), EVLOG_INT("chain-length", n),
                  EVLOG_INT("port", hs->port));

    memset(&pol, 0, sizeof(pol));
    pol.domain_suffix = sim_device_pki_suffix(srv->dev);
    pol.parent_domain_rule =
        sim_profile_has(sim_device_profile(srv->dev), SIM_FEATURE_PARENT_DOMAIN_RULE);
    pol.trusted_roots = cfg->roots;
    pol.n_trusted_roots = cfg->n_roots;
    pol.now = 0;
    r = certpol_check_chain(&pol, leaf, chain, &reason);
    step = sim_net_step_id(srv->dev, "OOB-3.5", id, sizeof(id));
    if (r == 0) {
        hs->chain_accepted = true;
        sim_net_event(srv->dev, step, EVLOG_RESULT_OK, EVLOG_STR("leaf-cn", cn),
                      EVLOG_STR("suffix", pol.domain_suffix),
                      EVLOG_BOOL("parent-domain-rule", pol.parent_domain_rule));
        return 1;
    }
    hs->chain_refused = true;
    if (r == AMT_ERR_CERT_REFUSED) {
        sim_net_event(srv->dev, step, EVLOG_RESULT_FAIL,
                      EVLOG_REASON(certpol_reason_name(reason)), EVLOG_STR("leaf-cn", cn),
                      EVLOG_STR("suffix", pol.domain_suffix),
                      EVLOG_STR("why", certpol_reason_text(reason)));
    } else {
        sim_net_event(srv->dev, step, EVLOG_RESULT_FAIL, EVLOG_REASON("check-error"),
                      EVLOG_STR("leaf-cn", cn), EVLOG_STR("why", amt_strerror(r)));
        ERR_clear_error();
    }
    X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
}

/*
 * OOB-3.1: what the client asks for. This generation of AMT speaks SHA-1 based
 * suites; the event says whether the client offered one.
 */
static int
client_hello_cb(SSL *ssl, int *alert, void *arg)
{
    struct sim_tls_handshake *hs = SSL_get_app_data(ssl);
    const unsigned char *suites = NULL;
    size_t n = SSL_client_hello_get0_ciphers(ssl, &suites);
    bool sha1 = false;
    char id[16], peer[32];

    if (hs == NULL || hs->mode != SIM_TLS_MODE_PROVISIONING || hs->client_hello_logged)
        return SSL_CLIENT_HELLO_SUCCESS;
    hs->client_hello_logged = true;
    for (size_t i = 0; i + 1 < n && !sha1; i += 2) {
        const SSL_CIPHER *c = SSL_CIPHER_find(ssl, suites + i);

        sha1 = c != NULL && SSL_CIPHER_get_digest_nid(c) == NID_sha1;
    }
    sim_net_peer_text(&hs->peer, peer, sizeof(peer));
    sim_net_event(hs->srv->dev, sim_net_step_id(hs->srv->dev, "OOB-3.1", id, sizeof(id)),
                  EVLOG_RESULT_OK, EVLOG_INT("suites", (int64_t)(n / 2)),
                  EVLOG_BOOL("sha1-suite-offered", sha1), EVLOG_STR("peer", peer),
                  EVLOG_INT("port", hs->port));
    return SSL_CLIENT_HELLO_SUCCESS;
}

static void
info_cb(const SSL *ssl, int where, int ret)
{
    struct sim_tls_handshake *hs = SSL_get_app_data(ssl);
    char id[16];

    if (hs == NULL)
        return;
    if ((where & SSL_CB_WRITE_ALERT) && hs->alert[0] == '\0')
        snprintf(hs->alert, sizeof(hs->alert), "%s", SSL_alert_desc_string_long(ret));
    /* the hello and the certificate have been written once the server is "done" */
    if ((where & SSL_CB_ACCEPT_LOOP) && SSL_get_state(ssl) == TLS_ST_SW_SRVR_DONE &&
        !hs->hello_logged && hs->mode == SIM_TLS_MODE_PROVISIONING) {
        /* chosen, not in use before the ChangeCipherSpec */
        const SSL_CIPHER *pending = SSL_get_pending_cipher(ssl);

        hs->hello_logged = true;
        sim_net_event(
            hs->srv->dev, sim_net_step_id(hs->srv->dev, "OOB-3.2", id, sizeof(id)),
            EVLOG_RESULT_OK, EVLOG_STR("protocol", SSL_get_version(ssl)),
            EVLOG_STR("cipher", pending != NULL ? SSL_CIPHER_get_name(pending) : "none"),
            EVLOG_BOOL("self-signed", hs->srv->self_signed),
            EVLOG_STR("subject-cn", hs->srv->cert_cn),
            EVLOG_BOOL("client-certificate-requested", true),
            EVLOG_INT("port", hs->port));
    }
}

static void
hs_stop_watching(struct sim_tls_handshake *hs)
{
    loop_unwatch(hs->loop, hs->watch);
    hs->watch = NULL;
    loop_timer_cancel(hs->loop, hs->timer);
    hs->timer = NULL;
}

static void
hs_finish(struct sim_tls_handshake *hs, int result)
{
    hs_stop_watching(hs);
    /* the callee may free hs: nothing may touch it afterwards */
    hs->cb(hs, result, hs->arg);
}

/* A kebab-case word for why OpenSSL gave up, from the first error it queued. */
static const char *
failure_reason(const struct sim_tls_handshake *hs, unsigned long e, int ssl_err)
{
    if (hs->chain_refused)
        return "chain-refused";
    if (ssl_err == SSL_ERROR_SYSCALL || ssl_err == SSL_ERROR_ZERO_RETURN)
        return "peer-closed";
    if (ERR_GET_LIB(e) != ERR_LIB_SSL)
        return "handshake-failed";
    switch (ERR_GET_REASON(e)) {
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
        return "no-client-certificate";
    case SSL_R_NO_SHARED_CIPHER:
        return "no-shared-cipher";
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
        return "protocol-mismatch";
    case SSL_R_HTTP_REQUEST:
        return "plain-http-on-tls-port";
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
        return "peer-closed";
    default:
        return "handshake-failed";
    }
}

static void
hs_failed(struct sim_tls_handshake *hs, int ssl_err)
{
    unsigned long e = ERR_peek_error();
    const char *reason = failure_reason(hs, e, ssl_err);
    const char *text = e != 0 ? ERR_reason_error_string(e) : NULL;
    char peer[32], id[16];
    int result = AMT_ERR_CRYPTO;

    sim_net_peer_text(&hs->peer, peer, sizeof(peer));
    if (hs->chain_refused)
        result = AMT_ERR_CERT_REFUSED;
    else if (strcmp(reason, "peer-closed") == 0)
        result = AMT_ERR_EOF;
    if (strcmp(reason, "no-client-certificate") == 0)
        sim_net_event(
            hs->srv->dev, sim_net_step_id(hs->srv->dev, "OOB-3.4", id, sizeof(id)),
            EVLOG_RESULT_FAIL, EVLOG_REASON(reason), EVLOG_INT("port", hs->port));
    sim_net_event(hs->srv->dev, mode_event_id(hs, "OOB-3.3", id, sizeof(id)),
                  EVLOG_RESULT_FAIL, EVLOG_REASON(reason),
                  EVLOG_STR("error", text != NULL ? text : "none"),
                  EVLOG_STR("alert", hs->alert[0] != '\0' ? hs->alert : "none"),
                  EVLOG_STR("peer", peer), EVLOG_INT("port", hs->port));
    ERR_clear_error();
    hs_finish(hs, result);
}

static void
hs_step(struct sim_tls_handshake *hs)
{
    uint32_t want;
    char id[16];
    int n, err;

    ERR_clear_error();
    n = SSL_accept(hs->ssl);
    if (n == 1) {
        sim_net_event(hs->srv->dev, mode_event_id(hs, "OOB-3.3", id, sizeof(id)),
                      EVLOG_RESULT_OK, EVLOG_STR("protocol", SSL_get_version(hs->ssl)),
                      EVLOG_STR("cipher", SSL_get_cipher_name(hs->ssl)),
                      EVLOG_BOOL("client-chain-accepted", hs->chain_accepted),
                      EVLOG_INT("port", hs->port));
        hs_finish(hs, 0);
        return;
    }
    err = SSL_get_error(hs->ssl, n);
    if (err == SSL_ERROR_WANT_READ)
        want = EPOLLIN;
    else if (err == SSL_ERROR_WANT_WRITE)
        want = EPOLLOUT;
    else {
        hs_failed(hs, err);
        return;
    }
    if (want != hs->watching && loop_watch_modify(hs->loop, hs->watch, want) == 0)
        hs->watching = want;
}

static void
hs_io(struct amt_loop *loop, int fd, uint32_t events, void *arg)
{
    hs_step(arg);
}

static void
hs_timeout(struct amt_loop *loop, void *arg)
{
    struct sim_tls_handshake *hs = arg;
    char peer[32], id[16];

    hs->timer = NULL;
    sim_net_peer_text(&hs->peer, peer, sizeof(peer));
    sim_net_event(hs->srv->dev, mode_event_id(hs, "OOB-3.3", id, sizeof(id)),
                  EVLOG_RESULT_FAIL, EVLOG_REASON("handshake-timeout"),
                  EVLOG_STR("peer", peer), EVLOG_INT("port", hs->port));
    hs_finish(hs, AMT_ERR_TIMEOUT);
}

int
sim_tls_handshake_start(struct sim_tls_server *srv, struct amt_loop *loop, int fd,
                        const struct sockaddr_in *peer, unsigned port,
                        enum sim_tls_mode mode, double timeout, sim_tls_done_cb cb,
                        void *arg, struct sim_tls_handshake **out)
{
    struct sim_tls_handshake *hs = NULL;
    int r = AMT_ERR_INTERNAL;

    if (out != NULL)
        *out = NULL;
    if (srv == NULL || loop == NULL || fd < 0 || cb == NULL || out == NULL) {
        if (fd >= 0)
            close(fd);
        return AMT_ERR_INVALID_ARGUMENT;
    }
    if ((hs = calloc(1, sizeof(*hs))) == NULL) {
        close(fd);
        return AMT_ERR_ALLOC;
    }
    hs->srv = srv;
    hs->loop = loop;
    hs->fd = fd;
    hs->port = port;
    hs->mode = mode;
    hs->cb = cb;
    hs->arg = arg;
    if (peer != NULL)
        hs->peer = *peer;
    r = AMT_ERR_CRYPTO;
    if ((hs->ssl = SSL_new(srv->ctx)) == NULL || SSL_set_fd(hs->ssl, fd) != 1)
        goto out;
    SSL_set_app_data(hs->ssl, hs);
    if (mode == SIM_TLS_MODE_PROVISIONING)
        SSL_set_verify(hs->ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    else
        SSL_set_verify(hs->ssl, SSL_VERIFY_NONE, NULL);
    if ((r = loop_watch(loop, fd, EPOLLIN, hs_io, hs, &hs->watch)) != 0)
        goto out;
    hs->watching = EPOLLIN;
    if ((r = loop_timer_at(loop, loop_now(loop) + timeout, hs_timeout, hs, &hs->timer)) !=
        0)
        goto out;
    *out = hs;
    hs = NULL;
    r = 0;
out:
    if (r != 0)
        ERR_clear_error();
    sim_tls_handshake_free(hs);
    return r;
}

SSL *
sim_tls_handshake_take(struct sim_tls_handshake *hs, int *fd)
{
    SSL *ssl = hs->ssl;

    hs_stop_watching(hs);
    *fd = hs->fd;
    if (ssl != NULL)
        SSL_set_app_data(ssl, NULL);
    hs->ssl = NULL;
    hs->fd = -1;
    return ssl;
}

bool
sim_tls_handshake_chain_accepted(const struct sim_tls_handshake *hs)
{
    return hs->chain_accepted;
}

void
sim_tls_handshake_free(struct sim_tls_handshake *hs)
{
    if (hs == NULL)
        return;
    hs_stop_watching(hs);
    SSL_free(hs->ssl);
    if (hs->fd >= 0)
        close(hs->fd);
    free(hs);
}

/* --- the bridge --- */

struct sim_tls_bridge {
    struct amt_loop *loop;
    SSL *ssl;
    int fd;  /* the TLS peer */
    int app; /* our end of the pair */
    struct loop_watch *w_fd, *w_app;
    struct loop_timer *kick;
    uint32_t ev_fd, ev_app;
    sim_tls_bridge_closed_cb closed_cb;
    void *arg;
    /* from the TLS peer, on its way to the app */
    unsigned char in[BRIDGE_BUF];
    size_t in_len, in_off;
    /* from the app, waiting for SSL_write (which needs the same bytes again) */
    unsigned char out[BRIDGE_BUF];
    size_t out_len;
    uint32_t read_want, write_want; /* what SSL_read / SSL_write wait for */
    bool tls_eof, app_eof, app_shut;
};

static void
bridge_release(struct sim_tls_bridge *b)
{
    loop_timer_cancel(b->loop, b->kick);
    loop_unwatch(b->loop, b->w_fd);
    loop_unwatch(b->loop, b->w_app);
    SSL_free(b->ssl);
    if (b->fd >= 0)
        close(b->fd);
    if (b->app >= 0)
        close(b->app);
    free(b);
}

static void
bridge_close(struct sim_tls_bridge *b)
{
    sim_tls_bridge_closed_cb cb = b->closed_cb;
    void *arg = b->arg;

    bridge_release(b);
    if (cb != NULL)
        cb(arg);
}

/* Moves what can move; false when the bridge is finished or broken. */
static bool
bridge_pump(struct sim_tls_bridge *b)
{
    bool progress;
    ssize_t n;
    int err;

    do {
        progress = false;
        if (!b->tls_eof && b->in_len == 0) {
            ERR_clear_error();
            n = SSL_read(b->ssl, b->in, sizeof(b->in));
            if (n > 0) {
                b->in_len = (size_t)n;
                b->in_off = 0;
                b->read_want = EPOLLIN;
                progress = true;
            } else if ((err = SSL_get_error(b->ssl, (int)n)) == SSL_ERROR_WANT_READ) {
                b->read_want = EPOLLIN;
            } else if (err == SSL_ERROR_WANT_WRITE) {
                b->read_want = EPOLLOUT;
            } else if (err == SSL_ERROR_ZERO_RETURN) {
                b->tls_eof = true;
                progress = true;
            } else {
                ERR_clear_error();
                return false;
            }
        }
        if (b->in_len > b->in_off) {
            n = send(b->app, b->in + b->in_off, b->in_len - b->in_off, MSG_NOSIGNAL);
            if (n > 0) {
                b->in_off += (size_t)n;
                if (b->in_off == b->in_len)
                    b->in_len = b->in_off = 0;
                progress = true;
            } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                       errno != EINTR) {
                return false;
            }
        }
        if (b->tls_eof && b->in_len == 0 && !b->app_shut) {
            shutdown(b->app, SHUT_WR);
            b->app_shut = true;
        }
        if (!b->app_eof && b->out_len == 0) {
            n = recv(b->app, b->out, sizeof(b->out), 0);
            if (n > 0) {
                b->out_len = (size_t)n;
                progress = true;
            } else if (n == 0) {
                b->app_eof = true;
                progress = true;
            } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                return false;
            }
        }
        if (b->out_len > 0) {
            ERR_clear_error();
            n = SSL_write(b->ssl, b->out, (int)b->out_len);
            if (n > 0) {
                b->out_len = 0;
                b->write_want = EPOLLOUT;
                progress = true;
            } else if ((err = SSL_get_error(b->ssl, (int)n)) == SSL_ERROR_WANT_READ) {
                b->write_want = EPOLLIN;
            } else if (err == SSL_ERROR_WANT_WRITE) {
                b->write_want = EPOLLOUT;
            } else {
                ERR_clear_error();
                return false;
            }
        }
    } while (progress);

    /* the daemon closed its end and everything it wrote went out */
    if (b->app_eof && b->out_len == 0) {
        ERR_clear_error();
        SSL_shutdown(b->ssl);
        ERR_clear_error();
        return false;
    }
    return true;
}

static void
bridge_rearm(struct sim_tls_bridge *b)
{
    uint32_t ev_fd = 0, ev_app = 0;

    if (!b->tls_eof && b->in_len == 0)
        ev_fd |= b->read_want;
    if (b->out_len > 0)
        ev_fd |= b->write_want;
    if (!b->app_eof && b->out_len == 0)
        ev_app |= EPOLLIN;
    if (b->in_len > b->in_off)
        ev_app |= EPOLLOUT;
    if (ev_fd != b->ev_fd && loop_watch_modify(b->loop, b->w_fd, ev_fd) == 0)
        b->ev_fd = ev_fd;
    if (ev_app != b->ev_app && loop_watch_modify(b->loop, b->w_app, ev_app) == 0)
        b->ev_app = ev_app;
}

static void
bridge_io(struct amt_loop *loop, int fd, uint32_t events, void *arg)
{
    struct sim_tls_bridge *b = arg;

    if (!bridge_pump(b)) {
        bridge_close(b);
        return;
    }
    /* a hang-up nothing can be read from any more would wake us for ever */
    if ((events & (EPOLLHUP | EPOLLERR)) && fd == b->fd && b->in_len == 0 &&
        !(events & EPOLLIN)) {
        bridge_close(b);
        return;
    }
    bridge_rearm(b);
}

/* The handshake may have read the first request already: no event would tell. */
static void
bridge_kick(struct amt_loop *loop, void *arg)
{
    struct sim_tls_bridge *b = arg;

    b->kick = NULL;
    if (!bridge_pump(b)) {
        bridge_close(b);
        return;
    }
    bridge_rearm(b);
}

int
sim_tls_bridge_new(struct amt_loop *loop, SSL *ssl, int fd,
                   sim_tls_bridge_closed_cb closed_cb, void *arg, int *app_fd,
                   struct sim_tls_bridge **out)
{
    struct sim_tls_bridge *b = NULL;
    int pair[2] = {-1, -1};
    int r = AMT_ERR_INTERNAL;

    if (out != NULL)
        *out = NULL;
    if (app_fd != NULL)
        *app_fd = -1;
    if (loop == NULL || ssl == NULL || fd < 0 || app_fd == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((b = calloc(1, sizeof(*b))) == NULL)
        return AMT_ERR_ALLOC;
    b->loop = loop;
    b->fd = -1;
    b->app = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) {
        r = AMT_ERR_SYSTEM;
        goto out;
    }
    b->ssl = ssl;
    b->fd = fd;
    b->app = pair[0];
    b->closed_cb = closed_cb;
    b->arg = arg;
    b->read_want = EPOLLIN;
    b->write_want = EPOLLOUT;
    b->ev_fd = EPOLLIN;
    b->ev_app = EPOLLIN;
    if ((r = loop_watch(loop, b->fd, b->ev_fd, bridge_io, b, &b->w_fd)) != 0 ||
        (r = loop_watch(loop, b->app, b->ev_app, bridge_io, b, &b->w_app)) != 0 ||
        (r = loop_timer_at(loop, loop_now(loop), bridge_kick, b, &b->kick)) != 0)
        goto out;
    *app_fd = pair[1];
    pair[1] = -1;
    *out = b;
    b = NULL;
    r = 0;
out:
    if (b != NULL) {
        /* on failure the caller keeps ssl and fd */
        b->ssl = NULL;
        b->fd = -1;
        bridge_release(b);
    }
    if (pair[1] >= 0)
        close(pair[1]);
    return r;
}

void
sim_tls_bridge_free(struct sim_tls_bridge *b)
{
    if (b == NULL)
        return;
    bridge_release(b);
}
