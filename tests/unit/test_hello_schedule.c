/*
 * The OOB-1 hello schedule over its whole 24h05m window, on a virtual clock:
 * every slot, the spacing in each phase, the boundaries, and the parser.
 */
#include "clock.h"
#include "err.h"
#include "hello_schedule.h"
#include "unit.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/* The catalogue's schedule as documented in hello_schedule.h, written out. */
static const double default_times[40] = {
    0,     60,    120,   180,   240,                                      /* 1/min */
    300,   600,   900,   1200,  1500,  1800,  2100,  2400,  2700,  3000,  /* 5/min */
    3300,  3600,                                                          /* ...   */
    3900,  7500,  11100, 14700, 18300, 21900, 25500, 29100, 32700, 36300, /* 1/h  */
    39900, 43500, 47100, 50700, 54300, 57900, 61500, 65100, 68700, 72300,
    75900, 79500, 83100,
};

#define WINDOW_END 86700.0

static void
default_schedule(struct hello_schedule *s)
{
    hello_schedule_default(s);
    CU_ASSERT_EQUAL_FATAL(hello_schedule_check(s), 0);
}

/* What hello_schedule_next must answer, found the slow way. */
static int
brute_next(double now, double *t, unsigned *index)
{
    for (unsigned i = 0; i < 40; i++)
        if (default_times[i] >= now) {
            *t = default_times[i];
            *index = i;
            return 0;
        }
    return AMT_ERR_SCHEDULE_DONE;
}

static void
test_default_matches_text(void)
{
    struct hello_schedule s, parsed;
    char text[HELLO_SCHEDULE_TEXT_SIZE];

    default_schedule(&s);
    CU_ASSERT_EQUAL(s.n_phases, 3);
    CU_ASSERT_EQUAL(hello_schedule_format(&s, text, sizeof(text)), 0);
    CU_ASSERT_STRING_EQUAL(text, HELLO_SCHEDULE_DEFAULT);
    CU_ASSERT_STRING_EQUAL(text, "60x300,300x3600,3600x82800");
    CU_ASSERT_EQUAL_FATAL(hello_schedule_parse(text, &parsed), 0);
    CU_ASSERT_EQUAL(memcmp(&parsed, &s, sizeof(s)), 0);
}

static void
test_default_every_slot(void)
{
    struct hello_schedule s;
    double t;

    default_schedule(&s);
    CU_ASSERT_EQUAL(hello_schedule_count(&s), 40);
    CU_ASSERT_EQUAL(hello_schedule_end(&s), WINDOW_END);
    for (unsigned i = 0; i < 40; i++) {
        t = -1;
        CU_ASSERT_EQUAL(hello_schedule_at(&s, i, &t), 0);
        CU_ASSERT_EQUAL(t, default_times[i]);
    }
    t = -1;
    CU_ASSERT_EQUAL(hello_schedule_at(&s, 40, &t), AMT_ERR_SCHEDULE_DONE);
    CU_ASSERT_EQUAL(hello_schedule_at(&s, UINT_MAX, &t), AMT_ERR_SCHEDULE_DONE);
    CU_ASSERT_EQUAL(t, -1);
    CU_ASSERT_EQUAL(hello_schedule_at(&s, 0, NULL), AMT_ERR_INVALID_ARGUMENT);
}

static void
test_default_spacing(void)
{
    struct hello_schedule s;
    double prev = 0, t = 0;
    unsigned per_phase[3] = {0};

    default_schedule(&s);
    CU_ASSERT_EQUAL_FATAL(hello_schedule_at(&s, 0, &prev), 0);
    CU_ASSERT_EQUAL(prev, 0);
    per_phase[0] = 1;
    for (unsigned i = 1; i < hello_schedule_count(&s); i++) {
        CU_ASSERT_EQUAL_FATAL(hello_schedule_at(&s, i, &t), 0);
        if (t < 300) {
            CU_ASSERT_EQUAL(t - prev, 60);
            per_phase[0]++;
        } else if (t < 3900) {
            CU_ASSERT_EQUAL(t - prev, prev < 300 ? 60 : 300);
            per_phase[1]++;
        } else {
            CU_ASSERT_EQUAL(t - prev, 3600 - (prev < 3900 ? 3300 : 0));
            per_phase[2]++;
        }
        prev = t;
    }
    CU_ASSERT_EQUAL(per_phase[0], 5);
    CU_ASSERT_EQUAL(per_phase[1], 12);
    CU_ASSERT_EQUAL(per_phase[2], 23);
    CU_ASSERT_EQUAL(prev, 83100);
    CU_ASSERT_TRUE(prev < WINDOW_END);
}

/* A device's send loop on a virtual clock: wait for the next slot, send, repeat. */
static void
test_walk_window_on_virtual_clock(void)
{
    struct hello_schedule s;
    struct amt_clock *c = NULL;
    double sent[64];
    unsigned n = 0, index = 0;
    double t;
    int r;

    default_schedule(&s);
    CU_ASSERT_EQUAL_FATAL(clock_new_virtual(0, &c), 0);
    while ((r = hello_schedule_next(&s, clock_now(c), &t, &index)) == 0) {
        CU_ASSERT_FATAL(n < 64);
        CU_ASSERT_EQUAL(index, n);
        CU_ASSERT_EQUAL_FATAL(clock_advance(c, t - clock_now(c)), 0);
        sent[n++] = clock_now(c);
        /* Sending takes a little time; the slot just served must not come again. */
        CU_ASSERT_EQUAL_FATAL(clock_advance(c, 0.125), 0);
    }
    CU_ASSERT_EQUAL(r, AMT_ERR_SCHEDULE_DONE);
    CU_ASSERT_EQUAL_FATAL(n, 40);
    for (unsigned i = 0; i < n; i++)
        CU_ASSERT_EQUAL(sent[i], default_times[i]);
    /* Silence to the window end and after it. */
    for (double now = 83100.125; now <= WINDOW_END + 7200; now += 60)
        CU_ASSERT_EQUAL(hello_schedule_next(&s, now, &t, NULL), AMT_ERR_SCHEDULE_DONE);
    clock_free(c);
}

static void
test_next_every_second(void)
{
    struct hello_schedule s;

    default_schedule(&s);
    for (double now = -2; now <= WINDOW_END + 2; now += 0.5) {
        double t = -1, want_t = -1;
        unsigned index = 999, want_index = 999;
        int want = brute_next(now, &want_t, &want_index);

        CU_ASSERT_EQUAL_FATAL(hello_schedule_next(&s, now, &t, &index), want);
        CU_ASSERT_EQUAL_FATAL(t, want_t);
        CU_ASSERT_EQUAL_FATAL(index, want_index);
    }
}

static void
assert_next(const struct hello_schedule *s, double now, double want_t, unsigned want_i)
{
    double t = -1;
    unsigned index = 999;

    CU_ASSERT_EQUAL(hello_schedule_next(s, now, &t, &index), 0);
    CU_ASSERT_EQUAL(t, want_t);
    CU_ASSERT_EQUAL(index, want_i);
}

static void
test_next_at_boundaries(void)
{
    struct hello_schedule s;
    double t = -1;

    default_schedule(&s);
    assert_next(&s, 0, 0, 0);
    assert_next(&s, -5, 0, 0);
    assert_next(&s, -INFINITY, 0, 0);
    assert_next(&s, 0.001, 60, 1);
    assert_next(&s, 240, 240, 4);
    assert_next(&s, 240.001, 300, 5);
    assert_next(&s, 299.999, 300, 5);
    assert_next(&s, 300, 300, 5);
    assert_next(&s, 3600, 3600, 16);
    assert_next(&s, 3600.5, 3900, 17);
    assert_next(&s, 3899.999, 3900, 17);
    assert_next(&s, 3900, 3900, 17);
    assert_next(&s, 5000, 7500, 18);
    assert_next(&s, 83100, 83100, 39);
    /* The closest doubles on either side of a slot. */
    assert_next(&s, nextafter(0, 1), 60, 1); /* the quotient underflows to 0 */
    assert_next(&s, nextafter(300, 0), 300, 5);
    assert_next(&s, nextafter(300, 1e9), 600, 6);
    assert_next(&s, nextafter(7500, 1e9), 11100, 19);
    assert_next(&s, nextafter(79500, 1e9), 83100, 39);
    CU_ASSERT_EQUAL(hello_schedule_next(&s, nextafter(83100, 1e9), &t, NULL),
                    AMT_ERR_SCHEDULE_DONE);
    CU_ASSERT_EQUAL(hello_schedule_next(&s, WINDOW_END, &t, NULL), AMT_ERR_SCHEDULE_DONE);
    CU_ASSERT_EQUAL(hello_schedule_next(&s, INFINITY, &t, NULL), AMT_ERR_SCHEDULE_DONE);
    CU_ASSERT_EQUAL(t, -1);
    CU_ASSERT_EQUAL(hello_schedule_next(&s, NAN, &t, NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(hello_schedule_next(&s, 0, NULL, NULL), AMT_ERR_INVALID_ARGUMENT);
    /* index is optional. */
    CU_ASSERT_EQUAL(hello_schedule_next(&s, 1, &t, NULL), 0);
    CU_ASSERT_EQUAL(t, 60);
}

/* A duration that is not a multiple of its interval ends the phase early. */
static void
test_uneven_phase(void)
{
    static const double want[] = {0, 60, 120, 150, 160};
    struct hello_schedule s;
    double t;

    CU_ASSERT_EQUAL_FATAL(hello_schedule_parse("60x150,10x20", &s), 0);
    CU_ASSERT_EQUAL(hello_schedule_count(&s), 5);
    CU_ASSERT_EQUAL(hello_schedule_end(&s), 170);
    for (unsigned i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(hello_schedule_at(&s, i, &t), 0);
        CU_ASSERT_EQUAL(t, want[i]);
    }
    assert_next(&s, 121, 150, 3);
    assert_next(&s, 155, 160, 4);
    CU_ASSERT_EQUAL(hello_schedule_next(&s, 161, &t, NULL), AMT_ERR_SCHEDULE_DONE);

    CU_ASSERT_EQUAL_FATAL(hello_schedule_parse("300X300", &s), 0);
    CU_ASSERT_EQUAL(hello_schedule_count(&s), 1);
    assert_next(&s, 0, 0, 0);
    CU_ASSERT_EQUAL(hello_schedule_next(&s, 1, &t, NULL), AMT_ERR_SCHEDULE_DONE);
}

static void
test_largest_schedule(void)
{
    struct hello_schedule s;
    char text[HELLO_SCHEDULE_TEXT_SIZE], back[HELLO_SCHEDULE_TEXT_SIZE];
    double t;
    unsigned n;

    memset(&s, 0, sizeof(s));
    s.n_phases = HELLO_SCHEDULE_MAX_PHASES;
    for (size_t i = 0; i < s.n_phases; i++) {
        s.phases[i].interval = 1;
        s.phases[i].duration = HELLO_SCHEDULE_MAX_DURATION;
    }
    n = hello_schedule_count(&s);
    CU_ASSERT_EQUAL(n, HELLO_SCHEDULE_MAX_PHASES * HELLO_SCHEDULE_MAX_DURATION);
    CU_ASSERT_EQUAL(hello_schedule_at(&s, n - 1, &t), 0);
    CU_ASSERT_EQUAL(t, n - 1);
    CU_ASSERT_EQUAL(hello_schedule_at(&s, n, &t), AMT_ERR_SCHEDULE_DONE);
    assert_next(&s, n - 1.5, n - 1, n - 1);
    CU_ASSERT_EQUAL(hello_schedule_format(&s, text, sizeof(text)), 0);
    CU_ASSERT_EQUAL(hello_schedule_parse(text, &s), 0);
    CU_ASSERT_EQUAL(hello_schedule_format(&s, back, sizeof(back)), 0);
    CU_ASSERT_STRING_EQUAL(text, back);
}

static void
test_parse_refuses(void)
{
    static const struct {
        const char *text;
        int want;
    } cases[] = {
        {"", AMT_ERR_SCHEDULE_SYNTAX},
        {"60", AMT_ERR_SCHEDULE_SYNTAX},
        {"60x", AMT_ERR_SCHEDULE_SYNTAX},
        {"x300", AMT_ERR_SCHEDULE_SYNTAX},
        {"60x300,", AMT_ERR_SCHEDULE_SYNTAX},
        {",60x300", AMT_ERR_SCHEDULE_SYNTAX},
        {"60x300,,1x1", AMT_ERR_SCHEDULE_SYNTAX},
        {"60x300;1x1", AMT_ERR_SCHEDULE_SYNTAX},
        {"60 x300", AMT_ERR_SCHEDULE_SYNTAX},
        {"60x300 ", AMT_ERR_SCHEDULE_SYNTAX},
        {"-60x300", AMT_ERR_SCHEDULE_SYNTAX},
        {"+60x300", AMT_ERR_SCHEDULE_SYNTAX},
        {"60*300", AMT_ERR_SCHEDULE_SYNTAX},
        {"60x300x5", AMT_ERR_SCHEDULE_SYNTAX},
        {"1.5x300", AMT_ERR_SCHEDULE_SYNTAX},
        {"0x300", AMT_ERR_SCHEDULE_PHASE},
        {"300x60", AMT_ERR_SCHEDULE_PHASE},
        {"60x300,10x0", AMT_ERR_SCHEDULE_PHASE},
        {"60x2592001", AMT_ERR_SCHEDULE_PHASE},
        {"99999999999999999999x99999999999999999999", AMT_ERR_SCHEDULE_PHASE},
        {"1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1",
         AMT_ERR_SCHEDULE_TOO_MANY_PHASES},
    };
    struct hello_schedule s, before;

    default_schedule(&s);
    before = s;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CU_ASSERT_EQUAL(hello_schedule_parse(cases[i].text, &s), cases[i].want);
        CU_ASSERT_EQUAL(memcmp(&s, &before, sizeof(s)), 0);
    }
    CU_ASSERT_EQUAL(hello_schedule_parse(NULL, &s), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(hello_schedule_parse("60x300", NULL), AMT_ERR_INVALID_ARGUMENT);
    /* The caps themselves are accepted. */
    CU_ASSERT_EQUAL(hello_schedule_parse("1x2592000", &s), 0);
    CU_ASSERT_EQUAL(
        hello_schedule_parse(
            "1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1", &s),
        0);
    CU_ASSERT_EQUAL(hello_schedule_count(&s), 16);
}

static void
test_invalid_schedule_struct(void)
{
    struct hello_schedule s;
    char text[HELLO_SCHEDULE_TEXT_SIZE];
    double t = -1;

    memset(&s, 0, sizeof(s));
    CU_ASSERT_EQUAL(hello_schedule_check(&s), AMT_ERR_SCHEDULE_SYNTAX);
    CU_ASSERT_EQUAL(hello_schedule_check(NULL), AMT_ERR_SCHEDULE_SYNTAX);
    s.n_phases = HELLO_SCHEDULE_MAX_PHASES + 1;
    CU_ASSERT_EQUAL(hello_schedule_check(&s), AMT_ERR_SCHEDULE_TOO_MANY_PHASES);
    default_schedule(&s);
    s.phases[1].interval = 0;
    CU_ASSERT_EQUAL(hello_schedule_check(&s), AMT_ERR_SCHEDULE_PHASE);
    CU_ASSERT_EQUAL(hello_schedule_count(&s), 0);
    CU_ASSERT_EQUAL(hello_schedule_end(&s), 0);
    CU_ASSERT_EQUAL(hello_schedule_at(&s, 0, &t), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(hello_schedule_next(&s, 0, &t, NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(t, -1);
    strcpy(text, "junk");
    CU_ASSERT_EQUAL(hello_schedule_format(&s, text, sizeof(text)),
                    AMT_ERR_SCHEDULE_PHASE);
    CU_ASSERT_STRING_EQUAL(text, "");
}

static void
test_format_buffer(void)
{
    struct hello_schedule s;
    char text[HELLO_SCHEDULE_TEXT_SIZE];
    size_t need = strlen(HELLO_SCHEDULE_DEFAULT) + 1;

    default_schedule(&s);
    CU_ASSERT_EQUAL(hello_schedule_format(&s, text, need), 0);
    CU_ASSERT_STRING_EQUAL(text, HELLO_SCHEDULE_DEFAULT);
    CU_ASSERT_EQUAL(hello_schedule_format(&s, text, need - 1), AMT_ERR_TOO_LARGE);
    CU_ASSERT_STRING_EQUAL(text, "");
    CU_ASSERT_EQUAL(hello_schedule_format(&s, text, 8), AMT_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(hello_schedule_format(&s, NULL, 8), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(hello_schedule_format(&s, text, 0), AMT_ERR_INVALID_ARGUMENT);
}

static CU_TestInfo schedule_tests[] = {
    {"default matches its text", test_default_matches_text},
    {"default: every slot", test_default_every_slot},
    {"default: spacing per phase", test_default_spacing},
    {"walk the window on a virtual clock", test_walk_window_on_virtual_clock},
    {"next, every half second of the window", test_next_every_second},
    {"next at boundaries", test_next_at_boundaries},
    {"uneven phase", test_uneven_phase},
    {"largest schedule", test_largest_schedule},
    {"parse refuses", test_parse_refuses},
    {"invalid schedule struct", test_invalid_schedule_struct},
    {"format buffer", test_format_buffer},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"hello_schedule", NULL, NULL, NULL, NULL, schedule_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_hello_schedule", suites);
}
