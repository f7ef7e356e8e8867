/* report_csv.c - report.csv: one row per vertebra with stable column names
 * (docs/report.md), for cohort work. Unknown values are empty cells; lists
 * inside a cell are separated by ';'. Identifier columns are empty for a
 * NIfTI input; with --deidentify patient_id and study_date are empty and
 * series_uid is the salted replacement that seg.dcm and sr.dcm reference, so
 * a de-identified cohort's rows still link to its DICOM outputs. */
#define SP_REPORT_INTERNAL
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* The header, in row()'s order; exported for cohort.csv (sp_report_csv_columns). */
static const char *const COLUMNS[] = {
    "patient_id", "study_date", "series_uid", "level", "label", "level_confidence", "level_uncertain",
    "height_anterior_mm", "height_middle_mm", "height_posterior_mm", "expected_height_mm", "collapse_pct",
    "genant_grade", "genant_shape",
    "lesion_character", "body_involvement_pct", "lytic_ml", "blastic_ml", "posterolateral", "pedicle_left_pct",
    "pedicle_right_pct", "facet_left_pct", "facet_right_pct", "cortical_breach", "paravertebral", "epidural",
    "wbb_zones", "wbb_zones_left", "wbb_zones_right", "wbb_layers",
    "translation_mm", "sagittal_deviation_deg", "coronal_deg", "cobb_deg",
    "sins_applicable", "sins_location", "sins_pain", "sins_bone_lesion", "sins_alignment", "sins_collapse",
    "sins_posterolateral", "sins_imaging_subtotal", "sins_total_min", "sins_total_max", "sins_category_min",
    "sins_category_max", "partial"};
#define NCOLUMNS ((int)(sizeof COLUMNS / sizeof COLUMNS[0]))
_Static_assert(sizeof COLUMNS / sizeof COLUMNS[0] == 47, "row() writes 47 cells: keep COLUMNS, row() and docs/report.md in step");

const char *const *sp_report_csv_columns(int *n)
{
    if (n) *n = NCOLUMNS;
    return COLUMNS;
}

/* a CSV-safe field: quoted when it holds a comma, quote or newline */
static void field(FILE *f, const char *s, bool last)
{
    if (strpbrk(s, ",\"\n\r")) {
        fputc('"', f);
        for (const char *p = s; *p; p++) {
            if (*p == '"') fputc('"', f);
            fputc(*p, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    fputc(last ? '\n' : ',', f);
}

static void fnum(FILE *f, double v, int prec)
{
    char b[64] = "";
    if (isfinite(v)) snprintf(b, sizeof b, "%.*f", prec, v);
    field(f, b, false);
}

static void fint(FILE *f, int v, bool known)
{
    char b[32] = "";
    if (known) snprintf(b, sizeof b, "%d", v);
    field(f, b, false);
}

static void fzones(FILE *f, unsigned zones, int from, int to, bool last)
{
    char b[64] = "";
    size_t off = 0;
    for (int z = from; z <= to; z++)
        if (zones & (1u << (z - 1))) off += (size_t)snprintf(b + off, sizeof b - off, "%s%d", off ? ";" : "", z);
    field(f, b, last);
}

static void row(FILE *f, const sp_report_ctx *ctx, const sp_score_vertebra *v, const char *series_uid)
{
    const sp_series_refs *r = ctx->refs;
    bool id = sp_report_identified(ctx);
    const sp_score_lesion *L = &v->les;
    const sp_score_sins *s = &v->sins;
    bool les = sp_report_has_lesion(v);
    field(f, id ? r->pat.patient_id : "", false);
    field(f, id ? r->pat.study_date : "", false);
    field(f, series_uid, false);
    field(f, v->name, false);
    fint(f, v->label, true);
    fnum(f, v->level_confidence, 2);
    field(f, v->uncertain ? "1" : "0", false);
    bool h = v->h.ok;
    fnum(f, h ? v->h.anterior : NAN, 1), fnum(f, h ? v->h.middle : NAN, 1), fnum(f, h ? v->h.posterior : NAN, 1);
    fnum(f, v->h.expected, 1), fnum(f, v->h.collapse_pct, 1);
    fint(f, v->h.genant, v->h.genant >= 0);
    field(f, v->h.shape && v->h.genant >= 0 ? v->h.shape : "", false);
    field(f, L->assessed ? sp_report_char_name(L->character) : "not assessed", false);
    fnum(f, L->assessed ? (les ? L->body_involvement_pct : 0.0) : NAN, 1);
    fnum(f, L->assessed ? L->lytic_ml : NAN, 2), fnum(f, L->assessed ? L->blastic_ml : NAN, 2);
    field(f, !les ? "none" : L->side[0] && L->side[1] ? "bilateral" : L->side[0] ? "left" : L->side[1] ? "right" : "none",
          false);
    fnum(f, les ? L->pedicle_pct[0] : NAN, 1), fnum(f, les ? L->pedicle_pct[1] : NAN, 1);
    fnum(f, les ? L->facet_pct[0] : NAN, 1), fnum(f, les ? L->facet_pct[1] : NAN, 1);
    field(f, les && L->cortical_breach ? "1" : "0", false);
    field(f, "", false); /* paravertebral: not assessed (SP_PARAVERTEBRAL_REASON) */
    field(f, les && L->epidural ? "1" : "0", false);
    unsigned z = les ? L->zones : 0;
    fzones(f, z, 1, 12, false), fzones(f, z, 1, 6, false), fzones(f, z, 7, 12, false);
    char ly[32] = "";
    size_t off = 0;
    for (int l = 0; l < 5; l++)
        if (les && (L->layers & (1u << l))) off += (size_t)snprintf(ly + off, sizeof ly - off, "%s%c", off ? ";" : "", sp_wbb_layer_letter(l));
    field(f, ly, false);
    fnum(f, v->translation_mm, 1), fnum(f, v->sagittal_dev_deg, 1), fnum(f, v->coronal_deg, 1), fnum(f, v->cobb_deg, 1);
    field(f, s->applicable ? "1" : "0", false);
    fint(f, s->location, s->applicable && s->location >= 0);
    fint(f, s->pain, s->applicable && s->pain >= 0);
    fint(f, s->bone_lesion, s->applicable && s->bone_lesion >= 0);
    fint(f, s->alignment, s->applicable && s->alignment >= 0);
    fint(f, s->collapse, s->applicable && s->collapse >= 0);
    fint(f, s->posterolateral, s->applicable && s->posterolateral >= 0);
    fint(f, s->imaging_subtotal, s->applicable);
    fint(f, s->total_min, s->applicable), fint(f, s->total_max, s->applicable);
    field(f, s->applicable ? sp_sins_category_name(s->cat_min) : "", false);
    field(f, s->applicable ? sp_sins_category_name(s->cat_max) : "", false);
    field(f, v->partial ? "1" : "0", true);
}

sp_status sp_report_write_csv(const sp_report_ctx *ctx, const char *dir, sp_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/report.csv", dir);
    FILE *f = fopen(path, "wb");
    if (!f) return sp_fail(err, SP_EIO, "%s: cannot write (%s)", path, strerror(errno));
    for (int k = 0; k < NCOLUMNS; k++) fprintf(f, "%s%c", COLUMNS[k], k == NCOLUMNS - 1 ? '\n' : ',');
    char uid[SP_UID_LEN] = "";
    sp_status st = SP_OK;
    if (ctx->refs && ctx->opts.deidentify) st = sp_report_deid_uid(ctx->opts.deid_salt, ctx->refs->series_uid, uid);
    else if (ctx->refs && sp_report_identified(ctx)) snprintf(uid, sizeof uid, "%s", ctx->refs->series_uid);
    if (st != SP_OK) {
        fclose(f);
        return sp_fail(err, st, "%s: cannot de-identify the series UID", path);
    }
    for (int k = 0; k < ctx->res->nvert; k++) row(f, ctx, &ctx->res->v[k], uid);
    if (fclose(f) != 0) return sp_fail(err, SP_EIO, "%s: cannot write (%s)", path, strerror(errno));
    return SP_OK;
}
