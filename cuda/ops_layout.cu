/* ops_layout.cu - thin CUDA kernels for the face detector's ops (Concat,
 * Transpose, Slice, Softmax, Exp) around the shared C of
 * host/ops/elem_layout.h and host/ops/elem.h; forward only, since the
 * detector never runs backward. Grid-stride loops like ops_elementwise.cu.
 * The index arithmetic stays in 64 bits: it is the CPU's own code, and the
 * detector's tensors are small (under a million values per image), so a
 * 32-bit copy of it would buy little and could drift from the CPU's. */
#include "check.h"
#include "elem_cuda.h"
#include "launch.h"
#include "ops_cuda.h"

using xfiq_cuda::blocks_for;
using xfiq_cuda::kThreads;

namespace {

__global__ void concat_kernel(const float *a, const float *b, float *y, int64_t count, int64_t na, int64_t nb)
{
    XFIQ_GRID_LOOP(int64_t, e, count)
        y[e] = xfiq_concat_elem(a, b, e, na, nb);
}

/* Transpose and Slice: the geometry travels by value (a few hundred bytes of
 * kernel parameters), so each thread reads it from constant space. */
__global__ void gather_kernel(const float *x, float *y, int64_t count, xfiq_gather_geom g)
{
    XFIQ_GRID_LOOP(int64_t, e, count)
        y[e] = x[xfiq_gather_src(&g, e)];
}

/* One thread per group keeps the CPU's summation order; neighbouring
 * threads take neighbouring groups, whose values are adjacent when inner > 1. */
__global__ void softmax_kernel(const float *x, float *y, int64_t groups, int64_t len, int64_t inner)
{
    XFIQ_GRID_LOOP(int64_t, g, groups) {
        const int64_t o = g / inner, i = g - o * inner, off = o * len * inner + i;
        xfiq_softmax_group(x + off, y + off, len, inner);
    }
}

__global__ void unary_kernel(int op, const float *x, float *y, int64_t count)
{
    XFIQ_GRID_LOOP(int64_t, i, count)
        y[i] = xfiq_unary(op, x[i]);
}

xfiq_status bad_arg(const char *fn, const char *what)
{
    return xfiq_error(XFIQ_ERR_ARG, "%s: %s", fn, what);
}

xfiq_status gather(const float *x, float *y, const xfiq_gather_geom &g, cudaStream_t stream)
{
    const int64_t count = xfiq_gather_count(&g);
    if (count <= 0)
        return XFIQ_OK;
    XFIQ_LAUNCH(gather_kernel, blocks_for(count), kThreads, 0, stream)(x, y, count, g);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

} // namespace

extern "C" xfiq_status concat_fwd_cuda(const float *a, const float *b, float *y, int64_t outer, int64_t na,
                                       int64_t nb, cudaStream_t stream)
{
    if (outer < 0 || na < 0 || nb < 0)
        return bad_arg("concat_fwd_cuda", "negative extent");
    const int64_t count = outer * (na + nb);
    if (count <= 0)
        return XFIQ_OK;
    XFIQ_LAUNCH(concat_kernel, blocks_for(count), kThreads, 0, stream)(a, b, y, count, na, nb);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

/* The device would read out of bounds where the CPU's loops would too; the
 * launcher checks the geometry on the host instead of trusting it. */
extern "C" xfiq_status transpose_fwd_cuda(const float *x, float *y, int n, int ndim, const int64_t *dims,
                                          const int *perm, cudaStream_t stream)
{
    if (ndim < 1 || ndim > XFIQ_MAX_DIMS)
        return bad_arg("transpose_fwd_cuda", "rank out of range");
    int seen = 0;
    for (int a = 0; a < ndim; a++) {
        if (perm[a] < 0 || perm[a] >= ndim || ((seen >> perm[a]) & 1) || (a == 0 && perm[a] != 0))
            return bad_arg("transpose_fwd_cuda", "perm is not a permutation keeping the batch first");
        seen |= 1 << perm[a];
    }
    xfiq_gather_geom g;
    xfiq_transpose_geom(&g, n, ndim, dims, perm);
    return gather(x, y, g, stream);
}

extern "C" xfiq_status slice_fwd_cuda(const float *x, float *y, int n, int ndim, const int64_t *xdims,
                                      const int64_t *start, const int64_t *step, const int64_t *ydims,
                                      cudaStream_t stream)
{
    if (ndim < 1 || ndim > XFIQ_MAX_DIMS)
        return bad_arg("slice_fwd_cuda", "rank out of range");
    for (int a = 1; a < ndim; a++)
        if (ydims[a] > 0 && (step[a] < 1 || start[a] < 0 || start[a] + (ydims[a] - 1) * step[a] >= xdims[a]))
            return bad_arg("slice_fwd_cuda", "window outside the input");
    xfiq_gather_geom g;
    xfiq_slice_geom(&g, n, ndim, xdims, start, step, ydims);
    return gather(x, y, g, stream);
}

extern "C" xfiq_status softmax_fwd_cuda(const float *x, float *y, int64_t outer, int64_t len, int64_t inner,
                                        cudaStream_t stream)
{
    const int64_t groups = outer * inner;
    if (groups <= 0 || len <= 0)
        return XFIQ_OK;
    XFIQ_LAUNCH(softmax_kernel, blocks_for(groups), kThreads, 0, stream)(x, y, groups, len, inner);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status unary_fwd_cuda(int op, const float *x, float *y, int64_t count, cudaStream_t stream)
{
    if (op < 0 || op >= XFIQ_UN_COUNT)
        return bad_arg("unary_fwd_cuda", "unknown XFIQ_UN_* code");
    if (count <= 0)
        return XFIQ_OK;
    XFIQ_LAUNCH(unary_kernel, blocks_for(count), kThreads, 0, stream)(op, x, y, count);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}
