/* peel.c - moves each vertebral body's outer surface from the bone
 * threshold to the half-way level of the CT edge.
 *
 * DESIGN: the labels grow over bone >= SEG_BONE_HU. A voxel that straddles
 * the bone surface holds a mix of cortex (500-1500 HU) and soft tissue or
 * disc, so it passes that threshold when only a small part of it is bone:
 * the bodies were one partial-volume shell too fat (phantoms: 8-15 % of a
 * body's voxels outside the truth, almost none missing). A voxel's centre
 * lies inside the surface when more than half of it is bone, i.e. when its
 * HU is above half-way between the bone just inside and the tissue just
 * outside (the rule the measurements use for endplates, score/frame.c).
 * So for each body voxel with an unlabelled face neighbour, along that
 * axis: inside = the highest HU of the voxel and the next one or two inward
 * (within PEEL_IN_MM: a dense blastic lesion deeper in is not this edge's
 * bone and made a normal endplate look like partial volume),
 * outside = the lowest of the next two outward; the voxel is dropped when
 * its HU is below half-way and the edge is clear (inside - outside >=
 * PEEL_MIN_STEP_HU): a lytic or destroyed surface has no edge to place and
 * is kept. In-plane only: across the slices (the endplates) a dense lesion
 * next to the endplate makes the endplate's own bone look like partial
 * volume (blastic T7 phantom: a whole 2.5 mm slice of endplate dropped, the
 * anterior height 2.7 mm short and SINS collapse 2 instead of 0), and the
 * heights already place the endplates on the HU profile (score/frame.c).
 * Not along axes coarser than PEEL_MAX_VOX_MM, where the inward voxel is
 * deep in the body. Not on the posterior elements: they are a few voxels
 * thick, so the inward voxels are the far surface (whole-vertebra Dice fell
 * 0.004-0.007 on 12 of 14 phantoms when they were peeled too). One layer
 * only, decided on the labels as they were (order-free, so byte-identical at
 * any thread count). Faces against another vertebra's label are not edges to
 * the outside and are left alone. Measured in docs/segmentation.md. */
#define SP_SEGMENT_INTERNAL
#include "internal.h"

#include "core/sp_omp.h"

#define PEEL_MAX_VOX_MM 3.2
#define PEEL_IN_MM 2.0 /* how far inward the bone's peak is looked for (a lesion deeper in is not the edge) */
#define PEEL_MIN_STEP_HU 150 /* as the endplate refinement's "clear edge" (score/frame.c) */

/* True when body voxel i is outside the half-way level along one of
 * the axes where it faces unlabelled space. */
static bool outside_half_way(const seg_canon *c, const uint8_t *lab, size_t i, const int xyz[3])
{
    const size_t stride[3] = {1, (size_t)c->n[0], (size_t)c->n[0] * c->n[1]};
    int h = c->hu[i];
    for (int a = 0; a < 2; a++) /* in-plane axes only, see DESIGN */
        for (int s = -1; s <= 1; s += 2) {
            int o1 = xyz[a] + s, o2 = xyz[a] + 2 * s, i1 = xyz[a] - s, i2 = xyz[a] - 2 * s;
            if (o1 < 0 || o1 >= c->n[a] || c->spacing[a] > PEEL_MAX_VOX_MM) continue;
            size_t no = s > 0 ? i + stride[a] : i - stride[a];
            if (lab[no] != 0) continue;
            int out = c->hu[no], in = h;
            if (o2 >= 0 && o2 < c->n[a]) {
                int v = c->hu[s > 0 ? no + stride[a] : no - stride[a]];
                if (v < out) out = v;
            }
            if (i1 >= 0 && i1 < c->n[a]) {
                size_t ni = s > 0 ? i - stride[a] : i + stride[a];
                if (c->hu[ni] > in) in = c->hu[ni];
                if (i2 >= 0 && i2 < c->n[a] && 2 * c->spacing[a] <= PEEL_IN_MM) {
                    int v = c->hu[s > 0 ? ni - stride[a] : ni + stride[a]];
                    if (v > in) in = v;
                }
            }
            if (in - out >= PEEL_MIN_STEP_HU && 2 * h < in + out) return true;
        }
    return false;
}

void seg_peel_surface(const seg_canon *c, uint8_t *lab, uint8_t *parts)
{
    size_t nxy = (size_t)c->n[0] * c->n[1];
    /* pass 1 marks (bit 0x80 of the voxel's own part: the test reads lab and
     * hu only, so a mark cannot change another voxel's decision); pass 2
     * drops the marked voxels */
    /* omp: iteration z writes parts of slice z only; reads lab and hu. */
    SP_OMP(parallel for default(none) shared(c, lab, parts, nxy) schedule(static))
    for (int z = 0; z < c->n[2]; z++)
        for (int y = 0; y < c->n[1]; y++)
            for (int x = 0; x < c->n[0]; x++) {
                size_t i = (size_t)z * nxy + (size_t)y * c->n[0] + x;
                int xyz[3] = {x, y, z};
                if (parts[i] == SP_SEG_PART_BODY && outside_half_way(c, lab, i, xyz)) parts[i] |= 0x80;
            }
    SP_OMP(parallel for default(none) shared(c, lab, parts, nxy) schedule(static))
    for (int z = 0; z < c->n[2]; z++)
        for (size_t i = (size_t)z * nxy; i < (size_t)(z + 1) * nxy; i++)
            if (parts[i] & 0x80) lab[i] = 0, parts[i] = 0;
}
