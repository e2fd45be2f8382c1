/* gemm_bwd.c - backward-data of the fully connected layer:
 * dx(n, k) = dy(n, m) . W(m, k), W row-major as the forward reads it.
 *
 * dx's columns are cut into slices; a register tile of ni samples x nv
 * vectors of columns sweeps W's m rows in place. Few samples (a GEMV, memory
 * bound): wide tiles, 1 KB of each row of W at a time. Four or more samples:
 * 4 x 64 tiles, the 64-column slice of W reused from cache by each block of
 * 4 samples. (Packing the slice contiguous measured slower.)
 *
 * Reproducibility: each dx element is one float accumulator that takes one
 * fused multiply-add per row j of W in increasing j, whatever the tile or
 * slice it goes through, so results are bitwise identical for any
 * batch size and thread count; accumulate adds the finished value once. */
#include <math.h>

#include "ops/ops_bwd_cpu.h"

#define GEMM_BWD_TS 64 /* columns per slice from 4 samples on: four vectors */
#define GEMM_BWD_NB 4  /* samples per block */

#if defined(__AVX512F__)
#include <immintrin.h>

#define GEMM_BWD_NVMAX 16

/* dx[0..ni)[t0 .. t0+cols) from rows 0..m of wt (row stride ldw, columns
 * starting at the slice); full: cols == 16*nv and no masks are needed. */
static inline __attribute__((always_inline)) void tile_run(const int ni, const int nv, const int full,
                                                           const float *dy, const float *wt, int64_t ldw,
                                                           float *dx, int k, int m, int t0, int cols, int accumulate)
{
    __m512 acc[GEMM_BWD_NB][GEMM_BWD_NVMAX];
    __mmask16 mk[GEMM_BWD_NVMAX];
#pragma GCC unroll 16
    for (int v = 0; v < nv; v++) {
        const int c = cols - 16 * v;
        mk[v] = c >= 16 ? (__mmask16)0xFFFF : c > 0 ? (__mmask16)((1u << c) - 1u) : 0;
    }
#pragma GCC unroll 4
    for (int i = 0; i < ni; i++)
#pragma GCC unroll 16
        for (int v = 0; v < nv; v++)
            acc[i][v] = _mm512_setzero_ps();
    for (int j = 0; j < m; j++) {
        const float *wr = wt + (int64_t)j * ldw;
        __m512 wv[GEMM_BWD_NVMAX];
#pragma GCC unroll 16
        for (int v = 0; v < nv; v++)
            wv[v] = full ? _mm512_loadu_ps(wr + 16 * v) : _mm512_maskz_loadu_ps(mk[v], wr + 16 * v);
#pragma GCC unroll 4
        for (int i = 0; i < ni; i++) {
            const __m512 a = _mm512_set1_ps(dy[(int64_t)i * m + j]);
#pragma GCC unroll 16
            for (int v = 0; v < nv; v++)
                acc[i][v] = _mm512_fmadd_ps(a, wv[v], acc[i][v]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < ni; i++)
#pragma GCC unroll 16
        for (int v = 0; v < nv; v++) {
            float *o = dx + (int64_t)i * k + t0 + 16 * v;
            __m512 r = acc[i][v];
            if (full) {
                if (accumulate)
                    r = _mm512_add_ps(_mm512_loadu_ps(o), r);
                _mm512_storeu_ps(o, r);
            } else {
                if (accumulate)
                    r = _mm512_add_ps(_mm512_maskz_loadu_ps(mk[v], o), r);
                _mm512_mask_storeu_ps(o, mk[v], r);
            }
        }
}

typedef void (*tile_fn)(const float *dy, const float *wt, int64_t ldw, float *dx, int k, int m, int t0, int cols,
                        int accumulate);

#define TILE_DEF(NI, NV)                                                                                     \
    static void tile_##NI##_##NV(const float *dy, const float *wt, int64_t ldw, float *dx, int k, int m,     \
                                 int t0, int cols, int acc)                                                  \
    {                                                                                                        \
        if (cols == 16 * (NV))                                                                               \
            tile_run(NI, NV, 1, dy, wt, ldw, dx, k, m, t0, cols, acc);                                       \
        else                                                                                                 \
            tile_run(NI, NV, 0, dy, wt, ldw, dx, k, m, t0, cols, acc);                                       \
    }
TILE_DEF(1, 16)
TILE_DEF(2, 8)
TILE_DEF(1, 4)
TILE_DEF(2, 4)
TILE_DEF(3, 4)
TILE_DEF(4, 4)

static const tile_fn tile4[GEMM_BWD_NB + 1] = {NULL, tile_1_4, tile_2_4, tile_3_4, tile_4_4};

void gemm_bwd_data_cpu(const float *dy, const float *w, float *dx, int n, int k, int m, int accumulate,
                       int num_threads)
{
    if (n <= 0 || k <= 0)
        return;
    if (n < GEMM_BWD_NB) {
        /* GEMV-like: in place, as wide as the registers allow. */
        const int ts = n == 1 ? 256 : n == 2 ? 128 : 64;
        const int slices = (k + ts - 1) / ts;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (slices > 1)
        for (int s = 0; s < slices; s++) {
            const int t0 = s * ts, cols = k - t0 < ts ? k - t0 : ts;
            if (n == 1)
                tile_1_16(dy, w + t0, k, dx, k, m, t0, cols, accumulate);
            else if (n == 2)
                tile_2_8(dy, w + t0, k, dx, k, m, t0, cols, accumulate);
            else
                tile_3_4(dy, w + t0, k, dx, k, m, t0, cols, accumulate);
        }
        return;
    }
    const int slices = (k + GEMM_BWD_TS - 1) / GEMM_BWD_TS;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (slices > 1)
    for (int s = 0; s < slices; s++) {
        const int t0 = s * GEMM_BWD_TS, cols = k - t0 < GEMM_BWD_TS ? k - t0 : GEMM_BWD_TS;
        for (int i0 = 0; i0 < n; i0 += GEMM_BWD_NB) {
            const int ni = n - i0 < GEMM_BWD_NB ? n - i0 : GEMM_BWD_NB;
            tile4[ni](dy + (int64_t)i0 * m, w + t0, k, dx + (int64_t)i0 * k, k, m, t0, cols, accumulate);
        }
    }
}

#else /* !__AVX512F__ */

/* Portable form of the same sums: one accumulator per element, fmaf in increasing j. */
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
            float acc[GEMM_BWD_NB][GEMM_BWD_TS] = {{0}};
            for (int j = 0; j < m; j++) {
                const float *wr = w + (int64_t)j * k + t0;
                for (int i = 0; i < ni; i++) {
                    const float a = dy[(int64_t)(i0 + i) * m + j];
                    for (int t = 0; t < cols; t++)
                        acc[i][t] = fmaf(a, wr[t], acc[i][t]);
                }
            }
            for (int i = 0; i < ni; i++)
                for (int t = 0; t < cols; t++) {
                    float *o = dx + (int64_t)(i0 + i) * k + t0 + t;
                    *o = accumulate ? *o + acc[i][t] : acc[i][t];
                }
        }
    }
}

#endif
