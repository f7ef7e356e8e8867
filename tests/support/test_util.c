/* test_util.c - shared-data lookup, temp dirs and process helpers for tests. */
#include "test_util.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

bool sp_test_shared(const char *rel, char *buf, size_t n)
{
    struct stat st;
    const char *root = getenv("SPINEMET_SHARED_DATA");
    if (!root) root = SP_SHARED_DATA;
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) return false;
    snprintf(buf, n, "%s/%s", root, rel);
    return true;
}

void sp_test_tmpdir(char *buf, size_t n)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, n, "%s/spinemet-test-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(buf)) cr_assert_fail("cannot create a temporary directory");
}

void sp_test_rmtree(const char *path)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", path);
}

int sp_test_system(const char *cmdline)
{
    int rc = system(cmdline);
    if (rc == -1) return -1;
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

const char *sp_test_binary(void)
{
    const char *b = getenv("SPINEMET");
    return b ? b : SP_BINARY_DIR "/pipeline/spinemet";
}

char *sp_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: cannot open", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0, "%s: cannot seek", path);
    long n = ftell(f);
    cr_assert_geq(n, 0, "%s: cannot tell its size", path);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n, "%s: short read", path);
    fclose(f);
    buf[n] = 0;
    if (len) *len = (size_t)n;
    return buf;
}
