/* measure_heights.c - anterior, middle and posterior body heights in the
 * body's own mid-sagittal plane.
 *
 * DESIGN: in the refined frame (frame.c) the body's depth is the extent of
 * the body mask along AP through the centroid; heights are the extents of
 * the mask along SI at 15 %, 50 % and 85 % of that depth from the anterior
 * surface (the phantom's convention). The mask is sampled trilinearly (the
 * labels are voxel-centre samples) and the 0.5 crossing is interpolated, so
 * each end is placed between the last voxel inside and the first outside,
 * then refined with the CT's edge (frame.c) or, at thick slices, with the
 * label's slice-to-slice steps between neighbouring lines (risers, below).
 * Collapse and Genant need the neighbours and are finished in score.c. */
#define SP_SCORE_INTERNAL
#include "internal.h"

#include <stdio.h>
#include <string.h>

/* True when the CT reaches SC_ARCH_HU within reach mm from p along s*dir (the
 * label's edge and the CT's blurred edge need not coincide). */
static bool bone_ahead(const sc_ctx *c, const double p[3], const double dir[3], int s, double reach)
{
    double q[3];
    for (double u = 0; u <= reach + 1e-9; u += 0.25) {
        sc_point(p, dir, s * u, dir, 0, dir, 0, q);
        if (sc_sample_ct(c, q) >= SC_ARCH_HU) return true;
    }
    return false;
}

/* The canal behind the body at mid-height: from the posterior wall along AP
 * to the arch, and across LR at its middle to the pedicles. */
static void canal(const sc_ctx *c, sp_score_vertebra *v)
{
    double p[3], t, arch = NAN, half[2] = {NAN, NAN};
    v->canal_ok = false;
    /* the arch is labelled bone (a label that also fills the canal gives
     * itself away by the canal's low HU) */
    for (t = v->h.wall_t + 1.0; t < v->h.wall_t + 35.0; t += 0.25) {
        sc_point(v->centre, v->ap, t, v->ap, 0, v->ap, 0, p);
        if (sc_sample_mask(c, v->k, false, p) >= 0.5 && bone_ahead(c, p, v->ap, 1, 2.5)) {
            arch = t;
            break;
        }
    }
    if (isnan(arch)) arch = v->h.wall_t + 16.0;
    double mid = 0.5 * (v->h.wall_t + arch);
    for (int s = 0; s < 2; s++)
        for (t = 1.0; t < 20.0; t += 0.25) {
            sc_point(v->centre, v->ap, mid, v->lr, s ? -t : t, v->lr, 0, p);
            if (sc_sample_mask(c, v->k, false, p) >= 0.5) {
                half[s] = t;
                break;
            }
        }
    /* label in the canal: the pedicles are where the bone is */
    if ((!isnan(half[0]) && half[0] < 4.0) || (!isnan(half[1]) && half[1] < 4.0))
        for (int s = 0; s < 2; s++) {
            half[s] = NAN;
            for (t = 1.0; t < 20.0; t += 0.25) {
                sc_point(v->centre, v->ap, mid, v->lr, s ? -t : t, v->lr, 0, p);
                if (sc_sample_mask(c, v->k, false, p) >= 0.5 && bone_ahead(c, p, v->lr, s ? -1 : 1, 0.5)) {
                    half[s] = t;
                    break;
                }
            }
        }
    double hw = !isnan(half[0]) && !isnan(half[1]) ? 0.5 * (half[0] + half[1]) : !isnan(half[0]) ? half[0]
                : !isnan(half[1]) ? half[1] : 8.0;
    double shift = !isnan(half[0]) && !isnan(half[1]) ? 0.5 * (half[0] - half[1]) : 0.0;
    sc_point(v->centre, v->ap, mid, v->lr, shift, v->lr, 0, v->canal_centre);
    v->canal_depth = arch - v->h.wall_t;
    v->canal_halfwidth = hw;
    v->canal_ok = true;
}

/* Posterior wall line (for translation at the discs): the posterior end of
 * the body along AP at SI offsets over the central 70 % of the posterior
 * height, 0.5 mm apart, fitted with a line (one refit without points off by
 * more than 1.5 mm). Many rows average the in-plane quantisation. */
static void posterior_wall(const sc_ctx *c, sp_score_vertebra *v)
{
    sp_score_heights *h = &v->h;
    double ts[160], ws[160], p[3], lo, hi;
    int n = 0;
    double mid = 0.5 * (h->post_lo + h->post_hi), half = 0.35 * (h->post_hi - h->post_lo);
    h->wall_ok = false;
    for (double s = mid - half; s <= mid + half + 1e-9 && n < 160; s += 0.5) {
        sc_point(v->centre, v->si, s, v->si, 0, v->si, 0, p);
        if (!sc_extent(c, v->k, true, p, v->ap, 60.0, &lo, &hi)) continue;
        ts[n] = s, ws[n] = hi, n++;
    }
    if (n < 5) return;
    bool use[160];
    for (int i = 0; i < n; i++) use[i] = true;
    for (int pass = 0; pass < 2; pass++) {
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        int m = 0;
        for (int i = 0; i < n; i++)
            if (use[i]) sx += ts[i], sy += ws[i], sxx += ts[i] * ts[i], sxy += ts[i] * ws[i], m++;
        double den = m * sxx - sx * sx;
        if (m < 5 || den <= 1e-9) return;
        h->wall_b = (m * sxy - sx * sy) / den;
        h->wall_a = (sy - h->wall_b * sx) / m;
        for (int i = 0; i < n; i++) use[i] = fabs(h->wall_a + h->wall_b * ts[i] - ws[i]) <= 1.5;
    }
    h->wall_ok = true;
}

/* Surface basis at offset (u, v): 1, u, v, v^2 and (np = 5) u^2. */
static void patch_basis(double u, double v, int np, double r[5])
{
    r[0] = 1, r[1] = u, r[2] = v, r[3] = v * v, r[4] = np == 5 ? u * u : 0;
}

/* Least squares w = sum coef . basis over the points with use[i]; 0 when
 * singular. */
static int patch_fit(const double *u, const double *v, const double *w, const bool *use, int n, int np, double coef[5])
{
    double A[5][6] = {{0}}, r[5];
    for (int i = 0; i < n; i++) {
        if (!use[i]) continue;
        patch_basis(u[i], v[i], np, r);
        for (int x = 0; x < np; x++) {
            for (int y = 0; y < np; y++) A[x][y] += r[x] * r[y];
            A[x][np] += r[x] * w[i];
        }
    }
    for (int col = 0; col < np; col++) {
        int piv = col;
        for (int rr = col + 1; rr < np; rr++)
            if (fabs(A[rr][col]) > fabs(A[piv][col])) piv = rr;
        if (fabs(A[piv][col]) < 1e-9) return 0;
        for (int kk = 0; kk <= np; kk++) {
            double t = A[col][kk];
            A[col][kk] = A[piv][kk], A[piv][kk] = t;
        }
        for (int rr = 0; rr < np; rr++) {
            if (rr == col) continue;
            double f = A[rr][col] / A[col][col];
            for (int kk = 0; kk <= np; kk++) A[rr][kk] -= f * A[col][kk];
        }
    }
    for (int x = 0; x < 5; x++) coef[x] = x < np ? A[x][np] / A[x][x] : 0;
    return isfinite(coef[0]);
}

/* Each end of a measuring line, from a patch of parallel lines around it:
 * SC_PATCH_N x SC_PATCH_N lines over +-SC_PATCH_LR_MM across and +-r along
 * AP (r = up to SC_PATCH_AP_MM, at least 2 mm inside the front and back
 * surfaces: room = distance of the line to the nearer one), each end fitted
 * with a smooth surface (quadratic in both directions; linear along AP
 * when r < 3 mm), one refit without the ends off it by > 1 mm, the
 * surface's value on the line replacing the line's own end. An endplate
 * tilted against the slices is cut by neighbouring lines at different
 * places within a voxel, so the partial-volume error of a single line's
 * edge (a few tenths of a mm, depending on where the surface falls within
 * the voxel) averages out; the quadratic terms keep a concave or collapsed
 * endplate's curvature from biasing the value. An endplate parallel to the
 * slices gains nothing. Kept as measured when fewer than 12 lines give
 * ends within 3 mm of the line's own, or (a patch that is nearly whole) of
 * the patch's median ends. Ends the CT's edge did not move are
 * left out of the fit where at least 12 and half of the lines' ends moved. */
#define SC_PATCH_N 7
#define SC_PATCH_AP_MM 5.0
#define SC_PATCH_LR_MM 7.0
static void patch_ends(const sc_ctx *c, const sp_score_vertebra *v, const double p[3], double room, int how,
                       double *lo, double *hi)
{
    double rap = fmin(SC_PATCH_AP_MM, room - 2.0);
    if (rap < 1.0) rap = 1.0;
    double su[SC_PATCH_N * SC_PATCH_N], sv[SC_PATCH_N * SC_PATCH_N], sa[SC_PATCH_N * SC_PATCH_N],
        sb[SC_PATCH_N * SC_PATCH_N];
    bool use[SC_PATCH_N * SC_PATCH_N], refined[2][SC_PATCH_N * SC_PATCH_N];
    int n = 0, m = 0, half = SC_PATCH_N / 2, nref[2] = {0, 0}, gots[SC_PATCH_N * SC_PATCH_N];
    for (int i = -half; i <= half; i++)
        for (int j = -half; j <= half; j++) {
            double q[3], du = rap * i / half, dv = SC_PATCH_LR_MM * j / half;
            sc_point(p, v->ap, du, v->lr, dv, v->si, 0, q);
            int got = sc_extent_hu(c, v->k, q, v->si, 60.0, how, &sa[n], &sb[n]);
            if (!got) continue;
            su[n] = du, sv[n] = dv, gots[n++] = got;
        }
    /* the lines whose ends lie within 3 mm of the line's own; where fewer
     * than 12 do but 12 lie within 3 mm of the patch's median ends, the
     * line's own end is its patch's outlier (a bump of the label at the
     * line: held-out mixed T11's L4, its anterior top 2.6 mm above the
     * body's, once the patch had moved 1 mm further in, +3.7 mm) and the
     * median is the reference. Only for a patch nearly whole (3/4 of its
     * lines found the body; L4: 49): in a body the tumour has half emptied
     * (crushed lytic L2, 24 lines found, 18 near a median 6.8 mm from the
     * line's end) the median is another surface, not the line's */
    double ref[2] = {*lo, *hi};
    for (int pass = 0; pass < 2; pass++) {
        m = 0;
        for (int i = 0; i < n; i++) m += fabs(sa[i] - ref[0]) <= 3.0 && fabs(sb[i] - ref[1]) <= 3.0;
        if (m >= 12 || pass || 4 * n < 3 * SC_PATCH_N * SC_PATCH_N) break;
        double ta[SC_PATCH_N * SC_PATCH_N], tb[SC_PATCH_N * SC_PATCH_N]; /* sc_median sorts */
        memcpy(ta, sa, sizeof ta), memcpy(tb, sb, sizeof tb);
        ref[0] = sc_median(ta, n), ref[1] = sc_median(tb, n);
    }
    if (m < 12) return;
    m = 0;
    for (int i = 0; i < n; i++) {
        if (fabs(sa[i] - ref[0]) > 3.0 || fabs(sb[i] - ref[1]) > 3.0) continue;
        refined[0][m] = (gots[i] & SC_LO_REFINED) != 0, refined[1][m] = (gots[i] & SC_HI_REFINED) != 0;
        nref[0] += refined[0][m], nref[1] += refined[1][m];
        su[m] = su[i], sv[m] = sv[i], sa[m] = sa[i], sb[m] = sb[i], m++;
    }
    int np = rap >= 3.0 ? 5 : 4;
    for (int e = 0; e < 2; e++) {
        double *w = e ? sb : sa, *end = e ? hi : lo, coef[5], r[5];
        /* ends left at the label (no clear CT edge, or the edge too far
         * from it) sit up to a voxel off the surface: left out of the fit
         * when at least 12 and half of the lines were moved to the CT's
         * edge (where fewer were, a destroyed endplate, the fit extended
         * the few across the patch: lytic L1's anterior height +2.4 mm) */
        bool only_ref = nref[e] >= 12 && 2 * nref[e] >= m;
        for (int i = 0; i < m; i++) use[i] = !only_ref || refined[e][i];
        if (!patch_fit(su, sv, w, use, m, np, coef)) continue;
        int kept = 0;
        for (int i = 0; i < m; i++) {
            patch_basis(su[i], sv[i], np, r);
            double f = 0;
            for (int x = 0; x < 5; x++) f += coef[x] * r[x];
            kept += use[i] = (!only_ref || refined[e][i]) && fabs(w[i] - f) <= 1.0;
        }
        if (kept >= 12 && kept < m) {
            double c2[5];
            if (patch_fit(su, sv, w, use, m, np, c2)) memcpy(coef, c2, sizeof coef);
        }
        if (fabs(coef[0] - ref[e]) <= 3.0) *end = coef[0];
    }
}

/* Thick slices (sc_thick_slices along SI, e.g. 5 mm slices): the HU
 * edge is not refined there (refine_end), and the label is sampled at slice
 * centres, so a line's mask end sits on a slice boundary anywhere within
 * half a slice of the true surface (a "tread": heights come out in whole
 * slices). The exact information is where the label's end steps from one
 * slice to the next between neighbouring lines (a "riser"): there the
 * surface crosses that slice's centre plane, known to the in-plane pixel.
 * Rows of lines SC_RISER_STEP_MM apart along AP over the body's depth (2 mm
 * inside the front and back surfaces, where the corners round off), in
 * SC_PATCH_N rows over +-SC_PATCH_LR_MM across, give these surface points:
 * the 0.5 crossings of the label at which the end's slice index passes an
 * integer (a jump of more than one slice between neighbouring lines is a gap
 * in the label, not a riser). On a measuring line, each row's end is
 * interpolated linearly between the nearest points in front of and behind
 * the line; with points on one side only: along the line through the
 * nearest two when they are at least SC_RISER_SPAN_MM apart (a slope;
 * closer, a pixel's uncertainty in their places makes it unreliable), as
 * far as their distance apart or SC_RISER_REACH_MM if more; else level with
 * the nearest within SC_RISER_REACH_MM (the endplate perpendicular to the
 * body axis: an endplate of
 * a grade 1 wedge, 25 % over 70 % of the depth and half of it on each
 * endplate, departs from level by 1 mm at 7 mm). The rows that give an end
 * are averaged, and the result is kept within half a voxel along SI of the
 * line's own mask end (the label's voxel-centre bound). An end no row gives
 * (an endplate parallel to the slices) stays as patch_ends left it. */
#define SC_ENDS_OF_MIDDLE 0.8 /* both end heights under this share of the middle: not a body's shape */
#define SC_RISER_STEP_MM 0.25
#define SC_RISER_MAX 64
#define SC_RISER_SPAN_MM 5.0
#define SC_RISER_REACH_MM 7.0

/* Grid axis along which dir crosses the voxels fastest (the slice axis). */
static int slice_axis(const sc_ctx *c, const double dir[3])
{
    const double *m = c->ct->ijk_to_lps;
    int best = 2;
    double bw = -1;
    for (int a = 0; a < 3; a++) {
        double col[3] = {m[a], m[4 + a], m[8 + a]};
        double w = fabs(sp_dot3(col, dir));
        if (w > bw) bw = w, best = a;
    }
    return best;
}

/* Slice-centre crossings of one row of lines (AP offsets u from the body
 * centre, in order), for the bottom [0] and top [1] ends. */
typedef struct riser_row {
    int n[2];
    double u[2][SC_RISER_MAX], t[2][SC_RISER_MAX];
} riser_row;

/* Scans the row at LR offset dv over AP offsets [u0, u1] from the centre. */
static void riser_scan(const sc_ctx *c, const sp_score_vertebra *v, double u0, double u1, double dv, int ax,
                       riser_row *r)
{
    double q[3], ep[3], ijk[3], lo, hi, pu = 0, pt[2] = {0, 0}, pz[2] = {NAN, NAN};
    r->n[0] = r->n[1] = 0;
    /* within the row's own front and back (an elliptic body is shallower
     * off the midline): a line near the side wall leaves through it */
    sc_point(v->centre, v->lr, dv, v->lr, 0, v->lr, 0, q);
    if (!sc_extent(c, v->k, true, q, v->ap, 60.0, &lo, &hi)) return;
    u0 = fmax(u0, lo + 2.0), u1 = fmin(u1, hi - 2.0);
    for (int i = 0; u0 + i * SC_RISER_STEP_MM <= u1 + 1e-9; i++) {
        double u = u0 + i * SC_RISER_STEP_MM;
        sc_point(v->centre, v->ap, u, v->lr, dv, v->si, 0, q);
        if (!sc_extent(c, v->k, true, q, v->si, 60.0, &lo, &hi)) {
            pz[0] = pz[1] = NAN;
            continue;
        }
        for (int e = 0; e < 2; e++) {
            double t = e ? hi : lo;
            sc_point(q, v->si, t, v->si, 0, v->si, 0, ep);
            sc_to_ijk(c, ep, ijk);
            double z = ijk[ax];
            if (!isnan(pz[e]) && fabs(z - pz[e]) <= 1.0 && floor(z) != floor(pz[e]) && r->n[e] < SC_RISER_MAX) {
                double n0 = fmax(floor(z), floor(pz[e])), f = (n0 - pz[e]) / (z - pz[e]);
                r->u[e][r->n[e]] = pu + f * (u - pu), r->t[e][r->n[e]] = pt[e] + f * (t - pt[e]), r->n[e]++;
            }
            pz[e] = z, pt[e] = t;
        }
        pu = u;
    }
}

/* The end of side e on the line at AP offset ul from one row's crossings;
 * false when the row gives none there. */
static bool riser_at(const riser_row *r, int e, double ul, double *out)
{
    int nc = r->n[e], k = 0;
    const double *cu = r->u[e], *ct = r->t[e];
    if (!nc) return false;
    while (k < nc && cu[k] < ul) k++; /* first crossing at or beyond the line */
    if (k > 0 && k < nc) { /* crossings on both sides: the surface between them */
        double du = cu[k] - cu[k - 1];
        *out = du < 1e-6 ? ct[k] : ct[k - 1] + (ct[k] - ct[k - 1]) * (ul - cu[k - 1]) / du;
        return true;
    }
    /* on one side only: extended along the line through the nearest two
     * when they are at least SC_RISER_SPAN_MM apart (a slope), as far as
     * their distance or SC_RISER_REACH_MM; else level with the nearest,
     * within SC_RISER_REACH_MM */
    int a = k == 0 ? 0 : nc - 1, b = k == 0 ? 1 : nc - 2;
    double span = nc >= 2 ? fabs(cu[b] - cu[a]) : 0;
    if (span >= SC_RISER_SPAN_MM && fabs(cu[a] - ul) <= fmax(span, SC_RISER_REACH_MM)) {
        *out = ct[a] + (ct[b] - ct[a]) * (ul - cu[a]) / (cu[b] - cu[a]);
        return true;
    }
    if (fabs(cu[a] - ul) > SC_RISER_REACH_MM) return false;
    *out = ct[a];
    return true;
}

/* The ends lo/hi of the measuring line at AP offset ul (its own mask ends
 * ra/rb) from the rows' crossings: the mean over the rows that give one,
 * kept within half a voxel along SI of the line's own end; an end no row
 * gives is left as it is. */
static void riser_ends(const sc_ctx *c, const sp_score_vertebra *v, const riser_row *rows, double ul, double ra,
                       double rb, double *lo, double *hi)
{
    double vox = sc_vox_along(c, v->si);
    for (int e = 0; e < 2; e++) {
        double sum = 0, val, *end = e ? hi : lo, own = e ? rb : ra;
        int m = 0;
        for (int j = 0; j < SC_PATCH_N; j++)
            if (riser_at(&rows[j], e, ul, &val)) sum += val, m++;
        if (m) *end = fmin(fmax(sum / m, own - 0.5 * vox), own + 0.5 * vox);
    }
}

void sc_measure_heights(const sc_ctx *c, sp_score_vertebra *v, bool plate_model)
{
    sp_score_heights *h = &v->h;
    double lo, hi, p[3], a0, b0;
    static const double frac[3] = {SC_FRONT_LINE_FRAC, 0.50, SC_BACK_LINE_FRAC};
    double *out[3] = {&h->anterior, &h->middle, &h->posterior};
    h->ok = h->lines_left_body = h->boundary_doubt = false;
    h->expected = h->collapse_pct = NAN;
    h->genant = -1;
    h->shape = "not assessed";
    if (!v->frame_ok) {
        snprintf(h->reason, sizeof h->reason, "body frame could not be fitted (%lld body voxels)",
                 (long long)v->body_voxels);
        return;
    }
    if (!sc_extent(c, v->k, true, v->centre, v->ap, 60.0, &lo, &hi)) {
        snprintf(h->reason, sizeof h->reason, "body centre is not inside the body mask");
        return;
    }
    /* the body is waisted (narrowest at mid-height): its depth is taken as
     * the widest of the AP extents at mid-height and at 40 % of the central
     * height above and below it (close to the endplates, where the
     * radiological depth is measured) */
    {
        double a, b;
        if (sc_extent(c, v->k, true, v->centre, v->si, 60.0, &a, &b))
            for (int e = 0; e < 2; e++) {
                double l2, h2;
                sc_point(v->centre, v->si, 0.4 * (e ? a : b), v->si, 0, v->si, 0, p);
                if (sc_extent(c, v->k, true, p, v->ap, 60.0, &l2, &h2)) lo = fmin(lo, l2), hi = fmax(hi, h2);
            }
    }
    h->depth = hi - lo;
    h->front_t = lo, h->wall_t = hi;
    if (sc_extent(c, v->k, true, v->centre, v->lr, 60.0, &a0, &b0)) h->width = b0 - a0;
    canal(c, v);
    bool thick = sc_thick_slices(c, v->si);
    riser_row rows[SC_PATCH_N];
    if (thick) {
        int ax = slice_axis(c, v->si);
        for (int j = 0; j < SC_PATCH_N; j++)
            riser_scan(c, v, lo + 2.0, hi - 2.0, SC_PATCH_LR_MM * (j - SC_PATCH_N / 2) / (SC_PATCH_N / 2), ax, &rows[j]);
    }
    for (int k = 0; k < 3; k++) {
        double t = lo + frac[k] * h->depth, a, b;
        sc_point(v->centre, v->ap, t, v->si, 0, v->lr, 0, p);
        int how = (k == 1 ? SC_HU_CENTRAL : 0) | (plate_model ? SC_HU_PLATE : 0);
        if (!sc_extent_hu(c, v->k, p, v->si, 60.0, how, &a, &b)) {
            snprintf(h->reason, sizeof h->reason, "%s measuring line misses the body mask",
                     k == 0 ? "anterior" : k == 1 ? "middle" : "posterior");
            return;
        }
        double ra = a, rb = b;
        patch_ends(c, v, p, fmin(t - lo, hi - t), how, &a, &b);
        if (thick) riser_ends(c, v, rows, t, ra, rb, &a, &b);
        *out[k] = b - a;
        if (k == 2) h->post_lo = a, h->post_hi = b;
        sc_point(p, v->si, b, v->si, 0, v->si, 0, h->lines[k][0]);
        sc_point(p, v->si, a, v->si, 0, v->si, 0, h->lines[k][1]);
        /* a line that ends at the volume's edge is cropped, not collapsed */
        for (int e = 0; e < 2; e++) {
            double ijk[3];
            sc_to_ijk(c, h->lines[k][e], ijk);
            if (ijk[2] < 0.5 || ijk[2] > c->ct->nz - 1.5 || ijk[0] < 0.5 || ijk[1] < 0.5 ||
                ijk[0] > c->ct->nx - 1.5 || ijk[1] > c->ct->ny - 1.5) {
                snprintf(h->reason, sizeof h->reason, "body cut by the field of view");
                return;
            }
        }
    }
    /* Both ends far shorter than the middle is no shape of a vertebral body
     * (a wedge shortens one end, a biconcave body the middle): the lines
     * have left the body through a tilted frame or a label that is not the
     * body's (T1 under a scan's top edge holding the first ribs and part of
     * T2's endplate: 6.7 / 18.1 / 8.4 mm for 16.5 / 16 / 16.5, read as a
     * grade 3 collapse). Not measured rather than a false collapse. */
    if (h->anterior < SC_ENDS_OF_MIDDLE * h->middle && h->posterior < SC_ENDS_OF_MIDDLE * h->middle) {
        snprintf(h->reason, sizeof h->reason,
                 "anterior %.1f and posterior %.1f mm both under %.0f %% of the middle %.1f mm: the measuring lines leave "
                 "the body",
                 h->anterior, h->posterior, 100 * SC_ENDS_OF_MIDDLE, h->middle);
        h->lines_left_body = true;
        return;
    }
    h->ok = true;
    posterior_wall(c, v);
}
