/* import.c - use an existing vertebra label map instead of segmenting.
 *
 * DESIGN: users who already run TotalSegmentator or have expert masks get our
 * measurements on their masks. The map must hold the same voxel centres as
 * the CT (its storage order may differ: dcm2niix flips rows, for example);
 * it is brought onto the CT grid by the exact integer index mapping, then its
 * numbering is translated to VerSe. Parts are computed exactly as for our own
 * labels; the frame of each vertebra starts from the centroid of its anterior
 * half (inside the body) and the axis through its neighbours' centroids. */
#define SP_SEGMENT_INTERNAL
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sp_geom.h"
#include "io/sp_io.h"

/* Anatomical order, cranial first: C1..C7, T1..T12, T13, L1..L5, L6, S. */
static int ordinal(int verse)
{
    if (verse >= 1 && verse <= 19) return verse;
    if (verse == 28) return 20;
    if (verse >= 20 && verse <= 24) return verse + 1;
    if (verse == 25) return 26;
    if (verse == 26) return 27;
    return -1;
}

static int map_label(int v, bool totalseg)
{
    if (!totalseg) return ordinal(v) > 0 ? v : 0;
    if (v == 25 || v == 26) return 26;  /* sacrum, S1 */
    if (v >= 27 && v <= 50) return 51 - v; /* L5=27 .. C1=50 */
    return 0;
}

static int value_at(const sp_volume *v, size_t i)
{
    return v->dtype == SP_U8 ? ((const uint8_t *)v->data)[i] : v->dtype == SP_I16 ? ((const int16_t *)v->data)[i]
                                                                                : (int)lrintf(((const float *)v->data)[i]);
}

/* Labels of map on ct's grid (VerSe numbers) into out (ct's size). */
static sp_status onto_grid(const sp_volume *ct, const sp_volume *map, bool totalseg, uint8_t *out, const char *path,
                           sp_err *err)
{
    double inv[16], m[16];
    if (sp_vol_nvox(map) != sp_vol_nvox(ct) || sp_mat4_invert(map->ijk_to_lps, inv) != 0)
        return sp_fail(err, SP_EINVAL, "%s: label map is %dx%dx%d, the CT %dx%dx%d", path, map->nx, map->ny, map->nz,
                       ct->nx, ct->ny, ct->nz);
    sp_mat4_mul(inv, ct->ijk_to_lps, m);
    for (int i = 0; i < 12; i++)
        if (fabs(m[i] - floor(m[i] + 0.5)) > 0.05)
            return sp_fail(err, SP_EINVAL, "%s: label map is not on the CT's voxel grid", path);
    for (int z = 0; z < ct->nz; z++)
        for (int y = 0; y < ct->ny; y++)
            for (int x = 0; x < ct->nx; x++) {
                int li = (int)floor(m[0] * x + m[1] * y + m[2] * z + m[3] + 0.5);
                int lj = (int)floor(m[4] * x + m[5] * y + m[6] * z + m[7] + 0.5);
                int lk = (int)floor(m[8] * x + m[9] * y + m[10] * z + m[11] + 0.5);
                int v = 0;
                if (li >= 0 && lj >= 0 && lk >= 0 && li < map->nx && lj < map->ny && lk < map->nz)
                    v = map_label(value_at(map, sp_vol_idx(map, li, lj, lk)), totalseg);
                out[sp_vol_idx(ct, x, y, z)] = (uint8_t)v;
            }
    return SP_OK;
}

sp_status sp_seg_from_labels(const sp_volume *ct, const char *path, const char *scheme, sp_seg_result **out,
                             sp_err *err)
{
    bool totalseg;
    sp_volume *map = NULL;
    sp_seg_result *r = NULL;
    seg_canon c;
    uint8_t *src = NULL, *lab = NULL, *parts = NULL;
    int present[29] = {0}, order[SP_SEG_MAX_VERT], nlv = 0;
    sp_status st;
    *out = NULL;
    if (!strcmp(scheme, "totalseg")) totalseg = true;
    else if (!strcmp(scheme, "verse")) totalseg = false;
    else return sp_fail(err, SP_EINVAL, "unknown label scheme '%s' (totalseg or verse)", scheme);
    st = sp_io_read_nifti(path, &map, err);
    if (st != SP_OK) return st;
    memset(&c, 0, sizeof c);
    size_t n = sp_vol_nvox(ct);
    src = malloc(n);
    r = calloc(1, sizeof *r);
    if (!src || !r) {
        st = sp_fail(err, SP_ENOMEM, "out of memory");
        goto done;
    }
    st = onto_grid(ct, map, totalseg, src, path, err);
    if (st != SP_OK) goto done;
    for (size_t i = 0; i < n; i++)
        if (src[i] < 29) present[src[i]]++;
    /* levels caudal first, as the internal stages expect */
    for (int ord = 27; ord >= 1; ord--)
        for (int v = 1; v < 29; v++)
            if (present[v] && ordinal(v) == ord && nlv < SP_SEG_MAX_VERT) order[nlv++] = v;
    if (nlv == 0) {
        st = sp_fail(err, SP_EUNSUPPORTED, "%s: no vertebra labels in the %s scheme", path, scheme);
        goto done;
    }
    st = seg_canon_make(ct, &c);
    if (st != SP_OK) goto done;
    lab = calloc(n, 1);
    parts = malloc(n);
    if (!lab || !parts) {
        st = sp_fail(err, SP_ENOMEM, "out of memory");
        goto done;
    }
    {
        uint8_t idx[29] = {0};
        for (int k = 0; k < nlv; k++) idx[order[k]] = (uint8_t)(k + 1);
        /* src is on the source grid; bring it to canonical order */
        for (int k = 0; k < c.n[2]; k++)
            for (int j = 0; j < c.n[1]; j++)
                for (int i = 0; i < c.n[0]; i++) {
                    int ca[3] = {i, j, k}, s[3];
                    for (int a = 0; a < 3; a++) s[c.perm[a]] = c.flip[a] ? c.n[a] - 1 - ca[a] : ca[a];
                    lab[((size_t)k * c.n[1] + j) * c.n[0] + i] = idx[src[sp_vol_idx(ct, s[0], s[1], s[2])]];
                }
    }
    /* frame seeds: centroid of each vertebra's anterior half, axis via neighbours */
    double cen[SP_SEG_MAX_VERT][3] = {{0}}, ant[SP_SEG_MAX_VERT][3] = {{0}};
    double cnt[SP_SEG_MAX_VERT] = {0}, acnt[SP_SEG_MAX_VERT] = {0};
    for (int pass = 0; pass < 2; pass++) {
        for (int z = 0; z < c.n[2]; z++)
            for (int y = 0; y < c.n[1]; y++)
                for (int x = 0; x < c.n[0]; x++) {
                    int l = lab[((size_t)z * c.n[1] + y) * c.n[0] + x];
                    if (!l) continue;
                    double X[3] = {x * c.spacing[0], y * c.spacing[1], z * c.spacing[2]};
                    if (pass == 0) {
                        for (int a = 0; a < 3; a++) cen[l - 1][a] += X[a];
                        cnt[l - 1]++;
                    } else if (X[1] < cen[l - 1][1]) {
                        for (int a = 0; a < 3; a++) ant[l - 1][a] += X[a];
                        acnt[l - 1]++;
                    }
                }
        if (pass == 0)
            for (int k = 0; k < nlv; k++)
                for (int a = 0; a < 3; a++) cen[k][a] /= cnt[k] > 0 ? cnt[k] : 1;
    }
    for (int k = 0; k < nlv; k++) {
        int lo = k > 0 ? k - 1 : k, hi = k + 1 < nlv ? k + 1 : k;
        double si[3];
        for (int a = 0; a < 3; a++) {
            r->vert[k].body_centre[a] = acnt[k] > 0 ? ant[k][a] / acnt[k] : cen[k][a];
            si[a] = cen[hi][a] - cen[lo][a];
        }
        if (hi == lo) si[0] = 0, si[1] = 0, si[2] = 1;
        sp_normalize3(si);
        memcpy(r->vert[k].axis_si, si, sizeof si);
    }
    st = seg_label_parts(&c, lab, nlv, false, parts, r->vert);
    if (st != SP_OK) {
        st = sp_fail(err, st, "out of memory splitting parts");
        goto done;
    }
    /* Partial: its body reaches the first or last axial slice (a label that
     * only reaches it with an articular or spinous process is whole enough
     * to measure). */
    bool at_edge[SP_SEG_MAX_VERT] = {false};
    for (int e = 0; e < 2; e++) {
        size_t nxy = (size_t)c.n[0] * c.n[1], z0 = e ? (size_t)(c.n[2] - 1) * nxy : 0;
        for (size_t i = z0; i < z0 + nxy; i++)
            if (lab[i] && parts[i] == SP_SEG_PART_BODY) at_edge[lab[i] - 1] = true;
    }
    r->vertebrae = sp_vol_new_like(ct, SP_U8);
    r->parts = sp_vol_new_like(ct, SP_U8);
    if (!r->vertebrae || !r->parts) {
        st = sp_fail(err, SP_ENOMEM, "out of memory");
        goto done;
    }
    {
        uint8_t lut[256] = {0};
        for (int k = 0; k < nlv; k++) lut[k + 1] = (uint8_t)order[k];
        for (size_t i = 0; i < n; i++) lab[i] = lut[lab[i]];
    }
    seg_canon_to_source(&c, lab, r->vertebrae);
    seg_canon_to_source(&c, parts, r->parts);
    r->nvert = nlv;
    for (int k = 0; k < nlv; k++) {
        sp_seg_vertebra *v = &r->vert[k];
        v->label = order[k];
        sp_seg_level_name(order[k], v->name);
        v->confidence = 1.0;
        v->partial = at_edge[k] && order[k] != 26; /* a sacrum is rarely whole in view; its shape is not measured */
        snprintf(v->anchor, sizeof v->anchor, "imported label map (%s)", scheme);
    }
    for (int k = 0; k < nlv / 2; k++) {
        sp_seg_vertebra t = r->vert[k];
        r->vert[k] = r->vert[nlv - 1 - k];
        r->vert[nlv - 1 - k] = t;
    }
    snprintf(r->anchors, sizeof r->anchors, "imported label map %s", path);
    *out = r;
    r = NULL;
done:
    seg_canon_free(&c);
    sp_vol_free(map);
    free(src);
    free(lab);
    free(parts);
    sp_seg_result_free(r);
    return st;
}
