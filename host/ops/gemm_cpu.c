/* gemm_cpu.c - the fully connected layer y(n, m) = x(n, k) . W(m, k)^T + b,
 * then the fused activation.
 *
 * AVX-512 build: a dot-product kernel on 4 rows of x by 6 rows of W at a
 * time, both read in place (W row-major is exactly what a dot product wants,
 * so nothing is packed and batch 1 streams W once, as a GEMV should). Each
 * element keeps 16 partial sums (lane l takes k = l mod 16, in increasing k,
 * the k tail through a masked load), reduced by one fixed tree: the same
 * operations whatever the block or depth chunk it sits in, so results are
 * bitwise identical for any batch size and thread count. Threads split W's
 * rows.
 *
 * Other builds: OpenBLAS GEMV per sample on fixed 64-row slices of W (a
 * shape-only tiling), BLAS held to one thread; deterministic the same way. */
#include <cblas.h>

#include "ops/ops_cpu.h"
#include "ops/ops_internal.h"

/* Below this many flops a call runs on the calling thread only. */
#define GEMM_PAR_MIN_FLOPS 2e6

static inline void gemm_store(float *y, int m, int i, int j, float v, const float *b, int act, const float *slope,
                              int spc)
{
    y[(int64_t)i * m + j] = xfiq_act(act, v + (b ? b[j] : 0.0f), ops_slope_of(slope, spc, j));
}

#if defined(__AVX512F__)
#include <immintrin.h>

/* Block: GEMM_NI rows of x by GEMM_MJ rows of W, 24 accumulators. The depth
 * is cut into GEMM_KC chunks (a multiple of 16, so each k keeps its lane)
 * whose W slice stays in L1 while a chunk of up to GEMM_ROWS rows of x goes
 * by; partial sums wait in a per-thread buffer between chunks. */
#define GEMM_NI 4
#define GEMM_MJ 6
#define GEMM_KC 512
#define GEMM_ROWS 64

typedef struct gemm_partial {
    __m512 v[GEMM_ROWS][GEMM_MJ];
} gemm_partial;

static inline __attribute__((always_inline)) void dot_chunk(const int ni, const int mj, const float *x, int64_t ldx,
                                                            const float *w, int64_t ldw, int len, int first,
                                                            __m512 part[][GEMM_MJ])
{
    __m512 acc[GEMM_NI][GEMM_MJ];
#pragma GCC unroll 8
    for (int i = 0; i < ni; i++)
#pragma GCC unroll 8
        for (int j = 0; j < mj; j++)
            acc[i][j] = first ? _mm512_setzero_ps() : part[i][j];
    int t = 0;
    for (; t + 16 <= len; t += 16) {
        __m512 wv[GEMM_MJ];
#pragma GCC unroll 8
        for (int j = 0; j < mj; j++) {
            wv[j] = _mm512_loadu_ps(w + j * ldw + t);
            /* Keep W in a register: without this GCC folds the load into
             * every FMA, loading W once per row of x (load-bound, half speed). */
            __asm__("" : "+v"(wv[j]));
        }
#pragma GCC unroll 8
        for (int i = 0; i < ni; i++) {
            const __m512 xv = _mm512_loadu_ps(x + i * ldx + t);
#pragma GCC unroll 8
            for (int j = 0; j < mj; j++)
                acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
        }
    }
    if (t < len) { /* the last chunk's k tail: masked lanes add 0*0 */
        const __mmask16 mk = (__mmask16)((1u << (len - t)) - 1u);
        __m512 wv[GEMM_MJ];
#pragma GCC unroll 8
        for (int j = 0; j < mj; j++)
            wv[j] = _mm512_maskz_loadu_ps(mk, w + j * ldw + t);
#pragma GCC unroll 8
        for (int i = 0; i < ni; i++) {
            const __m512 xv = _mm512_maskz_loadu_ps(mk, x + i * ldx + t);
#pragma GCC unroll 8
            for (int j = 0; j < mj; j++)
                acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < ni; i++)
#pragma GCC unroll 8
        for (int j = 0; j < mj; j++)
            part[i][j] = acc[i][j];
}

typedef void (*dot_fn)(const float *x, int64_t ldx, const float *w, int64_t ldw, int len, int first,
                       __m512 part[][GEMM_MJ]);

#define DOT_DEF(NI, MJ)                                                                                     \
    static void dot_##NI##_##MJ(const float *x, int64_t ldx, const float *w, int64_t ldw, int len, int first, \
                                __m512 part[][GEMM_MJ])                                                     \
    {                                                                                                       \
        dot_chunk(NI, MJ, x, ldx, w, ldw, len, first, part);                                               \
    }
#define DOT_ROW(NI) DOT_DEF(NI, 1) DOT_DEF(NI, 2) DOT_DEF(NI, 3) DOT_DEF(NI, 4) DOT_DEF(NI, 5) DOT_DEF(NI, 6)
DOT_ROW(1)
DOT_ROW(2)
DOT_ROW(3)
DOT_ROW(4)
#if GEMM_NI != 4 || GEMM_MJ != 6
#error "gemm_cpu.c: the kernel table is written for 4 x 6 blocks"
#endif
#define DOT_PTRS(NI) {dot_##NI##_1, dot_##NI##_2, dot_##NI##_3, dot_##NI##_4, dot_##NI##_5, dot_##NI##_6}
static const dot_fn dot_table[GEMM_NI][GEMM_MJ] = {DOT_PTRS(1), DOT_PTRS(2), DOT_PTRS(3), DOT_PTRS(4)};

void ops_gemm_fwd(const float *x, const float *w, const float *b, float *y, int n, int k, int m, int act,
                  const float *slope, int slope_per_channel, int num_threads)
{
    const int mblocks = (m + GEMM_MJ - 1) / GEMM_MJ;
    if (n <= 0 || m <= 0)
        return;
#pragma omp parallel num_threads(num_threads)
    {
        gemm_partial pt; /* 24 KiB of partial sums, on this thread's stack */
#pragma omp for schedule(static)
        for (int jb = 0; jb < mblocks; jb++) {
            const int j0 = jb * GEMM_MJ, mj = m - j0 < GEMM_MJ ? m - j0 : GEMM_MJ;
            const float *wb = w + (int64_t)j0 * k;
            for (int r0 = 0; r0 < n; r0 += GEMM_ROWS) {
                const int rows = n - r0 < GEMM_ROWS ? n - r0 : GEMM_ROWS;
                int k0 = 0;
                do { /* at least once, so that k == 0 still zeroes the sums */
                    const int len = k - k0 < GEMM_KC ? k - k0 : GEMM_KC;
                    for (int i = 0; i < rows; i += GEMM_NI) {
                        const int ni = rows - i < GEMM_NI ? rows - i : GEMM_NI;
                        dot_table[ni - 1][mj - 1](x + (int64_t)(r0 + i) * k + k0, k, wb + k0, k, len, k0 == 0,
                                                  &pt.v[i]);
                    }
                    k0 += GEMM_KC;
                } while (k0 < k);
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < mj; j++)
                        gemm_store(y, m, r0 + i, j0 + j, _mm512_reduce_add_ps(pt.v[i][j]), b, act, slope,
                                   slope_per_channel);
            }
        }
    }
}

#else /* !__AVX512F__ */

#define GEMM_SLICE 64

void ops_gemm_fwd(const float *x, const float *w, const float *b, float *y, int n, int k, int m, int act,
                  const float *slope, int slope_per_channel, int num_threads)
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

void gemm_fwd_cpu(const float *x, const float *w, const float *b, float *y, int n, int k, int m,
                  int act, const float *slope, int slope_per_channel, int num_threads)
{
    if (2.0 * n * k * m < GEMM_PAR_MIN_FLOPS) /* not worth waking a team; same result */
        num_threads = 1;
    ops_gemm_fwd(x, w, b, y, n, k, m, act, slope, slope_per_channel, num_threads);
}
