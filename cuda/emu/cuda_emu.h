/* cuda_emu.h - runs the backend's CUDA kernels as host C++ (g++ -std=c++20)
 * so that CI, which has no GPU, can check their index arithmetic, bounds
 * (under ASan/UBSan), reductions and launchers against the CPU ops.
 *
 * Model: a launch runs its blocks one after another; the threads of one block
 * are real host threads (one per CUDA thread), so __syncthreads is a barrier
 * of the block and warp shuffles meet in a per-warp slot array behind a
 * barrier of the warp. __shared__ becomes a function-local static: with one
 * block alive at a time that is exactly per-block memory. threadIdx and
 * friends are thread-locals set before each block. Device memory is host
 * memory (cudaMalloc = malloc), streams are placeholders and every call is
 * synchronous. Not modelled: timing, the memory model, FMA contraction
 * (expect ulp-level differences from a GPU), texture/async-copy hardware.
 *
 * Used through cuda/emu/include/ (a cuda_runtime_api.h that includes this),
 * with XFIQ_CUDA_EMU defined; cuda/launch.h maps XFIQ_LAUNCH onto
 * xfiq_emu::launch here and onto <<<...>>> under nvcc. */
#ifndef XFIQ_CUDA_EMU_H
#define XFIQ_CUDA_EMU_H

#ifndef __cplusplus
#error "cuda_emu.h is C++ (the kernels compile as C++20 host code)"
#endif

#include <barrier>
#include <condition_variable>
#include <functional>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#ifndef XFIQ_CUDA_EMU
#define XFIQ_CUDA_EMU 1
#endif

/* ------------------------------------------------------------ types */
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
typedef dim3 uint3;

enum cudaError_t {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorNoDevice = 100,
    cudaErrorLaunchOutOfResources = 701,
};
typedef cudaError_t cudaError;

enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4
};

struct CUstream_st;
typedef struct CUstream_st *cudaStream_t;
struct CUevent_st;
typedef struct CUevent_st *cudaEvent_t;

#define cudaStreamNonBlocking 0x01
#define cudaHostAllocDefault 0x00

/* ------------------------------------------------------- qualifiers */
#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __constant__ static
#ifndef __forceinline__
#define __forceinline__ inline
#endif
#define __launch_bounds__(...)
#define __noinline__

namespace xfiq_emu {

/* Limits of an sm_90 device, checked at launch as the driver would. */
const unsigned kMaxThreadsPerBlock = 1024;
const size_t kMaxStaticSmem = 48 * 1024;
const unsigned kWarp = 32;

inline thread_local dim3 t_threadIdx, t_blockIdx, t_blockDim, t_gridDim;
inline thread_local cudaError_t t_last_error = cudaSuccess;

/* What the threads of the running block share. */
struct block_state {
    unsigned nthreads;
    std::unique_ptr<std::barrier<>> block;
    std::vector<std::unique_ptr<std::barrier<>>> warps; /* one per warp (the last may be partial) */
    std::vector<uint64_t> slots;                         /* kWarp per warp */
};
inline thread_local block_state *t_block = nullptr;
inline thread_local unsigned t_linear = 0;

inline std::mutex &atomic_mutex()
{
    static std::mutex m;
    return m;
}

inline void record(cudaError_t e)
{
    if (e != cudaSuccess && t_last_error == cudaSuccess)
        t_last_error = e;
}

inline void syncthreads() { t_block->block->arrive_and_wait(); }

inline unsigned lane() { return t_linear % kWarp; }
inline unsigned warp_width() { return std::min(kWarp, t_block->nthreads - (t_linear / kWarp) * kWarp); }
inline void syncwarp() { t_block->warps[t_linear / kWarp]->arrive_and_wait(); }

/* Every lane of the warp publishes v, then reads lane src's value (its own
 * when src is outside the warp or the segment, as CUDA does). */
template <typename T>
T shfl(T v, int src, bool valid)
{
    static_assert(sizeof(T) <= sizeof(uint64_t), "shuffle of a type wider than 8 bytes");
    uint64_t *slot = &t_block->slots[(t_linear / kWarp) * kWarp];
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    slot[lane()] = bits;
    syncwarp();
    T out = v;
    if (valid && (unsigned)src < warp_width())
        std::memcpy(&out, &slot[src], sizeof(T));
    syncwarp();
    return out;
}

/* Host threads that play the CUDA threads of a block. Created once and
 * reused by every launch (a thread per CUDA thread per launch would cost more
 * than the kernels); one launch at a time. */
class thread_pool {
public:
    static thread_pool &get()
    {
        static thread_pool p;
        return p;
    }
    /* Runs body(linear) on n threads and waits for all of them. */
    void run(unsigned n, const std::function<void(unsigned)> &body)
    {
        std::lock_guard<std::mutex> one(launch_);
        std::unique_lock<std::mutex> g(m_);
        while (workers_.size() < n) {
            unsigned id = (unsigned)workers_.size();
            workers_.emplace_back([this, id] { loop(id); });
        }
        body_ = &body;
        active_ = n;
        pending_ = n;
        generation_++;
        go_.notify_all();
        done_.wait(g, [this] { return pending_ == 0; });
        body_ = nullptr;
    }
    ~thread_pool()
    {
        {
            std::lock_guard<std::mutex> g(m_);
            stop_ = true;
            generation_++;
        }
        go_.notify_all();
        for (std::thread &t : workers_)
            t.join();
    }

private:
    void loop(unsigned id)
    {
        unsigned long seen = 0;
        for (;;) {
            const std::function<void(unsigned)> *body;
            {
                std::unique_lock<std::mutex> g(m_);
                go_.wait(g, [&] { return generation_ != seen; });
                seen = generation_;
                if (stop_)
                    return;
                if (id >= active_)
                    continue;
                body = body_;
            }
            (*body)(id);
            std::lock_guard<std::mutex> g(m_);
            if (--pending_ == 0)
                done_.notify_one();
        }
    }
    std::mutex launch_, m_;
    std::condition_variable go_, done_;
    std::vector<std::thread> workers_;
    const std::function<void(unsigned)> *body_ = nullptr;
    unsigned active_ = 0, pending_ = 0;
    unsigned long generation_ = 0;
    bool stop_ = false;
};

template <typename... K, typename... A>
void run_block_threads(void (*kernel)(K...), dim3 grid, dim3 block, std::tuple<A...> &args)
{
    const unsigned nthreads = block.x * block.y * block.z;
    block_state st;
    st.nthreads = nthreads;
    st.block = std::make_unique<std::barrier<>>(nthreads);
    const unsigned nwarps = (nthreads + kWarp - 1) / kWarp;
    for (unsigned w = 0; w < nwarps; w++)
        st.warps.push_back(std::make_unique<std::barrier<>>(std::min(kWarp, nthreads - w * kWarp)));
    st.slots.assign((size_t)nwarps * kWarp, 0);
    const cudaError_t caller_error = t_last_error;
    std::function<void(unsigned)> body = [&](unsigned linear) {
        t_block = &st;
        t_linear = linear;
        t_blockDim = block;
        t_gridDim = grid;
        t_threadIdx = dim3(linear % block.x, (linear / block.x) % block.y, linear / (block.x * block.y));
        for (unsigned bz = 0; bz < grid.z; bz++)
            for (unsigned by = 0; by < grid.y; by++)
                for (unsigned bx = 0; bx < grid.x; bx++) {
                    t_blockIdx = dim3(bx, by, bz);
                    std::tuple<A...> copy = args; /* kernel arguments are per-thread copies */
                    std::apply(kernel, copy);
                    st.block->arrive_and_wait(); /* the next block reuses the statics */
                }
        t_block = nullptr;
    };
    thread_pool::get().run(nthreads, body);
    t_last_error = caller_error;
}

/* The callable XFIQ_LAUNCH(k, grid, block, smem, stream) expands to. */
template <typename... K>
struct launcher {
    void (*kernel)(K...);
    dim3 grid, block;
    size_t smem;

    template <typename... A>
    void operator()(A &&...a)
    {
        const unsigned long long threads = (unsigned long long)block.x * block.y * block.z;
        if (threads == 0 || threads > kMaxThreadsPerBlock || block.z > 64 || grid.x == 0 || grid.y == 0 ||
            grid.z == 0 || grid.y > 65535 || grid.z > 65535 || grid.x > 2147483647u || smem > kMaxStaticSmem) {
            record(cudaErrorInvalidConfiguration);
            return;
        }
        std::tuple<std::decay_t<K>...> args(std::forward<A>(a)...);
        run_block_threads(kernel, grid, block, args);
    }
};

template <typename... K>
launcher<K...> launch(void (*kernel)(K...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream)
{
    (void)stream;
    return launcher<K...>{kernel, grid, block, smem};
}

} // namespace xfiq_emu

#define threadIdx (xfiq_emu::t_threadIdx)
#define blockIdx (xfiq_emu::t_blockIdx)
#define blockDim (xfiq_emu::t_blockDim)
#define gridDim (xfiq_emu::t_gridDim)
#define warpSize 32

inline void __syncthreads() { xfiq_emu::syncthreads(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { (void)mask, xfiq_emu::syncwarp(); }

template <typename T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32)
{
    (void)mask;
    unsigned l = xfiq_emu::lane(), seg = l / (unsigned)width * (unsigned)width;
    unsigned src = l + delta;
    return xfiq_emu::shfl(v, (int)src, src < seg + (unsigned)width);
}

template <typename T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32)
{
    (void)mask, (void)width;
    return xfiq_emu::shfl(v, (int)(xfiq_emu::lane() ^ (unsigned)lane_mask), true);
}

template <typename T>
T __shfl_sync(unsigned mask, T v, int src, int width = 32)
{
    (void)mask;
    unsigned seg = xfiq_emu::lane() / (unsigned)width * (unsigned)width;
    return xfiq_emu::shfl(v, (int)(seg + (unsigned)src % (unsigned)width), true);
}

template <typename T>
T atomicAdd(T *p, T v)
{
    std::lock_guard<std::mutex> g(xfiq_emu::atomic_mutex());
    T old = *p;
    *p = old + v;
    return old;
}

template <typename T>
T __ldg(const T *p) { return *p; }

inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }

/* ------------------------------------------------ runtime (host memory) */
inline cudaError_t cudaGetLastError()
{
    cudaError_t e = xfiq_emu::t_last_error;
    xfiq_emu::t_last_error = cudaSuccess;
    return e;
}
inline cudaError_t cudaPeekAtLastError() { return xfiq_emu::t_last_error; }
inline const char *cudaGetErrorName(cudaError_t e)
{
    switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    default: return "cudaErrorUnknown";
    }
}
inline const char *cudaGetErrorString(cudaError_t e)
{
    return e == cudaErrorInvalidConfiguration ? "invalid configuration argument (emulated)" : cudaGetErrorName(e);
}
inline cudaError_t cudaMalloc(void **p, size_t bytes)
{
    *p = std::malloc(bytes ? bytes : 1);
    return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
template <typename T>
cudaError_t cudaMalloc(T **p, size_t bytes) { return cudaMalloc((void **)p, bytes); }
inline cudaError_t cudaFree(void *p)
{
    std::free(p);
    return cudaSuccess;
}
inline cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, cudaMemcpyKind k, cudaStream_t s = nullptr)
{
    (void)k, (void)s;
    if (n)
        std::memmove(dst, src, n);
    return cudaSuccess;
}
inline cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, cudaMemcpyKind k)
{
    return cudaMemcpyAsync(dst, src, n, k);
}
inline cudaError_t cudaMemsetAsync(void *dst, int v, size_t n, cudaStream_t s = nullptr)
{
    (void)s;
    std::memset(dst, v, n);
    return cudaSuccess;
}
inline cudaError_t cudaStreamSynchronize(cudaStream_t s)
{
    (void)s;
    return cudaSuccess;
}

#endif
