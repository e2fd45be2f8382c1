/* backend_cpu_quality.c - the CPU forms of the backend's quality stages and
 * model input (backend.h): the engine calls them through the table, the
 * CUDA backend has the same stages as kernels (cuda/quality.cu). Each is a
 * loop over images of the single-image functions of host/quality/, so CPU
 * results are exactly those functions' results. */
#include <math.h>
#include <string.h>

#include <omp.h>

#include "backend/backend.h"
#include "core/status.h"
#include "ops/elem.h"
#include "quality/elem_quality.h"
#include "quality/plq_map.h"
#include "quality/plq_regress.h"

static int threads_of(void *ctx) { return ctx ? *(const int *)ctx : 1; }

xfiq_status xfiq_cpu_input_u8(void *ctx, const uint8_t *pixels, int n, int h, int w, int order, const float mean[3],
                              const float scale[3], float *dst)
{
    const int64_t hw = (int64_t)h * w;
    const int C = order == XFIQ_ORDER_GREY ? 1 : 3;
#pragma omp parallel for num_threads(threads_of(ctx)) schedule(static) if (n > 1)
    for (int i = 0; i < n; i++) {
        const uint8_t *src = pixels + (size_t)i * (size_t)hw * 3;
        float *out = dst + (size_t)i * (size_t)hw * (size_t)C;
        if (order == XFIQ_ORDER_GREY) {
            for (int64_t p = 0; p < hw; p++)
                out[p] = xfiq_preprocess(xfiq_luma_u8(src[3 * p], src[3 * p + 1], src[3 * p + 2]), mean[0], scale[0]);
            continue;
        }
        for (int c = 0; c < 3; c++) {
            const int sc = order == XFIQ_ORDER_BGR ? 2 - c : c;
            for (int64_t p = 0; p < hw; p++)
                out[c * hw + p] = xfiq_preprocess(src[3 * p + sc], mean[c], scale[c]);
        }
    }
    return XFIQ_OK;
}

xfiq_status xfiq_cpu_heads_input(void *ctx, const serfiq_dropout *cfg, const uint64_t *ids, const float *x, int B,
                                 int T, float *out)
{
    return serfiq_heads_input(cfg, ids, x, B, T, out, threads_of(ctx));
}

/* Non-finite stochastic embeddings give NaN qualities (the engine names the
 * image), as on the GPU. */
xfiq_status xfiq_cpu_serfiq_quality(void *ctx, const float *emb, const float *z, int B, int T, int D, double alpha,
                                    double r, double *work, serfiq_image_result *res)
{
    (void)ctx;
    for (int b = 0; b < B; b++) {
        serfiq_image_result *o = &res[b];
        if (serfiq_quality(emb + (size_t)b * T * D, T, D, alpha, r, work, &o->r) != XFIQ_OK) {
            if (T < 2 || D < 1)
                return XFIQ_ERR_ARG;
            xfiq_error_clear();
            o->r.mean_dist = o->r.q_raw = o->r.q = NAN;
        }
        const float *zb = z + (size_t)b * D;
        double ss = 0, sum = 0;
        for (int j = 0; j < D; j++) {
            ss += (double)zb[j] * zb[j];
            sum += zb[j];
        }
        o->magnitude = sqrt(ss);
        o->sum_e = ss > 0 ? sum / sqrt(ss) : 0.0;
        o->plq_denom = 0;
        o->mean_plq = NAN;
    }
    return XFIQ_OK;
}

xfiq_status xfiq_cpu_plq_seed(void *ctx, int mode, const float *z, int B, int D, serfiq_image_result *res,
                              float *seed)
{
    (void)ctx;
    for (int b = 0; b < B; b++) {
        plq_regress_info info;
        float *s = seed + (size_t)b * D;
        if (plq_regression_seed((plq_mode)mode, z + (size_t)b * D, D, xfiq_plq_target(res[b].r.q), s, &info) == XFIQ_OK) {
            res[b].plq_denom = info.denom;
        } else {
            /* No regression direction (zero or non-finite z, zero denominator): no map. */
            xfiq_error_clear();
            memset(s, 0, (size_t)D * sizeof *s);
            res[b].plq_denom = 0;
        }
    }
    return XFIQ_OK;
}

xfiq_status xfiq_cpu_plq_map(void *ctx, const float *gx, int B, int C, int H, int W, int order, const float scale[3],
                             float a, float b, const uint8_t *mask, float *maps, float *grad_mag,
                             serfiq_image_result *res)
{
    if (H < 1 || W < 1 || !(C == 3 || (C == 1 && order == XFIQ_ORDER_GREY)))
        return xfiq_error(XFIQ_ERR_SHAPE, "plq map: bad gradient shape %d x %d x %d (order %d)", C, H, W, order);
    const size_t hw = (size_t)H * W;
#pragma omp parallel for num_threads(threads_of(ctx)) schedule(static) if (B > 1)
    for (int i = 0; i < B; i++) {
        const float *g = gx + (size_t)i * C * hw;
        float *pm = maps + (size_t)i * hw, *mm = grad_mag ? grad_mag + (size_t)i * hw : NULL;
        for (size_t p = 0; p < hw; p++) {
            const float m = xfiq_plq_mean_abs3(xfiq_plq_pixel_grad(order, g, hw, p, 0, scale[0], scale[1], scale[2]),
                                               xfiq_plq_pixel_grad(order, g, hw, p, 1, scale[0], scale[1], scale[2]),
                                               xfiq_plq_pixel_grad(order, g, hw, p, 2, scale[0], scale[1], scale[2]));
            if (mm)
                mm[p] = m;
            pm[p] = xfiq_plq_value(m, a, b);
        }
        res[i].mean_plq = plq_map_mean(pm, H, W, mask);
    }
    return XFIQ_OK;
}
