#include "options.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "uuid.h"

static const char *const state_names[] = {"factory", "provisioned", NULL};
/* "keep": a restart must not undo what a provisioning session set */
static const char *const switch_names[] = {"keep", "on", "off", NULL};

static int
check_ipv4(const char *text, const char **why)
{
    struct in_addr a;

    if (strchr(text, ':') != NULL) {
        *why = "an IPv4 address: IPv6 is not supported by out of band management";
        return AMT_ERR_INVALID_ARGUMENT;
    }
    if (inet_pton(AF_INET, text, &a) != 1) {
        *why = "an IPv4 address";
        return AMT_ERR_INVALID_ARGUMENT;
    }
    return 0;
}

static int
check_uuid(const char *text, const char **why)
{
    struct amt_uuid u;

    *why = "a UUID such as 4c4c4544-0043-3010-8052-b4c04f564433";
    return uuid_parse(text, &u);
}

static int
check_version(const char *text, const char **why)
{
    struct sim_profile p;

    *why = "an AMT version X.Y or X.Y.Z from " SIM_VERSION_MIN_TEXT
           " to " SIM_VERSION_MAX_TEXT;
    return sim_profile_from_text(text, &p);
}

static int
check_root_hash(const char *text, const char **why)
{
    struct amt_thumbprint tp;

    *why = "[sha1:|sha256:|sha384:]HEX";
    return thumbprint_parse(text, &tp);
}

static int
check_schedule(const char *text, const char **why)
{
    struct hello_schedule s;

    *why = "INTERVALxDURATION[,...] in seconds, such as 60x300,300x3600";
    return hello_schedule_parse(text, &s);
}

const struct settings_row sim_option_rows[] = {
    SETTINGS_STRING("", "listen", "127.0.0.2", struct sim_options, listen, check_ipv4),
    SETTINGS_STRING("", "uuid", "4c4c4544-0043-3010-8052-b4c04f564433",
                    struct sim_options, uuid, check_uuid),
    SETTINGS_STRING("", "amt-version", "4.0.0", struct sim_options, amt_version,
                    check_version),
    SETTINGS_STRING("", "domain", NULL, struct sim_options, domain, NULL),
    SETTINGS_LIST("", "root-hash", struct sim_options, root_hash, check_root_hash),
    SETTINGS_STRING("", "provision-server", NULL, struct sim_options, provision_server,
                    NULL),
    SETTINGS_STRING("", "flash", NULL, struct sim_options, flash, NULL),
    SETTINGS_STRING("", "events", NULL, struct sim_options, events, NULL),
    SETTINGS_DOUBLE("", "time-scale", "1", struct sim_options, time_scale, 1e-3, 1e7),
    SETTINGS_INT("", "devices", "1", struct sim_options, devices, 1, SIM_DEVICES_MAX),
    SETTINGS_STRING("", "heci", NULL, struct sim_options, heci, NULL),
    SETTINGS_ENUM("", "state", "factory", struct sim_options, state, state_names),
    SETTINGS_SECRET_STRING("", "admin-password", NULL, struct sim_options, admin_password,
                           NULL),
    SETTINGS_BOOL("", "tls", "on", struct sim_options, tls),
    SETTINGS_STRING("", "hosts", NULL, struct sim_options, hosts, NULL),
    SETTINGS_STRING("", "hello-schedule", HELLO_SCHEDULE_DEFAULT, struct sim_options,
                    hello_schedule, check_schedule),
    SETTINGS_STRING("", "control", NULL, struct sim_options, control, NULL),
    SETTINGS_STRING("", "key-cache", NULL, struct sim_options, key_cache, NULL),
    SETTINGS_ENUM("", "sol", "keep", struct sim_options, sol, switch_names),
    SETTINGS_ENUM("", "ider", "keep", struct sim_options, ider, switch_names),
    SETTINGS_INT("", "lockout-failures", "5", struct sim_options, lockout_failures, 0,
                 1000),
    SETTINGS_DOUBLE("", "lockout-seconds", "60", struct sim_options, lockout_seconds, 0,
                    86400),
    SETTINGS_END,
};

static int fail(char *err, size_t errlen, const char *fmt, ...) AMT_PRINTF(3, 4);

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return AMT_ERR_SETTINGS_VALUE;
}

int
sim_options_plan(const struct sim_options *o, struct sim_fleet_plan *plan, char *err,
                 size_t errlen)
{
    struct in_addr a;
    unsigned last;

    memset(plan, 0, sizeof(*plan));
    if (o->flash == NULL)
        return fail(err, errlen,
                    "flash: a folder for the flash store is required (--flash DIR)");
    if (sim_profile_from_text(o->amt_version, &plan->profile) != 0)
        return fail(err, errlen, "amt-version: \"%s\" is not a supported version",
                    o->amt_version);
    if (hello_schedule_parse(o->hello_schedule, &plan->schedule) != 0)
        return fail(err, errlen, "hello-schedule: \"%s\" is not a schedule",
                    o->hello_schedule);
    if (o->root_hash.n > SIM_ROOTS_MAX)
        return fail(err, errlen, "root-hash: at most %d hashes", SIM_ROOTS_MAX);
    for (size_t i = 0; i < o->root_hash.n; i++)
        if (thumbprint_parse(o->root_hash.items[i], &plan->roots[i]) != 0)
            return fail(err, errlen, "root-hash: \"%s\" is not a thumbprint",
                        o->root_hash.items[i]);
    plan->n_roots = o->root_hash.n;
    /* the seed's generation stores SHA-1 thumbprints only; later ones any type */
    for (size_t i = 0; i < plan->n_roots; i++)
        if (plan->profile.hello_hash == AMT_HASH_SHA1 &&
            plan->roots[i].type != AMT_HASH_SHA1)
            return fail(
                err, errlen,
                "root-hash: AMT %s stores SHA-1 root thumbprints only, not \"%s\"",
                plan->profile.text, o->root_hash.items[i]);
    if (uuid_parse(o->uuid, &plan->first_uuid) != 0)
        return fail(err, errlen, "uuid: \"%s\" is not a UUID", o->uuid);
    if (inet_pton(AF_INET, o->listen, &a) != 1)
        return fail(err, errlen, "listen: \"%s\" is not an IPv4 address", o->listen);
    plan->first_addr = ntohl(a.s_addr);
    /* a fleet counts addresses up from the first; it must stay inside 127.0.0.0/8
     * when it starts there, since loopback is the only network tests may use */
    last = plan->first_addr + (unsigned)o->devices - 1;
    if ((plan->first_addr >> 24) == 127 && (last >> 24) != 127)
        return fail(err, errlen, "devices: %d devices from %s leave 127.0.0.0/8",
                    o->devices, o->listen);
    if (o->state == 1) {
        if (o->admin_password == NULL)
            return fail(err, errlen,
                        "admin-password: --state provisioned needs the admin password");
    } else if (o->admin_password != NULL) {
        return fail(err, errlen, "admin-password: only with --state provisioned");
    }
    return 0;
}

/* Device i's UUID: the first one plus i, counted in the last 6 bytes (the node). */
static void
nth_uuid(const struct amt_uuid *first, unsigned i, struct amt_uuid *out)
{
    unsigned carry = i;

    *out = *first;
    for (int b = 15; b >= 10 && carry > 0; b--) {
        unsigned sum = out->b[b] + (carry & 0xff);

        out->b[b] = (unsigned char)sum;
        carry = (carry >> 8) + (sum >> 8);
    }
}

int
sim_options_device(const struct sim_options *o, const struct sim_fleet_plan *plan,
                   unsigned i, struct sim_device_config *cfg,
                   struct sim_device_strings *strings)
{
    struct in_addr a;
    char uuid[UUID_TEXT_SIZE];
    int n;

    if ((int)i >= o->devices)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(cfg, 0, sizeof(*cfg));
    nth_uuid(&plan->first_uuid, i, &cfg->uuid);
    cfg->profile = plan->profile;
    a.s_addr = htonl(plan->first_addr + i);
    inet_ntop(AF_INET, &a, cfg->listen, sizeof(cfg->listen));
    uuid_format(&cfg->uuid, uuid);
    if (o->devices == 1)
        n = snprintf(strings->flash_dir, sizeof(strings->flash_dir), "%s", o->flash);
    else
        n = snprintf(strings->flash_dir, sizeof(strings->flash_dir), "%s/%s", o->flash,
                     uuid);
    if (n < 0 || (size_t)n >= sizeof(strings->flash_dir))
        return AMT_ERR_TOO_LARGE;
    cfg->flash_dir = strings->flash_dir;
    strings->heci_path[0] = '\0';
    if (o->heci != NULL) {
        if (o->devices == 1)
            n = snprintf(strings->heci_path, sizeof(strings->heci_path), "%s", o->heci);
        else
            n = snprintf(strings->heci_path, sizeof(strings->heci_path), "%s.%u", o->heci,
                         i);
        if (n < 0 || (size_t)n >= sizeof(strings->heci_path))
            return AMT_ERR_TOO_LARGE;
    }
    cfg->dhcp_domain = o->domain;
    memcpy(cfg->roots, plan->roots, sizeof(plan->roots));
    cfg->n_roots = plan->n_roots;
    cfg->provision_server = o->provision_server;
    cfg->hosts_file = o->hosts;
    cfg->start_provisioned = o->state == 1;
    cfg->admin_password = o->admin_password;
    cfg->tls = o->tls;
    cfg->lockout_failures = (unsigned)o->lockout_failures;
    cfg->lockout_seconds = o->lockout_seconds;
    return 0;
}
