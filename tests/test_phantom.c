/* test_phantom.c - the spine CT phantom generator: spec errors, determinism
 * (repeat runs and 1 vs 2 threads), truth re-measured from the written label
 * maps, transitional anatomy, DICOM round trip through the project's loader
 * and through DCMTK / dicom3tools, the command line. Phantoms are small
 * (a few levels) so each test takes a second or two. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sp_geom.h"
#include "core/sp_omp.h"
#include "io/sp_io.h"
#include "phantom/sp_phantom.h"
#include "support/phantom_util.h"
#include "support/test_util.h"

static char tmp[512];
static void setup(void) { sp_test_tmpdir(tmp, sizeof tmp); }
static void teardown(void) { sp_test_rmtree(tmp); }
TestSuite(phantom, .init = setup, .fini = teardown, .timeout = 60);

/* A few lumbar levels, flat (no curvature), 1 mm voxels, no noise. */
#define FLAT_SPEC                                                                                  \
    "{\"anatomy\":{\"from\":\"T12\",\"to\":\"L2\",\"kyphosis_deg\":0,\"lordosis_deg\":0},"         \
    "\"scan\":{\"matrix\":[128,128],\"pixel_mm\":1.0,\"slice_mm\":1.0,\"noise_hu\":0,"             \
    "\"center_mm\":[0,10]},"                                                                       \
    "\"vertebrae\":{\"L1\":{\"collapse_pct\":40,\"collapse_shape\":\"wedge\"}}}"

static cJSON *truth(const sp_phantom *p)
{
    char *t = sp_phantom_truth_json(p);
    cJSON *j = cJSON_Parse(t);
    free(t);
    cr_assert_not_null(j);
    return j;
}

static cJSON *vertebra(cJSON *t, const char *name)
{
    cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(t, "vertebrae"))
        if (!strcmp(cJSON_GetObjectItem(v, "name")->valuestring, name)) return v;
    cr_assert_fail("no vertebra %s in truth", name);
    return NULL;
}

static double jnum(cJSON *o, const char *path)
{
    char buf[128], *tok, *save = NULL;
    snprintf(buf, sizeof buf, "%s", path);
    for (tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
        o = cJSON_GetObjectItem(o, tok);
        cr_assert_not_null(o, "missing %s", path);
    }
    return o->valuedouble;
}

static void expect_parse_error(const char *json, const char *needle)
{
    sp_phantom_spec *s = (sp_phantom_spec *)1;
    sp_err err = {0};
    cr_assert_eq(sp_phantom_spec_parse(json, "my.json", &s, &err), SP_EINVAL, "%s accepted", json);
    cr_assert_null(s);
    cr_assert(strstr(err.msg, "my.json"), "message lacks the file: %s", err.msg);
    cr_assert(strstr(err.msg, needle), "message lacks '%s': %s", needle, err.msg);
}

Test(phantom, spec_errors_name_the_file_and_field)
{
    expect_parse_error("{\"scan\":{\"pixelmm\":1}}", "scan.pixelmm: unknown field");
    expect_parse_error("{\"scann\":{}}", "scann: unknown field");
    expect_parse_error("{\"scan\":{\"pixel_mm\":9}}", "scan.pixel_mm: must be in");
    expect_parse_error("{\"scan\":{\"noise_hu\":\"a\"}}", "scan.noise_hu: must be a number");
    expect_parse_error("{\"anatomy\":{\"from\":\"T14\"}}", "anatomy.from");
    expect_parse_error("{\"anatomy\":{\"from\":\"L2\",\"to\":\"T3\"}}", "anatomy.to");
    expect_parse_error("{\"vertebrae\":{\"L1\":{\"lesion\":{\"type\":\"cystic\"}}}}",
                       "vertebrae.L1.lesion.type: must be one of");
    expect_parse_error("{\"vertebrae\":{\"L1\":{\"lesion\":{\"parts\":[\"toe\"]}}}}",
                       "vertebrae.L1.lesion.parts");
    expect_parse_error("{\"vertebrae\":{\"C2\":{}}}", "vertebrae.C2: not a level");
    expect_parse_error("{\"patient\":{\"study_date\":\"2000-01-01\"}}", "patient.study_date");
    expect_parse_error("{\"scan\":", "not valid JSON");
}

Test(phantom, empty_spec_is_a_normal_t1_s1_spine)
{
    static const int want[] = {8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 26};
    sp_phantom *p = sp_test_phantom("{}");
    cJSON *t = truth(p), *v;
    const sp_volume *lab = sp_phantom_vertebrae(p);
    int64_t count[256] = {0};
    int n = 0;
    for (size_t i = 0; i < sp_vol_nvox(lab); i++) count[((uint8_t *)lab->data)[i]]++;
    for (int k = 0; k < 18; k++) cr_expect_gt(count[want[k]], 1000, "label %d missing", want[k]);
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(t, "vertebrae"))
    {
        cr_expect_str_eq(cJSON_GetObjectItem(v, "in_fov")->valuestring, "full");
        cr_expect_lt(jnum(v, "collapse_pct"), 10);
        cr_expect_eq(jnum(v, "genant.grade"), 0);
        n++;
    }
    cr_expect_eq(n, 18);
    cr_expect_eq(jnum(t, "anatomy.rib_pairs"), 12);
    /* bodies grow caudally */
    cr_expect_lt(jnum(vertebra(t, "T1"), "heights.posterior_mm"), jnum(vertebra(t, "L5"), "heights.posterior_mm"));
    cr_expect_lt(jnum(vertebra(t, "T1"), "body.width_mm"), jnum(vertebra(t, "L5"), "body.width_mm"));
    cJSON_Delete(t);
    sp_phantom_free(p);
}

static void expect_same_volumes(const sp_phantom *a, const sp_phantom *b)
{
    const sp_volume *va[4] = {sp_phantom_ct(a), sp_phantom_vertebrae(a), sp_phantom_parts(a), sp_phantom_lesions(a)};
    const sp_volume *vb[4] = {sp_phantom_ct(b), sp_phantom_vertebrae(b), sp_phantom_parts(b), sp_phantom_lesions(b)};
    char *ta = sp_phantom_truth_json(a), *tb = sp_phantom_truth_json(b);
    for (int k = 0; k < 4; k++) {
        cr_assert_eq(sp_vol_bytes(va[k]), sp_vol_bytes(vb[k]));
        cr_assert_eq(memcmp(va[k]->data, vb[k]->data, sp_vol_bytes(va[k])), 0, "volume %d differs", k);
    }
    cr_assert_str_eq(ta, tb);
    free(ta);
    free(tb);
}

#define LESION_SPEC                                                                                \
    "{\"anatomy\":{\"from\":\"T11\",\"to\":\"L2\"},"                                             \
    "\"scan\":{\"matrix\":[160,160],\"pixel_mm\":1.2,\"slice_mm\":2.0},"                           \
    "\"vertebrae\":{\"L1\":{\"collapse_pct\":55,\"lesion\":{\"type\":\"mixed\","                 \
    "\"parts\":[\"body\",\"pedicle_left\",\"pedicle_right\",\"facet_left\"],"                      \
    "\"body_extent_pct\":70,\"cortical_breach\":true,\"paravertebral_mm\":12,"                     \
    "\"epidural_bilsky\":\"1c\"}}}}"

Test(phantom, same_result_at_1_and_2_threads)
{
    sp_phantom *a, *b;
    sp_omp_set_threads(1);
    a = sp_test_phantom(LESION_SPEC);
    sp_omp_set_threads(2);
    b = sp_test_phantom(LESION_SPEC);
    expect_same_volumes(a, b);
    sp_phantom_free(a);
    sp_phantom_free(b);
}

Test(phantom, seed_changes_noise_only)
{
    const char *s1 = "{\"seed\":1,\"anatomy\":{\"from\":\"L3\",\"to\":\"L4\"},\"scan\":{\"matrix\":[96,96]}}";
    const char *s2 = "{\"seed\":2,\"anatomy\":{\"from\":\"L3\",\"to\":\"L4\"},\"scan\":{\"matrix\":[96,96]}}";
    sp_phantom *a = sp_test_phantom(s1), *b = sp_test_phantom(s2);
    const sp_volume *la = sp_phantom_vertebrae(a), *lb = sp_phantom_vertebrae(b);
    cr_assert_eq(memcmp(la->data, lb->data, sp_vol_bytes(la)), 0);
    cr_assert_neq(memcmp(sp_phantom_ct(a)->data, sp_phantom_ct(b)->data, sp_vol_bytes(la) * 2), 0);
    sp_phantom_free(a);
    sp_phantom_free(b);
}

/* Walks the label map along a truth height line and returns the length of
 * the run of `label` through its middle (nearest-neighbour sampling). */
static double run_length(const sp_volume *lab, const double inv[16], const double *top,
                         const double *bot, int label)
{
    double mid[3], dir[3], len, ends[2] = {0, 0};
    for (int k = 0; k < 3; k++) {
        mid[k] = 0.5 * (top[k] + bot[k]);
        dir[k] = top[k] - bot[k];
    }
    len = sp_normalize3(dir);
    for (int s = 0; s < 2; s++) {
        double sign = s ? -1 : 1, t = 0;
        for (t = 0; t < len; t += 0.01) {
            double p[4] = {mid[0] + sign * t * dir[0], mid[1] + sign * t * dir[1], mid[2] + sign * t * dir[2], 1};
            int ijk[3];
            for (int r = 0; r < 3; r++)
                ijk[r] = (int)lround(inv[r * 4] * p[0] + inv[r * 4 + 1] * p[1] + inv[r * 4 + 2] * p[2] + inv[r * 4 + 3]);
            if (ijk[0] < 0 || ijk[1] < 0 || ijk[2] < 0 || ijk[0] >= lab->nx || ijk[1] >= lab->ny || ijk[2] >= lab->nz ||
                ((uint8_t *)lab->data)[sp_vol_idx(lab, ijk[0], ijk[1], ijk[2])] != label)
                break;
        }
        ends[s] = t;
    }
    return ends[0] + ends[1];
}

/* Heights in truth.json agree with the run lengths in truth_vertebrae.nii.gz. */
static void check_heights(const char *spec, double tol_voxels)
{
    sp_phantom *p = sp_test_phantom(spec);
    cJSON *t = truth(p), *v;
    sp_volume *lab = NULL;
    sp_err err = {0};
    char path[700];
    double inv[16], tol;
    int checked = 0;
    cr_assert_eq(sp_phantom_write_labels(p, tmp, &err), SP_OK, "%s", err.msg);
    snprintf(path, sizeof path, "%s/truth_vertebrae.nii.gz", tmp);
    cr_assert_eq(sp_io_read_nifti(path, &lab, &err), SP_OK, "%s", err.msg);
    cr_assert_eq(lab->dtype, SP_U8);
    cr_assert_eq(sp_mat4_invert(lab->ijk_to_lps, inv), 0);
    tol = tol_voxels * lab->spacing[2];
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(t, "vertebrae"))
    {
        static const char *const where[3] = {"anterior", "middle", "posterior"};
        int label = (int)jnum(v, "label");
        if (strcmp(cJSON_GetObjectItem(v, "in_fov")->valuestring, "full") || label == 26) continue;
        for (int k = 0; k < 3; k++) {
            char key[64];
            cJSON *line = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(v, "heights"), "lines_lps"), where[k]);
            double a[3], b[3], want, got;
            for (int r = 0; r < 3; r++) {
                a[r] = cJSON_GetArrayItem(cJSON_GetArrayItem(line, 0), r)->valuedouble;
                b[r] = cJSON_GetArrayItem(cJSON_GetArrayItem(line, 1), r)->valuedouble;
            }
            snprintf(key, sizeof key, "heights.%s_mm", where[k]);
            want = jnum(v, key);
            got = run_length(lab, inv, a, b, label);
            cr_expect_leq(fabs(got - want), tol, "%s %s: truth %.2f, label map %.2f",
                          cJSON_GetObjectItem(v, "name")->valuestring, where[k], want, got);
            checked++;
        }
    }
    cr_expect_geq(checked, 9);
    sp_vol_free(lab);
    cJSON_Delete(t);
    sp_phantom_free(p);
}

Test(phantom, heights_agree_with_label_map_flat_spine) { check_heights(FLAT_SPEC, 1.0); }

Test(phantom, heights_agree_with_label_map_curved_spine)
{
    check_heights("{\"anatomy\":{\"from\":\"L2\",\"to\":\"L5\"},"
                  "\"scan\":{\"matrix\":[128,128],\"pixel_mm\":1.0,\"slice_mm\":1.0,\"center_mm\":[0,10]},"
                  "\"vertebrae\":{\"L3\":{\"collapse_pct\":30,\"collapse_shape\":\"biconcave\"}}}",
                  1.0);
}

Test(phantom, collapse_and_genant_follow_the_spec)
{
    sp_phantom *p = sp_test_phantom(FLAT_SPEC);
    cJSON *t = truth(p), *l1 = vertebra(t, "L1");
    cr_expect(fabs(jnum(l1, "collapse_pct") - 40) < 4, "collapse %.1f", jnum(l1, "collapse_pct"));
    cr_expect_eq(jnum(l1, "genant.grade"), 2 + (jnum(l1, "collapse_pct") > 40));
    cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(l1, "genant"), "shape")->valuestring, "wedge");
    cr_expect_lt(jnum(l1, "heights.anterior_mm"), jnum(l1, "heights.posterior_mm") * 0.7);
    /* the wedge adds kyphosis at both neighbouring discs */
    cr_expect_gt(jnum(l1, "alignment_above.sagittal_deg"), 5);
    cr_expect_gt(jnum(l1, "alignment_below.sagittal_deg"), 5);
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(l1, "sins"), "applicable")));
    cJSON_Delete(t);
    sp_phantom_free(p);
}

Test(phantom, lesion_truth_follows_the_rules)
{
    sp_phantom *p = sp_test_phantom(LESION_SPEC);
    cJSON *t = truth(p), *l1 = vertebra(t, "L1"), *les = cJSON_GetObjectItem(l1, "lesion");
    cJSON *sins = cJSON_GetObjectItem(l1, "sins"), *z;
    int left = 0, right = 0;
    cr_assert_not_null(les);
    cr_expect_str_eq(cJSON_GetObjectItem(les, "character")->valuestring, "mixed");
    cr_expect(fabs(jnum(les, "body_extent_pct") - 70) < 10, "extent %.1f", jnum(les, "body_extent_pct"));
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(les, "posterolateral"), "left")));
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(les, "posterolateral"), "right")));
    cr_expect_str_eq(cJSON_GetObjectItem(les, "bilsky")->valuestring, "1c");
    cr_expect_gt(jnum(les, "voxels.epidural"), 0);
    cr_expect_gt(jnum(les, "voxels.paravertebral"), 0);
    /* SINS: junctional 3, mixed 1, collapse > 50 % 3, bilateral 3, pain null */
    cr_expect_eq(jnum(sins, "location"), 3);
    cr_expect_eq(jnum(sins, "bone_lesion"), 1);
    cr_expect_eq(jnum(sins, "collapse"), 3);
    cr_expect_eq(jnum(sins, "posterolateral"), 3);
    cr_expect(cJSON_IsNull(cJSON_GetObjectItem(sins, "pain")));
    cr_expect_eq(jnum(sins, "total_max"), jnum(sins, "imaging_subtotal") + 3);
    /* WBB: body zones 4-9 and both sides; layers A (paravertebral), D (epidural) */
    cJSON_ArrayForEach(z, cJSON_GetObjectItem(cJSON_GetObjectItem(les, "wbb"), "zones"))
    {
        if (z->valueint <= 6) left = 1;
        else right = 1;
    }
    cr_expect(left && right);
    cr_expect(strstr(cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItem(les, "wbb"), "layers")), "\"A\""));
    cr_expect(strstr(cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItem(les, "wbb"), "layers")), "\"D\""));
    /* the lesion map holds lytic and blastic voxels inside L1 */
    {
        const sp_volume *lm = sp_phantom_lesions(p), *vm = sp_phantom_vertebrae(p);
        int64_t n[5] = {0};
        for (size_t i = 0; i < sp_vol_nvox(lm); i++) {
            uint8_t l = ((uint8_t *)lm->data)[i];
            if (l == 1 || l == 2) cr_assert_eq(((uint8_t *)vm->data)[i], 20);
            n[l]++;
        }
        cr_expect_eq(n[1], (int64_t)jnum(les, "voxels.lytic"));
        cr_expect_eq(n[2], (int64_t)jnum(les, "voxels.blastic"));
    }
    cJSON_Delete(t);
    sp_phantom_free(p);
}

static void expect_labels(const char *spec, const int *want, int nwant, int ribs)
{
    sp_phantom *p = sp_test_phantom(spec);
    const sp_volume *lab = sp_phantom_vertebrae(p);
    cJSON *t = truth(p);
    int64_t count[256] = {0};
    int present = 0;
    for (size_t i = 0; i < sp_vol_nvox(lab); i++) count[((uint8_t *)lab->data)[i]]++;
    for (int k = 1; k < 256; k++) present += count[k] > 0;
    for (int k = 0; k < nwant; k++) cr_expect_gt(count[want[k]], 500, "label %d missing", want[k]);
    cr_expect_eq(present, nwant);
    cr_expect_eq(jnum(t, "anatomy.rib_pairs"), ribs);
    cJSON_Delete(t);
    sp_phantom_free(p);
}

Test(phantom, transitional_anatomy_labels)
{
    static const int t13[] = {18, 19, 28, 20, 21, 22, 23, 24, 26};
    static const int l6[] = {20, 21, 22, 23, 24, 25, 26};
    expect_labels("{\"anatomy\":{\"from\":\"T11\",\"to\":\"S1\",\"thoracic_count\":13},"
                  "\"scan\":{\"matrix\":[128,128],\"pixel_mm\":2.2,\"slice_mm\":3}}",
                  t13, 9, 3);
    expect_labels("{\"anatomy\":{\"from\":\"L1\",\"to\":\"S1\",\"lumbar_count\":6},"
                  "\"scan\":{\"matrix\":[128,128],\"pixel_mm\":2.2,\"slice_mm\":3}}",
                  l6, 7, 0);
    {
        static const int t11[] = {18, 19, 20};
        expect_labels("{\"anatomy\":{\"from\":\"T11\",\"to\":\"L1\",\"rib_pairs\":11},"
                      "\"scan\":{\"matrix\":[128,128],\"pixel_mm\":2.2,\"slice_mm\":3}}",
                      t11, 3, 1);
    }
}

Test(phantom, fov_crop_shows_only_some_levels)
{
    sp_phantom *p = sp_test_phantom("{\"scan\":{\"fov_from\":\"L2\",\"fov_to\":\"L4\",\"margin_mm\":0,"
                         "\"matrix\":[128,128],\"pixel_mm\":2.5}}");
    cJSON *t = truth(p);
    cr_expect_str_eq(cJSON_GetObjectItem(vertebra(t, "T5"), "in_fov")->valuestring, "none");
    cr_expect_str_eq(cJSON_GetObjectItem(vertebra(t, "L3"), "in_fov")->valuestring, "full");
    cr_expect(cJSON_IsNull(cJSON_GetObjectItem(vertebra(t, "T5"), "centroid_lps")));
    cJSON_Delete(t);
    sp_phantom_free(p);
}

#define RT_SPEC                                                                                    \
    "{\"anatomy\":{\"from\":\"L4\",\"to\":\"S1\"},\"scan\":{\"matrix\":[96,80],"                 \
    "\"pixel_mm\":2.5,\"slice_mm\":3,\"noise_hu\":0}}"

Test(phantom, dicom_round_trips_through_the_loader)
{
    sp_phantom *p = sp_test_phantom(RT_SPEC);
    const sp_volume *ct = sp_phantom_ct(p);
    sp_volume *v = NULL;
    sp_load_info info;
    sp_err err = {0};
    char dir[700];
    snprintf(dir, sizeof dir, "%s/dicom", tmp);
    cr_assert_eq(sp_phantom_write_dicom(p, dir, &err), SP_OK, "%s", err.msg);
    cr_assert_eq(sp_io_load(dir, NULL, &v, &info, &err), SP_OK, "%s", err.msg);
    cr_assert_eq(v->dtype, SP_I16);
    cr_assert_eq(v->nx, ct->nx);
    cr_assert_eq(v->ny, ct->ny);
    cr_assert_eq(v->nz, ct->nz);
    for (int k = 0; k < 16; k++)
        cr_expect(fabs(v->ijk_to_lps[k] - ct->ijk_to_lps[k]) < 1e-3, "geometry[%d] %g vs %g", k,
                  v->ijk_to_lps[k], ct->ijk_to_lps[k]);
    cr_expect_eq(memcmp(v->data, ct->data, sp_vol_bytes(ct)), 0, "HU differ after the round trip");
    cr_expect_str_eq(info.modality, "CT");
    sp_vol_free(v);
    sp_phantom_free(p);
}

Test(phantom, files_are_byte_identical_and_valid_dicom)
{
    char cmd[2200], a[600], b[600];
    snprintf(a, sizeof a, "%s/a", tmp);
    snprintf(b, sizeof b, "%s/b", tmp);
    snprintf(cmd, sizeof cmd, "printf '%%s' '%s' > %s/spec.json", RT_SPEC, tmp);
    cr_assert_eq(sp_test_system(cmd), 0);
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s -q phantom %s/spec.json -o %s && OMP_NUM_THREADS=2 %s -q phantom %s/spec.json -o %s",
             sp_test_binary(), tmp, a, sp_test_binary(), tmp, b);
    cr_assert_eq(sp_test_system(cmd), 0);
    snprintf(cmd, sizeof cmd, "diff -r %s %s >/dev/null", a, b);
    cr_expect_eq(sp_test_system(cmd), 0, "two runs differ");
    snprintf(cmd, sizeof cmd, "dcmdump %s/dicom/IM00001.dcm 2>&1 | grep -q 'PHANTOM^SPINE'", a);
    cr_expect_eq(sp_test_system(cmd), 0, "dcmdump cannot read the slice");
    if (sp_test_system("command -v dciodvfy >/dev/null") != 0) {
        cr_log_warn("dciodvfy (Debian dicom3tools) not installed: DICOM validation skipped");
        return;
    }
    snprintf(cmd, sizeof cmd, "dciodvfy %s/dicom/IM00002.dcm > %s/dciodvfy.txt 2>&1; ! grep -q '^Error' %s/dciodvfy.txt",
             a, tmp, tmp);
    cr_expect_eq(sp_test_system(cmd), 0, "dciodvfy reports errors (see %s/dciodvfy.txt)", tmp);
}

Test(phantom, command_line_help_and_errors)
{
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "%s phantom --help | grep -q truth_vertebrae.nii.gz", sp_test_binary());
    cr_expect_eq(sp_test_system(cmd), 0);
    snprintf(cmd, sizeof cmd, "printf '{\"scan\":{\"pixel\":1}}' > %s/bad.json; %s phantom %s/bad.json -o %s/out 2>%s/err.txt",
             tmp, sp_test_binary(), tmp, tmp, tmp);
    cr_expect_eq(sp_test_system(cmd), 1);
    snprintf(cmd, sizeof cmd, "grep -q 'bad.json: scan.pixel: unknown field' %s/err.txt", tmp);
    cr_expect_eq(sp_test_system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s phantom %s/missing.json -o %s/out 2>/dev/null", sp_test_binary(), tmp, tmp);
    cr_expect_eq(sp_test_system(cmd), 2);
    snprintf(cmd, sizeof cmd, "%s phantom 2>/dev/null", sp_test_binary());
    cr_expect_eq(sp_test_system(cmd), 1);
}
