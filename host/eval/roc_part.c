/* roc_part.c - the points of one key range of a spread ROC and the numbers
 * the whole ROC's metrics are reduced from (see roc_part.h; the formulas
 * are roc.c's, point for point). */
#include "eval/roc_part.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "eval/eval_util.h"
#include "eval/roc_internal.h"

xfiq_status xfiq_roc_part_build(const uint64_t *gen, int64_t ng, const uint64_t *imp, int64_t ni, int64_t tp0,
                                int64_t fp0, int64_t n_gen, int64_t n_imp, xfiq_roc_part *p)
{
    memset(p, 0, sizeof *p);
    if (ng < 0 || ni < 0 || tp0 + ng > n_gen || fp0 + ni > n_imp || n_gen < 1 || n_imp < 1)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_roc_part_build: counts do not add up");
    size_t n = (size_t)(ng + ni ? ng + ni : 1);
    p->tps = malloc(n * 8);
    p->fps = malloc(n * 8);
    p->key = malloc(n * 8);
    if (!p->tps || !p->fps || !p->key) {
        xfiq_roc_part_free(p);
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory for %lld ROC points", (long long)n);
    }
    p->n_points = xfiq_roc_walk(gen, ng, imp, ni, p->tps, p->fps, p->key);
    for (int64_t k = 0; k < p->n_points; k++) {
        p->tps[k] += tp0;
        p->fps[k] += fp0;
    }
    p->tp0 = tp0;
    p->fp0 = fp0;
    p->n_gen = n_gen;
    p->n_imp = n_imp;
    return XFIQ_OK;
}

void xfiq_roc_part_free(xfiq_roc_part *p)
{
    free(p->tps);
    free(p->fps);
    free(p->key);
    memset(p, 0, sizeof *p);
}

static double fpr(const xfiq_roc_part *p, int64_t k) { return (double)p->fps[k] / (double)p->n_imp; }
static double tpr(const xfiq_roc_part *p, int64_t k) { return (double)p->tps[k] / (double)p->n_gen; }

int64_t xfiq_roc_part_fnmr_tp(const xfiq_roc_part *p, double fmr)
{
    /* fpr never decreases along the points: the last one with fpr <= fmr */
    int64_t lo = -1, hi = p->n_points - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (fpr(p, mid) <= fmr)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo >= 0 ? p->tps[lo] : 0;
}

int xfiq_roc_part_first_key(const xfiq_roc_part *p, int64_t want, uint64_t *key)
{
    int64_t a = 0, b = p->n_points;
    while (a < b) { /* first point with tps >= want */
        int64_t mid = a + (b - a) / 2;
        if (p->tps[mid] >= want)
            b = mid;
        else
            a = mid + 1;
    }
    if (a >= p->n_points)
        return 0;
    *key = p->key[a];
    return 1;
}

int64_t xfiq_roc_part_eer_index(const xfiq_roc_part *p)
{
    /* g = fpr - fnmr rises from -1 to +1 along the points */
    for (int64_t i = 0; i < p->n_points; i++)
        if (!(fpr(p, i) + tpr(p, i) - 1.0 < 0.0))
            return i;
    return -1;
}

void xfiq_roc_part_eer_at(const xfiq_roc_part *p, int64_t i, double *eer, double *threshold)
{
    /* the point before the first of this range counts everything above it */
    double f0 = i ? fpr(p, i - 1) : (double)p->fp0 / (double)p->n_imp;
    double t0 = i ? tpr(p, i - 1) : (double)p->tp0 / (double)p->n_gen;
    double f1 = fpr(p, i), t1 = tpr(p, i);
    double g0 = f0 + t0 - 1.0, g1 = f1 + t1 - 1.0;
    double u = g1 > g0 ? -g0 / (g1 - g0) : 1.0;
    *eer = f0 + u * (f1 - f0);
    *threshold = xfiq_key_value(p->key[i]);
}

unsigned __int128 xfiq_roc_part_auc2(const xfiq_roc_part *p)
{
    unsigned __int128 acc = 0;
    int64_t tp = p->tp0, fp = p->fp0;
    for (int64_t k = 0; k < p->n_points; k++) {
        acc += (unsigned __int128)(p->fps[k] - fp) * (unsigned __int128)(p->tps[k] + tp);
        tp = p->tps[k];
        fp = p->fps[k];
    }
    return acc;
}
