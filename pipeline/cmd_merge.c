/* cmd_merge.c - `spinemet merge DIR... -o OUT`: one cohort from the outputs
 * of several `spinemet batch` runs (typically the shards of one ROOT).
 *
 * DESIGN: OUT/cohort.csv is the union of the DIRs' cohort.csv files, one
 * copy per study id (the first DIR given that has rows for it), sorted by
 * study id, columns matched by name (batch_cohort.c). OUT/batch.json holds
 * every study once: a done/skipped entry wins over a failed one, else the
 * first DIR's. The merge checks that the shards are complete (every I of N
 * present) and says which are missing. Study folders are not copied: they
 * stay in their DIRs. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "core/sp_fs.h"
#include "batch.h"
#include "commands.h"
#include "core/sp_log.h"
#include "exit_codes.h"
#include "sp_version.h"

static void merge_usage(FILE *f)
{
    fprintf(f,
            "usage: spinemet merge DIR... -o OUT\n"
            "\n"
            "Combines the outputs of `spinemet batch` runs (e.g. each --shard I/N) into\n"
            "OUT/cohort.csv (one row per vertebra per study, each study once, sorted by\n"
            "study id) and OUT/batch.json (every study once, with its status). Says when\n"
            "a shard is missing. Study folders stay where they are.\n"
            "\noptions:\n"
            "  -o, --output DIR   output folder (created if missing; required)\n"
            "\nexit codes: 0 every study done, 7 some failed, timed out, were not run or a\n"
            "shard is missing, 1 usage, 2 i/o (a DIR without cohort.csv/batch.json)\n");
}

static cJSON *read_json(const char *path, sp_err *err)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f) return sp_fail(err, SP_EIO, "%s: cannot read (%s)", path, strerror(errno)), NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)(n > 0 ? n : 0) + 1);
    if (!buf) return fclose(f), sp_fail(err, SP_ENOMEM, "out of memory"), NULL;
    size_t got = fread(buf, 1, (size_t)(n > 0 ? n : 0), f);
    fclose(f);
    buf[got] = '\0';
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    if (!j) sp_fail(err, SP_EIO, "%s: not valid JSON", path);
    return j;
}

static bool ok_status(const cJSON *study)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(study, "status");
    return cJSON_IsString(s) && (!strcmp(s->valuestring, "done") || !strcmp(s->valuestring, "skipped"));
}

static const char *study_id(const cJSON *study)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(study, "id");
    return cJSON_IsString(s) ? s->valuestring : "";
}

/* Adds DIR's studies to all (by id; done beats failed, else first wins). */
static void merge_studies(cJSON *all, const cJSON *batch)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(batch, "studies"), *st;
    cJSON_ArrayForEach(st, arr)
    {
        const char *id = study_id(st);
        cJSON *have = cJSON_GetObjectItemCaseSensitive(all, id);
        if (have && (ok_status(have) || !ok_status(st))) continue;
        if (have) cJSON_DeleteItemFromObjectCaseSensitive(all, id);
        cJSON_AddItemToObject(all, id, cJSON_Duplicate(st, true));
    }
}

/* Records shard "I/N" of a batch.json in seen[] (size n); false on a mismatch of N. */
static bool note_shard(const cJSON *batch, int *n, bool **seen)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(batch, "shard");
    int i, k;
    if (!cJSON_IsString(s) || sscanf(s->valuestring, "%d/%d", &i, &k) != 2 || k < 1 || i < 0 || i >= k) return false;
    if (!*seen) {
        *seen = calloc((size_t)k, sizeof **seen);
        *n = k;
        if (!*seen) return false;
    }
    if (k != *n) return false;
    (*seen)[i] = true;
    return true;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(study_id(*(cJSON *const *)a), study_id(*(cJSON *const *)b));
}

/* OUT/batch.json: studies sorted by id, counts, the shards merged. */
static sp_status write_merged_json(const char *out, cJSON *all, int missing, sp_err *err, int *nok, int *ntotal)
{
    char path[4200];
    int n = cJSON_GetArraySize(all), k = 0;
    cJSON **v = calloc((size_t)n + 1, sizeof *v), *it, *root = cJSON_CreateObject();
    if (!v || !root) return free(v), cJSON_Delete(root), sp_fail(err, SP_ENOMEM, "out of memory");
    cJSON_ArrayForEach(it, all) v[k++] = it;
    qsort(v, (size_t)n, sizeof *v, cmp_id);
    cJSON_AddStringToObject(root, "spinemet_version", SP_VERSION);
    cJSON_AddStringToObject(root, "merged", "spinemet merge");
    cJSON_AddNumberToObject(root, "missing_shards", missing);
    cJSON *arr = cJSON_AddArrayToObject(root, "studies");
    *nok = 0, *ntotal = n;
    for (int i = 0; i < n; i++) {
        *nok += ok_status(v[i]);
        cJSON_AddItemToArray(arr, cJSON_Duplicate(v[i], true));
    }
    cJSON *c = cJSON_AddObjectToObject(root, "counts");
    cJSON_AddNumberToObject(c, "studies", n);
    cJSON_AddNumberToObject(c, "ok", *nok);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    free(v);
    if (!text) return sp_fail(err, SP_ENOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/batch.json", out);
    sp_status st = sp_batch_write_atomic(path, text, strlen(text), err);
    free(text);
    return st;
}

/* Reads every DIR into the cohort and the study set. */
static sp_status read_dirs(char **dirs, int ndirs, sp_cohort *c, cJSON *all, int *missing, sp_err *err)
{
    int nshard = 0;
    bool *seen = NULL, mismatch = false;
    sp_status st = SP_OK;
    for (int d = 0; d < ndirs && st == SP_OK; d++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/batch.json", dirs[d]);
        cJSON *b = read_json(path, err);
        if (!b) return free(seen), SP_EIO;
        merge_studies(all, b);
        if (!note_shard(b, &nshard, &seen)) mismatch = true;
        cJSON_Delete(b);
        snprintf(path, sizeof path, "%s/cohort.csv", dirs[d]);
        st = sp_cohort_add_cohort(c, path, err);
    }
    *missing = 0;
    for (int i = 0; i < nshard && seen; i++)
        if (!seen[i]) sp_log(SP_LOG_WARN, "merge: shard %d/%d is missing", i, nshard), (*missing)++;
    if (mismatch) sp_log(SP_LOG_WARN, "merge: the DIRs are not shards of one run (their --shard N differ)");
    free(seen);
    return st;
}

int sp_cmd_merge(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    const char *out = NULL;
    sp_err err = {0};
    int c, missing = 0, nok = 0, n = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        if (c == 'o') out = optarg;
        else if (c == 'h') return merge_usage(stdout), SP_EXIT_OK;
        else return merge_usage(stderr), SP_EXIT_USAGE;
    }
    if (!out || optind >= argc) return merge_usage(stderr), SP_EXIT_USAGE;
    sp_err merr = {0};
    if (sp_mkdir_p(out, &merr) != SP_OK) {
        sp_log(SP_LOG_ERROR, "%s", merr.msg);
        return SP_EXIT_IO;
    }
    sp_cohort *coh = sp_cohort_new();
    cJSON *all = cJSON_CreateObject();
    sp_status st = coh && all ? SP_OK : sp_fail(&err, SP_ENOMEM, "out of memory");
    if (st == SP_OK) st = read_dirs(argv + optind, argc - optind, coh, all, &missing, &err);
    char path[4200];
    snprintf(path, sizeof path, "%s/cohort.csv", out);
    if (st == SP_OK) st = sp_cohort_write(coh, path, &err);
    if (st == SP_OK) st = write_merged_json(out, all, missing, &err, &nok, &n);
    sp_cohort_free(coh);
    cJSON_Delete(all);
    if (st != SP_OK) {
        sp_log(SP_LOG_ERROR, "%s", err.msg[0] ? err.msg : sp_status_str(st));
        return sp_exit_code(st);
    }
    sp_log(SP_LOG_INFO, "merge: %d studies from %d folders, %d done, %d not done, %d shard%s missing -> %s/cohort.csv",
           n, argc - optind, nok, n - nok, missing, missing == 1 ? "" : "s", out);
    return nok == n && !missing ? SP_EXIT_OK : SP_EXIT_PARTIAL;
}
