/* Clocks: real, scaled (--time-scale) and hand-driven; the scale parser; UTC stamps. */
#include "clock.h"
#include "err.h"
#include "unit.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

static void
sleep_real(double seconds)
{
    struct timespec ts = {(time_t)seconds, (long)((seconds - floor(seconds)) * 1e9)};

    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void
test_scale_must_be_positive_finite(void)
{
    static const double bad[] = {0, -0.0, -1, NAN, INFINITY, -INFINITY};
    static char dummy;
    struct amt_clock *c = (struct amt_clock *)(void *)&dummy;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CU_ASSERT_EQUAL(clock_new_scaled(bad[i], &c), AMT_ERR_CLOCK_SCALE);
        CU_ASSERT_PTR_NULL(c);
    }
    CU_ASSERT_EQUAL(clock_new_scaled(2, NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(clock_new_real(NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(clock_new_virtual(0, NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(clock_new_virtual(NAN, &c), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(clock_new_virtual(INFINITY, &c), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(c);
    clock_free(NULL);
}

static void
test_parse_scale(void)
{
    static const struct {
        const char *text;
        double want;
    } good[] = {{"60", 60},    {"1", 1},      {"0.5", 0.5},
                {"1e3", 1000}, {"2.5E1", 25}, {"+4", 4}};
    static const char *const bad[] = {
        "",    "0",   "0.0",  "-1",    "abc",    "1x",  " 5",  "5 ",
        "inf", "nan", "0x10", "1e400", "1e-400", "--1", "1,5",
    };
    double v;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        v = -1;
        CU_ASSERT_EQUAL(clock_parse_scale(good[i].text, &v), 0);
        CU_ASSERT_DOUBLE_EQUAL(v, good[i].want, 1e-12);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = -1;
        CU_ASSERT_EQUAL(clock_parse_scale(bad[i], &v), AMT_ERR_CLOCK_SCALE);
        CU_ASSERT_EQUAL(v, -1);
    }
    CU_ASSERT_EQUAL(clock_parse_scale(NULL, &v), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(clock_parse_scale("1", NULL), AMT_ERR_INVALID_ARGUMENT);
}

static void
test_virtual_moves_only_by_hand(void)
{
    struct amt_clock *c = NULL;

    CU_ASSERT_EQUAL_FATAL(clock_new_virtual(100, &c), 0);
    CU_ASSERT_TRUE(clock_is_virtual(c));
    CU_ASSERT_FALSE(clock_is_virtual(NULL));
    CU_ASSERT_EQUAL(clock_now(c), 100);
    sleep_real(0.01);
    CU_ASSERT_EQUAL(clock_now(c), 100);
    CU_ASSERT_EQUAL(clock_advance(c, 60), 0);
    CU_ASSERT_EQUAL(clock_now(c), 160);
    CU_ASSERT_EQUAL(clock_advance(c, 0.25), 0);
    CU_ASSERT_EQUAL(clock_now(c), 160.25);
    CU_ASSERT_EQUAL(clock_advance(c, 0), 0);
    CU_ASSERT_EQUAL(clock_advance(c, -1), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(clock_advance(c, NAN), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(clock_advance(c, INFINITY), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(clock_now(c), 160.25);
    /* Waiting cannot move a virtual clock, so no wait is ever asked for. */
    CU_ASSERT_EQUAL(clock_real_delay(c, 3600), 0);
    CU_ASSERT_EQUAL(clock_real_delay(c, INFINITY), 0);
    CU_ASSERT_EQUAL(clock_poll_ms(c, 3600), 0);
    CU_ASSERT_EQUAL(clock_poll_ms(c, INFINITY), 0);
    CU_ASSERT_EQUAL(clock_advance(NULL, 1), AMT_ERR_INVALID_ARGUMENT);
    clock_free(c);
}

static void
test_real_clock(void)
{
    struct amt_clock *c = NULL;
    double a, b;

    CU_ASSERT_EQUAL_FATAL(clock_new_real(&c), 0);
    CU_ASSERT_FALSE(clock_is_virtual(c));
    a = clock_now(c);
    CU_ASSERT_TRUE(a >= 0 && a < 5);
    sleep_real(0.02);
    b = clock_now(c);
    CU_ASSERT_TRUE(b >= a + 0.019);
    CU_ASSERT_TRUE(b < a + 5);
    CU_ASSERT_EQUAL(clock_advance(c, 1), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_DOUBLE_EQUAL(clock_real_delay(c, 2.5), 2.5, 1e-12);
    CU_ASSERT_EQUAL(clock_poll_ms(c, 2.5), 2500);
    CU_ASSERT_EQUAL(clock_poll_ms(c, 0.0001), 1);
    clock_free(c);
}

static void
test_scaled_clock(void)
{
    struct amt_clock *c = NULL;
    double a, b;

    CU_ASSERT_EQUAL_FATAL(clock_new_scaled(1000, &c), 0);
    a = clock_now(c);
    sleep_real(0.02);
    b = clock_now(c);
    /* 20 ms of real time are 20 virtual seconds; allow a slow, sanitised run. */
    CU_ASSERT_TRUE(b - a >= 19.9);
    CU_ASSERT_TRUE(b - a < 5000);
    CU_ASSERT_EQUAL(clock_advance(c, 1), AMT_ERR_INVALID_ARGUMENT);
    clock_free(c);

    CU_ASSERT_EQUAL_FATAL(clock_new_scaled(60, &c), 0);
    CU_ASSERT_DOUBLE_EQUAL(clock_real_delay(c, 120), 2, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(clock_real_delay(c, 60), 1, 1e-12);
    CU_ASSERT_EQUAL(clock_real_delay(c, 0), 0);
    CU_ASSERT_EQUAL(clock_real_delay(c, -5), 0);
    CU_ASSERT_EQUAL(clock_real_delay(c, NAN), 0);
    CU_ASSERT_TRUE(isinf(clock_real_delay(c, INFINITY)));
    /* 1/60 s is 16.67 ms: rounded up, so the wait never ends early. */
    CU_ASSERT_EQUAL(clock_poll_ms(c, 1), 17);
    CU_ASSERT_EQUAL(clock_poll_ms(c, 60), 1000);
    CU_ASSERT_EQUAL(clock_poll_ms(c, 0), 0);
    CU_ASSERT_EQUAL(clock_poll_ms(c, -1), 0);
    CU_ASSERT_EQUAL(clock_poll_ms(c, INFINITY), -1);
    CU_ASSERT_EQUAL(clock_poll_ms(c, 1e15), INT_MAX);
    clock_free(c);

    CU_ASSERT_EQUAL_FATAL(clock_new_scaled(0.5, &c), 0);
    CU_ASSERT_DOUBLE_EQUAL(clock_real_delay(c, 1), 2, 1e-12);
    clock_free(c);
}

static void
test_format_utc_at(void)
{
    char buf[CLOCK_UTC_SIZE];
    struct timespec ts = {0, 0};

    CU_ASSERT_EQUAL(clock_format_utc_at(&ts, buf), 0);
    CU_ASSERT_STRING_EQUAL(buf, "1970-01-01T00:00:00.000Z");
    ts.tv_sec = 1795309323;
    ts.tv_nsec = 456999999;
    CU_ASSERT_EQUAL(clock_format_utc_at(&ts, buf), 0);
    CU_ASSERT_STRING_EQUAL(buf, "2026-11-22T01:02:03.456Z");
    ts.tv_sec = 951825600;
    ts.tv_nsec = 7000000;
    CU_ASSERT_EQUAL(clock_format_utc_at(&ts, buf), 0);
    CU_ASSERT_STRING_EQUAL(buf, "2000-02-29T12:00:00.007Z");
    ts.tv_sec = 253402300799;
    ts.tv_nsec = 999999999;
    CU_ASSERT_EQUAL(clock_format_utc_at(&ts, buf), 0);
    CU_ASSERT_STRING_EQUAL(buf, "9999-12-31T23:59:59.999Z");

    ts.tv_sec = 253402300800; /* year 10000 */
    ts.tv_nsec = 0;
    CU_ASSERT_EQUAL(clock_format_utc_at(&ts, buf), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_STRING_EQUAL(buf, "");
    ts.tv_sec = -62167219201; /* one second before year 0 */
    CU_ASSERT_EQUAL(clock_format_utc_at(&ts, buf), AMT_ERR_INVALID_ARGUMENT);
    ts.tv_sec = INT64_MAX; /* gmtime_r cannot represent the year */
    CU_ASSERT_EQUAL(clock_format_utc_at(&ts, buf), AMT_ERR_INVALID_ARGUMENT);
    ts.tv_sec = 0;
    ts.tv_nsec = 1000000000;
    CU_ASSERT_EQUAL(clock_format_utc_at(&ts, buf), AMT_ERR_INVALID_ARGUMENT);
    ts.tv_nsec = -1;
    CU_ASSERT_EQUAL(clock_format_utc_at(&ts, buf), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(clock_format_utc_at(NULL, buf), AMT_ERR_INVALID_ARGUMENT);
}

static void
test_format_utc_now(void)
{
    char buf[CLOCK_UTC_SIZE];
    const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ";

    CU_ASSERT_EQUAL_FATAL(clock_format_utc(buf), 0);
    CU_ASSERT_EQUAL_FATAL(strlen(buf), strlen(shape));
    for (size_t i = 0; shape[i] != '\0'; i++) {
        bool ok = shape[i] == 'd' ? buf[i] >= '0' && buf[i] <= '9' : buf[i] == shape[i];

        CU_ASSERT_TRUE(ok);
    }
    CU_ASSERT_TRUE(strncmp(buf, "2024", 4) >= 0);
}

static CU_TestInfo clock_tests[] = {
    {"scale must be positive and finite", test_scale_must_be_positive_finite},
    {"parse scale", test_parse_scale},
    {"virtual clock moves only by hand", test_virtual_moves_only_by_hand},
    {"real clock", test_real_clock},
    {"scaled clock", test_scaled_clock},
    {"format UTC at an instant", test_format_utc_at},
    {"format UTC now", test_format_utc_now},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"clock", NULL, NULL, NULL, NULL, clock_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_clock", suites);
}
