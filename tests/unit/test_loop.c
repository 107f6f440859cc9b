/* The event loop: timers in virtual time and their order, watches, stop. */
#include "clock.h"
#include "err.h"
#include "loop.h"
#include "unit.h"

#include <math.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static char order[64];
static size_t n_order;

static void
mark(struct amt_loop *loop, void *arg)
{
    order[n_order++] = *(const char *)arg;
}

static void
test_timers_fire_in_order(void)
{
    struct amt_clock *c = NULL;
    struct amt_loop *loop = NULL;
    struct loop_timer *t = NULL;
    static const char a = 'a', b = 'b', c1 = 'c', d = 'd';

    CU_ASSERT_EQUAL_FATAL(clock_new_virtual(0, &c), 0);
    CU_ASSERT_EQUAL_FATAL(loop_new(c, &loop), 0);
    n_order = 0;
    CU_ASSERT_EQUAL(loop_timer_at(loop, 20, mark, (void *)&b, NULL), 0);
    CU_ASSERT_EQUAL(loop_timer_at(loop, 10, mark, (void *)&a, NULL), 0);
    CU_ASSERT_EQUAL(loop_timer_at(loop, 20, mark, (void *)&c1, NULL), 0); /* after b */
    CU_ASSERT_EQUAL(loop_timer_at(loop, 15, mark, (void *)&d, &t), 0);
    loop_timer_cancel(loop, t);
    CU_ASSERT_EQUAL(loop_run_once(loop, 0), 0);
    CU_ASSERT_EQUAL(n_order, 0); /* virtual time has not moved */
    clock_advance(c, 10);
    CU_ASSERT_EQUAL(loop_run_once(loop, 0), 0);
    CU_ASSERT_EQUAL(n_order, 1);
    clock_advance(c, 100);
    CU_ASSERT_EQUAL(loop_run_once(loop, 0), 0);
    CU_ASSERT_EQUAL(n_order, 3);
    CU_ASSERT_EQUAL(memcmp(order, "abc", 3), 0);
    CU_ASSERT_EQUAL(loop_timer_at(loop, NAN, mark, (void *)&a, NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(loop_timer_at(loop, 1, NULL, NULL, NULL), AMT_ERR_INVALID_ARGUMENT);
    loop_free(loop);
    clock_free(c);
}

static struct amt_loop *cb_loop;
static struct loop_watch *self_watch;
static unsigned fired;

static void
on_readable(struct amt_loop *loop, int fd, uint32_t events, void *arg)
{
    char buf[16];

    fired++;
    if (read(fd, buf, sizeof(buf)) < 0)
        return;
    /* unwatching oneself from one's own callback must be safe */
    loop_unwatch(loop, self_watch);
    self_watch = NULL;
}

static void
rearm(struct amt_loop *loop, void *arg)
{
    /* a timer set by a callback for "now" runs in the next round, not this one */
    fired++;
    if (fired < 3)
        loop_timer_at(loop, loop_now(loop), rearm, NULL, NULL);
}

static void
stop_now(struct amt_loop *loop, void *arg)
{
    loop_stop(loop);
}

static void
test_watch_unwatch_and_stop(void)
{
    struct amt_loop *loop = NULL;
    int fds[2];

    CU_ASSERT_EQUAL_FATAL(loop_new(NULL, &loop), 0); /* real time */
    cb_loop = loop;
    CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
    fired = 0;
    CU_ASSERT_EQUAL(loop_watch(loop, fds[0], EPOLLIN, on_readable, NULL, &self_watch), 0);
    CU_ASSERT_EQUAL(loop_watch(loop, -1, EPOLLIN, on_readable, NULL, NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(write(fds[1], "x", 1), 1);
    CU_ASSERT_EQUAL(loop_run_once(loop, 100), 0);
    CU_ASSERT_EQUAL(fired, 1);
    CU_ASSERT_EQUAL(write(fds[1], "y", 1), 1);
    CU_ASSERT_EQUAL(loop_run_once(loop, 20), 0);
    CU_ASSERT_EQUAL(fired, 1); /* no longer watched */

    fired = 0;
    CU_ASSERT_EQUAL(loop_timer_at(loop, loop_now(loop), rearm, NULL, NULL), 0);
    CU_ASSERT_EQUAL(loop_run_once(loop, 0), 0);
    CU_ASSERT(fired >= 1 && fired < 3);
    for (int i = 0; i < 5; i++)
        loop_run_once(loop, 0);
    CU_ASSERT_EQUAL(fired, 3);

    CU_ASSERT_EQUAL(loop_timer_at(loop, loop_now(loop) + 0.01, stop_now, NULL, NULL), 0);
    CU_ASSERT_FALSE(loop_stopped(loop));
    CU_ASSERT_EQUAL(loop_run(loop), 0);
    CU_ASSERT_TRUE(loop_stopped(loop));
    CU_ASSERT_PTR_NOT_NULL(loop_clock(loop));
    close(fds[0]);
    close(fds[1]);
    loop_free(loop);
    loop_free(NULL);
}

static CU_TestInfo loop_tests[] = {
    {"timers fire in order", test_timers_fire_in_order},
    {"watch, unwatch and stop", test_watch_unwatch_and_stop},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"loop", NULL, NULL, NULL, NULL, loop_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_loop", suites);
}
