/*
 * The device-facing network side of amt-sim: every device's four TCP listeners on
 * its own IPv4 address, the rules for which port answers what, fault injection, and
 * the hand-over of connections to TLS (tls.h), HTTP (http.h) or redirection. All of
 * it runs on the one event loop, with non-blocking sockets.
 *
 * Which port answers what (catalogue PORT-*, as real AMT does):
 *
 *   port   setup / in-provisioning      provisioned, TLS off     provisioned, TLS on
 *   -----  ---------------------------  -----------------------  ---------------------
 *   16992  HTTP. GET|HEAD / without     HTTP, everything with    closed
 *          credentials: discovery page  digest. GET|HEAD /
 *          (200, "<version> - not       without credentials:
 *          provisioned"). Everything    401 challenge
 *          else with digest (admin,     (discovery), or a 200
 *          password "admin" until the   page when the web-ui
 *          MEBx password is changed)    switch is on
 *   16993  TLS, self-signed device      closed                   TLS with the device's
 *          certificate; client chain                             certificate, no
 *          required and judged with                              client certificate;
 *          certpol (OOB-3); then HTTP                            then HTTP with digest
 *          with digest: the
 *          provisioning session
 *   16994  closed                       redirection when one of  closed
 *                                       the switches
 *                                       redirection-listener,
 *                                       SOL, IDER is on
 *   16995  closed                       closed                   redirection over TLS
 *                                                                (same switches)
 *
 * Every answer on 16992 and 16993 carries the Server header with the version.
 * Every listener is bound when the device is added, whatever its state, so that an
 * address in use is an error at start and a change of state needs no new socket. A
 * closed port accepts and resets at once (SO_LINGER 0: the peer sees a RST, as from
 * a real closed port) and logs PORT-<n> fail "port-closed". The rules are judged at
 * each accept from the device's state at that moment; a connection keeps the rules
 * it was accepted under, except that its requests stop being the provisioning
 * session once the device is provisioned.
 *
 * Redirection itself is another module's: it registers callbacks (see
 * sim_net_set_redirection) and gets accepted 16994 sockets and established 16995
 * TLS sessions. Until one is registered those connections are reset and logged
 * with reason "no-redirection-service".
 */
#ifndef AMT_SIM_NET_H
#define AMT_SIM_NET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "device.h"
#include "evlog.h"
#include "http.h"
#include "loop.h"

/* The four AMT ports, by role. */
enum sim_port {
    SIM_PORT_HTTP,      /* 16992 */
    SIM_PORT_HTTPS,     /* 16993 */
    SIM_PORT_REDIR,     /* 16994 */
    SIM_PORT_REDIR_TLS, /* 16995 */
    SIM_PORT_COUNT,
};

/* The real port number of a role (16992..16995): what events and handlers see. */
unsigned sim_port_number(enum sim_port port);

struct sim_net_options {
    /* TCP ports actually bound, by role; the real numbers by default. Tests move
     * them (sim_net_options_port_base) to stay clear of other runs. */
    unsigned ports[SIM_PORT_COUNT];
    /* a TLS handshake that takes longer (virtual seconds) is dropped */
    double handshake_timeout;
    /* connections one device serves at once, handshakes included; more are reset */
    unsigned max_device_connections;
    /* connections dropped on purpose (sim_net_fault_port DROP) held per device */
    unsigned max_held_connections;
    struct sim_http_options http;
};

/* Real ports, a 30 s handshake timeout, 32 connections per device. */
void sim_net_options_default(struct sim_net_options *o);
/* ports = base, base + 1, base + 2, base + 3 */
void sim_net_options_port_base(struct sim_net_options *o, unsigned base);

struct sim_net;

/* One per process; handlers answer the authenticated requests (see http.h). */
int sim_net_new(struct amt_loop *loop, const struct sim_http_handlers *handlers,
                const struct sim_net_options *options, struct sim_net **out);
/* Closes every listener and connection; devices stay the caller's. */
void sim_net_free(struct sim_net *net);

struct sim_http *sim_net_http(struct sim_net *net);

/*
 * Opens the device's four listeners on sim_device_config(dev)->listen. Errors, each
 * with a sentence naming the address (and port) in errbuf (may be NULL):
 * AMT_ERR_NET_IPV6 for an IPv6 address (NET-IPV4, also logged), AMT_ERR_NET_ADDRESS
 * for anything else that is not dotted IPv4, AMT_ERR_NET_LISTEN when a socket
 * cannot be bound or listen (errno kept: EADDRINUSE, ...), AMT_ERR_NET_DUPLICATE,
 * AMT_ERR_NET_TLS_CONTEXT when the device's key and certificate do not make a TLS
 * context. Nothing is left open on failure. The device must outlive its listeners.
 */
int sim_net_add_device(struct sim_net *net, struct sim_device *dev, char *errbuf,
                       size_t errlen);
/* Closes the device's listeners and every connection it has. Unknown devices are
 * fine. */
void sim_net_remove_device(struct sim_net *net, struct sim_device *dev);

/* The port a device actually listens on for a role (0 when not added). */
unsigned sim_net_bound_port(const struct sim_net *net, enum sim_port port);

/* Connections the device has open (handshakes, HTTP, held, bridges), for tests. */
size_t sim_net_device_connections(const struct sim_net *net,
                                  const struct sim_device *dev);

/* --- redirection --- */

/*
 * A plain connection accepted on 16994: the callee owns fd (non-blocking) from
 * then on. A TLS session established on 16995: the callee owns ssl and fd (SSL_free
 * does not close fd).
 */
typedef void (*sim_redir_plain_cb)(void *arg, struct sim_device *dev, int fd,
                                   const struct sockaddr_in *peer);
typedef void (*sim_redir_tls_cb)(void *arg, struct sim_device *dev, SSL *ssl, int fd,
                                 const struct sockaddr_in *peer);

/* Either callback may be NULL (that port then refuses); replaces earlier ones. */
void sim_net_set_redirection(struct sim_net *net, sim_redir_plain_cb plain,
                             sim_redir_tls_cb tls, void *arg);

/* --- fault injection, per device; AMT_ERR_NOT_FOUND for a device not added --- */

enum sim_port_fault {
    SIM_PORT_FAULT_NONE,   /* follow the port rules */
    SIM_PORT_FAULT_REJECT, /* a firewall that rejects: every connection is reset */
    SIM_PORT_FAULT_DROP,   /* a firewall that drops: connections are accepted and
                            * never answered (held until the peer gives up) */
};

int sim_net_fault_port(struct sim_net *net, struct sim_device *dev, enum sim_port port,
                       enum sim_port_fault fault);
/* Every HTTP answer waits this many virtual seconds; 0 ends the fault. */
int sim_net_fault_delay(struct sim_net *net, struct sim_device *dev, double seconds);
/* Answers n more requests, then cuts the connection of the next one without an
 * answer, once (0 disarms). */
int sim_net_fault_drop_after(struct sim_net *net, struct sim_device *dev, unsigned n);
/* Forgets every digest nonce handed out so far: clients using one get stale=true. */
int sim_net_fault_reset_nonces(struct sim_net *net, struct sim_device *dev);

/* --- for the network modules: event ids and events --- */

/*
 * The catalogue id of a provisioning step: OOB-3.n and OOB-4.n become IB-6.n and
 * IB-7.n when the session is an in-band one (an OTP was set over the host
 * interface), as device.c does for OOB-7. Other ids are returned as they are.
 */
const char *sim_net_step_id(const struct sim_device *dev, const char *oob_id, char *buf,
                            size_t size);

/* An event of the device's log at its clock; a refused event is said on stderr. */
void sim_net_event_fields(struct sim_device *dev, const char *id,
                          enum evlog_result result, const struct evlog_field *fields,
                          size_t nfields);
#define sim_net_event(dev, id, result, ...)                                              \
    sim_net_event_fields((dev), (id), (result),                                          \
                         (const struct evlog_field[]){{0}, __VA_ARGS__} + 1,             \
                         sizeof((const struct evlog_field[]){{0}, __VA_ARGS__}) /        \
                                 sizeof(struct evlog_field) -                            \
                             1)

/* "a.b.c.d:port" of a peer, for events. */
void sim_net_peer_text(const struct sockaddr_in *peer, char *buf, size_t size);

#endif
