/* passes.c - graph simplification after import: BatchNormalization (AFFINE)
 * folded into the Conv/Gemm before it, where that is exact (the affine acts
 * on the producer's output, so scaling weights and bias is the same maths),
 * and ReLU/PReLU fused into the producer's epilogue. */
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "graph/graph.h"
#include "ops/elem.h"

static int *count_uses(const xfiq_graph *g)
{
    int *uses = calloc((size_t)g->n_values, sizeof *uses);
    if (!uses)
        return NULL;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < 2; k++)
            if (g->nodes[i].in[k] >= 0)
                uses[g->nodes[i].in[k]]++;
    uses[g->output]++;
    return uses;
}

/* The producer of nd's input when nd may be merged into it, else NULL. */
static xfiq_node *mergeable_producer(xfiq_graph *g, const xfiq_node *nd, const int *uses)
{
    int v = nd->in[0];
    int p = g->values[v].producer;
    if (p < 0 || uses[v] != 1 || g->values[v].keep)
        return NULL;
    xfiq_node *pn = &g->nodes[p];
    if ((pn->op != XFIQ_OP_CONV && pn->op != XFIQ_OP_GEMM) || pn->act != XFIQ_ACT_NONE)
        return NULL;
    return pn;
}

static void fold_affine(xfiq_graph *g, xfiq_node *pn, const xfiq_node *aff)
{
    int cout = pn->op == XFIQ_OP_CONV ? pn->d.conv.cout : pn->d.gemm.m;
    int64_t per_out = pn->op == XFIQ_OP_CONV
                          ? (int64_t)(pn->d.conv.cin / pn->d.conv.group) * pn->d.conv.kh * pn->d.conv.kw
                          : pn->d.gemm.k;
    float *w = g->params + pn->w, *b = g->params + pn->b;
    const float *s = g->params + aff->w, *t = g->params + aff->b;
    for (int o = 0; o < cout; o++) {
        for (int64_t j = 0; j < per_out; j++)
            w[o * per_out + j] *= s[o];
        b[o] = b[o] * s[o] + t[o];
    }
}

/* A 1x1 convolution on a 1x1 map (MobileFaceNet's final linear layer) is a
 * fully connected layer with the same weight layout: running it as one GEMM
 * over the batch (or over the B*T rows of SER-FIQ's heads) is much faster. */
static void conv1x1_to_gemm(xfiq_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        xfiq_node *nd = &g->nodes[i];
        if (nd->op != XFIQ_OP_CONV)
            continue;
        const xfiq_conv_desc d = nd->d.conv;
        if (d.ih == 1 && d.iw == 1 && d.kh == 1 && d.kw == 1 && d.group == 1 && d.oh == 1 && d.ow == 1 &&
            d.pad_t == 0 && d.pad_l == 0 && d.pad_b == 0 && d.pad_r == 0) {
            nd->op = XFIQ_OP_GEMM;
            nd->d.gemm.k = d.cin;
            nd->d.gemm.m = d.cout;
        }
    }
}

xfiq_status xfiq_graph_optimize(xfiq_graph *g, int fuse_act)
{
    conv1x1_to_gemm(g);
    int *uses = count_uses(g);
    if (!uses)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory optimising the graph");
    int kept = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        xfiq_node *nd = &g->nodes[i];
        xfiq_node *pn = NULL;
        int merged = 0;
        if (nd->op == XFIQ_OP_AFFINE && (pn = mergeable_producer(g, nd, uses))) {
            int cout = pn->op == XFIQ_OP_CONV ? pn->d.conv.cout : pn->d.gemm.m;
            if (cout == nd->channels) {
                fold_affine(g, pn, nd);
                merged = 1;
            }
        } else if (fuse_act && (nd->op == XFIQ_OP_RELU || nd->op == XFIQ_OP_PRELU) &&
                   (pn = mergeable_producer(g, nd, uses))) {
            int cout = pn->op == XFIQ_OP_CONV ? pn->d.conv.cout : pn->d.gemm.m;
            if (nd->op == XFIQ_OP_RELU || !nd->slope_per_channel || nd->channels == cout) {
                pn->act = nd->op == XFIQ_OP_RELU ? XFIQ_ACT_RELU : XFIQ_ACT_PRELU;
                pn->slope = nd->slope;
                pn->slope_per_channel = nd->slope_per_channel;
                merged = 1;
            }
        }
        if (merged) {
            /* The producer now writes the merged node's output directly. */
            g->values[pn->out].producer = -1;
            pn->out = nd->out;
            g->values[nd->out].producer = (int)(pn - g->nodes);
            free(nd->name);
            free(nd->onnx_op);
            continue;
        }
        g->nodes[kept] = *nd;
        /* Keep producer indices valid for nodes still to be visited. */
        g->values[nd->out].producer = kept;
        kept++;
    }
    g->n_nodes = kept;
    free(uses);
    return xfiq_graph_finalize(g);
}
