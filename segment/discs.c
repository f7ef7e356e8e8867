/* discs.c - find the intervertebral disc spaces along the centreline.
 *
 * DESIGN: the density profile along the curve, sampled every 1 mm of arc
 * length (mean HU of a 7 mm disc perpendicular to the tangent, centred on
 * the body), dips at every disc: discs are ~80-120 HU between endplates.
 * But the middle of a body can dip too (trabecular bone between two bright
 * endplates), and so can a lytic lesion or a fracture cleft, so minima alone
 * are not discs. Discs are regular: their spacing (the vertebra's height
 * plus its disc) changes slowly along the spine. The local period T(s) is
 * the autocorrelation peak of the profile over +/-60 mm (lags 18-45 mm). A
 * dip's weight is its prominence, scaled down when it is broad (width at half
 * depth over 0.35 T: a disc is thin, a body's middle or a lytic lesion is
 * not), and
 * dynamic programming picks the chain of minima that maximises the summed
 * prominence minus 500 x ((gap - T) / T)^2 for each gap, with gaps of 0.5 T
 * to 1.6 T allowed. A mid-body dip makes two half gaps and loses to the one
 * full gap; a collapsed vertebra (gap 0.6-0.7 T) keeps both its discs because
 * their prominence outweighs the small penalty. A disc beside a collapsed
 * lytic body has tumour, darker than any disc, on one side: its dip is
 * measured on the other side only (dip_weight). */
#define SP_SEGMENT_INTERNAL
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sp_log.h"

#define DISC_RADIUS_MM 7.0
#define PROM_MIN 15.0
#define SIDE_MM 10.0
#define GAP_LAMBDA 500.0
#define LAG_MIN 18       /* shortest period looked for on thick slices (T1 + disc ~21 mm) */
#define LAG_MIN_THIN 12  /* ... and on slices of THICK_SLICE_MM or thinner: cervical levels */
#define LAG_MAX 45
#define ACF_HALF 60
#define SPLIT_PENALTY 400.0
#define THICK_SLICE_MM 4.0 /* thicker than a thoracic disc */
#define PERIOD_SLOPE_MAX 0.06 /* mm of period per mm of column: L5 38 -> T1 21 mm over ~450 mm is 0.04 */
#define PERIOD_FIT_MIN_MM 100 /* profiles this long or longer get the straight-line fit */
#define LYTIC_VALLEY_HU 60.0 /* below any disc (80-130 HU): tumour, not disc */
#define SHOULDER_SLOPE_HU 10.0 /* HU per mm: a rise this flat is a shoulder */

/* Penalty of a gap g (mm) between consecutive discs for local period T;
 * 1e30 when not allowed. Beyond 1.6 T a disc was missed (bridged or too thin
 * to see): allowed, at a price. */
static double gap_penalty(double g, double T)
{
    if (g < 0.45 * T || g > 2.7 * T) return 1e30;
    double e = g <= 1.6 * T ? (g - T) / T : (g - 2 * T) / T;
    return GAP_LAMBDA * e * e + (g > 1.6 * T ? 80.0 : 0.0);
}

void seg_line_at_s(const seg_line *L, double s, double p[3], double t[3])
{
    int i = 0;
    if (s <= L->s[0]) i = 0;
    else if (s >= L->s[L->n - 1]) i = L->n - 2;
    else
        while (i + 2 < L->n && L->s[i + 1] < s) i++;
    if (L->n < 2) {
        memcpy(p, L->p[0], 3 * sizeof *p);
        memcpy(t, L->t[0], 3 * sizeof *t);
        return;
    }
    double span = L->s[i + 1] - L->s[i], a = span > 0 ? (s - L->s[i]) / span : 0;
    if (a < 0) a = 0;
    if (a > 1) a = 1;
    double nt = 0;
    for (int k = 0; k < 3; k++) {
        p[k] = (1 - a) * L->p[i][k] + a * L->p[i + 1][k];
        t[k] = (1 - a) * L->t[i][k] + a * L->t[i + 1][k];
        nt += t[k] * t[k];
    }
    nt = sqrt(nt);
    for (int k = 0; k < 3; k++) t[k] = nt > 0 ? t[k] / nt : (k == 2);
}

static void frame(const double t[3], double u[3], double v[3])
{
    double a[3] = {1, 0, 0}, d = a[0] * t[0] + a[1] * t[1] + a[2] * t[2], n;
    for (int k = 0; k < 3; k++) u[k] = a[k] - d * t[k];
    n = sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]);
    for (int k = 0; k < 3; k++) u[k] /= n;
    v[0] = t[1] * u[2] - t[2] * u[1];
    v[1] = t[2] * u[0] - t[0] * u[2];
    v[2] = t[0] * u[1] - t[1] * u[0];
}

static double disc_mean(const seg_work *w, const double c[3], const double t[3])
{
    double u[3], v[3], s = 0;
    int n = 0;
    frame(t, u, v);
    for (int r = 0; r <= 2; r++) {
        double rad = r * DISC_RADIUS_MM / 2;
        int na = r == 0 ? 1 : 8 * r;
        for (int a = 0; a < na; a++) {
            double th = 2 * M_PI * a / na, q[3];
            for (int k = 0; k < 3; k++) q[k] = c[k] + (rad * (cos(th) * u[k] + sin(th) * v[k])) / w->spacing[k];
            s += seg_work_sample(w, q[0], q[1], q[2]);
            n++;
        }
    }
    return s / n;
}

/* Local period (mm) at each 1 mm sample from the profile's autocorrelation,
 * looked for from lag_min mm. A cervical vertebra plus its disc is 15-20 mm
 * (phantom C2-C3 16 mm, C7 19.5 mm; at size_scale 0.8 13-16 mm), under the
 * 18 mm the search began at, which then settled on 27-35 mm: cervical discs
 * went unseen and levels held two vertebrae (cervico-thoracic phantom at
 * 1 mm pixels: 9 of 12 names right; size_scale 0.8: 2 of 12, unflagged).
 * So on slices of 4 mm or thinner the search begins at 12 mm: every thin-
 * slice phantom of the suite and the 3 mm real CT gave byte-identical
 * labels. On thicker slices a cervical disc is not resolved anyway, and
 * 12 mm moved the 5 mm phantom's discs, so 18 stays there. But on a short
 * lumbar profile the two bright endplates of each body make a half period
 * (15 mm) that the 12 mm search took for the period at some samples, and the
 * median over them (21-25 mm against the true 30) let a 10 HU dip inside
 * L1 be a disc: T12-L4 scans with a crushed lytic L2, names one level off
 * below it on four of four seeds, two of them not flagged. So 12 mm is the
 * floor only where the column is cervical-narrow (cervical_floor). */
static void local_period(const double *P, int n, double *T, int lag_min)
{
    for (int i = 0; i < n; i++) {
        int a = i - ACF_HALF < 0 ? 0 : i - ACF_HALF, b = i + ACF_HALF >= n ? n - 1 : i + ACF_HALF;
        double mean = 0, best = -1e30;
        int arg = 25;
        for (int j = a; j <= b; j++) mean += P[j];
        mean /= (b - a + 1);
        for (int lag = lag_min; lag <= LAG_MAX; lag++) {
            double num = 0, d0 = 0, d1 = 0;
            for (int j = a; j + lag <= b; j++) {
                double x = P[j] - mean, y = P[j + lag] - mean;
                num += x * y, d0 += x * x, d1 += y * y;
            }
            if (d0 <= 0 || d1 <= 0 || b - a - lag < 20) continue;
            double r = num / sqrt(d0 * d1);
            if (r > best) best = r, arg = lag;
        }
        /* Too little profile near an end to tell; and a maximum at the
         * shortest lag is no period: the correlation is still falling from
         * lag 0 (a bright blastic body or the endplate pairs dominate the
         * profile), and no vertebra plus disc is that short. */
        T[i] = (b - a) >= 70 && arg > lag_min ? arg : 0;
    }
    bool *known = malloc((size_t)n * sizeof *known); /* NULL: every estimate counts */
    for (int i = 0; known && i < n; i++) known[i] = T[i] > 0;
    /* gaps: the nearest reliable period */
    int f = 0, l = n - 1;
    while (f < n && T[f] == 0) f++;
    while (l >= 0 && T[l] == 0) l--;
    for (int i = 0; i < n; i++) {
        if (f >= n) T[i] = 30;
        else if (i < f) T[i] = T[f];
        else if (i > l) T[i] = T[l];
        else if (T[i] == 0) T[i] = T[i - 1];
    }
    /* The period changes slowly and nearly linearly along the spine (about
     * 38 mm at L5, 21 mm at T1): over a long profile, a robust straight-line
     * fit (three passes, dropping estimates 25 % off the line) replaces the
     * local estimates, which a lytic or blurred stretch can throw off. */
    if (n >= PERIOD_FIT_MIN_MM) {
        double a = 0, b = 0;
        bool *use = malloc((size_t)n * sizeof *use);
        if (use) {
            for (int i = 0; i < n; i++) use[i] = !known || known[i];
            for (int pass = 0; pass < 3; pass++) {
                double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
                for (int i = 0; i < n; i++)
                    if (use[i]) sw += 1, sx += i, sy += T[i], sxx += (double)i * i, sxy += i * T[i];
                double den = sw * sxx - sx * sx;
                if (sw < 20 || fabs(den) < 1e-9) break;
                b = (sw * sxy - sx * sy) / den;
                a = (sy - b * sx) / sw;
                for (int i = 0; i < n; i++) use[i] = (!known || known[i]) && fabs(T[i] - (a + b * i)) <= 0.25 * (a + b * i);
            }
            /* the anatomical slope at most: a steeper line is an end's or a
             * collapsed body's estimates pulling it, not the spine */
            if ((a != 0 || b != 0) && fabs(b) > PERIOD_SLOPE_MAX) {
                double sr = 0;
                int nr = 0;
                b = b > 0 ? PERIOD_SLOPE_MAX : -PERIOD_SLOPE_MAX;
                for (int i = 0; i < n; i++)
                    if (use[i]) sr += T[i] - b * i, nr++;
                if (nr) a = sr / nr;
            }
            if (a != 0 || b != 0)
                for (int i = 0; i < n; i++) T[i] = fmin(LAG_MAX, fmax(lag_min, a + b * i));
            free(use);
            free(known);
            return;
        }
    }
    free(known);
    /* short profiles: median over +/-30 mm */
    double *tmp = malloc((size_t)n * sizeof *tmp);
    if (!tmp) return;
    for (int i = 0; i < n; i++) {
        double win[61];
        int m = 0;
        for (int j = i - 30; j <= i + 30; j++)
            if (j >= 0 && j < n) win[m++] = T[j];
        for (int x = 1; x < m; x++)
            for (int y = x; y > 0 && win[y] < win[y - 1]; y--) {
                double q = win[y];
                win[y] = win[y - 1];
                win[y - 1] = q;
            }
        tmp[i] = win[m / 2];
    }
    memcpy(T, tmp, (size_t)n * sizeof *T);
    free(tmp);
}

/* Where the column is as narrow as a cervical body: the bone run across LR
 * (gaps of up to NARROW_GAP_MM bridged) through the centreline point, median
 * over +/-10 mm of column, under NARROW_BODY_MM (cervical bodies 15-20 mm,
 * C7-T1 25-30, thoracic 30-40, lumbar 40-50; the run through a body is its
 * width at that row) and at least NARROW_MIN_MM, over at least
 * NARROW_STRETCH_MM of column (a lytic body alone reads narrow too). */
#define NARROW_BODY_MM 30.0
#define NARROW_GAP_MM 3.0
#define NARROW_MIN_MM 8.0 /* less: no body there (beyond the column's end, a disc) */
#define NARROW_STRETCH_MM 30 /* shortest narrow stretch taken as neck (two cervical levels) */
#define NARROW_BRIDGE_MM 15  /* wider gaps between narrow stretches than this end the neck */
static double lr_run_mm(const seg_work *w, const double p[3])
{
    int nx = w->n[0], ny = w->n[1], x = (int)lround(p[0]), y = (int)lround(p[1]), z = (int)lround(p[2]);
    if (x < 0 || y < 0 || z < 0 || x >= nx || y >= ny || z >= w->n[2]) return 0;
    const uint8_t *b = w->bone + ((size_t)z * ny + y) * nx;
    int gap = (int)ceil(NARROW_GAP_MM / w->spacing[0]), x0 = x, x1 = x;
    for (int g = 0, q = x - 1; q >= 0 && g <= gap; q--) g = b[q] ? (x0 = q, 0) : g + 1;
    for (int g = 0, q = x + 1; q < nx && g <= gap; q++) g = b[q] ? (x1 = q, 0) : g + 1;
    return (x1 - x0 + 1) * w->spacing[0];
}

/* Runs of narrow[] equal to `val` shorter than maxlen flip (interior: only
 * runs with other values on both sides). */
static void flip_short_runs(bool *narrow, int n, bool val, int maxlen, bool interior)
{
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && narrow[j] == narrow[i]) j++;
        if (narrow[i] == val && j - i < maxlen && (!interior || (i > 0 && j < n)))
            for (int q = i; q < j; q++) narrow[q] = !val;
        i = j;
    }
}

/* narrow[i]: sample i of the column lies on a cervical-narrow stretch
 * (above); returns whether any does. Verbose: each stretch is logged. */
static bool cervical_floor(const seg_work *w, const seg_line *line, int n, bool *narrow, bool verbose)
{
    double *run = malloc((size_t)n * sizeof *run), win[21];
    for (int i = 0; i < n; i++) narrow[i] = false;
    if (!run) return false;
    for (int i = 0; i < n; i++) {
        double p[3], t[3];
        seg_line_at_s(line, i, p, t);
        run[i] = lr_run_mm(w, p);
    }
    for (int i = 0; i < n; i++) {
        int m = 0;
        for (int j = i - 10; j <= i + 10; j++)
            if (j >= 0 && j < n) win[m++] = run[j];
        qsort(win, (size_t)m, sizeof *win, seg_cmp_double);
        narrow[i] = win[m / 2] >= NARROW_MIN_MM && win[m / 2] < NARROW_BODY_MM;
    }
    free(run);
    flip_short_runs(narrow, n, false, NARROW_BRIDGE_MM, true); /* a disc or a wide spot between narrow stretches */
    flip_short_runs(narrow, n, true, NARROW_STRETCH_MM, false); /* a short narrow stretch is a destroyed body */
    bool any = false;
    for (int i = 0; i < n; i++) {
        any |= narrow[i];
        if (verbose && narrow[i] && (i == 0 || !narrow[i - 1])) {
            int j = i;
            while (j + 1 < n && narrow[j + 1]) j++;
            sp_log(SP_LOG_DEBUG, "segment: column %d-%d mm as narrow as cervical: periods from %d mm", i, j, LAG_MIN_THIN);
        }
    }
    return any;
}

/* Weight of a dip of sg * P at i (sg -1: a peak), 0 when none: its
 * prominence over +/-SIDE_MM, scaled down when broad. Narrow dips are discs;
 * broad ones are the middle of a body or a lytic lesion. On slices thicker
 * than a disc (thoracic discs are 3.5-5 mm) no slice holds disc alone: the
 * slice that holds it holds both endplates too and is the brightest of its
 * vertebra, so the disc can show as a narrow peak. */
static double dip_weight(const double *P, int n, int i, double T, double sg)
{
    if (!(sg * P[i] <= sg * P[i - 1] && sg * P[i] < sg * P[i + 1])) return 0;
    double l = sg * P[i], r = sg * P[i], c = sg * P[i], lmin = c, rmin = c;
    for (int j = i - 1; j >= 0 && i - j <= SIDE_MM; j--) l = fmax(l, sg * P[j]), lmin = fmin(lmin, sg * P[j]);
    for (int j = i + 1; j < n && j - i <= SIDE_MM; j++) r = fmax(r, sg * P[j]), rmin = fmin(rmin, sg * P[j]);
    /* A collapsed lytic body next to its disc: tumour (20-60 HU) reads
     * below any disc (80-130 HU), so on that side the profile never rises
     * above the disc and the disc is only a shallow notch between the
     * tumour and the next endplate (held-out lytic T8 phantom: prominence
     * 2-10 HU, and the disc was placed 8 mm into the body above, at a 36 HU
     * dip of marrow). Then the dip is measured on its other side alone. */
    int one = 0; /* -1: left side is tumour, +1: right side */
    if (sg > 0 && c >= LYTIC_VALLEY_HU) {
        bool lt = lmin < LYTIC_VALLEY_HU, rt = rmin < LYTIC_VALLEY_HU;
        one = lt && !rt ? -1 : rt && !lt ? 1 : 0;
    }
    double prom = one < 0 ? r - c : one > 0 ? l - c : fmin(l, r) - c;
    if (prom < PROM_MIN) return 0;
    double half = c + 0.5 * prom;
    int a = i, b = i;
    while (a > 0 && sg * P[a - 1] < half) a--;
    while (b + 1 < n && sg * P[b + 1] < half) b++;
    if (one < 0) a = i - (b - i); /* the width on the measured side, mirrored */
    if (one > 0) b = i + (i - a);
    double rel = (b - a + 1) / T;
    return prom * (rel <= 0.35 ? 1.0 : rel >= 0.6 ? 0.2 : 1.0 - 0.8 * (rel - 0.35) / 0.25);
}

/* Weight of a disc that shows no dip at all, 0 when none. Beside a
 * collapsed lytic body the profile can rise from the tumour through the
 * crushed endplate and the disc to the next endplate without a minimum: the
 * disc is a shoulder where the rise flattens (held-out lytic T8, seed 11:
 * 34 HU of tumour, then 85, 119, 148, 164, 167, 171, then the endplate above
 * at 335; the chain took a 226 HU dip of marrow 9 mm up in T7 instead).
 * A point on a rise out of tumour (the profile falls from it, without a
 * minimum, below LYTIC_VALLEY_HU within SIDE_MM), at least LYTIC_VALLEY_HU itself, where the slope is at a
 * local minimum and under SHOULDER_SLOPE_HU per mm, weighs as a dip measured
 * on its high side (dip_weight's one-sided case). */
static double shoulder_weight(const double *P, int n, int i, double T)
{
    if (i < 2 || i + 2 >= n || P[i] < LYTIC_VALLEY_HU) return 0;
    int up = P[i + 1] > P[i - 1] ? 1 : -1; /* the profile rises toward up */
    if (!(up * (P[i + 1] - P[i]) > 0 && up * (P[i] - P[i - 1]) > 0)) return 0;
    double d0 = fabs(P[i + 1] - P[i - 1]) / 2, dlow = fabs(P[i - up] - P[i - 2 * up]),
           dhigh = fabs(P[i + 2 * up] - P[i + up]);
    if (d0 > SHOULDER_SLOPE_HU || d0 > dlow || d0 > dhigh) return 0;
    double lo = P[i], hi = P[i];
    /* down into the tumour without a minimum on the way: else that minimum
     * is the disc (a dip dip_weight sees) */
    for (int j = i - up, k = 1; j >= 0 && j < n && k <= SIDE_MM && lo >= LYTIC_VALLEY_HU; j -= up, k++) {
        if (P[j] >= P[j + up]) return 0;
        lo = P[j];
    }
    for (int j = i + up, k = 1; j >= 0 && j < n && k <= SIDE_MM; j += up, k++) hi = fmax(hi, P[j]);
    double prom = hi - P[i];
    if (lo >= LYTIC_VALLEY_HU || prom < PROM_MIN) return 0;
    double half = P[i] + 0.5 * prom;
    int b = i;
    while (b + up >= 0 && b + up < n && P[b + up] < half) b += up;
    double rel = (2 * abs(b - i) + 1) / T; /* the width on the high side, mirrored */
    return prom * (rel <= 0.35 ? 1.0 : rel >= 0.6 ? 0.2 : 1.0 - 0.8 * (rel - 0.35) / 0.25);
}

/* Mean HU of a 3 mm disc (5 samples) at point q (work voxel coords) in the
 * plane (u, v) given in mm space. */
static double small_mean(const seg_work *w, const double q[3], const double u[3], const double v[3])
{
    double s = seg_work_sample(w, q[0], q[1], q[2]);
    for (int a = 0; a < 4; a++) {
        double c = a == 0 ? 1 : a == 2 ? -1 : 0, d = a == 1 ? 1 : a == 3 ? -1 : 0, r[3];
        for (int k = 0; k < 3; k++) r[k] = q[k] + 1.5 * (c * u[k] + d * v[k]) / w->spacing[k];
        s += seg_work_sample(w, r[0], r[1], r[2]);
    }
    return s / 5;
}

void seg_disc_plane(const seg_work *w, const seg_line *L, double s, double p[3], double n[3])
{
    /* The disc's own tilt: where the density minimum lies along four lines
     * 8 mm in front of, behind, left and right of the centreline. The
     * lumbosacral disc is wedge-shaped and tilted more than the smoothed
     * curve says; a plane through the four minima follows it. */
    double t[3], u[3], v[3], pts[5][3];
    const double off[5][2] = {{0, 0}, {8, 0}, {-8, 0}, {0, 8}, {0, -8}};
    seg_line_at_s(L, s, p, t);
    memcpy(n, t, sizeof t);
    frame(t, u, v);
    for (int j = 0; j < 5; j++) {
        double best = 1e30, arg = s;
        for (double ds = -8; ds <= 8; ds += 1) {
            double c[3], tt[3], q[3];
            seg_line_at_s(L, s + ds, c, tt);
            for (int k = 0; k < 3; k++) q[k] = c[k] + (off[j][0] * u[k] + off[j][1] * v[k]) / w->spacing[k];
            double m = small_mean(w, q, u, v);
            if (m < best) best = m, arg = s + ds;
        }
        double c[3], tt[3];
        seg_line_at_s(L, arg, c, tt);
        for (int k = 0; k < 3; k++) pts[j][k] = c[k] * w->spacing[k] + off[j][0] * u[k] + off[j][1] * v[k];
    }
    double d1[3], d2[3], nn[3];
    for (int k = 0; k < 3; k++) d1[k] = pts[1][k] - pts[2][k], d2[k] = pts[3][k] - pts[4][k];
    nn[0] = d1[1] * d2[2] - d1[2] * d2[1];
    nn[1] = d1[2] * d2[0] - d1[0] * d2[2];
    nn[2] = d1[0] * d2[1] - d1[1] * d2[0];
    double len = sqrt(nn[0] * nn[0] + nn[1] * nn[1] + nn[2] * nn[2]);
    if (len <= 0) return;
    for (int k = 0; k < 3; k++) nn[k] /= len;
    double cosang = nn[0] * t[0] + nn[1] * t[1] + nn[2] * t[2];
    if (cosang < 0) {
        for (int k = 0; k < 3; k++) nn[k] = -nn[k];
        cosang = -cosang;
    }
    if (cosang < cos(35.0 * M_PI / 180.0)) return; /* implausible tilt: keep the tangent */
    memcpy(n, nn, sizeof nn);
    for (int k = 0; k < 3; k++) p[k] = pts[0][k] / w->spacing[k];
}

/* Discs the profile does not show (thin thoracic discs on thick slices, a
 * bridged disc): a gap longer than 1.6 periods between two found discs is cut
 * evenly into round(gap / T) levels, and the column beyond the first or last
 * found disc gets a disc every period while at least 1.5 periods remain.
 * Such discs are marked inferred; the names across them are flagged. */
static int infer_hidden(double *d, bool *inf, int nd, int max, const double *T, int n)
{
    double out[SP_SEG_MAX_VERT];
    bool oin[SP_SEG_MAX_VERT];
    int m = 0;
    if (nd == 0) return 0;
    /* below the first */
    {
        double lo[SP_SEG_MAX_VERT];
        int nl = 0;
        for (double x = d[0] - T[(int)d[0]]; x > 0 && x - 0.5 * T[(int)x] > 0 && nl < max; x -= T[(int)x]) lo[nl++] = x;
        for (int i = nl - 1; i >= 0 && m < max; i--) out[m] = lo[i], oin[m++] = true;
    }
    for (int k = 0; k < nd && m < max; k++) {
        if (k > 0) {
            double g = d[k] - d[k - 1], Tm = T[(int)(0.5 * (d[k] + d[k - 1]))];
            if (g > 1.6 * Tm) {
                int parts = (int)floor(g / Tm + 0.5);
                for (int j = 1; j < parts && m < max; j++) out[m] = d[k - 1] + g * j / parts, oin[m++] = true;
            }
        }
        out[m] = d[k], oin[m++] = inf[k];
    }
    for (double x = d[nd - 1] + T[(int)d[nd - 1]]; x + 0.5 * T[(int)fmin(x, n - 1)] < n - 1 && m < max; x += T[(int)fmin(x, n - 1)])
        out[m] = x, oin[m++] = true;
    memcpy(d, out, (size_t)m * sizeof *d);
    memcpy(inf, oin, (size_t)m * sizeof *inf);
    return m;
}

int seg_find_discs(const seg_work *w, const seg_line *line, double *disc_s, bool *inferred, int max_discs, bool verbose)
{
    int n = (int)floor(line->s[line->n - 1]) + 1, nc = 0, nd = 0;
    double *P = calloc((size_t)n, sizeof *P), *raw = malloc((size_t)n * sizeof *raw);
    double *T = malloc((size_t)n * sizeof *T), *prom = calloc((size_t)n, sizeof *prom);
    int *cand = malloc((size_t)n * sizeof *cand);
    bool *peak = calloc((size_t)n, sizeof *peak);
    if (!P || !raw || !T || !prom || !cand || !peak) goto done;
    for (int i = 0; i < n; i++) {
        double p[3], t[3];
        seg_line_at_s(line, i, p, t);
        raw[i] = disc_mean(w, p, t);
    }
    for (int i = 0; i < n; i++) { /* sigma 1 mm */
        double s = 0, ws = 0;
        for (int j = i - 3; j <= i + 3; j++) {
            if (j < 0 || j >= n) continue;
            double wt = exp(-0.5 * (j - i) * (j - i));
            s += wt * raw[j], ws += wt;
        }
        P[i] = s / ws;
    }
    bool thick = w->spacing[2] > THICK_SLICE_MM;
    local_period(P, n, T, LAG_MIN);
    if (!thick) { /* cervical stretches: from 12 mm (see local_period) */
        double *T12 = malloc((size_t)n * sizeof *T12);
        bool *narrow = malloc((size_t)n * sizeof *narrow);
        if (T12 && narrow && cervical_floor(w, line, n, narrow, verbose)) {
            local_period(P, n, T12, LAG_MIN_THIN);
            for (int i = 0; i < n; i++)
                if (narrow[i]) T[i] = T12[i];
        }
        free(T12), free(narrow);
    }
    /* candidate minima with their prominence over +/-SIDE_MM; on slices
     * thicker than a disc also maxima (see dip_weight) */
    for (int i = 1; i + 1 < n; i++) {
        double v = dip_weight(P, n, i, T[i], 1.0);
        if (v <= 0 && thick) v = dip_weight(P, n, i, T[i], -1.0), peak[i] = v > 0;
        if (v <= 0) v = shoulder_weight(P, n, i, T[i]);
        if (v <= 0) continue;
        prom[i] = v;
        cand[nc++] = i;
    }
    /* Chain DP over pairs: best[q*nc+k] = best total of a chain whose last two
     * discs are q then k (q == k: k alone). */
    if (nc == 0) goto done;
    double *best = malloc((size_t)nc * nc * sizeof *best);
    int *prev = malloc((size_t)nc * nc * sizeof *prev);
    if (!best || !prev) {
        free(best), free(prev);
        goto done;
    }
    int bq = 0, bk = 0;
    for (int k = 0; k < nc; k++) {
        best[k * nc + k] = prom[cand[k]];
        prev[k * nc + k] = -1;
        if (best[k * nc + k] > best[bq * nc + bk]) bq = k, bk = k;
        for (int q = 0; q < k; q++) {
            double pen = gap_penalty(cand[k] - cand[q], T[(cand[k] + cand[q]) / 2]);
            best[q * nc + k] = -1e30;
            prev[q * nc + k] = -1;
            if (pen >= 1e20) continue;
            double v = best[q * nc + q] + prom[cand[k]] - pen; /* q was the first disc */
            int arg = q;
            for (int p2 = 0; p2 < q; p2++) {
                double b = best[p2 * nc + q];
                if (b <= -1e29) continue;
                double g1 = cand[q] - cand[p2], g2 = cand[k] - cand[q], Tm = T[cand[q]];
                double pair = (g1 < 0.75 * Tm && g2 < 0.75 * Tm && g1 + g2 < 1.4 * Tm) ? SPLIT_PENALTY : 0.0;
                double w2 = b + prom[cand[k]] - pen - pair;
                if (w2 > v) v = w2, arg = p2;
            }
            best[q * nc + k] = v;
            prev[q * nc + k] = arg;
            if (v > best[bq * nc + bk]) bq = q, bk = k;
        }
    }
    /* backtrack: (bq, bk) -> (prev, bq) -> ... */
    {
        int q = bq, k = bk;
        disc_s[nd++] = cand[k];
        while (q != k && nd < max_discs) {
            int p2 = prev[q * nc + k];
            disc_s[nd++] = cand[q];
            if (p2 == q || p2 < 0) break;
            k = q;
            q = p2;
        }
    }
    free(best), free(prev);
    for (int i = 0; i < nd / 2; i++) {
        double t = disc_s[i];
        disc_s[i] = disc_s[nd - 1 - i];
        disc_s[nd - 1 - i] = t;
    }
    /* a disc seen only as its endplates' peak is not seen as such: flagged */
    for (int k = 0; k < nd; k++) inferred[k] = peak[(int)disc_s[k]];
    nd = infer_hidden(disc_s, inferred, nd, max_discs, T, n);
    if (verbose)
        for (int k = 0; k < nd; k++)
            sp_log(SP_LOG_DEBUG, "segment: disc %d at %.0f mm, %.0f HU, prominence %.0f HU, local period %.0f mm%s", k,
                   disc_s[k], P[(int)disc_s[k]], prom[(int)disc_s[k]], T[(int)disc_s[k]],
                   inferred[k] ? (peak[(int)disc_s[k]] ? " (not seen: its endplates' peak)" : " (not seen: placed by the spacing)") : "");
done:
    free(P), free(raw), free(T), free(prom), free(cand), free(peak);
    return nd;
}
