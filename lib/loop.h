/*
 * One event loop per process: in amt-sim every device's listeners, connections,
 * host-interface sockets and timers run on it, so a fleet of thousands of devices
 * needs no thread per device; the provisioner's listener, site API and transfers
 * run on one too. epoll for descriptors, a binary heap for timers. Timers are set
 * in the loop's virtual time (the --time-scale clock).
 */
#ifndef AMT_LOOP_H
#define AMT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct amt_clock;
struct amt_loop;
struct loop_watch;
struct loop_timer;

/* events are EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP bits */
typedef void (*loop_fd_cb)(struct amt_loop *loop, int fd, uint32_t events, void *arg);
typedef void (*loop_timer_cb)(struct amt_loop *loop, void *arg);

/* clock: the virtual time base for timers (not owned; NULL = real time). */
int loop_new(struct amt_clock *clock, struct amt_loop **out);
void loop_free(struct amt_loop *loop);

double loop_now(const struct amt_loop *loop);
struct amt_clock *loop_clock(const struct amt_loop *loop);

/* Watches fd for events (EPOLLIN, EPOLLOUT or both); the caller keeps the fd. */
int loop_watch(struct amt_loop *loop, int fd, uint32_t events, loop_fd_cb cb, void *arg,
               struct loop_watch **out);
int loop_watch_modify(struct amt_loop *loop, struct loop_watch *w, uint32_t events);
/* Stops watching; safe from inside the watch's own callback. NULL is fine. */
void loop_unwatch(struct amt_loop *loop, struct loop_watch *w);

/* Calls cb once at virtual time `at` (or as soon as possible if it has passed). */
int loop_timer_at(struct amt_loop *loop, double at, loop_timer_cb cb, void *arg,
                  struct loop_timer **out);
/* Cancels a timer that has not fired; safe from callbacks. NULL is fine. */
void loop_timer_cancel(struct amt_loop *loop, struct loop_timer *t);

/* Runs until loop_stop is called (from a callback or a signal handler). */
int loop_run(struct amt_loop *loop);
/* Runs one round: waits at most max_ms (-1: until something happens). */
int loop_run_once(struct amt_loop *loop, int max_ms);
/* Async-signal-safe. */
void loop_stop(struct amt_loop *loop);
bool loop_stopped(const struct amt_loop *loop);

#endif
