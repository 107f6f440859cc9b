/*
 * AMT password and user name policy, each rule on its own, and the generator: many
 * passwords, each checked, and the characters spread as the design says.
 */
#include "err.h"
#include "password.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

static enum password_rule
rule_of(const char *password)
{
    enum password_rule rule = (enum password_rule)99;
    int r = password_check(password, &rule);

    CU_ASSERT_EQUAL(r, rule == PASSWORD_OK ? 0 : AMT_ERR_PASSWORD_POLICY);
    return rule;
}

static void
test_policy_accepts(void)
{
    CU_ASSERT_EQUAL(rule_of("Passw0rd!"), PASSWORD_OK);
    CU_ASSERT_EQUAL(rule_of("aA1!aA1!"), PASSWORD_OK);
    CU_ASSERT_EQUAL(rule_of("aA1!aA1!aA1!aA1!aA1!aA1!aA1!aA1!"), PASSWORD_OK);
    /* The space is printable and not alphanumeric: it is a symbol. */
    CU_ASSERT_EQUAL(rule_of("Passw0rd x"), PASSWORD_OK);
    CU_ASSERT_EQUAL(rule_of("P@ssw0rd_~"), PASSWORD_OK);
    CU_ASSERT_EQUAL(password_check("Passw0rd!", NULL), 0);
}

static void
test_policy_each_rule(void)
{
    enum password_rule rule = PASSWORD_NO_SYMBOL;

    CU_ASSERT_EQUAL(rule_of("aA1!aA1"), PASSWORD_TOO_SHORT);
    CU_ASSERT_EQUAL(rule_of(""), PASSWORD_TOO_SHORT);
    CU_ASSERT_EQUAL(rule_of("aA1!aA1!aA1!aA1!aA1!aA1!aA1!aA1!a"), PASSWORD_TOO_LONG);
    CU_ASSERT_EQUAL(rule_of("Passw0rd!\x7f"), PASSWORD_NON_PRINTABLE);
    CU_ASSERT_EQUAL(rule_of("Passw0rd\t!"), PASSWORD_NON_PRINTABLE);
    CU_ASSERT_EQUAL(rule_of("P\xc3\xa4ssw0rd!"), PASSWORD_NON_PRINTABLE);
    CU_ASSERT_EQUAL(rule_of("Passw0rd!:"), PASSWORD_FORBIDDEN_CHAR);
    CU_ASSERT_EQUAL(rule_of("Passw0rd!,"), PASSWORD_FORBIDDEN_CHAR);
    CU_ASSERT_EQUAL(rule_of("Passw0rd!\""), PASSWORD_FORBIDDEN_CHAR);
    CU_ASSERT_EQUAL(rule_of("Password!"), PASSWORD_NO_DIGIT);
    CU_ASSERT_EQUAL(rule_of("PASSW0RD!"), PASSWORD_NO_LOWER);
    CU_ASSERT_EQUAL(rule_of("passw0rd!"), PASSWORD_NO_UPPER);
    CU_ASSERT_EQUAL(rule_of("Passw0rdX"), PASSWORD_NO_SYMBOL);
    /* '_' counts as alphanumeric, so it does not satisfy the symbol rule. */
    CU_ASSERT_EQUAL(rule_of("Passw0rd_"), PASSWORD_NO_SYMBOL);
    CU_ASSERT_EQUAL(password_check(NULL, &rule), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(rule, PASSWORD_OK);
}

static void
test_rule_names(void)
{
    CU_ASSERT_STRING_EQUAL(password_rule_name(PASSWORD_OK), "ok");
    CU_ASSERT_STRING_EQUAL(password_rule_name(PASSWORD_TOO_SHORT), "too-short");
    CU_ASSERT_STRING_EQUAL(password_rule_name(PASSWORD_TOO_LONG), "too-long");
    CU_ASSERT_STRING_EQUAL(password_rule_name(PASSWORD_NON_PRINTABLE), "non-printable");
    CU_ASSERT_STRING_EQUAL(password_rule_name(PASSWORD_FORBIDDEN_CHAR), "forbidden-char");
    CU_ASSERT_STRING_EQUAL(password_rule_name(PASSWORD_NO_DIGIT), "no-digit");
    CU_ASSERT_STRING_EQUAL(password_rule_name(PASSWORD_NO_LOWER), "no-lower");
    CU_ASSERT_STRING_EQUAL(password_rule_name(PASSWORD_NO_UPPER), "no-upper");
    CU_ASSERT_STRING_EQUAL(password_rule_name(PASSWORD_NO_SYMBOL), "no-symbol");
    CU_ASSERT_STRING_EQUAL(password_rule_name(-1), "unknown");
    CU_ASSERT_STRING_EQUAL(password_rule_name(PASSWORD_NO_SYMBOL + 1), "unknown");
    CU_ASSERT_STRING_EQUAL(password_user_rule_name(PASSWORD_USER_OK), "ok");
    CU_ASSERT_STRING_EQUAL(password_user_rule_name(PASSWORD_USER_EMPTY), "empty");
    CU_ASSERT_STRING_EQUAL(password_user_rule_name(PASSWORD_USER_TOO_LONG), "too-long");
    CU_ASSERT_STRING_EQUAL(password_user_rule_name(PASSWORD_USER_NON_PRINTABLE),
                           "non-printable");
    CU_ASSERT_STRING_EQUAL(password_user_rule_name(PASSWORD_USER_FORBIDDEN_CHAR),
                           "forbidden-char");
    CU_ASSERT_STRING_EQUAL(password_user_rule_name(PASSWORD_USER_RESERVED), "reserved");
    CU_ASSERT_STRING_EQUAL(password_user_rule_name(-1), "unknown");
    CU_ASSERT_STRING_EQUAL(password_user_rule_name(PASSWORD_USER_RESERVED + 1),
                           "unknown");
    CU_ASSERT_STRING_NOT_EQUAL(amt_strerror(AMT_ERR_PASSWORD_POLICY), "unknown error");
    CU_ASSERT_STRING_NOT_EQUAL(amt_strerror(AMT_ERR_USERNAME_POLICY), "unknown error");
}

static enum password_user_rule
user_rule_of(const char *user)
{
    enum password_user_rule rule = (enum password_user_rule)99;
    int r = password_check_user(user, &rule);

    CU_ASSERT_EQUAL(r, rule == PASSWORD_USER_OK ? 0 : AMT_ERR_USERNAME_POLICY);
    return rule;
}

static void
test_user_names(void)
{
    enum password_user_rule rule = PASSWORD_USER_EMPTY;

    CU_ASSERT_EQUAL(user_rule_of("admin"), PASSWORD_USER_OK);
    CU_ASSERT_EQUAL(user_rule_of("a"), PASSWORD_USER_OK);
    CU_ASSERT_EQUAL(user_rule_of("0123456789abcdef"), PASSWORD_USER_OK);
    CU_ASSERT_EQUAL(user_rule_of("$admin"), PASSWORD_USER_OK);
    CU_ASSERT_EQUAL(user_rule_of("ad$$min"), PASSWORD_USER_OK);
    CU_ASSERT_EQUAL(user_rule_of(""), PASSWORD_USER_EMPTY);
    CU_ASSERT_EQUAL(user_rule_of("0123456789abcdefg"), PASSWORD_USER_TOO_LONG);
    CU_ASSERT_EQUAL(user_rule_of("ad\nmin"), PASSWORD_USER_NON_PRINTABLE);
    CU_ASSERT_EQUAL(user_rule_of("ad:min"), PASSWORD_USER_FORBIDDEN_CHAR);
    CU_ASSERT_EQUAL(user_rule_of("$$admin"), PASSWORD_USER_RESERVED);
    CU_ASSERT_EQUAL(user_rule_of("$$"), PASSWORD_USER_RESERVED);
    CU_ASSERT_EQUAL(password_check_user("admin", NULL), 0);
    CU_ASSERT_EQUAL(password_check_user(NULL, &rule), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(rule, PASSWORD_USER_OK);
}

static void
test_generate_arguments(void)
{
    char buf[64];

    CU_ASSERT_EQUAL(password_generate(buf, sizeof(buf), 7), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(password_generate(buf, sizeof(buf), 33), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(password_generate(NULL, sizeof(buf), 16), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(password_generate(buf, 16, 16), AMT_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(password_generate(buf, 8, 0), AMT_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(password_generate(buf, 17, 16), 0);
    CU_ASSERT_EQUAL(strlen(buf), 16);
    CU_ASSERT_EQUAL(password_generate(buf, sizeof(buf), 0), 0);
    CU_ASSERT_EQUAL(strlen(buf), PASSWORD_DEFAULT_LEN);
}

static void
test_generate_every_length(void)
{
    char buf[PASSWORD_MAX_LEN + 1];

    for (size_t len = PASSWORD_MIN_LEN; len <= PASSWORD_MAX_LEN; len++)
        for (int i = 0; i < 300; i++) {
            enum password_rule rule = PASSWORD_OK;

            CU_ASSERT_EQUAL_FATAL(password_generate(buf, sizeof(buf), len), 0);
            CU_ASSERT_EQUAL_FATAL(strlen(buf), len);
            CU_ASSERT_EQUAL(password_check(buf, &rule), 0);
            if (rule != PASSWORD_OK)
                CU_FAIL(password_rule_name(rule));
        }
}

static int
compare_passwords(const void *a, const void *b)
{
    return strcmp(a, b);
}

enum { CLASS_DIGIT, CLASS_LOWER, CLASS_UPPER, CLASS_SYMBOL, CLASS_OTHER };

static int
class_of(int c)
{
    if (c >= '0' && c <= '9')
        return CLASS_DIGIT;
    if (c >= 'a' && c <= 'z')
        return CLASS_LOWER;
    if (c >= 'A' && c <= 'Z')
        return CLASS_UPPER;
    if (c > ' ' && c <= '~' && c != '_' && c != ':' && c != ',' && c != '"')
        return CLASS_SYMBOL;
    return CLASS_OTHER;
}

/*
 * 10000 passwords of 16: one character of each class is placed, 12 are drawn from
 * 90 (10 digits, 26 + 26 letters, 28 symbols), and the order is shuffled. The bounds
 * below are several standard deviations wide: a wrong design fails them, chance
 * does not.
 */
#define N_SAMPLES 10000
#define SAMPLE_LEN 16

static void
test_generate_distribution(void)
{
    static char all[N_SAMPLES][SAMPLE_LEN + 1];
    static const double class_size[] = {10, 26, 26, 28};
    unsigned long per_char[256] = {0}, per_class[5] = {0}, first[5] = {0}, last[5] = {0};
    const double total = (double)N_SAMPLES * SAMPLE_LEN;

    for (int i = 0; i < N_SAMPLES; i++) {
        CU_ASSERT_EQUAL_FATAL(password_generate(all[i], sizeof(all[i]), SAMPLE_LEN), 0);
        for (int j = 0; j < SAMPLE_LEN; j++) {
            int c = (unsigned char)all[i][j];

            per_char[c]++;
            per_class[class_of(c)]++;
        }
        first[class_of((unsigned char)all[i][0])]++;
        last[class_of((unsigned char)all[i][SAMPLE_LEN - 1])]++;
    }
    CU_ASSERT_EQUAL(per_class[CLASS_OTHER], 0);
    for (int k = CLASS_DIGIT; k <= CLASS_SYMBOL; k++) {
        double expected = (1 + (SAMPLE_LEN - 4) * class_size[k] / 90) / SAMPLE_LEN;
        double share = per_class[k] / total;

        CU_ASSERT(share > expected - 0.01 && share < expected + 0.01);
        /* Shuffled: the guaranteed characters are not stuck at the front. */
        CU_ASSERT((double)first[k] / N_SAMPLES > expected - 0.03 &&
                  (double)first[k] / N_SAMPLES < expected + 0.03);
        CU_ASSERT((double)last[k] / N_SAMPLES > expected - 0.03 &&
                  (double)last[k] / N_SAMPLES < expected + 0.03);
    }
    for (int c = 0; c < 256; c++) {
        int k = class_of(c);
        double expected;

        if (k == CLASS_OTHER)
            continue;
        expected = per_class[k] / class_size[k];
        CU_ASSERT(per_char[c] > 0.8 * expected && per_char[c] < 1.2 * expected);
    }
    qsort(all, N_SAMPLES, sizeof(all[0]), compare_passwords);
    for (int i = 1; i < N_SAMPLES; i++)
        CU_ASSERT(strcmp(all[i - 1], all[i]) != 0);
    password_wipe(all[0], sizeof(all));
}

static void
test_wipe(void)
{
    char buf[32];
    char zero[32] = {0};

    memset(buf, 'x', sizeof(buf));
    password_wipe(buf, sizeof(buf));
    CU_ASSERT_EQUAL(memcmp(buf, zero, sizeof(buf)), 0);
    password_wipe(NULL, 10);
    password_wipe(buf, 0);
}

static CU_TestInfo password_tests[] = {
    {"policy accepts", test_policy_accepts},
    {"policy: each rule on its own", test_policy_each_rule},
    {"rule names", test_rule_names},
    {"user names", test_user_names},
    {"generator arguments", test_generate_arguments},
    {"generator meets the policy at every length", test_generate_every_length},
    {"generator distribution", test_generate_distribution},
    {"wipe", test_wipe},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"password", NULL, NULL, NULL, NULL, password_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_password", suites);
}
