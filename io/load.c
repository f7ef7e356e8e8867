/* load.c - decode a series into a volume in HU (CT) with LPS geometry.
 *
 * DESIGN: slices are decoded in parallel straight into a 16-bit stack (one
 * slot per slice, so no iteration writes another's memory), then converted
 * in place: stored value -> mask to BitsStored -> sign-extend when
 * PixelRepresentation is 1 -> slope/intercept. The result stays int16 when
 * every slice's slope and intercept are integers and all values fit int16
 * (always true for CT in HU); otherwise the stack becomes float32 with the
 * rescale applied. Pixel padding becomes the air value. Series whose decision
 * asks for it are then resampled onto a regular grid (series_resample.c).
 * CT values below -1024 HU (outside the reconstruction circle, or padding a
 * lossy codec blurred so the PixelPaddingValue no longer matches) become
 * -1024 HU, air: no tissue is denser than nothing.
 * A slice that fails to decode fails the load, naming the file: a volume with
 * a silently blank slice would be worse than no volume. */
#define SP_IO_INTERNAL
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sp_log.h"
#include "core/sp_omp.h"

static bool is_j2k(const char *ts)
{
    return !strcmp(ts, "1.2.840.10008.1.2.4.90") || !strcmp(ts, "1.2.840.10008.1.2.4.91");
}

/* Decodes one frame of one file into dst (nx*ny 16-bit slots). scratch holds
 * at least the file's full pixel data for 8-bit and multi-frame files. */
static sp_status decode_slice(const char *path, const sp_dicom_header *h, int frame, uint16_t *dst,
                              uint8_t *scratch, sp_err *e)
{
    size_t npix = (size_t)h->rows * (size_t)h->cols, bps = (size_t)h->bits_allocated / 8;
    size_t frame_bytes = npix * bps;
    sp_status st;
    if (is_j2k(h->transfer_syntax)) {
        uint8_t *buf = NULL;
        size_t len = 0;
        st = sp_dicom_read_fragments(path, (uint32_t)frame, &buf, &len, e);
        if (st == SP_OK) st = sp_io_j2k_decode(buf, len, h->rows, h->cols, (int)bps, bps == 2 ? (void *)dst : scratch, path, e);
        free(buf);
        if (st == SP_OK && bps == 1)
            for (size_t i = 0; i < npix; i++) dst[i] = scratch[i];
        return st;
    }
    if (bps == 2 && h->frames <= 1) return sp_dicom_read_frames(path, dst, frame_bytes, e);
    st = sp_dicom_read_frames(path, scratch, frame_bytes * (size_t)(h->frames > 0 ? h->frames : 1), e);
    if (st != SP_OK) return st;
    if (bps == 2) memcpy(dst, scratch + frame_bytes * (size_t)frame, frame_bytes);
    else
        for (size_t i = 0; i < npix; i++) dst[i] = scratch[frame_bytes * (size_t)frame + i];
    return SP_OK;
}

/* Stored value -> signed integer per the header's bit layout. */
static inline int32_t stored_value(uint16_t raw, int bits_stored, int high_bit, int signed_px)
{
    int shift = high_bit + 1 - bits_stored;
    uint32_t v = ((uint32_t)raw >> (shift > 0 ? shift : 0)) & ((1u << bits_stored) - 1u);
    if (signed_px && bits_stored < 32 && (v & (1u << (bits_stored - 1)))) return (int32_t)v - (int32_t)(1u << bits_stored);
    return (int32_t)v;
}

/* The HU range a slice's header allows (stored value range x rescale). */
static void header_range(const sp_dicom_header *h, double *lo, double *hi)
{
    double smin = h->pixel_rep ? -(double)(1u << (h->bits_stored - 1)) : 0.0;
    double smax = h->pixel_rep ? (double)((1u << (h->bits_stored - 1)) - 1) : (double)((1u << h->bits_stored) - 1);
    double a = smin * h->slope + h->intercept, b = smax * h->slope + h->intercept;
    *lo = a < b ? a : b;
    *hi = a < b ? b : a;
}

/* Converts slice p (nxy stored values) to int16 in place, integer rescale. */
static void slice_to_i16(uint16_t *p, size_t nxy, const sp_dicom_header *h, int air)
{
    int shift = h->high_bit + 1 - h->bits_stored, bits = h->bits_stored;
    uint32_t mask = bits >= 32 ? 0xFFFFFFFFu : (1u << bits) - 1u, sign = 1u << (bits - 1);
    int32_t slope = (int32_t)h->slope, inter = (int32_t)h->intercept, pad = h->padding_value;
    bool signed_px = h->pixel_rep != 0, has_pad = h->has_padding != 0;
    if (shift < 0) shift = 0;
    for (size_t i = 0; i < nxy; i++) {
        uint32_t u = ((uint32_t)p[i] >> shift) & mask;
        int32_t v = (signed_px && (u & sign)) ? (int32_t)u - (int32_t)(mask + 1u) : (int32_t)u;
        int32_t x = (has_pad && v == pad) ? air : v * slope + inter;
        if (air < 0 && x < air) x = air;
        ((int16_t *)p)[i] = (int16_t)x;
    }
}

/* Converts slice k to float (any rescale) into fdst. */
static void slice_to_f32(const uint16_t *p, size_t nxy, const sp_dicom_header *h, double air, float *fdst)
{
    for (size_t i = 0; i < nxy; i++) {
        int32_t v = stored_value(p[i], h->bits_stored, h->high_bit, h->pixel_rep);
        double x = (h->has_padding && v == h->padding_value) ? air : v * h->slope + h->intercept;
        if (air < 0 && x < air) x = air;
        fdst[i] = (float)x;
    }
}

/* Converts the raw stack in place to int16 HU when exact, else into a new
 * float stack (*fstack). Exact means: every slice has an integer slope and
 * intercept and its header's stored range maps into int16 (true for all CT);
 * otherwise the actual values are checked first. */
static sp_status to_values(const sp_scan *s, const sp_series *sr, sp_volume *stack, double air,
                           sp_volume **fstack)
{
    const sp_dicom_header *hdr = s->priv->hdr;
    size_t nxy = (size_t)stack->nx * (size_t)stack->ny;
    int n = sr->nslices, iair = (int)air;
    bool exact = true, need_scan = false;
    for (int k = 0; k < n; k++) {
        const sp_dicom_header *h = &hdr[sr->slice_file[k]];
        double lo, hi;
        if (h->slope != floor(h->slope) || h->intercept != floor(h->intercept) || fabs(h->slope) > 65535 ||
            fabs(h->intercept) > 1e6)
            exact = false;
        header_range(h, &lo, &hi);
        if (lo < -32768.0 || hi > 32767.0) need_scan = true;
    }
    uint16_t *raw = stack->data;
    if (exact && need_scan) {
        /* the header allows values beyond int16: check the real ones */
        int bad = 0;
        /* omp: iteration k reads slice k; bad is an integer max (exact). */
        SP_OMP(parallel for default(none) shared(raw, hdr, sr, n, nxy, air) reduction(max:bad) schedule(static))
        for (int k = 0; k < n; k++) {
            const sp_dicom_header *h = &hdr[sr->slice_file[k]];
            const uint16_t *p = raw + (size_t)k * nxy;
            for (size_t i = 0; i < nxy; i++) {
                int32_t v = stored_value(p[i], h->bits_stored, h->high_bit, h->pixel_rep);
                if (h->has_padding && v == h->padding_value) continue;
                double x = v * h->slope + h->intercept;
                if (air < 0 && x < air) x = air;
                if (x < -32768.0 || x > 32767.0) bad = 1;
            }
        }
        if (bad) exact = false;
    }
    if (!exact) {
        *fstack = sp_vol_new(SP_F32, stack->nx, stack->ny, stack->nz);
        if (!*fstack) return SP_ENOMEM;
    }
    float *fdst = exact ? NULL : (float *)(*fstack)->data;
    /* omp: iteration k rewrites slice k in place (or writes slice k of fdst). */
    SP_OMP(parallel for default(none) shared(raw, fdst, hdr, sr, n, nxy, air, iair) schedule(static))
    for (int k = 0; k < n; k++) {
        const sp_dicom_header *h = &hdr[sr->slice_file[k]];
        uint16_t *p = raw + (size_t)k * nxy;
        if (fdst) slice_to_f32(p, nxy, h, air, fdst + (size_t)k * nxy);
        else slice_to_i16(p, nxy, h, iair);
    }
    return SP_OK;
}

/* Geometry of a regular stack: axes row, column, and the mean slice step. */
static void set_stack_geometry(const sp_series *sr, sp_volume *v)
{
    int n = sr->nslices;
    double dir[9], spc[3] = {sr->spacing[0], sr->spacing[1], sr->spacing[2]}, step[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (n > 1) step[i] = (sr->slice_ipp[3 * (n - 1) + i] - sr->slice_ipp[i]) / (n - 1);
        dir[i * 3] = sr->iop[i];
        dir[i * 3 + 1] = sr->iop[3 + i];
    }
    if (n > 1) {
        double len = sqrt(step[0] * step[0] + step[1] * step[1] + step[2] * step[2]);
        spc[2] = len;
        for (int i = 0; i < 3; i++) dir[i * 3 + 2] = step[i] / len;
    } else {
        dir[2] = sr->iop[1] * sr->iop[5] - sr->iop[2] * sr->iop[4];
        dir[5] = sr->iop[2] * sr->iop[3] - sr->iop[0] * sr->iop[5];
        dir[8] = sr->iop[0] * sr->iop[4] - sr->iop[1] * sr->iop[3];
    }
    sp_vol_set_geometry(v, dir, spc, sr->slice_ipp);
}

static sp_status decode_all(const sp_scan *s, const sp_series *sr, sp_volume *stack, sp_err *err)
{
    const sp_dicom_header *hdr = s->priv->hdr;
    int n = sr->nslices, nthreads = sp_omp_max_threads(), bad = -1;
    size_t nxy = (size_t)stack->nx * (size_t)stack->ny, scratch_bytes = 0;
    sp_err *errs = calloc((size_t)n, sizeof *errs);
    uint8_t *scratch;
    for (int k = 0; k < n; k++) {
        const sp_dicom_header *h = &hdr[sr->slice_file[k]];
        size_t b = nxy * (size_t)(h->bits_allocated / 8) * (size_t)(h->frames > 0 ? h->frames : 1);
        if (b > scratch_bytes) scratch_bytes = b;
    }
    scratch = malloc(scratch_bytes * (size_t)nthreads + 1);
    if (!errs || !scratch) {
        free(errs);
        free(scratch);
        return sp_fail(err, SP_ENOMEM, "out of memory decoding %d slices", n);
    }
    sp_dicom_init();
    uint16_t *raw = stack->data;
    const sp_scan_file *files = s->files;
    /* omp: iteration k writes only slice k of raw and errs[k]; each thread uses
     * its own scratch block. DCMTK objects are per call. */
    SP_OMP(parallel for default(none) shared(raw, errs, scratch, scratch_bytes, hdr, files, sr, n, nxy) schedule(dynamic, 4))
    for (int k = 0; k < n; k++) {
        int f = sr->slice_file[k];
        uint8_t *mine = scratch + scratch_bytes * (size_t)sp_omp_thread_num();
        errs[k].code = decode_slice(files[f].path, &hdr[f], sr->slice_frame[k], raw + (size_t)k * nxy, mine, &errs[k]);
    }
    for (int k = 0; k < n && bad < 0; k++)
        if (errs[k].code != SP_OK) bad = k;
    sp_status st = SP_OK;
    if (bad >= 0) st = sp_fail(err, errs[bad].code, "%s", errs[bad].msg);
    free(errs);
    free(scratch);
    return st;
}

sp_status sp_io_load_series(const sp_scan *s, int index, sp_volume **out, sp_load_info *info, sp_err *err)
{
    const sp_series *sr;
    sp_volume *stack = NULL, *fstack = NULL, *grid = NULL;
    sp_status st;
    double air;
    *out = NULL;
    if (!s || index < 0 || index >= s->nseries)
        return sp_fail(err, SP_EINVAL, "no series %d in %s", index, s ? s->root : "(null)");
    sr = &s->series[index];
    if (info) {
        memset(info, 0, sizeof *info);
        snprintf(info->modality, sizeof info->modality, "%s", sr->modality);
        snprintf(info->description, sizeof info->description, "%s", sr->description);
        snprintf(info->source, sizeof info->source, "%s", sr->nifti ? "nifti" : "dicom");
    }
    if (sr->nifti) return sp_io_read_nifti(s->files[0].path, out, err);
    if (sr->decision == SP_SERIES_REJECT)
        return sp_fail(err, SP_EDICOM, "%s: series %d cannot be loaded: %s", s->root, index, sr->reason);
    stack = sp_vol_new(SP_I16, sr->nx, sr->ny, sr->nslices);
    if (!stack) return sp_fail(err, SP_ENOMEM, "out of memory for a %dx%dx%d volume", sr->nx, sr->ny, sr->nslices);
    double t0 = sp_now();
    st = decode_all(s, sr, stack, err);
    if (st != SP_OK) goto done;
    sp_log(SP_LOG_DEBUG, "load: decoded %d slices in %.2f s", sr->nslices, sp_now() - t0);
    air = !strcmp(sr->modality, "CT") ? -1024.0 : 0.0;
    st = to_values(s, sr, stack, air, &fstack);
    if (st != SP_OK) {
        sp_fail(err, st, "out of memory converting values");
        goto done;
    }
    if (fstack) {
        sp_vol_free(stack);
        stack = fstack;
        fstack = NULL;
    }
    if (sr->decision == SP_SERIES_CORRECTED && (sr->tilt_deg > 0.5 || sr->uneven || sr->missing_slices > 0)) {
        st = sp_io_assemble_grid(sr, stack, air, &grid);
        if (st != SP_OK) {
            sp_fail(err, st, "%s: cannot resample series %d onto a regular grid", s->root, index);
            goto done;
        }
        sp_vol_free(stack);
        stack = grid;
    } else {
        set_stack_geometry(sr, stack);
    }
    if (info) {
        info->nslices_read = sr->nslices;
        if (sr->decision == SP_SERIES_CORRECTED) snprintf(info->corrections, sizeof info->corrections, "%s", sr->reason);
    }
    *out = stack;
    stack = NULL;
done:
    sp_vol_free(stack);
    sp_vol_free(fstack);
    return st;
}

sp_status sp_io_load(const char *path, const char *sel, sp_volume **out, sp_load_info *info, sp_err *err)
{
    sp_scan *s = NULL;
    sp_status st;
    int idx;
    *out = NULL;
    if (sp_io_is_nifti_path(path)) {
        if (info) {
            memset(info, 0, sizeof *info);
            snprintf(info->source, sizeof info->source, "nifti");
        }
        return sp_io_read_nifti(path, out, err);
    }
    st = sp_io_scan(path, NULL, &s, err);
    if (st != SP_OK) return st;
    idx = sp_scan_find_series(s, sel);
    if (idx < 0) {
        st = sel ? sp_fail(err, SP_EINVAL, "%s: no series matches '%s'", path, sel)
                 : sp_fail(err, SP_EDICOM, "%s: %s", path, s->chosen_reason);
    } else {
        st = sp_io_load_series(s, idx, out, info, err);
    }
    sp_scan_free(s);
    return st;
}
