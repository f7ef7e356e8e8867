/* batch.h - shared between `spinemet batch` and `spinemet merge`: the study
 * plan, the child processes, the on-disk state (atomic results, resume) and
 * the cohort outputs. Private to pipeline/ (docs/batch.md).
 *
 * Files: batch_plan.c (studies from a scan, ids, shards), batch_jobs.c (one
 * child `spinemet analyze` per study, timeouts), batch_state.c (lock, staging
 * folders, atomic commit with a DONE marker, cleanup on resume),
 * batch_cohort.c (cohort.csv), batch_json.c (batch.json), batch_progress.c
 * (progress bar / lines). None of these is called from a parallel region. */
#ifndef SP_BATCH_H
#define SP_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/sp_status.h"

/* ---- Studies --------------------------------------------------------- */

typedef enum sp_batch_status {
    SP_BATCH_PENDING = 0, /* not run (batch interrupted before it started) */
    SP_BATCH_DONE,        /* analysed by this run */
    SP_BATCH_SKIPPED,     /* complete from an earlier run (DONE marker), reused */
    SP_BATCH_FAILED,      /* no usable series, analyze failed or crashed */
    SP_BATCH_TIMEOUT      /* stopped after --timeout */
} sp_batch_status;

const char *sp_batch_status_name(sp_batch_status s);

#define SP_BATCH_ID_LEN 16 /* hex digits of the study id */

typedef struct sp_batch_study {
    char id[SP_BATCH_ID_LEN + 1]; /* hash of the study key; names every output */
    char study_uid[65];           /* empty when the scanner used a fallback key */
    char series_uid[65];          /* the series analysed (empty for NIfTI) */
    bool nifti;                   /* input is one NIfTI file: files[0] */
    int nfiles;                   /* files of the chosen series (owned paths) */
    char **files;
    sp_batch_status status;
    char reason[256];             /* why it failed / timed out; empty when done */
    double seconds;               /* wall time of its analyze */
    int exit_code;                /* analyze's exit code; -1 when none (signal, not run) */
} sp_batch_study;

typedef struct sp_batch_plan {
    int n;
    sp_batch_study *v;            /* sorted by id */
    int unusable_files;           /* files under ROOT in no study (not DICOM, no pixels, ...) */
} sp_batch_plan;

/* Scans root (as `spinemet scan`), groups series into studies by Study
 * Instance UID (the scanner's fallback key when it is empty), picks the
 * best-ranked series of each study and adds one study per NIfTI file. A study
 * without a usable series is in the plan already FAILED with the reason.
 * Returns SP_EIO when root cannot be read, SP_ENOMEM; *out is NULL then and
 * owned by the caller otherwise (sp_batch_plan_free). */
sp_status sp_batch_plan_build(const char *root, int threads, sp_batch_plan **out, sp_err *err);
void sp_batch_plan_free(sp_batch_plan *p);

/* Keeps only shard i of n (0-based): the studies whose index in id order is
 * i modulo n. */
void sp_batch_plan_shard(sp_batch_plan *p, int i, int n);

/* Parses "I/N" (0 <= I < N); SP_EINVAL with a message otherwise. */
sp_status sp_batch_parse_shard(const char *s, int *i, int *n, sp_err *err);

/* Shard from a Slurm array task's variables: i = (SLURM_ARRAY_TASK_ID -
 * _MIN) / _STEP (MIN default 0, STEP default 1), n = _COUNT, so --array=0-7,
 * 1-8 and 0-14:2 all give shards 0..7 of 8. Returns false with an empty
 * err->msg when SLURM_ARRAY_TASK_ID is not set; false with a message when the
 * variables are not numbers, COUNT is missing, ID is not MIN + a multiple of
 * STEP, the index is not below COUNT, or MAX (when set) does not fit a range
 * of COUNT tasks (an --array list such as 1,4,9). */
bool sp_batch_shard_from_env(int *i, int *n, sp_err *err);

/* The study id: 16 lowercase hex digits of the 64-bit FNV-1a hash of key.
 * After sp_batch_set_id_salt(salt) (batch --deidentify), of the key's
 * de-identified replacement instead (sp_report_deid_uid with that salt;
 * NULL salt = the built-in one), so that an id cannot be recomputed from the
 * original Study UID without the salt. */
void sp_batch_study_id(const char *key, char out[SP_BATCH_ID_LEN + 1]);
void sp_batch_set_id_salt(bool salted, const char *salt);

/* ---- Child processes -------------------------------------------------- */

typedef struct sp_batch_job {
    pid_t pid;                    /* 0 = slot free */
    int study;                    /* index into the plan */
    double started, term_at;      /* sp_now() at start / when SIGTERM was sent (0 = not) */
    bool timed_out;
    char tmpdir[4096];            /* where the child writes */
} sp_batch_job;

/* Starts this binary (/proc/self/exe) with argv, stdout and stderr to log_path, OMP_NUM_THREADS
 * = threads, in its own process group and killed if the batch dies
 * (PR_SET_PDEATHSIG). j->pid is set on success. */
sp_status sp_batch_job_start(sp_batch_job *j, char *const argv[], const char *log_path, int threads,
                             sp_err *err);

/* Non-blocking: true when the job ended, with *code its exit code, or -1
 * and *sig the signal. Past timeout seconds (0 = none) it sends SIGTERM,
 * then SIGKILL after a grace period, and sets j->timed_out. */
bool sp_batch_job_poll(sp_batch_job *j, double timeout, int *code, int *sig);

/* SIGKILLs the job's process group and reaps it. */
void sp_batch_job_kill(sp_batch_job *j);

/* ---- On-disk state ---------------------------------------------------- */

/* Creates outdir, studies/, logs/ and .work/, takes an exclusive lock on
 * outdir/.lock (SP_EIO when another batch holds it; *lock_fd stays open for
 * the batch's life), then removes stale studies/<id>.tmp-* folders, study
 * folders without DONE and .work/ leftovers. */
sp_status sp_batch_state_open(const char *outdir, int *lock_fd, sp_err *err);

/* True when outdir/studies/<id>/DONE and its report.csv exist; *seconds
 * from DONE (0 if unknown). */
bool sp_batch_state_done(const char *outdir, const char *id, double *seconds);

/* Removes outdir/studies/<id> (for --force). */
void sp_batch_state_forget(const char *outdir, const char *id);

/* Folder the child analyses: the NIfTI path itself, or .work/<id>/ holding
 * hard links (copies across file systems) of the study's chosen-series
 * files. path receives it (n bytes). */
sp_status sp_batch_state_stage(const char *outdir, const sp_batch_study *s, char *path, size_t n,
                               sp_err *err);

/* Publishes a finished study: fsyncs every file in tmpdir, renames it to
 * studies/<id>/, then writes studies/<id>/DONE (temporary name + rename,
 * fsynced) holding meta_json. Until DONE exists the study is not done. */
sp_status sp_batch_state_commit(const char *outdir, const char *id, const char *tmpdir,
                                const char *meta_json, sp_err *err);

/* Writes data to path through path.tmp-<pid> + fsync + rename. */
sp_status sp_batch_write_atomic(const char *path, const char *data, size_t len, sp_err *err);

/* rm -rf path (best effort; does not follow symlinks). */
void sp_batch_rmtree(const char *path);

/* ---- Outputs ---------------------------------------------------------- */

typedef struct sp_cohort sp_cohort;

sp_cohort *sp_cohort_new(void);
void sp_cohort_free(sp_cohort *c);

/* Adds every row of a study's report.csv under study id. The first file
 * read fixes the columns; later files are matched by column name. */
sp_status sp_cohort_add_report(sp_cohort *c, const char *id, const char *csv_path, sp_err *err);

/* Adds the rows of a cohort.csv (first column study_id). A study found in
 * several files keeps the rows of the first file added (merge dedupe). */
sp_status sp_cohort_add_cohort(sp_cohort *c, const char *csv_path, sp_err *err);

/* Writes "study_id,<columns>" and the rows sorted by study id (rows of one
 * study keep their order), atomically. Sorts c's rows in place. */
sp_status sp_cohort_write(sp_cohort *c, const char *path, sp_err *err);

typedef struct sp_batch_run_info {
    const char *root;             /* NULL to omit (--deidentify) */
    int shard_i, shard_n;
    int jobs, threads;
    double timeout, seconds;
    bool deidentify;
    bool interrupted;
} sp_batch_run_info;

/* Writes batch.json atomically: the run's settings, counts and one object
 * per study {id, study_uid, status, reason, seconds, exit_code}. */
sp_status sp_batch_write_json(const char *path, const sp_batch_plan *p, const sp_batch_run_info *ri,
                              sp_err *err);

/* Counts studies per status into counts[5] (indexed by sp_batch_status). */
void sp_batch_count(const sp_batch_plan *p, int counts[5]);

/* ---- Progress ----------------------------------------------------------- */

typedef struct sp_batch_progress {
    bool tty, quiet;
    int total, finished, failed, kept; /* kept: from an earlier run (not in the estimate) */
    double t0, last_draw;
} sp_batch_progress;

void sp_batch_progress_init(sp_batch_progress *pg, int total, bool quiet);
/* One study finished (done/skipped or failed/timeout): a line (not a TTY) or
 * a redrawn bar (TTY). */
void sp_batch_progress_study(sp_batch_progress *pg, const sp_batch_study *s);
/* Redraws the bar at most once a second (TTY only). */
void sp_batch_progress_tick(sp_batch_progress *pg);
/* Ends the bar line (TTY only). */
void sp_batch_progress_end(sp_batch_progress *pg);

#endif
