#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "err.h"

static const char *const mode_names[] = {"sp1", "sp2", NULL};
/* Indexed by enum prov_eap. */
static const char *const eap_names[] = {"none", "eap-tls", "eap-ttls-mschapv2",
                                        "peapv0-mschapv2", NULL};

/*
 * AMT's access realms (UserAclRealmType) by their SDK names in kebab case. The
 * numbers are the firmware's; names are what an administrator writes.
 */
static const struct {
    const char *name;
    uint32_t realm;
} realm_names[] = {
    {"redirection", 2},
    {"pt-administration", 3},
    {"hardware-asset", 4},
    {"remote-control", 5},
    {"storage", 6},
    {"event-manager", 7},
    {"storage-admin", 8},
    {"agent-presence-local", 9},
    {"agent-presence-remote", 10},
    {"circuit-breaker", 11},
    {"network-time", 12},
    {"general-info", 13},
    {"firmware-update", 14},
    {"eit", 15},
    {"local-user-notification", 16},
    {"endpoint-access-control", 17},
    {"endpoint-access-control-admin", 18},
    {"event-log-reader", 19},
    {"audit-log", 20},
    {"acl", 21},
};

#define N_REALMS (sizeof(realm_names) / sizeof(realm_names[0]))

const char *
prov_config_mode_name(int mode)
{
    return mode >= 0 && mode <= PROV_MODE_SP2 ? mode_names[mode] : "unknown";
}

const char *
prov_config_eap_name(int eap)
{
    return eap >= 0 && eap <= PROV_EAP_PEAPV0_MSCHAPV2 ? eap_names[eap] : "unknown";
}

const char *
prov_config_realm_name(uint32_t realm)
{
    for (size_t i = 0; i < N_REALMS; i++)
        if (realm_names[i].realm == realm)
            return realm_names[i].name;
    return NULL;
}

/* --- versions --- */

/* "3.2.1": at most three dot-separated decimal parts of at most three digits. */
int
prov_config_version_parse(const char *text, struct prov_version *out)
{
    unsigned part[3] = {0, 0, 0};
    size_t n = 0;
    const char *p = text;

    if (text == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    for (;;) {
        size_t digits = 0;
        unsigned v = 0;

        while (p[digits] >= '0' && p[digits] <= '9' && digits < 4)
            v = v * 10 + (unsigned)(p[digits++] - '0');
        if (digits == 0 || digits > 3 || v > 255 || n == 3)
            return AMT_ERR_INVALID_ARGUMENT;
        part[n++] = v;
        p += digits;
        if (*p == '\0')
            break;
        if (*p++ != '.')
            return AMT_ERR_INVALID_ARGUMENT;
    }
    if (n < 2)
        return AMT_ERR_INVALID_ARGUMENT;
    out->major = part[0];
    out->minor = part[1];
    out->micro = part[2];
    return 0;
}

int
prov_config_version_cmp(const struct prov_version *a, const struct prov_version *b)
{
    if (a->major != b->major)
        return a->major < b->major ? -1 : 1;
    if (a->minor != b->minor)
        return a->minor < b->minor ? -1 : 1;
    if (a->micro != b->micro)
        return a->micro < b->micro ? -1 : 1;
    return 0;
}

bool
prov_config_version_supported(const struct prov_config *cfg, const struct prov_version *v)
{
    if (prov_config_version_cmp(v, &cfg->amt_min) < 0)
        return false;
    return !cfg->has_amt_max || prov_config_version_cmp(v, &cfg->amt_max) <= 0;
}

unsigned
prov_config_power_scheme(const struct prov_config *cfg)
{
    /* OOB-8.3: SP1 mode always wants "on except after power loss" */
    if (cfg->sp.mode == PROV_MODE_SP1)
        return 5;
    return cfg->phase2.power_scheme > 0 ? (unsigned)cfg->phase2.power_scheme : 0;
}

/* --- the forms of compound values, shared by the row checks and derive() --- */

static bool
printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* "a,b,c" into AMT realm numbers; false for an unknown or repeated name. */
static bool
parse_realms(const char *s, uint32_t *realms, size_t *n)
{
    *n = 0;
    if (*s == '\0')
        return false;
    for (;;) {
        size_t len = strcspn(s, ",");
        size_t i;

        for (i = 0; i < N_REALMS; i++)
            if (strlen(realm_names[i].name) == len &&
                strncmp(realm_names[i].name, s, len) == 0)
                break;
        if (i == N_REALMS || *n == PROV_REALMS_MAX)
            return false;
        for (size_t k = 0; k < *n; k++)
            if (realms[k] == realm_names[i].realm)
                return false;
        realms[(*n)++] = realm_names[i].realm;
        s += len;
        if (*s == '\0')
            return true;
        s++;
    }
}

/* An IPv4 literal; an IPv6 one is told apart so the message can name NET-IPV4. */
static int
ipv4_form(const char *s, size_t len, struct in_addr *out, bool *ipv6)
{
    char buf[INET6_ADDRSTRLEN + 2];

    *ipv6 = memchr(s, ':', len) != NULL || memchr(s, '[', len) != NULL;
    if (*ipv6 || len == 0 || len >= sizeof(buf))
        return AMT_ERR_NET_ADDRESS;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return inet_pton(AF_INET, buf, out) == 1 ? 0 : AMT_ERR_NET_ADDRESS;
}

/* "127.0.0.1:8089" */
static int
address_port_form(const char *s, struct in_addr *addr, unsigned *port, bool *ipv6)
{
    const char *colon = strrchr(s, ':');
    unsigned long p;
    char *end;

    *ipv6 = false;
    if (colon == NULL)
        return AMT_ERR_NET_ADDRESS;
    if (ipv4_form(s, (size_t)(colon - s), addr, ipv6) != 0)
        return AMT_ERR_NET_ADDRESS;
    if (colon[1] < '0' || colon[1] > '9')
        return AMT_ERR_NET_ADDRESS;
    p = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || p == 0 || p > 65535)
        return AMT_ERR_NET_ADDRESS;
    *port = (unsigned)p;
    return 0;
}

/* USER:PASSWORD, both non-empty; the password may hold further colons. */
static bool
credential_form(const char *s)
{
    const char *colon = strchr(s, ':');

    return colon != NULL && colon != s && colon[1] != '\0' && printable(s, strlen(s));
}

/*
 * NAME:PASSWORD:REALM[,REALM...]. AMT passwords never hold ':', so the first and
 * the last colon delimit the password; a colon inside it is left for the password
 * policy check to name.
 */
static bool
acl_form(const char *s, uint32_t *realms, size_t *n)
{
    const char *first = strchr(s, ':'), *last = strrchr(s, ':');

    return first != NULL && first != s && last != first && last > first + 1 &&
           printable(s, strlen(s)) && parse_realms(last + 1, realms, n);
}

/* A wireless profile split into its fields; pointers into a caller's copy. */
struct wifi_fields {
    char *name, *ssid, *auth, *cipher, *method, *rest;
};

static bool
wifi_split(char *s, struct wifi_fields *f)
{
    char **slots[] = {&f->name, &f->ssid, &f->auth, &f->cipher, &f->method};

    memset(f, 0, sizeof(*f));
    for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
        char *colon = strchr(s, ':');

        *slots[i] = s;
        if (colon == NULL) {
            /* only the method may end the line (eap-tls needs nothing more) */
            return i == 4;
        }
        *colon = '\0';
        s = colon + 1;
    }
    f->rest = s;
    return true;
}

/* WPA passphrase: 8 to 63 printable characters, or 64 hex digits (the raw key). */
static bool
psk_form(const char *s)
{
    size_t len = strlen(s);

    if (len == 64)
        return strspn(s, "0123456789abcdefABCDEF") == 64;
    return len >= 8 && len <= 63 && printable(s, len);
}

static int
eap_of(const char *s)
{
    for (int i = PROV_EAP_TLS; eap_names[i] != NULL; i++)
        if (strcmp(eap_names[i], s) == 0)
            return i;
    return strcmp(s, "psk") == 0 ? PROV_EAP_NONE : -1;
}

/* A copy of s for a profile field; a secret one is wiped when the profile is freed. */
static int
field_dup(const char *s, char **out)
{
    return (*out = strdup(s)) != NULL ? 0 : AMT_ERR_ALLOC;
}

/*
 * NAME:SSID:wpa|wpa2:aes|tkip:psk:PASSPHRASE
 * NAME:SSID:wpa|wpa2:aes|tkip:eap-tls
 * NAME:SSID:wpa|wpa2:aes|tkip:eap-ttls-mschapv2|peapv0-mschapv2:USER:PASSWORD
 * Returns 0 or AMT_ERR_INVALID_ARGUMENT; when p is not NULL, fills it (its strings
 * then belong to the caller, also after an AMT_ERR_ALLOC).
 */
static int
wifi_parse(const char *text, struct prov_wireless_profile *p)
{
    struct wifi_fields f;
    char *copy = strdup(text), *colon = NULL;
    bool ok = false;
    int eap = -1, r = AMT_ERR_INTERNAL;

    if (copy == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    r = AMT_ERR_INVALID_ARGUMENT;
    if (!printable(text, strlen(text)) || !wifi_split(copy, &f))
        goto out;
    if (*f.name == '\0' || strlen(f.name) > PROV_WIFI_NAME_MAX || *f.ssid == '\0' ||
        strlen(f.ssid) > PROV_SSID_MAX)
        goto out;
    if (strcmp(f.auth, "wpa") != 0 && strcmp(f.auth, "wpa2") != 0)
        goto out;
    if (strcmp(f.cipher, "aes") != 0 && strcmp(f.cipher, "tkip") != 0)
        goto out;
    if ((eap = eap_of(f.method)) < 0)
        goto out;
    if (eap == PROV_EAP_TLS)
        ok = f.rest == NULL;
    else if (eap == PROV_EAP_NONE)
        ok = f.rest != NULL && psk_form(f.rest);
    else
        ok = f.rest != NULL && (colon = strchr(f.rest, ':')) != NULL && colon != f.rest &&
             colon[1] != '\0';
    if (!ok)
        goto out;
    r = 0;
    if (p == NULL)
        goto out;
    p->auth = strcmp(f.auth, "wpa2") == 0 ? PROV_WIFI_WPA2 : PROV_WIFI_WPA;
    p->cipher = strcmp(f.cipher, "aes") == 0 ? PROV_WIFI_AES : PROV_WIFI_TKIP;
    p->eap = (enum prov_eap)eap;
    if ((r = field_dup(f.name, &p->name)) != 0 || (r = field_dup(f.ssid, &p->ssid)) != 0)
        goto out;
    if (eap == PROV_EAP_NONE)
        r = field_dup(f.rest, &p->psk);
    else if (colon != NULL) {
        *colon = '\0';
        if ((r = field_dup(f.rest, &p->user)) == 0)
            r = field_dup(colon + 1, &p->password);
    }
out:
    if (copy != NULL) {
        OPENSSL_cleanse(copy, strlen(text));
        free(copy);
    }
    return r;
}

/* --- row checks: a refusal here is reported with the file, line and setting --- */

static int
check_ipv4(const char *text, const char **why)
{
    struct in_addr a;
    bool ipv6;

    if (ipv4_form(text, strlen(text), &a, &ipv6) == 0)
        return 0;
    *why = ipv6 ? "an IPv4 address; NET-IPV4: out of band management does not use IPv6"
                : "an IPv4 address such as 127.0.0.1";
    return AMT_ERR_NET_ADDRESS;
}

static int
check_ipv4_port(const char *text, const char **why)
{
    struct in_addr a;
    unsigned port;
    bool ipv6;

    if (address_port_form(text, &a, &port, &ipv6) == 0)
        return 0;
    *why = ipv6 ? "IPV4:PORT; NET-IPV4: out of band management does not use IPv6"
                : "IPV4:PORT such as 127.0.0.1:8089";
    return AMT_ERR_NET_ADDRESS;
}

static int
check_version(const char *text, const char **why)
{
    struct prov_version v;

    *why = "an AMT version X.Y or X.Y.Z such as 3.2.1";
    return prov_config_version_parse(text, &v);
}

static int
check_credential(const char *text, const char **why)
{
    *why = "USER:PASSWORD, both given, printable ASCII";
    return credential_form(text) ? 0 : AMT_ERR_INVALID_ARGUMENT;
}

static int
check_acl(const char *text, const char **why)
{
    uint32_t realms[PROV_REALMS_MAX];
    size_t n;

    *why = "NAME:PASSWORD:REALM[,REALM...] with AMT realms such as pt-administration, "
           "remote-control, redirection, general-info, hardware-asset, event-manager, "
           "network-time, audit-log";
    return acl_form(text, realms, &n) ? 0 : AMT_ERR_INVALID_ARGUMENT;
}

static int
check_wireless(const char *text, const char **why)
{
    *why = "NAME:SSID:wpa|wpa2:aes|tkip: then psk:PASSPHRASE (8 to 63 characters), "
           "eap-tls, or eap-ttls-mschapv2|peapv0-mschapv2:USER:PASSWORD; name and SSID "
           "1 to 32 characters without ':'";
    return wifi_parse(text, NULL);
}

static int
check_not_empty(const char *text, const char **why)
{
    *why = "a non-empty value";
    return *text != '\0' ? 0 : AMT_ERR_INVALID_ARGUMENT;
}

/* The settings lists have no flags in their macro; secret ones are written out. */
#define SECRET_LIST(sec, nm, stype, fld, chk)                                            \
    {                                                                                    \
        .section = (sec), .name = (nm), .type = SETTINGS_TYPE_LIST,                      \
        .offset = SETTINGS_FIELD_(stype, fld, struct settings_list), .check = (chk),     \
        .flags = SETTINGS_SECRET                                                         \
    }

#define CFG struct prov_config

const struct settings_row prov_config_rows[] = {
    SETTINGS_STRING("site", "database", "amtprov.db", CFG, site.database,
                    check_not_empty),
    SETTINGS_STRING("site", "api-listen", "127.0.0.1:8089", CFG, site.api_listen,
                    check_ipv4_port),
    SETTINGS_STRING("site", "pki-dir", NULL, CFG, site.pki_dir, check_not_empty),
    SETTINGS_STRING("site", "ca-cert", NULL, CFG, site.ca_cert, check_not_empty),
    SETTINGS_STRING("site", "ca-key", NULL, CFG, site.ca_key, check_not_empty),
    SETTINGS_STRING("site", "ca-chain", NULL, CFG, site.ca_chain, check_not_empty),
    SETTINGS_STRING("site", "events", NULL, CFG, site.events, check_not_empty),
    SETTINGS_STRING("site", "key-cache", NULL, CFG, site.key_cache, check_not_empty),

    SETTINGS_STRING("sp", "domain", NULL, CFG, sp.domain, NULL),
    SETTINGS_STRING("sp", "forest-root", NULL, CFG, sp.forest_root, NULL),
    SETTINGS_LIST("sp", "forest-domain", CFG, sp.forest_domains, NULL),
    SETTINGS_STRING("sp", "hello-listen", "127.0.0.1", CFG, sp.hello_listen, check_ipv4),
    SETTINGS_INT("sp", "hello-port", "9971", CFG, sp.hello_port, 1, 65535),
    SETTINGS_DOUBLE("sp", "hello-idle-timeout", "10", CFG, sp.hello_idle_timeout, 0.001,
                    3600),
    SETTINGS_INT("sp", "hello-max-connections", "64", CFG, sp.hello_max_connections, 1,
                 4096),
    SETTINGS_ENUM("sp", "mode", "sp2", CFG, sp.mode, mode_names),
    SETTINGS_STRING("sp", "provisioning-chain", NULL, CFG, sp.chain, check_not_empty),
    SETTINGS_STRING("sp", "provisioning-key", NULL, CFG, sp.key, check_not_empty),
    SECRET_LIST("sp", "credential", CFG, sp.credentials, check_credential),
    SETTINGS_STRING("sp", "directory-ou", "OU=AMT", CFG, sp.directory_ou, NULL),
    SETTINGS_STRING("sp", "amt-version-min", "3.2.1", CFG, sp.amt_version_min,
                    check_version),
    SETTINGS_STRING("sp", "amt-version-max", NULL, CFG, sp.amt_version_max,
                    check_version),
    SETTINGS_DOUBLE("sp", "time-scale", "1", CFG, sp.time_scale, 1e-3, 1e7),

    SETTINGS_SECRET_STRING("phase1", "mebx-password", NULL, CFG, phase1.mebx_password,
                           NULL),
    SETTINGS_STRING("phase1", "admin-user", "admin", CFG, phase1.admin_user, NULL),
    SETTINGS_INT("phase1", "admin-password-length", "16", CFG,
                 phase1.admin_password_length, 8, 32),

    SECRET_LIST("phase2", "acl", CFG, phase2.acl, check_acl),
    SETTINGS_BOOL("phase2", "ping", "on", CFG, phase2.ping),
    SETTINGS_BOOL("phase2", "web-ui", "on", CFG, phase2.web_ui),
    SETTINGS_BOOL("phase2", "sol", "off", CFG, phase2.sol),
    SETTINGS_BOOL("phase2", "ider", "off", CFG, phase2.ider),
    SETTINGS_BOOL("phase2", "kerberos", "off", CFG, phase2.kerberos),
    SETTINGS_INT("phase2", "power-scheme", NULL, CFG, phase2.power_scheme, 1, 255),
    SETTINGS_BOOL("phase2", "audit", "off", CFG, phase2.audit),

    SECRET_LIST("wireless", "profile", CFG, wireless.profiles, check_wireless),

    SETTINGS_ENUM("dot1x", "method", "none", CFG, dot1x.method, eap_names),
    SETTINGS_STRING("dot1x", "user", NULL, CFG, dot1x.user, check_not_empty),
    SETTINGS_SECRET_STRING("dot1x", "password", NULL, CFG, dot1x.password,
                           check_not_empty),
    SETTINGS_END,
};

#undef CFG

/* --- derived values --- */

static void
wipe_free(char *s)
{
    if (s != NULL) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static void
free_derived(struct prov_config *cfg)
{
    char **paths[] = {&cfg->paths.database, &cfg->paths.events, &cfg->paths.key_cache,
                      &cfg->paths.ca_cert,  &cfg->paths.ca_key, &cfg->paths.ca_chain,
                      &cfg->paths.chain,    &cfg->paths.key};

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        free(*paths[i]);
        *paths[i] = NULL;
    }
    for (size_t i = 0; i < cfg->n_credentials; i++) {
        free(cfg->credentials[i].user);
        wipe_free(cfg->credentials[i].password);
    }
    free(cfg->credentials);
    cfg->credentials = NULL;
    cfg->n_credentials = 0;
    for (size_t i = 0; i < cfg->n_acl; i++) {
        free(cfg->acl[i].user);
        wipe_free(cfg->acl[i].password);
    }
    free(cfg->acl);
    cfg->acl = NULL;
    cfg->n_acl = 0;
    for (size_t i = 0; i < cfg->n_wifi; i++) {
        struct prov_wireless_profile *p = &cfg->wifi[i];

        free(p->name);
        free(p->ssid);
        wipe_free(p->psk);
        free(p->user);
        wipe_free(p->password);
    }
    free(cfg->wifi);
    cfg->wifi = NULL;
    cfg->n_wifi = 0;
}

/* base/rel for a relative rel; rel itself when absolute or when there is no base. */
static int
resolve(const char *base, const char *rel, char **out)
{
    size_t n;

    *out = NULL;
    if (rel == NULL)
        return 0;
    if (rel[0] == '/' || base == NULL || strcmp(rel, "-") == 0) {
        *out = strdup(rel);
    } else {
        n = strlen(base) + 1 + strlen(rel) + 1;
        if ((*out = malloc(n)) != NULL)
            snprintf(*out, n, "%s/%s", base, rel);
    }
    return *out != NULL ? 0 : AMT_ERR_ALLOC;
}

static char *
dup_len(const char *s, size_t len)
{
    char *d = malloc(len + 1);

    if (d != NULL) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

static int
derive_paths(struct prov_config *cfg)
{
    char *pki = NULL;
    int r = AMT_ERR_INTERNAL;

    if ((r = resolve(cfg->dir, cfg->site.pki_dir, &pki)) != 0)
        goto out;
    if (pki == NULL && cfg->dir != NULL && (pki = strdup(cfg->dir)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    if ((r = resolve(cfg->dir, cfg->site.database, &cfg->paths.database)) != 0 ||
        (r = resolve(cfg->dir, cfg->site.events, &cfg->paths.events)) != 0 ||
        (r = resolve(cfg->dir, cfg->site.key_cache, &cfg->paths.key_cache)) != 0 ||
        (r = resolve(pki, cfg->site.ca_cert, &cfg->paths.ca_cert)) != 0 ||
        (r = resolve(pki, cfg->site.ca_key, &cfg->paths.ca_key)) != 0 ||
        (r = resolve(pki, cfg->site.ca_chain, &cfg->paths.ca_chain)) != 0 ||
        (r = resolve(pki, cfg->sp.chain, &cfg->paths.chain)) != 0 ||
        (r = resolve(pki, cfg->sp.key, &cfg->paths.key)) != 0)
        goto out;
    r = 0;
out:
    free(pki);
    return r;
}

static int
derive_credentials(struct prov_config *cfg)
{
    const struct settings_list *l = &cfg->sp.credentials;

    if (l->n == 0)
        return 0;
    if ((cfg->credentials = calloc(l->n, sizeof(*cfg->credentials))) == NULL)
        return AMT_ERR_ALLOC;
    for (size_t i = 0; i < l->n; i++) {
        const char *colon = strchr(l->items[i], ':');
        struct prov_credential *c = &cfg->credentials[cfg->n_credentials++];

        if (colon == NULL)
            return AMT_ERR_INTERNAL; /* the row check let it through */
        if ((c->user = dup_len(l->items[i], (size_t)(colon - l->items[i]))) == NULL ||
            (c->password = strdup(colon + 1)) == NULL)
            return AMT_ERR_ALLOC;
    }
    return 0;
}

static int
derive_acl(struct prov_config *cfg)
{
    const struct settings_list *l = &cfg->phase2.acl;

    if (l->n == 0)
        return 0;
    if ((cfg->acl = calloc(l->n, sizeof(*cfg->acl))) == NULL)
        return AMT_ERR_ALLOC;
    for (size_t i = 0; i < l->n; i++) {
        const char *s = l->items[i], *first = strchr(s, ':'), *last = strrchr(s, ':');
        struct prov_acl_entry *e = &cfg->acl[cfg->n_acl++];

        if (!acl_form(s, e->realms, &e->n_realms))
            return AMT_ERR_INTERNAL;
        if ((e->user = dup_len(s, (size_t)(first - s))) == NULL ||
            (e->password = dup_len(first + 1, (size_t)(last - first - 1))) == NULL)
            return AMT_ERR_ALLOC;
    }
    return 0;
}

static int
derive_wireless(struct prov_config *cfg)
{
    const struct settings_list *l = &cfg->wireless.profiles;
    int r;

    if (l->n == 0)
        return 0;
    if ((cfg->wifi = calloc(l->n, sizeof(*cfg->wifi))) == NULL)
        return AMT_ERR_ALLOC;
    for (size_t i = 0; i < l->n; i++)
        if ((r = wifi_parse(l->items[i], &cfg->wifi[cfg->n_wifi++])) != 0)
            return r == AMT_ERR_ALLOC ? r : AMT_ERR_INTERNAL;
    return 0;
}

/* Recomputes everything below the settings in struct prov_config. */
static int
derive(struct prov_config *cfg, char *err, size_t errlen)
{
    struct in_addr a;
    bool ipv6;
    int r;

    free_derived(cfg);
    memset(cfg->api_address, 0, sizeof(cfg->api_address));
    cfg->api_port = 0;
    cfg->has_amt_max = false;
    memset(&cfg->amt_max, 0, sizeof(cfg->amt_max));
    if (address_port_form(cfg->site.api_listen, &a, &cfg->api_port, &ipv6) != 0 ||
        inet_ntop(AF_INET, &a, cfg->api_address, sizeof(cfg->api_address)) == NULL ||
        prov_config_version_parse(cfg->sp.amt_version_min, &cfg->amt_min) != 0) {
        r = AMT_ERR_INTERNAL;
        goto out;
    }
    if (cfg->sp.amt_version_max != NULL) {
        if (prov_config_version_parse(cfg->sp.amt_version_max, &cfg->amt_max) != 0) {
            r = AMT_ERR_INTERNAL;
            goto out;
        }
        cfg->has_amt_max = true;
    }
    if ((r = derive_paths(cfg)) != 0 || (r = derive_credentials(cfg)) != 0 ||
        (r = derive_acl(cfg)) != 0 || (r = derive_wireless(cfg)) != 0)
        goto out;
    r = 0;
out:
    if (r != 0 && err != NULL && errlen > 0)
        snprintf(err, errlen, "%s: %s", cfg->path != NULL ? cfg->path : "(settings)",
                 amt_strerror(r));
    return r;
}

int
prov_config_defaults(struct prov_config *cfg, char *err, size_t errlen)
{
    int r;

    if (cfg == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(cfg, 0, sizeof(*cfg));
    if ((r = settings_init(prov_config_rows, cfg, err, errlen)) != 0)
        return r;
    if ((r = derive(cfg, err, errlen)) != 0)
        prov_config_free(cfg);
    return r;
}

/* The folder of path: "." for a bare name. */
static char *
folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return dup_len(path, (size_t)(slash - path));
}

int
prov_config_load(const char *path, struct prov_config *cfg, char *err, size_t errlen)
{
    int r = AMT_ERR_INTERNAL;

    if (path == NULL || cfg == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = prov_config_defaults(cfg, err, errlen)) != 0)
        return r;
    if ((cfg->path = strdup(path)) == NULL || (cfg->dir = folder_of(path)) == NULL) {
        r = AMT_ERR_ALLOC;
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "%s: %s", path, amt_strerror(r));
        goto out;
    }
    if ((r = settings_load_file(prov_config_rows, cfg, path, err, errlen)) != 0)
        goto out;
    r = derive(cfg, err, errlen);
out:
    if (r != 0)
        prov_config_free(cfg);
    return r;
}

int
prov_config_set(struct prov_config *cfg, const char *key, const char *value, char *err,
                size_t errlen)
{
    int r;

    if (cfg == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = settings_set(prov_config_rows, cfg, key, value, err, errlen)) != 0)
        return r;
    return derive(cfg, err, errlen);
}

void
prov_config_free(struct prov_config *cfg)
{
    if (cfg == NULL)
        return;
    free_derived(cfg);
    settings_free_values(prov_config_rows, cfg);
    free(cfg->path);
    free(cfg->dir);
    memset(cfg, 0, sizeof(*cfg));
}
