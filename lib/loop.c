#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"

#define LOOP_EVENTS_PER_ROUND 256

struct loop_watch {
    int fd;
    loop_fd_cb cb;
    void *arg;
    bool dead;
    struct loop_watch *next_dead;
};

struct loop_timer {
    double at;
    uint64_t seq; /* equal deadlines fire in the order they were set */
    loop_timer_cb cb;
    void *arg;
    size_t heap_index;
};

struct amt_loop {
    int epfd;
    struct amt_clock *clock;
    struct amt_clock *own_clock;
    struct loop_timer **heap;
    size_t n_timers;
    size_t cap_timers;
    uint64_t seq;
    struct loop_watch *dead; /* unwatched during a round, freed after it */
    volatile sig_atomic_t stop;
};

int
loop_new(struct amt_clock *clock, struct amt_loop **out)
{
    struct amt_loop *loop;
    int r;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if ((loop = calloc(1, sizeof(*loop))) == NULL)
        return AMT_ERR_ALLOC;
    if ((loop->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        free(loop);
        return AMT_ERR_SYSTEM;
    }
    if (clock == NULL) {
        if ((r = clock_new_real(&loop->own_clock)) != 0) {
            close(loop->epfd);
            free(loop);
            return r;
        }
        clock = loop->own_clock;
    }
    loop->clock = clock;
    *out = loop;
    return 0;
}

static void
free_dead(struct amt_loop *loop)
{
    while (loop->dead != NULL) {
        struct loop_watch *w = loop->dead;

        loop->dead = w->next_dead;
        free(w);
    }
}

void
loop_free(struct amt_loop *loop)
{
    if (loop == NULL)
        return;
    for (size_t i = 0; i < loop->n_timers; i++)
        free(loop->heap[i]);
    free(loop->heap);
    free_dead(loop);
    close(loop->epfd);
    clock_free(loop->own_clock);
    free(loop);
}

double
loop_now(const struct amt_loop *loop)
{
    return clock_now(loop->clock);
}

struct amt_clock *
loop_clock(const struct amt_loop *loop)
{
    return loop->clock;
}

int
loop_watch(struct amt_loop *loop, int fd, uint32_t events, loop_fd_cb cb, void *arg,
           struct loop_watch **out)
{
    struct loop_watch *w;
    struct epoll_event ev;

    if (loop == NULL || fd < 0 || cb == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((w = calloc(1, sizeof(*w))) == NULL)
        return AMT_ERR_ALLOC;
    w->fd = fd;
    w->cb = cb;
    w->arg = arg;
    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.ptr = w;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        free(w);
        return AMT_ERR_SYSTEM;
    }
    if (out != NULL)
        *out = w;
    return 0;
}

int
loop_watch_modify(struct amt_loop *loop, struct loop_watch *w, uint32_t events)
{
    struct epoll_event ev;

    if (loop == NULL || w == NULL || w->dead)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.ptr = w;
    return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, w->fd, &ev) == 0 ? 0 : AMT_ERR_SYSTEM;
}

void
loop_unwatch(struct amt_loop *loop, struct loop_watch *w)
{
    if (loop == NULL || w == NULL || w->dead)
        return;
    /* the fd may already be closed by its owner; then epoll dropped it itself */
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    w->dead = true;
    w->next_dead = loop->dead;
    loop->dead = w;
}

/* --- timers: a min-heap on (at, seq) --- */

static bool
timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void
heap_swap(struct amt_loop *loop, size_t i, size_t j)
{
    struct loop_timer *t = loop->heap[i];

    loop->heap[i] = loop->heap[j];
    loop->heap[j] = t;
    loop->heap[i]->heap_index = i;
    loop->heap[j]->heap_index = j;
}

static void
heap_up(struct amt_loop *loop, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;

        if (!timer_before(loop->heap[i], loop->heap[parent]))
            break;
        heap_swap(loop, i, parent);
        i = parent;
    }
}

static void
heap_down(struct amt_loop *loop, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < loop->n_timers && timer_before(loop->heap[l], loop->heap[m]))
            m = l;
        if (r < loop->n_timers && timer_before(loop->heap[r], loop->heap[m]))
            m = r;
        if (m == i)
            return;
        heap_swap(loop, i, m);
        i = m;
    }
}

static void
heap_remove(struct amt_loop *loop, size_t i)
{
    size_t last = --loop->n_timers;

    if (i != last) {
        heap_swap(loop, i, last);
        heap_down(loop, i);
        heap_up(loop, i);
    }
}

int
loop_timer_at(struct amt_loop *loop, double at, loop_timer_cb cb, void *arg,
              struct loop_timer **out)
{
    struct loop_timer *t;

    if (loop == NULL || cb == NULL || isnan(at))
        return AMT_ERR_INVALID_ARGUMENT;
    if (loop->n_timers == loop->cap_timers) {
        size_t cap = loop->cap_timers ? loop->cap_timers * 2 : 64;
        struct loop_timer **heap = realloc(loop->heap, cap * sizeof(*heap));

        if (heap == NULL)
            return AMT_ERR_ALLOC;
        loop->heap = heap;
        loop->cap_timers = cap;
    }
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return AMT_ERR_ALLOC;
    t->at = at;
    t->seq = loop->seq++;
    t->cb = cb;
    t->arg = arg;
    t->heap_index = loop->n_timers;
    loop->heap[loop->n_timers++] = t;
    heap_up(loop, t->heap_index);
    if (out != NULL)
        *out = t;
    return 0;
}

void
loop_timer_cancel(struct amt_loop *loop, struct loop_timer *t)
{
    if (loop == NULL || t == NULL)
        return;
    heap_remove(loop, t->heap_index);
    free(t);
}

static void
fire_due_timers(struct amt_loop *loop)
{
    double now = loop_now(loop);

    /* a timer set by a callback for "now" waits for the next round: no starvation */
    uint64_t limit = loop->seq;

    while (loop->n_timers > 0 && loop->heap[0]->at <= now && loop->heap[0]->seq < limit &&
           !loop->stop) {
        struct loop_timer *t = loop->heap[0];
        loop_timer_cb cb = t->cb;
        void *arg = t->arg;

        heap_remove(loop, 0);
        free(t);
        cb(loop, arg);
    }
}

static int
poll_timeout_ms(const struct amt_loop *loop, int max_ms)
{
    int ms;

    if (loop->n_timers == 0)
        return max_ms;
    /* virtual time moves only when the test moves it: waiting cannot bring a timer */
    if (clock_is_virtual(loop->clock) && loop->heap[0]->at > loop_now(loop))
        return max_ms;
    ms = clock_poll_ms(loop->clock, loop->heap[0]->at - loop_now(loop));
    if (ms < 0)
        return max_ms;
    if (max_ms >= 0 && ms > max_ms)
        return max_ms;
    return ms;
}

int
loop_run_once(struct amt_loop *loop, int max_ms)
{
    struct epoll_event evs[LOOP_EVENTS_PER_ROUND];
    int n;

    fire_due_timers(loop);
    if (loop->stop)
        return 0;
    n = epoll_wait(loop->epfd, evs, LOOP_EVENTS_PER_ROUND, poll_timeout_ms(loop, max_ms));
    if (n < 0) {
        if (errno == EINTR)
            return 0;
        return AMT_ERR_SYSTEM;
    }
    for (int i = 0; i < n && !loop->stop; i++) {
        struct loop_watch *w = evs[i].data.ptr;

        if (!w->dead)
            w->cb(loop, w->fd, evs[i].events, w->arg);
    }
    free_dead(loop);
    fire_due_timers(loop);
    return 0;
}

int
loop_run(struct amt_loop *loop)
{
    int r = 0;

    while (!loop->stop && r == 0)
        r = loop_run_once(loop, -1);
    return r;
}

void
loop_stop(struct amt_loop *loop)
{
    loop->stop = 1;
}

bool
loop_stopped(const struct amt_loop *loop)
{
    return loop->stop != 0;
}
