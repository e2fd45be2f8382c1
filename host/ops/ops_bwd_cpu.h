/* ops_bwd_cpu.h - backward-data of the CPU ops (NCHW float32): the gradient
 * with respect to each op's activation input, never its weights, as the PLQ
 * maps need d(output)/d(input pixels) through the whole network.
 *
 * Names mirror ops/ops_cpu.h. dy is the gradient at the op's output, dx the
 * one at its input. accumulate = 0 writes dx; accumulate = 1 adds into it
 * (a value read by several nodes, e.g. a residual, sums their gradients):
 * the result is then exactly dx_old + (what accumulate = 0 would write), one
 * float addition per element. The conv/gemm ops have a plain reference
 * (*_ref: loops from the definition, double accumulation, the oracle of the
 * tests) and a fast path (*_cpu: OpenMP threads, scratch). The CUDA launchers
 * take the same arguments plus a stream.
 *
 * Reproducibility: every *_cpu result is bitwise identical for any batch size
 * and thread count (work is cut by the layer shape only, each element is
 * summed in one fixed order, no atomics).
 *
 * Flatten / Reshape / Identity need no op: their gradient is the same buffer.
 * The element-wise ops (all but conv, gemm and gap) allow dx == dy (in
 * place). What the forward must keep for the backward: the conv/gemm weights;
 * the INPUT of PReLU/ReLU (or the pre-activation of a fused activation); both
 * operands of a binary MUL/DIV (only the other one for each gradient); the
 * input x of k / x; nothing else. */
#ifndef XFIQ_OPS_BWD_CPU_H
#define XFIQ_OPS_BWD_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"
#include "ops/ops_cpu.h"

/* dx (n, cin, ih, iw) from dy (n, cout, oh, ow) of a conv with weights w
 * (cout, cin/group, kh, kw): any stride, padding, dilation and group count,
 * depthwise included. Bias and fused activation play no part (apply
 * act_bwd_cpu to dy first). */
void conv2d_bwd_data_ref(const float *dy, const float *w, float *dx, const xfiq_conv_desc *d, int n, int accumulate);
/* Scratch bytes conv2d_bwd_data_cpu needs for num_threads threads (any n). */
size_t conv2d_bwd_data_cpu_workspace(const xfiq_conv_desc *d, int num_threads);
void conv2d_bwd_data_cpu(const float *dy, const float *w, float *dx, const xfiq_conv_desc *d, int n, int accumulate,
                         float *ws, int num_threads);
/* Optional weights packed once (at load, for a runner that runs backward):
 * the Winograd path's transformed filters, which otherwise are made on every
 * call, costing more than the arithmetic at batch 1. 0 bytes when the layer
 * has nothing to pack (then pass packed = NULL). Same bits with or without. */
size_t conv2d_bwd_data_cpu_pack_bytes(const xfiq_conv_desc *d);
/* Where a backend keeping both packs for one conv puts the backward one:
 * after the forward pack (ops_cpu.h), at the next 256 bytes. */
static inline size_t conv2d_cpu_prep_bwd_offset(const xfiq_conv_desc *d)
{
    return (conv2d_cpu_pack_bytes(d) + 255) & ~(size_t)255;
}
void conv2d_bwd_data_cpu_pack(const xfiq_conv_desc *d, const float *w, float *packed, int num_threads);
void conv2d_bwd_data_cpu_packed(const float *dy, const float *w, const float *packed, float *dx,
                                const xfiq_conv_desc *d, int n, int accumulate, float *ws, int num_threads);

/* Fully connected layer y(n, m) = x(n, k) . W(m, k)^T + b: dx(n, k) = dy(n, m) . W(m, k). */
void gemm_bwd_data_ref(const float *dy, const float *w, float *dx, int n, int k, int m, int accumulate);
void gemm_bwd_data_cpu(const float *dy, const float *w, float *dx, int n, int k, int m, int accumulate,
                       int num_threads);

/* Per-channel y = x*scale[c] + shift[c] (scale NULL = 1): dx = dy*scale[c]. */
void affine_bwd_cpu(const float *dy, const float *scale, float *dx, int n, int c, int64_t spatial, int accumulate,
                    int num_threads);
/* PReLU with slope[c] (slope[0] when per_channel == 0); x is the forward
 * INPUT. At x == 0 the slope branch is taken, as in the forward and PyTorch. */
void prelu_bwd_cpu(const float *dy, const float *x, const float *slope, int per_channel, float *dx, int n, int c,
                   int64_t spatial, int accumulate, int num_threads);
/* ReLU; x is the forward input or output (the same sign test). */
void relu_bwd_cpu(const float *dy, const float *x, float *dx, int64_t count, int accumulate, int num_threads);
/* Fused activation of a conv/gemm (XFIQ_ACT_*), x = its pre-activation
 * (n, c, spatial); slope as for prelu_bwd_cpu (read only for PRELU). */
void act_bwd_cpu(int act, const float *dy, const float *x, const float *slope, int per_channel, float *dx, int n,
                 int c, int64_t spatial, int accumulate, int num_threads);
/* y = a op b (XFIQ_BIN_*): da and/or db (either may be NULL), each with its
 * own accumulate flag. a is read only for MUL/DIV db, b only for MUL/DIV da.
 * da == db is allowed (y = x op x): da is written first, then db adds, so
 * pass acc_b = 1 for it. */
void binary_bwd_cpu(int op, const float *dy, const float *a, const float *b, float *da, float *db, int64_t count,
                    int acc_a, int acc_b, int num_threads);
/* y = x op k (or k op x when const_first), k of one sample's size: dx. x is
 * read only for k / x. */
void binconst_bwd_cpu(int op, int const_first, const float *dy, const float *x, const float *k, float *dx, int n,
                      int64_t per_sample, int accumulate, int num_threads);
/* GlobalAveragePool y(n, c) = mean of x(n, c, spatial): dx = dy / spatial
 * (dx must not overlap dy). */
void gap_bwd_cpu(const float *dy, float *dx, int n, int c, int64_t spatial, int accumulate, int num_threads);

/* ---- Shared by the conv_bwd*.c files, the tests and the benchmark. ---- */

typedef enum ops_bwd_path {
    OPS_BWD_DEPTHWISE = 0, /* group == cin == cout: direct scatter per plane */
    OPS_BWD_DIRECT1X1,     /* 1x1, stride 1, no pad: the GEMM result is dx itself */
    OPS_BWD_COL2IM,        /* everything else: GEMM into a column chunk, then col2im */
    OPS_BWD_WINOGRAD       /* 3x3 stride 1, pads <= 2 (AVX-512): the forward Winograd conv of dy, conv_winograd.c */
} ops_bwd_path;

/* How one layer's backward-data is cut into work items: (image, group,
 * input-channel range[, column tile (DIRECT1X1) or band of dx rows
 * (COL2IM)]). A function of the layer shape only. */
typedef struct ops_bwd_plan {
    int path, blas;          /* blas: OpenBLAS sgemm instead of the AVX-512 kernel */
    int cin_g, cout_g, khw;  /* khw = kh*kw */
    int64_t hw, plane;       /* oh*ow, ih*iw */
    int cc, nr;              /* input channels per range, ranges per group */
    int kc;                  /* GEMM rows per range: cc*khw */
    int ppr;                 /* micro-kernel panels per range: ceil(kc / OPS_MR) */
    int tq, nq;              /* GEMM column chunk width; chunks per image (DIRECT1X1: its column tiles) */
    int ph, phs, pws;        /* DEPTHWISE: padded plane height; phase sub-plane height, width */
    int iwp;                 /* COL2IM: row stride of the range's dx planes in the scratch */
    int rb, nb;              /* COL2IM: dx rows per band, bands per plane */
    size_t pack_bytes;       /* shared: W^T packed in panels (AVX-512) */
    size_t col_bytes;        /* per thread: one column chunk (kc x tq) / one dx row (DEPTHWISE) */
    size_t acc_bytes;        /* per thread: a band of the range's dx planes / the phased padded plane */
    size_t bpack_bytes;      /* per thread: dY chunk packed for the kernel (cout_g x tq) / dy on the grid */
    size_t thread_bytes;
} ops_bwd_plan;

/* engine: OPS_ENGINE_* of ops/ops_internal.h (DEFAULT, AVX512, BLAS; DIRECT
 * = AVX512 without the Winograd path). */
void ops_bwd_plan_make(ops_bwd_plan *p, const xfiq_conv_desc *d, int engine);
size_t ops_bwd_workspace(const xfiq_conv_desc *d, int num_threads, int engine);
/* conv2d_bwd_data_cpu with a chosen engine (tests, bench); ws: ops_bwd_workspace bytes. */
void ops_conv_bwd(const float *dy, const float *w, float *dx, const xfiq_conv_desc *d, int n, int accumulate,
                  float *ws, int num_threads, int engine);
/* The same with weights from conv2d_bwd_data_cpu_pack (or NULL). */
void ops_conv_bwd_packed(const float *dy, const float *w, const float *packed, float *dx, const xfiq_conv_desc *d,
                         int n, int accumulate, float *ws, int num_threads, int engine);
void ops_conv_bwd_depthwise(const ops_bwd_plan *p, const float *dy, const float *w, float *dx,
                            const xfiq_conv_desc *d, int n, int accumulate, char *ws, int num_threads);

#endif
