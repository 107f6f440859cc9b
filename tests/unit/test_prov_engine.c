/*
 * The provisioning engine against amt-sim in this process, both on one loop: a
 * factory-fresh device is provisioned end to end (OOB-3 to OOB-9) and the site
 * database, the device and both event logs are compared; a credential list whose
 * first entry is wrong (OOB-5), one with no right entry (digest-exhausted, device
 * untouched) and a version below the configured minimum (AMT-VERSION) stop where
 * they must.
 */
#include "amtclient.h"
#include "ca.h"
#include "clock.h"
#include "config.h"
#include "curl_loop.h"
#include "db.h"
#include "device.h"
#include "directory.h"
#include "engine.h"
#include "err.h"
#include "evlog.h"
#include "hello.h"
#include "keypool.h"
#include "loop.h"
#include "net.h"
#include "services.h"
#include "unit.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Real seconds a provisioning may take before the test gives up on it. */
#define RUN_LIMIT 60.0

static char tmp_root[] = "/tmp/test_prov_engine.XXXXXX";
static char sim_events_path[300], sp_events_path[300], ca_path[300], db_path[300];
static unsigned device_counter, config_counter;
static struct keypool *keys;
static struct amt_clock *vclock;
static struct evlog *sim_events, *sp_events;
static struct amt_loop *loop;
static struct sim_net *net;
static struct curl_loop *cloop;
static struct amt_client *client;
static struct site_db *db;
static struct dir *dir;
static struct site_ca *ca;

static double
real_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- the device --- */

struct fixture {
    char dir[256];
    char uuid[40];
    struct sim_device_config cfg;
    struct sim_env env;
    struct sim_device *dev;
};

static int
read_thumbprint(const char *name, struct amt_thumbprint *out)
{
    char path[512], line[256];
    FILE *fp;
    int r = AMT_ERR_NOT_FOUND;

    snprintf(path, sizeof(path), "%s/%s", AMT_CERTS_DIR, name);
    if ((fp = fopen(path, "r")) == NULL)
        return AMT_ERR_SYSTEM;
    if (fgets(line, sizeof(line), fp) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        r = thumbprint_parse(line, out);
    }
    fclose(fp);
    return r;
}

/* A factory-fresh device on its own 127.0.0.x address, imported into the site. */
static void
fixture_start(struct fixture *f, const char *version)
{
    unsigned n = device_counter++;
    char err[256] = "", host[32];
    struct site_import_row row;

    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "%s/dev%u", tmp_root, n);
    snprintf(f->uuid, sizeof(f->uuid), "5e1f0a20-0000-4000-8000-%012x", n + 1);
    CU_ASSERT_EQUAL_FATAL(uuid_parse(f->uuid, &f->cfg.uuid), 0);
    CU_ASSERT_EQUAL_FATAL(sim_profile_from_text(version, &f->cfg.profile), 0);
    CU_ASSERT_FATAL(n < 20);
    snprintf(f->cfg.listen, sizeof(f->cfg.listen), "127.0.0.%u", 110 + n);
    f->cfg.flash_dir = f->dir;
    f->cfg.dhcp_domain = "contoso.com";
    f->cfg.lockout_failures = 20;
    f->cfg.lockout_seconds = 60;
    CU_ASSERT_EQUAL_FATAL(read_thumbprint("root-ca.sha1.txt", &f->cfg.roots[0]), 0);
    f->cfg.n_roots = 1;
    f->env.events = sim_events;
    f->env.clock = vclock;
    f->env.keys = keys;
    CU_ASSERT_EQUAL_FATAL(sim_device_open(&f->cfg, &f->env, &f->dev, err, sizeof(err)),
                          0);
    CU_ASSERT_EQUAL_FATAL(sim_net_add_device(net, f->dev, err, sizeof(err)), 0);
    snprintf(host, sizeof(host), "amt-eng%u", n);
    row = (struct site_import_row){f->uuid, host, "contoso.com", "OU=AMT", false};
    CU_ASSERT_EQUAL_FATAL(site_db_import_devices(db, &row, 1), 0);
}

static void
fixture_stop(struct fixture *f)
{
    sim_net_remove_device(net, f->dev);
    for (int i = 0; i < 5; i++)
        loop_run_once(loop, 1);
    sim_wsman_forget_device(f->dev);
    sim_device_free(f->dev);
    f->dev = NULL;
}

/* --- the configuration --- */

static void
load_config(struct prov_config *cfg, const char *credentials)
{
    char path[300], err[512] = "";
    FILE *fp;

    snprintf(path, sizeof(path), "%s/site%u.ini", tmp_root, config_counter++);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp = fopen(path, "w"));
    fprintf(fp,
            "[site]\ndatabase = %s\npki-dir = %s\nca-cert = issuing-ca.crt\n"
            "ca-key = issuing-ca.key\nca-chain = root-ca.crt\n"
            "[sp]\ndomain = contoso.com\nprovisioning-chain = prov-oid.chain.pem\n"
            "provisioning-key = prov-oid.key\n%sdirectory-ou = OU=AMT\n"
            "amt-version-min = 3.2.1\n"
            "[phase1]\nmebx-password = Mebx-Str0ng-Pass!\nadmin-user = admin\n"
            "admin-password-length = 16\n"
            "[phase2]\nacl = helpdesk:Help-Desk-Passw0rd:remote-control,redirection\n"
            "acl = auditor:Audit0r-Passw0rd!:event-log-reader\naudit = on\n"
            "ping = on\nweb-ui = on\nsol = on\nider = off\npower-scheme = 3\n",
            db_path, AMT_CERTS_DIR, credentials);
    CU_ASSERT_EQUAL_FATAL(fclose(fp), 0);
    if (prov_config_load(path, cfg, err, sizeof(err)) != 0)
        fprintf(stderr, "prov_config_load: %s\n", err);
    CU_ASSERT_EQUAL_FATAL(cfg->n_credentials > 0, true);
}

/* --- a run --- */

struct outcome {
    bool done;
    int verdict;
    char step[64];
    char reason[64];
};

static void
on_done(void *arg, const char *uuid, int verdict, const char *step, const char *reason)
{
    struct outcome *o = arg;

    (void)uuid;
    o->done = true;
    o->verdict = verdict;
    snprintf(o->step, sizeof(o->step), "%s", step);
    snprintf(o->reason, sizeof(o->reason), "%s", reason);
}

/* Fault injection: the device whose request after method goes unanswered. */
static struct sim_device *drop_dev;
static const char *drop_after_method;

static void
before_send(void *arg, const char *uuid, const char *step, const char *method)
{
    (void)arg;
    (void)uuid;
    (void)step;
    if (drop_dev != NULL && drop_after_method != NULL &&
        strcmp(method, drop_after_method) == 0) {
        /* this request is answered, the next one is cut before the device reads it */
        CU_ASSERT_EQUAL(sim_net_fault_drop_after(net, drop_dev, 1), 0);
        drop_dev = NULL;
    }
}

static void
peer_of(const struct fixture *f, struct sockaddr_in *peer)
{
    memset(peer, 0, sizeof(*peer));
    peer->sin_family = AF_INET;
    CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET, f->cfg.listen, &peer->sin_addr), 1);
}

static struct prov_engine *
engine_for(const struct prov_config *cfg, struct outcome *o)
{
    struct prov_engine *e = NULL;
    struct prov_engine_options opts;

    CU_ASSERT_EQUAL_FATAL(prov_engine_new(loop, client, db, dir, ca, cfg, sp_events, &e),
                          0);
    memset(&opts, 0, sizeof(opts));
    opts.connect_port_https = sim_net_bound_port(net, SIM_PORT_HTTPS);
    opts.ca_file = ca_path;
    opts.done = on_done;
    opts.done_arg = o;
    opts.before_send = before_send;
    prov_engine_set_options(e, &opts);
    return e;
}

static void
run_until_done(struct outcome *o)
{
    double limit = real_now() + RUN_LIMIT;

    while (!o->done && real_now() < limit)
        loop_run_once(loop, 10);
    CU_ASSERT_TRUE(o->done);
}

/* recover() on f, to its end. */
static void
recover(struct fixture *f, const struct prov_config *cfg, struct outcome *o)
{
    struct prov_engine *e;
    struct sockaddr_in peer;

    memset(o, 0, sizeof(*o));
    peer_of(f, &peer);
    e = engine_for(cfg, o);
    CU_ASSERT_EQUAL_FATAL(prov_engine_recover(e, f->uuid, &peer), 0);
    CU_ASSERT_TRUE(prov_engine_in_flight(e, f->uuid));
    run_until_done(o);
    prov_engine_free(e);
}

static bool start_in_band;

static void
provision(struct fixture *f, const struct prov_config *cfg, bool mebx_changed,
          struct outcome *o)
{
    struct prov_engine *e;
    struct sockaddr_in peer;
    struct hello h;

    memset(o, 0, sizeof(*o));
    memset(&h, 0, sizeof(h));
    h.admin_credentials_set = mebx_changed;
    h.uuid = f->cfg.uuid;
    peer_of(f, &peer);
    e = engine_for(cfg, o);
    CU_ASSERT_EQUAL_FATAL(prov_engine_start(e, f->uuid, &peer, &h, start_in_band), 0);
    CU_ASSERT_TRUE(prov_engine_in_flight(e, f->uuid));
    CU_ASSERT_EQUAL(prov_engine_start(e, f->uuid, &peer, &h, start_in_band),
                    AMT_ERR_ENGINE_IN_FLIGHT);
    run_until_done(o);
    CU_ASSERT_FALSE(prov_engine_in_flight(e, f->uuid));
    CU_ASSERT_EQUAL(prov_engine_count(e), 0);
    prov_engine_free(e);
}

/* --- the logs --- */

struct scan {
    const char *uuid;
    enum evlog_actor actor;
    char seen[8192]; /* "ID:result " for each event of the device and actor */
};

static int
scan_event(const struct evlog_event *ev, void *arg)
{
    struct scan *s = arg;
    size_t len = strlen(s->seen);

    if (ev->actor == s->actor && strcmp(ev->device, s->uuid) == 0)
        snprintf(s->seen + len, sizeof(s->seen) - len, "%s:%s%s%s ", ev->id,
                 evlog_result_name(ev->result), ev->reason != NULL ? ":" : "",
                 ev->reason != NULL ? ev->reason : "");
    return 0;
}

static void
events_of(const char *path, const char *uuid, enum evlog_actor actor, struct scan *s)
{
    memset(s, 0, sizeof(*s));
    s->uuid = uuid;
    s->actor = actor;
    CU_ASSERT_EQUAL(evlog_read_file(path, scan_event, s, NULL, NULL, 0), 0);
}

/* Whether every word of want appears in seen, in that order. */
static bool
in_order(const char *seen, const char *const *want, size_t n)
{
    const char *at = seen;

    for (size_t i = 0; i < n; i++) {
        if ((at = strstr(at, want[i])) == NULL) {
            fprintf(stderr, "missing or out of order: %s\nin: %s\n", want[i], seen);
            return false;
        }
        at += strlen(want[i]);
    }
    return true;
}

/* --- tests --- */

static bool
issued_by_issuing_ca(const char *pem)
{
    char path[512];
    FILE *fp;
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *leaf = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    X509 *issuer = NULL;
    bool ok = false;

    snprintf(path, sizeof(path), "%s/issuing-ca.crt", AMT_CERTS_DIR);
    if ((fp = fopen(path, "r")) != NULL) {
        issuer = PEM_read_X509(fp, NULL, NULL, NULL);
        fclose(fp);
    }
    if (leaf != NULL && issuer != NULL)
        ok = X509_check_issued(issuer, leaf) == X509_V_OK &&
             X509_verify(leaf, X509_get0_pubkey(issuer)) == 1;
    X509_free(leaf);
    X509_free(issuer);
    BIO_free(bio);
    return ok;
}

static void
test_provisioned_end_to_end(void)
{
    struct prov_config cfg;
    struct fixture f;
    struct outcome o;
    struct site_device row;
    struct site_credential admin, mebx;
    unsigned char ha1[16], want[16];
    unsigned int len = 0, rights = 0;
    char input[512], host[SITE_HOST_MAX + 1];
    struct scan s;
    static const char *const sp_steps[] = {
        "OOB-4.4:ok",   "AMT-VERSION:ok", "OOB-6:ok",   "OOB-7.1:ok", "OOB-7.2:ok",
        "OOB-7.3:ok",   "OOB-7.4:ok",     "OOB-3.2:ok", /* the CA-issued certificate,
                                                           verified */
        "OOB-4.4:ok",   "OOB-7.5:ok",     "OOB-7.6:ok", "OOB-8:ok",   "OOB-8.1:info",
        "OOB-8.1:ok",   "OOB-8.1:ok",     "OOB-8.2:ok", "OOB-8.3:ok", "AMT-AUDIT:ok",
        "OOB-8.4:skip", "OOB-9:ok",
    };

    load_config(&cfg, "credential = admin:admin\n");
    fixture_start(&f, "4.0");
    /* an entry left from before, which OOB-8.1 removes */
    memset(ha1, 0x5a, sizeof(ha1));
    CU_ASSERT_EQUAL_FATAL(sim_device_acl_add_ha1(f.dev, "leftover", ha1, 1u << 0), 0);
    provision(&f, &cfg, false, &o);
    CU_ASSERT_EQUAL(o.verdict, 0);
    CU_ASSERT_STRING_EQUAL(o.step, "OOB-9");
    if (o.verdict != 0)
        fprintf(stderr, "failed at %s: %s\n", o.step, o.reason);

    /* the site */
    CU_ASSERT_EQUAL_FATAL(site_db_device_get(db, f.uuid, &row), 0);
    CU_ASSERT_EQUAL(row.state, SITE_STATE_PROVISIONED);
    CU_ASSERT_STRING_EQUAL(row.amt_version, "4.0.0");
    CU_ASSERT_EQUAL_FATAL(site_db_credential_get(db, f.uuid, SITE_SECRET_ADMIN, &admin),
                          0);
    CU_ASSERT_TRUE(admin.has_current);
    CU_ASSERT_FALSE(admin.has_pending);
    CU_ASSERT_STRING_EQUAL(admin.user, "admin");
    CU_ASSERT_EQUAL(strlen(admin.password), 16);
    CU_ASSERT_EQUAL(site_db_credential_get(db, f.uuid, SITE_SECRET_MEBX, &mebx), 0);
    CU_ASSERT_TRUE(mebx.has_current);
    CU_ASSERT_STRING_EQUAL(mebx.password, "Mebx-Str0ng-Pass!");

    /* the device */
    snprintf(host, sizeof(host), "%s", row.host);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_PROVISIONED);
    CU_ASSERT_STRING_EQUAL(sim_device_host_name(f.dev), host);
    CU_ASSERT_STRING_EQUAL(sim_device_domain_name(f.dev), "contoso.com");
    CU_ASSERT_TRUE(sim_device_tls_enabled(f.dev));
    CU_ASSERT_TRUE(issued_by_issuing_ca(sim_device_tls_cert_pem(f.dev)));
    CU_ASSERT_TRUE(sim_device_mebx_password_changed(f.dev));
    CU_ASSERT_EQUAL_FATAL(sim_device_user_ha1(f.dev, "admin", ha1, &rights), 0);
    snprintf(input, sizeof(input), "admin:%s:%s", sim_device_realm(f.dev),
             admin.password);
    CU_ASSERT_EQUAL(EVP_Digest(input, strlen(input), want, &len, EVP_md5(), NULL), 1);
    CU_ASSERT_EQUAL(memcmp(ha1, want, 16), 0);
    site_credential_wipe(&admin);
    site_credential_wipe(&mebx);
    /* OOB-8.2, OOB-8.3 (SP2: the configured scheme) */
    CU_ASSERT_TRUE(sim_device_switch(f.dev, SIM_SWITCH_PING));
    CU_ASSERT_TRUE(sim_device_switch(f.dev, SIM_SWITCH_WEB_UI));
    CU_ASSERT_TRUE(sim_device_switch(f.dev, SIM_SWITCH_SOL));
    CU_ASSERT_FALSE(sim_device_switch(f.dev, SIM_SWITCH_IDER));
    CU_ASSERT_EQUAL(sim_device_power_scheme(f.dev), 3);
    CU_ASSERT_TRUE(sim_device_switch(f.dev, SIM_SWITCH_AUDIT));
    /* OOB-8.1: the configured users only, with HA1s in the device's realm */
    CU_ASSERT_EQUAL(sim_device_acl_count(f.dev), 2);
    CU_ASSERT_NOT_EQUAL(sim_device_user_ha1(f.dev, "leftover", ha1, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(sim_device_user_ha1(f.dev, "helpdesk", ha1, &rights), 0);
    snprintf(input, sizeof(input), "helpdesk:%s:Help-Desk-Passw0rd",
             sim_device_realm(f.dev));
    CU_ASSERT_EQUAL(EVP_Digest(input, strlen(input), want, &len, EVP_md5(), NULL), 1);
    CU_ASSERT_EQUAL(memcmp(ha1, want, 16), 0);
    CU_ASSERT_EQUAL(sim_device_user_ha1(f.dev, "auditor", ha1, NULL), 0);

    /* the logs, in catalogue order */
    events_of(sp_events_path, f.uuid, EVLOG_ACTOR_SP, &s);
    CU_ASSERT_TRUE(in_order(s.seen, sp_steps, sizeof(sp_steps) / sizeof(sp_steps[0])));
    events_of(sim_events_path, f.uuid, EVLOG_ACTOR_AMT, &s);
    {
        static const char *const amt_steps[] = {"OOB-7.1:ok", "OOB-7.3:ok", "OOB-7.4:ok",
                                                "OOB-7.6:ok"};

        CU_ASSERT_TRUE(in_order(s.seen, amt_steps, 4));
    }
    fixture_stop(&f);
    prov_config_free(&cfg);
}

/* OOB-5: the first credential is refused, the second opens the device. */
static void
test_second_credential(void)
{
    struct prov_config cfg;
    struct fixture f;
    struct outcome o;
    struct site_device row;
    struct scan s;
    static const char *const steps[] = {"OOB-4.4:fail", "OOB-5:info", "OOB-4.4:ok",
                                        "OOB-9:ok"};

    load_config(&cfg, "credential = admin:Wrong-Passw0rd!\ncredential = admin:admin\n");
    fixture_start(&f, "4.0");
    /* the owner changed the MEBx password: it is left alone */
    provision(&f, &cfg, true, &o);
    CU_ASSERT_EQUAL(o.verdict, 0);
    CU_ASSERT_EQUAL(site_db_device_get(db, f.uuid, &row), 0);
    CU_ASSERT_EQUAL(row.state, SITE_STATE_PROVISIONED);
    events_of(sp_events_path, f.uuid, EVLOG_ACTOR_SP, &s);
    CU_ASSERT_TRUE(in_order(s.seen, steps, 4));
    CU_ASSERT_PTR_NOT_NULL(strstr(s.seen, "OOB-7.5:skip"));
    CU_ASSERT_FALSE(sim_device_mebx_password_changed(f.dev));
    fixture_stop(&f);
    prov_config_free(&cfg);
}

/* No credential works: failed, and nothing on the device changed. */
static void
test_digest_exhausted(void)
{
    struct prov_config cfg;
    struct fixture f;
    struct outcome o;
    struct site_device row;
    struct site_credential admin;

    load_config(&cfg,
                "credential = admin:Wrong-Passw0rd!\ncredential = admin:Other-1!\n");
    fixture_start(&f, "4.0");
    provision(&f, &cfg, false, &o);
    CU_ASSERT_NOT_EQUAL(o.verdict, 0);
    CU_ASSERT_STRING_EQUAL(o.reason, "digest-exhausted");
    CU_ASSERT_STRING_EQUAL(o.step, "OOB-5");
    CU_ASSERT_EQUAL(site_db_device_get(db, f.uuid, &row), 0);
    CU_ASSERT_EQUAL(row.state, SITE_STATE_FAILED);
    CU_ASSERT_STRING_EQUAL(row.last_error, "digest-exhausted");
    CU_ASSERT_EQUAL(site_db_credential_get(db, f.uuid, SITE_SECRET_ADMIN, &admin), 0);
    CU_ASSERT_FALSE(admin.has_current || admin.has_pending);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_SETUP);
    CU_ASSERT_FALSE(sim_device_admin_password_set(f.dev));
    CU_ASSERT_FALSE(sim_device_tls_enabled(f.dev));
    fixture_stop(&f);
    prov_config_free(&cfg);
}

/* AMT-VERSION: a 2.5 device is below 3.2.1 and is left as it came. */
static void
test_unsupported_version(void)
{
    struct prov_config cfg;
    struct fixture f;
    struct outcome o;
    struct site_device row;
    struct scan s;

    load_config(&cfg, "credential = admin:admin\n");
    fixture_start(&f, "2.5");
    provision(&f, &cfg, false, &o);
    CU_ASSERT_EQUAL(o.verdict, AMT_ERR_ENGINE_VERSION);
    CU_ASSERT_STRING_EQUAL(o.step, "AMT-VERSION");
    CU_ASSERT_EQUAL(site_db_device_get(db, f.uuid, &row), 0);
    CU_ASSERT_EQUAL(row.state, SITE_STATE_FAILED);
    CU_ASSERT_STRING_EQUAL(row.last_error, "unsupported-version");
    events_of(sp_events_path, f.uuid, EVLOG_ACTOR_SP, &s);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.seen, "AMT-VERSION:fail"));
    CU_ASSERT_PTR_NULL(strstr(s.seen, "OOB-6"));
    CU_ASSERT_PTR_NULL(strstr(s.seen, "OOB-7"));
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_SETUP);
    CU_ASSERT_FALSE(sim_device_admin_password_set(f.dev));
    CU_ASSERT_PTR_NULL(sim_device_host_name(f.dev) != NULL &&
                               strstr(sim_device_host_name(f.dev), "amt-eng") != NULL
                           ? "renamed"
                           : NULL);
    fixture_stop(&f);
    prov_config_free(&cfg);
}

/* SP1 mode: power scheme 5 whatever the file says; wireless skipped for the mode. */
static void
test_sp1_mode(void)
{
    struct prov_config cfg;
    struct fixture f;
    struct outcome o;
    struct scan s;

    load_config(&cfg, "credential = admin:admin\nmode = sp1\n");
    fixture_start(&f, "4.0");
    provision(&f, &cfg, false, &o);
    CU_ASSERT_EQUAL(o.verdict, 0);
    CU_ASSERT_EQUAL(sim_device_power_scheme(f.dev), 5);
    events_of(sp_events_path, f.uuid, EVLOG_ACTOR_SP, &s);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.seen, "OOB-8.3:ok"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s.seen, "OOB-8.4:skip:sp1-mode"));
    fixture_stop(&f);

    /* already 5 (IsCurrent): left as it is */
    fixture_start(&f, "4.0");
    CU_ASSERT_EQUAL_FATAL(sim_device_set_power_scheme(f.dev, 5), 0);
    provision(&f, &cfg, false, &o);
    CU_ASSERT_EQUAL(o.verdict, 0);
    events_of(sp_events_path, f.uuid, EVLOG_ACTOR_SP, &s);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.seen, "OOB-8.3:skip:power-scheme-already-set"));
    CU_ASSERT_PTR_NULL(strstr(s.seen, "OOB-8.3:ok"));
    fixture_stop(&f);
    prov_config_free(&cfg);
}

/* AMT 3.2.1 in SP2 mode: provisioned, wireless, 802.1X and auditing skipped. */
static void
test_old_version_skips(void)
{
    struct prov_config cfg;
    struct fixture f;
    struct outcome o;
    struct scan s;

    load_config(&cfg, "credential = admin:admin\n");
    CU_ASSERT_EQUAL(cfg.sp.mode, PROV_MODE_SP2);
    fixture_start(&f, "3.2.1");
    provision(&f, &cfg, false, &o);
    CU_ASSERT_EQUAL(o.verdict, 0);
    if (o.verdict != 0)
        fprintf(stderr, "failed at %s: %s\n", o.step, o.reason);
    events_of(sp_events_path, f.uuid, EVLOG_ACTOR_SP, &s);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.seen, "OOB-8.4:skip:amt-older-than-4"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s.seen, "AMT-AUDIT:skip:unsupported-before-4"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s.seen, "OOB-9:ok"));
    fixture_stop(&f);
    prov_config_free(&cfg);
}

/*
 * The request that sets the admin password is lost: the device failed at OOB-7.4
 * with the password still pending, and recover() finds the device kept its old
 * password and discards the pending one.
 */
static void
test_lost_admin_request(void)
{
    struct prov_config cfg;
    struct fixture f;
    struct outcome o;
    struct site_device row;
    struct site_credential admin;

    load_config(&cfg, "credential = admin:admin\n");
    fixture_start(&f, "4.0");
    drop_dev = f.dev;
    drop_after_method = "GetDigestRealm";
    provision(&f, &cfg, false, &o);
    drop_after_method = NULL;
    CU_ASSERT_NOT_EQUAL(o.verdict, 0);
    CU_ASSERT_STRING_EQUAL(o.step, "OOB-7.4");
    CU_ASSERT_EQUAL(site_db_device_get(db, f.uuid, &row), 0);
    CU_ASSERT_EQUAL(row.state, SITE_STATE_FAILED);
    CU_ASSERT_STRING_EQUAL(row.last_step, "OOB-7.4");
    CU_ASSERT_EQUAL_FATAL(site_db_credential_get(db, f.uuid, SITE_SECRET_ADMIN, &admin),
                          0);
    CU_ASSERT_TRUE(admin.has_pending);
    CU_ASSERT_FALSE(admin.has_current);
    site_credential_wipe(&admin);
    CU_ASSERT_FALSE(sim_device_admin_password_set(f.dev));

    recover(&f, &cfg, &o);
    CU_ASSERT_EQUAL(o.verdict, 0);
    CU_ASSERT_STRING_EQUAL(o.reason, "pending-discarded");
    CU_ASSERT_EQUAL(site_db_credential_get(db, f.uuid, SITE_SECRET_ADMIN, &admin), 0);
    CU_ASSERT_FALSE(admin.has_pending);
    site_credential_wipe(&admin);
    fixture_stop(&f);
    prov_config_free(&cfg);
}

/* The device took the pending password (only its reply was lost): confirmed. */
static void
test_recover_confirms(void)
{
    struct prov_config cfg;
    struct fixture f;
    struct outcome o;
    struct site_credential admin;
    struct prov_engine *e;
    struct sockaddr_in peer;

    load_config(&cfg, "credential = admin:admin\n");
    fixture_start(&f, "4.0");
    CU_ASSERT_EQUAL_FATAL(site_db_password_pending(db, f.uuid, SITE_SECRET_ADMIN, "admin",
                                                   "Pend1ng-Passw0rd!"),
                          0);
    CU_ASSERT_EQUAL_FATAL(
        sim_device_set_admin_password(f.dev, "admin", "Pend1ng-Passw0rd!"), 0);
    recover(&f, &cfg, &o);
    CU_ASSERT_EQUAL(o.verdict, 0);
    CU_ASSERT_STRING_EQUAL(o.reason, "pending-confirmed");
    CU_ASSERT_EQUAL(site_db_credential_get(db, f.uuid, SITE_SECRET_ADMIN, &admin), 0);
    CU_ASSERT_TRUE(admin.has_current);
    CU_ASSERT_FALSE(admin.has_pending);
    CU_ASSERT_STRING_EQUAL(admin.password, "Pend1ng-Passw0rd!");
    site_credential_wipe(&admin);
    /* nothing left to recover */
    memset(&o, 0, sizeof(o));
    peer_of(&f, &peer);
    e = engine_for(&cfg, &o);
    CU_ASSERT_EQUAL(prov_engine_recover(e, f.uuid, &peer), AMT_ERR_SITE_NO_PENDING);
    prov_engine_free(e);
    fixture_stop(&f);
    prov_config_free(&cfg);
}

/* The OTP as the agent would have put it on the device, its hash at the site. */
static void
set_otp(struct fixture *f, const char *device_otp, const char *site_otp)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char hex[65];

    CU_ASSERT_EQUAL_FATAL(sim_device_set_otp(f->dev, device_otp), 0);
    CU_ASSERT_EQUAL_FATAL(
        EVP_Digest(site_otp, strlen(site_otp), md, &len, EVP_sha256(), NULL), 1);
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    CU_ASSERT_EQUAL_FATAL(site_db_otp_hash_set(db, f->uuid, hex), 0);
}

/* In band: IB-4 passes on the right OTP, and the IB-* steps follow. */
static void
test_in_band(void)
{
    struct prov_config cfg;
    struct fixture f;
    struct outcome o;
    struct scan s;
    static const char *const steps[] = {
        "IB-7.4:ok",  "AMT-VERSION:ok", "IB-4:ok",    "IB-9:ok",
        "IB-10.1:ok", "IB-10.4:ok",     "IB-10.6:ok", "IB-11.1:ok",
        "IB-11:skip", "IB-11.2:ok",     "IB-12:ok",
    };

    load_config(&cfg, "credential = admin:admin\n");
    fixture_start(&f, "4.0");
    set_otp(&f, "Otp-Of-The-Agent-1", "Otp-Of-The-Agent-1");
    start_in_band = true;
    provision(&f, &cfg, false, &o);
    start_in_band = false;
    CU_ASSERT_EQUAL(o.verdict, 0);
    CU_ASSERT_STRING_EQUAL(o.step, "IB-12");
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_PROVISIONED);
    events_of(sp_events_path, f.uuid, EVLOG_ACTOR_SP, &s);
    CU_ASSERT_TRUE(in_order(s.seen, steps, sizeof(steps) / sizeof(steps[0])));
    CU_ASSERT_PTR_NULL(strstr(s.seen, "OOB-7"));
    fixture_stop(&f);
    prov_config_free(&cfg);
}

/* In band, the device reports another OTP than the site knows: IB-4 stops it. */
static void
test_in_band_otp_mismatch(void)
{
    struct prov_config cfg;
    struct fixture f;
    struct outcome o;
    struct site_device row;
    struct scan s;

    load_config(&cfg, "credential = admin:admin\n");
    fixture_start(&f, "4.0");
    set_otp(&f, "Otp-Of-The-Agent-1", "Another-Otp-2");
    start_in_band = true;
    provision(&f, &cfg, false, &o);
    start_in_band = false;
    CU_ASSERT_NOT_EQUAL(o.verdict, 0);
    CU_ASSERT_STRING_EQUAL(o.step, "IB-4");
    CU_ASSERT_STRING_EQUAL(o.reason, "otp-mismatch");
    CU_ASSERT_EQUAL(site_db_device_get(db, f.uuid, &row), 0);
    CU_ASSERT_EQUAL(row.state, SITE_STATE_FAILED);
    events_of(sp_events_path, f.uuid, EVLOG_ACTOR_SP, &s);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.seen, "IB-4:fail:otp-mismatch"));
    CU_ASSERT_PTR_NULL(strstr(s.seen, "IB-9"));
    CU_ASSERT_PTR_NULL(strstr(s.seen, "IB-10"));
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_SETUP);
    CU_ASSERT_FALSE(sim_device_admin_password_set(f.dev));
    fixture_stop(&f);
    prov_config_free(&cfg);
}

/* Through the hello listener's hooks, to a device whose 16993 is firewalled. */
static void
test_port_blocked_via_hello_hooks(void)
{
    struct prov_config cfg;
    struct fixture f;
    struct outcome o;
    struct site_device row;
    struct prov_engine *e;
    struct sockaddr_in peer;
    struct hello h;
    bool yes = false;

    load_config(&cfg, "credential = admin:admin\n");
    fixture_start(&f, "4.0");
    CU_ASSERT_EQUAL_FATAL(
        sim_net_fault_port(net, f.dev, SIM_PORT_HTTPS, SIM_PORT_FAULT_REJECT), 0);
    memset(&o, 0, sizeof(o));
    memset(&h, 0, sizeof(h));
    h.uuid = f.cfg.uuid;
    peer_of(&f, &peer);
    e = engine_for(&cfg, &o);
    prov_engine_hello_start(e, &f.cfg.uuid, &peer, &h);
    CU_ASSERT_EQUAL(prov_engine_hello_in_flight(e, &f.cfg.uuid, &yes), 0);
    CU_ASSERT_TRUE(yes);
    run_until_done(&o);
    CU_ASSERT_EQUAL(prov_engine_hello_in_flight(e, &f.cfg.uuid, &yes), 0);
    CU_ASSERT_FALSE(yes);
    prov_engine_free(e);
    CU_ASSERT_STRING_EQUAL(o.step, "OOB-3");
    CU_ASSERT_STRING_EQUAL(o.reason, "port-16993-unreachable");
    CU_ASSERT_EQUAL(site_db_device_get(db, f.uuid, &row), 0);
    CU_ASSERT_EQUAL(row.state, SITE_STATE_FAILED);
    CU_ASSERT_STRING_EQUAL(row.last_error, "port-16993-unreachable");
    fixture_stop(&f);
    prov_config_free(&cfg);
}

/* --- suite --- */

static int
write_ca_file(void)
{
    char path[512];
    FILE *out = fopen(ca_path, "w");
    const char *names[] = {"issuing-ca.crt", "root-ca.crt"};

    if (out == NULL)
        return -1;
    for (size_t i = 0; i < 2; i++) {
        unsigned char *pem;

        snprintf(path, sizeof(path), "%s/%s", AMT_CERTS_DIR, names[i]);
        if ((pem = unit_read_file(path, NULL)) == NULL)
            break;
        fputs((const char *)pem, out);
        free(pem);
    }
    return fclose(out) == 0 ? 0 : -1;
}

static int
suite_init(void)
{
    static const struct sim_http_handlers handlers = {
        .soap = sim_soap_handle,
        .wsman = sim_wsman_handle,
        .is_soap_path = sim_soap_path,
    };
    struct sim_net_options o;
    char err[512] = "", cert[512], key[512], chain[512];

    signal(SIGPIPE, SIG_IGN);
    if (mkdtemp(tmp_root) == NULL || keypool_new(2048, &keys) != 0 ||
        clock_new_virtual(1000, &vclock) != 0 || loop_new(vclock, &loop) != 0)
        return -1;
    snprintf(sim_events_path, sizeof(sim_events_path), "%s/sim.jsonl", tmp_root);
    snprintf(sp_events_path, sizeof(sp_events_path), "%s/sp.jsonl", tmp_root);
    snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", tmp_root);
    snprintf(db_path, sizeof(db_path), "%s/site.db", tmp_root);
    if (evlog_open(sim_events_path, &sim_events) != 0 ||
        evlog_open(sp_events_path, &sp_events) != 0 || write_ca_file() != 0)
        return -1;
    if (site_db_open(db_path, &db, err, sizeof(err)) != 0 ||
        dir_new_embedded(db, &dir) != 0 ||
        dir_create_container(dir, "OU=AMT", "contoso.com", err, sizeof(err)) != 0) {
        fprintf(stderr, "site: %s\n", err);
        return -1;
    }
    snprintf(cert, sizeof(cert), "%s/issuing-ca.crt", AMT_CERTS_DIR);
    snprintf(key, sizeof(key), "%s/issuing-ca.key", AMT_CERTS_DIR);
    snprintf(chain, sizeof(chain), "%s/root-ca.crt", AMT_CERTS_DIR);
    if (site_ca_load(cert, key, chain, &ca, err, sizeof(err)) != 0) {
        fprintf(stderr, "site_ca_load: %s\n", err);
        return -1;
    }
    sim_net_options_default(&o);
    sim_net_options_port_base(&o, 25000 + (unsigned)(getpid() % 1000) * 4);
    if (sim_net_new(loop, &handlers, &o, &net) != 0 || curl_loop_new(loop, &cloop) != 0 ||
        amt_client_new(loop, cloop, sp_events, &client) != 0)
        return -1;
    return 0;
}

static int
suite_clean(void)
{
    char cmd[300];

    amt_client_free(client);
    curl_loop_free(cloop);
    sim_net_free(net);
    sim_wsman_forget_all();
    loop_free(loop);
    site_ca_free(ca);
    dir_free(dir);
    site_db_close(db);
    evlog_free(sim_events);
    evlog_free(sp_events);
    clock_free(vclock);
    keypool_free(keys);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

static CU_TestInfo engine_tests[] = {
    {"provisioned end to end (4.0)", test_provisioned_end_to_end},
    {"second credential (OOB-5)", test_second_credential},
    {"digest exhausted", test_digest_exhausted},
    {"unsupported version", test_unsupported_version},
    {"SP1 mode: power scheme 5", test_sp1_mode},
    {"port 16993 blocked, via the hello hooks", test_port_blocked_via_hello_hooks},
    {"in band (IB-4 OTP matches)", test_in_band},
    {"in band, OTP mismatch", test_in_band_otp_mismatch},
    {"3.2.1 in SP2: wireless and audit skipped", test_old_version_skips},
    {"admin request lost, then recovered", test_lost_admin_request},
    {"recover confirms a password the device took", test_recover_confirms},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"engine", suite_init, suite_clean, NULL, NULL, engine_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_prov_engine", suites);
}
