/* graph.h - xfiq's internal network graph: values (activations), nodes in
 * topological order, and one block of parameters. Built from ONNX by
 * onnx/onnx_import.c, simplified by graph/passes.c, sized by graph/shape.c and
 * laid out in memory by engine/plan.c. Every activation carries the batch as
 * dim 0; shapes here are stored for batch 1 and scale linearly with it. */
#ifndef XFIQ_GRAPH_H
#define XFIQ_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "xfiq.h"

#define XFIQ_MAX_DIMS 6
/* Bounds on what a model file may declare (checked at import and shape
 * inference, so no size derived from a file overflows or allocates without
 * limit): one dimension, the elements of one sample of an activation or
 * expanded constant, and conv geometry (kernel, stride, dilation, pads,
 * channels, group). */
#define XFIQ_MAX_DIM ((int64_t)1 << 24)
#define XFIQ_MAX_NUMEL ((int64_t)1 << 26)
#define XFIQ_MAX_CONV_ATTR 65536
#define XFIQ_MAX_NODES 32768

typedef enum xfiq_op {
    XFIQ_OP_CONV = 0,  /* Conv (+ folded BN, + fused activation) */
    XFIQ_OP_AFFINE,    /* per-channel y = x*scale[c] + shift[c]: BN, Add/Sub/Mul/Div by per-channel or scalar constants */
    XFIQ_OP_PRELU,     /* per-channel (or scalar) slope */
    XFIQ_OP_RELU,
    XFIQ_OP_BINARY,    /* two activations of equal shape: add/sub/mul/div */
    XFIQ_OP_BINCONST,  /* activation op constant of the full per-sample shape (or constant op activation) */
    XFIQ_OP_GEMM,      /* Gemm / MatMul with constant weights: y = x W^T + b (+ fused activation) */
    XFIQ_OP_GAP,       /* GlobalAveragePool */
    XFIQ_OP_VIEW,      /* Flatten, Reshape, Identity, Dropout(inference): same storage */
    XFIQ_OP_CONCAT,    /* two activations joined along axis >= 1 (an n-input Concat is a chain) */
    XFIQ_OP_TRANSPOSE, /* permutation of the per-sample axes (the batch stays first) */
    XFIQ_OP_SLICE,     /* strided window of the per-sample axes */
    XFIQ_OP_SOFTMAX,   /* softmax along an axis (or, opset < 13, over all axes from it on) */
    XFIQ_OP_UNARY,     /* element-wise function (XFIQ_UN_*) */
    XFIQ_OP_COUNT
} xfiq_op;

const char *xfiq_op_name(xfiq_op op);

typedef struct xfiq_value {
    char *name;
    int ndim;
    int64_t dims[XFIQ_MAX_DIMS];   /* dims[0] is the batch, stored as 1 */
    int64_t numel;                 /* elements of ONE sample (product of dims[1..]) */
    int producer;                  /* node index, -1 for the graph input */
    int last_use;                  /* last node index reading it (n_nodes for the output) */
    int storage;                   /* value whose buffer this one uses (itself unless a VIEW) */
    int keep;                      /* must stay materialised (input, output, embedding layer) */
} xfiq_value;

typedef struct xfiq_conv_desc {
    int cin, cout, group;
    int kh, kw, sh, sw, dh, dw;
    int pad_t, pad_l, pad_b, pad_r;
    int ih, iw, oh, ow;
} xfiq_conv_desc;

typedef struct xfiq_gemm_desc {
    int k, m;                      /* y(n, m) = x(n, k) . W(m, k)^T + b(m) */
} xfiq_gemm_desc;

/* CONCAT / TRANSPOSE / SLICE / SOFTMAX / UNARY. Attributes as the file gave
 * them (bounded at import); shape inference checks them against the input's
 * rank and resolves negative axes and slice bounds. */
typedef struct xfiq_layout_desc {
    int axis;                      /* CONCAT, SOFTMAX (resolved: 1 .. ndim-1) */
    int legacy;                    /* SOFTMAX: opset < 13, softmax over all axes from axis on */
    int unary;                     /* UNARY: XFIQ_UN_* */
    int n_perm;                    /* TRANSPOSE: entries of perm (0: reverse the per-sample axes) */
    int perm[XFIQ_MAX_DIMS];
    int n_slice;                   /* SLICE: entries given */
    int64_t s_axis[XFIQ_MAX_DIMS], s_start[XFIQ_MAX_DIMS], s_end[XFIQ_MAX_DIMS], s_step[XFIQ_MAX_DIMS];
    int64_t start[XFIQ_MAX_DIMS], step[XFIQ_MAX_DIMS]; /* SLICE resolved per axis of the input (axis 0 untouched) */
} xfiq_layout_desc;

typedef struct xfiq_node {
    xfiq_op op;
    char *name;                    /* ONNX node name (or output name when empty) */
    char *onnx_op;                 /* ONNX op_type it came from */
    int in[2];                     /* activation inputs (value ids); in[1] = -1 unless BINARY */
    int out;                       /* output value id */
    int act;                       /* XFIQ_ACT_* fused after CONV/GEMM */
    int bin;                       /* XFIQ_BIN_* for BINARY/BINCONST */
    int const_first;               /* BINCONST: constant is the left operand */
    int channels;                  /* AFFINE/PRELU: C; spatial = numel / C (0 until shape inference resolves it) */
    int auto_pad;                  /* CONV: 0 explicit pads, 1 SAME_UPPER, 2 SAME_LOWER, 3 VALID */
    /* Parameters: offsets (in floats) into graph->params, -1 when absent.
     * Offsets, not pointers, so a device copy of params serves as well. */
    int64_t w, b;                  /* CONV/GEMM weights + bias; AFFINE scale + shift; BINCONST constant in w */
    int64_t slope;                 /* PRELU slope or fused PRELU slope, per channel */
    int slope_per_channel;         /* 0: one scalar slope */
    int kndim;                     /* shape of the constant operand as ONNX gave it */
    int64_t kshape[XFIQ_MAX_DIMS]; /* (PRELU slope, BINCONST/AFFINE constant), resolved at finalize */
    int view_ndim;                 /* VIEW: 0 same shape (Identity/Dropout), -axis for Flatten, else Reshape rank */
    int64_t view_dims[XFIQ_MAX_DIMS]; /* VIEW: Reshape's target shape as given (0 / -1 resolved at batch 1) */
    union {
        xfiq_conv_desc conv;
        xfiq_gemm_desc gemm;
        xfiq_layout_desc lay;
    } d;
} xfiq_node;

typedef struct xfiq_graph {
    xfiq_value *values;
    int n_values, cap_values;
    xfiq_node *nodes;              /* topological order after xfiq_graph_finalize */
    int n_nodes, cap_nodes;
    int input, output;             /* value ids */
    float *params;                 /* all weights, 64-byte aligned block */
    int64_t n_params, cap_params;
    int declared_batch;            /* batch written in the ONNX input (0 = symbolic) */
    int n_outputs;                 /* graph outputs in the file (several: joined into output) */
    int borrowed_params;           /* params belong to another graph (a subgraph): not freed here */
} xfiq_graph;

void xfiq_graph_init(xfiq_graph *g);
void xfiq_graph_free(xfiq_graph *g);
/* Appends a value / node / parameter block; return the id / offset or -1 on OOM. */
int xfiq_graph_add_value(xfiq_graph *g, const char *name);
int xfiq_graph_add_node(xfiq_graph *g, xfiq_op op, const char *name, const char *onnx_op);
int64_t xfiq_graph_add_params(xfiq_graph *g, const float *data, int64_t n);
int xfiq_graph_find_value(const xfiq_graph *g, const char *name);

/* Orders nodes topologically, drops unused ones, infers shapes, fills
 * producer/last_use/storage. Errors name the node. */
xfiq_status xfiq_graph_finalize(xfiq_graph *g);
/* Folds AFFINE into a preceding CONV/GEMM where exact and fuses RELU/PRELU
 * into CONV/GEMM epilogues (fuse_act = 0 keeps activations separate, as the
 * backward pass needs them). Calls xfiq_graph_finalize again. */
xfiq_status xfiq_graph_optimize(xfiq_graph *g, int fuse_act);

/* The part of g downstream of value from (e.g. SER-FIQ's head after the
 * embedding layer) as a graph of its own whose input is that value; it
 * borrows g's parameters, so g must outlive it. Errors when the part reads
 * any other value of g (from does not separate the network). */
xfiq_status xfiq_graph_subgraph(const xfiq_graph *g, int from, xfiq_graph *out);
/* Deep copy (own parameters) - e.g. to keep an unfused graph for backward. */
xfiq_status xfiq_graph_copy(const xfiq_graph *g, xfiq_graph *out);

double xfiq_graph_macs(const xfiq_graph *g);   /* per image */
int64_t xfiq_graph_num_params(const xfiq_graph *g);

#endif
