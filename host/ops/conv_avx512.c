/* conv_avx512.c - the convolution GEMM engine with xfiq's own AVX-512
 * micro-kernel (Debian's OpenBLAS 0.3.21 detects this CPU as Haswell and runs
 * AVX2 kernels at half the speed).
 *
 * C (cout_g x columns) = W (cout_g x K) . B (K x columns), where row k of B is
 * read at base + off[k]: the image itself (1x1 stride-1 convs), a zero-padded
 * copy of the image split into stride phases ("implicit GEMM": on the phase
 * sub-planes every kernel tap is a constant shift of the output grid
 * q = oy*pws + ox, whose pws - ow junk columns per row are dropped on
 * output), or an im2col tile (strided 1x1 convs and very wide kernels).
 * Weights are packed k-major in panels of OPS_MR output channels, per call
 * into the workspace or once ahead (conv2d_cpu_pack).
 * Small maps (plan->pt, 3x3-type convs up to 28x28) run the transposed
 * kernel instead: output channels in the vector lanes, the pixels of an
 * output row as the register-tiled dimension, weights packed [tile][k][ch].
 *
 * Reproducibility: every output element is one float accumulator that starts
 * at 0 and takes one fused multiply-add per k in increasing k, whatever the
 * panel/tile it sits in, the batch size or the thread count; the epilogue
 * then adds the bias and applies the activation. So results are bitwise
 * identical across batch sizes, thread counts and tilings. */
#include <string.h>

#include <omp.h>

#include "ops/ops_internal.h"

#if defined(__AVX512F__)
#include <immintrin.h>

int ops_conv_avx512_available(void) { return 1; }

/* One MR_ x (16*nv) block of C over K rows of the depth: starting from 0, or
 * (acc_in) from the partial sums stored in c by the previous K chunk; float
 * stores and loads are exact, so the chunking does not change the result.
 * ap is the packed panel (ap[k*OPS_MR + r]); b + off[k] is row k of B at
 * this block's first column. */
static inline __attribute__((always_inline)) void ukr_run(const int mr, const int nv, const int full,
                                                          const int acc_in, int K, const float *ap, const float *b,
                                                          const int64_t *off, int nr, float *c, int64_t ldc)
{
    __m512 c0[OPS_MR], c1[OPS_MR];
    const __mmask16 m0 = full || nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1u);
    const __mmask16 m1 = full || nr >= 32 ? (__mmask16)0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1u) : 0;
#pragma GCC unroll 16
    for (int r = 0; r < mr; r++) {
        if (!acc_in) {
            c0[r] = _mm512_setzero_ps();
            c1[r] = _mm512_setzero_ps();
        } else if (full) {
            c0[r] = _mm512_loadu_ps(c + r * ldc);
            c1[r] = _mm512_loadu_ps(c + r * ldc + 16);
        } else {
            c0[r] = _mm512_maskz_loadu_ps(m0, c + r * ldc);
            c1[r] = nv == 2 ? _mm512_maskz_loadu_ps(m1, c + r * ldc + 16) : _mm512_setzero_ps();
        }
    }
    for (int k = 0; k < K; k++) {
        const float *bk = b + off[k];
        const float *a = ap + (int64_t)k * OPS_MR;
        __m512 b0, b1 = _mm512_setzero_ps();
        if (full) {
            b0 = _mm512_loadu_ps(bk);
            b1 = _mm512_loadu_ps(bk + 16);
        } else {
            b0 = _mm512_maskz_loadu_ps(m0, bk);
            if (nv == 2)
                b1 = _mm512_maskz_loadu_ps(m1, bk + 16);
        }
#pragma GCC unroll 16
        for (int r = 0; r < mr; r++) {
            const __m512 av = _mm512_set1_ps(a[r]);
            c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
            if (nv == 2)
                c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < mr; r++) {
        if (full) {
            _mm512_storeu_ps(c + r * ldc, c0[r]);
            _mm512_storeu_ps(c + r * ldc + 16, c1[r]);
        } else {
            _mm512_mask_storeu_ps(c + r * ldc, m0, c0[r]);
            if (nv == 2)
                _mm512_mask_storeu_ps(c + r * ldc + 16, m1, c1[r]);
        }
    }
}

typedef void (*ukr_fn)(int K, const float *ap, const float *b, const int64_t *off, int nr, float *c, int64_t ldc,
                       int acc_in);

#define UKR_DEF(MR_)                                                                                    \
    static void ukr_##MR_(int K, const float *ap, const float *b, const int64_t *off, int nr, float *c, \
                          int64_t ldc, int acc_in)                                                      \
    {                                                                                                   \
        if (nr == OPS_NR) {                                                                             \
            if (acc_in)                                                                                 \
                ukr_run(MR_, 2, 1, 1, K, ap, b, off, nr, c, ldc);                                       \
            else                                                                                        \
                ukr_run(MR_, 2, 1, 0, K, ap, b, off, nr, c, ldc);                                       \
        } else if (nr > 16) {                                                                           \
            if (acc_in)                                                                                 \
                ukr_run(MR_, 2, 0, 1, K, ap, b, off, nr, c, ldc);                                       \
            else                                                                                        \
                ukr_run(MR_, 2, 0, 0, K, ap, b, off, nr, c, ldc);                                       \
        } else {                                                                                        \
            if (acc_in)                                                                                 \
                ukr_run(MR_, 1, 0, 1, K, ap, b, off, nr, c, ldc);                                       \
            else                                                                                        \
                ukr_run(MR_, 1, 0, 0, K, ap, b, off, nr, c, ldc);                                       \
        }                                                                                               \
    }
UKR_DEF(1)
UKR_DEF(2)
UKR_DEF(3)
UKR_DEF(4)
UKR_DEF(5)
UKR_DEF(6)
UKR_DEF(7)
UKR_DEF(8)
UKR_DEF(9)
UKR_DEF(10)
UKR_DEF(11)
UKR_DEF(12)
UKR_DEF(13)
UKR_DEF(14)
#if OPS_MR != 14
#error "conv_avx512.c: the micro-kernel table is written for OPS_MR == 14"
#endif

static const ukr_fn ukr_table[OPS_MR + 1] = {NULL,   ukr_1,  ukr_2,  ukr_3,  ukr_4,  ukr_5,  ukr_6, ukr_7,
                                             ukr_8,  ukr_9,  ukr_10, ukr_11, ukr_12, ukr_13, ukr_14};

/* The small-map kernel (plan->pt): NP_ pixels of one output row times
 * NV_*16 output channels, weights packed [tile][k][16*NV_]. Each output is
 * still one accumulator taking one fma per k in increasing k (the product
 * is the same, w*x == x*w), so it gives the panel kernel's exact bits.
 * b + off[k] is row k of B at the row's first pixel; c is [NP_][16*NV_]. */
static inline __attribute__((always_inline)) void pt_run(const int np, const int nv, const int acc_in, int K,
                                                         const float *wp, const float *b, const int64_t *off,
                                                         float *c, const char *pf, int64_t pfs16)
{
    __m512 acc[28];
    const int cw = 16 * nv;
#pragma GCC unroll 28
    for (int i = 0; i < np; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            acc[i * nv + v] = acc_in ? _mm512_loadu_ps(c + i * cw + 16 * v) : _mm512_setzero_ps();
    for (int k = 0; k < K; k++) {
        const float *bk = b + off[k];
        const float *wk = wp + (int64_t)k * cw;
        __m512 wv[4];
        _mm_prefetch(pf + ((k * pfs16) >> 4), _MM_HINT_T1);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            wv[v] = _mm512_loadu_ps(wk + 16 * v);
#pragma GCC unroll 28
        for (int i = 0; i < np; i++) {
            const __m512 xv = _mm512_set1_ps(bk[i]);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++)
                acc[i * nv + v] = _mm512_fmadd_ps(wv[v], xv, acc[i * nv + v]);
        }
    }
#pragma GCC unroll 28
    for (int i = 0; i < np; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            _mm512_storeu_ps(c + i * cw + 16 * v, acc[i * nv + v]);
}

typedef void (*pt_fn)(int K, const float *wp, const float *b, const int64_t *off, float *c, int acc_in,
                      const char *pf, int64_t pfs16);

#define PT_DEF(NP_, NV_)                                                                                 \
    static void pt_##NP_##_##NV_(int K, const float *wp, const float *b, const int64_t *off, float *c,   \
                                 int acc_in, const char *pf, int64_t pfs16)                              \
    {                                                                                                    \
        if (acc_in)                                                                                      \
            pt_run(NP_, NV_, 1, K, wp, b, off, c, pf, pfs16);                                            \
        else                                                                                             \
            pt_run(NP_, NV_, 0, K, wp, b, off, c, pf, pfs16);                                            \
    }
PT_DEF(1, 4)
PT_DEF(2, 4)
PT_DEF(3, 4)
PT_DEF(4, 4)
PT_DEF(5, 4)
PT_DEF(6, 4)
PT_DEF(7, 4)
PT_DEF(1, 2)
PT_DEF(2, 2)
PT_DEF(3, 2)
PT_DEF(4, 2)
PT_DEF(5, 2)
PT_DEF(6, 2)
PT_DEF(7, 2)
PT_DEF(8, 2)
PT_DEF(9, 2)
PT_DEF(10, 2)
PT_DEF(11, 2)
PT_DEF(12, 2)
PT_DEF(13, 2)
PT_DEF(14, 2)
#if OPS_PT_MAX_OW != 14
#error "conv_avx512.c: the small-map kernel tables are written for OPS_PT_MAX_OW == 14"
#endif

/* By pixels per call (at most OPS_PT_MAX_OW): 4 vectors of channels (plan pt_nv == 4) or 2. */
static const pt_fn pt_table4[8] = {NULL, pt_1_4, pt_2_4, pt_3_4, pt_4_4, pt_5_4, pt_6_4, pt_7_4};
static const pt_fn pt_table2[OPS_PT_MAX_OW + 1] = {NULL,    pt_1_2,  pt_2_2,  pt_3_2,  pt_4_2,
                                                   pt_5_2,  pt_6_2,  pt_7_2,  pt_8_2,  pt_9_2,
                                                   pt_10_2, pt_11_2, pt_12_2, pt_13_2, pt_14_2};

void ops_conv_pt_call(int np, int nv, int K, const float *wp, const float *b, const int64_t *off, float *c,
                      int acc_in, const char *pf, int64_t pfs16)
{
    (nv == 4 ? pt_table4 : pt_table2)[np](K, wp, b, off, c, acc_in, pf, pfs16);
}

/* Packs output-channel tile t k-major, [k][pt_cw], zeros past cout_g. */
static void pack_pt_tile(const float *w, const ops_conv_plan *p, int t, float *wp)
{
    const int cw = p->pt_cw;
    for (int j = 0; j < cw; j++) {
        const int co = t * cw + j;
        if (co >= p->cout_g) {
            for (int k = 0; k < p->K; k++)
                wp[(int64_t)k * cw + j] = 0.0f;
            continue;
        }
        const float *wr = w + (int64_t)co * p->K;
        for (int k = 0; k < p->K; k++)
            wp[(int64_t)k * cw + j] = wr[k];
    }
}

/* Packs output channels [m0, m0+OPS_MR) of group g k-major, zero rows past cout_g. */
static void pack_panel(const float *w, const ops_conv_plan *p, int g, int panel, float *ap)
{
    const int m0 = panel * OPS_MR;
    for (int r = 0; r < OPS_MR; r++) {
        const int m = m0 + r;
        if (m >= p->cout_g) {
            for (int k = 0; k < p->K; k++)
                ap[(int64_t)k * OPS_MR + r] = 0.0f;
            continue;
        }
        const float *wr = w + ((int64_t)g * p->cout_g + m) * p->K;
        for (int k = 0; k < p->K; k++)
            ap[(int64_t)k * OPS_MR + r] = wr[k];
    }
}

static void fill_offsets(const ops_conv_plan *p, const xfiq_conv_desc *d, int64_t *off)
{
    for (int c = 0, k = 0; c < p->cin_g; c++)
        for (int ky = 0; ky < d->kh; ky++)
            for (int kx = 0; kx < d->kw; kx++, k++) {
                if (p->path == OPS_CONV_DIRECT1X1) {
                    off[k] = (int64_t)k * p->hw;
                } else if (p->path == OPS_CONV_IMPLICIT) {
                    /* Tap (ky, kx) of channel c: its phase sub-plane, shifted. */
                    const int oy = ky * d->dh, ox = kx * d->dw;
                    off[k] = (((int64_t)c * d->sh + oy % d->sh) * d->sw + ox % d->sw) * p->phs * p->pws +
                             (int64_t)(oy / d->sh) * p->pws + ox / d->sw;
                } else {
                    off[k] = (int64_t)k * p->tq;
                }
            }
}

/* Per-thread memory of what its source buffer holds, to skip rebuilding it. */
typedef struct src_cache {
    int img, g, qt; /* im2col tile held */
    int rows_img, r0, r1; /* padded rows [r0, r1) of image rows_img held */
} src_cache;

/* Makes sub-plane rows [ra, rb) of image img available in xp. */
static void implicit_rows(src_cache *sc, const float *ximg, int img, const xfiq_conv_desc *d, const ops_conv_plan *p,
                          int ra, int rb, float *xp)
{
    if (rb > p->phs)
        rb = p->phs;
    if (sc->rows_img != img) {
        sc->rows_img = img;
        sc->r0 = sc->r1 = 0;
    }
    if (ra >= sc->r0 && rb <= sc->r1)
        return;
    if (sc->r1 > sc->r0 && ra <= sc->r1 && rb >= sc->r0) {
        if (ra < sc->r0)
            ops_pad_rows_phased(ximg, d, p, d->cin, ra, sc->r0, xp);
        if (rb > sc->r1)
            ops_pad_rows_phased(ximg, d, p, d->cin, sc->r1, rb, xp);
        sc->r0 = ra < sc->r0 ? ra : sc->r0;
        sc->r1 = rb > sc->r1 ? rb : sc->r1;
    } else {
        ops_pad_rows_phased(ximg, d, p, d->cin, ra, rb, xp);
        sc->r0 = ra;
        sc->r1 = rb;
    }
}

/* Epilogue of one panel: C tile rows -> y (dropping junk grid columns). */
static void store_panel(const ops_conv_plan *p, const xfiq_conv_desc *d, const float *ct, int64_t q0, int qlen,
                        float *yimg, int co0, int mr, const float *b, int act, const float *slope, int spc)
{
    if (p->path != OPS_CONV_IMPLICIT) {
        for (int r = 0; r < mr; r++) {
            const int co = co0 + r;
            ops_epilogue_row(yimg + co * p->hw + q0, ct + (int64_t)r * p->tq, qlen, b ? b[co] : 0.0f, act,
                             ops_slope_of(slope, spc, co));
        }
        return;
    }
    const int64_t qe = q0 + qlen;
    for (int64_t q = q0; q < qe;) {
        const int64_t oy = q / p->pws, ox = q - oy * p->pws;
        if (ox >= d->ow) {
            q = (oy + 1) * p->pws;
            continue;
        }
        const int64_t len = d->ow - ox < qe - q ? d->ow - ox : qe - q;
        for (int r = 0; r < mr; r++) {
            const int co = co0 + r;
            ops_epilogue_row(yimg + co * p->hw + oy * d->ow + ox, ct + (int64_t)r * p->tq + (q - q0), len,
                             b ? b[co] : 0.0f, act, ops_slope_of(slope, spc, co));
        }
        q += len;
    }
}

/* The small-map path: items are (image, output-channel tile); a thread pads
 * the whole image once into its own buffer and runs every row of the tile,
 * K chunk by K chunk. */
static void fwd_pt(const ops_conv_plan *p, const float *x, const float *w, const float *packed, const float *b,
                   float *y, const xfiq_conv_desc *d, int n, int act, const float *slope, int slope_per_channel,
                   char *ws, int num_threads)
{
    const float *pack = packed ? packed : (const float *)ws;
    int64_t *off = (int64_t *)(ws + p->pack_bytes);
    char *tbase = ws + p->shared_bytes;
    const int cw = p->pt_cw, ow = d->ow, oh = d->oh;
    const int64_t items = (int64_t)n * p->pt_nct;
    const int64_t xstride = (int64_t)d->cin * d->ih * d->iw, ystride = (int64_t)d->cout * p->hw;
    /* Rows longer than one call's pixels go in nseg near-equal segments. */
    const int maxp = p->pt_nv == 4 ? 7 : OPS_PT_MAX_OW;
    const int nseg = (ow + maxp - 1) / maxp, sl = (ow + nseg - 1) / nseg;

#pragma omp parallel num_threads(num_threads)
    {
        if (!packed) {
#pragma omp for schedule(static)
            for (int t = 0; t < p->pt_nct; t++)
                pack_pt_tile(w, p, t, (float *)ws + (int64_t)t * cw * p->K);
        }
#pragma omp single
        fill_offsets(p, d, off);

        char *tws = tbase + (size_t)omp_get_thread_num() * p->thread_bytes;
        float *src = (float *)tws;
        float *ct = (float *)(tws + p->src_bytes);
        float row[OPS_PT_MAX_HW];
        src_cache sc = {-1, -1, -1, -1, 0, 0};

#pragma omp for schedule(static)
        for (int64_t it = 0; it < items; it++) {
            const int t = (int)(it % p->pt_nct);
            const int img = (int)(it / p->pt_nct);
            /* The whole padded image: every tile reads all of it. */
            implicit_rows(&sc, x + img * xstride, img, d, p, 0, p->phs, src);
            const float *wp = pack + (int64_t)t * cw * p->K;
            /* K chunks outermost: the chunk of weights stays in L1/L2 while
             * every output row uses it; partial sums wait in ct exactly. */
            for (int k0 = 0; k0 < p->K; k0 += p->kc) {
                const int kc = p->K - k0 < p->kc ? p->K - k0 : p->kc;
                /* At batch 1 every weight comes from DRAM once: each row
                 * fetches its share of the next chunk (or the next tile's
                 * first) spread over its k steps, so the stream overlaps the
                 * arithmetic instead of stalling the first row of a chunk.
                 * At the end of the packed weights: the current chunk. */
                const int64_t nxo = (int64_t)(k0 + kc) * cw;
                const int64_t rest = (int64_t)(p->pt_nct - t) * cw * p->K - nxo;
                const char *nx = (const char *)(wp + (rest >= (int64_t)kc * cw ? nxo : (int64_t)k0 * cw));
                const int64_t calls = (int64_t)oh * nseg;
                const int64_t slice = (int64_t)cw * (int64_t)sizeof(float) * kc / calls;
                const int64_t pfs16 = (int64_t)cw * (int64_t)sizeof(float) * 16 / calls;
                for (int oy = 0, call = 0; oy < oh; oy++)
                    for (int x0 = 0; x0 < ow; x0 += sl, call++) {
                        const int np = ow - x0 < sl ? ow - x0 : sl;
                        const pt_fn f = p->pt_nv == 4 ? pt_table4[np] : pt_table2[np];
                        f(kc, wp + (int64_t)k0 * cw, src + (int64_t)oy * p->pws + x0, off + k0,
                          ct + ((int64_t)oy * ow + x0) * cw, k0 > 0, nx + call * slice, pfs16);
                    }
            }
            float *yimg = y + img * ystride;
            for (int j = 0; j < cw; j++) {
                const int co = t * cw + j;
                if (co >= p->cout_g)
                    break;
                for (int64_t q = 0; q < p->hw; q++)
                    row[q] = ct[q * cw + j];
                ops_epilogue_row(yimg + (int64_t)co * p->hw, row, p->hw, b ? b[co] : 0.0f, act,
                                 ops_slope_of(slope, slope_per_channel, co));
            }
        }
    }
}

void ops_conv_pack_avx512(const ops_conv_plan *p, const xfiq_conv_desc *d, const float *w, float *packed,
                          int num_threads)
{
    if (p->pt) {
#pragma omp parallel for schedule(static) num_threads(num_threads)
        for (int t = 0; t < p->pt_nct; t++)
            pack_pt_tile(w, p, t, packed + (int64_t)t * p->pt_cw * p->K);
        return;
    }
#pragma omp parallel for schedule(static) num_threads(num_threads)
    for (int gp = 0; gp < d->group * p->npanel; gp++)
        pack_panel(w, p, gp / p->npanel, gp % p->npanel, packed + (int64_t)gp * OPS_MR * p->K);
}

void ops_conv_fwd_avx512(const ops_conv_plan *p, const float *x, const float *w, const float *packed,
                         const float *b, float *y, const xfiq_conv_desc *d, int n, int act, const float *slope,
                         int slope_per_channel, char *ws, int num_threads)
{
    if (p->pt) {
        fwd_pt(p, x, w, packed, b, y, d, n, act, slope, slope_per_channel, ws, num_threads);
        return;
    }
    const float *pack = packed ? packed : (const float *)ws;
    int64_t *off = (int64_t *)(ws + p->pack_bytes);
    char *tbase = ws + p->shared_bytes;
    const int groups = d->group;
    const int64_t items = (int64_t)n * groups * p->nq * p->nm;
    const int64_t xstride = (int64_t)d->cin * d->ih * d->iw, ystride = (int64_t)d->cout * p->hw;

#pragma omp parallel num_threads(num_threads)
    {
        if (!packed) {
#pragma omp for schedule(static)
            for (int gp = 0; gp < groups * p->npanel; gp++)
                pack_panel(w, p, gp / p->npanel, gp % p->npanel, (float *)ws + (int64_t)gp * OPS_MR * p->K);
        }
#pragma omp single
        fill_offsets(p, d, off);

        char *tws = tbase + (size_t)omp_get_thread_num() * p->thread_bytes;
        float *src = (float *)tws;
        float *ct = (float *)(tws + p->src_bytes);
        src_cache sc = {-1, -1, -1, -1, 0, 0};

#pragma omp for schedule(static)
        for (int64_t it = 0; it < items; it++) {
            const ops_item wi = ops_item_decode(it, p->nm, p->nq, groups);
            const int mt = wi.mt, qt = wi.qt, g = wi.g, img = wi.img;
            const int64_t q0 = (int64_t)qt * p->tq;
            const int qlen = (int)(p->qtot - q0 < p->tq ? p->qtot - q0 : p->tq);
            const float *ximg = x + img * xstride;
            const float *bsrc;

            if (p->path == OPS_CONV_DIRECT1X1) {
                bsrc = ximg + (int64_t)g * p->cin_g * p->hw + q0;
            } else if (p->path == OPS_CONV_IMPLICIT) {
                const int ra = (int)(q0 / p->pws);
                const int rb = (int)((q0 + qlen - 1) / p->pws) + (d->kh - 1) * d->dh / d->sh + 2;
                implicit_rows(&sc, ximg, img, d, p, ra, rb, src);
                bsrc = src + (int64_t)g * p->cin_g * p->pplane + q0;
            } else {
                if (sc.img != img || sc.g != g || sc.qt != qt) {
                    ops_im2col_tile(ximg + (int64_t)g * p->cin_g * d->ih * d->iw, d, p->cin_g, q0, qlen, src, p->tq);
                    sc.img = img, sc.g = g, sc.qt = qt;
                }
                bsrc = src;
            }

            /* K chunks outermost: the chunk of B (a few channels of the
             * source) stays in L1 while every panel of the range uses it. */
            const int pbeg = mt * p->pm, pend = (mt + 1) * p->pm < p->npanel ? (mt + 1) * p->pm : p->npanel;
            for (int k0 = 0; k0 < p->K; k0 += p->kc) {
                const int kc = p->K - k0 < p->kc ? p->K - k0 : p->kc;
                for (int panel = pbeg; panel < pend; panel++) {
                    const int mr = p->cout_g - panel * OPS_MR < OPS_MR ? p->cout_g - panel * OPS_MR : OPS_MR;
                    const float *ap = pack + (((int64_t)g * p->npanel + panel) * p->K + k0) * OPS_MR;
                    float *cp = ct + (int64_t)(panel - pbeg) * OPS_MR * p->tq;
                    const ukr_fn f = ukr_table[mr];
                    for (int j = 0; j < qlen; j += OPS_NR)
                        f(kc, ap, bsrc + j, off + k0, qlen - j < OPS_NR ? qlen - j : OPS_NR, cp + j, p->tq, k0 > 0);
                    if (k0 + kc == p->K)
                        store_panel(p, d, cp, q0, qlen, y + img * ystride, g * p->cout_g + panel * OPS_MR, mr, b, act,
                                    slope, slope_per_channel);
                }
            }
        }
    }
}

#else /* !__AVX512F__ */

int ops_conv_avx512_available(void) { return 0; }

void ops_conv_pack_avx512(const ops_conv_plan *p, const xfiq_conv_desc *d, const float *w, float *packed,
                          int num_threads)
{
    (void)p, (void)d, (void)w, (void)packed, (void)num_threads;
}

void ops_conv_pt_call(int np, int nv, int K, const float *wp, const float *b, const int64_t *off, float *c,
                      int acc_in, const char *pf, int64_t pfs16)
{
    (void)np, (void)nv, (void)K, (void)wp, (void)b, (void)off, (void)c, (void)acc_in, (void)pf, (void)pfs16;
}

void ops_conv_fwd_avx512(const ops_conv_plan *p, const float *x, const float *w, const float *packed,
                         const float *b, float *y, const xfiq_conv_desc *d, int n, int act, const float *slope,
                         int slope_per_channel, char *ws, int num_threads)
{
    (void)packed;
    /* Never chosen: ops_conv_engine_resolve falls back to OpenBLAS. */
    ops_conv_fwd_blas(p, x, w, b, y, d, n, act, slope, slope_per_channel, ws, num_threads);
}

#endif
