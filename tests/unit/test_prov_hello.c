/*
 * The service point's hello listener on loopback, in virtual time: hellos written by
 * the test in pieces, too large, malformed, silent; each decision of OOB-1, OOB-2,
 * IB-5 and OOB-3 in its order, with its event and the engine callback; and the
 * simulator's own hello sender on the same loop, hello after hello of the schedule.
 */
#include "clock.h"
#include "config.h"
#include "device.h"
#include "err.h"
#include "evlog.h"
#include "hello.h"
#include "hello_listener.h"
#include "hello_sender.h"
#include "json.h"
#include "loop.h"
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_ADDR "127.0.0.71"
#define CLIENT_ADDR "127.0.0.72"
#define DEVICE_ADDR "127.0.0.73"
#define CERT(name) AMT_CERTS_DIR "/" name

#define UUID_A "4c4c4544-0043-3010-8052-b4c04f564433"
#define UUID_B "8b2a7e10-5f6d-4c1a-9e3b-0a1b2c3d4e5f"
#define UUID_C "00000000-1111-2222-3333-444455556666"
#define UUID_D "d0d0d0d0-0000-4000-8000-000000000001"

static char tmp_root[] = "/tmp/test_prov_hello.XXXXXX";
static unsigned file_counter;

/* Thumbprints of the provisioning chain's root and of a root nobody trusts. */
static struct amt_thumbprint root_sha1, root_sha256, root_sha384;
static struct amt_thumbprint other_sha1, other_sha256;

/* The test's stand-in for the site database and the provisioning engine. */
struct site {
    struct amt_uuid imported[8];
    size_t n_imported;
    struct amt_uuid inband[4];
    size_t n_inband;
    struct amt_uuid in_flight[8];
    size_t n_in_flight;
    bool fail_lookups;
    bool mark_in_flight; /* as the engine does when it takes a device */
    unsigned starts;
    struct amt_uuid start_uuid;
    struct sockaddr_in start_peer;
    struct hello start_hello;
};

struct fixture {
    char events_path[300];
    struct amt_clock *clock;
    struct amt_loop *loop;
    struct evlog *events;
    struct prov_hello_options opt;
    struct prov_hello *l;
    struct site site;
};

static bool
listed(const struct amt_uuid *list, size_t n, const struct amt_uuid *u)
{
    for (size_t i = 0; i < n; i++)
        if (uuid_equal(&list[i], u))
            return true;
    return false;
}

static int
site_imported(void *arg, const struct amt_uuid *u, bool *yes)
{
    struct site *s = arg;

    if (s->fail_lookups)
        return AMT_ERR_SYSTEM;
    *yes = listed(s->imported, s->n_imported, u);
    return 0;
}

static int
site_inband(void *arg, const struct amt_uuid *u, bool *yes)
{
    struct site *s = arg;

    *yes = listed(s->inband, s->n_inband, u);
    return 0;
}

static int
site_in_flight(void *arg, const struct amt_uuid *u, bool *yes)
{
    struct site *s = arg;

    *yes = listed(s->in_flight, s->n_in_flight, u);
    return 0;
}

static void
engine_start(void *arg, const struct amt_uuid *u, const struct sockaddr_in *peer,
             const struct hello *h)
{
    struct site *s = arg;

    s->starts++;
    s->start_uuid = *u;
    s->start_peer = *peer;
    s->start_hello = *h;
    if (s->mark_in_flight && s->n_in_flight < 8)
        s->in_flight[s->n_in_flight++] = *u;
}

static void
add_uuid(struct amt_uuid *list, size_t *n, const char *text)
{
    CU_ASSERT_EQUAL_FATAL(uuid_parse(text, &list[(*n)++]), 0);
}

static void
fixture_start(struct fixture *f, size_t max_connections)
{
    struct prov_hello_hooks hooks = {site_imported, site_inband, site_in_flight,
                                     engine_start, &f->site};

    memset(f, 0, sizeof(*f));
    snprintf(f->events_path, sizeof(f->events_path), "%s/events%u.jsonl", tmp_root,
             file_counter++);
    CU_ASSERT_EQUAL_FATAL(clock_new_virtual(0, &f->clock), 0);
    CU_ASSERT_EQUAL_FATAL(loop_new(f->clock, &f->loop), 0);
    CU_ASSERT_EQUAL_FATAL(evlog_open(f->events_path, &f->events), 0);
    prov_hello_options_default(&f->opt);
    f->opt.address = LISTEN_ADDR;
    f->opt.port = 0;
    f->opt.max_connections = max_connections;
    f->opt.events = f->events;
    CU_ASSERT_EQUAL_FATAL(
        prov_hello_roots_from_chain(CERT("prov-oid.chain.pem"), &f->opt), 0);
    add_uuid(f->site.imported, &f->site.n_imported, UUID_A);
    f->site.mark_in_flight = true;
    hooks.arg = &f->site;
    CU_ASSERT_EQUAL_FATAL(prov_hello_new(f->loop, &f->opt, &hooks, &f->l), 0);
}

static void
fixture_stop(struct fixture *f)
{
    prov_hello_free(f->l);
    loop_free(f->loop);
    evlog_free(f->events);
    clock_free(f->clock);
}

static struct prov_hello_stats
stats(const struct fixture *f)
{
    struct prov_hello_stats s;

    prov_hello_get_stats(f->l, &s);
    return s;
}

static void
pump(struct fixture *f, int rounds)
{
    for (int i = 0; i < rounds; i++)
        loop_run_once(f->loop, 2);
}

/* Hellos that reached an end of any kind. */
static unsigned
ended(const struct fixture *f)
{
    struct prov_hello_stats s = stats(f);

    return s.hellos + s.malformed + s.refused;
}

/* Runs the loop until n hellos have ended (a condition, not a fixed wait). */
static bool
wait_ended(struct fixture *f, unsigned n)
{
    for (int i = 0; i < 2000 && ended(f) < n; i++)
        loop_run_once(f->loop, 5);
    return ended(f) >= n;
}

static int
client_connect(const struct fixture *f)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    CU_ASSERT_FATAL(fd >= 0);
    /* every segment on its own, so the pieces arrive as pieces */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    inet_pton(AF_INET, CLIENT_ADDR, &a.sin_addr);
    CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    inet_pton(AF_INET, LISTEN_ADDR, &a.sin_addr);
    a.sin_port = htons((uint16_t)prov_hello_port(f->l));
    CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void
send_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n <= 0)
            return; /* the listener may have cut us off: that is the point */
        p += n;
        len -= (size_t)n;
    }
}

/*
 * Writes data in pieces of the given sizes (the last takes the rest), letting
 * gap virtual seconds pass between them, then closes as AMT does.
 */
static void
send_pieces(struct fixture *f, const unsigned char *data, size_t len, const size_t *sizes,
            size_t n_sizes, double gap)
{
    int fd = client_connect(f);
    size_t off = 0;

    for (size_t i = 0; off < len; i++) {
        size_t n = i < n_sizes && sizes[i] < len - off ? sizes[i] : len - off;

        send_all(fd, data + off, n);
        off += n;
        pump(f, 4);
        if (off < len) {
            clock_advance(f->clock, gap);
            pump(f, 4);
        }
    }
    shutdown(fd, SHUT_WR);
    close(fd);
}

static void
send_whole(struct fixture *f, const unsigned char *data, size_t len)
{
    send_pieces(f, data, len, NULL, 0, 0);
}

/* Encodes a PKI hello with the given hashes. */
static size_t
make_hello(unsigned char *buf, const char *uuid, uint32_t retry, bool admin,
           const struct amt_thumbprint *const *hashes, size_t n)
{
    struct hello h;
    size_t len = 0;

    memset(&h, 0, sizeof(h));
    h.version = HELLO_VERSION_PKI;
    h.retry_count = retry;
    h.admin_credentials_set = admin;
    CU_ASSERT_EQUAL_FATAL(uuid_parse(uuid, &h.uuid), 0);
    for (size_t i = 0; i < n; i++)
        h.hashes[h.n_hashes++] = *hashes[i];
    CU_ASSERT_EQUAL_FATAL(hello_encode(&h, buf, HELLO_ENCODED_MAX, &len), 0);
    return len;
}

/* --- reading the events back --- */

#define EVENTS_MAX 64

struct ev {
    char id[EVLOG_ID_MAX + 1];
    char result[16];
    char device[EVLOG_UUID_LEN + 1];
    char reason[64];
    char peer[32];
    char root_hash[AMT_THUMBPRINT_TEXT_MAX];
    char step[32];
    char hash_types[32];
    int64_t retry, hashes, bytes;
    bool admin;
    double vt;
};

struct events {
    size_t n;
    struct ev e[EVENTS_MAX];
};

static void
copy_str(const struct json_value *detail, const char *key, char *out, size_t size)
{
    const char *s = NULL;
    size_t len = 0;

    out[0] = '\0';
    if (json_get_string(json_object_get(detail, key), &s, &len) == 0)
        snprintf(out, size, "%.*s", (int)len, s);
}

static int
collect(const struct evlog_event *in, void *arg)
{
    struct events *evs = arg;
    struct ev *e;

    if (evs->n == EVENTS_MAX)
        return 0;
    e = &evs->e[evs->n++];
    memset(e, 0, sizeof(*e));
    snprintf(e->id, sizeof(e->id), "%s", in->id);
    snprintf(e->result, sizeof(e->result), "%s", evlog_result_name(in->result));
    snprintf(e->device, sizeof(e->device), "%s", in->device);
    copy_str(in->detail, "reason", e->reason, sizeof(e->reason));
    copy_str(in->detail, "peer", e->peer, sizeof(e->peer));
    copy_str(in->detail, "root-hash", e->root_hash, sizeof(e->root_hash));
    copy_str(in->detail, "step", e->step, sizeof(e->step));
    copy_str(in->detail, "hash-types", e->hash_types, sizeof(e->hash_types));
    e->retry = e->hashes = e->bytes = -1;
    json_get_int(json_object_get(in->detail, "retry-count"), &e->retry);
    json_get_int(json_object_get(in->detail, "hashes"), &e->hashes);
    json_get_int(json_object_get(in->detail, "bytes"), &e->bytes);
    json_get_bool(json_object_get(in->detail, "admin-credentials-set"), &e->admin);
    e->vt = in->vt;
    CU_ASSERT_EQUAL(in->actor, EVLOG_ACTOR_SP);
    return 0;
}

static struct events *
read_events(const struct fixture *f)
{
    static struct events evs;
    char err[256];

    memset(&evs, 0, sizeof(evs));
    CU_ASSERT_EQUAL(
        evlog_read_file(f->events_path, collect, &evs, NULL, err, sizeof(err)), 0);
    return &evs;
}

/* How many events match; NULL (or for device "") matches anything. */
static size_t
count(const struct events *evs, const char *device, const char *id, const char *result,
      const char *reason)
{
    size_t n = 0;

    for (size_t i = 0; i < evs->n; i++) {
        const struct ev *e = &evs->e[i];

        if ((device == NULL || strcmp(e->device, device) == 0) &&
            (id == NULL || strcmp(e->id, id) == 0) &&
            (result == NULL || strcmp(e->result, result) == 0) &&
            (reason == NULL || strcmp(e->reason, reason) == 0))
            n++;
    }
    return n;
}

static const struct ev *
find(const struct events *evs, const char *device, const char *id, const char *result)
{
    for (size_t i = 0; i < evs->n; i++)
        if ((device == NULL || strcmp(evs->e[i].device, device) == 0) &&
            strcmp(evs->e[i].id, id) == 0 && strcmp(evs->e[i].result, result) == 0)
            return &evs->e[i];
    return NULL;
}

/* --- the tests --- */

static void
test_split_hello(void)
{
    const struct amt_thumbprint *hashes[] = {&other_sha1, &root_sha1};
    static const size_t pieces[] = {1, 5, 12, 7, 20};
    unsigned char buf[HELLO_ENCODED_MAX];
    char root_text[AMT_THUMBPRINT_TEXT_MAX], peer[INET_ADDRSTRLEN];
    struct fixture f;
    struct events *evs;
    const struct ev *e;
    size_t len;

    fixture_start(&f, 64);
    len = make_hello(buf, UUID_A, 3, true, hashes, 2);
    /* six pieces, 3 virtual seconds apart: 15 s in all, longer than the idle timeout,
     * which each piece restarts */
    send_pieces(&f, buf, len, pieces, 5, 3);
    CU_ASSERT_FATAL(wait_ended(&f, 1));
    CU_ASSERT_EQUAL(stats(&f).hellos, 1);
    CU_ASSERT_EQUAL(stats(&f).malformed, 0);
    CU_ASSERT_EQUAL(stats(&f).open, 0);

    evs = read_events(&f);
    e = find(evs, UUID_A, "OOB-1", "ok");
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(e->retry, 3);
    CU_ASSERT_EQUAL(e->hashes, 2);
    CU_ASSERT_TRUE(e->admin);
    CU_ASSERT_STRING_EQUAL(e->peer, CLIENT_ADDR);
    CU_ASSERT_DOUBLE_EQUAL(e->vt, 15.0, 1e-6);
    CU_ASSERT_EQUAL(count(evs, UUID_A, "OOB-2", "ok", NULL), 1);
    e = find(evs, UUID_A, "OOB-3", "ok");
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_STRING_EQUAL(e->step, "tls-next");
    thumbprint_format(&root_sha1, root_text, sizeof(root_text));
    CU_ASSERT_STRING_EQUAL(e->root_hash, root_text);
    CU_ASSERT_EQUAL(count(evs, NULL, NULL, "discard", NULL), 0);
    CU_ASSERT_EQUAL(evs->n, 3);

    /* the engine got the device, where it is, and the hello */
    CU_ASSERT_EQUAL(f.site.starts, 1);
    CU_ASSERT_EQUAL(f.site.start_hello.retry_count, 3);
    CU_ASSERT_EQUAL(f.site.start_hello.n_hashes, 2);
    CU_ASSERT_TRUE(uuid_equal(&f.site.start_uuid, &f.site.imported[0]));
    inet_ntop(AF_INET, &f.site.start_peer.sin_addr, peer, sizeof(peer));
    CU_ASSERT_STRING_EQUAL(peer, CLIENT_ADDR);
    fixture_stop(&f);
}

static void
test_idle_timeout(void)
{
    unsigned char buf[HELLO_ENCODED_MAX] = {0};
    struct fixture f;
    struct events *evs;
    const struct ev *e;
    struct pollfd p;
    char c;
    int fd;

    fixture_start(&f, 64);
    fd = client_connect(&f);
    send_all(fd, buf, 10);
    pump(&f, 10);
    clock_advance(f.clock, 9.9);
    pump(&f, 10);
    CU_ASSERT_EQUAL(stats(&f).malformed, 0);
    CU_ASSERT_EQUAL(stats(&f).open, 1);
    clock_advance(f.clock, 0.2);
    CU_ASSERT_FATAL(wait_ended(&f, 1));
    CU_ASSERT_EQUAL(stats(&f).open, 0);
    evs = read_events(&f);
    e = find(evs, "", "OOB-1", "discard");
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_STRING_EQUAL(e->reason, "hello-idle-timeout");
    CU_ASSERT_EQUAL(e->bytes, 10);
    CU_ASSERT_STRING_EQUAL(e->peer, CLIENT_ADDR);
    /* the listener hung up on the silent peer */
    p.fd = fd;
    p.events = POLLIN;
    CU_ASSERT_EQUAL(poll(&p, 1, 1000), 1);
    CU_ASSERT_TRUE(recv(fd, &c, 1, 0) <= 0);
    close(fd);
    CU_ASSERT_EQUAL(f.site.starts, 0);
    fixture_stop(&f);
}

static void
test_oversize(void)
{
    const struct amt_thumbprint *hashes[] = {&root_sha1};
    unsigned char *big = calloc(1, HELLO_MAX_BYTES + 1000);
    struct fixture f;
    struct events *evs;
    struct pollfd p;
    char c;
    int fd;

    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    fixture_start(&f, 64);
    /* a good hello in front: only the size is wrong */
    make_hello(big, UUID_A, 0, false, hashes, 1);
    /* the peer does not close: the cap ends the connection, not the end of stream */
    fd = client_connect(&f);
    send_all(fd, big, HELLO_MAX_BYTES + 1000);
    CU_ASSERT_FATAL(wait_ended(&f, 1));
    p.fd = fd;
    p.events = POLLIN;
    CU_ASSERT_EQUAL(poll(&p, 1, 1000), 1);
    CU_ASSERT_TRUE(recv(fd, &c, 1, 0) <= 0);
    close(fd);
    /* exactly the cap is read whole, and then judged by the decoder */
    send_whole(&f, big, HELLO_MAX_BYTES);
    CU_ASSERT_FATAL(wait_ended(&f, 2));
    evs = read_events(&f);
    CU_ASSERT_EQUAL(count(evs, "", "OOB-1", "discard", "hello-too-long"), 1);
    CU_ASSERT_EQUAL(count(evs, "", "OOB-1", "discard", "hello-trailing"), 1);
    CU_ASSERT_EQUAL(count(evs, NULL, "OOB-1", "ok", NULL), 0);
    CU_ASSERT_EQUAL(find(evs, "", "OOB-1", "discard")->bytes, HELLO_MAX_BYTES + 1);
    CU_ASSERT_EQUAL(f.site.starts, 0);
    CU_ASSERT_EQUAL(stats(&f).open, 0);
    fixture_stop(&f);
    free(big);
}

static void
test_malformed(void)
{
    const struct amt_thumbprint *hashes[] = {&root_sha1};
    unsigned char good[HELLO_ENCODED_MAX + 1], psk[32] = {0}, bad[HELLO_ENCODED_MAX];
    struct fixture f;
    struct events *evs;
    size_t len;

    fixture_start(&f, 64);
    len = make_hello(good, UUID_A, 0, false, hashes, 1);
    /* nothing at all, then ten bytes */
    send_whole(&f, good, 0);
    send_whole(&f, good, 10);
    /* version 2: PSK, refused whatever follows */
    psk[2] = 2;
    send_whole(&f, psk, sizeof(psk));
    /* an admin-credentials flag of 7 */
    memcpy(bad, good, len);
    bad[0] = 7;
    send_whole(&f, bad, len);
    /* hash type 9 */
    memcpy(bad, good, len);
    bad[HELLO_HEADER_LEN] = 9;
    send_whole(&f, bad, len);
    /* one byte after the counted hashes */
    good[len] = 0;
    send_whole(&f, good, len + 1);
    CU_ASSERT_FATAL(wait_ended(&f, 6));

    evs = read_events(&f);
    CU_ASSERT_EQUAL(count(evs, "", "OOB-1", "discard", "hello-short"), 2);
    CU_ASSERT_EQUAL(count(evs, "", "OOB-1", "discard", "hello-psk-unsupported"), 1);
    CU_ASSERT_EQUAL(count(evs, "", "OOB-1", "discard", "hello-flag"), 1);
    CU_ASSERT_EQUAL(count(evs, "", "OOB-1", "discard", "hello-hash-type"), 1);
    CU_ASSERT_EQUAL(count(evs, "", "OOB-1", "discard", "hello-trailing"), 1);
    /* nothing in a malformed hello is trusted enough to name a device */
    CU_ASSERT_EQUAL(evs->n, 6);
    CU_ASSERT_EQUAL(count(evs, UUID_A, NULL, NULL, NULL), 0);
    CU_ASSERT_EQUAL(stats(&f).malformed, 6);
    CU_ASSERT_EQUAL(f.site.starts, 0);
    fixture_stop(&f);
}

static void
test_unknown_uuid(void)
{
    /* a root that would match: the UUID check comes first */
    const struct amt_thumbprint *hashes[] = {&root_sha1};
    unsigned char buf[HELLO_ENCODED_MAX];
    struct fixture f;
    struct events *evs;
    size_t len;

    fixture_start(&f, 64);
    len = make_hello(buf, UUID_B, 0, false, hashes, 1);
    send_whole(&f, buf, len);
    CU_ASSERT_FATAL(wait_ended(&f, 1));
    evs = read_events(&f);
    CU_ASSERT_EQUAL(count(evs, UUID_B, "OOB-1", "ok", NULL), 1);
    CU_ASSERT_EQUAL(count(evs, UUID_B, "OOB-2", "discard", "unknown-uuid"), 1);
    /* and nothing else */
    CU_ASSERT_EQUAL(evs->n, 2);
    CU_ASSERT_EQUAL(f.site.starts, 0);
    CU_ASSERT_EQUAL(stats(&f).discarded, 1);
    fixture_stop(&f);
}

static void
test_inband_device(void)
{
    /* no root match either: the in-band decision comes before the root check */
    const struct amt_thumbprint *hashes[] = {&other_sha1};
    unsigned char buf[HELLO_ENCODED_MAX];
    struct fixture f;
    struct events *evs;
    size_t len;

    fixture_start(&f, 64);
    add_uuid(f.site.imported, &f.site.n_imported, UUID_B);
    add_uuid(f.site.inband, &f.site.n_inband, UUID_B);
    len = make_hello(buf, UUID_B, 1, false, hashes, 1);
    send_whole(&f, buf, len);
    CU_ASSERT_FATAL(wait_ended(&f, 1));
    evs = read_events(&f);
    CU_ASSERT_EQUAL(count(evs, UUID_B, "OOB-1", "ok", NULL), 1);
    CU_ASSERT_EQUAL(count(evs, UUID_B, "OOB-2", "ok", NULL), 1);
    CU_ASSERT_EQUAL(count(evs, UUID_B, "IB-5", "discard", "inband-device"), 1);
    CU_ASSERT_EQUAL(evs->n, 3);
    CU_ASSERT_EQUAL(f.site.starts, 0);
    fixture_stop(&f);
}

static void
test_no_root_match(void)
{
    const struct amt_thumbprint *hashes[] = {&other_sha1, &other_sha256};
    unsigned char buf[HELLO_ENCODED_MAX];
    struct amt_thumbprint wrong_type;
    const struct amt_thumbprint *wrong[] = {&wrong_type};
    struct fixture f;
    struct events *evs;
    const struct ev *e;
    size_t len;

    fixture_start(&f, 64);
    /* in flight as well: the root check comes before that one */
    add_uuid(f.site.in_flight, &f.site.n_in_flight, UUID_A);
    len = make_hello(buf, UUID_A, 2, false, hashes, 2);
    send_whole(&f, buf, len);
    CU_ASSERT_FATAL(wait_ended(&f, 1));
    /* the right bytes under the wrong type are no match: each type is its own */
    wrong_type = root_sha256;
    wrong_type.type = AMT_HASH_SHA1;
    wrong_type.len = 20;
    len = make_hello(buf, UUID_A, 3, false, wrong, 1);
    send_whole(&f, buf, len);
    CU_ASSERT_FATAL(wait_ended(&f, 2));

    evs = read_events(&f);
    CU_ASSERT_EQUAL(count(evs, UUID_A, "OOB-3", "discard", "no-root-match"), 2);
    e = find(evs, UUID_A, "OOB-3", "discard");
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_STRING_EQUAL(e->hash_types, "sha1,sha256");
    CU_ASSERT_EQUAL(e->hashes, 2);
    CU_ASSERT_EQUAL(count(evs, UUID_A, "OOB-3", "ok", NULL), 0);
    CU_ASSERT_EQUAL(f.site.starts, 0);
    fixture_stop(&f);
}

static void
test_root_match_each_type(void)
{
    const struct amt_thumbprint *h1[] = {&root_sha1};
    const struct amt_thumbprint *h256[] = {&other_sha1, &root_sha256};
    const struct amt_thumbprint *h384[] = {&other_sha256, &root_sha384};
    static const char *const uuids[] = {UUID_B, UUID_C, UUID_D};
    const struct amt_thumbprint *const *hashes[] = {h1, h256, h384};
    static const size_t n_hashes[] = {1, 2, 2};
    const struct amt_thumbprint *want[] = {&root_sha1, &root_sha256, &root_sha384};
    unsigned char buf[HELLO_ENCODED_MAX];
    char text[AMT_THUMBPRINT_TEXT_MAX];
    struct fixture f;
    struct events *evs;

    fixture_start(&f, 64);
    for (size_t i = 0; i < 3; i++) {
        size_t len;

        add_uuid(f.site.imported, &f.site.n_imported, uuids[i]);
        len = make_hello(buf, uuids[i], 0, false, hashes[i], n_hashes[i]);
        send_whole(&f, buf, len);
        CU_ASSERT_FATAL(wait_ended(&f, (unsigned)i + 1));
        CU_ASSERT_EQUAL(f.site.starts, i + 1);
    }
    evs = read_events(&f);
    for (size_t i = 0; i < 3; i++) {
        const struct ev *e = find(evs, uuids[i], "OOB-3", "ok");

        CU_ASSERT_PTR_NOT_NULL_FATAL(e);
        thumbprint_format(want[i], text, sizeof(text));
        CU_ASSERT_STRING_EQUAL(e->root_hash, text);
    }
    fixture_stop(&f);
}

static void
test_second_hello_in_flight(void)
{
    const struct amt_thumbprint *hashes[] = {&root_sha256};
    unsigned char buf[HELLO_ENCODED_MAX];
    struct fixture f;
    struct events *evs;
    size_t len;

    fixture_start(&f, 64);
    len = make_hello(buf, UUID_A, 0, false, hashes, 1);
    send_whole(&f, buf, len);
    CU_ASSERT_FATAL(wait_ended(&f, 1));
    len = make_hello(buf, UUID_A, 1, false, hashes, 1);
    send_whole(&f, buf, len);
    CU_ASSERT_FATAL(wait_ended(&f, 2));
    evs = read_events(&f);
    CU_ASSERT_EQUAL(count(evs, UUID_A, "OOB-1", "ok", NULL), 2);
    CU_ASSERT_EQUAL(count(evs, UUID_A, "OOB-3", "ok", NULL), 1);
    CU_ASSERT_EQUAL(count(evs, UUID_A, "OOB-3", "discard", "already-in-progress"), 1);
    CU_ASSERT_EQUAL(f.site.starts, 1);
    CU_ASSERT_EQUAL(f.site.start_hello.retry_count, 0);
    fixture_stop(&f);
}

static void
test_lookup_failure(void)
{
    const struct amt_thumbprint *hashes[] = {&root_sha1};
    unsigned char buf[HELLO_ENCODED_MAX];
    struct fixture f;
    struct events *evs;
    size_t len;

    fixture_start(&f, 64);
    f.site.fail_lookups = true;
    len = make_hello(buf, UUID_A, 0, false, hashes, 1);
    send_whole(&f, buf, len);
    CU_ASSERT_FATAL(wait_ended(&f, 1));
    evs = read_events(&f);
    CU_ASSERT_EQUAL(count(evs, UUID_A, "OOB-2", "discard", "site-lookup-failed"), 1);
    CU_ASSERT_EQUAL(count(evs, UUID_A, "OOB-3", NULL, NULL), 0);
    CU_ASSERT_EQUAL(f.site.starts, 0);
    fixture_stop(&f);
}

static void
test_connection_cap(void)
{
    const struct amt_thumbprint *hashes[] = {&root_sha1};
    unsigned char buf[HELLO_ENCODED_MAX];
    struct fixture f;
    struct events *evs;
    int fds[3];
    size_t len;

    fixture_start(&f, 2);
    f.site.mark_in_flight = false;
    for (int i = 0; i < 3; i++)
        fds[i] = client_connect(&f);
    for (int i = 0; i < 2000 && stats(&f).accepted < 3; i++)
        loop_run_once(f.loop, 5);
    CU_ASSERT_EQUAL(stats(&f).accepted, 3);
    CU_ASSERT_EQUAL(stats(&f).refused, 1);
    CU_ASSERT_EQUAL(stats(&f).open, 2);
    /* the two taken are still read to the end */
    len = make_hello(buf, UUID_A, 0, false, hashes, 1);
    for (int i = 0; i < 3; i++) {
        send_all(fds[i], buf, len);
        shutdown(fds[i], SHUT_WR);
        close(fds[i]);
    }
    CU_ASSERT_FATAL(wait_ended(&f, 3));
    evs = read_events(&f);
    CU_ASSERT_EQUAL(count(evs, "", "OOB-1", "discard", "too-many-connections"), 1);
    CU_ASSERT_EQUAL(count(evs, UUID_A, "OOB-1", "ok", NULL), 2);
    CU_ASSERT_EQUAL(f.site.starts, 2);
    fixture_stop(&f);
}

static void
test_refused_addresses(void)
{
    struct prov_hello_hooks hooks = {site_imported, NULL, NULL, engine_start, NULL};
    struct prov_hello_options o;
    struct amt_clock *clock;
    struct amt_loop *loop;
    struct prov_hello *l = NULL, *l2 = NULL;

    CU_ASSERT_EQUAL_FATAL(clock_new_virtual(0, &clock), 0);
    CU_ASSERT_EQUAL_FATAL(loop_new(clock, &loop), 0);
    prov_hello_options_default(&o);
    CU_ASSERT_EQUAL(o.port, 9971);
    o.port = 0;
    /* no roots: nothing could ever match */
    o.address = LISTEN_ADDR;
    CU_ASSERT_EQUAL(prov_hello_new(loop, &o, &hooks, &l), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(prov_hello_roots_from_chain(CERT("prov-oid.chain.pem"), &o), 0);
    CU_ASSERT_EQUAL(o.n_roots, 3);
    /* NET-IPV4 */
    o.address = "::1";
    CU_ASSERT_EQUAL(prov_hello_new(loop, &o, &hooks, &l), AMT_ERR_NET_IPV6);
    o.address = "localhost";
    CU_ASSERT_EQUAL(prov_hello_new(loop, &o, &hooks, &l), AMT_ERR_NET_ADDRESS);
    CU_ASSERT_PTR_NULL(l);
    /* a port already taken */
    o.address = LISTEN_ADDR;
    CU_ASSERT_EQUAL_FATAL(prov_hello_new(loop, &o, &hooks, &l), 0);
    o.port = prov_hello_port(l);
    CU_ASSERT_EQUAL(prov_hello_new(loop, &o, &hooks, &l2), AMT_ERR_SP_LISTEN);
    CU_ASSERT_PTR_NULL(l2);
    /* a chain without a root */
    CU_ASSERT_EQUAL(prov_hello_roots_from_chain(CERT("prov-oid.crt"), &o),
                    AMT_ERR_NOT_FOUND);
    prov_hello_free(l);
    prov_hello_free(NULL);
    loop_free(loop);
    clock_free(clock);
}

static void
test_options_from_config(void)
{
    struct prov_hello_options o;
    struct prov_config cfg;
    char err[512];

    CU_ASSERT_EQUAL_FATAL(
        prov_config_load(AMT_TESTDATA_DIR "/amtprov/site.ini", &cfg, err, sizeof(err)),
        0);
    CU_ASSERT_EQUAL_FATAL(
        prov_config_set(&cfg, "site.pki-dir", AMT_CERTS_DIR, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(
        prov_config_set(&cfg, "sp.hello-idle-timeout", "7.5", err, sizeof(err)), 0);
    prov_hello_options_default(&o);
    CU_ASSERT_EQUAL(prov_hello_options_from_config(&cfg, &o), 0);
    CU_ASSERT_STRING_EQUAL(o.address, "127.0.0.1");
    CU_ASSERT_EQUAL(o.port, 9971);
    CU_ASSERT_DOUBLE_EQUAL(o.idle_timeout, 7.5, 1e-9);
    CU_ASSERT_EQUAL(o.max_connections, 64);
    CU_ASSERT_EQUAL_FATAL(o.n_roots, 3);
    CU_ASSERT_TRUE(thumbprint_equal(&o.roots[0], &root_sha1));
    CU_ASSERT_TRUE(thumbprint_equal(&o.roots[1], &root_sha256));
    CU_ASSERT_TRUE(thumbprint_equal(&o.roots[2], &root_sha384));
    prov_config_free(&cfg);
}

/*
 * The simulator's hello sender (amt-sim) on the same loop: each hello of the
 * schedule's first slots arrives as an OOB-1 event at its slot's virtual time with
 * the retry count counting up; the first goes on to TLS, the rest find the device in
 * flight.
 */
static void
test_with_simulator(void)
{
    static const double slots[] = {0, 60, 120, 180, 240, 300};
    struct sim_device_config cfg;
    struct sim_env env;
    struct sim_device *dev = NULL;
    struct sim_hello_sender *sender = NULL;
    struct fixture f;
    struct events *evs;
    char dir[300], server[64], sim_events[300], err[256];
    char *line;
    size_t n = sizeof(slots) / sizeof(slots[0]), k = 0;

    fixture_start(&f, 64);
    memset(&cfg, 0, sizeof(cfg));
    memset(&env, 0, sizeof(env));
    snprintf(dir, sizeof(dir), "%s/device", tmp_root);
    snprintf(sim_events, sizeof(sim_events), "%s/sim-events.jsonl", tmp_root);
    snprintf(server, sizeof(server), "%s:%u", LISTEN_ADDR, prov_hello_port(f.l));
    CU_ASSERT_EQUAL_FATAL(evlog_open(sim_events, &env.events), 0);
    env.clock = f.clock;
    CU_ASSERT_EQUAL_FATAL(uuid_parse(UUID_A, &cfg.uuid), 0);
    CU_ASSERT_EQUAL_FATAL(sim_profile_from_text("4.0", &cfg.profile), 0);
    snprintf(cfg.listen, sizeof(cfg.listen), "%s", DEVICE_ADDR);
    cfg.flash_dir = dir;
    cfg.dhcp_domain = "contoso.com";
    cfg.roots[0] = root_sha1;
    cfg.n_roots = 1;
    cfg.provision_server = server;
    CU_ASSERT_EQUAL_FATAL(sim_device_open(&cfg, &env, &dev, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(sim_hello_sender_new(f.loop, dev, NULL, &sender), 0);
    CU_ASSERT_EQUAL_FATAL(sim_hello_sender_start(sender), 0);

    for (size_t i = 0; i < n; i++) {
        if (slots[i] > clock_now(f.clock))
            clock_advance(f.clock, slots[i] - clock_now(f.clock));
        CU_ASSERT_FATAL(wait_ended(&f, (unsigned)i + 1));
    }
    CU_ASSERT_EQUAL(stats(&f).hellos, n);
    CU_ASSERT_EQUAL(sim_hello_sender_sent(sender), n);

    evs = read_events(&f);
    for (size_t i = 0; i < evs->n; i++) {
        const struct ev *e = &evs->e[i];

        if (strcmp(e->id, "OOB-1") != 0)
            continue;
        CU_ASSERT_STRING_EQUAL(e->result, "ok");
        CU_ASSERT_STRING_EQUAL(e->device, UUID_A);
        CU_ASSERT_EQUAL(e->retry, (int64_t)k);
        CU_ASSERT_DOUBLE_EQUAL(e->vt, slots[k], 1e-6);
        CU_ASSERT_EQUAL(e->hashes, 1);
        CU_ASSERT_FALSE(e->admin);
        k++;
    }
    CU_ASSERT_EQUAL(k, n);
    CU_ASSERT_EQUAL(count(evs, UUID_A, "OOB-3", "ok", NULL), 1);
    CU_ASSERT_EQUAL(count(evs, UUID_A, "OOB-3", "discard", "already-in-progress"), n - 1);
    CU_ASSERT_EQUAL(f.site.starts, 1);
    /* the device's side of the same story */
    line = (char *)unit_read_file(sim_events, NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"retry-count\":5"));
    free(line);

    sim_hello_sender_free(sender);
    sim_device_free(dev);
    evlog_free(env.events);
    fixture_stop(&f);
}

static int
read_thumbprint(const char *path, struct amt_thumbprint *out)
{
    char *text = (char *)unit_read_file(path, NULL);
    int r;

    text[strcspn(text, "\n")] = '\0';
    r = thumbprint_parse(text, out);
    free(text);
    return r;
}

static int
suite_init(void)
{
    if (mkdtemp(tmp_root) == NULL)
        return -1;
    if (read_thumbprint(CERT("root-ca.sha1.txt"), &root_sha1) != 0 ||
        read_thumbprint(CERT("root-ca.sha256.txt"), &root_sha256) != 0 ||
        read_thumbprint(CERT("root-ca.sha384.txt"), &root_sha384) != 0 ||
        read_thumbprint(CERT("untrusted-root-ca.sha1.txt"), &other_sha1) != 0 ||
        read_thumbprint(CERT("untrusted-root-ca.sha256.txt"), &other_sha256) != 0)
        return -1;
    return 0;
}

static int
suite_clean(void)
{
    char cmd[300];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

static CU_TestInfo hello_tests[] = {
    {"OOB-1: a hello in slow pieces", test_split_hello},
    {"OOB-1: idle timeout", test_idle_timeout},
    {"OOB-1: size cap", test_oversize},
    {"OOB-1: malformed hellos", test_malformed},
    {"OOB-2: unknown UUID", test_unknown_uuid},
    {"IB-5: in-band device", test_inband_device},
    {"OOB-3: no root match", test_no_root_match},
    {"OOB-3: SHA-1, SHA-256, SHA-384 roots", test_root_match_each_type},
    {"OOB-3: second hello while in flight", test_second_hello_in_flight},
    {"OOB-2: site lookup fails", test_lookup_failure},
    {"connection cap", test_connection_cap},
    {"NET-IPV4 and bind errors", test_refused_addresses},
    {"options from the configuration", test_options_from_config},
    {"OOB-1: the simulator's hellos on the schedule", test_with_simulator},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"prov_hello", suite_init, suite_clean, NULL, NULL, hello_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_prov_hello", suites);
}
