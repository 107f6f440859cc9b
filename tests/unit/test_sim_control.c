/*
 * The control socket: what a scenario runner does to a running simulator (a
 * firewall at a port for PORT-BLOCKED, a reboot, altered roots, unprovision).
 */
#include "clock.h"
#include "control.h"
#include "device.h"
#include "err.h"
#include "evlog.h"
#include "hello.h"
#include "hello_sender.h"
#include "keypool.h"
#include "loop.h"
#include "net.h"
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define PASSWORD "P@ssw0rd-Strong1"
#define PORT_BASE 31000
#define ADDRESS "127.0.0.61"

static char tmp_root[] = "/tmp/test_sim_control.XXXXXX";
static char sock_path[100], flash_dir[256], events_path[300];
static struct keypool *keys;
static struct amt_clock *vclock;
static struct amt_loop *loop;
static struct evlog *events;
static struct sim_device_config cfg;
static struct sim_env env;
static struct sim_device *dev;
static struct sim_net *net;
static struct sim_hello_sender *hello;
static struct sim_control *control;
static struct sim_control_member member;

static int
no_handler(const struct sim_request *req, struct sim_response *resp)
{
    resp->status = 404;
    resp->content_type = "text/plain";
    resp->body = strdup("none");
    resp->body_len = 4;
    return 0;
}

static bool
never_soap(const char *path)
{
    return false;
}

static int
connect_control(void)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    for (int i = 0; i < 3; i++)
        loop_run_once(loop, 5);
    return fd;
}

static void
ask(int fd, const char *line, char *out, size_t size)
{
    char req[300];
    ssize_t n;

    snprintf(req, sizeof(req), "%s\n", line);
    out[0] = '\0';
    CU_ASSERT_EQUAL_FATAL(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    for (int i = 0; i < 5; i++)
        loop_run_once(loop, 5);
    n = recv(fd, out, size - 1, MSG_DONTWAIT);
    if (n > 0) {
        out[n] = '\0';
        out[strcspn(out, "\n")] = '\0';
    }
}

/* What a client sees at a port: "open", "reset" (RST after accept), or "silent". */
static const char *
probe_port(unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    const char *what = "silent";
    char buf[64];

    inet_pton(AF_INET, ADDRESS, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 && errno != EINPROGRESS) {
        close(fd);
        return "refused";
    }
    for (int i = 0; i < 20; i++)
        loop_run_once(loop, 5);
    /* an HTTP request on 16992 gets an answer when the port works */
    send(fd, "GET / HTTP/1.0\r\n\r\n", 18, MSG_NOSIGNAL);
    for (int i = 0; i < 40; i++) {
        ssize_t n;

        loop_run_once(loop, 5);
        n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            what = "open";
            break;
        }
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            what = "reset";
            break;
        }
    }
    close(fd);
    return what;
}

static void
test_queries_and_errors(void)
{
    char reply[300];
    int fd = connect_control();

    CU_ASSERT_FATAL(fd >= 0);
    ask(fd, "DEVICES", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK 1");
    ask(fd, "STATE 0", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK setup");
    ask(fd, "STATE 0a0b0c0d-0001-0002-0003-000000000099", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK setup");
    ask(fd, "TIME", reply, sizeof(reply));
    CU_ASSERT_EQUAL(strncmp(reply, "OK ", 3), 0);
    ask(fd, "STATE 1", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "ERR 1 unknown-device");
    ask(fd, "STATE 00000000-0000-0000-0000-000000000000", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "ERR 1 unknown-device");
    ask(fd, "FAULT 0 PORT 80 reject", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "ERR 1 bad-port");
    ask(fd, "FAULT 0 PORT 16992 maybe", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "ERR 1 bad-port-fault");
    ask(fd, "FAULT 0 DELAY -1", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "ERR 1 bad-seconds");
    ask(fd, "FAULT 0 DROP-AFTER 1.5", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "ERR 1 bad-count");
    ask(fd, "FAULT 0 SMOKE", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "ERR 1 unknown-fault");
    ask(fd, "UNPROVISION 0 some", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "ERR 1 bad-mode");
    ask(fd, "DANCE 0", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "ERR 1 unknown-command");
    ask(fd, "a b c d e f g", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "ERR 1 too-many-words");
    ask(fd, "   ", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "ERR 1 empty-command");
    close(fd);
}

/* PORT-BLOCKED: a firewall in front of one port, then lifted. */
static void
test_port_fault(void)
{
    char reply[300];
    int fd = connect_control();
    unsigned http = sim_net_bound_port(net, SIM_PORT_HTTP);

    CU_ASSERT_STRING_EQUAL(probe_port(http), "open");
    ask(fd, "FAULT 0 PORT 16992 reject", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK");
    CU_ASSERT_STRING_NOT_EQUAL(probe_port(http), "open");
    ask(fd, "FAULT 0 PORT 16992 drop", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK");
    CU_ASSERT_STRING_EQUAL(probe_port(http), "silent");
    ask(fd, "FAULT 0 PORT 16992 none", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(probe_port(http), "open");
    ask(fd, "FAULT 0 DELAY 2.5", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK");
    ask(fd, "FAULT 0 DELAY 0", reply, sizeof(reply));
    ask(fd, "FAULT 0 DROP-AFTER 3", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK");
    ask(fd, "FAULT 0 RESET-NONCES", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK");
    close(fd);
}

static void
test_reboot_unprovision_and_roots(void)
{
    char reply[300], *log;
    int fd = connect_control();

    CU_ASSERT_EQUAL(sim_device_set_admin_password(dev, "admin", PASSWORD), 0);
    CU_ASSERT_EQUAL(sim_device_commit(dev), 0);
    ask(fd, "STATE 0", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK provisioned");
    CU_ASSERT_EQUAL(sim_device_power_action(dev, SIM_POWER_DOWN), 0);
    ask(fd, "REBOOT 0", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK");
    CU_ASSERT_EQUAL(sim_device_power(dev), SIM_POWER_ON);
    CU_ASSERT_EQUAL(sim_device_state(dev), SIM_STATE_PROVISIONED); /* flash kept */
    ask(fd, "UNPROVISION 0 partial", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK");
    CU_ASSERT_EQUAL(sim_device_state(dev), SIM_STATE_SETUP);
    ask(fd, "FAULT 0 WRONG-ROOTS on", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK");
    ask(fd, "FAULT 0 WRONG-ROOTS maybe", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "ERR 1 bad-switch");
    close(fd);
    log = (char *)unit_read_file(events_path, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"id\":\"X-sim.control\",\"result\":\"ok\","
                                       "\"detail\":{\"command\":\"REBOOT 0\"}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"reason\":\"bad-switch\""));
    free(log);
}

static void
test_stop(void)
{
    char reply[300];
    int fd = connect_control();

    CU_ASSERT_FALSE(loop_stopped(loop));
    ask(fd, "STOP", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK");
    CU_ASSERT_TRUE(loop_stopped(loop));
    close(fd);
}

static int
suite_init(void)
{
    static const struct sim_http_handlers handlers = {no_handler, no_handler, never_soap};
    struct sim_net_options o;
    char err[256];

    signal(SIGPIPE, SIG_IGN);
    if (mkdtemp(tmp_root) == NULL || keypool_new(2048, &keys) != 0 ||
        clock_new_virtual(0, &vclock) != 0 || loop_new(vclock, &loop) != 0)
        return -1;
    snprintf(sock_path, sizeof(sock_path), "%s/control.sock", tmp_root);
    snprintf(flash_dir, sizeof(flash_dir), "%s/flash", tmp_root);
    snprintf(events_path, sizeof(events_path), "%s/events.jsonl", tmp_root);
    if (evlog_open(events_path, &events) != 0)
        return -1;
    uuid_parse("0a0b0c0d-0001-0002-0003-000000000099", &cfg.uuid);
    sim_profile_from_text("4.0", &cfg.profile);
    strcpy(cfg.listen, ADDRESS);
    cfg.flash_dir = flash_dir;
    cfg.provision_server = "127.0.0.1:1";
    env = (struct sim_env){.events = events, .clock = vclock, .keys = keys};
    sim_net_options_default(&o);
    sim_net_options_port_base(&o, PORT_BASE);
    if (sim_device_open(&cfg, &env, &dev, err, sizeof(err)) != 0 ||
        sim_net_new(loop, &handlers, &o, &net) != 0 ||
        sim_net_add_device(net, dev, err, sizeof(err)) != 0 ||
        sim_hello_sender_new(loop, dev, NULL, &hello) != 0) {
        fprintf(stderr, "suite_init: %s\n", err);
        return -1;
    }
    member = (struct sim_control_member){.dev = dev, .hello = hello};
    return sim_control_new(loop, net, &member, 1, sock_path, &control, err,
                           sizeof(err)) == 0
               ? 0
               : -1;
}

static int
suite_clean(void)
{
    char cmd[300];

    sim_control_free(control);
    sim_hello_sender_free(hello);
    sim_net_remove_device(net, dev);
    sim_net_free(net);
    sim_device_free(dev);
    loop_free(loop);
    evlog_free(events);
    clock_free(vclock);
    keypool_free(keys);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

static CU_TestInfo control_tests[] = {
    {"queries and errors", test_queries_and_errors},
    {"PORT-BLOCKED: port faults", test_port_fault},
    {"reboot, unprovision, altered roots", test_reboot_unprovision_and_roots},
    {"stop", test_stop},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"sim_control", suite_init, suite_clean, NULL, NULL, control_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_sim_control", suites);
}
