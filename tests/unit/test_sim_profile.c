/* Version profiles: what each generation of the firmware can do (AMT-VERSION,
 * AMT-AUDIT, AMT-8021X, the 3.2.1 suffix rule of OOB-3.5). */
#include "err.h"
#include "profile.h"
#include "unit.h"

static struct sim_profile
profile(const char *text)
{
    struct sim_profile p;

    CU_ASSERT_EQUAL_FATAL(sim_profile_from_text(text, &p), 0);
    return p;
}

static void
test_named_generations(void)
{
    struct sim_profile p;

    p = profile("2.5");
    CU_ASSERT_STRING_EQUAL(p.text, "2.5.0");
    CU_ASSERT_TRUE(sim_profile_has(&p, SIM_FEATURE_SOAP));
    CU_ASSERT_FALSE(sim_profile_has(&p, SIM_FEATURE_WSMAN));
    CU_ASSERT_FALSE(sim_profile_has(&p, SIM_FEATURE_PARENT_DOMAIN_RULE));
    CU_ASSERT_EQUAL(p.realm, SIM_REALM_LEGACY);
    CU_ASSERT_EQUAL(p.tls, SIM_TLS_LEGACY);
    CU_ASSERT_EQUAL(p.hello_hash, AMT_HASH_SHA1);

    p = profile("3.2.1");
    CU_ASSERT_TRUE(sim_profile_has(&p, SIM_FEATURE_SOAP));
    CU_ASSERT_TRUE(sim_profile_has(&p, SIM_FEATURE_WSMAN));
    CU_ASSERT_TRUE(sim_profile_has(&p, SIM_FEATURE_PARENT_DOMAIN_RULE));
    CU_ASSERT_FALSE(sim_profile_has(&p, SIM_FEATURE_AUDIT));
    CU_ASSERT_FALSE(sim_profile_has(&p, SIM_FEATURE_8021X));
    CU_ASSERT_FALSE(sim_profile_has(&p, SIM_FEATURE_WIRELESS));

    p = profile("4.0.0");
    CU_ASSERT_TRUE(sim_profile_has(&p, SIM_FEATURE_AUDIT));
    CU_ASSERT_TRUE(sim_profile_has(&p, SIM_FEATURE_8021X));
    CU_ASSERT_TRUE(sim_profile_has(&p, SIM_FEATURE_WIRELESS));
    CU_ASSERT_EQUAL(p.realm, SIM_REALM_LEGACY);

    p = profile("5.0.2");
    CU_ASSERT_TRUE(sim_profile_has(&p, SIM_FEATURE_SOAP));
    CU_ASSERT_FALSE(sim_profile_has(&p, SIM_FEATURE_KEEPALIVE_AUTH));

    p = profile("12.0.45");
    CU_ASSERT_FALSE(sim_profile_has(&p, SIM_FEATURE_SOAP));
    CU_ASSERT_TRUE(sim_profile_has(&p, SIM_FEATURE_WSMAN));
    CU_ASSERT_TRUE(sim_profile_has(&p, SIM_FEATURE_KEEPALIVE_AUTH));
    CU_ASSERT_EQUAL(p.realm, SIM_REALM_DIGEST_HEX);
    CU_ASSERT_EQUAL(p.tls, SIM_TLS_1_2);
    CU_ASSERT_EQUAL(p.hello_hash, AMT_HASH_SHA256);
}

static void
test_parent_domain_rule_starts_at_3_2_1(void)
{
    struct sim_profile p = profile("3.2.0");

    CU_ASSERT_FALSE(sim_profile_has(&p, SIM_FEATURE_PARENT_DOMAIN_RULE));
    p = profile("3.2.1");
    CU_ASSERT_TRUE(sim_profile_has(&p, SIM_FEATURE_PARENT_DOMAIN_RULE));
    p = profile("3.10");
    CU_ASSERT_TRUE(sim_profile_has(&p, SIM_FEATURE_PARENT_DOMAIN_RULE));
}

static void
test_bad_versions_refused(void)
{
    static const char *bad[] = {"",        "4",    "4.",   ".4",    "4.0.",
                                "4.0.0.1", "a.b",  "4.x",  "1.9.9", "17.0",
                                "4.0000",  "-4.0", "4.0 ", " 4.0",  "16.100"};
    struct sim_profile p;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_EQUAL(sim_profile_from_text(bad[i], &p), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(sim_profile_from_text(NULL, &p), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(sim_profile_from_text(SIM_VERSION_MIN_TEXT, &p), 0);
    CU_ASSERT_EQUAL(sim_profile_from_text(SIM_VERSION_MAX_TEXT, &p), 0);
}

static void
test_feature_names(void)
{
    CU_ASSERT_STRING_EQUAL(sim_feature_name(SIM_FEATURE_AUDIT), "audit");
    CU_ASSERT_STRING_EQUAL(sim_feature_name(SIM_FEATURE_8021X), "802.1x");
    CU_ASSERT_STRING_EQUAL(sim_feature_name(SIM_FEATURE_COUNT), "unknown");
    CU_ASSERT_FALSE(sim_profile_has(NULL, SIM_FEATURE_SOAP));
}

static CU_TestInfo profile_tests[] = {
    {"named generations", test_named_generations},
    {"parent-domain rule from 3.2.1", test_parent_domain_rule_starts_at_3_2_1},
    {"bad versions refused", test_bad_versions_refused},
    {"feature names", test_feature_names},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"sim_profile", NULL, NULL, NULL, NULL, profile_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_sim_profile", suites);
}
