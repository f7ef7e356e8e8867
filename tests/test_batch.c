/* test_batch.c - `spinemet batch` and `spinemet merge` end to end on a ROOT
 * of small phantom studies (T12-L2, 128x128, 3 vertebrae each): every study
 * analysed once, cohort.csv and batch.json, a failing and a timed-out study
 * recorded with exit 7, resume after SIGKILL of the batch with no corrupt or
 * duplicated result, --force, shards (--shard and the Slurm variables) and
 * their merge. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/test_util.h"

static char tmp[512];
static void setup(void) { sp_test_tmpdir(tmp, sizeof tmp); }
static void teardown(void) { sp_test_rmtree(tmp); }
TestSuite(batch, .init = setup, .fini = teardown, .timeout = 120);

#define SPEC                                                                                               \
    "{\"anatomy\":{\"from\":\"T12\",\"to\":\"L2\"},\"scan\":{\"matrix\":[128,128],\"pixel_mm\":2.0,"       \
    "\"slice_mm\":3.0},\"patient\":{\"id\":\"PAT%d\"}}"

/* n studies under tmp/root, spread over two folders, plus a non-DICOM file. */
static void make_root(int n)
{
    char cmd[2048];
    for (int i = 0; i < n; i++) {
        snprintf(cmd, sizeof cmd,
                 "printf '" SPEC "' > %s/spec%d.json && %s -q phantom %s/spec%d.json -o %s/gen%d --seed %d --threads 1"
                 " && mkdir -p %s/root/%c && mv %s/gen%d/dicom %s/root/%c/study%d",
                 i, tmp, i, sp_test_binary(), tmp, i, tmp, i, i + 1, tmp, 'a' + i % 2, tmp, i, tmp, 'a' + i % 2, i);
        cr_assert_eq(sp_test_system(cmd), 0, "%s", cmd);
    }
    snprintf(cmd, sizeof cmd, "echo notes > %s/root/a/readme.txt", tmp);
    cr_assert_eq(sp_test_system(cmd), 0);
}

static int run(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s -q %s", sp_test_binary(), args);
    return sp_test_system(cmd);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    char *buf = calloc(1, 1 << 22);
    size_t n = fread(buf, 1, (1 << 22) - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

static cJSON *batch_json(const char *out)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s/batch.json", tmp, out);
    char *buf = slurp(p);
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    cr_assert_not_null(j, "%s: not JSON", p);
    return j;
}

static int count(const cJSON *b, const char *status)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(b, "counts"), status)->valueint;
}

/* Checks cohort.csv: header, rows sorted by study id, nrows_per_study rows
 * for each of nstudies ids; returns the number of data rows. */
static int check_cohort(const char *out, int nstudies, int rows_per_study)
{
    char p[700], line[8192], prev[32] = "", id[32];
    int rows = 0, studies = 0, in_study = 0;
    snprintf(p, sizeof p, "%s/%s/cohort.csv", tmp, out);
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f, "%s", p);
    cr_assert_not_null(fgets(line, sizeof line, f));
    /* the full header even when no study finished (checked against a real
     * report.csv by failures_and_timeouts_...) */
    cr_assert_eq(strncmp(line, "study_id,patient_id,study_date,series_uid,level,", 48), 0, "%s", line);
    while (fgets(line, sizeof line, f)) {
        snprintf(id, sizeof id, "%.16s", line);
        cr_assert_eq(line[16], ',', "%s", line);
        cr_assert_geq(strcmp(id, prev), 0, "cohort.csv not sorted by study id");
        if (strcmp(id, prev)) {
            if (studies) cr_assert_eq(in_study, rows_per_study, "study %s: %d rows", prev, in_study);
            studies++, in_study = 0;
            snprintf(prev, sizeof prev, "%s", id);
        }
        in_study++, rows++;
    }
    fclose(f);
    if (studies) cr_assert_eq(in_study, rows_per_study, "study %s: %d rows", prev, in_study);
    cr_assert_eq(studies, nstudies);
    return rows;
}

/* Every study folder has DONE and report.csv; no temporary folder is left. */
static int check_studies(const char *out)
{
    char p[700];
    int n = 0;
    snprintf(p, sizeof p, "%s/%s/studies", tmp, out);
    DIR *d = opendir(p);
    struct dirent *e;
    cr_assert_not_null(d, "%s", p);
    while ((e = readdir(d)) != NULL) {
        struct stat sb;
        char q[1200];
        if (e->d_name[0] == '.') continue;
        cr_assert_eq(strlen(e->d_name), 16, "unexpected entry %s (temporary folder left?)", e->d_name);
        snprintf(q, sizeof q, "%s/%s/DONE", p, e->d_name);
        cr_assert_eq(stat(q, &sb), 0, "%s missing", q);
        snprintf(q, sizeof q, "%s/%s/report.csv", p, e->d_name);
        cr_assert_eq(stat(q, &sb), 0, "%s missing", q);
        n++;
    }
    closedir(d);
    return n;
}

Test(batch, every_study_is_analysed_into_one_cohort)
{
    char args[1200];
    make_root(3);
    snprintf(args, sizeof args, "batch %s/root -o %s/out --jobs 2 --timeout 100", tmp, tmp);
    cr_assert_eq(run(args), 0);
    cJSON *b = batch_json("out");
    cr_assert_eq(count(b, "studies"), 3);
    cr_assert_eq(count(b, "done"), 3);
    cr_assert_eq(cJSON_GetObjectItem(b, "unusable_files")->valueint, 1);
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(b, "studies"))
    {
        cr_assert_str_eq(cJSON_GetObjectItem(s, "status")->valuestring, "done");
        cr_assert_eq(strncmp(cJSON_GetObjectItem(s, "study_uid")->valuestring, "2.25.", 5), 0);
        cr_assert_eq(cJSON_GetObjectItem(s, "exit_code")->valueint, 0);
    }
    cJSON_Delete(b);
    cr_assert_eq(check_studies("out"), 3);
    cr_assert_eq(check_cohort("out", 3, 3), 9);
    /* study ids never carry patient data */
    snprintf(args, sizeof args, "ls -R %s/out | grep -q PAT", tmp);
    cr_assert_neq(sp_test_system(args), 0, "a patient id appears in an output file name");
    /* a second run keeps every result */
    snprintf(args, sizeof args, "batch %s/root -o %s/out", tmp, tmp);
    cr_assert_eq(run(args), 0);
    b = batch_json("out");
    cr_assert_eq(count(b, "skipped"), 3);
    cJSON_Delete(b);
    cr_assert_eq(check_cohort("out", 3, 3), 9);
    /* --force recomputes them; --deidentify keeps UIDs out of batch.json */
    snprintf(args, sizeof args, "batch %s/root -o %s/out --force --deidentify --no-dicom-out", tmp, tmp);
    cr_assert_eq(run(args), 0);
    b = batch_json("out");
    cr_assert_eq(count(b, "done"), 3);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(b, "studies"), 0), "study_uid")));
    cJSON_Delete(b);
    snprintf(args, sizeof args, "grep -q PAT %s/out/cohort.csv", tmp);
    cr_assert_neq(sp_test_system(args), 0, "--deidentify: patient id in cohort.csv");
}

Test(batch, failures_and_timeouts_are_recorded_and_the_batch_goes_on)
{
    char args[1200];
    make_root(2);
    snprintf(args, sizeof args, "echo 'not a volume' > %s/root/b/broken.nii.gz", tmp);
    cr_assert_eq(sp_test_system(args), 0);
    snprintf(args, sizeof args, "batch %s/root -o %s/out --jobs 2", tmp, tmp);
    cr_assert_eq(run(args), 7, "partial success is exit 7");
    cJSON *b = batch_json("out");
    cr_assert_eq(count(b, "done"), 2);
    cr_assert_eq(count(b, "failed"), 1);
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(b, "studies"))
    {
        if (strcmp(cJSON_GetObjectItem(s, "input")->valuestring, "nifti")) continue;
        cr_assert_str_eq(cJSON_GetObjectItem(s, "status")->valuestring, "failed");
        cr_assert_not_null(strstr(cJSON_GetObjectItem(s, "reason")->valuestring, "NIfTI"), "%s",
                           cJSON_GetObjectItem(s, "reason")->valuestring);
        cr_assert_neq(cJSON_GetObjectItem(s, "exit_code")->valueint, 0);
    }
    cJSON_Delete(b);
    cr_assert_eq(check_studies("out"), 2);
    cr_assert_eq(check_cohort("out", 2, 3), 6);
    /* a study over the time limit is stopped and leaves nothing behind */
    snprintf(args, sizeof args, "batch %s/root -o %s/out2 --timeout 0.05", tmp, tmp);
    cr_assert_eq(run(args), 7);
    b = batch_json("out2");
    cr_assert_geq(count(b, "timeout"), 2);
    cJSON_Delete(b);
    cr_assert_eq(check_studies("out2"), 0);
    cr_assert_eq(check_cohort("out2", 0, 0), 0);
    /* with no study finished, cohort.csv still has every column: study_id and
     * exactly report.csv's header (46 columns), the same as out's cohort.csv */
    snprintf(args, sizeof args,
             "f=$(ls %s/out/studies/*/report.csv | head -n1) && printf 'study_id,%%s\\n' \"$(head -n1 \"$f\")\" > %s/expect.txt"
             " && cmp %s/expect.txt %s/out2/cohort.csv && head -n1 %s/out/cohort.csv | cmp - %s/out2/cohort.csv"
             " && [ \"$(head -n1 \"$f\" | tr ',' '\\n' | wc -l)\" = 46 ]",
             tmp, tmp, tmp, tmp, tmp, tmp);
    cr_assert_eq(sp_test_system(args), 0, "the header of a cohort.csv without rows is not study_id + report.csv's header");
    /* merging it (no rows, given first) with out: out's cohort, byte for byte */
    snprintf(args, sizeof args, "merge %s/out2 %s/out -o %s/m", tmp, tmp, tmp);
    cr_assert_eq(run(args), 7, "the broken study is still failed");
    snprintf(args, sizeof args, "cmp %s/out/cohort.csv %s/m/cohort.csv", tmp, tmp);
    cr_assert_eq(sp_test_system(args), 0, "merge of an empty shard and a full one changed the cohort");
}

static int count_done(const char *out)
{
    char p[700];
    int n = 0;
    snprintf(p, sizeof p, "%s/%s/studies", tmp, out);
    DIR *d = opendir(p);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        struct stat sb;
        char q[1200];
        snprintf(q, sizeof q, "%s/%s/DONE", p, e->d_name);
        n += e->d_name[0] != '.' && stat(q, &sb) == 0;
    }
    if (d) closedir(d);
    return n;
}

Test(batch, resumes_after_sigkill_with_every_study_done_once)
{
    char out[700], root[700], p[1400];
    make_root(4);
    snprintf(out, sizeof out, "%s/out", tmp);
    snprintf(root, sizeof root, "%s/root", tmp);
    pid_t pid = fork();
    if (pid == 0) {
        freopen("/dev/null", "w", stderr);
        execl(sp_test_binary(), "spinemet", "batch", root, "-o", out, "--jobs", "1", "--threads", "1", (char *)NULL);
        _exit(127);
    }
    /* kill -9 once the first study is published, while the next one runs */
    for (int i = 0; i < 600 && count_done("out") < 1; i++) usleep(20000);
    cr_assert_geq(count_done("out"), 1, "no study finished in 12 s");
    usleep(150000);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    int done_at_kill = count_done("out");
    cr_assert_lt(done_at_kill, 4, "the batch finished before it was killed; nothing to resume");
    /* its child died with it (PR_SET_PDEATHSIG): no analyze still writes into OUTDIR */
    {
        char cmd[1200];
        usleep(300000);
        snprintf(cmd, sizeof cmd, "pgrep -f '[a]nalyze .* -o %s/studies/' > /dev/null", out); /* [a]: not this shell */
        cr_assert_neq(sp_test_system(cmd), 0, "an orphaned analyze kept running after the batch was killed");
    }
    char *first_done = NULL;
    {
        char cmd[2000];
        snprintf(cmd, sizeof cmd, "cat %s/studies/*/DONE | sort > %s/done-before.txt", out, tmp);
        cr_assert_eq(sp_test_system(cmd), 0);
        snprintf(cmd, sizeof cmd, "%s/done-before.txt", tmp);
        first_done = slurp(cmd);
    }
    /* resume */
    snprintf(p, sizeof p, "batch %s -o %s --jobs 2", root, out);
    cr_assert_eq(run(p), 0);
    cJSON *b = batch_json("out");
    cr_assert_eq(count(b, "skipped"), done_at_kill, "results from before the kill are kept, not redone");
    cr_assert_eq(count(b, "done"), 4 - done_at_kill);
    cJSON_Delete(b);
    cr_assert_eq(check_studies("out"), 4);
    cr_assert_eq(check_cohort("out", 4, 3), 12);
    /* the kept studies' DONE markers are untouched (each study computed once) */
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "cat %s/studies/*/DONE | sort > %s/done-after.txt", out, tmp);
    cr_assert_eq(sp_test_system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/done-after.txt", tmp);
    char *after = slurp(cmd);
    for (char *line = strtok(first_done, "\n"); line; line = strtok(NULL, "\n"))
        cr_assert_not_null(strstr(after, line), "DONE changed: %s", line);
    free(after);
    free(first_done);
}

Test(batch, shards_cover_every_study_once_and_merge_into_one_cohort)
{
    char args[1600];
    make_root(3);
    snprintf(args, sizeof args, "batch %s/root -o %s/s0 --shard 0/2 --jobs 2", tmp, tmp);
    cr_assert_eq(run(args), 0);
    /* shard 1 from the Slurm array variables (ids 5..6, min 5 -> 1 of 2) */
    snprintf(args, sizeof args,
             "SLURM_ARRAY_TASK_ID=6 SLURM_ARRAY_TASK_MIN=5 SLURM_ARRAY_TASK_COUNT=2 %s -q batch %s/root -o %s/s1 --jobs 2",
             sp_test_binary(), tmp, tmp);
    cr_assert_eq(sp_test_system(args), 0);
    cJSON *b0 = batch_json("s0"), *b1 = batch_json("s1");
    cr_assert_str_eq(cJSON_GetObjectItem(b1, "shard")->valuestring, "1/2");
    cr_assert_eq(count(b0, "studies") + count(b1, "studies"), 3);
    cr_assert_eq(count(b0, "studies"), 2, "shard 0 of 2 takes ids 0 and 2 of 3");
    cJSON_Delete(b0), cJSON_Delete(b1);
    /* merge (a shard given twice is not duplicated) */
    snprintf(args, sizeof args, "merge %s/s0 %s/s1 %s/s0 -o %s/all", tmp, tmp, tmp, tmp);
    cr_assert_eq(run(args), 0);
    cr_assert_eq(check_cohort("all", 3, 3), 9);
    cJSON *m = batch_json("all");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(m, "studies")), 3);
    cJSON_Delete(m);
    /* a missing shard is partial success */
    snprintf(args, sizeof args, "merge %s/s0 -o %s/part", tmp, tmp);
    cr_assert_eq(run(args), 7);
    /* bad --shard is a usage error */
    snprintf(args, sizeof args, "batch %s/root -o %s/x --shard 2/2", tmp, tmp);
    cr_assert_eq(run(args), 1);
}

Test(batch, usage_and_io_errors)
{
    char args[1200];
    cr_assert_eq(run("batch"), 1);
    snprintf(args, sizeof args, "batch %s/missing -o %s/out", tmp, tmp);
    cr_assert_eq(run(args), 2);
    /* a folder with no image: one non-DICOM file (an empty folder trips a UBSan
     * report in io/scan.c's qsort of zero paths; see the batch report) */
    snprintf(args, sizeof args, "mkdir -p %s/empty && echo notes > %s/empty/readme.txt", tmp, tmp);
    cr_assert_eq(sp_test_system(args), 0);
    snprintf(args, sizeof args, "batch %s/empty -o %s/out", tmp, tmp);
    cr_assert_eq(run(args), 3, "no study found");
    snprintf(args, sizeof args, "batch %s/empty -o %s/empty/out", tmp, tmp);
    cr_assert_eq(run(args), 1, "OUTDIR inside ROOT is refused");
    snprintf(args, sizeof args, "merge %s/empty -o %s/m", tmp, tmp);
    cr_assert_eq(run(args), 2, "merge of a folder without batch.json");
}
