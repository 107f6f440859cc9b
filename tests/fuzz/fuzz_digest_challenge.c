/*
 * Feeds one header value to both Digest parsers. Whatever the input: every kept
 * field ends with a NUL inside its buffer, a refused header leaves the result zeroed,
 * an accepted one survives formatting and parsing again unchanged, and an empty
 * response is never accepted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs well past the header cap still reach the length check; larger ones add nothing.
 */
#define FUZZ_INPUT_MAX (4 * DIGEST_HEADER_MAX)
/* Escaping can double a value; this holds any header formatted from capped fields. */
#define FORMAT_MAX (4 * DIGEST_HEADER_MAX)

#define TERMINATED(field) (memchr((field), '\0', sizeof(field)) != NULL)

static void
require(int condition)
{
    if (!condition)
        abort();
}

static bool
all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return false;
    return true;
}

static bool
challenge_terminated(const struct digest_challenge *c)
{
    return TERMINATED(c->realm) && TERMINATED(c->nonce) && TERMINATED(c->opaque) &&
           TERMINATED(c->algorithm) && TERMINATED(c->domain);
}

static bool
challenge_same(const struct digest_challenge *a, const struct digest_challenge *b)
{
    return strcmp(a->realm, b->realm) == 0 && strcmp(a->nonce, b->nonce) == 0 &&
           strcmp(a->opaque, b->opaque) == 0 && strcmp(a->algorithm, b->algorithm) == 0 &&
           strcmp(a->domain, b->domain) == 0 && a->qop == b->qop &&
           a->has_qop == b->has_qop && a->has_opaque == b->has_opaque &&
           a->stale == b->stale;
}

static bool
authorization_terminated(const struct digest_authorization *a)
{
    return TERMINATED(a->username) && TERMINATED(a->realm) && TERMINATED(a->nonce) &&
           TERMINATED(a->uri) && TERMINATED(a->response) && TERMINATED(a->cnonce) &&
           TERMINATED(a->nc) && TERMINATED(a->qop) && TERMINATED(a->opaque) &&
           TERMINATED(a->algorithm);
}

static void
fuzz_challenge(const char *text, char *formatted)
{
    struct digest_challenge c, again;

    if (digest_parse_challenge(text, &c) != 0) {
        require(all_zero(&c, sizeof(c)));
        return;
    }
    require(challenge_terminated(&c));
    require(c.realm[0] != '\0' && c.nonce[0] != '\0');
    (void)digest_realm_kind(c.realm);
    require(digest_format_challenge(&c, formatted, FORMAT_MAX) == 0);
    if (strlen(formatted) > DIGEST_HEADER_MAX)
        return;
    require(digest_parse_challenge(formatted, &again) == 0);
    require(challenge_same(&c, &again));
}

static void
fuzz_authorization(const char *text, char *formatted)
{
    struct digest_authorization a, again;
    enum digest_suspicion suspicion;

    if (digest_parse_authorization(text, &a) != 0) {
        require(all_zero(&a, sizeof(a)));
        return;
    }
    require(authorization_terminated(&a));
    if (digest_check(&a, a.realm, "P@ssw0rd", "POST", &suspicion) == 0)
        require(a.response[0] != '\0' && suspicion == DIGEST_SUSPICION_NONE);
    if (a.response[0] == '\0')
        require(suspicion == DIGEST_SUSPICION_EMPTY);
    require(digest_format_authorization(&a, formatted, FORMAT_MAX) == 0);
    if (strlen(formatted) > DIGEST_HEADER_MAX)
        return;
    require(digest_parse_authorization(formatted, &again) == 0);
    require(memcmp(&a, &again, sizeof(a)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char formatted[FORMAT_MAX];
    char *text;

    if (size > FUZZ_INPUT_MAX)
        return 0;
    if ((text = malloc(size + 1)) == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    fuzz_challenge(text, formatted);
    fuzz_authorization(text, formatted);
    free(text);
    return 0;
}
