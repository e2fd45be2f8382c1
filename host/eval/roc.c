/* roc.c - the empirical ROC: every distinct score value is a threshold
 * (accept iff score >= t), built by sorting each class once; EER, FNMR at
 * FMR, AUC and the summary printed by `xfiq eval`. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "eval/eval_util.h"
#include "eval/roc_internal.h"
#include "xfiq_eval.h"

struct xfiq_roc {
    int64_t n_points;
    int64_t n_gen, n_imp;
    int64_t *tps, *fps;
    double *fpr, *tpr, *thr;
};

int64_t xfiq_roc_walk(const uint64_t *gen, int64_t n_gen, const uint64_t *imp, int64_t n_imp,
                      int64_t *tps, int64_t *fps, uint64_t *key)
{
    int64_t ig = n_gen - 1, ii = n_imp - 1, tp = 0, fp = 0, m = 0;
    while (ig >= 0 || ii >= 0) {
        uint64_t v;
        if (ig < 0)
            v = imp[ii];
        else if (ii < 0)
            v = gen[ig];
        else
            v = gen[ig] > imp[ii] ? gen[ig] : imp[ii];
        while (ig >= 0 && gen[ig] == v) {
            tp++;
            ig--;
        }
        while (ii >= 0 && imp[ii] == v) {
            fp++;
            ii--;
        }
        tps[m] = tp;
        fps[m] = fp;
        key[m] = v;
        m++;
    }
    return m;
}

xfiq_status xfiq_roc_keys(const double *scores, const uint8_t *labels, int64_t n, uint64_t *gen,
                          uint64_t *imp, uint64_t *tmp)
{
    int64_t g = 0, i = 0;
    for (int64_t k = 0; k < n; k++) {
        if (isnan(scores[k]))
            return xfiq_error(XFIQ_ERR_ARG, "score %lld is NaN", (long long)k);
        if (labels[k])
            gen[g++] = xfiq_key_of(scores[k]);
        else
            imp[i++] = xfiq_key_of(scores[k]);
    }
    xfiq_radix_sort_u64(gen, tmp, (size_t)g);
    xfiq_radix_sort_u64(imp, tmp, (size_t)i);
    return XFIQ_OK;
}

void xfiq_roc_free(xfiq_roc_t r)
{
    if (!r)
        return;
    free(r->tps);
    free(r->fps);
    free(r->fpr);
    free(r->tpr);
    free(r->thr);
    free(r);
}

xfiq_status xfiq_roc_build(const double *scores, const uint8_t *labels, int64_t n,
                           xfiq_roc_t *out)
{
    if (!out || n < 0 || (n && (!scores || !labels)))
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_roc_build: bad arguments");
    *out = NULL;
    int64_t ng = 0;
    for (int64_t k = 0; k < n; k++) {
        if (labels[k] > 1)
            return xfiq_error(XFIQ_ERR_ARG, "label %lld is %u, not 0 or 1", (long long)k, labels[k]);
        ng += labels[k];
    }
    int64_t ni = n - ng;
    if (!ng || !ni)
        return xfiq_error(XFIQ_ERR_ARG, "an ROC needs genuine and impostor pairs (%lld genuine, %lld impostor)",
                          (long long)ng, (long long)ni);
    xfiq_roc_t r = calloc(1, sizeof(*r));
    uint64_t *gen = malloc((size_t)ng * 8), *imp = malloc((size_t)ni * 8);
    uint64_t *tmp = malloc((size_t)(ng > ni ? ng : ni) * 8), *key = malloc((size_t)n * 8);
    if (r) {
        r->tps = malloc((size_t)(n + 1) * 8);
        r->fps = malloc((size_t)(n + 1) * 8);
        r->fpr = malloc((size_t)(n + 1) * 8);
        r->tpr = malloc((size_t)(n + 1) * 8);
        r->thr = malloc((size_t)(n + 1) * 8);
    }
    xfiq_status st = XFIQ_OK;
    if (!r || !gen || !imp || !tmp || !key || !r->tps || !r->fps || !r->fpr || !r->tpr || !r->thr)
        st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory building an ROC of %lld scores", (long long)n);
    if (st == XFIQ_OK)
        st = xfiq_roc_keys(scores, labels, n, gen, imp, tmp);
    if (st == XFIQ_OK) {
        r->n_gen = ng;
        r->n_imp = ni;
        int64_t m = xfiq_roc_walk(gen, ng, imp, ni, r->tps + 1, r->fps + 1, key);
        r->n_points = m + 1;
        r->tps[0] = r->fps[0] = 0;
        r->thr[0] = INFINITY;
        for (int64_t k = 0; k <= m; k++) {
            if (k)
                r->thr[k] = xfiq_key_value(key[k - 1]);
            r->fpr[k] = (double)r->fps[k] / (double)ni;
            r->tpr[k] = (double)r->tps[k] / (double)ng;
        }
    }
    free(gen);
    free(imp);
    free(tmp);
    free(key);
    if (st != XFIQ_OK) {
        xfiq_roc_free(r);
        return st;
    }
    *out = r;
    return XFIQ_OK;
}

int64_t xfiq_roc_num_points(xfiq_roc_t r) { return r ? r->n_points : 0; }
int64_t xfiq_roc_num_genuine(xfiq_roc_t r) { return r ? r->n_gen : 0; }
int64_t xfiq_roc_num_impostor(xfiq_roc_t r) { return r ? r->n_imp : 0; }

void xfiq_roc_points(xfiq_roc_t r, const double **fpr, const double **tpr, const double **thr)
{
    if (fpr)
        *fpr = r->fpr;
    if (tpr)
        *tpr = r->tpr;
    if (thr)
        *thr = r->thr;
}

xfiq_status xfiq_roc_fnmr_at(xfiq_roc_t r, double fmr, double *fnmr, double *threshold)
{
    if (!r || isnan(fmr))
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_roc_fnmr_at: bad arguments");
    /* last point with fpr <= fmr: fpr never decreases along the points */
    int64_t lo = 0, hi = r->n_points - 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (r->fpr[mid] <= fmr)
            lo = mid;
        else
            hi = mid - 1;
    }
    /* first point reaching its tps: the highest threshold with that FNMR */
    int64_t want = r->tps[lo], a = 0, b = lo;
    while (a < b) {
        int64_t mid = a + (b - a) / 2;
        if (r->tps[mid] >= want)
            b = mid;
        else
            a = mid + 1;
    }
    if (fnmr)
        *fnmr = 1.0 - r->tpr[a];
    if (threshold)
        *threshold = r->thr[a];
    return XFIQ_OK;
}

xfiq_status xfiq_roc_eer(xfiq_roc_t r, double *eer, double *threshold)
{
    if (!r)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_roc_eer: NULL roc");
    /* g = fpr - fnmr rises from -1 at (0, 0) to +1 at (1, 1) */
    int64_t i = 1;
    while (i < r->n_points && r->fpr[i] + r->tpr[i] - 1.0 < 0.0)
        i++;
    if (i >= r->n_points)
        i = r->n_points - 1;
    double g0 = r->fpr[i - 1] + r->tpr[i - 1] - 1.0, g1 = r->fpr[i] + r->tpr[i] - 1.0;
    double u = g1 > g0 ? -g0 / (g1 - g0) : 1.0;
    if (eer)
        *eer = r->fpr[i - 1] + u * (r->fpr[i] - r->fpr[i - 1]);
    if (threshold)
        *threshold = r->thr[i];
    return XFIQ_OK;
}

double xfiq_roc_auc(xfiq_roc_t r)
{
    if (!r)
        return NAN;
    /* exact in integers: sum (dfps) (tps_k + tps_k-1) / (2 P N) */
    unsigned __int128 acc = 0;
    for (int64_t k = 1; k < r->n_points; k++)
        acc += (unsigned __int128)(r->fps[k] - r->fps[k - 1]) *
               (unsigned __int128)(r->tps[k] + r->tps[k - 1]);
    return (double)acc / (2.0 * (double)r->n_gen * (double)r->n_imp);
}

xfiq_status xfiq_roc_summarize(xfiq_roc_t r, xfiq_roc_summary *out)
{
    static const double fmrs[XFIQ_ROC_NUM_FMR] = {1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6};
    if (!r || !out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_roc_summarize: NULL argument");
    memset(out, 0, sizeof(*out));
    out->n_genuine = r->n_gen;
    out->n_impostor = r->n_imp;
    XFIQ_TRY(xfiq_roc_eer(r, &out->eer, &out->eer_threshold));
    out->auc = xfiq_roc_auc(r);
    for (int k = 0; k < XFIQ_ROC_NUM_FMR; k++) {
        out->fmr[k] = fmrs[k];
        XFIQ_TRY(xfiq_roc_fnmr_at(r, fmrs[k], &out->fnmr[k], &out->threshold[k]));
    }
    return XFIQ_OK;
}
