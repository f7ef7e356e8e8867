/* test_score.c - measurement on small phantoms against truth.json, with the
 * phantom's own vertebra labels imported (isolates the scoring stage):
 * heights, collapse, Genant, lesion character, posterolateral side, WBB
 * zones, SINS components, and 1 vs 2 thread determinism of the kernels. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sp_geom.h"
#include "core/sp_omp.h"
#include "io/sp_io.h"
#include "phantom/sp_phantom.h"
#include "score/sp_score.h"
#include "segment/sp_segment.h"
#include "support/phantom_util.h"
#include "support/test_util.h"

static char tmp[512];
static void setup(void) { sp_test_tmpdir(tmp, sizeof tmp); }
static void teardown(void) { sp_test_rmtree(tmp); }
TestSuite(score, .init = setup, .fini = teardown, .timeout = 120);

#define SMALL_LYTIC                                                                                      \
    "{\"seed\":7,\"anatomy\":{\"from\":\"T11\",\"to\":\"L3\"},"                                          \
    "\"scan\":{\"matrix\":[160,160],\"pixel_mm\":1.4,\"slice_mm\":2.5},"                                 \
    "\"vertebrae\":{\"L1\":{\"collapse_pct\":40,\"collapse_shape\":\"wedge\",\"lesion\":{\"type\":"      \
    "\"lytic\",\"parts\":[\"body\",\"pedicle_left\"],\"body_extent_pct\":60}}}}"

typedef struct run {
    sp_phantom *p;
    sp_seg_result *seg;
    sp_score_result *res;
    cJSON *truth;
} run;

static void analyse(const char *json, run *r)
{
    sp_phantom_spec *s = NULL;
    sp_err err = {0};
    char path[600];
    memset(r, 0, sizeof *r);
    cr_assert_eq(sp_phantom_spec_parse(json, "test", &s, &err), SP_OK, "%s", err.msg);
    cr_assert_eq(sp_phantom_generate(s, &r->p, &err), SP_OK, "%s", err.msg);
    sp_phantom_spec_free(s);
    cr_assert_eq(sp_phantom_write_labels(r->p, tmp, &err), SP_OK, "%s", err.msg);
    snprintf(path, sizeof path, "%s/truth_vertebrae.nii.gz", tmp);
    cr_assert_eq(sp_seg_from_labels(sp_phantom_ct(r->p), path, "verse", &r->seg, &err), SP_OK, "%s", err.msg);
    cr_assert_eq(sp_score_run(sp_phantom_ct(r->p), r->seg, NULL, &r->res, &err), SP_OK, "%s", err.msg);
    char *t = sp_phantom_truth_json(r->p);
    r->truth = cJSON_Parse(t);
    free(t);
    cr_assert_not_null(r->truth);
}

static void done(run *r)
{
    cJSON_Delete(r->truth);
    sp_score_result_free(r->res);
    sp_seg_result_free(r->seg);
    sp_phantom_free(r->p);
}

static const cJSON *truth_level(const run *r, const char *name)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(r->truth, "vertebrae"))
        if (!strcmp(cJSON_GetObjectItem(v, "name")->valuestring, name)) return v;
    return NULL;
}

static const sp_score_vertebra *level(const run *r, const char *name)
{
    for (int k = 0; k < r->res->nvert; k++)
        if (!strcmp(r->res->v[k].name, name)) return &r->res->v[k];
    return NULL;
}

static double num(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItem(o, a);
    if (b) x = cJSON_GetObjectItem(x, b);
    return x ? x->valuedouble : NAN;
}

Test(score, heights_collapse_genant_vs_truth)
{
    run r;
    analyse(SMALL_LYTIC, &r);
    static const char *const names[] = {"T12", "L1", "L2"};
    for (int i = 0; i < 3; i++) {
        const cJSON *t = truth_level(&r, names[i]);
        const sp_score_vertebra *v = level(&r, names[i]);
        cr_assert(t && v, "%s", names[i]);
        cr_assert(v->h.ok, "%s: %s", names[i], v->h.reason);
        /* the target is 1 mm; at 2.5 mm slices 93 % of the phantom
         * suite's heights are within 1 mm and the worst reach ~2 mm (a
         * lytic, wedged L1 here: 1.3 mm; docs/scoring.md, known
         * limitations), so 2 mm here */
        cr_expect(fabs(v->h.anterior - num(t, "heights", "anterior_mm")) < 2.0, "%s anterior %.2f vs %.2f", names[i],
                  v->h.anterior, num(t, "heights", "anterior_mm"));
        cr_expect(fabs(v->h.middle - num(t, "heights", "middle_mm")) < 2.0, "%s middle %.2f vs %.2f", names[i],
                  v->h.middle, num(t, "heights", "middle_mm"));
        cr_expect(fabs(v->h.posterior - num(t, "heights", "posterior_mm")) < 2.0, "%s posterior %.2f vs %.2f",
                  names[i], v->h.posterior, num(t, "heights", "posterior_mm"));
        /* grade exact, except within 1.5 % of a grade boundary (20/25/40 %),
         * where a 0.3 mm height difference changes the grade: one off there */
        double tc = num(t, "collapse_pct", NULL);
        bool near = fabs(tc - 20) < 1.5 || fabs(tc - 25) < 1.5 || fabs(tc - 40) < 1.5;
        int tg = (int)num(t, "genant", "grade");
        cr_expect(v->h.genant == tg || (near && abs(v->h.genant - tg) == 1), "%s genant %d (collapse %.1f vs %.1f)",
                  names[i], v->h.genant, v->h.collapse_pct, tc);
    }
    const sp_score_vertebra *l1 = level(&r, "L1");
    cr_expect_str_eq(l1->h.shape, "wedge");
    cr_expect(fabs(l1->h.collapse_pct - num(truth_level(&r, "L1"), "collapse_pct", NULL)) < 6.0, "collapse %.1f",
              l1->h.collapse_pct);
    done(&r);
}

Test(score, lytic_lesion_character_side_and_sins)
{
    run r;
    analyse(SMALL_LYTIC, &r);
    const sp_score_vertebra *l1 = level(&r, "L1");
    cr_expect_eq(l1->les.character, SP_CHAR_LYTIC);
    cr_expect(l1->les.side[0], "left pedicle: %.0f %%", l1->les.pedicle_pct[0]);
    cr_expect(!l1->les.side[1], "right pedicle: %.0f %%", l1->les.pedicle_pct[1]);
    cr_expect(fabs(l1->les.body_involvement_pct - num(truth_level(&r, "L1"), "lesion", "body_extent_pct")) < 15.0,
              "involvement %.1f", l1->les.body_involvement_pct);
    for (int k = 0; k < r.res->nvert; k++)
        if (strcmp(r.res->v[k].name, "L1"))
            cr_expect_eq(r.res->v[k].les.character, SP_CHAR_NONE, "%s: false lesion", r.res->v[k].name);
    /* SINS: location, bone lesion and posterolateral exact; pain unknown -> range of 3 */
    const cJSON *ts = cJSON_GetObjectItem(truth_level(&r, "L1"), "sins");
    cr_expect_eq(l1->sins.location, (int)num(ts, "location", NULL));
    cr_expect_eq(l1->sins.bone_lesion, (int)num(ts, "bone_lesion", NULL));
    cr_expect_eq(l1->sins.posterolateral, (int)num(ts, "posterolateral", NULL));
    cr_expect_eq(l1->sins.collapse, (int)num(ts, "collapse", NULL));
    cr_expect_eq(l1->sins.alignment, (int)num(ts, "alignment", NULL));
    /* the only clean reference of L1's discs lies two levels away: the
     * expected angle (a median, no slope) is uncertain by two profile steps */
    cr_expect(fabs(l1->above.expected_tol_deg - 2.0 * SP_SINS_PROFILE_STEP_DEG) < 1e-9, "tolerance %.2f",
              l1->above.expected_tol_deg);
    cr_expect_eq(l1->sins.pain, -1);
    cr_expect_eq(l1->sins.total_max - l1->sins.total_min, 3);
    cr_expect(abs(l1->sins.imaging_subtotal - (int)num(ts, "imaging_subtotal", NULL)) <= 1, "subtotal %d",
              l1->sins.imaging_subtotal);
    /* WBB: zones overlap the truth's (Jaccard) and the left pedicle puts zone 3 in */
    unsigned tz = 0;
    const cJSON *z;
    cJSON_ArrayForEach(z, cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(truth_level(&r, "L1"), "lesion"), "wbb"), "zones"))
        tz |= 1u << (z->valueint - 1);
    int inter = __builtin_popcount(tz & l1->les.zones), uni = __builtin_popcount(tz | l1->les.zones);
    cr_expect(uni > 0 && (double)inter / uni >= 0.6, "zones %x vs truth %x", l1->les.zones, tz);
    /* the exported lesion mask holds the measured lytic voxels, all in L1 */
    const sp_volume *lm = r.res->lesion_mask, *lab = r.seg->vertebrae;
    cr_assert_not_null(lm);
    int64_t nl = 0, other = 0;
    for (size_t i = 0; i < sp_vol_nvox(lm); i++) {
        uint8_t x = ((const uint8_t *)lm->data)[i];
        if (!x) continue;
        nl += x == 1;
        other += x != 1 || ((const uint8_t *)lab->data)[i] != l1->label;
    }
    double vml = lm->spacing[0] * lm->spacing[1] * lm->spacing[2] / 1000.0;
    cr_expect(fabs(nl * vml - l1->les.lytic_ml) < 0.01, "mask %.2f ml vs lytic %.2f ml", nl * vml, l1->les.lytic_ml);
    cr_expect_eq(other, 0);
    done(&r);
}

Test(score, same_result_at_1_and_2_threads)
{
    run a, b;
    sp_omp_set_threads(1);
    analyse(SMALL_LYTIC, &a);
    sp_omp_set_threads(2);
    analyse(SMALL_LYTIC, &b);
    cr_assert_eq(a.res->nvert, b.res->nvert);
    a.res->seconds_measure = b.res->seconds_measure = a.res->seconds_score = b.res->seconds_score = 0;
    /* the exported lesion voxels too */
    cr_assert(a.res->lesion_mask && b.res->lesion_mask);
    cr_expect(memcmp(a.res->lesion_mask->data, b.res->lesion_mask->data, sp_vol_bytes(a.res->lesion_mask)) == 0,
              "lesion masks differ between 1 and 2 threads");
    sp_volume *ma = a.res->lesion_mask, *mb = b.res->lesion_mask;
    a.res->lesion_mask = b.res->lesion_mask = NULL;
    cr_expect(memcmp(a.res, b.res, sizeof *a.res) == 0, "score results differ between 1 and 2 threads");
    a.res->lesion_mask = ma, b.res->lesion_mask = mb;
    done(&a);
    done(&b);
}

/* Real CT at 3 mm voxels with its TotalSegmentator labels: no lesion
 * anywhere (the first version called every lumbar level blastic: the 3 mm
 * "deep" core still held cortical partial volume), and L1-L5 heights of a
 * plausible size (docs/scoring.md compares them with spine_report.json). */
Test(score, real_ct_no_false_lesions)
{
    char ct[1024], lab[1024];
    if (!sp_test_shared("ct-totalseg/example_ct.nii.gz", ct, sizeof ct)) cr_skip_test("../shared/data absent: skipped");
    if (!sp_test_shared("ct-totalseg/spine_report/example_ct_report/totalseg.nii.gz", lab, sizeof lab))
        cr_skip_test("TotalSegmentator labels absent: skipped");
    sp_volume *v = NULL;
    sp_seg_result *seg = NULL;
    sp_score_result *res = NULL;
    sp_err e = {0};
    cr_assert_eq(sp_io_read_nifti(ct, &v, &e), SP_OK, "%s", e.msg);
    cr_assert_eq(sp_seg_from_labels(v, lab, "totalseg", &seg, &e), SP_OK, "%s", e.msg);
    cr_assert_eq(sp_score_run(v, seg, NULL, &res, &e), SP_OK, "%s", e.msg);
    int lumbar = 0;
    for (int k = 0; k < res->nvert; k++) {
        const sp_score_vertebra *x = &res->v[k];
        /* the sacrum is not assessed (score/measure_lesion.c); every other level: no lesion */
        cr_expect(x->les.character == (x->label == 26 ? SP_CHAR_NOT_ASSESSED : SP_CHAR_NONE),
                  "%s: false %s lesion (lytic %.2f ml, blastic %.2f ml)", x->name,
                  x->les.character == SP_CHAR_BLASTIC ? "blastic" : x->les.character == SP_CHAR_LYTIC ? "lytic" : "mixed",
                  x->les.lytic_ml, x->les.blastic_ml);
        if (x->label >= 20 && x->label <= 24) {
            lumbar++;
            cr_expect(x->h.ok, "%s: %s", x->name, x->h.reason);
            if (x->h.ok)
                cr_expect(x->h.anterior > 18 && x->h.anterior < 36 && x->h.posterior > 18 && x->h.posterior < 36,
                          "%s heights %.1f / %.1f / %.1f", x->name, x->h.anterior, x->h.middle, x->h.posterior);
        }
    }
    cr_expect_eq(lumbar, 5);
    sp_score_result_free(res);
    sp_seg_result_free(seg);
    sp_vol_free(v);
}

/* ---- synthetic bodies with known heights --------------------------------
 * At 1 mm voxels the heights are measured within 0.4 mm (the HU edge level
 * leaves a phase-dependent error of a few tenths; docs/scoring.md), the
 * axis within 1.5 deg and the AP axis not turned about SI.
 * Three elliptic-cylinder bodies (L1-L3: 40 mm wide, 30 deep, 25 high,
 * 1 mm cortex of 800 HU around 200 HU bone, 8 mm discs of 80 HU in 40 HU
 * soft tissue) on a 1 mm grid, each voxel the mean of 4 x 4 x 4 samples
 * (partial volume), labels at voxel centres. The middle one may be a wedge
 * (its top lowered by wedge_mm at the anterior surface, linearly to 0 at the
 * posterior one) and the whole column tilted by tilt_deg about LR. */
typedef struct synth {
    double tilt_deg, wedge_mm, off_mm, shift_mm[3]; /* shift: AP (+ posterior) per body */
    double slice_mm; /* slice spacing = thickness (0: 1 mm); thick slices are the mean over their thickness */
    double grown_hu; /* > 0: the label also takes voxels of the column at >= this HU (a label grown from the
                        CT, as our segmentation's: the endplate's partial-volume voxel beyond the surface) */
    double core_hu;  /* > 0: the bone inside the cortex (200 HU otherwise), e.g. a dense blastic body */
    double bump_mm;  /* > 0: the label (not the CT) of the middle body rises this far above its top endplate
                        over 3 mm (LR) x 3 mm (AP) around the anterior measuring line */
} synth;

#define SY_W 40.0
#define SY_D 30.0
#define SY_H 25.0
#define SY_DISC 8.0

/* local frame of the column: u = LR, v = AP (+ posterior), w = SI; body b
 * (0 top) centred at w = (1 - b) * (SY_H + SY_DISC) */
static void sy_local(const synth *s, const double p[3], double q[3])
{
    double a = s->tilt_deg * M_PI / 180.0, y = p[1], z = p[2] - s->off_mm;
    q[0] = p[0];
    q[1] = cos(a) * y - sin(a) * z;
    q[2] = sin(a) * y + cos(a) * z;
}

static double sy_top(const synth *s, int b, double v)
{
    double t = b == 1 ? s->wedge_mm * (SY_D / 2 - v) / SY_D : 0.0; /* v = -D/2 anterior: full wedge */
    return SY_H / 2 - (t < 0 ? 0 : t);
}

/* tissue HU at a local point, and the body index (-1 none) */
static double sy_tissue(const synth *s, const double q[3], int *body)
{
    *body = -1;
    bool in_column = false;
    for (int b = 0; b < 3; b++) {
        double v = q[1] - s->shift_mm[b];
        double r = sqrt(q[0] * q[0] / (SY_W * SY_W / 4) + v * v / (SY_D * SY_D / 4));
        if (r > 1.0) continue;
        in_column = true;
        double w = q[2] - (1 - b) * (SY_H + SY_DISC), top = sy_top(s, b, v);
        if (w > top || w < -SY_H / 2) continue;
        *body = b;
        double edge = fmin(fmin(top - w, w + SY_H / 2), (1 - r) * SY_D / 2);
        return edge < 1.0 ? 800.0 : s->core_hu > 0 ? s->core_hu : 200.0;
    }
    return in_column ? 80.0 : 40.0;
}

static void synth_run(const synth *s, sp_score_result **res, sp_seg_result **seg, sp_volume **ctp, double turn_ap_deg)
{
    double dz = s->slice_mm > 0 ? s->slice_mm : 1.0;
    int nx = 56, ny = 48, nz = (int)lround(110 / dz), nsz = dz > 1 ? (int)lround(4 * dz) : 4; /* 0.25 mm sub-planes */
    sp_volume *ct = sp_vol_new(SP_I16, nx, ny, nz), *lab = sp_vol_new(SP_U8, nx, ny, nz);
    cr_assert(ct && lab);
    double dir[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, sp[3] = {1, 1, dz}, org[3] = {-27.5, -23.5, -(nz - 1) * dz / 2};
    sp_vol_set_geometry(ct, dir, sp, org);
    sp_vol_set_geometry(lab, dir, sp, org);
    int16_t *d = ct->data;
    uint8_t *l = lab->data;
    for (int z = 0; z < nz; z++)
        for (int y = 0; y < ny; y++)
            for (int x = 0; x < nx; x++) {
                double acc = 0, p[3], q[3], ijk[3];
                int b;
                for (int k = 0; k < 16 * nsz; k++) {
                    ijk[0] = x - 0.375 + 0.25 * (k & 3), ijk[1] = y - 0.375 + 0.25 * ((k >> 2) & 3),
                    ijk[2] = z - 0.5 + (0.5 + (k >> 4)) / nsz;
                    sp_vol_ijk_to_lps(ct, ijk, p);
                    sy_local(s, p, q);
                    acc += sy_tissue(s, q, &b);
                }
                size_t i = sp_vol_idx(ct, x, y, z);
                d[i] = (int16_t)lround(acc / (16 * nsz));
                ijk[0] = x, ijk[1] = y, ijk[2] = z;
                sp_vol_ijk_to_lps(ct, ijk, p);
                sy_local(s, p, q);
                double h = sy_tissue(s, q, &b);
                if (b < 0 && s->grown_hu > 0 && h > 40.0 && d[i] >= s->grown_hu) /* in the column, bright */
                    b = q[2] > 0.5 * (SY_H + SY_DISC) ? 0 : q[2] < -0.5 * (SY_H + SY_DISC) ? 2 : 1;
                if (b < 0 && s->bump_mm > 0 && fabs(q[0]) <= 1.5 && q[1] >= -12.0 && q[1] <= -9.0 &&
                    q[2] > SY_H / 2 && q[2] <= SY_H / 2 + s->bump_mm)
                    b = 1;
                l[i] = b < 0 ? 0 : (uint8_t)(20 + b);
            }
    char path[600];
    sp_err err = {0};
    snprintf(path, sizeof path, "%s/synth_labels.nii.gz", tmp);
    cr_assert_eq(sp_io_write_nifti(path, lab, &err), SP_OK, "%s", err.msg);
    sp_vol_free(lab);
    cr_assert_eq(sp_seg_from_labels(ct, path, "verse", seg, &err), SP_OK, "%s", err.msg);
    /* a segmentation whose AP axis is turned about SI (as at some levels) */
    for (int k = 0; k < (*seg)->nvert && turn_ap_deg != 0; k++) {
        sp_seg_vertebra *sv = &(*seg)->vert[k];
        double a = turn_ap_deg * M_PI / 180.0, ap[3], lr[3];
        for (int i = 0; i < 3; i++) ap[i] = cos(a) * sv->axis_ap[i] + sin(a) * sv->axis_lr[i];
        sp_cross3(ap, sv->axis_si, lr);
        memcpy(sv->axis_ap, ap, sizeof ap);
        memcpy(sv->axis_lr, lr, sizeof lr);
    }
    cr_assert_eq(sp_score_run(ct, *seg, NULL, res, &err), SP_OK, "%s", err.msg);
    *ctp = ct;
}

/* expected heights of the middle body at 15 / 50 / 85 % of its depth from
 * the anterior surface */
static void synth_check(const synth *s, double tol, double turn_ap_deg)
{
    sp_score_result *res = NULL;
    sp_seg_result *seg = NULL;
    sp_volume *ct = NULL;
    synth_run(s, &res, &seg, &ct, turn_ap_deg);
    const sp_score_vertebra *v = NULL;
    for (int k = 0; k < res->nvert; k++)
        if (res->v[k].label == 21) v = &res->v[k];
    cr_assert(v && v->h.ok, "L2 not measured");
    static const double frac[3] = {0.15, 0.5, 0.85};
    double got[3] = {v->h.anterior, v->h.middle, v->h.posterior};
    for (int k = 0; k < 3; k++) {
        double vv = -SY_D / 2 + frac[k] * SY_D, want = sy_top(s, 1, vv) + SY_H / 2;
        cr_expect(fabs(got[k] - want) <= tol, "tilt %.0f wedge %.0f off %.2f: height %d %.2f, want %.2f", s->tilt_deg,
                  s->wedge_mm, s->off_mm, k, got[k], want);
    }
    /* the body axis: the column's own (a symmetric model of the wedge tilts
     * its axis by half the wedge angle) */
    double a = s->tilt_deg * M_PI / 180.0, w = atan(s->wedge_mm / SY_D) / 2, up[3] = {0, sin(a - w), cos(a - w)};
    double c = sp_dot3(v->si, up), atol = s->slice_mm > 3.2 ? 3.0 : 1.5; /* thick: the centreline's axis (frame.c) */
    cr_expect(acos(c > 1 ? 1 : c) * 180.0 / M_PI < atol, "axis off by %.2f deg", acos(c > 1 ? 1 : c) * 180.0 / M_PI);
    /* the AP axis stays in the sagittal plane (no turn about SI) */
    cr_expect(fabs(v->ap[0]) < 0.03, "AP axis turned: %.3f", v->ap[0]);
    sp_score_result_free(res);
    sp_seg_result_free(seg);
    sp_vol_free(ct);
}

Test(score, synthetic_box_heights_within_half_a_mm)
{
    synth a = {0, 0, 0, {0}, 0, 0, 0, 0}, b = {0, 0, 0.3, {0}, 0, 0, 0, 0}, c = {0, 0, 0.55, {0}, 0, 0, 0, 0};
    synth_check(&a, 0.5, 0);
    synth_check(&b, 0.5, 0);
    synth_check(&c, 0.5, 0);
}

Test(score, synthetic_tilted_box_heights_within_half_a_mm)
{
    synth a = {15, 0, 0.2, {0}, 0, 0, 0, 0}, b = {-10, 0, 0.7, {0}, 0, 0, 0, 0};
    synth_check(&a, 0.5, 0);
    synth_check(&b, 0.5, 0);
}

/* the segmentation's AP axis turned by 25 deg about SI: the mid-sagittal
 * plane is found again from the label's mirror symmetry */
Test(score, synthetic_turned_ap_axis_is_corrected)
{
    synth a = {10, 0, 0.2, {0}, 0, 0, 0, 0};
    synth_check(&a, 0.5, 25);
    synth_check(&a, 0.5, -30);
}

/* a sloped endplate crossed obliquely: the HU edge level is calibrated for
 * a level endplate, and the line's AP place moves with the measured depth
 * (0.2 mm of height per mm here): 0.7 mm (measured 0.25-0.7) */
Test(score, synthetic_wedge_heights_within_0_75_mm)
{
    synth a = {0, 8, 0.4, {0}, 0, 0, 0, 0}, b = {12, 6, 0.1, {0}, 0, 0, 0, 0};
    synth_check(&a, 0.75, 0);
    synth_check(&b, 0.75, 0);
}

/* A label grown from the CT (our segmentation's; here every voxel of the
 * column at >= 200 HU) also holds the voxel that the bright endplate
 * shares with the disc, though less than half of it is bone: its end then
 * lies up to 1.5 voxels beyond the surface. The CT's edge is taken up to
 * 1.1 voxels inside the end (frame.c); at 0.6 voxel, as before, these
 * heights came out 0.8 mm long. 1 mm voxels at offsets that put the
 * endplates at different places within their voxels (at 2.5 mm slices the
 * edge level's own phase error reaches 0.75 mm per end on this model,
 * docs/scoring.md). */
Test(score, synthetic_heights_on_a_label_grown_into_the_endplate_voxel)
{
    for (int i = 0; i < 4; i++) {
        synth a = {0, 0, 0.25 * i, {0}, 0, 200.0, 0, 0}, b = {8, 0, 0.1 + 0.25 * i, {0}, 0, 200.0, 0, 0};
        synth_check(&a, 0.5, 0);
        synth_check(&b, 0.5, 0);
    }
}

/* 2.5 mm slices, the label grown from the CT: where the 1 mm endplate
 * straddles two slices (its surface 0.75 mm into the outer one), the label
 * also holds the outer slice, brighter than the disc, and the edge level put
 * that slice's outer half into the body (heights +2.0 mm). The share of
 * the plate's excess HU in each of the two slices places the surface
 * (frame.c, plate_straddle): +0.3 mm. */
Test(score, synthetic_endplate_split_between_two_thick_slices)
{
    synth a = {0, 0, 0.75, {0}, 2.5, 200.0, 0, 0}, b = {0, 0, 1.75, {0}, 2.5, 200.0, 0, 0};
    synth_check(&a, 0.5, 0);
    synth_check(&b, 0.5, 0);
}

/* the label of the middle body rises 4 mm above its top endplate around
 * the anterior measuring line only (a bump of the label, as held-out mixed
 * T11's L4 end to end): the line's own end is its patch's outlier, fewer
 * than 12 of the patch's lines end near it, and the patch's median ends
 * are the reference (measure_heights.c, patch_ends); with the line's own
 * end kept, the anterior height read +4 mm. */
Test(score, synthetic_label_bump_at_the_line_takes_the_patch_median)
{
    synth a = {0, 0, 0.3, {0}, 0, 0, 0, 4.0}, b = {6, 0, 0.6, {0}, 0, 0, 0, 4.0};
    synth_check(&a, 0.5, 0);
    synth_check(&b, 0.5, 0);
}

/* one endplate 25 deg off its neighbours' (straight) column: the axis is
 * not the mean of the two endplates but the intact one's */
Test(score, synthetic_axis_off_its_neighbours_is_replaced)
{
    synth s = {8, 14, 0.3, {0}, 0, 0, 0, 0};
    sp_score_result *res = NULL;
    sp_seg_result *seg = NULL;
    sp_volume *ct = NULL;
    synth_run(&s, &res, &seg, &ct, 0);
    const sp_score_vertebra *v = &res->v[1];
    cr_assert_eq(v->label, 21);
    cr_expect_eq(v->frame_source, 2, "frame source %d (dev %.1f deg)", v->frame_source, v->frame_dev_deg);
    double a = s.tilt_deg * M_PI / 180.0, up[3] = {0, sin(a), cos(a)}, c = sp_dot3(v->si, up);
    cr_expect(acos(c > 1 ? 1 : c) * 180.0 / M_PI < 1.5, "axis off by %.2f deg", acos(c > 1 ? 1 : c) * 180.0 / M_PI);
    sp_score_result_free(res);
    sp_seg_result_free(seg);
    sp_vol_free(ct);
}

/* 5 mm slices: the label steps by whole slices, so a line's own extent is
 * off by up to half a slice at each end (2.5 mm here); where the tilted
 * endplate's label steps from one slice to the next between neighbouring
 * lines, the surface is known to the pixel (measure_heights.c, risers).
 * A column tilted 12 deg against the slices, at offsets that put the
 * endplates at different places within their slices; the axis is the
 * segmentation's (the endplate planes of a staircase are not trusted). */
Test(score, synthetic_thick_slice_heights_within_1_mm)
{
    for (int i = 0; i < 4; i++) {
        synth a = {25, 0, 1.25 * i, {0}, 5.0, 0, 0, 0}, b = {-22, 0, 0.6 + 1.25 * i, {0}, 5.0, 0, 0, 0};
        synth_check(&a, 1.0, 0);
        synth_check(&b, 1.0, 0);
    }
}

/* translation: a listhesis (the top body shifted 5 mm forward on the other
 * two) is confirmed; a single body shifted against both neighbours is a
 * displaced mask, not counted (but still reported as measured) */
Test(score, synthetic_translation_confirmed_only_as_a_step)
{
    synth step = {0, 0, 0.3, {-5, 0, 0}, 0, 0, 0, 0}, spike = {0, 0, 0.3, {0, -5, 0}, 0, 0, 0, 0};
    sp_score_result *res = NULL;
    sp_seg_result *seg = NULL;
    sp_volume *ct = NULL;
    synth_run(&step, &res, &seg, &ct, 0);
    cr_expect(res->v[0].below.translation_confirmed);
    cr_expect(fabs(res->v[0].below.translation_ap_mm - 5.0) < 1.0, "step %.2f mm", res->v[0].below.translation_ap_mm);
    cr_expect(res->v[1].translation_mm >= SP_SINS_TRANSLATION_MM, "L2 translation %.2f", res->v[1].translation_mm);
    sp_score_result_free(res);
    sp_seg_result_free(seg);
    sp_vol_free(ct);
    synth_run(&spike, &res, &seg, &ct, 0);
    cr_expect(!res->v[1].above.translation_confirmed && !res->v[1].below.translation_confirmed);
    cr_expect(res->v[1].translation_measured_mm >= SP_SINS_TRANSLATION_MM, "measured %.2f", res->v[1].translation_measured_mm);
    cr_expect(!(res->v[1].translation_mm >= SP_SINS_TRANSLATION_MM), "counted %.2f", res->v[1].translation_mm);
    sp_score_result_free(res);
    sp_seg_result_free(seg);
    sp_vol_free(ct);
}

/* A vertebra the scan cuts (here the top one of a cropped field of view,
 * from imported labels touching the last slice) is reported partial with no
 * heights and the reason, not measured as a collapsed one; the vertebrae
 * wholly in view are still measured. */
Test(score, vertebra_cut_by_the_scan_is_partial_not_collapsed)
{
    run r;
    analyse("{\"seed\":7,\"anatomy\":{\"from\":\"T11\",\"to\":\"L3\"},"
            "\"scan\":{\"fov_from\":\"L1\",\"fov_to\":\"L3\",\"margin_mm\":8,\"matrix\":[160,160],\"pixel_mm\":1.4,"
            "\"slice_mm\":2.5}}",
            &r);
    int partial = 0, measured = 0;
    for (int k = 0; k < r.res->nvert; k++) {
        const sp_score_vertebra *v = &r.res->v[k];
        if (v->partial) {
            partial++;
            cr_assert(!v->h.ok, "%s: partial but measured", v->name);
            cr_assert(strstr(v->h.reason, "outside the scan"), "%s: %s", v->name, v->h.reason);
        } else if (v->label >= 20 && v->label <= 22) {
            measured += v->h.ok;
            if (!v->h.ok) cr_log_info("%s not measured: %s", v->name, v->h.reason);
        }
    }
    cr_assert_geq(partial, 1, "no vertebra marked partial in a cropped scan");
    cr_assert_eq(measured, 3, "L1-L3 in view must be measured");
    done(&r);
}

/* A phantom from spec json, our own segmentation, scored (end to end). */
static void score_end_to_end(const char *json, sp_phantom **p, sp_seg_result **seg, sp_score_result **res)
{
    sp_phantom_spec *s = NULL;
    sp_err err = {0};
    cr_assert_eq(sp_phantom_spec_parse(json, "test", &s, &err), SP_OK, "%s", err.msg);
    cr_assert_eq(sp_phantom_generate(s, p, &err), SP_OK, "%s", err.msg);
    sp_phantom_spec_free(s);
    cr_assert_eq(sp_seg_run(sp_phantom_ct(*p), NULL, seg, &err), SP_OK, "%s", err.msg);
    cr_assert_eq(sp_score_run(sp_phantom_ct(*p), *seg, NULL, res, &err), SP_OK, "%s", err.msg);
}

/* The level named name, NULL if none. */
static const sp_score_vertebra *level_named(const sp_score_result *res, const char *name)
{
    for (int k = 0; k < res->nvert; k++)
        if (!strcmp(res->v[k].name, name)) return &res->v[k];
    return NULL;
}

/* score_end_to_end on a sample or held-out spec run with another seed (the
 * seed survey's cases). */
static void score_survey_case(const char *spec_name, int seed, sp_phantom **p, sp_seg_result **seg,
                              sp_score_result **res)
{
    char *spec = sp_test_sample_spec(spec_name, seed);
    score_end_to_end(spec, p, seg, res);
    free(spec);
}

static void score_end_to_end_free(sp_phantom *p, sp_seg_result *seg, sp_score_result *res)
{
    sp_score_result_free(res);
    sp_seg_result_free(seg);
    sp_phantom_free(p);
}

/* End to end, the suite's scoliosis phantom (sample_data/scoliosis.json):
 * T1, under the scan's top edge, has a label holding the first ribs and a
 * piece of T2's endplate; its frame tilts 25 deg and its lines read
 * 6.7 / 18.1 / 8.4 mm for 16.5 / 16 / 16.5, a grade 3 collapse that is not
 * there. Then (session 7) both ends far below the middle made it "not
 * measured"; since session 9 the top level's axis is checked against the
 * level below (frame_check) and replaced by T2's, and T1 is measured. */
Test(score, top_level_with_a_tilted_label_is_measured_along_its_neighbours_axis)
{
    sp_phantom *p = NULL;
    sp_seg_result *seg = NULL;
    sp_score_result *res = NULL;
    score_end_to_end("{\"seed\": 6, \"scoliosis\": {\"apex\": \"T9\", \"cobb_deg\": 30, \"convex\": \"right\","
                     " \"span\": 8}}",
                     &p, &seg, &res);
    const sp_score_vertebra *t1 = NULL, *t2 = NULL;
    for (int k = 0; k < res->nvert; k++) {
        if (!strcmp(res->v[k].name, "T1")) t1 = &res->v[k];
        if (!strcmp(res->v[k].name, "T2")) t2 = &res->v[k];
        if (res->v[k].label != 26)
            cr_expect(!res->v[k].h.lines_left_body, "%s: %s", res->v[k].name, res->v[k].h.reason);
    }
    cr_assert(t1 && t2);
    cr_assert(t1->h.ok, "T1 not measured: %s", t1->h.reason);
    cr_expect_neq(t1->frame_source, 0, "T1's own axis kept");
    /* phantom truth: 16.49 / 16 / 16.49 mm */
    const double want[3] = {16.49, 16.0, 16.49}, got[3] = {t1->h.anterior, t1->h.middle, t1->h.posterior};
    for (int k = 0; k < 3; k++) cr_expect(fabs(got[k] - want[k]) <= 1.5, "T1 height %d %.2f, want %.2f", k, got[k], want[k]);
    cr_expect_eq(t1->h.genant, 0, "T1 Genant grade %d (collapse %.1f %%)", t1->h.genant, t1->h.collapse_pct);
    cr_expect(isnan(t2->translation_mm) || t2->translation_mm < SP_SINS_TRANSLATION_MM, "T2 translation %.1f",
              t2->translation_mm);
    sp_score_result_free(res);
    sp_seg_result_free(seg);
    sp_phantom_free(p);
}

/* End to end: L2 crushed 35 % with its body mostly lytic (the held-out
 * lytic_l2_crush's spec, seed 41, and other seeds): the tumour reaches the
 * lower endplate, the disc below was placed in it and the label stops
 * short, so the heights read about half the body's (seeds 41 and 57:
 * 7 / 9 / 7.5 mm for about 16, a > 50 % collapse, SINS 3 for a truth of 2).
 * The room its neighbours leave, less two discs, gives the heights
 * (gap_check): 16.6 / 16.0 / 16.7 mm. Seed 21 read a 3.2 mm L1/L2
 * subluxation (SINS alignment 4 for 0) until the L1/L2 disc, a shoulder
 * on the rise out of the tumour with no dip, was found (segment/discs.c,
 * shoulder_weight); with it, seed 63, right before on a disc inferred 8 mm
 * higher, lost L2's anterior shell to L1 and L3 and is "not measured": no
 * wrong grade may come of it. (Seeds 12 and 33 read one or two heights
 * 4-7 mm long; on seeds 5 and 7 the L1/L2 disc shows no dip: see the next
 * test.) */
Test(score, crushed_body_whose_label_misses_tumour_is_measured_from_its_neighbours)
{
    static const int seed[3] = {41, 21, 63}; /* 57 reads as 41 (each full phantom ~20 s under ASan) */
    for (int c = 0; c < 3; c++) {
        char spec[600];
        snprintf(spec, sizeof spec,
                 "{\"seed\": %d, \"anatomy\": {\"from\": \"T9\", \"to\": \"S1\"},"
                 " \"scan\": {\"slice_mm\": 1.5},"
                 " \"vertebrae\": {\"L2\": {\"collapse_pct\": 35, \"collapse_shape\": \"crush\","
                 " \"lesion\": {\"type\": \"lytic\", \"parts\": [\"body\", \"pedicle_right\"],"
                 " \"body_extent_pct\": 65, \"cortical_breach\": true}}}}",
                 seed[c]);
        sp_phantom *p = NULL;
        sp_seg_result *seg = NULL;
        sp_score_result *res = NULL;
        score_end_to_end(spec, &p, &seg, &res);
        const sp_score_vertebra *v = NULL, *l1 = NULL;
        for (int k = 0; k < res->nvert; k++) {
            if (!strcmp(res->v[k].name, "L2")) v = &res->v[k];
            if (!strcmp(res->v[k].name, "L1")) l1 = &res->v[k];
        }
        cr_assert(v && l1, "seed %d: no L1 or L2", seed[c]);
        cr_expect(!l1->h.ok || l1->h.genant == 0, "seed %d: normal L1 read Genant %d", seed[c], l1->h.genant);
        cr_expect(v->sins.alignment <= 2, "seed %d: L2 SINS alignment %d (truth 0)", seed[c], v->sins.alignment);
        if (seed[c] == 63 && !v->h.ok) {
            cr_expect(v->h.reason[0] != '\0', "seed 63: L2 withdrawn without a reason");
            sp_score_result_free(res);
            sp_seg_result_free(seg);
            sp_phantom_free(p);
            continue;
        }
        cr_assert(v->h.ok, "seed %d: L2 not measured: %s", seed[c], v->h.reason);
        fprintf(stderr, "seed %d: L2 %.1f / %.1f / %.1f mm, collapse %.1f %%, from gap %d\n", seed[c], v->h.anterior,
                v->h.middle, v->h.posterior, v->h.collapse_pct, (int)v->h.from_gap);
        cr_expect(v->h.collapse_pct > 20 && v->h.collapse_pct < 50, "seed %d: L2 collapse %.1f %% (truth about 37 %%)",
                  seed[c], v->h.collapse_pct);
        cr_expect_eq(v->sins.collapse, 2, "seed %d: SINS collapse %d", seed[c], v->sins.collapse);
        if (c == 0) cr_expect(v->h.from_gap, "seed %d: heights not from the neighbours' room", seed[c]);
        sp_score_result_free(res);
        sp_seg_result_free(seg);
        sp_phantom_free(p);
    }
}

/* End to end, the suite's translation phantom (sample_data/
 * translation_t12_l1.json): T12 displaced 6 mm forward on L1 (the posterior
 * walls 6.5 mm apart). The translation was the smaller of the body mid
 * points' offset (5.4 mm) and the posterior wall lines' (2.8 mm), read 2.8 mm
 * against a 2 mm threshold; now the mid points' value where the walls
 * confirm it (same sign, >= 1.5 mm). */
Test(score, anterolisthesis_is_measured_at_its_size)
{
    sp_phantom *p = NULL;
    sp_seg_result *seg = NULL;
    sp_score_result *res = NULL;
    score_end_to_end("{\"seed\": 5, \"vertebrae\": {\"T12\": {\"translation_ap_mm\": 6, \"collapse_pct\": 25,"
                     " \"collapse_shape\": \"crush\", \"lesion\": {\"type\": \"lytic\","
                     " \"parts\": [\"body\", \"pedicle_right\"], \"body_extent_pct\": 60}}}}",
                     &p, &seg, &res);
    const sp_score_vertebra *t12 = level_named(res, "T12");
    cr_assert_not_null(t12);
    cr_expect(t12->below.translation_confirmed, "%s", t12->below.translation_note);
    cr_expect(fabs(t12->below.translation_ap_mm - 6.0) <= 1.5, "T12/L1 translation %.2f mm, generated 6",
              t12->below.translation_ap_mm);
    cr_expect_eq(t12->sins.alignment, 4);
    score_end_to_end_free(p, seg, res);
}

/* End to end, the suite's lytic L1 collapse (sample_data/lytic_l1_collapse.json)
 * with seed 3: L1 is a 55 % wedge, angled 15 deg at T12/L1 and 12 at L1/L2,
 * and no body is translated. The wedge's mid point and wall line moved with
 * its shape (2.6 mm at T12/L1: SINS alignment 4 for 2), and T1, under the C7
 * the scan cuts, read 2.7 mm lateral at T1/T2. Neither counts now. */
Test(score, wedge_and_scan_edge_give_no_translation)
{
    sp_phantom *p = NULL;
    sp_seg_result *seg = NULL;
    sp_score_result *res = NULL;
    char *spec = sp_test_sample_spec("lytic_l1_collapse", 3);
    score_end_to_end(spec, &p, &seg, &res);
    free(spec);
    for (int k = 0; k < res->nvert; k++)
        cr_expect(!(res->v[k].translation_mm >= SP_SINS_TRANSLATION_MM), "%s: translation %.1f mm counted (none generated)",
                  res->v[k].name, res->v[k].translation_mm);
    const sp_score_vertebra *l1 = level_named(res, "L1");
    cr_assert_not_null(l1);
    cr_expect_eq(l1->sins.alignment, 2, "L1 SINS alignment %d (truth 2: the wedge's kyphosis)", l1->sins.alignment);
    score_end_to_end_free(p, seg, res);
}

/* End to end, the suite's osteoporotic phantom (sample_data/
 * osteoporotic_fracture.json): T12 (25 % wedge) and L1 (35 % biconcave) are
 * fractured, T7 is not. T6's label took T7's anterior-superior corner, so
 * T7 read 15.3 / 21.1 / 19.5 mm for 20 / 19.5 / 20 (a 21 % wedge, grade 1)
 * and T6 5.1 mm too tall there; the collapse was withdrawn as a loss that
 * shows up in the neighbour (boundary_check), and since session 13 the
 * corner goes back (segment/disc_boundary.c) and T7 is measured, grade 0.
 * Either way no normal body may read a fracture, and the real fractures
 * keep their grades. */
static void osteoporotic_normal_bodies_not_fractured(int seed)
{
    char spec[400];
    snprintf(spec, sizeof spec,
             "{\"seed\": %d, \"osteoporosis\": {\"trabecular_hu\": 80, \"cortical_mm\": 0.7},"
             " \"vertebrae\": {\"L1\": {\"collapse_pct\": 35, \"collapse_shape\": \"biconcave\"},"
             " \"T12\": {\"collapse_pct\": 25, \"collapse_shape\": \"wedge\"}}}",
             seed);
    sp_phantom *p = NULL;
    sp_seg_result *seg = NULL;
    sp_score_result *res = NULL;
    score_end_to_end(spec, &p, &seg, &res);
    for (int k = 0; k < res->nvert; k++) {
        const sp_score_vertebra *v = &res->v[k];
        if (!strcmp(v->name, "T12") || !strcmp(v->name, "L1"))
            cr_expect(v->h.ok && v->h.genant >= 1, "seed %d, %s: fracture not reported (%s)", seed, v->name, v->h.reason);
        else if (v->label != 26)
            cr_expect(!v->h.ok || v->h.genant == 0, "seed %d, %s: grade %d (%.1f %%) on a normal body", seed, v->name,
                      v->h.genant, v->h.collapse_pct);
        if (seed == 10 && !strcmp(v->name, "T7") && !v->h.ok)
            cr_expect(strstr(v->h.reason, "T6") != NULL, "T7 reason does not name T6: %s", v->h.reason);
    }
    score_end_to_end_free(p, seg, res);
}

/* Survey seeds 101 and 113 read a grade 3 collapse at a normal body on the
 * posterior line alone, the anterior and middle agreeing: T1 of the lytic L1
 * collapse with seed 101 (16.9 / 16.7 / 2.8 mm for 16.5 / 16 / 16.5, the
 * line clipped under the C7 the scan cuts), T2 of the held-out lytic T4 with
 * seed 113 (17.1 / 17.4 / 10.1 mm) and L5 of the held-out blastic L3 with
 * seed 113 (24.9 / 29.8 / 10.3 mm, above the sacrum). No fracture shortens
 * only the back of a body: the collapse is withdrawn, with the reason
 * (score.c, boundary_check sign 4), and the real fracture keeps its grade. */
Test(score, posterior_line_alone_short_is_withdrawn_not_a_fracture)
{
    static const struct {
        const char *spec, *level, *fractured; /* fractured: the one level with a generated collapse, or NULL */
        int seed;
    } cases[] = {
        {"lytic_l1_collapse", "T1", "L1", 101},
        {"lytic_t4_left", "T2", NULL, 113},
        {"blastic_l3_spinous", "L5", NULL, 113},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sp_phantom *p = NULL;
        sp_seg_result *seg = NULL;
        sp_score_result *res = NULL;
        score_survey_case(cases[c].spec, cases[c].seed, &p, &seg, &res);
        for (int k = 0; k < res->nvert; k++) {
            const sp_score_vertebra *v = &res->v[k];
            if (v->label == 26 || (cases[c].fractured && !strcmp(v->name, cases[c].fractured))) continue;
            cr_expect(!v->h.ok || v->h.genant == 0, "%s seed %d, %s: grade %d (%.1f / %.1f / %.1f mm) on a normal body",
                      cases[c].spec, cases[c].seed, v->name, v->h.genant, v->h.anterior, v->h.middle, v->h.posterior);
        }
        const sp_score_vertebra *v = level_named(res, cases[c].level);
        cr_assert_not_null(v, "%s seed %d: %s missing", cases[c].spec, cases[c].seed, cases[c].level);
        if (!v->h.ok)
            cr_expect(strstr(v->h.reason, "posterior line alone") != NULL, "%s seed %d, %s withdrawn for another reason: %s",
                      cases[c].spec, cases[c].seed, v->name, v->h.reason);
        if (cases[c].fractured) {
            const sp_score_vertebra *f = level_named(res, cases[c].fractured);
            cr_assert_not_null(f);
            cr_expect(f->h.ok && f->h.genant >= 2, "%s seed %d, %s: fracture lost, grade %d (%s)", cases[c].spec,
                      cases[c].seed, f->name, f->h.genant, f->h.reason);
        }
        score_end_to_end_free(p, seg, res);
    }
}

/* The suite's osteoporotic spec with survey seeds 89 and 109: normal
 * bodies read grade 3 where one end line left the body. T9 (seed 89) read
 * 3.2 / 21.5 / 21.5 mm and T3 (seed 109) 11.2 / 18.4 / 19.6 mm, wedges of
 * 45 and 34 deg between endplates fitted 0.1 and 1.8 deg apart: a real
 * wedge tilts its endplates, so these collapses are withdrawn with the
 * reason (boundary_check sign 5). L5 (seed 109) read 27.8 / 26.9 / 37.0 mm,
 * and its 37 mm posterior line, 1.38x its neighbours', was taken as the
 * intact wall, a 27 % loss: a wall that long is not the reference
 * (collapse(), SP_WALL_LONG_FRAC), and L5 reads grade 0. T12 and L1 keep
 * their fractures. */
Test(score, end_lines_that_left_the_body_give_no_fracture)
{
    static const int seeds[] = {89, 109};
    for (size_t c = 0; c < sizeof seeds / sizeof seeds[0]; c++) {
        sp_phantom *p = NULL;
        sp_seg_result *seg = NULL;
        sp_score_result *res = NULL;
        score_survey_case("osteoporotic_fracture", seeds[c], &p, &seg, &res);
        for (int k = 0; k < res->nvert; k++) {
            const sp_score_vertebra *v = &res->v[k];
            if (v->label == 26) continue;
            if (!strcmp(v->name, "T12") || !strcmp(v->name, "L1")) {
                cr_expect(v->h.ok && v->h.genant >= 1, "seed %d, %s: fracture lost (%s)", seeds[c], v->name, v->h.reason);
                continue;
            }
            cr_expect(!v->h.ok || v->h.genant == 0, "seed %d, %s: grade %d (%.1f / %.1f / %.1f mm, expected %.1f: %s)",
                      seeds[c], v->name, v->h.genant, v->h.anterior, v->h.middle, v->h.posterior, v->h.expected,
                      v->h.expected_source);
        }
        const sp_score_vertebra *odd = level_named(res, seeds[c] == 89 ? "T9" : "T3");
        cr_assert_not_null(odd);
        if (!odd->h.ok)
            cr_expect(strstr(odd->h.reason, "wedge") != NULL, "seed %d, %s withdrawn for another reason: %s", seeds[c],
                      odd->name, odd->h.reason);
        if (seeds[c] == 109) {
            const sp_score_vertebra *l5 = level_named(res, "L5");
            cr_assert_not_null(l5);
            cr_expect(l5->h.ok, "seed 109, L5 not measured: %s", l5->h.reason);
            if (l5->h.posterior > 30)
                cr_expect(strstr(l5->h.expected_source, "overlong") != NULL, "seed 109, L5 reference: %s",
                          l5->h.expected_source);
        }
        score_end_to_end_free(p, seg, res);
    }
}

/* Seed 3 of the same spec: T1, under the C7 the scan cuts, has endplates
 * 26 deg apart and read 15.4 / 18.3 / 4.6 mm for 16.5 / 16 / 16.5 (a false
 * grade 3): its label holds pieces of C7, and the collapse is withdrawn. */
Test(score, a_collapse_under_a_cut_vertebra_with_tilted_endplates_is_withdrawn)
{
    osteoporotic_normal_bodies_not_fractured(3);
}

Test(score, osteoporotic_normal_bodies_are_not_fractured)
{
    osteoporotic_normal_bodies_not_fractured(10);
}

/* The held-out lytic T8 (bench/heldout/lytic_t8_epidural.json) with seed
 * 11: along the centreline the profile rises from T8's tumour (34 HU)
 * through its crushed endplate and the T7/T8 disc (a shoulder at 167 HU) to
 * T7's endplate without a minimum, so the disc was placed at a 226 HU dip of
 * marrow 9 mm up in T7. T8's label held T7's lower part: T7 read a 41 %
 * loss, T8 27.2 / 26.0 / 25.6 mm for 16.3 / 15.8 / 16.3 and "mixed", both
 * withdrawn. segment/discs.c (shoulder_weight) takes the shoulder. */
Test(score, a_disc_with_no_dip_beside_a_crushed_lytic_body_is_found)
{
    sp_phantom *p = NULL;
    sp_seg_result *seg = NULL;
    sp_score_result *res = NULL;
    score_end_to_end("{\"seed\": 11, \"anatomy\": {\"kyphosis_deg\": 50}, \"vertebrae\": {\"T8\":"
                     " {\"collapse_pct\": 20, \"collapse_shape\": \"crush\", \"lesion\": {\"type\": \"lytic\","
                     " \"parts\": [\"body\", \"pedicle_left\", \"pedicle_right\"], \"body_extent_pct\": 50,"
                     " \"cortical_breach\": true, \"epidural_bilsky\": \"1b\", \"epidural_side\": \"anterior\"}}}}",
                     &p, &seg, &res);
    const sp_score_vertebra *t7 = level_named(res, "T7"), *t8 = level_named(res, "T8");
    cr_assert(t7 && t8, "T7 or T8 missing");
    cr_assert(t7->h.ok, "T7 not measured: %s", t7->h.reason);
    cr_assert(t8->h.ok, "T8 not measured: %s", t8->h.reason);
    cr_expect_eq(t7->h.genant, 0, "T7 (normal) Genant %d", t7->h.genant);
    cr_expect(fabs(t8->h.anterior - 16.29) <= 1.0 && fabs(t8->h.middle - 15.8) <= 1.0 &&
                  fabs(t8->h.posterior - 16.29) <= 1.0,
              "T8 %.1f / %.1f / %.1f mm for 16.3 / 15.8 / 16.3", t8->h.anterior, t8->h.middle, t8->h.posterior);
    cr_expect_eq(t8->les.character, SP_CHAR_LYTIC, "T8 lesion character %d, want lytic", (int)t8->les.character);
    cr_expect_eq(t8->sins.collapse, 2, "T8 SINS collapse %d (truth 2)", t8->sins.collapse);
    score_end_to_end_free(p, seg, res);
}

/* An imported label map whose T6/T7 boundary is misplaced at the front:
 * the top 5 mm of T7's anterior half carry T6's label (as our own
 * segmentation once did on the osteoporotic phantom, T7 reading a 21 %
 * wedge with T6 5.1 mm too tall there), and so does the disc above them.
 * T7 then reads an anterior loss (14.4 / 14.7 / 19.4 mm), and it shows up
 * in T6 (anterior 10.4 mm over its neighbours'): the collapse is withdrawn
 * naming T6 (boundary_check, sign 2). */
Test(score, a_loss_that_shows_up_in_the_neighbour_is_withdrawn)
{
    sp_phantom_spec *s = NULL;
    sp_phantom *p = NULL;
    sp_err err = {0};
    cr_assert_eq(sp_phantom_spec_parse("{\"seed\": 10, \"anatomy\": {\"from\": \"T3\", \"to\": \"T11\"}}", "test", &s,
                                       &err),
                 SP_OK, "%s", err.msg);
    cr_assert_eq(sp_phantom_generate(s, &p, &err), SP_OK, "%s", err.msg);
    sp_phantom_spec_free(s);
    cr_assert_eq(sp_phantom_write_labels(p, tmp, &err), SP_OK, "%s", err.msg);
    char path[600], *tj = sp_phantom_truth_json(p);
    cJSON *truth = cJSON_Parse(tj);
    free(tj);
    const cJSON *t7 = NULL, *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(truth, "vertebrae"))
        if (!strcmp(cJSON_GetObjectItem(v, "name")->valuestring, "T7")) t7 = v;
    cr_assert_not_null(t7);
    double c[3], ant[3], up[3];
    for (int i = 0; i < 3; i++) {
        c[i] = cJSON_GetArrayItem(cJSON_GetObjectItem(t7, "body_centre_lps"), i)->valuedouble;
        ant[i] = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(t7, "axes"), "anterior"), i)->valuedouble;
        up[i] = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(t7, "axes"), "up"), i)->valuedouble;
    }
    double half = 0.5 * cJSON_GetObjectItem(cJSON_GetObjectItem(t7, "heights"), "anterior_mm")->valuedouble;
    int t7_label = cJSON_GetObjectItem(t7, "label")->valueint;
    snprintf(path, sizeof path, "%s/truth_vertebrae.nii.gz", tmp);
    sp_volume *lab = NULL;
    cr_assert_eq(sp_io_read_nifti(path, &lab, &err), SP_OK, "%s", err.msg);
    cr_assert_eq(lab->dtype, SP_U8);
    int moved = 0;
    for (int z = 0; z < lab->nz; z++)
        for (int y = 0; y < lab->ny; y++)
            for (int x = 0; x < lab->nx; x++) {
                uint8_t *l = &SP_VOL_AT(lab, uint8_t, x, y, z);
                if (*l != t7_label) continue;
                double ijk[3] = {x, y, z}, q[3], da = 0, du = 0;
                sp_vol_ijk_to_lps(lab, ijk, q);
                for (int i = 0; i < 3; i++) da += (q[i] - c[i]) * ant[i], du += (q[i] - c[i]) * up[i];
                if (da > 0 && du > half - 5.0) *l = (uint8_t)(t7_label - 1), moved++;
            }
    cr_assert_gt(moved, 100, "only %d voxels relabelled", moved);
    /* and the disc above the piece, as the growth took it: the piece joins T6 */
    int dk = lab->ijk_to_lps[10] > 0 ? 1 : -1; /* voxel step toward the head */
    for (int z = 0; z < lab->nz; z++)
        for (int y = 0; y < lab->ny; y++)
            for (int x = 0; x < lab->nx; x++) {
                if (SP_VOL_AT(lab, uint8_t, x, y, z) != t7_label - 1) continue;
                int zz = z + dk;
                if (zz < 0 || zz >= lab->nz || SP_VOL_AT(lab, uint8_t, x, y, zz) != 0) continue;
                int e = zz;
                while (e >= 0 && e < lab->nz && abs(e - z) <= 4 && SP_VOL_AT(lab, uint8_t, x, y, e) == 0) e += dk;
                if (e < 0 || e >= lab->nz || SP_VOL_AT(lab, uint8_t, x, y, e) != t7_label - 1) continue;
                for (int f = zz; f != e; f += dk) SP_VOL_AT(lab, uint8_t, x, y, f) = (uint8_t)(t7_label - 1);
            }
    snprintf(path, sizeof path, "%s/misplaced_t6_t7.nii.gz", tmp);
    cr_assert_eq(sp_io_write_nifti(path, lab, &err), SP_OK, "%s", err.msg);
    sp_vol_free(lab);
    sp_seg_result *seg = NULL;
    sp_score_result *res = NULL;
    cr_assert_eq(sp_seg_from_labels(sp_phantom_ct(p), path, "verse", &seg, &err), SP_OK, "%s", err.msg);
    cr_assert_eq(sp_score_run(sp_phantom_ct(p), seg, NULL, &res, &err), SP_OK, "%s", err.msg);
    const sp_score_vertebra *m6 = level_named(res, "T6"), *m7 = level_named(res, "T7");
    cr_assert(m6 && m7, "T6 or T7 missing");
    cr_expect(!m7->h.ok, "T7 measured %.1f / %.1f / %.1f mm, Genant %d: the collapse was not withdrawn", m7->h.anterior,
              m7->h.middle, m7->h.posterior, m7->h.genant);
    cr_expect(strstr(m7->h.reason, "T6") && strstr(m7->h.reason, "over its neighbours"),
              "T7's reason does not name the tall T6: %s", m7->h.reason);
    /* T6's label now holds disc and T7's bone: where that reads as a lesion,
     * its own heights go too, naming T7 */
    cr_expect(m6->h.ok || strstr(m6->h.reason, "T7"), "T6: %s", m6->h.reason);
    cJSON_Delete(truth);
    score_end_to_end_free(p, seg, res);
}

/* End to end, the same crushed lytic L2 with seed 5: the tumour rises
 * through the L1/L2 disc, which shows no dip, and the segmentation cuts
 * through the middle of L1 instead (a marrow dip), so "L1" is L1's upper
 * half (12.4 / 11.5 / 10.5 mm for 24.5 / 24 / 24.5: a false grade 3
 * collapse) and "L2" its lower half, with its centre outside its own body
 * mask. The collapse next to a label that cannot be measured is withdrawn
 * with the reason (score.c, boundary_check): no lesion-free level may be
 * reported as a fracture. "L2" held no lesion (the tumour-filled body lies
 * unlabelled below it): "not assessed" with the reason, never "none"
 * (unmeasured_body_lesion_check). On seed 7 the lesion is found in "L2",
 * whose offset from L3 read as a 3.2 mm subluxation (SINS alignment 4 for
 * 0): an unmeasurable body is no plausible mask for translation. */
static void crushed_l2_seed(int seed, sp_phantom **p, sp_seg_result **seg, sp_score_result **res,
                            const sp_score_vertebra **l1, const sp_score_vertebra **l2)
{
    char spec[600];
    snprintf(spec, sizeof spec,
             "{\"seed\": %d, \"anatomy\": {\"from\": \"T9\", \"to\": \"S1\"}, \"scan\": {\"slice_mm\": 1.5},"
             " \"vertebrae\": {\"L2\": {\"collapse_pct\": 35, \"collapse_shape\": \"crush\","
             " \"lesion\": {\"type\": \"lytic\", \"parts\": [\"body\", \"pedicle_right\"],"
             " \"body_extent_pct\": 65, \"cortical_breach\": true}}}}",
             seed);
    score_end_to_end(spec, p, seg, res);
    *l1 = *l2 = NULL;
    for (int k = 0; k < (*res)->nvert; k++) {
        const sp_score_vertebra *v = &(*res)->v[k];
        if (!strcmp(v->name, "L1")) *l1 = v;
        if (!strcmp(v->name, "L2")) *l2 = v;
        if (strcmp(v->name, "L2") && v->label != 26) {
            cr_expect(!v->h.ok || v->h.genant == 0, "seed %d, %s: grade %d (%.1f %%) on a normal body", seed, v->name,
                      v->h.genant, v->h.collapse_pct);
            cr_expect(!(v->translation_mm >= SP_SINS_TRANSLATION_MM), "seed %d, %s: subluxation (translation %.1f mm)",
                      seed, v->name, v->translation_mm);
        }
    }
    cr_assert(*l1 && *l2, "seed %d: no L1 or L2", seed);
    if (!(*l1)->h.ok) { /* withdrawn, and says why */
        cr_expect((*l1)->h.boundary_doubt, "seed %d: L1 not measured for another reason: %s", seed, (*l1)->h.reason);
        cr_expect(strstr((*l1)->h.reason, "L2") != NULL, "seed %d: reason does not name L2: %s", seed,
                  (*l1)->h.reason);
    }
    cr_expect_neq((*l2)->les.character, SP_CHAR_NONE, "seed %d: L2 (lytic, crushed) reported without a lesion", seed);
}

Test(score, collapse_next_to_an_unmeasurable_label_is_withdrawn)
{
    sp_phantom *p = NULL;
    sp_seg_result *seg = NULL;
    sp_score_result *res = NULL;
    const sp_score_vertebra *l1, *l2;
    crushed_l2_seed(5, &p, &seg, &res, &l1, &l2);
    if (l2->les.character == SP_CHAR_NOT_ASSESSED)
        cr_expect(strstr(l2->les.reason, "measurable body") != NULL, "L2 lesion reason: %s", l2->les.reason);
    score_end_to_end_free(p, seg, res);
}

Test(score, an_unmeasurable_label_gives_no_subluxation)
{
    sp_phantom *p = NULL;
    sp_seg_result *seg = NULL;
    sp_score_result *res = NULL;
    const sp_score_vertebra *l1, *l2;
    crushed_l2_seed(7, &p, &seg, &res, &l1, &l2);
    /* 0 (the truth) or not assessed, never a subluxation or deformity. Since
     * the detached body pieces (segment/islands.c) L2's label holds a piece
     * of its own body that L3's growth had taken; its two pieces leave no
     * central column for the endplate planes, so its frame and discs are not
     * measured and the component is not assessed (it read 0 before, on a
     * frame whose centre lay outside its mask). */
    if (l2->sins.applicable)
        cr_expect(l2->sins.alignment == 0 || l2->sins.alignment < 0, "L2 SINS alignment %d (truth 0)", l2->sins.alignment);
    score_end_to_end_free(p, seg, res);
}

/* End to end (our own segmentation): a mixed T11 lesion of the body (and
 * left lamina) must not spread into the pedicles. Our labels carry a
 * partial-volume shell around the thin posterior elements, so their cortex
 * (550-650 HU) lay one voxel inside the label, counted as sclerotic
 * candidates, and the mixed growth carried the body's lesion into both
 * pedicles and facet regions (10-20 % each): posterolateral "bilateral",
 * SINS 3 for a truth of 0, on three of three seeds. Blastic candidates are
 * now 2 mm inside the vertebra, like lytic seeds (measure_lesion.c). */
Test(score, mixed_body_lesion_stays_out_of_the_pedicles_end_to_end)
{
    sp_phantom *p = NULL;
    sp_seg_result *seg = NULL;
    sp_score_result *res = NULL;
    score_end_to_end("{\"seed\": 57, \"anatomy\": {\"from\": \"T8\", \"to\": \"L2\"},"
                     " \"scoliosis\": {\"apex\": \"L1\", \"cobb_deg\": 20, \"convex\": \"left\", \"span\": 6},"
                     " \"scan\": {\"matrix\": [192, 192], \"pixel_mm\": 1.0, \"slice_mm\": 2.0},"
                     " \"vertebrae\": {\"T11\": {\"collapse_pct\": 25, \"collapse_shape\": \"biconcave\","
                     " \"lesion\": {\"type\": \"mixed\", \"parts\": [\"body\", \"lamina_left\"], \"body_extent_pct\": 50}}}}",
                     &p, &seg, &res);
    const sp_score_vertebra *t11 = NULL;
    for (int k = 0; k < res->nvert; k++)
        if (!strcmp(res->v[k].name, "T11")) t11 = &res->v[k];
    cr_assert_not_null(t11);
    cr_expect_eq(t11->les.character, SP_CHAR_MIXED);
    for (int sd = 0; sd < 2; sd++)
        cr_expect_lt(t11->les.pedicle_pct[sd], 10.0, "%s pedicle %.1f %% lesion", sd ? "right" : "left",
                     t11->les.pedicle_pct[sd]);
    cr_expect_eq(t11->sins.posterolateral, 0, "posterolateral %d (truth 0)", t11->sins.posterolateral);
    sp_score_result_free(res);
    sp_seg_result_free(seg);
    sp_phantom_free(p);
}

Test(score, crushed_lytic_body_cortex_is_not_a_sclerotic_lesion_end_to_end)
{
    /* lytic L1 with 55 % wedge collapse and paravertebral extension (the
     * default phantom's spec, cropped, seed 17): the collapsed body's label
     * reaches past its cortex into the soft tissue around, so the cortex,
     * a voxel thick above the blastic cut-off, lay 3 mm inside the label
     * and seeded 0.6 ml of sclerotic bone: mixed for lytic (seed survey: 4
     * of 100 lesions, all at collapsed lytic bodies) */
    sp_phantom *p = NULL;
    sp_seg_result *seg = NULL;
    sp_score_result *res = NULL;
    score_end_to_end("{\"seed\": 17, \"anatomy\": {\"from\": \"T11\", \"to\": \"L3\"},"
                     " \"scan\": {\"matrix\": [192, 192], \"pixel_mm\": 1.4, \"slice_mm\": 2.5},"
                     " \"vertebrae\": {\"L1\": {\"collapse_pct\": 55, \"collapse_shape\": \"wedge\","
                     " \"lesion\": {\"type\": \"lytic\", \"parts\": [\"body\", \"pedicle_left\"], \"body_extent_pct\": 70,"
                     " \"cortical_breach\": true, \"paravertebral_mm\": 12, \"paravertebral_side\": \"left\","
                     " \"epidural_bilsky\": \"1b\", \"epidural_side\": \"anterior\"}}}}",
                     &p, &seg, &res);
    const sp_score_vertebra *l1 = level_named(res, "L1");
    cr_assert_not_null(l1);
    fprintf(stderr, "L1: lytic %.2f ml, blastic %.2f ml\n", l1->les.lytic_ml, l1->les.blastic_ml);
    cr_expect_eq(l1->les.character, SP_CHAR_LYTIC, "L1 character %d (lytic %.2f ml, blastic %.2f ml)", l1->les.character,
                 l1->les.lytic_ml, l1->les.blastic_ml);
    cr_expect_gt(l1->les.lytic_ml, 10.0);
    cr_expect_lt(l1->les.blastic_ml, SP_LESION_MIN_ML);
    score_end_to_end_free(p, seg, res);
}

Test(score, blastic_posterior_elements_are_found_against_the_neighbours_same_part)
{
    /* a sclerotic spinous process (T6) and a sclerotic right lamina (L2)
     * alone: too thin for a blastic seed 3 mm deep, so both were missed
     * (no lesion at all), with the truth labels imported; their medians
     * stand 600-700 HU above the same part of the levels around them */
    static const char *spec[2] = {
        "{\"seed\": 5, \"anatomy\": {\"from\": \"T3\", \"to\": \"T9\"},"
        " \"scan\": {\"matrix\": [160, 160], \"pixel_mm\": 1.0, \"slice_mm\": 2.5},"
        " \"vertebrae\": {\"T6\": {\"lesion\": {\"type\": \"blastic\", \"parts\": [\"spinous\"]}}}}",
        "{\"seed\": 8, \"anatomy\": {\"from\": \"T11\", \"to\": \"L5\"},"
        " \"scan\": {\"matrix\": [160, 160], \"pixel_mm\": 1.2, \"slice_mm\": 2.0},"
        " \"vertebrae\": {\"L2\": {\"lesion\": {\"type\": \"blastic\", \"parts\": [\"lamina_right\"]}}}}"};
    static const char *name[2] = {"T6", "L2"};
    static const unsigned want[2] = {1u << 0 | 1u << 11, 1u << 10 | 1u << 11}; /* zones 1, 12; 11, 12 */
    for (int c = 0; c < 2; c++) {
        run r;
        analyse(spec[c], &r);
        for (int k = 0; k < r.res->nvert; k++) {
            const sp_score_vertebra *v = &r.res->v[k];
            if (v->label == 26 || v->partial) continue;
            if (!strcmp(v->name, name[c])) {
                cr_expect_eq(v->les.character, SP_CHAR_BLASTIC, "%s: character %d", v->name, (int)v->les.character);
                cr_expect_eq(v->les.zones & want[c], want[c], "%s: zones 0x%x", v->name, v->les.zones);
            } else {
                cr_expect_eq(v->les.character, SP_CHAR_NONE, "%s: false lesion %d", v->name, (int)v->les.character);
            }
        }
        done(&r);
    }
}

/* End to end, the suite's mixed T10 (sample_data/mixed_bilateral_t10.json:
 * 30 % biconcave collapse over a mixed lesion) with seed 11: the disc fills
 * the sunken middle of T10's lower endplate, and our label, which fills holes
 * enclosed in axial slices, took those disc voxels in, so the middle height
 * read 18.0 mm for 14.75 (Genant 0 for 2). The label's end voxels that read
 * as the disc beyond them, over a body that does not, are taken back on the
 * middle line (frame.c, disc_cup_end). */
Test(score, disc_filling_a_destroyed_endplates_cup_is_not_body)
{
    sp_phantom *p = NULL;
    sp_seg_result *seg = NULL;
    sp_score_result *res = NULL;
    score_end_to_end("{\"seed\": 11, \"vertebrae\": {\"T10\": {\"collapse_pct\": 30, \"collapse_shape\": \"biconcave\","
                     " \"lesion\": {\"type\": \"mixed\", \"parts\": [\"body\", \"pedicle_left\", \"pedicle_right\","
                     " \"facet_left\", \"facet_right\"], \"body_extent_pct\": 60, \"cortical_breach\": true,"
                     " \"epidural_bilsky\": \"2\", \"epidural_side\": \"anterior\"}}}}",
                     &p, &seg, &res);
    const sp_score_vertebra *t10 = level_named(res, "T10");
    cr_assert(t10 && t10->h.ok, "T10 not measured: %s", t10 ? t10->h.reason : "no T10");
    cr_expect(fabs(t10->h.middle - 14.75) <= 1.0, "T10 middle %.2f mm (truth 14.75)", t10->h.middle);
    cr_expect_eq(t10->h.genant, 2, "T10 Genant %d (truth 2; %.1f / %.1f / %.1f mm)", t10->h.genant, t10->h.anterior,
                 t10->h.middle, t10->h.posterior);
    score_end_to_end_free(p, seg, res);
}

/* sample_data/translation_t12_l1.json with seed 3 (the seed survey's). */
static void translation_t12_seed3(sp_phantom **p, sp_seg_result **seg, sp_score_result **res)
{
    score_end_to_end("{\"seed\": 3, \"vertebrae\": {\"T12\": {\"translation_ap_mm\": 6, \"collapse_pct\": 25,"
                     " \"collapse_shape\": \"crush\", \"lesion\": {\"type\": \"lytic\", \"parts\": [\"body\","
                     " \"pedicle_right\"], \"body_extent_pct\": 60}}}}",
                     p, seg, res);
}

/* Translation T12 with seed 3: T11's growth reached T12's anterior-superior
 * endplate corner across the thin tilted disc, and the surface trim left it
 * a detached piece of T11's label (segment/islands.c): T12's anterior height
 * read 9.9 mm for 17.5 and its collapse grade 3 (SINS 3) for 2. */
Test(score, a_body_corner_detached_into_the_neighbours_label_is_given_back)
{
    sp_phantom *p = NULL;
    sp_seg_result *seg = NULL;
    sp_score_result *res = NULL;
    translation_t12_seed3(&p, &seg, &res);
    const sp_score_vertebra *t12 = level_named(res, "T12");
    cr_assert(t12 && t12->h.ok, "T12 not measured: %s", t12 ? t12->h.reason : "no T12");
    cr_expect(fabs(t12->h.anterior - 17.49) <= 1.5, "T12 anterior %.2f mm (truth 17.49)", t12->h.anterior);
    cr_expect_eq(t12->h.genant, 2, "T12 Genant %d (truth 2; %.1f / %.1f / %.1f mm)", t12->h.genant, t12->h.anterior,
                 t12->h.middle, t12->h.posterior);
    cr_expect_eq(t12->sins.collapse, 2, "T12 SINS collapse %d (truth 2)", t12->sins.collapse);
    score_end_to_end_free(p, seg, res);
}

/* The osteoporotic phantom with seed 3: T7's marrow (80 HU) is not seeded,
 * and T6's growth ran two slices down T7's anterior wall across the thin
 * tilted disc, still connected to T6's label. T6's anterior height read
 * 24.5 mm for 19.5, T7's 14.6 for 20, and T7's collapse was withdrawn as a
 * misplaced boundary ("not measured"). segment/disc_boundary.c gives the
 * corner back. */
Test(score, a_body_corner_taken_across_a_thin_disc_is_given_back)
{
    sp_phantom *p = NULL;
    sp_seg_result *seg = NULL;
    sp_score_result *res = NULL;
    score_end_to_end("{\"seed\": 3, \"osteoporosis\": {\"trabecular_hu\": 80, \"cortical_mm\": 0.7},"
                     " \"vertebrae\": {\"L1\": {\"collapse_pct\": 35, \"collapse_shape\": \"biconcave\"},"
                     " \"T12\": {\"collapse_pct\": 25, \"collapse_shape\": \"wedge\"}}}",
                     &p, &seg, &res);
    const sp_score_vertebra *t6 = level_named(res, "T6"), *t7 = level_named(res, "T7");
    cr_assert(t6 && t6->h.ok, "T6 not measured: %s", t6 ? t6->h.reason : "no T6");
    cr_assert(t7 && t7->h.ok, "T7 not measured: %s", t7 ? t7->h.reason : "no T7");
    cr_expect(fabs(t6->h.anterior - 19.49) <= 2.0, "T6 anterior %.2f mm (truth 19.49)", t6->h.anterior);
    cr_expect(fabs(t7->h.anterior - 19.99) <= 2.0, "T7 anterior %.2f mm (truth 19.99)", t7->h.anterior);
    cr_expect_eq(t7->h.genant, 0, "T7 Genant %d (truth 0; %.1f / %.1f / %.1f mm)", t7->h.genant, t7->h.anterior,
                 t7->h.middle, t7->h.posterior);
    score_end_to_end_free(p, seg, res);
}

/* The same scan: L5's normal left pedicle zone read 0.83 unlabelled, the
 * sacrum's 0.46, so against the sacrum it looked destroyed, was filled with
 * soft tissue and read as a 2.5 ml lytic lesion (segment/parts.c,
 * fill_pedicles: above the sacrum the two levels above are the reference). */
Test(score, l5_pedicles_are_not_judged_against_the_sacrum)
{
    sp_phantom *p = NULL;
    sp_seg_result *seg = NULL;
    sp_score_result *res = NULL;
    translation_t12_seed3(&p, &seg, &res);
    const sp_score_vertebra *l5 = level_named(res, "L5");
    cr_assert_not_null(l5, "no L5");
    cr_expect_eq(l5->les.character, SP_CHAR_NONE, "L5 (no lesion in the phantom) reported with lesion character %d",
                 (int)l5->les.character);
    score_end_to_end_free(p, seg, res);
}


/* A mixed lesion's pedicle, end to end: its lytic part is soft tissue the
 * segmentation leaves out and its sclerotic islands sit against the
 * cortex, so only 3-6 % of the pedicle read as lesion (10 needed) and the
 * side was missed (held-out mixed L4 right pedicle, survey seed 5; mixed
 * T10's left pedicle, seed 17, read unilateral for bilateral). Against the
 * same side's pedicles at the neighbouring levels its share above the
 * blastic threshold stands 0.21-0.30 higher: the side counts (sclerotic
 * pedicle rule), and the other side stays uninvolved. */
Test(score, sclerotic_share_of_a_mixed_pedicle_counts_for_its_side)
{
    static const struct {
        const char *spec, *level;
        int seed;
        bool left, right;
    } cases[] = {
        {"mixed_l4_wedge", "L4", 5, false, true},
        {"mixed_bilateral_t10", "T10", 17, true, true},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sp_phantom *p = NULL;
        sp_seg_result *seg = NULL;
        sp_score_result *res = NULL;
        score_survey_case(cases[c].spec, cases[c].seed, &p, &seg, &res);
        const sp_score_vertebra *v = level_named(res, cases[c].level);
        cr_assert_not_null(v, "%s seed %d: %s missing", cases[c].spec, cases[c].seed, cases[c].level);
        cr_expect_eq(v->les.character, SP_CHAR_MIXED, "%s seed %d: character %d", cases[c].spec, cases[c].seed,
                     v->les.character);
        cr_expect_eq(v->les.side[0], cases[c].left, "%s seed %d: left side %d (pedicle %.1f %%)", cases[c].spec,
                     cases[c].seed, v->les.side[0], v->les.pedicle_pct[0]);
        cr_expect_eq(v->les.side[1], cases[c].right, "%s seed %d: right side %d (pedicle %.1f %%)", cases[c].spec,
                     cases[c].seed, v->les.side[1], v->les.pedicle_pct[1]);
        cr_expect(strstr(v->les.dense_pedicles, cases[c].seed == 5 ? "right" : "left") != NULL,
                  "%s seed %d: no sclerotic pedicle named: '%s'", cases[c].spec, cases[c].seed, v->les.dense_pedicles);
        /* no other level is called involved by the rule */
        for (int k = 0; k < res->nvert; k++)
            if (&res->v[k] != v)
                cr_expect(res->v[k].les.dense_pedicles[0] == 0, "%s seed %d, %s: %s", cases[c].spec, cases[c].seed,
                          res->v[k].name, res->v[k].les.dense_pedicles);
        score_end_to_end_free(p, seg, res);
    }
}

/* A piece of a vertebra labelled as one more level at the column's end:
 * the held-out lytic T4 spec's scan starts at T1 (nothing above), and on
 * survey seeds 127 and 167 T1's arch and first ribs were labelled "C7"
 * (38 and 34 % of T1's voxels, centre 13 mm from T1's against 20-21 mm to
 * T2) and read as a grade 3 fracture, with T1 beside it a grade 2 (its
 * axis taken from the fragment's). The fragment is treated as cut by the
 * scan (not measured, with the reason) and no level reads a fracture. */
Test(score, a_fragment_at_the_end_of_the_column_is_not_measured_as_a_vertebra)
{
    static const int seeds[] = {127, 167};
    for (size_t c = 0; c < sizeof seeds / sizeof seeds[0]; c++) {
        sp_phantom *p = NULL;
        sp_seg_result *seg = NULL;
        sp_score_result *res = NULL;
        score_survey_case("lytic_t4_left", seeds[c], &p, &seg, &res);
        int fragments = 0;
        for (int k = 0; k < res->nvert; k++) {
            const sp_score_vertebra *v = &res->v[k];
            if (v->fragment) {
                fragments++;
                cr_expect(k == 0 || k == res->nvert - 1, "seed %d: fragment %s inside the column", seeds[c], v->name);
                cr_expect(v->partial && !v->h.ok && strstr(v->h.reason, "fragment") != NULL, "seed %d, %s: %s", seeds[c],
                          v->name, v->h.reason);
                continue;
            }
            if (v->label == 26) continue;
            cr_expect(!v->h.ok || v->h.genant == 0, "seed %d, %s: grade %d (%.1f / %.1f / %.1f mm) on a normal body",
                      seeds[c], v->name, v->h.genant, v->h.anterior, v->h.middle, v->h.posterior);
        }
        cr_expect_eq(fragments, 1, "seed %d: %d fragments", seeds[c], fragments);
        const sp_score_vertebra *t1 = level_named(res, "T1");
        cr_assert_not_null(t1);
        cr_expect(t1->h.ok && !t1->fragment, "seed %d: T1 not measured (%s)", seeds[c], t1->h.reason);
        score_end_to_end_free(p, seg, res);
    }
}
