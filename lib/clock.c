#include "clock.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

enum clock_kind {
    CLOCK_KIND_SCALED, /* a real clock is a scaled one with scale 1 */
    CLOCK_KIND_VIRTUAL,
};

struct amt_clock {
    enum clock_kind kind;
    double scale;
    struct timespec origin; /* CLOCK_MONOTONIC when the clock was made */
    double virtual_now;
};

static bool
scale_is_valid(double scale)
{
    return isfinite(scale) && scale > 0;
}

static int
clock_alloc(enum clock_kind kind, struct amt_clock **out)
{
    struct amt_clock *c;

    if ((c = calloc(1, sizeof(*c))) == NULL)
        return AMT_ERR_ALLOC;
    c->kind = kind;
    c->scale = 1;
    if (kind == CLOCK_KIND_SCALED && clock_gettime(CLOCK_MONOTONIC, &c->origin) != 0) {
        free(c);
        return AMT_ERR_SYSTEM;
    }
    *out = c;
    return 0;
}

int
clock_new_real(struct amt_clock **out)
{
    return clock_new_scaled(1, out);
}

int
clock_new_scaled(double scale, struct amt_clock **out)
{
    struct amt_clock *c = NULL;
    int r;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!scale_is_valid(scale))
        return AMT_ERR_CLOCK_SCALE;
    if ((r = clock_alloc(CLOCK_KIND_SCALED, &c)) != 0)
        return r;
    c->scale = scale;
    *out = c;
    return 0;
}

int
clock_new_virtual(double start, struct amt_clock **out)
{
    struct amt_clock *c = NULL;
    int r;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!isfinite(start))
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = clock_alloc(CLOCK_KIND_VIRTUAL, &c)) != 0)
        return r;
    c->virtual_now = start;
    *out = c;
    return 0;
}

void
clock_free(struct amt_clock *c)
{
    free(c);
}

int
clock_parse_scale(const char *text, double *scale)
{
    char *end = NULL;
    double v;

    if (text == NULL || scale == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    /* strtod would also take leading space, hex floats, "inf" and "nan". */
    for (const char *p = text; *p != '\0'; p++)
        if (!(*p >= '0' && *p <= '9') && *p != '.' && *p != 'e' && *p != 'E' &&
            *p != '+' && *p != '-')
            return AMT_ERR_CLOCK_SCALE;
    errno = 0;
    v = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !scale_is_valid(v))
        return AMT_ERR_CLOCK_SCALE;
    *scale = v;
    return 0;
}

double
clock_now(const struct amt_clock *c)
{
    struct timespec now;
    double elapsed;

    if (c->kind == CLOCK_KIND_VIRTUAL)
        return c->virtual_now;
    /* CLOCK_MONOTONIC cannot fail once clock_alloc has read it. */
    clock_gettime(CLOCK_MONOTONIC, &now);
    elapsed = (double)(now.tv_sec - c->origin.tv_sec) +
              (double)(now.tv_nsec - c->origin.tv_nsec) / 1e9;
    return c->scale * elapsed;
}

bool
clock_is_virtual(const struct amt_clock *c)
{
    return c != NULL && c->kind == CLOCK_KIND_VIRTUAL;
}

int
clock_advance(struct amt_clock *c, double seconds)
{
    if (c == NULL || c->kind != CLOCK_KIND_VIRTUAL || !isfinite(seconds) || seconds < 0)
        return AMT_ERR_INVALID_ARGUMENT;
    c->virtual_now += seconds;
    return 0;
}

double
clock_real_delay(const struct amt_clock *c, double virtual_seconds)
{
    if (c->kind == CLOCK_KIND_VIRTUAL || !(virtual_seconds > 0))
        return 0;
    return virtual_seconds / c->scale;
}

int
clock_poll_ms(const struct amt_clock *c, double virtual_seconds)
{
    double ms = ceil(clock_real_delay(c, virtual_seconds) * 1000);

    if (isinf(ms))
        return -1;
    if (ms >= (double)INT_MAX)
        return INT_MAX;
    return (int)ms;
}

int
clock_format_utc(char buf[static CLOCK_UTC_SIZE])
{
    struct timespec now;

    if (clock_gettime(CLOCK_REALTIME, &now) != 0)
        return AMT_ERR_SYSTEM;
    return clock_format_utc_at(&now, buf);
}

int
clock_format_utc_at(const struct timespec *ts, char buf[static CLOCK_UTC_SIZE])
{
    struct tm tm;
    int n;

    buf[0] = '\0';
    if (ts == NULL || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
        return AMT_ERR_INVALID_ARGUMENT;
    if (gmtime_r(&ts->tv_sec, &tm) == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    /* Four-digit years only: ISO 8601 needs a sign and agreement beyond them. */
    if (tm.tm_year < 0 - 1900 || tm.tm_year > 9999 - 1900)
        return AMT_ERR_INVALID_ARGUMENT;
    /* With the year range checked above this is always 24 characters. */
    n = snprintf(buf, CLOCK_UTC_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                 tm.tm_sec, ts->tv_nsec / 1000000L);
    return n == 24 ? 0 : AMT_ERR_INTERNAL;
}
