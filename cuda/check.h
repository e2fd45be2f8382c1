/* check.h - the CUDA backend's one family of error checks (C++ side only).
 * Each macro turns a failing CUDA runtime, cuBLAS or cuDNN call into
 * XFIQ_ERR_BACKEND, with the statement, source file and line in
 * xfiq_last_error(), and returns it from the enclosing function (which must
 * return xfiq_status). XFIQ_CUDA_CHECK_LAUNCH() follows every kernel launch:
 * launches report their errors only through cudaGetLastError. */
#ifndef XFIQ_CUDA_CHECK_H
#define XFIQ_CUDA_CHECK_H

#include <string.h>

#include <cublas_v2.h> /* the real header, or cuda/emu/include's shim over OpenBLAS */
#include <cuda_runtime_api.h>
#ifndef XFIQ_CUDA_EMU
#include <cudnn.h>
#endif

extern "C" {
#include "core/status.h"
}

/* Messages name the file, not the build machine's absolute path. */
static inline const char *xfiq_cuda_src_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The runtime also records a failing call's error as the thread's "last
 * error"; it is cleared here so a later launch check does not report it again. */
#define XFIQ_CUDA_CHECK(stmt)                                                           \
    do {                                                                                \
        cudaError_t xfiq_ce_ = (stmt);                                                  \
        if (xfiq_ce_ != cudaSuccess) {                                                  \
            (void)cudaGetLastError();                                                   \
            return xfiq_error(XFIQ_ERR_BACKEND, "%s:%d: %s failed: %s (%s)",            \
                              xfiq_cuda_src_name(__FILE__), __LINE__, #stmt,            \
                              cudaGetErrorName(xfiq_ce_), cudaGetErrorString(xfiq_ce_)); \
        }                                                                               \
    } while (0)

#define XFIQ_CUDA_CHECK_LAUNCH()                                                        \
    do {                                                                                \
        cudaError_t xfiq_ce_ = cudaGetLastError();                                      \
        if (xfiq_ce_ != cudaSuccess)                                                    \
            return xfiq_error(XFIQ_ERR_BACKEND, "%s:%d: kernel launch failed: %s (%s)", \
                              xfiq_cuda_src_name(__FILE__), __LINE__,                   \
                              cudaGetErrorName(xfiq_ce_), cudaGetErrorString(xfiq_ce_)); \
    } while (0)

#define XFIQ_CUBLAS_CHECK(stmt)                                                         \
    do {                                                                                \
        cublasStatus_t xfiq_bs_ = (stmt);                                               \
        if (xfiq_bs_ != CUBLAS_STATUS_SUCCESS)                                          \
            return xfiq_error(XFIQ_ERR_BACKEND, "%s:%d: %s failed: %s (%s)",            \
                              xfiq_cuda_src_name(__FILE__), __LINE__, #stmt,            \
                              cublasGetStatusName(xfiq_bs_), cublasGetStatusString(xfiq_bs_)); \
    } while (0)

#ifndef XFIQ_CUDA_EMU
/* cuDNN keeps a more specific reason than the status name; both are reported. */
#define XFIQ_CUDNN_CHECK(stmt)                                                          \
    do {                                                                                \
        cudnnStatus_t xfiq_ds_ = (stmt);                                                \
        if (xfiq_ds_ != CUDNN_STATUS_SUCCESS) {                                         \
            char xfiq_dmsg_[256] = "";                                                  \
            cudnnGetLastErrorString(xfiq_dmsg_, sizeof xfiq_dmsg_);                     \
            return xfiq_error(XFIQ_ERR_BACKEND, "%s:%d: %s failed: %s (%d)%s%s",        \
                              xfiq_cuda_src_name(__FILE__), __LINE__, #stmt,            \
                              cudnnGetErrorString(xfiq_ds_), (int)xfiq_ds_,             \
                              xfiq_dmsg_[0] ? ": " : "", xfiq_dmsg_);                   \
        }                                                                               \
    } while (0)

#endif /* XFIQ_CUDA_EMU */

#endif
