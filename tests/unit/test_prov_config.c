/*
 * amtprov's configuration and its prerequisite checks: the sample site.ini loads
 * with the values it documents; every kind of mistake names the file, the line and
 * the setting, and never repeats a secret; each seed rule is refused on purpose with
 * material from the test PKI, and the sample passes.
 */
#include "config.h"
#include "err.h"
#include "prereq.h"
#include "unit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE AMT_TESTDATA_DIR "/amtprov/site.ini"
#define CERT(name) AMT_CERTS_DIR "/" name

static char tmp_root[] = "/tmp/test_prov_config.XXXXXX";
static unsigned file_counter;

/* Writes text to a fresh file under tmp_root and returns its path (static buffer). */
static const char *
write_ini(const char *text)
{
    static char path[300];
    FILE *f;

    snprintf(path, sizeof(path), "%s/case%u.ini", tmp_root, file_counter++);
    f = fopen(path, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(99);
    }
    return path;
}

/* The sample, pointed at the test PKI and with its writable files under tmp_root. */
static void
load_sample(struct prov_config *cfg)
{
    char err[512] = "";

    CU_ASSERT_EQUAL_FATAL(prov_config_load(SAMPLE, cfg, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(
        prov_config_set(cfg, "site.pki-dir", AMT_CERTS_DIR, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(
        prov_config_set(cfg, "site.database", tmp_root, err, sizeof(err)), 0);
}

static void
set(struct prov_config *cfg, const char *key, const char *value)
{
    char err[512] = "";
    int r = prov_config_set(cfg, key, value, err, sizeof(err));

    if (r != 0)
        fprintf(stderr, "prov_config_set %s: %s\n", key, err);
    CU_ASSERT_EQUAL_FATAL(r, 0);
}

/* --- configuration --- */

static void
test_sample_loads(void)
{
    struct prov_config cfg;
    char err[512] = "";
    static const uint32_t helpdesk[] = {5, 2, 13};

    CU_ASSERT_EQUAL_FATAL(prov_config_load(SAMPLE, &cfg, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(cfg.path, SAMPLE);
    CU_ASSERT_STRING_EQUAL(cfg.sp.domain, "contoso.com");
    CU_ASSERT_STRING_EQUAL(cfg.sp.forest_root, "contoso.com");
    CU_ASSERT_EQUAL(cfg.sp.forest_domains.n, 1);
    CU_ASSERT_STRING_EQUAL(cfg.api_address, "127.0.0.1");
    CU_ASSERT_EQUAL(cfg.api_port, 8089);
    CU_ASSERT_STRING_EQUAL(cfg.sp.hello_listen, "127.0.0.1");
    CU_ASSERT_EQUAL(cfg.sp.hello_port, 9971);
    CU_ASSERT_EQUAL(cfg.sp.mode, PROV_MODE_SP2);
    CU_ASSERT_STRING_EQUAL(cfg.sp.directory_ou, "OU=AMT");
    CU_ASSERT_EQUAL(cfg.amt_min.major, 3);
    CU_ASSERT_EQUAL(cfg.amt_min.minor, 2);
    CU_ASSERT_EQUAL(cfg.amt_min.micro, 1);
    CU_ASSERT_FALSE(cfg.has_amt_max);

    /* credentials in file order, split at the first colon */
    CU_ASSERT_EQUAL_FATAL(cfg.n_credentials, 2);
    CU_ASSERT_STRING_EQUAL(cfg.credentials[0].user, "admin");
    CU_ASSERT_STRING_EQUAL(cfg.credentials[0].password, "admin");
    CU_ASSERT_STRING_EQUAL(cfg.credentials[1].password, "Oem-Mebx-Passw0rd!");

    CU_ASSERT_STRING_EQUAL(cfg.phase1.mebx_password, "Mebx-Str0ng-Pass!");
    CU_ASSERT_STRING_EQUAL(cfg.phase1.admin_user, "admin");
    CU_ASSERT_EQUAL_FATAL(cfg.n_acl, 2);
    CU_ASSERT_STRING_EQUAL(cfg.acl[0].user, "helpdesk");
    CU_ASSERT_STRING_EQUAL(cfg.acl[0].password, "Help-Desk-Passw0rd");
    CU_ASSERT_EQUAL_FATAL(cfg.acl[0].n_realms, 3);
    CU_ASSERT_EQUAL(memcmp(cfg.acl[0].realms, helpdesk, sizeof(helpdesk)), 0);
    CU_ASSERT_TRUE(cfg.phase2.ping && cfg.phase2.web_ui && cfg.phase2.sol);
    CU_ASSERT_FALSE(cfg.phase2.ider || cfg.phase2.kerberos);
    CU_ASSERT_TRUE(cfg.phase2.audit);
    CU_ASSERT_EQUAL(prov_config_power_scheme(&cfg), 5);

    CU_ASSERT_EQUAL_FATAL(cfg.n_wifi, 2);
    CU_ASSERT_STRING_EQUAL(cfg.wifi[0].name, "office");
    CU_ASSERT_STRING_EQUAL(cfg.wifi[0].ssid, "CONTOSO-CORP");
    CU_ASSERT_EQUAL(cfg.wifi[0].auth, PROV_WIFI_WPA2);
    CU_ASSERT_EQUAL(cfg.wifi[0].cipher, PROV_WIFI_AES);
    CU_ASSERT_EQUAL(cfg.wifi[0].eap, PROV_EAP_NONE);
    CU_ASSERT_STRING_EQUAL(cfg.wifi[0].psk, "Office-Wifi-Passphrase-1");
    CU_ASSERT_EQUAL(cfg.wifi[1].eap, PROV_EAP_TLS);
    CU_ASSERT_PTR_NULL(cfg.wifi[1].psk);
    CU_ASSERT_EQUAL(cfg.dot1x.method, PROV_EAP_PEAPV0_MSCHAPV2);
    CU_ASSERT_STRING_EQUAL(cfg.dot1x.user, "CONTOSO\\amt-wired");

    /* relative paths start from the file's folder, certificates from pki-dir */
    CU_ASSERT_STRING_EQUAL(cfg.paths.chain, AMT_TESTDATA_DIR
                           "/amtprov/../../../build/certs/prov-oid.chain.pem");
    CU_ASSERT_STRING_EQUAL(cfg.paths.database,
                           AMT_TESTDATA_DIR "/amtprov/../../../build/amtprov-sample.db");
    CU_ASSERT_EQUAL(
        prov_config_set(&cfg, "site.pki-dir", AMT_CERTS_DIR, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(cfg.paths.chain, CERT("prov-oid.chain.pem"));
    CU_ASSERT_STRING_EQUAL(cfg.paths.key, CERT("prov-oid.key"));
    CU_ASSERT_STRING_EQUAL(cfg.paths.ca_cert, CERT("issuing-ca.crt"));
    prov_config_free(&cfg);
    CU_ASSERT_PTR_NULL(cfg.path);
    CU_ASSERT_EQUAL(cfg.n_credentials, 0);
}

static void
test_defaults(void)
{
    struct prov_config cfg;
    char err[512] = "";
    const char *path;

    CU_ASSERT_EQUAL_FATAL(prov_config_defaults(&cfg, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NULL(cfg.path);
    CU_ASSERT_STRING_EQUAL(cfg.site.api_listen, "127.0.0.1:8089");
    CU_ASSERT_STRING_EQUAL(cfg.sp.hello_listen, "127.0.0.1");
    CU_ASSERT_EQUAL(cfg.sp.hello_port, 9971);
    CU_ASSERT_DOUBLE_EQUAL(cfg.sp.hello_idle_timeout, 10, 1e-9);
    CU_ASSERT_EQUAL(cfg.sp.hello_max_connections, 64);
    CU_ASSERT_EQUAL(cfg.sp.mode, PROV_MODE_SP2);
    CU_ASSERT_STRING_EQUAL(cfg.sp.amt_version_min, "3.2.1");
    CU_ASSERT_PTR_NULL(cfg.sp.amt_version_max);
    CU_ASSERT_DOUBLE_EQUAL(cfg.sp.time_scale, 1, 1e-9);
    CU_ASSERT_STRING_EQUAL(cfg.phase1.admin_user, "admin");
    CU_ASSERT_EQUAL(cfg.phase1.admin_password_length, 16);
    CU_ASSERT_EQUAL(cfg.dot1x.method, PROV_EAP_NONE);
    CU_ASSERT_EQUAL(cfg.n_credentials, 0);
    CU_ASSERT_PTR_NULL(cfg.paths.chain);
    /* without a file, relative paths stay as written */
    CU_ASSERT_STRING_EQUAL(cfg.paths.database, "amtprov.db");
    /* SP2 without a scheme leaves the device's own; SP1 always sets 5 (OOB-8.3) */
    CU_ASSERT_EQUAL(prov_config_power_scheme(&cfg), 0);
    CU_ASSERT_EQUAL(prov_config_set(&cfg, "sp.mode", "sp1", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(prov_config_power_scheme(&cfg), 5);
    prov_config_free(&cfg);

    /* a file with one line keeps every other default; paths follow the file */
    path = write_ini("[sp]\ndomain = contoso.com\n");
    CU_ASSERT_EQUAL_FATAL(prov_config_load(path, &cfg, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(cfg.sp.hello_port, 9971);
    CU_ASSERT_STRING_EQUAL(cfg.dir, tmp_root);
    CU_ASSERT_PTR_NOT_NULL(strstr(cfg.paths.database, tmp_root));
    CU_ASSERT_PTR_NOT_NULL(strstr(cfg.paths.database, "/amtprov.db"));
    CU_ASSERT_EQUAL(prov_config_set(&cfg, "site.events", "-", err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(cfg.paths.events, "-");
    CU_ASSERT_EQUAL(prov_config_set(&cfg, "site.pki-dir", "pki", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(
        prov_config_set(&cfg, "sp.provisioning-chain", "c.pem", err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(cfg.paths.chain, "/pki/c.pem"));
    CU_ASSERT_EQUAL(
        prov_config_set(&cfg, "sp.provisioning-chain", "/abs/c.pem", err, sizeof(err)),
        0);
    CU_ASSERT_STRING_EQUAL(cfg.paths.chain, "/abs/c.pem");

    /* an MSCHAPv2 profile: the user ends at its colon, the password takes the rest */
    CU_ASSERT_EQUAL(prov_config_set(&cfg, "wireless.profile",
                                    "lab:LAB NET:wpa:tkip:eap-ttls-mschapv2:CONTOSO\\lab:"
                                    "Lab-Pass:w0rd",
                                    err, sizeof(err)),
                    0);
    CU_ASSERT_EQUAL_FATAL(cfg.n_wifi, 1);
    CU_ASSERT_STRING_EQUAL(cfg.wifi[0].ssid, "LAB NET");
    CU_ASSERT_EQUAL(cfg.wifi[0].auth, PROV_WIFI_WPA);
    CU_ASSERT_EQUAL(cfg.wifi[0].cipher, PROV_WIFI_TKIP);
    CU_ASSERT_EQUAL(cfg.wifi[0].eap, PROV_EAP_TTLS_MSCHAPV2);
    CU_ASSERT_STRING_EQUAL(cfg.wifi[0].user, "CONTOSO\\lab");
    CU_ASSERT_STRING_EQUAL(cfg.wifi[0].password, "Lab-Pass:w0rd");
    CU_ASSERT_PTR_NULL(cfg.wifi[0].psk);
    prov_config_free(&cfg);
    prov_config_free(NULL);
}

struct bad_case {
    const char *text;
    int code;
    int line;
    const char *setting; /* or the offending text, where there is no setting */
    const char *also;    /* another word the message must hold, or NULL */
};

static void
test_errors_name_file_line_setting(void)
{
    static const struct bad_case cases[] = {
        {"[site]\nthis is not a setting\n", AMT_ERR_SETTINGS_SYNTAX, 2,
         "this is not a setting", NULL},
        {"[nosuch]\n", AMT_ERR_SETTINGS_UNKNOWN, 1, "[nosuch]", NULL},
        {"[sp]\n\nfrobnicate = 1\n", AMT_ERR_SETTINGS_UNKNOWN, 3, "frobnicate", "[sp]"},
        {"[sp]\ndomain = a.com\ndomain = b.com\n", AMT_ERR_SETTINGS_DUPLICATE, 3,
         "domain", "line 2"},
        {"[sp]\nhello-port = 99999\n", AMT_ERR_SETTINGS_VALUE, 2, "hello-port", "99999"},
        {"[sp]\nhello-idle-timeout = 0\n", AMT_ERR_SETTINGS_VALUE, 2,
         "hello-idle-timeout", NULL},
        {"[sp]\nmode = sp3\n", AMT_ERR_SETTINGS_VALUE, 2, "mode", "sp1, sp2"},
        {"[phase2]\nping = maybe\n", AMT_ERR_SETTINGS_VALUE, 2, "ping", NULL},
        {"[phase2]\npower-scheme = 0\n", AMT_ERR_SETTINGS_VALUE, 2, "power-scheme", NULL},
        {"[sp]\nhello-listen = ::1\n", AMT_ERR_SETTINGS_VALUE, 2, "hello-listen",
         "NET-IPV4"},
        {"[sp]\nhello-listen = 10.0.0.300\n", AMT_ERR_SETTINGS_VALUE, 2, "hello-listen",
         "IPv4"},
        {"[site]\napi-listen = [::1]:8089\n", AMT_ERR_SETTINGS_VALUE, 2, "api-listen",
         "NET-IPV4"},
        {"[site]\napi-listen = 127.0.0.1\n", AMT_ERR_SETTINGS_VALUE, 2, "api-listen",
         "IPV4:PORT"},
        {"[site]\ndatabase =\n", AMT_ERR_SETTINGS_VALUE, 2, "database", NULL},
        {"[sp]\namt-version-min = three\n", AMT_ERR_SETTINGS_VALUE, 2, "amt-version-min",
         "X.Y"},
        {"[sp]\namt-version-max = 3.2.1.4\n", AMT_ERR_SETTINGS_VALUE, 2,
         "amt-version-max", NULL},
        {"[sp]\ncredential = admin:x\ncredential = nocolon\n", AMT_ERR_SETTINGS_VALUE, 3,
         "credential", "USER:PASSWORD"},
        {"[phase2]\nacl = bob:Pa55-word!:root-access\n", AMT_ERR_SETTINGS_VALUE, 2, "acl",
         "REALM"},
        {"[phase2]\nacl = bob:Pa55-word!:redirection,redirection\n",
         AMT_ERR_SETTINGS_VALUE, 2, "acl", NULL},
        {"[wireless]\nprofile = a:SSID:wep:aes:psk:Passphrase-1\n",
         AMT_ERR_SETTINGS_VALUE, 2, "profile", "wpa|wpa2"},
        {"[wireless]\nprofile = a:SSID:wpa2:aes:psk:short\n", AMT_ERR_SETTINGS_VALUE, 2,
         "profile", NULL},
        {"[wireless]\nprofile = a:SSID:wpa2:aes:eap-tls:extra\n", AMT_ERR_SETTINGS_VALUE,
         2, "profile", NULL},
        {"[wireless]\nprofile = a:SSID:wpa2:aes:peapv0-mschapv2:useronly\n",
         AMT_ERR_SETTINGS_VALUE, 2, "profile", NULL},
        {"[wireless]\nprofile = "
         "a:SSID-longer-than-thirty-two-characters:wpa2:aes:eap-tls\n",
         AMT_ERR_SETTINGS_VALUE, 2, "profile", NULL},
        {"[dot1x]\nmethod = leap\n", AMT_ERR_SETTINGS_VALUE, 2, "method", "eap-tls"},
        {"[phase1]\n\n\nmebx-password = \"Unterminated\n", AMT_ERR_SETTINGS_SYNTAX, 4,
         "mebx-password", NULL},
    };
    char err[1024], prefix[400];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct prov_config cfg;
        const char *path = write_ini(cases[i].text);
        int r;

        err[0] = '\0';
        r = prov_config_load(path, &cfg, err, sizeof(err));
        snprintf(prefix, sizeof(prefix), "%s:%d: ", path, cases[i].line);
        if (r != cases[i].code || strncmp(err, prefix, strlen(prefix)) != 0 ||
            strstr(err, cases[i].setting) == NULL ||
            (cases[i].also != NULL && strstr(err, cases[i].also) == NULL))
            fprintf(stderr, "case %zu: r=%d err=%s\n", i, r, err);
        CU_ASSERT_EQUAL(r, cases[i].code);
        CU_ASSERT_EQUAL(strncmp(err, prefix, strlen(prefix)), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].setting));
        if (cases[i].also != NULL)
            CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].also));
        /* a failed load leaves nothing behind */
        CU_ASSERT_PTR_NULL(cfg.path);
        CU_ASSERT_PTR_NULL(cfg.sp.domain);
        prov_config_free(&cfg);
    }

    /* a file that cannot be opened is named */
    {
        struct prov_config cfg;

        CU_ASSERT_EQUAL(prov_config_load("/nonexistent/site.ini", &cfg, err, sizeof(err)),
                        AMT_ERR_SETTINGS_OPEN);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/site.ini"));
    }
    /* an override is refused with the key it names */
    {
        struct prov_config cfg;

        CU_ASSERT_EQUAL_FATAL(prov_config_defaults(&cfg, err, sizeof(err)), 0);
        CU_ASSERT_EQUAL(
            prov_config_set(&cfg, "sp.hello-listen", "fe80::1", err, sizeof(err)),
            AMT_ERR_SETTINGS_VALUE);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "sp.hello-listen"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "NET-IPV4"));
        CU_ASSERT_STRING_EQUAL(cfg.sp.hello_listen, "127.0.0.1");
        CU_ASSERT_EQUAL(prov_config_set(&cfg, "sp.nosuch", "1", err, sizeof(err)),
                        AMT_ERR_SETTINGS_UNKNOWN);
        prov_config_free(&cfg);
    }
}

static void
test_secrets_not_echoed(void)
{
    static const char *const texts[] = {
        "[sp]\ncredential = Hidden-Secret-One\n",
        "[phase2]\nacl = bob:Hidden-Secret-Two:no-such-realm\n",
        /* two lines: the first is accepted, the second refused */
        ("[wireless]\nprofile = a:SSID:wpa2:aes:psk:Hidden-Secret-Three:wep\n"
         "profile = b:SSID:wpa3:aes:psk:Hidden-Secret-Four\n"),
        "[dot1x]\npassword =\n\n[dot1x]\npassword = Hidden-Secret-Five\n",
        "[phase1]\nmebx-password = \"Hidden-Secret-Six\" trailing\n",
    };
    char err[1024];

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct prov_config cfg;
        const char *path = write_ini(texts[i]);

        err[0] = '\0';
        CU_ASSERT_NOT_EQUAL(prov_config_load(path, &cfg, err, sizeof(err)), 0);
        if (strstr(err, "Hidden") != NULL)
            fprintf(stderr, "secret echoed: %s\n", err);
        CU_ASSERT_PTR_NULL(strstr(err, "Hidden"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
    }
    /* the value rows carry are shown as hidden, not left out silently */
    {
        struct prov_config cfg;
        const char *path = write_ini("[sp]\ncredential = Hidden-Secret-One\n");

        CU_ASSERT_NOT_EQUAL(prov_config_load(path, &cfg, err, sizeof(err)), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "(hidden)"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "credential"));
    }
    /* the same mistake in a value that is no secret is shown, to help */
    {
        struct prov_config cfg;
        const char *path = write_ini("[dot1x]\nmethod = Shown-Value\n");

        CU_ASSERT_NOT_EQUAL(prov_config_load(path, &cfg, err, sizeof(err)), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "Shown-Value"));
    }
}

static void
test_versions(void)
{
    struct prov_version v, w;
    struct prov_config cfg;
    char err[512];

    CU_ASSERT_EQUAL(prov_config_version_parse("3.2.1", &v), 0);
    CU_ASSERT_TRUE(v.major == 3 && v.minor == 2 && v.micro == 1);
    CU_ASSERT_EQUAL(prov_config_version_parse("4.0", &w), 0);
    CU_ASSERT_TRUE(w.major == 4 && w.minor == 0 && w.micro == 0);
    CU_ASSERT_TRUE(prov_config_version_cmp(&v, &w) < 0);
    CU_ASSERT_TRUE(prov_config_version_cmp(&w, &v) > 0);
    CU_ASSERT_EQUAL(prov_config_version_cmp(&v, &v), 0);
    CU_ASSERT_NOT_EQUAL(prov_config_version_parse("3", &v), 0);
    CU_ASSERT_NOT_EQUAL(prov_config_version_parse("3.2.1.4", &v), 0);
    CU_ASSERT_NOT_EQUAL(prov_config_version_parse("3..1", &v), 0);
    CU_ASSERT_NOT_EQUAL(prov_config_version_parse("256.0", &v), 0);
    CU_ASSERT_NOT_EQUAL(prov_config_version_parse("3.2.", &v), 0);
    CU_ASSERT_NOT_EQUAL(prov_config_version_parse("v4.0", &v), 0);
    CU_ASSERT_NOT_EQUAL(prov_config_version_parse("", &v), 0);

    /* AMT-VERSION: the supported range */
    CU_ASSERT_EQUAL_FATAL(prov_config_defaults(&cfg, err, sizeof(err)), 0);
    prov_config_version_parse("3.2.0", &v);
    CU_ASSERT_FALSE(prov_config_version_supported(&cfg, &v));
    prov_config_version_parse("3.2.1", &v);
    CU_ASSERT_TRUE(prov_config_version_supported(&cfg, &v));
    prov_config_version_parse("16.1", &v);
    CU_ASSERT_TRUE(prov_config_version_supported(&cfg, &v));
    CU_ASSERT_EQUAL(prov_config_set(&cfg, "sp.amt-version-max", "11.8", err, sizeof(err)),
                    0);
    CU_ASSERT_FALSE(prov_config_version_supported(&cfg, &v));
    prov_config_version_parse("11.8", &v);
    CU_ASSERT_TRUE(prov_config_version_supported(&cfg, &v));
    prov_config_free(&cfg);

    CU_ASSERT_STRING_EQUAL(prov_config_realm_name(3), "pt-administration");
    CU_ASSERT_PTR_NULL(prov_config_realm_name(1));
    CU_ASSERT_STRING_EQUAL(prov_config_mode_name(PROV_MODE_SP1), "sp1");
    CU_ASSERT_STRING_EQUAL(prov_config_eap_name(PROV_EAP_TTLS_MSCHAPV2),
                           "eap-ttls-mschapv2");
}

/* --- prerequisite checks --- */

#define RESULTS_MAX 96

struct collected {
    size_t n;
    struct {
        char id[32];
        char check[32];
        enum prov_prereq_verdict verdict;
        char text[2048];
    } r[RESULTS_MAX];
};

static void
collect(const struct prov_prereq_result *res, void *arg)
{
    struct collected *c = arg;

    if (c->n == RESULTS_MAX)
        return;
    snprintf(c->r[c->n].id, sizeof(c->r[c->n].id), "%s", res->id);
    snprintf(c->r[c->n].check, sizeof(c->r[c->n].check), "%s", res->check);
    c->r[c->n].verdict = res->verdict;
    snprintf(c->r[c->n].text, sizeof(c->r[c->n].text), "%s", res->text);
    c->n++;
}

static struct collected *
run(const struct prov_config *cfg, bool *ok)
{
    static struct collected c;

    memset(&c, 0, sizeof(c));
    *ok = prov_prereq_run(cfg, collect, &c);
    return &c;
}

/* How many results of this id and verdict hold every word given (NULL ends). */
static size_t
count(const struct collected *c, const char *id, enum prov_prereq_verdict verdict, ...)
{
    size_t n = 0;

    for (size_t i = 0; i < c->n; i++) {
        va_list ap;
        const char *word;
        bool all = true;

        if (strcmp(c->r[i].id, id) != 0 || c->r[i].verdict != verdict)
            continue;
        va_start(ap, verdict);
        while ((word = va_arg(ap, const char *)) != NULL)
            if (strstr(c->r[i].text, word) == NULL)
                all = false;
        va_end(ap);
        n += all;
    }
    return n;
}

static size_t
count_verdict(const struct collected *c, enum prov_prereq_verdict verdict)
{
    size_t n = 0;

    for (size_t i = 0; i < c->n; i++)
        n += c->r[i].verdict == verdict;
    return n;
}

static void
dump(const struct collected *c)
{
    for (size_t i = 0; i < c->n; i++)
        fprintf(stderr, "  %s %s/%s: %s\n", prov_prereq_verdict_name(c->r[i].verdict),
                c->r[i].id, c->r[i].check, c->r[i].text);
}

static char *
first_line(const char *path)
{
    char *text = (char *)unit_read_file(path, NULL);

    text[strcspn(text, "\n")] = '\0';
    return text;
}

static void
test_prereq_sample_passes(void)
{
    struct prov_config cfg;
    struct collected *c;
    char *sha1 = first_line(CERT("root-ca.sha1.txt"));
    char *sha256 = first_line(CERT("root-ca.sha256.txt"));
    char *sha384 = first_line(CERT("root-ca.sha384.txt"));
    bool ok;

    load_sample(&cfg);
    c = run(&cfg, &ok);
    if (!ok || count_verdict(c, PROV_PREREQ_FAIL) != 0)
        dump(c);
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_EQUAL(count_verdict(c, PROV_PREREQ_FAIL), 0);
    CU_ASSERT_EQUAL(count_verdict(c, PROV_PREREQ_SKIP), 0);
    /* the values to put in AMT firmware, exactly as the PKI computed them */
    CU_ASSERT_EQUAL(count(c, "OOB-3", PROV_PREREQ_INFO, sha1, NULL), 1);
    CU_ASSERT_EQUAL(count(c, "OOB-3", PROV_PREREQ_INFO, sha256, NULL), 1);
    CU_ASSERT_EQUAL(count(c, "OOB-3", PROV_PREREQ_INFO, sha384, NULL), 1);
    CU_ASSERT_EQUAL(count(c, "PKI-CA-KEYLEN", PROV_PREREQ_PASS, NULL), 1);
    CU_ASSERT_EQUAL(count(c, "OOB-3.4", PROV_PREREQ_PASS, NULL), 1);
    CU_ASSERT_EQUAL(count(c, "OOB-3.5", PROV_PREREQ_PASS, "provserver.contoso.com", NULL),
                    1);
    CU_ASSERT_EQUAL(count(c, "NS-FOREST", PROV_PREREQ_PASS, NULL), 2);
    CU_ASSERT_EQUAL(count(c, "PKI-CERTS", PROV_PREREQ_PASS, "private key belongs", NULL),
                    1);
    CU_ASSERT_EQUAL(count(c, "PKI-CERTS", PROV_PREREQ_PASS, "issuing CA", NULL), 1);
    /* the sample supports AMT 3.2.1 with wireless and audit on: warned, not refused */
    CU_ASSERT_EQUAL(count(c, "AMT-8021X", PROV_PREREQ_WARN, "4.0", NULL), 1);
    CU_ASSERT_EQUAL(count(c, "AMT-AUDIT", PROV_PREREQ_WARN, "4.0", NULL), 1);
    /* secrets stay out of the report */
    for (size_t i = 0; i < c->n; i++) {
        CU_ASSERT_PTR_NULL(strstr(c->r[i].text, "Mebx-Str0ng-Pass!"));
        CU_ASSERT_PTR_NULL(strstr(c->r[i].text, "Help-Desk-Passw0rd"));
        CU_ASSERT_PTR_NULL(strstr(c->r[i].text, "Oem-Mebx-Passw0rd!"));
    }
    free(sha1);
    free(sha256);
    free(sha384);
    prov_config_free(&cfg);
}

static void
test_prereq_ca_keylen(void)
{
    struct prov_config cfg;
    struct collected *c;
    char line[2100];
    bool ok;

    load_sample(&cfg);
    set(&cfg, "sp.provisioning-chain", "bad-ca-4096.chain.pem");
    set(&cfg, "sp.provisioning-key", "bad-ca-4096.key");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "PKI-CA-KEYLEN", PROV_PREREQ_FAIL, "4096 bits", "2048",
                          CERT("bad-ca-4096.chain.pem"), NULL),
                    1);
    for (size_t i = 0; i < c->n; i++) {
        struct prov_prereq_result res = {c->r[i].id, c->r[i].check, c->r[i].verdict,
                                         c->r[i].text};

        if (strcmp(c->r[i].id, "PKI-CA-KEYLEN") != 0)
            continue;
        prov_prereq_format(&res, line, sizeof(line));
        CU_ASSERT_EQUAL(
            strncmp(line,
                    "PKI-CA-KEYLEN: " CERT(
                        "bad-ca-4096.chain.pem") ": the chain's CA key is 4096 bits",
                    strlen("PKI-CA-KEYLEN: " CERT(
                        "bad-ca-4096.chain.pem") ": the chain's CA key is 4096 bits")),
            0);
    }
    prov_config_free(&cfg);
}

static void
test_prereq_no_oid_no_ou(void)
{
    struct prov_config cfg;
    struct collected *c;
    bool ok;

    load_sample(&cfg);
    set(&cfg, "sp.provisioning-chain", "bad-no-oid-no-ou.chain.pem");
    set(&cfg, "sp.provisioning-key", "bad-no-oid-no-ou.key");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "OOB-3.4", PROV_PREREQ_FAIL, "no-amt-oid-or-ou", NULL), 1);
    CU_ASSERT_EQUAL(count_verdict(c, PROV_PREREQ_FAIL), 1);

    /* the OU in another case is told apart: AMT compares it exactly */
    set(&cfg, "sp.provisioning-chain", "bad-ou-case.chain.pem");
    set(&cfg, "sp.provisioning-key", "bad-ou-case.key");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "OOB-3.4", PROV_PREREQ_FAIL, "ou-case-mismatch", NULL), 1);

    /* the OU alone is enough */
    set(&cfg, "sp.provisioning-chain", "prov-ou.chain.pem");
    set(&cfg, "sp.provisioning-key", "prov-ou.key");
    c = run(&cfg, &ok);
    CU_ASSERT_TRUE(ok);
    prov_config_free(&cfg);
}

static void
test_prereq_expired(void)
{
    struct prov_config cfg;
    struct collected *c;
    bool ok;

    load_sample(&cfg);
    set(&cfg, "sp.provisioning-chain", "bad-expired.chain.pem");
    set(&cfg, "sp.provisioning-key", "bad-expired.key");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(
        count(c, "PKI-CERTS", PROV_PREREQ_FAIL, "expired on 2021-01-01", NULL), 1);
    /* judged while it was valid, the rest of the chain is fine */
    CU_ASSERT_EQUAL(count(c, "OOB-3.4", PROV_PREREQ_PASS, NULL), 1);
    CU_ASSERT_EQUAL(count_verdict(c, PROV_PREREQ_FAIL), 1);
    prov_config_free(&cfg);
}

static void
test_prereq_key_mismatch(void)
{
    struct prov_config cfg;
    struct collected *c;
    bool ok;

    load_sample(&cfg);
    set(&cfg, "sp.provisioning-key", "prov-ou.key");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "PKI-CERTS", PROV_PREREQ_FAIL, "does not belong",
                          CERT("prov-ou.key"), NULL),
                    1);
    CU_ASSERT_EQUAL(count_verdict(c, PROV_PREREQ_FAIL), 1);

    /* a certificate is not a key */
    set(&cfg, "sp.provisioning-key", "prov-oid.crt");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "PKI-CERTS", PROV_PREREQ_FAIL, "cannot be read", NULL), 1);

    /* so is the site's CA key */
    set(&cfg, "sp.provisioning-key", "prov-oid.key");
    set(&cfg, "site.ca-key", "root-ca.key");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "PKI-CERTS", PROV_PREREQ_FAIL, "does not belong",
                          CERT("root-ca.key"), NULL),
                    1);
    prov_config_free(&cfg);
}

static void
test_prereq_chain_unreadable_or_rootless(void)
{
    struct prov_config cfg;
    struct collected *c;
    bool ok;

    load_sample(&cfg);
    set(&cfg, "sp.provisioning-chain", "no-such-file.pem");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "PKI-CERTS", PROV_PREREQ_FAIL, "no-such-file.pem", NULL), 1);
    CU_ASSERT_EQUAL(count(c, "PKI-CA-KEYLEN", PROV_PREREQ_SKIP, NULL), 1);
    CU_ASSERT_EQUAL(count(c, "OOB-3.5", PROV_PREREQ_SKIP, NULL), 1);

    /* a leaf alone has no root to put in firmware */
    set(&cfg, "sp.provisioning-chain", "prov-oid.crt");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "OOB-3", PROV_PREREQ_FAIL, "no self-signed root", NULL), 1);
    CU_ASSERT_EQUAL(count(c, "OOB-3", PROV_PREREQ_INFO, NULL), 0);
    prov_config_free(&cfg);
}

static void
test_prereq_forest(void)
{
    struct prov_config cfg;
    struct collected *c;
    bool ok;

    /* NS-FOREST: the catalogue's non-contiguous example */
    load_sample(&cfg);
    set(&cfg, "sp.domain", "northwindtraders.com");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "NS-FOREST", PROV_PREREQ_FAIL, "northwindtraders.com",
                          "contoso.com", NULL),
                    1);
    CU_ASSERT_EQUAL(count(c, "OOB-3.5", PROV_PREREQ_SKIP, NULL), 1);
    prov_config_free(&cfg);

    /* a listed domain of the forest is in it */
    load_sample(&cfg);
    set(&cfg, "sp.forest-domain", "fabrikam.com");
    set(&cfg, "sp.domain", "fabrikam.com");
    c = run(&cfg, &ok);
    CU_ASSERT_EQUAL(count(c, "NS-FOREST", PROV_PREREQ_PASS, "fabrikam.com", NULL), 1);
    /* but no AMT there accepts a contoso.com CN */
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "OOB-3.5", PROV_PREREQ_FAIL, "provserver.contoso.com",
                          "fabrikam.com", NULL),
                    1);
    prov_config_free(&cfg);

    /* not a DNS name */
    load_sample(&cfg);
    set(&cfg, "sp.domain", "contoso..com");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "NS-FOREST", PROV_PREREQ_FAIL, "not a DNS name", NULL), 1);
    prov_config_free(&cfg);
}

static void
test_prereq_cn_outside_domain(void)
{
    struct prov_config cfg;
    struct collected *c;
    bool ok;

    load_sample(&cfg);
    set(&cfg, "sp.provisioning-chain", "bad-evilcontoso.chain.pem");
    set(&cfg, "sp.provisioning-key", "bad-evilcontoso.key");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(
        count(c, "OOB-3.5", PROV_PREREQ_FAIL, "provserver.evilcontoso.com", NULL), 1);
    prov_config_free(&cfg);

    /* the whole-suffix rule of older AMT: a child domain no longer matches */
    load_sample(&cfg);
    set(&cfg, "sp.amt-version-min", "3.0");
    c = run(&cfg, &ok);
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_EQUAL(count(c, "OOB-3.5", PROV_PREREQ_WARN, "na.contoso.com", NULL), 1);
    prov_config_free(&cfg);
}

static void
test_prereq_sp1_wireless_and_power(void)
{
    struct prov_config cfg;
    struct collected *c;
    bool ok;

    load_sample(&cfg);
    set(&cfg, "sp.mode", "sp1");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "AMT-8021X", PROV_PREREQ_FAIL, "SP1", NULL), 1);
    /* the sample's scheme 5 is what SP1 sets anyway */
    CU_ASSERT_EQUAL(count(c, "OOB-8.3", PROV_PREREQ_PASS, NULL), 1);
    set(&cfg, "phase2.power-scheme", "3");
    c = run(&cfg, &ok);
    CU_ASSERT_EQUAL(count(c, "OOB-8.3", PROV_PREREQ_FAIL, "SP1", NULL), 1);
    prov_config_free(&cfg);

    /* SP1 with only a wired profile is refused too */
    load_sample(&cfg);
    set(&cfg, "sp.mode", "sp1");
    cfg.n_wifi = 0; /* hidden from the check, still freed by prov_config_free */
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "AMT-8021X", PROV_PREREQ_FAIL, "wired", NULL), 1);
    cfg.n_wifi = 2;
    prov_config_free(&cfg);

    /* a MSCHAPv2 wired profile needs its user */
    load_sample(&cfg);
    free(cfg.dot1x.user);
    cfg.dot1x.user = NULL;
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "AMT-8021X", PROV_PREREQ_FAIL, "user and password", NULL),
                    1);
    prov_config_free(&cfg);
}

static void
test_prereq_ipv6_listen(void)
{
    struct prov_config cfg;
    struct collected *c;
    bool ok;

    /* the loader refuses it already; a configuration made in code is checked too */
    load_sample(&cfg);
    free(cfg.sp.hello_listen);
    cfg.sp.hello_listen = strdup("::1");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "NET-IPV4", PROV_PREREQ_FAIL, "hello-listen", "::1", NULL),
                    1);
    prov_config_free(&cfg);

    load_sample(&cfg);
    free(cfg.site.api_listen);
    cfg.site.api_listen = strdup("[::1]:8089");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "NET-IPV4", PROV_PREREQ_FAIL, "api-listen", NULL), 1);
    prov_config_free(&cfg);
}

static void
test_prereq_passwords_and_users(void)
{
    struct prov_config cfg;
    struct collected *c;
    bool ok;

    load_sample(&cfg);
    set(&cfg, "phase1.mebx-password", "weakpass");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "OOB-7.5", PROV_PREREQ_FAIL, "no-digit", NULL), 1);
    for (size_t i = 0; i < c->n; i++)
        CU_ASSERT_PTR_NULL(strstr(c->r[i].text, "weakpass"));
    prov_config_free(&cfg);

    /* a password AMT's policy forbids a character of */
    load_sample(&cfg);
    set(&cfg, "phase2.acl", "ops:Op5-Pass:word:remote-control");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(
        count(c, "OOB-8.1", PROV_PREREQ_FAIL, "acl 3", "forbidden-char", NULL), 1);
    prov_config_free(&cfg);

    /* ACL user names: unique, not the admin account, AMT's rule */
    load_sample(&cfg);
    set(&cfg, "phase2.acl", "helpdesk:An0ther-Pass!:redirection");
    set(&cfg, "phase2.acl", "admin:An0ther-Pass!:redirection");
    set(&cfg, "phase2.acl", "a-user-name-of-17c:An0ther-Pass!:redirection");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "OOB-8.1", PROV_PREREQ_FAIL, "acl 3", "acl 1", NULL), 1);
    CU_ASSERT_EQUAL(count(c, "OOB-8.1", PROV_PREREQ_FAIL, "acl 4", "admin account", NULL),
                    1);
    CU_ASSERT_EQUAL(count(c, "OOB-8.1", PROV_PREREQ_FAIL, "acl 5", "too-long", NULL), 1);
    prov_config_free(&cfg);

    /* credentials: user names by AMT's rule, reported by position only */
    load_sample(&cfg);
    set(&cfg, "sp.credential", "$$reserved:whatever");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "OOB-5", PROV_PREREQ_FAIL, "credential 3", "reserved", NULL),
                    1);
    CU_ASSERT_EQUAL(count(c, "OOB-5", PROV_PREREQ_FAIL, "$$reserved", NULL), 0);
    prov_config_free(&cfg);

    load_sample(&cfg);
    set(&cfg, "phase1.admin-user", "$$admin");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "OOB-7.4", PROV_PREREQ_FAIL, "reserved", NULL), 1);
    prov_config_free(&cfg);
}

static void
test_prereq_nothing_configured(void)
{
    struct prov_config cfg;
    struct collected *c;
    char err[512];
    bool ok;

    /* what `import` or `status` may run with is not enough to serve */
    CU_ASSERT_EQUAL_FATAL(prov_config_defaults(&cfg, err, sizeof(err)), 0);
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "PKI-CERTS", PROV_PREREQ_FAIL, "provisioning-chain", NULL),
                    1);
    CU_ASSERT_EQUAL(count(c, "PKI-CERTS", PROV_PREREQ_FAIL, "ca-cert", NULL), 1);
    CU_ASSERT_EQUAL(count(c, "NS-FOREST", PROV_PREREQ_FAIL, "domain", NULL), 1);
    CU_ASSERT_EQUAL(count(c, "OOB-5", PROV_PREREQ_FAIL, "none given", NULL), 1);
    CU_ASSERT_EQUAL(count(c, "OOB-7.5", PROV_PREREQ_FAIL, "not set", NULL), 1);
    /* the defaults themselves are good */
    CU_ASSERT_EQUAL(count(c, "DIR-OU", PROV_PREREQ_PASS, NULL), 1);
    CU_ASSERT_EQUAL(count(c, "NET-IPV4", PROV_PREREQ_PASS, NULL), 1);
    CU_ASSERT_EQUAL(count(c, "PORT-9971", PROV_PREREQ_PASS, NULL), 1);
    prov_config_free(&cfg);
}

static void
test_prereq_ou_form(void)
{
    static const struct {
        const char *ou;
        bool good;
        const char *why;
    } cases[] = {
        {"OU=AMT", true, NULL},
        {"OU=AMT,OU=Managed Computers", true, NULL},
        {"ou = AMT , CN=Computers", true, NULL},
        {"OU=A\\,B", true, NULL},
        {"OU=A\\2CB", true, NULL},
        {"OU=AMT,DC=contoso,DC=com", false, "DC="},
        {"O=Contoso", false, "OU= and CN="},
        {"OU=", false, "empty"},
        {"OU=A,B", false, "TYPE=VALUE"},
        {"OU=A+CN=B", false, "escaped"},
        {"OU=AMT,", false, "comma"},
        {"OU=#AMT", false, "'#'"},
        {"OU=A\\q", false, "backslash"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct prov_config cfg;
        struct collected *c;
        bool ok;

        load_sample(&cfg);
        set(&cfg, "sp.directory-ou", cases[i].ou);
        c = run(&cfg, &ok);
        if (ok != cases[i].good)
            fprintf(stderr, "DIR-OU case %zu (%s)\n", i, cases[i].ou);
        CU_ASSERT_EQUAL(ok, cases[i].good);
        if (cases[i].good) {
            CU_ASSERT_EQUAL(count(c, "DIR-OU", PROV_PREREQ_PASS, NULL), 1);
        } else {
            CU_ASSERT_EQUAL(count(c, "DIR-OU", PROV_PREREQ_FAIL, cases[i].why, NULL), 1);
        }
        prov_config_free(&cfg);
    }
}

static void
test_prereq_versions_and_port(void)
{
    struct prov_config cfg;
    struct collected *c;
    bool ok;

    load_sample(&cfg);
    set(&cfg, "sp.amt-version-min", "5.0");
    set(&cfg, "sp.amt-version-max", "4.0");
    c = run(&cfg, &ok);
    CU_ASSERT_FALSE(ok);
    CU_ASSERT_EQUAL(count(c, "AMT-VERSION", PROV_PREREQ_FAIL, "5.0", "4.0", NULL), 1);
    prov_config_free(&cfg);

    /* another port is allowed, with a warning; so is audit once AMT 4.0 is the floor */
    load_sample(&cfg);
    set(&cfg, "sp.hello-port", "19971");
    set(&cfg, "sp.amt-version-min", "4.0");
    c = run(&cfg, &ok);
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_EQUAL(count(c, "PORT-9971", PROV_PREREQ_WARN, "19971", NULL), 1);
    CU_ASSERT_EQUAL(count(c, "AMT-AUDIT", PROV_PREREQ_PASS, NULL), 1);
    CU_ASSERT_EQUAL(count(c, "AMT-8021X", PROV_PREREQ_PASS, NULL), 1);
    prov_config_free(&cfg);
}

static void
test_prereq_print(void)
{
    struct prov_prereq_result res = {"PKI-CA-KEYLEN", "ca-key-length", PROV_PREREQ_FAIL,
                                     "x.pem: too long"};
    char path[300], *text;
    FILE *f;

    snprintf(path, sizeof(path), "%s/print.txt", tmp_root);
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    prov_prereq_print(&res, f);
    fclose(f);
    text = (char *)unit_read_file(path, NULL);
    CU_ASSERT_STRING_EQUAL(text, "fail  PKI-CA-KEYLEN: x.pem: too long\n");
    free(text);
    CU_ASSERT_STRING_EQUAL(prov_prereq_verdict_name(PROV_PREREQ_WARN), "warn");
}

static int
suite_init(void)
{
    return mkdtemp(tmp_root) == NULL ? -1 : 0;
}

static int
suite_clean(void)
{
    char cmd[300];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

static CU_TestInfo config_tests[] = {
    {"the sample site.ini loads", test_sample_loads},
    {"defaults and paths", test_defaults},
    {"errors name file, line and setting", test_errors_name_file_line_setting},
    {"secrets are not echoed", test_secrets_not_echoed},
    {"AMT versions", test_versions},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo prereq_tests[] = {
    {"the sample passes", test_prereq_sample_passes},
    {"PKI-CA-KEYLEN: a 4096-bit CA", test_prereq_ca_keylen},
    {"OOB-3.4: no OID, no OU", test_prereq_no_oid_no_ou},
    {"PKI-CERTS: expired", test_prereq_expired},
    {"PKI-CERTS: a key that does not match", test_prereq_key_mismatch},
    {"PKI-CERTS, OOB-3: unreadable or rootless chain",
     test_prereq_chain_unreadable_or_rootless},
    {"NS-FOREST: domain outside the forest", test_prereq_forest},
    {"OOB-3.5: CN outside the domain", test_prereq_cn_outside_domain},
    {"AMT-8021X, OOB-8.3: SP1 mode", test_prereq_sp1_wireless_and_power},
    {"NET-IPV4: IPv6 listen", test_prereq_ipv6_listen},
    {"OOB-5, OOB-7.4, OOB-7.5, OOB-8.1: users and passwords",
     test_prereq_passwords_and_users},
    {"nothing configured", test_prereq_nothing_configured},
    {"DIR-OU: container form", test_prereq_ou_form},
    {"AMT-VERSION, PORT-9971, AMT-AUDIT", test_prereq_versions_and_port},
    {"report format", test_prereq_print},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    /* one folder for both suites: made before the first, removed after the last */
    {"prov_config", suite_init, NULL, NULL, NULL, config_tests},
    {"prov_prereq", NULL, suite_clean, NULL, NULL, prereq_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_prov_config", suites);
}
