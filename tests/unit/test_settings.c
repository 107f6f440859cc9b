/*
 * Settings: defaults, files, overrides, and for every kind of error the exact
 * message with file, line and offending text.
 */
#include "err.h"
#include "settings.h"
#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct conf {
    int devices;
    char *name;
    char *password;
    int port;
    bool tls;
    double scale;
    int state;
    struct settings_list hashes;
};

static const char *const states[] = {"factory", "provisioned", NULL};

static int
check_hex(const char *text, const char **why)
{
    size_t n = strlen(text);

    if (n == 0 || n % 2 != 0 || strspn(text, "0123456789abcdefABCDEF") != n) {
        *why = "an even number of hex digits";
        return AMT_ERR_SETTINGS_VALUE;
    }
    return 0;
}

static int
check_password(const char *text, const char **why)
{
    if (strlen(text) < 8) {
        *why = "at least 8 characters";
        return AMT_ERR_SETTINGS_VALUE;
    }
    return 0;
}

static const struct settings_row table[] = {
    SETTINGS_INT("", "devices", "1", struct conf, devices, 1, 4096),
    SETTINGS_STRING("sp", "name", "sp1", struct conf, name, NULL),
    SETTINGS_SECRET_STRING("sp", "admin-password", NULL, struct conf, password,
                           check_password),
    SETTINGS_INT("sp", "port", "9971", struct conf, port, 1, 65535),
    SETTINGS_BOOL("sp", "tls", "on", struct conf, tls),
    SETTINGS_DOUBLE("sim", "time-scale", "1", struct conf, scale, 0.001, 1000),
    SETTINGS_ENUM("sim", "state", "factory", struct conf, state, states),
    SETTINGS_LIST("sim", "root-hash", struct conf, hashes, check_hex),
    SETTINGS_END,
};

static void
init(struct conf *c)
{
    char err[256] = "";

    memset(c, 0x5a, sizeof(*c));
    if (settings_init(table, c, err, sizeof(err)) != 0) {
        fprintf(stderr, "settings_init: %s\n", err);
        exit(99);
    }
}

static void
test_defaults(void)
{
    struct conf c;

    init(&c);
    CU_ASSERT_EQUAL(c.devices, 1);
    CU_ASSERT_STRING_EQUAL(c.name, "sp1");
    CU_ASSERT_PTR_NULL(c.password);
    CU_ASSERT_EQUAL(c.port, 9971);
    CU_ASSERT_TRUE(c.tls);
    CU_ASSERT_EQUAL(c.scale, 1.0);
    CU_ASSERT_EQUAL(c.state, 0);
    CU_ASSERT_EQUAL(c.hashes.n, 0);
    CU_ASSERT_PTR_NULL(c.hashes.items);
    settings_free_values(table, &c);
    CU_ASSERT_PTR_NULL(c.name);
    settings_free_values(table, NULL);
    settings_free_values(NULL, &c);
}

static void
test_load_file(void)
{
    struct conf c;
    char err[256] = "";

    init(&c);
    CU_ASSERT_EQUAL(settings_load_file(table, &c, AMT_TESTDATA_DIR "/settings/good.ini",
                                       err, sizeof(err)),
                    0);
    CU_ASSERT_STRING_EQUAL(err, "");
    CU_ASSERT_EQUAL(c.devices, 8);
    CU_ASSERT_STRING_EQUAL(c.name, "site server one");
    CU_ASSERT_STRING_EQUAL(c.password, "pa#ss \"word\" \\ x");
    CU_ASSERT_EQUAL(c.port, 16993);
    CU_ASSERT_FALSE(c.tls);
    CU_ASSERT_EQUAL(c.scale, 25.0);
    CU_ASSERT_EQUAL(c.state, 1);
    CU_ASSERT_EQUAL_FATAL(c.hashes.n, 3);
    CU_ASSERT_STRING_EQUAL(c.hashes.items[0], "00ff");
    CU_ASSERT_STRING_EQUAL(c.hashes.items[1], "ABCD");
    CU_ASSERT_STRING_EQUAL(c.hashes.items[2], "12");
    settings_free_values(table, &c);
    CU_ASSERT_PTR_NULL(c.password);
    CU_ASSERT_EQUAL(c.hashes.n, 0);
}

/* Keys a file does not give keep their defaults; CRLF line ends are fine. */
static void
test_partial_file_keeps_defaults(void)
{
    struct conf c;
    char err[256] = "";

    init(&c);
    CU_ASSERT_EQUAL(settings_load_file(table, &c, AMT_TESTDATA_DIR "/settings/crlf.ini",
                                       err, sizeof(err)),
                    0);
    CU_ASSERT_EQUAL(c.port, 443);
    CU_ASSERT_STRING_EQUAL(c.name, "crlf");
    CU_ASSERT_EQUAL(c.devices, 1);
    CU_ASSERT_TRUE(c.tls);
    CU_ASSERT_EQUAL(c.scale, 1.0);
    settings_free_values(table, &c);
}

static void
test_value_forms(void)
{
    static const struct {
        const char *text;
        bool tls;
        int port;
        double scale;
    } forms[] = {
        {"[sp]\ntls = TRUE\nport = 1\n[sim]\ntime-scale = 0.001", true, 1, 0.001},
        {"[sp]\ntls = no\nport = 65535\n[sim]\ntime-scale = 1000", false, 65535, 1000},
        {"[sp]\ntls = On\nport = 0080\n[sim]\ntime-scale = 1e2", true, 80, 100},
        {"[sp]\ntls = 0\nport=\t7\t\n[sim]\ntime-scale = .5", false, 7, 0.5},
        {"[sp]\ntls = yes\n", true, 9971, 1},
        {"[sp]\ntls = 1\n\n\n", true, 9971, 1},
        {"[sp]\ntls = off", false, 9971, 1},
        {"[sp]\ntls = false", false, 9971, 1},
    };

    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        struct conf c;
        char err[256] = "";

        init(&c);
        CU_ASSERT_EQUAL(settings_load_text(table, &c, "t.ini", forms[i].text,
                                           strlen(forms[i].text), err, sizeof(err)),
                        0);
        CU_ASSERT_STRING_EQUAL(err, "");
        CU_ASSERT_EQUAL(c.tls, forms[i].tls);
        CU_ASSERT_EQUAL(c.port, forms[i].port);
        CU_ASSERT_DOUBLE_EQUAL(c.scale, forms[i].scale, 1e-12);
        settings_free_values(table, &c);
    }
}

static void
test_empty_and_quoted_values(void)
{
    static const char text[] = "[sp]\nname =\n[sim]\nroot-hash = \"\\t\"\n";
    static const char text2[] = "[sp]\nname = \"\"\n";
    static const char text3[] = "[sp]\nname = \"a\\nb\\tc\"  \n";
    struct conf c;
    char err[256] = "";

    init(&c);
    CU_ASSERT_EQUAL(
        settings_load_text(table, &c, "t.ini", text2, strlen(text2), err, sizeof(err)),
        0);
    CU_ASSERT_STRING_EQUAL(c.name, "");
    CU_ASSERT_EQUAL(
        settings_load_text(table, &c, "t.ini", text3, strlen(text3), err, sizeof(err)),
        0);
    CU_ASSERT_STRING_EQUAL(c.name, "a\nb\tc");
    /* An empty unquoted value is an empty string too; a list checks each item. */
    CU_ASSERT_EQUAL(
        settings_load_text(table, &c, "t.ini", text, strlen(text), err, sizeof(err)),
        AMT_ERR_SETTINGS_VALUE);
    CU_ASSERT_STRING_EQUAL(c.name, "");
    CU_ASSERT_STRING_EQUAL(err, "t.ini:4: invalid value \"\\x09\" for root-hash "
                                "(an even number of hex digits)");
    settings_free_values(table, &c);
    /* Empty text is an empty file. */
    init(&c);
    CU_ASSERT_EQUAL(settings_load_text(table, &c, "t.ini", NULL, 0, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(settings_load_text(table, &c, NULL, "", 0, NULL, 0), 0);
    settings_free_values(table, &c);
}

static const struct {
    const char *text;
    int code;
    const char *message;
} load_errors[] = {
    /* values */
    {"[sp]\nport = abc\n", AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value \"abc\" for port (integer 1..65535)"},
    {"[sp]\nport = 0", AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value \"0\" for port (integer 1..65535)"},
    {"[sp]\nport = 65536", AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value \"65536\" for port (integer 1..65535)"},
    {"[sp]\nport = 99999999999999999999", AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value \"99999999999999999999\" for port (integer 1..65535)"},
    {"[sp]\nport = +5", AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value \"+5\" for port (integer 1..65535)"},
    {"[sp]\nport = -", AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value \"-\" for port (integer 1..65535)"},
    {"[sp]\nport = 0x10", AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value \"0x10\" for port (integer 1..65535)"},
    {"[sp]\nport = 443 # https", AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value \"443 # https\" for port (integer 1..65535)"},
    {"devices = 5000", AMT_ERR_SETTINGS_VALUE,
     "t.ini:1: invalid value \"5000\" for devices (integer 1..4096)"},
    {"[sp]\ntls = maybe", AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value \"maybe\" for tls (true or false, yes or no, on or off, 1 "
     "or "
     "0)"},
    {"[sim]\ntime-scale = 0", AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value \"0\" for time-scale (number 0.001..1000)"},
    {"[sim]\ntime-scale = 1001", AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value \"1001\" for time-scale (number 0.001..1000)"},
    {"[sim]\ntime-scale = inf", AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value \"inf\" for time-scale (number 0.001..1000)"},
    {"[sim]\ntime-scale = 1e999", AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value \"1e999\" for time-scale (number 0.001..1000)"},
    {"[sim]\ntime-scale = 1..2", AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value \"1..2\" for time-scale (number 0.001..1000)"},
    {"[sim]\ntime-scale =", AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value \"\" for time-scale (number 0.001..1000)"},
    {"[sim]\nstate = broken", AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value \"broken\" for state (one of factory, provisioned)"},
    {"[sim]\nstate = Factory", AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value \"Factory\" for state (one of factory, provisioned)"},
    {"[sim]\nroot-hash = 00\nroot-hash = xyz", AMT_ERR_SETTINGS_VALUE,
     "t.ini:3: invalid value \"xyz\" for root-hash (an even number of hex digits)"},
    /* A secret is never repeated, whatever went wrong. */
    {"[sp]\nadmin-password = short", AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value (hidden) for admin-password (at least 8 characters)"},
    {"[sp]\nadmin-password = \"hunter2hunter2", AMT_ERR_SETTINGS_SYNTAX,
     "t.ini:2: unterminated quoted value for \"admin-password\""},
    /* The offending text stays on one line and within bounds. */
    {"[sp]\nport = a\x01"
     "b",
     AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value \"a\\x01b\" for port (integer 1..65535)"},
    {"[sp]\nport = "
     "0123456789012345678901234567890123456789012345678901234567890123456789",
     AMT_ERR_SETTINGS_VALUE,
     "t.ini:2: invalid value "
     "\"012345678901234567890123456789012345678901234567890123456789\""
     "... for port (integer 1..65535)"},
    /* unknown */
    {"[sp]\nfoo = 1", AMT_ERR_SETTINGS_UNKNOWN,
     "t.ini:2: unknown setting \"foo\" in [sp]"},
    {"foo = 1", AMT_ERR_SETTINGS_UNKNOWN, "t.ini:1: unknown setting \"foo\""},
    {"[sim]\nport = 1", AMT_ERR_SETTINGS_UNKNOWN,
     "t.ini:2: unknown setting \"port\" in [sim]"},
    {"[sp]\nPort = 1", AMT_ERR_SETTINGS_UNKNOWN,
     "t.ini:2: unknown setting \"Port\" in [sp]"},
    {"\n\n[nope]", AMT_ERR_SETTINGS_UNKNOWN, "t.ini:3: unknown section [nope]"},
    /* duplicates */
    {"[sp]\nport = 1\n\nport = 2", AMT_ERR_SETTINGS_DUPLICATE,
     "t.ini:4: setting \"port\" given twice (first on line 2)"},
    {"[sp]\nname = a\n[sim]\n[sp]\nname = b", AMT_ERR_SETTINGS_DUPLICATE,
     "t.ini:5: setting \"name\" given twice (first on line 2)"},
    /* syntax */
    {"[sp]\njust words", AMT_ERR_SETTINGS_SYNTAX,
     "t.ini:2: not a [section], a key = value, or a comment: \"just words\""},
    {"[sp", AMT_ERR_SETTINGS_SYNTAX,
     "t.ini:1: not a [section], a key = value, or a comment: \"[sp\""},
    {"[]", AMT_ERR_SETTINGS_SYNTAX,
     "t.ini:1: not a [section], a key = value, or a comment: \"[]\""},
    {"[s p]", AMT_ERR_SETTINGS_SYNTAX,
     "t.ini:1: not a [section], a key = value, or a comment: \"[s p]\""},
    {"[sp]\nbad key = 1", AMT_ERR_SETTINGS_SYNTAX,
     "t.ini:2: not a [section], a key = value, or a comment: \"bad key = 1\""},
    {"[sp]\n = 1", AMT_ERR_SETTINGS_SYNTAX,
     "t.ini:2: not a [section], a key = value, or a comment: \"= 1\""},
    {"[sp]\nsp.port = 1", AMT_ERR_SETTINGS_SYNTAX,
     "t.ini:2: not a [section], a key = value, or a comment: \"sp.port = 1\""},
    {"[sp]\nname = \"abc", AMT_ERR_SETTINGS_SYNTAX,
     "t.ini:2: unterminated quoted value for \"name\""},
    {"[sp]\nname = \"a\" b", AMT_ERR_SETTINGS_SYNTAX,
     "t.ini:2: text after the quoted value for \"name\""},
    {"[sp]\nname = \"a\\qb\"", AMT_ERR_SETTINGS_SYNTAX,
     "t.ini:2: unknown escape in quoted value for \"name\""},
};

static void
test_load_errors(void)
{
    for (size_t i = 0; i < sizeof(load_errors) / sizeof(load_errors[0]); i++) {
        struct conf c;
        char err[512] = "";
        int r;

        init(&c);
        r = settings_load_text(table, &c, "t.ini", load_errors[i].text,
                               strlen(load_errors[i].text), err, sizeof(err));
        if (r != load_errors[i].code || strcmp(err, load_errors[i].message) != 0)
            fprintf(stderr, "case %zu: got %d \"%s\"\n       want %d \"%s\"\n", i, r, err,
                    load_errors[i].code, load_errors[i].message);
        CU_ASSERT_EQUAL(r, load_errors[i].code);
        CU_ASSERT_STRING_EQUAL(err, load_errors[i].message);
        CU_ASSERT_PTR_NULL(strstr(err, "hunter2"));
        settings_free_values(table, &c);
    }
}

static void
test_limits(void)
{
    struct conf c;
    char err[256] = "", *text;
    size_t n = SETTINGS_FILE_MAX + 1;

    text = malloc(n + 1);
    init(&c);
    /* A line of exactly the limit is fine; one byte more is not. */
    memset(text, '#', n);
    text[0] = '\n';
    text[1 + SETTINGS_LINE_MAX] = '\n';
    CU_ASSERT_EQUAL(settings_load_text(table, &c, "t.ini", text, 2 + SETTINGS_LINE_MAX,
                                       err, sizeof(err)),
                    0);
    text[1 + SETTINGS_LINE_MAX] = '#';
    CU_ASSERT_EQUAL(settings_load_text(table, &c, "t.ini", text, 2 + SETTINGS_LINE_MAX,
                                       err, sizeof(err)),
                    AMT_ERR_SETTINGS_TOO_LARGE);
    CU_ASSERT_STRING_EQUAL(err, "t.ini:2: line longer than 4096 bytes");

    for (size_t i = 0; i < n; i += 64)
        text[i] = '\n';
    CU_ASSERT_EQUAL(settings_load_text(table, &c, "t.ini", text, n - 1, err, sizeof(err)),
                    0);
    CU_ASSERT_EQUAL(settings_load_text(table, &c, "t.ini", text, n, err, sizeof(err)),
                    AMT_ERR_SETTINGS_TOO_LARGE);
    CU_ASSERT_STRING_EQUAL(err, "t.ini: larger than 1048576 bytes");

    CU_ASSERT_EQUAL(
        settings_load_text(table, &c, "t.ini", "[sp]\nna\0me = x", 14, err, sizeof(err)),
        AMT_ERR_SETTINGS_SYNTAX);
    CU_ASSERT_STRING_EQUAL(err, "t.ini:2: NUL byte in line");
    settings_free_values(table, &c);
    free(text);
}

static void
test_file_errors(void)
{
    const char *dir = getenv("TMPDIR");
    char path[4096], err[512], expect[4200];
    struct conf c;
    int fd;

    init(&c);
    CU_ASSERT_EQUAL(
        settings_load_file(table, &c, "/nonexistent/site.ini", err, sizeof(err)),
        AMT_ERR_SETTINGS_OPEN);
    CU_ASSERT_STRING_EQUAL(
        err, "/nonexistent/site.ini: cannot open: No such file or directory");
    CU_ASSERT_EQUAL(settings_load_file(table, &c, AMT_TESTDATA_DIR, err, sizeof(err)),
                    AMT_ERR_SETTINGS_OPEN);
    CU_ASSERT_STRING_EQUAL(err, AMT_TESTDATA_DIR ": cannot read: Is a directory");

    /* A real file one byte over the cap, and a line error with the file's name. */
    snprintf(path, sizeof(path), "%s/test_settings.XXXXXX",
             dir != NULL && *dir != '\0' ? dir : "/tmp");
    CU_ASSERT_FATAL((fd = mkstemp(path)) >= 0);
    CU_ASSERT_EQUAL(ftruncate(fd, SETTINGS_FILE_MAX + 1), 0);
    CU_ASSERT_EQUAL(settings_load_file(table, &c, path, err, sizeof(err)),
                    AMT_ERR_SETTINGS_TOO_LARGE);
    snprintf(expect, sizeof(expect), "%s: larger than 1048576 bytes", path);
    CU_ASSERT_STRING_EQUAL(err, expect);
    CU_ASSERT_EQUAL(ftruncate(fd, 0), 0);
    CU_ASSERT_EQUAL(pwrite(fd, "[sp]\nport = 1\n# fine\nport = 2\n", 30, 0), 30);
    CU_ASSERT_EQUAL(settings_load_file(table, &c, path, err, sizeof(err)),
                    AMT_ERR_SETTINGS_DUPLICATE);
    snprintf(expect, sizeof(expect),
             "%s:4: setting \"port\" given twice (first on line 2)", path);
    CU_ASSERT_STRING_EQUAL(err, expect);
    close(fd);
    unlink(path);
    CU_ASSERT_EQUAL(settings_load_file(table, &c, NULL, err, sizeof(err)),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(settings_load_text(NULL, &c, "t", "", 0, err, sizeof(err)),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(settings_load_text(table, &c, "t", NULL, 1, err, sizeof(err)),
                    AMT_ERR_INVALID_ARGUMENT);
    settings_free_values(table, &c);
}

/* Options override the file through the same rows. */
static void
test_overrides(void)
{
    static const char text[] =
        "[sp]\nport = 1000\nname = from-file\n[sim]\nroot-hash = 00\n";
    struct conf c;
    char err[512] = "";

    init(&c);
    CU_ASSERT_EQUAL(
        settings_load_text(table, &c, "t.ini", text, strlen(text), err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(settings_set(table, &c, "sp.port", "443", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(c.port, 443);
    CU_ASSERT_EQUAL(settings_set(table, &c, "sp.port", "444", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(c.port, 444);
    CU_ASSERT_EQUAL(settings_set(table, &c, "sp.name", "from-option", err, sizeof(err)),
                    0);
    CU_ASSERT_STRING_EQUAL(c.name, "from-option");
    CU_ASSERT_EQUAL(settings_set(table, &c, "devices", "5", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(c.devices, 5);
    CU_ASSERT_EQUAL(settings_set(table, &c, "sim.root-hash", "aa", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(c.hashes.n, 2);
    CU_ASSERT_STRING_EQUAL(c.hashes.items[1], "aa");
    CU_ASSERT_EQUAL(settings_set(table, &c, "sim.state", "provisioned", err, sizeof(err)),
                    0);
    CU_ASSERT_EQUAL(c.state, 1);
    CU_ASSERT_EQUAL(
        settings_set(table, &c, "sp.admin-password", "long enough", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(
        settings_set(table, &c, "sp.admin-password", "replaced too", err, sizeof(err)),
        0);
    CU_ASSERT_STRING_EQUAL(c.password, "replaced too");

    CU_ASSERT_EQUAL(settings_set(table, &c, "sp.port", "x", err, sizeof(err)),
                    AMT_ERR_SETTINGS_VALUE);
    CU_ASSERT_STRING_EQUAL(err, "invalid value \"x\" for sp.port (integer 1..65535)");
    CU_ASSERT_EQUAL(c.port, 444);
    CU_ASSERT_EQUAL(
        settings_set(table, &c, "sp.admin-password", "hunter2", err, sizeof(err)),
        AMT_ERR_SETTINGS_VALUE);
    CU_ASSERT_STRING_EQUAL(
        err, "invalid value (hidden) for sp.admin-password (at least 8 characters)");
    CU_ASSERT_EQUAL(settings_set(table, &c, "sp.nope", "1", err, sizeof(err)),
                    AMT_ERR_SETTINGS_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(err, "unknown setting \"sp.nope\"");
    CU_ASSERT_EQUAL(settings_set(table, &c, "port", "1", err, sizeof(err)),
                    AMT_ERR_SETTINGS_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(err, "unknown setting \"port\"");
    CU_ASSERT_EQUAL(settings_set(table, &c, "sp.port", NULL, err, sizeof(err)),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(settings_set(table, &c, "sp.port", "1", NULL, 0), 0);
    CU_ASSERT_EQUAL(settings_set(table, &c, "sp.port", "x", NULL, 0),
                    AMT_ERR_SETTINGS_VALUE);
    {
        char key[SETTINGS_LINE_MAX + 8];

        memset(key, 's', sizeof(key) - 1);
        key[sizeof(key) - 1] = '\0';
        key[sizeof(key) - 3] = '.';
        CU_ASSERT_PTR_NULL(settings_find(table, key));
    }

    CU_ASSERT_PTR_EQUAL(settings_find(table, "sp.port"), &table[3]);
    CU_ASSERT_PTR_EQUAL(settings_find(table, "devices"), &table[0]);
    CU_ASSERT_PTR_NULL(settings_find(table, "sp"));
    CU_ASSERT_PTR_NULL(settings_find(table, NULL));
    settings_free_values(table, &c);
}

/* A broken table is the program's bug, said plainly at start-up. */
static void
test_bad_tables(void)
{
    static const char *const no_names[] = {NULL};
    static const struct settings_row bad_default[] = {
        SETTINGS_INT("sp", "port", "http", struct conf, port, 1, 65535),
        SETTINGS_STRING("sp", "name", "x", struct conf, name, NULL),
        SETTINGS_END,
    };
    static const struct settings_row bad_secret_default[] = {
        SETTINGS_STRING("sp", "name", "x", struct conf, name, NULL),
        SETTINGS_SECRET_STRING("sp", "admin-password", "short", struct conf, password,
                               check_password),
        SETTINGS_END,
    };
    static const struct settings_row twice[] = {
        SETTINGS_INT("sp", "port", "1", struct conf, port, 1, 2),
        SETTINGS_INT("sp", "port", "1", struct conf, devices, 1, 2),
        SETTINGS_END,
    };
    static const struct settings_row reversed[] = {
        SETTINGS_INT("sp", "port", NULL, struct conf, port, 2, 1),
        SETTINGS_END,
    };
    static const struct settings_row reversed_double[] = {
        SETTINGS_DOUBLE("sp", "scale", NULL, struct conf, scale, 2, 1),
        SETTINGS_END,
    };
    static const struct settings_row empty_enum[] = {
        SETTINGS_ENUM("sp", "state", NULL, struct conf, state, no_names),
        SETTINGS_END,
    };
    static const struct settings_row list_default[] = {
        {.section = "sp", .name = "hash", .type = SETTINGS_TYPE_LIST, .def = "00"},
        SETTINGS_END,
    };
    static const struct settings_row bad_name[] = {
        SETTINGS_INT("sp", "po rt", NULL, struct conf, port, 1, 2),
        SETTINGS_END,
    };
    static const struct settings_row bad_section[] = {
        SETTINGS_INT("s]p", "port", NULL, struct conf, port, 1, 2),
        SETTINGS_END,
    };
    static const struct settings_row bad_type[] = {
        {.section = "sp", .name = "port", .type = (enum settings_type)0},
        SETTINGS_END,
    };
    static const struct {
        const struct settings_row *table;
        int code;
        const char *message;
    } cases[] = {
        {bad_default, AMT_ERR_SETTINGS_VALUE,
         "default of [sp] port: invalid value \"http\" for port (integer 1..65535)"},
        {bad_secret_default, AMT_ERR_SETTINGS_VALUE,
         "default of [sp] admin-password: invalid value (hidden) for admin-password (at "
         "least 8 characters)"},
        {twice, AMT_ERR_INVALID_ARGUMENT, "settings table: sp.port: given twice"},
        {reversed, AMT_ERR_INVALID_ARGUMENT, "settings table: sp.port: min above max"},
        {reversed_double, AMT_ERR_INVALID_ARGUMENT,
         "settings table: sp.scale: min above max"},
        {empty_enum, AMT_ERR_INVALID_ARGUMENT,
         "settings table: sp.state: enum without names"},
        {list_default, AMT_ERR_INVALID_ARGUMENT,
         "settings table: sp.hash: a list has no default"},
        {bad_name, AMT_ERR_INVALID_ARGUMENT, "settings table: sp.po rt: bad name"},
        {bad_section, AMT_ERR_INVALID_ARGUMENT, "settings table: s]p.port: bad section"},
        {bad_type, AMT_ERR_INVALID_ARGUMENT, "settings table: sp.port: unknown type"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct conf c;
        char err[512] = "";
        int r;

        memset(&c, 0, sizeof(c));
        r = settings_init(cases[i].table, &c, err, sizeof(err));
        if (r != cases[i].code || strcmp(err, cases[i].message) != 0)
            fprintf(stderr, "table %zu: got %d \"%s\"\n", i, r, err);
        CU_ASSERT_EQUAL(r, cases[i].code);
        CU_ASSERT_STRING_EQUAL(err, cases[i].message);
        /* What the failed init allocated is already freed. */
        CU_ASSERT_PTR_NULL(c.name);
    }
    CU_ASSERT_EQUAL(settings_init(NULL, NULL, NULL, 0), AMT_ERR_INVALID_ARGUMENT);
}

static CU_TestInfo settings_tests[] = {
    {"defaults", test_defaults},
    {"load a file", test_load_file},
    {"partial file keeps defaults", test_partial_file_keeps_defaults},
    {"value forms", test_value_forms},
    {"empty and quoted values", test_empty_and_quoted_values},
    {"every load error names file, line and text", test_load_errors},
    {"line and file limits", test_limits},
    {"file errors", test_file_errors},
    {"command-line overrides", test_overrides},
    {"bad tables", test_bad_tables},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"settings", NULL, NULL, NULL, NULL, settings_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_settings", suites);
}
