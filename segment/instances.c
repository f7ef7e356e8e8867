/* instances.c - one label per vertebra on the canonical native grid.
 *
 * DESIGN: each vertebra is seeded by the bone inside its body: voxels of at
 * least 110 HU within 15 mm of the centreline (the body's walls too, which
 * matters when its marrow is below the threshold) and at least 1.5 mm inside the
 * two disc planes (point + tangent) that bound it. A multi-source
 * shortest-path growth then walks the bone (>= 110 HU, 6-connected) inside a
 * cylinder of 50 mm around the centreline (rib shafts and iliac crests stay out); every bone voxel takes the label
 * of the seed it is geodesically nearest to, so posterior elements follow
 * their own pedicles even where a facet joint or an osteophyte touches the
 * neighbour. Behind the body the distance is in mm and a step toward the
 * head costs ARCH_CRANIAL_COST times its length: an arch hangs down from its
 * pedicles (laminae, inferior articular processes and spinous process reach
 * the disc below), so the level below, whose arch touches it there, must not
 * reach it first by climbing (grow, below). The growth is a Dijkstra search
 * whose ties go to the lower voxel index, so the result is the same at any
 * thread count. Seeding is parallel over slices (each writes its own slice);
 * the growth is serial. */
#define SP_SEGMENT_INTERNAL
#include "internal.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sp_omp.h"

#define SEED_RADIUS_MM 15.0
#define SEED_MARGIN_MM 1.5
#define ROI_RADIUS_MM 50.0
#define BAND 254 /* marks spinous-band bone before phase 2 of the growth */
#define SPINOUS_HALF_MM 15.0  /* half width of the midline band behind the cylinder */
#define SPINOUS_REACH_MM 90.0 /* how far behind the body centre a spinous process may reach */
#define ARCH_BEHIND_MM 12.0   /* behind the centreline by this much, the growth is directional (grow) */
#define ARCH_CRANIAL_COST 4.0 /* cost per mm of a step toward the head there */

/* Where the pedicles leave the body: seeds there too, so that each arch is
 * reached from its own pedicles before the neighbour's facet joint hands it
 * over (measured on the 3 mm real CT: L5 took L4's inferior articular
 * processes). dx, dy: mm from the centreline (+y posterior). */
static bool in_pedicle_zone(double dx, double dy)
{
    double r = sqrt(dx * dx + dy * dy);
    return dy >= 12.0 && r <= 28.0 && fabs(dx) >= 6.0 && fabs(dx) <= 22.0;
}

/* The midline band behind the body where spinous processes reach beyond the
 * cylinder (a lumbar tip lies 60-70 mm behind the body centre); no rib or
 * iliac crest lies there. dx, dy: mm from the centreline (+y posterior). */
static bool in_spinous_band(double dx, double dy)
{
    return dy > 0 && fabs(dx) <= SPINOUS_HALF_MM && dx * dx + dy * dy <= SPINOUS_REACH_MM * SPINOUS_REACH_MM;
}

/* Centreline point (canonical voxel coords) and tangent at canonical slice z;
 * false outside the line. */
static bool line_at(const seg_canon *c, const seg_work *w, const seg_line *L, int z, double p[3], double t[3])
{
    double wz = (z - (w->f[2] - 1) / 2.0) / w->f[2];
    double fi = wz - L->z0;
    if (fi < -0.5 || fi > L->n - 0.5) return false;
    if (fi < 0) fi = 0;
    if (fi > L->n - 1) fi = L->n - 1;
    int i0 = (int)floor(fi), i1 = i0 + 1 < L->n ? i0 + 1 : i0;
    double a = fi - i0;
    for (int k = 0; k < 3; k++) {
        double wp = (1 - a) * L->p[i0][k] + a * L->p[i1][k];
        p[k] = wp * w->f[k] + (w->f[k] - 1) / 2.0;
        t[k] = (1 - a) * L->t[i0][k] + a * L->t[i1][k];
    }
    (void)c;
    return true;
}

/* Disc plane k (centreline sample d) in canonical mm: point and normal. */
typedef struct plane {
    double p[3], n[3];
} plane;

/* The plane of the disc at arc length s. The lumbosacral disc (refine) is
 * fitted to its own density minima: it is wedge-shaped and tilted more than
 * the smoothed curve can follow (measured: L5 Dice on the real CT 0.79 ->
 * 0.84). Elsewhere the curve's tangent is better: fitting thin or diseased
 * discs the same way lowered Dice on the phantoms. */
static void disc_plane(const seg_canon *c, const seg_work *w, const seg_line *L, double s, bool refine, plane *pl)
{
    double p[3], t[3];
    if (refine) seg_disc_plane(w, L, s, p, t);
    else seg_line_at_s(L, s, p, t);
    for (int k = 0; k < 3; k++) {
        pl->p[k] = (p[k] * w->f[k] + (w->f[k] - 1) / 2.0) * c->spacing[k];
        pl->n[k] = t[k];
    }
}

static double signed_dist(const plane *p, const double X[3])
{
    return (X[0] - p->p[0]) * p->n[0] + (X[1] - p->p[1]) * p->n[1] + (X[2] - p->p[2]) * p->n[2];
}

/* Level index of canonical mm point X (number of planes below it), and its
 * distance to the nearest bounding plane. */
static int level_of(const plane *pl, int npl, const double X[3], double *margin)
{
    int m = 0;
    double best = 1e30;
    for (int k = 0; k < npl; k++) {
        double d = (X[0] - pl[k].p[0]) * pl[k].n[0] + (X[1] - pl[k].p[1]) * pl[k].n[1] + (X[2] - pl[k].p[2]) * pl[k].n[2];
        if (d > 0) m++;
        if (fabs(d) < best) best = fabs(d);
    }
    *margin = best;
    return m;
}

/* The 110 HU growth threshold takes in surface voxels that hold only a
 * sliver of cortex (partial volume). A voxel belongs to the bone when its
 * centre is inside it, i.e. when it is at least half bone: HU at least half
 * way between soft tissue (50 HU) and the densest bone next to it, where that
 * is cortex (>= 400 HU). One layer of surface voxels below that is removed.
 * Not on coarse grids (> 2 mm in plane): there the cortex is thinner than a
 * voxel, its partial-volume peak is not the bone's density, and the rule
 * would strip real bone (measured: Dice against the 3 mm reference fell). Parallel over slices;
 * the decisions read lab and write a separate mask, so order does not matter. */
static void trim_surface(const seg_canon *c, uint8_t *lab)
{
    int nx = c->n[0], ny = c->n[1], nz = c->n[2];
    size_t nxy = (size_t)nx * ny;
    uint8_t *drop = calloc(nxy * nz, 1);
    const int16_t *hu = c->hu;
    if (!drop) return;
    if (c->spacing[0] > 2.0 || c->spacing[1] > 2.0) { /* see below */
        free(drop);
        return;
    }
    /* omp: iteration z writes drop[z*nxy .. (z+1)*nxy) only; reads lab and hu. */
    SP_OMP(parallel for default(none) shared(lab, drop, hu, nx, ny, nz, nxy) schedule(static))
    for (int z = 0; z < nz; z++)
        for (int y = 0; y < ny; y++)
            for (int x = 0; x < nx; x++) {
                size_t i = (size_t)z * nxy + (size_t)y * nx + x;
                if (!lab[i]) continue;
                bool surface = (x > 0 && !lab[i - 1]) || (x < nx - 1 && !lab[i + 1]) || (y > 0 && !lab[i - nx]) ||
                               (y < ny - 1 && !lab[i + nx]) || (z > 0 && !lab[i - nxy]) || (z < nz - 1 && !lab[i + nxy]);
                if (!surface) continue;
                int mx = hu[i];
                for (int dz = -1; dz <= 1; dz++)
                    for (int dy = -1; dy <= 1; dy++)
                        for (int dx = -1; dx <= 1; dx++) {
                            int X = x + dx, Y = y + dy, Z = z + dz;
                            if (X < 0 || Y < 0 || Z < 0 || X >= nx || Y >= ny || Z >= nz) continue;
                            int h = hu[(size_t)Z * nxy + (size_t)Y * nx + X];
                            if (h > mx) mx = h;
                        }
                if (mx >= 400 && hu[i] < 0.5 * (mx + 50)) drop[i] = 1;
            }
    for (size_t i = 0; i < nxy * nz; i++)
        if (drop[i]) lab[i] = 0;
    free(drop);
}

/* The 6-connected neighbours of voxel p inside the grid, in a fixed order. */
static int neighbours6(const seg_canon *c, size_t p, size_t nb[6])
{
    int nx = c->n[0], ny = c->n[1], nz = c->n[2];
    size_t nxy = (size_t)nx * ny;
    int x = (int)(p % nx), y = (int)((p / nx) % ny), z = (int)(p / nxy), k = 0;
    if (x > 0) nb[k++] = p - 1;
    if (x < nx - 1) nb[k++] = p + 1;
    if (y > 0) nb[k++] = p - nx;
    if (y < ny - 1) nb[k++] = p + nx;
    if (z > 0) nb[k++] = p - nxy;
    if (z < nz - 1) nb[k++] = p + nxy;
    return k;
}

/* Binary heap of (cost, voxel) for the growth; ties go to the lower index. */
typedef struct heap_item {
    float d;
    uint32_t i;
} heap_item;
typedef struct heap {
    heap_item *a;
    size_t n, cap;
} heap;

static bool heap_less(heap_item x, heap_item y) { return x.d < y.d || (x.d == y.d && x.i < y.i); }

static bool heap_push(heap *h, heap_item x)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 4096;
        heap_item *a = realloc(h->a, cap * sizeof *a);
        if (!a) return false;
        h->a = a, h->cap = cap;
    }
    size_t k = h->n++;
    while (k > 0 && heap_less(x, h->a[(k - 1) / 2])) h->a[k] = h->a[(k - 1) / 2], k = (k - 1) / 2;
    h->a[k] = x;
    return true;
}

static heap_item heap_pop(heap *h)
{
    heap_item top = h->a[0], x = h->a[--h->n];
    size_t k = 0;
    for (;;) {
        size_t m = k, l = 2 * k + 1, r = l + 1;
        heap_item best = x;
        if (l < h->n && heap_less(h->a[l], best)) m = l, best = h->a[l];
        if (r < h->n && heap_less(h->a[r], best)) m = r, best = h->a[r];
        if (m == k) break;
        h->a[k] = h->a[m], k = m;
    }
    if (h->n) h->a[k] = x;
    return top;
}

/* Grows the labels (2..BAND-1) into the voxels marked region (6-connected),
 * each voxel taking the label it is nearest to. In front of ARCH_BEHIND_MM
 * behind the centreline (cy: its y per slice, NAN off the line) a step costs
 * the in-plane spacing whatever its direction (the breadth-first order that
 * was measured on the bodies); behind it, its length in mm, times
 * ARCH_CRANIAL_COST toward the head (canonical +z). Measured: the share of
 * the truth's lamina, articular and spinous voxels labelled with their own
 * level, normal phantom L3 0.51 -> 0.61, L5 0.49 -> 0.83; held-out blastic
 * L3 0.27 -> 0.63 (its spinous process its own). Not for a level whose arch
 * is seeded in the midline (floating: its pedicles are gone) nor its two
 * neighbours: from a seed at the arch's middle, the upper half of its own
 * laminae is uphill and the level above, coming down, took it (held-out
 * lytic T8: posterolateral involvement 3 -> 1). */
/* The box holding every voxel a growth can reach or start from: its seeds
 * (labels 2..BAND-1) and its region. Distances are kept for the box alone
 * (a float per voxel of the whole grid was 640 MB on a 512x512x608 series,
 * most of it air); voxels outside it are never reached. */
typedef struct grow_box {
    int lo[3], n[3];
} grow_box;

static bool grow_box_find(const seg_canon *c, const uint8_t *lab, uint8_t region, grow_box *b)
{
    int nx = c->n[0], ny = c->n[1], nz = c->n[2], hi[3] = {-1, -1, -1};
    b->lo[0] = nx, b->lo[1] = ny, b->lo[2] = nz;
    for (int z = 0; z < nz; z++)
        for (int y = 0; y < ny; y++) {
            const uint8_t *row = lab + ((size_t)z * ny + y) * nx;
            for (int x = 0; x < nx; x++)
                if (row[x] == region || (row[x] >= 2 && row[x] < BAND)) {
                    if (x < b->lo[0]) b->lo[0] = x;
                    if (x > hi[0]) hi[0] = x;
                    if (y < b->lo[1]) b->lo[1] = y;
                    if (y > hi[1]) hi[1] = y;
                    if (z < b->lo[2]) b->lo[2] = z;
                    if (z > hi[2]) hi[2] = z;
                }
        }
    for (int a = 0; a < 3; a++) b->n[a] = hi[a] - b->lo[a] + 1;
    return hi[0] >= 0;
}

/* Index in the box of grid voxel (x, y, z), or -1 outside it. */
static ptrdiff_t grow_box_index(const grow_box *b, int x, int y, int z)
{
    x -= b->lo[0], y -= b->lo[1], z -= b->lo[2];
    if (x < 0 || y < 0 || z < 0 || x >= b->n[0] || y >= b->n[1] || z >= b->n[2]) return -1;
    return ((ptrdiff_t)z * b->n[1] + y) * b->n[0] + x;
}

static sp_status grow(const seg_canon *c, const double *cy, const bool *floating, int nlv, uint8_t *lab, uint8_t region)
{
    int nx = c->n[0], ny = c->n[1];
    size_t nxy = (size_t)nx * ny;
    grow_box box;
    if (!grow_box_find(c, lab, region, &box)) return SP_OK;
    size_t nbox = (size_t)box.n[0] * box.n[1] * box.n[2];
    float *dist = malloc(nbox * sizeof *dist);
    heap h = {NULL, 0, 0};
    sp_status st = dist ? SP_OK : SP_ENOMEM;
    bool plain[SP_SEG_MAX_VERT + 2] = {false};
    for (int k = 0; k < nlv; k++)
        plain[k] = floating[k] || (k > 0 && floating[k - 1]) || (k + 1 < nlv && floating[k + 1]);
    for (size_t j = 0; st == SP_OK && j < nbox; j++) dist[j] = INFINITY;
    /* seeds in grid order (the heap breaks ties by grid index) */
    for (int z = box.lo[2]; st == SP_OK && z < box.lo[2] + box.n[2]; z++)
        for (int y = box.lo[1]; st == SP_OK && y < box.lo[1] + box.n[1]; y++)
            for (int x = box.lo[0]; x < box.lo[0] + box.n[0]; x++) {
                size_t i = (size_t)z * nxy + (size_t)y * nx + x;
                if (lab[i] >= 2 && lab[i] < BAND) {
                    dist[grow_box_index(&box, x, y, z)] = 0;
                    if (!heap_push(&h, (heap_item){0.f, (uint32_t)i})) {
                        st = SP_ENOMEM;
                        break;
                    }
                }
            }
    const double *sp = c->spacing;
    while (st == SP_OK && h.n) {
        heap_item it = heap_pop(&h);
        size_t p = it.i;
        if (it.d > dist[grow_box_index(&box, (int)(p % nx), (int)((p / nx) % ny), (int)(p / nxy))]) continue; /* superseded */
        size_t nb[6];
        int nn = neighbours6(c, p, nb);
        for (int j = 0; j < nn; j++) {
            size_t q = nb[j];
            int zq = (int)(q / nxy), yq = (int)((q / nx) % ny);
            ptrdiff_t bq = grow_box_index(&box, (int)(q % nx), yq, zq);
            if (bq < 0) continue; /* neither seed nor region */
            float *dq = &dist[bq];
            if (*dq <= it.d || (lab[q] != region && *dq == INFINITY)) continue;
            int k = lab[p] - 2;
            bool behind = !isnan(cy[zq]) && (yq - cy[zq]) * sp[1] >= ARCH_BEHIND_MM && !(k < nlv && plain[k]);
            size_t step = q > p ? q - p : p - q;
            double len = !behind ? sp[0] : step == 1 ? sp[0] : step == (size_t)nx ? sp[1] : sp[2];
            if (behind && step == nxy && q > p) len *= ARCH_CRANIAL_COST;
            float nd = (float)(it.d + len);
            if (nd < *dq) {
                *dq = nd, lab[q] = lab[p];
                if (!heap_push(&h, (heap_item){nd, (uint32_t)q})) st = SP_ENOMEM;
            }
        }
    }
    free(h.a);
    free(dist);
    return st;
}

/* Unclaimed bone: the growth region (lab == 1), or bone of the spinous band
 * measured from p (the region at the edge slice may lie past the line's end). */
static bool unclaimed(const seg_canon *c, const uint8_t *lab, size_t i, int x, int y, const double p[3])
{
    if (lab[i] == 1) return true;
    if (lab[i] != 0 || c->hu[i] < SEG_BONE_HU) return false;
    double dx = (x - p[0]) * c->spacing[0], dy = (y - p[1]) * c->spacing[1];
    return in_spinous_band(dx, dy);
}

/* Unclaimed bone 6-connected to slice z0 becomes mark, if it is at least
 * 100 mm3; p is the centreline point nearest that slice; queue is scratch of
 * one entry per voxel. Returns whether it was kept. */
static bool claim_edge(const seg_canon *c, uint8_t *lab, int z0, const double p0[3], uint8_t mark, uint32_t *queue)
{
    int nx = c->n[0], ny = c->n[1];
    size_t nxy = (size_t)nx * ny, head = 0, tail = 0;
    for (size_t i = (size_t)z0 * nxy; i < (size_t)(z0 + 1) * nxy; i++)
        if (unclaimed(c, lab, i, (int)(i % nx), (int)((i / nx) % ny), p0)) lab[i] = mark, queue[tail++] = (uint32_t)i;
    while (head < tail) {
        size_t p = queue[head++];
        size_t nb[6];
        int k = neighbours6(c, p, nb);
        for (int j = 0; j < k; j++)
            if (unclaimed(c, lab, nb[j], (int)(nb[j] % nx), (int)((nb[j] / nx) % ny), p0))
                lab[nb[j]] = mark, queue[tail++] = (uint32_t)nb[j];
    }
    bool keep = tail * c->spacing[0] * c->spacing[1] * c->spacing[2] >= 100.0;
    if (!keep)
        for (size_t q = 0; q < tail; q++) lab[queue[q]] = 0;
    return keep;
}

/* The 26-connected neighbours of voxel p inside the grid, in a fixed order. */
static int neighbours26(const seg_canon *c, size_t p, size_t nb[26])
{
    int nx = c->n[0], ny = c->n[1], nz = c->n[2], k = 0;
    size_t nxy = (size_t)nx * ny;
    int x = (int)(p % nx), y = (int)((p / nx) % ny), z = (int)(p / nxy);
    for (int dz = -1; dz <= 1; dz++)
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                int X = x + dx, Y = y + dy, Z = z + dz;
                if ((dx | dy | dz) == 0 || X < 0 || Y < 0 || Z < 0 || X >= nx || Y >= ny || Z >= nz) continue;
                nb[k++] = (size_t)Z * nxy + (size_t)Y * nx + X;
            }
    return k;
}

/* Looks at the 6 neighbours of voxel p: true when one is a seed of another
 * level than m; unseeded bone (lab 1) not yet seen is queued on rq. */
static bool step_meets_other(const seg_canon *c, const uint8_t *lab, uint8_t *seen, size_t p, uint8_t m, int nlv,
                             uint32_t **rq, size_t *tail, size_t *rcap)
{
    size_t nb[6];
    int k = neighbours6(c, p, nb);
    for (int j = 0; j < k; j++) {
        uint8_t o = lab[nb[j]];
        if (o >= 2 && o < 2 + nlv && o != m) return true;
        if (o != 1 || seen[nb[j]]) continue;
        if (*tail == *rcap) {
            uint32_t *g = realloc(*rq, (*rcap * 2 + 64) * sizeof **rq);
            if (!g) return false; /* out of memory: the piece stays a seed */
            *rq = g, *rcap = *rcap * 2 + 64;
        }
        seen[nb[j]] = 2, (*rq)[(*tail)++] = (uint32_t)nb[j];
    }
    return false;
}

/* Whether seed piece q[0..n) of level mark m reaches a seed of another
 * level through unseeded bone (lab 1) within depth steps (6-connected).
 * seen: 0 outside; the region voxels it visits are reset before it returns. */
static bool piece_meets_other(const seg_canon *c, const uint8_t *lab, uint8_t *seen, const uint32_t *q, size_t n,
                              uint8_t m, int nlv, int depth, uint32_t **rq, size_t *rcap)
{
    size_t head = 0, tail = 0;
    bool met = false;
    for (size_t h = 0; h < n && !met; h++) met = step_meets_other(c, lab, seen, q[h], m, nlv, rq, &tail, rcap);
    for (int d = 1; d < depth && !met && head < tail; d++)
        for (size_t lvl_end = tail; head < lvl_end && !met; head++)
            met = step_meets_other(c, lab, seen, (*rq)[head], m, nlv, rq, &tail, rcap);
    for (size_t h = 0; h < tail; h++) seen[(*rq)[h]] = 0;
    return met;
}

/* A level's body seed is its own bone between its two disc planes. Where a
 * body is tilted against the plane (a collapsed, translated level), the
 * neighbour's endplate corner crosses the plane and is seeded as this level
 * (translation T12: 20 seed voxels of its anterior-superior corner seeded
 * as T11). Such a piece is not connected (26-connected, body seeds only) to
 * the level's largest piece, and it meets the neighbour's seeds through the
 * unseeded bone of the plane's margin band (2 x SEED_MARGIN_MM): it becomes
 * plain growth region (lab 1) and goes to the bone it is part of. Specks of
 * dense trabecular bone in hollow marrow (osteoporosis) are separate pieces
 * too, but meet nothing and stay seeds (demoting them cost osteoporotic T7
 * 0.04 body Dice). Pedicle seeds are pieces of their own by design and are
 * not judged. Serial, index order: independent of threads. */
static sp_status keep_main_seed_pieces(const seg_canon *c, uint8_t *lab, const uint8_t *body, int nlv)
{
    size_t nvox = (size_t)c->n[0] * c->n[1] * c->n[2], nseed = 0, rcap = 0;
    for (size_t i = 0; i < nvox; i++) nseed += body[i] && lab[i] >= 2 && lab[i] < 2 + nlv;
    uint32_t *q = malloc((nseed ? nseed : 1) * sizeof *q), *rq = NULL;
    uint8_t *seen = calloc(nvox, 1);
    size_t best[SP_SEG_MAX_VERT + 2] = {0}, best_at[SP_SEG_MAX_VERT + 2] = {0};
    if (!q || !seen) {
        free(q), free(seen);
        return SP_ENOMEM;
    }
    double smin = fmin(c->spacing[0], fmin(c->spacing[1], c->spacing[2]));
    int depth = (int)ceil(2.0 * SEED_MARGIN_MM / smin) + 1;
    /* one labelling pass: the pieces lie in q one after another, starts[]
     * gives where each begins (index order, so independent of threads) */
    size_t tail = 0, npieces = 0, cap = 0, *starts = NULL;
    sp_status st = SP_OK;
    for (size_t i = 0; i < nvox && st == SP_OK; i++) {
        uint8_t m = lab[i];
        if (!body[i] || m < 2 || m >= 2 + nlv || seen[i]) continue;
        size_t start = tail;
        seen[i] = 1, q[tail++] = (uint32_t)i;
        for (size_t h = start; h < tail; h++) {
            size_t nb[26];
            int k = neighbours26(c, q[h], nb);
            for (int j = 0; j < k; j++)
                if (body[nb[j]] && lab[nb[j]] == m && !seen[nb[j]]) seen[nb[j]] = 1, q[tail++] = (uint32_t)nb[j];
        }
        if (tail - start > best[m]) best[m] = tail - start, best_at[m] = start;
        if (npieces == cap) {
            size_t *g = realloc(starts, (cap * 2 + 64) * sizeof *starts);
            if (!g) st = SP_ENOMEM;
            else starts = g, cap = cap * 2 + 64;
        }
        if (st == SP_OK) starts[npieces++] = start;
    }
    /* every piece but its level's largest: demoted when it meets another
     * level's seeds (piece_meets_other looks only at unseeded bone, lab 1,
     * whose seen marks it clears again) */
    for (size_t p = 0; p < npieces && st == SP_OK; p++) {
        size_t start = starts[p], end = p + 1 < npieces ? starts[p + 1] : tail;
        uint8_t m = lab[q[start]];
        if (start != best_at[m] && piece_meets_other(c, lab, seen, q + start, end - start, m, nlv, depth, &rq, &rcap))
            for (size_t h = start; h < end; h++) seen[q[h]] = 3; /* demoted after all are judged */
    }
    for (size_t i = 0; i < nvox && st == SP_OK; i++)
        if (seen[i] == 3) lab[i] = 1;
    free(q), free(rq), free(seen), free(starts);
    return st;
}

/* Both pedicles replaced by lytic tumour: the arch is bone that the
 * level's body no longer reaches, and the growth gave it to the neighbour
 * whose facet joint touches it (held-out lytic T8 phantom: its laminae and
 * spinous process went to T7, so the posterolateral involvement could not
 * be seen). A level with fewer than ARCH_SEED_SHARE of the pedicle seeds of
 * its smaller-seeded neighbour is seeded on its arch too: bone behind the
 * canal (ARCH_DY_MIN_MM to ARCH_DY_MAX_MM behind the centreline, within
 * ARCH_DX_MM of it) within ARCH_BAND_MM of the plane through the level's
 * middle (normal: the centreline's tangent). Not by the level's slab
 * between its disc planes: a collapsed body brings them together, but its
 * arch keeps its height and lies mostly outside (lytic T8: no bone of its
 * arch 5 mm inside the slab). On fine grids only such levels: there the arch
 * of an intact level is reached from its own pedicles anyway, and seeding
 * every level gave the contrast phantom's L2/L3 spinous tips of the level
 * above (whole Dice -0.05). Where the spinous band is off (grids over
 * 2.5 mm) every level: the facet joints merge there and a level's laminae
 * went half to the level above (5 mm phantom: L1's 38 % its own; with these
 * seeds whole-vertebra Dice median 0.773 -> 0.802, centroid median 3.0 ->
 * 2.5 mm; 3 mm real CT T12-L5 mean Dice 0.872 -> 0.874). */
#define ARCH_SEED_SHARE 0.25
#define ARCH_DY_MIN_MM 20.0 /* behind the canal (posterior wall ~12-17 mm + canal ~15 mm deep, less margin) */
#define ARCH_DY_MAX_MM 40.0 /* 45 gave real-CT L5 a piece of its neighbour's spinous process (Dice 0.853 -> 0.847) */
#define ARCH_DX_MM 14.0
#define ARCH_BAND_MM 3.0
static void seed_floating_arches(const seg_canon *c, const seg_work *w, const seg_line *L, const seg_level *lv,
                                 uint8_t *lab, const uint8_t *body, int nlv, bool every, bool *floating)
{
    int nx = c->n[0], ny = c->n[1], nz = c->n[2];
    size_t nxy = (size_t)nx * ny, nvox = nxy * nz;
    int64_t ped[SP_SEG_MAX_VERT] = {0};
    bool need[SP_SEG_MAX_VERT] = {false}, any = false;
    plane mid[SP_SEG_MAX_VERT];
    /* omp: integer counts, summed per thread: the same at any thread count */
    SP_OMP(parallel for default(none) shared(lab, body, nvox, nlv) reduction(+ : ped[:SP_SEG_MAX_VERT]) schedule(static))
    for (size_t i = 0; i < nvox; i++)
        if (lab[i] >= 2 && lab[i] < 2 + nlv && !body[i]) ped[lab[i] - 2]++;
    for (int k = 1; k + 1 < nlv; k++) {
        int64_t ref = ped[k - 1] < ped[k + 1] ? ped[k - 1] : ped[k + 1];
        need[k] = every || (ref > 0 && ped[k] < ARCH_SEED_SHARE * ref);
        if (need[k]) disc_plane(c, w, L, 0.5 * (lv[k].s_lo + lv[k].s_hi), false, &mid[k]);
        any |= need[k];
        floating[k] = need[k];
    }
    if (!any) return;
    for (int z = 0; z < nz; z++) {
        double p[3], t[3];
        if (!line_at(c, w, L, z, p, t)) continue;
        for (int y = 0; y < ny; y++)
            for (int x = 0; x < nx; x++) {
                size_t i = (size_t)z * nxy + (size_t)y * nx + x;
                if (lab[i] != 1) continue;
                double dx = (x - p[0]) * c->spacing[0], dy = (y - p[1]) * c->spacing[1];
                if (dy < ARCH_DY_MIN_MM || dy > ARCH_DY_MAX_MM || fabs(dx) > ARCH_DX_MM) continue;
                double X[3] = {x * c->spacing[0], y * c->spacing[1], z * c->spacing[2]};
                for (int k = 1; k + 1 < nlv; k++)
                    if (need[k] && fabs(signed_dist(&mid[k], X)) <= ARCH_BAND_MM) {
                        lab[i] = (uint8_t)(2 + k);
                        break;
                    }
            }
    }
}

/* C2's dens rises inside the atlas ring, between the ring's lateral masses
 * and behind its anterior arch: the disc planes cannot part them (naming.c
 * finds the peg). Above C2's body top (+3 mm: its superior facets) the
 * peg's cylinder seeds C2 and every other bone voxel in the growth cylinder
 * seeds the atlas (the first level above C2), whatever the disc planes say:
 * the ring has no body, the line up there leans toward a lateral mass, and
 * the plane between C2 and C1 tilted with it, so that a whole lateral mass
 * and transverse process were C2's (measured on cervical_c2: C1 Dice 0.65).
 * Where no level lies above C2 the ring is left out rather than grown into
 * C2. Nothing changes where no C2 was found. */
typedef struct peg_zone {
    int level, atlas;        /* C2's level index, -1 none; the first level above it, -1 none */
    double p[3], t[3];       /* axis point (canonical mm) and direction: C2's body and dens */
    double base, top, r;     /* seeds: C2 above base only within r of the axis, up to top */
} peg_zone;

static void peg_setup(const seg_canon *c, const seg_work *w, const seg_level *lv, int nlv, peg_zone *z)
{
    z->level = z->atlas = -1;
    for (int k = 0; k < nlv; k++)
        if (lv[k].axis) {
            z->level = k;
            z->atlas = k + 1 < nlv ? k + 1 : -1;
            for (int a = 0; a < 3; a++) {
                z->p[a] = (lv[k].peg_p[a] * w->f[a] + (w->f[a] - 1) / 2.0) * c->spacing[a];
                z->t[a] = lv[k].peg_t[a];
            }
            z->base = lv[k].peg_base;
            z->top = lv[k].peg_len + 3.0;
            z->r = lv[k].peg_r + 1.5;
        }
}

/* The level a seed at canonical mm X takes (m from the disc planes). Above
 * C2's body top (*shaped: the planes are not used there, the top one may be
 * tilted through the ring) the dens is C2 and the rest the atlas, or
 * PEG_NO_LEVEL when no level lies above C2; at or below it, C2 or lower. */
#define PEG_NO_LEVEL (-2)
#define PEG_FACET_MM 2.5 /* C2's superior facets: this far either side of its body's top */
#define PEG_BAND_MM 5.0  /* from there the joint and the lateral masses' underside, unseeded */
static int peg_level(const peg_zone *z, const double X[3], int m, bool *shaped)
{
    double d[3] = {X[0] - z->p[0], X[1] - z->p[1], X[2] - z->p[2]};
    double h = d[0] * z->t[0] + d[1] * z->t[1] + d[2] * z->t[2];
    double rr = sqrt(fmax(0, d[0] * d[0] + d[1] * d[1] + d[2] * d[2] - h * h));
    *shaped = h > z->base - PEG_FACET_MM;
    if (h <= z->base - PEG_FACET_MM) return m > z->level ? z->level : m;
    if (h <= z->base + PEG_FACET_MM) return m >= z->level ? z->level : -1; /* C2's superior facets */
    if (rr <= z->r && h <= z->top) return z->level;
    if (h <= z->base + PEG_BAND_MM) return -1; /* C2's facets or the atlas: growth decides across the joint */
    return z->atlas >= 0 ? z->atlas : PEG_NO_LEVEL;
}

sp_status seg_label_instances(const seg_canon *c, const seg_work *w, const seg_line *L, const seg_level *lv, int nlv,
                              bool edge_lo, bool edge_hi, bool *got_lo, bool *got_hi, uint8_t *lab)
{
    int nx = c->n[0], ny = c->n[1], nz = c->n[2];
    size_t nxy = (size_t)nx * ny, nvox = nxy * nz;
    plane pl[SP_SEG_MAX_VERT];
    int npl = 0;
    /* Planes between consecutive levels: the disc at the top of level k. */
    for (int k = 0; k + 1 < nlv && npl < SP_SEG_MAX_VERT; k++)
        disc_plane(c, w, L, lv[k].s_hi, lv[k].sacrum, &pl[npl++]);
    /* Outer discs (when a dropped sliver lies beyond them) bound the seeds too. */
    plane outer[2];
    int has_lo = !lv[0].open_lo, has_hi = !lv[nlv - 1].open_hi;
    if (has_lo) disc_plane(c, w, L, lv[0].s_lo, false, &outer[0]);
    if (has_hi) disc_plane(c, w, L, lv[nlv - 1].s_hi, false, &outer[1]);
    const plane *po = outer;
    memset(lab, 0, nvox);
    uint8_t *body = calloc(nvox, 1); /* 1 = body seed (within SEED_RADIUS_MM of the line) */
    if (!body) return SP_ENOMEM;
    /* 1 = in the growth region (bone inside the cylinder), 2+level = seed. */
    const int16_t *hu = c->hu;
    const plane *plc = pl;
    /* The band only where neighbouring spinous processes stay apart: on
     * voxels over 2.5 mm they merge through the interspinous gap and the band
     * hands tips to the wrong level (measured: real-CT Dice at 3 mm and the
     * 5 mm phantom fell, finer phantoms gained). */
    const bool band_ok = c->spacing[0] <= 2.5 && c->spacing[1] <= 2.5 && c->spacing[2] <= 2.5;
    peg_zone pz;
    peg_setup(c, w, lv, nlv, &pz);
    const peg_zone *pzc = &pz;
    /* omp: iteration z writes lab[z*nxy .. (z+1)*nxy) only. */
    SP_OMP(parallel for default(none) shared(c, w, L, hu, lab, body, plc, npl, nx, ny, nz, nxy, nlv, po, has_lo, has_hi, band_ok, pzc) schedule(dynamic, 4))
    for (int z = 0; z < nz; z++) {
        double p[3], t[3];
        if (!line_at(c, w, L, z, p, t)) continue;
        for (int y = 0; y < ny; y++)
            for (int x = 0; x < nx; x++) {
                size_t i = (size_t)z * nxy + (size_t)y * nx + x;
                if (hu[i] < SEG_BONE_HU) continue;
                double dx = (x - p[0]) * c->spacing[0], dy = (y - p[1]) * c->spacing[1];
                double r = sqrt(dx * dx + dy * dy);
                if (r > ROI_RADIUS_MM) {
                    if (band_ok && in_spinous_band(dx, dy)) lab[i] = BAND;
                    continue;
                }
                lab[i] = 1;
                bool near = r <= SEED_RADIUS_MM || in_pedicle_zone(dx, dy);
                if (!near && pzc->level < 0) continue;
                double X[3] = {x * c->spacing[0], y * c->spacing[1], z * c->spacing[2]}, margin;
                int m = level_of(plc, npl, X, &margin);
                double dlo = 1e30, dhi = -1e30;
                if (has_lo) dlo = signed_dist(&po[0], X);
                if (has_hi) dhi = signed_dist(&po[1], X);
                if (has_lo && dlo < SEED_MARGIN_MM) continue;
                if (has_hi && dhi > -SEED_MARGIN_MM) continue;
                if (pzc->level >= 0) {
                    bool shaped = false;
                    m = peg_level(pzc, X, m, &shaped);
                    if (m == PEG_NO_LEVEL) lab[i] = 0; /* the atlas ring, no level of its own: left out */
                    if (shaped && m >= 0) lab[i] = (uint8_t)(2 + m), body[i] = r <= SEED_RADIUS_MM;
                    if (shaped || !near) continue; /* beyond the body radius only the atlas seeds */
                }
                if (margin >= SEED_MARGIN_MM && m < nlv) lab[i] = (uint8_t)(2 + m), body[i] = r <= SEED_RADIUS_MM;
            }
    }
    sp_status st = keep_main_seed_pieces(c, lab, body, nlv);
    bool floating[SP_SEG_MAX_VERT] = {false};
    if (st == SP_OK) seed_floating_arches(c, w, L, lv, lab, body, nlv, !band_ok, floating);
    free(body);
    if (st != SP_OK) return st;
    if (nvox > UINT32_MAX) return SP_EUNSUPPORTED;
    /* Phase 1 grows through the cylinder; phase 2 carries each label on into
     * the spinous band behind it. In one phase, a neighbour's growth could
     * reach a destroyed body's arch through touching spinous tips first. */
    double *cy = malloc((size_t)nz * sizeof *cy);
    if (!cy) return SP_ENOMEM;
    for (int z = 0; z < nz; z++) {
        double p[3], t[3];
        cy[z] = line_at(c, w, L, z, p, t) ? p[1] : NAN;
    }
    st = grow(c, cy, floating, nlv, lab, 1);
    if (st == SP_OK) st = grow(c, cy, floating, nlv, lab, BAND);
    free(cy);
    if (st != SP_OK) return st;
    for (size_t i = 0; i < nvox; i++)
        if (lab[i] == BAND) lab[i] = 0;
    /* A vertebra cut by the scan edge can show only a fragment (a spinous
     * process tip) that no vertebra in view reaches: it is kept, as the
     * vertebra beyond, rather than silently lost. */
    *got_lo = *got_hi = false;
    if (edge_lo || edge_hi) {
        uint32_t *queue = malloc(nvox * sizeof *queue); /* the claim may reach beyond the region */
        if (!queue) return SP_ENOMEM;
        double plo[3], phi[3], t[3];
        int zlo = 0, zhi = nz - 1;
        while (zlo < nz - 1 && !line_at(c, w, L, zlo, plo, t)) zlo++;
        while (zhi > 0 && !line_at(c, w, L, zhi, phi, t)) zhi--;
        *got_lo = edge_lo && nlv + 2 < SEG_EDGE_LO - 1 && claim_edge(c, lab, 0, plo, SEG_EDGE_LO, queue);
        *got_hi = edge_hi && nlv + 2 < SEG_EDGE_LO - 1 && claim_edge(c, lab, nz - 1, phi, (uint8_t)(nlv + 2), queue);
        free(queue);
    }
    /* Region voxels no seed reached are not vertebra; seeds become 1..nlv. */
    for (size_t i = 0; i < nvox; i++)
        lab[i] = lab[i] == SEG_EDGE_LO ? SEG_EDGE_LO : lab[i] >= 2 ? (uint8_t)(lab[i] - 1) : 0;
    trim_surface(c, lab);
    return SP_OK;
}
