/*
 * Program time. Every program reads "now" through one clock so that schedules and
 * timeouts can be sped up (--time-scale) or driven by hand in tests, and the event
 * log's `vt` is the same number the program acted on.
 *
 * Three kinds behind one handle:
 *   real     virtual seconds = real seconds since the clock was made
 *   scaled   virtual seconds = scale * real seconds since the clock was made
 *   virtual  starts at a given value and moves only by clock_advance()
 * Real and scaled clocks read CLOCK_MONOTONIC, so a change of the wall clock
 * never moves them. After creation they are read-only and safe to share between
 * threads; a virtual clock is for single-threaded tests.
 */
#ifndef AMT_CLOCK_H
#define AMT_CLOCK_H

#include <stdbool.h>
#include <time.h>

struct amt_clock;

/* "2026-11-22T01:02:03.456Z" and its NUL, with room to spare. */
#define CLOCK_UTC_SIZE 32

int clock_new_real(struct amt_clock **out);

/* scale must be positive and finite (AMT_ERR_CLOCK_SCALE otherwise). */
int clock_new_scaled(double scale, struct amt_clock **out);

/* start must be finite (AMT_ERR_INVALID_ARGUMENT otherwise). */
int clock_new_virtual(double start, struct amt_clock **out);

void clock_free(struct amt_clock *c);

/*
 * Reads a --time-scale value: a decimal number such as "60" or "0.5", the whole
 * string, positive and finite; AMT_ERR_CLOCK_SCALE otherwise.
 */
int clock_parse_scale(const char *text, double *scale);

/* Virtual seconds: what schedules run on and what events carry as `vt`. */
double clock_now(const struct amt_clock *c);

/*
 * Moves a virtual clock forward; seconds must be finite and not negative.
 * AMT_ERR_INVALID_ARGUMENT for any other clock, since real time cannot be pushed.
 */
/* True for a clock that moves only by clock_advance. */
bool clock_is_virtual(const struct amt_clock *c);

int clock_advance(struct amt_clock *c, double seconds);

/*
 * Real seconds to wait for virtual_seconds to pass: virtual_seconds / scale, and
 * 0 for a negative or NaN wait. A virtual clock returns 0: its time moves only by
 * clock_advance(), so waiting for it would never help; the caller checks again
 * at once. An infinite wait stays infinite on real and scaled clocks.
 */
double clock_real_delay(const struct amt_clock *c, double virtual_seconds);

/*
 * The same as a poll() timeout in milliseconds: rounded up so that a wait never
 * ends before its virtual deadline, -1 (wait for ever) for an infinite wait on a
 * real or scaled clock, capped at INT_MAX otherwise.
 */
int clock_poll_ms(const struct amt_clock *c, double virtual_seconds);

/* The current wall clock in UTC, e.g. "2026-11-22T01:02:03.456Z" (the event `ts`). */
int clock_format_utc(char buf[static CLOCK_UTC_SIZE]);

/* The same for a given instant (milliseconds truncated, not rounded). */
int clock_format_utc_at(const struct timespec *ts, char buf[static CLOCK_UTC_SIZE]);

#endif
