/* log.c - sp_log() with a replaceable sink (SQLite SQLITE_CONFIG_LOG style). */
#include "sp_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

double sp_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static const char *level_name(sp_log_level l)
{
    switch (l) {
    case SP_LOG_ERROR: return "error";
    case SP_LOG_WARN: return "warning";
    case SP_LOG_INFO: return "info";
    case SP_LOG_DEBUG: return "debug";
    }
    return "log";
}

static void stderr_sink(void *user, sp_log_level lvl, const char *msg)
{
    (void)user;
    fprintf(stderr, "spinemet: %s: %s\n", level_name(lvl), msg);
}

static sp_log_sink g_sink = stderr_sink;
static void *g_user = NULL;
static sp_log_level g_max = SP_LOG_INFO;

void sp_log_set_sink(sp_log_sink fn, void *user)
{
    g_sink = fn ? fn : stderr_sink;
    g_user = fn ? user : NULL;
}

void sp_log_set_level(sp_log_level max_level) { g_max = max_level; }

void sp_log(sp_log_level lvl, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    if (lvl > g_max) return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g_sink(g_user, lvl, buf);
}
