/* internal.h - data shared by the phantom generator's files (private).
 *
 * DESIGN: the spec (what the user asked for) is parsed once into
 * sp_phantom_spec; anatomy.c turns it into a ph_scene (one ph_vert per
 * level with its local frame and dimensions, ribs, pelvis, body outline);
 * sample.c evaluates the scene at a point; render.c samples it over the
 * grid; truth.c describes the result. All lengths are millimetres in DICOM
 * LPS (x = patient left, y = posterior, z = superior). */
#ifndef SP_PHANTOM_INTERNAL
#error "phantom/internal.h is private to phantom/"
#endif
#ifndef SP_PHANTOM_INTERNAL_H
#define SP_PHANTOM_INTERNAL_H

#include <stdint.h>

#include "core/sp_volume.h"
#include "sp_phantom.h"

#define PH_MAX_LEVELS 32
#define PH_NAME 8

/* Lesion character. */
enum { PH_LES_NONE = 0, PH_LYTIC = 1, PH_BLASTIC = 2, PH_MIXED = 3 };
/* Collapse shape. */
enum { PH_SHAPE_NONE = 0, PH_WEDGE = 1, PH_BICONCAVE = 2, PH_CRUSH = 3 };
/* Sides for extensions. */
enum { PH_SIDE_LEFT = 0, PH_SIDE_RIGHT = 1, PH_SIDE_ANTERIOR = 2, PH_SIDE_POSTERIOR = 3 };
/* Bilsky grades as indices; -1 = no epidural tumour. */
enum { PH_BILSKY_1A = 0, PH_BILSKY_1B, PH_BILSKY_1C, PH_BILSKY_2, PH_BILSKY_3 };

/* Tissue codes of a sample (boundary detection compares these). */
enum {
    PH_T_AIR = 0, PH_T_FAT, PH_T_SOFT, PH_T_MUSCLE, PH_T_LUNG, PH_T_CORTEX, PH_T_TRAB,
    PH_T_DISC, PH_T_CSF, PH_T_CORD, PH_T_EPIFAT, PH_T_LYTIC, PH_T_BLASTIC, PH_T_TUMOUR,
    PH_T_COUNT
};

typedef struct ph_lesion_spec {
    int type;                 /* PH_LES_* */
    unsigned parts;           /* bit (1u << SP_PART_*) per involved part */
    double body_extent_pct;   /* target % of body volume (when body is involved) */
    double center[3];         /* body-relative centre: left, anterior, superior in [-1,1] */
    int breach;               /* cortex destroyed where the tumour meets it */
    double paravertebral_mm;  /* soft-tissue extension thickness beyond cortex (0 none) */
    int paravertebral_side;   /* PH_SIDE_* */
    int bilsky;               /* PH_BILSKY_* or -1 */
    int epidural_side;        /* PH_SIDE_* (anterior, left, right, posterior) */
} ph_lesion_spec;

typedef struct ph_level_spec {
    char name[PH_NAME];
    double collapse_pct;      /* 0..90 */
    int collapse_shape;       /* PH_SHAPE_* */
    double trabecular_hu;     /* NaN = default */
    double kyphosis_deg;      /* added at the disc below this level */
    double coronal_deg;       /* added coronal angle at the disc below */
    double trans_ap_mm;       /* this level displaced anteriorly vs the one below */
    double trans_lat_mm;      /* ... and to the left */
    ph_lesion_spec lesion;
} ph_level_spec;

struct sp_phantom_spec {
    char name[256];           /* where it came from (messages) */
    uint64_t seed;
    char patient_id[65], patient_name[65], position[8], study_date[9], study_time[7];
    char description[65];
    double size_scale, body_width, body_depth, fat_mm;
    char from[PH_NAME], to[PH_NAME];
    int thoracic_count, lumbar_count, rib_pairs, sacralized_l5;
    double kyphosis_deg, lordosis_deg, cervical_lordosis_deg;
    /* tissue HU */
    double hu_cortex, cortex_mm, hu_trab, hu_disc, hu_muscle, hu_fat, hu_soft, hu_csf, hu_cord;
    double hu_lung, hu_air, hu_lytic, hu_blastic, hu_tumour, texture_hu;
    double hu_aorta;          /* contrast-filled aortic lumen; NaN = no contrast (soft tissue) */
    /* scan */
    int nx, ny;
    double pixel_mm, slice_mm, thickness_mm, noise_hu, margin_mm;
    int supersample;
    char fov_from[PH_NAME], fov_to[PH_NAME];
    double center[2];
    int has_center;
    /* scoliosis */
    char scol_apex[PH_NAME];
    double scol_cobb;
    int scol_convex_right, scol_span;
    /* osteoporosis (global) */
    double osteo_trab_hu, osteo_cortex_mm; /* NaN = none */
    int nlevels;
    ph_level_spec levels[PH_MAX_LEVELS];
    char *canonical;          /* canonical JSON of the spec (UIDs hash it); owned */
};

/* One vertebra (or the sacrum) as built. */
typedef struct ph_vert {
    char name[PH_NAME];
    int label;                /* VerSe: C1=1..L5=24, L6=25, sacrum=26, T13=28 */
    int region;               /* 0 C, 1 T, 2 L, 3 S */
    double pos;               /* continuous anatomical index for sizes (T1 = 8) */
    int sacrum, has_ribs;
    double c[3], l[3], f[3], u[3]; /* body centre and local axes: left, anterior, up */
    double H0, H, W, D;       /* normal height, height at mid-depth as built, width, depth */
    double disc_below;        /* disc thickness at its centre (0 for the last) */
    double collapse;          /* fraction 0..0.9 */
    int shape;                /* PH_SHAPE_* */
    double trab_hu, cortex_mm;
    /* posterior elements */
    double canal_l, canal_f, canal_y; /* canal half-width, half-depth, centre y (local) */
    double ped_w, ped_h, ped_len, ped_z;
    double spin_len, spin_ang, spin_hh;
    double tp_len, tp_ang, tp_r;
    double lam_t;
    int cord;                 /* the cord runs through this level */
    /* segmental values requested at the disc below */
    double kyph_add, cor_add, trans_ap, trans_lat, kyph_normal;
    /* lesion */
    ph_lesion_spec les;
    double les_c[3], les_r[3]; /* body lesion ellipsoid (local) */
    /* derived local geometry, left side (x > 0); the right side mirrors x */
    double ped_a[3], ped_b[3], lam_m[3], lam_z[2], spin_a[3], spin_b[3], spin_t;
    double tp_a[3], tp_b[3], sap[3], iap[3], sap_r[3], iap_r[3];
    double disc_above;
    /* C1 (atlas): no body but a ring; C2 (axis): the dens (anatomy.c,
     * layout_atlas_axis). Left side (x > 0), local frame; unused elsewhere. */
    int atlas;                /* C1: lateral masses, anterior and posterior arch, no body */
    double lm_c[3], lm_r[3];  /* atlas lateral mass (ellipsoid) */
    double aarch[2][3], parch[3][3]; /* anterior arch a0 -> a1 (midline), posterior arch p0 -> p1 -> p2 */
    double aarch_r, aarch_hz, parch_r, parch_hz; /* arch half thickness (across) and half height */
    double dens_r, dens_y, dens_top; /* axis: dens radius (0 = none), AP position, tip height */
    double out_ax, out_ay, out_cy; /* body outline here (world) */
    double lung, psoas_r;
    double rib_cy, rib_ax, rib_ay; /* rib-cage ellipse here (world; x centre = body x) */
    double bbox[6];           /* world AABB: xmin, xmax, ymin, ymax, zmin, zmax */
    int index;
} ph_vert;

/* One rib as a polyline of capsule segments. */
#define PH_RIB_PTS 18
typedef struct ph_rib {
    int vert, side;           /* owning vertebra index, 0 left 1 right */
    int npts;
    double p[PH_RIB_PTS][3];
    double r;
} ph_rib;

/* A primitive for the per-plane candidate lists. */
typedef struct ph_prim {
    int kind;                 /* 0 vertebra, 1 rib segment, 2 ilium */
    int a, b;                 /* vertebra index / rib index + segment / side */
    double bbox[6];
} ph_prim;

typedef struct ph_scene {
    const sp_phantom_spec *spec;
    int nvert;
    ph_vert v[PH_MAX_LEVELS];
    int nrib;
    ph_rib rib[2 * PH_MAX_LEVELS];
    int has_pelvis;
    double ilium_a[2][3], ilium_e1[2][3], ilium_e2[2][3], ilium_n[2][3];
    int nprim;
    ph_prim *prim;            /* owned */
    /* grid */
    int nx, ny, nz;
    double origin[3], spacing[3], thickness;
    double lung_top, lung_bottom;
    double body_cx;           /* body outline x centre */
} ph_scene;

/* Per-z context: body outline and soft-tissue layout at height z. */
typedef struct ph_plane {
    double z;
    double sx, sy;            /* spine centre (interpolated body centres) */
    double cx, cy, ax, ay;    /* body outline ellipse */
    double rib_cy, rib_ax, rib_ay; /* rib-cage ellipse (x centre cx) */
    double W, D, canal_f;     /* interpolated body width/depth, canal half-depth */
    int lungs, psoas;
    double psoas_r;
    int ncand;
    int *cand;                /* indices into scene prim (points into caller scratch) */
} ph_plane;

typedef struct ph_sample {
    float hu;
    uint8_t tissue, vert, part, lesion; /* vert = VerSe label, lesion = SP_LES_* */
    int8_t owner;             /* vertebra index owning a lesion voxel, -1 none */
    uint8_t zone, layer;      /* WBB zone 0..11, layer 0..4 (A..E) for lesion voxels */
} ph_sample;

/* anatomy.c */
const char *ph_level_name(int label, char buf[PH_NAME]);
/* Fills names/labels of the full level sequence for the spec's counts;
 * returns the count. */
int ph_level_sequence(const sp_phantom_spec *s, char names[][PH_NAME], int *labels, int max);
/* Levels, sizes, pathology, segmental angles and the placed chain. */
sp_status ph_build_levels(const sp_phantom_spec *s, ph_scene *sc, sp_err *err);
sp_status ph_scene_build(const sp_phantom_spec *s, ph_scene *sc, sp_err *err);
void ph_scene_clear(ph_scene *sc);
void ph_plane_setup(const ph_scene *sc, double z, ph_plane *pl);
void ph_local(const ph_vert *v, const double p[3], double q[3]);
void ph_world(const ph_vert *v, const double q[3], double p[3]);
/* Body top/bottom surfaces (local z) at local x, y, with collapse. */
void ph_body_tb(const ph_vert *v, double x, double y, double *top, double *bot);

/* sample.c */
/* Depth (mm, > 0 inside) of local point q in the vertebral body. */
double ph_body_depth(const ph_vert *v, const double q[3]);
void ph_sample_point(const ph_scene *sc, const ph_plane *pl, const double p[3], ph_sample *out);
uint64_t ph_hash64(uint64_t a, uint64_t b);

/* render.c: accumulated per-vertebra statistics (voxel counts from labels). */
typedef struct ph_stats {
    int64_t nvox[PH_MAX_LEVELS];
    int64_t sum_ijk[PH_MAX_LEVELS][3];
    int64_t part[PH_MAX_LEVELS][SP_PART_COUNT];
    int64_t part_les[PH_MAX_LEVELS][SP_PART_COUNT];
    int64_t les[PH_MAX_LEVELS][5];
    int64_t wbb[PH_MAX_LEVELS][12][5];
} ph_stats;

sp_status ph_render(const ph_scene *sc, sp_volume *ct, sp_volume *vert, sp_volume *parts,
                    sp_volume *les, ph_stats *st, sp_err *err);

struct sp_phantom {
    sp_phantom_spec *spec;    /* owned copy */
    ph_scene scene;
    sp_volume *ct, *vert, *parts, *les;
    ph_stats *stats;
    double render_s;
};

/* phantom.c: creates dir and its missing parents (SP_EIO on failure). */
sp_status ph_mkdirs(const char *dir, sp_err *err);

/* spec.c */
sp_phantom_spec *ph_spec_clone(const sp_phantom_spec *s);
int ph_spec_level_index(const sp_phantom_spec *s, const char *name);

/* uid (write_dicom.c) */
void ph_uid(const sp_phantom_spec *s, const char *role, int index, char out[65]);

#endif
