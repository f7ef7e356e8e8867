/* internal.h - helpers shared by the files of score/ (private). */
#ifndef SP_SCORE_INTERNAL
#error "score/internal.h is private to score/"
#endif
#ifndef SP_SCORE_INTERNAL_H
#define SP_SCORE_INTERNAL_H

#include <math.h>
#include <stdint.h>

#include "core/sp_geom.h"
#include "sp_score.h"

/* Everything the measuring kernels read: borrowed volumes plus the LPS ->
 * voxel index transform. */
typedef struct sc_ctx {
    const sp_volume *ct, *lab, *parts;
    double inv[16];       /* LPS -> continuous ijk */
    double vox_ml;
    int box[SP_SEG_MAX_VERT][6]; /* bounding box per vertebra index: x0 x1 y0 y1 z0 z1 */
    /* body region per vertebra: label voxels in front of the posterior wall
     * found along the segmentation's AP axis, within the body's half width */
    int label[SP_SEG_MAX_VERT];
    double bo[SP_SEG_MAX_VERT][3], bap[SP_SEG_MAX_VERT][3], blr[SP_SEG_MAX_VERT][3];
    double bwall[SP_SEG_MAX_VERT], bhalf[SP_SEG_MAX_VERT];
    bool bok[SP_SEG_MAX_VERT];
    bool bsym[SP_SEG_MAX_VERT]; /* AP/LR from the label's mirror symmetry (frame.c) */
    sp_volume *lesion_out; /* lesion voxels (1 lytic, 2 blastic) written by sc_measure_lesion; may be NULL */
} sc_ctx;

/* True when voxel (x,y,z) (label already checked == c->label[k]) is body. */
static inline bool sc_is_body_at(const sc_ctx *c, int k, const double p[3], int part)
{
    if (!c->bok[k]) return part == SP_SEG_PART_BODY;
    double q[3] = {p[0] - c->bo[k][0], p[1] - c->bo[k][1], p[2] - c->bo[k][2]};
    return sp_dot3(q, c->bap[k]) < c->bwall[k] && fabs(sp_dot3(q, c->blr[k])) <= c->bhalf[k];
}
/* Sets up the body region of vertebra k (frame.c). */
void sc_body_region(sc_ctx *c, const sp_seg_vertebra *sv, int k);
/* After sc_body_region for all: an AP axis turned more than SC_AP_TURN_DEG
 * about SI from the mean of its two neighbours' (which agree with each
 * other within that) is replaced by that mean, the centre by the
 * segmentation's, and the body region set up again (frame.c). */
#define SC_AP_TURN_DEG 10.0
void sc_body_axes_check(sc_ctx *c, const sp_seg_result *seg);

static inline void sc_to_ijk(const sc_ctx *c, const double p[3], double ijk[3])
{
    for (int r = 0; r < 3; r++)
        ijk[r] = c->inv[r * 4] * p[0] + c->inv[r * 4 + 1] * p[1] + c->inv[r * 4 + 2] * p[2] + c->inv[r * 4 + 3];
}

static inline void sc_voxel_lps(const sc_ctx *c, int x, int y, int z, double p[3])
{
    const double *m = c->ct->ijk_to_lps;
    for (int r = 0; r < 3; r++) p[r] = m[r * 4] * x + m[r * 4 + 1] * y + m[r * 4 + 2] * z + m[r * 4 + 3];
}

/* o + a*u + b*v + w*s */
static inline void sc_point(const double o[3], const double u[3], double a, const double v[3], double b,
                            const double s[3], double w, double out[3])
{
    for (int k = 0; k < 3; k++) out[k] = o[k] + a * u[k] + b * v[k] + w * s[k];
}

/* Trilinear sample at p of the indicator of vertebra k's voxels (body only
 * when body is true). */
double sc_sample_mask(const sc_ctx *c, int k, bool body, const double p[3]);
/* Trilinear HU at p (-1024 outside the grid). */
double sc_sample_ct(const sc_ctx *c, const double p[3]);

/* Along p0 + t*dir, t in [t0, t1] step dt: the interval around t = 0 where
 * the body indicator is >= 0.5, with linear sub-step interpolation of the
 * crossings. Returns 0 when t = 0 is not inside. */
int sc_extent(const sc_ctx *c, int k, bool body, const double p0[3], const double dir[3], double tmax, double *lo,
              double *hi);

/* sc_extent on the body mask, both ends refined with the CT's HU profile
 * (sub-voxel endplates; frame.c). */
#ifndef SC_EDGE_BIAS
#define SC_EDGE_BIAS 0.2 /* crossing level above half-way (calibrated: 0 gives +1 mm heights at 2.5 mm slices) */
#endif
#define SC_EDGE_MAX_VOX_MM 3.2 /* no HU refinement along directions with coarser voxels */
/* Voxel size along a direction (mm): the voxel's extent projected on dir,
 * sum |dir_a| * spacing_a over the grid axes (frame.c). */
double sc_vox_along(const sc_ctx *c, const double dir[3]);
/* Thick slices along dir: the voxel along it > SC_EDGE_MAX_VOX_MM and the
 * two other grid spacings at most half the one it crosses fastest (slices
 * much thicker than the pixel, so the in-plane label places a surface
 * better than its slices; coarse near-isotropic voxels are not "thick
 * slices": there the refined axis and the plain mask ends were right, e.g.
 * the 3 mm real CT). frame.c. */
bool sc_thick_slices(const sc_ctx *c, const double dir[3]);
#define SC_CUP_CONTRAST_HU 40.0 /* the body under a disc-filled cup differs from the disc by at least this */
#define SC_CUP_LIKE_HU 12.0     /* a label voxel within this of the disc beyond the end reads as disc (patch medians: ~2.5 sigma) */
#define SC_CUP_SHARE 0.25       /* ... and within this share of the body's difference from the disc */
#define SC_CUP_MAX_MM 3.0       /* at most this much of the label's end is taken back */
#define SC_CUP_BONE_HU 110.0    /* the segmentation's bone threshold: a voxel above it is no filled hole */
#define SC_HU_CENTRAL 1 /* sc_extent_hu's how: the middle line (the disc in a sunken endplate's cup) */
#define SC_HU_PLATE 2   /* ... and the endplate split between two thick slices (frame.c, plate_straddle) */
#define SC_PLATE_MM 1.0          /* the endplate's cortical thickness assumed by plate_straddle */
#define SC_PLATE_SLAB_MIN_MM 2.2 /* plate_straddle at slices at least this thick (2 mm slices measure right without) */
#define SC_FRONT_LINE_FRAC 0.15  /* the anterior measuring line lies at this share of the AP depth from the front */
#define SC_BACK_LINE_FRAC 0.85   /* ... and the posterior line at this share */
#define SC_PLATE_SHARE 0.15      /* a slice's excess HU that shows part of the plate, as a share of the peak's contrast */
#define SC_PLATE_MIN_HU 40.0     /* ... and at least this (twice the phantom's trabecular texture; 15 % of a 1 mm plate) */
/* Some grid spacing is at least SC_PLATE_SLAB_MIN_MM (frame.c). */
bool sc_plate_slices(const sc_ctx *c);
#define SC_LO_REFINED 2 /* sc_extent_hu: the low end was moved to the CT's edge */
#define SC_HI_REFINED 4
/* how: SC_HU_CENTRAL on a line through the endplates' middle, where the
 * disc can fill a destroyed endplate's cup (disc_cup_end, frame.c);
 * SC_HU_PLATE where the body holds no lesion (plate_straddle, frame.c). */
int sc_extent_hu(const sc_ctx *c, int k, const double p0[3], const double dir[3], double tmax, int how, double *lo,
                 double *hi);

/* Refines vertebra k's body frame from its body voxels (frame.c). */
void sc_frame_refine(const sc_ctx *c, const sp_seg_vertebra *sv, int k, sp_score_vertebra *v);

/* Replaces v's SI axis (AP and LR re-orthogonalised to it; frame.c). */
void sc_frame_set_si(sp_score_vertebra *v, const double si[3]);

/* Heights, depth, measuring lines (measure_heights.c). */
/* plate_model: the body holds no lesion, so its endplates may be placed
 * from the share of a thin plate split between two thick slices
 * (SC_HU_PLATE). */
void sc_measure_heights(const sc_ctx *c, sp_score_vertebra *v, bool plate_model);

/* Deep voxels (reference bone, blastic seeds): >= 3 mm and >= this many voxels inside. */
#define SC_DEEP_VOXELS 1.5
/* Blastic threshold floor (HU). */
#define SC_BLASTIC_MIN_HU 400.0
/* Geometric pedicle: up to this far lateral of the canal; counted from this volume. */
#define SC_PEDICLE_WIDTH_MM 10.0
#define SC_PEDICLE_MIN_ML 0.1
/* The canal ends where labelled voxels reach this HU within 2.5 mm (arch, pedicles; CSF, cord, fat and tumour stay below). */
#define SC_ARCH_HU 120.0
/* Smallest lesion seed component in voxels (besides SP_LESION_MIN_ML). */
#define SC_MIN_SEED_VOXELS 27
/* Per-level deep trabecular HU (measure_lesion.c). */
void sc_trabecular(const sc_ctx *c, int k, sp_score_vertebra *v);
/* qsort comparator of doubles; median of a[0..n) (sorts a; NAN when n <= 0) (score.c). */
int sc_cmp_double(const void *a, const void *b);
double sc_median(double *a, int n);
/* Per-level median HU of the posterior parts (measure_lesion.c). */
void sc_posterior_density(const sc_ctx *c, int k, sp_score_vertebra *v);

/* Per-level pedicle voxels and their share above r's blastic threshold (measure_lesion.c). */
#define SC_PEDICLE_MIN_VOXELS 20
void sc_pedicle_density(const sc_ctx *c, int k, const sp_score_result *r, sp_score_vertebra *v);

/* Lesion of vertebra k given the reference thresholds in r (measure_lesion.c). */
void sc_measure_lesion(const sc_ctx *c, int k, const sp_score_result *r, sp_score_vertebra *v);

/* Paravertebral and epidural extension of every lesion level (measure_extension.c). */
void sc_extension_all(const sc_ctx *c, sp_score_result *r);

/* Disc angles and translations, Cobb (measure_alignment.c). */
void sc_measure_alignment(sp_score_result *r);

#endif
