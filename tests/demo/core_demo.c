/*
 * amt-core-demo CERTS_DIR AMT_SIM: shows what exists so far. It judges every
 * certificate of the test PKI as an AMT in contoso.com would (OOB-3.5), then
 * starts a small amt-sim fleet, receives its hellos on a loopback port as a
 * provisioning server would (OOB-1, PORT-9971), decodes them and says whether
 * each carries the root of the provisioning chain (OOB-3).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "certpol.h"
#include "err.h"
#include "hello.h"
#include "thumbprint.h"

#define DEMO_DEVICES 3
#define DEMO_HELLOS (2 * DEMO_DEVICES)

static int
read_thumbprint(const char *dir, const char *name, struct amt_thumbprint *tp)
{
    char path[1024], line[256];
    FILE *f;
    int r;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((f = fopen(path, "r")) == NULL) {
        fprintf(stderr, "amt-core-demo: %s: %s\n", path, strerror(errno));
        return -1;
    }
    r = fgets(line, sizeof(line), f) != NULL ? 0 : -1;
    fclose(f);
    line[strcspn(line, "\n")] = '\0';
    return r == 0 ? thumbprint_parse(line, tp) : -1;
}

static int
judge_certificates(const char *dir, const struct amt_thumbprint *roots, size_t n)
{
    static const char *const names[] = {
        "prov-oid",
        "prov-ou",
        "bad-no-oid-no-ou",
        "bad-ou-case",
        "bad-oid-no-server-auth",
        "bad-no-cn",
        "bad-northwind",
        "bad-evilcontoso",
        "bad-expired",
        "bad-untrusted-root",
        "bad-ca-4096",
    };
    struct certpol_policy policy = {
        .domain_suffix = "contoso.com",
        .parent_domain_rule = true,
        .trusted_roots = roots,
        .n_trusted_roots = n,
    };

    printf("1. AMT's checks on each provisioning chain (OOB-3.5, PKI-CA-KEYLEN), as a\n"
           "   device in contoso.com that stores the Contoso root (and a 4096-bit "
           "one):\n\n");
    printf("   %-24s %-8s %s\n", "certificate", "verdict", "reason");
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[1024];
        X509 *leaf = NULL;
        STACK_OF(X509) *chain = NULL;
        enum certpol_reason reason = CERTPOL_OK;
        int r;

        snprintf(path, sizeof(path), "%s/%s.chain.pem", dir, names[i]);
        if ((r = certpol_load_chain_pem(path, &leaf, &chain)) != 0) {
            fprintf(stderr, "amt-core-demo: %s: %s\n", path, amt_strerror(r));
            return -1;
        }
        r = certpol_check_chain(&policy, leaf, chain, &reason);
        if (r == 0 && certpol_check_ca_keylen(chain, &reason) != 0)
            r = AMT_ERR_CERT_REFUSED;
        printf("   %-24s %-8s %s\n", names[i], r == 0 ? "accepted" : "refused",
               r == 0 ? "" : certpol_reason_name(reason));
        X509_free(leaf);
        sk_X509_pop_free(chain, X509_free);
    }
    printf("\n");
    return 0;
}

static int
listen_loopback(unsigned short *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(fd, 16) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("amt-core-demo: listen");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* Reads one hello until the device closes, as a provisioning server does. */
static int
receive_hello(int listener, struct hello *h)
{
    unsigned char buf[HELLO_MAX_BYTES];
    size_t len = 0;
    struct pollfd p = {.fd = listener, .events = POLLIN};
    int conn;

    if (poll(&p, 1, 15000) <= 0 || (conn = accept(listener, NULL, NULL)) < 0)
        return AMT_ERR_TIMEOUT;
    for (;;) {
        ssize_t n;

        p = (struct pollfd){.fd = conn, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0) {
            close(conn);
            return AMT_ERR_TIMEOUT;
        }
        n = read(conn, buf + len, sizeof(buf) - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(conn);
    return hello_decode(buf, len, h);
}

static int
receive_fleet_hellos(const char *sim, const char *dir, const struct amt_thumbprint *root)
{
    char server[64], roothash[AMT_THUMBPRINT_TEXT_MAX],
        flash[] = "/tmp/amt-core-demo.XXXXXX";
    char devices[8];
    unsigned short port;
    int listener, status, ok = 0;
    pid_t pid;

    (void)dir;
    if ((listener = listen_loopback(&port)) < 0 || mkdtemp(flash) == NULL)
        return -1;
    snprintf(server, sizeof(server), "127.0.0.1:%u", port);
    snprintf(devices, sizeof(devices), "%d", DEMO_DEVICES);
    thumbprint_format(root, roothash, sizeof(roothash));
    printf("2. A fleet of %d simulated devices (amt-sim, AMT 4.0, time scale 60) sends\n"
           "   hellos to a listener on %s; each is decoded as the provisioning\n"
           "   server will (OOB-1, OOB-2, OOB-3):\n\n",
           DEMO_DEVICES, server);
    fflush(stdout);
    if ((pid = fork()) == 0) {
        execl(sim, sim, "--devices", devices, "--listen", "127.0.0.2", "--flash", flash,
              "--provision-server", server, "--root-hash", roothash, "--time-scale", "60",
              "--domain", "contoso.com", (char *)NULL);
        perror(sim);
        _exit(127);
    }
    printf("   %-38s %-6s %-8s %s\n", "device UUID", "retry", "hashes",
           "provisioning root");
    for (int i = 0; i < DEMO_HELLOS; i++) {
        struct hello h;
        char uuid[UUID_TEXT_SIZE];
        int r = receive_hello(listener, &h);

        if (r != 0) {
            fprintf(stderr, "amt-core-demo: hello %d: %s\n", i, amt_strerror(r));
            break;
        }
        printf("   %-38s %-6u %-8zu %s\n", uuid_format(&h.uuid, uuid), h.retry_count,
               h.n_hashes,
               hello_find_root(&h, root, 1) >= 0 ? "matches: TLS would follow"
                                                 : "no match: discarded");
        ok++;
    }
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    close(listener);
    {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", flash);
        if (system(cmd) != 0)
            fprintf(stderr, "amt-core-demo: could not remove %s\n", flash);
    }
    printf("\n");
    return ok == DEMO_HELLOS ? 0 : -1;
}

int
main(int argc, char **argv)
{
    struct amt_thumbprint roots[4];

    if (argc != 3) {
        fprintf(stderr, "usage: amt-core-demo CERTS_DIR AMT_SIM\n");
        return 2;
    }
    if (read_thumbprint(argv[1], "root-ca.sha1.txt", &roots[0]) != 0 ||
        read_thumbprint(argv[1], "root-ca.sha256.txt", &roots[1]) != 0 ||
        read_thumbprint(argv[1], "root-ca.sha384.txt", &roots[2]) != 0 ||
        read_thumbprint(argv[1], "root-ca-4096.sha1.txt", &roots[3]) != 0)
        return 1;
    /* the 4096-bit root is trusted too, so that its chain fails on key length */
    if (judge_certificates(argv[1], roots, 4) != 0)
        return 1;
    if (receive_fleet_hellos(argv[2], argv[1], &roots[0]) != 0)
        return 1;
    return 0;
}
