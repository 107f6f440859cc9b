/*
 * Strict JSON (RFC 8259): a writer into a growing buffer, and a parser into a small
 * read-only tree, enough for the event log and the programs that read it.
 *
 * Text is UTF-8 on both sides. The writer refuses invalid UTF-8 rather than
 * replacing it, so a bug never turns into a silently altered log; callers that hold
 * raw bytes from the network should hex-encode them. The parser accepts what any
 * RFC 8259 writer may produce, with caps on size, depth and string length, and
 * refuses everything else: a byte-order mark, trailing garbage, duplicate object
 * keys, lone surrogates, overlong or otherwise invalid UTF-8, leading zeros, NaN.
 */
#ifndef AMT_JSON_H
#define AMT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nesting of arrays and objects: the writer's hard cap, the parser's default. */
#define JSON_MAX_DEPTH 32
/* Bytes of one document: the writer's hard cap, the parser's default. */
#define JSON_MAX_SIZE (1024u * 1024)
/* Bytes of one decoded string or key: the parser's default. */
#define JSON_MAX_STRING (64u * 1024)
/* Items of one array or members of one object: the parser's default. */
#define JSON_MAX_ITEMS 4096u

enum json_type {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT,
};

struct json_value;
struct json_writer;

/* Caps for json_parse; a zero field takes the default above. */
struct json_limits {
    size_t max_depth;
    size_t max_size;
    size_t max_string;
    size_t max_items;
};

/* Where and why json_parse stopped: a byte offset and a static phrase. */
struct json_error {
    size_t offset;
    const char *what;
};

/*
 * Writer. Calls nest like the document: begin an object, then key and value pairs,
 * then end it. The first error (misuse, invalid UTF-8, a number that JSON cannot
 * hold, a cap) sticks: later calls do nothing and return it, and so does
 * json_writer_result, so a caller may check only there.
 */
int json_writer_new(struct json_writer **out);
void json_writer_free(struct json_writer *w);
int json_write_object_begin(struct json_writer *w);
int json_write_object_end(struct json_writer *w);
int json_write_array_begin(struct json_writer *w);
int json_write_array_end(struct json_writer *w);
int json_write_key(struct json_writer *w, const char *key);
int json_write_string(struct json_writer *w, const char *s);
int json_write_string_len(struct json_writer *w, const char *s, size_t len);
int json_write_int(struct json_writer *w, int64_t n);
/* Fixed point with 0 to 9 decimals ("75.250" for 75.25 and 3). */
int json_write_fixed(struct json_writer *w, double n, int decimals);
/* The shortest text that reads back as the same double. */
int json_write_double(struct json_writer *w, double n);
int json_write_bool(struct json_writer *w, bool b);
int json_write_null(struct json_writer *w);
/* A parsed value and everything under it. */
int json_write_value(struct json_writer *w, const struct json_value *v);
/*
 * The finished document (NUL-terminated, owned by the writer): the sticky error,
 * or AMT_ERR_INVALID_ARGUMENT while a container is still open or nothing was
 * written.
 */
int json_writer_result(const struct json_writer *w, const char **text, size_t *len);

/*
 * Parser. text need not be NUL-terminated. On failure *out is NULL and error (which
 * may be NULL) says where: AMT_ERR_JSON_SYNTAX, AMT_ERR_JSON_TOO_DEEP,
 * AMT_ERR_JSON_TOO_LARGE, AMT_ERR_JSON_UTF8, AMT_ERR_JSON_DUPLICATE_KEY or
 * AMT_ERR_ALLOC.
 */
int json_parse(const char *text, size_t len, const struct json_limits *limits,
               struct json_value **out, struct json_error *error);
void json_free(struct json_value *v);

/* A NULL value has type JSON_NULL here, so lookups can be chained. */
enum json_type json_type_of(const struct json_value *v);
/* Items of an array or members of an object; 0 for anything else. */
size_t json_count(const struct json_value *v);
const struct json_value *json_array_at(const struct json_value *array, size_t i);
/* The i-th member of an object, in document order; len may be NULL. */
const char *json_object_key_at(const struct json_value *object, size_t i, size_t *len);
const struct json_value *json_object_value_at(const struct json_value *object, size_t i);
/* NULL when obj is not an object or has no such key. */
const struct json_value *json_object_get(const struct json_value *obj, const char *key);
/*
 * Follows dot-separated object keys, and decimal indexes through arrays:
 * "detail.status", "list.0.name". Keys that contain a dot cannot be reached this
 * way. NULL when any step is missing.
 */
const struct json_value *json_path(const struct json_value *v, const char *path);

/*
 * Typed reads: 0, AMT_ERR_NOT_FOUND for a NULL value (a missing key), or
 * AMT_ERR_JSON_TYPE. A string may hold "\u0000": len (may be NULL) tells its
 * length. json_get_int wants an integral number within +-2^53.
 */
int json_get_string(const struct json_value *v, const char **out, size_t *len);
int json_get_number(const struct json_value *v, double *out);
int json_get_int(const struct json_value *v, int64_t *out);
int json_get_bool(const struct json_value *v, bool *out);

/* Same type and value; objects must list the same keys in the same order. */
bool json_equal(const struct json_value *a, const struct json_value *b);

#endif
