/*
 * The provisioning server's side of the AMT protocols: one session per device, over
 * which every service point step and console operation sends SOAP (phase 1) and
 * WS-Management (phase 2) requests, on 16992 (HTTP) or 16993 (HTTPS). Transfers run
 * on the process's curl_loop, so a session never blocks and many devices are talked
 * to at once from one thread.
 *
 * TLS (OOB-3, IB-6). The client certificate is the provisioning certificate with its
 * whole chain, root included (AMT judges the chain and wants the root in it; a chain
 * file whose last certificate is not self-signed is refused at session creation).
 * The device's certificate is trusted in one of two ways:
 *   AMT_TRUST_PIN  before and during phase 1 the device serves a self-signed
 *                  certificate: the first handshake records its SHA-256 thumbprint
 *                  (or the caller gives one), and every later connection of the
 *                  session must present the same certificate, else the call fails
 *                  with "server-cert-changed" before a byte of HTTP is sent;
 *   AMT_TRUST_CA   after phase 1 the device serves a certificate from the issuing
 *                  CA: it must verify against ca_file and name expected_host (DNS
 *                  SAN or CN), although the connection is made to an address.
 * Profiles: AMT_TLS_MODERN is TLS 1.2 only, as AMT 12 and later speak it;
 * AMT_TLS_LEGACY is TLS 1.0 with AES128-SHA and AES256-SHA at OpenSSL security
 * level 0, on that connection only (AMT 2.x to 11, and the SHA-1 suites OOB-3.1
 * asks for); AMT_TLS_AUTO tries TLS 1.2 first and, when the device shows it is older
 * (its ServerHello picks TLS 1.0 or 1.1, or it answers the ClientHello with an
 * alert), makes one new connection with the legacy profile; the profile that
 * completes a handshake is kept for the rest of the session. Every connection makes
 * a full handshake (no TLS session resumption), so the device judges the chain and
 * the pin is checked each time.
 *
 * Digest (OOB-4, OOB-5, IB-7, IB-8). The first request of a session goes without
 * credentials; the device's 401 challenge is read with lib/digest.h (AMT writes
 * commas without spaces) and the very same request is sent again, on the same
 * connection, with an Authorization computed here for the first credential of the
 * list. On a refusal the next credential is tried, in the given order, each on a new
 * connection (AMT ties a credential to its connection), with the nonce of the last
 * challenge; when none is left the call fails with "digest-exhausted" and the session
 * sends nothing more until amt_session_set_credentials. A 401 with stale=true (the
 * device forgot its nonces) is answered with the same credential and the new nonce
 * and is not a refusal. The credential that worked is remembered: later calls send
 * it at once, with the next nonce count, on the kept-alive connection. Passwords
 * never reach libcurl, and never an event; they are wiped when the session goes.
 *
 * Calls are queued per session and sent one at a time. A call ends with one
 * callback, whose result says what happened; failures carry a reason word:
 *   port-16992-unreachable   the port refused, reset or never answered (PORT-BLOCKED):
 *   port-16993-unreachable   on 16993 no TLS record came back on the connection; on
 *                            16992 the connection never came up, or was reset
 *                            before any byte of an answer
 *   no-ipv4-address          the host name has no IPv4 address (NET-IPV4)
 *   tls-handshake-failed     with the alert or OpenSSL's reason in detail
 *   server-cert-changed      the pinned certificate was not the one presented
 *   digest-exhausted         no credential of the list was accepted
 *   digest-unsupported       a challenge without qop=auth, or not MD5
 *   timeout                  the operation timeout passed on a connection that was
 *                            up (16992) or had spoken TLS (16993)
 *   http-<status>            an HTTP status that carries no SOAP or WS-Man reply
 *   soap-fault, wsman-fault  the device answered with a fault (fields in the result)
 *   malformed-reply          a reply that is not the expected XML
 *   reply-too-large          a reply or its headers beyond AMT_CLIENT_*_MAX
 *   connection-lost          the connection failed after the device had answered
 *   client-error,            our side could not send the request at all
 *   client-certificate-unusable
 * The operation timeout covers a call from its first byte to its result, challenge
 * and credential retries included, and runs on the loop's clock in virtual seconds
 * (like amt-sim's own timeouts, so that both ends keep their proportions under
 * --time-scale, and tests can pass it with clock_advance). At a large time scale,
 * set a larger timeout.
 *
 * Events go to the client's log with actor SP and the session's device: OOB-3.1
 * (ClientHello: suites, SHA-1 suite offered), OOB-3.2 (server certificate: subject,
 * pinned or verified; fail server-cert-changed / server-cert-untrusted /
 * server-host-mismatch), OOB-3.3 (channel up: protocol, cipher), OOB-3.4 (our chain
 * on the wire: length, root included), OOB-3 (handshake failed: reason, alert,
 * error; info when AUTO falls back), OOB-4.1 (request without credentials, logged
 * when curl is about to send it on a connection that is up), OOB-4.2
 * (401: realm, stale), OOB-4.3 (user), OOB-4.4 (ok or fail, user), OOB-5 (info:
 * moving to credential n of m; fail digest-exhausted), PORT-16992 / PORT-16993 fail
 * (port-<n>-unreachable), NET-IPV4 fail. A session made with in_band uses IB-6.x,
 * IB-7.x and IB-8 instead of OOB-3.x, OOB-4.x and OOB-5.
 *
 * Everything runs on the loop's thread. Free every session before its client, and
 * the client before the curl_loop.
 */
#ifndef AMT_AMTCLIENT_H
#define AMT_AMTCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "soap.h"
#include "thumbprint.h"
#include "wsman.h"

struct amt_loop;
struct curl_loop;
struct evlog;

#define AMT_CLIENT_PORT_HTTP 16992
#define AMT_CLIENT_PORT_HTTPS 16993
/* Virtual seconds; what AMT's clients use. */
#define AMT_CLIENT_TIMEOUT_DEFAULT 60.0
/* Caps on what a device may send back for one request. */
#define AMT_CLIENT_REPLY_MAX (1024u * 1024u)
#define AMT_CLIENT_HEADERS_MAX (16u * 1024u)
#define AMT_CLIENT_CREDENTIALS_MAX 16
#define AMT_CLIENT_PASSWORD_MAX 255
/* New challenges with stale=true answered within one call before giving up. */
#define AMT_CLIENT_STALE_RETRIES 2
#define AMT_CLIENT_REASON_MAX 32
#define AMT_CLIENT_DETAIL_MAX 256

struct amt_client;
struct amt_session;

/* The loop, curl_loop and event log (NULL: no events) must outlive the client. */
int amt_client_new(struct amt_loop *loop, struct curl_loop *cl, struct evlog *events,
                   struct amt_client **out);
/* NULL is fine; every session must already be freed. */
void amt_client_free(struct amt_client *c);

enum amt_tls_profile {
    AMT_TLS_AUTO = 0,
    AMT_TLS_MODERN, /* TLS 1.2 */
    AMT_TLS_LEGACY, /* TLS 1.0, AES-CBC-SHA, security level 0 */
};

/* "auto", "tls1.2", "legacy"; NULL for another value. */
const char *amt_tls_profile_name(enum amt_tls_profile profile);

enum amt_server_trust {
    AMT_TRUST_PIN = 0,
    AMT_TRUST_CA,
};

struct amt_credential {
    const char *user;
    const char *password;
};

/* What a session is made from; the strings are copied. */
struct amt_session_config {
    const char *device; /* UUID for the events; NULL: none */
    const char *host;   /* IPv4 address or DNS name; IPv6 is refused */
    unsigned port;      /* AMT_CLIENT_PORT_HTTP or AMT_CLIENT_PORT_HTTPS */
    /* TCP port actually connected to; 0: port. Tests move it as amt-sim does; events
     * and WS-Man To keep the AMT port. */
    unsigned connect_port;
    bool in_band;   /* IB-6..IB-8 event ids */
    double timeout; /* per call, virtual seconds; 0: AMT_CLIENT_TIMEOUT_DEFAULT */
    /* HTTPS only */
    enum amt_tls_profile tls_profile;
    const char *client_chain; /* PEM: leaf, issuers, root; NULL: no certificate */
    const char *client_key;   /* PEM private key of the leaf */
    enum amt_server_trust trust;
    const struct amt_thumbprint *pin; /* AMT_TRUST_PIN: expected from the start */
    const char *ca_file;              /* AMT_TRUST_CA: PEM issuing CA and root */
    const char *expected_host;        /* AMT_TRUST_CA: name the device must carry */
    /* tried in this order; at most AMT_CLIENT_CREDENTIALS_MAX */
    const struct amt_credential *credentials;
    size_t n_credentials;
};

/*
 * Errors: AMT_ERR_NET_IPV6 for an IPv6 address (a NET-IPV4 fail event too),
 * AMT_ERR_UUID_FORMAT for a device that is not a UUID,
 * AMT_ERR_INVALID_ARGUMENT for another bad setting (a host that is no address nor
 * DNS name, another port, a user name with '"' or a control character, a missing
 * ca_file or expected_host with AMT_TRUST_CA), AMT_ERR_TOO_LARGE for too many or too
 * long credentials, AMT_ERR_CERT_LOAD / AMT_ERR_SYSTEM when the chain or key cannot
 * be read, AMT_ERR_CERT_REFUSED when the key does not match the leaf or the chain
 * lacks its root, AMT_ERR_CLIENT_CURL when libcurl lacks what is needed (OpenSSL).
 */
int amt_session_new(struct amt_client *c, const struct amt_session_config *cfg,
                    struct amt_session **out);

/*
 * Drops queued calls and the one in flight without their callbacks, closes the
 * connection and wipes the passwords. NULL is fine; safe from the session's own
 * callback (the session then goes when the callback returns).
 */
void amt_session_free(struct amt_session *s);

/* The outcome of one call; valid during the callback only. */
struct amt_result {
    int err;                            /* 0, or an AMT_ERR_ code */
    char reason[AMT_CLIENT_REASON_MAX]; /* "" on success; see the top */
    char detail[AMT_CLIENT_DETAIL_MAX]; /* for people: alert, OpenSSL, ... */
    long http_status;                   /* 0 when no HTTP answer came */
    int credential;                     /* index accepted in the list; -1 */
    char tls_protocol[16];              /* "TLSv1", "TLSv1.2"; "" on 16992 */
    char tls_cipher[64];
    /* the reply's document (NULL if none). The result's; a callback may keep it by
     * setting this to NULL, and must then xmlFreeDoc it itself. */
    xmlDocPtr doc;
    /* amt_session_soap: the reply (status = StatusCode), or the fault */
    struct soap_reply soap;
    /* amt_session_wsman: the reply (return_value for methods), or the fault */
    struct wsman_reply wsman;
};

typedef void (*amt_result_cb)(struct amt_session *s, struct amt_result *res, void *arg);

/*
 * Queues a SOAP call of method in service (e.g. "SecurityAdministration": posted to
 * /SecurityAdministrationService); ns is the service namespace the reply must be in
 * (NULL: soap_service_ns(service, NULL)). The message is copied. The result's soap
 * holds the <method>Response read by position (status first).
 */
int amt_session_soap(struct amt_session *s, const char *service, const char *ns,
                     const char *method, const struct soap_msg *msg, amt_result_cb cb,
                     void *arg);

/* Queues a WS-Management request (posted to /wsman); its reply must RelatesTo it. */
int amt_session_wsman(struct amt_session *s, const struct wsman_msg *msg,
                      amt_result_cb cb, void *arg);

/* "http(s)://host:port/wsman" with the AMT port: the To of this session's requests. */
int amt_session_wsman_to(const struct amt_session *s, char *buf, size_t size);

/*
 * Replaces the credential list (after the admin password was set, OOB-7.4): the
 * remembered credential is forgotten and the next call starts over on a new
 * connection with a request without credentials. AMT_ERR_INVALID_ARGUMENT while a
 * call is in flight (call it from a callback), AMT_ERR_TOO_LARGE as above.
 */
int amt_session_set_credentials(struct amt_session *s, const struct amt_credential *creds,
                                size_t n);

/* Closes the kept-alive connection: the next call opens a new one. */
void amt_session_disconnect(struct amt_session *s);

/* The index of the credential that worked; -1 before one did. */
int amt_session_credential(const struct amt_session *s);

/* The pinned thumbprint (AMT_TRUST_PIN), once there is one. */
bool amt_session_pin(const struct amt_session *s, struct amt_thumbprint *out);

/* The profile of the last completed handshake; AMT_TLS_AUTO before any. */
enum amt_tls_profile amt_session_tls_profile(const struct amt_session *s);

/* Calls queued or in flight. */
size_t amt_session_pending(const struct amt_session *s);

#endif
