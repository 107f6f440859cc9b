#include "profile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

/*
 * One row a capability: the first version that has it and the first that no longer
 * does (0.0.0 = still present). Sources: amt-facts.md and seed 000. Rows marked
 * [assumption] are not pinned down by a public source; they are documented in
 * the README as such.
 */
static const struct feature_row {
    enum sim_feature feature;
    const char *name;
    struct sim_version since;
    struct sim_version until;
} feature_table[] = {
    /* [assumption] SOAP left with AMT 9; WS-Management arrived with AMT 3.0 */
    {SIM_FEATURE_SOAP, "soap", {2, 0, 0}, {9, 0, 0}},
    {SIM_FEATURE_WSMAN, "wsman", {3, 0, 0}, {0, 0, 0}},
    {SIM_FEATURE_PARENT_DOMAIN_RULE, "parent-domain-rule", {3, 2, 1}, {0, 0, 0}},
    {SIM_FEATURE_AUDIT, "audit", {4, 0, 0}, {0, 0, 0}},
    {SIM_FEATURE_8021X, "802.1x", {4, 0, 0}, {0, 0, 0}},
    {SIM_FEATURE_WIRELESS, "wireless", {4, 0, 0}, {0, 0, 0}},
    {SIM_FEATURE_KEEPALIVE_AUTH, "keepalive-auth", {6, 0, 0}, {0, 0, 0}},
};

/* [assumption] the "Digest:" realm form from AMT 6.0 */
static const struct sim_version realm_digest_hex_since = {6, 0, 0};
/* TLS 1.2 from AMT 12 */
static const struct sim_version tls12_since = {12, 0, 0};
/* [assumption] SHA-256 root thumbprints with the WS-Management-only generation */
static const struct sim_version sha256_roots_since = {9, 0, 0};

static const struct sim_version version_min = {2, 0, 0};
static const struct sim_version version_max = {16, 99, 99};

int
sim_version_cmp(const struct sim_version *a, const struct sim_version *b)
{
    if (a->major != b->major)
        return a->major < b->major ? -1 : 1;
    if (a->minor != b->minor)
        return a->minor < b->minor ? -1 : 1;
    if (a->micro != b->micro)
        return a->micro < b->micro ? -1 : 1;
    return 0;
}

/* Reads one decimal component of at most 3 digits; *end is left after it. */
static int
read_component(const char *s, const char **end, unsigned *out)
{
    unsigned v = 0;
    int digits = 0;

    while (*s >= '0' && *s <= '9' && digits < 4) {
        v = v * 10 + (unsigned)(*s - '0');
        s++;
        digits++;
    }
    if (digits == 0 || digits > 3)
        return AMT_ERR_INVALID_ARGUMENT;
    *end = s;
    *out = v;
    return 0;
}

int
sim_profile_from_text(const char *text, struct sim_profile *out)
{
    struct sim_profile p;
    const char *s = text;
    static const struct sim_version none = {0, 0, 0};

    if (text == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(&p, 0, sizeof(p));
    if (read_component(s, &s, &p.version.major) != 0 || *s++ != '.' ||
        read_component(s, &s, &p.version.minor) != 0)
        return AMT_ERR_INVALID_ARGUMENT;
    if (*s == '.') {
        s++;
        if (read_component(s, &s, &p.version.micro) != 0)
            return AMT_ERR_INVALID_ARGUMENT;
    }
    if (*s != '\0')
        return AMT_ERR_INVALID_ARGUMENT;
    if (sim_version_cmp(&p.version, &version_min) < 0 ||
        sim_version_cmp(&p.version, &version_max) > 0)
        return AMT_ERR_INVALID_ARGUMENT;
    snprintf(p.text, sizeof(p.text), "%u.%u.%u", p.version.major, p.version.minor,
             p.version.micro);
    for (size_t i = 0; i < sizeof(feature_table) / sizeof(feature_table[0]); i++) {
        const struct feature_row *row = &feature_table[i];

        p.features[row->feature] = sim_version_cmp(&p.version, &row->since) >= 0 &&
                                   (sim_version_cmp(&row->until, &none) == 0 ||
                                    sim_version_cmp(&p.version, &row->until) < 0);
    }
    p.realm = sim_version_cmp(&p.version, &realm_digest_hex_since) >= 0
                  ? SIM_REALM_DIGEST_HEX
                  : SIM_REALM_LEGACY;
    p.tls = sim_version_cmp(&p.version, &tls12_since) >= 0 ? SIM_TLS_1_2 : SIM_TLS_LEGACY;
    p.hello_hash = sim_version_cmp(&p.version, &sha256_roots_since) >= 0 ? AMT_HASH_SHA256
                                                                         : AMT_HASH_SHA1;
    *out = p;
    return 0;
}

bool
sim_profile_has(const struct sim_profile *p, enum sim_feature f)
{
    return p != NULL && f >= 0 && f < SIM_FEATURE_COUNT && p->features[f];
}

const char *
sim_feature_name(enum sim_feature f)
{
    for (size_t i = 0; i < sizeof(feature_table) / sizeof(feature_table[0]); i++)
        if (feature_table[i].feature == f)
            return feature_table[i].name;
    return "unknown";
}
