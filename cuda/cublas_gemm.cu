/* cublas_gemm.cu - gemm_fwd_cuda: y(n, m) = x(n, k) . w(m, k)^T through
 * cublasSgemm, then the bias/activation epilogue kernel (bias_act_fwd_cuda).
 * All cuBLAS calls of the backend are in this file; each attached stream
 * owns one cuBLAS handle bound to it. */
#include <new>

#include "check.h"
#include "ops_cuda.h"
#include "stream_table.h"


namespace {

struct cublas_ctx {
    cublasHandle_t h;
    std::mutex m;  /* one host thread at a time per handle (cuBLAS rule) */
};

xfiq_stream_table<cublas_ctx> g_cublas;

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
    /* The default math mode keeps SGEMM in FP32 (TF32 tensor cores only when
     * asked for): results must match the CPU path to 1e-4. */
    st = cublasSetMathMode(c->h, CUBLAS_DEFAULT_MATH);
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

static xfiq_status sgemm_locked(cublas_ctx *c, const float *x, const float *w, float *y, int n, int k, int m)
{
    /* Row-major y(n, m) is column-major y^T(m, n) = w(m, k) . x^T(k, n), where
     * row-major w(m, k) is column-major (k, m): hence op(A) = T on w. */
    const float one = 1.0f, zero = 0.0f;
    const int ld = k > 0 ? k : 1;
    std::lock_guard<std::mutex> g(c->m);
    XFIQ_CUBLAS_CHECK(cublasSgemm(c->h, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &one, w, ld, x, ld, &zero, y, m));
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
    cublas_ctx *c = g_cublas.find(stream);
    if (!c)
        return xfiq_error(XFIQ_ERR_BACKEND, "gemm_fwd_cuda: stream %p has no cuBLAS handle (xfiq_cublas_attach)",
                          (void *)stream);
    XFIQ_TRY(sgemm_locked(c, x, w, y, n, k, m));
    return bias_act_fwd_cuda(y, b, act, slope, slope_per_channel, n, m, 1, stream);
}

extern "C" xfiq_status xfiq_cublas_set_precision(cudaStream_t stream, int precision)
{
    (void)stream;
    if (precision != 0)
        return xfiq_error(XFIQ_ERR_UNSUPPORTED, "cuBLAS: only fp32 is implemented yet");
    return XFIQ_OK;
}
