/* centreline.c - track the vertebral body column from slice to slice.
 *
 * DESIGN: the column is the bone that stays in place over many slices. For
 * each work slice a "column score" counts bone (>= 110 HU, plus dense bone
 * >= 450 HU counted again, which contrast blood does not reach; in an
 * osteoporotic patient bone plus the marrow it encloses, see column_mask) over a
 * +/-20 mm window in z, box-smoothed in plane; its local maxima in the
 * posterior-central part of the outline are candidates. Dynamic programming
 * picks one candidate per slice, trading score against in-plane jumps, so a
 * lytic body or a disc (little bone) is bridged by its neighbours. The track
 * is then moved to the deepest point of the hole-filled bone with cortex
 * nearby (the body's centre; see to_body: a contrast-filled aorta, bone by
 * HU but without cortex, would carry the column past the last vertebra),
 * smoothed
 * (Gaussian, sigma 12 mm: the spine bends over several vertebrae, never
 * within one) and given arc length and tangents (over +/-5 mm). */
#define SP_SEGMENT_INTERNAL
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCAND 16
#define WINDOW_MM 20.0
#define BOX_MM 10.0
#define MAX_JUMP_MM 40.0
#define HOLE_MAX_MM2 2000.0 /* largest body cross-section (L5 ~50 x 35 mm) with room to spare */
#define MARROW_MIN_HU 60.0  /* a hole's mean: above CSF, cord and fat, below osteoporotic marrow */
#define HOLLOW_SHARE 0.15   /* enclosed sub-threshold marrow per bone voxel that makes bone "hollow" */

typedef struct cand {
    int x, y;
    double score;
} cand;

/* Box-smooths a (nx*ny) int image into out (double) with half-width r. */
static void box2d(const int32_t *in, int nx, int ny, int r, double *out, double *tmp)
{
    for (int y = 0; y < ny; y++) {
        double s = 0;
        int cnt = 0;
        for (int x = -r; x < nx + r; x++) {
            int add = x + r, rem = x - r - 1;
            if (add >= 0 && add < nx) s += in[y * nx + add], cnt++;
            if (rem >= 0 && rem < nx) s -= in[y * nx + rem], cnt--;
            if (x >= 0 && x < nx) tmp[y * nx + x] = cnt ? s / cnt : 0;
        }
    }
    for (int x = 0; x < nx; x++) {
        double s = 0;
        int cnt = 0;
        for (int y = -r; y < ny + r; y++) {
            int add = y + r, rem = y - r - 1;
            if (add >= 0 && add < ny) s += tmp[add * nx + x], cnt++;
            if (rem >= 0 && rem < ny) s -= tmp[rem * nx + x], cnt--;
            if (y >= 0 && y < ny) out[y * nx + x] = cnt ? s / cnt : 0;
        }
    }
}

/* Outline extent of slice z: AP range and LR middle/width. */
static void outline_extent(const seg_work *w, int z, int *ymin, int *ymax, int *xmin, int *xmax)
{
    const uint8_t *b = w->body + (size_t)z * w->n[0] * w->n[1];
    *ymin = w->n[1], *ymax = -1, *xmin = w->n[0], *xmax = -1;
    for (int y = 0; y < w->n[1]; y++)
        for (int x = 0; x < w->n[0]; x++)
            if (b[y * w->n[0] + x]) {
                if (y < *ymin) *ymin = y;
                if (y > *ymax) *ymax = y;
                if (x < *xmin) *xmin = x;
                if (x > *xmax) *xmax = x;
            }
}

/* Picks up to NCAND local maxima of the score in the spine's likely region. */
static int candidates(const seg_work *w, int z, const double *sc, cand *out)
{
    int nx = w->n[0], ny = w->n[1], nc = 0, ymin, ymax, xmin, xmax;
    double sep = 20.0 / w->spacing[0];
    outline_extent(w, z, &ymin, &ymax, &xmin, &xmax);
    if (ymax < 0) return 0;
    for (int y = 1; y < ny - 1; y++)
        for (int x = 1; x < nx - 1; x++) {
            double v = sc[y * nx + x];
            if (v <= 0.5) continue; /* less than half a bone voxel on average */
            if (v < sc[y * nx + x - 1] || v < sc[y * nx + x + 1] || v < sc[(y - 1) * nx + x] || v < sc[(y + 1) * nx + x])
                continue;
            /* Spine prior: posterior 70 % of the outline, near the LR middle
             * (a Gaussian of 0.12 outline widths keeps severe scoliosis in). */
            double yrel = (double)(y - ymin) / (ymax - ymin + 1), xrel = (double)(x - xmin) / (xmax - xmin + 1);
            double lr = (xrel - 0.5) / 0.12;
            double wgt = (yrel > 0.3 ? 1.0 : 0.4) * (0.15 + 0.85 * exp(-0.5 * lr * lr));
            cand c = {x, y, v * wgt};
            /* keep the best NCAND, at least `sep` apart */
            int near = -1;
            for (int i = 0; i < nc; i++)
                if (hypot(out[i].x - x, out[i].y - y) < sep) near = i;
            if (near >= 0) {
                if (c.score > out[near].score) out[near] = c;
                continue;
            }
            if (nc < NCAND) out[nc++] = c;
            else {
                int worst = 0;
                for (int i = 1; i < nc; i++)
                    if (out[i].score < out[worst].score) worst = i;
                if (c.score > out[worst].score) out[worst] = c;
            }
        }
    return nc;
}

/* Marks each 4-connected piece of window mask m (1 bone, 0 enclosed, 2
 * outside) 3 when it has cortex, 4 when not: at least SEG_CORTEX_SHARE of
 * its voxels at SEG_CORTEX_HU or more. A vertebra's cortex and cortical
 * pedicles and arch reach that (measured on the work grid: 3 % of the piece
 * on the 3 mm real CT, 5 % or more on the phantoms); contrast blood, a round
 * homogeneous lumen of 150-250 HU, does not (0 % for the phantom's lumen).
 * The same test as for a fragment at the scan edge (vessels.c). */
static void mark_cortical_pieces(const seg_work *w, int z, int x0, int y0, int bw, int bh, uint8_t *m, int *queue)
{
    int nx = w->n[0], ny = w->n[1];
    const int16_t *h = w->hu + (size_t)z * nx * ny;
    for (int s = 0; s < bw * bh; s++) {
        if (m[s] >= 2) continue;
        int head = 0, tail = 0, cortex = 0;
        m[s] = 5, queue[tail++] = s;
        while (head < tail) {
            int i = queue[head++], x = i % bw, y = i / bw, X = x0 + x, Y = y0 + y;
            if (X >= 0 && Y >= 0 && X < nx && Y < ny && h[Y * nx + X] >= SEG_CORTEX_HU) cortex++;
            int nb[4] = {x > 0 ? i - 1 : -1, x < bw - 1 ? i + 1 : -1, y > 0 ? i - bw : -1, y < bh - 1 ? i + bw : -1};
            for (int k = 0; k < 4; k++)
                if (nb[k] >= 0 && m[nb[k]] < 2) m[nb[k]] = 5, queue[tail++] = nb[k];
        }
        bool has = cortex >= SEG_CORTEX_SHARE * tail;
        for (int k = 0; k < tail; k++) m[queue[k]] = has ? 3 : 4;
    }
}

/* Moves p (work voxel coords) to the body: the point deepest inside the
 * hole-filled bone with cortex (mark_cortical_pieces) within 25 mm of it
 * (the largest inscribed circle; the body is by far the thickest bone of a
 * vertebra, pedicles and laminae are thin). Chamfer distance on a local window. Returns false when no bone is
 * at least 4 mm deep there (a disc, a gap), leaving p for interpolation. */
static bool to_body(const seg_work *w, int z, double p[2], uint8_t *m, float *d, int *stack)
{
    int nx = w->n[0], ny = w->n[1];
    int rx = (int)ceil(45.0 / w->spacing[0]), ry = (int)ceil(45.0 / w->spacing[1]);
    int x0 = (int)p[0] - rx, y0 = (int)p[1] - ry, bw = 2 * rx + 1, bh = 2 * ry + 1, top = 0;
    const uint8_t *b = w->bone + (size_t)z * nx * ny;
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++) {
            int X = x0 + x, Y = y0 + y;
            m[y * bw + x] = (X >= 0 && Y >= 0 && X < nx && Y < ny && b[Y * nx + X]) ? 1 : 0;
        }
    /* fill holes: background reachable from the window border stays 0 */
    for (int i = 0; i < bw * bh; i++) {
        int x = i % bw, y = i / bw;
        if ((x == 0 || y == 0 || x == bw - 1 || y == bh - 1) && !m[i]) m[i] = 2, stack[top++] = i;
    }
    while (top > 0) {
        int i = stack[--top], x = i % bw, y = i / bw;
        int nb[4] = {x > 0 ? i - 1 : -1, x < bw - 1 ? i + 1 : -1, y > 0 ? i - bw : -1, y < bh - 1 ? i + bw : -1};
        for (int k = 0; k < 4; k++)
            if (nb[k] >= 0 && !m[nb[k]]) m[nb[k]] = 2, stack[top++] = nb[k];
    }
    /* chamfer distance (mm) to the outside, two passes */
    double ax = w->spacing[0], ay = w->spacing[1], dg = sqrt(ax * ax + ay * ay);
    for (int i = 0; i < bw * bh; i++) d[i] = m[i] == 2 ? 0.0f : 1e9f;
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++) {
            float *c = &d[y * bw + x];
            if (x > 0) *c = fminf(*c, d[y * bw + x - 1] + (float)ax);
            if (y > 0) *c = fminf(*c, d[(y - 1) * bw + x] + (float)ay);
            if (x > 0 && y > 0) *c = fminf(*c, d[(y - 1) * bw + x - 1] + (float)dg);
            if (x < bw - 1 && y > 0) *c = fminf(*c, d[(y - 1) * bw + x + 1] + (float)dg);
        }
    for (int y = bh - 1; y >= 0; y--)
        for (int x = bw - 1; x >= 0; x--) {
            float *c = &d[y * bw + x];
            if (x < bw - 1) *c = fminf(*c, d[y * bw + x + 1] + (float)ax);
            if (y < bh - 1) *c = fminf(*c, d[(y + 1) * bw + x] + (float)ay);
            if (x < bw - 1 && y < bh - 1) *c = fminf(*c, d[(y + 1) * bw + x + 1] + (float)dg);
            if (x > 0 && y < bh - 1) *c = fminf(*c, d[(y + 1) * bw + x - 1] + (float)dg);
        }
    mark_cortical_pieces(w, z, x0, y0, bw, bh, m, stack);
    double best = 0, bx = 0, by = 0;
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++) {
            double dx = (x0 + x - p[0]) * ax, dy = (y0 + y - p[1]) * ay;
            if (dx * dx + dy * dy > 25.0 * 25.0 || m[y * bw + x] != 3) continue;
            int X = x0 + x, Y = y0 + y;
            /* the centre must be marrow, not soft tissue inside a ring of bone
             * (the thoracic inlet, the pelvis) */
            if (X < 0 || Y < 0 || X >= nx || Y >= ny || w->hu[((size_t)z * ny + Y) * nx + X] < 90) continue;
            if (d[y * bw + x] > best) best = d[y * bw + x], bx = X, by = Y;
        }
    if (best < 4.0) return false;
    p[0] = bx, p[1] = by;
    return true;
}

/* The solid bone of slice z: bone plus the holes it encloses that are no
 * larger than a vertebral body's cross-section and whose mean is marrow
 * (>= MARROW_MIN_HU: the canal, also ringed by bone, holds CSF, cord and
 * fat). Returns the number of hole voxels added. */
static size_t solid_slice(const seg_work *w, int z, uint8_t *out, int *queue)
{
    int nx = w->n[0], ny = w->n[1];
    const uint8_t *b = w->bone + (size_t)z * nx * ny;
    const int16_t *h = w->hu + (size_t)z * nx * ny;
    double cap = HOLE_MAX_MM2 / (w->spacing[0] * w->spacing[1]);
    size_t added = 0;
    for (int i = 0; i < nx * ny; i++) out[i] = b[i] ? 1 : 0;
    for (int s = 0; s < nx * ny; s++) {
        if (out[s]) continue;
        /* flood one background component (marked 2); note whether it reaches
         * the slice border, its size and its mean HU */
        int head = 0, tail = 0;
        bool border = false;
        double sum = 0;
        out[s] = 2, queue[tail++] = s;
        while (head < tail) {
            int i = queue[head++], x = i % nx, y = i / nx;
            sum += h[i];
            if (x == 0 || y == 0 || x == nx - 1 || y == ny - 1) border = true;
            int nb[4] = {x > 0 ? i - 1 : -1, x < nx - 1 ? i + 1 : -1, y > 0 ? i - nx : -1, y < ny - 1 ? i + nx : -1};
            for (int k = 0; k < 4; k++)
                if (nb[k] >= 0 && !out[nb[k]]) out[nb[k]] = 2, queue[tail++] = nb[k];
        }
        if (border || tail > cap || sum < MARROW_MIN_HU * tail) continue;
        for (int k = 0; k < tail; k++) out[queue[k]] = 3;
        added += (size_t)tail;
    }
    for (int i = 0; i < nx * ny; i++) out[i] = out[i] == 1 || out[i] == 3;
    return added;
}

/* What the column score counts: bone, or in a patient whose marrow is mostly
 * below the bone threshold (osteoporosis) the solid bone. Such a body is a
 * thin shell in the bone mask, scores below its own posterior elements and
 * the track ran up to 20 mm behind it; counted solid, it is the thickest
 * column again. Only then: on dense bone the fill changes little but moves
 * the track's candidates, and the body-centre search that follows is not
 * indifferent to where it starts (measured on the real CT). Returns a
 * per-voxel mask, or NULL when bone alone is counted or out of memory. */
static uint8_t *column_mask(const seg_work *w)
{
    size_t nxy = (size_t)w->n[0] * w->n[1], nb = 0, added = 0;
    uint8_t *solid = malloc(nxy * (size_t)w->n[2]);
    int *queue = malloc(nxy * sizeof *queue);
    if (!solid || !queue) {
        free(solid), free(queue);
        return NULL;
    }
    for (int z = 0; z < w->n[2]; z++) added += solid_slice(w, z, solid + (size_t)z * nxy, queue);
    free(queue);
    for (size_t i = 0; i < nxy * (size_t)w->n[2]; i++) nb += w->bone[i];
    if ((double)added > HOLLOW_SHARE * (double)nb) return solid;
    free(solid);
    return NULL;
}

static void smooth_track(double (*p)[3], int n, double sigma_samples)
{
    double(*tmp)[3] = malloc((size_t)n * sizeof *tmp);
    int r = (int)ceil(3 * sigma_samples);
    if (!tmp) return;
    for (int i = 0; i < n; i++) {
        double s[2] = {0, 0}, ws = 0;
        for (int k = -r; k <= r; k++) {
            int j = i + k;
            if (j < 0 || j >= n) continue;
            double wt = exp(-0.5 * k * k / (sigma_samples * sigma_samples));
            s[0] += wt * p[j][0], s[1] += wt * p[j][1], ws += wt;
        }
        tmp[i][0] = s[0] / ws, tmp[i][1] = s[1] / ws, tmp[i][2] = p[i][2];
    }
    memcpy(p, tmp, (size_t)n * sizeof *tmp);
    free(tmp);
}

sp_status seg_find_centreline(const seg_work *w, seg_line *line, sp_err *err)
{
    int nx = w->n[0], ny = w->n[1], nz = w->n[2], R = (int)ceil(WINDOW_MM / w->spacing[2]);
    size_t nxy = (size_t)nx * ny;
    int32_t *acc = calloc(nxy, sizeof *acc);
    double *sc = malloc(nxy * sizeof *sc), *tmp = malloc(nxy * sizeof *tmp);
    cand(*cs)[NCAND] = malloc((size_t)nz * sizeof *cs);
    int *ncs = calloc((size_t)nz, sizeof *ncs), *from = malloc((size_t)nz * NCAND * sizeof *from);
    double *cost = malloc((size_t)nz * NCAND * sizeof *cost);
    uint8_t *solid = column_mask(w); /* NULL: count bone */
    sp_status st = SP_OK;
    if (!acc || !sc || !tmp || !cs || !ncs || !from || !cost) {
        st = sp_fail(err, SP_ENOMEM, "out of memory tracking the spine");
        goto done;
    }
    if (nz > SEG_MAX_SAMPLES) {
        st = sp_fail(err, SP_EUNSUPPORTED, "scan has %d work slices, more than %d", nz, SEG_MAX_SAMPLES);
        goto done;
    }
    /* Sliding window over z of bone (or solid bone) + dense bone counts. */
    const uint8_t *col = solid ? solid : w->bone;
    for (int z = -R; z < nz; z++) {
        int add = z + R, rem = z - R - 1;
        if (add < nz) {
            const int16_t *h = w->hu + (size_t)add * nxy;
            const uint8_t *b = w->bone + (size_t)add * nxy, *cb = col + (size_t)add * nxy;
            for (size_t i = 0; i < nxy; i++) acc[i] += cb[i] + (b[i] && h[i] >= SEG_DENSE_HU);
        }
        if (rem >= 0) {
            const int16_t *h = w->hu + (size_t)rem * nxy;
            const uint8_t *b = w->bone + (size_t)rem * nxy, *cb = col + (size_t)rem * nxy;
            for (size_t i = 0; i < nxy; i++) acc[i] -= cb[i] + (b[i] && h[i] >= SEG_DENSE_HU);
        }
        if (z < 0) continue;
        box2d(acc, nx, ny, (int)ceil(BOX_MM / w->spacing[0]), sc, tmp);
        ncs[z] = candidates(w, z, sc, cs[z]);
    }
    /* Scores relative to the best in the scan, so the jump cost means the same
     * at any resolution: a 10 mm jump costs half the best score. */
    double smax = 0;
    for (int z = 0; z < nz; z++)
        for (int c = 0; c < ncs[z]; c++) smax = fmax(smax, cs[z][c].score);
    for (int z = 0; z < nz; z++)
        for (int c = 0; c < ncs[z]; c++) cs[z][c].score /= smax > 0 ? smax : 1;
    /* Dynamic programming over slices. */
    double best_total = 1e300;
    int best_end = -1, zstart = -1;
    for (int z = 0; z < nz; z++) {
        for (int c = 0; c < ncs[z]; c++) {
            double bestc = -cs[z][c].score;
            int arg = -1;
            if (z > 0 && ncs[z - 1] > 0) {
                for (int q = 0; q < ncs[z - 1]; q++) {
                    double d = hypot((cs[z][c].x - cs[z - 1][q].x) * w->spacing[0], (cs[z][c].y - cs[z - 1][q].y) * w->spacing[1]);
                    if (d > MAX_JUMP_MM) continue;
                    double v = cost[(z - 1) * NCAND + q] - cs[z][c].score + 0.005 * d * d;
                    if (arg < 0 || v < bestc) bestc = v, arg = q;
                }
            }
            cost[z * NCAND + c] = bestc;
            from[z * NCAND + c] = arg;
        }
    }
    for (int c = 0; c < ncs[nz - 1]; c++)
        if (cost[(nz - 1) * NCAND + c] < best_total) best_total = cost[(nz - 1) * NCAND + c], best_end = c;
    if (best_end < 0) {
        /* the top slice has no candidate: end at the best slice that has one */
        for (int z = nz - 1; z >= 0 && best_end < 0; z--)
            for (int c = 0; c < ncs[z]; c++)
                if (best_end < 0 || cost[z * NCAND + c] < best_total) best_total = cost[z * NCAND + c], best_end = c, zstart = z;
    } else {
        zstart = nz - 1;
    }
    if (best_end < 0) {
        st = sp_fail(err, SP_EUNSUPPORTED, "no bone column found: is this a CT of the spine?");
        goto done;
    }
    /* Backtrack from the top; the track ends where the chain breaks. */
    int z = zstart, c = best_end, top = zstart, bottom = zstart;
    double(*p)[3] = line->p;
    while (z >= 0 && c >= 0) {
        p[z][0] = cs[z][c].x, p[z][1] = cs[z][c].y, p[z][2] = z;
        bottom = z;
        c = from[z * NCAND + c];
        z--;
    }
    line->z0 = bottom;
    line->n = top - bottom + 1;
    memmove(p, p + bottom, (size_t)line->n * sizeof *p);
    {
        int rx = (int)ceil(45.0 / w->spacing[0]), ry = (int)ceil(45.0 / w->spacing[1]);
        size_t win = (size_t)(2 * rx + 1) * (2 * ry + 1);
        uint8_t *m = malloc(win);
        float *dist = malloc(win * sizeof *dist);
        int *stk = malloc(win * sizeof *stk);
        bool *ok = malloc((size_t)line->n);
        if (!m || !dist || !stk || !ok) {
            free(m), free(dist), free(stk), free(ok);
            st = sp_fail(err, SP_ENOMEM, "out of memory");
            goto done;
        }
        for (int i = 0; i < line->n; i++) ok[i] = to_body(w, (int)p[i][2], p[i], m, dist, stk);
        /* The column ends where the last body does: drop track ends in soft tissue. */
        int first = 0, last = line->n - 1;
        while (first < line->n && !ok[first]) first++;
        while (last > first && !ok[last]) last--;
        if (first > 0 || last < line->n - 1) {
            line->n = last >= first ? last - first + 1 : 0;
            line->z0 += first;
            memmove(p, p + first, (size_t)line->n * sizeof *p);
            memmove(ok, ok + first, (size_t)line->n * sizeof *ok);
        }
        /* slices without a body (discs): interpolate between the nearest found */
        for (int i = 0; i < line->n; i++) {
            if (ok[i]) continue;
            int a = i - 1, b = i + 1;
            while (a >= 0 && !ok[a]) a--;
            while (b < line->n && !ok[b]) b++;
            for (int k = 0; k < 2; k++) {
                if (a >= 0 && b < line->n) p[i][k] = p[a][k] + (p[b][k] - p[a][k]) * (i - a) / (double)(b - a);
                else if (a >= 0) p[i][k] = p[a][k];
                else if (b < line->n) p[i][k] = p[b][k];
            }
        }
        free(m), free(dist), free(stk), free(ok);
    }
    smooth_track(p, line->n, 10.0 / w->spacing[2]);
    /* Tangents (mm space) and arc length. */
    int half = (int)ceil(5.0 / w->spacing[2]); /* tangent over +/-5 mm */
    for (int i = 0; i < line->n; i++) {
        int a = i - half > 0 ? i - half : 0, b = i + half < line->n - 1 ? i + half : line->n - 1;
        double d[3] = {(p[b][0] - p[a][0]) * w->spacing[0], (p[b][1] - p[a][1]) * w->spacing[1],
                       (p[b][2] - p[a][2]) * w->spacing[2]};
        double len = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        for (int k = 0; k < 3; k++) line->t[i][k] = len > 0 ? d[k] / len : (k == 2);
        if (i == 0) line->s[i] = 0;
        else {
            double e[3] = {(p[i][0] - p[i - 1][0]) * w->spacing[0], (p[i][1] - p[i - 1][1]) * w->spacing[1],
                           (p[i][2] - p[i - 1][2]) * w->spacing[2]};
            line->s[i] = line->s[i - 1] + sqrt(e[0] * e[0] + e[1] * e[1] + e[2] * e[2]);
        }
    }
    if (line->n < 8) st = sp_fail(err, SP_EUNSUPPORTED, "spine column too short (%d slices) to segment", line->n);
done:
    free(acc);
    free(sc);
    free(tmp);
    free(cs);
    free(ncs);
    free(from);
    free(cost);
    free(solid);
    return st;
}
