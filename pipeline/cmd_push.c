/* cmd_push.c - `spinemet push URL FILE|DIR...`: store DICOM files on a
 * DICOMweb server with STOW-RS, e.g. analyze's seg.dcm and sr.dcm.
 *
 * DESIGN: a FILE argument is always sent (a non-DICOM one fails and says
 * so); a DIR is walked and only its DICOM Part 10 files ("DICM" at byte 128)
 * are sent, so an analyze output folder can be pushed as it is (its JSON,
 * HTML, PNG and NIfTI files stay behind). Hidden files and folders are
 * skipped. Each file's fate comes from the server's answer (net/stow.c). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "core/sp_log.h"
#include "exit_codes.h"
#include "net/sp_net.h"

static void push_usage(FILE *f)
{
    fprintf(f,
            "usage: spinemet push URL FILE|DIR... [--user USER:PASSWORD] [--timeout S]\n"
            "\n"
            "Stores DICOM files on a DICOMweb server (STOW-RS). URL is the DICOMweb root,\n"
            "e.g. http://pacs:8042/dicom-web. A FILE is sent as given; a DIR is searched\n"
            "(with its subfolders) for DICOM files, and only those are sent, so\n"
            "  spinemet push URL OUT        (OUT from `spinemet analyze ... -o OUT`)\n"
            "sends seg.dcm and sr.dcm and nothing else. Says for every file whether the\n"
            "server stored it, and why not.\n"
            "\noptions:\n"
            "  --user USER:PASSWORD  HTTP basic auth (or env SPINEMET_DICOMWEB_USER)\n"
            "  --timeout S           give up connecting after S s, and a transfer that\n"
            "                        makes no progress for S s (default 60)\n"
            "\nexit codes: 0 every file stored, 7 some stored and some not, 2 none stored\n"
            "(server unreachable, refused, or files unreadable), 3 no DICOM file found\n"
            "in the arguments, 1 usage (docs/pacs.md)\n");
}

typedef struct path_list {
    char **v;
    int n, cap;
} path_list;

static bool add_path(path_list *l, const char *p)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        char **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return false;
        l->v = v, l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(p))) return false;
    l->n++;
    return true;
}

/* DICOM Part 10: the "DICM" magic after the 128-byte preamble. */
static bool is_part10(const char *path)
{
    char m[4];
    FILE *f = fopen(path, "rb");
    bool yes = f && fseek(f, 128, SEEK_SET) == 0 && fread(m, 1, 4, f) == 4 && !memcmp(m, "DICM", 4);
    if (f) fclose(f);
    return yes;
}

/* Adds the DICOM files under dir; false on no memory or an unreadable dir. */
static bool walk(path_list *l, const char *dir, int depth, sp_err *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d) return sp_fail(err, SP_EIO, "%s: %s", dir, strerror(errno)), false;
    bool ok = true;
    while (ok && (e = readdir(d)) != NULL) {
        char p[4200];
        struct stat sb;
        if (e->d_name[0] == '.') continue; /* ., .., and hidden work files */
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p || stat(p, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode) && depth < 32) ok = walk(l, p, depth + 1, err);
        else if (S_ISREG(sb.st_mode) && is_part10(p) && !add_path(l, p)) ok = !sp_fail(err, SP_ENOMEM, "out of memory");
    }
    closedir(d);
    return ok;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The files to send, in a stable order (each DIR's files sorted by path). */
static sp_status collect(int argc, char **argv, path_list *l, sp_err *err)
{
    for (int i = 0; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) return sp_fail(err, SP_EIO, "%s: %s", argv[i], strerror(errno));
        if (S_ISDIR(sb.st_mode)) {
            int first = l->n;
            if (!walk(l, argv[i], 0, err)) return err->code;
            qsort(l->v + first, (size_t)(l->n - first), sizeof *l->v, by_name);
            if (l->n == first) sp_log(SP_LOG_WARN, "push: %s: no DICOM file in it", argv[i]);
        } else if (!add_path(l, argv[i])) return sp_fail(err, SP_ENOMEM, "out of memory");
    }
    return SP_OK;
}

int sp_cmd_push(int argc, char **argv)
{
    static const struct option opts[] = {{"user", required_argument, NULL, 'u'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    sp_dw_opts dopts = {.timeout_s = 60};
    path_list l = {0};
    sp_dw_client *c = NULL;
    sp_dw_store_result *res = NULL;
    sp_err err = {0};
    char *end, *user_arg = NULL;
    int ch, rc = SP_EXIT_OK;
    optind = 0;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (ch == 'u') dopts.userpwd = user_arg = optarg;
        else if (ch == 't') {
            dopts.timeout_s = strtol(optarg, &end, 10);
            if (end == optarg || *end || dopts.timeout_s < 1 || dopts.timeout_s > 86400)
                return sp_log(SP_LOG_ERROR, "--timeout wants whole seconds, 1..86400"), SP_EXIT_USAGE;
        } else if (ch == 'h') return push_usage(stdout), SP_EXIT_OK;
        else return push_usage(stderr), SP_EXIT_USAGE;
    }
    if (argc - optind < 2) return push_usage(stderr), SP_EXIT_USAGE;
    dopts.base_url = argv[optind];
    if (!dopts.userpwd) dopts.userpwd = getenv("SPINEMET_DICOMWEB_USER");
    double t0 = sp_now();
    sp_status st = sp_dw_new(&dopts, &c, &err);
    sp_net_mask_password(user_arg);
    if (st == SP_OK) st = collect(argc - optind - 1, argv + optind + 1, &l, &err);
    if (st == SP_OK && l.n == 0) {
        sp_log(SP_LOG_ERROR, "push: no DICOM file to send");
        rc = SP_EXIT_NO_SERIES;
        goto done;
    }
    if (st == SP_OK && !(res = calloc((size_t)l.n, sizeof *res))) st = sp_fail(&err, SP_ENOMEM, "out of memory");
    if (st == SP_OK) st = sp_dw_store(c, (const char *const *)l.v, l.n, res, &err);
    if (st != SP_OK && (!res || st == SP_ENOMEM)) {
        sp_log(SP_LOG_ERROR, "push: %s", err.msg);
        rc = st == SP_EINVAL ? SP_EXIT_USAGE : st == SP_ENOMEM ? SP_EXIT_NOMEM : SP_EXIT_IO;
        goto done;
    }
    int stored = 0;
    for (int i = 0; i < l.n; i++) {
        if (res[i].stored) stored++, sp_log(SP_LOG_INFO, "push: %s: stored", l.v[i]);
        else sp_log(SP_LOG_ERROR, "push: %s: %s", l.v[i], res[i].reason);
    }
    sp_log(SP_LOG_INFO, "push: %d files: %d stored, %d failed; %.1f s -> %s", l.n, stored, l.n - stored,
           sp_now() - t0, dopts.base_url);
    rc = stored == l.n ? SP_EXIT_OK : stored ? SP_EXIT_PARTIAL : SP_EXIT_IO;
done:
    for (int i = 0; i < l.n; i++) free(l.v[i]);
    free(l.v);
    free(res);
    sp_dw_free(c);
    return rc;
}
