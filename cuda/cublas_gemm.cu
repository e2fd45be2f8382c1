/* cublas_gemm.cu - every cuBLAS call of the backend: gemm_fwd_cuda, y(n, m)
 * = x(n, k) . w(m, k)^T then the bias/activation epilogue kernel
 * (bias_act_fwd_cuda), and gemm_bwd_data_cuda, dx(n, k) (+)= dy(n, m) . w(m,
 * k), both through cublasGemmEx on FP32 operands with the compute type of the
 * stream's precision. Each attached stream owns one cuBLAS handle bound to it.
 * The tests run this file over OpenBLAS (cuda/emu/include/cublas_v2.h), which
 * checks transposes and leading dimensions. */
#include <new>

#include "check.h"
#include "ops_cuda.h"
#include "stream_table.h"


namespace {

struct cublas_ctx {
    cublasHandle_t h;
    std::mutex m;  /* one host thread at a time per handle (cuBLAS rule) */
    cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
};

xfiq_stream_table<cublas_ctx> g_cublas;

cublas_ctx *find_ctx(const char *fn, cudaStream_t stream)
{
    cublas_ctx *c = g_cublas.find(stream);
    if (!c)
        xfiq_error(XFIQ_ERR_BACKEND, "%s: stream %p has no cuBLAS handle (xfiq_cublas_attach)", fn, (void *)stream);
    return c;
}

/* Column-major C(m, n) = alpha op(A) op(B) + beta C with FP32 operands in
 * memory; the compute type says what the tensor cores may do with them. */
xfiq_status gemm_locked(cublas_ctx *c, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                        const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    const float one = 1.0f;
    std::lock_guard<std::mutex> g(c->m);
    XFIQ_CUBLAS_CHECK(cublasGemmEx(c->h, ta, tb, m, n, k, &one, A, CUDA_R_32F, lda, B, CUDA_R_32F, ldb, &beta, C,
                                   CUDA_R_32F, ldc, c->compute, CUBLAS_GEMM_DEFAULT));
    return XFIQ_OK;
}

} // namespace

extern "C" xfiq_status xfiq_cublas_attach(cudaStream_t stream)
{
    cublas_ctx *c = new (std::nothrow) cublas_ctx;
    if (!c)
        return xfiq_error(XFIQ_ERR_NOMEM, "xfiq_cublas_attach: out of memory");
    cublasStatus_t st = cublasCreate(&c->h);
    if (st != CUBLAS_STATUS_SUCCESS) {
        delete c;
        return xfiq_error(XFIQ_ERR_BACKEND, "cublasCreate failed: %s (%s)", cublasGetStatusName(st),
                          cublasGetStatusString(st));
    }
    /* Pedantic FP32 by default (no TF32 even where NVIDIA_TF32_OVERRIDE asks
     * for it): results must match the CPU path to 1e-4. */
    st = cublasSetMathMode(c->h, CUBLAS_PEDANTIC_MATH);
    if (st == CUBLAS_STATUS_SUCCESS)
        st = cublasSetStream(c->h, stream);
    if (st != CUBLAS_STATUS_SUCCESS) {
        cublasDestroy(c->h);
        delete c;
        return xfiq_error(XFIQ_ERR_BACKEND, "cuBLAS handle setup failed: %s", cublasGetStatusString(st));
    }
    if (!g_cublas.add(stream, c)) {
        cublasDestroy(c->h);
        delete c;
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_cublas_attach: stream %p is already attached", (void *)stream);
    }
    return XFIQ_OK;
}

extern "C" void xfiq_cublas_detach(cudaStream_t stream)
{
    cublas_ctx *c = g_cublas.remove(stream);
    if (!c)
        return;
    cublasDestroy(c->h);
    delete c;
}

/* fp32: CUBLAS_COMPUTE_32F_PEDANTIC; tf32 / bf16 / fp16: FP32 operands that
 * the tensor cores round to that format, FP32 accumulation. */
extern "C" xfiq_status xfiq_cublas_set_precision(cudaStream_t stream, int precision)
{
    static const cublasComputeType_t types[4] = {CUBLAS_COMPUTE_32F_PEDANTIC, CUBLAS_COMPUTE_32F_FAST_TF32,
                                                 CUBLAS_COMPUTE_32F_FAST_16BF, CUBLAS_COMPUTE_32F_FAST_16F};
    if (precision < 0 || precision > 3)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_cublas_set_precision: unknown precision %d", precision);
    cublas_ctx *c = find_ctx("xfiq_cublas_set_precision", stream);
    if (!c)
        return XFIQ_ERR_BACKEND;
    std::lock_guard<std::mutex> g(c->m);
    c->compute = types[precision];
    if (precision != 0)
        XFIQ_CUBLAS_CHECK(cublasSetMathMode(c->h, CUBLAS_DEFAULT_MATH));
    return XFIQ_OK;
}

extern "C" xfiq_status gemm_fwd_cuda(const float *x, const float *w, const float *b, float *y, int n, int k,
                                     int m, int act, const float *slope, int slope_per_channel,
                                     cudaStream_t stream)
{
    if (n < 0 || k < 0 || m < 0)
        return xfiq_error(XFIQ_ERR_ARG, "gemm_fwd_cuda: negative size (n %d, k %d, m %d)", n, k, m);
    if (n == 0 || m == 0)
        return XFIQ_OK;
    cublas_ctx *c = find_ctx("gemm_fwd_cuda", stream);
    if (!c)
        return XFIQ_ERR_BACKEND;
    /* Row-major y(n, m) is column-major y^T(m, n) = w(m, k) . x^T(k, n), where
     * row-major w(m, k) is column-major (k, m): hence op(A) = T on w. */
    const int ld = k > 0 ? k : 1;
    XFIQ_TRY(gemm_locked(c, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, w, ld, x, ld, 0.0f, y, m));
    return bias_act_fwd_cuda(y, b, act, slope, slope_per_channel, n, m, 1, stream);
}

extern "C" xfiq_status gemm_bwd_data_cuda(const float *dy, const float *w, float *dx, int n, int k, int m,
                                          int accumulate, cudaStream_t stream)
{
    if (n < 0 || k < 0 || m < 0)
        return xfiq_error(XFIQ_ERR_ARG, "gemm_bwd_data_cuda: negative size (n %d, k %d, m %d)", n, k, m);
    if (n == 0 || k == 0)
        return XFIQ_OK;
    cublas_ctx *c = find_ctx("gemm_bwd_data_cuda", stream);
    if (!c)
        return XFIQ_ERR_BACKEND;
    /* Row-major dx(n, k) is column-major dx^T(k, n) = w^T(k, m) . dy^T(m, n);
     * row-major w(m, k) already is column-major (k, m) = w^T: no transposes. */
    XFIQ_TRY(gemm_locked(c, CUBLAS_OP_N, CUBLAS_OP_N, k, n, m, w, k, dy, m > 0 ? m : 1, accumulate ? 1.0f : 0.0f,
                         dx, k));
    return XFIQ_OK;
}
