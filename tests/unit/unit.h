/* Shared CUnit driver for the unit test programs. */
#ifndef AMT_TEST_UNIT_H
#define AMT_TEST_UNIT_H

#include <CUnit/CUnit.h>

/*
 * Runs the suites and maps the outcome to the project's test exit codes:
 * 0 all passed, 1 a test failed, 99 the harness itself broke.
 */
int unit_run(const char *program, CU_SuiteInfo *suites);

/* Reads a whole file into a fresh NUL-terminated buffer; aborts the test on error. */
unsigned char *unit_read_file(const char *path, size_t *len);

#endif
