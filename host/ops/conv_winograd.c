/* conv_winograd.c - 3x3 stride-1 convolutions by Winograd's minimal filtering
 * F(2x2, 3x3) on the AVX-512 engine: 16 multiplies per 2x2 output tile and
 * input channel instead of 36 (the formulas: winograd.h).
 *
 * The grid of 2x2 output tiles of an image is cut into bands of whole tile
 * rows whose transformed input V[16][cin][tiles] fits the L2 cache. Per band,
 * phase 1 transforms the input channel by channel (vectors of 16 tiles along
 * a row, from a zero-padded copy of the band's rows); phase 2 runs, per work
 * item (chunk of tile rows, tile of output channels), the 16 GEMMs
 * M[q] = V[q]^T U[q] with the small-map micro-kernel (output channels in the
 * lanes, tiles as the register-tiled rows), then the output transform into a
 * per-channel staging tile and the fused bias + activation epilogue into y.
 * Weights are transformed once, U = G g G^T, and packed
 * [channel tile][q][cin][16*nv].
 *
 * Reproducibility: each transform is a fixed sequence of adds per tile, each
 * M element one accumulator taking one fma per input channel in increasing
 * order (depth passes stored and reloaded exactly). Which band, chunk or
 * thread a tile falls in changes none of it, so results are bitwise the same
 * for any batch size and thread count. They differ from the direct
 * convolution's by rounding only (tests compare both with the reference). */
#include <string.h>

#include <omp.h>

#include "ops/ops_internal.h"
#include "ops/winograd.h"

/* Output-channel tile t: U[q][c][j] for its cw channels, zeros past cout.
 * Filters w (cout, cin, 3, 3); flip: w is the forward conv's (cin, cout, 3,
 * 3) and the filter of (co, c) is w[c][co] turned by 180 degrees, the
 * backward-data conv. */
static void pack_tile(const ops_conv_plan *p, const xfiq_conv_desc *d, const float *w, int flip, int t, float *up)
{
    const int cw = p->wg_cw, cin = d->cin;
    float u[16], g[9];
    /* Channel outer, tile lane inner: the 16 stores of a filter land next to
     * the previous filter's, one row of cw floats per position. */
    for (int c = 0; c < cin; c++)
        for (int j = 0; j < cw; j++) {
            const int co = t * cw + j;
            if (co >= d->cout) {
                memset(u, 0, sizeof u);
            } else if (flip) {
                const float *src = w + ((int64_t)c * d->cout + co) * 9;
                for (int k = 0; k < 9; k++)
                    g[k] = src[8 - k];
                xfiq_wino_weight_tile(g, u);
            } else {
                xfiq_wino_weight_tile(w + ((int64_t)co * cin + c) * 9, u);
            }
            for (int q = 0; q < 16; q++)
                up[((int64_t)q * cin + c) * cw + j] = u[q];
        }
}

static void pack_all(const ops_conv_plan *p, const xfiq_conv_desc *d, const float *w, int flip, float *packed,
                     int num_threads)
{
#pragma omp parallel for schedule(static) num_threads(num_threads)
    for (int t = 0; t < p->wg_nct; t++)
        pack_tile(p, d, w, flip, t, packed + (int64_t)t * 16 * d->cin * p->wg_cw);
}

void ops_conv_pack_winograd(const ops_conv_plan *p, const xfiq_conv_desc *d, const float *w, float *packed,
                            int num_threads)
{
    pack_all(p, d, w, 0, packed, num_threads);
}

void ops_conv_pack_winograd_bwd(const ops_conv_plan *p, const xfiq_conv_desc *t, const float *w, float *packed,
                                int num_threads)
{
    pack_all(p, t, w, 1, packed, num_threads);
}

int ops_conv_winograd_bwd_desc(const xfiq_conv_desc *d, xfiq_conv_desc *t)
{
    if (d->group != 1 || d->kh != 3 || d->kw != 3 || d->sh != 1 || d->sw != 1 || d->dh != 1 || d->dw != 1 ||
        d->pad_t > 2 || d->pad_l > 2 || d->pad_b > 2 || d->pad_r > 2)
        return 0;
    const xfiq_conv_desc r = {d->cout, d->cin, 1, 3, 3, 1, 1, 1, 1, 2 - d->pad_t, 2 - d->pad_l, 2 - d->pad_b,
                              2 - d->pad_r, d->oh, d->ow, d->ih, d->iw};
    *t = r;
    return ops_conv_winograd_fits(t);
}

#if defined(__AVX512F__)
#include <immintrin.h>

#define WG_ADD(a, b) _mm512_add_ps((a), (b))
#define WG_SUB(a, b) _mm512_sub_ps((a), (b))

static int min_i(int a, int b) { return a < b ? a : b; }

/* Padded rows [2*ty0, 2*ty0 + rows) of one channel plane xc into pl
 * (wg_pw floats a row): input (2*ty0 + r - pad_t, col - pad_l), else 0.
 * Each row is zeroed in whole vectors (the last one runs into the next row,
 * written after it, or the slack), then the input row is copied in. */
static void pad_band(const float *xc, const xfiq_conv_desc *d, const ops_conv_plan *p, int ty0, int rows, float *pl)
{
    const int pw = p->wg_pw, iw = d->iw;
    const __m512 z = _mm512_setzero_ps();
    for (int r = 0; r < rows; r++) {
        float *row = pl + (int64_t)r * pw;
        for (int j = 0; j < pw; j += 16)
            _mm512_storeu_ps(row + j, z);
        const int iy = 2 * ty0 + r - d->pad_t;
        if (iy < 0 || iy >= d->ih)
            continue;
        const float *src = xc + (int64_t)iy * iw;
        float *dst = row + d->pad_l; /* pad_l + iw <= 2*wg_tw + 2 <= wg_pw */
        for (int j = 0; j < iw; j += 16) {
            const __mmask16 m = iw - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (iw - j)) - 1u);
            _mm512_mask_storeu_ps(dst + j, m, _mm512_maskz_loadu_ps(m, src + j));
        }
    }
}

/* The 16 transformed positions of the tiles in the vector lanes: t[] holds
 * the 4x4 tiles' rows after B^T along them; columns now, then store the
 * lanes in m to dst + q*qs. */
static inline __attribute__((always_inline)) void input_cols_store(const __m512 t[16], float *dst, int64_t qs,
                                                                   __mmask16 m)
{
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        __m512 v0, v1, v2, v3;
        XFIQ_WINO_IN_1D(WG_ADD, WG_SUB, t[j], t[4 + j], t[8 + j], t[12 + j], v0, v1, v2, v3);
        _mm512_mask_storeu_ps(dst + (int64_t)j * qs, m, v0);
        _mm512_mask_storeu_ps(dst + (int64_t)(4 + j) * qs, m, v1);
        _mm512_mask_storeu_ps(dst + (int64_t)(8 + j) * qs, m, v2);
        _mm512_mask_storeu_ps(dst + (int64_t)(12 + j) * qs, m, v3);
    }
}

/* Phase 1 for channel c: tile rows [ty0, ty0 + nrows) into V[q][c][tile].
 * Lane k of a vector is a tile: 16 tiles along a row, or on maps at most 8
 * tiles wide, one tile row in lanes [0, tw) and the next in [tw, 2*tw). */
static void input_band(const float *xc, const xfiq_conv_desc *d, const ops_conv_plan *p, int c, int ty0, int nrows,
                       float *pl, float *V)
{
    pad_band(xc, d, p, ty0, 2 * nrows + 2, pl);
    const int tw = p->wg_tw, pw = p->wg_pw;
    const int64_t qs = p->wg_qs;
    float *vc = V + (int64_t)c * p->wg_ldv;
    __m512 t[16];
    if (tw <= 8) {
        /* Lane k reads padded columns 2k.. of row A (k < tw) or 2(k-tw).. of
         * row B, two padded rows further down: index 16+ picks row B. */
        int i0[16], i1[16];
        for (int k = 0; k < 16; k++) {
            i0[k] = k < tw ? 2 * k : k < 2 * tw ? 16 + 2 * (k - tw) : 0;
            i1[k] = i0[k] + 1;
        }
        const __m512i e0 = _mm512_loadu_si512(i0), e1 = _mm512_loadu_si512(i1);
        for (int ty = 0; ty < nrows; ty += 2) {
            const int pair = nrows - ty >= 2;
            const __mmask16 m = (__mmask16)((1u << ((pair ? 2 : 1) * tw)) - 1u);
            /* A last unpaired row reads itself as row B: no lane reads rows
             * the band did not fill. */
            const int64_t bo = pair ? 2 * pw : 0;
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++) {
                const float *s = pl + (int64_t)(2 * ty + r) * pw;
                const __m512 a = _mm512_loadu_ps(s), b = _mm512_loadu_ps(s + bo);
                const __m512 a2 = _mm512_loadu_ps(s + 2), b2 = _mm512_loadu_ps(s + bo + 2);
                const __m512 d0 = _mm512_permutex2var_ps(a, e0, b), d1 = _mm512_permutex2var_ps(a, e1, b);
                const __m512 d2 = _mm512_permutex2var_ps(a2, e0, b2), d3 = _mm512_permutex2var_ps(a2, e1, b2);
                XFIQ_WINO_IN_1D(WG_ADD, WG_SUB, d0, d1, d2, d3, t[4 * r], t[4 * r + 1], t[4 * r + 2], t[4 * r + 3]);
            }
            input_cols_store(t, vc + (int64_t)ty * tw, qs, m);
        }
        return;
    }
    const __m512i ev = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i od = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    for (int ty = 0; ty < nrows; ty++)
        for (int tx0 = 0; tx0 < tw; tx0 += 16) {
            const __mmask16 m = tw - tx0 >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (tw - tx0)) - 1u);
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++) {
                /* Tile k of the vector reads padded columns 2*(tx0+k) .. +3. */
                const float *s = pl + (int64_t)(2 * ty + r) * pw + 2 * tx0;
                const __m512 a = _mm512_loadu_ps(s), b = _mm512_loadu_ps(s + 16);
                const __m512 a2 = _mm512_loadu_ps(s + 2), b2 = _mm512_loadu_ps(s + 18);
                const __m512 d0 = _mm512_permutex2var_ps(a, ev, b), d1 = _mm512_permutex2var_ps(a, od, b);
                const __m512 d2 = _mm512_permutex2var_ps(a2, ev, b2), d3 = _mm512_permutex2var_ps(a2, od, b2);
                XFIQ_WINO_IN_1D(WG_ADD, WG_SUB, d0, d1, d2, d3, t[4 * r], t[4 * r + 1], t[4 * r + 2], t[4 * r + 3]);
            }
            input_cols_store(t, vc + (int64_t)ty * tw + tx0, qs, m);
        }
}

/* Where one work item writes and what its epilogue applies (accumulate:
 * add the finished value to y, for the backward-data pass). */
typedef struct wg_out {
    float *yimg;
    const float *b, *slope;
    int act, spc, accumulate;
} wg_out;

/* Phase 2: tile rows [ca, cb) of the band starting at tile row ty0, output
 * channel tile ct. M: [16][tiles][cw]; stage: [cw][2*wg_rc*ow]; tmp: 64 floats. */
static void run_item(const ops_conv_plan *p, const xfiq_conv_desc *d, const float *U, const float *V,
                     const int64_t *off, int ty0, int ca, int cb, int ct, float *M, float *stage, float *tmp,
                     const wg_out *o)
{
    const int tw = p->wg_tw, cw = p->wg_cw, nv = p->wg_nv, cin = d->cin, kc = p->wg_kc, ow = d->ow;
    const int npmax = nv == 4 ? 7 : OPS_PT_MAX_OW;
    const int ta = (ca - ty0) * tw, nt = (cb - ca) * tw;
    /* Tiles in near-equal register blocks: 49 as 13+12+12+12, not 14+14+14+7. */
    const int nblk = (nt + npmax - 1) / npmax, bl = (nt + nblk - 1) / nblk;
    const int calls = ((cin + kc - 1) / kc) * nblk;
    const int64_t ubytes = (int64_t)cin * cw * (int64_t)sizeof(float);
    const float *ut = U + (int64_t)ct * 16 * cin * cw;

    for (int q = 0; q < 16; q++) {
        const float *uq = ut + (int64_t)q * cin * cw;
        const float *vq = V + q * p->wg_qs + ta;
        float *mq = M + (int64_t)q * nt * cw;
        /* Spread a prefetch of the next position's weights over this one's calls. */
        const char *nx = (const char *)(q < 15 ? uq + (int64_t)cin * cw : uq);
        const int64_t slice = ubytes / calls;
        for (int k0 = 0, call = 0; k0 < cin; k0 += kc) {
            const int kk = min_i(kc, cin - k0);
            const int64_t pfs16 = slice * 16 / kk;
            for (int i0 = 0; i0 < nt; i0 += bl, call++)
                ops_conv_pt_call(min_i(bl, nt - i0), nv, kk, uq + (int64_t)k0 * cw, vq + i0, off + k0,
                                 mq + (int64_t)i0 * cw, k0 > 0, nx + call * slice, pfs16);
        }
    }

    const int64_t sst = (int64_t)2 * p->wg_rc * ow;
    const int lanes_all = d->cout - ct * cw;
    for (int t = 0; t < nt; t++) {
        const int gty = ca + t / tw, ox = 2 * (t % tw);
        const int ly = 2 * (gty - ca);
        const int two_y = 2 * gty + 1 < d->oh, two_x = ox + 1 < ow;
        for (int v = 0; v < nv && 16 * v < lanes_all; v++) {
            __m512 m[16], r[8], y0, y1, y2, y3;
#pragma GCC unroll 16
            for (int q = 0; q < 16; q++)
                m[q] = _mm512_loadu_ps(M + ((int64_t)q * nt + t) * cw + 16 * v);
#pragma GCC unroll 4
            for (int i = 0; i < 4; i++)
                XFIQ_WINO_OUT_1D(WG_ADD, WG_SUB, m[4 * i], m[4 * i + 1], m[4 * i + 2], m[4 * i + 3], r[2 * i],
                                 r[2 * i + 1]);
            XFIQ_WINO_OUT_1D(WG_ADD, WG_SUB, r[0], r[2], r[4], r[6], y0, y2);
            XFIQ_WINO_OUT_1D(WG_ADD, WG_SUB, r[1], r[3], r[5], r[7], y1, y3);
            _mm512_storeu_ps(tmp, y0);
            _mm512_storeu_ps(tmp + 16, y1);
            _mm512_storeu_ps(tmp + 32, y2);
            _mm512_storeu_ps(tmp + 48, y3);
            const int lanes = min_i(16, lanes_all - 16 * v);
            for (int l = 0; l < lanes; l++) {
                float *s = stage + (int64_t)(16 * v + l) * sst + (int64_t)ly * ow + ox;
                s[0] = tmp[l];
                if (two_x)
                    s[1] = tmp[16 + l];
                if (two_y) {
                    s[ow] = tmp[32 + l];
                    if (two_x)
                        s[ow + 1] = tmp[48 + l];
                }
            }
        }
    }
    const int oy0 = 2 * ca, oy1 = min_i(2 * cb, d->oh);
    const int64_t len = (int64_t)(oy1 - oy0) * ow;
    for (int j = 0; j < cw && j < lanes_all; j++) {
        const int co = ct * cw + j;
        float *dst = o->yimg + (int64_t)co * p->hw + (int64_t)oy0 * ow;
        const float *src = stage + (int64_t)j * sst;
        if (o->accumulate)
            for (int64_t k = 0; k < len; k++)
                dst[k] += src[k];
        else
            ops_epilogue_row(dst, src, len, o->b ? o->b[co] : 0.0f, o->act, ops_slope_of(o->slope, o->spc, co));
    }
}

/* Chunk j of nch over rows [r0, r0 + nrows): near-equal, as [*a, *b). */
static void chunk_rows(int r0, int nrows, int nch, int j, int *a, int *b)
{
    *a = r0 + (int)((int64_t)j * nrows / nch);
    *b = r0 + (int)((int64_t)(j + 1) * nrows / nch);
}

static void wg_run(const ops_conv_plan *p, const float *x, const float *w, const float *packed, const float *b,
                   float *y, const xfiq_conv_desc *d, int n, int act, const float *slope, int slope_per_channel,
                   int accumulate, char *ws, int num_threads)
{
    const float *U = packed ? packed : (const float *)ws;
    int64_t *off = (int64_t *)(ws + p->pack_bytes);
    char *tbase = ws + p->shared_bytes;
    const int cin = d->cin, th = p->wg_th, rb = p->wg_rb, rc = p->wg_rc, nct = p->wg_nct;
    const int64_t plane = (int64_t)d->ih * d->iw, xstride = (int64_t)cin * plane, ystride = (int64_t)d->cout * p->hw;

#pragma omp parallel num_threads(num_threads)
    {
        if (!packed) {
#pragma omp for schedule(static)
            for (int t = 0; t < nct; t++)
                pack_tile(p, d, w, 0, t, (float *)ws + (int64_t)t * 16 * cin * p->wg_cw);
        }
#pragma omp for schedule(static)
        for (int c = 0; c < cin; c++)
            off[c] = (int64_t)c * p->wg_ldv;

        char *tws = tbase + (size_t)omp_get_thread_num() * p->thread_bytes;
        float *pl = (float *)tws;
        float *M = (float *)(tws + p->src_bytes);
        float *stage = (float *)(tws + p->wg_stage_at);
        float *tmp = (float *)(tws + p->wg_tmp_at);

        if (p->wg_fused) {
            /* Items (image, chunk): transform, then every channel tile. */
            float *V = (float *)(tws + p->wg_tmp_at + ops_align_up(sizeof(float) * 64));
            const int nch = (th + rc - 1) / rc;
#pragma omp for schedule(static)
            for (int64_t it = 0; it < (int64_t)n * nch; it++) {
                const int img = (int)(it / nch);
                int ca, cb;
                chunk_rows(0, th, nch, (int)(it % nch), &ca, &cb);
                const wg_out o = {y + img * ystride, b, slope, act, slope_per_channel, accumulate};
                for (int c = 0; c < cin; c++)
                    input_band(x + img * xstride + c * plane, d, p, c, ca, cb - ca, pl, V);
                for (int ct = 0; ct < nct; ct++)
                    run_item(p, d, U, V, off, ca, ca, cb, ct, M, stage, tmp, &o);
            }
        } else {
            float *V = (float *)(ws + p->pack_bytes + p->wg_off_bytes);
            const int nband = (th + rb - 1) / rb;
            for (int img = 0; img < n; img++) {
                const wg_out o = {y + img * ystride, b, slope, act, slope_per_channel, accumulate};
                for (int band = 0; band < nband; band++) {
                    int ty0, ty1;
                    chunk_rows(0, th, nband, band, &ty0, &ty1);
#pragma omp for schedule(static)
                    for (int c = 0; c < cin; c++)
                        input_band(x + img * xstride + c * plane, d, p, c, ty0, ty1 - ty0, pl, V);
                    /* Channel tile slowest: a thread's consecutive items share weights. */
                    const int nch = (ty1 - ty0 + rc - 1) / rc, items = nch * nct;
#pragma omp for schedule(static)
                    for (int it = 0; it < items; it++) {
                        int ca, cb;
                        chunk_rows(ty0, ty1 - ty0, nch, it % nch, &ca, &cb);
                        run_item(p, d, U, V, off, ty0, ca, cb, it / nch, M, stage, tmp, &o);
                    }
                }
            }
        }
    }
}

#else /* !__AVX512F__ */

/* Never run: ops_conv_plan_make and ops_bwd_plan_make choose the path only
 * for the AVX-512 engine. */
static void wg_run(const ops_conv_plan *p, const float *x, const float *w, const float *packed, const float *b,
                   float *y, const xfiq_conv_desc *d, int n, int act, const float *slope, int slope_per_channel,
                   int accumulate, char *ws, int num_threads)
{
    (void)p, (void)x, (void)w, (void)packed, (void)b, (void)y, (void)d, (void)n, (void)act, (void)slope;
    (void)slope_per_channel, (void)accumulate, (void)ws, (void)num_threads;
}

#endif

void ops_conv_fwd_winograd(const ops_conv_plan *p, const float *x, const float *w, const float *packed,
                           const float *b, float *y, const xfiq_conv_desc *d, int n, int act, const float *slope,
                           int slope_per_channel, char *ws, int num_threads)
{
    wg_run(p, x, w, packed, b, y, d, n, act, slope, slope_per_channel, 0, ws, num_threads);
}

void ops_conv_bwd_winograd(const ops_conv_plan *p, const float *dy, const float *w, const float *packed, float *dx,
                           const xfiq_conv_desc *t, int n, int accumulate, char *ws, int num_threads)
{
    /* Unpacked: the turned filters go where wg_run keeps packed weights. */
    if (!packed) {
        pack_all(p, t, w, 1, (float *)ws, num_threads);
        packed = (const float *)ws;
    }
    wg_run(p, dy, NULL, packed, NULL, dx, t, n, XFIQ_ACT_NONE, NULL, 0, accumulate, ws, num_threads);
}
