/* UUIDs: strict text form, SMBIOS byte order, random version-4 generation. */
#include "err.h"
#include "unit.h"
#include "uuid.h"

#include <string.h>

static const struct amt_uuid sample = {{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                        0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}};

static void
test_parse_and_format(void)
{
    struct amt_uuid u;
    char text[UUID_TEXT_SIZE];

    CU_ASSERT_EQUAL(uuid_parse("00112233-4455-6677-8899-aabbccddeeff", &u), 0);
    CU_ASSERT_TRUE(uuid_equal(&u, &sample));
    CU_ASSERT_STRING_EQUAL(uuid_format(&u, text), "00112233-4455-6677-8899-aabbccddeeff");
    CU_ASSERT_EQUAL(uuid_parse("00112233-4455-6677-8899-AABBCCDDEEFF", &u), 0);
    CU_ASSERT_TRUE(uuid_equal(&u, &sample));
    CU_ASSERT_EQUAL(uuid_parse("8C3e1B2a-5d4F-4e6a-9b7c-0123456789aB", &u), 0);
    CU_ASSERT_STRING_EQUAL(uuid_format(&u, text), "8c3e1b2a-5d4f-4e6a-9b7c-0123456789ab");
}

static void
test_parse_refuses(void)
{
    static const char *const bad[] = {
        "",
        "00112233-4455-6677-8899-aabbccddeef",     /* one digit short */
        "00112233-4455-6677-8899-aabbccddeeff0",   /* one digit long */
        "00112233-4455-6677-8899-aabbccddeeff ",   /* trailing space */
        " 00112233-4455-6677-8899-aabbccddeef",    /* leading space */
        "001122334-455-6677-8899-aabbccddeeff",    /* hyphen moved */
        "00112233-4455-6677-8899:aabbccddeeff",    /* wrong separator */
        "0011223344556677-8899-aabbccddeeff-00",   /* hyphens elsewhere */
        "00112233044550667708899-aabbccddeeff",    /* digits where hyphens go */
        "0011223g-4455-6677-8899-aabbccddeeff",    /* not hex */
        "00112233-4455-6677-8899-aabbccddeef\xc3", /* high byte */
        "{0112233-4455-6677-8899-aabbccddeef}",    /* braces */
        "00112233445566778899aabbccddeeff",        /* no hyphens */
    };
    struct amt_uuid u = sample;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CU_ASSERT_EQUAL(uuid_parse(bad[i], &u), AMT_ERR_UUID_FORMAT);
        CU_ASSERT_TRUE(uuid_equal(&u, &sample));
    }
    CU_ASSERT_EQUAL(uuid_parse(NULL, &u), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(uuid_parse("00112233-4455-6677-8899-aabbccddeeff", NULL),
                    AMT_ERR_INVALID_ARGUMENT);
}

static void
test_smbios_order(void)
{
    static const unsigned char want[16] = {0x33, 0x22, 0x11, 0x00, 0x55, 0x44,
                                           0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb,
                                           0xcc, 0xdd, 0xee, 0xff};
    unsigned char wire[16];
    struct amt_uuid back, in_place = sample;

    uuid_to_smbios(&sample, wire);
    CU_ASSERT_EQUAL(memcmp(wire, want, sizeof(want)), 0);
    uuid_from_smbios(wire, &back);
    CU_ASSERT_TRUE(uuid_equal(&back, &sample));
    /* Converting in place must not read bytes it has already overwritten. */
    uuid_to_smbios(&in_place, in_place.b);
    CU_ASSERT_EQUAL(memcmp(in_place.b, want, sizeof(want)), 0);
    uuid_from_smbios(in_place.b, &in_place);
    CU_ASSERT_TRUE(uuid_equal(&in_place, &sample));
}

static void
test_equal(void)
{
    struct amt_uuid other = sample;

    CU_ASSERT_TRUE(uuid_equal(&sample, &other));
    other.b[15] ^= 1;
    CU_ASSERT_FALSE(uuid_equal(&sample, &other));
    other = sample;
    other.b[0] ^= 0x80;
    CU_ASSERT_FALSE(uuid_equal(&sample, &other));
    CU_ASSERT_FALSE(uuid_equal(NULL, &sample));
    CU_ASSERT_FALSE(uuid_equal(&sample, NULL));
}

static void
test_random_is_version_4(void)
{
    struct amt_uuid a, b;
    char text[UUID_TEXT_SIZE];

    CU_ASSERT_EQUAL(uuid_random(NULL), AMT_ERR_INVALID_ARGUMENT);
    for (int i = 0; i < 64; i++) {
        CU_ASSERT_EQUAL_FATAL(uuid_random(&a), 0);
        CU_ASSERT_EQUAL(a.b[6] >> 4, 4);
        CU_ASSERT_EQUAL(a.b[8] & 0xc0, 0x80);
        uuid_format(&a, text);
        CU_ASSERT_EQUAL(text[14], '4');
        CU_ASSERT_PTR_NOT_NULL(strchr("89ab", text[19]));
        CU_ASSERT_EQUAL(uuid_parse(text, &b), 0);
        CU_ASSERT_TRUE(uuid_equal(&a, &b));
    }
    CU_ASSERT_EQUAL(uuid_random(&b), 0);
    CU_ASSERT_FALSE(uuid_equal(&a, &b));
}

static CU_TestInfo uuid_tests[] = {
    {"parse and format", test_parse_and_format},
    {"parse refuses other forms", test_parse_refuses},
    {"SMBIOS byte order", test_smbios_order},
    {"equal", test_equal},
    {"random is version 4", test_random_is_version_4},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"uuid", NULL, NULL, NULL, NULL, uuid_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_uuid", suites);
}
