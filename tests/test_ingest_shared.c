/* test_ingest_shared.c - ingest on the real files in ../shared/data.
 *
 * Every test skips (and says so) when ../shared/data is absent. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sp_geom.h"
#include "io/sp_io.h"
#include "support/test_util.h"

#define NEED_SHARED(var, rel)                                                              \
    char var[1024];                                                                        \
    if (!sp_test_shared(rel, var, sizeof var)) cr_skip_test("../shared/data absent: skipped")

static sp_volume *load_ok(const char *path)
{
    sp_volume *v = NULL;
    sp_err e = {0};
    sp_status st = sp_io_load(path, NULL, &v, NULL, &e);
    cr_assert_eq(st, SP_OK, "%s: %s", path, e.msg);
    return v;
}

/* Integer label value at linear index i, whatever the stored type. */
static int label_at(const sp_volume *v, size_t i)
{
    return v->dtype == SP_U8 ? ((const uint8_t *)v->data)[i] : v->dtype == SP_I16 ? ((const int16_t *)v->data)[i]
                                                                                 : (int)((const float *)v->data)[i];
}

/* Resamples labels onto v's grid, asserting both grids hold the same voxel
 * centres (the storage order may differ, e.g. rows flipped by dcm2niix). */
static sp_volume *same_grid_labels(const sp_volume *lab, const sp_volume *v)
{
    double inv[16], m[16];
    cr_assert_eq(sp_mat4_invert(lab->ijk_to_lps, inv), 0);
    sp_mat4_mul(inv, v->ijk_to_lps, m); /* our ijk -> label ijk */
    for (int i = 0; i < 12; i++)
        cr_assert(fabs(m[i] - floor(m[i] + 0.5)) < 0.02, "grids differ: element %d of the mapping is %g", i, m[i]);
    sp_volume *out = sp_vol_new_like(v, SP_I16);
    for (int z = 0; z < v->nz; z++)
        for (int y = 0; y < v->ny; y++)
            for (int x = 0; x < v->nx; x++) {
                int li = (int)floor(m[0] * x + m[1] * y + m[2] * z + m[3] + 0.5);
                int lj = (int)floor(m[4] * x + m[5] * y + m[6] * z + m[7] + 0.5);
                int lk = (int)floor(m[8] * x + m[9] * y + m[10] * z + m[11] + 0.5);
                cr_assert(li >= 0 && li < lab->nx && lj >= 0 && lj < lab->ny && lk >= 0 && lk < lab->nz);
                ((int16_t *)out->data)[sp_vol_idx(v, x, y, z)] = (int16_t)label_at(lab, sp_vol_idx(lab, li, lj, lk));
            }
    return out;
}

static void expect_same_voxels(const sp_volume *a, const sp_volume *b, int tol, const char *what)
{
    cr_assert_eq(a->nx, b->nx);
    cr_assert_eq(a->ny, b->ny);
    cr_assert_eq(a->nz, b->nz);
    cr_assert_eq(a->dtype, SP_I16, "%s: expected int16 HU", what);
    cr_assert_eq(b->dtype, SP_I16, "%s: expected int16 HU", what);
    int maxd = 0;
    for (size_t i = 0; i < sp_vol_nvox(a); i++) {
        int d = abs(((int16_t *)a->data)[i] - ((int16_t *)b->data)[i]);
        if (d > maxd) maxd = d;
    }
    cr_assert_leq(maxd, tol, "%s: max voxel difference %d > %d", what, maxd, tol);
}

Test(ingest_shared, wg04_lossless_syntaxes_equal_reference)
{
    static const char *const lossless[] = {"RLE/CT1_RLE", "JPLL/CT1_JPLL", "JLSL/CT1_JLSL", "J2KR/CT1_J2KR"};
    NEED_SHARED(ref_path, "dicom-codecs/data/WG04/REF/CT1_UNC");
    sp_volume *ref = load_ok(ref_path);
    cr_assert_eq(ref->nx, 512);
    for (size_t i = 0; i < sizeof lossless / sizeof lossless[0]; i++) {
        char p[1100];
        snprintf(p, sizeof p, "%.*s/%s", (int)(strstr(ref_path, "/REF/") - ref_path), ref_path, lossless[i]);
        sp_volume *v = load_ok(p);
        expect_same_voxels(ref, v, 0, lossless[i]);
        sp_vol_free(v);
    }
    sp_vol_free(ref);
}

Test(ingest_shared, wg04_lossy_syntaxes_close_to_reference)
{
    static const char *const lossy[] = {"J2KI/CT1_J2KI", "JLSN/CT1_JLSN"};
    NEED_SHARED(ref_path, "dicom-codecs/data/WG04/REF/CT1_UNC");
    sp_volume *ref = load_ok(ref_path);
    for (size_t i = 0; i < sizeof lossy / sizeof lossy[0]; i++) {
        char p[1100];
        double sad = 0, n = 0;
        snprintf(p, sizeof p, "%.*s/%s", (int)(strstr(ref_path, "/REF/") - ref_path), ref_path, lossy[i]);
        sp_volume *v = load_ok(p);
        cr_assert_eq(sp_vol_nvox(v), sp_vol_nvox(ref));
        /* Inside the reconstruction circle; lossy coding removes noise, so the
         * mean difference is about the image noise (openjpeg and CharLS give
         * the same values as dcm2niix's decoders). */
        for (size_t k = 0; k < sp_vol_nvox(v); k++) {
            if (((int16_t *)ref->data)[k] <= -1024) continue;
            sad += fabs((double)((int16_t *)v->data)[k] - ((int16_t *)ref->data)[k]);
            n++;
        }
        cr_assert_lt(sad / n, 30.0, "%s: mean abs difference %.2f HU", lossy[i], sad / n);
        sp_vol_free(v);
    }
    sp_vol_free(ref);
}

Test(ingest_shared, totalseg_dicom_is_one_20_slice_volume_on_the_label_grid)
{
    NEED_SHARED(dir, "ct-totalseg/example_ct_dicom");
    NEED_SHARED(seg, "ct-totalseg/example_seg_dicom.nii.gz");
    sp_scan *s = NULL;
    sp_err e = {0};
    cr_assert_eq(sp_io_scan(dir, NULL, &s, &e), SP_OK, "%s", e.msg);
    cr_assert_eq(s->nseries, 1, "empty UIDs must still give one series");
    cr_assert(s->series[0].uid_fallback);
    cr_assert_eq(s->chosen, 0);
    sp_volume *v = NULL;
    cr_assert_eq(sp_io_load_series(s, 0, &v, NULL, &e), SP_OK, "%s", e.msg);
    sp_scan_free(s);
    cr_assert_eq(v->nz, 20);
    cr_assert_float_eq(v->spacing[2], 2.0, 1e-3, "slice spacing from positions, not the 3 mm thickness");
    sp_volume *raw_lab = load_ok(seg);
    cr_assert_eq(sp_vol_nvox(raw_lab), sp_vol_nvox(v));
    sp_volume *lab = same_grid_labels(raw_lab, v);
    sp_vol_free(raw_lab);
    /* Values: HU with the -1024 intercept applied; labelled vertebrae are bone. */
    int16_t mn = 32767, mx = -32768;
    int64_t bone_sum = 0, bone_n = 0;
    for (size_t i = 0; i < sp_vol_nvox(v); i++) {
        int16_t x = ((int16_t *)v->data)[i];
        if (x < mn) mn = x;
        if (x > mx) mx = x;
        if (((int16_t *)lab->data)[i] == 32) bone_sum += x, bone_n++;
    }
    cr_assert_geq(mn, -1024);
    cr_assert_gt(bone_n, 1000);
    cr_assert_gt(bone_sum / bone_n, 120, "mean HU in T12 is %lld", (long long)(bone_sum / bone_n));
    sp_vol_free(v);
    sp_vol_free(lab);
}

/* Centroid (LPS mm) of the voxels whose label is in [lo, hi]. */
static void centroid(const sp_volume *lab, int lo, int hi, double out[3])
{
    double s[3] = {0, 0, 0}, n = 0;
    for (int z = 0; z < lab->nz; z++)
        for (int y = 0; y < lab->ny; y++)
            for (int x = 0; x < lab->nx; x++) {
                int l = label_at(lab, sp_vol_idx(lab, x, y, z));
                if (l < lo || l > hi) continue;
                double ijk[3] = {x, y, z}, p[3];
                sp_vol_ijk_to_lps(lab, ijk, p);
                for (int i = 0; i < 3; i++) s[i] += p[i];
                n++;
            }
    cr_assert_gt(n, 0);
    for (int i = 0; i < 3; i++) out[i] = s[i] / n;
}

Test(ingest_shared, totalseg_nifti_loads_with_the_right_orientation)
{
    NEED_SHARED(ct, "ct-totalseg/example_ct.nii.gz");
    NEED_SHARED(seg, "ct-totalseg/spine_report/example_ct_report/totalseg.nii.gz");
    sp_volume *v = load_ok(ct), *lab = load_ok(seg);
    double s1[3], l1[3], spine[3], body[3];
    cr_assert_eq(v->nx, 122);
    cr_assert_eq(v->nz, 112);
    cr_assert_eq(v->dtype, SP_I16);
    centroid(lab, 26, 26, s1);
    centroid(lab, 31, 31, l1);
    centroid(lab, 26, 33, spine);
    cr_assert_gt(l1[2], s1[2] + 50, "L1 must be superior (+z in LPS) to S1");
    /* The spine is posterior (+y in LPS) of the body's centre of mass. */
    double sy = 0, n = 0;
    for (int z = 0; z < v->nz; z++)
        for (int y = 0; y < v->ny; y++)
            for (int x = 0; x < v->nx; x++) {
                if (((int16_t *)v->data)[sp_vol_idx(v, x, y, z)] < -200) continue;
                double ijk[3] = {x, y, z}, p[3];
                sp_vol_ijk_to_lps(v, ijk, p);
                sy += p[1], n++;
            }
    body[1] = sy / n;
    cr_assert_gt(spine[1], body[1] + 20, "spine y %.1f vs body y %.1f", spine[1], body[1]);
    sp_vol_free(v);
    sp_vol_free(lab);
}

Test(ingest_shared, every_odd_file_loads_or_is_refused_with_a_reason)
{
    NEED_SHARED(dir, "dicom-odd");
    sp_scan *s = NULL;
    sp_err e = {0};
    int loaded = 0, refused = 0;
    cr_assert_eq(sp_io_scan(dir, NULL, &s, &e), SP_OK, "%s", e.msg);
    for (int i = 0; i < s->nfiles; i++)
        if (s->files[i].state != SP_FILE_OK) cr_assert_neq(s->files[i].reason[0], '\0', "%s", s->files[i].path);
    for (int i = 0; i < s->nseries; i++) {
        sp_volume *v = NULL;
        sp_err le = {0};
        sp_status st = sp_io_load_series(s, i, &v, NULL, &le);
        if (st == SP_OK) {
            loaded++;
            cr_assert_gt(sp_vol_nvox(v), 0);
        } else {
            refused++;
            cr_assert_neq(le.msg[0], '\0', "series %d refused without a reason", i);
            cr_assert(strstr(le.msg, "/") != NULL, "the reason names the file: %s", le.msg);
        }
        sp_vol_free(v);
    }
    cr_assert_gt(loaded, 5);
    sp_scan_free(s);
}

Test(ingest_shared, enhanced_multiframe_ct_loads_both_frames)
{
    NEED_SHARED(p, "dicom-codecs/data/pydicom/eCT_Supplemental.dcm");
    sp_volume *v = load_ok(p);
    cr_assert_eq(v->nz, 2);
    sp_vol_free(v);
}
