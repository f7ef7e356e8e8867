/* test_shim_c.c - the DCMTK and ITK shims used from plain C (leveldb c_test.c
 * style): error paths, ownership rules and, for ITK's closing, its exact
 * semantics against a naive reference. Compiled as C; includes only
 * io/dicom.h and segment/itk_shim.h. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/dicom.h"
#include "segment/itk_shim.h"
#include "support/test_util.h"

static char tmp[512];
static void setup(void) { sp_test_tmpdir(tmp, sizeof tmp); }
static void teardown(void) { sp_test_rmtree(tmp); }
TestSuite(shim_c, .init = setup, .fini = teardown);

Test(shim_c, missing_file_is_an_error_naming_it)
{
    sp_dicom_header h;
    sp_err e = {0};
    sp_dicom_init();
    cr_assert_neq(sp_dicom_read_header("/nonexistent/x.dcm", &h, &e), SP_OK);
    cr_assert(strstr(e.msg, "/nonexistent/x.dcm"), "%s", e.msg);
    sp_dicom_header_clear(&h);
}

Test(shim_c, text_file_is_not_dicom)
{
    char p[600];
    sp_dicom_header h;
    sp_err e = {0};
    snprintf(p, sizeof p, "%s/readme.txt", tmp);
    FILE *f = fopen(p, "w");
    fputs("Patient list\nnothing to see here\n", f);
    fclose(f);
    cr_assert_eq(sp_dicom_read_header(p, &h, &e), SP_EDICOM);
    cr_assert(strstr(e.msg, "not a DICOM file"), "%s", e.msg);
    sp_dicom_header_clear(&h);
}

Test(shim_c, preamble_without_dataset_is_truncated)
{
    char p[600], buf[140] = {0};
    sp_dicom_header h;
    sp_err e = {0};
    snprintf(p, sizeof p, "%s/cut.dcm", tmp);
    memcpy(buf + 128, "DICM\x02\x00\x00\x00", 8);
    FILE *f = fopen(p, "wb");
    fwrite(buf, 1, 137, f);
    fclose(f);
    cr_assert_neq(sp_dicom_read_header(p, &h, &e), SP_OK);
    sp_dicom_header_clear(&h);
}

Test(shim_c, write_then_read_header_round_trips)
{
    char p[600];
    int16_t px[6 * 4];
    sp_dicom_slice_meta m;
    sp_dicom_header h;
    sp_err e = {0};
    for (int i = 0; i < 24; i++) px[i] = (int16_t)(i * 10 - 50);
    memset(&m, 0, sizeof m);
    m.rows = 4, m.cols = 6, m.pixel_rep = 1, m.bits_stored = 16, m.slope = 1, m.intercept = -1024;
    m.pixel_spacing[0] = 0.5, m.pixel_spacing[1] = 0.6, m.slice_thickness = 1;
    m.iop[0] = 1, m.iop[4] = 1, m.ipp[2] = 42.5;
    m.series_number = 3, m.instance_number = 7;
    snprintf(p, sizeof p, "%s/one.dcm", tmp);
    cr_assert_eq(sp_dicom_write_slice(p, &m, px, &e), SP_OK, "%s", e.msg);
    cr_assert_eq(sp_dicom_read_header(p, &h, &e), SP_OK, "%s", e.msg);
    cr_assert_eq(h.rows, 4);
    cr_assert_eq(h.cols, 6);
    cr_assert_eq(h.instance_number, 7);
    cr_assert_eq(h.series_number, 3);
    cr_assert_float_eq(h.ipp[2], 42.5, 1e-9);
    cr_assert_float_eq(h.intercept, -1024, 1e-9);
    cr_assert_str_eq(h.modality, "CT");
    cr_assert(h.has_pixel_data);
    cr_assert_neq(h.study_uid[0], '\0', "NULL UIDs get new ones");
    int16_t back[24];
    cr_assert_eq(sp_dicom_read_frames(p, back, sizeof back, &e), SP_OK, "%s", e.msg);
    cr_assert_arr_eq(back, px, sizeof px);
    /* Asking for more bytes than the file holds is an error, not an overread. */
    int16_t big[100];
    cr_assert_eq(sp_dicom_read_frames(p, big, sizeof big, &e), SP_EDICOM);
    sp_dicom_header_clear(&h);
}

Test(shim_c, clear_accepts_null_and_cleared_headers)
{
    sp_dicom_header h;
    memset(&h, 0, sizeof h);
    sp_dicom_header_clear(NULL);
    sp_dicom_header_clear(&h);
    sp_dicom_header_clear(&h);
}

Test(shim_c, new_uids_are_unique_and_valid)
{
    char a[SP_UID_LEN], b[SP_UID_LEN];
    sp_dicom_new_uid(a);
    sp_dicom_new_uid(b);
    cr_assert_str_neq(a, b);
    cr_assert_leq(strlen(a), 64);
    for (const char *c = a; *c; c++) cr_assert((*c >= '0' && *c <= '9') || *c == '.');
}

/* ---- ITK: sp_itk_binary_close_box ---- */

static size_t vox(const int d[3], int x, int y, int z) { return ((size_t)z * d[1] + y) * d[0] + x; }

/* Naive box dilation (or erosion) of 0/1 in into out, everything outside
 * the volume counted as background. */
static void ref_box(const uint8_t *in, uint8_t *out, const int d[3], int r, int dilate)
{
    for (int z = 0; z < d[2]; z++)
        for (int y = 0; y < d[1]; y++)
            for (int x = 0; x < d[0]; x++) {
                int v = !dilate;
                for (int dz = -r; dz <= r; dz++)
                    for (int dy = -r; dy <= r; dy++)
                        for (int dx = -r; dx <= r; dx++) {
                            int p = x + dx, q = y + dy, s = z + dz;
                            int in_v = p >= 0 && q >= 0 && s >= 0 && p < d[0] && q < d[1] && s < d[2] &&
                                       in[vox(d, p, q, s)];
                            v = dilate ? (v || in_v) : (v && in_v);
                        }
                out[vox(d, x, y, z)] = (uint8_t)v;
            }
}

/* Closing as parts.c's old box3 did it: dilate, then erode, outside = background at each step. */
static void ref_close(uint8_t *m, const int d[3], int r)
{
    size_t n = (size_t)d[0] * d[1] * d[2];
    uint8_t *t = malloc(n);
    cr_assert(t);
    for (size_t i = 0; i < n; i++) m[i] = m[i] != 0;
    ref_box(m, t, d, r, 1);
    ref_box(t, m, d, r, 0);
    free(t);
}

static uint8_t *mask_new(const int d[3])
{
    uint8_t *m = calloc((size_t)d[0] * d[1] * d[2], 1);
    cr_assert(m);
    return m;
}

Test(shim_c, itk_closing_bridges_a_one_voxel_gap_in_a_ring)
{
    int d[3] = {11, 11, 5};
    uint8_t *m = mask_new(d);
    for (int i = 2; i <= 8; i++) /* square ring in slice 2 */
        m[vox(d, i, 2, 2)] = m[vox(d, i, 8, 2)] = m[vox(d, 2, i, 2)] = m[vox(d, 8, i, 2)] = 1;
    m[vox(d, 5, 2, 2)] = 0; /* a one-voxel gap in its wall */
    sp_err e = {0};
    cr_assert_eq(sp_itk_binary_close_box(m, d, 1, &e), SP_OK, "%s", e.msg);
    size_t on = 0;
    for (size_t i = 0; i < (size_t)d[0] * d[1] * d[2]; i++) on += m[i];
    cr_assert_eq(m[vox(d, 5, 2, 2)], 1, "the gap is bridged");
    cr_assert_eq(on, 24, "the ring, closed, and nothing else (got %zu voxels)", on);
    cr_assert_eq(m[vox(d, 5, 5, 2)], 0, "the 5x5 inside stays open");
    free(m);
}

Test(shim_c, itk_closing_fills_a_one_voxel_hole)
{
    int d[3] = {9, 9, 9};
    uint8_t *m = mask_new(d);
    for (int z = 2; z <= 6; z++)
        for (int y = 2; y <= 6; y++)
            for (int x = 2; x <= 6; x++) m[vox(d, x, y, z)] = 255; /* any nonzero is foreground */
    m[vox(d, 4, 4, 4)] = 0;
    cr_assert_eq(sp_itk_binary_close_box(m, d, 1, NULL), SP_OK, "NULL err is fine");
    for (int z = 0; z < d[2]; z++)
        for (int y = 0; y < d[1]; y++)
            for (int x = 0; x < d[0]; x++) {
                int inside = x >= 2 && x <= 6 && y >= 2 && y <= 6 && z >= 2 && z <= 6;
                cr_assert_eq(m[vox(d, x, y, z)], inside, "(%d,%d,%d): 0/1, the cube filled, nothing grown", x, y, z);
            }
    free(m);
}

Test(shim_c, itk_closing_radius_1_bridges_two_voxels_not_three)
{
    int d[3] = {15, 5, 5};
    uint8_t *m = mask_new(d);
    /* a line along x at y = z = 2: x 1..3, gap 4..5, 6..8, gap 9..11, 12..13 */
    for (int x = 1; x <= 13; x++) m[vox(d, x, 2, 2)] = !(x == 4 || x == 5 || (x >= 9 && x <= 11));
    cr_assert_eq(sp_itk_binary_close_box(m, d, 1, NULL), SP_OK);
    for (int x = 0; x < d[0]; x++) {
        int want = x >= 1 && x <= 13 && !(x >= 9 && x <= 11);
        cr_assert_eq(m[vox(d, x, 2, 2)], want, "x=%d", x);
    }
    free(m);
}

Test(shim_c, itk_closing_outside_the_volume_is_background)
{
    int d[3] = {9, 5, 5};
    uint8_t *m = mask_new(d);
    /* Foreground on the border is kept (closing never removes any) ... */
    for (int x = 0; x <= 3; x++) m[vox(d, x, 2, 2)] = 1;
    /* ... and a background voxel on the border beside foreground is not
     * filled, as it would be if the outside counted as foreground. */
    m[vox(d, 7, 2, 2)] = 1;
    m[vox(d, 8, 2, 2)] = 0;
    /* A corner voxel: kept, its background neighbours on the border stay. */
    m[vox(d, 0, 0, 0)] = 1;
    cr_assert_eq(sp_itk_binary_close_box(m, d, 1, NULL), SP_OK);
    for (int x = 0; x < d[0]; x++) cr_assert_eq(m[vox(d, x, 2, 2)], x <= 3 || x == 7, "x=%d", x);
    cr_assert_eq(m[vox(d, 0, 0, 0)], 1);
    cr_assert_eq(m[vox(d, 1, 0, 0)], 0);
    cr_assert_eq(m[vox(d, 0, 1, 0)], 0);
    free(m);
}

/* On random masks: with a background margin of `radius` the closing equals
 * parts.c's old dilate-then-erode (outside = background at each step);
 * without one it is the closing in an infinite background (the reference
 * on a copy padded by radius, cropped back). */
Test(shim_c, itk_closing_matches_a_naive_reference)
{
    static const int sizes[][3] = {{7, 9, 5}, {12, 5, 8}, {1, 6, 7}, {10, 10, 1}};
    unsigned seed = 12345;
    for (int r = 0; r <= 2; r++)
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
            for (int dens = 1; dens <= 3; dens++)
                for (int margin = 0; margin <= 1; margin++) {
                    const int *d = sizes[k];
                    int pd[3] = {d[0] + 2 * r, d[1] + 2 * r, d[2] + 2 * r};
                    size_t n = (size_t)d[0] * d[1] * d[2];
                    uint8_t *m = mask_new(d), *want = mask_new(d), *p = mask_new(pd);
                    for (int z = 0; z < d[2]; z++)
                        for (int y = 0; y < d[1]; y++)
                            for (int x = 0; x < d[0]; x++) {
                                seed = seed * 1103515245u + 12345u;
                                int edge = x < r || y < r || z < r || x >= d[0] - r || y >= d[1] - r || z >= d[2] - r;
                                if (margin && edge) continue;
                                m[vox(d, x, y, z)] = (uint8_t)(((seed >> 16) % 4u < (unsigned)dens) ? 1 + (seed >> 8) % 200 : 0);
                            }
                    if (margin) {
                        memcpy(want, m, n);
                        ref_close(want, d, r);
                    } else {
                        for (int z = 0; z < d[2]; z++)
                            for (int y = 0; y < d[1]; y++)
                                for (int x = 0; x < d[0]; x++)
                                    p[vox(pd, x + r, y + r, z + r)] = m[vox(d, x, y, z)];
                        ref_close(p, pd, r);
                        for (int z = 0; z < d[2]; z++)
                            for (int y = 0; y < d[1]; y++)
                                for (int x = 0; x < d[0]; x++)
                                    want[vox(d, x, y, z)] = p[vox(pd, x + r, y + r, z + r)];
                    }
                    sp_err e = {0};
                    cr_assert_eq(sp_itk_binary_close_box(m, d, r, &e), SP_OK, "%s", e.msg);
                    for (size_t i = 0; i < n; i++)
                        cr_assert_eq(m[i], want[i], "r=%d size %dx%dx%d density %d/4 margin %d: voxel %zu", r, d[0], d[1],
                                     d[2], dens, margin, i);
                    free(m), free(want), free(p);
                }
}

Test(shim_c, itk_closing_rejects_bad_arguments_with_a_message)
{
    int d[3] = {4, 4, 4}, zero[3] = {4, 0, 4}, neg[3] = {-1, 4, 4};
    uint8_t m[64] = {0};
    sp_err e;
    struct {
        uint8_t *m;
        const int *d;
        int r;
        const char *says;
    } bad[] = {{NULL, d, 1, "NULL mask"}, {m, NULL, 1, "NULL dims"}, {m, zero, 1, "4 x 0 x 4"},
               {m, neg, 1, "-1 x 4 x 4"},  {m, d, -1, "radius -1"},  {m, d, SP_ITK_MAX_RADIUS + 1, "radius"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        cr_assert_eq(sp_itk_binary_close_box(bad[i].m, bad[i].d, bad[i].r, &e), SP_EINVAL, "case %zu", i);
        cr_assert_eq(e.code, SP_EINVAL);
        cr_assert(strstr(e.msg, bad[i].says), "case %zu: %s", i, e.msg);
        cr_assert_eq(sp_itk_binary_close_box(bad[i].m, bad[i].d, bad[i].r, NULL), SP_EINVAL, "NULL err, case %zu", i);
    }
    m[5] = 7;
    cr_assert_eq(sp_itk_binary_close_box(m, d, 0, NULL), SP_OK, "radius 0 is valid");
    cr_assert_eq(m[5], 1, "radius 0 only makes the mask 0/1");
}

static int thread_count(void)
{
    int n = 0;
    DIR *dir = opendir("/proc/self/task");
    cr_assert(dir);
    for (struct dirent *de; (de = readdir(dir));) n += de->d_name[0] != '.';
    closedir(dir);
    return n;
}

Test(shim_c, itk_init_caps_the_threads_itk_starts)
{
    int d[3] = {40, 30, 20};
    uint8_t *m = mask_new(d);
    for (size_t i = 0; i < (size_t)d[0] * d[1] * d[2]; i += 3) m[i] = 1;
    int before = thread_count();
    sp_itk_init(1);
    cr_assert_eq(sp_itk_binary_close_box(m, d, 2, NULL), SP_OK);
    cr_assert_leq(thread_count() - before, 1, "%d threads before, %d after", before, thread_count());
    free(m);
}
