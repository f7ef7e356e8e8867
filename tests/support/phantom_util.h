/* phantom_util.h - phantom helpers shared by the segmentation tests. */
#ifndef SP_TEST_PHANTOM_UTIL_H
#define SP_TEST_PHANTOM_UTIL_H

#include "core/sp_volume.h"
#include "phantom/sp_phantom.h"
#include "segment/sp_segment.h"

/* A phantom generated from a JSON spec; aborts the test with the parser's
 * or generator's message on failure. Free with sp_phantom_free. */
sp_phantom *sp_test_phantom(const char *json);

/* The JSON of the suite's spec sample_data/<name>.json (else the held-out
 * bench/heldout/<name>.json) with its seed set to
 * seed (a survey's other seed of a suite phantom); aborts the test when the
 * file cannot be read or parsed. Free with free. */
char *sp_test_sample_spec(const char *name, int seed);

/* The phantom's CT segmented with the default options; aborts the test with
 * the segmentation's message on failure. Free with sp_seg_result_free. */
sp_seg_result *sp_test_segment(const sp_phantom *p);

/* Dice of label l between two U8 label maps on the same grid (0 when
 * neither holds it). */
double sp_test_dice(const sp_volume *a, const sp_volume *b, int l);

#endif
