#define _GNU_SOURCE /* accept4 */
#include "linesrv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
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

struct linesrv_client {
    struct sim_linesrv *srv;
    int fd;
    struct loop_watch *watch;
    char buf[LINESRV_LINE_MAX];
    size_t len;
};

struct sim_linesrv {
    struct amt_loop *loop;
    struct sim_linesrv_options o;
    char *path;
    int fd;
    bool bound; /* the socket file is ours to remove */
    struct loop_watch *watch;
    struct linesrv_client **clients;
};

static void
client_close(struct linesrv_client *c)
{
    struct sim_linesrv *s = c->srv;

    for (unsigned i = 0; i < s->o.max_clients; i++)
        if (s->clients[i] == c)
            s->clients[i] = NULL;
    loop_unwatch(s->loop, c->watch);
    close(c->fd);
    OPENSSL_cleanse(c->buf, sizeof(c->buf));
    free(c);
}

/* Replies are short: one that does not fit the socket buffer ends the client. */
static int
send_line(int fd, const char *text)
{
    char line[LINESRV_REPLY_MAX + 1];
    size_t n = strlen(text);

    if (n > LINESRV_REPLY_MAX)
        n = LINESRV_REPLY_MAX;
    memcpy(line, text, n);
    line[n++] = '\n';
    return send(fd, line, n, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

static int
refuse(struct linesrv_client *c, const char *why)
{
    char line[64];

    snprintf(line, sizeof(line), "ERR %d %s", c->srv->o.bad_status, why);
    return send_line(c->fd, line);
}

/* Example input: "SET-OTP 7bE!c0dE42x\n" */
static void
on_client(struct amt_loop *loop, int fd, uint32_t events, void *arg)
{
    struct linesrv_client *c = arg;
    char reply[LINESRV_REPLY_MAX];
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
        if (strlen(c->buf) != text_len) {
            r = refuse(c, "nul-byte");
        } else {
            reply[0] = '\0';
            c->srv->o.handler(c->srv->o.arg, c->buf, reply, sizeof(reply));
            r = send_line(c->fd, reply);
        }
        OPENSSL_cleanse(c->buf, line_len);
        memmove(c->buf, nl + 1, c->len - line_len - 1);
        c->len -= line_len + 1;
        if (r != 0) {
            client_close(c);
            return;
        }
    }
    if (c->len == sizeof(c->buf)) {
        refuse(c, "line-too-long");
        client_close(c);
    }
}

static void
on_accept(struct amt_loop *loop, int fd, uint32_t events, void *arg)
{
    struct sim_linesrv *s = arg;
    struct linesrv_client *c;
    int cfd, slot = -1;

    cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0)
        return;
    for (unsigned i = 0; i < s->o.max_clients && slot < 0; i++)
        if (s->clients[i] == NULL)
            slot = (int)i;
    if (slot < 0 || (c = calloc(1, sizeof(*c))) == NULL) {
        send_line(cfd, "ERR 1 busy");
        close(cfd);
        return;
    }
    c->srv = s;
    c->fd = cfd;
    if (loop_watch(loop, cfd, EPOLLIN, on_client, c, &c->watch) != 0) {
        close(cfd);
        free(c);
        return;
    }
    s->clients[slot] = c;
}

int
sim_linesrv_new(struct amt_loop *loop, const struct sim_linesrv_options *o,
                struct sim_linesrv **out, char *errbuf, size_t errlen)
{
    struct sim_linesrv *s = NULL;
    struct sockaddr_un addr;
    struct stat st;
    int r = AMT_ERR_INTERNAL;

    if (out != NULL)
        *out = NULL;
    if (loop == NULL || o == NULL || o->path == NULL || o->handler == NULL ||
        out == NULL || o->max_clients == 0)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    if (strlen(o->path) >= sizeof(addr.sun_path)) {
        amt_set_error(errbuf, errlen, "%s: socket path longer than %zu bytes", o->path,
                      sizeof(addr.sun_path) - 1);
        return AMT_ERR_TOO_LARGE;
    }
    memcpy(addr.sun_path, o->path, strlen(o->path));
    if (lstat(o->path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            amt_set_error(errbuf, errlen,
                          "%s: exists and is not a socket; not removing it", o->path);
            return AMT_ERR_INVALID_ARGUMENT;
        }
        unlink(o->path);
    }
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return AMT_ERR_ALLOC;
    s->fd = -1;
    s->loop = loop;
    s->o = *o;
    if ((s->path = strdup(o->path)) == NULL ||
        (s->clients = calloc(o->max_clients, sizeof(*s->clients))) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd >= 0 && bind(s->fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
        s->bound = true;
    if (!s->bound || chmod(o->path, 0600) != 0 ||
        listen(s->fd, (int)o->max_clients) != 0) {
        amt_set_error(errbuf, errlen, "%s: %s", o->path, strerror(errno));
        r = AMT_ERR_SYSTEM;
        goto out;
    }
    if ((r = loop_watch(loop, s->fd, EPOLLIN, on_accept, s, &s->watch)) != 0)
        goto out;
    *out = s;
    s = NULL;
    r = 0;
out:
    sim_linesrv_free(s);
    return r;
}

void
sim_linesrv_free(struct sim_linesrv *s)
{
    if (s == NULL)
        return;
    for (unsigned i = 0; s->clients != NULL && i < s->o.max_clients; i++)
        if (s->clients[i] != NULL)
            client_close(s->clients[i]);
    loop_unwatch(s->loop, s->watch);
    if (s->fd >= 0)
        close(s->fd);
    if (s->bound)
        unlink(s->path);
    free(s->clients);
    free(s->path);
    free(s);
}
