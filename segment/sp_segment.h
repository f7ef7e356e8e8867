/* sp_segment.h - find, separate and name the vertebrae in a CT volume.
 *
 * One public entry point, sp_seg_run(): CT in (int16 HU, any axis order),
 * a vertebra label map and a parts map out on the input grid, plus one
 * record per vertebra (name, centroid, confidence of the name, the anchor
 * that fixed the numbering). Labels use VerSe numbering: C1..C7 = 1..7,
 * T1..T12 = 8..19, L1..L5 = 20..24, L6 = 25, sacrum = 26, T13 = 28. */
#ifndef SP_SEGMENT_H
#define SP_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/sp_status.h"
#include "../core/sp_volume.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SP_SEG_MAX_VERT 40

/* Parts map values. */
enum {
    SP_SEG_PART_BODY = 1,
    SP_SEG_PART_PEDICLE_L = 2,
    SP_SEG_PART_PEDICLE_R = 3,
    SP_SEG_PART_POSTERIOR_L = 4, /* lamina, facets, transverse process: left */
    SP_SEG_PART_POSTERIOR_R = 5,
    SP_SEG_PART_SPINOUS = 6      /* midline posterior element */
};

typedef struct sp_seg_vertebra {
    int label;              /* VerSe number */
    char name[8];           /* "T12", "L1", "S" (sacrum) */
    double centroid[3];     /* LPS mm, of the whole vertebra */
    double body_centre[3];  /* LPS mm, of the body */
    double axis_si[3], axis_ap[3], axis_lr[3]; /* local frame: superior, posterior, patient-left */
    double confidence;      /* of the name, 0..1 */
    bool uncertain;         /* name not fixed by a consistent anchor */
    char anchor[96];        /* what fixed the numbering */
    char alternatives[64];  /* other plausible names when uncertain */
    int ribs;               /* rib attachments found (0, 1 or 2 sides) */
    bool partial;           /* cut by the scan's first or last slice: shape not measurable */
    int64_t nvox;           /* voxels of this label */
    double disc_above_mm, disc_below_mm; /* arc-length position of the bounding discs */
} sp_seg_vertebra;

typedef struct sp_seg_result {
    sp_volume *vertebrae; /* SP_U8 on the input grid */
    sp_volume *parts;     /* SP_U8 on the input grid */
    int nvert;
    sp_seg_vertebra vert[SP_SEG_MAX_VERT]; /* cranial to caudal */
    char anchors[256];    /* summary of anchors seen */
    char flags[256];      /* "cropped", "transitional", "uncertain names", ... */
    double seconds;
} sp_seg_result;

typedef struct sp_seg_opts {
    int threads;            /* 0 = OpenMP default */
    bool verbose;           /* log intermediate findings */
} sp_seg_opts;

/* Segments ct (SP_I16 HU; borrowed). *out is owned by the caller
 * (sp_seg_result_free). Fails with SP_EUNSUPPORTED when no spine column is
 * found (the message says why), SP_ENOMEM on allocation failure. Not to be
 * called from inside a parallel region. */
sp_status sp_seg_run(const sp_volume *ct, const sp_seg_opts *opts, sp_seg_result **out, sp_err *err);

void sp_seg_result_free(sp_seg_result *r); /* NULL ok */

/* Builds a result from an existing label map (path, NIfTI) on ct's grid
 * instead of segmenting: scheme "totalseg" (TotalSegmentator "total" v2
 * numbering, vertebrae 26 S1 .. 50 C1) or "verse". Names come from the map
 * (confidence 1, anchor "imported label map"); parts are computed as for
 * our own labels. SP_EINVAL for an unknown scheme or a map on another grid. */
sp_status sp_seg_from_labels(const sp_volume *ct, const char *path, const char *scheme, sp_seg_result **out,
                             sp_err *err);

/* VerSe number of a level name ("T12" -> 19, "S"/"sacrum" -> 26); -1 if unknown. */
int sp_seg_level_number(const char *name);

/* Level name of a VerSe number into buf ("L1"); returns buf. */
const char *sp_seg_level_name(int label, char buf[8]);

/* Writes DIR/vertebrae.nii.gz, DIR/parts.nii.gz and DIR/vertebrae.json. */
sp_status sp_seg_write(const sp_seg_result *r, const char *dir, sp_err *err);

#ifdef __cplusplus
}
#endif
#endif
