/* test_slurm.c - contrib/slurm on a real single-node Slurm: an sbatch --array
 * of 3 shards over phantom studies and the dependent merge give the same
 * cohort.csv, byte for byte, as one `spinemet batch` on one machine.
 *
 * The work is done by tests/slurm/run_slurm_test.sh (it starts munged,
 * slurmctld and slurmd in a private network namespace and stops them again);
 * this wraps it for ctest: exit 0 passes, 77 skips with the script's reason
 * (not root, Slurm or munge not installed), anything else fails and prints
 * the script's output (the daemons' and jobs' logs). About 15 s. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/test_util.h"

static char tmp[512];
static void setup(void) { sp_test_tmpdir(tmp, sizeof tmp); }
static void teardown(void) { sp_test_rmtree(tmp); }
TestSuite(slurm, .init = setup, .fini = teardown, .timeout = 240);

Test(slurm, array_job_and_merge_equal_a_single_batch)
{
    char cmd[2048], log[700], line[1024], last[1024] = "";
    snprintf(log, sizeof log, "%s/run_slurm_test.log", tmp);
    snprintf(cmd, sizeof cmd, "'%s/tests/slurm/run_slurm_test.sh' '%s' > '%s' 2>&1", SP_SOURCE_DIR, sp_test_binary(),
             log);
    int rc = sp_test_system(cmd);
    FILE *f = fopen(log, "rb");
    cr_assert_not_null(f, "%s", log);
    /* the script's output goes to stderr: ctest shows it on failure (and with -V) */
    while (fgets(line, sizeof line, f)) {
        fputs(line, stderr);
        if (line[0] != '\n') snprintf(last, sizeof last, "%s", line);
    }
    fclose(f);
    last[strcspn(last, "\n")] = '\0';
    if (rc == 77) cr_skip_test("%s", last);
    cr_assert_eq(rc, 0, "tests/slurm/run_slurm_test.sh exited %d: %s", rc, last);
}
