/* vessels.c - takes contrast-filled vessels back out of the vertebra labels.
 *
 * Instance growth walks every voxel >= SEG_BONE_HU (110 HU) connected to a
 * vertebra. In a contrast-enhanced CT (most oncology CTs: portal venous
 * phase, aorta and cava ~150-250 HU) that takes in the aorta where it
 * touches the body or the crus: the real PET/CT series in ../shared/data had
 * its aorta inside T12's label. Blood differs from bone by having no cortex.
 * Per vertebra: the "soft" voxels (below SEG_CORTEX_HU: marrow, blood)
 * are split into pieces by a one-voxel in-plane erosion (the aorta's contact
 * with the body is in-plane; it runs along the spine), the eroded voxels go
 * back to the piece that reaches them first (breadth-first, deterministic),
 * and a piece is dropped when it is not the largest (the body's marrow), lies
 * in front of it, holds at least VESSEL_MIN_ML, and more than two thirds of
 * its in-plane faces border the outside of the label rather than cortex:
 * marrow is walled by cortex, a vessel lumen borders fat. Only on in-plane
 * grids of <= VESSEL_MAX_PIXEL_MM, where a 1-2 mm cortex reaches 300 HU
 * (on a 3 mm resample, marrow and cortex look alike). Dropped voxels become
 * background, as they would be without contrast. docs/segmentation.md,
 * "Contrast-filled vessels". */
#define SP_SEGMENT_INTERNAL
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/sp_log.h"

#define VESSEL_MIN_ML 1.0    /* a vessel worth removing; process tips and marrow islands are smaller */
#define VESSEL_MAX_PIXEL_MM 1.25 /* finer in-plane grids resolve the cortex (>= SEG_CORTEX_HU) */

typedef struct box {
    int lo[3], hi[3];
} box;

/* erosion of m (nx*ny*nz bytes, 1 = in) by a box of half sizes r[], in place,
 * separably along each axis; tmp has the same size */
static void erode_box(uint8_t *m, uint8_t *tmp, const int d[3], const int r[3])
{
    const size_t st[3] = {1, (size_t)d[0], (size_t)d[0] * d[1]};
    for (int a = 0; a < 3; a++) {
        if (r[a] < 1) continue;
        memcpy(tmp, m, (size_t)d[0] * d[1] * d[2]);
        int b = (a + 1) % 3, c = (a + 2) % 3;
        for (int j = 0; j < d[b]; j++)
            for (int k = 0; k < d[c]; k++) {
                size_t base = (size_t)j * st[b] + (size_t)k * st[c];
                /* a voxel stays when its whole window along a is in (run lengths) */
                int run = 0;
                for (int i = 0; i < d[a]; i++) {
                    run = tmp[base + (size_t)i * st[a]] ? run + 1 : 0;
                    /* voxel i - r[a] has its window [i-2r, i] in when run > 2r */
                    int o = i - r[a];
                    if (o >= 0) m[base + (size_t)o * st[a]] = run > 2 * r[a];
                }
                /* the last r[a] voxels' windows leave the box; the first r[a] got run <= 2r above */
                for (int o = d[a] - r[a] < 0 ? 0 : d[a] - r[a]; o < d[a]; o++) m[base + (size_t)o * st[a]] = 0;
            }
    }
}

/* The 6 neighbours of voxel i inside a box of size d (in-plane ones first,
 * in the order +x -x +y -y +z -z); returns how many. */
static int box_neighbours6(const int d[3], int i, int nb[6])
{
    static const int dx[6][3] = {{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}};
    int x = i % d[0], y = (i / d[0]) % d[1], z = i / (d[0] * d[1]), k = 0;
    for (int j = 0; j < 6; j++) {
        int X = x + dx[j][0], Y = y + dx[j][1], Z = z + dx[j][2];
        nb[j] = X < 0 || Y < 0 || Z < 0 || X >= d[0] || Y >= d[1] || Z >= d[2] ? -1 : (Z * d[1] + Y) * d[0] + X;
        k += nb[j] >= 0;
    }
    return k;
}

/* Splits the soft voxels (soft[], box of size d) into pieces: a one-voxel
 * in-plane erosion (m, tmp: scratch) cuts the necks, its 6-connected
 * components are the pieces, and the voxels the erosion took go back to the
 * piece that reaches them first. piece[] gets each voxel's id (-1 none),
 * queue[0..*nq) the voxels in visiting order; returns the number of pieces. */
static int soft_pieces(const uint8_t *soft, const int d[3], uint8_t *m, uint8_t *tmp, int *piece, int *queue, size_t *nq)
{
    static const int r[3] = {1, 1, 0}; /* in-plane: vessels run along the spine, their necks are in-plane */
    const size_t n = (size_t)d[0] * d[1] * d[2];
    memcpy(m, soft, n);
    erode_box(m, tmp, d, r);
    for (size_t i = 0; i < n; i++) piece[i] = -1;
    int npieces = 0;
    size_t qt = 0;
    for (size_t s = 0; s < n; s++) {
        if (!m[s] || piece[s] >= 0) continue;
        int id = npieces++;
        piece[s] = id, queue[qt++] = (int)s;
        for (size_t h = qt - 1; h < qt; h++) {
            int nb[6];
            box_neighbours6(d, queue[h], nb);
            for (int j = 0; j < 6; j++)
                if (nb[j] >= 0 && m[nb[j]] && piece[nb[j]] < 0) piece[nb[j]] = id, queue[qt++] = nb[j];
        }
    }
    if (npieces >= 2) /* back-fill, breadth-first from all pieces at once */
        for (size_t h = 0; h < qt; h++) {
            int nb[6];
            box_neighbours6(d, queue[h], nb);
            for (int j = 0; j < 6; j++)
                if (nb[j] >= 0 && piece[nb[j]] < 0 && soft[nb[j]]) piece[nb[j]] = piece[queue[h]], queue[qt++] = nb[j];
        }
    *nq = qt;
    return npieces;
}

/* One label: returns the number of voxels dropped. soft, m, tmp, piece and
 * queue are scratch of at least the box's size. */
static int64_t clean_label(const seg_canon *c, uint8_t *lab, uint8_t l, const box *bx, int *piece, int *queue, uint8_t *soft,
                           uint8_t *m, uint8_t *tmp)
{
    int d[3];
    for (int a = 0; a < 3; a++) d[a] = bx->hi[a] - bx->lo[a] + 1;
    const size_t N0 = (size_t)c->n[0], N01 = (size_t)c->n[0] * c->n[1];
#define GIDX(i)                                                                                                        \
    (((size_t)((i) / (d[0] * d[1])) + bx->lo[2]) * N01 + ((size_t)(((i) / d[0]) % d[1]) + bx->lo[1]) * N0 +               \
     (size_t)((i) % d[0]) + bx->lo[0])
    /* soft: label voxels below cortical density (marrow, blood) */
    const int n = d[0] * d[1] * d[2];
    for (int i = 0; i < n; i++) {
        size_t g = GIDX(i);
        soft[i] = lab[g] == l && c->hu[g] < SEG_CORTEX_HU;
    }
    size_t qt = 0;
    int npieces = soft_pieces(soft, d, m, tmp, piece, queue, &qt);
    int64_t *cnt = npieces >= 2 ? calloc((size_t)npieces * 4, sizeof *cnt) : NULL;
    if (!cnt) return 0;
    /* per piece: voxels, in-plane faces to outside the label, in-plane faces
     * to cortex (slices may be thick), sum of y */
    for (size_t h = 0; h < qt; h++) {
        int i = queue[h], id = piece[i], nb[6];
        cnt[4 * id]++, cnt[4 * id + 3] += (i / d[0]) % d[1];
        box_neighbours6(d, i, nb);
        for (int j = 0; j < 4; j++) {
            if (nb[j] < 0 || lab[GIDX(nb[j])] != l) cnt[4 * id + 1]++;
            else if (!soft[nb[j]]) cnt[4 * id + 2]++;
        }
    }
    int best = 0;
    for (int id = 1; id < npieces; id++)
        if (cnt[4 * id] > cnt[4 * best]) best = id;
    const double min_vox = VESSEL_MIN_ML * 1000.0 / (c->spacing[0] * c->spacing[1] * c->spacing[2]);
    int64_t dropped = 0;
    for (int id = 0; id < npieces; id++) {
        /* canonical +y is posterior: only pieces in front of the largest
         * (the body) can be great vessels; what lies behind is the
         * vertebra's own arch, soft at coarse grids */
        bool in_front = cnt[4 * id + 3] * cnt[4 * best] < cnt[4 * best + 3] * cnt[4 * id];
        if (id == best || !in_front || (double)cnt[4 * id] < min_vox || cnt[4 * id + 1] <= 2 * cnt[4 * id + 2]) continue;
        for (size_t h = 0; h < qt; h++)
            if (piece[queue[h]] == id) lab[GIDX(queue[h])] = 0, dropped++;
    }
    free(cnt);
#undef GIDX
    return dropped;
}

/* A fragment at the scan edge (instances.c) that is blood, not bone: on a
 * fine grid every piece of vertebra shows cortex; a lumen cut by the edge
 * does not. */
static bool fragment_without_cortex(const seg_canon *c, const uint8_t *lab, uint8_t l, const box *bx)
{
    int64_t n = 0, dense = 0;
    const size_t N0 = (size_t)c->n[0], N01 = (size_t)c->n[0] * c->n[1];
    for (int z = bx->lo[2]; z <= bx->hi[2]; z++)
        for (int y = bx->lo[1]; y <= bx->hi[1]; y++)
            for (int x = bx->lo[0]; x <= bx->hi[0]; x++) {
                size_t i = (size_t)z * N01 + (size_t)y * N0 + (size_t)x;
                if (lab[i] != l) continue;
                n++, dense += c->hu[i] >= SEG_CORTEX_HU;
            }
    return n > 0 && dense < SEG_CORTEX_SHARE * n;
}

void seg_drop_vessels(const seg_canon *c, uint8_t *lab, int nlv, bool *got_lo, bool *got_hi)
{
    /* a 1-2 mm cortex reaches SEG_CORTEX_HU only on fine in-plane grids;
     * on coarser ones (a 3 mm resample) marrow and cortex look alike and the
     * face test would strip the body itself */
    if (nlv < 1 || c->spacing[0] > VESSEL_MAX_PIXEL_MM || c->spacing[1] > VESSEL_MAX_PIXEL_MM) return;
    box bx[256];
    for (int l = 0; l < 256; l++)
        for (int a = 0; a < 3; a++) bx[l].lo[a] = c->n[a], bx[l].hi[a] = -1;
    for (int z = 0; z < c->n[2]; z++)
        for (int y = 0; y < c->n[1]; y++)
            for (int x = 0; x < c->n[0]; x++) {
                uint8_t l = lab[((size_t)z * c->n[1] + y) * c->n[0] + x];
                if (!l) continue;
                int p[3] = {x, y, z};
                for (int a = 0; a < 3; a++) {
                    if (p[a] < bx[l].lo[a]) bx[l].lo[a] = p[a];
                    if (p[a] > bx[l].hi[a]) bx[l].hi[a] = p[a];
                }
            }
    /* edge fragments: all or nothing */
    const int frag[2] = {SEG_EDGE_LO, nlv + 1};
    bool *got[2] = {got_lo, got_hi};
    for (int f = 0; f < 2; f++) {
        uint8_t l = (uint8_t)frag[f];
        if (!*got[f] || bx[l].hi[0] < 0 || !fragment_without_cortex(c, lab, l, &bx[l])) continue;
        size_t nvox = (size_t)c->n[0] * c->n[1] * c->n[2];
        for (size_t i = 0; i < nvox; i++)
            if (lab[i] == l) lab[i] = 0;
        *got[f] = false;
        sp_log(SP_LOG_DEBUG, "segment: the fragment at the %s scan edge has no cortex (a vessel): dropped", f ? "upper" : "lower");
    }
    size_t nmax = 0;
    for (int l = 1; l <= nlv; l++) {
        if (bx[l].hi[0] < 0) continue;
        size_t n = (size_t)(bx[l].hi[0] - bx[l].lo[0] + 1) * (bx[l].hi[1] - bx[l].lo[1] + 1) * (bx[l].hi[2] - bx[l].lo[2] + 1);
        if (n > nmax) nmax = n;
    }
    if (!nmax) return;
    int *piece = malloc(nmax * sizeof *piece), *queue = malloc(nmax * sizeof *queue);
    uint8_t *soft = malloc(nmax), *m = malloc(nmax), *tmp = malloc(nmax);
    if (piece && queue && soft && m && tmp) {
        /* serial over labels: each is a few ms, and the order fixes nothing */
        for (int l = 1; l <= nlv; l++) {
            if (bx[l].hi[0] < 0) continue;
            int64_t k = clean_label(c, lab, (uint8_t)l, &bx[l], piece, queue, soft, m, tmp);
            if (k)
                sp_log(SP_LOG_DEBUG, "segment: level %d: %lld voxels of a vessel without cortex in front of the body dropped", l - 1,
                       (long long)k);
        }
    }
    free(piece), free(queue), free(soft), free(m), free(tmp);
}
