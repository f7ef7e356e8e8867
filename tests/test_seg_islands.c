/* test_seg_islands.c - segment/islands.c on hand-made label maps: a detached
 * body piece of one level that lies against one other level only becomes
 * that level's; every other piece stays where it is. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SP_SEGMENT_INTERNAL
#include "segment/internal.h"
#include "segment/sp_segment.h"

TestSuite(seg_islands, .timeout = 60);

#define N 24

typedef struct grid {
    seg_canon c;
    uint8_t lab[N * N * N], parts[N * N * N];
} grid;

static void grid_init(grid *g)
{
    memset(g, 0, sizeof *g);
    for (int a = 0; a < 3; a++) g->c.n[a] = N, g->c.spacing[a] = 1.0; /* 1 mm voxels: 0.1 ml = 100 voxels */
}

/* Fills the box [lo, hi] (inclusive) with label l and part p. */
static void block(grid *g, const int lo[3], const int hi[3], int l, int p)
{
    for (int z = lo[2]; z <= hi[2]; z++)
        for (int y = lo[1]; y <= hi[1]; y++)
            for (int x = lo[0]; x <= hi[0]; x++) {
                size_t i = ((size_t)z * N + y) * N + x;
                g->lab[i] = (uint8_t)l, g->parts[i] = (uint8_t)p;
            }
}

static int label_at(const grid *g, int x, int y, int z) { return g->lab[((size_t)z * N + y) * N + x]; }

/* seg_give_islands on levels 1..nlv, each bounded by the whole grid. */
static sp_status give_islands(grid *g, int nlv)
{
    seg_box b[4];
    for (int k = 0; k < nlv; k++) b[k] = (seg_box){{0, 0, 0}, {N - 1, N - 1, N - 1}};
    return seg_give_islands(&g->c, g->lab, g->parts, nlv, b);
}

typedef struct island_case {
    const char *what;
    int part;        /* the piece's part */
    int edge;        /* edge of the cubic piece in voxels */
    bool third;      /* a level 3 block touches the piece too */
    bool apart;      /* the piece touches no other label */
    int want;        /* the piece's label afterwards */
} island_case;

Test(seg_islands, a_detached_body_piece_goes_to_the_one_level_it_lies_against)
{
    const island_case cases[] = {
        {"body piece of 0.125 ml against level 2 only", SP_SEG_PART_BODY, 5, false, false, 2},
        {"posterior piece (an arch cut off by a destroyed pedicle)", SP_SEG_PART_POSTERIOR_L, 5, false, false, 1},
        {"body piece of 0.064 ml, under 0.1 ml", SP_SEG_PART_BODY, 4, false, false, 1},
        {"body piece against levels 2 and 3", SP_SEG_PART_BODY, 5, true, false, 1},
        {"body piece against nothing (a body split by a lytic cleft)", SP_SEG_PART_BODY, 5, false, true, 1},
    };
    grid *g = malloc(sizeof *g);
    cr_assert_not_null(g);
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        const island_case *k = &cases[t];
        grid_init(g);
        /* level 1's body (its largest piece) and level 2's, 3 voxels apart */
        block(g, (int[]){1, 2, 2}, (int[]){8, 17, 9}, 1, SP_SEG_PART_BODY);
        block(g, (int[]){12, 2, 2}, (int[]){20, 17, 9}, 2, SP_SEG_PART_BODY);
        /* the piece of level 1: on top of level 2, or far from both */
        int z0 = k->apart ? 16 : 10, x0 = k->apart ? 2 : 13;
        block(g, (int[]){x0, 5, z0}, (int[]){x0 + k->edge - 1, 5 + k->edge - 1, z0 + k->edge - 1}, 1, k->part);
        if (k->third) block(g, (int[]){x0, 5 + k->edge, z0}, (int[]){x0 + 2, 5 + k->edge + 2, z0 + 2}, 3, SP_SEG_PART_BODY);
        cr_assert_eq(give_islands(g, 3), SP_OK, "%s", k->what);
        cr_expect_eq(label_at(g, x0 + 1, 6, z0 + 1), k->want, "%s: label %d, want %d", k->what,
                     label_at(g, x0 + 1, 6, z0 + 1), k->want);
        cr_expect_eq(label_at(g, 4, 8, 5), 1, "%s: level 1's largest piece moved", k->what);
        cr_expect_eq(label_at(g, 15, 8, 5), 2, "%s: level 2 moved", k->what);
    }
    free(g);
}

/* A level's largest piece stays its own even where it lies against one
 * other level only. */
Test(seg_islands, the_largest_piece_never_moves)
{
    grid *g = malloc(sizeof *g);
    cr_assert_not_null(g);
    grid_init(g);
    block(g, (int[]){1, 2, 2}, (int[]){8, 17, 9}, 1, SP_SEG_PART_BODY);
    block(g, (int[]){9, 2, 2}, (int[]){20, 17, 9}, 2, SP_SEG_PART_BODY);
    cr_assert_eq(give_islands(g, 2), SP_OK);
    cr_expect_eq(label_at(g, 4, 8, 5), 1);
    cr_expect_eq(label_at(g, 15, 8, 5), 2);
    free(g);
}
