#include "redirection.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "clock.h"
#include "digest.h"
#include "err.h"
#include "evlog.h"

/* --- the protocol's numbers (the table in redirection.h) --- */

enum {
    CMD_START = 0x10,
    CMD_START_REPLY = 0x11,
    CMD_END = 0x12,
    CMD_AUTH = 0x13,
    CMD_AUTH_REPLY = 0x14,
    CMD_SOL_START = 0x20,
    CMD_SOL_START_REPLY = 0x21,
    CMD_SOL_END = 0x22,
    CMD_SOL_END_REPLY = 0x23,
    CMD_SOL_PING = 0x24,
    CMD_SOL_PONG = 0x25,
    CMD_SOL_CONTROLS_TO_HOST = 0x27,
    CMD_SOL_DATA_TO_HOST = 0x28,
    CMD_SOL_CONTROLS_FROM_HOST = 0x29,
    CMD_SOL_DATA_FROM_HOST = 0x2A,
    CMD_SOL_HEARTBEAT = 0x2B,
    CMD_IDER_START = 0x40,
    CMD_IDER_START_REPLY = 0x41,
    CMD_IDER_END = 0x42,
    CMD_IDER_END_REPLY = 0x43,
    CMD_IDER_PING = 0x44,
    CMD_IDER_PONG = 0x45,
    CMD_IDER_RESET_RESPONSE = 0x47,
    CMD_IDER_FEATURES = 0x48,
    CMD_IDER_FEATURES_REPLY = 0x49,
    CMD_IDER_HEARTBEAT = 0x4B,
    CMD_IDER_COMMAND_END = 0x51,
    CMD_IDER_GET_DATA = 0x52,
};

enum {
    START_OK = 0,
    START_TYPE_UNKNOWN = 1,
    START_BUSY = 2,
    START_UNSUPPORTED = 3,
};

enum {
    AUTH_OK = 0,
    AUTH_FAIL = 1,
    AUTH_UNSUPPORTED = 2,
};

enum {
    METHOD_QUERY = 0,
    METHOD_PASSWORD = 1,
    METHOD_DIGEST = 4,
};

#define LEN_START 8
#define LEN_START_REPLY 13
#define LEN_END 4
#define LEN_AUTH_HEADER 9
#define LEN_SOL_START 24
#define LEN_SOL_START_REPLY 23
#define LEN_SEQ_ONLY 8 /* 22 23 24 25 2B 42 43 44 45 47 4B */
#define LEN_SOL_CONTROLS_TO_HOST 14
#define LEN_SOL_CONTROLS_FROM_HOST 10
#define LEN_DATA_HEADER 10 /* 28 2A */
#define LEN_IDER_START 18
#define LEN_IDER_START_REPLY 30
#define LEN_IDER_FEATURES 13
#define LEN_IDER_COMMAND 31 /* 51 52 */

#define PROTOCOL_MAJOR 1
#define PROTOCOL_MINOR 0
#define IANA_INTEL 343
/* status bit of 29: the host is powered on */
#define HOST_POWER_ON 0x04
/* IDE-R feature subcommands of 48 */
#define IDER_GET_SUPPORTED 0x01
#define IDER_SET_REGISTER_STATE 0x03
#define IDER_FEATURE_ENABLE 0x01
#define IDER_BUFFER 8192

/* --- caps on what a client sends, and on what waits for it --- */

#define SOL_DATA_MAX 2048
#define AUTH_DATA_MAX 512
#define IN_MAX                                                                           \
    4096 /* one whole message (at most 2058 bytes) and the next one's start              \
          */
#define USER_MAX 16
#define PASSWORD_MAX 32
#define REALM_MAX (DIGEST_AMT_REALM_SIZE - 1)
#define NONCE_MAX 64
#define URI_MAX 128
#define CNONCE_MAX 64
#define NC_MAX 16
#define RESPONSE_MAX DIGEST_MD5_HEX_LEN
#define QOP_MAX 16
#define NONCE_BYTES 16
#define OUT_MAX (64 * 1024)
#define OUT_CHUNK 1024 /* console output per 2A, at most */
#define HOST_LINE_MAX 255
/* failed logons on one connection before it is closed; challenges twice that */
#define AUTH_TRIES 3
#define READS_PER_WAKE 32
#define TICK 1.0
#define HEARTBEAT_MIN 1.0
#define RX_TIMEOUT_MIN 1.0

#define PROMPT "sol> "
#define AUTH_URI_QOP "auth"

#define EVENT_PLAIN_START "X-sim.redirection"
#define EVENT_TLS_START "PORT-16995"

/* --- state --- */

struct outmsg {
    struct outmsg *next;
    size_t len;
    size_t off;
    bool solo; /* amtterm takes it as the whole of one read */
    unsigned char data[];
};

enum phase {
    PH_START, /* waiting for 10 */
    PH_AUTH,  /* started, waiting for 13 */
    PH_READY, /* authenticated, waiting for 20 or 40 */
    PH_SOL,
    PH_IDER,
    PH_ENDED, /* SOL or IDE-R has ended; only 12 is left */
};

enum kind {
    KIND_NONE,
    KIND_SOL,
    KIND_IDER,
};

struct rconn {
    struct sim_redir *rd;
    struct sim_device *dev;
    struct rconn *prev, *next;
    int fd;
    SSL *ssl;
    unsigned port;
    char peer[32];
    struct loop_watch *watch;
    uint32_t watching;
    struct loop_timer *idle_timer, *gap_timer, *tick_timer, *kick_timer;
    enum phase phase;
    enum kind kind;
    bool holds_kind; /* the device's one session of its kind */
    bool done;       /* ended: freed when the running callback settles */
    bool closing;    /* ends once what is queued is out */
    enum evlog_result closing_result;
    const char *closing_cause;
    int bad_command; /* the byte that ended it, or -1 */
    bool held;       /* a solo reply went out: nothing more until the gap is over */
    bool write_blocked, write_wants_read, read_wants_write;
    double opened, last_rx, idle;
    unsigned auth_failures, challenges;
    char nonce[2 * NONCE_BYTES + 1]; /* "" when none is open */
    uint32_t seq;
    /* the console */
    size_t max_tx;
    double heartbeat, last_heartbeat;
    bool host_on; /* what the console was last told */
    bool last_cr;
    char line[HOST_LINE_MAX + 1];
    size_t line_len;
    uint32_t ider_features;
    uint64_t bytes_in, bytes_out, keystroke_bytes;
    unsigned char in[IN_MAX];
    size_t in_len;
    struct outmsg *out_head, *out_tail;
    size_t out_bytes;
};

struct sim_redir {
    struct amt_loop *loop;
    struct sim_net *net;
    struct sim_redir_options opt;
    struct rconn *conns;
};

/* Events with the connection's port and peer first. */
#define REDIR_EVENT(c, id, result, ...)                                                  \
    sim_net_event((c)->dev, (id), (result), EVLOG_INT("port", (c)->port),                \
                  EVLOG_STR("peer", (c)->peer), __VA_ARGS__)

/* --- small helpers --- */

static uint16_t
get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void
put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)((v >> 8) & 0xff);
}

static void
put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)((v >> (8 * i)) & 0xff);
}

static double
now(const struct rconn *c)
{
    return loop_now(c->rd->loop);
}

static const char *
kind_name(enum kind k)
{
    return k == KIND_SOL ? "sol" : k == KIND_IDER ? "ider" : "none";
}

static int
md5_hex(const void *data, size_t len, char out[DIGEST_MD5_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16) {
        ERR_clear_error();
        return AMT_ERR_CRYPTO;
    }
    for (unsigned i = 0; i < 16; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0x0f];
    }
    out[DIGEST_MD5_HEX_LEN] = '\0';
    OPENSSL_cleanse(md, sizeof(md));
    return 0;
}

/* The gap in the loop's virtual time: reply_gap is in real seconds. */
static double
gap_virtual(const struct sim_redir *rd)
{
    double real_per_virtual = clock_real_delay(loop_clock(rd->loop), 1.0);

    return real_per_virtual > 0 ? rd->opt.reply_gap / real_per_virtual
                                : rd->opt.reply_gap;
}

/* --- ending --- */

/* Says how the session ended, once; the connection is freed when settled. */
static void
conn_end(struct rconn *c, enum evlog_result result, const char *cause)
{
    struct evlog_field f[9];
    size_t n = 0;

    if (c->done)
        return;
    c->done = true;
    if (c->phase == PH_SOL)
        REDIR_EVENT(c, "X-sim.redirection.sol-stop", EVLOG_RESULT_INFO,
                    EVLOG_STR("cause", cause),
                    EVLOG_INT("keystroke-bytes", (int64_t)c->keystroke_bytes));
    else if (c->phase == PH_IDER)
        REDIR_EVENT(c, "X-sim.redirection.ider-stop", EVLOG_RESULT_INFO,
                    EVLOG_STR("cause", cause));
    f[n++] = (struct evlog_field)EVLOG_INT("port", c->port);
    f[n++] = (struct evlog_field)EVLOG_STR("peer", c->peer);
    /* a failure's cause is its reason too, so that both queries find it */
    if (result == EVLOG_RESULT_FAIL)
        f[n++] = (struct evlog_field)EVLOG_REASON(cause);
    f[n++] = (struct evlog_field)EVLOG_STR("cause", cause);
    f[n++] = (struct evlog_field)EVLOG_STR("session", kind_name(c->kind));
    if (c->bad_command >= 0)
        f[n++] = (struct evlog_field)EVLOG_INT("command", c->bad_command);
    f[n++] = (struct evlog_field)EVLOG_INT("ms", (int64_t)((now(c) - c->opened) * 1000));
    f[n++] = (struct evlog_field)EVLOG_INT("bytes-in", (int64_t)c->bytes_in);
    f[n++] = (struct evlog_field)EVLOG_INT("bytes-out", (int64_t)c->bytes_out);
    sim_net_event_fields(c->dev, "X-sim.redirection.end", result, f, n);
}

static void
conn_refuse(struct rconn *c, const char *reason, int command)
{
    c->bad_command = command;
    conn_end(c, EVLOG_RESULT_FAIL, reason);
}

/* Ends the session once the replies queued so far are out. */
static void
conn_close_after(struct rconn *c, enum evlog_result result, const char *cause)
{
    if (c->closing)
        return;
    c->closing = true;
    c->closing_result = result;
    c->closing_cause = cause;
}

/*
 * Input left unread when a socket closes makes the kernel send a reset, which may
 * destroy the last reply before the client has read it.
 */
static void
drain(int fd)
{
    char buf[4096];

    for (int i = 0; i < 16 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; i++)
        ;
}

static void
conn_destroy(struct rconn *c)
{
    struct sim_redir *rd = c->rd;
    struct amt_loop *loop = rd->loop;

    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        rd->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    loop_timer_cancel(loop, c->idle_timer);
    loop_timer_cancel(loop, c->gap_timer);
    loop_timer_cancel(loop, c->tick_timer);
    loop_timer_cancel(loop, c->kick_timer);
    loop_unwatch(loop, c->watch);
    while (c->out_head != NULL) {
        struct outmsg *m = c->out_head;

        c->out_head = m->next;
        free(m);
    }
    if (c->ssl != NULL) {
        /* a close_notify when the socket takes it; nothing waits for the answer */
        ERR_clear_error();
        SSL_shutdown(c->ssl);
        ERR_clear_error();
        SSL_free(c->ssl);
    }
    if (c->fd >= 0) {
        drain(c->fd);
        close(c->fd);
    }
    /* the input may have held a password */
    OPENSSL_cleanse(c, sizeof(*c));
    free(c);
}

/* --- output --- */

/* Room for one message of len bytes at the end of the queue; NULL ends the session. */
static unsigned char *
queue(struct rconn *c, size_t len, bool solo)
{
    struct outmsg *m;

    if (c->done)
        return NULL;
    if (c->out_bytes + len > OUT_MAX) {
        conn_end(c, EVLOG_RESULT_FAIL, "output-overflow");
        return NULL;
    }
    if ((m = calloc(1, sizeof(*m) + len)) == NULL) {
        fprintf(stderr, "amt-sim: %s: %s\n", __func__, amt_strerror(AMT_ERR_ALLOC));
        conn_end(c, EVLOG_RESULT_FAIL, "out-of-memory");
        return NULL;
    }
    m->len = len;
    m->solo = solo;
    if (c->out_tail != NULL)
        c->out_tail->next = m;
    else
        c->out_head = m;
    c->out_tail = m;
    c->out_bytes += len;
    return m->data;
}

/* A message of only a command byte and a sequence number. */
static void
queue_seq(struct rconn *c, unsigned cmd, uint32_t seq, bool solo)
{
    unsigned char *m = queue(c, LEN_SEQ_ONLY, solo);

    if (m == NULL)
        return;
    m[0] = (unsigned char)cmd;
    put32(m + 4, seq);
}

static void gap_over(struct amt_loop *loop, void *arg);

/* A solo reply is out: whatever follows waits, so that no read returns both. */
static void
hold(struct rconn *c)
{
    if (loop_timer_at(c->rd->loop, now(c) + gap_virtual(c->rd), gap_over, c,
                      &c->gap_timer) == 0)
        c->held = true;
}

static bool
peer_gone_errno(int e)
{
    return e == EPIPE || e == ECONNRESET;
}

/* One write per message, until the socket is full or a solo reply holds the rest. */
static void
flush(struct rconn *c)
{
    while (!c->done && !c->held && c->out_head != NULL) {
        struct outmsg *m = c->out_head;

        if (c->ssl != NULL) {
            int n, err;

            ERR_clear_error();
            n = SSL_write(c->ssl, m->data, (int)m->len);
            if (n <= 0) {
                err = SSL_get_error(c->ssl, n);
                c->write_wants_read = err == SSL_ERROR_WANT_READ;
                if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
                    c->write_blocked = true;
                    return;
                }
                ERR_clear_error();
                if (err == SSL_ERROR_SYSCALL && peer_gone_errno(errno))
                    conn_end(c, EVLOG_RESULT_INFO, "peer-closed");
                else
                    conn_end(c, EVLOG_RESULT_FAIL, "io-error");
                return;
            }
            m->off = m->len;
        } else {
            ssize_t n = send(c->fd, m->data + m->off, m->len - m->off, MSG_NOSIGNAL);

            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                    c->write_blocked = true;
                    return;
                }
                if (peer_gone_errno(errno))
                    conn_end(c, EVLOG_RESULT_INFO, "peer-closed");
                else
                    conn_end(c, EVLOG_RESULT_FAIL, "io-error");
                return;
            }
            m->off += (size_t)n;
            if (m->off < m->len)
                continue;
        }
        c->write_blocked = false;
        c->write_wants_read = false;
        c->bytes_out += m->len;
        c->out_bytes -= m->len;
        c->out_head = m->next;
        if (c->out_head == NULL)
            c->out_tail = NULL;
        if (m->solo)
            hold(c);
        free(m);
    }
}

static void
rearm(struct rconn *c)
{
    uint32_t want = 0;

    if (!c->closing || c->write_wants_read)
        want |= EPOLLIN;
    if ((c->out_head != NULL && !c->held && c->write_blocked) || c->read_wants_write)
        want |= EPOLLOUT;
    if (want != c->watching && loop_watch_modify(c->rd->loop, c->watch, want) == 0)
        c->watching = want;
}

/* The end of every callback: write what waits, then free or wait again. */
static void
settle(struct rconn *c)
{
    if (!c->done)
        flush(c);
    if (!c->done && c->closing && c->out_head == NULL)
        conn_end(c, c->closing_result, c->closing_cause);
    if (c->done) {
        conn_destroy(c);
        return;
    }
    rearm(c);
}

/* --- the simulated host behind the serial port --- */

/* Console output, cut into 2A messages of the size the client takes. */
static void
host_write(struct rconn *c, const char *text, size_t len)
{
    while (len > 0 && !c->done) {
        size_t n = len < c->max_tx ? len : c->max_tx;
        unsigned char *m = queue(c, LEN_DATA_HEADER + n, false);

        if (m == NULL)
            return;
        m[0] = CMD_SOL_DATA_FROM_HOST;
        put32(m + 4, c->seq++);
        put16(m + 8, (unsigned)n);
        memcpy(m + LEN_DATA_HEADER, text, n);
        text += n;
        len -= n;
    }
}

struct textbuf {
    char b[OUT_CHUNK];
    size_t n;
};

static void
tb_put(struct rconn *c, struct textbuf *tb, const char *s, size_t len)
{
    while (len > 0) {
        size_t take = sizeof(tb->b) - tb->n;

        if (take > len)
            take = len;
        memcpy(tb->b + tb->n, s, take);
        tb->n += take;
        s += take;
        len -= take;
        if (tb->n == sizeof(tb->b)) {
            host_write(c, tb->b, tb->n);
            tb->n = 0;
        }
    }
}

static void
tb_puts(struct rconn *c, struct textbuf *tb, const char *s)
{
    tb_put(c, tb, s, strlen(s));
}

static void
host_banner(struct rconn *c)
{
    const char *host = sim_device_host_name(c->dev);
    char text[512];
    int n;

    n = snprintf(text, sizeof(text),
                 "\r\namt-sim %s serial console\r\n"
                 "Intel(R) AMT %s Serial-over-LAN, host %s\r\n"
                 "Each line you type is echoed back.\r\n\r\n" PROMPT,
                 AMT_PROJECT_VERSION, sim_device_profile(c->dev)->text,
                 host != NULL && *host != '\0' ? host : sim_device_uuid_text(c->dev));
    if (n > 0)
        host_write(c, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
    c->line_len = 0;
    c->last_cr = false;
}

/* 29: the control lines and the power state, as the host's UART reports them. */
static void
host_tell_power(struct rconn *c)
{
    unsigned char *m = queue(c, LEN_SOL_CONTROLS_FROM_HOST, true);

    if (m == NULL)
        return;
    m[0] = CMD_SOL_CONTROLS_FROM_HOST;
    put32(m + 4, c->seq++);
    m[8] = 0;
    m[9] = c->host_on ? HOST_POWER_ON : 0;
}

/*
 * A terminal on the host side: characters echo as they are typed, backspace erases,
 * Enter answers the line. Bytes other than these and printable ones are dropped.
 */
static void
host_input(struct rconn *c, const unsigned char *data, size_t len)
{
    struct textbuf tb = {.n = 0};

    for (size_t i = 0; i < len && !c->done; i++) {
        unsigned char ch = data[i];
        bool was_cr = c->last_cr;

        c->last_cr = ch == '\r';
        if (ch == '\n' && was_cr)
            continue;
        if (ch == '\r' || ch == '\n') {
            tb_puts(c, &tb, "\r\nyou typed: ");
            tb_put(c, &tb, c->line, c->line_len);
            tb_puts(c, &tb, "\r\n" PROMPT);
            c->line_len = 0;
        } else if (ch == 0x7f || ch == 0x08) {
            if (c->line_len > 0) {
                c->line_len--;
                tb_puts(c, &tb, "\b \b");
            }
        } else if (ch == 0x03) {
            tb_puts(c, &tb, "^C\r\n" PROMPT);
            c->line_len = 0;
        } else if (ch >= 0x20 && c->line_len < HOST_LINE_MAX) {
            c->line[c->line_len++] = (char)ch;
            tb_put(c, &tb, (const char *)&ch, 1);
        }
    }
    if (tb.n > 0)
        host_write(c, tb.b, tb.n);
    OPENSSL_cleanse(&tb, sizeof(tb));
}

/*
 * AMT sends heartbeats at the interval the console asked for; amtterm answers each
 * and, without one, gives up after 20 s of silence on an idle console.
 */
static void
heartbeat_due(struct rconn *c, unsigned cmd)
{
    if (c->heartbeat > 0 && now(c) - c->last_heartbeat >= c->heartbeat) {
        c->last_heartbeat = now(c);
        queue_seq(c, cmd, c->seq++, false);
    }
}

/* The device has no callback for power changes: a tick a virtual second sees them. */
static void
tick(struct amt_loop *loop, void *arg)
{
    struct rconn *c = arg;

    c->tick_timer = NULL;
    if (c->phase == PH_SOL) {
        bool on = sim_device_power(c->dev) == SIM_POWER_ON;

        if (on != c->host_on) {
            c->host_on = on;
            REDIR_EVENT(c, "X-sim.redirection.host-power", EVLOG_RESULT_INFO,
                        EVLOG_STR("power", on ? "on" : "off"));
            host_tell_power(c);
            if (on)
                host_banner(c);
        }
        heartbeat_due(c, CMD_SOL_HEARTBEAT);
    } else if (c->phase == PH_IDER) {
        heartbeat_due(c, CMD_IDER_HEARTBEAT);
    }
    if (!c->done && (c->phase == PH_SOL || c->phase == PH_IDER))
        loop_timer_at(loop, now(c) + TICK, tick, c, &c->tick_timer);
    settle(c);
}

static void
start_ticking(struct rconn *c)
{
    loop_timer_cancel(c->rd->loop, c->tick_timer);
    c->tick_timer = NULL;
    c->last_heartbeat = now(c);
    loop_timer_at(c->rd->loop, now(c) + TICK, tick, c, &c->tick_timer);
}

/* --- timers --- */

static void
idle_check(struct amt_loop *loop, void *arg)
{
    struct rconn *c = arg;
    double deadline = c->last_rx + c->idle;

    c->idle_timer = NULL;
    if (now(c) < deadline) {
        if (loop_timer_at(loop, deadline, idle_check, c, &c->idle_timer) != 0)
            conn_end(c, EVLOG_RESULT_FAIL, "out-of-memory");
    } else {
        conn_end(c, EVLOG_RESULT_FAIL, "idle-timeout");
    }
    settle(c);
}

static void
set_idle(struct rconn *c, double seconds)
{
    c->idle = seconds;
    loop_timer_cancel(c->rd->loop, c->idle_timer);
    c->idle_timer = NULL;
    if (loop_timer_at(c->rd->loop, c->last_rx + c->idle, idle_check, c, &c->idle_timer) !=
        0)
        conn_end(c, EVLOG_RESULT_FAIL, "out-of-memory");
}

static void
gap_over(struct amt_loop *loop, void *arg)
{
    struct rconn *c = arg;

    c->gap_timer = NULL;
    c->held = false;
    settle(c);
}

/* --- session start (10) --- */

static bool
kind_busy(const struct rconn *self)
{
    for (const struct rconn *o = self->rd->conns; o != NULL; o = o->next)
        if (o != self && o->dev == self->dev && o->holds_kind && o->kind == self->kind)
            return true;
    return false;
}

static void
on_start(struct rconn *c, const unsigned char *p)
{
    const struct sim_profile *profile = sim_device_profile(c->dev);
    const char *id = c->ssl != NULL ? EVENT_TLS_START : EVENT_PLAIN_START;
    const char *reason = NULL;
    unsigned status = START_OK;
    unsigned char *m;

    if (memcmp(p + 4, "SOL ", 4) == 0) {
        c->kind = KIND_SOL;
        if (!sim_device_switch(c->dev, SIM_SWITCH_SOL)) {
            status = START_UNSUPPORTED;
            reason = "sol-disabled";
        }
    } else if (memcmp(p + 4, "IDER", 4) == 0) {
        c->kind = KIND_IDER;
        if (!sim_device_switch(c->dev, SIM_SWITCH_IDER)) {
            status = START_UNSUPPORTED;
            reason = "ider-disabled";
        }
    } else if (memcmp(p + 4, "KVMR", 4) == 0) {
        status = START_UNSUPPORTED;
        reason = "kvm-unsupported";
    } else {
        status = START_TYPE_UNKNOWN;
        reason = "unknown-session-type";
    }
    if (status == START_OK && kind_busy(c)) {
        status = START_BUSY;
        reason = "busy";
    }

    /* amtterm reads exactly these 13 bytes, whatever the status */
    if ((m = queue(c, LEN_START_REPLY, false)) == NULL)
        return;
    m[0] = CMD_START_REPLY;
    m[1] = (unsigned char)status;
    m[4] = PROTOCOL_MAJOR;
    m[5] = PROTOCOL_MINOR;
    m[6] = (unsigned char)(profile->version.major > 255 ? 255 : profile->version.major);
    m[7] = (unsigned char)(profile->version.minor > 255 ? 255 : profile->version.minor);
    put32(m + 8, IANA_INTEL);
    m[12] = 0;

    if (status != START_OK) {
        REDIR_EVENT(c, id, EVLOG_RESULT_FAIL, EVLOG_REASON(reason),
                    EVLOG_HEX("type", p + 4, 4), EVLOG_INT("status", status),
                    EVLOG_BOOL("tls", c->ssl != NULL));
        conn_close_after(c, EVLOG_RESULT_INFO, "start-refused");
        return;
    }
    REDIR_EVENT(c, id, EVLOG_RESULT_OK, EVLOG_STR("session", kind_name(c->kind)),
                EVLOG_BOOL("tls", c->ssl != NULL));
    c->holds_kind = true;
    c->phase = PH_AUTH;
}

/* --- authentication (13) --- */

static void
auth_reply(struct rconn *c, unsigned status, unsigned method, const unsigned char *data,
           size_t len)
{
    unsigned char *m = queue(c, LEN_AUTH_HEADER + len, true);

    if (m == NULL)
        return;
    m[0] = CMD_AUTH_REPLY;
    m[1] = (unsigned char)status;
    m[4] = (unsigned char)method;
    put32(m + 5, (uint32_t)len);
    if (len > 0)
        memcpy(m + LEN_AUTH_HEADER, data, len);
}

static const char *
method_name(unsigned method)
{
    return method == METHOD_PASSWORD ? "password" : "digest";
}

static void
auth_ok(struct rconn *c, unsigned method, const char *user)
{
    sim_device_auth_succeeded(c->dev);
    REDIR_EVENT(c, "X-sim.redirection.auth", EVLOG_RESULT_OK, EVLOG_STR("user", user),
                EVLOG_STR("method", method_name(method)),
                EVLOG_STR("session", kind_name(c->kind)));
    auth_reply(c, AUTH_OK, method, NULL, 0);
    c->phase = PH_READY;
}

/* counted: a guess at the credentials, which moves the device towards lockout */
static void
auth_fail(struct rconn *c, unsigned method, const char *user, const char *reason,
          bool counted)
{
    if (counted)
        sim_device_auth_failed(c->dev);
    REDIR_EVENT(c, "X-sim.redirection.auth", EVLOG_RESULT_FAIL, EVLOG_REASON(reason),
                EVLOG_STR("user", user), EVLOG_STR("method", method_name(method)),
                EVLOG_BOOL("counted", counted));
    auth_reply(c, AUTH_FAIL, method, NULL, 0);
    if (++c->auth_failures >= AUTH_TRIES || strcmp(reason, "locked-out") == 0)
        conn_close_after(c, EVLOG_RESULT_INFO, "auth-refused");
}

/*
 * The user's stored HA1 and rights, or why not. Returns false with *reason set when
 * the user cannot log on whatever the proof.
 */
static bool
user_ha1(struct rconn *c, const char *user, unsigned char ha1[16], unsigned *rights,
         const char **reason)
{
    if (sim_device_locked_out(c->dev)) {
        *reason = "locked-out";
        return false;
    }
    if (sim_device_user_ha1(c->dev, user, ha1, rights) != 0) {
        *reason = "unknown-user";
        return false;
    }
    return true;
}

/* One length-prefixed string of an authentication body. */
struct field {
    const unsigned char *p;
    size_t len;
};

/* Reads n fields; false when they do not fill the body exactly. */
static bool
read_fields(const unsigned char *data, size_t len, struct field *f, size_t n)
{
    size_t off = 0;

    for (size_t i = 0; i < n; i++) {
        if (off >= len || data[off] > len - off - 1)
            return false;
        f[i].len = data[off];
        f[i].p = data + off + 1;
        if (memchr(f[i].p, '\0', f[i].len) != NULL)
            return false;
        off += 1 + f[i].len;
    }
    return off == len;
}

static void
field_copy(char *dst, const struct field *f)
{
    memcpy(dst, f->p, f->len);
    dst[f->len] = '\0';
}

/*
 * Method 1. The body we read is
 *   05 'a' 'd' 'm' 'i' 'n' 10 'P' '@' 's' 's' 'w' '0' 'r' 'd' '-' ... (password)
 */
static void
auth_password(struct rconn *c, const unsigned char *data, size_t len)
{
    struct field f[2];
    char user[USER_MAX + 1], password[PASSWORD_MAX + 1], buf[192], got[33], want[33];
    unsigned char ha1[16];
    unsigned rights = 0;
    const char *reason = NULL;
    int n;

    if (len >= 1 && data[0] > USER_MAX) {
        conn_refuse(c, "user-too-long", CMD_AUTH);
        return;
    }
    if (len >= 2u + data[0] && data[1 + data[0]] > PASSWORD_MAX) {
        conn_refuse(c, "password-too-long", CMD_AUTH);
        return;
    }
    if (!read_fields(data, len, f, 2)) {
        conn_refuse(c, "malformed-auth", CMD_AUTH);
        return;
    }
    field_copy(user, &f[0]);
    field_copy(password, &f[1]);
    if (!user_ha1(c, user, ha1, &rights, &reason)) {
        auth_fail(c, METHOD_PASSWORD, user, reason, strcmp(reason, "unknown-user") == 0);
        goto out;
    }
    n = snprintf(buf, sizeof(buf), "%s:%s:%s", user, sim_device_realm(c->dev), password);
    if (n < 0 || (size_t)n >= sizeof(buf) || md5_hex(buf, (size_t)n, got) != 0) {
        auth_fail(c, METHOD_PASSWORD, user, "wrong-password", true);
        goto out;
    }
    for (int i = 0; i < 16; i++)
        snprintf(want + 2 * i, 3, "%02x", ha1[i]);
    if (CRYPTO_memcmp(got, want, DIGEST_MD5_HEX_LEN) != 0) {
        auth_fail(c, METHOD_PASSWORD, user, "wrong-password", true);
        goto out;
    }
    if (!(rights & SIM_RIGHT_REDIRECTION)) {
        auth_fail(c, METHOD_PASSWORD, user, "no-right", false);
        goto out;
    }
    auth_ok(c, METHOD_PASSWORD, user);
out:
    OPENSSL_cleanse(password, sizeof(password));
    OPENSSL_cleanse(buf, sizeof(buf));
    OPENSSL_cleanse(got, sizeof(got));
    OPENSSL_cleanse(want, sizeof(want));
    OPENSSL_cleanse(ha1, sizeof(ha1));
}

enum {
    DF_USER,
    DF_REALM,
    DF_NONCE,
    DF_URI,
    DF_CNONCE,
    DF_NC,
    DF_RESPONSE,
    DF_QOP,
    DF_COUNT,
};

static const size_t digest_caps[DF_COUNT] = {
    USER_MAX, REALM_MAX, NONCE_MAX, URI_MAX, CNONCE_MAX, NC_MAX, RESPONSE_MAX, QOP_MAX,
};

/* 14 status 1 carrying realm, nonce and qop: the digest challenge. */
static void
digest_challenge(struct rconn *c, const char *user)
{
    const char *realm = sim_device_realm(c->dev);
    unsigned char random[NONCE_BYTES], body[3 + REALM_MAX + sizeof(c->nonce) + QOP_MAX];
    size_t rl = strlen(realm), nl, off = 0;

    if (++c->challenges > 2 * AUTH_TRIES) {
        conn_end(c, EVLOG_RESULT_INFO, "auth-refused");
        return;
    }
    if (RAND_bytes(random, sizeof(random)) != 1) {
        ERR_clear_error();
        conn_end(c, EVLOG_RESULT_FAIL, "io-error");
        return;
    }
    for (size_t i = 0; i < sizeof(random); i++)
        snprintf(c->nonce + 2 * i, 3, "%02x", random[i]);
    nl = strlen(c->nonce);
    if (rl > REALM_MAX)
        rl = REALM_MAX;
    body[off++] = (unsigned char)rl;
    memcpy(body + off, realm, rl);
    off += rl;
    body[off++] = (unsigned char)nl;
    memcpy(body + off, c->nonce, nl);
    off += nl;
    body[off++] = (unsigned char)strlen(AUTH_URI_QOP);
    memcpy(body + off, AUTH_URI_QOP, strlen(AUTH_URI_QOP));
    off += strlen(AUTH_URI_QOP);
    REDIR_EVENT(c, "X-sim.redirection.auth", EVLOG_RESULT_INFO,
                EVLOG_STR("method", "digest"), EVLOG_STR("step", "challenge"),
                EVLOG_STR("user", user));
    auth_reply(c, AUTH_FAIL, METHOD_DIGEST, body, off);
}

/*
 * Method 4. Eight length-prefixed strings:
 *   05 "admin" 00 00 13 "/RedirectionService" 00 00 00 00        asks for a challenge
 *   05 "admin" 2a "Intel(R) AMT (ID:...)" 20 <nonce> 13 "/RedirectionService"
 *   20 <cnonce> 08 "00000002" 20 <response> 04 "auth"             answers it
 */
static void
auth_digest(struct rconn *c, const unsigned char *data, size_t len)
{
    struct field f[DF_COUNT];
    char user[USER_MAX + 1], realm[REALM_MAX + 1], nonce[NONCE_MAX + 1];
    char uri[URI_MAX + 1], cnonce[CNONCE_MAX + 1], nc[NC_MAX + 1];
    char response[RESPONSE_MAX + 1], qop[QOP_MAX + 1];
    char ha1_hex[33], ha2[33], expected[33], buf[320];
    unsigned char ha1[16];
    unsigned rights = 0;
    const char *reason = NULL;
    enum digest_suspicion suspicion;
    bool fresh;
    int n;

    if (!read_fields(data, len, f, DF_COUNT)) {
        conn_refuse(c, "malformed-auth", CMD_AUTH);
        return;
    }
    for (int i = 0; i < DF_COUNT; i++) {
        if (f[i].len > digest_caps[i]) {
            conn_refuse(c, i == DF_USER ? "user-too-long" : "field-too-long", CMD_AUTH);
            return;
        }
    }
    field_copy(user, &f[DF_USER]);
    field_copy(realm, &f[DF_REALM]);
    field_copy(nonce, &f[DF_NONCE]);
    field_copy(uri, &f[DF_URI]);
    field_copy(cnonce, &f[DF_CNONCE]);
    field_copy(nc, &f[DF_NC]);
    field_copy(response, &f[DF_RESPONSE]);
    field_copy(qop, &f[DF_QOP]);

    if (nonce[0] == '\0' && response[0] == '\0') {
        digest_challenge(c, user);
        return;
    }
    /* a nonce answers once, and only on the connection that handed it out */
    fresh = c->nonce[0] != '\0' && strcmp(nonce, c->nonce) == 0;
    c->nonce[0] = '\0';
    if (!user_ha1(c, user, ha1, &rights, &reason)) {
        auth_fail(c, METHOD_DIGEST, user, reason, strcmp(reason, "unknown-user") == 0);
        goto out;
    }
    if (!fresh) {
        auth_fail(c, METHOD_DIGEST, user, "stale-nonce", false);
        goto out;
    }
    if (strcmp(qop, AUTH_URI_QOP) != 0 || nc[0] == '\0' || cnonce[0] == '\0') {
        auth_fail(c, METHOD_DIGEST, user, "unsupported-method", false);
        goto out;
    }
    if (strcmp(realm, sim_device_realm(c->dev)) != 0) {
        auth_fail(c, METHOD_DIGEST, user, "wrong-realm", true);
        goto out;
    }
    for (int i = 0; i < 16; i++)
        snprintf(ha1_hex + 2 * i, 3, "%02x", ha1[i]);
    n = snprintf(buf, sizeof(buf), "POST:%s", uri);
    if (n < 0 || (size_t)n >= sizeof(buf) || md5_hex(buf, (size_t)n, ha2) != 0)
        goto internal;
    n = snprintf(buf, sizeof(buf), "%s:%s:%s:%s:%s:%s", ha1_hex, nonce, nc, cnonce, qop,
                 ha2);
    if (n < 0 || (size_t)n >= sizeof(buf) || md5_hex(buf, (size_t)n, expected) != 0)
        goto internal;
    suspicion = digest_response_suspicion(response, expected);
    if (suspicion != DIGEST_SUSPICION_NONE) {
        auth_fail(c, METHOD_DIGEST, user, digest_suspicion_name(suspicion), true);
        goto out;
    }
    if (!digest_response_equal(response, expected)) {
        auth_fail(c, METHOD_DIGEST, user, "wrong-password", true);
        goto out;
    }
    if (!(rights & SIM_RIGHT_REDIRECTION)) {
        auth_fail(c, METHOD_DIGEST, user, "no-right", false);
        goto out;
    }
    auth_ok(c, METHOD_DIGEST, user);
    goto out;
internal:
    fprintf(stderr, "amt-sim: %s: %s\n", __func__, amt_strerror(AMT_ERR_CRYPTO));
    conn_end(c, EVLOG_RESULT_FAIL, "io-error");
out:
    OPENSSL_cleanse(ha1, sizeof(ha1));
    OPENSSL_cleanse(ha1_hex, sizeof(ha1_hex));
    OPENSSL_cleanse(expected, sizeof(expected));
    OPENSSL_cleanse(buf, sizeof(buf));
}

static void
on_auth(struct rconn *c, const unsigned char *p, size_t n)
{
    static const unsigned char methods[] = {METHOD_PASSWORD, METHOD_DIGEST};
    unsigned method = p[4];

    switch (method) {
    case METHOD_QUERY:
        REDIR_EVENT(c, "X-sim.redirection.auth", EVLOG_RESULT_INFO,
                    EVLOG_STR("method", "query"));
        auth_reply(c, AUTH_OK, METHOD_QUERY, methods, sizeof(methods));
        break;
    case METHOD_PASSWORD:
        auth_password(c, p + LEN_AUTH_HEADER, n - LEN_AUTH_HEADER);
        break;
    case METHOD_DIGEST:
        auth_digest(c, p + LEN_AUTH_HEADER, n - LEN_AUTH_HEADER);
        break;
    default:
        REDIR_EVENT(c, "X-sim.redirection.auth", EVLOG_RESULT_FAIL,
                    EVLOG_REASON("unsupported-method"), EVLOG_INT("method", method));
        auth_reply(c, AUTH_UNSUPPORTED, method, NULL, 0);
        if (++c->auth_failures >= AUTH_TRIES)
            conn_close_after(c, EVLOG_RESULT_INFO, "auth-refused");
        break;
    }
}

/* --- SOL (20 to 2B) --- */

static void
on_sol_start(struct rconn *c, const unsigned char *p)
{
    unsigned max_tx = get16(p + 8), tx_timeout = get16(p + 10);
    unsigned overflow_timeout = get16(p + 12), rx_timeout = get16(p + 14);
    unsigned flush_timeout = get16(p + 16), heartbeat = get16(p + 18);
    unsigned char *m;

    c->max_tx = max_tx == 0 || max_tx > OUT_CHUNK ? OUT_CHUNK : max_tx;
    c->heartbeat = heartbeat / 1000.0;
    if (heartbeat > 0 && c->heartbeat < HEARTBEAT_MIN)
        c->heartbeat = HEARTBEAT_MIN;
    if (rx_timeout > 0) {
        set_idle(c, rx_timeout / 1000.0 < RX_TIMEOUT_MIN ? RX_TIMEOUT_MIN
                                                         : rx_timeout / 1000.0);
        if (c->done)
            return;
    }
    if ((m = queue(c, LEN_SOL_START_REPLY, true)) == NULL)
        return;
    m[0] = CMD_SOL_START_REPLY;
    m[1] = 0;
    put16(m + 4, (unsigned)c->max_tx);
    put16(m + 6, tx_timeout);
    put16(m + 8, overflow_timeout);
    put16(m + 10, (unsigned)(c->idle * 1000 > 65535 ? 65535 : c->idle * 1000));
    put16(m + 12, flush_timeout);
    put16(m + 14, (unsigned)(c->heartbeat * 1000));
    put16(m + 16, SOL_DATA_MAX);
    m[22] = 0;

    c->phase = PH_SOL;
    c->host_on = sim_device_power(c->dev) == SIM_POWER_ON;
    REDIR_EVENT(c, "X-sim.redirection.sol-start", EVLOG_RESULT_OK,
                EVLOG_STR("power", c->host_on ? "on" : "off"),
                EVLOG_INT("max-tx-buffer", max_tx),
                EVLOG_INT("heartbeat-ms", (int64_t)(c->heartbeat * 1000)),
                EVLOG_INT("rx-timeout-ms", (int64_t)(c->idle * 1000)));
    host_tell_power(c);
    if (c->host_on)
        host_banner(c);
    start_ticking(c);
}

static void
on_sol_end(struct rconn *c, const unsigned char *p)
{
    REDIR_EVENT(c, "X-sim.redirection.sol-stop", EVLOG_RESULT_INFO,
                EVLOG_STR("cause", "client-ended"),
                EVLOG_INT("keystroke-bytes", (int64_t)c->keystroke_bytes));
    c->phase = PH_ENDED;
    c->holds_kind = false;
    loop_timer_cancel(c->rd->loop, c->tick_timer);
    c->tick_timer = NULL;
    queue_seq(c, CMD_SOL_END_REPLY, get32(p + 4), true);
}

static void
on_keystrokes(struct rconn *c, const unsigned char *p, size_t n)
{
    size_t len = n - LEN_DATA_HEADER;

    c->keystroke_bytes += len;
    REDIR_EVENT(c, "X-sim.redirection.keystrokes", EVLOG_RESULT_INFO,
                EVLOG_INT("bytes", (int64_t)len),
                EVLOG_INT("total", (int64_t)c->keystroke_bytes),
                EVLOG_BOOL("host-on", c->host_on));
    /* a computer that is off reads nothing from its serial port */
    if (c->host_on)
        host_input(c, p + LEN_DATA_HEADER, len);
}

/* --- IDE-R (40 to 52) --- */

static void
on_ider_start(struct rconn *c, const unsigned char *p)
{
    unsigned rx_timeout = get16(p + 8), tx_timeout = get16(p + 10);
    unsigned heartbeat = get16(p + 12);
    unsigned char *m;

    c->heartbeat = heartbeat / 1000.0;
    if (heartbeat > 0 && c->heartbeat < HEARTBEAT_MIN)
        c->heartbeat = HEARTBEAT_MIN;
    if (rx_timeout > 0) {
        set_idle(c, rx_timeout / 1000.0 < RX_TIMEOUT_MIN ? RX_TIMEOUT_MIN
                                                         : rx_timeout / 1000.0);
        if (c->done)
            return;
    }
    if ((m = queue(c, LEN_IDER_START_REPLY, true)) == NULL)
        return;
    m[0] = CMD_IDER_START_REPLY;
    m[1] = 0;
    put32(m + 4, get32(p + 4));
    put16(m + 8, (unsigned)(c->idle * 1000 > 65535 ? 65535 : c->idle * 1000));
    put16(m + 10, tx_timeout);
    put16(m + 12, (unsigned)(c->heartbeat * 1000));
    put16(m + 16, IDER_BUFFER);
    put16(m + 18, IDER_BUFFER);
    m[21] = IDER_FEATURE_ENABLE;
    put32(m + 25, IANA_INTEL);
    m[29] = 0;
    c->phase = PH_IDER;
    REDIR_EVENT(
        c, "X-sim.redirection.ider-start", EVLOG_RESULT_OK,
        EVLOG_INT("rx-timeout-ms", rx_timeout), EVLOG_INT("tx-timeout-ms", tx_timeout),
        EVLOG_INT("heartbeat-ms", heartbeat), EVLOG_INT("version", get32(p + 14)));
    start_ticking(c);
}

static void
on_ider(struct rconn *c, const unsigned char *p)
{
    unsigned char *m;

    switch (p[0]) {
    case CMD_IDER_END:
        REDIR_EVENT(c, "X-sim.redirection.ider-stop", EVLOG_RESULT_INFO,
                    EVLOG_STR("cause", "client-ended"));
        c->phase = PH_ENDED;
        c->holds_kind = false;
        loop_timer_cancel(c->rd->loop, c->tick_timer);
        c->tick_timer = NULL;
        queue_seq(c, CMD_IDER_END_REPLY, get32(p + 4), true);
        break;
    case CMD_IDER_PING:
        queue_seq(c, CMD_IDER_PONG, get32(p + 4), false);
        break;
    case CMD_IDER_FEATURES:
        if (p[8] == IDER_SET_REGISTER_STATE)
            c->ider_features = get32(p + 9);
        if ((m = queue(c, LEN_IDER_FEATURES, true)) == NULL)
            return;
        m[0] = CMD_IDER_FEATURES_REPLY;
        put32(m + 4, get32(p + 4));
        m[8] = p[8];
        put32(m + 9, p[8] == IDER_GET_SUPPORTED ? IDER_FEATURE_ENABLE : c->ider_features);
        break;
    default:
        /* no disk behind it: the rest is only recorded */
        break;
    }
}

/* --- input --- */

/*
 * The length of the message starting at p, from its command byte and length field;
 * false when the connection ended on it (unknown command, length over its cap).
 */
static bool
message_length(struct rconn *c, const unsigned char *p, size_t have, size_t *need)
{
    switch (p[0]) {
    case CMD_START:
        *need = LEN_START;
        return true;
    case CMD_END:
        *need = LEN_END;
        return true;
    case CMD_AUTH:
        *need = LEN_AUTH_HEADER;
        if (have < LEN_AUTH_HEADER)
            return true;
        if (get32(p + 5) > AUTH_DATA_MAX) {
            conn_refuse(c, "message-too-long", p[0]);
            return false;
        }
        *need = LEN_AUTH_HEADER + get32(p + 5);
        return true;
    case CMD_SOL_START:
        *need = LEN_SOL_START;
        return true;
    case CMD_SOL_END:
    case CMD_SOL_PING:
    case CMD_SOL_HEARTBEAT:
    case CMD_IDER_END:
    case CMD_IDER_PING:
    case CMD_IDER_RESET_RESPONSE:
    case CMD_IDER_HEARTBEAT:
        *need = LEN_SEQ_ONLY;
        return true;
    case CMD_SOL_CONTROLS_TO_HOST:
        *need = LEN_SOL_CONTROLS_TO_HOST;
        return true;
    case CMD_SOL_DATA_TO_HOST:
        *need = LEN_DATA_HEADER;
        if (have < LEN_DATA_HEADER)
            return true;
        if (get16(p + 8) > SOL_DATA_MAX) {
            conn_refuse(c, "message-too-long", p[0]);
            return false;
        }
        *need = LEN_DATA_HEADER + get16(p + 8);
        return true;
    case CMD_IDER_START:
        *need = LEN_IDER_START;
        return true;
    case CMD_IDER_FEATURES:
        *need = LEN_IDER_FEATURES;
        return true;
    case CMD_IDER_COMMAND_END:
    case CMD_IDER_GET_DATA:
        *need = LEN_IDER_COMMAND;
        return true;
    default:
        conn_refuse(c, "unknown-command", p[0]);
        return false;
    }
}

static bool
is_ider_command(unsigned cmd)
{
    return cmd >= CMD_IDER_START && cmd <= CMD_IDER_GET_DATA;
}

static void
handle(struct rconn *c, const unsigned char *p, size_t n)
{
    unsigned cmd = p[0];

    if (is_ider_command(cmd) && (c->phase == PH_IDER || cmd == CMD_IDER_START) &&
        c->kind == KIND_IDER)
        REDIR_EVENT(c, "X-sim.redirection.ider-command", EVLOG_RESULT_INFO,
                    EVLOG_INT("command", cmd), EVLOG_INT("length", (int64_t)n));
    switch (cmd) {
    case CMD_START:
        if (c->phase != PH_START)
            break;
        on_start(c, p);
        return;
    case CMD_END:
        conn_end(c, EVLOG_RESULT_OK, "end-session");
        return;
    case CMD_AUTH:
        if (c->phase != PH_AUTH)
            break;
        on_auth(c, p, n);
        return;
    case CMD_SOL_START:
        if (c->phase != PH_READY || c->kind != KIND_SOL)
            break;
        on_sol_start(c, p);
        return;
    case CMD_SOL_END:
        if (c->phase != PH_SOL)
            break;
        on_sol_end(c, p);
        return;
    case CMD_SOL_PING:
        if (c->phase != PH_SOL)
            break;
        queue_seq(c, CMD_SOL_PONG, get32(p + 4), false);
        return;
    case CMD_SOL_CONTROLS_TO_HOST:
        if (c->phase != PH_SOL)
            break;
        return;
    case CMD_SOL_DATA_TO_HOST:
        /* amtterm sends the keystrokes that held its escape after its 22 */
        if (c->kind == KIND_SOL && c->phase == PH_ENDED)
            return;
        if (c->phase != PH_SOL)
            break;
        on_keystrokes(c, p, n);
        return;
    case CMD_SOL_HEARTBEAT:
        /* amtterm sends back each of ours, possibly after SOL has ended */
        if (c->kind != KIND_SOL || (c->phase != PH_SOL && c->phase != PH_ENDED))
            break;
        return;
    case CMD_IDER_START:
        if (c->phase != PH_READY || c->kind != KIND_IDER)
            break;
        on_ider_start(c, p);
        return;
    case CMD_IDER_HEARTBEAT:
        if (c->kind != KIND_IDER || (c->phase != PH_IDER && c->phase != PH_ENDED))
            break;
        return;
    default:
        if (c->phase != PH_IDER)
            break;
        on_ider(c, p);
        return;
    }
    conn_refuse(c, "unexpected-command", (int)cmd);
}

/* Takes every complete message from the input; a partial one waits for its rest. */
static void
parse(struct rconn *c)
{
    size_t off = 0, need = 0;

    while (!c->done && !c->closing && off < c->in_len) {
        const unsigned char *p = c->in + off;
        size_t have = c->in_len - off;

        if (!message_length(c, p, have, &need) || need > have)
            break;
        handle(c, p, need);
        off += need;
    }
    if (off > 0) {
        memmove(c->in, c->in + off, c->in_len - off);
        /* what moved down may have held a password */
        OPENSSL_cleanse(c->in + c->in_len - off, off);
        c->in_len -= off;
    }
}

static void kick(struct rconn *c);

static void
read_input(struct rconn *c)
{
    for (int i = 0; i < READS_PER_WAKE && !c->done && !c->closing; i++) {
        size_t room = sizeof(c->in) - c->in_len;
        ssize_t n;

        if (c->ssl != NULL) {
            int k, err;

            ERR_clear_error();
            k = SSL_read(c->ssl, c->in + c->in_len, (int)room);
            if (k <= 0) {
                err = SSL_get_error(c->ssl, k);
                c->read_wants_write = err == SSL_ERROR_WANT_WRITE;
                if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
                    return;
                ERR_clear_error();
                if (err == SSL_ERROR_ZERO_RETURN || err == SSL_ERROR_SYSCALL)
                    conn_end(c, EVLOG_RESULT_INFO, "peer-closed");
                else
                    conn_end(c, EVLOG_RESULT_FAIL, "io-error");
                return;
            }
            n = k;
        } else {
            n = recv(c->fd, c->in + c->in_len, room, 0);
            if (n == 0) {
                conn_end(c, EVLOG_RESULT_INFO, "peer-closed");
                return;
            }
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                    return;
                if (peer_gone_errno(errno))
                    conn_end(c, EVLOG_RESULT_INFO, "peer-closed");
                else
                    conn_end(c, EVLOG_RESULT_FAIL, "io-error");
                return;
            }
        }
        c->read_wants_write = false;
        c->in_len += (size_t)n;
        c->bytes_in += (uint64_t)n;
        c->last_rx = now(c);
        parse(c);
    }
    /* a flood: the rest waits for the next round, TLS's own buffer included */
    if (!c->done && !c->closing && c->ssl != NULL && SSL_has_pending(c->ssl))
        kick(c);
}

static void
io(struct amt_loop *loop, int fd, uint32_t events, void *arg)
{
    struct rconn *c = arg;

    if ((events & EPOLLOUT) || c->write_wants_read)
        flush(c);
    if (!c->done && !c->closing && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        read_input(c);
    /* a closing connection reads no more: a hang-up is all it can learn */
    if (!c->done && c->closing && (events & (EPOLLHUP | EPOLLERR)))
        conn_end(c, EVLOG_RESULT_INFO, "peer-closed");
    settle(c);
}

/* The handshake may have read the first message already: no event would tell. */
static void
kicked(struct amt_loop *loop, void *arg)
{
    struct rconn *c = arg;

    c->kick_timer = NULL;
    read_input(c);
    settle(c);
}

static void
kick(struct rconn *c)
{
    if (c->kick_timer == NULL)
        loop_timer_at(c->rd->loop, now(c), kicked, c, &c->kick_timer);
}

/* --- accepting --- */

static size_t
device_sessions(const struct sim_redir *rd, const struct sim_device *dev)
{
    size_t n = 0;

    for (const struct rconn *c = rd->conns; c != NULL; c = c->next)
        if (c->dev == dev)
            n++;
    return n;
}

/* A refused connection: the peer sees a reset, as from a full listener. */
static void
reset(SSL *ssl, int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};

    SSL_free(ssl);
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

static void
conn_open(struct sim_redir *rd, struct sim_device *dev, SSL *ssl, int fd,
          const struct sockaddr_in *peer)
{
    struct rconn *c;
    unsigned port = sim_port_number(ssl != NULL ? SIM_PORT_REDIR_TLS : SIM_PORT_REDIR);
    char text[32];
    int one = 1, r;

    sim_net_peer_text(peer, text, sizeof(text));
    if (device_sessions(rd, dev) >= rd->opt.max_sessions) {
        sim_net_event(dev, "X-sim.redirection.end", EVLOG_RESULT_FAIL,
                      EVLOG_REASON("too-many-sessions"), EVLOG_INT("port", port),
                      EVLOG_STR("peer", text), EVLOG_STR("cause", "too-many-sessions"),
                      EVLOG_INT("sessions", (int64_t)rd->opt.max_sessions));
        reset(ssl, fd);
        return;
    }
    if ((c = calloc(1, sizeof(*c))) == NULL) {
        fprintf(stderr, "amt-sim: %s: %s\n", __func__, amt_strerror(AMT_ERR_ALLOC));
        reset(ssl, fd);
        return;
    }
    c->rd = rd;
    c->dev = dev;
    c->fd = fd;
    c->ssl = ssl;
    c->port = port;
    snprintf(c->peer, sizeof(c->peer), "%s", text);
    c->bad_command = -1;
    c->max_tx = OUT_CHUNK;
    c->opened = c->last_rx = loop_now(rd->loop);
    c->idle = rd->opt.idle_timeout;
    /* replies are small and each is one write: none should wait for an ACK */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if ((r = loop_watch(rd->loop, fd, EPOLLIN, io, c, &c->watch)) != 0 ||
        (r = loop_timer_at(rd->loop, c->last_rx + c->idle, idle_check, c,
                           &c->idle_timer)) != 0 ||
        (r = loop_timer_at(rd->loop, c->opened, kicked, c, &c->kick_timer)) != 0) {
        fprintf(stderr, "amt-sim: %s: %s\n", __func__, amt_strerror(r));
        loop_unwatch(rd->loop, c->watch);
        loop_timer_cancel(rd->loop, c->idle_timer);
        free(c);
        reset(ssl, fd);
        return;
    }
    c->watching = EPOLLIN;
    c->next = rd->conns;
    if (rd->conns != NULL)
        rd->conns->prev = c;
    rd->conns = c;
}

static void
accept_plain(void *arg, struct sim_device *dev, int fd, const struct sockaddr_in *peer)
{
    conn_open(arg, dev, NULL, fd, peer);
}

static void
accept_tls(void *arg, struct sim_device *dev, SSL *ssl, int fd,
           const struct sockaddr_in *peer)
{
    conn_open(arg, dev, ssl, fd, peer);
}

/* --- the module --- */

void
sim_redir_options_default(struct sim_redir_options *o)
{
    memset(o, 0, sizeof(*o));
    o->idle_timeout = 60;
    o->reply_gap = 0.1;
    o->max_sessions = 8;
}

int
sim_redir_new(struct amt_loop *loop, struct sim_net *net,
              const struct sim_redir_options *options, struct sim_redir **out)
{
    struct sim_redir *rd;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (loop == NULL || net == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (options != NULL && (!(options->idle_timeout > 0) || !(options->reply_gap >= 0) ||
                            options->max_sessions == 0))
        return AMT_ERR_INVALID_ARGUMENT;
    if ((rd = calloc(1, sizeof(*rd))) == NULL)
        return AMT_ERR_ALLOC;
    rd->loop = loop;
    rd->net = net;
    if (options != NULL)
        rd->opt = *options;
    else
        sim_redir_options_default(&rd->opt);
    sim_net_set_redirection(net, accept_plain, accept_tls, rd);
    *out = rd;
    return 0;
}

void
sim_redir_free(struct sim_redir *rd)
{
    if (rd == NULL)
        return;
    sim_net_set_redirection(rd->net, NULL, NULL, NULL);
    while (rd->conns != NULL) {
        conn_end(rd->conns, EVLOG_RESULT_INFO, "shutdown");
        conn_destroy(rd->conns);
    }
    free(rd);
}

void
sim_redir_remove_device(struct sim_redir *rd, const struct sim_device *dev)
{
    struct rconn *c, *next;

    if (rd == NULL)
        return;
    for (c = rd->conns; c != NULL; c = next) {
        next = c->next;
        if (c->dev == dev) {
            conn_end(c, EVLOG_RESULT_INFO, "device-removed");
            conn_destroy(c);
        }
    }
}

size_t
sim_redir_sessions(const struct sim_redir *rd, const struct sim_device *dev)
{
    return rd != NULL ? device_sessions(rd, dev) : 0;
}
