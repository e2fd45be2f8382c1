/* score.c - comparison scores from raw embeddings: magnitudes, cosine and
 * QMagFace scores of listed pairs (double accumulation), and all-vs-all
 * blocks as one float32 GEMM followed by the QMagFace epilogue. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "core/status.h"
#include "eval/elem_eval.h"
#include "eval/score_internal.h"
#include "xfiq_eval.h"

/* Below this many multiply-adds a parallel region costs more than it saves
 * (and on a busy machine far more). */
#define XFIQ_SCORE_PAR_MIN (1 << 23)
/* Pairs ahead whose rows are prefetched. */
#define XFIQ_SCORE_AHEAD 4

/* 32 independent double lanes: enough chains to hide the multiply-add
 * latency (8 lanes made one pair cost ~4 cycles per 8 elements), and a
 * summation order fixed by the code whatever the flags (an ordinary
 * reduction would not be vectorised without -ffast-math). */
#define DOT_LANES 32
static double dot_f64(const float *a, const float *b, int d)
{
    double acc[DOT_LANES] = {0};
    int i = 0;
    for (; i + DOT_LANES <= d; i += DOT_LANES)
        for (int k = 0; k < DOT_LANES; k++)
            acc[k] += (double)a[i + k] * (double)b[i + k];
    double tail = 0.0;
    for (; i < d; i++)
        tail += (double)a[i] * (double)b[i];
    for (int w = DOT_LANES / 2; w >= 1; w /= 2) /* pairwise: lane k += lane k + w */
        for (int k = 0; k < w; k++)
            acc[k] += acc[k + w];
    return acc[0] + tail;
}

xfiq_status xfiq_embeddings_magnitudes(const float *z, int64_t n, int dim, double *mag)
{
    if (!z || !mag || n < 0 || dim <= 0)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_embeddings_magnitudes: bad arguments (n %lld, dim %d)",
                          (long long)n, dim);
#pragma omp parallel for schedule(static) if (n * (int64_t)dim > XFIQ_SCORE_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        const float *r = z + i * (int64_t)dim;
        mag[i] = sqrt(dot_f64(r, r, dim));
    }
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(mag[i]))
            return xfiq_error(XFIQ_ERR_ARG, "embedding row %lld holds a NaN or infinite value",
                              (long long)i);
    return XFIQ_OK;
}

xfiq_status xfiq_magnitudes_used(const float *z, int64_t n, int dim, const int64_t *idx_a,
                                 const int64_t *idx_b, int64_t n_pairs, double *mag)
{
    for (int64_t i = 0; i < n; i++)
        mag[i] = -1.0;
    for (int64_t i = 0; i < n_pairs; i++)
        mag[idx_a[i]] = mag[idx_b[i]] = 0.0;
    int64_t bad_row = -1;
#pragma omp parallel for schedule(static, 64) if (n * (int64_t)dim > XFIQ_SCORE_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        if (mag[i] < 0.0)
            continue;
        const float *r = z + i * (int64_t)dim;
        mag[i] = sqrt(dot_f64(r, r, dim));
        if (!isfinite(mag[i])) {
#pragma omp critical(xfiq_score_nan)
            bad_row = bad_row < 0 || i < bad_row ? i : bad_row;
        }
    }
    if (bad_row >= 0)
        return xfiq_error(XFIQ_ERR_ARG, "embedding row %lld holds a NaN or infinite value",
                          (long long)bad_row);
    return XFIQ_OK;
}

xfiq_status xfiq_pairs_check_rows(const char *who, const float *z, int64_t n, int dim, const int64_t *idx_a,
                                  const int64_t *idx_b, int64_t n_pairs, const double *cos_out)
{
    if (!z || !idx_a || !idx_b || !cos_out || n_pairs < 0 || dim <= 0)
        return xfiq_error(XFIQ_ERR_ARG, "%s: bad arguments", who);
    for (int64_t i = 0; i < n_pairs; i++)
        if (idx_a[i] < 0 || idx_a[i] >= n || idx_b[i] < 0 || idx_b[i] >= n)
            return xfiq_error(XFIQ_ERR_ARG, "pair %lld refers to row %lld/%lld of %lld embeddings",
                              (long long)i, (long long)idx_a[i], (long long)idx_b[i],
                              (long long)n);
    return XFIQ_OK;
}

xfiq_status xfiq_pairs_check_zero(const double *mag, const int64_t *idx_a, const int64_t *idx_b, int64_t n_pairs)
{
    for (int64_t i = 0; i < n_pairs; i++)
        if (mag[idx_a[i]] == 0.0 || mag[idx_b[i]] == 0.0)
            return xfiq_error(XFIQ_ERR_ARG, "embedding row %lld is all zeros: no direction to compare",
                              (long long)(mag[idx_a[i]] == 0.0 ? idx_a[i] : idx_b[i]));
    return XFIQ_OK;
}

xfiq_status xfiq_score_pairs(const float *z, int64_t n, int dim, const double *mag,
                             const int64_t *idx_a, const int64_t *idx_b, int64_t n_pairs,
                             const xfiq_qmag_params *p, double *cos_out, double *q_out,
                             double *qmag_out)
{
    XFIQ_TRY(xfiq_pairs_check_rows("xfiq_score_pairs", z, n, dim, idx_a, idx_b, n_pairs, cos_out));
    double *own = NULL;
    if (!mag) { /* only the rows the pairs use: benchmarks often use a subset */
        own = malloc((size_t)(n ? n : 1) * sizeof(double));
        if (!own)
            return xfiq_error(XFIQ_ERR_NOMEM, "out of memory for %lld magnitudes", (long long)n);
        xfiq_status st = xfiq_magnitudes_used(z, n, dim, idx_a, idx_b, n_pairs, own);
        if (st != XFIQ_OK) {
            free(own);
            return st;
        }
        mag = own;
    }
    xfiq_status zst = xfiq_pairs_check_zero(mag, idx_a, idx_b, n_pairs);
    if (zst != XFIQ_OK) {
        free(own);
        return zst;
    }
    const int want_q = p && qmag_out;
#pragma omp parallel for schedule(static, 1024) if (n_pairs * (int64_t)dim > XFIQ_SCORE_PAR_MIN)
    for (int64_t i = 0; i < n_pairs; i++) {
        int64_t a = idx_a[i], b = idx_b[i];
        if (XFIQ_SCORE_AHEAD && i + XFIQ_SCORE_AHEAD < n_pairs) { /* rows come from random places: ask early */
            const char *pa = (const char *)(z + idx_a[i + XFIQ_SCORE_AHEAD] * (int64_t)dim);
            const char *pb = (const char *)(z + idx_b[i + XFIQ_SCORE_AHEAD] * (int64_t)dim);
            for (size_t off = 0; off < (size_t)dim * sizeof(float); off += 64) {
                __builtin_prefetch(pa + off);
                __builtin_prefetch(pb + off);
            }
        }
        double ma = mag[a], mb = mag[b];
        double s = dot_f64(z + a * (int64_t)dim, z + b * (int64_t)dim, dim) / (ma * mb);
        double q = xfiq_pair_quality(ma, mb);
        cos_out[i] = s;
        if (q_out)
            q_out[i] = q;
        if (want_q)
            qmag_out[i] = xfiq_qmag_elem(s, q, p->alpha, p->beta);
    }
    free(own);
    return XFIQ_OK;
}

/* Normalised float copy and float magnitudes of n rows. */
static xfiq_status normalize_rows(const float *z, int64_t n, int dim, const char *what, float *e,
                                  float *q)
{
    int64_t bad = -1;
#pragma omp parallel for schedule(static) if (n * (int64_t)dim > XFIQ_SCORE_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        const float *r = z + i * (int64_t)dim;
        double m = sqrt(dot_f64(r, r, dim));
        q[i] = (float)m;
        float inv = m > 0.0 ? (float)(1.0 / m) : 0.0f;
        float *o = e + i * (int64_t)dim;
        for (int k = 0; k < dim; k++)
            o[k] = r[k] * inv;
        if (!(m > 0.0) || !isfinite(m)) {
#pragma omp critical(xfiq_score_bad)
            if (bad < 0 || i < bad)
                bad = i;
        }
    }
    if (bad >= 0)
        return xfiq_error(XFIQ_ERR_ARG, "%s row %lld is zero or not finite", what, (long long)bad);
    return XFIQ_OK;
}

xfiq_status xfiq_score_block(const float *gallery, int64_t n_gallery, const float *probe,
                             int64_t n_probe, int dim, const xfiq_qmag_params *p, float *out)
{
    if (!gallery || !probe || !out || n_gallery < 0 || n_probe < 0 || dim <= 0)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_score_block: bad arguments");
    if (n_gallery > INT32_MAX || n_probe > INT32_MAX)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_score_block: at most %d rows per side", INT32_MAX);
    if (!n_gallery || !n_probe)
        return XFIQ_OK;
    float *eg = malloc((size_t)n_gallery * dim * sizeof(float));
    float *ep = malloc((size_t)n_probe * dim * sizeof(float));
    float *qg = malloc((size_t)n_gallery * sizeof(float));
    float *qp = malloc((size_t)n_probe * sizeof(float));
    xfiq_status st = XFIQ_OK;
    if (!eg || !ep || !qg || !qp)
        st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory normalising %lld + %lld embeddings",
                        (long long)n_gallery, (long long)n_probe);
    if (st == XFIQ_OK)
        st = normalize_rows(gallery, n_gallery, dim, "gallery", eg, qg);
    if (st == XFIQ_OK)
        st = normalize_rows(probe, n_probe, dim, "probe", ep, qp);
    if (st == XFIQ_OK) {
        /* one GEMM call: OpenBLAS splits it best across its threads (row
         * panels of a few hundred rows measured slower with two threads) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n_gallery, (int)n_probe, dim, 1.0f, eg,
                    dim, ep, dim, 0.0f, out, (int)n_probe);
        if (p) {
            /* serial on purpose: OpenBLAS's threads still spin after the
             * GEMM, and OpenMP threads beside them halve the speed; one
             * vectorised pass is memory-bound anyway */
            const float alpha = (float)p->alpha, beta = (float)p->beta;
            for (int64_t r = 0; r < n_gallery; r++) {
                const float qr = qg[r];
                float *row = out + r * n_probe;
                for (int64_t j = 0; j < n_probe; j++)
                    row[j] = xfiq_qmag_elem_f(row[j], xfiq_pair_quality_f(qr, qp[j]), alpha, beta);
            }
        }
    }
    free(eg);
    free(ep);
    free(qg);
    free(qp);
    return st;
}
