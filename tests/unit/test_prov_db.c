/*
 * The site database: a file only its owner can read, a schema that knows its
 * version, imports that are whole or nothing, passwords that are never lost (pending
 * before current, and still there after a crash), and a status document that shows
 * secrets only when asked.
 */
#include "db.h"
#include "err.h"
#include "json.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#define UUID_A "4c4c4544-0042-3510-8052-b3c04f4d3101"
#define UUID_B "4c4c4544-0042-3510-8052-b3c04f4d3102"
#define UUID_C "4c4c4544-0042-3510-8052-b3c04f4d3103"
#define UUID_NONE "4c4c4544-0042-3510-8052-b3c04f4d31ff"
/* Passwords that meet the AMT policy, and that no message may ever repeat. */
#define ADMIN_PW "Adm1n!Secret#42"
#define ADMIN_PW2 "N3w&Better$Pass"
#define MEBX_PW "M3bx*Hidden%77"

static char tmpdir[64];
static char dbpath[128];

static int
suite_init(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_prov_db.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    snprintf(dbpath, sizeof(dbpath), "%s/site.db", tmpdir);
    return 0;
}

static void
remove_db(const char *path)
{
    char p[256];

    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

static int
suite_cleanup(void)
{
    remove_db(dbpath);
    rmdir(tmpdir);
    return 0;
}

/* A fresh database for each test. */
static struct site_db *
fresh_db(void)
{
    struct site_db *db = NULL;
    char err[256];

    remove_db(dbpath);
    if (site_db_open(dbpath, &db, err, sizeof(err)) != 0) {
        fprintf(stderr, "site_db_open: %s\n", err);
        return NULL;
    }
    return db;
}

static struct site_db *
reopen(struct site_db *db)
{
    char err[256];

    site_db_close(db);
    db = NULL;
    if (site_db_open(dbpath, &db, err, sizeof(err)) != 0) {
        fprintf(stderr, "site_db_open: %s\n", err);
        return NULL;
    }
    return db;
}

static const struct site_import_row three_rows[] = {
    {UUID_A, "pc1", "contoso.com", "OU=AMT", false},
    {UUID_B, "PC2", "Contoso.COM.", NULL, false},
    {UUID_C, "pc3", "sales.contoso.com", "ou=AMT,DC=sales,DC=contoso,DC=com", true},
};

static int
count_cb(void *arg, const struct site_device *dev)
{
    (*(size_t *)arg)++;
    return 0;
}

static size_t
device_count(struct site_db *db)
{
    size_t n = 0;

    CU_ASSERT_EQUAL(site_db_device_list(db, count_cb, &n), 0);
    return n;
}

/* Runs raw SQL on the file, as an outside program or an attacker with the file would. */
static int
raw_sql(const char *sql)
{
    sqlite3 *s = NULL;
    int rc;

    if (sqlite3_open(dbpath, &s) != SQLITE_OK) {
        sqlite3_close(s);
        return -1;
    }
    rc = sqlite3_exec(s, sql, NULL, NULL, NULL);
    sqlite3_close(s);
    return rc == SQLITE_OK ? 0 : -1;
}

/* ---- the file ---- */

static void
test_created_owner_only(void)
{
    struct site_db *db;
    struct stat st;
    char wal[160];
    mode_t old = umask(0);

    db = fresh_db();
    umask(old);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    CU_ASSERT_EQUAL_FATAL(stat(dbpath, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
    /* the WAL holds the same secrets before a checkpoint: same mode */
    CU_ASSERT_EQUAL(site_db_import_devices(db, three_rows, 1), 0);
    snprintf(wal, sizeof(wal), "%s-wal", dbpath);
    CU_ASSERT_EQUAL_FATAL(stat(wal, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
    site_db_close(db);
}

static void
test_refuses_readable_file(void)
{
    struct site_db *db = NULL;
    char err[256] = "", link[160];
    int fd;

    remove_db(dbpath);
    fd = open(dbpath, O_CREAT | O_WRONLY, 0600);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    CU_ASSERT_EQUAL_FATAL(chmod(dbpath, 0644), 0);
    CU_ASSERT_EQUAL(site_db_open(dbpath, &db, err, sizeof(err)), AMT_ERR_SITE_DB_MODE);
    CU_ASSERT_PTR_NULL(db);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "chmod 600"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, dbpath));

    /* a symbolic link could point the secrets anywhere */
    CU_ASSERT_EQUAL(chmod(dbpath, 0600), 0);
    snprintf(link, sizeof(link), "%s/link.db", tmpdir);
    unlink(link);
    CU_ASSERT_EQUAL_FATAL(symlink(dbpath, link), 0);
    CU_ASSERT_EQUAL(site_db_open(link, &db, err, sizeof(err)), AMT_ERR_SITE_DB_MODE);
    unlink(link);

    /* a directory is no database */
    CU_ASSERT_EQUAL(site_db_open(tmpdir, &db, err, sizeof(err)), AMT_ERR_SITE_DB_MODE);

    /* nor is a missing folder */
    CU_ASSERT_EQUAL(site_db_open("/nonexistent/dir/site.db", &db, err, sizeof(err)),
                    AMT_ERR_SYSTEM);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/dir/site.db"));
    CU_ASSERT_EQUAL(site_db_open(NULL, &db, err, sizeof(err)), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_db_open("", &db, err, sizeof(err)), AMT_ERR_INVALID_ARGUMENT);
    remove_db(dbpath);
}

static void
test_reopen_keeps_data_and_version(void)
{
    struct site_db *db = fresh_db();
    struct site_device dev;
    int version = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    CU_ASSERT_EQUAL(site_db_schema_version(db, &version), 0);
    CU_ASSERT_EQUAL(version, SITE_DB_SCHEMA_VERSION);
    CU_ASSERT_EQUAL(site_db_import_devices(db, three_rows, 3), 0);
    db = reopen(db);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    CU_ASSERT_EQUAL(site_db_schema_version(db, &version), 0);
    CU_ASSERT_EQUAL(version, SITE_DB_SCHEMA_VERSION);
    CU_ASSERT_EQUAL(device_count(db), 3);
    CU_ASSERT_EQUAL(site_db_device_get(db, UUID_A, &dev), 0);
    CU_ASSERT_STRING_EQUAL(dev.host, "pc1");
    site_db_close(db);
}

static void
test_schema_version_checked(void)
{
    struct site_db *db = fresh_db();
    char err[256] = "";
    int fd;

    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    site_db_close(db);
    db = NULL;
    CU_ASSERT_EQUAL_FATAL(raw_sql("UPDATE schema_version SET version = 99"), 0);
    CU_ASSERT_EQUAL(site_db_open(dbpath, &db, err, sizeof(err)), AMT_ERR_SITE_DB_VERSION);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "99"));

    /* another program's SQLite file is not taken over */
    remove_db(dbpath);
    fd = open(dbpath, O_CREAT | O_WRONLY, 0600);
    close(fd);
    CU_ASSERT_EQUAL_FATAL(raw_sql("CREATE TABLE foreign_data (x INTEGER)"), 0);
    CU_ASSERT_EQUAL(site_db_open(dbpath, &db, err, sizeof(err)), AMT_ERR_SITE_DB_CORRUPT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a site database"));

    /* nor a text file */
    remove_db(dbpath);
    fd = open(dbpath, O_CREAT | O_WRONLY, 0600);
    CU_ASSERT_EQUAL(write(fd, "not a database, just some text\n", 31), 31);
    close(fd);
    CU_ASSERT_EQUAL(site_db_open(dbpath, &db, err, sizeof(err)), AMT_ERR_SITE_DB_CORRUPT);

    /* a schema version table that lost its row */
    db = fresh_db();
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    site_db_close(db);
    db = NULL;
    CU_ASSERT_EQUAL_FATAL(raw_sql("DELETE FROM schema_version"), 0);
    CU_ASSERT_EQUAL(site_db_open(dbpath, &db, err, sizeof(err)), AMT_ERR_SITE_DB_CORRUPT);
    remove_db(dbpath);
}

/* ---- devices ---- */

static void
test_import_all_or_nothing(void)
{
    struct site_db *db = fresh_db();
    const struct site_import_row clash[] = {
        three_rows[0],
        three_rows[1],
        {UUID_C, "Pc1", "sales.contoso.com", NULL, false}, /* pc1 is UUID_A's */
    };
    const struct site_import_row bad_middle[] = {
        three_rows[0],
        {"not-a-uuid", "pc9", "contoso.com", NULL, false},
        three_rows[2],
    };
    const struct site_import_row bad_ou[] = {
        {UUID_A, "pc1", "contoso.com", "OU=AMT,,", false},
    };

    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    CU_ASSERT_EQUAL(site_db_import_devices(db, clash, 3), AMT_ERR_SITE_DUPLICATE);
    CU_ASSERT_EQUAL(device_count(db), 0);
    CU_ASSERT_EQUAL(site_db_import_devices(db, bad_middle, 3), AMT_ERR_UUID_FORMAT);
    CU_ASSERT_EQUAL(device_count(db), 0);
    CU_ASSERT_EQUAL(site_db_import_devices(db, bad_ou, 1), AMT_ERR_DIR_DN);
    CU_ASSERT_EQUAL(device_count(db), 0);
    /* and after a reopen, still nothing: the transaction was rolled back */
    db = reopen(db);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    CU_ASSERT_EQUAL(device_count(db), 0);
    CU_ASSERT_EQUAL(site_db_import_devices(db, three_rows, 3), 0);
    CU_ASSERT_EQUAL(device_count(db), 3);
    CU_ASSERT_EQUAL(site_db_import_devices(db, NULL, 0), 0);
    CU_ASSERT_EQUAL(site_db_import_devices(NULL, three_rows, 1),
                    AMT_ERR_INVALID_ARGUMENT);
    site_db_close(db);
}

static void
test_device_fields(void)
{
    struct site_db *db = fresh_db();
    struct site_device dev;

    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    CU_ASSERT_EQUAL_FATAL(site_db_import_devices(db, three_rows, 3), 0);
    /* names are kept in lower case, the container as its relative path */
    CU_ASSERT_EQUAL(site_db_device_get(db, "4C4C4544-0042-3510-8052-B3C04F4D3102", &dev),
                    0);
    CU_ASSERT_STRING_EQUAL(dev.uuid, UUID_B);
    CU_ASSERT_STRING_EQUAL(dev.host, "pc2");
    CU_ASSERT_STRING_EQUAL(dev.domain, "contoso.com");
    CU_ASSERT_STRING_EQUAL(dev.ou, "");
    CU_ASSERT_EQUAL(dev.state, SITE_STATE_IMPORTED);
    CU_ASSERT_FALSE(dev.inband);
    CU_ASSERT(dev.created > 0 && dev.updated == dev.created);
    CU_ASSERT_EQUAL(site_db_device_get(db, UUID_C, &dev), 0);
    CU_ASSERT_STRING_EQUAL(dev.ou, "OU=AMT");
    CU_ASSERT_TRUE(dev.inband);

    CU_ASSERT_EQUAL(site_db_device_find_host(db, "PC3", &dev), 0);
    CU_ASSERT_STRING_EQUAL(dev.uuid, UUID_C);
    CU_ASSERT_EQUAL(site_db_device_find_host(db, "pc404", &dev), AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(site_db_device_find_host(db, "pc.3", &dev), AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(site_db_device_get(db, UUID_NONE, &dev), AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(site_db_device_get(db, "{" UUID_A "}", &dev), AMT_ERR_UUID_FORMAT);

    CU_ASSERT_EQUAL(site_db_set_amt_version(db, UUID_A, "6.2.10"), 0);
    CU_ASSERT_EQUAL(site_db_set_amt_version(db, UUID_A, "3.2"), 0);
    CU_ASSERT_EQUAL(site_db_device_get(db, UUID_A, &dev), 0);
    CU_ASSERT_STRING_EQUAL(dev.amt_version, "3.2");
    CU_ASSERT_EQUAL(site_db_set_amt_version(db, UUID_A, "6"), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_db_set_amt_version(db, UUID_A, "6.256"),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_db_set_amt_version(db, UUID_A, "6.02"),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_db_set_amt_version(db, UUID_A, "6.2.1.1"),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_db_set_amt_version(db, UUID_A, "6.x"), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_db_set_amt_version(db, UUID_NONE, "6.2"), AMT_ERR_NOT_FOUND);
    site_db_close(db);
}

static void
test_state(void)
{
    struct site_db *db = fresh_db();
    struct site_device dev;
    enum site_state s;

    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    CU_ASSERT_EQUAL_FATAL(site_db_import_devices(db, three_rows, 1), 0);
    CU_ASSERT_EQUAL(
        site_db_set_state(db, UUID_A, SITE_STATE_FAILED, "OOB-5", "digest-exhausted"), 0);
    CU_ASSERT_EQUAL(site_db_device_get(db, UUID_A, &dev), 0);
    CU_ASSERT_EQUAL(dev.state, SITE_STATE_FAILED);
    CU_ASSERT_STRING_EQUAL(dev.last_step, "OOB-5");
    CU_ASSERT_STRING_EQUAL(dev.last_error, "digest-exhausted");
    CU_ASSERT_EQUAL(site_db_set_state(db, UUID_A, SITE_STATE_PROVISIONED, "OOB-9", NULL),
                    0);
    CU_ASSERT_EQUAL(site_db_device_get(db, UUID_A, &dev), 0);
    CU_ASSERT_EQUAL(dev.state, SITE_STATE_PROVISIONED);
    CU_ASSERT_STRING_EQUAL(dev.last_error, "");

    CU_ASSERT_EQUAL(site_db_set_state(db, UUID_A, SITE_STATE_FAILED, "not an id", NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_db_set_state(db, UUID_A, SITE_STATE_FAILED, NULL, "Not Kebab"),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_db_set_state(db, UUID_A, (enum site_state)9, NULL, NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_db_set_state(db, UUID_NONE, SITE_STATE_FAILED, NULL, NULL),
                    AMT_ERR_NOT_FOUND);

    CU_ASSERT_STRING_EQUAL(site_state_name(SITE_STATE_IN_PROGRESS), "in-progress");
    CU_ASSERT_PTR_NULL(site_state_name((enum site_state)7));
    CU_ASSERT_EQUAL(site_state_parse("provisioned", &s), 0);
    CU_ASSERT_EQUAL(s, SITE_STATE_PROVISIONED);
    CU_ASSERT_EQUAL(site_state_parse("done", &s), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_STRING_EQUAL(site_secret_kind_name(SITE_SECRET_MEBX), "mebx");
    CU_ASSERT_PTR_NULL(site_secret_kind_name((enum site_secret_kind)5));
    site_db_close(db);
}

/* Re-importing: unchanged is fine, renaming only before provisioning starts. */
static void
test_reimport(void)
{
    struct site_db *db = fresh_db();
    const struct site_import_row renamed[] = {
        {UUID_A, "pc1new", "contoso.com", NULL, false}};
    const struct site_import_row agent[] = {
        {UUID_A, "pc1new", "contoso.com", NULL, true}};
    const struct site_import_row renamed2[] = {
        {UUID_A, "pc1b", "contoso.com", NULL, false}};
    struct site_device dev;

    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    CU_ASSERT_EQUAL_FATAL(site_db_import_devices(db, three_rows, 3), 0);
    CU_ASSERT_EQUAL(site_db_import_devices(db, three_rows, 3), 0);
    CU_ASSERT_EQUAL(device_count(db), 3);
    CU_ASSERT_EQUAL(site_db_import_devices(db, renamed, 1), 0);
    CU_ASSERT_EQUAL(site_db_device_get(db, UUID_A, &dev), 0);
    CU_ASSERT_STRING_EQUAL(dev.host, "pc1new");
    CU_ASSERT_STRING_EQUAL(dev.ou, "");
    CU_ASSERT_EQUAL(
        site_db_set_state(db, UUID_A, SITE_STATE_IN_PROGRESS, "OOB-7.2", NULL), 0);
    CU_ASSERT_EQUAL(site_db_import_devices(db, renamed2, 1), AMT_ERR_SITE_DEVICE_ACTIVE);
    /* the same names again are harmless, and an agent is remembered */
    CU_ASSERT_EQUAL(site_db_import_devices(db, agent, 1), 0);
    CU_ASSERT_EQUAL(site_db_import_devices(db, renamed, 1), 0);
    CU_ASSERT_EQUAL(site_db_device_get(db, UUID_A, &dev), 0);
    CU_ASSERT_STRING_EQUAL(dev.host, "pc1new");
    CU_ASSERT_TRUE(dev.inband);
    CU_ASSERT_EQUAL(dev.state, SITE_STATE_IN_PROGRESS);
    site_db_close(db);
}

struct walk {
    struct site_db *db;
    size_t n;
    size_t stop_at;
    char seen[8][64];
};

static int
walk_cb(void *arg, const struct site_device *dev)
{
    struct walk *w = arg;
    struct site_device again;

    /* the walk holds no lock: the callback may use the database */
    if (site_db_device_get(w->db, dev->uuid, &again) != 0)
        return -1000;
    snprintf(w->seen[w->n], sizeof(w->seen[0]), "%s", dev->host);
    if (++w->n == w->stop_at)
        return 42;
    return 0;
}

static int
domain_cb(void *arg, const char *domain)
{
    struct walk *w = arg;

    snprintf(w->seen[w->n++], sizeof(w->seen[0]), "%s", domain);
    return 0;
}

struct pending_seen {
    size_t n;
    char uuid[4][UUID_TEXT_SIZE];
    enum site_secret_kind kind[4];
};

static int
pending_cb(void *arg, const char *uuid, enum site_secret_kind kind)
{
    struct pending_seen *p = arg;

    if (p->n < 4) {
        snprintf(p->uuid[p->n], UUID_TEXT_SIZE, "%s", uuid);
        p->kind[p->n] = kind;
    }
    p->n++;
    return 0;
}

static void
test_lists_and_delete(void)
{
    struct site_db *db = fresh_db();
    struct pending_seen seen = {0};
    struct walk w = {0};

    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    CU_ASSERT_EQUAL_FATAL(site_db_import_devices(db, three_rows, 3), 0);
    w.db = db;
    CU_ASSERT_EQUAL(site_db_device_list(db, walk_cb, &w), 0);
    CU_ASSERT_EQUAL(w.n, 3);
    CU_ASSERT_STRING_EQUAL(w.seen[0], "pc1");
    CU_ASSERT_STRING_EQUAL(w.seen[2], "pc3");
    memset(&w, 0, sizeof(w));
    w.db = db;
    w.stop_at = 2;
    CU_ASSERT_EQUAL(site_db_device_list(db, walk_cb, &w), 42);
    CU_ASSERT_EQUAL(w.n, 2);

    memset(&w, 0, sizeof(w));
    CU_ASSERT_EQUAL(site_db_domain_list(db, domain_cb, &w), 0);
    CU_ASSERT_EQUAL(w.n, 2);
    CU_ASSERT_STRING_EQUAL(w.seen[0], "contoso.com");
    CU_ASSERT_STRING_EQUAL(w.seen[1], "sales.contoso.com");

    CU_ASSERT_EQUAL(
        site_db_password_pending(db, UUID_A, SITE_SECRET_ADMIN, "admin", ADMIN_PW), 0);
    CU_ASSERT_EQUAL(site_db_device_delete(db, UUID_A), 0);
    CU_ASSERT_EQUAL(site_db_device_delete(db, UUID_A), AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(device_count(db), 2);
    /* what was kept for the device went with it */
    CU_ASSERT_EQUAL(site_db_pending_list(db, pending_cb, &seen), 0);
    CU_ASSERT_EQUAL(seen.n, 0);
    CU_ASSERT_EQUAL(site_db_device_list(db, NULL, NULL), AMT_ERR_INVALID_ARGUMENT);
    site_db_close(db);
}

/* ---- passwords ---- */

static void
test_pending_then_confirm(void)
{
    struct site_db *db = fresh_db();
    struct site_credential c;

    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    CU_ASSERT_EQUAL_FATAL(site_db_import_devices(db, three_rows, 1), 0);
    CU_ASSERT_EQUAL(site_db_credential_get(db, UUID_A, SITE_SECRET_ADMIN, &c), 0);
    CU_ASSERT_FALSE(c.has_current);
    CU_ASSERT_FALSE(c.has_pending);

    CU_ASSERT_EQUAL(
        site_db_password_pending(db, UUID_A, SITE_SECRET_ADMIN, "admin", ADMIN_PW), 0);
    CU_ASSERT_EQUAL(site_db_credential_get(db, UUID_A, SITE_SECRET_ADMIN, &c), 0);
    CU_ASSERT_FALSE(c.has_current);
    CU_ASSERT_TRUE(c.has_pending);
    CU_ASSERT_STRING_EQUAL(c.pending_user, "admin");
    CU_ASSERT_STRING_EQUAL(c.pending_password, ADMIN_PW);
    CU_ASSERT(c.pending_since > 0);
    site_credential_wipe(&c);
    CU_ASSERT_EQUAL(c.pending_password[0], '\0');

    /* a second pending value would lose the first, which the device may hold */
    CU_ASSERT_EQUAL(
        site_db_password_pending(db, UUID_A, SITE_SECRET_ADMIN, "admin", ADMIN_PW2),
        AMT_ERR_SITE_PENDING);
    CU_ASSERT_EQUAL(site_db_password_confirm(db, UUID_A, SITE_SECRET_ADMIN), 0);
    CU_ASSERT_EQUAL(site_db_credential_get(db, UUID_A, SITE_SECRET_ADMIN, &c), 0);
    CU_ASSERT_TRUE(c.has_current);
    CU_ASSERT_FALSE(c.has_pending);
    CU_ASSERT_STRING_EQUAL(c.user, "admin");
    CU_ASSERT_STRING_EQUAL(c.password, ADMIN_PW);
    CU_ASSERT(c.confirmed > 0);
    site_credential_wipe(&c);
    CU_ASSERT_EQUAL(site_db_password_confirm(db, UUID_A, SITE_SECRET_ADMIN),
                    AMT_ERR_SITE_NO_PENDING);

    /* a new password the device refused: the old one stays current */
    CU_ASSERT_EQUAL(
        site_db_password_pending(db, UUID_A, SITE_SECRET_ADMIN, "admin", ADMIN_PW2), 0);
    CU_ASSERT_EQUAL(site_db_password_discard_pending(db, UUID_A, SITE_SECRET_ADMIN), 0);
    CU_ASSERT_EQUAL(site_db_credential_get(db, UUID_A, SITE_SECRET_ADMIN, &c), 0);
    CU_ASSERT_STRING_EQUAL(c.password, ADMIN_PW);
    CU_ASSERT_FALSE(c.has_pending);
    site_credential_wipe(&c);
    CU_ASSERT_EQUAL(site_db_password_discard_pending(db, UUID_A, SITE_SECRET_ADMIN),
                    AMT_ERR_SITE_NO_PENDING);

    /* the MEBx has no user name; its password is kept apart from the admin's */
    CU_ASSERT_EQUAL(site_db_password_pending(db, UUID_A, SITE_SECRET_MEBX, NULL, MEBX_PW),
                    0);
    CU_ASSERT_EQUAL(site_db_password_confirm(db, UUID_A, SITE_SECRET_MEBX), 0);
    CU_ASSERT_EQUAL(site_db_credential_get(db, UUID_A, SITE_SECRET_MEBX, &c), 0);
    CU_ASSERT_STRING_EQUAL(c.password, MEBX_PW);
    CU_ASSERT_STRING_EQUAL(c.user, "");
    site_credential_wipe(&c);
    CU_ASSERT_EQUAL(site_db_credential_get(db, UUID_A, SITE_SECRET_ADMIN, &c), 0);
    CU_ASSERT_STRING_EQUAL(c.password, ADMIN_PW);
    site_credential_wipe(&c);
    site_db_close(db);
}

static void
test_password_arguments(void)
{
    struct site_db *db = fresh_db();
    struct site_credential c;

    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    CU_ASSERT_EQUAL_FATAL(site_db_import_devices(db, three_rows, 1), 0);
    CU_ASSERT_EQUAL(
        site_db_password_pending(db, UUID_NONE, SITE_SECRET_ADMIN, "admin", ADMIN_PW),
        AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(site_db_password_confirm(db, UUID_NONE, SITE_SECRET_ADMIN),
                    AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(site_db_password_discard_pending(db, UUID_NONE, SITE_SECRET_MEBX),
                    AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(site_db_credential_get(db, UUID_NONE, SITE_SECRET_ADMIN, &c),
                    AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(
        site_db_password_pending(db, UUID_A, SITE_SECRET_MEBX, "admin", MEBX_PW),
        AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(
        site_db_password_pending(db, UUID_A, SITE_SECRET_ADMIN, NULL, ADMIN_PW),
        AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(
        site_db_password_pending(db, UUID_A, SITE_SECRET_ADMIN, "$$root", ADMIN_PW),
        AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_db_password_pending(db, UUID_A, SITE_SECRET_ADMIN, "admin", ""),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(
        site_db_password_pending(db, UUID_A, SITE_SECRET_ADMIN, "admin", "Tab\there1!"),
        AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_db_password_pending(db, UUID_A, SITE_SECRET_ADMIN, "admin",
                                             "A1!aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(
        site_db_password_pending(db, UUID_A, (enum site_secret_kind)3, "admin", ADMIN_PW),
        AMT_ERR_INVALID_ARGUMENT);
    /* none of these left anything pending */
    CU_ASSERT_EQUAL(site_db_credential_get(db, UUID_A, SITE_SECRET_ADMIN, &c), 0);
    CU_ASSERT_FALSE(c.has_pending);
    CU_ASSERT_EQUAL(site_db_credential_get(db, UUID_A, SITE_SECRET_MEBX, &c), 0);
    CU_ASSERT_FALSE(c.has_pending);
    site_db_close(db);
}

/* A crash between "pending" and "confirm": the values are still there to try. */
static void
test_pending_survives_crash(void)
{
    struct site_db *db = fresh_db();
    struct pending_seen seen = {0};
    struct site_credential c;
    pid_t pid;
    int status;

    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    CU_ASSERT_EQUAL_FATAL(site_db_import_devices(db, three_rows, 3), 0);
    CU_ASSERT_EQUAL(site_db_password_pending(db, UUID_B, SITE_SECRET_MEBX, NULL, MEBX_PW),
                    0);
    db = reopen(db); /* closed without a confirm */
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    site_db_close(db);

    /* a process that dies without closing anything */
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        struct site_db *child = NULL;
        char err[256];

        if (site_db_open(dbpath, &child, err, sizeof(err)) != 0 ||
            site_db_password_pending(child, UUID_A, SITE_SECRET_ADMIN, "admin",
                                     ADMIN_PW) != 0)
            _exit(1);
        _exit(0);
    }
    CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    db = NULL;
    db = reopen(NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    CU_ASSERT_EQUAL(site_db_pending_list(db, pending_cb, &seen), 0);
    CU_ASSERT_EQUAL_FATAL(seen.n, 2);
    CU_ASSERT_STRING_EQUAL(seen.uuid[0], UUID_A);
    CU_ASSERT_EQUAL(seen.kind[0], SITE_SECRET_ADMIN);
    CU_ASSERT_STRING_EQUAL(seen.uuid[1], UUID_B);
    CU_ASSERT_EQUAL(seen.kind[1], SITE_SECRET_MEBX);
    CU_ASSERT_EQUAL(site_db_credential_get(db, UUID_A, SITE_SECRET_ADMIN, &c), 0);
    CU_ASSERT_STRING_EQUAL(c.pending_password, ADMIN_PW);
    site_credential_wipe(&c);

    /* recovery resolves them; the list is then empty */
    CU_ASSERT_EQUAL(site_db_password_confirm(db, UUID_A, SITE_SECRET_ADMIN), 0);
    CU_ASSERT_EQUAL(site_db_password_discard_pending(db, UUID_B, SITE_SECRET_MEBX), 0);
    memset(&seen, 0, sizeof(seen));
    CU_ASSERT_EQUAL(site_db_pending_list(db, pending_cb, &seen), 0);
    CU_ASSERT_EQUAL(seen.n, 0);
    site_db_close(db);
}

/* stderr into a file for the length of a test, so that what was said can be read. */
static int
capture_stderr(const char *path, int *saved)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);

    fflush(stderr);
    *saved = dup(STDERR_FILENO);
    if (fd < 0 || *saved < 0 || dup2(fd, STDERR_FILENO) < 0)
        return -1;
    close(fd);
    return 0;
}

static void
restore_stderr(int saved)
{
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
}

static void
test_secrets_not_in_errors(void)
{
    struct site_db *db = fresh_db();
    sqlite3 *other = NULL;
    char logpath[160];
    unsigned char *said;
    int saved, r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    CU_ASSERT_EQUAL_FATAL(site_db_import_devices(db, three_rows, 1), 0);
    snprintf(logpath, sizeof(logpath), "%s/stderr.txt", tmpdir);
    CU_ASSERT_EQUAL_FATAL(capture_stderr(logpath, &saved), 0);

    /* refusals */
    r = site_db_password_pending(db, UUID_NONE, SITE_SECRET_ADMIN, "admin", ADMIN_PW);
    fprintf(stderr, "%s\n", amt_strerror(r));
    r = site_db_password_pending(db, UUID_A, SITE_SECRET_ADMIN, "admin", ADMIN_PW);
    r = site_db_password_pending(db, UUID_A, SITE_SECRET_ADMIN, "admin", ADMIN_PW2);
    fprintf(stderr, "%s\n", amt_strerror(r));
    /* and a real SQLite failure: another process holds the write lock */
    CU_ASSERT_EQUAL(sqlite3_open(dbpath, &other), SQLITE_OK);
    CU_ASSERT_EQUAL(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    r = site_db_password_pending(db, UUID_A, SITE_SECRET_MEBX, NULL, MEBX_PW);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    restore_stderr(saved);

    CU_ASSERT_EQUAL(r, AMT_ERR_SITE_DB_BUSY);
    said = unit_read_file(logpath, NULL);
    /* SQLite's own message was logged, with the function that failed */
    CU_ASSERT_PTR_NOT_NULL(strstr((char *)said, "site_db: "));
    CU_ASSERT_PTR_NOT_NULL(strstr((char *)said, "locked"));
    CU_ASSERT_PTR_NULL(strstr((char *)said, ADMIN_PW));
    CU_ASSERT_PTR_NULL(strstr((char *)said, ADMIN_PW2));
    CU_ASSERT_PTR_NULL(strstr((char *)said, MEBX_PW));
    free(said);
    unlink(logpath);
    site_db_close(db);
}

/* ---- in-band OTP hashes and certificates ---- */

static void
test_otp_hash(void)
{
    static const char hash[] =
        "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
    struct site_db *db = fresh_db();
    struct site_device dev;
    char hex[SITE_OTP_HASH_SIZE];
    time_t created = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    CU_ASSERT_EQUAL_FATAL(site_db_import_devices(db, three_rows, 1), 0);
    CU_ASSERT_EQUAL(site_db_otp_hash_get(db, UUID_A, hex, NULL), AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(site_db_otp_hash_set(db, UUID_A, hash), 0);
    CU_ASSERT_EQUAL(site_db_otp_hash_get(db, UUID_A, hex, &created), 0);
    CU_ASSERT_STRING_EQUAL(
        hex, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    CU_ASSERT(created > 0);
    /* a device whose agent sent a hash has an agent */
    CU_ASSERT_EQUAL(site_db_device_get(db, UUID_A, &dev), 0);
    CU_ASSERT_TRUE(dev.inband);
    /* a later OTP replaces the earlier one */
    CU_ASSERT_EQUAL(
        site_db_otp_hash_set(db, UUID_A,
                             "0000000000000000000000000000000000000000000000000"
                             "000000000000001"),
        0);
    CU_ASSERT_EQUAL(site_db_otp_hash_get(db, UUID_A, hex, NULL), 0);
    CU_ASSERT_EQUAL(hex[63], '1');

    CU_ASSERT_EQUAL(site_db_otp_hash_set(db, UUID_NONE, hash), AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(site_db_otp_hash_set(db, UUID_A, "abc"), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(
        site_db_otp_hash_set(db, UUID_A,
                             "zz86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c"
                             "d15d6c15b0f00a08"),
        AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_db_otp_hash_clear(db, UUID_A), 0);
    CU_ASSERT_EQUAL(site_db_otp_hash_get(db, UUID_A, hex, NULL), AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(site_db_otp_hash_clear(db, UUID_A), AMT_ERR_NOT_FOUND);
    site_db_close(db);
}

static char *
certs_file(const char *name)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", AMT_CERTS_DIR, name);
    return (char *)unit_read_file(path, NULL);
}

/* The PEM column of the certificates table, read from outside. */
static int
stored_pem(char *buf, size_t size)
{
    sqlite3 *s = NULL;
    sqlite3_stmt *st = NULL;
    int r = -1;

    buf[0] = '\0';
    if (sqlite3_open(dbpath, &s) == SQLITE_OK &&
        sqlite3_prepare_v2(s, "SELECT pem FROM certificates", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        snprintf(buf, size, "%s", (const char *)sqlite3_column_text(st, 0));
        r = 0;
    }
    sqlite3_finalize(st);
    sqlite3_close(s);
    return r;
}

static void
test_cert_record(void)
{
    struct site_db *db = fresh_db();
    char *crt = certs_file("device.crt"), *key = certs_file("device.key");
    char *chain = certs_file("device.chain.pem"), *other = certs_file("prov-oid.crt");
    char *both, pem[8192];

    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    CU_ASSERT_EQUAL_FATAL(site_db_import_devices(db, three_rows, 1), 0);
    /* a key next to the certificate is not kept */
    both = malloc(strlen(key) + strlen(crt) + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(both);
    strcpy(both, key);
    strcat(both, crt);
    CU_ASSERT_EQUAL(site_db_cert_record(db, UUID_A, both), 0);
    CU_ASSERT_EQUAL(stored_pem(pem, sizeof(pem)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(pem, "BEGIN CERTIFICATE"));
    CU_ASSERT_PTR_NULL(strstr(pem, "PRIVATE KEY"));
    CU_ASSERT_EQUAL(site_db_cert_record(db, UUID_A, crt), AMT_ERR_SITE_DUPLICATE);
    CU_ASSERT_EQUAL(site_db_cert_record(db, UUID_A, chain), AMT_ERR_CERT_LOAD);
    CU_ASSERT_EQUAL(site_db_cert_record(db, UUID_A, "-----BEGIN CERTIFICATE-----\nxx\n"),
                    AMT_ERR_CERT_LOAD);
    CU_ASSERT_EQUAL(site_db_cert_record(db, UUID_NONE, other), AMT_ERR_NOT_FOUND);
    free(other);
    free(both);
    free(crt);
    free(key);
    free(chain);
    site_db_close(db);
}

/* ---- the status document ---- */

static struct json_value *
device_json(struct site_db *db, bool secrets, char **text)
{
    struct json_value *v = NULL;

    *text = NULL;
    if (site_db_device_json(db, UUID_A, secrets, text) != 0)
        return NULL;
    if (json_parse(*text, strlen(*text), NULL, &v, NULL) != 0)
        return NULL;
    return v;
}

static const char *
jstr(const struct json_value *v, const char *path)
{
    const char *s = NULL;

    json_get_string(json_path(v, path), &s, NULL);
    return s != NULL ? s : "(none)";
}

static bool
jbool(const struct json_value *v, const char *path)
{
    bool b = false;

    json_get_bool(json_path(v, path), &b);
    return b;
}

static void
test_status_json(void)
{
    struct site_db *db = fresh_db();
    char *crt = certs_file("device.crt"), *text = NULL;
    struct json_value *v;

    CU_ASSERT_PTR_NOT_NULL_FATAL(db);
    CU_ASSERT_EQUAL_FATAL(site_db_import_devices(db, three_rows, 1), 0);
    CU_ASSERT_EQUAL(
        site_db_password_pending(db, UUID_A, SITE_SECRET_ADMIN, "admin", ADMIN_PW), 0);
    CU_ASSERT_EQUAL(site_db_password_confirm(db, UUID_A, SITE_SECRET_ADMIN), 0);
    CU_ASSERT_EQUAL(site_db_password_pending(db, UUID_A, SITE_SECRET_MEBX, NULL, MEBX_PW),
                    0);
    CU_ASSERT_EQUAL(
        site_db_set_state(db, UUID_A, SITE_STATE_IN_PROGRESS, "OOB-7.5", NULL), 0);
    CU_ASSERT_EQUAL(site_db_cert_record(db, UUID_A, crt), 0);

    v = device_json(db, false, &text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_STRING_EQUAL(jstr(v, "uuid"), UUID_A);
    CU_ASSERT_STRING_EQUAL(jstr(v, "fqdn"), "pc1.contoso.com");
    CU_ASSERT_STRING_EQUAL(jstr(v, "ou"), "OU=AMT");
    CU_ASSERT_STRING_EQUAL(jstr(v, "state"), "in-progress");
    CU_ASSERT_STRING_EQUAL(jstr(v, "last_step"), "OOB-7.5");
    CU_ASSERT_EQUAL(json_type_of(json_path(v, "last_error")), JSON_NULL);
    CU_ASSERT_EQUAL(json_type_of(json_path(v, "amt_version")), JSON_NULL);
    CU_ASSERT_TRUE(jbool(v, "admin.password_set"));
    CU_ASSERT_FALSE(jbool(v, "admin.pending"));
    CU_ASSERT_STRING_EQUAL(jstr(v, "admin.user"), "admin");
    CU_ASSERT_FALSE(jbool(v, "mebx.password_set"));
    CU_ASSERT_TRUE(jbool(v, "mebx.pending"));
    CU_ASSERT_FALSE(jbool(v, "otp_hash_set"));
    CU_ASSERT_PTR_NULL(json_path(v, "admin.password"));
    CU_ASSERT_PTR_NULL(json_path(v, "mebx.pending_password"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(jstr(v, "certificates.0.subject"), "CN=amt-device.contoso.com"));
    CU_ASSERT_EQUAL(strlen(jstr(v, "certificates.0.not_after")), 20);
    CU_ASSERT_PTR_NULL(strstr(text, ADMIN_PW));
    CU_ASSERT_PTR_NULL(strstr(text, MEBX_PW));
    json_free(v);
    site_db_text_free(text);

    v = device_json(db, true, &text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_STRING_EQUAL(jstr(v, "admin.password"), ADMIN_PW);
    CU_ASSERT_EQUAL(json_type_of(json_path(v, "admin.pending_password")), JSON_NULL);
    CU_ASSERT_STRING_EQUAL(jstr(v, "mebx.pending_password"), MEBX_PW);
    CU_ASSERT_EQUAL(json_type_of(json_path(v, "mebx.password")), JSON_NULL);
    json_free(v);
    site_db_text_free(text);

    CU_ASSERT_EQUAL(site_db_device_json(db, UUID_NONE, false, &text), AMT_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NULL(text);
    CU_ASSERT_EQUAL(site_db_device_json(db, UUID_A, false, NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    site_db_text_free(NULL);
    free(crt);
    site_db_close(db);
}

/* ---- SQLite failing inside, at every allocation in turn ---- */

static sqlite3_mem_methods real_mem;
static long allocs_left = -1; /* before one fails; -1: none fails */
static long allocs_failed;

static void *
fi_malloc(int n)
{
    if (allocs_left == 0) {
        allocs_failed++;
        return NULL;
    }
    if (allocs_left > 0)
        allocs_left--;
    return real_mem.xMalloc(n);
}

static void *
fi_realloc(void *p, int n)
{
    if (allocs_left == 0) {
        allocs_failed++;
        return NULL;
    }
    if (allocs_left > 0)
        allocs_left--;
    return real_mem.xRealloc(p, n);
}

static void
fi_free(void *p)
{
    real_mem.xFree(p);
}

static int
fi_size(void *p)
{
    return real_mem.xSize(p);
}

static int
fi_roundup(int n)
{
    return real_mem.xRoundup(n);
}

static int
fi_init(void *app)
{
    return real_mem.xInit(real_mem.pAppData);
}

static void
fi_shutdown(void *app)
{
    real_mem.xShutdown(real_mem.pAppData);
}

static bool
failing_malloc(bool on)
{
    static const sqlite3_mem_methods fi = {fi_malloc,  fi_free, fi_realloc,  fi_size,
                                           fi_roundup, fi_init, fi_shutdown, NULL};

    if (sqlite3_shutdown() != SQLITE_OK)
        return false;
    if (on && sqlite3_config(SQLITE_CONFIG_GETMALLOC, &real_mem) != SQLITE_OK)
        return false;
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, on ? &fi : &real_mem) != SQLITE_OK)
        return false;
    return sqlite3_initialize() == SQLITE_OK;
}

/* Every call of a provisioning run; true when each succeeded. */
static bool
run_ops(struct site_db *db, const char *crt)
{
    struct pending_seen seen = {0};
    struct site_credential c;
    struct site_device dev;
    char *json = NULL;
    int r[12];
    bool ok = true;

    r[0] = site_db_import_devices(db, three_rows, 3);
    r[1] = site_db_password_pending(db, UUID_A, SITE_SECRET_ADMIN, "admin", ADMIN_PW);
    r[2] = site_db_pending_list(db, pending_cb, &seen);
    r[3] = site_db_password_confirm(db, UUID_A, SITE_SECRET_ADMIN);
    r[4] = site_db_otp_hash_set(
        db, UUID_A, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    r[5] = site_db_cert_record(db, UUID_A, crt);
    r[6] = site_db_set_state(db, UUID_A, SITE_STATE_PROVISIONED, "OOB-9", NULL);
    r[7] = site_db_device_json(db, UUID_A, true, &json);
    site_db_text_free(json);
    r[8] = site_db_credential_get(db, UUID_A, SITE_SECRET_ADMIN, &c);
    site_credential_wipe(&c);
    r[9] = site_db_device_find_host(db, "pc2", &dev);
    r[10] = site_db_dir_container_add(db, "OU=AMT,DC=contoso,DC=com");
    r[11] = site_db_device_list(db, count_cb, &(size_t){0});
    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
        CU_ASSERT(r[i] <= 0);
        ok = ok && r[i] == 0;
    }
    return ok;
}

/*
 * Whatever allocation fails, every call returns an error rather than crashing, and
 * the file is left whole: it opens again, and an import is all there or not at all.
 */
static void
test_sqlite_failures(void)
{
    char *crt = certs_file("device.crt"), err[256], logpath[160];
    bool finished = false;
    int saved;

    snprintf(logpath, sizeof(logpath), "%s/oom.txt", tmpdir);
    CU_ASSERT_FATAL(failing_malloc(true));
    CU_ASSERT_EQUAL_FATAL(capture_stderr(logpath, &saved), 0);
    for (long k = 0; k < 100000 && !finished; k += 1 + k / 32) {
        struct site_db *db = NULL;
        struct site_device dev;
        size_t n;
        bool ok = false;

        remove_db(dbpath);
        allocs_failed = 0;
        allocs_left = k;
        if (site_db_open(dbpath, &db, err, sizeof(err)) == 0) {
            ok = run_ops(db, crt);
            site_db_close(db);
            db = NULL;
        }
        allocs_left = -1;
        finished = ok && allocs_failed == 0;
        if (site_db_open(dbpath, &db, err, sizeof(err)) != 0) {
            CU_FAIL("the file does not open after a failure");
            break;
        }
        n = device_count(db);
        CU_ASSERT(n == 0 || n == 3);
        if (n == 3)
            CU_ASSERT_EQUAL(site_db_device_get(db, UUID_C, &dev), 0);
        site_db_close(db);
    }
    restore_stderr(saved);
    unlink(logpath);
    CU_ASSERT_TRUE(finished);
    CU_ASSERT_FATAL(failing_malloc(false));
    free(crt);
    remove_db(dbpath);
}

static void
test_null_tolerance(void)
{
    struct site_device dev;
    char hex[SITE_OTP_HASH_SIZE];
    int v;

    site_db_close(NULL);
    site_credential_wipe(NULL);
    CU_ASSERT_EQUAL(site_db_schema_version(NULL, &v), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_db_device_get(NULL, UUID_A, &dev), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_db_otp_hash_get(NULL, UUID_A, hex, NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_db_cert_record(NULL, UUID_A, "x"), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(site_db_pending_list(NULL, pending_cb, NULL),
                    AMT_ERR_INVALID_ARGUMENT);
}

static CU_TestInfo db_tests[] = {
    {"created with mode 0600", test_created_owner_only},
    {"refuses a file others can read", test_refuses_readable_file},
    {"reopen keeps data and version", test_reopen_keeps_data_and_version},
    {"schema version checked", test_schema_version_checked},
    {"import all or nothing", test_import_all_or_nothing},
    {"device fields", test_device_fields},
    {"state, step and reason", test_state},
    {"re-import", test_reimport},
    {"lists and delete", test_lists_and_delete},
    {"pending, confirm, discard", test_pending_then_confirm},
    {"password arguments", test_password_arguments},
    {"pending survives a crash", test_pending_survives_crash},
    {"secrets not in error texts", test_secrets_not_in_errors},
    {"OTP hash", test_otp_hash},
    {"certificate record", test_cert_record},
    {"status JSON with and without secrets", test_status_json},
    {"SQLite failures at each allocation", test_sqlite_failures},
    {"NULL tolerance", test_null_tolerance},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"site database", suite_init, suite_cleanup, NULL, NULL, db_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_prov_db", suites);
}
