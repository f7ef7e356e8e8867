/* test_batch.c - `spinemet batch` and `spinemet merge` end to end on a ROOT
 * of small phantom studies (T12-L2, 128x128, 3 vertebrae each): every study
 * analysed once, cohort.csv and batch.json, a failing and a timed-out study
 * recorded with exit 7, resume after SIGKILL of the batch with no corrupt or
 * duplicated result, --force, shards (--shard and the Slurm variables) and
 * their merge, the shard from a Slurm array's variables, jobs and threads
 * from the CPUs the batch may run on. */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <sched.h>
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

static char *slurp(const char *path) { return sp_test_read_file(path, NULL); }

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

/* Study ids (batch.json order) of OUTDIR tmp/out into ids, comma-joined. */
static void study_ids(const char *out, char *ids, size_t n)
{
    cJSON *b = batch_json(out);
    const cJSON *s;
    ids[0] = 0;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(b, "studies"))
    {
        strncat(ids, cJSON_GetObjectItem(s, "id")->valuestring, n - strlen(ids) - 2);
        strcat(ids, ",");
    }
    cJSON_Delete(b);
}

/* --deidentify: the ids hash the salted UID mapping, so they cannot be
 * recomputed from a Study UID without the salt; the same salt gives the same
 * ids (resume, shards), another salt other ids. No Study UID in any output. */
Test(batch, deidentified_study_ids_follow_the_salt)
{
    char args[1200], plain[256], a[256], a2[256], b[256];
    make_root(2);
    snprintf(args, sizeof args, "batch %s/root -o %s/plain --no-dicom-out", tmp, tmp);
    cr_assert_eq(run(args), 0);
    snprintf(args, sizeof args, "batch %s/root -o %s/a --deidentify --deid-salt s4lt-alpha-7q --no-dicom-out", tmp, tmp);
    cr_assert_eq(run(args), 0);
    snprintf(args, sizeof args, "SPINEMET_DEID_SALT=s4lt-alpha-7q %s -q batch %s/root -o %s/a2 --deidentify --no-dicom-out",
             sp_test_binary(), tmp, tmp);
    cr_assert_eq(sp_test_system(args), 0);
    snprintf(args, sizeof args, "batch %s/root -o %s/b --deidentify --deid-salt beta --no-dicom-out", tmp, tmp);
    cr_assert_eq(run(args), 0);
    study_ids("plain", plain, sizeof plain);
    study_ids("a", a, sizeof a);
    study_ids("a2", a2, sizeof a2);
    study_ids("b", b, sizeof b);
    cr_assert_str_eq(a, a2, "same salt (option or environment), same ids");
    cr_assert_str_neq(a, plain);
    cr_assert_str_neq(a, b);
    cJSON *pj = batch_json("plain");
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(pj, "studies"))
    {
        const char *uid = cJSON_GetObjectItem(s, "study_uid")->valuestring;
        snprintf(args, sizeof args, "grep -rqF '%s' %s/a %s/b", uid, tmp, tmp);
        cr_assert_neq(sp_test_system(args), 0, "Study UID %s in a de-identified batch's outputs", uid);
    }
    cJSON_Delete(pj);
    /* the salt never reaches a command line or an output */
    snprintf(args, sizeof args, "grep -rqF s4lt-alpha-7q %s/a", tmp);
    cr_assert_neq(sp_test_system(args), 0, "the salt appears in an output");
    snprintf(args, sizeof args, "batch %s/root -o %s/c --deid-salt s4lt-alpha-7q", tmp, tmp);
    cr_assert_eq(run(args), 1, "--deid-salt without --deidentify is a usage error");
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
     * exactly report.csv's header (47 columns), the same as out's cohort.csv */
    snprintf(args, sizeof args,
             "f=$(ls %s/out/studies/*/report.csv | head -n1) && printf 'study_id,%%s\\n' \"$(head -n1 \"$f\")\" > %s/expect.txt"
             " && cmp %s/expect.txt %s/out2/cohort.csv && head -n1 %s/out/cohort.csv | cmp - %s/out2/cohort.csv"
             " && [ \"$(head -n1 \"$f\" | tr ',' '\\n' | wc -l)\" = 47 ]",
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

/* The Slurm and affinity variables a test run must not inherit. */
#define NO_SLURM                                                                                           \
    "env -u SLURM_ARRAY_TASK_ID -u SLURM_ARRAY_TASK_COUNT -u SLURM_ARRAY_TASK_MIN -u SLURM_ARRAY_TASK_STEP " \
    "-u SLURM_ARRAY_TASK_MAX -u SLURM_CPUS_PER_TASK"

/* A ROOT of one cheap study: a broken NIfTI file (analyze fails at once). */
static void make_cheap_root(void)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/cheap && echo 'not a volume' > %s/cheap/broken.nii.gz", tmp, tmp);
    cr_assert_eq(sp_test_system(cmd), 0);
}

Test(batch, shard_index_from_slurm_array_variables)
{
    /* env: the variables set (all others unset); shard: expected "I/N", or
     * NULL for a usage error (exit 1) whose message holds msg */
    static const struct {
        const char *env, *shard, *msg;
    } cases[] = {
        {"SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_COUNT=8", "3/8", NULL},                          /* MIN default 0 */
        {"SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=7 SLURM_ARRAY_TASK_COUNT=8", "0/8", NULL},
        {"SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=8 SLURM_ARRAY_TASK_COUNT=8", "0/8", NULL},
        {"SLURM_ARRAY_TASK_ID=8 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=8 SLURM_ARRAY_TASK_COUNT=8", "7/8", NULL},
        /* --array=0-14:2 */
        {"SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_STEP=2 SLURM_ARRAY_TASK_MAX=14 SLURM_ARRAY_TASK_COUNT=8", "0/8", NULL},
        {"SLURM_ARRAY_TASK_ID=6 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_STEP=2 SLURM_ARRAY_TASK_MAX=14 SLURM_ARRAY_TASK_COUNT=8", "3/8", NULL},
        {"SLURM_ARRAY_TASK_ID=14 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_STEP=2 SLURM_ARRAY_TASK_MAX=14 SLURM_ARRAY_TASK_COUNT=8", "7/8", NULL},
        /* --array=1-7:3 (tasks 1, 4, 7), no MAX given */
        {"SLURM_ARRAY_TASK_ID=4 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_STEP=3 SLURM_ARRAY_TASK_COUNT=3", "1/3", NULL},
        /* --shard wins over the variables */
        {"SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_STEP=2 SLURM_ARRAY_TASK_COUNT=8 --shard 0/1", "0/1", NULL},
        /* not on the step, below MIN, past the count */
        {"SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_STEP=2 SLURM_ARRAY_TASK_COUNT=8", NULL, "not one of the 8 tasks"},
        {"SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=8", NULL, "not one of the 8 tasks"},
        {"SLURM_ARRAY_TASK_ID=9 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=8", NULL, "not one of the 8 tasks"},
        {"SLURM_ARRAY_TASK_ID=16 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_STEP=2 SLURM_ARRAY_TASK_COUNT=8", NULL, "not one of"},
        /* --array=1,4,9: a list, refused in every task (task 1 too) */
        {"SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=9 SLURM_ARRAY_TASK_COUNT=3", NULL, "not a list"},
        {"SLURM_ARRAY_TASK_ID=4 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=9 SLURM_ARRAY_TASK_COUNT=3", NULL, "not a list"},
        /* malformed or missing values */
        {"SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_STEP=0 SLURM_ARRAY_TASK_COUNT=8", NULL, "step >= 1"},
        {"SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=0", NULL, "count of 1..1000000"},
        {"SLURM_ARRAY_TASK_ID=x SLURM_ARRAY_TASK_COUNT=8", NULL, "not a whole number"},
        {"SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_STEP=2x SLURM_ARRAY_TASK_COUNT=8", NULL, "SLURM_ARRAY_TASK_STEP='2x'"},
        {"SLURM_ARRAY_TASK_ID=2", NULL, "SLURM_ARRAY_TASK_COUNT is not set"},
    };
    char cmd[2400], p[700];
    make_cheap_root();
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        snprintf(p, sizeof p, "%s/o%zu", tmp, k);
        /* "VAR=... [--option ...]": the variables before spinemet, the options after */
        const char *opts = strstr(cases[k].env, " --");
        int envlen = opts ? (int)(opts - cases[k].env) : (int)strlen(cases[k].env);
        snprintf(cmd, sizeof cmd, NO_SLURM " %.*s %s -q batch %s/cheap -o %s%s 2> %s/err.txt", envlen, cases[k].env,
                 sp_test_binary(), tmp, p, opts ? opts : "", tmp);
        int rc = sp_test_system(cmd);
        snprintf(p, sizeof p, "%s/err.txt", tmp);
        char *err = slurp(p);
        if (cases[k].shard) {
            cr_assert(rc == 0 || rc == 7, "%s: exit %d: %s", cases[k].env, rc, err);
            snprintf(p, sizeof p, "o%zu", k);
            cJSON *b = batch_json(p);
            cr_assert_str_eq(cJSON_GetObjectItem(b, "shard")->valuestring, cases[k].shard, "%s", cases[k].env);
            cJSON_Delete(b);
        } else {
            cr_assert_eq(rc, 1, "%s: exit %d, want 1 (usage)", cases[k].env, rc);
            cr_assert_not_null(strstr(err, cases[k].msg), "%s: message '%s' lacks '%s'", cases[k].env, err,
                               cases[k].msg);
        }
        free(err);
    }
}

/* Runs cmd (a shell line) pinned to one CPU of this process's mask, as
 * `taskset -c CPU` would; returns its exit status. */
static int run_on_one_cpu(const char *cmd)
{
    cpu_set_t mine, one;
    int cpu = -1, status = -1;
    cr_assert_eq(sched_getaffinity(0, sizeof mine, &mine), 0);
    for (int c = 0; c < CPU_SETSIZE && cpu < 0; c++)
        if (CPU_ISSET(c, &mine)) cpu = c;
    cr_assert_geq(cpu, 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        if (sched_setaffinity(0, sizeof one, &one) != 0) _exit(126);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    cr_assert_gt(pid, 0);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* batch.json's jobs and threads_per_job of OUTDIR tmp/out. */
static void jobs_threads(const char *out, int *jobs, int *threads)
{
    cJSON *b = batch_json(out);
    *jobs = cJSON_GetObjectItem(b, "jobs")->valueint;
    *threads = cJSON_GetObjectItem(b, "threads_per_job")->valueint;
    cJSON_Delete(b);
}

Test(batch, jobs_and_threads_follow_the_cpus_it_may_run_on)
{
    char cmd[1600];
    int jobs, threads;
    cpu_set_t mine;
    cr_assert_eq(sched_getaffinity(0, sizeof mine, &mine), 0);
    int cpus = CPU_COUNT(&mine); /* what a batch started from here may use */
    make_cheap_root();
    /* --jobs 1: threads = every usable CPU */
    snprintf(cmd, sizeof cmd, NO_SLURM " %s -q batch %s/cheap -o %s/all --jobs 1", sp_test_binary(), tmp, tmp);
    cr_assert_neq(sp_test_system(cmd), 1);
    jobs_threads("all", &jobs, &threads);
    cr_assert_eq(jobs, 1);
    cr_assert_eq(threads, cpus, "threads %d, this process may use %d CPUs", threads, cpus);
    /* pinned to one CPU (taskset -c N): 1 thread, not one per online core */
    snprintf(cmd, sizeof cmd, NO_SLURM " %s -q batch %s/cheap -o %s/pinned --jobs 1", sp_test_binary(), tmp, tmp);
    cr_assert_neq(run_on_one_cpu(cmd), 1);
    jobs_threads("pinned", &jobs, &threads);
    cr_assert_eq(jobs, 1);
    cr_assert_eq(threads, 1, "pinned to one CPU, a job got %d threads", threads);
    /* the default on one CPU: still at least 2 jobs (docs/batch.md), 1 thread each */
    snprintf(cmd, sizeof cmd, NO_SLURM " %s -q batch %s/cheap -o %s/pinned-default", sp_test_binary(), tmp, tmp);
    cr_assert_neq(run_on_one_cpu(cmd), 1);
    jobs_threads("pinned-default", &jobs, &threads);
    cr_assert_eq(jobs, 2);
    cr_assert_eq(threads, 1);
    /* SLURM_CPUS_PER_TASK=1 caps it the same way */
    snprintf(cmd, sizeof cmd, NO_SLURM " SLURM_CPUS_PER_TASK=1 %s -q batch %s/cheap -o %s/slurm1 --jobs 1",
             sp_test_binary(), tmp, tmp);
    cr_assert_neq(sp_test_system(cmd), 1);
    jobs_threads("slurm1", &jobs, &threads);
    cr_assert_eq(threads, 1, "SLURM_CPUS_PER_TASK=1, a job got %d threads", threads);
    /* ... but never raises it above the mask, and a malformed value is ignored */
    snprintf(cmd, sizeof cmd, NO_SLURM " SLURM_CPUS_PER_TASK=4096 %s -q batch %s/cheap -o %s/slurmbig --jobs 1",
             sp_test_binary(), tmp, tmp);
    cr_assert_neq(sp_test_system(cmd), 1);
    jobs_threads("slurmbig", &jobs, &threads);
    cr_assert_eq(threads, cpus);
    snprintf(cmd, sizeof cmd, NO_SLURM " SLURM_CPUS_PER_TASK=1x %s -q batch %s/cheap -o %s/slurmbad --jobs 1",
             sp_test_binary(), tmp, tmp);
    cr_assert_neq(sp_test_system(cmd), 1);
    jobs_threads("slurmbad", &jobs, &threads);
    cr_assert_eq(threads, cpus);
    /* 4 CPUs of a bigger mask: 2 jobs x 2 threads */
    if (cpus >= 5) {
        snprintf(cmd, sizeof cmd, NO_SLURM " SLURM_CPUS_PER_TASK=4 %s -q batch %s/cheap -o %s/slurm4", sp_test_binary(),
                 tmp, tmp);
        cr_assert_neq(sp_test_system(cmd), 1);
        jobs_threads("slurm4", &jobs, &threads);
        cr_assert_eq(jobs, 2);
        cr_assert_eq(threads, 2);
    }
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
