/* sp_io.h - public file-format API: NIfTI in/out, DICOM folder scanning,
 * series choice and volume loading.
 *
 * Volumes come out in LPS geometry. CT is int16 Hounsfield units when the
 * rescale is exact in int16, otherwise f32 holding the rescaled values. */
#ifndef SP_IO_H
#define SP_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/sp_status.h"
#include "../core/sp_volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- NIfTI ---------------------------------------------------------- */

/* Reads a .nii or .nii.gz file. Orientation (sform, else qform) is converted
 * to LPS. Integer data that fits int16 after scl_slope/inter becomes SP_I16,
 * uint8 with no scaling stays SP_U8, anything else SP_F32. *out is NULL on
 * failure; caller owns it. */
sp_status sp_io_read_nifti(const char *path, sp_volume **out, sp_err *err);

/* Writes v as NIfTI-1 (.nii or .nii.gz by the name) with qform and sform
 * both set (code 1, scanner anat) from ijk_to_lps converted to RAS, and
 * scl_slope/scl_inter from v. Labels (SP_U8) are written as uint8. */
sp_status sp_io_write_nifti(const char *path, const sp_volume *v, sp_err *err);

/* Writes text and a final newline to path (created or truncated). SP_EIO
 * with the path and reason on failure. text is borrowed. */
sp_status sp_io_write_text(const char *path, const char *text, sp_err *err);

/* Makes *v int16 CT in Hounsfield units: kept when it is, rounded when it
 * is float holding values below -100 HU (fat, air) within int16 (*v is then
 * replaced; the old volume freed), else SP_EUNSUPPORTED naming path and
 * what was found (8-bit data, no value below -100, out of range, NaN). */
sp_status sp_io_require_hu(sp_volume **v, const char *path, sp_err *err);

/* True when path names a NIfTI file by its extension (.nii, .nii.gz). */
bool sp_io_is_nifti_path(const char *path);

/* ---- Scanning a folder ---------------------------------------------- */

typedef enum sp_file_state {
    SP_FILE_OK = 0,        /* an image with pixel data, grouped into a series */
    SP_FILE_NOT_DICOM,     /* no DICOM preamble/meta or unparsable */
    SP_FILE_UNREADABLE,    /* cannot open / read */
    SP_FILE_NO_PIXELS,     /* DICOM without pixel data (SR, RTSTRUCT, DICOMDIR, ...) */
    SP_FILE_UNSUPPORTED,   /* an image we cannot use (colour, private compression, bad size) */
    SP_FILE_NIFTI          /* a NIfTI file found in the tree */
} sp_file_state;

typedef enum sp_series_decision {
    SP_SERIES_LOAD = 0,     /* usable as it is */
    SP_SERIES_CORRECTED,    /* usable after a correction (resampled tilt/uneven, dropped duplicates) */
    SP_SERIES_REJECT        /* not usable, reason says why */
} sp_series_decision;

typedef struct sp_scan_file {
    char *path;           /* owned by the scan */
    sp_file_state state;
    char reason[160];     /* why it was not used; empty for SP_FILE_OK */
    int series;           /* index into series[], -1 when not grouped */
} sp_scan_file;

typedef struct sp_series {
    int index;
    char study_uid[65], series_uid[65];
    char modality[17], description[65], kernel[65], image_type[128];
    int series_number;
    bool uid_fallback;       /* UIDs empty: grouped by other attributes */
    bool nifti;              /* a NIfTI file, loaded as it is */
    int nslices;             /* slices (frames) that make up the volume, sorted along the normal */
    int *slice_file;         /* per slice: index into scan files[]; owned */
    int *slice_frame;        /* per slice: frame within that file (0 for single-frame); owned */
    double *slice_ipp;       /* per slice: image position (LPS mm), 3 values each; owned */
    double iop[6];           /* row and column direction cosines */
    int nx, ny, nz;          /* grid after assembly (nz = slices of the output grid) */
    int frames_per_file;     /* >1 for enhanced multi-frame */
    double spacing[3];       /* mm; [2] from positions */
    double coverage_mm;      /* extent along the slice normal */
    double slice_thickness;  /* as stated in the header */
    double tilt_deg;         /* gantry tilt found from the geometry */
    int duplicates, missing_slices;
    bool uneven, localizer, secondary, axial;
    bool derived;            /* ImageType DERIVED or SECONDARY (reformats, processed images) */
    sp_series_decision decision;
    char reason[256];        /* the decision's reason (also the correction made) */
    double rank;             /* higher is better for spine work; -1 if rejected */
    char rank_reason[256];   /* why it ranks where it does */
} sp_series;

typedef struct sp_scan {
    char *root;
    int nfiles;
    sp_scan_file *files;
    int nseries;
    sp_series *series;
    int chosen;              /* index of the series picked for analysis, -1 if none */
    char chosen_reason[1024];
    double seconds;          /* wall time of the scan */
    struct sp_scan_priv *priv; /* headers kept for loading; io/ only */
} sp_scan;

typedef struct sp_scan_opts {
    int threads;             /* 0 = OpenMP default */
    bool follow_symlinks;
} sp_scan_opts;

/* Indexes every file under path (a folder tree, a single file or a DICOMDIR's
 * folder), groups images into series, checks each series' geometry and ranks
 * the series for spine work. Files that cannot be used are listed with a
 * reason, never fatal. Fails only when path itself cannot be read (SP_EIO) or
 * on out of memory. *out is owned by the caller (sp_scan_free). */
sp_status sp_io_scan(const char *path, const sp_scan_opts *opts, sp_scan **out, sp_err *err);

void sp_scan_free(sp_scan *s);

/* Finds a series by UID or by decimal index; -1 if none. sel NULL = chosen. */
int sp_scan_find_series(const sp_scan *s, const char *sel);

/* ---- Loading -------------------------------------------------------- */

typedef struct sp_load_info {
    char modality[17], description[65];
    char source[32];         /* "dicom" or "nifti" */
    int nslices_read;
    char corrections[256];   /* what was corrected while loading, empty if none */
} sp_load_info;

/* Decodes series `index` of scan s into a volume (HU for CT), applying the
 * corrections its decision names (tilt and uneven spacing are resampled onto
 * a regular grid). Decoding runs in parallel. *out NULL on failure; the error
 * names the file and the reason. */
sp_status sp_io_load_series(const sp_scan *s, int index, sp_volume **out, sp_load_info *info,
                            sp_err *err);

/* Convenience for the pipeline: path is a NIfTI file or anything sp_io_scan
 * accepts; sel picks a series (UID or index, NULL = best ranked). */
sp_status sp_io_load(const char *path, const char *sel, sp_volume **out, sp_load_info *info,
                     sp_err *err);

#ifdef __cplusplus
}
#endif
#endif
