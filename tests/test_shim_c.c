/* test_shim_c.c - the DCMTK shim used from plain C (leveldb c_test.c style):
 * error paths and ownership rules. Compiled as C; includes only io/dicom.h. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/dicom.h"
#include "support/test_util.h"

static char tmp[512];
static void setup(void) { sp_test_tmpdir(tmp, sizeof tmp); }
static void teardown(void) { sp_test_rmtree(tmp); }
TestSuite(shim_c, .init = setup, .fini = teardown);

Test(shim_c, missing_file_is_an_error_naming_it)
{
    sp_dicom_header h;
    sp_err e = {0};
    sp_dicom_init();
    cr_assert_neq(sp_dicom_read_header("/nonexistent/x.dcm", &h, &e), SP_OK);
    cr_assert(strstr(e.msg, "/nonexistent/x.dcm"), "%s", e.msg);
    sp_dicom_header_clear(&h);
}

Test(shim_c, text_file_is_not_dicom)
{
    char p[600];
    sp_dicom_header h;
    sp_err e = {0};
    snprintf(p, sizeof p, "%s/readme.txt", tmp);
    FILE *f = fopen(p, "w");
    fputs("Patient list\nnothing to see here\n", f);
    fclose(f);
    cr_assert_eq(sp_dicom_read_header(p, &h, &e), SP_EDICOM);
    cr_assert(strstr(e.msg, "not a DICOM file"), "%s", e.msg);
    sp_dicom_header_clear(&h);
}

Test(shim_c, preamble_without_dataset_is_truncated)
{
    char p[600], buf[140] = {0};
    sp_dicom_header h;
    sp_err e = {0};
    snprintf(p, sizeof p, "%s/cut.dcm", tmp);
    memcpy(buf + 128, "DICM\x02\x00\x00\x00", 8);
    FILE *f = fopen(p, "wb");
    fwrite(buf, 1, 137, f);
    fclose(f);
    cr_assert_neq(sp_dicom_read_header(p, &h, &e), SP_OK);
    sp_dicom_header_clear(&h);
}

Test(shim_c, write_then_read_header_round_trips)
{
    char p[600];
    int16_t px[6 * 4];
    sp_dicom_slice_meta m;
    sp_dicom_header h;
    sp_err e = {0};
    for (int i = 0; i < 24; i++) px[i] = (int16_t)(i * 10 - 50);
    memset(&m, 0, sizeof m);
    m.rows = 4, m.cols = 6, m.pixel_rep = 1, m.bits_stored = 16, m.slope = 1, m.intercept = -1024;
    m.pixel_spacing[0] = 0.5, m.pixel_spacing[1] = 0.6, m.slice_thickness = 1;
    m.iop[0] = 1, m.iop[4] = 1, m.ipp[2] = 42.5;
    m.series_number = 3, m.instance_number = 7;
    snprintf(p, sizeof p, "%s/one.dcm", tmp);
    cr_assert_eq(sp_dicom_write_slice(p, &m, px, &e), SP_OK, "%s", e.msg);
    cr_assert_eq(sp_dicom_read_header(p, &h, &e), SP_OK, "%s", e.msg);
    cr_assert_eq(h.rows, 4);
    cr_assert_eq(h.cols, 6);
    cr_assert_eq(h.instance_number, 7);
    cr_assert_eq(h.series_number, 3);
    cr_assert_float_eq(h.ipp[2], 42.5, 1e-9);
    cr_assert_float_eq(h.intercept, -1024, 1e-9);
    cr_assert_str_eq(h.modality, "CT");
    cr_assert(h.has_pixel_data);
    cr_assert_neq(h.study_uid[0], '\0', "NULL UIDs get new ones");
    int16_t back[24];
    cr_assert_eq(sp_dicom_read_frames(p, back, sizeof back, &e), SP_OK, "%s", e.msg);
    cr_assert_arr_eq(back, px, sizeof px);
    /* Asking for more bytes than the file holds is an error, not an overread. */
    int16_t big[100];
    cr_assert_eq(sp_dicom_read_frames(p, big, sizeof big, &e), SP_EDICOM);
    sp_dicom_header_clear(&h);
}

Test(shim_c, clear_accepts_null_and_cleared_headers)
{
    sp_dicom_header h;
    memset(&h, 0, sizeof h);
    sp_dicom_header_clear(NULL);
    sp_dicom_header_clear(&h);
    sp_dicom_header_clear(&h);
}

Test(shim_c, new_uids_are_unique_and_valid)
{
    char a[SP_UID_LEN], b[SP_UID_LEN];
    sp_dicom_new_uid(a);
    sp_dicom_new_uid(b);
    cr_assert_str_neq(a, b);
    cr_assert_leq(strlen(a), 64);
    for (const char *c = a; *c; c++) cr_assert((*c >= '0' && *c <= '9') || *c == '.');
}
