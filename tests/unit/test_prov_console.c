/*
 * The console operations against amt-sim in this process, on one loop: discovery of
 * a device in setup, a provisioned one and an address with nothing on it; power
 * control over WS-Management (AMT 5) and SOAP RemoteControl (AMT 2.6), seen in the
 * device model; and a port blocked by a simulated firewall (PORT-BLOCKED).
 */
#include "amtclient.h"
#include "clock.h"
#include "console.h"
#include "curl_loop.h"
#include "device.h"
#include "err.h"
#include "evlog.h"
#include "keypool.h"
#include "loop.h"
#include "net.h"
#include "services.h"
#include "unit.h"
#include "uuid.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PASSWORD "P@ssw0rd-Strong1"
/* Real seconds a discovery probe may take. */
#define PROBE_TIMEOUT 5.0

static char tmp_root[] = "/tmp/test_prov_console.XXXXXX";
static unsigned device_counter;
static struct keypool *keys;
static struct amt_clock *vclock;
static struct evlog *sim_events;
static struct amt_loop *loop;
static struct sim_net *net;
static struct curl_loop *cloop;
static struct amt_client *client;

struct fixture {
    char dir[256];
    struct sim_device_config cfg;
    struct sim_env env;
    struct sim_device *dev;
};

/* A device on its own 127.0.0.7x address: in setup, or provisioned with TLS off. */
static void
fixture_start(struct fixture *f, const char *version, bool provisioned)
{
    unsigned n = device_counter++;
    char err[256] = "", uuid[40];

    memset(f, 0, sizeof(*f));
    CU_ASSERT_FATAL(n < 9);
    snprintf(f->dir, sizeof(f->dir), "%s/dev%u", tmp_root, n);
    snprintf(uuid, sizeof(uuid), "8c3a5e10-0000-4000-8000-%012x", n + 1);
    CU_ASSERT_EQUAL_FATAL(uuid_parse(uuid, &f->cfg.uuid), 0);
    CU_ASSERT_EQUAL_FATAL(sim_profile_from_text(version, &f->cfg.profile), 0);
    snprintf(f->cfg.listen, sizeof(f->cfg.listen), "127.0.0.%u", 70 + n);
    f->cfg.flash_dir = f->dir;
    f->cfg.dhcp_domain = "contoso.com";
    f->cfg.lockout_failures = 20;
    f->cfg.lockout_seconds = 60;
    f->cfg.start_provisioned = provisioned;
    f->cfg.admin_password = provisioned ? PASSWORD : NULL;
    f->cfg.tls = false;
    f->env.events = sim_events;
    f->env.clock = vclock;
    f->env.keys = keys;
    CU_ASSERT_EQUAL_FATAL(sim_device_open(&f->cfg, &f->env, &f->dev, err, sizeof(err)),
                          0);
    CU_ASSERT_EQUAL_FATAL(sim_net_add_device(net, f->dev, err, sizeof(err)), 0);
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

static int
discover(const char *host, struct console_discovery *d)
{
    return console_discover(loop, cloop, host, sim_net_bound_port(net, SIM_PORT_HTTP),
                            sim_net_bound_port(net, SIM_PORT_HTTPS), PROBE_TIMEOUT, d);
}

static struct console_target
target_of(const struct fixture *f, const char *password)
{
    struct console_target t;

    memset(&t, 0, sizeof(t));
    t.host = f->cfg.listen;
    t.port = AMT_CLIENT_PORT_HTTP;
    t.connect_port = sim_net_bound_port(net, SIM_PORT_HTTP);
    t.user = "admin";
    t.password = password;
    t.timeout = 30;
    return t;
}

static void
test_discover(void)
{
    struct fixture setup, prov;
    struct console_discovery d;

    fixture_start(&setup, "4.0.0", false);
    fixture_start(&prov, "5.0.2", true);

    CU_ASSERT_EQUAL(discover(setup.cfg.listen, &d), 0);
    CU_ASSERT_EQUAL(d.state, CONSOLE_NOT_PROVISIONED);
    CU_ASSERT_STRING_EQUAL(d.version, "4.0.0");
    CU_ASSERT_EQUAL(d.port, AMT_CLIENT_PORT_HTTP);

    CU_ASSERT_EQUAL(discover(prov.cfg.listen, &d), 0);
    CU_ASSERT_EQUAL(d.state, CONSOLE_PROVISIONED);
    CU_ASSERT_STRING_EQUAL(d.version, "5.0.2");

    /* nothing listens on this address */
    CU_ASSERT_EQUAL(discover("127.0.0.79", &d), 0);
    CU_ASSERT_EQUAL(d.state, CONSOLE_NOT_AMT);
    CU_ASSERT_STRING_EQUAL(d.version, "");
    CU_ASSERT_EQUAL(d.port, 0);

    CU_ASSERT_EQUAL(discover("::1", &d), AMT_ERR_NET_IPV6);
    CU_ASSERT_EQUAL(discover("not-an-address", &d), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_STRING_EQUAL(console_state_name(CONSOLE_NOT_AMT), "not-amt");

    fixture_stop(&setup);
    fixture_stop(&prov);
}

/* Every operation in turn, each seen in the device's power state. */
static void
power_cycle_through(const char *version)
{
    struct fixture f;
    struct console_target t;
    char err[256] = "";

    fixture_start(&f, version, true);
    t = target_of(&f, PASSWORD);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_ON);
    CU_ASSERT_EQUAL(console_power(loop, client, &t, CONSOLE_POWER_OFF, err, sizeof(err)),
                    0);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_OFF);
    /* off when off: the device refuses, and says so */
    CU_ASSERT_NOT_EQUAL(
        console_power(loop, client, &t, CONSOLE_POWER_OFF, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "refused"));
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_OFF);
    CU_ASSERT_EQUAL(console_power(loop, client, &t, CONSOLE_POWER_ON, err, sizeof(err)),
                    0);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_ON);
    CU_ASSERT_EQUAL(
        console_power(loop, client, &t, CONSOLE_POWER_RESET, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_ON);
    CU_ASSERT_EQUAL(
        console_power(loop, client, &t, CONSOLE_POWER_CYCLE, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_ON);
    fixture_stop(&f);
}

static void
test_power_wsman(void)
{
    power_cycle_through("5.0.2");
}

static void
test_power_soap(void)
{
    power_cycle_through("2.6.0");
}

static void
test_wrong_password(void)
{
    struct fixture f;
    struct console_target t;
    char err[256] = "";

    fixture_start(&f, "5.0.2", true);
    t = target_of(&f, "Wr0ng-Passw0rd");
    CU_ASSERT_EQUAL(console_power(loop, client, &t, CONSOLE_POWER_OFF, err, sizeof(err)),
                    AMT_ERR_CLIENT_DIGEST_EXHAUSTED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "digest-exhausted"));
    CU_ASSERT_PTR_NULL(strstr(err, "Wr0ng"));
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_ON);
    fixture_stop(&f);
}

static void
test_blocked_port(void)
{
    struct fixture f;
    struct console_target t;
    char err[256] = "";

    fixture_start(&f, "5.0.2", true);
    t = target_of(&f, PASSWORD);
    CU_ASSERT_EQUAL(sim_net_fault_port(net, f.dev, SIM_PORT_HTTP, SIM_PORT_FAULT_REJECT),
                    0);
    CU_ASSERT_EQUAL(console_power(loop, client, &t, CONSOLE_POWER_OFF, err, sizeof(err)),
                    AMT_ERR_CLIENT_UNREACHABLE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "port 16992"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "PORT-BLOCKED"));
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_ON);
    CU_ASSERT_EQUAL(sim_net_fault_port(net, f.dev, SIM_PORT_HTTP, SIM_PORT_FAULT_NONE),
                    0);
    CU_ASSERT_EQUAL(console_power(loop, client, &t, CONSOLE_POWER_OFF, err, sizeof(err)),
                    0);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_OFF);
    fixture_stop(&f);
}

static void
test_unprovision(void)
{
    struct fixture f;
    struct console_target t;
    char err[256] = "";

    fixture_start(&f, "5.0.2", true);
    t = target_of(&f, PASSWORD);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_PROVISIONED);
    CU_ASSERT_EQUAL(console_unprovision(loop, client, &t, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(sim_device_state(f.dev), SIM_STATE_SETUP);
    fixture_stop(&f);
}

/* The device serves build/certs/device.chain.pem (amt-device.contoso.com) over TLS. */
static void
test_power_over_tls_with_ca(void)
{
    struct fixture f;
    struct console_target t;
    char path[512], ca[512], err[256] = "";
    unsigned char *key, *chain;
    FILE *out;

    snprintf(ca, sizeof(ca), "%s/ca.pem", tmp_root);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out = fopen(ca, "w"));
    for (int i = 0; i < 2; i++) {
        unsigned char *pem;

        snprintf(path, sizeof(path), "%s/%s", AMT_CERTS_DIR,
                 i == 0 ? "issuing-ca.crt" : "root-ca.crt");
        CU_ASSERT_PTR_NOT_NULL_FATAL(pem = unit_read_file(path, NULL));
        fputs((const char *)pem, out);
        free(pem);
    }
    CU_ASSERT_EQUAL_FATAL(fclose(out), 0);

    fixture_start(&f, "6.0.0", true);
    snprintf(path, sizeof(path), "%s/device.key", AMT_CERTS_DIR);
    key = unit_read_file(path, NULL);
    snprintf(path, sizeof(path), "%s/device.chain.pem", AMT_CERTS_DIR);
    chain = unit_read_file(path, NULL);
    CU_ASSERT_FATAL(key != NULL && chain != NULL);
    CU_ASSERT_EQUAL(
        sim_device_set_tls_credentials(f.dev, (const char *)key, (const char *)chain), 0);
    CU_ASSERT_EQUAL(sim_device_set_tls_enabled(f.dev, true), 0);
    free(key);
    free(chain);

    t = target_of(&f, PASSWORD);
    t.port = AMT_CLIENT_PORT_HTTPS;
    t.connect_port = sim_net_bound_port(net, SIM_PORT_HTTPS);
    t.ca_file = ca;
    /* the certificate does not name the address dialled */
    CU_ASSERT_NOT_EQUAL(
        console_power(loop, client, &t, CONSOLE_POWER_OFF, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_ON);
    t.expected_host = "amt-device.contoso.com";
    CU_ASSERT_EQUAL(console_power(loop, client, &t, CONSOLE_POWER_OFF, err, sizeof(err)),
                    0);
    CU_ASSERT_EQUAL(sim_device_power(f.dev), SIM_POWER_OFF);
    fixture_stop(&f);
}

static void
test_power_names(void)
{
    enum console_power op;

    CU_ASSERT_EQUAL(console_power_parse("cycle", &op), 0);
    CU_ASSERT_EQUAL(op, CONSOLE_POWER_CYCLE);
    CU_ASSERT_STRING_EQUAL(console_power_name(CONSOLE_POWER_OFF), "off");
    CU_ASSERT_EQUAL(console_power_parse("hibernate", &op), AMT_ERR_INVALID_ARGUMENT);
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
    char path[300];

    signal(SIGPIPE, SIG_IGN);
    if (mkdtemp(tmp_root) == NULL || keypool_new(2048, &keys) != 0 ||
        clock_new_virtual(1000, &vclock) != 0 || loop_new(vclock, &loop) != 0)
        return -1;
    snprintf(path, sizeof(path), "%s/sim.jsonl", tmp_root);
    if (evlog_open(path, &sim_events) != 0)
        return -1;
    sim_net_options_default(&o);
    /* each device has an address of its own; the ports only keep off real AMT's */
    sim_net_options_port_base(&o, 26000 + (unsigned)(getpid() % 1000) * 4);
    if (sim_net_new(loop, &handlers, &o, &net) != 0 || curl_loop_new(loop, &cloop) != 0 ||
        amt_client_new(loop, cloop, NULL, &client) != 0)
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
    evlog_free(sim_events);
    clock_free(vclock);
    keypool_free(keys);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

static CU_TestInfo console_tests[] = {
    {"discover", test_discover},
    {"power over WS-Management", test_power_wsman},
    {"power over SOAP RemoteControl", test_power_soap},
    {"wrong password", test_wrong_password},
    {"blocked port", test_blocked_port},
    {"unprovision", test_unprovision},
    {"power over TLS, CA trust", test_power_over_tls_with_ca},
    {"power names", test_power_names},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"console", suite_init, suite_clean, NULL, NULL, console_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_prov_console", suites);
}
