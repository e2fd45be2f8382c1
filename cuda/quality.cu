/* quality.cu - SER-FIQ and PLQ on the device: the dropout rows of the T
 * stochastic head passes (Philox masks, bit-identical to the CPU's), the
 * per-image SER-FIQ statistics, the PLQ regression seed and the PLQ maps.
 * Each kernel is a thin loop around the formulas of host/quality/philox.h
 * and elem_quality.h that the CPU stages (host/backend/backend_cpu_quality.c)
 * call too; sums run in double, like the CPU's, with a fixed reduction tree
 * (reduce.h), so only B numbers (and the maps, when asked for) go back. */
#include <math.h>

#include "check.h"
#include "elem_cuda.h"
#include "launch.h"
#include "ops_cuda.h"
#include "reduce.h"

using xfiq_cuda::blocks_for;
using xfiq_cuda::block_sum;
using xfiq_cuda::fits_i32;
using xfiq_cuda::kThreads;
using xfiq_cuda::warp_sum;

namespace {

/* One thread per (row b*T+t, group of four mask units): one Philox call
 * gives the four keep decisions, as in serfiq_row on the CPU. */
struct dropout_args {
    uint64_t seed;
    float scale;       /* 1/(1-p) in float */
    uint32_t thr;      /* keep iff (word >> 8) >= thr */
    int dim, spatial, units, groups, T;
};

template <typename I>
__global__ void heads_input_kernel(dropout_args a, const uint64_t *ids, const float *x, float *out, I count)
{
    XFIQ_GRID_LOOP(I, i, count) {
        const I row = i / a.groups, g = i % a.groups;
        const I b = row / a.T, t = row % a.T;
        uint32_t w[4];
        xfiq_dropout_words(a.seed, ids[b], (uint32_t)t, (uint32_t)g, w);
        const float *xb = x + b * (I)a.dim;
        float *o = out + row * (I)a.dim;
        for (int j = 0; j < 4; j++) {
            const I u = g * 4 + j;
            if (u >= a.units)
                break;
            const float mult = a.scale * (float)((w[j] >> 8) >= a.thr);
            for (int s = 0; s < a.spatial; s++)
                o[u * a.spatial + s] = xb[u * a.spatial + s] * mult;
        }
    }
}

/* One block per image (grid-stride over images). Warp per row: the row's
 * inverse norm and its squared norm after normalisation (as serfiq_quality
 * computes them in double); then warp per (i, j) pair of a fixed stride:
 * d_ij = sqrt(max(0, sq_i + sq_j - 2 x_i.x_j)); the mean of the T(T-1)/2
 * distances gives q_raw and Q. The magnitude and sum(e) of the image's
 * deterministic embedding z come out of the same block. */
__global__ void serfiq_quality_kernel(const float *emb, const float *z, int B, int T, int D, double alpha, double r,
                                      double *work, serfiq_image_result *res)
{
    __shared__ double scratch[33];
    __shared__ int bad;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    for (int b = blockIdx.x; b < B; b += gridDim.x) {
        const float *e = emb + (size_t)b * T * D;
        double *inv = work + (size_t)b * T * 2, *sq = inv + T;
        if (threadIdx.x == 0)
            bad = 0;
        __syncthreads();
        for (int t = warp; t < T; t += nwarps) {
            const float *row = e + (size_t)t * D;
            double n2 = 0;
            int nonfinite = 0;
            for (int k = lane; k < D; k += 32) {
                n2 += (double)row[k] * row[k];
                nonfinite += !isfinite(row[k]);
            }
            nonfinite = warp_sum(nonfinite);
            n2 = __shfl_sync(0xffffffffu, warp_sum(n2), 0);
            const double iv = n2 > 0 ? 1.0 / sqrt(n2) : 0.0;
            double s2 = 0;
            for (int k = lane; k < D; k += 32) {
                const double xk = row[k] * iv;
                s2 += xk * xk;
            }
            s2 = warp_sum(s2);
            if (lane == 0) {
                inv[t] = iv;
                sq[t] = s2;
                if (nonfinite)
                    bad = 1;
            }
        }
        __syncthreads();
        double dsum = 0; /* lane 0 of each warp */
        for (int i = 0; i < T; i++) {
            const float *ri = e + (size_t)i * D;
            for (int j = i + 1 + warp; j < T; j += nwarps) {
                const float *rj = e + (size_t)j * D;
                double g = 0;
                for (int k = lane; k < D; k += 32)
                    g += (ri[k] * inv[i]) * (rj[k] * inv[j]);
                g = warp_sum(g);
                const double d2 = sq[i] + sq[j] - 2.0 * g;
                dsum += sqrt(d2 > 0 ? d2 : 0.0);
            }
        }
        const double total = block_sum(lane == 0 ? dsum : 0.0, scratch);
        /* The deterministic embedding: magnitude and sum(e). */
        const float *zb = z + (size_t)b * D;
        double ss = 0, sz = 0;
        for (int k = threadIdx.x; k < D; k += blockDim.x) {
            ss += (double)zb[k] * zb[k];
            sz += zb[k];
        }
        ss = block_sum(ss, scratch);
        sz = block_sum(sz, scratch);
        if (threadIdx.x == 0) {
            serfiq_image_result *o = &res[b];
            o->r.mean_dist = bad ? NAN : total / (0.5 * T * (T - 1));
            o->r.q_raw = xfiq_serfiq_raw(o->r.mean_dist);
            o->r.q = xfiq_serfiq_scaled(o->r.q_raw, alpha, r);
            o->magnitude = sqrt(ss);
            o->sum_e = ss > 0 ? sz / sqrt(ss) : 0.0;
            o->plq_denom = 0;
            o->mean_plq = NAN;
        }
        __syncthreads();
    }
}

/* One block per image: ||z||, the regression denominator, e . seed_e, then
 * the seed on z, all from the formulas of elem_quality.h in double. */
__global__ void plq_seed_kernel(int mode, const float *z, int B, int D, serfiq_image_result *res, float *seed)
{
    __shared__ double scratch[33];
    for (int b = blockIdx.x; b < B; b += gridDim.x) {
        const float *zb = z + (size_t)b * D;
        float *sb = seed + (size_t)b * D;
        double ss = 0;
        int fin = 1;
        for (int k = threadIdx.x; k < D; k += blockDim.x) {
            ss += (double)zb[k] * zb[k];
            fin = fin && isfinite(zb[k]);
        }
        ss = block_sum(ss, scratch);
        const double allfin = block_sum((double)fin, scratch);
        const double n = sqrt(ss);
        double denom = 0;
        if (n > 0 && allfin == (double)blockDim.x) {
            for (int k = threadIdx.x; k < D; k += blockDim.x)
                denom += xfiq_plq_denom_term(mode, zb[k] / n);
            denom = mode == 2 ? n : block_sum(denom, scratch);
        }
        const double w = denom != 0.0 ? xfiq_plq_target(res[b].r.q) / denom : 0.0;
        double dot = 0;
        if (denom != 0.0 && mode != 2) {
            for (int k = threadIdx.x; k < D; k += blockDim.x) {
                const double e = zb[k] / n;
                dot += e * xfiq_plq_seed_dir(mode, e, w);
            }
            dot = block_sum(dot, scratch);
        }
        for (int k = threadIdx.x; k < D; k += blockDim.x)
            sb[k] = denom != 0.0 ? xfiq_plq_seed_value(mode, zb[k] / n, w, dot, n) : 0.0f;
        if (threadIdx.x == 0)
            res[b].plq_denom = denom;
        __syncthreads();
    }
}

struct map_args {
    int order;
    float s0, s1, s2, a, b;
};

template <typename I>
__global__ void plq_map_kernel(const float *gx, I hw, I C, map_args m, float *maps, float *grad_mag, I count)
{
    XFIQ_GRID_LOOP(I, i, count) {
        const I img = i / hw, p = i % hw;
        const float *g = gx + img * C * hw;
        const float v = xfiq_plq_mean_abs3(xfiq_plq_pixel_grad(m.order, g, (size_t)hw, (size_t)p, 0, m.s0, m.s1, m.s2),
                                           xfiq_plq_pixel_grad(m.order, g, (size_t)hw, (size_t)p, 1, m.s0, m.s1, m.s2),
                                           xfiq_plq_pixel_grad(m.order, g, (size_t)hw, (size_t)p, 2, m.s0, m.s1, m.s2));
        if (grad_mag)
            grad_mag[i] = v;
        maps[i] = xfiq_plq_value(v, m.a, m.b);
    }
}

/* One block per image: mean of its map over the mask, in double. */
__global__ void plq_mean_kernel(const float *maps, const uint8_t *mask, int B, int64_t hw, serfiq_image_result *res)
{
    __shared__ double scratch[33];
    for (int b = blockIdx.x; b < B; b += gridDim.x) {
        const float *m = maps + (size_t)b * hw;
        double s = 0, n = 0;
        for (int64_t p = threadIdx.x; p < hw; p += blockDim.x)
            if (!mask || mask[p]) {
                s += m[p];
                n += 1;
            }
        s = block_sum(s, scratch);
        n = block_sum(n, scratch);
        if (threadIdx.x == 0)
            res[b].mean_plq = n > 0 ? s / n : NAN;
        __syncthreads();
    }
}

/* Blocks of the per-image kernels: one per image, capped like the grid-stride loops. */
unsigned image_blocks(int B)
{
    const int64_t cap = xfiq_cuda::max_blocks();
    return (unsigned)(B < cap ? B : cap);
}

} // namespace

extern "C" xfiq_status serfiq_heads_input_cuda(const serfiq_dropout *cfg, const uint64_t *image_ids, const float *x,
                                               int B, int T, float *out, cudaStream_t stream)
{
    XFIQ_TRY(serfiq_dropout_check(cfg));
    if (B < 0 || T < 0 || (B > 0 && (!image_ids || !x || !out)))
        return xfiq_error(XFIQ_ERR_ARG, "serfiq_heads_input_cuda: bad batch (B = %d, T = %d)", B, T);
    if (B == 0 || T == 0)
        return XFIQ_OK;
    dropout_args a;
    a.seed = cfg->seed;
    a.scale = xfiq_dropout_scale(cfg->p);
    a.thr = xfiq_dropout_threshold(cfg->p);
    a.dim = cfg->dim;
    a.spatial = cfg->kind == SERFIQ_MASK_CHANNEL ? cfg->spatial : 1;
    a.units = cfg->dim / a.spatial;
    a.groups = (a.units + 3) / 4;
    a.T = T;
    const int64_t count = (int64_t)B * T * a.groups;
    /* Output offsets reach count/groups rows of dim floats. */
    if (fits_i32((int64_t)B * T * cfg->dim))
        XFIQ_LAUNCH(heads_input_kernel<int>, blocks_for(count), kThreads, 0, stream)(a, image_ids, x, out, (int)count);
    else
        XFIQ_LAUNCH(heads_input_kernel<int64_t>, blocks_for(count), kThreads, 0, stream)(a, image_ids, x, out, count);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status serfiq_quality_batch_cuda(const float *emb, const float *z, int B, int T, int D, double alpha,
                                                 double r, double *work, serfiq_image_result *res, cudaStream_t stream)
{
    if (T < 2 || D < 1 || B < 0)
        return xfiq_error(XFIQ_ERR_ARG, "serfiq_quality_batch_cuda: need T >= 2, D >= 1 (got B %d, T %d, D %d)", B, T,
                          D);
    if (B == 0)
        return XFIQ_OK;
    XFIQ_LAUNCH(serfiq_quality_kernel, image_blocks(B), kThreads, 0, stream)(emb, z, B, T, D, alpha, r, work, res);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status plq_seed_batch_cuda(int mode, const float *z, int B, int D, serfiq_image_result *res,
                                           float *seed, cudaStream_t stream)
{
    if (mode < 0 || mode > 2)
        return xfiq_error(XFIQ_ERR_ARG, "plq_seed_batch_cuda: unknown regression mode %d", mode);
    if (B < 0 || D < 1)
        return xfiq_error(XFIQ_ERR_ARG, "plq_seed_batch_cuda: bad shape (B %d, D %d)", B, D);
    if (B == 0)
        return XFIQ_OK;
    XFIQ_LAUNCH(plq_seed_kernel, image_blocks(B), kThreads, 0, stream)(mode, z, B, D, res, seed);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status plq_map_batch_cuda(const float *gx, int B, int C, int H, int W, int order, const float scale[3],
                                          float a, float b, const uint8_t *mask, float *maps, float *grad_mag,
                                          serfiq_image_result *res, cudaStream_t stream)
{
    if (B < 0 || H < 1 || W < 1 || !(C == 3 || (C == 1 && order == XFIQ_ORDER_GREY)))
        return xfiq_error(XFIQ_ERR_SHAPE, "plq_map_batch_cuda: bad gradient shape %d x %d x %d x %d (order %d)", B, C, H,
                          W, order);
    if (!maps)
        return xfiq_error(XFIQ_ERR_ARG, "plq_map_batch_cuda: no map buffer");
    if (B == 0)
        return XFIQ_OK;
    map_args m;
    m.order = order;
    m.s0 = scale[0];
    m.s1 = scale[1];
    m.s2 = scale[2];
    m.a = a;
    m.b = b;
    const int64_t hw = (int64_t)H * W, count = (int64_t)B * hw;
    if (fits_i32((int64_t)B * C * hw))
        XFIQ_LAUNCH(plq_map_kernel<int>, blocks_for(count), kThreads, 0, stream)(gx, (int)hw, C, m, maps, grad_mag,
                                                                                (int)count);
    else
        XFIQ_LAUNCH(plq_map_kernel<int64_t>, blocks_for(count), kThreads, 0, stream)(gx, hw, (int64_t)C, m, maps,
                                                                                    grad_mag, count);
    XFIQ_CUDA_CHECK_LAUNCH();
    XFIQ_LAUNCH(plq_mean_kernel, image_blocks(B), kThreads, 0, stream)(maps, mask, B, hw, res);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}
