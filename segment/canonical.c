/* canonical.c - reorder any CT volume into the canonical L, P, S axis order.
 *
 * DESIGN: only axis permutations and flips, chosen from the dominant LPS
 * component of each voxel axis, so no voxel is interpolated and the labels
 * map back exactly. A volume already in that order (every axial DICOM series
 * as io/ loads it) is used in place without a copy. */
#define SP_SEGMENT_INTERNAL
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sp_omp.h"

sp_status seg_canon_make(const sp_volume *ct, seg_canon *c)
{
    int used[3] = {0, 0, 0}, src_n[3] = {ct->nx, ct->ny, ct->nz};
    memset(c, 0, sizeof *c);
    if (ct->dtype != SP_I16) return SP_EINVAL;
    /* Dominant LPS axis of each source voxel axis. */
    for (int s = 0; s < 3; s++) {
        int best = 0;
        double bv = -1;
        for (int r = 0; r < 3; r++) {
            double v = fabs(ct->ijk_to_lps[r * 4 + s]);
            if (v > bv && !used[r]) bv = v, best = r;
        }
        used[best] = 1;
        c->perm[best] = s;
        c->flip[best] = ct->ijk_to_lps[best * 4 + s] < 0;
    }
    for (int a = 0; a < 3; a++) {
        c->n[a] = src_n[c->perm[a]];
        c->spacing[a] = ct->spacing[c->perm[a]];
    }
    /* canonical ijk -> source ijk -> LPS */
    for (int r = 0; r < 3; r++) {
        double off = ct->ijk_to_lps[r * 4 + 3];
        for (int a = 0; a < 3; a++) {
            double col = ct->ijk_to_lps[r * 4 + c->perm[a]];
            if (c->flip[a]) {
                off += col * (c->n[a] - 1);
                col = -col;
            }
            c->ijk_to_lps[r * 4 + a] = col;
        }
        c->ijk_to_lps[r * 4 + 3] = off;
    }
    c->ijk_to_lps[15] = 1;
    if (c->perm[0] == 0 && c->perm[1] == 1 && c->perm[2] == 2 && !c->flip[0] && !c->flip[1] && !c->flip[2]) {
        c->hu = ct->data;
        return SP_OK;
    }
    size_t nvox = sp_vol_nvox(ct);
    c->own = malloc(nvox * sizeof *c->own);
    if (!c->own) return SP_ENOMEM;
    const int16_t *src = ct->data;
    int16_t *dst = c->own;
    const seg_canon *cc = c;
    int nz = c->n[2];
    /* omp: iteration k writes canonical slice k only. */
    SP_OMP(parallel for default(none) shared(src, dst, cc, src_n, nz) schedule(static))
    for (int k = 0; k < nz; k++) {
        int idx[3];
        for (int j = 0; j < cc->n[1]; j++)
            for (int i = 0; i < cc->n[0]; i++) {
                int ca[3] = {i, j, k};
                for (int a = 0; a < 3; a++) idx[cc->perm[a]] = cc->flip[a] ? cc->n[a] - 1 - ca[a] : ca[a];
                dst[((size_t)k * cc->n[1] + j) * cc->n[0] + i] =
                    src[((size_t)idx[2] * src_n[1] + idx[1]) * src_n[0] + idx[0]];
            }
    }
    c->hu = c->own;
    return SP_OK;
}

void seg_canon_free(seg_canon *c)
{
    free(c->own);
    c->own = NULL;
    c->hu = NULL;
}

void seg_canon_to_source(const seg_canon *c, const uint8_t *canon_map, sp_volume *dst)
{
    uint8_t *out = dst->data;
    int src_n[3] = {dst->nx, dst->ny, dst->nz};
    int nz = c->n[2];
    if (!c->own) { /* the input was already canonical */
        memcpy(out, canon_map, (size_t)src_n[0] * src_n[1] * src_n[2]);
        return;
    }
    /* omp: iteration k reads canonical slice k and writes the source voxels it
     * maps to; the mapping is a bijection, so no two iterations write the same one. */
    SP_OMP(parallel for default(none) shared(c, canon_map, out, src_n, nz) schedule(static))
    for (int k = 0; k < nz; k++) {
        int idx[3];
        for (int j = 0; j < c->n[1]; j++)
            for (int i = 0; i < c->n[0]; i++) {
                int ca[3] = {i, j, k};
                for (int a = 0; a < 3; a++) idx[c->perm[a]] = c->flip[a] ? c->n[a] - 1 - ca[a] : ca[a];
                out[((size_t)idx[2] * src_n[1] + idx[1]) * src_n[0] + idx[0]] =
                    canon_map[((size_t)k * c->n[1] + j) * c->n[0] + i];
            }
    }
}
