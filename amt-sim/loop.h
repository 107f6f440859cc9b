/*
 * The one event loop of an amt-sim process: every device's listeners, connections,
 * host-interface sockets and timers run on it, so a fleet of thousands of devices
 * needs no thread per device. epoll for descriptors, a binary heap for timers.
 * Timers are set in the loop's virtual time (the --time-scale clock).
 */
#ifndef AMT_SIM_LOOP_H
#define AMT_SIM_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct amt_clock;
struct sim_loop;
struct sim_watch;
struct sim_timer;

/* events are EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP bits */
typedef void (*sim_fd_cb)(struct sim_loop *loop, int fd, uint32_t events, void *arg);
typedef void (*sim_timer_cb)(struct sim_loop *loop, void *arg);

/* clock: the virtual time base for timers (not owned; NULL = real time). */
int sim_loop_new(struct amt_clock *clock, struct sim_loop **out);
void sim_loop_free(struct sim_loop *loop);

double sim_loop_now(const struct sim_loop *loop);
struct amt_clock *sim_loop_clock(const struct sim_loop *loop);

/* Watches fd for events (EPOLLIN, EPOLLOUT or both); the caller keeps the fd. */
int sim_loop_watch(struct sim_loop *loop, int fd, uint32_t events, sim_fd_cb cb,
                   void *arg, struct sim_watch **out);
int sim_loop_watch_modify(struct sim_loop *loop, struct sim_watch *w, uint32_t events);
/* Stops watching; safe from inside the watch's own callback. NULL is fine. */
void sim_loop_unwatch(struct sim_loop *loop, struct sim_watch *w);

/* Calls cb once at virtual time `at` (or as soon as possible if it has passed). */
int sim_loop_timer_at(struct sim_loop *loop, double at, sim_timer_cb cb, void *arg,
                      struct sim_timer **out);
/* Cancels a timer that has not fired; safe from callbacks. NULL is fine. */
void sim_loop_timer_cancel(struct sim_loop *loop, struct sim_timer *t);

/* Runs until sim_loop_stop is called (from a callback or a signal handler). */
int sim_loop_run(struct sim_loop *loop);
/* Runs one round: waits at most max_ms (-1: until something happens). */
int sim_loop_run_once(struct sim_loop *loop, int max_ms);
/* Async-signal-safe. */
void sim_loop_stop(struct sim_loop *loop);
bool sim_loop_stopped(const struct sim_loop *loop);

#endif
