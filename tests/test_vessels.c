/* test_vessels.c - a contrast-filled aorta touching the vertebral bodies
 * (phantom tissue.aorta_hu) stays out of the vertebra labels
 * (segment/vessels.c) and does not extend the column past the last
 * vertebra (segment/centreline.c): the same phantom with and without
 * contrast gives the same vertebrae, names and flags, and the lumen beside
 * them is unlabelled. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "phantom/sp_phantom.h"
#include "segment/sp_segment.h"
#include "support/phantom_util.h"

TestSuite(vessels, .timeout = 120);

#define SPEC(tissue)                                                                                              \
    "{\"seed\": 31, \"anatomy\": {\"from\": \"T10\", \"to\": \"L3\"}, " tissue                                   \
    "\"scan\": {\"matrix\": [224, 224], \"pixel_mm\": 0.9, \"slice_mm\": 2.0}}"

Test(vessels, contrast_aorta_stays_out_of_the_vertebrae)
{
    sp_phantom *plain = sp_test_phantom(SPEC("")), *contrast = sp_test_phantom(SPEC("\"tissue\": {\"aorta_hu\": 190}, "));
    const sp_volume *ctp = sp_phantom_ct(plain), *ctc = sp_phantom_ct(contrast), *tv = sp_phantom_vertebrae(contrast);
    sp_seg_result *rp = NULL, *rc = NULL;
    sp_err e = {0};
    cr_assert_eq(sp_seg_run(ctp, NULL, &rp, &e), SP_OK, "%s", e.msg);
    cr_assert_eq(sp_seg_run(ctc, NULL, &rc, &e), SP_OK, "%s", e.msg);
    /* the lumen: where contrast changed the CT; the middle levels' slices */
    const int16_t *hp = ctp->data, *hc = ctc->data;
    const uint8_t *lab = rc->vertebrae->data, *t = tv->data;
    int zlo = ctc->nz, zhi = -1;
    for (int z = 0; z < ctc->nz; z++)
        for (size_t i = (size_t)z * ctc->nx * ctc->ny; i < (size_t)(z + 1) * ctc->nx * ctc->ny; i++)
            if (t[i] == 19 || t[i] == 20) { /* T12, L1 */
                if (z < zlo) zlo = z;
                if (z > zhi) zhi = z;
                break;
            }
    cr_assert_lt(zlo, zhi, "T12/L1 in view");
    int64_t lumen = 0, labelled = 0;
    for (int z = zlo; z <= zhi; z++)
        for (size_t i = (size_t)z * ctc->nx * ctc->ny; i < (size_t)(z + 1) * ctc->nx * ctc->ny; i++)
            if (hc[i] - hp[i] > 100) lumen++, labelled += lab[i] != 0;
    cr_assert_gt(lumen, 1000, "the phantom has a contrast lumen beside T12-L1 (%lld voxels)", (long long)lumen);
    cr_expect_lt(labelled * 50, lumen, "%lld of %lld lumen voxels beside T12-L1 labelled as bone", (long long)labelled,
                 (long long)lumen);
    /* the column ends with the last vertebra, not with the lumen beyond it
     * (centreline.c: a body needs cortex): the same vertebrae, names and
     * flags, and every level (T10-L3) keeps its Dice within 0.01 */
    cr_assert_eq(rc->nvert, rp->nvert, "%d vertebrae with contrast, %d without", rc->nvert, rp->nvert);
    for (int k = 0; k < rp->nvert; k++) {
        cr_expect_str_eq(rc->vert[k].name, rp->vert[k].name, "vertebra %d", k);
        cr_expect_eq(rc->vert[k].uncertain, rp->vert[k].uncertain, "%s: uncertain %d with contrast, %d without",
                     rp->vert[k].name, rc->vert[k].uncertain, rp->vert[k].uncertain);
        cr_expect_eq(rc->vert[k].partial, rp->vert[k].partial, "%s partial", rp->vert[k].name);
    }
    cr_expect_str_eq(rc->flags, rp->flags);
    for (int l = 17; l <= 22; l++) {
        double dp = sp_test_dice(rp->vertebrae, sp_phantom_vertebrae(plain), l), dc = sp_test_dice(rc->vertebrae, tv, l);
        cr_expect_geq(dc, dp - 0.01, "level %d: Dice %.3f with contrast, %.3f without", l, dc, dp);
    }
    sp_seg_result_free(rp), sp_seg_result_free(rc);
    sp_phantom_free(plain), sp_phantom_free(contrast);
}
