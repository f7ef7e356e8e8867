/* naming.c - anatomical anchors and level names.
 *
 * DESIGN: names come from anatomy, never from the position in the image.
 * Two anchors are looked for on the work grid:
 *  - ribs: bone 60-95 mm lateral of the body centre and 15 mm in front to
 *    45 mm behind it, in a vertebra's slab extended 10 mm caudally (ribs run
 *    down from their heads), at least 100 mm^3 per side. The last rib-bearing
 *    level above a run of two rib-free levels is T12 (the iliac crests beside
 *    L4-L5 cannot fake it, and levels next to the sacrum are not tested).
 *  - sacrum: the caudal-most level when bone reaches 45-75 mm to both sides
 *    (sacral alae, sacroiliac joints) in at least half of its slab.
 * Both anchors with five levels between them: names agree, high confidence.
 * Any other count is transitional anatomy (six lumbar-type vertebrae: L6 or
 * a rib-free T12; four: a sacralised L5 or an extra thoracic): the names
 * follow the ribs, are flagged uncertain and carry the alternative. One
 * anchor only: names counted from it, confidence falling with distance,
 * uncertain beyond four levels. No anchor: the order is kept, names are a
 * size-based guess, all flagged uncertain. */
#define SP_SEGMENT_INTERNAL
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/sp_log.h"

#define RIB_MIN_MM3 100.0

int sp_seg_level_number(const char *name)
{
    int n;
    if (!strcmp(name, "S") || !strcmp(name, "sacrum") || !strcmp(name, "S1")) return 26;
    if (sscanf(name + 1, "%d", &n) != 1) return -1;
    switch (name[0]) {
    case 'C': return n >= 1 && n <= 7 ? n : -1;
    case 'T': return n >= 1 && n <= 12 ? 7 + n : n == 13 ? 28 : -1;
    case 'L': return n >= 1 && n <= 5 ? 19 + n : n == 6 ? 25 : -1;
    default: return -1;
    }
}

const char *sp_seg_level_name(int label, char buf[8])
{
    if (label >= 1 && label <= 7) snprintf(buf, 8, "C%d", label);
    else if (label >= 8 && label <= 19) snprintf(buf, 8, "T%d", label - 7);
    else if (label >= 20 && label <= 24) snprintf(buf, 8, "L%d", label - 19);
    else if (label == 25) snprintf(buf, 8, "L6");
    else if (label == 26) snprintf(buf, 8, "S");
    else if (label == 28) snprintf(buf, 8, "T13");
    else snprintf(buf, 8, "?%d", label);
    return buf;
}

/* Bone voxel volume (mm^3) per side in the rib box of work slice z. */
static void rib_box(const seg_work *w, int z, double cx, double cy, double *left, double *right)
{
    int nx = w->n[0], ny = w->n[1];
    const uint8_t *b = w->bone + (size_t)z * nx * ny;
    double vox = w->spacing[0] * w->spacing[1] * w->spacing[2];
    for (int y = 0; y < ny; y++) {
        double dy = (y - cy) * w->spacing[1];
        if (dy < -15 || dy > 45) continue;
        for (int x = 0; x < nx; x++) {
            double dx = (x - cx) * w->spacing[0];
            if (!b[y * nx + x] || fabs(dx) < 60 || fabs(dx) > 95) continue;
            if (dx > 0) *left += vox;
            else *right += vox;
        }
    }
}

/* True when bone reaches 45-75 mm lateral on both sides in work slice z. */
static bool wide_slice(const seg_work *w, int z, double cx, double cy)
{
    int nx = w->n[0], ny = w->n[1];
    const uint8_t *b = w->bone + (size_t)z * nx * ny;
    bool l = false, r = false;
    for (int y = 0; y < ny; y++) {
        double dy = (y - cy) * w->spacing[1];
        if (dy < -10 || dy > 40) continue;
        for (int x = 0; x < nx; x++) {
            double dx = (x - cx) * w->spacing[0];
            if (!b[y * nx + x] || fabs(dx) < 45 || fabs(dx) > 75) continue;
            if (dx > 0) l = true;
            else r = true;
        }
    }
    return l && r;
}

void seg_detect_anchors(const seg_work *w, const seg_line *L, seg_level *lv, int nlv, bool verbose)
{
    for (int k = 0; k < nlv; k++) {
        double left = 0, right = 0;
        int wide = 0, n = 0;
        int lo = lv[k].lo - (int)ceil(10.0 / w->spacing[2]);
        for (int i = lo < 0 ? 0 : lo; i < lv[k].hi; i++) {
            int z = (int)lround(L->p[i][2]);
            rib_box(w, z, L->p[i][0], L->p[i][1], &left, &right);
            if (i >= lv[k].lo) {
                wide += wide_slice(w, z, L->p[i][0], L->p[i][1]);
                n++;
            }
        }
        lv[k].ribs = (left >= RIB_MIN_MM3) + (right >= RIB_MIN_MM3);
        lv[k].width_mm = n ? (double)wide / n : 0; /* fraction of wide slices */
        if (verbose)
            sp_log(SP_LOG_DEBUG, "segment: level %d (samples %d-%d): rib bone L %.0f / R %.0f mm3, wide %.0f%%", k,
                   lv[k].lo, lv[k].hi, left, right, 100 * lv[k].width_mm);
    }
    lv[0].sacrum = nlv > 1 && lv[0].width_mm >= 0.5;
}

/* Label of the level above / below in the standard sequence. */
static int up(int l) { return l == 20 ? 19 : l == 8 ? 7 : l == 26 ? 24 : l - 1; }
static int down(int l) { return l == 19 ? 20 : l == 7 ? 8 : l == 24 ? 26 : l + 1; }

/* Names every level counting from level a with label la. */
static void count_from(seg_level *lv, int nlv, int a, int la)
{
    lv[a].label = la;
    for (int k = a + 1; k < nlv; k++) lv[k].label = up(lv[k - 1].label);
    for (int k = a - 1; k >= 0; k--) lv[k].label = down(lv[k + 1].label);
}

static void set(sp_seg_vertebra *v, double conf, bool unc, const char *anchor, const char *alt)
{
    v->confidence = conf;
    v->uncertain = unc;
    snprintf(v->anchor, sizeof v->anchor, "%s", anchor);
    snprintf(v->alternatives, sizeof v->alternatives, "%s", alt);
}

void seg_name_levels(seg_level *lv, int nlv, sp_seg_result *r)
{
    int S = (nlv > 0 && lv[0].sacrum) ? 0 : -1, T = -1;
    /* Last rib-bearing level above two rib-free ones (levels next to the sacrum not tested). */
    for (int k = nlv - 1; k >= 2; k--) {
        if (!lv[k].ribs) continue;
        if (k - 2 >= 0 && !lv[k - 1].ribs && !lv[k - 2].ribs) {
            T = k;
            break;
        }
    }
    if (T >= 0 && S >= 0 && T - S - 1 < 2) T = -1;
    char a[256] = "";
    if (S >= 0) snprintf(a + strlen(a), sizeof a - strlen(a), "sacrum found; ");
    if (T >= 0) snprintf(a + strlen(a), sizeof a - strlen(a), "last rib-bearing vertebra found; ");
    if (S < 0 && T < 0) snprintf(a, sizeof a, "no anatomical anchor in view; ");
    snprintf(r->anchors, sizeof r->anchors, "%s", a);
    r->flags[0] = '\0';
    if (S >= 0 && T >= 0) {
        int between = T - S - 1;
        count_from(lv, nlv, T, 19);
        if (S >= 0) lv[S].label = 26;
        if (between == 5) {
            for (int k = 0; k < nlv; k++) set(&r->vert[k], 0.95, false, "sacrum and last rib (T12) agree", "");
        } else {
            /* Transitional: ribs name the thoracic levels; lumbar count is odd. */
            const char *alt = between == 6 ? "L6 (six lumbar) or T12 without ribs (11 rib pairs)"
                                           : between == 4 ? "sacralised L5 or 13 rib-bearing thoracic vertebrae"
                                                          : "atypical count between last rib and sacrum";
            if (between == 6) lv[S + 1].label = 25; /* the extra lumbar-type vertebra just above the sacrum */
            for (int k = 0; k < nlv; k++) set(&r->vert[k], 0.5, true, "last rib (T12); sacrum count disagrees", alt);
            snprintf(r->flags + strlen(r->flags), sizeof r->flags - strlen(r->flags),
                     "transitional anatomy: %d vertebrae between last rib and sacrum; ", between);
        }
    } else if (S >= 0) {
        count_from(lv, nlv, S, 26);
        for (int k = 0; k < nlv; k++) {
            int d = k - S;
            set(&r->vert[k], d <= 5 ? 0.85 : fmax(0.3, 0.85 - 0.08 * (d - 5)), d > 5,
                "counted up from the sacrum (assumes 5 lumbar vertebrae)", d > 5 ? "+/-1 level" : "");
        }
        snprintf(r->flags + strlen(r->flags), sizeof r->flags - strlen(r->flags), "single anchor (sacrum); ");
    } else if (T >= 0) {
        count_from(lv, nlv, T, 19);
        for (int k = 0; k < nlv; k++) {
            int d = abs(k - T);
            set(&r->vert[k], fmax(0.3, 0.85 - 0.05 * d), d > 4, "counted from the last rib-bearing vertebra (T12)",
                d > 4 ? "+/-1 level" : "");
        }
        snprintf(r->flags + strlen(r->flags), sizeof r->flags - strlen(r->flags), "single anchor (ribs); ");
    } else {
        /* No anchor: a guess from where a column of this many levels usually ends. */
        count_from(lv, nlv, 0, 24);
        for (int k = 0; k < nlv; k++) set(&r->vert[k], 0.2, true, "none: names are a guess from the order only", "any level");
        snprintf(r->flags + strlen(r->flags), sizeof r->flags - strlen(r->flags), "no anchor: names uncertain; ");
    }
    for (int k = 0; k < nlv; k++) {
        if (lv[k].label < 1) lv[k].label = 1;
        r->vert[k].label = lv[k].label;
        r->vert[k].ribs = lv[k].ribs;
        sp_seg_level_name(lv[k].label, r->vert[k].name);
    }
    if (lv[0].open_lo && S < 0)
        snprintf(r->flags + strlen(r->flags), sizeof r->flags - strlen(r->flags), "cropped below; ");
    if (nlv > 0 && lv[nlv - 1].open_hi)
        snprintf(r->flags + strlen(r->flags), sizeof r->flags - strlen(r->flags), "cropped above; ");
}
