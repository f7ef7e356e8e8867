/* main.c - `spinemet` command-line entry: global options and subcommand dispatch.
 *
 * CLI parsing only (git's commands[] table); each subcommand lives in its own
 * file and parses its own options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "exit_codes.h"
#include "core/sp_heap_policy.h"
#include "core/sp_log.h"
#include "sp_version.h"

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"scan", sp_cmd_scan, "index a folder / file, group series, say which one would be analysed"},
    {"convert", sp_cmd_convert, "load a series (or NIfTI) and write it as NIfTI in HU"},
    {"segment", sp_cmd_segment, "find, separate and name the vertebrae (label maps + JSON)"},
    {"analyze", sp_cmd_analyze, "segment, measure, score; writes report.json/.html/.csv, DICOM SEG and SR"},
    {"batch", sp_cmd_batch, "analyze every study under a folder, resumably; writes cohort.csv"},
    {"merge", sp_cmd_merge, "combine the outputs of batch shards into one cohort.csv"},
    {"pull", sp_cmd_pull, "retrieve studies from a PACS (DICOMweb QIDO-RS / WADO-RS)"},
    {"push", sp_cmd_push, "store DICOM files, e.g. seg.dcm and sr.dcm, on a PACS (STOW-RS)"},
    {"phantom", sp_cmd_phantom, "generate a synthetic spine CT series with ground truth"},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: spinemet [--version] [--help] [-v|-q] <command> [options]\n"
            "\n"
            "spinemet reads CT DICOM series (or NIfTI) of the spine and pre-fills\n"
            "what a spine surgeon needs to judge a spinal metastasis.\n"
            "It pre-fills values for clinical confirmation; it is not a medical device.\n"
            "\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\nglobal options:\n"
            "  -v, --verbose   more log output (debug)\n"
            "  -q, --quiet     errors only\n"
            "  --version       print the version and exit\n"
            "  --help          this text; `spinemet <command> --help` for a command\n"
            "\nexit codes: 0 ok, 1 usage, 2 i/o, 3 no usable series, 4 unsupported,\n"
            "5 out of memory, 6 internal error, 7 partly done: batch, pull, push (docs/exit-codes.md)\n");
}

int main(int argc, char **argv)
{
    sp_heap_policy_reuse();
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--version")) {
            printf("spinemet %s\n", SP_VERSION);
            return SP_EXIT_OK;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return SP_EXIT_OK;
        } else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
            sp_log_set_level(SP_LOG_DEBUG);
        } else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
            sp_log_set_level(SP_LOG_ERROR);
        } else {
            fprintf(stderr, "spinemet: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return SP_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return SP_EXIT_USAGE;
    }
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
        if (!strcmp(argv[i], commands[c].name)) return commands[c].run(argc - i, argv + i);
    fprintf(stderr, "spinemet: '%s' is not a command; see 'spinemet --help'\n", argv[i]);
    return SP_EXIT_USAGE;
}
