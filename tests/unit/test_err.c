/* amt_strerror: every code has its own sentence, unknown codes a generic one. */
#include "err.h"
#include "unit.h"

#include <string.h>

static const int known_codes[] = {
    AMT_OK,
    AMT_ERR_INTERNAL,
    AMT_ERR_HELLO_SHORT,
    AMT_ERR_HELLO_PSK,
    AMT_ERR_CERT_REFUSED,
    AMT_ERR_XML_DOCTYPE,
    AMT_ERR_SETTINGS_VALUE,
};

static void
test_known_codes_have_distinct_text(void)
{
    size_t n = sizeof(known_codes) / sizeof(known_codes[0]);

    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_STRING_NOT_EQUAL(amt_strerror(known_codes[i]), "unknown error");
        for (size_t j = i + 1; j < n; j++)
            CU_ASSERT_STRING_NOT_EQUAL(amt_strerror(known_codes[i]),
                                       amt_strerror(known_codes[j]));
    }
}

static void
test_unknown_code(void)
{
    CU_ASSERT_STRING_EQUAL(amt_strerror(-99999), "unknown error");
    CU_ASSERT_STRING_EQUAL(amt_strerror(12345), "unknown error");
}

static CU_TestInfo err_tests[] = {
    {"known codes have distinct text", test_known_codes_have_distinct_text},
    {"unknown code", test_unknown_code},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"err", NULL, NULL, NULL, NULL, err_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_err", suites);
}
