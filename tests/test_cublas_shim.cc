/* test_cublas_shim.cc - every cuBLAS call of the backend (cuda/cublas_gemm.cu)
 * run over OpenBLAS with the same arguments (cuda/emu/include/cublas_v2.h):
 * the shim rejects what cuBLAS rejects (negative sizes, a leading dimension
 * below its operand's rows), and the products must equal the CPU references
 * (gemm_fwd_ref, gemm_bwd_data_ref), so a wrong transpose or leading
 * dimension cannot pass. Shapes include 1-row, 1-column and odd sizes. */
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "check.h"
#include "elem_cuda.h"
#include "launch.h"
#include "ops_cuda.h"

extern "C" {
#include "core/status.h"
#include "ops/ops_bwd_cpu.h"
#include "ops/ops_cpu.h"
}

static int g_failures = 0, g_checks = 0;

#define CHECK(cond, ...)                                                                 \
    do {                                                                                 \
        g_checks++;                                                                      \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                                \
            fprintf(stderr, "\n");                                                       \
            g_failures++;                                                                \
        }                                                                                \
    } while (0)

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static std::vector<float> rnd(size_t n)
{
    std::vector<float> v(n);
    for (float &x : v) {
        g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
        x = (float)((g_rng >> 40) * (1.0 / 16777216.0) * 2.0 - 1.0);
    }
    return v;
}

static double rel_err(const std::vector<float> &a, const std::vector<float> &b)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); i++) {
        if (!std::isfinite(a[i]))
            return INFINITY;
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return std::sqrt(num / (den > 0 ? den : 1));
}

/* A stream stands for a handle; any distinct pointer serves in the emulation. */
static cudaStream_t stream_of(int i) { return (cudaStream_t)(uintptr_t)(0x1000 + 16 * i); }

int main()
{
    cudaStream_t s = stream_of(1);
    CHECK(xfiq_cublas_attach(s) == XFIQ_OK, "%s", xfiq_last_error());
    const int shapes[][3] = {{1, 1, 1}, {1, 7, 3}, {5, 1, 9}, {4, 3, 1}, {17, 33, 65}, {64, 512, 128}, {3, 2048, 10}};
    for (int precision = 0; precision < 4; precision++) {
        CHECK(xfiq_cublas_set_precision(s, precision) == XFIQ_OK, "%s", xfiq_last_error());
        for (const auto &sh : shapes) {
            const int n = sh[0], k = sh[1], m = sh[2];
            auto x = rnd((size_t)n * k), w = rnd((size_t)m * k), b = rnd(m), slope = rnd(m);
            for (int act = XFIQ_ACT_NONE; act <= XFIQ_ACT_PRELU; act++) {
                std::vector<float> y((size_t)n * m, NAN), r((size_t)n * m, NAN);
                CHECK(gemm_fwd_cuda(x.data(), w.data(), b.data(), y.data(), n, k, m, act, slope.data(), 1, s) == XFIQ_OK,
                      "%s", xfiq_last_error());
                gemm_fwd_ref(x.data(), w.data(), b.data(), r.data(), n, k, m, act, slope.data(), 1);
                double e = rel_err(y, r);
                CHECK(e < 1e-6, "gemm fwd %dx%dx%d act %d: rel err %g", n, k, m, act, e);
            }
            auto dy = rnd((size_t)n * m), base = rnd((size_t)n * k);
            for (int acc = 0; acc < 2; acc++) {
                std::vector<float> dx = acc ? base : std::vector<float>((size_t)n * k, NAN);
                std::vector<float> rx = acc ? base : std::vector<float>((size_t)n * k, NAN);
                CHECK(gemm_bwd_data_cuda(dy.data(), w.data(), dx.data(), n, k, m, acc, s) == XFIQ_OK, "%s",
                      xfiq_last_error());
                gemm_bwd_data_ref(dy.data(), w.data(), rx.data(), n, k, m, acc);
                double e = rel_err(dx, rx);
                CHECK(e < 1e-6, "gemm bwd %dx%dx%d acc %d: rel err %g", n, k, m, acc, e);
            }
        }
    }
    /* The shim refuses what cuBLAS refuses, and the backend reports it. */
    cublasHandle_t h;
    cublasCreate(&h);
    float a = 1, z = 0, A[4] = {0}, B[4] = {0}, C[4] = {0};
    CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &a, A, 1, B, 2, &z, C, 2) == CUBLAS_STATUS_INVALID_VALUE,
          "lda below the rows of A accepted");
    CHECK(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, 2, 2, 2, &a, A, 2, B, 1, &z, C, 2) == CUBLAS_STATUS_INVALID_VALUE,
          "ldb below the rows of B accepted");
    CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 2, &a, A, 2, B, 2, &z, C, 1) == CUBLAS_STATUS_INVALID_VALUE,
          "ldc below m accepted");
    cublasDestroy(h);
    CHECK(gemm_fwd_cuda(A, B, nullptr, C, -1, 2, 2, 0, nullptr, 0, s) == XFIQ_ERR_ARG, "negative size accepted");
    CHECK(gemm_fwd_cuda(A, B, nullptr, C, 2, 2, 2, 0, nullptr, 0, stream_of(2)) == XFIQ_ERR_BACKEND,
          "a stream without a handle accepted");
    CHECK(std::string(xfiq_last_error()).find("no cuBLAS handle") != std::string::npos, "message: %s",
          xfiq_last_error());
    CHECK(xfiq_cublas_set_precision(s, 7) == XFIQ_ERR_ARG, "precision 7 accepted");
    xfiq_cublas_detach(s);
    if (g_failures) {
        fprintf(stderr, "FAILED: %d of %d checks\n", g_failures, g_checks);
        return 1;
    }
    printf("test_cublas_shim: %d checks (gemm forward/backward-data, 7 shapes x 4 precisions)\n", g_checks);
    printf("PASSED\n");
    return 0;
}
