/*
 * Hello codec: round trips, one test per refusal (each input is valid but for the
 * one fault, so dropping the check changes the answer), and the boundaries.
 */
#include "err.h"
#include "hello.h"
#include "unit.h"

#include <string.h>

struct bytes {
    size_t len;
    unsigned char b[HELLO_MAX_BYTES + 64];
};

static void
put(struct bytes *w, const void *p, size_t n)
{
    CU_ASSERT_FATAL(w->len + n <= sizeof(w->b));
    memcpy(w->b + w->len, p, n);
    w->len += n;
}

static void
put_byte(struct bytes *w, unsigned v)
{
    unsigned char c = (unsigned char)v;

    put(w, &c, 1);
}

/* Flag, version, retry count and UUID, but not the hash count. */
static void
put_fixed(struct bytes *w, unsigned flag, unsigned version)
{
    static const unsigned char retry_and_uuid[20] = {
        7,    0,    0,    0,    0x2a, 0x1b, 0x3e, 0x8c, 0x4f, 0x5d,
        0x6a, 0x4e, 0x9b, 0x7c, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
    };

    memset(w, 0, sizeof(*w));
    put_byte(w, flag & 0xff);
    put_byte(w, flag >> 8);
    put_byte(w, version & 0xff);
    put_byte(w, version >> 8);
    put(w, retry_and_uuid, sizeof(retry_and_uuid));
}

static void
put_hash(struct bytes *w, unsigned type, unsigned len, unsigned fill)
{
    put_byte(w, type);
    put_byte(w, len);
    for (unsigned i = 0; i < len; i++)
        put_byte(w, fill + i);
}

static void
make_thumbprint(struct amt_thumbprint *tp, enum amt_hash_type type, unsigned fill)
{
    memset(tp, 0, sizeof(*tp));
    tp->type = type;
    tp->len = thumbprint_hash_len(type);
    for (size_t i = 0; i < tp->len; i++)
        tp->bytes[i] = (unsigned char)(fill + i);
}

static void
make_hello(struct hello *h, size_t n_hashes)
{
    memset(h, 0, sizeof(*h));
    h->version = HELLO_VERSION_PKI;
    h->retry_count = 3;
    CU_ASSERT_EQUAL_FATAL(uuid_parse("8c3e1b2a-5d4f-4e6a-9b7c-0123456789ab", &h->uuid),
                          0);
    h->n_hashes = n_hashes;
    for (size_t i = 0; i < n_hashes; i++)
        make_thumbprint(&h->hashes[i], (enum amt_hash_type)(1 + i % 3), (unsigned)i * 7);
}

static void
assert_same(const struct hello *a, const struct hello *b)
{
    CU_ASSERT_EQUAL(a->admin_credentials_set, b->admin_credentials_set);
    CU_ASSERT_EQUAL(a->version, b->version);
    CU_ASSERT_EQUAL(a->retry_count, b->retry_count);
    CU_ASSERT_TRUE(uuid_equal(&a->uuid, &b->uuid));
    CU_ASSERT_EQUAL_FATAL(a->n_hashes, b->n_hashes);
    for (size_t i = 0; i < a->n_hashes; i++)
        CU_ASSERT_TRUE(thumbprint_equal(&a->hashes[i], &b->hashes[i]));
}

static void
assert_round_trip(const struct hello *h)
{
    unsigned char buf[HELLO_ENCODED_MAX], again[HELLO_ENCODED_MAX];
    size_t len = 0, len2 = 0;
    struct hello back;

    CU_ASSERT_EQUAL_FATAL(hello_encode(h, buf, sizeof(buf), &len), 0);
    CU_ASSERT_EQUAL(hello_decode(buf, len, &back), 0);
    assert_same(h, &back);
    CU_ASSERT_EQUAL_FATAL(hello_encode(&back, again, sizeof(again), &len2), 0);
    CU_ASSERT_EQUAL(len, len2);
    CU_ASSERT_EQUAL(memcmp(buf, again, len), 0);
}

static void
assert_refused(const struct bytes *w, int want)
{
    struct hello h;

    memset(&h, 0xa5, sizeof(h));
    CU_ASSERT_EQUAL(hello_decode(w->b, w->len, &h), want);
    /* A refused hello leaves nothing half-decoded behind. */
    CU_ASSERT_EQUAL(h.n_hashes, 0);
    CU_ASSERT_EQUAL(h.version, 0);
}

/* The example above hello_decode, byte for byte. */
static void
test_decode_example(void)
{
    static const unsigned char example[47] = {
        0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x1b, 0x3e, 0x8c,
        0x4f, 0x5d, 0x6a, 0x4e, 0x9b, 0x7c, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
        0x01, 0x01, 0x14, 0x4e, 0xb6, 0xd5, 0x78, 0x49, 0x9b, 0x1c, 0xcf, 0x5f,
        0x58, 0x1e, 0xad, 0x56, 0xbe, 0x3d, 0x9b, 0x67, 0x44, 0xa5, 0xe5,
    };
    struct hello h;
    struct amt_thumbprint root;
    char text[UUID_TEXT_SIZE];

    CU_ASSERT_EQUAL_FATAL(hello_decode(example, sizeof(example), &h), 0);
    CU_ASSERT_FALSE(h.admin_credentials_set);
    CU_ASSERT_EQUAL(h.version, 3);
    CU_ASSERT_EQUAL(h.retry_count, 0);
    CU_ASSERT_STRING_EQUAL(uuid_format(&h.uuid, text),
                           "8c3e1b2a-5d4f-4e6a-9b7c-0123456789ab");
    CU_ASSERT_EQUAL_FATAL(h.n_hashes, 1);
    CU_ASSERT_EQUAL_FATAL(
        thumbprint_parse("sha1:4eb6d578499b1ccf5f581ead56be3d9b6744a5e5", &root), 0);
    CU_ASSERT_TRUE(thumbprint_equal(&h.hashes[0], &root));
}

static void
test_fields_little_endian(void)
{
    struct bytes w;
    struct hello h;

    memset(&w, 0, sizeof(w));
    put_byte(&w, 1);
    put_byte(&w, 0);
    put_byte(&w, 3);
    put_byte(&w, 0);
    put(&w, "\x04\x03\x02\x01", 4);
    put(&w, "\x33\x22\x11\x00\x55\x44\x77\x66\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16);
    put_byte(&w, 0);
    CU_ASSERT_EQUAL_FATAL(hello_decode(w.b, w.len, &h), 0);
    CU_ASSERT_TRUE(h.admin_credentials_set);
    CU_ASSERT_EQUAL(h.retry_count, 0x01020304u);
    CU_ASSERT_EQUAL(h.uuid.b[0], 0x00);
    CU_ASSERT_EQUAL(h.uuid.b[3], 0x33);
    CU_ASSERT_EQUAL(h.uuid.b[4], 0x44);
    CU_ASSERT_EQUAL(h.uuid.b[6], 0x66);
    CU_ASSERT_EQUAL(h.uuid.b[15], 0xff);
}

static void
test_round_trips(void)
{
    struct hello h;

    make_hello(&h, 0);
    assert_round_trip(&h);
    make_hello(&h, 1);
    assert_round_trip(&h);
    make_hello(&h, 3);
    h.admin_credentials_set = true;
    h.retry_count = 0xdeadbeef;
    assert_round_trip(&h);
    make_hello(&h, 23);
    assert_round_trip(&h);
    make_hello(&h, HELLO_MAX_HASHES);
    assert_round_trip(&h);
}

static void
test_header_only_is_25_bytes(void)
{
    unsigned char buf[HELLO_ENCODED_MAX];
    size_t len = 0;
    struct hello h, back;

    make_hello(&h, 0);
    CU_ASSERT_EQUAL_FATAL(hello_encode(&h, buf, sizeof(buf), &len), 0);
    CU_ASSERT_EQUAL(len, 25);
    CU_ASSERT_EQUAL(hello_decode(buf, 25, &back), 0);
    CU_ASSERT_EQUAL(back.n_hashes, 0);
}

static void
test_max_hashes_all_sha384(void)
{
    unsigned char buf[HELLO_ENCODED_MAX];
    size_t len = 0;
    struct hello h, back;

    make_hello(&h, HELLO_MAX_HASHES);
    for (size_t i = 0; i < h.n_hashes; i++)
        make_thumbprint(&h.hashes[i], AMT_HASH_SHA384, (unsigned)i);
    CU_ASSERT_EQUAL_FATAL(hello_encode(&h, buf, sizeof(buf), &len), 0);
    CU_ASSERT_EQUAL(len, HELLO_ENCODED_MAX);
    CU_ASSERT_EQUAL(hello_decode(buf, len, &back), 0);
    assert_same(&h, &back);
}

static void
test_refuse_short(void)
{
    struct bytes w;
    struct hello h;

    put_fixed(&w, 0, 3);
    assert_refused(&w, AMT_ERR_HELLO_SHORT);
    CU_ASSERT_EQUAL(hello_decode(w.b, 0, &h), AMT_ERR_HELLO_SHORT);
    CU_ASSERT_EQUAL(hello_decode(NULL, 0, &h), AMT_ERR_HELLO_SHORT);
    put_byte(&w, 0);
    CU_ASSERT_EQUAL(hello_decode(w.b, w.len, &h), 0);
}

static void
test_refuse_too_long(void)
{
    struct bytes w;

    put_fixed(&w, 0, 3);
    put_byte(&w, 1);
    put_hash(&w, 1, 20, 0);
    w.len = HELLO_MAX_BYTES + 1;
    assert_refused(&w, AMT_ERR_HELLO_TOO_LONG);
    /* At the cap itself the size is accepted and the content judged. */
    w.len = HELLO_MAX_BYTES;
    assert_refused(&w, AMT_ERR_HELLO_TRAILING);
}

static void
test_refuse_flag(void)
{
    struct bytes w;

    put_fixed(&w, 2, 3);
    put_byte(&w, 0);
    assert_refused(&w, AMT_ERR_HELLO_FLAG);
    put_fixed(&w, 0x0100, 3);
    put_byte(&w, 0);
    assert_refused(&w, AMT_ERR_HELLO_FLAG);
}

static void
test_refuse_psk(void)
{
    static const unsigned char pid[8] = {'A', 'B', 'C', 'D', '1', '2', '3', '4'};
    struct bytes w;

    put_fixed(&w, 0, 2);
    put(&w, pid, sizeof(pid));
    CU_ASSERT_EQUAL(w.len, 32);
    assert_refused(&w, AMT_ERR_HELLO_PSK);
    /* Cut to the PKI header length, still recognised by its version. */
    w.len = 25;
    assert_refused(&w, AMT_ERR_HELLO_PSK);
}

static void
test_refuse_version(void)
{
    static const unsigned versions[] = {0, 1, 4, 0x0300, 0xffff};
    struct bytes w;

    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        put_fixed(&w, 0, versions[i]);
        put_byte(&w, 0);
        assert_refused(&w, AMT_ERR_HELLO_VERSION);
    }
}

static void
test_refuse_too_many_hashes(void)
{
    struct bytes w;

    put_fixed(&w, 0, 3);
    put_byte(&w, HELLO_MAX_HASHES + 1);
    for (unsigned i = 0; i < HELLO_MAX_HASHES + 1; i++)
        put_hash(&w, 1, 20, i);
    assert_refused(&w, AMT_ERR_HELLO_TOO_MANY_HASHES);
}

static void
test_refuse_count_above_bytes(void)
{
    struct bytes w;

    put_fixed(&w, 0, 3);
    put_byte(&w, 2);
    put_hash(&w, 1, 20, 0);
    assert_refused(&w, AMT_ERR_HELLO_HASH_COUNT);
    put_fixed(&w, 0, 3);
    put_byte(&w, 1);
    assert_refused(&w, AMT_ERR_HELLO_HASH_COUNT);
}

static void
test_refuse_count_below_bytes(void)
{
    struct bytes w;

    put_fixed(&w, 0, 3);
    put_byte(&w, 1);
    put_hash(&w, 1, 20, 0);
    put_hash(&w, 2, 32, 0);
    assert_refused(&w, AMT_ERR_HELLO_TRAILING);
    put_fixed(&w, 0, 3);
    put_byte(&w, 0);
    put_byte(&w, 0);
    assert_refused(&w, AMT_ERR_HELLO_TRAILING);
}

static void
test_refuse_truncated(void)
{
    struct bytes w;

    /* Inside the type/length pair. */
    put_fixed(&w, 0, 3);
    put_byte(&w, 1);
    put_byte(&w, 1);
    assert_refused(&w, AMT_ERR_HELLO_TRUNCATED);
    /* One byte short of each type's hash. */
    for (unsigned type = 1; type <= 3; type++) {
        put_fixed(&w, 0, 3);
        put_byte(&w, 2);
        put_hash(&w, 1, 20, 0);
        put_hash(&w, type, (unsigned)thumbprint_hash_len((int)type), 0);
        w.len--;
        assert_refused(&w, AMT_ERR_HELLO_TRUNCATED);
    }
}

static void
test_refuse_hash_type(void)
{
    static const unsigned types[] = {0, 4, 0xff};
    struct bytes w;

    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        put_fixed(&w, 0, 3);
        put_byte(&w, 1);
        put_hash(&w, types[i], 20, 0);
        assert_refused(&w, AMT_ERR_HELLO_HASH_TYPE);
    }
}

static void
test_refuse_hash_length(void)
{
    static const unsigned cases[][2] = {{1, 32}, {1, 19}, {2, 20},
                                        {2, 48}, {3, 32}, {3, 0}};
    struct bytes w;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        put_fixed(&w, 0, 3);
        put_byte(&w, 1);
        put_hash(&w, cases[i][0], cases[i][1], 0);
        assert_refused(&w, AMT_ERR_HELLO_HASH_LENGTH);
    }
}

static void
test_decode_bad_arguments(void)
{
    unsigned char buf[25] = {0, 0, 3, 0};
    struct hello h;

    CU_ASSERT_EQUAL(hello_decode(buf, sizeof(buf), NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(hello_decode(NULL, sizeof(buf), &h), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(hello_decode(buf, sizeof(buf), &h), 0);
}

static void
test_encode_refuses(void)
{
    unsigned char buf[HELLO_ENCODED_MAX];
    size_t len = 99, need = 0;
    struct hello h;

    make_hello(&h, 3);
    h.version = HELLO_VERSION_PSK;
    CU_ASSERT_EQUAL(hello_encode(&h, buf, sizeof(buf), &len), AMT_ERR_HELLO_PSK);
    CU_ASSERT_EQUAL(len, 0);
    h.version = 4;
    CU_ASSERT_EQUAL(hello_encode(&h, buf, sizeof(buf), &len), AMT_ERR_HELLO_VERSION);

    make_hello(&h, HELLO_MAX_HASHES);
    h.n_hashes = HELLO_MAX_HASHES + 1;
    CU_ASSERT_EQUAL(hello_encode(&h, buf, sizeof(buf), &len),
                    AMT_ERR_HELLO_TOO_MANY_HASHES);

    make_hello(&h, 3);
    h.hashes[2].type = (enum amt_hash_type)0;
    CU_ASSERT_EQUAL(hello_encode(&h, buf, sizeof(buf), &len), AMT_ERR_HELLO_HASH_TYPE);
    make_hello(&h, 3);
    h.hashes[1].len = 20;
    CU_ASSERT_EQUAL(hello_encode(&h, buf, sizeof(buf), &len), AMT_ERR_HELLO_HASH_LENGTH);

    make_hello(&h, 3);
    CU_ASSERT_EQUAL_FATAL(hello_encode(&h, buf, sizeof(buf), &need), 0);
    CU_ASSERT_EQUAL(need, 25 + 22 + 34 + 50);
    CU_ASSERT_EQUAL(hello_encode(&h, buf, need - 1, &len), AMT_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(hello_encode(&h, buf, need, &len), 0);
    CU_ASSERT_EQUAL(len, need);

    CU_ASSERT_EQUAL(hello_encode(NULL, buf, sizeof(buf), &len), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(hello_encode(&h, NULL, sizeof(buf), &len), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(hello_encode(&h, buf, sizeof(buf), NULL), AMT_ERR_INVALID_ARGUMENT);
}

static void
test_find_root(void)
{
    struct hello h;
    struct amt_thumbprint roots[3];

    make_hello(&h, 3); /* SHA-1 fill 0, SHA-256 fill 7, SHA-384 fill 14 */
    make_thumbprint(&roots[0], AMT_HASH_SHA256, 99);
    make_thumbprint(&roots[1], AMT_HASH_SHA384, 14);
    make_thumbprint(&roots[2], AMT_HASH_SHA1, 0);
    CU_ASSERT_EQUAL(hello_find_root(&h, roots, 3), 1);
    CU_ASSERT_EQUAL(hello_find_root(&h, roots + 2, 1), 0);
    CU_ASSERT_EQUAL(hello_find_root(&h, roots, 1), -1);
    CU_ASSERT_EQUAL(hello_find_root(&h, roots, 0), -1);

    /* The same leading bytes under another type are a different thumbprint. */
    make_thumbprint(&roots[0], AMT_HASH_SHA256, 0);
    CU_ASSERT_EQUAL(hello_find_root(&h, roots, 1), -1);
    /* One differing byte is no match. */
    make_thumbprint(&roots[0], AMT_HASH_SHA1, 0);
    roots[0].bytes[19] ^= 1;
    CU_ASSERT_EQUAL(hello_find_root(&h, roots, 1), -1);

    make_hello(&h, 0);
    CU_ASSERT_EQUAL(hello_find_root(&h, roots, 3), -1);
    CU_ASSERT_EQUAL(hello_find_root(NULL, roots, 3), -1);
    CU_ASSERT_EQUAL(hello_find_root(&h, NULL, 3), -1);
}

static CU_TestInfo hello_tests[] = {
    {"decode the documented example", test_decode_example},
    {"fields are little-endian, UUID in SMBIOS order", test_fields_little_endian},
    {"round trips", test_round_trips},
    {"header only is 25 bytes", test_header_only_is_25_bytes},
    {"max hashes, all SHA-384", test_max_hashes_all_sha384},
    {"refuse short", test_refuse_short},
    {"refuse over the size cap", test_refuse_too_long},
    {"refuse flag over 1", test_refuse_flag},
    {"refuse PSK", test_refuse_psk},
    {"refuse unknown version", test_refuse_version},
    {"refuse more hashes than the cap", test_refuse_too_many_hashes},
    {"refuse count above the bytes", test_refuse_count_above_bytes},
    {"refuse count below the bytes", test_refuse_count_below_bytes},
    {"refuse a hash cut short", test_refuse_truncated},
    {"refuse hash type", test_refuse_hash_type},
    {"refuse hash length", test_refuse_hash_length},
    {"decode bad arguments", test_decode_bad_arguments},
    {"encode refuses", test_encode_refuses},
    {"find root", test_find_root},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"hello", NULL, NULL, NULL, NULL, hello_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_hello", suites);
}
