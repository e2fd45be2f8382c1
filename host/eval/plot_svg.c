/* plot_svg.c - ROC, DET and EDC plots as plain SVG (log-scaled FMR axis for
 * ROC/DET), written atomically. Curves with millions of points are thinned
 * to the pixels they touch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/afile.h"
#include "xfiq_eval.h"

#define W 720
#define H 520
#define ML 80
#define MR 30
#define MT 50
#define MB 70

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                      "#9467bd", "#8c564b", "#e377c2", "#17becf"};

typedef struct axis {
    int log;
    double lo, hi;
} axis;

static double ax_map(const axis *a, double v, double p0, double p1)
{
    double t;
    if (a->log) {
        if (!(v > a->lo))
            v = a->lo;
        t = (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
    } else
        t = (v - a->lo) / (a->hi - a->lo);
    if (t < 0)
        t = 0;
    if (t > 1)
        t = 1;
    return p0 + t * (p1 - p0);
}

static void xml_text(FILE *fp, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '&': fputs("&amp;", fp); break;
        case '"': fputs("&quot;", fp); break;
        default: fputc(*s, fp);
        }
    }
}

/* Smallest positive value among the curves (log axes start at its decade). */
static double min_positive(const xfiq_plot_curve *c, int nc, int use_y)
{
    double m = INFINITY;
    for (int i = 0; i < nc; i++)
        for (int64_t k = 0; k < c[i].n; k++) {
            double v = use_y ? c[i].y[k] : c[i].x[k];
            if (v > 0 && v < m)
                m = v;
        }
    return m;
}

static void draw_axis_ticks(FILE *fp, const axis *a, int horizontal)
{
    if (a->log) {
        for (int e = (int)floor(log10(a->lo) + 1e-9); e <= (int)ceil(log10(a->hi) - 1e-9); e++) {
            double v = pow(10.0, e);
            if (v < a->lo * 0.999 || v > a->hi * 1.001)
                continue;
            double p = horizontal ? ax_map(a, v, ML, W - MR) : ax_map(a, v, H - MB, MT);
            if (horizontal)
                fprintf(fp, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#ddd'/>"
                            "<text x='%.1f' y='%d' text-anchor='middle' font-size='13'>1e%d</text>\n",
                        p, MT, p, H - MB, p, H - MB + 20, e);
            else
                fprintf(fp, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#ddd'/>"
                            "<text x='%d' y='%.1f' text-anchor='end' font-size='13'>1e%d</text>\n",
                        ML, p, W - MR, p, ML - 6, p + 4, e);
        }
        return;
    }
    for (int k = 0; k <= 10; k++) {
        double v = a->lo + (a->hi - a->lo) * k / 10.0;
        double p = horizontal ? ax_map(a, v, ML, W - MR) : ax_map(a, v, H - MB, MT);
        if (horizontal)
            fprintf(fp, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#ddd'/>"
                        "<text x='%.1f' y='%d' text-anchor='middle' font-size='13'>%.3g</text>\n",
                    p, MT, p, H - MB, p, H - MB + 20, v);
        else
            fprintf(fp, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#ddd'/>"
                        "<text x='%d' y='%.1f' text-anchor='end' font-size='13'>%.3g</text>\n",
                    ML, p, W - MR, p, ML - 6, p + 4, v);
    }
}

xfiq_status xfiq_plot_svg(const char *path, xfiq_plot_kind kind, const char *title,
                          const xfiq_plot_curve *curves, int n_curves)
{
    if (!path || (n_curves && !curves) || n_curves < 0)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_plot_svg: bad arguments");
    size_t pl = strlen(path);
    if (pl < 4 || strcasecmp(path + pl - 4, ".svg"))
        return xfiq_error(XFIQ_ERR_ARG, "%s: plots are written as SVG (name the file *.svg)", path);
    axis ax = {0, 0, 1}, ay = {0, 0, 1};
    const char *xl = "false match rate (FMR)", *yl = "1 - FNMR (true match rate)";
    if (kind == XFIQ_PLOT_ROC || kind == XFIQ_PLOT_DET) {
        double mx = min_positive(curves, n_curves, 0);
        ax.log = 1;
        ax.lo = isfinite(mx) ? pow(10.0, floor(log10(mx))) : 1e-6;
        if (ax.lo < 1e-8)
            ax.lo = 1e-8;
        ax.hi = 1.0;
    }
    if (kind == XFIQ_PLOT_ROC) { /* zoom onto the visible part: accurate systems live near 1 */
        double ymin = 1.0;
        for (int i = 0; i < n_curves; i++)
            for (int64_t k = 0; k < curves[i].n; k++)
                if (curves[i].x[k] >= ax.lo && curves[i].y[k] < ymin)
                    ymin = curves[i].y[k];
        ay.lo = floor(ymin * 20.0) / 20.0;
        if (ay.lo > 0.95)
            ay.lo = 0.95;
        if (ay.lo < 0)
            ay.lo = 0;
    }
    if (kind == XFIQ_PLOT_DET) {
        double my = min_positive(curves, n_curves, 1);
        ay.log = 1;
        ay.lo = isfinite(my) ? pow(10.0, floor(log10(my))) : 1e-4;
        if (ay.lo < 1e-8)
            ay.lo = 1e-8;
        yl = "false non-match rate (FNMR)";
    }
    if (kind == XFIQ_PLOT_EDC) {
        double xmax = 0, ymax = 0;
        for (int i = 0; i < n_curves; i++)
            for (int64_t k = 0; k < curves[i].n; k++) {
                if (curves[i].x[k] > xmax)
                    xmax = curves[i].x[k];
                if (isfinite(curves[i].y[k]) && curves[i].y[k] > ymax)
                    ymax = curves[i].y[k];
            }
        ax.hi = xmax > 0 ? xmax : 1;
        ay.hi = 1;
        if (ymax > 0) { /* a round top so the ten ticks read well */
            double e = pow(10.0, floor(log10(ymax * 1.05)));
            static const double steps[] = {1, 2, 2.5, 5, 10};
            for (int k = 0; k < 5; k++)
                if (steps[k] * e >= ymax * 1.05) {
                    ay.hi = steps[k] * e;
                    break;
                }
        }
        xl = "fraction of pairs discarded (lowest quality first)";
        yl = "FNMR";
    }
    xfiq_afile af;
    XFIQ_TRY(xfiq_afile_open(&af, path));
    FILE *fp = af.fp;
    fprintf(fp, "<?xml version='1.0' encoding='UTF-8'?>\n"
                "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
                "font-family='sans-serif'>\n<rect width='100%%' height='100%%' fill='white'/>\n",
            W, H);
    fprintf(fp, "<text x='%d' y='30' text-anchor='middle' font-size='16'>", W / 2);
    xml_text(fp, title);
    fprintf(fp, "</text>\n");
    draw_axis_ticks(fp, &ax, 1);
    draw_axis_ticks(fp, &ay, 0);
    fprintf(fp, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='black'/>\n", ML, MT,
            W - ML - MR, H - MT - MB);
    fprintf(fp, "<text x='%d' y='%d' text-anchor='middle' font-size='14'>%s</text>\n",
            (ML + W - MR) / 2, H - 25, xl);
    fprintf(fp, "<text x='20' y='%d' text-anchor='middle' font-size='14' "
                "transform='rotate(-90 20 %d)'>%s</text>\n",
            (MT + H - MB) / 2, (MT + H - MB) / 2, yl);
    for (int i = 0; i < n_curves; i++) {
        const char *col = palette[i % 8];
        fprintf(fp, "<polyline fill='none' stroke='%s' stroke-width='2' points='", col);
        double lx = -1e9, ly = -1e9;
        int64_t k0 = 0; /* start at the last point left of a log axis, clamped to its edge */
        if (ax.log)
            for (int64_t k = 0; k < curves[i].n; k++)
                if (curves[i].x[k] <= ax.lo)
                    k0 = k;
        for (int64_t k = k0; k < curves[i].n; k++) {
            double y = curves[i].y[k];
            if (!isfinite(y) || !isfinite(curves[i].x[k]))
                continue;
            double px = ax_map(&ax, curves[i].x[k], ML, W - MR);
            double py = ax_map(&ay, y, H - MB, MT);
            if (fabs(px - lx) < 0.5 && fabs(py - ly) < 0.5 && k + 1 < curves[i].n)
                continue;
            fprintf(fp, "%.1f,%.1f ", px, py);
            lx = px;
            ly = py;
        }
        fprintf(fp, "'/>\n");
    }
    /* legend where the curves are not: bottom right for ROC (they hug the
     * top), top right for DET and EDC (they fall to the right) */
    int ly0 = kind == XFIQ_PLOT_ROC ? H - MB - 14 - 20 * n_curves : MT + 6;
    if (n_curves)
        fprintf(fp, "<rect x='%d' y='%d' width='236' height='%d' fill='white' fill-opacity='0.85' stroke='#999'/>\n",
                W - MR - 244, ly0, 20 * n_curves + 8);
    for (int i = 0; i < n_curves; i++) {
        int y = ly0 + 16 + 20 * i;
        fprintf(fp, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='%s' stroke-width='3'/>"
                    "<text x='%d' y='%d' font-size='13'>",
                W - MR - 234, y - 4, W - MR - 204, y - 4, palette[i % 8], W - MR - 196, y);
        xml_text(fp, curves[i].label);
        fprintf(fp, "</text>\n");
    }
    fprintf(fp, "</svg>\n");
    return xfiq_afile_commit(&af);
}
