/*
 * The device's TLS server, with OpenSSL only: one SSL_CTX per device made from the
 * key and certificate in its flash (made again when the certificate changes), the
 * non-blocking handshake on the event loop, and the bridge that carries an
 * established session to a plain socket for the HTTP daemon.
 *
 * Protocol by firmware profile: SIM_TLS_LEGACY is TLS 1.0 only, RSA key exchange
 * with AES128-SHA or AES256-SHA, OpenSSL security level 0 on that context only;
 * SIM_TLS_1_2 is TLS 1.2 only (AMT 12 and later do not speak 1.3).
 *
 * A provisioning handshake (16993 in setup or in-provisioning state) requires the
 * client's certificate and judges the chain with certpol_check_chain (OOB-3.5):
 * OpenSSL's own purpose check would refuse the provisioning certificates, which
 * carry serverAuth only. A refused chain aborts the handshake with an alert.
 * Events: OOB-3.2 server hello, OOB-3.4 chain received, OOB-3.5 verdict, OOB-3.3
 * channel (IB-6.n in band); other handshakes log X-sim.tls.
 */
#ifndef AMT_SIM_TLS_H
#define AMT_SIM_TLS_H

#include <netinet/in.h>
#include <stdbool.h>

#include <openssl/ssl.h>

#include "device.h"
#include "loop.h"

enum sim_tls_mode {
    SIM_TLS_MODE_SERVICE,      /* the device's certificate, no client certificate */
    SIM_TLS_MODE_PROVISIONING, /* client chain required and judged (OOB-3) */
};

struct sim_tls_server;

/* AMT_ERR_NET_TLS_CONTEXT when the device's key and certificate do not load. */
int sim_tls_server_new(struct sim_device *dev, struct sim_tls_server **out);
void sim_tls_server_free(struct sim_tls_server *srv);

/* Makes the context again when the device's certificate is not the one it was
 * made from; net.c calls it before each handshake. */
int sim_tls_server_refresh(struct sim_tls_server *srv);

/* How many times the context was made (1 after new), for tests. */
unsigned sim_tls_server_generation(const struct sim_tls_server *srv);

struct sim_tls_handshake;

/* Called once: result 0 (established), or the error that ended the handshake
 * (AMT_ERR_CERT_REFUSED, AMT_ERR_TIMEOUT, AMT_ERR_CRYPTO, AMT_ERR_EOF). The
 * callee frees hs, from inside the callback if it likes. */
typedef void (*sim_tls_done_cb)(struct sim_tls_handshake *hs, int result, void *arg);

/*
 * Starts a server handshake on fd (non-blocking, connected; owned by the
 * handshake from then on). port is the AMT port number for events; timeout in
 * virtual seconds.
 */
int sim_tls_handshake_start(struct sim_tls_server *srv, struct amt_loop *loop, int fd,
                            const struct sockaddr_in *peer, unsigned port,
                            enum sim_tls_mode mode, double timeout, sim_tls_done_cb cb,
                            void *arg, struct sim_tls_handshake **out);

/* After success: hands over the session and its socket (SSL_free leaves fd open). */
SSL *sim_tls_handshake_take(struct sim_tls_handshake *hs, int *fd);
bool sim_tls_handshake_chain_accepted(const struct sim_tls_handshake *hs);
/* Aborts a handshake still running; closes what was not taken. NULL is fine. */
void sim_tls_handshake_free(struct sim_tls_handshake *hs);

/*
 * Carries an established session to a plain socket: *app_fd is the end to give
 * to the HTTP daemon (the caller owns it). Bytes are pumped both ways through two
 * 16 KiB buffers; the end of one side is passed to the other (close_notify,
 * shutdown). When both are done, or on an error, the bridge closes its socket
 * and the session, calls closed_cb (may be NULL) and frees itself. On failure to
 * start, ssl and fd stay the caller's.
 */
struct sim_tls_bridge;
typedef void (*sim_tls_bridge_closed_cb)(void *arg);

int sim_tls_bridge_new(struct amt_loop *loop, SSL *ssl, int fd,
                       sim_tls_bridge_closed_cb closed_cb, void *arg, int *app_fd,
                       struct sim_tls_bridge **out);
/* Tears a bridge down without calling closed_cb. NULL is fine. */
void sim_tls_bridge_free(struct sim_tls_bridge *b);

#endif
