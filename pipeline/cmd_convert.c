/* cmd_convert.c - `spinemet convert PATH -o OUT.nii.gz [--series UID|INDEX]`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "core/sp_log.h"
#include "core/sp_omp.h"
#include "exit_codes.h"
#include "io/sp_io.h"

static void convert_usage(FILE *f)
{
    fprintf(f,
            "usage: spinemet convert PATH -o OUT.nii[.gz] [--series UID|INDEX] [--threads N]\n"
            "\n"
            "Loads one series from PATH (anything `spinemet scan` accepts, or a NIfTI\n"
            "file) and writes it as NIfTI-1: CT in Hounsfield units (int16 when exact,\n"
            "float32 otherwise), LPS geometry converted to the NIfTI RAS qform and\n"
            "sform. Gantry tilt, uneven spacing and up to two missing slices are\n"
            "corrected by resampling onto a regular grid; what was corrected is logged.\n"
            "Without --series the best-ranked series (see `spinemet scan`) is used.\n"
            "The input is never modified.\n"
            "\noptions:\n"
            "  -o, --output FILE   output .nii or .nii.gz (required)\n"
            "  --series SEL        series UID or index from `spinemet scan`\n"
            "  --threads N         decoding threads (default: all cores)\n"
            "\nexit codes: 0 ok, 1 usage, 2 i/o, 3 no usable series, 4 unsupported,\n"
            "5 out of memory\n");
}

int sp_cmd_convert(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"series", required_argument, NULL, 's'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    const char *outp = NULL, *sel = NULL;
    sp_volume *v = NULL;
    sp_load_info info;
    sp_err err = {0};
    sp_status st;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        if (c == 'o') outp = optarg;
        else if (c == 's') sel = optarg;
        else if (c == 't') sp_omp_set_threads(atoi(optarg));
        else if (c == 'h') {
            convert_usage(stdout);
            return SP_EXIT_OK;
        } else {
            convert_usage(stderr);
            return SP_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || !outp) {
        convert_usage(stderr);
        return SP_EXIT_USAGE;
    }
    if (!sp_io_is_nifti_path(outp)) {
        sp_log(SP_LOG_ERROR, "%s: output name must end in .nii or .nii.gz", outp);
        return SP_EXIT_USAGE;
    }
    double t0 = sp_now();
    st = sp_io_load(argv[optind], sel, &v, &info, &err);
    if (st == SP_OK) {
        double t1 = sp_now();
        if (info.corrections[0]) sp_log(SP_LOG_WARN, "corrected while loading: %s", info.corrections);
        st = sp_io_write_nifti(outp, v, &err);
        sp_log(SP_LOG_DEBUG, "convert: load %.2f s, write %.2f s", t1 - t0, sp_now() - t1);
    }
    if (st != SP_OK) {
        sp_log(SP_LOG_ERROR, "%s", err.msg);
    } else {
        sp_log(SP_LOG_INFO, "wrote %s (%dx%dx%d, %.3g x %.3g x %.3g mm)", outp, v->nx, v->ny, v->nz,
               v->spacing[0], v->spacing[1], v->spacing[2]);
    }
    sp_vol_free(v);
    return sp_exit_code(st);
}
