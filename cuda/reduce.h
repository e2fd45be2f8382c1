/* reduce.h - deterministic warp and block sums for the CUDA kernels: a fixed
 * shuffle tree within each warp, then warp 0 adds the warps' partial sums in
 * warp order. For a given block size the order of every addition is fixed,
 * so results repeat bit for bit from run to run. C++ (nvcc or emulation). */
#ifndef XFIQ_CUDA_REDUCE_H
#define XFIQ_CUDA_REDUCE_H

#include <cuda_runtime_api.h>

namespace xfiq_cuda {

template <typename T>
__device__ __forceinline__ T warp_sum(T v)
{
    for (int off = 16; off > 0; off >>= 1)
        v += __shfl_down_sync(0xffffffffu, v, off);
    return v; /* complete in lane 0 */
}

/* Sum of v over the block (blockDim.x a multiple of 32, at most 1024); every
 * thread of the block must call it; the result is returned to all threads.
 * scratch: 33 values of shared memory (the caller's, so one kernel may use
 * several reductions in sequence). */
template <typename T>
__device__ __forceinline__ T block_sum(T v, T *scratch)
{
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = warp_sum(v);
    if (lane == 0)
        scratch[warp] = v;
    __syncthreads();
    if (threadIdx.x == 0) {
        T s = scratch[0];
        for (int w = 1; w < nwarps; w++)
            s += scratch[w];
        scratch[32] = s;
    }
    __syncthreads();
    T out = scratch[32];
    __syncthreads(); /* scratch may be reused by the next reduction */
    return out;
}

} // namespace xfiq_cuda

#endif
