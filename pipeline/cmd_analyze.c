/* cmd_analyze.c - `spinemet analyze PATH -o DIR`: load, segment (or import
 * labels), measure and score; writes DIR/report.json plus the label maps. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "commands.h"
#include "core/sp_log.h"
#include "core/sp_omp.h"
#include "exit_codes.h"
#include "io/sp_io.h"
#include "score/sp_score.h"
#include "segment/sp_segment.h"

static void analyze_usage(FILE *f)
{
    fprintf(f,
            "usage: spinemet analyze PATH -o DIR [--series SEL] [--threads N]\n"
            "                        [--labels FILE --label-scheme totalseg|verse]\n"
            "                        [--pain LEVEL=mechanical|occasional|none]... [--clinical FILE]\n"
            "\n"
            "Loads a CT series from PATH, segments the vertebrae (or imports --labels),\n"
            "measures each vertebra (body heights, collapse, Genant grade, lesion\n"
            "character and extent, alignment) and pre-fills SINS and WBB with the\n"
            "evidence for every value. Writes into DIR:\n"
            "  report.json       schema in docs/scoring.md\n"
            "  vertebrae.nii.gz, parts.nii.gz, vertebrae.json  (as `spinemet segment`)\n"
            "Pain is a clinician's input: without it the SINS total is a range.\n"
            "\noptions:\n"
            "  -o, --output DIR      output folder (created if missing; required)\n"
            "  --series SEL          series UID or index from `spinemet scan`\n"
            "  --labels FILE         use this label map instead of segmenting\n"
            "  --label-scheme S      numbering of --labels: totalseg or verse\n"
            "  --pain LEVEL=P        pain at a level (repeatable): mechanical, occasional, none\n"
            "  --clinical FILE       JSON sidecar {\"pain\": {\"T12\": \"mechanical\"}}\n"
            "  --threads N           OpenMP threads (default: all cores)\n"
            "\nexit codes: 0 ok, 1 usage, 2 i/o, 3 no usable series, 4 no spine found\n");
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
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
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    const char *outdir = NULL, *sel = NULL, *labels = NULL, *scheme = NULL, *clinical = NULL;
    sp_seg_opts so = {0};
    sp_score_opts *sco = malloc(sizeof *sco);
    sp_volume *ct = NULL;
    sp_seg_result *seg = NULL;
    sp_score_result *res = NULL;
    sp_load_info info;
    sp_err err = {0};
    sp_status st = SP_OK;
    int c;
    if (!sco) return SP_EXIT_NOMEM;
    sp_score_opts_init(sco);
    optind = 0;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        if (c == 'o') outdir = optarg;
        else if (c == 's') sel = optarg;
        else if (c == 'l') labels = optarg;
        else if (c == 'm') scheme = optarg;
        else if (c == 'c') clinical = optarg;
        else if (c == 't') so.threads = atoi(optarg);
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
    if (clinical && (st = sp_score_opts_read_clinical(sco, clinical, &err)) != SP_OK) {
        sp_log(SP_LOG_ERROR, "%s", err.msg);
        free(sco);
        return st == SP_EIO ? SP_EXIT_IO : SP_EXIT_USAGE;
    }
    if (so.threads > 0) sp_omp_set_threads(so.threads);
    sp_report_input in = {0};
    double t0 = now();
    st = sp_io_load(argv[optind], sel, &ct, &info, &err);
    if (st == SP_OK && ct->dtype != SP_I16)
        st = sp_fail(&err, SP_EUNSUPPORTED, "%s: not an int16 HU volume", argv[optind]);
    in.seconds_load = now() - t0;
    t0 = now();
    if (st == SP_OK) {
        if (labels) st = sp_seg_from_labels(ct, labels, scheme, &seg, &err);
        else st = sp_seg_run(ct, &so, &seg, &err);
    }
    in.seconds_segment = now() - t0;
    if (st == SP_OK) st = sp_seg_write(seg, outdir, &err);
    if (st == SP_OK) st = sp_score_run(ct, seg, sco, &res, &err);
    if (st == SP_OK) {
        char path[4096];
        t0 = now();
        in.path = argv[optind], in.series = sel, in.source = info.source, in.modality = info.modality;
        in.description = info.description, in.labels = labels, in.label_scheme = scheme;
        in.nx = ct->nx, in.ny = ct->ny, in.nz = ct->nz;
        memcpy(in.spacing, ct->spacing, sizeof in.spacing);
        in.seg_flags = seg->flags;
        snprintf(path, sizeof path, "%s/report.json", outdir);
        in.seconds_report = 0;
        st = sp_score_write_report(res, seg, &in, path, &err);
        if (st == SP_OK) {
            sp_log(SP_LOG_INFO, "%d vertebrae, %d with lesion%s%s -> %s", res->nvert, res->n_lesion_levels,
                   res->worst >= 0 ? "; most unstable " : "", res->worst >= 0 ? res->v[res->worst].name : "", path);
            for (int k = 0; k < res->nvert; k++) {
                const sp_score_vertebra *v = &res->v[k];
                if (!v->sins.applicable) continue;
                sp_log(SP_LOG_INFO, "  %-4s SINS imaging %d, total %d-%d (%s%s%s)", v->name, v->sins.imaging_subtotal,
                       v->sins.total_min, v->sins.total_max, sp_sins_category_name(v->sins.cat_min),
                       v->sins.cat_min != v->sins.cat_max ? " to " : "",
                       v->sins.cat_min != v->sins.cat_max ? sp_sins_category_name(v->sins.cat_max) : "");
            }
        }
    }
    if (st != SP_OK) sp_log(SP_LOG_ERROR, "%s", err.msg);
    sp_score_result_free(res);
    sp_seg_result_free(seg);
    sp_vol_free(ct);
    free(sco);
    return st == SP_EUNSUPPORTED ? SP_EXIT_UNSUPPORTED : sp_exit_code(st);
}
