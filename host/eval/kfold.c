/* kfold.c - k-fold verification accuracy: the best threshold of the
 * training folds applied to the test fold, for scores (greater = genuine)
 * and distances (smaller = genuine), and insightface's VAL@FAR. Every
 * threshold sweep is one pass over values sorted once, with per-fold
 * cumulative counts: O(n log n + thresholds x folds), not O(thresholds x n). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "eval/eval_util.h"
#include "eval/kfold_internal.h"
#include "xfiq_eval.h"

const char *xfiq_protocol_name(xfiq_protocol p)
{
    switch (p) {
    case XFIQ_PROTOCOL_QMAGFACE: return "qmagface";
    case XFIQ_PROTOCOL_INSIGHTFACE: return "insightface";
    case XFIQ_PROTOCOL_MAGFACE: return "magface";
    }
    return "unknown";
}

xfiq_status xfiq_protocol_parse(const char *name, xfiq_protocol *out)
{
    for (int p = 0; p <= XFIQ_PROTOCOL_MAGFACE; p++)
        if (name && !strcmp(name, xfiq_protocol_name((xfiq_protocol)p))) {
            *out = (xfiq_protocol)p;
            return XFIQ_OK;
        }
    return xfiq_error(XFIQ_ERR_ARG, "unknown protocol '%s' (qmagface, insightface, magface)",
                      name ? name : "(null)");
}

xfiq_status xfiq_kfold_assign(int64_t n, int n_folds, int32_t *folds)
{
    if (n_folds < 1 || n_folds > XFIQ_MAX_FOLDS || n < n_folds || !folds)
        return xfiq_error(XFIQ_ERR_ARG, "cannot split %lld pairs into %d folds (1..%d, at least one pair each)",
                          (long long)n, n_folds, XFIQ_MAX_FOLDS);
    int64_t base = n / n_folds, extra = n % n_folds, i = 0;
    for (int f = 0; f < n_folds; f++) {
        int64_t size = base + (f < extra ? 1 : 0);
        for (int64_t k = 0; k < size; k++)
            folds[i++] = f;
    }
    return XFIQ_OK;
}

void xfiq_kfold_counts_free(xfiq_kfold_counts *c)
{
    free(c->cum);
    memset(c, 0, sizeof(*c));
}

/* cum[(i * F + f) * 2 + label] = how many values of fold f and that label
 * are <= thr[i] (mode LE) or < thr[i] (mode LT); thresholds ascending. */
xfiq_status xfiq_kfold_counts_build(const double *v, const uint8_t *labels, const int32_t *folds,
                                    int64_t n, int n_folds, const double *thr, int n_thr,
                                    int strict, xfiq_kfold_counts *c)
{
    memset(c, 0, sizeof(*c));
    if (n > UINT32_MAX / 2 || n_folds > XFIQ_MAX_FOLDS)
        return xfiq_error(XFIQ_ERR_ARG, "too many pairs or folds for one k-fold sweep");
    uint64_t *keys = malloc((size_t)(n ? n : 1) * 8), *tk = malloc((size_t)(n ? n : 1) * 8);
    uint32_t *pay = malloc((size_t)(n ? n : 1) * 4), *tp = malloc((size_t)(n ? n : 1) * 4);
    c->cum = calloc((size_t)n_thr * n_folds * 2, sizeof(int64_t));
    xfiq_status st = XFIQ_OK;
    if (!keys || !tk || !pay || !tp || !c->cum)
        st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory sorting %lld pairs", (long long)n);
    for (int64_t i = 0; st == XFIQ_OK && i < n; i++) {
        if (isnan(v[i]))
            st = xfiq_error(XFIQ_ERR_ARG, "pair %lld has a NaN score", (long long)i);
        else if (folds[i] < 0 || folds[i] >= n_folds)
            st = xfiq_error(XFIQ_ERR_ARG, "pair %lld has fold %d outside 0..%d", (long long)i,
                            folds[i], n_folds - 1);
        keys[i] = xfiq_key_of(v[i]);
        pay[i] = (uint32_t)(folds[i] * 2 + (labels[i] ? 1 : 0));
    }
    if (st == XFIQ_OK) {
        xfiq_radix_sort_u64_pay(keys, pay, tk, tp, (size_t)n);
        int64_t run[2 * XFIQ_MAX_FOLDS] = {0};
        int64_t p = 0;
        const int w = n_folds * 2;
        for (int i = 0; i < n_thr; i++) {
            uint64_t kt = xfiq_key_of(thr[i]);
            if (strict)
                while (p < n && keys[p] < kt)
                    run[pay[p++]]++;
            else
                while (p < n && keys[p] <= kt)
                    run[pay[p++]]++;
            memcpy(c->cum + (size_t)i * w, run, sizeof(int64_t) * w);
        }
        c->n_thr = n_thr;
        c->n_folds = n_folds;
        for (int64_t i = 0; i < n; i++)
            c->total[pay[i]]++;
    }
    free(keys);
    free(tk);
    free(pay);
    free(tp);
    if (st != XFIQ_OK)
        xfiq_kfold_counts_free(c);
    return st;
}

/* Correct decisions at threshold i over the pairs of fold f (test) or of
 * every other fold (train). accept_below: distances (genuine iff d < t),
 * else scores (genuine iff s > t, i.e. not <= t). */
static int64_t correct_at(const xfiq_kfold_counts *c, int i, int f, int train, int accept_below,
                          int64_t *n_out)
{
    const int64_t *row = c->cum + (size_t)i * c->n_folds * 2;
    int64_t below_g = 0, below_i = 0, tot_g = 0, tot_i = 0;
    if (train) {
        for (int k = 0; k < c->n_folds; k++) {
            if (k == f)
                continue;
            below_i += row[2 * k];
            below_g += row[2 * k + 1];
            tot_i += c->total[2 * k];
            tot_g += c->total[2 * k + 1];
        }
    } else {
        below_i = row[2 * f];
        below_g = row[2 * f + 1];
        tot_i = c->total[2 * f];
        tot_g = c->total[2 * f + 1];
    }
    if (n_out)
        *n_out = tot_g + tot_i;
    if (accept_below) /* tp = genuine below, tn = impostors not below */
        return below_g + (tot_i - below_i);
    return (tot_g - below_g) + below_i; /* tp = genuine above, tn = impostors at or below */
}

xfiq_status xfiq_kfold_fold_eval(const xfiq_kfold_counts *c, int f, int accept_below,
                                 int *best, double *test_acc)
{
    int64_t best_c = -1, n_train = 0, n_test = 0;
    *best = 0;
    for (int i = 0; i < c->n_thr; i++) {
        int64_t k = correct_at(c, i, f, 1, accept_below, &n_train);
        if (k > best_c) { /* strict: the first maximum, as numpy.argmax */
            best_c = k;
            *best = i;
        }
    }
    int64_t k = correct_at(c, *best, f, 0, accept_below, &n_test);
    if (!n_test || !n_train)
        return xfiq_error(XFIQ_ERR_ARG, "fold %d has %lld test and %lld training pairs: every fold needs both",
                          f, (long long)n_test, (long long)n_train);
    *test_acc = (double)k / (double)n_test;
    return XFIQ_OK;
}

void xfiq_kfold_finish(xfiq_kfold_result *out)
{
    double s = 0.0;
    for (int f = 0; f < out->n_folds; f++)
        s += out->accuracy[f];
    out->acc_mean = s / out->n_folds;
    double v = 0.0;
    for (int f = 0; f < out->n_folds; f++)
        v += (out->accuracy[f] - out->acc_mean) * (out->accuracy[f] - out->acc_mean);
    out->acc_std = sqrt(v / out->n_folds);
}

static void result_init(xfiq_kfold_result *out, int n_folds)
{
    memset(out, 0, sizeof(*out));
    out->n_folds = n_folds;
    out->val_mean = out->val_std = out->far_mean = NAN;
}

/* Shared body of the score and distance sweeps over fixed thresholds. */
static xfiq_status kfold_sweep(const double *v, const uint8_t *labels, int64_t n,
                               const int32_t *folds, int n_folds, const double *thr, int n_thr,
                               int accept_below, xfiq_kfold_result *out)
{
    int32_t *own = NULL;
    if (!folds) {
        own = malloc((size_t)(n ? n : 1) * sizeof(int32_t));
        if (!own)
            return xfiq_error(XFIQ_ERR_NOMEM, "out of memory for fold ids");
        xfiq_status st = xfiq_kfold_assign(n, n_folds, own);
        if (st != XFIQ_OK) {
            free(own);
            return st;
        }
        folds = own;
    }
    xfiq_kfold_counts c;
    xfiq_status st = xfiq_kfold_counts_build(v, labels, folds, n, n_folds, thr, n_thr,
                                             accept_below, &c);
    for (int f = 0; st == XFIQ_OK && f < n_folds; f++) {
        int best;
        st = xfiq_kfold_fold_eval(&c, f, accept_below, &best, &out->accuracy[f]);
        out->threshold[f] = thr[best];
    }
    if (st == XFIQ_OK)
        xfiq_kfold_finish(out);
    xfiq_kfold_counts_free(&c);
    free(own);
    return st;
}

static xfiq_status check_args(const double *v, const uint8_t *labels, int64_t n, int n_folds,
                              const char *who)
{
    if (!v || !labels || n < 1 || n_folds < 2 || n_folds > XFIQ_MAX_FOLDS || n < n_folds)
        return xfiq_error(XFIQ_ERR_ARG, "%s: needs at least n_folds pairs and 2..%d folds (n %lld, folds %d)",
                          who, XFIQ_MAX_FOLDS, (long long)n, n_folds);
    for (int64_t i = 0; i < n; i++)
        if (labels[i] > 1)
            return xfiq_error(XFIQ_ERR_ARG, "%s: label of pair %lld is %u, not 0 or 1", who,
                              (long long)i, labels[i]);
    return XFIQ_OK;
}

xfiq_status xfiq_kfold_scores(const double *scores, const uint8_t *labels, int64_t n,
                              const int32_t *folds, int n_folds, xfiq_kfold_result *out)
{
    XFIQ_TRY(check_args(scores, labels, n, n_folds, "xfiq_kfold_scores"));
    result_init(out, n_folds);
    double mn = INFINITY, mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(scores[i]))
            return xfiq_error(XFIQ_ERR_ARG, "pair %lld has a NaN score", (long long)i);
        mn = scores[i] < mn ? scores[i] : mn;
        mx = scores[i] > mx ? scores[i] : mx;
    }
    if (!isfinite(mn) || !isfinite(mx))
        return xfiq_error(XFIQ_ERR_ARG, "scores must be finite for the 600-threshold sweep");
    double thr[XFIQ_QMAG_PROTOCOL_THRESHOLDS];
    for (int i = 0; i < XFIQ_QMAG_PROTOCOL_THRESHOLDS; i++)
        thr[i] = xfiq_linspace_at(mn, mx, XFIQ_QMAG_PROTOCOL_THRESHOLDS, i);
    return kfold_sweep(scores, labels, n, folds, n_folds, thr, XFIQ_QMAG_PROTOCOL_THRESHOLDS, 0,
                       out);
}

double *xfiq_arange_thresholds(double step, int count)
{
    double *t = malloc((size_t)(count > 0 ? count : 1) * sizeof(double));
    if (t)
        for (int i = 0; i < count; i++)
            t[i] = (double)i * step; /* numpy.arange fills start + i * delta */
    return t;
}

xfiq_status xfiq_kfold_distances(const double *dist, const uint8_t *labels, int64_t n,
                                 const int32_t *folds, int n_folds, double step, int count,
                                 xfiq_kfold_result *out)
{
    XFIQ_TRY(check_args(dist, labels, n, n_folds, "xfiq_kfold_distances"));
    if (count < 1 || !(step > 0.0))
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_kfold_distances: needs count >= 1 and step > 0");
    result_init(out, n_folds);
    double *thr = xfiq_arange_thresholds(step, count);
    if (!thr)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory for %d thresholds", count);
    xfiq_status st = kfold_sweep(dist, labels, n, folds, n_folds, thr, count, 1, out);
    free(thr);
    return st;
}

/* The threshold where a non-decreasing staircase x (FAR at thresholds y)
 * reaches xv: linear between the last threshold with x <= xv and the next
 * one (insightface called interp1d(kind='slinear') here, which scipy 1.10
 * refuses for the repeated x values every FAR curve has). */
double xfiq_interp_staircase(const double *x, const double *y, int m, double xv)
{
    int lo = 0, hi = m - 1;
    while (lo < hi) { /* last j with x[j] <= xv */
        int mid = lo + (hi - lo + 1) / 2;
        if (x[mid] <= xv)
            lo = mid;
        else
            hi = mid - 1;
    }
    if (lo >= m - 1)
        return y[m - 1];
    return y[lo] + (y[lo + 1] - y[lo]) * ((xv - x[lo]) / (x[lo + 1] - x[lo]));
}

xfiq_status xfiq_kfold_val_far(const double *dist, const uint8_t *labels, int64_t n,
                               const int32_t *folds, int n_folds, double step, int count,
                               double far_target, double *val_mean, double *val_std,
                               double *far_mean)
{
    XFIQ_TRY(check_args(dist, labels, n, n_folds, "xfiq_kfold_val_far"));
    if (count < 2 || !(step > 0.0))
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_kfold_val_far: needs count >= 2 and step > 0");
    int32_t *own = NULL;
    if (!folds) {
        own = malloc((size_t)n * sizeof(int32_t));
        if (!own)
            return xfiq_error(XFIQ_ERR_NOMEM, "out of memory for fold ids");
        xfiq_kfold_assign(n, n_folds, own);
        folds = own;
    }
    double *thr = xfiq_arange_thresholds(step, count);
    double *far = malloc((size_t)count * sizeof(double));
    xfiq_kfold_counts c = {0};
    xfiq_status st = XFIQ_OK;
    if (!thr || !far)
        st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory for %d thresholds", count);
    if (st == XFIQ_OK)
        st = xfiq_kfold_counts_build(dist, labels, folds, n, n_folds, thr, count, 1, &c);
    double val[XFIQ_MAX_FOLDS], fa[XFIQ_MAX_FOLDS];
    for (int f = 0; st == XFIQ_OK && f < n_folds; f++) {
        int64_t n_imp_train = 0;
        for (int k = 0; k < n_folds; k++)
            if (k != f)
                n_imp_train += c.total[2 * k];
        if (!n_imp_train) {
            st = xfiq_error(XFIQ_ERR_ARG, "VAL@FAR: the training folds of fold %d hold no impostor pair", f);
            break;
        }
        for (int i = 0; i < count; i++) {
            const int64_t *row = c.cum + (size_t)i * n_folds * 2;
            int64_t fa_cnt = 0;
            for (int k = 0; k < n_folds; k++)
                if (k != f)
                    fa_cnt += row[2 * k];
            far[i] = (double)fa_cnt / (double)n_imp_train;
        }
        double t = 0.0;
        if (far[count - 1] >= far_target)
            t = xfiq_interp_staircase(far, thr, count, far_target);
        int64_t ta = 0, fa_n = 0, ns = c.total[2 * f + 1], nd = c.total[2 * f];
        for (int64_t i = 0; i < n; i++) {
            if (folds[i] != f || !(dist[i] < t))
                continue;
            if (labels[i])
                ta++;
            else
                fa_n++;
        }
        if (!ns || !nd) {
            st = xfiq_error(XFIQ_ERR_ARG, "VAL@FAR: test fold %d needs genuine and impostor pairs", f);
            break;
        }
        val[f] = (double)ta / (double)ns;
        fa[f] = (double)fa_n / (double)nd;
    }
    if (st == XFIQ_OK) {
        double sv = 0, sf = 0, ss = 0;
        for (int f = 0; f < n_folds; f++) {
            sv += val[f];
            sf += fa[f];
        }
        sv /= n_folds;
        sf /= n_folds;
        for (int f = 0; f < n_folds; f++)
            ss += (val[f] - sv) * (val[f] - sv);
        *val_mean = sv;
        *val_std = sqrt(ss / n_folds);
        *far_mean = sf;
    }
    xfiq_kfold_counts_free(&c);
    free(thr);
    free(far);
    free(own);
    return st;
}
