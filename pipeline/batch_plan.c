/* batch_plan.c - which studies a batch runs: one scan of ROOT (the scan
 * `spinemet scan` does), series grouped into studies, the best-ranked series
 * of each study picked, study ids, and the shard slice.
 *
 * DESIGN: a study is a Study Instance UID; when it is empty the scanner's own
 * fallback key (patient id + study date, read back from the first file's
 * header) is used, so the batch groups exactly as the scanner does. The key
 * can hold patient data, so it is only ever hashed: the study id is the
 * 64-bit FNV-1a hash of the key in 16 hex digits, and names every output.
 * Each NIfTI file under ROOT is a study of its own (key "nifti:" + path).
 * The series of a study is picked with the scanner's rule (highest rank,
 * first on ties). The plan copies the paths it needs, so the scan (and its
 * headers) is freed before any study runs. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "io/dicom.h"
#include "io/sp_io.h"
#include "report/sp_report.h"

const char *sp_batch_status_name(sp_batch_status s)
{
    switch (s) {
    case SP_BATCH_PENDING: return "pending";
    case SP_BATCH_DONE: return "done";
    case SP_BATCH_SKIPPED: return "skipped";
    case SP_BATCH_FAILED: return "failed";
    case SP_BATCH_TIMEOUT: return "timeout";
    }
    return "unknown";
}

static bool id_salted;
static const char *id_salt;

void sp_batch_set_id_salt(bool salted, const char *salt)
{
    id_salted = salted;
    id_salt = salt;
}

void sp_batch_study_id(const char *key, char out[SP_BATCH_ID_LEN + 1])
{
    uint64_t h = 1469598103934665603ull;
    char mapped[SP_UID_LEN];
    if (id_salted && sp_report_deid_uid(id_salt, key, mapped) == SP_OK) key = mapped;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    snprintf(out, SP_BATCH_ID_LEN + 1, "%016llx", (unsigned long long)h);
}

/* A study being collected: its key and the best series seen so far. */
typedef struct group {
    char key[200];
    int best;       /* series index, -1 none usable */
    int nseries;
    int first_file; /* a file of the study, for the fallback key */
} group;

/* The scanner's study key for series sr (see io/series_group.c). */
static void study_key(const sp_scan *s, const sp_series *sr, char *key, size_t n)
{
    sp_dicom_header h;
    sp_err e;
    if (sr->study_uid[0]) {
        snprintf(key, n, "%s", sr->study_uid);
        return;
    }
    memset(&h, 0, sizeof h);
    if (sr->nslices > 0 && sp_dicom_read_header(s->files[sr->slice_file[0]].path, &h, &e) == SP_OK)
        snprintf(key, n, "~%s|%s", h.patient_id, h.study_date);
    else snprintf(key, n, "~series|%s|%d|%s", sr->series_uid, sr->series_number, sr->description);
    sp_dicom_header_clear(&h);
}

static int find_group(group *g, int ng, const char *key)
{
    for (int i = 0; i < ng; i++)
        if (!strcmp(g[i].key, key)) return i;
    return -1;
}

static int cmp_study(const void *a, const void *b)
{
    return strcmp(((const sp_batch_study *)a)->id, ((const sp_batch_study *)b)->id);
}

/* Copies the files of series idx into st. */
static sp_status take_files(const sp_scan *s, int idx, sp_batch_study *st)
{
    int n = 0;
    for (int i = 0; i < s->nfiles; i++) n += s->files[i].series == idx;
    st->files = calloc((size_t)(n ? n : 1), sizeof *st->files);
    if (!st->files) return SP_ENOMEM;
    for (int i = 0; i < s->nfiles; i++) {
        if (s->files[i].series != idx) continue;
        if (!(st->files[st->nfiles] = strdup(s->files[i].path))) return SP_ENOMEM;
        st->nfiles++;
    }
    return SP_OK;
}

/* One study per group: the chosen series' files, or FAILED with a reason. */
static sp_status study_from_group(const sp_scan *s, const group *g, sp_batch_study *st)
{
    sp_batch_study_id(g->key, st->id);
    st->exit_code = -1;
    if (g->best < 0) {
        st->status = SP_BATCH_FAILED;
        snprintf(st->reason, sizeof st->reason, "no usable CT or MR series (%d series in the study)", g->nseries);
    }
    if (g->key[0] != '~' && strncmp(g->key, "nifti:", 6)) snprintf(st->study_uid, sizeof st->study_uid, "%s", g->key);
    if (g->best < 0) return SP_OK;
    snprintf(st->series_uid, sizeof st->series_uid, "%s", s->series[g->best].series_uid);
    return take_files(s, g->best, st);
}

static sp_status add_nifti(sp_batch_plan *p, const char *path)
{
    char key[4200];
    sp_batch_study *st = &p->v[p->n];
    memset(st, 0, sizeof *st);
    snprintf(key, sizeof key, "nifti:%s", path);
    sp_batch_study_id(key, st->id);
    st->exit_code = -1;
    st->nifti = true;
    st->files = calloc(1, sizeof *st->files);
    if (!st->files || !(st->files[0] = strdup(path))) return SP_ENOMEM;
    st->nfiles = 1;
    p->n++;
    return SP_OK;
}

/* Groups the scan's series into studies and fills p (capacity checked by the caller). */
static sp_status plan_from_scan(const sp_scan *s, sp_batch_plan *p, group *g)
{
    int ng = 0;
    sp_status st = SP_OK;
    for (int i = 0; i < s->nseries; i++) {
        char key[200];
        const sp_series *sr = &s->series[i];
        if (sr->nifti) continue;
        study_key(s, sr, key, sizeof key);
        int k = find_group(g, ng, key);
        if (k < 0) {
            k = ng++;
            snprintf(g[k].key, sizeof g[k].key, "%s", key);
            g[k].best = -1;
        }
        g[k].nseries++;
        if (sr->rank >= 0 && (g[k].best < 0 || sr->rank > s->series[g[k].best].rank)) g[k].best = i;
    }
    for (int k = 0; k < ng && st == SP_OK; k++) {
        memset(&p->v[p->n], 0, sizeof p->v[p->n]);
        st = study_from_group(s, &g[k], &p->v[p->n]);
        p->n++;
    }
    for (int i = 0; i < s->nfiles && st == SP_OK; i++) {
        if (s->files[i].state == SP_FILE_NIFTI) st = add_nifti(p, s->files[i].path);
        else if (s->files[i].state != SP_FILE_OK) p->unusable_files++;
    }
    return st;
}

sp_status sp_batch_plan_build(const char *root, int threads, sp_batch_plan **out, sp_err *err)
{
    sp_scan_opts so = {.threads = threads, .follow_symlinks = false};
    sp_scan *s = NULL;
    group *g = NULL;
    sp_status st;
    *out = NULL;
    if (sp_io_is_nifti_path(root)) return sp_fail(err, SP_EINVAL, "%s: batch needs a folder (analyze takes a single file)", root);
    st = sp_io_scan(root, &so, &s, err);
    if (st != SP_OK) return st;
    sp_batch_plan *p = calloc(1, sizeof *p);
    size_t cap = (size_t)s->nseries + (size_t)s->nfiles + 1;
    if (p) p->v = calloc(cap, sizeof *p->v);
    g = calloc((size_t)s->nseries + 1, sizeof *g);
    if (!p || !p->v || !g) st = SP_ENOMEM;
    else st = plan_from_scan(s, p, g);
    free(g);
    sp_scan_free(s);
    if (st != SP_OK) {
        sp_batch_plan_free(p);
        return sp_fail(err, st, "%s: cannot plan the batch (%s)", root, sp_status_str(st));
    }
    qsort(p->v, (size_t)p->n, sizeof *p->v, cmp_study);
    /* Two keys with one hash: keep the first, fail the others loudly. */
    for (int i = 1; i < p->n; i++)
        if (!strcmp(p->v[i].id, p->v[i - 1].id)) {
            p->v[i].status = SP_BATCH_FAILED;
            snprintf(p->v[i].reason, sizeof p->v[i].reason, "study id collides with another study; not run");
        }
    *out = p;
    return SP_OK;
}

static void study_clear(sp_batch_study *st)
{
    for (int i = 0; i < st->nfiles; i++) free(st->files[i]);
    free(st->files);
    st->files = NULL;
    st->nfiles = 0;
}

void sp_batch_plan_free(sp_batch_plan *p)
{
    if (!p) return;
    for (int i = 0; i < p->n; i++) study_clear(&p->v[i]);
    free(p->v);
    free(p);
}

void sp_batch_plan_shard(sp_batch_plan *p, int i, int n)
{
    int k = 0;
    if (n <= 1) return;
    for (int j = 0; j < p->n; j++) {
        if (j % n == i) p->v[k++] = p->v[j];
        else study_clear(&p->v[j]);
    }
    p->n = k;
}

sp_status sp_batch_parse_shard(const char *s, int *i, int *n, sp_err *err)
{
    char *end;
    long a = strtol(s, &end, 10), b;
    if (end == s || *end != '/') goto bad;
    s = end + 1;
    b = strtol(s, &end, 10);
    if (end == s || *end || b < 1 || b > 1000000 || a < 0 || a >= b) goto bad;
    *i = (int)a, *n = (int)b;
    return SP_OK;
bad:
    return sp_fail(err, SP_EINVAL, "--shard wants I/N with 0 <= I < N (0-based), e.g. 0/4");
}

/* 1 when name is set to an integer (*v), 0 when unset or empty, -1 when set
 * to something else. */
static int env_long(const char *name, long *v)
{
    const char *s = getenv(name);
    char *end;
    if (!s || !*s) return 0;
    errno = 0;
    *v = strtol(s, &end, 10);
    return *end == '\0' && errno == 0 && *v > -1000000000L && *v < 1000000000L ? 1 : -1;
}

bool sp_batch_shard_from_env(int *i, int *n, sp_err *err)
{
    static const char *const names[] = {"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN",
                                        "SLURM_ARRAY_TASK_STEP", "SLURM_ARRAY_TASK_MAX"};
    long v[5] = {0, 0, 0, 1, 0}; /* id, count, min (default 0), step (default 1), max */
    int set[5];
    if (err) err->msg[0] = '\0';
    for (int k = 0; k < 5; k++) {
        set[k] = env_long(names[k], &v[k]);
        if (k == 0 && !set[k]) return false; /* not an array task */
        if (set[k] < 0) {
            sp_fail(err, SP_EINVAL, "%s='%.40s' is not a whole number; use --shard I/N", names[k], getenv(names[k]));
            return false;
        }
    }
    long id = v[0], count = v[1], min = v[2], step = v[3], max = v[4];
    if (!set[1]) {
        sp_fail(err, SP_EINVAL, "SLURM_ARRAY_TASK_ID=%ld but SLURM_ARRAY_TASK_COUNT is not set; use --shard I/N", id);
        return false;
    }
    if (count < 1 || count > 1000000 || step < 1) {
        sp_fail(err, SP_EINVAL,
                "SLURM_ARRAY_TASK_COUNT=%ld, SLURM_ARRAY_TASK_STEP=%ld: want a count of 1..1000000 and a step >= 1;"
                " use --shard I/N", count, step);
        return false;
    }
    /* --array=A-B:S numbers its tasks A, A+S, ..., B: shard (id - A) / S of count */
    long k = (id - min) / step;
    bool on_step = id >= min && (id - min) % step == 0;
    /* a list (--array=1,4,9) fails here too: its ids are not A + k*S for k < count,
     * or its max is not that of a range of count tasks */
    if (!on_step || k >= count || (set[4] && (max < min || (max - min) / step + 1 != count))) {
        sp_fail(err, SP_EINVAL,
                "SLURM_ARRAY_TASK_ID=%ld is not one of the %ld tasks MIN, MIN+STEP, ... (MIN=%ld, STEP=%ld%s%ld):"
                " --array must be a range (0-N, 1-N, 0-N:STEP), not a list; or use --shard I/N",
                id, count, min, step, set[4] ? ", MAX=" : ", last=", set[4] ? max : min + (count - 1) * step);
        return false;
    }
    *i = (int)k, *n = (int)count;
    return true;
}
