#include "hello_sender.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "evlog.h"
#include "hello.h"

struct sim_hello_sender {
    struct amt_loop *loop;
    struct sim_device *dev;
    struct hello_schedule schedule;
    double window_start; /* virtual time of the window's slot 0 */
    unsigned next_index;
    unsigned retry_count; /* hellos attempted in this window */
    unsigned sent;
    bool running;
    bool wrong_roots;
    struct loop_timer *timer;
    /* the connection of the hello in flight, if any */
    int fd;
    struct loop_watch *watch;
    struct loop_timer *deadline;
    unsigned char buf[HELLO_ENCODED_MAX];
    size_t len, off;
    char target[300];
    unsigned port;
    unsigned index;
};

#define SENDER_EVENT(s, result, ...)                                                     \
    evlog_emit(sim_device_events((s)->dev), loop_now((s)->loop), EVLOG_ACTOR_AMT,        \
               sim_device_uuid_text((s)->dev), "OOB-1", (result), __VA_ARGS__)

static void schedule_next(struct sim_hello_sender *s);

int
sim_hello_target(const struct sim_device *dev, char *host, size_t size, unsigned *port)
{
    const struct sim_device_config *cfg = sim_device_config(dev);
    const char *domain = sim_device_domain_name(dev);
    int n;

    *port = HELLO_SERVER_PORT;
    if (cfg->provision_server != NULL && *cfg->provision_server != '\0') {
        const char *colon = strrchr(cfg->provision_server, ':');

        if (colon != NULL) {
            char *end;
            unsigned long p = strtoul(colon + 1, &end, 10);

            if (*end != '\0' || p == 0 || p > 65535 || colon == cfg->provision_server)
                return AMT_ERR_INVALID_ARGUMENT;
            *port = (unsigned)p;
            n = snprintf(host, size, "%.*s", (int)(colon - cfg->provision_server),
                         cfg->provision_server);
        } else {
            n = snprintf(host, size, "%s", cfg->provision_server);
        }
    } else if (domain != NULL && *domain != '\0') {
        n = snprintf(host, size, "ProvisionServer.%s", domain);
    } else if (cfg->dhcp_domain != NULL && *cfg->dhcp_domain != '\0') {
        n = snprintf(host, size, "ProvisionServer.%s", cfg->dhcp_domain);
    } else {
        n = snprintf(host, size, "ProvisionServer");
    }
    return (n < 0 || (size_t)n >= size) ? AMT_ERR_TOO_LARGE : 0;
}

static void
close_connection(struct sim_hello_sender *s)
{
    loop_unwatch(s->loop, s->watch);
    s->watch = NULL;
    loop_timer_cancel(s->loop, s->deadline);
    s->deadline = NULL;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

static void
finish(struct sim_hello_sender *s, const char *reason, int err)
{
    if (reason == NULL) {
        s->sent++;
        SENDER_EVENT(s, EVLOG_RESULT_OK, EVLOG_INT("index", s->index),
                     EVLOG_INT("retry-count", s->retry_count - 1),
                     EVLOG_STR("target", s->target), EVLOG_INT("port", s->port),
                     EVLOG_INT("bytes", (int64_t)s->len),
                     EVLOG_BOOL("wrong-roots", s->wrong_roots));
    } else {
        SENDER_EVENT(s, EVLOG_RESULT_FAIL, EVLOG_REASON(reason),
                     EVLOG_INT("index", s->index), EVLOG_STR("target", s->target),
                     EVLOG_INT("port", s->port),
                     EVLOG_STR("error", err != 0 ? strerror(err) : ""));
    }
    close_connection(s);
}

static void
on_deadline(struct amt_loop *loop, void *arg)
{
    struct sim_hello_sender *s = arg;

    s->deadline = NULL;
    finish(s, "connect-timeout", ETIMEDOUT);
}

static void
on_writable(struct amt_loop *loop, int fd, uint32_t events, void *arg)
{
    struct sim_hello_sender *s = arg;
    int soerr = 0;
    socklen_t len = sizeof(soerr);

    if (s->off == 0 &&
        (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0)) {
        finish(s, soerr == ECONNREFUSED ? "connect-refused" : "connect-failed", soerr);
        return;
    }
    while (s->off < s->len) {
        ssize_t n = send(fd, s->buf + s->off, s->len - s->off, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            finish(s, "write-failed", errno);
            return;
        }
        s->off += (size_t)n;
    }
    /* AMT closes after the hello; the server parses at end of stream */
    shutdown(fd, SHUT_WR);
    finish(s, NULL, 0);
}

static int
build_hello(struct sim_hello_sender *s)
{
    const struct sim_device_config *cfg = sim_device_config(s->dev);
    struct hello h;

    memset(&h, 0, sizeof(h));
    h.admin_credentials_set = sim_device_mebx_password_changed(s->dev);
    h.version = HELLO_VERSION_PKI;
    h.retry_count = s->retry_count;
    h.uuid = cfg->uuid;
    h.n_hashes = cfg->n_roots < HELLO_MAX_HASHES ? cfg->n_roots : HELLO_MAX_HASHES;
    for (size_t i = 0; i < h.n_hashes; i++) {
        h.hashes[i] = cfg->roots[i];
        if (s->wrong_roots)
            h.hashes[i].bytes[0] ^= 0x01;
    }
    s->off = 0;
    return hello_encode(&h, s->buf, sizeof(s->buf), &s->len);
}

/* Looks name up in a hosts(5) file: "127.0.0.5  ProvisionServer.contoso.com alias". */
static int
hosts_lookup(const char *path, const char *name, struct in_addr *out)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    int r = AMT_ERR_NOT_FOUND;

    if (f == NULL)
        return AMT_ERR_SYSTEM;
    while (r != 0 && fgets(line, sizeof(line), f) != NULL) {
        char *save = NULL, *addr, *tok;

        line[strcspn(line, "#\n")] = '\0';
        if ((addr = strtok_r(line, " \t", &save)) == NULL)
            continue;
        while ((tok = strtok_r(NULL, " \t", &save)) != NULL)
            if (strcasecmp(tok, name) == 0 && inet_pton(AF_INET, addr, out) == 1) {
                r = 0;
                break;
            }
    }
    fclose(f);
    return r;
}

/* Resolves to one IPv4 address (OOB management is IPv4 only: NET-IPV4). */
static int
resolve(const struct sim_device *dev, const char *host, unsigned port,
        struct sockaddr_in *out, const char **reason)
{
    const char *hosts = sim_device_config(dev)->hosts_file;
    struct addrinfo hints, *res = NULL;

    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &out->sin_addr) == 1)
        return 0;
    if (strchr(host, ':') != NULL) {
        *reason = "ipv6-not-supported";
        return AMT_ERR_INVALID_ARGUMENT;
    }
    *reason = "provision-server-unresolved";
    if (hosts != NULL)
        return hosts_lookup(hosts, host, &out->sin_addr);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
        return AMT_ERR_NOT_FOUND;
    out->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    return 0;
}

static void
send_one(struct sim_hello_sender *s)
{
    struct sockaddr_in addr;
    const char *reason = NULL;
    int r;

    if (s->fd >= 0)
        finish(s, "previous-hello-unfinished", 0);
    s->index = s->next_index;
    if (sim_hello_target(s->dev, s->target, sizeof(s->target), &s->port) != 0) {
        snprintf(s->target, sizeof(s->target), "(invalid)");
        finish(s, "provision-server-invalid", 0);
        return;
    }
    r = build_hello(s);
    /* the count goes up with every attempt, delivered or not */
    s->retry_count++;
    if (r != 0) {
        finish(s, "hello-encode-failed", 0);
        return;
    }
    if (resolve(s->dev, s->target, s->port, &addr, &reason) != 0) {
        /* NET-DNS: without a name for ProvisionServer no hello can be delivered */
        evlog_emit(sim_device_events(s->dev), loop_now(s->loop), EVLOG_ACTOR_AMT,
                   sim_device_uuid_text(s->dev), "NET-DNS", EVLOG_RESULT_FAIL,
                   EVLOG_REASON(reason), EVLOG_STR("name", s->target));
        finish(s, reason, 0);
        return;
    }
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        finish(s, "socket-failed", errno);
        return;
    }
    /* the server connects back to the address the hello came from */
    {
        struct sockaddr_in src = {.sin_family = AF_INET};

        if (inet_pton(AF_INET, sim_device_config(s->dev)->listen, &src.sin_addr) != 1 ||
            bind(s->fd, (struct sockaddr *)&src, sizeof(src)) != 0) {
            finish(s, "bind-source-failed", errno);
            return;
        }
    }
    if (connect(s->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 &&
        errno != EINPROGRESS) {
        finish(s, errno == ECONNREFUSED ? "connect-refused" : "connect-failed", errno);
        return;
    }
    if (loop_watch(s->loop, s->fd, EPOLLOUT, on_writable, s, &s->watch) != 0 ||
        loop_timer_at(s->loop, loop_now(s->loop) + HELLO_SEND_TIMEOUT, on_deadline, s,
                      &s->deadline) != 0) {
        finish(s, "loop-failed", 0);
        return;
    }
}

static void
on_timer(struct amt_loop *loop, void *arg)
{
    struct sim_hello_sender *s = arg;

    s->timer = NULL;
    if (!s->running)
        return;
    if (sim_device_state(s->dev) == SIM_STATE_PROVISIONED) {
        s->running = false;
        SENDER_EVENT(s, EVLOG_RESULT_INFO, EVLOG_STR("stopped", "provisioned"),
                     EVLOG_INT("sent", s->retry_count));
        return;
    }
    send_one(s);
    s->next_index++;
    schedule_next(s);
}

static void
schedule_next(struct sim_hello_sender *s)
{
    double t;

    if (hello_schedule_at(&s->schedule, s->next_index, &t) != 0) {
        s->running = false;
        SENDER_EVENT(s, EVLOG_RESULT_INFO, EVLOG_STR("stopped", "window-ended"),
                     EVLOG_INT("sent", s->retry_count));
        return;
    }
    if (loop_timer_at(s->loop, s->window_start + t, on_timer, s, &s->timer) != 0)
        s->running = false;
}

static void
on_state(struct sim_device *dev, enum sim_state from, enum sim_state to, void *arg)
{
    struct sim_hello_sender *s = arg;

    if (to == SIM_STATE_SETUP && from == SIM_STATE_PROVISIONED)
        sim_hello_sender_start(s);
    else if (to == SIM_STATE_PROVISIONED)
        sim_hello_sender_stop(s);
}

int
sim_hello_sender_new(struct amt_loop *loop, struct sim_device *dev,
                     const struct hello_schedule *schedule, struct sim_hello_sender **out)
{
    struct sim_hello_sender *s;

    if (loop == NULL || dev == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (schedule != NULL && hello_schedule_check(schedule) != 0)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return AMT_ERR_ALLOC;
    s->loop = loop;
    s->dev = dev;
    s->fd = -1;
    if (schedule != NULL)
        s->schedule = *schedule;
    else
        hello_schedule_default(&s->schedule);
    sim_device_on_state(dev, on_state, s);
    *out = s;
    return 0;
}

void
sim_hello_sender_free(struct sim_hello_sender *s)
{
    if (s == NULL)
        return;
    sim_hello_sender_stop(s);
    sim_device_on_state(s->dev, NULL, NULL);
    free(s);
}

int
sim_hello_sender_start(struct sim_hello_sender *s)
{
    sim_hello_sender_stop(s);
    if (sim_device_state(s->dev) == SIM_STATE_PROVISIONED)
        return 0;
    s->running = true;
    s->window_start = loop_now(s->loop);
    s->next_index = 0;
    s->retry_count = 0;
    schedule_next(s);
    return s->running ? 0 : AMT_ERR_INTERNAL;
}

void
sim_hello_sender_stop(struct sim_hello_sender *s)
{
    s->running = false;
    loop_timer_cancel(s->loop, s->timer);
    s->timer = NULL;
    close_connection(s);
}

void
sim_hello_sender_set_wrong_roots(struct sim_hello_sender *s, bool on)
{
    s->wrong_roots = on;
}

unsigned
sim_hello_sender_sent(const struct sim_hello_sender *s)
{
    return s->sent;
}
