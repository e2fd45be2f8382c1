/* gemm_cpu.c - the fully connected layer y(n, m) = x(n, k) . W(m, k)^T + b,
 * then the fused activation.
 *
 * AVX-512 build: a dot-product kernel on 4 rows of x by 4 rows of W at a
 * time, both read in place (W row-major is exactly what a dot product wants,
 * so nothing is packed and batch 1 streams W once, as a GEMV should). Each
 * element keeps 16 partial sums (lane l takes k = l mod 16, in increasing k,
 * the k tail through a masked load), reduced by one fixed tree: the same
 * operations whatever the block it sits in, so results are bitwise identical
 * for any batch size and thread count. Threads split W's rows.
 *
 * Other builds: OpenBLAS GEMV per sample on fixed 64-row slices of W (a
 * shape-only tiling), BLAS held to one thread; deterministic the same way. */
#include <cblas.h>

#include "ops/ops_cpu.h"
#include "ops/ops_internal.h"

#define GEMM_MB 4 /* rows of W per block */
#define GEMM_NB 4 /* rows of x per block */

static inline void gemm_store(float *y, int m, int i, int j, float v, const float *b, int act, const float *slope,
                              int spc)
{
    y[(int64_t)i * m + j] = xfiq_act(act, v + (b ? b[j] : 0.0f), ops_slope_of(slope, spc, j));
}

#if defined(__AVX512F__)
#include <immintrin.h>

static inline __attribute__((always_inline)) void dot_block(const int ni, const int mj, const float *x, const float *w,
                                                            int k, float out[GEMM_NB][GEMM_MB])
{
    __m512 acc[GEMM_NB][GEMM_MB];
#pragma GCC unroll 4
    for (int i = 0; i < ni; i++)
#pragma GCC unroll 4
        for (int j = 0; j < mj; j++)
            acc[i][j] = _mm512_setzero_ps();
    int t = 0;
    for (; t + 16 <= k; t += 16) {
        __m512 wv[GEMM_MB];
#pragma GCC unroll 4
        for (int j = 0; j < mj; j++)
            wv[j] = _mm512_loadu_ps(w + (int64_t)j * k + t);
#pragma GCC unroll 4
        for (int i = 0; i < ni; i++) {
            const __m512 xv = _mm512_loadu_ps(x + (int64_t)i * k + t);
#pragma GCC unroll 4
            for (int j = 0; j < mj; j++)
                acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
        }
    }
    if (t < k) {
        const __mmask16 mk = (__mmask16)((1u << (k - t)) - 1u);
        __m512 wv[GEMM_MB];
#pragma GCC unroll 4
        for (int j = 0; j < mj; j++)
            wv[j] = _mm512_maskz_loadu_ps(mk, w + (int64_t)j * k + t);
#pragma GCC unroll 4
        for (int i = 0; i < ni; i++) {
            const __m512 xv = _mm512_maskz_loadu_ps(mk, x + (int64_t)i * k + t);
#pragma GCC unroll 4
            for (int j = 0; j < mj; j++)
                acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < ni; i++)
#pragma GCC unroll 4
        for (int j = 0; j < mj; j++)
            out[i][j] = _mm512_reduce_add_ps(acc[i][j]);
}

typedef void (*dot_fn)(const float *x, const float *w, int k, float out[GEMM_NB][GEMM_MB]);

#define DOT_DEF(NI, MJ)                                                                      \
    static void dot_##NI##_##MJ(const float *x, const float *w, int k, float out[GEMM_NB][GEMM_MB]) \
    {                                                                                        \
        dot_block(NI, MJ, x, w, k, out);                                                     \
    }
DOT_DEF(1, 1) DOT_DEF(1, 2) DOT_DEF(1, 3) DOT_DEF(1, 4)
DOT_DEF(2, 1) DOT_DEF(2, 2) DOT_DEF(2, 3) DOT_DEF(2, 4)
DOT_DEF(3, 1) DOT_DEF(3, 2) DOT_DEF(3, 3) DOT_DEF(3, 4)
DOT_DEF(4, 1) DOT_DEF(4, 2) DOT_DEF(4, 3) DOT_DEF(4, 4)

static const dot_fn dot_table[GEMM_NB][GEMM_MB] = {
    {dot_1_1, dot_1_2, dot_1_3, dot_1_4},
    {dot_2_1, dot_2_2, dot_2_3, dot_2_4},
    {dot_3_1, dot_3_2, dot_3_3, dot_3_4},
    {dot_4_1, dot_4_2, dot_4_3, dot_4_4}};

void gemm_fwd_cpu(const float *x, const float *w, const float *b, float *y, int n, int k, int m,
                  int act, const float *slope, int slope_per_channel, int num_threads)
{
    const int mblocks = (m + GEMM_MB - 1) / GEMM_MB;
    if (n <= 0 || m <= 0)
        return;
#pragma omp parallel for schedule(static) num_threads(num_threads)
    for (int jb = 0; jb < mblocks; jb++) {
        const int j0 = jb * GEMM_MB, mj = m - j0 < GEMM_MB ? m - j0 : GEMM_MB;
        for (int i0 = 0; i0 < n; i0 += GEMM_NB) {
            const int ni = n - i0 < GEMM_NB ? n - i0 : GEMM_NB;
            float out[GEMM_NB][GEMM_MB];
            dot_table[ni - 1][mj - 1](x + (int64_t)i0 * k, w + (int64_t)j0 * k, k, out);
            for (int i = 0; i < ni; i++)
                for (int j = 0; j < mj; j++)
                    gemm_store(y, m, i0 + i, j0 + j, out[i][j], b, act, slope, slope_per_channel);
        }
    }
}

#else /* !__AVX512F__ */

#define GEMM_SLICE 64

void gemm_fwd_cpu(const float *x, const float *w, const float *b, float *y, int n, int k, int m,
                  int act, const float *slope, int slope_per_channel, int num_threads)
{
    const int slices = (m + GEMM_SLICE - 1) / GEMM_SLICE;
    const int64_t items = (int64_t)n * slices;
    ops_blas_single_thread();
#pragma omp parallel for schedule(static) num_threads(num_threads)
    for (int64_t it = 0; it < items; it++) {
        const int i = (int)(it / slices), j0 = (int)(it % slices) * GEMM_SLICE;
        const int mj = m - j0 < GEMM_SLICE ? m - j0 : GEMM_SLICE;
        float *yi = y + (int64_t)i * m;
        cblas_sgemv(CblasRowMajor, CblasNoTrans, mj, k, 1.0f, w + (int64_t)j0 * k, k, x + (int64_t)i * k, 1, 0.0f,
                    yi + j0, 1);
        for (int j = j0; j < j0 + mj; j++)
            gemm_store(y, m, i, j, yi[j], b, act, slope, slope_per_channel);
    }
}

#endif
