/*
 * amtprov's configuration: one INI file (`--config FILE`) for every subcommand, read
 * through one settings table. tests/data/amtprov/site.ini is the commented sample
 * and the reference for every line.
 *
 * Loading checks the form of each line, so that a mistake is reported with the
 * file, the line and the setting ("site.ini:12: invalid value ... for credential
 * (USER:PASSWORD ...)"), and never repeats the value of a secret line. Whether the
 * values together obey the seed's rules (certificates, namespace, password policy,
 * SP1 limits) is for prov_prereq_run(): `import` or `status` need only [site], and
 * must not be refused for a weak MEBx password.
 *
 * Relative paths are taken from the configuration file's folder; certificate and key
 * paths from [site] pki-dir when it is set. The resolved paths are in `paths`.
 */
#ifndef AMT_PROV_CONFIG_H
#define AMT_PROV_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "settings.h"

enum prov_mode {
    PROV_MODE_SP1, /* Configuration Manager 2007 SP1: no wireless, no 802.1X */
    PROV_MODE_SP2,
};

/* 802.1X methods (AMT-8021X); for a wireless profile NONE means a pre-shared key. */
enum prov_eap {
    PROV_EAP_NONE,
    PROV_EAP_TLS,
    PROV_EAP_TTLS_MSCHAPV2,
    PROV_EAP_PEAPV0_MSCHAPV2,
};

enum prov_wifi_auth {
    PROV_WIFI_WPA,
    PROV_WIFI_WPA2,
};

enum prov_wifi_cipher {
    PROV_WIFI_TKIP,
    PROV_WIFI_AES, /* CCMP */
};

/* Most realms one ACL entry may name: AMT has 20 realms. */
#define PROV_REALMS_MAX 24
/* The SSID field of a wireless profile, as 802.11 bounds it. */
#define PROV_SSID_MAX 32
/* AMT keeps profile names this short. */
#define PROV_WIFI_NAME_MAX 32

struct prov_version {
    unsigned major, minor, micro;
};

/* One `credential = USER:PASSWORD` line: tried in file order (OOB-5). */
struct prov_credential {
    char *user;
    char *password;
};

/* One `acl = NAME:PASSWORD:REALM,...` line (OOB-8.1); realms as AMT numbers them. */
struct prov_acl_entry {
    char *user;
    char *password;
    uint32_t realms[PROV_REALMS_MAX];
    size_t n_realms;
};

/* One `profile = ...` line of [wireless] (OOB-8.4). */
struct prov_wireless_profile {
    char *name;
    char *ssid;
    enum prov_wifi_auth auth;
    enum prov_wifi_cipher cipher;
    enum prov_eap eap;
    char *psk;      /* the passphrase when eap is PROV_EAP_NONE */
    char *user;     /* EAP-TTLS/MSCHAPv2 and PEAPv0/EAP-MSCHAPv2 */
    char *password; /* idem */
};

/* Paths as the programs open them (NULL when the setting is not set). */
struct prov_paths {
    char *database;
    char *events; /* "-" stays "-": standard output */
    char *key_cache;
    char *ca_cert;
    char *ca_key;
    char *ca_chain;
    char *chain; /* the SP's provisioning chain */
    char *key;   /* its private key */
};

struct prov_config {
    /* The file loaded (NULL when none was) and its folder. */
    char *path;
    char *dir;

    /* The settings, as written: one field per row of prov_config_rows. */
    struct {
        char *database;
        char *api_listen; /* IPV4:PORT */
        char *pki_dir;
        char *ca_cert;
        char *ca_key;
        char *ca_chain;
        char *events;
        char *key_cache;
    } site;
    struct {
        char *domain;
        char *forest_root; /* NULL: the domain is its own forest */
        struct settings_list forest_domains;
        char *hello_listen;
        int hello_port;
        double hello_idle_timeout;
        int hello_max_connections;
        int mode; /* enum prov_mode */
        char *chain;
        char *key;
        struct settings_list credentials; /* secret */
        char *directory_ou;
        char *amt_version_min;
        char *amt_version_max; /* NULL: no upper bound */
        double time_scale;
    } sp;
    struct {
        char *mebx_password; /* secret */
        char *admin_user;
        int admin_password_length;
    } phase1;
    struct {
        struct settings_list acl; /* secret */
        bool ping, web_ui, sol, ider, kerberos, audit;
        int power_scheme; /* 0: not set */
    } phase2;
    struct {
        struct settings_list profiles; /* secret */
    } wireless;
    struct {
        int method; /* enum prov_eap; NONE: no wired 802.1X profile */
        char *user;
        char *password; /* secret */
    } dot1x;

    /* Derived from the settings each time they change; read-only for callers. */
    struct prov_paths paths;
    char api_address[INET_ADDRSTRLEN];
    unsigned api_port;
    struct prov_version amt_min;
    struct prov_version amt_max;
    bool has_amt_max;
    struct prov_credential *credentials;
    size_t n_credentials;
    struct prov_acl_entry *acl;
    size_t n_acl;
    struct prov_wireless_profile *wifi;
    size_t n_wifi;
};

extern const struct settings_row prov_config_rows[];

/* Every setting at its default, no file; prov_config_free it as after a load. */
int prov_config_defaults(struct prov_config *cfg, char *err, size_t errlen);

/*
 * Defaults, then the file. Returns 0 or a settings code (AMT_ERR_SETTINGS_*) with
 * "file:line: what" in err; on failure cfg holds nothing to free.
 */
int prov_config_load(const char *path, struct prov_config *cfg, char *err, size_t errlen);

/*
 * Sets "section.name" as a command-line option does (a list gains an item) and
 * derives again: how tests and `--set` point a loaded file at their own folders.
 */
int prov_config_set(struct prov_config *cfg, const char *key, const char *value,
                    char *err, size_t errlen);

/* Frees everything and wipes the secrets; a zeroed or NULL cfg is fine. */
void prov_config_free(struct prov_config *cfg);

/* "sp1", "sp2". */
const char *prov_config_mode_name(int mode);
/* "none", "eap-tls", "eap-ttls-mschapv2", "peapv0-mschapv2". */
const char *prov_config_eap_name(int eap);
/* "pt-administration" for 3, ...; NULL for a number that is no AMT realm. */
const char *prov_config_realm_name(uint32_t realm);

/* "X.Y" or "X.Y.Z" (micro 0 when missing), each part 0..255. */
int prov_config_version_parse(const char *text, struct prov_version *out);
/* <0, 0, >0 as a is older than, equal to or newer than b. */
int prov_config_version_cmp(const struct prov_version *a, const struct prov_version *b);
/* AMT-VERSION: within [sp] amt-version-min and amt-version-max. */
bool prov_config_version_supported(const struct prov_config *cfg,
                                   const struct prov_version *v);

/*
 * The power scheme phase 2 sets (OOB-8.3): 5 in SP1 mode whatever the file says;
 * in SP2 mode the configured one, or 0 to leave the device's scheme as it is.
 */
unsigned prov_config_power_scheme(const struct prov_config *cfg);

#endif
