/* series_group.c - group image files into series.
 *
 * DESIGN: files are grouped by Study and Series Instance UID and split further
 * whenever a volume could not be built from them together: a different frame
 * of reference, image size, orientation, pixel spacing, ImageType (so a
 * localizer never joins an axial series), bit depth or photometric. When the
 * UIDs are empty (anonymisers and some PET/CT exports leave them so), the
 * study is keyed by patient ID + study date and the series by series number,
 * description, modality and series time instead of refusing the files. The
 * grouping key is a string; sorting (key, path) gives a deterministic order. */
#define SP_IO_INTERNAL
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct keyed {
    int file;
    char key[900];
    const char *path;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->path, y->path);
}

/* Rounds to a fixed grid so 1e-7 noise in orientation does not split series. */
static double q(double v, double step) { return (double)(long long)(v / step + (v >= 0 ? 0.5 : -0.5)) * step; }

static void make_key(const sp_dicom_header *h, char *k, size_t n, bool *fallback)
{
    char study[200], series[300];
    *fallback = !h->series_uid[0];
    if (h->study_uid[0]) snprintf(study, sizeof study, "%s", h->study_uid);
    else snprintf(study, sizeof study, "~%s|%s", h->patient_id, h->study_date);
    if (h->series_uid[0]) snprintf(series, sizeof series, "%s", h->series_uid);
    else
        snprintf(series, sizeof series, "~%d|%s|%s|%s", h->series_number, h->series_description,
                 h->modality, h->series_time);
    snprintf(k, n, "%s#%s#%s#%dx%d#%.4f,%.4f,%.4f,%.4f,%.4f,%.4f#%.4f,%.4f#%s#%d#%s#%s", study, series,
             h->frame_of_ref_uid, h->cols, h->rows, q(h->iop[0], 1e-4), q(h->iop[1], 1e-4),
             q(h->iop[2], 1e-4), q(h->iop[3], 1e-4), q(h->iop[4], 1e-4), q(h->iop[5], 1e-4),
             q(h->pixel_spacing[0], 1e-4), q(h->pixel_spacing[1], 1e-4), h->image_type, h->bits_allocated,
             h->photometric, h->is_enhanced ? h->sop_instance_uid : "");
}

bool sp_io_contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && (hay[i] | 32) == (needle[i] | 32)) i++;
        if (i == n) return true;
    }
    return false;
}

/* Fills the descriptive fields of a new series from its first file. */
static void describe(sp_series *sr, const sp_dicom_header *h, bool fallback)
{
    snprintf(sr->study_uid, sizeof sr->study_uid, "%s", h->study_uid);
    snprintf(sr->series_uid, sizeof sr->series_uid, "%s", h->series_uid);
    snprintf(sr->modality, sizeof sr->modality, "%s", h->modality);
    snprintf(sr->description, sizeof sr->description, "%s", h->series_description);
    snprintf(sr->kernel, sizeof sr->kernel, "%s", h->kernel);
    snprintf(sr->image_type, sizeof sr->image_type, "%s", h->image_type);
    memcpy(sr->iop, h->iop, sizeof sr->iop);
    sr->series_number = h->series_number;
    sr->uid_fallback = fallback;
    sr->nx = h->cols;
    sr->ny = h->rows;
    sr->spacing[0] = h->pixel_spacing[1];
    sr->spacing[1] = h->pixel_spacing[0];
    sr->slice_thickness = h->slice_thickness;
    sr->frames_per_file = h->frames > 0 ? h->frames : 1;
    sr->localizer = sp_io_contains_ci(h->image_type, "LOCALIZER");
    sr->secondary = !strcmp(h->sop_class_uid, "1.2.840.10008.5.1.4.1.1.7") ||
                    !strncmp(h->sop_class_uid, "1.2.840.10008.5.1.4.1.1.7.", 26);
    sr->derived = sp_io_contains_ci(h->image_type, "DERIVED") || sp_io_contains_ci(h->image_type, "SECONDARY");
}

sp_status sp_io_group_series(sp_scan *s)
{
    const sp_dicom_header *hdr = s->priv->hdr;
    int n = 0, start;
    keyed *ks = malloc((size_t)(s->nfiles ? s->nfiles : 1) * sizeof *ks);
    if (!ks) return SP_ENOMEM;
    for (int i = 0; i < s->nfiles; i++) {
        bool fb;
        if (s->files[i].state != SP_FILE_OK) continue;
        ks[n].file = i;
        ks[n].path = s->files[i].path;
        make_key(&hdr[i], ks[n].key, sizeof ks[n].key, &fb);
        n++;
    }
    qsort(ks, (size_t)n, sizeof *ks, cmp_keyed);
    for (start = 0; start < n;) {
        int end = start + 1, total = 0;
        bool fb;
        sp_series *sr;
        while (end < n && !strcmp(ks[end].key, ks[start].key)) end++;
        sr = sp_io_series_append(s);
        if (!sr) goto nomem;
        make_key(&hdr[ks[start].file], ks[start].key, sizeof ks[start].key, &fb);
        describe(sr, &hdr[ks[start].file], fb);
        for (int i = start; i < end; i++) total += hdr[ks[i].file].frames > 0 ? hdr[ks[i].file].frames : 1;
        sr->slice_file = malloc((size_t)total * sizeof *sr->slice_file);
        sr->slice_frame = malloc((size_t)total * sizeof *sr->slice_frame);
        sr->slice_ipp = calloc((size_t)total * 3, sizeof *sr->slice_ipp);
        if (!sr->slice_file || !sr->slice_frame || !sr->slice_ipp) goto nomem;
        for (int i = start; i < end; i++) {
            const sp_dicom_header *h = &hdr[ks[i].file];
            int nf = h->frames > 0 ? h->frames : 1;
            s->files[ks[i].file].series = sr->index;
            for (int f = 0; f < nf; f++) {
                const double *p = h->frame_ipp ? h->frame_ipp + 3 * f : h->ipp;
                sr->slice_file[sr->nslices] = ks[i].file;
                sr->slice_frame[sr->nslices] = f;
                memcpy(sr->slice_ipp + 3 * sr->nslices, p, 3 * sizeof *p);
                sr->nslices++;
            }
        }
        start = end;
    }
    free(ks);
    return SP_OK;
nomem:
    free(ks);
    return SP_ENOMEM;
}
