#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "err.h"
#include "evlog.h"
#include "json.h"

/*
 * Migrations, one per schema version: entry i takes a file from version i to i + 1.
 * A released entry is never edited; a change of schema is a new entry, so that
 * every file in the field reaches the current schema by the same steps.
 *
 * Names are stored in lower case (the callers canonicalise them) and compared
 * ignoring case as well, since DNS and directories do. Host names are unique across
 * the site: a device's short-name SPNs (HTTP/pc1:16992) are unique in the forest.
 */
static const char *const migrations[] = {
    "CREATE TABLE schema_version (version INTEGER NOT NULL) STRICT;"
    "INSERT INTO schema_version (version) VALUES (0);"

    "CREATE TABLE devices ("
    " uuid TEXT PRIMARY KEY NOT NULL CHECK (length(uuid) = 36),"
    " host TEXT NOT NULL COLLATE NOCASE UNIQUE CHECK (length(host) BETWEEN 1 AND 63),"
    " domain TEXT NOT NULL COLLATE NOCASE CHECK (length(domain) BETWEEN 1 AND 253),"
    " ou TEXT CHECK (ou IS NULL OR length(ou) BETWEEN 1 AND 512),"
    " inband INTEGER NOT NULL DEFAULT 0 CHECK (inband IN (0, 1)),"
    " amt_version TEXT,"
    " state TEXT NOT NULL DEFAULT 'imported'"
    "  CHECK (state IN ('imported', 'in-progress', 'provisioned', 'failed')),"
    " last_step TEXT,"
    " last_error TEXT,"
    " created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL) STRICT;"

    /* A pending value is written before the device is asked to take it. */
    "CREATE TABLE credentials ("
    " uuid TEXT NOT NULL REFERENCES devices (uuid) ON DELETE CASCADE,"
    " kind TEXT NOT NULL CHECK (kind IN ('admin', 'mebx')),"
    " user_name TEXT,"
    " password TEXT,"
    " confirmed INTEGER,"
    " pending_user TEXT,"
    " pending_password TEXT,"
    " pending_since INTEGER,"
    " PRIMARY KEY (uuid, kind),"
    " CHECK ((pending_password IS NULL) = (pending_since IS NULL))) STRICT;"

    "CREATE TABLE otp_hashes ("
    " uuid TEXT PRIMARY KEY NOT NULL REFERENCES devices (uuid) ON DELETE CASCADE,"
    " sha256 TEXT NOT NULL CHECK (length(sha256) = 64),"
    " created INTEGER NOT NULL) STRICT;"

    "CREATE TABLE certificates ("
    " uuid TEXT NOT NULL REFERENCES devices (uuid) ON DELETE CASCADE,"
    " serial TEXT NOT NULL,"
    " issuer TEXT NOT NULL,"
    " subject TEXT NOT NULL,"
    " not_after INTEGER NOT NULL,"
    " pem TEXT NOT NULL,"
    " created INTEGER NOT NULL,"
    " PRIMARY KEY (issuer, serial)) STRICT;"
    "CREATE INDEX certificates_by_uuid ON certificates (uuid);"

    /* The embedded directory: an SPN, like a DN, names one object in the forest. */
    "CREATE TABLE dir_containers ("
    " dn TEXT PRIMARY KEY NOT NULL COLLATE NOCASE,"
    " created INTEGER NOT NULL) STRICT;"
    "CREATE TABLE dir_accounts ("
    " dn TEXT PRIMARY KEY NOT NULL COLLATE NOCASE,"
    " name TEXT NOT NULL COLLATE NOCASE,"
    " domain TEXT NOT NULL COLLATE NOCASE,"
    " container TEXT NOT NULL REFERENCES dir_containers (dn),"
    " uuid TEXT UNIQUE,"
    " created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL,"
    " UNIQUE (name, domain)) STRICT;"
    "CREATE TABLE dir_spns ("
    " spn TEXT PRIMARY KEY NOT NULL COLLATE NOCASE,"
    " account TEXT NOT NULL REFERENCES dir_accounts (dn)"
    "  ON DELETE CASCADE ON UPDATE CASCADE) STRICT;"
    "CREATE INDEX dir_spns_by_account ON dir_spns (account);",
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == SITE_DB_SCHEMA_VERSION,
               "one migration per schema version");

enum stmt {
    ST_SCHEMA_VERSION,
    ST_DEVICE_GET,
    ST_DEVICE_BY_HOST,
    ST_DEVICE_LIST,
    ST_DEVICE_EXISTS,
    ST_DEVICE_INSERT,
    ST_DEVICE_RENAME,
    ST_DEVICE_DELETE,
    ST_DOMAIN_LIST,
    ST_SET_STATE,
    ST_SET_VERSION,
    ST_SET_INBAND,
    ST_CRED_GET,
    ST_CRED_HAS_PENDING,
    ST_CRED_PENDING,
    ST_CRED_CONFIRM,
    ST_CRED_DISCARD,
    ST_PENDING_LIST,
    ST_OTP_SET,
    ST_OTP_GET,
    ST_OTP_CLEAR,
    ST_CERT_INSERT,
    ST_CERT_LIST,
    ST_DIR_CONTAINER_ADD,
    ST_DIR_CONTAINER_GET,
    ST_DIR_ACCOUNT_BY_UUID,
    ST_DIR_ACCOUNT_BY_NAME,
    ST_DIR_ACCOUNT_EXISTS,
    ST_DIR_ACCOUNT_INSERT,
    ST_DIR_ACCOUNT_UPDATE,
    ST_DIR_ACCOUNT_DELETE,
    ST_DIR_SPNS_OF,
    ST_DIR_SPN_OWNER,
    ST_DIR_SPNS_CLEAR,
    ST_DIR_SPN_INSERT,
    ST_COUNT,
};

#define DEVICE_COLUMNS                                                                   \
    "SELECT uuid, host, domain, ou, inband, amt_version, state, last_step, last_error, " \
    "created, updated FROM devices "
#define ACCOUNT_COLUMNS "SELECT dn, name, domain, container, uuid FROM dir_accounts "

/* Every statement the module runs: values are always bound, never spliced in. */
static const char *const stmt_sql[ST_COUNT] = {
    [ST_SCHEMA_VERSION] = "SELECT version FROM schema_version",
    [ST_DEVICE_GET] = DEVICE_COLUMNS "WHERE uuid = ?1",
    [ST_DEVICE_BY_HOST] = DEVICE_COLUMNS "WHERE host = ?1",
    [ST_DEVICE_LIST] = DEVICE_COLUMNS "ORDER BY uuid",
    [ST_DEVICE_EXISTS] = "SELECT 1 FROM devices WHERE uuid = ?1",
    [ST_DEVICE_INSERT] = "INSERT INTO devices (uuid, host, domain, ou, inband, created, "
                         "updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    [ST_DEVICE_RENAME] =
        "UPDATE devices SET host = ?2, domain = ?3, ou = ?4, inband = ?5, "
        "updated = ?6 WHERE uuid = ?1",
    [ST_DEVICE_DELETE] = "DELETE FROM devices WHERE uuid = ?1",
    [ST_DOMAIN_LIST] = "SELECT DISTINCT domain FROM devices ORDER BY domain",
    [ST_SET_STATE] = "UPDATE devices SET state = ?2, last_step = ?3, last_error = ?4, "
                     "updated = ?5 WHERE uuid = ?1",
    [ST_SET_VERSION] =
        "UPDATE devices SET amt_version = ?2, updated = ?3 WHERE uuid = ?1",
    [ST_SET_INBAND] = "UPDATE devices SET inband = 1, updated = ?2 WHERE uuid = ?1",
    [ST_CRED_GET] = "SELECT user_name, password, confirmed, pending_user, "
                    "pending_password, pending_since FROM credentials "
                    "WHERE uuid = ?1 AND kind = ?2",
    [ST_CRED_HAS_PENDING] = "SELECT pending_password IS NOT NULL FROM credentials "
                            "WHERE uuid = ?1 AND kind = ?2",
    [ST_CRED_PENDING] =
        "INSERT INTO credentials (uuid, kind, pending_user, pending_password, "
        "pending_since) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (uuid, kind) DO UPDATE "
        "SET pending_user = excluded.pending_user, pending_password = "
        "excluded.pending_password, pending_since = excluded.pending_since",
    [ST_CRED_CONFIRM] = "UPDATE credentials SET user_name = pending_user, password = "
                        "pending_password, confirmed = ?3, pending_user = NULL, "
                        "pending_password = NULL, pending_since = NULL WHERE uuid = ?1 "
                        "AND kind = ?2 AND pending_password IS NOT NULL",
    [ST_CRED_DISCARD] = "UPDATE credentials SET pending_user = NULL, pending_password = "
                        "NULL, pending_since = NULL WHERE uuid = ?1 AND kind = ?2 AND "
                        "pending_password IS NOT NULL",
    [ST_PENDING_LIST] = "SELECT uuid, kind FROM credentials WHERE pending_password IS "
                        "NOT NULL ORDER BY uuid, kind",
    [ST_OTP_SET] = "INSERT INTO otp_hashes (uuid, sha256, created) VALUES (?1, ?2, ?3) "
                   "ON CONFLICT (uuid) DO UPDATE SET sha256 = excluded.sha256, "
                   "created = excluded.created",
    [ST_OTP_GET] = "SELECT sha256, created FROM otp_hashes WHERE uuid = ?1",
    [ST_OTP_CLEAR] = "DELETE FROM otp_hashes WHERE uuid = ?1",
    [ST_CERT_INSERT] = "INSERT INTO certificates (uuid, serial, issuer, subject, "
                       "not_after, pem, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_CERT_LIST] = "SELECT serial, issuer, subject, not_after FROM certificates "
                     "WHERE uuid = ?1 ORDER BY created, rowid",
    [ST_DIR_CONTAINER_ADD] = "INSERT INTO dir_containers (dn, created) VALUES (?1, ?2) "
                             "ON CONFLICT (dn) DO NOTHING",
    [ST_DIR_CONTAINER_GET] = "SELECT 1 FROM dir_containers WHERE dn = ?1",
    [ST_DIR_ACCOUNT_BY_UUID] = ACCOUNT_COLUMNS "WHERE uuid = ?1",
    [ST_DIR_ACCOUNT_BY_NAME] = ACCOUNT_COLUMNS "WHERE name = ?1 AND domain = ?2",
    [ST_DIR_ACCOUNT_EXISTS] = "SELECT 1 FROM dir_accounts WHERE dn = ?1",
    [ST_DIR_ACCOUNT_INSERT] =
        "INSERT INTO dir_accounts (dn, name, domain, container, "
        "uuid, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    [ST_DIR_ACCOUNT_UPDATE] = "UPDATE dir_accounts SET dn = ?1, name = ?2, domain = ?3, "
                              "container = ?4, updated = ?6 WHERE uuid = ?5",
    [ST_DIR_ACCOUNT_DELETE] = "DELETE FROM dir_accounts WHERE dn = ?1",
    [ST_DIR_SPNS_OF] = "SELECT spn FROM dir_spns WHERE account = ?1 ORDER BY rowid",
    [ST_DIR_SPN_OWNER] = "SELECT account FROM dir_spns WHERE spn = ?1",
    [ST_DIR_SPNS_CLEAR] = "DELETE FROM dir_spns WHERE account = ?1",
    [ST_DIR_SPN_INSERT] = "INSERT INTO dir_spns (spn, account) VALUES (?1, ?2)",
};

struct site_db {
    sqlite3 *sql;
    pthread_mutex_t lock;
    sqlite3_stmt *stmt[ST_COUNT];
};

static const char *const state_names[] = {
    [SITE_STATE_IMPORTED] = "imported",
    [SITE_STATE_IN_PROGRESS] = "in-progress",
    [SITE_STATE_PROVISIONED] = "provisioned",
    [SITE_STATE_FAILED] = "failed",
};

static const char *const kind_names[] = {
    [SITE_SECRET_ADMIN] = "admin",
    [SITE_SECRET_MEBX] = "mebx",
};

const char *
site_state_name(enum site_state state)
{
    if ((unsigned)state >= sizeof(state_names) / sizeof(state_names[0]))
        return NULL;
    return state_names[state];
}

int
site_state_parse(const char *name, enum site_state *out)
{
    if (name == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++) {
        if (strcmp(name, state_names[i]) == 0) {
            *out = (enum site_state)i;
            return 0;
        }
    }
    return AMT_ERR_INVALID_ARGUMENT;
}

const char *
site_secret_kind_name(enum site_secret_kind kind)
{
    if ((unsigned)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
        return NULL;
    return kind_names[kind];
}

static int
kind_parse(const char *name, enum site_secret_kind *out)
{
    for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
        if (name != NULL && strcmp(name, kind_names[i]) == 0) {
            *out = (enum site_secret_kind)i;
            return 0;
        }
    }
    return AMT_ERR_SITE_DB_CORRUPT;
}

/* ---- SQLite plumbing ---- */

/*
 * Turns an SQLite failure into the project's code, and says what happened on
 * stderr: the only place that still knows SQLite's own message. Constraint
 * failures that mean something to the caller are mapped before coming here.
 */
static int
db_fail(struct site_db *db, const char *func, int rc)
{
    fprintf(stderr, "site_db: %s: %s\n", func, sqlite3_errmsg(db->sql));
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return AMT_ERR_SITE_DB_BUSY;
    case SQLITE_NOMEM:
        return AMT_ERR_ALLOC;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return AMT_ERR_SITE_DB_CORRUPT;
    default:
        return AMT_ERR_SITE_DB;
    }
}

/* Statements are prepared on first use and kept for the life of the handle. */
static int
stmt_get(struct site_db *db, enum stmt id, sqlite3_stmt **out, const char *func)
{
    int rc;

    if (db->stmt[id] == NULL) {
        rc = sqlite3_prepare_v3(db->sql, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                &db->stmt[id], NULL);
        if (rc != SQLITE_OK)
            return db_fail(db, func, rc);
    }
    *out = db->stmt[id];
    return 0;
}

/* Clearing the bindings frees SQLite's copies of bound secrets at once. */
static void
stmt_done(sqlite3_stmt *st)
{
    if (st == NULL)
        return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* NULL binds SQL NULL; text is copied by SQLite, so the caller may wipe its own. */
static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

static int
col_copy(sqlite3_stmt *st, int col, char *buf, size_t size)
{
    const unsigned char *s;
    int n;

    buf[0] = '\0';
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return 0;
    if ((s = sqlite3_column_text(st, col)) == NULL)
        return AMT_ERR_ALLOC;
    n = sqlite3_column_bytes(st, col);
    if (n < 0 || (size_t)n >= size)
        return AMT_ERR_SITE_DB_CORRUPT;
    memcpy(buf, s, (size_t)n);
    buf[n] = '\0';
    return 0;
}

static int
exec_sql(struct site_db *db, const char *sql, const char *func)
{
    int rc = sqlite3_exec(db->sql, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? 0 : db_fail(db, func, rc);
}

/* IMMEDIATE: take the write lock now, so that a transaction never fails half way. */
static int
tx_begin(struct site_db *db, const char *func)
{
    return exec_sql(db, "BEGIN IMMEDIATE", func);
}

static int
tx_commit(struct site_db *db, const char *func)
{
    return exec_sql(db, "COMMIT", func);
}

static void
tx_rollback(struct site_db *db)
{
    if (!sqlite3_get_autocommit(db->sql))
        sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
}

static void
db_lock(struct site_db *db)
{
    pthread_mutex_lock(&db->lock);
}

static void
db_unlock(struct site_db *db)
{
    pthread_mutex_unlock(&db->lock);
}

static int64_t
now_seconds(void)
{
    return (int64_t)time(NULL);
}

/* ---- values as the columns accept them ---- */

static void
ascii_lower(char *s)
{
    for (; *s != '\0'; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

static int
canon_uuid(const char *in, char out[UUID_TEXT_SIZE])
{
    struct amt_uuid u;
    int r;

    if (in == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = uuid_parse(in, &u)) != 0)
        return r;
    uuid_format(&u, out);
    return 0;
}

static int
canon_host(const char *in, char out[SITE_HOST_MAX + 1])
{
    size_t n;

    if (in == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    n = strnlen(in, SITE_HOST_MAX + 1);
    if (n > SITE_HOST_MAX || ns_name_valid(in) != 0 || memchr(in, '.', n) != NULL)
        return AMT_ERR_NS_NAME;
    memcpy(out, in, n + 1);
    ascii_lower(out);
    return 0;
}

static int
canon_domain(const char *in, char out[SITE_DOMAIN_MAX + 1])
{
    size_t n;

    if (in == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (ns_name_valid(in) != 0)
        return AMT_ERR_NS_NAME;
    n = strlen(in);
    if (in[n - 1] == '.')
        n--;
    memcpy(out, in, n);
    out[n] = '\0';
    ascii_lower(out);
    return 0;
}

static bool
printable_ascii(const char *s, size_t max, size_t *len)
{
    size_t n = strnlen(s, max + 1);

    if (n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    *len = n;
    return true;
}

static int
check_password(const char *password)
{
    size_t n;

    if (password == NULL || !printable_ascii(password, PASSWORD_MAX_LEN, &n) || n == 0)
        return AMT_ERR_INVALID_ARGUMENT;
    return 0;
}

/* The admin account has a user name; the MEBx has none. */
static int
check_user(enum site_secret_kind kind, const char *user)
{
    if (kind == SITE_SECRET_MEBX)
        return user == NULL || user[0] == '\0' ? 0 : AMT_ERR_INVALID_ARGUMENT;
    if (kind != SITE_SECRET_ADMIN || user == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    return password_check_user(user, NULL) == 0 ? 0 : AMT_ERR_INVALID_ARGUMENT;
}

/* "X.Y" or "X.Y.Z", each part a number up to 255 without leading zeros. */
static bool
amt_version_valid(const char *v)
{
    size_t parts = 0, digits = 0;
    unsigned n = 0;

    if (v == NULL || strnlen(v, SITE_AMT_VERSION_MAX + 1) > SITE_AMT_VERSION_MAX)
        return false;
    for (const char *p = v;; p++) {
        if (*p >= '0' && *p <= '9') {
            if (digits > 0 && n == 0)
                return false;
            n = n * 10 + (unsigned)(*p - '0');
            if (++digits > 3 || n > 255)
                return false;
            continue;
        }
        if (digits == 0 || (*p != '.' && *p != '\0'))
            return false;
        parts++;
        if (*p == '\0')
            return parts == 2 || parts == 3;
        digits = 0;
        n = 0;
    }
}

/* ---- opening ---- */

/*
 * The file is made here, with its final mode, before SQLite sees it: SQLite would
 * create it with 0644 less the umask, readable by anyone for a moment or for good.
 */
static int
prepare_file(const char *path, char *err, size_t errlen)
{
    struct stat st;
    int fd;

    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
        /* an unusual umask may have taken the owner's write bit away */
        if (fchmod(fd, 0600) != 0) {
            snprintf(err, errlen, "%s: chmod: %s", path, strerror(errno));
            close(fd);
            return AMT_ERR_SYSTEM;
        }
        close(fd);
        return 0;
    }
    if (errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return AMT_ERR_SYSTEM;
    }
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return errno == ELOOP ? AMT_ERR_SITE_DB_MODE : AMT_ERR_SYSTEM;
    }
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        return AMT_ERR_SYSTEM;
    }
    close(fd);
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        snprintf(err, errlen, "%s: not a regular file owned by this user", path);
        return AMT_ERR_SITE_DB_MODE;
    }
    if ((st.st_mode & 077) != 0) {
        snprintf(err, errlen,
                 "%s: mode %04o lets others read the passwords it holds; chmod 600 it",
                 path, (unsigned)(st.st_mode & 07777));
        return AMT_ERR_SITE_DB_MODE;
    }
    return 0;
}

static int
pragma_text(struct site_db *db, const char *sql, char *buf, size_t size)
{
    sqlite3_stmt *st = NULL;
    int rc, r;

    if ((rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL)) != SQLITE_OK)
        return db_fail(db, __func__, rc);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        r = col_copy(st, 0, buf, size);
    else
        r = db_fail(db, __func__, rc);
    sqlite3_finalize(st);
    return r;
}

static int
configure(struct site_db *db, char *err, size_t errlen)
{
    char mode[16];
    int r;

    sqlite3_extended_result_codes(db->sql, 1);
    sqlite3_busy_timeout(db->sql, SITE_DB_BUSY_TIMEOUT_MS);
    /* SQL can then not write the schema behind SQLite's back, nor run its triggers */
    sqlite3_db_config(db->sql, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(db->sql, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    if ((r = pragma_text(db, "PRAGMA journal_mode = WAL", mode, sizeof(mode))) != 0) {
        snprintf(err, errlen, "cannot use it: %s", amt_strerror(r));
        return r;
    }
    if (strcmp(mode, "wal") != 0) {
        snprintf(err, errlen, "journal mode is %s, not wal", mode);
        return AMT_ERR_SITE_DB;
    }
    if ((r = exec_sql(db,
                      "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
                      "PRAGMA secure_delete = ON",
                      __func__)) != 0 ||
        (r = pragma_text(db, "PRAGMA foreign_keys", mode, sizeof(mode))) != 0) {
        snprintf(err, errlen, "cannot configure it: %s", amt_strerror(r));
        return r;
    }
    if (strcmp(mode, "1") != 0) {
        snprintf(err, errlen, "this SQLite does not enforce foreign keys");
        return AMT_ERR_SITE_DB;
    }
    return 0;
}

static int
count_rows(struct site_db *db, const char *sql, int64_t *n)
{
    sqlite3_stmt *st = NULL;
    int rc, r = 0;

    if ((rc = sqlite3_prepare_v2(db->sql, sql, -1, &st, NULL)) != SQLITE_OK)
        return db_fail(db, __func__, rc);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    else
        r = db_fail(db, __func__, rc);
    sqlite3_finalize(st);
    return r;
}

static int
read_version(struct site_db *db, int *version)
{
    sqlite3_stmt *st = NULL;
    int rc, r = AMT_ERR_INTERNAL;
    int64_t v;

    if ((r = stmt_get(db, ST_SCHEMA_VERSION, &st, __func__)) != 0)
        return r;
    if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
        r = rc == SQLITE_DONE ? AMT_ERR_SITE_DB_CORRUPT : db_fail(db, __func__, rc);
        goto out;
    }
    v = sqlite3_column_int64(st, 0);
    /* one row, holding a version this program could have written */
    if (v < 0 || v > INT32_MAX || sqlite3_step(st) != SQLITE_DONE) {
        r = AMT_ERR_SITE_DB_CORRUPT;
        goto out;
    }
    *version = (int)v;
    r = 0;
out:
    stmt_done(st);
    return r;
}

static int
migrate(struct site_db *db, char *err, size_t errlen)
{
    char sql[64];
    int64_t tables = 0, objects = 0;
    int version = 0, r;

    if ((r = tx_begin(db, __func__)) != 0)
        return r;
    if ((r = count_rows(db,
                        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                        "name = 'schema_version'",
                        &tables)) != 0 ||
        (r = count_rows(db, "SELECT count(*) FROM sqlite_schema", &objects)) != 0)
        goto out;
    if (tables == 0 && objects > 0) {
        snprintf(err, errlen, "holds tables but no schema version: not a site database");
        r = AMT_ERR_SITE_DB_CORRUPT;
        goto out;
    }
    if (tables > 0 && (r = read_version(db, &version)) != 0) {
        snprintf(err, errlen, "unreadable schema version: %s", amt_strerror(r));
        goto out;
    }
    if (version > SITE_DB_SCHEMA_VERSION) {
        snprintf(err, errlen, "schema version %d; this program knows up to %d", version,
                 SITE_DB_SCHEMA_VERSION);
        r = AMT_ERR_SITE_DB_VERSION;
        goto out;
    }
    for (int v = version; v < SITE_DB_SCHEMA_VERSION; v++) {
        if ((r = exec_sql(db, migrations[v], __func__)) != 0) {
            snprintf(err, errlen, "migration to schema version %d failed", v + 1);
            goto out;
        }
    }
    if (version < SITE_DB_SCHEMA_VERSION) {
        snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d",
                 SITE_DB_SCHEMA_VERSION);
        if ((r = exec_sql(db, sql, __func__)) != 0) {
            snprintf(err, errlen, "cannot record schema version: %s", amt_strerror(r));
            goto out;
        }
    }
    if ((r = tx_commit(db, __func__)) != 0)
        snprintf(err, errlen, "cannot commit the schema: %s", amt_strerror(r));
out:
    tx_rollback(db);
    return r;
}

int
site_db_open(const char *path, struct site_db **out, char *err, size_t errlen)
{
    struct site_db *db = NULL;
    char why[256] = "";
    int r = AMT_ERR_INTERNAL, rc;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (out == NULL || path == NULL || path[0] == '\0')
        return AMT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if ((r = prepare_file(path, err, errlen)) != 0)
        return r;
    if ((db = calloc(1, sizeof(*db))) == NULL)
        return AMT_ERR_ALLOC;
    if (pthread_mutex_init(&db->lock, NULL) != 0) {
        free(db);
        return AMT_ERR_SYSTEM;
    }
    rc = sqlite3_open_v2(
        path, &db->sql,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path,
                 db->sql != NULL ? sqlite3_errmsg(db->sql) : sqlite3_errstr(rc));
        r = (rc & 0xff) == SQLITE_NOMEM ? AMT_ERR_ALLOC : AMT_ERR_SITE_DB;
        goto out;
    }
    if ((r = configure(db, why, sizeof(why))) != 0 ||
        (r = migrate(db, why, sizeof(why))) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        goto out;
    }
    *out = db;
    db = NULL;
    r = 0;
out:
    site_db_close(db);
    return r;
}

void
site_db_close(struct site_db *db)
{
    if (db == NULL)
        return;
    for (size_t i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(db->stmt[i]);
    sqlite3_close(db->sql);
    pthread_mutex_destroy(&db->lock);
    free(db);
}

int
site_db_schema_version(struct site_db *db, int *version)
{
    int r;

    if (db == NULL || version == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    db_lock(db);
    r = read_version(db, version);
    db_unlock(db);
    return r;
}

/* ---- devices ---- */

static int
read_device(sqlite3_stmt *st, struct site_device *out)
{
    char state[16];
    int r;

    memset(out, 0, sizeof(*out));
    if ((r = col_copy(st, 0, out->uuid, sizeof(out->uuid))) != 0 ||
        (r = col_copy(st, 1, out->host, sizeof(out->host))) != 0 ||
        (r = col_copy(st, 2, out->domain, sizeof(out->domain))) != 0 ||
        (r = col_copy(st, 3, out->ou, sizeof(out->ou))) != 0 ||
        (r = col_copy(st, 5, out->amt_version, sizeof(out->amt_version))) != 0 ||
        (r = col_copy(st, 6, state, sizeof(state))) != 0 ||
        (r = col_copy(st, 7, out->last_step, sizeof(out->last_step))) != 0 ||
        (r = col_copy(st, 8, out->last_error, sizeof(out->last_error))) != 0)
        return r;
    if (site_state_parse(state, &out->state) != 0)
        return AMT_ERR_SITE_DB_CORRUPT;
    out->inband = sqlite3_column_int(st, 4) != 0;
    out->created = (time_t)sqlite3_column_int64(st, 9);
    out->updated = (time_t)sqlite3_column_int64(st, 10);
    return 0;
}

/* One device by a key column; AMT_ERR_NOT_FOUND when no row. */
static int
device_get_locked(struct site_db *db, enum stmt id, const char *key,
                  struct site_device *out)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    if ((r = stmt_get(db, id, &st, __func__)) != 0)
        return r;
    if ((rc = bind_text(st, 1, key)) != SQLITE_OK) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        r = read_device(st, out);
    else if (rc == SQLITE_DONE)
        r = AMT_ERR_NOT_FOUND;
    else
        r = db_fail(db, __func__, rc);
out:
    stmt_done(st);
    return r;
}

static int
device_exists_locked(struct site_db *db, const char *uuid)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    if ((r = stmt_get(db, ST_DEVICE_EXISTS, &st, __func__)) != 0)
        return r;
    if ((rc = bind_text(st, 1, uuid)) != SQLITE_OK)
        r = db_fail(db, __func__, rc);
    else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        r = 0;
    else if (rc == SQLITE_DONE)
        r = AMT_ERR_NOT_FOUND;
    else
        r = db_fail(db, __func__, rc);
    stmt_done(st);
    return r;
}

/* A row as the devices table holds it. */
struct canon_row {
    char uuid[UUID_TEXT_SIZE];
    char host[SITE_HOST_MAX + 1];
    char domain[SITE_DOMAIN_MAX + 1];
    char ou[DIR_DN_MAX + 1];
    bool inband;
};

static int
canon_import_row(const struct site_import_row *in, struct canon_row *out)
{
    int r;

    if ((r = canon_uuid(in->uuid, out->uuid)) != 0 ||
        (r = canon_host(in->host, out->host)) != 0 ||
        (r = canon_domain(in->domain, out->domain)) != 0)
        return r;
    out->ou[0] = '\0';
    if (in->ou != NULL && in->ou[0] != '\0' &&
        (r = dir_container_path(in->ou, out->ou, sizeof(out->ou), NULL, 0)) != 0)
        return r;
    out->inband = in->inband;
    return 0;
}

static int
bind_row(sqlite3_stmt *st, const struct canon_row *row, bool inband, int64_t now)
{
    int rc;

    if ((rc = bind_text(st, 1, row->uuid)) != SQLITE_OK ||
        (rc = bind_text(st, 2, row->host)) != SQLITE_OK ||
        (rc = bind_text(st, 3, row->domain)) != SQLITE_OK ||
        (rc = bind_text(st, 4, row->ou[0] != '\0' ? row->ou : NULL)) != SQLITE_OK ||
        (rc = sqlite3_bind_int(st, 5, inband)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(st, 6, now)) != SQLITE_OK)
        return rc;
    return SQLITE_OK;
}

static int
import_one_locked(struct site_db *db, const struct canon_row *row, int64_t now)
{
    struct site_device cur;
    sqlite3_stmt *st = NULL;
    enum stmt id = ST_DEVICE_INSERT;
    bool inband = row->inband;
    int r, rc;

    r = device_get_locked(db, ST_DEVICE_GET, row->uuid, &cur);
    if (r == 0) {
        /* an import never forgets that a device has an agent (IB-5) */
        inband = inband || cur.inband;
        if (strcmp(cur.host, row->host) == 0 && strcmp(cur.domain, row->domain) == 0 &&
            strcmp(cur.ou, row->ou) == 0) {
            if (inband == cur.inband)
                return 0;
        } else if (cur.state != SITE_STATE_IMPORTED && cur.state != SITE_STATE_FAILED) {
            /* the device holds its old names until it is provisioned again */
            return AMT_ERR_SITE_DEVICE_ACTIVE;
        }
        id = ST_DEVICE_RENAME;
    } else if (r != AMT_ERR_NOT_FOUND) {
        return r;
    }
    if ((r = stmt_get(db, id, &st, __func__)) != 0)
        return r;
    if ((rc = bind_row(st, row, inband, now)) != SQLITE_OK) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        r = 0;
    else if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        r = AMT_ERR_SITE_DUPLICATE;
    else
        r = db_fail(db, __func__, rc);
out:
    stmt_done(st);
    return r;
}

int
site_db_import_devices(struct site_db *db, const struct site_import_row *rows, size_t n)
{
    struct canon_row row;
    int64_t now = now_seconds();
    int r;

    if (db == NULL || (rows == NULL && n > 0))
        return AMT_ERR_INVALID_ARGUMENT;
    db_lock(db);
    if ((r = tx_begin(db, __func__)) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if ((r = canon_import_row(&rows[i], &row)) != 0 ||
            (r = import_one_locked(db, &row, now)) != 0)
            goto out;
    }
    r = tx_commit(db, __func__);
out:
    tx_rollback(db);
    db_unlock(db);
    return r;
}

int
site_db_device_get(struct site_db *db, const char *uuid, struct site_device *out)
{
    char key[UUID_TEXT_SIZE];
    int r;

    if (db == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = canon_uuid(uuid, key)) != 0)
        return r;
    db_lock(db);
    r = device_get_locked(db, ST_DEVICE_GET, key, out);
    db_unlock(db);
    return r;
}

int
site_db_device_find_host(struct site_db *db, const char *host, struct site_device *out)
{
    char key[SITE_HOST_MAX + 1];
    int r;

    if (db == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = canon_host(host, key)) != 0)
        return r;
    db_lock(db);
    r = device_get_locked(db, ST_DEVICE_BY_HOST, key, out);
    db_unlock(db);
    return r;
}

/*
 * Rows are read into memory under the lock and handed to the callback after it is
 * released, so that the callback may use the database itself.
 */
int
site_db_device_list(struct site_db *db, site_device_fn fn, void *arg)
{
    struct site_device *devs = NULL, *grown;
    sqlite3_stmt *st = NULL;
    size_t n = 0, cap = 0;
    int r = AMT_ERR_INTERNAL, rc;

    if (db == NULL || fn == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    db_lock(db);
    if ((r = stmt_get(db, ST_DEVICE_LIST, &st, __func__)) != 0)
        goto unlock;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap != 0 ? cap * 2 : 64;
            if ((grown = realloc(devs, cap * sizeof(*devs))) == NULL) {
                r = AMT_ERR_ALLOC;
                goto unlock;
            }
            devs = grown;
        }
        if ((r = read_device(st, &devs[n])) != 0)
            goto unlock;
        n++;
    }
    r = rc == SQLITE_DONE ? 0 : db_fail(db, __func__, rc);
unlock:
    stmt_done(st);
    db_unlock(db);
    for (size_t i = 0; r == 0 && i < n; i++)
        r = fn(arg, &devs[i]);
    free(devs);
    return r;
}

struct text_list {
    char **items;
    size_t n;
    size_t cap;
};

static int
text_list_add(struct text_list *l, const char *s)
{
    char **grown;

    if (l->n == l->cap) {
        size_t cap = l->cap != 0 ? l->cap * 2 : 16;

        if ((grown = realloc(l->items, cap * sizeof(*grown))) == NULL)
            return AMT_ERR_ALLOC;
        l->items = grown;
        l->cap = cap;
    }
    if ((l->items[l->n] = strdup(s)) == NULL)
        return AMT_ERR_ALLOC;
    l->n++;
    return 0;
}

static void
text_list_free(struct text_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
}

int
site_db_domain_list(struct site_db *db, site_domain_fn fn, void *arg)
{
    struct text_list domains = {0};
    sqlite3_stmt *st = NULL;
    int r = AMT_ERR_INTERNAL, rc;

    if (db == NULL || fn == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    db_lock(db);
    if ((r = stmt_get(db, ST_DOMAIN_LIST, &st, __func__)) != 0)
        goto unlock;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(st, 0);

        if (d == NULL) {
            r = AMT_ERR_ALLOC;
            goto unlock;
        }
        if ((r = text_list_add(&domains, d)) != 0)
            goto unlock;
    }
    r = rc == SQLITE_DONE ? 0 : db_fail(db, __func__, rc);
unlock:
    stmt_done(st);
    db_unlock(db);
    for (size_t i = 0; r == 0 && i < domains.n; i++)
        r = fn(arg, domains.items[i]);
    text_list_free(&domains);
    return r;
}

/* Runs an UPDATE or DELETE of one row by its key; AMT_ERR_NOT_FOUND when none. */
static int
step_one_change(struct site_db *db, sqlite3_stmt *st, const char *func)
{
    int rc = sqlite3_step(st);

    if (rc != SQLITE_DONE)
        return db_fail(db, func, rc);
    return sqlite3_changes(db->sql) > 0 ? 0 : AMT_ERR_NOT_FOUND;
}

/* Runs a statement whose one parameter is a device's UUID and that must change a row. */
static int
change_by_uuid(struct site_db *db, enum stmt id, const char *uuid, const char *func)
{
    char key[UUID_TEXT_SIZE];
    sqlite3_stmt *st = NULL;
    int r, rc;

    if (db == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = canon_uuid(uuid, key)) != 0)
        return r;
    db_lock(db);
    if ((r = stmt_get(db, id, &st, func)) != 0)
        goto out;
    if ((rc = bind_text(st, 1, key)) != SQLITE_OK)
        r = db_fail(db, func, rc);
    else
        r = step_one_change(db, st, func);
out:
    stmt_done(st);
    db_unlock(db);
    return r;
}

int
site_db_device_delete(struct site_db *db, const char *uuid)
{
    return change_by_uuid(db, ST_DEVICE_DELETE, uuid, __func__);
}

int
site_db_set_state(struct site_db *db, const char *uuid, enum site_state state,
                  const char *step, const char *reason)
{
    char key[UUID_TEXT_SIZE];
    sqlite3_stmt *st = NULL;
    int r, rc;

    if (db == NULL || site_state_name(state) == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (step != NULL && (strlen(step) > SITE_STEP_MAX || !evlog_id_valid(step)))
        return AMT_ERR_INVALID_ARGUMENT;
    if (reason != NULL &&
        (strlen(reason) > SITE_REASON_MAX || !evlog_reason_valid(reason)))
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = canon_uuid(uuid, key)) != 0)
        return r;
    db_lock(db);
    if ((r = stmt_get(db, ST_SET_STATE, &st, __func__)) != 0)
        goto out;
    if ((rc = bind_text(st, 1, key)) != SQLITE_OK ||
        (rc = bind_text(st, 2, site_state_name(state))) != SQLITE_OK ||
        (rc = bind_text(st, 3, step)) != SQLITE_OK ||
        (rc = bind_text(st, 4, reason)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(st, 5, now_seconds())) != SQLITE_OK)
        r = db_fail(db, __func__, rc);
    else
        r = step_one_change(db, st, __func__);
out:
    stmt_done(st);
    db_unlock(db);
    return r;
}

int
site_db_set_amt_version(struct site_db *db, const char *uuid, const char *version)
{
    char key[UUID_TEXT_SIZE];
    sqlite3_stmt *st = NULL;
    int r, rc;

    if (db == NULL || !amt_version_valid(version))
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = canon_uuid(uuid, key)) != 0)
        return r;
    db_lock(db);
    if ((r = stmt_get(db, ST_SET_VERSION, &st, __func__)) != 0)
        goto out;
    if ((rc = bind_text(st, 1, key)) != SQLITE_OK ||
        (rc = bind_text(st, 2, version)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(st, 3, now_seconds())) != SQLITE_OK)
        r = db_fail(db, __func__, rc);
    else
        r = step_one_change(db, st, __func__);
out:
    stmt_done(st);
    db_unlock(db);
    return r;
}

/* ---- passwords ---- */

static int
bind_key_kind(sqlite3_stmt *st, const char *uuid, enum site_secret_kind kind)
{
    int rc;

    if ((rc = bind_text(st, 1, uuid)) != SQLITE_OK)
        return rc;
    return bind_text(st, 2, site_secret_kind_name(kind));
}

static int
has_pending_locked(struct site_db *db, const char *uuid, enum site_secret_kind kind,
                   bool *pending)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    *pending = false;
    if ((r = stmt_get(db, ST_CRED_HAS_PENDING, &st, __func__)) != 0)
        return r;
    if ((rc = bind_key_kind(st, uuid, kind)) != SQLITE_OK) {
        r = db_fail(db, __func__, rc);
    } else if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *pending = sqlite3_column_int(st, 0) != 0;
        r = 0;
    } else {
        r = rc == SQLITE_DONE ? 0 : db_fail(db, __func__, rc);
    }
    stmt_done(st);
    return r;
}

static int
pending_locked(struct site_db *db, const char *uuid, enum site_secret_kind kind,
               const char *user, const char *password)
{
    sqlite3_stmt *st = NULL;
    bool pending;
    int r, rc;

    if ((r = tx_begin(db, __func__)) != 0)
        return r;
    if ((r = device_exists_locked(db, uuid)) != 0 ||
        (r = has_pending_locked(db, uuid, kind, &pending)) != 0)
        goto out;
    if (pending) {
        r = AMT_ERR_SITE_PENDING;
        goto out;
    }
    if ((r = stmt_get(db, ST_CRED_PENDING, &st, __func__)) != 0)
        goto out;
    if ((rc = bind_key_kind(st, uuid, kind)) != SQLITE_OK ||
        (rc = bind_text(st, 3, user != NULL && user[0] != '\0' ? user : NULL)) !=
            SQLITE_OK ||
        (rc = bind_text(st, 4, password)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(st, 5, now_seconds())) != SQLITE_OK) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    stmt_done(st);
    st = NULL;
    r = tx_commit(db, __func__);
out:
    stmt_done(st);
    tx_rollback(db);
    return r;
}

int
site_db_password_pending(struct site_db *db, const char *uuid, enum site_secret_kind kind,
                         const char *user, const char *password)
{
    char key[UUID_TEXT_SIZE];
    int r;

    if (db == NULL || site_secret_kind_name(kind) == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = check_user(kind, user)) != 0 || (r = check_password(password)) != 0 ||
        (r = canon_uuid(uuid, key)) != 0)
        return r;
    db_lock(db);
    r = pending_locked(db, key, kind, user, password);
    db_unlock(db);
    return r;
}

/* Confirm and discard: one UPDATE each, told apart by the statement. */
static int
resolve_pending(struct site_db *db, const char *uuid, enum site_secret_kind kind,
                enum stmt id)
{
    char key[UUID_TEXT_SIZE];
    sqlite3_stmt *st = NULL;
    int r, rc;

    if (db == NULL || site_secret_kind_name(kind) == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = canon_uuid(uuid, key)) != 0)
        return r;
    db_lock(db);
    if ((r = stmt_get(db, id, &st, __func__)) != 0)
        goto out;
    if ((rc = bind_key_kind(st, key, kind)) != SQLITE_OK ||
        (id == ST_CRED_CONFIRM &&
         (rc = sqlite3_bind_int64(st, 3, now_seconds())) != SQLITE_OK)) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    r = step_one_change(db, st, __func__);
    if (r == AMT_ERR_NOT_FOUND)
        r = device_exists_locked(db, key) == 0 ? AMT_ERR_SITE_NO_PENDING
                                               : AMT_ERR_NOT_FOUND;
out:
    stmt_done(st);
    db_unlock(db);
    return r;
}

int
site_db_password_confirm(struct site_db *db, const char *uuid, enum site_secret_kind kind)
{
    return resolve_pending(db, uuid, kind, ST_CRED_CONFIRM);
}

int
site_db_password_discard_pending(struct site_db *db, const char *uuid,
                                 enum site_secret_kind kind)
{
    return resolve_pending(db, uuid, kind, ST_CRED_DISCARD);
}

struct pending_item {
    char uuid[UUID_TEXT_SIZE];
    enum site_secret_kind kind;
};

int
site_db_pending_list(struct site_db *db, site_pending_fn fn, void *arg)
{
    struct pending_item *items = NULL, *grown;
    sqlite3_stmt *st = NULL;
    size_t n = 0, cap = 0;
    char kind[8];
    int r = AMT_ERR_INTERNAL, rc;

    if (db == NULL || fn == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    db_lock(db);
    if ((r = stmt_get(db, ST_PENDING_LIST, &st, __func__)) != 0)
        goto unlock;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap != 0 ? cap * 2 : 16;
            if ((grown = realloc(items, cap * sizeof(*items))) == NULL) {
                r = AMT_ERR_ALLOC;
                goto unlock;
            }
            items = grown;
        }
        if ((r = col_copy(st, 0, items[n].uuid, sizeof(items[n].uuid))) != 0 ||
            (r = col_copy(st, 1, kind, sizeof(kind))) != 0 ||
            (r = kind_parse(kind, &items[n].kind)) != 0)
            goto unlock;
        n++;
    }
    r = rc == SQLITE_DONE ? 0 : db_fail(db, __func__, rc);
unlock:
    stmt_done(st);
    db_unlock(db);
    for (size_t i = 0; r == 0 && i < n; i++)
        r = fn(arg, items[i].uuid, items[i].kind);
    free(items);
    return r;
}

static int
credential_get_locked(struct site_db *db, const char *uuid, enum site_secret_kind kind,
                      struct site_credential *out)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    if ((r = device_exists_locked(db, uuid)) != 0)
        return r;
    if ((r = stmt_get(db, ST_CRED_GET, &st, __func__)) != 0)
        return r;
    if ((rc = bind_key_kind(st, uuid, kind)) != SQLITE_OK) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        r = 0;
        goto out;
    }
    if (rc != SQLITE_ROW) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    if ((r = col_copy(st, 0, out->user, sizeof(out->user))) != 0 ||
        (r = col_copy(st, 1, out->password, sizeof(out->password))) != 0 ||
        (r = col_copy(st, 3, out->pending_user, sizeof(out->pending_user))) != 0 ||
        (r = col_copy(st, 4, out->pending_password, sizeof(out->pending_password))) != 0)
        goto out;
    out->has_current = sqlite3_column_type(st, 1) != SQLITE_NULL;
    out->confirmed = (time_t)sqlite3_column_int64(st, 2);
    out->has_pending = sqlite3_column_type(st, 4) != SQLITE_NULL;
    out->pending_since = (time_t)sqlite3_column_int64(st, 5);
out:
    stmt_done(st);
    return r;
}

int
site_db_credential_get(struct site_db *db, const char *uuid, enum site_secret_kind kind,
                       struct site_credential *out)
{
    char key[UUID_TEXT_SIZE];
    int r;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (db == NULL || out == NULL || site_secret_kind_name(kind) == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = canon_uuid(uuid, key)) != 0)
        return r;
    db_lock(db);
    r = credential_get_locked(db, key, kind, out);
    db_unlock(db);
    if (r != 0)
        site_credential_wipe(out);
    return r;
}

void
site_credential_wipe(struct site_credential *c)
{
    if (c != NULL)
        OPENSSL_cleanse(c, sizeof(*c));
}

/* ---- in-band one-time password hashes ---- */

static int
canon_otp_hash(const char *in, char out[SITE_OTP_HASH_SIZE])
{
    if (in == NULL || strnlen(in, SITE_OTP_HASH_SIZE) != SITE_OTP_HASH_SIZE - 1)
        return AMT_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < SITE_OTP_HASH_SIZE - 1; i++) {
        char c = in[i];

        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return AMT_ERR_INVALID_ARGUMENT;
        out[i] = c;
    }
    out[SITE_OTP_HASH_SIZE - 1] = '\0';
    return 0;
}

static int
otp_set_locked(struct site_db *db, const char *uuid, const char *hex)
{
    sqlite3_stmt *st = NULL;
    int64_t now = now_seconds();
    int r, rc;

    if ((r = tx_begin(db, __func__)) != 0)
        return r;
    if ((r = stmt_get(db, ST_OTP_SET, &st, __func__)) != 0)
        goto out;
    if ((rc = bind_text(st, 1, uuid)) != SQLITE_OK ||
        (rc = bind_text(st, 2, hex)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(st, 3, now)) != SQLITE_OK) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        r = AMT_ERR_NOT_FOUND;
        goto out;
    }
    if (rc != SQLITE_DONE) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    stmt_done(st);
    if ((r = stmt_get(db, ST_SET_INBAND, &st, __func__)) != 0)
        goto out;
    if ((rc = bind_text(st, 1, uuid)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(st, 2, now)) != SQLITE_OK) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    if ((r = step_one_change(db, st, __func__)) != 0)
        goto out;
    stmt_done(st);
    st = NULL;
    r = tx_commit(db, __func__);
out:
    stmt_done(st);
    tx_rollback(db);
    return r;
}

int
site_db_otp_hash_set(struct site_db *db, const char *uuid, const char *sha256_hex)
{
    char key[UUID_TEXT_SIZE], hex[SITE_OTP_HASH_SIZE];
    int r;

    if (db == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = canon_uuid(uuid, key)) != 0 || (r = canon_otp_hash(sha256_hex, hex)) != 0)
        return r;
    db_lock(db);
    r = otp_set_locked(db, key, hex);
    db_unlock(db);
    OPENSSL_cleanse(hex, sizeof(hex));
    return r;
}

int
site_db_otp_hash_get(struct site_db *db, const char *uuid, char hex[SITE_OTP_HASH_SIZE],
                     time_t *created)
{
    char key[UUID_TEXT_SIZE];
    sqlite3_stmt *st = NULL;
    int r, rc;

    if (db == NULL || hex == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    hex[0] = '\0';
    if ((r = canon_uuid(uuid, key)) != 0)
        return r;
    db_lock(db);
    if ((r = stmt_get(db, ST_OTP_GET, &st, __func__)) != 0)
        goto out;
    if ((rc = bind_text(st, 1, key)) != SQLITE_OK) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        r = AMT_ERR_NOT_FOUND;
    } else if (rc != SQLITE_ROW) {
        r = db_fail(db, __func__, rc);
    } else if ((r = col_copy(st, 0, hex, SITE_OTP_HASH_SIZE)) == 0 && created != NULL) {
        *created = (time_t)sqlite3_column_int64(st, 1);
    }
out:
    stmt_done(st);
    db_unlock(db);
    return r;
}

int
site_db_otp_hash_clear(struct site_db *db, const char *uuid)
{
    return change_by_uuid(db, ST_OTP_CLEAR, uuid, __func__);
}

/* ---- certificates ---- */

/* A certificate's facts, read once so that the row always agrees with its PEM. */
struct cert_facts {
    char *serial;
    char *issuer;
    char *subject;
    char *pem;
    int64_t not_after;
};

static void
cert_facts_free(struct cert_facts *f)
{
    OPENSSL_free(f->serial);
    free(f->issuer);
    free(f->subject);
    free(f->pem);
}

static int
bio_take_string(BIO *bio, char **out)
{
    char *data = NULL, *s;
    long len = BIO_get_mem_data(bio, &data);

    if (len <= 0)
        return AMT_ERR_CRYPTO;
    if ((s = malloc((size_t)len + 1)) == NULL)
        return AMT_ERR_ALLOC;
    memcpy(s, data, (size_t)len);
    s[len] = '\0';
    *out = s;
    return 0;
}

static int
name_text(const X509_NAME *name, char **out)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int r;

    if (bio == NULL)
        return AMT_ERR_ALLOC;
    /* RFC 2253 with bytes over 0x7f escaped: ASCII, as the JSON output wants */
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0)
        r = AMT_ERR_CRYPTO;
    else if (BIO_pending(bio) == 0) /* an empty name, as a SAN-only subject has */
        r = (*out = strdup("")) != NULL ? 0 : AMT_ERR_ALLOC;
    else
        r = bio_take_string(bio, out);
    BIO_free(bio);
    return r;
}

static int
cert_facts_read(const char *pem, struct cert_facts *f)
{
    BIO *in = NULL, *out = NULL;
    X509 *cert = NULL, *extra = NULL;
    BIGNUM *bn = NULL;
    struct tm tm;
    size_t len;
    int r = AMT_ERR_CERT_LOAD;

    memset(f, 0, sizeof(*f));
    len = strnlen(pem, SITE_CERT_PEM_MAX + 1);
    if (len > SITE_CERT_PEM_MAX)
        return AMT_ERR_TOO_LARGE;
    if ((in = BIO_new_mem_buf(pem, (int)len)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    if ((cert = PEM_read_bio_X509(in, NULL, NULL, NULL)) == NULL)
        goto out;
    /* one certificate: a chain would record the CA's serial under the device */
    if ((extra = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL)
        goto out;
    ERR_clear_error();
    if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL)) == NULL ||
        (f->serial = BN_bn2hex(bn)) == NULL) {
        r = AMT_ERR_CRYPTO;
        goto out;
    }
    ascii_lower(f->serial);
    if ((r = name_text(X509_get_issuer_name(cert), &f->issuer)) != 0 ||
        (r = name_text(X509_get_subject_name(cert), &f->subject)) != 0)
        goto out;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) {
        r = AMT_ERR_CERT_LOAD;
        goto out;
    }
    f->not_after = (int64_t)timegm(&tm);
    /* written again from the parsed certificate: nothing else of the input is kept */
    if ((out = BIO_new(BIO_s_mem())) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    if (PEM_write_bio_X509(out, cert) != 1) {
        r = AMT_ERR_CRYPTO;
        goto out;
    }
    r = bio_take_string(out, &f->pem);
out:
    if (r != 0)
        cert_facts_free(f);
    BN_free(bn);
    X509_free(cert);
    X509_free(extra);
    BIO_free(in);
    BIO_free(out);
    return r;
}

int
site_db_cert_record(struct site_db *db, const char *uuid, const char *cert_pem)
{
    struct cert_facts f = {0};
    char key[UUID_TEXT_SIZE];
    sqlite3_stmt *st = NULL;
    int r, rc;

    if (db == NULL || cert_pem == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = canon_uuid(uuid, key)) != 0 || (r = cert_facts_read(cert_pem, &f)) != 0)
        return r;
    db_lock(db);
    if ((r = stmt_get(db, ST_CERT_INSERT, &st, __func__)) != 0)
        goto out;
    if ((rc = bind_text(st, 1, key)) != SQLITE_OK ||
        (rc = bind_text(st, 2, f.serial)) != SQLITE_OK ||
        (rc = bind_text(st, 3, f.issuer)) != SQLITE_OK ||
        (rc = bind_text(st, 4, f.subject)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(st, 5, f.not_after)) != SQLITE_OK ||
        (rc = bind_text(st, 6, f.pem)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(st, 7, now_seconds())) != SQLITE_OK) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        r = 0;
    else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        r = AMT_ERR_NOT_FOUND;
    else if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        r = AMT_ERR_SITE_DUPLICATE;
    else
        r = db_fail(db, __func__, rc);
out:
    stmt_done(st);
    db_unlock(db);
    cert_facts_free(&f);
    return r;
}

/* ---- the status document ---- */

struct cert_row {
    char *serial;
    char *issuer;
    char *subject;
    int64_t not_after;
};

/* What one status document needs, read under the lock in one go. */
struct device_view {
    struct site_device dev;
    struct site_credential cred[2];
    bool has_otp;
    struct cert_row *certs;
    size_t n_certs;
};

static void
device_view_free(struct device_view *v)
{
    for (size_t i = 0; i < v->n_certs; i++) {
        free(v->certs[i].serial);
        free(v->certs[i].issuer);
        free(v->certs[i].subject);
    }
    free(v->certs);
    site_credential_wipe(&v->cred[0]);
    site_credential_wipe(&v->cred[1]);
}

static int
read_certs_locked(struct site_db *db, const char *uuid, struct device_view *v)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int r = 0, rc;

    if ((r = stmt_get(db, ST_CERT_LIST, &st, __func__)) != 0)
        return r;
    if ((rc = bind_text(st, 1, uuid)) != SQLITE_OK) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct cert_row *c;
        const char *serial = (const char *)sqlite3_column_text(st, 0);
        const char *issuer = (const char *)sqlite3_column_text(st, 1);
        const char *subject = (const char *)sqlite3_column_text(st, 2);

        if (v->n_certs == cap) {
            struct cert_row *grown;

            cap = cap != 0 ? cap * 2 : 4;
            if ((grown = realloc(v->certs, cap * sizeof(*grown))) == NULL) {
                r = AMT_ERR_ALLOC;
                goto out;
            }
            v->certs = grown;
        }
        c = &v->certs[v->n_certs];
        memset(c, 0, sizeof(*c));
        v->n_certs++;
        if (serial == NULL || issuer == NULL || subject == NULL ||
            (c->serial = strdup(serial)) == NULL ||
            (c->issuer = strdup(issuer)) == NULL ||
            (c->subject = strdup(subject)) == NULL) {
            r = AMT_ERR_ALLOC;
            goto out;
        }
        c->not_after = sqlite3_column_int64(st, 3);
    }
    if (rc != SQLITE_DONE)
        r = db_fail(db, __func__, rc);
out:
    stmt_done(st);
    return r;
}

static int
device_view_read(struct site_db *db, const char *uuid, struct device_view *v)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    if ((r = device_get_locked(db, ST_DEVICE_GET, uuid, &v->dev)) != 0 ||
        (r = credential_get_locked(db, uuid, SITE_SECRET_ADMIN, &v->cred[0])) != 0 ||
        (r = credential_get_locked(db, uuid, SITE_SECRET_MEBX, &v->cred[1])) != 0 ||
        (r = read_certs_locked(db, uuid, v)) != 0)
        return r;
    if ((r = stmt_get(db, ST_OTP_GET, &st, __func__)) != 0)
        return r;
    if ((rc = bind_text(st, 1, uuid)) != SQLITE_OK)
        r = db_fail(db, __func__, rc);
    else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
        v->has_otp = true;
    else if (rc != SQLITE_DONE)
        r = db_fail(db, __func__, rc);
    stmt_done(st);
    return r;
}

static void
write_time(struct json_writer *w, const char *key, time_t t)
{
    char buf[32];
    struct tm tm;

    json_write_key(w, key);
    if (t == 0 || gmtime_r(&t, &tm) == NULL ||
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        json_write_null(w);
        return;
    }
    json_write_string(w, buf);
}

/* A string member, or null for the empty string (a value not known yet). */
static void
write_opt(struct json_writer *w, const char *key, const char *value)
{
    json_write_key(w, key);
    if (value == NULL || value[0] == '\0')
        json_write_null(w);
    else
        json_write_string(w, value);
}

static void
write_credential(struct json_writer *w, const char *key, const struct site_credential *c,
                 bool show_secrets)
{
    json_write_key(w, key);
    json_write_object_begin(w);
    write_opt(w, "user", c->has_current ? c->user : NULL);
    json_write_key(w, "password_set");
    json_write_bool(w, c->has_current);
    write_time(w, "confirmed", c->has_current ? c->confirmed : 0);
    json_write_key(w, "pending");
    json_write_bool(w, c->has_pending);
    write_time(w, "pending_since", c->has_pending ? c->pending_since : 0);
    if (show_secrets) {
        write_opt(w, "password", c->has_current ? c->password : NULL);
        write_opt(w, "pending_user", c->has_pending ? c->pending_user : NULL);
        write_opt(w, "pending_password", c->has_pending ? c->pending_password : NULL);
    }
    json_write_object_end(w);
}

static void
write_device(struct json_writer *w, const struct device_view *v, bool show_secrets)
{
    const struct site_device *d = &v->dev;
    char fqdn[SITE_HOST_MAX + 1 + SITE_DOMAIN_MAX + 1];

    snprintf(fqdn, sizeof(fqdn), "%s.%s", d->host, d->domain);
    json_write_object_begin(w);
    write_opt(w, "uuid", d->uuid);
    write_opt(w, "host", d->host);
    write_opt(w, "domain", d->domain);
    write_opt(w, "fqdn", fqdn);
    write_opt(w, "ou", d->ou);
    json_write_key(w, "inband");
    json_write_bool(w, d->inband);
    write_opt(w, "amt_version", d->amt_version);
    write_opt(w, "state", site_state_name(d->state));
    write_opt(w, "last_step", d->last_step);
    write_opt(w, "last_error", d->last_error);
    write_time(w, "created", d->created);
    write_time(w, "updated", d->updated);
    write_credential(w, "admin", &v->cred[0], show_secrets);
    write_credential(w, "mebx", &v->cred[1], show_secrets);
    json_write_key(w, "otp_hash_set");
    json_write_bool(w, v->has_otp);
    json_write_key(w, "certificates");
    json_write_array_begin(w);
    for (size_t i = 0; i < v->n_certs; i++) {
        json_write_object_begin(w);
        write_opt(w, "serial", v->certs[i].serial);
        write_opt(w, "subject", v->certs[i].subject);
        write_opt(w, "issuer", v->certs[i].issuer);
        write_time(w, "not_after", (time_t)v->certs[i].not_after);
        json_write_object_end(w);
    }
    json_write_array_end(w);
    json_write_object_end(w);
}

int
site_db_device_json(struct site_db *db, const char *uuid, bool show_secrets, char **out)
{
    struct device_view v;
    struct json_writer *w = NULL;
    char key[UUID_TEXT_SIZE];
    const char *text;
    size_t len;
    char *copy;
    int r;

    if (out != NULL)
        *out = NULL;
    if (db == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = canon_uuid(uuid, key)) != 0)
        return r;
    memset(&v, 0, sizeof(v));
    db_lock(db);
    r = device_view_read(db, key, &v);
    db_unlock(db);
    if (r != 0)
        goto out;
    if ((r = json_writer_new(&w)) != 0)
        goto out;
    write_device(w, &v, show_secrets);
    if ((r = json_writer_result(w, &text, &len)) != 0)
        goto out;
    if ((copy = malloc(len + 1)) == NULL) {
        r = AMT_ERR_ALLOC;
        goto out;
    }
    memcpy(copy, text, len + 1);
    *out = copy;
    r = 0;
out:
    if (w != NULL && json_writer_result(w, &text, &len) == 0)
        /* the writer's buffer is heap memory it owns; it held the passwords too */
        OPENSSL_cleanse((char *)(uintptr_t)text, len);
    json_writer_free(w);
    device_view_free(&v);
    return r;
}

void
site_db_text_free(char *text)
{
    if (text == NULL)
        return;
    OPENSSL_cleanse(text, strlen(text));
    free(text);
}

/* ---- the embedded directory store ---- */

int
site_db_dir_container_add(struct site_db *db, const char *dn)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    if (db == NULL || dn == NULL || dn[0] == '\0' || strlen(dn) > DIR_DN_MAX)
        return AMT_ERR_INVALID_ARGUMENT;
    db_lock(db);
    if ((r = stmt_get(db, ST_DIR_CONTAINER_ADD, &st, __func__)) != 0)
        goto out;
    if ((rc = bind_text(st, 1, dn)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(st, 2, now_seconds())) != SQLITE_OK ||
        (rc = sqlite3_step(st)) != SQLITE_DONE)
        r = db_fail(db, __func__, rc);
out:
    stmt_done(st);
    db_unlock(db);
    return r;
}

/* Whether a one-column key query finds a row. */
static int
row_exists_locked(struct site_db *db, enum stmt id, const char *key, bool *exists,
                  const char *func)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    *exists = false;
    if ((r = stmt_get(db, id, &st, func)) != 0)
        return r;
    if ((rc = bind_text(st, 1, key)) != SQLITE_OK) {
        r = db_fail(db, func, rc);
    } else if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *exists = true;
    } else if (rc != SQLITE_DONE) {
        r = db_fail(db, func, rc);
    }
    stmt_done(st);
    return r;
}

int
site_db_dir_container_exists(struct site_db *db, const char *dn, bool *exists)
{
    int r;

    if (db == NULL || dn == NULL || exists == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    db_lock(db);
    r = row_exists_locked(db, ST_DIR_CONTAINER_GET, dn, exists, __func__);
    db_unlock(db);
    return r;
}

static int
read_spns_locked(struct site_db *db, struct dir_account *a)
{
    sqlite3_stmt *st = NULL;
    int r = 0, rc;

    a->n_spns = 0;
    if ((r = stmt_get(db, ST_DIR_SPNS_OF, &st, __func__)) != 0)
        return r;
    if ((rc = bind_text(st, 1, a->dn)) != SQLITE_OK) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (a->n_spns == DIR_ACCOUNT_SPNS_MAX) {
            r = AMT_ERR_SITE_DB_CORRUPT;
            goto out;
        }
        if ((r = col_copy(st, 0, a->spns[a->n_spns], sizeof(a->spns[0]))) != 0)
            goto out;
        a->n_spns++;
    }
    if (rc != SQLITE_DONE)
        r = db_fail(db, __func__, rc);
out:
    stmt_done(st);
    return r;
}

static int
account_get_locked(struct site_db *db, enum stmt id, const char *k1, const char *k2,
                   struct dir_account *out)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    memset(out, 0, sizeof(*out));
    if ((r = stmt_get(db, id, &st, __func__)) != 0)
        return r;
    if ((rc = bind_text(st, 1, k1)) != SQLITE_OK ||
        (k2 != NULL && (rc = bind_text(st, 2, k2)) != SQLITE_OK)) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        r = AMT_ERR_NOT_FOUND;
        goto out;
    }
    if (rc != SQLITE_ROW) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    if ((r = col_copy(st, 0, out->dn, sizeof(out->dn))) != 0 ||
        (r = col_copy(st, 1, out->name, sizeof(out->name))) != 0 ||
        (r = col_copy(st, 2, out->domain, sizeof(out->domain))) != 0 ||
        (r = col_copy(st, 3, out->container, sizeof(out->container))) != 0 ||
        (r = col_copy(st, 4, out->uuid, sizeof(out->uuid))) != 0)
        goto out;
    stmt_done(st);
    st = NULL;
    r = read_spns_locked(db, out);
out:
    stmt_done(st);
    return r;
}

int
site_db_dir_account_by_uuid(struct site_db *db, const char *uuid, struct dir_account *out)
{
    char key[UUID_TEXT_SIZE];
    int r;

    if (db == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = canon_uuid(uuid, key)) != 0)
        return r;
    db_lock(db);
    r = account_get_locked(db, ST_DIR_ACCOUNT_BY_UUID, key, NULL, out);
    db_unlock(db);
    return r;
}

int
site_db_dir_account_by_name(struct site_db *db, const char *name, const char *domain,
                            struct dir_account *out)
{
    int r;

    if (db == NULL || name == NULL || domain == NULL || out == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    db_lock(db);
    r = account_get_locked(db, ST_DIR_ACCOUNT_BY_NAME, name, domain, out);
    db_unlock(db);
    return r;
}

static int
account_put_locked(struct site_db *db, const char *dn, const char *name,
                   const char *domain, const char *container, const char *uuid)
{
    struct dir_account *cur = NULL;
    sqlite3_stmt *st = NULL;
    enum stmt id = ST_DIR_ACCOUNT_INSERT;
    int r, rc;

    if ((cur = malloc(sizeof(*cur))) == NULL)
        return AMT_ERR_ALLOC;
    if ((r = tx_begin(db, __func__)) != 0)
        goto out;
    r = account_get_locked(db, ST_DIR_ACCOUNT_BY_NAME, name, domain, cur);
    if (r == 0 && strcmp(cur->uuid, uuid) != 0) {
        r = AMT_ERR_DIR_NAME_TAKEN;
        goto out;
    }
    if (r != 0 && r != AMT_ERR_NOT_FOUND)
        goto out;
    r = account_get_locked(db, ST_DIR_ACCOUNT_BY_UUID, uuid, NULL, cur);
    if (r == 0)
        id = ST_DIR_ACCOUNT_UPDATE;
    else if (r != AMT_ERR_NOT_FOUND)
        goto out;
    if ((r = stmt_get(db, id, &st, __func__)) != 0)
        goto out;
    if ((rc = bind_text(st, 1, dn)) != SQLITE_OK ||
        (rc = bind_text(st, 2, name)) != SQLITE_OK ||
        (rc = bind_text(st, 3, domain)) != SQLITE_OK ||
        (rc = bind_text(st, 4, container)) != SQLITE_OK ||
        (rc = bind_text(st, 5, uuid)) != SQLITE_OK ||
        (rc = sqlite3_bind_int64(st, 6, now_seconds())) != SQLITE_OK) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
        r = AMT_ERR_DIR_NO_CONTAINER;
        goto out;
    }
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
        r = AMT_ERR_DIR_NAME_TAKEN;
        goto out;
    }
    if (rc != SQLITE_DONE) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    stmt_done(st);
    st = NULL;
    r = tx_commit(db, __func__);
out:
    stmt_done(st);
    tx_rollback(db);
    free(cur);
    return r;
}

int
site_db_dir_account_put(struct site_db *db, const char *dn, const char *name,
                        const char *domain, const char *container, const char *uuid)
{
    char key[UUID_TEXT_SIZE];
    int r;

    if (db == NULL || dn == NULL || name == NULL || domain == NULL || container == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    if (strlen(dn) > DIR_DN_MAX || strlen(container) > DIR_DN_MAX ||
        strlen(name) > NS_LABEL_MAX || strlen(domain) > NS_NAME_MAX)
        return AMT_ERR_INVALID_ARGUMENT;
    if ((r = canon_uuid(uuid, key)) != 0)
        return r;
    db_lock(db);
    r = account_put_locked(db, dn, name, domain, container, key);
    db_unlock(db);
    return r;
}

static int
spns_set_locked(struct site_db *db, const char *dn, const char *const *spns, size_t n,
                char *taken, size_t takenlen)
{
    char owner[DIR_DN_MAX + 1];
    sqlite3_stmt *st = NULL;
    bool exists;
    int r, rc;

    if ((r = tx_begin(db, __func__)) != 0)
        return r;
    if ((r = row_exists_locked(db, ST_DIR_ACCOUNT_EXISTS, dn, &exists, __func__)) != 0)
        goto out;
    if (!exists) {
        r = AMT_ERR_NOT_FOUND;
        goto out;
    }
    if ((r = stmt_get(db, ST_DIR_SPNS_CLEAR, &st, __func__)) != 0)
        goto out;
    if ((rc = bind_text(st, 1, dn)) != SQLITE_OK ||
        (rc = sqlite3_step(st)) != SQLITE_DONE) {
        r = db_fail(db, __func__, rc);
        goto out;
    }
    stmt_done(st);
    st = NULL;
    for (size_t i = 0; i < n; i++) {
        /* whose is it? ours already when the list names it twice */
        if ((r = stmt_get(db, ST_DIR_SPN_OWNER, &st, __func__)) != 0)
            goto out;
        if ((rc = bind_text(st, 1, spns[i])) != SQLITE_OK) {
            r = db_fail(db, __func__, rc);
            goto out;
        }
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            if ((r = col_copy(st, 0, owner, sizeof(owner))) != 0)
                goto out;
            if (sqlite3_stricmp(owner, dn) == 0) {
                stmt_done(st);
                st = NULL;
                continue;
            }
            if (taken != NULL && takenlen > 0)
                snprintf(taken, takenlen, "%s belongs to %s", spns[i], owner);
            r = AMT_ERR_DIR_SPN_TAKEN;
            goto out;
        }
        if (rc != SQLITE_DONE) {
            r = db_fail(db, __func__, rc);
            goto out;
        }
        stmt_done(st);
        if ((r = stmt_get(db, ST_DIR_SPN_INSERT, &st, __func__)) != 0)
            goto out;
        if ((rc = bind_text(st, 1, spns[i])) != SQLITE_OK ||
            (rc = bind_text(st, 2, dn)) != SQLITE_OK ||
            (rc = sqlite3_step(st)) != SQLITE_DONE) {
            r = db_fail(db, __func__, rc);
            goto out;
        }
        stmt_done(st);
        st = NULL;
    }
    r = tx_commit(db, __func__);
out:
    stmt_done(st);
    tx_rollback(db);
    return r;
}

int
site_db_dir_spns_set(struct site_db *db, const char *account_dn, const char *const *spns,
                     size_t n, char *taken, size_t takenlen)
{
    size_t len;
    int r;

    if (taken != NULL && takenlen > 0)
        taken[0] = '\0';
    if (db == NULL || account_dn == NULL || (spns == NULL && n > 0) ||
        n > DIR_ACCOUNT_SPNS_MAX)
        return AMT_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++)
        if (spns[i] == NULL || !printable_ascii(spns[i], DIR_SPN_MAX, &len) || len == 0)
            return AMT_ERR_INVALID_ARGUMENT;
    db_lock(db);
    r = spns_set_locked(db, account_dn, spns, n, taken, takenlen);
    db_unlock(db);
    return r;
}

int
site_db_dir_account_delete(struct site_db *db, const char *dn)
{
    sqlite3_stmt *st = NULL;
    int r, rc;

    if (db == NULL || dn == NULL)
        return AMT_ERR_INVALID_ARGUMENT;
    db_lock(db);
    if ((r = stmt_get(db, ST_DIR_ACCOUNT_DELETE, &st, __func__)) != 0)
        goto out;
    if ((rc = bind_text(st, 1, dn)) != SQLITE_OK)
        r = db_fail(db, __func__, rc);
    else
        r = step_one_change(db, st, __func__);
out:
    stmt_done(st);
    db_unlock(db);
    return r;
}
