/* volume.c - allocation and geometry of sp_volume.
 *
 * DESIGN: sizes are multiplied with overflow checks (FFmpeg av_size_mult) and
 * data are 64-byte aligned and zero-filled, so kernels can vectorise and a
 * volume that is only partly written never holds garbage. The zeroing comes
 * from calloc (over-allocated by 64 bytes and aligned by hand, the original
 * pointer kept just below the data): large blocks are fresh zero pages from
 * the kernel, touched first by whichever thread writes them, instead of a
 * serial memset over hundreds of megabytes. */
#include "sp_volume.h"

#include <stdlib.h>
#include <string.h>

size_t sp_dtype_size(sp_dtype t)
{
    switch (t) {
    case SP_I16: return 2;
    case SP_U8: return 1;
    case SP_F32: return 4;
    }
    return 0;
}

static int mul_ok(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

sp_volume *sp_vol_new(sp_dtype t, int32_t nx, int32_t ny, int32_t nz)
{
    size_t es = sp_dtype_size(t), n, bytes;
    sp_volume *v;
    if (es == 0 || nx <= 0 || ny <= 0 || nz <= 0) return NULL;
    if (!mul_ok((size_t)nx, (size_t)ny, &n) || !mul_ok(n, (size_t)nz, &n) ||
        !mul_ok(n, es, &bytes) || bytes > SIZE_MAX - 256)
        return NULL;
    bytes = (bytes + 63) & ~(size_t)63;
    v = calloc(1, sizeof *v);
    if (!v) return NULL;
    {
        char *raw = calloc(1, bytes + 64 + sizeof(void *));
        if (!raw) {
            free(v);
            return NULL;
        }
        uintptr_t a = ((uintptr_t)raw + sizeof(void *) + 63) & ~(uintptr_t)63;
        ((void **)a)[-1] = raw;
        v->data = (void *)a;
    }
    v->dtype = t;
    v->nx = nx;
    v->ny = ny;
    v->nz = nz;
    v->spacing[0] = v->spacing[1] = v->spacing[2] = 1.0;
    v->ijk_to_lps[0] = v->ijk_to_lps[5] = v->ijk_to_lps[10] = v->ijk_to_lps[15] = 1.0;
    v->slope = 1.0;
    v->inter = 0.0;
    return v;
}

sp_volume *sp_vol_new_like(const sp_volume *ref, sp_dtype t)
{
    sp_volume *v;
    if (!ref) return NULL;
    v = sp_vol_new(t, ref->nx, ref->ny, ref->nz);
    if (!v) return NULL;
    memcpy(v->spacing, ref->spacing, sizeof v->spacing);
    memcpy(v->ijk_to_lps, ref->ijk_to_lps, sizeof v->ijk_to_lps);
    return v;
}

sp_volume *sp_vol_clone(const sp_volume *v)
{
    sp_volume *c = sp_vol_new_like(v, v ? v->dtype : SP_U8);
    if (!c) return NULL;
    c->slope = v->slope;
    c->inter = v->inter;
    memcpy(c->data, v->data, sp_vol_bytes(v));
    return c;
}

void sp_vol_free(sp_volume *v)
{
    if (!v) return;
    if (v->data) free(((void **)v->data)[-1]);
    free(v);
}

size_t sp_vol_bytes(const sp_volume *v) { return sp_vol_nvox(v) * sp_dtype_size(v->dtype); }

void sp_vol_set_geometry(sp_volume *v, const double dir[9], const double spacing[3],
                         const double origin[3])
{
    for (int r = 0; r < 3; r++) {
        for (int c = 0; c < 3; c++) v->ijk_to_lps[r * 4 + c] = dir[r * 3 + c] * spacing[c];
        v->ijk_to_lps[r * 4 + 3] = origin[r];
        v->ijk_to_lps[12 + r] = 0.0;
    }
    v->ijk_to_lps[15] = 1.0;
    memcpy(v->spacing, spacing, sizeof v->spacing);
}

void sp_vol_ijk_to_lps(const sp_volume *v, const double ijk[3], double lps[3])
{
    const double *m = v->ijk_to_lps;
    for (int r = 0; r < 3; r++)
        lps[r] = m[r * 4] * ijk[0] + m[r * 4 + 1] * ijk[1] + m[r * 4 + 2] * ijk[2] + m[r * 4 + 3];
}
