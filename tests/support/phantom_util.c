/* phantom_util.c - see phantom_util.h. */
#include "phantom_util.h"

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_util.h"

sp_phantom *sp_test_phantom(const char *json)
{
    sp_phantom_spec *s = NULL;
    sp_phantom *p = NULL;
    sp_err e = {0};
    cr_assert_eq(sp_phantom_spec_parse(json, "test", &s, &e), SP_OK, "%s", e.msg);
    cr_assert_eq(sp_phantom_generate(s, &p, &e), SP_OK, "%s", e.msg);
    sp_phantom_spec_free(s);
    return p;
}

char *sp_test_sample_spec(const char *name, int seed)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/sample_data/%s.json", SP_SOURCE_DIR, name);
    if (access(path, R_OK) != 0) /* a held-out spec */
        snprintf(path, sizeof path, "%s/bench/heldout/%s.json", SP_SOURCE_DIR, name);
    size_t len = 0;
    char *text = sp_test_read_file(path, &len);
    cr_assert_not_null(text, "cannot read %s", path);
    cJSON *spec = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(spec, "%s is not JSON", path);
    cJSON_DeleteItemFromObject(spec, "seed");
    cJSON_AddNumberToObject(spec, "seed", seed);
    char *json = cJSON_PrintUnformatted(spec);
    cJSON_Delete(spec);
    cr_assert_not_null(json);
    return json;
}

sp_seg_result *sp_test_segment(const sp_phantom *p)
{
    sp_seg_result *r = NULL;
    sp_err e = {0};
    cr_assert_eq(sp_seg_run(sp_phantom_ct(p), NULL, &r, &e), SP_OK, "%s", e.msg);
    return r;
}

double sp_test_dice(const sp_volume *a, const sp_volume *b, int l)
{
    double inter = 0, na = 0, nb = 0;
    for (size_t i = 0; i < sp_vol_nvox(a); i++) {
        int x = ((const uint8_t *)a->data)[i] == l, y = ((const uint8_t *)b->data)[i] == l;
        inter += x && y, na += x, nb += y;
    }
    return na + nb > 0 ? 2 * inter / (na + nb) : 0;
}
