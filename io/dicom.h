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

#ifdef __cplusplus
}
#endif
#endif
