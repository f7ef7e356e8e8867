/* cmd_phantom.c - `spinemet phantom [SPEC.json] -o DIR`: generate a
 * synthetic spine CT series with ground truth (docs/phantom.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sp_log.h"
#include "core/sp_omp.h"
#include "phantom/sp_phantom.h"
#include "pipeline/commands.h"
#include "pipeline/exit_codes.h"

static void phantom_usage(FILE *f)
{
    fprintf(f,
            "usage: spinemet phantom [SPEC.json] -o DIR [--seed N] [--png] [--axial-level NAME]\n"
            "                        [--no-dicom] [--threads N]\n"
            "\n"
            "Generates a synthetic spine CT with known ground truth from a JSON spec\n"
            "(docs/phantom.md; every field optional; without SPEC, or with {}, a normal\n"
            "T1-S1 spine). The same spec and seed always give byte-identical files.\n"
            "\nreads:  SPEC.json (optional)\n"
            "writes: DIR/dicom/IM00001.dcm ...  CT Image Storage, one file per slice\n"
            "        DIR/truth.json             per-vertebra ground truth (heights, collapse,\n"
            "                                   Genant, lesion, WBB, Bilsky, alignment, SINS)\n"
            "        DIR/truth_vertebrae.nii.gz VerSe labels (C1=1..L5=24, L6=25, S1=26, T13=28)\n"
            "        DIR/truth_parts.nii.gz     body, pedicles, laminae, spinous, transverse,\n"
            "                                   facets, ribs, sacrum, ilium\n"
            "        DIR/truth_lesions.nii.gz   1 lytic, 2 blastic, 3 paravertebral, 4 epidural\n"
            "        DIR/sagittal.png, DIR/axial.png with --png\n"
            "\noptions:\n"
            "  -o, --output DIR      output folder (created; required)\n"
            "  --seed N              overrides the spec's seed (noise, texture, UIDs)\n"
            "  --png                 also write preview images\n"
            "  --axial-level NAME    level of the axial preview (default: mid-scan)\n"
            "  --no-dicom            skip the DICOM series (truth and labels only)\n"
            "  --threads N           OpenMP threads (default: all cores)\n"
            "\nexit codes: 0 ok, 1 usage or invalid spec, 2 i/o, 5 out of memory\n");
}

int sp_cmd_phantom(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"png", no_argument, NULL, 'p'},
                                         {"axial-level", required_argument, NULL, 'a'},
                                         {"no-dicom", no_argument, NULL, 'n'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    const char *outd = NULL, *level = NULL, *seed = NULL;
    int png = 0, dicom = 1, c;
    sp_phantom_spec *spec = NULL;
    sp_phantom *ph = NULL;
    sp_err err = {0};
    sp_status st;
    char path[4096], path2[4096];
    optind = 0;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        if (c == 'o') outd = optarg;
        else if (c == 's') seed = optarg;
        else if (c == 'p') png = 1;
        else if (c == 'a') level = optarg;
        else if (c == 'n') dicom = 0;
        else if (c == 't') sp_omp_set_threads(atoi(optarg));
        else if (c == 'h') {
            phantom_usage(stdout);
            return SP_EXIT_OK;
        } else {
            phantom_usage(stderr);
            return SP_EXIT_USAGE;
        }
    }
    if (optind < argc - 1 || !outd) {
        phantom_usage(stderr);
        return SP_EXIT_USAGE;
    }
    if (optind == argc - 1) st = sp_phantom_spec_load(argv[optind], &spec, &err);
    else st = sp_phantom_spec_parse("{}", "(default spec)", &spec, &err);
    if (!st && seed) {
        char *end;
        unsigned long long v = strtoull(seed, &end, 10);
        if (!*seed || *end || seed[0] == '-') {
            sp_log(SP_LOG_ERROR, "--seed: '%s' is not a non-negative integer", seed);
            sp_phantom_spec_free(spec);
            return SP_EXIT_USAGE;
        }
        sp_phantom_spec_set_seed(spec, (uint64_t)v);
    }
    if (!st) st = sp_phantom_generate(spec, &ph, &err);
    if (!st) {
        if (dicom) {
            st = sp_phantom_write_all(ph, outd, &err);
        } else {
            snprintf(path, sizeof path, "%s/truth.json", outd);
            st = sp_phantom_write_labels(ph, outd, &err);
            if (!st) st = sp_phantom_write_truth(ph, path, &err);
        }
    }
    if (!st && png) {
        snprintf(path, sizeof path, "%s/sagittal.png", outd);
        snprintf(path2, sizeof path2, "%s/axial.png", outd);
        st = sp_phantom_write_previews(ph, path, path2, level, &err);
    }
    if (st) {
        sp_log(SP_LOG_ERROR, "%s", err.msg);
    } else {
        const sp_volume *v = sp_phantom_ct(ph);
        sp_log(SP_LOG_INFO, "wrote %s: %dx%dx%d phantom (%.3g x %.3g x %.3g mm), rendered in %.2f s",
               outd, v->nx, v->ny, v->nz, v->spacing[0], v->spacing[1], v->spacing[2],
               sp_phantom_render_seconds(ph));
    }
    sp_phantom_free(ph);
    sp_phantom_spec_free(spec);
    return sp_exit_code(st);
}
