#include "hello_schedule.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static const struct hello_schedule_phase default_phases[] = {
    {60, 300},
    {300, 3600},
    {3600, 82800},
};

void
hello_schedule_default(struct hello_schedule *s)
{
    memset(s, 0, sizeof(*s));
    s->n_phases = sizeof(default_phases) / sizeof(default_phases[0]);
    memcpy(s->phases, default_phases, sizeof(default_phases));
}

static int
phase_check(const struct hello_schedule_phase *p)
{
    if (p->interval == 0 || p->duration < p->interval ||
        p->duration > HELLO_SCHEDULE_MAX_DURATION)
        return AMT_ERR_SCHEDULE_PHASE;
    return 0;
}

/* Hellos in one checked phase: its start, then every interval strictly inside it. */
static uint32_t
phase_count(const struct hello_schedule_phase *p)
{
    return (p->duration + p->interval - 1) / p->interval;
}

int
hello_schedule_check(const struct hello_schedule *s)
{
    int r;

    if (s == NULL || s->n_phases == 0)
        return AMT_ERR_SCHEDULE_SYNTAX;
    if (s->n_phases > HELLO_SCHEDULE_MAX_PHASES)
        return AMT_ERR_SCHEDULE_TOO_MANY_PHASES;
    for (size_t i = 0; i < s->n_phases; i++)
        if ((r = phase_check(&s->phases[i])) != 0)
            return r;
    return 0;
}

/* Reads decimal digits; a value past the duration cap is kept just past it. */
static const char *
parse_seconds(const char *p, uint32_t *out)
{
    uint32_t v = 0;

    if (*p < '0' || *p > '9')
        return NULL;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint32_t)(*p - '0');
        if (v > HELLO_SCHEDULE_MAX_DURATION)
            v = HELLO_SCHEDULE_MAX_DURATION + 1;
    }
    *out = v;
    return p;
}

/* Example: "60x300,300x3600,3600x82800". */
int
hello_schedule_parse(const char *text, struct hello_schedule *out)
{
    struct hello_schedule s;
    const char *p = text;
    int r;

    if (text == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(&s, 0, sizeof(s));
    for (;;) {
        struct hello_schedule_phase ph;

        if ((p = parse_seconds(p, &ph.interval)) == NULL || (*p != 'x' && *p != 'X') ||
            (p = parse_seconds(p + 1, &ph.duration)) == NULL || (*p != ',' && *p != '\0'))
            return AMT_ERR_SCHEDULE_SYNTAX;
        if ((r = phase_check(&ph)) != 0)
            return r;
        if (s.n_phases == HELLO_SCHEDULE_MAX_PHASES)
            return AMT_ERR_SCHEDULE_TOO_MANY_PHASES;
        s.phases[s.n_phases++] = ph;
        if (*p == '\0')
            break;
        p++;
    }
    *out = s;
    return 0;
}

int
hello_schedule_format(const struct hello_schedule *s, char *buf, size_t size)
{
    size_t used = 0;
    int r;

    if (buf == NULL || size == 0)
        return AMT_ERR_INVALID_ARGUMENT;
    buf[0] = '\0';
    if ((r = hello_schedule_check(s)) != 0)
        return r;
    for (size_t i = 0; i < s->n_phases; i++) {
        int n = snprintf(buf + used, size - used, "%s%" PRIu32 "x%" PRIu32,
                         i == 0 ? "" : ",", s->phases[i].interval, s->phases[i].duration);

        if (n < 0 || (size_t)n >= size - used) {
            buf[0] = '\0';
            return AMT_ERR_TOO_LARGE;
        }
        used += (size_t)n;
    }
    return 0;
}

unsigned
hello_schedule_count(const struct hello_schedule *s)
{
    unsigned n = 0;

    if (hello_schedule_check(s) != 0)
        return 0;
    for (size_t i = 0; i < s->n_phases; i++)
        n += phase_count(&s->phases[i]);
    return n;
}

double
hello_schedule_end(const struct hello_schedule *s)
{
    double end = 0;

    if (hello_schedule_check(s) != 0)
        return 0;
    for (size_t i = 0; i < s->n_phases; i++)
        end += s->phases[i].duration;
    return end;
}

int
hello_schedule_at(const struct hello_schedule *s, unsigned index, double *t)
{
    double start = 0;

    if (t == NULL || hello_schedule_check(s) != 0)
        return AMT_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < s->n_phases; i++) {
        const struct hello_schedule_phase *p = &s->phases[i];
        uint32_t n = phase_count(p);

        if (index < n) {
            *t = start + (double)index * p->interval;
            return 0;
        }
        index -= n;
        start += p->duration;
    }
    return AMT_ERR_SCHEDULE_DONE;
}

int
hello_schedule_next(const struct hello_schedule *s, double now, double *t,
                    unsigned *index)
{
    double start = 0;
    unsigned base = 0;

    if (t == NULL || isnan(now) || hello_schedule_check(s) != 0)
        return AMT_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < s->n_phases; i++) {
        const struct hello_schedule_phase *p = &s->phases[i];
        uint32_t n = phase_count(p);
        double q = ceil((now - start) / p->interval);

        if (q < n) {
            uint32_t j = q > 0 ? (uint32_t)q : 0;

            /* The division may round a time just past a slot down onto it. */
            if (start + (double)j * p->interval < now)
                j++;
            if (j < n) {
                *t = start + (double)j * p->interval;
                if (index != NULL)
                    *index = base + j;
                return 0;
            }
        }
        base += n;
        start += p->duration;
    }
    return AMT_ERR_SCHEDULE_DONE;
}
