/*
 * One simulated AMT device: its firmware state machine and settings, kept in its
 * flash store. Every setter commits to flash before it returns, so what a client was
 * told is done survives a kill; every change is an event in the device's log.
 *
 * States (AMT's provisioning states):
 *   setup            factory fresh or fully unprovisioned: sends hellos, serves its
 *                    self-signed certificate on 16993 and accepts a provisioning
 *                    session from a server whose chain passes OOB-3.5;
 *   in-provisioning  a provisioning session has changed a setting but not
 *                    committed: still sends hellos, still accepts provisioning;
 *   provisioned      after CommitChanges (OOB-7.6): operational, no hellos.
 * Full unprovision returns to setup and clears every setting; partial unprovision
 * returns to setup but keeps the network settings (host and domain name) and the
 * MEBx password, as AMT does.
 */
#ifndef AMT_SIM_DEVICE_H
#define AMT_SIM_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flash.h"
#include "profile.h"
#include "thumbprint.h"
#include "uuid.h"

struct evlog;
struct amt_clock;
struct keypool;

/* What the devices of one process share; any member may be NULL (no events, real
 * time, keys made on demand). */
struct sim_env {
    struct evlog *events;
    struct amt_clock *clock;
    struct keypool *keys;
};

enum sim_state {
    SIM_STATE_SETUP,
    SIM_STATE_IN_PROVISIONING,
    SIM_STATE_PROVISIONED,
};

/* The managed computer's power, as a real machine moves through it. */
enum sim_power {
    SIM_POWER_ON,  /* S0 */
    SIM_POWER_OFF, /* S5, soft off: AMT still runs */
};

/* AMT user rights (realms of the ACL), as bits. */
enum sim_right {
    SIM_RIGHT_ADMIN = 1u << 0,
    SIM_RIGHT_REMOTE_CONTROL = 1u << 1,
    SIM_RIGHT_REDIRECTION = 1u << 2,
    SIM_RIGHT_GENERAL_INFO = 1u << 3,
    SIM_RIGHT_NETWORK = 1u << 4,
    SIM_RIGHT_EVENT_LOG = 1u << 5,
};

#define SIM_ROOTS_MAX 32
#define SIM_ACL_MAX 16
#define SIM_NAME_MAX 255
#define SIM_OTP_MAX 32

enum sim_feature_switch {
    SIM_SWITCH_PING,   /* answer to ping */
    SIM_SWITCH_WEB_UI, /* web console */
    SIM_SWITCH_SOL,    /* Serial over LAN */
    SIM_SWITCH_IDER,   /* IDE redirection */
    SIM_SWITCH_REDIRECTION_LISTENER,
    SIM_SWITCH_KERBEROS,
    SIM_SWITCH_AUDIT,
    SIM_SWITCH_COUNT,
};

/* Everything that decides a device at start; the caller keeps ownership. */
struct sim_device_config {
    struct amt_uuid uuid;
    struct sim_profile profile;
    char listen[16];         /* its IPv4 address */
    const char *flash_dir;   /* its flash folder */
    const char *dhcp_domain; /* what DHCP option 15 gives; NULL or "" = none */
    struct amt_thumbprint roots[SIM_ROOTS_MAX]; /* firmware-embedded root hashes */
    size_t n_roots;
    const char *provision_server; /* HOST[:PORT] as set in MEBx, or NULL */
    /* the simulated network's DNS: a hosts(5) file, so that scenarios decide what
     * resolves without any query leaving the machine; NULL = the system resolver */
    const char *hosts_file;
    /* --state provisioned: start as if provisioned with this password and TLS */
    bool start_provisioned;
    const char *admin_password;
    bool tls;
    /* digest lockout: failures before lockout, and its length in virtual seconds */
    unsigned lockout_failures;
    double lockout_seconds;
};

struct sim_device;

/*
 * Opens a device from its flash (made empty = factory if absent). A corrupt store
 * is an error (AMT_ERR_FLASH_CORRUPT) with a sentence in errbuf, never a reset.
 * A device that has no TLS key yet makes its self-signed certificate (a key from
 * env->keys). cfg and env must outlive the device.
 */
int sim_device_open(const struct sim_device_config *cfg, const struct sim_env *env,
                    struct sim_device **out, char *errbuf, size_t errlen);
void sim_device_free(struct sim_device *dev);

/* Emulates a power loss of the firmware: volatile state is lost, flash is kept. */
int sim_device_reboot(struct sim_device *dev);

const struct sim_device_config *sim_device_config(const struct sim_device *dev);
const struct sim_profile *sim_device_profile(const struct sim_device *dev);
const char *sim_device_uuid_text(const struct sim_device *dev);
struct sim_flash *sim_device_flash(struct sim_device *dev);
struct evlog *sim_device_events(const struct sim_device *dev);
double sim_device_now(const struct sim_device *dev);

enum sim_state sim_device_state(const struct sim_device *dev);

/* Called after every state change (the hello sender restarts on a return to setup). */
typedef void (*sim_state_cb)(struct sim_device *dev, enum sim_state from,
                             enum sim_state to, void *arg);
void sim_device_on_state(struct sim_device *dev, sim_state_cb cb, void *arg);
const char *sim_state_name(enum sim_state s); /* "setup", "in-provisioning", ... */

/* The digest realm, fixed for the device's life (form from its profile). */
const char *sim_device_realm(const struct sim_device *dev);

/* The domain suffix OOB-3.5 checks against: configured one, else DHCP's; "" = none. */
const char *sim_device_pki_suffix(const struct sim_device *dev);

/* The hello's "admin credentials set" flag: the MEBx password was changed. */
bool sim_device_mebx_password_changed(const struct sim_device *dev);

/* --- authentication (OOB-4) --- */

/*
 * The stored HA1 (MD5 of user:realm:password, 16 bytes) of a user the device knows
 * and that user's rights. AMT_ERR_NOT_FOUND for an unknown user. In setup state the
 * built-in admin account has the factory password "admin".
 */
int sim_device_user_ha1(const struct sim_device *dev, const char *user,
                        unsigned char ha1[16], unsigned *rights);

/* Lockout bookkeeping (volatile). */
bool sim_device_locked_out(struct sim_device *dev);
void sim_device_auth_failed(struct sim_device *dev);
void sim_device_auth_succeeded(struct sim_device *dev);

/* --- phase 1 settings (OOB-7); each commits to flash and logs its event --- */

int sim_device_set_time(struct sim_device *dev, int64_t unix_seconds);
int64_t sim_device_time(const struct sim_device *dev);
int sim_device_set_host_name(struct sim_device *dev, const char *name);
int sim_device_set_domain_name(struct sim_device *dev, const char *name);
const char *sim_device_host_name(const struct sim_device *dev);
const char *sim_device_domain_name(const struct sim_device *dev);

/* The TLS key and certificate the device serves (PEM). */
const char *sim_device_tls_key_pem(const struct sim_device *dev);
const char *sim_device_tls_cert_pem(const struct sim_device *dev);
int sim_device_set_tls_credentials(struct sim_device *dev, const char *key_pem,
                                   const char *cert_pem);
int sim_device_set_tls_enabled(struct sim_device *dev, bool on);
bool sim_device_tls_enabled(const struct sim_device *dev);

/* The password is checked against the AMT policy; only its HA1 is stored. */
int sim_device_set_admin_password(struct sim_device *dev, const char *user,
                                  const char *password);
int sim_device_set_mebx_password(struct sim_device *dev, const char *password);

/*
 * The same as the protocol carries it: SetAdminAclEntryEx and AddUserAclEntryEx send
 * DigestPassword = MD5(user:realm:password), so the firmware never sees the
 * password and cannot check its policy (the sender must).
 */
/* True once provisioning (or --state provisioned) has set the admin password. */
bool sim_device_admin_password_set(const struct sim_device *dev);

int sim_device_set_admin_ha1(struct sim_device *dev, const char *user,
                             const unsigned char ha1[16]);
int sim_device_acl_add_ha1(struct sim_device *dev, const char *user,
                           const unsigned char ha1[16], unsigned rights);

/* The in-band OTP (IB-2): set over the host interface, read over the session. */
int sim_device_set_otp(struct sim_device *dev, const char *otp);
const char *sim_device_otp(const struct sim_device *dev);

/* OOB-7.6: settings saved, the firmware enters operational mode. */
int sim_device_commit(struct sim_device *dev);

/* Back to setup: everything cleared (full) or network settings kept (partial). */
int sim_device_unprovision(struct sim_device *dev, bool partial);

/* --- phase 2 (OOB-8) ---
 * Settings that only the WS-Management services know (wireless and 802.1X profiles,
 * certificates, audit policy, ...) live in the flash under SIM_FLASH_P2_PREFIX;
 * both unprovisions clear them. */
#define SIM_FLASH_P2_PREFIX "p2."

int sim_device_acl_clear(struct sim_device *dev);
int sim_device_acl_add(struct sim_device *dev, const char *user, const char *password,
                       unsigned rights);
/* Removes entry i; the ones after it move up one place. */
int sim_device_acl_remove(struct sim_device *dev, size_t i);
size_t sim_device_acl_count(const struct sim_device *dev);
/* The user name of ACL entry i and its rights; NULL past the end. */
const char *sim_device_acl_user(const struct sim_device *dev, size_t i, unsigned *rights);

int sim_device_set_switch(struct sim_device *dev, enum sim_feature_switch sw, bool on);
bool sim_device_switch(const struct sim_device *dev, enum sim_feature_switch sw);
const char *sim_switch_name(enum sim_feature_switch sw);

/* Power schemes are numbered as the catalogue's "scheme 5" (always on but power loss). */
int sim_device_set_power_scheme(struct sim_device *dev, unsigned scheme);
unsigned sim_device_power_scheme(const struct sim_device *dev);

/* --- the managed computer's power (RemoteControl, CIM_PowerManagementService) --- */

enum sim_power sim_device_power(const struct sim_device *dev);
enum sim_power_action {
    SIM_POWER_UP,
    SIM_POWER_DOWN,
    SIM_POWER_RESET,
    SIM_POWER_CYCLE,
};
/* AMT_ERR_INVALID_ARGUMENT when the action does not apply to the power state
 * (power down a machine that is off; reset one that is off). */
int sim_device_power_action(struct sim_device *dev, enum sim_power_action action);

#endif
