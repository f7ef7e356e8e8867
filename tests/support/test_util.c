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
