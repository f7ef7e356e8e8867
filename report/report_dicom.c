/* report_dicom.c - seg.dcm (DICOM Segmentation: one segment per vertebra,
 * plus lytic and blastic lesion segments) and sr.dcm (Comprehensive SR,
 * TID 1500 measurement report: one measurement group per vertebra with the
 * heights, collapse, Genant grade, lesion volumes and SINS components).
 * Content is built here in C; io/dicom_dcmtk.cpp only converts it for DCMTK.
 *
 * DESIGN: reproducible. New UIDs are "2.25." + a 128-bit hash of the source
 * series UID, the object kind and a hash of the content (label maps, lesion
 * mask and scores), so the same input gives the same files at any thread
 * count and a changed result gets new UIDs. Content/creation date and time
 * are the source study's (fixed 19000101/000000 when absent or
 * de-identified). With --deidentify every source UID is replaced by its
 * salted mapping before anything is written (sp_report_write_dicom, below)
 * and the PS3.15 de-identification attributes are added. Codes:
 * docs/report.md. */
#define SP_REPORT_INTERNAL
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/sp_omp.h"
#include "sp_version.h"

#define SEG_SOP_CLASS "1.2.840.10008.5.1.4.1.1.66.4"
#define PRIV "99SPINEMET"

/* ---- hashing and UIDs ----------------------------------------------------- */

typedef struct hash128 {
    uint64_t a, b;
} hash128;

static void h_bytes(hash128 *h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        h->a = (h->a ^ p[i]) * 0x100000001b3ULL;
        h->b = (h->b ^ p[i]) * 0x100000001b3ULL + (h->a >> 29);
    }
}

static void h_str(hash128 *h, const char *s) { h_bytes(h, s, strlen(s) + 1); }

static void make_uid(const hash128 *content, const char *src_uid, const char *kind, char out[SP_UID_LEN])
{
    hash128 h = *content;
    h_str(&h, src_uid);
    h_str(&h, kind);
    unsigned __int128 v = ((unsigned __int128)h.a << 64) | h.b;
    v &= ~((unsigned __int128)1 << 127); /* 38 digits at most: "2.25." + 38 < 64 */
    char digits[48];
    int n = 0;
    do {
        digits[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    int o = snprintf(out, SP_UID_LEN, "2.25.");
    while (n > 0 && o < SP_UID_LEN - 1) out[o++] = digits[--n];
    out[o] = '\0';
}

static hash128 content_hash(const sp_report_ctx *ctx)
{
    hash128 h = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL};
    h_bytes(&h, ctx->seg->vertebrae->data, sp_vol_nvox(ctx->seg->vertebrae));
    h_bytes(&h, ctx->lesion->data, sp_vol_nvox(ctx->lesion));
    for (int k = 0; k < ctx->res->nvert; k++) {
        const sp_score_vertebra *v = &ctx->res->v[k];
        char b[256];
        snprintf(b, sizeof b, "%s %.3f %.3f %.3f %.3f %d %d %d %d %d %d %d %d", v->name, v->h.anterior, v->h.middle,
                 v->h.posterior, v->h.collapse_pct, v->sins.location, v->sins.pain, v->sins.bone_lesion,
                 v->sins.alignment, v->sins.collapse, v->sins.posterolateral, v->sins.total_min, v->sins.total_max);
        h_str(&h, b);
    }
    h_str(&h, ctx->opts.deidentify ? "deid" : "id");
    return h;
}

/* ---- codes ------------------------------------------------------------------ */

static sp_dicom_code vertebra_code(const char *name)
{
    static const struct {
        const char *name, *code;
    } sct[] = {{"C1", "14806007"}, {"C2", "39976000"},  {"C3", "113205007"}, {"C4", "5329002"},  {"C5", "36978003"},
               {"C6", "36054005"}, {"C7", "87391001"},  {"T1", "64864005"},  {"T2", "53733008"}, {"T3", "1626008"},
               {"T4", "73071006"}, {"T5", "56401006"},  {"T6", "45296009"},  {"T7", "62487009"}, {"T8", "11068009"},
               {"T9", "82687006"}, {"T10", "7610001"},  {"T11", "12989004"}, {"T12", "23215003"}, {"L1", "66794005"},
               {"L2", "14293000"}, {"L3", "36470004"},  {"L4", "11994002"},  {"L5", "49668003"}, {"S", "54735007"}};
    static char meaning[SP_SEG_MAX_VERT][32];
    static char code[SP_SEG_MAX_VERT][16];
    for (size_t i = 0; i < sizeof sct / sizeof sct[0]; i++)
        if (!strcmp(sct[i].name, name)) {
            int k = (int)i;
            snprintf(meaning[k], sizeof meaning[k], "%s", !strcmp(name, "S") ? "Sacrum" : name);
            if (strcmp(name, "S")) snprintf(meaning[k], sizeof meaning[k], "%s vertebra", name);
            return (sp_dicom_code){sct[i].code, "SCT", meaning[k]};
        }
    /* T13, L6: no SNOMED concept; a private code */
    int k = !strcmp(name, "T13") ? 30 : 31;
    snprintf(code[k], sizeof code[k], "V-%s", name);
    snprintf(meaning[k], sizeof meaning[k], "%s vertebra", name);
    return (sp_dicom_code){code[k], PRIV, meaning[k]};
}

static const sp_dicom_code ANATOMY = {"123037004", "SCT", "Anatomical Structure"};
static const sp_dicom_code MORPH = {"49755003", "SCT", "Morphologically Altered Structure"};
static const sp_dicom_code NEOPLASM = {"108369006", "SCT", "Neoplasm"};

/* ---- shared metadata ---------------------------------------------------------- */

typedef struct derived {
    char series_uid[SP_UID_LEN], sop_uid[SP_UID_LEN], anon_id[32];
} derived;

static void fill_meta(const sp_report_ctx *ctx, sp_dicom_derived_meta *m, const derived *d, const char *desc,
                      int series_number)
{
    const sp_series_refs *r = ctx->refs;
    bool id = !ctx->opts.deidentify;
    memset(m, 0, sizeof *m);
    m->patient_name = id ? r->pat.patient_name : "";
    m->patient_id = id ? r->pat.patient_id : d->anon_id;
    m->patient_sex = id ? r->pat.patient_sex : "";
    m->patient_birth_date = id ? r->pat.patient_birth_date : "";
    m->study_uid = r->study_uid;
    m->study_date = id ? r->pat.study_date : "";
    m->study_time = id ? r->pat.study_time : "";
    m->study_id = id ? r->pat.study_id : "";
    m->accession_number = id ? r->pat.accession_number : "";
    m->study_description = id ? r->pat.study_description : "";
    m->referring_physician = id ? r->pat.referring_physician : "";
    m->series_uid = d->series_uid, m->sop_instance_uid = d->sop_uid;
    m->series_description = desc;
    m->content_date = id && r->pat.study_date[0] ? r->pat.study_date : "19000101";
    m->content_time = id && r->pat.study_time[0] ? r->pat.study_time : "000000";
    m->series_number = series_number, m->instance_number = 1;
    m->manufacturer = "spinemet", m->model = "spinemet", m->software_version = SP_VERSION;
    m->ref_series_uid = r->series_uid, m->ref_sop_class_uid = r->sop_class_uid;
    m->nref = r->n, m->ref_sop_instance_uid = (const char(*)[SP_UID_LEN])r->sop_instance_uid;
    if (!id) {
        static const sp_dicom_code basic = {"113100", "DCM", "Basic Application Confidentiality Profile"};
        m->deidentified = 1;
        m->deid_method = "PS3.15 Basic Profile: spinemet; UIDs hashed, dates removed";
        m->ndeid_codes = 1, m->deid_codes = &basic;
    }
}

/* ---- SEG ------------------------------------------------------------------------ */

static sp_status write_seg(const sp_report_ctx *ctx, const char *path, const derived *d, int *lesion_seg,
                           sp_err *err)
{
    const sp_volume *ct = ctx->ct;
    const sp_score_result *res = ctx->res;
    const int nx = ct->nx, ny = ct->ny, nz = ct->nz;
    const size_t plane = (size_t)nx * ny;
    sp_dicom_seg_segment segs[SP_SEG_MAX_VERT + 2];
    int seg_value[SP_SEG_MAX_VERT + 2];
    bool seg_lesion[SP_SEG_MAX_VERT + 2];
    char labels[SP_SEG_MAX_VERT][24];
    int ns = 0;
    for (int k = 0; k < res->nvert && k < SP_SEG_MAX_VERT; k++) {
        const sp_score_vertebra *v = &res->v[k];
        snprintf(labels[k], sizeof labels[k], "%s%s", v->name, v->uncertain ? " (uncertain)" : "");
        segs[ns] = (sp_dicom_seg_segment){labels[k], v->uncertain ? "vertebra; level name uncertain" : "vertebra",
                                          "spinemet", ANATOMY, vertebra_code(v->name), {0}};
        seg_value[ns] = v->label, seg_lesion[ns] = false;
        ns++;
    }
    /* lesion segments only when the mask has voxels of that kind */
    bool have[3] = {false, false, false};
    const uint8_t *les = ctx->lesion->data;
    for (size_t i = 0; i < sp_vol_nvox(ctx->lesion); i++) have[les[i] < 3 ? les[i] : 0] = true;
    lesion_seg[0] = lesion_seg[1] = 0;
    if (have[1]) {
        segs[ns] = (sp_dicom_seg_segment){"Lytic lesion", "bone lesion, lytic (below the lytic threshold)", "spinemet",
                                          MORPH, NEOPLASM, {0}};
        seg_value[ns] = 1, seg_lesion[ns] = true, lesion_seg[0] = ns + 1, ns++;
    }
    if (have[2]) {
        segs[ns] = (sp_dicom_seg_segment){"Blastic lesion", "bone lesion, blastic (above the blastic threshold)",
                                          "spinemet", MORPH, NEOPLASM, {0}};
        seg_value[ns] = 2, seg_lesion[ns] = true, lesion_seg[1] = ns + 1, ns++;
    }
    /* frames: every (segment, slice) with at least one voxel */
    size_t cap = 1024, nf = 0;
    sp_dicom_seg_frame *frames = malloc(cap * sizeof *frames);
    double (*ipp)[3] = malloc((size_t)nz * sizeof *ipp);
    if (!frames || !ipp) {
        free(frames), free(ipp);
        return SP_ENOMEM;
    }
    for (int z = 0; z < nz; z++) {
        double ijk[3] = {0, 0, z};
        sp_vol_ijk_to_lps(ct, ijk, ipp[z]);
    }
    /* the source image at each slice's position (none where the series was resampled) */
    const char **source = calloc((size_t)nz, sizeof *source);
    if (!source) {
        free(frames), free(ipp);
        return SP_ENOMEM;
    }
    const sp_series_refs *r = ctx->refs;
    for (int z = 0; z < nz && !r->multiframe; z++)
        for (int i = 0; i < r->n; i++) {
            double dx = r->ipp[i][0] - ipp[z][0], dy = r->ipp[i][1] - ipp[z][1], dz = r->ipp[i][2] - ipp[z][2];
            if (dx * dx + dy * dy + dz * dz < 0.01) {
                source[z] = r->sop_instance_uid[i];
                break;
            }
        }
    /* which label values each slice holds: one pass over each map */
    const uint8_t *lab = ctx->seg->vertebrae->data;
    uint8_t(*in_lab)[256] = calloc((size_t)nz, sizeof *in_lab);
    uint8_t(*in_les)[256] = calloc((size_t)nz, sizeof *in_les);
    if (!in_lab || !in_les) {
        free(frames), free(ipp), free(source), free(in_lab), free(in_les);
        return SP_ENOMEM;
    }
    /* each iteration writes row z of in_lab and in_les */
    SP_OMP(parallel for schedule(static) default(none) shared(in_lab, in_les, lab, les) firstprivate(nz, plane))
    for (int z = 0; z < nz; z++) {
        const uint8_t *a = lab + (size_t)z * plane, *b = les + (size_t)z * plane;
        for (size_t i = 0; i < plane; i++) in_lab[z][a[i]] = 1, in_les[z][b[i]] = 1;
    }
    for (int s = 0; s < ns; s++) {
        const uint8_t *map = seg_lesion[s] ? les : lab;
        for (int z = 0; z < nz; z++) {
            if (!(seg_lesion[s] ? in_les : in_lab)[z][seg_value[s]]) continue;
            const uint8_t *sl = map + (size_t)z * plane;
            if (nf == cap) {
                sp_dicom_seg_frame *nfr = realloc(frames, 2 * cap * sizeof *frames);
                if (!nfr) {
                    free(frames), free(ipp), free(source), free(in_lab), free(in_les);
                    return SP_ENOMEM;
                }
                frames = nfr, cap *= 2;
            }
            frames[nf++] = (sp_dicom_seg_frame){s + 1, z, sl, (uint8_t)seg_value[s], source[z]};
        }
    }
    free(in_lab), free(in_les);
    sp_dicom_seg S;
    memset(&S, 0, sizeof S);
    fill_meta(ctx, &S.m, d, "spinemet vertebrae and lesions", 9701);
    S.frame_of_ref_uid = ctx->refs->frame_of_ref_uid;
    S.content_label = "VERTEBRAE", S.content_creator = "spinemet^software";
    S.rows = ny, S.cols = nx;
    S.pixel_spacing[0] = ct->spacing[1], S.pixel_spacing[1] = ct->spacing[0];
    S.slice_thickness = ct->spacing[2];
    for (int a = 0; a < 3; a++) {
        S.iop[a] = ct->ijk_to_lps[a * 4 + 0] / ct->spacing[0];
        S.iop[3 + a] = ct->ijk_to_lps[a * 4 + 1] / ct->spacing[1];
    }
    S.ipp = (const double(*)[3])ipp;
    S.nsegments = ns, S.segments = segs, S.nframes = (int)nf, S.frames = frames;
    sp_status st = sp_dicom_write_seg(path, &S, err);
    free(frames), free(ipp), free(source);
    return st;
}

/* ---- SR --------------------------------------------------------------------------- */

typedef struct sr_build {
    sp_dicom_sr_item *it;
    int n, cap;
    char (*uids)[SP_UID_LEN];
    int nuids;
} sr_build;

static sp_dicom_sr_item *add(sr_build *b, int depth, sp_dicom_sr_rel rel, sp_dicom_sr_type type, sp_dicom_code concept)
{
    if (b->n == b->cap) return NULL; /* sized generously up front */
    sp_dicom_sr_item *i = &b->it[b->n++];
    memset(i, 0, sizeof *i);
    i->depth = depth, i->rel = rel, i->type = type, i->concept = concept;
    return i;
}

static void add_num(sr_build *b, int depth, const char *code, const char *meaning, double v, sp_dicom_code unit)
{
    if (!isfinite(v)) return;
    sp_dicom_sr_item *i = add(b, depth, SP_SR_CONTAINS, SP_SR_NUM, (sp_dicom_code){code, PRIV, meaning});
    if (i) i->num = round(v * 100.0) / 100.0, i->code = unit; /* 0.01 is below any measurement's precision */
}

static const sp_dicom_code MM = {"mm", "UCUM", "millimeter"}, PCT = {"%", "UCUM", "percent"},
                           ML = {"ml", "UCUM", "milliliter"}, PTS = {"{points}", "UCUM", "points"},
                           GRADE = {"{grade}", "UCUM", "grade"};

static void group(sr_build *b, const sp_report_ctx *ctx, int k, const derived *seg_d, const hash128 *h,
                  int lesion_seg)
{
    const sp_score_vertebra *v = &ctx->res->v[k];
    const sp_score_sins *s = &v->sins;
    sp_dicom_sr_item *g = add(b, 2, SP_SR_CONTAINS, SP_SR_CONTAINER, (sp_dicom_code){"125007", "DCM", "Measurement Group"});
    if (g) g->template_id = "1411";
    sp_dicom_sr_item *i = add(b, 3, SP_SR_HAS_OBS_CONTEXT, SP_SR_TEXT, (sp_dicom_code){"112039", "DCM", "Tracking Identifier"});
    if (i) i->text = v->name;
    char kind[32];
    snprintf(kind, sizeof kind, "tracking-%s", v->name);
    make_uid(h, ctx->refs->series_uid, kind, b->uids[b->nuids]);
    i = add(b, 3, SP_SR_HAS_OBS_CONTEXT, SP_SR_UIDREF, (sp_dicom_code){"112040", "DCM", "Tracking Unique Identifier"});
    if (i) i->text = b->uids[b->nuids];
    b->nuids++;
    i = add(b, 3, SP_SR_CONTAINS, SP_SR_CODE, (sp_dicom_code){"121071", "DCM", "Finding"});
    if (i) i->code = vertebra_code(v->name);
    i = add(b, 3, SP_SR_CONTAINS, SP_SR_IMAGE, (sp_dicom_code){"121191", "DCM", "Referenced Segment"});
    if (i) i->ref_sop_class = SEG_SOP_CLASS, i->ref_sop_instance = seg_d->sop_uid, i->ref_segment = k + 1;
    i = add(b, 3, SP_SR_CONTAINS, SP_SR_UIDREF, (sp_dicom_code){"121232", "DCM", "Source series for segmentation"});
    if (i) i->text = ctx->refs->series_uid;
    (void)lesion_seg;
    if (v->h.ok) {
        add_num(b, 3, "SM001", "Anterior vertebral body height", v->h.anterior, MM);
        add_num(b, 3, "SM002", "Middle vertebral body height", v->h.middle, MM);
        add_num(b, 3, "SM003", "Posterior vertebral body height", v->h.posterior, MM);
        add_num(b, 3, "SM004", "Expected vertebral body height", v->h.expected, MM);
        add_num(b, 3, "SM005", "Vertebral body collapse", v->h.collapse_pct, PCT);
        if (v->h.genant >= 0) add_num(b, 3, "SM006", "Genant grade", v->h.genant, GRADE);
    }
    if (v->les.assessed) {
        add_num(b, 3, "SM007", "Body involvement by lesion", sp_report_has_lesion(v) ? v->les.body_involvement_pct : 0, PCT);
        add_num(b, 3, "SM008", "Lytic lesion volume", v->les.lytic_ml, ML);
        add_num(b, 3, "SM009", "Blastic lesion volume", v->les.blastic_ml, ML);
    }
    if (s->applicable) {
        static const char *const names[6] = {"SINS location", "SINS pain", "SINS bone lesion", "SINS alignment",
                                             "SINS vertebral body collapse", "SINS posterolateral involvement"};
        static const char *const codes[6] = {"SM010", "SM011", "SM012", "SM013", "SM014", "SM015"};
        const int vals[6] = {s->location, s->pain, s->bone_lesion, s->alignment, s->collapse, s->posterolateral};
        for (int c = 0; c < 6; c++)
            if (vals[c] >= 0) add_num(b, 3, codes[c], names[c], vals[c], PTS);
        add_num(b, 3, "SM016", "SINS imaging subtotal", s->imaging_subtotal, PTS);
        add_num(b, 3, "SM017", "SINS total, lowest", s->total_min, PTS);
        add_num(b, 3, "SM018", "SINS total, highest", s->total_max, PTS);
    }
}

static sp_status write_sr(const sp_report_ctx *ctx, const char *path, const derived *d, const derived *seg_d,
                          const hash128 *h, const int *lesion_seg, sp_err *err)
{
    sr_build b = {0};
    b.cap = 16 + ctx->res->nvert * 32;
    b.it = calloc((size_t)b.cap, sizeof *b.it);
    b.uids = calloc((size_t)ctx->res->nvert + 2, sizeof *b.uids);
    if (!b.it || !b.uids) {
        free(b.it), free(b.uids);
        return SP_ENOMEM;
    }
    sp_dicom_sr_item *i = add(&b, 0, SP_SR_CONTAINS, SP_SR_CONTAINER, (sp_dicom_code){"126000", "DCM", "Imaging Measurement Report"});
    i->template_id = "1500";
    i = add(&b, 1, SP_SR_HAS_CONCEPT_MOD, SP_SR_CODE, (sp_dicom_code){"121049", "DCM", "Language of Content Item and Descendants"});
    i->code = (sp_dicom_code){"en-US", "RFC5646", "English (United States)"};
    i = add(&b, 1, SP_SR_HAS_OBS_CONTEXT, SP_SR_CODE, (sp_dicom_code){"121005", "DCM", "Observer Type"});
    i->code = (sp_dicom_code){"121007", "DCM", "Device"};
    make_uid(h, ctx->refs->series_uid, "device-observer", b.uids[b.nuids]);
    i = add(&b, 1, SP_SR_HAS_OBS_CONTEXT, SP_SR_UIDREF, (sp_dicom_code){"121012", "DCM", "Device Observer UID"});
    i->text = b.uids[b.nuids++];
    i = add(&b, 1, SP_SR_HAS_OBS_CONTEXT, SP_SR_TEXT, (sp_dicom_code){"121013", "DCM", "Device Observer Name"});
    i->text = "spinemet";
    i = add(&b, 1, SP_SR_HAS_CONCEPT_MOD, SP_SR_CODE, (sp_dicom_code){"121058", "DCM", "Procedure reported"});
    i->code = (sp_dicom_code){"77477000", "SCT", "Computed Tomography"};
    add(&b, 1, SP_SR_CONTAINS, SP_SR_CONTAINER, (sp_dicom_code){"111028", "DCM", "Image Library"});
    add(&b, 1, SP_SR_CONTAINS, SP_SR_CONTAINER, (sp_dicom_code){"126010", "DCM", "Imaging Measurements"});
    for (int k = 0; k < ctx->res->nvert; k++) group(&b, ctx, k, seg_d, h, lesion_seg[0]);
    sp_dicom_sr S;
    memset(&S, 0, sizeof S);
    fill_meta(ctx, &S.m, d, "spinemet measurement report", 9702);
    S.nitems = b.n, S.items = b.it;
    S.private_scheme = PRIV, S.private_scheme_name = "spinemet measurement codes";
    S.evidence_series_uid = seg_d->series_uid, S.evidence_sop_class = SEG_SOP_CLASS;
    S.evidence_sop_instance = seg_d->sop_uid;
    sp_status st = sp_dicom_write_sr(path, &S, err);
    free(b.it), free(b.uids);
    return st;
}

static sp_status write_dicom(const sp_report_ctx *ctx, const char *dir, sp_err *err)
{
    hash128 h = content_hash(ctx);
    derived seg_d, sr_d;
    const char *src = ctx->refs->series_uid;
    make_uid(&h, src, "seg-series", seg_d.series_uid), make_uid(&h, src, "seg-instance", seg_d.sop_uid);
    make_uid(&h, src, "sr-series", sr_d.series_uid), make_uid(&h, src, "sr-instance", sr_d.sop_uid);
    hash128 a = {0x9e3779b97f4a7c15ULL, 0};
    h_str(&a, ctx->refs->study_uid);
    snprintf(seg_d.anon_id, sizeof seg_d.anon_id, "SPINEMET-%08llx", (unsigned long long)(a.a & 0xffffffffULL));
    memcpy(sr_d.anon_id, seg_d.anon_id, sizeof sr_d.anon_id);
    char path[4096];
    int lesion_seg[2];
    snprintf(path, sizeof path, "%s/seg.dcm", dir);
    sp_status st = write_seg(ctx, path, &seg_d, lesion_seg, err);
    if (st != SP_OK) return st;
    snprintf(path, sizeof path, "%s/sr.dcm", dir);
    return write_sr(ctx, path, &sr_d, &seg_d, &h, lesion_seg, err);
}

bool sp_report_dicom_refs_usable(const sp_series_refs *r, char *why, size_t n)
{
    const char *missing = !r                          ? "no DICOM source series"
                          : !r->study_uid[0]          ? "the source series has no Study Instance UID"
                          : !r->series_uid[0]         ? "the source series has no Series Instance UID"
                          : !r->frame_of_ref_uid[0]   ? "the source series has no Frame of Reference UID"
                          : r->n < 1                  ? "the source series has no instances to reference"
                                                      : NULL;
    for (int i = 0; r && !missing && i < r->n; i++)
        if (!r->sop_instance_uid[i][0]) missing = "a source instance has no SOP Instance UID";
    if (why && n) snprintf(why, n, "%s", missing ? missing : "");
    return !missing;
}

/* With --deidentify the writers see a copy of the references whose study,
 * series, frame-of-reference and instance UIDs are replaced by their salted
 * mapping (sp_report_deid_uid) and whose patient/study attributes are empty,
 * so no original UID or identifier can reach seg.dcm or sr.dcm; the new
 * objects' own UIDs then derive from the mapped series UID. */
sp_status sp_report_write_dicom(const sp_report_ctx *ctx, const char *dir, sp_err *err)
{
    if (!ctx->refs) return sp_fail(err, SP_EINVAL, "%s: no DICOM source series (NIfTI input): SEG/SR not written", dir);
    if (ctx->res->nvert < 1) return SP_OK;
    if (!ctx->opts.deidentify) return write_dicom(ctx, dir, err);
    const sp_series_refs *r = ctx->refs;
    const char *salt = ctx->opts.deid_salt;
    sp_series_refs m = *r;
    memset(&m.pat, 0, sizeof m.pat);
    m.series_description[0] = m.manufacturer[0] = '\0';
    m.sop_instance_uid = calloc(r->n > 0 ? (size_t)r->n : 1, sizeof *m.sop_instance_uid);
    if (!m.sop_instance_uid) return SP_ENOMEM;
    sp_status st = sp_report_deid_uid(salt, r->study_uid, m.study_uid);
    if (st == SP_OK) st = sp_report_deid_uid(salt, r->series_uid, m.series_uid);
    if (st == SP_OK) st = sp_report_deid_uid(salt, r->frame_of_ref_uid, m.frame_of_ref_uid);
    for (int i = 0; i < r->n && st == SP_OK; i++) st = sp_report_deid_uid(salt, r->sop_instance_uid[i], m.sop_instance_uid[i]);
    if (st == SP_OK) {
        sp_report_ctx c = *ctx;
        c.refs = &m;
        st = write_dicom(&c, dir, err);
    }
    free(m.sop_instance_uid);
    return st;
}
