/* wbb.c - Weinstein-Boriani-Biagini zones and layers (pure rules).
 *
 * Project convention (clinical-reference.md): the axial section is viewed
 * from above, posterior at the top, centred on the spinal canal; zone 1
 * starts at the posterior midline and the zones run clockwise, so zones 1-6
 * are on the patient's left and 7-12 on the right. The clockwise angle from
 * the posterior direction is therefore atan2(left, posterior). */
#include <math.h>

#include "sp_score.h"

int sp_wbb_zone(double left, double post)
{
    double a = atan2(left, post) * 180.0 / M_PI; /* 0 posterior, 90 left, 180 anterior, -90 right */
    if (a < 0) a += 360.0;
    int z = (int)floor(a / 30.0) + 1;
    return z > 12 ? 12 : z < 1 ? 1 : z;
}

const char *sp_wbb_zone_side(int zone) { return zone >= 1 && zone <= 6 ? "left" : "right"; }

char sp_wbb_layer_letter(int layer) { return layer >= 0 && layer < 5 ? (char)('A' + layer) : '?'; }
