/* cmd_segment.c - `spinemet segment PATH -o DIR`: find, separate and name
 * the vertebrae. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/sp_log.h"
#include "core/sp_omp.h"
#include "exit_codes.h"
#include "io/sp_io.h"
#include "segment/sp_segment.h"

static void segment_usage(FILE *f)
{
    fprintf(f,
            "usage: spinemet segment PATH -o DIR [--series SEL] [--threads N]\n"
            "                        [--labels FILE --label-scheme totalseg|verse]\n"
            "\n"
            "Reads a CT series from PATH (anything `spinemet scan` accepts, or NIfTI),\n"
            "finds the spine, separates the vertebrae and names them from anatomy\n"
            "(sacrum, last rib-bearing vertebra). Writes into DIR:\n"
            "  vertebrae.nii.gz  one label per vertebra on the input grid, VerSe numbers\n"
            "                    (C1=1..C7=7, T1=8..T12=19, L1=20..L5=24, L6=25,\n"
            "                    sacrum=26, T13=28)\n"
            "  parts.nii.gz      1 body, 2/3 pedicle left/right, 4/5 posterior elements\n"
            "                    left/right, 6 spinous process\n"
            "  vertebrae.json    per vertebra: level, confidence of the name, the anchor\n"
            "                    that fixed it, alternatives when uncertain, centroid (LPS mm)\n"
            "With --labels, an existing label map (e.g. TotalSegmentator's) replaces\n"
            "our segmentation; it is mapped to VerSe numbers and split into parts.\n"
            "\noptions:\n"
            "  -o, --output DIR      output folder (created if missing; required)\n"
            "  --series SEL          series UID or index from `spinemet scan`\n"
            "  --labels FILE         use this label map instead of segmenting\n"
            "  --label-scheme S      numbering of --labels: totalseg or verse\n"
            "  --threads N           OpenMP threads (default: all cores)\n"
            "\nexit codes: 0 ok, 1 usage, 2 i/o, 3 no usable series, 4 no spine found\n");
}

int sp_cmd_segment(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"series", required_argument, NULL, 's'},
                                         {"labels", required_argument, NULL, 'l'},
                                         {"label-scheme", required_argument, NULL, 'm'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    const char *outdir = NULL, *sel = NULL, *labels = NULL, *scheme = NULL;
    sp_seg_opts so = {0};
    so.verbose = true; /* debug lines show with -v */
    sp_volume *ct = NULL;
    sp_seg_result *r = NULL;
    sp_load_info info;
    sp_err err = {0};
    sp_status st;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        if (c == 'o') outdir = optarg;
        else if (c == 's') sel = optarg;
        else if (c == 'l') labels = optarg;
        else if (c == 'm') scheme = optarg;
        else if (c == 't') so.threads = atoi(optarg);
        else if (c == 'h') {
            segment_usage(stdout);
            return SP_EXIT_OK;
        } else {
            segment_usage(stderr);
            return SP_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !outdir || (labels && !scheme)) {
        segment_usage(stderr);
        return SP_EXIT_USAGE;
    }
    if (so.threads > 0) sp_omp_set_threads(so.threads);
    st = sp_io_load(argv[optind], sel, &ct, &info, &err);
    if (st == SP_OK) st = sp_io_require_hu(&ct, argv[optind], &err);
    if (st == SP_OK) {
        if (labels) st = sp_seg_from_labels(ct, labels, scheme, &r, &err);
        else st = sp_seg_run(ct, &so, &r, &err);
    }
    if (st == SP_OK) st = sp_seg_write(r, outdir, &err);
    if (st != SP_OK) {
        sp_log(SP_LOG_ERROR, "%s", err.msg);
    } else {
        sp_log(SP_LOG_INFO, "%d vertebrae in %.2f s; %s%s -> %s", r->nvert, r->seconds, r->anchors, r->flags, outdir);
        for (int k = 0; k < r->nvert; k++)
            sp_log(SP_LOG_INFO, "  %-4s confidence %.2f%s%s%s", r->vert[k].name, r->vert[k].confidence,
                   r->vert[k].partial ? " PARTIAL (cut by the scan edge)" : "",
                   r->vert[k].uncertain ? " UNCERTAIN: " : "", r->vert[k].uncertain ? r->vert[k].alternatives : "");
    }
    sp_seg_result_free(r);
    sp_vol_free(ct);
    return st == SP_EUNSUPPORTED ? SP_EXIT_UNSUPPORTED : sp_exit_code(st);
}
