/* batch_json.c - batch.json: the run's settings, counts per status, and one
 * object per study {id, study_uid, status, reason, seconds, exit_code}
 * (schema in docs/batch.md). Written atomically, like every batch output.
 * With --deidentify the Study UIDs and ROOT are left out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "batch.h"
#include "sp_version.h"

void sp_batch_count(const sp_batch_plan *p, int counts[5])
{
    memset(counts, 0, 5 * sizeof counts[0]);
    for (int i = 0; i < p->n; i++) counts[p->v[i].status]++;
}

static cJSON *study_json(const sp_batch_study *s, bool deidentify)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "id", s->id);
    if (deidentify || !s->study_uid[0]) cJSON_AddNullToObject(o, "study_uid");
    else cJSON_AddStringToObject(o, "study_uid", s->study_uid);
    cJSON_AddStringToObject(o, "input", s->nifti ? "nifti" : "dicom");
    cJSON_AddStringToObject(o, "status", sp_batch_status_name(s->status));
    if (s->reason[0]) cJSON_AddStringToObject(o, "reason", s->reason);
    else cJSON_AddNullToObject(o, "reason");
    cJSON_AddNumberToObject(o, "seconds", (double)(long long)(s->seconds * 100 + 0.5) / 100);
    if (s->exit_code >= 0) cJSON_AddNumberToObject(o, "exit_code", s->exit_code);
    else cJSON_AddNullToObject(o, "exit_code");
    return o;
}

sp_status sp_batch_write_json(const char *path, const sp_batch_plan *p, const sp_batch_run_info *ri, sp_err *err)
{
    int counts[5];
    char shard[32];
    sp_status st;
    cJSON *root = cJSON_CreateObject(), *c, *arr;
    if (!root) return sp_fail(err, SP_ENOMEM, "out of memory");
    cJSON_AddStringToObject(root, "spinemet_version", SP_VERSION);
    if (ri->root && !ri->deidentify) cJSON_AddStringToObject(root, "root", ri->root);
    else cJSON_AddNullToObject(root, "root");
    snprintf(shard, sizeof shard, "%d/%d", ri->shard_i, ri->shard_n);
    cJSON_AddStringToObject(root, "shard", shard);
    cJSON_AddNumberToObject(root, "jobs", ri->jobs);
    cJSON_AddNumberToObject(root, "threads_per_job", ri->threads);
    cJSON_AddNumberToObject(root, "timeout_s", ri->timeout);
    cJSON_AddNumberToObject(root, "seconds", (double)(long long)(ri->seconds * 100 + 0.5) / 100);
    cJSON_AddBoolToObject(root, "interrupted", ri->interrupted);
    cJSON_AddNumberToObject(root, "unusable_files", p->unusable_files);
    sp_batch_count(p, counts);
    c = cJSON_AddObjectToObject(root, "counts");
    cJSON_AddNumberToObject(c, "studies", p->n);
    for (int k = 0; k < 5; k++) cJSON_AddNumberToObject(c, sp_batch_status_name((sp_batch_status)k), counts[k]);
    arr = cJSON_AddArrayToObject(root, "studies");
    for (int i = 0; i < p->n; i++) cJSON_AddItemToArray(arr, study_json(&p->v[i], ri->deidentify));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return sp_fail(err, SP_ENOMEM, "out of memory");
    size_t len = strlen(text);
    char *withnl = realloc(text, len + 2);
    if (!withnl) {
        free(text);
        return sp_fail(err, SP_ENOMEM, "out of memory");
    }
    withnl[len] = '\n', withnl[len + 1] = '\0';
    st = sp_batch_write_atomic(path, withnl, len + 1, err);
    free(withnl);
    return st;
}
