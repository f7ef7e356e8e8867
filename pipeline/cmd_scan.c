/* cmd_scan.c - `spinemet scan PATH [--json]`: index files, group series, say
 * which one would be analysed and why. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "core/sp_log.h"
#include "core/sp_omp.h"
#include "exit_codes.h"
#include "io/sp_io.h"

static void scan_usage(FILE *f)
{
    fprintf(f,
            "usage: spinemet scan PATH [--json] [--threads N]\n"
            "\n"
            "Reads every file under PATH (a PACS export folder tree, a DICOMDIR's\n"
            "folder, a single DICOM file, or a .nii/.nii.gz file), groups the images\n"
            "into series, checks each series' geometry (duplicates, missing slices,\n"
            "uneven spacing, gantry tilt) and ranks them for spine work.\n"
            "Writes nothing: prints a table to stdout (or JSON with --json) with one row\n"
            "per series (index, modality, slices, spacing, coverage, decision, reason),\n"
            "the series that would be analysed and why, and every file that could not\n"
            "be used with its reason.\n"
            "\noptions:\n"
            "  --json        machine-readable output (same content)\n"
            "  --threads N   threads for header reading (default: all cores)\n"
            "\nexit codes: 0 at least one usable series, 2 PATH unreadable,\n"
            "3 no usable series, 1 usage\n");
}

static const char *decision_str(sp_series_decision d)
{
    return d == SP_SERIES_LOAD ? "load" : d == SP_SERIES_CORRECTED ? "load-corrected" : "reject";
}

static const char *file_state_str(sp_file_state s)
{
    switch (s) {
    case SP_FILE_OK: return "image";
    case SP_FILE_NOT_DICOM: return "not-dicom";
    case SP_FILE_UNREADABLE: return "unreadable";
    case SP_FILE_NO_PIXELS: return "no-pixels";
    case SP_FILE_UNSUPPORTED: return "unsupported";
    case SP_FILE_NIFTI: return "nifti";
    }
    return "?";
}

static void print_table(const sp_scan *s)
{
    int skipped = 0;
    printf("%d file(s) under %s, %d series, scanned in %.2f s\n\n", s->nfiles, s->root, s->nseries, s->seconds);
    printf("%-3s %-4s %-6s %-11s %-19s %-9s %-15s %s\n", "#", "mod", "slices", "grid", "spacing mm", "cover mm",
           "decision", "reason");
    for (int i = 0; i < s->nseries; i++) {
        const sp_series *sr = &s->series[i];
        char grid[32], spc[40];
        snprintf(grid, sizeof grid, "%dx%dx%d", sr->nx, sr->ny, sr->nz);
        snprintf(spc, sizeof spc, "%.3g x %.3g x %.3g", sr->spacing[0], sr->spacing[1], sr->spacing[2]);
        printf("%-3d %-4s %-6d %-11s %-19s %-9.1f %-15s %s%s\n", i, sr->modality[0] ? sr->modality : "-",
               sr->nslices, grid, spc, sr->coverage_mm, decision_str(sr->decision), sr->reason,
               i == s->chosen ? "  <== chosen" : "");
        if (sr->description[0]) printf("    description: %s\n", sr->description);
    }
    printf("\nchosen: %s\n", s->chosen >= 0 ? s->chosen_reason : "none");
    if (s->chosen < 0) printf("reason: %s\n", s->chosen_reason);
    for (int i = 0; i < s->nfiles; i++)
        if (s->files[i].state != SP_FILE_OK) skipped++;
    if (skipped) {
        printf("\n%d file(s) not used:\n", skipped);
        for (int i = 0; i < s->nfiles; i++)
            if (s->files[i].state != SP_FILE_OK)
                printf("  %s: %s (%s)\n", s->files[i].path, file_state_str(s->files[i].state), s->files[i].reason);
    }
}

static cJSON *series_json(const sp_series *sr, bool chosen)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", sr->index);
    cJSON_AddStringToObject(o, "study_uid", sr->study_uid);
    cJSON_AddStringToObject(o, "series_uid", sr->series_uid);
    cJSON_AddBoolToObject(o, "uid_fallback", sr->uid_fallback);
    cJSON_AddStringToObject(o, "modality", sr->modality);
    cJSON_AddStringToObject(o, "description", sr->description);
    cJSON_AddStringToObject(o, "image_type", sr->image_type);
    cJSON_AddStringToObject(o, "kernel", sr->kernel);
    cJSON_AddNumberToObject(o, "series_number", sr->series_number);
    cJSON_AddNumberToObject(o, "slices", sr->nslices);
    cJSON *g = cJSON_AddArrayToObject(o, "grid");
    cJSON_AddItemToArray(g, cJSON_CreateNumber(sr->nx));
    cJSON_AddItemToArray(g, cJSON_CreateNumber(sr->ny));
    cJSON_AddItemToArray(g, cJSON_CreateNumber(sr->nz));
    cJSON_AddItemToObject(o, "spacing_mm", cJSON_CreateDoubleArray(sr->spacing, 3));
    cJSON_AddNumberToObject(o, "coverage_mm", sr->coverage_mm);
    cJSON_AddNumberToObject(o, "slice_thickness_mm", sr->slice_thickness);
    cJSON_AddNumberToObject(o, "tilt_deg", sr->tilt_deg);
    cJSON_AddNumberToObject(o, "duplicates", sr->duplicates);
    cJSON_AddNumberToObject(o, "missing_slices", sr->missing_slices);
    cJSON_AddBoolToObject(o, "uneven_spacing", sr->uneven);
    cJSON_AddBoolToObject(o, "localizer", sr->localizer);
    cJSON_AddBoolToObject(o, "derived", sr->derived);
    cJSON_AddBoolToObject(o, "axial", sr->axial);
    cJSON_AddStringToObject(o, "decision", decision_str(sr->decision));
    cJSON_AddStringToObject(o, "reason", sr->reason);
    cJSON_AddNumberToObject(o, "rank", sr->rank);
    cJSON_AddStringToObject(o, "rank_reason", sr->rank_reason);
    cJSON_AddBoolToObject(o, "chosen", chosen);
    return o;
}

static int print_json(const sp_scan *s)
{
    cJSON *root = cJSON_CreateObject(), *arr, *files;
    char *txt;
    cJSON_AddStringToObject(root, "path", s->root);
    cJSON_AddNumberToObject(root, "files", s->nfiles);
    cJSON_AddNumberToObject(root, "seconds", s->seconds);
    arr = cJSON_AddArrayToObject(root, "series");
    for (int i = 0; i < s->nseries; i++) cJSON_AddItemToArray(arr, series_json(&s->series[i], i == s->chosen));
    if (s->chosen >= 0) cJSON_AddNumberToObject(root, "chosen", s->chosen);
    else cJSON_AddNullToObject(root, "chosen");
    cJSON_AddStringToObject(root, "chosen_reason", s->chosen_reason);
    files = cJSON_AddArrayToObject(root, "unused_files");
    for (int i = 0; i < s->nfiles; i++) {
        if (s->files[i].state == SP_FILE_OK) continue;
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "path", s->files[i].path);
        cJSON_AddStringToObject(f, "state", file_state_str(s->files[i].state));
        cJSON_AddStringToObject(f, "reason", s->files[i].reason);
        cJSON_AddItemToArray(files, f);
    }
    txt = cJSON_Print(root);
    cJSON_Delete(root);
    if (!txt) return SP_EXIT_NOMEM;
    puts(txt);
    free(txt);
    return SP_EXIT_OK;
}

int sp_cmd_scan(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"threads", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    bool json = false;
    sp_scan_opts so = {0};
    sp_scan *s = NULL;
    sp_err err = {0};
    int c, rc;
    optind = 0;
    while ((c = getopt_long(argc, argv, "ht:", opts, NULL)) != -1) {
        if (c == 'j') json = true;
        else if (c == 't') so.threads = atoi(optarg);
        else if (c == 'h') {
            scan_usage(stdout);
            return SP_EXIT_OK;
        } else {
            scan_usage(stderr);
            return SP_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        scan_usage(stderr);
        return SP_EXIT_USAGE;
    }
    if (so.threads > 0) sp_omp_set_threads(so.threads);
    sp_status st = sp_io_scan(argv[optind], &so, &s, &err);
    if (st != SP_OK) {
        sp_log(SP_LOG_ERROR, "%s", err.msg);
        return sp_exit_code(st);
    }
    rc = json ? print_json(s) : (print_table(s), SP_EXIT_OK);
    if (rc == SP_EXIT_OK && s->chosen < 0) rc = SP_EXIT_NO_SERIES;
    sp_scan_free(s);
    return rc;
}
