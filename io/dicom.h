/* dicom.h - the C face of the DCMTK shim (io/dicom_dcmtk.cpp).
 *
 * Plain C11: no DCMTK types cross this header. The shim does type conversion
 * and error mapping only; every policy (grouping, sorting, HU, geometry)
 * lives in C (io/series*.c). No shim function may be called from inside an
 * OpenMP parallel region except sp_dicom_read_header and sp_dicom_read_frames,
 * which touch only their own DcmFileFormat and are safe to run concurrently
 * once sp_dicom_init() has returned. */
#ifndef SP_DICOM_H
#define SP_DICOM_H

#include <stddef.h>
#include <stdint.h>

#include "../core/sp_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SP_UID_LEN 65

/* What the indexer needs from one file's header. Strings are NUL-terminated
 * and empty when the attribute is absent. Patient-identifying values are kept
 * only for grouping and never logged. */
typedef struct sp_dicom_header {
    char sop_class_uid[SP_UID_LEN], sop_instance_uid[SP_UID_LEN];
    char study_uid[SP_UID_LEN], series_uid[SP_UID_LEN], frame_of_ref_uid[SP_UID_LEN];
    char transfer_syntax[SP_UID_LEN];
    char modality[17], photometric[17];
    char image_type[128];
    char series_description[65], kernel[65], manufacturer[65], body_part[65];
    char patient_id[65], study_date[17], series_time[17], acquisition_time[17];
    char patient_position[17];
    int series_number, instance_number, acquisition_number; /* INT32_MIN when absent */
    int rows, cols, frames;
    int bits_allocated, bits_stored, high_bit, pixel_rep, samples_per_pixel;
    int has_pixel_data, encapsulated, is_dicomdir, is_enhanced;
    int private_pixels; /* pixels only in a vendor's private group (e.g. ELSCINT1 7FDF) */
    double slope, intercept; /* 1, 0 when absent */
    double pixel_spacing[2]; /* row spacing, column spacing; 0 when absent */
    double slice_thickness, spacing_between_slices, gantry_tilt;
    double ipp[3];
    double iop[6];
    int has_ipp, has_iop, has_padding;
    int32_t padding_value;
    /* Enhanced multi-frame: per-frame positions (frames*3) and rescale, or NULL.
     * Allocated with malloc by the shim; release with sp_dicom_header_clear(). */
    double *frame_ipp;
} sp_dicom_header;

/* Registers the JPEG, JPEG-LS and RLE decoders. Idempotent; call once before
 * any parallel use. */
void sp_dicom_init(void);

/* Reads the header of path into *h (zeroed first), without loading pixel
 * data. Returns SP_EDICOM with a reason for non-DICOM or unreadable files,
 * SP_EIO when the file cannot be opened. h->frame_ipp must be released with
 * sp_dicom_header_clear(). */
sp_status sp_dicom_read_header(const char *path, sp_dicom_header *h, sp_err *err);

/* Frees h->frame_ipp and sets it to NULL. NULL ok. */
void sp_dicom_header_clear(sp_dicom_header *h);

/* Decodes every frame of path to raw stored values (native little endian,
 * bits_allocated/8 bytes per sample, frames one after another) into dst,
 * which the caller allocated with dst_bytes bytes. Handles native, deflate,
 * RLE, JPEG baseline/lossless and JPEG-LS. Returns SP_EUNSUPPORTED for
 * JPEG 2000 (decoded in C, see sp_dicom_read_fragments) and for private
 * compression, SP_EDICOM for corrupt or short pixel data. */
sp_status sp_dicom_read_frames(const char *path, void *dst, size_t dst_bytes, sp_err *err);

/* Copies the compressed bytes of frame `frame` (0-based) of an encapsulated
 * file into *buf (malloc'd; the caller frees it with free()) and its length
 * into *len. Used for codecs DCMTK lacks (JPEG 2000). */
sp_status sp_dicom_read_fragments(const char *path, uint32_t frame, uint8_t **buf, size_t *len,
                                  sp_err *err);

/* What sp_dicom_write_slice writes: a single-frame CT Image Storage object. */
typedef enum sp_dicom_syntax {
    SP_TS_EXPLICIT_LE = 0,
    SP_TS_IMPLICIT_LE = 1,
    SP_TS_EXPLICIT_BE = 2
} sp_dicom_syntax;

typedef struct sp_dicom_slice_meta {
    const char *study_uid, *series_uid, *sop_instance_uid, *frame_of_ref_uid; /* NULL: new UID; "": empty */
    const char *patient_name, *patient_id, *patient_sex, *patient_birth_date;
    const char *study_date, *study_time, *study_id, *accession_number;
    const char *series_description, *kernel, *manufacturer, *body_part;
    const char *image_type;      /* e.g. "ORIGINAL\\PRIMARY\\AXIAL" */
    const char *patient_position; /* e.g. "FFS" */
    int series_number, instance_number;
    int rows, cols;
    int pixel_rep; /* 0 unsigned, 1 signed two's complement */
    int bits_stored; /* 12 or 16 */
    double slope, intercept;
    double pixel_spacing[2]; /* row, column */
    double slice_thickness;
    double ipp[3], iop[6];
    double gantry_tilt; /* degrees, written to (0018,1120) */
    double window_center, window_width;
    sp_dicom_syntax syntax;
} sp_dicom_slice_meta;

/* Writes one CT slice to path. pixels holds rows*cols stored values
 * (uint16 or int16 as pixel_rep says), borrowed. Returns SP_EIO / SP_EDICOM
 * with the reason. */
sp_status sp_dicom_write_slice(const char *path, const sp_dicom_slice_meta *m,
                               const void *pixels, sp_err *err);

/* Fills out (SP_UID_LEN bytes) with a new globally unique UID under the
 * project's root. Thread-safe. */
void sp_dicom_new_uid(char out[SP_UID_LEN]);

/* ---- Source-series references (io/series_refs.c + the shim) ------------ */

/* Patient and study attributes of a source image, for the report header and
 * the patient/study modules of derived objects. Never logged. */
typedef struct sp_dicom_patient {
    char patient_name[129], patient_id[65], patient_sex[17], patient_birth_date[17];
    char study_date[17], study_time[17], accession_number[17], study_id[17];
    char study_description[65], referring_physician[129];
} sp_dicom_patient;

/* Reads the patient/study attributes of path into *p (zeroed first).
 * SP_EIO / SP_EDICOM with the file and the reason. */
sp_status sp_dicom_read_patient(const char *path, sp_dicom_patient *p, sp_err *err);

/* What a derived object needs to reference the series a volume came from. */
typedef struct sp_series_refs {
    sp_dicom_patient pat;
    char study_uid[SP_UID_LEN], series_uid[SP_UID_LEN], frame_of_ref_uid[SP_UID_LEN];
    char sop_class_uid[SP_UID_LEN];
    char modality[17], series_description[65], manufacturer[65];
    int series_number;
    int n;                          /* referenced instances (distinct files, slice order) */
    char (*sop_instance_uid)[SP_UID_LEN]; /* n of them; owned */
    double (*ipp)[3];               /* position of each (first frame); owned */
    int multiframe;                 /* instances hold several frames: no per-slice match */
} sp_series_refs;

struct sp_scan;
/* Collects the references of series `index` of scan s (sp_io.h) and reads
 * the patient/study attributes of its first file. *out is owned by the
 * caller (sp_series_refs_free). SP_EINVAL for a NIfTI or bad index, SP_ENOMEM,
 * SP_EIO / SP_EDICOM naming the file. */
sp_status sp_io_series_refs(const struct sp_scan *s, int index, sp_series_refs **out, sp_err *err);
void sp_series_refs_free(sp_series_refs *r); /* NULL ok */

/* ---- Derived objects: Segmentation and Structured Report ---------------- */

typedef struct sp_dicom_code {
    const char *value, *scheme, *meaning; /* value NULL: absent */
} sp_dicom_code;

/* Patient, study and new-series attributes shared by SEG and SR. */
typedef struct sp_dicom_derived_meta {
    const char *patient_name, *patient_id, *patient_sex, *patient_birth_date;
    const char *study_uid, *study_date, *study_time, *study_id, *accession_number;
    const char *study_description, *referring_physician;
    const char *series_uid, *sop_instance_uid, *series_description;
    const char *content_date, *content_time; /* also instance creation date/time */
    int series_number, instance_number;
    const char *manufacturer, *model, *software_version;
    /* referenced source series */
    const char *ref_series_uid, *ref_sop_class_uid;
    int nref;
    const char (*ref_sop_instance_uid)[SP_UID_LEN];
    /* de-identified (PS3.15 Annex E): Patient Identity Removed YES, the
     * method text and codes, Longitudinal Temporal Information Modified
     * REMOVED. 0: none of them written. */
    int deidentified;
    const char *deid_method;
    int ndeid_codes;
    const sp_dicom_code *deid_codes;
} sp_dicom_derived_meta;

typedef struct sp_dicom_seg_segment {
    const char *label, *description, *algorithm_name;
    sp_dicom_code category, type;
    uint8_t rgb[3];
} sp_dicom_seg_segment;

/* A frame is the pixels of one slice of a label map equal to `value`. */
typedef struct sp_dicom_seg_frame {
    int segment;              /* 1-based */
    int slice;                /* index into ipp */
    const uint8_t *labels;    /* rows*cols label values of that slice; borrowed */
    uint8_t value;
    const char *source_sop_instance; /* source image of this slice (derivation), NULL none */
} sp_dicom_seg_frame;

typedef struct sp_dicom_seg {
    sp_dicom_derived_meta m;
    const char *frame_of_ref_uid, *content_label, *content_creator;
    int rows, cols;
    double pixel_spacing[2], slice_thickness; /* row, column */
    double iop[6];
    const double (*ipp)[3];   /* per slice */
    int nsegments;
    const sp_dicom_seg_segment *segments;
    int nframes;
    const sp_dicom_seg_frame *frames;
} sp_dicom_seg;

/* Writes a binary DICOM Segmentation (dcmseg) to path. SP_EDICOM / SP_EIO
 * with DCMTK's reason and the file. */
sp_status sp_dicom_write_seg(const char *path, const sp_dicom_seg *s, sp_err *err);

/* Loads a Segmentation with dcmseg (as a reader would) and reports its
 * segment and frame counts. SP_EDICOM with DCMTK's reason and the file. */
sp_status sp_dicom_read_seg_counts(const char *path, int *nsegments, int *nframes, sp_err *err);

typedef enum sp_dicom_sr_type {
    SP_SR_CONTAINER = 0, SP_SR_CODE, SP_SR_NUM, SP_SR_TEXT, SP_SR_UIDREF, SP_SR_IMAGE
} sp_dicom_sr_type;

typedef enum sp_dicom_sr_rel {
    SP_SR_CONTAINS = 0, SP_SR_HAS_OBS_CONTEXT, SP_SR_HAS_CONCEPT_MOD, SP_SR_HAS_PROPERTIES,
    SP_SR_INFERRED_FROM
} sp_dicom_sr_rel;

/* One content item, in document order; depth 0 is the root container. */
typedef struct sp_dicom_sr_item {
    int depth;
    sp_dicom_sr_rel rel;      /* to the parent (ignored for the root) */
    sp_dicom_sr_type type;
    sp_dicom_code concept;
    sp_dicom_code code;       /* SP_SR_CODE value; SP_SR_NUM unit */
    double num;
    const char *text;         /* SP_SR_TEXT / SP_SR_UIDREF value */
    const char *template_id;  /* containers: "1500" etc. or NULL */
    const char *ref_sop_class, *ref_sop_instance; /* SP_SR_IMAGE */
    int ref_segment;          /* SP_SR_IMAGE of a SEG: segment number, 0 none */
} sp_dicom_sr_item;

typedef struct sp_dicom_sr {
    sp_dicom_derived_meta m;
    int nitems;
    const sp_dicom_sr_item *items;
    const char *private_scheme, *private_scheme_name; /* coding scheme identification, NULL none */
    /* extra evidence (e.g. the SEG written alongside): same study */
    const char *evidence_series_uid, *evidence_sop_class, *evidence_sop_instance;
} sp_dicom_sr;

/* Writes an Enhanced/Comprehensive SR document (dcmsr) to path. */
sp_status sp_dicom_write_sr(const char *path, const sp_dicom_sr *s, sp_err *err);

#ifdef __cplusplus
}
#endif
#endif
