/* sins.c - the Spinal Instability Neoplastic Score (Fisher 2010) as pure
 * rule functions: location, pain, bone lesion, alignment, collapse,
 * posterolateral involvement, and the category of a total.
 *
 * DESIGN: no I/O, no threads, no measurement: each function maps already
 * measured values to points with the thresholds of sp_score.h, so the rules
 * are tested row by row (tests/test_sins.c) and quoted in docs/scoring.md.
 * The rules match the phantom's truth (docs/phantom.md) where they overlap. */
#include <math.h>
#include <string.h>

#include "sp_score.h"

int sp_sins_location(int label, int thoracic_count, int lumbar_count, const char **class_out)
{
    const char *cls = NULL;
    int pts = -1, last_lumbar = 19 + lumbar_count; /* L4 23, L5 24, L6 25 */
    bool thoracic = (label >= 8 && label <= 19) || label == 28;
    int t = label == 28 ? 13 : label - 7; /* thoracic index T1 = 1 */
    if (label == 26 || label == 1 || label == 2 || label == 7 || label == 8 || label == 9 || label == 28 ||
        label == 20 || (label >= 21 && label <= 25 && label == last_lumbar) ||
        (thoracic && (t >= thoracic_count - 1 || t >= 11)))
        pts = 3, cls = "junctional";
    else if ((label >= 3 && label <= 6) || (label >= 21 && label < last_lumbar))
        pts = 2, cls = "mobile";
    else if (thoracic && t >= 3)
        pts = 1, cls = "semi-rigid";
    if (class_out) *class_out = cls;
    return pts;
}

int sp_sins_pain(sp_pain p)
{
    switch (p) {
    case SP_PAIN_NONE: return 0;
    case SP_PAIN_OCCASIONAL: return 1;
    case SP_PAIN_MECHANICAL: return 3;
    default: return -1;
    }
}

bool sp_sins_parse_pain(const char *s, sp_pain *out)
{
    static const struct { const char *w; sp_pain p; } words[] = {
        {"mechanical", SP_PAIN_MECHANICAL}, {"3", SP_PAIN_MECHANICAL}, {"occasional", SP_PAIN_OCCASIONAL},
        {"1", SP_PAIN_OCCASIONAL},          {"none", SP_PAIN_NONE},    {"pain-free", SP_PAIN_NONE},
        {"0", SP_PAIN_NONE}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (!strcmp(s, words[i].w)) {
            *out = words[i].p;
            return true;
        }
    return false;
}

int sp_sins_bone_lesion(sp_lesion_char c)
{
    switch (c) {
    case SP_CHAR_LYTIC: return 2;
    case SP_CHAR_MIXED: return 1;
    case SP_CHAR_BLASTIC: return 0;
    default: return -1;
    }
}

int sp_sins_alignment(const sp_sins_align_in *in, const char **why)
{
    const char *w = "no translation >= 2 mm, no angle deviation >= 5 deg, not in a curve of Cobb >= 10 deg";
    int pts = 0;
    bool known = !isnan(in->translation_mm) || !isnan(in->sagittal_dev_deg) || !isnan(in->coronal_deg);
    if (!known) {
        if (why) *why = "no neighbouring level to measure alignment against";
        return -1;
    }
    if (!isnan(in->translation_mm) && fabs(in->translation_mm) >= SP_SINS_TRANSLATION_MM)
        pts = 4, w = "subluxation/translation >= 2 mm at an adjacent disc";
    else if (!isnan(in->sagittal_dev_deg) &&
             fabs(in->sagittal_dev_deg) >= (in->sagittal_thr_deg > SP_SINS_ANGLE_DEV_DEG ? in->sagittal_thr_deg
                                                                                            : SP_SINS_ANGLE_DEV_DEG))
        pts = 2, w = "de novo deformity: sagittal angle deviates from the expected profile by >= 5 deg and by more "
                     "than the scan's own profile scatters";
    else if (!isnan(in->coronal_deg) && fabs(in->coronal_deg) >= SP_SINS_ANGLE_DEV_DEG)
        pts = 2, w = "de novo deformity: coronal angle >= 5 deg at an adjacent disc";
    else if (in->cobb_deg >= SP_SINS_COBB_DEG)
        pts = 2, w = "de novo deformity: level inside a coronal curve of Cobb >= 10 deg";
    if (why) *why = w;
    return pts;
}

int sp_sins_collapse(double collapse_pct, double involved_pct)
{
    if (isnan(collapse_pct)) return -1;
    if (collapse_pct > SP_SINS_COLLAPSE_HIGH_PCT) return 3;
    if (collapse_pct >= SP_SINS_COLLAPSE_FLOOR_PCT) return 2;
    if (isnan(involved_pct)) return -1;
    return involved_pct > SP_SINS_INVOLVED_PCT ? 1 : 0;
}

int sp_sins_posterolateral(bool left, bool right)
{
    return left && right ? 3 : (left || right) ? 1 : 0;
}

sp_sins_category sp_sins_category_of(int total)
{
    return total >= 13 ? SP_SINS_UNSTABLE : total >= 7 ? SP_SINS_INDETERMINATE : SP_SINS_STABLE;
}

const char *sp_sins_category_name(sp_sins_category c)
{
    return c == SP_SINS_UNSTABLE ? "unstable" : c == SP_SINS_INDETERMINATE ? "indeterminate" : "stable";
}
