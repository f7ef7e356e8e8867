/* write.c - sp_seg_write(): label maps as NIfTI and vertebrae.json. */
#define SP_SEGMENT_INTERNAL
#include "internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/sp_fs.h"
#include "io/sp_io.h"

static cJSON *vec3(const double v[3])
{
    return cJSON_CreateDoubleArray(v, 3);
}

static const char *const part_names[] = {"background", "body", "pedicle_left", "pedicle_right",
                                         "posterior_left", "posterior_right", "spinous"};

char *sp_seg_json(const sp_seg_result *r);

char *sp_seg_json(const sp_seg_result *r)
{
    cJSON *root = cJSON_CreateObject(), *arr, *parts;
    char *txt;
    cJSON_AddStringToObject(root, "label_scheme", "verse");
    cJSON_AddStringToObject(root, "anchors", r->anchors);
    cJSON_AddStringToObject(root, "flags", r->flags);
    cJSON_AddNumberToObject(root, "seconds", r->seconds);
    parts = cJSON_AddObjectToObject(root, "parts_labels");
    for (int i = 1; i < 7; i++) cJSON_AddNumberToObject(parts, part_names[i], i);
    arr = cJSON_AddArrayToObject(root, "vertebrae");
    for (int k = 0; k < r->nvert; k++) {
        const sp_seg_vertebra *v = &r->vert[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "label", v->label);
        cJSON_AddStringToObject(o, "level", v->name);
        cJSON_AddNumberToObject(o, "level_confidence", v->confidence);
        cJSON_AddBoolToObject(o, "uncertain", v->uncertain);
        cJSON_AddStringToObject(o, "anchor", v->anchor);
        cJSON_AddStringToObject(o, "alternatives", v->alternatives);
        cJSON_AddNumberToObject(o, "rib_sides", v->ribs);
        cJSON_AddBoolToObject(o, "partial", v->partial);
        cJSON_AddItemToObject(o, "centroid_lps_mm", vec3(v->centroid));
        cJSON_AddItemToObject(o, "body_centre_lps_mm", vec3(v->body_centre));
        cJSON_AddItemToObject(o, "axis_superior", vec3(v->axis_si));
        cJSON_AddItemToObject(o, "axis_posterior", vec3(v->axis_ap));
        cJSON_AddItemToObject(o, "axis_left", vec3(v->axis_lr));
        cJSON_AddNumberToObject(o, "voxels", (double)v->nvox);
        cJSON_AddItemToArray(arr, o);
    }
    txt = cJSON_Print(root);
    cJSON_Delete(root);
    return txt;
}

sp_status sp_seg_write(const sp_seg_result *r, const char *dir, sp_err *err)
{
    char p[4096];
    sp_status st;
    char *txt;
    if ((st = sp_mkdir_p(dir, err)) != SP_OK) return st;
    snprintf(p, sizeof p, "%s/vertebrae.nii.gz", dir);
    if ((st = sp_io_write_nifti(p, r->vertebrae, err)) != SP_OK) return st;
    snprintf(p, sizeof p, "%s/parts.nii.gz", dir);
    if ((st = sp_io_write_nifti(p, r->parts, err)) != SP_OK) return st;
    txt = sp_seg_json(r);
    if (!txt) return sp_fail(err, SP_ENOMEM, "out of memory writing JSON");
    snprintf(p, sizeof p, "%s/vertebrae.json", dir);
    st = sp_io_write_text(p, txt, err);
    free(txt);
    return st;
}
