#include "password.h"

#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "err.h"

static const char *const rule_names[] = {
    [PASSWORD_OK] = "ok",
    [PASSWORD_TOO_SHORT] = "too-short",
    [PASSWORD_TOO_LONG] = "too-long",
    [PASSWORD_NON_PRINTABLE] = "non-printable",
    [PASSWORD_FORBIDDEN_CHAR] = "forbidden-char",
    [PASSWORD_NO_DIGIT] = "no-digit",
    [PASSWORD_NO_LOWER] = "no-lower",
    [PASSWORD_NO_UPPER] = "no-upper",
    [PASSWORD_NO_SYMBOL] = "no-symbol",
};

static const char *const user_rule_names[] = {
    [PASSWORD_USER_OK] = "ok",
    [PASSWORD_USER_EMPTY] = "empty",
    [PASSWORD_USER_TOO_LONG] = "too-long",
    [PASSWORD_USER_NON_PRINTABLE] = "non-printable",
    [PASSWORD_USER_FORBIDDEN_CHAR] = "forbidden-char",
    [PASSWORD_USER_RESERVED] = "reserved",
};

/*
 * What the generator draws from. The symbols are every printable non-alphanumeric
 * character except the three the firmware refuses, '_' (the firmware counts it as
 * alphanumeric, so it would not satisfy the symbol rule) and the space (a password
 * that begins or ends with one tends to be trimmed by whoever copies it).
 */
static const char digits[] = "0123456789";
static const char lowers[] = "abcdefghijklmnopqrstuvwxyz";
static const char uppers[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char symbols[] = "!#$%&'()*+-./;<=>?@[\\]^`{|}~";

const char *
password_rule_name(int rule)
{
    if (rule < 0 || (size_t)rule >= sizeof(rule_names) / sizeof(rule_names[0]))
        return "unknown";
    return rule_names[rule];
}

const char *
password_user_rule_name(int rule)
{
    if (rule < 0 || (size_t)rule >= sizeof(user_rule_names) / sizeof(user_rule_names[0]))
        return "unknown";
    return user_rule_names[rule];
}

static bool
is_printable(int c)
{
    return c >= 0x20 && c <= 0x7e;
}

int
password_check(const char *password, enum password_rule *rule)
{
    enum password_rule why = PASSWORD_OK;
    bool digit = false, lower = false, upper = false, symbol = false;
    size_t n;

    if (rule != NULL)
        *rule = PASSWORD_OK;
    if (password == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    n = strnlen(password, PASSWORD_MAX_LEN + 1);
    if (n < PASSWORD_MIN_LEN)
        why = PASSWORD_TOO_SHORT;
    else if (n > PASSWORD_MAX_LEN)
        why = PASSWORD_TOO_LONG;
    for (size_t i = 0; i < n && why == PASSWORD_OK; i++) {
        int c = (unsigned char)password[i];

        if (!is_printable(c))
            why = PASSWORD_NON_PRINTABLE;
        else if (c == ':' || c == ',' || c == '"')
            why = PASSWORD_FORBIDDEN_CHAR;
        else if (c >= '0' && c <= '9')
            digit = true;
        else if (c >= 'a' && c <= 'z')
            lower = true;
        else if (c >= 'A' && c <= 'Z')
            upper = true;
        else if (c != '_')
            symbol = true;
    }
    if (why == PASSWORD_OK) {
        if (!digit)
            why = PASSWORD_NO_DIGIT;
        else if (!lower)
            why = PASSWORD_NO_LOWER;
        else if (!upper)
            why = PASSWORD_NO_UPPER;
        else if (!symbol)
            why = PASSWORD_NO_SYMBOL;
    }
    if (rule != NULL)
        *rule = why;
    return why == PASSWORD_OK ? 0 : AMT_ERR_PASSWORD_POLICY;
}

int
password_check_user(const char *user, enum password_user_rule *rule)
{
    enum password_user_rule why = PASSWORD_USER_OK;
    size_t n;

    if (rule != NULL)
        *rule = PASSWORD_USER_OK;
    if (user == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    n = strnlen(user, PASSWORD_USER_MAX_LEN + 1);
    if (n == 0)
        why = PASSWORD_USER_EMPTY;
    else if (n > PASSWORD_USER_MAX_LEN)
        why = PASSWORD_USER_TOO_LONG;
    for (size_t i = 0; i < n && why == PASSWORD_USER_OK; i++) {
        int c = (unsigned char)user[i];

        if (!is_printable(c))
            why = PASSWORD_USER_NON_PRINTABLE;
        else if (c == ':')
            why = PASSWORD_USER_FORBIDDEN_CHAR;
    }
    if (why == PASSWORD_USER_OK && user[0] == '$' && user[1] == '$')
        why = PASSWORD_USER_RESERVED;
    if (rule != NULL)
        *rule = why;
    return why == PASSWORD_USER_OK ? 0 : AMT_ERR_USERNAME_POLICY;
}

/* Random bytes fetched in batches: one RAND_bytes call per batch, not per draw. */
struct rand_pool {
    unsigned char bytes[64];
    size_t used;
};

/*
 * A uniform number below n (1..256). Taking a byte modulo n would favour the low
 * values whenever n does not divide 256, so bytes at or above the largest multiple of
 * n are thrown away and drawn again.
 */
static int
pool_below(struct rand_pool *pool, unsigned n, unsigned *out)
{
    unsigned limit = 256 - 256 % n;

    for (;;) {
        unsigned b;

        if (pool->used == sizeof(pool->bytes)) {
            if (RAND_bytes(pool->bytes, (int)sizeof(pool->bytes)) != 1)
                return AMT_ERR_CRYPTO;
            pool->used = 0;
        }
        b = pool->bytes[pool->used++];
        if (b < limit) {
            *out = b % n;
            return 0;
        }
    }
}

int
password_generate(char *buf, size_t size, size_t len)
{
    static const char *const classes[] = {digits, lowers, uppers, symbols};
    char alphabet[sizeof(digits) + sizeof(lowers) + sizeof(uppers) + sizeof(symbols)];
    struct rand_pool pool = {.used = sizeof(pool.bytes)};
    size_t alphabet_len;
    unsigned k = 0;
    int r = AMT_ERR_INTERNAL;

    if (len == 0)
        len = PASSWORD_DEFAULT_LEN;
    if (buf == NULL || len < PASSWORD_MIN_LEN || len > PASSWORD_MAX_LEN)
        return AMT_ERR_INVALID_ARGUMENT;
    if (size < len + 1)
        return AMT_ERR_TOO_LARGE;
    alphabet[0] = '\0';
    for (size_t c = 0; c < sizeof(classes) / sizeof(classes[0]); c++)
        strcat(alphabet, classes[c]);
    alphabet_len = strlen(alphabet);

    /* One from each class so the policy always holds, the rest from everything. */
    for (size_t i = 0; i < len; i++) {
        const char *from = i < 4 ? classes[i] : alphabet;

        if ((r = pool_below(&pool, (unsigned)(i < 4 ? strlen(from) : alphabet_len),
                            &k)) != 0)
            goto out;
        buf[i] = from[k];
    }
    buf[len] = '\0';
    /* Fisher-Yates, so the guaranteed characters may land anywhere. */
    for (size_t i = len - 1; i > 0; i--) {
        char t;

        if ((r = pool_below(&pool, (unsigned)i + 1, &k)) != 0)
            goto out;
        t = buf[i];
        buf[i] = buf[k];
        buf[k] = t;
    }
    r = password_check(buf, NULL) == 0 ? 0 : AMT_ERR_INTERNAL;
out:
    if (r != 0)
        OPENSSL_cleanse(buf, size);
    OPENSSL_cleanse(&pool, sizeof(pool));
    OPENSSL_cleanse(&k, sizeof(k));
    return r;
}

void
password_wipe(char *buf, size_t len)
{
    if (buf != NULL && len > 0)
        OPENSSL_cleanse(buf, len);
}
