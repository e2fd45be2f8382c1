/* edc.c - error-versus-discard curves: drop the pairs of lowest pair
 * quality and follow the FNMR at a chosen FMR, either at the threshold fixed
 * on the full set (the usual EDC/ERC) or recomputed on what is left. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "eval/eval_util.h"
#include "xfiq_eval.h"

#pragma GCC optimize("fp-contract=off")

/* Number of pairs discarded at fraction f: round half up of f * n. */
static int64_t discard_count(double f, int64_t n)
{
    double k = floor(f * (double)n + 0.5);
    if (k < 0)
        k = 0;
    if (k > (double)n)
        k = (double)n;
    return (int64_t)k;
}

xfiq_status xfiq_edc_compute(const double *scores, const uint8_t *labels,
                             const double *pq, int64_t n, double fmr, xfiq_edc_mode mode,
                             double lo, double hi, int n_points, double *discard_out,
                             double *fnmr_out, double *threshold_out, double *auc_out)
{
    if (!scores || !labels || !pq || !discard_out || !fnmr_out || n < 2 || n_points < 1 ||
        !(lo >= 0.0) || !(hi <= 1.0) || !(lo <= hi) || !(fmr >= 0.0 && fmr <= 1.0) ||
        n > UINT32_MAX)
        return xfiq_error(XFIQ_ERR_ARG,
                          "xfiq_edc_compute: needs n >= 2 pairs, 0 <= lo <= hi <= 1, n_points >= 1, 0 <= fmr <= 1");
    for (int64_t i = 0; i < n; i++)
        if (isnan(pq[i]))
            return xfiq_error(XFIQ_ERR_ARG, "pair %lld has no quality (NaN)", (long long)i);

    /* pairs in order of increasing quality, ties by pair index */
    uint64_t *key = malloc((size_t)n * 8), *tk = malloc((size_t)n * 8);
    uint32_t *ord = malloc((size_t)n * 4), *tp = malloc((size_t)n * 4);
    double *sub_s = malloc((size_t)n * sizeof(double));
    uint8_t *sub_l = malloc((size_t)n);
    xfiq_status st = XFIQ_OK;
    if (!key || !tk || !ord || !tp || !sub_s || !sub_l)
        st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory for an EDC of %lld pairs", (long long)n);
    double thr = NAN;
    xfiq_roc_t roc = NULL;
    if (st == XFIQ_OK) {
        for (int64_t i = 0; i < n; i++) {
            key[i] = xfiq_key_of(pq[i]);
            ord[i] = (uint32_t)i;
        }
        xfiq_radix_sort_u64_pay(key, ord, tk, tp, (size_t)n);
        st = xfiq_roc_build(scores, labels, n, &roc);
    }
    if (st == XFIQ_OK)
        st = xfiq_roc_fnmr_at(roc, fmr, NULL, &thr);
    xfiq_roc_free(roc);

    /* fixed threshold: suffix counts of genuine pairs and of rejected ones */
    int64_t *gen_left = NULL, *rej_left = NULL;
    if (st == XFIQ_OK && mode == XFIQ_EDC_FIXED) {
        gen_left = malloc((size_t)(n + 1) * 8);
        rej_left = malloc((size_t)(n + 1) * 8);
        if (!gen_left || !rej_left)
            st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory for the EDC counts");
        else {
            gen_left[n] = rej_left[n] = 0;
            for (int64_t k = n - 1; k >= 0; k--) {
                uint32_t i = ord[k];
                gen_left[k] = gen_left[k + 1] + (labels[i] ? 1 : 0);
                rej_left[k] = rej_left[k + 1] + (labels[i] && scores[i] < thr ? 1 : 0);
            }
        }
    }
    for (int j = 0; st == XFIQ_OK && j < n_points; j++) {
        double f = xfiq_linspace_at(lo, hi, n_points, j);
        int64_t k = discard_count(f, n);
        discard_out[j] = f;
        if (mode == XFIQ_EDC_FIXED) {
            fnmr_out[j] = gen_left[k] ? (double)rej_left[k] / (double)gen_left[k] : NAN;
            continue;
        }
        int64_t m = 0, g = 0;
        for (int64_t r = k; r < n; r++) {
            sub_s[m] = scores[ord[r]];
            sub_l[m] = labels[ord[r]];
            g += sub_l[m];
            m++;
        }
        if (!g || g == m) {
            fnmr_out[j] = NAN;
            continue;
        }
        xfiq_roc_t r2 = NULL;
        st = xfiq_roc_build(sub_s, sub_l, m, &r2);
        if (st == XFIQ_OK)
            st = xfiq_roc_fnmr_at(r2, fmr, &fnmr_out[j], NULL);
        xfiq_roc_free(r2);
    }
    if (st == XFIQ_OK) {
        if (threshold_out)
            *threshold_out = mode == XFIQ_EDC_FIXED ? thr : NAN;
        if (auc_out) { /* trapezoid rule over the points (numpy.trapz) */
            double a = 0.0;
            for (int j = 1; j < n_points; j++)
                a += (discard_out[j] - discard_out[j - 1]) * (fnmr_out[j] + fnmr_out[j - 1]) / 2.0;
            *auc_out = a;
        }
    }
    free(key);
    free(tk);
    free(ord);
    free(tp);
    free(sub_s);
    free(sub_l);
    free(gen_left);
    free(rej_left);
    return st;
}

void xfiq_edc_options_default(xfiq_edc_mode mode, xfiq_edc_options *o)
{
    memset(o, 0, sizeof *o);
    o->mode = mode;
    o->fmr = 1e-3;
    o->discard_limit = mode == XFIQ_EDC_FIXED ? 0.2 : 0.95;
    o->step = 0.05;
}

void xfiq_edc_result_free(xfiq_edc_result *r)
{
    if (!r)
        return;
    free(r->discard);
    free(r->fnmr);
    free(r->best);
    memset(r, 0, sizeof *r);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Area of a step curve (value y[j] on [x[j], x[j+1]), the last value to
 * limit) over [0, limit]; NaN values end the curve (their value is the
 * previous one). */
static double step_area(const double *x, const double *y, int64_t m, double limit)
{
    double a = 0, last = 0;
    for (int64_t j = 0; j < m && x[j] < limit; j++) {
        double v = isnan(y[j]) ? last : y[j];
        double x1 = j + 1 < m && x[j + 1] < limit ? x[j + 1] : limit;
        a += v * (x1 - x[j]);
        last = v;
    }
    return a;
}

static xfiq_status edc_fixed(const double *scores, const uint8_t *labels, const double *pq, int64_t n,
                             const xfiq_edc_options *o, xfiq_edc_result *r)
{
    uint64_t *key = malloc((size_t)n * 8), *tk = malloc((size_t)n * 8);
    uint32_t *ord = malloc((size_t)n * 4), *tp = malloc((size_t)n * 4);
    double *gen = malloc((size_t)n * sizeof *gen);
    r->discard = malloc((size_t)(n + 1) * sizeof(double));
    r->fnmr = malloc((size_t)(n + 1) * sizeof(double));
    r->best = malloc((size_t)(n + 1) * sizeof(double));
    double *bx = malloc((size_t)(n + 1) * sizeof(double)), *by = malloc((size_t)(n + 1) * sizeof(double));
    xfiq_status st = XFIQ_OK;
    if (!key || !tk || !ord || !tp || !gen || !r->discard || !r->fnmr || !r->best || !bx || !by) {
        st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory for an EDC of %lld pairs", (long long)n);
        goto done;
    }
    int64_t G = 0;
    for (int64_t i = 0; i < n; i++)
        if (labels[i])
            gen[G++] = scores[i];
    if (G == 0 || G == n) {
        st = xfiq_error(XFIQ_ERR_ARG, "EDC: needs genuine and impostor pairs (%lld genuine of %lld)", (long long)G,
                        (long long)n);
        goto done;
    }
    double thr;
    if (o->start_fnmr > 0) {
        qsort(gen, (size_t)G, sizeof *gen, cmp_double);
        int64_t k = (int64_t)floor(o->start_fnmr * (double)G);
        thr = gen[k < G ? k : G - 1];
    } else {
        xfiq_roc_t roc = NULL;
        st = xfiq_roc_build(scores, labels, n, &roc);
        if (st == XFIQ_OK)
            st = xfiq_roc_fnmr_at(roc, o->fmr, NULL, &thr);
        xfiq_roc_free(roc);
        if (st != XFIQ_OK)
            goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        key[i] = xfiq_key_of(pq[i]);
        ord[i] = (uint32_t)i;
    }
    xfiq_radix_sort_u64_pay(key, ord, tk, tp, (size_t)n);
    int64_t R = 0;
    for (int64_t i = 0; i < n; i++)
        R += labels[i] && scores[i] < thr;
    /* points: before any discard, then after each run of equal qualities */
    int64_t g_left = G, r_left = R, m = 0;
    r->discard[m] = 0;
    r->fnmr[m] = (double)R / (double)G;
    m++;
    for (int64_t k = 0; k < n;) {
        int64_t e = k;
        while (e < n && key[e] == key[k]) {
            uint32_t i = ord[e++];
            if (labels[i]) {
                g_left--;
                r_left -= scores[i] < thr;
            }
        }
        k = e;
        if (!g_left)
            break;
        r->discard[m] = (double)k / (double)n;
        r->fnmr[m] = (double)r_left / (double)g_left;
        m++;
    }
    /* theoretical best: one step per pair */
    for (int64_t k = 0; k <= n; k++) {
        int64_t rk = R - k > 0 ? R - k : 0, gk = G - (k < R ? k : R);
        bx[k] = (double)k / (double)n;
        by[k] = gk > 0 ? (double)rk / (double)gk : 0.0;
    }
    for (int64_t j = 0; j < m; j++) {
        int64_t k = (int64_t)llround(r->discard[j] * (double)n);
        r->best[j] = by[k];
    }
    r->n_points = m;
    r->threshold = thr;
    r->fnmr0 = r->fnmr[0];
    r->auc_best = step_area(bx, by, n + 1, o->discard_limit);
    r->auc = step_area(r->discard, r->fnmr, m, o->discard_limit) - (o->subtract_best ? r->auc_best : 0.0);
done:
    free(key);
    free(tk);
    free(ord);
    free(tp);
    free(gen);
    free(bx);
    free(by);
    return st;
}

xfiq_status xfiq_edc_run(const double *scores, const uint8_t *labels, const double *pq, int64_t n,
                         const xfiq_edc_options *o, xfiq_edc_result *out)
{
    if (!out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_edc_run: out is NULL");
    memset(out, 0, sizeof *out);
    if (!scores || !labels || !pq || !o || n < 2 || n > UINT32_MAX)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_edc_run: needs scores, labels, qualities of n >= 2 pairs and options");
    if (!(o->fmr >= 0 && o->fmr <= 1) || !(o->start_fnmr >= 0 && o->start_fnmr < 1) ||
        !(o->discard_limit > 0 && o->discard_limit <= 1))
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_edc_run: fmr in [0, 1], start_fnmr in [0, 1) and discard_limit in "
                                        "(0, 1] (got %g, %g, %g)", o->fmr, o->start_fnmr, o->discard_limit);
    for (int64_t i = 0; i < n; i++)
        if (isnan(pq[i]))
            return xfiq_error(XFIQ_ERR_ARG, "pair %lld has no quality (NaN)", (long long)i);
    xfiq_status st;
    if (o->mode == XFIQ_EDC_FIXED) {
        out->convention = "fixed threshold (ISO/IEC 29794-5)";
        st = edc_fixed(scores, labels, pq, n, o, out);
    } else if (o->mode == XFIQ_EDC_RECOMPUTE) {
        out->convention = "recomputed threshold (CR-FIQA/MagFace)";
        if (!(o->step > 0 && o->step <= 1)) {
            st = xfiq_error(XFIQ_ERR_ARG, "xfiq_edc_run: step %g must be in (0, 1]", o->step);
        } else {
            int pts = (int)floor(o->discard_limit / o->step + 1e-9) + 1;
            double hi = (pts - 1) * o->step;
            out->discard = malloc((size_t)pts * sizeof(double));
            out->fnmr = malloc((size_t)pts * sizeof(double));
            if (!out->discard || !out->fnmr)
                st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory for an EDC");
            else
                st = xfiq_edc_compute(scores, labels, pq, n, o->fmr, XFIQ_EDC_RECOMPUTE, 0.0, hi, pts, out->discard,
                                      out->fnmr, NULL, &out->auc);
            out->n_points = pts;
            out->threshold = NAN;
            out->auc_best = NAN;
            out->fnmr0 = out->fnmr ? out->fnmr[0] : NAN;
        }
    } else
        st = xfiq_error(XFIQ_ERR_ARG, "xfiq_edc_run: unknown mode %d", (int)o->mode);
    if (st != XFIQ_OK)
        xfiq_edc_result_free(out);
    return st;
}
