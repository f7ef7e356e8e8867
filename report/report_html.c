/* report_html.c - report.html: one self-contained page (inline CSS, key
 * images embedded as base64 PNG) that opens from a USB stick or a PACS
 * attachment: header (patient/study, or "de-identified"), the not-a-medical-
 * device statement, flags, the summary table with the SINS components, WBB
 * zones in words, the key images and the conventions used. No scripts, no
 * external resources, no dates or timings (the same input gives the same
 * file). */
#define SP_REPORT_INTERNAL
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sp_version.h"

static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '^': fputc(' ', f); break; /* DICOM person-name separator */
        default: fputc(*s, f);
        }
    }
}

static void cell(FILE *f, const char *s) { fputs("<td>", f), esc(f, s), fputs("</td>", f); }

static void cell_int(FILE *f, int v, bool known)
{
    char b[32];
    snprintf(b, sizeof b, "%d", v);
    cell(f, known ? b : "not assessed");
}

static const char *CSS =
    "body{font-family:Helvetica,Arial,sans-serif;margin:1.5em;color:#111;background:#fff}"
    "h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.15em;margin:1.2em 0 .4em;border-bottom:1px solid #999}"
    ".notice{border:2px solid #b00;background:#fff4f4;padding:.6em;font-weight:bold;margin:.6em 0}"
    "table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #aaa;padding:.25em .45em;text-align:left;"
    "vertical-align:top}th{background:#eee}.unstable{background:#fdd}.indeterminate{background:#ffe9c0}"
    ".flag{color:#a40;font-weight:bold}figure{display:inline-block;margin:.5em;vertical-align:top;max-width:620px}"
    "figure img{max-width:600px;border:1px solid #333;display:block}figcaption{font-size:.85em;margin-top:.3em}"
    ".kv td:first-child{font-weight:bold;background:#f5f5f5}";

static void header(FILE *f, const sp_report_ctx *ctx)
{
    const sp_series_refs *r = ctx->refs;
    const sp_report_input *in = ctx->in;
    fputs("<h2>Patient and study</h2><table class=\"kv\" id=\"header\">", f);
    if (!r) {
        fputs("<tr><td>Patient</td><td>not available (NIfTI input carries no patient data)</td></tr>", f);
    } else if (ctx->opts.deidentify) {
        fputs("<tr><td>Patient</td><td>de-identified (DICOM PS3.15 Basic Application Level Confidentiality "
              "Profile: no names, IDs, sex, dates, accession or descriptions; UIDs replaced)</td></tr>", f);
    } else {
        fputs("<tr><td>Patient name</td><td>", f), esc(f, r->pat.patient_name), fputs("</td></tr>", f);
        fputs("<tr><td>Patient ID</td><td>", f), esc(f, r->pat.patient_id), fputs("</td></tr>", f);
        fputs("<tr><td>Sex / birth date</td><td>", f), esc(f, r->pat.patient_sex), fputs(" / ", f);
        esc(f, r->pat.patient_birth_date), fputs("</td></tr>", f);
        fputs("<tr><td>Study date / time</td><td>", f), esc(f, r->pat.study_date), fputs(" ", f);
        esc(f, r->pat.study_time), fputs("</td></tr>", f);
        fputs("<tr><td>Accession / study</td><td>", f), esc(f, r->pat.accession_number), fputs(" / ", f);
        esc(f, r->pat.study_description), fputs("</td></tr>", f);
    }
    fputs("<tr><td>Series</td><td>", f);
    if (r && ctx->opts.deidentify) fputs("(description removed: de-identified)", f);
    else esc(f, in && in->description && in->description[0] ? in->description : "(no description)");
    if (in) {
        fprintf(f, " &mdash; %s %s, %d x %d x %d voxels, %.2f x %.2f x %.2f mm", in->source ? in->source : "",
                in->modality ? in->modality : "", in->nx, in->ny, in->nz, in->spacing[0], in->spacing[1], in->spacing[2]);
    }
    fputs("</td></tr>", f);
    fprintf(f, "<tr><td>Software</td><td>spinemet %s</td></tr></table>\n", SP_VERSION);
}

static void flags(FILE *f, const sp_report_ctx *ctx)
{
    const sp_seg_result *seg = ctx->seg;
    const sp_score_result *res = ctx->res;
    fputs("<h2>Flags</h2><ul id=\"flags\">", f);
    int n = 0;
    if (seg->flags[0]) {
        char fl[sizeof seg->flags];
        snprintf(fl, sizeof fl, "%s", seg->flags);
        for (size_t e = strlen(fl); e > 0 && (fl[e - 1] == ' ' || fl[e - 1] == ';'); e--) fl[e - 1] = '\0';
        fputs("<li class=\"flag\">Segmentation: ", f), esc(f, fl), fputs("</li>", f), n++;
    }
    if (strstr(seg->flags, "cropped"))
        fputs("<li class=\"flag\">Cropped scan: levels at the edge of the field of view may be incomplete; "
              "their measurements are less reliable.</li>", f), n++;
    if (strstr(seg->flags, "transitional"))
        fputs("<li class=\"flag\">Transitional anatomy: confirm the level count (ribs, lumbosacral junction) "
              "before using the level names.</li>", f), n++;
    for (int k = 0; k < res->nvert; k++) {
        const sp_score_vertebra *v = &res->v[k];
        if (!v->uncertain) continue;
        const sp_seg_vertebra *sv = v->k >= 0 && v->k < seg->nvert ? &seg->vert[v->k] : NULL;
        fprintf(f, "<li class=\"flag\">Level name uncertain: %s (confidence %.2f)", v->name, v->level_confidence);
        if (sv && sv->alternatives[0]) fputs("; could also be ", f), esc(f, sv->alternatives);
        fputs("</li>", f), n++;
    }
    if (!n) fputs("<li>None.</li>", f);
    fputs("</ul>\n", f);
}

static double min_conf(const sp_score_sins *s)
{
    double m = INFINITY;
    const int *comp[6] = {&s->location, &s->pain, &s->bone_lesion, &s->alignment, &s->collapse, &s->posterolateral};
    for (int i = 0; i < 6; i++)
        if (*comp[i] >= 0 && isfinite(s->confidence[i])) m = fmin(m, s->confidence[i]);
    return isfinite(m) ? m : NAN;
}

static void summary(FILE *f, const sp_report_ctx *ctx)
{
    const sp_score_result *res = ctx->res;
    fputs("<h2>Summary by level</h2>"
          "<p>SINS components in points. Pain is the clinician's input: without it the total is a range "
          "(imaging subtotal + 0 to + 3).</p>"
          "<table id=\"summary\"><thead><tr><th>Level</th><th>Collapse (Genant)</th><th>Lesion</th>"
          "<th>Location</th><th>Pain</th><th>Bone lesion</th><th>Alignment</th><th>Collapse</th>"
          "<th>Posterolateral</th><th>Imaging subtotal</th><th>SINS total</th><th>Category</th><th>Confidence</th>"
          "<th>WBB zones</th><th>WBB layers</th></tr></thead><tbody>\n",
          f);
    for (int k = 0; k < res->nvert; k++) {
        const sp_score_vertebra *v = &res->v[k];
        const sp_score_sins *s = &v->sins;
        bool les = sp_report_has_lesion(v);
        const char *cls = !s->applicable ? "" : s->cat_max == SP_SINS_UNSTABLE ? " class=\"unstable\""
                                           : s->cat_max == SP_SINS_INDETERMINATE ? " class=\"indeterminate\"" : "";
        char b[400];
        fprintf(f, "<tr%s>", cls);
        snprintf(b, sizeof b, "%s%s", v->name, v->uncertain ? " (name uncertain)" : "");
        cell(f, b);
        if (v->h.ok && isfinite(v->h.collapse_pct))
            snprintf(b, sizeof b, "%.0f %% (grade %d%s%s)", v->h.collapse_pct, v->h.genant, v->h.genant > 0 ? ", " : "",
                     v->h.genant > 0 && v->h.shape ? v->h.shape : "");
        else
            snprintf(b, sizeof b, "not assessed%s%s", v->h.reason[0] ? ": " : "", v->h.reason);
        cell(f, b);
        if (!v->les.assessed) snprintf(b, sizeof b, "not assessed: %s", v->les.reason);
        else if (les) {
            const char *side = v->les.side[0] && v->les.side[1] ? "both sides"
                               : v->les.side[0]                 ? "patient's left"
                               : v->les.side[1]                 ? "patient's right"
                                                                : "none";
            snprintf(b, sizeof b, "%s, %.0f %% of body, posterolateral: %s%s", sp_report_char_name(v->les.character),
                     v->les.body_involvement_pct, side, v->les.epidural ? ", epidural" : "");
        } else snprintf(b, sizeof b, "none");
        cell(f, b);
        if (!s->applicable) {
            fputs("<td colspan=\"10\">SINS not applicable (no lesion at this level)</td>", f);
        } else {
            cell_int(f, s->location, s->location >= 0);
            cell(f, s->pain >= 0 ? (snprintf(b, sizeof b, "%d", s->pain), b) : "not given");
            cell_int(f, s->bone_lesion, s->bone_lesion >= 0);
            cell_int(f, s->alignment, s->alignment >= 0);
            cell_int(f, s->collapse, s->collapse >= 0);
            cell_int(f, s->posterolateral, s->posterolateral >= 0);
            cell_int(f, s->imaging_subtotal, true);
            if (s->total_min == s->total_max) snprintf(b, sizeof b, "%d", s->total_min);
            else snprintf(b, sizeof b, "%d&ndash;%d (pain not given)", s->total_min, s->total_max);
            fprintf(f, "<td>%s</td>", b);
            if (s->cat_min == s->cat_max) snprintf(b, sizeof b, "%s", sp_sins_category_name(s->cat_min));
            else snprintf(b, sizeof b, "%s to %s", sp_sins_category_name(s->cat_min), sp_sins_category_name(s->cat_max));
            cell(f, b);
            double c = min_conf(s);
            snprintf(b, sizeof b, isfinite(c) ? "%.2f (lowest component)" : "-", c);
            cell(f, b);
        }
        char zw[96], lw[32];
        if (les && !v->canal_ok) {
            cell(f, "not assessed (canal not found)");
            cell(f, sp_report_layers_words(v->les.layers, lw, sizeof lw));
        } else {
            cell(f, les ? sp_report_zones_words(v->les.zones, zw, sizeof zw) : "-");
            cell(f, les ? sp_report_layers_words(v->les.layers, lw, sizeof lw) : "-");
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody></table>\n", f);
}

static sp_status images(FILE *f, const sp_keyimages *ki, const char *dir, sp_err *err)
{
    fputs("<h2>Key images</h2><div id=\"keyimages\">\n", f);
    for (int i = 0; i < ki->n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, ki->im[i].file);
        FILE *p = fopen(path, "rb");
        if (!p) return sp_fail(err, SP_EIO, "%s: cannot read back (%s)", path, strerror(errno));
        fseek(p, 0, SEEK_END);
        long n = ftell(p);
        fseek(p, 0, SEEK_SET);
        uint8_t *buf = n > 0 ? malloc((size_t)n) : NULL;
        if (!buf || fread(buf, 1, (size_t)n, p) != (size_t)n) {
            fclose(p), free(buf);
            return sp_fail(err, SP_EIO, "%s: cannot read back", path);
        }
        fclose(p);
        char *b64 = sp_report_base64(buf, (size_t)n);
        free(buf);
        if (!b64) return SP_ENOMEM;
        fprintf(f, "<figure><img class=\"keyimage\" width=\"%d\" height=\"%d\" alt=\"", ki->im[i].width, ki->im[i].height);
        esc(f, ki->im[i].file);
        fprintf(f, "\" src=\"data:image/png;base64,%s\"><figcaption>", b64);
        esc(f, ki->im[i].caption);
        fputs("</figcaption></figure>\n", f);
        free(b64);
    }
    fputs("</div>\n", f);
    return SP_OK;
}

static void conventions(FILE *f, const sp_report_ctx *ctx)
{
    const sp_score_result *r = ctx->res;
    fputs("<h2>Conventions</h2><ul id=\"conventions\">"
          "<li><b>WBB (Weinstein&ndash;Boriani&ndash;Biagini):</b> the axial section is viewed from above (cranial), "
          "posterior at the top; zone 1 begins at the posterior midline and the zones run clockwise, so zones "
          "1&ndash;6 lie on the patient's left and 7&ndash;12 on the patient's right. Layers: A paravertebral "
          "(not assessed: soft-tissue tumour has the HU of the muscle it replaces), B intraosseous superficial, C "
          "intraosseous deep, D epidural, E intradural (not assessed on CT). Sides are also named in words.</li>"
          "<li><b>Images:</b> sagittal reformat with anterior on the left; coronal with the patient's right on the "
          "left (radiological); axial viewed from above with posterior at the top, so the patient's left is on the "
          "right. Reformats follow the spine's body-centre line. Bone window (level 400, width 1800 HU). Lesion "
          "overlay: red lytic, blue blastic; it shows voxels beyond the thresholds below inside the involved "
          "vertebra.</li>"
          "<li><b>Coordinates:</b> DICOM patient space (LPS), millimetres.</li>",
          f);
    if (isfinite(r->lytic_thr))
        fprintf(f,
                "<li><b>Lesion thresholds</b> (from the patient's own normal vertebrae, reference %.0f HU, %d levels): "
                "lytic below %.0f HU, blastic above %.0f HU.</li>",
                r->ref_hu, r->ref_levels, r->lytic_thr, r->blastic_thr);
    fprintf(f,
            "<li><b>SINS</b> (Fisher 2010): 0&ndash;6 stable, 7&ndash;12 indeterminate, 13&ndash;18 unstable; collapse "
            "&gt; %.0f %% scores 3; translation &ge; %.0f mm scores 4. Genant: grade 1 from %.0f %%, 2 from %.0f %%, "
            "3 above %.0f %% height loss. Full rules and evidence per value: report.json.</li></ul>\n",
            SP_SINS_COLLAPSE_HIGH_PCT, SP_SINS_TRANSLATION_MM, SP_GENANT_MILD_PCT, SP_GENANT_MODERATE_PCT,
            SP_GENANT_SEVERE_PCT);
}

sp_status sp_report_write_html(const sp_report_ctx *ctx, const sp_keyimages *ki, const char *dir, sp_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/report.html", dir);
    FILE *f = fopen(path, "wb");
    if (!f) return sp_fail(err, SP_EIO, "%s: cannot write (%s)", path, strerror(errno));
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<title>spinemet report</title><style>%s</style></head><body>\n", CSS);
    fputs("<h1>Spinal metastasis: pre-filled measurements and scores</h1>\n"
          "<div class=\"notice\" id=\"notice\">spinemet pre-fills values for clinical confirmation; not a medical "
          "device. Every value must be checked by a clinician against the images.</div>\n",
          f);
    header(f, ctx);
    flags(f, ctx);
    summary(f, ctx);
    sp_status st = images(f, ki, dir, err);
    if (st == SP_OK) conventions(f, ctx);
    fputs("</body></html>\n", f);
    if (fclose(f) != 0 && st == SP_OK) st = sp_fail(err, SP_EIO, "%s: cannot write (%s)", path, strerror(errno));
    return st;
}
