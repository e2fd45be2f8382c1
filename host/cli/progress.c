/* progress.c - TTY-aware progress reporting on stderr for long runs. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

double xfiq_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void xfiq_progress_init(xfiq_progress *p, const char *what, long total, int quiet)
{
    p->what = what;
    p->total = total;
    p->done = 0;
    p->t0 = p->last = xfiq_now();
    p->tty = isatty(fileno(stderr));
    p->quiet = quiet;
    p->last_decile = 0;
}

static void draw(xfiq_progress *p, double now, int final)
{
    double el = now - p->t0, rate = el > 0 ? (double)p->done / el : 0;
    double eta = rate > 0 ? (double)(p->total - p->done) / rate : 0;
    int pct = p->total ? (int)(100.0 * (double)p->done / (double)p->total) : 100;
    if (p->tty) {
        char bar[31];
        int fill = pct * 30 / 100;
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r%s [%s] %ld/%ld %3d%%  %.1f/s  %s %.0fs  ", p->what, bar, p->done, p->total, pct, rate,
                final ? "took" : "eta", final ? el : eta);
        if (final)
            fputc('\n', stderr);
    } else {
        fprintf(stderr, "%s: %ld/%ld (%d%%) %.1f/s, %s %.0fs\n", p->what, p->done, p->total, pct, rate,
                final ? "took" : "eta", final ? el : eta);
    }
    fflush(stderr);
}

void xfiq_progress_update(xfiq_progress *p, long done)
{
    p->done = done;
    if (p->quiet)
        return;
    double now = xfiq_now();
    if (p->tty) {
        if (now - p->last >= 0.2) {
            draw(p, now, 0);
            p->last = now;
        }
        return;
    }
    int decile = p->total ? (int)(10 * done / p->total) : 10;
    if (decile > p->last_decile && now - p->last >= 2.0) {
        draw(p, now, 0);
        p->last = now;
        p->last_decile = decile;
    }
}

void xfiq_progress_finish(xfiq_progress *p)
{
    if (!p->quiet)
        draw(p, xfiq_now(), 1);
}
