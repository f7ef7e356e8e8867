/* test_deid.c - `spinemet analyze --deidentify` (docs/report.md,
 * "De-identification"): on a phantom whose DICOM carries a patient name, ID,
 * birth date, sex, age, accession number, institution, physicians, station,
 * operator, study ID, device serial number, descriptions and study, series,
 * acquisition and content dates and times (the phantom spec sets some,
 * dcmodify writes the rest), no original value and no original UID is in
 * any output file (binary and gzip'd ones too) or in analyze's messages;
 * seg.dcm and sr.dcm reference the source through the salted UID mapping
 * computed here with the same C function, carry the PS3.15 attributes and
 * pass dciodvfy; outputs are byte-identical across runs and thread counts,
 * a salt from the option or the environment gives the same files, another
 * salt other UIDs. Also: SHA-256 / HMAC-SHA-256 against published vectors
 * and the UID rule against an independent computation (Python hmac). */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/dicom.h"
#include "io/sp_io.h"
#include "report/sp_report.h"
#include "support/test_util.h"

static char tmp[512];
static void setup(void) { sp_test_tmpdir(tmp, sizeof tmp); }
static void teardown(void) { sp_test_rmtree(tmp); }
TestSuite(deid, .init = setup, .fini = teardown, .timeout = 180);

#define SPEC                                                                                                     \
    "{\"seed\":3,\"anatomy\":{\"from\":\"T11\",\"to\":\"L3\"},\"scan\":{\"matrix\":[160,160],\"pixel_mm\":1.5},"  \
    "\"patient\":{\"id\":\"MRN-48213\",\"name\":\"DOE^JANE^QUINN\",\"study_date\":\"20170412\","                  \
    "\"study_time\":\"093417\"},"                                                                                \
    "\"vertebrae\":{\"L1\":{\"collapse_pct\":40,\"lesion\":{\"type\":\"lytic\"}}}}"

/* Attributes the phantom does not set, written with dcmodify. */
static const char *const MODIFY =
    "-i PatientBirthDate=19630517 -i PatientSex=F -i PatientAge=061Y -i AccessionNumber=ACC7731XQ "
    "-i 'InstitutionName=Spdeid Memorial Hospital' -i 'InstitutionAddress=12 Hiddenway Road' "
    "-i 'ReferringPhysicianName=Refdoc^Quincy' -i StationName=STATIONQ77 -i 'OperatorsName=Opname^Zed' "
    "-i 'PerformingPhysicianName=Perfdoc^Yul' -i StudyID=STID4242 -i DeviceSerialNumber=SN98765Q "
    "-i SeriesDate=20190823 -i AcquisitionDate=20190824 -i ContentDate=20190825 -i AcquisitionTime=101112 "
    "-i 'StudyDescription=SPDEID STUDY DESC' -i 'SeriesDescription=SPDEID SERIES DESC' "
    "-i '(0010,1000)=OPID5555'";

/* Every identifying value of the source (sex "F" is checked with dcmdump). */
static const char *const VALUES[] = {
    "DOE^JANE", "DOE JANE", "QUINN", "MRN-48213", "20170412", "093417", "19630517", "061Y", "ACC7731XQ",
    "Spdeid Memorial", "Hiddenway", "Refdoc", "STATIONQ77", "Opname", "Perfdoc", "STID4242", "SN98765Q",
    "20190823", "20190824", "20190825", "101112", "SPDEID STUDY", "SPDEID SERIES", "OPID5555"};

#define SALT "s3cret-salt-XYZ"

static bool have(const char *tool)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s > /dev/null 2>&1", tool);
    return sp_test_system(cmd) == 0;
}

/* The source: DIR/src/dicom (inside a folder whose name holds the patient's name). */
static void make_source(void)
{
    if (!have("dcmodify") || !have("dcmdump")) cr_skip_test("dcmodify/dcmdump (DCMTK) not installed: skipped");
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "printf '%%s' '%s' > %s/spec.json && %s -q phantom %s/spec.json -o %s/DOE_JANE_export && "
             "dcmodify -nb %s %s/DOE_JANE_export/dicom/*.dcm > %s/dcmodify.txt 2>&1",
             SPEC, tmp, sp_test_binary(), tmp, tmp, MODIFY, tmp, tmp);
    cr_assert_eq(sp_test_system(cmd), 0, "%s", cmd);
    snprintf(cmd, sizeof cmd, "dcmdump +P AccessionNumber +P PatientName %s/DOE_JANE_export/dicom/IM00001.dcm | grep -q ACC7731XQ",
             tmp);
    cr_assert_eq(sp_test_system(cmd), 0, "dcmodify did not write the extra attributes");
}

/* analyze --deidentify into DIR/out with extra options; stderr into DIR/out.log.
 * env: prefix for the command (e.g. "SPINEMET_DEID_SALT=x"). */
static int analyze(const char *out, const char *env, const char *extra)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "env -u SPINEMET_DEID_SALT %s %s analyze %s/DOE_JANE_export/dicom -o %s/%s --deidentify %s 2> %s/%s.log",
             env, sp_test_binary(), tmp, tmp, out, extra, tmp, out);
    return sp_test_system(cmd);
}

static char *slurp(const char *rel, size_t *len)
{
    char p[800];
    snprintf(p, sizeof p, "%s/%s", tmp, rel);
    return sp_test_read_file(p, len);
}

/* stdout of a shell command, malloc'd */
static char *capture(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "%s", cmd);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t k;
    while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (cap - n < 2) buf = realloc(buf, cap *= 2);
    }
    buf[n] = 0;
    pclose(p);
    return buf;
}

/* The source series' references, read as analyze reads them. */
static sp_series_refs *source_refs(void)
{
    char path[700];
    snprintf(path, sizeof path, "%s/DOE_JANE_export/dicom", tmp);
    sp_scan *s = NULL;
    sp_series_refs *r = NULL;
    sp_err err = {0};
    sp_dicom_init();
    cr_assert_eq(sp_io_scan(path, NULL, &s, &err), SP_OK, "%s", err.msg);
    int idx = sp_scan_find_series(s, NULL);
    cr_assert_geq(idx, 0);
    cr_assert_eq(sp_io_series_refs(s, idx, &r, &err), SP_OK, "%s", err.msg);
    sp_scan_free(s);
    cr_assert_gt(r->n, 10);
    return r;
}

static void mapped(const char *salt, const char *uid, char out[SP_UID_LEN])
{
    cr_assert_eq(sp_report_deid_uid(salt, uid, out), SP_OK);
    cr_assert(!strncmp(out, "2.25.", 5) && strlen(out) > 30, "%s -> %s", uid, out);
}

/* ---- the hash and the UID rule ------------------------------------------ */

static void hex(const uint8_t *h, char *out)
{
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", h[i]);
}

Test(deid, sha256_and_hmac_match_published_vectors)
{
    static const struct {
        const char *msg, *digest;
    } v[] = {/* FIPS 180-2 appendix B.1, B.2; the empty message */
             {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
             {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
             {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}};
    uint8_t h[32];
    char x[65];
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        cr_assert_eq(sp_report_sha256(v[i].msg, strlen(v[i].msg), h), SP_OK);
        hex(h, x);
        cr_expect_str_eq(x, v[i].digest, "SHA-256(\"%s\")", v[i].msg);
    }
    /* FIPS 180-2 B.3: one million 'a' */
    char *m = malloc(1000000);
    memset(m, 'a', 1000000);
    cr_assert_eq(sp_report_sha256(m, 1000000, h), SP_OK);
    free(m);
    hex(h, x);
    cr_expect_str_eq(x, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* RFC 4231 test case 2 */
    const char *key = "Jefe", *data = "what do ya want for nothing?";
    cr_assert_eq(sp_report_hmac_sha256(key, strlen(key), data, strlen(data), h), SP_OK);
    hex(h, x);
    cr_expect_str_eq(x, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

Test(deid, uid_mapping_follows_the_documented_rule)
{
    /* expected values from Python: hmac.new(salt, uid, sha256).digest()[:16],
     * byte 6 = (b & 0x0f) | 0x80, byte 8 = (b & 0x3f) | 0x80, "2.25." + big-endian integer */
    const char *uid = "1.2.840.113619.2.55.3.604688119.969.1268071029.320";
    char out[SP_UID_LEN], again[SP_UID_LEN];
    cr_assert_eq(sp_report_deid_uid(NULL, uid, out), SP_OK);
    cr_expect_str_eq(out, "2.25.315096343817009773845593724737147289874", "built-in salt");
    cr_assert_eq(sp_report_deid_uid(SP_DEID_BUILTIN_SALT, uid, again), SP_OK);
    cr_expect_str_eq(again, out, "NULL means the built-in salt");
    cr_assert_eq(sp_report_deid_uid("s3cret", uid, out), SP_OK);
    cr_expect_str_eq(out, "2.25.41762509916980176179695518914513190591");
    cr_assert_eq(sp_report_deid_uid("s3cret", uid, again), SP_OK);
    cr_expect_str_eq(again, out, "deterministic");
    cr_assert_eq(sp_report_deid_uid("s3cret", "1.2.3", again), SP_OK);
    cr_expect_str_neq(again, out, "another UID, another mapping");
    cr_expect_leq(strlen(again), 64);
    cr_assert_eq(sp_report_deid_uid("s3cret", "", again), SP_OK);
    cr_expect_str_eq(again, "", "an empty UID stays empty");
}

/* ---- what analyze writes ------------------------------------------------- */

/* Needles: every identifying value, every original UID, the salt. */
static void write_needles(const sp_series_refs *r, const char *file, bool with_input_path)
{
    char p[800];
    snprintf(p, sizeof p, "%s/%s", tmp, file);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    for (size_t i = 0; i < sizeof VALUES / sizeof VALUES[0]; i++) fprintf(f, "%s\n", VALUES[i]);
    fprintf(f, "%s\n%s\n%s\n", r->study_uid, r->series_uid, r->frame_of_ref_uid);
    for (int i = 0; i < r->n; i++) fprintf(f, "%s\n", r->sop_instance_uid[i]);
    fprintf(f, "%s\nDOE_JANE\n", SALT);
    if (with_input_path) fprintf(f, "%s\n", tmp);
    fclose(f);
}

/* grep every file of DIR (gzip'd ones decompressed) and LOG for the needles;
 * prints what it found. 0 when nothing is found. */
static int found_anything(const char *dir, const char *needles, const char *log, const char *log_needles)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd %s && hits=$( { find %s -type f | sort | while read f; do "
             "case $f in *.gz) zcat \"$f\" | grep -a -o -F -f %s | sed \"s|^|$f: |\";; "
             "*) grep -a -o -F -f %s \"$f\" | sed \"s|^|$f: |\";; esac; done; "
             "grep -o -F -f %s %s | sed 's|^|%s: |'; } | sort | uniq -c); "
             "[ -z \"$hits\" ] || { echo \"$hits\" | head -20 >&2; exit 1; }",
             tmp, dir, needles, needles, log_needles, log, log);
    return sp_test_system(cmd);
}

Test(deid, no_original_value_or_uid_in_any_output_or_message)
{
    make_source();
    sp_series_refs *r = source_refs();
    write_needles(r, "needles.txt", false);
    write_needles(r, "needles_all.txt", true);
    /* built-in salt, and a user salt; messages at the default level */
    cr_assert_eq(analyze("out", "", ""), 0);
    cr_assert_eq(analyze("salted", "", "--deid-salt " SALT), 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd %s/out && find . -type f | sort", tmp);
    char *files = capture(cmd);
    static const char *const want[] = {"./report.json", "./report.html", "./report.csv", "./seg.dcm", "./sr.dcm",
                                       "./keyimages/sagittal.png", "./vertebrae.nii.gz", "./vertebrae.json"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) cr_expect(strstr(files, want[i]) != NULL, "%s missing", want[i]);
    free(files);
    /* files: no value, no UID, not the input path; messages: no value, no UID,
     * not the input folder's name (they do name the output folder, which lies
     * under the same temporary folder: the user's choice, not the source's) */
    cr_expect_eq(found_anything("out", "needles_all.txt", "out.log", "needles.txt"), 0, "original values in out/ or its log");
    cr_expect_eq(found_anything("salted", "needles_all.txt", "salted.log", "needles.txt"), 0,
                 "original values in salted/ or its log");
    /* Type 2 patient/study attributes present and empty; sex removed */
    static const char *const empty[] = {"PatientName", "PatientSex", "PatientBirthDate", "StudyDate", "StudyTime",
                                        "AccessionNumber", "StudyID", "ReferringPhysicianName"};
    for (int k = 0; k < 2; k++)
        for (size_t t = 0; t < sizeof empty / sizeof empty[0]; t++) {
            snprintf(cmd, sizeof cmd, "dcmdump +P %s %s/out/%s.dcm | head -1 | grep -q 'no value available'", empty[t], tmp,
                     k ? "sr" : "seg");
            cr_expect_eq(sp_test_system(cmd), 0, "%s: %s not present and empty", k ? "sr.dcm" : "seg.dcm", empty[t]);
        }
    /* the built-in salt is announced; a given one is not */
    snprintf(cmd, sizeof cmd, "grep -q 'built-in salt' %s/out.log && ! grep -q 'built-in salt' %s/salted.log", tmp, tmp);
    cr_expect_eq(sp_test_system(cmd), 0, "warning about the built-in salt");
    sp_series_refs_free(r);
}

/* value of the first `tag` line of a dcmdump of file, "" when absent */
static void dump_value(const char *file, const char *tag, char *out, size_t n)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "dcmdump +P %s %s/%s | head -1 | sed -n 's/.*\\[\\(.*\\)\\].*/\\1/p'", tag, tmp, file);
    char *v = capture(cmd);
    v[strcspn(v, "\n")] = 0;
    snprintf(out, n, "%s", v);
    free(v);
}

static void expect_dicom_references_mapping(const char *dir, const char *salt, const sp_series_refs *r)
{
    char seg[700], sr[700], study[SP_UID_LEN], series[SP_UID_LEN], fr[SP_UID_LEN], got[128];
    snprintf(seg, sizeof seg, "%s/seg.dcm", dir);
    snprintf(sr, sizeof sr, "%s/sr.dcm", dir);
    mapped(salt, r->study_uid, study);
    mapped(salt, r->series_uid, series);
    mapped(salt, r->frame_of_ref_uid, fr);
    dump_value(seg, "StudyInstanceUID", got, sizeof got);
    cr_expect_str_eq(got, study, "seg.dcm study UID");
    dump_value(sr, "StudyInstanceUID", got, sizeof got);
    cr_expect_str_eq(got, study, "sr.dcm study UID");
    dump_value(seg, "FrameOfReferenceUID", got, sizeof got);
    cr_expect_str_eq(got, fr, "seg.dcm frame of reference");
    char cmd[1024];
    /* report.csv's series_uid (third column) is the mapped UID the SEG/SR reference, on every row */
    snprintf(cmd, sizeof cmd, "tail -n +2 %s/%s/report.csv | cut -d, -f3 | sort -u", tmp, dir);
    char *col = capture(cmd);
    char want_col[SP_UID_LEN + 2];
    snprintf(want_col, sizeof want_col, "%s\n", series);
    cr_expect_str_eq(col, want_col, "%s/report.csv series_uid", dir);
    free(col);
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "dcmdump %s/%s", tmp, k ? sr : seg);
        char *d = capture(cmd);
        char want[SP_UID_LEN + 4];
        snprintf(want, sizeof want, "[%s]", series);
        cr_expect(strstr(d, want) != NULL, "%s: mapped source series %s not referenced", k ? sr : seg, series);
        int missing = 0;
        for (int i = 0; i < r->n; i++) {
            char u[SP_UID_LEN];
            mapped(salt, r->sop_instance_uid[i], u);
            snprintf(want, sizeof want, "[%s]", u);
            if (!strstr(d, want)) missing++;
        }
        cr_expect_eq(missing, 0, "%s: %d of %d mapped source instances not referenced", k ? sr : seg, missing, r->n);
        /* PS3.15 attributes */
        cr_expect(strstr(d, "PatientIdentityRemoved") && strstr(d, "[YES]"), "%s: PatientIdentityRemoved", k ? sr : seg);
        cr_expect(strstr(d, "DeidentificationMethod ") || strstr(d, "DeidentificationMethod\n"), "%s: DeidentificationMethod",
                  k ? sr : seg);
        cr_expect(strstr(d, "[113100]") && strstr(d, "[Basic Application Confidentiality Profile]"), "%s: code 113100",
                  k ? sr : seg);
        cr_expect(strstr(d, "[REMOVED]") && strstr(d, "LongitudinalTemporalInformationModified"), "%s", k ? sr : seg);
        free(d);
    }
}

Test(deid, seg_and_sr_reference_the_mapped_source_and_pass_dciodvfy)
{
    make_source();
    sp_series_refs *r = source_refs();
    cr_assert_eq(analyze("out", "", ""), 0);
    cr_assert_eq(analyze("salted", "", "--deid-salt " SALT), 0);
    expect_dicom_references_mapping("out", NULL, r);
    expect_dicom_references_mapping("salted", SALT, r);
    /* the SEG is referenced from the SR by its new UID */
    char seg_uid[128], cmd[1024];
    dump_value("out/seg.dcm", "SOPInstanceUID", seg_uid, sizeof seg_uid);
    snprintf(cmd, sizeof cmd, "dcmdump %s/out/sr.dcm | grep -q -F '[%s]'", tmp, seg_uid);
    cr_expect_eq(sp_test_system(cmd), 0, "sr.dcm does not reference seg.dcm");
    if (!have("dciodvfy")) {
        sp_series_refs_free(r);
        cr_skip_test("dciodvfy (dicom3tools) not installed: the rest skipped");
    }
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "dciodvfy %s/out/%s > %s/v.txt 2>&1; grep '^Error' %s/v.txt | head -20 >&2; ! grep -q '^Error' %s/v.txt",
                 tmp, k ? "sr.dcm" : "seg.dcm", tmp, tmp, tmp);
        cr_expect_eq(sp_test_system(cmd), 0, "dciodvfy found errors in %s", k ? "sr.dcm" : "seg.dcm");
    }
    sp_series_refs_free(r);
}

static void expect_same(const char *a, const char *b, bool same)
{
    /* vertebrae.json holds segment's timing, report.json its timings: compared apart */
    static const char *const files[] = {"report.html", "report.csv", "seg.dcm", "sr.dcm", "vertebrae.nii.gz", "parts.nii.gz", "keyimages/sagittal.png",
                                        "keyimages/coronal.png", "keyimages/axial_L1.png"};
    char cmd[1200];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(cmd, sizeof cmd, "cmp -s %s/%s/%s %s/%s/%s", tmp, a, files[i], tmp, b, files[i]);
        bool eq = sp_test_system(cmd) == 0;
        bool dicom = strstr(files[i], ".dcm") != NULL;
        if (same || dicom) cr_expect_eq(eq, same, "%s: %s/%s vs %s/%s", same ? "differs" : "same", a, files[i], b, files[i]);
    }
}

/* report.json without its "timings" (run-dependent by design) */
static char *json_without_timings(const char *rel)
{
    char *t = slurp(rel, NULL);
    cJSON *j = cJSON_Parse(t);
    cr_assert_not_null(j, "%s", rel);
    cJSON_DeleteItemFromObject(j, "timings");
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    free(t);
    return s;
}

Test(deid, outputs_identical_across_runs_threads_and_salt_sources)
{
    make_source();
    cr_assert_eq(analyze("a", "", "--threads 2"), 0);
    cr_assert_eq(analyze("b", "", "--threads 1"), 0);
    expect_same("a", "b", true);
    char *ja = json_without_timings("a/report.json"), *jb = json_without_timings("b/report.json");
    cr_expect_str_eq(ja, jb, "report.json differs between runs");
    free(ja), free(jb);
    /* the same salt from the option or the environment: the same files */
    cr_assert_eq(analyze("opt", "", "--deid-salt " SALT), 0);
    cr_assert_eq(analyze("env", "SPINEMET_DEID_SALT=" SALT, ""), 0);
    expect_same("opt", "env", true);
    /* the option wins over the environment */
    cr_assert_eq(analyze("both", "SPINEMET_DEID_SALT=other", "--deid-salt " SALT), 0);
    expect_same("opt", "both", true);
    /* another salt: other UIDs, hence other DICOM files; the rest is the same */
    expect_same("a", "opt", false);
    char ua[128], uo[128];
    dump_value("a/seg.dcm", "StudyInstanceUID", ua, sizeof ua);
    dump_value("opt/seg.dcm", "StudyInstanceUID", uo, sizeof uo);
    cr_expect_str_neq(ua, uo, "the salt does not change the study UID");
    dump_value("a/seg.dcm", "SOPInstanceUID", ua, sizeof ua);
    dump_value("opt/seg.dcm", "SOPInstanceUID", uo, sizeof uo);
    cr_expect_str_neq(ua, uo, "the salt does not change the SEG's own UID");
}

Test(deid, report_json_records_it_and_the_salt_origin_only)
{
    make_source();
    cr_assert_eq(analyze("out", "", ""), 0);
    cr_assert_eq(analyze("salted", "SPINEMET_DEID_SALT=" SALT, ""), 0);
    static const char *const dirs[2] = {"out", "salted"}, *const origin[2] = {"built-in", "user-supplied"};
    for (int k = 0; k < 2; k++) {
        char rel[64];
        snprintf(rel, sizeof rel, "%s/report.json", dirs[k]);
        char *t = slurp(rel, NULL);
        cr_expect(strstr(t, SALT) == NULL, "the salt itself is in %s", rel);
        cJSON *j = cJSON_Parse(t);
        cr_assert_not_null(j);
        cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "deidentified")), "%s: deidentified", rel);
        const cJSON *c = cJSON_GetObjectItem(j, "configuration");
        cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(c, "deidentify")));
        const cJSON *d = cJSON_GetObjectItem(c, "deidentification");
        cr_assert_not_null(d, "%s: configuration.deidentification", rel);
        cr_expect_str_eq(cJSON_GetObjectItem(d, "salt")->valuestring, origin[k]);
        const cJSON *in = cJSON_GetObjectItem(j, "input");
        cr_expect_str_eq(cJSON_GetObjectItem(in, "path")->valuestring, "(de-identified)");
        cr_expect_str_eq(cJSON_GetObjectItem(in, "description")->valuestring, "");
        cJSON_Delete(j);
        free(t);
        snprintf(rel, sizeof rel, "%s/report.html", dirs[k]);
        t = slurp(rel, NULL);
        cr_expect(strstr(t, "de-identified") != NULL, "%s header", rel);
        free(t);
    }
}

Test(deid, salt_without_deidentify_is_a_usage_error)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s analyze %s -o %s/out --deid-salt x 2> %s/err.txt", sp_test_binary(), tmp, tmp, tmp);
    cr_expect_eq(sp_test_system(cmd), 1);
    char *e = slurp("err.txt", NULL);
    cr_expect(strstr(e, "--deid-salt needs --deidentify") != NULL, "%s", e);
    free(e);
    snprintf(cmd, sizeof cmd, "%s analyze --help | grep -q -- '--deid-salt'", sp_test_binary());
    cr_expect_eq(sp_test_system(cmd), 0, "--help documents --deid-salt");
}

Test(deid, input_path_is_not_in_error_messages)
{
    /* a folder named after the patient with nothing usable in it: the error names the folder */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/DOE_JANE_1963 && echo hello > %s/DOE_JANE_1963/notes.txt", tmp, tmp);
    cr_assert_eq(sp_test_system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s analyze %s/DOE_JANE_1963 -o %s/out --deidentify 2> %s/err.txt", sp_test_binary(), tmp,
             tmp, tmp);
    cr_expect_eq(sp_test_system(cmd), 3);
    char *e = slurp("err.txt", NULL);
    cr_expect(strstr(e, "DOE_JANE") == NULL, "input path in the message: %s", e);
    cr_expect(strstr(e, "(input)") != NULL && strstr(e, "no usable") != NULL, "message: %s", e);
    free(e);
    /* without --deidentify the message names the folder (as before) */
    snprintf(cmd, sizeof cmd, "%s analyze %s/DOE_JANE_1963 -o %s/out 2> %s/err.txt", sp_test_binary(), tmp, tmp, tmp);
    cr_expect_eq(sp_test_system(cmd), 3);
    e = slurp("err.txt", NULL);
    cr_expect(strstr(e, "DOE_JANE_1963") != NULL, "message: %s", e);
    free(e);
}
