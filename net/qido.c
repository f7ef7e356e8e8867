/* qido.c - QIDO-RS study search (GET /studies?...) to a list of Study
 * Instance UIDs.
 *
 * DESIGN: pages of 100 with limit/offset. A server that ignores the paging
 * parameters answers every page with the same studies: a page that adds no
 * new UID, or that is longer than the limit, ends the search. Only the
 * Study Instance UID (0020000D) of each answer is read; patient attributes
 * in the answer are never looked at or logged. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SP_NET_INTERNAL
#include "net/internal.h"

#define QIDO_PAGE 100
#define QIDO_MAX_STUDIES 20000 /* per search; docs/pacs.md */

void sp_dw_strings_free(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* Appends "&key=escaped(value)" when value is set. */
static bool add_param(CURL *h, char *q, size_t n, const char *key, const char *value)
{
    if (!value || !value[0]) return true;
    char *e = curl_easy_escape(h, value, 0);
    if (!e) return false;
    size_t len = strlen(q);
    int w = snprintf(q + len, n - len, "&%s=%s", key, e);
    curl_free(e);
    return w > 0 && (size_t)w < n - len;
}

/* The string value of tag in one QIDO JSON object, or NULL. */
static const char *tag_string(const cJSON *obj, const char *tag)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, tag);
    const cJSON *v = a ? cJSON_GetObjectItemCaseSensitive(a, "Value") : NULL;
    const cJSON *s = cJSON_IsArray(v) ? cJSON_GetArrayItem(v, 0) : NULL;
    return cJSON_IsString(s) ? s->valuestring : NULL;
}

typedef struct uid_list {
    char **v;
    int n, cap;
} uid_list;

/* Adds uid unless present; returns -1 on no memory, 1 when added, 0 when known. */
static int list_add(uid_list *l, const char *uid)
{
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], uid)) return 0;
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return -1;
        l->v = v, l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(uid))) return -1;
    l->n++;
    return 1;
}

/* One page: adds its UIDs; *got = answers on the page, *added = new ones. */
static sp_status one_page(sp_dw_client *c, const char *query, uid_list *l, int *got, int *added, sp_err *err)
{
    char shown[2200];
    dw_request r = {.path = "/studies", .query = query, .accept = "application/dicom+json"};
    sp_status st = dw_perform(c, &r, err);
    *got = *added = 0;
    dw_display_url(c, r.path, shown, sizeof shown);
    if (st != SP_OK) goto done;
    if (r.status == 204 || (r.status == 200 && r.body.len == 0)) goto done; /* no match */
    if (r.status != 200) {
        st = dw_http_fail(c, &r, err, "study search (QIDO-RS)");
        goto done;
    }
    cJSON *j = r.body.overflow ? NULL : cJSON_ParseWithLength(r.body.p, r.body.len);
    if (!cJSON_IsArray(j)) {
        cJSON_Delete(j);
        st = sp_fail(err, SP_EDICOM, "%s: study search (QIDO-RS): the answer is not a JSON array (Content-Type %s)",
                     shown, r.content_type_in[0] ? r.content_type_in : "none");
        goto done;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, j)
    {
        const char *uid = tag_string(it, "0020000D");
        (*got)++;
        if (!uid || !uid[0]) continue;
        int a = list_add(l, uid);
        if (a < 0) {
            st = sp_fail(err, SP_ENOMEM, "out of memory");
            break;
        }
        *added += a;
    }
    cJSON_Delete(j);
done:
    dw_buf_free(&r.body);
    return st;
}

sp_status sp_dw_search_studies(sp_dw_client *c, const sp_dw_query *q, char ***uids, int *n, sp_err *err)
{
    char filters[4096] = "";
    uid_list l = {0};
    sp_status st = SP_OK;
    *uids = NULL, *n = 0;
    if (!add_param(c->curl, filters, sizeof filters, "StudyInstanceUID", q->study_uid) ||
        !add_param(c->curl, filters, sizeof filters, "PatientID", q->patient_id) ||
        !add_param(c->curl, filters, sizeof filters, "ModalitiesInStudy", q->modality) ||
        !add_param(c->curl, filters, sizeof filters, "StudyDate", q->study_date) ||
        !add_param(c->curl, filters, sizeof filters, "AccessionNumber", q->accession))
        return sp_fail(err, SP_EINVAL, "study search: filters too long");
    for (int offset = 0; l.n < QIDO_MAX_STUDIES;) {
        char query[4200];
        int got, added;
        snprintf(query, sizeof query, "limit=%d&offset=%d%s", QIDO_PAGE, offset, filters);
        if ((st = one_page(c, query, &l, &got, &added, err)) != SP_OK) break;
        if (got < QIDO_PAGE || got > QIDO_PAGE || added == 0) break;
        offset += got;
    }
    if (st != SP_OK) {
        sp_dw_strings_free(l.v, l.n);
        return st;
    }
    *uids = l.v, *n = l.n;
    return SP_OK;
}
