/* series_rank.c - rank series for spine work and pick one.
 *
 * DESIGN: an additive score whose terms follow what a radiologist would pick
 * for a spine read: CT before MR (HU are needed for bone), axial acquisitions,
 * the longest coverage along the spine, thinner slices, a bone (sharp) kernel.
 * Localizers, secondary captures and rejected series never win. The terms are
 * kept in rank_reason so `scan` can say why the winner won. */
#define SP_IO_INTERNAL
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>


/* Sharp / bone reconstruction kernels of the main vendors. */
static bool bone_kernel(const char *k)
{
    static const char *const bone[] = {"BONE", "B60", "B70", "B75", "B80", "Br6", "Br5", "Br64", "Bl5",
                                       "SHARP", "YC", "YD", "FC30", "FC35", "D", "H60", "H70", "LUNG"};
    if (!k[0]) return false;
    for (size_t i = 0; i < sizeof bone / sizeof bone[0]; i++) {
        if (!strcmp(bone[i], "D") ? !strcmp(k, "D") : sp_io_contains_ci(k, bone[i])) return true;
    }
    return false;
}

static void score(sp_series *sr)
{
    double r = 0;
    bool ct = !strcmp(sr->modality, "CT"), mr = !strcmp(sr->modality, "MR");
    if (sr->decision == SP_SERIES_REJECT) {
        sr->rank = -1;
        snprintf(sr->rank_reason, sizeof sr->rank_reason, "not a candidate: %s", sr->reason);
        return;
    }
    if (sr->secondary) {
        sr->rank = -1;
        snprintf(sr->rank_reason, sizeof sr->rank_reason, "not a candidate: secondary capture / derived image");
        return;
    }
    if (!ct && !mr && !sr->nifti) {
        sr->rank = -1;
        snprintf(sr->rank_reason, sizeof sr->rank_reason, "not a candidate: modality %s (CT or MR needed)",
                 sr->modality[0] ? sr->modality : "unknown");
        return;
    }
    r += ct ? 1000 : 500;
    if (sr->axial) r += 200;
    r += fmin(sr->coverage_mm, 1000.0) * 0.5;
    r -= sr->spacing[2] * 20.0;
    if (bone_kernel(sr->kernel)) r += 50;
    if (sr->nz < 10) r -= 300;
    if (sr->derived) r -= 100;
    sr->rank = r;
    snprintf(sr->rank_reason, sizeof sr->rank_reason, "%s, %s, %.0f mm coverage, %.2f mm slices%s%s%s",
             ct ? "CT" : "MR", sr->axial ? "axial" : "not axial", sr->coverage_mm, sr->spacing[2],
             bone_kernel(sr->kernel) ? ", bone kernel" : "", sr->nz < 10 ? ", fewer than 10 slices" : "",
             sr->derived ? ", derived image" : "");
}

void sp_io_rank_series(sp_scan *s)
{
    int best = -1, second = -1;
    for (int i = 0; i < s->nseries; i++) {
        if (s->series[i].nifti) continue;
        score(&s->series[i]);
    }
    for (int i = 0; i < s->nseries; i++) {
        if (s->series[i].rank < 0) continue;
        if (best < 0 || s->series[i].rank > s->series[best].rank) second = best, best = i;
        else if (second < 0 || s->series[i].rank > s->series[second].rank) second = i;
    }
    s->chosen = best;
    if (best < 0) {
        /* the first reason found, so that a one-file or one-series input
         * says why without a second command */
        char why[sizeof s->chosen_reason] = "";
        int nbad = 0, first = -1;
        for (int i = 0; i < s->nfiles; i++)
            if (s->files[i].state != SP_FILE_OK && nbad++ == 0) first = i;
        if (s->nseries > 0 && s->series[0].reason[0])
            snprintf(why, sizeof why, ": series 0 rejected (%s)%s", s->series[0].reason,
                     s->nseries > 1 ? "; `spinemet scan` gives every series' reason" : "");
        else if (first >= 0)
            snprintf(why, sizeof why, ": %s: %s%s", s->files[first].path, s->files[first].reason,
                     nbad > 1 ? "; `spinemet scan` lists every file not used" : "");
        snprintf(s->chosen_reason, sizeof s->chosen_reason, "no usable CT or MR series (%d series, %d files)%s",
                 s->nseries, s->nfiles, why);
    } else if (second < 0) {
        snprintf(s->chosen_reason, sizeof s->chosen_reason, "series %d is the only candidate: %s", best,
                 s->series[best].rank_reason);
    } else {
        snprintf(s->chosen_reason, sizeof s->chosen_reason,
                 "series %d (%s) ranks above series %d (%s)", best, s->series[best].rank_reason, second,
                 s->series[second].rank_reason);
    }
}
