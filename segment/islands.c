/* islands.c - gives a detached piece of one vertebra's body label to the
 * vertebra it lies against.
 *
 * DESIGN: the growth (instances.c) hands each bone voxel to the seed it is
 * geodesically nearest to, and the later passes (surface trim, parts, hole
 * fill) can cut a label into pieces. Where the disc between two bodies is
 * thin and tilted against the disc plane (a translated level), the upper
 * level's growth reaches the lower body's endplate corner before the lower
 * one does; once the partial-volume voxels between are trimmed, that corner
 * is a piece of the upper label lying against the lower body only
 * (translation T12, seeds 3 and 11: 121 voxels, 0.6 ml, of T12's
 * anterior-superior corner labelled T11, its anterior height read 9 mm for
 * 17.5 and its collapse grade 3 for 2). A piece of level k that is not k's
 * largest (26-connected) piece, holds at least ISLAND_MIN_ML, is body in the
 * parts map throughout, and touches (face neighbours) labelled voxels of one
 * other level only, is that level's body. Arches cut off by a destroyed
 * pedicle are posterior parts and stay (parts.c, instances.c seed them on
 * purpose); pieces touching nothing labelled stay too (a body split by a
 * lytic cleft). Serial, index order within each level's bounding box: the
 * result does not depend on the thread count. */
#define SP_SEGMENT_INTERNAL
#include "internal.h"

#include <stdlib.h>

#define ISLAND_MIN_ML 0.1

/* The other level piece q[0..n) of level k lies against, when it is one
 * level only and the piece is body throughout; else 0. */
static int against_one(const seg_canon *c, const uint8_t *lab, const uint8_t *parts, const size_t *q, size_t n, int k)
{
    const long st[3] = {1, c->n[0], (long)c->n[0] * c->n[1]};
    int other = 0;
    for (size_t h = 0; h < n; h++) {
        size_t i = q[h];
        if (parts[i] != SP_SEG_PART_BODY) return 0;
        int p[3] = {(int)(i % (size_t)c->n[0]), (int)((i / (size_t)c->n[0]) % (size_t)c->n[1]),
                    (int)(i / ((size_t)c->n[0] * c->n[1]))};
        for (int a = 0; a < 3; a++)
            for (int s = -1; s <= 1; s += 2) {
                if (p[a] + s < 0 || p[a] + s >= c->n[a]) continue;
                int o = lab[(size_t)((long)i + s * st[a])];
                if (o == 0 || o == k) continue;
                if (other && o != other) return 0;
                other = o;
            }
    }
    return other;
}

sp_status seg_give_islands(const seg_canon *c, uint8_t *lab, uint8_t *parts, int nlv, const seg_box *boxes)
{
    double vox_ml = c->spacing[0] * c->spacing[1] * c->spacing[2] / 1000.0;
    size_t min_vox = (size_t)(ISLAND_MIN_ML / vox_ml + 0.999);
    const size_t nx = (size_t)c->n[0], nxy = nx * c->n[1];
    for (int k = 1; k <= nlv; k++) {
        const seg_box *bk = &boxes[k - 1];
        if (bk->hi[0] < bk->lo[0]) continue;
        int bn[3];
        for (int a = 0; a < 3; a++) bn[a] = bk->hi[a] - bk->lo[a] + 1;
        size_t nb = (size_t)bn[0] * bn[1] * bn[2];
        uint8_t *seen = calloc(nb, 1);
        size_t *q = malloc(nb * sizeof *q), *starts = NULL, nstarts = 0, cap = 0, tail = 0, best = 0, best_n = 0;
        if (!seen || !q) {
            free(seen), free(q);
            return SP_ENOMEM;
        }
        /* 26-connected pieces of level k, one after another in q */
        for (int z = bk->lo[2]; z <= bk->hi[2]; z++)
            for (int y = bk->lo[1]; y <= bk->hi[1]; y++)
                for (int x = bk->lo[0]; x <= bk->hi[0]; x++) {
                    size_t i = (size_t)z * nxy + (size_t)y * nx + x;
                    size_t li = ((size_t)(z - bk->lo[2]) * bn[1] + (y - bk->lo[1])) * bn[0] + (x - bk->lo[0]);
                    if (lab[i] != k || seen[li]) continue;
                    size_t start = tail;
                    seen[li] = 1, q[tail++] = i;
                    for (size_t h = start; h < tail; h++) {
                        int px = (int)(q[h] % nx), py = (int)((q[h] / nx) % c->n[1]), pz = (int)(q[h] / nxy);
                        for (int dz = -1; dz <= 1; dz++)
                            for (int dy = -1; dy <= 1; dy++)
                                for (int dx = -1; dx <= 1; dx++) {
                                    int X = px + dx, Y = py + dy, Z = pz + dz;
                                    if (X < bk->lo[0] || Y < bk->lo[1] || Z < bk->lo[2] || X > bk->hi[0] ||
                                        Y > bk->hi[1] || Z > bk->hi[2])
                                        continue;
                                    size_t j = (size_t)Z * nxy + (size_t)Y * nx + X;
                                    size_t lj = ((size_t)(Z - bk->lo[2]) * bn[1] + (Y - bk->lo[1])) * bn[0] +
                                                (X - bk->lo[0]);
                                    if (lab[j] == k && !seen[lj]) seen[lj] = 1, q[tail++] = j;
                                }
                    }
                    if (nstarts == cap) {
                        size_t *g = realloc(starts, (cap * 2 + 16) * sizeof *starts);
                        if (!g) {
                            free(seen), free(q), free(starts);
                            return SP_ENOMEM;
                        }
                        starts = g, cap = cap * 2 + 16;
                    }
                    starts[nstarts++] = start;
                    if (tail - start > best_n) best_n = tail - start, best = start;
                }
        /* judged on the labels as they are, then moved: a piece's decision
         * does not depend on another's */
        int *to = calloc(nstarts ? nstarts : 1, sizeof *to);
        if (!to) {
            free(seen), free(q), free(starts);
            return SP_ENOMEM;
        }
        for (size_t p = 0; p < nstarts; p++) {
            size_t s = starts[p], e = p + 1 < nstarts ? starts[p + 1] : tail;
            if (s == best || e - s < min_vox) continue;
            to[p] = against_one(c, lab, parts, q + s, e - s, k);
        }
        for (size_t p = 0; p < nstarts; p++) {
            size_t s = starts[p], e = p + 1 < nstarts ? starts[p + 1] : tail;
            if (to[p])
                for (size_t h = s; h < e; h++) lab[q[h]] = (uint8_t)to[p];
        }
        free(to), free(seen), free(q), free(starts);
    }
    return SP_OK;
}
