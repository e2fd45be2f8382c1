/* protocol.c - the three named 10-fold accuracy protocols computed from raw
 * embeddings (QMagFace, insightface, MagFace), for cosine or QMagFace
 * scores. How each protocol carries the QMagFace score is documented in
 * host/eval/README.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "eval/elem_eval.h"
#include "eval/kfold_internal.h"
#include "eval/score_internal.h"
#include "xfiq_eval.h"

#define XFIQ_PI 3.14159265358979323846

/* Squared L2 distance of the normalised rows, element by element as
 * numpy does it after sklearn's normalize (z / |z| first, then subtract). */
static double sq_dist_normalized(const float *a, double ma, const float *b, double mb, int d)
{
    double acc[4] = {0, 0, 0, 0};
    int i = 0;
    for (; i + 4 <= d; i += 4)
        for (int k = 0; k < 4; k++) {
            double t = (double)a[i + k] / ma - (double)b[i + k] / mb;
            acc[k] += t * t;
        }
    double s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (; i < d; i++) {
        double t = (double)a[i] / ma - (double)b[i] / mb;
        s += t * t;
    }
    return s;
}

/* MagFace protocol, fold f: cosine of the rows minus the training folds'
 * mean embedding (every occurrence of a row in a training pair counts). */
static void magface_fold_scores(const float *z, int dim, const int64_t *ia, const int64_t *ib,
                                int64_t n, const int32_t *folds, int f, double *mean, double *cos)
{
    memset(mean, 0, sizeof(double) * dim);
    int64_t cnt = 0;
    for (int64_t i = 0; i < n; i++) {
        if (folds[i] == f)
            continue;
        const float *ra = z + ia[i] * (int64_t)dim;
        for (int k = 0; k < dim; k++)
            mean[k] += ra[k];
        cnt++;
    }
    for (int64_t i = 0; i < n; i++) {
        if (folds[i] == f)
            continue;
        const float *rb = z + ib[i] * (int64_t)dim;
        for (int k = 0; k < dim; k++)
            mean[k] += rb[k];
        cnt++;
    }
    for (int k = 0; k < dim; k++)
        mean[k] /= (double)cnt;
#pragma omp parallel for schedule(static, 256) if (n * (int64_t)dim > (1 << 23))
    for (int64_t i = 0; i < n; i++) {
        const float *ra = z + ia[i] * (int64_t)dim, *rb = z + ib[i] * (int64_t)dim;
        double dot = 0, na = 0, nb = 0;
        for (int k = 0; k < dim; k++) {
            double x = ra[k] - mean[k], y = rb[k] - mean[k];
            dot += x * y;
            na += x * x;
            nb += y * y;
        }
        cos[i] = dot / (sqrt(na) * sqrt(nb));
    }
}

static double clip1(double c) { return c < -1.0 ? -1.0 : c > 1.0 ? 1.0 : c; }

xfiq_status xfiq_kfold_protocol(xfiq_protocol proto, const float *z, int64_t n_emb, int dim,
                                const int64_t *ia, const int64_t *ib, const uint8_t *labels,
                                int64_t n, const int32_t *folds, int n_folds,
                                const xfiq_qmag_params *p, xfiq_kfold_result *out)
{
    if (!z || !ia || !ib || !labels || !out || dim <= 0 || n < 1)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_kfold_protocol: bad arguments");
    if (n_folds < 2 || n_folds > XFIQ_MAX_FOLDS || n < n_folds)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_kfold_protocol: %d folds for %lld pairs", n_folds,
                          (long long)n);
    double *mag = malloc((size_t)n_emb * sizeof(double));
    double *s = malloc((size_t)n * sizeof(double));
    double *q = malloc((size_t)n * sizeof(double));
    double *v = malloc((size_t)n * sizeof(double));
    int32_t *own = NULL;
    xfiq_status st = XFIQ_OK;
    if (!mag || !s || !q || !v)
        st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory scoring %lld pairs", (long long)n);
    if (st == XFIQ_OK && !folds) {
        own = malloc((size_t)n * sizeof(int32_t));
        if (!own)
            st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory for fold ids");
        else
            st = xfiq_kfold_assign(n, n_folds, own);
        folds = own;
    }
    for (int64_t i = 0; st == XFIQ_OK && i < n; i++)
        if (ia[i] < 0 || ia[i] >= n_emb || ib[i] < 0 || ib[i] >= n_emb)
            st = xfiq_error(XFIQ_ERR_ARG, "pair %lld refers to a row outside 0..%lld", (long long)i,
                            (long long)n_emb - 1);
    if (st == XFIQ_OK) /* only the rows the pairs use */
        st = xfiq_magnitudes_used(z, n_emb, dim, ia, ib, n, mag);
    if (st == XFIQ_OK)
        st = xfiq_score_pairs(z, n_emb, dim, mag, ia, ib, n, p, s, q, p ? v : NULL);
    if (st != XFIQ_OK)
        goto done;

    if (proto == XFIQ_PROTOCOL_QMAGFACE) {
        st = xfiq_kfold_scores(p ? v : s, labels, n, folds, n_folds, out);
    } else if (proto == XFIQ_PROTOCOL_INSIGHTFACE) {
        if (p) {
            for (int64_t i = 0; i < n; i++)
                v[i] = 2.0 - 2.0 * v[i]; /* the squared L2 of unit vectors with cos = s */
        } else {
#pragma omp parallel for schedule(static, 256) if (n * (int64_t)dim > (1 << 23))
            for (int64_t i = 0; i < n; i++)
                v[i] = sq_dist_normalized(z + ia[i] * (int64_t)dim, mag[ia[i]],
                                          z + ib[i] * (int64_t)dim, mag[ib[i]], dim);
        }
        st = xfiq_kfold_distances(v, labels, n, folds, n_folds, 0.01, 400, out);
        /* VAL needs both classes in every fold; where one is missing (a
         * subset of a file sorted by label) it is not defined: NaN */
        if (st == XFIQ_OK &&
            xfiq_kfold_val_far(v, labels, n, folds, n_folds, 0.001, 4000, 1e-3, &out->val_mean,
                               &out->val_std, &out->far_mean) != XFIQ_OK) {
            out->val_mean = out->val_std = out->far_mean = NAN;
            xfiq_error_clear();
        }
    } else if (proto == XFIQ_PROTOCOL_MAGFACE) {
        memset(out, 0, sizeof(*out));
        out->n_folds = n_folds;
        out->val_mean = out->val_std = out->far_mean = NAN;
        double *mean = malloc((size_t)dim * sizeof(double));
        double *thr = xfiq_arange_thresholds(0.01, 400);
        if (!mean || !thr)
            st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory for the MagFace protocol");
        for (int f = 0; st == XFIQ_OK && f < n_folds; f++) {
            magface_fold_scores(z, dim, ia, ib, n, folds, f, mean, s);
            for (int64_t i = 0; i < n; i++) {
                double c = p ? xfiq_qmag_elem(s[i], q[i], p->alpha, p->beta) : s[i];
                v[i] = acos(clip1(c)) / XFIQ_PI;
            }
            xfiq_kfold_counts c;
            st = xfiq_kfold_counts_build(v, labels, folds, n, n_folds, thr, 400, 1, &c);
            int best = 0;
            if (st == XFIQ_OK)
                st = xfiq_kfold_fold_eval(&c, f, 1, &best, &out->accuracy[f]);
            out->threshold[f] = thr[best];
            xfiq_kfold_counts_free(&c);
        }
        if (st == XFIQ_OK)
            xfiq_kfold_finish(out);
        free(mean);
        free(thr);
    } else {
        st = xfiq_error(XFIQ_ERR_ARG, "unknown protocol %d", (int)proto);
    }
done:
    free(mag);
    free(s);
    free(q);
    free(v);
    free(own);
    return st;
}
