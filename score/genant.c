/* genant.c - Genant semi-quantitative grade and shape of a vertebral body
 * from its three heights (pure rules, no I/O, no threads).
 *
 * Grade: 0 < 20 %, 1 20-25 %, 2 > 25-40 %, 3 > 40 % height loss (the upper
 * bound of a band belongs to the band, as in the phantom's truth). Shape:
 * crush when the posterior height is the smallest or all three heights lie
 * within 10 % of expected of each other; else wedge (anterior smallest) or
 * biconcave (middle smallest). */
#include <math.h>

#include "sp_score.h"

int sp_genant_grade(double c)
{
    if (isnan(c)) return -1;
    return c < SP_GENANT_MILD_PCT ? 0 : c <= SP_GENANT_MODERATE_PCT ? 1 : c <= SP_GENANT_SEVERE_PCT ? 2 : 3;
}

const char *sp_genant_shape(int grade, double ant, double mid, double post, double expected)
{
    double mx = fmax(ant, fmax(mid, post)), mn = fmin(ant, fmin(mid, post));
    if (grade < 0) return "not assessed";
    if (grade == 0) return "normal";
    if (mx - mn < SP_GENANT_SHAPE_EVEN_PCT / 100.0 * expected || post == mn) return "crush";
    if (ant == mn) return "wedge";
    return "biconcave";
}
