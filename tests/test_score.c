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

#include "core/sp_omp.h"
#include "io/sp_io.h"
#include "phantom/sp_phantom.h"
#include "score/sp_score.h"
#include "segment/sp_segment.h"
#include "support/test_util.h"

static char tmp[512];
static void setup(void) { sp_test_tmpdir(tmp, sizeof tmp); }
static void teardown(void) { sp_test_rmtree(tmp); }
TestSuite(score, .init = setup, .fini = teardown, .timeout = 60);

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
        /* the target is 1 mm; measured error today reaches ~1.8 mm at
         * 2.5 mm slices (docs/scoring.md, known limitations), so 2 mm here */
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
    cr_expect(memcmp(a.res, b.res, sizeof *a.res) == 0, "score results differ between 1 and 2 threads");
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
        cr_expect(x->les.character == SP_CHAR_NONE, "%s: false %s lesion (lytic %.2f ml, blastic %.2f ml)", x->name,
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
