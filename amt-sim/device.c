#include "device.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "clock.h"
#include "digest.h"
#include "err.h"
#include "evlog.h"
#include "keypool.h"
#include "password.h"

/*
 * Flash keys. Secrets are kept as what the firmware needs to check them, not as
 * themselves: HA1 = MD5(user:realm:password) for every digest account (the MEBx
 * password doubles as the admin password until provisioning sets one). The OTP
 * must be read back by the provisioning server, so it is kept as given.
 */
#define K_STATE "state"
#define K_REALM "realm"
#define K_MEBX_CHANGED "mebx.changed"
#define K_MEBX_HA1 "mebx.ha1"
#define K_ADMIN_USER "admin.user"
#define K_ADMIN_HA1 "admin.ha1"
#define K_TLS_KEY "tls.key"
#define K_TLS_CERT "tls.cert"
#define K_TLS_ENABLED "tls.enabled"
#define K_HOST "net.host-name"
#define K_DOMAIN "net.domain-name"
#define K_TIME_OFFSET "time.offset"
#define K_OTP "otp"
#define K_POWER_SCHEME "power.scheme"
#define K_ACL_PREFIX "acl."
#define K_SWITCH_PREFIX "switch."

#define FACTORY_PASSWORD "admin"
#define DEFAULT_ADMIN_USER "admin"
#define DEFAULT_POWER_SCHEME 1

struct sim_device {
    const struct sim_device_config *cfg;
    const struct sim_env *env;
    struct sim_flash *flash;
    char uuid_text[UUID_TEXT_SIZE];
    /* volatile: lost on reboot */
    enum sim_power power;
    unsigned auth_failures;
    double locked_until;
    sim_state_cb on_state;
    void *on_state_arg;
};

static const char *const switch_names[SIM_SWITCH_COUNT] = {
    [SIM_SWITCH_PING] = "ping",
    [SIM_SWITCH_WEB_UI] = "web-ui",
    [SIM_SWITCH_SOL] = "sol",
    [SIM_SWITCH_IDER] = "ider",
    [SIM_SWITCH_REDIRECTION_LISTENER] = "redirection-listener",
    [SIM_SWITCH_KERBEROS] = "kerberos",
    [SIM_SWITCH_AUDIT] = "audit",
};

double
sim_device_now(const struct sim_device *dev)
{
    if (dev->env != NULL && dev->env->clock != NULL)
        return clock_now(dev->env->clock);
    return 0.0;
}

struct evlog *
sim_device_events(const struct sim_device *dev)
{
    return dev->env != NULL ? dev->env->events : NULL;
}

/*
 * A session that began with an OTP set over the host interface is an in-band one:
 * its steps carry the IB- names of the same steps (catalogue IB-10, IB-11).
 */
static const char *
step_id(const struct sim_device *dev, const char *oob_id)
{
    static const struct {
        const char *oob, *ib;
    } map[] = {
        {"OOB-7.1", "IB-10.1"}, {"OOB-7.2", "IB-10.2"}, {"OOB-7.3", "IB-10.3"},
        {"OOB-7.4", "IB-10.4"}, {"OOB-7.5", "IB-10.5"}, {"OOB-7.6", "IB-10.6"},
        {"OOB-8.1", "IB-11.1"}, {"OOB-8.3", "IB-11.2"}, {"OOB-8.4", "IB-11.3"},
    };

    if (sim_flash_get(dev->flash, K_OTP) == NULL)
        return oob_id;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].oob, oob_id) == 0)
            return map[i].ib;
    return oob_id;
}

/* An event the log refuses is a bug in the caller: say so on stderr. */
static void
event_refused(const char *id, int r)
{
    fprintf(stderr, "amt-sim: event %s not logged: %s\n", id, amt_strerror(r));
}

#define DEV_EVENT(dev, id, result, ...)                                                  \
    do {                                                                                 \
        const char *ev_id_ = step_id((dev), (id));                                       \
        int ev_r_ =                                                                      \
            evlog_emit(sim_device_events(dev), sim_device_now(dev), EVLOG_ACTOR_AMT,     \
                       (dev)->uuid_text, ev_id_, (result), __VA_ARGS__);                 \
        if (ev_r_ != 0)                                                                  \
            event_refused(ev_id_, ev_r_);                                                \
    } while (0)

static void
hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int
hex_decode16(const char *text, unsigned char out[16])
{
    if (text == NULL || strlen(text) != 32)
        return AMT_ERR_FLASH_CORRUPT;
    for (int i = 0; i < 16; i++) {
        unsigned v;

        if (sscanf(text + 2 * i, "%2x", &v) != 1)
            return AMT_ERR_FLASH_CORRUPT;
        out[i] = (unsigned char)v;
    }
    return 0;
}

/* HA1 = MD5(user ":" realm ":" password), as hex; the input is wiped. */
static int
compute_ha1(const char *user, const char *realm, const char *password, char out[33])
{
    size_t len = strlen(user) + strlen(realm) + strlen(password) + 3;
    char *buf = malloc(len);
    unsigned char md[16];
    unsigned int mdlen = 0;
    int r = AMT_ERR_CRYPTO;

    if (buf == NULL)
        return AMT_ERR_ALLOC;
    snprintf(buf, len, "%s:%s:%s", user, realm, password);
    if (EVP_Digest(buf, strlen(buf), md, &mdlen, EVP_md5(), NULL) == 1 && mdlen == 16) {
        hex_encode(md, 16, out);
        r = 0;
    }
    OPENSSL_cleanse(buf, len);
    OPENSSL_cleanse(md, sizeof(md));
    free(buf);
    return r;
}

static int
flash_set_u(struct sim_device *dev, const char *key, unsigned long v)
{
    char text[24];

    snprintf(text, sizeof(text), "%lu", v);
    return sim_flash_set(dev->flash, key, text);
}

static unsigned long
flash_get_u(const struct sim_device *dev, const char *key, unsigned long dflt)
{
    const char *v = sim_flash_get(dev->flash, key);
    char *end;
    unsigned long n;

    if (v == NULL || *v == '\0')
        return dflt;
    errno = 0;
    n = strtoul(v, &end, 10);
    return (errno != 0 || *end != '\0') ? dflt : n;
}

/* Commits the flash, or on failure puts the in-memory store back as it was. */
static int
save(struct sim_device *dev)
{
    int r = sim_flash_commit(dev->flash);

    if (r != 0) {
        sim_flash_rollback(dev->flash);
        DEV_EVENT(dev, "X-sim.flash-commit", EVLOG_RESULT_FAIL,
                  EVLOG_REASON("flash-write-failed"));
    }
    return r;
}

static const char *
state_flash_name(enum sim_state s)
{
    return sim_state_name(s);
}

const char *
sim_state_name(enum sim_state s)
{
    switch (s) {
    case SIM_STATE_SETUP:
        return "setup";
    case SIM_STATE_IN_PROVISIONING:
        return "in-provisioning";
    case SIM_STATE_PROVISIONED:
        return "provisioned";
    }
    return "unknown";
}

enum sim_state
sim_device_state(const struct sim_device *dev)
{
    const char *s = sim_flash_get(dev->flash, K_STATE);

    if (s != NULL && strcmp(s, "provisioned") == 0)
        return SIM_STATE_PROVISIONED;
    if (s != NULL && strcmp(s, "in-provisioning") == 0)
        return SIM_STATE_IN_PROVISIONING;
    return SIM_STATE_SETUP;
}

static int
set_state(struct sim_device *dev, enum sim_state to)
{
    enum sim_state from = sim_device_state(dev);
    int r;

    if (from == to)
        return 0;
    if ((r = sim_flash_set(dev->flash, K_STATE, state_flash_name(to))) != 0)
        return r;
    DEV_EVENT(dev, "X-sim.state", EVLOG_RESULT_INFO,
              EVLOG_STR("from", sim_state_name(from)),
              EVLOG_STR("to", sim_state_name(to)));
    if (dev->on_state != NULL)
        dev->on_state(dev, from, to, dev->on_state_arg);
    return 0;
}

void
sim_device_on_state(struct sim_device *dev, sim_state_cb cb, void *arg)
{
    dev->on_state = cb;
    dev->on_state_arg = arg;
}

/* The first change of a provisioning session moves setup to in-provisioning. */
static int
begin_change(struct sim_device *dev)
{
    if (sim_device_state(dev) == SIM_STATE_SETUP)
        return set_state(dev, SIM_STATE_IN_PROVISIONING);
    return 0;
}

/* The realm is made once and kept: clients cache it, and HA1 values depend on it. */
static int
ensure_realm(struct sim_device *dev)
{
    char realm[DIGEST_AMT_REALM_SIZE];
    unsigned char id[16];
    int r;

    if (sim_flash_get(dev->flash, K_REALM) != NULL)
        return 0;
    if (dev->cfg->profile.realm == SIM_REALM_LEGACY) {
        r = digest_realm_legacy(dev->uuid_text, realm, sizeof(realm));
    } else {
        if (RAND_bytes(id, sizeof(id)) != 1)
            return AMT_ERR_CRYPTO;
        r = digest_realm_hex(id, realm, sizeof(realm));
    }
    if (r != 0)
        return r;
    return sim_flash_set(dev->flash, K_REALM, realm);
}

static int
ensure_tls_credentials(struct sim_device *dev)
{
    EVP_PKEY *key = NULL;
    char *key_pem = NULL, *cert_pem = NULL, cn[64];
    int r;

    if (sim_flash_get(dev->flash, K_TLS_KEY) != NULL &&
        sim_flash_get(dev->flash, K_TLS_CERT) != NULL)
        return 0;
    if ((r = keypool_take(dev->env != NULL ? dev->env->keys : NULL, &key)) != 0)
        return r;
    snprintf(cn, sizeof(cn), "iAMT-%s", dev->uuid_text);
    r = keypool_self_signed(key, cn, &key_pem, &cert_pem);
    EVP_PKEY_free(key);
    if (r != 0)
        return r;
    if ((r = sim_flash_set(dev->flash, K_TLS_KEY, key_pem)) == 0)
        r = sim_flash_set(dev->flash, K_TLS_CERT, cert_pem);
    OPENSSL_cleanse(key_pem, strlen(key_pem));
    free(key_pem);
    free(cert_pem);
    if (r == 0)
        DEV_EVENT(dev, "X-sim.self-signed", EVLOG_RESULT_INFO, EVLOG_STR("cn", cn));
    return r;
}

/* --state provisioned: what a provisioning would have left, applied at every start. */
static int
apply_start_provisioned(struct sim_device *dev)
{
    const struct sim_device_config *cfg = dev->cfg;
    char ha1[33];
    int r;

    if (cfg->admin_password == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = compute_ha1(DEFAULT_ADMIN_USER, sim_device_realm(dev), cfg->admin_password,
                         ha1)) != 0)
        return r;
    if ((r = sim_flash_set(dev->flash, K_ADMIN_USER, DEFAULT_ADMIN_USER)) != 0 ||
        (r = sim_flash_set(dev->flash, K_ADMIN_HA1, ha1)) != 0 ||
        (r = sim_flash_set(dev->flash, K_TLS_ENABLED, cfg->tls ? "1" : "0")) != 0 ||
        (r = set_state(dev, SIM_STATE_PROVISIONED)) != 0)
        goto out;
out:
    OPENSSL_cleanse(ha1, sizeof(ha1));
    return r;
}

int
sim_device_open(const struct sim_device_config *cfg, const struct sim_env *env,
                struct sim_device **out, char *errbuf, size_t errlen)
{
    struct sim_device *dev = NULL;
    int r = AMT_ERR_INTERNAL;

    if (out != NULL)
        *out = NULL;
    if (cfg == NULL || out == NULL || cfg->flash_dir == NULL) {
        amt_set_error(errbuf, errlen, "device configuration incomplete");
        return AMT_ERR_INVALID_ARGUMENT;
    }
    if ((dev = calloc(1, sizeof(*dev))) == NULL)
        return AMT_ERR_ALLOC;
    dev->cfg = cfg;
    dev->env = env;
    dev->power = SIM_POWER_ON;
    uuid_format(&cfg->uuid, dev->uuid_text);
    if ((r = sim_flash_open(cfg->flash_dir, &dev->flash, errbuf, errlen)) != 0)
        goto out;
    if ((r = ensure_realm(dev)) != 0 || (r = ensure_tls_credentials(dev)) != 0) {
        amt_set_error(errbuf, errlen, "%s: cannot make first-start settings: %s",
                      cfg->flash_dir, amt_strerror(r));
        goto out;
    }
    if (cfg->start_provisioned && (r = apply_start_provisioned(dev)) != 0) {
        amt_set_error(errbuf, errlen, "cannot start provisioned: %s", amt_strerror(r));
        goto out;
    }
    if ((r = sim_flash_commit(dev->flash)) != 0) {
        amt_set_error(errbuf, errlen, "%s: cannot write the flash store: %s",
                      cfg->flash_dir, amt_strerror(r));
        goto out;
    }
    DEV_EVENT(dev, "X-sim.start", EVLOG_RESULT_INFO,
              EVLOG_STR("version", cfg->profile.text),
              EVLOG_STR("state", sim_state_name(sim_device_state(dev))),
              EVLOG_STR("listen", cfg->listen));
    *out = dev;
    dev = NULL;
    r = 0;
out:
    sim_device_free(dev);
    return r;
}

void
sim_device_free(struct sim_device *dev)
{
    if (dev == NULL)
        return;
    sim_flash_free(dev->flash);
    free(dev);
}

int
sim_device_reboot(struct sim_device *dev)
{
    int r;

    dev->power = SIM_POWER_ON;
    dev->auth_failures = 0;
    dev->locked_until = 0;
    /* anything not committed is gone, as it would be from RAM */
    if ((r = sim_flash_rollback(dev->flash)) != 0)
        return r;
    DEV_EVENT(dev, "X-sim.reboot", EVLOG_RESULT_INFO,
              EVLOG_STR("state", sim_state_name(sim_device_state(dev))));
    return 0;
}

const struct sim_device_config *
sim_device_config(const struct sim_device *dev)
{
    return dev->cfg;
}

const struct sim_profile *
sim_device_profile(const struct sim_device *dev)
{
    return &dev->cfg->profile;
}

const char *
sim_device_uuid_text(const struct sim_device *dev)
{
    return dev->uuid_text;
}

struct sim_flash *
sim_device_flash(struct sim_device *dev)
{
    return dev->flash;
}

const char *
sim_device_realm(const struct sim_device *dev)
{
    const char *r = sim_flash_get(dev->flash, K_REALM);

    return r != NULL ? r : "";
}

const char *
sim_device_pki_suffix(const struct sim_device *dev)
{
    const char *configured = sim_device_domain_name(dev);

    if (configured != NULL && *configured != '\0')
        return configured;
    return dev->cfg->dhcp_domain != NULL ? dev->cfg->dhcp_domain : "";
}

bool
sim_device_mebx_password_changed(const struct sim_device *dev)
{
    return flash_get_u(dev, K_MEBX_CHANGED, 0) == 1;
}

/* --- authentication --- */

int
sim_device_user_ha1(const struct sim_device *dev, const char *user, unsigned char ha1[16],
                    unsigned *rights)
{
    const char *admin = sim_flash_get(dev->flash, K_ADMIN_USER);
    char key[64];
    int r;

    if (user == NULL || ha1 == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (admin == NULL)
        admin = DEFAULT_ADMIN_USER;
    if (strcmp(user, admin) == 0) {
        const char *stored = sim_flash_get(dev->flash, K_ADMIN_HA1);

        if (stored == NULL)
            stored = sim_flash_get(dev->flash, K_MEBX_HA1);
        if (stored == NULL) {
            char hex[33];

            if ((r = compute_ha1(admin, sim_device_realm(dev), FACTORY_PASSWORD, hex)) !=
                0)
                return r;
            r = hex_decode16(hex, ha1);
        } else {
            r = hex_decode16(stored, ha1);
        }
        if (r == 0 && rights != NULL)
            *rights = SIM_RIGHT_ADMIN | SIM_RIGHT_REMOTE_CONTROL | SIM_RIGHT_REDIRECTION |
                      SIM_RIGHT_GENERAL_INFO | SIM_RIGHT_NETWORK | SIM_RIGHT_EVENT_LOG;
        return r;
    }
    for (size_t i = 0; i < sim_device_acl_count(dev); i++) {
        unsigned acl_rights = 0;
        const char *name = sim_device_acl_user(dev, i, &acl_rights);

        if (name != NULL && strcmp(name, user) == 0) {
            snprintf(key, sizeof(key), K_ACL_PREFIX "%zu.ha1", i);
            if ((r = hex_decode16(sim_flash_get(dev->flash, key), ha1)) != 0)
                return r;
            if (rights != NULL)
                *rights = acl_rights;
            return 0;
        }
    }
    return AMT_ERR_NOT_FOUND;
}

bool
sim_device_locked_out(struct sim_device *dev)
{
    return dev->locked_until > 0 && sim_device_now(dev) < dev->locked_until;
}

void
sim_device_auth_failed(struct sim_device *dev)
{
    dev->auth_failures++;
    if (dev->cfg->lockout_failures > 0 &&
        dev->auth_failures >= dev->cfg->lockout_failures) {
        dev->locked_until = sim_device_now(dev) + dev->cfg->lockout_seconds;
        dev->auth_failures = 0;
        DEV_EVENT(dev, "X-sim.lockout", EVLOG_RESULT_INFO,
                  EVLOG_INT("failures", (int64_t)dev->cfg->lockout_failures),
                  EVLOG_DOUBLE("seconds", dev->cfg->lockout_seconds));
    }
}

void
sim_device_auth_succeeded(struct sim_device *dev)
{
    dev->auth_failures = 0;
}

/* --- phase 1 --- */

int
sim_device_set_time(struct sim_device *dev, int64_t unix_seconds)
{
    int64_t offset = unix_seconds - (int64_t)time(NULL);
    char text[32];
    int r;

    if (unix_seconds <= 0)
        return AMT_ERR_INVALID_ARGUMENT;
    snprintf(text, sizeof(text), "%lld", (long long)offset);
    if ((r = begin_change(dev)) != 0 ||
        (r = sim_flash_set(dev->flash, K_TIME_OFFSET, text)) != 0 || (r = save(dev)) != 0)
        return r;
    DEV_EVENT(dev, "OOB-7.1", EVLOG_RESULT_OK, EVLOG_INT("time", unix_seconds),
              EVLOG_INT("offset", offset));
    return 0;
}

int64_t
sim_device_time(const struct sim_device *dev)
{
    const char *v = sim_flash_get(dev->flash, K_TIME_OFFSET);

    return (int64_t)time(NULL) + (v != NULL ? strtoll(v, NULL, 10) : 0);
}

/* A host label (1-63 of letters, digits, '-', not at either end), or a domain of them. */
static bool
dns_name_valid(const char *name, bool single_label)
{
    size_t len, label = 0;

    if (name == NULL || (len = strlen(name)) == 0 || len > SIM_NAME_MAX)
        return false;
    for (size_t i = 0; i <= len; i++) {
        char c = name[i];

        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || name[i - 1] == '-' ||
                (c == '.' && single_label))
                return false;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || (c == '-' && label > 0)))
            return false;
        label++;
    }
    return true;
}

static int
set_name(struct sim_device *dev, const char *key, const char *name, bool host)
{
    int r;

    if (!dns_name_valid(name, host))
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = begin_change(dev)) != 0 || (r = sim_flash_set(dev->flash, key, name)) != 0 ||
        (r = save(dev)) != 0)
        return r;
    DEV_EVENT(dev, "OOB-7.2", EVLOG_RESULT_OK,
              EVLOG_STR(host ? "host-name" : "domain-name", name));
    return 0;
}

int
sim_device_set_host_name(struct sim_device *dev, const char *name)
{
    return set_name(dev, K_HOST, name, true);
}

int
sim_device_set_domain_name(struct sim_device *dev, const char *name)
{
    return set_name(dev, K_DOMAIN, name, false);
}

const char *
sim_device_host_name(const struct sim_device *dev)
{
    return sim_flash_get(dev->flash, K_HOST);
}

const char *
sim_device_domain_name(const struct sim_device *dev)
{
    return sim_flash_get(dev->flash, K_DOMAIN);
}

const char *
sim_device_tls_key_pem(const struct sim_device *dev)
{
    return sim_flash_get(dev->flash, K_TLS_KEY);
}

const char *
sim_device_tls_cert_pem(const struct sim_device *dev)
{
    return sim_flash_get(dev->flash, K_TLS_CERT);
}

int
sim_device_set_tls_credentials(struct sim_device *dev, const char *key_pem,
                               const char *cert_pem)
{
    int r;

    if (key_pem == NULL || cert_pem == NULL || *key_pem == '\0' || *cert_pem == '\0')
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = begin_change(dev)) != 0 ||
        (r = sim_flash_set(dev->flash, K_TLS_KEY, key_pem)) != 0 ||
        (r = sim_flash_set(dev->flash, K_TLS_CERT, cert_pem)) != 0 ||
        (r = save(dev)) != 0)
        return r;
    DEV_EVENT(dev, "OOB-7.3", EVLOG_RESULT_OK, EVLOG_STR("what", "certificate"),
              EVLOG_INT("pem-bytes", (int64_t)strlen(cert_pem)));
    return 0;
}

int
sim_device_set_tls_enabled(struct sim_device *dev, bool on)
{
    int r;

    if ((r = begin_change(dev)) != 0 ||
        (r = sim_flash_set(dev->flash, K_TLS_ENABLED, on ? "1" : "0")) != 0 ||
        (r = save(dev)) != 0)
        return r;
    DEV_EVENT(dev, "OOB-7.3", EVLOG_RESULT_OK, EVLOG_STR("what", "tls-enabled"),
              EVLOG_BOOL("enabled", on));
    return 0;
}

bool
sim_device_tls_enabled(const struct sim_device *dev)
{
    return flash_get_u(dev, K_TLS_ENABLED, 0) == 1;
}

static int
store_admin_ha1(struct sim_device *dev, const char *user, const char *ha1_hex)
{
    int r;

    if ((r = begin_change(dev)) != 0 ||
        (r = sim_flash_set(dev->flash, K_ADMIN_USER, user)) != 0 ||
        (r = sim_flash_set(dev->flash, K_ADMIN_HA1, ha1_hex)) != 0 ||
        (r = save(dev)) != 0)
        return r;
    DEV_EVENT(dev, "OOB-7.4", EVLOG_RESULT_OK, EVLOG_STR("user", user));
    return 0;
}

static int
check_user_name(struct sim_device *dev, const char *id, const char *user)
{
    enum password_user_rule urule;

    if (password_check_user(user, &urule) == 0)
        return 0;
    DEV_EVENT(dev, id, EVLOG_RESULT_FAIL, EVLOG_REASON("user-name-policy"),
              EVLOG_STR("rule", password_user_rule_name((int)urule)));
    return AMT_ERR_USERNAME_POLICY;
}

int
sim_device_set_admin_password(struct sim_device *dev, const char *user,
                              const char *password)
{
    enum password_rule rule;
    char ha1[33];
    int r;

    if (user == NULL || password == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = check_user_name(dev, "OOB-7.4", user)) != 0)
        return r;
    if ((r = password_check(password, &rule)) != 0) {
        DEV_EVENT(dev, "OOB-7.4", EVLOG_RESULT_FAIL, EVLOG_REASON("password-policy"),
                  EVLOG_STR("rule", password_rule_name((int)rule)));
        return r;
    }
    if ((r = compute_ha1(user, sim_device_realm(dev), password, ha1)) == 0)
        r = store_admin_ha1(dev, user, ha1);
    OPENSSL_cleanse(ha1, sizeof(ha1));
    return r;
}

bool
sim_device_admin_password_set(const struct sim_device *dev)
{
    return sim_flash_get(dev->flash, K_ADMIN_HA1) != NULL;
}

int
sim_device_set_admin_ha1(struct sim_device *dev, const char *user,
                         const unsigned char ha1[16])
{
    char hex[33];
    int r;

    if (user == NULL || ha1 == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = check_user_name(dev, "OOB-7.4", user)) != 0)
        return r;
    hex_encode(ha1, 16, hex);
    r = store_admin_ha1(dev, user, hex);
    OPENSSL_cleanse(hex, sizeof(hex));
    return r;
}

int
sim_device_set_mebx_password(struct sim_device *dev, const char *password)
{
    enum password_rule rule;
    char ha1[33];
    int r;

    if (password == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = password_check(password, &rule)) != 0) {
        DEV_EVENT(dev, "OOB-7.5", EVLOG_RESULT_FAIL, EVLOG_REASON("password-policy"),
                  EVLOG_STR("rule", password_rule_name((int)rule)));
        return r;
    }
    if ((r = compute_ha1(DEFAULT_ADMIN_USER, sim_device_realm(dev), password, ha1)) != 0)
        return r;
    if ((r = begin_change(dev)) != 0 ||
        (r = sim_flash_set(dev->flash, K_MEBX_HA1, ha1)) != 0 ||
        (r = sim_flash_set(dev->flash, K_MEBX_CHANGED, "1")) != 0 || (r = save(dev)) != 0)
        goto out;
    DEV_EVENT(dev, "OOB-7.5", EVLOG_RESULT_OK, EVLOG_BOOL("changed", true));
out:
    OPENSSL_cleanse(ha1, sizeof(ha1));
    return r;
}

int
sim_device_set_otp(struct sim_device *dev, const char *otp)
{
    size_t len;
    int r;

    if (otp == NULL || (len = strlen(otp)) < 8 || len > SIM_OTP_MAX)
        return AMT_ERR_INVALID_ARGUMENT;
    if (sim_device_state(dev) == SIM_STATE_PROVISIONED) {
        DEV_EVENT(dev, "IB-2", EVLOG_RESULT_FAIL, EVLOG_REASON("already-provisioned"));
        return AMT_ERR_INVALID_ARGUMENT;
    }
    if ((r = sim_flash_set(dev->flash, K_OTP, otp)) != 0 || (r = save(dev)) != 0)
        return r;
    DEV_EVENT(dev, "IB-2", EVLOG_RESULT_OK, EVLOG_INT("length", (int64_t)len));
    return 0;
}

const char *
sim_device_otp(const struct sim_device *dev)
{
    return sim_flash_get(dev->flash, K_OTP);
}

int
sim_device_commit(struct sim_device *dev)
{
    int r;

    if (sim_device_state(dev) == SIM_STATE_PROVISIONED) {
        DEV_EVENT(dev, "OOB-7.6", EVLOG_RESULT_FAIL, EVLOG_REASON("already-provisioned"));
        return AMT_ERR_INVALID_ARGUMENT;
    }
    if (sim_flash_get(dev->flash, K_ADMIN_HA1) == NULL) {
        /* AMT will not leave setup with the factory admin password in place */
        DEV_EVENT(dev, "OOB-7.6", EVLOG_RESULT_FAIL,
                  EVLOG_REASON("admin-password-not-set"));
        return AMT_ERR_INVALID_ARGUMENT;
    }
    if ((r = set_state(dev, SIM_STATE_PROVISIONED)) != 0 || (r = save(dev)) != 0)
        return r;
    DEV_EVENT(dev, "OOB-7.6", EVLOG_RESULT_OK,
              EVLOG_BOOL("tls", sim_device_tls_enabled(dev)));
    return 0;
}

int
sim_device_unprovision(struct sim_device *dev, bool partial)
{
    static const char *const cleared[] = {
        K_ADMIN_USER, K_ADMIN_HA1, K_TLS_ENABLED, K_TIME_OFFSET, K_OTP, K_POWER_SCHEME,
    };
    static const char *const full_only[] = {K_HOST, K_DOMAIN, K_MEBX_HA1, K_MEBX_CHANGED};
    int r = 0;

    for (size_t i = 0; i < sizeof(cleared) / sizeof(cleared[0]) && r == 0; i++)
        r = sim_flash_set(dev->flash, cleared[i], NULL);
    for (size_t i = 0; !partial && i < sizeof(full_only) / sizeof(full_only[0]) && r == 0;
         i++)
        r = sim_flash_set(dev->flash, full_only[i], NULL);
    if (r == 0)
        r = sim_flash_remove_prefix(dev->flash, K_ACL_PREFIX, NULL);
    if (r == 0)
        r = sim_flash_remove_prefix(dev->flash, K_SWITCH_PREFIX, NULL);
    if (r == 0)
        r = sim_flash_remove_prefix(dev->flash, SIM_FLASH_P2_PREFIX, NULL);
    /* a new self-signed certificate replaces the one provisioning installed */
    if (r == 0 && (r = sim_flash_set(dev->flash, K_TLS_KEY, NULL)) == 0 &&
        (r = sim_flash_set(dev->flash, K_TLS_CERT, NULL)) == 0)
        r = ensure_tls_credentials(dev);
    if (r == 0)
        r = set_state(dev, SIM_STATE_SETUP);
    if (r != 0 || (r = save(dev)) != 0) {
        sim_flash_rollback(dev->flash);
        return r;
    }
    DEV_EVENT(dev, "X-sim.unprovision", EVLOG_RESULT_OK, EVLOG_BOOL("partial", partial));
    return 0;
}

/* --- phase 2 --- */

int
sim_device_acl_clear(struct sim_device *dev)
{
    size_t removed = 0;
    int r;

    if ((r = sim_flash_remove_prefix(dev->flash, K_ACL_PREFIX, &removed)) != 0 ||
        (r = save(dev)) != 0)
        return r;
    DEV_EVENT(dev, "OOB-8.1", EVLOG_RESULT_OK, EVLOG_STR("what", "acl-cleared"),
              EVLOG_INT("removed", (int64_t)removed / 3));
    return 0;
}

int
sim_device_acl_remove(struct sim_device *dev, size_t i)
{
    static const char *const fields[] = {"user", "ha1", "rights"};
    size_t n = sim_device_acl_count(dev);
    char user[64], key[64], next[64];
    int r = 0;

    if (i >= n)
        return AMT_ERR_NOT_FOUND;
    snprintf(user, sizeof(user), "%s", sim_device_acl_user(dev, i, NULL));
    for (size_t k = i; k + 1 < n && r == 0; k++) {
        for (size_t f = 0; f < 3 && r == 0; f++) {
            snprintf(key, sizeof(key), K_ACL_PREFIX "%zu.%s", k, fields[f]);
            snprintf(next, sizeof(next), K_ACL_PREFIX "%zu.%s", k + 1, fields[f]);
            r = sim_flash_set(dev->flash, key, sim_flash_get(dev->flash, next));
        }
    }
    for (size_t f = 0; f < 3 && r == 0; f++) {
        snprintf(key, sizeof(key), K_ACL_PREFIX "%zu.%s", n - 1, fields[f]);
        r = sim_flash_set(dev->flash, key, NULL);
    }
    if (r == 0)
        r = flash_set_u(dev, K_ACL_PREFIX "count", n - 1);
    if (r != 0 || (r = save(dev)) != 0) {
        sim_flash_rollback(dev->flash);
        return r;
    }
    DEV_EVENT(dev, "OOB-8.1", EVLOG_RESULT_OK, EVLOG_STR("what", "acl-removed"),
              EVLOG_STR("user", user));
    return 0;
}

size_t
sim_device_acl_count(const struct sim_device *dev)
{
    return (size_t)flash_get_u(dev, K_ACL_PREFIX "count", 0);
}

const char *
sim_device_acl_user(const struct sim_device *dev, size_t i, unsigned *rights)
{
    char key[64];

    if (i >= sim_device_acl_count(dev))
        return NULL;
    if (rights != NULL) {
        snprintf(key, sizeof(key), K_ACL_PREFIX "%zu.rights", i);
        *rights = (unsigned)flash_get_u(dev, key, 0);
    }
    snprintf(key, sizeof(key), K_ACL_PREFIX "%zu.user", i);
    return sim_flash_get(dev->flash, key);
}

static int
acl_store(struct sim_device *dev, const char *user, const char *ha1_hex, unsigned rights)
{
    size_t n = sim_device_acl_count(dev);
    const char *admin = sim_flash_get(dev->flash, K_ADMIN_USER);
    char key[64];
    int r;

    if (rights == 0)
        return AMT_ERR_INVALID_ARGUMENT;
    if (n >= SIM_ACL_MAX)
        return AMT_ERR_FLASH_FULL;
    if (strcmp(user, admin != NULL ? admin : DEFAULT_ADMIN_USER) == 0)
        return AMT_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++) {
        const char *existing = sim_device_acl_user(dev, i, NULL);

        if (existing != NULL && strcmp(existing, user) == 0)
            return AMT_ERR_INVALID_ARGUMENT;
    }
    snprintf(key, sizeof(key), K_ACL_PREFIX "%zu.user", n);
    if ((r = sim_flash_set(dev->flash, key, user)) != 0)
        goto out;
    snprintf(key, sizeof(key), K_ACL_PREFIX "%zu.ha1", n);
    if ((r = sim_flash_set(dev->flash, key, ha1_hex)) != 0)
        goto out;
    snprintf(key, sizeof(key), K_ACL_PREFIX "%zu.rights", n);
    if ((r = flash_set_u(dev, key, rights)) != 0 ||
        (r = flash_set_u(dev, K_ACL_PREFIX "count", n + 1)) != 0 || (r = save(dev)) != 0)
        goto out;
    DEV_EVENT(dev, "OOB-8.1", EVLOG_RESULT_OK, EVLOG_STR("what", "acl-added"),
              EVLOG_STR("user", user), EVLOG_INT("rights", (int64_t)rights));
out:
    if (r != 0)
        sim_flash_rollback(dev->flash);
    return r;
}

int
sim_device_acl_add(struct sim_device *dev, const char *user, const char *password,
                   unsigned rights)
{
    enum password_rule rule;
    char ha1[33];
    int r;

    if (user == NULL || password == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = check_user_name(dev, "OOB-8.1", user)) != 0 ||
        (r = password_check(password, &rule)) != 0)
        return r;
    if ((r = compute_ha1(user, sim_device_realm(dev), password, ha1)) == 0)
        r = acl_store(dev, user, ha1, rights);
    OPENSSL_cleanse(ha1, sizeof(ha1));
    return r;
}

int
sim_device_acl_add_ha1(struct sim_device *dev, const char *user,
                       const unsigned char ha1[16], unsigned rights)
{
    char hex[33];
    int r;

    if (user == NULL || ha1 == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = check_user_name(dev, "OOB-8.1", user)) != 0)
        return r;
    hex_encode(ha1, 16, hex);
    r = acl_store(dev, user, hex, rights);
    OPENSSL_cleanse(hex, sizeof(hex));
    return r;
}

const char *
sim_switch_name(enum sim_feature_switch sw)
{
    return (sw >= 0 && sw < SIM_SWITCH_COUNT) ? switch_names[sw] : "unknown";
}

static const char *
switch_step(enum sim_feature_switch sw)
{
    switch (sw) {
    case SIM_SWITCH_KERBEROS:
        return "OOB-8.3";
    case SIM_SWITCH_AUDIT:
        return "X-sim.audit";
    default:
        return "OOB-8.2";
    }
}

int
sim_device_set_switch(struct sim_device *dev, enum sim_feature_switch sw, bool on)
{
    char key[64];
    int r;

    if (sw < 0 || sw >= SIM_SWITCH_COUNT)
        return AMT_ERR_INVALID_ARGUMENT;
    if (sw == SIM_SWITCH_AUDIT &&
        !sim_profile_has(&dev->cfg->profile, SIM_FEATURE_AUDIT)) {
        DEV_EVENT(dev, "AMT-AUDIT", EVLOG_RESULT_FAIL,
                  EVLOG_REASON("unsupported-version"),
                  EVLOG_STR("version", dev->cfg->profile.text));
        return AMT_ERR_INVALID_ARGUMENT;
    }
    snprintf(key, sizeof(key), K_SWITCH_PREFIX "%s", switch_names[sw]);
    if ((r = sim_flash_set(dev->flash, key, on ? "1" : "0")) != 0 || (r = save(dev)) != 0)
        return r;
    DEV_EVENT(dev, switch_step(sw), EVLOG_RESULT_OK,
              EVLOG_STR("feature", switch_names[sw]), EVLOG_BOOL("enabled", on));
    return 0;
}

bool
sim_device_switch(const struct sim_device *dev, enum sim_feature_switch sw)
{
    char key[64];

    if (sw < 0 || sw >= SIM_SWITCH_COUNT)
        return false;
    snprintf(key, sizeof(key), K_SWITCH_PREFIX "%s", switch_names[sw]);
    return flash_get_u(dev, key, 0) == 1;
}

int
sim_device_set_power_scheme(struct sim_device *dev, unsigned scheme)
{
    int r;

    if (scheme == 0 || scheme > 16)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = flash_set_u(dev, K_POWER_SCHEME, scheme)) != 0 || (r = save(dev)) != 0)
        return r;
    DEV_EVENT(dev, "OOB-8.3", EVLOG_RESULT_OK, EVLOG_STR("what", "power-scheme"),
              EVLOG_INT("scheme", (int64_t)scheme));
    return 0;
}

unsigned
sim_device_power_scheme(const struct sim_device *dev)
{
    return (unsigned)flash_get_u(dev, K_POWER_SCHEME, DEFAULT_POWER_SCHEME);
}

/* --- power --- */

enum sim_power
sim_device_power(const struct sim_device *dev)
{
    return dev->power;
}

int
sim_device_power_action(struct sim_device *dev, enum sim_power_action action)
{
    static const char *const names[] = {"power-up", "power-down", "reset", "power-cycle"};
    enum sim_power before = dev->power;

    switch (action) {
    case SIM_POWER_UP:
        if (dev->power == SIM_POWER_ON)
            goto refused;
        dev->power = SIM_POWER_ON;
        break;
    case SIM_POWER_DOWN:
        if (dev->power == SIM_POWER_OFF)
            goto refused;
        dev->power = SIM_POWER_OFF;
        break;
    case SIM_POWER_RESET:
    case SIM_POWER_CYCLE:
        /* a reset or cycle of a machine that is off does nothing real machines do */
        if (dev->power == SIM_POWER_OFF)
            goto refused;
        dev->power = SIM_POWER_ON;
        break;
    default:
        return AMT_ERR_INVALID_ARGUMENT;
    }
    DEV_EVENT(dev, "X-sim.power", EVLOG_RESULT_OK, EVLOG_STR("action", names[action]),
              EVLOG_STR("from", before == SIM_POWER_ON ? "on" : "off"),
              EVLOG_STR("to", dev->power == SIM_POWER_ON ? "on" : "off"));
    return 0;
refused:
    DEV_EVENT(dev, "X-sim.power", EVLOG_RESULT_FAIL, EVLOG_REASON("wrong-power-state"),
              EVLOG_STR("action", names[action]),
              EVLOG_STR("from", before == SIM_POWER_ON ? "on" : "off"));
    return AMT_ERR_INVALID_ARGUMENT;
}
