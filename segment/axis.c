/* axis.c - is a level C2 (the axis)? Its body goes on upward as the dens
 * through the atlas ring; seg_detect_axis (used by naming.c) answers and
 * keeps the peg's geometry for the instances (instances.c). */
#define SP_SEGMENT_INTERNAL
#include "internal.h"

#include <math.h>
#include <stdlib.h>

#include "core/sp_log.h"

/* ---- C2 (axis) ----
 * C2 is the only vertebra whose body goes on upward as a narrow peg, the
 * dens (about 10 mm wide on a 16 mm body), and the peg rises through a ring
 * without a body, the atlas: its lateral masses lie 12-25 mm to each side of
 * the dens, beyond a gap of soft tissue. Walking up a level's body axis
 * (straight on from the tangent at the body: the line itself may bend toward
 * a lateral mass up there), each work slice's bone through the axis is read
 * as a left-right run: a body is wide; a peg is 4 mm or more but under 0.85
 * of the body's width (the true 0.61 reads 0.75-0.77 on the block-mean work
 * grid at 1 mm pixels or size_scale 0.8, and 0.75 missed C2 there); then "ring" when bone lies on both sides beyond the
 * run within 32 mm. C2: a body at most 30 mm wide, then directly (no disc)
 * 6-30 mm of peg, mostly ringed, the scan going on for 4 mm or more above it
 * and no body-wide bone for 10 mm above it (the atlas has no body). A body
 * under a disc never continues as a peg. Rib heads beside a thoracic disc
 * look like a ring, and a body cut by the scan's edge narrows like a peg:
 * without the width, length and scan-edge rules two of the sixteen suite
 * phantoms (5 mm slices; a translated T12 cropped at T1) called an upper
 * thoracic level C2, with 5 and 8 mm pegs under 36 and 15 mm bodies. */
#define PEG_REL_MAX 0.85   /* peg / body width (dens ~10 / C2 body ~16; read 12 / 16 on 2 mm blocks) */
#define PEG_MIN_MM 4.0     /* narrowest peg */
#define PEG_LEN_MM 6.0     /* shortest peg (the dens rises 12-15 mm) */
#define BODY_MAX_MM 30.0   /* widest C2 body (15-20 mm in adults); thoracic and lumbar bodies are wider */
#define PEG_FIND_MM 3.0    /* the peg's bone nearest the axis, within 3 mm */
#define RING_MM 32.0       /* atlas lateral masses within 32 mm of the axis */
#define RING_GAP_MM 2.0    /* beyond the peg by at least this much */
#define RING_BAND_MM 4.0   /* rows searched either side of the peg's */

/* Left-right run (mm) of bone through the bone voxel of work slice z nearest
 * (px, py) within PEG_FIND_MM; 0 when none. *ring: bone beyond the run on
 * both sides (RING_GAP_MM clear of it) within RING_MM of (px, py). */
static double axial_run(const seg_work *w, int z, double px, double py, bool *ring, double ctr[2])
{
    int nx = w->n[0], ny = w->n[1], bx = -1, by = -1;
    const uint8_t *b = w->bone + (size_t)z * nx * ny;
    double sx = w->spacing[0], sy = w->spacing[1], best = 1e30;
    int rx = (int)ceil(PEG_FIND_MM / sx), ry = (int)ceil(PEG_FIND_MM / sy);
    *ring = false;
    for (int y = (int)lround(py) - ry; y <= (int)lround(py) + ry; y++)
        for (int x = (int)lround(px) - rx; x <= (int)lround(px) + rx; x++) {
            if (x < 0 || y < 0 || x >= nx || y >= ny || !b[y * nx + x]) continue;
            double d = hypot((x - px) * sx, (y - py) * sy);
            if (d <= PEG_FIND_MM && d < best) best = d, bx = x, by = y;
        }
    if (bx < 0) return 0;
    int x0 = bx, x1 = bx, g = (int)ceil(RING_GAP_MM / sx), band = (int)ceil(RING_BAND_MM / sy);
    while (x0 > 0 && b[by * nx + x0 - 1]) x0--;
    while (x1 < nx - 1 && b[by * nx + x1 + 1]) x1++;
    bool lo = false, hi = false;
    for (int y = by - band; y <= by + band; y++) {
        if (y < 0 || y >= ny) continue;
        for (int x = 0; x < nx; x++) {
            if (!b[y * nx + x] || fabs((x - px) * sx) > RING_MM) continue;
            if (x < x0 - g) lo = true;
            if (x > x1 + g) hi = true;
        }
    }
    *ring = lo && hi;
    /* the run's centre; in y the middle of the AP run through it, unless
     * that is longer than the LR run (joined to the atlas' anterior arch) */
    int xc = (x0 + x1) / 2, y0 = by, y1 = by;
    while (y0 > 0 && b[(y0 - 1) * nx + xc]) y0--;
    while (y1 < ny - 1 && b[(y1 + 1) * nx + xc]) y1++;
    ctr[0] = 0.5 * (x0 + x1);
    ctr[1] = (y1 - y0 + 1) * sy <= (x1 - x0 + 1) * sx + 2.0 ? 0.5 * (y0 + y1) : py;
    return (x1 - x0 + 1) * sx;
}

int seg_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Least-squares line through the centres of slices [0, m) with use[j]:
 * x and y (work voxel coords) against z; false with fewer than 3. */
static bool fit_axis(const double (*ctr)[2], const bool *use, int m, double z0, double ab[2][2])
{
    double n = 0, sz = 0, szz = 0, sx[2] = {0, 0}, szx[2] = {0, 0};
    for (int j = 0; j < m; j++)
        if (use[j]) {
            double z = z0 + j;
            n++, sz += z, szz += z * z;
            for (int k = 0; k < 2; k++) sx[k] += ctr[j][k], szx[k] += z * ctr[j][k];
        }
    double den = n * szz - sz * sz;
    if (n < 3 || den <= 0) return false;
    for (int k = 0; k < 2; k++) {
        ab[k][1] = (n * szx[k] - sz * sx[k]) / den;
        ab[k][0] = (sx[k] - ab[k][1] * sz) / n;
    }
    return true;
}

/* Is level v C2 (see above)? The body is read around the centreline in the
 * lower half of the level, then the bone is followed up from the body's
 * centre (the line itself leans toward a lateral mass up there). On success
 * the peg's axis (a line fitted through the body's and the peg's centres),
 * where it starts (the body top), how far it reaches and its radius are kept. */
bool seg_detect_axis(const seg_work *w, const seg_line *L, seg_level *v, bool verbose)
{
    int n = v->hi - v->lo, nz = w->n[2];
    double sx = w->spacing[0], sy = w->spacing[1], sz = w->spacing[2];
    if (n < 3) return false;
    int z0 = (int)lround(L->p[v->lo][2]), zmid = z0 + n / 2, zmax = z0 + (int)ceil(70.0 / sz);
    if (zmax > nz - 1) zmax = nz - 1;
    if (z0 < 0 || zmid >= zmax || zmax - z0 >= 256) return false;
    double run[256], tmp[256], ctr[256][2], q[2];
    bool ring[256], use[256];
    int m = 0, nb = 0;
    for (int z = z0; z <= zmid; z++, m++) {
        int i = z - L->z0;
        i = i < 0 ? 0 : i >= L->n ? L->n - 1 : i;
        run[m] = axial_run(w, z, L->p[i][0], L->p[i][1], &ring[m], ctr[m]);
        tmp[nb++] = run[m];
    }
    qsort(tmp, (size_t)nb, sizeof *tmp, seg_cmp_double);
    double wb = tmp[nb / 2], lim = PEG_REL_MAX * wb;
    if (wb < 8.0) return false; /* no body to rise from */
    /* the body's centre: slices as wide as the body (not a disc, not widened by facets) */
    for (int k = 0; k < 2; k++) {
        nb = 0;
        for (int j = 0; j < m; j++)
            if (fabs(run[j] - wb) <= 0.25 * wb) tmp[nb++] = ctr[j][k];
        qsort(tmp, (size_t)nb, sizeof *tmp, seg_cmp_double);
        q[k] = tmp[nb / 2];
    }
    for (int z = zmid + 1; z <= zmax; z++, m++) {
        run[m] = axial_run(w, z, q[0], q[1], &ring[m], ctr[m]);
        if (run[m] > 0 && run[m] <= 1.25 * wb) q[0] = ctr[m][0], q[1] = ctr[m][1];
    }
    int a = zmid - z0 + 1;
    while (a < m && run[a] >= lim) a++; /* the rest of the body */
    int e = a, ringed = 0;
    while (e < m && run[e] >= PEG_MIN_MM && run[e] < lim) ringed += ring[e], e++;
    double peg = (e - a) * sz;
    bool ok = wb <= BODY_MAX_MM && peg >= PEG_LEN_MM && peg <= 30.0 && 2 * ringed >= e - a &&
              z0 + e - 1 + (int)ceil(4.0 / sz) <= nz - 1; /* the ring above it is in the scan */
    for (int j = e; ok && j < m && (j - e) * sz <= 10.0; j++) ok = run[j] < lim;
    if (verbose)
        sp_log(SP_LOG_DEBUG, "segment: C2 test at %.0f-%.0f mm: body %.0f mm wide, peg %.0f mm (%d of %d slices ringed)%s",
               v->s_lo, v->s_hi, wb, peg, ringed, e - a, ok ? ": C2" : "");
    if (!ok) return false;
    double ab[2][2], pr[256], zt = z0 + a - 0.5, d[3], len;
    for (int j = 0; j < e; j++) use[j] = j >= a || fabs(run[j] - wb) <= 0.25 * wb;
    if (!fit_axis(ctr, use, e, z0, ab)) return false;
    d[0] = ab[0][1] * sx, d[1] = ab[1][1] * sy, d[2] = sz;
    len = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    for (int k = 0; k < 3; k++) v->peg_t[k] = d[k] / len;
    v->peg_p[0] = ab[0][0] + ab[0][1] * zt, v->peg_p[1] = ab[1][0] + ab[1][1] * zt, v->peg_p[2] = zt;
    for (int j = a; j < e; j++) pr[j - a] = run[j];
    qsort(pr, (size_t)(e - a), sizeof *pr, seg_cmp_double);
    v->peg_r = 0.5 * pr[(e - a) / 2];
    v->peg_base = 0; /* peg_p is at the body's top */
    v->peg_len = peg / v->peg_t[2];
    if (verbose)
        sp_log(SP_LOG_DEBUG, "segment: C2 peg %.0f mm long, radius %.1f mm, axis (%.2f %.2f %.2f)", v->peg_len, v->peg_r,
               v->peg_t[0], v->peg_t[1], v->peg_t[2]);
    return true;
}

