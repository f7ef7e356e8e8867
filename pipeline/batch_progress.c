/* batch_progress.c - how far a batch is: a one-line bar on a terminal
 * (studies done / total, failures, elapsed, estimate left), plain lines when
 * stderr is not a terminal (one per finished study, for log files).
 *
 * DESIGN: plain lines go through sp_log (INFO), so -q silences them; the bar
 * is terminal output of the CLI, like `spinemet scan`'s tables, written to
 * stderr directly and skipped when the caller says quiet. Studies kept from
 * an earlier run count as finished without a line each. The estimate
 * is elapsed / studies run so far * remaining, which already accounts for
 * --jobs; studies kept from an earlier run are not in it.
 * Study ids only, never patient data. */
#include <stdio.h>
#include <unistd.h>

#include "batch.h"
#include "core/sp_log.h"

static void hms(char *b, size_t n, double s)
{
    long t = s < 0 ? 0 : (long)(s + 0.5);
    if (t >= 3600) snprintf(b, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(b, n, "%02ld:%02ld", t / 60, t % 60);
}

static void eta(const sp_batch_progress *pg, double el, char *b, size_t n)
{
    int ran = pg->finished - pg->kept;
    if (ran <= 0 || pg->finished >= pg->total) snprintf(b, n, "--:--");
    else hms(b, n, el / ran * (pg->total - pg->finished));
}

void sp_batch_progress_init(sp_batch_progress *pg, int total, bool quiet)
{
    pg->tty = isatty(STDERR_FILENO) != 0;
    pg->quiet = quiet;
    pg->total = total;
    pg->finished = pg->failed = pg->kept = 0;
    pg->t0 = pg->last_draw = sp_now();
}

static void draw(sp_batch_progress *pg)
{
    char e[32], l[32], bar[31];
    double el = sp_now() - pg->t0;
    int w = pg->total ? (int)(30.0 * pg->finished / pg->total) : 30;
    for (int i = 0; i < 30; i++) bar[i] = i < w ? '#' : '.';
    bar[30] = '\0';
    hms(e, sizeof e, el);
    eta(pg, el, l, sizeof l);
    fprintf(stderr, "\r[%s] %d/%d studies, %d failed, %s elapsed, ~%s left ", bar, pg->finished, pg->total,
            pg->failed, e, l);
    fflush(stderr);
    pg->last_draw = sp_now();
}

void sp_batch_progress_study(sp_batch_progress *pg, const sp_batch_study *s)
{
    char e[32], l[32];
    pg->finished++;
    if (s->status == SP_BATCH_FAILED || s->status == SP_BATCH_TIMEOUT) pg->failed++;
    if (s->status == SP_BATCH_SKIPPED) pg->kept++;
    if (pg->quiet || s->status == SP_BATCH_SKIPPED) return;
    if (pg->tty) {
        draw(pg);
        return;
    }
    double el = sp_now() - pg->t0;
    hms(e, sizeof e, el);
    eta(pg, el, l, sizeof l);
    sp_log(SP_LOG_INFO, "batch: %d/%d %s %s (%.1f s)%s%s, %d failed, %s elapsed, ~%s left", pg->finished, pg->total,
            s->id, sp_batch_status_name(s->status), s->seconds, s->reason[0] ? ": " : "", s->reason, pg->failed, e,
            l);
}

void sp_batch_progress_tick(sp_batch_progress *pg)
{
    if (!pg->quiet && pg->tty && sp_now() - pg->last_draw >= 1.0) draw(pg);
}

void sp_batch_progress_end(sp_batch_progress *pg)
{
    if (!pg->quiet && pg->tty) {
        draw(pg);
        fputc('\n', stderr);
    }
}
