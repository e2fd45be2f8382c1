/* launch.h - how the backend launches kernels and sizes their grids. Every
 * launch goes through XFIQ_LAUNCH(kernel, grid, block, smem, stream)(args...):
 * under nvcc that is kernel<<<grid, block, smem, stream>>>(args...); in the
 * CPU emulation used by the tests (cuda/emu/cuda_emu.h, XFIQ_CUDA_EMU) it runs
 * the kernel on host threads. Grid sizes are capped (grid-stride loops do the
 * rest) and kernels index with 32-bit integers where the tensor allows it;
 * both limits can be lowered by a test (xfiq_cuda_set_launch_limits) so that
 * grid-capped and 64-bit index paths run on small tensors. C++ only. */
#ifndef XFIQ_CUDA_LAUNCH_H
#define XFIQ_CUDA_LAUNCH_H

#include <stdint.h>

#include <cuda_runtime_api.h>

#ifdef XFIQ_CUDA_EMU
#define XFIQ_LAUNCH(kernel, grid, block, smem, stream) xfiq_emu::launch(kernel, grid, block, smem, stream)
#else
#define XFIQ_LAUNCH(kernel, grid, block, smem, stream) kernel<<<grid, block, smem, stream>>>
#endif

extern "C" {
/* Test hook: at most max_blocks blocks per grid-stride launch (<= 0: the
 * default, 65536) and 32-bit indices only for counts below i32_limit (<= 0:
 * the default, INT32_MAX minus one grid stride). */
void xfiq_cuda_set_launch_limits(int64_t max_blocks, int64_t i32_limit);
}

namespace xfiq_cuda {

const int kThreads = 256;

int64_t max_blocks();
int64_t i32_limit();

/* Enough blocks of `threads` for count items, capped at max_blocks(). */
inline unsigned blocks_for(int64_t count, int threads = kThreads)
{
    int64_t b = (count + threads - 1) / threads, cap = max_blocks();
    return (unsigned)(b < 1 ? 1 : b > cap ? cap : b);
}

/* 32-bit indices only where i + grid stride cannot pass INT32_MAX either. */
inline bool fits_i32(int64_t count) { return count <= i32_limit(); }

} // namespace xfiq_cuda

/* for (i = global thread index; i < count; i += threads in the grid), in type I */
#define XFIQ_GRID_LOOP(I, i, count)                                                                    \
    for (I i = (I)blockIdx.x * (I)blockDim.x + (I)threadIdx.x, xfiq_stride_ = (I)gridDim.x * (I)blockDim.x; \
         i < (count); i += xfiq_stride_)

#endif
