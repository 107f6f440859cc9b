/*
 * HTTP and Digest for every device of the process: one libmicrohttpd daemon in
 * external epoll mode on the event loop, without a listening socket of its own.
 * net.c hands it each connection (MHD_add_connection): plain 16992 sockets as they
 * are, 16993 through a socket pair whose other end the TLS bridge pumps.
 *
 * For each request: discovery on 16992 without credentials (see net.h's table),
 * then Digest (RFC 2617, MD5, qop=auth) with the device's realm and users, checked
 * with libmicrohttpd's digest functions after two checks of our own: an empty
 * `response`, or a prefix of the right one, is refused and logged as the
 * CVE-2017-5689 attempt it is; a locked-out device refuses everything. Then POST to
 * a SOAP service path goes to handlers->soap, POST /wsman to handlers->wsman.
 * Every answer carries `Server: Intel(R) Active Management Technology <version>`.
 *
 * Nonces come from libmicrohttpd: valid for options.nonce_seconds of real time,
 * across connections, but bound to the method and path of the request that got the
 * challenge (libmicrohttpd 0.9.75), so a client that reuses one for another path
 * gets stale=true and one more round trip.
 */
#ifndef AMT_SIM_HTTP_H
#define AMT_SIM_HTTP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "device.h"
#include "loop.h"
#include "services.h"

/* The services behind the front; main.c plugs in sim_soap_handle and friends. */
struct sim_http_handlers {
    int (*soap)(const struct sim_request *req, struct sim_response *resp);
    int (*wsman)(const struct sim_request *req, struct sim_response *resp);
    bool (*is_soap_path)(const char *path);
};

struct sim_http_options {
    size_t header_memory;      /* per connection: request line and headers */
    unsigned max_connections;  /* for the whole process */
    unsigned idle_timeout;     /* real seconds a connection may idle */
    unsigned nonce_seconds;    /* real seconds a nonce stays valid */
    unsigned nonce_table_size; /* nonces whose count is tracked at once */
};

/* 32 KiB of headers, 4096 connections, 60 s idle, 300 s nonces, 4096 tracked. */
void sim_http_options_default(struct sim_http_options *o);

struct sim_http;

int sim_http_new(struct amt_loop *loop, const struct sim_http_handlers *handlers,
                 const struct sim_http_options *options, struct sim_http **out);
/* Connections still open are closed; sites must be freed first. */
void sim_http_free(struct sim_http *h);

/* One device's HTTP face: its connections, nonces and faults. */
struct sim_http_site;

int sim_http_site_new(struct sim_http *h, struct sim_device *dev,
                      struct sim_http_site **out);
/* Cuts the site's connections (the daemon closes them on its next run). */
void sim_http_site_free(struct sim_http_site *site);

/* Connections of the site that the daemon still holds. */
size_t sim_http_site_connections(const struct sim_http_site *site);

/* How a connection came in: its role decides what the requests may do. */
struct sim_http_conn_info {
    unsigned port; /* 16992 or 16993 */
    bool tls;
    bool chain_accepted; /* the client's provisioning chain passed OOB-3.5 */
    struct sockaddr_in peer;
};

/*
 * Hands fd (a connected stream socket) to the daemon; it owns fd from then on and
 * closes it even on failure.
 */
int sim_http_add_connection(struct sim_http_site *site, int fd,
                            const struct sim_http_conn_info *info);

/* Faults (see net.h). */
void sim_http_site_set_delay(struct sim_http_site *site, double seconds);
void sim_http_site_set_drop_after(struct sim_http_site *site, unsigned n);
void sim_http_site_reset_nonces(struct sim_http_site *site);

#endif
