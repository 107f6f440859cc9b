/* The key pool: keys made ahead, kept in a cache folder so that fleets start fast. */
#include "err.h"
#include "keypool.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

static char tmp_root[] = "/tmp/test_keypool.XXXXXX";

static void
test_cache_made_then_reused(void)
{
    struct keypool *a = NULL, *b = NULL;
    EVP_PKEY *ka0 = NULL, *ka1 = NULL, *kb0 = NULL, *kb1 = NULL;
    char dir[256], path[300], err[256] = "";
    struct stat st;

    snprintf(dir, sizeof(dir), "%s/cache", tmp_root);
    CU_ASSERT_EQUAL_FATAL(keypool_new(2048, &a), 0);
    CU_ASSERT_EQUAL_FATAL(keypool_fill_cached(a, dir, 2, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(keypool_size(a), 2);
    snprintf(path, sizeof(path), "%s/key-0001.pem", dir);
    CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0077, 0);

    CU_ASSERT_EQUAL_FATAL(keypool_new(2048, &b), 0);
    CU_ASSERT_EQUAL_FATAL(keypool_fill_cached(b, dir, 2, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(keypool_take(a, &ka0), 0);
    CU_ASSERT_EQUAL(keypool_take(a, &ka1), 0);
    CU_ASSERT_EQUAL(keypool_take(b, &kb0), 0);
    CU_ASSERT_EQUAL(keypool_take(b, &kb1), 0);
    /* the same keys, in the same order, and two different ones */
    CU_ASSERT_EQUAL(EVP_PKEY_eq(ka0, kb0), 1);
    CU_ASSERT_EQUAL(EVP_PKEY_eq(ka1, kb1), 1);
    CU_ASSERT_NOT_EQUAL(EVP_PKEY_eq(ka0, ka1), 1);
    CU_ASSERT_EQUAL(keypool_size(a), 0);
    EVP_PKEY_free(ka0);
    EVP_PKEY_free(ka1);
    EVP_PKEY_free(kb0);
    EVP_PKEY_free(kb1);
    /* an empty pool still hands out keys, made on demand */
    CU_ASSERT_EQUAL(keypool_take(a, &ka0), 0);
    CU_ASSERT_PTR_NOT_NULL(ka0);
    EVP_PKEY_free(ka0);
    keypool_free(a);
    keypool_free(b);
}

static void
test_bad_cache_refused(void)
{
    struct keypool *p = NULL;
    char dir[256], path[300], err[256] = "";
    FILE *f;

    snprintf(dir, sizeof(dir), "%s/bad", tmp_root);
    mkdir(dir, 0700);
    snprintf(path, sizeof(path), "%s/key-0000.pem", dir);
    f = fopen(path, "w");
    fputs("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n", f);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(keypool_new(2048, &p), 0);
    CU_ASSERT_EQUAL(keypool_fill_cached(p, dir, 1, err, sizeof(err)), AMT_ERR_CRYPTO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "key-0000.pem"));
    CU_ASSERT_EQUAL(keypool_fill_cached(p, NULL, 1, err, sizeof(err)),
                    AMT_ERR_INVALID_ARGUMENT);
    keypool_free(p);
    CU_ASSERT_EQUAL(keypool_new(100, &p), AMT_ERR_INVALID_ARGUMENT);
}

static void
test_self_signed(void)
{
    struct keypool *p = NULL;
    EVP_PKEY *key = NULL;
    char *key_pem = NULL, *cert_pem = NULL;
    BIO *bio;
    X509 *cert;

    CU_ASSERT_EQUAL_FATAL(keypool_new(2048, &p), 0);
    CU_ASSERT_EQUAL_FATAL(keypool_fill(p, 1), 0);
    CU_ASSERT_EQUAL_FATAL(keypool_take(p, &key), 0);
    CU_ASSERT_EQUAL_FATAL(keypool_self_signed(key, "iAMT-test", &key_pem, &cert_pem), 0);
    bio = BIO_new_mem_buf(cert_pem, -1);
    cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(cert);
    CU_ASSERT_EQUAL(X509_check_private_key(cert, key), 1);
    CU_ASSERT_EQUAL(X509_verify(cert, key), 1); /* self-signed */
    CU_ASSERT_PTR_NOT_NULL(strstr(key_pem, "PRIVATE KEY"));
    free(key_pem);
    free(cert_pem);
    CU_ASSERT_EQUAL(keypool_self_signed(NULL, "x", &key_pem, &cert_pem),
                    AMT_ERR_INVALID_ARGUMENT);
    CU_ASSERT_PTR_NULL(key_pem);
    X509_free(cert);
    BIO_free(bio);
    EVP_PKEY_free(key);
    keypool_free(p);
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

    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp_root);
    return system(cmd) == 0 ? 0 : -1;
}

static CU_TestInfo keypool_tests[] = {
    {"cache made, then reused", test_cache_made_then_reused},
    {"bad cache refused", test_bad_cache_refused},
    {"self-signed certificate", test_self_signed},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"keypool", suite_init, suite_clean, NULL, NULL, keypool_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
    return unit_run("test_keypool", suites);
}
