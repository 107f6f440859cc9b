/*
 * The simulator's hello sender against a listener of the test on loopback, in
 * virtual time: the catalogue's 24-hour schedule (OOB-1), the hello's contents,
 * retries when the server is down, NET-DNS, and the stop once provisioned.
 */
#include "clock.h"
#include "device.h"
#include "err.h"
#include "evlog.h"
#include "hello.h"
#include "hello_sender.h"
#include "keypool.h"
#include "loop.h"
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PASSWORD "P@ssw0rd-Strong1"

static char tmp_root[] = "/tmp/test_sim_hello.XXXXXX";
static unsigned dir_counter;
static struct keypool *keys;

struct fixture {
    char dir[256];
    char server[64];
    char events_path[300];
    struct sim_device_config cfg;
    struct sim_env env;
    struct amt_clock *clock;
    struct amt_loop *loop;
    struct sim_device *dev;
    struct sim_hello_sender *sender;
    int listener;
    unsigned short port;
};

static int
listen_loopback(unsigned short *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;

    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static void
fixture_start(struct fixture *f, const char *version, bool with_listener)
{
    char err[256];

    memset(f, 0, sizeof(*f));
    f->listener = -1;
    snprintf(f->dir, sizeof(f->dir), "%s/dev%u", tmp_root, dir_counter);
    snprintf(f->events_path, sizeof(f->events_path), "%s/events%u.jsonl", tmp_root,
             dir_counter++);
    CU_ASSERT_EQUAL_FATAL(clock_new_virtual(0, &f->clock), 0);
    CU_ASSERT_EQUAL_FATAL(loop_new(f->clock, &f->loop), 0);
    CU_ASSERT_EQUAL_FATAL(evlog_open(f->events_path, &f->env.events), 0);
    f->env.clock = f->clock;
    f->env.keys = keys;
    CU_ASSERT_EQUAL_FATAL(
        uuid_parse("4c4c4544-0043-3010-8052-b4c04f564433", &f->cfg.uuid), 0);
    CU_ASSERT_EQUAL_FATAL(sim_profile_from_text(version, &f->cfg.profile), 0);
    strcpy(f->cfg.listen, "127.0.0.13");
    f->cfg.flash_dir = f->dir;
    f->cfg.dhcp_domain = "contoso.com";
    CU_ASSERT_EQUAL_FATAL(
        thumbprint_parse("sha1:00112233445566778899aabbccddeeff00112233",
                         &f->cfg.roots[0]),
        0);
    CU_ASSERT_EQUAL_FATAL(
        thumbprint_parse(
            "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
            &f->cfg.roots[1]),
        0);
    f->cfg.n_roots = 2;
    if (with_listener) {
        f->listener = listen_loopback(&f->port);
        CU_ASSERT_FATAL(f->listener >= 0);
    } else {
        /* a port that nothing listens on: bind one and close it again */
        int fd = listen_loopback(&f->port);
        close(fd);
    }
    snprintf(f->server, sizeof(f->server), "127.0.0.1:%u", f->port);
    f->cfg.provision_server = f->server;
    CU_ASSERT_EQUAL_FATAL(sim_device_open(&f->cfg, &f->env, &f->dev, err, sizeof(err)),
                          0);
    CU_ASSERT_EQUAL_FATAL(sim_hello_sender_new(f->loop, f->dev, NULL, &f->sender), 0);
}

static void
fixture_stop(struct fixture *f)
{
    sim_hello_sender_free(f->sender);
    sim_device_free(f->dev);
    loop_free(f->loop);
    evlog_free(f->env.events);
    clock_free(f->clock);
    if (f->listener >= 0)
        close(f->listener);
}

/* Reads one whole hello (until the sender closes) while driving the loop. */
static int
receive_hello(struct fixture *f, struct hello *h)
{
    unsigned char buf[HELLO_MAX_BYTES];
    size_t len = 0;
    int conn = -1;

    for (int round = 0; round < 200; round++) {
        struct pollfd p;

        loop_run_once(f->loop, 5);
        p.fd = conn >= 0 ? conn : f->listener;
        p.events = POLLIN;
        if (poll(&p, 1, 5) <= 0)
            continue;
        if (conn < 0) {
            struct sockaddr_in peer;
            socklen_t plen = sizeof(peer);
            char text[INET_ADDRSTRLEN];

            conn = accept(f->listener, (struct sockaddr *)&peer, &plen);
            /* the hello comes from the device's own address: the server dials back */
            if (conn >= 0)
                CU_ASSERT_STRING_EQUAL(
                    inet_ntop(AF_INET, &peer.sin_addr, text, sizeof(text)),
                    f->cfg.listen);
            continue;
        }
        ssize_t n = read(conn, buf + len, sizeof(buf) - len);
        if (n > 0) {
            len += (size_t)n;
            continue;
        }
        close(conn);
        return hello_decode(buf, len, h);
    }
    if (conn >= 0)
        close(conn);
    return AMT_ERR_TIMEOUT;
}

/* True when a connection is waiting at the listener right now. */
static bool
hello_pending(struct fixture *f)
{
    struct pollfd p = {.fd = f->listener, .events = POLLIN};

    for (int i = 0; i < 5; i++)
        loop_run_once(f->loop, 2);
    return poll(&p, 1, 20) > 0;
}

static void
test_full_schedule_and_contents(void)
{
    struct fixture f;
    struct hello_schedule sched;
    struct hello h;
    double t;
    unsigned count = 0;

    fixture_start(&f, "4.0", true);
    hello_schedule_default(&sched);
    CU_ASSERT_EQUAL(sim_hello_sender_start(f.sender), 0);
    for (unsigned i = 0; hello_schedule_at(&sched, i, &t) == 0; i++) {
        double before = t - 0.5;

        if (before > clock_now(f.clock)) {
            clock_advance(f.clock, before - clock_now(f.clock));
            CU_ASSERT_FALSE(hello_pending(&f)); /* nothing early */
        }
        clock_advance(f.clock, t - clock_now(f.clock));
        CU_ASSERT_EQUAL_FATAL(receive_hello(&f, &h), 0);
        CU_ASSERT_EQUAL(h.retry_count, i);
        CU_ASSERT_FALSE(h.admin_credentials_set);
        CU_ASSERT_EQUAL(h.n_hashes, 2);
        CU_ASSERT_TRUE(thumbprint_equal(&h.hashes[0], &f.cfg.roots[0]));
        CU_ASSERT_TRUE(thumbprint_equal(&h.hashes[1], &f.cfg.roots[1]));
        CU_ASSERT_TRUE(uuid_equal(&h.uuid, &f.cfg.uuid));
        count++;
    }
    CU_ASSERT_EQUAL(count, 40);
    CU_ASSERT_EQUAL(sim_hello_sender_sent(f.sender), 40);
    /* the window has ended: a day later, still nothing */
    clock_advance(f.clock, 86400);
    CU_ASSERT_FALSE(hello_pending(&f));
    fixture_stop(&f);
}

static void
test_server_down_is_a_retry(void)
{
    struct fixture f;
    char *log;

    fixture_start(&f, "4.0", false);
    CU_ASSERT_EQUAL(sim_hello_sender_start(f.sender), 0);
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 10; k++)
            loop_run_once(f.loop, 2);
        clock_advance(f.clock, 60);
    }
    CU_ASSERT_EQUAL(sim_hello_sender_sent(f.sender), 0);
    log = (char *)unit_read_file(f.events_path, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"reason\":\"connect-refused\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"index\":2"));
    free(log);
    fixture_stop(&f);
}

static void
test_stops_when_provisioned_and_restarts_after_unprovision(void)
{
    struct fixture f;
    struct hello h;

    fixture_start(&f, "4.0", true);
    CU_ASSERT_EQUAL(sim_hello_sender_start(f.sender), 0);
    CU_ASSERT_EQUAL(receive_hello(&f, &h), 0);
    CU_ASSERT_EQUAL(sim_device_set_admin_password(f.dev, "admin", PASSWORD), 0);
    CU_ASSERT_EQUAL(sim_device_commit(f.dev), 0);
    clock_advance(f.clock, 3600);
    CU_ASSERT_FALSE(hello_pending(&f));

    /* back to setup: a new window from its first slot, retry count from 0 */
    CU_ASSERT_EQUAL(sim_device_unprovision(f.dev, false), 0);
    CU_ASSERT_EQUAL(receive_hello(&f, &h), 0);
    CU_ASSERT_EQUAL(h.retry_count, 0);
    fixture_stop(&f);
}

static void
test_mebx_flag_and_wrong_roots(void)
{
    struct fixture f;
    struct hello h;

    fixture_start(&f, "3.2.1", true);
    CU_ASSERT_EQUAL(sim_device_set_mebx_password(f.dev, PASSWORD), 0);
    sim_hello_sender_set_wrong_roots(f.sender, true);
    CU_ASSERT_EQUAL(sim_hello_sender_start(f.sender), 0);
    CU_ASSERT_EQUAL(receive_hello(&f, &h), 0);
    CU_ASSERT_TRUE(h.admin_credentials_set);
    CU_ASSERT_FALSE(thumbprint_equal(&h.hashes[0], &f.cfg.roots[0]));
    CU_ASSERT_EQUAL(hello_find_root(&h, f.cfg.roots, f.cfg.n_roots), -1);
    fixture_stop(&f);
}

static void
test_target_order_and_hosts_file(void)
{
    struct fixture f;
    char host[300], hosts_path[300], *log;
    unsigned port;
    FILE *hf;

    fixture_start(&f, "4.0", true);
    CU_ASSERT_EQUAL(sim_hello_target(f.dev, host, sizeof(host), &port), 0);
    CU_ASSERT_STRING_EQUAL(host, "127.0.0.1");
    CU_ASSERT_EQUAL(port, f.port);
    f.cfg.provision_server = NULL;
    CU_ASSERT_EQUAL(sim_hello_target(f.dev, host, sizeof(host), &port), 0);
    CU_ASSERT_STRING_EQUAL(host, "ProvisionServer.contoso.com"); /* DHCP option 15 */
    CU_ASSERT_EQUAL(port, 9971);
    CU_ASSERT_EQUAL(sim_device_set_domain_name(f.dev, "fabrikam.com"), 0);
    CU_ASSERT_EQUAL(sim_hello_target(f.dev, host, sizeof(host), &port), 0);
    CU_ASSERT_STRING_EQUAL(host, "ProvisionServer.fabrikam.com"); /* configured first */
    f.cfg.provision_server = "host:99999";
    CU_ASSERT_EQUAL(sim_hello_target(f.dev, host, sizeof(host), &port),
                    AMT_ERR_INVALID_ARGUMENT);

    /* names resolve only through the scenario's hosts file: no DNS query leaves */
    snprintf(hosts_path, sizeof(hosts_path), "%s/hosts", tmp_root);
    hf = fopen(hosts_path, "w");
    fprintf(hf, "# simulated DNS\n127.0.0.1 other.contoso.com\n");
    fclose(hf);
    f.cfg.hosts_file = hosts_path;
    f.cfg.provision_server = NULL;
    CU_ASSERT_EQUAL(sim_hello_sender_start(f.sender), 0);
    for (int k = 0; k < 10; k++)
        loop_run_once(f.loop, 2);
    log = (char *)unit_read_file(f.events_path, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "\"id\":\"NET-DNS\",\"result\":\"fail\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "ProvisionServer.fabrikam.com"));
    free(log);

    hf = fopen(hosts_path, "w");
    fprintf(hf, "127.0.0.1   ProvisionServer.fabrikam.com\n");
    fclose(hf);
    /* the hosts file names the server, but on the real port 9971 nothing listens
     * here: so point the MEBx address at the name with the test's port */
    snprintf(f.server, sizeof(f.server), "ProvisionServer.fabrikam.com:%u", f.port);
    f.cfg.provision_server = f.server;
    clock_advance(f.clock, 60);
    {
        struct hello h;
        CU_ASSERT_EQUAL(receive_hello(&f, &h), 0);
    }
    fixture_stop(&f);
}

static int
suite_init(void)
{
    if (mkdtemp(tmp_root) == NULL || keypool_new(2048, &keys) != 0)
        return -1;
    return 0;
}

static int
suite_clean(void)
{
    char cmd[300];

    keypool_free(keys);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

static CU_TestInfo hello_tests[] = {
    {"OOB-1: full schedule and contents", test_full_schedule_and_contents},
    {"OOB-1: server down is a retry", test_server_down_is_a_retry},
    {"OOB-1: stops when provisioned, restarts after unprovision",
     test_stops_when_provisioned_and_restarts_after_unprovision},
    {"MEBx flag and wrong roots", test_mebx_flag_and_wrong_roots},
    {"NET-DNS, NET-DHCP (option 15 suffix): target order and hosts file",
     test_target_order_and_hosts_file},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"sim_hello", suite_init, suite_clean, NULL, NULL, hello_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_sim_hello", suites);
}
