/*
 * When a factory-fresh AMT sends its hellos (catalogue OOB-1), as a setting: a list
 * of phases, each {interval, duration} in whole virtual seconds.
 *
 * Reading: phase k starts when the durations of phases 0..k-1 have elapsed (the
 * first phase at t = 0) and sends a hello at its start and then every interval
 * while strictly inside its duration: at start + j * interval for
 * j = 0 .. ceil(duration / interval) - 1. A phase whose duration is not a multiple
 * of its interval ends with a shorter gap before the next phase's first hello.
 * Nothing is sent at or after the window end, the sum of all durations.
 *
 * The default, "60x300,300x3600,3600x82800" (once a minute for 5 minutes, every
 * 5 minutes for 1 hour, every hour for 23 hours), gives 5 + 12 + 23 = 40 hellos:
 *   t =     0,    60,   120,   180,   240                       (phase 1,  5)
 *   t =   300,   600,   900, ...,  3600   (300 + 300 j, j < 12) (phase 2, 12)
 *   t =  3900,  7500, 11100, ..., 83100   (3900 + 3600 j, j < 23) (phase 3, 23)
 * The last hello is at t = 83100 (23h05m); the window ends at 86700 (24h05m).
 * So there is a hello at t = 300 (phase 2's first) and at t = 3900 (phase 3's
 * first), and none at t = 86700.
 *
 * The functions below are pure functions of time, so a test can walk the whole
 * window on a virtual clock.
 */
#ifndef AMT_HELLO_SCHEDULE_H
#define AMT_HELLO_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#define HELLO_SCHEDULE_MAX_PHASES 16
/* Longer than any product is reported to use (up to 255 hours). */
#define HELLO_SCHEDULE_MAX_DURATION (30u * 24 * 3600)
/* Room for the longest text hello_schedule_format can write, and its NUL. */
#define HELLO_SCHEDULE_TEXT_SIZE (HELLO_SCHEDULE_MAX_PHASES * 22)

#define HELLO_SCHEDULE_DEFAULT "60x300,300x3600,3600x82800"

struct hello_schedule_phase {
    uint32_t interval; /* seconds between hellos, > 0 */
    uint32_t duration; /* seconds, interval <= duration <= HELLO_SCHEDULE_MAX_DURATION */
};

struct hello_schedule {
    size_t n_phases; /* 1 .. HELLO_SCHEDULE_MAX_PHASES */
    struct hello_schedule_phase phases[HELLO_SCHEDULE_MAX_PHASES];
};

/* The catalogue's schedule (HELLO_SCHEDULE_DEFAULT). */
void hello_schedule_default(struct hello_schedule *s);

/*
 * Reads "INTERVALxDURATION[,INTERVALxDURATION...]", decimal seconds, no spaces;
 * 'X' is taken for 'x'. AMT_ERR_SCHEDULE_SYNTAX for text of another shape (empty,
 * a missing number, a sign, a stray character, an empty phase),
 * AMT_ERR_SCHEDULE_PHASE for interval 0, a duration below its interval or above
 * HELLO_SCHEDULE_MAX_DURATION, AMT_ERR_SCHEDULE_TOO_MANY_PHASES beyond
 * HELLO_SCHEDULE_MAX_PHASES. *out is only written on success.
 */
int hello_schedule_parse(const char *text, struct hello_schedule *out);

/* The text hello_schedule_parse reads back (size >= HELLO_SCHEDULE_TEXT_SIZE is enough).
 */
int hello_schedule_format(const struct hello_schedule *s, char *buf, size_t size);

/* 0 if s obeys the rules above, else the code hello_schedule_parse would give. */
int hello_schedule_check(const struct hello_schedule *s);

/* Number of hellos in the whole window; 0 for an invalid schedule. */
unsigned hello_schedule_count(const struct hello_schedule *s);

/* Seconds from the first hello to the window end; 0 for an invalid schedule. */
double hello_schedule_end(const struct hello_schedule *s);

/*
 * Time of the index-th hello (from 0). AMT_ERR_SCHEDULE_DONE when index >= count,
 * AMT_ERR_INVALID_ARGUMENT for an invalid schedule.
 */
int hello_schedule_at(const struct hello_schedule *s, unsigned index, double *t);

/*
 * The first hello at or after now, its time and index (index may be NULL). A now
 * before 0 gives the first hello; a now after the last hello AMT_ERR_SCHEDULE_DONE;
 * a NaN now or an invalid schedule AMT_ERR_INVALID_ARGUMENT.
 */
int hello_schedule_next(const struct hello_schedule *s, double now, double *t,
                        unsigned *index);

#endif
