/* measure_extension.c - tumour outside the bone: paravertebral soft-tissue
 * mass (WBB layer A) and epidural tumour in the canal (layer D).
 *
 * DESIGN: soft-tissue tumour (~40-50 HU) cannot be told from muscle by HU,
 * so each level is compared with its own neighbours. For every level, in a
 * slab of the body's height along its axis, we tally soft tissue per WBB
 * zone (30 deg sectors around the canal centre) in two regions:
 *  - shell: 1-15 mm outside the body's ellipse (LR width x AP depth),
 *    anterior to 3 mm behind the posterior wall; soft = 0..150 HU;
 *  - canal: inside the canal ellipse (half width x half depth); soft =
 *    -30..150 HU (epidural fat is about -100, CSF/cord 10-35; above 150
 *    is bone the label left out).
 * Tallies are per mm of slab. A lesion level's excess over the mean of its
 * nearest lesion-free neighbours (one above, one below) is the extension:
 * a canal zone counts from 0.05 ml and epidural tumour from 0.15 ml.
 * Paravertebral extension is not called (null in the report, with the
 * shell's excess, zones from 0.3 ml, as evidence): soft-tissue tumour has
 * the HU of the muscle it replaces, and on the phantoms the shell excess
 * found none of 5 rendered masses (0-0.9 ml for 2-7 ml of tumour: lytic L1's
 * 12 mm mass and scratch T6, T8, T11, L2 masses) while it read 1.0-3.4 ml at
 * 4 of 11 levels without one (thick slices, a translation, end-to-end
 * masks); called from 1.0 ml it was wrong on every level it flagged. WBB
 * layer A is therefore not assessed. Serial. */
#define SP_SCORE_INTERNAL
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PARA_ZONE_ML 0.3
#define EPI_ZONE_ML 0.05
#define EPI_TOTAL_ML 0.15

static double slab_mm(const sp_score_vertebra *v) { return v->h.ok ? fmax(6.0, v->h.posterior - 2.0) : 14.0; }

/* out[0..11] shell soft tissue per zone, out[12..23] canal soft tissue per
 * zone, out[24] canal volume; all ml per mm of slab. */
static void profile(const sc_ctx *c, int k, const sp_score_vertebra *v, double *out)
{
    const int *b = c->box[k];
    const uint8_t *lab = c->lab->data;
    const int16_t *ct = c->ct->data;
    memset(out, 0, 25 * sizeof *out);
    if (!v->canal_ok || !v->h.ok || b[1] < b[0] || v->h.width <= 0) return;
    double slab = slab_mm(v), ea = 0.5 * v->h.width, eb = 0.5 * v->h.depth;
    double mid[3];
    sc_point(v->centre, v->ap, 0.5 * (v->h.front_t + v->h.wall_t), v->ap, 0, v->ap, 0, mid);
    int m[3];
    for (int a = 0; a < 3; a++) m[a] = (int)ceil(18.0 / c->ct->spacing[a]);
    int x0 = b[0] - m[0], x1 = b[1] + m[0], y0 = b[2] - m[1], y1 = b[3] + m[1], z0 = b[4] - m[2], z1 = b[5] + m[2];
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (z0 < 0) z0 = 0;
    if (x1 >= c->ct->nx) x1 = c->ct->nx - 1;
    if (y1 >= c->ct->ny) y1 = c->ct->ny - 1;
    if (z1 >= c->ct->nz) z1 = c->ct->nz - 1;
    for (int z = z0; z <= z1; z++)
        for (int y = y0; y <= y1; y++)
            for (int x = x0; x <= x1; x++) {
                size_t i = sp_vol_idx(c->ct, x, y, z);
                if (lab[i]) continue;
                double p[3], q[3], qc[3];
                sc_voxel_lps(c, x, y, z, p);
                for (int a = 0; a < 3; a++) q[a] = p[a] - mid[a], qc[a] = p[a] - v->canal_centre[a];
                if (fabs(sp_dot3(q, v->si)) > 0.5 * slab) continue;
                double u = sp_dot3(q, v->lr), w = sp_dot3(q, v->ap);
                double uc = sp_dot3(qc, v->lr), wc = sp_dot3(qc, v->ap);
                int zone = sp_wbb_zone(uc, wc);
                double cd = 0.5 * v->canal_depth, ch = v->canal_halfwidth;
                if (cd > 0 && ch > 0 && (uc * uc) / (ch * ch) + (wc * wc) / (cd * cd) <= 1.0) {
                    out[24] += c->vox_ml;
                    /* soft tissue, not bone the label left out at the
                     * canal's edge (that counted as "epidural" where a
                     * label's edge moved by a voxel) */
                    if (ct[i] > -30 && ct[i] <= 150) out[12 + zone - 1] += c->vox_ml;
                    continue;
                }
                if (w > eb + 3.0) continue; /* behind the posterior wall: not the shell */
                double r = sqrt(u * u + w * w);
                if (r < 1e-6) continue;
                double cs = u / r, sn = w / r;
                double re = 1.0 / sqrt((cs / ea) * (cs / ea) + (sn / eb) * (sn / eb));
                double dist = r - re;
                if (dist < 1.0 || dist > 15.0) continue;
                if (ct[i] >= 0 && ct[i] <= 150) out[zone - 1] += c->vox_ml;
            }
    for (int j = 0; j < 25; j++) out[j] /= slab;
}

void sc_extension_all(const sc_ctx *c, sp_score_result *r)
{
    int nv = r->nvert;
    double(*pr)[25] = calloc((size_t)nv, sizeof *pr);
    if (!pr) return;
    for (int k = 0; k < nv; k++) profile(c, k, &r->v[k], pr[k]);
    for (int k = 0; k < nv; k++) {
        sp_score_vertebra *v = &r->v[k];
        sp_score_lesion *L = &v->les;
        if (L->character == SP_CHAR_NONE || L->character == SP_CHAR_NOT_ASSESSED || pr[k][24] <= 0) continue;
        int nb[2] = {-1, -1};
        for (int j = k - 1; j >= 0 && j >= k - 3; j--)
            if (r->v[j].les.character == SP_CHAR_NONE && pr[j][24] > 0) {
                nb[0] = j;
                break;
            }
        for (int j = k + 1; j < nv && j <= k + 3; j++)
            if (r->v[j].les.character == SP_CHAR_NONE && pr[j][24] > 0) {
                nb[1] = j;
                break;
            }
        if (nb[0] < 0 && nb[1] < 0) continue;
        double exp[25], slab = slab_mm(v), para = 0, epi = 0;
        for (int j = 0; j < 25; j++) {
            double s = 0;
            int cnt = 0;
            for (int t = 0; t < 2; t++)
                if (nb[t] >= 0) s += pr[nb[t]][j], cnt++;
            exp[j] = s / cnt;
        }
        double zpara[12], zepi[12];
        for (int z = 0; z < 12; z++) {
            zpara[z] = (pr[k][z] - exp[z]) * slab;
            zepi[z] = (pr[k][12 + z] - exp[12 + z]) * slab;
            if (zpara[z] >= PARA_ZONE_ML) para += zpara[z];
            if (zepi[z] >= EPI_ZONE_ML) epi += zepi[z];
        }
        /* the shell's excess is kept as evidence only: not a call (see the
         * top of the file) */
        L->paravertebral_ml = para;
        L->epidural_ml = epi;
        L->epidural = epi >= EPI_TOTAL_ML;
        L->canal_occupancy_pct = pr[k][24] > 0 ? 100.0 * epi / (pr[k][24] * slab) : 0;
        if (L->epidural) {
            for (int z = 0; z < 12; z++)
                if (zepi[z] >= EPI_ZONE_ML) L->zone_ml[z] += zepi[z], L->layer_ml[3] += zepi[z];
            double o = L->canal_occupancy_pct;
            snprintf(L->bilsky, sizeof L->bilsky, "%s", o < 10 ? "1a" : o < 20 ? "1b" : o < 35 ? "1c" : o < 60 ? "2" : "3");
        }
    }
    free(pr);
}
