/* scene.c - completes the scene after the chain is placed: lesion sizes,
 * body outline and rib cage, ribs, pelvis, bounding boxes, the scan grid,
 * and the per-plane context used while rendering.
 *
 * DESIGN: everything expensive to decide per voxel is decided here once:
 * each object gets a world-space bounding box (a "primitive"), and
 * ph_plane_setup lists the primitives that cross one z plane, so a voxel
 * tests only a handful of boxes before any shape is evaluated. */
#define SP_PHANTOM_INTERNAL
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEG (M_PI / 180.0)

static double lerp(double a, double b, double t) { return a + (b - a) * t; }

/* Scales the body lesion ellipsoid so that it fills the requested share of
 * the body (counted on a fixed 24^3 lattice: deterministic). */
static void size_body_lesion(ph_vert *v)
{
    const int n = 24;
    double lo = 0, hi = 2.5, target = v->les.body_extent_pct / 100.0;
    v->les_c[0] = v->les.center[0] * v->W / 2;
    v->les_c[1] = v->les.center[1] * v->D / 2;
    v->les_c[2] = v->les.center[2] * v->H0 / 2;
    for (int it = 0; it < 30; it++) {
        double s = 0.5 * (lo + hi);
        long in = 0, hit = 0;
        for (int k = 0; k < n; k++)
            for (int j = 0; j < n; j++)
                for (int i = 0; i < n; i++) {
                    double q[3] = {((i + 0.5) / n - 0.5) * v->W, ((j + 0.5) / n - 0.5) * v->D,
                                   ((k + 0.5) / n - 0.5) * v->H0};
                    double a = (q[0] - v->les_c[0]) / (s * v->W / 2);
                    double b = (q[1] - v->les_c[1]) / (s * v->D / 2);
                    double c = (q[2] - v->les_c[2]) / (s * v->H0 / 2);
                    if (ph_body_depth(v, q) <= 0) continue;
                    in++;
                    if (a * a + b * b + c * c < 1) hit++;
                }
        if (in == 0) break;
        if ((double)hit / in < target) lo = s;
        else hi = s;
    }
    v->les_r[0] = hi * v->W / 2;
    v->les_r[1] = hi * v->D / 2;
    v->les_r[2] = hi * v->H0 / 2;
}

/* Body outline and rib cage at each level. */
static void outline(const sp_phantom_spec *s, ph_scene *sc)
{
    for (int i = 0; i < sc->nvert; i++) {
        ph_vert *v = &sc->v[i];
        double back = v->D / 2 + 2 * v->canal_f + 3 + v->lam_t +
                      v->spin_len * cos(v->spin_ang) + 35 * s->size_scale;
        double tpy, ant;
        /* outline factors are tabulated by anatomical position */
        {
            static const double kp[] = {1, 7, 8, 12, 15, 19, 20, 22, 24, 25};
            static const double ax[] = {0.38, 0.42, 0.85, 0.95, 1.0, 0.97, 0.95, 0.93, 0.97, 1.05};
            static const double ay[] = {0.55, 0.6, 0.75, 0.9, 1.0, 1.0, 0.98, 0.95, 0.95, 0.95};
            double p = v->pos, a = ax[9], b = ay[9];
            if (p <= kp[0]) { a = ax[0]; b = ay[0]; }
            for (int k = 1; k < 10; k++)
                if (p > kp[k - 1] && p <= kp[k]) {
                    double t = (p - kp[k - 1]) / (kp[k] - kp[k - 1]);
                    a = lerp(ax[k - 1], ax[k], t);
                    b = lerp(ay[k - 1], ay[k], t);
                }
            v->out_ax = a * s->body_width / 2;
            v->out_ay = b * s->body_depth / 2;
        }
        v->out_cy = v->c[1] + back - v->out_ay;
        /* rib cage: 12 mm of wall muscle inside the fat, posteriorly at the
         * transverse process tips */
        tpy = v->c[1] - v->tp_b[1] + v->tp_r + 6;
        ant = v->out_cy - v->out_ay + s->fat_mm + 12;
        v->rib_cy = 0.5 * (tpy + ant);
        v->rib_ay = 0.5 * (tpy - ant);
        v->rib_ax = v->out_ax - s->fat_mm - 12;
    }
}

static void add_rib(const sp_phantom_spec *s, ph_scene *sc, int vi, int side, int k)
{
    const ph_vert *v = &sc->v[vi];
    ph_rib *r = &sc->rib[sc->nrib++];
    double sg = side == 0 ? 1 : -1, q[3], p2[3], cx = sc->body_cx;
    double end = k == 1 ? 150 : k <= 7 ? 165 : k <= 10 ? 145 : k == 11 ? 110 : k == 12 ? 80 : 55;
    double drop = (k == 1 ? 20 : k <= 10 ? 85 : 40) * s->size_scale;
    double ph0, rho2, rx = v->rib_ax, ry = v->rib_ay;
    int nshaft = PH_RIB_PTS - 3;
    r->vert = vi;
    r->side = side;
    r->r = (k == 1 ? 5.5 : 4.5) * s->size_scale;
    q[0] = sg * (v->W / 2 + 1); q[1] = -v->D * 0.3; q[2] = v->H0 / 2 - 1;
    ph_world(v, q, r->p[0]);
    q[0] = sg * v->tp_b[0] * 0.7; q[1] = v->tp_b[1] + 6; q[2] = 0.5 * (v->H0 / 2 + v->ped_z);
    ph_world(v, q, r->p[1]);
    q[0] = sg * v->tp_b[0]; q[1] = v->tp_b[1] + v->tp_r + 4.5; q[2] = v->tp_b[2];
    ph_world(v, q, p2);
    memcpy(r->p[2], p2, sizeof p2);
    ph0 = atan2(sg * (p2[0] - cx) / rx, (p2[1] - v->rib_cy) / ry);
    rho2 = sqrt(((p2[0] - cx) / rx) * ((p2[0] - cx) / rx) +
                ((p2[1] - v->rib_cy) / ry) * ((p2[1] - v->rib_cy) / ry));
    for (int j = 1; j <= nshaft; j++) {
        double t = (double)j / nshaft, ph = lerp(ph0, end * DEG, t);
        double rad = 1 + (rho2 - 1) * fmax(0, 1 - j / 3.0);
        double *p = r->p[2 + j];
        p[0] = cx + sg * rx * rad * sin(ph);
        p[1] = v->rib_cy + ry * rad * cos(ph);
        p[2] = p2[2] - drop * pow(t, 1.3);
    }
    r->npts = PH_RIB_PTS;
}

static void ribs(const sp_phantom_spec *s, ph_scene *sc)
{
    for (int i = 0; i < sc->nvert; i++) {
        ph_vert *v = &sc->v[i];
        int k = 0;
        if (v->region == 1) k = v->label == 28 ? 13 : v->label - 7;
        else if (v->label == 20 && s->rib_pairs > s->thoracic_count) k = s->thoracic_count + 1;
        if (k < 1 || k > s->rib_pairs) continue;
        v->has_ribs = 1;
        add_rib(s, sc, i, 0, k);
        add_rib(s, sc, i, 1, k);
    }
}

static void pelvis(ph_scene *sc)
{
    const ph_vert *v = &sc->v[sc->nvert - 1];
    if (!v->sacrum) return;
    sc->has_pelvis = 1;
    for (int side = 0; side < 2; side++) {
        double sg = side == 0 ? 1 : -1, b = 35 * DEG, q[3], o[3];
        double e1[3] = {sg * cos(b), sin(b), 0}, e2[3] = {sg * 0.25, 0, 1}, n[3];
        double len2 = sqrt(e2[0] * e2[0] + e2[2] * e2[2]);
        e2[0] /= len2;
        e2[2] /= len2;
        q[0] = sg * (v->W / 2 + 44); q[1] = -6; q[2] = 0;
        ph_world(v, q, sc->ilium_a[side]);
        for (int k = 0; k < 3; k++) {
            sc->ilium_e1[side][k] = e1[0] * v->l[k] + e1[1] * v->f[k] + e1[2] * v->u[k];
            sc->ilium_e2[side][k] = e2[0] * v->l[k] + e2[1] * v->f[k] + e2[2] * v->u[k];
        }
        o[0] = sc->ilium_e1[side][1] * sc->ilium_e2[side][2] - sc->ilium_e1[side][2] * sc->ilium_e2[side][1];
        o[1] = sc->ilium_e1[side][2] * sc->ilium_e2[side][0] - sc->ilium_e1[side][0] * sc->ilium_e2[side][2];
        o[2] = sc->ilium_e1[side][0] * sc->ilium_e2[side][1] - sc->ilium_e1[side][1] * sc->ilium_e2[side][0];
        /* the normal points laterally (outward bulge of the wing) */
        if (o[0] * v->l[0] * sg + o[1] * v->l[1] * sg + o[2] * v->l[2] * sg < 0)
            for (int k = 0; k < 3; k++) o[k] = -o[k];
        memcpy(n, o, sizeof n);
        memcpy(sc->ilium_n[side], n, sizeof n);
    }
}

static void bbox_grow(double *bb, const double p[3], double r)
{
    for (int k = 0; k < 3; k++) {
        if (p[k] - r < bb[2 * k]) bb[2 * k] = p[k] - r;
        if (p[k] + r > bb[2 * k + 1]) bb[2 * k + 1] = p[k] + r;
    }
}

static void bbox_init(double *bb)
{
    for (int k = 0; k < 3; k++) {
        bb[2 * k] = 1e30;
        bb[2 * k + 1] = -1e30;
    }
}

static void vert_bbox(ph_vert *v)
{
    double xr = fmax(v->W / 2 * 1.1, v->tp_b[0] + v->tp_r * 1.3) + 4;
    double yb = fmin(fmin(v->spin_b[1], v->lam_m[1]) - v->spin_hh, v->canal_y - v->canal_f) - 5;
    double yf = v->D / 2 + 4, zb = fmin(-v->H0 / 2 - v->disc_below - 2, v->spin_b[2]) - v->spin_hh - 4;
    double zt = v->H0 / 2 + v->disc_above * 0.6 + 10;
    if (v->les.paravertebral_mm > 0) {
        xr += v->les.paravertebral_mm;
        yf += v->les.paravertebral_mm;
        yb -= v->les.paravertebral_mm;
    }
    if (v->atlas) { /* the ring and its transverse processes */
        xr = fmax(xr, fmax(v->tp_b[0] + v->tp_r, v->lm_c[0] + v->lm_r[0]) + 4);
        yf = fmax(yf, v->aarch[1][1] + v->aarch_r + 4);
        yb = fmin(yb, v->parch[2][1] - v->parch_r - 5);
        zb = fmin(zb, v->lm_c[2] - v->lm_r[2] - 4);
        zt = fmax(zt, v->lm_c[2] + v->lm_r[2] + 4);
    }
    if (v->dens_r > 0) zt = fmax(zt, v->dens_top + 4);
    if (v->sacrum) {
        xr = v->W / 2 + 50;
        yb = fmin(yb, -v->D / 2 - 60);
        zb = -v->H0 / 2 - 100;
    }
    bbox_init(v->bbox);
    for (int c = 0; c < 8; c++) {
        double q[3] = {c & 1 ? xr : -xr, c & 2 ? yf : yb, c & 4 ? zt : zb}, p[3];
        ph_world(v, q, p);
        bbox_grow(v->bbox, p, 0);
    }
}

static sp_status prims(ph_scene *sc, sp_err *err)
{
    int n = sc->nvert + 2, k = 0;
    for (int r = 0; r < sc->nrib; r++) n += sc->rib[r].npts - 1;
    sc->prim = calloc((size_t)n, sizeof *sc->prim);
    if (!sc->prim) return sp_fail(err, SP_ENOMEM, "out of memory");
    for (int i = 0; i < sc->nvert; i++) {
        vert_bbox(&sc->v[i]);
        sc->prim[k].kind = 0;
        sc->prim[k].a = i;
        memcpy(sc->prim[k++].bbox, sc->v[i].bbox, sizeof sc->v[i].bbox);
    }
    for (int r = 0; r < sc->nrib; r++)
        for (int j = 0; j + 1 < sc->rib[r].npts; j++) {
            ph_prim *p = &sc->prim[k++];
            p->kind = 1;
            p->a = r;
            p->b = j;
            bbox_init(p->bbox);
            bbox_grow(p->bbox, sc->rib[r].p[j], sc->rib[r].r + 1);
            bbox_grow(p->bbox, sc->rib[r].p[j + 1], sc->rib[r].r + 1);
        }
    if (sc->has_pelvis)
        for (int side = 0; side < 2; side++) {
            ph_prim *p = &sc->prim[k++];
            p->kind = 2;
            p->a = side;
            bbox_init(p->bbox);
            for (int c = 0; c < 8; c++) {
                double a = c & 1 ? 125 : -5, b = c & 2 ? 75 : -80, t = c & 4 ? 22 : -22, q[3];
                for (int m = 0; m < 3; m++)
                    q[m] = sc->ilium_a[side][m] + a * sc->ilium_e1[side][m] +
                           b * sc->ilium_e2[side][m] + t * sc->ilium_n[side][m];
                bbox_grow(p->bbox, q, 0);
            }
        }
    sc->nprim = k;
    return SP_OK;
}

static int find_level(const ph_scene *sc, const char *name, int dflt)
{
    for (int i = 0; i < sc->nvert; i++)
        if (!strcmp(sc->v[i].name, name)) return i;
    return dflt;
}

static sp_status grid(const sp_phantom_spec *s, ph_scene *sc, sp_err *err)
{
    int a = find_level(sc, s->fov_from, 0), b = find_level(sc, s->fov_to, sc->nvert - 1);
    const ph_vert *va = &sc->v[a], *vb = &sc->v[b];
    double ztop = va->c[2] + va->H0 / 2 + s->margin_mm, zbot = vb->c[2] - vb->H0 / 2 - s->margin_mm;
    double cx = 0, cy = 0;
    if (a == 0) ztop += va->disc_above * 0.5;
    if (b == sc->nvert - 1 && !vb->sacrum) zbot -= vb->disc_below * 0.5;
    for (int i = a; i <= b; i++) cy += sc->v[i].out_cy / (b - a + 1);
    cx = sc->body_cx;
    if (s->has_center) {
        cx = s->center[0];
        cy = s->center[1];
    }
    sc->nx = s->nx;
    sc->ny = s->ny;
    sc->nz = (int)floor((ztop - zbot) / s->slice_mm) + 1;
    if (sc->nz < 2 || sc->nz > 4000)
        return sp_fail(err, SP_EINVAL, "%s: scan would have %d slices (allowed 2..4000)",
                       s->name, sc->nz);
    sc->spacing[0] = sc->spacing[1] = s->pixel_mm;
    sc->spacing[2] = s->slice_mm;
    sc->thickness = s->thickness_mm;
    sc->origin[0] = round((cx - (sc->nx - 1) / 2.0 * s->pixel_mm) * 1000) / 1000;
    sc->origin[1] = round((cy - (sc->ny - 1) / 2.0 * s->pixel_mm) * 1000) / 1000;
    sc->origin[2] = round((ztop - (sc->nz - 1) * s->slice_mm) * 1000) / 1000;
    return SP_OK;
}

sp_status ph_scene_build(const sp_phantom_spec *s, ph_scene *sc, sp_err *err)
{
    sp_status st;
    double mx = 0, my = 0;
    memset(sc, 0, sizeof *sc);
    sc->spec = s;
    if ((st = ph_build_levels(s, sc, err))) return st;
    /* centre the spine on x = 0, y = 0 */
    for (int i = 0; i < sc->nvert; i++) {
        mx += sc->v[i].c[0] / sc->nvert;
        my += sc->v[i].c[1] / sc->nvert;
    }
    for (int i = 0; i < sc->nvert; i++) {
        sc->v[i].c[0] -= mx;
        sc->v[i].c[1] -= my;
        if (sc->v[i].les.type && (sc->v[i].les.parts & (1u << SP_PART_BODY)))
            size_body_lesion(&sc->v[i]);
    }
    sc->body_cx = 0;
    outline(s, sc);
    ribs(s, sc);
    pelvis(sc);
    if ((st = prims(sc, err))) return st;
    return grid(s, sc, err);
}

void ph_scene_clear(ph_scene *sc)
{
    if (!sc) return;
    free(sc->prim);
    sc->prim = NULL;
}

void ph_plane_setup(const ph_scene *sc, double z, ph_plane *pl)
{
    int i = 0, n = sc->nvert;
    double t = 0;
    const ph_vert *a, *b;
    int *cand = pl->cand;
    memset(pl, 0, sizeof *pl);
    pl->cand = cand;
    pl->z = z;
    if (z >= sc->v[0].c[2]) {
        i = 0;
        t = 0;
    } else if (z <= sc->v[n - 1].c[2]) {
        i = n - 2;
        t = 1;
    } else {
        for (i = 0; i + 1 < n; i++)
            if (z <= sc->v[i].c[2] && z >= sc->v[i + 1].c[2]) break;
        if (i + 1 >= n) i = n - 2;
        t = (sc->v[i].c[2] - z) / (sc->v[i].c[2] - sc->v[i + 1].c[2]);
    }
    a = &sc->v[i];
    b = &sc->v[i + 1];
    pl->sx = lerp(a->c[0], b->c[0], t);
    pl->sy = lerp(a->c[1], b->c[1], t);
    pl->cx = sc->body_cx;
    pl->cy = lerp(a->out_cy, b->out_cy, t);
    pl->ax = lerp(a->out_ax, b->out_ax, t);
    pl->ay = lerp(a->out_ay, b->out_ay, t);
    pl->rib_cy = lerp(a->rib_cy, b->rib_cy, t);
    pl->rib_ax = lerp(a->rib_ax, b->rib_ax, t);
    pl->rib_ay = lerp(a->rib_ay, b->rib_ay, t);
    pl->W = lerp(a->W, b->W, t);
    pl->D = lerp(a->D, b->D, t);
    pl->canal_f = lerp(a->canal_f, b->canal_f, t);
    pl->lungs = lerp(a->lung, b->lung, t) > 0.5;
    pl->psoas_r = lerp(a->psoas_r, b->psoas_r, t);
    pl->psoas = pl->psoas_r > 1;
    pl->ncand = 0;
    for (int k = 0; k < sc->nprim; k++)
        if (z >= sc->prim[k].bbox[4] && z <= sc->prim[k].bbox[5]) pl->cand[pl->ncand++] = k;
}
