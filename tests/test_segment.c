/* test_segment.c - finding, separating and naming vertebrae: phantoms with
 * known truth, the real CT when ../shared/data is there, label import,
 * determinism and the command line. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sp_omp.h"
#include "io/sp_io.h"
#include "phantom/sp_phantom.h"
#include "segment/sp_segment.h"
#include "support/phantom_util.h"
#include "support/test_util.h"

/* A small phantom: T10-S1 on a 160x160 grid, fast to make and segment. */
static const char *small_spec(void)
{
    return "{\"seed\": 3, \"anatomy\": {\"from\": \"T9\", \"to\": \"S1\"},"
           " \"scan\": {\"matrix\": [192, 192], \"pixel_mm\": 1.5, \"slice_mm\": 2.5}}";
}

/* Body Dice: label l and part 1 in both. */
static double body_dice(const sp_seg_result *r, const sp_phantom *p, int l)
{
    const sp_volume *tv = sp_phantom_vertebrae(p), *tp = sp_phantom_parts(p);
    double inter = 0, na = 0, nb = 0;
    for (size_t i = 0; i < sp_vol_nvox(tv); i++) {
        int x = ((uint8_t *)r->vertebrae->data)[i] == l && ((uint8_t *)r->parts->data)[i] == SP_SEG_PART_BODY;
        int y = ((uint8_t *)tv->data)[i] == l && ((uint8_t *)tp->data)[i] == SP_PART_BODY;
        inter += x && y, na += x, nb += y;
    }
    return na + nb > 0 ? 2 * inter / (na + nb) : 0;
}

Test(segment, small_phantom_levels_named_and_bodies_overlap)
{
    sp_phantom *p = sp_test_phantom(small_spec());
    sp_seg_result *r = sp_test_segment(p);
    /* T10..L5 must all be there, named right and not flagged */
    for (int l = 17; l <= 24; l++) {
        int k = -1;
        for (int i = 0; i < r->nvert; i++)
            if (r->vert[i].label == l) k = i;
        cr_assert_geq(k, 0, "level %d missing", l);
        cr_assert_gt(sp_test_dice(r->vertebrae, sp_phantom_vertebrae(p), l), 0.7, "level %d: Dice %.3f", l,
                     sp_test_dice(r->vertebrae, sp_phantom_vertebrae(p), l));
        cr_assert_gt(body_dice(r, p, l), 0.85, "level %d: body Dice %.3f", l, body_dice(r, p, l));
        cr_assert(!r->vert[k].uncertain, "%s flagged uncertain: %s", r->vert[k].name, r->vert[k].anchor);
    }
    /* cranial to caudal order */
    for (int i = 1; i < r->nvert; i++) cr_assert_lt(r->vert[i].centroid[2], r->vert[i - 1].centroid[2]);
    sp_seg_result_free(r);
    sp_phantom_free(p);
}

Test(segment, identical_at_one_and_two_threads)
{
    sp_phantom *p = sp_test_phantom(small_spec());
    sp_seg_result *a = NULL, *b = NULL;
    sp_err e = {0};
    sp_seg_opts o1 = {.threads = 1}, o2 = {.threads = 2};
    cr_assert_eq(sp_seg_run(sp_phantom_ct(p), &o1, &a, &e), SP_OK, "%s", e.msg);
    cr_assert_eq(sp_seg_run(sp_phantom_ct(p), &o2, &b, &e), SP_OK, "%s", e.msg);
    cr_assert_eq(memcmp(a->vertebrae->data, b->vertebrae->data, sp_vol_bytes(a->vertebrae)), 0);
    cr_assert_eq(memcmp(a->parts->data, b->parts->data, sp_vol_bytes(a->parts)), 0);
    cr_assert_eq(a->nvert, b->nvert);
    for (int k = 0; k < a->nvert; k++) cr_assert_eq(memcmp(a->vert[k].centroid, b->vert[k].centroid, sizeof a->vert[k].centroid), 0);
    sp_seg_result_free(a);
    sp_seg_result_free(b);
    sp_phantom_free(p);
}

Test(segment, lytic_collapsed_vertebra_is_still_found_and_named)
{
    sp_phantom *p = sp_test_phantom(
        "{\"seed\": 4, \"anatomy\": {\"from\": \"T9\", \"to\": \"S1\"},"
        " \"scan\": {\"matrix\": [192, 192], \"pixel_mm\": 1.5, \"slice_mm\": 2.5},"
        " \"vertebrae\": {\"L1\": {\"collapse_pct\": 55, \"lesion\": {\"type\": \"lytic\", \"body_extent_pct\": 70}}}}");
    sp_seg_result *r = sp_test_segment(p);
    int found = 0;
    for (int k = 0; k < r->nvert; k++) found += r->vert[k].label == 20;
    cr_assert_eq(found, 1);
    cr_assert_gt(sp_test_dice(r->vertebrae, sp_phantom_vertebrae(p), 20), 0.6);
    cr_assert_gt(sp_test_dice(r->vertebrae, sp_phantom_vertebrae(p), 21), 0.7, "L2 below the collapsed L1");
    sp_seg_result_free(r);
    sp_phantom_free(p);
}

Test(segment, transitional_anatomy_is_flagged_not_silently_named)
{
    sp_phantom *p = sp_test_phantom("{\"seed\": 5, \"anatomy\": {\"from\": \"T8\", \"to\": \"S1\", \"lumbar_count\": 6},"
                                 " \"scan\": {\"matrix\": [192, 192], \"pixel_mm\": 1.5, \"slice_mm\": 2.5}}");
    sp_seg_result *r = sp_test_segment(p);
    /* Every vertebra whose name disagrees with the truth must be flagged. */
    const sp_volume *tv = sp_phantom_vertebrae(p);
    for (int k = 0; k < r->nvert; k++) {
        double best = 0;
        int truth = 0;
        for (int l = 1; l < 29; l++) {
            double d = 0, n = 0;
            for (size_t i = 0; i < sp_vol_nvox(tv); i++)
                if (((uint8_t *)r->vertebrae->data)[i] == r->vert[k].label) {
                    n++;
                    d += ((uint8_t *)tv->data)[i] == l;
                }
            if (n > 0 && d / n > best) best = d / n, truth = l;
        }
        if (truth != r->vert[k].label)
            cr_assert(r->vert[k].uncertain, "%s is really label %d and not flagged", r->vert[k].name, truth);
    }
    cr_assert(strstr(r->flags, "transitional"), "flags: %s", r->flags);
    sp_seg_result_free(r);
    sp_phantom_free(p);
}

/* No anchor in view (C7-T5: one rib-free level above the rib cage, C2 and
 * the sacrum out of view): the names are a flagged guess, but rib-bearing
 * levels are thoracic, and the first one below the rib-free level is taken
 * for T1. Before, the guess ended the column at L5 and called this C7-T5
 * T12-L5. */
Test(segment, without_an_anchor_rib_bearing_levels_are_named_thoracic)
{
    sp_phantom *p = sp_test_phantom("{\"seed\": 3, \"anatomy\": {\"from\": \"C7\", \"to\": \"T5\"},"
                                    " \"scan\": {\"matrix\": [160, 160], \"pixel_mm\": 1.4, \"slice_mm\": 2.5}}");
    sp_seg_result *r = sp_test_segment(p);
    cr_assert(strstr(r->flags, "no anchor"), "flags: %s", r->flags);
    int right = 0;
    for (int k = 0; k < r->nvert; k++) {
        cr_expect(r->vert[k].uncertain, "%s not flagged", r->vert[k].name);
        if (r->vert[k].ribs) cr_expect(r->vert[k].label >= 8 && r->vert[k].label <= 19, "rib-bearing %s", r->vert[k].name);
        right += sp_test_dice(r->vertebrae, sp_phantom_vertebrae(p), r->vert[k].label) > 0.7;
    }
    cr_expect_eq(r->nvert, 6);
    cr_expect_eq(right, r->nvert, "%d of %d named as the truth", right, r->nvert);
    sp_seg_result_free(r);
    sp_phantom_free(p);
}

Test(segment, a_volume_without_a_spine_is_refused_with_a_reason)
{
    sp_volume *v = sp_vol_new(SP_I16, 64, 64, 40);
    sp_seg_result *r = NULL;
    sp_err e = {0};
    for (size_t i = 0; i < sp_vol_nvox(v); i++) ((int16_t *)v->data)[i] = 40; /* soft tissue only */
    sp_status st = sp_seg_run(v, NULL, &r, &e);
    cr_assert_neq(st, SP_OK);
    cr_assert_null(r);
    cr_assert_neq(e.msg[0], '\0');
    sp_vol_free(v);
}

Test(segment, level_names_and_numbers_round_trip)
{
    static const char *const names[] = {"C1", "C7", "T1", "T12", "T13", "L1", "L5", "L6", "S"};
    static const int nums[] = {1, 7, 8, 19, 28, 20, 24, 25, 26};
    char buf[8];
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        cr_assert_eq(sp_seg_level_number(names[i]), nums[i], "%s", names[i]);
        cr_assert_str_eq(sp_seg_level_name(nums[i], buf), names[i]);
    }
    cr_assert_eq(sp_seg_level_number("X3"), -1);
}

Test(segment, imported_verse_labels_keep_their_names)
{
    char tmp[512], path[700];
    sp_phantom *p = sp_test_phantom(small_spec());
    sp_seg_result *r = NULL;
    sp_err e = {0};
    sp_test_tmpdir(tmp, sizeof tmp);
    snprintf(path, sizeof path, "%s/truth.nii.gz", tmp);
    cr_assert_eq(sp_io_write_nifti(path, sp_phantom_vertebrae(p), &e), SP_OK, "%s", e.msg);
    cr_assert_eq(sp_seg_from_labels(sp_phantom_ct(p), path, "verse", &r, &e), SP_OK, "%s", e.msg);
    cr_assert_eq(memcmp(r->vertebrae->data, sp_phantom_vertebrae(p)->data, sp_vol_bytes(r->vertebrae)), 0,
                 "imported labels must come back unchanged");
    cr_assert_str_eq(r->vert[0].name, "T9");
    cr_assert_float_eq(r->vert[0].confidence, 1.0, 1e-9);
    sp_seg_result *bad = NULL;
    cr_assert_neq(sp_seg_from_labels(sp_phantom_ct(p), path, "nonsense", &bad, &e), SP_OK);
    cr_assert_null(bad);
    sp_seg_result_free(r);
    sp_phantom_free(p);
    sp_test_rmtree(tmp);
}

Test(segment, real_ct_lumbar_levels_match_totalsegmentator)
{
    char ct[1024], ref[1024];
    if (!sp_test_shared("ct-totalseg/example_ct.nii.gz", ct, sizeof ct)) cr_skip_test("../shared/data absent: skipped");
    sp_test_shared("ct-totalseg/spine_report/example_ct_report/totalseg.nii.gz", ref, sizeof ref);
    sp_volume *v = NULL;
    sp_seg_result *r = NULL, *t = NULL;
    sp_err e = {0};
    cr_assert_eq(sp_io_read_nifti(ct, &v, &e), SP_OK, "%s", e.msg);
    cr_assert_eq(sp_seg_run(v, NULL, &r, &e), SP_OK, "%s", e.msg);
    cr_assert_eq(sp_seg_from_labels(v, ref, "totalseg", &t, &e), SP_OK, "%s", e.msg);
    /* T12..L5: same names, Dice >= 0.75 against the reference (docs/accuracy.md has the exact values) */
    for (int l = 19; l <= 24; l++) {
        double d = sp_test_dice(r->vertebrae, t->vertebrae, l);
        cr_assert_geq(d, 0.75, "label %d: Dice %.3f against TotalSegmentator", l, d);
    }
    sp_seg_result_free(r);
    sp_seg_result_free(t);
    sp_vol_free(v);
}

Test(segment, command_writes_maps_and_json)
{
    char tmp[512], cmd[2048], p[800];
    sp_test_tmpdir(tmp, sizeof tmp);
    snprintf(p, sizeof p, "%s/spec.json", tmp);
    FILE *f = fopen(p, "w");
    fputs(small_spec(), f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s -q phantom %s -o %s/ph --no-dicom >/dev/null 2>&1 || exit 9; "
             "%s -q convert %s/ph/truth_vertebrae.nii.gz -o %s/x.nii.gz", sp_test_binary(), p, tmp, sp_test_binary(), tmp, tmp);
    cr_assert_eq(sp_test_system(cmd), 0);
    /* segment needs a CT: generate one with DICOM and run the command on it */
    snprintf(cmd, sizeof cmd, "%s -q phantom %s -o %s/ph2 && %s -q segment %s/ph2/dicom -o %s/seg", sp_test_binary(), p, tmp,
             sp_test_binary(), tmp, tmp);
    cr_assert_eq(sp_test_system(cmd), 0);
    snprintf(p, sizeof p, "%s/seg/vertebrae.json", tmp);
    f = fopen(p, "r");
    cr_assert_not_null(f);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    cJSON *j = cJSON_Parse(buf);
    cr_assert_not_null(j);
    cJSON *arr = cJSON_GetObjectItem(j, "vertebrae");
    cr_assert_geq(cJSON_GetArraySize(arr), 8);
    cJSON *v0 = cJSON_GetArrayItem(arr, 0);
    cr_assert_not_null(cJSON_GetObjectItem(v0, "level_confidence"));
    cr_assert_not_null(cJSON_GetObjectItem(v0, "anchor"));
    cJSON_Delete(j);
    snprintf(cmd, sizeof cmd, "%s -q segment %s/nothing -o %s/seg2 2>/dev/null", sp_test_binary(), tmp, tmp);
    cr_assert_eq(sp_test_system(cmd), 2, "missing input: exit code 2");
    snprintf(cmd, sizeof cmd, "%s segment --labels x.nii.gz %s/ph2/dicom -o %s/seg3 2>/dev/null", sp_test_binary(), tmp, tmp);
    cr_assert_eq(sp_test_system(cmd), 1, "--labels without --label-scheme is a usage error");
    sp_test_rmtree(tmp);
}

/* A scan cut through the column: the vertebrae the edge cuts are kept and
 * marked partial (score does not measure them), including a fragment that
 * no vertebra in view reaches (a spinous process tip), named by counting on. */
Test(segment, vertebrae_cut_by_the_scan_edge_are_partial_not_lost)
{
    sp_phantom *p = sp_test_phantom("{\"seed\": 7, \"anatomy\": {\"from\": \"T9\", \"to\": \"S1\"},"
                                 " \"scan\": {\"fov_from\": \"L1\", \"fov_to\": \"S1\", \"margin_mm\": 15,"
                                 " \"matrix\": [192, 192], \"pixel_mm\": 1.2, \"slice_mm\": 1.5}}");
    sp_seg_result *r = sp_test_segment(p);
    const sp_volume *tv = sp_phantom_vertebrae(p);
    cr_assert(strstr(r->flags, "cropped above"), "flags: %s", r->flags);
    cr_log_info("flags: %s", r->flags);
    /* every truth vertebra in view has a predicted vertebra of its name */
    for (int l = 1; l < 29; l++) {
        size_t n = 0;
        for (size_t i = 0; i < sp_vol_nvox(tv); i++) n += ((uint8_t *)tv->data)[i] == l;
        if (n == 0) continue;
        int k = -1;
        for (int i = 0; i < r->nvert; i++)
            if (r->vert[i].label == l) k = i;
        cr_assert_geq(k, 0, "level %d (%zu voxels in view) missing; flags: %s", l, n, r->flags);
        cr_assert_gt(sp_test_dice(r->vertebrae, tv, l), 0.1, "level %d: Dice %.3f", l, sp_test_dice(r->vertebrae, tv, l));
    }
    /* the top one is partial, the middle ones are not */
    cr_assert(r->vert[0].partial, "%s not partial", r->vert[0].name);
    for (int k = 0; k < r->nvert; k++)
        if (r->vert[k].label >= 21 && r->vert[k].label <= 24) cr_assert(!r->vert[k].partial, "%s partial", r->vert[k].name);
    sp_seg_result_free(r);
    sp_phantom_free(p);
}
