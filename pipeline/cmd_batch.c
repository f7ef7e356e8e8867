/* cmd_batch.c - `spinemet batch ROOT -o OUTDIR`: analyse every study under
 * ROOT, several at a time, resumably, and gather one cohort.csv.
 *
 * DESIGN: the parent scans ROOT once (batch_plan.c), then keeps up to --jobs
 * children running, each a `spinemet analyze` of one study with
 * CPUs/jobs OpenMP threads (batch_jobs.c; CPUs: the affinity mask, capped
 * by SLURM_CPUS_PER_TASK), polling them every 50 ms for
 * exit and timeout. A child writes into studies/<id>.tmp-<pid>/; the parent
 * publishes it atomically with a DONE marker (batch_state.c), so a batch
 * killed at any moment restarts where it stopped. SIGINT/SIGTERM stop the
 * batch cleanly: children are killed, their studies stay "pending" in
 * batch.json, cohort.csv holds what finished. Docs: docs/batch.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "commands.h"
#include "core/sp_log.h"
#include "exit_codes.h"

static void batch_usage(FILE *f)
{
    fprintf(f,
            "usage: spinemet batch ROOT -o OUTDIR [--jobs N] [--threads N] [--timeout S]\n"
            "                      [--shard I/N] [--force] [--deidentify [--deid-salt S]] [--no-dicom-out]\n"
            "\n"
            "Finds every study under ROOT (the scan `spinemet scan` does; one study per\n"
            "Study Instance UID, one per NIfTI file), picks each study's series and runs\n"
            "`spinemet analyze` on it in a child process. A failing or hanging study is\n"
            "recorded and the batch goes on. Resumable: run the same command again after\n"
            "an interruption and finished studies are kept. Writes into OUTDIR:\n"
            "  cohort.csv          one row per vertebra per study (study_id + report.csv columns)\n"
            "  batch.json          per study: id, study_uid, status, reason, seconds, exit_code\n"
            "  studies/<id>/       analyze's outputs; <id> = hash of the Study UID (docs/batch.md)\n"
            "  logs/<id>.log       analyze's messages\n"
            "\noptions:\n"
            "  -o, --output DIR    output folder (created if missing; required)\n"
            "  -j, --jobs N        studies analysed at once (default: CPUs / 2, at least 2)\n"
            "  --threads N         OpenMP threads per study (default: CPUs / jobs, at least 1)\n"
            "                      CPUs: those this process may run on (taskset, cgroup cpuset,\n"
            "                      Slurm), at most SLURM_CPUS_PER_TASK when it is set\n"
            "  --timeout S         stop a study after S seconds (default 1800; 0 = never)\n"
            "  --shard I/N         only shard I of N (0-based); default in a Slurm array task:\n"
            "                      I = (SLURM_ARRAY_TASK_ID - _MIN) / _STEP, N = _COUNT;\n"
            "                      --shard 0/1 runs everything; combine with `spinemet merge`\n"
            "  --force             recompute studies that are already done\n"
            "  --deidentify        passed to analyze; batch.json without Study UIDs and ROOT;\n"
            "                      study ids hash the salted UID mapping, not the Study UID\n"
            "  --deid-salt S       the salt of that mapping (default: $SPINEMET_DEID_SALT, else\n"
            "                      built-in); reaches each analyze through its environment,\n"
            "                      not its command line; keep it the same across shards\n"
            "  --no-dicom-out      passed to analyze (no seg.dcm / sr.dcm)\n"
            "\nexit codes: 0 every study done, 7 batch finished but some studies failed, timed\n"
            "out or were not run (batch.json says which), 1 usage, 2 i/o, 3 no study found\n");
}

typedef struct batch_opts {
    const char *root, *outdir;
    int jobs, threads;
    double timeout;
    int shard_i, shard_n;
    bool force, deidentify, no_dicom;
    const char *deid_salt;
} batch_opts;

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* True when INFO messages get through (-q not given). */
static bool info_seen;
static void probe_sink(void *user, sp_log_level lvl, const char *msg)
{
    (void)user, (void)lvl, (void)msg;
    info_seen = true;
}
static bool info_enabled(void)
{
    info_seen = false;
    sp_log_set_sink(probe_sink, NULL);
    sp_log(SP_LOG_INFO, "probe");
    sp_log_set_sink(NULL, NULL);
    return info_seen;
}

/* A number >= 0 from an option argument; -1 when it is not one. */
static double number(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    return end == s || *end || !(v >= 0) ? -1 : v; /* NaN too */
}

static int parse_args(int argc, char **argv, batch_opts *o)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'}, {"jobs", required_argument, NULL, 'j'},
        {"threads", required_argument, NULL, 't'}, {"timeout", required_argument, NULL, 'T'},
        {"shard", required_argument, NULL, 's'},  {"force", no_argument, NULL, 'f'},
        {"deidentify", no_argument, NULL, 'd'},   {"no-dicom-out", no_argument, NULL, 'n'},
        {"deid-salt", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},         {0, 0, 0, 0}};
    const char *shard = NULL;
    sp_err err = {0};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "ho:j:", opts, NULL)) != -1) {
        if (c == 'o') o->outdir = optarg;
        else if (c == 'j') o->jobs = number(optarg) > 4096 ? -1 : (int)number(optarg);
        else if (c == 't') o->threads = number(optarg) > 4096 ? -1 : (int)number(optarg);
        else if (c == 'T') o->timeout = number(optarg);
        else if (c == 's') shard = optarg;
        else if (c == 'f') o->force = true;
        else if (c == 'd') o->deidentify = true;
        else if (c == 'S') o->deid_salt = optarg;
        else if (c == 'n') o->no_dicom = true;
        else if (c == 'h') return batch_usage(stdout), -1;
        else return batch_usage(stderr), SP_EXIT_USAGE;
    }
    if (optind != argc - 1 || !o->outdir || o->jobs < 0 || o->threads < 0 || o->timeout < 0) {
        if (o->jobs < 0 || o->threads < 0 || o->timeout < 0) sp_log(SP_LOG_ERROR, "--jobs and --threads want 0..4096, --timeout seconds >= 0");
        return batch_usage(stderr), SP_EXIT_USAGE;
    }
    o->root = argv[optind];
    if (o->deid_salt && (!o->deidentify || !o->deid_salt[0])) {
        sp_log(SP_LOG_ERROR, "--deid-salt needs --deidentify and a non-empty salt");
        return SP_EXIT_USAGE;
    }
    if (o->deidentify) {
        /* The children read the salt from the environment: a command line is
         * visible to every user in ps. */
        if (o->deid_salt && setenv("SPINEMET_DEID_SALT", o->deid_salt, 1) != 0) return SP_EXIT_INTERNAL;
        const char *env = getenv("SPINEMET_DEID_SALT");
        sp_batch_set_id_salt(true, env && env[0] ? env : NULL);
    }
    if (shard && sp_batch_parse_shard(shard, &o->shard_i, &o->shard_n, &err) != SP_OK) {
        sp_log(SP_LOG_ERROR, "%s", err.msg);
        return SP_EXIT_USAGE;
    }
    if (!shard && !sp_batch_shard_from_env(&o->shard_i, &o->shard_n, &err) && err.msg[0]) {
        sp_log(SP_LOG_ERROR, "%s", err.msg);
        return SP_EXIT_USAGE;
    }
    return 0;
}

/* The CPUs this process may run on: its affinity mask (taskset, a cgroup
 * cpuset, Slurm's CPU binding), at most SLURM_CPUS_PER_TASK when that is set;
 * all online cores when the mask cannot be read. A CPU quota (cgroup cpu.max,
 * docker --cpus) is not a mask and is not seen. */
static long usable_cpus(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    /* the mask may be wider than cpu_set_t (more than 1024 CPUs): grow until it fits */
    for (int ncpu = 1024; ncpu <= (1 << 20); ncpu *= 2) {
        cpu_set_t *set = CPU_ALLOC((size_t)ncpu);
        size_t size = CPU_ALLOC_SIZE((size_t)ncpu);
        if (!set) break;
        int rc = sched_getaffinity(0, size, set), n = rc == 0 ? CPU_COUNT_S(size, set) : 0;
        CPU_FREE(set);
        if (rc == 0 && n > 0) cpus = n;
        if (rc == 0 || errno != EINVAL) break;
    }
    const char *slurm = getenv("SLURM_CPUS_PER_TASK");
    char *end;
    long per_task = slurm && *slurm ? strtol(slurm, &end, 10) : 0;
    if (per_task > 0 && !*end && per_task < cpus) cpus = per_task;
    return cpus < 1 ? 1 : cpus;
}

/* Jobs and threads per job from the usable CPUs. */
static void size_jobs(batch_opts *o)
{
    long cores = usable_cpus();
    /* 2 jobs beat 1 job x 2 threads on 2 cores (docs/batch.md, Throughput):
     * an analysis has serial stretches that another study fills. */
    if (o->jobs == 0) o->jobs = cores / 2 > 2 ? (int)(cores / 2) : 2;
    if (o->threads == 0) o->threads = cores / o->jobs > 1 ? (int)(cores / o->jobs) : 1;
}

/* Marks studies already done (or forgets them with --force). */
static void resume(const batch_opts *o, sp_batch_plan *p)
{
    int kept = 0;
    for (int i = 0; i < p->n; i++) {
        sp_batch_study *s = &p->v[i];
        if (s->status != SP_BATCH_PENDING) continue;
        if (o->force) sp_batch_state_forget(o->outdir, s->id);
        else if (sp_batch_state_done(o->outdir, s->id, &s->seconds)) s->status = SP_BATCH_SKIPPED, s->exit_code = 0, kept++;
    }
    if (kept) sp_log(SP_LOG_INFO, "batch: %d of %d studies already done in an earlier run; kept (--force recomputes)", kept, p->n);
}

/* The last non-empty line of a log, as a failure reason. */
static void log_tail(const char *path, char *out, size_t n)
{
    char buf[2048];
    FILE *f = fopen(path, "rb");
    out[0] = '\0';
    if (!f) return;
    if (fseek(f, 0, SEEK_END) == 0) {
        long sz = ftell(f);
        fseek(f, sz > (long)sizeof buf - 1 ? sz - (long)sizeof buf + 1 : 0, SEEK_SET);
    }
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ')) len--;
    buf[len] = '\0';
    const char *line = strrchr(buf, '\n');
    line = line ? line + 1 : buf;
    if (!strncmp(line, "spinemet: error: ", 17)) line += 17;
    snprintf(out, n, "%s", line);
}

static void study_paths(const batch_opts *o, const sp_batch_study *s, char *log, size_t nlog, char *work, size_t nwork)
{
    snprintf(log, nlog, "%s/logs/%s.log", o->outdir, s->id);
    snprintf(work, nwork, "%s/.work/%s", o->outdir, s->id);
}

/* Stages a study's input and starts its child; on failure the study is FAILED. */
static void launch(const batch_opts *o, sp_batch_study *s, sp_batch_job *j)
{
    char input[4096], log[4200], work[4200], threads[16];
    sp_err err = {0};
    sp_status st = sp_batch_state_stage(o->outdir, s, input, sizeof input, &err);
    snprintf(j->tmpdir, sizeof j->tmpdir, "%s/studies/%s.tmp-%ld", o->outdir, s->id, (long)getpid());
    sp_batch_rmtree(j->tmpdir);
    if (st == SP_OK && mkdir(j->tmpdir, 0777) != 0)
        st = sp_fail(&err, SP_EIO, "%s: cannot create (%s)", j->tmpdir, strerror(errno));
    snprintf(threads, sizeof threads, "%d", o->threads);
    char *argv[12] = {"spinemet", "analyze", input, "-o", j->tmpdir, "--threads", threads};
    int k = 7;
    if (o->deidentify) argv[k++] = "--deidentify";
    if (o->no_dicom) argv[k++] = "--no-dicom-out";
    argv[k] = NULL;
    study_paths(o, s, log, sizeof log, work, sizeof work);
    if (st == SP_OK) st = sp_batch_job_start(j, argv, log, o->threads, &err);
    if (st != SP_OK) {
        s->status = SP_BATCH_FAILED;
        snprintf(s->reason, sizeof s->reason, "could not start: %s", err.msg);
        sp_batch_rmtree(j->tmpdir);
        sp_batch_rmtree(work);
        j->pid = 0;
    }
}

/* Publishes a child's result, or records why there is none. */
static void finish(const batch_opts *o, sp_batch_study *s, sp_batch_job *j, int code, int sig)
{
    char log[4200], work[4200], tail[200], p[4300], meta[256];
    struct stat sb;
    sp_err err = {0};
    s->seconds = sp_now() - j->started;
    s->exit_code = code;
    study_paths(o, s, log, sizeof log, work, sizeof work);
    log_tail(log, tail, sizeof tail);
    snprintf(p, sizeof p, "%s/report.csv", j->tmpdir);
    if (j->timed_out) {
        s->status = SP_BATCH_TIMEOUT;
        snprintf(s->reason, sizeof s->reason, "stopped after %g s (--timeout)", o->timeout);
    } else if (sig) {
        s->status = SP_BATCH_FAILED;
        snprintf(s->reason, sizeof s->reason, "analyze crashed (signal %d, %s)%s%s", sig, strsignal(sig),
                 tail[0] ? ": " : "", tail);
    } else if (code != 0) {
        s->status = SP_BATCH_FAILED;
        snprintf(s->reason, sizeof s->reason, "analyze exit %d: %s", code, tail[0] ? tail : "(no message)");
    } else if (stat(p, &sb) != 0) {
        s->status = SP_BATCH_FAILED;
        snprintf(s->reason, sizeof s->reason, "analyze exit 0 but wrote no report.csv");
    } else {
        snprintf(meta, sizeof meta, "{\"id\": \"%s\", \"status\": \"done\", \"seconds\": %.2f, \"finished\": %ld}\n",
                 s->id, s->seconds, (long)time(NULL));
        if (sp_batch_state_commit(o->outdir, s->id, j->tmpdir, meta, &err) == SP_OK) s->status = SP_BATCH_DONE;
        else s->status = SP_BATCH_FAILED, snprintf(s->reason, sizeof s->reason, "%s", err.msg);
    }
    if (s->status != SP_BATCH_DONE) sp_batch_rmtree(j->tmpdir);
    sp_batch_rmtree(work);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Runs every pending study, at most o->jobs at a time. */
static void run_all(const batch_opts *o, sp_batch_plan *p, sp_batch_progress *pg)
{
    sp_batch_job *jobs = calloc((size_t)o->jobs, sizeof *jobs);
    int next = 0, running = 0;
    if (!jobs) return;
    for (;;) {
        for (int k = 0; k < o->jobs && !stop_requested; k++) {
            while (!jobs[k].pid && next < p->n) {
                sp_batch_study *s = &p->v[next++];
                if (s->status != SP_BATCH_PENDING) continue;
                jobs[k].study = next - 1;
                launch(o, s, &jobs[k]);
                if (jobs[k].pid) running++;
                else sp_batch_progress_study(pg, s);
            }
        }
        if (!running || stop_requested) break;
        for (int k = 0; k < o->jobs; k++) {
            int code, sig;
            if (!jobs[k].pid || !sp_batch_job_poll(&jobs[k], o->timeout, &code, &sig)) continue;
            running--;
            finish(o, &p->v[jobs[k].study], &jobs[k], code, sig);
            sp_batch_progress_study(pg, &p->v[jobs[k].study]);
        }
        sp_batch_progress_tick(pg);
        if (running) sleep_ms(50);
    }
    for (int k = 0; k < o->jobs; k++) { /* interrupted: these stay pending */
        if (!jobs[k].pid) continue;
        char log[4200], work[4200];
        sp_batch_job_kill(&jobs[k]);
        sp_batch_rmtree(jobs[k].tmpdir);
        study_paths(o, &p->v[jobs[k].study], log, sizeof log, work, sizeof work);
        sp_batch_rmtree(work);
    }
    free(jobs);
}

/* cohort.csv from every finished study of this run's plan. A result whose
 * report.csv cannot be read becomes a failed study (and is redone next run). */
static sp_status write_cohort(const batch_opts *o, sp_batch_plan *p, sp_err *err)
{
    char path[4200];
    sp_status st = SP_OK;
    sp_cohort *c = sp_cohort_new();
    if (!c) return sp_fail(err, SP_ENOMEM, "out of memory");
    for (int i = 0; i < p->n && st != SP_ENOMEM; i++) {
        sp_batch_study *s = &p->v[i];
        if (s->status != SP_BATCH_DONE && s->status != SP_BATCH_SKIPPED) continue;
        snprintf(path, sizeof path, "%s/studies/%s/report.csv", o->outdir, s->id);
        if ((st = sp_cohort_add_report(c, s->id, path, err)) == SP_OK || st == SP_ENOMEM) continue;
        sp_log(SP_LOG_WARN, "%s", err->msg);
        s->status = SP_BATCH_FAILED;
        snprintf(s->reason, sizeof s->reason, "result unreadable: %s", err->msg);
        sp_batch_state_forget(o->outdir, s->id);
    }
    if (st != SP_ENOMEM) st = SP_OK;
    snprintf(path, sizeof path, "%s/cohort.csv", o->outdir);
    if (st == SP_OK) st = sp_cohort_write(c, path, err);
    sp_cohort_free(c);
    return st;
}

static int summarize(const batch_opts *o, const sp_batch_plan *p, double seconds)
{
    int n[5];
    sp_batch_count(p, n);
    sp_log(SP_LOG_INFO, "batch: %d studies: %d done, %d kept from an earlier run, %d failed, %d timed out, %d not run; %.1f s -> %s/cohort.csv",
           p->n, n[SP_BATCH_DONE], n[SP_BATCH_SKIPPED], n[SP_BATCH_FAILED], n[SP_BATCH_TIMEOUT],
           n[SP_BATCH_PENDING], seconds, o->outdir);
    return n[SP_BATCH_DONE] + n[SP_BATCH_SKIPPED] == p->n ? SP_EXIT_OK : SP_EXIT_PARTIAL;
}

/* OUTDIR inside ROOT would be scanned as input on the next run. */
static bool out_inside_root(const batch_opts *o)
{
    char r[4096], d[4096];
    if (!realpath(o->root, r) || !realpath(o->outdir, d)) return false;
    size_t n = strlen(r);
    return !strcmp(r, d) || (!strncmp(r, d, n) && (d[n] == '/' || (n == 1 && r[0] == '/')));
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

int sp_cmd_batch(int argc, char **argv)
{
    batch_opts o = {.timeout = 1800, .shard_n = 1};
    sp_batch_plan *p = NULL;
    sp_batch_progress pg;
    sp_err err = {0};
    struct stat sb;
    int lock = -1, rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? SP_EXIT_OK : rc;
    size_jobs(&o);
    double t0 = sp_now();
    if (stat(o.root, &sb) != 0) {
        sp_log(SP_LOG_ERROR, "%s: %s", o.root, strerror(errno));
        return SP_EXIT_IO;
    }
    bool created = mkdir(o.outdir, 0777) == 0;
    if (out_inside_root(&o)) {
        if (created) rmdir(o.outdir);
        sp_log(SP_LOG_ERROR, "%s is inside %s: its outputs would be read as input; choose another -o", o.outdir, o.root);
        return SP_EXIT_USAGE;
    }
    sp_status st = sp_batch_state_open(o.outdir, &lock, &err);
    if (st == SP_OK) st = sp_batch_plan_build(o.root, o.jobs * o.threads, &p, &err);
    if (st == SP_OK && p->n == 0) st = sp_fail(&err, SP_EDICOM, "%s: no study with an image series found", o.root);
    if (st != SP_OK) goto done;
    sp_batch_plan_shard(p, o.shard_i, o.shard_n);
    sp_log(SP_LOG_INFO, "batch: %d studies%s, %d jobs x %d threads", p->n, o.shard_n > 1 ? " in this shard" : "",
           o.jobs, o.threads);
    resume(&o, p);
    install_signals();
    sp_batch_progress_init(&pg, p->n, !info_enabled());
    for (int i = 0; i < p->n; i++) /* planned failures and kept results count as finished */
        if (p->v[i].status != SP_BATCH_PENDING) sp_batch_progress_study(&pg, &p->v[i]);
    run_all(&o, p, &pg);
    sp_batch_progress_end(&pg);
    char path[4200];
    sp_batch_run_info ri = {o.root, o.shard_i, o.shard_n, o.jobs, o.threads, o.timeout, sp_now() - t0,
                            o.deidentify, stop_requested != 0};
    snprintf(path, sizeof path, "%s/batch.json", o.outdir);
    st = write_cohort(&o, p, &err);
    if (st == SP_OK) st = sp_batch_write_json(path, p, &ri, &err);
    if (st == SP_OK) rc = summarize(&o, p, ri.seconds);
done:
    if (st != SP_OK) {
        sp_log(SP_LOG_ERROR, "%s", err.msg[0] ? err.msg : sp_status_str(st));
        rc = sp_exit_code(st);
    }
    if (lock >= 0) {
        char work[4200];
        snprintf(work, sizeof work, "%s/.work", o.outdir);
        rmdir(work); /* empty unless interrupted mid-stage; cleaned on the next start */
        close(lock);
    }
    sp_batch_plan_free(p);
    return rc;
}
