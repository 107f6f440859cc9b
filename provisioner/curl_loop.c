#include "curl_loop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "loop.h"

/* A transfer in flight; the handle's CURLOPT_PRIVATE points here meanwhile. */
struct cl_xfer {
    CURL *easy;
    curl_loop_done_cb cb;
    void *arg;
    struct cl_xfer *prev, *next;
};

/* A socket curl asked us to watch; curl keeps a pointer to it (curl_multi_assign). */
struct cl_sock {
    struct curl_loop *cl;
    curl_socket_t fd;
    struct loop_watch *watch;
    uint32_t events;
    struct cl_sock *prev, *next;
};

struct curl_loop {
    struct amt_loop *loop;
    CURLM *multi;
    int tfd;
    struct loop_watch *timer_watch;
    struct cl_xfer *xfers;
    size_t n_xfers;
    struct cl_sock *socks;
    bool global_ref;
};

static void
xfer_unlink(struct curl_loop *cl, struct cl_xfer *x)
{
    if (x->prev != NULL)
        x->prev->next = x->next;
    else
        cl->xfers = x->next;
    if (x->next != NULL)
        x->next->prev = x->prev;
    cl->n_xfers--;
}

static void
sock_drop(struct curl_loop *cl, struct cl_sock *cs)
{
    loop_unwatch(cl->loop, cs->watch);
    if (cs->prev != NULL)
        cs->prev->next = cs->next;
    else
        cl->socks = cs->next;
    if (cs->next != NULL)
        cs->next->prev = cs->prev;
    free(cs);
}

/*
 * Hands finished transfers to their callbacks. The message is copied before the
 * handle leaves the multi, since removing it frees the message.
 */
static void
finish_done(struct curl_loop *cl)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(cl->multi, &left)) != NULL) {
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        struct cl_xfer *x = NULL;
        curl_loop_done_cb cb;
        void *arg;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(cl->multi, easy);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        if (x == NULL)
            continue;
        xfer_unlink(cl, x);
        cb = x->cb;
        arg = x->arg;
        free(x);
        cb(easy, code, arg);
    }
}

static void
on_io(struct amt_loop *loop, int fd, uint32_t events, void *arg)
{
    struct cl_sock *cs = arg;
    struct curl_loop *cl = cs->cl;
    int flags = 0, running = 0;

    if (events & EPOLLIN)
        flags |= CURL_CSELECT_IN;
    if (events & EPOLLOUT)
        flags |= CURL_CSELECT_OUT;
    if (events & (EPOLLERR | EPOLLHUP))
        flags |= CURL_CSELECT_ERR;
    /* cs may be gone after this: curl says CURL_POLL_REMOVE before it closes */
    curl_multi_socket_action(cl->multi, fd, flags, &running);
    finish_done(cl);
}

static int
on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct curl_loop *cl = userp;
    struct cl_sock *cs = socketp;
    uint32_t events = 0;

    if (what == CURL_POLL_REMOVE) {
        if (cs != NULL) {
            curl_multi_assign(cl->multi, s, NULL);
            sock_drop(cl, cs);
        }
        return 0;
    }
    if (what & CURL_POLL_IN)
        events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        events |= EPOLLOUT;
    if (cs == NULL) {
        if ((cs = calloc(1, sizeof(*cs))) == NULL)
            return -1;
        cs->cl = cl;
        cs->fd = s;
        if (loop_watch(cl->loop, s, events, on_io, cs, &cs->watch) != 0) {
            free(cs);
            return -1;
        }
        cs->events = events;
        cs->next = cl->socks;
        if (cl->socks != NULL)
            cl->socks->prev = cs;
        cl->socks = cs;
        curl_multi_assign(cl->multi, s, cs);
        return 0;
    }
    if (events != cs->events) {
        if (loop_watch_modify(cl->loop, cs->watch, events) != 0)
            return -1;
        cs->events = events;
    }
    return 0;
}

/*
 * curl's timer in real time (see the header): timeout_ms -1 disarms, 0 means
 * "call me at once", which a timerfd can only say as the smallest delay, since a
 * zero it_value disarms it.
 */
static int
on_timer_set(CURLM *multi, long timeout_ms, void *userp)
{
    struct curl_loop *cl = userp;
    struct itimerspec its;

    memset(&its, 0, sizeof(its));
    if (timeout_ms == 0) {
        its.it_value.tv_nsec = 1;
    } else if (timeout_ms > 0) {
        its.it_value.tv_sec = timeout_ms / 1000;
        its.it_value.tv_nsec = (timeout_ms % 1000) * 1000000L;
    }
    return timerfd_settime(cl->tfd, 0, &its, NULL) == 0 ? 0 : -1;
}

static void
on_timer_fd(struct amt_loop *loop, int fd, uint32_t events, void *arg)
{
    struct curl_loop *cl = arg;
    uint64_t expirations;
    int running = 0;

    /* clears the readiness; EAGAIN when curl re-armed it in between is fine */
    if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
        return;
    curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    finish_done(cl);
}

int
curl_loop_new(struct amt_loop *loop, struct curl_loop **out)
{
    struct curl_loop *cl = NULL;
    int r = AMT_ERR_INVALID_ARGUMENT;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (loop == NULL)
        goto out;
    r = AMT_ERR_ALLOC;
    if ((cl = calloc(1, sizeof(*cl))) == NULL)
        goto out;
    cl->loop = loop;
    cl->tfd = -1;
    r = AMT_ERR_CLIENT_CURL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        goto out;
    cl->global_ref = true;
    if ((cl->multi = curl_multi_init()) == NULL)
        goto out;
    if (curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
        curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl) != CURLM_OK ||
        curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, on_timer_set) != CURLM_OK ||
        curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl) != CURLM_OK)
        goto out;
    r = AMT_ERR_SYSTEM;
    if ((cl->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0)
        goto out;
    if ((r = loop_watch(loop, cl->tfd, EPOLLIN, on_timer_fd, cl, &cl->timer_watch)) != 0)
        goto out;
    *out = cl;
    cl = NULL;
    r = 0;
out:
    curl_loop_free(cl);
    return r;
}

void
curl_loop_free(struct curl_loop *cl)
{
    if (cl == NULL)
        return;
    while (cl->xfers != NULL) {
        struct cl_xfer *x = cl->xfers;

        curl_multi_remove_handle(cl->multi, x->easy);
        curl_easy_setopt(x->easy, CURLOPT_PRIVATE, NULL);
        xfer_unlink(cl, x);
        free(x);
    }
    /* may still say CURL_POLL_REMOVE for the connections it closes */
    if (cl->multi != NULL)
        curl_multi_cleanup(cl->multi);
    while (cl->socks != NULL)
        sock_drop(cl, cl->socks);
    loop_unwatch(cl->loop, cl->timer_watch);
    if (cl->tfd >= 0)
        close(cl->tfd);
    if (cl->global_ref)
        curl_global_cleanup();
    free(cl);
}

int
curl_loop_add(struct curl_loop *cl, CURL *easy, curl_loop_done_cb cb, void *arg)
{
    struct cl_xfer *x;

    if (cl == NULL || easy == NULL || cb == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((x = calloc(1, sizeof(*x))) == NULL)
        return AMT_ERR_ALLOC;
    x->easy = easy;
    x->cb = cb;
    x->arg = arg;
    if (curl_easy_setopt(easy, CURLOPT_PRIVATE, x) != CURLE_OK ||
        curl_multi_add_handle(cl->multi, easy) != CURLM_OK) {
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        free(x);
        return AMT_ERR_CLIENT_CURL;
    }
    x->next = cl->xfers;
    if (cl->xfers != NULL)
        cl->xfers->prev = x;
    cl->xfers = x;
    cl->n_xfers++;
    return 0;
}

void
curl_loop_remove(struct curl_loop *cl, CURL *easy)
{
    struct cl_xfer *x = NULL;

    if (cl == NULL || easy == NULL)
        return;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
    if (x == NULL)
        return;
    curl_multi_remove_handle(cl->multi, easy);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
    xfer_unlink(cl, x);
    free(x);
}

size_t
curl_loop_count(const struct curl_loop *cl)
{
    return cl != NULL ? cl->n_xfers : 0;
}
