/*
 * The service point's hello listener (catalogue OOB-1, PORT-9971): TCP on an IPv4
 * address (NET-IPV4), port 9971 in the field. AMT connects, writes its hello and
 * closes; the listener reads until the peer closes, with a size cap
 * (HELLO_MAX_BYTES), an idle timeout in the loop's virtual time and a cap on
 * connections read at once, then decides. Everything runs on the caller's loop.
 *
 * Each decision is an SP event (lib/evlog.h, actor SP, device = the hello's UUID),
 * in this order; the first that applies ends the hello:
 *
 *   OOB-1 ok        a well-formed hello arrived: retry-count, hashes, peer,
 *                   admin-credentials-set (its vt is the arrival time)
 *   OOB-2 discard   unknown-uuid: not imported. Nothing else follows.
 *   OOB-2 ok        the UUID was imported
 *   IB-5 discard    inband-device: the site provisions it through its agent
 *   OOB-3 discard   no-root-match: no hash equals the provisioning chain's root
 *                   thumbprint of the same type
 *   OOB-3 discard   already-in-progress: the engine is provisioning the device
 *   OOB-3 ok        step tls-next, root-hash: the engine's start callback follows
 *
 * and for hellos that never reach a decision (no device field):
 *
 *   OOB-1 discard   hello-short, hello-psk-unsupported, hello-version, hello-flag,
 *                   hello-too-many-hashes, hello-hash-count, hello-truncated,
 *                   hello-hash-type, hello-hash-length, hello-trailing (the decoder's
 *                   verdict); hello-too-long (more than the cap: cut off);
 *                   hello-idle-timeout; too-many-connections; read-failed
 *
 * and, when a lookup callback fails, a discard with reason site-lookup-failed under
 * the ID of the decision it was asked for (OOB-2, IB-5 or OOB-3).
 *
 * The site database is not this module's: whether a UUID is imported, in band or in
 * flight is asked through callbacks given at creation. Nor does the listener hold a
 * key: it parses what anyone on the network sends, so it keeps only thumbprints.
 */
#ifndef AMT_PROV_HELLO_LISTENER_H
#define AMT_PROV_HELLO_LISTENER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "hello.h"
#include "loop.h"
#include "thumbprint.h"
#include "uuid.h"

struct evlog;
struct prov_config;

/* Root thumbprints compared with a hello's hashes: one per hash type is enough. */
#define PROV_HELLO_ROOTS_MAX 8

struct prov_hello_options {
    const char *address;    /* IPv4 literal (an IPv6 one: AMT_ERR_NET_IPV6) */
    unsigned port;          /* 9971; 0 lets the system choose (tests) */
    double idle_timeout;    /* virtual seconds without data before a drop */
    size_t max_connections; /* read at once; more are closed at accept */
    struct amt_thumbprint roots[PROV_HELLO_ROOTS_MAX];
    size_t n_roots;       /* the provisioning chain's root, by type */
    struct evlog *events; /* may be NULL */
};

/*
 * The callbacks. A lookup returns 0 with *yes set, or a negative code (the hello is
 * then discarded: site-lookup-failed). inband and in_flight may be NULL (never).
 * start is called once the hello passed every check, after the connection closed;
 * it must make in_flight true for that UUID before it returns, so that the next
 * hello of the device is recognised as a repeat.
 */
struct prov_hello_hooks {
    int (*imported)(void *arg, const struct amt_uuid *uuid, bool *yes);
    int (*inband)(void *arg, const struct amt_uuid *uuid, bool *yes);
    int (*in_flight)(void *arg, const struct amt_uuid *uuid, bool *yes);
    void (*start)(void *arg, const struct amt_uuid *uuid, const struct sockaddr_in *peer,
                  const struct hello *h);
    void *arg;
};

/* What the listener has seen since it started: tests wait on these. */
struct prov_hello_stats {
    unsigned accepted;  /* connections taken */
    unsigned refused;   /* connections closed at once: too many */
    unsigned hellos;    /* well-formed hellos (OOB-1 ok) */
    unsigned malformed; /* hellos the decoder refused, cut off or timed out */
    unsigned discarded; /* well-formed hellos discarded by a decision */
    unsigned started;   /* start callbacks */
    size_t open;        /* connections being read now */
};

struct prov_hello;

/* Defaults: 127.0.0.1, 9971, idle 10 s, 64 connections, no roots, no events. */
void prov_hello_options_default(struct prov_hello_options *o);

/*
 * The thumbprints of the root of a provisioning chain (its last self-signed
 * certificate), one of each type, for prov_hello_options.roots. AMT_ERR_NOT_FOUND
 * when the chain has no root; certpol_load_chain_pem's codes otherwise.
 */
int prov_hello_roots_from_chain(const char *chain_path, struct prov_hello_options *o);

/*
 * Fills o from [sp] of a configuration: hello-listen (the pointer stays cfg's),
 * hello-port, hello-idle-timeout, hello-max-connections, and the roots of the
 * provisioning chain. The events log is left as it was. Codes as above.
 */
int prov_hello_options_from_config(const struct prov_config *cfg,
                                   struct prov_hello_options *o);

/*
 * Binds, listens and starts accepting on loop. AMT_ERR_NET_IPV6 for an IPv6 address,
 * AMT_ERR_NET_ADDRESS for text that is no IPv4 address, AMT_ERR_SP_LISTEN (errno)
 * when the socket cannot be bound, AMT_ERR_INVALID_ARGUMENT for missing hooks or
 * roots.
 */
int prov_hello_new(struct amt_loop *loop, const struct prov_hello_options *o,
                   const struct prov_hello_hooks *hooks, struct prov_hello **out);

/* Closes the listener and every connection it is reading; no events. NULL is fine. */
void prov_hello_free(struct prov_hello *l);

/* The port bound (the chosen one when options.port was 0). */
unsigned prov_hello_port(const struct prov_hello *l);

void prov_hello_get_stats(const struct prov_hello *l, struct prov_hello_stats *out);

#endif
