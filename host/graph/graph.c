/* graph.c - building blocks of the internal graph: values, nodes, parameter
 * block, topological ordering and liveness. Shape inference is in shape.c. */
#include "graph/graph.h"

#include <stdlib.h>
#include <string.h>

#include "core/status.h"

const char *xfiq_op_name(xfiq_op op)
{
    static const char *names[XFIQ_OP_COUNT] = {"conv", "affine", "prelu", "relu", "binary",
                                               "binconst", "gemm", "gap", "view", "concat",
                                               "transpose", "slice", "softmax", "unary"};
    return (unsigned)op < XFIQ_OP_COUNT ? names[op] : "?";
}

void xfiq_graph_init(xfiq_graph *g)
{
    memset(g, 0, sizeof *g);
    g->input = g->output = -1;
}

void xfiq_graph_free(xfiq_graph *g)
{
    for (int i = 0; i < g->n_values; i++)
        free(g->values[i].name);
    for (int i = 0; i < g->n_nodes; i++) {
        free(g->nodes[i].name);
        free(g->nodes[i].onnx_op);
    }
    free(g->values);
    free(g->nodes);
    if (!g->borrowed_params)
        free(g->params);
    xfiq_graph_init(g);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s ? s : "", n);
    return d;
}

int xfiq_graph_add_value(xfiq_graph *g, const char *name)
{
    if (g->n_values == g->cap_values) {
        int cap = g->cap_values ? 2 * g->cap_values : 64;
        xfiq_value *v = realloc(g->values, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        g->values = v;
        g->cap_values = cap;
    }
    xfiq_value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->name = dup_str(name);
    if (!v->name)
        return -1;
    v->producer = -1;
    v->last_use = -1;
    v->storage = g->n_values;
    return g->n_values++;
}

int xfiq_graph_add_node(xfiq_graph *g, xfiq_op op, const char *name, const char *onnx_op)
{
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? 2 * g->cap_nodes : 64;
        xfiq_node *n = realloc(g->nodes, (size_t)cap * sizeof *n);
        if (!n)
            return -1;
        g->nodes = n;
        g->cap_nodes = cap;
    }
    xfiq_node *nd = &g->nodes[g->n_nodes];
    memset(nd, 0, sizeof *nd);
    nd->op = op;
    nd->name = dup_str(name);
    nd->onnx_op = dup_str(onnx_op);
    if (!nd->name || !nd->onnx_op)
        return -1;
    nd->in[0] = nd->in[1] = nd->out = -1;
    nd->w = nd->b = nd->slope = -1;
    return g->n_nodes++;
}

int64_t xfiq_graph_add_params(xfiq_graph *g, const float *data, int64_t n)
{
    /* Keep every block 16-float (64-byte) aligned so kernels may assume it. */
    int64_t off = (g->n_params + 15) & ~(int64_t)15;
    if (off + n > g->cap_params) {
        int64_t cap = g->cap_params ? g->cap_params : 1 << 16;
        while (cap < off + n)
            cap *= 2;
        float *p = aligned_alloc(64, (size_t)cap * sizeof(float));
        if (!p)
            return -1;
        if (g->n_params)
            memcpy(p, g->params, (size_t)g->n_params * sizeof(float));
        free(g->params);
        g->params = p;
        g->cap_params = cap;
    }
    if (off > g->n_params)
        memset(g->params + g->n_params, 0, (size_t)(off - g->n_params) * sizeof(float));
    if (data)
        memcpy(g->params + off, data, (size_t)n * sizeof(float));
    else
        memset(g->params + off, 0, (size_t)n * sizeof(float));
    g->n_params = off + n;
    return off;
}

int xfiq_graph_find_value(const xfiq_graph *g, const char *name)
{
    if (!name)
        return -1;
    for (int i = g->n_values - 1; i >= 0; i--)
        if (strcmp(g->values[i].name, name) == 0)
            return i;
    return -1;
}

/* Kahn's algorithm over the nodes, keeping only those the output depends on. */
static xfiq_status graph_sort(xfiq_graph *g)
{
    int nn = g->n_nodes, nv = g->n_values;
    int *producer = malloc((size_t)nv * sizeof *producer);
    char *needed = calloc((size_t)nn + 1, 1);
    int *stack = malloc((2 * (size_t)nn + 2) * sizeof *stack); /* a node may be pushed once per reader */
    int *order = malloc(((size_t)nn + 1) * sizeof *order);
    char *state = calloc((size_t)nn + 1, 1); /* 0 new, 1 on stack, 2 done */
    xfiq_node *sorted = malloc(((size_t)nn + 1) * sizeof *sorted);
    xfiq_status st = XFIQ_OK;
    if (!producer || !needed || !stack || !order || !state || !sorted) {
        st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory sorting the graph");
        goto done;
    }
    for (int i = 0; i < nv; i++)
        producer[i] = -1;
    for (int i = 0; i < nn; i++) {
        int o = g->nodes[i].out;
        if (producer[o] >= 0) {
            st = xfiq_error(XFIQ_ERR_FORMAT, "value '%s' is produced by two nodes ('%s' and '%s')",
                            g->values[o].name, g->nodes[producer[o]].name, g->nodes[i].name);
            goto done;
        }
        producer[o] = i;
    }
    if (g->output < 0 || (producer[g->output] < 0 && g->output != g->input)) {
        st = xfiq_error(XFIQ_ERR_FORMAT, "the graph output is not produced by any supported node");
        goto done;
    }
    /* Iterative depth-first post-order from the output: a topological order of what is needed. */
    int n_order = 0, sp = 0;
    if (producer[g->output] >= 0)
        stack[sp++] = producer[g->output];
    while (sp > 0) {
        int i = stack[sp - 1];
        if (state[i] == 0) {
            state[i] = 1;
            for (int k = 0; k < 2; k++) {
                int v = g->nodes[i].in[k];
                if (v < 0)
                    continue;
                int p = producer[v];
                if (p < 0) {
                    if (v != g->input) {
                        st = xfiq_error(XFIQ_ERR_FORMAT, "node '%s' reads '%s', which no node produces",
                                        g->nodes[i].name, g->values[v].name);
                        goto done;
                    }
                    continue;
                }
                if (state[p] == 1) {
                    st = xfiq_error(XFIQ_ERR_FORMAT, "the graph has a cycle through node '%s'", g->nodes[p].name);
                    goto done;
                }
                if (state[p] == 0)
                    stack[sp++] = p;
            }
        } else {
            sp--;
            if (state[i] == 1) {
                state[i] = 2;
                order[n_order++] = i;
            }
        }
    }
    for (int k = 0; k < n_order; k++)
        sorted[k] = g->nodes[order[k]];
    for (int i = 0; i < nn; i++)
        if (state[i] != 2) {
            free(g->nodes[i].name);
            free(g->nodes[i].onnx_op);
        }
    if (n_order) /* memcpy with a NULL pointer is undefined even for 0 bytes (fuzzing) */
        memcpy(g->nodes, sorted, (size_t)n_order * sizeof *sorted);
    g->n_nodes = n_order;
done:
    free(producer);
    free(needed);
    free(stack);
    free(order);
    free(state);
    free(sorted);
    return st;
}

xfiq_status xfiq_graph_shape_infer(xfiq_graph *g); /* shape.c */

xfiq_status xfiq_graph_finalize(xfiq_graph *g)
{
    if (g->input < 0)
        return xfiq_error(XFIQ_ERR_FORMAT, "the graph has no input");
    XFIQ_TRY(graph_sort(g));
    for (int i = 0; i < g->n_values; i++) {
        g->values[i].producer = -1;
        g->values[i].last_use = -1;
        g->values[i].storage = i;
    }
    for (int i = 0; i < g->n_nodes; i++)
        g->values[g->nodes[i].out].producer = i;
    XFIQ_TRY(xfiq_graph_shape_infer(g));
    for (int i = 0; i < g->n_nodes; i++) {
        const xfiq_node *nd = &g->nodes[i];
        for (int k = 0; k < 2; k++)
            if (nd->in[k] >= 0)
                g->values[nd->in[k]].last_use = i;
        if (nd->op == XFIQ_OP_VIEW)
            g->values[nd->out].storage = g->values[nd->in[0]].storage;
    }
    g->values[g->output].keep = 1;
    g->values[g->input].keep = 1;
    /* Kept values (output, the embedding layer) stay readable after the run. */
    for (int i = 0; i < g->n_values; i++)
        if (g->values[i].keep && (g->values[i].producer >= 0 || i == g->input))
            g->values[i].last_use = g->n_nodes;
    /* A buffer lives as long as the last reader of any view of it. */
    for (int i = 0; i < g->n_values; i++) {
        int s = g->values[i].storage;
        if (s != i && g->values[i].last_use > g->values[s].last_use)
            g->values[s].last_use = g->values[i].last_use;
    }
    return XFIQ_OK;
}

double xfiq_graph_macs(const xfiq_graph *g)
{
    double macs = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const xfiq_node *nd = &g->nodes[i];
        if (nd->op == XFIQ_OP_CONV) {
            const xfiq_conv_desc *d = &nd->d.conv;
            macs += (double)d->cout * d->oh * d->ow * (d->cin / d->group) * d->kh * d->kw;
        } else if (nd->op == XFIQ_OP_GEMM) {
            macs += (double)nd->d.gemm.k * nd->d.gemm.m;
        }
    }
    return macs;
}

int64_t xfiq_graph_num_params(const xfiq_graph *g)
{
    int64_t n = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const xfiq_node *nd = &g->nodes[i];
        if (nd->op == XFIQ_OP_CONV)
            n += (int64_t)nd->d.conv.cout * (nd->d.conv.cin / nd->d.conv.group) * nd->d.conv.kh * nd->d.conv.kw +
                 nd->d.conv.cout;
        else if (nd->op == XFIQ_OP_GEMM)
            n += (int64_t)nd->d.gemm.m * nd->d.gemm.k + nd->d.gemm.m;
        else if (nd->op == XFIQ_OP_AFFINE)
            n += 2 * nd->channels;
        else if (nd->op == XFIQ_OP_PRELU)
            n += nd->slope_per_channel ? nd->channels : 1;
    }
    return n;
}

static xfiq_status copy_value(xfiq_graph *out, const xfiq_value *v, int *id)
{
    *id = xfiq_graph_add_value(out, v->name);
    if (*id < 0)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory copying the graph");
    xfiq_value *c = &out->values[*id];
    c->ndim = v->ndim;
    memcpy(c->dims, v->dims, sizeof c->dims);
    c->numel = v->numel;
    c->keep = v->keep;
    return XFIQ_OK;
}

static xfiq_status copy_node(xfiq_graph *out, const xfiq_node *nd, const int *map)
{
    int id = xfiq_graph_add_node(out, nd->op, nd->name, nd->onnx_op);
    if (id < 0)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory copying the graph");
    xfiq_node *c = &out->nodes[id];
    char *name = c->name, *onnx_op = c->onnx_op;
    *c = *nd;
    c->name = name;
    c->onnx_op = onnx_op;
    for (int k = 0; k < 2; k++)
        c->in[k] = nd->in[k] >= 0 ? map[nd->in[k]] : -1;
    c->out = map[nd->out];
    return XFIQ_OK;
}

xfiq_status xfiq_graph_subgraph(const xfiq_graph *g, int from, xfiq_graph *out)
{
    xfiq_graph_init(out);
    int *map = malloc((size_t)g->n_values * sizeof *map);
    char *down = calloc((size_t)g->n_values, 1);
    xfiq_status st = XFIQ_OK;
    if (!map || !down) {
        st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory extracting a subgraph");
        goto done;
    }
    for (int i = 0; i < g->n_values; i++)
        map[i] = -1;
    down[from] = 1;
    if ((st = copy_value(out, &g->values[from], &map[from])) != XFIQ_OK)
        goto done;
    out->input = map[from];
    for (int i = 0; i < g->n_nodes; i++) { /* nodes are in topological order */
        const xfiq_node *nd = &g->nodes[i];
        int any = 0, all = 1;
        for (int k = 0; k < 2; k++)
            if (nd->in[k] >= 0) {
                any |= down[nd->in[k]];
                all &= down[nd->in[k]];
            }
        if (!any)
            continue;
        if (!all) {
            st = xfiq_error(XFIQ_ERR_FORMAT, "node '%s' after '%s' also reads values computed before it: '%s' does not "
                            "separate the network", nd->name, g->values[from].name, g->values[from].name);
            goto done;
        }
        down[nd->out] = 1;
        if ((st = copy_value(out, &g->values[nd->out], &map[nd->out])) != XFIQ_OK ||
            (st = copy_node(out, nd, map)) != XFIQ_OK)
            goto done;
    }
    if (!down[g->output]) {
        st = xfiq_error(XFIQ_ERR_FORMAT, "the output does not depend on '%s'", g->values[from].name);
        goto done;
    }
    out->output = map[g->output];
    out->params = g->params;
    out->n_params = out->cap_params = g->n_params;
    out->borrowed_params = 1;
    out->declared_batch = g->declared_batch;
    st = xfiq_graph_finalize(out);
done:
    free(map);
    free(down);
    if (st != XFIQ_OK)
        xfiq_graph_free(out);
    return st;
}

xfiq_status xfiq_graph_copy(const xfiq_graph *g, xfiq_graph *out)
{
    xfiq_graph_init(out);
    int *map = malloc((size_t)g->n_values * sizeof *map);
    xfiq_status st = XFIQ_OK;
    if (!map)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory copying the graph");
    for (int i = 0; i < g->n_values && st == XFIQ_OK; i++)
        st = copy_value(out, &g->values[i], &map[i]);
    for (int i = 0; i < g->n_nodes && st == XFIQ_OK; i++)
        st = copy_node(out, &g->nodes[i], map);
    if (st == XFIQ_OK && xfiq_graph_add_params(out, g->params, g->n_params) != 0)
        st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory copying the parameters");
    if (st == XFIQ_OK) {
        out->input = map[g->input];
        out->output = map[g->output];
        out->declared_batch = g->declared_batch;
        st = xfiq_graph_finalize(out);
    }
    free(map);
    if (st != XFIQ_OK)
        xfiq_graph_free(out);
    return st;
}
