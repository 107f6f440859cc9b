#include "unit.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

int
unit_run(const char *program, CU_SuiteInfo *suites)
{
    unsigned failed;

    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "%s: CU_initialize_registry failed\n", program);
        return 99;
    }
    if (CU_register_suites(suites) != CUE_SUCCESS) {
        fprintf(stderr, "%s: CU_register_suites: %s\n", program, CU_get_error_msg());
        CU_cleanup_registry();
        return 99;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    if (CU_basic_run_tests() != CUE_SUCCESS) {
        fprintf(stderr, "%s: CU_basic_run_tests: %s\n", program, CU_get_error_msg());
        CU_cleanup_registry();
        return 99;
    }
    failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}

unsigned char *
unit_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long size;

    if (f == NULL) {
        perror(path);
        exit(99);
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        perror(path);
        exit(99);
    }
    buf = malloc((size_t)size + 1);
    if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        perror(path);
        exit(99);
    }
    buf[size] = '\0';
    fclose(f);
    if (len != NULL)
        *len = (size_t)size;
    return buf;
}

void
unit_certs_path(char *buf, size_t size, const char *file)
{
#ifdef AMT_CERTS_DIR
    snprintf(buf, size, "%s/%s", AMT_CERTS_DIR, file);
#else
    snprintf(buf, size, "%s", file);
#endif
}

X509 *
unit_read_cert(const char *file)
{
    char path[512];
    BIO *bio;
    X509 *cert;

    unit_certs_path(path, sizeof(path), file);
    if ((bio = BIO_new_file(path, "r")) == NULL)
        return NULL;
    cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return cert;
}

EVP_PKEY *
unit_read_key(const char *file)
{
    char path[512];
    BIO *bio;
    EVP_PKEY *key;

    unit_certs_path(path, sizeof(path), file);
    if ((bio = BIO_new_file(path, "r")) == NULL)
        return NULL;
    key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return key;
}
