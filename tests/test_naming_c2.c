/* test_naming_c2.c - C2 (the dens rising through the atlas ring) as a naming
 * anchor (segment/naming.c) and the atlas/axis split of the instances
 * (segment/instances.c), on cervico-thoracic phantoms (phantom/anatomy.c
 * builds C1 as a ring without a body and C2 with its dens); and the naming
 * rules themselves on hand-made levels, for the disagreements no phantom
 * produces (a cervical rib, a missed disc). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SP_SEGMENT_INTERNAL
#include "phantom/sp_phantom.h"
#include "segment/internal.h"
#include "segment/sp_segment.h"
#include "support/phantom_util.h"

TestSuite(naming_c2, .timeout = 240);

/* The scan of sample_data/cervical_c2.json; fov_from set per test. */
#define SPEC(fov_from)                                                                                            \
    "{\"seed\": 11, \"anatomy\": {\"from\": \"C1\", \"to\": \"T6\"}, \"scan\": {\"fov_from\": \"" fov_from     \
    "\", \"fov_to\": \"T4\", \"margin_mm\": 12, \"matrix\": [256, 256], \"pixel_mm\": 0.8, \"slice_mm\": 2.0}}"

/* The truth label most of our label l's voxels carry (0 when l is empty). */
static int truth_majority(const sp_volume *seg, const sp_volume *truth, int l)
{
    int64_t count[256] = {0};
    const uint8_t *s = seg->data, *t = truth->data;
    size_t n = (size_t)seg->nx * seg->ny * seg->nz;
    for (size_t i = 0; i < n; i++)
        if (s[i] == l) count[t[i]]++;
    int best = 0;
    for (int k = 1; k < 256; k++)
        if (count[k] > count[best]) best = k;
    return best;
}

/* Every vertebra is named as the truth under it, or flagged uncertain.
 * Returns how many are named right. */
static int names_right_or_flagged(const sp_seg_result *r, const sp_volume *truth)
{
    int right = 0;
    for (int k = 0; k < r->nvert; k++) {
        int t = truth_majority(r->vertebrae, truth, r->vert[k].label);
        char buf[8];
        right += t == r->vert[k].label;
        cr_expect(t == r->vert[k].label || r->vert[k].uncertain, "%s (anchor \"%s\") is truly %s and not flagged",
                  r->vert[k].name, r->vert[k].anchor, sp_seg_level_name(t, buf));
    }
    return right;
}

Test(naming_c2, dens_and_atlas_name_the_neck)
{
    sp_phantom *ph = sp_test_phantom(SPEC("C1"));
    const sp_volume *truth = sp_phantom_vertebrae(ph);
    sp_seg_result *r = NULL;
    sp_err e = {0};
    cr_assert_eq(sp_seg_run(sp_phantom_ct(ph), NULL, &r, &e), SP_OK, "%s", e.msg);
    cr_expect(strstr(r->anchors, "C2 (dens) found") != NULL, "anchors: %s", r->anchors);
    int c2 = -1, c1 = -1;
    for (int k = 0; k < r->nvert; k++) {
        if (r->vert[k].label == 2) c2 = k;
        if (r->vert[k].label == 1) c1 = k;
    }
    cr_assert_geq(c2, 0, "a vertebra named C2");
    cr_assert_geq(c1, 0, "the atlas labelled C1");
    cr_expect(strstr(r->vert[c2].anchor, "C2 (dens)") != NULL, "C2's anchor: %s", r->vert[c2].anchor);
    cr_expect(!r->vert[c2].uncertain, "C2 and the first rib agree here");
    cr_expect_eq(truth_majority(r->vertebrae, truth, 2), 2, "our C2 is the true C2");
    /* C1..T4 all in view and named right, none flagged (C2 and T1 agree) */
    cr_expect_eq(names_right_or_flagged(r, truth), r->nvert, "every level named right");
    cr_expect_geq(r->nvert, 11, "%d vertebrae", r->nvert);
    for (int k = 0; k < r->nvert; k++)
        cr_expect(!r->vert[k].uncertain || r->vert[k].partial, "%s flagged: %s", r->vert[k].name, r->vert[k].alternatives);
    /* the dens goes with C2, the ring with C1 (measured 0.977 / 0.897) */
    double d1 = sp_test_dice(r->vertebrae, truth, 1), d2 = sp_test_dice(r->vertebrae, truth, 2);
    cr_expect_geq(d1, 0.90, "C1 Dice %.3f", d1);
    cr_expect_geq(d2, 0.85, "C2 Dice %.3f", d2);
    sp_seg_result_free(r);
    sp_phantom_free(ph);
}

Test(naming_c2, no_c2_claimed_when_the_scan_starts_below_it)
{
    sp_phantom *ph = sp_test_phantom(SPEC("C3"));
    const sp_volume *truth = sp_phantom_vertebrae(ph);
    sp_seg_result *r = NULL;
    sp_err e = {0};
    cr_assert_eq(sp_seg_run(sp_phantom_ct(ph), NULL, &r, &e), SP_OK, "%s", e.msg);
    cr_expect(strstr(r->anchors, "C2") == NULL, "anchors: %s", r->anchors);
    for (int k = 0; k < r->nvert; k++) {
        cr_expect(strstr(r->vert[k].anchor, "C2 (dens)") == NULL, "%s anchored on C2: %s", r->vert[k].name,
                  r->vert[k].anchor);
        cr_expect(r->vert[k].label != 2 || r->vert[k].uncertain, "a confident C2 below the scan's top");
    }
    names_right_or_flagged(r, truth);
    sp_seg_result_free(r);
    sp_phantom_free(ph);
}

/* The scan cut 3 mm above the atlas: no C2 is found (too little scan above
 * it) and the names are counted up from the first rib; two upper cervical
 * levels made one segment, so the names above C7 came out one too low and
 * unflagged until cervical names counted from the first rib were flagged. */
Test(naming_c2, names_counted_up_into_the_neck_are_flagged)
{
    sp_phantom *ph = sp_test_phantom("{\"seed\": 11, \"anatomy\": {\"from\": \"C1\", \"to\": \"T6\"}, \"scan\": "
                                     "{\"fov_from\": \"C1\", \"fov_to\": \"T4\", \"margin_mm\": 3, \"matrix\": [256, 256], "
                                     "\"pixel_mm\": 0.8, \"slice_mm\": 2.0}}");
    sp_seg_result *r = NULL;
    sp_err e = {0};
    cr_assert_eq(sp_seg_run(sp_phantom_ct(ph), NULL, &r, &e), SP_OK, "%s", e.msg);
    names_right_or_flagged(r, sp_phantom_vertebrae(ph));
    sp_seg_result_free(r);
    sp_phantom_free(ph);
}

/* ---- the naming rules on hand-made levels (caudal first, as the pipeline
 * builds them) ---- */

static void make_levels(seg_level *lv, int nlv, int c2, const int *ribbed, int nribbed)
{
    memset(lv, 0, (size_t)nlv * sizeof *lv);
    for (int k = 0; k < nlv; k++) lv[k].s_lo = 20.0 * k, lv[k].s_hi = 20.0 * (k + 1), lv[k].hi = k + 1, lv[k].lo = k;
    for (int j = 0; j < nribbed; j++) lv[ribbed[j]].ribs = 2, lv[ribbed[j]].rib_sides = 3;
    if (c2 >= 0) {
        lv[c2].axis = true;
        for (int k = c2 + 1; k < nlv; k++) lv[k].atlas = true;
    }
}

Test(naming_c2, c2_and_first_rib_agree_or_every_name_is_flagged)
{
    seg_level lv[12];
    sp_seg_result *r = calloc(1, sizeof *r);
    cr_assert_not_null(r);
    /* C1 C2 C3..C7 T1..T4 T5 (index 11 = C1 down to 0): ribs on T1-T5 */
    const int ribs[] = {0, 1, 2, 3, 4};
    make_levels(lv, 12, 10, ribs, 5);
    seg_name_levels(lv, 12, r);
    for (int k = 0; k < 12; k++) {
        int want = k == 11 ? 1 : k >= 5 ? 12 - k : 8 + (4 - k); /* C1, C2..C7, T1..T5 */
        cr_expect_eq(r->vert[k].label, want, "level %d: %s", k, r->vert[k].name);
        cr_expect(!r->vert[k].uncertain, "level %d flagged", k);
    }
    cr_expect(strstr(r->anchors, "C2 (dens) found") && strstr(r->anchors, "first rib"), "%s", r->anchors);
    /* a rib on C7 (cervical rib): T1 by the ribs is one level higher than
     * by C2: every name flagged, with the ribs' name as the alternative */
    const int ribs7[] = {0, 1, 2, 3, 4, 5};
    memset(r, 0, sizeof *r);
    make_levels(lv, 12, 10, ribs7, 6);
    seg_name_levels(lv, 12, r);
    cr_expect_eq(r->vert[10].label, 2, "named from C2");
    cr_expect_eq(r->vert[5].label, 7, "C7 by C2's count");
    for (int k = 0; k < 12; k++) cr_expect(r->vert[k].uncertain, "level %d (%s) not flagged", k, r->vert[k].name);
    cr_expect(strstr(r->vert[5].alternatives, "T1") != NULL, "C7's alternative: %s", r->vert[5].alternatives);
    cr_expect(strstr(r->flags, "disagree") != NULL, "%s", r->flags);
    free(r);
}

Test(naming_c2, c2_alone_counts_down_with_falling_confidence)
{
    seg_level lv[10];
    sp_seg_result *r = calloc(1, sizeof *r);
    cr_assert_not_null(r);
    make_levels(lv, 10, 8, NULL, 0); /* C1, C2 .. C7, T1, T2: no rib seen */
    seg_name_levels(lv, 10, r);
    for (int k = 0; k < 10; k++) {
        int d = 8 - k;
        cr_expect_eq(r->vert[k].label, k == 9 ? 1 : 2 + d, "level %d: %s", k, r->vert[k].name);
        cr_expect_eq(r->vert[k].uncertain, d > 5, "level %d (%d below C2): uncertain %d", k, d, r->vert[k].uncertain);
        if (k < 9) cr_expect_leq(r->vert[k].confidence, r->vert[k + 1].confidence + 1e-9, "confidence falls with distance");
    }
    cr_expect(strstr(r->flags, "single anchor (C2)") != NULL, "%s", r->flags);
    free(r);
}

/* Sacrum, L5..L1, T12..T5 (index 0 = sacrum up to 13 = T5), ribs on both
 * sides of T12..T5 as given, then the lowest pair split across two levels
 * (one rib counted a level low, seen on the held-out lytic T8 with seed 3):
 * T12 is still the level that holds the pair's heads, the upper one. */
static void lumbosacral_levels(seg_level *lv)
{
    const int ribs[] = {6, 7, 8, 9, 10, 11, 12, 13};
    make_levels(lv, 14, -1, ribs, 8);
    lv[0].sacrum = true;
}

static void expect_t12_at(const seg_level *lv, int t12, const char *what)
{
    sp_seg_result *r = calloc(1, sizeof *r);
    cr_assert_not_null(r);
    seg_level copy[14];
    memcpy(copy, lv, sizeof copy);
    seg_name_levels(copy, 14, r);
    cr_expect(strstr(r->anchors, "last rib-bearing vertebra found") != NULL, "%s: %s", what, r->anchors);
    for (int k = 1; k < 14; k++) {
        int want = 19 - (k - t12); /* T12 = 19, L1 = 20 below it ... */
        if (want > 19) want = 19 + (t12 - k);
        cr_expect_eq(r->vert[k].label, want, "%s: level %d is %s", what, k, r->vert[k].name);
        cr_expect_eq(r->vert[k].uncertain, t12 != 6, "%s: level %d uncertain %d", what, k, r->vert[k].uncertain);
    }
    free(r);
}

Test(naming_c2, a_rib_pair_split_across_two_levels_names_the_upper_t12)
{
    seg_level lv[14];
    lumbosacral_levels(lv);
    expect_t12_at(lv, 6, "whole pair");
    /* T12's left rib counted for L1: left on level 5, right on level 6 */
    lumbosacral_levels(lv);
    lv[6].ribs = 1, lv[6].rib_sides = 2;
    lv[5].ribs = 1, lv[5].rib_sides = 1;
    expect_t12_at(lv, 6, "left rib a level low");
    /* and the mirror case */
    lumbosacral_levels(lv);
    lv[6].ribs = 1, lv[6].rib_sides = 1;
    lv[5].ribs = 1, lv[5].rib_sides = 2;
    expect_t12_at(lv, 6, "right rib a level low");
}


/* A segment whose disc was only inferred is named in the scan's flags, and
 * the names counted across it are flagged even where the sacrum and T12
 * agree: an inferred disc can be what makes the count five (the
 * transitional T13 phantom with a sacralised L5). */
Test(naming_c2, an_inferred_disc_is_named_in_the_flags_and_flags_the_names_across_it)
{
    seg_level lv[14];
    sp_seg_result *r = calloc(1, sizeof *r);
    cr_assert_not_null(r);
    lumbosacral_levels(lv);
    lv[4].inferred = true; /* L2: counted up from the sacrum across it */
    seg_name_levels(lv, 14, r);
    cr_expect_eq(r->vert[4].label, 21, "L2 is %s", r->vert[4].name);
    for (int k = 0; k < 14; k++)
        cr_expect_eq(r->vert[k].uncertain, k >= 4, "level %d (%s) uncertain %d", k, r->vert[k].name, r->vert[k].uncertain);
    cr_expect(strstr(r->flags, "a disc of L2 inferred, not seen") != NULL, "%s", r->flags);
    memset(r, 0, sizeof *r);
    lumbosacral_levels(lv);
    lv[9].inferred = lv[11].inferred = true;
    seg_name_levels(lv, 14, r);
    cr_expect(strstr(r->flags, "discs of T7, T9 inferred, not seen") != NULL, "cranial first: %s", r->flags);
    free(r);
}
