/* report_json.c - report.json: per vertebra the measured values, the SINS
 * and WBB fields, and the evidence of each value (measurement, threshold,
 * where); spine summary, thresholds, input description, timings.
 *
 * DESIGN: values that could not be measured are JSON null with a reason in
 * their evidence entry. Numbers are rounded to 0.01 so the file is stable;
 * the only run-dependent part is the "timings" object (the determinism test
 * compares reports without it). Schema: docs/scoring.md. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/sp_io.h"
#include "sp_score.h"
#include "sp_version.h"

static double r2(double x) { return round(x * 100.0) / 100.0; }

static void num(cJSON *o, const char *k, double x)
{
    if (isnan(x) || isinf(x)) cJSON_AddNullToObject(o, k);
    else cJSON_AddNumberToObject(o, k, r2(x));
}

/* v with fmt into buf (40 chars), or "not measured" for NaN: evidence text
 * never shows a sentinel or "nan" as a number. */
static const char *num_or(char buf[40], double v, const char *fmt)
{
    if (isnan(v)) snprintf(buf, 40, "not measured");
    else snprintf(buf, 40, fmt, v);
    return buf;
}

static void intor(cJSON *o, const char *k, int v)
{
    if (v < 0) cJSON_AddNullToObject(o, k);
    else cJSON_AddNumberToObject(o, k, v);
}

static const char *char_name(sp_lesion_char c)
{
    static const char *const n[] = {"none", "lytic", "blastic", "mixed", "not assessed"};
    return n[c];
}

/* One evidence entry: {measurement, threshold, where[, reason]}. */
static cJSON *ev(cJSON *parent, const char *key, const char *measurement, const char *threshold, const char *where,
                 double confidence)
{
    cJSON *e = cJSON_AddObjectToObject(parent, key);
    cJSON_AddStringToObject(e, "measurement", measurement);
    cJSON_AddStringToObject(e, "threshold", threshold);
    cJSON_AddStringToObject(e, "where", where);
    if (!isnan(confidence)) num(e, "confidence", confidence);
    return e;
}

static void heights_json(cJSON *o, cJSON *evd, const sp_score_vertebra *v, const char *where)
{
    const sp_score_heights *h = &v->h;
    char m[512], w[256];
    if (!h->ok) {
        cJSON_AddNullToObject(o, "heights_mm");
        cJSON_AddNullToObject(o, "collapse_pct");
        cJSON_AddNullToObject(o, "genant_grade");
        cJSON_AddNullToObject(o, "genant_shape");
        cJSON *e = ev(evd, "heights", "not measured", "-", where, NAN);
        cJSON_AddStringToObject(e, "reason", h->reason);
        return;
    }
    cJSON *hh = cJSON_AddObjectToObject(o, "heights_mm");
    num(hh, "anterior", h->anterior);
    num(hh, "middle", h->middle);
    num(hh, "posterior", h->posterior);
    num(o, "collapse_pct", h->collapse_pct);
    intor(o, "genant_grade", h->genant);
    cJSON_AddStringToObject(o, "genant_shape", h->shape);
    snprintf(w, sizeof w, "%s: lines anterior/middle/posterior, top and bottom points in LPS mm", where);
    cJSON *e;
    if (h->from_gap) {
        snprintf(m, sizeof m,
                 "room between the neighbours' endplates on each line less two discs (the mean of the neighbours' "
                 "other discs on that line); the body's own label reads %.1f / %.1f / %.1f mm: it misses tumour "
                 "that reaches the disc",
                 h->label_heights[0], h->label_heights[1], h->label_heights[2]);
        char t[160];
        snprintf(t, sizeof t, "at a lesion level, the room exceeds the label's height by >= %.0f mm on 2 of 3 lines",
                 SP_GAP_MISS_MM);
        e = ev(evd, "heights", m, t, w, 0.5);
    } else {
        snprintf(m, sizeof m,
                 "body extent along the refined body axis at 15/50/85 %% of the AP depth (%.1f mm, widest near the "
                 "endplates) in the mid-sagittal plane; endplate planes %.1f deg apart",
                 h->depth, h->endplate_angle_deg);
        e = ev(evd, "heights", m,
               "mask boundary at 0.5 (trilinear), each end moved to the HU profile's edge (level 70 % of the "
               "way from the disc to the endplate peak, 50 % for dense bone up to the endplate) when within 0.6 "
               "voxel outside or 1.1 voxels inside it and the voxels are <= 3.2 mm; on the middle line, where no "
               "edge moved it, end voxels that read as the disc beyond them (5 x 5 mm patch medians within 12 HU, "
               "under 110 HU, over a body >= 40 HU from the disc) are the disc in a sunken endplate's cup: taken "
               "back, up to 3 mm",
               w, 0.9);
    }
    cJSON *lines = cJSON_AddObjectToObject(e, "lines_lps");
    static const char *const nm[3] = {"anterior", "middle", "posterior"};
    for (int k = 0; k < 3; k++) {
        cJSON *l = cJSON_AddArrayToObject(lines, nm[k]);
        double a[3] = {r2(h->lines[k][0][0]), r2(h->lines[k][0][1]), r2(h->lines[k][0][2])};
        double b[3] = {r2(h->lines[k][1][0]), r2(h->lines[k][1][1]), r2(h->lines[k][1][2])};
        cJSON_AddItemToArray(l, cJSON_CreateDoubleArray(a, 3));
        cJSON_AddItemToArray(l, cJSON_CreateDoubleArray(b, 3));
    }
    snprintf(m, sizeof m, "1 - min(%.2f, %.2f, %.2f) / expected %.2f mm; expected = %s%s%s", h->anterior, h->middle,
             h->posterior, h->expected, h->expected_source, v->mask_plausible ? "" : "; body mask implausible: ",
             v->mask_plausible ? "" : v->mask_note);
    ev(evd, "collapse_pct", m, "SINS: >= 10 % collapse, > 50 % severe", where,
       v->mask_plausible && v->frame_source == 0 && !h->from_gap ? 0.8 : 0.5);
    snprintf(m, sizeof m, "collapse %.1f %%, smallest height %s", h->collapse_pct,
             h->anterior <= h->middle && h->anterior <= h->posterior ? "anterior"
             : h->middle <= h->posterior                              ? "middle"
                                                                      : "posterior");
    ev(evd, "genant", m,
       "grade 0 < 20 %, 1 20-25 %, 2 > 25-40 %, 3 > 40 %; shape crush if posterior smallest or all within 10 % of "
       "expected, wedge if anterior smallest, else biconcave",
       where, 0.8);
}

static void zones_json(cJSON *o, const sp_score_lesion *L)
{
    cJSON *z = cJSON_AddArrayToObject(o, "zones"), *zl = cJSON_AddArrayToObject(o, "zones_left"),
          *zr = cJSON_AddArrayToObject(o, "zones_right"), *ly = cJSON_AddArrayToObject(o, "layers");
    char words[160] = "";
    for (int k = 1; k <= 12; k++) {
        if (!(L->zones & (1u << (k - 1)))) continue;
        cJSON_AddItemToArray(z, cJSON_CreateNumber(k));
        cJSON_AddItemToArray(k <= 6 ? zl : zr, cJSON_CreateNumber(k));
    }
    for (int l = 0; l < 5; l++) {
        char s[2] = {sp_wbb_layer_letter(l), 0};
        if (L->layers & (1u << l)) cJSON_AddItemToArray(ly, cJSON_CreateString(s));
    }
    int nl = 0, nr = 0;
    for (int k = 1; k <= 12; k++)
        if (L->zones & (1u << (k - 1))) *(k <= 6 ? &nl : &nr) += 1;
    snprintf(words, sizeof words, "%s%s%s", nl ? "patient's left (zones 1-6 side)" : "", nl && nr ? " and " : "",
             nr ? "patient's right (zones 7-12 side)" : "");
    cJSON_AddStringToObject(o, "sides_in_words", nl || nr ? words : "none");
}

static cJSON *vertebra_json(const sp_score_result *r, int k, const sp_seg_result *seg)
{
    const sp_score_vertebra *v = &r->v[k];
    const sp_score_lesion *L = &v->les;
    const sp_score_sins *s = &v->sins;
    cJSON *o = cJSON_CreateObject(), *evd, *x, *e;
    char where[128], m[512], t[512];
    snprintf(where, sizeof where, "%s body centre LPS [%.1f, %.1f, %.1f] mm", v->name, v->centre[0], v->centre[1],
             v->centre[2]);
    cJSON_AddStringToObject(o, "level", v->name);
    cJSON_AddNumberToObject(o, "label", v->label);
    num(o, "level_confidence", v->level_confidence);
    cJSON_AddBoolToObject(o, "level_uncertain", v->uncertain);
    cJSON_AddBoolToObject(o, "partial", v->partial);
    evd = cJSON_CreateObject();
    snprintf(m, sizeof m, "%s", k < seg->nvert ? seg->vert[k].anchor : "");
    ev(evd, "level", *m ? m : "segmentation", "-", where, v->level_confidence);
    heights_json(o, evd, v, where);
    /* lesion */
    x = cJSON_AddObjectToObject(o, "lesion");
    cJSON_AddStringToObject(x, "character", char_name(L->character));
    bool les = L->character != SP_CHAR_NONE && L->character != SP_CHAR_NOT_ASSESSED;
    if (L->assessed) num(x, "body_involvement_pct", les ? L->body_involvement_pct : 0.0);
    else cJSON_AddNullToObject(x, "body_involvement_pct");
    cJSON_AddStringToObject(x, "posterolateral", !les ? "none" : L->side[0] && L->side[1] ? "bilateral"
                                                           : L->side[0] || L->side[1]       ? "unilateral"
                                                                                            : "none");
    cJSON *sides = cJSON_AddArrayToObject(x, "sides");
    if (les && L->side[0]) cJSON_AddItemToArray(sides, cJSON_CreateString("left"));
    if (les && L->side[1]) cJSON_AddItemToArray(sides, cJSON_CreateString("right"));
    cJSON *parts = cJSON_AddObjectToObject(x, "parts_pct");
    num(parts, "pedicle_left", les ? L->pedicle_pct[0] : 0), num(parts, "pedicle_right", les ? L->pedicle_pct[1] : 0);
    num(parts, "facet_left", les ? L->facet_pct[0] : 0), num(parts, "facet_right", les ? L->facet_pct[1] : 0);
    num(parts, "lamina_left", les ? L->lamina_pct[0] : 0), num(parts, "lamina_right", les ? L->lamina_pct[1] : 0);
    cJSON_AddNullToObject(parts, "costovertebral");
    cJSON_AddBoolToObject(x, "cortical_breach", les && L->cortical_breach);
    cJSON_AddNullToObject(x, "paravertebral"); /* not assessed: evidence.paravertebral says why */
    cJSON_AddBoolToObject(x, "epidural", les && L->epidural);
    if (les && L->epidural) cJSON_AddStringToObject(x, "bilsky_experimental", L->bilsky);
    else cJSON_AddNullToObject(x, "bilsky_experimental");
    num(x, "lytic_ml", L->lytic_ml), num(x, "blastic_ml", L->blastic_ml);
    if (!L->assessed) {
        e = ev(evd, "lesion", "not assessed", "-", where, NAN);
        cJSON_AddStringToObject(e, "reason", L->reason);
    } else {
        snprintf(m, sizeof m,
                 "lytic %.2f ml (median %.0f HU), blastic %.2f ml (median %.0f HU); patient reference %.0f HU "
                 "(sigma %.0f, %d levels)",
                 L->lytic_ml, isnan(L->lytic_hu) ? 0.0 : L->lytic_hu, L->blastic_ml,
                 isnan(L->blastic_hu) ? 0.0 : L->blastic_hu, r->ref_hu, r->ref_sigma, r->ref_levels);
        if (L->dense_parts[0]) {
            size_t len = strlen(m);
            snprintf(m + len, sizeof m - len, "; sclerotic against the neighbouring levels' same part: %s", L->dense_parts);
        }
        snprintf(t, sizeof t,
                 "lytic < %.0f HU, blastic > %.0f HU (reference - max(3.5 sigma, 60), + max(5 sigma, 250)); each "
                 "kind counts from %.2f ml; both = mixed; a posterior part whose median is > %.0f HU above the same "
                 "part's at up to two levels each side: its interior voxels above the blastic threshold are blastic",
                 r->lytic_thr, r->blastic_thr, SP_LESION_MIN_ML, SP_POSTERIOR_DENSE_HU);
        char w2[200];
        if (les)
            snprintf(w2, sizeof w2, "%s lesion centroid LPS [%.1f, %.1f, %.1f] mm", v->name, L->lesion_centre[0],
                     L->lesion_centre[1], L->lesion_centre[2]);
        else
            snprintf(w2, sizeof w2, "%s", where);
        ev(evd, "lesion_character", m, t, w2, les ? fmin(1.0, 0.5 + 0.5 * (L->lytic_ml + L->blastic_ml)) : 0.8);
        snprintf(m, sizeof m, "%.1f %% of the body's voxels are lesion", L->body_involvement_pct);
        ev(evd, "body_involvement_pct", m, "SINS collapse 1 point when no collapse and > 50 %", w2, 0.7);
        char pc[4][40]; /* a part with no voxels in the label has no share: say so, not -1 % */
        snprintf(m, sizeof m, "pedicle L %s R %s, facet region L %s R %s lesion",
                 num_or(pc[0], L->pedicle_pct[0], "%.0f %%"), num_or(pc[1], L->pedicle_pct[1], "%.0f %%"),
                 num_or(pc[2], L->facet_pct[0], "%.0f %%"), num_or(pc[3], L->facet_pct[1], "%.0f %%"));
        if (L->dense_pedicles[0]) {
            size_t len = strlen(m);
            snprintf(m + len, sizeof m - len, "; sclerotic pedicle against the neighbouring levels' same side: %s",
                     L->dense_pedicles);
        }
        snprintf(t, sizeof t,
                 "a side is involved when >= %.0f %% of its pedicle or facet region is lesion, or, at a blastic or "
                 "mixed level, when its pedicle's share of voxels above the blastic threshold exceeds the median of "
                 "the same side's at up to two levels each side by >= %.0f points (pedicle >= %.1f x their voxels; "
                 "that excess is its share); costovertebral joint not assessed (no rib labels)",
                 SP_POSTEROLATERAL_PCT, 100.0 * SP_PEDICLE_DENSE_EXCESS, SP_PEDICLE_DENSE_MIN_SIZE);
        ev(evd, "posterolateral", m, t, where, s->applicable ? s->confidence[5] : NAN);
        snprintf(m, sizeof m, "%.0f mm2 of lytic lesion on the vertebra's surface", L->breach_area_mm2);
        ev(evd, "cortical_breach", m, "lytic lesion voxels on the body/pedicle surface >= 0.05 ml", w2, 0.6);
        snprintf(m, sizeof m, "soft tissue %.2f ml beyond the mean of the nearest lesion-free neighbours, 1-15 mm outside the body",
                 L->paravertebral_ml);
        e = ev(evd, "paravertebral", m, "not called: soft-tissue tumour has the HU of muscle", where, NAN);
        cJSON_AddStringToObject(e, "reason", SP_PARAVERTEBRAL_REASON);
        snprintf(m, sizeof m,
                 "canal soft tissue (-30 to 150 HU) %.2f ml beyond the neighbours' (%.0f %% of the canal); Bilsky on CT "
                 "is experimental",
                 L->epidural_ml, L->canal_occupancy_pct);
        ev(evd, "epidural", m,
           "zone excess >= 0.05 ml, total >= 0.15 ml; experimental Bilsky by canal share < 10 1a, < 20 1b, < 35 1c, "
           "< 60 2, else 3",
           where, 0.4);
    }
    /* WBB */
    x = cJSON_AddObjectToObject(o, "wbb");
    zones_json(x, L);
    {
        cJSON *ext = cJSON_AddArrayToObject(x, "longitudinal_extent");
        if (les) {
            int a = k, b = k;
            while (a > 0 && r->v[a - 1].les.character != SP_CHAR_NONE &&
                   r->v[a - 1].les.character != SP_CHAR_NOT_ASSESSED)
                a--;
            while (b + 1 < r->nvert && r->v[b + 1].les.character != SP_CHAR_NONE &&
                   r->v[b + 1].les.character != SP_CHAR_NOT_ASSESSED)
                b++;
            for (int j = a; j <= b; j++) cJSON_AddItemToArray(ext, cJSON_CreateString(r->v[j].name));
        }
        char zm[256] = "";
        for (int z = 0; z < 12; z++)
            if (L->zone_ml[z] > 0)
                snprintf(zm + strlen(zm), sizeof zm - strlen(zm), "%s%d:%.2f", *zm ? " " : "", z + 1, L->zone_ml[z]);
        snprintf(m, sizeof m, "tumour ml per zone %s; layers A %.2f B %.2f C %.2f D %.2f ml", *zm ? zm : "none",
                 L->layer_ml[0], L->layer_ml[1], L->layer_ml[2], L->layer_ml[3]);
        char w3[200];
        snprintf(w3, sizeof w3, "%s axial plane of the body frame, centred on the canal at LPS [%.1f, %.1f, %.1f] mm",
                 v->name, v->canal_centre[0], v->canal_centre[1], v->canal_centre[2]);
        ev(evd, "wbb", m,
           "a zone or layer counts from 0.05 ml; viewed from above, posterior at top, zone 1 at the posterior midline, "
           "clockwise, zones 1-6 on the patient's left; B = intraosseous within 3 mm of the surface",
           w3, 0.6);
    }
    /* alignment */
    x = cJSON_AddObjectToObject(o, "alignment");
    bool a_ok = v->above.ok, b_ok = v->below.ok;
    if (a_ok && b_ok) {
        num(x, "kyphosis_deg", v->above.sagittal_deg + v->below.sagittal_deg);
        num(x, "scoliosis_deg", v->above.coronal_deg + v->below.coronal_deg);
    } else {
        cJSON_AddNullToObject(x, "kyphosis_deg");
        cJSON_AddNullToObject(x, "scoliosis_deg");
    }
    num(x, "translation_mm", v->translation_mm);
    num(x, "translation_measured_mm", v->translation_measured_mm);
    num(x, "cobb_deg", v->cobb_deg);
    for (int d = 0; d < 2; d++) {
        const sp_score_disc *dd = d ? &v->below : &v->above;
        const char *key = d ? "disc_below" : "disc_above";
        if (!dd->ok) {
            cJSON_AddNullToObject(x, key);
            continue;
        }
        cJSON *q = cJSON_AddObjectToObject(x, key);
        cJSON_AddStringToObject(q, "upper", d ? v->name : r->v[k - 1].name);
        cJSON_AddStringToObject(q, "lower", d ? r->v[k + 1].name : v->name);
        num(q, "sagittal_deg", dd->sagittal_deg);
        num(q, "expected_sagittal_deg", dd->expected_sagittal_deg);
        num(q, "expected_sagittal_tol_deg", dd->expected_tol_deg);
        num(q, "coronal_deg", dd->coronal_deg);
        num(q, "translation_ap_mm", dd->translation_ap_mm);
        num(q, "translation_lateral_mm", dd->translation_lat_mm);
        num(q, "translation_pct_depth",
            isnan(dd->depth_mm) ? NAN : 100.0 * fmax(fabs(dd->translation_ap_mm), fabs(dd->translation_lat_mm)) / dd->depth_mm);
        cJSON_AddBoolToObject(q, "translation_confirmed", dd->translation_confirmed);
        if (!dd->translation_confirmed) cJSON_AddStringToObject(q, "translation_note", dd->translation_note);
    }
    cJSON_AddBoolToObject(x, "subluxation", !isnan(v->translation_mm) && v->translation_mm >= SP_SINS_TRANSLATION_MM);
    cJSON_AddBoolToObject(x, "de_novo_deformity",
                          (!isnan(v->sagittal_dev_deg) && v->sagittal_dev_deg >= SP_SINS_ANGLE_DEV_DEG) ||
                              (!isnan(v->coronal_deg) && v->coronal_deg >= SP_SINS_ANGLE_DEV_DEG) ||
                              v->cobb_deg >= SP_SINS_COBB_DEG);
    static const char *const fsrc[4] = {"own endplates", "own superior endplate (axis off its neighbours')",
                                        "own inferior endplate (axis off its neighbours')",
                                        "neighbours' axes (own axis off theirs)"};
    char f[6][40];
    snprintf(m, sizeof m,
             "kyphosis = sum of the sagittal angles at the discs above and below (+ kyphosis); worst confirmed "
             "translation %s (measured %s); worst |sagittal - expected| beyond the expected angle's tolerance %s "
             "(counts from %.1f: the scan's profile scatters %s); worst |coronal| %s; Cobb %s; body axis from %s%s%s",
             num_or(f[0], v->translation_mm, "%.2f mm"), num_or(f[1], v->translation_measured_mm, "%.2f mm"),
             num_or(f[2], v->sagittal_dev_deg, "%.1f deg"), r->sagittal_thr_deg,
             num_or(f[3], r->sagittal_scatter_deg, "%.1f deg"), num_or(f[4], v->coronal_deg, "%.1f deg"),
             num_or(f[5], v->cobb_deg, "%.1f deg"), fsrc[v->frame_source & 3],
             v->mask_plausible ? "" : "; body mask implausible: ", v->mask_plausible ? "" : v->mask_note);
    if (!a_ok && !b_ok) /* no disc of this level measured */
        snprintf(m, sizeof m, "not measured (Cobb %.1f deg)", v->cobb_deg);
    cJSON *ea = ev(evd, "alignment", m,
                   "confirmed translation >= 2 mm (both masks plausible, not opposite at a level's two discs): "
                   "subluxation; |sagittal - expected| >= 5 deg or |coronal| >= 5 deg or Cobb >= 10 deg: de novo "
                   "deformity",
                   where, s->applicable ? s->confidence[3] : NAN);
    if (!a_ok && !b_ok) {
        char why[160];
        snprintf(why, sizeof why, "no disc of this level measured: %s",
                 v->label == 26           ? "the sacrum's frame is not used for angles (not reliable)"
                 : v->h.lines_left_body ? "its height lines leave the body, so its axes are not its body's"
                 : v->fragment          ? "a fragment at the end of the column, not a vertebra"
                 : v->partial           ? "the scan cuts it"
                                        : "no neighbour with a measurable frame");
        cJSON_AddStringToObject(ea, "reason", why);
    }
    /* SINS */
    x = cJSON_AddObjectToObject(o, "sins");
    cJSON_AddBoolToObject(x, "applicable", s->applicable);
    if (s->location_class) cJSON_AddStringToObject(x, "location_class", s->location_class);
    if (s->applicable) {
        intor(x, "location", s->location);
        intor(x, "pain", s->pain);
        intor(x, "bone_lesion", s->bone_lesion);
        intor(x, "alignment", s->alignment);
        intor(x, "collapse", s->collapse);
        intor(x, "posterolateral", s->posterolateral);
        cJSON_AddNumberToObject(x, "imaging_subtotal", s->imaging_subtotal);
        cJSON_AddNumberToObject(x, "total_min", s->total_min);
        cJSON_AddNumberToObject(x, "total_max", s->total_max);
        if (s->cat_min == s->cat_max) cJSON_AddStringToObject(x, "category", sp_sins_category_name(s->cat_min));
        else {
            snprintf(m, sizeof m, "%s to %s", sp_sins_category_name(s->cat_min), sp_sins_category_name(s->cat_max));
            cJSON_AddStringToObject(x, "category", m);
        }
        if (s->pain < 0)
            cJSON_AddStringToObject(x, "pain_reason",
                                    "pain is a clinician's input (--pain LEVEL=... or --clinical FILE); total shown as a range");
        cJSON *se = cJSON_AddObjectToObject(evd, "sins");
        snprintf(m, sizeof m, "level %s is %s", v->name, s->location_class ? s->location_class : "unknown");
        ev(se, "location", m,
           "junctional 3 (C1-C2, C7-T2, T11-L1, last two thoracic, last lumbar, S1), mobile 2 (C3-C6, L2 to "
           "second-last lumbar), semi-rigid 1 (T3-T10)",
           where, s->confidence[0]);
        ev(se, "pain", s->pain >= 0 ? "clinician's input" : "not given", "mechanical 3, occasional 1, none 0", "clinic",
           s->confidence[1]);
        snprintf(m, sizeof m, "character %s", char_name(L->character));
        ev(se, "bone_lesion", m, "lytic 2, mixed 1, blastic 0", where, s->confidence[2]);
        ev(se, "alignment", s->alignment_why ? s->alignment_why : "-",
           "translation >= 2 mm 4; de novo deformity 2; else 0", where, s->confidence[3]);
        snprintf(m, sizeof m, "collapse %.1f %%, body involvement %.1f %%", v->h.collapse_pct, L->body_involvement_pct);
        ev(se, "collapse", m, "> 50 % 3; >= 10 % 2; no collapse but > 50 % involved 1; else 0", where,
           s->confidence[4]);
        snprintf(m, sizeof m, "left %s, right %s", L->side[0] ? "involved" : "not involved",
                 L->side[1] ? "involved" : "not involved");
        ev(se, "posterolateral", m, "bilateral 3, unilateral 1, none 0", where, s->confidence[5]);
    }
    cJSON_AddItemToObject(o, "evidence", evd);
    return o;
}

char *sp_score_report_json(const sp_score_result *r, const sp_seg_result *seg, const sp_report_input *in)
{
    cJSON *root = cJSON_CreateObject(), *x;
    char buf[512];
    cJSON_AddStringToObject(root, "schema_version", SP_SCORE_SCHEMA_VERSION);
    cJSON_AddStringToObject(root, "software", "spinemet");
    cJSON_AddStringToObject(root, "software_version", SP_VERSION);
    cJSON_AddStringToObject(root, "disclaimer",
                            "Pre-filled values for clinical confirmation; not a medical device. Each value carries its "
                            "evidence; null values carry a reason.");
    x = cJSON_AddObjectToObject(root, "input");
    if (in) {
        cJSON_AddStringToObject(x, "path", in->path ? in->path : "");
        if (in->series) cJSON_AddStringToObject(x, "series", in->series);
        cJSON_AddStringToObject(x, "source", in->source ? in->source : "");
        cJSON_AddStringToObject(x, "modality", in->modality ? in->modality : "");
        cJSON_AddStringToObject(x, "description", in->description ? in->description : "");
        int sz[3] = {in->nx, in->ny, in->nz};
        cJSON_AddItemToObject(x, "size", cJSON_CreateIntArray(sz, 3));
        double sp[3] = {r2(in->spacing[0]), r2(in->spacing[1]), r2(in->spacing[2])};
        cJSON_AddItemToObject(x, "spacing_mm", cJSON_CreateDoubleArray(sp, 3));
        cJSON_AddStringToObject(x, "segmentation", in->labels ? "imported label map" : "spinemet");
        if (in->labels) {
            cJSON_AddStringToObject(x, "labels", in->labels);
            cJSON_AddStringToObject(x, "label_scheme", in->label_scheme ? in->label_scheme : "");
        }
        if (in->seg_flags) cJSON_AddStringToObject(x, "segmentation_flags", in->seg_flags);
    }
    x = cJSON_AddObjectToObject(root, "conventions");
    cJSON_AddStringToObject(x, "coordinates", "DICOM LPS mm: x patient left, y posterior, z superior");
    cJSON_AddStringToObject(x, "heights",
                            "body's mid-sagittal plane, along its refined axis, at 15/50/85 % of the AP depth from the "
                            "anterior surface");
    cJSON_AddStringToObject(x, "wbb",
                            "axial section viewed from above (cranial), posterior at the top, centred on the canal; zone "
                            "1 starts at the posterior midline, zones run clockwise, zones 1-6 on the patient's LEFT, "
                            "7-12 on the RIGHT; layers A paravertebral (not assessed: see evidence.paravertebral), B "
                            "intraosseous within 3 mm of the surface, C deeper, D epidural, E intradural (not assessed "
                            "on CT)");
    cJSON_AddStringToObject(x, "angles",
                            "sagittal + = kyphosis, coronal + = upper vertebra tilted to the patient's left; translation "
                            "of the upper body relative to the lower, + = anterior / left");
    x = cJSON_AddObjectToObject(root, "thresholds");
    num(x, "genant_mild_pct", SP_GENANT_MILD_PCT), num(x, "genant_moderate_pct", SP_GENANT_MODERATE_PCT);
    num(x, "genant_severe_pct", SP_GENANT_SEVERE_PCT), num(x, "genant_shape_even_pct", SP_GENANT_SHAPE_EVEN_PCT);
    num(x, "sins_collapse_floor_pct", SP_SINS_COLLAPSE_FLOOR_PCT), num(x, "sins_collapse_high_pct", SP_SINS_COLLAPSE_HIGH_PCT);
    num(x, "sins_body_involved_pct", SP_SINS_INVOLVED_PCT), num(x, "sins_translation_mm", SP_SINS_TRANSLATION_MM);
    num(x, "sins_angle_deviation_deg", SP_SINS_ANGLE_DEV_DEG), num(x, "sins_cobb_deg", SP_SINS_COBB_DEG);
    num(x, "posterolateral_pct", SP_POSTEROLATERAL_PCT), num(x, "wbb_min_ml", SP_WBB_MIN_ML);
    num(x, "pedicle_dense_excess", SP_PEDICLE_DENSE_EXCESS), num(x, "pedicle_dense_min_size", SP_PEDICLE_DENSE_MIN_SIZE);
    num(x, "wbb_superficial_mm", SP_WBB_SUPERFICIAL_MM), num(x, "lesion_min_ml", SP_LESION_MIN_ML);
    num(x, "frame_neighbour_deg", SP_FRAME_NEIGHBOUR_DEG), num(x, "mask_size_lo", SP_MASK_SIZE_LO);
    num(x, "gap_miss_mm", SP_GAP_MISS_MM), num(x, "edge_tilt_deg", SP_EDGE_TILT_DEG);
    num(x, "tall_min_mm", SP_TALL_MIN_MM), num(x, "odd_line_frac", SP_ODD_LINE_FRAC);
    num(x, "odd_agree_frac", SP_ODD_AGREE_FRAC), num(x, "wall_long_frac", SP_WALL_LONG_FRAC);
    num(x, "wedge_endplate_deg", SP_WEDGE_ENDPLATE_DEG);
    num(x, "sagittal_scatter_deg", r->sagittal_scatter_deg), num(x, "sins_sagittal_deviation_deg", r->sagittal_thr_deg);
    num(x, "mask_size_hi", SP_MASK_SIZE_HI), num(x, "mask_voxels_hi", SP_MASK_VOXELS_HI);
    num(x, "reference_trabecular_hu", r->ref_hu), num(x, "reference_sigma_hu", r->ref_sigma);
    cJSON_AddNumberToObject(x, "reference_levels", r->ref_levels);
    num(x, "lytic_below_hu", r->lytic_thr), num(x, "blastic_above_hu", r->blastic_thr);
    x = cJSON_AddObjectToObject(root, "spine");
    cJSON_AddNumberToObject(x, "levels", r->nvert);
    cJSON_AddNumberToObject(x, "levels_with_lesion", r->n_lesion_levels);
    cJSON *ll = cJSON_AddArrayToObject(x, "lesion_levels");
    for (int k = 0; k < r->nvert; k++)
        if (r->v[k].sins.applicable) cJSON_AddItemToArray(ll, cJSON_CreateString(r->v[k].name));
    if (r->worst >= 0) {
        const sp_score_vertebra *w = &r->v[r->worst];
        cJSON_AddStringToObject(x, "most_unstable_level", w->name);
        cJSON_AddNumberToObject(x, "most_unstable_total_min", w->sins.total_min);
        cJSON_AddNumberToObject(x, "most_unstable_total_max", w->sins.total_max);
    } else {
        cJSON_AddNullToObject(x, "most_unstable_level");
    }
    num(x, "coronal_cobb_deg", r->cobb_deg);
    if (r->cobb_upper >= 0 && r->cobb_deg >= SP_SINS_COBB_DEG) {
        snprintf(buf, sizeof buf, "%s-%s", r->v[r->cobb_upper].name, r->v[r->cobb_lower].name);
        cJSON_AddStringToObject(x, "coronal_curve", buf);
    }
    cJSON *arr = cJSON_AddArrayToObject(root, "vertebrae");
    for (int k = 0; k < r->nvert; k++) cJSON_AddItemToArray(arr, vertebra_json(r, k, seg));
    x = cJSON_AddObjectToObject(root, "timings");
    if (in) {
        num(x, "load_s", in->seconds_load), num(x, "segment_s", in->seconds_segment);
        num(x, "report_s", in->seconds_report);
    }
    num(x, "measure_s", r->seconds_measure), num(x, "score_s", r->seconds_score);
    char *txt = cJSON_Print(root);
    cJSON_Delete(root);
    return txt;
}

sp_status sp_score_write_report(const sp_score_result *r, const sp_seg_result *seg, const sp_report_input *in,
                                const char *path, sp_err *err)
{
    char *txt = sp_score_report_json(r, seg, in);
    if (!txt) return sp_fail(err, SP_ENOMEM, "out of memory writing %s", path);
    sp_status st = sp_io_write_text(path, txt, err);
    free(txt);
    return st;
}
