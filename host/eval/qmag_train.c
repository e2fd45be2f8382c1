/* qmag_train.c - QMagFace training (SPEC 5): for 20 quality weights omega
 * the ROC of sigmoid(omega q + s); for each of 50 FMRs the omega with the
 * lowest FNMR at FPR < FMR and its threshold; a least-squares line
 * omega = m t + c gives beta = m, alpha = -c. One sort per omega (radix on
 * the bit patterns), the omegas in parallel. Semantics follow scikit-learn
 * 1.2's roc_curve with drop_intermediate=True; see host/eval/README.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "eval/eval_util.h"
#include "eval/roc_internal.h"
#include "xfiq_eval.h"

/* The ROC arithmetic below must round exactly like the reference (numpy
 * evaluates omega * q + s as two operations). */
#pragma GCC optimize("fp-contract=off")

void xfiq_qmag_train_options_default(xfiq_qmag_train_options *o)
{
    o->n_fmr = 50;
    o->fmr_min = 1e-5;
    o->fmr_max = 1e-2;
    o->n_weights = 20;
    o->max_ratio = 0.5;
}

/* FMR grid: 10^linspace(log10(min), log10(max), n) with libm's pow, and
 * the two ends exactly as given (numpy.logspace rounds 1e-5 one ulp away,
 * which only matters when k/N equals a grid value: we define the ends). */
static void fmr_grid(const xfiq_qmag_train_options *o, double *fmr)
{
    double a = log10(o->fmr_min), b = log10(o->fmr_max);
    for (int j = 0; j < o->n_fmr; j++)
        fmr[j] = pow(10.0, xfiq_linspace_at(a, b, o->n_fmr, j));
    fmr[0] = o->fmr_min;
    if (o->n_fmr > 1)
        fmr[o->n_fmr - 1] = o->fmr_max;
}

typedef struct train_work {
    uint64_t *gen, *imp, *tmp, *key;
    int64_t *tps, *fps;
    int64_t *kt, *kf; /* kept points (after drop_intermediate) */
    uint64_t *kk;
} train_work;

static void work_free(train_work *w)
{
    free(w->gen);
    free(w->imp);
    free(w->tmp);
    free(w->key);
    free(w->tps);
    free(w->fps);
    free(w->kt);
    free(w->kf);
    free(w->kk);
}

static int work_alloc(train_work *w, int64_t n, int64_t ng, int64_t ni)
{
    memset(w, 0, sizeof(*w));
    size_t m = (size_t)n + 1;
    w->gen = malloc((size_t)ng * 8);
    w->imp = malloc((size_t)ni * 8);
    w->tmp = malloc((size_t)(ng > ni ? ng : ni) * 8);
    w->key = malloc(m * 8);
    w->tps = malloc(m * 8);
    w->fps = malloc(m * 8);
    w->kt = malloc(m * 8);
    w->kf = malloc(m * 8);
    w->kk = malloc(m * 8);
    return w->gen && w->imp && w->tmp && w->key && w->tps && w->fps && w->kt && w->kf && w->kk;
}

/* One omega: writes the best tps and its threshold for each FMR. */
static void train_one_omega(const double *s, const double *q, const uint8_t *labels, int64_t n,
                            int64_t ng, int64_t ni, double omega, const double *fmr, int n_fmr,
                            train_work *w, int64_t *best_tps, double *best_thr)
{
    int64_t g = 0, i = 0;
    for (int64_t k = 0; k < n; k++) {
        volatile double x = omega * q[k];     /* two roundings, as numpy */
        double sig = 1.0 / (1.0 + exp(-(x + s[k]))); /* scipy.special.expit */
        if (labels[k])
            w->gen[g++] = xfiq_key_of(sig);
        else
            w->imp[i++] = xfiq_key_of(sig);
    }
    xfiq_radix_sort_u64(w->gen, w->tmp, (size_t)ng);
    xfiq_radix_sort_u64(w->imp, w->tmp, (size_t)ni);
    int64_t m = xfiq_roc_walk(w->gen, ng, w->imp, ni, w->tps, w->fps, w->key);

    /* drop_intermediate: keep the ends and every point where the ROC bends
     * (a non-zero second difference of fps or tps), then prepend (0, 0)
     * whose threshold is the first threshold + 1 (scikit-learn 1.2). */
    int64_t k = 0;
    w->kt[k] = 0;
    w->kf[k] = 0;
    k++;
    for (int64_t j = 0; j < m; j++) {
        int keep = 1;
        if (m > 2 && j > 0 && j < m - 1)
            keep = (w->fps[j + 1] - 2 * w->fps[j] + w->fps[j - 1]) != 0 ||
                   (w->tps[j + 1] - 2 * w->tps[j] + w->tps[j - 1]) != 0;
        if (keep) {
            w->kt[k] = w->tps[j];
            w->kf[k] = w->fps[j];
            w->kk[k] = w->key[j];
            k++;
        }
    }
    const int64_t kn = k;
    /* fpr < fmr holds on a prefix of the kept points; the first point with
     * the prefix's largest tps is numpy.argmin's pick of 1 - tpr */
    int64_t last = 0;
    for (int j = 0; j < n_fmr; j++) {
        while (last + 1 < kn && (double)w->kf[last + 1] / (double)ni < fmr[j])
            last++;
        while (last > 0 && !((double)w->kf[last] / (double)ni < fmr[j]))
            last--;
        int64_t want = w->kt[last], a = 0, b = last;
        while (a < b) {
            int64_t mid = a + (b - a) / 2;
            if (w->kt[mid] >= want)
                b = mid;
            else
                a = mid + 1;
        }
        best_tps[j] = want;
        best_thr[j] = a ? xfiq_key_value(w->kk[a]) : xfiq_key_value(w->kk[1]) + 1.0;
    }
}

xfiq_status xfiq_qmag_train(const double *s, const double *q, const uint8_t *labels, int64_t n,
                            const xfiq_qmag_train_options *opt, xfiq_qmag_params *out,
                            xfiq_qmag_train_report *rep)
{
    xfiq_qmag_train_options o;
    if (opt)
        o = *opt;
    else
        xfiq_qmag_train_options_default(&o);
    if (!s || !q || !labels || !out || n < 2)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_qmag_train: needs at least two labelled pairs");
    if (o.n_fmr < 1 || o.n_fmr > XFIQ_QMAG_TRAIN_MAX || o.n_weights < 1 || o.n_weights > 4096 ||
        !(o.fmr_min > 0.0) || !(o.fmr_max >= o.fmr_min) || !(o.fmr_max <= 1.0) ||
        !(o.max_ratio > 0.0))
        return xfiq_error(XFIQ_ERR_ARG,
                          "xfiq_qmag_train: bad options (n_fmr 1..%d, 0 < fmr_min <= fmr_max <= 1, "
                          "n_weights 1..4096, max_ratio > 0)", XFIQ_QMAG_TRAIN_MAX);
    int64_t ng = 0;
    double max_q = -INFINITY;
    for (int64_t k = 0; k < n; k++) {
        if (labels[k] > 1)
            return xfiq_error(XFIQ_ERR_ARG, "pair %lld: label %u is not 0 or 1", (long long)k,
                              labels[k]);
        if (!isfinite(s[k]) || !isfinite(q[k]))
            return xfiq_error(XFIQ_ERR_ARG, "pair %lld: score or quality is not finite", (long long)k);
        ng += labels[k];
        if (q[k] > max_q)
            max_q = q[k];
    }
    int64_t ni = n - ng;
    if (!ng || !ni)
        return xfiq_error(XFIQ_ERR_ARG, "training needs genuine and impostor pairs (%lld genuine, %lld impostor)",
                          (long long)ng, (long long)ni);
    if (!(max_q > 0.0))
        return xfiq_error(XFIQ_ERR_ARG, "training needs a positive quality (max q = %g)", max_q);

    double fmr[XFIQ_QMAG_TRAIN_MAX];
    fmr_grid(&o, fmr);
    const double max_omega = o.max_ratio / max_q;
    const int W = o.n_weights, F = o.n_fmr;
    double *omegas = malloc((size_t)W * sizeof(double));
    int64_t *tps = malloc((size_t)W * F * sizeof(int64_t));
    double *thr = malloc((size_t)W * F * sizeof(double));
    if (!omegas || !tps || !thr) {
        free(omegas);
        free(tps);
        free(thr);
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory for the training tables");
    }
    for (int i = 0; i < W; i++)
        omegas[i] = xfiq_linspace_at(-max_omega, max_omega, W, i);

    int failed = 0;
#pragma omp parallel
    {
        train_work w;
        int ok = work_alloc(&w, n, ng, ni);
        if (!ok) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (int i = 0; i < W; i++)
            if (ok)
                train_one_omega(s, q, labels, n, ng, ni, omegas[i], fmr, F, &w,
                                tps + (size_t)i * F, thr + (size_t)i * F);
        work_free(&w);
    }
    if (failed) {
        free(omegas);
        free(tps);
        free(thr);
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory for the per-thread ROC buffers");
    }

    /* best omega per FMR: lowest FNMR = highest tps, the first on ties */
    double ts[XFIQ_QMAG_TRAIN_MAX], om[XFIQ_QMAG_TRAIN_MAX], fn[XFIQ_QMAG_TRAIN_MAX];
    for (int j = 0; j < F; j++) {
        int bi = 0;
        for (int i = 1; i < W; i++)
            if (tps[(size_t)i * F + j] > tps[(size_t)bi * F + j])
                bi = i;
        ts[j] = thr[(size_t)bi * F + j];
        om[j] = omegas[bi];
        fn[j] = 1.0 - (double)tps[(size_t)bi * F + j] / (double)ng;
    }
    free(omegas);
    free(tps);
    free(thr);

    /* least squares omega = m t + c on centred data (as LinearRegression) */
    double mt = 0, mo = 0;
    for (int j = 0; j < F; j++) {
        mt += ts[j];
        mo += om[j];
    }
    mt /= F;
    mo /= F;
    double sxx = 0, sxy = 0;
    for (int j = 0; j < F; j++) {
        sxx += (ts[j] - mt) * (ts[j] - mt);
        sxy += (ts[j] - mt) * (om[j] - mo);
    }
    double m = sxx > 0.0 ? sxy / sxx : 0.0; /* lstsq's minimum-norm answer */
    double c = mo - m * mt;
    out->beta = m;
    out->alpha = -c;
    if (rep) {
        memset(rep, 0, sizeof(*rep));
        rep->n_pairs = n;
        rep->n_genuine = ng;
        rep->n_impostor = ni;
        rep->max_q = max_q;
        rep->n_fmr = F;
        for (int j = 0; j < F; j++) {
            rep->fmr[j] = fmr[j];
            rep->omega[j] = om[j];
            rep->threshold[j] = ts[j];
            rep->fnmr[j] = fn[j];
        }
    }
    return XFIQ_OK;
}
