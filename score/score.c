/* score.c - sp_score_run(): measure every vertebra, then score it.
 *
 * DESIGN: stages in order, each over all vertebrae: bounding boxes (one pass
 * over the label map), refined frames and heights, the patient's normal
 * bone reference, lesions, collapse against the expected height, extension
 * outside the bone, alignment, then the pure SINS rules. The per-vertebra
 * measuring loops are independent, so they run as an OpenMP loop over
 * vertebrae (dynamic schedule: the result of an iteration does not depend
 * on the order; each iteration writes only r->v[k]). */
#define SP_SCORE_INTERNAL
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sp_log.h"
#include "core/sp_omp.h"

void sc_extension_all(const sc_ctx *c, sp_score_result *r);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int sc_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double sc_median(double *a, int n)
{
    if (n <= 0) return NAN;
    qsort(a, (size_t)n, sizeof *a, sc_cmp_double);
    return n % 2 ? a[n / 2] : 0.5 * (a[n / 2 - 1] + a[n / 2]);
}

void sp_score_opts_init(sp_score_opts *o)
{
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < sizeof o->pain / sizeof o->pain[0]; i++) o->pain[i] = SP_PAIN_UNKNOWN;
}

sp_status sp_score_opts_set_pain(sp_score_opts *o, const char *arg, sp_err *err)
{
    char lvl[16];
    const char *eq = strchr(arg, '=');
    sp_pain p;
    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof lvl)
        return sp_fail(err, SP_EINVAL, "--pain '%s': expected LEVEL=mechanical|occasional|none", arg);
    memcpy(lvl, arg, (size_t)(eq - arg));
    lvl[eq - arg] = 0;
    int lab = sp_seg_level_number(lvl);
    if (lab <= 0 || lab >= (int)(sizeof o->pain / sizeof o->pain[0]))
        return sp_fail(err, SP_EINVAL, "--pain '%s': unknown level '%s'", arg, lvl);
    if (!sp_sins_parse_pain(eq + 1, &p))
        return sp_fail(err, SP_EINVAL, "--pain '%s': pain must be mechanical, occasional or none", arg);
    o->pain[lab] = p;
    o->pain_given[lab] = true;
    return SP_OK;
}

static void boxes(sc_ctx *c, const sp_seg_result *seg)
{
    int idx[256];
    for (int i = 0; i < 256; i++) idx[i] = -1;
    for (int k = 0; k < seg->nvert; k++) {
        idx[seg->vert[k].label & 255] = k;
        c->box[k][0] = c->box[k][2] = c->box[k][4] = 1 << 30;
        c->box[k][1] = c->box[k][3] = c->box[k][5] = -1;
    }
    const uint8_t *lab = c->lab->data;
    for (int z = 0; z < c->lab->nz; z++)
        for (int y = 0; y < c->lab->ny; y++)
            for (int x = 0; x < c->lab->nx; x++) {
                int k = idx[lab[sp_vol_idx(c->lab, x, y, z)]];
                if (k < 0) continue;
                int *b = c->box[k];
                if (x < b[0]) b[0] = x;
                if (x > b[1]) b[1] = x;
                if (y < b[2]) b[2] = y;
                if (y > b[3]) b[3] = y;
                if (z < b[4]) b[4] = z;
                if (z > b[5]) b[5] = z;
            }
}

static double angle_deg(const double a[3], const double b[3])
{
    double c = sp_dot3(a, b) / (sqrt(sp_dot3(a, a)) * sqrt(sp_dot3(b, b)));
    return acos(c > 1 ? 1 : c < -1 ? -1 : c) * 180.0 / M_PI;
}

static bool frame_neighbour(const sp_score_result *r, int j)
{
    return j >= 0 && j < r->nvert && r->v[j].frame_ok && r->v[j].h.ok && r->v[j].label != 26;
}

/* The SI axis of a level whose endplates are destroyed, or whose label is
 * hull-completed or takes in a neighbour's endplate, can be far off. A
 * vertebra's axis lies close to the mean of its neighbours' (a symmetric
 * wedge adds half its angle at each adjacent disc), so an axis more than
 * SP_FRAME_NEIGHBOUR_DEG from that mean, further off than either
 * neighbour's own, and whose two endplates are themselves more than
 * SP_FRAME_NEIGHBOUR_DEG apart (one of them is not right), is replaced: by
 * the one of its own endplate normals that lies within 5 degrees of the
 * mean (the intact endplate), else by the mean; its heights are then
 * measured again along the new axis. Neighbours must have heights (not cut
 * by the field of view). The top measured level of the column (the level
 * above cut by the scan or absent) is checked against the level below
 * alone, where that one agrees with the next within SP_FRAME_NEIGHBOUR_DEG,
 * and its one-sided deviation does not stop the level below's check: T1
 * under a scan's top edge carries the first ribs and part of T2's endplate
 * in its label, its frame tilted 20-30 deg, and its lines left the body
 * (not measured on four of the phantoms, a false grade 3 before that);
 * along T2's axis its heights are within 1.4 mm of the truth. Not the
 * bottom level: L5 above the sacrum legitimately leans off L4 (lordosis,
 * its own wedge). Serial; reads the frames as fitted. */
static void frame_check(const sc_ctx *c, sp_score_result *r)
{
    int n = r->nvert;
    double pred[SP_SEG_MAX_VERT][3], dev[SP_SEG_MAX_VERT];
    bool one_sided[SP_SEG_MAX_VERT] = {false};
    for (int k = 0; k < n; k++) {
        sp_score_vertebra *v = &r->v[k];
        v->frame_source = 0;
        dev[k] = v->frame_dev_deg = NAN;
        if (!v->frame_ok || v->label == 26 || !frame_neighbour(r, k + 1)) continue;
        /* the top level: the level below, where it agrees with the one below it */
        one_sided[k] = !frame_neighbour(r, k - 1);
        if (one_sided[k] && !(frame_neighbour(r, k + 2) && angle_deg(r->v[k + 1].si, r->v[k + 2].si) <= SP_FRAME_NEIGHBOUR_DEG))
            continue;
        for (int a = 0; a < 3; a++) pred[k][a] = (one_sided[k] ? 0 : r->v[k - 1].si[a]) + r->v[k + 1].si[a];
        sp_normalize3(pred[k]);
        dev[k] = v->frame_dev_deg = angle_deg(v->si, pred[k]);
    }
    for (int k = 0; k < n; k++) {
        sp_score_vertebra *v = &r->v[k];
        /* a fragment (end_fragment_check) is not measured, whatever its
         * axis (survey seed 5 of lytic T4: a "C7" fragment was measured here
         * and read grade 2) */
        if (v->fragment || isnan(dev[k]) || dev[k] <= SP_FRAME_NEIGHBOUR_DEG) continue;
        /* two parallel endplates define the axis well (a level next to a
         * wedge fracture legitimately leans off its neighbours' mean) */
        if (!(v->h.endplate_angle_deg > SP_FRAME_NEIGHBOUR_DEG)) continue;
        if ((k > 0 && !isnan(dev[k - 1]) && !one_sided[k - 1] && dev[k - 1] > dev[k]) ||
            (k + 1 < n && !isnan(dev[k + 1]) && dev[k + 1] > dev[k]))
            continue; /* a neighbour is the worse one (a top level's one-sided deviation does not count) */
        double e0 = angle_deg(v->h.endplate_n[0], pred[k]), e1 = angle_deg(v->h.endplate_n[1], pred[k]);
        const double *si = pred[k];
        v->frame_source = 3;
        if (fmin(e0, e1) <= 5.0) {
            si = e0 <= e1 ? v->h.endplate_n[0] : v->h.endplate_n[1];
            v->frame_source = e0 <= e1 ? 1 : 2;
        }
        sc_frame_set_si(v, si);
        sc_measure_heights(c, v, false);
    }
}

/* A body mask much deeper, wider or bigger than its neighbours' (the
 * canal or a neighbour's endplate taken in, a hull-completed body) or much
 * shallower or narrower (half a body) gives positions and axes that cannot
 * be trusted for translation. Collapse makes a body smaller, never bigger,
 * so volume has an upper bound only. */
static void mask_plausibility(sp_score_result *r)
{
    int n = r->nvert;
    for (int k = 0; k < n; k++) {
        sp_score_vertebra *v = &r->v[k];
        v->mask_plausible = true;
        v->mask_note[0] = 0;
        if (v->h.lines_left_body) { /* the label is not the body's: no position to trust either */
            v->mask_plausible = false;
            snprintf(v->mask_note, sizeof v->mask_note, "its height lines leave the body");
        } else if (!v->h.ok && v->label != 26 && !v->partial) {
            /* nor where the body could not be measured at all (frame not
             * fitted, centre outside its own mask, a boundary in doubt):
             * on the crushed lytic L2 of seed 7, "L2" held L1's lower half
             * and its offset from L3 read as a 3.2 mm subluxation, SINS
             * alignment 4 for a truth of 0 */
            v->mask_plausible = false;
            snprintf(v->mask_note, sizeof v->mask_note, "its body could not be measured");
        }
        if (!v->h.ok || v->label == 26) continue;
        double d[4], w[4], b[4];
        int m = 0;
        for (int j = k - 2; j <= k + 2; j++) {
            if (j == k || j < 0 || j >= n || !r->v[j].h.ok || r->v[j].label == 26) continue;
            d[m] = r->v[j].h.depth, w[m] = r->v[j].h.width, b[m] = (double)r->v[j].body_voxels, m++;
        }
        if (m < 2) continue;
        double rd = v->h.depth / sc_median(d, m), rw = v->h.width / sc_median(w, m), rb = (double)v->body_voxels / sc_median(b, m);
        if (rd < SP_MASK_SIZE_LO || rd > SP_MASK_SIZE_HI || rw < SP_MASK_SIZE_LO || rw > SP_MASK_SIZE_HI ||
            rb > SP_MASK_VOXELS_HI) {
            v->mask_plausible = false;
            snprintf(v->mask_note, sizeof v->mask_note, "body depth %.2f, width %.2f, volume %.2f x its neighbours'",
                     rd, rw, rb);
        }
    }
}

/* Patient reference from the levels' deep trabecular medians. */
static void reference(sp_score_result *r)
{
    double med[SP_SEG_MAX_VERT], mad[SP_SEG_MAX_VERT];
    int n = 0;
    for (int k = 0; k < r->nvert; k++)
        if (!isnan(r->v[k].trabecular_hu) && r->v[k].label != 26)
            med[n] = r->v[k].trabecular_hu, mad[n] = r->v[k].trabecular_mad, n++;
    r->ref_levels = n;
    r->ref_hu = sc_median(med, n);
    r->ref_sigma = 1.4826 * sc_median(mad, n);
    if (n == 0) {
        r->lytic_thr = r->blastic_thr = NAN;
        return;
    }
    r->lytic_thr = r->ref_hu - fmax(3.5 * r->ref_sigma, 60.0);
    /* never below SC_BLASTIC_MIN_HU: sclerotic lesions are dense (often
     * > 500-1000 HU); in osteoporotic bone ref + 250 HU falls to the HU of
     * endplates and cortex that a coarse label takes in */
    r->blastic_thr = fmax(r->ref_hu + fmax(5.0 * r->ref_sigma, 250.0), SC_BLASTIC_MIN_HU);
    for (int k = 0; k < r->nvert; k++)
        r->v[k].reference = !isnan(r->v[k].trabecular_hu) && r->v[k].label != 26;
}

static bool lesion(const sp_score_vertebra *v)
{
    return v->les.character != SP_CHAR_NONE && v->les.character != SP_CHAR_NOT_ASSESSED;
}

/* Height of the disc between levels a (above) and b (below) on measuring
 * line i, along a's axis; NAN unless both are measured and lesion-free. */
static double disc_on_line(const sp_score_result *r, int a, int b, int i)
{
    if (a < 0 || b >= r->nvert || a >= b) return NAN;
    const sp_score_vertebra *u = &r->v[a], *l = &r->v[b];
    if (!u->h.ok || !l->h.ok || u->label == 26 || l->label == 26 || lesion(u) || lesion(l)) return NAN;
    double d[3];
    for (int x = 0; x < 3; x++) d[x] = u->h.lines[i][1][x] - l->h.lines[i][0][x];
    return sp_dot3(d, u->si);
}

/* A body that tumour has replaced up to an endplate reads as soft tissue
 * there, and its label (grown from bone) can stop short of the disc: the
 * held-out crushed lytic L2 read 7.0 / 9.2 / 7.6 mm for 16.2 / 15.7 / 16.2
 * (a > 50 % collapse, SINS 3 for 2), its lower half unlabelled. The room
 * between its lesion-free neighbours' endplates, less two discs (the mean of
 * the neighbours' other discs on the same line: metastases spare the disc),
 * is the body's height whatever its label holds. At a lesion level, where
 * that room exceeds the label's height by SP_GAP_MISS_MM on at least two of
 * the three lines, the heights come from the room (the lines too), the
 * label's own heights stay in the evidence and the collapse confidence is
 * 0.5. A real collapse brings the neighbours together and does not trigger
 * it. */
static void gap_check(sp_score_result *r)
{
    for (int k = 0; k < r->nvert; k++) r->v[k].h.from_gap = false;
    for (int k = 1; k + 1 < r->nvert; k++) {
        sp_score_vertebra *v = &r->v[k];
        if (!v->h.ok || !lesion(v) || v->label == 26) continue;
        const sp_score_vertebra *u = &r->v[k - 1], *l = &r->v[k + 1];
        if (!u->h.ok || !l->h.ok || lesion(u) || lesion(l) || l->label == 26) continue;
        double est[3], top[3][3], bot[3][3];
        int miss = 0, ok = 0;
        double *hv[3] = {&v->h.anterior, &v->h.middle, &v->h.posterior};
        for (int i = 0; i < 3; i++) {
            double d1 = disc_on_line(r, k - 2, k - 1, i), d2 = disc_on_line(r, k + 1, k + 2, i), dd;
            dd = !isnan(d1) && !isnan(d2) ? 0.5 * (d1 + d2) : !isnan(d1) ? d1 : d2;
            est[i] = NAN;
            if (isnan(dd) || dd < 0) continue;
            double g[3];
            for (int x = 0; x < 3; x++) g[x] = u->h.lines[i][1][x] - l->h.lines[i][0][x];
            est[i] = sp_dot3(g, v->si) - 2 * dd;
            for (int x = 0; x < 3; x++) top[i][x] = u->h.lines[i][1][x] - dd * v->si[x], bot[i][x] = l->h.lines[i][0][x] + dd * v->si[x];
            ok++;
            miss += est[i] - *hv[i] > SP_GAP_MISS_MM;
        }
        if (ok < 3 || miss < 2) continue;
        v->h.from_gap = true;
        for (int i = 0; i < 3; i++) {
            v->h.label_heights[i] = *hv[i];
            *hv[i] = est[i];
            memcpy(v->h.lines[i][0], top[i], sizeof top[i]);
            memcpy(v->h.lines[i][1], bot[i], sizeof bot[i]);
        }
    }
}

/* Per level: the median, over up to two measured levels each side (not the
 * sacrum), of each one's posterior height, or with median_line of each one's
 * median line (one clipped line of a neighbour, at a level the scan cuts or
 * a line that left its body, does not move it); NAN where there are none. */
static void neighbour_median(const sp_score_result *r, bool median_line, double *out)
{
    for (int k = 0; k < r->nvert; k++) {
        double a[4];
        int m = 0;
        for (int j = k - 2; j <= k + 2; j++) {
            if (j == k || j < 0 || j >= r->nvert || !r->v[j].h.ok || r->v[j].label == 26) continue;
            const sp_score_heights *h = &r->v[j].h;
            double l[3] = {h->anterior, h->middle, h->posterior};
            a[m++] = median_line ? sc_median(l, 3) : h->posterior;
        }
        out[k] = sc_median(a, m);
    }
}

/* Expected height: own posterior height when the posterior wall is intact
 * (>= 90 % of the median posterior height of up to two levels each side,
 * and not over SP_WALL_LONG_FRAC of their median height), else the mean
 * posterior height of the nearest unaffected neighbours. */
static void collapse(sp_score_result *r)
{
    int n = r->nvert;
    double nbref[SP_SEG_MAX_VERT], nbh[SP_SEG_MAX_VERT];
    neighbour_median(r, false, nbref);
    neighbour_median(r, true, nbh);
    for (int k = 0; k < n; k++) {
        sp_score_heights *h = &r->v[k].h;
        if (!h->ok) continue;
        /* a wall far taller than its neighbours' is a line that left the body
         * (osteoporotic seed 109: L5 read 27.8 / 26.9 / 37.0 mm, the 37 taken as
         * intact made the others a 27 % loss): the neighbours are the reference */
        bool overlong = !isnan(nbh[k]) && h->posterior > SP_WALL_LONG_FRAC * nbh[k];
        bool intact = !overlong && (isnan(nbref[k]) || h->posterior >= 0.9 * nbref[k]);
        if (intact) {
            h->expected = h->posterior;
            snprintf(h->expected_source, sizeof h->expected_source,
                     isnan(nbref[k]) ? "own posterior height (no neighbours to check the wall)"
                                     : "own posterior height (posterior wall intact)");
        } else {
            double s = 0;
            int m = 0;
            char names[64] = "";
            for (int d = -1; d <= 1; d += 2)
                for (int j = k + d; j >= 0 && j < n && abs(j - k) <= 3; j += d) {
                    const sp_score_vertebra *w = &r->v[j];
                    /* a reference is intact: its wall not short, and not over 10 % taller
                     * than its own neighbours (collapse only shortens a body; a taller one
                     * holds a neighbour's endplate or two vertebrae: on the 5 mm phantom end
                     * to end, while heights were read along the centreline's axis, a T4 of
                     * 1.44x its neighbours' volume made T2/T3/T5/T6 read as fractures) */
                    if (!w->h.ok || lesion(w) || w->label == 26 || w->h.posterior < 0.9 * nbref[j] ||
                        w->h.posterior > 1.1 * nbref[j])
                        continue;
                    double mn = fmin(w->h.anterior, fmin(w->h.middle, w->h.posterior));
                    if (1 - mn / w->h.posterior >= SP_GENANT_MILD_PCT / 100.0) continue;
                    s += w->h.posterior, m++;
                    snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", *names ? "+" : "", w->name);
                    break;
                }
            if (m) {
                h->expected = s / m;
                snprintf(h->expected_source, sizeof h->expected_source,
                         "mean posterior height of unaffected neighbours %s (own posterior wall %s)", names,
                         overlong ? "overlong" : "reduced");
            } else {
                h->expected = nbref[k];
                snprintf(h->expected_source, sizeof h->expected_source, "median posterior height of nearby levels");
            }
        }
        double mn = fmin(h->anterior, fmin(h->middle, h->posterior));
        h->collapse_pct = fmax(0.0, 100.0 * (1.0 - mn / h->expected));
        h->genant = sp_genant_grade(h->collapse_pct);
        h->shape = sp_genant_shape(h->genant, h->anterior, h->middle, h->posterior, h->expected);
    }
}

static double line_height(const sp_score_heights *h, int i)
{
    return i == 0 ? h->anterior : i == 1 ? h->middle : h->posterior;
}

static void withdraw_heights(sp_score_vertebra *v, const char *why)
{
    snprintf(v->h.reason, sizeof v->h.reason, "%s", why);
    v->h.ok = false;
    v->h.boundary_doubt = true;
    v->h.expected = v->h.collapse_pct = NAN, v->h.genant = -1, v->h.shape = "not assessed";
}

/* The posterior line much shorter than both others while they agree (sign 4
 * below). */
static bool posterior_line_alone_short(const sp_score_heights *h)
{
    double a = h->anterior, m = h->middle, p = h->posterior;
    return p < (1.0 - SP_ODD_LINE_FRAC) * fmin(a, m) && fabs(a - m) <= SP_ODD_AGREE_FRAC * fmax(a, m);
}

/* The wedge the end lines imply: their height difference over the AP
 * distance between them. */
static double wedge_angle_deg(const sp_score_heights *h)
{
    return atan2(fabs(h->posterior - h->anterior), (SC_BACK_LINE_FRAC - SC_FRONT_LINE_FRAC) * h->depth) * 180.0 / M_PI;
}

/* A collapse read next to a doubtful boundary is most likely the
 * segmentation's cut in the wrong place, not a fracture; it is withdrawn,
 * with the reason, rather than reported. The signs (a neighbour that is
 * partial, cut by the scan, or the sacrum does not count):
 *  1. the neighbour's own body could not be measured (frame not fitted,
 *     centre outside its mask, lines leaving the body): where tumour fills
 *     a crushed body and rises through its disc, no disc shows and the cut
 *     falls in the middle of the normal body above (held-out crushed lytic
 *     L2, seeds 5 and 7: a normal L1 read 12.4 / 11.5 / 10.5 mm for
 *     24.5 / 24 / 24.5, a grade 3 collapse; "L2" held L1's lower half);
 *  2. the loss shows up in the neighbour: on the level's shortest line the
 *     neighbour reads taller than its own neighbours by >= SP_TALL_MIN_MM
 *     and half the loss (collapse only shortens a body; osteoporotic T7 read
 *     a 21 % wedge with T6 5.1 mm too tall at the front). A tall neighbour
 *     with a lesion loses its heights too (lytic T8 seed 11: 27.9 mm for
 *     15.8, SINS collapse 0 for 2);
 *  3. next to a vertebra the scan cuts, its endplates more than
 *     SP_EDGE_TILT_DEG apart: its label holds pieces of the cut one
 *     (osteoporotic seed 3: T1 under a cut C7, endplates 26 deg apart,
 *     read 15.4 / 18.3 / 4.6 mm for 16.5 / 16 / 16.5, a grade 3 collapse);
 *  4. (where no neighbour's sign applies) the posterior line alone is
 *     short, by SP_ODD_LINE_FRAC of both others,
 *     while the anterior and middle agree (within SP_ODD_AGREE_FRAC): no
 *     fracture shape has this (a wedge shortens the front, a biconcave body
 *     the middle, a crush all three); it is the back line clipped where the
 *     label's posterior wall is cut by the canal or an endplate tilted at the
 *     back (survey seeds 101 and 113: C7-T1 region and L5, 16.9 / 16.7 / 2.8 mm,
 *     17.1 / 17.4 / 10.1 mm and 24.9 / 29.8 / 10.4 mm at normal bodies read
 *     as grade 3);
 *  5. (likewise last) the end lines imply a wedge SP_WEDGE_ENDPLATE_DEG more
 *     than the angle between the endplate planes fitted to the label: a real
 *     wedge tilts its endplates by its angle, so one end line left the body
 *     (survey seeds, osteoporotic T3 and T9 at normal bodies: 11.2 / 18.4 /
 *     19.6 mm with endplates 1.8 deg apart, a 34 deg wedge; 3.2 / 21.5 /
 *     21.5 mm, 0.1 deg apart; real fractures imply at most 11 deg more). */
static void boundary_check(sp_score_result *r)
{
    int n = r->nvert;
    /* 0 keep; 1 withdrawn: neighbour unmeasurable; 2: neighbour too tall on the short line; 3: too tall itself;
     * 4: endplates far apart next to a vertebra the scan cuts; 5: the posterior line alone short;
     * 6: the end lines' wedge far over the endplates' angle */
    int withdraw[SP_SEG_MAX_VERT] = {0}, nb[SP_SEG_MAX_VERT], line[SP_SEG_MAX_VERT];
    double nbref[SP_SEG_MAX_VERT], excess[SP_SEG_MAX_VERT];
    neighbour_median(r, false, nbref);
    for (int k = 0; k < n; k++) {
        const sp_score_vertebra *v = &r->v[k];
        if (!v->h.ok || v->h.genant < 1) continue;
        int i = 0; /* the short line */
        for (int x = 1; x < 3; x++)
            if (line_height(&v->h, x) < line_height(&v->h, i)) i = x;
        double deficit = v->h.expected - line_height(&v->h, i);
        for (int d = -1; d <= 1 && !withdraw[k]; d += 2) {
            int j = k + d;
            if (j < 0 || j >= n) continue;
            const sp_score_vertebra *w = &r->v[j];
            if (w->partial && v->h.endplate_angle_deg > SP_EDGE_TILT_DEG) {
                withdraw[k] = 4, nb[k] = j;
                continue;
            }
            if (w->partial || w->label == 26) continue;
            if (!w->h.ok) {
                withdraw[k] = 1, nb[k] = j;
                continue;
            }
            /* the height missing here shows up in the neighbour on the same
             * line: collapse only shortens a body, so a neighbour that much
             * taller than its own neighbours holds part of this one */
            double ex = line_height(&w->h, i) - nbref[j];
            if (!isnan(ex) && ex >= fmax(SP_TALL_MIN_MM, 0.5 * deficit)) {
                withdraw[k] = 2, nb[k] = j, line[k] = i, excess[k] = ex;
                if (lesion(w) && !withdraw[j]) withdraw[j] = 3, nb[j] = k, line[j] = i, excess[j] = ex;
            }
        }
        /* last: a neighbour's sign names the cause more precisely */
        if (!withdraw[k] && posterior_line_alone_short(&v->h)) withdraw[k] = 5, nb[k] = k;
        if (!withdraw[k] && wedge_angle_deg(&v->h) - v->h.endplate_angle_deg > SP_WEDGE_ENDPLATE_DEG)
            withdraw[k] = 6, nb[k] = k;
    }
    static const char *lname[3] = {"anterior", "middle", "posterior"};
    for (int k = 0; k < n; k++) {
        if (!withdraw[k]) continue;
        sp_score_vertebra *v = &r->v[k];
        const sp_score_vertebra *w = &r->v[nb[k]];
        char why[sizeof v->h.reason];
        if (withdraw[k] == 1)
            snprintf(why, sizeof why,
                     "a %.0f %% loss was read (%.1f / %.1f / %.1f mm), but %s next to it has a label that could not be "
                     "measured (%s): the boundary between them is doubtful (a disc the segmentation did not find)",
                     v->h.collapse_pct, v->h.anterior, v->h.middle, v->h.posterior, w->name, w->h.reason);
        else if (withdraw[k] == 2)
            snprintf(why, sizeof why,
                     "a %.0f %% loss was read (%.1f / %.1f / %.1f mm), but %s next to it reads its %s height %.1f mm "
                     "over its neighbours': the boundary between them is misplaced (collapse only shortens a body)",
                     v->h.collapse_pct, v->h.anterior, v->h.middle, v->h.posterior, w->name, lname[line[k]], excess[k]);
        else if (withdraw[k] == 3)
            snprintf(why, sizeof why,
                     "its %s height reads %.1f mm over its neighbours' (%.1f / %.1f / %.1f mm) while %s next to it reads "
                     "a collapse: its label holds part of %s (collapse only shortens a body)",
                     lname[line[k]], excess[k], v->h.anterior, v->h.middle, v->h.posterior, w->name, w->name);
        else if (withdraw[k] == 6)
            snprintf(why, sizeof why,
                     "a %.0f %% loss was read (%.1f / %.1f / %.1f mm): the end lines imply a %.0f deg wedge, but the "
                     "endplates fitted to the label are %.0f deg apart (a real wedge tilts them by its angle): an end "
                     "line left the body",
                     v->h.collapse_pct, v->h.anterior, v->h.middle, v->h.posterior, wedge_angle_deg(&v->h),
                     v->h.endplate_angle_deg);
        else if (withdraw[k] == 5)
            snprintf(why, sizeof why,
                     "a %.0f %% loss was read (%.1f / %.1f / %.1f mm) on the posterior line alone, the anterior and "
                     "middle agreeing: no fracture shortens only the back of a body; the posterior line most likely "
                     "left the label's body (its wall cut by the canal or a tilted endplate)",
                     v->h.collapse_pct, v->h.anterior, v->h.middle, v->h.posterior);
        else
            snprintf(why, sizeof why,
                     "a %.0f %% loss was read (%.1f / %.1f / %.1f mm) with its endplates %.0f deg apart, next to %s, "
                     "which the scan cuts: its label likely holds pieces of %s",
                     v->h.collapse_pct, v->h.anterior, v->h.middle, v->h.posterior, v->h.endplate_angle_deg, w->name,
                     w->name);
        withdraw_heights(v, why);
    }
}

/* "No lesion" is a finding only where the label holds the body. A label
 * whose heights could not be measured (frame not fitted, centre outside its
 * own mask, lines leaving the body) is not the body, or not all of it: on
 * the crushed lytic L2 of seed 5 "L2" held L1's lower half, the tumour-filled
 * body lay unlabelled below it (soft tissue, under the bone threshold), and
 * the report said "no lesion" at a level with a 35 % collapse and a lytic
 * body. There the lesion is "not assessed", with the reason; a lesion found
 * in such a label is kept (it is there). Levels cut by the scan keep their
 * finding for the part in view, and the sacrum has its own rule. */
static void unmeasured_body_lesion_check(sp_score_result *r)
{
    for (int k = 0; k < r->nvert; k++) {
        sp_score_vertebra *v = &r->v[k];
        if (v->label == 26 || v->partial || v->h.ok || v->h.boundary_doubt) continue;
        if (!v->les.assessed || v->les.character != SP_CHAR_NONE) continue;
        char why[sizeof v->les.reason];
        snprintf(why, sizeof why,
                 "no lesion in its label, but the label holds no measurable body (%s): a body replaced by tumour can "
                 "lie outside it",
                 v->h.reason);
        v->les.assessed = false;
        v->les.character = SP_CHAR_NOT_ASSESSED;
        memcpy(v->les.reason, why, sizeof why);
    }
}

static double margin_conf(double x, double thr, double scale)
{
    if (isnan(x)) return 0.0;
    double m = fabs(x - thr) / scale;
    return 0.5 + 0.5 * (m > 1 ? 1 : m);
}

static void sins(sp_score_result *r, const sp_score_opts *o)
{
    r->n_lesion_levels = 0;
    r->worst = -1;
    for (int k = 0; k < r->nvert; k++) {
        sp_score_vertebra *v = &r->v[k];
        sp_score_sins *s = &v->sins;
        memset(s, 0, sizeof *s);
        s->location = sp_sins_location(v->label, r->thoracic_count, r->lumbar_count, &s->location_class);
        s->applicable = lesion(v);
        if (!s->applicable) continue;
        r->n_lesion_levels++;
        s->pain = o ? sp_sins_pain(o->pain[v->label]) : -1;
        s->bone_lesion = sp_sins_bone_lesion(v->les.character);
        sp_sins_align_in ai = {v->translation_mm, v->sagittal_dev_deg, v->coronal_deg, v->cobb_deg, r->sagittal_thr_deg};
        s->alignment = sp_sins_alignment(&ai, &s->alignment_why);
        s->collapse = sp_sins_collapse(v->h.collapse_pct, v->les.body_involvement_pct);
        s->posterolateral = sp_sins_posterolateral(v->les.side[0], v->les.side[1]);
        static const int maxpts[6] = {3, 3, 2, 4, 3, 3};
        int comp[6] = {s->location, s->pain, s->bone_lesion, s->alignment, s->collapse, s->posterolateral};
        int sub = 0, lo = 0, hi = 0;
        for (int c = 0; c < 6; c++) {
            if (c != 1 && comp[c] >= 0) sub += comp[c];
            lo += comp[c] >= 0 ? comp[c] : 0;
            hi += comp[c] >= 0 ? comp[c] : maxpts[c];
        }
        s->imaging_subtotal = sub, s->total_min = lo, s->total_max = hi;
        s->cat_min = sp_sins_category_of(lo), s->cat_max = sp_sins_category_of(hi);
        /* confidence: margin of the deciding measurement from its threshold */
        s->confidence[0] = v->level_confidence;
        s->confidence[1] = s->pain >= 0 ? 1.0 : 0.0;
        double tot = v->les.lytic_ml + v->les.blastic_ml, minor = fmin(v->les.lytic_ml, v->les.blastic_ml);
        s->confidence[2] = v->les.character == SP_CHAR_MIXED ? margin_conf(minor, SP_LESION_MIN_ML, 1.0)
                                                            : margin_conf(tot, SP_LESION_MIN_ML, 1.0);
        s->confidence[3] = fmin(margin_conf(v->translation_mm, SP_SINS_TRANSLATION_MM, 2.0),
                                margin_conf(v->sagittal_dev_deg, r->sagittal_thr_deg, 4.0));
        /* a translation seen but not confirmed, or an axis that is not the level's own */
        if ((!isnan(v->translation_measured_mm) && v->translation_measured_mm >= SP_SINS_TRANSLATION_MM &&
             !(v->translation_mm >= SP_SINS_TRANSLATION_MM)) ||
            v->frame_source != 0 || !v->mask_plausible)
            s->confidence[3] = fmin(s->confidence[3], 0.5);
        double cp = v->h.collapse_pct;
        s->confidence[4] = isnan(cp) ? 0.0 : fmin(margin_conf(cp, SP_SINS_COLLAPSE_FLOOR_PCT, 8.0),
                                                  margin_conf(cp, SP_SINS_COLLAPSE_HIGH_PCT, 8.0));
        if (!v->mask_plausible || v->frame_source != 0 || v->h.from_gap) s->confidence[4] = fmin(s->confidence[4], 0.5);
        double pl = 1.0;
        for (int sd = 0; sd < 2; sd++) {
            double x = fmax(isnan(v->les.pedicle_pct[sd]) ? 0 : v->les.pedicle_pct[sd],
                            isnan(v->les.facet_pct[sd]) ? 0 : v->les.facet_pct[sd]);
            pl = fmin(pl, margin_conf(x, SP_POSTEROLATERAL_PCT, 10.0));
        }
        s->confidence[5] = pl;
        if (r->worst < 0 || s->total_max > r->v[r->worst].sins.total_max ||
            (s->total_max == r->v[r->worst].sins.total_max && s->total_min > r->v[r->worst].sins.total_min))
            r->worst = k;
    }
}

/* A label at either end of the column that is a piece of its neighbour,
 * not a vertebra: fewer than SP_FRAGMENT_VOXELS x the neighbour's voxels and
 * its body centre closer to the neighbour's than SP_FRAGMENT_SPACING x the
 * spacing between the neighbour and the next level. Phantoms whose scan
 * starts at T1 (nothing above) had T1's arch and first ribs labelled as a
 * "C7" not flagged cut by the scan on 12 of 308 (survey seeds 3-173,
 * lytic T4 on 10 of 28; bench/rule_surveys.py fragments): 0.34-0.54 of
 * T1's voxels, centre 0.60-0.68 of the T1-T2 spacing away, its "body" the
 * arch; 10 of them read a grade 2-3 fracture at a level that does not
 * exist. Every end level that is a vertebra read >= 0.86 and >= 0.87
 * (survey >= 0.89 and >= 0.90; the real CT's cut T12 0.86 and 0.87). A crushed end vertebra keeps most of its spacing
 * (half its lost height), so both conditions are asked. Such a level is
 * treated as cut by the scan: heights, shape and alignment not measured,
 * with this reason, written here into its heights' reason (its lesions are
 * still assessed). */
static void end_fragment_check(const sp_seg_result *seg, sp_score_result *r)
{
    int n = seg->nvert;
    for (int end = 0; end < 2 && n >= 3; end++) {
        int e = end == 0 ? 0 : n - 1, i = end == 0 ? 1 : n - 2, x = end == 0 ? 2 : n - 3;
        const sp_seg_vertebra *E = &seg->vert[e], *I = &seg->vert[i], *X = &seg->vert[x];
        if (E->partial || E->label == 26 || I->label == 26 || X->label == 26 || I->nvox <= 0) continue;
        double a[3], b[3];
        for (int q = 0; q < 3; q++) a[q] = E->body_centre[q] - I->body_centre[q], b[q] = I->body_centre[q] - X->body_centre[q];
        double de = sp_norm3(a), dn = sp_norm3(b);
        double vr = (double)E->nvox / (double)I->nvox;
        if (vr >= SP_FRAGMENT_VOXELS || !(dn > 0) || de >= SP_FRAGMENT_SPACING * dn) continue;
        sp_score_vertebra *v = &r->v[e];
        v->partial = v->fragment = true;
        snprintf(v->h.reason, sizeof v->h.reason,
                 "a fragment at the end of the column, not a vertebra (%.0f %% of %s's voxels, its centre %.1f mm from "
                 "%s's against %.1f mm to the next level): heights not measured",
                 100.0 * vr, I->name, de, I->name, dn);
        sp_log(SP_LOG_INFO, "score: %s is a fragment at the end of the column (%.0f %% of %s's voxels)", E->name,
               100.0 * vr, I->name);
    }
}

sp_status sp_score_run(const sp_volume *ct, const sp_seg_result *seg, const sp_score_opts *opts,
                       sp_score_result **out, sp_err *err)
{
    *out = NULL;
    if (!ct || !seg || !seg->vertebrae || !seg->parts || ct->dtype != SP_I16)
        return sp_fail(err, SP_EINVAL, "scoring needs an int16 HU CT and a segmentation");
    if (seg->vertebrae->nx != ct->nx || seg->vertebrae->ny != ct->ny || seg->vertebrae->nz != ct->nz ||
        seg->parts->nx != ct->nx || seg->parts->ny != ct->ny || seg->parts->nz != ct->nz)
        return sp_fail(err, SP_EINVAL, "label maps are not on the CT grid");
    sp_score_result *r = calloc(1, sizeof *r);
    sc_ctx *c = calloc(1, sizeof *c);
    if (!r || !c) {
        free(r), free(c);
        return sp_fail(err, SP_ENOMEM, "out of memory");
    }
    double t0 = now();
    c->ct = ct, c->lab = seg->vertebrae, c->parts = seg->parts;
    c->vox_ml = ct->spacing[0] * ct->spacing[1] * ct->spacing[2] / 1000.0;
    if (sp_mat4_invert(ct->ijk_to_lps, c->inv) != 0) {
        free(r), free(c);
        return sp_fail(err, SP_EINVAL, "CT geometry is singular");
    }
    r->nvert = seg->nvert;
    r->thoracic_count = 12, r->lumbar_count = 5;
    bool has[64] = {false};
    for (int k = 0; k < seg->nvert; k++) has[seg->vert[k].label & 63] = true;
    if (has[28]) r->thoracic_count = 13;
    else if (has[18] && !has[19] && has[20]) r->thoracic_count = 11;
    if (has[25]) r->lumbar_count = 6;
    else if (has[23] && !has[24] && has[26]) r->lumbar_count = 4;
    boxes(c, seg);
    int nv = seg->nvert;
    /* omp: iteration k writes only r->v[k] and c's per-level entries [k]
     * (the symmetry-plane search: 0.1 s a level on a 0.8 mm series) */
    SP_OMP(parallel for default(none) shared(c, seg, r, nv) schedule(dynamic, 1))
    for (int k = 0; k < nv; k++) {
        sp_score_vertebra *v = &r->v[k];
        v->k = k;
        v->label = seg->vert[k].label;
        sc_body_region(c, &seg->vert[k], k);
        memcpy(v->name, seg->vert[k].name, sizeof v->name);
        v->level_confidence = seg->vert[k].confidence;
        v->uncertain = seg->vert[k].uncertain;
        v->partial = seg->vert[k].partial;
    }
    end_fragment_check(seg, r);
    sc_body_axes_check(c, seg);
    /* omp: iteration k writes only r->v[k]; reads the volumes and seg->vert[k] */
    SP_OMP(parallel for default(none) shared(c, seg, r, nv) schedule(dynamic, 1))
    for (int k = 0; k < nv; k++) {
        sp_score_vertebra *v = &r->v[k];
        if (v->label == 26 || v->partial) { /* sacrum: no body heights; still a bone reference candidate */
            v->h.ok = false;
            if (!v->fragment) /* a fragment's reason is end_fragment_check's */
                snprintf(v->h.reason, sizeof v->h.reason, "%s",
                         v->partial ? "partly outside the scan (cut by its first or last slice): heights not measured"
                                    : "sacrum: heights not measured");
            v->h.expected = v->h.collapse_pct = NAN, v->h.genant = -1, v->h.shape = "not assessed";
            sc_frame_refine(c, &seg->vert[k], k, v);
        } else {
            sc_frame_refine(c, &seg->vert[k], k, v);
            sc_measure_heights(c, v, false);
        }
        sc_trabecular(c, k, v);
        sc_posterior_density(c, k, v);
    }
    frame_check(c, r);
    reference(r);
    /* omp: iteration k writes only r->v[k]'s pedicle fields; reads the volumes and r's thresholds */
    SP_OMP(parallel for default(none) shared(c, r, nv) schedule(dynamic, 1))
    for (int k = 0; k < nv; k++) sc_pedicle_density(c, k, r, &r->v[k]);
    c->lesion_out = sp_vol_new_like(ct, SP_U8); /* NULL (no export) when out of memory */
    /* omp: iteration k writes only r->v[k].les and the voxels of its own
     * label in c->lesion_out; reads r's reference (fixed) */
    SP_OMP(parallel for default(none) shared(c, r, nv) schedule(dynamic, 1))
    for (int k = 0; k < nv; k++) sc_measure_lesion(c, k, r, &r->v[k]);
    /* the lesion-free bodies measured again at thick slices, their endplates
     * placed from a plate split between two slices where one is
     * (plate_straddle, frame.c: a model of intact cortex over even
     * cancellous bone, so not at a lesion's level, where it pulled ends a
     * slice in: blastic T7's middle height -2.3 mm) */
    if (sc_plate_slices(c)) {
        /* omp: iteration k writes only r->v[k] */
        SP_OMP(parallel for default(none) shared(c, r, nv) schedule(dynamic, 1))
        for (int k = 0; k < nv; k++)
            if (r->v[k].h.ok && r->v[k].les.character == SP_CHAR_NONE) sc_measure_heights(c, &r->v[k], true);
    }
    gap_check(r);
    collapse(r);
    boundary_check(r);
    unmeasured_body_lesion_check(r);
    mask_plausibility(r);
    sc_extension_all(c, r);
    for (int k = 0; k < nv; k++) {
        sp_score_lesion *L = &r->v[k].les;
        L->zones = L->layers = 0;
        for (int z = 0; z < 12; z++)
            if (L->zone_ml[z] >= SP_WBB_MIN_ML) L->zones |= 1u << z;
        for (int l = 0; l < 5; l++)
            if (L->layer_ml[l] >= SP_WBB_MIN_ML) L->layers |= 1u << l;
    }
    r->seconds_measure = now() - t0;
    t0 = now();
    sc_measure_alignment(r);
    sins(r, opts);
    r->seconds_score = now() - t0;
    if (r->n_lesion_levels > 0) r->lesion_mask = c->lesion_out;
    else sp_vol_free(c->lesion_out);
    free(c);
    *out = r;
    return SP_OK;
}

void sp_score_result_free(sp_score_result *r)
{
    if (!r) return;
    sp_vol_free(r->lesion_mask);
    free(r);
}
