/* sp_log.h - one logging function and one replaceable sink.
 *
 * Library code never prints directly; it calls sp_log(). The default sink
 * writes "spinemet: level: message" to stderr. Never call from inside an
 * OpenMP parallel region (collect results, log after the region). */
#ifndef SP_LOG_H
#define SP_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sp_log_level {
    SP_LOG_ERROR = 0,
    SP_LOG_WARN = 1,
    SP_LOG_INFO = 2,
    SP_LOG_DEBUG = 3
} sp_log_level;

typedef void (*sp_log_sink)(void *user, sp_log_level lvl, const char *msg);

void sp_log(sp_log_level lvl, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Replaces the sink (NULL restores the stderr sink). Not thread-safe: call at start-up. */
void sp_log_set_sink(sp_log_sink fn, void *user);

/* Monotonic clock in seconds, for stage timings. */
double sp_now(void);

/* Messages above this level are dropped (default SP_LOG_INFO). */
void sp_log_set_level(sp_log_level max_level);

#ifdef __cplusplus
}
#endif
#endif
