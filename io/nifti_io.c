/* nifti_io.c - NIfTI-1 read and write through nifti_clib (Debian libniftiio).
 *
 * DESIGN: NIfTI stores world coordinates in RAS; spinemet works in DICOM LPS.
 * The conversion negates the first two rows of the affine both ways. On read
 * the sform wins over the qform (it is what ITK, nibabel and dcm2niix agree
 * on when both are set); on write both are set from the same affine, so
 * every reader sees the same geometry. Integer voxel data stay int16 when the
 * scaled values are exact integers in range, as CT in HU always is. */
#include "sp_io.h"

#include <math.h>
#include <nifti1_io.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

bool sp_io_is_nifti_path(const char *path)
{
    size_t n = strlen(path);
    return (n > 4 && !strcmp(path + n - 4, ".nii")) || (n > 7 && !strcmp(path + n - 7, ".nii.gz"));
}

/* RAS mat44 (float) -> LPS row-major double 4x4. */
static void ras_to_lps(mat44 m, double out[16])
{
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) out[r * 4 + c] = (double)m.m[r][c] * ((r < 2) ? -1.0 : 1.0);
    out[12] = out[13] = out[14] = 0.0;
    out[15] = 1.0;
}

/* Value of element i of the nifti buffer as double (before scaling). */
static double raw_at(const nifti_image *nim, size_t i)
{
    switch (nim->datatype) {
    case DT_UINT8: return ((const uint8_t *)nim->data)[i];
    case DT_INT8: return ((const int8_t *)nim->data)[i];
    case DT_INT16: return ((const int16_t *)nim->data)[i];
    case DT_UINT16: return ((const uint16_t *)nim->data)[i];
    case DT_INT32: return ((const int32_t *)nim->data)[i];
    case DT_UINT32: return ((const uint32_t *)nim->data)[i];
    case DT_FLOAT32: return ((const float *)nim->data)[i];
    case DT_FLOAT64: return ((const double *)nim->data)[i];
    case DT_INT64: return (double)((const int64_t *)nim->data)[i];
    case DT_UINT64: return (double)((const uint64_t *)nim->data)[i];
    default: return 0.0;
    }
}

static bool supported_type(int dt)
{
    return dt == DT_UINT8 || dt == DT_INT8 || dt == DT_INT16 || dt == DT_UINT16 || dt == DT_INT32 ||
           dt == DT_UINT32 || dt == DT_FLOAT32 || dt == DT_FLOAT64 || dt == DT_INT64 || dt == DT_UINT64;
}

/* Chooses the output type: u8 for unscaled uint8, i16 when every scaled value
 * is an integer in int16 range, else f32. */
static sp_dtype choose_type(const nifti_image *nim, double slope, double inter, size_t n)
{
    if (nim->datatype == DT_UINT8 && slope == 1.0 && inter == 0.0) return SP_U8;
    if (nim->datatype == DT_INT16 && slope == 1.0 && inter == 0.0) return SP_I16;
    for (size_t i = 0; i < n; i++) {
        double v = raw_at(nim, i) * slope + inter;
        if (v != floor(v) || v < -32768.0 || v > 32767.0) return SP_F32;
    }
    return SP_I16;
}

static void set_affine(sp_volume *v, const nifti_image *nim)
{
    if (nim->sform_code > 0) {
        ras_to_lps(nim->sto_xyz, v->ijk_to_lps);
    } else if (nim->qform_code > 0) {
        ras_to_lps(nim->qto_xyz, v->ijk_to_lps);
    } else { /* ANALYZE-style: spacing only, RAS axes as NIfTI's method 1 says */
        double d[9] = {-1, 0, 0, 0, -1, 0, 0, 0, 1};
        double sp[3] = {fabs(nim->dx) > 0 ? fabs(nim->dx) : 1, fabs(nim->dy) > 0 ? fabs(nim->dy) : 1,
                        fabs(nim->dz) > 0 ? fabs(nim->dz) : 1};
        double o[3] = {0, 0, 0};
        sp_vol_set_geometry(v, d, sp, o);
    }
    for (int c = 0; c < 3; c++) {
        double col[3] = {v->ijk_to_lps[c], v->ijk_to_lps[4 + c], v->ijk_to_lps[8 + c]};
        v->spacing[c] = sqrt(col[0] * col[0] + col[1] * col[1] + col[2] * col[2]);
    }
}

sp_status sp_io_read_nifti(const char *path, sp_volume **out, sp_err *err)
{
    nifti_image *nim;
    sp_volume *v = NULL;
    sp_status st = SP_OK;
    struct stat sb;
    *out = NULL;
    if (stat(path, &sb) != 0) return sp_fail(err, SP_EIO, "%s: no such file", path);
    nifti_set_debug_level(0);
    nim = nifti_image_read(path, 1);
    if (!nim || !nim->data) {
        if (nim) nifti_image_free(nim);
        return sp_fail(err, SP_EIO, "%s: not a readable NIfTI file (bad header or truncated data)", path);
    }
    if (!supported_type(nim->datatype)) {
        st = sp_fail(err, SP_EUNSUPPORTED, "%s: NIfTI datatype %d is not supported", path, nim->datatype);
        goto done;
    }
    if (nim->ndim > 3 && nim->nt * nim->nu * nim->nv * nim->nw > 1) {
        st = sp_fail(err, SP_EUNSUPPORTED, "%s: %d-D NIfTI with %lld volumes; a single 3-D volume is needed",
                     path, nim->ndim, (long long)(nim->nt * nim->nu * nim->nv * nim->nw));
        goto done;
    }
    {
        double slope = (nim->scl_slope != 0 && isfinite(nim->scl_slope)) ? nim->scl_slope : 1.0;
        double inter = isfinite(nim->scl_inter) ? nim->scl_inter : 0.0;
        size_t n = (size_t)nim->nx * (size_t)(nim->ny > 0 ? nim->ny : 1) * (size_t)(nim->nz > 0 ? nim->nz : 1);
        sp_dtype t = choose_type(nim, slope, inter, n);
        v = sp_vol_new(t, (int32_t)nim->nx, (int32_t)(nim->ny > 0 ? nim->ny : 1),
                       (int32_t)(nim->nz > 0 ? nim->nz : 1));
        if (!v) {
            st = sp_fail(err, SP_ENOMEM, "%s: out of memory for %zu voxels", path, n);
            goto done;
        }
        set_affine(v, nim);
        if ((t == SP_I16 && nim->datatype == DT_INT16 && slope == 1.0 && inter == 0.0) ||
            (t == SP_U8 && nim->datatype == DT_UINT8)) {
            memcpy(v->data, nim->data, n * sp_dtype_size(t)); /* stored as we keep it */
        } else
        for (size_t i = 0; i < n; i++) {
            double x = raw_at(nim, i) * slope + inter;
            if (t == SP_U8) ((uint8_t *)v->data)[i] = (uint8_t)x;
            else if (t == SP_I16) ((int16_t *)v->data)[i] = (int16_t)x;
            else ((float *)v->data)[i] = (float)x;
        }
    }
    *out = v;
    v = NULL;
done:
    sp_vol_free(v);
    nifti_image_free(nim);
    return st;
}

/* LPS row-major double 4x4 -> RAS mat44. */
static mat44 lps_to_ras(const double m[16])
{
    mat44 r;
    for (int i = 0; i < 4; i++)
        for (int c = 0; c < 4; c++) r.m[i][c] = (float)(m[i * 4 + c] * ((i < 2) ? -1.0 : 1.0));
    r.m[3][0] = r.m[3][1] = r.m[3][2] = 0.0f;
    r.m[3][3] = 1.0f;
    return r;
}

sp_status sp_io_write_nifti(const char *path, const sp_volume *v, sp_err *err)
{
    int dims[8] = {3, v->nx, v->ny, v->nz, 1, 1, 1, 1};
    int dt = v->dtype == SP_U8 ? DT_UINT8 : v->dtype == SP_I16 ? DT_INT16 : DT_FLOAT32;
    nifti_image *nim;
    znzFile fp;
    float qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac;
    if (!sp_io_is_nifti_path(path))
        return sp_fail(err, SP_EINVAL, "%s: output name must end in .nii or .nii.gz", path);
    nifti_set_debug_level(0);
    nim = nifti_make_new_nim(dims, dt, 0);
    if (!nim) return sp_fail(err, SP_ENOMEM, "%s: cannot create NIfTI header", path);
    nim->data = v->data; /* borrowed for the write; detached before free */
    nim->sto_xyz = lps_to_ras(v->ijk_to_lps);
    nim->sto_ijk = nifti_mat44_inverse(nim->sto_xyz);
    nim->sform_code = NIFTI_XFORM_SCANNER_ANAT;
    nifti_mat44_to_quatern(nim->sto_xyz, &qb, &qc, &qd, &qx, &qy, &qz, &dx, &dy, &dz, &qfac);
    nim->quatern_b = qb, nim->quatern_c = qc, nim->quatern_d = qd;
    nim->qoffset_x = qx, nim->qoffset_y = qy, nim->qoffset_z = qz;
    nim->qfac = qfac;
    nim->qto_xyz = nifti_quatern_to_mat44(qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac);
    nim->qto_ijk = nifti_mat44_inverse(nim->qto_xyz);
    nim->qform_code = NIFTI_XFORM_SCANNER_ANAT;
    nim->dx = nim->pixdim[1] = (float)v->spacing[0];
    nim->dy = nim->pixdim[2] = (float)v->spacing[1];
    nim->dz = nim->pixdim[3] = (float)v->spacing[2];
    nim->xyz_units = NIFTI_UNITS_MM;
    nim->scl_slope = (v->slope == 1.0 && v->inter == 0.0) ? 0.0f : (float)v->slope;
    nim->scl_inter = (v->slope == 1.0 && v->inter == 0.0) ? 0.0f : (float)v->inter;
    strncpy(nim->descrip, "spinemet", sizeof nim->descrip - 1);
    if (nifti_set_filenames(nim, path, 0, 1) != 0) {
        nim->data = NULL;
        nifti_image_free(nim);
        return sp_fail(err, SP_EINVAL, "%s: unusable NIfTI file name", path);
    }
    /* write data, leave open; gzip level 1: label maps and CT compress almost
     * as well as at the default level 6, several times faster */
    fp = nifti_image_write_hdr_img(nim, 1 | 2, "wb1");
    nim->data = NULL;
    nifti_image_free(nim);
    if (znz_isnull(fp)) return sp_fail(err, SP_EIO, "%s: cannot write NIfTI file", path);
    znzclose(fp);
    return SP_OK;
}
