/* amt-sim: one simulated AMT device, or a fleet of them, in one process. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "clock.h"
#include "control.h"
#include "device.h"
#include "err.h"
#include "evlog.h"
#include "heci.h"
#include "hello_sender.h"
#include "keypool.h"
#include "loop.h"
#include "net.h"
#include "options.h"
#include "redirection.h"
#include "services.h"

#define EXIT_JOB_FAILED 1
#define EXIT_USAGE 2

struct sim_member {
    struct sim_device_config cfg;
    struct sim_device_strings strings;
    struct sim_device *dev;
    struct sim_hello_sender *hello;
    struct sim_heci *heci;
};

static void
usage(FILE *out)
{
    fprintf(
        out,
        "Usage: amt-sim [OPTION]...\n"
        "A simulated Intel AMT firmware: sends hellos to ProvisionServer:9971, serves\n"
        "16992-16995 on its IPv4 address, keeps its settings in a flash store.\n"
        "\n"
        "Options (each may also be given as \"name = value\" in the --config file;\n"
        "options on the command line win):\n"
        "  --config FILE            INI file with any of the settings below\n"
        "  --listen IPV4            the device's address (default 127.0.0.2; a fleet\n"
        "                           counts up from it)\n"
        "  --uuid UUID              the device's UUID (a fleet counts up from it)\n"
        "  --amt-version X.Y.Z      firmware version (default 4.0.0), from %s to %s\n"
        "  --domain SUFFIX          what DHCP option 15 gives (the PKI DNS suffix)\n"
        "  --root-hash [sha1:|sha256:|sha384:]HEX\n"
        "                           a root thumbprint in firmware (repeatable)\n"
        "  --provision-server HOST[:PORT]\n"
        "                           the ProvisionServer address set in MEBx\n"
        "  --hosts FILE             the simulated network's DNS (hosts(5) format);\n"
        "                           without it the system resolver is used\n"
        "  --flash DIR              the flash store (required; a fleet uses DIR/UUID)\n"
        "  --events FILE            append the JSON Lines event log to FILE\n"
        "  --time-scale N           virtual seconds per real second (default 1)\n"
        "  --hello-schedule SPEC    INTERVALxDURATION,... (default %s)\n"
        "  --devices N              simulate N devices in this process (default 1)\n"
        "  --heci PATH              the host-interface socket (a fleet: PATH.N)\n"
        "  --control PATH           a socket for faults, reboots and queries while\n"
        "                           running (see amt-sim/control.h)\n"
        "  --key-cache DIR          ready-made device keys, made there once and\n"
        "                           reused: a fleet's first start without RSA work\n"
        "  --sol on|off, --ider on|off\n"
        "                           Serial over LAN and IDE redirection at start\n"
        "                           (default: as the flash store has them)\n"
        "  --state factory|provisioned\n"
        "                           start state (default factory)\n"
        "  --admin-password P       with --state provisioned: the admin password\n"
        "  --tls on|off             with --state provisioned: TLS enabled (default on)\n"
        "  --lockout-failures N     digest failures before lockout (default 5; 0 = "
        "none)\n"
        "  --lockout-seconds S      lockout length in virtual seconds (default 60)\n"
        "  --help, --version\n"
        "\n"
        "Exit status: 0 when stopped by SIGINT or SIGTERM, 1 when the simulation\n"
        "failed, 2 on bad usage or configuration.\n",
        SIM_VERSION_MIN_TEXT, SIM_VERSION_MAX_TEXT, HELLO_SCHEDULE_DEFAULT);
}

/* The long options are the settings' own names, plus --config, --help, --version. */
static struct option *
build_long_options(void)
{
    size_t n = 0, i;
    struct option *opts;

    while (sim_option_rows[n].name != NULL)
        n++;
    if ((opts = calloc(n + 4, sizeof(*opts))) == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        opts[i].name = sim_option_rows[i].name;
        opts[i].has_arg = required_argument;
        opts[i].val = 0x100 + (int)i;
    }
    opts[i++] = (struct option){"config", required_argument, NULL, 'c'};
    opts[i++] = (struct option){"help", no_argument, NULL, 'h'};
    opts[i++] = (struct option){"version", no_argument, NULL, 'V'};
    return opts;
}

static int
parse_options(int argc, char **argv, struct sim_options *o)
{
    struct option *longopts = build_long_options();
    char err[512];
    int c, r = 0;

    if (longopts == NULL)
        return EXIT_JOB_FAILED;
    if (settings_init(sim_option_rows, o, err, sizeof(err)) != 0) {
        fprintf(stderr, "amt-sim: %s\n", err);
        free(longopts);
        return EXIT_JOB_FAILED;
    }
    /* the config file first, whatever its place, so that options override it */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'c' &&
            settings_load_file(sim_option_rows, o, optarg, err, sizeof(err)) != 0) {
            fprintf(stderr, "amt-sim: %s\n", err);
            r = EXIT_USAGE;
            goto out;
        }
    }
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            r = -1;
            goto out;
        }
        if (c == 'V') {
            printf("amt-sim %s\n", AMT_PROJECT_VERSION);
            r = -1;
            goto out;
        }
        if (c == 'c')
            continue;
        if (c < 0x100) {
            fprintf(stderr, "Try 'amt-sim --help' for more information.\n");
            r = EXIT_USAGE;
            goto out;
        }
        if (settings_set(sim_option_rows, o, sim_option_rows[c - 0x100].name, optarg, err,
                         sizeof(err)) != 0) {
            fprintf(stderr, "amt-sim: --%s: %s\n", sim_option_rows[c - 0x100].name, err);
            r = EXIT_USAGE;
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "amt-sim: unexpected argument \"%s\"\n", argv[optind]);
        r = EXIT_USAGE;
    }
out:
    free(longopts);
    return r;
}

/* Each device holds its listeners, connections and sockets: a fleet needs more
 * descriptors than the usual soft limit of 1024. */
static void
raise_fd_limit(unsigned devices)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)devices * 16 + 256;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
        fprintf(
            stderr,
            "amt-sim: warning: %u devices may need %llu descriptors; the limit is %llu\n",
            devices, (unsigned long long)want, (unsigned long long)rl.rlim_cur);
}

static void
on_signal(struct amt_loop *loop, int fd, uint32_t events, void *arg)
{
    struct signalfd_siginfo si;

    if (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        loop_stop(loop);
}

int
main(int argc, char **argv)
{
    struct sim_options o;
    struct sim_fleet_plan plan;
    struct amt_clock *clock = NULL;
    struct amt_loop *loop = NULL;
    struct evlog *events = NULL;
    struct keypool *keys = NULL;
    struct sim_member *fleet = NULL;
    struct sim_env env;
    struct loop_watch *sigwatch = NULL;
    struct sim_net *net = NULL;
    struct sim_control *control = NULL;
    struct sim_redir *redir = NULL;
    struct sim_control_member *members = NULL;
    struct sim_net_options net_options;
    static const struct sim_http_handlers handlers = {
        .soap = sim_soap_handle,
        .wsman = sim_wsman_handle,
        .is_soap_path = sim_soap_path,
    };
    sigset_t mask;
    int sfd = -1, status = EXIT_JOB_FAILED, r;
    unsigned started = 0;
    char err[512];

    memset(&o, 0, sizeof(o));
    if ((r = parse_options(argc, argv, &o)) != 0) {
        settings_free_values(sim_option_rows, &o);
        return r < 0 ? 0 : r;
    }
    if (sim_options_plan(&o, &plan, err, sizeof(err)) != 0) {
        fprintf(stderr, "amt-sim: %s\n", err);
        status = EXIT_USAGE;
        goto out;
    }
    if (plan.n_roots == 0)
        fprintf(stderr,
                "amt-sim: warning: no --root-hash: no provisioning chain can pass "
                "OOB-3.5 on this device\n");
    if (clock_new_scaled(o.time_scale, &clock) != 0 || loop_new(clock, &loop) != 0 ||
        keypool_new(2048, &keys) != 0) {
        fprintf(stderr, "amt-sim: cannot set up the event loop\n");
        goto out;
    }
    if (o.events != NULL && (r = evlog_open(o.events, &events)) != 0) {
        fprintf(stderr, "amt-sim: %s: %s\n", o.events, amt_strerror(r));
        goto out;
    }
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
        loop_watch(loop, sfd, EPOLLIN, on_signal, NULL, &sigwatch) != 0) {
        fprintf(stderr, "amt-sim: signalfd: %s\n", strerror(errno));
        goto out;
    }
    if (o.key_cache != NULL && keypool_fill_cached(keys, o.key_cache, (size_t)o.devices,
                                                   err, sizeof(err)) != 0) {
        fprintf(stderr, "amt-sim: key cache: %s\n", err);
        goto out;
    }
    raise_fd_limit((unsigned)o.devices);
    sim_net_options_default(&net_options);
    if ((r = sim_net_new(loop, &handlers, &net_options, &net)) != 0) {
        fprintf(stderr, "amt-sim: cannot start the network side: %s\n", amt_strerror(r));
        goto out;
    }
    if ((r = sim_redir_new(loop, net, NULL, &redir)) != 0) {
        fprintf(stderr, "amt-sim: cannot start redirection: %s\n", amt_strerror(r));
        goto out;
    }
    /* a fleet keeps one flash folder per device inside the one given */
    if (o.devices > 1 && mkdir(o.flash, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "amt-sim: %s: %s\n", o.flash, strerror(errno));
        goto out;
    }
    env = (struct sim_env){.events = events, .clock = clock, .keys = keys};
    if ((fleet = calloc((size_t)o.devices, sizeof(*fleet))) == NULL)
        goto out;
    for (unsigned i = 0; i < (unsigned)o.devices; i++) {
        struct sim_member *m = &fleet[i];

        if (sim_options_device(&o, &plan, i, &m->cfg, &m->strings) != 0) {
            fprintf(stderr, "amt-sim: device %u: paths too long\n", i);
            status = EXIT_USAGE;
            goto out;
        }
        if ((r = sim_device_open(&m->cfg, &env, &m->dev, err, sizeof(err))) != 0) {
            fprintf(stderr, "amt-sim: device %u: %s\n", i, err);
            goto out;
        }
        started++;
        if ((o.sol != 0 &&
             sim_device_set_switch(m->dev, SIM_SWITCH_SOL, o.sol == 1) != 0) ||
            (o.ider != 0 &&
             sim_device_set_switch(m->dev, SIM_SWITCH_IDER, o.ider == 1) != 0)) {
            fprintf(stderr, "amt-sim: device %u: cannot set SOL or IDE-R\n", i);
            goto out;
        }
        if (sim_net_add_device(net, m->dev, err, sizeof(err)) != 0) {
            fprintf(stderr, "amt-sim: device %u: %s\n", i, err);
            goto out;
        }
        if ((r = sim_hello_sender_new(loop, m->dev, &plan.schedule, &m->hello)) != 0 ||
            (r = sim_hello_sender_start(m->hello)) != 0) {
            fprintf(stderr, "amt-sim: device %u: hello sender: %s\n", i, amt_strerror(r));
            goto out;
        }
        if (m->strings.heci_path[0] != '\0' &&
            sim_heci_new(loop, m->dev, m->strings.heci_path, &m->heci, err,
                         sizeof(err)) != 0) {
            fprintf(stderr, "amt-sim: device %u: host interface: %s\n", i, err);
            goto out;
        }
    }
    if (o.control != NULL) {
        if ((members = calloc((size_t)o.devices, sizeof(*members))) == NULL)
            goto out;
        for (unsigned i = 0; i < (unsigned)o.devices; i++)
            members[i] =
                (struct sim_control_member){.dev = fleet[i].dev, .hello = fleet[i].hello};
        if (sim_control_new(loop, net, members, (size_t)o.devices, o.control, &control,
                            err, sizeof(err)) != 0) {
            fprintf(stderr, "amt-sim: control socket: %s\n", err);
            goto out;
        }
    }
    fprintf(stderr, "amt-sim: %d device%s from %s, AMT %s, time scale %g\n", o.devices,
            o.devices == 1 ? "" : "s", o.listen, plan.profile.text, o.time_scale);
    if ((r = loop_run(loop)) != 0) {
        fprintf(stderr, "amt-sim: event loop: %s\n", amt_strerror(r));
        goto out;
    }
    status = 0;
out:
    sim_redir_free(redir);
    sim_control_free(control);
    free(members);
    for (unsigned i = 0; fleet != NULL && i < started; i++) {
        sim_net_remove_device(net, fleet[i].dev);
        sim_wsman_forget_device(fleet[i].dev);
        sim_heci_free(fleet[i].heci);
        sim_hello_sender_free(fleet[i].hello);
        sim_device_free(fleet[i].dev);
    }
    free(fleet);
    sim_wsman_forget_all();
    sim_net_free(net);
    loop_unwatch(loop, sigwatch);
    if (sfd >= 0)
        close(sfd);
    loop_free(loop);
    evlog_free(events);
    keypool_free(keys);
    clock_free(clock);
    settings_free_values(sim_option_rows, &o);
    return status;
}
