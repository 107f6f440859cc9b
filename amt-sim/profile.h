/*
 * What a firmware version can do. `--amt-version X.Y.Z` picks the version; every
 * capability follows from it through the threshold table in profile.c, so any
 * version in range works, not only the named generations (2.5, 3.2, 4.0, 5.0, 12.0).
 */
#ifndef AMT_SIM_PROFILE_H
#define AMT_SIM_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "thumbprint.h"

enum sim_realm_form {
    SIM_REALM_LEGACY,     /* Intel(R) AMT (ID:<UUID>) */
    SIM_REALM_DIGEST_HEX, /* Digest:<32 hex digits> */
};

enum sim_tls_profile {
    SIM_TLS_LEGACY, /* TLS 1.0, RSA key exchange, AES-CBC-SHA */
    SIM_TLS_1_2,
};

enum sim_feature {
    SIM_FEATURE_SOAP,               /* the phase 1 SOAP interface */
    SIM_FEATURE_WSMAN,              /* WS-Management at /wsman */
    SIM_FEATURE_PARENT_DOMAIN_RULE, /* 3.2.1+: names sharing a parent domain match */
    SIM_FEATURE_AUDIT,              /* audit log (AMT-AUDIT) */
    SIM_FEATURE_8021X,              /* 802.1X wired profiles (AMT-8021X) */
    SIM_FEATURE_WIRELESS,           /* wireless profiles */
    SIM_FEATURE_KEEPALIVE_AUTH,     /* credential cached on a TLS keep-alive link */
    SIM_FEATURE_COUNT,
};

struct sim_version {
    unsigned major, minor, micro;
};

struct sim_profile {
    struct sim_version version;
    char text[32]; /* "4.0.3" */
    bool features[SIM_FEATURE_COUNT];
    enum sim_realm_form realm;
    enum sim_tls_profile tls;
    enum amt_hash_type hello_hash; /* thumbprint type of the embedded roots */
};

#define SIM_VERSION_MIN_TEXT "2.0.0"
#define SIM_VERSION_MAX_TEXT "16.99.99"

/*
 * Parses "X.Y" or "X.Y.Z" (a missing micro is 0) in the supported range and fills
 * the profile. AMT_ERR_INVALID_ARGUMENT for anything else.
 */
int sim_profile_from_text(const char *text, struct sim_profile *out);

bool sim_profile_has(const struct sim_profile *p, enum sim_feature f);

/* "soap", "wsman", "parent-domain-rule", "audit", "802.1x", "wireless", ... */
const char *sim_feature_name(enum sim_feature f);

/* <0, 0, >0 as a is older than, equal to, newer than b. */
int sim_version_cmp(const struct sim_version *a, const struct sim_version *b);

#endif
