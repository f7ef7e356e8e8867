/* hu_check.c - makes sure a loaded volume is CT in whole Hounsfield units.
 *
 * DESIGN: segmentation and scoring work on int16 HU. DICOM CT and most
 * NIfTI CT arrive so (integers after the rescale). NIfTI from research
 * pipelines is often float32 after resampling, with fractional values: such
 * a volume is taken for CT when it fits int16 and holds values below
 * HU_BELOW_FAT (fat near -100 HU and air near -1000 lie in any body CT,
 * cropped or not), and is rounded to whole HU (at most 0.5 HU off, far under
 * every threshold we use). Anything else is refused with what was found: an
 * 8-bit volume (an MRI, a label map or a picture), a float volume with no
 * such values (an MRI in scanner units or z-scores, a PET), or values
 * beyond int16 or not finite. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/sp_log.h"
#include "sp_io.h"

#define HU_BELOW_FAT -100.0

sp_status sp_io_require_hu(sp_volume **v, const char *path, sp_err *err)
{
    sp_volume *in = *v;
    if (in->dtype == SP_I16) return SP_OK;
    if (in->dtype == SP_U8)
        return sp_fail(err, SP_EUNSUPPORTED,
                       "%s: 8-bit voxels (0-255), not CT in Hounsfield units (an MRI, a label map or a picture?); "
                       "spinemet reads CT",
                       path);
    size_t n = (size_t)in->nx * in->ny * in->nz;
    const float *f = in->data;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(f[i]))
            return sp_fail(err, SP_EUNSUPPORTED, "%s: voxel %zu is %s, not a CT value in Hounsfield units", path, i,
                           isnan(f[i]) ? "NaN" : "infinite");
        if (f[i] < lo) lo = f[i];
        if (f[i] > hi) hi = f[i];
    }
    if (lo < -32768.5 || hi > 32767.5)
        return sp_fail(err, SP_EUNSUPPORTED, "%s: values from %.6g to %.6g, beyond the int16 range of CT in Hounsfield units",
                       path, lo, hi);
    if (lo >= HU_BELOW_FAT)
        return sp_fail(err, SP_EUNSUPPORTED,
                       "%s: values from %.6g to %.6g, none below %.0f: not CT in Hounsfield units (any body CT holds fat "
                       "and air below it; an MRI or PET?); spinemet reads CT",
                       path, lo, hi, HU_BELOW_FAT);
    sp_volume *out = sp_vol_new_like(in, SP_I16);
    if (!out) return sp_fail(err, SP_ENOMEM, "%s: out of memory for %zu voxels", path, n);
    int16_t *o = out->data;
    for (size_t i = 0; i < n; i++) o[i] = (int16_t)lrintf(f[i]);
    sp_log(SP_LOG_INFO, "%s: floating-point CT (%.6g to %.6g HU) rounded to whole HU", path, lo, hi);
    sp_vol_free(in);
    *v = out;
    return SP_OK;
}
