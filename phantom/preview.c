/* preview.c - mid-sagittal and axial preview PNGs of a phantom (bone
 * window), so a reader can see at a glance that it looks like a spine.
 *
 * DESIGN: the sagittal image is resampled to square pixels (linear in z);
 * anterior is on the left and cranial at the top. The axial image is shown
 * as radiologists do: patient's right on the image's left, anterior at the
 * top - with LPS voxel order (i toward the patient's left, j toward
 * posterior) that is the slice as stored. */
#define SP_PHANTOM_INTERNAL
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/sp_png.h"

static uint8_t window(double hu)
{
    double v = (hu - (300.0 - 750.0)) / 1500.0 * 255.0;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5);
}

static sp_status sagittal(const sp_phantom *p, const char *path, sp_err *err)
{
    const sp_volume *ct = p->ct;
    const int16_t *d = ct->data;
    double px = ct->spacing[0], dz = ct->spacing[2], x0 = ct->ijk_to_lps[3], sx = 0;
    int w = ct->ny, h = (int)floor((ct->nz - 1) * dz / ct->spacing[1]) + 1, i;
    uint8_t *img;
    sp_status st;
    for (int k = 0; k < p->scene.nvert; k++) sx += p->scene.v[k].c[0] / p->scene.nvert;
    i = (int)lround((sx - x0) / px);
    if (i < 0) i = 0;
    if (i >= ct->nx) i = ct->nx - 1;
    img = malloc((size_t)w * h);
    if (!img) return sp_fail(err, SP_ENOMEM, "out of memory");
    for (int r = 0; r < h; r++) {
        double zk = (ct->nz - 1) - r * ct->spacing[1] / dz, t;
        int k0 = (int)floor(zk), k1;
        if (k0 < 0) k0 = 0;
        if (k0 > ct->nz - 1) k0 = ct->nz - 1;
        k1 = k0 + 1 < ct->nz ? k0 + 1 : k0;
        t = zk - k0;
        for (int j = 0; j < w; j++) {
            double a = d[sp_vol_idx(ct, i, j, k0)], b = d[sp_vol_idx(ct, i, j, k1)];
            img[(size_t)r * w + j] = window(a + (b - a) * t);
        }
    }
    st = sp_png_write(path, img, w, h, 1, 0, err);
    free(img);
    return st;
}

static sp_status axial(const sp_phantom *p, const char *path, const char *level, sp_err *err)
{
    const sp_volume *ct = p->ct;
    const ph_scene *sc = &p->scene;
    const int16_t *d = ct->data;
    int vi = -1, k;
    uint8_t *img;
    sp_status st;
    for (int i = 0; i < sc->nvert && level; i++)
        if (!strcmp(sc->v[i].name, level)) vi = i;
    if (level && vi < 0) return sp_fail(err, SP_EINVAL, "no level %s in this phantom", level);
    if (vi < 0) {
        /* the middle level that lies inside the scan */
        double zc = ct->ijk_to_lps[11] + (ct->nz - 1) * ct->spacing[2] / 2, best = 1e9;
        for (int i = 0; i < sc->nvert; i++)
            if (fabs(sc->v[i].c[2] - zc) < best) {
                best = fabs(sc->v[i].c[2] - zc);
                vi = i;
            }
    }
    k = (int)lround((sc->v[vi].c[2] - ct->ijk_to_lps[11]) / ct->spacing[2]);
    if (k < 0 || k >= ct->nz) return sp_fail(err, SP_EINVAL, "level %s is outside the scan", sc->v[vi].name);
    img = malloc((size_t)ct->nx * ct->ny);
    if (!img) return sp_fail(err, SP_ENOMEM, "out of memory");
    for (int j = 0; j < ct->ny; j++)
        for (int i = 0; i < ct->nx; i++) img[(size_t)j * ct->nx + i] = window(d[sp_vol_idx(ct, i, j, k)]);
    st = sp_png_write(path, img, ct->nx, ct->ny, 1, 0, err);
    free(img);
    return st;
}

sp_status sp_phantom_write_previews(const sp_phantom *p, const char *sagittal_png,
                                    const char *axial_png, const char *axial_level, sp_err *err)
{
    sp_status st = SP_OK;
    if (sagittal_png) st = sagittal(p, sagittal_png, err);
    if (!st && axial_png) st = axial(p, axial_png, axial_level, err);
    return st;
}
