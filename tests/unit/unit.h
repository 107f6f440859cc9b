/* Shared CUnit driver for the unit test programs. */
#ifndef AMT_TEST_UNIT_H
#define AMT_TEST_UNIT_H

#include <stddef.h>

#include <CUnit/CUnit.h>

/*
 * Runs the suites and maps the outcome to the project's test exit codes:
 * 0 all passed, 1 a test failed, 99 the harness itself broke.
 */
int unit_run(const char *program, CU_SuiteInfo *suites);

/* Reads a whole file into a fresh NUL-terminated buffer; aborts the test on error. */
unsigned char *unit_read_file(const char *path, size_t *len);

/* Paths into the build's test PKI (AMT_CERTS_DIR), and its certificates and keys
 * read from PEM (NULL when the file is missing or not PEM). */
void unit_certs_path(char *buf, size_t size, const char *file);
struct x509_st *unit_read_cert(const char *file);
struct evp_pkey_st *unit_read_key(const char *file);

#endif
