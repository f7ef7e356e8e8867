/* internal.h - helpers shared by the files of io/ (scan, grouping, geometry,
 * ranking, loading). Private to io/. */
#ifndef SP_IO_INTERNAL_H
#define SP_IO_INTERNAL_H

#ifndef SP_IO_INTERNAL
#error "io/internal.h is private to io/"
#endif

#include "dicom.h"
#include "sp_io.h"

struct sp_scan_priv {
    sp_dicom_header *hdr; /* one per scan file (zeroed for non-DICOM files) */
};

/* series_group.c: groups the SP_FILE_OK files of s into s->series (slices not
 * yet sorted). Returns SP_ENOMEM on allocation failure. */
sp_status sp_io_group_series(sp_scan *s);

/* series_geometry.c: sorts each series' slices along the normal, finds
 * duplicates, gaps, uneven spacing and tilt, and sets the decision. May split
 * a series at a large gap (appends to s->series). */
sp_status sp_io_check_geometry(sp_scan *s);

/* series_rank.c: ranks the series for spine work and sets s->chosen. */
void sp_io_rank_series(sp_scan *s);

/* True when needle occurs in hay, ignoring ASCII case (series_group.c). */
bool sp_io_contains_ci(const char *hay, const char *needle);

/* Appends a zeroed series to s->series; returns it or NULL on no memory. */
sp_series *sp_io_series_append(sp_scan *s);

/* Frees the arrays owned by one series. */
void sp_io_series_clear(sp_series *sr);

/* j2k_decode.c: decodes a JPEG 2000 codestream (raw J2K or JP2) into dst as
 * native 16-bit (bytes_per_sample 2) or 8-bit samples, rows*cols of them. */
sp_status sp_io_j2k_decode(const uint8_t *buf, size_t len, int rows, int cols, int bytes_per_sample,
                           void *dst, const char *path, sp_err *err);

/* series_resample.c: assembles the sorted slices of sr (stack: nx*ny*nslices,
 * SP_I16 or SP_F32, slice k at sr->slice_ipp[k]) onto a regular orthogonal
 * grid, correcting tilt, uneven spacing and filled gaps. Voxels without data
 * get `air`. *out is new (caller owns). SP_ENOMEM / SP_EINVAL on failure. */
sp_status sp_io_assemble_grid(const sp_series *sr, const sp_volume *stack, double air, sp_volume **out);

#endif
