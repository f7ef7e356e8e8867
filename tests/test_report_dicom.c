/* test_report_dicom.c - seg.dcm and sr.dcm from `spinemet analyze`: dciodvfy
 * (dicom3tools) reports no errors, DCMTK reads them back (dcmdump, dsrdump)
 * with the expected segments, measurement groups and references to the
 * source series, and a NIfTI input skips both with a message. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/dicom.h"
#include "support/test_util.h"

static char tmp[512];
static void setup(void) { sp_test_tmpdir(tmp, sizeof tmp); }
static void teardown(void) { sp_test_rmtree(tmp); }
TestSuite(report_dicom, .init = setup, .fini = teardown, .timeout = 120);

#define SPEC                                                                                                     \
    "{\"seed\":3,\"anatomy\":{\"from\":\"T11\",\"to\":\"L3\"},\"scan\":{\"matrix\":[160,160],\"pixel_mm\":1.5},"  \
    "\"vertebrae\":{\"L1\":{\"collapse_pct\":40,\"lesion\":{\"type\":\"lytic\"}}}}"

static void run_ok(const char *fmt, const char *a, const char *b)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    cr_assert_eq(sp_test_system(cmd), 0, "%s", cmd);
}

static void make_outputs_with(const char *extra)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "printf '%%s' '%s' > %s/spec.json && %s -q phantom %s/spec.json -o %s/ph && %s -q analyze %s/ph/dicom -o %s/out %s",
             SPEC, tmp, sp_test_binary(), tmp, tmp, sp_test_binary(), tmp, tmp, extra);
    cr_assert_eq(sp_test_system(cmd), 0, "%s", cmd);
}

static void make_outputs(void) { make_outputs_with(""); }

static bool have(const char *tool)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s > /dev/null 2>&1", tool);
    return sp_test_system(cmd) == 0;
}

/* dciodvfy prints "Error - ..." lines for violations; warnings are allowed. */
static void validate(const char *file, const char *extra)
{
    if (!have("dciodvfy")) cr_skip_test("dciodvfy (dicom3tools) not installed: skipped");
    make_outputs_with(extra);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "dciodvfy %s/out/%s > %s/v.txt 2>&1; ! grep -q '^Error' %s/v.txt", tmp, file, tmp, tmp);
    int rc = sp_test_system(cmd);
    if (rc != 0) {
        snprintf(cmd, sizeof cmd, "grep '^Error' %s/v.txt | head -20 >&2", tmp);
        sp_test_system(cmd);
    }
    cr_expect_eq(rc, 0, "dciodvfy found errors in %s", file);
}

Test(report_dicom, seg_passes_dciodvfy) { validate("seg.dcm", ""); }
Test(report_dicom, sr_passes_dciodvfy) { validate("sr.dcm", ""); }
Test(report_dicom, deidentified_seg_passes_dciodvfy) { validate("seg.dcm", "--deidentify"); }
Test(report_dicom, deidentified_sr_passes_dciodvfy) { validate("sr.dcm", "--deidentify"); }

Test(report_dicom, seg_loads_back_with_segments_and_source_reference)
{
    make_outputs();
    /* one segment per vertebra plus the lytic lesion */
    run_ok("dcmdump +P SegmentLabel %s/out/seg.dcm > %s/labels.txt", tmp, tmp);
    static const char *const want[] = {"[T11]", "[T12]", "[L1]", "[L2]", "[L3]", "[Lytic lesion]"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "grep -q -F '%s' %s/labels.txt", want[i], tmp);
        cr_expect_eq(sp_test_system(cmd), 0, "segment %s missing", want[i]);
    }
    run_ok("dcmdump -Un +P SOPClassUID %s/out/seg.dcm | grep -q 1.2.840.10008.5.1.4.1.1.66.4 && test %s", tmp, "1");
    /* same study and frame of reference as the source; the source series referenced */
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "src=$(ls %s/ph/dicom/* | head -1); for t in StudyInstanceUID FrameOfReferenceUID; do "
             "a=$(dcmdump +P $t $src | head -1 | sed 's/.*\\[\\(.*\\)\\].*/\\1/'); "
             "dcmdump +P $t %s/out/seg.dcm | grep -q -F \"[$a]\" || exit 1; done; "
             "s=$(dcmdump +P SeriesInstanceUID $src | head -1 | sed 's/.*\\[\\(.*\\)\\].*/\\1/'); "
             "dcmdump %s/out/seg.dcm | grep -F \"[$s]\" > /dev/null",
             tmp, tmp, tmp);
    cr_expect_eq(sp_test_system(cmd), 0, "%s", cmd);
    /* per-frame derivation: the source instances are referenced */
    snprintf(cmd, sizeof cmd, "dcmdump +P ReferencedSOPInstanceUID %s/out/seg.dcm | wc -l | awk '$1 < 10 {exit 1}'", tmp);
    cr_expect_eq(sp_test_system(cmd), 0, "too few referenced source instances");
}

Test(report_dicom, seg_loads_back_with_dcmseg)
{
    make_outputs();
    char path[700];
    snprintf(path, sizeof path, "%s/out/seg.dcm", tmp);
    int nseg = 0, nframes = 0;
    sp_err err = {0};
    sp_dicom_init();
    cr_assert_eq(sp_dicom_read_seg_counts(path, &nseg, &nframes, &err), SP_OK, "%s", err.msg);
    cr_expect(nseg >= 6 && nseg <= 7, "5 vertebrae, the lytic lesion and maybe a blastic one, got %d", nseg);
    cr_expect_gt(nframes, 50, "frames: %d", nframes);
}

Test(report_dicom, sr_loads_back_as_tid1500_with_sins)
{
    if (!have("dsrdump")) cr_skip_test("dsrdump (DCMTK) not installed: skipped");
    make_outputs();
    run_ok("dsrdump %s/out/sr.dcm > %s/sr.txt", tmp, tmp);
    static const char *const want[] = {"Imaging Measurement Report", "Imaging Measurements", "Measurement Group",
                                       "Tracking Identifier\")=\"L1\"", "(66794005,SCT,\"L1 vertebra\")",
                                       "SINS location", "SINS bone lesion", "SINS imaging subtotal",
                                       "Vertebral body collapse", "Referenced Segment"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "grep -q -F '%s' %s/sr.txt", want[i], tmp);
        cr_expect_eq(sp_test_system(cmd), 0, "SR lacks %s", want[i]);
    }
    run_ok("dcmdump +P TemplateIdentifier %s/out/sr.dcm | grep -q '\\[1500\\]' && test %s", tmp, "1");
}

Test(report_dicom, nifti_input_skips_seg_and_sr_with_a_message)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "printf '%%s' '%s' > %s/spec.json && %s -q phantom %s/spec.json -o %s/ph && %s -q convert %s/ph/dicom -o %s/ct.nii.gz "
             "&& %s analyze %s/ct.nii.gz -o %s/out 2> %s/err.txt",
             SPEC, tmp, sp_test_binary(), tmp, tmp, sp_test_binary(), tmp, tmp, sp_test_binary(), tmp, tmp, tmp);
    cr_assert_eq(sp_test_system(cmd), 0, "%s", cmd);
    run_ok("test ! -e %s/out/seg.dcm && test ! -e %s/out/sr.dcm", tmp, tmp);
    run_ok("grep -q 'NIfTI input: seg.dcm and sr.dcm skipped' %s/err.txt && test -s %s/out/report.html", tmp, tmp);
    snprintf(cmd, sizeof cmd, "grep -q 'NIfTI input carries no patient data' %s/out/report.html", tmp);
    cr_expect_eq(sp_test_system(cmd), 0);
}
