/* test_seg_lesions.c - the segmentation where disease and partial volume
 * make it hard: a body's surface sits at the CT edge's half-way level, not
 * one partial-volume shell outside it (segment/peel.c); a collapsed lytic
 * body merged with its disc is still cut at the disc (segment/discs.c); an
 * arch whose pedicles are both destroyed stays with its own vertebra, and
 * a lumbar arch hanging over the disc below is not taken by the level below
 * (segment/instances.c); a body half replaced by tumour is filled back to
 * the midline and beyond, and a pedicle destroyed on one side is filled
 * with its partner's mirror image (segment/parts.c). Compared with the phantom's truth, matched by
 * overlap so that a level name is not what is tested here. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "phantom/sp_phantom.h"
#include "segment/sp_segment.h"
#include "support/phantom_util.h"

TestSuite(seg_lesions, .timeout = 180);

static double part_covered(const sp_seg_result *r, const sp_phantom *p, int t, int part);
static void pedicles_covered(const char *spec, int t, double *left, double *right);

/* Our label that overlaps truth label t most. */
static int best_match(const sp_volume *ours, const sp_volume *truth, int t)
{
    int64_t n[256] = {0};
    const uint8_t *a = ours->data, *b = truth->data;
    size_t nv = (size_t)ours->nx * ours->ny * ours->nz;
    for (size_t i = 0; i < nv; i++)
        if (b[i] == t && a[i]) n[a[i]]++;
    int best = 0;
    for (int l = 1; l < 256; l++)
        if (n[l] > n[best]) best = l;
    return best;
}

/* Body Dice of truth level t (phantom part 1) against our best match for
 * it (our part body); *ours_label gets that match. */
static double body_dice(const sp_seg_result *r, const sp_phantom *p, int t, int *ours_label)
{
    const sp_volume *tv = sp_phantom_vertebrae(p);
    int l = best_match(r->vertebrae, tv, t);
    const uint8_t *lab = r->vertebrae->data, *part = r->parts->data, *tl = tv->data, *q = sp_phantom_parts(p)->data;
    size_t nv = (size_t)tv->nx * tv->ny * tv->nz;
    int64_t inter = 0, ours = 0, truth = 0;
    for (size_t i = 0; i < nv; i++) {
        bool tb = tl[i] == t && q[i] == 1, ob = l > 0 && lab[i] == l && part[i] == SP_SEG_PART_BODY;
        inter += tb && ob, ours += ob, truth += tb;
    }
    *ours_label = l;
    return ours + truth ? 2.0 * (double)inter / (double)(ours + truth) : 0.0;
}

Test(seg_lesions, body_surface_is_not_a_partial_volume_shell_too_fat)
{
    /* 2.5 mm pixels, as clinical body CTs: the surface trim of instances.c
     * is off on grids over 2 mm, so the half-way rule of peel.c is all there
     * is (without it 8.7 % of these bodies lay in the shell beside the side
     * wall, with it 6.4 %) */
    sp_phantom *p = sp_test_phantom("{\"seed\": 31, \"anatomy\": {\"from\": \"T10\", \"to\": \"L3\"},"
                                    " \"scan\": {\"matrix\": [96, 96], \"pixel_mm\": 2.5, \"slice_mm\": 3.0}}");
    sp_seg_result *r = sp_test_segment(p);
    const uint8_t *lab = r->vertebrae->data, *part = r->parts->data, *tv = sp_phantom_vertebrae(p)->data;
    size_t nv = (size_t)r->vertebrae->nx * r->vertebrae->ny * r->vertebrae->nz, nx = r->vertebrae->nx,
           ny = r->vertebrae->ny;
    int64_t body = 0, outside = 0;
    for (int t = 18; t <= 22; t++) { /* T11-L3: whole levels inside the scan */
        int l = best_match(r->vertebrae, sp_phantom_vertebrae(p), t);
        int64_t nb = 0;
        for (size_t i = 0; i < nv; i++) {
            if (lab[i] != l || part[i] != SP_SEG_PART_BODY) continue;
            nb++;
            /* outside the bone beside the side wall (a face neighbour in the
             * slice is the vertebra): the in-plane partial-volume shell */
            if (tv[i] == 0 && ((i % nx > 0 && tv[i - 1] == t) || (i % nx < nx - 1 && tv[i + 1] == t) ||
                               (i / nx % ny > 0 && tv[i - nx] == t) || (i / nx % ny < ny - 1 && tv[i + nx] == t)))
                outside++;
        }
        cr_assert_gt(nb, 500, "truth level %d: our body %d has %lld voxels", t, l, (long long)nb);
        body += nb;
    }
    cr_expect_lt(outside * 1000, 75 * body, "%lld of our %lld body voxels in the shell outside the side walls",
                 (long long)outside, (long long)body);
    sp_seg_result_free(r);
    sp_phantom_free(p);
}

Test(seg_lesions, collapsed_lytic_body_without_pedicles_keeps_its_disc_and_arch)
{
    /* lytic T8, both pedicles destroyed, 20 % crush: tumour reads below any
     * disc, so body and upper disc make one valley; the arch is bone that
     * the body no longer reaches */
    sp_phantom *p = sp_test_phantom(
        "{\"seed\": 24, \"anatomy\": {\"kyphosis_deg\": 50, \"from\": \"T3\", \"to\": \"L1\"},"
        " \"scan\": {\"matrix\": [224, 224], \"pixel_mm\": 1.2, \"slice_mm\": 2.5},"
        " \"vertebrae\": {\"T8\": {\"collapse_pct\": 20, \"collapse_shape\": \"crush\","
        " \"lesion\": {\"type\": \"lytic\", \"parts\": [\"body\", \"pedicle_left\", \"pedicle_right\"],"
        " \"body_extent_pct\": 50, \"cortical_breach\": true}}}}");
    sp_seg_result *r = sp_test_segment(p);
    int l;
    double dice = body_dice(r, p, 15, &l); /* T8 */
    cr_assert_gt(l, 0);
    const sp_volume *tv = sp_phantom_vertebrae(p);
    const uint8_t *lab = r->vertebrae->data, *t = tv->data, *q = sp_phantom_parts(p)->data;
    size_t nv = (size_t)tv->nx * tv->ny * tv->nz;
    int64_t arch = 0, arch_ours = 0;
    for (size_t i = 0; i < nv; i++) /* laminae and spinous process (phantom parts 4-6) */
        if (t[i] == 15 && q[i] >= 4 && q[i] <= 6) arch++, arch_ours += lab[i] == l;
    /* the disc placed in the body above gave 0.72 */
    cr_expect_gt(dice, 0.85, "T8 body Dice %.3f", dice);
    /* the destroyed pedicles are filled up to the facet joint, where the
     * level above's articular process lies behind them (0.69 when only
     * T8's own label behind was accepted) */
    double ped_left = part_covered(r, p, 15, 2);
    cr_expect_gt(ped_left, 0.75, "T8's destroyed left pedicle covered %.2f", ped_left);
    /* the neighbour's growth took the arch: 7 % of it was T8's */
    cr_expect_gt(arch_ours * 10, 6 * arch, "%lld of T8's %lld lamina/spinous voxels labelled T8", (long long)arch_ours,
                 (long long)arch);
    sp_seg_result_free(r);
    sp_phantom_free(p);
}

Test(seg_lesions, both_pedicles_destroyed_are_filled_on_other_seeds)
{
    /* the case above with other seeds, on which the pedicle zone, placed by
     * the level's own canal width and centre, lay beside the pedicles:
     * seeds 3 and 23 keep under half their neighbours' pedicle voxels on
     * each side, seeds 17 and 47 read their canal 3 mm wider than their
     * neighbours' (the bone beside it gone on both sides) */
    static const int seed[] = {3, 23, 17, 47};
    for (int c = 0; c < 4; c++) {
        char spec[512];
        snprintf(spec, sizeof spec,
                 "{\"seed\": %d, \"anatomy\": {\"kyphosis_deg\": 50, \"from\": \"T3\", \"to\": \"L1\"},"
                 " \"scan\": {\"matrix\": [224, 224], \"pixel_mm\": 1.2, \"slice_mm\": 2.5},"
                 " \"vertebrae\": {\"T8\": {\"collapse_pct\": 20, \"collapse_shape\": \"crush\","
                 " \"lesion\": {\"type\": \"lytic\", \"parts\": [\"body\", \"pedicle_left\", \"pedicle_right\"],"
                 " \"body_extent_pct\": 50, \"cortical_breach\": true}}}}",
                 seed[c]);
        double left, right;
        pedicles_covered(spec, 15, &left, &right);
        fprintf(stderr, "seed %d: T8 pedicles covered L %.2f R %.2f\n", seed[c], left, right);
        cr_expect_gt(left, 0.5, "seed %d: T8's destroyed left pedicle covered %.2f", seed[c], left);
        cr_expect_gt(right, 0.5, "seed %d: T8's destroyed right pedicle covered %.2f", seed[c], right);
    }
}

Test(seg_lesions, both_pedicles_destroyed_are_filled_where_one_zone_looks_intact)
{
    /* the held-out lytic T8 phantom with seed 37: both pedicles keep under a
     * third of their neighbours' voxels, but the left zone's unlabelled
     * share (0.73) stayed under the 0.75 that judges a side destroyed, and
     * the right side was filled with the mirror image of the left's 53
     * remaining voxels: 0 and 17 of 150 pedicle voxels covered (now 65 and
     * 74, posterolateral 3 as the truth) */
    double left, right;
    pedicles_covered("{\"seed\": 37, \"anatomy\": {\"kyphosis_deg\": 50},"
                     " \"vertebrae\": {\"T8\": {\"collapse_pct\": 20, \"collapse_shape\": \"crush\","
                     " \"lesion\": {\"type\": \"lytic\", \"parts\": [\"body\", \"pedicle_left\", \"pedicle_right\"],"
                     " \"body_extent_pct\": 50, \"cortical_breach\": true, \"epidural_bilsky\": \"1b\","
                     " \"epidural_side\": \"anterior\"}}}}",
                     15, &left, &right);
    fprintf(stderr, "seed 37: T8 pedicles covered L %.2f R %.2f\n", left, right);
    cr_expect_gt(left, 0.35, "T8's destroyed left pedicle covered %.2f", left);
    cr_expect_gt(right, 0.35, "T8's destroyed right pedicle covered %.2f", right);
}

Test(seg_lesions, top_level_of_the_column_keeps_its_own_axis)
{
    /* the centreline bends where the track runs out at the top of the scan:
     * T1 read 27 deg off and half of each pedicle went into its body (body
     * Dice 0.735; with the axis continued from the two levels below 0.835) */
    sp_phantom *p = sp_test_phantom("{\"seed\": 1, \"anatomy\": {\"from\": \"T1\", \"to\": \"L1\"}}");
    sp_seg_result *r = sp_test_segment(p);
    int l;
    double dice = body_dice(r, p, 8, &l); /* T1 */
    cr_assert_gt(l, 0);
    cr_expect_gt(dice, 0.80, "T1 body Dice %.3f", dice);
    sp_seg_result_free(r);
    sp_phantom_free(p);
}

/* Body centre (mm, grid axes) of label l, part body when parts is given. */
static void body_centre(const sp_volume *lab, const sp_volume *parts, int l, int body_part, double out[3])
{
    const uint8_t *a = lab->data, *q = parts->data;
    double s[3] = {0, 0, 0};
    int64_t n = 0;
    for (int z = 0; z < lab->nz; z++)
        for (int y = 0; y < lab->ny; y++)
            for (int x = 0; x < lab->nx; x++) {
                size_t i = ((size_t)z * lab->ny + y) * lab->nx + x;
                if (a[i] != l || q[i] != body_part) continue;
                s[0] += x * lab->spacing[0], s[1] += y * lab->spacing[1], s[2] += z * lab->spacing[2], n++;
            }
    for (int k = 0; k < 3; k++) out[k] = n ? s[k] / (double)n : 1e9;
}

Test(seg_lesions, body_half_replaced_by_tumour_is_filled_across_the_midline)
{
    /* lytic L2, 75 % of the body and the left pedicle, 25 % crush: bone is
     * left on the right side only, and the convex hull of that half stopped
     * at the midline; the hull of its mirror image fills the other half
     * (measured here: body Dice 0.732 -> 0.778, body centre 4.4 -> 3.8 mm
     * to the side of the truth's; before the disc period fix of the test
     * below 0.628 -> 0.649 and 8.4 -> 4.7 mm) */
    sp_phantom *p = sp_test_phantom(
        "{\"seed\": 41, \"anatomy\": {\"from\": \"T12\", \"to\": \"L4\"},"
        " \"scan\": {\"matrix\": [192, 192], \"pixel_mm\": 1.4, \"slice_mm\": 1.5},"
        " \"vertebrae\": {\"L2\": {\"collapse_pct\": 25, \"collapse_shape\": \"crush\","
        " \"lesion\": {\"type\": \"lytic\", \"parts\": [\"body\", \"pedicle_left\"],"
        " \"body_extent_pct\": 75, \"cortical_breach\": true}}}}");
    sp_seg_result *r = sp_test_segment(p);
    int l;
    double dice = body_dice(r, p, 21, &l); /* L2 */
    cr_assert_gt(l, 0);
    double ours[3], truth[3];
    body_centre(r->vertebrae, r->parts, l, SP_SEG_PART_BODY, ours);
    body_centre(sp_phantom_vertebrae(p), sp_phantom_parts(p), 21, 1, truth);
    fprintf(stderr, "L2 body Dice %.3f, centre off by %.1f mm across\n", dice, ours[0] - truth[0]);
    cr_expect_gt(dice, 0.755, "L2 body Dice %.3f", dice);
    cr_expect_lt(fabs(ours[0] - truth[0]), 4.1, "L2 body centre %.1f mm to the side of the truth's", ours[0] - truth[0]);
    sp_seg_result_free(r);
    sp_phantom_free(p);
}

Test(seg_lesions, crushed_lytic_level_in_a_short_scan_leaves_the_names_right)
{
    /* T12-L4 only, one level crushed (30 %) and lytic: on a profile this
     * short the disc period came out 21-25 mm against the true 30 (endplate
     * pairs read as a half period; the straight-line fit was only used on
     * profiles of 150 mm), so a 10 HU dip inside a body became a disc and
     * every name below it was one level off: L2 crushed, four of five names
     * wrong, two of them not flagged; L3 crushed, three of five wrong. With
     * seed 57 the crushed L2 still throws the period off: three names one
     * level off, which must then be flagged (two segments that add up to one
     * vertebra, segment/naming.c); two of the three were not. */
    static const char *lev[3] = {"L2", "L3", "L2"};
    static const int seed[3] = {41, 41, 57};
    for (int c = 0; c < 3; c++) {
        char spec[600];
        snprintf(spec, sizeof spec,
                 "{\"seed\": %d, \"anatomy\": {\"from\": \"T12\", \"to\": \"L4\"},"
                 " \"scan\": {\"matrix\": [192, 192], \"pixel_mm\": 1.4, \"slice_mm\": 1.5},"
                 " \"vertebrae\": {\"%s\": {\"collapse_pct\": 30, \"collapse_shape\": \"crush\","
                 " \"lesion\": {\"type\": \"lytic\", \"parts\": [\"body\", \"pedicle_right\"],"
                 " \"body_extent_pct\": 75, \"cortical_breach\": true}}}}",
                 seed[c], lev[c]);
        sp_phantom *p = sp_test_phantom(spec);
        sp_seg_result *r = sp_test_segment(p);
        for (int t = 19; t <= 23; t++) { /* T12-L4 */
            int l = best_match(r->vertebrae, sp_phantom_vertebrae(p), t);
            bool flagged = false;
            for (int k = 0; k < r->nvert; k++)
                if (r->vert[k].label == l) flagged = r->vert[k].uncertain;
            if (seed[c] == 41)
                cr_expect_eq(l, t, "%s crushed: truth label %d is our label %d", lev[c], t, l);
            else
                cr_expect(l == t || flagged, "seed %d, %s crushed: truth label %d is our label %d, not flagged", seed[c],
                          lev[c], t, l);
        }
        sp_seg_result_free(r);
        sp_phantom_free(p);
    }
}

/* Share of truth level t's phantom part `part` (3: right pedicle) that our
 * best match for t labels; asserts the match and the part exist. */
static double part_covered(const sp_seg_result *r, const sp_phantom *p, int t, int part)
{
    const sp_volume *tv = sp_phantom_vertebrae(p);
    int l = best_match(r->vertebrae, tv, t);
    cr_assert_gt(l, 0);
    const uint8_t *lab = r->vertebrae->data, *tl = tv->data, *tp = sp_phantom_parts(p)->data;
    size_t nv = (size_t)tv->nx * tv->ny * tv->nz;
    int64_t n = 0, covered = 0;
    for (size_t i = 0; i < nv; i++)
        if (tl[i] == t && tp[i] == part) n++, covered += lab[i] == l;
    cr_assert_gt(n, 0);
    return (double)covered / (double)n;
}

/* Segments the phantom of spec and gives the shares of truth level t's left
 * and right pedicles (phantom parts 2 and 3) that our match for t labels. */
static void pedicles_covered(const char *spec, int t, double *left, double *right)
{
    sp_phantom *p = sp_test_phantom(spec);
    sp_seg_result *r = sp_test_segment(p);
    *left = part_covered(r, p, t, 2);
    *right = part_covered(r, p, t, 3);
    sp_seg_result_free(r);
    sp_phantom_free(p);
}

Test(seg_lesions, pedicle_destroyed_on_one_side_is_filled_where_the_other_mirrors)
{
    /* lytic L1 with its right pedicle and the pedicle's cortex destroyed:
     * soft tissue between body and arch that growth never labels. The
     * filled zone lay beside the canal as the canal's half width placed it,
     * and a destroyed side throws that off (covered 16-22 % of the truth's
     * pedicle here); the mirror image of the left pedicle about a plane
     * through the neighbours' centres missed by 4-8 mm (3 %); about the
     * level's own plane of symmetry it covers 48 % with both seeds (and the
     * lytic_l1_collapse phantom's left pedicle 62 %, from 0) */
    static const int seed[2] = {57, 63};
    for (int c = 0; c < 2; c++) {
        char spec[600];
        snprintf(spec, sizeof spec,
                 "{\"seed\": %d, \"anatomy\": {\"from\": \"T11\", \"to\": \"L3\"},"
                 " \"scan\": {\"matrix\": [192, 192], \"pixel_mm\": 1.4, \"slice_mm\": 2.5},"
                 " \"vertebrae\": {\"L1\": {\"lesion\": {\"type\": \"lytic\", \"parts\": [\"body\", \"pedicle_right\"],"
                 " \"body_extent_pct\": 60, \"cortical_breach\": true}}}}",
                 seed[c]);
        double left, share; /* L1's pedicles; the right one destroyed */
        pedicles_covered(spec, 20, &left, &share);
        fprintf(stderr, "seed %d: L1 right pedicle covered %.2f\n", seed[c], share);
        cr_expect_gt(share, 0.40, "seed %d: the destroyed right pedicle covered %.2f", seed[c], share);
    }
}

Test(seg_lesions, pedicle_destroyed_beside_a_crushed_body_is_found_by_its_mirror)
{
    /* L2 crushed 35 % and lytic with its right pedicle (as the held-out
     * lytic_l2_crush, cropped, seed 57): the pedicle zone's unlabelled share
     * did not stand out from the neighbours', so the side was never filled
     * (0 % of the pedicle labelled); the left pedicle's mirror image lands on
     * unlabelled tissue (0.90), which marks the side destroyed: 49 % */
    sp_phantom *p = sp_test_phantom(
        "{\"seed\": 57, \"anatomy\": {\"from\": \"T12\", \"to\": \"L4\"},"
        " \"scan\": {\"matrix\": [192, 192], \"pixel_mm\": 1.4, \"slice_mm\": 1.5},"
        " \"vertebrae\": {\"L2\": {\"collapse_pct\": 35, \"collapse_shape\": \"crush\","
        " \"lesion\": {\"type\": \"lytic\", \"parts\": [\"body\", \"pedicle_right\"], \"body_extent_pct\": 65,"
        " \"cortical_breach\": true}}}}");
    sp_seg_result *r = sp_test_segment(p);
    double share = part_covered(r, p, 21, 3); /* L2, right pedicle */
    fprintf(stderr, "L2 right pedicle covered %.2f\n", share);
    cr_expect_gt(share, 0.35, "the destroyed right pedicle covered %.2f", share);
    sp_seg_result_free(r);
    sp_phantom_free(p);
}

Test(seg_lesions, pedicle_gone_from_the_parts_map_is_mirrored_from_the_other_side)
{
    /* the default phantom (sample_data/lytic_l1_collapse.json: L1's left
     * pedicle wholly lytic) with seed-survey seeds 3 and 17: the left side
     * keeps 0.05 of its neighbours' pedicle voxels in the parts map, but its
     * zone's unlabelled share stood under 0.15 above theirs, and the intact
     * right side's zone (placed about a canal read wider by the gone
     * pedicle) was filled instead: 0.12-0.13 of the left pedicle covered,
     * posterolateral 0 for 1. Now the left side is filled with the right
     * pedicle's mirror image (0.39-0.42) and the right side is left alone */
    static const int seed[2] = {3, 17};
    for (int c = 0; c < 2; c++) {
        char *spec = sp_test_sample_spec("lytic_l1_collapse", seed[c]);
        double left, right;
        pedicles_covered(spec, 20, &left, &right);
        free(spec);
        fprintf(stderr, "seed %d: L1 pedicles covered L %.2f R %.2f\n", seed[c], left, right);
        cr_expect_gt(left, 0.30, "seed %d: the gone left pedicle covered %.2f", seed[c], left);
        cr_expect_gt(right, 0.90, "seed %d: the intact right pedicle covered %.2f", seed[c], right);
    }
}

Test(seg_lesions, lumbar_arches_hanging_over_the_disc_below_stay_their_own)
{
    /* a lumbar lamina, inferior articular process and spinous process reach
     * down to the disc below, where the next level's arch touches them; the
     * growth reached them from below first: 30-50 % of L3-L5's laminae and
     * spinous processes were labelled with the level below (segment/instances.c) */
    sp_phantom *p = sp_test_phantom("{\"seed\": 1, \"anatomy\": {\"from\": \"L1\", \"to\": \"S1\"},"
                                    " \"scan\": {\"matrix\": [192, 192], \"pixel_mm\": 1.4, \"slice_mm\": 2.5}}");
    sp_seg_result *r = sp_test_segment(p);
    for (int t = 22; t <= 24; t++) { /* L3-L5 */
        double lam = 0.5 * (part_covered(r, p, t, 4) + part_covered(r, p, t, 5)), sp = part_covered(r, p, t, 6);
        fprintf(stderr, "level %d: laminae %.2f, spinous process %.2f its own\n", t, lam, sp);
        cr_expect_gt(lam, 0.7, "level %d: %.2f of its laminae labelled with it", t, lam);
        cr_expect_gt(sp, 0.7, "level %d: %.2f of its spinous process labelled with it", t, sp);
    }
    sp_seg_result_free(r);
    sp_phantom_free(p);
}
