#include "hello.h"

#include <limits.h>
#include <string.h>

#include "err.h"

static uint16_t
get_u16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void
put_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)(v >> 8);
}

static void
put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i) & 0xff);
}

/*
 * A factory-fresh device, retry 0, UUID 8c3e1b2a-5d4f-4e6a-9b7c-0123456789ab, one
 * SHA-1 root hash (VeriSign Class 3 Public Primary CA - G5); 47 bytes:
 *
 *   0000 0300 00000000                      flag 0, version 3, retry 0
 *   2a1b3e8c 4f5d 6a4e 9b7c 0123456789ab    UUID, first three groups swapped
 *   01                                      one hash
 *   01 14 4eb6d578499b1ccf5f581ead56be3d9b6744a5e5   SHA-1, 20 bytes
 */
int
hello_decode(const unsigned char *data, size_t size, struct hello *out)
{
    struct hello h;
    size_t off = HELLO_HEADER_LEN;
    uint16_t flag;
    int r = AMT_ERR_INTERNAL;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if ((data == NULL && size > 0) || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    memset(&h, 0, sizeof(h));
    if (size > HELLO_MAX_BYTES) {
        r = AMT_ERR_HELLO_TOO_LONG;
        goto out;
    }
    if (size < HELLO_HEADER_LEN) {
        r = AMT_ERR_HELLO_SHORT;
        goto out;
    }
    h.version = get_u16(data + 2);
    if (h.version == HELLO_VERSION_PSK) {
        r = AMT_ERR_HELLO_PSK;
        goto out;
    }
    if (h.version != HELLO_VERSION_PKI) {
        r = AMT_ERR_HELLO_VERSION;
        goto out;
    }
    if ((flag = get_u16(data)) > 1) {
        r = AMT_ERR_HELLO_FLAG;
        goto out;
    }
    h.admin_credentials_set = flag == 1;
    h.retry_count = get_u32(data + 4);
    uuid_from_smbios(data + 8, &h.uuid);
    h.n_hashes = data[24];
    if (h.n_hashes > HELLO_MAX_HASHES) {
        r = AMT_ERR_HELLO_TOO_MANY_HASHES;
        goto out;
    }
    for (size_t i = 0; i < h.n_hashes; i++) {
        struct amt_thumbprint *tp = &h.hashes[i];
        size_t want;

        if (off == size) {
            r = AMT_ERR_HELLO_HASH_COUNT;
            goto out;
        }
        if (size - off < 2) {
            r = AMT_ERR_HELLO_TRUNCATED;
            goto out;
        }
        if ((want = thumbprint_hash_len(data[off])) == 0) {
            r = AMT_ERR_HELLO_HASH_TYPE;
            goto out;
        }
        if (data[off + 1] != want) {
            r = AMT_ERR_HELLO_HASH_LENGTH;
            goto out;
        }
        if (size - off - 2 < want) {
            r = AMT_ERR_HELLO_TRUNCATED;
            goto out;
        }
        tp->type = (enum amt_hash_type)data[off];
        tp->len = want;
        memcpy(tp->bytes, data + off + 2, want);
        off += 2 + want;
    }
    if (off != size) {
        r = AMT_ERR_HELLO_TRAILING;
        goto out;
    }
    *out = h;
    r = 0;
out:
    return r;
}

int
hello_encode(const struct hello *h, unsigned char *buf, size_t size, size_t *len)
{
    unsigned char smbios[16];
    size_t need = HELLO_HEADER_LEN;
    size_t off = HELLO_HEADER_LEN;

    if (len != NULL)
        *len = 0;
    if (h == NULL || buf == NULL || len == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (h->version == HELLO_VERSION_PSK)
        return AMT_ERR_HELLO_PSK;
    if (h->version != HELLO_VERSION_PKI)
        return AMT_ERR_HELLO_VERSION;
    if (h->n_hashes > HELLO_MAX_HASHES)
        return AMT_ERR_HELLO_TOO_MANY_HASHES;
    for (size_t i = 0; i < h->n_hashes; i++) {
        size_t want = thumbprint_hash_len(h->hashes[i].type);

        if (want == 0)
            return AMT_ERR_HELLO_HASH_TYPE;
        if (h->hashes[i].len != want)
            return AMT_ERR_HELLO_HASH_LENGTH;
        need += 2 + want;
    }
    if (size < need)
        return AMT_ERR_TOO_LARGE;
    put_u16(buf, h->admin_credentials_set ? 1 : 0);
    put_u16(buf + 2, h->version);
    put_u32(buf + 4, h->retry_count);
    uuid_to_smbios(&h->uuid, smbios);
    memcpy(buf + 8, smbios, sizeof(smbios));
    buf[24] = (unsigned char)h->n_hashes;
    for (size_t i = 0; i < h->n_hashes; i++) {
        const struct amt_thumbprint *tp = &h->hashes[i];

        buf[off] = (unsigned char)tp->type;
        buf[off + 1] = (unsigned char)tp->len;
        memcpy(buf + off + 2, tp->bytes, tp->len);
        off += 2 + tp->len;
    }
    *len = off;
    return 0;
}

int
hello_find_root(const struct hello *h, const struct amt_thumbprint *roots, size_t n)
{
    if (h == NULL || roots == NULL)
        return -1;
    for (size_t r = 0; r < n && r < INT_MAX; r++)
        for (size_t i = 0; i < h->n_hashes && i < HELLO_MAX_HASHES; i++)
            if (thumbprint_equal(&roots[r], &h->hashes[i]))
                return (int)r;
    return -1;
}
