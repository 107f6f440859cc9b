/*
 * amtprov: the provisioning side's one program. Each subcommand is a function of
 * its own with its own options; exit codes as every program of the project: 0 done,
 * 1 the job failed, 2 bad usage or bad configuration.
 */
#include "amtclient.h"
#include "ca.h"
#include "config.h"
#include "console.h"
#include "curl_loop.h"
#include "db.h"
#include "directory.h"
#include "engine.h"
#include "err.h"
#include "evlog.h"
#include "hello_listener.h"
#include "import.h"
#include "loop.h"
#include "prereq.h"

#include <errno.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define EXIT_JOB_FAILED 1
#define EXIT_USAGE 2

static const char *const subcommands_help =
    "usage: amtprov SUBCOMMAND [OPTIONS]\n"
    "The provisioning side of Intel AMT: site server, service point and console.\n"
    "\n"
    "  serve --config FILE                   hello listener and provisioning\n"
    "  prereq --config FILE                  check the configuration's seed rules\n"
    "  import --config FILE CSV              import devices, all or nothing\n"
    "  status [UUID] [--json] [--show-secrets] --config FILE\n"
    "  directory add-container --config FILE create [sp] directory-ou per domain\n"
    "  discover [--json] HOST...             is HOST AMT, provisioned, which version\n"
    "  power on|off|reset|cycle HOST [--user U] [--password-file F]\n"
    "  unprovision HOST [--user U] [--password-file F]\n"
    "  agent ...                             the in-band agent (not in this build)\n"
    "\n"
    "Each subcommand takes --help. Exit status: 0 success, 1 the job failed, 2 bad\n"
    "usage or bad configuration.\n";

static int usage_error(const char *cmd, const char *fmt, ...) AMT_PRINTF(2, 3);

static int
usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "amtprov %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'amtprov %s --help'.\n", cmd);
    return EXIT_USAGE;
}

/* --- options shared by the site subcommands --- */

struct site_opts {
    const char *config;
    const char *uuid;
    bool json;
    bool show_secrets;
    struct prov_config cfg;
    bool loaded;
};

/* 0, or the exit code after a message naming file, line and setting. */
static int
load_config(const char *cmd, struct site_opts *o)
{
    char err[512];
    int r;

    if (o->config == NULL)
        return usage_error(cmd, "%s", "--config FILE is required");
    if ((r = prov_config_load(o->config, &o->cfg, err, sizeof(err))) != 0) {
        fprintf(stderr, "amtprov %s: %s\n", cmd, err);
        return EXIT_USAGE;
    }
    o->loaded = true;
    return 0;
}

static int
open_site(const char *cmd, const struct prov_config *cfg, struct site_db **db)
{
    char err[512] = "";
    int r;

    if (cfg->paths.database == NULL) {
        fprintf(stderr, "amtprov %s: %s: [site] database is not set\n", cmd, cfg->path);
        return EXIT_USAGE;
    }
    if ((r = site_db_open(cfg->paths.database, db, err, sizeof(err))) != 0) {
        fprintf(stderr, "amtprov %s: %s: %s\n", cmd, cfg->paths.database,
                err[0] != '\0' ? err : amt_strerror(r));
        return EXIT_JOB_FAILED;
    }
    return 0;
}

/*
 * getopt_long for the site subcommands; positional arguments are left at
 * argv[optind...]. -1 after --help was printed.
 */
static int
parse_site(int argc, char **argv, const char *help, bool with_status, struct site_opts *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"show-secrets", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config = optarg;
            break;
        case 'j':
        case 's':
            if (!with_status)
                return usage_error(argv[0], "%s",
                                   "--json and --show-secrets are for status");
            if (c == 'j')
                o->json = true;
            else
                o->show_secrets = true;
            break;
        case 'h':
            fputs(help, stdout);
            return -1;
        default:
            return usage_error(argv[0], "%s", "unknown option");
        }
    }
    return 0;
}

/* --- prereq --- */

static int
cmd_prereq(int argc, char **argv)
{
    struct site_opts o = {0};
    int r;

    if ((r = parse_site(argc, argv,
                        "usage: amtprov prereq --config FILE\n"
                        "Runs every prerequisite check and prints one line per result.\n"
                        "Exit 0 when none failed, 2 when a seed rule is broken.\n",
                        false, &o)) != 0)
        return r < 0 ? 0 : r;
    if (optind != argc)
        return usage_error("prereq", "unexpected argument %s", argv[optind]);
    if ((r = load_config("prereq", &o)) != 0)
        return r;
    r = prov_prereq_run(&o.cfg, prov_prereq_print, stdout) ? 0 : EXIT_USAGE;
    if (r != 0)
        fprintf(stderr,
                "amtprov prereq: %s: a seed rule is broken (see the fail lines)\n",
                o.cfg.path);
    prov_config_free(&o.cfg);
    return r;
}

/* --- import and directory --- */

static void
print_problem(void *arg, const struct import_problem *p)
{
    (void)arg;
    fprintf(stderr, "%s\n", p->message);
}

static int
cmd_import(int argc, char **argv)
{
    struct site_opts o = {0};
    struct site_db *db = NULL;
    struct dir *dir = NULL;
    struct import_policy policy;
    struct ns_forest forest;
    size_t count = 0;
    int r;

    if ((r = parse_site(
             argc, argv,
             "usage: amtprov import --config FILE CSV\n"
             "Imports the devices of CSV into the site database: every line is\n"
             "checked, every problem printed, and nothing is imported unless\n"
             "all lines pass. Exit 0 imported, 1 a line was refused, 2 bad\n"
             "configuration. The directory container must exist: see\n"
             "'amtprov directory add-container'.\n",
             false, &o)) != 0)
        return r < 0 ? 0 : r;
    if (optind + 1 != argc)
        return usage_error("import", "%s", "one CSV file is expected");
    if ((r = load_config("import", &o)) != 0)
        return r;
    if ((r = open_site("import", &o.cfg, &db)) != 0)
        goto out;
    if ((r = dir_new_embedded(db, &dir)) != 0) {
        fprintf(stderr, "amtprov import: directory: %s\n", amt_strerror(r));
        r = EXIT_JOB_FAILED;
        goto out;
    }
    memset(&policy, 0, sizeof(policy));
    policy.sp_domain = o.cfg.sp.domain;
    if (o.cfg.sp.forest_root != NULL) {
        forest.root = o.cfg.sp.forest_root;
        forest.domains = (const char *const *)o.cfg.sp.forest_domains.items;
        forest.n_domains = o.cfg.sp.forest_domains.n;
        policy.forest = &forest;
    }
    policy.default_container = o.cfg.sp.directory_ou;
    r = import_csv(db, dir, argv[optind], &policy, print_problem, NULL, &count);
    if (r == AMT_ERR_INVALID_ARGUMENT || r == AMT_ERR_NS_NAME) {
        fprintf(stderr, "amtprov import: %s: [sp] domain: %s\n", o.cfg.path,
                amt_strerror(r));
        r = EXIT_USAGE;
    } else if (r != 0) {
        fprintf(stderr, "amtprov import: %s: nothing imported\n", argv[optind]);
        r = EXIT_JOB_FAILED;
    } else
        printf("%zu device(s) imported\n", count);
out:
    dir_free(dir);
    site_db_close(db);
    prov_config_free(&o.cfg);
    return r;
}

static int
cmd_directory(int argc, char **argv)
{
    struct site_opts o = {0};
    struct site_db *db = NULL;
    struct dir *dir = NULL;
    char err[512] = "";
    int r;

    if ((r = parse_site(argc, argv,
                        "usage: amtprov directory add-container --config FILE\n"
                        "Creates [sp] directory-ou under [sp] domain and every forest\n"
                        "domain in the embedded directory, as an administrator would.\n",
                        false, &o)) != 0)
        return r < 0 ? 0 : r;
    if (optind + 1 != argc || strcmp(argv[optind], "add-container") != 0)
        return usage_error("directory", "%s", "expected: add-container");
    if ((r = load_config("directory", &o)) != 0)
        return r;
    if (o.cfg.sp.directory_ou == NULL || o.cfg.sp.domain == NULL) {
        fprintf(stderr,
                "amtprov directory: %s: [sp] directory-ou and domain are needed\n",
                o.cfg.path);
        r = EXIT_USAGE;
        goto out;
    }
    if ((r = open_site("directory", &o.cfg, &db)) != 0)
        goto out;
    if ((r = dir_new_embedded(db, &dir)) != 0)
        goto fail;
    for (size_t i = 0; i <= o.cfg.sp.forest_domains.n; i++) {
        const char *d = i == 0 ? o.cfg.sp.domain : o.cfg.sp.forest_domains.items[i - 1];

        if (i > 0 && strcasecmp(d, o.cfg.sp.domain) == 0)
            continue;
        if ((r = dir_create_container(dir, o.cfg.sp.directory_ou, d, err, sizeof(err))) !=
            0)
            goto fail;
        printf("%s in %s: present\n", o.cfg.sp.directory_ou, d);
    }
    r = 0;
    goto out;
fail:
    fprintf(stderr, "amtprov directory: %s\n", err[0] != '\0' ? err : amt_strerror(r));
    r = EXIT_JOB_FAILED;
out:
    dir_free(dir);
    site_db_close(db);
    prov_config_free(&o.cfg);
    return r;
}

/* --- status --- */

static int
print_device_row(void *arg, const struct site_device *d)
{
    (void)arg;
    printf("%-36s  %-16s  %-24s  %-11s  %-8s  %s%s%s\n", d->uuid, d->host, d->domain,
           site_state_name(d->state), d->amt_version[0] != '\0' ? d->amt_version : "-",
           d->last_step, d->last_error[0] != '\0' ? " " : "", d->last_error);
    return 0;
}

static int
cmd_status(int argc, char **argv)
{
    struct site_opts o = {0};
    struct site_db *db = NULL;
    char *json = NULL;
    int r;

    if ((r = parse_site(argc, argv,
                        "usage: amtprov status [UUID] [--json] [--show-secrets] --config "
                        "FILE\n"
                        "A table of every device, or one device; --json prints one\n"
                        "device as JSON, and --show-secrets adds its admin and MEBx\n"
                        "passwords (for the operator who owns the site database).\n",
                        true, &o)) != 0)
        return r < 0 ? 0 : r;
    if (optind + 1 < argc)
        return usage_error("status", "unexpected argument %s", argv[optind + 1]);
    if (optind < argc)
        o.uuid = argv[optind];
    if ((o.json || o.show_secrets) && o.uuid == NULL)
        return usage_error("status", "%s", "--json and --show-secrets need a UUID");
    if ((r = load_config("status", &o)) != 0)
        return r;
    if ((r = open_site("status", &o.cfg, &db)) != 0)
        goto out;
    if (o.uuid == NULL) {
        printf("%-36s  %-16s  %-24s  %-11s  %-8s  %s\n", "UUID", "HOST", "DOMAIN",
               "STATE", "AMT", "LAST STEP");
        r = site_db_device_list(db, print_device_row, NULL);
    } else if (o.json) {
        if (o.show_secrets)
            fprintf(stderr, "amtprov status: warning: the output holds passwords\n");
        if ((r = site_db_device_json(db, o.uuid, o.show_secrets, &json)) == 0)
            printf("%s\n", json);
    } else {
        struct site_device d;

        if ((r = site_db_device_get(db, o.uuid, &d)) == 0) {
            print_device_row(NULL, &d);
            if (o.show_secrets) {
                struct site_credential c;

                fprintf(stderr, "amtprov status: warning: the output holds passwords\n");
                for (int k = SITE_SECRET_ADMIN; k <= SITE_SECRET_MEBX; k++) {
                    if (site_db_credential_get(db, o.uuid, (enum site_secret_kind)k,
                                               &c) == 0 &&
                        c.has_current)
                        printf("%s: %s%s%s\n", site_secret_kind_name(k), c.user,
                               c.user[0] != '\0' ? ":" : "", c.password);
                    site_credential_wipe(&c);
                }
            }
        }
    }
    if (r != 0) {
        fprintf(stderr, "amtprov status: %s: %s\n", o.uuid != NULL ? o.uuid : "list",
                amt_strerror(r));
        r = EXIT_JOB_FAILED;
    }
out:
    site_db_text_free(json);
    site_db_close(db);
    prov_config_free(&o.cfg);
    return r;
}

/* --- console: discover, power, unprovision --- */

static int
cmd_discover(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct amt_loop *loop = NULL;
    struct curl_loop *cl = NULL;
    bool json = false;
    double timeout = 5;
    int c, status = 0, r;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 't':
            timeout = strtod(optarg, NULL);
            if (timeout <= 0)
                return usage_error("discover", "bad --timeout %s", optarg);
            break;
        case 'h':
            fputs("usage: amtprov discover [--json] [--timeout SECONDS] HOST...\n"
                  "Asks each IPv4 HOST on 16992, then 16993, without credentials:\n"
                  "not-amt, not-provisioned or provisioned, and the AMT version.\n",
                  stdout);
            return 0;
        default:
            return usage_error("discover", "%s", "unknown option");
        }
    }
    if (optind >= argc)
        return usage_error("discover", "%s", "no HOST given");
    if (loop_new(NULL, &loop) != 0 || curl_loop_new(loop, &cl) != 0) {
        fprintf(stderr, "amtprov discover: cannot set up the client\n");
        status = EXIT_JOB_FAILED;
        goto out;
    }
    for (int i = optind; i < argc; i++) {
        struct console_discovery d;

        if ((r = console_discover(loop, cl, argv[i], 0, 0, timeout, &d)) != 0) {
            fprintf(stderr, "amtprov discover: %s: %s\n", argv[i],
                    r == AMT_ERR_NET_IPV6 ? "IPv6 is not supported (NET-IPV4)"
                                          : "not an IPv4 address");
            status = EXIT_USAGE;
            continue;
        }
        if (json)
            printf("{\"host\":\"%s\",\"state\":\"%s\",\"version\":\"%s\",\"port\":%u}\n",
                   argv[i], console_state_name(d.state), d.version, d.port);
        else
            printf("%s %s%s%s\n", argv[i], console_state_name(d.state),
                   d.version[0] != '\0' ? " " : "", d.version);
    }
out:
    curl_loop_free(cl);
    loop_free(loop);
    return status;
}

/* The password: AMT_PASSWORD or the first line of --password-file. */
static int
read_password(const char *file, char *buf, size_t size)
{
    const char *env = getenv("AMT_PASSWORD");
    FILE *fp;

    if (file == NULL) {
        if (env == NULL || strlen(env) >= size)
            return -1;
        snprintf(buf, size, "%s", env);
        return 0;
    }
    if ((fp = fopen(file, "r")) == NULL)
        return -1;
    if (fgets(buf, (int)size, fp) == NULL)
        buf[0] = '\0';
    fclose(fp);
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf[0] != '\0' ? 0 : -1;
}

static int
cmd_device_op(int argc, char **argv, bool power)
{
    static const struct option longopts[] = {
        {"user", required_argument, NULL, 'u'},
        {"password-file", required_argument, NULL, 'p'},
        {"ca", required_argument, NULL, 'a'},
        {"insecure-pin", no_argument, NULL, 'i'},
        {"host-name", required_argument, NULL, 'n'},
        {"port", required_argument, NULL, 'P'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *cmd = power ? "power" : "unprovision";
    const char *pwfile = NULL;
    struct console_target t = {.user = "admin", .port = AMT_CLIENT_PORT_HTTPS};
    enum console_power op = CONSOLE_POWER_ON;
    struct amt_loop *loop = NULL;
    struct curl_loop *cl = NULL;
    struct amt_client *client = NULL;
    bool pin = false;
    char password[AMT_CLIENT_PASSWORD_MAX + 2] = "", err[512] = "";
    int c, r = EXIT_JOB_FAILED;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            t.user = optarg;
            break;
        case 'p':
            pwfile = optarg;
            break;
        case 'a':
            t.ca_file = optarg;
            break;
        case 'i':
            pin = true;
            break;
        case 'n':
            t.expected_host = optarg;
            break;
        case 'P':
            t.port = (unsigned)strtoul(optarg, NULL, 10);
            if (t.port != AMT_CLIENT_PORT_HTTP && t.port != AMT_CLIENT_PORT_HTTPS)
                return usage_error(cmd, "--port is 16992 or 16993, not %s", optarg);
            break;
        case 't':
            t.timeout = strtod(optarg, NULL);
            break;
        case 'h':
            printf("usage: amtprov %s HOST [--user U] [--password-file FILE]\n"
                   "       [--ca FILE [--host-name NAME] | --insecure-pin]\n"
                   "       [--port 16992|16993] [--timeout SECONDS]\n"
                   "%s"
                   "The password comes from AMT_PASSWORD or the first line of\n"
                   "--password-file. Over 16993 the device's certificate must verify\n"
                   "against --ca and name HOST (or --host-name NAME), or\n"
                   "--insecure-pin trusts the first one seen.\n"
                   "Exit 1 when the device refused or could not be reached (a blocked\n"
                   "port is named).\n",
                   power ? "power on|off|reset|cycle" : "unprovision",
                   power ? "Changes the managed computer's power state.\n"
                         : "Returns the device to setup.\n");
            return 0;
        default:
            return usage_error(cmd, "%s", "unknown option");
        }
    }
    if (power) {
        if (optind >= argc || console_power_parse(argv[optind], &op) != 0)
            return usage_error(cmd, "%s", "expected on, off, reset or cycle");
        optind++;
    }
    if (optind + 1 != argc)
        return usage_error(cmd, "%s", "one HOST is expected");
    t.host = argv[optind];
    if (t.port == AMT_CLIENT_PORT_HTTPS && t.ca_file == NULL && !pin)
        return usage_error(cmd, "%s", "over 16993 give --ca FILE or --insecure-pin");
    if (read_password(pwfile, password, sizeof(password)) != 0)
        return usage_error(cmd, "%s", "no password: set AMT_PASSWORD or --password-file");
    t.password = password;
    if (loop_new(NULL, &loop) != 0 || curl_loop_new(loop, &cl) != 0 ||
        amt_client_new(loop, cl, NULL, &client) != 0) {
        fprintf(stderr, "amtprov %s: cannot set up the client\n", cmd);
        goto out;
    }
    r = power ? console_power(loop, client, &t, op, err, sizeof(err))
              : console_unprovision(loop, client, &t, err, sizeof(err));
    if (r != 0) {
        fprintf(stderr, "amtprov %s: %s: %s\n", cmd, t.host, err);
        r = r == AMT_ERR_NET_IPV6 ? EXIT_USAGE : EXIT_JOB_FAILED;
    } else
        printf("%s: %s%s%s: done\n", t.host, cmd, power ? " " : "",
               power ? console_power_name(op) : "");
out:
    OPENSSL_cleanse(password, sizeof(password));
    amt_client_free(client);
    curl_loop_free(cl);
    loop_free(loop);
    return r;
}

/* --- serve --- */

struct serve_ctx {
    struct site_db *db;
    struct prov_engine *engine;
};

static int
hook_imported(void *arg, const struct amt_uuid *uuid, bool *yes)
{
    struct serve_ctx *s = arg;
    struct site_device d;
    char text[UUID_TEXT_SIZE];
    int r;

    uuid_format(uuid, text);
    r = site_db_device_get(s->db, text, &d);
    *yes = r == 0;
    return r == AMT_ERR_NOT_FOUND ? 0 : r;
}

static int
hook_inband(void *arg, const struct amt_uuid *uuid, bool *yes)
{
    struct serve_ctx *s = arg;
    struct site_device d;
    char text[UUID_TEXT_SIZE];
    int r;

    uuid_format(uuid, text);
    r = site_db_device_get(s->db, text, &d);
    *yes = r == 0 && d.inband;
    return r == AMT_ERR_NOT_FOUND ? 0 : r;
}

static int
hook_in_flight(void *arg, const struct amt_uuid *uuid, bool *yes)
{
    struct serve_ctx *s = arg;
    char text[UUID_TEXT_SIZE];

    uuid_format(uuid, text);
    *yes = prov_engine_in_flight(s->engine, text);
    return 0;
}

static void
hook_start(void *arg, const struct amt_uuid *uuid, const struct sockaddr_in *peer,
           const struct hello *h)
{
    struct serve_ctx *s = arg;
    char text[UUID_TEXT_SIZE];
    int r;

    uuid_format(uuid, text);
    if ((r = prov_engine_start(s->engine, text, peer, h, false)) != 0)
        fprintf(stderr, "amtprov serve: %s: cannot start provisioning: %s\n", text,
                amt_strerror(r));
}

static void
on_engine_done(void *arg, const char *uuid, int verdict, const char *step,
               const char *reason)
{
    (void)arg;
    if (verdict == 0)
        fprintf(stderr, "amtprov serve: %s: provisioned\n", uuid);
    else
        fprintf(stderr, "amtprov serve: %s: failed at %s: %s\n", uuid, step, reason);
}

static void
on_signal(struct amt_loop *loop, int fd, uint32_t events, void *arg)
{
    struct signalfd_siginfo si;

    (void)events;
    (void)arg;
    if (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        loop_stop(loop);
}

static int
cmd_serve(int argc, char **argv)
{
    struct site_opts o = {0};
    struct serve_ctx ctx = {0};
    struct amt_loop *loop = NULL;
    struct curl_loop *cl = NULL;
    struct amt_client *client = NULL;
    struct dir *dir = NULL;
    struct site_ca *ca = NULL;
    struct prov_engine_options eo;
    struct evlog *events = NULL;
    struct prov_hello *hello = NULL;
    struct prov_hello_options ho;
    struct prov_hello_hooks hooks = {hook_imported, hook_inband, hook_in_flight,
                                     hook_start, &ctx};
    struct loop_watch *sigwatch = NULL;
    sigset_t mask;
    char err[512] = "";
    int sfd = -1, r;

    if ((r = parse_site(argc, argv,
                        "usage: amtprov serve --config FILE\n"
                        "Checks the configuration (exit 2 when a seed rule is broken),\n"
                        "opens the site and listens for hellos until SIGINT or SIGTERM;\n"
                        "an accepted hello starts provisioning the device.\n",
                        false, &o)) != 0)
        return r < 0 ? 0 : r;
    if (optind != argc)
        return usage_error("serve", "unexpected argument %s", argv[optind]);
    if ((r = load_config("serve", &o)) != 0)
        return r;
    if (!prov_prereq_run(&o.cfg, prov_prereq_print, stderr)) {
        fprintf(stderr, "amtprov serve: %s: a seed rule is broken (see the fail lines)\n",
                o.cfg.path);
        r = EXIT_USAGE;
        goto out;
    }
    if ((r = open_site("serve", &o.cfg, &ctx.db)) != 0)
        goto out;
    r = EXIT_JOB_FAILED;
    if (loop_new(NULL, &loop) != 0) {
        fprintf(stderr, "amtprov serve: cannot set up the event loop\n");
        goto out;
    }
    if (o.cfg.paths.events != NULL) {
        int e = strcmp(o.cfg.paths.events, "-") == 0
                    ? evlog_open_fd(STDOUT_FILENO, &events)
                    : evlog_open(o.cfg.paths.events, &events);
        if (e != 0) {
            fprintf(stderr, "amtprov serve: %s: %s\n", o.cfg.paths.events,
                    amt_strerror(e));
            goto out;
        }
    }
    if ((r = site_ca_load(o.cfg.paths.ca_cert, o.cfg.paths.ca_key, o.cfg.paths.ca_chain,
                          &ca, err, sizeof(err))) != 0) {
        fprintf(stderr, "amtprov serve: %s: issuing CA: %s\n", o.cfg.path,
                err[0] != '\0' ? err : amt_strerror(r));
        r = EXIT_USAGE;
        goto out;
    }
    r = EXIT_JOB_FAILED;
    if (curl_loop_new(loop, &cl) != 0 || amt_client_new(loop, cl, events, &client) != 0 ||
        dir_new_embedded(ctx.db, &dir) != 0 ||
        prov_engine_new(loop, client, ctx.db, dir, ca, &o.cfg, events, &ctx.engine) !=
            0) {
        fprintf(stderr, "amtprov serve: cannot set up the provisioning engine\n");
        goto out;
    }
    memset(&eo, 0, sizeof(eo));
    eo.done = on_engine_done;
    eo.done_arg = &ctx;
    prov_engine_set_options(ctx.engine, &eo);
    prov_hello_options_default(&ho);
    if ((r = prov_hello_options_from_config(&o.cfg, &ho)) != 0) {
        fprintf(stderr, "amtprov serve: %s: provisioning chain: %s\n", o.cfg.path,
                amt_strerror(r));
        r = EXIT_USAGE;
        goto out;
    }
    ho.events = events;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
        loop_watch(loop, sfd, EPOLLIN, on_signal, NULL, &sigwatch) != 0) {
        fprintf(stderr, "amtprov serve: signalfd: %s\n", strerror(errno));
        r = EXIT_JOB_FAILED;
        goto out;
    }
    if ((r = prov_hello_new(loop, &ho, &hooks, &hello)) != 0) {
        fprintf(stderr, "amtprov serve: hello listener on %s:%u: %s\n", ho.address,
                ho.port, amt_strerror(r));
        r = r == AMT_ERR_NET_IPV6 || r == AMT_ERR_NET_ADDRESS ? EXIT_USAGE
                                                              : EXIT_JOB_FAILED;
        goto out;
    }
    fprintf(stderr, "amtprov serve: listening for hellos on %s:%u\n", ho.address,
            prov_hello_port(hello));
    r = loop_run(loop) == 0 ? 0 : EXIT_JOB_FAILED;
out:
    prov_hello_free(hello);
    prov_engine_free(ctx.engine);
    amt_client_free(client);
    curl_loop_free(cl);
    dir_free(dir);
    site_ca_free(ca);
    loop_unwatch(loop, sigwatch);
    if (sfd >= 0)
        close(sfd);
    loop_free(loop);
    evlog_free(events);
    site_db_close(ctx.db);
    prov_config_free(&o.cfg);
    return r;
}

int
main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {
        {"serve", cmd_serve},   {"prereq", cmd_prereq},       {"import", cmd_import},
        {"status", cmd_status}, {"directory", cmd_directory}, {"discover", cmd_discover},
    };

    if (argc < 2) {
        fputs(subcommands_help, stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(subcommands_help, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("amtprov %s\n", AMT_PROJECT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    if (strcmp(argv[1], "power") == 0)
        return cmd_device_op(argc - 1, argv + 1, true);
    if (strcmp(argv[1], "unprovision") == 0)
        return cmd_device_op(argc - 1, argv + 1, false);
    if (strcmp(argv[1], "agent") == 0) {
        fprintf(stderr, "amtprov agent: not in this build\n");
        return EXIT_USAGE;
    }
    fprintf(stderr, "amtprov: unknown subcommand %s\n%s", argv[1], subcommands_help);
    return EXIT_USAGE;
}
