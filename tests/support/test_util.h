/* test_util.h - helpers shared by the Criterion tests. */
#ifndef SP_TEST_UTIL_H
#define SP_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Path of ../shared/data/<rel> into buf; returns false (and the test should
 * cr_skip with a message) when ../shared/data is absent. */
bool sp_test_shared(const char *rel, char *buf, size_t n);

/* Creates a fresh empty temporary directory and writes its path into buf
 * (at least 256 bytes). Aborts the test on failure. */
void sp_test_tmpdir(char *buf, size_t n);

/* Removes a directory tree (best effort). */
void sp_test_rmtree(const char *path);

/* Runs a shell command line, returns its exit status (or -1). Output goes
 * to the given file when out is non-NULL. */
int sp_test_system(const char *cmdline);

/* The whole file at path, NUL-terminated (malloc'd; *len = its size when
 * len is not NULL). Aborts the test, naming the file, when it cannot be read. */
char *sp_test_read_file(const char *path, size_t *len);

/* Path to the built spinemet binary (env SPINEMET, set by CTest). */
const char *sp_test_binary(void);

#endif
