/* The host interface socket (HECI-DRIVER, IB-1, IB-2) of a simulated device. */
#include "clock.h"
#include "device.h"
#include "err.h"
#include "heci.h"
#include "keypool.h"
#include "loop.h"
#include "unit.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char tmp_root[] = "/tmp/test_sim_heci.XXXXXX";
static struct keypool *keys;
static struct amt_clock *vclock;
static struct amt_loop *loop;
static struct sim_device_config cfg;
static struct sim_env env;
static struct sim_device *dev;
static char flash_dir[256], sock_path[100];

static int
connect_heci(void)
{
    struct sockaddr_un a;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    for (int i = 0; i < 3; i++)
        loop_run_once(loop, 5); /* accept */
    return fd;
}

/* Sends raw bytes, lets the loop answer, returns the reply line without its LF. */
static void
ask_raw(int fd, const char *data, size_t len, char *out, size_t size)
{
    ssize_t n;

    out[0] = '\0';
    CU_ASSERT_EQUAL_FATAL(write(fd, data, len), (ssize_t)len);
    for (int i = 0; i < 5; i++)
        loop_run_once(loop, 5);
    n = recv(fd, out, size - 1, MSG_DONTWAIT);
    if (n > 0) {
        out[n] = '\0';
        out[strcspn(out, "\n")] = '\0';
    }
}

static void
ask(int fd, const char *line, char *out, size_t size)
{
    char req[512];

    snprintf(req, sizeof(req), "%s\n", line);
    ask_raw(fd, req, strlen(req), out, size);
}

static void
test_queries(void)
{
    struct sim_heci *h = NULL;
    char reply[512];
    int fd;

    CU_ASSERT_EQUAL_FATAL(sim_heci_new(loop, dev, sock_path, &h, NULL, 0), 0);
    fd = connect_heci();
    CU_ASSERT_FATAL(fd >= 0);
    ask(fd, "GET-VERSION", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK 4.0.0");
    ask(fd, "GET-UUID", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK 0a0b0c0d-0001-0002-0003-000000000042");
    ask(fd, "GET-STATE", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK setup");
    ask(fd, "GET-ROOT-HASHES", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK sha1:00112233445566778899aabbccddeeff00112233");
    ask(fd, "OPEN-NETWORK", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK");
    ask(fd, "GET-VERSION extra", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "ERR 36 unknown-command");
    ask(fd, "REBOOT", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "ERR 36 unknown-command");
    ask_raw(fd, "GET-STATE\r\n", 11, reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK setup");
    ask_raw(fd, "GET\0STATE\n", 10, reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "ERR 36 nul-byte");
    close(fd);
    sim_heci_free(h);
    /* the socket file is gone: no driver any more */
    CU_ASSERT_EQUAL(access(sock_path, F_OK), -1);
}

static void
test_otp(void)
{
    struct sim_heci *h = NULL;
    char reply[512];
    int fd;

    CU_ASSERT_EQUAL_FATAL(sim_heci_new(loop, dev, sock_path, &h, NULL, 0), 0);
    fd = connect_heci();
    ask(fd, "SET-OTP short", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "ERR 36 invalid-otp");
    CU_ASSERT_PTR_NULL(sim_device_otp(dev));
    ask(fd, "SET-OTP Otp-0123456789", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK");
    CU_ASSERT_STRING_EQUAL(sim_device_otp(dev), "Otp-0123456789");

    CU_ASSERT_EQUAL(sim_device_set_admin_password(dev, "admin", "P@ssw0rd-Strong1"), 0);
    CU_ASSERT_EQUAL(sim_device_commit(dev), 0);
    ask(fd, "GET-STATE", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "OK provisioned");
    ask(fd, "SET-OTP Otp-9876543210", reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "ERR 32 already-provisioned");
    CU_ASSERT_STRING_EQUAL(sim_device_otp(dev), "Otp-0123456789");
    close(fd);
    sim_heci_free(h);
}

static void
test_long_line_and_client_cap(void)
{
    struct sim_heci *h = NULL;
    char reply[512], big[HECI_LINE_MAX + 10];
    int fds[HECI_CLIENTS_MAX + 1], fd;

    CU_ASSERT_EQUAL_FATAL(sim_heci_new(loop, dev, sock_path, &h, NULL, 0), 0);
    fd = connect_heci();
    memset(big, 'A', sizeof(big));
    ask_raw(fd, big, sizeof(big), reply, sizeof(reply));
    CU_ASSERT_STRING_EQUAL(reply, "ERR 36 line-too-long");
    close(fd);
    for (int i = 0; i < 3; i++)
        loop_run_once(loop, 5);

    for (int i = 0; i <= HECI_CLIENTS_MAX; i++)
        fds[i] = connect_heci();
    {
        /* the client over the cap is told so and closed, before it asks anything */
        ssize_t n = recv(fds[HECI_CLIENTS_MAX], reply, sizeof(reply) - 1, MSG_DONTWAIT);

        CU_ASSERT_EQUAL(n, 11);
        reply[n > 0 ? n : 0] = '\0';
        CU_ASSERT_STRING_EQUAL(reply, "ERR 1 busy\n");
    }
    ask(fds[0], "GET-STATE", reply, sizeof(reply));
    CU_ASSERT_EQUAL(strncmp(reply, "OK ", 3), 0);
    for (int i = 0; i <= HECI_CLIENTS_MAX; i++)
        close(fds[i]);
    sim_heci_free(h);
}

static void
test_socket_path_rules(void)
{
    struct sim_heci *h = NULL;
    char err[256] = "", path[300], longpath[200];
    int fd;

    /* a stale socket left by a killed run is replaced */
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    {
        struct sockaddr_un a = {.sun_family = AF_UNIX};
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
        CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    }
    close(fd);
    CU_ASSERT_EQUAL(sim_heci_new(loop, dev, sock_path, &h, err, sizeof(err)), 0);
    sim_heci_free(h);

    /* a regular file is never removed */
    snprintf(path, sizeof(path), "%s/not-a-socket", tmp_root);
    close(open(path, O_CREAT | O_WRONLY, 0600));
    h = NULL;
    CU_ASSERT_EQUAL(sim_heci_new(loop, dev, path, &h, err, sizeof(err)),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a socket"));
    CU_ASSERT_EQUAL(access(path, F_OK), 0);

    memset(longpath, 'x', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = '\0';
    CU_ASSERT_EQUAL(sim_heci_new(loop, dev, longpath, &h, err, sizeof(err)),
                    AMT_ERR_TOO_LARGE);
    CU_ASSERT_PTR_NULL(h);
}

static int
suite_init(void)
{
    char err[256];

    signal(SIGPIPE, SIG_IGN);
    if (mkdtemp(tmp_root) == NULL || keypool_new(2048, &keys) != 0 ||
        clock_new_virtual(0, &vclock) != 0 || loop_new(vclock, &loop) != 0)
        return -1;
    snprintf(flash_dir, sizeof(flash_dir), "%s/flash", tmp_root);
    snprintf(sock_path, sizeof(sock_path), "%s/heci.sock", tmp_root);
    uuid_parse("0a0b0c0d-0001-0002-0003-000000000042", &cfg.uuid);
    sim_profile_from_text("4.0", &cfg.profile);
    strcpy(cfg.listen, "127.0.0.1");
    cfg.flash_dir = flash_dir;
    thumbprint_parse("sha1:00112233445566778899aabbccddeeff00112233", &cfg.roots[0]);
    cfg.n_roots = 1;
    env.clock = vclock;
    env.keys = keys;
    return sim_device_open(&cfg, &env, &dev, err, sizeof(err)) == 0 ? 0 : -1;
}

static int
suite_clean(void)
{
    char cmd[300];

    sim_device_free(dev);
    loop_free(loop);
    clock_free(vclock);
    keypool_free(keys);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

static CU_TestInfo heci_tests[] = {
    {"IB-1: queries", test_queries},
    {"IB-2: OTP, refused once provisioned", test_otp},
    {"long line and client cap", test_long_line_and_client_cap},
    {"HECI-DRIVER: socket path rules", test_socket_path_rules},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"sim_heci", suite_init, suite_clean, NULL, NULL, heci_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_sim_heci", suites);
}
