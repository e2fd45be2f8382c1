/* ops_elementwise.cu - thin CUDA kernels around the per-element functions of
 * host/ops/elem.h: affine, prelu, relu, binary, binconst, the conv/gemm
 * epilogue, global average pooling and the u8 HWC -> float NCHW model input.
 * Each kernel is a grid-stride loop; indices are 32-bit when the tensor
 * allows it (64-bit division costs several times more on the GPU). */
#include "check.h"
#include "elem_cuda.h"
#include "launch.h"
#include "ops_cuda.h"

using xfiq_cuda::blocks_for;
using xfiq_cuda::fits_i32;
using xfiq_cuda::kThreads;

namespace {

#define GRID_LOOP XFIQ_GRID_LOOP

template <typename I>
__global__ void affine_kernel(const float *x, const float *scale, const float *shift, float *y,
                              I count, I c, I spatial)
{
    GRID_LOOP(I, i, count) {
        I ch = (i / spatial) % c;
        y[i] = xfiq_affine(x[i], scale[ch], shift[ch]);
    }
}

template <typename I>
__global__ void prelu_kernel(const float *x, const float *slope, int per_channel, float *y,
                             I count, I c, I spatial)
{
    GRID_LOOP(I, i, count) {
        float s = per_channel ? slope[(i / spatial) % c] : slope[0];
        y[i] = xfiq_prelu(x[i], s);
    }
}

template <typename I>
__global__ void to_half_kernel(const float *x, uint16_t *h, I count, int kind)
{
    GRID_LOOP(I, i, count)
        h[i] = xfiq_f32_to_half(kind, x[i]);
}

template <typename I>
__global__ void from_half_kernel(const uint16_t *h, float *y, I count, int kind, int accumulate)
{
    GRID_LOOP(I, i, count) {
        const float v = xfiq_half_to_f32(kind, h[i]);
        y[i] = accumulate ? y[i] + v : v;
    }
}

template <typename I>
__global__ void relu_kernel(const float *x, float *y, I count)
{
    GRID_LOOP(I, i, count)
        y[i] = xfiq_relu(x[i]);
}

template <typename I>
__global__ void binary_kernel(int op, const float *a, const float *b, float *y, I count)
{
    GRID_LOOP(I, i, count)
        y[i] = xfiq_binary(op, a[i], b[i]);
}

template <typename I>
__global__ void binconst_kernel(int op, int const_first, const float *x, const float *k, float *y,
                                I count, I per_sample)
{
    GRID_LOOP(I, i, count) {
        float kv = k[i % per_sample];
        y[i] = const_first ? xfiq_binary(op, kv, x[i]) : xfiq_binary(op, x[i], kv);
    }
}

template <typename I>
__global__ void bias_act_kernel(float *y, const float *b, int act, const float *slope,
                                int slope_per_channel, I count, I c, I spatial)
{
    GRID_LOOP(I, i, count) {
        I ch = (i / spatial) % c;
        float v = b ? y[i] + b[ch] : y[i];
        float s = act == XFIQ_ACT_PRELU ? slope[slope_per_channel ? ch : 0] : 0.0f;
        y[i] = xfiq_act(act, v, s);
    }
}

/* One warp per (image, channel) row; the lanes' partial sums meet by shuffles. */
__global__ void gap_kernel(const float *x, float *y, int64_t rows, int64_t spatial)
{
    const int lane = threadIdx.x & 31;
    const int64_t warps_per_grid = (int64_t)gridDim.x * (blockDim.x / 32);
    for (int64_t r = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32; r < rows; r += warps_per_grid) {
        const float *row = x + r * spatial;
        float s = 0.0f;
        for (int64_t j = lane; j < spatial; j += 32)
            s += row[j];
        for (int off = 16; off > 0; off >>= 1)
            s += __shfl_down_sync(0xffffffffu, s, off);
        if (lane == 0)
            y[r] = s / (float)spatial;
    }
}

struct preprocess_args {
    float mean[3], scale[3];
    int src[3];   /* source channel of the RGB pixel for model channel c */
    int grey;     /* one channel: BT.601 luma of the pixel */
};

/* y (n, C, h, w) from n interleaved RGB images; C = 1 for grey models. */
__global__ void preprocess_kernel(const unsigned char *pixels, float *y, int64_t count, int64_t hw,
                                  preprocess_args a)
{
    const int C = a.grey ? 1 : 3;
    GRID_LOOP(int64_t, i, count) {
        int64_t img = i / (C * hw);
        int c = (int)((i / hw) % C);
        int64_t px = i % hw;
        const unsigned char *p = pixels + (img * hw + px) * 3;
        unsigned char v = a.grey ? xfiq_luma_u8(p[0], p[1], p[2]) : p[a.src[c]];
        y[i] = xfiq_preprocess(v, a.mean[c], a.scale[c]);
    }
}

xfiq_status bad_arg(const char *fn, const char *what)
{
    return xfiq_error(XFIQ_ERR_ARG, "%s: %s", fn, what);
}

} // namespace

extern "C" xfiq_status affine_fwd_cuda(const float *x, const float *scale, const float *shift, float *y,
                                       int n, int c, int64_t spatial, cudaStream_t stream)
{
    int64_t count = (int64_t)n * c * spatial;
    if (count <= 0)
        return XFIQ_OK;
    if (fits_i32(count))
        XFIQ_LAUNCH(affine_kernel<int>, blocks_for(count), kThreads, 0, stream)(x, scale, shift, y, (int)count, c, (int)spatial);
    else
        XFIQ_LAUNCH(affine_kernel<int64_t>, blocks_for(count), kThreads, 0, stream)(x, scale, shift, y, count, c, spatial);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status prelu_fwd_cuda(const float *x, const float *slope, int per_channel, float *y,
                                      int n, int c, int64_t spatial, cudaStream_t stream)
{
    int64_t count = (int64_t)n * c * spatial;
    if (count <= 0)
        return XFIQ_OK;
    if (fits_i32(count))
        XFIQ_LAUNCH(prelu_kernel<int>, blocks_for(count), kThreads, 0, stream)(x, slope, per_channel, y, (int)count, c, (int)spatial);
    else
        XFIQ_LAUNCH(prelu_kernel<int64_t>, blocks_for(count), kThreads, 0, stream)(x, slope, per_channel, y, count, c, spatial);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status relu_fwd_cuda(const float *x, float *y, int64_t count, cudaStream_t stream)
{
    if (count <= 0)
        return XFIQ_OK;
    if (fits_i32(count))
        XFIQ_LAUNCH(relu_kernel<int>, blocks_for(count), kThreads, 0, stream)(x, y, (int)count);
    else
        XFIQ_LAUNCH(relu_kernel<int64_t>, blocks_for(count), kThreads, 0, stream)(x, y, count);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status binary_fwd_cuda(int op, const float *a, const float *b, float *y, int64_t count,
                                       cudaStream_t stream)
{
    if (op < XFIQ_BIN_ADD || op > XFIQ_BIN_DIV)
        return bad_arg("binary_fwd_cuda", "unknown XFIQ_BIN_* code");
    if (count <= 0)
        return XFIQ_OK;
    if (fits_i32(count))
        XFIQ_LAUNCH(binary_kernel<int>, blocks_for(count), kThreads, 0, stream)(op, a, b, y, (int)count);
    else
        XFIQ_LAUNCH(binary_kernel<int64_t>, blocks_for(count), kThreads, 0, stream)(op, a, b, y, count);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status binconst_fwd_cuda(int op, int const_first, const float *x, const float *k, float *y,
                                         int n, int64_t per_sample, cudaStream_t stream)
{
    if (op < XFIQ_BIN_ADD || op > XFIQ_BIN_DIV)
        return bad_arg("binconst_fwd_cuda", "unknown XFIQ_BIN_* code");
    int64_t count = (int64_t)n * per_sample;
    if (count <= 0)
        return XFIQ_OK;
    if (fits_i32(count))
        XFIQ_LAUNCH(binconst_kernel<int>, blocks_for(count), kThreads, 0, stream)(op, const_first, x, k, y, (int)count, (int)per_sample);
    else
        XFIQ_LAUNCH(binconst_kernel<int64_t>, blocks_for(count), kThreads, 0, stream)(op, const_first, x, k, y, count, per_sample);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status bias_act_fwd_cuda(float *y, const float *b, int act, const float *slope,
                                         int slope_per_channel, int n, int c, int64_t spatial,
                                         cudaStream_t stream)
{
    if (act == XFIQ_ACT_PRELU && !slope)
        return bad_arg("bias_act_fwd_cuda", "PRELU without a slope");
    int64_t count = (int64_t)n * c * spatial;
    if (count <= 0 || (!b && act == XFIQ_ACT_NONE))
        return XFIQ_OK;
    if (fits_i32(count))
        XFIQ_LAUNCH(bias_act_kernel<int>, blocks_for(count), kThreads, 0, stream)(y, b, act, slope, slope_per_channel,
                                                                         (int)count, c, (int)spatial);
    else
        XFIQ_LAUNCH(bias_act_kernel<int64_t>, blocks_for(count), kThreads, 0, stream)(y, b, act, slope, slope_per_channel,
                                                                             count, c, spatial);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status half_from_f32_cuda(const float *x, uint16_t *h, int64_t count, int kind, cudaStream_t stream)
{
    if (count <= 0)
        return XFIQ_OK;
    if (fits_i32(count))
        XFIQ_LAUNCH(to_half_kernel<int>, blocks_for(count), kThreads, 0, stream)(x, h, (int)count, kind);
    else
        XFIQ_LAUNCH(to_half_kernel<int64_t>, blocks_for(count), kThreads, 0, stream)(x, h, count, kind);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status half_to_f32_cuda(const uint16_t *h, float *y, int64_t count, int kind, int accumulate,
                                        cudaStream_t stream)
{
    if (count <= 0)
        return XFIQ_OK;
    if (fits_i32(count))
        XFIQ_LAUNCH(from_half_kernel<int>, blocks_for(count), kThreads, 0, stream)(h, y, (int)count, kind, accumulate);
    else
        XFIQ_LAUNCH(from_half_kernel<int64_t>, blocks_for(count), kThreads, 0, stream)(h, y, count, kind, accumulate);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status gap_fwd_cuda(const float *x, float *y, int n, int c, int64_t spatial, cudaStream_t stream)
{
    int64_t rows = (int64_t)n * c;
    if (rows <= 0)
        return XFIQ_OK;
    if (spatial <= 0)
        return bad_arg("gap_fwd_cuda", "empty spatial extent");
    XFIQ_LAUNCH(gap_kernel, blocks_for(rows * 32), kThreads, 0, stream)(x, y, rows, spatial);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status input_preprocess_cuda(const uint8_t *pixels, float *y, int n, int h, int w,
                                             xfiq_channel_order order, const float mean[3],
                                             const float scale[3], cudaStream_t stream)
{
    if (order != XFIQ_ORDER_RGB && order != XFIQ_ORDER_BGR && order != XFIQ_ORDER_GREY)
        return bad_arg("input_preprocess_cuda", "unknown channel order");
    preprocess_args a;
    for (int c = 0; c < 3; c++) {
        a.mean[c] = mean[c];
        a.scale[c] = scale[c];
        a.src[c] = order == XFIQ_ORDER_BGR ? 2 - c : c;
    }
    a.grey = order == XFIQ_ORDER_GREY;
    int64_t hw = (int64_t)h * w, count = (int64_t)n * (a.grey ? 1 : 3) * hw;
    if (count <= 0)
        return XFIQ_OK;
    XFIQ_LAUNCH(preprocess_kernel, blocks_for(count), kThreads, 0, stream)(pixels, y, count, hw, a);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" int xfiq_cuda_align(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    int al = 16;
    while (al > 1 && (a & (uintptr_t)(al - 1)))
        al >>= 1;
    return al;
}
