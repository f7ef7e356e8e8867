/* scan.c - index every file under a path and build the scan result.
 *
 * DESIGN: the tree walk is serial and sorted (deterministic file order); the
 * header reads, which dominate on large exports, run in parallel over files.
 * Each iteration writes only its own files[i] / hdr[i] slot, and DCMTK objects
 * are per call, so the parallel loop is race-free (io/ is the one module that
 * calls a shim inside an OpenMP loop; see docs/conventions.md). */
#define SP_IO_INTERNAL
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/sp_log.h"
#include "core/sp_omp.h"

typedef struct path_list {
    char **v;
    int n, cap;
} path_list;

static sp_status push_path(path_list *l, const char *p)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 256;
        char **nv = realloc(l->v, (size_t)cap * sizeof *nv);
        if (!nv) return SP_ENOMEM;
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n] = strdup(p);
    if (!l->v[l->n]) return SP_ENOMEM;
    l->n++;
    return SP_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Recursive walk; unreadable sub-folders are skipped with a warning. */
static sp_status walk(const char *dir, bool follow, int depth, path_list *out)
{
    DIR *d;
    struct dirent *e;
    sp_status st = SP_OK;
    if (depth > 64) return SP_OK; /* symlink loops or absurd nesting */
    d = opendir(dir);
    if (!d) {
        sp_log(SP_LOG_WARN, "%s: cannot open folder (%s); skipped", dir, strerror(errno));
        return SP_OK;
    }
    while (st == SP_OK && (e = readdir(d)) != NULL) {
        char p[4096];
        struct stat sb;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) continue;
        if ((follow ? stat(p, &sb) : lstat(p, &sb)) != 0) continue;
        if (S_ISDIR(sb.st_mode)) st = walk(p, follow, depth + 1, out);
        else if (S_ISREG(sb.st_mode)) st = push_path(out, p);
    }
    closedir(d);
    return st;
}

/* Sets state and reason of a file from its header read. */
static void classify(sp_scan_file *f, const sp_dicom_header *h, sp_status st, const sp_err *e)
{
    f->series = -1;
    if (sp_io_is_nifti_path(f->path)) {
        f->state = SP_FILE_NIFTI;
        snprintf(f->reason, sizeof f->reason, "NIfTI file: pass it to spinemet directly");
    } else if (st == SP_EIO) {
        f->state = SP_FILE_UNREADABLE;
        snprintf(f->reason, sizeof f->reason, "cannot be read");
    } else if (st != SP_OK) {
        const char *m = strstr(e->msg, ": ");
        f->state = SP_FILE_NOT_DICOM;
        snprintf(f->reason, sizeof f->reason, "%s", m ? m + 2 : e->msg);
    } else if (h->is_dicomdir) {
        f->state = SP_FILE_NO_PIXELS;
        snprintf(f->reason, sizeof f->reason, "DICOMDIR index (the files it lists are scanned directly)");
    } else if (h->private_pixels) {
        f->state = SP_FILE_UNSUPPORTED;
        snprintf(f->reason, sizeof f->reason, "pixel data only in a private vendor element (proprietary compression)");
    } else if (!h->has_pixel_data) {
        f->state = SP_FILE_NO_PIXELS;
        snprintf(f->reason, sizeof f->reason, "no pixel data (%s object)", h->modality[0] ? h->modality : "non-image");
    } else if (h->rows <= 0 || h->cols <= 0 || h->rows > 16384 || h->cols > 16384) {
        f->state = SP_FILE_UNSUPPORTED;
        snprintf(f->reason, sizeof f->reason, "invalid image size %dx%d", h->cols, h->rows);
    } else if (h->samples_per_pixel != 1) {
        f->state = SP_FILE_UNSUPPORTED;
        snprintf(f->reason, sizeof f->reason, "colour image (%d samples per pixel)", h->samples_per_pixel);
    } else if (h->bits_allocated != 8 && h->bits_allocated != 16) {
        f->state = SP_FILE_UNSUPPORTED;
        snprintf(f->reason, sizeof f->reason, "%d bits allocated (8 or 16 supported)", h->bits_allocated);
    } else if (h->bits_stored < 1 || h->bits_stored > h->bits_allocated) {
        f->state = SP_FILE_UNSUPPORTED;
        snprintf(f->reason, sizeof f->reason, "bits stored %d inconsistent with bits allocated %d",
                 h->bits_stored, h->bits_allocated);
    } else if (!strncmp(h->transfer_syntax, "1.3.46.670589.33", 16)) {
        f->state = SP_FILE_UNSUPPORTED;
        snprintf(f->reason, sizeof f->reason, "private (vendor) compression");
    } else {
        f->state = SP_FILE_OK;
        f->reason[0] = '\0';
    }
}



static sp_status read_headers(sp_scan *s, int threads)
{
    sp_dicom_header *hdr = s->priv->hdr;
    sp_scan_file *files = s->files;
    int n = s->nfiles;
    int nthreads = threads > 0 ? threads : sp_omp_max_threads();
    (void)nthreads;
    sp_dicom_init();
    /* omp: iteration i writes only files[i] and hdr[i]; DCMTK state is per call. */
    SP_OMP(parallel for default(none) shared(hdr, files, n) schedule(dynamic, 8) num_threads(nthreads) if(n > 16))
    for (int i = 0; i < n; i++) {
        sp_err e;
        sp_status st;
        if (sp_io_is_nifti_path(files[i].path)) st = SP_EINVAL, e.msg[0] = '\0';
        else st = sp_dicom_read_header(files[i].path, &hdr[i], &e);
        classify(&files[i], &hdr[i], st, &e);
    }
    return SP_OK;
}

/* A scan of a single NIfTI file: one series that loads as it is. */
static sp_status scan_nifti(sp_scan *s, const char *path)
{
    sp_series *sr;
    s->files = calloc(1, sizeof *s->files);
    s->priv->hdr = calloc(1, sizeof *s->priv->hdr);
    if (!s->files || !s->priv->hdr) return SP_ENOMEM;
    s->nfiles = 1;
    s->files[0].path = strdup(path);
    if (!s->files[0].path) return SP_ENOMEM;
    s->files[0].state = SP_FILE_NIFTI;
    s->files[0].series = 0;
    sr = sp_io_series_append(s);
    if (!sr) return SP_ENOMEM;
    sr->nifti = true;
    sr->nslices = 0;
    const char *base = strrchr(path, '/');
    snprintf(sr->description, sizeof sr->description, "%s", base ? base + 1 : path);
    sr->decision = SP_SERIES_LOAD;
    snprintf(sr->reason, sizeof sr->reason, "NIfTI volume, loaded with its stored orientation");
    snprintf(sr->rank_reason, sizeof sr->rank_reason, "the only volume given");
    sr->rank = 1;
    s->chosen = 0;
    snprintf(s->chosen_reason, sizeof s->chosen_reason, "a single NIfTI volume was given");
    return SP_OK;
}

sp_status sp_io_scan(const char *path, const sp_scan_opts *opts, sp_scan **out, sp_err *err)
{
    struct stat sb;
    path_list pl = {0};
    sp_scan *s;
    sp_status st;
    double t0 = sp_now();
    *out = NULL;
    if (stat(path, &sb) != 0) return sp_fail(err, SP_EIO, "%s: %s", path, strerror(errno));
    s = calloc(1, sizeof *s);
    if (!s) return sp_fail(err, SP_ENOMEM, "out of memory");
    s->chosen = -1;
    s->root = strdup(path);
    s->priv = calloc(1, sizeof *s->priv);
    if (!s->root || !s->priv) {
        sp_scan_free(s);
        return sp_fail(err, SP_ENOMEM, "out of memory");
    }
    if (S_ISREG(sb.st_mode) && sp_io_is_nifti_path(path)) {
        st = scan_nifti(s, path);
        goto finish;
    }
    st = S_ISDIR(sb.st_mode) ? walk(path, opts && opts->follow_symlinks, 0, &pl) : push_path(&pl, path);
    if (st != SP_OK) goto finish;
    if (pl.n > 1) qsort(pl.v, (size_t)pl.n, sizeof *pl.v, cmp_str); /* pl.v is NULL when empty */
    s->nfiles = pl.n;
    s->files = calloc((size_t)(pl.n ? pl.n : 1), sizeof *s->files);
    s->priv->hdr = calloc((size_t)(pl.n ? pl.n : 1), sizeof *s->priv->hdr);
    if (!s->files || !s->priv->hdr) {
        st = SP_ENOMEM;
        goto finish;
    }
    for (int i = 0; i < pl.n; i++) s->files[i].path = pl.v[i], pl.v[i] = NULL;
    st = read_headers(s, opts ? opts->threads : 0);
    if (st == SP_OK) st = sp_io_group_series(s);
    if (st == SP_OK) st = sp_io_check_geometry(s);
    if (st == SP_OK) sp_io_rank_series(s);
finish:
    for (int i = 0; i < pl.n; i++) free(pl.v[i]);
    free(pl.v);
    if (st != SP_OK) {
        sp_scan_free(s);
        return sp_fail(err, st, "%s: scan failed (%s)", path, sp_status_str(st));
    }
    s->seconds = sp_now() - t0;
    *out = s;
    return SP_OK;
}

void sp_io_series_clear(sp_series *sr)
{
    free(sr->slice_file);
    free(sr->slice_frame);
    free(sr->slice_ipp);
    sr->slice_file = sr->slice_frame = NULL;
    sr->slice_ipp = NULL;
}

sp_series *sp_io_series_append(sp_scan *s)
{
    sp_series *nv = realloc(s->series, (size_t)(s->nseries + 1) * sizeof *nv);
    if (!nv) return NULL;
    s->series = nv;
    memset(&nv[s->nseries], 0, sizeof nv[0]);
    nv[s->nseries].index = s->nseries;
    return &nv[s->nseries++];
}

void sp_scan_free(sp_scan *s)
{
    if (!s) return;
    for (int i = 0; i < s->nfiles; i++) {
        free(s->files[i].path);
        if (s->priv && s->priv->hdr) sp_dicom_header_clear(&s->priv->hdr[i]);
    }
    for (int i = 0; i < s->nseries; i++) sp_io_series_clear(&s->series[i]);
    free(s->files);
    free(s->series);
    if (s->priv) free(s->priv->hdr);
    free(s->priv);
    free(s->root);
    free(s);
}

int sp_scan_find_series(const sp_scan *s, const char *sel)
{
    char *end;
    long idx;
    if (!sel || !*sel) return s->chosen;
    for (int i = 0; i < s->nseries; i++)
        if (s->series[i].series_uid[0] && !strcmp(s->series[i].series_uid, sel)) return i;
    idx = strtol(sel, &end, 10);
    if (*end == '\0' && idx >= 0 && idx < s->nseries) return (int)idx;
    return -1;
}
