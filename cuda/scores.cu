/* scores.cu - magnitudes and QMagFace comparison scores on the device, the
 * counterparts of host/eval/score.c: pair lists through a gather-dot kernel
 * (a warp per pair, double accumulation), all-vs-all blocks as one cuBLAS
 * product of the normalised rows (cublas_gemm.cu) plus a QMagFace epilogue,
 * and the genuine / impostor score histograms that ROC statistics are read
 * from, so that blocks too large for the host never leave the device. The
 * per-element formulas are those of host/eval/elem_eval.h. */
#include <math.h>

#include "check.h"
#include "elem_cuda.h"
#include "launch.h"
#include "ops_cuda.h"

using xfiq_cuda::blocks_for;
using xfiq_cuda::fits_i32;
using xfiq_cuda::kThreads;

namespace {

const int kWarpsPerBlock = kThreads / 32;

__device__ double warp_dot(const float *a, const float *b, int dim, int lane)
{
    double s = 0;
    for (int k = lane; k < dim; k += 32)
        s += (double)a[k] * (double)b[k];
    for (int off = 16; off > 0; off >>= 1)
        s += __shfl_down_sync(0xffffffffu, s, off);
    return __shfl_sync(0xffffffffu, s, 0);
}

/* A warp per row: ||z_i|| in double. */
__global__ void magnitudes_kernel(const float *z, int64_t n, int dim, double *mag)
{
    const int lane = threadIdx.x & 31;
    const int64_t warps = (int64_t)gridDim.x * kWarpsPerBlock;
    for (int64_t i = (int64_t)blockIdx.x * kWarpsPerBlock + threadIdx.x / 32; i < n; i += warps) {
        const float *r = z + i * dim;
        const double s = warp_dot(r, r, dim, lane);
        if (lane == 0)
            mag[i] = sqrt(s);
    }
}

/* A warp per pair: cosine, pair quality (the smaller magnitude) and the
 * QMagFace score. */
__global__ void score_pairs_kernel(const float *z, int dim, const double *mag, const int64_t *ia, const int64_t *ib,
                                   int64_t n_pairs, int want_qmag, double alpha, double beta, double *cos_out,
                                   double *q_out, double *qmag_out)
{
    const int lane = threadIdx.x & 31;
    const int64_t warps = (int64_t)gridDim.x * kWarpsPerBlock;
    for (int64_t i = (int64_t)blockIdx.x * kWarpsPerBlock + threadIdx.x / 32; i < n_pairs; i += warps) {
        const int64_t a = ia[i], b = ib[i];
        const double d = warp_dot(z + a * dim, z + b * dim, dim, lane);
        if (lane == 0) {
            const double ma = mag[a], mb = mag[b];
            const double s = d / (ma * mb), q = xfiq_pair_quality(ma, mb);
            cos_out[i] = s;
            if (q_out)
                q_out[i] = q;
            if (want_qmag)
                qmag_out[i] = xfiq_qmag_elem(s, q, alpha, beta);
        }
    }
}

/* Normalised float rows and float magnitudes (normalize_rows of score.c). */
__global__ void normalize_kernel(const float *z, int64_t n, int dim, float *e, float *q)
{
    const int lane = threadIdx.x & 31;
    const int64_t warps = (int64_t)gridDim.x * kWarpsPerBlock;
    for (int64_t i = (int64_t)blockIdx.x * kWarpsPerBlock + threadIdx.x / 32; i < n; i += warps) {
        const float *r = z + i * dim;
        const double m = sqrt(warp_dot(r, r, dim, lane));
        const float inv = m > 0.0 ? (float)(1.0 / m) : 0.0f;
        for (int k = lane; k < dim; k += 32)
            e[i * dim + k] = r[k] * inv;
        if (lane == 0)
            q[i] = (float)m;
    }
}

/* out(ng, np) of cosines -> QMagFace scores, in place. */
template <typename I>
__global__ void qmag_block_kernel(float *out, const float *qg, const float *qp, I np, I count, float alpha, float beta)
{
    XFIQ_GRID_LOOP(I, i, count) {
        const I r = i / np, c = i % np;
        out[i] = xfiq_qmag_elem_f(out[i], xfiq_pair_quality_f(qg[r], qp[c]), alpha, beta);
    }
}

/* Counts of genuine and impostor scores per bin of [lo, hi) (outside: the
 * end bins); atomics on 64-bit counters, so the counts are exact. */
template <typename I>
__global__ void histogram_kernel(const float *scores, const uint8_t *labels, I count, double lo, double width,
                                 int bins, unsigned long long *genuine, unsigned long long *impostor)
{
    XFIQ_GRID_LOOP(I, i, count) {
        const double v = scores[i];
        int b = (int)floor((v - lo) / width);
        b = b < 0 ? 0 : b >= bins ? bins - 1 : b;
        atomicAdd(labels[i] ? &genuine[b] : &impostor[b], 1ull);
    }
}

unsigned warp_blocks(int64_t items)
{
    return blocks_for(items * 32);
}

} // namespace

extern "C" xfiq_status magnitudes_cuda(const float *z, int64_t n, int dim, double *mag, cudaStream_t stream)
{
    if (n < 0 || dim <= 0)
        return xfiq_error(XFIQ_ERR_ARG, "magnitudes_cuda: bad shape (n %lld, dim %d)", (long long)n, dim);
    if (n == 0)
        return XFIQ_OK;
    XFIQ_LAUNCH(magnitudes_kernel, warp_blocks(n), kThreads, 0, stream)(z, n, dim, mag);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status score_pairs_cuda(const float *z, int dim, const double *mag, const int64_t *idx_a,
                                        const int64_t *idx_b, int64_t n_pairs, const xfiq_qmag_params *p,
                                        double *cos_out, double *q_out, double *qmag_out, cudaStream_t stream)
{
    if (n_pairs < 0 || dim <= 0 || !mag || !cos_out)
        return xfiq_error(XFIQ_ERR_ARG, "score_pairs_cuda: bad arguments");
    if (n_pairs == 0)
        return XFIQ_OK;
    const int want = p && qmag_out;
    XFIQ_LAUNCH(score_pairs_kernel, warp_blocks(n_pairs), kThreads, 0, stream)(
        z, dim, mag, idx_a, idx_b, n_pairs, want, want ? p->alpha : 0.0, want ? p->beta : 0.0, cos_out, q_out,
        qmag_out);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status score_block_cuda(const float *gallery, int64_t n_gallery, const float *probe, int64_t n_probe,
                                        int dim, const xfiq_qmag_params *p, float *work, float *out,
                                        cudaStream_t stream)
{
    if (n_gallery < 0 || n_probe < 0 || dim <= 0 || n_gallery > INT32_MAX || n_probe > INT32_MAX)
        return xfiq_error(XFIQ_ERR_ARG, "score_block_cuda: bad shape (%lld x %lld, dim %d)", (long long)n_gallery,
                          (long long)n_probe, dim);
    if (!n_gallery || !n_probe)
        return XFIQ_OK;
    float *eg = work, *ep = eg + n_gallery * dim, *qg = ep + n_probe * dim, *qp = qg + n_gallery;
    XFIQ_LAUNCH(normalize_kernel, warp_blocks(n_gallery), kThreads, 0, stream)(gallery, n_gallery, dim, eg, qg);
    XFIQ_CUDA_CHECK_LAUNCH();
    XFIQ_LAUNCH(normalize_kernel, warp_blocks(n_probe), kThreads, 0, stream)(probe, n_probe, dim, ep, qp);
    XFIQ_CUDA_CHECK_LAUNCH();
    /* out(ng, np) = eg(ng, dim) . ep(np, dim)^T: the fully connected layer's product. */
    XFIQ_TRY(gemm_fwd_cuda(eg, ep, nullptr, out, (int)n_gallery, dim, (int)n_probe, XFIQ_ACT_NONE, nullptr, 0, stream));
    if (p) {
        const int64_t count = n_gallery * n_probe;
        if (fits_i32(count))
            XFIQ_LAUNCH(qmag_block_kernel<int>, blocks_for(count), kThreads, 0, stream)(
                out, qg, qp, (int)n_probe, (int)count, (float)p->alpha, (float)p->beta);
        else
            XFIQ_LAUNCH(qmag_block_kernel<int64_t>, blocks_for(count), kThreads, 0, stream)(
                out, qg, qp, n_probe, count, (float)p->alpha, (float)p->beta);
        XFIQ_CUDA_CHECK_LAUNCH();
    }
    return XFIQ_OK;
}

extern "C" size_t score_block_cuda_work_floats(int64_t n_gallery, int64_t n_probe, int dim)
{
    return (size_t)(n_gallery + n_probe) * (size_t)(dim + 1);
}

extern "C" xfiq_status score_histogram_cuda(const float *scores, const uint8_t *labels, int64_t count, double lo,
                                            double hi, int bins, unsigned long long *genuine,
                                            unsigned long long *impostor, cudaStream_t stream)
{
    if (count < 0 || bins < 1 || !(hi > lo))
        return xfiq_error(XFIQ_ERR_ARG, "score_histogram_cuda: need bins >= 1 and hi > lo (got %d, [%g, %g))", bins,
                          lo, hi);
    if (count == 0)
        return XFIQ_OK;
    const double width = (hi - lo) / bins;
    if (fits_i32(count))
        XFIQ_LAUNCH(histogram_kernel<int>, blocks_for(count), kThreads, 0, stream)(scores, labels, (int)count, lo,
                                                                                  width, bins, genuine, impostor);
    else
        XFIQ_LAUNCH(histogram_kernel<int64_t>, blocks_for(count), kThreads, 0, stream)(scores, labels, count, lo, width,
                                                                                      bins, genuine, impostor);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}
