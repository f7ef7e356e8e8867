/* series_geometry.c - sort slices along the normal and decide what to do with
 * each series' geometry.
 *
 * DESIGN: slice spacing comes from image positions projected on the slice
 * normal, never from SliceThickness (overlapping reconstructions have 3 mm
 * slices every 2 mm). Each anomaly gets an explicit decision:
 *   - duplicate positions: the first slice (lowest instance number) is kept,
 *     the others dropped, and the count reported;
 *   - one or two missing slices, uneven spacing, gantry tilt: loaded after
 *     resampling onto a regular orthogonal grid (io/series_resample.c);
 *   - a gap of more than two missing slices (or over 10 mm): the series is
 *     split there, because interpolating across it would invent anatomy;
 *   - no position/orientation, localizers, multi-frame without per-frame
 *     positions: rejected, with the reason. */
#define SP_IO_INTERNAL
#include "internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sp_geom.h"

#define SP_TILT_MIN_DEG 0.5      /* below this a tilt is rounding noise */
#define SP_UNEVEN_TOL 0.05       /* relative spacing deviation still "even" */
#define SP_MAX_FILLED_GAP 2      /* missing slices interpolated; more splits */
#define SP_MAX_FILLED_GAP_MM 10.0

typedef struct slice_ref {
    double pos;
    int file, frame, inst;
    double ipp[3];
} slice_ref;

static int cmp_slice(const void *a, const void *b)
{
    const slice_ref *x = a, *y = b;
    if (x->pos < y->pos - 1e-6) return -1;
    if (x->pos > y->pos + 1e-6) return 1;
    if (x->inst != y->inst) return x->inst < y->inst ? -1 : 1;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    return x->frame - y->frame;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void set_reject(sp_series *sr, const char *why)
{
    sr->decision = SP_SERIES_REJECT;
    snprintf(sr->reason, sizeof sr->reason, "%s", why);
}

static void append_reason(sp_series *sr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void append_reason(sp_series *sr, const char *fmt, ...)
{
    char part[160];
    size_t len = strlen(sr->reason);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(part, sizeof part, fmt, ap);
    va_end(ap);
    snprintf(sr->reason + len, sizeof sr->reason - len, "%s%s", len ? "; " : "", part);
}

/* Writes the sorted slices back into the series arrays. */
static void store_slices(sp_series *sr, const slice_ref *sl, int n)
{
    for (int i = 0; i < n; i++) {
        sr->slice_file[i] = sl[i].file;
        sr->slice_frame[i] = sl[i].frame;
        memcpy(sr->slice_ipp + 3 * i, sl[i].ipp, sizeof sl[i].ipp);
    }
    sr->nslices = n;
}

/* Moves slices [from, n) of sr into a new series appended to s. */
static sp_status split_tail(sp_scan *s, int index, const slice_ref *sl, int from, int n)
{
    sp_series *tail = sp_io_series_append(s), *sr; /* may move s->series */
    if (!tail) return SP_ENOMEM;
    sr = &s->series[index];
    int idx = tail->index;
    *tail = *sr;
    tail->index = idx;
    tail->nslices = n - from;
    tail->slice_file = malloc((size_t)tail->nslices * sizeof(int));
    tail->slice_frame = malloc((size_t)tail->nslices * sizeof(int));
    tail->slice_ipp = malloc((size_t)tail->nslices * 3 * sizeof(double));
    if (!tail->slice_file || !tail->slice_frame || !tail->slice_ipp) return SP_ENOMEM;
    store_slices(tail, sl + from, n - from);
    tail->decision = SP_SERIES_CORRECTED;
    snprintf(tail->reason, sizeof tail->reason, "split from a longer series at a %.1f mm gap",
             sl[from].pos - sl[from - 1].pos);
    for (int i = 0; i < tail->nslices; i++) s->files[tail->slice_file[i]].series = idx;
    return SP_OK;
}

/* Checks one series; may append a split-off part to s. */
static sp_status check_one(sp_scan *s, int index)
{
    sp_series *sr = &s->series[index];
    const sp_dicom_header *hdr = s->priv->hdr;
    const sp_dicom_header *h0 = &hdr[sr->slice_file[0]];
    double row[3] = {h0->iop[0], h0->iop[1], h0->iop[2]}, col[3] = {h0->iop[3], h0->iop[4], h0->iop[5]};
    double nrm[3], *d = NULL, med, stack[3];
    int n = sr->nslices, dups = 0, missing = 0, m = 0, split_at = -1;
    bool uneven = false;
    slice_ref *sl;
    sp_status st = SP_OK;

    if (n < 1) {
        set_reject(sr, "no slices");
        return SP_OK;
    }
    if (sr->localizer) {
        set_reject(sr, "localizer (scout) image, not a cross-sectional series");
        return SP_OK;
    }
    if (!h0->has_iop || !h0->has_ipp) {
        set_reject(sr, "no Image Position / Orientation (Patient): geometry unknown");
        return SP_OK;
    }
    if (!(h0->pixel_spacing[0] > 0) || !(h0->pixel_spacing[1] > 0)) {
        set_reject(sr, "no usable Pixel Spacing: the physical size of the image is unknown");
        return SP_OK;
    }
    if (h0->frames > 1 && !h0->frame_ipp) {
        set_reject(sr, "multi-frame image without per-frame positions");
        return SP_OK;
    }
    sp_cross3(row, col, nrm);
    if (sp_normalize3(nrm) < 0.5 || fabs(sp_dot3(row, col)) > 1e-3) {
        set_reject(sr, "invalid Image Orientation (Patient): row and column not orthonormal");
        return SP_OK;
    }
    sr->axial = fabs(nrm[2]) > 0.8;
    sl = malloc((size_t)n * sizeof *sl);
    d = malloc((size_t)(n > 1 ? n : 1) * sizeof *d);
    if (!sl || !d) {
        st = SP_ENOMEM;
        goto done;
    }
    for (int i = 0; i < n; i++) {
        memcpy(sl[i].ipp, sr->slice_ipp + 3 * i, sizeof sl[i].ipp);
        sl[i].pos = sp_dot3(sl[i].ipp, nrm);
        sl[i].file = sr->slice_file[i];
        sl[i].frame = sr->slice_frame[i];
        sl[i].inst = hdr[sl[i].file].instance_number;
    }
    qsort(sl, (size_t)n, sizeof *sl, cmp_slice);
    /* Duplicates: same position along the normal (and in plane). */
    for (int i = 0; i < n; i++) {
        if (m > 0 && fabs(sl[i].pos - sl[m - 1].pos) < 0.01) {
            dups++;
            continue;
        }
        sl[m++] = sl[i];
    }
    n = m;
    sr->duplicates = dups;
    sr->spacing[2] = sr->slice_thickness > 0 ? sr->slice_thickness : 1.0;
    if (n == 1) {
        store_slices(sr, sl, n);
        sr->nz = 1;
        sr->decision = dups ? SP_SERIES_CORRECTED : SP_SERIES_LOAD;
        if (dups) snprintf(sr->reason, sizeof sr->reason, "single slice (%d more at the same position dropped)", dups);
        else snprintf(sr->reason, sizeof sr->reason, "single slice");
        goto done;
    }
    for (int i = 0; i + 1 < n; i++) d[i] = sl[i + 1].pos - sl[i].pos;
    {
        double *tmp = malloc((size_t)(n - 1) * sizeof *tmp);
        if (!tmp) {
            st = SP_ENOMEM;
            goto done;
        }
        memcpy(tmp, d, (size_t)(n - 1) * sizeof *tmp);
        qsort(tmp, (size_t)(n - 1), sizeof *tmp, cmp_double);
        med = tmp[(n - 1) / 2];
        free(tmp);
    }
    for (int i = 0; i + 1 < n; i++) {
        double ratio = d[i] / med;
        int k = (int)floor(ratio + 0.5);
        if (ratio > 1.5 && fabs(ratio - k) < 0.2) {
            if (k - 1 > SP_MAX_FILLED_GAP || d[i] > SP_MAX_FILLED_GAP_MM) {
                if (split_at < 0) split_at = i + 1;
            } else {
                missing += k - 1;
            }
        } else if (fabs(d[i] - med) > SP_UNEVEN_TOL * med + 0.01) {
            if (d[i] > med * 1.5 && d[i] > SP_MAX_FILLED_GAP_MM && split_at < 0) split_at = i + 1;
            else uneven = true;
        }
    }
    if (split_at > 0) {
        double gap = sl[split_at].pos - sl[split_at - 1].pos;
        st = split_tail(s, index, sl, split_at, n);
        sr = &s->series[index];
        if (st != SP_OK) goto done;
        store_slices(sr, sl, split_at);
        append_reason(sr, "split at a %.1f mm gap (slice spacing %.2f mm); the rest is a separate series",
                      gap, med);
        sr->decision = SP_SERIES_CORRECTED;
        st = check_one(s, index); /* re-check the first part alone */
        goto done;
    }
    store_slices(sr, sl, n);
    /* Tilt: angle between the stacking direction and the slice normal. */
    for (int c = 0; c < 3; c++) stack[c] = sl[n - 1].ipp[c] - sl[0].ipp[c];
    sp_normalize3(stack);
    sr->tilt_deg = acos(fmin(1.0, fabs(sp_dot3(stack, nrm)))) * 180.0 / M_PI;
    sr->missing_slices = missing;
    sr->uneven = uneven;
    /* Output grid spacing along the stack: median step in 3-D. */
    sr->spacing[2] = med / fmax(1e-6, fabs(sp_dot3(stack, nrm)));
    sr->coverage_mm = (sl[n - 1].pos - sl[0].pos) / fmax(1e-6, fabs(sp_dot3(stack, nrm)));
    sr->nz = (int)floor(sr->coverage_mm / sr->spacing[2] + 0.5) + 1;
    if (sr->decision != SP_SERIES_CORRECTED) sr->reason[0] = '\0';
    sr->decision = SP_SERIES_LOAD;
    if (dups) append_reason(sr, "dropped %d duplicate slice(s) at repeated positions", dups);
    if (missing) append_reason(sr, "%d missing slice(s) filled by interpolation (spacing %.2f mm)", missing, med);
    if (uneven) append_reason(sr, "uneven slice spacing resampled to %.2f mm", med);
    if (sr->tilt_deg > SP_TILT_MIN_DEG)
        append_reason(sr, "gantry tilt %.1f deg corrected by resampling", sr->tilt_deg);
    if (dups || missing || uneven || sr->tilt_deg > SP_TILT_MIN_DEG || strstr(sr->reason, "split"))
        sr->decision = SP_SERIES_CORRECTED;
    else
        snprintf(sr->reason, sizeof sr->reason, "regular: %d slices every %.2f mm", n, med);
done:
    free(sl);
    free(d);
    return st;
}

sp_status sp_io_check_geometry(sp_scan *s)
{
    /* s->nseries may grow while we go (splits); the loop picks those up too. */
    for (int i = 0; i < s->nseries; i++) {
        sp_status st;
        if (s->series[i].nifti) continue;
        st = check_one(s, i);
        if (st != SP_OK) return st;
    }
    return SP_OK;
}
