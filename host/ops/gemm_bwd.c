/* gemm_bwd.c - backward-data of the fully connected layer:
 * dx(n, k) = dy(n, m) . W(m, k), W row-major as the forward reads it.
 *
 * Threads split dx's columns into fixed slices of GEMM_BWD_TS; inside a
 * slice, blocks of up to GEMM_BWD_NB samples sweep W's rows once (the slice
 * of W stays in cache for the next block). Each dx element is one float
 * accumulator that takes one fused multiply-add per row j of W in increasing
 * j, whatever the block it sits in, so results are bitwise identical for any
 * batch size and thread count; accumulate adds the finished value once. */
#include <math.h>

#include "ops/ops_bwd_cpu.h"

#define GEMM_BWD_TS 64 /* dx columns per slice: four AVX-512 vectors */
#define GEMM_BWD_NB 4  /* samples per block */

#if defined(__AVX512F__)
#include <immintrin.h>

static inline __attribute__((always_inline)) void slice_block(const int ni, const float *dy, const float *w,
                                                              float *dx, int k, int m, int t0, int cols,
                                                              int accumulate)
{
    __m512 acc[GEMM_BWD_NB][4];
    __mmask16 mk[4];
    for (int v = 0; v < 4; v++) {
        const int c = cols - 16 * v;
        mk[v] = c >= 16 ? (__mmask16)0xFFFF : c > 0 ? (__mmask16)((1u << c) - 1u) : 0;
    }
#pragma GCC unroll 4
    for (int i = 0; i < ni; i++)
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++)
            acc[i][v] = _mm512_setzero_ps();
    const float *wt = w + t0;
    for (int j = 0; j < m; j++) {
        __m512 wv[4];
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++)
            wv[v] = _mm512_maskz_loadu_ps(mk[v], wt + (int64_t)j * k + 16 * v);
#pragma GCC unroll 4
        for (int i = 0; i < ni; i++) {
            const __m512 a = _mm512_set1_ps(dy[(int64_t)i * m + j]);
#pragma GCC unroll 4
            for (int v = 0; v < 4; v++)
                acc[i][v] = _mm512_fmadd_ps(a, wv[v], acc[i][v]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < ni; i++)
#pragma GCC unroll 4
        for (int v = 0; v < 4; v++) {
            float *o = dx + (int64_t)i * k + t0 + 16 * v;
            __m512 r = acc[i][v];
            if (accumulate)
                r = _mm512_add_ps(_mm512_maskz_loadu_ps(mk[v], o), r);
            _mm512_mask_storeu_ps(o, mk[v], r);
        }
}

typedef void (*slice_fn)(const float *dy, const float *w, float *dx, int k, int m, int t0, int cols, int accumulate);

#define SLICE_DEF(NI)                                                                                       \
    static void slice_##NI(const float *dy, const float *w, float *dx, int k, int m, int t0, int cols, int acc) \
    {                                                                                                       \
        slice_block(NI, dy, w, dx, k, m, t0, cols, acc);                                                    \
    }
SLICE_DEF(1)
SLICE_DEF(2)
SLICE_DEF(3)
SLICE_DEF(4)

static const slice_fn slice_table[GEMM_BWD_NB + 1] = {NULL, slice_1, slice_2, slice_3, slice_4};

#else

/* Portable form of the same sums: one accumulator per element, fmaf in increasing j. */
static void slice_generic(int ni, const float *dy, const float *w, float *dx, int k, int m, int t0, int cols,
                          int accumulate)
{
    float acc[GEMM_BWD_NB][GEMM_BWD_TS] = {{0}};
    for (int j = 0; j < m; j++) {
        const float *wr = w + (int64_t)j * k + t0;
        for (int i = 0; i < ni; i++) {
            const float a = dy[(int64_t)i * m + j];
            for (int t = 0; t < cols; t++)
                acc[i][t] = fmaf(a, wr[t], acc[i][t]);
        }
    }
    for (int i = 0; i < ni; i++)
        for (int t = 0; t < cols; t++) {
            float *o = dx + (int64_t)i * k + t0 + t;
            *o = accumulate ? *o + acc[i][t] : acc[i][t];
        }
}
#endif

void gemm_bwd_data_cpu(const float *dy, const float *w, float *dx, int n, int k, int m, int accumulate,
                       int num_threads)
{
    const int slices = (k + GEMM_BWD_TS - 1) / GEMM_BWD_TS;
    if (n <= 0 || k <= 0)
        return;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (slices > 1)
    for (int s = 0; s < slices; s++) {
        const int t0 = s * GEMM_BWD_TS, cols = k - t0 < GEMM_BWD_TS ? k - t0 : GEMM_BWD_TS;
        for (int i0 = 0; i0 < n; i0 += GEMM_BWD_NB) {
            const int ni = n - i0 < GEMM_BWD_NB ? n - i0 : GEMM_BWD_NB;
#if defined(__AVX512F__)
            slice_table[ni](dy + (int64_t)i0 * m, w, dx + (int64_t)i0 * k, k, m, t0, cols, accumulate);
#else
            slice_generic(ni, dy + (int64_t)i0 * m, w, dx + (int64_t)i0 * k, k, m, t0, cols, accumulate);
#endif
        }
    }
}
