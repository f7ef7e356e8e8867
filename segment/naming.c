/* naming.c - anatomical anchors and level names.
 *
 * DESIGN: names come from anatomy, never from the position in the image.
 * Two anchors are looked for on the work grid:
 *  - ribs: see detect_ribs(). The last rib-bearing level above a run of two
 *    rib-free levels is T12 (or the level above it, where the lowest pair is
 *    split across the two: split_pair_top).
 *  - sacrum: the caudal-most level when bone reaches 45-75 mm to both sides
 *    (sacral alae, sacroiliac joints) in at least half of its slab.
 * Both anchors with five levels between them: names agree, high confidence.
 * Any other count is transitional anatomy (six lumbar-type vertebrae: L6 or
 * a rib-free T12; four: a sacralised L5 or an extra thoracic): the names
 * follow the count that names every level (from the sacrum when there are
 * more than five, from the ribs when fewer), are flagged uncertain, and each
 * level carries the name the other count gives it. One
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

typedef struct rib_comp {
    double vol, min_r, max_r;
    int z_at_min, side, zmin, zmax;
} rib_comp;

/* Ribs: 26-connected components of bone 45-140 mm from the body axis, in
 * the posterior half (40 mm in front to 70 mm behind the body centre). A
 * rib starts near the spine (nearest point within 55 mm), runs out past
 * 75 mm and is small (0.2-40 cm^3 in this region); the ilium and scapula
 * are far larger and transverse processes never reach 75 mm. Each rib is
 * counted for the level whose slab holds its nearest point (the rib head). */
static void detect_ribs(const seg_work *w, const seg_line *L, seg_level *lv, int nlv, bool verbose)
{
    int nx = w->n[0], ny = w->n[1], nz = w->n[2];
    size_t nxy = (size_t)nx * ny, nvox = nxy * nz;
    uint8_t *m = calloc(nvox, 1);
    int32_t *queue = malloc(nvox * sizeof *queue);
    double vox = w->spacing[0] * w->spacing[1] * w->spacing[2];
    if (!m || !queue) goto done;
    for (int i = 0; i < L->n; i++) {
        int z = (int)lround(L->p[i][2]);
        if (z < 0 || z >= nz) continue;
        for (int y = 0; y < ny; y++) {
            double dy = (y - L->p[i][1]) * w->spacing[1];
            if (dy < -40 || dy > 70) continue;
            for (int x = 0; x < nx; x++) {
                double dx = (x - L->p[i][0]) * w->spacing[0], r = sqrt(dx * dx + dy * dy);
                size_t idx = (size_t)z * nxy + (size_t)y * nx + x;
                if (w->bone[idx] && r >= 45 && r <= 140) m[idx] = 1;
            }
        }
    }
    for (size_t s0 = 0; s0 < nvox; s0++) {
        if (m[s0] != 1) continue;
        rib_comp c = {0, 1e30, 0, 0, 0, nz, -1};
        size_t head = 0, tail = 0;
        m[s0] = 2;
        queue[tail++] = (int32_t)s0;
        while (head < tail) {
            size_t p = (size_t)queue[head++];
            int x = (int)(p % nx), y = (int)((p / nx) % ny), z = (int)(p / nxy), i = z - L->z0;
            c.vol += vox;
            if (z < c.zmin) c.zmin = z;
            if (z > c.zmax) c.zmax = z;
            if (i >= 0 && i < L->n) {
                double dx = (x - L->p[i][0]) * w->spacing[0], dy = (y - L->p[i][1]) * w->spacing[1];
                double r = sqrt(dx * dx + dy * dy);
                if (r < c.min_r) c.min_r = r, c.z_at_min = z, c.side = dx > 0 ? 0 : 1;
                if (r > c.max_r) c.max_r = r;
            }
            for (int dz = -1; dz <= 1; dz++)
                for (int dyy = -1; dyy <= 1; dyy++)
                    for (int dxx = -1; dxx <= 1; dxx++) {
                        int X = x + dxx, Y = y + dyy, Z = z + dz;
                        if (X < 0 || Y < 0 || Z < 0 || X >= nx || Y >= ny || Z >= nz) continue;
                        size_t q = (size_t)Z * nxy + (size_t)Y * nx + X;
                        if (m[q] == 1) m[q] = 2, queue[tail++] = (int32_t)q;
                    }
        }
        bool rib = c.vol >= 200 && c.vol <= 40000 && c.min_r <= 55 && c.max_r >= 75 && (c.zmax - c.zmin) * w->spacing[2] <= 100;
        if (!rib) continue;
        int i = c.z_at_min - L->z0;
        for (int k = 0; k < nlv; k++)
            if (i >= lv[k].lo && i < lv[k].hi) {
                lv[k].ribs |= 1 << c.side;
                if (verbose)
                    sp_log(SP_LOG_DEBUG, "segment: %s rib (%.1f cm3, %.0f-%.0f mm from the axis) attaches to level %d",
                           c.side ? "right" : "left", c.vol / 1000, c.min_r, c.max_r, k);
            }
    }
    for (int k = 0; k < nlv; k++) lv[k].rib_sides = lv[k].ribs, lv[k].ribs = (lv[k].ribs & 1) + ((lv[k].ribs >> 1) & 1);
done:
    free(m);
    free(queue);
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

#define PEG_LEVELS 3       /* the top levels tested: dens or ring may be levels of their own */

void seg_detect_anchors(const seg_work *w, const seg_line *L, seg_level *lv, int nlv, bool verbose)
{
    for (int k = 0; k < nlv; k++) {
        int wide = 0, n = 0;
        lv[k].ribs = 0;
        for (int i = lv[k].lo; i < lv[k].hi; i++, n++) wide += wide_slice(w, (int)lround(L->p[i][2]), L->p[i][0], L->p[i][1]);
        lv[k].wide_frac = n ? (double)wide / n : 0;
    }
    detect_ribs(w, L, lv, nlv, verbose);
    if (verbose)
        for (int k = 0; k < nlv; k++)
            sp_log(SP_LOG_DEBUG, "segment: level %d (%.0f-%.0f mm): rib sides %d, wide %.0f%%", k, lv[k].s_lo, lv[k].s_hi,
                   lv[k].ribs, 100 * lv[k].wide_frac);
    /* A rib-bearing level is no sacrum, nor is the level under one (L5 never
     * bears a rib): a scan ending in the chest has ribs 45-75 mm out at its
     * lowest level too (cervico-thoracic phantoms cut at T4: "sacrum found",
     * 7 of 12 names wrong and unflagged). */
    lv[0].sacrum = nlv > 1 && lv[0].wide_frac >= 0.5 && !lv[0].ribs && !lv[1].ribs;
    for (int k = 0; k < nlv; k++) lv[k].axis = lv[k].atlas = false;
    for (int k = nlv - 1; k >= 0 && k >= nlv - PEG_LEVELS; k--)
        if (!lv[k].sacrum && seg_detect_axis(w, L, &lv[k], verbose)) {
            lv[k].axis = true;
            for (int j = k + 1; j < nlv; j++) lv[j].atlas = true;
            break;
        }
}

/* Label of the level above / below in the standard sequence. */
int seg_label_up(int l) { return l == 20 ? 19 : l == 8 ? 7 : l == 26 ? 24 : l > 1 ? l - 1 : 1; }
int seg_label_down(int l) { return l == 19 ? 20 : l == 7 ? 8 : l >= 24 ? 26 : l + 1; } /* below the sacrum: sacrum */
#define up seg_label_up
#define down seg_label_down

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

/* A level that can stand for the spine's usual level height: not the
 * sacrum, C1 or C2 (tall or short by nature), not cut by the scan. */
static bool typical(const seg_level *l) { return !l->sacrum && !l->axis && !l->atlas && !l->open_lo && !l->open_hi; }

/* Mean height of the typical levels in [lo, hi] other than [a, b]; 0 when none. */
static double neighbours_height(const seg_level *lv, int nlv, int lo, int hi, int a, int b)
{
    double sum = 0;
    int n = 0;
    for (int j = lo; j <= hi; j++)
        if ((j < a || j > b) && j >= 0 && j < nlv && typical(&lv[j])) sum += lv[j].s_hi - lv[j].s_lo, n++;
    return n ? sum / n : 0;
}

/* Flags levels a..b and every level named by counting across them from
 * their anchor (a count from the ribs, or from C2, runs downward; from the
 * sacrum upward): the count may be one off. self / way: the reason given
 * to a..b and to the levels beyond. */
static void flag_across(sp_seg_result *r, int nlv, int a, int b, const char *self, const char *way)
{
    const char *anc = r->vert[a].anchor;
    bool from_below = !(anc[0] && strstr(anc, "rib") && !strstr(anc, "sacrum")) && !strstr(anc, "C2 (dens)");
    for (int j = 0; j < nlv; j++) {
        bool here = j >= a && j <= b, across = here || (from_below ? j > b : j < a);
        if (!across || r->vert[j].uncertain) continue;
        r->vert[j].uncertain = true;
        r->vert[j].confidence = fmin(r->vert[j].confidence, 0.5);
        snprintf(r->vert[j].alternatives, sizeof r->vert[j].alternatives, "+/-1 level: %s", here ? self : way);
    }
}

/* A level half again as tall as its neighbours probably holds two
 * vertebrae (a disc the profile did not show: thick slices, the scan's edge).
 * Its name, and the names counted across it, are then flagged: the count
 * from that anchor may be one off. The sacrum is tall by nature. */
static void flag_tall_levels(const seg_level *lv, int nlv, sp_seg_result *r)
{
    char inf[128] = ""; /* levels with an inferred disc: one flag, so the rest still fit */
    for (int k = 0; k < nlv; k++) {
        double len = lv[k].s_hi - lv[k].s_lo;
        if (lv[k].sacrum || lv[k].axis || lv[k].atlas) continue; /* tall or short by nature (the dens) */
        double ref = neighbours_height(lv, nlv, k - 2, k + 2, k, k);
        if (ref <= 0) continue;
        if (len <= 1.5 * ref && !lv[k].inferred) continue;
        if (lv[k].inferred)
            flag_across(r, nlv, k, k, "a disc of this segment was not seen, only inferred", "a disc on the way was inferred, not seen");
        else
            flag_across(r, nlv, k, k, "this segment may hold two vertebrae", "a segment on the way may hold two vertebrae");
        if (lv[k].inferred) { /* cranial first */
            char t[sizeof inf];
            snprintf(t, sizeof t, "%s%s%s", r->vert[k].name, inf[0] ? ", " : "", inf);
            memcpy(inf, t, sizeof inf);
        }
        else
            snprintf(r->flags + strlen(r->flags), sizeof r->flags - strlen(r->flags),
                     "a segment %.0f mm tall (neighbours %.0f mm) may hold two vertebrae; ", len, ref);
    }
    if (inf[0])
        snprintf(r->flags + strlen(r->flags), sizeof r->flags - strlen(r->flags),
                 "%s of %s inferred, not seen; ", strchr(inf, ',') ? "discs" : "a disc", inf);
}

/* Two neighbouring levels that are each short and together about one
 * vertebra tall are probably one vertebra cut by a dip taken for a disc
 * (a crushed lytic level beside them throws the disc period off: seeds 57
 * and 77 of a T12-L4 scan with a crushed L2 named three of five levels one
 * off, only two flagged). Both, and every level named by counting across
 * them, are flagged. A single collapsed vertebra beside a normal one is not
 * this (its pair adds up to 1.6 neighbours or more). */
#define SPLIT_SHORT 0.8 /* each of the pair under this share of the neighbours' height */
#define SPLIT_SUM 1.4   /* and together under this */
static void flag_split_levels(const seg_level *lv, int nlv, sp_seg_result *r)
{
    for (int k = 0; k + 1 < nlv; k++) {
        const seg_level *a = &lv[k], *b = &lv[k + 1];
        if (!typical(a) || !typical(b)) continue;
        double ref = neighbours_height(lv, nlv, k - 2, k + 3, k, k + 1);
        if (ref <= 0) continue;
        double la = a->s_hi - a->s_lo, lb = b->s_hi - b->s_lo;
        if (la >= SPLIT_SHORT * ref || lb >= SPLIT_SHORT * ref || la + lb >= SPLIT_SUM * ref) continue;
        flag_across(r, nlv, k, k + 1, "this segment and the next may be one vertebra",
                    "two segments on the way may be one vertebra");
        snprintf(r->flags + strlen(r->flags), sizeof r->flags - strlen(r->flags),
                 "two segments %.0f and %.0f mm tall (neighbours %.0f mm) may be one vertebra; ", la, lb, ref);
        k++;
    }
}

/* The first rib-bearing level below two rib-free ones is T1 (the rib cage's
 * top in a scan that shows the neck). -1 when none. */
static int first_rib(const seg_level *lv, int nlv)
{
    for (int k = nlv - 3; k >= 0; k--)
        if (lv[k].ribs && !lv[k + 1].ribs && !lv[k + 2].ribs) return k;
    return -1;
}

/* The lowest rib pair split across two levels. A rib is counted for the
 * level that holds its point nearest the axis, where it enters the 45 mm
 * cylinder (detect_ribs): lateral to the head, and lower, since a lower rib
 * descends from its head. Where that point lies near a disc, one rib of a
 * pair can fall to the level below (held-out lytic T8, seed 3: T12's left rib
 * counted for L1, its right for T12, so L1 was named T12 and every name one
 * off). So when last rib-bearing level T bears a rib on one side only and the
 * other side's lowest rib is on the level above, that level is T12: the
 * pair's heads are there. A unilateral rudimentary rib on L1 is read the same
 * way, which also is the count from the sacrum. */
static int split_pair_top(const seg_level *lv, int nlv, int T)
{
    if (T < 0 || T + 1 >= nlv || lv[T].ribs != 1) return T;
    int other = 3 & ~lv[T].rib_sides;
    if ((lv[T + 1].rib_sides & other) && !(lv[T + 1].rib_sides & lv[T].rib_sides)) return T + 1;
    return T;
}

static void add_flag(sp_seg_result *r, const char *f)
{
    snprintf(r->flags + strlen(r->flags), sizeof r->flags - strlen(r->flags), "%s", f);
}

/* Names from C2 (level C; the levels above it are the atlas ring, C1) where
 * neither the sacrum nor the last rib is in view (a neck or cervico-thoracic
 * scan). With the first rib-bearing level F as well: five levels between
 * them (C3-C7) is agreement; any other count (a cervical rib, an eleventh
 * pair's absence does not matter here, a disc missed or invented) flags every
 * name, the first rib's count given as the alternative. Alone: counted down;
 * the cervical count is seven in nearly everyone, so C3-C7 are as safe as
 * L1-L5 from the sacrum, and levels beyond are flagged. */
static void name_from_c2(seg_level *lv, int nlv, int C, int F, sp_seg_result *r)
{
    count_from(lv, nlv, C, 2);
    if (F >= 0 && C - F - 1 == 5) {
        for (int k = 0; k < nlv; k++) set(&r->vert[k], 0.95, false, "C2 (dens) and first rib (T1) agree", "");
        return;
    }
    if (F >= 0) {
        seg_level tmp[SP_SEG_MAX_VERT];
        memcpy(tmp, lv, (size_t)nlv * sizeof *lv);
        count_from(tmp, nlv, F, 8);
        for (int k = 0; k < nlv; k++) {
            char alt[64], nb[8];
            if (tmp[k].label != lv[k].label)
                snprintf(alt, sizeof alt, "%s counted from the first rib (T1)", sp_seg_level_name(tmp[k].label, nb));
            else
                snprintf(alt, sizeof alt, "same either way");
            set(&r->vert[k], 0.5, true, "C2 (dens) and first rib (T1) disagree: named from C2 (dens)", alt);
        }
        char f[160];
        snprintf(f, sizeof f, "C2 and the first rib disagree: %d vertebrae between them (5 expected: a cervical rib, or a disc missed or invented); ",
                 C - F - 1);
        add_flag(r, f);
        return;
    }
    for (int k = 0; k < nlv; k++) {
        int d = C - k;
        set(&r->vert[k], d <= 5 ? 0.85 : fmax(0.3, 0.85 - 0.08 * (d - 5)), d > 5, "counted down from C2 (dens)",
            d > 5 ? "+/-1 level" : "");
    }
    add_flag(r, "single anchor (C2); ");
}

/* With the sacrum or the last rib also in view, their names stand (the rules
 * below); C2 confirms them or, when their count does not put C2 there,
 * every name is flagged with the count from C2 as the alternative. */
static void check_c2(const seg_level *lv, int nlv, int C, sp_seg_result *r)
{
    if (lv[C].label == 2) return;
    seg_level tmp[SP_SEG_MAX_VERT];
    memcpy(tmp, lv, (size_t)nlv * sizeof *lv);
    count_from(tmp, nlv, C, 2);
    for (int k = 0; k < nlv; k++) {
        char nb[8];
        r->vert[k].uncertain = true;
        r->vert[k].confidence = fmin(r->vert[k].confidence, 0.5);
        snprintf(r->vert[k].alternatives, sizeof r->vert[k].alternatives, "%s counted from C2 (dens)",
                 sp_seg_level_name(tmp[k].label, nb));
    }
    add_flag(r, "C2 (dens) disagrees with the count from below; ");
}

void seg_name_levels(seg_level *lv, int nlv, sp_seg_result *r)
{
    int S = (nlv > 0 && lv[0].sacrum) ? 0 : -1, T = -1, C = -1, F;
    for (int k = 0; k < nlv; k++)
        if (lv[k].axis) C = k;
    /* Last rib-bearing level above two rib-free ones (levels next to the sacrum not tested). */
    for (int k = nlv - 1; k >= 2; k--) {
        if (!lv[k].ribs) continue;
        if (k - 2 >= 0 && !lv[k - 1].ribs && !lv[k - 2].ribs) {
            T = k;
            break;
        }
    }
    T = split_pair_top(lv, nlv, T);
    if (T >= 0 && S >= 0 && T - S - 1 < 2) T = -1;
    /* the first rib counts only where the neck is in view: the sacrum and
     * last rib rules below are left exactly as they were */
    F = S < 0 && T < 0 ? first_rib(lv, nlv) : -1;
    if (F >= 0 && C >= 0 && F >= C) F = -1;
    char a[256] = "";
    if (C >= 0) snprintf(a + strlen(a), sizeof a - strlen(a), "C2 (dens) found; ");
    if (S >= 0) snprintf(a + strlen(a), sizeof a - strlen(a), "sacrum found; ");
    if (T >= 0) snprintf(a + strlen(a), sizeof a - strlen(a), "last rib-bearing vertebra found; ");
    if (F >= 0) snprintf(a + strlen(a), sizeof a - strlen(a), "first rib-bearing vertebra found; ");
    if (S < 0 && T < 0 && C < 0 && F < 0) snprintf(a, sizeof a, "no anatomical anchor in view; ");
    snprintf(r->anchors, sizeof r->anchors, "%s", a);
    r->flags[0] = '\0';
    if (C >= 0 && S < 0 && T < 0) {
        name_from_c2(lv, nlv, C, F, r);
    } else if (F >= 0) {
        count_from(lv, nlv, F, 8);
        /* Counted up into the neck, beyond C7, the names are flagged: small
         * cervical discs can be missed (a cervico-thoracic phantom cut 3 mm
         * above C1, no C2 found: C2 and C3 made one level, and C3-C5 were
         * named one too low without a flag). */
        for (int k = 0; k < nlv; k++) {
            int d = abs(k - F);
            bool unc = d > 4 || k > F + 1;
            set(&r->vert[k], fmax(0.3, 0.85 - 0.05 * d) * (k > F + 1 ? 0.7 : 1.0), unc,
                "counted from the first rib-bearing vertebra (T1)", unc ? "+/-1 level" : "");
        }
        add_flag(r, "single anchor (first rib); ");
    } else if (S >= 0 && T >= 0) {
        int between = T - S - 1;
        count_from(lv, nlv, T, 19);
        if (S >= 0) lv[S].label = 26;
        if (between == 5) {
            for (int k = 0; k < nlv; k++) set(&r->vert[k], 0.95, false, "sacrum and last rib (T12) agree", "");
        } else {
            /* Transitional: the ribs name the levels; each level also gets the
             * name it would have counted up from the sacrum, and why they differ. */
            const char *why = between == 6 ? "six lumbar-type vertebrae: L6, or a rib-free T12 (11 rib pairs)"
                              : between == 4 ? "four lumbar-type vertebrae: sacralised L5, or 13 rib-bearing thoracic"
                                             : "atypical count between the last rib and the sacrum";
            /* Primary: the count that leaves no level without a name (from the
             * sacrum when there are more lumbar-type levels than L1-L5, from the
             * ribs when there are fewer); the other count is the alternative. */
            int alt[SP_SEG_MAX_VERT];
            seg_level tmp[SP_SEG_MAX_VERT];
            memcpy(tmp, lv, (size_t)nlv * sizeof *lv);
            count_from(tmp, nlv, S, 26);
            if (between > 5) {
                for (int k = 0; k < nlv; k++) alt[k] = lv[k].label, lv[k].label = tmp[k].label;
            } else {
                for (int k = 0; k < nlv; k++) alt[k] = tmp[k].label;
            }
            for (int k = 0; k < nlv; k++) {
                char altname[64], nb[8];
                if (alt[k] != lv[k].label)
                    snprintf(altname, sizeof altname, "%s counted from the %s", sp_seg_level_name(alt[k], nb),
                             between > 5 ? "last rib (T12)" : "sacrum");
                else
                    snprintf(altname, sizeof altname, "same either way");
                set(&r->vert[k], 0.5, true, why, altname);
            }
            snprintf(r->flags + strlen(r->flags), sizeof r->flags - strlen(r->flags),
                     "transitional anatomy: %d vertebrae between last rib and sacrum (5 expected); ", between);
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
        /* No anchor: a guess, every name flagged. Rib-bearing levels are
         * thoracic: a rib-free level above the rib cage in view makes the
         * first rib-bearing one T1, one below it the last T12 (one rib-free
         * level is too few for an anchor: a cervical or lumbar rib, a short
         * first or twelfth rib missed, would move every name), ribs on
         * every level put the lowest at T12. Without ribs: from where a
         * column of this many levels usually ends, L5. (A C7-T5 scan was
         * named T12-L5, its rib-bearing levels lumbar.) */
        int top = -1, bot = -1;
        for (int k = 0; k < nlv; k++)
            if (lv[k].ribs) top = k, bot = bot < 0 ? k : bot;
        const char *why = "none: names are a guess from the order only", *alt = "any level";
        if (top >= 0 && top + 1 < nlv) {
            count_from(lv, nlv, top, 8);
            why = "none: the first rib-bearing level below one rib-free level taken for T1 (a guess)";
            alt = "+/-1 level or more";
        } else if (bot > 0) {
            count_from(lv, nlv, bot, 19);
            why = "none: the last rib-bearing level above one rib-free level taken for T12 (a guess)";
            alt = "+/-1 level or more";
        } else if (top >= 0) {
            count_from(lv, nlv, 0, 19);
            why = "none: ribs on every level, thoracic; names a guess from the order only";
            alt = "any thoracic level";
        } else {
            count_from(lv, nlv, 0, 24);
        }
        for (int k = 0; k < nlv; k++) set(&r->vert[k], 0.2, true, why, alt);
        snprintf(r->flags + strlen(r->flags), sizeof r->flags - strlen(r->flags), "no anchor: names uncertain; ");
    }
    if (C >= 0 && (S >= 0 || T >= 0)) check_c2(lv, nlv, C, r);
    /* C1: the ring above C2. More than one level there (the dens or the ring
     * cut by a disc the profile invented): all are C1, flagged. */
    for (int k = C + 1; C >= 0 && k < nlv; k++) {
        snprintf(r->vert[k].anchor, sizeof r->vert[k].anchor, "the atlas ring above C2 (dens)");
        if (C + 2 < nlv) {
            r->vert[k].uncertain = true;
            r->vert[k].confidence = fmin(r->vert[k].confidence, 0.5);
            snprintf(r->vert[k].alternatives, sizeof r->vert[k].alternatives, "one of %d pieces above C2", nlv - 1 - C);
        }
    }
    for (int k = 0; k < nlv; k++) {
        if (lv[k].label < 1) lv[k].label = 1;
        r->vert[k].label = lv[k].label;
        r->vert[k].ribs = lv[k].ribs;
        sp_seg_level_name(lv[k].label, r->vert[k].name);
    }
    flag_tall_levels(lv, nlv, r);
    flag_split_levels(lv, nlv, r);
}
