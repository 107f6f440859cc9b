#define _GNU_SOURCE /* accept4 */
#include "heci.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "err.h"
#include "evlog.h"

#define STATUS_INVALID_PROVISIONING_STATE 0x20
#define STATUS_INVALID_PARAMETER 0x24

struct heci_client {
    struct sim_heci *heci;
    int fd;
    struct sim_watch *watch;
    char buf[HECI_LINE_MAX];
    size_t len;
};

struct sim_heci {
    struct sim_loop *loop;
    struct sim_device *dev;
    char *path;
    int fd;
    struct sim_watch *watch;
    struct heci_client *clients[HECI_CLIENTS_MAX];
};

#define HECI_EVENT(h, id, result, ...)                                                   \
    evlog_emit(sim_device_events((h)->dev), sim_device_now((h)->dev), EVLOG_ACTOR_AMT,   \
               sim_device_uuid_text((h)->dev), (id), (result), __VA_ARGS__)

static void
client_close(struct heci_client *c)
{
    struct sim_heci *h = c->heci;

    for (int i = 0; i < HECI_CLIENTS_MAX; i++)
        if (h->clients[i] == c)
            h->clients[i] = NULL;
    sim_loop_unwatch(h->loop, c->watch);
    close(c->fd);
    OPENSSL_cleanse(c->buf, sizeof(c->buf));
    free(c);
}

/* Replies are short: a reply that does not fit the socket buffer ends the client. */
static int reply(struct heci_client *c, const char *fmt, ...) AMT_PRINTF(2, 3);

static int
reply(struct heci_client *c, const char *fmt, ...)
{
    char line[HECI_LINE_MAX * 4];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line) - 1)
        return -1;
    line[n++] = '\n';
    return send(c->fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == n ? 0 : -1;
}

static int
reply_roots(struct heci_client *c)
{
    const struct sim_device_config *cfg = sim_device_config(c->heci->dev);
    char out[HECI_LINE_MAX * 4] = "OK";
    size_t used = 2;

    for (size_t i = 0; i < cfg->n_roots; i++) {
        char tp[AMT_THUMBPRINT_TEXT_MAX];

        if (thumbprint_format(&cfg->roots[i], tp, sizeof(tp)) != 0 ||
            used + 1 + strlen(tp) + 1 >= sizeof(out))
            return reply(c, "ERR %d too-many-roots", 1);
        used += (size_t)snprintf(out + used, sizeof(out) - used, " %s", tp);
    }
    return reply(c, "%s", out);
}

static int
handle_line(struct heci_client *c, char *line)
{
    struct sim_device *dev = c->heci->dev;
    char *arg = strchr(line, ' ');
    int r;

    if (arg != NULL)
        *arg++ = '\0';
    if (strcmp(line, "GET-VERSION") == 0 && arg == NULL)
        return reply(c, "OK %s", sim_device_profile(dev)->text);
    if (strcmp(line, "GET-UUID") == 0 && arg == NULL)
        return reply(c, "OK %s", sim_device_uuid_text(dev));
    if (strcmp(line, "GET-STATE") == 0 && arg == NULL)
        return reply(c, "OK %s", sim_state_name(sim_device_state(dev)));
    if (strcmp(line, "GET-ROOT-HASHES") == 0 && arg == NULL)
        return reply_roots(c);
    if (strcmp(line, "SET-OTP") == 0 && arg != NULL) {
        if (sim_device_state(dev) == SIM_STATE_PROVISIONED) {
            /* the device logs the refusal (IB-2 fail) itself */
            sim_device_set_otp(dev, arg);
            return reply(c, "ERR %d already-provisioned",
                         STATUS_INVALID_PROVISIONING_STATE);
        }
        r = sim_device_set_otp(dev, arg);
        OPENSSL_cleanse(arg, strlen(arg));
        if (r != 0)
            return reply(c, "ERR %d invalid-otp", STATUS_INVALID_PARAMETER);
        return reply(c, "OK");
    }
    if (strcmp(line, "OPEN-NETWORK") == 0 && arg == NULL) {
        HECI_EVENT(c->heci, "IB-2", EVLOG_RESULT_OK,
                   EVLOG_STR("what", "network-interface-open"));
        return reply(c, "OK");
    }
    HECI_EVENT(c->heci, "X-sim.heci", EVLOG_RESULT_FAIL, EVLOG_REASON("unknown-command"),
               EVLOG_HEX("command", line, strlen(line) > 32 ? 32 : strlen(line)));
    return reply(c, "ERR %d unknown-command", STATUS_INVALID_PARAMETER);
}

/* Example input: "SET-OTP 7bE!c0dE42x\n" */
static void
on_client(struct sim_loop *loop, int fd, uint32_t events, void *arg)
{
    struct heci_client *c = arg;
    ssize_t n;
    char *nl;

    n = recv(fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        client_close(c);
        return;
    }
    c->len += (size_t)n;
    while ((nl = memchr(c->buf, '\n', c->len)) != NULL) {
        size_t line_len = (size_t)(nl - c->buf), text_len = line_len;
        int r;

        *nl = '\0';
        if (text_len > 0 && c->buf[text_len - 1] == '\r')
            c->buf[--text_len] = '\0';
        if (strlen(c->buf) != text_len)
            r = reply(c, "ERR %d nul-byte", STATUS_INVALID_PARAMETER);
        else
            r = handle_line(c, c->buf);
        memmove(c->buf, nl + 1, c->len - line_len - 1);
        c->len -= line_len + 1;
        if (r != 0) {
            client_close(c);
            return;
        }
    }
    if (c->len == sizeof(c->buf)) {
        reply(c, "ERR %d line-too-long", STATUS_INVALID_PARAMETER);
        client_close(c);
    }
}

static void
on_accept(struct sim_loop *loop, int fd, uint32_t events, void *arg)
{
    struct sim_heci *h = arg;
    struct heci_client *c;
    int cfd, slot = -1;

    cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0)
        return;
    for (int i = 0; i < HECI_CLIENTS_MAX && slot < 0; i++)
        if (h->clients[i] == NULL)
            slot = i;
    if (slot < 0 || (c = calloc(1, sizeof(*c))) == NULL) {
        static const char busy[] = "ERR 1 busy\n";

        send(cfd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
        close(cfd);
        return;
    }
    c->heci = h;
    c->fd = cfd;
    if (sim_loop_watch(loop, cfd, EPOLLIN, on_client, c, &c->watch) != 0) {
        close(cfd);
        free(c);
        return;
    }
    h->clients[slot] = c;
}

static void set_error(char *errbuf, size_t errlen, const char *fmt, ...) AMT_PRINTF(3, 4);

static void
set_error(char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (errbuf == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

int
sim_heci_new(struct sim_loop *loop, struct sim_device *dev, const char *path,
             struct sim_heci **out, char *errbuf, size_t errlen)
{
    struct sim_heci *h = NULL;
    struct sockaddr_un addr;
    struct stat st;
    int r = AMT_ERR_INTERNAL;

    if (out != NULL)
        *out = NULL;
    if (loop == NULL || dev == NULL || path == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(addr.sun_path)) {
        set_error(errbuf, errlen, "%s: socket path longer than %zu bytes", path,
                  sizeof(addr.sun_path) - 1);
        return AMT_ERR_TOO_LARGE;
    }
    memcpy(addr.sun_path, path, strlen(path));
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            set_error(errbuf, errlen, "%s: exists and is not a socket; not removing it",
                      path);
            return AMT_ERR_INVALID_ARGUMENT;
        }
        unlink(path);
    }
    if ((h = calloc(1, sizeof(*h))) == NULL)
        return AMT_ERR_ALLOC;
    h->fd = -1;
    if ((h->path = strdup(path)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    h->loop = loop;
    h->dev = dev;
    h->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (h->fd < 0 || bind(h->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        chmod(path, 0600) != 0 || listen(h->fd, HECI_CLIENTS_MAX) != 0) {
        set_error(errbuf, errlen, "%s: %s", path, strerror(errno));
        r = AMT_ERR_SYSTEM;
        goto out;
    }
    if ((r = sim_loop_watch(loop, h->fd, EPOLLIN, on_accept, h, &h->watch)) != 0)
        goto out;
    *out = h;
    h = NULL;
    r = 0;
out:
    sim_heci_free(h);
    return r;
}

void
sim_heci_free(struct sim_heci *h)
{
    if (h == NULL)
        return;
    for (int i = 0; i < HECI_CLIENTS_MAX; i++)
        if (h->clients[i] != NULL)
            client_close(h->clients[i]);
    sim_loop_unwatch(h->loop, h->watch);
    if (h->fd >= 0) {
        close(h->fd);
        if (h->path != NULL)
            unlink(h->path);
    }
    free(h->path);
    free(h);
}
