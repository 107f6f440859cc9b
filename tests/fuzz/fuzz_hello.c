/*
 * Any bytes into hello_decode; whatever it accepts must encode back to exactly the
 * same bytes and decode again to the same hello, since the format has no slack.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned char buf[HELLO_ENCODED_MAX];
    struct hello h, again;
    size_t len = 0;

    if (hello_decode(data, size, &h) != 0)
        return 0;
    if (h.n_hashes > HELLO_MAX_HASHES || size > HELLO_ENCODED_MAX)
        abort();
    if (hello_encode(&h, buf, sizeof(buf), &len) != 0 || len != size ||
        memcmp(buf, data, size) != 0)
        abort();
    if (hello_decode(buf, len, &again) != 0 ||
        again.admin_credentials_set != h.admin_credentials_set ||
        again.version != h.version || again.retry_count != h.retry_count ||
        !uuid_equal(&again.uuid, &h.uuid) || again.n_hashes != h.n_hashes)
        abort();
    for (size_t i = 0; i < h.n_hashes; i++)
        if (!thumbprint_equal(&again.hashes[i], &h.hashes[i]))
            abort();
    if (hello_find_root(&h, h.hashes, h.n_hashes) != (h.n_hashes > 0 ? 0 : -1))
        abort();
    return 0;
}
