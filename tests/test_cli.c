/* test_cli.c - the `spinemet` command line as a user runs it: help, version,
 * exit codes, scan tables and JSON, convert output and determinism. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/sp_geom.h"
#include "io/sp_io.h"
#include "support/dicom_fixtures.h"
#include "support/test_util.h"

static char tmp[512];
static void setup(void) { sp_test_tmpdir(tmp, sizeof tmp); }
static void teardown(void) { sp_test_rmtree(tmp); }
TestSuite(cli, .init = setup, .fini = teardown);

/* Runs spinemet with args; stdout to tmp/out.txt; returns the exit code. */
static int run(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s >%s/out.txt 2>%s/err.txt", sp_test_binary(), args, tmp, tmp);
    return sp_test_system(cmd);
}

static char *slurp(const char *name)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    return sp_test_read_file(p, NULL);
}

static void expect_out_contains(const char *file, const char *needle)
{
    char *b = slurp(file);
    cr_assert(strstr(b, needle), "%s lacks '%s':\n%s", file, needle, b);
    free(b);
}

Test(cli, version_and_help)
{
    cr_assert_eq(run("--version"), 0);
    expect_out_contains("out.txt", "spinemet ");
    cr_assert_eq(run("--help"), 0);
    expect_out_contains("out.txt", "not a medical device");
    cr_assert_eq(run("scan --help"), 0);
    expect_out_contains("out.txt", "Writes nothing");
    cr_assert_eq(run("convert --help"), 0);
    expect_out_contains("out.txt", "NIfTI");
    cr_assert_eq(run("nosuchcommand"), 1);
    cr_assert_eq(run(""), 1);
}

Test(cli, exit_codes_for_missing_and_empty_inputs)
{
    char a[800];
    cr_assert_eq(run("scan /nonexistent/folder"), 2);
    expect_out_contains("err.txt", "/nonexistent/folder");
    snprintf(a, sizeof a, "scan %s", tmp); /* an empty folder: nothing usable */
    cr_assert_eq(run(a), 3);
    expect_out_contains("out.txt", "no usable CT or MR series");
    snprintf(a, sizeof a, "convert %s -o %s/x.nii.gz", tmp, tmp);
    cr_assert_eq(run(a), 3);
    snprintf(a, sizeof a, "convert %s -o %s/x.img", tmp, tmp);
    cr_assert_eq(run(a), 1);
    cr_assert_eq(run("convert"), 1);
}

Test(cli, scan_json_describes_the_chosen_series)
{
    char dir[600], a[800];
    fixture_opts o = fixture_defaults();
    snprintf(dir, sizeof dir, "%s/series", tmp);
    cr_assert_eq(fixture_write(dir, &o), 0);
    snprintf(a, sizeof a, "scan --json %s", dir);
    cr_assert_eq(run(a), 0);
    char *txt = slurp("out.txt");
    cJSON *j = cJSON_Parse(txt);
    cr_assert_not_null(j, "scan --json is not JSON:\n%s", txt);
    cr_assert_eq(cJSON_GetObjectItem(j, "chosen")->valueint, 0);
    cJSON *s0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "series"), 0);
    cr_assert_eq(cJSON_GetObjectItem(s0, "slices")->valueint, 23);
    cr_assert_str_eq(cJSON_GetObjectItem(s0, "decision")->valuestring, "load");
    cr_assert_float_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(s0, "spacing_mm"), 2)->valuedouble, 2.5, 1e-9);
    cJSON_Delete(j);
    free(txt);
    snprintf(a, sizeof a, "scan %s", dir);
    cr_assert_eq(run(a), 0);
    expect_out_contains("out.txt", "<== chosen");
}

Test(cli, convert_writes_nifti_identical_at_1_and_2_threads)
{
    char dir[600], a[900];
    fixture_opts o = fixture_defaults();
    o.tilt_deg = 10; /* exercise the parallel resampler too */
    snprintf(dir, sizeof dir, "%s/series", tmp);
    cr_assert_eq(fixture_write(dir, &o), 0);
    snprintf(a, sizeof a, "convert %s -o %s/t1.nii --threads 1", dir, tmp);
    cr_assert_eq(run(a), 0);
    expect_out_contains("err.txt", "gantry tilt");
    snprintf(a, sizeof a, "convert %s -o %s/t2.nii --threads 2", dir, tmp);
    cr_assert_eq(run(a), 0);
    snprintf(a, sizeof a, "cmp -s %s/t1.nii %s/t2.nii", tmp, tmp);
    cr_assert_eq(sp_test_system(a), 0, "outputs differ between 1 and 2 threads");
    snprintf(a, sizeof a, "convert %s -o %s/bad.nii --series 7", dir, tmp);
    cr_assert_eq(run(a), 1);
    expect_out_contains("err.txt", "no series matches '7'");
}

Test(cli, dcm2niix_reads_our_nifti_geometry_the_same_way)
{
    char dir[600], a[1200];
    fixture_opts o = fixture_defaults();
    if (sp_test_system("command -v dcm2niix >/dev/null 2>&1") != 0) cr_skip_test("dcm2niix not installed: skipped");
    snprintf(dir, sizeof dir, "%s/series", tmp);
    cr_assert_eq(fixture_write(dir, &o), 0);
    snprintf(a, sizeof a, "convert %s -o %s/ours.nii", dir, tmp);
    cr_assert_eq(run(a), 0);
    snprintf(a, sizeof a, "dcm2niix -b n -z n -f ref -o %s %s >/dev/null 2>&1", tmp, dir);
    cr_assert_eq(sp_test_system(a), 0);
    sp_volume *ours = NULL, *ref = NULL;
    sp_err e;
    char p[700];
    snprintf(p, sizeof p, "%s/ours.nii", tmp);
    cr_assert_eq(sp_io_read_nifti(p, &ours, &e), SP_OK, "%s", e.msg);
    snprintf(p, sizeof p, "%s/ref.nii", tmp);
    cr_assert_eq(sp_io_read_nifti(p, &ref, &e), SP_OK, "%s", e.msg);
    /* Same world position for the same HU everywhere: map each of our voxels
     * into dcm2niix's grid (it flips rows) and compare. */
    double inv[16];
    cr_assert_eq(sp_mat4_invert(ref->ijk_to_lps, inv), 0);
    for (int z = 0; z < ours->nz; z += 3)
        for (int y = 0; y < ours->ny; y += 4)
            for (int x = 0; x < ours->nx; x += 4) {
                double ijk[3] = {x, y, z}, w[3], r[3];
                sp_vol_ijk_to_lps(ours, ijk, w);
                for (int i = 0; i < 3; i++) r[i] = inv[i * 4] * w[0] + inv[i * 4 + 1] * w[1] + inv[i * 4 + 2] * w[2] + inv[i * 4 + 3];
                int ri = (int)(r[0] + 0.5), rj = (int)(r[1] + 0.5), rk = (int)(r[2] + 0.5);
                cr_assert(ri >= 0 && rj >= 0 && rk >= 0 && ri < ref->nx && rj < ref->ny && rk < ref->nz);
                cr_assert_eq(SP_VOL_AT(ours, int16_t, x, y, z), SP_VOL_AT(ref, int16_t, ri, rj, rk));
            }
    sp_vol_free(ours);
    sp_vol_free(ref);
}
