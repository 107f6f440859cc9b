/*
 * The import wizard on the files in tests/data/import/: a good file goes in whole;
 * every rule refuses its file with "file:line: rule", naming the offending text;
 * and a file with any bad line writes nothing, after reporting every bad line.
 *
 * The service point is in contoso.com, in a forest whose trees are contoso.com and
 * northwindtraders.com (so that the seed's northwindtraders example is the same
 * forest but a non-contiguous namespace); fabrikam.com is another forest. The
 * seed's disjoint example has its own forest, corp.fabrikam.com.
 */
#include "db.h"
#include "directory.h"
#include "err.h"
#include "import.h"
#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SEEN 32

static char tmpdir[64];
static char dbpath[128];

static const char *const contoso_domains[] = {"contoso.com", "sales.contoso.com",
                                              "northwindtraders.com"};
static const struct ns_forest contoso_forest = {"contoso.com", contoso_domains, 3};
static const char *const fabrikam_domains[] = {"corp.fabrikam.com",
                                               "na.corp.fabrikam.com"};
static const struct ns_forest fabrikam_forest = {"corp.fabrikam.com", fabrikam_domains,
                                                 2};

struct seen {
    size_t n;
    unsigned long line[MAX_SEEN];
    char rule[MAX_SEEN][32];
    char text[MAX_SEEN][128];
    char message[MAX_SEEN][512];
};

static void
collect(void *arg, const struct import_problem *p)
{
    struct seen *s = arg;

    if (s->n < MAX_SEEN) {
        s->line[s->n] = p->line;
        snprintf(s->rule[s->n], sizeof(s->rule[0]), "%s", p->rule);
        snprintf(s->text[s->n], sizeof(s->text[0]), "%s", p->text);
        snprintf(s->message[s->n], sizeof(s->message[0]), "%s", p->message);
    }
    s->n++;
}

struct fixture {
    struct site_db *db;
    struct dir *dir;
    struct import_policy policy;
    struct seen seen;
    size_t count;
};

static int
suite_init(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_prov_import.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    snprintf(dbpath, sizeof(dbpath), "%s/site.db", tmpdir);
    return 0;
}

static void
remove_db(void)
{
    char p[256];

    unlink(dbpath);
    snprintf(p, sizeof(p), "%s-wal", dbpath);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", dbpath);
    unlink(p);
}

static int
suite_cleanup(void)
{
    remove_db();
    rmdir(tmpdir);
    return 0;
}

/* A fresh site with OU=AMT in contoso.com and sales.contoso.com. */
static bool
setup(struct fixture *f)
{
    char err[256];

    memset(f, 0, sizeof(*f));
    remove_db();
    if (site_db_open(dbpath, &f->db, err, sizeof(err)) != 0 ||
        dir_new_embedded(f->db, &f->dir) != 0 ||
        dir_create_container(f->dir, "OU=AMT", "contoso.com", err, sizeof(err)) != 0 ||
        dir_create_container(f->dir, "OU=AMT", "sales.contoso.com", err, sizeof(err)) !=
            0 ||
        dir_create_container(f->dir, "OU=AMT\\, Europe", "contoso.com", err,
                             sizeof(err)) != 0)
        return false;
    f->policy.sp_domain = "contoso.com";
    f->policy.forest = &contoso_forest;
    return true;
}

static void
teardown(struct fixture *f)
{
    dir_free(f->dir);
    site_db_close(f->db);
}

static void
data_path(char *buf, size_t size, const char *file)
{
    snprintf(buf, size, "%s/import/%s", AMT_TESTDATA_DIR, file);
}

static int
import_file(struct fixture *f, const char *file)
{
    char path[512];

    data_path(path, sizeof(path), file);
    memset(&f->seen, 0, sizeof(f->seen));
    return import_csv(f->db, f->dir, path, &f->policy, collect, &f->seen, &f->count);
}

static int
import_text(struct fixture *f, const char *text)
{
    memset(&f->seen, 0, sizeof(f->seen));
    return import_csv_text(f->db, f->dir, "t.csv", text, strlen(text), &f->policy,
                           collect, &f->seen, &f->count);
}

static int
count_cb(void *arg, const struct site_device *dev)
{
    (*(size_t *)arg)++;
    return 0;
}

static size_t
devices(struct fixture *f)
{
    size_t n = 0;

    site_db_device_list(f->db, count_cb, &n);
    return n;
}

/* Problem i is on line with rule, and its message says so in the documented form. */
static bool
problem_is(const struct fixture *f, size_t i, unsigned long line, const char *rule)
{
    char prefix[64];

    if (i >= f->seen.n || i >= MAX_SEEN)
        return false;
    snprintf(prefix, sizeof(prefix), ":%lu: %s: ", line, rule);
    if (f->seen.line[i] != line || strcmp(f->seen.rule[i], rule) != 0 ||
        strstr(f->seen.message[i], prefix) == NULL) {
        fprintf(stderr, "\n  problem %zu: %s\n", i, f->seen.message[i]);
        return false;
    }
    return true;
}

/* Refused: exactly these problems, and the database untouched. */
static void
expect_refused(struct fixture *f, int r, size_t n_problems)
{
    CU_ASSERT_EQUAL(r, AMT_ERR_IMPORT_INVALID);
    CU_ASSERT_EQUAL(f->seen.n, n_problems);
    CU_ASSERT_EQUAL(f->count, 0);
    CU_ASSERT_EQUAL(devices(f), 0);
}

/* ---- the good file ---- */

static void
test_good_file(void)
{
    struct fixture f;
    struct site_device dev;

    CU_ASSERT_FATAL(setup(&f));
    CU_ASSERT_EQUAL(import_file(&f, "good.csv"), 0);
    CU_ASSERT_EQUAL(f.seen.n, 0);
    CU_ASSERT_EQUAL(f.count, 5);
    CU_ASSERT_EQUAL(devices(&f), 5);
    CU_ASSERT_EQUAL(
        site_db_device_get(f.db, "4c4c4544-0042-3510-8052-b3c04f4d3202", &dev), 0);
    CU_ASSERT_STRING_EQUAL(dev.host, "pc2");
    CU_ASSERT_STRING_EQUAL(dev.domain, "contoso.com");
    CU_ASSERT_STRING_EQUAL(dev.ou, "");
    CU_ASSERT_EQUAL(
        site_db_device_get(f.db, "4c4c4544-0042-3510-8052-b3c04f4d3203", &dev), 0);
    CU_ASSERT_STRING_EQUAL(dev.ou, "OU=AMT");
    CU_ASSERT_STRING_EQUAL(dev.domain, "sales.contoso.com");
    CU_ASSERT_EQUAL(
        site_db_device_get(f.db, "4c4c4544-0042-3510-8052-b3c04f4d3204", &dev), 0);
    CU_ASSERT_STRING_EQUAL(dev.ou, "OU=AMT\\, Europe");
    CU_ASSERT_EQUAL(site_db_device_find_host(f.db, "pc5", &dev), 0);
    CU_ASSERT_STRING_EQUAL(dev.domain, "contoso.com");
    /* the same file again changes nothing and is not refused */
    CU_ASSERT_EQUAL(import_file(&f, "good.csv"), 0);
    CU_ASSERT_EQUAL(devices(&f), 5);
    teardown(&f);
}

/* ---- one file per rule ---- */

static void
test_bad_uuid(void)
{
    struct fixture f;
    int r;

    CU_ASSERT_FATAL(setup(&f));
    r = import_file(&f, "bad-uuid.csv");
    expect_refused(&f, r, 3);
    CU_ASSERT(problem_is(&f, 0, 2, "bad-uuid"));
    CU_ASSERT(problem_is(&f, 1, 3, "bad-uuid"));
    CU_ASSERT(problem_is(&f, 2, 4, "bad-uuid"));
    CU_ASSERT_STRING_EQUAL(f.seen.text[0], "{4c4c4544-0042-3510-8052-b3c04f4d3211}");
    CU_ASSERT_PTR_NOT_NULL(strstr(f.seen.message[0], "bad-uuid.csv:2: bad-uuid: "));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(f.seen.message[0], "\"{4c4c4544-0042-3510-8052-b3c04f4d3211}\""));
    teardown(&f);
}

static void
test_bad_host_and_domain(void)
{
    struct fixture f;
    int r;

    CU_ASSERT_FATAL(setup(&f));
    r = import_file(&f, "bad-host.csv");
    expect_refused(&f, r, 3);
    CU_ASSERT(problem_is(&f, 0, 2, "bad-host"));
    CU_ASSERT_PTR_NOT_NULL(strstr(f.seen.message[0], "third column"));
    CU_ASSERT_STRING_EQUAL(f.seen.text[0], "pc21.contoso.com");
    CU_ASSERT(problem_is(&f, 1, 3, "bad-host"));
    CU_ASSERT(problem_is(&f, 2, 4, "bad-host"));
    CU_ASSERT_STRING_EQUAL(f.seen.text[2], "-pc23");

    r = import_file(&f, "bad-domain.csv");
    expect_refused(&f, r, 2);
    CU_ASSERT(problem_is(&f, 0, 2, "bad-domain"));
    CU_ASSERT_STRING_EQUAL(f.seen.text[0], "contoso..com");
    /* nothing is trimmed: the space is part of the field */
    CU_ASSERT(problem_is(&f, 1, 3, "bad-domain"));
    CU_ASSERT_STRING_EQUAL(f.seen.text[1], " contoso.com");
    teardown(&f);
}

static void
test_ns_forest_rules(void)
{
    struct fixture f;
    int r;

    CU_ASSERT_FATAL(setup(&f));
    r = import_file(&f, "workgroup.csv");
    expect_refused(&f, r, 1);
    CU_ASSERT(problem_is(&f, 0, 2, "workgroup"));
    CU_ASSERT_PTR_NOT_NULL(strstr(f.seen.message[0], "NS-FOREST"));

    r = import_file(&f, "other-forest.csv");
    expect_refused(&f, r, 1);
    CU_ASSERT(problem_is(&f, 0, 2, "other-forest"));
    CU_ASSERT_STRING_EQUAL(f.seen.text[0], "fabrikam.com");

    /* the seed: computer1.northwindtraders.com under a service point in contoso.com */
    r = import_file(&f, "non-contiguous.csv");
    expect_refused(&f, r, 1);
    CU_ASSERT(problem_is(&f, 0, 3, "non-contiguous"));
    CU_ASSERT_STRING_EQUAL(f.seen.text[0], "computer1.northwindtraders.com");
    CU_ASSERT_PTR_NOT_NULL(strstr(f.seen.message[0], "contoso.com"));

    /* the seed: computer1.corp.fabrikam.com in the directory domain na.corp.fabrikam.com
     */
    f.policy.sp_domain = "na.corp.fabrikam.com";
    f.policy.forest = &fabrikam_forest;
    r = import_file(&f, "disjoint.csv");
    expect_refused(&f, r, 1);
    CU_ASSERT(problem_is(&f, 0, 4, "disjoint"));
    CU_ASSERT_STRING_EQUAL(f.seen.text[0], "computer1.corp.fabrikam.com");
    CU_ASSERT_PTR_NOT_NULL(strstr(f.seen.message[0], "na.corp.fabrikam.com"));

    /* without a forest description, the service point's domain is its tree */
    f.policy.sp_domain = "contoso.com";
    f.policy.forest = NULL;
    r = import_file(&f, "non-contiguous.csv");
    expect_refused(&f, r, 1);
    CU_ASSERT(problem_is(&f, 0, 3, "non-contiguous"));
    teardown(&f);
}

static void
test_container_must_exist(void)
{
    struct fixture f;
    int r;

    CU_ASSERT_FATAL(setup(&f));
    r = import_file(&f, "no-container.csv");
    expect_refused(&f, r, 1);
    CU_ASSERT(problem_is(&f, 0, 2, "no-container"));
    CU_ASSERT_PTR_NOT_NULL(strstr(
        f.seen.message[0], "DIR-OU: OU=Missing,DC=contoso,DC=com does not exist in "
                           "the directory"));
    /* the site's default container is checked for lines that name none */
    f.policy.default_container = "OU=AMT";
    r = import_text(&f, "4c4c4544-0042-3510-8052-b3c04f4d3301,p1,contoso.com\n"
                        "4c4c4544-0042-3510-8052-b3c04f4d3302,p2,northwindtraders.com\n");
    CU_ASSERT_EQUAL(r, AMT_ERR_IMPORT_INVALID);
    /* northwindtraders is refused for its namespace before its container is looked up */
    CU_ASSERT_EQUAL(f.seen.n, 1);
    CU_ASSERT(problem_is(&f, 0, 2, "non-contiguous"));
    f.policy.forest = NULL;
    f.policy.sp_domain = "northwindtraders.com";
    r = import_text(&f, "4c4c4544-0042-3510-8052-b3c04f4d3302,p2,northwindtraders.com\n");
    CU_ASSERT_EQUAL(r, AMT_ERR_IMPORT_INVALID);
    CU_ASSERT(problem_is(&f, 0, 1, "no-container"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(f.seen.message[0], "OU=AMT,DC=northwindtraders,DC=com"));
    f.policy.sp_domain = "contoso.com";
    f.policy.forest = &contoso_forest;
    /* a container written in full must be in the line's domain */
    r = import_text(&f, "4c4c4544-0042-3510-8052-b3c04f4d3301,p1,contoso.com,"
                        "\"OU=AMT,DC=sales,DC=contoso,DC=com\"\n"
                        "4c4c4544-0042-3510-8052-b3c04f4d3303,p3,contoso.com,OU=\n");
    CU_ASSERT_EQUAL(r, AMT_ERR_IMPORT_INVALID);
    CU_ASSERT(problem_is(&f, 0, 1, "bad-container"));
    CU_ASSERT(problem_is(&f, 1, 2, "bad-container"));
    CU_ASSERT_EQUAL(devices(&f), 0);
    teardown(&f);
}

static void
test_duplicates(void)
{
    struct fixture f;
    const struct site_import_row held = {"4c4c4544-0042-3510-8052-b3c04f4d3399", "pcdb",
                                         "contoso.com", NULL, false};
    int r;

    CU_ASSERT_FATAL(setup(&f));
    r = import_file(&f, "duplicate-uuid.csv");
    expect_refused(&f, r, 1);
    CU_ASSERT(problem_is(&f, 0, 3, "duplicate-uuid"));
    CU_ASSERT_PTR_NOT_NULL(strstr(f.seen.message[0], "already on line 2"));

    r = import_file(&f, "duplicate-host.csv");
    expect_refused(&f, r, 1);
    CU_ASSERT(problem_is(&f, 0, 3, "duplicate-host"));
    CU_ASSERT_STRING_EQUAL(f.seen.text[0], "pca1");

    /* a host name the database holds for another device */
    CU_ASSERT_EQUAL_FATAL(site_db_import_devices(f.db, &held, 1), 0);
    r = import_text(&f, "4c4c4544-0042-3510-8052-b3c04f4d3301,PCDB,contoso.com\n");
    CU_ASSERT_EQUAL(r, AMT_ERR_IMPORT_INVALID);
    CU_ASSERT(problem_is(&f, 0, 1, "host-taken"));
    CU_ASSERT_PTR_NOT_NULL(strstr(f.seen.message[0], held.uuid));
    /* the same device again, same names: fine; other names while provisioned: not */
    r = import_text(&f, "4c4c4544-0042-3510-8052-b3c04f4d3399,pcdb,contoso.com\n");
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(
        site_db_set_state(f.db, held.uuid, SITE_STATE_PROVISIONED, NULL, NULL), 0);
    r = import_text(&f, "4c4c4544-0042-3510-8052-b3c04f4d3399,pcnew,contoso.com\n");
    CU_ASSERT_EQUAL(r, AMT_ERR_IMPORT_INVALID);
    CU_ASSERT(problem_is(&f, 0, 1, "device-active"));
    CU_ASSERT_PTR_NOT_NULL(strstr(f.seen.message[0], "provisioned as pcdb.contoso.com"));
    CU_ASSERT_EQUAL(devices(&f), 1);
    teardown(&f);
}

static void
test_csv_syntax(void)
{
    struct fixture f;
    struct site_device dev;
    int r;

    CU_ASSERT_FATAL(setup(&f));
    r = import_file(&f, "csv-syntax.csv");
    expect_refused(&f, r, 3);
    CU_ASSERT(problem_is(&f, 0, 2, "csv-syntax"));
    CU_ASSERT_PTR_NOT_NULL(strstr(f.seen.message[0], "does not end"));
    CU_ASSERT(problem_is(&f, 1, 3, "csv-syntax"));
    CU_ASSERT_PTR_NOT_NULL(strstr(f.seen.message[1], "after the closing quote"));
    CU_ASSERT(problem_is(&f, 2, 4, "csv-syntax"));
    /* the whole line is quoted back as it was written */
    CU_ASSERT_STRING_EQUAL(f.seen.text[2], "4c4c4544-0042-3510-8052-b3c04f4d32b3,pc\"b3,"
                                           "contoso.com");

    r = import_file(&f, "field-count.csv");
    expect_refused(&f, r, 2);
    CU_ASSERT(problem_is(&f, 0, 2, "field-count"));
    CU_ASSERT(problem_is(&f, 1, 3, "csv-syntax"));
    CU_ASSERT_PTR_NOT_NULL(strstr(f.seen.message[1], "too many fields"));

    r = import_file(&f, "bad-header.csv");
    expect_refused(&f, r, 2);
    CU_ASSERT(problem_is(&f, 0, 1, "bad-header"));
    CU_ASSERT_STRING_EQUAL(f.seen.text[0], "domain");
    CU_ASSERT(problem_is(&f, 1, 1, "bad-header"));
    r = import_text(&f, "uuid,host\n");
    CU_ASSERT_EQUAL(r, AMT_ERR_IMPORT_INVALID);
    CU_ASSERT(problem_is(&f, 0, 1, "bad-header"));

    /* quotes with "" inside, a BOM, CR LF endings, blank and comment lines */
    r = import_text(&f, "\xef\xbb\xbfUUID,HostName,Domain,Container,Directory-Domain\r\n"
                        "  \t \r\n"
                        "# \"comment\", with commas\r\n"
                        "\"4c4c4544-0042-3510-8052-b3c04f4d3301\",\"p1\",contoso.com,"
                        "\"OU=AMT\",\r\n"
                        "4c4c4544-0042-3510-8052-b3c04f4d3302,p2,contoso.com,\"\"\r\n");
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(f.count, 2);
    CU_ASSERT_EQUAL(site_db_device_find_host(f.db, "p1", &dev), 0);
    CU_ASSERT_STRING_EQUAL(dev.ou, "OU=AMT");
    r = import_text(&f, "4c4c4544-0042-3510-8052-b3c04f4d3303,\"p\"\"3\",contoso.com\n");
    CU_ASSERT_EQUAL(r, AMT_ERR_IMPORT_INVALID);
    CU_ASSERT(problem_is(&f, 0, 1, "bad-host"));
    CU_ASSERT_STRING_EQUAL(f.seen.text[0], "p\"3");
    /* a header after the first record is a bad UUID, not a header */
    r = import_text(&f, "4c4c4544-0042-3510-8052-b3c04f4d3304,p4,contoso.com\n"
                        "uuid,host,domain\n");
    CU_ASSERT_EQUAL(r, AMT_ERR_IMPORT_INVALID);
    CU_ASSERT(problem_is(&f, 0, 2, "bad-uuid"));
    /* NUL and lone CR bytes */
    memset(&f.seen, 0, sizeof(f.seen));
    r = import_csv_text(f.db, f.dir, "t.csv", "4c4c\0x,p,contoso.com\nx\ry,p,c\n", 29,
                        &f.policy, collect, &f.seen, &f.count);
    CU_ASSERT_EQUAL(r, AMT_ERR_IMPORT_INVALID);
    CU_ASSERT(problem_is(&f, 0, 1, "bad-byte"));
    CU_ASSERT_STRING_EQUAL(f.seen.text[0], "4c4c\\x00x,p,contoso.com");
    CU_ASSERT(problem_is(&f, 1, 2, "bad-byte"));
    CU_ASSERT_EQUAL(devices(&f), 2);
    teardown(&f);
}

/* Several problems in one file: each is reported, and nothing is written. */
static void
test_all_errors_reported(void)
{
    struct fixture f;
    int r;

    CU_ASSERT_FATAL(setup(&f));
    r = import_file(&f, "mixed.csv");
    expect_refused(&f, r, 10);
    CU_ASSERT(problem_is(&f, 0, 4, "bad-uuid"));
    CU_ASSERT(problem_is(&f, 1, 5, "non-contiguous"));
    CU_ASSERT(problem_is(&f, 2, 6, "other-forest"));
    CU_ASSERT(problem_is(&f, 3, 7, "workgroup"));
    CU_ASSERT(problem_is(&f, 4, 8, "duplicate-host"));
    CU_ASSERT(problem_is(&f, 5, 9, "no-container"));
    CU_ASSERT(problem_is(&f, 6, 10, "duplicate-uuid"));
    /* one line, three problems */
    CU_ASSERT(problem_is(&f, 7, 11, "bad-uuid"));
    CU_ASSERT(problem_is(&f, 8, 11, "bad-host"));
    CU_ASSERT(problem_is(&f, 9, 11, "bad-domain"));
    teardown(&f);
}

/* ---- caps and files ---- */

static void
test_caps(void)
{
    struct fixture f;
    char *text;
    int r;

    CU_ASSERT_FATAL(setup(&f));
    /* a line over IMPORT_LINE_MAX */
    text = malloc(IMPORT_LINE_MAX + 64);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    memset(text, 'a', IMPORT_LINE_MAX + 10);
    memcpy(text + IMPORT_LINE_MAX + 10,
           "\n4c4c4544-0042-3510-8052-b3c04f4d3301,p1,contoso.com\n", 54);
    r = import_text(&f, text);
    CU_ASSERT_EQUAL(r, AMT_ERR_IMPORT_INVALID);
    CU_ASSERT_EQUAL(f.seen.n, 1);
    CU_ASSERT(problem_is(&f, 0, 1, "line-too-long"));
    CU_ASSERT_PTR_NOT_NULL(strstr(f.seen.message[0], "1024"));
    free(text);

    /* more rows than the cap */
    f.policy.max_rows = 2;
    r = import_text(&f, "4c4c4544-0042-3510-8052-b3c04f4d3301,p1,contoso.com\n"
                        "4c4c4544-0042-3510-8052-b3c04f4d3302,p2,contoso.com\n"
                        "4c4c4544-0042-3510-8052-b3c04f4d3303,p3,contoso.com\n");
    CU_ASSERT_EQUAL(r, AMT_ERR_IMPORT_INVALID);
    CU_ASSERT_EQUAL(f.seen.n, 1);
    CU_ASSERT(problem_is(&f, 0, 3, "too-many-rows"));
    f.policy.max_rows = 0;

    /* a file over the size cap, read from disk */
    f.policy.max_bytes = 100;
    memset(&f.seen, 0, sizeof(f.seen));
    {
        char path[512];

        data_path(path, sizeof(path), "good.csv");
        r = import_csv(f.db, f.dir, path, &f.policy, collect, &f.seen, &f.count);
    }
    CU_ASSERT_EQUAL(r, AMT_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(f.seen.n, 1);
    CU_ASSERT_EQUAL(f.seen.line[0], 0);
    CU_ASSERT_STRING_EQUAL(f.seen.rule[0], "file-too-large");
    CU_ASSERT_PTR_NOT_NULL(strstr(f.seen.message[0], "good.csv: file-too-large: "));
    f.policy.max_bytes = 0;

    /* offending text is quoted back, but not at any length */
    {
        char line[300];

        snprintf(line, sizeof(line),
                 "4c4c4544-0042-3510-8052-b3c04f4d3301,%0150d,contoso.com\n", 7);
        r = import_text(&f, line);
        CU_ASSERT_EQUAL(r, AMT_ERR_IMPORT_INVALID);
        CU_ASSERT(problem_is(&f, 0, 1, "bad-host"));
        CU_ASSERT_EQUAL(strlen(f.seen.text[0]), 99);
        CU_ASSERT_PTR_NOT_NULL(strstr(f.seen.text[0], "0000..."));
    }

    /* no device at all */
    r = import_text(&f, "# nothing here\nuuid,host,domain\n");
    CU_ASSERT_EQUAL(r, AMT_ERR_IMPORT_INVALID);
    CU_ASSERT_EQUAL(f.seen.n, 1);
    CU_ASSERT_STRING_EQUAL(f.seen.rule[0], "no-devices");
    CU_ASSERT_EQUAL(devices(&f), 0);
    teardown(&f);
}

/* A file larger than one read, and a fleet's worth of rows, in one transaction. */
static void
test_large_file(void)
{
    struct fixture f;
    char path[256];
    FILE *out;
    int r;

    CU_ASSERT_FATAL(setup(&f));
    snprintf(path, sizeof(path), "%s/fleet.csv", tmpdir);
    out = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    fprintf(out, "uuid,host,domain,ou\n");
    for (unsigned i = 0; i < 3000; i++)
        fprintf(out, "4c4c4544-0042-3510-8052-%012x,host%u,contoso.com,OU=AMT\n", i, i);
    fclose(out);
    memset(&f.seen, 0, sizeof(f.seen));
    r = import_csv(f.db, f.dir, path, &f.policy, collect, &f.seen, &f.count);
    CU_ASSERT_EQUAL(r, 0);
    CU_ASSERT_EQUAL(f.seen.n, 0);
    CU_ASSERT_EQUAL(f.count, 3000);
    CU_ASSERT_EQUAL(devices(&f), 3000);
    unlink(path);

    memset(&f.seen, 0, sizeof(f.seen));
    r = import_csv(f.db, f.dir, path, &f.policy, collect, &f.seen, &f.count);
    CU_ASSERT_EQUAL(r, AMT_ERR_SYSTEM);
    CU_ASSERT_STRING_EQUAL(f.seen.rule[0], "file-open");
    CU_ASSERT_PTR_NOT_NULL(strstr(f.seen.message[0], "fleet.csv: file-open: "));
    teardown(&f);
}

static void
test_policy_and_arguments(void)
{
    struct fixture f;
    int r;

    CU_ASSERT_FATAL(setup(&f));
    f.policy.sp_domain = NULL;
    r = import_text(&f, "4c4c4544-0042-3510-8052-b3c04f4d3301,p1,contoso.com\n");
    CU_ASSERT_EQUAL(r, AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_STRING_EQUAL(f.seen.rule[0], "bad-policy");
    /* a service point outside the forest described cannot judge anything */
    f.policy.sp_domain = "fabrikam.com";
    r = import_text(&f, "4c4c4544-0042-3510-8052-b3c04f4d3301,p1,contoso.com\n");
    CU_ASSERT_EQUAL(r, AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_STRING_EQUAL(f.seen.rule[0], "bad-policy");
    f.policy.sp_domain = "contoso.com";
    f.policy.default_container = "AMT";
    r = import_text(&f, "4c4c4544-0042-3510-8052-b3c04f4d3301,p1,contoso.com\n");
    CU_ASSERT_EQUAL(r, AMT_ERR_DIR_DN);
    f.policy.default_container = NULL;
    /* without a report callback the verdict is the same */
    r = import_csv_text(f.db, f.dir, "t.csv", "x,y,z\n", 6, &f.policy, NULL, NULL, NULL);
    CU_ASSERT_EQUAL(r, AMT_ERR_IMPORT_INVALID);
    CU_ASSERT_EQUAL(import_csv(NULL, f.dir, "x", &f.policy, NULL, NULL, NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(import_csv_text(f.db, NULL, "t", "", 0, &f.policy, NULL, NULL, NULL),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(devices(&f), 0);
    teardown(&f);
}

static CU_TestInfo import_tests[] = {
    {"good file", test_good_file},
    {"bad UUID", test_bad_uuid},
    {"bad host and domain", test_bad_host_and_domain},
    {"NS-FOREST: workgroup, other forest, the seed's two examples", test_ns_forest_rules},
    {"DIR-OU: the container must exist", test_container_must_exist},
    {"duplicates in the file and the database", test_duplicates},
    {"CSV syntax and quoting", test_csv_syntax},
    {"all errors reported, nothing written", test_all_errors_reported},
    {"caps", test_caps},
    {"large file", test_large_file},
    {"policy and arguments", test_policy_and_arguments},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"import", suite_init, suite_cleanup, NULL, NULL, import_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_prov_import", suites);
}
