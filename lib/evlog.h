/*
 * The event log (spec/interfaces.md): JSON Lines, one protocol fact a line,
 *
 *   {"ts":"2026-11-22T01:02:03.456Z","vt":75.250,"actor":"SP","device":"<uuid>",
 *    "id":"OOB-4.2","result":"ok","detail":{"status":401}}
 *
 * Writing. Each event is one write() of its whole line on a descriptor opened with
 * O_APPEND, so lines from many threads or processes never mix, and a line is in
 * the file (not in a stdio buffer) when evlog_emit returns; it is not fsync'd, so a
 * machine crash may lose the last lines, a program crash does not. A NULL log means
 * "no event log": emitting to it does nothing and succeeds.
 *
 * What the writer enforces, and the reader checks in logs from any program:
 *  - actor: AMT, SP, SITE, AGENT; and RUNNER, this project's extension for the
 *    scenario runner's own events.
 *  - device: a UUID, written in lower case; an event about no device leaves the
 *    field out (the reader also takes "" as no device).
 *  - id: a catalogue ID, words of upper-case letters and digits joined by '-'
 *    (a letter first, two words at least), then any ".number" parts ("OOB-4.2",
 *    "PORT-16993", "PKI-CA-KEYLEN"); or the project's own, "X-" and dot-separated
 *    words of letters, digits and '-' ("X-sim.flash-load"). At most EVLOG_ID_MAX
 *    bytes.
 *  - result: ok, fail, discard, skip, info. A fail carries detail.reason, and any
 *    reason is a kebab-case word: lower-case letters and digits in parts joined by
 *    single '-' ("port-16993-unreachable").
 *  - detail: a flat object. Keys are lower-case words of letters and digits joined
 *    by '-' or '_', each key at most once.
 *  - Secrets never appear: a detail key that names one is refused (see
 *    evlog_key_is_secret). This catches the careless field, not a secret passed
 *    under an innocent name; values are the caller's responsibility.
 *  - A line holds at most EVLOG_LINE_MAX bytes before its newline.
 */
#ifndef AMT_EVLOG_H
#define AMT_EVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

#define EVLOG_LINE_MAX (64u * 1024)
#define EVLOG_ID_MAX 63
/* "2026-11-22T01:02:03.456Z" */
#define EVLOG_TS_LEN 24
#define EVLOG_UUID_LEN 36

enum evlog_actor {
    EVLOG_ACTOR_AMT,
    EVLOG_ACTOR_SP,
    EVLOG_ACTOR_SITE,
    EVLOG_ACTOR_AGENT,
    EVLOG_ACTOR_RUNNER,
};

enum evlog_result {
    EVLOG_RESULT_OK,
    EVLOG_RESULT_FAIL,
    EVLOG_RESULT_DISCARD,
    EVLOG_RESULT_SKIP,
    EVLOG_RESULT_INFO,
};

/* Names as written in the log; NULL for a value outside the enum. */
const char *evlog_actor_name(enum evlog_actor actor);
const char *evlog_result_name(enum evlog_result result);
/* 0 or AMT_ERR_EVENT_FIELD. */
int evlog_actor_parse(const char *name, enum evlog_actor *out);
int evlog_result_parse(const char *name, enum evlog_result *out);

bool evlog_id_valid(const char *id);
bool evlog_reason_valid(const char *reason);
/*
 * The secret rule, case ignored: a key is refused when it contains "passw",
 * "passphrase", "secret", "private" or "privkey" anywhere, or when one of its
 * words (split at anything not a letter or digit, and at a lower-to-upper case
 * change) is "otp", "pin", "pwd", "pw", "psk", "token", "key" or "keys". So
 * "admin-password", "otpHash", "session_key" are refused; "status", "root-hash",
 * "keyboard", "ping" are not. Name key properties by what they are ("rsa-bits",
 * "root-hash").
 */
bool evlog_key_is_secret(const char *key);

/* Writing */

struct evlog;

/* Appends to path, creating it with mode 0640 (less the umask). */
int evlog_open(const char *path, struct evlog **out);
/* Writes to a copy of fd (for "--events -": STDOUT_FILENO); fd stays the caller's. */
int evlog_open_fd(int fd, struct evlog **out);
void evlog_free(struct evlog *log);

enum evlog_field_type {
    EVLOG_FIELD_STR = 1,
    EVLOG_FIELD_INT,
    EVLOG_FIELD_BOOL,
    EVLOG_FIELD_DOUBLE,
    EVLOG_FIELD_HEX,
};

/* One detail member; build them with the EVLOG_STR... macros below. */
struct evlog_field {
    const char *key;
    enum evlog_field_type type;
    const char *str;
    int64_t num;
    double dbl;
    bool flag;
    const void *bytes;
    size_t nbytes;
};

/* The initialisers make a wrong value type a compile-time diagnostic. */
#define EVLOG_STR(k, v)                                                                  \
    {                                                                                    \
        .key = (k), .type = EVLOG_FIELD_STR, .str = (v)                                  \
    }
#define EVLOG_INT(k, v)                                                                  \
    {                                                                                    \
        .key = (k), .type = EVLOG_FIELD_INT, .num = (v)                                  \
    }
#define EVLOG_BOOL(k, v)                                                                 \
    {                                                                                    \
        .key = (k), .type = EVLOG_FIELD_BOOL, .flag = (v)                                \
    }
#define EVLOG_DOUBLE(k, v)                                                               \
    {                                                                                    \
        .key = (k), .type = EVLOG_FIELD_DOUBLE, .dbl = (v)                               \
    }
/* Raw bytes as lower-case hex: how bytes from the network belong in a log. */
#define EVLOG_HEX(k, p, n)                                                               \
    {                                                                                    \
        .key = (k), .type = EVLOG_FIELD_HEX, .bytes = (p), .nbytes = (n)                 \
    }
#define EVLOG_REASON(r) EVLOG_STR("reason", (r))

/*
 * Writes one event. vt is the program's virtual clock in seconds (written with
 * 3 decimals); device may be NULL. Returns 0; AMT_ERR_EVENT_FIELD for a bad actor,
 * result, device, id, vt, detail key or reason, or a fail without a reason;
 * AMT_ERR_EVENT_SECRET; AMT_ERR_JSON_UTF8 for a string that is not UTF-8;
 * AMT_ERR_EVENT_LINE_TOO_LONG; AMT_ERR_SYSTEM (errno) when the write fails.
 * Nothing is written unless the whole event is valid.
 */
int evlog_emit_fields(struct evlog *log, double vt, enum evlog_actor actor,
                      const char *device, const char *id, enum evlog_result result,
                      const struct evlog_field *fields, size_t nfields);

/*
 * The usual call, with the detail fields (zero or more) last:
 *
 *   evlog_emit(ev, vt, EVLOG_ACTOR_SP, uuid, "OOB-4.2", EVLOG_RESULT_OK,
 *              EVLOG_INT("status", 401));
 *   evlog_emit(ev, vt, EVLOG_ACTOR_SP, uuid, "OOB-2", EVLOG_RESULT_DISCARD,
 *              EVLOG_REASON("unknown-uuid"));
 *
 * The leading zero element lets the field list be empty; sizeof does not
 * evaluate the second copy of the arguments.
 */
#define evlog_emit(log, vt, actor, device, id, result, ...)                              \
    evlog_emit_fields((log), (vt), (actor), (device), (id), (result),                    \
                      (const struct evlog_field[]){{0}, __VA_ARGS__} + 1,                \
                      sizeof((const struct evlog_field[]){{0}, __VA_ARGS__}) /           \
                              sizeof(struct evlog_field) -                               \
                          1)

/* Reading */

struct evlog_event {
    char ts[EVLOG_TS_LEN + 1];
    double vt;
    enum evlog_actor actor;
    char device[EVLOG_UUID_LEN + 1]; /* lower case; "" for no device */
    char id[EVLOG_ID_MAX + 1];
    enum evlog_result result;
    /* The object, or NULL when the line had none (lookups take NULL as empty). */
    const struct json_value *detail;
    const char *reason;      /* detail.reason, or NULL */
    size_t line;             /* 1-based line number in the file */
    struct json_value *json; /* the whole line, which owns detail and reason */
};

/* Frees what an event holds and zeroes it; NULL and zeroed events are fine. */
void evlog_event_clear(struct evlog_event *ev);

/*
 * Reads one line (without its newline) into ev. Other top-level fields are
 * ignored, so that logs may grow fields. On failure ev is zeroed and why (may be
 * NULL) says what was wrong, e.g. "field \"vt\" is not a number" or "malformed
 * JSON at column 12: expected ':' after key".
 */
int evlog_parse_line(const char *line, size_t len, struct evlog_event *ev, char *why,
                     size_t whylen);

struct evlog_reader;

/* Where a reader stands: the byte offset and number of the next line. */
struct evlog_position {
    uint64_t offset;
    size_t line; /* 1-based */
};

/* Reads path from the start, or from a position an earlier reader reported. */
int evlog_reader_open(const char *path, const struct evlog_position *from,
                      struct evlog_reader **out);
void evlog_reader_free(struct evlog_reader *r);

/*
 * The next event of a file that may still be growing:
 *  - 0: ev holds it (clear it with evlog_event_clear).
 *  - AMT_ERR_EVENT_AGAIN: no complete line yet; call again later. A last line
 *    without its newline counts only once it is complete JSON, since a writer may
 *    be in the middle of it (should that line then go on, the rest of it is
 *    reported as malformed).
 *  - another code: that line was malformed (AMT_ERR_JSON_*, AMT_ERR_EVENT_*);
 *    evlog_reader_error says "path:line: why". The reader has moved past it, so a
 *    caller may count it and go on.
 *  - AMT_ERR_SYSTEM: reading failed (errno).
 */
int evlog_reader_next(struct evlog_reader *r, struct evlog_event *ev);
const char *evlog_reader_error(const struct evlog_reader *r);
void evlog_reader_position(const struct evlog_reader *r, struct evlog_position *pos);

/*
 * Calls fn for every event of a whole file, stopping at the first nonzero return
 * (which it returns). A malformed line stops the reading with its code, unless
 * malformed is non-NULL: then such lines are counted there and skipped. err (may
 * be NULL) gets the message of the first malformed line or failure. An incomplete
 * last line is taken as not yet written.
 */
int evlog_read_file(const char *path, int (*fn)(const struct evlog_event *ev, void *arg),
                    void *arg, size_t *malformed, char *err, size_t errlen);

#endif
