/* measure_heights.c - anterior, middle and posterior body heights in the
 * body's own mid-sagittal plane.
 *
 * DESIGN: in the refined frame (frame.c) the body's depth is the extent of
 * the body mask along AP through the centroid; heights are the extents of
 * the mask along SI at 15 %, 50 % and 85 % of that depth from the anterior
 * surface (the phantom's convention). The mask is sampled trilinearly (the
 * labels are voxel-centre samples) and the 0.5 crossing is interpolated, so
 * each end is placed between the last voxel inside and the first outside.
 * Collapse and Genant need the neighbours and are finished in score.c. */
#define SP_SCORE_INTERNAL
#include "internal.h"

#include <stdio.h>
#include <string.h>

/* The canal behind the body at mid-height: from the posterior wall along AP
 * to the arch, and across LR at its middle to the pedicles. */
static void canal(const sc_ctx *c, sp_score_vertebra *v)
{
    double p[3], t, arch = NAN, half[2] = {NAN, NAN};
    v->canal_ok = false;
    for (t = v->h.wall_t + 1.0; t < v->h.wall_t + 35.0; t += 0.25) {
        sc_point(v->centre, v->ap, t, v->ap, 0, v->ap, 0, p);
        if (sc_sample_mask(c, v->k, false, p) >= 0.5) {
            arch = t;
            break;
        }
    }
    if (isnan(arch)) arch = v->h.wall_t + 16.0;
    double mid = 0.5 * (v->h.wall_t + arch);
    for (int s = 0; s < 2; s++)
        for (t = 1.0; t < 20.0; t += 0.25) {
            sc_point(v->centre, v->ap, mid, v->lr, s ? -t : t, v->lr, 0, p);
            if (sc_sample_mask(c, v->k, false, p) >= 0.5) {
                half[s] = t;
                break;
            }
        }
    double hw = !isnan(half[0]) && !isnan(half[1]) ? 0.5 * (half[0] + half[1]) : !isnan(half[0]) ? half[0]
                : !isnan(half[1]) ? half[1] : 8.0;
    double shift = !isnan(half[0]) && !isnan(half[1]) ? 0.5 * (half[0] - half[1]) : 0.0;
    sc_point(v->centre, v->ap, mid, v->lr, shift, v->lr, 0, v->canal_centre);
    v->canal_depth = arch - v->h.wall_t;
    v->canal_halfwidth = hw;
    v->canal_ok = true;
}

void sc_measure_heights(const sc_ctx *c, sp_score_vertebra *v)
{
    sp_score_heights *h = &v->h;
    double lo, hi, p[3], a0, b0;
    static const double frac[3] = {0.15, 0.50, 0.85};
    double *out[3] = {&h->anterior, &h->middle, &h->posterior};
    h->ok = false;
    h->expected = h->collapse_pct = NAN;
    h->genant = -1;
    h->shape = "not assessed";
    if (!v->frame_ok) {
        snprintf(h->reason, sizeof h->reason, "body frame could not be fitted (%lld body voxels)",
                 (long long)v->body_voxels);
        return;
    }
    if (!sc_extent(c, v->k, true, v->centre, v->ap, 60.0, &lo, &hi)) {
        snprintf(h->reason, sizeof h->reason, "body centre is not inside the body mask");
        return;
    }
    h->depth = hi - lo;
    h->front_t = lo, h->wall_t = hi;
    if (sc_extent(c, v->k, true, v->centre, v->lr, 60.0, &a0, &b0)) h->width = b0 - a0;
    canal(c, v);
    for (int k = 0; k < 3; k++) {
        double t = lo + frac[k] * h->depth, a, b;
        sc_point(v->centre, v->ap, t, v->si, 0, v->lr, 0, p);
        if (!sc_extent(c, v->k, true, p, v->si, 60.0, &a, &b)) {
            snprintf(h->reason, sizeof h->reason, "%s measuring line misses the body mask",
                     k == 0 ? "anterior" : k == 1 ? "middle" : "posterior");
            return;
        }
        *out[k] = b - a;
        sc_point(p, v->si, b, v->si, 0, v->si, 0, h->lines[k][0]);
        sc_point(p, v->si, a, v->si, 0, v->si, 0, h->lines[k][1]);
        /* a line that ends at the volume's edge is cropped, not collapsed */
        for (int e = 0; e < 2; e++) {
            double ijk[3];
            sc_to_ijk(c, h->lines[k][e], ijk);
            if (ijk[2] < 0.5 || ijk[2] > c->ct->nz - 1.5 || ijk[0] < 0.5 || ijk[1] < 0.5 ||
                ijk[0] > c->ct->nx - 1.5 || ijk[1] > c->ct->ny - 1.5) {
                snprintf(h->reason, sizeof h->reason, "body cut by the field of view");
                return;
            }
        }
    }
    h->ok = true;
}
