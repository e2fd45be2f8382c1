/* conv_plan.c - picks the convolution path and cuts a layer into work items
 * from its shape alone, sizes the workspace, and dispatches conv2d_fwd_cpu to
 * the depthwise loop, the Winograd path or one of the two GEMM engines. */
#include "ops/ops_cpu.h"
#include "ops/ops_internal.h"

/* Column tiles: at most this many GEMM columns per item (a direct or implicit
 * GEMM reads its operand in place, so the tile only bounds the output tile). */
#define OPS_TQ_MAX 512
/* im2col tiles: K x tq floats should stay in the L2 cache next to the panel. */
#define OPS_IM2COL_TILE_FLOATS (96 * 1024)
/* Depth of one pass of the micro-kernels over a channel range. */
#ifndef OPS_KC
#define OPS_KC 256
#endif
/* Calls with less work than this run on the calling thread alone: waking a
 * team costs microseconds (milliseconds on a loaded machine) and the result
 * does not depend on the thread count. Flops; the depthwise loop is ~10x
 * slower per flop than the GEMM paths. */
#define OPS_PAR_MIN_FLOPS 2e6
#define OPS_PAR_MIN_FLOPS_DW 2e5
/* Strides up to this use the phase masks (bits of an unsigned). */
#define OPS_MAX_PHASES 32
/* Enough items per image that a single image keeps every core busy. */
#define OPS_ITEMS_PER_IMAGE 8

static int ceil_div(int64_t a, int64_t b) { return (int)((a + b - 1) / b); }

int ops_conv_engine_resolve(int engine)
{
    if (engine == OPS_ENGINE_BLAS)
        return OPS_ENGINE_BLAS;
    return ops_conv_avx512_available() ? OPS_ENGINE_AVX512 : OPS_ENGINE_BLAS;
}

int ops_conv_is_whole_window(const xfiq_conv_desc *d)
{
    return d->oh == 1 && d->ow == 1 && d->pad_t == 0 && d->pad_l == 0 && d->pad_b == 0 && d->pad_r == 0 &&
           d->kh == d->ih && d->kw == d->iw && (d->kh == 1 || d->dh == 1) && (d->kw == 1 || d->dw == 1);
}

/* Winograd F(2x2,3x3) tuning, all from the layer shape. */
#ifndef OPS_WG_NV
#define OPS_WG_NV 2 /* output-channel vectors per micro-kernel call */
#endif
#ifndef OPS_WG_V_BYTES
#define OPS_WG_V_BYTES (832 * 1024) /* transformed input of one band (14x14x256 in one) */
#endif
#define OPS_WG_CHUNK_TILES 56       /* tiles per phase-2 item, about */
#ifndef OPS_WG_FUSE_TILES
#define OPS_WG_FUSE_TILES 168       /* tiles per image from which threads take whole chunks */
#endif
#define OPS_WG_KC_FLOATS 8192       /* one depth pass of weights: 32 KB of L1 */

/* 3x3 stride-1 undilated dense convs on maps of at least 4x4 with channels
 * enough for the 16 GEMMs to keep the micro-kernel busy. Measured (bench_ops
 * and single layers, 2 threads, batch 1, against the direct kernel): 1.6x at
 * 512 channels on 7x7 and 5x5, 1.8-2.1x on the iResNet-50 layers from 112x112
 * down to 14x14, 1.6x at 32 channels on 56x56; 16 > 16 channels lose (0.94x). */
int ops_conv_winograd_fits(const xfiq_conv_desc *d)
{
    return d->group == 1 && d->kh == 3 && d->kw == 3 && d->sh == 1 && d->sw == 1 && d->dh == 1 && d->dw == 1 &&
           d->cin >= 16 && d->cout >= 16 && d->cin * d->cout >= 512 && d->oh >= 4 && d->ow >= 4;
}

static int choose_path(const xfiq_conv_desc *d, int engine, int pws, int allow_winograd)
{
    if (engine == OPS_ENGINE_AVX512 && allow_winograd && ops_conv_winograd_fits(d))
        return OPS_CONV_WINOGRAD;
    if (d->group > 1 && d->group == d->cin && d->group == d->cout)
        return OPS_CONV_DEPTHWISE;
    if (d->group == 1 && ops_conv_is_whole_window(d))
        return OPS_CONV_FC;
    if (d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && d->pad_t == 0 && d->pad_l == 0 && d->pad_b == 0 &&
        d->pad_r == 0)
        return OPS_CONV_DIRECT1X1;
    /* The implicit GEMM also computes pws - ow junk columns per grid row:
     * worth it while they are under half of the grid. A strided 1x1 conv
     * reads one phase of sh*sw: its im2col (a subsampled copy) is smaller
     * and measured faster (bench_ops: 1x1 s2 on 28/14, about 190 against
     * 145 GFLOP/s on one core). */
    if (engine == OPS_ENGINE_AVX512 && d->sh <= OPS_MAX_PHASES && d->sw <= OPS_MAX_PHASES && 2 * (pws - d->ow) <= pws &&
        (d->kh * d->kw > 1 || (d->sh == 1 && d->sw == 1)))
        return OPS_CONV_IMPLICIT;
    return OPS_CONV_IM2COL;
}

void ops_conv_plan_make(ops_conv_plan *p, const xfiq_conv_desc *d, int engine)
{
    p->engine = ops_conv_engine_resolve(engine);
    p->cin_g = d->cin / d->group;
    p->cout_g = d->cout / d->group;
    p->K = p->cin_g * d->kh * d->kw;
    p->ph = d->ih + d->pad_t + d->pad_b;
    p->pw = d->iw + d->pad_l + d->pad_r;
    p->phs = (p->ph + d->sh - 1) / d->sh;
    p->pws = (p->pw + d->sw - 1) / d->sw;
    p->pplane = (int64_t)d->sh * d->sw * p->phs * p->pws;
    p->amask = p->bmask = 0;
    for (int ky = 0; ky < d->kh && d->sh <= OPS_MAX_PHASES; ky++)
        p->amask |= 1u << (ky * d->dh % d->sh);
    for (int kx = 0; kx < d->kw && d->sw <= OPS_MAX_PHASES; kx++)
        p->bmask |= 1u << (kx * d->dw % d->sw);
    p->hw = (int64_t)d->oh * d->ow;
    p->path = choose_path(d, p->engine, p->pws, engine != OPS_ENGINE_DIRECT);
    p->shared_bytes = p->pack_bytes = p->thread_bytes = p->src_bytes = 0;
    p->tq = p->nq = p->npanel = p->pm = p->nm = p->kc = 0;
    p->pt = p->pt_nv = p->pt_cw = p->pt_nct = 0;
    p->wg_th = p->wg_tw = p->wg_rb = p->wg_rc = p->wg_nv = p->wg_cw = p->wg_nct = p->wg_kc = p->wg_ldv = p->wg_pw = 0;
    p->wg_off_bytes = p->wg_m_bytes = 0;
    p->wg_qs = 0;
    p->wg_fused = 0;
    p->wg_stage_at = p->wg_tmp_at = 0;

    if (p->path == OPS_CONV_WINOGRAD) {
        p->qtot = p->hw;
        p->wg_th = (d->oh + 1) / 2;
        p->wg_tw = (d->ow + 1) / 2;
        p->wg_nv = OPS_WG_NV;
        p->wg_cw = 16 * p->wg_nv;
        p->wg_nct = ceil_div(d->cout, p->wg_cw);
        const int rc_max = OPS_WG_CHUNK_TILES / p->wg_tw < 1 ? 1 : OPS_WG_CHUNK_TILES / p->wg_tw;
        /* Large maps have chunks enough for every thread: each transforms
         * its own rows into its own V, no waiting on the others. Small ones
         * share one V per band, transformed by all threads. */
        p->wg_fused = (int64_t)p->wg_th * p->wg_tw >= OPS_WG_FUSE_TILES;
        if (p->wg_fused) {
            p->wg_rb = ceil_div(p->wg_th, ceil_div(p->wg_th, rc_max));
        } else {
            /* Bands of near-equal height: a last band of one tile row would
             * run the micro-kernel on a handful of tiles. */
            const size_t row_bytes = sizeof(float) * 16 * (size_t)d->cin * p->wg_tw;
            const int rb_max = row_bytes >= OPS_WG_V_BYTES ? 1 : (int)(OPS_WG_V_BYTES / row_bytes);
            p->wg_rb = ceil_div(p->wg_th, ceil_div(p->wg_th, rb_max));
        }
        p->wg_rc = rc_max < p->wg_rb ? rc_max : p->wg_rb;
        p->wg_ldv = (p->wg_rb * p->wg_tw + 15) / 16 * 16;
        /* One cache line between positions: the 16 rows a tile's transform
         * writes would otherwise sit a power of two apart, in one L1 set. */
        p->wg_qs = (int64_t)d->cin * p->wg_ldv + 16;
        p->wg_kc = OPS_WG_KC_FLOATS / p->wg_cw < d->cin ? OPS_WG_KC_FLOATS / p->wg_cw : d->cin;
        /* Vector loads of 16 tiles read 34 padded columns from 2*tx0 (the
         * last row's spill past the band: the 16 floats of slack). */
        p->wg_pw = 32 * ((p->wg_tw + 15) / 16) + 2;
        const size_t v_bytes = ops_align_up(sizeof(float) * 16 * (size_t)p->wg_qs);
        p->pack_bytes = ops_align_up(sizeof(float) * (size_t)p->wg_nct * 16 * d->cin * p->wg_cw);
        p->wg_off_bytes = ops_align_up(sizeof(int64_t) * (size_t)d->cin);
        p->shared_bytes = p->pack_bytes + p->wg_off_bytes + (p->wg_fused ? 0 : v_bytes);
        p->src_bytes = ops_align_up(sizeof(float) * ((size_t)(2 * p->wg_rb + 2) * p->wg_pw + 16));
        p->wg_m_bytes = ops_align_up(sizeof(float) * 16 * (size_t)p->wg_rc * p->wg_tw * p->wg_cw);
        p->wg_stage_at = p->src_bytes + p->wg_m_bytes;
        p->wg_tmp_at = p->wg_stage_at + ops_align_up(sizeof(float) * (size_t)p->wg_cw * 2 * p->wg_rc * d->ow);
        p->thread_bytes = p->wg_tmp_at + ops_align_up(sizeof(float) * 64) + (p->wg_fused ? v_bytes : 0);
        return;
    }

    if (p->path == OPS_CONV_DEPTHWISE) {
        /* Padded plane split into sh x sw phase sub-planes, plus the output grid. */
        const size_t sub = (size_t)((p->ph + d->sh - 1) / d->sh) * (size_t)((p->pw + d->sw - 1) / d->sw);
        p->src_bytes = ops_align_up(sizeof(float) * ((size_t)d->sh * d->sw * sub + 16));
        p->thread_bytes = p->src_bytes + ops_align_up(sizeof(float) * (sub + 16)) +
                          ops_align_up(sizeof(int64_t) * (size_t)d->kh * d->kw);
        p->qtot = p->hw;
        return;
    }
    if (p->path == OPS_CONV_FC) {
        p->qtot = p->hw;
        return;
    }

    p->qtot = p->path == OPS_CONV_IMPLICIT ? (int64_t)(d->oh - 1) * p->pws + d->ow : p->hw;
    int tq_max = OPS_TQ_MAX;
    if (p->path == OPS_CONV_IM2COL) {
        tq_max = OPS_IM2COL_TILE_FLOATS / p->K / OPS_NR * OPS_NR;
        if (tq_max < OPS_NR)
            tq_max = OPS_NR;
        if (tq_max > OPS_TQ_MAX)
            tq_max = OPS_TQ_MAX;
    }
    p->nq = ceil_div(p->qtot, tq_max);
    p->tq = ceil_div(ceil_div(p->qtot, p->nq), OPS_NR) * OPS_NR;
    p->nq = ceil_div(p->qtot, p->tq);
    p->npanel = ceil_div(p->cout_g, OPS_MR);
    const int items = p->nq * d->group;
    p->nm = items >= OPS_ITEMS_PER_IMAGE ? 1 : ceil_div(OPS_ITEMS_PER_IMAGE, items);
    if (p->nm > p->npanel)
        p->nm = p->npanel;
    p->pm = ceil_div(p->npanel, p->nm);
    p->nm = ceil_div(p->npanel, p->pm);
    /* Whole kernel windows per K chunk, about OPS_KC rows. */
    const int taps = d->kh * d->kw;
    p->kc = (OPS_KC + taps - 1) / taps * taps;
    if (p->kc > p->K)
        p->kc = p->K;

    if (p->path == OPS_CONV_IMPLICIT)
        p->src_bytes = ops_align_up(sizeof(float) * ((size_t)d->cin * p->pplane + 16));
    else if (p->path == OPS_CONV_IM2COL)
        p->src_bytes = ops_align_up(sizeof(float) * (size_t)p->K * p->tq);
    if (p->engine == OPS_ENGINE_AVX512) {
        p->pack_bytes = ops_align_up(sizeof(float) * (size_t)d->group * p->npanel * OPS_MR * p->K);
        p->shared_bytes = p->pack_bytes + ops_align_up(sizeof(int64_t) * (size_t)p->K);
        p->thread_bytes = p->src_bytes + ops_align_up(sizeof(float) * (size_t)p->pm * OPS_MR * p->tq);
    } else {
        p->thread_bytes = p->src_bytes;
    }
    /* Small maps: at 14x14 / 7x7 the panel kernel's 32-column blocks and
     * 14-channel panels leave lanes idle and a batch-1 layer cuts into few,
     * unequal items; the transposed kernel tiles output channels instead.
     * Measured (bench_ops, one core): 3x3 convs gain up to 28x28 (2x at 7x7,
     * 1.3x at 14x14, 1.08x at 28x28, none at 56x56); 1x1 convs (K of 64 to
     * 512) do not, their per-output epilogue weighs more against the depth. */
    if (p->engine == OPS_ENGINE_AVX512 && d->group == 1 && p->hw <= OPS_PT_MAX_HW && p->path == OPS_CONV_IMPLICIT &&
        d->kh * d->kw > 1) {
        p->pt = 1;
        p->pt_nv = d->ow <= 7 ? 4 : 2;
        p->pt_cw = 16 * p->pt_nv;
        p->pt_nct = ceil_div(p->cout_g, p->pt_cw);
        p->pack_bytes = ops_align_up(sizeof(float) * (size_t)p->pt_nct * p->pt_cw * p->K);
        p->shared_bytes = p->pack_bytes + ops_align_up(sizeof(int64_t) * (size_t)p->K);
        p->thread_bytes = p->src_bytes + ops_align_up(sizeof(float) * (size_t)p->hw * p->pt_cw);
    }
}

size_t ops_conv_workspace(const xfiq_conv_desc *d, int num_threads, int engine)
{
    ops_conv_plan p;
    ops_conv_plan_make(&p, d, engine);
    if (num_threads < 1)
        num_threads = 1;
    return OPS_ALIGN + p.shared_bytes + (size_t)num_threads * p.thread_bytes;
}

size_t conv2d_fwd_cpu_workspace(const xfiq_conv_desc *d, int num_threads)
{
    return ops_conv_workspace(d, num_threads, OPS_ENGINE_DEFAULT);
}

size_t conv2d_cpu_pack_bytes(const xfiq_conv_desc *d)
{
    ops_conv_plan p;
    ops_conv_plan_make(&p, d, OPS_ENGINE_DEFAULT);
    return p.engine == OPS_ENGINE_AVX512 ? p.pack_bytes : 0;
}

void conv2d_cpu_pack(const xfiq_conv_desc *d, const float *w, float *packed, int num_threads)
{
    ops_conv_plan p;
    ops_conv_plan_make(&p, d, OPS_ENGINE_DEFAULT);
    if (p.engine != OPS_ENGINE_AVX512 || p.pack_bytes == 0)
        return;
    if (p.path == OPS_CONV_WINOGRAD)
        ops_conv_pack_winograd(&p, d, w, packed, num_threads < 1 ? 1 : num_threads);
    else
        ops_conv_pack_avx512(&p, d, w, packed, num_threads < 1 ? 1 : num_threads);
}

void ops_conv_fwd(const float *x, const float *w, const float *packed, const float *b, float *y,
                  const xfiq_conv_desc *d, int n, int act, const float *slope, int slope_per_channel, float *ws,
                  int num_threads, int engine)
{
    ops_conv_plan p;
    if (n <= 0)
        return;
    if (num_threads < 1)
        num_threads = 1;
    ops_conv_plan_make(&p, d, engine);
    char *wsa = ops_align_ptr(ws);
    if (p.path == OPS_CONV_FC)
        ops_gemm_fwd(x, w, b, y, n, p.K, d->cout, act, slope, slope_per_channel, num_threads);
    else if (p.path == OPS_CONV_DEPTHWISE)
        ops_conv_fwd_depthwise(&p, x, w, b, y, d, n, act, slope, slope_per_channel, wsa, num_threads);
    else if (p.path == OPS_CONV_WINOGRAD)
        ops_conv_fwd_winograd(&p, x, w, packed, b, y, d, n, act, slope, slope_per_channel, wsa, num_threads);
    else if (p.engine == OPS_ENGINE_AVX512)
        ops_conv_fwd_avx512(&p, x, w, packed, b, y, d, n, act, slope, slope_per_channel, wsa, num_threads);
    else
        ops_conv_fwd_blas(&p, x, w, b, y, d, n, act, slope, slope_per_channel, wsa, num_threads);
}

void conv2d_fwd_cpu(const float *x, const float *w, const float *b, float *y,
                    const xfiq_conv_desc *d, int n, int act, const float *slope, int slope_per_channel,
                    float *ws, int num_threads)
{
    conv2d_fwd_cpu_packed(x, w, NULL, b, y, d, n, act, slope, slope_per_channel, ws, num_threads);
}

void conv2d_fwd_cpu_packed(const float *x, const float *w, const float *packed, const float *b, float *y,
                           const xfiq_conv_desc *d, int n, int act, const float *slope, int slope_per_channel,
                           float *ws, int num_threads)
{
    ops_conv_plan p;
    ops_conv_plan_make(&p, d, OPS_ENGINE_DEFAULT);
    const double flops = 2.0 * n * d->cout * (double)p.hw * p.K;
    if (flops < (p.path == OPS_CONV_DEPTHWISE ? OPS_PAR_MIN_FLOPS_DW : OPS_PAR_MIN_FLOPS))
        num_threads = 1;
    ops_conv_fwd(x, w, packed, b, y, d, n, act, slope, slope_per_channel, ws, num_threads, OPS_ENGINE_DEFAULT);
}
