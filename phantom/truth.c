/* truth.c - the ground-truth record of a generated phantom (truth.json).
 *
 * DESIGN: values describe what is in the image, not only what was asked
 * for: heights are evaluated on the generated (collapsed) body surfaces in
 * the body's mid-sagittal plane, lesion extent, posterolateral involvement
 * and WBB zones/layers are counted from the rendered label voxels, and the
 * SINS imaging components are derived from those by the stated rules
 * (docs/phantom.md). Numbers are rounded to 0.01 so the file is stable and
 * readable. The schema is versioned (SP_PHANTOM_SCHEMA_VERSION). */
#define SP_PHANTOM_INTERNAL
#include "internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_version.h"

#define DEG (180.0 / M_PI)

static double r2(double v)
{
    double r = round(v * 100) / 100;
    return r == 0 ? 0 : r;
}

static void num(cJSON *o, const char *k, double v) { cJSON_AddNumberToObject(o, k, r2(v)); }

static cJSON *vec(const double *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(r2(v[i])));
    return a;
}

static double dot(const double *a, const double *b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

/* Alignment between vertebra a and the next caudal one b. */
typedef struct align { double sag, cor, ap, lat; } align;

static align alignment(const ph_vert *a, const ph_vert *b)
{
    align r;
    double ta, ba, tb, bb, qa[3], qb[3], pa[3], pb[3], d[3];
    r.sag = atan2(dot(a->u, b->f), dot(a->u, b->u)) * DEG;
    r.cor = atan2(dot(a->u, b->l), dot(a->u, b->u)) * DEG;
    ph_body_tb(a, 0, -a->D / 2, &ta, &ba);
    ph_body_tb(b, 0, -b->D / 2, &tb, &bb);
    qa[0] = 0; qa[1] = -a->D / 2; qa[2] = ba;
    qb[0] = 0; qb[1] = -b->D / 2; qb[2] = tb;
    ph_world(a, qa, pa);
    ph_world(b, qb, pb);
    for (int k = 0; k < 3; k++) d[k] = pa[k] - pb[k];
    r.ap = dot(d, b->f);
    r.lat = dot(d, b->l);
    return r;
}

static const char *location_class(const ph_scene *sc, const ph_vert *v, int *pts)
{
    const sp_phantom_spec *s = sc->spec;
    int lab = v->label, last_l = 19 + s->lumbar_count, last_t = s->thoracic_count;
    if (lab == 26 || lab <= 2 || lab == 7 || lab == 8 || lab == 9 || lab == 28 ||
        (lab >= 20 && lab <= 25 && (lab == 20 || lab == last_l)) ||
        (lab >= 8 && lab <= 19 && lab - 7 >= last_t - 1)) {
        *pts = 3;
        return "junctional";
    }
    if ((lab >= 3 && lab <= 6) || (lab >= 20 && lab <= 25)) {
        *pts = 2;
        return "mobile";
    }
    *pts = 1;
    return "semi-rigid";
}

typedef struct heights { double h[3], expected, collapse; double pt[3][2][3]; } heights;

static heights measure(const ph_vert *v)
{
    heights r;
    ph_vert n = *v;
    double ys[3] = {v->D / 2 - 0.15 * v->D, 0, -v->D / 2 + 0.15 * v->D}, t, b, mn = 1e9;
    for (int k = 0; k < 3; k++) {
        double q[3] = {0, ys[k], 0};
        ph_body_tb(v, 0, ys[k], &t, &b);
        r.h[k] = t - b;
        if (r.h[k] < mn) mn = r.h[k];
        q[2] = t;
        ph_world(v, q, r.pt[k][0]);
        q[2] = b;
        ph_world(v, q, r.pt[k][1]);
    }
    n.collapse = 0;
    n.shape = PH_SHAPE_NONE;
    ph_body_tb(&n, 0, ys[2], &t, &b);
    r.expected = t - b;
    r.collapse = fmax(0, 1 - mn / r.expected) * 100;
    return r;
}

static void genant(const heights *h, int *grade, const char **shape)
{
    double c = h->collapse, mx = fmax(h->h[0], fmax(h->h[1], h->h[2]));
    double mn = fmin(h->h[0], fmin(h->h[1], h->h[2]));
    *grade = c < 20 ? 0 : c <= 25 ? 1 : c <= 40 ? 2 : 3;
    if (!*grade) *shape = "normal";
    else if ((mx - mn) < 0.1 * h->expected || h->h[2] == mn) *shape = "crush";
    else if (h->h[0] == mn) *shape = "wedge";
    else *shape = "biconcave";
}

static const char *const part_key[SP_PART_COUNT] = {
    "none", "body", "pedicle_left", "pedicle_right", "lamina_left", "lamina_right", "spinous",
    "transverse_left", "transverse_right", "facet_left", "facet_right", "rib_left", "rib_right",
    "sacrum", "ilium"};

/* Lesion block; fills the SINS lesion-derived components. */
static cJSON *lesion_json(const ph_scene *sc, const ph_stats *st, int i, double vox_ml,
                          int *bone_pts, int *pl_pts, double *extent)
{
    const ph_vert *v = &sc->v[i];
    cJSON *o = cJSON_CreateObject(), *a, *z, *zl, *zr, *ly;
    int64_t lyt = st->les[i][SP_LES_LYTIC], bla = st->les[i][SP_LES_BLASTIC], thr;
    int left = 0, right = 0;
    static const char *const sides[] = {"left", "right", "anterior", "posterior"};
    static const char *const bil[] = {"1a", "1b", "1c", "2", "3"};
    const char *ch = lyt && bla ? "mixed" : lyt ? "lytic" : bla ? "blastic" : "none";
    *bone_pts = lyt && bla ? 1 : lyt ? 2 : 0;
    cJSON_AddStringToObject(o, "character", ch);
    a = cJSON_AddArrayToObject(o, "parts");
    for (int p = 1; p <= SP_PART_FACET_R; p++)
        if (st->part_les[i][p] > 0) cJSON_AddItemToArray(a, cJSON_CreateString(part_key[p]));
    *extent = st->part[i][SP_PART_BODY] ? 100.0 * st->part_les[i][SP_PART_BODY] / st->part[i][SP_PART_BODY] : 0;
    num(o, "body_extent_pct", *extent);
    cJSON_AddBoolToObject(o, "cortical_breach", v->les.breach);
    num(o, "paravertebral_mm", st->les[i][SP_LES_PARAVERTEBRAL] ? v->les.paravertebral_mm : 0);
    if (st->les[i][SP_LES_PARAVERTEBRAL])
        cJSON_AddStringToObject(o, "paravertebral_side", sides[v->les.paravertebral_side]);
    a = cJSON_AddObjectToObject(o, "voxels");
    cJSON_AddNumberToObject(a, "lytic", (double)lyt);
    cJSON_AddNumberToObject(a, "blastic", (double)bla);
    cJSON_AddNumberToObject(a, "paravertebral", (double)st->les[i][SP_LES_PARAVERTEBRAL]);
    cJSON_AddNumberToObject(a, "epidural", (double)st->les[i][SP_LES_EPIDURAL]);
    /* posterolateral: >= 10 % of a pedicle or facet replaced, per side */
    for (int p = SP_PART_PEDICLE_L; p <= SP_PART_FACET_R; p++) {
        if (p != SP_PART_PEDICLE_L && p != SP_PART_PEDICLE_R && p != SP_PART_FACET_L && p != SP_PART_FACET_R)
            continue;
        if (st->part[i][p] > 0 && st->part_les[i][p] * 10 >= st->part[i][p]) {
            if (p == SP_PART_PEDICLE_L || p == SP_PART_FACET_L) left = 1;
            else right = 1;
        }
    }
    a = cJSON_AddObjectToObject(o, "posterolateral");
    cJSON_AddBoolToObject(a, "left", left);
    cJSON_AddBoolToObject(a, "right", right);
    *pl_pts = left && right ? 3 : left || right ? 1 : 0;
    /* WBB: a zone / layer counts when it holds >= 0.05 ml of tumour */
    thr = (int64_t)ceil(0.05 / vox_ml);
    if (thr < 1) thr = 1;
    a = cJSON_AddObjectToObject(o, "wbb");
    z = cJSON_AddArrayToObject(a, "zones");
    zl = cJSON_AddArrayToObject(a, "zones_left");
    zr = cJSON_AddArrayToObject(a, "zones_right");
    ly = cJSON_AddArrayToObject(a, "layers");
    for (int k = 0; k < 12; k++) {
        int64_t n = 0;
        for (int l = 0; l < 5; l++) n += st->wbb[i][k][l];
        if (n >= thr) {
            cJSON_AddItemToArray(z, cJSON_CreateNumber(k + 1));
            cJSON_AddItemToArray(k < 6 ? zl : zr, cJSON_CreateNumber(k + 1));
        }
    }
    for (int l = 0; l < 5; l++) {
        int64_t n = 0;
        char s[2] = {(char)('A' + l), 0};
        for (int k = 0; k < 12; k++) n += st->wbb[i][k][l];
        if (n >= thr) cJSON_AddItemToArray(ly, cJSON_CreateString(s));
    }
    if (v->les.bilsky >= 0 && st->les[i][SP_LES_EPIDURAL] > 0)
        cJSON_AddStringToObject(o, "bilsky", bil[v->les.bilsky]);
    else
        cJSON_AddNullToObject(o, "bilsky");
    return o;
}

static int in_scoliosis(const ph_scene *sc, int i)
{
    const sp_phantom_spec *s = sc->spec;
    int apex = -1;
    if (s->scol_cobb < 10) return 0;
    for (int k = 0; k < sc->nvert; k++)
        if (!strcmp(sc->v[k].name, s->scol_apex)) apex = k;
    return apex >= 0 && fabs((double)(i - apex)) <= s->scol_span / 2.0;
}

static cJSON *vertebra_json(const sp_phantom *p, int i)
{
    const ph_scene *sc = &p->scene;
    const ph_stats *st = p->stats;
    const ph_vert *v = &sc->v[i];
    const sp_volume *ct = p->ct;
    double vox_ml = ct->spacing[0] * ct->spacing[1] * ct->spacing[2] / 1000.0;
    double zlo = ct->ijk_to_lps[11], zhi = zlo + (ct->nz - 1) * ct->spacing[2], extent = 0;
    cJSON *o = cJSON_CreateObject(), *a, *b;
    heights h = measure(v);
    int grade, loc, bone_pts = 0, pl_pts = 0, al_pts = 0, col_pts, tumour = v->les.type != PH_LES_NONE;
    const char *shape, *lc = location_class(sc, v, &loc);
    static const char *const ap[] = {"anterior", "middle", "posterior"};
    cJSON_AddStringToObject(o, "name", v->name);
    cJSON_AddNumberToObject(o, "label", v->label);
    cJSON_AddStringToObject(o, "in_fov", st->nvox[i] == 0 ? "none"
                                         : (v->c[2] + v->H0 / 2 <= zhi && v->c[2] - v->H0 / 2 >= zlo) ? "full"
                                                                                                    : "partial");
    cJSON_AddNumberToObject(o, "voxels", (double)st->nvox[i]);
    num(o, "volume_ml", st->nvox[i] * vox_ml);
    if (st->nvox[i]) {
        double ijk[3], lps[3];
        for (int k = 0; k < 3; k++) ijk[k] = (double)st->sum_ijk[i][k] / st->nvox[i];
        sp_vol_ijk_to_lps(ct, ijk, lps);
        cJSON_AddItemToObject(o, "centroid_lps", vec(lps, 3));
    } else {
        cJSON_AddNullToObject(o, "centroid_lps");
    }
    cJSON_AddItemToObject(o, "body_centre_lps", vec(v->c, 3));
    a = cJSON_AddObjectToObject(o, "axes");
    cJSON_AddItemToObject(a, "left", vec(v->l, 3));
    cJSON_AddItemToObject(a, "anterior", vec(v->f, 3));
    cJSON_AddItemToObject(a, "up", vec(v->u, 3));
    a = cJSON_AddObjectToObject(o, "body");
    num(a, "width_mm", v->W);
    num(a, "depth_mm", v->D);
    num(a, "normal_height_mm", v->H0);
    num(a, "trabecular_hu", v->trab_hu);
    num(a, "cortical_mm", v->cortex_mm);
    a = cJSON_AddObjectToObject(o, "heights");
    num(a, "anterior_mm", h.h[0]);
    num(a, "middle_mm", h.h[1]);
    num(a, "posterior_mm", h.h[2]);
    num(a, "expected_mm", h.expected);
    b = cJSON_AddObjectToObject(a, "lines_lps");
    for (int k = 0; k < 3; k++) {
        cJSON *l = cJSON_AddArrayToObject(b, ap[k]);
        cJSON_AddItemToArray(l, vec(h.pt[k][0], 3));
        cJSON_AddItemToArray(l, vec(h.pt[k][1], 3));
    }
    num(o, "collapse_pct", h.collapse);
    genant(&h, &grade, &shape);
    a = cJSON_AddObjectToObject(o, "genant");
    cJSON_AddNumberToObject(a, "grade", grade);
    cJSON_AddStringToObject(a, "shape", shape);
    if (tumour) cJSON_AddItemToObject(o, "lesion", lesion_json(sc, st, i, vox_ml, &bone_pts, &pl_pts, &extent));
    else cJSON_AddNullToObject(o, "lesion");
    /* alignment at the discs below and above */
    for (int k = 0; k < 2; k++) {
        int j = k ? i - 1 : i;
        const char *key = k ? "alignment_above" : "alignment_below";
        if (j < 0 || j + 1 >= sc->nvert) {
            cJSON_AddNullToObject(o, key);
            continue;
        }
        align al = alignment(&sc->v[j], &sc->v[j + 1]);
        a = cJSON_AddObjectToObject(o, key);
        cJSON_AddStringToObject(a, "upper", sc->v[j].name);
        cJSON_AddStringToObject(a, "lower", sc->v[j + 1].name);
        num(a, "sagittal_deg", al.sag);
        num(a, "normal_sagittal_deg", sc->v[j].kyph_normal);
        num(a, "coronal_deg", al.cor);
        num(a, "translation_ap_mm", sc->v[j].trans_ap);
        num(a, "translation_lateral_mm", sc->v[j].trans_lat);
        num(a, "posterior_wall_offset_ap_mm", al.ap);
        num(a, "posterior_wall_offset_lateral_mm", al.lat);
        if (fabs(sc->v[j].trans_ap) >= 2 || fabs(sc->v[j].trans_lat) >= 2) al_pts = 4;
        else if ((fabs(al.sag - sc->v[j].kyph_normal) >= 5 || fabs(al.cor) >= 5) && al_pts < 2)
            al_pts = 2;
    }
    if (al_pts < 2 && in_scoliosis(sc, i)) al_pts = 2;
    col_pts = h.collapse > 50 ? 3 : h.collapse >= 10 ? 2 : extent > 50 ? 1 : 0;
    a = cJSON_AddObjectToObject(o, "sins");
    cJSON_AddBoolToObject(a, "applicable", tumour);
    if (tumour) {
        int sub = loc + bone_pts + al_pts + col_pts + pl_pts;
        cJSON_AddNumberToObject(a, "location", loc);
        cJSON_AddStringToObject(a, "location_class", lc);
        cJSON_AddNullToObject(a, "pain");
        cJSON_AddNumberToObject(a, "bone_lesion", bone_pts);
        cJSON_AddNumberToObject(a, "alignment", al_pts);
        cJSON_AddNumberToObject(a, "collapse", col_pts);
        cJSON_AddNumberToObject(a, "posterolateral", pl_pts);
        cJSON_AddNumberToObject(a, "imaging_subtotal", sub);
        cJSON_AddNumberToObject(a, "total_min", sub);
        cJSON_AddNumberToObject(a, "total_max", sub + 3);
    } else {
        cJSON_AddStringToObject(a, "location_class", lc);
    }
    return o;
}

static cJSON *truth_json(const sp_phantom *p)
{
    const ph_scene *sc = &p->scene;
    const sp_phantom_spec *s = p->spec;
    const sp_volume *ct = p->ct;
    cJSON *root = cJSON_CreateObject(), *a, *b;
    double org[3] = {ct->ijk_to_lps[3], ct->ijk_to_lps[7], ct->ijk_to_lps[11]}, tmin = 1e9, tmax = -1e9;
    int nrib = 0, up = 0, lo = 0;
    cJSON_AddNumberToObject(root, "schema_version", SP_PHANTOM_SCHEMA_VERSION);
    cJSON_AddStringToObject(root, "generator", "spinemet phantom " SP_VERSION);
    cJSON_AddNumberToObject(root, "seed", (double)s->seed);
    cJSON_AddStringToObject(root, "description", s->description);
    a = cJSON_AddObjectToObject(root, "conventions");
    cJSON_AddStringToObject(a, "coordinates", "DICOM LPS mm: x patient left, y posterior, z superior");
    cJSON_AddStringToObject(a, "heights", "mid-sagittal plane of the body, at 15/50/85 % of its depth from the anterior surface, along the body axis");
    cJSON_AddStringToObject(a, "collapse", "1 - min(height) / expected; expected = the same body's uncollapsed posterior height");
    cJSON_AddStringToObject(a, "genant", "grade 0 < 20 %, 1 20-25 %, 2 25-40 %, 3 > 40 %");
    cJSON_AddStringToObject(a, "wbb", "viewed from above, posterior at top, centred on the canal; zone 1 starts at the posterior midline, clockwise; zones 1-6 on the patient's left; >= 0.05 ml counts");
    cJSON_AddStringToObject(a, "angles", "sagittal + = kyphosis, coronal + = upper vertebra tilted to the patient's left; translation = displacement of the upper body relative to the lower one in the lower's frame as generated (+ = anterior / left); posterior_wall_offset = measured offset of the upper's postero-inferior corner from the lower's postero-superior corner (includes the effect of angulation)");
    a = cJSON_AddObjectToObject(root, "grid");
    b = cJSON_AddArrayToObject(a, "size");
    cJSON_AddItemToArray(b, cJSON_CreateNumber(ct->nx));
    cJSON_AddItemToArray(b, cJSON_CreateNumber(ct->ny));
    cJSON_AddItemToArray(b, cJSON_CreateNumber(ct->nz));
    cJSON_AddItemToObject(a, "spacing_mm", vec(ct->spacing, 3));
    num(a, "slice_thickness_mm", sc->thickness);
    cJSON_AddItemToObject(a, "origin_lps", vec(org, 3));
    cJSON_AddStringToObject(a, "dicom_storage", "unsigned 12-bit, RescaleIntercept -1024, slope 1; instance 1 = most cranial slice");
    a = cJSON_AddObjectToObject(root, "anatomy");
    cJSON_AddStringToObject(a, "from", sc->v[0].name);
    cJSON_AddStringToObject(a, "to", sc->v[sc->nvert - 1].name);
    cJSON_AddNumberToObject(a, "thoracic_count", s->thoracic_count);
    cJSON_AddNumberToObject(a, "lumbar_count", s->lumbar_count);
    for (int i = 0; i < sc->nvert; i++) nrib += sc->v[i].has_ribs;
    cJSON_AddNumberToObject(a, "rib_pairs", nrib);
    cJSON_AddBoolToObject(a, "sacralized_l5", s->sacralized_l5);
    for (int i = 0; i < sc->nvert; i++) {
        double t = atan2(sc->v[i].u[0], sc->v[i].u[2]) * DEG;
        if (t < tmin) { tmin = t; lo = i; }
        if (t > tmax) { tmax = t; up = i; }
    }
    b = cJSON_AddObjectToObject(a, "coronal");
    num(b, "cobb_deg", tmax - tmin);
    cJSON_AddStringToObject(b, "most_tilted_left", sc->v[up].name);
    cJSON_AddStringToObject(b, "most_tilted_right", sc->v[lo].name);
    a = cJSON_AddArrayToObject(root, "vertebrae");
    for (int i = 0; i < sc->nvert; i++) cJSON_AddItemToArray(a, vertebra_json(p, i));
    return root;
}

char *sp_phantom_truth_json(const sp_phantom *p)
{
    cJSON *root = truth_json(p);
    char *txt = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    return txt;
}

sp_status sp_phantom_write_truth(const sp_phantom *p, const char *path, sp_err *err)
{
    char *txt = sp_phantom_truth_json(p);
    FILE *f;
    size_t n;
    if (!txt) return sp_fail(err, SP_ENOMEM, "out of memory");
    f = fopen(path, "wb");
    if (!f) {
        free(txt);
        return sp_fail(err, SP_EIO, "cannot write %s: %s", path, strerror(errno));
    }
    n = strlen(txt);
    if (fwrite(txt, 1, n, f) != n || fputc('\n', f) == EOF) {
        fclose(f);
        free(txt);
        return sp_fail(err, SP_EIO, "cannot write %s", path);
    }
    free(txt);
    if (fclose(f) != 0) return sp_fail(err, SP_EIO, "cannot write %s: %s", path, strerror(errno));
    return SP_OK;
}
