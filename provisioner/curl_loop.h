/*
 * libcurl's multi "socket" interface driven by the project's event loop: one
 * multi handle per process, any number of transfers in flight on the loop's
 * thread, no thread per device. curl says which sockets it wants watched
 * (CURLMOPT_SOCKETFUNCTION) and when it next needs a call (CURLMOPT_TIMERFUNCTION);
 * the loop tells curl what happened (curl_multi_socket_action), and a finished
 * transfer is handed to its completion callback.
 *
 * Time. curl's timeouts are real milliseconds (connect phases, happy eyeballs,
 * its resolver's polling, CURLOPT_TIMEOUT_MS), while the loop's timers run in
 * virtual time, which a test's clock does not move by itself and --time-scale
 * speeds up. So curl's timer is a timerfd on CLOCK_MONOTONIC watched by the loop:
 * it fires in real time whatever the loop's clock does. Timeouts that belong to the
 * protocol (an AMT operation timeout) are the caller's, set on the loop's clock.
 *
 * Everything here runs on the loop's thread. A transfer's completion callback may
 * add and remove transfers (its own handle is already out of the multi), but must
 * not free the curl_loop.
 */
#ifndef AMT_CURL_LOOP_H
#define AMT_CURL_LOOP_H

#include <curl/curl.h>

struct amt_loop;
struct curl_loop;

/* code is the transfer's result; the handle is the caller's again. */
typedef void (*curl_loop_done_cb)(CURL *easy, CURLcode code, void *arg);

/*
 * The multi handle on loop (which must outlive it). Also takes a reference on
 * curl_global_init, so a program needs no call of its own.
 * AMT_ERR_CLIENT_CURL when curl cannot be set up, AMT_ERR_SYSTEM for the timerfd.
 */
int curl_loop_new(struct amt_loop *loop, struct curl_loop **out);

/* Aborts the transfers still in flight without calling their callbacks. NULL is
 * fine. */
void curl_loop_free(struct curl_loop *cl);

/*
 * Starts a transfer set up on easy. curl_loop uses the handle's CURLOPT_PRIVATE
 * while the transfer runs. cb is called once, from the loop, when it ends.
 */
int curl_loop_add(struct curl_loop *cl, CURL *easy, curl_loop_done_cb cb, void *arg);

/* Aborts a transfer without calling its callback; a handle not added is fine. */
void curl_loop_remove(struct curl_loop *cl, CURL *easy);

/* Transfers in flight. */
size_t curl_loop_count(const struct curl_loop *cl);

#endif
