#include "amtclient.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "certpol.h"
#include "curl_loop.h"
#include "digest.h"
#include "err.h"
#include "evlog.h"
#include "loop.h"
#include "uuid.h"
#include "xmlsafe.h"

/* The only suites of AMT before 12, both SHA-1 based as OOB-3.1 asks. */
#define LEGACY_CIPHERS "AES128-SHA:AES256-SHA"
#define HOST_MAX 253
#define PATH_MAX_LEN 128
#define SUITE_NAMES_MAX 512
#define SUBJECT_MAX 256

struct amt_client {
    struct amt_loop *loop;
    struct curl_loop *cl;
    struct evlog *events;
    size_t sessions;
};

struct amt_call {
    struct amt_call *next;
    bool wsman;
    char path[PATH_MAX_LEN];
    char *body;
    size_t body_len;
    char *soap_action; /* the header line, for SOAP */
    char *ns, *method; /* what the SOAP reply must be */
    char message_id[WSMAN_ID_MAX];
    amt_result_cb cb;
    void *arg;
};

struct credential {
    char *user;
    char *password;
};

/* Whether a request is the one without credentials or carries one. */
enum stage {
    STAGE_BARE,
    STAGE_CREDENTIAL,
};

/*
 * What OpenSSL's callbacks saw of the current TLS connection. Reset when curl makes
 * a new connection (its SSL_CTX callback), kept while the connection is reused.
 */
struct tls_state {
    bool started;      /* our SSL_CTX callback ran for it */
    bool server_spoke; /* any record came back */
    bool server_hello;
    unsigned server_version; /* as the ServerHello says, e.g. 0x0301 */
    bool done;
    bool pin_mismatch;
    char alert[64]; /* the alert the device sent, if any */
    char protocol[16];
    char cipher[64];
};

struct amt_session {
    struct amt_client *client;
    char device[EVLOG_UUID_LEN + 1];
    bool has_device;
    char host[HOST_MAX + 1];
    unsigned port, connect_port;
    bool tls, in_band;
    double timeout;

    enum amt_tls_profile profile; /* as asked */
    enum amt_tls_profile active;  /* MODERN or LEGACY: what connections use now */
    bool profile_settled;         /* a handshake completed with active */
    char *client_chain, *client_key;
    enum amt_server_trust trust;
    char *ca_file, *expected_host;
    struct amt_thumbprint pin;
    bool pinned;

    struct credential creds[AMT_CLIENT_CREDENTIALS_MAX];
    size_t n_creds;
    int cred_ok;     /* the credential that worked, -1 */
    size_t cred_try; /* the credential the current request carries */
    bool exhausted;
    struct digest_challenge *challenge;
    bool have_challenge;
    unsigned nc;

    CURL *easy;
    CURLSH *share;
    struct curl_slist *headers;
    struct amt_call *head, *tail, *current;
    struct loop_timer *timer;
    enum stage stage;
    bool answered; /* the current call got an HTTP status back */
    unsigned stale_left;
    bool reconnect; /* a new connection for the next request */

    /* the answer being read */
    char *reply;
    size_t reply_len, reply_cap, header_bytes;
    bool reply_too_large, headers_too_large;
    char *www_auth; /* DIGEST_HEADER_MAX + 1 */
    bool have_www_auth, www_auth_too_long;
    bool got_bytes; /* any byte of an HTTP answer */
    bool connected; /* curl had a connection ready for this request */
    bool ipv6_peer; /* refused before sending */
    struct tls_state hs;
    char errbuf[CURL_ERROR_SIZE];

    unsigned depth; /* inside one of this session's callbacks */
    bool free_pending;
    bool closing; /* connections going: no more events */
};

static void start_next(struct amt_session *s);
static void send_current(struct amt_session *s);

/* --- events --- */

/*
 * The id of a step: in band, OOB-3.n, OOB-4.n and OOB-5 are IB-6.n, IB-7.n and IB-8,
 * as the catalogue numbers them.
 */
static const char *
step_id(const struct amt_session *s, const char *oob_id, char *buf, size_t size)
{
    static const struct {
        const char *oob, *ib;
    } map[] = {{"OOB-3", "IB-6"}, {"OOB-4", "IB-7"}, {"OOB-5", "IB-8"}};

    if (!s->in_band)
        return oob_id;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        size_t n = strlen(map[i].oob);

        if (strncmp(oob_id, map[i].oob, n) == 0 &&
            (oob_id[n] == '\0' || oob_id[n] == '.')) {
            snprintf(buf, size, "%s%s", map[i].ib, oob_id + n);
            return buf;
        }
    }
    return oob_id;
}

static void
sp_event_fields(struct amt_session *s, const char *oob_id, enum evlog_result result,
                const struct evlog_field *fields, size_t n)
{
    char id[EVLOG_ID_MAX + 1];
    const char *ev_id;
    int r;

    if (s->closing || s->client->events == NULL)
        return;
    ev_id = step_id(s, oob_id, id, sizeof(id));
    r = evlog_emit_fields(s->client->events, loop_now(s->client->loop), EVLOG_ACTOR_SP,
                          s->has_device ? s->device : NULL, ev_id, result, fields, n);
    if (r != 0)
        fprintf(stderr, "%s: event %s not written: %s\n", __func__, ev_id,
                amt_strerror(r));
}

#define sp_event(s, id, result, ...)                                                     \
    sp_event_fields((s), (id), (result),                                                 \
                    (const struct evlog_field[]){{0}, __VA_ARGS__} + 1,                  \
                    sizeof((const struct evlog_field[]){{0}, __VA_ARGS__}) /             \
                            sizeof(struct evlog_field) -                                 \
                        1)

static const char *
port_event_id(const struct amt_session *s)
{
    return s->port == AMT_CLIENT_PORT_HTTPS ? "PORT-16993" : "PORT-16992";
}

/* --- small helpers --- */

static char *
dup_or_null(const char *s, bool *failed)
{
    char *d;

    if (s == NULL)
        return NULL;
    if ((d = strdup(s)) == NULL)
        *failed = true;
    return d;
}

static void
free_wiped(char *s)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

/* Frees a header list after wiping it: one line may be an Authorization. */
static void
free_headers(struct curl_slist *h)
{
    for (struct curl_slist *p = h; p != NULL; p = p->next)
        OPENSSL_cleanse(p->data, strlen(p->data));
    curl_slist_free_all(h);
}

const char *
amt_tls_profile_name(enum amt_tls_profile profile)
{
    switch (profile) {
    case AMT_TLS_AUTO:
        return "auto";
    case AMT_TLS_MODERN:
        return "tls1.2";
    case AMT_TLS_LEGACY:
        return "legacy";
    }
    return NULL;
}

/* The index under which each connection's SSL_CTX points to its session. */
static int ctx_index = -1;
static pthread_once_t ctx_index_once = PTHREAD_ONCE_INIT;

static void
make_ctx_index(void)
{
    ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* --- the client --- */

int
amt_client_new(struct amt_loop *loop, struct curl_loop *cl, struct evlog *events,
               struct amt_client **out)
{
    struct amt_client *c;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (loop == NULL || cl == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    pthread_once(&ctx_index_once, make_ctx_index);
    if (ctx_index < 0)
        return AMT_ERR_CRYPTO;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return AMT_ERR_ALLOC;
    c->loop = loop;
    c->cl = cl;
    c->events = events;
    *out = c;
    return 0;
}

void
amt_client_free(struct amt_client *c)
{
    if (c == NULL)
        return;
    if (c->sessions != 0)
        fprintf(stderr, "amt_client_free: %zu sessions still open\n", c->sessions);
    free(c);
}

/* --- checks on what a session is made from --- */

/* A DNS name or dotted IPv4 address: letters, digits, '-' and '.', nothing a URL
 * could read as more than a host. */
static bool
host_chars_ok(const char *host)
{
    size_t n = strlen(host);

    if (n == 0 || n > HOST_MAX)
        return false;
    for (const char *p = host; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
            return false;
    return true;
}

static bool
is_ipv6(const char *host)
{
    struct in6_addr a6;
    char inner[64];
    size_t n = strlen(host);

    if (strchr(host, ':') == NULL)
        return false;
    /* [::1] as in a URL, and ::1 as typed */
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(inner)) {
        memcpy(inner, host + 1, n - 2);
        inner[n - 2] = '\0';
        return inet_pton(AF_INET6, inner, &a6) == 1;
    }
    return inet_pton(AF_INET6, host, &a6) == 1;
}

/* What goes into a quoted Digest parameter and a header line unchanged. */
static bool
user_ok(const char *user)
{
    if (user == NULL || user[0] == '\0')
        return false;
    for (const unsigned char *p = (const unsigned char *)user; *p != '\0'; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
            return false;
    return true;
}

static void
creds_wipe(struct amt_session *s)
{
    for (size_t i = 0; i < s->n_creds; i++) {
        free_wiped(s->creds[i].user);
        free_wiped(s->creds[i].password);
        s->creds[i].user = s->creds[i].password = NULL;
    }
    s->n_creds = 0;
}

static int
creds_check(const struct amt_credential *creds, size_t n)
{
    if (n > AMT_CLIENT_CREDENTIALS_MAX)
        return AMT_ERR_TOO_LARGE;
    if (n > 0 && creds == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++) {
        if (!user_ok(creds[i].user) || creds[i].password == NULL)
            return AMT_ERR_INVALID_ARGUMENT;
        if (strlen(creds[i].user) > DIGEST_USERNAME_MAX ||
            strlen(creds[i].password) > AMT_CLIENT_PASSWORD_MAX)
            return AMT_ERR_TOO_LARGE;
    }
    return 0;
}

static int
creds_copy(struct amt_session *s, const struct amt_credential *creds, size_t n)
{
    int r;

    if ((r = creds_check(creds, n)) != 0)
        return r;
    creds_wipe(s);
    for (size_t i = 0; i < n; i++) {
        s->creds[i].user = strdup(creds[i].user);
        s->creds[i].password = strdup(creds[i].password);
        s->n_creds = i + 1;
        if (s->creds[i].user == NULL || s->creds[i].password == NULL) {
            creds_wipe(s);
            return AMT_ERR_ALLOC;
        }
    }
    s->cred_ok = -1;
    s->cred_try = 0;
    s->exhausted = false;
    s->have_challenge = false;
    s->nc = 0;
    return 0;
}

static bool
self_issued(X509 *cert)
{
    return X509_check_issued(cert, cert) == X509_V_OK;
}

/*
 * The chain must reach its root, since AMT compares the root's thumbprint with its
 * own list, and the key must be the leaf's, so that a wrong file is said at once
 * rather than as a failed handshake with every device.
 */
static int
check_client_chain(const char *chain_path, const char *key_path)
{
    X509 *leaf = NULL;
    STACK_OF(X509) *chain = NULL;
    EVP_PKEY *key = NULL;
    BIO *bio = NULL;
    X509 *last;
    int r;

    if ((r = certpol_load_chain_pem(chain_path, &leaf, &chain)) != 0)
        goto out;
    last = sk_X509_num(chain) > 0 ? sk_X509_value(chain, sk_X509_num(chain) - 1) : leaf;
    r = AMT_ERR_CERT_REFUSED;
    if (!self_issued(last)) {
        fprintf(stderr, "%s: %s: the chain does not end in its root\n", __func__,
                chain_path);
        goto out;
    }
    r = AMT_ERR_CERT_LOAD;
    if ((bio = BIO_new_file(key_path, "r")) == NULL ||
        (key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL) {
        fprintf(stderr, "%s: %s: no private key could be read\n", __func__, key_path);
        goto out;
    }
    r = AMT_ERR_CERT_REFUSED;
    if (X509_check_private_key(leaf, key) != 1) {
        fprintf(stderr, "%s: %s is not the key of %s\n", __func__, key_path, chain_path);
        goto out;
    }
    r = 0;
out:
    ERR_clear_error();
    EVP_PKEY_free(key);
    BIO_free(bio);
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    return r;
}

/* --- OpenSSL's view of each connection --- */

static void
cert_subject(X509 *cert, char *buf, size_t size)
{
    X509_NAME_oneline(X509_get_subject_name(cert), buf, (int)size);
}

/*
 * Replaces the whole chain check of OpenSSL: pinning accepts the self-signed
 * certificate the first time and only that one afterwards; CA trust runs the usual
 * verification against ca_file and then checks the expected name, since curl's own
 * name check would compare with the address we connect to.
 */
static int
on_verify(X509_STORE_CTX *xs, void *arg)
{
    struct amt_session *s = arg;
    X509 *leaf = X509_STORE_CTX_get0_cert(xs);
    struct amt_thumbprint tp;
    char subject[SUBJECT_MAX], pin_text[AMT_THUMBPRINT_TEXT_MAX];

    if (leaf == NULL)
        return 0;
    cert_subject(leaf, subject, sizeof(subject));
    if (s->trust == AMT_TRUST_PIN) {
        if (thumbprint_of_x509(leaf, s->pinned ? s->pin.type : AMT_HASH_SHA256, &tp) != 0)
            return 0;
        thumbprint_format(&tp, pin_text, sizeof(pin_text));
        if (!s->pinned) {
            s->pin = tp;
            s->pinned = true;
            sp_event(s, "OOB-3.2", EVLOG_RESULT_OK, EVLOG_STR("subject", subject),
                     EVLOG_BOOL("self-signed", self_issued(leaf)),
                     EVLOG_STR("pinned", "first"), EVLOG_STR("thumbprint", pin_text),
                     EVLOG_INT("port", s->port));
        } else if (!thumbprint_equal(&tp, &s->pin)) {
            s->hs.pin_mismatch = true;
            sp_event(s, "OOB-3.2", EVLOG_RESULT_FAIL, EVLOG_REASON("server-cert-changed"),
                     EVLOG_STR("subject", subject), EVLOG_STR("thumbprint", pin_text),
                     EVLOG_INT("port", s->port));
            X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
            return 0;
        } else {
            sp_event(s, "OOB-3.2", EVLOG_RESULT_OK, EVLOG_STR("subject", subject),
                     EVLOG_BOOL("self-signed", self_issued(leaf)),
                     EVLOG_STR("pinned", "same"), EVLOG_INT("port", s->port));
        }
        X509_STORE_CTX_set_error(xs, X509_V_OK);
        return 1;
    }
    if (X509_verify_cert(xs) != 1) {
        sp_event(s, "OOB-3.2", EVLOG_RESULT_FAIL, EVLOG_REASON("server-cert-untrusted"),
                 EVLOG_STR("subject", subject),
                 EVLOG_STR("error",
                           X509_verify_cert_error_string(X509_STORE_CTX_get_error(xs))),
                 EVLOG_INT("port", s->port));
        return 0;
    }
    if (X509_check_host(leaf, s->expected_host, 0, 0, NULL) != 1) {
        sp_event(s, "OOB-3.2", EVLOG_RESULT_FAIL, EVLOG_REASON("server-host-mismatch"),
                 EVLOG_STR("subject", subject), EVLOG_STR("expected", s->expected_host),
                 EVLOG_INT("port", s->port));
        X509_STORE_CTX_set_error(xs, X509_V_ERR_HOSTNAME_MISMATCH);
        return 0;
    }
    sp_event(s, "OOB-3.2", EVLOG_RESULT_OK, EVLOG_STR("subject", subject),
             EVLOG_BOOL("self-signed", false),
             EVLOG_STR("verified-for", s->expected_host), EVLOG_INT("port", s->port));
    return 1;
}

static uint32_t
be24(const unsigned char *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/*
 * OOB-3.1 from the ClientHello as it went out:
 *   type(1) length(3) version(2) random(32) session_id(1+n) suites(2+2k) ...
 */
static void
log_client_hello(struct amt_session *s, SSL *ssl, const unsigned char *p, size_t len)
{
    char names[SUITE_NAMES_MAX] = "";
    size_t off = 4 + 2 + 32, n_suites, used = 0;
    bool sha1 = false;

    if (len < off + 1 || len < off + 1 + p[off] + 2)
        return;
    off += 1 + p[off];
    n_suites = ((size_t)p[off] << 8 | p[off + 1]) / 2;
    off += 2;
    if (len < off + 2 * n_suites)
        return;
    for (size_t i = 0; i < n_suites; i++) {
        const SSL_CIPHER *c = SSL_CIPHER_find(ssl, p + off + 2 * i);
        int w;

        if (c == NULL)
            continue;
        sha1 = sha1 || SSL_CIPHER_get_digest_nid(c) == NID_sha1;
        w = snprintf(names + used, sizeof(names) - used, "%s%s", used > 0 ? ":" : "",
                     SSL_CIPHER_get_name(c));
        if (w < 0 || (size_t)w >= sizeof(names) - used)
            break;
        used += (size_t)w;
    }
    sp_event(s, "OOB-3.1", EVLOG_RESULT_OK, EVLOG_INT("suites", (int64_t)n_suites),
             EVLOG_BOOL("sha1-suite-offered", sha1), EVLOG_STR("offered", names),
             EVLOG_STR("profile", amt_tls_profile_name(s->active)),
             EVLOG_INT("port", s->port));
}

/*
 * OOB-3.4 from our Certificate message as it went out, so that the event counts
 * what the device got rather than what we meant to send:
 *   type(1) length(3) [TLS 1.3: context(1+n)] list(3) { cert(3+n) [ext(2+n)] }...
 */
static void
log_certificate(struct amt_session *s, SSL *ssl, const unsigned char *p, size_t len)
{
    bool tls13 = SSL_version(ssl) >= TLS1_3_VERSION;
    size_t off = 4, end, count = 0;
    char leaf_subject[SUBJECT_MAX] = "";
    bool root = false;

    if (tls13) {
        if (len < off + 1)
            return;
        off += 1 + p[off];
    }
    if (len < off + 3)
        return;
    end = off + 3 + be24(p + off);
    off += 3;
    if (end > len)
        return;
    while (off + 3 <= end) {
        size_t n = be24(p + off);
        const unsigned char *der = p + off + 3;
        X509 *cert;

        if (off + 3 + n > end)
            return;
        if ((cert = d2i_X509(NULL, &der, (long)n)) != NULL) {
            if (count == 0)
                cert_subject(cert, leaf_subject, sizeof(leaf_subject));
            root = self_issued(cert);
            X509_free(cert);
        }
        count++;
        off += 3 + n;
        if (tls13) {
            if (off + 2 > end)
                return;
            off += 2 + ((size_t)p[off] << 8 | p[off + 1]);
        }
    }
    if (count == 0) {
        sp_event(s, "OOB-3.4", EVLOG_RESULT_FAIL, EVLOG_REASON("no-client-certificate"),
                 EVLOG_INT("port", s->port));
        return;
    }
    sp_event(s, "OOB-3.4", EVLOG_RESULT_OK, EVLOG_INT("chain-length", (int64_t)count),
             EVLOG_BOOL("root-included", count > 1 && root),
             EVLOG_STR("leaf", leaf_subject), EVLOG_INT("port", s->port));
}

static void
on_tls_msg(int write_p, int version, int content_type, const void *buf, size_t len,
           SSL *ssl, void *arg)
{
    struct amt_session *s = arg;
    const unsigned char *p = buf;

    if (s == NULL || s->closing)
        return;
    if (!write_p) {
        s->hs.server_spoke = true;
        /* type(1) length(3) version(2) ... */
        if (content_type == SSL3_RT_HANDSHAKE && len >= 6 &&
            p[0] == SSL3_MT_SERVER_HELLO) {
            s->hs.server_hello = true;
            s->hs.server_version = (unsigned)p[4] << 8 | p[5];
        }
        if (content_type == SSL3_RT_ALERT && len >= 2 && s->hs.alert[0] == '\0')
            snprintf(s->hs.alert, sizeof(s->hs.alert), "%s",
                     SSL_alert_desc_string_long(p[1]));
        return;
    }
    if (content_type != SSL3_RT_HANDSHAKE || len < 4)
        return;
    if (p[0] == SSL3_MT_CLIENT_HELLO)
        log_client_hello(s, ssl, p, len);
    else if (p[0] == SSL3_MT_CERTIFICATE)
        log_certificate(s, ssl, p, len);
}

static void
on_tls_info(const SSL *ssl, int where, int ret)
{
    struct amt_session *s = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index);

    if (s == NULL || s->closing || !(where & SSL_CB_HANDSHAKE_DONE) || s->hs.done)
        return;
    s->hs.done = true;
    s->profile_settled = true;
    snprintf(s->hs.protocol, sizeof(s->hs.protocol), "%s", SSL_get_version(ssl));
    snprintf(s->hs.cipher, sizeof(s->hs.cipher), "%s", SSL_get_cipher_name(ssl));
    sp_event(s, "OOB-3.3", EVLOG_RESULT_OK, EVLOG_STR("protocol", s->hs.protocol),
             EVLOG_STR("cipher", s->hs.cipher),
             EVLOG_STR("profile", amt_tls_profile_name(s->active)),
             EVLOG_INT("port", s->port));
}

/*
 * Called by curl for each new connection, after its own settings and before the
 * handshake: the profile's protocol range and security level (for this connection
 * only), our certificate check, and the callbacks that log the handshake.
 */
static CURLcode
on_ssl_ctx(CURL *easy, void *ssl_ctx, void *arg)
{
    struct amt_session *s = arg;
    SSL_CTX *ctx = ssl_ctx;
    int version = s->active == AMT_TLS_LEGACY ? TLS1_VERSION : TLS1_2_VERSION;

    memset(&s->hs, 0, sizeof(s->hs));
    s->hs.started = true;
    if (SSL_CTX_set_ex_data(ctx, ctx_index, s) != 1 ||
        SSL_CTX_set_min_proto_version(ctx, version) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, version) != 1)
        return CURLE_SSL_CONNECT_ERROR;
    /* TLS 1.0 and SHA-1 suites are below every level but 0 in OpenSSL 3 */
    if (s->active == AMT_TLS_LEGACY)
        SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(ctx, on_verify, s);
    SSL_CTX_set_msg_callback(ctx, on_tls_msg);
    SSL_CTX_set_msg_callback_arg(ctx, s);
    SSL_CTX_set_info_callback(ctx, on_tls_info);
    return CURLE_OK;
}

/* --- curl's callbacks for the answer --- */

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    struct amt_session *s = arg;
    size_t len = size * n, cap;
    char *bigger;

    s->got_bytes = true;
    if (len > AMT_CLIENT_REPLY_MAX - s->reply_len) {
        s->reply_too_large = true;
        return 0;
    }
    if (s->reply_len + len + 1 > s->reply_cap) {
        cap = s->reply_cap ? s->reply_cap : 4096;
        while (cap < s->reply_len + len + 1)
            cap *= 2;
        if ((bigger = realloc(s->reply, cap)) == NULL)
            return 0;
        s->reply = bigger;
        s->reply_cap = cap;
    }
    memcpy(s->reply + s->reply_len, p, len);
    s->reply_len += len;
    s->reply[s->reply_len] = '\0';
    return len;
}

/*
 * One header line, CRLF included. Keeps the first Digest challenge:
 *   WWW-Authenticate: Digest realm="Digest:4D1B...", nonce="...",stale="false",qop="auth"
 */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
    static const char name[] = "WWW-Authenticate:";
    struct amt_session *s = arg;
    size_t len = size * n, vlen;
    const char *v;

    s->got_bytes = true;
    s->header_bytes += len;
    if (s->header_bytes > AMT_CLIENT_HEADERS_MAX) {
        s->headers_too_large = true;
        return 0;
    }
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* a new answer: an interim 100 Continue says nothing of the final one */
        s->have_www_auth = s->www_auth_too_long = false;
        return len;
    }
    if (s->have_www_auth || len < sizeof(name) - 1 ||
        strncasecmp(p, name, sizeof(name) - 1) != 0)
        return len;
    v = p + sizeof(name) - 1;
    vlen = len - (sizeof(name) - 1);
    while (vlen > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
        vlen--;
    if (vlen < 6 || strncasecmp(v, "Digest", 6) != 0)
        return len;
    if (vlen > DIGEST_HEADER_MAX) {
        s->www_auth_too_long = true;
        return len;
    }
    memcpy(s->www_auth, v, vlen);
    s->www_auth[vlen] = '\0';
    s->have_www_auth = true;
    return len;
}

/*
 * curl has a connection (TLS included) and is about to send the request: the moment
 * OOB-4.1 or OOB-4.3 happens, which a request that never got a connection does not
 * log. A peer that is not IPv4 is refused here (NET-IPV4).
 */
static int
on_prereq(void *arg, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
    struct amt_session *s = arg;
    const struct amt_call *call = s->current;

    if (primary_ip != NULL && strchr(primary_ip, ':') != NULL) {
        s->ipv6_peer = true;
        return CURL_PREREQFUNC_ABORT;
    }
    s->connected = true;
    if (call == NULL)
        return CURL_PREREQFUNC_OK;
    if (s->stage == STAGE_BARE)
        sp_event(s, "OOB-4.1", EVLOG_RESULT_OK, EVLOG_STR("method", "POST"),
                 EVLOG_STR("path", call->path),
                 EVLOG_INT("bytes", (int64_t)call->body_len), EVLOG_INT("port", s->port));
    else
        sp_event(s, "OOB-4.3", EVLOG_RESULT_OK,
                 EVLOG_STR("user", s->creds[s->cred_try].user),
                 EVLOG_INT("credential", (int64_t)s->cred_try + 1),
                 EVLOG_STR("path", call->path),
                 EVLOG_INT("bytes", (int64_t)call->body_len), EVLOG_INT("port", s->port));
    return CURL_PREREQFUNC_OK;
}

/* --- connections --- */

/*
 * Each session keeps its connections in a share of its own, so that no other
 * session reuses one: AMT 6 and later remember the credential of a TLS connection,
 * and a connection of another session would pass its first request as that user.
 * A new share is the way to a new connection: the old one is closed with it.
 */
static int
new_connection(struct amt_session *s)
{
    CURLSH *share = curl_share_init();

    if (share == NULL)
        return AMT_ERR_ALLOC;
    if (curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
        curl_easy_setopt(s->easy, CURLOPT_SHARE, share) != CURLE_OK) {
        curl_share_cleanup(share);
        return AMT_ERR_CLIENT_CURL;
    }
    if (s->share != NULL)
        curl_share_cleanup(s->share);
    s->share = share;
    memset(&s->hs, 0, sizeof(s->hs));
    return 0;
}

static int
tls_options(struct amt_session *s)
{
    CURL *e = s->easy;
    long version = s->active == AMT_TLS_LEGACY
                       ? (long)(CURL_SSLVERSION_TLSv1_0 | CURL_SSLVERSION_MAX_TLSv1_0)
                       : (long)(CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2);

    if (curl_easy_setopt(e, CURLOPT_SSLVERSION, version) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_SSL_CIPHER_LIST,
                         s->active == AMT_TLS_LEGACY ? LEGACY_CIPHERS : NULL) != CURLE_OK)
        return AMT_ERR_CLIENT_CURL;
    return 0;
}

static int
easy_setup(struct amt_session *s)
{
    CURL *e = s->easy;
    bool ca = s->trust == AMT_TRUST_CA;

    if (curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_V4) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) !=
            CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                         (curl_off_t)AMT_CLIENT_REPLY_MAX) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEDATA, s) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HEADERDATA, s) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_PREREQDATA, s) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf) != CURLE_OK)
        return AMT_ERR_CLIENT_CURL;
    if (!s->tls)
        return 0;
    if (curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, s) != CURLE_OK ||
        /* a full handshake on every connection: the chain judged, the pin checked */
        curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, ca ? 1L : 0L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L) != CURLE_OK ||
        (ca && curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file) != CURLE_OK) ||
        (ca && curl_easy_setopt(e, CURLOPT_CAPATH, NULL) != CURLE_OK))
        return AMT_ERR_CLIENT_CURL;
    if (s->client_chain != NULL &&
        (curl_easy_setopt(e, CURLOPT_SSLCERT, s->client_chain) != CURLE_OK ||
         curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK ||
         curl_easy_setopt(e, CURLOPT_SSLKEY, s->client_key) != CURLE_OK))
        return AMT_ERR_CLIENT_CURL;
    return tls_options(s);
}

/* --- sessions --- */

int
amt_session_new(struct amt_client *c, const struct amt_session_config *cfg,
                struct amt_session **out)
{
    struct amt_session *s = NULL;
    bool failed = false;
    int r = AMT_ERR_INVALID_ARGUMENT;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (c == NULL || cfg == NULL || cfg->host == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return AMT_ERR_ALLOC;
    s->client = c;
    s->in_band = cfg->in_band;
    s->port = cfg->port;
    if (cfg->device != NULL) {
        struct amt_uuid u;

        if ((r = uuid_parse(cfg->device, &u)) != 0)
            goto out;
        uuid_format(&u, s->device);
        s->has_device = true;
    }
    if (is_ipv6(cfg->host)) {
        sp_event(s, "NET-IPV4", EVLOG_RESULT_FAIL, EVLOG_REASON("ipv6-refused"),
                 EVLOG_STR("host", cfg->host));
        fprintf(stderr, "%s: %s: %s\n", __func__, cfg->host,
                amt_strerror(AMT_ERR_NET_IPV6));
        r = AMT_ERR_NET_IPV6;
        goto out;
    }
    if (!host_chars_ok(cfg->host) ||
        (cfg->port != AMT_CLIENT_PORT_HTTP && cfg->port != AMT_CLIENT_PORT_HTTPS) ||
        cfg->connect_port > 65535 || cfg->timeout < 0 || cfg->timeout != cfg->timeout)
        goto out;
    snprintf(s->host, sizeof(s->host), "%s", cfg->host);
    s->connect_port = cfg->connect_port != 0 ? cfg->connect_port : cfg->port;
    s->tls = cfg->port == AMT_CLIENT_PORT_HTTPS;
    s->timeout = cfg->timeout > 0 ? cfg->timeout : AMT_CLIENT_TIMEOUT_DEFAULT;
    s->cred_ok = -1;
    if ((r = creds_copy(s, cfg->credentials, cfg->n_credentials)) != 0)
        goto out;
    r = AMT_ERR_INVALID_ARGUMENT;
    if (s->tls) {
        if (cfg->tls_profile != AMT_TLS_AUTO && cfg->tls_profile != AMT_TLS_MODERN &&
            cfg->tls_profile != AMT_TLS_LEGACY)
            goto out;
        s->profile = cfg->tls_profile;
        s->active = s->profile == AMT_TLS_LEGACY ? AMT_TLS_LEGACY : AMT_TLS_MODERN;
        s->trust = cfg->trust;
        if (s->trust == AMT_TRUST_CA &&
            (cfg->ca_file == NULL || cfg->expected_host == NULL))
            goto out;
        if (s->trust != AMT_TRUST_CA && s->trust != AMT_TRUST_PIN)
            goto out;
        if ((cfg->client_chain == NULL) != (cfg->client_key == NULL))
            goto out;
        if (cfg->pin != NULL) {
            if (thumbprint_hash_len(cfg->pin->type) != cfg->pin->len)
                goto out;
            s->pin = *cfg->pin;
            s->pinned = true;
        }
        if (cfg->client_chain != NULL &&
            (r = check_client_chain(cfg->client_chain, cfg->client_key)) != 0)
            goto out;
        s->client_chain = dup_or_null(cfg->client_chain, &failed);
        s->client_key = dup_or_null(cfg->client_key, &failed);
        s->ca_file = dup_or_null(cfg->ca_file, &failed);
        s->expected_host = dup_or_null(cfg->expected_host, &failed);
    }
    r = AMT_ERR_ALLOC;
    if (failed || (s->challenge = calloc(1, sizeof(*s->challenge))) == NULL ||
        (s->www_auth = malloc(DIGEST_HEADER_MAX + 1)) == NULL)
        goto out;
    r = AMT_ERR_CLIENT_CURL;
    if ((s->easy = curl_easy_init()) == NULL)
        goto out;
    if ((r = easy_setup(s)) != 0 || (r = new_connection(s)) != 0)
        goto out;
    c->sessions++;
    *out = s;
    s = NULL;
    r = 0;
out:
    if (s != NULL) {
        /* not counted yet: undo the count amt_session_free takes back */
        c->sessions++;
        amt_session_free(s);
    }
    return r;
}

static void
call_free(struct amt_call *call)
{
    if (call == NULL)
        return;
    if (call->body != NULL) {
        /* request bodies carry passwords and keys in phase 1 */
        OPENSSL_cleanse(call->body, call->body_len);
        free(call->body);
    }
    free(call->soap_action);
    free(call->ns);
    free(call->method);
    free(call);
}

static void
reply_reset(struct amt_session *s)
{
    if (s->reply != NULL)
        OPENSSL_cleanse(s->reply, s->reply_cap);
    s->reply_len = 0;
    s->header_bytes = 0;
    s->reply_too_large = s->headers_too_large = false;
    s->have_www_auth = s->www_auth_too_long = false;
    s->got_bytes = s->connected = s->ipv6_peer = false;
    s->errbuf[0] = '\0';
}

static void
session_destroy(struct amt_session *s)
{
    struct amt_call *call;

    s->closing = true;
    loop_timer_cancel(s->client->loop, s->timer);
    s->timer = NULL;
    if (s->easy != NULL) {
        curl_loop_remove(s->client->cl, s->easy);
        curl_easy_cleanup(s->easy);
    }
    /* closes the connections, whose TLS callbacks still see s (closing) */
    if (s->share != NULL)
        curl_share_cleanup(s->share);
    free_headers(s->headers);
    call_free(s->current);
    while ((call = s->head) != NULL) {
        s->head = call->next;
        call_free(call);
    }
    creds_wipe(s);
    if (s->challenge != NULL)
        OPENSSL_cleanse(s->challenge, sizeof(*s->challenge));
    free(s->challenge);
    reply_reset(s);
    free(s->reply);
    free(s->www_auth);
    free(s->client_chain);
    free(s->client_key);
    free(s->ca_file);
    free(s->expected_host);
    s->client->sessions--;
    free(s);
}

void
amt_session_free(struct amt_session *s)
{
    if (s == NULL)
        return;
    if (s->depth > 0) {
        s->free_pending = true;
        return;
    }
    session_destroy(s);
}

/* --- ending a call --- */

/* Hands the result over and goes on with the queue (or goes, if freed meanwhile). */
static void
complete(struct amt_session *s, struct amt_result *res)
{
    struct amt_call *call = s->current;

    loop_timer_cancel(s->client->loop, s->timer);
    s->timer = NULL;
    curl_loop_remove(s->client->cl, s->easy);
    s->current = NULL;
    free_headers(s->headers);
    s->headers = NULL;
    reply_reset(s);
    res->credential = s->cred_ok;
    if (s->tls && s->hs.done) {
        snprintf(res->tls_protocol, sizeof(res->tls_protocol), "%s", s->hs.protocol);
        snprintf(res->tls_cipher, sizeof(res->tls_cipher), "%s", s->hs.cipher);
    }
    /* a connection a failure made useless is closed now, not at the next call */
    if (s->reconnect && new_connection(s) == 0)
        s->reconnect = false;
    s->depth++;
    call->cb(s, res, call->arg);
    s->depth--;
    xmlFreeDoc(res->doc);
    free(res);
    call_free(call);
    if (s->free_pending && s->depth == 0) {
        session_destroy(s);
        return;
    }
    start_next(s);
}

static void fail(struct amt_session *s, int err, const char *reason, const char *fmt, ...)
    AMT_PRINTF(4, 5);

static void
fail(struct amt_session *s, int err, const char *reason, const char *fmt, ...)
{
    struct amt_result *res = calloc(1, sizeof(*res));
    va_list ap;

    if (res == NULL) {
        /* nothing to say it with: the call is dropped, the queue goes on */
        fprintf(stderr, "%s: out of memory for a result\n", __func__);
        loop_timer_cancel(s->client->loop, s->timer);
        s->timer = NULL;
        curl_loop_remove(s->client->cl, s->easy);
        call_free(s->current);
        s->current = NULL;
        start_next(s);
        return;
    }
    res->err = err;
    snprintf(res->reason, sizeof(res->reason), "%s", reason);
    va_start(ap, fmt);
    vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
    va_end(ap);
    if (s->answered)
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &res->http_status);
    complete(s, res);
}

/* A 200 that is not the reply asked for is malformed; a 400 or 500 without a fault
 * is just that status. */
static int
reply_unexpected(struct amt_result *res, long status)
{
    if (status == 200) {
        snprintf(res->reason, sizeof(res->reason), "malformed-reply");
        return AMT_ERR_CLIENT_REPLY;
    }
    snprintf(res->reason, sizeof(res->reason), "http-%ld", status);
    return AMT_ERR_CLIENT_HTTP;
}

/*
 * A reply with a body: the SOAP <method>Response or WS-Man reply, or the fault it
 * carries. SOAP faults come with 500, WS-Man's with 400 or 500, both with XML.
 */
static void
deliver(struct amt_session *s, long status)
{
    struct amt_call *call = s->current;
    struct xmlsafe_limits lim = {AMT_CLIENT_REPLY_MAX, 0};
    struct amt_result *res = calloc(1, sizeof(*res));
    char detail[XMLSAFE_DETAIL_MAX] = "";
    int r;

    if (res == NULL) {
        fail(s, AMT_ERR_ALLOC, "client-error", "out of memory");
        return;
    }
    res->http_status = status;
    if (status != 200 && status != 400 && status != 500) {
        res->err = AMT_ERR_CLIENT_HTTP;
        snprintf(res->reason, sizeof(res->reason), "http-%ld", status);
        snprintf(res->detail, sizeof(res->detail), "%s answered HTTP %ld", call->path,
                 status);
        complete(s, res);
        return;
    }
    if (s->reply_len == 0 || xmlsafe_parse_detail(s->reply, s->reply_len, &lim, &res->doc,
                                                  detail, sizeof(detail)) != 0) {
        res->err = reply_unexpected(res, status);
        snprintf(res->detail, sizeof(res->detail), "reply is not XML: %.200s",
                 s->reply_len == 0 ? "empty" : detail);
        complete(s, res);
        return;
    }
    if (!call->wsman) {
        r = soap_reply_parse(res->doc, call->ns, call->method, &res->soap);
        if (r == AMT_ERR_SOAP_FAULT) {
            snprintf(res->reason, sizeof(res->reason), "soap-fault");
            snprintf(res->detail, sizeof(res->detail), "%.60s: %.180s",
                     res->soap.faultcode, res->soap.faultstring);
        } else if (r != 0 || status != 200) {
            r = reply_unexpected(res, status);
            snprintf(res->detail, sizeof(res->detail), "not a %sResponse in %s",
                     call->method, call->ns);
        }
    } else {
        r = wsman_reply_parse(res->doc, &res->wsman, detail, sizeof(detail));
        if (r == AMT_ERR_SOAP_FAULT) {
            snprintf(res->reason, sizeof(res->reason), "wsman-fault");
            snprintf(res->detail, sizeof(res->detail), "%.60s: %.180s",
                     res->wsman.fault_subcode, res->wsman.fault_reason);
        } else if (r != 0 || status != 200) {
            r = reply_unexpected(res, status);
            snprintf(res->detail, sizeof(res->detail), "%s", detail);
        } else if (strcmp(res->wsman.relates_to, call->message_id) != 0) {
            r = AMT_ERR_CLIENT_REPLY;
            snprintf(res->reason, sizeof(res->reason), "malformed-reply");
            snprintf(res->detail, sizeof(res->detail),
                     "reply relates to %.100s, not to %.100s", res->wsman.relates_to,
                     call->message_id);
        }
    }
    res->err = r;
    complete(s, res);
}

/* --- digest --- */

static void
adopt_challenge(struct amt_session *s, const struct digest_challenge *c)
{
    /* the device counts nonce uses: a nonce it sends again keeps its count */
    if (!s->have_challenge || strcmp(c->nonce, s->challenge->nonce) != 0)
        s->nc = 0;
    *s->challenge = *c;
    s->have_challenge = true;
}

/*
 * The Authorization line for the credential being tried, as RFC 2617 with qop=auth:
 *   Authorization: Digest username="admin", realm="...", nonce="...", uri="/wsman",
 *                  response="<32 hex>", qop=auth, nc=00000001, cnonce="...", opaque=".."
 */
static int
authorization_line(struct amt_session *s, const char *path, char **out)
{
    const struct credential *cred = &s->creds[s->cred_try];
    const struct digest_challenge *c = s->challenge;
    struct digest_authorization *a = NULL;
    struct digest_input in;
    char response[DIGEST_MD5_HEX_LEN + 1], cnonce[DIGEST_MD5_HEX_LEN + 1], nc[9];
    char *line = NULL;
    size_t size = DIGEST_HEADER_MAX + 32;
    int r = AMT_ERR_ALLOC;

    *out = NULL;
    if ((a = calloc(1, sizeof(*a))) == NULL || (line = malloc(size)) == NULL)
        goto out;
    if ((r = digest_make_cnonce(cnonce, sizeof(cnonce))) != 0)
        goto out;
    s->nc++;
    snprintf(nc, sizeof(nc), "%08x", s->nc);
    in = (struct digest_input){cred->user, c->realm, cred->password, "POST", path,
                               c->nonce,   nc,       cnonce};
    if ((r = digest_compute_response(&in, response, sizeof(response))) != 0)
        goto out;
    snprintf(a->username, sizeof(a->username), "%s", cred->user);
    snprintf(a->realm, sizeof(a->realm), "%s", c->realm);
    snprintf(a->nonce, sizeof(a->nonce), "%s", c->nonce);
    snprintf(a->uri, sizeof(a->uri), "%s", path);
    snprintf(a->response, sizeof(a->response), "%s", response);
    snprintf(a->cnonce, sizeof(a->cnonce), "%s", cnonce);
    snprintf(a->nc, sizeof(a->nc), "%s", nc);
    snprintf(a->qop, sizeof(a->qop), "auth");
    snprintf(a->opaque, sizeof(a->opaque), "%s", c->opaque);
    a->has_opaque = c->has_opaque;
    snprintf(a->algorithm, sizeof(a->algorithm), "%s", c->algorithm);
    memcpy(line, "Authorization: ", 15);
    if ((r = digest_format_authorization(a, line + 15, size - 15)) != 0)
        goto out;
    *out = line;
    line = NULL;
out:
    OPENSSL_cleanse(response, sizeof(response));
    if (a != NULL)
        OPENSSL_cleanse(a, sizeof(*a));
    free(a);
    free(line);
    return r;
}

static void
exhausted(struct amt_session *s)
{
    s->exhausted = true;
    sp_event(s, "OOB-5", EVLOG_RESULT_FAIL, EVLOG_REASON("digest-exhausted"),
             EVLOG_INT("tried", (int64_t)s->n_creds), EVLOG_INT("port", s->port));
    /* nothing else goes to the device, and the refused connection is of no use */
    s->reconnect = true;
    fail(s, AMT_ERR_CLIENT_DIGEST_EXHAUSTED, "digest-exhausted",
         "the device accepted none of the %zu credentials", s->n_creds);
}

/* OOB-5: the next credential in order, on a new connection. */
static void
next_credential(struct amt_session *s)
{
    if (s->cred_try + 1 >= s->n_creds) {
        exhausted(s);
        return;
    }
    s->cred_try++;
    s->stale_left = AMT_CLIENT_STALE_RETRIES;
    sp_event(s, "OOB-5", EVLOG_RESULT_INFO,
             EVLOG_INT("credential", (int64_t)s->cred_try + 1),
             EVLOG_INT("of", (int64_t)s->n_creds),
             EVLOG_STR("user", s->creds[s->cred_try].user), EVLOG_INT("port", s->port));
    s->reconnect = true;
    send_current(s);
}

static void
on_401(struct amt_session *s)
{
    struct digest_challenge *c = NULL;
    const char *verdict_id = s->stage == STAGE_BARE ? "OOB-4.2" : "OOB-4.4";
    int r = AMT_ERR_DIGEST_MISSING;

    if ((c = calloc(1, sizeof(*c))) == NULL) {
        fail(s, AMT_ERR_ALLOC, "client-error", "out of memory");
        return;
    }
    if (s->www_auth_too_long)
        r = AMT_ERR_TOO_LARGE;
    else if (s->have_www_auth)
        r = digest_parse_challenge(s->www_auth, c);
    if (r != 0) {
        sp_event(s, verdict_id, EVLOG_RESULT_FAIL, EVLOG_REASON("malformed-challenge"),
                 EVLOG_INT("status", 401), EVLOG_STR("error", amt_strerror(r)));
        fail(s, AMT_ERR_CLIENT_HTTP, "http-401", "401 without a Digest challenge: %s",
             amt_strerror(r));
        goto out;
    }
    if ((c->has_qop && !(c->qop & DIGEST_QOP_AUTH)) ||
        (c->algorithm[0] != '\0' && strcasecmp(c->algorithm, "MD5") != 0)) {
        sp_event(s, verdict_id, EVLOG_RESULT_FAIL, EVLOG_REASON("digest-unsupported"),
                 EVLOG_STR("realm", c->realm), EVLOG_STR("algorithm", c->algorithm));
        fail(s, AMT_ERR_DIGEST_UNSUPPORTED, "digest-unsupported",
             "challenge offers neither qop=auth nor MD5");
        goto out;
    }
    if (s->stage == STAGE_BARE || (c->stale && s->stale_left > 0)) {
        if (s->stage == STAGE_CREDENTIAL)
            s->stale_left--;
        sp_event(s, "OOB-4.2", EVLOG_RESULT_OK, EVLOG_INT("status", 401),
                 EVLOG_STR("realm", c->realm), EVLOG_BOOL("stale", c->stale),
                 EVLOG_INT("port", s->port));
        adopt_challenge(s, c);
        if (s->n_creds == 0) {
            exhausted(s);
            goto out;
        }
        /* the same payload again, with credentials, on the same connection */
        s->stage = STAGE_CREDENTIAL;
        send_current(s);
        goto out;
    }
    sp_event(s, "OOB-4.4", EVLOG_RESULT_FAIL, EVLOG_REASON("credentials-refused"),
             EVLOG_STR("user", s->creds[s->cred_try].user),
             EVLOG_INT("credential", (int64_t)s->cred_try + 1),
             EVLOG_INT("port", s->port));
    if (s->cred_ok == (int)s->cred_try)
        s->cred_ok = -1;
    adopt_challenge(s, c);
    next_credential(s);
out:
    free(c);
}

/* --- failures of the transfer itself --- */

/*
 * PORT-BLOCKED: nothing came back on a connection of this call. On TLS that is no
 * record at all, so a device that accepted the connection and then reset it or
 * held it silent counts too (a firewall that rejects or drops); on plain HTTP a
 * connection that never came up, or one reset before any answer.
 */
static bool
unreachable(const struct amt_session *s, CURLcode code)
{
    if (code == CURLE_COULDNT_CONNECT)
        return true;
    if (code != CURLE_SSL_CONNECT_ERROR && code != CURLE_SEND_ERROR &&
        code != CURLE_RECV_ERROR && code != CURLE_GOT_NOTHING &&
        code != CURLE_OPERATION_TIMEDOUT)
        return false;
    if (s->tls)
        return s->hs.started && !s->hs.server_spoke;
    return !s->got_bytes;
}

static void
fail_unreachable(struct amt_session *s, const char *why)
{
    char reason[AMT_CLIENT_REASON_MAX];

    snprintf(reason, sizeof(reason), "port-%u-unreachable", s->port);
    sp_event(s, port_event_id(s), EVLOG_RESULT_FAIL, EVLOG_REASON(reason),
             EVLOG_STR("host", s->host), EVLOG_STR("error", why));
    s->reconnect = true;
    fail(s, AMT_ERR_CLIENT_UNREACHABLE, reason, "port %u on %s: %s", s->port, s->host,
         why);
}

/*
 * AUTO: firmware before AMT 12 answers our TLS 1.2 ClientHello with a ServerHello
 * for TLS 1.0 (a TLS 1.2 ClientHello cannot say that 1.0 is too old, so the device
 * picks its best), which OpenSSL then refuses; a device that refuses the version
 * itself sends an alert instead of a ServerHello. Either way one new connection
 * with the legacy profile follows.
 */
static bool
fall_back(struct amt_session *s)
{
    bool older = s->hs.server_hello ? s->hs.server_version < 0x0303
                                    : s->hs.server_spoke && s->hs.alert[0] != '\0';

    if (s->profile != AMT_TLS_AUTO || s->profile_settled || s->active != AMT_TLS_MODERN ||
        s->hs.pin_mismatch || !older)
        return false;
    sp_event(s, "OOB-3", EVLOG_RESULT_INFO, EVLOG_STR("profile", "tls1.2"),
             EVLOG_STR("next", "legacy"),
             EVLOG_INT("server-version", s->hs.server_version),
             EVLOG_STR("alert", s->hs.alert[0] != '\0' ? s->hs.alert : "none"),
             EVLOG_INT("port", s->port));
    s->active = AMT_TLS_LEGACY;
    if (tls_options(s) != 0)
        return false;
    s->reconnect = true;
    send_current(s);
    return true;
}

static void
transfer_failed(struct amt_session *s, CURLcode code)
{
    const char *why = s->errbuf[0] != '\0' ? s->errbuf : curl_easy_strerror(code);

    if (s->hs.pin_mismatch) {
        s->reconnect = true;
        fail(s, AMT_ERR_CLIENT_CERT_CHANGED, "server-cert-changed",
             "%s presented another certificate than the one pinned", s->host);
        return;
    }
    if (code == CURLE_COULDNT_RESOLVE_HOST) {
        sp_event(s, "NET-IPV4", EVLOG_RESULT_FAIL, EVLOG_REASON("no-ipv4-address"),
                 EVLOG_STR("host", s->host));
        fail(s, AMT_ERR_CLIENT_NO_IPV4, "no-ipv4-address", "%s: %s", s->host, why);
        return;
    }
    if (s->ipv6_peer) {
        sp_event(s, "NET-IPV4", EVLOG_RESULT_FAIL, EVLOG_REASON("ipv6-refused"),
                 EVLOG_STR("host", s->host));
        fail(s, AMT_ERR_NET_IPV6, "no-ipv4-address", "%s: %s", s->host,
             amt_strerror(AMT_ERR_NET_IPV6));
        return;
    }
    if (unreachable(s, code)) {
        fail_unreachable(s, why);
        return;
    }
    if (s->tls && s->hs.started && !s->hs.done) {
        if (fall_back(s))
            return;
        sp_event(s, "OOB-3", EVLOG_RESULT_FAIL, EVLOG_REASON("tls-handshake-failed"),
                 EVLOG_STR("alert", s->hs.alert[0] != '\0' ? s->hs.alert : "none"),
                 EVLOG_STR("error", why),
                 EVLOG_STR("profile", amt_tls_profile_name(s->active)),
                 EVLOG_INT("port", s->port));
        s->reconnect = true;
        if (s->hs.alert[0] != '\0')
            fail(s, AMT_ERR_CLIENT_TLS, "tls-handshake-failed", "alert %s: %s",
                 s->hs.alert, why);
        else
            fail(s, AMT_ERR_CLIENT_TLS, "tls-handshake-failed", "%s", why);
        return;
    }
    s->reconnect = true;
    if (code == CURLE_FILESIZE_EXCEEDED || s->reply_too_large || s->headers_too_large) {
        fail(s, AMT_ERR_CLIENT_REPLY, "reply-too-large", "%s over %u bytes",
             s->headers_too_large ? "headers" : "reply",
             s->headers_too_large ? AMT_CLIENT_HEADERS_MAX : AMT_CLIENT_REPLY_MAX);
        return;
    }
    if (code == CURLE_SSL_CERTPROBLEM) {
        fail(s, AMT_ERR_CERT_LOAD, "client-certificate-unusable", "%s", why);
        return;
    }
    fail(s, AMT_ERR_CLIENT_TRANSFER, "connection-lost", "%s", why);
}

static void
on_transfer_done(CURL *easy, CURLcode code, void *arg)
{
    struct amt_session *s = arg;
    long status = 0;

    if (code != CURLE_OK) {
        transfer_failed(s, code);
        return;
    }
    s->answered = true;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (status == 401) {
        on_401(s);
        return;
    }
    if (s->stage == STAGE_BARE) {
        /* AMT challenges every request of the session; this device did not */
        sp_event(s, "OOB-4.2", EVLOG_RESULT_FAIL, EVLOG_REASON("no-challenge"),
                 EVLOG_INT("status", status), EVLOG_INT("port", s->port));
    } else if (s->cred_ok != (int)s->cred_try) {
        s->cred_ok = (int)s->cred_try;
        sp_event(s, "OOB-4.4", EVLOG_RESULT_OK,
                 EVLOG_STR("user", s->creds[s->cred_try].user),
                 EVLOG_INT("credential", (int64_t)s->cred_try + 1),
                 EVLOG_INT("status", status), EVLOG_INT("port", s->port));
    }
    deliver(s, status);
}

static void
on_timeout(struct amt_loop *loop, void *arg)
{
    struct amt_session *s = arg;

    s->timer = NULL;
    /* a transfer cut in the middle takes its connection with it */
    curl_loop_remove(s->client->cl, s->easy);
    s->reconnect = true;
    if (s->tls ? !s->hs.server_spoke : !s->connected) {
        fail_unreachable(s, "no answer before the operation timeout");
        return;
    }
    sp_event(s, "X-sp.amt.timeout", EVLOG_RESULT_FAIL, EVLOG_REASON("timeout"),
             EVLOG_STR("path", s->current->path), EVLOG_DOUBLE("seconds", s->timeout));
    fail(s, AMT_ERR_TIMEOUT, "timeout", "no answer to %s within %.0f s", s->current->path,
         s->timeout);
}

/* --- sending --- */

/* Sends the current call at its stage: without credentials, or with cred_try's. */
static void
send_current(struct amt_session *s)
{
    struct amt_call *call = s->current;
    struct curl_slist *h = NULL, *more;
    char url[HOST_MAX + PATH_MAX_LEN + 32], *auth = NULL;
    int r = AMT_ERR_ALLOC;

    free_headers(s->headers);
    s->headers = NULL;
    reply_reset(s);
    if (s->reconnect) {
        s->reconnect = false;
        if ((r = new_connection(s)) != 0)
            goto out;
    }
    if (s->stage == STAGE_CREDENTIAL &&
        (r = authorization_line(s, call->path, &auth)) != 0)
        goto out;
    r = AMT_ERR_ALLOC;
    if ((h = curl_slist_append(
             NULL, call->wsman ? "Content-Type: application/soap+xml;charset=UTF-8"
                               : "Content-Type: text/xml; charset=utf-8")) == NULL ||
        (more = curl_slist_append(h, "Expect:")) == NULL)
        goto out;
    h = more;
    if (call->soap_action != NULL) {
        if ((more = curl_slist_append(h, call->soap_action)) == NULL)
            goto out;
        h = more;
    }
    if (auth != NULL) {
        if ((more = curl_slist_append(h, auth)) == NULL)
            goto out;
        h = more;
    }
    snprintf(url, sizeof(url), "%s://%s:%u%s", s->tls ? "https" : "http", s->host,
             s->connect_port, call->path);
    r = AMT_ERR_CLIENT_CURL;
    if (curl_easy_setopt(s->easy, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, h) != CURLE_OK ||
        curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)call->body_len) != CURLE_OK ||
        curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, call->body) != CURLE_OK)
        goto out;
    s->headers = h;
    h = NULL;
    r = curl_loop_add(s->client->cl, s->easy, on_transfer_done, s);
out:
    free_headers(h);
    free_wiped(auth);
    if (r != 0)
        fail(s, r, "client-error", "the request could not be sent: %s", amt_strerror(r));
}

static void
start_next(struct amt_session *s)
{
    struct amt_call *call;

    if (s->current != NULL || (call = s->head) == NULL || s->free_pending)
        return;
    s->head = call->next;
    if (s->head == NULL)
        s->tail = NULL;
    call->next = NULL;
    s->current = call;
    s->answered = false;
    if (s->exhausted) {
        fail(s, AMT_ERR_CLIENT_DIGEST_EXHAUSTED, "digest-exhausted",
             "no credential was accepted earlier in this session: nothing sent");
        return;
    }
    if (loop_timer_at(s->client->loop, loop_now(s->client->loop) + s->timeout, on_timeout,
                      s, &s->timer) != 0) {
        fail(s, AMT_ERR_ALLOC, "client-error", "no timer for the call");
        return;
    }
    s->stale_left = AMT_CLIENT_STALE_RETRIES;
    if (s->cred_ok >= 0 && s->have_challenge) {
        s->stage = STAGE_CREDENTIAL;
        s->cred_try = (size_t)s->cred_ok;
    } else {
        s->stage = STAGE_BARE;
        s->cred_try = 0;
    }
    send_current(s);
}

static int
enqueue(struct amt_session *s, struct amt_call *call)
{
    if (s->tail != NULL)
        s->tail->next = call;
    else
        s->head = call;
    s->tail = call;
    /* inside a callback the queue moves on once it returns */
    if (s->depth == 0)
        start_next(s);
    return 0;
}

/* --- public calls --- */

int
amt_session_soap(struct amt_session *s, const char *service, const char *ns,
                 const char *method, const struct soap_msg *msg, amt_result_cb cb,
                 void *arg)
{
    struct amt_call *call = NULL;
    char ns_buf[256], line[600];
    const char *action;
    int r = AMT_ERR_INVALID_ARGUMENT;

    if (s == NULL || service == NULL || method == NULL || msg == NULL || cb == NULL ||
        s->free_pending || (action = soap_msg_action(msg)) == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (ns == NULL) {
        if ((r = soap_service_ns(service, NULL, ns_buf, sizeof(ns_buf))) != 0)
            return r;
        ns = ns_buf;
    }
    if ((call = calloc(1, sizeof(*call))) == NULL)
        return AMT_ERR_ALLOC;
    call->cb = cb;
    call->arg = arg;
    if ((r = soap_service_path(service, call->path, sizeof(call->path))) != 0)
        goto out;
    r = AMT_ERR_TOO_LARGE;
    if ((size_t)snprintf(line, sizeof(line), "SOAPAction: %s", action) >= sizeof(line))
        goto out;
    r = AMT_ERR_ALLOC;
    if ((call->soap_action = strdup(line)) == NULL || (call->ns = strdup(ns)) == NULL ||
        (call->method = strdup(method)) == NULL)
        goto out;
    if ((r = soap_msg_text(msg, &call->body, &call->body_len)) != 0)
        goto out;
    r = enqueue(s, call);
    call = NULL;
out:
    call_free(call);
    return r;
}

int
amt_session_wsman(struct amt_session *s, const struct wsman_msg *msg, amt_result_cb cb,
                  void *arg)
{
    struct amt_call *call = NULL;
    const char *id;
    int r;

    if (s == NULL || msg == NULL || cb == NULL || s->free_pending ||
        (id = wsman_msg_message_id(msg)) == NULL || strlen(id) >= WSMAN_ID_MAX)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((call = calloc(1, sizeof(*call))) == NULL)
        return AMT_ERR_ALLOC;
    call->wsman = true;
    call->cb = cb;
    call->arg = arg;
    snprintf(call->path, sizeof(call->path), "/wsman");
    snprintf(call->message_id, sizeof(call->message_id), "%s", id);
    if ((r = wsman_msg_text(msg, &call->body, &call->body_len)) != 0)
        goto out;
    r = enqueue(s, call);
    call = NULL;
out:
    call_free(call);
    return r;
}

int
amt_session_wsman_to(const struct amt_session *s, char *buf, size_t size)
{
    int n;

    if (s == NULL || buf == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    n = snprintf(buf, size, "%s://%s:%u/wsman", s->tls ? "https" : "http", s->host,
                 s->port);
    return n >= 0 && (size_t)n < size ? 0 : AMT_ERR_TOO_LARGE;
}

int
amt_session_set_credentials(struct amt_session *s, const struct amt_credential *creds,
                            size_t n)
{
    int r;

    if (s == NULL || s->current != NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = creds_copy(s, creds, n)) != 0)
        return r;
    s->reconnect = true;
    return 0;
}

void
amt_session_disconnect(struct amt_session *s)
{
    if (s == NULL)
        return;
    if (s->current == NULL && new_connection(s) == 0)
        return;
    s->reconnect = true;
}

int
amt_session_credential(const struct amt_session *s)
{
    return s != NULL ? s->cred_ok : -1;
}

bool
amt_session_pin(const struct amt_session *s, struct amt_thumbprint *out)
{
    if (s == NULL || !s->pinned)
        return false;
    if (out != NULL)
        *out = s->pin;
    return true;
}

enum amt_tls_profile
amt_session_tls_profile(const struct amt_session *s)
{
    return s != NULL && s->profile_settled ? s->active : AMT_TLS_AUTO;
}

size_t
amt_session_pending(const struct amt_session *s)
{
    size_t n = 0;

    if (s == NULL)
        return 0;
    for (const struct amt_call *c = s->head; c != NULL; c = c->next)
        n++;
    return n + (s->current != NULL ? 1 : 0);
}
