/* cmd_pull.c - `spinemet pull URL -o DIR`: find studies on a DICOMweb
 * server (QIDO-RS) and retrieve each (WADO-RS) into DIR/<study id>/.
 *
 * DESIGN: <study id> is batch's id (16 hex digits of the FNV-1a hash of the
 * Study Instance UID, docs/batch.md), so folder names carry no patient data
 * and `spinemet batch DIR` names its results the same way. A study is
 * retrieved into DIR/.<id>.partial/ (every file fsynced) and renamed to
 * DIR/<id>/ when complete: a study folder exists only when whole, which
 * makes a rerun skip it (resume). One study failing does not stop the
 * others. A lock on DIR/.pull.lock keeps two pulls out of the same DIR. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sp_fs.h"
#include "batch.h"
#include "commands.h"
#include "core/sp_log.h"
#include "exit_codes.h"
#include "net/sp_net.h"

#define PULL_MAX_STUDY_ARGS 256

static void pull_usage(FILE *f)
{
    fprintf(f,
            "usage: spinemet pull URL -o DIR [--study UID]... [--patient-id ID] [--modality CT]\n"
            "                     [--study-date YYYYMMDD[-YYYYMMDD]] [--accession N] [--all]\n"
            "                     [--user USER:PASSWORD] [--timeout S]\n"
            "\n"
            "Retrieves studies from a DICOMweb server (a PACS, Orthanc, dcm4chee, ...).\n"
            "URL is the DICOMweb root, e.g. http://pacs:8042/dicom-web. With only --study,\n"
            "those studies are retrieved; with any other filter, the studies that match\n"
            "(QIDO-RS search; several --study give the union). Each study is retrieved\n"
            "whole (WADO-RS, files as stored, no transcoding) into\n"
            "  DIR/<id>/<SOP Instance UID>.dcm\n"
            "where <id> = 16 hex digits of the hash of the Study Instance UID, the study\n"
            "id `spinemet batch` uses. A study folder appears only when complete; a study\n"
            "already in DIR is skipped, so a rerun resumes. One failing study does not\n"
            "stop the others. Then `spinemet batch DIR -o OUT` analyses them.\n"
            "\noptions:\n"
            "  -o, --output DIR      where studies go (created if missing; required)\n"
            "  --study UID           a Study Instance UID (repeatable)\n"
            "  --patient-id ID       QIDO filter PatientID (never logged)\n"
            "  --modality M          QIDO filter ModalitiesInStudy, e.g. CT\n"
            "  --study-date D        QIDO filter StudyDate: YYYYMMDD or a range YYYYMMDD-YYYYMMDD\n"
            "  --accession N         QIDO filter AccessionNumber\n"
            "  --all                 every study on the server (no filter: be sure)\n"
            "  --user USER:PASSWORD  HTTP basic auth (or env SPINEMET_DICOMWEB_USER,\n"
            "                        which other users cannot see in the process list)\n"
            "  --timeout S           give up connecting after S s, and a transfer that\n"
            "                        receives nothing for S s (default 60)\n"
            "\nexit codes: 0 every study retrieved or already present, 7 some failed,\n"
            "2 server unreachable or every study failed, 3 no study matched, 1 usage\n"
            "(docs/pacs.md)\n");
}

typedef struct pull_opts {
    const char *url, *outdir, *userpwd;
    char *user_arg; /* --user's argv string, masked once copied */
    const char *studies[PULL_MAX_STUDY_ARGS];
    int nstudies;
    sp_dw_query q; /* filters other than the study UID */
    bool all;
    long timeout;
} pull_opts;

static int parse_args(int argc, char **argv, pull_opts *o)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},   {"study", required_argument, NULL, 's'},
        {"patient-id", required_argument, NULL, 'p'}, {"modality", required_argument, NULL, 'm'},
        {"study-date", required_argument, NULL, 'd'}, {"accession", required_argument, NULL, 'a'},
        {"all", no_argument, NULL, 'A'},             {"user", required_argument, NULL, 'u'},
        {"timeout", required_argument, NULL, 't'},   {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0}};
    int c;
    char *end;
    optind = 0;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        if (c == 'o') o->outdir = optarg;
        else if (c == 's' && o->nstudies < PULL_MAX_STUDY_ARGS) o->studies[o->nstudies++] = optarg;
        else if (c == 's') return sp_log(SP_LOG_ERROR, "at most %d --study", PULL_MAX_STUDY_ARGS), SP_EXIT_USAGE;
        else if (c == 'p') o->q.patient_id = optarg;
        else if (c == 'm') o->q.modality = optarg;
        else if (c == 'd') o->q.study_date = optarg;
        else if (c == 'a') o->q.accession = optarg;
        else if (c == 'A') o->all = true;
        else if (c == 'u') o->userpwd = o->user_arg = optarg;
        else if (c == 't') {
            o->timeout = strtol(optarg, &end, 10);
            if (end == optarg || *end || o->timeout < 1 || o->timeout > 86400)
                return sp_log(SP_LOG_ERROR, "--timeout wants whole seconds, 1..86400"), SP_EXIT_USAGE;
        } else if (c == 'h') return pull_usage(stdout), -1;
        else return pull_usage(stderr), SP_EXIT_USAGE;
    }
    if (optind != argc - 1 || !o->outdir) return pull_usage(stderr), SP_EXIT_USAGE;
    o->url = argv[optind];
    bool filters = o->q.patient_id || o->q.modality || o->q.study_date || o->q.accession;
    if (!filters && !o->nstudies && !o->all) {
        sp_log(SP_LOG_ERROR, "say which studies: --study, a filter (--patient-id, --modality, --study-date, --accession) or --all");
        return SP_EXIT_USAGE;
    }
    if (!o->userpwd) o->userpwd = getenv("SPINEMET_DICOMWEB_USER");
    return 0;
}

/* The Study UIDs to retrieve: the --study list as given, or the matches of
 * a QIDO-RS search (one per --study when filters come with them). */
static sp_status find_studies(sp_dw_client *c, const pull_opts *o, char ***uids, int *n, sp_err *err)
{
    bool filters = o->q.patient_id || o->q.modality || o->q.study_date || o->q.accession;
    *uids = NULL, *n = 0;
    if (o->nstudies && !filters) {
        if (!(*uids = calloc((size_t)o->nstudies, sizeof **uids))) return sp_fail(err, SP_ENOMEM, "out of memory");
        for (int i = 0; i < o->nstudies; i++) {
            bool dup = false;
            for (int k = 0; k < *n; k++) dup = dup || !strcmp((*uids)[k], o->studies[i]);
            if (dup) continue;
            if (!((*uids)[*n] = strdup(o->studies[i]))) return sp_fail(err, SP_ENOMEM, "out of memory");
            (*n)++;
        }
        return SP_OK;
    }
    for (int i = 0; i < (o->nstudies ? o->nstudies : 1); i++) {
        sp_dw_query q = o->q;
        char **found;
        int nf;
        q.study_uid = o->nstudies ? o->studies[i] : NULL;
        sp_status st = sp_dw_search_studies(c, &q, &found, &nf, err);
        if (st != SP_OK) return st;
        char **all = realloc(*uids, (size_t)(*n + nf + 1) * sizeof *all);
        if (!all) {
            sp_dw_strings_free(found, nf);
            return sp_fail(err, SP_ENOMEM, "out of memory");
        }
        *uids = all;
        for (int k = 0; k < nf; k++) {
            bool dup = false;
            for (int j = 0; j < *n; j++) dup = dup || !strcmp(all[j], found[k]);
            if (dup) free(found[k]);
            else all[(*n)++] = found[k];
        }
        free(found);
    }
    return SP_OK;
}

typedef struct pull_counts {
    int retrieved, present, failed, files;
    sp_status first_failure;
} pull_counts;

/* fsync of a folder, so that renames in it are on disk. */
static bool sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = fsync(fd) == 0;
    close(fd);
    return ok;
}

/* Retrieves one study into DIR/<id>/ by way of DIR/.<id>.partial/;
 * false when it failed. */
static bool pull_one(sp_dw_client *c, const pull_opts *o, const char *uid, int k, int n, pull_counts *pc)
{
    char id[SP_BATCH_ID_LEN + 1], final[4200], part[4200];
    struct stat sb;
    sp_err err = {0};
    int files = 0;
    sp_batch_study_id(uid, id);
    snprintf(final, sizeof final, "%s/%s", o->outdir, id);
    snprintf(part, sizeof part, "%s/.%s.partial", o->outdir, id);
    if (stat(final, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        sp_log(SP_LOG_INFO, "pull: %d/%d study %s: already in %s, skipped", k, n, uid, final);
        pc->present++;
        return true;
    }
    sp_batch_rmtree(part); /* left by an interrupted run */
    sp_status st = mkdir(part, 0777) == 0 ? SP_OK : sp_fail(&err, SP_EIO, "%s: cannot create (%s)", part, strerror(errno));
    double t0 = sp_now();
    if (st == SP_OK) st = sp_dw_retrieve_study(c, uid, part, &files, &err);
    if (st == SP_OK && !sync_dir(part)) st = sp_fail(&err, SP_EIO, "%s: cannot sync (%s)", part, strerror(errno));
    if (st == SP_OK && rename(part, final) != 0)
        st = sp_fail(&err, SP_EIO, "%s: cannot rename to %s (%s)", part, final, strerror(errno));
    if (st == SP_OK) sync_dir(o->outdir); /* the rename itself; a failure here costs only a refetch */
    if (st != SP_OK) {
        sp_batch_rmtree(part);
        sp_log(SP_LOG_ERROR, "pull: %d/%d study %s: %s", k, n, uid, err.msg);
        if (!pc->failed++) pc->first_failure = st;
        return false;
    }
    sp_log(SP_LOG_INFO, "pull: %d/%d study %s: %d files in %.1f s -> %s", k, n, uid, files, sp_now() - t0, final);
    pc->retrieved++;
    pc->files += files;
    return true;
}

/* Holds DIR/.pull.lock for the process' life; -1 when another pull has it. */
static int lock_dir(const char *dir, sp_err *err)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/.pull.lock", dir);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return sp_fail(err, SP_EIO, "%s: cannot create (%s)", p, strerror(errno)), -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return sp_fail(err, SP_EIO, "%s: another `spinemet pull` is writing into this folder", dir), -1;
    }
    return fd;
}

int sp_cmd_pull(int argc, char **argv)
{
    pull_opts o = {.timeout = 60};
    sp_dw_client *c = NULL;
    sp_err err = {0};
    char **uids = NULL;
    int n = 0, lock = -1, rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? SP_EXIT_OK : rc;
    double t0 = sp_now();
    sp_dw_opts dopts = {o.url, o.userpwd, o.timeout};
    sp_status st = sp_dw_new(&dopts, &c, &err);
    sp_net_mask_password(o.user_arg);
    if (st == SP_OK) st = sp_mkdir_p(o.outdir, &err);
    if (st == SP_OK && (lock = lock_dir(o.outdir, &err)) < 0) st = SP_EIO;
    if (st == SP_OK) st = find_studies(c, &o, &uids, &n, &err);
    if (st == SP_OK && n == 0) {
        sp_log(SP_LOG_ERROR, "pull: %s: no study matches", o.url);
        rc = SP_EXIT_NO_SERIES;
        goto done;
    }
    if (st != SP_OK) {
        sp_log(SP_LOG_ERROR, "pull: %s", err.msg);
        rc = st == SP_EINVAL ? SP_EXIT_USAGE : st == SP_ENOMEM ? SP_EXIT_NOMEM : SP_EXIT_IO;
        goto done;
    }
    sp_log(SP_LOG_INFO, "pull: %d %s from %s", n, n == 1 ? "study" : "studies", o.url);
    pull_counts pc = {0};
    for (int i = 0; i < n; i++) {
        bool ok = pull_one(c, &o, uids[i], i + 1, n, &pc);
        if (!ok && i + 1 < n && sp_dw_unreachable(c)) { /* do not wait out a timeout per study */
            sp_log(SP_LOG_ERROR, "pull: %s does not answer; the other %d studies are not tried", o.url, n - i - 1);
            pc.failed += n - i - 1;
            break;
        }
    }
    sp_log(SP_LOG_INFO, "pull: %d %s: %d retrieved (%d files), %d already present, %d failed; %.1f s -> %s", n,
           n == 1 ? "study" : "studies", pc.retrieved, pc.files, pc.present, pc.failed, sp_now() - t0, o.outdir);
    if (pc.failed == 0) rc = SP_EXIT_OK;
    else if (pc.failed < n) rc = SP_EXIT_PARTIAL;
    else rc = pc.first_failure == SP_ENOMEM ? SP_EXIT_NOMEM : SP_EXIT_IO;
done:
    sp_dw_strings_free(uids, n);
    sp_dw_free(c);
    if (lock >= 0) close(lock);
    return rc;
}
