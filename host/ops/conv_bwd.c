/* conv_bwd.c - fast backward-data of the dense (non-depthwise) convolution.
 * A work item is (image, group, range of input channels[, band of dx rows]):
 * chunk by chunk of the output positions that reach the band, a GEMM
 * col (rows k = (channel, ky, kx) of the range) = W^T . dY, each chunk
 * scattered at once (col2im) into the band of the range's dx planes held in
 * the thread's scratch; the planes are then written or added into dx. Bands
 * recompute the few output rows they share with their neighbours. For 1x1
 * stride-1 convs the GEMM result is dx itself and goes straight there; on a
 * 1x1 map it is a GEMV and goes to gemm_bwd_data_cpu.
 *
 * The GEMM runs on an AVX-512 micro-kernel of this file (OpenBLAS 0.3.21
 * only has AVX2 kernels for this CPU; dY is packed per chunk, W^T per call),
 * or, without AVX-512 or when asked, on single-threaded cblas_sgemm calls.
 *
 * Reproducibility: with the micro-kernel each col element is one float
 * accumulator taking one fused multiply-add per output channel in increasing
 * order (so it does not even depend on the tiling); with OpenBLAS each chunk
 * is one sgemm call whose shape and operands depend on the layer shape only.
 * The col2im then adds into each dx element in a fixed (chunk, channel, ky,
 * kx, row) order, and each dx element belongs to exactly one work item. So dx
 * is bitwise identical for any batch size and thread count. accumulate adds
 * the finished value once, so it is exact. */
#include <cblas.h>
#include <string.h>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include <omp.h>

#include "ops/ops_bwd_cpu.h"
#include "ops/ops_internal.h"

/* Floats of one column chunk: with the B block and the planes, stays in L2. */
#define BWD_COL_FLOATS (64 * 1024)
/* Floats of the dx planes (a band of rows of each) of one channel range. */
#define BWD_ACC_FLOATS (128 * 1024)
/* Fewest dx rows in a band. */
#define BWD_MIN_BAND 8
/* Floats of the packed dY tile of a 1x1 item. */
#define BWD_B_FLOATS (64 * 1024)
/* Widest column chunk / 1x1 tile. */
#define BWD_TQ_MAX 512
/* Enough items per image that a single image keeps every core busy. */
#define BWD_ITEMS_PER_IMAGE 8

static int ceil_div(int64_t a, int64_t b) { return (int)((a + b - 1) / b); }

static int gcd(int a, int b) { return b ? gcd(b, a % b) : a; }

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

#if defined(__AVX512F__)
static int have_avx512(void) { return 1; }
#else
static int have_avx512(void) { return 0; }
#endif

/* Input channels per range: about `want` ranges, rounded so that a range's
 * GEMM rows fill whole micro-kernel panels, at most `cap` channels. */
static int range_channels(int cin_g, int khw, int want, int cap)
{
    if (want > cin_g)
        want = cin_g;
    if (want < 1)
        want = 1;
    int cc = ceil_div(cin_g, want);
    const int unit = OPS_MR / gcd(OPS_MR, khw);
    cc = ceil_div(cc, unit) * unit;
    if (cc > cin_g)
        cc = cin_g;
    if (cc > cap)
        cc = cap;
    return cc < 1 ? 1 : cc;
}

/* Column chunk width: a multiple of OPS_NR, about `limit` wide at most, the
 * chunks of one image about equal. */
static void column_chunks(ops_bwd_plan *p, int limit)
{
    limit = limit / OPS_NR * OPS_NR;
    limit = clampi(limit, OPS_NR, BWD_TQ_MAX);
    p->nq = ceil_div(p->hw, limit);
    p->tq = ceil_div(ceil_div(p->hw, p->nq), OPS_NR) * OPS_NR;
    p->nq = ceil_div(p->hw, p->tq);
}

/* 1 when the backward of d runs on the Winograd path for this engine: then
 * t is the transposed forward conv (turned filters) and wp its plan. */
static int bwd_winograd(const xfiq_conv_desc *d, int engine, xfiq_conv_desc *t, ops_conv_plan *wp)
{
    if (!have_avx512() || engine == OPS_ENGINE_DIRECT || ops_conv_engine_resolve(engine) != OPS_ENGINE_AVX512 ||
        !ops_conv_winograd_bwd_desc(d, t))
        return 0;
    ops_conv_plan_make(wp, t, OPS_ENGINE_DEFAULT);
    return 1;
}

void ops_bwd_plan_make(ops_bwd_plan *p, const xfiq_conv_desc *d, int engine)
{
    memset(p, 0, sizeof *p);
    p->blas = ops_conv_engine_resolve(engine) == OPS_ENGINE_BLAS || !have_avx512();
    p->cin_g = d->cin / d->group;
    p->cout_g = d->cout / d->group;
    p->khw = d->kh * d->kw;
    p->hw = (int64_t)d->oh * d->ow;
    p->plane = (int64_t)d->ih * d->iw;

    xfiq_conv_desc t;
    ops_conv_plan wp;
    if (bwd_winograd(d, engine, &t, &wp)) {
        /* The forward Winograd conv's workspace (the transformed filters
         * made per call go in its packed-weights area). */
        p->path = OPS_BWD_WINOGRAD;
        p->pack_bytes = wp.shared_bytes;
        p->thread_bytes = wp.thread_bytes;
        return;
    }
    if (d->group > 1 && d->group == d->cin && d->group == d->cout) {
        /* Padded plane split into sh x sw phase sub-planes (see conv_bwd_dw.c). */
        p->path = OPS_BWD_DEPTHWISE;
        p->ph = d->ih + d->pad_t + d->pad_b;
        p->phs = ceil_div(p->ph, d->sh);
        p->pws = ceil_div(d->iw + d->pad_l + d->pad_r, d->sw);
        p->acc_bytes = ops_align_up(sizeof(float) * ((size_t)d->sh * d->sw * p->phs * p->pws + 16));
        p->col_bytes = ops_align_up(sizeof(float) * ((size_t)d->iw + 16));            /* one dx row */
        p->bpack_bytes = ops_align_up(sizeof(float) * ((size_t)d->oh * p->pws + 16)); /* dy on the grid */
        p->thread_bytes = p->acc_bytes + p->col_bytes + p->bpack_bytes +
                          ops_align_up(sizeof(int64_t) * (size_t)d->kh * d->kw);    /* tap offsets */
        return;
    }

    if (d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && d->pad_t == 0 && d->pad_l == 0 && d->pad_b == 0 &&
        d->pad_r == 0) {
        p->path = OPS_BWD_DIRECT1X1;
        /* The packed dY tile (cout_g x tq) stays in L2. */
        column_chunks(p, BWD_B_FLOATS / p->cout_g);
        const int items = d->group * p->nq;
        const int want = items >= BWD_ITEMS_PER_IMAGE ? 1 : ceil_div(BWD_ITEMS_PER_IMAGE, items);
        p->cc = range_channels(p->cin_g, 1, want, 1 << 30);
        if (p->blas) {
            /* The sgemm result goes through a (cc x tq) tile. */
            const int cap = BWD_COL_FLOATS * 2 / p->tq;
            if (p->cc > cap)
                p->cc = cap < 1 ? 1 : cap;
        }
    } else {
        p->path = OPS_BWD_COL2IM;
        /* Rows of the planes padded past whole vectors (AVX-512, stride 1):
         * col2im then adds whole vectors whose tails stay in their row. */
        p->iwp = !p->blas && d->sw == 1 ? (d->iw + 15) / 16 * 16 + 16 : d->iw;
        /* Channel ranges as wide as whole panels allow; bands of rows (below)
         * keep the planes in cache, down to bands of BWD_MIN_BAND rows. */
        const int cap = (int)(BWD_ACC_FLOATS / ((int64_t)BWD_MIN_BAND * p->iwp));
        p->cc = range_channels(p->cin_g, p->khw, ceil_div(BWD_ITEMS_PER_IMAGE, d->group), cap < 1 ? 1 : cap);
    }
    p->nr = ceil_div(p->cin_g, p->cc);
    p->kc = p->cc * p->khw;
    p->ppr = ceil_div(p->kc, OPS_MR);
    if (p->path == OPS_BWD_COL2IM) {
        column_chunks(p, BWD_COL_FLOATS / p->kc);
        p->col_bytes = ops_align_up(sizeof(float) * (size_t)p->kc * p->tq);
        /* Bands of dx rows, each recomputing the few output rows it shares
         * with its neighbours: enough of them that the range's planes stay
         * in cache and that one image makes enough items (the stem has one
         * range of 3 channels); bands stay several halos tall. */
        const int halo = (d->kh - 1) * d->dh;
        const int min_rows = 4 * (halo > 2 ? halo : 2) > BWD_MIN_BAND ? 4 * (halo > 2 ? halo : 2) : BWD_MIN_BAND;
        int nb = ceil_div((int64_t)p->cc * d->ih * p->iwp, BWD_ACC_FLOATS);
        if (d->group * p->nr < BWD_ITEMS_PER_IMAGE && nb < ceil_div(BWD_ITEMS_PER_IMAGE, d->group * p->nr))
            nb = ceil_div(BWD_ITEMS_PER_IMAGE, d->group * p->nr);
        if (nb > d->ih / min_rows)
            nb = d->ih / min_rows;
        p->rb = nb > 1 ? ceil_div(d->ih, nb) : d->ih;
        p->nb = ceil_div(d->ih, p->rb);
        p->acc_bytes = ops_align_up(sizeof(float) * ((size_t)p->cc * p->rb * p->iwp + 16));
    } else if (p->blas) {
        p->col_bytes = ops_align_up(sizeof(float) * (size_t)p->cc * p->tq);
    }
    if (!p->blas) {
        p->pack_bytes = ops_align_up(sizeof(float) * (size_t)d->group * p->nr * p->ppr * OPS_MR * p->cout_g);
        p->bpack_bytes = ops_align_up(sizeof(float) * (size_t)p->cout_g * p->tq);
    }
    p->thread_bytes = p->col_bytes + p->acc_bytes + p->bpack_bytes;
}

size_t ops_bwd_workspace(const xfiq_conv_desc *d, int num_threads, int engine)
{
    ops_bwd_plan p;
    ops_bwd_plan_make(&p, d, engine);
    if (num_threads < 1)
        num_threads = 1;
    return OPS_ALIGN + p.pack_bytes + (size_t)num_threads * p.thread_bytes;
}

size_t conv2d_bwd_data_cpu_workspace(const xfiq_conv_desc *d, int num_threads)
{
    return ops_bwd_workspace(d, num_threads, OPS_ENGINE_DEFAULT);
}

/* ---- The GEMM: col(kc_r x len) = W^T(rows of the range) . dY(cout_g x len). */

#if defined(__AVX512F__)
#include <immintrin.h>

/* One mr x ncols (ncols <= 32) block of C over the whole depth (the
 * group's output channels): ap[co*OPS_MR + r] is row r of the panel, b + co*ldb
 * the block's columns of dY channel co. add: C += result, else C = result.
 * full (ncols == 32) uses plain loads and stores, the rest masked ones. */
static inline __attribute__((always_inline)) void bwd_ukr_run(const int mr, const int nv, const int full, int depth,
                                                              const float *ap, const float *b, int64_t ldb,
                                                              int ncols, float *c, int64_t ldc, int add)
{
    __m512 c0[OPS_MR], c1[OPS_MR];
    const __mmask16 m0 = ncols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << ncols) - 1u);
    const __mmask16 m1 = ncols >= 32 ? (__mmask16)0xFFFF : ncols > 16 ? (__mmask16)((1u << (ncols - 16)) - 1u) : 0;
#pragma GCC unroll 14
    for (int r = 0; r < mr; r++) {
        c0[r] = _mm512_setzero_ps();
        c1[r] = _mm512_setzero_ps();
    }
    for (int co = 0; co < depth; co++) {
        const float *bk = b + (int64_t)co * ldb;
        const float *a = ap + (int64_t)co * OPS_MR;
        const __m512 b0 = full ? _mm512_loadu_ps(bk) : _mm512_maskz_loadu_ps(m0, bk);
        const __m512 b1 = full ? _mm512_loadu_ps(bk + 16)
                          : nv == 2 ? _mm512_maskz_loadu_ps(m1, bk + 16) : _mm512_setzero_ps();
#pragma GCC unroll 14
        for (int r = 0; r < mr; r++) {
            const __m512 av = _mm512_set1_ps(a[r]);
            c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
            if (nv == 2)
                c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
        }
    }
#pragma GCC unroll 14
    for (int r = 0; r < mr; r++) {
        float *cr = c + (int64_t)r * ldc;
        if (full) {
            if (add) {
                c0[r] = _mm512_add_ps(_mm512_loadu_ps(cr), c0[r]);
                c1[r] = _mm512_add_ps(_mm512_loadu_ps(cr + 16), c1[r]);
            }
            _mm512_storeu_ps(cr, c0[r]);
            _mm512_storeu_ps(cr + 16, c1[r]);
            continue;
        }
        if (add) {
            c0[r] = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cr), c0[r]);
            if (nv == 2)
                c1[r] = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cr + 16), c1[r]);
        }
        _mm512_mask_storeu_ps(cr, m0, c0[r]);
        if (nv == 2)
            _mm512_mask_storeu_ps(cr + 16, m1, c1[r]);
    }
}

typedef void (*bwd_ukr_fn)(int depth, const float *ap, const float *b, int64_t ldb, int ncols, float *c,
                           int64_t ldc, int add);

#define BWD_UKR_DEF(MR_)                                                                                  \
    static void bwd_ukr_##MR_(int depth, const float *ap, const float *b, int64_t ldb, int ncols, float *c, \
                              int64_t ldc, int add)                                                       \
    {                                                                                                     \
        if (ncols == OPS_NR)                                                                              \
            bwd_ukr_run(MR_, 2, 1, depth, ap, b, ldb, ncols, c, ldc, add);                                \
        else if (ncols > 16)                                                                              \
            bwd_ukr_run(MR_, 2, 0, depth, ap, b, ldb, ncols, c, ldc, add);                                \
        else                                                                                              \
            bwd_ukr_run(MR_, 1, 0, depth, ap, b, ldb, ncols, c, ldc, add);                                \
    }
BWD_UKR_DEF(1)
BWD_UKR_DEF(2)
BWD_UKR_DEF(3)
BWD_UKR_DEF(4)
BWD_UKR_DEF(5)
BWD_UKR_DEF(6)
BWD_UKR_DEF(7)
BWD_UKR_DEF(8)
BWD_UKR_DEF(9)
BWD_UKR_DEF(10)
BWD_UKR_DEF(11)
BWD_UKR_DEF(12)
BWD_UKR_DEF(13)
BWD_UKR_DEF(14)
#if OPS_MR != 14
#error "conv_bwd.c: the micro-kernel table is written for OPS_MR == 14"
#endif

static const bwd_ukr_fn bwd_ukr_table[OPS_MR + 1] = {
    NULL,       bwd_ukr_1,  bwd_ukr_2,  bwd_ukr_3,  bwd_ukr_4,  bwd_ukr_5,  bwd_ukr_6, bwd_ukr_7,
    bwd_ukr_8,  bwd_ukr_9,  bwd_ukr_10, bwd_ukr_11, bwd_ukr_12, bwd_ukr_13, bwd_ukr_14};

/* C (kc_r x len, row stride ldc) for the range whose packed panels start at
 * ap; bp: the packed dY columns (pack_dy). */
static void gemm_avx512(const ops_bwd_plan *p, const float *ap, int kc_r, const float *bp, int len, float *c,
                        int64_t ldc, int add)
{
    for (int j = 0; j < len; j += OPS_NR) {
        const int ncols = len - j < OPS_NR ? len - j : OPS_NR;
        const float *bj = bp + (int64_t)j * p->cout_g;
        for (int k0 = 0; k0 < kc_r; k0 += OPS_MR) {
            const int mr = kc_r - k0 < OPS_MR ? kc_r - k0 : OPS_MR;
            bwd_ukr_table[mr](p->cout_g, ap + (int64_t)k0 * p->cout_g, bj, OPS_NR, ncols, c + k0 * ldc + j, ldc, add);
        }
    }
}
#else
static void gemm_avx512(const ops_bwd_plan *p, const float *ap, int kc_r, const float *bp, int len, float *c,
                        int64_t ldc, int add)
{
    /* Never called: ops_bwd_plan_make picks OpenBLAS without AVX-512. */
    (void)p, (void)ap, (void)kc_r, (void)bp, (void)len, (void)c, (void)ldc, (void)add;
}
#endif

/* Copies columns [0, len) of dY (cout_g rows, row stride hw) into blocks of
 * OPS_NR columns, each block cout_g x OPS_NR contiguous: the micro-kernel then
 * streams its B operand instead of striding across planes (whose stride maps
 * many rows onto the same L1 sets). */
static void pack_dy(const float *dyq, int64_t hw, int cout_g, int len, float *bp)
{
    for (int j = 0; j < len; j += OPS_NR) {
        const int nc = len - j < OPS_NR ? len - j : OPS_NR;
        float *dst = bp + (int64_t)j * cout_g;
        for (int co = 0; co < cout_g; co++) {
            const float *src = dyq + (int64_t)co * hw + j;
            float *row = dst + (int64_t)co * OPS_NR;
            /* Written as loops, not memcpy: 32 floats are a few vector moves. */
            if (nc == OPS_NR) {
                for (int c = 0; c < OPS_NR; c++)
                    row[c] = src[c];
            } else {
                for (int c = 0; c < OPS_NR; c++)
                    row[c] = c < nc ? src[c] : 0.0f;
            }
        }
    }
}

/* Packs rows [k0, k0+OPS_MR) of W^T of group g, limited to kend, depth-major;
 * rows past kend are zero. */
static void pack_panel(const float *w, const ops_bwd_plan *p, int g, int k0, int kend, float *ap)
{
    const int K = p->cin_g * p->khw;
    for (int co = 0; co < p->cout_g; co++) {
        const float *wr = w + ((int64_t)g * p->cout_g + co) * K;
        for (int r = 0; r < OPS_MR; r++)
            ap[(int64_t)co * OPS_MR + r] = k0 + r < kend ? wr[k0 + r] : 0.0f;
    }
}

#if defined(__AVX512F__)
/* dst[0, len) += src[0, len) in whole vectors; dst has 16 floats of slack
 * past len (the tail adds 0 there). */
static inline void add_row(float *dst, const float *src, int len)
{
    int j = 0;
    for (; j + 16 <= len; j += 16)
        _mm512_storeu_ps(dst + j, _mm512_add_ps(_mm512_loadu_ps(dst + j), _mm512_loadu_ps(src + j)));
    if (j < len) {
        const __m512 v = _mm512_maskz_loadu_ps((__mmask16)((1u << (len - j)) - 1u), src + j);
        _mm512_storeu_ps(dst + j, _mm512_add_ps(_mm512_loadu_ps(dst + j), v));
    }
}
#endif

/* Scatter-adds the column chunk col (rows k = (cl, ky, kx) of the range,
 * output positions [q0, q0+len), row stride ldc) into rows [r0, r1) of the
 * range's planes (held as r1 - r0 rows of p->iwp floats each). */
static void col2im_chunk(const ops_bwd_plan *p, const float *col, int64_t ldc, int64_t q0, int len, int ccr,
                         const xfiq_conv_desc *d, int r0, int r1, float *acc)
{
    const int64_t q1 = q0 + len, aplane = (int64_t)(r1 - r0) * p->iwp;
    const int oy0 = (int)(q0 / d->ow), oy1 = (int)((q1 - 1) / d->ow);
    for (int cl = 0, k = 0; cl < ccr; cl++)
        for (int ky = 0; ky < d->kh; ky++)
            for (int kx = 0; kx < d->kw; kx++, k++) {
                const float *row = col + k * ldc;
                float *ac = acc + cl * aplane;
                /* Output columns whose input column falls inside the image. */
                const int t = d->pad_l - kx * d->dw, u = d->iw - 1 + d->pad_l - kx * d->dw;
                const int lo = clampi(t <= 0 ? 0 : (t + d->sw - 1) / d->sw, 0, d->ow);
                const int hi = clampi(u < 0 ? 0 : u / d->sw + 1, lo, d->ow);
                const int shift = kx * d->dw - d->pad_l;
                int64_t j = 0;
                for (int oy = oy0; oy <= oy1; oy++) {
                    const int a = oy == oy0 ? (int)(q0 - (int64_t)oy * d->ow) : 0;
                    const int e = oy == oy1 ? (int)(q1 - (int64_t)oy * d->ow) : d->ow;
                    const int iy = oy * d->sh - d->pad_t + ky * d->dh;
                    if (iy >= r0 && iy < r1) {
                        const int ca = clampi(lo, a, e), cb = clampi(hi, ca, e);
                        const float *src = row + j - a;
                        float *dst = ac + (int64_t)(iy - r0) * p->iwp + shift;
                        if (d->sw == 1) {
#if defined(__AVX512F__)
                            if (p->iwp > d->iw) {
                                add_row(dst + ca, src + ca, cb - ca);
                                j += e - a;
                                continue;
                            }
#endif
                            for (int ox = ca; ox < cb; ox++)
                                dst[ox] += src[ox];
                        } else {
                            for (int ox = ca; ox < cb; ox++)
                                dst[(int64_t)ox * d->sw] += src[ox];
                        }
                    }
                    j += e - a;
                }
            }
}

static void store_rows(float *dst, const float *src, int64_t len, int accumulate)
{
    if (accumulate)
        for (int64_t j = 0; j < len; j++)
            dst[j] += src[j];
    else
        memcpy(dst, src, sizeof(float) * (size_t)len);
}

static void conv_bwd_dense(const ops_bwd_plan *p, const float *dy, const float *w, float *dx,
                           const xfiq_conv_desc *d, int n, int accumulate, char *ws, int num_threads)
{
    const int groups = d->group, K = p->cin_g * p->khw;
    const int64_t tiles = p->path == OPS_BWD_DIRECT1X1 ? p->nq : p->nb;
    const int64_t items = (int64_t)n * groups * p->nr * tiles;
    const int64_t npack = (int64_t)groups * p->nr * p->ppr;
    float *pack = (float *)ws;
    char *tbase = ws + p->pack_bytes;
    if (p->blas)
        ops_blas_single_thread();

#pragma omp parallel num_threads(num_threads)
    {
        if (!p->blas) {
#pragma omp for schedule(static)
            for (int64_t pp = 0; pp < npack; pp++) {
                const int g = (int)(pp / ((int64_t)p->nr * p->ppr));
                const int r = (int)(pp / p->ppr % p->nr), pn = (int)(pp % p->ppr);
                const int kend = (r + 1) * p->cc < p->cin_g ? (r + 1) * p->kc : K;
                pack_panel(w, p, g, r * p->kc + pn * OPS_MR, kend, pack + pp * OPS_MR * p->cout_g);
            }
        }
        char *tws = tbase + (size_t)omp_get_thread_num() * p->thread_bytes;
        float *col = (float *)tws;
        float *acc = (float *)(tws + p->col_bytes);
        float *bp = (float *)(tws + p->col_bytes + p->acc_bytes);

#pragma omp for schedule(static)
        for (int64_t it = 0; it < items; it++) {
            int64_t rest = it;
            const int qt = (int)(rest % tiles);
            rest /= tiles;
            const int r = (int)(rest % p->nr);
            rest /= p->nr;
            const int g = (int)(rest % groups);
            const int img = (int)(rest / groups);
            const int c0 = r * p->cc;
            const int ccr = c0 + p->cc <= p->cin_g ? p->cc : p->cin_g - c0;
            const int kc_r = ccr * p->khw;
            const float *ap = pack + ((int64_t)g * p->nr + r) * p->ppr * OPS_MR * p->cout_g;
            const float *dyg = dy + ((int64_t)img * d->cout + (int64_t)g * p->cout_g) * p->hw;
            const float *wr = w + (int64_t)g * p->cout_g * K + (int64_t)r * p->kc; /* W^T rows of the range */
            float *dxr = dx + ((int64_t)img * d->cin + (int64_t)g * p->cin_g + c0) * p->plane;

            if (p->path == OPS_BWD_DIRECT1X1) {
                const int64_t q0 = (int64_t)qt * p->tq;
                const int len = (int)(p->hw - q0 < p->tq ? p->hw - q0 : p->tq);
                if (!p->blas) {
                    pack_dy(dyg + q0, p->hw, p->cout_g, len, bp);
                    gemm_avx512(p, ap, kc_r, bp, len, dxr + q0, p->hw, accumulate);
                    continue;
                }
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kc_r, len, p->cout_g, 1.0f, wr, K, dyg + q0,
                            (int)p->hw, 0.0f, col, p->tq);
                for (int cl = 0; cl < ccr; cl++)
                    store_rows(dxr + cl * p->hw + q0, col + (int64_t)cl * p->tq, len, accumulate);
                continue;
            }

            /* Band qt: dx rows [r0, r1), from the output rows that reach them. */
            const int r0 = qt * p->rb, r1 = r0 + p->rb < d->ih ? r0 + p->rb : d->ih;
            const int top = r0 + d->pad_t - (d->kh - 1) * d->dh, bot = r1 - 1 + d->pad_t;
            const int oy_lo = top <= 0 ? 0 : (top + d->sh - 1) / d->sh;
            const int oy_hi = bot < 0 ? -1 : (bot / d->sh < d->oh - 1 ? bot / d->sh : d->oh - 1);
            const int64_t aplane = (int64_t)(r1 - r0) * p->iwp;
            const int64_t qb = (int64_t)oy_lo * d->ow, qe = (int64_t)(oy_hi + 1) * d->ow;
            memset(acc, 0, sizeof(float) * (size_t)(ccr * aplane));
            for (int64_t q0 = qb; q0 < qe; q0 += p->tq) {
                const int len = (int)(qe - q0 < p->tq ? qe - q0 : p->tq);
                if (!p->blas) {
                    pack_dy(dyg + q0, p->hw, p->cout_g, len, bp);
                    gemm_avx512(p, ap, kc_r, bp, len, col, p->tq, 0);
                } else
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kc_r, len, p->cout_g, 1.0f, wr, K,
                                dyg + q0, (int)p->hw, 0.0f, col, p->tq);
                col2im_chunk(p, col, p->tq, q0, len, ccr, d, r0, r1, acc);
            }
            for (int cl = 0; cl < ccr; cl++) {
                float *dxb = dxr + cl * p->plane + (int64_t)r0 * d->iw;
                const float *ab = acc + cl * aplane;
                if (p->iwp == d->iw)
                    store_rows(dxb, ab, (int64_t)(r1 - r0) * d->iw, accumulate);
                else
                    for (int r = 0; r < r1 - r0; r++)
                        store_rows(dxb + (int64_t)r * d->iw, ab + (int64_t)r * p->iwp, d->iw, accumulate);
            }
        }
    }
}

void ops_conv_bwd(const float *dy, const float *w, float *dx, const xfiq_conv_desc *d, int n, int accumulate,
                  float *ws, int num_threads, int engine)
{
    ops_conv_bwd_packed(dy, w, NULL, dx, d, n, accumulate, ws, num_threads, engine);
}

size_t conv2d_bwd_data_cpu_pack_bytes(const xfiq_conv_desc *d)
{
    xfiq_conv_desc t;
    ops_conv_plan wp;
    return bwd_winograd(d, OPS_ENGINE_DEFAULT, &t, &wp) ? wp.pack_bytes : 0;
}

void conv2d_bwd_data_cpu_pack(const xfiq_conv_desc *d, const float *w, float *packed, int num_threads)
{
    xfiq_conv_desc t;
    ops_conv_plan wp;
    if (bwd_winograd(d, OPS_ENGINE_DEFAULT, &t, &wp))
        ops_conv_pack_winograd_bwd(&wp, &t, w, packed, num_threads < 1 ? 1 : num_threads);
}

void conv2d_bwd_data_cpu_packed(const float *dy, const float *w, const float *packed, float *dx,
                                const xfiq_conv_desc *d, int n, int accumulate, float *ws, int num_threads)
{
    ops_conv_bwd_packed(dy, w, packed, dx, d, n, accumulate, ws, num_threads, OPS_ENGINE_DEFAULT);
}

void ops_conv_bwd_packed(const float *dy, const float *w, const float *packed, float *dx, const xfiq_conv_desc *d,
                         int n, int accumulate, float *ws, int num_threads, int engine)
{
    ops_bwd_plan p;
    if (n <= 0)
        return;
    if (num_threads < 1)
        num_threads = 1;
    ops_bwd_plan_make(&p, d, engine);
    char *wsa = ops_align_ptr(ws);
    if (p.path == OPS_BWD_DIRECT1X1 && p.hw == 1 && d->group == 1 && !p.blas) {
        /* A fully connected layer in disguise (MobileFaceNet's last 1x1 on a
         * 1x1 map): the same sums, one accumulator per element in
         * increasing output channel, through the GEMV-friendly kernel. */
        gemm_bwd_data_cpu(dy, w, dx, n, d->cin, d->cout, accumulate, num_threads);
        return;
    }
    xfiq_conv_desc t;
    ops_conv_plan wp;
    if (p.path == OPS_BWD_WINOGRAD && bwd_winograd(d, engine, &t, &wp))
        ops_conv_bwd_winograd(&wp, dy, w, packed, dx, &t, n, accumulate, wsa, num_threads);
    else if (p.path == OPS_BWD_DEPTHWISE)
        ops_conv_bwd_depthwise(&p, dy, w, dx, d, n, accumulate, wsa, num_threads);
    else
        conv_bwd_dense(&p, dy, w, dx, d, n, accumulate, wsa, num_threads);
}

void conv2d_bwd_data_cpu(const float *dy, const float *w, float *dx, const xfiq_conv_desc *d, int n, int accumulate,
                         float *ws, int num_threads)
{
    ops_conv_bwd(dy, w, dx, d, n, accumulate, ws, num_threads, OPS_ENGINE_DEFAULT);
}
