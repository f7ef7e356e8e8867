/* disc_boundary.c - gives a body corner that one level's growth took across
 * the disc back to the body it belongs to.
 *
 * DESIGN: the growth (instances.c) hands each bone voxel to the seed it is
 * geodesically nearest to. Where a body's marrow is too faint to be seeded
 * (osteoporotic, under 110 HU) its seeds are its cortex only, and the
 * neighbour's growth can reach its endplate corner first, in one step across
 * the partial-volume slice of a thin tilted disc: the corner stays connected
 * to the neighbour's label, so islands.c does not see it (osteoporotic
 * phantom, seed 3: T6's label ran 2 slices down T7's anterior wall, T6's
 * anterior height read 24.5 mm for 19.5 and T7's 14.6 for 20, and T7's
 * collapse was withdrawn as a misplaced boundary). Such a column shows a signature that
 * anatomy does not: both bodies' ends in it are shifted the same way against
 * the planes fitted to the rest of the two endplates (the taker's end beyond
 * its plane, the other's end pushed back behind its own). A concave or
 * collapsed endplate moves only one end, or moves the two apart. In such a
 * column the taker's voxels nearer the other body's plane than its own are
 * the other body's. Where the other body has no voxel left in a column (a
 * wall taken whole: osteoporotic seed 11, T3's label down T4's anterior
 * cortex, T4 Genant 2 for 0), the taker's end reaching a slice beyond the
 * other's plane, next to a column the other still holds, is the sign. Planes are fitted per pair of adjacent levels to the
 * columns where both bodies are stacked (least squares, refitted without
 * residuals over one slice, three times). A pair is left as it is when too
 * few columns fit, and a column where the planes lie under a slice apart;
 * so is a pair whose move would take more than a tenth of the taker's body
 * (the planes are then not the endplates), and a scan with slices over 3 mm,
 * where one slice is more than the corner. Serial, pairs caudal first: the
 * result does not depend on the thread count. */
#define SP_SEGMENT_INTERNAL
#include "internal.h"

#include "core/sp_geom.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>

#define DB_MIN_COLUMNS 20    /* stacked columns, and inliers, a plane needs */
#define DB_MIN_INLIERS 0.6   /* share of the stacked columns within one slice */
#define DB_SHIFT_MM 1.5      /* an end this far (and at least one slice) off its plane is shifted */
#define DB_MIN_GAP 1.0       /* slices between the planes (adjacent slices: 1) */
#define DB_MAX_MOVED 0.10    /* of the taker's body voxels */
#define DB_MAX_SLICE_MM 3.0  /* thicker slices: one slice is more than a corner */

typedef struct zplane {
    double a, b, c; /* z = a + b x + c y, voxel units */
} zplane;

static double zp_at(const zplane *p, double x, double y) { return p->a + p->b * x + p->c * y; }

/* Least squares z = a + b x + c y over the columns flagged in use. */
static bool solve_plane(const double *x, const double *y, const double *z, const bool *use, int n, zplane *p)
{
    int m = 0;
    for (int i = 0; i < n; i++) m += use[i];
    double o[3];
    if (m < DB_MIN_COLUMNS || !sp_ls_plane(x, y, z, use, n, o)) return false;
    p->a = o[2], p->b = o[0], p->c = o[1];
    return true;
}

static bool fit_plane(const double *x, const double *y, const double *z, int n, bool *use, zplane *p)
{
    for (int i = 0; i < n; i++) use[i] = true;
    if (!solve_plane(x, y, z, use, n, p)) return false;
    int m = n;
    for (int it = 0; it < 3; it++) {
        m = 0;
        for (int i = 0; i < n; i++) {
            use[i] = fabs(z[i] - zp_at(p, x[i], y[i])) <= 1.0;
            m += use[i];
        }
        if (!solve_plane(x, y, z, use, n, p)) return false;
    }
    return m >= DB_MIN_INLIERS * n;
}

static void widen(seg_box *b, int x, int y, int z)
{
    int p[3] = {x, y, z};
    for (int a = 0; a < 3; a++) {
        if (p[a] < b->lo[a]) b->lo[a] = p[a];
        if (p[a] > b->hi[a]) b->hi[a] = p[a];
    }
}

/* Lower level index k (label k + 1) and the level above it (label k + 2). */
static sp_status fix_pair(const seg_canon *c, uint8_t *lab, const uint8_t *parts, int k, seg_box *boxes)
{
    const seg_box *bl = &boxes[k], *bu = &boxes[k + 1];
    if (bl->hi[0] < bl->lo[0] || bu->hi[0] < bu->lo[0]) return SP_OK;
    int lo[3], hi[3];
    for (int a = 0; a < 3; a++) {
        lo[a] = bl->lo[a] < bu->lo[a] ? bl->lo[a] : bu->lo[a];
        hi[a] = bl->hi[a] > bu->hi[a] ? bl->hi[a] : bu->hi[a];
    }
    const int W = hi[0] - lo[0] + 1, H = hi[1] - lo[1] + 1;
    const size_t nx = (size_t)c->n[0], nxy = nx * c->n[1];
    const uint8_t L = (uint8_t)(k + 1), U = (uint8_t)(k + 2);
    int *umin = malloc((size_t)W * H * sizeof *umin), *lmax = malloc((size_t)W * H * sizeof *lmax);
    double *cx = malloc((size_t)W * H * sizeof *cx), *cy = malloc((size_t)W * H * sizeof *cy);
    double *cu = malloc((size_t)W * H * sizeof *cu), *cl = malloc((size_t)W * H * sizeof *cl);
    bool *use = malloc((size_t)W * H * sizeof *use);
    sp_status st = SP_OK;
    if (!umin || !lmax || !cx || !cy || !cu || !cl || !use) {
        st = SP_ENOMEM;
        goto done;
    }
    for (int j = 0; j < W * H; j++) umin[j] = INT_MAX, lmax[j] = -1;
    int64_t body_u = 0, body_l = 0;
    for (int z = lo[2]; z <= hi[2]; z++)
        for (int y = lo[1]; y <= hi[1]; y++)
            for (int x = lo[0]; x <= hi[0]; x++) {
                size_t i = (size_t)z * nxy + (size_t)y * nx + x;
                if (parts[i] != SP_SEG_PART_BODY) continue;
                int j = (y - lo[1]) * W + (x - lo[0]);
                if (lab[i] == U) {
                    body_u++;
                    if (z < umin[j]) umin[j] = z;
                } else if (lab[i] == L) {
                    body_l++;
                    if (z > lmax[j]) lmax[j] = z;
                }
            }
    int n = 0;
    for (int y = lo[1]; y <= hi[1]; y++)
        for (int x = lo[0]; x <= hi[0]; x++) {
            int j = (y - lo[1]) * W + (x - lo[0]);
            if (umin[j] == INT_MAX || lmax[j] < 0 || umin[j] <= lmax[j]) continue;
            cx[n] = x, cy[n] = y, cu[n] = umin[j], cl[n] = lmax[j], n++;
        }
    zplane pu, pl;
    if (n < DB_MIN_COLUMNS || !fit_plane(cx, cy, cu, n, use, &pu) || !fit_plane(cx, cy, cl, n, use, &pl)) goto done;
    const double shift = fmax(1.0, DB_SHIFT_MM / c->spacing[2]);
    /* Count first: a move over DB_MAX_MOVED of the taker's body is refused. */
    int64_t to_l = 0, to_u = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int y = lo[1]; y <= hi[1]; y++)
            for (int x = lo[0]; x <= hi[0]; x++) {
                int j = (y - lo[1]) * W + (x - lo[0]);
                bool has_u = umin[j] != INT_MAX, has_l = lmax[j] >= 0;
                if (!has_u && !has_l) continue;
                double zu = zp_at(&pu, x, y), zl = zp_at(&pl, x, y);
                if (zu - zl < DB_MIN_GAP) continue;
                double mid = 0.5 * (zu + zl);
                int dir = 0;
                if (has_u && has_l && umin[j] > lmax[j]) {
                    double ru = umin[j] - zu, rl = lmax[j] - zl;
                    dir = ru <= -shift && rl <= -shift ? -1 : ru >= shift && rl >= shift ? 1 : 0;
                } else if (has_u != has_l) {
                    /* the other body has no voxel left here: the taker reaches beyond
                     * the other's plane, next to a column the other still holds */
                    const int *other = has_u ? lmax : umin;
                    bool beside = false;
                    for (int dy = -1; dy <= 1 && !beside; dy++)
                        for (int dx = -1; dx <= 1; dx++) {
                            int xx = x - lo[0] + dx, yy = y - lo[1] + dy;
                            if (xx < 0 || yy < 0 || xx >= W || yy >= H) continue;
                            int v = other[yy * W + xx];
                            if (has_u ? v >= 0 : v != INT_MAX) beside = true;
                        }
                    if (beside && has_u && umin[j] <= zl - shift) dir = -1;
                    if (beside && has_l && lmax[j] >= zu + shift) dir = 1;
                }
                if (!dir) continue;
                /* the taker's voxels in this column on the other body's side of the mid-plane */
                uint8_t from = dir < 0 ? U : L, to = dir < 0 ? L : U;
                /* within the two labels' box: far from the fitted columns a steep
                 * plane can put the mid-plane outside the volume */
                for (int z = dir < 0 ? umin[j] : lmax[j]; dir < 0 ? z < mid && z <= hi[2] : z > mid && z >= lo[2];
                     z -= dir) {
                    size_t i = (size_t)z * nxy + (size_t)y * nx + x;
                    if (lab[i] != from || parts[i] != SP_SEG_PART_BODY) continue;
                    if (pass == 0) {
                        to_l += dir < 0, to_u += dir > 0;
                    } else {
                        lab[i] = to;
                        widen(&boxes[to - 1], x, y, z);
                    }
                }
            }
        if (pass == 0 && (to_l + to_u == 0 || to_l > DB_MAX_MOVED * body_u || to_u > DB_MAX_MOVED * body_l)) break;
    }
done:
    free(umin), free(lmax), free(cx), free(cy), free(cu), free(cl), free(use);
    return st;
}

sp_status seg_fix_disc_boundaries(const seg_canon *c, uint8_t *lab, const uint8_t *parts, int nlv, seg_box *boxes)
{
    if (c->spacing[2] > DB_MAX_SLICE_MM) return SP_OK;
    for (int k = 0; k + 1 < nlv; k++) {
        sp_status st = fix_pair(c, lab, parts, k, boxes);
        if (st != SP_OK) return st;
    }
    return SP_OK;
}
