/* The firmware model: states, settings in flash, authentication data, power. */
#include "clock.h"
#include "device.h"
#include "err.h"
#include "evlog.h"
#include "keypool.h"
#include "unit.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GOOD_PASSWORD "P@ssw0rd-Strong1"

static char tmp_root[] = "/tmp/test_sim_device.XXXXXX";
static unsigned dir_counter;
static struct keypool *keys;
static struct amt_clock *vclock;
static struct evlog *events;
static char events_path[300];

struct fixture {
    char dir[256];
    struct sim_device_config cfg;
    struct sim_env env;
    struct sim_device *dev;
};

static void
fixture_config(struct fixture *f, const char *version)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "%s/dev%u", tmp_root, dir_counter++);
    CU_ASSERT_EQUAL_FATAL(
        uuid_parse("12345678-9abc-def0-1234-56789abcdef0", &f->cfg.uuid), 0);
    CU_ASSERT_EQUAL_FATAL(sim_profile_from_text(version, &f->cfg.profile), 0);
    strcpy(f->cfg.listen, "127.0.0.2");
    f->cfg.flash_dir = f->dir;
    f->cfg.dhcp_domain = "contoso.com";
    f->cfg.lockout_failures = 3;
    f->cfg.lockout_seconds = 60;
    f->env.events = events;
    f->env.clock = vclock;
    f->env.keys = keys;
}

static void
fixture_open(struct fixture *f)
{
    char err[256] = "";

    f->dev = NULL;
    CU_ASSERT_EQUAL_FATAL(sim_device_open(&f->cfg, &f->env, &f->dev, err, sizeof(err)),
                          0);
}

static void
fixture_reopen(struct fixture *f)
{
    sim_device_free(f->dev);
    fixture_open(f);
}

/* HA1 of user:realm:password, to compare with what the device stores. */
static void
ha1_of(const char *user, const char *realm, const char *password, unsigned char out[16])
{
    char buf[512];
    unsigned int len;

    snprintf(buf, sizeof(buf), "%s:%s:%s", user, realm, password);
    EVP_Digest(buf, strlen(buf), out, &len, EVP_md5(), NULL);
}

static void
provision(struct fixture *f)
{
    CU_ASSERT_EQUAL(sim_device_set_time(f->dev, 1700000000), 0);
    CU_ASSERT_EQUAL(sim_device_set_host_name(f->dev, "pc1"), 0);
    CU_ASSERT_EQUAL(sim_device_set_domain_name(f->dev, "contoso.com"), 0);
    CU_ASSERT_EQUAL(sim_device_set_tls_enabled(f->dev, true), 0);
    CU_ASSERT_EQUAL(sim_device_set_admin_password(f->dev, "admin", GOOD_PASSWORD), 0);
    CU_ASSERT_EQUAL(sim_device_commit(f->dev), 0);
}

static void
test_factory_device(void)
{
    struct fixture f;
    unsigned char ha1[16], want[16];
    unsigned rights = 0;

    fixture_config(&f, "4.0");
    fixture_open(&f);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_SETUP);
    CU_ASSERT_STRING_EQUAL(sim_device_realm(f.dev),
                           "Intel(R) AMT (ID:12345678-9ABC-DEF0-1234-56789ABCDEF0)");
    CU_ASSERT_STRING_EQUAL(sim_device_pki_suffix(f.dev), "contoso.com");
    CU_ASSERT_FALSE(sim_device_mebx_password_changed(f.dev));
    CU_ASSERT_FALSE(sim_device_tls_enabled(f.dev));
    CU_ASSERT_PTR_NOT_NULL(sim_device_tls_key_pem(f.dev));
    CU_ASSERT_PTR_NOT_NULL(strstr(sim_device_tls_cert_pem(f.dev), "BEGIN CERTIFICATE"));
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_ON);
    CU_ASSERT_STRING_EQUAL(sim_device_uuid_text(f.dev),
                           "12345678-9abc-def0-1234-56789abcdef0");

    /* the factory admin password is "admin" */
    CU_ASSERT_EQUAL(sim_device_user_ha1(f.dev, "admin", ha1, &rights), 0);
    ha1_of("admin", sim_device_realm(f.dev), "admin", want);
    CU_ASSERT_EQUAL(memcmp(ha1, want, 16), 0);
    CU_ASSERT(rights & SIM_RIGHT_ADMIN);
    CU_ASSERT_EQUAL(sim_device_user_ha1(f.dev, "nobody", ha1, NULL), AMT_ERR_NOT_FOUND);
    sim_device_free(f.dev);
}

static void
test_newer_realm_form_and_kept(void)
{
    struct fixture f;
    char realm[64];

    fixture_config(&f, "12.0");
    fixture_open(&f);
    CU_ASSERT_EQUAL(strncmp(sim_device_realm(f.dev), "Digest:", 7), 0);
    CU_ASSERT_EQUAL(strlen(sim_device_realm(f.dev)), 7 + 32);
    snprintf(realm, sizeof(realm), "%s", sim_device_realm(f.dev));
    fixture_reopen(&f);
    CU_ASSERT_STRING_EQUAL(sim_device_realm(f.dev), realm);
    sim_device_free(f.dev);
}

static void
test_provisioning_moves_states_and_persists(void)
{
    struct fixture f;
    unsigned char ha1[16], want[16];
    char cert[8192];

    fixture_config(&f, "4.0");
    fixture_open(&f);
    snprintf(cert, sizeof(cert), "%s", sim_device_tls_cert_pem(f.dev));
    /* the certificate is kept across restarts */
    fixture_reopen(&f);
    CU_ASSERT_STRING_EQUAL(sim_device_tls_cert_pem(f.dev), cert);

    CU_ASSERT_EQUAL(sim_device_commit(f.dev), AMT_ERR_INVALID_ARGUMENT); /* no password */
    CU_ASSERT_EQUAL(sim_device_set_host_name(f.dev, "pc1"), 0);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_IN_PROVISIONING);
    fixture_reopen(&f);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_IN_PROVISIONING);
    CU_ASSERT_STRING_EQUAL(sim_device_host_name(f.dev), "pc1");

    provision(&f);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_PROVISIONED);
    CU_ASSERT_EQUAL(sim_device_commit(f.dev), AMT_ERR_INVALID_ARGUMENT); /* twice */
    fixture_reopen(&f);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_PROVISIONED);
    CU_ASSERT_TRUE(sim_device_tls_enabled(f.dev));
    CU_ASSERT_STRING_EQUAL(sim_device_domain_name(f.dev), "contoso.com");
    CU_ASSERT(llabs((long long)(sim_device_time(f.dev) - 1700000000)) < 5);
    CU_ASSERT_EQUAL(sim_device_user_ha1(f.dev, "admin", ha1, NULL), 0);
    ha1_of("admin", sim_device_realm(f.dev), GOOD_PASSWORD, want);
    CU_ASSERT_EQUAL(memcmp(ha1, want, 16), 0);
    sim_device_free(f.dev);
}

/* SetAdminAclEntryEx / AddUserAclEntryEx carry HA1, never the password. */
static void
test_digest_password_setters(void)
{
    struct fixture f;
    unsigned char ha1[16], got[16];
    unsigned rights = 0;

    fixture_config(&f, "4.0");
    fixture_open(&f);
    ha1_of("admin", sim_device_realm(f.dev), "Other-P@ss1", ha1);
    CU_ASSERT_EQUAL(sim_device_set_admin_ha1(f.dev, "admin", ha1), 0);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_IN_PROVISIONING);
    CU_ASSERT_EQUAL(sim_device_user_ha1(f.dev, "admin", got, NULL), 0);
    CU_ASSERT_EQUAL(memcmp(got, ha1, 16), 0);
    CU_ASSERT_EQUAL(sim_device_set_admin_ha1(f.dev, "$$x", ha1), AMT_ERR_USERNAME_POLICY);

    ha1_of("ops", sim_device_realm(f.dev), "Ops-P@ss1", ha1);
    CU_ASSERT_EQUAL(sim_device_acl_add_ha1(f.dev, "ops", ha1, SIM_RIGHT_REMOTE_CONTROL),
                    0);
    CU_ASSERT_EQUAL(sim_device_acl_add_ha1(f.dev, "ops", ha1, SIM_RIGHT_REMOTE_CONTROL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(sim_device_user_ha1(f.dev, "ops", got, &rights), 0);
    CU_ASSERT_EQUAL(memcmp(got, ha1, 16), 0);
    CU_ASSERT_EQUAL(rights, SIM_RIGHT_REMOTE_CONTROL);
    /* phase 2 data of the services goes with an unprovision */
    CU_ASSERT_EQUAL(
        sim_flash_set(sim_device_flash(f.dev), SIM_FLASH_P2_PREFIX "wifi.0", "x"), 0);
    CU_ASSERT_EQUAL(sim_device_unprovision(f.dev, true), 0);
    CU_ASSERT_PTR_NULL(
        sim_flash_get(sim_device_flash(f.dev), SIM_FLASH_P2_PREFIX "wifi.0"));
    sim_device_free(f.dev);
}

static void
test_settings_are_checked(void)
{
    struct fixture f;

    fixture_config(&f, "4.0");
    fixture_open(&f);
    CU_ASSERT_EQUAL(sim_device_set_host_name(f.dev, "pc1.contoso.com"),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(sim_device_set_host_name(f.dev, "-pc"), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(sim_device_set_host_name(f.dev, ""), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(sim_device_set_domain_name(f.dev, "contoso..com"),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(sim_device_set_domain_name(f.dev, "contoso-.com"),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(sim_device_set_time(f.dev, 0), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(sim_device_set_admin_password(f.dev, "admin", "weak"),
                    AMT_ERR_PASSWORD_POLICY);
    CU_ASSERT_EQUAL(sim_device_set_admin_password(f.dev, "$$admin", GOOD_PASSWORD),
                    AMT_ERR_USERNAME_POLICY);
    CU_ASSERT_EQUAL(sim_device_set_mebx_password(f.dev, "password"),
                    AMT_ERR_PASSWORD_POLICY);
    CU_ASSERT_EQUAL(sim_device_set_tls_credentials(f.dev, "", "x"),
                    AMT_ERR_INVALID_ARGUMENT);
    /* nothing refused changed the state */
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_SETUP);
    CU_ASSERT_FALSE(sim_device_mebx_password_changed(f.dev));
    sim_device_free(f.dev);
}

static void
test_mebx_password_sets_hello_flag_and_admin_login(void)
{
    struct fixture f;
    unsigned char ha1[16], want[16];

    fixture_config(&f, "3.2.1");
    fixture_open(&f);
    CU_ASSERT_EQUAL(sim_device_set_mebx_password(f.dev, GOOD_PASSWORD), 0);
    fixture_reopen(&f);
    CU_ASSERT_TRUE(sim_device_mebx_password_changed(f.dev));
    /* until provisioning sets one, the admin logs on with the MEBx password */
    CU_ASSERT_EQUAL(sim_device_user_ha1(f.dev, "admin", ha1, NULL), 0);
    ha1_of("admin", sim_device_realm(f.dev), GOOD_PASSWORD, want);
    CU_ASSERT_EQUAL(memcmp(ha1, want, 16), 0);
    sim_device_free(f.dev);
}

static void
test_unprovision_full_and_partial(void)
{
    struct fixture f;
    unsigned char ha1[16], want[16];

    fixture_config(&f, "4.0");
    fixture_open(&f);
    CU_ASSERT_EQUAL(sim_device_set_mebx_password(f.dev, GOOD_PASSWORD), 0);
    provision(&f);
    CU_ASSERT_EQUAL(
        sim_device_acl_add(f.dev, "operator", GOOD_PASSWORD, SIM_RIGHT_REMOTE_CONTROL),
        0);
    CU_ASSERT_EQUAL(sim_device_unprovision(f.dev, true), 0);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_SETUP);
    CU_ASSERT_STRING_EQUAL(sim_device_host_name(f.dev), "pc1"); /* partial keeps it */
    CU_ASSERT_TRUE(sim_device_mebx_password_changed(f.dev));
    CU_ASSERT_FALSE(sim_device_tls_enabled(f.dev));
    CU_ASSERT_EQUAL(sim_device_acl_count(f.dev), 0);

    provision(&f);
    CU_ASSERT_EQUAL(sim_device_unprovision(f.dev, false), 0);
    fixture_reopen(&f);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_SETUP);
    CU_ASSERT_PTR_NULL(sim_device_host_name(f.dev));
    CU_ASSERT_FALSE(sim_device_mebx_password_changed(f.dev));
    CU_ASSERT_EQUAL(sim_device_user_ha1(f.dev, "admin", ha1, NULL), 0);
    ha1_of("admin", sim_device_realm(f.dev), "admin", want);
    CU_ASSERT_EQUAL(memcmp(ha1, want, 16), 0);
    sim_device_free(f.dev);
}

static void
test_acl_entries(void)
{
    struct fixture f;
    unsigned rights = 0;
    unsigned char ha1[16], want[16];

    fixture_config(&f, "4.0");
    fixture_open(&f);
    provision(&f);
    CU_ASSERT_EQUAL(sim_device_acl_add(f.dev, "alice", GOOD_PASSWORD,
                                       SIM_RIGHT_REMOTE_CONTROL | SIM_RIGHT_REDIRECTION),
                    0);
    CU_ASSERT_EQUAL(
        sim_device_acl_add(f.dev, "bob", GOOD_PASSWORD "x", SIM_RIGHT_GENERAL_INFO), 0);
    CU_ASSERT_EQUAL(sim_device_acl_add(f.dev, "alice", GOOD_PASSWORD, SIM_RIGHT_NETWORK),
                    AMT_ERR_INVALID_ARGUMENT); /* twice */
    CU_ASSERT_EQUAL(sim_device_acl_add(f.dev, "admin", GOOD_PASSWORD, SIM_RIGHT_NETWORK),
                    AMT_ERR_INVALID_ARGUMENT); /* the built-in account */
    CU_ASSERT_EQUAL(sim_device_acl_add(f.dev, "carol", "weak", SIM_RIGHT_NETWORK),
                    AMT_ERR_PASSWORD_POLICY);
    CU_ASSERT_EQUAL(sim_device_acl_add(f.dev, "dave", GOOD_PASSWORD, 0),
                    AMT_ERR_INVALID_ARGUMENT);
    fixture_reopen(&f);
    CU_ASSERT_EQUAL(sim_device_acl_count(f.dev), 2);
    CU_ASSERT_STRING_EQUAL(sim_device_acl_user(f.dev, 1, &rights), "bob");
    CU_ASSERT_EQUAL(rights, SIM_RIGHT_GENERAL_INFO);
    CU_ASSERT_PTR_NULL(sim_device_acl_user(f.dev, 2, NULL));
    CU_ASSERT_EQUAL(sim_device_user_ha1(f.dev, "bob", ha1, &rights), 0);
    ha1_of("bob", sim_device_realm(f.dev), GOOD_PASSWORD "x", want);
    CU_ASSERT_EQUAL(memcmp(ha1, want, 16), 0);
    CU_ASSERT_EQUAL(sim_device_acl_remove(f.dev, 2), AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(sim_device_acl_remove(f.dev, 0), 0);
    fixture_reopen(&f);
    CU_ASSERT_EQUAL(sim_device_acl_count(f.dev), 1);
    CU_ASSERT_STRING_EQUAL(sim_device_acl_user(f.dev, 0, &rights), "bob");
    CU_ASSERT_EQUAL(rights, SIM_RIGHT_GENERAL_INFO);
    CU_ASSERT_EQUAL(sim_device_user_ha1(f.dev, "alice", ha1, NULL), AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(sim_device_user_ha1(f.dev, "bob", ha1, NULL), 0);
    CU_ASSERT_EQUAL(memcmp(ha1, want, 16), 0);
    CU_ASSERT_EQUAL(sim_device_acl_clear(f.dev), 0);
    CU_ASSERT_EQUAL(sim_device_acl_count(f.dev), 0);
    CU_ASSERT_EQUAL(sim_device_user_ha1(f.dev, "bob", ha1, NULL), AMT_ERR_NOT_FOUND);
    sim_device_free(f.dev);
}

static void
test_switches_follow_the_version(void)
{
    struct fixture f;

    fixture_config(&f, "3.2.1");
    fixture_open(&f);
    CU_ASSERT_EQUAL(sim_device_set_switch(f.dev, SIM_SWITCH_SOL, true), 0);
    CU_ASSERT_EQUAL(sim_device_set_switch(f.dev, SIM_SWITCH_AUDIT, true),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(sim_device_set_switch(f.dev, SIM_SWITCH_COUNT, true),
                    AMT_ERR_INVALID_ARGUMENT);
    fixture_reopen(&f);
    CU_ASSERT_TRUE(sim_device_switch(f.dev, SIM_SWITCH_SOL));
    CU_ASSERT_FALSE(sim_device_switch(f.dev, SIM_SWITCH_IDER));
    CU_ASSERT_FALSE(sim_device_switch(f.dev, SIM_SWITCH_AUDIT));
    CU_ASSERT_STRING_EQUAL(sim_switch_name(SIM_SWITCH_WEB_UI), "web-ui");
    sim_device_free(f.dev);

    fixture_config(&f, "4.0");
    fixture_open(&f);
    CU_ASSERT_EQUAL(sim_device_set_switch(f.dev, SIM_SWITCH_AUDIT, true), 0);
    CU_ASSERT_TRUE(sim_device_switch(f.dev, SIM_SWITCH_AUDIT));
    CU_ASSERT_EQUAL(sim_device_power_scheme(f.dev), 1);
    CU_ASSERT_EQUAL(sim_device_set_power_scheme(f.dev, 5), 0);
    CU_ASSERT_EQUAL(sim_device_set_power_scheme(f.dev, 0), AMT_ERR_INVALID_ARGUMENT);
    fixture_reopen(&f);
    CU_ASSERT_EQUAL(sim_device_power_scheme(f.dev), 5);
    sim_device_free(f.dev);
}

static void
test_power_moves_like_a_machine(void)
{
    struct fixture f;

    fixture_config(&f, "4.0");
    fixture_open(&f);
    CU_ASSERT_EQUAL(sim_device_power_action(f.dev, SIM_POWER_UP),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(sim_device_power_action(f.dev, SIM_POWER_RESET), 0);
    CU_ASSERT_EQUAL(sim_device_power_action(f.dev, SIM_POWER_DOWN), 0);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_OFF);
    CU_ASSERT_EQUAL(sim_device_power_action(f.dev, SIM_POWER_DOWN),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(sim_device_power_action(f.dev, SIM_POWER_CYCLE),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(sim_device_power_action(f.dev, SIM_POWER_UP), 0);
    CU_ASSERT_EQUAL(sim_device_power_action(f.dev, SIM_POWER_CYCLE), 0);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_ON);
    /* power is volatile: a reboot of the firmware brings the default back */
    CU_ASSERT_EQUAL(sim_device_power_action(f.dev, SIM_POWER_DOWN), 0);
    CU_ASSERT_EQUAL(sim_device_reboot(f.dev), 0);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_ON);
    sim_device_free(f.dev);
}

static void
test_otp_and_lockout(void)
{
    struct fixture f;

    fixture_config(&f, "4.0");
    fixture_open(&f);
    CU_ASSERT_EQUAL(sim_device_set_otp(f.dev, "short"), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(sim_device_set_otp(f.dev, "0123456789abcdef"), 0);
    CU_ASSERT_STRING_EQUAL(sim_device_otp(f.dev), "0123456789abcdef");
    provision(&f);
    CU_ASSERT_EQUAL(sim_device_set_otp(f.dev, "fedcba9876543210"),
                    AMT_ERR_INVALID_ARGUMENT);

    CU_ASSERT_FALSE(sim_device_locked_out(f.dev));
    sim_device_auth_failed(f.dev);
    sim_device_auth_failed(f.dev);
    sim_device_auth_succeeded(f.dev); /* resets the count */
    sim_device_auth_failed(f.dev);
    sim_device_auth_failed(f.dev);
    CU_ASSERT_FALSE(sim_device_locked_out(f.dev));
    sim_device_auth_failed(f.dev);
    CU_ASSERT_TRUE(sim_device_locked_out(f.dev));
    clock_advance(vclock, 59);
    CU_ASSERT_TRUE(sim_device_locked_out(f.dev));
    clock_advance(vclock, 2);
    CU_ASSERT_FALSE(sim_device_locked_out(f.dev));
    sim_device_free(f.dev);
}

static void
test_start_provisioned(void)
{
    struct fixture f;
    unsigned char ha1[16], want[16];

    fixture_config(&f, "5.0");
    f.cfg.start_provisioned = true;
    f.cfg.admin_password = GOOD_PASSWORD;
    f.cfg.tls = true;
    fixture_open(&f);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_PROVISIONED);
    CU_ASSERT_TRUE(sim_device_tls_enabled(f.dev));
    CU_ASSERT_EQUAL(sim_device_user_ha1(f.dev, "admin", ha1, NULL), 0);
    ha1_of("admin", sim_device_realm(f.dev), GOOD_PASSWORD, want);
    CU_ASSERT_EQUAL(memcmp(ha1, want, 16), 0);
    sim_device_free(f.dev);

    f.cfg.admin_password = NULL;
    f.dev = NULL;
    CU_ASSERT_EQUAL(sim_device_open(&f.cfg, &f.env, &f.dev, NULL, 0),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(f.dev);
}

static void
test_corrupt_flash_refused(void)
{
    struct fixture f;
    char path[512], err[256] = "";
    FILE *fp;

    fixture_config(&f, "4.0");
    fixture_open(&f);
    sim_device_free(f.dev);
    snprintf(path, sizeof(path), "%s/%s", f.dir, SIM_FLASH_FILE_NAME);
    fp = fopen(path, "r+");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    fseek(fp, 30, SEEK_SET);
    fputc('#', fp);
    fclose(fp);
    f.dev = NULL;
    CU_ASSERT_EQUAL(sim_device_open(&f.cfg, &f.env, &f.dev, err, sizeof(err)),
                    AMT_ERR_FLASH_CORRUPT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "checksum"));
    CU_ASSERT_PTR_NULL(f.dev);
}

/* Every step of the model is in the event log, with its catalogue ID, and no secret. */
static void
test_events_name_catalogue_steps(void)
{
    char *log = (char *)unit_read_file(events_path, NULL);

    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"id\":\"OOB-7.1\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"id\":\"OOB-7.2\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"id\":\"OOB-7.4\",\"result\":\"ok\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"id\":\"OOB-7.6\",\"result\":\"ok\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"id\":\"OOB-7.6\",\"result\":\"fail\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"id\":\"OOB-8.1\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"id\":\"AMT-AUDIT\",\"result\":\"fail\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"id\":\"IB-2\",\"result\":\"ok\""));
    /* after an OTP, the same steps are the in-band ones */
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"id\":\"IB-10.6\",\"result\":\"ok\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"actor\":\"AMT\""));
    CU_ASSERT_PTR_NULL(strstr(log, GOOD_PASSWORD));
    CU_ASSERT_PTR_NULL(strstr(log, "0123456789abcdef"));
    free(log);
}

static int
suite_init(void)
{
    if (mkdtemp(tmp_root) == NULL || keypool_new(2048, &keys) != 0 ||
        keypool_fill(keys, 2) != 0 || clock_new_virtual(0, &vclock) != 0)
        return -1;
    snprintf(events_path, sizeof(events_path), "%s/events.jsonl", tmp_root);
    return evlog_open(events_path, &events) == 0 ? 0 : -1;
}

static int
suite_clean(void)
{
    char cmd[300];

    evlog_free(events);
    clock_free(vclock);
    keypool_free(keys);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

static CU_TestInfo device_tests[] = {
    {"factory device", test_factory_device},
    {"newer realm form, kept", test_newer_realm_form_and_kept},
    {"provisioning moves states and persists",
     test_provisioning_moves_states_and_persists},
    {"settings are checked", test_settings_are_checked},
    {"digest password setters", test_digest_password_setters},
    {"MEBx password: hello flag and admin login",
     test_mebx_password_sets_hello_flag_and_admin_login},
    {"unprovision full and partial", test_unprovision_full_and_partial},
    {"ACL entries", test_acl_entries},
    {"switches follow the version", test_switches_follow_the_version},
    {"power moves like a machine", test_power_moves_like_a_machine},
    {"OTP and lockout", test_otp_and_lockout},
    {"start provisioned", test_start_provisioned},
    {"corrupt flash refused", test_corrupt_flash_refused},
    {"events name catalogue steps", test_events_name_catalogue_steps},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"sim_device", suite_init, suite_clean, NULL, NULL, device_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_sim_device", suites);
}
