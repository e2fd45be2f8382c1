/* backend.h - the op table every backend fills in. The CPU table is always
 * built (backend/backend_cpu.c); the CUDA table (cuda/backend_cuda.cu) mirrors
 * it op for op with the same node descriptors, memory plan and per-element
 * formulas (ops/elem.h). The engine only ever calls through this table. */
#ifndef XFIQ_BACKEND_H
#define XFIQ_BACKEND_H

#include <stddef.h>

#include "graph/graph.h"
#include "quality/serfiq.h"
#include "xfiq.h"
#include "xfiq_eval.h"

/* What one forward/backward call sees. All pointers are backend memory
 * (host for CPU, device for CUDA). */
typedef struct xfiq_exec {
    char *arena;                 /* one planned block for all activations */
    const size_t *offsets;       /* byte offset of each value's storage, per value id */
    const float *params;         /* graph->params (or its device copy) */
    float *workspace;            /* scratch shared by all nodes, workspace_bytes() big */
    size_t workspace_bytes;
    int batch;                   /* images in this call (<= planned batch) */
    int num_threads;             /* CPU threads */
    void *stream;                /* cudaStream_t for CUDA, NULL for CPU */
    void *const *prepared;       /* per node index: data the backend prepared at load (NULL: none) */
    /* Backward-data only: gradient buffers (same aliasing as the values:
     * indexed by value id, views share their input's), and per storage
     * whether it already holds a contribution (then ops accumulate). */
    char *grad_arena;
    const size_t *grad_offsets;
    unsigned char *grad_written;
} xfiq_exec;

static inline float *xfiq_exec_value(const xfiq_exec *ex, int value_id)
{
    return (float *)(ex->arena + ex->offsets[value_id]);
}

static inline float *xfiq_exec_grad(const xfiq_exec *ex, int value_id)
{
    return (float *)(ex->grad_arena + ex->grad_offsets[value_id]);
}

static inline const float *xfiq_exec_param(const xfiq_exec *ex, int64_t off)
{
    return off < 0 ? (const float *)0 : ex->params + off;
}

typedef xfiq_status (*xfiq_node_fn)(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd);

typedef struct xfiq_backend_ops {
    const char *name;
    xfiq_backend_kind kind;
    /* The backend runs op forward. A runner that will also run backward
     * (retain_all) checks bwd[op] as well (host/engine/runner.c). */
    int (*supports_op)(xfiq_op op);
    xfiq_node_fn fwd[XFIQ_OP_COUNT];
    /* Backward-data: gradients of the node's inputs from the gradient of its
     * output (no weight gradients). Unfused graphs only (act == NONE). */
    const xfiq_node_fn *bwd;     /* XFIQ_OP_COUNT entries; NULL: no backward on this backend */
    /* Optional, once per node at load: bytes of backend memory to prepare
     * (e.g. weights packed for the kernel; 0 = nothing), and filling them;
     * with_bwd: the runner also runs the backward pass (its data too). */
    size_t (*prepare_bytes)(const xfiq_graph *g, const xfiq_node *nd, int with_bwd);
    xfiq_status (*prepare)(void *ctx, const xfiq_graph *g, const xfiq_node *nd, const float *params, void *dst,
                           int with_bwd, int num_threads);
    /* Scratch one node needs at this batch and thread count, forward or backward (bytes). */
    size_t (*workspace_bytes)(void *ctx, const xfiq_graph *g, const xfiq_node *nd, int batch, int num_threads);
    /* o: the caller's options, num_threads already resolved (> 0). */
    xfiq_status (*init)(void **ctx, const xfiq_backend_opts *o);
    void (*destroy)(void *ctx);
    xfiq_status (*mem_alloc)(void *ctx, size_t bytes, void **out);
    void (*mem_free)(void *ctx, void *p);
    xfiq_status (*upload)(void *ctx, void *dst, const void *src, size_t bytes);
    xfiq_status (*download)(void *ctx, void *dst, const void *src, size_t bytes);
    xfiq_status (*sync)(void *ctx);
    void *(*stream)(void *ctx);
    xfiq_status (*mem_zero)(void *ctx, void *dst, size_t bytes);
    /* Model input from n host images of h x w interleaved 8-bit RGB: dst
     * (n, C, h, w) in backend memory = xfiq_preprocess per the card's order
     * (xfiq_channel_order), mean and scale (C = 1 for GREY, else 3). CUDA
     * copies through pinned staging and converts on the device. */
    xfiq_status (*input_u8)(void *ctx, const uint8_t *pixels, int n, int h, int w, int order, const float mean[3],
                            const float scale[3], float *dst);
    /* The quality stages, on backend memory: the batched forms of
     * host/quality/'s serfiq_heads_input, serfiq_quality (+ magnitude and
     * sum(e) of z), plq_regression_seed and the PLQ map (see cuda/ops_cuda.h
     * for the exact contracts; the CPU forms are backend_cpu_quality.c).
     * work: serfiq_work_floats(B, T, D) floats. ids: B image ids. */
    xfiq_status (*heads_input)(void *ctx, const serfiq_dropout *cfg, const uint64_t *ids, const float *x, int B,
                               int T, float *out);
    xfiq_status (*serfiq_quality)(void *ctx, const float *emb, const float *z, int B, int T, int D, double alpha,
                                  double r, double *work, serfiq_image_result *res);
    xfiq_status (*plq_seed)(void *ctx, int mode, const float *z, int B, int D, serfiq_image_result *res,
                            float *seed);
    xfiq_status (*plq_map)(void *ctx, const float *gx, int B, int C, int H, int W, int order, const float scale[3],
                           float a, float b, const uint8_t *mask, float *maps, float *grad_mag,
                           serfiq_image_result *res);
    /* Pair scores (host arrays in and out, as xfiq_score_pairs with the
     * magnitudes given, indices and zero rows already checked): the CPU's is
     * xfiq_score_pairs, CUDA's scores on the device. */
    xfiq_status (*score_pairs)(void *ctx, const float *z, int64_t n, int dim, const double *mag,
                               const int64_t *idx_a, const int64_t *idx_b, int64_t n_pairs,
                               const xfiq_qmag_params *p, double *cos_out, double *q_out, double *qmag_out);
    /* Images per chunk of the engine's forward (embed, SER-FIQ) and PLQ passes. */
    int chunk, plq_chunk;
} xfiq_backend_ops;

/* Doubles of the work buffer the serfiq_quality stage needs. */
static inline size_t serfiq_work_doubles(int B, int T, int D)
{
    size_t dev = (size_t)2 * B * T, cpu = (size_t)T * D + T;
    return dev > cpu ? dev : cpu;
}

struct xfiq_backend {
    const xfiq_backend_ops *ops;
    void *ctx;
    int num_threads;
};

const xfiq_backend_ops *xfiq_backend_cpu_ops(void);
/* CONCAT node geometry for a run of batch images: a, b and y as (outer, na / nb / na + nb). */
void xfiq_concat_geometry(const xfiq_value *a, const xfiq_value *b, int axis, int batch, int64_t *outer,
                          int64_t *na, int64_t *nb);
/* SOFTMAX node geometry for a run of batch images: x as (outer, len, inner). */
void xfiq_softmax_geometry(const xfiq_value *x, const xfiq_layout_desc *L, int batch, int64_t *outer, int64_t *len,
                           int64_t *inner);
extern const xfiq_node_fn xfiq_cpu_bwd[XFIQ_OP_COUNT]; /* backend/backend_cpu_bwd.c */
/* backend/backend_cpu_quality.c: the CPU quality stages and model input
 * (ctx: the CPU context, whose first member is the thread count). */
xfiq_status xfiq_cpu_input_u8(void *ctx, const uint8_t *pixels, int n, int h, int w, int order, const float mean[3],
                              const float scale[3], float *dst);
xfiq_status xfiq_cpu_heads_input(void *ctx, const serfiq_dropout *cfg, const uint64_t *ids, const float *x, int B,
                                 int T, float *out);
xfiq_status xfiq_cpu_serfiq_quality(void *ctx, const float *emb, const float *z, int B, int T, int D, double alpha,
                                    double r, double *work, serfiq_image_result *res);
xfiq_status xfiq_cpu_plq_seed(void *ctx, int mode, const float *z, int B, int D, serfiq_image_result *res,
                              float *seed);
xfiq_status xfiq_cpu_plq_map(void *ctx, const float *gx, int B, int C, int H, int W, int order, const float scale[3],
                             float a, float b, const uint8_t *mask, float *maps, float *grad_mag,
                             serfiq_image_result *res);
#ifdef XFIQ_HAVE_CUDA
/* cuda/backend_cuda.cu */
const xfiq_backend_ops *xfiq_backend_cuda_ops(void);
int xfiq_cuda_device_count(void);
#endif

#endif
