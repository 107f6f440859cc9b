/*
 * The directory (OOB-6, IB-9, DIR-OU) on the embedded store: strict DNs, the
 * container that must exist under the same path in every domain, one computer
 * account per device with its SPNs, updated rather than duplicated when provisioned
 * again, and a name that belongs to one device only. A back end of the test's own
 * shows that the generic part goes through the operations table.
 */
#include "db.h"
#include "directory.h"
#include "err.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UUID_A "4c4c4544-0042-3510-8052-b3c04f4d3301"
#define UUID_B "4c4c4544-0042-3510-8052-b3c04f4d3302"
#define UUID_C "4c4c4544-0042-3510-8052-b3c04f4d3303"

static char tmpdir[64];
static char dbpath[128];

static int
suite_init(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_prov_directory.XXXXXX");
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

struct fixture {
    struct site_db *db;
    struct dir *dir;
};

static bool
setup(struct fixture *f)
{
    char err[256];

    remove_db();
    f->db = NULL;
    f->dir = NULL;
    if (site_db_open(dbpath, &f->db, err, sizeof(err)) != 0) {
        fprintf(stderr, "site_db_open: %s\n", err);
        return false;
    }
    return dir_new_embedded(f->db, &f->dir) == 0;
}

static void
teardown(struct fixture *f)
{
    dir_free(f->dir);
    site_db_close(f->db);
}

/* ---- names ---- */

static void
test_dn_parse_and_format(void)
{
    struct dir_dn dn;
    char err[256], buf[DIR_DN_MAX + 1];

    CU_ASSERT_EQUAL_FATAL(dir_dn_parse("ou=AMT,dc=Contoso,Dc=com", &dn, err, sizeof(err)),
                          0);
    CU_ASSERT_EQUAL(dn.n, 3);
    CU_ASSERT_EQUAL(dn.rdn[0].type, DIR_RDN_OU);
    CU_ASSERT_STRING_EQUAL(dn.rdn[0].value, "AMT");
    CU_ASSERT_EQUAL(dn.rdn[2].type, DIR_RDN_DC);
    CU_ASSERT_EQUAL(dir_dn_format(&dn, buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "OU=AMT,DC=Contoso,DC=com");

    /* escapes: a backslash and the character, or two hex digits */
    CU_ASSERT_EQUAL(dir_dn_parse("OU=AMT\\, Europe,DC=x", &dn, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(dn.rdn[0].value, "AMT, Europe");
    CU_ASSERT_EQUAL(dir_dn_format(&dn, buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "OU=AMT\\, Europe,DC=x");
    CU_ASSERT_EQUAL(dir_dn_parse("OU=AMT\\2c Europe,DC=x", &dn, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(dn.rdn[0].value, "AMT, Europe");
    CU_ASSERT_EQUAL(
        dir_dn_parse("CN=\\#1 a=b \\+\\\"\\\\\\<\\>\\;\\ ", &dn, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(dn.rdn[0].value, "#1 a=b +\"\\<>; ");
    CU_ASSERT_EQUAL(dir_dn_format(&dn, buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "CN=\\#1 a=b \\+\\\"\\\\\\<\\>\\;\\ ");
    CU_ASSERT_EQUAL(dir_dn_parse("CN=\\41\\ b", &dn, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(dn.rdn[0].value, "A b");
    CU_ASSERT_EQUAL(dir_dn_format(&dn, buf, sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "CN=A b");
    /* too small a buffer */
    CU_ASSERT_EQUAL(dir_dn_format(&dn, buf, 4), AMT_ERR_TOO_LARGE);
    CU_ASSERT_STRING_EQUAL(buf, "");
}

static void
test_dn_refused(void)
{
    static const char *const bad[] = {
        "",
        "OU=",
        "OU",
        "=AMT",
        "XX=AMT",
        "O=Contoso",
        "OU=a+CN=b",
        "OU=a,,DC=b",
        "OU=a,",
        "OU=a, DC=b",
        "OU=a ,DC=b",
        "OU=#a",
        "OU=a\"b",
        "OU=a;b",
        "OU=a<b",
        "OU=a\\zz",
        "OU=a\\",
        "OU=a\\01",
        "OU=a\\7f",
        "OU=\xc3\xa9t\xc3\xa9",
        "OU=tab\there",
        "DC=con.toso",
        "DC=-contoso",
    };
    char err[256], big[DIR_DN_MAX + 40], many[400];
    struct dir_dn dn;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        CU_ASSERT_EQUAL(dir_dn_parse(bad[i], &dn, err, sizeof(err)), AMT_ERR_DIR_DN);
        CU_ASSERT_NOT_EQUAL(err[0], '\0');
    }
    /* a value of 65 characters, a DN of more than DIR_DN_MAX, 17 RDNs */
    snprintf(big, sizeof(big), "OU=%065d", 1);
    CU_ASSERT_EQUAL(dir_dn_parse(big, &dn, err, sizeof(err)), AMT_ERR_DIR_DN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "64"));
    snprintf(big, sizeof(big), "OU=%064d", 1);
    CU_ASSERT_EQUAL(dir_dn_parse(big, &dn, err, sizeof(err)), 0);
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "OU=", 3);
    CU_ASSERT_EQUAL(dir_dn_parse(big, &dn, err, sizeof(err)), AMT_ERR_DIR_DN);
    many[0] = '\0';
    for (int i = 0; i < 17; i++)
        strcat(many, i == 0 ? "OU=a" : ",OU=a");
    CU_ASSERT_EQUAL(dir_dn_parse(many, &dn, err, sizeof(err)), AMT_ERR_DIR_DN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "16"));
    CU_ASSERT_EQUAL(dir_dn_parse(NULL, &dn, err, sizeof(err)), AMT_ERR_INVALID_ARGUMENT);
    /* no message buffer is fine */
    CU_ASSERT_EQUAL(dir_dn_parse("OU=", &dn, NULL, 0), AMT_ERR_DIR_DN);
}

/* Seven OUs of 64 characters: a path that fits, and a DN that does not. */
static const char *
long_path(void)
{
    static char path[DIR_DN_MAX + 1];

    path[0] = '\0';
    for (int i = 0; i < 7; i++) {
        char rdn[72];

        snprintf(rdn, sizeof(rdn), "%sOU=%064d", i == 0 ? "" : ",", i);
        strcat(path, rdn);
    }
    return path;
}

static void
test_container_names(void)
{
    char buf[DIR_DN_MAX + 1], err[256];

    CU_ASSERT_EQUAL(
        dir_container_dn("OU=AMT", "contoso.com", buf, sizeof(buf), err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "OU=AMT,DC=contoso,DC=com");
    CU_ASSERT_EQUAL(dir_container_dn("ou=AMT,ou=Computers", "Sales.Contoso.COM.", buf,
                                     sizeof(buf), err, sizeof(err)),
                    0);
    CU_ASSERT_STRING_EQUAL(buf, "OU=AMT,OU=Computers,DC=sales,DC=contoso,DC=com");
    /* written in full, the DC part must be the domain */
    CU_ASSERT_EQUAL(dir_container_dn("OU=AMT,DC=CONTOSO,DC=com", "contoso.com", buf,
                                     sizeof(buf), err, sizeof(err)),
                    0);
    CU_ASSERT_STRING_EQUAL(buf, "OU=AMT,DC=contoso,DC=com");
    CU_ASSERT_EQUAL(dir_container_dn("OU=AMT,DC=fabrikam,DC=com", "contoso.com", buf,
                                     sizeof(buf), err, sizeof(err)),
                    AMT_ERR_DIR_DOMAIN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "contoso.com"));
    CU_ASSERT_EQUAL(dir_container_dn("OU=AMT,DC=sales,DC=contoso,DC=com", "contoso.com",
                                     buf, sizeof(buf), err, sizeof(err)),
                    AMT_ERR_DIR_DOMAIN);
    CU_ASSERT_EQUAL(dir_container_dn("DC=contoso,DC=com", "contoso.com", buf, sizeof(buf),
                                     err, sizeof(err)),
                    AMT_ERR_DIR_DN);
    CU_ASSERT_EQUAL(dir_container_dn("OU=a,DC=contoso,OU=b", "contoso.com", buf,
                                     sizeof(buf), err, sizeof(err)),
                    AMT_ERR_DIR_DN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "DC parts come last"));
    CU_ASSERT_EQUAL(
        dir_container_dn("OU=AMT", "contoso..com", buf, sizeof(buf), err, sizeof(err)),
        AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(dir_container_dn("OU=AMT", NULL, buf, sizeof(buf), err, sizeof(err)),
                    AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(dir_container_dn("OU=a,OU=b,OU=c,OU=d,OU=e,OU=f,OU=g,OU=h,OU=i,OU=j",
                                     "a.b.c.d.e.f.g", buf, sizeof(buf), err, sizeof(err)),
                    AMT_ERR_DIR_DN);

    /* caps on what the domain adds: labels, and length */
    CU_ASSERT_EQUAL(dir_container_dn("OU=AMT", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q", buf,
                                     sizeof(buf), err, sizeof(err)),
                    AMT_ERR_DIR_DN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "labels"));
    CU_ASSERT_EQUAL(dir_container_dn(long_path(),
                                     "a-very-long-subdomain-name-for-testing.contoso.com",
                                     buf, sizeof(buf), err, sizeof(err)),
                    AMT_ERR_TOO_LARGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "container longer than 512"));

    CU_ASSERT_EQUAL(dir_container_path("ou=AMT,DC=contoso,DC=com", buf, sizeof(buf), err,
                                       sizeof(err)),
                    0);
    CU_ASSERT_STRING_EQUAL(buf, "OU=AMT");
    CU_ASSERT_EQUAL(
        dir_container_path("CN=Computers", buf, sizeof(buf), err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "CN=Computers");
    CU_ASSERT_EQUAL(dir_container_path("OU=", buf, sizeof(buf), err, sizeof(err)),
                    AMT_ERR_DIR_DN);
}

static void
test_spn_set(void)
{
    char spns[DIR_SPN_COUNT][DIR_SPN_MAX + 1];
    char host[70], domain[260];

    CU_ASSERT_EQUAL_FATAL(dir_spn_set("PC1", "Contoso.com.", spns), 0);
    CU_ASSERT_STRING_EQUAL(spns[0], "HTTP/pc1.contoso.com:16992");
    CU_ASSERT_STRING_EQUAL(spns[1], "HTTP/pc1.contoso.com:16993");
    CU_ASSERT_STRING_EQUAL(spns[2], "HTTP/pc1:16992");
    CU_ASSERT_STRING_EQUAL(spns[3], "HTTP/pc1:16993");
    CU_ASSERT_EQUAL(dir_spn_set("pc1.contoso.com", "contoso.com", spns), AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(dir_spn_set("pc1", "contoso com", spns), AMT_ERR_NS_NAME);
    /* a full name over 253 characters is no DNS name */
    memset(host, 'h', 63);
    host[63] = '\0';
    snprintf(domain, sizeof(domain), "%.63s.%.63s.%.63s.%.60s", host, host, host, host);
    CU_ASSERT_EQUAL(dir_spn_set(host, domain, spns), AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(dir_spn_set("pc1", "contoso.com", NULL), AMT_ERR_INVALID_ARGUMENT);
}

/* ---- DIR-OU ---- */

static void
test_missing_container_refused(void)
{
    struct fixture f;
    struct dir_account acct;
    char err[256] = "";

    CU_ASSERT_FATAL(setup(&f));
    CU_ASSERT_EQUAL(dir_provision_computer(f.dir, "pc1", "contoso.com", "OU=AMT", UUID_A,
                                           &acct, err, sizeof(err)),
                    AMT_ERR_DIR_NO_CONTAINER);
    CU_ASSERT_STRING_EQUAL(err,
                           "OU=AMT,DC=contoso,DC=com does not exist in the directory");
    CU_ASSERT_EQUAL(dir_find_computer(f.dir, UUID_A, &acct, err, sizeof(err)),
                    AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(dir_check_container(f.dir, "OU=AMT", "contoso.com", err, sizeof(err)),
                    AMT_ERR_DIR_NO_CONTAINER);
    CU_ASSERT_STRING_EQUAL(err,
                           "OU=AMT,DC=contoso,DC=com does not exist in the directory");

    CU_ASSERT_EQUAL(
        dir_create_container(f.dir, "OU=AMT", "contoso.com", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(dir_check_container(f.dir, "OU=AMT", "contoso.com", err, sizeof(err)),
                    0);
    /* the same name elsewhere in the tree is another container */
    CU_ASSERT_EQUAL(
        dir_check_container(f.dir, "OU=AMT,OU=Sub", "contoso.com", err, sizeof(err)),
        AMT_ERR_DIR_NO_CONTAINER);
    CU_ASSERT_EQUAL(
        dir_check_container(f.dir, "OU=AMT", "sales.contoso.com", err, sizeof(err)),
        AMT_ERR_DIR_NO_CONTAINER);
    CU_ASSERT_EQUAL(dir_check_container(f.dir, "OU=", "contoso.com", err, sizeof(err)),
                    AMT_ERR_DIR_DN);
    teardown(&f);
}

static void
test_same_path_in_every_domain(void)
{
    const char *const domains[] = {"contoso.com", "sales.contoso.com", "fabrikam.com"};
    struct fixture f;
    char err[512] = "";

    CU_ASSERT_FATAL(setup(&f));
    CU_ASSERT_EQUAL(
        dir_create_container(f.dir, "OU=AMT", "contoso.com", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(
        dir_create_container(f.dir, "OU=AMT", "sales.contoso.com", err, sizeof(err)), 0);
    /* fabrikam.com has the name, but at another path */
    CU_ASSERT_EQUAL(
        dir_create_container(f.dir, "OU=AMT,OU=IT", "fabrikam.com", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(dir_check_containers(f.dir, "OU=AMT", domains, 2, err, sizeof(err)),
                    0);
    CU_ASSERT_EQUAL(dir_check_containers(f.dir, "OU=AMT", domains, 3, err, sizeof(err)),
                    AMT_ERR_DIR_NO_CONTAINER);
    CU_ASSERT_STRING_EQUAL(err,
                           "OU=AMT,DC=fabrikam,DC=com does not exist in the directory");
    /* every missing one is named */
    CU_ASSERT_EQUAL(
        dir_check_containers(f.dir, "OU=AMT,OU=IT", domains, 3, err, sizeof(err)),
        AMT_ERR_DIR_NO_CONTAINER);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "OU=AMT,OU=IT,DC=contoso,DC=com; "
                                       "OU=AMT,OU=IT,DC=sales,DC=contoso,DC=com do not "
                                       "exist"));
    CU_ASSERT_PTR_NULL(strstr(err, "fabrikam"));
    CU_ASSERT_EQUAL(dir_check_containers(f.dir, "OU=AMT", domains, 0, err, sizeof(err)),
                    0);
    CU_ASSERT_EQUAL(dir_check_containers(f.dir, "DC=x", domains, 1, err, sizeof(err)),
                    AMT_ERR_DIR_DN);
    CU_ASSERT_EQUAL(dir_check_containers(f.dir, "OU=AMT", NULL, 1, err, sizeof(err)),
                    AMT_ERR_INVALID_ARGUMENT);
    teardown(&f);
}

/* ---- computer accounts ---- */

static void
test_account_and_spns(void)
{
    struct fixture f;
    struct dir_account acct, again;
    char err[256];

    CU_ASSERT_FATAL(setup(&f));
    CU_ASSERT_EQUAL_FATAL(
        dir_create_container(f.dir, "OU=AMT", "contoso.com", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(dir_provision_computer(f.dir, "PC1", "contoso.com", "OU=AMT",
                                                 "4C4C4544-0042-3510-8052-B3C04F4D3301",
                                                 &acct, err, sizeof(err)),
                          0);
    CU_ASSERT_STRING_EQUAL(acct.dn, "CN=pc1,OU=AMT,DC=contoso,DC=com");
    CU_ASSERT_STRING_EQUAL(acct.name, "pc1");
    CU_ASSERT_STRING_EQUAL(acct.domain, "contoso.com");
    CU_ASSERT_STRING_EQUAL(acct.container, "OU=AMT,DC=contoso,DC=com");
    CU_ASSERT_STRING_EQUAL(acct.uuid, UUID_A);
    CU_ASSERT_EQUAL_FATAL(acct.n_spns, 4);
    CU_ASSERT_STRING_EQUAL(acct.spns[0], "HTTP/pc1.contoso.com:16992");
    CU_ASSERT_STRING_EQUAL(acct.spns[1], "HTTP/pc1.contoso.com:16993");
    CU_ASSERT_STRING_EQUAL(acct.spns[2], "HTTP/pc1:16992");
    CU_ASSERT_STRING_EQUAL(acct.spns[3], "HTTP/pc1:16993");
    CU_ASSERT_EQUAL(dir_find_computer(f.dir, UUID_A, &again, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(again.dn, acct.dn);
    CU_ASSERT_EQUAL(again.n_spns, 4);
    /* without an out parameter too */
    CU_ASSERT_EQUAL(dir_provision_computer(f.dir, "pc1", "contoso.com", "OU=AMT", UUID_A,
                                           NULL, err, sizeof(err)),
                    0);
    CU_ASSERT_EQUAL(dir_provision_computer(f.dir, "pc1", "contoso.com", "OU=AMT", "nope",
                                           NULL, err, sizeof(err)),
                    AMT_ERR_UUID_FORMAT);
    CU_ASSERT_EQUAL(dir_provision_computer(f.dir, "pc1.x", "contoso.com", "OU=AMT",
                                           UUID_A, NULL, err, sizeof(err)),
                    AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(dir_provision_computer(f.dir, "pc1", "contoso_com", "OU=AMT", UUID_A,
                                           NULL, err, sizeof(err)),
                    AMT_ERR_NS_NAME);
    CU_ASSERT_EQUAL(dir_provision_computer(f.dir, "pc1", "contoso.com",
                                           "OU=AMT,DC=fabrikam,DC=com", UUID_A, NULL, err,
                                           sizeof(err)),
                    AMT_ERR_DIR_DOMAIN);
    /* a container that fits, but not with the account's CN in front */
    CU_ASSERT_EQUAL(dir_provision_computer(f.dir, "pc1", "contoso-europe-sales.com",
                                           long_path(), UUID_A, NULL, err, sizeof(err)),
                    AMT_ERR_DIR_DN);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(err, "account name longer than 512 characters: CN=pc1,"));
    teardown(&f);
}

static void
test_reprovision_updates(void)
{
    struct fixture f;
    struct dir_account acct;
    char err[256];

    CU_ASSERT_FATAL(setup(&f));
    CU_ASSERT_EQUAL_FATAL(
        dir_create_container(f.dir, "OU=AMT", "contoso.com", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(
        dir_create_container(f.dir, "OU=AMT2", "contoso.com", err, sizeof(err)), 0);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(dir_provision_computer(f.dir, "pc1", "contoso.com", "OU=AMT",
                                               UUID_A, &acct, err, sizeof(err)),
                        0);
    /* one account, four SPNs, however many times */
    CU_ASSERT_EQUAL(acct.n_spns, 4);
    CU_ASSERT_EQUAL(site_db_dir_account_by_name(f.db, "pc1", "contoso.com", &acct), 0);
    CU_ASSERT_STRING_EQUAL(acct.uuid, UUID_A);

    /* a new name: the account is renamed, and the old name and SPNs are free */
    CU_ASSERT_EQUAL(dir_provision_computer(f.dir, "pc9", "contoso.com", "OU=AMT", UUID_A,
                                           &acct, err, sizeof(err)),
                    0);
    CU_ASSERT_STRING_EQUAL(acct.dn, "CN=pc9,OU=AMT,DC=contoso,DC=com");
    CU_ASSERT_EQUAL(acct.n_spns, 4);
    CU_ASSERT_STRING_EQUAL(acct.spns[2], "HTTP/pc9:16992");
    CU_ASSERT_EQUAL(site_db_dir_account_by_name(f.db, "pc1", "contoso.com", &acct),
                    AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(dir_provision_computer(f.dir, "pc1", "contoso.com", "OU=AMT", UUID_B,
                                           &acct, err, sizeof(err)),
                    0);
    CU_ASSERT_STRING_EQUAL(acct.spns[3], "HTTP/pc1:16993");

    /* another container: the account moves */
    CU_ASSERT_EQUAL(dir_provision_computer(f.dir, "pc9", "contoso.com", "OU=AMT2", UUID_A,
                                           &acct, err, sizeof(err)),
                    0);
    CU_ASSERT_STRING_EQUAL(acct.dn, "CN=pc9,OU=AMT2,DC=contoso,DC=com");
    CU_ASSERT_EQUAL(acct.n_spns, 4);
    teardown(&f);
}

static void
test_name_taken(void)
{
    struct fixture f;
    struct dir_account acct;
    char err[256];

    CU_ASSERT_FATAL(setup(&f));
    CU_ASSERT_EQUAL_FATAL(
        dir_create_container(f.dir, "OU=AMT", "contoso.com", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(
        dir_create_container(f.dir, "OU=Other", "contoso.com", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(dir_provision_computer(f.dir, "pc1", "contoso.com", "OU=AMT",
                                                 UUID_A, NULL, err, sizeof(err)),
                          0);
    CU_ASSERT_EQUAL(dir_provision_computer(f.dir, "PC1", "contoso.com", "OU=AMT", UUID_B,
                                           &acct, err, sizeof(err)),
                    AMT_ERR_DIR_NAME_TAKEN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "CN=pc1,OU=AMT,DC=contoso,DC=com"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, UUID_A));
    /* an account name is unique in its domain, whatever the container */
    CU_ASSERT_EQUAL(dir_provision_computer(f.dir, "pc1", "contoso.com", "OU=Other",
                                           UUID_B, &acct, err, sizeof(err)),
                    AMT_ERR_DIR_NAME_TAKEN);
    CU_ASSERT_EQUAL(dir_find_computer(f.dir, UUID_B, &acct, err, sizeof(err)),
                    AMT_ERR_NOT_FOUND);
    /* the embedded store refuses the same on its own */
    CU_ASSERT_EQUAL(site_db_dir_account_put(f.db, "CN=pc1,OU=Other,DC=contoso,DC=com",
                                            "pc1", "contoso.com",
                                            "OU=Other,DC=contoso,DC=com", UUID_B),
                    AMT_ERR_DIR_NAME_TAKEN);
    CU_ASSERT_EQUAL(site_db_dir_account_put(f.db, "CN=pc7,OU=Gone,DC=contoso,DC=com",
                                            "pc7", "contoso.com",
                                            "OU=Gone,DC=contoso,DC=com", UUID_C),
                    AMT_ERR_DIR_NO_CONTAINER);
    teardown(&f);
}

static void
test_spn_taken(void)
{
    const char *const theirs[] = {"HTTP/pc2:16992"};
    struct fixture f;
    struct dir_account acct;
    char err[256], taken[256];

    CU_ASSERT_FATAL(setup(&f));
    CU_ASSERT_EQUAL_FATAL(
        dir_create_container(f.dir, "OU=AMT", "contoso.com", err, sizeof(err)), 0);
    /* another account in the forest already answers for pc2's short name */
    CU_ASSERT_EQUAL_FATAL(site_db_dir_account_put(f.db, "CN=web,OU=AMT,DC=contoso,DC=com",
                                                  "web", "contoso.com",
                                                  "OU=AMT,DC=contoso,DC=com", UUID_C),
                          0);
    CU_ASSERT_EQUAL_FATAL(site_db_dir_spns_set(f.db, "CN=web,OU=AMT,DC=contoso,DC=com",
                                               theirs, 1, taken, sizeof(taken)),
                          0);
    CU_ASSERT_EQUAL(dir_provision_computer(f.dir, "pc2", "contoso.com", "OU=AMT", UUID_B,
                                           &acct, err, sizeof(err)),
                    AMT_ERR_DIR_SPN_TAKEN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "HTTP/pc2:16992"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "CN=web,OU=AMT,DC=contoso,DC=com"));
    /* the account was made, and none of its SPNs: they go in together or not at all */
    CU_ASSERT_EQUAL(dir_find_computer(f.dir, UUID_B, &acct, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(acct.n_spns, 0);
    CU_ASSERT_EQUAL(site_db_dir_account_by_uuid(f.db, UUID_C, &acct), 0);
    CU_ASSERT_EQUAL(acct.n_spns, 1);
    /* once the other account lets go, running again completes the account */
    CU_ASSERT_EQUAL(
        site_db_dir_spns_set(f.db, "CN=web,OU=AMT,DC=contoso,DC=com", NULL, 0, NULL, 0),
        0);
    CU_ASSERT_EQUAL(dir_provision_computer(f.dir, "pc2", "contoso.com", "OU=AMT", UUID_B,
                                           &acct, err, sizeof(err)),
                    0);
    CU_ASSERT_EQUAL(acct.n_spns, 4);
    /* a list naming one SPN twice is the same list */
    CU_ASSERT_EQUAL(site_db_dir_spns_set(
                        f.db, "CN=web,OU=AMT,DC=contoso,DC=com",
                        (const char *const[]){"HTTP/web:1", "http/WEB:1"}, 2, NULL, 0),
                    0);
    CU_ASSERT_EQUAL(site_db_dir_spns_set(f.db, "CN=nobody,DC=x", theirs, 1, NULL, 0),
                    AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(site_db_dir_spns_set(f.db, "CN=web,OU=AMT,DC=contoso,DC=com",
                                         (const char *const[]){""}, 1, NULL, 0),
                    AMT_ERR_INVALID_ARGUMENT);
    teardown(&f);
}

static void
test_remove(void)
{
    struct fixture f;
    struct dir_account acct;
    char err[256];

    CU_ASSERT_FATAL(setup(&f));
    CU_ASSERT_EQUAL_FATAL(
        dir_create_container(f.dir, "OU=AMT", "contoso.com", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL_FATAL(dir_provision_computer(f.dir, "pc1", "contoso.com", "OU=AMT",
                                                 UUID_A, NULL, err, sizeof(err)),
                          0);
    CU_ASSERT_EQUAL(dir_remove_computer(f.dir, UUID_A, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(dir_find_computer(f.dir, UUID_A, &acct, err, sizeof(err)),
                    AMT_ERR_NOT_FOUND);
    CU_ASSERT_EQUAL(dir_remove_computer(f.dir, UUID_A, err, sizeof(err)),
                    AMT_ERR_NOT_FOUND);
    /* its SPNs went with it: another device may take the name */
    CU_ASSERT_EQUAL(dir_provision_computer(f.dir, "pc1", "contoso.com", "OU=AMT", UUID_B,
                                           &acct, err, sizeof(err)),
                    0);
    CU_ASSERT_EQUAL(acct.n_spns, 4);
    CU_ASSERT_EQUAL(site_db_dir_account_delete(f.db, "CN=none,DC=x"), AMT_ERR_NOT_FOUND);
    teardown(&f);
}

/* ---- a back end of the test's own ---- */

struct fake {
    int calls;
    int fail_exists;
    bool freed;
    char spn_account[DIR_DN_MAX + 1];
    size_t n_spns;
};

static int
fake_exists(void *ctx, const char *dn, bool *exists, char *err, size_t errlen)
{
    struct fake *f = ctx;

    f->calls++;
    if (f->fail_exists != 0)
        return f->fail_exists;
    *exists = strcmp(dn, "OU=AMT,DC=example,DC=org") == 0;
    return 0;
}

static int
fake_find(void *ctx, const char *uuid, struct dir_account *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->dn, sizeof(out->dn), "%s", "CN=box,OU=AMT,DC=example,DC=org");
    snprintf(out->uuid, sizeof(out->uuid), "%s", uuid);
    return 0;
}

static int
fake_find_name(void *ctx, const char *name, const char *domain, struct dir_account *out,
               char *err, size_t errlen)
{
    /* a pre-staged account no AMT device owns */
    if (strcmp(name, "staged") == 0) {
        memset(out, 0, sizeof(*out));
        snprintf(out->dn, sizeof(out->dn), "CN=staged,OU=AMT,DC=example,DC=org");
        return 0;
    }
    return AMT_ERR_NOT_FOUND;
}

static int
fake_create(void *ctx, const char *name, const char *domain, const char *container,
            const char *uuid, char *err, size_t errlen)
{
    ((struct fake *)ctx)->calls++;
    return 0;
}

static int
fake_set_spns(void *ctx, const char *account_dn, const char *const *spns, size_t n,
              char *err, size_t errlen)
{
    struct fake *f = ctx;

    snprintf(f->spn_account, sizeof(f->spn_account), "%s", account_dn);
    f->n_spns = n;
    return AMT_ERR_TIMEOUT;
}

static int
fake_delete(void *ctx, const char *account_dn, char *err, size_t errlen)
{
    return 0;
}

static void
fake_free(void *ctx)
{
    ((struct fake *)ctx)->freed = true;
}

static void
test_other_back_end(void)
{
    struct dir_ops ops = {
        .container_exists = fake_exists,
        .find_account = fake_find,
        .find_account_by_name = fake_find_name,
        .create_computer_account = fake_create,
        .set_spns = fake_set_spns,
        .delete_account = fake_delete,
        .free = fake_free,
    };
    struct fake fk = {0};
    struct dir *dir = NULL;
    char err[256];

    CU_ASSERT_EQUAL_FATAL(dir_new(&ops, &fk, &dir), 0);
    CU_ASSERT_EQUAL(dir_check_container(dir, "OU=AMT", "example.org", err, sizeof(err)),
                    0);
    CU_ASSERT_EQUAL(fk.calls, 1);
    /* a back end that cannot make containers says so */
    CU_ASSERT_EQUAL(dir_create_container(dir, "OU=AMT", "example.org", err, sizeof(err)),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not let"));
    /* its failures reach the caller with a sentence */
    CU_ASSERT_EQUAL(dir_provision_computer(dir, "box", "example.org", "OU=AMT", UUID_A,
                                           NULL, err, sizeof(err)),
                    AMT_ERR_TIMEOUT);
    CU_ASSERT_STRING_EQUAL(fk.spn_account, "CN=box,OU=AMT,DC=example,DC=org");
    CU_ASSERT_EQUAL(fk.n_spns, DIR_SPN_COUNT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot set the SPNs of CN=box"));
    CU_ASSERT_EQUAL(dir_provision_computer(dir, "staged", "example.org", "OU=AMT", UUID_A,
                                           NULL, err, sizeof(err)),
                    AMT_ERR_DIR_NAME_TAKEN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "belongs to no AMT device"));
    fk.fail_exists = AMT_ERR_TIMEOUT;
    CU_ASSERT_EQUAL(dir_check_container(dir, "OU=AMT", "example.org", err, sizeof(err)),
                    AMT_ERR_TIMEOUT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot look up OU=AMT,DC=example,DC=org"));
    CU_ASSERT_EQUAL(dir_remove_computer(dir, UUID_A, err, sizeof(err)), 0);
    dir_free(dir);
    CU_ASSERT_TRUE(fk.freed);

    ops.set_spns = NULL;
    CU_ASSERT_EQUAL(dir_new(&ops, &fk, &dir), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(dir);
    CU_ASSERT_EQUAL(dir_new(NULL, &fk, &dir), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_EQUAL(dir_new_embedded(NULL, &dir), AMT_ERR_INVALID_ARGUMENT);
    dir_free(NULL);
}

static CU_TestInfo dir_tests[] = {
    {"DN parse and canonical form", test_dn_parse_and_format},
    {"DN refused", test_dn_refused},
    {"container names", test_container_names},
    {"SPN set", test_spn_set},
    {"DIR-OU: missing container refused with its name", test_missing_container_refused},
    {"DIR-OU: same path in every domain", test_same_path_in_every_domain},
    {"account and SPNs", test_account_and_spns},
    {"re-provisioning updates, never duplicates", test_reprovision_updates},
    {"name taken by another device", test_name_taken},
    {"SPN taken by another account", test_spn_taken},
    {"remove", test_remove},
    {"another back end", test_other_back_end},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"directory", suite_init, suite_cleanup, NULL, NULL, dir_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_prov_directory", suites);
}
