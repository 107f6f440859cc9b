/* accept4 */
#define _GNU_SOURCE
#include "hello_listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "certpol.h"
#include "config.h"
#include "err.h"
#include "evlog.h"

/* Connections taken per wake-up, so that a burst cannot hold the loop. */
#define ACCEPT_BATCH 16
#define LISTEN_BACKLOG 128

struct conn {
    struct prov_hello *l;
    int fd;
    struct sockaddr_in peer;
    char peer_text[INET_ADDRSTRLEN];
    struct loop_watch *watch;
    struct loop_timer *idle;
    /* one byte over the cap, so that an oversize hello shows as soon as it is read */
    unsigned char buf[HELLO_MAX_BYTES + 1];
    size_t len;
    struct conn *prev, *next;
};

struct prov_hello {
    struct amt_loop *loop;
    struct prov_hello_options opt;
    struct prov_hello_hooks hooks;
    int fd;
    unsigned port;
    struct loop_watch *watch;
    struct conn *conns;
    struct prov_hello_stats stats;
};

/* An event that cannot be written is worth one line for the operator, not a stop. */
static void
event_done(const char *id, int r)
{
    if (r != 0)
        fprintf(stderr, "amtprov: %s: event %s not logged: %s\n", __func__, id,
                amt_strerror(r));
}

#define SP_EVENT(l, device, id, result, ...)                                             \
    event_done((id), evlog_emit((l)->opt.events, loop_now((l)->loop), EVLOG_ACTOR_SP,    \
                                (device), (id), (result), __VA_ARGS__))

/* The decoder's verdicts as event reasons. */
static const char *
decode_reason(int code)
{
    switch (code) {
    case AMT_ERR_HELLO_SHORT:
        return "hello-short";
    case AMT_ERR_HELLO_PSK:
        return "hello-psk-unsupported";
    case AMT_ERR_HELLO_VERSION:
        return "hello-version";
    case AMT_ERR_HELLO_FLAG:
        return "hello-flag";
    case AMT_ERR_HELLO_TOO_MANY_HASHES:
        return "hello-too-many-hashes";
    case AMT_ERR_HELLO_HASH_COUNT:
        return "hello-hash-count";
    case AMT_ERR_HELLO_TRUNCATED:
        return "hello-truncated";
    case AMT_ERR_HELLO_HASH_TYPE:
        return "hello-hash-type";
    case AMT_ERR_HELLO_HASH_LENGTH:
        return "hello-hash-length";
    case AMT_ERR_HELLO_TRAILING:
        return "hello-trailing";
    case AMT_ERR_HELLO_TOO_LONG:
        return "hello-too-long";
    default:
        return "hello-malformed";
    }
}

void
prov_hello_options_default(struct prov_hello_options *o)
{
    memset(o, 0, sizeof(*o));
    o->address = "127.0.0.1";
    o->port = 9971;
    o->idle_timeout = 10;
    o->max_connections = 64;
}

int
prov_hello_roots_from_chain(const char *chain_path, struct prov_hello_options *o)
{
    static const enum amt_hash_type types[] = {AMT_HASH_SHA1, AMT_HASH_SHA256,
                                               AMT_HASH_SHA384};
    X509 *leaf = NULL, *root = NULL;
    STACK_OF(X509) *chain = NULL;
    int r = AMT_ERR_INTERNAL;

    if (chain_path == NULL || o == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = certpol_load_chain_pem(chain_path, &leaf, &chain)) != 0)
        goto out;
    /* the file puts the root last; a self-signed leaf is its own root */
    if (X509_self_signed(leaf, 0) == 1)
        root = leaf;
    for (int i = 0; i < sk_X509_num(chain); i++)
        if (X509_self_signed(sk_X509_value(chain, i), 0) == 1)
            root = sk_X509_value(chain, i);
    if (root == NULL) {
        r = AMT_ERR_NOT_FOUND;
        goto out;
    }
    o->n_roots = 0;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if ((r = thumbprint_of_x509(root, types[i], &o->roots[o->n_roots])) != 0)
            goto out;
        o->n_roots++;
    }
    r = 0;
out:
    ERR_clear_error();
    X509_free(leaf);
    sk_X509_pop_free(chain, X509_free);
    return r;
}

int
prov_hello_options_from_config(const struct prov_config *cfg,
                               struct prov_hello_options *o)
{
    if (cfg == NULL || o == NULL || cfg->paths.chain == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    o->address = cfg->sp.hello_listen;
    o->port = (unsigned)cfg->sp.hello_port;
    o->idle_timeout = cfg->sp.hello_idle_timeout;
    o->max_connections = (size_t)cfg->sp.hello_max_connections;
    return prov_hello_roots_from_chain(cfg->paths.chain, o);
}

/* --- connections --- */

static void
conn_close(struct conn *c)
{
    struct prov_hello *l = c->l;

    loop_unwatch(l->loop, c->watch);
    loop_timer_cancel(l->loop, c->idle);
    if (c->fd >= 0)
        close(c->fd);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    l->stats.open--;
    free(c);
}

/* A hello that never reached a decision: no device, since nothing in it is trusted. */
static void
conn_drop(struct conn *c, const char *reason, const char *error)
{
    struct prov_hello *l = c->l;

    l->stats.malformed++;
    SP_EVENT(l, NULL, "OOB-1", EVLOG_RESULT_DISCARD, EVLOG_REASON(reason),
             EVLOG_STR("peer", c->peer_text), EVLOG_INT("bytes", (int64_t)c->len),
             EVLOG_STR("error", error));
    conn_close(c);
}

/* Each check asked of the site; a failure to answer discards the hello. */
static int
ask(struct prov_hello *l, int (*fn)(void *, const struct amt_uuid *, bool *),
    const struct amt_uuid *uuid, const char *uuid_text, const char *id, bool *yes)
{
    int r;

    *yes = false;
    if (fn == NULL)
        return 0;
    if ((r = fn(l->hooks.arg, uuid, yes)) != 0) {
        l->stats.discarded++;
        SP_EVENT(l, uuid_text, id, EVLOG_RESULT_DISCARD,
                 EVLOG_REASON("site-lookup-failed"), EVLOG_STR("error", amt_strerror(r)));
    }
    return r;
}

/* "sha1,sha256": what the device offered, for a no-root-match diagnosis. */
static void
hash_types(const struct hello *h, char *buf, size_t size)
{
    bool seen[AMT_HASH_SHA384 + 1] = {false};
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < h->n_hashes; i++)
        if (h->hashes[i].type >= AMT_HASH_SHA1 && h->hashes[i].type <= AMT_HASH_SHA384)
            seen[h->hashes[i].type] = true;
    for (int t = AMT_HASH_SHA1; t <= AMT_HASH_SHA384; t++)
        if (seen[t] && n < size)
            n += (size_t)snprintf(buf + n, size - n, "%s%s", n > 0 ? "," : "",
                                  thumbprint_type_name(t));
}

/* The decisions of the header, in its order; the connection is already closed. */
static void
decide(struct prov_hello *l, const struct hello *h, const struct sockaddr_in *peer,
       const char *peer_text)
{
    char uuid[UUID_TEXT_SIZE], root[AMT_THUMBPRINT_TEXT_MAX], types[32];
    bool yes;
    int match;

    uuid_format(&h->uuid, uuid);
    l->stats.hellos++;
    SP_EVENT(l, uuid, "OOB-1", EVLOG_RESULT_OK, EVLOG_INT("retry-count", h->retry_count),
             EVLOG_INT("hashes", (int64_t)h->n_hashes), EVLOG_STR("peer", peer_text),
             EVLOG_BOOL("admin-credentials-set", h->admin_credentials_set));

    if (ask(l, l->hooks.imported, &h->uuid, uuid, "OOB-2", &yes) != 0)
        return;
    if (!yes) {
        l->stats.discarded++;
        SP_EVENT(l, uuid, "OOB-2", EVLOG_RESULT_DISCARD, EVLOG_REASON("unknown-uuid"),
                 EVLOG_STR("peer", peer_text));
        return;
    }
    SP_EVENT(l, uuid, "OOB-2", EVLOG_RESULT_OK, EVLOG_STR("peer", peer_text));

    if (ask(l, l->hooks.inband, &h->uuid, uuid, "IB-5", &yes) != 0)
        return;
    if (yes) {
        l->stats.discarded++;
        SP_EVENT(l, uuid, "IB-5", EVLOG_RESULT_DISCARD, EVLOG_REASON("inband-device"),
                 EVLOG_STR("peer", peer_text));
        return;
    }

    if ((match = hello_find_root(h, l->opt.roots, l->opt.n_roots)) < 0) {
        l->stats.discarded++;
        hash_types(h, types, sizeof(types));
        SP_EVENT(l, uuid, "OOB-3", EVLOG_RESULT_DISCARD, EVLOG_REASON("no-root-match"),
                 EVLOG_INT("hashes", (int64_t)h->n_hashes),
                 EVLOG_STR("hash-types", types), EVLOG_STR("peer", peer_text));
        return;
    }

    if (ask(l, l->hooks.in_flight, &h->uuid, uuid, "OOB-3", &yes) != 0)
        return;
    if (yes) {
        l->stats.discarded++;
        SP_EVENT(l, uuid, "OOB-3", EVLOG_RESULT_DISCARD,
                 EVLOG_REASON("already-in-progress"), EVLOG_STR("peer", peer_text));
        return;
    }

    if (thumbprint_format(&l->opt.roots[match], root, sizeof(root)) != 0)
        snprintf(root, sizeof(root), "?");
    l->stats.started++;
    SP_EVENT(l, uuid, "OOB-3", EVLOG_RESULT_OK, EVLOG_STR("step", "tls-next"),
             EVLOG_STR("root-hash", root), EVLOG_STR("peer", peer_text));
    l->hooks.start(l->hooks.arg, &h->uuid, peer, h);
}

/* The peer closed: the hello is complete. */
static void
conn_finish(struct conn *c)
{
    struct prov_hello *l = c->l;
    struct sockaddr_in peer = c->peer;
    char peer_text[INET_ADDRSTRLEN];
    struct hello h;
    int r;

    if ((r = hello_decode(c->buf, c->len, &h)) != 0) {
        conn_drop(c, decode_reason(r), amt_strerror(r));
        return;
    }
    memcpy(peer_text, c->peer_text, sizeof(peer_text));
    conn_close(c);
    decide(l, &h, &peer, peer_text);
}

static void
on_idle(struct amt_loop *loop, void *arg)
{
    struct conn *c = arg;

    c->idle = NULL;
    conn_drop(c, "hello-idle-timeout", amt_strerror(AMT_ERR_TIMEOUT));
}

static int
arm_idle(struct conn *c)
{
    struct prov_hello *l = c->l;

    loop_timer_cancel(l->loop, c->idle);
    c->idle = NULL;
    return loop_timer_at(l->loop, loop_now(l->loop) + l->opt.idle_timeout, on_idle, c,
                         &c->idle);
}

/*
 * Reads what is there. The idle timer restarts whenever bytes arrive, so a hello
 * split over slow segments is read whole; the size cap bounds how long that can go.
 */
static void
on_readable(struct amt_loop *loop, int fd, uint32_t events, void *arg)
{
    struct conn *c = arg;
    bool progress = false;

    for (;;) {
        ssize_t n = recv(fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);

        if (n > 0) {
            c->len += (size_t)n;
            progress = true;
            if (c->len > HELLO_MAX_BYTES) {
                conn_drop(c, "hello-too-long", amt_strerror(AMT_ERR_HELLO_TOO_LONG));
                return;
            }
            continue;
        }
        if (n == 0) {
            conn_finish(c);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        conn_drop(c, "read-failed", strerror(errno));
        return;
    }
    if (progress && arm_idle(c) != 0)
        conn_drop(c, "read-failed", amt_strerror(AMT_ERR_ALLOC));
}

static int
conn_new(struct prov_hello *l, int fd, const struct sockaddr_in *peer)
{
    struct conn *c;
    int r;

    if ((c = calloc(1, sizeof(*c))) == NULL)
        return AMT_ERR_ALLOC;
    c->l = l;
    c->fd = fd;
    c->peer = *peer;
    if (inet_ntop(AF_INET, &peer->sin_addr, c->peer_text, sizeof(c->peer_text)) == NULL)
        snprintf(c->peer_text, sizeof(c->peer_text), "?");
    c->next = l->conns;
    if (l->conns != NULL)
        l->conns->prev = c;
    l->conns = c;
    l->stats.open++;
    if ((r = loop_watch(l->loop, fd, EPOLLIN, on_readable, c, &c->watch)) != 0 ||
        (r = arm_idle(c)) != 0) {
        c->fd = -1; /* the caller still owns fd on failure */
        conn_close(c);
        return r;
    }
    return 0;
}

static void
on_accept(struct amt_loop *loop, int fd, uint32_t events, void *arg)
{
    struct prov_hello *l = arg;

    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_in peer;
        socklen_t len = sizeof(peer);
        char text[INET_ADDRSTRLEN] = "?";
        int cfd =
            accept4(fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fprintf(stderr, "amtprov: %s: accept: %s\n", __func__, strerror(errno));
            return;
        }
        l->stats.accepted++;
        inet_ntop(AF_INET, &peer.sin_addr, text, sizeof(text));
        if (l->stats.open >= l->opt.max_connections) {
            /* closed at once rather than left in the backlog, where AMT would wait */
            l->stats.refused++;
            SP_EVENT(l, NULL, "OOB-1", EVLOG_RESULT_DISCARD,
                     EVLOG_REASON("too-many-connections"), EVLOG_STR("peer", text),
                     EVLOG_INT("open", (int64_t)l->stats.open));
            close(cfd);
            continue;
        }
        if (conn_new(l, cfd, &peer) != 0) {
            fprintf(stderr, "amtprov: %s: no room for a connection from %s\n", __func__,
                    text);
            close(cfd);
        }
    }
}

/* --- the listener --- */

int
prov_hello_new(struct amt_loop *loop, const struct prov_hello_options *o,
               const struct prov_hello_hooks *hooks, struct prov_hello **out)
{
    struct prov_hello *l = NULL;
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    int one = 1, r = AMT_ERR_INTERNAL;

    if (out != NULL)
        *out = NULL;
    if (loop == NULL || o == NULL || hooks == NULL || out == NULL || o->address == NULL ||
        hooks->imported == NULL || hooks->start == NULL || o->n_roots == 0 ||
        o->n_roots > PROV_HELLO_ROOTS_MAX || o->max_connections == 0 ||
        !(o->idle_timeout > 0) || o->port > 65535)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)o->port);
    if (strchr(o->address, ':') != NULL)
        return AMT_ERR_NET_IPV6;
    if (inet_pton(AF_INET, o->address, &addr.sin_addr) != 1)
        return AMT_ERR_NET_ADDRESS;
    if ((l = calloc(1, sizeof(*l))) == NULL)
        return AMT_ERR_ALLOC;
    l->loop = loop;
    l->opt = *o;
    l->opt.address = NULL; /* the caller's string is not kept */
    l->hooks = *hooks;
    l->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (l->fd < 0) {
        r = AMT_ERR_SYSTEM;
        goto out;
    }
    /* a restarted service point must not wait for old connections to time out */
    setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(l->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(l->fd, LISTEN_BACKLOG) != 0 ||
        getsockname(l->fd, (struct sockaddr *)&addr, &len) != 0) {
        r = AMT_ERR_SP_LISTEN;
        goto out;
    }
    l->port = ntohs(addr.sin_port);
    if ((r = loop_watch(loop, l->fd, EPOLLIN, on_accept, l, &l->watch)) != 0)
        goto out;
    *out = l;
    l = NULL;
    r = 0;
out:
    if (l != NULL) {
        int saved = errno;

        prov_hello_free(l);
        errno = saved;
    }
    return r;
}

void
prov_hello_free(struct prov_hello *l)
{
    if (l == NULL)
        return;
    while (l->conns != NULL)
        conn_close(l->conns);
    loop_unwatch(l->loop, l->watch);
    if (l->fd >= 0)
        close(l->fd);
    free(l);
}

unsigned
prov_hello_port(const struct prov_hello *l)
{
    return l->port;
}

void
prov_hello_get_stats(const struct prov_hello *l, struct prov_hello_stats *out)
{
    *out = l->stats;
}
