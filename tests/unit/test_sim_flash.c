/* The simulator's flash store: persistence, refusal of corrupt stores, atomic commits. */
#include "err.h"
#include "flash.h"
#include "unit.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

static char tmp_root[] = "/tmp/test_sim_flash.XXXXXX";
static unsigned dir_counter;

static void
new_dir(char *buf, size_t size)
{
    snprintf(buf, size, "%s/d%u", tmp_root, dir_counter++);
}

static void
store_path(const char *dir, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", dir, SIM_FLASH_FILE_NAME);
}

/* Writes a store file with a correct checksum around an arbitrary body. */
static void
write_store(const char *dir, const char *body)
{
    char path[512], hex[65];
    unsigned char md[32];
    unsigned int mdlen;
    FILE *f;

    mkdir(dir, 0700);
    store_path(dir, path, sizeof(path));
    EVP_Digest(body, strlen(body), md, &mdlen, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "%ssha256 %s\n", body, hex);
    fclose(f);
}

static int
open_expect(const char *dir, int want)
{
    struct sim_flash *flash = NULL;
    char err[256] = "";
    int r = sim_flash_open(dir, &flash, err, sizeof(err));

    CU_ASSERT_EQUAL(r, want);
    if (r != 0) {
        CU_ASSERT_PTR_NULL(flash);
        CU_ASSERT(err[0] != '\0');
    }
    sim_flash_free(flash);
    return r;
}

static void
test_new_store_is_empty(void)
{
    char dir[256];
    struct sim_flash *flash = NULL;

    new_dir(dir, sizeof(dir));
    CU_ASSERT_EQUAL_FATAL(sim_flash_open(dir, &flash, NULL, 0), 0);
    CU_ASSERT_TRUE(sim_flash_was_empty(flash));
    CU_ASSERT_EQUAL(sim_flash_count(flash), 0);
    CU_ASSERT_PTR_NULL(sim_flash_get(flash, "state"));
    CU_ASSERT_STRING_EQUAL(sim_flash_dir(flash), dir);
    CU_ASSERT_FALSE(sim_flash_dirty(flash));
    sim_flash_free(flash);
}

static void
test_values_survive_reopen(void)
{
    static const char odd[] = "a b\nc%d\te\x01\xc3\xa9 end";
    char dir[256];
    struct sim_flash *flash = NULL;

    new_dir(dir, sizeof(dir));
    CU_ASSERT_EQUAL_FATAL(sim_flash_open(dir, &flash, NULL, 0), 0);
    CU_ASSERT_EQUAL(sim_flash_set(flash, "state", "provisioned"), 0);
    CU_ASSERT_EQUAL(sim_flash_set(flash, "host.name", "pc1"), 0);
    CU_ASSERT_EQUAL(sim_flash_set(flash, "odd", odd), 0);
    CU_ASSERT_EQUAL(sim_flash_set(flash, "empty", ""), 0);
    CU_ASSERT_TRUE(sim_flash_dirty(flash));
    CU_ASSERT_EQUAL(sim_flash_commit(flash), 0);
    CU_ASSERT_FALSE(sim_flash_dirty(flash));
    sim_flash_free(flash);

    flash = NULL;
    CU_ASSERT_EQUAL_FATAL(sim_flash_open(dir, &flash, NULL, 0), 0);
    CU_ASSERT_FALSE(sim_flash_was_empty(flash));
    CU_ASSERT_EQUAL(sim_flash_count(flash), 4);
    CU_ASSERT_STRING_EQUAL(sim_flash_get(flash, "state"), "provisioned");
    CU_ASSERT_STRING_EQUAL(sim_flash_get(flash, "odd"), odd);
    CU_ASSERT_STRING_EQUAL(sim_flash_get(flash, "empty"), "");
    /* sorted order */
    CU_ASSERT_STRING_EQUAL(sim_flash_key_at(flash, 0), "empty");
    CU_ASSERT_STRING_EQUAL(sim_flash_key_at(flash, 3), "state");
    CU_ASSERT_PTR_NULL(sim_flash_key_at(flash, 4));
    sim_flash_free(flash);
}

static void
test_store_file_is_private(void)
{
    char dir[256], path[512];
    struct sim_flash *flash = NULL;
    struct stat st;

    new_dir(dir, sizeof(dir));
    CU_ASSERT_EQUAL_FATAL(sim_flash_open(dir, &flash, NULL, 0), 0);
    CU_ASSERT_EQUAL(sim_flash_set(flash, "admin.ha1", "0123"), 0);
    CU_ASSERT_EQUAL(sim_flash_commit(flash), 0);
    store_path(dir, path, sizeof(path));
    CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0077, 0);
    sim_flash_free(flash);
}

static void
test_remove_and_rollback(void)
{
    char dir[256];
    struct sim_flash *flash = NULL;
    size_t removed = 0;

    new_dir(dir, sizeof(dir));
    CU_ASSERT_EQUAL_FATAL(sim_flash_open(dir, &flash, NULL, 0), 0);
    sim_flash_set(flash, "acl.0.user", "alice");
    sim_flash_set(flash, "acl.1.user", "bob");
    sim_flash_set(flash, "acls", "2");
    sim_flash_set(flash, "state", "factory");
    CU_ASSERT_EQUAL(sim_flash_commit(flash), 0);

    CU_ASSERT_EQUAL(sim_flash_remove_prefix(flash, "acl.", &removed), 0);
    CU_ASSERT_EQUAL(removed, 2);
    CU_ASSERT_PTR_NULL(sim_flash_get(flash, "acl.0.user"));
    CU_ASSERT_STRING_EQUAL(sim_flash_get(flash, "acls"), "2");
    CU_ASSERT_EQUAL(sim_flash_set(flash, "state", NULL), 0);
    CU_ASSERT_PTR_NULL(sim_flash_get(flash, "state"));
    CU_ASSERT_EQUAL(sim_flash_set(flash, "absent", NULL), 0);
    CU_ASSERT_TRUE(sim_flash_dirty(flash));

    CU_ASSERT_EQUAL(sim_flash_rollback(flash), 0);
    CU_ASSERT_FALSE(sim_flash_dirty(flash));
    CU_ASSERT_STRING_EQUAL(sim_flash_get(flash, "acl.1.user"), "bob");
    CU_ASSERT_STRING_EQUAL(sim_flash_get(flash, "state"), "factory");
    CU_ASSERT_EQUAL(sim_flash_remove_prefix(flash, "", NULL), AMT_ERR_INVALID_ARGUMENT);
    sim_flash_free(flash);
}

static void
test_setting_same_value_is_not_a_change(void)
{
    char dir[256];
    struct sim_flash *flash = NULL;

    new_dir(dir, sizeof(dir));
    CU_ASSERT_EQUAL_FATAL(sim_flash_open(dir, &flash, NULL, 0), 0);
    sim_flash_set(flash, "k", "v");
    CU_ASSERT_EQUAL(sim_flash_commit(flash), 0);
    CU_ASSERT_EQUAL(sim_flash_set(flash, "k", "v"), 0);
    CU_ASSERT_FALSE(sim_flash_dirty(flash));
    CU_ASSERT_EQUAL(sim_flash_set(flash, "k", "w"), 0);
    CU_ASSERT_TRUE(sim_flash_dirty(flash));
    sim_flash_free(flash);
}

static void
test_keys_and_values_checked(void)
{
    char dir[256], *big;
    struct sim_flash *flash = NULL;

    new_dir(dir, sizeof(dir));
    CU_ASSERT_EQUAL_FATAL(sim_flash_open(dir, &flash, NULL, 0), 0);
    CU_ASSERT_EQUAL(sim_flash_set(flash, "", "v"), AMT_ERR_FLASH_KEY);
    CU_ASSERT_EQUAL(sim_flash_set(flash, "a b", "v"), AMT_ERR_FLASH_KEY);
    CU_ASSERT_EQUAL(sim_flash_set(flash, "a/b", "v"), AMT_ERR_FLASH_KEY);
    CU_ASSERT_EQUAL(sim_flash_set(flash, NULL, "v"), AMT_ERR_FLASH_KEY);
    big = malloc(SIM_FLASH_VALUE_MAX + 2);
    memset(big, 'x', SIM_FLASH_VALUE_MAX + 1);
    big[SIM_FLASH_VALUE_MAX + 1] = '\0';
    CU_ASSERT_EQUAL(sim_flash_set(flash, "big", big), AMT_ERR_FLASH_KEY);
    big[SIM_FLASH_VALUE_MAX] = '\0';
    CU_ASSERT_EQUAL(sim_flash_set(flash, "big", big), 0);
    free(big);
    sim_flash_free(flash);
    CU_ASSERT_EQUAL(sim_flash_open(NULL, &flash, NULL, 0), AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(flash);
}

static void
test_full_store_refused(void)
{
    char dir[256], key[32];
    struct sim_flash *flash = NULL;
    int r = 0;

    new_dir(dir, sizeof(dir));
    CU_ASSERT_EQUAL_FATAL(sim_flash_open(dir, &flash, NULL, 0), 0);
    for (unsigned i = 0; i <= SIM_FLASH_ENTRIES_MAX && r == 0; i++) {
        snprintf(key, sizeof(key), "k%u", i);
        r = sim_flash_set(flash, key, "v");
    }
    CU_ASSERT_EQUAL(r, AMT_ERR_FLASH_FULL);
    CU_ASSERT_EQUAL(sim_flash_count(flash), SIM_FLASH_ENTRIES_MAX);
    sim_flash_free(flash);
}

static void
test_corrupt_stores_refused(void)
{
    static const struct {
        const char *body;
    } bad[] = {
        {"not-a-store\nk v\n"},           {"amt-sim-flash 1\nnovalue\n"},
        {"amt-sim-flash 1\nbad/key v\n"}, {"amt-sim-flash 1\nk a%zz\n"},
        {"amt-sim-flash 1\nk a%0\n"},     {"amt-sim-flash 1\nk a%00b\n"},
        {"amt-sim-flash 1\nk a\tb\n"},    {"amt-sim-flash 1\nk v\nk w\n"},
    };
    char dir[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        new_dir(dir, sizeof(dir));
        write_store(dir, bad[i].body);
        if (open_expect(dir, AMT_ERR_FLASH_CORRUPT) != AMT_ERR_FLASH_CORRUPT)
            fprintf(stderr, "accepted corrupt body %zu\n", i);
    }
    /* the same body with a good shape opens */
    new_dir(dir, sizeof(dir));
    write_store(dir, "amt-sim-flash 1\nk a%25b\n");
    open_expect(dir, 0);
}

static void
corrupt_file(const char *dir, long offset, int byte, long truncate_to)
{
    char path[512];
    int fd;

    store_path(dir, path, sizeof(path));
    fd = open(path, O_RDWR);
    CU_ASSERT_FATAL(fd >= 0);
    if (byte >= 0) {
        unsigned char c = (unsigned char)byte;
        CU_ASSERT(pwrite(fd, &c, 1, offset) == 1);
    }
    if (truncate_to >= 0)
        CU_ASSERT(ftruncate(fd, truncate_to) == 0);
    close(fd);
}

static void
make_good_store(char *dir, size_t size)
{
    struct sim_flash *flash = NULL;

    new_dir(dir, size);
    CU_ASSERT_EQUAL_FATAL(sim_flash_open(dir, &flash, NULL, 0), 0);
    sim_flash_set(flash, "state", "provisioned");
    sim_flash_set(flash, "host.name", "pc1");
    CU_ASSERT_EQUAL(sim_flash_commit(flash), 0);
    sim_flash_free(flash);
}

static void
test_damaged_file_refused(void)
{
    char dir[256], path[512];

    make_good_store(dir, sizeof(dir));
    corrupt_file(dir, 20, 'X', -1); /* a flipped byte: checksum mismatch */
    open_expect(dir, AMT_ERR_FLASH_CORRUPT);

    make_good_store(dir, sizeof(dir));
    corrupt_file(dir, 0, -1, 30); /* torn write */
    open_expect(dir, AMT_ERR_FLASH_CORRUPT);

    make_good_store(dir, sizeof(dir));
    corrupt_file(dir, 0, -1, 0); /* empty file is not "no store" */
    open_expect(dir, AMT_ERR_FLASH_CORRUPT);

    make_good_store(dir, sizeof(dir));
    corrupt_file(dir, 18, 0, -1); /* a NUL byte */
    open_expect(dir, AMT_ERR_FLASH_CORRUPT);

    make_good_store(dir, sizeof(dir));
    store_path(dir, path, sizeof(path));
    CU_ASSERT_EQUAL(truncate(path, SIM_FLASH_FILE_MAX + 1), 0);
    open_expect(dir, AMT_ERR_FLASH_CORRUPT);

    make_good_store(dir, sizeof(dir));
    chmod(path, 0);
    if (geteuid() != 0) /* root reads anyway */
        open_expect(dir, AMT_ERR_FLASH_IO);
    chmod(path, 0600);

    /* the store path is a folder, not a file */
    new_dir(dir, sizeof(dir));
    mkdir(dir, 0700);
    store_path(dir, path, sizeof(path));
    mkdir(path, 0700);
    open_expect(dir, AMT_ERR_FLASH_IO);

    /* the folder is a file */
    new_dir(dir, sizeof(dir));
    close(open(dir, O_CREAT | O_WRONLY, 0600));
    open_expect(dir, AMT_ERR_FLASH_IO);
}

/*
 * A child commits generation after generation (each holding a counter and a payload
 * derived from it) while the parent kills it at a random moment; the store must then
 * open and hold one whole generation.
 */
static void
test_kill_during_commit_leaves_old_or_new(void)
{
    char dir[256];
    unsigned seen_new = 0;

    new_dir(dir, sizeof(dir));
    srand((unsigned)time(NULL));
    for (int round = 0; round < 25; round++) {
        pid_t pid = fork();
        struct sim_flash *flash = NULL;
        char err[256];
        const char *gen, *payload;
        char want[64];
        int status;

        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
            struct sim_flash *f = NULL;
            char value[64], big[20000];
            unsigned long g = 0;

            if (sim_flash_open(dir, &f, NULL, 0) != 0)
                _exit(3);
            if (sim_flash_get(f, "gen") != NULL)
                g = strtoul(sim_flash_get(f, "gen"), NULL, 10);
            for (;;) {
                g++;
                snprintf(value, sizeof(value), "%lu", g);
                memset(big, 'a' + (int)(g % 26), sizeof(big) - 1);
                big[sizeof(big) - 1] = '\0';
                if (sim_flash_set(f, "gen", value) != 0 ||
                    sim_flash_set(f, "payload", big) != 0 || sim_flash_commit(f) != 0)
                    _exit(4);
            }
        }
        usleep((useconds_t)(2000 + rand() % 20000));
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        CU_ASSERT_TRUE(WIFSIGNALED(status));

        CU_ASSERT_EQUAL_FATAL(sim_flash_open(dir, &flash, err, sizeof(err)), 0);
        gen = sim_flash_get(flash, "gen");
        payload = sim_flash_get(flash, "payload");
        if (gen != NULL) {
            unsigned long g = strtoul(gen, NULL, 10);

            CU_ASSERT_PTR_NOT_NULL_FATAL(payload);
            CU_ASSERT_EQUAL(strlen(payload), 19999);
            memset(want, 'a' + (int)(g % 26), sizeof(want) - 1);
            want[sizeof(want) - 1] = '\0';
            CU_ASSERT_EQUAL(strncmp(payload, want, sizeof(want) - 1), 0);
            CU_ASSERT_EQUAL(payload[19998], want[0]);
            seen_new++;
        } else {
            CU_ASSERT_PTR_NULL(payload);
        }
        sim_flash_free(flash);
    }
    CU_ASSERT(seen_new > 0);
}

static int
suite_init(void)
{
    return mkdtemp(tmp_root) == NULL ? -1 : 0;
}

static int
suite_clean(void)
{
    char cmd[300];

    snprintf(cmd, sizeof(cmd), "chmod -R u+rwx %s && rm -rf %s", tmp_root, tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

static CU_TestInfo flash_tests[] = {
    {"new store is empty", test_new_store_is_empty},
    {"values survive reopen", test_values_survive_reopen},
    {"store file is private", test_store_file_is_private},
    {"remove and rollback", test_remove_and_rollback},
    {"same value is not a change", test_setting_same_value_is_not_a_change},
    {"keys and values checked", test_keys_and_values_checked},
    {"full store refused", test_full_store_refused},
    {"corrupt stores refused", test_corrupt_stores_refused},
    {"damaged file refused", test_damaged_file_refused},
    {"kill during commit leaves old or new", test_kill_during_commit_leaves_old_or_new},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"sim_flash", suite_init, suite_clean, NULL, NULL, flash_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_sim_flash", suites);
}
