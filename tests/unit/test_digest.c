/*
 * Digest glue: the challenge AMT 16.1 really sends, the spacing and escapes clients
 * meet, every refusal on its own, RFC 2617's worked example, the CVE-2017-5689
 * responses, and the AMT realm forms.
 */
#include "digest.h"
#include "err.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

#define AMT16_CHALLENGE                                                                  \
    "Digest realm=\"Digest:4D1B31F6DF34A2C7B6D8E9A2C3D4E5F6\", "                         \
    "nonce=\"abc\",stale=\"false\",qop=\"auth-int, auth\""

/* RFC 2617 section 3.5. */
#define RFC_USER "Mufasa"
#define RFC_REALM "testrealm@host.com"
#define RFC_PASSWORD "Circle Of Life"
#define RFC_NONCE "dcd98b7102dd2f0e8b11d0f600bfb0c093"
#define RFC_URI "/dir/index.html"
#define RFC_CNONCE "0a4f113b"
#define RFC_OPAQUE "5ccc069c403ebaf9f0171e9517f40e41"
#define RFC_RESPONSE "6629fae49393a05397450978507c4ef1"

static int
challenge_error(const char *header)
{
    struct digest_challenge c;

    return digest_parse_challenge(header, &c);
}

static int
authorization_error(const char *header)
{
    struct digest_authorization a;

    return digest_parse_authorization(header, &a);
}

static void
test_amt16_challenge(void)
{
    struct digest_challenge c;

    CU_ASSERT_EQUAL_FATAL(digest_parse_challenge(AMT16_CHALLENGE, &c), 0);
    CU_ASSERT_STRING_EQUAL(c.realm, "Digest:4D1B31F6DF34A2C7B6D8E9A2C3D4E5F6");
    CU_ASSERT_STRING_EQUAL(c.nonce, "abc");
    CU_ASSERT_FALSE(c.stale);
    CU_ASSERT_TRUE(c.has_qop);
    CU_ASSERT_EQUAL(c.qop, DIGEST_QOP_AUTH | DIGEST_QOP_AUTH_INT);
    CU_ASSERT_FALSE(c.has_opaque);
    CU_ASSERT_STRING_EQUAL(c.opaque, "");
    CU_ASSERT_STRING_EQUAL(c.algorithm, "");
    CU_ASSERT_STRING_EQUAL(c.domain, "");
    CU_ASSERT_EQUAL(digest_realm_kind(c.realm), DIGEST_REALM_DIGEST_HEX);
}

static void
test_challenge_spacing(void)
{
    struct digest_challenge c;

    CU_ASSERT_EQUAL_FATAL(
        digest_parse_challenge(
            "  dIGEST   Realm = \"r\" ,NONCE=  \"n\"  ,  qop = auth , "
            "stale=TRUE , opaque=\"\" , algorithm=MD5,domain=\"/wsman /x\" ",
            &c),
        0);
    CU_ASSERT_STRING_EQUAL(c.realm, "r");
    CU_ASSERT_STRING_EQUAL(c.nonce, "n");
    CU_ASSERT_EQUAL(c.qop, DIGEST_QOP_AUTH);
    CU_ASSERT_TRUE(c.stale);
    CU_ASSERT_TRUE(c.has_opaque);
    CU_ASSERT_STRING_EQUAL(c.opaque, "");
    CU_ASSERT_STRING_EQUAL(c.algorithm, "MD5");
    CU_ASSERT_STRING_EQUAL(c.domain, "/wsman /x");

    CU_ASSERT_EQUAL_FATAL(digest_parse_challenge("Digest\trealm=\"r\",\tnonce=n\t", &c),
                          0);
    CU_ASSERT_STRING_EQUAL(c.nonce, "n");
    CU_ASSERT_FALSE(c.has_qop);
    CU_ASSERT_EQUAL(c.qop, 0);

    /* Empty list elements are ignored (RFC 7230 section 7). */
    CU_ASSERT_EQUAL(challenge_error("Digest ,realm=\"r\",, nonce=\"n\" , ,"), 0);
    /* Unknown parameters are read and dropped. */
    CU_ASSERT_EQUAL(
        challenge_error("Digest realm=\"r\", charset=UTF-8, userhash=\"false\", "
                        "nonce=\"n\""),
        0);
}

static void
test_challenge_escapes(void)
{
    struct digest_challenge c;

    CU_ASSERT_EQUAL_FATAL(
        digest_parse_challenge(
            "Digest realm=\"a \\\"quoted\\\" realm\\\\x\", nonce=\"n\\o\"", &c),
        0);
    CU_ASSERT_STRING_EQUAL(c.realm, "a \"quoted\" realm\\x");
    CU_ASSERT_STRING_EQUAL(c.nonce, "no");
    /* Commas and '=' inside a quoted string are data. */
    CU_ASSERT_EQUAL_FATAL(
        digest_parse_challenge("Digest realm=\"a, b=c\", nonce=\"n\"", &c), 0);
    CU_ASSERT_STRING_EQUAL(c.realm, "a, b=c");
    /* obs-text passes through untouched. */
    CU_ASSERT_EQUAL_FATAL(
        digest_parse_challenge("Digest realm=\"caf\xc3\xa9\", nonce=n", &c), 0);
    CU_ASSERT_STRING_EQUAL(c.realm, "caf\xc3\xa9");
}

static void
test_challenge_qop_lists(void)
{
    struct digest_challenge c;

    CU_ASSERT_EQUAL_FATAL(
        digest_parse_challenge("Digest realm=r, nonce=n, qop=\"auth-conf\"", &c), 0);
    CU_ASSERT_TRUE(c.has_qop);
    CU_ASSERT_EQUAL(c.qop, 0);
    CU_ASSERT_EQUAL_FATAL(digest_parse_challenge("Digest realm=r, nonce=n, qop=\"\"", &c),
                          0);
    CU_ASSERT_TRUE(c.has_qop);
    CU_ASSERT_EQUAL(c.qop, 0);
    CU_ASSERT_EQUAL_FATAL(
        digest_parse_challenge("Digest realm=r, nonce=n, qop=\" AUTH-INT ,,x\"", &c), 0);
    CU_ASSERT_EQUAL(c.qop, DIGEST_QOP_AUTH_INT);
    CU_ASSERT_EQUAL(challenge_error("Digest realm=r, nonce=n, qop=\"auth int\""),
                    AMT_ERR_DIGEST_SYNTAX);
    CU_ASSERT_EQUAL(challenge_error("Digest realm=r, nonce=n, qop=\"auth;int\""),
                    AMT_ERR_DIGEST_SYNTAX);
    CU_ASSERT_EQUAL(challenge_error("Digest realm=r, nonce=n, qop=\"auth, /x\""),
                    AMT_ERR_DIGEST_SYNTAX);
}

static void
test_challenge_not_digest(void)
{
    CU_ASSERT_EQUAL(challenge_error("Basic realm=\"x\""), AMT_ERR_DIGEST_NOT_DIGEST);
    CU_ASSERT_EQUAL(challenge_error("Negotiate"), AMT_ERR_DIGEST_NOT_DIGEST);
    CU_ASSERT_EQUAL(challenge_error("Digestx realm=\"r\", nonce=\"n\""),
                    AMT_ERR_DIGEST_NOT_DIGEST);
    CU_ASSERT_EQUAL(challenge_error("Diges realm=\"r\", nonce=\"n\""),
                    AMT_ERR_DIGEST_NOT_DIGEST);
}

static void
test_challenge_syntax(void)
{
    static const char *const bad[] = {
        "",
        "   ",
        "\"Digest\" realm=r, nonce=n",
        "Digest,realm=r, nonce=n",
        "Digest=realm",
        "Digest realm",
        "Digest realm nonce=n",
        "Digest realm=\"r\" nonce=\"n\"",
        "Digest realm=\"r, nonce=\"n\"",
        "Digest realm=\"r\\",
        "Digest realm=\"r\", nonce=",
        "Digest realm=\"r\", nonce=,",
        "Digest realm=a b, nonce=n",
        "Digest realm=\"a\x01b\", nonce=n",
        "Digest realm=\"a\x7f\", nonce=n",
        "Digest realm=\"a\\\x01\", nonce=n",
        "Digest realm=r, nonce=n, \"x\"=1",
        "Digest realm=r, nonce=n, =1",
        "Digest realm=r, nonce=n, x=\"1",
        "Digest realm=r;nonce=n",
        /* A parameter given twice, known or not, in any case. */
        "Digest realm=\"r\", Realm=\"s\", nonce=\"n\"",
        "Digest realm=r, nonce=n, nonce=n",
        "Digest realm=r, nonce=n, x=1, X=2",
        "Digest realm=r, nonce=n, stale=maybe",
        "Digest realm=r, nonce=n, stale=\"\"",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = challenge_error(bad[i]);

        if (r != AMT_ERR_DIGEST_SYNTAX)
            fprintf(stderr, "\naccepted or misjudged (%d): %s\n", r, bad[i]);
        CU_ASSERT_EQUAL(r, AMT_ERR_DIGEST_SYNTAX);
    }
}

static void
test_challenge_missing(void)
{
    CU_ASSERT_EQUAL(challenge_error("Digest"), AMT_ERR_DIGEST_MISSING);
    CU_ASSERT_EQUAL(challenge_error("Digest  "), AMT_ERR_DIGEST_MISSING);
    CU_ASSERT_EQUAL(challenge_error("Digest nonce=\"n\""), AMT_ERR_DIGEST_MISSING);
    CU_ASSERT_EQUAL(challenge_error("Digest realm=\"r\", qop=auth"),
                    AMT_ERR_DIGEST_MISSING);
    CU_ASSERT_EQUAL(challenge_error("Digest realm=\"\", nonce=\"n\""),
                    AMT_ERR_DIGEST_MISSING);
    CU_ASSERT_EQUAL(challenge_error("Digest realm=\"r\", nonce=\"\""),
                    AMT_ERR_DIGEST_MISSING);
}

/* "Digest realm="<n x 'r'>", nonce="n"" */
static void
header_with_realm(char *buf, size_t size, size_t n)
{
    size_t used = (size_t)snprintf(buf, size, "Digest realm=\"");

    memset(buf + used, 'r', n);
    snprintf(buf + used + n, size - used - n, "\", nonce=\"n\"");
}

static void
test_challenge_caps(void)
{
    static char buf[DIGEST_HEADER_MAX + 64];
    struct digest_challenge c;
    size_t used;

    header_with_realm(buf, sizeof(buf), DIGEST_REALM_MAX);
    CU_ASSERT_EQUAL_FATAL(digest_parse_challenge(buf, &c), 0);
    CU_ASSERT_EQUAL(strlen(c.realm), DIGEST_REALM_MAX);
    header_with_realm(buf, sizeof(buf), DIGEST_REALM_MAX + 1);
    CU_ASSERT_EQUAL(challenge_error(buf), AMT_ERR_DIGEST_FIELD_TOO_LONG);

    /* The cap holds for an unquoted token too, and for nonce. */
    used = (size_t)snprintf(buf, sizeof(buf), "Digest realm=r, nonce=");
    memset(buf + used, 'n', DIGEST_NONCE_MAX + 1);
    buf[used + DIGEST_NONCE_MAX + 1] = '\0';
    CU_ASSERT_EQUAL(challenge_error(buf), AMT_ERR_DIGEST_FIELD_TOO_LONG);
    buf[used + DIGEST_NONCE_MAX] = '\0';
    CU_ASSERT_EQUAL(challenge_error(buf), 0);

    /* Parameters the parser drops have a cap of their own. */
    used = (size_t)snprintf(buf, sizeof(buf), "Digest realm=r, nonce=n, x=");
    memset(buf + used, 'x', DIGEST_OTHER_MAX + 1);
    buf[used + DIGEST_OTHER_MAX + 1] = '\0';
    CU_ASSERT_EQUAL(challenge_error(buf), AMT_ERR_DIGEST_FIELD_TOO_LONG);
    buf[used + DIGEST_OTHER_MAX] = '\0';
    CU_ASSERT_EQUAL(challenge_error(buf), 0);

    snprintf(buf, sizeof(buf), "Digest realm=r, nonce=n, stale=\"%0*d\"",
             DIGEST_STALE_MAX + 1, 0);
    CU_ASSERT_EQUAL(challenge_error(buf), AMT_ERR_DIGEST_FIELD_TOO_LONG);

    /* The whole header: exactly the cap is fine, one more is not. */
    used = (size_t)snprintf(buf, sizeof(buf), "Digest realm=r, nonce=n");
    memset(buf + used, ' ', DIGEST_HEADER_MAX - used);
    buf[DIGEST_HEADER_MAX] = '\0';
    CU_ASSERT_EQUAL(challenge_error(buf), 0);
    buf[DIGEST_HEADER_MAX] = ' ';
    buf[DIGEST_HEADER_MAX + 1] = '\0';
    CU_ASSERT_EQUAL(challenge_error(buf), AMT_ERR_TOO_LARGE);

    /* The number of parameters. */
    used = (size_t)snprintf(buf, sizeof(buf), "Digest realm=r, nonce=n");
    for (int i = 2; i < DIGEST_PARAMS_MAX; i++)
        used += (size_t)snprintf(buf + used, sizeof(buf) - used, ", p%d=1", i);
    CU_ASSERT_EQUAL(challenge_error(buf), 0);
    snprintf(buf + used, sizeof(buf) - used, ", one=more");
    CU_ASSERT_EQUAL(challenge_error(buf), AMT_ERR_TOO_LARGE);
}

static void
test_parse_arguments(void)
{
    struct digest_challenge c;
    struct digest_authorization a;

    memset(&c, 'x', sizeof(c));
    CU_ASSERT_EQUAL(digest_parse_challenge("Basic realm=x", &c),
                    AMT_ERR_DIGEST_NOT_DIGEST);
    CU_ASSERT_EQUAL(c.realm[0], '\0');
    CU_ASSERT_EQUAL(digest_parse_challenge(NULL, &c), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(digest_parse_challenge(AMT16_CHALLENGE, NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    memset(&a, 'x', sizeof(a));
    CU_ASSERT_EQUAL(digest_parse_authorization("Digest username=x", &a),
                    AMT_ERR_DIGEST_MISSING);
    CU_ASSERT_EQUAL(a.username[0], '\0');
    CU_ASSERT_EQUAL(digest_parse_authorization(NULL, &a), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(digest_parse_authorization("Digest", NULL), AMT_ERR_INVALID_ARGUMENT);
}

#define RFC_AUTHORIZATION                                                                \
    "Digest username=\"" RFC_USER "\", realm=\"" RFC_REALM "\", nonce=\"" RFC_NONCE      \
    "\", uri=\"" RFC_URI "\", qop=auth, nc=00000001, cnonce=\"" RFC_CNONCE               \
    "\", response=\"" RFC_RESPONSE "\", opaque=\"" RFC_OPAQUE "\""

static void
test_rfc2617_response(void)
{
    struct digest_input in = {RFC_USER, RFC_REALM, RFC_PASSWORD, "GET",
                              RFC_URI,  RFC_NONCE, "00000001",   RFC_CNONCE};
    char out[DIGEST_MD5_HEX_LEN + 1];

    CU_ASSERT_EQUAL_FATAL(digest_compute_response(&in, out, sizeof(out)), 0);
    CU_ASSERT_STRING_EQUAL(out, RFC_RESPONSE);
    CU_ASSERT_EQUAL(digest_compute_response(&in, out, sizeof(out) - 1),
                    AMT_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(digest_compute_response(NULL, out, sizeof(out)),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(digest_compute_response(&in, NULL, sizeof(out)),
                    AMT_ERR_INVALID_ARGUMENT);
    in.cnonce = NULL;
    CU_ASSERT_EQUAL(digest_compute_response(&in, out, sizeof(out)),
                    AMT_ERR_INVALID_ARGUMENT);
    in.cnonce = RFC_CNONCE;
    in.password = NULL;
    CU_ASSERT_EQUAL(digest_compute_response(&in, out, sizeof(out)),
                    AMT_ERR_INVALID_ARGUMENT);
}

static void
test_rfc2617_authorization(void)
{
    struct digest_authorization a;
    enum digest_suspicion s = DIGEST_SUSPICION_PREFIX;

    CU_ASSERT_EQUAL_FATAL(digest_parse_authorization(RFC_AUTHORIZATION, &a), 0);
    CU_ASSERT_STRING_EQUAL(a.username, RFC_USER);
    CU_ASSERT_STRING_EQUAL(a.realm, RFC_REALM);
    CU_ASSERT_STRING_EQUAL(a.nonce, RFC_NONCE);
    CU_ASSERT_STRING_EQUAL(a.uri, RFC_URI);
    CU_ASSERT_STRING_EQUAL(a.qop, "auth");
    CU_ASSERT_STRING_EQUAL(a.nc, "00000001");
    CU_ASSERT_STRING_EQUAL(a.cnonce, RFC_CNONCE);
    CU_ASSERT_STRING_EQUAL(a.response, RFC_RESPONSE);
    CU_ASSERT_STRING_EQUAL(a.opaque, RFC_OPAQUE);
    CU_ASSERT_TRUE(a.has_opaque);
    CU_ASSERT_STRING_EQUAL(a.algorithm, "");

    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, RFC_PASSWORD, "GET", &s), 0);
    CU_ASSERT_EQUAL(s, DIGEST_SUSPICION_NONE);
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, RFC_PASSWORD, "GET", NULL), 0);
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, "Circle of Life", "GET", &s),
                    AMT_ERR_DIGEST_MISMATCH);
    CU_ASSERT_EQUAL(s, DIGEST_SUSPICION_NONE);
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, RFC_PASSWORD, "POST", &s),
                    AMT_ERR_DIGEST_MISMATCH);
    /* Right answer for the realm the client named, but not the server's realm. */
    CU_ASSERT_EQUAL(digest_check(&a, "otherrealm@host.com", RFC_PASSWORD, "GET", &s),
                    AMT_ERR_DIGEST_MISMATCH);
    CU_ASSERT_EQUAL(digest_check(NULL, RFC_REALM, RFC_PASSWORD, "GET", &s),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(digest_check(&a, NULL, RFC_PASSWORD, "GET", &s),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, NULL, "GET", &s),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, RFC_PASSWORD, NULL, &s),
                    AMT_ERR_INVALID_ARGUMENT);

    /* Hex digits are compared as sent: upper case is not the RFC's lower-case hex. */
    for (char *p = a.response; *p != '\0'; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, RFC_PASSWORD, "GET", &s),
                    AMT_ERR_DIGEST_MISMATCH);
    CU_ASSERT_EQUAL(s, DIGEST_SUSPICION_NONE);
}

/* The RFC example with one parameter's value replaced (or, with NULL, left out). */
static int
rfc_with(const char *name, const char *value, struct digest_authorization *a)
{
    static const char *const names[] = {"username", "realm",    "nonce",  "uri",
                                        "qop",      "nc",       "cnonce", "response",
                                        "opaque",   "algorithm"};
    const char *values[] = {RFC_USER,   RFC_REALM,  RFC_NONCE,    RFC_URI,    "auth",
                            "00000001", RFC_CNONCE, RFC_RESPONSE, RFC_OPAQUE, NULL};
    char buf[DIGEST_HEADER_MAX + 1];
    size_t used = (size_t)snprintf(buf, sizeof(buf), "Digest ");

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = strcmp(names[i], name) == 0 ? value : values[i];

        if (v != NULL)
            used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s=\"%s\", ",
                                     names[i], v);
    }
    return digest_parse_authorization(buf, a);
}

static void
test_cve_2017_5689(void)
{
    struct digest_authorization a;
    enum digest_suspicion s = DIGEST_SUSPICION_NONE;

    /* The published attack: response="" for the built-in admin. */
    CU_ASSERT_EQUAL_FATAL(rfc_with("response", "", &a), 0);
    CU_ASSERT_STRING_EQUAL(a.response, "");
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, RFC_PASSWORD, "GET", &s),
                    AMT_ERR_DIGEST_MISMATCH);
    CU_ASSERT_EQUAL(s, DIGEST_SUSPICION_EMPTY);
    /* Flagged even when the header is refused for another reason. */
    a.qop[0] = '\0';
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, RFC_PASSWORD, "GET", &s),
                    AMT_ERR_DIGEST_UNSUPPORTED);
    CU_ASSERT_EQUAL(s, DIGEST_SUSPICION_EMPTY);

    /* A prefix of the right answer, one character short and one character long. */
    CU_ASSERT_EQUAL_FATAL(rfc_with("response", "6629fae49393a05397450978507c4ef", &a), 0);
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, RFC_PASSWORD, "GET", &s),
                    AMT_ERR_DIGEST_MISMATCH);
    CU_ASSERT_EQUAL(s, DIGEST_SUSPICION_PREFIX);
    CU_ASSERT_EQUAL_FATAL(rfc_with("response", "6", &a), 0);
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, RFC_PASSWORD, "GET", &s),
                    AMT_ERR_DIGEST_MISMATCH);
    CU_ASSERT_EQUAL(s, DIGEST_SUSPICION_PREFIX);
    /* Not a prefix: wrong, but an ordinary wrong answer. */
    CU_ASSERT_EQUAL_FATAL(rfc_with("response", "6629fae49393a05397450978507c4ef0", &a),
                          0);
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, RFC_PASSWORD, "GET", &s),
                    AMT_ERR_DIGEST_MISMATCH);
    CU_ASSERT_EQUAL(s, DIGEST_SUSPICION_NONE);
    CU_ASSERT_EQUAL_FATAL(rfc_with("response", RFC_RESPONSE "0", &a), 0);
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, RFC_PASSWORD, "GET", &s),
                    AMT_ERR_DIGEST_MISMATCH);
    CU_ASSERT_EQUAL(s, DIGEST_SUSPICION_NONE);
}

static void
test_suspicion_helpers(void)
{
    CU_ASSERT_EQUAL(digest_response_suspicion("", RFC_RESPONSE), DIGEST_SUSPICION_EMPTY);
    CU_ASSERT_EQUAL(digest_response_suspicion("6629", RFC_RESPONSE),
                    DIGEST_SUSPICION_PREFIX);
    CU_ASSERT_EQUAL(digest_response_suspicion(RFC_RESPONSE, RFC_RESPONSE),
                    DIGEST_SUSPICION_NONE);
    CU_ASSERT_EQUAL(digest_response_suspicion("7629", RFC_RESPONSE),
                    DIGEST_SUSPICION_NONE);
    CU_ASSERT_EQUAL(digest_response_suspicion(NULL, RFC_RESPONSE), DIGEST_SUSPICION_NONE);
    CU_ASSERT_EQUAL(digest_response_suspicion("", NULL), DIGEST_SUSPICION_NONE);
    CU_ASSERT_STRING_EQUAL(digest_suspicion_name(DIGEST_SUSPICION_NONE), "none");
    CU_ASSERT_STRING_EQUAL(digest_suspicion_name(DIGEST_SUSPICION_EMPTY),
                           "empty-response");
    CU_ASSERT_STRING_EQUAL(digest_suspicion_name(DIGEST_SUSPICION_PREFIX),
                           "prefix-response");
    CU_ASSERT_STRING_EQUAL(digest_suspicion_name(-1), "unknown");
    CU_ASSERT_STRING_EQUAL(digest_suspicion_name(3), "unknown");

    CU_ASSERT_TRUE(digest_response_equal(RFC_RESPONSE, RFC_RESPONSE));
    CU_ASSERT_FALSE(digest_response_equal("", RFC_RESPONSE));
    CU_ASSERT_FALSE(digest_response_equal("6629", RFC_RESPONSE));
    CU_ASSERT_FALSE(
        digest_response_equal("6629fae49393a05397450978507c4ef0", RFC_RESPONSE));
    CU_ASSERT_FALSE(digest_response_equal(NULL, RFC_RESPONSE));
    CU_ASSERT_FALSE(digest_response_equal(RFC_RESPONSE, NULL));
}

static void
test_check_refusals(void)
{
    struct digest_authorization a;

    CU_ASSERT_EQUAL_FATAL(rfc_with("algorithm", "md5", &a), 0);
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, RFC_PASSWORD, "GET", NULL), 0);
    CU_ASSERT_EQUAL_FATAL(rfc_with("algorithm", "SHA-256", &a), 0);
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, RFC_PASSWORD, "GET", NULL),
                    AMT_ERR_DIGEST_UNSUPPORTED);
    CU_ASSERT_EQUAL_FATAL(rfc_with("algorithm", "MD5-sess", &a), 0);
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, RFC_PASSWORD, "GET", NULL),
                    AMT_ERR_DIGEST_UNSUPPORTED);
    CU_ASSERT_EQUAL_FATAL(rfc_with("qop", "auth-int", &a), 0);
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, RFC_PASSWORD, "GET", NULL),
                    AMT_ERR_DIGEST_UNSUPPORTED);
    CU_ASSERT_EQUAL_FATAL(rfc_with("qop", NULL, &a), 0);
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, RFC_PASSWORD, "GET", NULL),
                    AMT_ERR_DIGEST_UNSUPPORTED);
    CU_ASSERT_EQUAL_FATAL(rfc_with("nc", NULL, &a), 0);
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, RFC_PASSWORD, "GET", NULL),
                    AMT_ERR_DIGEST_MISSING);
    CU_ASSERT_EQUAL_FATAL(rfc_with("cnonce", NULL, &a), 0);
    CU_ASSERT_EQUAL(digest_check(&a, RFC_REALM, RFC_PASSWORD, "GET", NULL),
                    AMT_ERR_DIGEST_MISSING);
}

static void
test_authorization_refusals(void)
{
    struct digest_authorization a;
    static const char *const required[] = {"username", "realm", "nonce", "uri",
                                           "response"};
    char long_response[DIGEST_RESPONSE_MAX + 2];

    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        CU_ASSERT_EQUAL(rfc_with(required[i], NULL, &a), AMT_ERR_DIGEST_MISSING);
        /* Present but empty is a credential to record, not a missing one. */
        CU_ASSERT_EQUAL(rfc_with(required[i], "", &a), 0);
    }
    CU_ASSERT_EQUAL(rfc_with("opaque", NULL, &a), 0);
    CU_ASSERT_FALSE(a.has_opaque);
    memset(long_response, 'a', sizeof(long_response) - 1);
    long_response[sizeof(long_response) - 1] = '\0';
    CU_ASSERT_EQUAL(rfc_with("response", long_response, &a),
                    AMT_ERR_DIGEST_FIELD_TOO_LONG);
    long_response[sizeof(long_response) - 2] = '\0';
    CU_ASSERT_EQUAL(rfc_with("response", long_response, &a), 0);
    CU_ASSERT_EQUAL(authorization_error("Basic YWRtaW46YWRtaW4="),
                    AMT_ERR_DIGEST_NOT_DIGEST);
    CU_ASSERT_EQUAL(authorization_error("Digest username=\"admin\" realm=\"r\""),
                    AMT_ERR_DIGEST_SYNTAX);
    CU_ASSERT_EQUAL(authorization_error(RFC_AUTHORIZATION ", response=\"\""),
                    AMT_ERR_DIGEST_SYNTAX);
    /* The AMT 16.1 spacing on the credential side too. */
    CU_ASSERT_EQUAL(
        authorization_error("Digest username=\"admin\",realm=\"r\",nonce=\"n\","
                            "uri=\"/wsman\",response=\"\",qop=auth,nc=1,cnonce=c"),
        0);
}

static void
test_format_challenge(void)
{
    struct digest_challenge c, back;
    char buf[DIGEST_HEADER_MAX + 1];

    CU_ASSERT_EQUAL_FATAL(digest_parse_challenge(AMT16_CHALLENGE, &c), 0);
    CU_ASSERT_EQUAL_FATAL(digest_format_challenge(&c, buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, AMT16_CHALLENGE);

    memset(&c, 0, sizeof(c));
    strcpy(c.realm, "a \"quoted\" \\ realm");
    strcpy(c.nonce, "n");
    strcpy(c.opaque, "o");
    strcpy(c.algorithm, "MD5");
    strcpy(c.domain, "/wsman");
    c.has_opaque = true;
    c.has_qop = true;
    c.qop = DIGEST_QOP_AUTH;
    c.stale = true;
    CU_ASSERT_EQUAL_FATAL(digest_format_challenge(&c, buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf,
                           "Digest realm=\"a \\\"quoted\\\" \\\\ realm\", nonce=\"n\","
                           "stale=\"true\",qop=\"auth\", opaque=\"o\", algorithm=MD5, "
                           "domain=\"/wsman\"");
    CU_ASSERT_EQUAL_FATAL(digest_parse_challenge(buf, &back), 0);
    CU_ASSERT_STRING_EQUAL(back.realm, c.realm);
    CU_ASSERT_STRING_EQUAL(back.opaque, "o");
    CU_ASSERT_TRUE(back.stale);
    CU_ASSERT_EQUAL(back.qop, DIGEST_QOP_AUTH);

    CU_ASSERT_EQUAL(digest_format_challenge(&c, buf, 20), AMT_ERR_TOO_LARGE);
    CU_ASSERT_STRING_EQUAL(buf, "");
    CU_ASSERT_EQUAL(digest_format_challenge(&c, buf, 0), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(digest_format_challenge(NULL, buf, sizeof(buf)),
                    AMT_ERR_INVALID_ARGUMENT);
    /* CR LF in a value would let a caller forge further headers. */
    strcpy(c.realm, "r\r\nSet-Cookie: x=1");
    CU_ASSERT_EQUAL(digest_format_challenge(&c, buf, sizeof(buf)),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_STRING_EQUAL(buf, "");
}

static void
test_format_authorization(void)
{
    struct digest_input in = {"admin",    "Digest:4D1B31F6DF34A2C7B6D8E9A2C3D4E5F6",
                              "P@ssw0rd", "POST",
                              "/wsman",   "abc",
                              "00000001", NULL};
    struct digest_authorization a, back;
    char buf[DIGEST_HEADER_MAX + 1], cnonce[DIGEST_MD5_HEX_LEN + 1];
    enum digest_suspicion s;

    /* The client's side: compute, write the header; the server's side: read, check. */
    CU_ASSERT_EQUAL_FATAL(digest_make_cnonce(cnonce, sizeof(cnonce)), 0);
    in.cnonce = cnonce;
    memset(&a, 0, sizeof(a));
    strcpy(a.username, in.username);
    strcpy(a.realm, in.realm);
    strcpy(a.nonce, in.nonce);
    strcpy(a.uri, in.uri);
    strcpy(a.qop, "auth");
    strcpy(a.nc, in.nc);
    strcpy(a.cnonce, cnonce);
    CU_ASSERT_EQUAL_FATAL(digest_compute_response(&in, a.response, sizeof(a.response)),
                          0);
    CU_ASSERT_EQUAL_FATAL(digest_format_authorization(&a, buf, sizeof(buf)), 0);
    CU_ASSERT_EQUAL_FATAL(digest_parse_authorization(buf, &back), 0);
    CU_ASSERT_EQUAL(memcmp(&a, &back, sizeof(a)), 0);
    CU_ASSERT_EQUAL(digest_check(&back, in.realm, "P@ssw0rd", "POST", &s), 0);
    CU_ASSERT_EQUAL(digest_check(&back, in.realm, "P@ssw0rd!", "POST", &s),
                    AMT_ERR_DIGEST_MISMATCH);

    /* Bare tokens where RFC 2617 writes them, quoted when a value is not a token. */
    strcpy(a.algorithm, "MD5");
    a.has_opaque = true;
    CU_ASSERT_EQUAL_FATAL(digest_format_authorization(&a, buf, sizeof(buf)), 0);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(buf, ", algorithm=MD5, qop=auth, nc=00000001, cnonce=\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, ", opaque=\"\""));
    strcpy(a.algorithm, "MD5 sess");
    CU_ASSERT_EQUAL_FATAL(digest_format_authorization(&a, buf, sizeof(buf)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, ", algorithm=\"MD5 sess\""));
    CU_ASSERT_EQUAL_FATAL(digest_parse_authorization(buf, &back), 0);
    CU_ASSERT_EQUAL(memcmp(&a, &back, sizeof(a)), 0);

    CU_ASSERT_EQUAL(digest_format_authorization(&a, buf, 30), AMT_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(digest_format_authorization(NULL, buf, sizeof(buf)),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(digest_format_authorization(&a, NULL, sizeof(buf)),
                    AMT_ERR_INVALID_ARGUMENT);
    strcpy(a.algorithm, "MD5\n");
    CU_ASSERT_EQUAL(digest_format_authorization(&a, buf, sizeof(buf)),
                    AMT_ERR_INVALID_ARGUMENT);
    a.algorithm[0] = '\0';
    /* A field without its NUL is refused, not read past. */
    memset(a.username, 'u', sizeof(a.username));
    CU_ASSERT_EQUAL(digest_format_authorization(&a, buf, sizeof(buf)),
                    AMT_ERR_INVALID_ARGUMENT);
    a.username[0] = '\0';
    memset(a.nc, '1', sizeof(a.nc));
    CU_ASSERT_EQUAL(digest_format_authorization(&a, buf, sizeof(buf)),
                    AMT_ERR_INVALID_ARGUMENT);
}

static void
test_cnonce(void)
{
    char a[DIGEST_MD5_HEX_LEN + 1], b[DIGEST_MD5_HEX_LEN + 1];

    CU_ASSERT_EQUAL_FATAL(digest_make_cnonce(a, sizeof(a)), 0);
    CU_ASSERT_EQUAL_FATAL(digest_make_cnonce(b, sizeof(b)), 0);
    CU_ASSERT_EQUAL(strlen(a), DIGEST_MD5_HEX_LEN);
    CU_ASSERT_EQUAL(strspn(a, "0123456789abcdef"), DIGEST_MD5_HEX_LEN);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
    CU_ASSERT_EQUAL(digest_make_cnonce(a, sizeof(a) - 1), AMT_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(digest_make_cnonce(NULL, sizeof(a)), AMT_ERR_INVALID_ARGUMENT);
}

static void
test_realms(void)
{
    static const unsigned char id[16] = {0x4d, 0x1b, 0x31, 0xf6, 0xdf, 0x34, 0xa2, 0xc7,
                                         0xb6, 0xd8, 0xe9, 0xa2, 0xc3, 0xd4, 0xe5, 0xf6};
    char buf[DIGEST_AMT_REALM_SIZE];

    CU_ASSERT_EQUAL_FATAL(
        digest_realm_legacy("4c4c4544-0043-3010-8052-b4c04f564433", buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "Intel(R) AMT (ID:4C4C4544-0043-3010-8052-B4C04F564433)");
    CU_ASSERT_EQUAL(digest_realm_kind(buf), DIGEST_REALM_LEGACY);
    CU_ASSERT_EQUAL(strlen(buf) + 1, DIGEST_AMT_REALM_SIZE);
    CU_ASSERT_EQUAL(
        digest_realm_legacy("4C4C4544-0043-3010-8052-B4C04F564433", buf, sizeof(buf) - 1),
        AMT_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(
        digest_realm_legacy("4C4C4544-0043-3010-8052-B4C04F56443", buf, sizeof(buf)),
        AMT_ERR_UUID_FORMAT);
    CU_ASSERT_EQUAL(
        digest_realm_legacy("4C4C4544-0043-3010-8052-B4C04F5644330", buf, sizeof(buf)),
        AMT_ERR_UUID_FORMAT);
    CU_ASSERT_EQUAL(
        digest_realm_legacy("4C4C4544-0043-3010-8052+B4C04F564433", buf, sizeof(buf)),
        AMT_ERR_UUID_FORMAT);
    CU_ASSERT_EQUAL(
        digest_realm_legacy("4C4C4544-0043-3010-8052-B4C04F56443G", buf, sizeof(buf)),
        AMT_ERR_UUID_FORMAT);
    CU_ASSERT_EQUAL(digest_realm_legacy(NULL, buf, sizeof(buf)),
                    AMT_ERR_INVALID_ARGUMENT);

    CU_ASSERT_EQUAL_FATAL(digest_realm_hex(id, buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "Digest:4D1B31F6DF34A2C7B6D8E9A2C3D4E5F6");
    CU_ASSERT_EQUAL(digest_realm_kind(buf), DIGEST_REALM_DIGEST_HEX);
    CU_ASSERT_EQUAL(digest_realm_hex(id, buf, 40), 0);
    CU_ASSERT_EQUAL(digest_realm_hex(id, buf, 39), AMT_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(digest_realm_hex(NULL, buf, sizeof(buf)), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(digest_realm_hex(id, NULL, sizeof(buf)), AMT_ERR_INVALID_ARGUMENT);

    CU_ASSERT_EQUAL(digest_realm_kind("Digest:4d1b31f6df34a2c7b6d8e9a2c3d4e5f6"),
                    DIGEST_REALM_NOT_AMT);
    CU_ASSERT_EQUAL(digest_realm_kind("Digest:4D1B31F6DF34A2C7B6D8E9A2C3D4E5F"),
                    DIGEST_REALM_NOT_AMT);
    CU_ASSERT_EQUAL(digest_realm_kind("Digest:4D1B31F6DF34A2C7B6D8E9A2C3D4E5F60"),
                    DIGEST_REALM_NOT_AMT);
    CU_ASSERT_EQUAL(digest_realm_kind("Digest:"), DIGEST_REALM_NOT_AMT);
    CU_ASSERT_EQUAL(digest_realm_kind("digest:4D1B31F6DF34A2C7B6D8E9A2C3D4E5F6"),
                    DIGEST_REALM_NOT_AMT);
    CU_ASSERT_EQUAL(
        digest_realm_kind("Intel(R) AMT (ID:4C4C4544-0043-3010-8052-B4C04F564433"),
        DIGEST_REALM_NOT_AMT);
    CU_ASSERT_EQUAL(
        digest_realm_kind("Intel(R) AMT (ID:4C4C4544-0043-3010-8052-B4C04F564433))"),
        DIGEST_REALM_NOT_AMT);
    CU_ASSERT_EQUAL(
        digest_realm_kind("Intel(R) AMT (ID:4c4c4544-0043-3010-8052-b4c04f564433)"),
        DIGEST_REALM_NOT_AMT);
    CU_ASSERT_EQUAL(digest_realm_kind("Intel(R) AMT (ID:)"), DIGEST_REALM_NOT_AMT);
    CU_ASSERT_EQUAL(digest_realm_kind(RFC_REALM), DIGEST_REALM_NOT_AMT);
    CU_ASSERT_EQUAL(digest_realm_kind(""), DIGEST_REALM_NOT_AMT);
    CU_ASSERT_EQUAL(digest_realm_kind(NULL), DIGEST_REALM_NOT_AMT);

    CU_ASSERT_STRING_EQUAL(digest_realm_kind_name(DIGEST_REALM_NOT_AMT), "not-amt");
    CU_ASSERT_STRING_EQUAL(digest_realm_kind_name(DIGEST_REALM_LEGACY), "legacy");
    CU_ASSERT_STRING_EQUAL(digest_realm_kind_name(DIGEST_REALM_DIGEST_HEX), "digest-hex");
    CU_ASSERT_STRING_EQUAL(digest_realm_kind_name(-1), "unknown");
    CU_ASSERT_STRING_EQUAL(digest_realm_kind_name(3), "unknown");
}

static void
test_error_texts(void)
{
    static const int codes[] = {
        AMT_ERR_DIGEST_SYNTAX,   AMT_ERR_DIGEST_NOT_DIGEST,
        AMT_ERR_DIGEST_MISSING,  AMT_ERR_DIGEST_FIELD_TOO_LONG,
        AMT_ERR_DIGEST_MISMATCH, AMT_ERR_DIGEST_UNSUPPORTED,
    };

    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        CU_ASSERT_STRING_NOT_EQUAL(amt_strerror(codes[i]), "unknown error");
}

static CU_TestInfo challenge_tests[] = {
    {"AMT 16.1 challenge without spaces", test_amt16_challenge},
    {"odd spacing and case", test_challenge_spacing},
    {"quoted strings and escapes", test_challenge_escapes},
    {"qop lists", test_challenge_qop_lists},
    {"refused: not Digest", test_challenge_not_digest},
    {"refused: syntax", test_challenge_syntax},
    {"refused: realm or nonce missing", test_challenge_missing},
    {"caps", test_challenge_caps},
    {"arguments", test_parse_arguments},
    {"format", test_format_challenge},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo response_tests[] = {
    {"RFC 2617 response", test_rfc2617_response},
    {"RFC 2617 Authorization checked", test_rfc2617_authorization},
    {"CVE-2017-5689: empty and prefix responses", test_cve_2017_5689},
    {"suspicion and comparison helpers", test_suspicion_helpers},
    {"check refusals", test_check_refusals},
    {"Authorization refusals", test_authorization_refusals},
    {"format Authorization and round trip", test_format_authorization},
    {"client nonce", test_cnonce},
    {"error texts", test_error_texts},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo realm_tests[] = {
    {"builders and classifier", test_realms},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"digest challenge", NULL, NULL, NULL, NULL, challenge_tests},
    {"digest response", NULL, NULL, NULL, NULL, response_tests},
    {"digest realm", NULL, NULL, NULL, NULL, realm_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_digest", suites);
}
