/* Namespace rules (catalogue NS-FOREST): the seed's examples and each verdict's edges. */
#include "err.h"
#include "nsrules.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

/* contoso.com's forest: a second tree (northwindtraders.com) and child domains. */
static const char *const contoso_domains[] = {
    "contoso.com",
    "na.contoso.com",
    "northwindtraders.com",
    "eu.northwindtraders.com",
};
static const struct ns_forest contoso = {"contoso.com", contoso_domains, 4};

static const char *const fabrikam_domains[] = {"fabrikam.com", "corp.fabrikam.com",
                                               "na.corp.fabrikam.com"};
static const struct ns_forest fabrikam = {"fabrikam.com", fabrikam_domains, 3};

static enum ns_verdict
classify(const char *sp, const char *fqdn, const char *domain,
         const struct ns_forest *forest)
{
    enum ns_verdict v = (enum ns_verdict)99;
    int r = ns_classify(sp, fqdn, domain, forest, &v);

    CU_ASSERT_EQUAL(r, v == NS_SUPPORTED ? 0 : AMT_ERR_NS_UNSUPPORTED);
    return v;
}

static void
test_seed_non_contiguous(void)
{
    CU_ASSERT_EQUAL(classify("contoso.com", "computer1.northwindtraders.com",
                             "northwindtraders.com", &contoso),
                    NS_NON_CONTIGUOUS);
    /* Without the forest the verdict is the same: the SP's domain is its own tree. */
    CU_ASSERT_EQUAL(classify("contoso.com", "computer1.northwindtraders.com",
                             "northwindtraders.com", NULL),
                    NS_NON_CONTIGUOUS);
    /* A child domain of the other tree is just as far outside. */
    CU_ASSERT_EQUAL(classify("na.contoso.com", "pc.eu.northwindtraders.com",
                             "eu.northwindtraders.com", &contoso),
                    NS_NON_CONTIGUOUS);
}

static void
test_seed_disjoint(void)
{
    CU_ASSERT_EQUAL(classify("fabrikam.com", "computer1.corp.fabrikam.com",
                             "na.corp.fabrikam.com", &fabrikam),
                    NS_DISJOINT);
    CU_ASSERT_EQUAL(classify("corp.fabrikam.com", "computer1.corp.fabrikam.com",
                             "na.corp.fabrikam.com", NULL),
                    NS_DISJOINT);
    /* A one-label name has no DNS suffix at all. */
    CU_ASSERT_EQUAL(classify("contoso.com", "computer1", "contoso.com", &contoso),
                    NS_DISJOINT);
    CU_ASSERT_EQUAL(classify("contoso.com", "computer1.", "contoso.com", &contoso),
                    NS_DISJOINT);
}

static void
test_workgroup(void)
{
    CU_ASSERT_EQUAL(classify("contoso.com", "computer1.contoso.com", NULL, &contoso),
                    NS_WORKGROUP);
    CU_ASSERT_EQUAL(classify("contoso.com", "computer1.contoso.com", "", NULL),
                    NS_WORKGROUP);
    CU_ASSERT_EQUAL(classify("contoso.com", "workstation", NULL, NULL), NS_WORKGROUP);
}

static void
test_other_forest(void)
{
    CU_ASSERT_EQUAL(
        classify("contoso.com", "computer1.fabrikam.com", "fabrikam.com", &contoso),
        NS_OTHER_FOREST);
    /* Whole labels: badcontoso.com only looks like it belongs. */
    CU_ASSERT_EQUAL(
        classify("contoso.com", "computer1.badcontoso.com", "badcontoso.com", &contoso),
        NS_OTHER_FOREST);
    /* Under a listed child but not listed, and not under the root: not in the forest. */
    CU_ASSERT_EQUAL(classify("contoso.com", "pc.x.eu.northwindtraders.com",
                             "x.eu.northwindtraders.com", &contoso),
                    NS_OTHER_FOREST);
    /* Without a forest description the same computer cannot be told apart. */
    CU_ASSERT_EQUAL(
        classify("contoso.com", "computer1.fabrikam.com", "fabrikam.com", NULL),
        NS_NON_CONTIGUOUS);
}

static void
test_supported(void)
{
    CU_ASSERT_EQUAL(
        classify("contoso.com", "computer1.contoso.com", "contoso.com", &contoso),
        NS_SUPPORTED);
    CU_ASSERT_EQUAL(
        classify("contoso.com", "pc.na.contoso.com", "na.contoso.com", &contoso),
        NS_SUPPORTED);
    /* Not listed but under the forest root: a child domain is in the forest. */
    CU_ASSERT_EQUAL(
        classify("contoso.com", "pc.eu.contoso.com", "eu.contoso.com", &contoso),
        NS_SUPPORTED);
    /* An SP in a child domain shares its tree root's namespace. */
    CU_ASSERT_EQUAL(
        classify("na.contoso.com", "computer1.contoso.com", "contoso.com", &contoso),
        NS_SUPPORTED);
    CU_ASSERT_EQUAL(classify("eu.northwindtraders.com", "pc.northwindtraders.com",
                             "northwindtraders.com", &contoso),
                    NS_SUPPORTED);
    /* Case and a trailing dot do not matter. */
    CU_ASSERT_EQUAL(
        classify("Contoso.COM.", "COMPUTER1.contoso.com.", "CONTOSO.com", &contoso),
        NS_SUPPORTED);
    CU_ASSERT_EQUAL(classify("corp.fabrikam.com", "computer1.na.corp.fabrikam.com",
                             "na.corp.fabrikam.com", NULL),
                    NS_SUPPORTED);
    /* The verdict pointer is optional. */
    CU_ASSERT_EQUAL(
        ns_classify("contoso.com", "a.contoso.com", "contoso.com", NULL, NULL), 0);
    CU_ASSERT_EQUAL(ns_classify("contoso.com", "a.contoso.com", NULL, NULL, NULL),
                    AMT_ERR_NS_UNSUPPORTED);
}

static void
test_invalid_names(void)
{
    enum ns_verdict v = NS_DISJOINT;
    static const char *const bad_domains[] = {"contoso.com", "bad_name.com"};
    const struct ns_forest bad_list = {"contoso.com", bad_domains, 2};
    const struct ns_forest bad_root = {"-contoso.com", NULL, 0};
    const struct ns_forest no_root = {NULL, NULL, 0};
    const struct ns_forest no_list = {"contoso.com", NULL, 1};

    CU_ASSERT_EQUAL(ns_classify("contoso..com", "a.contoso.com", "contoso.com", NULL, &v),
                    AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(v, NS_SUPPORTED);
    CU_ASSERT_EQUAL(
        ns_classify("contoso.com", "a b.contoso.com", "contoso.com", NULL, &v),
        AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(ns_classify("contoso.com", "a.contoso.com", "contoso-.com", NULL, &v),
                    AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(ns_classify("contoso.com", "a.contoso.com", ".", NULL, &v),
                    AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(
        ns_classify("contoso.com", "a.contoso.com", "contoso.com", &bad_list, &v),
        AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(
        ns_classify("contoso.com", "a.contoso.com", "contoso.com", &bad_root, &v),
        AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(
        ns_classify("contoso.com", "a.contoso.com", "contoso.com", &no_root, &v),
        AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(
        ns_classify("contoso.com", "a.contoso.com", "contoso.com", &no_list, &v),
        AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(ns_classify(NULL, "a.contoso.com", "contoso.com", NULL, &v),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(ns_classify("contoso.com", NULL, "contoso.com", NULL, &v),
                    AMT_ERR_INVALID_ARGUMENT);
    /* The SP must be in the forest that is said to be its own. */
    CU_ASSERT_EQUAL(
        ns_classify("fabrikam.com", "a.fabrikam.com", "fabrikam.com", &contoso, &v),
        AMT_ERR_INVALID_ARGUMENT);
}

static void
test_name_valid(void)
{
    char label63[64], label64[65], long_name[300];

    memset(label63, 'a', 63);
    label63[63] = '\0';
    memset(label64, 'a', 64);
    label64[64] = '\0';

    CU_ASSERT_EQUAL(ns_name_valid("contoso.com"), 0);
    CU_ASSERT_EQUAL(ns_name_valid("contoso.com."), 0);
    CU_ASSERT_EQUAL(ns_name_valid("x"), 0);
    CU_ASSERT_EQUAL(ns_name_valid("a-1.b2.C3"), 0);
    CU_ASSERT_EQUAL(ns_name_valid(label63), 0);
    CU_ASSERT_EQUAL(ns_name_valid(label64), AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(ns_name_valid(""), AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(ns_name_valid("."), AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(ns_name_valid("a.."), AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(ns_name_valid(".a"), AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(ns_name_valid("-a.com"), AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(ns_name_valid("a-.com"), AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(ns_name_valid("a.com-"), AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(ns_name_valid("a_b.com"), AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(ns_name_valid("caf\xc3\xa9.com"), AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(ns_name_valid(NULL), AMT_ERR_INVALID_ARGUMENT);

    /* 4 labels of 63 plus 3 dots is 255: too long; trimmed to 253 it is fine. */
    snprintf(long_name, sizeof(long_name), "%s.%s.%s.%s", label63, label63, label63,
             label63);
    CU_ASSERT_EQUAL(strlen(long_name), 255);
    CU_ASSERT_EQUAL(ns_name_valid(long_name), AMT_ERR_NS_NAME);
    long_name[253] = '\0';
    CU_ASSERT_EQUAL(ns_name_valid(long_name), 0);
    long_name[253] = '.';
    long_name[254] = '\0';
    CU_ASSERT_EQUAL(ns_name_valid(long_name), 0);
}

static void
test_name_is_under(void)
{
    char long_name[300];

    CU_ASSERT_TRUE(ns_name_is_under("a.contoso.com", "contoso.com"));
    CU_ASSERT_TRUE(ns_name_is_under("a.b.contoso.com", "contoso.com"));
    CU_ASSERT_TRUE(ns_name_is_under("contoso.com", "contoso.com"));
    CU_ASSERT_TRUE(ns_name_is_under("A.Contoso.Com.", "contoso.COM"));
    CU_ASSERT_TRUE(ns_name_is_under("a.contoso.com", "contoso.com."));
    CU_ASSERT_FALSE(ns_name_is_under("badcontoso.com", "contoso.com"));
    CU_ASSERT_FALSE(ns_name_is_under(".contoso.com", "contoso.com"));
    CU_ASSERT_FALSE(ns_name_is_under("com", "contoso.com"));
    CU_ASSERT_FALSE(ns_name_is_under("contoso.com", "a.contoso.com"));
    CU_ASSERT_FALSE(ns_name_is_under("contoso.com", ""));
    CU_ASSERT_FALSE(ns_name_is_under("contoso.com", "."));
    CU_ASSERT_FALSE(ns_name_is_under("", ""));
    CU_ASSERT_FALSE(ns_name_is_under("a..", ""));
    CU_ASSERT_FALSE(ns_name_is_under(NULL, "contoso.com"));
    CU_ASSERT_FALSE(ns_name_is_under("contoso.com", NULL));
    /* Names beyond the cap never match, however they end. */
    memset(long_name, 'a', sizeof(long_name));
    strcpy(long_name + sizeof(long_name) - 13, ".contoso.com");
    CU_ASSERT_FALSE(ns_name_is_under(long_name, "contoso.com"));
    CU_ASSERT_FALSE(ns_name_equal(long_name, long_name));

    CU_ASSERT_TRUE(ns_name_equal("Contoso.com.", "contoso.COM"));
    CU_ASSERT_FALSE(ns_name_equal("contoso.com", "contoso.co"));
    CU_ASSERT_FALSE(ns_name_equal("contoso.com", "contoso.org"));
    CU_ASSERT_FALSE(ns_name_equal(NULL, "contoso.com"));
}

static void
test_verdict_names(void)
{
    CU_ASSERT_STRING_EQUAL(ns_verdict_name(NS_SUPPORTED), "supported");
    CU_ASSERT_STRING_EQUAL(ns_verdict_name(NS_WORKGROUP), "workgroup");
    CU_ASSERT_STRING_EQUAL(ns_verdict_name(NS_OTHER_FOREST), "other-forest");
    CU_ASSERT_STRING_EQUAL(ns_verdict_name(NS_NON_CONTIGUOUS), "non-contiguous");
    CU_ASSERT_STRING_EQUAL(ns_verdict_name(NS_DISJOINT), "disjoint");
    CU_ASSERT_STRING_EQUAL(ns_verdict_name(-1), "unknown");
    CU_ASSERT_STRING_EQUAL(ns_verdict_name(NS_DISJOINT + 1), "unknown");
    CU_ASSERT_STRING_NOT_EQUAL(amt_strerror(AMT_ERR_NS_UNSUPPORTED), "unknown error");
    CU_ASSERT_STRING_NOT_EQUAL(amt_strerror(AMT_ERR_NS_NAME), "unknown error");
}

static CU_TestInfo nsrules_tests[] = {
    {"seed example: non-contiguous", test_seed_non_contiguous},
    {"seed example: disjoint", test_seed_disjoint},
    {"workgroup", test_workgroup},
    {"other forest", test_other_forest},
    {"supported", test_supported},
    {"invalid names refused", test_invalid_names},
    {"DNS name validity", test_name_valid},
    {"whole-label suffix match", test_name_is_under},
    {"verdict names", test_verdict_names},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"nsrules", NULL, NULL, NULL, NULL, nsrules_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_nsrules", suites);
}
