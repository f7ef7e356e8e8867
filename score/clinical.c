/* clinical.c - the clinician's inputs that images do not hold: pain per
 * level, from a small JSON sidecar.
 *
 *   {"schema_version": 1, "pain": {"T12": "mechanical", "L1": "occasional"}}
 *
 * Pain words: mechanical (3), occasional (1), none (0). Unknown fields are
 * errors naming the file and the field, like the phantom's spec reader. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_score.h"

static char *slurp(const char *path, sp_err *err, sp_status *st)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    *st = SP_OK;
    if (!f) {
        *st = sp_fail(err, SP_EIO, "%s: cannot open (%s)", path, strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 || n > (1 << 20)) {
        fclose(f);
        *st = sp_fail(err, SP_EIO, "%s: cannot read (or larger than 1 MiB)", path);
        return NULL;
    }
    buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        *st = sp_fail(err, SP_EIO, "%s: cannot read", path);
        return NULL;
    }
    buf[n] = 0;
    fclose(f);
    return buf;
}

sp_status sp_score_opts_read_clinical(sp_score_opts *o, const char *path, sp_err *err)
{
    sp_status st;
    char *txt = slurp(path, err, &st);
    if (!txt) return st;
    cJSON *root = cJSON_Parse(txt);
    free(txt);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return sp_fail(err, SP_EINVAL, "%s: not a JSON object", path);
    }
    st = SP_OK;
    for (cJSON *it = root->child; it && st == SP_OK; it = it->next) {
        if (!strcmp(it->string, "schema_version")) {
            if (!cJSON_IsNumber(it) || it->valueint != 1) st = sp_fail(err, SP_EINVAL, "%s: schema_version must be 1", path);
        } else if (!strcmp(it->string, "pain")) {
            if (!cJSON_IsObject(it)) {
                st = sp_fail(err, SP_EINVAL, "%s: pain: expected an object {\"LEVEL\": \"mechanical\"}", path);
                break;
            }
            for (cJSON *p = it->child; p && st == SP_OK; p = p->next) {
                char arg[64];
                if (!cJSON_IsString(p)) {
                    st = sp_fail(err, SP_EINVAL, "%s: pain.%s: expected mechanical, occasional or none", path, p->string);
                    break;
                }
                snprintf(arg, sizeof arg, "%s=%s", p->string, p->valuestring);
                sp_err e2 = {0};
                if (sp_score_opts_set_pain(o, arg, &e2) != SP_OK)
                    st = sp_fail(err, SP_EINVAL, "%s: pain.%s: %s", path, p->string, e2.msg);
            }
        } else {
            st = sp_fail(err, SP_EINVAL, "%s: %s: unknown field", path, it->string);
        }
    }
    cJSON_Delete(root);
    return st;
}
