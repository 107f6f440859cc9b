/* JSON: the writer's output and refusals, the parser's acceptance and every refusal. */
#include "err.h"
#include "json.h"
#include "unit.h"

#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Writes with f and compares the finished document with expect. */
static void
expect_written(void (*f)(struct json_writer *), const char *expect)
{
    struct json_writer *w = NULL;
    const char *text = NULL;
    size_t len = 0;

    CU_ASSERT_EQUAL_FATAL(json_writer_new(&w), 0);
    f(w);
    CU_ASSERT_EQUAL(json_writer_result(w, &text, &len), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_STRING_EQUAL(text, expect);
    CU_ASSERT_EQUAL(len, strlen(expect));
    json_writer_free(w);
}

static void
write_all_types(struct json_writer *w)
{
    json_write_object_begin(w);
    json_write_key(w, "s");
    json_write_string(w, "x");
    json_write_key(w, "i");
    json_write_int(w, -42);
    json_write_key(w, "vt");
    json_write_fixed(w, 75.25, 3);
    json_write_key(w, "d");
    json_write_double(w, 0.1);
    json_write_key(w, "t");
    json_write_bool(w, true);
    json_write_key(w, "f");
    json_write_bool(w, false);
    json_write_key(w, "n");
    json_write_null(w);
    json_write_key(w, "a");
    json_write_array_begin(w);
    json_write_int(w, 1);
    json_write_array_begin(w);
    json_write_array_end(w);
    json_write_object_begin(w);
    json_write_object_end(w);
    json_write_array_end(w);
    json_write_object_end(w);
}

static void
test_writer_types(void)
{
    expect_written(write_all_types, "{\"s\":\"x\",\"i\":-42,\"vt\":75.250,\"d\":0.1,"
                                    "\"t\":true,\"f\":false,\"n\":null,\"a\":[1,[],{}]}");
}

static void
write_escapes(struct json_writer *w)
{
    json_write_array_begin(w);
    json_write_string(w, "q\"b\\s/");
    json_write_string(w, "\b\f\n\r\t\x01\x1f\x7f");
    json_write_string(w, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    json_write_string_len(w, "a\0b", 3);
    json_write_array_end(w);
}

static void
test_writer_escapes(void)
{
    expect_written(write_escapes,
                   "[\"q\\\"b\\\\s/\",\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\","
                   "\"caf\xc3\xa9 \xf0\x9f\x98\x80\",\"a\\u0000b\"]");
}

static void
write_numbers(struct json_writer *w)
{
    json_write_array_begin(w);
    json_write_fixed(w, 0, 3);
    json_write_fixed(w, 1.0005, 0);
    json_write_fixed(w, 2.5, 1);
    json_write_int(w, INT64_MAX);
    json_write_int(w, INT64_MIN);
    json_write_double(w, 1e300);
    json_write_double(w, 5);
    json_write_double(w, -0.5);
    json_write_double(w, 0.1 + 0.2);
    json_write_array_end(w);
}

static void
test_writer_numbers(void)
{
    expect_written(write_numbers, "[0.000,1,2.5,9223372036854775807,-9223372036854775808,"
                                  "1e+300,5,-0.5,0.30000000000000004]");
}

static void
write_scalar_top(struct json_writer *w)
{
    json_write_string(w, "alone");
}

static void
test_writer_scalar_document(void)
{
    expect_written(write_scalar_top, "\"alone\"");
}

static const char *const bad_utf8[] = {
    "\x80",             /* continuation without a lead */
    "\xc0\x80",         /* overlong NUL */
    "\xc1\xbf",         /* overlong */
    "\xe0\x80\xaf",     /* overlong '/' */
    "\xed\xa0\x80",     /* UTF-16 surrogate */
    "\xf4\x90\x80\x80", /* above U+10FFFF */
    "\xf5\x80\x80\x80", /* no such lead byte */
    "\xe2\x82",         /* cut short */
    "\xe2\x28\xa1",     /* bad second byte */
    "\xf0\x9f\x98",     /* four-byte cut short */
    "\xf0\x9f\x98\x28", /* bad fourth byte */
};

static void
test_writer_refuses_bad_utf8(void)
{
    for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
        struct json_writer *w = NULL;
        const char *text = "unchanged";

        CU_ASSERT_EQUAL_FATAL(json_writer_new(&w), 0);
        CU_ASSERT_EQUAL(json_write_string(w, bad_utf8[i]), AMT_ERR_JSON_UTF8);
        /* Sticky: later calls keep the first error. */
        CU_ASSERT_EQUAL(json_write_null(w), AMT_ERR_JSON_UTF8);
        CU_ASSERT_EQUAL(json_writer_result(w, &text, NULL), AMT_ERR_JSON_UTF8);
        CU_ASSERT_PTR_NULL(text);
        json_writer_free(w);
    }
    /* In a key too. */
    {
        struct json_writer *w = NULL;

        CU_ASSERT_EQUAL_FATAL(json_writer_new(&w), 0);
        json_write_object_begin(w);
        CU_ASSERT_EQUAL(json_write_key(w, "\xff"), AMT_ERR_JSON_UTF8);
        json_writer_free(w);
    }
}

/* Each misuse, from a fresh writer; the code must stick until the result. */
static void
misuse_value_without_key(struct json_writer *w)
{
    json_write_object_begin(w);
    json_write_int(w, 1);
}

static void
misuse_key_in_array(struct json_writer *w)
{
    json_write_array_begin(w);
    json_write_key(w, "k");
}

static void
misuse_key_twice(struct json_writer *w)
{
    json_write_object_begin(w);
    json_write_key(w, "k");
    json_write_key(w, "l");
}

static void
misuse_key_at_top(struct json_writer *w)
{
    json_write_key(w, "k");
}

static void
misuse_wrong_end(struct json_writer *w)
{
    json_write_object_begin(w);
    json_write_array_end(w);
}

static void
misuse_end_at_top(struct json_writer *w)
{
    json_write_object_end(w);
}

static void
misuse_end_after_key(struct json_writer *w)
{
    json_write_object_begin(w);
    json_write_key(w, "k");
    json_write_object_end(w);
}

static void
misuse_two_documents(struct json_writer *w)
{
    json_write_int(w, 1);
    json_write_int(w, 2);
}

static void
misuse_unclosed(struct json_writer *w)
{
    json_write_array_begin(w);
}

static void
misuse_nothing(struct json_writer *w)
{
    (void)w;
}

static void
misuse_nan(struct json_writer *w)
{
    json_write_double(w, NAN);
}

static void
misuse_infinite_fixed(struct json_writer *w)
{
    json_write_fixed(w, INFINITY, 3);
}

static void
misuse_decimals(struct json_writer *w)
{
    json_write_fixed(w, 1, 10);
}

static void
misuse_negative_decimals(struct json_writer *w)
{
    json_write_fixed(w, 1, -1);
}

static void
misuse_null_string(struct json_writer *w)
{
    json_write_string(w, NULL);
}

static void
misuse_null_string_len(struct json_writer *w)
{
    json_write_string_len(w, NULL, 0);
}

static void
misuse_null_key(struct json_writer *w)
{
    json_write_object_begin(w);
    json_write_key(w, NULL);
}

static void
misuse_null_value(struct json_writer *w)
{
    json_write_value(w, NULL);
}

static void
misuse_too_deep(struct json_writer *w)
{
    for (int i = 0; i < JSON_MAX_DEPTH + 1; i++)
        json_write_array_begin(w);
}

static void
misuse_too_large(struct json_writer *w)
{
    size_t n = JSON_MAX_SIZE;
    char *big = malloc(n + 1);

    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memset(big, 'a', n);
    big[n] = '\0';
    json_write_string(w, big);
    free(big);
}

static const struct {
    const char *name;
    void (*f)(struct json_writer *);
    int code;
} misuses[] = {
    {"value without key", misuse_value_without_key, AMT_ERR_INVALID_ARGUMENT},
    {"key in array", misuse_key_in_array, AMT_ERR_INVALID_ARGUMENT},
    {"key twice", misuse_key_twice, AMT_ERR_INVALID_ARGUMENT},
    {"key at top", misuse_key_at_top, AMT_ERR_INVALID_ARGUMENT},
    {"wrong end", misuse_wrong_end, AMT_ERR_INVALID_ARGUMENT},
    {"end at top", misuse_end_at_top, AMT_ERR_INVALID_ARGUMENT},
    {"end after key", misuse_end_after_key, AMT_ERR_INVALID_ARGUMENT},
    {"two documents", misuse_two_documents, AMT_ERR_INVALID_ARGUMENT},
    {"unclosed", misuse_unclosed, AMT_ERR_INVALID_ARGUMENT},
    {"nothing", misuse_nothing, AMT_ERR_INVALID_ARGUMENT},
    {"nan", misuse_nan, AMT_ERR_INVALID_ARGUMENT},
    {"infinite fixed", misuse_infinite_fixed, AMT_ERR_INVALID_ARGUMENT},
    {"10 decimals", misuse_decimals, AMT_ERR_INVALID_ARGUMENT},
    {"-1 decimals", misuse_negative_decimals, AMT_ERR_INVALID_ARGUMENT},
    {"null string", misuse_null_string, AMT_ERR_INVALID_ARGUMENT},
    {"null string_len", misuse_null_string_len, AMT_ERR_INVALID_ARGUMENT},
    {"null key", misuse_null_key, AMT_ERR_INVALID_ARGUMENT},
    {"null value", misuse_null_value, AMT_ERR_INVALID_ARGUMENT},
    {"too deep", misuse_too_deep, AMT_ERR_JSON_TOO_DEEP},
    {"too large", misuse_too_large, AMT_ERR_JSON_TOO_LARGE},
};

static void
test_writer_misuse(void)
{
    for (size_t i = 0; i < sizeof(misuses) / sizeof(misuses[0]); i++) {
        struct json_writer *w = NULL;
        int r;

        CU_ASSERT_EQUAL_FATAL(json_writer_new(&w), 0);
        misuses[i].f(w);
        r = json_writer_result(w, NULL, NULL);
        if (r != misuses[i].code)
            fprintf(stderr, "misuse \"%s\": got %d, want %d\n", misuses[i].name, r,
                    misuses[i].code);
        CU_ASSERT_EQUAL(r, misuses[i].code);
        json_writer_free(w);
    }
    CU_ASSERT_EQUAL(json_writer_new(NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(json_writer_result(NULL, NULL, NULL), AMT_ERR_INVALID_ARGUMENT);
    json_writer_free(NULL);
}

static void
write_deepest(struct json_writer *w)
{
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        json_write_array_begin(w);
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        json_write_array_end(w);
}

static void
test_writer_depth_limit_reachable(void)
{
    char expect[2 * JSON_MAX_DEPTH + 1];

    memset(expect, '[', JSON_MAX_DEPTH);
    memset(expect + JSON_MAX_DEPTH, ']', JSON_MAX_DEPTH);
    expect[2 * JSON_MAX_DEPTH] = '\0';
    expect_written(write_deepest, expect);
}

/* Under a locale with a decimal comma the output must still use '.'. */
static void
test_writer_locale_independent(void)
{
    static const char *const comma_locales[] = {"de_DE.UTF-8", "fr_FR.UTF-8", "de_DE",
                                                "C.UTF-8"};
    const char *set = NULL;

    for (size_t i = 0; set == NULL && i < sizeof(comma_locales) / sizeof(*comma_locales);
         i++)
        set = setlocale(LC_NUMERIC, comma_locales[i]);
    expect_written(write_numbers, "[0.000,1,2.5,9223372036854775807,-9223372036854775808,"
                                  "1e+300,5,-0.5,0.30000000000000004]");
    {
        struct json_value *v = NULL;
        double d = 0;

        CU_ASSERT_EQUAL(json_parse("2.5", 3, NULL, &v, NULL), 0);
        CU_ASSERT_EQUAL(json_get_number(v, &d), 0);
        CU_ASSERT_EQUAL(d, 2.5);
        json_free(v);
    }
    setlocale(LC_NUMERIC, "C");
}

static struct json_value *
parse_ok(const char *text)
{
    struct json_value *v = NULL;
    struct json_error e;
    int r = json_parse(text, strlen(text), NULL, &v, &e);

    if (r != 0)
        fprintf(stderr, "parse \"%s\": %d at %zu: %s\n", text, r, e.offset, e.what);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_PTR_NOT_NULL(v);
    return v;
}

static void
test_parse_document(void)
{
    const char *doc = " {\"ts\":\"2026-11-22T01:02:03.456Z\",\"vt\":75.250,\"ok\":true,"
                      "\"no\":false,\"nil\":null,\"detail\":{\"status\":401,"
                      "\"list\":[1,{\"name\":\"x\"}]},\"neg\":-1.5e2} \r\n\t";
    struct json_value *v = parse_ok(doc);
    const char *s = NULL;
    size_t len = 0;
    double d = 0;
    int64_t i = 0;
    bool b = false;

    CU_ASSERT_EQUAL(json_type_of(v), JSON_OBJECT);
    CU_ASSERT_EQUAL(json_count(v), 7);
    CU_ASSERT_STRING_EQUAL(json_object_key_at(v, 0, &len), "ts");
    CU_ASSERT_EQUAL(len, 2);
    CU_ASSERT_STRING_EQUAL(json_object_key_at(v, 6, NULL), "neg");
    CU_ASSERT_PTR_NULL(json_object_key_at(v, 7, NULL));
    CU_ASSERT_PTR_NULL(json_object_value_at(v, 7));
    CU_ASSERT_EQUAL(json_type_of(json_object_value_at(v, 1)), JSON_NUMBER);

    CU_ASSERT_EQUAL(json_get_string(json_object_get(v, "ts"), &s, &len), 0);
    CU_ASSERT_STRING_EQUAL(s, "2026-11-22T01:02:03.456Z");
    CU_ASSERT_EQUAL(len, 24);
    CU_ASSERT_EQUAL(json_get_number(json_object_get(v, "vt"), &d), 0);
    CU_ASSERT_EQUAL(d, 75.25);
    CU_ASSERT_EQUAL(json_get_bool(json_object_get(v, "ok"), &b), 0);
    CU_ASSERT_TRUE(b);
    CU_ASSERT_EQUAL(json_get_bool(json_object_get(v, "no"), &b), 0);
    CU_ASSERT_FALSE(b);
    CU_ASSERT_EQUAL(json_type_of(json_object_get(v, "nil")), JSON_NULL);
    CU_ASSERT_PTR_NOT_NULL(json_object_get(v, "nil"));
    CU_ASSERT_EQUAL(json_get_number(json_object_get(v, "neg"), &d), 0);
    CU_ASSERT_EQUAL(d, -150);

    CU_ASSERT_EQUAL(json_get_int(json_path(v, "detail.status"), &i), 0);
    CU_ASSERT_EQUAL(i, 401);
    CU_ASSERT_EQUAL(json_get_int(json_path(v, "detail.list.0"), &i), 0);
    CU_ASSERT_EQUAL(i, 1);
    CU_ASSERT_EQUAL(json_get_string(json_path(v, "detail.list.1.name"), &s, NULL), 0);
    CU_ASSERT_STRING_EQUAL(s, "x");
    CU_ASSERT_EQUAL(json_count(json_path(v, "detail.list")), 2);
    CU_ASSERT_EQUAL(json_type_of(json_array_at(json_path(v, "detail.list"), 1)),
                    JSON_OBJECT);

    /* Missing steps, wrong kinds of steps. */
    CU_ASSERT_PTR_NULL(json_path(v, "detail.nope"));
    CU_ASSERT_PTR_NULL(json_path(v, "detail.status.deeper"));
    CU_ASSERT_PTR_NULL(json_path(v, "detail.list.2"));
    CU_ASSERT_PTR_NULL(json_path(v, "detail.list.01"));
    CU_ASSERT_PTR_NULL(json_path(v, "detail.list.x"));
    CU_ASSERT_PTR_NULL(json_path(v, "detail.list."));
    CU_ASSERT_PTR_NULL(json_path(v, "detail.list.1234567890"));
    CU_ASSERT_PTR_NULL(json_path(v, NULL));
    CU_ASSERT_PTR_NULL(json_path(NULL, "a"));
    CU_ASSERT_PTR_NULL(json_object_get(v, NULL));
    CU_ASSERT_PTR_NULL(json_object_get(json_object_get(v, "vt"), "x"));
    CU_ASSERT_PTR_NULL(json_array_at(v, 0));
    CU_ASSERT_EQUAL(json_count(json_object_get(v, "vt")), 0);
    CU_ASSERT_EQUAL(json_count(NULL), 0);
    CU_ASSERT_EQUAL(json_type_of(NULL), JSON_NULL);
    json_free(v);
}

static void
test_typed_getters(void)
{
    struct json_value *v = parse_ok("[\"s\",1.5,true,null,9007199254740994,-7,"
                                    "9007199254740992]");
    const struct json_value *str = json_array_at(v, 0), *num = json_array_at(v, 1),
                            *bol = json_array_at(v, 2), *nul = json_array_at(v, 3);
    int64_t i = 0;

    CU_ASSERT_EQUAL(json_get_string(NULL, NULL, NULL), AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(json_get_number(NULL, NULL), AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(json_get_int(NULL, NULL), AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(json_get_bool(NULL, NULL), AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(json_get_string(num, NULL, NULL), AMT_ERR_JSON_TYPE);
    CU_ASSERT_EQUAL(json_get_number(str, NULL), AMT_ERR_JSON_TYPE);
    CU_ASSERT_EQUAL(json_get_int(str, NULL), AMT_ERR_JSON_TYPE);
    CU_ASSERT_EQUAL(json_get_bool(nul, NULL), AMT_ERR_JSON_TYPE);
    CU_ASSERT_EQUAL(json_get_string(str, NULL, NULL), 0);
    CU_ASSERT_EQUAL(json_get_number(num, NULL), 0);
    CU_ASSERT_EQUAL(json_get_bool(bol, NULL), 0);
    /* Not integral; beyond 2^53; within. */
    CU_ASSERT_EQUAL(json_get_int(num, &i), AMT_ERR_JSON_TYPE);
    CU_ASSERT_EQUAL(json_get_int(json_array_at(v, 4), &i), AMT_ERR_JSON_TYPE);
    CU_ASSERT_EQUAL(json_get_int(json_array_at(v, 5), &i), 0);
    CU_ASSERT_EQUAL(i, -7);
    CU_ASSERT_EQUAL(json_get_int(json_array_at(v, 6), NULL), 0);
    json_free(v);
}

static void
test_parse_escapes_decode(void)
{
    const char *doc =
        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\\u0000x\\u20AC\"";
    const char expect[] = "\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80\0x\xe2\x82\xac";
    struct json_value *v = parse_ok(doc);
    const char *s = NULL;
    size_t len = 0;

    CU_ASSERT_EQUAL(json_get_string(v, &s, &len), 0);
    CU_ASSERT_EQUAL(len, sizeof(expect) - 1);
    CU_ASSERT_EQUAL(memcmp(s, expect, sizeof(expect) - 1), 0);
    json_free(v);

    /* Raw UTF-8 of every length, the edges of each range. */
    v = parse_ok("\"\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf"
                 "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"");
    json_free(v);
}

static void
test_parse_scalars(void)
{
    static const struct {
        const char *text;
        double value;
    } numbers[] = {
        {"0", 0},
        {"-0", 0},
        {"1", 1},
        {"-12", -12},
        {"0.5", 0.5},
        {"1e3", 1000},
        {"1E+3", 1000},
        {"25e-1", 2.5},
        {"-0.0e0", 0},
        {"1e-400", 0},
        {"123456789012345678901234567890", 1.2345678901234568e29},
    };

    for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        struct json_value *v = parse_ok(numbers[i].text);
        double d = -1;

        CU_ASSERT_EQUAL(json_get_number(v, &d), 0);
        CU_ASSERT_DOUBLE_EQUAL(d, numbers[i].value, fabs(numbers[i].value) * 1e-15);
        json_free(v);
    }
    json_free(parse_ok("true"));
    json_free(parse_ok("null"));
    json_free(parse_ok("\"\""));
    json_free(parse_ok("[]"));
    json_free(parse_ok("{}"));
    json_free(parse_ok(" [ 1 , { } , [ ] ] "));
}

/* Only the first len bytes are read: no NUL terminator needed. */
static void
test_parse_respects_length(void)
{
    struct json_value *v = NULL;
    double d = 0;

    CU_ASSERT_EQUAL(json_parse("123", 2, NULL, &v, NULL), 0);
    CU_ASSERT_EQUAL(json_get_number(v, &d), 0);
    CU_ASSERT_EQUAL(d, 12);
    json_free(v);
    CU_ASSERT_EQUAL(json_parse("truex", 4, NULL, &v, NULL), 0);
    json_free(v);
    CU_ASSERT_EQUAL(json_parse("\"ab\"", 3, NULL, &v, NULL), AMT_ERR_JSON_SYNTAX);
    CU_ASSERT_PTR_NULL(v);
}

static const struct {
    const char *text;
    size_t len; /* 0: strlen */
    int code;
    size_t offset;
} refusals[] = {
    {"", 0, AMT_ERR_JSON_SYNTAX, 0},
    {"   ", 0, AMT_ERR_JSON_SYNTAX, 3},
    {"{", 0, AMT_ERR_JSON_SYNTAX, 1},
    {"[", 0, AMT_ERR_JSON_SYNTAX, 1},
    {"[1,]", 0, AMT_ERR_JSON_SYNTAX, 3},
    {"[1 2]", 0, AMT_ERR_JSON_SYNTAX, 3},
    {"[1}", 0, AMT_ERR_JSON_SYNTAX, 2},
    {"{\"a\":1]", 0, AMT_ERR_JSON_SYNTAX, 6},
    {"{\"a\" 1}", 0, AMT_ERR_JSON_SYNTAX, 5},
    {"{\"a\"", 0, AMT_ERR_JSON_SYNTAX, 4},
    {"{1:2}", 0, AMT_ERR_JSON_SYNTAX, 1},
    {"{\"a\":1,}", 0, AMT_ERR_JSON_SYNTAX, 7},
    {"{'a':1}", 0, AMT_ERR_JSON_SYNTAX, 1},
    {"{\"a\":}", 0, AMT_ERR_JSON_SYNTAX, 5},
    {"01", 0, AMT_ERR_JSON_SYNTAX, 1},
    {"-01", 0, AMT_ERR_JSON_SYNTAX, 2},
    {"-", 0, AMT_ERR_JSON_SYNTAX, 1},
    {"-a", 0, AMT_ERR_JSON_SYNTAX, 1},
    {"1.", 0, AMT_ERR_JSON_SYNTAX, 2},
    {"1.e3", 0, AMT_ERR_JSON_SYNTAX, 2},
    {"1e", 0, AMT_ERR_JSON_SYNTAX, 2},
    {"1e+", 0, AMT_ERR_JSON_SYNTAX, 3},
    {"+1", 0, AMT_ERR_JSON_SYNTAX, 0},
    {".5", 0, AMT_ERR_JSON_SYNTAX, 0},
    {"0x10", 0, AMT_ERR_JSON_SYNTAX, 1},
    {"NaN", 0, AMT_ERR_JSON_SYNTAX, 0},
    {"Infinity", 0, AMT_ERR_JSON_SYNTAX, 0},
    {"-Infinity", 0, AMT_ERR_JSON_SYNTAX, 1},
    {"tru", 0, AMT_ERR_JSON_SYNTAX, 0},
    {"nul", 0, AMT_ERR_JSON_SYNTAX, 0},
    {"fals", 0, AMT_ERR_JSON_SYNTAX, 0},
    {"True", 0, AMT_ERR_JSON_SYNTAX, 0},
    {"1 2", 0, AMT_ERR_JSON_SYNTAX, 2},
    {"{}x", 0, AMT_ERR_JSON_SYNTAX, 2},
    {"{}{}", 0, AMT_ERR_JSON_SYNTAX, 2},
    {"\f1", 0, AMT_ERR_JSON_SYNTAX, 0},
    {"\x00", 1, AMT_ERR_JSON_SYNTAX, 0},
    {"[1]\x00", 4, AMT_ERR_JSON_SYNTAX, 3},
    {"\xef\xbb\xbf{}", 0, AMT_ERR_JSON_SYNTAX, 0},
    {"\"abc", 0, AMT_ERR_JSON_SYNTAX, 4},
    {"\"abc\\\"", 0, AMT_ERR_JSON_SYNTAX, 6},
    {"\"a\\x\"", 0, AMT_ERR_JSON_SYNTAX, 2},
    {"\"a\\U0041\"", 0, AMT_ERR_JSON_SYNTAX, 2},
    {"\"\\u12G4\"", 0, AMT_ERR_JSON_SYNTAX, 1},
    {"\"\\u12\"", 0, AMT_ERR_JSON_SYNTAX, 1},
    {"\"a\tb\"", 0, AMT_ERR_JSON_SYNTAX, 2},
    {"\"a\nb\"", 0, AMT_ERR_JSON_SYNTAX, 2},
    {"\"\x1f\"", 0, AMT_ERR_JSON_SYNTAX, 1},
    {"\"\\ud800\"", 0, AMT_ERR_JSON_UTF8, 1},
    {"\"\\ud800x\"", 0, AMT_ERR_JSON_UTF8, 1},
    {"\"\\udbff\\u0041\"", 0, AMT_ERR_JSON_UTF8, 1},
    {"\"\\ud800\\ud800\"", 0, AMT_ERR_JSON_UTF8, 1},
    {"\"\\ud800\\n.....\"", 0, AMT_ERR_JSON_UTF8, 1},
    {"\"\\ud800\\uZZZZ\"", 0, AMT_ERR_JSON_UTF8, 1},
    {"\"\\udc00\"", 0, AMT_ERR_JSON_UTF8, 1},
    {"\"\\udfff\\udc00\"", 0, AMT_ERR_JSON_UTF8, 1},
    {"\"\x80\"", 0, AMT_ERR_JSON_UTF8, 1},
    {"\"\xc0\x80\"", 0, AMT_ERR_JSON_UTF8, 1},
    {"\"a\xed\xa0\x80\"", 0, AMT_ERR_JSON_UTF8, 2},
    {"\"\xf4\x90\x80\x80\"", 0, AMT_ERR_JSON_UTF8, 1},
    {"\"\xe2\x82\"", 0, AMT_ERR_JSON_UTF8, 1},
    {"\"\xff\"", 0, AMT_ERR_JSON_UTF8, 1},
    {"{\"\xfe\":1}", 0, AMT_ERR_JSON_UTF8, 2},
    {"{\"a\":1,\"b\":2,\"a\":3}", 0, AMT_ERR_JSON_DUPLICATE_KEY, 13},
    {"{\"a\":1,\"a\":2,\"a\":3}", 0, AMT_ERR_JSON_DUPLICATE_KEY, 7},
    {"{\"b\":1,\"a\":2,\"b\":3,\"a\":4}", 0, AMT_ERR_JSON_DUPLICATE_KEY, 13},
    {"{\"a\":{\"x\":1,\"x\":1}}", 0, AMT_ERR_JSON_DUPLICATE_KEY, 12},
    /* The same key once escaped and once not is still the same key. */
    {"{\"a\":1,\"\\u0061\":2}", 0, AMT_ERR_JSON_DUPLICATE_KEY, 7},
    {"1e999", 0, AMT_ERR_JSON_TOO_LARGE, 0},
    {"[-1e400]", 0, AMT_ERR_JSON_TOO_LARGE, 1},
};

static void
test_parse_refusals(void)
{
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        struct json_value *v = (struct json_value *)&v;
        struct json_error e = {99, NULL};
        size_t len = refusals[i].len ? refusals[i].len : strlen(refusals[i].text);
        int r = json_parse(refusals[i].text, len, NULL, &v, &e);

        if (r != refusals[i].code || e.offset != refusals[i].offset)
            fprintf(stderr, "refusal %zu: got %d at %zu (%s), want %d at %zu\n", i, r,
                    e.offset, e.what ? e.what : "-", refusals[i].code,
                    refusals[i].offset);
        CU_ASSERT_EQUAL(r, refusals[i].code);
        CU_ASSERT_EQUAL(e.offset, refusals[i].offset);
        CU_ASSERT_PTR_NOT_NULL(e.what);
        CU_ASSERT_PTR_NULL(v);
    }
}

/* The phrase says what was wrong, not only where. */
static void
test_parse_error_phrases(void)
{
    static const struct {
        const char *text;
        const char *what;
    } cases[] = {
        {"01", "leading zero in number"},
        {"{\"a\" 1}", "expected ':' after key"},
        {"[1 2]", "expected ',' or ']'"},
        {"{\"a\":1 2}", "expected ',' or '}'"},
        {"{\"a\":1,\"a\":2}", "duplicate key"},
        {"\"\\ud800\"", "high surrogate without a low one"},
        {"1 2", "trailing characters after the value"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct json_value *v = NULL;
        struct json_error e = {0, NULL};

        CU_ASSERT_NOT_EQUAL(
            json_parse(cases[i].text, strlen(cases[i].text), NULL, &v, &e), 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(e.what);
        CU_ASSERT_STRING_EQUAL(e.what, cases[i].what);
    }
}

static void
test_parse_bad_arguments(void)
{
    struct json_value *v = NULL;

    CU_ASSERT_EQUAL(json_parse("1", 1, NULL, NULL, NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(json_parse(NULL, 1, NULL, &v, NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(json_parse(NULL, 0, NULL, &v, NULL), AMT_ERR_JSON_SYNTAX);
    json_free(NULL);
}

static char *
nested(size_t depth)
{
    char *s = malloc(2 * depth + 1);

    memset(s, '[', depth);
    memset(s + depth, ']', depth);
    s[2 * depth] = '\0';
    return s;
}

static void
test_parse_depth_cap(void)
{
    struct json_limits lim = {.max_depth = 2};
    struct json_value *v = NULL;
    struct json_error e;
    char *ok = nested(JSON_MAX_DEPTH), *deep = nested(JSON_MAX_DEPTH + 1);

    CU_ASSERT_EQUAL(json_parse(ok, strlen(ok), NULL, &v, &e), 0);
    json_free(v);
    CU_ASSERT_EQUAL(json_parse(deep, strlen(deep), NULL, &v, &e), AMT_ERR_JSON_TOO_DEEP);
    CU_ASSERT_EQUAL(e.offset, JSON_MAX_DEPTH);
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_EQUAL(json_parse("[{}]", 4, &lim, &v, &e), 0);
    json_free(v);
    CU_ASSERT_EQUAL(json_parse("[{\"a\":[]}]", 10, &lim, &v, &e), AMT_ERR_JSON_TOO_DEEP);
    CU_ASSERT_EQUAL(e.offset, 6);
    free(ok);
    free(deep);
}

static void
test_parse_size_cap(void)
{
    struct json_limits lim = {.max_size = 10};
    struct json_value *v = NULL;
    struct json_error e;
    size_t n = JSON_MAX_SIZE + 1;
    char *big = malloc(n);

    CU_ASSERT_EQUAL(json_parse("[1,2,3,44]", 10, &lim, &v, &e), 0);
    json_free(v);
    CU_ASSERT_EQUAL(json_parse("[1,2,3,444]", 11, &lim, &v, &e), AMT_ERR_JSON_TOO_LARGE);
    CU_ASSERT_EQUAL(e.offset, 10);
    /* The default cap, with whitespace that would otherwise be fine. */
    memset(big, ' ', n);
    big[0] = '1';
    CU_ASSERT_EQUAL(json_parse(big, n - 1, NULL, &v, &e), 0);
    json_free(v);
    CU_ASSERT_EQUAL(json_parse(big, n, NULL, &v, &e), AMT_ERR_JSON_TOO_LARGE);
    free(big);
}

static void
test_parse_string_cap(void)
{
    struct json_limits lim = {.max_string = 4};
    struct json_value *v = NULL;
    struct json_error e;

    CU_ASSERT_EQUAL(json_parse("\"abcd\"", 6, &lim, &v, &e), 0);
    json_free(v);
    CU_ASSERT_EQUAL(json_parse("\"abcde\"", 7, &lim, &v, &e), AMT_ERR_JSON_TOO_LARGE);
    CU_ASSERT_EQUAL(e.offset, 1);
    /* The cap is on the decoded bytes: four escapes decode to four bytes. */
    CU_ASSERT_EQUAL(json_parse("\"\\u0041\\u0041\\u0041\\u0041\"", 26, &lim, &v, &e), 0);
    json_free(v);
    /* Keys too. */
    CU_ASSERT_EQUAL(json_parse("{\"abcde\":1}", 11, &lim, &v, &e),
                    AMT_ERR_JSON_TOO_LARGE);
    /* Numbers have their own cap on length. */
    {
        char num[200];

        memset(num, '1', sizeof(num));
        CU_ASSERT_EQUAL(json_parse(num, 128, NULL, &v, &e), 0);
        json_free(v);
        CU_ASSERT_EQUAL(json_parse(num, 129, NULL, &v, &e), AMT_ERR_JSON_TOO_LARGE);
    }
}

static void
test_parse_items_cap(void)
{
    struct json_limits lim = {.max_items = 3};
    struct json_value *v = NULL;
    struct json_error e;

    CU_ASSERT_EQUAL(json_parse("[1,2,3]", 7, &lim, &v, &e), 0);
    json_free(v);
    CU_ASSERT_EQUAL(json_parse("[1,2,3,4]", 9, &lim, &v, &e), AMT_ERR_JSON_TOO_LARGE);
    CU_ASSERT_EQUAL(e.offset, 7);
    CU_ASSERT_EQUAL(json_parse("{\"a\":1,\"b\":2,\"c\":3,\"d\":4}", 25, &lim, &v, &e),
                    AMT_ERR_JSON_TOO_LARGE);
}

/* A large object: no false duplicate among many keys, and one real one at the end. */
static void
test_parse_many_keys(void)
{
    size_t n = JSON_MAX_ITEMS, cap = n * 16 + 32, len = 0;
    char *doc = malloc(cap);
    struct json_value *v = NULL;
    struct json_error e;

    len += (size_t)snprintf(doc + len, cap - len, "{");
    for (size_t i = 0; i < n; i++)
        len +=
            (size_t)snprintf(doc + len, cap - len, "%s\"k%zu\":%zu", i ? "," : "", i, i);
    len += (size_t)snprintf(doc + len, cap - len, "}");
    CU_ASSERT_EQUAL(json_parse(doc, len, NULL, &v, &e), 0);
    CU_ASSERT_EQUAL(json_count(v), n);
    CU_ASSERT_PTR_NOT_NULL(json_object_get(v, "k4095"));
    json_free(v);
    memcpy(doc + len - 1 - strlen("\"k4095\":4095"), "\"k0001\"", 7);
    CU_ASSERT_EQUAL(json_parse(doc, len, NULL, &v, &e), 0);
    json_free(v);
    memcpy(doc + len - 1 - strlen("\"k4095\":4095"), "\"k1000\"", 7);
    CU_ASSERT_EQUAL(json_parse(doc, len, NULL, &v, &e), AMT_ERR_JSON_DUPLICATE_KEY);
    CU_ASSERT_EQUAL(e.offset, len - 1 - strlen("\"k4095\":4095"));
    free(doc);
}

static void
round_trip(const char *text, size_t len)
{
    struct json_value *a = NULL, *b = NULL;
    struct json_writer *w = NULL;
    const char *out;
    size_t out_len;

    CU_ASSERT_EQUAL_FATAL(json_parse(text, len, NULL, &a, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(json_writer_new(&w), 0);
    CU_ASSERT_EQUAL(json_write_value(w, a), 0);
    CU_ASSERT_EQUAL_FATAL(json_writer_result(w, &out, &out_len), 0);
    CU_ASSERT_EQUAL_FATAL(json_parse(out, out_len, NULL, &b, NULL), 0);
    CU_ASSERT_TRUE(json_equal(a, b));
    json_free(a);
    json_free(b);
    json_writer_free(w);
}

static void
test_round_trip(void)
{
    static const char *const docs[] = {
        "{\"a\":[1,2.5,-0.125,1e300,true,false,null,\"x\\n\\u0001\"],\"b\":{}}",
        "{\"k\\u0000ey\":\"v\\u0000al\",\"e\":\"\\ud83d\\ude00\"}",
        "[[[[[]]]],{\"z\":{\"y\":{}}}]",
        "0.1",
        "\"\"",
        "123456789.123456789",
    };

    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
        round_trip(docs[i], strlen(docs[i]));
}

static void
test_equal(void)
{
    static const char *const pairs[][2] = {
        {"1", "\"1\""},
        {"[1,2]", "[1]"},
        {"[1,2]", "[1,3]"},
        {"{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}"},
        {"{\"a\":1}", "{\"a\":2}"},
        {"{\"a\":1}", "{\"a\":1,\"b\":2}"},
        {"\"ab\"", "\"ac\""},
        {"\"a\"", "\"a\\u0000\""},
        {"true", "false"},
    };
    struct json_value *a = NULL, *b = NULL;

    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        a = parse_ok(pairs[i][0]);
        b = parse_ok(pairs[i][1]);
        CU_ASSERT_FALSE(json_equal(a, b));
        CU_ASSERT_TRUE(json_equal(a, a));
        json_free(a);
        json_free(b);
    }
    a = parse_ok("null");
    CU_ASSERT_TRUE(json_equal(a, a));
    CU_ASSERT_FALSE(json_equal(a, NULL));
    CU_ASSERT_TRUE(json_equal(NULL, NULL));
    json_free(a);
}

/* The value writer inside a container puts commas and keys like the calls do. */
static void
test_write_value_nested(void)
{
    struct json_value *v = parse_ok("{\"x\":[1,{\"y\":null}],\"z\":\"w\"}");
    struct json_writer *w = NULL;
    const char *text;

    CU_ASSERT_EQUAL_FATAL(json_writer_new(&w), 0);
    json_write_array_begin(w);
    json_write_value(w, v);
    json_write_value(w, v);
    json_write_array_end(w);
    CU_ASSERT_EQUAL_FATAL(json_writer_result(w, &text, NULL), 0);
    CU_ASSERT_STRING_EQUAL(text, "[{\"x\":[1,{\"y\":null}],\"z\":\"w\"},"
                                 "{\"x\":[1,{\"y\":null}],\"z\":\"w\"}]");
    json_writer_free(w);
    json_free(v);
}

/* Once a call failed, every later call returns that first error and writes nothing. */
static void
test_writer_error_sticks(void)
{
    struct json_writer *w = NULL;
    struct json_value *v = parse_ok("[1]");
    const char *text = "unchanged";

    CU_ASSERT_EQUAL_FATAL(json_writer_new(&w), 0);
    json_write_array_begin(w);
    CU_ASSERT_EQUAL(json_write_double(w, NAN), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(json_write_object_begin(w), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(json_write_object_end(w), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(json_write_array_end(w), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(json_write_key(w, "k"), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(json_write_string(w, "s"), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(json_write_string_len(w, "s", 1), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(json_write_int(w, 1), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(json_write_fixed(w, 1, 1), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(json_write_double(w, 1), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(json_write_bool(w, true), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(json_write_null(w), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(json_write_value(w, v), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(json_writer_result(w, &text, NULL), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(text);
    json_writer_free(w);
    json_free(v);
}

/*
 * A tree parsed under a larger depth cap than the writer's: the error comes out
 * of every level of the value writer.
 */
static void
test_write_value_too_deep(void)
{
    static const char *const docs[] = {
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
        "]",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{\"a\":{\"b\":1}}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
        "]",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1,{\"a\":[]}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{\"a\":1,\"b\":{}}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
        "]",
    };
    struct json_limits lim = {.max_depth = 64};

    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        struct json_value *v = NULL;
        struct json_writer *w = NULL;

        CU_ASSERT_EQUAL_FATAL(json_parse(docs[i], strlen(docs[i]), &lim, &v, NULL), 0);
        CU_ASSERT_EQUAL_FATAL(json_writer_new(&w), 0);
        CU_ASSERT_EQUAL(json_write_value(w, v), AMT_ERR_JSON_TOO_DEEP);
        CU_ASSERT_EQUAL(json_writer_result(w, NULL, NULL), AMT_ERR_JSON_TOO_DEEP);
        json_writer_free(w);
        json_free(v);
    }
}

/* A value too large for the writer, from inside an array inside an object. */
static void
test_write_value_too_large(void)
{
    size_t n = JSON_MAX_SIZE / 2 + 100;
    char *doc = malloc(n);
    struct json_limits lim = {.max_string = n};
    struct json_value *v = NULL;
    struct json_writer *w = NULL;

    /* {"k":["aaa...a"]} */
    memset(doc, 'a', n);
    memcpy(doc, "{\"k\":[\"", 7);
    memcpy(doc + n - 4, "\"]}", 3);
    doc[n - 1] = ' ';
    CU_ASSERT_EQUAL_FATAL(json_parse(doc, n, &lim, &v, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(json_writer_new(&w), 0);
    json_write_array_begin(w);
    CU_ASSERT_EQUAL(json_write_value(w, v), 0);
    CU_ASSERT_EQUAL(json_write_value(w, v), AMT_ERR_JSON_TOO_LARGE);
    json_writer_free(w);
    json_free(v);
    free(doc);
}

static CU_TestInfo writer_tests[] = {
    {"first error sticks", test_writer_error_sticks},
    {"value deeper than the writer allows", test_write_value_too_deep},
    {"value larger than the writer allows", test_write_value_too_large},
    {"all value types", test_writer_types},
    {"string escapes", test_writer_escapes},
    {"numbers", test_writer_numbers},
    {"scalar document", test_writer_scalar_document},
    {"invalid UTF-8 refused", test_writer_refuses_bad_utf8},
    {"misuse and caps", test_writer_misuse},
    {"depth limit reachable", test_writer_depth_limit_reachable},
    {"numbers ignore the locale", test_writer_locale_independent},
    {"value inside containers", test_write_value_nested},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo parser_tests[] = {
    {"document and lookups", test_parse_document},
    {"typed getters", test_typed_getters},
    {"escapes decode", test_parse_escapes_decode},
    {"scalars", test_parse_scalars},
    {"reads only len bytes", test_parse_respects_length},
    {"every refusal with its offset", test_parse_refusals},
    {"error phrases", test_parse_error_phrases},
    {"bad arguments", test_parse_bad_arguments},
    {"depth cap", test_parse_depth_cap},
    {"size cap", test_parse_size_cap},
    {"string and number caps", test_parse_string_cap},
    {"items cap", test_parse_items_cap},
    {"many keys", test_parse_many_keys},
    {"round trip", test_round_trip},
    {"equality", test_equal},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"json writer", NULL, NULL, NULL, NULL, writer_tests},
    {"json parser", NULL, NULL, NULL, NULL, parser_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_json", suites);
}
