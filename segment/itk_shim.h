/* itk_shim.h - the C face of the ITK shim (segment/itk_shim.cpp).
 *
 * Plain C11: no ITK types cross this header. The shim does type conversion
 * and error mapping only; what to close, with which radius and why stays in
 * C (segment/parts.c). ITK runs its own thread pool: never call a shim
 * function from inside an OpenMP parallel region (two pools would compete
 * for the same cores). */
#ifndef SP_ITK_SHIM_H
#define SP_ITK_SHIM_H

#include <stdint.h>

#include "../core/sp_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sets the number of threads every later ITK filter uses (ITK's global
 * default; values below 1 are taken as 1). Call it where the segmentation
 * sets its OpenMP thread count, before the first filter runs and never while
 * one is running. */
void sp_itk_init(int nthreads);

/* Largest radius sp_itk_binary_close_box accepts (a 129^3 box). */
#define SP_ITK_MAX_RADIUS 64

/* Binary morphological closing, in place, of the u8 mask of dims[0] x
 * dims[1] x dims[2] voxels (x fastest) with a (2*radius+1)^3 box: nonzero is
 * foreground; on return every voxel is 0 or 1. Voxels outside the volume
 * count as background throughout: the result is the closing of the mask set
 * in an infinite background, cropped to the volume (ITK's SafeBorder: pad
 * by radius with background, dilate, erode, crop). So closing never removes
 * foreground, also at the border, and fills a border voxel only when its
 * neighbours inside the volume bridge it. When the outer `radius` layers of
 * the mask are background, this equals dilating and then eroding with
 * everything outside the volume counted as background at each step.
 * radius 0 leaves the mask as it is (made 0/1). SP_EINVAL for a NULL mask
 * or dims, a dimension < 1, radius < 0 or > SP_ITK_MAX_RADIUS; SP_EITK or
 * SP_ENOMEM when ITK fails (the mask is then 0/1 but not closed). err may
 * be NULL. */
sp_status sp_itk_binary_close_box(uint8_t *mask, const int dims[3], int radius, sp_err *err);

#ifdef __cplusplus
}
#endif
#endif
