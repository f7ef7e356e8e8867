/* spec.c - parsing and validating a phantom spec (JSON, cJSON).
 *
 * DESIGN: every field is optional; defaults are set first, then each known
 * field overrides them after a range check. A field the parser does not know
 * is an error (a typo must not silently give a normal spine). Messages name
 * the spec and the field path, e.g. "spec.json: scan.pixel_mm: must be in
 * [0.1, 5] (got 9)". The canonical text used to derive UIDs is the unformatted
 * input JSON plus the seed. */
#define SP_PHANTOM_INTERNAL
#include "internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pctx {
    const char *name;
    sp_err *err;
} pctx;

static sp_status bad(pctx *c, const char *path, const char *what)
{
    return sp_fail(c->err, SP_EINVAL, "%s: %s: %s", c->name, path, what);
}

static void join(char *out, size_t n, const char *path, const char *key)
{
    snprintf(out, n, "%s%s%s", path, *path ? "." : "", key);
}

/* Fails on a key of obj not in allowed (NULL-terminated). */
static sp_status check_keys(pctx *c, const cJSON *obj, const char *path,
                            const char *const *allowed)
{
    char p[160];
    if (!cJSON_IsObject(obj)) return bad(c, *path ? path : "(top level)", "must be an object");
    for (const cJSON *it = obj->child; it; it = it->next) {
        int ok = 0;
        for (int i = 0; allowed[i]; i++)
            if (!strcmp(it->string, allowed[i])) ok = 1;
        if (!ok) {
            join(p, sizeof p, path, it->string);
            return bad(c, p, "unknown field");
        }
    }
    return SP_OK;
}

static sp_status get_num(pctx *c, const cJSON *obj, const char *key, const char *path, double lo,
                         double hi, double *out)
{
    char p[160], m[160];
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) return SP_OK;
    join(p, sizeof p, path, key);
    if (!cJSON_IsNumber(it)) return bad(c, p, "must be a number");
    if (!(it->valuedouble >= lo && it->valuedouble <= hi)) {
        snprintf(m, sizeof m, "must be in [%g, %g] (got %g)", lo, hi, it->valuedouble);
        return bad(c, p, m);
    }
    *out = it->valuedouble;
    return SP_OK;
}

static sp_status get_int(pctx *c, const cJSON *obj, const char *key, const char *path, int lo,
                         int hi, int *out)
{
    double d = *out;
    char p[160];
    sp_status st = get_num(c, obj, key, path, lo, hi, &d);
    if (st) return st;
    if (d != floor(d)) {
        join(p, sizeof p, path, key);
        return bad(c, p, "must be an integer");
    }
    *out = (int)d;
    return SP_OK;
}

static sp_status get_bool(pctx *c, const cJSON *obj, const char *key, const char *path, int *out)
{
    char p[160];
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) return SP_OK;
    join(p, sizeof p, path, key);
    if (!cJSON_IsBool(it)) return bad(c, p, "must be true or false");
    *out = cJSON_IsTrue(it);
    return SP_OK;
}

/* String field; with choices (NULL-terminated) the value must be one of them
 * and *idx receives its index. */
static sp_status get_str(pctx *c, const cJSON *obj, const char *key, const char *path, char *out,
                         size_t n, const char *const *choices, int *idx)
{
    char p[160], m[200];
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it) return SP_OK;
    join(p, sizeof p, path, key);
    if (!cJSON_IsString(it)) return bad(c, p, "must be a string");
    if (strlen(it->valuestring) >= n) {
        snprintf(m, sizeof m, "is too long (at most %zu characters)", n - 1);
        return bad(c, p, m);
    }
    if (choices) {
        int k = -1;
        for (int i = 0; choices[i]; i++)
            if (!strcmp(it->valuestring, choices[i])) k = i;
        if (k < 0) {
            size_t o = (size_t)snprintf(m, sizeof m, "must be one of");
            for (int i = 0; choices[i] && o < sizeof m; i++)
                o += (size_t)snprintf(m + o, sizeof m - o, " %s", choices[i]);
            return bad(c, p, m);
        }
        if (idx) *idx = k;
    }
    if (out) snprintf(out, n, "%s", it->valuestring);
    return SP_OK;
}

static void set_defaults(sp_phantom_spec *s)
{
    memset(s, 0, sizeof *s);
    s->seed = 1;
    snprintf(s->patient_id, sizeof s->patient_id, "PHANTOM-0001");
    snprintf(s->patient_name, sizeof s->patient_name, "PHANTOM^SPINE");
    snprintf(s->position, sizeof s->position, "HFS");
    snprintf(s->study_date, sizeof s->study_date, "20000101");
    snprintf(s->study_time, sizeof s->study_time, "120000");
    snprintf(s->description, sizeof s->description, "spinemet phantom");
    s->size_scale = 1.0;
    s->body_width = 290;
    s->body_depth = 210;
    s->fat_mm = 12;
    snprintf(s->from, PH_NAME, "T1");
    snprintf(s->to, PH_NAME, "S1");
    s->thoracic_count = 12;
    s->lumbar_count = 5;
    s->rib_pairs = -1;
    s->kyphosis_deg = 40;
    s->lordosis_deg = 55;
    s->cervical_lordosis_deg = 20;
    s->hu_cortex = 850;
    s->cortex_mm = 1.2;
    s->hu_trab = 200;
    s->hu_disc = 80;
    s->hu_muscle = 50;
    s->hu_fat = -100;
    s->hu_soft = 40;
    s->hu_aorta = NAN;
    s->hu_csf = 10;
    s->hu_cord = 35;
    s->hu_lung = -850;
    s->hu_air = -1000;
    s->hu_lytic = 35;
    s->hu_blastic = 900;
    s->hu_tumour = 45;
    s->texture_hu = 25;
    s->nx = s->ny = 256;
    s->pixel_mm = 1.4;
    s->slice_mm = 2.5;
    s->thickness_mm = -1;
    s->noise_hu = 15;
    s->margin_mm = 10;
    s->supersample = 1;
    s->scol_convex_right = 1;
    s->scol_span = 8;
    s->osteo_trab_hu = NAN;
    s->osteo_cortex_mm = NAN;
}

static const char *const side_names[] = {"left", "right", "anterior", "posterior", NULL};
static const char *const part_names[] = {"", "body", "pedicle_left", "pedicle_right",
                                         "lamina_left", "lamina_right", "spinous",
                                         "transverse_left", "transverse_right", "facet_left",
                                         "facet_right", NULL};

static sp_status parse_lesion(pctx *c, const cJSON *o, const char *path, ph_lesion_spec *l)
{
    static const char *const keys[] = {"type", "parts", "body_extent_pct", "center",
                                       "cortical_breach", "paravertebral_mm",
                                       "paravertebral_side", "epidural_bilsky", "epidural_side",
                                       NULL};
    static const char *const types[] = {"none", "lytic", "blastic", "mixed", NULL};
    static const char *const bilsky[] = {"1a", "1b", "1c", "2", "3", NULL};
    char p[160];
    sp_status st;
    const cJSON *it;
    if ((st = check_keys(c, o, path, keys))) return st;
    l->type = PH_LYTIC;
    l->parts = 1u << SP_PART_BODY;
    l->body_extent_pct = 50;
    l->breach = 0;
    l->bilsky = -1;
    l->paravertebral_side = PH_SIDE_LEFT;
    l->epidural_side = PH_SIDE_ANTERIOR;
    if ((st = get_str(c, o, "type", path, NULL, 16, types, &l->type))) return st;
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "parts"))) {
        join(p, sizeof p, path, "parts");
        if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) == 0)
            return bad(c, p, "must be a non-empty array of part names");
        l->parts = 0;
        for (const cJSON *e = it->child; e; e = e->next) {
            int k = -1;
            for (int i = 1; part_names[i]; i++)
                if (cJSON_IsString(e) && !strcmp(e->valuestring, part_names[i])) k = i;
            if (k < 0)
                return bad(c, p, "unknown part (body, pedicle_left/right, lamina_left/right, "
                                 "spinous, transverse_left/right, facet_left/right)");
            l->parts |= 1u << k;
        }
    }
    if ((st = get_num(c, o, "body_extent_pct", path, 1, 100, &l->body_extent_pct))) return st;
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "center"))) {
        join(p, sizeof p, path, "center");
        if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != 3)
            return bad(c, p, "must be [left, anterior, superior] fractions in [-1, 1]");
        for (int i = 0; i < 3; i++) {
            const cJSON *e = cJSON_GetArrayItem(it, i);
            if (!cJSON_IsNumber(e) || fabs(e->valuedouble) > 1)
                return bad(c, p, "must be [left, anterior, superior] fractions in [-1, 1]");
            l->center[i] = e->valuedouble;
        }
    }
    if ((st = get_bool(c, o, "cortical_breach", path, &l->breach))) return st;
    if ((st = get_num(c, o, "paravertebral_mm", path, 0, 60, &l->paravertebral_mm))) return st;
    if ((st = get_str(c, o, "paravertebral_side", path, NULL, 16, side_names,
                      &l->paravertebral_side)))
        return st;
    if ((st = get_str(c, o, "epidural_bilsky", path, NULL, 8, bilsky, &l->bilsky))) return st;
    if ((st = get_str(c, o, "epidural_side", path, NULL, 16, side_names, &l->epidural_side)))
        return st;
    if (l->type == PH_LES_NONE) l->parts = 0;
    return SP_OK;
}

static sp_status parse_level(pctx *c, const cJSON *o, const char *path, ph_level_spec *v)
{
    static const char *const keys[] = {"collapse_pct", "collapse_shape", "trabecular_hu",
                                       "kyphosis_deg", "coronal_deg", "translation_ap_mm",
                                       "translation_lateral_mm", "lesion", NULL};
    static const char *const shapes[] = {"none", "wedge", "biconcave", "crush", NULL};
    char p[160];
    sp_status st;
    const cJSON *it;
    if ((st = check_keys(c, o, path, keys))) return st;
    v->trabecular_hu = NAN;
    v->collapse_shape = PH_SHAPE_NONE;
    if ((st = get_num(c, o, "collapse_pct", path, 0, 90, &v->collapse_pct))) return st;
    if (v->collapse_pct > 0) v->collapse_shape = PH_WEDGE;
    if ((st = get_str(c, o, "collapse_shape", path, NULL, 16, shapes, &v->collapse_shape)))
        return st;
    if (v->collapse_shape == PH_SHAPE_NONE) v->collapse_pct = 0;
    if ((st = get_num(c, o, "trabecular_hu", path, -100, 1500, &v->trabecular_hu))) return st;
    if ((st = get_num(c, o, "kyphosis_deg", path, -45, 60, &v->kyphosis_deg))) return st;
    if ((st = get_num(c, o, "coronal_deg", path, -45, 45, &v->coronal_deg))) return st;
    if ((st = get_num(c, o, "translation_ap_mm", path, -30, 30, &v->trans_ap_mm))) return st;
    if ((st = get_num(c, o, "translation_lateral_mm", path, -30, 30, &v->trans_lat_mm)))
        return st;
    if ((it = cJSON_GetObjectItemCaseSensitive(o, "lesion"))) {
        join(p, sizeof p, path, "lesion");
        if ((st = parse_lesion(c, it, p, &v->lesion))) return st;
    }
    return SP_OK;
}

static sp_status parse_sections(pctx *c, const cJSON *root, sp_phantom_spec *s)
{
    static const char *const top[] = {"schema_version", "seed", "description", "patient",
                                      "anatomy", "tissue", "scan", "scoliosis", "osteoporosis",
                                      "vertebrae", NULL};
    static const char *const pk[] = {"id", "name", "position", "study_date", "study_time",
                                     "size_scale", "body_width_mm", "body_depth_mm", "fat_mm",
                                     NULL};
    static const char *const positions[] = {"HFS", "FFS", NULL};
    static const char *const ak[] = {"from", "to", "thoracic_count", "lumbar_count",
                                     "rib_pairs", "sacralized_l5", "kyphosis_deg",
                                     "lordosis_deg", "cervical_lordosis_deg", NULL};
    static const char *const tk[] = {"cortical_hu", "cortical_mm", "trabecular_hu", "disc_hu",
                                     "muscle_hu", "fat_hu", "soft_tissue_hu", "csf_hu",
                                     "cord_hu", "lung_hu", "air_hu", "lytic_hu", "blastic_hu",
                                     "tumour_soft_tissue_hu", "texture_hu", "aorta_hu", NULL};
    static const char *const sk[] = {"matrix", "pixel_mm", "slice_mm", "thickness_mm",
                                     "noise_hu", "supersample", "fov_from", "fov_to",
                                     "margin_mm", "center_mm", NULL};
    static const char *const ck[] = {"apex", "cobb_deg", "convex", "span", NULL};
    static const char *const convex[] = {"left", "right", NULL};
    static const char *const ok[] = {"trabecular_hu", "cortical_mm", NULL};
    const cJSON *o;
    sp_status st;
    int ver = 1, conv = 1;
    double seed = 1;
    if ((st = check_keys(c, root, "", top))) return st;
    if ((st = get_int(c, root, "schema_version", "", 1, SP_PHANTOM_SCHEMA_VERSION, &ver)))
        return st;
    if ((st = get_num(c, root, "seed", "", 0, 9007199254740991.0, &seed))) return st;
    s->seed = (uint64_t)seed;
    if ((st = get_str(c, root, "description", "", s->description, sizeof s->description, NULL,
                      NULL)))
        return st;
    if ((o = cJSON_GetObjectItemCaseSensitive(root, "patient"))) {
        if ((st = check_keys(c, o, "patient", pk))) return st;
        if ((st = get_str(c, o, "id", "patient", s->patient_id, 17, NULL, NULL)) ||
            (st = get_str(c, o, "name", "patient", s->patient_name, 65, NULL, NULL)) ||
            (st = get_str(c, o, "position", "patient", s->position, 8, positions, NULL)) ||
            (st = get_str(c, o, "study_date", "patient", s->study_date, 9, NULL, NULL)) ||
            (st = get_str(c, o, "study_time", "patient", s->study_time, 7, NULL, NULL)) ||
            (st = get_num(c, o, "size_scale", "patient", 0.6, 1.4, &s->size_scale)) ||
            (st = get_num(c, o, "body_width_mm", "patient", 150, 600, &s->body_width)) ||
            (st = get_num(c, o, "body_depth_mm", "patient", 120, 450, &s->body_depth)) ||
            (st = get_num(c, o, "fat_mm", "patient", 2, 60, &s->fat_mm)))
            return st;
        if (strlen(s->study_date) != 8 || strspn(s->study_date, "0123456789") != 8)
            return bad(c, "patient.study_date", "must be YYYYMMDD");
        if (strlen(s->study_time) != 6 || strspn(s->study_time, "0123456789") != 6)
            return bad(c, "patient.study_time", "must be HHMMSS");
    }
    if ((o = cJSON_GetObjectItemCaseSensitive(root, "anatomy"))) {
        if ((st = check_keys(c, o, "anatomy", ak))) return st;
        if ((st = get_str(c, o, "from", "anatomy", s->from, PH_NAME, NULL, NULL)) ||
            (st = get_str(c, o, "to", "anatomy", s->to, PH_NAME, NULL, NULL)) ||
            (st = get_int(c, o, "thoracic_count", "anatomy", 11, 13, &s->thoracic_count)) ||
            (st = get_int(c, o, "lumbar_count", "anatomy", 4, 6, &s->lumbar_count)) ||
            (st = get_int(c, o, "rib_pairs", "anatomy", 10, 14, &s->rib_pairs)) ||
            (st = get_bool(c, o, "sacralized_l5", "anatomy", &s->sacralized_l5)) ||
            (st = get_num(c, o, "kyphosis_deg", "anatomy", -20, 90, &s->kyphosis_deg)) ||
            (st = get_num(c, o, "lordosis_deg", "anatomy", -20, 90, &s->lordosis_deg)) ||
            (st = get_num(c, o, "cervical_lordosis_deg", "anatomy", -30, 60,
                          &s->cervical_lordosis_deg)))
            return st;
    }
    if ((o = cJSON_GetObjectItemCaseSensitive(root, "tissue"))) {
        if ((st = check_keys(c, o, "tissue", tk))) return st;
        if ((st = get_num(c, o, "cortical_hu", "tissue", 200, 3000, &s->hu_cortex)) ||
            (st = get_num(c, o, "cortical_mm", "tissue", 0.4, 4, &s->cortex_mm)) ||
            (st = get_num(c, o, "trabecular_hu", "tissue", -100, 1500, &s->hu_trab)) ||
            (st = get_num(c, o, "disc_hu", "tissue", -100, 300, &s->hu_disc)) ||
            (st = get_num(c, o, "muscle_hu", "tissue", -100, 200, &s->hu_muscle)) ||
            (st = get_num(c, o, "fat_hu", "tissue", -300, 0, &s->hu_fat)) ||
            (st = get_num(c, o, "soft_tissue_hu", "tissue", -100, 200, &s->hu_soft)) ||
            (st = get_num(c, o, "csf_hu", "tissue", -50, 100, &s->hu_csf)) ||
            (st = get_num(c, o, "cord_hu", "tissue", -50, 150, &s->hu_cord)) ||
            (st = get_num(c, o, "lung_hu", "tissue", -1000, -300, &s->hu_lung)) ||
            (st = get_num(c, o, "air_hu", "tissue", -1024, -900, &s->hu_air)) ||
            (st = get_num(c, o, "lytic_hu", "tissue", -100, 300, &s->hu_lytic)) ||
            (st = get_num(c, o, "blastic_hu", "tissue", 300, 3000, &s->hu_blastic)) ||
            (st = get_num(c, o, "tumour_soft_tissue_hu", "tissue", -100, 300, &s->hu_tumour)) ||
            (st = get_num(c, o, "texture_hu", "tissue", 0, 200, &s->texture_hu)) ||
            (st = get_num(c, o, "aorta_hu", "tissue", 0, 600, &s->hu_aorta)))
            return st;
    }
    if ((o = cJSON_GetObjectItemCaseSensitive(root, "scan"))) {
        const cJSON *m;
        if ((st = check_keys(c, o, "scan", sk))) return st;
        if ((m = cJSON_GetObjectItemCaseSensitive(o, "matrix"))) {
            const cJSON *a = cJSON_GetArrayItem(m, 0), *b = cJSON_GetArrayItem(m, 1);
            if (!cJSON_IsArray(m) || cJSON_GetArraySize(m) != 2 || !cJSON_IsNumber(a) ||
                !cJSON_IsNumber(b) || a->valuedouble < 16 || a->valuedouble > 2048 ||
                b->valuedouble < 16 || b->valuedouble > 2048)
                return bad(c, "scan.matrix", "must be [columns, rows], each 16..2048");
            s->nx = (int)a->valuedouble;
            s->ny = (int)b->valuedouble;
        }
        if ((st = get_num(c, o, "pixel_mm", "scan", 0.1, 5, &s->pixel_mm)) ||
            (st = get_num(c, o, "slice_mm", "scan", 0.1, 20, &s->slice_mm)) ||
            (st = get_num(c, o, "thickness_mm", "scan", 0.1, 20, &s->thickness_mm)) ||
            (st = get_num(c, o, "noise_hu", "scan", 0, 300, &s->noise_hu)) ||
            (st = get_bool(c, o, "supersample", "scan", &s->supersample)) ||
            (st = get_str(c, o, "fov_from", "scan", s->fov_from, PH_NAME, NULL, NULL)) ||
            (st = get_str(c, o, "fov_to", "scan", s->fov_to, PH_NAME, NULL, NULL)) ||
            (st = get_num(c, o, "margin_mm", "scan", 0, 200, &s->margin_mm)))
            return st;
        if ((m = cJSON_GetObjectItemCaseSensitive(o, "center_mm"))) {
            const cJSON *a = cJSON_GetArrayItem(m, 0), *b = cJSON_GetArrayItem(m, 1);
            if (!cJSON_IsArray(m) || cJSON_GetArraySize(m) != 2 || !cJSON_IsNumber(a) ||
                !cJSON_IsNumber(b))
                return bad(c, "scan.center_mm", "must be [x, y] in LPS mm");
            s->center[0] = a->valuedouble;
            s->center[1] = b->valuedouble;
            s->has_center = 1;
        }
    }
    if ((o = cJSON_GetObjectItemCaseSensitive(root, "scoliosis"))) {
        snprintf(s->scol_apex, PH_NAME, "T9");
        s->scol_cobb = 30;
        if ((st = check_keys(c, o, "scoliosis", ck)) ||
            (st = get_str(c, o, "apex", "scoliosis", s->scol_apex, PH_NAME, NULL, NULL)) ||
            (st = get_num(c, o, "cobb_deg", "scoliosis", 0, 80, &s->scol_cobb)) ||
            (st = get_str(c, o, "convex", "scoliosis", NULL, 8, convex, &conv)) ||
            (st = get_int(c, o, "span", "scoliosis", 2, 16, &s->scol_span)))
            return st;
        s->scol_convex_right = conv;
    }
    if ((o = cJSON_GetObjectItemCaseSensitive(root, "osteoporosis"))) {
        s->osteo_trab_hu = 90;
        s->osteo_cortex_mm = 0.7;
        if ((st = check_keys(c, o, "osteoporosis", ok)) ||
            (st = get_num(c, o, "trabecular_hu", "osteoporosis", -100, 300, &s->osteo_trab_hu)) ||
            (st = get_num(c, o, "cortical_mm", "osteoporosis", 0.4, 3, &s->osteo_cortex_mm)))
            return st;
    }
    if ((o = cJSON_GetObjectItemCaseSensitive(root, "vertebrae"))) {
        char p[160];
        if (!cJSON_IsObject(o)) return bad(c, "vertebrae", "must be an object keyed by level");
        for (const cJSON *it = o->child; it; it = it->next) {
            ph_level_spec *v;
            if (s->nlevels >= PH_MAX_LEVELS) return bad(c, "vertebrae", "too many levels");
            join(p, sizeof p, "vertebrae", it->string);
            if (strlen(it->string) >= PH_NAME) return bad(c, p, "unknown level name");
            v = &s->levels[s->nlevels++];
            snprintf(v->name, PH_NAME, "%s", it->string);
            if ((st = parse_level(c, it, p, v))) return st;
        }
    }
    return SP_OK;
}

/* Checks that level names exist for the spec's vertebra counts. */
static sp_status check_names(pctx *c, sp_phantom_spec *s)
{
    char names[PH_MAX_LEVELS][PH_NAME], p[160];
    int labels[PH_MAX_LEVELS], n = ph_level_sequence(s, names, labels, PH_MAX_LEVELS);
    struct { const char *path, *v; } f[] = {{"anatomy.from", s->from}, {"anatomy.to", s->to},
                                            {"scan.fov_from", s->fov_from},
                                            {"scan.fov_to", s->fov_to},
                                            {"scoliosis.apex", s->scol_apex}};
    int idx[5];
    for (int k = 0; k < 5; k++) {
        idx[k] = -1;
        if (!f[k].v[0]) continue;
        for (int i = 0; i < n; i++)
            if (!strcmp(names[i], f[k].v)) idx[k] = i;
        if (idx[k] < 0) return bad(c, f[k].path, "not a level of this spine (C1..S1)");
    }
    if (idx[1] - idx[0] < 1) return bad(c, "anatomy.to", "must be caudal to anatomy.from");
    if (idx[1] - idx[0] + 1 > PH_MAX_LEVELS - 2) return bad(c, "anatomy", "too many levels");
    if (idx[2] >= 0 && (idx[2] < idx[0] || idx[2] > idx[1]))
        return bad(c, "scan.fov_from", "outside anatomy.from..to");
    if (idx[3] >= 0 && (idx[3] < idx[0] || idx[3] > idx[1]))
        return bad(c, "scan.fov_to", "outside anatomy.from..to");
    if (idx[2] >= 0 && idx[3] >= 0 && idx[3] < idx[2])
        return bad(c, "scan.fov_to", "must not be cranial to scan.fov_from");
    for (int k = 0; k < s->nlevels; k++) {
        int found = 0;
        for (int i = idx[0]; i <= idx[1]; i++)
            if (!strcmp(names[i], s->levels[k].name)) found = 1;
        join(p, sizeof p, "vertebrae", s->levels[k].name);
        if (!found) return bad(c, p, "not a level in anatomy.from..to");
        if (!strcmp(s->levels[k].name, "S1") && s->levels[k].lesion.type)
            return bad(c, p, "lesions in the sacrum are not modelled");
    }
    return SP_OK;
}

sp_status sp_phantom_spec_parse(const char *json, const char *name, sp_phantom_spec **out,
                                sp_err *err)
{
    pctx c = {name ? name : "spec", err};
    sp_phantom_spec *s;
    cJSON *root;
    sp_status st;
    char *txt;
    *out = NULL;
    if (!json) return sp_fail(err, SP_EINVAL, "%s: no text", c.name);
    root = cJSON_Parse(json);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        return sp_fail(err, SP_EINVAL, "%s: not valid JSON near '%.20s'", c.name,
                       at ? at : "?");
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        cJSON_Delete(root);
        return sp_fail(err, SP_ENOMEM, "out of memory");
    }
    set_defaults(s);
    snprintf(s->name, sizeof s->name, "%s", c.name);
    st = parse_sections(&c, root, s);
    if (!st) st = check_names(&c, s);
    if (!st && s->rib_pairs < 0) s->rib_pairs = s->thoracic_count;
    if (!st && s->thickness_mm <= 0) s->thickness_mm = s->slice_mm;
    txt = st ? NULL : cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!st && !txt) st = sp_fail(err, SP_ENOMEM, "out of memory");
    if (st) {
        free(txt);
        free(s);
        return st;
    }
    s->canonical = txt;
    *out = s;
    return SP_OK;
}

sp_status sp_phantom_spec_load(const char *path, sp_phantom_spec **out, sp_err *err)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    sp_status st;
    *out = NULL;
    if (!f) return sp_fail(err, SP_EIO, "cannot open %s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > (1L << 24) ||
        fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return sp_fail(err, SP_EIO, "cannot read %s (too large or not a file)", path);
    }
    buf = malloc((size_t)n + 1);
    if (!buf) {
        fclose(f);
        return sp_fail(err, SP_ENOMEM, "out of memory");
    }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return sp_fail(err, SP_EIO, "cannot read %s", path);
    }
    fclose(f);
    buf[n] = 0;
    st = sp_phantom_spec_parse(buf, path, out, err);
    free(buf);
    return st;
}

void sp_phantom_spec_set_seed(sp_phantom_spec *s, uint64_t seed)
{
    if (s) s->seed = seed;
}

void sp_phantom_spec_free(sp_phantom_spec *s)
{
    if (!s) return;
    free(s->canonical);
    free(s);
}

sp_phantom_spec *ph_spec_clone(const sp_phantom_spec *s)
{
    sp_phantom_spec *c = malloc(sizeof *c);
    if (!c) return NULL;
    *c = *s;
    c->canonical = s->canonical ? strdup(s->canonical) : NULL;
    if (s->canonical && !c->canonical) {
        free(c);
        return NULL;
    }
    return c;
}

int ph_spec_level_index(const sp_phantom_spec *s, const char *name)
{
    for (int i = 0; i < s->nlevels; i++)
        if (!strcmp(s->levels[i].name, name)) return i;
    return -1;
}
