/* discs.c - find the intervertebral disc spaces along the centreline.
 *
 * DESIGN: the density profile along the curve (mean HU of a 7 mm disc
 * perpendicular to the tangent, centred on the body) dips at every disc:
 * discs are ~80 HU between dense endplates. Candidate discs are local minima
 * with a prominence of at least 40 HU over the maxima within 15 mm on both
 * sides, at least 10 mm apart. Regularity then rejects minima that are not
 * discs: a minimum that splits a vertebra into two parts that are both short
 * (< 0.62 of the median spacing) and together about one vertebra (< 1.35) is
 * inside a vertebra (a lytic lesion, a fracture cleft) and is removed; a gap
 * longer than 1.6 median spacings gets the best weaker minimum inside it (a
 * narrowed or bridged disc). Collapsed vertebrae keep both their discs: only
 * one of their gaps is short. */
#define SP_SEGMENT_INTERNAL
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sp_log.h"

#define DISC_RADIUS_MM 7.0
#define PROM_MIN 40.0
#define PROM_WEAK 12.0
#define SIDE_MM 15.0
#define MIN_GAP_MM 10.0

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

/* Prominence of the minimum at i: lower of the two side maxima minus P[i]. */
static double prominence(const double *P, const double *s, int n, int i)
{
    double lmax = P[i], rmax = P[i];
    for (int j = i - 1; j >= 0 && s[i] - s[j] <= SIDE_MM; j--)
        if (P[j] > lmax) lmax = P[j];
    for (int j = i + 1; j < n && s[j] - s[i] <= SIDE_MM; j++)
        if (P[j] > rmax) rmax = P[j];
    return fmin(lmax, rmax) - P[i];
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

static double median_gap(const double *s, const int *d, int n)
{
    double g[256];
    int m = 0;
    for (int i = 0; i + 1 < n && m < 256; i++) g[m++] = s[d[i + 1]] - s[d[i]];
    if (m == 0) return 30.0;
    for (int i = 1; i < m; i++)
        for (int j = i; j > 0 && g[j] < g[j - 1]; j--) {
            double t = g[j];
            g[j] = g[j - 1];
            g[j - 1] = t;
        }
    return g[m / 2];
}

int seg_find_discs(const seg_work *w, const seg_line *line, double *P, int *disc, int max_discs, bool verbose)
{
    int n = line->n, nd = 0;
    double *prom = calloc((size_t)n, sizeof *prom), *raw = malloc((size_t)n * sizeof *raw);
    if (!prom || !raw) {
        free(prom);
        free(raw);
        return 0;
    }
    for (int i = 0; i < n; i++) raw[i] = disc_mean(w, line->p[i], line->t[i]);
    /* light smoothing (sigma ~1.5 mm) */
    for (int i = 0; i < n; i++) {
        double s = 0, ws = 0;
        for (int j = i - 3; j <= i + 3; j++) {
            if (j < 0 || j >= n) continue;
            double d = line->s[j] - line->s[i], wt = exp(-0.5 * d * d / 2.25);
            s += wt * raw[j], ws += wt;
        }
        P[i] = s / ws;
    }
    for (int i = 1; i + 1 < n; i++)
        if (P[i] <= P[i - 1] && P[i] < P[i + 1]) prom[i] = prominence(P, line->s, n, i);
    /* Strong minima, strongest first, at least MIN_GAP_MM apart. */
    for (;;) {
        int best = -1;
        for (int i = 1; i + 1 < n; i++) {
            if (prom[i] < PROM_MIN) continue;
            bool ok = true;
            for (int k = 0; k < nd && ok; k++) ok = fabs(line->s[i] - line->s[disc[k]]) >= MIN_GAP_MM;
            if (ok && (best < 0 || prom[i] > prom[best])) best = i;
        }
        if (best < 0 || nd >= max_discs) break;
        disc[nd++] = best;
        prom[best] = -prom[best]; /* taken */
    }
    for (int i = 0; i < n; i++) prom[i] = fabs(prom[i]);
    qsort(disc, (size_t)nd, sizeof *disc, cmp_int);
    /* Remove minima inside a vertebra (two short gaps that make one). */
    for (bool changed = true; changed && nd > 2;) {
        double g = median_gap(line->s, disc, nd);
        int worst = -1;
        changed = false;
        for (int k = 1; k + 1 < nd; k++) {
            double a = line->s[disc[k]] - line->s[disc[k - 1]], b = line->s[disc[k + 1]] - line->s[disc[k]];
            if (a < 0.62 * g && b < 0.62 * g && a + b < 1.35 * g && (worst < 0 || prom[disc[k]] < prom[disc[worst]]))
                worst = k;
        }
        if (worst >= 0) {
            if (verbose) sp_log(SP_LOG_DEBUG, "segment: minimum at %.1f mm is inside a vertebra, not a disc", line->s[disc[worst]]);
            memmove(disc + worst, disc + worst + 1, (size_t)(nd - worst - 1) * sizeof *disc);
            nd--;
            changed = true;
        }
    }
    /* Fill long gaps with the best weaker minimum near their middle. */
    for (bool changed = true; changed && nd >= 2 && nd < max_discs;) {
        double g = median_gap(line->s, disc, nd);
        changed = false;
        for (int k = 0; k + 1 < nd; k++) {
            double a = line->s[disc[k]], b = line->s[disc[k + 1]];
            if (b - a <= 1.6 * g) continue;
            int best = -1;
            for (int i = disc[k] + 1; i < disc[k + 1]; i++)
                if (prom[i] >= PROM_WEAK && line->s[i] - a > 0.35 * g && b - line->s[i] > 0.35 * g &&
                    (best < 0 || prom[i] > prom[best]))
                    best = i;
            if (best < 0) continue;
            memmove(disc + k + 2, disc + k + 1, (size_t)(nd - k - 1) * sizeof *disc);
            disc[k + 1] = best;
            nd++;
            changed = true;
            break;
        }
    }
    if (verbose)
        for (int k = 0; k < nd; k++)
            sp_log(SP_LOG_DEBUG, "segment: disc %d at %.1f mm (work z %.1f), prominence %.0f HU", k, line->s[disc[k]],
                   line->p[disc[k]][2], prom[disc[k]]);
    free(prom);
    free(raw);
    return nd;
}
