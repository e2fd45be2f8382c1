/* serfiq.c - SER-FIQ dropout masks from the Philox stream and the quality
 * of one image from its T stochastic embeddings (see serfiq.h). */
#include "quality/serfiq.h"

#include <math.h>
#include <stdlib.h>

#include <omp.h>

#include "core/status.h"
#include "quality/elem_quality.h"
#include "quality/philox.h"

xfiq_status serfiq_dropout_check(const serfiq_dropout *cfg)
{
    if (!cfg)
        return xfiq_error(XFIQ_ERR_ARG, "serfiq: dropout configuration is NULL");
    if (!(cfg->p >= 0.0f && cfg->p < 1.0f))
        return xfiq_error(XFIQ_ERR_ARG, "serfiq: dropout rate p = %g is outside [0, 1)", (double)cfg->p);
    if (cfg->dim <= 0)
        return xfiq_error(XFIQ_ERR_ARG, "serfiq: dropout point size %d is not positive", cfg->dim);
    if (cfg->kind == SERFIQ_MASK_CHANNEL) {
        if (cfg->spatial <= 0 || cfg->dim % cfg->spatial != 0)
            return xfiq_error(XFIQ_ERR_ARG,
                              "serfiq: channel-wise masks need dim (%d) to be a multiple of spatial (%d)",
                              cfg->dim, cfg->spatial);
    } else if (cfg->kind != SERFIQ_MASK_ELEMENT) {
        return xfiq_error(XFIQ_ERR_ARG, "serfiq: unknown mask kind %d", (int)cfg->kind);
    }
    return XFIQ_OK;
}

#define SERFIQ_LANES 16

/* Dropout words of SERFIQ_LANES consecutive groups g0 .. g0+15 of one
 * (seed, image, pass). Kept as a separate loop over the scalar generator:
 * GCC vectorises it across groups (AVX-512: ~2.5 ns per group, 4x faster
 * than the lane-wise rewrite or the loop inlined into serfiq_row). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void serfiq_words_block(uint64_t seed, uint64_t image_id, uint32_t pass, uint32_t g0,
                               uint32_t out[SERFIQ_LANES][4])
{
    for (int i = 0; i < SERFIQ_LANES; i++)
        xfiq_dropout_words(seed, image_id, pass, g0 + (uint32_t)i, out[i]);
}

/* Writes the mask (x NULL) or x * mask for e = 0..dim-1 of one pass: one
 * Philox output per four decisions, multipliers of 64 units at a time, then
 * a branch-free multiply (keep bits are random: a branch per element would
 * be mispredicted half the time). */
static void serfiq_row(const serfiq_dropout *cfg, uint64_t image_id, uint32_t pass, const float *x, float *out)
{
    const float scale = xfiq_dropout_scale(cfg->p);
    const int dim = cfg->dim;
    const int spatial = cfg->kind == SERFIQ_MASK_CHANNEL ? cfg->spatial : 1;
    const int units = dim / spatial; /* elements or channels */
    const uint32_t thr = xfiq_dropout_threshold(cfg->p);
    uint32_t w[SERFIQ_LANES][4];
    const uint32_t *wf = &w[0][0]; /* element j of the block is word wf[j] */
    float mult[4 * SERFIQ_LANES];
    for (int u0 = 0; u0 < units; u0 += 4 * SERFIQ_LANES) {
        serfiq_words_block(cfg->seed, image_id, pass, (uint32_t)u0 >> 2, w);
        int un = units - u0 < 4 * SERFIQ_LANES ? units - u0 : 4 * SERFIQ_LANES;
        for (int j = 0; j < 4 * SERFIQ_LANES; j++)
            mult[j] = scale * (float)((wf[j] >> 8) >= thr);
        if (spatial == 1) {
            float *o = out + u0;
            if (x) {
                const float *xi = x + u0;
                for (int j = 0; j < un; j++)
                    o[j] = xi[j] * mult[j];
            } else {
                for (int j = 0; j < un; j++)
                    o[j] = mult[j];
            }
            continue;
        }
        for (int j = 0; j < un; j++) {
            float *o = out + (size_t)(u0 + j) * spatial;
            const float m = mult[j];
            if (x) {
                const float *xi = x + (size_t)(u0 + j) * spatial;
                for (int s = 0; s < spatial; s++)
                    o[s] = xi[s] * m;
            } else {
                for (int s = 0; s < spatial; s++)
                    o[s] = m;
            }
        }
    }
}

void serfiq_mask_rows(const serfiq_dropout *cfg, uint64_t image_id, uint32_t t0, int nt, float *out)
{
    for (int t = 0; t < nt; t++)
        serfiq_row(cfg, image_id, t0 + (uint32_t)t, NULL, out + (size_t)t * cfg->dim);
}

static xfiq_status serfiq_batch(const serfiq_dropout *cfg, const uint64_t *image_ids, const float *x,
                                int B, int T, float *out, int num_threads)
{
    XFIQ_TRY(serfiq_dropout_check(cfg));
    if (B < 0 || T < 0 || (B > 0 && (!image_ids || !out)))
        return xfiq_error(XFIQ_ERR_ARG, "serfiq: bad batch (B = %d, T = %d, ids %p, out %p)", B, T,
                          (const void *)image_ids, (void *)out);
    if (num_threads <= 0)
        num_threads = omp_get_max_threads();
    long rows = (long)B * T;
    const size_t dim = (size_t)cfg->dim;
#pragma omp parallel for num_threads(num_threads) schedule(static)
    for (long row = 0; row < rows; row++) {
        int b = (int)(row / T), t = (int)(row % T);
        serfiq_row(cfg, image_ids[b], (uint32_t)t, x ? x + (size_t)b * dim : NULL, out + (size_t)row * dim);
    }
    return XFIQ_OK;
}

xfiq_status serfiq_masks_fill(const serfiq_dropout *cfg, const uint64_t *image_ids, int B, int T,
                              float *out, int num_threads)
{
    return serfiq_batch(cfg, image_ids, NULL, B, T, out, num_threads);
}

xfiq_status serfiq_heads_input(const serfiq_dropout *cfg, const uint64_t *image_ids, const float *x,
                               int B, int T, float *out, int num_threads)
{
    if (B > 0 && !x)
        return xfiq_error(XFIQ_ERR_ARG, "serfiq: head input activations are NULL");
    return serfiq_batch(cfg, image_ids, x, B, T, out, num_threads);
}

size_t serfiq_workspace_bytes(int T, int D)
{
    if (T <= 0 || D <= 0)
        return 0;
    return ((size_t)T * D + (size_t)T) * sizeof(double);
}

/* Dot product of two double rows; the simd reduction's order is fixed at
 * compile time, so results are reproducible for a given build. */
static double serfiq_dot(const double *a, const double *b, int n)
{
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int k = 0; k < n; k++)
        s += a[k] * b[k];
    return s;
}

xfiq_status serfiq_quality(const float *emb, int T, int D, double alpha, double r, void *work,
                           serfiq_result *out)
{
    if (!emb || !out)
        return xfiq_error(XFIQ_ERR_ARG, "serfiq_quality: NULL embeddings or result");
    if (T < 2 || D <= 0)
        return xfiq_error(XFIQ_ERR_ARG, "serfiq_quality: need T >= 2 passes and D >= 1 (got T = %d, D = %d)", T, D);
    for (size_t i = 0; i < (size_t)T * D; i++)
        if (!isfinite(emb[i]))
            return xfiq_error(XFIQ_ERR_ARG, "serfiq_quality: embedding of pass %d, element %d is not finite",
                              (int)(i / D), (int)(i % D));
    double *x = work;
    if (!x && !(x = malloc(serfiq_workspace_bytes(T, D))))
        return xfiq_error(XFIQ_ERR_NOMEM, "serfiq_quality: no memory for %d x %d embeddings", T, D);
    double *sq = x + (size_t)T * D; /* squared norms after normalisation: 1 or 0 */

    for (int t = 0; t < T; t++) {
        const float *e = emb + (size_t)t * D;
        double *xt = x + (size_t)t * D;
        double n2 = 0;
        for (int k = 0; k < D; k++)
            n2 += (double)e[k] * e[k];
        double inv = n2 > 0 ? 1.0 / sqrt(n2) : 0.0;
        for (int k = 0; k < D; k++)
            xt[k] = e[k] * inv;
        sq[t] = serfiq_dot(xt, xt, D);
    }
    /* Upper triangle of the Gram matrix, four columns per sweep of row i
     * (one load of x_i feeds four products). */
    double sum = 0;
    for (int i = 0; i < T; i++) {
        const double *xi = x + (size_t)i * D;
        int j = i + 1;
        for (; j + 4 <= T; j += 4) {
            const double *a = x + (size_t)j * D, *b = a + D, *c = b + D, *d = c + D;
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
            for (int k = 0; k < D; k++) {
                s0 += xi[k] * a[k];
                s1 += xi[k] * b[k];
                s2 += xi[k] * c[k];
                s3 += xi[k] * d[k];
            }
            const double g[4] = {s0, s1, s2, s3};
            for (int q = 0; q < 4; q++) {
                double d2 = sq[i] + sq[j + q] - 2.0 * g[q];
                sum += sqrt(d2 > 0 ? d2 : 0.0);
            }
        }
        for (; j < T; j++) {
            double d2 = sq[i] + sq[j] - 2.0 * serfiq_dot(xi, x + (size_t)j * D, D);
            sum += sqrt(d2 > 0 ? d2 : 0.0);
        }
    }
    if (!work)
        free(x);
    out->mean_dist = sum / (0.5 * T * (T - 1));
    out->q_raw = xfiq_serfiq_raw(out->mean_dist);
    out->q = xfiq_serfiq_scaled(out->q_raw, alpha, r);
    return XFIQ_OK;
}

double serfiq_mean_distance_direct(const float *emb, int T, int D)
{
    if (!emb || T < 2 || D <= 0)
        return NAN;
    double *n = malloc((size_t)T * sizeof(double));
    if (!n)
        return NAN;
    for (int t = 0; t < T; t++) {
        double s = 0;
        for (int k = 0; k < D; k++)
            s += (double)emb[(size_t)t * D + k] * emb[(size_t)t * D + k];
        n[t] = s > 0 ? 1.0 / sqrt(s) : 0.0;
    }
    double sum = 0;
    for (int i = 0; i < T; i++)
        for (int j = i + 1; j < T; j++) {
            double s = 0;
            for (int k = 0; k < D; k++) {
                double diff = emb[(size_t)i * D + k] * n[i] - emb[(size_t)j * D + k] * n[j];
                s += diff * diff;
            }
            sum += sqrt(s);
        }
    free(n);
    return sum / (0.5 * T * (T - 1));
}
