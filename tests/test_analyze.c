/* test_analyze.c - `spinemet analyze` end to end on a small phantom:
 * report.json fields, label maps written, pain input, 1 vs 2 threads give
 * the same report apart from "timings", usage and I/O errors. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/sp_volume.h"
#include "io/sp_io.h"
#include "support/test_util.h"

static char tmp[512];
static void setup(void) { sp_test_tmpdir(tmp, sizeof tmp); }
static void teardown(void) { sp_test_rmtree(tmp); }
TestSuite(analyze, .init = setup, .fini = teardown, .timeout = 90);

#define SPEC                                                                                               \
    "{\"seed\":3,\"anatomy\":{\"from\":\"T11\",\"to\":\"L2\"},\"scan\":{\"matrix\":[160,160]},"            \
    "\"vertebrae\":{\"T12\":{\"lesion\":{\"type\":\"lytic\",\"parts\":[\"body\"],\"body_extent_pct\":55}}}}"

static void make_phantom(void)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "printf '%%s' '%s' > %s/spec.json && %s -q phantom %s/spec.json -o %s/ph", SPEC, tmp,
             sp_test_binary(), tmp, tmp);
    cr_assert_eq(sp_test_system(cmd), 0, "%s", cmd);
}

static int analyze(const char *extra, const char *out)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s -q analyze %s/ph/dicom -o %s/%s --labels %s/ph/truth_vertebrae.nii.gz --label-scheme verse %s",
             sp_test_binary(), tmp, tmp, out, tmp, extra);
    return sp_test_system(cmd);
}

static cJSON *read_json(const char *rel)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", tmp, rel);
    char *buf = sp_test_read_file(p, NULL);
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    cr_assert_not_null(j, "%s: not JSON", p);
    return j;
}

static const cJSON *level(const cJSON *rep, const char *name)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(rep, "vertebrae"))
        if (!strcmp(cJSON_GetObjectItem(v, "level")->valuestring, name)) return v;
    return NULL;
}

Test(analyze, writes_report_with_evidence_and_pain_range)
{
    make_phantom();
    cr_assert_eq(analyze("", "a"), 0);
    cJSON *r = read_json("a/report.json");
    cr_expect_str_eq(cJSON_GetObjectItem(r, "schema_version")->valuestring, "1.2");
    cr_expect_not_null(cJSON_GetObjectItem(r, "software_version"));
    cr_expect_not_null(cJSON_GetObjectItem(r, "thresholds"));
    cr_expect_not_null(cJSON_GetObjectItem(r, "timings"));
    const cJSON *t12 = level(r, "T12");
    cr_assert_not_null(t12);
    static const char *const keys[] = {"level", "level_confidence", "heights_mm", "collapse_pct", "genant_grade",
                                       "lesion", "wbb", "alignment", "sins", "evidence"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        cr_expect_not_null(cJSON_GetObjectItem(t12, keys[i]), "missing %s", keys[i]);
    const cJSON *les = cJSON_GetObjectItem(t12, "lesion");
    cr_expect_str_eq(cJSON_GetObjectItem(les, "character")->valuestring, "lytic");
    /* paravertebral extension is not assessed: null, with the reason in its
     * evidence, and never a WBB layer A */
    cr_expect(cJSON_IsNull(cJSON_GetObjectItem(les, "paravertebral")), "paravertebral must be null (not assessed)");
    const cJSON *pv = cJSON_GetObjectItem(cJSON_GetObjectItem(t12, "evidence"), "paravertebral");
    cr_expect(pv && cJSON_IsString(cJSON_GetObjectItem(pv, "reason")), "paravertebral evidence needs a reason");
    const cJSON *ly;
    cJSON_ArrayForEach(ly, cJSON_GetObjectItem(cJSON_GetObjectItem(t12, "wbb"), "layers"))
        cr_expect_str_neq(ly->valuestring, "A", "WBB layer A reported though paravertebral is not assessed");
    const cJSON *s = cJSON_GetObjectItem(t12, "sins");
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(s, "applicable")));
    cr_expect(cJSON_IsNull(cJSON_GetObjectItem(s, "pain")), "pain must be null without clinician input");
    cr_expect_eq(cJSON_GetObjectItem(s, "total_max")->valueint - cJSON_GetObjectItem(s, "total_min")->valueint, 3);
    cr_expect_eq(cJSON_GetObjectItem(s, "location")->valueint, 3);
    cr_expect_eq(cJSON_GetObjectItem(s, "bone_lesion")->valueint, 2);
    const cJSON *ev = cJSON_GetObjectItem(t12, "evidence");
    cr_expect_not_null(cJSON_GetObjectItem(ev, "heights"));
    cr_expect_not_null(cJSON_GetObjectItem(ev, "lesion_character"));
    cr_expect_not_null(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "sins"), "collapse"));
    /* no evidence string shows a sentinel or NaN as a number (a part with no
     * voxels in the label read "facet region L -1 %") */
    const cJSON *lv, *e;
    cJSON_ArrayForEach(lv, cJSON_GetObjectItem(r, "vertebrae"))
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(lv, "evidence")) {
            const cJSON *ms = cJSON_GetObjectItem(e, "measurement");
            if (!cJSON_IsString(ms)) continue;
            cr_expect(!strstr(ms->valuestring, "-1 %") && !strstr(ms->valuestring, "nan"), "%s %s: %s",
                      cJSON_GetObjectItem(lv, "level")->valuestring, e->string, ms->valuestring);
        }
    cJSON_Delete(r);
    char p[700];
    snprintf(p, sizeof p, "test -s %s/a/vertebrae.nii.gz && test -s %s/a/parts.nii.gz", tmp, tmp);
    cr_expect_eq(sp_test_system(p), 0, "label maps not written");
    /* with pain: a single total */
    cr_assert_eq(analyze("--pain T12=mechanical", "b"), 0);
    r = read_json("b/report.json");
    s = cJSON_GetObjectItem(level(r, "T12"), "sins");
    cr_expect_eq(cJSON_GetObjectItem(s, "pain")->valueint, 3);
    cr_expect_eq(cJSON_GetObjectItem(s, "total_max")->valueint, cJSON_GetObjectItem(s, "total_min")->valueint);
    cJSON_Delete(r);
}

/* -o creates missing parent folders, as a user expects; a file in the way
 * is an I/O error naming it */
Test(analyze, output_folder_is_created_with_its_parents)
{
    make_phantom();
    cr_assert_eq(analyze("", "new/deeper/out"), 0);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "[ -s %s/new/deeper/out/report.json ]", tmp);
    cr_expect_eq(sp_test_system(cmd), 0, "report.json not in the new folder");
    snprintf(cmd, sizeof cmd, "touch %s/afile && %s -q analyze %s/ph/dicom -o %s/afile/out 2> %s/afile.log", tmp,
             sp_test_binary(), tmp, tmp, tmp);
    cr_expect_eq(sp_test_system(cmd), 2, "a file in the way: exit 2");
    snprintf(cmd, sizeof cmd, "grep -q 'afile' %s/afile.log", tmp);
    cr_expect_eq(sp_test_system(cmd), 0, "the message names the path");
}

Test(analyze, same_report_at_1_and_2_threads)
{
    make_phantom();
    cr_assert_eq(analyze("--threads 1", "t1"), 0);
    cr_assert_eq(analyze("--threads 2", "t2"), 0);
    cJSON *a = read_json("t1/report.json"), *b = read_json("t2/report.json");
    cJSON_DeleteItemFromObject(a, "timings");
    cJSON_DeleteItemFromObject(b, "timings");
    char *sa = cJSON_PrintUnformatted(a), *sb = cJSON_PrintUnformatted(b);
    cr_expect_str_eq(sa, sb, "reports differ between 1 and 2 threads");
    free(sa), free(sb);
    cJSON_Delete(a), cJSON_Delete(b);
}

Test(analyze, errors_have_exit_codes)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s -q analyze %s/missing -o %s/x 2>/dev/null", sp_test_binary(), tmp, tmp);
    cr_expect_eq(sp_test_system(cmd), 2, "missing input: i/o exit code");
    snprintf(cmd, sizeof cmd, "%s -q analyze %s -o %s/x --pain T12=sometimes 2>/dev/null", sp_test_binary(), tmp, tmp);
    cr_expect_eq(sp_test_system(cmd), 1, "bad --pain: usage exit code");
    snprintf(cmd, sizeof cmd, "%s -q analyze %s 2>/dev/null", sp_test_binary(), tmp);
    cr_expect_eq(sp_test_system(cmd), 1, "no -o: usage");
    snprintf(cmd, sizeof cmd, "echo '{\"pain\":{\"T12\":7}}' > %s/c.json && %s -q analyze %s -o %s/x --clinical %s/c.json 2>/dev/null",
             tmp, sp_test_binary(), tmp, tmp, tmp);
    cr_expect_eq(sp_test_system(cmd), 1, "bad clinical sidecar: usage");
}

/* Nothing usable: exit 3, and the one message names the file and why (no
 * second command needed to find out). */
Test(analyze, nothing_usable_names_the_file_and_the_reason)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/junk && echo 'not an image' > %s/junk/notes.txt && %s -q analyze %s/junk -o %s/x 2> %s/junk.log",
             tmp, tmp, sp_test_binary(), tmp, tmp, tmp);
    cr_expect_eq(sp_test_system(cmd), 3, "no usable series: exit 3");
    char p[700];
    snprintf(p, sizeof p, "%s/junk.log", tmp);
    char *log = sp_test_read_file(p, NULL);
    cr_assert_not_null(log);
    cr_expect(strstr(log, "no usable CT or MR series") && strstr(log, "junk/notes.txt: "), "message: %s", log);
    free(log);
}

/* The real PET/CT series in ../shared/data has empty Study, Series and SOP
 * Instance UIDs: analyze still writes every other output, exits 0, and
 * report.json and the log say why seg.dcm and sr.dcm are missing. */
Test(analyze, series_without_uids_gets_every_output_but_seg_and_sr_with_the_reason)
{
    char dir[1024];
    if (!sp_test_shared("ct-totalseg/example_ct_dicom", dir, sizeof dir)) cr_skip_test("../shared/data absent: skipped");
    char cmd[3000];
    snprintf(cmd, sizeof cmd, "%s analyze %s -o %s/real > %s/real.log 2>&1", sp_test_binary(), dir, tmp, tmp);
    cr_assert_eq(sp_test_system(cmd), 0, "%s", cmd);
    cJSON *r = read_json("real/report.json");
    const cJSON *c = cJSON_GetObjectItem(r, "configuration");
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(c, "dicom_outputs")));
    const cJSON *why = cJSON_GetObjectItem(c, "dicom_outputs_reason");
    cr_assert(cJSON_IsString(why));
    cr_expect(strstr(why->valuestring, "no Study Instance UID") != NULL, "reason: %s", why->valuestring);
    snprintf(cmd, sizeof cmd,
             "cd %s/real && [ -s report.html ] && [ -s report.csv ] && [ -s vertebrae.nii.gz ] && [ ! -e seg.dcm ] && "
             "[ ! -e sr.dcm ] && grep -q 'seg.dcm and sr.dcm not written: the source series has no Study Instance UID' %s/real.log",
             tmp, tmp);
    cr_expect_eq(sp_test_system(cmd), 0, "outputs or message wrong: %s", cmd);
    cJSON_Delete(r);
}

/* Writes a 24^3 NIfTI at tmp/name of type t, voxel i = f(i). */
static void write_volume(const char *name, sp_dtype t, double (*f)(size_t))
{
    sp_volume *v = sp_vol_new(t, 24, 24, 24);
    cr_assert_not_null(v);
    for (size_t i = 0; i < 24 * 24 * 24; i++) {
        if (t == SP_U8) ((uint8_t *)v->data)[i] = (uint8_t)f(i);
        else ((float *)v->data)[i] = (float)f(i);
    }
    char p[700];
    sp_err e;
    snprintf(p, sizeof p, "%s/%s", tmp, name);
    cr_assert_eq(sp_io_write_nifti(p, v, &e), SP_OK, "%s", e.msg);
    sp_vol_free(v);
}

static double ramp255(size_t i) { return (double)(i % 256); }
static double mri_units(size_t i) { return 0.5 + (double)(i % 1000); }

/* Data that is not CT in HU is refused with exit 4, naming the file and
 * what was found; float CT (research NIfTI after resampling) is rounded to
 * whole HU and analysed. */
Test(analyze, volumes_that_are_not_ct_in_hu_are_refused_and_float_ct_is_read)
{
    char cmd[2048], p[700];
    write_volume("u8.nii.gz", SP_U8, ramp255);
    write_volume("mri.nii.gz", SP_F32, mri_units);
    snprintf(cmd, sizeof cmd, "%s -q analyze %s/u8.nii.gz -o %s/x 2> %s/u8.log", sp_test_binary(), tmp, tmp, tmp);
    cr_expect_eq(sp_test_system(cmd), 4, "8-bit volume: exit 4");
    snprintf(cmd, sizeof cmd, "%s -q segment %s/mri.nii.gz -o %s/y 2> %s/mri.log", sp_test_binary(), tmp, tmp, tmp);
    cr_expect_eq(sp_test_system(cmd), 4, "float volume without fat or air: exit 4");
    snprintf(p, sizeof p, "%s/u8.log", tmp);
    char *log = sp_test_read_file(p, NULL);
    cr_expect(log && strstr(log, "u8.nii.gz: 8-bit voxels"), "message: %s", log ? log : "(none)");
    free(log);
    snprintf(p, sizeof p, "%s/mri.log", tmp);
    log = sp_test_read_file(p, NULL);
    cr_expect(log && strstr(log, "mri.nii.gz: values from 0.5 to 999.5, none below -100"), "message: %s",
              log ? log : "(none)");
    free(log);
    /* the phantom as float32 with a fractional offset: read, rounded, analysed */
    make_phantom();
    snprintf(cmd, sizeof cmd, "%s -q convert %s/ph/dicom -o %s/ct.nii.gz", sp_test_binary(), tmp, tmp);
    cr_assert_eq(sp_test_system(cmd), 0, "%s", cmd);
    sp_volume *ct = NULL, *fl;
    sp_err e;
    snprintf(p, sizeof p, "%s/ct.nii.gz", tmp);
    cr_assert_eq(sp_io_read_nifti(p, &ct, &e), SP_OK, "%s", e.msg);
    cr_assert_eq(ct->dtype, SP_I16);
    fl = sp_vol_new_like(ct, SP_F32);
    cr_assert_not_null(fl);
    for (size_t i = 0; i < (size_t)ct->nx * ct->ny * ct->nz; i++) ((float *)fl->data)[i] = ((int16_t *)ct->data)[i] + 0.3f;
    snprintf(p, sizeof p, "%s/ct_f32.nii.gz", tmp);
    cr_assert_eq(sp_io_write_nifti(p, fl, &e), SP_OK, "%s", e.msg);
    sp_vol_free(ct), sp_vol_free(fl);
    snprintf(cmd, sizeof cmd, "%s analyze %s/ct_f32.nii.gz -o %s/f 2> %s/f.log", sp_test_binary(), tmp, tmp, tmp);
    cr_expect_eq(sp_test_system(cmd), 0, "float CT: exit 0");
    snprintf(p, sizeof p, "%s/f/report.json", tmp);
    struct stat sb;
    cr_expect_eq(stat(p, &sb), 0, "float CT: no report.json");
    snprintf(p, sizeof p, "%s/f.log", tmp);
    log = sp_test_read_file(p, NULL);
    cr_expect(log && strstr(log, "rounded to whole HU"), "log: %s", log ? log : "(none)");
    free(log);
}
