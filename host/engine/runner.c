/* runner.c - plan once, then walk the backend's op table node by node. */
#include "engine/runner.h"

#include <stdlib.h>
#include <string.h>

#include "core/status.h"

/* Per-node data the backend wants made once (sizes first, one block). */
static xfiq_status runner_prepare(xfiq_runner *r)
{
    const xfiq_backend_ops *ops = r->be->ops;
    const xfiq_graph *g = r->g;
    if (!ops->prepare_bytes || !ops->prepare)
        return XFIQ_OK;
    size_t total = 0, *off = malloc((size_t)(g->n_nodes ? g->n_nodes : 1) * sizeof *off);
    if (!off)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory preparing %s", r->label);
    for (int i = 0; i < g->n_nodes; i++) {
        size_t b = ops->prepare_bytes(g, &g->nodes[i], r->retain_all);
        off[i] = b ? total : (size_t)-1;
        total += (b + XFIQ_ALIGN - 1) & ~(size_t)(XFIQ_ALIGN - 1);
    }
    xfiq_status st = XFIQ_OK;
    if (total) {
        r->prepared = calloc((size_t)g->n_nodes, sizeof *r->prepared);
        if (!r->prepared)
            st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory preparing %s", r->label);
        else
            st = ops->mem_alloc(r->be->ctx, total, (void **)&r->prep_block);
        for (int i = 0; i < g->n_nodes && st == XFIQ_OK; i++)
            if (off[i] != (size_t)-1) {
                r->prepared[i] = r->prep_block + off[i];
                st = ops->prepare(r->be->ctx, g, &g->nodes[i], g->params, r->prepared[i], r->retain_all,
                                  r->be->num_threads);
            }
    }
    free(off);
    return st;
}

/* share's device parameters serve g when they hold the same floats. */
static int params_match(const xfiq_graph *g, const xfiq_runner *share)
{
    if (!share || !share->params || share->be == NULL)
        return 0;
    const xfiq_graph *h = share->g;
    if (g->params == h->params && g->n_params <= h->n_params)
        return 1;
    return g->n_params == h->n_params && (!g->n_params || !memcmp(g->params, h->params, (size_t)g->n_params * sizeof(float)));
}

xfiq_status xfiq_runner_init(xfiq_runner *r, xfiq_backend_t be, const xfiq_graph *g, const char *label,
                             int retain_all)
{
    return xfiq_runner_init_shared(r, be, g, label, retain_all, NULL);
}

xfiq_status xfiq_runner_init_shared(xfiq_runner *r, xfiq_backend_t be, const xfiq_graph *g, const char *label,
                                    int retain_all, const xfiq_runner *share)
{
    memset(r, 0, sizeof *r);
    r->be = be;
    r->g = g;
    r->label = label;
    r->retain_all = retain_all;
    const xfiq_backend_ops *ops = be->ops;
    /* Refused before any work: a node the backend cannot run forward, and,
     * for a runner that will run backward (retain_all), a node without
     * backward-data, which would otherwise fail half-way through a pass.
     * Forward-only runners (the detector's) need no backward kernels. */
    for (int i = 0; i < g->n_nodes; i++) {
        const xfiq_node *nd = &g->nodes[i];
        if (!ops->supports_op(nd->op) || !ops->fwd[nd->op])
            return xfiq_error(XFIQ_ERR_UNSUPPORTED, "%s: node '%s' (%s) has no %s implementation yet", label,
                              nd->name, xfiq_op_name(nd->op), ops->name);
        if (retain_all && (!ops->bwd || !ops->bwd[nd->op]))
            return xfiq_error(XFIQ_ERR_UNSUPPORTED, "%s: node '%s' (%s) has no %s backward yet", label, nd->name,
                              xfiq_op_name(nd->op), ops->name);
    }
    if (ops->kind == XFIQ_BACKEND_CPU) {
        r->params = g->params;
    } else if (share && share->be == be && params_match(g, share)) {
        r->params = share->params;
        r->params_shared = 1;
    } else {
        size_t bytes = (size_t)g->n_params * sizeof(float);
        XFIQ_TRY(ops->mem_alloc(be->ctx, bytes ? bytes : 4, (void **)&r->params));
        XFIQ_TRY(ops->upload(be->ctx, r->params, g->params, bytes));
    }
    return runner_prepare(r);
}

static void release_block(xfiq_runner *r)
{
    const xfiq_backend_ops *ops = r->be->ops;
    if (r->block)
        ops->mem_free(r->be->ctx, r->block);
    if (r->grad_block)
        ops->mem_free(r->be->ctx, r->grad_block);
    free(r->staging);
    free(r->grad_offsets);
    free(r->grad_written);
    r->grad_written = NULL;
    r->block = r->grad_block = NULL;
    r->staging = NULL;
    r->grad_offsets = NULL;
    r->grad_bytes = 0;
    r->grad_batch = 0;
    xfiq_plan_free(&r->plan);
}

void xfiq_runner_free(xfiq_runner *r)
{
    if (!r->be)
        return;
    release_block(r);
    if (r->prep_block)
        r->be->ops->mem_free(r->be->ctx, r->prep_block);
    free(r->prepared);
    if (r->params && r->params != r->g->params && !r->params_shared)
        r->be->ops->mem_free(r->be->ctx, r->params);
    memset(r, 0, sizeof *r);
}

static int next_pow2(int n)
{
    int b = 1;
    while (b < n && b < (1 << 30))
        b <<= 1;
    return b;
}

int xfiq_runner_bucket(const xfiq_runner *r, int n)
{
    if (r->be->ops->kind == XFIQ_BACKEND_CPU)
        return n;
    int b = next_pow2(n);
    return b < r->plan.batch ? b : r->plan.batch;
}

xfiq_status xfiq_runner_reserve(xfiq_runner *r, int n)
{
    if (n <= r->plan.batch)
        return XFIQ_OK;
    const xfiq_backend_ops *ops = r->be->ops;
    if (ops->kind != XFIQ_BACKEND_CPU)
        n = next_pow2(n); /* whole buckets (xfiq_runner_bucket) */
    release_block(r);
    xfiq_graph tmp;
    const xfiq_graph *pg = r->g;
    xfiq_value *saved = NULL;
    if (r->retain_all) {
        /* Plan as if every value were read by the last node: nothing is reused. */
        saved = malloc((size_t)r->g->n_values * sizeof *saved);
        if (!saved)
            return xfiq_error(XFIQ_ERR_NOMEM, "out of memory planning");
        memcpy(saved, r->g->values, (size_t)r->g->n_values * sizeof *saved);
        tmp = *r->g;
        tmp.values = saved;
        for (int i = 0; i < tmp.n_values; i++)
            if (saved[i].last_use >= 0 || saved[i].producer >= 0)
                saved[i].last_use = tmp.n_nodes;
        pg = &tmp;
    }
    xfiq_status st = xfiq_plan_build(&r->plan, pg, ops, r->be->ctx, n, r->be->num_threads);
    free(saved);
    XFIQ_TRY(st);
    st = ops->mem_alloc(r->be->ctx, r->plan.total_bytes, (void **)&r->block);
    /* Rows past n of a bucket are computed and ignored: start them as zeros. */
    if (st == XFIQ_OK && ops->kind != XFIQ_BACKEND_CPU)
        st = ops->mem_zero(r->be->ctx, r->block, r->plan.total_bytes);
    if (st != XFIQ_OK)
        release_block(r);
    return st;
}

float *xfiq_runner_value(xfiq_runner *r, int v) { return (float *)(r->block + r->plan.offsets[v]); }

float *xfiq_runner_input_host(xfiq_runner *r)
{
    if (r->be->ops->kind == XFIQ_BACKEND_CPU)
        return xfiq_runner_value(r, r->g->input);
    if (!r->staging)
        r->staging = malloc((size_t)r->g->values[r->g->input].numel * (size_t)r->plan.batch * sizeof(float));
    r->input_resident = 0;
    return r->staging;
}

xfiq_status xfiq_runner_input_u8(xfiq_runner *r, const uint8_t *pixels, int n, int h, int w, int order,
                                 const float mean[3], const float scale[3])
{
    if (n < 1 || n > r->plan.batch)
        return xfiq_error(XFIQ_ERR_INTERNAL, "%s: input of %d images but the plan holds %d", r->label, n,
                          r->plan.batch);
    XFIQ_TRY(r->be->ops->input_u8(r->be->ctx, pixels, n, h, w, order, mean, scale,
                                  xfiq_runner_value(r, r->g->input)));
    r->input_resident = 1;
    return XFIQ_OK;
}

xfiq_exec xfiq_runner_exec(xfiq_runner *r, int n)
{
    xfiq_exec ex = {
        .arena = r->block,
        .offsets = r->plan.offsets,
        .params = r->params,
        .workspace = (float *)(r->block + r->plan.workspace_offset),
        .workspace_bytes = r->plan.workspace_bytes,
        .batch = n,
        .num_threads = r->be->num_threads,
        .stream = r->be->ops->stream(r->be->ctx),
        .prepared = (void *const *)r->prepared,
    };
    return ex;
}

xfiq_status xfiq_runner_run(xfiq_runner *r, int n)
{
    const xfiq_backend_ops *ops = r->be->ops;
    if (n < 1 || n > r->plan.batch)
        return xfiq_error(XFIQ_ERR_INTERNAL, "%s: run of %d images but the plan holds %d", r->label, n, r->plan.batch);
    xfiq_exec ex = xfiq_runner_exec(r, xfiq_runner_bucket(r, n));
    const xfiq_graph *g = r->g;
    if (r->staging && !r->input_resident)
        XFIQ_TRY(ops->upload(r->be->ctx, xfiq_exec_value(&ex, g->input), r->staging,
                             (size_t)g->values[g->input].numel * (size_t)n * sizeof(float)));
    r->input_resident = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const xfiq_node *nd = &g->nodes[i];
        xfiq_status st = ops->fwd[nd->op](&ex, g, nd);
        if (st != XFIQ_OK)
            return xfiq_error_prefix(st, "%s: node '%s'", r->label, nd->name);
    }
    /* No wait here: reading a result (download) waits for the work, and the
     * next batch's input may be queued meanwhile. */
    return XFIQ_OK;
}

xfiq_status xfiq_runner_read(xfiq_runner *r, int value, int n, float *dst)
{
    size_t bytes = (size_t)r->g->values[value].numel * (size_t)n * sizeof(float);
    return r->be->ops->download(r->be->ctx, dst, r->block + r->plan.offsets[value], bytes);
}

/* One gradient buffer per storage value (views share), sized for the plan's batch. */
static xfiq_status grad_reserve(xfiq_runner *r)
{
    if (r->grad_block && r->grad_batch == r->plan.batch)
        return XFIQ_OK;
    const xfiq_graph *g = r->g;
    const xfiq_backend_ops *ops = r->be->ops;
    if (r->grad_block)
        ops->mem_free(r->be->ctx, r->grad_block);
    r->grad_block = NULL;
    free(r->grad_offsets);
    free(r->grad_written);
    r->grad_offsets = calloc((size_t)g->n_values, sizeof *r->grad_offsets);
    r->grad_written = calloc((size_t)g->n_values, 1);
    if (!r->grad_offsets || !r->grad_written)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory for gradient buffers");
    size_t top = 0;
    for (int v = 0; v < g->n_values; v++) {
        const xfiq_value *val = &g->values[v];
        if (val->storage != v || (val->producer < 0 && v != g->input))
            continue;
        r->grad_offsets[v] = top;
        top += ((size_t)val->numel * (size_t)r->plan.batch * sizeof(float) + XFIQ_ALIGN - 1) & ~(size_t)(XFIQ_ALIGN - 1);
    }
    for (int v = 0; v < g->n_values; v++)
        r->grad_offsets[v] = r->grad_offsets[g->values[v].storage];
    r->grad_bytes = top ? top : XFIQ_ALIGN;
    r->grad_batch = r->plan.batch;
    return ops->mem_alloc(r->be->ctx, r->grad_bytes, (void **)&r->grad_block);
}

xfiq_status xfiq_runner_backward_begin(xfiq_runner *r, int n, float **seed)
{
    const xfiq_backend_ops *ops = r->be->ops;
    *seed = NULL;
    if (!r->retain_all)
        return xfiq_error(XFIQ_ERR_INTERNAL, "%s: backward needs a runner that retains activations", r->label);
    if (!ops->bwd)
        return xfiq_error(XFIQ_ERR_UNSUPPORTED, "backend %s has no backward-data yet", ops->name);
    if (n < 1 || n > r->plan.batch)
        return xfiq_error(XFIQ_ERR_INTERNAL, "%s: backward of %d images but the plan holds %d", r->label, n,
                          r->plan.batch);
    XFIQ_TRY(grad_reserve(r));
    *seed = (float *)(r->grad_block + r->grad_offsets[r->g->output]);
    return XFIQ_OK;
}

xfiq_status xfiq_runner_backward_run(xfiq_runner *r, int n, float **dinput)
{
    const xfiq_backend_ops *ops = r->be->ops;
    const xfiq_graph *g = r->g;
    *dinput = NULL;
    if (!r->grad_block || n < 1 || n > r->plan.batch)
        return xfiq_error(XFIQ_ERR_INTERNAL, "%s: backward run without xfiq_runner_backward_begin", r->label);
    xfiq_exec ex = xfiq_runner_exec(r, xfiq_runner_bucket(r, n));
    ex.grad_arena = r->grad_block;
    ex.grad_offsets = r->grad_offsets;
    ex.grad_written = r->grad_written;
    memset(r->grad_written, 0, (size_t)g->n_values);
    r->grad_written[g->values[g->output].storage] = 1;
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        const xfiq_node *nd = &g->nodes[i];
        if (!r->grad_written[g->values[nd->out].storage])
            continue; /* nothing downstream depends on this node */
        if (!ops->bwd[nd->op])
            return xfiq_error(XFIQ_ERR_UNSUPPORTED, "%s: node '%s' (%s) has no %s backward yet", r->label, nd->name,
                              xfiq_op_name(nd->op), ops->name);
        xfiq_status st = ops->bwd[nd->op](&ex, g, nd);
        if (st != XFIQ_OK)
            return xfiq_error_prefix(st, "%s: backward of node '%s'", r->label, nd->name);
    }
    *dinput = xfiq_exec_grad(&ex, g->input);
    if (!r->grad_written[g->values[g->input].storage]) /* the output does not depend on the input at all */
        XFIQ_TRY(ops->mem_zero(r->be->ctx, *dinput,
                               (size_t)g->values[g->input].numel * (size_t)n * sizeof(float)));
    return XFIQ_OK;
}

xfiq_status xfiq_runner_backward(xfiq_runner *r, int n, const float *seed, float *dinput)
{
    const xfiq_backend_ops *ops = r->be->ops;
    const xfiq_graph *g = r->g;
    float *dseed, *dx;
    XFIQ_TRY(xfiq_runner_backward_begin(r, n, &dseed));
    XFIQ_TRY(ops->upload(r->be->ctx, dseed, seed, (size_t)g->values[g->output].numel * (size_t)n * sizeof(float)));
    XFIQ_TRY(xfiq_runner_backward_run(r, n, &dx));
    return ops->download(r->be->ctx, dinput, dx, (size_t)g->values[g->input].numel * (size_t)n * sizeof(float));
}
