/*
 * JSON parser: any input either is refused cleanly or parses to a tree that the
 * writer serialises and the parser reads back as an equal tree.
 */
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_value *a = NULL, *b = NULL;
    struct json_writer *w = NULL;
    const char *text;
    size_t len;
    int r;

    if (json_parse((const char *)data, size, NULL, &a, NULL) != 0)
        return 0;
    if (json_writer_new(&w) != 0)
        abort();
    json_write_value(w, a);
    r = json_writer_result(w, &text, &len);
    /* Rewritten numbers may be longer ("1e22" as "1e+22"), so a document at the
     * size cap may no longer fit it. */
    if (r != 0 && r != AMT_ERR_JSON_TOO_LARGE)
        abort();
    if (r == 0 && (json_parse(text, len, NULL, &b, NULL) != 0 || !json_equal(a, b)))
        abort();
    json_writer_free(w);
    json_free(a);
    json_free(b);
    return 0;
}
