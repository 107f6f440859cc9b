/*
 * Event log: the line format, every refusal of the writer, whole lines under
 * concurrent writers, and the reader on growing, malformed and partial files.
 */
#include "err.h"
#include "evlog.h"
#include "json.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define UUID "8c3f2a10-55d1-4c1e-9a6b-0123456789ab"
#define UUID_UPPER "8C3F2A10-55D1-4C1E-9A6B-0123456789AB"

static char tmp_path[256];

/* A fresh empty file under $TMPDIR (or /tmp); removed by the suite cleanup. */
static const char *
fresh_file(void)
{
    const char *dir = getenv("TMPDIR");
    int fd;

    if (tmp_path[0] != '\0')
        unlink(tmp_path);
    snprintf(tmp_path, sizeof(tmp_path), "%s/test_evlog.XXXXXX",
             dir != NULL && *dir != '\0' ? dir : "/tmp");
    if ((fd = mkstemp(tmp_path)) < 0) {
        perror("mkstemp");
        exit(99);
    }
    close(fd);
    return tmp_path;
}

static int
suite_cleanup(void)
{
    if (tmp_path[0] != '\0')
        unlink(tmp_path);
    return 0;
}

static void
append_raw(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    size_t n = strlen(text);

    if (fd < 0 || write(fd, text, n) != (ssize_t)n) {
        perror(path);
        exit(99);
    }
    close(fd);
}

static off_t
file_size(const char *path)
{
    struct stat st;

    CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
    return st.st_size;
}

static void
test_names(void)
{
    enum evlog_actor a;
    enum evlog_result r;

    for (int i = EVLOG_ACTOR_AMT; i <= EVLOG_ACTOR_RUNNER; i++) {
        CU_ASSERT_EQUAL(evlog_actor_parse(evlog_actor_name((enum evlog_actor)i), &a), 0);
        CU_ASSERT_EQUAL((int)a, i);
    }
    for (int i = EVLOG_RESULT_OK; i <= EVLOG_RESULT_INFO; i++) {
        CU_ASSERT_EQUAL(evlog_result_parse(evlog_result_name((enum evlog_result)i), &r),
                        0);
        CU_ASSERT_EQUAL((int)r, i);
    }
    CU_ASSERT_STRING_EQUAL(evlog_actor_name(EVLOG_ACTOR_SITE), "SITE");
    CU_ASSERT_STRING_EQUAL(evlog_result_name(EVLOG_RESULT_DISCARD), "discard");
    CU_ASSERT_PTR_NULL(evlog_actor_name((enum evlog_actor)99));
    CU_ASSERT_PTR_NULL(evlog_result_name((enum evlog_result) - 1));
    CU_ASSERT_EQUAL(evlog_actor_parse("sp", &a), AMT_ERR_EVENT_FIELD);
    CU_ASSERT_EQUAL(evlog_actor_parse(NULL, &a), AMT_ERR_EVENT_FIELD);
    CU_ASSERT_EQUAL(evlog_result_parse("OK", &r), AMT_ERR_EVENT_FIELD);
}

static void
test_id_form(void)
{
    static const char *const good[] = {
        "OOB-4.2",       "OOB-1",     "PORT-16993",  "IB-10.1",      "A-1.2.3",
        "PKI-CA-KEYLEN", "AMT-8021X", "NET-DNS",     "PORT-BLOCKED", "AB-C2-3.4",
        "X-sim.start",   "X-a-b.c",   "X-SP.hello2", "X-x",
    };
    static const char *const bad[] = {
        "",       "oob-4",    "OOB-",   "OOB-4.", "OOB-4..2", "OOB4",    "OOB-4.2a",
        "-4",     "OOB-a",    "OOB--4", "4-OOB",  "OOB-4-",   "OOB-4.a", ".4",
        "OOB.4",  "OOB-4.2.", "X-",     "X-.a",   "X-a.",     "X-a..b",  "X-a b",
        "X-a--b", "X--a",     "X-a-",   "X-a_b",  "OOB-4.2 ",
    };
    char longest[EVLOG_ID_MAX + 2];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (!evlog_id_valid(good[i]))
            fprintf(stderr, "id \"%s\" refused\n", good[i]);
        CU_ASSERT_TRUE(evlog_id_valid(good[i]));
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (evlog_id_valid(bad[i]))
            fprintf(stderr, "id \"%s\" accepted\n", bad[i]);
        CU_ASSERT_FALSE(evlog_id_valid(bad[i]));
    }
    CU_ASSERT_FALSE(evlog_id_valid(NULL));
    memset(longest, 'a', sizeof(longest) - 1);
    memcpy(longest, "X-", 2);
    longest[EVLOG_ID_MAX] = '\0';
    CU_ASSERT_TRUE(evlog_id_valid(longest));
    longest[EVLOG_ID_MAX] = 'a';
    longest[EVLOG_ID_MAX + 1] = '\0';
    CU_ASSERT_FALSE(evlog_id_valid(longest));
}

static void
test_reason_form(void)
{
    static const char *const good[] = {"unknown-uuid", "port-16993-unreachable", "x",
                                       "a1"};
    static const char *const bad[] = {
        "",
        "Unknown",
        "a--b",
        "-a",
        "a-",
        "a b",
        "a_b",
        "a.b",
        "a-very-long-reason-that-goes-on-and-on-and-on-beyond-sixty-four-chars",
    };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CU_ASSERT_TRUE(evlog_reason_valid(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_FALSE(evlog_reason_valid(bad[i]));
    CU_ASSERT_FALSE(evlog_reason_valid(NULL));
}

static void
test_secret_keys(void)
{
    static const char *const secret[] = {
        "password",   "admin-password", "adminPassword", "MEBX_PASSWD", "passphrase",
        "otp",        "otp-hash",       "otpHash",       "OTPHash",     "client_secret",
        "secrets",    "private-key",    "privkey",       "key",         "session-key",
        "sessionKey", "keys",           "psk",           "pin",         "pin-code",
        "pwd",        "new_pw",         "token",         "api-token",   "x.key",
    };
    static const char *const innocent[] = {
        "status", "reason",     "root-hash", "keyboard",    "ping",    "hotplug",
        "spin",   "footprint",  "monkey",    "tokens-left", "attempt", "user",
        "cn",     "thumbprint", "pinned",    "keyed",       "",
    };

    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
        if (!evlog_key_is_secret(secret[i]))
            fprintf(stderr, "key \"%s\" not taken for a secret\n", secret[i]);
        CU_ASSERT_TRUE(evlog_key_is_secret(secret[i]));
    }
    for (size_t i = 0; i < sizeof(innocent) / sizeof(innocent[0]); i++) {
        if (evlog_key_is_secret(innocent[i]))
            fprintf(stderr, "key \"%s\" taken for a secret\n", innocent[i]);
        CU_ASSERT_FALSE(evlog_key_is_secret(innocent[i]));
    }
    CU_ASSERT_FALSE(evlog_key_is_secret(NULL));
}

static void
test_null_log_is_a_no_op(void)
{
    CU_ASSERT_EQUAL(evlog_emit(NULL, 1.0, EVLOG_ACTOR_SP, UUID, "OOB-2", EVLOG_RESULT_OK),
                    0);
    /* Even an event the writer would refuse: there is nothing to write to. */
    CU_ASSERT_EQUAL(evlog_emit(NULL, NAN, EVLOG_ACTOR_SP, "x", "bad", EVLOG_RESULT_FAIL,
                               EVLOG_STR("password", "p")),
                    0);
    evlog_free(NULL);
}

/* Reads the whole file into a fresh string. */
static char *
slurp(const char *path)
{
    return (char *)unit_read_file(path, NULL);
}

/* The line after its "ts" value, which is the wall clock and changes run to run. */
static const char *
after_ts(const char *line)
{
    static const char form[] = "dddd-dd-ddTdd:dd:dd.dddZ";

    CU_ASSERT_PTR_NOT_NULL_FATAL(line);
    CU_ASSERT_EQUAL_FATAL(strncmp(line, "{\"ts\":\"", 7), 0);
    CU_ASSERT_FATAL(strlen(line) > 7 + EVLOG_TS_LEN);
    for (size_t i = 0; i < EVLOG_TS_LEN; i++) {
        if (form[i] == 'd') {
            CU_ASSERT(line[7 + i] >= '0' && line[7 + i] <= '9');
        } else {
            CU_ASSERT_EQUAL(line[7 + i], form[i]);
        }
    }
    return line + 7 + EVLOG_TS_LEN;
}

static void
test_line_format(void)
{
    const char *path = fresh_file();
    static const unsigned char bytes[] = {0x00, 0xab, 0xff};
    struct evlog *log = NULL;
    char *text, *line, *save = NULL;
    mode_t mask = umask(022);
    struct stat st;

    umask(mask);
    unlink(path);
    CU_ASSERT_EQUAL_FATAL(evlog_open(path, &log), 0);
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0640 & ~mask);
    CU_ASSERT_EQUAL(evlog_emit(log, 75.25, EVLOG_ACTOR_SP, UUID_UPPER, "OOB-4.2",
                               EVLOG_RESULT_OK, EVLOG_INT("status", 401)),
                    0);
    CU_ASSERT_EQUAL(
        evlog_emit(log, 0, EVLOG_ACTOR_SITE, NULL, "X-site.start", EVLOG_RESULT_INFO), 0);
    CU_ASSERT_EQUAL(evlog_emit(log, 1.0005, EVLOG_ACTOR_AMT, UUID, "OOB-3",
                               EVLOG_RESULT_FAIL, EVLOG_REASON("no-root-match"),
                               EVLOG_STR("cn", "sp.example.com \"q\""),
                               EVLOG_BOOL("tls", true), EVLOG_DOUBLE("ratio", 0.5),
                               EVLOG_HEX("root-hash", bytes, sizeof(bytes)),
                               EVLOG_HEX("empty", NULL, 0)),
                    0);
    evlog_free(log);

    text = slurp(path);
    CU_ASSERT_EQUAL_FATAL(text[strlen(text) - 1], '\n');
    line = strtok_r(text, "\n", &save);
    CU_ASSERT_STRING_EQUAL(after_ts(line),
                           "\",\"vt\":75.250,\"actor\":\"SP\",\"device\":\"" UUID
                           "\",\"id\":\"OOB-4.2\",\"result\":\"ok\","
                           "\"detail\":{\"status\":401}}");
    line = strtok_r(NULL, "\n", &save);
    CU_ASSERT_STRING_EQUAL(after_ts(line),
                           "\",\"vt\":0.000,\"actor\":\"SITE\",\"id\":\"X-site.start\","
                           "\"result\":\"info\",\"detail\":{}}");
    line = strtok_r(NULL, "\n", &save);
    CU_ASSERT_STRING_EQUAL(after_ts(line),
                           "\",\"vt\":1.000,\"actor\":\"AMT\",\"device\":\"" UUID
                           "\",\"id\":\"OOB-3\",\"result\":\"fail\",\"detail\":{"
                           "\"reason\":\"no-root-match\",\"cn\":\"sp.example.com "
                           "\\\"q\\\"\",\"tls\":true,\"ratio\":0.5,"
                           "\"root-hash\":\"00abff\",\"empty\":\"\"}}");
    CU_ASSERT_PTR_NULL(strtok_r(NULL, "\n", &save));
    free(text);
}

static int
collect_none(const struct evlog_event *ev, void *arg)
{
    (void)ev;
    (void)arg;
    return 0;
}

struct collected {
    struct evlog_event ev[8];
    size_t n;
};

static int
collect(const struct evlog_event *ev, void *arg)
{
    struct collected *c = arg;
    struct evlog_event *copy = &c->ev[c->n++];
    struct json_writer *w = NULL;
    const char *text;
    size_t len;

    /* Events are cleared after the callback: keep a reparsed copy. */
    *copy = *ev;
    copy->json = NULL;
    copy->detail = NULL;
    copy->reason = NULL;
    json_writer_new(&w);
    json_write_value(w, ev->json);
    if (json_writer_result(w, &text, &len) == 0)
        evlog_parse_line(text, len, copy, NULL, 0);
    copy->line = ev->line;
    json_writer_free(w);
    return 0;
}

static void
test_round_trip(void)
{
    const char *path = fresh_file();
    struct evlog *log = NULL;
    struct collected c;
    size_t malformed = 99;
    char err[256];
    int64_t status = 0;
    bool tls = false;

    memset(&c, 0, sizeof(c));
    CU_ASSERT_EQUAL_FATAL(evlog_open(path, &log), 0);
    CU_ASSERT_EQUAL(evlog_emit(log, 75.25, EVLOG_ACTOR_SP, UUID_UPPER, "OOB-4.2",
                               EVLOG_RESULT_OK, EVLOG_INT("status", 401)),
                    0);
    CU_ASSERT_EQUAL(evlog_emit(log, 3600, EVLOG_ACTOR_AGENT, NULL, "IB-1",
                               EVLOG_RESULT_SKIP, EVLOG_BOOL("tls", true)),
                    0);
    CU_ASSERT_EQUAL(evlog_emit(log, 0.001, EVLOG_ACTOR_RUNNER, UUID, "X-runner.check",
                               EVLOG_RESULT_FAIL, EVLOG_REASON("count-mismatch")),
                    0);
    evlog_free(log);

    CU_ASSERT_EQUAL(evlog_read_file(path, collect, &c, &malformed, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(malformed, 0);
    CU_ASSERT_STRING_EQUAL(err, "");
    CU_ASSERT_EQUAL_FATAL(c.n, 3);

    CU_ASSERT_EQUAL(c.ev[0].line, 1);
    CU_ASSERT_EQUAL(c.ev[0].vt, 75.25);
    CU_ASSERT_EQUAL(c.ev[0].actor, EVLOG_ACTOR_SP);
    CU_ASSERT_STRING_EQUAL(c.ev[0].device, UUID);
    CU_ASSERT_STRING_EQUAL(c.ev[0].id, "OOB-4.2");
    CU_ASSERT_EQUAL(c.ev[0].result, EVLOG_RESULT_OK);
    CU_ASSERT_EQUAL(json_get_int(json_object_get(c.ev[0].detail, "status"), &status), 0);
    CU_ASSERT_EQUAL(status, 401);
    CU_ASSERT_PTR_NULL(c.ev[0].reason);
    CU_ASSERT_EQUAL(strlen(c.ev[0].ts), EVLOG_TS_LEN);

    CU_ASSERT_EQUAL(c.ev[1].line, 2);
    CU_ASSERT_STRING_EQUAL(c.ev[1].device, "");
    CU_ASSERT_EQUAL(c.ev[1].result, EVLOG_RESULT_SKIP);
    CU_ASSERT_EQUAL(json_get_bool(json_path(c.ev[1].json, "detail.tls"), &tls), 0);
    CU_ASSERT_TRUE(tls);

    CU_ASSERT_EQUAL(c.ev[2].line, 3);
    CU_ASSERT_EQUAL(c.ev[2].actor, EVLOG_ACTOR_RUNNER);
    CU_ASSERT_EQUAL(c.ev[2].vt, 0.001);
    CU_ASSERT_EQUAL(c.ev[2].result, EVLOG_RESULT_FAIL);
    CU_ASSERT_STRING_EQUAL(c.ev[2].reason, "count-mismatch");

    for (size_t i = 0; i < c.n; i++)
        evlog_event_clear(&c.ev[i]);
    evlog_event_clear(NULL);
}

static void
test_emit_refusals(void)
{
    const char *path = fresh_file();
    struct evlog *log = NULL;
    char *long_text = malloc(EVLOG_LINE_MAX + 1);
    static unsigned char big[EVLOG_LINE_MAX / 2 + 1];
    static char huge[JSON_MAX_SIZE + 1];
    struct evlog_field odd = EVLOG_INT("status", 1);

    memset(long_text, 'a', EVLOG_LINE_MAX);
    long_text[EVLOG_LINE_MAX] = '\0';
    memset(huge, 'h', sizeof(huge) - 1);
    odd.type = (enum evlog_field_type)42;
    CU_ASSERT_EQUAL_FATAL(evlog_open(path, &log), 0);

#define REFUSED(code, ...) CU_ASSERT_EQUAL(evlog_emit(log, __VA_ARGS__), code)
    REFUSED(AMT_ERR_EVENT_FIELD, 1, (enum evlog_actor)7, NULL, "OOB-1", EVLOG_RESULT_OK);
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP, NULL, "OOB-1", (enum evlog_result)9);
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP, NULL, "oob-1", EVLOG_RESULT_OK);
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP, NULL, NULL, EVLOG_RESULT_OK);
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP, "not-a-uuid", "OOB-1",
            EVLOG_RESULT_OK);
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP,
            "8c3f2a10x55d1-4c1e-9a6b-0123456789ab", "OOB-1", EVLOG_RESULT_OK);
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP,
            "8c3f2a10-55d1-4c1e-9a6b-0123456789ag", "OOB-1", EVLOG_RESULT_OK);
    REFUSED(AMT_ERR_EVENT_FIELD, NAN, EVLOG_ACTOR_SP, NULL, "OOB-1", EVLOG_RESULT_OK);
    REFUSED(AMT_ERR_EVENT_FIELD, INFINITY, EVLOG_ACTOR_SP, NULL, "OOB-1",
            EVLOG_RESULT_OK);
    REFUSED(AMT_ERR_EVENT_FIELD, -0.5, EVLOG_ACTOR_SP, NULL, "OOB-1", EVLOG_RESULT_OK);
    /* A fail needs a reason, a kebab-case string one. */
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP, NULL, "OOB-1", EVLOG_RESULT_FAIL);
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP, NULL, "OOB-1", EVLOG_RESULT_FAIL,
            EVLOG_INT("status", 500));
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP, NULL, "OOB-1", EVLOG_RESULT_FAIL,
            EVLOG_REASON("Not Kebab"));
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP, NULL, "OOB-1", EVLOG_RESULT_FAIL,
            EVLOG_INT("reason", 3));
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP, NULL, "OOB-1", EVLOG_RESULT_DISCARD,
            EVLOG_REASON("under_score"));
    /* Keys: form, duplicates, secrets. */
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP, NULL, "OOB-1", EVLOG_RESULT_OK,
            EVLOG_INT("Status", 1));
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP, NULL, "OOB-1", EVLOG_RESULT_OK,
            EVLOG_INT("1st", 1));
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP, NULL, "OOB-1", EVLOG_RESULT_OK,
            EVLOG_INT("", 1));
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP, NULL, "OOB-1", EVLOG_RESULT_OK,
            EVLOG_INT(NULL, 1));
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP, NULL, "OOB-1", EVLOG_RESULT_OK,
            EVLOG_INT("status", 1), EVLOG_INT("status", 2));
    REFUSED(AMT_ERR_EVENT_SECRET, 1, EVLOG_ACTOR_SP, NULL, "OOB-7.4", EVLOG_RESULT_OK,
            EVLOG_STR("admin-password", "P@ssw0rd!"));
    REFUSED(AMT_ERR_EVENT_SECRET, 1, EVLOG_ACTOR_AGENT, NULL, "IB-2", EVLOG_RESULT_OK,
            EVLOG_HEX("otp-hash", "x", 1));
    REFUSED(AMT_ERR_EVENT_SECRET, 1, EVLOG_ACTOR_SITE, NULL, "OOB-9", EVLOG_RESULT_OK,
            EVLOG_STR("mebxPassword", "x"));
    /* Values. */
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP, NULL, "OOB-1", EVLOG_RESULT_OK,
            EVLOG_STR("cn", NULL));
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP, NULL, "OOB-1", EVLOG_RESULT_OK,
            EVLOG_DOUBLE("ratio", NAN));
    REFUSED(AMT_ERR_EVENT_FIELD, 1, EVLOG_ACTOR_SP, NULL, "OOB-1", EVLOG_RESULT_OK,
            EVLOG_HEX("hash", NULL, 4));
    REFUSED(AMT_ERR_JSON_UTF8, 1, EVLOG_ACTOR_SP, NULL, "OOB-1", EVLOG_RESULT_OK,
            EVLOG_STR("cn", "bad\xff"));
    REFUSED(AMT_ERR_EVENT_LINE_TOO_LONG, 1, EVLOG_ACTOR_SP, NULL, "OOB-1",
            EVLOG_RESULT_OK, EVLOG_STR("cn", long_text));
    REFUSED(AMT_ERR_EVENT_LINE_TOO_LONG, 1, EVLOG_ACTOR_SP, NULL, "OOB-1",
            EVLOG_RESULT_OK, EVLOG_HEX("hash", big, sizeof(big)));
    REFUSED(AMT_ERR_EVENT_LINE_TOO_LONG, 1, EVLOG_ACTOR_SP, NULL, "OOB-1",
            EVLOG_RESULT_OK, EVLOG_STR("cn", huge));
    /* One byte over: the rest of this event takes 103 bytes. */
    long_text[EVLOG_LINE_MAX - 103 + 1] = '\0';
    REFUSED(AMT_ERR_EVENT_LINE_TOO_LONG, 1, EVLOG_ACTOR_SP, NULL, "OOB-1",
            EVLOG_RESULT_OK, EVLOG_STR("cn", long_text));
#undef REFUSED
    CU_ASSERT_EQUAL(evlog_emit_fields(log, 1, EVLOG_ACTOR_SP, NULL, "OOB-1",
                                      EVLOG_RESULT_OK, NULL, 1),
                    AMT_ERR_EVENT_FIELD);
    CU_ASSERT_EQUAL(evlog_emit_fields(log, 1, EVLOG_ACTOR_SP, NULL, "OOB-1",
                                      EVLOG_RESULT_OK, &odd, 1),
                    AMT_ERR_EVENT_FIELD);
    /* Nothing of the refused events reached the file. */
    CU_ASSERT_EQUAL(file_size(path), 0);
    /* The longest line that fits does go out, and reads back. */
    long_text[EVLOG_LINE_MAX - 103] = '\0';
    CU_ASSERT_EQUAL(evlog_emit(log, 1, EVLOG_ACTOR_SP, NULL, "OOB-1", EVLOG_RESULT_OK,
                               EVLOG_STR("cn", long_text)),
                    0);
    CU_ASSERT_EQUAL(evlog_read_file(path, collect_none, NULL, NULL, NULL, 0), 0);
    evlog_free(log);
    free(long_text);
}

static void
test_open_failures(void)
{
    struct evlog *log = (struct evlog *)&log;
    struct evlog_reader *rd = (struct evlog_reader *)&rd;
    char err[256];

    CU_ASSERT_EQUAL(evlog_open("/nonexistent-dir/x/events.jsonl", &log), AMT_ERR_SYSTEM);
    CU_ASSERT_EQUAL(errno, ENOENT);
    CU_ASSERT_PTR_NULL(log);
    CU_ASSERT_EQUAL(evlog_open(NULL, &log), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(evlog_open("x", NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(evlog_open_fd(-1, &log), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(evlog_open_fd(0, NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(evlog_open_fd(999999, &log), AMT_ERR_SYSTEM);
    CU_ASSERT_EQUAL(evlog_reader_open("/nonexistent-dir/events.jsonl", NULL, &rd),
                    AMT_ERR_SYSTEM);
    CU_ASSERT_PTR_NULL(rd);
    CU_ASSERT_EQUAL(evlog_reader_open(NULL, NULL, &rd), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(evlog_reader_open("x", NULL, NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(evlog_read_file("/nonexistent-dir/events.jsonl", collect_none, NULL,
                                    NULL, err, sizeof(err)),
                    AMT_ERR_SYSTEM);
    CU_ASSERT_STRING_EQUAL(err,
                           "/nonexistent-dir/events.jsonl: No such file or directory");
    CU_ASSERT_EQUAL(evlog_read_file(NULL, collect_none, NULL, NULL, err, sizeof(err)),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(evlog_read_file("x", NULL, NULL, NULL, err, sizeof(err)),
                    AMT_ERR_INVALID_ARGUMENT);
    /* A reader on something that cannot be read says so with the path. */
    CU_ASSERT_EQUAL_FATAL(evlog_reader_open(AMT_TESTDATA_DIR, NULL, &rd), 0);
    {
        struct evlog_event ev;

        CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), AMT_ERR_SYSTEM);
        CU_ASSERT_STRING_EQUAL(evlog_reader_error(rd),
                               AMT_TESTDATA_DIR ": Is a directory");
    }
    evlog_reader_free(rd);
    CU_ASSERT_EQUAL(
        evlog_read_file(AMT_TESTDATA_DIR, collect_none, NULL, NULL, err, sizeof(err)),
        AMT_ERR_SYSTEM);
    CU_ASSERT_STRING_EQUAL(err, AMT_TESTDATA_DIR ": Is a directory");
    CU_ASSERT_EQUAL(evlog_reader_next(NULL, NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_STRING_EQUAL(evlog_reader_error(NULL), "");
    evlog_reader_free(NULL);
}

/* A write that fails is reported with errno, not lost in silence. */
static void
test_write_failure(void)
{
    int fd = open("/dev/null", O_RDONLY);
    struct evlog *log = NULL;

    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL_FATAL(evlog_open_fd(fd, &log), 0);
    close(fd);
    CU_ASSERT_EQUAL(evlog_emit(log, 1, EVLOG_ACTOR_SP, NULL, "OOB-1", EVLOG_RESULT_OK),
                    AMT_ERR_SYSTEM);
    CU_ASSERT_EQUAL(errno, EBADF);
    evlog_free(log);
}

/* "--events -": a copy of the descriptor; closing the log leaves the caller's open. */
static void
test_open_fd_pipe(void)
{
    int p[2];
    struct evlog *log = NULL;
    char buf[512];
    ssize_t n;
    struct evlog_event ev;

    CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
    CU_ASSERT_EQUAL_FATAL(evlog_open_fd(p[1], &log), 0);
    CU_ASSERT_EQUAL(evlog_emit(log, 2, EVLOG_ACTOR_AMT, UUID, "OOB-1", EVLOG_RESULT_INFO,
                               EVLOG_INT("attempt", 1)),
                    0);
    evlog_free(log);
    CU_ASSERT_NOT_EQUAL(fcntl(p[1], F_GETFD), -1);
    close(p[1]);
    n = read(p[0], buf, sizeof(buf) - 1);
    close(p[0]);
    CU_ASSERT_FATAL(n > 0);
    CU_ASSERT_EQUAL(buf[n - 1], '\n');
    CU_ASSERT_EQUAL(evlog_parse_line(buf, (size_t)n - 1, &ev, NULL, 0), 0);
    CU_ASSERT_STRING_EQUAL(ev.id, "OOB-1");
    evlog_event_clear(&ev);
}

#define WRITERS_PROCS 2
#define WRITERS_THREADS 3
#define WRITERS_EVENTS 300

struct writer_arg {
    struct evlog *log;
    int proc;
    int thread;
    const char *pad;
};

static void *
writer_thread(void *p)
{
    struct writer_arg *a = p;

    for (int i = 0; i < WRITERS_EVENTS; i++)
        if (evlog_emit(a->log, i, EVLOG_ACTOR_AMT, NULL, "X-test.writer",
                       EVLOG_RESULT_INFO, EVLOG_INT("proc", a->proc),
                       EVLOG_INT("thread", a->thread), EVLOG_INT("seq", i),
                       EVLOG_STR("pad", a->pad)) != 0)
            return p;
    return NULL;
}

/* Each process opens its own log and writes from several threads at once. */
static int
writer_process(const char *path, int proc)
{
    pthread_t t[WRITERS_THREADS];
    struct writer_arg a[WRITERS_THREADS];
    struct evlog *log = NULL;
    char *pad = malloc(6000);
    int failed = 0;

    /* Lines longer than a pipe buffer: atomicity must not rest on PIPE_BUF. */
    memset(pad, 'p', 5999);
    pad[5999] = '\0';
    if (evlog_open(path, &log) != 0)
        return 1;
    for (int i = 0; i < WRITERS_THREADS; i++) {
        a[i] = (struct writer_arg){log, proc, i, pad};
        if (pthread_create(&t[i], NULL, writer_thread, &a[i]) != 0)
            return 1;
    }
    for (int i = 0; i < WRITERS_THREADS; i++) {
        void *res;

        pthread_join(t[i], &res);
        failed |= res != NULL;
    }
    evlog_free(log);
    free(pad);
    return failed;
}

struct writer_check {
    int next[WRITERS_PROCS][WRITERS_THREADS];
    size_t n;
    bool order_ok;
};

static int
check_writer_event(const struct evlog_event *ev, void *arg)
{
    struct writer_check *c = arg;
    int64_t proc = -1, thread = -1, seq = -1;

    json_get_int(json_object_get(ev->detail, "proc"), &proc);
    json_get_int(json_object_get(ev->detail, "thread"), &thread);
    json_get_int(json_object_get(ev->detail, "seq"), &seq);
    if (proc < 0 || proc >= WRITERS_PROCS || thread < 0 || thread >= WRITERS_THREADS)
        return 1;
    /* Each writer's own events appear in the order it wrote them. */
    if (seq != c->next[proc][thread]++)
        c->order_ok = false;
    c->n++;
    return 0;
}

static void
test_parallel_writers(void)
{
    const char *path = fresh_file();
    pid_t pids[WRITERS_PROCS];
    struct writer_check c;
    size_t malformed = 0;
    char err[512];

    for (int i = 0; i < WRITERS_PROCS; i++) {
        pids[i] = fork();
        CU_ASSERT_FATAL(pids[i] >= 0);
        if (pids[i] == 0)
            _exit(writer_process(path, i));
    }
    for (int i = 0; i < WRITERS_PROCS; i++) {
        int status = 0;

        CU_ASSERT_EQUAL(waitpid(pids[i], &status, 0), pids[i]);
        CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    memset(&c, 0, sizeof(c));
    c.order_ok = true;
    CU_ASSERT_EQUAL(
        evlog_read_file(path, check_writer_event, &c, &malformed, err, sizeof(err)), 0);
    if (malformed != 0)
        fprintf(stderr, "parallel writers: %zu malformed lines, first: %s\n", malformed,
                err);
    CU_ASSERT_EQUAL(malformed, 0);
    CU_ASSERT_EQUAL(c.n, (size_t)WRITERS_PROCS * WRITERS_THREADS * WRITERS_EVENTS);
    CU_ASSERT_TRUE(c.order_ok);
}

static const char *
good_line(char *buf, size_t size, const char *id)
{
    snprintf(buf, size,
             "{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":1.000,\"actor\":\"SP\","
             "\"id\":\"%s\",\"result\":\"ok\",\"detail\":{}}",
             id);
    return buf;
}

/* A writer in the middle of a line: the reader waits for the rest. */
static void
test_reader_incomplete_last_line(void)
{
    const char *path = fresh_file();
    struct evlog_reader *rd = NULL;
    struct evlog_event ev;
    char line[256], expect[512], *half;
    size_t n;

    good_line(line, sizeof(line), "OOB-1");
    append_raw(path, line);
    append_raw(path, "\n");
    good_line(line, sizeof(line), "OOB-2");
    n = strlen(line);
    half = strndup(line, n / 2);
    append_raw(path, half);

    CU_ASSERT_EQUAL_FATAL(evlog_reader_open(path, NULL, &rd), 0);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), 0);
    CU_ASSERT_STRING_EQUAL(ev.id, "OOB-1");
    CU_ASSERT_EQUAL(ev.line, 1);
    evlog_event_clear(&ev);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), AMT_ERR_EVENT_AGAIN);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), AMT_ERR_EVENT_AGAIN);
    CU_ASSERT_STRING_EQUAL(evlog_reader_error(rd), "");

    append_raw(path, line + n / 2);
    /* Complete JSON without its newline yet: taken. */
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), 0);
    CU_ASSERT_STRING_EQUAL(ev.id, "OOB-2");
    CU_ASSERT_EQUAL(ev.line, 2);
    evlog_event_clear(&ev);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), AMT_ERR_EVENT_AGAIN);

    /* Its newline comes later and is not taken for an empty line. */
    append_raw(path, " \t\r\n");
    good_line(line, sizeof(line), "OOB-3");
    append_raw(path, line);
    append_raw(path, "\n");
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), 0);
    CU_ASSERT_STRING_EQUAL(ev.id, "OOB-3");
    CU_ASSERT_EQUAL(ev.line, 3);
    evlog_event_clear(&ev);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), AMT_ERR_EVENT_AGAIN);

    /*
     * A line taken as complete that then goes on is malformed, as a fresh reader of
     * the whole file would find it; the line after it is read as usual.
     */
    append_raw(path, good_line(line, sizeof(line), "OOB-4"));
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), 0);
    CU_ASSERT_STRING_EQUAL(ev.id, "OOB-4");
    CU_ASSERT_EQUAL(ev.line, 4);
    evlog_event_clear(&ev);
    append_raw(path, " junk");
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), AMT_ERR_JSON_SYNTAX);
    snprintf(expect, sizeof(expect), "%s:4: text after the end of the event on this line",
             path);
    CU_ASSERT_STRING_EQUAL(evlog_reader_error(rd), expect);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), AMT_ERR_EVENT_AGAIN);
    append_raw(path, " more junk\n");
    append_raw(path, good_line(line, sizeof(line), "OOB-5"));
    append_raw(path, "\n");
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), 0);
    CU_ASSERT_STRING_EQUAL(ev.id, "OOB-5");
    CU_ASSERT_EQUAL(ev.line, 5);
    evlog_event_clear(&ev);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), AMT_ERR_EVENT_AGAIN);
    evlog_reader_free(rd);

    /* Reading a whole file stops quietly before an incomplete last line. */
    append_raw(path, half);
    {
        size_t malformed = 0;
        char err[256];
        struct collected c;

        memset(&c, 0, sizeof(c));
        CU_ASSERT_EQUAL(evlog_read_file(path, collect, &c, &malformed, err, sizeof(err)),
                        0);
        CU_ASSERT_EQUAL(c.n, 4);
        CU_ASSERT_EQUAL(malformed, 1);
        for (size_t i = 0; i < c.n; i++)
            evlog_event_clear(&c.ev[i]);
    }
    free(half);
}

/* A new reader resumes where an old one stood, line numbers included. */
static void
test_reader_position(void)
{
    const char *path = fresh_file();
    struct evlog_reader *rd = NULL;
    struct evlog_position pos, bad;
    struct evlog_event ev;
    char line[256];

    for (int i = 1; i <= 2; i++) {
        char id[16];

        snprintf(id, sizeof(id), "OOB-%d", i);
        append_raw(path, good_line(line, sizeof(line), id));
        append_raw(path, "\n");
    }
    CU_ASSERT_EQUAL_FATAL(evlog_reader_open(path, NULL, &rd), 0);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), 0);
    evlog_event_clear(&ev);
    evlog_reader_position(rd, &pos);
    CU_ASSERT_EQUAL(pos.line, 2);
    CU_ASSERT_EQUAL(pos.offset, strlen(line) + 1);
    evlog_reader_free(rd);

    CU_ASSERT_EQUAL_FATAL(evlog_reader_open(path, &pos, &rd), 0);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), 0);
    CU_ASSERT_STRING_EQUAL(ev.id, "OOB-2");
    CU_ASSERT_EQUAL(ev.line, 2);
    evlog_event_clear(&ev);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), AMT_ERR_EVENT_AGAIN);

    /* From a position just after a line taken without its newline. */
    append_raw(path, good_line(line, sizeof(line), "OOB-3"));
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), 0);
    evlog_event_clear(&ev);
    evlog_reader_position(rd, &pos);
    evlog_reader_free(rd);
    append_raw(path, "\n");
    append_raw(path, good_line(line, sizeof(line), "OOB-4"));
    append_raw(path, "\n");
    CU_ASSERT_EQUAL_FATAL(evlog_reader_open(path, &pos, &rd), 0);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), 0);
    CU_ASSERT_STRING_EQUAL(ev.id, "OOB-4");
    CU_ASSERT_EQUAL(ev.line, 4);
    evlog_event_clear(&ev);
    evlog_reader_free(rd);

    /* Positions past the end or without a line number are refused. */
    bad.offset = 1u << 30;
    bad.line = 1;
    CU_ASSERT_EQUAL(evlog_reader_open(path, &bad, &rd), AMT_ERR_SYSTEM);
    bad.offset = 1;
    bad.line = 0;
    CU_ASSERT_EQUAL(evlog_reader_open(path, &bad, &rd), AMT_ERR_SYSTEM);
}

static void
test_reader_malformed_lines(void)
{
    const char *path = fresh_file();
    struct evlog_reader *rd = NULL;
    struct evlog_event ev;
    struct collected c;
    char line[256], err[512], expect[512];
    size_t malformed = 0;

    append_raw(path, good_line(line, sizeof(line), "OOB-1"));
    append_raw(path, "\ngarbage\n");
    append_raw(path, good_line(line, sizeof(line), "OOB-3"));
    append_raw(path, "\n\n");
    append_raw(path, good_line(line, sizeof(line), "OOB-5"));
    append_raw(path, "\n");

    CU_ASSERT_EQUAL_FATAL(evlog_reader_open(path, NULL, &rd), 0);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), 0);
    evlog_event_clear(&ev);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), AMT_ERR_JSON_SYNTAX);
    snprintf(expect, sizeof(expect), "%s:2: malformed JSON at column 1: expected a value",
             path);
    CU_ASSERT_STRING_EQUAL(evlog_reader_error(rd), expect);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), 0);
    CU_ASSERT_STRING_EQUAL(ev.id, "OOB-3");
    CU_ASSERT_EQUAL(ev.line, 3);
    evlog_event_clear(&ev);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), AMT_ERR_JSON_SYNTAX);
    snprintf(expect, sizeof(expect), "%s:4: empty line", path);
    CU_ASSERT_STRING_EQUAL(evlog_reader_error(rd), expect);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), 0);
    CU_ASSERT_EQUAL(ev.line, 5);
    evlog_event_clear(&ev);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), AMT_ERR_EVENT_AGAIN);
    evlog_reader_free(rd);

    /* Skip and count, or stop at the first. */
    memset(&c, 0, sizeof(c));
    CU_ASSERT_EQUAL(evlog_read_file(path, collect, &c, &malformed, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(malformed, 2);
    CU_ASSERT_EQUAL(c.n, 3);
    snprintf(expect, sizeof(expect), "%s:2: malformed JSON at column 1: expected a value",
             path);
    CU_ASSERT_STRING_EQUAL(err, expect);
    for (size_t i = 0; i < c.n; i++)
        evlog_event_clear(&c.ev[i]);
    memset(&c, 0, sizeof(c));
    CU_ASSERT_EQUAL(evlog_read_file(path, collect, &c, NULL, err, sizeof(err)),
                    AMT_ERR_JSON_SYNTAX);
    CU_ASSERT_EQUAL(c.n, 1);
    CU_ASSERT_STRING_EQUAL(err, expect);
    evlog_event_clear(&c.ev[0]);
}

static int
stop_at_second(const struct evlog_event *ev, void *arg)
{
    (void)arg;
    return ev->line == 2 ? 7 : 0;
}

static void
test_read_file_callback_stops(void)
{
    const char *path = fresh_file();
    char line[256];

    for (int i = 0; i < 3; i++) {
        append_raw(path, good_line(line, sizeof(line), "OOB-1"));
        append_raw(path, "\n");
    }
    CU_ASSERT_EQUAL(evlog_read_file(path, stop_at_second, NULL, NULL, NULL, 0), 7);
}

/* An over-long line is reported once, with its number, and the next line is read. */
static void
test_reader_long_line(void)
{
    const char *path = fresh_file();
    struct evlog_reader *rd = NULL;
    struct evlog_event ev;
    size_t n = EVLOG_LINE_MAX + 10;
    char *junk = malloc(n + 1), line[256], expect[512];

    memset(junk, 'x', n);
    junk[n] = '\0';
    append_raw(path, junk);
    CU_ASSERT_EQUAL_FATAL(evlog_reader_open(path, NULL, &rd), 0);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), AMT_ERR_EVENT_LINE_TOO_LONG);
    snprintf(expect, sizeof(expect), "%s:1: line longer than %u bytes", path,
             EVLOG_LINE_MAX);
    CU_ASSERT_STRING_EQUAL(evlog_reader_error(rd), expect);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), AMT_ERR_EVENT_AGAIN);
    /* More of the same line, still without its end: no second report. */
    append_raw(path, junk);
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), AMT_ERR_EVENT_AGAIN);
    append_raw(path, "xx\n");
    append_raw(path, good_line(line, sizeof(line), "OOB-2"));
    append_raw(path, "\n");
    CU_ASSERT_EQUAL(evlog_reader_next(rd, &ev), 0);
    CU_ASSERT_STRING_EQUAL(ev.id, "OOB-2");
    CU_ASSERT_EQUAL(ev.line, 2);
    evlog_event_clear(&ev);
    evlog_reader_free(rd);
    free(junk);
}

static const struct {
    const char *line;
    int code;
    const char *why;
} bad_lines[] = {
    {"[1]", AMT_ERR_EVENT_FIELD, "not a JSON object"},
    {"{\"ts\":1}", AMT_ERR_EVENT_FIELD, "field \"ts\" missing or not a string"},
    {"{\"ts\":\"2026-11-22 01:02:03.456Z\"}", AMT_ERR_EVENT_FIELD,
     "field \"ts\" is not of the form 2026-11-22T01:02:03.456Z"},
    {"{\"ts\":\"2026-13-22T01:02:03.456Z\"}", AMT_ERR_EVENT_FIELD,
     "field \"ts\" is not of the form 2026-11-22T01:02:03.456Z"},
    {"{\"ts\":\"2026-11-22T01:02:03Z\"}", AMT_ERR_EVENT_FIELD,
     "field \"ts\" is not of the form 2026-11-22T01:02:03.456Z"},
    {"{\"ts\":\"2026-11-22T24:02:03.456Z\"}", AMT_ERR_EVENT_FIELD,
     "field \"ts\" is not of the form 2026-11-22T01:02:03.456Z"},
    {"{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":\"1\"}", AMT_ERR_EVENT_FIELD,
     "field \"vt\" missing or not a number of seconds"},
    {"{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":-1}", AMT_ERR_EVENT_FIELD,
     "field \"vt\" missing or not a number of seconds"},
    {"{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":1}", AMT_ERR_EVENT_FIELD,
     "field \"actor\" missing or not a string"},
    {"{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":1,\"actor\":\"BOB\"}",
     AMT_ERR_EVENT_FIELD, "field \"actor\" is not AMT, SP, SITE, AGENT or RUNNER"},
    {"{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":1,\"actor\":\"SP\",\"device\":7}",
     AMT_ERR_EVENT_FIELD, "field \"device\" is not a UUID"},
    {"{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":1,\"actor\":\"SP\",\"device\":\"abc\"}",
     AMT_ERR_EVENT_FIELD, "field \"device\" is not a UUID"},
    {"{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":1,\"actor\":\"SP\"}",
     AMT_ERR_EVENT_FIELD, "field \"id\" missing or not a string"},
    {"{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":1,\"actor\":\"SP\",\"id\":\"oob\"}",
     AMT_ERR_EVENT_FIELD, "field \"id\" is neither a catalogue ID nor an X- ID"},
    {"{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":1,\"actor\":\"SP\",\"id\":\"OOB-1\"}",
     AMT_ERR_EVENT_FIELD, "field \"result\" missing or not a string"},
    {"{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":1,\"actor\":\"SP\",\"id\":\"OOB-1\","
     "\"result\":\"good\"}",
     AMT_ERR_EVENT_FIELD, "field \"result\" is not ok, fail, discard, skip or info"},
    {"{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":1,\"actor\":\"SP\",\"id\":\"OOB-1\","
     "\"result\":\"ok\",\"detail\":[]}",
     AMT_ERR_EVENT_FIELD, "field \"detail\" is not an object"},
    {"{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":1,\"actor\":\"SP\",\"id\":\"OOB-1\","
     "\"result\":\"ok\",\"detail\":{\"user\":{\"password\":\"x\"}}}",
     AMT_ERR_EVENT_SECRET, "detail key \"password\" names a secret"},
    {"{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":1,\"actor\":\"SP\",\"id\":\"OOB-1\","
     "\"result\":\"ok\",\"detail\":{\"list\":[{\"otp\":1}]}}",
     AMT_ERR_EVENT_SECRET, "detail key \"otp\" names a secret"},
    {"{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":1,\"actor\":\"SP\",\"id\":\"OOB-1\","
     "\"result\":\"fail\",\"detail\":{}}",
     AMT_ERR_EVENT_FIELD, "a fail without detail.reason"},
    {"{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":1,\"actor\":\"SP\",\"id\":\"OOB-1\","
     "\"result\":\"fail\"}",
     AMT_ERR_EVENT_FIELD, "a fail without detail.reason"},
    {"{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":1,\"actor\":\"SP\",\"id\":\"OOB-1\","
     "\"result\":\"fail\",\"detail\":{\"reason\":\"Bad Reason\"}}",
     AMT_ERR_EVENT_FIELD, "detail.reason is not a kebab-case word"},
    {"{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":1,\"actor\":\"SP\",\"id\":\"OOB-1\","
     "\"result\":\"ok\",\"detail\":{\"reason\":5}}",
     AMT_ERR_EVENT_FIELD, "detail.reason is not a kebab-case word"},
    {"{\"ts\":\"2026-11-22T01:02:03.456Z\",\"ts\":\"2026-11-22T01:02:03.456Z\"}",
     AMT_ERR_JSON_DUPLICATE_KEY, "malformed JSON at column 34: duplicate key"},
    {"{\"ts\":", AMT_ERR_JSON_SYNTAX, "malformed JSON at column 7: expected a value"},
    {"", AMT_ERR_JSON_SYNTAX, "empty line"},
    {"\r", AMT_ERR_JSON_SYNTAX, "empty line"},
};

static void
test_parse_line_refusals(void)
{
    for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
        struct evlog_event ev;
        char why[256];
        int r = evlog_parse_line(bad_lines[i].line, strlen(bad_lines[i].line), &ev, why,
                                 sizeof(why));

        if (r != bad_lines[i].code || strcmp(why, bad_lines[i].why) != 0)
            fprintf(stderr, "line %zu: got %d \"%s\", want %d \"%s\"\n", i, r, why,
                    bad_lines[i].code, bad_lines[i].why);
        CU_ASSERT_EQUAL(r, bad_lines[i].code);
        CU_ASSERT_STRING_EQUAL(why, bad_lines[i].why);
        CU_ASSERT_PTR_NULL(ev.json);
        CU_ASSERT_PTR_NULL(ev.detail);
    }
}

static void
test_parse_line_tolerance(void)
{
    struct evlog_event ev;
    char *big;
    const char *ok =
        "{\"extra\":[1],\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":0,"
        "\"actor\":\"AGENT\",\"device\":\"" UUID_UPPER "\",\"id\":\"IB-2\","
        "\"result\":\"discard\",\"detail\":{\"reason\":\"agent-present\"}}\r";
    const char *empty_device = "{\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":0,"
                               "\"actor\":\"SITE\",\"device\":\"\",\"id\":\"X-a\","
                               "\"result\":\"ok\"}";

    CU_ASSERT_EQUAL(evlog_parse_line(ok, strlen(ok), &ev, NULL, 0), 0);
    CU_ASSERT_STRING_EQUAL(ev.device, UUID);
    CU_ASSERT_STRING_EQUAL(ev.reason, "agent-present");
    CU_ASSERT_EQUAL(ev.result, EVLOG_RESULT_DISCARD);
    evlog_event_clear(&ev);
    CU_ASSERT_EQUAL(evlog_parse_line(empty_device, strlen(empty_device), &ev, NULL, 0),
                    0);
    CU_ASSERT_STRING_EQUAL(ev.device, "");
    CU_ASSERT_PTR_NULL(ev.detail);
    CU_ASSERT_EQUAL(json_count(ev.detail), 0);
    evlog_event_clear(&ev);

    CU_ASSERT_EQUAL(evlog_parse_line(NULL, 0, &ev, NULL, 0), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(evlog_parse_line("{}", 2, NULL, NULL, 0), AMT_ERR_INVALID_ARGUMENT);
    big = calloc(1, EVLOG_LINE_MAX + 2);
    CU_ASSERT_EQUAL(evlog_parse_line(big, EVLOG_LINE_MAX + 1, &ev, NULL, 0),
                    AMT_ERR_EVENT_LINE_TOO_LONG);
    free(big);
}

static CU_TestInfo evlog_tests[] = {
    {"actor and result names", test_names},
    {"id form", test_id_form},
    {"reason form", test_reason_form},
    {"secret keys", test_secret_keys},
    {"NULL log is a no-op", test_null_log_is_a_no_op},
    {"line format and file mode", test_line_format},
    {"write and read back", test_round_trip},
    {"every emit refusal writes nothing", test_emit_refusals},
    {"open failures", test_open_failures},
    {"write failure", test_write_failure},
    {"open_fd on a pipe", test_open_fd_pipe},
    {"parallel writers keep lines whole", test_parallel_writers},
    {"incomplete last line", test_reader_incomplete_last_line},
    {"reader position", test_reader_position},
    {"malformed lines", test_reader_malformed_lines},
    {"read_file callback stops", test_read_file_callback_stops},
    {"over-long line", test_reader_long_line},
    {"parse_line refusals", test_parse_line_refusals},
    {"parse_line tolerance", test_parse_line_tolerance},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"evlog", NULL, suite_cleanup, NULL, NULL, evlog_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_evlog", suites);
}
