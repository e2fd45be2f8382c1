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
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* Value bins used to find the impostor score ranked at fmr_max. */
#define TRAIN_BINS 2048

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

/* Per-class copies of s and q, shared read-only by the omega threads. */
typedef struct train_data {
    const double *sg, *qg, *si, *qi;
    int64_t ng, ni;
    double si_min, si_max, qi_max; /* impostor ranges: bounds of omega q + s */
} train_data;

typedef struct train_work {
    uint64_t *gen, *imp, *tmp, *key;
    double *xi; /* impostor x = omega q + s */
    int64_t *tps, *fps;
    int64_t *kt, *kf; /* kept points (after drop_intermediate) */
    uint64_t *kk;
    uint32_t hist[TRAIN_BINS];
} train_work;

static void work_free(train_work *w)
{
    if (!w)
        return;
    free(w->gen);
    free(w->imp);
    free(w->tmp);
    free(w->key);
    free(w->xi);
    free(w->tps);
    free(w->fps);
    free(w->kt);
    free(w->kf);
    free(w->kk);
    free(w);
}

static train_work *work_alloc(int64_t n, int64_t ng, int64_t ni)
{
    train_work *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    size_t m = (size_t)n + 1;
    w->gen = malloc((size_t)ng * 8);
    w->imp = malloc((size_t)ni * 8);
    w->tmp = malloc((size_t)(ng > ni ? ng : ni) * 8);
    w->key = malloc(m * 8);
    w->xi = malloc((size_t)ni * 8);
    w->tps = malloc(m * 8);
    w->fps = malloc(m * 8);
    w->kt = malloc(m * 8);
    w->kf = malloc(m * 8);
    w->kk = malloc(m * 8);
    if (w->gen && w->imp && w->tmp && w->key && w->xi && w->tps && w->fps && w->kt && w->kf && w->kk)
        return w;
    work_free(w);
    return NULL;
}

/* omega q + s rounded twice (numpy's omega * q + s), then expit. */
static inline double train_x(double omega, double q, double s)
{
    return omega * q + s; /* two roundings: fp-contract is off in this file */
}

static inline double train_sig(double x) { return 1.0 / (1.0 + exp(-x)); }

/* From sorted keys of the kept region (every value >= the region's lowest,
 * both classes): the points, scikit-learn's drop_intermediate, and for each
 * FMR the first kept point with the largest tps among those with fpr < fmr. */
static void train_select(train_work *w, int64_t ng_r, int64_t ni_r, int64_t ni, const double *fmr,
                         int n_fmr, int64_t *best_tps, double *best_thr)
{
    int64_t m = xfiq_roc_walk(w->gen, ng_r, w->imp, ni_r, w->tps, w->fps, w->key);

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

/* Fast path: only FMRs up to fmr_max matter, so only the scores at or
 * above the impostor score ranked m = floor(fmr_max N) + 2 (and the genuine
 * scores there) need sorting; the ROC points above it have the same
 * cumulative counts as in the full ROC. Returns 0 when the shortcut does not
 * pay or its assumptions fail (then the full ROC is used). */
static int train_region(const train_data *d, double omega, train_work *w, double fmr_max,
                        int64_t *ng_r, int64_t *ni_r)
{
    const int64_t ni = d->ni, ng = d->ng;
    int64_t m_imp = (int64_t)floor(fmr_max * (double)ni) + 2;
    if (m_imp * 4 > ni || ni < 256)
        return 0;
    /* bins over the range x = omega q + s can take (known before the pass) */
    const double lo = d->si_min - fabs(omega) * d->qi_max, hi = d->si_max + fabs(omega) * d->qi_max;
    if (!(hi > lo) || !isfinite(lo) || !isfinite(hi))
        return 0;
    const double scale = (TRAIN_BINS - 1) / (hi - lo);
    memset(w->hist, 0, sizeof(w->hist));
    for (int64_t k = 0; k < ni; k++) {
        double x = train_x(omega, d->qi[k], d->si[k]);
        int bin = (int)((x - lo) * scale);
        bin = bin < 0 ? 0 : bin >= TRAIN_BINS ? TRAIN_BINS - 1 : bin;
        w->xi[k] = x;
        w->hist[bin]++;
    }
    /* the bin holding rank m_imp from the top; one bin lower too, so the
     * 1e-6 margin below the exact value stays inside the candidates */
    int64_t cum = 0;
    int b = TRAIN_BINS - 1;
    for (; b > 0; b--) {
        cum += w->hist[b];
        if (cum >= m_imp)
            break;
    }
    const double bin_lo = lo + (b - 1) / scale;
    int64_t nc = 0;
    for (int64_t k = 0; k < ni; k++)
        if (w->xi[k] >= bin_lo)
            w->xi[nc++] = w->xi[k]; /* compacted in place: only candidates matter now */
    if (nc < m_imp || nc * 2 > ni)
        return 0;
    for (int64_t k = 0; k < nc; k++)
        w->imp[k] = xfiq_key_of(w->xi[k]);
    xfiq_radix_sort_u64(w->imp, w->tmp, (size_t)nc);
    const double c = xfiq_key_value(w->imp[nc - m_imp]);
    /* sigmoid ties can merge values a little below c into c's group: take
     * everything within 1e-6 of c and compare in sigmoid units (sigmoid's
     * slope keeps distinct values apart beyond that for |c| <= 20) */
    const double c_lo = c - 1e-6, sig_c = train_sig(c);
    if (!(fabs(c) <= 20.0) || c_lo < bin_lo)
        return 0;
    int64_t r = 0;
    for (int64_t k = 0; k < nc; k++) {
        if (w->xi[k] < c_lo)
            continue;
        double sg = train_sig(w->xi[k]);
        if (sg >= sig_c)
            w->imp[r++] = xfiq_key_of(sg);
    }
    *ni_r = r;
    r = 0;
    for (int64_t k = 0; k < ng; k++) {
        double x = train_x(omega, d->qg[k], d->sg[k]);
        if (x < c_lo)
            continue;
        double sg = train_sig(x);
        if (sg >= sig_c)
            w->gen[r++] = xfiq_key_of(sg);
    }
    *ng_r = r;
    xfiq_radix_sort_u64(w->imp, w->tmp, (size_t)*ni_r);
    xfiq_radix_sort_u64(w->gen, w->tmp, (size_t)*ng_r);
    /* at least three distinct points, so the bend test sees real neighbours */
    return *ni_r + *ng_r >= 3;
}

/* One omega: writes the best tps and its threshold for each FMR. */
static void train_one_omega(const train_data *d, double omega, const double *fmr, int n_fmr,
                            train_work *w, int64_t *best_tps, double *best_thr)
{
    int64_t ng_r = 0, ni_r = 0;
    if (!train_region(d, omega, w, fmr[n_fmr - 1], &ng_r, &ni_r)) {
        for (int64_t k = 0; k < d->ng; k++)
            w->gen[k] = xfiq_key_of(train_sig(train_x(omega, d->qg[k], d->sg[k])));
        for (int64_t k = 0; k < d->ni; k++)
            w->imp[k] = xfiq_key_of(train_sig(train_x(omega, d->qi[k], d->si[k])));
        xfiq_radix_sort_u64(w->gen, w->tmp, (size_t)d->ng);
        xfiq_radix_sort_u64(w->imp, w->tmp, (size_t)d->ni);
        ng_r = d->ng;
        ni_r = d->ni;
    }
    train_select(w, ng_r, ni_r, d->ni, fmr, n_fmr, best_tps, best_thr);
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

    /* the classes apart once: every omega reads them */
    double *split = malloc((size_t)n * 2 * sizeof(double));
    if (!split) {
        free(omegas);
        free(tps);
        free(thr);
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory for the training copies");
    }
    train_data d = {split, split + ng, split + 2 * ng, split + 2 * ng + ni, ng, ni,
                    INFINITY, -INFINITY, -INFINITY};
    for (int64_t k = 0, g = 0, i = 0; k < n; k++) {
        if (labels[k]) {
            split[g] = s[k];
            split[ng + g++] = q[k];
        } else {
            split[2 * ng + i] = s[k];
            split[2 * ng + ni + i++] = q[k];
            d.si_min = s[k] < d.si_min ? s[k] : d.si_min;
            d.si_max = s[k] > d.si_max ? s[k] : d.si_max;
            d.qi_max = fabs(q[k]) > d.qi_max ? fabs(q[k]) : d.qi_max;
        }
    }
    int failed = 0;
#pragma omp parallel
    {
        train_work *w = work_alloc(n, ng, ni);
        if (!w) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (int i = 0; i < W; i++)
            if (w)
                train_one_omega(&d, omegas[i], fmr, F, w, tps + (size_t)i * F, thr + (size_t)i * F);
        work_free(w);
    }
    free(split);
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
