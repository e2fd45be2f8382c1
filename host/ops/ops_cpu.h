/* ops_cpu.h - the CPU ops, in NCHW float32. Each op has a plain reference
 * (*_ref: loops straight from the definition, used as the oracle in tests)
 * and a fast path (*_cpu: OpenMP threads + OpenBLAS, with the same arguments
 * plus scratch/threads). The CUDA launchers (cuda/ops_cuda.h) take the same
 * arguments plus a stream. Per-element formulas come from ops/elem.h.
 * Shapes: n = batch; x (n, cin, ih, iw); y (n, cout, oh, ow). */
#ifndef XFIQ_OPS_CPU_H
#define XFIQ_OPS_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"

/* Conv2d with bias b (cout, may be NULL) and a fused activation act
 * (XFIQ_ACT_*; slope (cout) for PRELU, slope_per_channel = 0 means slope[0]
 * for all). w (cout, cin/group, kh, kw). */
void conv2d_fwd_ref(const float *x, const float *w, const float *b, float *y,
                    const xfiq_conv_desc *d, int n, int act, const float *slope, int slope_per_channel);
/* Scratch bytes conv2d_fwd_cpu needs for num_threads threads (any n). */
size_t conv2d_fwd_cpu_workspace(const xfiq_conv_desc *d, int num_threads);
void conv2d_fwd_cpu(const float *x, const float *w, const float *b, float *y,
                    const xfiq_conv_desc *d, int n, int act, const float *slope, int slope_per_channel,
                    float *ws, int num_threads);

/* Optional weights packed once (at model load) for the fast conv, which
 * otherwise packs them into its workspace on every call: that costs as much
 * as the arithmetic for deep layers at batch 1, and about three times as
 * much for the Winograd path (its filter transform: 0.9 ms for 256 > 256
 * channels). conv2d_cpu_pack_bytes is 0 when the layer has nothing to pack
 * (then pass packed = NULL). Results are bitwise the same with or without. */
size_t conv2d_cpu_pack_bytes(const xfiq_conv_desc *d);
void conv2d_cpu_pack(const xfiq_conv_desc *d, const float *w, float *packed, int num_threads);
void conv2d_fwd_cpu_packed(const float *x, const float *w, const float *packed, const float *b, float *y,
                           const xfiq_conv_desc *d, int n, int act, const float *slope, int slope_per_channel,
                           float *ws, int num_threads);

/* y(n, m) = x(n, k) . w(m, k)^T + b(m), then the fused activation (slope per m). */
void gemm_fwd_ref(const float *x, const float *w, const float *b, float *y, int n, int k, int m,
                  int act, const float *slope, int slope_per_channel);
void gemm_fwd_cpu(const float *x, const float *w, const float *b, float *y, int n, int k, int m,
                  int act, const float *slope, int slope_per_channel, int num_threads);

/* Per-channel y = x*scale[c] + shift[c]; x, y (n, c, spatial); in place allowed. */
void affine_fwd_cpu(const float *x, const float *scale, const float *shift, float *y,
                    int n, int c, int64_t spatial, int num_threads);
/* PReLU with slope[c] (or slope[0] when per_channel == 0); in place allowed. */
void prelu_fwd_cpu(const float *x, const float *slope, int per_channel, float *y,
                   int n, int c, int64_t spatial, int num_threads);
void relu_fwd_cpu(const float *x, float *y, int64_t count, int num_threads);
/* y = a op b, element-wise over count elements (XFIQ_BIN_*). */
void binary_fwd_cpu(int op, const float *a, const float *b, float *y, int64_t count, int num_threads);
/* y = x op k (or k op x when const_first) with k of one sample's size. */
void binconst_fwd_cpu(int op, int const_first, const float *x, const float *k, float *y,
                      int n, int64_t per_sample, int num_threads);
/* GlobalAveragePool: y(n, c) = mean over spatial of x(n, c, spatial). */
void gap_fwd_cpu(const float *x, float *y, int n, int c, int64_t spatial, int num_threads);

/* Layout ops (the detector's), all with dims of one sample in dims[1..ndim-1]
 * (dims[0] is ignored: n is the batch), ndim <= XFIQ_MAX_DIMS.
 * Concat: y(outer, na + nb) from a(outer, na) and b(outer, nb), outer = n *
 * the dims before the axis, na / nb = each input's dims from the axis on. */
void concat_fwd_ref(const float *a, const float *b, float *y, int64_t outer, int64_t na, int64_t nb);
void concat_fwd_cpu(const float *a, const float *b, float *y, int64_t outer, int64_t na, int64_t nb,
                    int num_threads);
/* y = x with its axes permuted: y.dims[i] = x.dims[perm[i]], perm[0] = 0. */
void transpose_fwd_ref(const float *x, float *y, int n, int ndim, const int64_t *dims, const int *perm);
void transpose_fwd_cpu(const float *x, float *y, int n, int ndim, const int64_t *dims, const int *perm,
                       int num_threads);
/* y[i] = x[start + i * step] per axis (steps >= 1); ydims: the output's dims. */
void slice_fwd_ref(const float *x, float *y, int n, int ndim, const int64_t *xdims, const int64_t *start,
                   const int64_t *step, const int64_t *ydims);
void slice_fwd_cpu(const float *x, float *y, int n, int ndim, const int64_t *xdims, const int64_t *start,
                   const int64_t *step, const int64_t *ydims, int num_threads);
/* Softmax over len elements of stride inner, for outer x inner groups:
 * x viewed as (outer, len, inner). Max-subtracted, sums in double. */
void softmax_fwd_ref(const float *x, float *y, int64_t outer, int64_t len, int64_t inner);
void softmax_fwd_cpu(const float *x, float *y, int64_t outer, int64_t len, int64_t inner, int num_threads);
/* y = f(x) element-wise, f = XFIQ_UN_* (ops/elem.h); in place allowed. */
void unary_fwd_ref(int op, const float *x, float *y, int64_t count);
void unary_fwd_cpu(int op, const float *x, float *y, int64_t count, int num_threads);

#endif
