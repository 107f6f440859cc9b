/*
 * The redirection protocol (SOL and IDE-R on 16994 and 16995) against a client
 * written here that speaks it byte by byte over loopback sockets, with the loop
 * driven by this single thread between the client's steps, in virtual time: reply
 * layouts, authentication by password and by digest with their refusals and the
 * lockout, the simulated console (banner, echo, power), keep-alives and heartbeats,
 * timeouts, session types switched off or busy, malformed and oversized input, and
 * the same over TLS 1.0 for a 4.0 device.
 */
#include "clock.h"
#include "device.h"
#include "err.h"
#include "evlog.h"
#include "json.h"
#include "keypool.h"
#include "loop.h"
#include "net.h"
#include "redirection.h"
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define GOOD_PASSWORD "P@ssw0rd-Strong1"
#define AUTH_URI "/RedirectionService"
/* Real seconds a client step may take before the test gives up on it. */
#define EXCHANGE_LIMIT 10.0
/* Virtual seconds the clock moves per round while a client waits for a message. */
#define STEP 0.05

static char tmp_root[] = "/tmp/test_sim_redirection.XXXXXX";
static char events_path[300];
static unsigned device_counter;
static struct keypool *keys;
static struct amt_clock *vclock;
static struct evlog *events;
static struct amt_loop *loop;
static struct sim_net *net;
static struct sim_redir *redir;
static struct sim_net_options net_opt;
static struct sim_redir_options redir_opt;

static double
real_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
pump(int rounds)
{
    for (int i = 0; i < rounds; i++)
        loop_run_once(loop, 1);
}

static void
advance(double seconds)
{
    clock_advance(vclock, seconds);
    pump(3);
}

/* --- devices --- */

struct fixture {
    char dir[256];
    char uuid[40];
    struct sim_device_config cfg;
    struct sim_env env;
    struct sim_device *dev;
};

static void
fixture_config(struct fixture *f, const char *version, bool tls)
{
    unsigned n = device_counter++;

    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "%s/dev%u", tmp_root, n);
    snprintf(f->uuid, sizeof(f->uuid), "87654321-9abc-def0-1234-%012x", n + 1);
    CU_ASSERT_EQUAL_FATAL(uuid_parse(f->uuid, &f->cfg.uuid), 0);
    CU_ASSERT_EQUAL_FATAL(sim_profile_from_text(version, &f->cfg.profile), 0);
    snprintf(f->cfg.listen, sizeof(f->cfg.listen), "127.0.0.%u", 100 + n % 100);
    f->cfg.flash_dir = f->dir;
    f->cfg.dhcp_domain = "contoso.com";
    f->cfg.lockout_failures = 3;
    f->cfg.lockout_seconds = 60;
    f->cfg.start_provisioned = true;
    f->cfg.admin_password = GOOD_PASSWORD;
    f->cfg.tls = tls;
    f->env.events = events;
    f->env.clock = vclock;
    f->env.keys = keys;
}

static void
fixture_start(struct fixture *f, bool sol, bool ider)
{
    char err[256] = "";

    f->dev = NULL;
    CU_ASSERT_EQUAL_FATAL(sim_device_open(&f->cfg, &f->env, &f->dev, err, sizeof(err)),
                          0);
    CU_ASSERT_EQUAL_FATAL(
        sim_device_set_switch(f->dev, SIM_SWITCH_REDIRECTION_LISTENER, true), 0);
    CU_ASSERT_EQUAL_FATAL(sim_device_set_switch(f->dev, SIM_SWITCH_SOL, sol), 0);
    CU_ASSERT_EQUAL_FATAL(sim_device_set_switch(f->dev, SIM_SWITCH_IDER, ider), 0);
    CU_ASSERT_EQUAL_FATAL(sim_net_add_device(net, f->dev, err, sizeof(err)), 0);
}

/* A provisioned 4.0 device with SOL on; TLS (16995) or not (16994). */
static void
fixture_sol(struct fixture *f, bool tls)
{
    fixture_config(f, "4.0", tls);
    fixture_start(f, true, false);
}

static void
fixture_stop(struct fixture *f)
{
    sim_redir_remove_device(redir, f->dev);
    sim_net_remove_device(net, f->dev);
    pump(5);
    sim_device_free(f->dev);
    f->dev = NULL;
}

/* --- the event log --- */

struct event_query {
    const char *device, *id, *result, *reason, *key, *value;
    size_t count;
};

static int
count_event(const struct evlog_event *ev, void *arg)
{
    struct event_query *q = arg;
    const struct json_value *v;
    const char *s;
    size_t len;
    int64_t num;
    bool b;

    if (q->device != NULL && strcmp(ev->device, q->device) != 0)
        return 0;
    if (strcmp(ev->id, q->id) != 0)
        return 0;
    if (q->result != NULL && strcmp(evlog_result_name(ev->result), q->result) != 0)
        return 0;
    if (q->reason != NULL && (ev->reason == NULL || strcmp(ev->reason, q->reason) != 0))
        return 0;
    if (q->key != NULL) {
        if ((v = json_object_get(ev->detail, q->key)) == NULL)
            return 0;
        if (json_get_string(v, &s, &len) == 0) {
            if (strlen(q->value) != len || strncmp(s, q->value, len) != 0)
                return 0;
        } else if (json_get_int(v, &num) == 0) {
            if (num != atoll(q->value))
                return 0;
        } else if (json_get_bool(v, &b) != 0 ||
                   strcmp(b ? "true" : "false", q->value) != 0) {
            return 0;
        }
    }
    q->count++;
    return 0;
}

/* Events of the device with this id (and result, reason, one detail: NULL = any). */
static size_t
events_of(const struct fixture *f, const char *id, const char *result, const char *reason,
          const char *key, const char *value)
{
    struct event_query q = {f->uuid, id, result, reason, key, value, 0};
    char err[256] = "";

    CU_ASSERT_EQUAL(evlog_read_file(events_path, count_event, &q, NULL, err, sizeof(err)),
                    0);
    return q.count;
}

/* No line of the log may carry the password, whatever its key. */
static bool
log_holds_password(void)
{
    size_t len = 0;
    unsigned char *text = unit_read_file(events_path, &len);
    bool found = strstr((const char *)text, GOOD_PASSWORD) != NULL;

    free(text);
    return found;
}

/* --- a client on this thread --- */

struct client {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    unsigned char buf[65536];
    size_t len;
    bool eof;
    uint32_t seq;
};

static void
client_close(struct client *cl)
{
    SSL_free(cl->ssl);
    SSL_CTX_free(cl->ctx);
    if (cl->fd >= 0)
        close(cl->fd);
    cl->ssl = NULL;
    cl->ctx = NULL;
    cl->fd = -1;
    pump(3);
}

/* Connects to the device's 16994, or 16995 with TLS 1.0 as a 4.0 device speaks it. */
static void
client_open(struct client *cl, const struct fixture *f, bool tls)
{
    struct sockaddr_in sa;
    double limit = real_now() + EXCHANGE_LIMIT;

    memset(cl, 0, sizeof(*cl));
    cl->fd = socket(AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(cl->fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, f->cfg.listen, &sa.sin_addr);
    sa.sin_port = htons(
        (uint16_t)sim_net_bound_port(net, tls ? SIM_PORT_REDIR_TLS : SIM_PORT_REDIR));
    /* the kernel completes the connection from the listen queue */
    CU_ASSERT_EQUAL_FATAL(connect(cl->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    fcntl(cl->fd, F_SETFL, fcntl(cl->fd, F_GETFL) | O_NONBLOCK);
    pump(2);
    if (!tls)
        return;
    cl->ctx = SSL_CTX_new(TLS_client_method());
    CU_ASSERT_PTR_NOT_NULL_FATAL(cl->ctx);
    SSL_CTX_set_min_proto_version(cl->ctx, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(cl->ctx, TLS1_VERSION);
    CU_ASSERT_EQUAL_FATAL(SSL_CTX_set_cipher_list(cl->ctx, "AES128-SHA:@SECLEVEL=0"), 1);
    cl->ssl = SSL_new(cl->ctx);
    SSL_set_fd(cl->ssl, cl->fd);
    for (;;) {
        int n = SSL_connect(cl->ssl), err;

        if (n == 1)
            break;
        err = SSL_get_error(cl->ssl, n);
        CU_ASSERT_FATAL(err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE);
        CU_ASSERT_FATAL(real_now() < limit);
        pump(1);
    }
    CU_ASSERT_STRING_EQUAL(SSL_get_version(cl->ssl), "TLSv1");
    CU_ASSERT_STRING_EQUAL(SSL_get_cipher_name(cl->ssl), "AES128-SHA");
    pump(2);
}

static void
client_send(struct client *cl, const void *data, size_t len)
{
    const unsigned char *p = data;
    double limit = real_now() + EXCHANGE_LIMIT;

    while (len > 0 && real_now() < limit) {
        ssize_t n;

        if (cl->ssl != NULL) {
            int k = SSL_write(cl->ssl, p, (int)len);

            n = k > 0 ? k : -1;
        } else {
            n = send(cl->fd, p, len, MSG_NOSIGNAL);
        }
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (cl->ssl == NULL && errno != EAGAIN && errno != EWOULDBLOCK) {
            break;
        } else {
            pump(1);
        }
    }
    pump(2);
}

/* Reads what is there; false when nothing was. */
static bool
client_read(struct client *cl)
{
    size_t room = sizeof(cl->buf) - cl->len;
    ssize_t n;

    if (cl->eof || room == 0)
        return false;
    if (cl->ssl != NULL) {
        int k = SSL_read(cl->ssl, cl->buf + cl->len, (int)room);

        if (k <= 0) {
            int err = SSL_get_error(cl->ssl, k);

            if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
                cl->eof = true;
            ERR_clear_error();
            return false;
        }
        n = k;
    } else {
        n = recv(cl->fd, cl->buf + cl->len, room, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            cl->eof = true;
            return false;
        }
        if (n < 0)
            return false;
    }
    cl->len += (size_t)n;
    return true;
}

/* The length of the device's message at p, from the layouts in redirection.h. */
static size_t
device_message_length(const unsigned char *p, size_t have)
{
    switch (p[0]) {
    case 0x11:
        return 13;
    case 0x14:
        return have < 9 ? 9 : 9 + (size_t)(p[5] | p[6] << 8 | p[7] << 16);
    case 0x21:
        return 23;
    case 0x23:
    case 0x25:
    case 0x2B:
    case 0x43:
    case 0x45:
    case 0x4B:
        return 8;
    case 0x29:
        return 10;
    case 0x2A:
        return have < 10 ? 10 : 10 + (size_t)(p[8] | p[9] << 8);
    case 0x41:
        return 30;
    case 0x49:
        return 13;
    default:
        CU_FAIL("the device sent a message of an unknown command");
        return (size_t)-1;
    }
}

/*
 * The next whole message from the device into out (at least 4096 bytes); its length,
 * or 0 when the connection ended or nothing came. While nothing is there the virtual
 * clock moves by STEP, up to a second in all: a reply that must be read alone holds
 * what follows it for the gap (redirection.h).
 */
static size_t
client_message(struct client *cl, unsigned char *out)
{
    double limit = real_now() + EXCHANGE_LIMIT, moved = 0;

    for (;;) {
        if (cl->len > 0) {
            size_t need = device_message_length(cl->buf, cl->len);

            if (need == (size_t)-1)
                return 0;
            if (need <= cl->len) {
                memcpy(out, cl->buf, need);
                memmove(cl->buf, cl->buf + need, cl->len - need);
                cl->len -= need;
                return need;
            }
        }
        if (cl->eof || real_now() > limit || moved > 1)
            return 0;
        pump(1);
        if (!client_read(cl)) {
            clock_advance(vclock, STEP);
            moved += STEP;
        }
    }
}

/* The next message, which must be of command cmd; its length (0 on failure). */
static size_t
expect(struct client *cl, unsigned cmd, unsigned char *out)
{
    size_t n = client_message(cl, out);

    CU_ASSERT(n > 0);
    if (n == 0)
        return 0;
    if (out[0] != cmd)
        fprintf(stderr, "\n  expected %02x, got %02x\n", cmd, out[0]);
    CU_ASSERT_EQUAL(out[0], cmd);
    return out[0] == cmd ? n : 0;
}

/* True when the device closed the connection (with nothing more to read). */
static bool
client_sees_close(struct client *cl)
{
    double limit = real_now() + EXCHANGE_LIMIT;

    while (!cl->eof && real_now() < limit) {
        pump(1);
        client_read(cl);
    }
    return cl->eof;
}

/* Nothing arrives while the clock stands still. */
static bool
client_hears_nothing(struct client *cl)
{
    for (int i = 0; i < 20; i++) {
        pump(1);
        client_read(cl);
    }
    return cl->len == 0 && !cl->eof;
}

/* --- the client's side of the protocol --- */

static void
put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)(v >> 8);
}

static void
put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t
get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* 10 with the session type; the status of the 11 that answers it (-1: none). */
static int
start_session(struct client *cl, const char *type)
{
    unsigned char m[8] = {0x10, 0, 0, 0}, r[4096];

    memcpy(m + 4, type, 4);
    client_send(cl, m, sizeof(m));
    return expect(cl, 0x11, r) == 13 ? r[1] : -1;
}

static void
send_auth(struct client *cl, unsigned method, const unsigned char *data, size_t len)
{
    unsigned char m[1024] = {0x13, 0, 0, 0};

    m[4] = (unsigned char)method;
    put32(m + 5, (uint32_t)len);
    memcpy(m + 9, data, len);
    client_send(cl, m, 9 + len);
}

/* Method 1; the status of the 14 (-1: none). */
static int
auth_password(struct client *cl, const char *user, const char *password)
{
    unsigned char data[600], r[4096];
    size_t ul = strlen(user), pl = strlen(password);

    data[0] = (unsigned char)ul;
    memcpy(data + 1, user, ul);
    data[1 + ul] = (unsigned char)pl;
    memcpy(data + 2 + ul, password, pl);
    send_auth(cl, 1, data, 2 + ul + pl);
    return expect(cl, 0x14, r) == 9 ? r[1] : -1;
}

static size_t
put_field(unsigned char *p, const char *s)
{
    size_t n = strlen(s);

    p[0] = (unsigned char)n;
    memcpy(p + 1, s, n);
    return 1 + n;
}

static void
md5_hex(const char *text, char out[33])
{
    unsigned char md[16];
    unsigned int n = 0;

    EVP_Digest(text, strlen(text), md, &n, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

struct challenge {
    char realm[128], nonce[128], qop[32];
};

/* Method 4, first step: asks for the challenge; true when it came. */
static bool
digest_challenge(struct client *cl, const char *user, struct challenge *ch)
{
    unsigned char data[256], r[4096];
    size_t off = 0, n, pos = 9;
    char *dst[3] = {ch->realm, ch->nonce, ch->qop};

    off += put_field(data + off, user);
    off += put_field(data + off, "");
    off += put_field(data + off, "");
    off += put_field(data + off, AUTH_URI);
    for (int i = 0; i < 4; i++)
        off += put_field(data + off, "");
    send_auth(cl, 4, data, off);
    n = expect(cl, 0x14, r);
    if (n < 9)
        return false;
    CU_ASSERT_EQUAL(r[1], 1);
    CU_ASSERT_EQUAL(r[4], 4);
    for (int i = 0; i < 3; i++) {
        size_t fl = r[pos];

        CU_ASSERT_FATAL(pos + 1 + fl <= n);
        memcpy(dst[i], r + pos + 1, fl);
        dst[i][fl] = '\0';
        pos += 1 + fl;
    }
    CU_ASSERT_EQUAL(pos, n);
    return true;
}

/* Method 4, second step; the status of the 14 (-1: none). */
static int
digest_answer(struct client *cl, const char *user, const char *password,
              const struct challenge *ch)
{
    unsigned char data[600], r[4096];
    char text[512], ha1[33], ha2[33], response[33];
    const char *cnonce = "0a4f113b2c3d4e5f60718293a4b5c6d7", *nc = "00000002";
    size_t off = 0;

    snprintf(text, sizeof(text), "%s:%s:%s", user, ch->realm, password);
    md5_hex(text, ha1);
    md5_hex("POST:" AUTH_URI, ha2);
    snprintf(text, sizeof(text), "%s:%s:%s:%s:%s:%s", ha1, ch->nonce, nc, cnonce, ch->qop,
             ha2);
    md5_hex(text, response);
    off += put_field(data + off, user);
    off += put_field(data + off, ch->realm);
    off += put_field(data + off, ch->nonce);
    off += put_field(data + off, AUTH_URI);
    off += put_field(data + off, cnonce);
    off += put_field(data + off, nc);
    off += put_field(data + off, response);
    off += put_field(data + off, ch->qop);
    send_auth(cl, 4, data, off);
    return expect(cl, 0x14, r) == 9 ? r[1] : -1;
}

/* 20 as amtterm sends it, with this heartbeat and receive timeout (ms). */
static void
send_sol_start(struct client *cl, unsigned heartbeat_ms, unsigned rx_timeout_ms)
{
    unsigned char m[24] = {0x20};

    put32(m + 4, cl->seq++);
    put16(m + 8, 1000);
    put16(m + 10, 100);
    put16(m + 12, 0);
    put16(m + 14, rx_timeout_ms);
    put16(m + 16, 0);
    put16(m + 18, heartbeat_ms);
    client_send(cl, m, sizeof(m));
}

static void
send_keys(struct client *cl, const char *text)
{
    unsigned char m[4096] = {0x28};
    size_t n = strlen(text);

    put32(m + 4, cl->seq++);
    put16(m + 8, (unsigned)n);
    memcpy(m + 10, text, n);
    client_send(cl, m, 10 + n);
}

static void
send_seq_only(struct client *cl, unsigned cmd)
{
    unsigned char m[8] = {0};

    m[0] = (unsigned char)cmd;
    put32(m + 4, cl->seq++);
    client_send(cl, m, sizeof(m));
}

/*
 * Console output (2A) until text appears in it, into console (4096 bytes); 29 and
 * heartbeats in between are left out. False when the text never came.
 */
static bool
console_until(struct client *cl, const char *text, char *console)
{
    unsigned char m[4096];
    size_t have = strlen(console), n;

    while (strstr(console, text) == NULL) {
        if ((n = client_message(cl, m)) == 0)
            return false;
        if (m[0] == 0x2A) {
            size_t len = n - 10;

            if (have + len >= 4096)
                return false;
            memcpy(console + have, m + 10, len);
            have += len;
            console[have] = '\0';
        } else if (m[0] != 0x2B && m[0] != 0x29) {
            return false;
        }
    }
    return true;
}

/* Connected, started, authenticated (password), SOL running, banner read. */
static void
open_sol(struct client *cl, const struct fixture *f, bool tls, unsigned heartbeat_ms,
         unsigned rx_timeout_ms)
{
    unsigned char r[4096];
    char console[4096] = "";

    client_open(cl, f, tls);
    CU_ASSERT_EQUAL_FATAL(start_session(cl, "SOL "), 0);
    CU_ASSERT_EQUAL_FATAL(auth_password(cl, "admin", GOOD_PASSWORD), 0);
    send_sol_start(cl, heartbeat_ms, rx_timeout_ms);
    CU_ASSERT_EQUAL_FATAL(expect(cl, 0x21, r), 23);
    CU_ASSERT_EQUAL_FATAL(r[1], 0);
    CU_ASSERT_FATAL(console_until(cl, "sol> ", console));
}

/* --- tests: the whole of a SOL session --- */

static void
test_sol_session_plain(void)
{
    static const unsigned char start_reply[13] = {0x11, 0,    0, 0, 1, 0, 4,
                                                  0,    0x57, 1, 0, 0, 0};
    struct fixture f;
    struct client cl;
    unsigned char r[4096], query[1] = {0};
    char console[4096] = "";
    size_t n;

    fixture_sol(&f, false);
    client_open(&cl, &f, false);

    /* 10 -> 11: protocol 1.0, firmware 4.0, IANA 343, no OEM data */
    client_send(&cl, "\x10\0\0\0SOL ", 8);
    CU_ASSERT_EQUAL(expect(&cl, 0x11, r), 13);
    CU_ASSERT_EQUAL(memcmp(r, start_reply, sizeof(start_reply)), 0);
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.redirection", "ok", NULL, "session", "sol"), 1);
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.redirection", "ok", NULL, "port", "16994"), 1);

    /* 13 query -> 14 listing password (1) and digest (4) */
    send_auth(&cl, 0, query, 0);
    n = expect(&cl, 0x14, r);
    CU_ASSERT_EQUAL(n, 11);
    CU_ASSERT_EQUAL(r[1], 0);
    CU_ASSERT_EQUAL(r[4], 0);
    CU_ASSERT_EQUAL(get32(r + 5), 2);
    CU_ASSERT(n == 11 && memchr(r + 9, 1, 2) != NULL && memchr(r + 9, 4, 2) != NULL);

    CU_ASSERT_EQUAL(auth_password(&cl, "admin", "Wrong-Passw0rd!"), 1);
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.auth", "fail", "wrong-password", NULL, NULL), 1);
    CU_ASSERT_EQUAL(auth_password(&cl, "admin", GOOD_PASSWORD), 0);
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.auth", "ok", NULL, "method", "password"), 1);

    /* 20 -> 21, alone: nothing follows it until the gap is over */
    send_sol_start(&cl, 5000, 10000);
    CU_ASSERT_EQUAL(expect(&cl, 0x21, r), 23);
    CU_ASSERT_EQUAL(r[1], 0);
    CU_ASSERT_EQUAL(r[22], 0);
    CU_ASSERT(client_hears_nothing(&cl));
    advance(0.1);
    /* 29: the host is on, and also alone */
    CU_ASSERT_EQUAL(expect(&cl, 0x29, r), 10);
    CU_ASSERT_EQUAL(r[9] & 0x04, 0x04);
    CU_ASSERT(client_hears_nothing(&cl));
    CU_ASSERT(console_until(&cl, "sol> ", console));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(console, "amt-sim " AMT_PROJECT_VERSION " serial console"));
    CU_ASSERT_PTR_NOT_NULL(strstr(console, "Intel(R) AMT 4.0"));
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.sol-start", "ok", NULL, "power", "on"), 1);

    /* keystrokes echo as typed; Enter answers the line */
    console[0] = '\0';
    send_keys(&cl, "hello-sol");
    send_keys(&cl, "\r");
    CU_ASSERT(console_until(&cl, "you typed: hello-sol\r\nsol> ", console));
    CU_ASSERT_PTR_NOT_NULL(strstr(console, "hello-sol\r\nyou typed"));
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.keystrokes", "info", NULL, "bytes", "9"), 1);
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.keystrokes", "info", NULL, "total", "10"), 1);
    /* backspace erases */
    console[0] = '\0';
    send_keys(&cl, "abX\x7f"
                   "c\r");
    CU_ASSERT(console_until(&cl, "you typed: abc\r\n", console));

    /* 24 -> 25 with the same sequence number */
    send_seq_only(&cl, 0x24);
    CU_ASSERT_EQUAL(expect(&cl, 0x25, r), 8);
    CU_ASSERT_EQUAL(get32(r + 4), cl.seq - 1);

    /* the device's heartbeat at the interval asked for; ours back is taken silently */
    advance(4);
    CU_ASSERT(client_hears_nothing(&cl));
    advance(1.5);
    CU_ASSERT_EQUAL(expect(&cl, 0x2B, r), 8);
    send_seq_only(&cl, 0x2B);
    CU_ASSERT(client_hears_nothing(&cl));

    /* 22 -> 23, then 12 ends it cleanly; keystrokes sent after the 22 (as amtterm
     * sends the one that held its escape) are dropped */
    send_seq_only(&cl, 0x22);
    send_keys(&cl, "\x1d");
    CU_ASSERT_EQUAL(expect(&cl, 0x23, r), 8);
    CU_ASSERT_EQUAL(get32(r + 4), cl.seq - 2);
    CU_ASSERT(client_hears_nothing(&cl));
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.redirection.sol-stop", "info", NULL, "cause",
                              "client-ended"),
                    1);
    client_send(&cl, "\x12\0\0\0", 4);
    CU_ASSERT(client_sees_close(&cl));
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.end", "ok", NULL, "cause", "end-session"), 1);
    CU_ASSERT_EQUAL(sim_redir_sessions(redir, f.dev), 0);
    client_close(&cl);

    CU_ASSERT(!log_holds_password());
    fixture_stop(&f);
}

/* --- tests: authentication --- */

static void
test_password_refusals_and_lockout(void)
{
    struct fixture f;
    struct client cl;
    unsigned char r[4096];

    fixture_sol(&f, false);
    CU_ASSERT_EQUAL_FATAL(
        sim_device_acl_add(f.dev, "operator", "0perator!Pass", SIM_RIGHT_REMOTE_CONTROL),
        0);

    client_open(&cl, &f, false);
    CU_ASSERT_EQUAL(start_session(&cl, "SOL "), 0);
    CU_ASSERT_EQUAL(auth_password(&cl, "nobody", GOOD_PASSWORD), 1);
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.redirection.auth", "fail", "unknown-user",
                              "counted", "true"),
                    1);
    /* the right password of a user without the redirection right */
    CU_ASSERT_EQUAL(auth_password(&cl, "operator", "0perator!Pass"), 1);
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.auth", "fail", "no-right", "counted", "false"),
        1);
    CU_ASSERT_EQUAL(auth_password(&cl, "admin", GOOD_PASSWORD), 0);
    CU_ASSERT_EQUAL(sim_redir_sessions(redir, f.dev), 1);
    client_close(&cl);
    CU_ASSERT_EQUAL(sim_redir_sessions(redir, f.dev), 0);
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.end", "info", NULL, "cause", "peer-closed"), 1);

    /* three guesses: the device locks, and the connection is closed */
    client_open(&cl, &f, false);
    CU_ASSERT_EQUAL(start_session(&cl, "SOL "), 0);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(auth_password(&cl, "admin", "Wrong-Passw0rd!"), 1);
    CU_ASSERT(client_sees_close(&cl));
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.end", "info", NULL, "cause", "auth-refused"), 1);
    client_close(&cl);
    CU_ASSERT(sim_device_locked_out(f.dev));

    /* locked out: even the right password is refused, and not counted */
    client_open(&cl, &f, false);
    CU_ASSERT_EQUAL(start_session(&cl, "SOL "), 0);
    CU_ASSERT_EQUAL(auth_password(&cl, "admin", GOOD_PASSWORD), 1);
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.auth", "fail", "locked-out", "counted", "false"),
        1);
    CU_ASSERT(client_sees_close(&cl));
    client_close(&cl);

    /* the lockout ends in virtual time */
    advance(61);
    client_open(&cl, &f, false);
    CU_ASSERT_EQUAL(start_session(&cl, "SOL "), 0);
    CU_ASSERT_EQUAL(auth_password(&cl, "admin", GOOD_PASSWORD), 0);
    /* once authenticated, another 13 is out of place and ends the connection */
    send_auth(&cl, 0, r, 0);
    CU_ASSERT(client_sees_close(&cl));
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.redirection.end", "fail", "unexpected-command",
                              "command", "19"),
                    1);
    client_close(&cl);
    fixture_stop(&f);
}

static void
test_digest_auth(void)
{
    struct fixture f;
    struct client cl;
    struct challenge ch, old;

    fixture_sol(&f, false);
    client_open(&cl, &f, false);
    CU_ASSERT_EQUAL(start_session(&cl, "SOL "), 0);

    CU_ASSERT_FATAL(digest_challenge(&cl, "admin", &ch));
    CU_ASSERT_STRING_EQUAL(ch.realm, sim_device_realm(f.dev));
    CU_ASSERT_STRING_EQUAL(ch.qop, "auth");
    CU_ASSERT_EQUAL(strlen(ch.nonce), 32);
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.auth", "info", NULL, "step", "challenge"), 1);
    CU_ASSERT_EQUAL(digest_answer(&cl, "admin", "Wrong-Passw0rd!", &ch), 1);
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.auth", "fail", "wrong-password", NULL, NULL), 1);

    /* a nonce answers once, even with the right password after a wrong one */
    CU_ASSERT_EQUAL(digest_answer(&cl, "admin", GOOD_PASSWORD, &ch), 1);
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.auth", "fail", "stale-nonce", NULL, NULL), 1);

    old = ch;
    CU_ASSERT_FATAL(digest_challenge(&cl, "admin", &ch));
    CU_ASSERT_STRING_NOT_EQUAL(ch.nonce, old.nonce);
    CU_ASSERT_EQUAL(digest_answer(&cl, "admin", GOOD_PASSWORD, &ch), 0);
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.auth", "ok", NULL, "method", "digest"), 1);
    client_close(&cl);
    fixture_stop(&f);
}

/* --- tests: session types --- */

static void
test_session_types(void)
{
    struct fixture off, on;
    struct client a, b;
    unsigned char r[4096];

    fixture_config(&off, "4.0", false);
    fixture_start(&off, false, false);
    /* the listener is open, SOL is off: 11 with status 3, then the device closes */
    client_open(&a, &off, false);
    CU_ASSERT_EQUAL(start_session(&a, "SOL "), 3);
    CU_ASSERT(client_sees_close(&a));
    CU_ASSERT_EQUAL(
        events_of(&off, "X-sim.redirection", "fail", "sol-disabled", NULL, NULL), 1);
    CU_ASSERT_EQUAL(
        events_of(&off, "X-sim.redirection.end", "info", NULL, "cause", "start-refused"),
        1);
    client_close(&a);
    client_open(&a, &off, false);
    CU_ASSERT_EQUAL(start_session(&a, "IDER"), 3);
    CU_ASSERT_EQUAL(
        events_of(&off, "X-sim.redirection", "fail", "ider-disabled", NULL, NULL), 1);
    client_close(&a);
    fixture_stop(&off);

    fixture_sol(&on, false);
    client_open(&a, &on, false);
    CU_ASSERT_EQUAL(start_session(&a, "ABCD"), 1);
    CU_ASSERT_EQUAL(events_of(&on, "X-sim.redirection", "fail", "unknown-session-type",
                              "type", "41424344"),
                    1);
    client_close(&a);
    client_open(&a, &on, false);
    CU_ASSERT_EQUAL(start_session(&a, "KVMR"), 3);
    client_close(&a);

    /* one SOL session at a time; the second is busy until the first ends */
    client_open(&a, &on, false);
    CU_ASSERT_EQUAL(start_session(&a, "SOL "), 0);
    client_open(&b, &on, false);
    CU_ASSERT_EQUAL(start_session(&b, "SOL "), 2);
    CU_ASSERT_EQUAL(events_of(&on, "X-sim.redirection", "fail", "busy", NULL, NULL), 1);
    client_close(&b);
    client_close(&a);
    client_open(&b, &on, false);
    CU_ASSERT_EQUAL(start_session(&b, "SOL "), 0);
    /* commands of the wrong session type or phase end the connection */
    send_sol_start(&b, 0, 0);
    CU_ASSERT(client_sees_close(&b));
    CU_ASSERT_EQUAL(events_of(&on, "X-sim.redirection.end", "fail", "unexpected-command",
                              "command", "32"),
                    1);
    client_close(&b);
    (void)r;
    fixture_stop(&on);
}

static void
test_ider_session(void)
{
    struct fixture f;
    struct client cl;
    unsigned char r[4096], m[32] = {0};
    size_t n;

    fixture_config(&f, "4.0", false);
    fixture_start(&f, false, true);
    client_open(&cl, &f, false);
    CU_ASSERT_EQUAL(start_session(&cl, "IDER"), 0);
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.redirection", "ok", NULL, "session", "ider"), 1);
    CU_ASSERT_EQUAL(auth_password(&cl, "admin", GOOD_PASSWORD), 0);

    /* 40 -> 41: 30 bytes, IANA 343 at 25 */
    m[0] = 0x40;
    put32(m + 4, 7);
    put16(m + 8, 10000);
    put16(m + 10, 0);
    put16(m + 12, 5000);
    put32(m + 14, 1);
    client_send(&cl, m, 18);
    n = expect(&cl, 0x41, r);
    CU_ASSERT_EQUAL(n, 30);
    CU_ASSERT_EQUAL(r[1], 0);
    CU_ASSERT_EQUAL(get32(r + 25), 343);
    CU_ASSERT(client_hears_nothing(&cl));
    advance(0.1);

    /* 48 (set register state) -> 49 with the same sequence number and value */
    memset(m, 0, sizeof(m));
    m[0] = 0x48;
    put32(m + 4, 8);
    m[8] = 0x03;
    put32(m + 9, 0x01);
    client_send(&cl, m, 13);
    n = expect(&cl, 0x49, r);
    CU_ASSERT_EQUAL(n, 13);
    CU_ASSERT_EQUAL(get32(r + 4), 8);
    CU_ASSERT_EQUAL(r[8], 0x03);
    CU_ASSERT_EQUAL(get32(r + 9), 0x01);
    advance(0.1);

    send_seq_only(&cl, 0x44);
    CU_ASSERT_EQUAL(expect(&cl, 0x45, r), 8);
    send_seq_only(&cl, 0x4B);
    CU_ASSERT(client_hears_nothing(&cl));
    /* the device's own heartbeat, at the interval asked for */
    advance(5.5);
    CU_ASSERT_EQUAL(expect(&cl, 0x4B, r), 8);
    send_seq_only(&cl, 0x42);
    CU_ASSERT_EQUAL(expect(&cl, 0x43, r), 8);
    client_send(&cl, "\x12\0\0\0", 4);
    CU_ASSERT(client_sees_close(&cl));
    client_close(&cl);

    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.ider-start", "ok", NULL, "version", "1"), 1);
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.ider-command", "info", NULL, NULL, NULL), 5);
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.ider-command", "info", NULL, "command", "72"),
        1);
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.ider-command", "info", NULL, "length", "13"), 1);
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.redirection.ider-stop", "info", NULL, "cause",
                              "client-ended"),
                    1);
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.redirection.end", "ok", NULL, "session", "ider"),
                    1);
    fixture_stop(&f);
}

/* --- tests: what a client must not be able to do --- */

/* Sends raw bytes on a fresh connection; true when the device then closed it. */
static bool
raw_closes(const struct fixture *f, const void *data, size_t len)
{
    struct client cl;
    bool closed;

    client_open(&cl, f, false);
    client_send(&cl, data, len);
    closed = client_sees_close(&cl);
    client_close(&cl);
    return closed;
}

static void
test_malformed_input(void)
{
    static const unsigned char start[8] = {0x10, 0, 0, 0, 'S', 'O', 'L', ' '};
    struct fixture f;
    struct client cl;
    unsigned char m[128];
    uint64_t x = 0x9e3779b97f4a7c15u;

    fixture_sol(&f, false);
    CU_ASSERT(raw_closes(&f, "\xee\0\0\0", 4));
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.redirection.end", "fail", "unknown-command",
                              "command", "238"),
                    1);

    /* an authentication body of 4 GiB is refused from its header */
    memcpy(m, start, 8);
    memcpy(m + 8, "\x13\0\0\0\x01\xff\xff\xff\xff", 9);
    CU_ASSERT(raw_closes(&f, m, 17));
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.redirection.end", "fail", "message-too-long",
                              "command", "19"),
                    1);

    /* a user name of 17 bytes, a password of 33 */
    memset(m, 'u', sizeof(m));
    memcpy(m, start, 8);
    memcpy(m + 8, "\x13\0\0\0\x01\x15\0\0\0\x11", 10);
    m[18 + 17] = 2;
    CU_ASSERT(raw_closes(&f, m, 18 + 17 + 3));
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.end", "fail", "user-too-long", NULL, NULL), 1);
    memcpy(m + 8, "\x13\0\0\0\x01\x28\0\0\0\x05", 10);
    memcpy(m + 18, "admin", 5);
    m[23] = 33;
    CU_ASSERT(raw_closes(&f, m, 24 + 33));
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.end", "fail", "password-too-long", NULL, NULL),
        1);
    /* lengths that do not add up */
    memcpy(m + 8,
           "\x13\0\0\0\x01\x06\0\0\0\x05"
           "admin",
           15);
    CU_ASSERT(raw_closes(&f, m, 23));
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.end", "fail", "malformed-auth", NULL, NULL), 1);
    /* SOL before authentication */
    memcpy(m + 8, "\x20", 1);
    memset(m + 9, 0, 23);
    CU_ASSERT(raw_closes(&f, m, 32));
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.redirection.end", "fail", "unexpected-command",
                              "command", "32"),
                    1);

    /* keystrokes longer than the cap, in a running session */
    open_sol(&cl, &f, false, 0, 0);
    memset(m, 0, sizeof(m));
    m[0] = 0x28;
    put16(m + 8, 0xffff);
    client_send(&cl, m, 10);
    CU_ASSERT(client_sees_close(&cl));
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.redirection.end", "fail", "message-too-long",
                              "command", "40"),
                    1);
    client_close(&cl);

    /* garbage of every kind: each connection ends, nothing is left behind */
    for (int i = 0; i < 200; i++) {
        size_t len = 1 + (size_t)(x % 64);

        for (size_t j = 0; j < len; j++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            m[j] = (unsigned char)x;
        }
        /* every other one gets past the start, to reach the later parsers */
        if (i % 2 == 1 && len > 8)
            memcpy(m, start, 8);
        client_open(&cl, &f, false);
        client_send(&cl, m, len);
        client_close(&cl);
    }
    pump(20);
    CU_ASSERT_EQUAL(sim_redir_sessions(redir, f.dev), 0);
    /* and the device still serves */
    open_sol(&cl, &f, false, 0, 0);
    client_close(&cl);
    fixture_stop(&f);
}

/* --- tests: time --- */

static void
test_timeouts(void)
{
    struct fixture f;
    struct client cl;
    unsigned char r[4096];

    fixture_sol(&f, false);
    /* silent from the start: the module's idle timeout */
    client_open(&cl, &f, false);
    advance(redir_opt.idle_timeout - 1);
    CU_ASSERT(client_hears_nothing(&cl));
    advance(2);
    CU_ASSERT(client_sees_close(&cl));
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.end", "fail", "idle-timeout", NULL, NULL), 1);
    client_close(&cl);

    /* in SOL, the client's receive timeout (10 s); an answered heartbeat resets it */
    open_sol(&cl, &f, false, 5000, 10000);
    advance(5.1);
    CU_ASSERT_EQUAL(expect(&cl, 0x2B, r), 8);
    send_seq_only(&cl, 0x2B);
    advance(5.1);
    CU_ASSERT_EQUAL(expect(&cl, 0x2B, r), 8);
    advance(4);
    CU_ASSERT(client_hears_nothing(&cl));
    CU_ASSERT_EQUAL(sim_redir_sessions(redir, f.dev), 1);
    advance(1);
    CU_ASSERT(client_sees_close(&cl));
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.end", "fail", "idle-timeout", NULL, NULL), 2);
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.redirection.sol-stop", "info", NULL, "cause",
                              "idle-timeout"),
                    1);
    client_close(&cl);
    fixture_stop(&f);
}

static void
test_host_power(void)
{
    struct fixture f;
    struct client cl;
    unsigned char r[4096];
    char console[4096] = "";

    fixture_sol(&f, false);
    CU_ASSERT_EQUAL_FATAL(sim_device_power_action(f.dev, SIM_POWER_DOWN), 0);
    client_open(&cl, &f, false);
    CU_ASSERT_EQUAL(start_session(&cl, "SOL "), 0);
    CU_ASSERT_EQUAL(auth_password(&cl, "admin", GOOD_PASSWORD), 0);
    send_sol_start(&cl, 0, 0);
    CU_ASSERT_EQUAL(expect(&cl, 0x21, r), 23);
    /* 29 says the host is off; then the serial port stays silent, input is dropped */
    CU_ASSERT_EQUAL(expect(&cl, 0x29, r), 10);
    CU_ASSERT_EQUAL(r[9] & 0x04, 0);
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.sol-start", "ok", NULL, "power", "off"), 1);
    send_keys(&cl, "anyone there?\r");
    advance(2.5);
    CU_ASSERT(client_hears_nothing(&cl));
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.keystrokes", "info", NULL, "host-on", "false"),
        1);

    /* power on: within a tick the console is told, and the host boots to its banner */
    CU_ASSERT_EQUAL_FATAL(sim_device_power_action(f.dev, SIM_POWER_UP), 0);
    advance(1);
    CU_ASSERT_EQUAL(expect(&cl, 0x29, r), 10);
    CU_ASSERT_EQUAL(r[9] & 0x04, 0x04);
    CU_ASSERT(console_until(&cl, "sol> ", console));
    CU_ASSERT_PTR_NOT_NULL(strstr(console, "serial console"));
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.host-power", "info", NULL, "power", "on"), 1);
    client_close(&cl);
    fixture_stop(&f);
}

/* --- tests: TLS on 16995 --- */

static void
test_sol_over_tls(void)
{
    struct fixture f;
    struct client cl;
    struct challenge ch;
    unsigned char r[4096];
    char console[4096] = "";

    fixture_sol(&f, true);
    client_open(&cl, &f, true);
    CU_ASSERT_EQUAL(start_session(&cl, "SOL "), 0);
    CU_ASSERT_EQUAL(events_of(&f, "PORT-16995", "ok", NULL, "session", "sol"), 1);
    CU_ASSERT_EQUAL(events_of(&f, "PORT-16995", "ok", NULL, "tls", "true"), 1);
    CU_ASSERT_FATAL(digest_challenge(&cl, "admin", &ch));
    CU_ASSERT_EQUAL(digest_answer(&cl, "admin", GOOD_PASSWORD, &ch), 0);
    send_sol_start(&cl, 5000, 10000);
    CU_ASSERT_EQUAL(expect(&cl, 0x21, r), 23);
    CU_ASSERT(console_until(&cl, "sol> ", console));
    console[0] = '\0';
    send_keys(&cl, "over tls\r");
    CU_ASSERT(console_until(&cl, "you typed: over tls\r\n", console));
    send_seq_only(&cl, 0x22);
    CU_ASSERT_EQUAL(expect(&cl, 0x23, r), 8);
    client_send(&cl, "\x12\0\0\0", 4);
    CU_ASSERT(client_sees_close(&cl));
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.redirection.end", "ok", NULL, "port", "16995"),
                    1);
    client_close(&cl);

    /* garbage inside TLS ends the session the same way */
    client_open(&cl, &f, true);
    client_send(&cl, "\x10\0\0\0SOL \x77", 9);
    CU_ASSERT(client_sees_close(&cl));
    CU_ASSERT_EQUAL(events_of(&f, "X-sim.redirection.end", "fail", "unknown-command",
                              "port", "16995"),
                    1);
    client_close(&cl);
    fixture_stop(&f);
}

/* --- tests: the module's own limits --- */

static void
test_session_limit_and_removal(void)
{
    struct fixture f;
    struct client cl[9];

    fixture_sol(&f, false);
    for (unsigned i = 0; i < redir_opt.max_sessions; i++)
        client_open(&cl[i], &f, false);
    CU_ASSERT_EQUAL(sim_redir_sessions(redir, f.dev), redir_opt.max_sessions);
    client_open(&cl[8], &f, false);
    CU_ASSERT(client_sees_close(&cl[8]));
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.end", "fail", "too-many-sessions", NULL, NULL),
        1);
    client_close(&cl[8]);

    sim_redir_remove_device(redir, f.dev);
    CU_ASSERT_EQUAL(sim_redir_sessions(redir, f.dev), 0);
    for (unsigned i = 0; i < redir_opt.max_sessions; i++) {
        CU_ASSERT(client_sees_close(&cl[i]));
        client_close(&cl[i]);
    }
    CU_ASSERT_EQUAL(
        events_of(&f, "X-sim.redirection.end", "info", NULL, "cause", "device-removed"),
        redir_opt.max_sessions);
    fixture_stop(&f);
}

/* --- suite --- */

static int
suite_init(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (mkdtemp(tmp_root) == NULL || keypool_new(2048, &keys) != 0 ||
        clock_new_virtual(1000, &vclock) != 0 || loop_new(vclock, &loop) != 0)
        return -1;
    snprintf(events_path, sizeof(events_path), "%s/events.jsonl", tmp_root);
    if (evlog_open(events_path, &events) != 0)
        return -1;
    /* real AMT ports are for real devices; tests keep to their own range */
    sim_net_options_default(&net_opt);
    sim_net_options_port_base(&net_opt, 24000 + (unsigned)(getpid() % 2000) * 5);
    sim_redir_options_default(&redir_opt);
    if (sim_net_new(loop, NULL, &net_opt, &net) != 0)
        return -1;
    return sim_redir_new(loop, net, &redir_opt, &redir) == 0 ? 0 : -1;
}

static int
suite_clean(void)
{
    char cmd[300];

    sim_redir_free(redir);
    sim_net_free(net);
    loop_free(loop);
    evlog_free(events);
    clock_free(vclock);
    keypool_free(keys);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

static CU_TestInfo redirection_tests[] = {
    {"SOL session on 16994", test_sol_session_plain},
    {"password refusals and lockout", test_password_refusals_and_lockout},
    {"digest authentication", test_digest_auth},
    {"session types: off, unknown, busy", test_session_types},
    {"IDE-R session", test_ider_session},
    {"malformed and oversized input", test_malformed_input},
    {"idle and receive timeouts", test_timeouts},
    {"host power and the console", test_host_power},
    {"SOL over TLS on 16995", test_sol_over_tls},
    {"session limit and device removal", test_session_limit_and_removal},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"sim_redirection", suite_init, suite_clean, NULL, NULL, redirection_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_sim_redirection", suites);
}
