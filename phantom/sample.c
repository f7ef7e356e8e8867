/* sample.c - what is at one point of the phantom: tissue, HU, labels.
 *
 * DESIGN: shapes are evaluated in each vertebra's local frame (x left,
 * y anterior, z up; the right side mirrors x) as approximate signed depths in
 * millimetres (> 0 inside). The bone of a point is the deepest of the
 * candidate shapes, so neighbouring objects meet cleanly, and the cortex is
 * wherever the union's depth is below the cortical thickness. Priority:
 * canal contents (the canal is carved out of bone), bone (with tumour), disc,
 * extraosseous tumour, soft tissue. Pure function of its inputs: safe to call
 * from many threads at once. */
#define SP_PHANTOM_INTERNAL
#include "internal.h"

#include <math.h>
#include <string.h>

static inline double sq(double x) { return x * x; }
static inline double mn(double a, double b) { return a < b ? a : b; }
static inline double mx(double a, double b) { return a > b ? a : b; }

uint64_t ph_hash64(uint64_t a, uint64_t b)
{
    uint64_t z = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull + (a << 6) + (a >> 2));
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Smooth value noise in [0, 1) on a lattice of `cell` mm (trilinear). */
static double vnoise(uint64_t seed, const double p[3], double cell)
{
    double g[3], fr[3], acc = 0;
    int64_t ic[3];
    for (int k = 0; k < 3; k++) {
        g[k] = p[k] / cell + 1000.0;
        ic[k] = (int64_t)floor(g[k]);
        fr[k] = g[k] - (double)ic[k];
        fr[k] = fr[k] * fr[k] * (3 - 2 * fr[k]);
    }
    for (int c = 0; c < 8; c++) {
        int64_t x = ic[0] + (c & 1), y = ic[1] + ((c >> 1) & 1), z = ic[2] + ((c >> 2) & 1);
        uint64_t h = ph_hash64(seed, ((uint64_t)x * 73856093u) ^ ((uint64_t)y * 19349663u) ^
                                         ((uint64_t)z * 83492791u));
        double w = (c & 1 ? fr[0] : 1 - fr[0]) * (c & 2 ? fr[1] : 1 - fr[1]) *
                   (c & 4 ? fr[2] : 1 - fr[2]);
        acc += w * (double)(h >> 11) * (1.0 / 9007199254740992.0);
    }
    return acc;
}

/* Distance from p to segment ab; *t receives the segment parameter. */
static double seg_dist(const double p[3], const double a[3], const double b[3], double *t)
{
    double ab[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, ap[3] = {p[0] - a[0], p[1] - a[1], p[2] - a[2]};
    double L = ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2];
    double s = L > 0 ? (ab[0] * ap[0] + ab[1] * ap[1] + ab[2] * ap[2]) / L : 0;
    s = s < 0 ? 0 : s > 1 ? 1 : s;
    if (t) *t = s;
    return sqrt(sq(ap[0] - s * ab[0]) + sq(ap[1] - s * ab[1]) + sq(ap[2] - s * ab[2]));
}

/* Blend of an ellipse and a squarer superellipse: normalised radius. */
static double blob_r(double x, double y)
{
    double q2 = x * x + y * y, q4 = x * x * x * x + y * y * y * y;
    return 0.5 * sqrt(q2) + 0.5 * sqrt(sqrt(q4));
}

double ph_body_depth(const ph_vert *v, const double q[3])
{
    double top, bot, s, a, b, y, r, zr, hyp, dr;
    ph_body_tb(v, q[0], q[1], &top, &bot);
    if (q[2] >= top || q[2] <= bot) return mn(top - q[2], q[2] - bot);
    zr = 2 * q[2] / v->H0;
    s = 1 - 0.06 * (1 - mn(1, zr * zr));
    a = v->W / 2 * s;
    b = v->D / 2 * s;
    y = q[1];
    if (y < 0 && fabs(q[0]) < a) y -= (v->region >= 2 ? 2.5 : 1.5) * (1 - sq(q[0] / a));
    r = blob_r(q[0] / a, y / b);
    if (r >= 1) return -(r - 1) * mn(a, b);
    hyp = sqrt(q[0] * q[0] + y * y);
    dr = r > 1e-6 ? (1 - r) * hyp / r : mn(a, b);
    return mn(dr, mn(top - q[2], q[2] - bot));
}

/* Sacrum apart from the S1 body: alae and the tapering lower sacrum. */
static double sacrum_depth(const ph_vert *v, const double q[3])
{
    double x = fabs(q[0]), d = -1e9;
    double hx = 25, hy = v->D / 2 - 2, hz = v->H0 / 2 + 4;
    double dx = (x - (v->W / 2 + 17)) / hx, dy = (q[1] + 4) / hy, dz = (q[2] + 4) / hz;
    double r4 = sqrt(sqrt(dx * dx * dx * dx + dy * dy * dy * dy + dz * dz * dz * dz));
    d = (1 - r4) * mn(hx, mn(hy, hz));
    if (q[2] < -v->H0 / 2 + 4) {
        double t = (-v->H0 / 2 + 4 - q[2]) / 94, yc = -v->D * 0.1 - 30 * t * t;
        double hw = (v->W / 2 + 35) * (1 - 0.75 * t), hd = v->D / 2 * (1 - 0.55 * t);
        if (t <= 1) {
            double r = blob_r(x / hw, (q[1] - yc) / hd);
            d = mx(d, mn((1 - r) * mn(hw, hd), (1 - t) * 94));
        }
    }
    return d;
}

/* Depth inside a capsule a-b whose section is an ellipse: r across, hz
 * along local z (z is scaled to make it round, as for the pedicles). */
static double flat_capsule(const double m[3], const double a[3], const double b[3], double r, double hz)
{
    double k = r / hz, mm[3] = {m[0], m[1], m[2] * k}, aa[3] = {a[0], a[1], a[2] * k}, bb[3] = {b[0], b[1], b[2] * k};
    return r - seg_dist(mm, aa, bb, NULL);
}

/* C1 (atlas): no body; lateral masses (facet parts: they carry its joints),
 * the anterior and posterior arches (lamina parts, by side: the phantom's
 * parts have no "arch"), transverse processes. */
static int atlas_bone(const ph_vert *v, const double q[3], double *depth)
{
    double x = fabs(q[0]), m[3] = {x, q[1], q[2]}, d[4];
    int left = q[0] >= 0, parts[4] = {left ? SP_PART_FACET_L : SP_PART_FACET_R, left ? SP_PART_LAMINA_L : SP_PART_LAMINA_R,
                                      left ? SP_PART_LAMINA_L : SP_PART_LAMINA_R,
                                      left ? SP_PART_TRANSVERSE_L : SP_PART_TRANSVERSE_R};
    double e = sqrt(sq((x - v->lm_c[0]) / v->lm_r[0]) + sq((q[1] - v->lm_c[1]) / v->lm_r[1]) + sq((q[2] - v->lm_c[2]) / v->lm_r[2]));
    d[0] = (1 - e) * mn(v->lm_r[0], mn(v->lm_r[1], v->lm_r[2]));
    d[1] = flat_capsule(m, v->aarch[0], v->aarch[1], v->aarch_r, v->aarch_hz);
    d[2] = mx(flat_capsule(m, v->parch[0], v->parch[1], v->parch_r, v->parch_hz),
              flat_capsule(m, v->parch[1], v->parch[2], v->parch_r, v->parch_hz));
    {
        double a[3] = {v->tp_a[0], v->tp_a[1], v->tp_a[2] / 1.3}, b[3] = {v->tp_b[0], v->tp_b[1], v->tp_b[2] / 1.3};
        double p2[3] = {x, q[1], q[2] / 1.3};
        d[3] = v->tp_r - seg_dist(p2, a, b, NULL);
    }
    int best = 0;
    for (int k = 1; k < 4; k++)
        if (d[k] > d[best]) best = k;
    *depth = d[best];
    return d[best] > 0 ? parts[best] : 0;
}

/* Bone of vertebra v at local q: returns the part (0 none), *depth the
 * union's depth. */
static int vert_bone(const ph_vert *v, const double q[3], double *depth)
{
    double x = fabs(q[0]), m[3] = {x, q[1], q[2]}, best = 0, d, t;
    int left = q[0] >= 0, part = 0;
    if (v->atlas) return atlas_bone(v, q, depth);
    double db = ph_body_depth(v, q);
    *depth = db;
    if (db > 0) part = SP_PART_BODY;
    /* C2's dens: a vertical peg from the body, part of the body */
    if (v->dens_r > 0) {
        double a[3] = {0, v->dens_y, v->H0 / 2 - v->dens_r}, b[3] = {0, v->dens_y, v->dens_top - v->dens_r};
        d = v->dens_r - seg_dist(q, a, b, NULL);
        if (d > best) { best = d; part = SP_PART_BODY; }
        if (d > *depth) *depth = d;
    }
    /* pedicle: capsule with an elliptic section (z scaled) */
    {
        double k = v->ped_w / v->ped_h, a[3], b[3], mm[3] = {m[0], m[1], m[2] * k};
        memcpy(a, v->ped_a, sizeof a);
        memcpy(b, v->ped_b, sizeof b);
        a[2] *= k;
        b[2] *= k;
        d = v->ped_w / 2 - seg_dist(mm, a, b, NULL);
        if (d > best) { best = d; if (!part) part = left ? SP_PART_PEDICLE_L : SP_PART_PEDICLE_R; }
        if (d > *depth) *depth = d;
    }
    /* lamina: a plate between the pedicle root and the midline */
    {
        double a[3] = {v->ped_b[0], v->ped_b[1], 0}, b[3] = {0, v->lam_m[1], 0}, p2[3] = {x, q[1], 0};
        d = mn(v->lam_t / 2 - seg_dist(p2, a, b, NULL), mn(q[2] - v->lam_z[0], v->lam_z[1] - q[2]));
        if (d > best) { best = d; if (part != SP_PART_BODY) part = left ? SP_PART_LAMINA_L : SP_PART_LAMINA_R; }
        if (d > *depth) *depth = d;
    }
    /* spinous process */
    {
        double a[3] = {0, v->spin_a[1], v->spin_a[2]}, b[3] = {0, v->spin_b[1], v->spin_b[2]};
        double p2[3] = {0, q[1], q[2]}, dd = seg_dist(p2, a, b, &t);
        d = mn(v->spin_hh * (1 - 0.35 * t) - dd, v->spin_t - x);
        if (d > best) { best = d; if (part != SP_PART_BODY) part = SP_PART_SPINOUS; }
        if (d > *depth) *depth = d;
    }
    /* transverse process */
    if (v->tp_len > 0) {
        double a[3] = {v->tp_a[0], v->tp_a[1], v->tp_a[2] / 1.3}, b[3] = {v->tp_b[0], v->tp_b[1], v->tp_b[2] / 1.3};
        double p2[3] = {x, q[1], q[2] / 1.3};
        d = v->tp_r - seg_dist(p2, a, b, NULL);
        if (d > best) { best = d; if (part != SP_PART_BODY) part = left ? SP_PART_TRANSVERSE_L : SP_PART_TRANSVERSE_R; }
        if (d > *depth) *depth = d;
    }
    /* articular processes (superior and inferior) */
    for (int k = 0; k < 2; k++) {
        const double *c = k ? v->iap : v->sap, *r = k ? v->iap_r : v->sap_r;
        double e = sqrt(sq((x - c[0]) / r[0]) + sq((q[1] - c[1]) / r[1]) + sq((q[2] - c[2]) / r[2]));
        d = (1 - e) * mn(r[0], mn(r[1], r[2]));
        if (d > best) { best = d; if (part != SP_PART_BODY) part = left ? SP_PART_FACET_L : SP_PART_FACET_R; }
        if (d > *depth) *depth = d;
    }
    if (v->sacrum) {
        d = sacrum_depth(v, q);
        if (d > best) { best = d; if (part != SP_PART_BODY) part = SP_PART_SACRUM; }
        if (d > *depth) *depth = d;
    }
    return part;
}

/* Is local q inside v's canal slab and canal? Returns 1 with canal coords. */
static int in_canal(const ph_scene *sc, const ph_vert *v, const double q[3], double *cx, double *cy)
{
    double lo = -(v->H0 / 2 + v->disc_below / 2), hi = v->H0 / 2 + v->disc_above / 2;
    double cl = v->canal_l, cf = v->canal_f, yc = v->canal_y;
    if (v->index == 0) hi += 40;
    if (v->index == sc->nvert - 1) lo -= 40;
    if (v->sacrum) lo = -v->H0 / 2 - 60;
    if (q[2] <= lo || q[2] > hi) return 0;
    if (v->sacrum && q[2] < -v->H0 / 2) {
        double t = mn(1, (-v->H0 / 2 - q[2]) / 94), ys = -v->D * 0.1 - 30 * t * t;
        yc = ys - v->D / 2 * (1 - 0.55 * t) * 0.55;
        cl *= 1 - 0.6 * t;
        cf *= 0.6 * (1 - 0.5 * t);
    }
    *cx = q[0];
    *cy = q[1] - yc;
    return sq(*cx / cl) + sq(*cy / cf) < 1;
}

static int disc_between(const ph_vert *a, const ph_vert *b, const double qa[3], const double p[3])
{
    double qb[3], ta, ba, tb, bb, w, x, y, A, B, ga, gb;
    if (a->atlas) return 0; /* C1-C2: no disc, the dens and two joints */
    ph_body_tb(a, qa[0], qa[1], &ta, &ba);
    if (qa[2] >= ba || qa[2] < ba - 2 * a->disc_below - 6) return 0;
    ph_local(b, p, qb);
    ph_body_tb(b, qb[0], qb[1], &tb, &bb);
    if (qb[2] <= tb) return 0;
    ga = ba - qa[2];
    gb = qb[2] - tb;
    w = ga / (ga + gb);
    x = qa[0] + (qb[0] - qa[0]) * w;
    y = qa[1] + (qb[1] - qa[1]) * w;
    A = (a->W + (b->W - a->W) * w) / 2 * 1.02;
    B = (a->D + (b->D - a->D) * w) / 2 * 1.02;
    if (y < 0 && fabs(x) < A) y -= (a->region >= 2 ? 2.5 : 1.5) * (1 - sq(x / A));
    return blob_r(x / A, y / B) < 1;
}

/* Paravertebral extension ellipsoid of v's lesion. */
static int in_extension(const ph_vert *v, const double q[3])
{
    double pv = v->les.paravertebral_mm, c[3] = {0, 0, 0}, r[3];
    if (pv <= 0 || !v->les.type) return 0;
    r[0] = v->W * 0.3 + pv / 3;
    r[1] = v->D * 0.3 + pv / 3;
    r[2] = v->H0 * 0.4 + pv / 4;
    switch (v->les.paravertebral_side) {
    case PH_SIDE_LEFT: c[0] = v->W / 2 + pv / 2 - 3; r[0] = pv / 2 + 3; break;
    case PH_SIDE_RIGHT: c[0] = -(v->W / 2 + pv / 2 - 3); r[0] = pv / 2 + 3; break;
    case PH_SIDE_ANTERIOR: c[1] = v->D / 2 + pv / 2 - 3; r[1] = pv / 2 + 3; break;
    default: c[1] = v->lam_m[1] - v->lam_t / 2 - pv / 2 + 3; c[2] = v->lam_m[2]; r[1] = pv / 2 + 3; break;
    }
    return sq((q[0] - c[0]) / r[0]) + sq((q[1] - c[1]) / r[1]) + sq((q[2] - c[2]) / r[2]) < 1;
}

static void wbb(const ph_vert *v, const double q[3], ph_sample *o, int layer)
{
    double a = atan2(q[0], -(q[1] - v->canal_y)) * 180 / M_PI;
    int z;
    if (a < 0) a += 360;
    z = (int)(a / 30);
    o->zone = (uint8_t)(z > 11 ? 11 : z);
    o->layer = (uint8_t)layer;
    o->owner = (int8_t)v->index;
}

/* Canal contents at canal coords (cx, cy) of vertebra v. */
static void canal(const sp_phantom_spec *s, const ph_vert *v, const double q[3], double cx,
                  double cy, ph_sample *o)
{
    double cl = v->canal_l, cf = v->canal_f, rl, rf;
    int bil = v->les.type ? v->les.bilsky : -1;
    if (v->pos < 8) { rl = 6.5; rf = 4.5; }
    else { rl = 4.5; rf = 4.0; }
    if (v->pos > 19.5) { rl *= 0.75; rf *= 0.8; }
    if (bil >= 0 && fabs(q[2]) < v->H0 / 2 + 1) {
        double gs = cf - cf * 0.72, gc = cf - rf, e, depth = 0, across = 0, half = 0;
        int mass;
        switch (bil) {
        case PH_BILSKY_1A: e = gs; break;
        case PH_BILSKY_1B: e = 0.5 * (gs + gc); break;
        case PH_BILSKY_1C: e = gc; break;
        default: e = gc + 0.8 * rf; break;
        }
        switch (v->les.epidural_side) {
        case PH_SIDE_LEFT: depth = cl - cx; across = cy; half = cf; e *= cl / cf; break;
        case PH_SIDE_RIGHT: depth = cl + cx; across = cy; half = cf; e *= cl / cf; break;
        case PH_SIDE_POSTERIOR: depth = cf + cy; across = cx; half = 0.8 * cl; break;
        default: depth = cf - cy; across = cx; half = 0.8 * cl; break;
        }
        mass = depth < e * (1 - sq(across / half));
        if (bil == PH_BILSKY_3) mass = sq(cx / (rl * 0.8)) + sq(cy / (rf * 0.6)) >= 1;
        if (mass) {
            o->tissue = PH_T_TUMOUR;
            o->hu = (float)s->hu_tumour;
            o->lesion = SP_LES_EPIDURAL;
            wbb(v, q, o, 3);
            return;
        }
    }
    if (v->cord && sq(cx / rl) + sq(cy / rf) < 1) {
        o->tissue = PH_T_CORD;
        o->hu = (float)s->hu_cord;
    } else if (sq(cx / (cl * 0.78)) + sq(cy / (cf * 0.72)) < 1) {
        o->tissue = PH_T_CSF;
        o->hu = (float)s->hu_csf;
    } else {
        o->tissue = PH_T_EPIFAT;
        o->hu = (float)(s->hu_fat + 10);
    }
}

static void soft(const sp_phantom_spec *s, const ph_plane *pl, const double p[3], ph_sample *o)
{
    double x = p[0], y = p[1], fat = s->fat_mm;
    double e = sq((x - pl->cx) / pl->ax) + sq((y - pl->cy) / pl->ay);
    double er = sq((x - pl->cx) / pl->rib_ax) + sq((y - pl->rib_cy) / pl->rib_ay);
    double dx = fabs(x - pl->sx);
    int t;
    if (e >= 1) t = PH_T_AIR;
    else if (sq((x - pl->cx) / (pl->ax - fat)) + sq((y - pl->cy) / (pl->ay - fat)) >= 1) t = PH_T_FAT;
    else if (er >= 1) t = PH_T_MUSCLE;
    else if (sq(dx / (pl->W / 2 + 28)) + sq((y - (pl->sy + pl->D / 2 + 2 * pl->canal_f + 22)) / 40) < 1)
        t = PH_T_MUSCLE; /* paraspinal muscles */
    else if (pl->psoas && sq(dx - (pl->W / 2 + 0.7 * pl->psoas_r)) + sq(y - pl->sy) < sq(pl->psoas_r))
        t = PH_T_MUSCLE;
    else if (pl->lungs &&
             sq((x - pl->cx) / (pl->rib_ax - 4)) + sq((y - pl->rib_cy) / (pl->rib_ay - 4)) < 1 &&
             dx > pl->W / 2 + 5 &&
             sq((x - pl->sx - 8) / 58) + sq((y - (pl->sy - pl->D / 2 - 50)) / 62) >= 1 &&
             sq(x - (pl->sx + pl->W * 0.3 + 6)) + sq(y - (pl->sy - pl->D / 2 + 2)) >= 14 * 14)
        t = PH_T_LUNG; /* outside the mediastinum and the descending aorta */
    else t = PH_T_SOFT;
    o->tissue = (uint8_t)t;
    switch (t) {
    case PH_T_AIR: o->hu = (float)s->hu_air; break;
    case PH_T_FAT: o->hu = (float)s->hu_fat; break;
    case PH_T_MUSCLE: o->hu = (float)s->hu_muscle; break;
    case PH_T_LUNG: o->hu = (float)s->hu_lung; break;
    default: o->hu = (float)s->hu_soft; break;
    }
    /* contrast: the aortic lumen (10 mm radius) in front of the body's left
     * half, touching its anterolateral cortex, as in a portal venous CT */
    if (isfinite(s->hu_aorta) && t != PH_T_AIR && t != PH_T_FAT &&
        sq(x - (pl->sx + 0.3 * pl->W + 6)) + sq(y - (pl->sy - pl->D / 2 - 7)) < 10.0 * 10.0)
        o->hu = (float)s->hu_aorta;
}

static double ilium_depth(const ph_scene *sc, int side, const double p[3])
{
    double d[3] = {p[0] - sc->ilium_a[side][0], p[1] - sc->ilium_a[side][1], p[2] - sc->ilium_a[side][2]};
    double u1 = d[0] * sc->ilium_e1[side][0] + d[1] * sc->ilium_e1[side][1] + d[2] * sc->ilium_e1[side][2];
    double u2 = d[0] * sc->ilium_e2[side][0] + d[1] * sc->ilium_e2[side][1] + d[2] * sc->ilium_e2[side][2];
    double w = d[0] * sc->ilium_n[side][0] + d[1] * sc->ilium_n[side][1] + d[2] * sc->ilium_n[side][2];
    double k, crest, bowl, th;
    if (u1 < -2 || u1 > 122) return -1;
    k = sin(M_PI * mn(mx(u1, 0), 120) / 120);
    crest = 25 + 40 * k;
    bowl = 10 * k;
    th = 14 - 9 * k;
    return mn(mn(th / 2 - fabs(w - bowl), mn(u1, 120 - u1)), mn(u2 + 70, crest - u2));
}

/* Bone tissue at a point of vertebra v (cortex, trabecular, tumour). */
static void bone(const sp_phantom_spec *s, const ph_vert *v, const double q[3], const double p[3],
                 int part, double depth, ph_sample *o)
{
    const ph_lesion_spec *l = &v->les;
    o->vert = (uint8_t)v->label;
    o->part = (uint8_t)part;
    if (depth < v->cortex_mm) {
        o->tissue = PH_T_CORTEX;
        o->hu = (float)s->hu_cortex;
    } else {
        o->tissue = PH_T_TRAB;
        o->hu = (float)(v->trab_hu + s->texture_hu * 2 * (vnoise(s->seed, p, 2.5) - 0.5));
    }
    if (l->type && (l->parts & (1u << part)) && (l->breach || depth >= v->cortex_mm)) {
        int in = 1;
        if (part == SP_PART_BODY)
            in = sq((q[0] - v->les_c[0]) / v->les_r[0]) + sq((q[1] - v->les_c[1]) / v->les_r[1]) +
                     sq((q[2] - v->les_c[2]) / v->les_r[2]) < 1;
        if (!in && l->breach && in_extension(v, q)) in = 1;
        if (in) {
            int blastic = l->type == PH_BLASTIC ||
                          (l->type == PH_MIXED && vnoise(s->seed ^ 0x5bd1e995u, q, 4.0) > 0.55);
            o->tissue = blastic ? PH_T_BLASTIC : PH_T_LYTIC;
            o->hu = (float)(blastic ? s->hu_blastic : s->hu_lytic);
            o->lesion = blastic ? SP_LES_BLASTIC : SP_LES_LYTIC;
            wbb(v, q, o, depth < 3 ? 1 : 2);
        }
    }
}

void ph_sample_point(const ph_scene *sc, const ph_plane *pl, const double p[3], ph_sample *o)
{
    const sp_phantom_spec *s = sc->spec;
    double best = 0, bq[3] = {0}, cq[3] = {0}, eq[3] = {0}, ccx = 0, ccy = 0;
    int bkind = -1, bidx = 0, bpart = 0, canal_v = -1, ext_v = -1, disc = 0;
    memset(o, 0, sizeof *o);
    o->owner = -1;
    for (int k = 0; k < pl->ncand; k++) {
        const ph_prim *pr = &sc->prim[pl->cand[k]];
        double q[3], d;
        if (p[0] < pr->bbox[0] || p[0] > pr->bbox[1] || p[1] < pr->bbox[2] || p[1] > pr->bbox[3])
            continue;
        if (pr->kind == 0) {
            const ph_vert *v = &sc->v[pr->a];
            int part;
            ph_local(v, p, q);
            if (canal_v < 0 && in_canal(sc, v, q, &ccx, &ccy)) {
                canal_v = pr->a;
                memcpy(cq, q, sizeof q);
            }
            part = vert_bone(v, q, &d);
            if (part && d > best) {
                best = d; bkind = 0; bidx = pr->a; bpart = part;
                memcpy(bq, q, sizeof q);
            }
            if (!disc && pr->a + 1 < sc->nvert && disc_between(v, &sc->v[pr->a + 1], q, p)) disc = 1;
            if (ext_v < 0 && in_extension(v, q)) {
                ext_v = pr->a;
                memcpy(eq, q, sizeof q);
            }
        } else if (pr->kind == 1) {
            const ph_rib *r = &sc->rib[pr->a];
            d = r->r - seg_dist(p, r->p[pr->b], r->p[pr->b + 1], NULL);
            if (d > best) { best = d; bkind = 1; bidx = pr->a; }
        } else {
            d = ilium_depth(sc, pr->a, p);
            if (d > best) { best = d; bkind = 2; bidx = pr->a; }
        }
    }
    if (canal_v >= 0) {
        canal(s, &sc->v[canal_v], cq, ccx, ccy, o);
        return;
    }
    if (bkind == 0) {
        if (canal_v < 0) bone(s, &sc->v[bidx], bq, p, bpart, best, o);
        return;
    }
    if (bkind > 0) {
        o->part = (uint8_t)(bkind == 1 ? (sc->rib[bidx].side ? SP_PART_RIB_R : SP_PART_RIB_L) : SP_PART_ILIUM);
        if (best < (bkind == 1 ? 1.0 : s->cortex_mm)) {
            o->tissue = PH_T_CORTEX;
            o->hu = (float)s->hu_cortex;
        } else {
            o->tissue = PH_T_TRAB;
            o->hu = (float)(s->hu_trab + s->texture_hu * 2 * (vnoise(s->seed, p, 2.5) - 0.5));
        }
        return;
    }
    if (disc) {
        o->tissue = PH_T_DISC;
        o->hu = (float)s->hu_disc;
        return;
    }
    if (ext_v >= 0) {
        o->tissue = PH_T_TUMOUR;
        o->hu = (float)s->hu_tumour;
        o->lesion = SP_LES_PARAVERTEBRAL;
        wbb(&sc->v[ext_v], eq, o, 0);
        return;
    }
    soft(s, pl, p, o);
}
