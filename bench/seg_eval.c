/* seg_eval.c - per-vertebra Dice, centroid error and identification of a
 * predicted VerSe label map against a reference (VerSe or TotalSegmentator
 * numbering). Used by bench/accuracy.sh to regenerate docs/accuracy.md.
 *
 * usage: seg_eval PRED.nii.gz REF.nii.gz verse|totalseg [NAME [PRED_PARTS REF_PARTS]]
 * Prints one Markdown table row per reference vertebra:
 *   | NAME | level | Dice | centroid error mm | identified | voxels | body Dice | predicted label | matched Dice | matched body Dice |
 * "matched Dice" is against the predicted vertebra that overlaps most,
 * whatever its name: the segmentation's quality apart from the naming.
 * With the two parts maps (value 1 = vertebral body in both), body Dice is
 * the Dice of the body voxels of that level; otherwise "-".
 * "identified" means the predicted vertebra with the largest overlap carries
 * the same label and its centroid is within 20 mm (VerSe's rule). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/sp_io.h"
#include "segment/sp_segment.h"

static int ref_label(int v, int totalseg)
{
    if (!totalseg) return v;
    if (v == 25 || v == 26) return 26;
    if (v >= 27 && v <= 50) return 51 - v;
    return 0;
}

static int at(const sp_volume *v, size_t i)
{
    return v->dtype == SP_U8 ? ((uint8_t *)v->data)[i] : v->dtype == SP_I16 ? ((int16_t *)v->data)[i] : (int)((float *)v->data)[i];
}

int main(int argc, char **argv)
{
    sp_volume *p = NULL, *r = NULL;
    sp_err e;
    if (argc < 4) {
        fprintf(stderr, "usage: seg_eval PRED REF verse|totalseg [NAME]\n");
        return 1;
    }
    int ts = !strcmp(argv[3], "totalseg");
    if (sp_io_read_nifti(argv[1], &p, &e) || sp_io_read_nifti(argv[2], &r, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 2;
    }
    if (sp_vol_nvox(p) != sp_vol_nvox(r)) {
        fprintf(stderr, "grids differ\n");
        return 2;
    }
    sp_volume *pp = NULL, *rp = NULL;
    if (argc > 6 && (sp_io_read_nifti(argv[5], &pp, &e) || sp_io_read_nifti(argv[6], &rp, &e))) {
        fprintf(stderr, "%s\n", e.msg);
        return 2;
    }
    static double inter[64][64], np[64], nr[64], cp[64][3], cr[64][3], bi[64], bp[64], br[64], bx[64][64];
    for (size_t i = 0; i < sp_vol_nvox(p); i++) {
        int a = at(p, i), b = ref_label(at(r, i), ts);
        if (pp && rp && a >= 0 && a < 64 && b >= 0 && b < 64) {
            bool pa = at(pp, i) == 1, pb = at(rp, i) == 1;
            if (pa && a) bp[a]++;
            if (pb && b) br[b]++;
            if (pa && pb && a == b && a) bi[a]++;
            if (pa && pb && a && b) bx[a][b]++;
        }
        if (a < 0 || a > 63 || b < 0 || b > 63) continue;
        size_t x = i % p->nx, y = (i / p->nx) % p->ny, z = i / ((size_t)p->nx * p->ny);
        double ijk[3] = {x, y, z}, w[3];
        sp_vol_ijk_to_lps(p, ijk, w);
        inter[a][b]++;
        np[a]++, nr[b]++;
        for (int k = 0; k < 3; k++) cp[a][k] += w[k], cr[b][k] += w[k];
    }
    const char *name = argc > 4 ? argv[4] : "";
    char nm[8];
    for (int b = 1; b < 64; b++) {
        if (nr[b] < 1) continue;
        int best = 0; /* the predicted vertebra (not background) overlapping most */
        for (int a = 1; a < 64; a++)
            if (inter[a][b] > 0 && (best == 0 || inter[a][b] > inter[best][b])) best = a;
        double dice = np[b] > 0 ? 2 * inter[b][b] / (np[b] + nr[b]) : 0, err = NAN;
        if (best > 0) {
            double d = 0;
            for (int k = 0; k < 3; k++) {
                double q = cp[best][k] / np[best] - cr[b][k] / nr[b];
                d += q * q;
            }
            err = sqrt(d);
        }
        char body[16] = "-";
        if (pp && br[b] > 0) snprintf(body, sizeof body, "%.3f", 2 * bi[b] / (bp[b] + br[b]));
        double matched = best > 0 ? 2 * inter[best][b] / (np[best] + nr[b]) : 0;
        char mbody[16] = "-";
        if (pp && br[b] > 0 && best > 0) snprintf(mbody, sizeof mbody, "%.3f", 2 * bx[best][b] / (bp[best] + br[b]));
        printf("| %s | %s | %.3f | %.1f | %s | %.0f | %s | %d | %.3f | %s |\n", name, sp_seg_level_name(b, nm), dice, err,
               best == b && err <= 20 ? "yes" : best > 0 ? "no" : "missed", nr[b], body, best, matched, mbody);
    }
    sp_vol_free(p);
    sp_vol_free(r);
    return 0;
}
