/*
 * Prerequisite checks (`amtprov prereq`, and `amtprov serve` before it starts): a
 * configuration that breaks a seed rule is refused before any device sees it, with
 * the rule's catalogue ID and a sentence that says what to change:
 *
 *   PKI-CA-KEYLEN: certs/bad-ca-4096.chain.pem: the chain's CA key is 4096 bits; AMT
 *   cannot use CA keys over 2048 bits
 *
 * Each check reports one or more results, in a fixed order:
 *   PKI-CERTS      the provisioning chain is set and loads; the chain verifies up to its
 *                  own root; the leaf is valid now; the private key is the leaf's; the
 *                  site's issuing CA certificate and key load and belong together
 *   OOB-3          the chain ends in a self-signed root; its SHA-1, SHA-256 and SHA-384
 *                  thumbprints (info: the values AMT firmware must hold)
 *   PKI-CA-KEYLEN  no CA certificate of the provisioning chain or of the site's CA
 *                  chain has a key over 2048 bits
 *   OOB-3.4        the leaf has the AMT provisioning OID with serverAuth, or the OU
 *   NS-FOREST      the SP's domain, forest root and forest domains are DNS names, and
 *                  the domain is in the forest
 *   OOB-3.5        the leaf's CN lies under the SP's domain by the rule of the oldest
 *                  supported AMT (fail: no AMT in that domain would accept it); under
 *                  each other domain of the forest (warn: AMT there would refuse it)
 *   DIR-OU         the container is a DN fragment of OU= or CN= parts, without DC=
 *   OOB-5          at least one credential; each user name meets AMT's rule
 *   OOB-7.4        the admin user name meets AMT's rule
 *   OOB-7.5        the MEBx password is set and meets AMT's password policy
 *   OOB-8.1        each ACL entry: user name rule, password policy, names unique
 *   AMT-8021X      wireless and wired 802.1X profiles: refused in SP1 mode; in SP2 mode
 *                  a warning when AMT below 4.0 is supported; MSCHAPv2 needs a user
 *   OOB-8.3        SP1 mode with a power scheme other than 5 is refused
 *   AMT-AUDIT      audit on while AMT below 4.0 is supported: a warning
 *   AMT-VERSION    amt-version-min not above amt-version-max
 *   NET-IPV4       hello-listen and api-listen are IPv4
 *   PORT-9971      hello-port other than 9971: a warning (AMT sends hellos to 9971
 *                  unless MEBx names another port)
 */
#ifndef AMT_PROV_PREREQ_H
#define AMT_PROV_PREREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"

enum prov_prereq_verdict {
    PROV_PREREQ_PASS,
    PROV_PREREQ_FAIL, /* the configuration is refused */
    PROV_PREREQ_WARN, /* allowed, but some devices will not be provisioned */
    PROV_PREREQ_INFO, /* a fact the operator needs, such as a root thumbprint */
    PROV_PREREQ_SKIP, /* could not be judged because an earlier check failed */
};

struct prov_prereq_result {
    const char *id;    /* catalogue ID: "PKI-CA-KEYLEN" */
    const char *check; /* kebab-case name of the check: "ca-key-length" */
    enum prov_prereq_verdict verdict;
    const char *text; /* one sentence, naming the file or setting it is about */
};

/* Called once per result; the strings live until the callback returns. */
typedef void (*prov_prereq_report_fn)(const struct prov_prereq_result *res, void *arg);

/*
 * Runs every check on cfg, at the current time, and reports each result. True when
 * none failed (warnings, information and skips do not fail). report may be NULL.
 */
bool prov_prereq_run(const struct prov_config *cfg, prov_prereq_report_fn report,
                     void *arg);

/* "pass", "fail", "warn", "info", "skip". */
const char *prov_prereq_verdict_name(int verdict);

/* "PKI-CA-KEYLEN: <text>" into buf; the form an error message takes. */
void prov_prereq_format(const struct prov_prereq_result *res, char *buf, size_t size);

/* A ready report callback: one line per result on the FILE * given as arg. */
void prov_prereq_print(const struct prov_prereq_result *res, void *arg);

#endif
