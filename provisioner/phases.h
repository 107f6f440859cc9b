/*
 * What the engine's files share about a device in flight: engine.c runs a device
 * from its start through phase 1 and its end, phase2.c runs the WS-Management part.
 */
#ifndef AMT_PROV_PHASES_H
#define AMT_PROV_PHASES_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "amtclient.h"
#include "db.h"
#include "engine.h"
#include "evlog.h"
#include "password.h"
#include "uuid.h"
#include "wsman.h"

#define REALM_MAX 64

/* The requests of a device, in the order they are sent. */
enum step {
    STEP_VERSION,
    STEP_OTP, /* in band only */
    STEP_TIME,
    STEP_HOST,
    STEP_DOMAIN,
    STEP_TLS_CERT,
    STEP_TLS_ON,
    STEP_REALM,
    STEP_ADMIN,
    STEP_MEBX,
    STEP_COMMIT,
    STEP_PHASE2,
    STEP_DONE,
};

struct device {
    struct prov_engine *e;
    struct device *next;
    char uuid[UUID_TEXT_SIZE];
    char peer[INET_ADDRSTRLEN];
    bool in_band;
    bool mebx_factory;
    bool mebx_sent;
    enum step step;
    struct amt_session *session;
    struct site_device row;
    char version[SITE_AMT_VERSION_MAX + 1];
    char realm[REALM_MAX];
    char admin_user[PASSWORD_USER_MAX_LEN + 1];
    char password[PASSWORD_MAX_LEN + 1];
    struct site_ca_cert *cert;
    /* phase 2, in order; OOB-8.1: handles found, the next to remove, to add */
    enum {
        ACL_LIST,
        ACL_REMOVE,
        ACL_ADD,
        FEAT_PING,
        FEAT_WEBUI,
        FEAT_REDIR,
        SCHEME_ENUM,
        SCHEME_PULL,
        SCHEME_SET,
        AUDIT_ON,
        P2_END,
    } acl;
    char context[WSMAN_ID_MAX];
    unsigned scheme; /* wanted; 0: the device's own */
    uint32_t handles[64];
    size_t n_handles, i_handle, i_acl;
    bool p2_seen;
    bool audit_done;
};

struct prov_engine {
    struct amt_loop *loop;
    struct amt_client *client;
    struct site_db *db;
    struct dir *dir;
    struct site_ca *ca;
    const struct prov_config *cfg;
    struct evlog *ev;
    struct prov_engine_options o;
    struct device *devices;
    unsigned count;
};

void engine_emitted(const struct device *d, const char *id, int r);
/* An SP event about d; a refused one is said on stderr rather than lost unseen. */
#define emit(d, id, result, ...)                                                         \
    engine_emitted((d), (id),                                                            \
                   evlog_emit((d)->e->ev, engine_now(d), EVLOG_ACTOR_SP, (d)->uuid,      \
                              (id), (result), __VA_ARGS__))

double engine_now(const struct device *d);
/* The ID of a step, its in-band twin when the device came in band. */
const char *engine_id(const struct device *d, const char *oob, const char *ib);
const char *engine_step_id(const struct device *d, unsigned s);
void engine_state(struct device *d, enum site_state st, const char *step,
                  const char *reason);
/* The device leaves the engine; d is freed. */
void engine_finish(struct device *d, int verdict, const char *step, const char *reason);
void engine_fail(struct device *d, const char *step, const char *reason, int verdict);
int engine_ha1_b64(const char *user, const char *realm, const char *password, char *out,
                   size_t size);
void engine_send_step(struct device *d);
void engine_on_reply(struct amt_session *s, struct amt_result *res, void *arg);

/* phase2.c: the next WS-Management request of OOB-8, and what its reply means. */
int engine_send_phase2(struct device *d);
void engine_phase2_reply(struct device *d, struct amt_result *res);

#endif
