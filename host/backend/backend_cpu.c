/* backend_cpu.c - the CPU op table: thin adapters from (exec, graph, node) to
 * the ops of ops/ops_cpu.h. Always built; the reference for every other backend. */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/status.h"
#include "ops/ops_bwd_cpu.h"
#include "ops/ops_cpu.h"

#define IN0(ex, nd) xfiq_exec_value(ex, (nd)->in[0])
#define OUT(ex, nd) xfiq_exec_value(ex, (nd)->out)
#define P(ex, off) xfiq_exec_param(ex, off)

static int64_t spatial_of(const xfiq_graph *g, const xfiq_node *nd)
{
    return g->values[nd->in[0]].numel / (nd->channels > 0 ? nd->channels : 1);
}

static xfiq_status cpu_conv(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    const char *prep = ex->prepared ? (const char *)ex->prepared[nd - g->nodes] : NULL;
    const float *packed = prep && conv2d_cpu_pack_bytes(&nd->d.conv) ? (const float *)prep : NULL;
    conv2d_fwd_cpu_packed(IN0(ex, nd), P(ex, nd->w), packed, P(ex, nd->b), OUT(ex, nd), &nd->d.conv, ex->batch,
                          nd->act, P(ex, nd->slope), nd->slope_per_channel, ex->workspace, ex->num_threads);
    return XFIQ_OK;
}

/* Conv weights packed once for the kernels (otherwise repacked on every
 * call): the forward's, then, for a runner that also runs backward, the
 * backward-data's at conv2d_cpu_prep_bwd_offset. */
static size_t cpu_prepare_bytes(const xfiq_graph *g, const xfiq_node *nd, int with_bwd)
{
    (void)g;
    if (nd->op != XFIQ_OP_CONV)
        return 0;
    const size_t bb = with_bwd ? conv2d_bwd_data_cpu_pack_bytes(&nd->d.conv) : 0;
    return bb ? conv2d_cpu_prep_bwd_offset(&nd->d.conv) + bb : conv2d_cpu_pack_bytes(&nd->d.conv);
}

static xfiq_status cpu_prepare(void *ctx, const xfiq_graph *g, const xfiq_node *nd, const float *params, void *dst,
                               int with_bwd, int num_threads)
{
    (void)ctx, (void)g;
    conv2d_cpu_pack(&nd->d.conv, params + nd->w, dst, num_threads);
    if (with_bwd)
        conv2d_bwd_data_cpu_pack(&nd->d.conv, params + nd->w,
                                 (float *)((char *)dst + conv2d_cpu_prep_bwd_offset(&nd->d.conv)), num_threads);
    return XFIQ_OK;
}

static xfiq_status cpu_gemm(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    (void)g;
    gemm_fwd_cpu(IN0(ex, nd), P(ex, nd->w), P(ex, nd->b), OUT(ex, nd), ex->batch, nd->d.gemm.k, nd->d.gemm.m,
                 nd->act, P(ex, nd->slope), nd->slope_per_channel, ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status cpu_affine(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    affine_fwd_cpu(IN0(ex, nd), P(ex, nd->w), P(ex, nd->b), OUT(ex, nd), ex->batch, nd->channels,
                   spatial_of(g, nd), ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status cpu_prelu(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    prelu_fwd_cpu(IN0(ex, nd), P(ex, nd->slope), nd->slope_per_channel, OUT(ex, nd), ex->batch, nd->channels,
                  spatial_of(g, nd), ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status cpu_relu(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    relu_fwd_cpu(IN0(ex, nd), OUT(ex, nd), g->values[nd->in[0]].numel * ex->batch, ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status cpu_binary(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    binary_fwd_cpu(nd->bin, IN0(ex, nd), xfiq_exec_value(ex, nd->in[1]), OUT(ex, nd),
                   g->values[nd->in[0]].numel * ex->batch, ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status cpu_binconst(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    binconst_fwd_cpu(nd->bin, nd->const_first, IN0(ex, nd), P(ex, nd->w), OUT(ex, nd), ex->batch,
                     g->values[nd->in[0]].numel, ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status cpu_gap(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    const xfiq_value *x = &g->values[nd->in[0]];
    gap_fwd_cpu(IN0(ex, nd), OUT(ex, nd), ex->batch, (int)x->dims[1], x->numel / x->dims[1], ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status cpu_view(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    (void)ex, (void)g, (void)nd; /* shares its input's storage: nothing to do */
    return XFIQ_OK;
}

static xfiq_status cpu_concat(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int64_t outer, na, nb;
    xfiq_concat_geometry(&g->values[nd->in[0]], &g->values[nd->in[1]], nd->d.lay.axis, ex->batch, &outer, &na, &nb);
    concat_fwd_cpu(IN0(ex, nd), xfiq_exec_value(ex, nd->in[1]), OUT(ex, nd), outer, na, nb, ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status cpu_transpose(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    const xfiq_value *x = &g->values[nd->in[0]];
    transpose_fwd_cpu(IN0(ex, nd), OUT(ex, nd), ex->batch, x->ndim, x->dims, nd->d.lay.perm, ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status cpu_slice(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    const xfiq_value *x = &g->values[nd->in[0]], *y = &g->values[nd->out];
    slice_fwd_cpu(IN0(ex, nd), OUT(ex, nd), ex->batch, x->ndim, x->dims, nd->d.lay.start, nd->d.lay.step, y->dims,
                  ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status cpu_softmax(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int64_t outer, len, inner;
    xfiq_softmax_geometry(&g->values[nd->in[0]], &nd->d.lay, ex->batch, &outer, &len, &inner);
    softmax_fwd_cpu(IN0(ex, nd), OUT(ex, nd), outer, len, inner, ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status cpu_unary(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    unary_fwd_cpu(nd->d.lay.unary, IN0(ex, nd), OUT(ex, nd), g->values[nd->in[0]].numel * ex->batch,
                  ex->num_threads);
    return XFIQ_OK;
}

static int cpu_supports_op(xfiq_op op) { return (unsigned)op < XFIQ_OP_COUNT; }

static size_t cpu_workspace_bytes(void *ctx, const xfiq_graph *g, const xfiq_node *nd, int batch, int num_threads)
{
    (void)ctx;
    (void)g, (void)batch;
    if (nd->op != XFIQ_OP_CONV)
        return 0;
    size_t f = conv2d_fwd_cpu_workspace(&nd->d.conv, num_threads);
    size_t b = conv2d_bwd_data_cpu_workspace(&nd->d.conv, num_threads);
    return f > b ? f : b;
}

/* The CPU context is its thread count (the quality stages need it). */
static xfiq_status cpu_init(void **ctx, const xfiq_backend_opts *o)
{
    *ctx = NULL;
    if (o->precision != XFIQ_PRECISION_FP32)
        return xfiq_error(XFIQ_ERR_ARG, "the CPU backend computes in fp32 only (asked for %s)",
                          xfiq_precision_name(o->precision));
    int *threads = malloc(sizeof *threads);
    if (!threads)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    *threads = o->num_threads;
    *ctx = threads;
    return XFIQ_OK;
}

static void cpu_destroy(void *ctx) { free(ctx); }

static xfiq_status cpu_zero(void *ctx, void *dst, size_t bytes)
{
    (void)ctx;
    memset(dst, 0, bytes);
    return XFIQ_OK;
}

static xfiq_status cpu_alloc(void *ctx, size_t bytes, void **out)
{
    (void)ctx;
    *out = aligned_alloc(256, (bytes + 255) & ~(size_t)255);
    return *out ? XFIQ_OK : xfiq_error(XFIQ_ERR_NOMEM, "cannot allocate %zu bytes", bytes);
}

static void cpu_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static xfiq_status cpu_copy(void *ctx, void *dst, const void *src, size_t bytes)
{
    (void)ctx;
    if (dst != src)
        memcpy(dst, src, bytes);
    return XFIQ_OK;
}

static xfiq_status cpu_sync(void *ctx)
{
    (void)ctx;
    return XFIQ_OK;
}

static void *cpu_stream(void *ctx)
{
    (void)ctx;
    return NULL;
}

static xfiq_status cpu_score_pairs(void *ctx, const float *z, int64_t n, int dim, const double *mag,
                                   const int64_t *idx_a, const int64_t *idx_b, int64_t n_pairs,
                                   const xfiq_qmag_params *p, double *cos_out, double *q_out, double *qmag_out)
{
    (void)ctx;
    return xfiq_score_pairs(z, n, dim, mag, idx_a, idx_b, n_pairs, p, cos_out, q_out, qmag_out);
}

static const xfiq_backend_ops cpu_ops = {
    .name = "cpu",
    .kind = XFIQ_BACKEND_CPU,
    .supports_op = cpu_supports_op,
    .fwd = {[XFIQ_OP_CONV] = cpu_conv,
            [XFIQ_OP_AFFINE] = cpu_affine,
            [XFIQ_OP_PRELU] = cpu_prelu,
            [XFIQ_OP_RELU] = cpu_relu,
            [XFIQ_OP_BINARY] = cpu_binary,
            [XFIQ_OP_BINCONST] = cpu_binconst,
            [XFIQ_OP_GEMM] = cpu_gemm,
            [XFIQ_OP_GAP] = cpu_gap,
            [XFIQ_OP_VIEW] = cpu_view,
            [XFIQ_OP_CONCAT] = cpu_concat,
            [XFIQ_OP_TRANSPOSE] = cpu_transpose,
            [XFIQ_OP_SLICE] = cpu_slice,
            [XFIQ_OP_SOFTMAX] = cpu_softmax,
            [XFIQ_OP_UNARY] = cpu_unary},
    .bwd = xfiq_cpu_bwd,
    .prepare_bytes = cpu_prepare_bytes,
    .prepare = cpu_prepare,
    .workspace_bytes = cpu_workspace_bytes,
    .init = cpu_init,
    .destroy = cpu_destroy,
    .mem_alloc = cpu_alloc,
    .mem_free = cpu_free,
    .upload = cpu_copy,
    .download = cpu_copy,
    .sync = cpu_sync,
    .stream = cpu_stream,
    .mem_zero = cpu_zero,
    .input_u8 = xfiq_cpu_input_u8,
    .heads_input = xfiq_cpu_heads_input,
    .serfiq_quality = xfiq_cpu_serfiq_quality,
    .plq_seed = xfiq_cpu_plq_seed,
    .plq_map = xfiq_cpu_plq_map,
    .score_pairs = cpu_score_pairs,
    .chunk = 64,
    .plq_chunk = 16,
};

const xfiq_backend_ops *xfiq_backend_cpu_ops(void) { return &cpu_ops; }
