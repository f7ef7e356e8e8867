/* frame.c - sampling helpers and the refined body frame of each vertebra.
 *
 * DESIGN: the segmentation gives each vertebra a frame (body centre, SI, AP,
 * LR). Heights must be taken along the body's own axis, so the frame is
 * refined from the body voxels: the top and bottom surfaces of the central
 * 60 % of the body (in LR and AP) are fitted with planes (least squares, one
 * refit without points off by > 2 mm), and the new SI axis is the mean of
 * the two plane normals. A wedge (symmetric in the phantom, roughly so in
 * patients) tilts the two endplates by opposite amounts, so the mean stays
 * on the body's axis; the angle between them is reported. Three passes. The
 * origin is the body centroid. Serial: one vertebra is a few thousand voxels. */
#define SP_SCORE_INTERNAL
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define GRID 48   /* 2 mm bins, +-48 mm */
#define BIN_MM 2.0

static int value_u8(const sp_volume *v, int x, int y, int z) { return ((const uint8_t *)v->data)[sp_vol_idx(v, x, y, z)]; }

double sc_sample_mask(const sc_ctx *c, int k, bool body, const double p[3])
{
    int label = c->label[k];
    double ijk[3];
    sc_to_ijk(c, p, ijk);
    int x0 = (int)floor(ijk[0]), y0 = (int)floor(ijk[1]), z0 = (int)floor(ijk[2]);
    double fx = ijk[0] - x0, fy = ijk[1] - y0, fz = ijk[2] - z0, s = 0;
    for (int dz = 0; dz < 2; dz++)
        for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++) {
                int x = x0 + dx, y = y0 + dy, z = z0 + dz;
                if (x < 0 || y < 0 || z < 0 || x >= c->lab->nx || y >= c->lab->ny || z >= c->lab->nz) continue;
                if (value_u8(c->lab, x, y, z) != label) continue;
                if (body) {
                    double q[3];
                    sc_voxel_lps(c, x, y, z, q);
                    if (!sc_is_body_at(c, k, q, value_u8(c->parts, x, y, z))) continue;
                }
                s += (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy) * (dz ? fz : 1 - fz);
            }
    return s;
}

double sc_sample_ct(const sc_ctx *c, const double p[3])
{
    double ijk[3];
    sc_to_ijk(c, p, ijk);
    int x0 = (int)floor(ijk[0]), y0 = (int)floor(ijk[1]), z0 = (int)floor(ijk[2]);
    double fx = ijk[0] - x0, fy = ijk[1] - y0, fz = ijk[2] - z0, s = 0;
    const int16_t *d = c->ct->data;
    for (int dz = 0; dz < 2; dz++)
        for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++) {
                int x = x0 + dx, y = y0 + dy, z = z0 + dz;
                double w = (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy) * (dz ? fz : 1 - fz);
                if (x < 0 || y < 0 || z < 0 || x >= c->ct->nx || y >= c->ct->ny || z >= c->ct->nz) s += w * -1024;
                else s += w * d[sp_vol_idx(c->ct, x, y, z)];
            }
    return s;
}

int sc_extent(const sc_ctx *c, int k, bool body, const double p0[3], const double dir[3], double tmax, double *lo,
              double *hi)
{
    const double dt = 0.1;
    double p[3], prev, cur;
    if (sc_sample_mask(c, k, body, p0) < 0.5) return 0;
    for (int s = -1; s <= 1; s += 2) {
        prev = 1.0;
        double t = 0, end = s * tmax;
        for (int i = 1; i * dt <= tmax; i++) {
            t = s * i * dt;
            sc_point(p0, dir, t, dir, 0, dir, 0, p);
            cur = sc_sample_mask(c, k, body, p);
            if (cur < 0.5) {
                /* linear interpolation of the 0.5 crossing */
                double f = (prev - 0.5) / (prev - cur);
                end = s * ((i - 1) * dt + f * dt);
                break;
            }
            prev = cur;
            end = t;
        }
        if (s < 0) *lo = end;
        else *hi = end;
    }
    return 1;
}

double sc_vox_along(const sc_ctx *c, const double dir[3])
{
    const double *m = c->ct->ijk_to_lps;
    double s = 0;
    for (int a = 0; a < 3; a++) {
        double col[3] = {m[a], m[4 + a], m[8 + a]}; /* grid axis a in LPS (times spacing) */
        s += fabs(sp_dot3(col, dir));
    }
    return s;
}

/* The grid axis dir crosses fastest (the slice axis for a line along the
 * body), with the grid spacings sp and each axis' spacing-scaled component
 * w along dir; true when the two other spacings are at most share of that
 * axis' (slices clearly thicker than the pixel). */
static bool slice_axis_of(const sc_ctx *c, const double dir[3], double share, int *ax, double sp[3], double w[3])
{
    const double *m = c->ct->ijk_to_lps;
    *ax = 0;
    for (int a = 0; a < 3; a++) {
        double col[3] = {m[a], m[4 + a], m[8 + a]};
        sp[a] = sqrt(sp_dot3(col, col));
        w[a] = fabs(sp_dot3(col, dir));
        if (w[a] > w[*ax]) *ax = a;
    }
    for (int a = 0; a < 3; a++)
        if (a != *ax && sp[a] > share * sp[*ax]) return false;
    return true;
}

bool sc_thick_slices(const sc_ctx *c, const double dir[3])
{
    double sp[3], w[3];
    int ax;
    return sc_vox_along(c, dir) > SC_EDGE_MAX_VOX_MM && slice_axis_of(c, dir, 0.5, &ax, sp, w);
}

/* The highest HU along the line from `in` mm inside the end `end` (side s)
 * to `out` mm outside it, 0.1 mm steps; *at gets its offset (first of equals). */
static double profile_peak(const sc_ctx *c, const double p0[3], const double dir[3], double end, int s, double in,
                           double out, double *at)
{
    double p[3], P = -1e9;
    *at = 0;
    for (double u = -in; u <= out + 1e-9; u += 0.1) {
        sc_point(p0, dir, end + s * u, dir, 0, dir, 0, p);
        double h = sc_sample_ct(c, p);
        if (h > P) P = h, *at = u;
    }
    return P;
}

/* The spacing along dir between the planes of the grid axis dir crosses
 * fastest, when that axis' spacing is at least SC_PLATE_SLAB_MIN_MM and the
 * two others at most 0.6 of it (slices clearly thicker than the pixel). */
static bool slab_along(const sc_ctx *c, const double dir[3], double *L)
{
    double sp[3], w[3];
    int ax;
    if (!slice_axis_of(c, dir, 0.6, &ax, sp, w) || sp[ax] < SC_PLATE_SLAB_MIN_MM) return false;
    *L = sp[ax] * sp[ax] / w[ax]; /* dir . axis = cos * spacing: one slice along dir is spacing / cos */
    return true;
}

static double patch_median(const sc_ctx *c, const double p0[3], const double dir[3], double t);

bool sc_plate_slices(const sc_ctx *c)
{
    const double *m = c->ct->ijk_to_lps;
    for (int a = 0; a < 3; a++) {
        double col[3] = {m[a], m[4 + a], m[8 + a]};
        if (sqrt(sp_dot3(col, col)) >= SC_PLATE_SLAB_MIN_MM) return true;
    }
    return false;
}

/* The endplate as a thin cortical plate split between two slices. At
 * slices of 2.5 mm a 1 mm endplate lies within one slice or straddles two;
 * the slices' HU are the means over their thickness, so where it straddles,
 * the share of the plate's excess HU in each slice places the surface
 * within the plate's thickness: the outer slice's excess over the disc
 * against the inner slice's excess over the cancellous bone two slices in.
 * The edge level (refine_end) instead puts the end at a fixed place in the
 * peak slice, up to a slice off where the plate straddles (our label also
 * takes in the outer, bright slice: heights +2 mm on a box model).
 * Offsets along the line from the mask end (outward +) at the peak slice
 * tp, with the disc's value B; patch medians (5 x 5, 1 mm apart) against
 * noise and trabecular texture. Used only where the slices on both sides
 * of the pair read flat (cancellous bone inside, disc outside: not a
 * lesion's gradient or a blastic focus), and either excess is at least
 * SC_PLATE_SHARE of the peak's contrast (else the plate lies within one
 * slice, where this gives nothing: false, the edge level stands). */
static bool plate_straddle(const sc_ctx *c, const double p0[3], const double dir[3], double end, int s, double tp,
                           double tb, double *e)
{
    double L;
    if (!slab_along(c, dir, &L)) return false;
    double P = patch_median(c, p0, dir, end + s * tp), B = patch_median(c, p0, dir, end + s * tb);
    double vi = patch_median(c, p0, dir, end + s * (tp - L)), cn = patch_median(c, p0, dir, end + s * (tp - 2 * L));
    double vo = patch_median(c, p0, dir, end + s * (tp + L)), thr = fmax(SC_PLATE_SHARE * (P - B), SC_PLATE_MIN_HU);
    double ei = vi - cn, eo = vo - B;
    if (ei >= thr && ei >= eo) { /* the peak slice is the outer one of the pair */
        double c3 = patch_median(c, p0, dir, end + s * (tp - 3 * L));
        if (fabs(c3 - cn) > 0.5 * ei) return false;
        *e = tp - 0.5 * L + SC_PLATE_MM * (P - B) / (P - B + ei);
        return true;
    }
    if (eo >= thr && vo < P) { /* the peak slice is the inner one */
        double o2 = patch_median(c, p0, dir, end + s * (tp + 2 * L));
        if (fabs(o2 - B) > 0.5 * eo) return false;
        *e = tp + 0.5 * L + SC_PLATE_MM * eo / (eo + P - cn);
        return true;
    }
    return false;
}

/* Refines one end of a mask extent with the CT profile: the end is placed
 * where the HU falls from the endplate's peak P towards the lowest value B
 * just outside (the disc), searching outward from the peak; linear
 * interpolation between 0.1 mm samples. The mask end (a 0.5 crossing of
 * voxel-centre labels) is only known to half a voxel, and a label grown
 * from the HU (our own segmentation) also takes in the partial-volume voxel
 * of a bright endplate, a voxel beyond the surface; the partial volume of
 * the endplate places the surface to a fraction of a voxel.
 *  - P is the highest value within max(2 mm, 1.6 voxels) inside the end
 *    (and half a voxel outside), or, where the profile falls from a maximum
 *    by 15 % of (P - B) further in, the maximum nearest the outside (a
 *    blastic lesion's plateau inside the endplate is not the endplate).
 *  - A profile still rising at the window's inner end has no endplate
 *    peak (a lesion denser with depth): the old rule, P the highest value
 *    within max(2 mm, 1 voxel), 0.7 level, crossing within 0.6 voxel; and
 *    kept where the profile still falls at the outer window's end (no disc
 *    minimum within reach: blastic T7's ramp put its edge 2 mm inside).
 *  - The level is B + 0.7 (P - B) for a thin cortical peak (its blur puts
 *    half-way ~0.5 mm outside the surface), half-way for a step edge: where
 *    the profile stays >= B + 0.85 (P - B) from 1 to 0.5 voxel inside the
 *    peak (dense bone up to the endplate).
 *  - Kept when the profile shows no clear edge (P - B < 150 HU: destroyed
 *    or osteoporotic endplate) or the crossing lies more than 0.6 voxel
 *    outside or 1.1 voxels inside the mask end. *moved tells whether it
 *    moved. */
static double refine_end(const sc_ctx *c, const double p0[3], const double dir[3], double end, int s, bool any_vox,
                         bool plate, bool *moved)
{
    *moved = false;
    double vox = sc_vox_along(c, dir);
    if (vox > SC_EDGE_MAX_VOX_MM && !any_vox) return end; /* thick slices: the endplate's partial volume is too smeared */
    double win_in = fmax(2.0, 1.6 * vox), win_out = fmax(2.5, 1.0 * vox);
    double p[3], tp, B = 1e9, P = profile_peak(c, p0, dir, end, s, win_in, 0.5 * vox, &tp);
    double tb = 0;
    for (double u = 0; u <= win_out + 1e-9; u += 0.1) {
        sc_point(p0, dir, end + s * u, dir, 0, dir, 0, p);
        double h = sc_sample_ct(c, p);
        if (h < B) B = h, tb = u;
    }
    if (P - B < 150.0) return end;
    { /* the peak nearest the outside */
        double M = -1e9, tm = 0;
        for (double u = 0.5 * vox; u >= -win_in - 1e-9; u -= 0.1) {
            sc_point(p0, dir, end + s * u, dir, 0, dir, 0, p);
            double h = sc_sample_ct(c, p);
            if (h > M) M = h, tm = u;
            else if (M - B >= 150.0 && h < M - 0.15 * (M - B)) {
                P = M, tp = tm;
                break;
            }
        }
    }
    bool ramp = tp <= -win_in + 0.15;
    double bias = SC_EDGE_BIAS, acc = 0, reach = 1.1;
    if (ramp) { /* rising to the window's inner end: no endplate peak, old rule */
        P = profile_peak(c, p0, dir, end, s, fmax(2.0, 1.0 * vox), 0.5 * vox, &tp);
        reach = 0.6;
        if (P - B < 150.0) return end;
        if (tb >= win_out - 0.15) return end; /* still falling at the window's end: no disc in reach */
    } else {
        int na = 0;
        for (double u = tp - vox; u <= tp - 0.5 * vox + 1e-9; u += 0.1) {
            sc_point(p0, dir, end + s * u, dir, 0, dir, 0, p);
            acc += sc_sample_ct(c, p), na++;
        }
        if (na && acc / na >= B + 0.85 * (P - B)) bias = 0; /* a step edge */
    }
    double e;
    if (plate && !ramp && plate_straddle(c, p0, dir, end, s, tp, tb, &e) && e <= 0.6 * vox && e >= -reach * vox) {
        *moved = true;
        return end + s * e;
    }
    double lv = 0.5 * (P + B) + bias * (P - B), prev = P;
    for (double u = tp + 0.1; u <= win_out + 1e-9; u += 0.1) {
        sc_point(p0, dir, end + s * u, dir, 0, dir, 0, p);
        double h = sc_sample_ct(c, p);
        if (h < lv) {
            double f = (prev - lv) / (prev - h);
            e = u - 0.1 + 0.1 * f;
            if (e > 0.6 * vox || e < -reach * vox) return end;
            *moved = true;
            return end + s * e;
        }
        prev = h;
    }
    return end;
}

/* Median HU of a 5 x 5 patch (1 mm apart) across dir, centred at offset t
 * along the line: one voxel's value at a noise of 20 HU cannot tell disc
 * from tumour 45 HU apart, the patch's median can. */
static double patch_median(const sc_ctx *c, const double p0[3], const double dir[3], double t)
{
    double u[3], w[3], a[3] = {1, 0, 0}, vals[25], q[3];
    if (fabs(dir[0]) > 0.8) a[0] = 0, a[1] = 1;
    sp_cross3(dir, a, u);
    sp_normalize3(u);
    sp_cross3(dir, u, w);
    int n = 0;
    for (int i = -2; i <= 2; i++)
        for (int j = -2; j <= 2; j++) {
            sc_point(p0, dir, t, u, i, w, j, q);
            double h = sc_sample_ct(c, q);
            int m = n++;
            while (m > 0 && vals[m - 1] > h) vals[m] = vals[m - 1], m--; /* insertion sort */
            vals[m] = h;
        }
    return vals[12];
}

/* The disc in a destroyed endplate's cup. Where tumour has replaced the
 * body up to the endplate and the endplate has sunk, the disc fills the cup;
 * our label fills holes enclosed in axial slices, so it takes in the disc
 * voxels ringed by the body's rim (mixed T10, seed 11: the middle height
 * 3.2 mm tall, Genant 0 for 2). No HU edge is there to refine (disc 80 HU
 * over tumour 35-45 HU, or a blastic focus a voxel deeper than the edge's
 * window). The label's end voxels that read as the disc just beyond the end
 * (patch medians within SC_CUP_LIKE_HU of it and under the bone threshold),
 * up to SC_CUP_MAX_MM (one voxel at least), are taken back to the boundary
 * with the next voxel, provided the body beneath (either of the next two
 * voxels) differs from the disc by SC_CUP_CONTRAST_HU (osteoporotic marrow
 * as dark as the disc is left alone) and each such voxel lies within
 * SC_CUP_SHARE of that difference of the disc (an end voxel holding part
 * disc, part tumour at a true boundary reads in between). Only where the CT
 * edge did not move the end, at voxels up to SC_EDGE_MAX_VOX_MM along the
 * line, and on the middle line alone (sc_extent_hu's central): the cup is
 * central, under the nucleus, while near the rim a wedge's sloping endplate
 * put the truth label's own end voxel within the band (lytic L1: anterior
 * height -2 mm). docs/scoring.md has the measurements. */
static double disc_cup_end(const sc_ctx *c, const double p0[3], const double dir[3], double end, int s, bool *moved)
{
    double vox = sc_vox_along(c, dir);
    if (vox > SC_EDGE_MAX_VOX_MM) return end;
    int jmax = (int)(fmax(SC_CUP_MAX_MM, vox) / vox + 1e-9);
    double D = patch_median(c, p0, dir, end + s * 0.5 * vox), h[8];
    if (jmax > 6) jmax = 6;
    for (int i = 0; i < jmax + 2; i++) h[i] = patch_median(c, p0, dir, end - s * (i + 0.5) * vox);
    int j = 0;
    while (j < jmax && fabs(h[j] - D) <= SC_CUP_LIKE_HU && h[j] < SC_CUP_BONE_HU) j++;
    if (j == 0) return end;
    double contrast = fmax(fabs(h[j] - D), fabs(h[j + 1] - D));
    if (contrast < SC_CUP_CONTRAST_HU) return end;
    /* disc, not the partial volume of disc and tumour at a true boundary */
    for (int i = 0; i < j; i++)
        if (fabs(h[i] - D) > SC_CUP_SHARE * contrast) j = i;
    if (j == 0) return end;
    *moved = true;
    return end - s * j * vox;
}

int sc_extent_hu(const sc_ctx *c, int k, const double p0[3], const double dir[3], double tmax, int how, double *lo,
                 double *hi)
{
    bool ml, mh, central = how & SC_HU_CENTRAL, plate = how & SC_HU_PLATE;
    if (!sc_extent(c, k, true, p0, dir, tmax, lo, hi)) return 0;
    *lo = refine_end(c, p0, dir, *lo, -1, false, plate, &ml);
    *hi = refine_end(c, p0, dir, *hi, +1, false, plate, &mh);
    if (central && !ml) *lo = disc_cup_end(c, p0, dir, *lo, -1, &ml);
    if (central && !mh) *hi = disc_cup_end(c, p0, dir, *hi, +1, &mh);
    return 1 | (ml ? SC_LO_REFINED : 0) | (mh ? SC_HI_REFINED : 0);
}

/* As sc_extent_hu at any voxel size: for the endplate planes of the frame,
 * where a bias common to all columns does not tilt the plane but the
 * partial volume still orders the columns within a thick slice. */
static int extent_hu_any(const sc_ctx *c, int k, const double p0[3], const double dir[3], double tmax, double *lo,
                         double *hi)
{
    bool ml, mh;
    if (!sc_extent(c, k, true, p0, dir, tmax, lo, hi)) return 0;
    *lo = refine_end(c, p0, dir, *lo, -1, true, false, &ml);
    *hi = refine_end(c, p0, dir, *hi, +1, true, false, &mh);
    return 1;
}

/* Robust plane w = a u + b v + c0 through n points (an endplate's top or
 * bottom over a grid of columns). Least squares, then up to four refits
 * without the points off by more than max(1.5 mm, 2.5 robust sigma) (a
 * destroyed or hull-completed part of the endplate, a column through the
 * disc); the floor keeps the half-voxel steps of a label's surface in.
 * Returns 0 on failure. */
static int fit_plane(const double *u, const double *v, const double *w, int n, double out[3])
{
    if (n < 6) return 0;
    bool *use = malloc((size_t)n * sizeof *use);
    double *res = malloc((size_t)n * sizeof *res);
    if (!use || !res) {
        free(use), free(res);
        return 0;
    }
    for (int i = 0; i < n; i++) use[i] = true;
    int ok = sp_ls_plane(u, v, w, use, n, out);
    for (int it = 0; ok && it < 4; it++) {
        for (int i = 0; i < n; i++) res[i] = fabs(out[0] * u[i] + out[1] * v[i] + out[2] - w[i]);
        double *srt = malloc((size_t)n * sizeof *srt);
        if (!srt) break;
        memcpy(srt, res, (size_t)n * sizeof *srt);
        qsort(srt, (size_t)n, sizeof *srt, sc_cmp_double);
        double thr = fmax(1.5, 2.5 * 1.4826 * srt[n / 2]);
        free(srt);
        int m = 0, changed = 0;
        for (int i = 0; i < n; i++) {
            bool u2 = res[i] <= thr;
            changed += u2 != use[i];
            m += use[i] = u2;
        }
        if (!changed) break;
        if (m < 6 || !sp_ls_plane(u, v, w, use, n, out)) ok = 0;
    }
    free(use), free(res);
    return ok;
}

void sc_frame_refine(const sc_ctx *c, const sp_seg_vertebra *sv, int k, sp_score_vertebra *v)
{
    const int *b = c->box[k];
    const uint8_t *lab = c->lab->data, *parts = c->parts->data;
    double cen[3] = {0, 0, 0};
    int64_t n = 0;
    memcpy(v->si, sv->axis_si, sizeof v->si);
    memcpy(v->ap, c->bap[k], sizeof v->ap);
    memcpy(v->centre, c->bo[k], sizeof v->centre);
    v->frame_ok = false;
    if (b[1] < b[0]) return;
    /* body centroid */
    for (int z = b[4]; z <= b[5]; z++)
        for (int y = b[2]; y <= b[3]; y++)
            for (int x = b[0]; x <= b[1]; x++) {
                size_t i = sp_vol_idx(c->lab, x, y, z);
                if (lab[i] != sv->label) continue;
                double p[3];
                sc_voxel_lps(c, x, y, z, p);
                if (!sc_is_body_at(c, k, p, parts[i])) continue;
                for (int a = 0; a < 3; a++) cen[a] += p[a];
                n++;
            }
    v->body_voxels = n;
    if (n < 50) return;
    for (int a = 0; a < 3; a++) v->centre[a] = cen[a] / (double)n;
    double *top = malloc(sizeof(double) * GRID * GRID), *bot = malloc(sizeof(double) * GRID * GRID);
    double *fu = malloc(sizeof(double) * GRID * GRID * 2), *fv = fu ? fu + GRID * GRID : NULL;
    double *fw = malloc(sizeof(double) * GRID * GRID);
    if (!top || !bot || !fu || !fw) goto done;
    for (int pass = 0; pass < 3; pass++) {
        double lr[3];
        double d = sp_dot3(v->ap, v->si);
        for (int a = 0; a < 3; a++) v->ap[a] -= d * v->si[a];
        sp_normalize3(v->ap);
        sp_cross3(v->ap, v->si, lr);
        sp_normalize3(lr);
        memcpy(v->lr, lr, sizeof lr);
        double umin = 1e9, umax = -1e9, vmin = 1e9, vmax = -1e9;
        for (int z = b[4]; z <= b[5]; z++)
            for (int y = b[2]; y <= b[3]; y++)
                for (int x = b[0]; x <= b[1]; x++) {
                    size_t i = sp_vol_idx(c->lab, x, y, z);
                    if (lab[i] != sv->label) continue;
                    double p[3], q[3];
                    sc_voxel_lps(c, x, y, z, p);
                    if (!sc_is_body_at(c, k, p, parts[i])) continue;
                    for (int a = 0; a < 3; a++) q[a] = p[a] - v->centre[a];
                    double u = sp_dot3(q, v->lr), vv = sp_dot3(q, v->ap);
                    umin = fmin(umin, u), umax = fmax(umax, u), vmin = fmin(vmin, vv), vmax = fmax(vmax, vv);
                }
        /* sub-voxel top and bottom of the body along SI on a 2 mm grid of
         * columns over the central 60 % (LR) x 60 % (AP) */
        double cu = 0.5 * (umin + umax), cv = 0.5 * (vmin + vmax), hu = 0.3 * (umax - umin), hv = 0.3 * (vmax - vmin);
        double plane[2][3], nrm[2][3];
        int m = 0, okp = 1;
        for (double vv = cv - hv; vv <= cv + hv + 1e-9 && m < GRID * GRID; vv += BIN_MM)
            for (double u = cu - hu; u <= cu + hu + 1e-9 && m < GRID * GRID; u += BIN_MM) {
                double p[3], lo, hi;
                sc_point(v->centre, v->lr, u, v->ap, vv, v->si, 0, p);
                if (!extent_hu_any(c, k, p, v->si, 40.0, &lo, &hi)) continue;
                fu[m] = u, fv[m] = vv, top[m] = hi, bot[m] = lo, m++;
            }
        for (int sd = 0; sd < 2; sd++) {
            memcpy(fw, sd ? bot : top, (size_t)m * sizeof *fw);
            if (!fit_plane(fu, fv, fw, m, plane[sd])) okp = 0;
            else {
                nrm[sd][0] = -plane[sd][0], nrm[sd][1] = -plane[sd][1], nrm[sd][2] = 1.0;
                sp_normalize3(nrm[sd]);
            }
        }
        if (!okp) break;
        double sl[3] = {nrm[0][0] + nrm[1][0], nrm[0][1] + nrm[1][1], nrm[0][2] + nrm[1][2]};
        if (sv->label == 26) memcpy(sl, nrm[0], sizeof sl); /* sacrum: S1's superior endplate only */
        sp_normalize3(sl);
        double c2 = sp_dot3(nrm[0], nrm[1]);
        v->h.endplate_angle_deg = acos(c2 > 1 ? 1 : c2) * 180.0 / M_PI;
        for (int e = 0; e < 2; e++)
            for (int a = 0; a < 3; a++)
                v->h.endplate_n[e][a] = nrm[e][0] * v->lr[a] + nrm[e][1] * v->ap[a] + nrm[e][2] * v->si[a];
        double si[3];
        for (int a = 0; a < 3; a++) si[a] = sl[0] * v->lr[a] + sl[1] * v->ap[a] + sl[2] * v->si[a];
        sp_normalize3(si);
        memcpy(v->si, si, sizeof si);
        v->frame_ok = true;
    }
    /* Thick slices: the segmentation's axis (the centreline through the
     * neighbouring bodies) was tried for the whole frame here, because the
     * endplate planes of a 5 mm staircase tilt by up to 17 deg; it measured
     * the heights better (truth labels 5 mm within 1 mm 61 -> 71 %) but
     * gave the lytic L3 a 12 deg disc angle for 4 expected (a false de novo
     * deformity, SINS alignment 2 for 0, and 4 end to end), and used for the
     * heights alone it still made that L3's end-to-end collapse 2 for 0. The
     * endplates' axis is kept (docs/scoring.md, "Thick slices"). */
    {
        double d = sp_dot3(v->ap, v->si), lr[3];
        for (int a = 0; a < 3; a++) v->ap[a] -= d * v->si[a];
        sp_normalize3(v->ap);
        sp_cross3(v->ap, v->si, lr);
        sp_normalize3(lr);
        memcpy(v->lr, lr, sizeof lr);
    }
done:
    free(top), free(bot), free(fu), free(fw);
}

void sc_frame_set_si(sp_score_vertebra *v, const double si[3])
{
    double d, lr[3];
    memcpy(v->si, si, sizeof v->si);
    sp_normalize3(v->si);
    d = sp_dot3(v->ap, v->si);
    for (int a = 0; a < 3; a++) v->ap[a] -= d * v->si[a];
    sp_normalize3(v->ap);
    sp_cross3(v->ap, v->si, lr);
    sp_normalize3(lr);
    memcpy(v->lr, lr, sizeof lr);
}

/* A label that also covers the spinal canal (a segmentation error) would
 * put the canal's CSF and fat in the body as "lytic" tissue. Along AP from
 * the body centre to the label's exit at hi: a cortical peak (>= 350 HU)
 * followed within 3 mm by >= 6 mm of fluid/fat/soft tissue (< 100 HU) that
 * still lies inside the label is the posterior wall and the canal behind
 * it; the wall is then placed where the HU falls half-way from the peak.
 * Only called when the label reaches much further behind the centre than in
 * front of it. Returns the (possibly reduced) wall offset. */
static double canal_in_label(const sc_ctx *c, const double o[3], const double ap[3], double hi)
{
    double p[3], prof[256];
    int n = 0;
    for (double t = 0; t <= hi && n < 256; t += 0.5) {
        sc_point(o, ap, t, ap, 0, ap, 0, p);
        prof[n++] = sc_sample_ct(c, p);
    }
    for (int i = 4; i < n; i++) {
        if (prof[i] < 350.0) continue;
        /* peak of this cortex */
        int pk = i;
        while (pk + 1 < n && prof[pk + 1] >= prof[pk]) pk++;
        int j = pk + 1;
        while (j < n && j <= pk + 6 && prof[j] >= 100.0) j++;
        int run = 0;
        while (j + run < n && prof[j + run] < 100.0) run++;
        if (run >= 12) {
            double half = 0.5 * (prof[pk] + prof[j]);
            int e = pk;
            while (e + 1 < n && prof[e + 1] >= half) e++;
            return 0.5 * e + 0.25;
        }
        i = pk;
    }
    return hi;
}

/* Mirror symmetry of the whole label about a plane that contains the SI
 * axis: the fraction of label voxels (every other one in-plane) whose
 * reflection lands on a voxel of the same label. The plane's normal is lr0
 * turned by phi about si toward ap0, and it passes delta mm along that
 * normal from o. */
static double sym_score(const sc_ctx *c, int label, const float *ijk, int n, const double o_ijk[3],
                        const double lr_ijk0[3], const double ap_ijk0[3], const double lr0[3], const double ap0[3],
                        double phi, double delta)
{
    double cs = cos(phi), sn = sin(phi), nrm[3], nij[3];
    for (int a = 0; a < 3; a++) nrm[a] = cs * lr0[a] + sn * ap0[a], nij[a] = cs * lr_ijk0[a] + sn * ap_ijk0[a];
    /* signed distance (mm) from the plane: (ijk - o_ijk) . g; the reflection moves -2 d along nij in ijk */
    const double *m = c->ct->ijk_to_lps;
    double g[3];
    for (int a = 0; a < 3; a++) g[a] = m[a] * nrm[0] + m[4 + a] * nrm[1] + m[8 + a] * nrm[2];
    int hit = 0;
    const uint8_t *lab = c->lab->data;
    for (int i = 0; i < n; i++) {
        const float *q = ijk + 3 * i;
        double d = (q[0] - o_ijk[0]) * g[0] + (q[1] - o_ijk[1]) * g[1] + (q[2] - o_ijk[2]) * g[2] - delta;
        int x = (int)lround(q[0] - 2 * d * nij[0]), y = (int)lround(q[1] - 2 * d * nij[1]),
            z = (int)lround(q[2] - 2 * d * nij[2]);
        if (x < 0 || y < 0 || z < 0 || x >= c->lab->nx || y >= c->lab->ny || z >= c->lab->nz) continue;
        hit += lab[sp_vol_idx(c->lab, x, y, z)] == label;
    }
    return n ? (double)hit / n : 0;
}

/* The segmentation's AP axis can be turned about SI by 20-40 degrees at
 * some levels (a rib head, a neighbour's process in the label). A vertebra
 * is mirror-symmetric about its mid-sagittal plane, so the plane (through
 * the body centre's neighbourhood, containing SI) that best maps the label
 * onto itself gives AP and LR: coarse search +-45 deg x +-6 mm, then fine.
 * Kept as given when the label is small or no plane is clearly symmetric
 * (score < 0.6). */
static void symmetric_axes(const sc_ctx *c, const sp_seg_vertebra *sv, int k, double ap[3], double lr[3],
                           double centre[3])
{
    const int *b = c->box[k];
    const uint8_t *lab = c->lab->data;
    memcpy(ap, sv->axis_ap, 3 * sizeof(double));
    memcpy(lr, sv->axis_lr, 3 * sizeof(double));
    memcpy(centre, sv->body_centre, 3 * sizeof(double));
    if (b[1] < b[0]) return;
    int64_t cnt = 0;
    for (int z = b[4]; z <= b[5]; z++)
        for (int y = b[2]; y <= b[3]; y += 2)
            for (int x = b[0]; x <= b[1]; x += 2) cnt += lab[sp_vol_idx(c->lab, x, y, z)] == sv->label;
    if (cnt < 200) return;
    float *ijk = malloc((size_t)cnt * 3 * sizeof *ijk);
    if (!ijk) return;
    int n = 0;
    for (int z = b[4]; z <= b[5]; z++)
        for (int y = b[2]; y <= b[3]; y += 2)
            for (int x = b[0]; x <= b[1]; x += 2)
                if (lab[sp_vol_idx(c->lab, x, y, z)] == sv->label) {
                    ijk[3 * n] = (float)x, ijk[3 * n + 1] = (float)y, ijk[3 * n + 2] = (float)z;
                    n++;
                }
    double o_ijk[3], lr0[3], ap0[3], lr_ijk0[3], ap_ijk0[3], zero[3] = {0, 0, 0}, t0[3];
    memcpy(ap0, sv->axis_ap, sizeof ap0);
    {
        double d = sp_dot3(ap0, sv->axis_si);
        for (int a = 0; a < 3; a++) ap0[a] -= d * sv->axis_si[a];
        sp_normalize3(ap0);
        sp_cross3(ap0, sv->axis_si, lr0);
        sp_normalize3(lr0);
    }
    sc_to_ijk(c, sv->body_centre, o_ijk);
    sc_to_ijk(c, zero, t0);
    sc_to_ijk(c, lr0, lr_ijk0);
    sc_to_ijk(c, ap0, ap_ijk0);
    for (int a = 0; a < 3; a++) lr_ijk0[a] -= t0[a], ap_ijk0[a] -= t0[a];
    double best = -1, bphi = 0, bdel = 0;
    for (int ip = -15; ip <= 15; ip++)
        for (int id = -6; id <= 6; id++) {
            double s = sym_score(c, sv->label, ijk, n, o_ijk, lr_ijk0, ap_ijk0, lr0, ap0, ip * 3.0 * M_PI / 180.0, id);
            if (s > best + 1e-12) best = s, bphi = ip * 3.0 * M_PI / 180.0, bdel = id;
        }
    double cphi = bphi, cdel = bdel;
    for (int ip = -6; ip <= 6; ip++)
        for (int id = -4; id <= 4; id++) {
            double ph = cphi + ip * 0.5 * M_PI / 180.0, de = cdel + id * 0.25;
            double s = sym_score(c, sv->label, ijk, n, o_ijk, lr_ijk0, ap_ijk0, lr0, ap0, ph, de);
            if (s > best + 1e-12) best = s, bphi = ph, bdel = de;
        }
    free(ijk);
    if (best < 0.6) return;
    double cs = cos(bphi), sn = sin(bphi);
    for (int a = 0; a < 3; a++) {
        lr[a] = cs * lr0[a] + sn * ap0[a];
        ap[a] = cs * ap0[a] - sn * lr0[a];
    }
    /* the centre onto the plane */
    for (int a = 0; a < 3; a++) centre[a] = sv->body_centre[a] + bdel * lr[a];
}

/* Posterior wall and half width of the body region of vertebra k along its
 * current c->bap / c->blr through c->bo. */
static void body_extent(sc_ctx *c, int k)
{
    double lo, hi, lo2, hi2;
    const double *o = c->bo[k], *ap = c->bap[k], *lr = c->blr[k];
    c->bok[k] = false;
    /* the whole label along AP and LR through the body centre */
    if (!sc_extent(c, k, false, o, ap, 60.0, &lo, &hi)) return;
    if (!sc_extent(c, k, false, o, lr, 60.0, &lo2, &hi2)) return;
    if (hi < 5.0 || -lo < 5.0) return;
    if (hi > 1.4 * -lo) hi = canal_in_label(c, o, ap, hi); /* label deeper behind the centre than in front */
    c->bwall[k] = hi;
    c->bhalf[k] = fmax(-lo2, hi2) + 1.0;
    c->bok[k] = true;
}

void sc_body_region(sc_ctx *c, const sp_seg_vertebra *sv, int k)
{
    double ap[3], lr[3], o[3];
    c->label[k] = sv->label;
    c->bok[k] = false;
    c->bsym[k] = false;
    memcpy(c->bo[k], sv->body_centre, sizeof c->bo[k]);
    memcpy(c->bap[k], sv->axis_ap, sizeof c->bap[k]);
    memcpy(c->blr[k], sv->axis_lr, sizeof c->blr[k]);
    if (sv->label == 26) return; /* sacrum: keep the parts map */
    symmetric_axes(c, sv, k, ap, lr, o);
    c->bsym[k] = true;
    memcpy(c->bo[k], o, sizeof c->bo[k]);
    memcpy(c->bap[k], ap, sizeof c->bap[k]);
    memcpy(c->blr[k], lr, sizeof c->blr[k]);
    body_extent(c, k);
}

/* Angle (deg) between the AP axes of a and b projected on the plane
 * perpendicular to si. */
static double ap_turn(const double a[3], const double b[3], const double si[3])
{
    double pa[3], pb[3], da = sp_dot3(a, si), db = sp_dot3(b, si);
    for (int i = 0; i < 3; i++) pa[i] = a[i] - da * si[i], pb[i] = b[i] - db * si[i];
    sp_normalize3(pa), sp_normalize3(pb);
    double cs = sp_dot3(pa, pb);
    return acos(cs > 1 ? 1 : cs < -1 ? -1 : cs) * 180.0 / M_PI;
}

void sc_body_axes_check(sc_ctx *c, const sp_seg_result *seg)
{
    int n = seg->nvert;
    bool bad[SP_SEG_MAX_VERT] = {false};
    double pred[SP_SEG_MAX_VERT][3];
    for (int k = 1; k + 1 < n; k++) {
        if (!c->bsym[k] || !c->bsym[k - 1] || !c->bsym[k + 1]) continue;
        const double *si = seg->vert[k].axis_si;
        /* the neighbours must agree with each other */
        if (ap_turn(c->bap[k - 1], c->bap[k + 1], si) > SC_AP_TURN_DEG) continue;
        for (int i = 0; i < 3; i++) pred[k][i] = c->bap[k - 1][i] + c->bap[k + 1][i];
        double d = sp_dot3(pred[k], si);
        for (int i = 0; i < 3; i++) pred[k][i] -= d * si[i];
        sp_normalize3(pred[k]);
        bad[k] = ap_turn(c->bap[k], pred[k], si) > SC_AP_TURN_DEG;
    }
    for (int k = 0; k < n; k++) {
        if (!bad[k]) continue;
        memcpy(c->bap[k], pred[k], sizeof pred[k]);
        sp_cross3(c->bap[k], seg->vert[k].axis_si, c->blr[k]);
        sp_normalize3(c->blr[k]);
        memcpy(c->bo[k], seg->vert[k].body_centre, sizeof c->bo[k]);
        body_extent(c, k);
    }
}
