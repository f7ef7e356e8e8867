/* series_refs.c - what a derived object (SEG, SR) needs to point back at the
 * series a volume was loaded from: study/series/frame-of-reference UIDs, the
 * SOP instance UIDs of its files in slice order, and the patient/study
 * attributes of its first file (read through the shim). */
#define SP_IO_INTERNAL
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy(char *dst, size_t n, const char *src) { snprintf(dst, n, "%s", src ? src : ""); }

sp_status sp_io_series_refs(const struct sp_scan *s, int index, sp_series_refs **out, sp_err *err)
{
    *out = NULL;
    if (!s || index < 0 || index >= s->nseries || !s->priv || !s->priv->hdr)
        return sp_fail(err, SP_EINVAL, "series references: no series %d", index);
    const sp_series *sr = &s->series[index];
    if (sr->nifti || sr->nslices < 1)
        return sp_fail(err, SP_EINVAL, "%s: a NIfTI series has no DICOM references", s->root);
    sp_series_refs *r = calloc(1, sizeof *r);
    if (!r) return SP_ENOMEM;
    r->sop_instance_uid = calloc((size_t)sr->nslices, sizeof *r->sop_instance_uid);
    r->ipp = calloc((size_t)sr->nslices, sizeof *r->ipp);
    if (!r->sop_instance_uid || !r->ipp) {
        free(r->sop_instance_uid), free(r->ipp), free(r);
        return SP_ENOMEM;
    }
    const sp_dicom_header *h0 = &s->priv->hdr[sr->slice_file[0]];
    copy(r->study_uid, sizeof r->study_uid, h0->study_uid);
    copy(r->series_uid, sizeof r->series_uid, h0->series_uid);
    copy(r->frame_of_ref_uid, sizeof r->frame_of_ref_uid, h0->frame_of_ref_uid);
    copy(r->sop_class_uid, sizeof r->sop_class_uid, h0->sop_class_uid);
    copy(r->modality, sizeof r->modality, h0->modality);
    copy(r->series_description, sizeof r->series_description, h0->series_description);
    copy(r->manufacturer, sizeof r->manufacturer, h0->manufacturer);
    r->series_number = h0->series_number;
    r->multiframe = sr->frames_per_file > 1;
    /* distinct files in slice order (a multi-frame file is referenced once) */
    for (int i = 0; i < sr->nslices; i++) {
        int f = sr->slice_file[i];
        if (i > 0 && sr->slice_file[i - 1] == f) continue;
        const char *uid = s->priv->hdr[f].sop_instance_uid;
        bool seen = false;
        for (int k = r->n - 1; k >= 0 && k >= r->n - 4; k--)
            if (!strcmp(r->sop_instance_uid[k], uid)) seen = true;
        if (seen || !uid[0]) continue;
        memcpy(r->ipp[r->n], &sr->slice_ipp[3 * i], sizeof r->ipp[0]);
        copy(r->sop_instance_uid[r->n++], SP_UID_LEN, uid);
    }
    sp_status st = sp_dicom_read_patient(s->files[sr->slice_file[0]].path, &r->pat, err);
    if (st != SP_OK) {
        sp_series_refs_free(r);
        return st;
    }
    *out = r;
    return SP_OK;
}

void sp_series_refs_free(sp_series_refs *r)
{
    if (!r) return;
    free(r->sop_instance_uid);
    free(r->ipp);
    free(r);
}
