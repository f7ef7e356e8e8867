/* batch_state.c - what a batch keeps on disk, and how it survives kill -9
 * and power loss.
 *
 * DESIGN: layout under OUTDIR:
 *   .lock                 flock()ed by the running batch (one batch per OUTDIR)
 *   .work/<id>/           links to the study's files (the child's input)
 *   studies/<id>.tmp-<pid>/  where the child writes
 *   studies/<id>/         a published result; complete only once DONE exists
 *   studies/<id>/DONE     small JSON (status, seconds), written last
 *   logs/<id>.log         the child's stdout and stderr
 * A result is published by fsyncing every file in the temporary folder,
 * renaming the folder, fsyncing studies/, then writing DONE through a
 * temporary name + fsync + rename + fsync of the folder. So after a crash at
 * any point a folder either has DONE and all its files, or lacks DONE and is
 * removed on the next start (with the .tmp-* folders and .work/). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "core/sp_log.h"

static sp_status mkdir_p1(const char *path, sp_err *err)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return sp_fail(err, SP_EIO, "%s: cannot create (%s)", path, strerror(errno));
    return SP_OK;
}

void sp_batch_rmtree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            char p[4096];
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            if (snprintf(p, sizeof p, "%s/%s", path, e->d_name) < (int)sizeof p) sp_batch_rmtree(p);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void fsync_path(const char *path, bool dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) return;
    fsync(fd);
    close(fd);
}

/* fsyncs every regular file and folder under path. */
static void fsync_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char p[4096];
        struct stat sb;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (snprintf(p, sizeof p, "%s/%s", path, e->d_name) >= (int)sizeof p || lstat(p, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode)) fsync_tree(p);
        else if (S_ISREG(sb.st_mode)) fsync_path(p, false);
    }
    if (d) closedir(d);
    fsync_path(path, true);
}

sp_status sp_batch_write_atomic(const char *path, const char *data, size_t len, sp_err *err)
{
    char tmp[4200], dir[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return sp_fail(err, SP_EIO, "%s: cannot create (%s)", tmp, strerror(errno));
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return sp_fail(err, SP_EIO, "%s: cannot write (%s)", tmp, strerror(e));
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return sp_fail(err, SP_EIO, "%s: cannot write (%s)", path, strerror(e));
    }
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    fsync_path(slash ? dir : ".", true);
    return SP_OK;
}

/* True when name is "<16 hex>" or "<16 hex>.tmp-<digits>"; *tmp tells which. */
static bool study_entry(const char *name, bool *tmp)
{
    size_t i = 0;
    for (; i < SP_BATCH_ID_LEN; i++)
        if (!name[i] || !strchr("0123456789abcdef", name[i])) return false;
    *tmp = name[i] != '\0';
    return name[i] == '\0' || !strncmp(name + i, ".tmp-", 5);
}

/* Removes studies/<id>.tmp-<pid> folders and studies/<id> without DONE. */
static void clean_studies(const char *studies)
{
    DIR *d = opendir(studies);
    struct dirent *e;
    int removed = 0;
    while (d && (e = readdir(d)) != NULL) {
        char p[4096], done[4200];
        bool tmp;
        struct stat sb;
        if (!study_entry(e->d_name, &tmp)) continue;
        snprintf(p, sizeof p, "%s/%s", studies, e->d_name);
        snprintf(done, sizeof done, "%s/DONE", p);
        if (tmp || stat(done, &sb) != 0) {
            sp_batch_rmtree(p);
            removed++;
        }
    }
    if (d) closedir(d);
    if (removed) sp_log(SP_LOG_INFO, "batch: removed %d incomplete result folder%s from an earlier run", removed,
                        removed == 1 ? "" : "s");
}

sp_status sp_batch_state_open(const char *outdir, int *lock_fd, sp_err *err)
{
    char p[4096];
    sp_status st = mkdir_p1(outdir, err);
    *lock_fd = -1;
    if (st != SP_OK) return st;
    snprintf(p, sizeof p, "%s/.lock", outdir);
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return sp_fail(err, SP_EIO, "%s: cannot create (%s)", p, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return sp_fail(err, SP_EIO, "%s: another batch is writing to this folder", outdir);
    }
    *lock_fd = fd;
    snprintf(p, sizeof p, "%s/.work", outdir);
    sp_batch_rmtree(p);
    if ((st = mkdir_p1(p, err)) != SP_OK) return st;
    snprintf(p, sizeof p, "%s/logs", outdir);
    if ((st = mkdir_p1(p, err)) != SP_OK) return st;
    snprintf(p, sizeof p, "%s/studies", outdir);
    if ((st = mkdir_p1(p, err)) != SP_OK) return st;
    clean_studies(p);
    return SP_OK;
}

bool sp_batch_state_done(const char *outdir, const char *id, double *seconds)
{
    char p[4200], buf[512];
    struct stat sb;
    *seconds = 0;
    snprintf(p, sizeof p, "%s/studies/%s/report.csv", outdir, id);
    if (stat(p, &sb) != 0) return false; /* DONE without its report (edited by hand): redo */
    snprintf(p, sizeof p, "%s/studies/%s/DONE", outdir, id);
    FILE *f = fopen(p, "rb");
    if (!f) return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *s = strstr(buf, "\"seconds\":");
    if (s) *seconds = strtod(s + 10, NULL);
    return true;
}

void sp_batch_state_forget(const char *outdir, const char *id)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/studies/%s", outdir, id);
    sp_batch_rmtree(p);
}

/* Hard link, or a copy when the link is refused (another file system). */
static sp_status link_or_copy(const char *from, const char *to, sp_err *err)
{
    char buf[65536];
    if (link(from, to) == 0) return SP_OK;
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) return sp_fail(err, SP_EIO, "%s: cannot read (%s)", from, strerror(errno));
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    sp_status st = SP_OK;
    ssize_t r;
    if (out < 0) st = sp_fail(err, SP_EIO, "%s: cannot create (%s)", to, strerror(errno));
    while (st == SP_OK && (r = read(in, buf, sizeof buf)) != 0) {
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 || write(out, buf, (size_t)r) != r) st = sp_fail(err, SP_EIO, "%s: cannot copy (%s)", from, strerror(errno));
    }
    close(in);
    if (out >= 0) close(out);
    return st;
}

sp_status sp_batch_state_stage(const char *outdir, const sp_batch_study *s, char *path, size_t n, sp_err *err)
{
    sp_status st = SP_OK;
    if (s->nifti) {
        snprintf(path, n, "%s", s->files[0]);
        return SP_OK;
    }
    snprintf(path, n, "%s/.work/%s", outdir, s->id);
    sp_batch_rmtree(path);
    if ((st = mkdir_p1(path, err)) != SP_OK) return st;
    for (int i = 0; i < s->nfiles && st == SP_OK; i++) {
        char to[4200];
        /* numbered names keep the files apart when two folders hold the same name */
        snprintf(to, sizeof to, "%s/%06d.dcm", path, i);
        st = link_or_copy(s->files[i], to, err);
    }
    return st;
}

sp_status sp_batch_state_commit(const char *outdir, const char *id, const char *tmpdir, const char *meta_json,
                                sp_err *err)
{
    char dst[4200], studies[4200], done[4300];
    snprintf(studies, sizeof studies, "%s/studies", outdir);
    snprintf(dst, sizeof dst, "%s/%s", studies, id);
    fsync_tree(tmpdir);
    sp_batch_rmtree(dst);
    if (rename(tmpdir, dst) != 0) return sp_fail(err, SP_EIO, "%s: cannot rename to %s (%s)", tmpdir, dst, strerror(errno));
    fsync_path(studies, true);
    snprintf(done, sizeof done, "%s/DONE", dst);
    return sp_batch_write_atomic(done, meta_json, strlen(meta_json), err);
}
