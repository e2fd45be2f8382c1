/* ops_bwd.cu - backward-data kernels of the memory-bound ops (affine, PReLU,
 * ReLU, binary, per-sample constant, global average pooling): thin
 * grid-stride loops around the formulas of host/ops/elem_bwd.h and
 * host/quality/elem_quality.h, the same ones the CPU ops in
 * host/ops/elementwise_bwd.c call. The library is compiled with --fmad=false
 * so "dx += dy * s" rounds dy * s first, as on the CPU: accumulate = 1 then
 * gives exactly dx_old + (the accumulate = 0 value). */
#include "check.h"
#include "elem_cuda.h"
#include "launch.h"
#include "ops_cuda.h"

using xfiq_cuda::blocks_for;
using xfiq_cuda::fits_i32;
using xfiq_cuda::kThreads;

namespace {

template <typename I>
__global__ void affine_bwd_kernel(const float *dy, const float *scale, float *dx, int accumulate, I count, I c,
                                  I spatial)
{
    XFIQ_GRID_LOOP(I, i, count) {
        const float s = scale ? scale[(i / spatial) % c] : 1.0f;
        dx[i] = xfiq_grad_store(dx[i], xfiq_affine_backward(dy[i], s), accumulate);
    }
}

template <typename I>
__global__ void prelu_bwd_kernel(const float *dy, const float *x, const float *slope, int per_channel, float *dx,
                                 int accumulate, I count, I c, I spatial)
{
    XFIQ_GRID_LOOP(I, i, count) {
        const float s = slope[per_channel ? (i / spatial) % c : 0];
        dx[i] = xfiq_grad_store(dx[i], xfiq_prelu_backward(x[i], s, dy[i]), accumulate);
    }
}

template <typename I>
__global__ void relu_bwd_kernel(const float *dy, const float *x, float *dx, int accumulate, I count)
{
    XFIQ_GRID_LOOP(I, i, count)
        dx[i] = xfiq_grad_store(dx[i], xfiq_relu_backward(x[i], dy[i]), accumulate);
}

/* Per element: read dy, a, b; write da; then db (da == db and in-place
 * gradients stay correct, as in the CPU op). */
template <typename I>
__global__ void binary_bwd_kernel(int op, const float *dy, const float *a, const float *b, float *da, float *db,
                                  int acc_a, int acc_b, I count)
{
    XFIQ_GRID_LOOP(I, i, count) {
        const float g = dy[i], av = a ? a[i] : 0.0f, bv = b ? b[i] : 0.0f;
        const float gb = xfiq_binary_backward_b(op, g, av, bv);
        if (da)
            da[i] = xfiq_grad_store(da[i], xfiq_binary_backward_a(op, g, bv), acc_a);
        if (db)
            db[i] = xfiq_grad_store(db[i], gb, acc_b);
    }
}

/* y = x op k (const_first: k op x), k of one sample's size. */
template <typename I>
__global__ void binconst_bwd_kernel(int op, int const_first, const float *dy, const float *x, const float *k,
                                    float *dx, int accumulate, I count, I per_sample)
{
    XFIQ_GRID_LOOP(I, i, count) {
        const float kv = k[i % per_sample];
        const float g = const_first ? xfiq_binary_backward_b(op, dy[i], kv, op == XFIQ_BIN_DIV ? x[i] : 0.0f)
                                    : xfiq_binary_backward_a(op, dy[i], kv);
        dx[i] = xfiq_grad_store(dx[i], g, accumulate);
    }
}

template <typename I>
__global__ void gap_bwd_kernel(const float *dy, float *dx, int accumulate, I count, I spatial)
{
    XFIQ_GRID_LOOP(I, i, count)
        dx[i] = xfiq_grad_store(dx[i], xfiq_gap_backward(dy[i / spatial], (float)spatial), accumulate);
}

} // namespace

extern "C" xfiq_status affine_bwd_cuda(const float *dy, const float *scale, float *dx, int n, int c, int64_t spatial,
                                       int accumulate, cudaStream_t stream)
{
    const int64_t count = (int64_t)n * c * spatial;
    if (count <= 0)
        return XFIQ_OK;
    if (fits_i32(count))
        XFIQ_LAUNCH(affine_bwd_kernel<int>, blocks_for(count), kThreads, 0, stream)(dy, scale, dx, accumulate,
                                                                                   (int)count, c, (int)spatial);
    else
        XFIQ_LAUNCH(affine_bwd_kernel<int64_t>, blocks_for(count), kThreads, 0, stream)(dy, scale, dx, accumulate,
                                                                                       count, (int64_t)c, spatial);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status prelu_bwd_cuda(const float *dy, const float *x, const float *slope, int per_channel,
                                      float *dx, int n, int c, int64_t spatial, int accumulate, cudaStream_t stream)
{
    const int64_t count = (int64_t)n * c * spatial;
    if (count <= 0)
        return XFIQ_OK;
    if (!slope)
        return xfiq_error(XFIQ_ERR_ARG, "prelu_bwd_cuda: no slope");
    if (fits_i32(count))
        XFIQ_LAUNCH(prelu_bwd_kernel<int>, blocks_for(count), kThreads, 0, stream)(
            dy, x, slope, per_channel, dx, accumulate, (int)count, c, (int)spatial);
    else
        XFIQ_LAUNCH(prelu_bwd_kernel<int64_t>, blocks_for(count), kThreads, 0, stream)(
            dy, x, slope, per_channel, dx, accumulate, count, (int64_t)c, spatial);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status relu_bwd_cuda(const float *dy, const float *x, float *dx, int64_t count, int accumulate,
                                     cudaStream_t stream)
{
    if (count <= 0)
        return XFIQ_OK;
    if (fits_i32(count))
        XFIQ_LAUNCH(relu_bwd_kernel<int>, blocks_for(count), kThreads, 0, stream)(dy, x, dx, accumulate, (int)count);
    else
        XFIQ_LAUNCH(relu_bwd_kernel<int64_t>, blocks_for(count), kThreads, 0, stream)(dy, x, dx, accumulate, count);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status binary_bwd_cuda(int op, const float *dy, const float *a, const float *b, float *da, float *db,
                                       int64_t count, int acc_a, int acc_b, cudaStream_t stream)
{
    if (op < XFIQ_BIN_ADD || op > XFIQ_BIN_DIV)
        return xfiq_error(XFIQ_ERR_ARG, "binary_bwd_cuda: unknown XFIQ_BIN_* code %d", op);
    if (count <= 0 || (!da && !db))
        return XFIQ_OK;
    if (fits_i32(count))
        XFIQ_LAUNCH(binary_bwd_kernel<int>, blocks_for(count), kThreads, 0, stream)(op, dy, a, b, da, db, acc_a,
                                                                                   acc_b, (int)count);
    else
        XFIQ_LAUNCH(binary_bwd_kernel<int64_t>, blocks_for(count), kThreads, 0, stream)(op, dy, a, b, da, db, acc_a,
                                                                                       acc_b, count);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status binconst_bwd_cuda(int op, int const_first, const float *dy, const float *x, const float *k,
                                         float *dx, int n, int64_t per_sample, int accumulate, cudaStream_t stream)
{
    if (op < XFIQ_BIN_ADD || op > XFIQ_BIN_DIV)
        return xfiq_error(XFIQ_ERR_ARG, "binconst_bwd_cuda: unknown XFIQ_BIN_* code %d", op);
    const int64_t count = (int64_t)n * per_sample;
    if (count <= 0)
        return XFIQ_OK;
    if (fits_i32(count))
        XFIQ_LAUNCH(binconst_bwd_kernel<int>, blocks_for(count), kThreads, 0, stream)(
            op, const_first, dy, x, k, dx, accumulate, (int)count, (int)per_sample);
    else
        XFIQ_LAUNCH(binconst_bwd_kernel<int64_t>, blocks_for(count), kThreads, 0, stream)(
            op, const_first, dy, x, k, dx, accumulate, count, per_sample);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status gap_bwd_cuda(const float *dy, float *dx, int n, int c, int64_t spatial, int accumulate,
                                    cudaStream_t stream)
{
    const int64_t count = (int64_t)n * c * spatial;
    if (count <= 0)
        return XFIQ_OK;
    if (fits_i32(count))
        XFIQ_LAUNCH(gap_bwd_kernel<int>, blocks_for(count), kThreads, 0, stream)(dy, dx, accumulate, (int)count,
                                                                                (int)spatial);
    else
        XFIQ_LAUNCH(gap_bwd_kernel<int64_t>, blocks_for(count), kThreads, 0, stream)(dy, dx, accumulate, count,
                                                                                    spatial);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}
