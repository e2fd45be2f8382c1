/* ops_cuda.h - the CUDA launchers, plain C declarations (usable from C and
 * C++). Each launcher takes the arguments of its CPU counterpart in
 * host/ops/ops_cpu.h, in the same order, without num_threads and with a
 * trailing cudaStream_t; pointers are device memory, layouts NCHW float32,
 * and the per-element formulas are those of host/ops/elem.h. Launchers only
 * enqueue work on the stream and return XFIQ_ERR_BACKEND (with the failing
 * call in xfiq_last_error()) when a launch or a library call fails.
 * Internal to the library: the public API (include/xfiq.h) has no CUDA types. */
#ifndef XFIQ_CUDA_OPS_CUDA_H
#define XFIQ_CUDA_OPS_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "graph/graph.h"
#include "quality/serfiq.h"
#include "xfiq.h"
#include "xfiq_eval.h"

/* ------------------------------------------------------------- streams */
/* conv/gemm find their cuBLAS/cuDNN handle by stream: the backend attaches
 * its stream once (creating the handle, bound to that stream, and an empty
 * plan cache) and detaches it before destroying the stream. A launcher on a
 * stream that was never attached fails with a message saying so. */
xfiq_status xfiq_cublas_attach(cudaStream_t stream);
void xfiq_cublas_detach(cudaStream_t stream);
xfiq_status xfiq_cudnn_attach(cudaStream_t stream);
void xfiq_cudnn_detach(cudaStream_t stream);
/* Number of cuDNN execution plans cached for this stream (-1 if not attached). */
int xfiq_cudnn_plan_count(cudaStream_t stream);

/* Largest power of two <= 16 dividing the address: the byte alignment told to
 * cuDNN for a tensor at p (device buffers from the planner give 16). */
int xfiq_cuda_align(const void *p);

/* ---------------------------------------------------------------- conv */
/* Conv2d + bias + fused activation (cuDNN graph API, cudnn_conv.cu). ws is
 * scratch of ws_bytes bytes; where the CPU path sizes its scratch by a
 * formula, cuDNN's engine choice decides it, so the launcher takes the budget
 * in place of num_threads and picks the best engine that fits in it. x and y
 * must be float-aligned; their actual alignment (xfiq_cuda_align) is part of
 * the plan. One execution plan per (shape, batch, activation, alignments) is
 * built at first use and cached on the stream. */
xfiq_status conv2d_fwd_cuda(const float *x, const float *w, const float *b, float *y,
                            const xfiq_conv_desc *d, int n, int act, const float *slope,
                            int slope_per_channel, float *ws, size_t ws_bytes, cudaStream_t stream);
/* Workspace conv2d_fwd_cuda will use on this stream for batch n when given
 * a large enough budget, assuming 16-byte aligned x/y and params aligned to
 * param_align bytes: the plan for the stream's device and precision (bf16 /
 * fp16 include the staging copies). Nothing runs on the stream. */
xfiq_status conv2d_fwd_cuda_workspace(const xfiq_conv_desc *d, int n, int act, int has_bias,
                                      int param_align, size_t *bytes, cudaStream_t stream);

/* Builds and finalizes the descriptors of the conv's cuDNN graph (tensors,
 * convolution, the conv operation and, with fused != 0, the bias/ReLU
 * pointwise operations), stopping before the operation graph, which needs a
 * device. Lets the tests check the description where there is no GPU. */
xfiq_status xfiq_cudnn_conv_describe(const xfiq_conv_desc *d, int n, int act, int has_bias, int fused);

/* Backward-data of the convolution (cuDNN graph CONVOLUTION_BACKWARD_DATA):
 * dx (n, cin, ih, iw) = conv_transpose(dy (n, cout, oh, ow), w); with
 * accumulate != 0, dx += that instead. The CPU counterpart is
 * conv2d_bwd_data_cpu (host/ops/ops_bwd_cpu.h); ws/ws_bytes as for
 * conv2d_fwd_cuda. Plans are cached on the stream like the forward ones. */
xfiq_status conv2d_bwd_data_cuda(const float *dy, const float *w, float *dx, const xfiq_conv_desc *d,
                                 int n, int accumulate, float *ws, size_t ws_bytes, cudaStream_t stream);
xfiq_status conv2d_bwd_data_cuda_workspace(const xfiq_conv_desc *d, int n, int param_align,
                                           size_t *bytes, cudaStream_t stream);

/* Arithmetic of the stream's cuDNN / cuBLAS work (xfiq_precision of
 * include/xfiq.h; FP32, the default, admits no tensor-core engine). */
xfiq_status xfiq_cudnn_set_precision(cudaStream_t stream, int precision);
xfiq_status xfiq_cublas_set_precision(cudaStream_t stream, int precision);

/* ---------------------------------------------------------------- gemm */
/* y(n, m) = x(n, k) . w(m, k)^T + b(m), then the fused activation (cuBLAS). */
xfiq_status gemm_fwd_cuda(const float *x, const float *w, const float *b, float *y, int n, int k,
                          int m, int act, const float *slope, int slope_per_channel,
                          cudaStream_t stream);

/* --------------------------------------------------------- element-wise */
xfiq_status affine_fwd_cuda(const float *x, const float *scale, const float *shift, float *y,
                            int n, int c, int64_t spatial, cudaStream_t stream);
xfiq_status prelu_fwd_cuda(const float *x, const float *slope, int per_channel, float *y,
                           int n, int c, int64_t spatial, cudaStream_t stream);
xfiq_status relu_fwd_cuda(const float *x, float *y, int64_t count, cudaStream_t stream);
xfiq_status binary_fwd_cuda(int op, const float *a, const float *b, float *y, int64_t count,
                            cudaStream_t stream);
xfiq_status binconst_fwd_cuda(int op, int const_first, const float *x, const float *k, float *y,
                              int n, int64_t per_sample, cudaStream_t stream);
xfiq_status gap_fwd_cuda(const float *x, float *y, int n, int c, int64_t spatial,
                         cudaStream_t stream);
/* bf16 / fp16 staging of the reduced-precision convolutions (kind 0
 * bfloat16, 1 float16; ops/elem_half.h): h = round(x); y = widen(h), or
 * y += widen(h) when accumulating. */
xfiq_status half_from_f32_cuda(const float *x, uint16_t *h, int64_t count, int kind, cudaStream_t stream);
xfiq_status half_to_f32_cuda(const uint16_t *h, float *y, int64_t count, int kind, int accumulate,
                             cudaStream_t stream);
/* The conv/gemm epilogue when the library did not fuse it: in place,
 * y(n, c, spatial) = act(y + b[c]) with slope[c] (or slope[0]); b may be NULL. */
xfiq_status bias_act_fwd_cuda(float *y, const float *b, int act, const float *slope,
                              int slope_per_channel, int n, int c, int64_t spatial,
                              cudaStream_t stream);
/* Model input: pixels are n images of h x w interleaved 8-bit RGB (as
 * xfiq_model_embed takes them, device memory); y (n, C, h, w) gets
 * xfiq_preprocess(p, mean[c], scale[c]) with the channels in the model's
 * order (RGB or BGR, C = 3; GREY: C = 1 from the BT.601 luma, as the CPU
 * path). mean/scale are host arrays. */
xfiq_status input_preprocess_cuda(const uint8_t *pixels, float *y, int n, int h, int w,
                                  xfiq_channel_order order, const float mean[3],
                                  const float scale[3], cudaStream_t stream);

/* ------------------------------------------------------- layout ops */
/* The detector's ops (ops_layout.cu), forward only. dims, perm, start, step
 * and the *dims arrays are host arrays, as on the CPU; the launcher folds
 * them into the geometry of ops/elem_layout.h. Layout ops copy values, so
 * they agree with the CPU bit for bit; Exp and Softmax use the device's
 * expf (CUDA documents 2 ulp), Softmax sums in double on one thread per
 * group, in the CPU's order. */
xfiq_status concat_fwd_cuda(const float *a, const float *b, float *y, int64_t outer, int64_t na, int64_t nb,
                            cudaStream_t stream);
xfiq_status transpose_fwd_cuda(const float *x, float *y, int n, int ndim, const int64_t *dims, const int *perm,
                               cudaStream_t stream);
xfiq_status slice_fwd_cuda(const float *x, float *y, int n, int ndim, const int64_t *xdims, const int64_t *start,
                           const int64_t *step, const int64_t *ydims, cudaStream_t stream);
xfiq_status softmax_fwd_cuda(const float *x, float *y, int64_t outer, int64_t len, int64_t inner,
                             cudaStream_t stream);
xfiq_status unary_fwd_cuda(int op, const float *x, float *y, int64_t count, cudaStream_t stream);

/* ------------------------------------------------------ backward-data */
/* The backward-data launchers of host/ops/ops_bwd_cpu.h (same arguments,
 * minus num_threads, plus the stream); accumulate != 0 adds into dx. */
xfiq_status affine_bwd_cuda(const float *dy, const float *scale, float *dx, int n, int c, int64_t spatial,
                            int accumulate, cudaStream_t stream);
xfiq_status prelu_bwd_cuda(const float *dy, const float *x, const float *slope, int per_channel, float *dx,
                           int n, int c, int64_t spatial, int accumulate, cudaStream_t stream);
xfiq_status relu_bwd_cuda(const float *dy, const float *x, float *dx, int64_t count, int accumulate,
                          cudaStream_t stream);
xfiq_status binary_bwd_cuda(int op, const float *dy, const float *a, const float *b, float *da, float *db,
                            int64_t count, int acc_a, int acc_b, cudaStream_t stream);
xfiq_status binconst_bwd_cuda(int op, int const_first, const float *dy, const float *x, const float *k,
                              float *dx, int n, int64_t per_sample, int accumulate, cudaStream_t stream);
xfiq_status gap_bwd_cuda(const float *dy, float *dx, int n, int c, int64_t spatial, int accumulate,
                         cudaStream_t stream);
/* dx(n, k) (+)= dy(n, m) . w(m, k) (cuBLAS; gemm_bwd_data_cpu). */
xfiq_status gemm_bwd_data_cuda(const float *dy, const float *w, float *dx, int n, int k, int m, int accumulate,
                               cudaStream_t stream);

/* ------------------------------------------------- SER-FIQ, PLQ, scores */
/* The batched quality stages of host/quality/ (serfiq.h, plq_regress.h,
 * plq_map.h; their CPU forms are in host/backend/backend_cpu_quality.c).
 * Every pointer is device memory. */
/* serfiq_heads_input: out (B*T, dim) = x (B, dim) times the Philox masks of
 * (cfg->seed, image_ids[b], t): bit-identical to the CPU's. */
xfiq_status serfiq_heads_input_cuda(const serfiq_dropout *cfg, const uint64_t *image_ids, const float *x, int B,
                                    int T, float *out, cudaStream_t stream);
/* Per image b: SER-FIQ of rows b*T .. b*T+T-1 of emb (B*T, D), and the
 * magnitude and sum(e) of its deterministic embedding z (B, D). work: B*T*2
 * doubles. A non-finite embedding gives NaN in res[b].q. */
xfiq_status serfiq_quality_batch_cuda(const float *emb, const float *z, int B, int T, int D, double alpha,
                                      double r, double *work, serfiq_image_result *res, cudaStream_t stream);
/* Per image b: seed (B, D) of the PLQ regression (mode: plq_mode) for the
 * quality res[b].q from z (B, D); res[b].plq_denom gets its denominator.
 * No direction (zero or non-finite z, zero denominator): zero seed and
 * plq_denom = 0. */
xfiq_status plq_seed_batch_cuda(int mode, const float *z, int B, int D, serfiq_image_result *res, float *seed,
                                cudaStream_t stream);
/* PLQ maps from the model-input gradient gx (B, C, H, W): per pixel m =
 * mean |dQ/dpixel| over RGB (the card's order and scale in the chain rule)
 * and P = a m^b / (1 + a m^b); maps / grad_mag (B, H, W) (either may be
 * NULL), and res[b].mean_plq = mean of P where mask (H, W) != 0. */
xfiq_status plq_map_batch_cuda(const float *gx, int B, int C, int H, int W, int order, const float scale[3],
                               float a, float b, const uint8_t *mask, float *maps, float *grad_mag,
                               serfiq_image_result *res, cudaStream_t stream);

/* Magnitudes and QMagFace scores (host/eval/score.c's xfiq_embeddings_magnitudes,
 * xfiq_score_pairs, xfiq_score_block), device memory throughout.
 * mag (n) = ||z_i|| in double. */
xfiq_status magnitudes_cuda(const float *z, int64_t n, int dim, double *mag, cudaStream_t stream);
/* Pair i: cos = z_a . z_b / (|z_a| |z_b|) (mag from magnitudes_cuda; rows
 * must be non-zero), q = min magnitude, QMagFace score when p and qmag_out. */
xfiq_status score_pairs_cuda(const float *z, int dim, const double *mag, const int64_t *idx_a,
                             const int64_t *idx_b, int64_t n_pairs, const xfiq_qmag_params *p,
                             double *cos_out, double *q_out, double *qmag_out, cudaStream_t stream);
/* out (n_gallery, n_probe) = cosines of the normalised rows (one cuBLAS
 * product), QMagFace scores when p != NULL; work: score_block_cuda_work_floats. */
xfiq_status score_block_cuda(const float *gallery, int64_t n_gallery, const float *probe, int64_t n_probe,
                             int dim, const xfiq_qmag_params *p, float *work, float *out, cudaStream_t stream);
size_t score_block_cuda_work_floats(int64_t n_gallery, int64_t n_probe, int dim);
/* Adds the scores to per-bin counts of genuine (label != 0) and impostor
 * pairs over [lo, hi) in `bins` equal bins (values outside go to the end
 * bins): the ROC of a block that never leaves the device. */
xfiq_status score_histogram_cuda(const float *scores, const uint8_t *labels, int64_t count, double lo, double hi,
                                 int bins, unsigned long long *genuine, unsigned long long *impostor,
                                 cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
