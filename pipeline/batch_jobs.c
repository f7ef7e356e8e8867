/* batch_jobs.c - one child process per study: start, poll, time out, kill.
 *
 * DESIGN: each study's `spinemet analyze` runs in its own process (fork +
 * exec of this very binary), so a crash, an abort or a runaway allocation
 * in one study ends that child only. Everything the child needs (argv, the
 * environment with OMP_NUM_THREADS) is built before fork(), because the
 * parent may have OpenMP threads and only async-signal-safe calls are
 * allowed between fork() and exec(). The child gets its own process group
 * (so a timeout kills anything it started) and PR_SET_PDEATHSIG = SIGKILL,
 * so a batch killed with SIGKILL does not leave analyses running. A timed-out
 * child gets SIGTERM, then SIGKILL after SP_BATCH_GRACE_S seconds. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch.h"
#include "core/sp_log.h"

#define SP_BATCH_GRACE_S 5.0

extern char **environ;

/* environ without OMP_NUM_THREADS, plus OMP_NUM_THREADS=threads; NULL on OOM. */
static char **child_env(int threads, char *omp, size_t omp_n)
{
    size_t n = 0, k = 0;
    while (environ[n]) n++;
    char **env = calloc(n + 2, sizeof *env);
    if (!env) return NULL;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "OMP_NUM_THREADS=", 16)) env[k++] = environ[i];
    snprintf(omp, omp_n, "OMP_NUM_THREADS=%d", threads > 0 ? threads : 1);
    env[k++] = omp;
    env[k] = NULL;
    return env;
}

sp_status sp_batch_job_start(sp_batch_job *j, char *const argv[], const char *log_path, int threads,
                             sp_err *err)
{
    char omp[64];
    pid_t parent = getpid();
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return sp_fail(err, SP_EIO, "%s: cannot create (%s)", log_path, strerror(errno));
    char **env = child_env(threads, omp, sizeof omp);
    if (!env) {
        close(fd);
        return sp_fail(err, SP_ENOMEM, "out of memory");
    }
    pid_t pid = fork();
    if (pid == 0) {
        /* Child: only async-signal-safe calls until exec. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127); /* the batch died before prctl */
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execve("/proc/self/exe", argv, env); /* this very binary, even if replaced on disk */
        _exit(127);
    }
    free(env);
    close(fd);
    if (pid < 0) return sp_fail(err, SP_EIO, "cannot start a child process (%s)", strerror(errno));
    setpgid(pid, pid); /* also from the parent, so a kill never races the child's setpgid */
    j->pid = pid;
    j->started = sp_now();
    j->term_at = 0;
    j->timed_out = false;
    return SP_OK;
}

bool sp_batch_job_poll(sp_batch_job *j, double timeout, int *code, int *sig)
{
    int ws;
    siginfo_t si;
    *code = -1, *sig = 0;
    /* Look without reaping: while the child is a zombie its pid (= its group
     * id) cannot be reused, so killing what it left in its group is safe. */
    memset(&si, 0, sizeof si);
    int r = waitid(P_PID, (id_t)j->pid, &si, WEXITED | WNOHANG | WNOWAIT);
    if (r == 0 && si.si_pid == j->pid) {
        kill(-j->pid, SIGKILL);
        while (waitpid(j->pid, &ws, 0) < 0 && errno == EINTR) {
        }
        if (WIFEXITED(ws)) *code = WEXITSTATUS(ws);
        else if (WIFSIGNALED(ws)) *sig = WTERMSIG(ws);
        j->pid = 0;
        return true;
    }
    if (r < 0 && errno != EINTR) { /* not our child any more: treat as lost */
        *sig = SIGKILL;
        j->pid = 0;
        return true;
    }
    double now = sp_now();
    if (timeout > 0 && !j->term_at && now - j->started > timeout) {
        j->timed_out = true;
        j->term_at = now;
        kill(-j->pid, SIGTERM);
    } else if (j->term_at && now - j->term_at > SP_BATCH_GRACE_S) {
        kill(-j->pid, SIGKILL);
    }
    return false;
}

void sp_batch_job_kill(sp_batch_job *j)
{
    int ws;
    if (!j->pid) return;
    kill(-j->pid, SIGKILL);
    while (waitpid(j->pid, &ws, 0) < 0 && errno == EINTR) {
    }
    j->pid = 0;
}
