/*
 * Table-driven settings: one row per setting says its section, name, type, default
 * and where it lives in the caller's struct; the same table reads an INI file and
 * command-line overrides, and frees what they allocated.
 *
 *   # comment            ; comment too (only as the first thing on a line)
 *   devices = 4          keys before any [section] belong to section ""
 *   [sp]
 *   port = 9971
 *   banner = "quoted: # kept, \"escapes\" \\ \n \t"
 *   root-hash = sha256:...   (a list: each line adds one item)
 *
 * Names and sections are case-sensitive. Whitespace around keys and values is
 * trimmed; an unquoted value runs to the end of its line, so "a#b" keeps its '#'
 * and "443 # https" is not a number. A quoted value must close on its line and be
 * the last thing on it.
 *
 * Refused, with "file:line: what" and the offending text in the error buffer: a
 * line that is none of the above, an unknown section or key, a non-list key given
 * twice in one file, a value its row does not accept, a line longer than
 * SETTINGS_LINE_MAX, a file larger than SETTINGS_FILE_MAX. The value of a secret
 * row is never repeated in a message.
 *
 * Typical use: settings_init (defaults), settings_load_file for --config, then
 * settings_set for each command-line option so that options win; at the end
 * settings_free_values.
 */
#ifndef AMT_SETTINGS_H
#define AMT_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#define SETTINGS_LINE_MAX 4096
#define SETTINGS_FILE_MAX (1024u * 1024)

/* The C type each kind of setting fills in the caller's struct. */
enum settings_type {
    SETTINGS_TYPE_STRING = 1, /* char *, malloc'd; NULL without a default */
    SETTINGS_TYPE_INT,        /* int, within [min, max] */
    SETTINGS_TYPE_BOOL,       /* bool: true/false, yes/no, on/off, 1/0 */
    SETTINGS_TYPE_DOUBLE,     /* double, finite, within [dmin, dmax] */
    SETTINGS_TYPE_ENUM,       /* int: the index of the value in names */
    SETTINGS_TYPE_LIST,       /* struct settings_list: a repeatable key; no default */
};

/* Strings of this row are wiped when replaced or freed, and never shown. */
#define SETTINGS_SECRET 0x1u

struct settings_list {
    char **items;
    size_t n;
};

/*
 * An extra check on a value's text after its type accepted it: 0 to accept, or a
 * negative code with *why set to a short static description of what is wanted
 * ("a UUID"), which the error message shows in parentheses.
 */
typedef int (*settings_check_fn)(const char *text, const char **why);

struct settings_row {
    const char *section;
    const char *name; /* NULL ends the table */
    enum settings_type type;
    const char *def; /* the default as written in a file; NULL for none */
    size_t offset;   /* of the field in the caller's struct */
    long long min, max;
    double dmin, dmax;
    const char *const *names; /* SETTINGS_TYPE_ENUM: NULL-terminated */
    settings_check_fn check;  /* may be NULL */
    unsigned flags;
};

/* The offset of field, refused at compile time unless the field has type ctype. */
#define SETTINGS_FIELD_(stype, field, ctype)                                             \
    _Generic(&((stype *)0)->field, ctype * : offsetof(stype, field))

/* Rows, e.g. SETTINGS_INT("sp", "port", "9971", struct sp_conf, port, 1, 65535). */
#define SETTINGS_STRING(sec, nm, dflt, stype, field, chk)                                \
    {                                                                                    \
        .section = (sec), .name = (nm), .type = SETTINGS_TYPE_STRING, .def = (dflt),     \
        .offset = SETTINGS_FIELD_(stype, field, char *), .check = (chk)                  \
    }
#define SETTINGS_SECRET_STRING(sec, nm, dflt, stype, field, chk)                         \
    {                                                                                    \
        .section = (sec), .name = (nm), .type = SETTINGS_TYPE_STRING, .def = (dflt),     \
        .offset = SETTINGS_FIELD_(stype, field, char *), .check = (chk),                 \
        .flags = SETTINGS_SECRET                                                         \
    }
#define SETTINGS_INT(sec, nm, dflt, stype, field, lo, hi)                                \
    {                                                                                    \
        .section = (sec), .name = (nm), .type = SETTINGS_TYPE_INT, .def = (dflt),        \
        .offset = SETTINGS_FIELD_(stype, field, int), .min = (lo), .max = (hi)           \
    }
#define SETTINGS_BOOL(sec, nm, dflt, stype, field)                                       \
    {                                                                                    \
        .section = (sec), .name = (nm), .type = SETTINGS_TYPE_BOOL, .def = (dflt),       \
        .offset = SETTINGS_FIELD_(stype, field, bool)                                    \
    }
#define SETTINGS_DOUBLE(sec, nm, dflt, stype, field, lo, hi)                             \
    {                                                                                    \
        .section = (sec), .name = (nm), .type = SETTINGS_TYPE_DOUBLE, .def = (dflt),     \
        .offset = SETTINGS_FIELD_(stype, field, double), .dmin = (lo), .dmax = (hi)      \
    }
#define SETTINGS_ENUM(sec, nm, dflt, stype, field, list)                                 \
    {                                                                                    \
        .section = (sec), .name = (nm), .type = SETTINGS_TYPE_ENUM, .def = (dflt),       \
        .offset = SETTINGS_FIELD_(stype, field, int), .names = (list)                    \
    }
#define SETTINGS_LIST(sec, nm, stype, field, chk)                                        \
    {                                                                                    \
        .section = (sec), .name = (nm), .type = SETTINGS_TYPE_LIST,                      \
        .offset = SETTINGS_FIELD_(stype, field, struct settings_list), .check = (chk)    \
    }
#define SETTINGS_END                                                                     \
    {                                                                                    \
        .name = NULL                                                                     \
    }

/*
 * Fills every field of a fresh struct with its default (zero, NULL or an empty
 * list where the row has none). A bad table or default is the program's bug:
 * AMT_ERR_INVALID_ARGUMENT or AMT_ERR_SETTINGS_VALUE, with a message.
 */
int settings_init(const struct settings_row *table, void *obj, char *err, size_t errlen);

/*
 * Reads an INI file over the current values; keys the file does not give keep
 * theirs. Returns 0, AMT_ERR_SETTINGS_OPEN (errno), AMT_ERR_SETTINGS_TOO_LARGE,
 * AMT_ERR_SETTINGS_SYNTAX, AMT_ERR_SETTINGS_UNKNOWN, AMT_ERR_SETTINGS_DUPLICATE or
 * AMT_ERR_SETTINGS_VALUE. Values read before an error stay set (and are freed by
 * settings_free_values).
 */
int settings_load_file(const struct settings_row *table, void *obj, const char *path,
                       char *err, size_t errlen);
/* The same for text already in memory; name stands for the file in messages. */
int settings_load_text(const struct settings_row *table, void *obj, const char *name,
                       const char *text, size_t len, char *err, size_t errlen);

/*
 * Sets "section.name" (or "name" for section "") as a command-line option would:
 * a list gains an item, anything else is replaced.
 */
int settings_set(const struct settings_row *table, void *obj, const char *key,
                 const char *value, char *err, size_t errlen);

/* The row of "section.name", or NULL. */
const struct settings_row *settings_find(const struct settings_row *table,
                                         const char *key);

/* Frees strings and lists (wiping secret ones) and leaves them NULL and empty. */
void settings_free_values(const struct settings_row *table, void *obj);

#endif
