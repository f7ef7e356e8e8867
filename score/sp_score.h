/* sp_score.h - measure each vertebra and pre-fill SINS and WBB, with the
 * evidence for every value.
 *
 * Input: a CT (int16 HU) and a segmentation (sp_seg_result: vertebra labels,
 * parts, per-vertebra frame). Output: one sp_score_vertebra per level with
 * body heights, collapse and Genant grade, lesion character and extent,
 * alignment at the neighbouring discs, SINS components and WBB zones/layers,
 * plus a spine-level summary. Rules and thresholds: docs/scoring.md.
 *
 * The rule functions (sp_sins_*, sp_genant_*, sp_wbb_*) are pure: no I/O,
 * no threads, safe anywhere. */
#ifndef SP_SCORE_H
#define SP_SCORE_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/sp_status.h"
#include "../core/sp_volume.h"
#include "../segment/sp_segment.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SP_SCORE_SCHEMA_VERSION "1.2"

/* ---- Thresholds (docs/scoring.md; written into every report) ---------- */

#define SP_GENANT_MILD_PCT 20.0      /* grade 1 from here */
#define SP_GENANT_MODERATE_PCT 25.0  /* grade 2 from here */
#define SP_GENANT_SEVERE_PCT 40.0    /* grade 3 above this */
#define SP_GENANT_SHAPE_EVEN_PCT 10.0 /* all heights within this of expected: crush */
#define SP_SINS_COLLAPSE_FLOOR_PCT 10.0 /* below this counts as no collapse */
#define SP_SINS_COLLAPSE_HIGH_PCT 50.0  /* > this: 3 points */
#define SP_SINS_INVOLVED_PCT 50.0       /* > this % of body: 1 point without collapse */
#define SP_SINS_TRANSLATION_MM 2.0      /* >= this: subluxation/translation, 4 points */
#define SP_SINS_ANGLE_DEV_DEG 5.0       /* sagittal deviation from the expected profile, or coronal angle */
#define SP_SINS_COBB_DEG 10.0           /* level inside a coronal curve of at least this */
#define SP_SINS_ANGLE_NOISE_K 2.0       /* sagittal deviation must also reach this x the scan's profile scatter */
#define SP_SINS_PROFILE_STEP_DEG 3.5    /* normal change of the sagittal disc angle per level (lumbar lordosis
                                           grows ~3-4 deg per level toward L5/S1; thoracolumbar kyphosis turns
                                           to lordosis at that rate): an expected angle taken as the median of
                                           fewer than 3 discs (no slope) is uncertain by this x the distance in
                                           levels to its nearest reference disc */
#define SP_POSTEROLATERAL_PCT 10.0      /* share of a pedicle or facet that is tumour */
#define SP_WBB_MIN_ML 0.05              /* a zone or layer counts from this tumour volume */
#define SP_WBB_SUPERFICIAL_MM 3.0       /* layer B: intraosseous within this of the bone surface */
#define SP_LESION_MIN_ML 0.2            /* smallest lesion reported in a vertebra */
/* Why paravertebral extension (WBB layer A) is not called (report.json, CSV, HTML). */
#define SP_PARAVERTEBRAL_REASON                                                                                  \
    "not assessed: soft-tissue tumour has the HU of the muscle it replaces; on the phantoms the neighbour "      \
    "comparison found none of 5 masses and flagged 4 of 11 levels without one"
#define SP_POSTERIOR_DENSE_HU 400.0     /* a posterior part this much denser (median) than the neighbours' same part is sclerotic */
#define SP_PEDICLE_DENSE_EXCESS 0.20    /* at a blastic or mixed level: a pedicle's share of voxels above the blastic
                                           threshold this much over the neighbours' same pedicle is involved */
#define SP_PEDICLE_DENSE_MIN_SIZE 0.5   /* ... when its voxels are at least this x the neighbours' (a real pedicle) */
#define SP_MASK_SIZE_LO 0.75           /* body depth / width vs the neighbours' median */
#define SP_MASK_SIZE_HI 1.30
#define SP_MASK_VOXELS_HI 1.40          /* body voxels vs the neighbours' median (no lower bound: collapse) */
#define SP_FRAME_NEIGHBOUR_DEG 8.0      /* own SI axis further than this from its neighbours' mean: not trusted */
#define SP_FRAGMENT_VOXELS 0.7          /* an end level with fewer voxels than this x its neighbour's ... */
#define SP_FRAGMENT_SPACING 0.75        /* ... and its centre closer than this x the next spacing: a fragment */
#define SP_EDGE_TILT_DEG 20.0           /* endplates this far apart next to a vertebra the scan cuts: label holds pieces of it */
#define SP_TALL_MIN_MM 2.5               /* a neighbour's line this much over its neighbours' (and half the loss): boundary misplaced */
#define SP_ODD_LINE_FRAC 0.3          /* posterior line this much shorter than both others (they agreeing): its line left the body */
#define SP_ODD_AGREE_FRAC 0.2         /* anterior and middle within this share of the taller: they agree */
#define SP_WEDGE_ENDPLATE_DEG 17.0    /* end lines' wedge this far over the endplates' angle: an end line left the body */
#define SP_WALL_LONG_FRAC 1.3         /* own posterior wall over this x its neighbours' median line: not the reference */
#define SP_GAP_MISS_MM 4.0              /* a lesion level's height this much under the room its neighbours leave: label misses body */

/* ---- Rule types ----------------------------------------------------------- */

typedef enum sp_lesion_char {
    SP_CHAR_NONE = 0,
    SP_CHAR_LYTIC,
    SP_CHAR_BLASTIC,
    SP_CHAR_MIXED,
    SP_CHAR_NOT_ASSESSED
} sp_lesion_char;

typedef enum sp_pain {
    SP_PAIN_UNKNOWN = -1,
    SP_PAIN_NONE = 0,       /* pain-free lesion: 0 */
    SP_PAIN_OCCASIONAL = 1, /* occasional, not mechanical: 1 */
    SP_PAIN_MECHANICAL = 3  /* mechanical: 3 */
} sp_pain;

typedef enum sp_sins_category {
    SP_SINS_STABLE = 0,        /* 0-6 */
    SP_SINS_INDETERMINATE = 1, /* 7-12 */
    SP_SINS_UNSTABLE = 2       /* 13-18 */
} sp_sins_category;

/* Inputs of the SINS alignment rule at one level (the discs above/below). */
typedef struct sp_sins_align_in {
    double translation_mm;      /* largest |translation| at the adjacent discs; NAN unknown */
    double sagittal_dev_deg;    /* largest |sagittal - expected| at the adjacent discs; NAN unknown */
    double coronal_deg;         /* largest |coronal| at the adjacent discs; NAN unknown */
    double cobb_deg;            /* Cobb of a coronal curve the level lies in; 0 none */
    double sagittal_thr_deg;    /* sagittal deviation needed; <= SP_SINS_ANGLE_DEV_DEG or NAN: that (a scan
                                   whose own profile scatters more asks for more, see sp_score_result) */
} sp_sins_align_in;

/* ---- SINS rules (sins.c; pure) ------------------------------------------ */

/* Location points for a level (VerSe label): 3 junctional (C1-C2, C7-T2,
 * T11-L1 incl. T13 and the last two thoracic levels, the last lumbar incl.
 * L6, the sacrum label as S1), 2 mobile (C3-C6, L2 to the second-last
 * lumbar), 1 semi-rigid (T3-T10). thoracic_count 11-13, lumbar_count 4-6.
 * class_out (may be NULL) gets "junctional"/"mobile"/"semi-rigid". -1 for
 * an unknown label. */
int sp_sins_location(int label, int thoracic_count, int lumbar_count, const char **class_out);
int sp_sins_pain(sp_pain p); /* -1 for unknown */
int sp_sins_bone_lesion(sp_lesion_char c); /* 2 lytic, 1 mixed, 0 blastic; -1 none/not assessed */
/* 4 translation >= 2 mm; else 2 when a deviation >= 5 deg (sagittal: >=
 * sagittal_thr_deg when that is larger) or Cobb >= 10;
 * else 0; -1 when nothing is known. why (may be NULL) names the trigger. */
int sp_sins_alignment(const sp_sins_align_in *in, const char **why);
/* collapse_pct NAN = unknown height; involved_pct NAN = unknown. */
int sp_sins_collapse(double collapse_pct, double involved_pct);
int sp_sins_posterolateral(bool left, bool right);
/* The sclerotic-pedicle rule (measure_lesion.c): a pedicle at a blastic or
 * mixed level whose share of voxels above the blastic threshold exceeds the
 * median of its n neighbours' same-side shares by SP_PEDICLE_DENSE_EXCESS,
 * with at least SP_PEDICLE_DENSE_MIN_SIZE x the median of their voxel
 * counts, is involved. *excess gets the share minus that median (NAN with
 * fewer than 2 neighbours or no share). */
bool sp_pedicle_dense_rule(double share, double voxels, const double *nb_share, const double *nb_voxels, int n,
                           double *excess);
sp_sins_category sp_sins_category_of(int total);
const char *sp_sins_category_name(sp_sins_category c);
/* Parses "mechanical", "occasional", "none" (also "0","1","3"). */
bool sp_sins_parse_pain(const char *s, sp_pain *out);

/* ---- Genant rules (genant.c; pure) --------------------------------------- */

int sp_genant_grade(double collapse_pct); /* -1 for NAN */
/* "normal" for grade 0, else "wedge" (anterior smallest), "biconcave"
 * (middle smallest), "crush" (posterior smallest, or all three within 10 %
 * of expected). */
const char *sp_genant_shape(int grade, double ant, double mid, double post, double expected);

/* ---- WBB rules (wbb.c; pure) --------------------------------------------- */

/* Zone 1..12 of a direction in the axial plane of a vertebra: left = component
 * toward the patient's left, post = toward posterior. Viewed from above,
 * posterior at top, zone 1 starts at the posterior midline, clockwise, so
 * zones 1-6 are on the patient's left. */
int sp_wbb_zone(double left, double post);
/* "left" for zones 1-6, "right" for 7-12. */
const char *sp_wbb_zone_side(int zone);
/* Layer letter index: 0 A (paravertebral), 1 B, 2 C, 3 D (epidural), 4 E. */
char sp_wbb_layer_letter(int layer);

/* ---- Measurements ---------------------------------------------------------- */

typedef struct sp_score_heights {
    bool ok;
    bool lines_left_body;       /* !ok because both end heights are far below the middle (measure_heights.c) */
    bool from_gap;              /* heights from the neighbours' endplates less their discs (score.c, gap_check) */
    double label_heights[3];    /* the label's own heights when from_gap */
    bool boundary_doubt;        /* heights withdrawn: a boundary with a neighbour in doubt (score.c, boundary_check) */
    char reason[320];           /* why not measured when !ok */
    double anterior, middle, posterior; /* mm */
    double depth;               /* AP depth of the body at mid-height, mm */
    double lines[3][2][3];      /* measuring lines (top, bottom) LPS */
    double expected;            /* mm; NAN when not available */
    char expected_source[96];
    double collapse_pct;        /* NAN when not available */
    int genant;                 /* -1 when not available */
    const char *shape;
    double endplate_angle_deg;  /* between the superior and inferior endplate normals */
    double endplate_n[2][3];    /* superior, inferior endplate normals (LPS, pointing up) */
    double front_t, wall_t;     /* AP offsets (mm, + posterior) of the anterior surface and posterior wall */
    double width;               /* LR width of the body at the centre, mm */
    /* posterior wall line in the mid-sagittal plane: AP offset (+ posterior)
     * = wall_a + wall_b * s at SI offset s from the centre (least squares
     * over the central 70 % of the posterior height); post_lo/post_hi = SI
     * offsets of the ends of the posterior measuring line */
    bool wall_ok;
    double wall_a, wall_b, post_lo, post_hi;
} sp_score_heights;

typedef struct sp_score_lesion {
    bool assessed;
    char reason[256];
    sp_lesion_char character;
    double body_involvement_pct;
    double lytic_ml, blastic_ml;
    double lytic_hu, blastic_hu; /* median HU of the lesion voxels */
    double pedicle_pct[2], facet_pct[2], lamina_pct[2]; /* [0] left, [1] right */
    bool side[2];                /* posterolateral involvement left, right */
    bool cortical_breach;
    double breach_area_mm2;
    double paravertebral_ml;     /* soft tissue in excess of the neighbours' (evidence; paravertebral is not called) */
    double epidural_ml;
    bool epidural;
    double canal_occupancy_pct;  /* worst slab; experimental Bilsky input */
    char bilsky[4];              /* experimental; "" when no epidural */
    double zone_ml[12];
    double layer_ml[5];
    unsigned zones;              /* bit z-1 for zone z */
    unsigned layers;             /* bit l for layer l (0 = A) */
    double lesion_centre[3];     /* LPS of the lesion centroid (evidence) */
    char dense_parts[64];        /* posterior parts read as sclerotic against the neighbours' same part (evidence) */
    char dense_pedicles[96];     /* pedicles read as involved by their sclerotic share (evidence; "" none) */
} sp_score_lesion;

typedef struct sp_score_disc {
    bool ok;
    double sagittal_deg, expected_sagittal_deg, coronal_deg;
    double expected_tol_deg;     /* uncertainty of the expected angle from its references' distance (0: a line
                                    through >= 3 discs; NAN: no expected angle) */
    double translation_ap_mm, translation_lat_mm; /* upper rel. to lower, + anterior / left */
    double depth_mm;             /* lower body's depth */
    /* a translation counts for SINS only when confirmed: both levels' masks
     * plausible, and neither level shifted against both of its neighbours
     * (opposite translations at its two discs: a displaced mask, not a
     * listhesis); note says why not */
    bool translation_confirmed;
    char translation_note[96];
} sp_score_disc;

typedef struct sp_score_sins {
    bool applicable;
    const char *location_class;
    int location, pain, bone_lesion, alignment, collapse, posterolateral; /* -1 unknown */
    const char *alignment_why;
    int imaging_subtotal, total_min, total_max;
    sp_sins_category cat_min, cat_max;
    double confidence[6];        /* per component, 0..1 */
} sp_score_sins;

typedef struct sp_score_vertebra {
    int k;                       /* index in the segmentation */
    int label;
    char name[8];
    double level_confidence;
    bool uncertain;
    bool partial; /* cut by the scan's first or last slice, or a fragment: shape and alignment not measured */
    bool fragment; /* partial because it is a fragment at the column's end (end_fragment_check, score.c) */
    double centre[3], si[3], ap[3], lr[3]; /* refined body frame, LPS */
    bool frame_ok;
    /* where the SI axis comes from: 0 the mean of its own endplate normals,
     * 1 its superior endplate, 2 its inferior endplate, 3 its neighbours'
     * axes (own axis off the neighbours' by > SC_FRAME_NEIGHBOUR_DEG) */
    int frame_source;
    double frame_dev_deg;        /* own endplate axis vs the neighbours' mean axis; NAN unknown */
    /* body mask against its neighbours' (up to two each side): depth and
     * width within SP_MASK_SIZE_LO..HI x their median, voxels <= SP_MASK_VOXELS_HI x */
    bool mask_plausible;
    char mask_note[96];
    double trabecular_hu;        /* median of the deep body voxels */
    double trabecular_mad;       /* their median absolute deviation */
    double posterior_hu[3];      /* median HU 1 voxel inside the posterior parts: left, right, spinous (NAN < 20 voxels) */
    int64_t pedicle_vox[2];      /* the parts map's pedicle voxels, left and right */
    double pedicle_dense[2];     /* their share above the blastic threshold (NAN < SC_PEDICLE_MIN_VOXELS) */
    bool canal_ok;
    double canal_centre[3];      /* LPS; centre of the WBB zones */
    double canal_depth, canal_halfwidth; /* mm */
    int64_t body_voxels;
    bool reference;              /* used for the patient's normal bone reference */
    sp_score_heights h;
    sp_score_lesion les;
    sp_score_disc above, below;  /* at the disc above / below (ok=false at the ends) */
    double cobb_deg;             /* coronal curve containing this level; 0 none */
    double translation_mm, sagittal_dev_deg, coronal_deg; /* worst of the two discs (translation: confirmed ones;
                                                             sagittal: |sagittal - expected| less the expected
                                                             angle's tolerance, >= 0) */
    double translation_measured_mm; /* worst translation measured at the two discs, confirmed or not */
    sp_score_sins sins;
} sp_score_vertebra;

typedef struct sp_score_opts {
    sp_pain pain[SP_SEG_MAX_VERT + 32]; /* indexed by VerSe label; SP_PAIN_UNKNOWN default */
    bool pain_given[SP_SEG_MAX_VERT + 32];
} sp_score_opts;

typedef struct sp_score_result {
    int nvert;
    sp_score_vertebra v[SP_SEG_MAX_VERT];
    /* patient reference (normal trabecular bone) */
    double ref_hu, ref_sigma;
    int ref_levels;
    double lytic_thr, blastic_thr;
    double cobb_deg;
    int cobb_upper, cobb_lower;  /* indices of the end vertebrae, -1 none */
    /* scatter of the sagittal angles about the expected profile at discs
     * between normal levels (1.4826 x median |deviation|), and the sagittal
     * deviation the SINS rule asks for: max(SP_SINS_ANGLE_DEV_DEG,
     * SP_SINS_ANGLE_NOISE_K x scatter) */
    double sagittal_scatter_deg, sagittal_thr_deg;
    int thoracic_count, lumbar_count;
    /* spine level */
    int n_lesion_levels;
    int worst;                   /* index of the most unstable level, -1 none */
    double seconds_measure, seconds_score;
    /* the lesion voxels as measured, SP_U8 on the CT's grid: 1 lytic, 2
     * blastic (of a vertebra with a lesion, the kinds that make its
     * character); owned, freed by sp_score_result_free; NULL when no level
     * has a lesion */
    sp_volume *lesion_mask;
} sp_score_result;

/* Initialises opts: pain unknown everywhere. */
void sp_score_opts_init(sp_score_opts *o);

/* Sets the pain of a level from "T12=mechanical". SP_EINVAL with a message
 * for an unknown level or pain word. */
sp_status sp_score_opts_set_pain(sp_score_opts *o, const char *arg, sp_err *err);

/* Reads a clinical sidecar ({"pain": {"T12": "mechanical", ...}}) into o.
 * SP_EIO when unreadable, SP_EINVAL when malformed (the message names the
 * file and the field). */
sp_status sp_score_opts_read_clinical(sp_score_opts *o, const char *path, sp_err *err);

/* Measures and scores every vertebra of seg on ct (both borrowed). *out is
 * owned by the caller (free()). SP_EINVAL when ct is not int16 or the maps
 * are not on its grid; SP_ENOMEM. Not to be called from inside a parallel
 * region (it runs OpenMP loops of its own). */
sp_status sp_score_run(const sp_volume *ct, const sp_seg_result *seg, const sp_score_opts *opts,
                       sp_score_result **out, sp_err *err);

void sp_score_result_free(sp_score_result *r); /* NULL ok */

/* Description of the input and timings for the report (all borrowed). */
typedef struct sp_report_input {
    const char *path, *series, *source, *modality, *description;
    const char *labels, *label_scheme; /* NULL when segmented by spinemet */
    int nx, ny, nz;
    double spacing[3];
    double seconds_load, seconds_segment, seconds_measure, seconds_score, seconds_report;
    const char *seg_flags;
} sp_report_input;

/* The report as a JSON string (malloc'd; caller frees). NULL on OOM.
 * Deterministic apart from the "timings" object. */
char *sp_score_report_json(const sp_score_result *r, const sp_seg_result *seg, const sp_report_input *in);

/* Writes the report to path. SP_EIO naming the file on failure. */
sp_status sp_score_write_report(const sp_score_result *r, const sp_seg_result *seg, const sp_report_input *in,
                                const char *path, sp_err *err);

#ifdef __cplusplus
}
#endif
#endif
