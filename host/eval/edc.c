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
