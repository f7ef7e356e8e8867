/* test_wbb.c - WBB zone convention (viewed from above, posterior at top,
 * zone 1 at the posterior midline, clockwise, zones 1-6 on the patient's
 * left), zone boundaries, sides and layer letters. */
#include <criterion/criterion.h>
#include <math.h>

#include "score/sp_score.h"

TestSuite(wbb, .timeout = 10);

typedef struct { double deg; int zone; } zrow; /* deg: clockwise from posterior toward the patient's left */
static const zrow rows[] = {
    {0.5, 1},   {29.5, 1},  {30.5, 2},  {59.5, 2},  {60.5, 3},  {89.5, 3},  {90.5, 4},  {119.5, 4},
    {120.5, 5}, {149.5, 5}, {150.5, 6}, {179.5, 6}, {180.5, 7}, {209.5, 7}, {210.5, 8}, {239.5, 8},
    {240.5, 9}, {269.5, 9}, {270.5, 10}, {299.5, 10}, {300.5, 11}, {329.5, 11}, {330.5, 12}, {359.5, 12},
};

Test(wbb, zone_boundaries)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double a = rows[i].deg * M_PI / 180.0;
        double left = sin(a), post = cos(a);
        cr_expect_eq(sp_wbb_zone(left, post), rows[i].zone, "%.1f deg", rows[i].deg);
    }
}

Test(wbb, anatomical_directions)
{
    /* posterior-left is zones 1-3, pure left at the 3/4 boundary, anterior at the 6/7 boundary */
    cr_expect_eq(sp_wbb_zone(1, 1), 2);    /* 45 deg: posterior-left */
    cr_expect_eq(sp_wbb_zone(1, -1), 5);   /* 135 deg: anterior-left (body) */
    cr_expect_eq(sp_wbb_zone(-1, -1), 8);  /* anterior-right (body) */
    cr_expect_eq(sp_wbb_zone(-1, 1), 11);  /* posterior-right */
    cr_expect_eq(sp_wbb_zone(0.01, -1), 6); /* just left of the anterior midline */
    cr_expect_eq(sp_wbb_zone(-0.01, -1), 7);
}

Test(wbb, sides_and_layers)
{
    for (int z = 1; z <= 6; z++) cr_expect_str_eq(sp_wbb_zone_side(z), "left");
    for (int z = 7; z <= 12; z++) cr_expect_str_eq(sp_wbb_zone_side(z), "right");
    const char want[] = "ABCDE";
    for (int l = 0; l < 5; l++) cr_expect_eq(sp_wbb_layer_letter(l), want[l]);
    cr_expect_eq(sp_wbb_layer_letter(5), '?');
}
