/* ops_internal.h - what the CPU op files share and the tests/bench may reach:
 * the fused bias+activation epilogue, the convolution plan (path and tiling,
 * chosen from the layer shape alone) and the engine switch that lets tests
 * and the benchmark run the OpenBLAS engine next to the AVX-512 one. */
#ifndef XFIQ_OPS_INTERNAL_H
#define XFIQ_OPS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"
#include "ops/elem.h"

/* Rows of the output-channel panel of the AVX-512 micro-kernel; also the
 * unit in which output channels are split into work items (both engines). */
#define OPS_MR 14
/* Columns (output positions) of one micro-kernel call: two AVX-512 vectors. */
#define OPS_NR 32
/* Largest output map (pixels) given to the small-map kernel, and the most
 * pixels of one row one of its calls takes. */
#ifndef OPS_PT_MAX_HW
#define OPS_PT_MAX_HW 784
#endif
#define OPS_PT_MAX_OW 14
/* Alignment of every workspace slice. */
#define OPS_ALIGN 64

typedef enum ops_conv_engine {
    OPS_ENGINE_DEFAULT = 0, /* AVX-512 when compiled for it, else OpenBLAS */
    OPS_ENGINE_AVX512 = 1,  /* own micro-kernel: results independent of any tiling */
    OPS_ENGINE_BLAS = 2,    /* im2col + cblas_sgemm on shape-fixed tiles */
    OPS_ENGINE_DIRECT = 3   /* AVX-512 without the Winograd path (tests, bench) */
} ops_conv_engine;

typedef enum ops_conv_path {
    OPS_CONV_DEPTHWISE = 0, /* group == cin == cout: direct loop per plane */
    OPS_CONV_DIRECT1X1,     /* 1x1, stride 1, no pad: GEMM straight on the image */
    OPS_CONV_IMPLICIT,      /* AVX-512 only: GEMM on a zero-padded, stride-phased copy, no im2col */
    OPS_CONV_IM2COL,        /* everything else: im2col of a column tile + GEMM */
    OPS_CONV_FC,            /* one output pixel whose window is the whole input: gemm_fwd_cpu */
    OPS_CONV_WINOGRAD       /* AVX-512 only: 3x3 stride 1 by F(2x2,3x3), conv_winograd.c */
} ops_conv_path;

/* How one conv layer is cut into work items (image, group, column tile,
 * channel range). Everything here is a function of the layer shape and the
 * engine only, never of the batch size or the thread count, so each output
 * element is computed by the same sequence of operations in every call. */
typedef struct ops_conv_plan {
    int engine, path;
    int cin_g, cout_g, K;    /* K = cin_g*kh*kw, the GEMM depth */
    int ph, pw;              /* padded plane */
    int phs, pws;            /* one stride-phase sub-plane: ceil(ph/sh) x ceil(pw/sw) (IMPLICIT) */
    int64_t pplane;          /* floats per channel of the phased copy: sh*sw*phs*pws (IMPLICIT) */
    unsigned amask, bmask;   /* row / column phases some kernel tap reads (IMPLICIT) */
    int64_t hw;              /* oh*ow */
    int64_t qtot;            /* GEMM columns per image: hw, or the padded-grid length */
    int tq, nq;              /* column tile width and count */
    int npanel;              /* ceil(cout_g / OPS_MR) */
    int pm, nm;              /* panels per channel range, ranges per (image, group) */
    int kc;                  /* GEMM depth handled per pass over a channel range (AVX-512) */
    /* Small maps (AVX-512, group 1, IMPLICIT with taps, hw <= OPS_PT_MAX_HW):
     * the transposed micro-kernel, 16*pt_nv output channels per register
     * times up to OPS_PT_MAX_OW pixels of one output row, so no lane is
     * spent on a short pixel count. Work item = (image, tile of pt_cw
     * output channels). */
    int pt, pt_nv, pt_cw, pt_nct;
    /* Winograd (path OPS_CONV_WINOGRAD): a grid of wg_th x wg_tw 2x2 output
     * tiles. Small maps: bands of wg_rb tile rows whose transformed input V
     * (16 x cin x wg_ldv floats, shared) stays in L2, work items (chunk of
     * at most wg_rc tile rows, tile of wg_cw = 16*wg_nv output channels).
     * Large maps (wg_fused): work items are chunks of at most wg_rc = wg_rb
     * rows, each transformed into the thread's own V, then every channel
     * tile. GEMM depth cin in passes of wg_kc; wg_pw floats per padded row;
     * V[q] starts every wg_qs floats. */
    int wg_th, wg_tw, wg_rb, wg_rc, wg_nv, wg_cw, wg_nct, wg_kc, wg_ldv, wg_pw, wg_fused;
    int64_t wg_qs;
    /* Offsets: off[] in the shared slice; M, staging tile, scratch in each
     * thread's slice (V after them when fused, else after off[]). */
    size_t wg_off_bytes, wg_m_bytes, wg_stage_at, wg_tmp_at;
    /* Workspace layout (bytes, each a multiple of OPS_ALIGN). */
    size_t shared_bytes;     /* packed weights + row offsets (AVX-512) */
    size_t pack_bytes;
    size_t thread_bytes;     /* per thread: padded image / im2col tile / output tile */
    size_t src_bytes;        /* per thread: the B-source part (padded image or im2col tile) */
} ops_conv_plan;

int ops_conv_engine_resolve(int engine);
/* 1 when the output is one pixel whose window is exactly the unpadded input
 * (the 7x7 GDC, a 1x1 conv on a 1x1 map): each output is then one dot
 * product of contiguous memory. */
int ops_conv_is_whole_window(const xfiq_conv_desc *d);
void ops_conv_plan_make(ops_conv_plan *p, const xfiq_conv_desc *d, int engine);
size_t ops_conv_workspace(const xfiq_conv_desc *d, int num_threads, int engine);
/* conv2d_fwd_cpu_packed with a chosen engine on exactly num_threads threads
 * (tests, bench; the public entry runs tiny calls on one thread).
 * ws: ops_conv_workspace bytes. */
void ops_conv_fwd(const float *x, const float *w, const float *packed, const float *b, float *y,
                  const xfiq_conv_desc *d, int n, int act, const float *slope, int slope_per_channel, float *ws,
                  int num_threads, int engine);

/* gemm_fwd_cpu on exactly num_threads threads (the public entry runs tiny
 * calls on one thread; tests use this to exercise the threaded code). */
void ops_gemm_fwd(const float *x, const float *w, const float *b, float *y, int n, int k, int m, int act,
                  const float *slope, int slope_per_channel, int num_threads);

/* Engines (one file each). */
int ops_conv_avx512_available(void);
/* packed: the weights as ops_conv_pack_avx512 lays them out, or NULL to pack
 * them into the workspace during the call. */
void ops_conv_fwd_avx512(const ops_conv_plan *p, const float *x, const float *w, const float *packed,
                         const float *b, float *y, const xfiq_conv_desc *d, int n, int act, const float *slope,
                         int slope_per_channel, char *ws, int num_threads);
void ops_conv_pack_avx512(const ops_conv_plan *p, const xfiq_conv_desc *d, const float *w, float *packed,
                          int num_threads);
void ops_conv_fwd_blas(const ops_conv_plan *p, const float *x, const float *w, const float *b, float *y,
                       const xfiq_conv_desc *d, int n, int act, const float *slope, int slope_per_channel,
                       char *ws, int num_threads);
/* Winograd F(2x2,3x3). fits: the shape rule of the path. */
int ops_conv_winograd_fits(const xfiq_conv_desc *d);
/* Backward-data of d (3x3, stride 1, pads <= 2) is the forward conv t of dy
 * with the turned, transposed filters; 1 when t takes the Winograd path. */
int ops_conv_winograd_bwd_desc(const xfiq_conv_desc *d, xfiq_conv_desc *t);
/* dx (+)= that conv: p is t's plan, w the forward filters (d->cout, d->cin,
 * 3, 3), packed their transform (ops_conv_pack_winograd_bwd) or NULL to make
 * it in ws; ws: t's workspace (its packed-weights area takes it). */
void ops_conv_bwd_winograd(const ops_conv_plan *p, const float *dy, const float *w, const float *packed, float *dx,
                           const xfiq_conv_desc *t, int n, int accumulate, char *ws, int num_threads);
void ops_conv_pack_winograd_bwd(const ops_conv_plan *p, const xfiq_conv_desc *t, const float *w, float *packed,
                                int num_threads);
/* Packs U = G g G^T ([channel tile][16][cin][wg_cw]). */
void ops_conv_pack_winograd(const ops_conv_plan *p, const xfiq_conv_desc *d, const float *w, float *packed,
                            int num_threads);
void ops_conv_fwd_winograd(const ops_conv_plan *p, const float *x, const float *w, const float *packed,
                           const float *b, float *y, const xfiq_conv_desc *d, int n, int act, const float *slope,
                           int slope_per_channel, char *ws, int num_threads);
/* One call of the small-map micro-kernel (conv_avx512.c), shared with the
 * Winograd GEMMs: c[np][16*nv] (+)= sum over k < K of (b + off[k])[0..np)
 * times wp[k][16*nv]; np <= 7 for nv 4, <= OPS_PT_MAX_OW for nv 2. pf..:
 * a stream to prefetch, pfs16/16 bytes further per k. */
void ops_conv_pt_call(int np, int nv, int K, const float *wp, const float *b, const int64_t *off, float *c,
                      int acc_in, const char *pf, int64_t pfs16);
void ops_conv_fwd_depthwise(const ops_conv_plan *p, const float *x, const float *w, const float *b, float *y,
                            const xfiq_conv_desc *d, int n, int act, const float *slope, int slope_per_channel,
                            char *ws, int num_threads);

/* Shared helpers (conv_im2col.c). */
/* Fills col (K x tq, row stride tq) with the im2col rows of output positions
 * [q0, q0+len) of one group of one image; x points at the group's first channel. */
void ops_im2col_tile(const float *x, const xfiq_conv_desc *d, int cin_g, int64_t q0, int len, float *col, int tq);
/* Zero-padded copy of cin planes split into stride phases: padded row py,
 * column px of channel c goes to sub-plane (py % sh, px % sw) of c, at row
 * py / sh, column px / sw (sub-planes of p->phs x p->pws). Builds sub-plane
 * rows [r0, r1) of the phases in p->amask / p->bmask only. */
void ops_pad_rows_phased(const float *x, const xfiq_conv_desc *d, const ops_conv_plan *p, int cin, int r0, int r1,
                         float *xp);
/* Restricts the OpenBLAS library to one thread (once per process). */
void ops_blas_single_thread(void);

static inline size_t ops_align_up(size_t v) { return (v + OPS_ALIGN - 1) & ~(size_t)(OPS_ALIGN - 1); }

static inline char *ops_align_ptr(void *p)
{
    return (char *)(((uintptr_t)p + OPS_ALIGN - 1) & ~(uintptr_t)(OPS_ALIGN - 1));
}

/* dst[j] = act(src[j] + bias) for one row of one output channel: the fused
 * epilogue of every producer, run on a tile while it is still in cache.
 * Branching on act outside the loop lets the compiler vectorise each loop;
 * the formula itself is elem.h's. dst may equal src. */
static inline void ops_epilogue_row(float *dst, const float *src, int64_t len, float bias, int act, float slope)
{
    int64_t j;
    switch (act) {
    case XFIQ_ACT_RELU:
        for (j = 0; j < len; j++)
            dst[j] = xfiq_act(XFIQ_ACT_RELU, src[j] + bias, slope);
        break;
    case XFIQ_ACT_PRELU:
        for (j = 0; j < len; j++)
            dst[j] = xfiq_act(XFIQ_ACT_PRELU, src[j] + bias, slope);
        break;
    default:
        for (j = 0; j < len; j++)
            dst[j] = xfiq_act(XFIQ_ACT_NONE, src[j] + bias, slope);
        break;
    }
}

static inline float ops_slope_of(const float *slope, int per_channel, int c)
{
    return slope ? slope[per_channel ? c : 0] : 0.0f;
}

/* One work item of the GEMM-shaped conv paths: item index -> (output-row
 * tile mt, column tile qt, group g, image img), mt varying fastest. The
 * order depends only on the layer shape, never on threads or batch. */
typedef struct ops_item {
    int mt, qt, g, img;
} ops_item;

static inline ops_item ops_item_decode(int64_t it, int nm, int nq, int groups)
{
    ops_item r;
    r.mt = (int)(it % nm);
    it /= nm;
    r.qt = (int)(it % nq);
    it /= nq;
    r.g = (int)(it % groups);
    r.img = (int)(it / groups);
    return r;
}

#endif
