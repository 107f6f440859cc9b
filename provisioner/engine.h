/*
 * The service point's provisioning engine: what happens to a device once its hello
 * was accepted (OOB-3 to OOB-9). One amt_session per device, one request in flight
 * per device, many devices at once on the process's loop.
 *
 * Per device, each step an SP event with its catalogue ID, and the site database's
 * state and step kept up to date:
 *   OOB-3..5     TLS with the provisioning chain, pinning the device's self-signed
 *                certificate, digest with the configured credential list; the first
 *                call is GetCoreVersion;
 *   AMT-VERSION  the version against [sp] amt-version-min/max: out of range fails
 *                before anything is changed on the device;
 *   OOB-6        the computer account in the directory;
 *   OOB-7.1..7.6 time, host and domain name, the CA-issued TLS certificate and TLS on,
 *                the generated admin password, the MEBx password, CommitChanges;
 *   OOB-8        over WS-Management, on a session that trusts the issuing CA, names
 *                the host and uses the new admin credential (opened right after
 *                SetAdminAclEntryEx, since the device then serves the CA-issued
 *                certificate and knows the admin by the new password only):
 *                8.1 every ACL entry removed, the configured ones added; 8.2 ping,
 *                web UI, SOL and IDE-R (not in band); 8.3 the power scheme (SP1: 5,
 *                SP2: the configured one; left alone when already current);
 *                AMT-AUDIT on when configured (skipped before AMT 4.0); 8.4 skipped
 *                with its reason (SP1 mode, AMT before 4.0, or not implemented);
 *   OOB-9        state provisioned with the AMT version.
 * In band (IB-*): after the digest, IB-4 compares the SHA-256 of the OTP the device
 * reports with the site's hash and stops on a mismatch before anything changes.
 * A failure sets the device's state to failed with the step and a reason word (the
 * client's: digest-exhausted, port-16993-unreachable, tls-handshake-failed, ...;
 * amt-status-N for a refused SOAP call, amt-return-N for a WS-Man method), sends
 * nothing more, and ends with an SP fail event.
 *
 * Passwords are never lost: each is stored pending (site_db_password_pending) before
 * the request that sets it is sent, and confirmed only once the device committed. A
 * reply lost after sending leaves the pending value for recovery.
 *
 * MEBx rule (OOB-7.5): the MEBx password is set when the configuration has one and
 * the hello says the MEBx password is still the factory default
 * (admin_credentials_set false); a device whose owner already changed it keeps that
 * password (a skip event says so).
 */
#ifndef AMT_PROV_ENGINE_H
#define AMT_PROV_ENGINE_H

#include <netinet/in.h>
#include <stdbool.h>

struct amt_client;
struct amt_loop;
struct dir;
struct evlog;
struct hello;
struct prov_config;
struct site_ca;
struct site_db;
struct prov_engine;

/* verdict 0 provisioned, else an AMT_ERR_ code; reason a kebab-case word ("" on 0). */
typedef void (*prov_engine_done_cb)(void *arg, const char *uuid, int verdict,
                                    const char *step, const char *reason);

struct prov_engine_options {
    /* TCP ports actually connected to; 0: the AMT port (tests move them). */
    unsigned connect_port_https;
    /* PEM of the issuing CA and root, trusted after phase 1; NULL: the site's chain. */
    const char *ca_file;
    double timeout; /* per call, virtual seconds; 0: the client's default */
    prov_engine_done_cb done;
    void *done_arg;
    /* Called before each request goes out (step: catalogue ID, method: SOAP or
     * WS-Man method): where tests inject faults at a chosen step. May be NULL. */
    void (*before_send)(void *arg, const char *uuid, const char *step,
                        const char *method);
};

/* Everything given must outlive the engine; evlog may be NULL. */
int prov_engine_new(struct amt_loop *loop, struct amt_client *client, struct site_db *db,
                    struct dir *dir, struct site_ca *ca, const struct prov_config *cfg,
                    struct evlog *evlog, struct prov_engine **out);
/* Drops every device in flight without its callback. NULL is fine. */
void prov_engine_free(struct prov_engine *e);
void prov_engine_set_options(struct prov_engine *e, const struct prov_engine_options *o);

/*
 * Begins provisioning uuid at peer (its IPv4 address); h is the hello (may be NULL:
 * treated as a factory MEBx password). in_band selects the IB-* event IDs.
 * AMT_ERR_ENGINE_IN_FLIGHT when the device is in flight already, AMT_ERR_NOT_FOUND
 * when it was not imported, or amt_session_new's error. Every later outcome comes
 * through the done callback.
 */
int prov_engine_start(struct prov_engine *e, const char *uuid,
                      const struct sockaddr_in *peer, const struct hello *h,
                      bool in_band);
/*
 * For a device with a pending admin password (a reply lost after it was sent, or the
 * process stopped): a session tries the pending credential, then the current one,
 * then the configured list, with GetCoreVersion. The pending password is confirmed
 * when it works and discarded when another one does; when none works it stays.
 * The device counts as in flight meanwhile; done reports "recover" as the step and
 * "pending-confirmed", "pending-discarded" or the client's reason (verdict not 0).
 * AMT_ERR_SITE_NO_PENDING when there is nothing to recover. The device's
 * certificate is taken as first presented (it may be the self-signed one or the
 * CA-issued one, depending on where the run stopped): only credentials are probed.
 */
int prov_engine_recover(struct prov_engine *e, const char *uuid,
                        const struct sockaddr_in *peer);
bool prov_engine_in_flight(const struct prov_engine *e, const char *uuid);

struct amt_uuid;
/*
 * The hello listener's hooks (prov_hello_hooks.start and .in_flight) with the
 * engine as arg: a hello that reaches start is out of band. A start that fails is
 * logged; the device's next hello tries again.
 */
void prov_engine_hello_start(void *engine, const struct amt_uuid *uuid,
                             const struct sockaddr_in *peer, const struct hello *h);
int prov_engine_hello_in_flight(void *engine, const struct amt_uuid *uuid, bool *yes);
/* Devices in flight. */
unsigned prov_engine_count(const struct prov_engine *e);

#endif
