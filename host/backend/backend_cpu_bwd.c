/* backend_cpu_bwd.c - the CPU backward-data table: adapters from (exec,
 * graph, node) to ops/ops_bwd_cpu.h. Each input's gradient is written by its
 * first contribution and accumulated by later ones (residual branches). */
#include "backend/backend.h"
#include "core/status.h"
#include "ops/elem.h"
#include "ops/ops_bwd_cpu.h"

/* Gradient target of input k of nd and whether it must accumulate; marks it written. */
static float *grad_in(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd, int k, int *acc)
{
    int s = g->values[nd->in[k]].storage;
    *acc = ex->grad_written[s];
    ex->grad_written[s] = 1;
    return xfiq_exec_grad(ex, nd->in[k]);
}

#define DY(ex, nd) xfiq_exec_grad(ex, (nd)->out)
#define X0(ex, nd) xfiq_exec_value(ex, (nd)->in[0])
#define P(ex, off) xfiq_exec_param(ex, off)

static int64_t spatial_of(const xfiq_graph *g, const xfiq_node *nd)
{
    return g->values[nd->in[0]].numel / (nd->channels > 0 ? nd->channels : 1);
}

static xfiq_status need_unfused(const xfiq_node *nd)
{
    return nd->act == XFIQ_ACT_NONE ? XFIQ_OK
                                    : xfiq_error(XFIQ_ERR_INTERNAL, "backward of node '%s' with a fused activation",
                                                 nd->name);
}

static xfiq_status bwd_conv(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int acc;
    XFIQ_TRY(need_unfused(nd));
    float *dx = grad_in(ex, g, nd, 0, &acc);
    const char *prep = ex->prepared ? (const char *)ex->prepared[nd - g->nodes] : NULL;
    const float *packed = prep && conv2d_bwd_data_cpu_pack_bytes(&nd->d.conv)
                              ? (const float *)(prep + conv2d_cpu_prep_bwd_offset(&nd->d.conv))
                              : NULL;
    conv2d_bwd_data_cpu_packed(DY(ex, nd), P(ex, nd->w), packed, dx, &nd->d.conv, ex->batch, acc, ex->workspace,
                               ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status bwd_gemm(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int acc;
    XFIQ_TRY(need_unfused(nd));
    float *dx = grad_in(ex, g, nd, 0, &acc);
    gemm_bwd_data_cpu(DY(ex, nd), P(ex, nd->w), dx, ex->batch, nd->d.gemm.k, nd->d.gemm.m, acc, ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status bwd_affine(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int acc;
    float *dx = grad_in(ex, g, nd, 0, &acc);
    affine_bwd_cpu(DY(ex, nd), P(ex, nd->w), dx, ex->batch, nd->channels, spatial_of(g, nd), acc, ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status bwd_prelu(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int acc;
    float *dx = grad_in(ex, g, nd, 0, &acc);
    prelu_bwd_cpu(DY(ex, nd), X0(ex, nd), P(ex, nd->slope), nd->slope_per_channel, dx, ex->batch, nd->channels,
                  spatial_of(g, nd), acc, ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status bwd_relu(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int acc;
    float *dx = grad_in(ex, g, nd, 0, &acc);
    relu_bwd_cpu(DY(ex, nd), X0(ex, nd), dx, g->values[nd->in[0]].numel * ex->batch, acc, ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status bwd_binary(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int64_t count = g->values[nd->in[0]].numel * ex->batch;
    const float *a = X0(ex, nd), *b = xfiq_exec_value(ex, nd->in[1]);
    int acc_a, acc_b;
    float *da = grad_in(ex, g, nd, 0, &acc_a);
    if (g->values[nd->in[0]].storage == g->values[nd->in[1]].storage) {
        /* x op x: two contributions into one buffer, one after the other. */
        binary_bwd_cpu(nd->bin, DY(ex, nd), a, b, da, NULL, count, acc_a, 0, ex->num_threads);
        binary_bwd_cpu(nd->bin, DY(ex, nd), a, b, NULL, da, count, 0, 1, ex->num_threads);
        return XFIQ_OK;
    }
    float *db = grad_in(ex, g, nd, 1, &acc_b);
    binary_bwd_cpu(nd->bin, DY(ex, nd), a, b, da, db, count, acc_a, acc_b, ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status bwd_binconst(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int acc;
    float *dx = grad_in(ex, g, nd, 0, &acc);
    binconst_bwd_cpu(nd->bin, nd->const_first, DY(ex, nd), X0(ex, nd), P(ex, nd->w), dx, ex->batch,
                     g->values[nd->in[0]].numel, acc, ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status bwd_gap(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int acc;
    const xfiq_value *x = &g->values[nd->in[0]];
    float *dx = grad_in(ex, g, nd, 0, &acc);
    gap_bwd_cpu(DY(ex, nd), dx, ex->batch, (int)x->dims[1], x->numel / x->dims[1], acc, ex->num_threads);
    return XFIQ_OK;
}

static xfiq_status bwd_view(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    (void)ex, (void)g, (void)nd; /* the gradient buffer is shared with the input's, like the storage */
    return XFIQ_OK;
}

const xfiq_node_fn xfiq_cpu_bwd[XFIQ_OP_COUNT] = {
    [XFIQ_OP_CONV] = bwd_conv,         [XFIQ_OP_AFFINE] = bwd_affine, [XFIQ_OP_PRELU] = bwd_prelu,
    [XFIQ_OP_RELU] = bwd_relu,         [XFIQ_OP_BINARY] = bwd_binary, [XFIQ_OP_BINCONST] = bwd_binconst,
    [XFIQ_OP_GEMM] = bwd_gemm,         [XFIQ_OP_GAP] = bwd_gap,       [XFIQ_OP_VIEW] = bwd_view,
};
