/* test_series.c - ingest of generated series: ordering, gaps, duplicates,
 * mixed folders, localizers, tilt, byte order, pixel representation and bad
 * files. Each fixture's voxels are known (fixture_hu). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sp_geom.h"
#include "io/sp_io.h"
#include "support/dicom_fixtures.h"
#include "support/test_util.h"

static char tmp[512];

static void setup(void) { sp_test_tmpdir(tmp, sizeof tmp); }
static void teardown(void) { sp_test_rmtree(tmp); }

TestSuite(series, .init = setup, .fini = teardown);

static sp_scan *scan_ok(const char *dir)
{
    sp_scan *s = NULL;
    sp_err e = {0};
    cr_assert_eq(sp_io_scan(dir, NULL, &s, &e), SP_OK, "%s", e.msg);
    return s;
}

static sp_volume *load_ok(const sp_scan *s, int idx)
{
    sp_volume *v = NULL;
    sp_err e = {0};
    cr_assert_eq(sp_io_load_series(s, idx, &v, NULL, &e), SP_OK, "%s", e.msg);
    return v;
}

/* The loaded volume holds fixture_hu at every voxel, in slice order. */
static void expect_fixture_voxels(const sp_volume *v, const fixture_opts *o)
{
    cr_assert_eq(v->dtype, SP_I16);
    cr_assert_eq(v->nx, o->nx);
    cr_assert_eq(v->ny, o->ny);
    cr_assert_eq(v->nz, o->nz);
    for (int z = 0; z < v->nz; z++)
        for (int y = 0; y < v->ny; y++)
            for (int x = 0; x < v->nx; x++)
                cr_assert_eq(SP_VOL_AT(v, int16_t, x, y, z), fixture_hu(x, y, z), "voxel %d,%d,%d", x, y, z);
}

static void write_fixture(const char *sub, const fixture_opts *o, char *dir, size_t n)
{
    snprintf(dir, n, "%s/%s", tmp, sub);
    cr_assert_eq(fixture_write(dir, o), 0);
}

Test(series, plain_series_loads_voxel_exact_with_lps_geometry)
{
    fixture_opts o = fixture_defaults();
    char dir[600];
    write_fixture("plain", &o, dir, sizeof dir);
    sp_scan *s = scan_ok(dir);
    cr_assert_eq(s->nseries, 1);
    cr_assert_eq(s->series[0].decision, SP_SERIES_LOAD, "%s", s->series[0].reason);
    sp_volume *v = load_ok(s, 0);
    expect_fixture_voxels(v, &o);
    cr_assert_float_eq(v->spacing[0], 0.7, 1e-9);
    cr_assert_float_eq(v->spacing[1], 0.8, 1e-9);
    cr_assert_float_eq(v->spacing[2], 2.5, 1e-9);
    double ijk[3] = {1, 2, 3}, p[3];
    sp_vol_ijk_to_lps(v, ijk, p);
    cr_assert_float_eq(p[0], -12.5 + 0.7, 1e-6);
    cr_assert_float_eq(p[1], -20.0 + 1.6, 1e-6);
    cr_assert_float_eq(p[2], 100.0 + 7.5, 1e-6);
    sp_vol_free(v);
    sp_scan_free(s);
}

Test(series, shuffled_file_order_is_sorted_by_position)
{
    fixture_opts o = fixture_defaults();
    char dir[600];
    o.shuffle_names = true;
    write_fixture("shuffled", &o, dir, sizeof dir);
    sp_scan *s = scan_ok(dir);
    sp_volume *v = load_ok(s, 0);
    expect_fixture_voxels(v, &o);
    sp_vol_free(v);
    sp_scan_free(s);
}

Test(series, big_endian_and_implicit_syntaxes_decode_exactly)
{
    sp_dicom_syntax syn[] = {SP_TS_EXPLICIT_BE, SP_TS_IMPLICIT_LE};
    for (int i = 0; i < 2; i++) {
        fixture_opts o = fixture_defaults();
        char dir[600], sub[32];
        o.syntax = syn[i];
        snprintf(sub, sizeof sub, "syntax%d", i);
        write_fixture(sub, &o, dir, sizeof dir);
        sp_scan *s = scan_ok(dir);
        sp_volume *v = load_ok(s, 0);
        expect_fixture_voxels(v, &o);
        sp_vol_free(v);
        sp_scan_free(s);
    }
}

Test(series, unsigned_pixels_with_negative_intercept_give_hu)
{
    fixture_opts o = fixture_defaults();
    char dir[600];
    o.unsigned_px = true;
    write_fixture("unsigned", &o, dir, sizeof dir);
    sp_scan *s = scan_ok(dir);
    sp_volume *v = load_ok(s, 0);
    expect_fixture_voxels(v, &o);
    sp_vol_free(v);
    sp_scan_free(s);
}

Test(series, duplicate_slice_is_dropped_and_reported)
{
    fixture_opts o = fixture_defaults();
    char dir[600];
    o.duplicate_slice = 5;
    write_fixture("dup", &o, dir, sizeof dir);
    sp_scan *s = scan_ok(dir);
    cr_assert_eq(s->nseries, 1);
    cr_assert_eq(s->series[0].duplicates, 1);
    cr_assert_eq(s->series[0].decision, SP_SERIES_CORRECTED);
    cr_assert(strstr(s->series[0].reason, "duplicate"), "%s", s->series[0].reason);
    sp_volume *v = load_ok(s, 0);
    expect_fixture_voxels(v, &o);
    sp_vol_free(v);
    sp_scan_free(s);
}

Test(series, one_missing_slice_is_interpolated_and_reported)
{
    fixture_opts o = fixture_defaults();
    char dir[600];
    o.drop_slice = 9;
    write_fixture("missing", &o, dir, sizeof dir);
    sp_scan *s = scan_ok(dir);
    cr_assert_eq(s->series[0].missing_slices, 1);
    cr_assert_eq(s->series[0].decision, SP_SERIES_CORRECTED);
    cr_assert(strstr(s->series[0].reason, "missing"), "%s", s->series[0].reason);
    sp_volume *v = load_ok(s, 0);
    cr_assert_eq(v->nz, o.nz);
    cr_assert_float_eq(v->spacing[2], 2.5, 1e-6);
    /* Slices other than the filled one are exact; the filled one is the mean of
     * its neighbours (the fixture is linear in z away from its wrap). */
    for (int z = 0; z < v->nz; z++)
        for (int y = 0; y < v->ny; y += 5)
            for (int x = 0; x < v->nx; x += 5) {
                int got = SP_VOL_AT(v, int16_t, x, y, z);
                if (z != 9) cr_assert_eq(got, fixture_hu(x, y, z));
                else cr_assert_leq(abs(got - (fixture_hu(x, y, 8) + fixture_hu(x, y, 10)) / 2), 1);
            }
    sp_vol_free(v);
    sp_scan_free(s);
}

Test(series, large_gap_splits_the_series)
{
    fixture_opts o = fixture_defaults();
    char dir[600];
    o.nz = 12;
    write_fixture("gap", &o, dir, sizeof dir);
    /* Remove four consecutive slices: a 12.5 mm gap, more than two missing. */
    for (int z = 4; z < 8; z++) {
        char p[700];
        snprintf(p, sizeof p, "%s/IM%04d", dir, z);
        cr_assert_eq(unlink(p), 0);
    }
    sp_scan *s = scan_ok(dir);
    cr_assert_eq(s->nseries, 2, "split into two series");
    cr_assert_eq(s->series[0].nslices + s->series[1].nslices, 8);
    cr_assert(strstr(s->series[0].reason, "split"), "%s", s->series[0].reason);
    cr_assert(strstr(s->series[1].reason, "split"), "%s", s->series[1].reason);
    sp_scan_free(s);
}

Test(series, two_series_and_a_localizer_in_one_folder)
{
    fixture_opts a = fixture_defaults(), b = fixture_defaults(), loc = fixture_defaults();
    char dir[600];
    snprintf(dir, sizeof dir, "%s/mixed", tmp);
    b.series_number = 2, b.nz = 40, b.spacing[2] = 1.25, b.prefix = "B";
    loc.series_number = 1; /* same series UID as a: only ImageType tells it apart */
    loc.image_type = "ORIGINAL\\PRIMARY\\LOCALIZER";
    loc.nz = 1, loc.prefix = "LOC";
    cr_assert_eq(fixture_write(dir, &a), 0);
    cr_assert_eq(fixture_write(dir, &b), 0);
    cr_assert_eq(fixture_write(dir, &loc), 0);
    sp_scan *s = scan_ok(dir);
    cr_assert_eq(s->nseries, 3);
    int nloc = 0;
    for (int i = 0; i < s->nseries; i++)
        if (s->series[i].localizer) {
            nloc++;
            cr_assert_eq(s->series[i].decision, SP_SERIES_REJECT);
        }
    cr_assert_eq(nloc, 1);
    cr_assert_geq(s->chosen, 0);
    /* Nearly the same coverage (49 vs 55 mm): the thinner slices win. */
    cr_assert_eq(s->series[s->chosen].nslices, 40, "chosen: %s", s->chosen_reason);
    sp_scan_free(s);
    /* A thin but short series loses to the long one. */
    fixture_opts c = fixture_defaults();
    c.series_number = 3, c.nz = 8, c.spacing[2] = 1.0, c.prefix = "C";
    snprintf(dir, sizeof dir, "%s/mixed2", tmp);
    cr_assert_eq(fixture_write(dir, &a), 0);
    cr_assert_eq(fixture_write(dir, &c), 0);
    s = scan_ok(dir);
    cr_assert_eq(s->nseries, 2);
    cr_assert_eq(s->series[s->chosen].nslices, 23, "chosen: %s", s->chosen_reason);
    sp_scan_free(s);
}

Test(series, empty_uids_fall_back_on_other_attributes)
{
    fixture_opts o = fixture_defaults();
    char dir[600];
    o.study_uid = "";
    o.series_uid = "";
    write_fixture("nouid", &o, dir, sizeof dir);
    sp_scan *s = scan_ok(dir);
    cr_assert_eq(s->nseries, 1);
    cr_assert(s->series[0].uid_fallback);
    sp_volume *v = load_ok(s, 0);
    expect_fixture_voxels(v, &o);
    sp_vol_free(v);
    sp_scan_free(s);
}

Test(series, gantry_tilt_is_resampled_to_an_orthogonal_grid)
{
    fixture_opts o = fixture_defaults();
    char dir[600];
    o.tilt_deg = 15;
    o.nz = 30;
    write_fixture("tilt", &o, dir, sizeof dir);
    sp_scan *s = scan_ok(dir);
    cr_assert_float_eq(s->series[0].tilt_deg, 15.0, 0.1);
    cr_assert_eq(s->series[0].decision, SP_SERIES_CORRECTED);
    cr_assert(strstr(s->series[0].reason, "tilt"), "%s", s->series[0].reason);
    sp_volume *v = load_ok(s, 0);
    /* Orthogonal axes, slices stacked along +z. */
    double ax[3][3];
    for (int c = 0; c < 3; c++)
        for (int r = 0; r < 3; r++) ax[c][r] = v->ijk_to_lps[r * 4 + c] / v->spacing[c];
    cr_assert_float_eq(sp_dot3(ax[0], ax[1]), 0, 1e-6);
    cr_assert_float_eq(sp_dot3(ax[1], ax[2]), 0, 1e-6);
    cr_assert_float_eq(ax[2][2], 1.0, 1e-6);
    /* Every output voxel inside the data equals the fixture's field, which is
     * linear, evaluated at that voxel's position in the input's own sheared
     * coordinates (a, b, kz): interpolation of a linear field is exact. */
    double t = 15 * M_PI / 180, in_aff[16] = {0}, in_inv[16];
    in_aff[0] = 0.7, in_aff[3] = -12.5;
    in_aff[5] = 0.8 * cos(t), in_aff[7] = -20.0;
    in_aff[9] = -0.8 * sin(t), in_aff[10] = 2.5, in_aff[11] = 100.0;
    in_aff[15] = 1;
    cr_assert_eq(sp_mat4_invert(in_aff, in_inv), 0);
    int checked = 0;
    for (int k = 0; k < v->nz; k++)
        for (int j = 0; j < v->ny; j++)
            for (int i = 2; i < v->nx - 2; i += 6) {
                double ijk[3] = {i, j, k}, X[3], abk[3];
                sp_vol_ijk_to_lps(v, ijk, X);
                for (int r = 0; r < 3; r++)
                    abk[r] = in_inv[r * 4] * X[0] + in_inv[r * 4 + 1] * X[1] + in_inv[r * 4 + 2] * X[2] + in_inv[r * 4 + 3];
                if (abk[1] < 1 || abk[1] > o.ny - 2 || abk[2] < 1 || abk[2] > o.nz - 2) continue;
                double expect = 7 * abk[0] + 13 * abk[1] + 101 * abk[2];
                if (expect > 2400) continue; /* the fixture wraps at 2500 */
                cr_assert_leq(fabs(SP_VOL_AT(v, int16_t, i, j, k) - (expect - 1000)), 1.0,
                              "voxel %d,%d,%d: %d vs %.1f", i, j, k, SP_VOL_AT(v, int16_t, i, j, k), expect - 1000);
                checked++;
            }
    cr_assert_gt(checked, 100, "only %d voxels checked", checked);
    sp_vol_free(v);
    sp_scan_free(s);
}

Test(series, junk_and_truncated_files_are_listed_and_named)
{
    fixture_opts o = fixture_defaults();
    char dir[600], p[700];
    FILE *f;
    write_fixture("bad", &o, dir, sizeof dir);
    snprintf(p, sizeof p, "%s/notes.txt", dir);
    f = fopen(p, "w");
    fputs("this is not DICOM\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/empty", dir);
    fclose(fopen(p, "w"));
    snprintf(p, sizeof p, "%s/IM0004", dir);
    cr_assert_eq(truncate(p, 2000), 0); /* header kept, pixel data cut */
    sp_scan *s = scan_ok(dir);
    int notdicom = 0;
    for (int i = 0; i < s->nfiles; i++)
        if (s->files[i].state == SP_FILE_NOT_DICOM || s->files[i].state == SP_FILE_UNREADABLE) {
            notdicom++;
            cr_assert_neq(s->files[i].reason[0], '\0');
        }
    cr_assert_geq(notdicom, 2);
    /* The truncated slice is either refused at indexing (listed with its
     * reason, the series reports a missing slice) or fails the load naming it. */
    int trunc = -1;
    for (int i = 0; i < s->nfiles; i++)
        if (strstr(s->files[i].path, "IM0004")) trunc = i;
    cr_assert_geq(trunc, 0);
    if (s->files[trunc].state != SP_FILE_OK) {
        cr_assert_neq(s->files[trunc].reason[0], '\0');
        cr_assert_eq(s->nseries, 1);
        cr_assert_eq(s->series[0].missing_slices, 1, "%s", s->series[0].reason);
    } else {
        sp_volume *v = NULL;
        sp_err e = {0};
        sp_status st = sp_io_load_series(s, s->files[trunc].series, &v, NULL, &e);
        cr_assert_neq(st, SP_OK, "a truncated slice must not load silently");
        cr_assert(strstr(e.msg, "IM0004"), "the error names the file: %s", e.msg);
    }
    sp_scan_free(s);
}

Test(series, empty_folder_scans_to_nothing_usable)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/empty", tmp);
    cr_assert_eq(mkdir(dir, 0755), 0);
    sp_scan *s = scan_ok(dir);
    cr_assert_eq(s->nfiles, 0);
    cr_assert_eq(s->nseries, 0);
    cr_assert_eq(s->chosen, -1);
    cr_assert(strstr(s->chosen_reason, "no usable"), "%s", s->chosen_reason);
    sp_scan_free(s);
}

Test(series, missing_pixel_spacing_is_refused_with_a_reason)
{
    fixture_opts o = fixture_defaults();
    char dir[600];
    o.spacing[0] = 0, o.spacing[1] = 0; /* written as PixelSpacing 0\\0 */
    o.nz = 5;
    write_fixture("nospacing", &o, dir, sizeof dir);
    sp_scan *s = scan_ok(dir);
    cr_assert_eq(s->nseries, 1);
    cr_assert_eq(s->series[0].decision, SP_SERIES_REJECT);
    cr_assert(strstr(s->series[0].reason, "Pixel Spacing"), "%s", s->series[0].reason);
    sp_volume *v = NULL;
    sp_err e = {0};
    cr_assert_eq(sp_io_load_series(s, 0, &v, NULL, &e), SP_EDICOM);
    cr_assert(strstr(e.msg, "Pixel Spacing"), "%s", e.msg);
    sp_scan_free(s);
}

Test(series, nifti_round_trip_keeps_values_and_geometry)
{
    fixture_opts o = fixture_defaults();
    char dir[600], nii[700];
    write_fixture("rt", &o, dir, sizeof dir);
    sp_scan *s = scan_ok(dir);
    sp_volume *v = load_ok(s, 0), *w = NULL;
    sp_err e = {0};
    snprintf(nii, sizeof nii, "%s/rt.nii.gz", tmp);
    cr_assert_eq(sp_io_write_nifti(nii, v, &e), SP_OK, "%s", e.msg);
    cr_assert_eq(sp_io_read_nifti(nii, &w, &e), SP_OK, "%s", e.msg);
    expect_fixture_voxels(w, &o);
    for (int i = 0; i < 16; i++) cr_assert_float_eq(w->ijk_to_lps[i], v->ijk_to_lps[i], 1e-4);
    sp_vol_free(v);
    sp_vol_free(w);
    sp_scan_free(s);
}
