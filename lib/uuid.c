#include "uuid.h"

#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "err.h"

#define UUID_TEXT_LEN (UUID_TEXT_SIZE - 1)

static bool
is_hyphen_position(size_t i)
{
    return i == 8 || i == 13 || i == 18 || i == 23;
}

static int
hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Example: "8c3e1b2a-5d4f-4e6a-9b7c-0123456789ab". */
int
uuid_parse(const char *text, struct amt_uuid *out)
{
    struct amt_uuid u;
    size_t n = 0;

    if (text == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    /* strnlen keeps an unterminated over-long input from being read to its end. */
    if (strnlen(text, UUID_TEXT_LEN + 1) != UUID_TEXT_LEN)
        return AMT_ERR_UUID_FORMAT;
    for (size_t i = 0; i < UUID_TEXT_LEN;) {
        int hi, lo;

        if (is_hyphen_position(i)) {
            if (text[i] != '-')
                return AMT_ERR_UUID_FORMAT;
            i++;
            continue;
        }
        if ((hi = hex_digit(text[i])) < 0 || (lo = hex_digit(text[i + 1])) < 0)
            return AMT_ERR_UUID_FORMAT;
        u.b[n++] = (unsigned char)(hi << 4 | lo);
        i += 2;
    }
    *out = u;
    return 0;
}

char *
uuid_format(const struct amt_uuid *u, char buf[static UUID_TEXT_SIZE])
{
    const unsigned char *b = u->b;

    snprintf(buf, UUID_TEXT_SIZE,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
    return buf;
}

/* Where each printed byte sits in SMBIOS order; the permutation is its own inverse. */
static const unsigned char smbios_order[16] = {3, 2, 1,  0,  5,  4,  7,  6,
                                               8, 9, 10, 11, 12, 13, 14, 15};

void
uuid_to_smbios(const struct amt_uuid *u, unsigned char smbios[static 16])
{
    unsigned char tmp[16];

    for (size_t i = 0; i < 16; i++)
        tmp[i] = u->b[smbios_order[i]];
    memcpy(smbios, tmp, sizeof(tmp));
}

void
uuid_from_smbios(const unsigned char smbios[static 16], struct amt_uuid *out)
{
    struct amt_uuid u;

    for (size_t i = 0; i < 16; i++)
        u.b[i] = smbios[smbios_order[i]];
    *out = u;
}

bool
uuid_equal(const struct amt_uuid *a, const struct amt_uuid *b)
{
    return a != NULL && b != NULL && memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

int
uuid_random(struct amt_uuid *out)
{
    struct amt_uuid u;

    if (out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (RAND_bytes(u.b, sizeof(u.b)) != 1)
        return AMT_ERR_CRYPTO;
    /* RFC 4122 section 4.4: version 4 in the high nibble of byte 6, variant 10xx. */
    u.b[6] = (unsigned char)((u.b[6] & 0x0f) | 0x40);
    u.b[8] = (unsigned char)((u.b[8] & 0x3f) | 0x80);
    *out = u;
    return 0;
}
