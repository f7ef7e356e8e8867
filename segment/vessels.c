/* vessels.c - takes contrast-filled vessels back out of the vertebra labels.
 *
 * Instance growth walks every voxel >= SEG_BONE_HU (110 HU) connected to a
 * vertebra. In a contrast-enhanced CT (most oncology CTs: portal venous
 * phase, aorta and cava ~150-250 HU) that takes in the aorta where it
 * touches the body or the crus: the real PET/CT series in ../shared/data had
 * its aorta inside T12's label. Blood differs from bone by having no cortex.
 * Per vertebra: the "soft" voxels (below VESSEL_CORTEX_HU: marrow, blood)
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

#define VESSEL_CORTEX_HU SEG_CORTEX_HU /* cortex, also at 3 mm voxels; contrast blood (portal venous) stays below */
#define VESSEL_MIN_ML 1.0    /* a vessel worth removing; process tips and marrow islands are smaller */
#define VESSEL_MAX_PIXEL_MM 1.25 /* finer in-plane grids resolve the cortex (>= VESSEL_CORTEX_HU) */

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
                for (int o = d[a] - r[a] < 0 ? 0 : d[a] - r[a]; o < d[a]; o++) m[base + (size_t)o * st[a]] = 0;
                for (int o = 0; o < r[a] && o < d[a]; o++) m[base + (size_t)o * st[a]] = 0;
            }
    }
}

/* One label: returns the number of voxels dropped. */
static int64_t clean_label(const seg_canon *c, uint8_t *lab, uint8_t l, const box *bx, int *piece, int *queue, uint8_t *m,
                           uint8_t *tmp)
{
    int d[3];
    for (int a = 0; a < 3; a++) d[a] = bx->hi[a] - bx->lo[a] + 1;
    const int r[3] = {1, 1, 0}; /* in-plane: vessels run along the spine, their necks are in-plane */
    const size_t n = (size_t)d[0] * d[1] * d[2];
    const size_t N0 = (size_t)c->n[0], N01 = (size_t)c->n[0] * c->n[1];
    const int td = VESSEL_CORTEX_HU;
#define GIDX(x, y, z) (((size_t)(z) + bx->lo[2]) * N01 + ((size_t)(y) + bx->lo[1]) * N0 + (size_t)(x) + bx->lo[0])
    /* soft: label voxels below cortical density (marrow, blood) */
    for (int z = 0; z < d[2]; z++)
        for (int y = 0; y < d[1]; y++)
            for (int x = 0; x < d[0]; x++) {
                size_t g = GIDX(x, y, z);
                m[((size_t)z * d[1] + y) * d[0] + x] = lab[g] == l && c->hu[g] < td;
            }
    uint8_t *soft = malloc(n);
    if (!soft) return 0;
    memcpy(soft, m, n);
    erode_box(m, tmp, d, r);
    for (size_t i = 0; i < n; i++) piece[i] = -1;
    int npieces = 0;
    size_t qt = 0;
    const int dx[6][3] = {{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}};
    for (size_t s = 0; s < n; s++) {
        if (!m[s] || piece[s] >= 0) continue;
        int id = npieces++;
        size_t h = qt;
        piece[s] = id, queue[qt++] = (int)s;
        while (h < qt) {
            int i = queue[h++];
            int x = i % d[0], y = (i / d[0]) % d[1], z = i / (d[0] * d[1]);
            for (int k = 0; k < 6; k++) {
                int X = x + dx[k][0], Y = y + dx[k][1], Z = z + dx[k][2];
                if (X < 0 || Y < 0 || Z < 0 || X >= d[0] || Y >= d[1] || Z >= d[2]) continue;
                size_t j = ((size_t)Z * d[1] + Y) * d[0] + X;
                if (m[j] && piece[j] < 0) piece[j] = id, queue[qt++] = (int)j;
            }
        }
    }
    int64_t dropped = 0;
    if (npieces >= 2) {
        /* back-fill the soft voxels the erosion took, breadth-first from all pieces */
        for (size_t qh = 0; qh < qt; qh++) {
            int i = queue[qh];
            int x = i % d[0], y = (i / d[0]) % d[1], z = i / (d[0] * d[1]);
            for (int k = 0; k < 6; k++) {
                int X = x + dx[k][0], Y = y + dx[k][1], Z = z + dx[k][2];
                if (X < 0 || Y < 0 || Z < 0 || X >= d[0] || Y >= d[1] || Z >= d[2]) continue;
                size_t j = ((size_t)Z * d[1] + Y) * d[0] + X;
                if (piece[j] < 0 && soft[j]) piece[j] = piece[i], queue[qt++] = (int)j;
            }
        }
        /* per piece: voxels, faces to outside the label, faces to cortex */
        int64_t *cnt = calloc((size_t)npieces * 4, sizeof *cnt);
        int best = -1;
        if (cnt) {
            for (size_t qh = 0; qh < qt; qh++) {
                int i = queue[qh], id = piece[i];
                int x = i % d[0], y = (i / d[0]) % d[1], z = i / (d[0] * d[1]);
                cnt[4 * id]++, cnt[4 * id + 3] += y;
                for (int k = 0; k < 6; k++) {
                    int X = x + dx[k][0], Y = y + dx[k][1], Z = z + dx[k][2];
                    if (k >= 4) continue; /* in-plane faces: slices may be thick */
                    bool inbox = X >= 0 && Y >= 0 && Z >= 0 && X < d[0] && Y < d[1] && Z < d[2];
                    if (!inbox || lab[GIDX(X, Y, Z)] != l) cnt[4 * id + 1]++;
                    else if (!soft[((size_t)Z * d[1] + Y) * d[0] + X]) cnt[4 * id + 2]++;
                }
            }
            for (int id = 0; id < npieces; id++)
                if (best < 0 || cnt[4 * id] > cnt[4 * best]) best = id;
            const double min_vox = VESSEL_MIN_ML * 1000.0 / (c->spacing[0] * c->spacing[1] * c->spacing[2]);
            for (int id = 0; id < npieces; id++) {
                /* canonical +y is posterior: only pieces in front of the largest
                 * (the body) can be great vessels; what lies behind is the
                 * vertebra's own arch, soft at coarse grids */
                bool in_front = cnt[4 * id + 3] * cnt[4 * best] < cnt[4 * best + 3] * cnt[4 * id];
                if (id == best || !in_front || (double)cnt[4 * id] < min_vox || cnt[4 * id + 1] <= 2 * cnt[4 * id + 2]) continue;
                for (size_t qh = 0; qh < qt; qh++) {
                    int i = queue[qh];
                    if (piece[i] != id) continue;
                    int x = i % d[0], y = (i / d[0]) % d[1], z = i / (d[0] * d[1]);
                    lab[GIDX(x, y, z)] = 0;
                    dropped++;
                }
            }
            free(cnt);
        }
    }
    free(soft);
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
                n++, dense += c->hu[i] >= VESSEL_CORTEX_HU;
            }
    return n > 0 && dense < SEG_CORTEX_SHARE * n;
}

void seg_drop_vessels(const seg_canon *c, uint8_t *lab, int nlv, bool *got_lo, bool *got_hi)
{
    /* a 1-2 mm cortex reaches VESSEL_CORTEX_HU only on fine in-plane grids;
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
    uint8_t *m = malloc(nmax), *tmp = malloc(nmax);
    if (piece && queue && m && tmp) {
        /* serial over labels: each is a few ms, and the order fixes nothing */
        for (int l = 1; l <= nlv; l++) {
            if (bx[l].hi[0] < 0) continue;
            int64_t k = clean_label(c, lab, (uint8_t)l, &bx[l], piece, queue, m, tmp);
            if (k)
                sp_log(SP_LOG_DEBUG, "segment: level %d: %lld voxels of a vessel without cortex in front of the body dropped", l - 1,
                       (long long)k);
        }
    }
    free(piece), free(queue), free(m), free(tmp);
}
