/* test_report.c - what `spinemet analyze` writes for people: report.html
 * structure and statements, report.csv columns, key images without PNG
 * metadata, --deidentify, byte-identical outputs at 1 and 2 threads, and the
 * report's values against truth.json on several small phantoms. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support/test_util.h"

static char tmp[512];
static void setup(void) { sp_test_tmpdir(tmp, sizeof tmp); }
static void teardown(void) { sp_test_rmtree(tmp); }
TestSuite(report, .init = setup, .fini = teardown, .timeout = 120);

#define SPEC_L1                                                                                                  \
    "{\"seed\":3,\"anatomy\":{\"from\":\"T11\",\"to\":\"L3\"},\"scan\":{\"matrix\":[160,160],\"pixel_mm\":1.5},"  \
    "\"vertebrae\":{\"L1\":{\"collapse_pct\":40,\"lesion\":{\"type\":\"lytic\"}}}}"

static void make_phantom(const char *name, const char *spec)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "printf '%%s' '%s' > %s/%s.json && %s -q phantom %s/%s.json -o %s/%s", spec, tmp, name,
             sp_test_binary(), tmp, name, tmp, name);
    cr_assert_eq(sp_test_system(cmd), 0, "%s", cmd);
}

static int analyze(const char *ph, const char *out, const char *extra)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s -q analyze %s/%s/dicom -o %s/%s %s 2> %s/%s.err", sp_test_binary(), tmp, ph, tmp, out,
             extra, tmp, out);
    return sp_test_system(cmd);
}

static char *slurp(const char *rel, size_t *len)
{
    char p[800];
    snprintf(p, sizeof p, "%s/%s", tmp, rel);
    return sp_test_read_file(p, len);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static int list_pngs(const char *rel, char names[][64], int max)
{
    char p[800];
    snprintf(p, sizeof p, "%s/%s", tmp, rel);
    DIR *d = opendir(p);
    cr_assert_not_null(d, "%s", p);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max)
        if (strstr(e->d_name, ".png")) snprintf(names[n++], 64, "%s", e->d_name);
    closedir(d);
    return n;
}

Test(report, html_has_statements_table_and_every_key_image)
{
    make_phantom("ph", SPEC_L1);
    cr_assert_eq(analyze("ph", "out", ""), 0);
    char *h = slurp("out/report.html", NULL);
    cr_expect(strstr(h, "pre-fills values for clinical confirmation; not a medical device") != NULL);
    cr_expect(strstr(h, "zone 1 begins at the posterior midline") != NULL, "WBB convention stated");
    cr_expect(strstr(h, "1&ndash;6 lie on the patient's left") != NULL);
    cr_expect(strstr(h, "<table id=\"summary\">") != NULL);
    cr_expect(strstr(h, "PHANTOM-0001") != NULL, "identified header shows the patient ID");
    cr_expect(strstr(h, "<script") == NULL && strstr(h, "http://") == NULL && strstr(h, "https://") == NULL,
              "self-contained: no scripts, no external resources");
    cr_expect(strstr(h, "left zone") != NULL, "WBB sides in words");
    char names[64][64];
    int n = list_pngs("out/keyimages", names, 64);
    cr_expect_geq(n, 3, "sagittal, coronal and the L1 axial");
    cr_expect_eq(count(h, "<img class=\"keyimage\""), n, "every key image embedded");
    cr_expect_eq(count(h, "src=\"data:image/png;base64,iVBORw0KGgo"), n);
    for (int i = 0; i < n; i++) cr_expect(strstr(h, names[i]) != NULL, "%s not in the page", names[i]);
    cr_expect(strstr(h, "keyimages/axial_L1.png") != NULL);
    /* one summary row per vertebra of report.json */
    char *j = slurp("out/report.json", NULL);
    cJSON *r = cJSON_Parse(j);
    cr_assert_not_null(r);
    const cJSON *cfg = cJSON_GetObjectItem(r, "configuration");
    cr_expect_not_null(cfg, "report.json has the run's configuration");
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(cfg, "deidentify")));
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(cfg, "dicom_outputs")));
    cr_expect_not_null(cJSON_GetObjectItem(r, "thresholds"));
    cr_expect_not_null(cJSON_GetObjectItem(r, "software_version"));
    cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "input"), "description")->valuestring, "spinemet phantom");
    int nv = cJSON_GetArraySize(cJSON_GetObjectItem(r, "vertebrae"));
    char *tb = strstr(h, "<tbody>"), *te = strstr(h, "</tbody>");
    cr_assert(tb && te);
    *te = 0;
    cr_expect_eq(count(tb, "<tr"), nv);
    cJSON_Delete(r);
    free(j), free(h);
}

static const char *const CSV_HEADER =
    "patient_id,study_date,series_uid,level,label,level_confidence,level_uncertain,"
    "height_anterior_mm,height_middle_mm,height_posterior_mm,expected_height_mm,collapse_pct,genant_grade,genant_shape,"
    "lesion_character,body_involvement_pct,lytic_ml,blastic_ml,posterolateral,pedicle_left_pct,pedicle_right_pct,"
    "facet_left_pct,facet_right_pct,cortical_breach,paravertebral,epidural,"
    "wbb_zones,wbb_zones_left,wbb_zones_right,wbb_layers,"
    "translation_mm,sagittal_deviation_deg,coronal_deg,cobb_deg,"
    "sins_applicable,sins_location,sins_pain,sins_bone_lesion,sins_alignment,sins_collapse,sins_posterolateral,"
    "sins_imaging_subtotal,sins_total_min,sins_total_max,sins_category_min,sins_category_max,partial";

/* field `col` (0-based) of a CSV line without quotes into buf */
static const char *csv_field(const char *line, int col, char *buf, size_t n)
{
    const char *p = line;
    for (int c = 0; c < col && p; c++) {
        p = strchr(p, ',');
        if (p) p++;
    }
    buf[0] = 0;
    if (!p) return buf;
    size_t k = strcspn(p, ",\n");
    snprintf(buf, n, "%.*s", (int)k, p);
    return buf;
}

static int csv_col(const char *name)
{
    char b[64];
    for (int c = 0; c < 64; c++)
        if (!strcmp(csv_field(CSV_HEADER, c, b, sizeof b), name)) return c;
    return -1;
}

/* A scan that cuts T10: its row says partial = 1 (heights empty), as
 * report.json does; every other row says 0. */
Test(report, csv_marks_vertebrae_cut_by_the_scan_as_partial)
{
    make_phantom("cut", "{\"seed\":5,\"anatomy\":{\"from\":\"T10\",\"to\":\"L2\"},\"scan\":{\"fov_from\":\"T11\","
                        "\"fov_to\":\"L2\",\"margin_mm\":15,\"matrix\":[160,160],\"pixel_mm\":1.5}}");
    cr_assert_eq(analyze("cut", "out", ""), 0);
    char *js = slurp("out/report.json", NULL), *csv = slurp("out/report.csv", NULL);
    cJSON *rj = cJSON_Parse(js);
    cr_assert_not_null(rj);
    int npartial = 0, rows = 0;
    char *line = strchr(csv, '\n') + 1;
    const cJSON *jv;
    cJSON_ArrayForEach(jv, cJSON_GetObjectItem(rj, "vertebrae")) {
        cr_assert(*line, "fewer CSV rows than report.json vertebrae");
        char *e = strchr(line, '\n');
        *e = 0;
        char b[64];
        bool p = cJSON_IsTrue(cJSON_GetObjectItem(jv, "partial"));
        npartial += p;
        cr_expect_str_eq(csv_field(line, csv_col("level"), b, sizeof b), cJSON_GetObjectItem(jv, "level")->valuestring);
        cr_expect_str_eq(csv_field(line, csv_col("partial"), b, sizeof b), p ? "1" : "0", "row %d", rows);
        if (p) cr_expect_str_eq(csv_field(line, csv_col("height_anterior_mm"), b, sizeof b), "", "partial: no heights");
        line = e + 1, rows++;
    }
    cr_expect_eq(*line, 0, "more CSV rows than report.json vertebrae");
    cr_expect_geq(npartial, 1, "T10 is cut by the scan");
    cJSON_Delete(rj);
    free(js), free(csv);
}

Test(report, csv_has_stable_columns_and_one_row_per_vertebra)
{
    make_phantom("ph", SPEC_L1);
    cr_assert_eq(analyze("ph", "out", ""), 0);
    char *csv = slurp("out/report.csv", NULL);
    size_t hl = strlen(CSV_HEADER);
    cr_assert(!strncmp(csv, CSV_HEADER, hl) && csv[hl] == '\n', "header changed:\n%.*s", 400, csv);
    int ncols = count(CSV_HEADER, ",") + 1, rows = 0;
    for (char *line = strchr(csv, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        char *e = strchr(line, '\n');
        *e = 0;
        cr_expect_eq(count(line, ",") + 1, ncols, "row %d: %s", rows, line);
        char b[64];
        if (!strcmp(csv_field(line, csv_col("level"), b, sizeof b), "L1")) {
            cr_expect_str_eq(csv_field(line, csv_col("lesion_character"), b, sizeof b), "lytic");
            cr_expect_str_eq(csv_field(line, csv_col("sins_pain"), b, sizeof b), "", "pain unknown: empty");
            cr_expect_str_eq(csv_field(line, csv_col("patient_id"), b, sizeof b), "PHANTOM-0001");
        }

        *e = '\n';
        rows++;
    }
    cr_expect_eq(rows, 5, "T11..L3");
    free(csv);
}

/* PNG chunk types in order, e.g. "IHDR IDAT IEND" */
static void png_chunks(const char *rel, char *out, size_t n)
{
    size_t len;
    unsigned char *d = (unsigned char *)slurp(rel, &len);
    cr_assert(len > 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8), "%s: not a PNG", rel);
    size_t off = 8, o = 0;
    out[0] = 0;
    while (off + 8 <= len) {
        unsigned long clen = (unsigned long)d[off] << 24 | d[off + 1] << 16 | d[off + 2] << 8 | d[off + 3];
        char type[5] = {(char)d[off + 4], (char)d[off + 5], (char)d[off + 6], (char)d[off + 7], 0};
        if (!strstr(out, type)) o += (size_t)snprintf(out + o, n - o, "%s ", type);
        off += 12 + clen;
    }
    free(d);
}

Test(report, key_images_carry_no_metadata)
{
    make_phantom("ph", SPEC_L1);
    cr_assert_eq(analyze("ph", "out", ""), 0);
    char names[64][64], rel[256], chunks[256];
    int n = list_pngs("out/keyimages", names, 64);
    cr_assert_geq(n, 3);
    for (int i = 0; i < n; i++) {
        snprintf(rel, sizeof rel, "out/keyimages/%s", names[i]);
        png_chunks(rel, chunks, sizeof chunks);
        static const char *const banned[] = {"tEXt", "zTXt", "iTXt", "tIME", "eXIf"};
        for (size_t b = 0; b < sizeof banned / sizeof banned[0]; b++)
            cr_expect(strstr(chunks, banned[b]) == NULL, "%s has a %s chunk (%s)", names[i], banned[b], chunks);
        cr_expect(!strncmp(chunks, "IHDR ", 5) && strstr(chunks, "IDAT ") && strstr(chunks, "IEND "), "%s", chunks);
        size_t len;
        char *d = slurp(rel, &len);
        bool found = false;
        for (size_t k = 0; k + 7 <= len && !found; k++) found = !memcmp(d + k, "PHANTOM", 7);
        cr_expect(!found, "%s holds patient data", names[i]);
        free(d);
    }
}

static void expect_absent_everywhere(const char *dir, const char *needle)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "grep -r -l -a -F '%s' %s/%s > /dev/null", needle, tmp, dir);
    cr_expect_neq(sp_test_system(cmd), 0, "'%s' found in %s (grep -r -a -F '%s' %s/%s)", needle, dir, needle, tmp, dir);
}

Test(report, deidentify_removes_identifiers_everywhere)
{
    make_phantom("ph", SPEC_L1);
    cr_assert_eq(analyze("ph", "out", "--deidentify"), 0);
    expect_absent_everywhere("out", "PHANTOM^SPINE");
    expect_absent_everywhere("out", "PHANTOM SPINE");
    expect_absent_everywhere("out", "PHANTOM-0001");
    expect_absent_everywhere("out", "20000101"); /* study date */
    expect_absent_everywhere("out", tmp);         /* the input path */
    char *h = slurp("out/report.html", NULL);
    cr_expect(strstr(h, "de-identified") != NULL);
    free(h);
    /* the DICOM objects get an anonymous patient ID */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "dcmdump +P PatientID %s/out/seg.dcm | grep -q SPINEMET-", tmp);
    cr_expect_eq(sp_test_system(cmd), 0, "%s", cmd);
}

Test(report, outputs_identical_at_1_and_2_threads)
{
    make_phantom("ph", SPEC_L1);
    cr_assert_eq(analyze("ph", "t1", "--threads 1"), 0);
    cr_assert_eq(analyze("ph", "t2", "--threads 2"), 0);
    static const char *const files[] = {"report.html", "report.csv", "seg.dcm", "sr.dcm", "keyimages/sagittal.png",
                                        "keyimages/coronal.png", "keyimages/axial_L1.png"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "cmp -s %s/t1/%s %s/t2/%s", tmp, files[i], tmp, files[i]);
        cr_expect_eq(sp_test_system(cmd), 0, "%s differs between 1 and 2 threads", files[i]);
    }
}

/* ---- values against truth.json on several phantoms ---------------------- */

static const cJSON *truth_level(const cJSON *t, const char *name)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(t, "vertebrae")) {
        const char *n = cJSON_GetObjectItem(v, "name")->valuestring;
        if (!strcmp(n, name) || (!strcmp(name, "S") && !strcmp(n, "S1"))) return v;
    }
    return NULL;
}

static const cJSON *report_level(const cJSON *r, const char *name)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(r, "vertebrae"))
        if (!strcmp(cJSON_GetObjectItem(v, "level")->valuestring, name)) return v;
    return NULL;
}

/* The CSV carries report.json's values, and they match truth.json: level
 * names, lesion character, SINS location and bone lesion exactly, collapse
 * within 15 percentage points at levels away from the scan's ends. The full
 * accuracy tables against truth are score's (docs/scoring.md). */
static void check_against_truth(const char *name, const char *spec, const char *lesion_level, bool truth_labels)
{
    make_phantom(name, spec);
    char out[128], extra[512];
    snprintf(out, sizeof out, "%s_out", name);
    snprintf(extra, sizeof extra, "--no-dicom-out");
    if (truth_labels)
        snprintf(extra, sizeof extra, "--no-dicom-out --labels %s/%s/truth_vertebrae.nii.gz --label-scheme verse", tmp, name);
    cr_assert_eq(analyze(name, out, extra), 0, "%s", name);
    char rel[256];
    snprintf(rel, sizeof rel, "%s/truth.json", name);
    char *tj = slurp(rel, NULL);
    cJSON *t = cJSON_Parse(tj);
    snprintf(rel, sizeof rel, "%s/report.json", out);
    char *rj = slurp(rel, NULL);
    cJSON *r = cJSON_Parse(rj);
    cr_assert(t && r);
    snprintf(rel, sizeof rel, "%s/report.csv", out);
    char *csv = slurp(rel, NULL);
    int seen_lesion = 0, row = 0, nrows = count(csv, "\n") - 1;
    for (char *line = strchr(csv, '\n') + 1; *line; line = strchr(line, '\n') + 1, row++) {
        char *e = strchr(line, '\n');
        *e = 0;
        char lv[16], b[64];
        csv_field(line, csv_col("level"), lv, sizeof lv);
        const cJSON *tv = truth_level(t, lv), *rv = report_level(r, lv);
        cr_expect_not_null(tv, "%s: level %s not in truth", name, lv);
        cr_expect_not_null(rv, "%s: level %s not in report.json", name, lv);
        const cJSON *rc = rv ? cJSON_GetObjectItem(rv, "collapse_pct") : NULL;
        const char *cp = csv_field(line, csv_col("collapse_pct"), b, sizeof b);
        if (rc && cJSON_IsNumber(rc))
            cr_expect(*cp && fabs(atof(cp) - rc->valuedouble) < 0.051, "%s %s: CSV %s vs JSON %.2f", name, lv, cp,
                      rc->valuedouble);
        bool interior = row > 0 && row < nrows - 1;
        if (tv && interior && *cp && !strcmp(cJSON_GetObjectItem(tv, "in_fov")->valuestring, "full")) {
            double tc = cJSON_GetObjectItem(tv, "collapse_pct")->valuedouble;
            cr_expect(fabs(atof(cp) - tc) <= 15.0, "%s %s collapse %s vs truth %.1f", name, lv, cp, tc);
        }
        if (tv && lesion_level && !strcmp(lv, lesion_level)) {
            seen_lesion = 1;
            const cJSON *tl = cJSON_GetObjectItem(tv, "lesion"), *ts = cJSON_GetObjectItem(tv, "sins");
            cr_expect_str_eq(csv_field(line, csv_col("lesion_character"), b, sizeof b),
                             cJSON_GetObjectItem(tl, "character")->valuestring, "%s %s character", name, lv);
            cr_expect_eq(atoi(csv_field(line, csv_col("sins_location"), b, sizeof b)),
                         cJSON_GetObjectItem(ts, "location")->valueint, "%s %s location", name, lv);
            cr_expect_eq(atoi(csv_field(line, csv_col("sins_bone_lesion"), b, sizeof b)),
                         cJSON_GetObjectItem(ts, "bone_lesion")->valueint, "%s %s bone lesion", name, lv);
        } else if (tv && cJSON_IsNull(cJSON_GetObjectItem(tv, "lesion")) && truth_labels) {
            /* the sacrum is not assessed for lesions, with the reason (score/measure_lesion.c) */
            bool sacrum = !strcmp(lv, "S");
            cr_expect_str_eq(csv_field(line, csv_col("lesion_character"), b, sizeof b), sacrum ? "not assessed" : "none",
                             "%s %s", name, lv);
            if (sacrum && rv) {
                const cJSON *ev = cJSON_GetObjectItem(cJSON_GetObjectItem(rv, "evidence"), "lesion");
                const cJSON *why = cJSON_GetObjectItem(ev, "reason");
                cr_expect(cJSON_IsString(why) && strstr(why->valuestring, "sacrum"), "%s: sacrum's reason", name);
            }
        }
        *e = '\n';
    }
    if (lesion_level) cr_expect(seen_lesion, "%s: %s missing from the CSV", name, lesion_level);
    cJSON_Delete(t), cJSON_Delete(r);
    free(tj), free(rj), free(csv);
}

Test(report, values_match_truth_on_several_phantoms)
{
    check_against_truth("lytic", SPEC_L1, "L1", false);
    check_against_truth("blastic",
                        "{\"seed\":5,\"anatomy\":{\"from\":\"T10\",\"to\":\"L2\"},\"scan\":{\"matrix\":[160,160],"
                        "\"pixel_mm\":1.5},\"vertebrae\":{\"T11\":{\"lesion\":{\"type\":\"blastic\"}}}}",
                        "T11", true);
    check_against_truth("mixed",
                        "{\"seed\":5,\"anatomy\":{\"from\":\"T10\",\"to\":\"L2\"},\"scan\":{\"matrix\":[160,160],"
                        "\"pixel_mm\":1.5},\"vertebrae\":{\"T12\":{\"lesion\":{\"type\":\"mixed\"}}}}",
                        "T12", true);
    check_against_truth("normal",
                        "{\"seed\":7,\"anatomy\":{\"from\":\"L2\",\"to\":\"S1\"},\"scan\":{\"matrix\":[160,160],"
                        "\"pixel_mm\":1.5}}",
                        NULL, true);
}

Test(report, progress_line_per_stage_on_a_terminal_only)
{
    if (sp_test_system("command -v script > /dev/null 2>&1") != 0) cr_skip_test("script(1) not installed: skipped");
    make_phantom("ph", SPEC_L1);
    char cmd[2048];
    /* script(1) gives the command a terminal */
    snprintf(cmd, sizeof cmd, "script -qec '%s analyze %s/ph/dicom -o %s/tty --no-dicom-out' /dev/null > %s/tty.txt 2>&1",
             sp_test_binary(), tmp, tmp, tmp);
    cr_assert_eq(sp_test_system(cmd), 0, "%s", cmd);
    char *t = slurp("tty.txt", NULL);
    static const char *const stages[] = {"[1/5] load", "[2/5] segment", "[3/5] measure", "[4/5] score", "[5/5] report"};
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++)
        cr_expect(strstr(t, stages[i]) != NULL, "no progress line '%s' on a terminal:\n%s", stages[i], t);
    cr_expect(strstr(t, "PHANTOM") == NULL, "patient data in the log");
    free(t);
    /* not a terminal: no progress lines */
    cr_assert_eq(analyze("ph", "pipe", "--no-dicom-out"), 0);
    snprintf(cmd, sizeof cmd, "grep -q '\\[1/5\\]' %s/pipe.err", tmp);
    cr_expect_neq(sp_test_system(cmd), 0, "progress lines without a terminal");
}

Test(report, no_usable_series_is_exit_3_naming_the_folder)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/empty && echo hello > %s/empty/notes.txt", tmp, tmp);
    cr_assert_eq(sp_test_system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s analyze %s/empty -o %s/out 2> %s/err.txt", sp_test_binary(), tmp, tmp, tmp);
    cr_expect_eq(sp_test_system(cmd), 3);
    char *e = slurp("err.txt", NULL);
    cr_expect(strstr(e, "/empty") != NULL && strstr(e, "no usable") != NULL, "message: %s", e);
    free(e);
    snprintf(cmd, sizeof cmd, "test ! -e %s/out/report.html", tmp);
    cr_expect_eq(sp_test_system(cmd), 0, "no report for a failed run");
}
