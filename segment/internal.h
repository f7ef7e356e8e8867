/* internal.h - shared between the files of segment/. Private.
 *
 * The stages work in a canonical frame: voxel axes along +L, +P, +S (patient
 * left, posterior, superior), reached from any input by an axis permutation
 * and flips only (no interpolation). Localisation (column, centreline, discs,
 * anchors) runs on a coarse "work" grid of about 1.5 mm made by block means;
 * instance labelling and parts run on the canonical native grid. */
#ifndef SP_SEGMENT_INTERNAL_H
#define SP_SEGMENT_INTERNAL_H

#ifndef SP_SEGMENT_INTERNAL
#error "segment/internal.h is private to segment/"
#endif

#include "sp_segment.h"

/* ---- thresholds (docs/segmentation.md) ---- */
#define SEG_BODY_HU (-400)      /* soft tissue vs air: the patient outline */
#define SEG_BONE_HU 110         /* trabecular bone and denser (osteopenic marrow at 3 mm is ~120-170) */
#define SEG_DENSE_HU 450        /* cortical bone: not reached by contrast blood */
#define SEG_CORTEX_HU 300       /* cortex, also in 3 mm voxels; portal venous blood (150-250) stays below */
#define SEG_CORTEX_SHARE 0.02   /* share of a piece of bone at SEG_CORTEX_HU that shows it has cortex */
#define SEG_WORK_MM 1.5         /* work grid spacing target */
#define SEG_MAX_SAMPLES 2048    /* centreline samples */

/* Canonical view of the input: canon axis a = source axis perm[a], reversed
 * when flip[a]. */
typedef struct seg_canon {
    int perm[3], flip[3];
    int n[3];               /* canonical size */
    double spacing[3];
    double ijk_to_lps[16];  /* canonical voxel -> LPS */
    const int16_t *hu;      /* canonical HU (borrowed src data, or own) */
    int16_t *own;
} seg_canon;

/* canonical.c */
sp_status seg_canon_make(const sp_volume *ct, seg_canon *c);
void seg_canon_free(seg_canon *c);
/* Copies a canonical u8 map back onto the source grid (dst has src's size). */
void seg_canon_to_source(const seg_canon *c, const uint8_t *canon_map, sp_volume *dst);

/* A coarse grid made of f[0]*f[1]*f[2] blocks of the canonical grid. */
typedef struct seg_work {
    int f[3], n[3];
    double spacing[3];
    int16_t *hu;     /* block means */
    uint8_t *body;   /* patient outline (lungs included) */
    uint8_t *bone;   /* HU >= SEG_BONE_HU inside the body */
} seg_work;

/* work.c */
sp_status seg_work_make(const seg_canon *c, seg_work *w);
void seg_work_free(seg_work *w);
/* Trilinear sample of the work HU at continuous work-voxel coordinates. */
double seg_work_sample(const seg_work *w, double x, double y, double z);

/* The spine centreline: one sample per work slice from z0 to z1, in work
 * voxel coordinates, plus arc length in mm and unit tangent (mm space). */
typedef struct seg_line {
    int n;
    int z0;
    double p[SEG_MAX_SAMPLES][3];   /* work voxel coordinates */
    double t[SEG_MAX_SAMPLES][3];   /* unit tangent in mm space (x, y, z mm) */
    double s[SEG_MAX_SAMPLES];      /* arc length, mm */
} seg_line;

/* centreline.c */
sp_status seg_find_centreline(const seg_work *w, seg_line *line, sp_err *err);

/* discs.c: disc positions as arc length (mm) along the centreline, sorted
 * increasing (caudal first, since z grows superiorly). Returns the count. */
int seg_find_discs(const seg_work *w, const seg_line *line, double *disc_s, bool *inferred, int max_discs,
                   bool verbose);
/* Plane of the disc at arc length s, fitted to the disc's own density minima:
 * a point (work voxel coords) and a unit normal (mm space, superior). */
void seg_disc_plane(const seg_work *w, const seg_line *L, double s, double p[3], double n[3]);
/* Centreline point (work voxel coords) and unit tangent at arc length s. */
void seg_line_at_s(const seg_line *L, double s, double p[3], double t[3]);

/* A vertebra segment between two discs (or a scan edge). */
typedef struct seg_level {
    int lo, hi;            /* centreline sample range [lo, hi) (caudal lo) */
    double s_lo, s_hi;     /* arc length of the bounding discs (or line ends) */
    bool open_lo, open_hi; /* bounded by the scan edge, not a disc */
    bool partial;          /* open at an end where the scan cuts the column */
    bool sacrum;
    bool inferred;         /* a bounding disc was not seen but placed by the spacing */
    int ribs;              /* 0, 1, 2 sides with a rib */
    int rib_sides;         /* bit 0 left, bit 1 right: the sides with a rib */
    double wide_frac;      /* share of its slab's slices with bone 45-75 mm to both sides */
    int label;             /* VerSe number once named */
    /* C2 (naming.c, detect_axis): a body whose bone rises as a narrow peg
     * (the dens) into a ring without a body (the atlas). On the C2 level:
     * the peg's axis (a point on it, work voxel coords, and its unit
     * direction in mm space), where it starts (the body top) and ends, and
     * its radius (mm); the levels above
     * it are the atlas ring (instances.c seeds the peg as C2, not as them). */
    bool axis, atlas;
    double peg_p[3], peg_t[3], peg_base, peg_len, peg_r; /* peg from peg_base to peg_len mm along peg_t; radius */
} seg_level;

/* naming.c */
void seg_detect_anchors(const seg_work *w, const seg_line *line, seg_level *lv, int nlv, bool verbose);
/* axis.c: true when level v is C2 (its body goes on up as the dens through
 * the atlas ring); sets v's peg_* fields */
bool seg_detect_axis(const seg_work *w, const seg_line *L, seg_level *v, bool verbose);
/* qsort comparator for doubles, ascending (axis.c). */
int seg_cmp_double(const void *a, const void *b);
void seg_name_levels(seg_level *lv, int nlv, sp_seg_result *r);
/* VerSe label of the vertebra above / below (sacrum below L5). */
int seg_label_up(int label);
int seg_label_down(int label);

/* instances.c: labels the canonical grid (lab: 1..nlv = level index + 1).
 * With edge_lo / edge_hi (the scan cuts the column there), bone that no
 * vertebra in view reached and that touches the first / last slice is the
 * vertebra beyond the cut: labelled SEG_EDGE_LO / nlv + 1 when at least
 * 100 mm3, and *got_lo / *got_hi say so. */
#define SEG_EDGE_LO 255
sp_status seg_label_instances(const seg_canon *c, const seg_work *w, const seg_line *line,
                              const seg_level *lv, int nlv, bool edge_lo, bool edge_hi, bool *got_lo, bool *got_hi,
                              uint8_t *lab);

/* vessels.c: removes from labels 1..nlv the pieces without cortex in front
 * of a vertebra's body (a contrast-filled aorta), and an edge fragment
 * (SEG_EDGE_LO / nlv + 1, when *got_lo / *got_hi) without cortex, clearing
 * its flag. Fine in-plane grids only (<= 1.25 mm). */
void seg_drop_vessels(const seg_canon *c, uint8_t *lab, int nlv, bool *got_lo, bool *got_hi);

/* parts.c: per level local frame and parts map on the canonical grid. On
 * entry vert[k].body_centre and axis_si hold the centreline point and
 * tangent in canonical mm; on return every vert[] field it owns is in LPS.
 * With fill, enclosed holes of each vertebra are added to lab (our own
 * labels); imported labels are left exactly as given. */
sp_status seg_label_parts(const seg_canon *c, uint8_t *lab, int nlv, bool fill, uint8_t *parts, sp_seg_vertebra *vert);
/* islands.c: a detached body piece of one level lying against one other
 * level only (labels 1..nlv, parts known) becomes that level's; boxes[k]
 * bounds label k + 1 (inclusive voxel ranges; hi < lo when empty) */
typedef struct seg_box {
    int lo[3], hi[3];
} seg_box;
sp_status seg_give_islands(const seg_canon *c, uint8_t *lab, uint8_t *parts, int nlv, const seg_box *boxes);
/* disc_boundary.c: a body corner taken across the disc goes back (boxes widen) */
sp_status seg_fix_disc_boundaries(const seg_canon *c, uint8_t *lab, const uint8_t *parts, int nlv, seg_box *boxes);
/* peel.c: drops the partial-volume shell outside each label's half-way edge */
void seg_peel_surface(const seg_canon *c, uint8_t *lab, uint8_t *parts);

#endif
