/* test_sins.c - the SINS and Genant rule tables, row by row, at every
 * boundary (docs/scoring.md). Pure functions: no volumes. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "score/sp_score.h"

TestSuite(sins, .timeout = 10);

typedef struct { const char *level; int thoracic, lumbar, pts; const char *cls; } loc_row;
static const loc_row loc_rows[] = {
    {"C1", 12, 5, 3, "junctional"}, {"C2", 12, 5, 3, "junctional"},  {"C3", 12, 5, 2, "mobile"},
    {"C6", 12, 5, 2, "mobile"},     {"C7", 12, 5, 3, "junctional"},  {"T1", 12, 5, 3, "junctional"},
    {"T2", 12, 5, 3, "junctional"}, {"T3", 12, 5, 1, "semi-rigid"},  {"T10", 12, 5, 1, "semi-rigid"},
    {"T11", 12, 5, 3, "junctional"}, {"T12", 12, 5, 3, "junctional"}, {"L1", 12, 5, 3, "junctional"},
    {"L2", 12, 5, 2, "mobile"},     {"L4", 12, 5, 2, "mobile"},      {"L5", 12, 5, 3, "junctional"},
    {"L5", 12, 6, 2, "mobile"},     {"L6", 12, 6, 3, "junctional"},  {"L4", 12, 4, 3, "junctional"},
    {"T10", 11, 5, 3, "junctional"}, {"T13", 13, 5, 3, "junctional"}, {"T11", 13, 5, 3, "junctional"},
    {"S", 12, 5, 3, "junctional"},
};

Test(sins, location_table)
{
    for (size_t i = 0; i < sizeof loc_rows / sizeof loc_rows[0]; i++) {
        const loc_row *r = &loc_rows[i];
        const char *cls = NULL;
        int lab = sp_seg_level_number(r->level);
        cr_assert(lab > 0, "%s", r->level);
        int p = sp_sins_location(lab, r->thoracic, r->lumbar, &cls);
        cr_expect_eq(p, r->pts, "%s (T%d L%d): %d, want %d", r->level, r->thoracic, r->lumbar, p, r->pts);
        cr_expect_str_eq(cls, r->cls, "%s", r->level);
    }
}

typedef struct { double collapse, involved; int pts; } col_row;
static const col_row col_rows[] = {
    {0, 0, 0},    {9.99, 0, 0},  {9.99, 50, 0},  {9.99, 50.01, 1}, {0, 80, 1},  {10, 0, 2},   {10, 90, 2},
    {30, 0, 2},   {50, 0, 2},    {50.01, 0, 3},  {80, 10, 3},      {NAN, 80, -1}, {5, NAN, -1},
};

Test(sins, collapse_table)
{
    for (size_t i = 0; i < sizeof col_rows / sizeof col_rows[0]; i++)
        cr_expect_eq(sp_sins_collapse(col_rows[i].collapse, col_rows[i].involved), col_rows[i].pts,
                     "collapse %.2f involved %.2f", col_rows[i].collapse, col_rows[i].involved);
}

typedef struct { double tr, sag, cor, cobb, thr; int pts; } al_row;
static const al_row al_rows[] = {
    {0, 0, 0, 0, 0, 0},        {1.99, 4.99, 4.99, 9.99, 0, 0}, {2.0, 0, 0, 0, 0, 4},   {-2.0, 0, 0, 0, 0, 4},
    {6, 20, 20, 30, 0, 4},     {1.99, 5.0, 0, 0, 0, 2},        {1.99, -5.0, 0, 0, 0, 2}, {0, 0, 5.0, 0, 0, 2},
    {0, 0, -5.0, 0, 0, 2},     {0, 0, 0, 10.0, 0, 2},          {NAN, NAN, NAN, 0, 0, -1}, {NAN, 6, NAN, 0, 0, 2},
    /* a scan whose profile scatters asks for a larger sagittal deviation (never less than 5 deg) */
    {0, 7.99, 0, 0, 8.0, 0},   {0, -8.0, 0, 0, 8.0, 2},        {0, 5.0, 0, 0, 3.0, 2},  {0, 4.99, 0, 0, 3.0, 0},
    {0, 5.0, 0, 0, NAN, 2},    {0, 7.0, 5.0, 0, 8.0, 2},       {2.0, 1, 0, 0, 8.0, 4},
};

Test(sins, alignment_table)
{
    for (size_t i = 0; i < sizeof al_rows / sizeof al_rows[0]; i++) {
        const al_row *r = &al_rows[i];
        sp_sins_align_in in = {r->tr, r->sag, r->cor, r->cobb, r->thr};
        const char *why = NULL;
        cr_expect_eq(sp_sins_alignment(&in, &why), r->pts, "row %zu", i);
        cr_expect_not_null(why);
    }
}

Test(sins, lesion_pain_posterolateral_category)
{
    cr_expect_eq(sp_sins_bone_lesion(SP_CHAR_LYTIC), 2);
    cr_expect_eq(sp_sins_bone_lesion(SP_CHAR_MIXED), 1);
    cr_expect_eq(sp_sins_bone_lesion(SP_CHAR_BLASTIC), 0);
    cr_expect_eq(sp_sins_bone_lesion(SP_CHAR_NONE), -1);
    cr_expect_eq(sp_sins_pain(SP_PAIN_MECHANICAL), 3);
    cr_expect_eq(sp_sins_pain(SP_PAIN_OCCASIONAL), 1);
    cr_expect_eq(sp_sins_pain(SP_PAIN_NONE), 0);
    cr_expect_eq(sp_sins_pain(SP_PAIN_UNKNOWN), -1);
    cr_expect_eq(sp_sins_posterolateral(false, false), 0);
    cr_expect_eq(sp_sins_posterolateral(true, false), 1);
    cr_expect_eq(sp_sins_posterolateral(false, true), 1);
    cr_expect_eq(sp_sins_posterolateral(true, true), 3);
    static const int tot[] = {0, 6, 7, 12, 13, 18};
    static const sp_sins_category cat[] = {SP_SINS_STABLE, SP_SINS_STABLE, SP_SINS_INDETERMINATE,
                                           SP_SINS_INDETERMINATE, SP_SINS_UNSTABLE, SP_SINS_UNSTABLE};
    for (int i = 0; i < 6; i++) cr_expect_eq(sp_sins_category_of(tot[i]), cat[i], "total %d", tot[i]);
    sp_pain p;
    cr_expect(sp_sins_parse_pain("mechanical", &p) && p == SP_PAIN_MECHANICAL);
    cr_expect(sp_sins_parse_pain("occasional", &p) && p == SP_PAIN_OCCASIONAL);
    cr_expect(sp_sins_parse_pain("none", &p) && p == SP_PAIN_NONE);
    cr_expect(!sp_sins_parse_pain("severe", &p));
}

Test(sins, pain_option_parsing)
{
    sp_score_opts o;
    sp_err e = {0};
    sp_score_opts_init(&o);
    cr_expect_eq(sp_score_opts_set_pain(&o, "T12=mechanical", &e), SP_OK);
    cr_expect_eq(o.pain[19], SP_PAIN_MECHANICAL);
    cr_expect_eq(o.pain[20], SP_PAIN_UNKNOWN);
    cr_expect_eq(sp_score_opts_set_pain(&o, "X9=none", &e), SP_EINVAL);
    cr_expect(strstr(e.msg, "X9") != NULL, "%s", e.msg);
    cr_expect_eq(sp_score_opts_set_pain(&o, "L1=sometimes", &e), SP_EINVAL);
    cr_expect_eq(sp_score_opts_set_pain(&o, "L1", &e), SP_EINVAL);
}

typedef struct { double collapse; int grade; } gr_row;
static const gr_row gr_rows[] = {{0, 0}, {19.99, 0}, {20, 1}, {25, 1}, {25.01, 2}, {40, 2}, {40.01, 3}, {90, 3}, {NAN, -1}};

Test(sins, genant_grade_table)
{
    for (size_t i = 0; i < sizeof gr_rows / sizeof gr_rows[0]; i++)
        cr_expect_eq(sp_genant_grade(gr_rows[i].collapse), gr_rows[i].grade, "%.2f", gr_rows[i].collapse);
}

typedef struct { int grade; double a, m, p, e; const char *shape; } sh_row;
static const sh_row sh_rows[] = {
    {0, 20, 20, 20, 20, "normal"},   {1, 15, 19, 20, 20, "wedge"},     {2, 19, 14, 20, 20, "biconcave"},
    {2, 20, 19, 14, 20, "crush"},    {2, 14.5, 15, 15.5, 20, "crush"}, {3, 10, 17, 24, 25, "wedge"},
    {2, 13, 14, 15, 20, "wedge"},    {-1, 1, 1, 1, 1, "not assessed"},
};

Test(sins, genant_shape_table)
{
    for (size_t i = 0; i < sizeof sh_rows / sizeof sh_rows[0]; i++) {
        const sh_row *r = &sh_rows[i];
        cr_expect_str_eq(sp_genant_shape(r->grade, r->a, r->m, r->p, r->e), r->shape, "row %zu", i);
    }
}

/* The sclerotic-pedicle rule (posterolateral involvement at a blastic or
 * mixed level): excess over the neighbours' median share >= 0.20, own
 * voxels >= 0.5 x their median, at least two neighbours. */
typedef struct {
    double share, voxels, nb_share[4], nb_voxels[4];
    int n;
    bool involved;
    double excess; /* NAN: none */
} pd_row;
static const pd_row pd_rows[] = {
    {0.7501, 100, {0.55, 0.5, 0.45}, {100, 120, 80}, 3, true, 0.2501},  /* just over the excess */
    {0.6999, 100, {0.55, 0.5, 0.45}, {100, 120, 80}, 3, false, 0.1999}, /* just under */
    {0.90, 50, {0.5, 0.5}, {100, 100}, 2, true, 0.40},                  /* exactly half the voxels */
    {0.90, 49, {0.5, 0.5}, {100, 100}, 2, false, 0.40},                 /* a pedicle cut small */
    {0.76, 200, {0.4, 0.9, 0.5, 0.6}, {200, 10, 210, 190}, 4, true, 0.21}, /* medians of four */
    {0.95, 200, {0.5}, {200}, 1, false, NAN},                           /* one neighbour: no reference */
    {NAN, 200, {0.5, 0.5}, {200, 200}, 2, false, NAN},                  /* no share of its own */
    {0.30, 200, {0.5, 0.5}, {200, 200}, 2, false, -0.20},               /* less dense than the neighbours */
};

Test(sins, sclerotic_pedicle_rule_table)
{
    for (size_t i = 0; i < sizeof pd_rows / sizeof pd_rows[0]; i++) {
        const pd_row *r = &pd_rows[i];
        double ex = 0;
        cr_expect_eq(sp_pedicle_dense_rule(r->share, r->voxels, r->nb_share, r->nb_voxels, r->n, &ex), r->involved,
                     "row %zu", i);
        if (isnan(r->excess)) cr_expect(isnan(ex), "row %zu: excess %g", i, ex);
        else cr_expect(fabs(ex - r->excess) < 1e-9, "row %zu: excess %g for %g", i, ex, r->excess);
    }
}
