/* test_volume.c - sp_volume allocation, overflow checks and geometry helpers. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "core/sp_geom.h"
#include "core/sp_status.h"
#include "core/sp_volume.h"

Test(volume, new_is_zeroed_aligned_and_identity)
{
    sp_volume *v = sp_vol_new(SP_I16, 37, 41, 23);
    cr_assert_not_null(v);
    cr_assert_eq((uintptr_t)v->data % 64, 0);
    for (size_t i = 0; i < sp_vol_nvox(v); i++) cr_assert_eq(((int16_t *)v->data)[i], 0);
    cr_assert_eq(sp_vol_bytes(v), (size_t)37 * 41 * 23 * 2);
    cr_assert_eq(sp_vol_idx(v, 1, 2, 3), (size_t)(3 * 41 + 2) * 37 + 1);
    cr_assert_float_eq(v->ijk_to_lps[0], 1.0, 0);
    cr_assert_float_eq(v->slope, 1.0, 0);
    sp_vol_free(v);
}

Test(volume, bad_sizes_and_overflow_return_null)
{
    cr_assert_null(sp_vol_new(SP_I16, 0, 5, 5));
    cr_assert_null(sp_vol_new(SP_I16, -1, 5, 5));
    cr_assert_null(sp_vol_new(SP_F32, INT32_MAX, INT32_MAX, INT32_MAX));
    cr_assert_null(sp_vol_new((sp_dtype)99, 2, 2, 2));
    sp_vol_free(NULL);
}

Test(volume, geometry_maps_voxels_to_lps)
{
    sp_volume *v = sp_vol_new(SP_U8, 10, 10, 10);
    double dir[9] = {0, 0, 1, 1, 0, 0, 0, 1, 0}; /* columns: i->y, j->z, k->x */
    double sp[3] = {0.5, 2, 3}, o[3] = {10, 20, 30}, ijk[3] = {2, 1, 1}, p[3];
    sp_vol_set_geometry(v, dir, sp, o);
    sp_vol_ijk_to_lps(v, ijk, p);
    cr_assert_float_eq(p[0], 13.0, 1e-12);
    cr_assert_float_eq(p[1], 21.0, 1e-12);
    cr_assert_float_eq(p[2], 32.0, 1e-12);
    double inv[16], id[16];
    cr_assert_eq(sp_mat4_invert(v->ijk_to_lps, inv), 0);
    sp_mat4_mul(inv, v->ijk_to_lps, id);
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) cr_assert_float_eq(id[r * 4 + c], r == c ? 1.0 : 0.0, 1e-12);
    sp_volume *c = sp_vol_clone(v);
    cr_assert_arr_eq(c->ijk_to_lps, v->ijk_to_lps, sizeof v->ijk_to_lps);
    sp_vol_free(c);
    sp_vol_free(v);
}

Test(volume, singular_matrix_is_refused)
{
    double m[16] = {0}, inv[16];
    m[15] = 1;
    cr_assert_eq(sp_mat4_invert(m, inv), -1);
}

Test(volume, status_messages)
{
    sp_err e;
    cr_assert_eq(sp_fail(&e, SP_EIO, "x %d", 3), SP_EIO);
    cr_assert_str_eq(e.msg, "x 3");
    cr_assert_eq(sp_fail(NULL, SP_ENOMEM, "ignored"), SP_ENOMEM);
    cr_assert_str_eq(sp_status_str(SP_OK), "ok");
}
