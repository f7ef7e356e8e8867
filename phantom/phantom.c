/* phantom.c - sp_phantom_generate and the phantom object: builds the scene,
 * allocates the volumes, renders, and writes the label maps / everything.
 *
 * DESIGN: the phantom keeps its own copy of the spec (the scene points into
 * it), so the caller may free its spec right after generating. */
#define SP_PHANTOM_INTERNAL
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/sp_log.h"
#include "io/sp_io.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static sp_volume *grid_volume(const ph_scene *sc, sp_dtype t)
{
    static const double dir[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    sp_volume *v = sp_vol_new(t, sc->nx, sc->ny, sc->nz);
    if (v) sp_vol_set_geometry(v, dir, sc->spacing, sc->origin);
    return v;
}

sp_status sp_phantom_generate(const sp_phantom_spec *s, sp_phantom **out, sp_err *err)
{
    sp_phantom *p;
    sp_status st;
    double t0;
    *out = NULL;
    if (!s) return sp_fail(err, SP_EINVAL, "no spec");
    p = calloc(1, sizeof *p);
    if (!p) return sp_fail(err, SP_ENOMEM, "out of memory");
    p->spec = ph_spec_clone(s);
    if (!p->spec) {
        free(p);
        return sp_fail(err, SP_ENOMEM, "out of memory");
    }
    if ((st = ph_scene_build(p->spec, &p->scene, err))) goto fail;
    p->ct = grid_volume(&p->scene, SP_I16);
    p->vert = grid_volume(&p->scene, SP_U8);
    p->parts = grid_volume(&p->scene, SP_U8);
    p->les = grid_volume(&p->scene, SP_U8);
    p->stats = calloc(1, sizeof *p->stats);
    if (!p->ct || !p->vert || !p->parts || !p->les || !p->stats) {
        st = sp_fail(err, SP_ENOMEM, "out of memory for a %dx%dx%d phantom", p->scene.nx,
                     p->scene.ny, p->scene.nz);
        goto fail;
    }
    t0 = now_s();
    if ((st = ph_render(&p->scene, p->ct, p->vert, p->parts, p->les, p->stats, err))) goto fail;
    p->render_s = now_s() - t0;
    sp_log(SP_LOG_DEBUG, "phantom: %dx%dx%d rendered in %.2f s", p->scene.nx, p->scene.ny,
           p->scene.nz, p->render_s);
    *out = p;
    return SP_OK;
fail:
    sp_phantom_free(p);
    return st;
}

void sp_phantom_free(sp_phantom *p)
{
    if (!p) return;
    ph_scene_clear(&p->scene);
    sp_vol_free(p->ct);
    sp_vol_free(p->vert);
    sp_vol_free(p->parts);
    sp_vol_free(p->les);
    free(p->stats);
    sp_phantom_spec_free(p->spec);
    free(p);
}

const sp_volume *sp_phantom_ct(const sp_phantom *p) { return p ? p->ct : NULL; }
const sp_volume *sp_phantom_vertebrae(const sp_phantom *p) { return p ? p->vert : NULL; }
const sp_volume *sp_phantom_parts(const sp_phantom *p) { return p ? p->parts : NULL; }
const sp_volume *sp_phantom_lesions(const sp_phantom *p) { return p ? p->les : NULL; }
double sp_phantom_render_seconds(const sp_phantom *p) { return p ? p->render_s : 0; }

sp_status ph_mkdirs(const char *dir, sp_err *err)
{
    char buf[4096];
    struct stat sb;
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf) return sp_fail(err, SP_EIO, "bad output folder name '%s'", dir);
    memcpy(buf, dir, n + 1);
    /* create each missing parent, like mkdir -p */
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        buf[i] = 0;
        if (stat(buf, &sb) != 0 && mkdir(buf, 0777) != 0 && errno != EEXIST)
            return sp_fail(err, SP_EIO, "cannot create %s: %s", buf, strerror(errno));
        buf[i] = i < n ? '/' : 0;
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return sp_fail(err, SP_EIO, "%s is not a directory", dir);
    return SP_OK;
}

sp_status sp_phantom_write_labels(const sp_phantom *p, const char *dir, sp_err *err)
{
    static const char *const names[3] = {"truth_vertebrae.nii.gz", "truth_parts.nii.gz",
                                         "truth_lesions.nii.gz"};
    const sp_volume *v[3] = {p->vert, p->parts, p->les};
    char path[4096];
    sp_status st;
    if ((st = ph_mkdirs(dir, err))) return st;
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        if ((st = sp_io_write_nifti(path, v[k], err))) return st;
    }
    return SP_OK;
}

sp_status sp_phantom_write_all(const sp_phantom *p, const char *dir, sp_err *err)
{
    char path[4096];
    sp_status st;
    if ((st = ph_mkdirs(dir, err))) return st;
    snprintf(path, sizeof path, "%s/dicom", dir);
    if ((st = sp_phantom_write_dicom(p, path, err))) return st;
    snprintf(path, sizeof path, "%s/truth.json", dir);
    if ((st = sp_phantom_write_truth(p, path, err))) return st;
    return sp_phantom_write_labels(p, dir, err);
}
