/* cmd_analyze.c - `spinemet analyze PATH -o DIR`: the main job. Stages:
 * scan -> load -> segment -> measure + score -> report. Writes into DIR the
 * label maps, report.json, report.html, report.csv, keyimages/NAME.png and, for
 * DICOM input, seg.dcm and sr.dcm (docs/report.md). The input is only read.
 *
 * DESIGN: one progress line per stage on a terminal (stderr is a TTY, at the
 * default log level); stage timings go into report.json's "timings" (scan is
 * counted in "load"). report.json is written last so that it holds the
 * report stage's own time, and gains a "configuration" object (what this run
 * was asked to do and wrote). Patient data is never logged; with
 * --deidentify the input path (and any file under it) is also written as
 * "(input)" in messages, since folder and file names can hold a name. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "commands.h"
#include "core/sp_fs.h"
#include "core/sp_log.h"
#include "core/sp_omp.h"
#include "exit_codes.h"
#include "io/dicom.h"
#include "io/sp_io.h"
#include "report/sp_report.h"
#include "score/sp_score.h"
#include "segment/sp_segment.h"

static void analyze_usage(FILE *f)
{
    fprintf(f,
            "usage: spinemet analyze PATH -o DIR [--series SEL] [--threads N]\n"
            "                        [--labels FILE --label-scheme totalseg|verse]\n"
            "                        [--pain LEVEL=mechanical|occasional|none]... [--clinical FILE]\n"
            "                        [--deidentify [--deid-salt S]] [--no-dicom-out]\n"
            "\n"
            "Loads a CT series from PATH, segments the vertebrae (or imports --labels),\n"
            "measures each vertebra (body heights, collapse, Genant grade, lesion\n"
            "character and extent, alignment) and pre-fills SINS and WBB with the\n"
            "evidence for every value. Writes into DIR:\n"
            "  report.json       schema in docs/scoring.md\n"
            "  report.html       one self-contained page with the key images (docs/report.md)\n"
            "  report.csv        one row per vertebra\n"
            "  keyimages/*.png   sagittal, coronal, one axial per level with a lesion\n"
            "  seg.dcm, sr.dcm   DICOM Segmentation and TID 1500 report (DICOM input with\n"
            "                    its UIDs; otherwise skipped, report.json says why)\n"
            "  vertebrae.nii.gz, parts.nii.gz, vertebrae.json  (as `spinemet segment`)\n"
            "Pain is a clinician's input: without it the SINS total is a range.\n"
            "\noptions:\n"
            "  -o, --output DIR      output folder (created if missing; required)\n"
            "  --series SEL          series UID or index from `spinemet scan`\n"
            "  --labels FILE         use this label map instead of segmenting\n"
            "  --label-scheme S      numbering of --labels: totalseg or verse\n"
            "  --pain LEVEL=P        pain at a level (repeatable): mechanical, occasional, none\n"
            "  --clinical FILE       JSON sidecar {\"pain\": {\"T12\": \"mechanical\"}}\n"
            "  --deidentify          no patient identifiers in any output (DICOM PS3.15 Basic\n"
            "                        Profile): no names, IDs, sex, dates, accession, descriptions\n"
            "                        or input path; every source UID replaced by 2.25.<HMAC-SHA-256\n"
            "                        of salt and UID>, the same in every run (docs/report.md)\n"
            "  --deid-salt S         the salt of that UID mapping (default: $SPINEMET_DEID_SALT,\n"
            "                        else a built-in salt, with which anyone holding an original\n"
            "                        UID can recompute its replacement: use a secret salt to share)\n"
            "  --no-dicom-out        do not write seg.dcm and sr.dcm\n"
            "  --threads N           OpenMP threads (default: all cores)\n"
            "\nexit codes: 0 ok, 1 usage, 2 i/o, 3 no usable series, 4 no spine found\n");
}

/* --deidentify: messages go through this sink, which writes the input path
 * (and the --labels path) and the rest of any path under it as "(input)"
 * (folder and file names of a PACS export can hold a patient's name). Same
 * format as the default sink. */
typedef struct redact {
    char path[2][4096];
    size_t n[2];
} redact;

static void redact_add(redact *r, int i, const char *path)
{
    snprintf(r->path[i], sizeof r->path[i], "%s", path ? path : "");
    r->n[i] = strlen(r->path[i]);
    while (r->n[i] > 1 && r->path[i][r->n[i] - 1] == '/') r->path[i][--r->n[i]] = '\0';
}

static bool path_end(char ch) { return !ch || strchr(" \t\n:,;()'\"", ch) != NULL; }

static void redacting_sink(void *user, sp_log_level lvl, const char *msg)
{
    const redact *r = user;
    static const char *const words[] = {"error", "warning", "info", "debug"};
    char out[2048];
    size_t o = 0;
    bool start = true; /* at the start of a word: a path can begin here */
    for (const char *p = msg; *p && o < sizeof out - 8;) {
        int hit = -1;
        for (int i = 0; i < 2 && start && hit < 0; i++)
            if (r->n[i] && !strncmp(p, r->path[i], r->n[i]) && (path_end(p[r->n[i]]) || p[r->n[i]] == '/')) hit = i;
        if (hit >= 0) {
            memcpy(out + o, "(input)", 7), o += 7;
            for (p += r->n[hit]; !path_end(*p); p++) {}
            start = false;
            continue;
        }
        start = path_end(*p) || *p == '=';
        out[o++] = *p++;
    }
    out[o] = '\0';
    fprintf(stderr, "spinemet: %s: %s\n", (unsigned)lvl < 4 ? words[lvl] : "log", out);
}

typedef struct progress {
    bool on;
    int n;
} progress;

static void stage_done(progress *p, const char *name, double seconds)
{
    p->n++;
    if (p->on) sp_log(SP_LOG_INFO, "[%d/5] %-8s %6.2f s", p->n, name, seconds);
}

/* Loads PATH like sp_io_load, keeping the scan for the DICOM references. */
static sp_status load_input(const char *path, const char *sel, sp_volume **ct, sp_load_info *info,
                            sp_series_refs **refs, sp_err *err)
{
    if (sp_io_is_nifti_path(path)) return sp_io_load(path, sel, ct, info, err);
    sp_scan *s = NULL;
    sp_status st = sp_io_scan(path, NULL, &s, err);
    if (st != SP_OK) return st;
    int idx = sp_scan_find_series(s, sel);
    if (idx < 0)
        st = sel ? sp_fail(err, SP_EINVAL, "%s: no series matches '%s'", path, sel)
                 : sp_fail(err, SP_EDICOM, "%s: %s", path, s->chosen_reason);
    else st = sp_io_load_series(s, idx, ct, info, err);
    if (st == SP_OK && !s->series[idx].nifti) st = sp_io_series_refs(s, idx, refs, err);
    sp_scan_free(s);
    return st;
}

static void log_summary(const sp_score_result *res, const char *outdir)
{
    sp_log(SP_LOG_INFO, "%d vertebrae, %d with lesion%s%s -> %s/report.html", res->nvert, res->n_lesion_levels,
           res->worst >= 0 ? "; most unstable " : "", res->worst >= 0 ? res->v[res->worst].name : "", outdir);
    for (int k = 0; k < res->nvert; k++) {
        const sp_score_vertebra *v = &res->v[k];
        if (!v->sins.applicable) continue;
        sp_log(SP_LOG_INFO, "  %-4s SINS imaging %d, total %d-%d (%s%s%s)", v->name, v->sins.imaging_subtotal,
               v->sins.total_min, v->sins.total_max, sp_sins_category_name(v->sins.cat_min),
               v->sins.cat_min != v->sins.cat_max ? " to " : "",
               v->sins.cat_min != v->sins.cat_max ? sp_sins_category_name(v->sins.cat_max) : "");
    }
}

/* report.json: score's report plus a "configuration" object (how this run
 * was set up; deterministic) and the thread count inside "timings" (which is
 * run-dependent anyway), re-printed with the same cJSON printer. */
static sp_status write_report_json(const sp_score_result *res, const sp_seg_result *seg, const sp_report_input *in,
                                   const sp_report_opts *ro, const char *salt_origin, bool dicom_written,
                                   const char *dicom_not_written, int threads, const char *path, sp_err *err)
{
    char *txt = sp_score_report_json(res, seg, in);
    cJSON *root = txt ? cJSON_Parse(txt) : NULL;
    free(txt);
    if (!root) return sp_fail(err, SP_ENOMEM, "out of memory writing %s", path);
    cJSON *timings = cJSON_DetachItemFromObject(root, "timings");
    cJSON *c = cJSON_AddObjectToObject(root, "configuration");
    cJSON_AddStringToObject(c, "segmentation", in->labels ? "imported label map" : "spinemet");
    if (in->labels) cJSON_AddStringToObject(c, "label_scheme", in->label_scheme ? in->label_scheme : "");
    cJSON_AddBoolToObject(c, "pain_given", false);
    for (int k = 0; k < res->nvert; k++)
        if (res->v[k].sins.applicable && res->v[k].sins.pain >= 0) cJSON_ReplaceItemInObject(c, "pain_given", cJSON_CreateTrue());
    cJSON_AddBoolToObject(c, "deidentify", ro->deidentify);
    if (ro->deidentify) { /* the salt's origin only, never the salt */
        cJSON_AddBoolToObject(root, "deidentified", true);
        cJSON *d = cJSON_AddObjectToObject(c, "deidentification");
        cJSON_AddStringToObject(d, "profile", "DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile");
        cJSON_AddStringToObject(d, "removed", "patient name, ID, sex, birth date, study/series dates and times, "
                                              "accession number, study ID, physicians, descriptions, input path");
        cJSON_AddStringToObject(d, "uids", "2.25. + first 128 bits of HMAC-SHA-256(salt, original UID) as a version-8 UUID");
        cJSON_AddStringToObject(d, "salt", salt_origin);
    }
    cJSON_AddBoolToObject(c, "dicom_outputs", dicom_written);
    if (!dicom_written && dicom_not_written && dicom_not_written[0])
        cJSON_AddStringToObject(c, "dicom_outputs_reason", dicom_not_written);
    cJSON *outs = cJSON_AddArrayToObject(c, "outputs");
    static const char *const always[] = {"report.json", "report.html", "report.csv", "keyimages/", "vertebrae.nii.gz",
                                         "parts.nii.gz", "vertebrae.json"};
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++) cJSON_AddItemToArray(outs, cJSON_CreateString(always[i]));
    if (dicom_written) {
        cJSON_AddItemToArray(outs, cJSON_CreateString("seg.dcm"));
        cJSON_AddItemToArray(outs, cJSON_CreateString("sr.dcm"));
    }
    if (timings) {
        cJSON_AddNumberToObject(timings, "threads", threads);
        cJSON_AddItemToObject(root, "timings", timings);
    }
    txt = cJSON_Print(root);
    cJSON_Delete(root);
    if (!txt) return sp_fail(err, SP_ENOMEM, "out of memory writing %s", path);
    sp_status st = sp_io_write_text(path, txt, err);
    free(txt);
    return st;
}

/* seg.dcm and sr.dcm: when they cannot be written (no DICOM source, a
 * source without UIDs, a DICOM encoder failure) the other outputs still
 * stand, and report.json says why they are missing (why, n). Returns the
 * writer's status; SP_OK when written or skipped for a stated reason. */
static sp_status write_dicom_outputs(const sp_report_ctx *ctx, const char *outdir, bool *written, char *why, size_t n,
                                     sp_err *err)
{
    *written = false;
    if (!ctx->opts.dicom) return snprintf(why, n, "not asked for (--no-dicom-out)"), SP_OK;
    if (!ctx->refs) {
        snprintf(why, n, "NIfTI input: no DICOM series to reference");
        sp_log(SP_LOG_INFO, "NIfTI input: seg.dcm and sr.dcm skipped (no DICOM series to reference)");
        return SP_OK;
    }
    if (!sp_report_dicom_refs_usable(ctx->refs, why, n)) {
        sp_log(SP_LOG_WARN, "seg.dcm and sr.dcm not written: %s (they could reference nothing); the other outputs are complete", why);
        return SP_OK;
    }
    sp_status st = sp_report_write_dicom(ctx, outdir, err);
    if (st == SP_OK) *written = true;
    else snprintf(why, n, "writing failed: %s", err->msg[0] ? err->msg : sp_status_str(st));
    return st;
}

/* Every output but report.json, from one report context. The key images,
 * HTML and CSV must succeed (their status is returned); seg.dcm/sr.dcm go
 * through write_dicom_outputs (status in *dst / derr). */
static sp_status write_reports(const sp_volume *ct, const sp_seg_result *seg, const sp_score_result *res,
                               const sp_report_input *in, const sp_series_refs *refs, const sp_report_opts *ro,
                               const char *outdir, bool *dicom_written, char *why, size_t n, sp_status *dst,
                               sp_err *derr, sp_err *err)
{
    sp_report_ctx ctx;
    sp_keyimages *ki = calloc(1, sizeof *ki);
    if (!ki) return SP_ENOMEM;
    sp_status st = sp_report_ctx_init(&ctx, ct, seg, res, in, refs, ro);
    if (st == SP_OK) st = sp_report_keyimages(&ctx, outdir, ki, err);
    if (st == SP_OK) st = sp_report_write_html(&ctx, ki, outdir, err);
    if (st == SP_OK) st = sp_report_write_csv(&ctx, outdir, err);
    if (st == SP_OK) *dst = write_dicom_outputs(&ctx, outdir, dicom_written, why, n, derr);
    sp_report_ctx_clear(&ctx);
    free(ki);
    return st;
}

int sp_cmd_analyze(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"series", required_argument, NULL, 's'},
                                         {"labels", required_argument, NULL, 'l'},
                                         {"label-scheme", required_argument, NULL, 'm'},
                                         {"pain", required_argument, NULL, 'p'},
                                         {"clinical", required_argument, NULL, 'c'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"deidentify", no_argument, NULL, 'd'},
                                         {"deid-salt", required_argument, NULL, 'S'},
                                         {"no-dicom-out", no_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    const char *outdir = NULL, *sel = NULL, *labels = NULL, *scheme = NULL, *clinical = NULL, *salt = NULL;
    sp_seg_opts so = {0};
    sp_report_opts ro = {.deidentify = false, .dicom = true};
    sp_score_opts *sco = malloc(sizeof *sco);
    sp_volume *ct = NULL;
    sp_seg_result *seg = NULL;
    sp_score_result *res = NULL;
    sp_series_refs *refs = NULL;
    sp_load_info info;
    sp_err err = {0};
    sp_status st = SP_OK;
    int c;
    if (!sco) return SP_EXIT_NOMEM;
    sp_score_opts_init(sco);
    memset(&info, 0, sizeof info);
    optind = 0;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        if (c == 'o') outdir = optarg;
        else if (c == 's') sel = optarg;
        else if (c == 'l') labels = optarg;
        else if (c == 'm') scheme = optarg;
        else if (c == 'c') clinical = optarg;
        else if (c == 't') so.threads = atoi(optarg);
        else if (c == 'd') ro.deidentify = true;
        else if (c == 'S') salt = optarg;
        else if (c == 'n') ro.dicom = false;
        else if (c == 'p') {
            if (sp_score_opts_set_pain(sco, optarg, &err) != SP_OK) {
                sp_log(SP_LOG_ERROR, "%s", err.msg);
                free(sco);
                return SP_EXIT_USAGE;
            }
        } else if (c == 'h') {
            analyze_usage(stdout);
            free(sco);
            return SP_EXIT_OK;
        } else {
            analyze_usage(stderr);
            free(sco);
            return SP_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !outdir || (labels && !scheme)) {
        analyze_usage(stderr);
        free(sco);
        return SP_EXIT_USAGE;
    }
    if (salt && (!ro.deidentify || !salt[0])) {
        sp_log(SP_LOG_ERROR, "--deid-salt needs --deidentify and a non-empty salt");
        free(sco);
        return SP_EXIT_USAGE;
    }
    const char *salt_origin = "built-in";
    static redact rd;
    if (ro.deidentify) {
        const char *env = getenv("SPINEMET_DEID_SALT");
        if (!salt && env && env[0]) salt = env;
        if (salt) salt_origin = "user-supplied";
        else sp_log(SP_LOG_WARN, "--deidentify with the built-in salt: anyone holding an original UID can recompute "
                                 "its replacement; set SPINEMET_DEID_SALT (or --deid-salt) to a secret to share outputs");
        ro.deid_salt = salt;
        redact_add(&rd, 0, argv[optind]);
        redact_add(&rd, 1, labels);
        sp_log_set_sink(redacting_sink, &rd);
    }
    if (clinical && (st = sp_score_opts_read_clinical(sco, clinical, &err)) != SP_OK) {
        sp_log(SP_LOG_ERROR, "%s", err.msg);
        free(sco);
        return st == SP_EIO ? SP_EXIT_IO : SP_EXIT_USAGE;
    }
    if (so.threads > 0) sp_omp_set_threads(so.threads);
    progress pg = {isatty(STDERR_FILENO) != 0, 0};
    sp_report_input in = {0};
    double t0 = sp_now();
    st = load_input(argv[optind], sel, &ct, &info, &refs, &err);
    if (st == SP_OK) st = sp_io_require_hu(&ct, argv[optind], &err);
    in.seconds_load = sp_now() - t0;
    if (st == SP_OK) stage_done(&pg, "load", in.seconds_load);
    t0 = sp_now();
    if (st == SP_OK) {
        if (labels) st = sp_seg_from_labels(ct, labels, scheme, &seg, &err);
        else st = sp_seg_run(ct, &so, &seg, &err);
        if (st != SP_OK && !labels) { /* segment's message knows the volume, not where it came from */
            char m[sizeof err.msg];
            snprintf(m, sizeof m, "%s", err.msg);
            snprintf(err.msg, sizeof err.msg, "%s (%dx%dx%d voxels): %.*s", argv[optind], ct->nx, ct->ny, ct->nz, 400, m);
        }
    }
    if (st == SP_OK) st = sp_mkdir_p(outdir, &err); /* parents too, as a user expects of -o */
    if (st == SP_OK) st = sp_seg_write(seg, outdir, &err);
    in.seconds_segment = sp_now() - t0;
    if (st == SP_OK) stage_done(&pg, "segment", in.seconds_segment);
    if (st == SP_OK) st = sp_score_run(ct, seg, sco, &res, &err);
    if (st == SP_OK) {
        in.seconds_measure = res->seconds_measure, in.seconds_score = res->seconds_score;
        stage_done(&pg, "measure", res->seconds_measure);
        stage_done(&pg, "score", res->seconds_score);
        t0 = sp_now();
        in.path = ro.deidentify ? "(de-identified)" : argv[optind];
        in.series = ro.deidentify ? NULL : sel;
        in.source = info.source, in.modality = info.modality;
        in.description = ro.deidentify ? "" : info.description; /* PS3.15: descriptions removed */
        in.labels = labels && ro.deidentify ? "(de-identified)" : labels, in.label_scheme = scheme;
        in.nx = ct->nx, in.ny = ct->ny, in.nz = ct->nz;
        memcpy(in.spacing, ct->spacing, sizeof in.spacing);
        in.seg_flags = seg->flags;
        bool dicom_written = false;
        char dicom_why[600] = "";
        sp_err derr = {0};
        sp_status dst = SP_OK;
        st = write_reports(ct, seg, res, &in, refs, &ro, outdir, &dicom_written, dicom_why, sizeof dicom_why, &dst, &derr,
                           &err);
        if (st == SP_OK) {
            char path[4096];
            snprintf(path, sizeof path, "%s/report.json", outdir);
            in.seconds_report = sp_now() - t0;
            st = write_report_json(res, seg, &in, &ro, salt_origin, dicom_written, dicom_why, sp_omp_max_threads(), path,
                                   &err);
        }
        if (st == SP_OK) {
            stage_done(&pg, "report", sp_now() - t0);
            log_summary(res, outdir);
        }
        if (st == SP_OK && dst != SP_OK) /* an output could not be written: exit 2, the rest stands */
            st = sp_fail(&err, SP_EIO, "%s; every other output was written", derr.msg[0] ? derr.msg : sp_status_str(dst));
    }
    if (st != SP_OK) sp_log(SP_LOG_ERROR, "%s", err.msg[0] ? err.msg : sp_status_str(st));
    if (ro.deidentify) sp_log_set_sink(NULL, NULL);
    sp_series_refs_free(refs);
    sp_score_result_free(res);
    sp_seg_result_free(seg);
    sp_vol_free(ct);
    free(sco);
    return st == SP_EUNSUPPORTED ? SP_EXIT_UNSUPPORTED : sp_exit_code(st);
}
