/* anatomy.c - builds the phantom's anatomy from a spec: levels, sizes, the
 * curved chain of vertebrae with their local frames, ribs, pelvis, body
 * outline, and the scan grid.
 *
 * DESIGN: sizes are piecewise-linear in a continuous anatomical position
 * (C1 = 1 .. C7 = 7, T1 = 8 .. T12 = 19, L1 = 20 .. L5 = 24, S1 = 25); a
 * 13th thoracic or 6th lumbar vertebra gets an in-between position, so sizes
 * keep growing caudally. The chain is built top-down: each vertebra's axis is
 * tilted by the segmental sagittal (kyphosis +) and coronal angles at the disc
 * above it, and placed one disc below the previous body, then the whole
 * chain is turned so that its end-to-end line is vertical. Local frames are
 * l (patient left), f (anterior), u (cranial), all unit vectors in LPS. */
#define SP_PHANTOM_INTERNAL
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEG (M_PI / 180.0)

/* Knots of the size table and its columns. */
static const double knot[] = {1, 4, 7, 8, 12, 15, 19, 20, 22, 24, 25};
#define NK ((int)(sizeof knot / sizeof knot[0]))
enum { C_H, C_W, C_D, C_DISC, C_CANL, C_CANF, C_PEDW, C_PEDH, C_SPL, C_SPA, C_SPH, C_TPL,
       C_TPA, C_TPR, C_NCOL };
static const double table[C_NCOL][11] = {
    /* H    */ {11, 13.5, 14.5, 17, 19.5, 21, 24, 25, 26.5, 27, 28},
    /* W    */ {16, 17, 21, 25, 28, 32, 42, 43, 47, 50, 52},
    /* D    */ {14, 15.5, 16.5, 17, 23, 28, 32, 33, 35, 35, 36},
    /* disc */ {4, 5, 5, 3.5, 4, 4.5, 7, 8.5, 10.5, 11, 0},
    /* canal half-width */ {12, 12.5, 12, 8.5, 8, 8, 9, 10.5, 11.5, 12.5, 11},
    /* canal half-depth */ {7.5, 7, 7, 7.5, 7.5, 7.5, 8.5, 8.5, 8.5, 8.5, 7},
    /* pedicle width */ {5, 5.5, 6, 8, 5, 6, 8, 8.5, 10, 15, 18},
    /* pedicle height */ {7, 7.5, 8, 10, 11, 13, 15, 15, 15, 14, 16},
    /* spinous length */ {10, 14, 28, 32, 38, 40, 30, 30, 30, 25, 15},
    /* spinous angle down (deg) */ {15, 20, 20, 25, 55, 60, 30, 10, 8, 10, 10},
    /* spinous half-height */ {4, 4, 5, 5, 4, 4, 6, 8, 9, 8, 6},
    /* transverse length */ {12, 10, 12, 20, 20, 16, 8, 14, 22, 20, 0},
    /* transverse angle back (deg) */ {10, 10, 10, 25, 35, 40, 40, 5, 0, 0, 0},
    /* transverse radius */ {3, 3, 3.5, 5, 5, 5, 4, 3, 3, 4.5, 0},
};

static double tab(int col, double pos)
{
    if (pos <= knot[0]) return table[col][0];
    for (int k = 1; k < NK; k++)
        if (pos <= knot[k]) {
            double t = (pos - knot[k - 1]) / (knot[k] - knot[k - 1]);
            return table[col][k - 1] + t * (table[col][k] - table[col][k - 1]);
        }
    return table[col][NK - 1];
}

const char *ph_level_name(int label, char buf[PH_NAME])
{
    if (label >= 1 && label <= 7) snprintf(buf, PH_NAME, "C%d", label);
    else if (label >= 8 && label <= 19) snprintf(buf, PH_NAME, "T%d", label - 7);
    else if (label >= 20 && label <= 25) snprintf(buf, PH_NAME, "L%d", label - 19);
    else if (label == 26) snprintf(buf, PH_NAME, "S1");
    else if (label == 28) snprintf(buf, PH_NAME, "T13");
    else snprintf(buf, PH_NAME, "?%d", label);
    return buf;
}

int ph_level_sequence(const sp_phantom_spec *s, char names[][PH_NAME], int *labels, int max)
{
    int n = 0, tc = s->thoracic_count, lc = s->lumbar_count;
    for (int k = 1; k <= 7 && n < max; k++) labels[n++] = k;
    for (int k = 1; k <= tc && n < max; k++) labels[n++] = k <= 12 ? 7 + k : 28;
    for (int k = 1; k <= lc && n < max; k++) labels[n++] = 19 + k;
    if (n < max) labels[n++] = 26;
    for (int i = 0; i < n; i++) ph_level_name(labels[i], names[i]);
    return n;
}

/* Continuous anatomical position of the k-th vertebra of a region. */
static double level_pos(const sp_phantom_spec *s, int label, int *region)
{
    if (label <= 7) { *region = 0; return label; }
    if (label <= 19 || label == 28) {
        int k = label == 28 ? 13 : label - 7;
        *region = 1;
        return 7.0 + k * 12.0 / s->thoracic_count;
    }
    if (label <= 25) { *region = 2; return 19.0 + (label - 19) * 5.0 / s->lumbar_count; }
    *region = 3;
    return 25;
}

void ph_local(const ph_vert *v, const double p[3], double q[3])
{
    double d[3] = {p[0] - v->c[0], p[1] - v->c[1], p[2] - v->c[2]};
    q[0] = d[0] * v->l[0] + d[1] * v->l[1] + d[2] * v->l[2];
    q[1] = d[0] * v->f[0] + d[1] * v->f[1] + d[2] * v->f[2];
    q[2] = d[0] * v->u[0] + d[1] * v->u[1] + d[2] * v->u[2];
}

void ph_world(const ph_vert *v, const double q[3], double p[3])
{
    for (int i = 0; i < 3; i++) p[i] = v->c[i] + q[0] * v->l[i] + q[1] * v->f[i] + q[2] * v->u[i];
}

void ph_body_tb(const ph_vert *v, double x, double y, double *top, double *bot)
{
    double t = (y + v->D / 2) / v->D, loss = 0, rho2, conc;
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    if (v->shape == PH_WEDGE) {
        double w = (t - 0.15) / 0.7;
        loss = v->collapse * v->H0 * (w < 0 ? 0 : w > 1 ? 1 : w);
    } else if (v->shape == PH_BICONCAVE) {
        double a = (t - 0.5) / 0.35, b = x / (0.35 * v->W), r = sqrt(a * a + b * b);
        if (r < 1) loss = v->collapse * v->H0 * cos(M_PI * r / 2) * cos(M_PI * r / 2);
    } else if (v->shape == PH_CRUSH) {
        loss = v->collapse * v->H0;
    }
    rho2 = (2 * x / v->W) * (2 * x / v->W) + (2 * y / v->D) * (2 * y / v->D);
    conc = rho2 < 1 ? 0.5 * (1 - rho2) : 0;
    *top = v->H0 / 2 - loss / 2 - conc;
    *bot = -v->H0 / 2 + loss / 2 + conc;
}

/* Sizes and posterior-element layout of one vertebra (local frame). */
static void size_vertebra(const sp_phantom_spec *s, ph_vert *v)
{
    double k = s->size_scale, p = v->pos;
    v->H0 = tab(C_H, p) * k;
    v->W = tab(C_W, p) * k;
    v->D = tab(C_D, p) * k;
    v->disc_below = tab(C_DISC, p) * k;
    v->canal_l = tab(C_CANL, p) * k;
    v->canal_f = tab(C_CANF, p) * k;
    v->ped_w = tab(C_PEDW, p) * k;
    v->ped_h = tab(C_PEDH, p) * k;
    v->spin_len = tab(C_SPL, p) * k;
    v->spin_ang = tab(C_SPA, p) * DEG;
    v->spin_hh = tab(C_SPH, p) * k;
    v->tp_len = tab(C_TPL, p) * k;
    v->tp_ang = tab(C_TPA, p) * DEG;
    v->tp_r = tab(C_TPR, p) * k;
    v->lam_t = (v->region == 2 ? 6.5 : 5.5) * k;
    v->spin_t = (v->region == 2 ? 3.5 : 2.8) * k;
    v->cord = p < 20.5;
    v->lung = (p > 7.5 && p < 18.3) ? 1 : 0;
    v->psoas_r = p < 19 ? 0 : p < 20 ? 8 * (p - 19) : 8 + 4 * (p - 20);
    if (v->psoas_r > 25) v->psoas_r = 25;
    v->psoas_r *= k;
}

static void layout_posterior(ph_vert *v)
{
    int lumbar = v->region >= 2;
    double pz, bx;
    v->canal_y = -(v->D / 2 + 1 + v->canal_f);
    v->ped_z = v->H0 / 2 - v->ped_h / 2 - 1;
    pz = v->ped_z;
    bx = v->canal_l + v->ped_w / 2 - 0.5;
    v->ped_a[0] = bx - 0.5; v->ped_a[1] = -v->D / 2 + 4; v->ped_a[2] = pz;
    v->ped_b[0] = bx; v->ped_b[1] = v->canal_y - 0.3 * v->canal_f; v->ped_b[2] = pz;
    v->lam_m[0] = 0; v->lam_m[1] = v->canal_y - v->canal_f - v->lam_t / 2 - 0.5;
    v->lam_z[0] = -v->H0 / 2 - v->disc_below * 0.3;
    v->lam_z[1] = pz + v->ped_h / 2;
    v->lam_m[2] = 0.5 * (v->lam_z[0] + v->lam_z[1]);
    memcpy(v->spin_a, v->lam_m, sizeof v->spin_a);
    v->spin_b[0] = 0;
    v->spin_b[1] = v->spin_a[1] - v->spin_len * cos(v->spin_ang);
    v->spin_b[2] = v->spin_a[2] - v->spin_len * sin(v->spin_ang);
    v->tp_a[0] = bx + v->ped_w / 2; v->tp_a[1] = v->ped_b[1]; v->tp_a[2] = pz;
    v->tp_b[0] = v->tp_a[0] + v->tp_len * cos(v->tp_ang);
    v->tp_b[1] = v->tp_a[1] - v->tp_len * sin(v->tp_ang);
    v->tp_b[2] = pz - 0.1 * v->tp_len;
    if (lumbar) {
        double sr[3] = {3, 6, 7}, ir[3] = {3, 6, 7};
        v->sap[0] = bx + 3; v->sap[1] = v->ped_b[1] - 3;
        v->iap[0] = bx - 4; v->iap[1] = v->ped_b[1] - 6;
        memcpy(v->sap_r, sr, sizeof sr);
        memcpy(v->iap_r, ir, sizeof ir);
    } else {
        double sr[3] = {4, 3, 6}, ir[3] = {4, 3, 6};
        v->sap[0] = bx; v->sap[1] = v->ped_b[1] + 1;
        v->iap[0] = bx; v->iap[1] = v->ped_b[1] - 7;
        memcpy(v->sap_r, sr, sizeof sr);
        memcpy(v->iap_r, ir, sizeof ir);
    }
    v->sap[2] = v->H0 / 2 + v->disc_above * 0.5 + 2;
    v->iap[2] = -v->H0 / 2 - v->disc_below * 0.5 + 2;
}

/* C1 and C2 are not generic. The atlas has no body: its "body" slot in the
 * chain (placed as a small cervical body, so the chain is unchanged) holds
 * the dens of C2, and the atlas is a ring around it: two lateral masses
 * (about 13 x 17 x 14 mm, their centres 18 mm from the midline) joined by a
 * thin anterior arch (5.5 mm thick, 10 mm tall) in front of the dens and a
 * posterior arch (6 x 8 mm) behind the cord, plus transverse processes to
 * about 38 mm from the midline. The lateral masses sit on the axis' superior
 * articular facets across a 1.5 mm joint. The axis gets its dens: a 10 mm
 * peg rising 13.5 mm above its body's top, 2 mm behind the anterior arch
 * (atlanto-dental interval). Adult sizes (Gray's; the lateral mass and arch
 * dimensions of CT morphometry series); only C1/C2 change, so no phantom
 * that starts at C3 or below does. */
static void layout_atlas_axis(ph_vert *v, double k)
{
    if (v->label == 1) {
        double lm_c[3] = {18, -1, 1.5}, lm_r[3] = {6.5, 8.5, 7};
        double aa[2][3] = {{14, 5, 1.5}, {0, 11, 1.5}}, pa[3][3] = {{16, -8, 0.5}, {10, -23, 0.5}, {0, -29.5, 0.5}};
        v->atlas = 1;
        for (int i = 0; i < 3; i++) {
            v->lm_c[i] = lm_c[i] * k;
            v->lm_r[i] = lm_r[i] * k;
            for (int j = 0; j < 2; j++) v->aarch[j][i] = aa[j][i] * k;
            for (int j = 0; j < 3; j++) v->parch[j][i] = pa[j][i] * k;
        }
        v->aarch_r = 2.75 * k, v->aarch_hz = 5 * k;
        v->parch_r = 3 * k, v->parch_hz = 4 * k;
        /* the cord's space behind the dens: 17 mm deep */
        v->canal_f = 8.5 * k;
        v->canal_y = -16.5 * k;
        v->tp_a[0] = 24 * k, v->tp_a[1] = -2 * k, v->tp_a[2] = 1.5 * k;
        v->tp_b[0] = 34 * k, v->tp_b[1] = -4 * k, v->tp_b[2] = 1.5 * k;
        v->tp_r = 3.5 * k;
    } else if (v->label == 2) {
        /* superior facets: broad, flat, on the body's shoulders under the lateral masses */
        double sap[3] = {16 * k, -1 * k, v->H0 / 2}, sr[3] = {8 * k, 7 * k, 2.5 * k};
        memcpy(v->sap, sap, sizeof sap);
        memcpy(v->sap_r, sr, sizeof sr);
        v->dens_r = 5 * k;
        v->dens_y = 0;
        v->dens_top = v->H0 / 2 + 13.5 * k;
    }
}

/* Height of the body at mid-depth used for chaining (rim height for biconcave). */
static double chain_height(const ph_vert *v)
{
    if (v->shape == PH_WEDGE) return v->H0 * (1 - v->collapse / 2);
    if (v->shape == PH_CRUSH) return v->H0 * (1 - v->collapse);
    return v->H0;
}

/* Normal segmental sagittal angle (deg, kyphosis +) at the disc below v. */
static double normal_kyphosis(const sp_phantom_spec *s, const ph_vert *a, const ph_vert *b)
{
    int lc = s->lumbar_count;
    if (a->region == 0 && b->region == 0) return -s->cervical_lordosis_deg / 6.0;
    if (a->region == 1 && b->region == 1) return s->kyphosis_deg / (s->thoracic_count - 1);
    if (a->region == 2) {
        int k = a->label == 25 ? 6 : a->label - 19;
        return -s->lordosis_deg * k / (lc * (lc + 1) / 2.0);
    }
    return 0;
}

/* Scoliosis coronal tilt profile (deg, + = tilted toward the left) at index i. */
static double scol_tilt(const sp_phantom_spec *s, int i, int apex)
{
    double c = s->scol_cobb * (s->scol_convex_right ? 1 : -1), h = s->scol_span / 2.0;
    double up = apex - h, lo = apex + h;
    if (s->scol_cobb <= 0) return 0;
    if (i >= up && i <= lo) return c / 2 - c * (i - up) / (lo - up);
    if (i < up) return c / 2 * fmax(0, 1 - (up - i) / h);
    return -c / 2 * fmax(0, 1 - (i - lo) / h);
}

static void frame(ph_vert *v, double alpha, double rho)
{
    double u0[3] = {0, sin(alpha), cos(alpha)}, f0[3] = {0, -cos(alpha), sin(alpha)};
    double l0[3] = {1, 0, 0};
    for (int i = 0; i < 3; i++) {
        v->u[i] = u0[i] * cos(rho) + l0[i] * sin(rho);
        v->l[i] = l0[i] * cos(rho) - u0[i] * sin(rho);
        v->f[i] = f0[i];
    }
}

/* Places the chain for a base pitch (radians; segmental angles in degrees);
 * returns the end-to-end sagittal angle in radians. */
static double place_chain(ph_scene *sc, double base, const double *kyph, const double *cor)
{
    double alpha = base, rho = 0, dy, dz;
    for (int i = 0; i < sc->nvert; i++) {
        ph_vert *v = &sc->v[i];
        if (i > 0) {
            alpha += kyph[i - 1] * DEG;
            rho -= cor[i - 1] * DEG;
        }
        frame(v, alpha, rho);
        if (i == 0) {
            v->c[0] = v->c[1] = v->c[2] = 0;
        } else {
            const ph_vert *a = &sc->v[i - 1];
            double dd[3], n, ha = chain_height(a) / 2, hb = chain_height(v) / 2;
            for (int k = 0; k < 3; k++) dd[k] = a->u[k] + v->u[k];
            n = sqrt(dd[0] * dd[0] + dd[1] * dd[1] + dd[2] * dd[2]);
            for (int k = 0; k < 3; k++)
                v->c[k] = a->c[k] - ha * a->u[k] - a->disc_below * dd[k] / n - hb * v->u[k] -
                          a->trans_ap * v->f[k] - a->trans_lat * v->l[k];
        }
    }
    dy = sc->v[sc->nvert - 1].c[1] - sc->v[0].c[1];
    dz = sc->v[sc->nvert - 1].c[2] - sc->v[0].c[2];
    return atan2(dy, -dz);
}

/* Per-level sizes, pathology and segmental angles; then the chain. */
sp_status ph_build_levels(const sp_phantom_spec *s, ph_scene *sc, sp_err *err)
{
    char names[PH_MAX_LEVELS][PH_NAME];
    int labels[PH_MAX_LEVELS], n = ph_level_sequence(s, names, labels, PH_MAX_LEVELS);
    int i0 = -1, i1 = -1, apex = -1;
    double kyph[PH_MAX_LEVELS] = {0}, cor[PH_MAX_LEVELS] = {0}, base = 0;
    for (int i = 0; i < n; i++) {
        if (!strcmp(names[i], s->from)) i0 = i;
        if (!strcmp(names[i], s->to)) i1 = i;
    }
    if (i0 < 0 || i1 <= i0) return sp_fail(err, SP_EINVAL, "%s: bad level range", s->name);
    sc->nvert = i1 - i0 + 1;
    for (int i = 0; i < sc->nvert; i++) {
        ph_vert *v = &sc->v[i];
        int li;
        memset(v, 0, sizeof *v);
        v->index = i;
        v->label = labels[i0 + i];
        snprintf(v->name, PH_NAME, "%s", names[i0 + i]);
        if (!strcmp(v->name, s->scol_apex)) apex = i;
        v->pos = level_pos(s, v->label, &v->region);
        v->sacrum = v->label == 26;
        size_vertebra(s, v);
        v->trab_hu = s->hu_trab + 10 - 2.0 * (v->pos - 8);
        v->cortex_mm = s->cortex_mm;
        if (!isnan(s->osteo_trab_hu)) {
            v->trab_hu = s->osteo_trab_hu;
            v->cortex_mm = s->osteo_cortex_mm;
        }
        v->les.bilsky = -1;
        if ((li = ph_spec_level_index(s, v->name)) >= 0) {
            const ph_level_spec *ls = &s->levels[li];
            v->collapse = ls->collapse_pct / 100.0;
            v->shape = ls->collapse_shape;
            if (!isnan(ls->trabecular_hu)) v->trab_hu = ls->trabecular_hu;
            v->kyph_add = ls->kyphosis_deg;
            v->cor_add = ls->coronal_deg;
            v->trans_ap = ls->trans_ap_mm;
            v->trans_lat = ls->trans_lat_mm;
            v->les = ls->lesion;
            if (!v->les.type) v->les.bilsky = -1;
        }
        if (s->sacralized_l5 && v->label == 24 && s->lumbar_count == 5) {
            v->tp_len = 32 * s->size_scale;
            v->tp_r = 8 * s->size_scale;
            v->tp_ang = 0;
            v->disc_below = 3 * s->size_scale;
        }
    }
    for (int i = 0; i < sc->nvert; i++) {
        ph_vert *v = &sc->v[i];
        v->disc_above = i > 0 ? sc->v[i - 1].disc_below : v->disc_below;
        layout_posterior(v);
        layout_atlas_axis(v, s->size_scale);
    }
    /* Segmental angles at each disc: normal profile + requested + fracture wedge. */
    for (int i = 0; i + 1 < sc->nvert; i++) {
        ph_vert *a = &sc->v[i], *b = &sc->v[i + 1];
        a->kyph_normal = normal_kyphosis(s, a, b);
        kyph[i] = a->kyph_normal + a->kyph_add;
        cor[i] = a->cor_add;
        if (apex >= 0) cor[i] += scol_tilt(s, i, apex) - scol_tilt(s, i + 1, apex);
    }
    for (int i = 0; i < sc->nvert; i++) {
        ph_vert *v = &sc->v[i];
        if (v->shape == PH_WEDGE && v->collapse > 0) {
            double w = atan(v->collapse * v->H0 / (0.7 * v->D)) / DEG / 2;
            if (i > 0) kyph[i - 1] += w;
            if (i + 1 < sc->nvert) kyph[i] += w;
        }
    }
    for (int it = 0; it < 3; it++) base += place_chain(sc, base, kyph, cor);
    place_chain(sc, base, kyph, cor);
    return SP_OK;
}
