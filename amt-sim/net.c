/* accept4 */
#define _GNU_SOURCE
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "tls.h"

/* Connections taken from one listener per wake-up, so one port cannot starve others. */
#define ACCEPT_BATCH 16
#define LISTEN_BACKLOG 128
/* Bytes read and thrown away per wake-up from a connection held by a DROP fault. */
#define HELD_DISCARD 4096

/* The catalogue's id, when the event log's id syntax takes it; ours otherwise. */
#define EVENT_ID_IPV4 "NET-IPV4"
#define EVENT_ID_IPV4_OWN "X-sim.net-ipv4"

static const unsigned amt_ports[SIM_PORT_COUNT] = {16992, 16993, 16994, 16995};

struct net_dev;

struct listener {
    struct net_dev *nd;
    enum sim_port port;
    int fd;
    struct loop_watch *watch;
};

/* A connection being set up or held: a TLS handshake, or one a DROP fault keeps. */
struct pending {
    struct net_dev *nd;
    enum sim_port port;
    struct sockaddr_in peer;
    struct sim_tls_handshake *hs;
    int fd; /* held connections */
    struct loop_watch *watch;
    struct pending *prev, *next;
};

struct bridge_ref {
    struct net_dev *nd;
    struct sim_tls_bridge *b;
    struct bridge_ref *prev, *next;
};

struct net_dev {
    struct sim_net *net;
    struct sim_device *dev;
    struct listener l[SIM_PORT_COUNT];
    struct sim_tls_server *tls;
    struct sim_http_site *site;
    enum sim_port_fault fault[SIM_PORT_COUNT];
    struct pending *handshakes;
    size_t n_handshakes;
    struct pending *held;
    size_t n_held;
    struct bridge_ref *bridges;
    struct net_dev *next;
};

struct sim_net {
    struct amt_loop *loop;
    struct sim_net_options opt;
    struct sim_http *http;
    struct net_dev *devs;
    sim_redir_plain_cb redir_plain;
    sim_redir_tls_cb redir_tls;
    void *redir_arg;
};

/* What a port does for a device at this moment: the table in net.h. */
enum port_rule {
    RULE_CLOSED,
    RULE_HTTP,
    RULE_TLS_PROVISIONING,
    RULE_TLS_SERVICE,
    RULE_REDIR,
    RULE_REDIR_TLS,
};

/* --- small helpers shared with tls.c and http.c --- */

unsigned
sim_port_number(enum sim_port port)
{
    return port < SIM_PORT_COUNT ? amt_ports[port] : 0;
}

const char *
sim_net_step_id(const struct sim_device *dev, const char *oob_id, char *buf, size_t size)
{
    const char *otp = sim_device_otp(dev);
    int ib;

    if (otp == NULL || *otp == '\0')
        return oob_id;
    if (strncmp(oob_id, "OOB-3.", 6) == 0)
        ib = 6;
    else if (strncmp(oob_id, "OOB-4.", 6) == 0)
        ib = 7;
    else
        return oob_id;
    snprintf(buf, size, "IB-%d.%s", ib, oob_id + 6);
    return buf;
}

void
sim_net_event_fields(struct sim_device *dev, const char *id, enum evlog_result result,
                     const struct evlog_field *fields, size_t nfields)
{
    int r =
        evlog_emit_fields(sim_device_events(dev), sim_device_now(dev), EVLOG_ACTOR_AMT,
                          sim_device_uuid_text(dev), id, result, fields, nfields);

    if (r != 0)
        fprintf(stderr, "amt-sim: event %s not logged: %s\n", id, amt_strerror(r));
}

void
sim_net_peer_text(const struct sockaddr_in *peer, char *buf, size_t size)
{
    char addr[INET_ADDRSTRLEN] = "?";

    inet_ntop(AF_INET, &peer->sin_addr, addr, sizeof(addr));
    snprintf(buf, size, "%s:%u", addr, (unsigned)ntohs(peer->sin_port));
}

/* --- options --- */

void
sim_net_options_default(struct sim_net_options *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 0; i < SIM_PORT_COUNT; i++)
        o->ports[i] = amt_ports[i];
    o->handshake_timeout = 30;
    o->max_device_connections = 32;
    o->max_held_connections = 64;
    sim_http_options_default(&o->http);
}

void
sim_net_options_port_base(struct sim_net_options *o, unsigned base)
{
    for (unsigned i = 0; i < SIM_PORT_COUNT; i++)
        o->ports[i] = base + i;
}

/* --- connections --- */

/* A closed port: the peer gets a RST, as from a port nobody listens on. */
static void
reset_connection(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};

    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

static bool
redirection_on(const struct sim_device *dev)
{
    return sim_device_switch(dev, SIM_SWITCH_REDIRECTION_LISTENER) ||
           sim_device_switch(dev, SIM_SWITCH_SOL) ||
           sim_device_switch(dev, SIM_SWITCH_IDER);
}

static enum port_rule
port_rule(const struct sim_device *dev, enum sim_port port)
{
    if (sim_device_state(dev) != SIM_STATE_PROVISIONED) {
        if (port == SIM_PORT_HTTP)
            return RULE_HTTP;
        return port == SIM_PORT_HTTPS ? RULE_TLS_PROVISIONING : RULE_CLOSED;
    }
    if (!sim_device_tls_enabled(dev)) {
        if (port == SIM_PORT_HTTP)
            return RULE_HTTP;
        return port == SIM_PORT_REDIR && redirection_on(dev) ? RULE_REDIR : RULE_CLOSED;
    }
    if (port == SIM_PORT_HTTPS)
        return RULE_TLS_SERVICE;
    return port == SIM_PORT_REDIR_TLS && redirection_on(dev) ? RULE_REDIR_TLS
                                                             : RULE_CLOSED;
}

static void
refuse(struct net_dev *nd, enum sim_port port, int fd, const char *peer,
       const char *reason)
{
    char id[16];

    snprintf(id, sizeof(id), "PORT-%u", amt_ports[port]);
    sim_net_event(nd->dev, id, EVLOG_RESULT_FAIL, EVLOG_REASON(reason),
                  EVLOG_INT("port", amt_ports[port]),
                  EVLOG_STR("state", sim_state_name(sim_device_state(nd->dev))),
                  EVLOG_BOOL("tls-enabled", sim_device_tls_enabled(nd->dev)),
                  EVLOG_STR("peer", peer));
    reset_connection(fd);
}

static void
pending_unlink(struct pending **head, struct pending *p)
{
    if (p->prev != NULL)
        p->prev->next = p->next;
    else
        *head = p->next;
    if (p->next != NULL)
        p->next->prev = p->prev;
    p->prev = p->next = NULL;
}

static void
pending_link(struct pending **head, struct pending *p)
{
    p->prev = NULL;
    p->next = *head;
    if (*head != NULL)
        (*head)->prev = p;
    *head = p;
}

static void
held_free(struct net_dev *nd, struct pending *p)
{
    pending_unlink(&nd->held, p);
    nd->n_held--;
    loop_unwatch(nd->net->loop, p->watch);
    close(p->fd);
    free(p);
}

/* A dropping firewall: nothing ever comes back; the peer's data is thrown away. */
static void
held_io(struct amt_loop *loop, int fd, uint32_t events, void *arg)
{
    struct pending *p = arg;
    char buf[HELD_DISCARD];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);

    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        held_free(p->nd, p);
}

static void
hold(struct net_dev *nd, enum sim_port port, int fd, const struct sockaddr_in *peer,
     const char *peer_text)
{
    struct pending *p;
    char id[16];

    snprintf(id, sizeof(id), "PORT-%u", amt_ports[port]);
    sim_net_event(nd->dev, id, EVLOG_RESULT_FAIL, EVLOG_REASON("port-dropped"),
                  EVLOG_INT("port", amt_ports[port]), EVLOG_STR("peer", peer_text));
    if (nd->n_held >= nd->net->opt.max_held_connections ||
        (p = calloc(1, sizeof(*p))) == NULL) {
        close(fd);
        return;
    }
    p->nd = nd;
    p->port = port;
    p->peer = *peer;
    p->fd = fd;
    if (loop_watch(nd->net->loop, fd, EPOLLIN, held_io, p, &p->watch) != 0) {
        close(fd);
        free(p);
        return;
    }
    pending_link(&nd->held, p);
    nd->n_held++;
}

static void
bridge_closed(void *arg)
{
    struct bridge_ref *ref = arg;
    struct net_dev *nd = ref->nd;

    if (ref->prev != NULL)
        ref->prev->next = ref->next;
    else
        nd->bridges = ref->next;
    if (ref->next != NULL)
        ref->next->prev = ref->prev;
    free(ref);
}

/* 16993 after its handshake: the session goes to the HTTP daemon through a bridge. */
static void
serve_https(struct net_dev *nd, SSL *ssl, int fd, const struct sockaddr_in *peer,
            bool chain_accepted)
{
    struct sim_http_conn_info info;
    struct bridge_ref *ref;
    int app_fd = -1, r;

    if ((ref = calloc(1, sizeof(*ref))) == NULL) {
        SSL_free(ssl);
        close(fd);
        return;
    }
    ref->nd = nd;
    if ((r = sim_tls_bridge_new(nd->net->loop, ssl, fd, bridge_closed, ref, &app_fd,
                                &ref->b)) != 0) {
        fprintf(stderr, "amt-sim: %s: %s%s%s\n", __func__, amt_strerror(r),
                r == AMT_ERR_SYSTEM ? ": " : "",
                r == AMT_ERR_SYSTEM ? strerror(errno) : "");
        SSL_free(ssl);
        close(fd);
        free(ref);
        return;
    }
    ref->next = nd->bridges;
    if (nd->bridges != NULL)
        nd->bridges->prev = ref;
    nd->bridges = ref;

    memset(&info, 0, sizeof(info));
    info.port = amt_ports[SIM_PORT_HTTPS];
    info.tls = true;
    info.chain_accepted = chain_accepted;
    info.peer = *peer;
    /* on failure app_fd is closed (and said), and the bridge ends itself */
    sim_http_add_connection(nd->site, app_fd, &info);
}

static void
handshake_done(struct sim_tls_handshake *hs, int result, void *arg)
{
    struct pending *p = arg;
    struct net_dev *nd = p->nd;
    struct sim_net *net = nd->net;
    struct sockaddr_in peer = p->peer;
    enum sim_port port = p->port;
    bool accepted = sim_tls_handshake_chain_accepted(hs);
    SSL *ssl;
    int fd = -1;

    pending_unlink(&nd->handshakes, p);
    nd->n_handshakes--;
    free(p);
    if (result != 0) {
        char text[32];

        sim_net_peer_text(&peer, text, sizeof(text));
        sim_tls_handshake_free(hs);
        sim_net_event(nd->dev, "X-sim.conn.close", EVLOG_RESULT_INFO,
                      EVLOG_INT("port", amt_ports[port]), EVLOG_STR("peer", text),
                      EVLOG_INT("requests", 0), EVLOG_STR("cause", "handshake-failed"));
        return;
    }
    ssl = sim_tls_handshake_take(hs, &fd);
    sim_tls_handshake_free(hs);
    if (port == SIM_PORT_REDIR_TLS) {
        if (net->redir_tls == NULL) {
            char text[32];

            sim_net_peer_text(&peer, text, sizeof(text));
            SSL_free(ssl);
            refuse(nd, port, fd, text, "no-redirection-service");
            return;
        }
        net->redir_tls(net->redir_arg, nd->dev, ssl, fd, &peer);
        return;
    }
    serve_https(nd, ssl, fd, &peer, accepted);
}

static void
start_handshake(struct net_dev *nd, enum sim_port port, int fd,
                const struct sockaddr_in *peer, enum sim_tls_mode mode)
{
    struct pending *p;
    int r;

    /* a certificate that does not load was said where it was loaded */
    if (sim_tls_server_refresh(nd->tls) != 0) {
        reset_connection(fd);
        return;
    }
    if ((p = calloc(1, sizeof(*p))) == NULL) {
        fprintf(stderr, "amt-sim: %s: %s\n", __func__, amt_strerror(AMT_ERR_ALLOC));
        reset_connection(fd);
        return;
    }
    p->nd = nd;
    p->port = port;
    p->peer = *peer;
    p->fd = -1;
    if ((r = sim_tls_handshake_start(nd->tls, nd->net->loop, fd, peer, amt_ports[port],
                                     mode, nd->net->opt.handshake_timeout, handshake_done,
                                     p, &p->hs)) != 0) {
        fprintf(stderr, "amt-sim: %s: %s\n", __func__, amt_strerror(r));
        free(p);
        return;
    }
    pending_link(&nd->handshakes, p);
    nd->n_handshakes++;
}

static size_t
device_connections(const struct net_dev *nd)
{
    return nd->n_handshakes + nd->n_held + sim_http_site_connections(nd->site);
}

static void
accepted(struct net_dev *nd, enum sim_port port, int fd, const struct sockaddr_in *peer)
{
    struct sim_net *net = nd->net;
    enum port_rule rule;
    char text[32];

    sim_net_peer_text(peer, text, sizeof(text));
    if (nd->fault[port] == SIM_PORT_FAULT_REJECT) {
        refuse(nd, port, fd, text, "port-rejected");
        return;
    }
    if (nd->fault[port] == SIM_PORT_FAULT_DROP) {
        hold(nd, port, fd, peer, text);
        return;
    }
    rule = port_rule(nd->dev, port);
    if (rule == RULE_CLOSED) {
        refuse(nd, port, fd, text, "port-closed");
        return;
    }
    if ((rule == RULE_REDIR && net->redir_plain == NULL) ||
        (rule == RULE_REDIR_TLS && net->redir_tls == NULL)) {
        refuse(nd, port, fd, text, "no-redirection-service");
        return;
    }
    if (device_connections(nd) >= net->opt.max_device_connections) {
        refuse(nd, port, fd, text, "too-many-connections");
        return;
    }
    sim_net_event(nd->dev, "X-sim.conn.open", EVLOG_RESULT_INFO,
                  EVLOG_INT("port", amt_ports[port]), EVLOG_STR("peer", text),
                  EVLOG_STR("state", sim_state_name(sim_device_state(nd->dev))));
    switch (rule) {
    case RULE_HTTP: {
        struct sim_http_conn_info info;

        memset(&info, 0, sizeof(info));
        info.port = amt_ports[SIM_PORT_HTTP];
        info.peer = *peer;
        sim_http_add_connection(nd->site, fd, &info);
        break;
    }
    case RULE_TLS_PROVISIONING:
        start_handshake(nd, port, fd, peer, SIM_TLS_MODE_PROVISIONING);
        break;
    case RULE_TLS_SERVICE:
    case RULE_REDIR_TLS:
        start_handshake(nd, port, fd, peer, SIM_TLS_MODE_SERVICE);
        break;
    case RULE_REDIR:
        net->redir_plain(net->redir_arg, nd->dev, fd, peer);
        break;
    case RULE_CLOSED:
        break;
    }
}

static void
listener_io(struct amt_loop *loop, int fd, uint32_t events, void *arg)
{
    struct listener *l = arg;

    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_in peer;
        socklen_t len = sizeof(peer);
        int c;

        memset(&peer, 0, sizeof(peer));
        c = accept4(l->fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED)
                fprintf(stderr, "amt-sim: %s: accept on port %u: %s\n", __func__,
                        l->nd->net->opt.ports[l->port], strerror(errno));
            return;
        }
        accepted(l->nd, l->port, c, &peer);
    }
}

/* --- devices --- */

static struct net_dev *
find_dev(const struct sim_net *net, const struct sim_device *dev)
{
    for (struct net_dev *nd = net->devs; nd != NULL; nd = nd->next)
        if (nd->dev == dev)
            return nd;
    return NULL;
}

static void
net_dev_free(struct net_dev *nd)
{
    struct amt_loop *loop = nd->net->loop;

    while (nd->handshakes != NULL) {
        struct pending *p = nd->handshakes;

        pending_unlink(&nd->handshakes, p);
        sim_tls_handshake_free(p->hs);
        free(p);
    }
    nd->n_handshakes = 0;
    while (nd->held != NULL)
        held_free(nd, nd->held);
    while (nd->bridges != NULL) {
        struct bridge_ref *ref = nd->bridges;

        nd->bridges = ref->next;
        sim_tls_bridge_free(ref->b);
        free(ref);
    }
    sim_http_site_free(nd->site);
    sim_tls_server_free(nd->tls);
    for (int i = 0; i < SIM_PORT_COUNT; i++) {
        loop_unwatch(loop, nd->l[i].watch);
        if (nd->l[i].fd >= 0)
            close(nd->l[i].fd);
    }
    free(nd);
}

static int
open_listener(struct net_dev *nd, enum sim_port port, struct in_addr addr, char *errbuf,
              size_t errlen)
{
    struct listener *l = &nd->l[port];
    struct sockaddr_in sa;
    unsigned number = nd->net->opt.ports[port];
    char text[INET_ADDRSTRLEN] = "?";
    int one = 1, e, r;

    inet_ntop(AF_INET, &addr, text, sizeof(text));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr = addr;
    sa.sin_port = htons((uint16_t)number);
    if ((l->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
        setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(l->fd, LISTEN_BACKLOG) != 0) {
        e = errno;
        /* the caller says it, from errbuf */
        if (errbuf != NULL && errlen > 0)
            snprintf(errbuf, errlen, "cannot listen on %s:%u: %s", text, number,
                     strerror(e));
        errno = e;
        return AMT_ERR_NET_LISTEN;
    }
    l->nd = nd;
    l->port = port;
    if ((r = loop_watch(nd->net->loop, l->fd, EPOLLIN, listener_io, l, &l->watch)) != 0) {
        if (errbuf != NULL && errlen > 0)
            snprintf(errbuf, errlen, "cannot watch %s:%u: %s", text, number,
                     amt_strerror(r));
        return r;
    }
    return 0;
}

int
sim_net_add_device(struct sim_net *net, struct sim_device *dev, char *errbuf,
                   size_t errlen)
{
    const char *listen_addr;
    struct net_dev *nd = NULL;
    struct in_addr addr;
    unsigned char six[16];
    int r = AMT_ERR_INTERNAL, e = 0;

    if (errbuf != NULL && errlen > 0)
        errbuf[0] = '\0';
    if (net == NULL || dev == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (find_dev(net, dev) != NULL) {
        if (errbuf != NULL && errlen > 0)
            snprintf(errbuf, errlen, "device %s already has its listeners",
                     sim_device_uuid_text(dev));
        return AMT_ERR_NET_DUPLICATE;
    }
    listen_addr = sim_device_config(dev)->listen;
    if (inet_pton(AF_INET, listen_addr, &addr) != 1) {
        if (inet_pton(AF_INET6, listen_addr, six) == 1) {
            sim_net_event(
                dev, evlog_id_valid(EVENT_ID_IPV4) ? EVENT_ID_IPV4 : EVENT_ID_IPV4_OWN,
                EVLOG_RESULT_FAIL, EVLOG_REASON("ipv6-refused"),
                EVLOG_STR("address", listen_addr), EVLOG_STR("catalogue", "NET-IPV4"));
            if (errbuf != NULL && errlen > 0)
                snprintf(errbuf, errlen,
                         "listen address %s is IPv6: out of band management uses IPv4 "
                         "only",
                         listen_addr);
            return AMT_ERR_NET_IPV6;
        }
        if (errbuf != NULL && errlen > 0)
            snprintf(errbuf, errlen, "listen address \"%s\" is not an IPv4 address",
                     listen_addr);
        return AMT_ERR_NET_ADDRESS;
    }
    if ((nd = calloc(1, sizeof(*nd))) == NULL)
        return AMT_ERR_ALLOC;
    nd->net = net;
    nd->dev = dev;
    for (int i = 0; i < SIM_PORT_COUNT; i++)
        nd->l[i].fd = -1;
    if ((r = sim_tls_server_new(dev, &nd->tls)) != 0) {
        if (errbuf != NULL && errlen > 0)
            snprintf(errbuf, errlen, "device %s: %s", sim_device_uuid_text(dev),
                     amt_strerror(r));
        goto out;
    }
    if ((r = sim_http_site_new(net->http, dev, &nd->site)) != 0)
        goto out;
    for (int i = 0; i < SIM_PORT_COUNT; i++) {
        if ((r = open_listener(nd, (enum sim_port)i, addr, errbuf, errlen)) != 0) {
            e = errno;
            goto out;
        }
    }
    nd->next = net->devs;
    net->devs = nd;
    nd = NULL;
    r = 0;
out:
    if (nd != NULL)
        net_dev_free(nd);
    if (r != 0 && e != 0)
        errno = e;
    return r;
}

void
sim_net_remove_device(struct sim_net *net, struct sim_device *dev)
{
    struct net_dev **pp;

    if (net == NULL)
        return;
    for (pp = &net->devs; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->dev == dev) {
            struct net_dev *nd = *pp;

            *pp = nd->next;
            net_dev_free(nd);
            return;
        }
    }
}

unsigned
sim_net_bound_port(const struct sim_net *net, enum sim_port port)
{
    return net != NULL && port < SIM_PORT_COUNT ? net->opt.ports[port] : 0;
}

size_t
sim_net_device_connections(const struct sim_net *net, const struct sim_device *dev)
{
    const struct net_dev *nd = net != NULL ? find_dev(net, dev) : NULL;

    return nd != NULL ? device_connections(nd) : 0;
}

/* --- the process --- */

int
sim_net_new(struct amt_loop *loop, const struct sim_http_handlers *handlers,
            const struct sim_net_options *options, struct sim_net **out)
{
    struct sim_net *net;
    int r;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (loop == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((net = calloc(1, sizeof(*net))) == NULL)
        return AMT_ERR_ALLOC;
    net->loop = loop;
    if (options != NULL)
        net->opt = *options;
    else
        sim_net_options_default(&net->opt);
    if ((r = sim_http_new(loop, handlers, &net->opt.http, &net->http)) != 0) {
        free(net);
        return r;
    }
    *out = net;
    return 0;
}

void
sim_net_free(struct sim_net *net)
{
    if (net == NULL)
        return;
    while (net->devs != NULL) {
        struct net_dev *nd = net->devs;

        net->devs = nd->next;
        net_dev_free(nd);
    }
    sim_http_free(net->http);
    free(net);
}

struct sim_http *
sim_net_http(struct sim_net *net)
{
    return net->http;
}

void
sim_net_set_redirection(struct sim_net *net, sim_redir_plain_cb plain,
                        sim_redir_tls_cb tls, void *arg)
{
    net->redir_plain = plain;
    net->redir_tls = tls;
    net->redir_arg = arg;
}

/* --- faults --- */

int
sim_net_fault_port(struct sim_net *net, struct sim_device *dev, enum sim_port port,
                   enum sim_port_fault fault)
{
    struct net_dev *nd = net != NULL ? find_dev(net, dev) : NULL;

    if (nd == NULL)
        return AMT_ERR_NOT_FOUND;
    if (port >= SIM_PORT_COUNT || fault > SIM_PORT_FAULT_DROP)
        return AMT_ERR_INVALID_ARGUMENT;
    nd->fault[port] = fault;
    if (fault == SIM_PORT_FAULT_NONE) {
        /* the firewall is gone: what it kept is let go */
        for (struct pending *p = nd->held, *next; p != NULL; p = next) {
            next = p->next;
            if (p->port == port)
                held_free(nd, p);
        }
    }
    sim_net_event(dev, "X-sim.fault.port", EVLOG_RESULT_INFO,
                  EVLOG_INT("port", amt_ports[port]),
                  EVLOG_STR("fault", fault == SIM_PORT_FAULT_REJECT ? "reject"
                                     : fault == SIM_PORT_FAULT_DROP ? "drop"
                                                                    : "none"));
    return 0;
}

int
sim_net_fault_delay(struct sim_net *net, struct sim_device *dev, double seconds)
{
    struct net_dev *nd = net != NULL ? find_dev(net, dev) : NULL;

    if (nd == NULL)
        return AMT_ERR_NOT_FOUND;
    if (!(seconds >= 0))
        return AMT_ERR_INVALID_ARGUMENT;
    sim_http_site_set_delay(nd->site, seconds);
    sim_net_event(dev, "X-sim.fault.delay", EVLOG_RESULT_INFO,
                  EVLOG_DOUBLE("seconds", seconds));
    return 0;
}

int
sim_net_fault_drop_after(struct sim_net *net, struct sim_device *dev, unsigned n)
{
    struct net_dev *nd = net != NULL ? find_dev(net, dev) : NULL;

    if (nd == NULL)
        return AMT_ERR_NOT_FOUND;
    sim_http_site_set_drop_after(nd->site, n);
    sim_net_event(dev, "X-sim.fault.drop-after", EVLOG_RESULT_INFO,
                  EVLOG_INT("requests", n));
    return 0;
}

int
sim_net_fault_reset_nonces(struct sim_net *net, struct sim_device *dev)
{
    struct net_dev *nd = net != NULL ? find_dev(net, dev) : NULL;

    if (nd == NULL)
        return AMT_ERR_NOT_FOUND;
    sim_http_site_reset_nonces(nd->site);
    sim_net_event(dev, "X-sim.fault.nonce-reset", EVLOG_RESULT_INFO,
                  EVLOG_BOOL("done", true));
    return 0;
}
