/* keyimages.c - the key images of the report: a sagittal and a coronal
 * reformat of the whole spine with level names and lesion overlays, and for
 * each vertebra with a lesion an axial slice with the lesion outline and the
 * WBB sectors.
 *
 * DESIGN: reformats are curved along the spine: each image row (a height in
 * the patient, superior at the top) is centred on the body-centre line
 * interpolated between the vertebrae, so a scoliotic or kyphotic spine stays
 * in the slab. Sagittal: anterior on the left; coronal: the patient's right
 * on the left (radiological). Axial: in the vertebra's own frame, viewed from
 * above with posterior at the top, so the patient's left is on the right and
 * zone 1 starts at the posterior midline going clockwise (the project's WBB
 * convention); the zone of every pixel comes from sp_wbb_zone() itself.
 * CT is sampled trilinearly, labels by nearest voxel; bone window L 400 W
 * 1800. Rendering is serial (images are small) and deterministic. */
#define SP_REPORT_INTERNAL
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/sp_geom.h"
#include "io/sp_png.h"

#define WIN_LO (400.0 - 900.0)
#define WIN_HI (400.0 + 900.0)

static const uint8_t WHITE[3] = {255, 255, 255}, YELLOW[3] = {255, 220, 40}, LYTIC_RGB[3] = {235, 45, 45},
                     BLASTIC_RGB[3] = {40, 150, 255}, ORANGE[3] = {255, 150, 30};

static const uint8_t *level_rgb(int label)
{
    static const uint8_t pal[8][3] = {{80, 200, 120}, {230, 160, 60}, {120, 160, 240}, {220, 120, 200},
                                      {200, 200, 90},  {90, 200, 210}, {240, 130, 110}, {170, 140, 240}};
    return pal[(label < 0 ? 0 : label) % 8];
}

typedef struct sampler {
    const sp_volume *ct, *lab, *les;
    double inv[16];
} sampler;

static void to_ijk(const sampler *s, const double p[3], double ijk[3])
{
    for (int r = 0; r < 3; r++)
        ijk[r] = s->inv[r * 4] * p[0] + s->inv[r * 4 + 1] * p[1] + s->inv[r * 4 + 2] * p[2] + s->inv[r * 4 + 3];
}

static double sample_hu(const sampler *s, const double p[3])
{
    double q[3];
    to_ijk(s, p, q);
    const sp_volume *v = s->ct;
    int i0 = (int)floor(q[0]), j0 = (int)floor(q[1]), k0 = (int)floor(q[2]);
    double fx = q[0] - i0, fy = q[1] - j0, fz = q[2] - k0, acc = 0;
    const int16_t *d = v->data;
    for (int c = 0; c < 8; c++) {
        int i = i0 + (c & 1), j = j0 + (c >> 1 & 1), k = k0 + (c >> 2 & 1);
        double w = ((c & 1) ? fx : 1 - fx) * ((c >> 1 & 1) ? fy : 1 - fy) * ((c >> 2 & 1) ? fz : 1 - fz);
        if (i < 0) i = 0;
        if (j < 0) j = 0;
        if (k < 0) k = 0;
        if (i >= v->nx) i = v->nx - 1;
        if (j >= v->ny) j = v->ny - 1;
        if (k >= v->nz) k = v->nz - 1;
        bool out = q[0] < -0.5 || q[1] < -0.5 || q[2] < -0.5 || q[0] > v->nx - 0.5 || q[1] > v->ny - 0.5 ||
                   q[2] > v->nz - 0.5;
        acc += w * (out ? -1024.0 : d[sp_vol_idx(v, i, j, k)]);
    }
    return acc;
}

/* label and lesion class at the nearest voxel; 0 outside */
static void sample_lab(const sampler *s, const double p[3], int *label, int *lesion)
{
    double q[3];
    to_ijk(s, p, q);
    int i = (int)lround(q[0]), j = (int)lround(q[1]), k = (int)lround(q[2]);
    const sp_volume *v = s->lab;
    *label = *lesion = 0;
    if (i < 0 || j < 0 || k < 0 || i >= v->nx || j >= v->ny || k >= v->nz) return;
    size_t x = sp_vol_idx(v, i, j, k);
    *label = ((const uint8_t *)v->data)[x];
    *lesion = ((const uint8_t *)s->les->data)[x];
}

static uint8_t grey(double hu)
{
    double g = (hu - WIN_LO) / (WIN_HI - WIN_LO) * 255.0;
    return (uint8_t)(g < 0 ? 0 : g > 255 ? 255 : lround(g));
}

static void blend(uint8_t *p, const uint8_t rgb[3], double a)
{
    for (int c = 0; c < 3; c++) p[c] = (uint8_t)lround(p[c] * (1 - a) + rgb[c] * a);
}

static void set_rgb(uint8_t *p, const uint8_t rgb[3]) { memcpy(p, rgb, 3); }

static void draw_line(sp_canvas *c, double x0, double y0, double x1, double y1, const uint8_t rgb[3], bool dashed)
{
    int n = (int)ceil(fmax(fabs(x1 - x0), fabs(y1 - y0))) + 1;
    for (int t = 0; t <= n; t++) {
        if (dashed && (t / 4) % 2) continue;
        int x = (int)lround(x0 + (x1 - x0) * t / n), y = (int)lround(y0 + (y1 - y0) * t / n);
        if (x >= 0 && y >= 0 && x < c->w && y < c->h) set_rgb(c->px + ((size_t)y * c->w + x) * 3, rgb);
    }
}

/* Overlays from per-pixel label and lesion maps: tinted lesions, lesion and
 * vertebra contours. */
static void overlay(sp_canvas *c, const int *lab, const int *les)
{
    for (int y = 0; y < c->h; y++)
        for (int x = 0; x < c->w; x++) {
            size_t i = (size_t)y * c->w + x;
            uint8_t *p = c->px + i * 3;
            int l = lab[i], e = les[i];
            bool edge_l = false, edge_e = false;
            static const int dx[4] = {1, -1, 0, 0}, dy[4] = {0, 0, 1, -1};
            for (int d = 0; d < 4; d++) {
                int qx = x + dx[d], qy = y + dy[d];
                if (qx < 0 || qy < 0 || qx >= c->w || qy >= c->h) continue;
                size_t q = (size_t)qy * c->w + qx;
                if (lab[q] != l) edge_l = true;
                if (les[q] != e) edge_e = true;
            }
            if (e) blend(p, e == 1 ? LYTIC_RGB : BLASTIC_RGB, 0.45);
            if (e && edge_e) set_rgb(p, e == 1 ? LYTIC_RGB : BLASTIC_RGB);
            else if (l && edge_l) set_rgb(p, level_rgb(l));
        }
}

static sp_status save(sp_canvas *c, const char *dir, sp_keyimages *out, const char *name, const char *caption,
                      int vertebra, sp_err *err)
{
    char path[4096];
    sp_keyimage *k = &out->im[out->n];
    snprintf(k->file, sizeof k->file, "keyimages/%s.png", name);
    snprintf(k->caption, sizeof k->caption, "%s", caption);
    k->vertebra = vertebra, k->width = c->w, k->height = c->h;
    snprintf(path, sizeof path, "%s/%s", dir, k->file);
    sp_status st = sp_png_write(path, c->px, c->w, c->h, 3, 0, err);
    if (st == SP_OK) out->n++;
    return st;
}

/* ---- the body-centre line ------------------------------------------------ */

typedef struct cline {
    int n;
    double p[SP_SEG_MAX_VERT][3]; /* sorted by z (LPS S) ascending */
} cline;

static void centre_of(const sp_report_ctx *ctx, int k, double p[3])
{
    const sp_score_vertebra *v = &ctx->res->v[k];
    if (v->frame_ok) memcpy(p, v->centre, sizeof v->centre);
    else memcpy(p, ctx->seg->vert[v->k].body_centre, 3 * sizeof(double));
}

static void cline_build(const sp_report_ctx *ctx, cline *cl)
{
    cl->n = 0;
    for (int k = 0; k < ctx->res->nvert; k++) {
        double p[3];
        centre_of(ctx, k, p);
        int i = cl->n++;
        while (i > 0 && cl->p[i - 1][2] > p[2]) {
            memcpy(cl->p[i], cl->p[i - 1], sizeof cl->p[i]);
            i--;
        }
        memcpy(cl->p[i], p, sizeof cl->p[i]);
    }
}

static void cline_at(const cline *cl, double z, double out[2])
{
    if (cl->n == 0) {
        out[0] = out[1] = 0;
        return;
    }
    if (z <= cl->p[0][2] || cl->n == 1) {
        out[0] = cl->p[0][0], out[1] = cl->p[0][1];
        return;
    }
    for (int i = 1; i < cl->n; i++)
        if (z <= cl->p[i][2]) {
            double t = (z - cl->p[i - 1][2]) / fmax(1e-6, cl->p[i][2] - cl->p[i - 1][2]);
            out[0] = cl->p[i - 1][0] + t * (cl->p[i][0] - cl->p[i - 1][0]);
            out[1] = cl->p[i - 1][1] + t * (cl->p[i][1] - cl->p[i - 1][1]);
            return;
        }
    out[0] = cl->p[cl->n - 1][0], out[1] = cl->p[cl->n - 1][1];
}


/* ---- sagittal and coronal ------------------------------------------------- */

static sp_status reformat(const sp_report_ctx *ctx, const sampler *s, const cline *cl, bool sagittal,
                          const char *dir, sp_keyimages *out, sp_err *err)
{
    const sp_volume *ct = ctx->ct;
    double zlo = INFINITY, zhi = -INFINITY;
    for (int c = 0; c < 8; c++) {
        double ijk[3] = {(c & 1) ? ct->nx - 1 : 0, (c >> 1 & 1) ? ct->ny - 1 : 0, (c >> 2 & 1) ? ct->nz - 1 : 0}, p[3];
        sp_vol_ijk_to_lps(ct, ijk, p);
        zlo = fmin(zlo, p[2]), zhi = fmax(zhi, p[2]);
    }
    const double width = 170.0, off = sagittal ? -70.0 : -85.0; /* mm: anterior / patient right first */
    double px = fmax(0.25, fmax((zhi - zlo) / 900.0, width / 400.0));
    sp_canvas c = {(int)lround(width / px), (int)lround((zhi - zlo) / px) + 1, NULL};
    if (c.h < 16) c.h = 16;
    c.px = calloc((size_t)c.w * c.h, 3);
    int *lab = calloc((size_t)c.w * c.h, sizeof *lab), *les = calloc((size_t)c.w * c.h, sizeof *les);
    if (!c.px || !lab || !les) {
        free(c.px), free(lab), free(les);
        return SP_ENOMEM;
    }
    for (int y = 0; y < c.h; y++) {
        double z = zhi - y * px, ctr[2];
        cline_at(cl, z, ctr);
        for (int x = 0; x < c.w; x++) {
            double t = off + x * px, p[3] = {ctr[0], ctr[1], z};
            if (sagittal) p[1] += t;
            else p[0] += t;
            size_t i = (size_t)y * c.w + x;
            memset(c.px + i * 3, grey(sample_hu(s, p)), 3);
            sample_lab(s, p, &lab[i], &les[i]);
        }
    }
    overlay(&c, lab, les);
    /* level names beside each body, on the anterior / patient-right side */
    for (int k = 0; k < ctx->res->nvert; k++) {
        const sp_score_vertebra *v = &ctx->res->v[k];
        double p[3];
        centre_of(ctx, k, p);
        char name[16];
        snprintf(name, sizeof name, "%s%s", v->name, v->uncertain ? "?" : "");
        int y = (int)lround((zhi - p[2]) / px) - sp_font_height(2) / 2;
        sp_font_draw(&c, 4, y, 2, name, sp_report_has_lesion(v) ? ORANGE : level_rgb(v->label));
    }
    /* orientation letters in the top corners and edges, clear of the level names */
    const int sc = 2;
    sp_font_draw(&c, c.w / 2 - 6, 3, sc, "S", WHITE);
    sp_font_draw(&c, c.w / 2 - 6, c.h - sp_font_height(sc) - 3, sc, "I", WHITE);
    sp_font_draw(&c, c.w - sp_font_width("P", sc) - 3, 3, sc, sagittal ? "P" : "L", WHITE);
    sp_font_draw(&c, c.w - sp_font_width("P", sc) - 3, c.h - sp_font_height(sc) - 3, sc, sagittal ? "P" : "L", WHITE);
    sp_font_draw(&c, 3, c.h - sp_font_height(sc) - 3, sc, sagittal ? "A" : "R", WHITE);
    free(lab), free(les);
    char cap[200];
    snprintf(cap, sizeof cap,
             sagittal ? "Sagittal reformat along the spine: anterior on the left, superior at the top; "
                        "lesions red (lytic) / blue (blastic)"
                      : "Coronal reformat along the spine: patient's right on the left (radiological), "
                        "superior at the top; lesions red (lytic) / blue (blastic)");
    sp_status st = save(&c, dir, out, sagittal ? "sagittal" : "coronal", cap, -1, err);
    free(c.px);
    return st;
}

/* ---- axial with WBB sectors ---------------------------------------------- */

static void frame_of(const sp_report_ctx *ctx, int k, double si[3], double ap[3], double lr[3])
{
    const sp_score_vertebra *v = &ctx->res->v[k];
    const sp_seg_vertebra *sv = &ctx->seg->vert[v->k];
    if (v->frame_ok) memcpy(si, v->si, 24), memcpy(ap, v->ap, 24), memcpy(lr, v->lr, 24);
    else memcpy(si, sv->axis_si, 24), memcpy(ap, sv->axis_ap, 24), memcpy(lr, sv->axis_lr, 24);
}

static sp_status axial(const sp_report_ctx *ctx, const sampler *s, int k, const char *dir, sp_keyimages *out,
                       sp_err *err)
{
    const sp_score_vertebra *v = &ctx->res->v[k];
    double si[3], ap[3], lr[3], c0[3], p0[3], wc[3];
    frame_of(ctx, k, si, ap, lr);
    centre_of(ctx, k, c0);
    memcpy(p0, c0, sizeof p0);
    const double *lc = v->les.lesion_centre;
    if (isfinite(lc[0]) && isfinite(lc[1]) && isfinite(lc[2]) && (lc[0] != 0 || lc[1] != 0 || lc[2] != 0)) {
        double d[3] = {lc[0] - c0[0], lc[1] - c0[1], lc[2] - c0[2]}, t = sp_dot3(d, si);
        for (int a = 0; a < 3; a++) p0[a] = c0[a] + t * si[a];
    }
    bool wbb = v->canal_ok;
    if (wbb) { /* canal centre projected onto the plane */
        double d[3] = {v->canal_centre[0] - p0[0], v->canal_centre[1] - p0[1], v->canal_centre[2] - p0[2]};
        double t = sp_dot3(d, si);
        for (int a = 0; a < 3; a++) wc[a] = v->canal_centre[a] - t * si[a];
    } else {
        for (int a = 0; a < 3; a++) wc[a] = p0[a] + 30.0 * ap[a];
    }
    /* image centre: between the body and the canal, a little posterior */
    double ic[3];
    for (int a = 0; a < 3; a++) ic[a] = 0.5 * (p0[a] + wc[a]) + 8.0 * ap[a];
    const double fov = 150.0;
    double px = fov / 480.0;
    sp_canvas c = {(int)lround(fov / px), (int)lround(fov / px), NULL};
    size_t npx = (size_t)c.w * c.h;
    c.px = calloc(npx, 3);
    int *lab = calloc(npx, sizeof *lab), *les = calloc(npx, sizeof *les);
    unsigned char *zone = calloc(npx, 1);
    if (!c.px || !lab || !les || !zone) {
        free(c.px), free(lab), free(les), free(zone);
        return SP_ENOMEM;
    }
    for (int y = 0; y < c.h; y++)
        for (int x = 0; x < c.w; x++) {
            double u = (x - c.w / 2.0) * px, w = (c.h / 2.0 - y) * px, p[3]; /* u: patient left, w: posterior */
            for (int a = 0; a < 3; a++) p[a] = ic[a] + u * lr[a] + w * ap[a];
            size_t i = (size_t)y * c.w + x;
            memset(c.px + i * 3, grey(sample_hu(s, p)), 3);
            int l, e;
            sample_lab(s, p, &l, &e);
            lab[i] = l == v->label ? l : 0; /* only this vertebra's outline */
            les[i] = l == v->label ? e : 0;
            double d[3] = {p[0] - wc[0], p[1] - wc[1], p[2] - wc[2]};
            double dl = sp_dot3(d, lr), dp = sp_dot3(d, ap);
            zone[i] = dl * dl + dp * dp <= 56.0 * 56.0 ? (unsigned char)sp_wbb_zone(dl, dp) : 0;
        }
    if (wbb) /* involved zones tinted */
        for (size_t i = 0; i < npx; i++)
            if (zone[i] && (v->les.zones & (1u << (zone[i] - 1)))) blend(c.px + i * 3, YELLOW, 0.16);
    overlay(&c, lab, les);
    double cx = c.w / 2.0 + sp_dot3((double[3]){wc[0] - ic[0], wc[1] - ic[1], wc[2] - ic[2]}, lr) / px;
    double cy = c.h / 2.0 - sp_dot3((double[3]){wc[0] - ic[0], wc[1] - ic[1], wc[2] - ic[2]}, ap) / px;
    if (wbb) {
        for (int b = 0; b < 12; b++) { /* zone boundaries every 30 degrees from the posterior midline */
            double th = b * M_PI / 6.0, dx = sin(th), dy = -cos(th);
            draw_line(&c, cx + dx * 6 / px, cy + dy * 6 / px, cx + dx * 56 / px, cy + dy * 56 / px, WHITE, true);
        }
        for (int b = 0; b < 12; b++) { /* the number where sp_wbb_zone says that zone is */
            double th = (b + 0.5) * M_PI / 6.0, dx = sin(th), dy = -cos(th);
            int z = sp_wbb_zone(dx, -dy);
            char num[4];
            snprintf(num, sizeof num, "%d", z);
            int tx = (int)lround(cx + dx * 47 / px) - sp_font_width(num, 2) / 2;
            int ty = (int)lround(cy + dy * 47 / px) - sp_font_height(2) / 2;
            sp_font_draw(&c, tx, ty, 2, num, (v->les.zones & (1u << (z - 1))) ? YELLOW : WHITE);
        }
    }
    const int sc = 2;
    char title[32];
    snprintf(title, sizeof title, "%s%s", v->name, v->uncertain ? "?" : "");
    sp_font_draw(&c, 6, 6, 3, title, ORANGE);
    sp_font_draw(&c, c.w / 2 - sp_font_width("POSTERIOR", sc) / 2, 6, sc, "POSTERIOR", WHITE);
    sp_font_draw(&c, c.w / 2 - sp_font_width("ANTERIOR", sc) / 2, c.h - sp_font_height(sc) - 6, sc, "ANTERIOR", WHITE);
    sp_font_draw(&c, 6, c.h / 2 - 7, sc, "R", WHITE);
    sp_font_draw(&c, c.w - sp_font_width("L", sc) - 6, c.h / 2 - 7, sc, "L", WHITE);
    free(lab), free(les), free(zone);
    char name[32], cap[200], zw[96];
    snprintf(name, sizeof name, "axial_%s", v->name);
    if (wbb)
        snprintf(cap, sizeof cap, "%s axial through the lesion, viewed from above, posterior at top, patient's left on the "
                 "right; WBB zones numbered, involved zones shaded: %s", v->name,
                 sp_report_zones_words(v->les.zones, zw, sizeof zw));
    else
        snprintf(cap, sizeof cap, "%s axial through the lesion, viewed from above, posterior at top, patient's left on the "
                 "right; canal not found, WBB zones not drawn", v->name);
    sp_status st = save(&c, dir, out, name, cap, k, err);
    free(c.px);
    return st;
}

sp_status sp_report_keyimages(const sp_report_ctx *ctx, const char *dir, sp_keyimages *out, sp_err *err)
{
    char path[4096];
    out->n = 0;
    snprintf(path, sizeof path, "%s/keyimages", dir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return sp_fail(err, SP_EIO, "%s: cannot create (%s)", path, strerror(errno));
    if (ctx->res->nvert < 1) return SP_OK;
    sampler s = {ctx->ct, ctx->seg->vertebrae, ctx->lesion, {0}};
    if (sp_mat4_invert(ctx->ct->ijk_to_lps, s.inv) != 0) return sp_fail(err, SP_EINVAL, "key images: singular CT geometry");
    cline cl;
    cline_build(ctx, &cl);
    sp_status st = reformat(ctx, &s, &cl, true, dir, out, err);
    if (st == SP_OK) st = reformat(ctx, &s, &cl, false, dir, out, err);
    for (int k = 0; st == SP_OK && k < ctx->res->nvert; k++)
        if (sp_report_has_lesion(&ctx->res->v[k])) st = axial(ctx, &s, k, dir, out, err);
    return st;
}
