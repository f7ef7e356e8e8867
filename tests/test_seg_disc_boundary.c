/* test_seg_disc_boundary.c - segment/disc_boundary.c on hand-made label maps:
 * a body corner one level's label took across the disc goes back to the
 * body it belongs to; endplates that are merely concave or collapsed, and
 * shifts too large to be a corner, are left alone. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SP_SEGMENT_INTERNAL
#include "segment/internal.h"
#include "segment/sp_segment.h"

TestSuite(seg_disc_boundary, .timeout = 60);

#define N 28

typedef struct grid {
    seg_canon c;
    uint8_t lab[N * N * N], parts[N * N * N];
} grid;

static size_t at(int x, int y, int z) { return ((size_t)z * N + y) * N + x; }

/* Two bodies 20 x 20 voxels across: level 1 (caudal) fills z 2..11 and
 * level 2 z 15..24, the disc between them z 12..14. */
static void two_bodies(grid *g, double slice_mm)
{
    memset(g, 0, sizeof *g);
    for (int a = 0; a < 3; a++) g->c.n[a] = N, g->c.spacing[a] = 1.0;
    g->c.spacing[2] = slice_mm;
    for (int z = 2; z <= 24; z++)
        for (int y = 2; y <= 21; y++)
            for (int x = 2; x <= 21; x++) {
                if (z >= 12 && z <= 14) continue;
                g->lab[at(x, y, z)] = z < 12 ? 1 : 2;
                g->parts[at(x, y, z)] = SP_SEG_PART_BODY;
            }
}

/* Columns x0..x1 (all y) hold label l from z0 to z1 and nothing else of the
 * two bodies between zc0 and zc1. */
static void column_run(grid *g, int x0, int x1, int zc0, int zc1, int z0, int z1, int l)
{
    for (int x = x0; x <= x1; x++)
        for (int y = 2; y <= 21; y++)
            for (int z = zc0; z <= zc1; z++) {
                bool in = z >= z0 && z <= z1;
                g->lab[at(x, y, z)] = in ? (uint8_t)l : 0;
                g->parts[at(x, y, z)] = in ? SP_SEG_PART_BODY : 0;
            }
}

static sp_status fix(grid *g)
{
    seg_box b[2] = {{{2, 2, 2}, {21, 21, 11}}, {{2, 2, 15}, {21, 21, 24}}};
    return seg_fix_disc_boundaries(&g->c, g->lab, g->parts, 2, b);
}

typedef struct boundary_case {
    const char *what;
    double slice_mm;
    int x0, x1;          /* the columns changed */
    int lower_top;       /* level 1's top in them */
    int upper_bottom;    /* level 2's bottom in them */
    int probe_z;         /* a voxel of those columns ... */
    int want;            /* ... and its label afterwards */
} boundary_case;

Test(seg_disc_boundary, a_corner_taken_across_the_disc_goes_back_and_anatomy_stays)
{
    const boundary_case cases[] = {
        /* level 2 runs 5 slices down level 1's wall, level 1's top pushed down there:
         * planes at 15 and 11, mid-plane 13; its voxels below 13 go to level 1 */
        {"upper level took the lower's corner", 1.0, 2, 4, 9, 10, 12, 1},
        {"upper level took the lower's corner (its voxel above the mid-plane)", 1.0, 2, 4, 9, 10, 13, 2},
        {"lower level took the upper's corner", 1.0, 19, 21, 17, 18, 16, 2},
        {"lower level took the upper's corner (its voxel below the mid-plane)", 1.0, 19, 21, 17, 18, 13, 1},
        /* the lower body has no voxel left in the column: level 2 reaches below
         * level 1's plane (11) next to a column level 1 holds */
        {"upper level took the lower's whole wall column", 1.0, 2, 2, 1, 8, 10, 1},
        {"the outer of two such columns lies beside no lower column", 1.0, 2, 3, 1, 8, 10, 2},
        {"lower level took the upper's whole wall column", 1.0, 21, 21, 17, 25, 16, 2},
        /* both ends move toward each other at a concave rim, apart at a cup */
        {"concave rims: the two ends approach", 1.0, 2, 4, 12, 13, 13, 2},
        {"upper endplate collapsed: only its end moves", 1.0, 2, 4, 11, 19, 11, 1},
        {"lower endplate collapsed: only its end moves", 1.0, 2, 4, 7, 15, 7, 1},
        /* the same shift over 45 % of the columns: the planes are not the endplates */
        {"a shift over half the body", 1.0, 2, 10, 9, 10, 12, 2},
        /* a corner 10 slices deep: more than a tenth of the upper body */
        {"a corner over a tenth of the body", 1.0, 2, 4, 2, 3, 10, 2},
        {"5 mm slices", 5.0, 2, 4, 9, 10, 12, 2},
    };
    grid *g = malloc(sizeof *g);
    cr_assert_not_null(g);
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        const boundary_case *k = &cases[t];
        two_bodies(g, k->slice_mm);
        /* columns x0..x1: level 1 up to lower_top, level 2 from upper_bottom */
        column_run(g, k->x0, k->x1, 2, 24, 2, k->lower_top, 1);
        for (int x = k->x0; x <= k->x1; x++)
            for (int y = 2; y <= 21; y++)
                for (int z = k->upper_bottom; z <= 24; z++)
                    g->lab[at(x, y, z)] = 2, g->parts[at(x, y, z)] = SP_SEG_PART_BODY;
        cr_assert_eq(fix(g), SP_OK, "%s", k->what);
        int x = (k->x0 + k->x1) / 2;
        cr_expect_eq(g->lab[at(x, 10, k->probe_z)], k->want, "%s: label %d at z %d, want %d", k->what,
                     g->lab[at(x, 10, k->probe_z)], k->probe_z, k->want);
        cr_expect_eq(g->lab[at(12, 10, 5)], 1, "%s: level 1's middle moved", k->what);
        cr_expect_eq(g->lab[at(12, 10, 20)], 2, "%s: level 2's middle moved", k->what);
        cr_expect_eq(g->lab[at(12, 10, 13)], 0, "%s: the disc was labelled", k->what);
    }
    free(g);
}
