/* shape.c - shape inference over the sorted graph (batch 1; every activation
 * scales with the batch in dim 0) and resolution of constant operands into
 * scalar / per-channel / full broadcast forms. Errors name the node. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "graph/graph.h"
#include "ops/elem.h"

/* Product of dims, saturating at INT64_MAX (dims are >= 0). */
static int64_t prod(const int64_t *d, int n)
{
    int64_t p = 1;
    for (int i = 0; i < n; i++) {
        if (d[i] < 0)
            return -1;
        if (d[i] && p > INT64_MAX / d[i])
            return INT64_MAX;
        p *= d[i];
    }
    return p;
}

static void set_shape(xfiq_value *v, int ndim, const int64_t *dims)
{
    ndim = ndim < 1 ? 1 : ndim > XFIQ_MAX_DIMS ? XFIQ_MAX_DIMS : ndim;
    v->ndim = ndim;
    memcpy(v->dims, dims, (size_t)ndim * sizeof *dims);
    v->dims[0] = 1;
    v->numel = prod(dims + 1, ndim - 1);
}

static void shape_str(const xfiq_value *v, char *buf, size_t n)
{
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "[N");
    for (int i = 1; i < v->ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, ",%lld", (long long)v->dims[i]);
    if (k < n)
        snprintf(buf + k, n - k, "]");
}

enum { BCAST_SCALAR, BCAST_CHANNEL, BCAST_FULL, BCAST_BAD };

/* How a constant of shape kshape broadcasts against activation x (ONNX multidirectional rules). */
static int classify_broadcast(const xfiq_node *nd, const xfiq_value *x)
{
    int kn = nd->kndim;
    int64_t knumel = prod(nd->kshape, kn);
    if (knumel == 1)
        return BCAST_SCALAR;
    if (kn > x->ndim)
        return BCAST_BAD;
    int off = x->ndim - kn; /* kshape[i] aligns with x->dims[i + off] */
    int channel_only = x->ndim >= 2, full = 1;
    for (int i = 0; i < kn; i++) {
        int axis = i + off;
        int64_t kd = nd->kshape[i], xd = x->dims[axis];
        if (axis == 0 && kd != 1)
            return BCAST_BAD; /* a constant may not span the batch */
        if (kd != 1 && kd != xd)
            full = 0;
        if (axis == 1 ? kd != xd : kd != 1)
            channel_only = 0;
    }
    if (channel_only)
        return BCAST_CHANNEL;
    return full ? BCAST_FULL : BCAST_BAD;
}

/* Expands constant k (kshape) to one sample's full shape of x into a new param block. */
static int64_t expand_constant(xfiq_graph *g, const xfiq_node *nd, const xfiq_value *x)
{
    int64_t n = x->numel;
    int64_t off = xfiq_graph_add_params(g, NULL, n);
    if (off < 0)
        return -1;
    int nd_x = x->ndim, kn = nd->kndim, shift = nd_x - kn;
    const float *k = g->params + nd->w;
    float *dst = g->params + off;
    int64_t idx[XFIQ_MAX_DIMS] = {0};
    for (int64_t e = 0; e < n; e++) {
        int64_t r = e;
        for (int a = nd_x - 1; a >= 1; a--) {
            idx[a] = r % x->dims[a];
            r /= x->dims[a];
        }
        int64_t ko = 0;
        for (int i = 0; i < kn; i++) {
            int a = i + shift;
            int64_t ki = nd->kshape[i] == 1 ? 0 : idx[a];
            ko = ko * nd->kshape[i] + ki;
        }
        dst[e] = k[ko];
    }
    return off;
}

/* Turns a scalar / per-channel BINCONST into an AFFINE node (y = x*s + t). */
static xfiq_status binconst_to_affine(xfiq_graph *g, xfiq_node *nd, int c, int scalar)
{
    int64_t soff = xfiq_graph_add_params(g, NULL, c), toff = xfiq_graph_add_params(g, NULL, c);
    if (soff < 0 || toff < 0)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory resolving node '%s'", nd->name);
    float *s = g->params + soff, *t = g->params + toff;
    const float *k = g->params + nd->w;
    for (int i = 0; i < c; i++) {
        float kv = k[scalar ? 0 : i];
        switch (nd->bin) {
        case XFIQ_BIN_ADD: s[i] = 1.0f; t[i] = kv; break;
        case XFIQ_BIN_SUB:
            s[i] = nd->const_first ? -1.0f : 1.0f;
            t[i] = nd->const_first ? kv : -kv;
            break;
        case XFIQ_BIN_MUL: s[i] = kv; t[i] = 0.0f; break;
        default: s[i] = 1.0f / kv; t[i] = 0.0f; break;
        }
    }
    nd->op = XFIQ_OP_AFFINE;
    nd->w = soff;
    nd->b = toff;
    nd->channels = c;
    return XFIQ_OK;
}

static xfiq_status infer_conv(xfiq_graph *g, xfiq_node *nd, const xfiq_value *x, xfiq_value *y)
{
    xfiq_conv_desc *d = &nd->d.conv;
    char s[128];
    shape_str(x, s, sizeof s);
    if (x->ndim != 4)
        return xfiq_error(XFIQ_ERR_SHAPE, "Conv node '%s': input '%s' is %s, expected 4-D NCHW", nd->name, x->name, s);
    if (x->dims[1] != d->cin)
        return xfiq_error(XFIQ_ERR_SHAPE, "Conv node '%s': input '%s' has %lld channels, weights expect %d",
                          nd->name, x->name, (long long)x->dims[1], d->cin);
    if (x->dims[2] > XFIQ_MAX_CONV_ATTR || x->dims[3] > XFIQ_MAX_CONV_ATTR)
        return xfiq_error(XFIQ_ERR_UNSUPPORTED, "Conv node '%s': input %s is larger than %d in H or W", nd->name, s,
                          XFIQ_MAX_CONV_ATTR);
    d->ih = (int)x->dims[2];
    d->iw = (int)x->dims[3];
    if (nd->auto_pad == 1 || nd->auto_pad == 2) {
        /* int64: a dilation times a kernel may pass INT_MAX (each is <= 65536). */
        int64_t oh = (d->ih + d->sh - 1) / d->sh, ow = (d->iw + d->sw - 1) / d->sw;
        int64_t ph = (oh - 1) * d->sh + (int64_t)d->dh * (d->kh - 1) + 1 - d->ih;
        int64_t pw = (ow - 1) * d->sw + (int64_t)d->dw * (d->kw - 1) + 1 - d->iw;
        if (ph > XFIQ_MAX_CONV_ATTR || pw > XFIQ_MAX_CONV_ATTR)
            return xfiq_error(XFIQ_ERR_UNSUPPORTED, "Conv node '%s': SAME padding above %d", nd->name,
                              XFIQ_MAX_CONV_ATTR);
        ph = ph < 0 ? 0 : ph;
        pw = pw < 0 ? 0 : pw;
        int small_h = (int)ph / 2, small_w = (int)pw / 2;
        d->pad_t = nd->auto_pad == 1 ? small_h : ph - small_h;
        d->pad_b = (int)ph - d->pad_t;
        d->pad_l = nd->auto_pad == 1 ? small_w : pw - small_w;
        d->pad_r = (int)pw - d->pad_l;
    } else if (nd->auto_pad == 3) {
        d->pad_t = d->pad_b = d->pad_l = d->pad_r = 0;
    }
    int64_t eh = (int64_t)d->ih + d->pad_t + d->pad_b - (int64_t)d->dh * (d->kh - 1) - 1;
    int64_t ew = (int64_t)d->iw + d->pad_l + d->pad_r - (int64_t)d->dw * (d->kw - 1) - 1;
    if (eh < 0 || ew < 0)
        return xfiq_error(XFIQ_ERR_SHAPE, "Conv node '%s': kernel %dx%d does not fit input %s", nd->name, d->kh,
                          d->kw, s);
    d->oh = (int)(eh / d->sh + 1);
    d->ow = (int)(ew / d->sw + 1);
    int64_t dims[4] = {1, d->cout, d->oh, d->ow};
    set_shape(y, 4, dims);
    (void)g;
    return XFIQ_OK;
}

static xfiq_status infer_view(xfiq_node *nd, const xfiq_value *x, xfiq_value *y)
{
    char s[128];
    shape_str(x, s, sizeof s);
    if (nd->view_ndim == 0) {
        set_shape(y, x->ndim, x->dims);
        return XFIQ_OK;
    }
    if (nd->view_ndim < 0) { /* Flatten(axis) */
        int axis = -nd->view_ndim;
        if (axis != 1)
            return xfiq_error(XFIQ_ERR_UNSUPPORTED, "Flatten node '%s': axis %d would mix the batch into features "
                              "(only axis 1 is supported)", nd->name, axis == 1000 ? 0 : axis > 1000 ? 1000 - axis : axis);
        int64_t dims[2] = {1, x->numel};
        set_shape(y, 2, dims);
        return XFIQ_OK;
    }
    /* Reshape: 0 copies the input dim, -1 is inferred; evaluated at batch 1. */
    int n = nd->view_ndim, minus = -1;
    int64_t dims[XFIQ_MAX_DIMS], known = 1;
    for (int i = 0; i < n; i++) {
        int64_t t = nd->view_dims[i];
        if (t == 0) {
            if (i >= x->ndim)
                return xfiq_error(XFIQ_ERR_SHAPE, "Reshape node '%s': 0 at position %d but input is %s", nd->name, i, s);
            t = x->dims[i];
        }
        if (t == -1) {
            if (minus >= 0)
                return xfiq_error(XFIQ_ERR_SHAPE, "Reshape node '%s': more than one -1 in the target shape", nd->name);
            minus = i;
            dims[i] = 1;
            continue;
        }
        if (t < 0)
            return xfiq_error(XFIQ_ERR_SHAPE, "Reshape node '%s': negative dimension %lld", nd->name, (long long)t);
        if (t > XFIQ_MAX_NUMEL || (t && known > XFIQ_MAX_NUMEL / t))
            return xfiq_error(XFIQ_ERR_SHAPE, "Reshape node '%s': target shape of more than 2^26 values for input %s",
                              nd->name, s);
        dims[i] = t;
        known *= t;
    }
    if (minus >= 0) {
        if (known == 0 || x->numel % known)
            return xfiq_error(XFIQ_ERR_SHAPE, "Reshape node '%s': cannot infer -1 from input %s", nd->name, s);
        dims[minus] = x->numel / known;
        known *= dims[minus];
    }
    if (known != x->numel || dims[0] != 1)
        return xfiq_error(XFIQ_ERR_SHAPE, "Reshape node '%s': target shape does not keep the batch in dim 0 "
                          "for input %s", nd->name, s);
    set_shape(y, n, dims);
    return XFIQ_OK;
}

/* Axis attribute a of a rank-r input: negative counts from the end; the batch (0) is refused. */
static xfiq_status resolve_axis(const xfiq_node *nd, int64_t a, int r, const char *s, int *out)
{
    int64_t v = a < 0 ? a + r : a;
    if (v < 1 || v >= r)
        return xfiq_error(XFIQ_ERR_UNSUPPORTED, "%s node '%s': axis %lld of input %s is %s", nd->onnx_op, nd->name,
                          (long long)a, s, v == 0 ? "the batch (not supported)" : "out of range");
    *out = (int)v;
    return XFIQ_OK;
}

static xfiq_status infer_concat(const xfiq_graph *g, xfiq_node *nd, const xfiq_value *x, xfiq_value *y, const char *s)
{
    const xfiq_value *x2 = &g->values[nd->in[1]];
    xfiq_layout_desc *L = &nd->d.lay;
    int axis = 1;
    XFIQ_TRY(resolve_axis(nd, L->axis, x->ndim, s, &axis));
    int ok = x2->ndim == x->ndim;
    for (int a = 1; ok && a < x->ndim; a++)
        ok = a == axis || x->dims[a] == x2->dims[a];
    if (!ok) {
        char s2[128];
        shape_str(x2, s2, sizeof s2);
        return xfiq_error(XFIQ_ERR_SHAPE, "Concat node '%s': inputs %s and %s differ outside axis %d", nd->name, s, s2,
                          axis);
    }
    L->axis = axis;
    int64_t dims[XFIQ_MAX_DIMS];
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = x->dims[axis] + x2->dims[axis];
    set_shape(y, x->ndim, dims);
    return XFIQ_OK;
}

static xfiq_status infer_transpose(xfiq_node *nd, const xfiq_value *x, xfiq_value *y, const char *s)
{
    xfiq_layout_desc *L = &nd->d.lay;
    int r = x->ndim, seen[XFIQ_MAX_DIMS] = {0};
    if (L->n_perm == 0) { /* ONNX default reverses all axes, the batch too: only rank 1 keeps it first */
        if (r != 1)
            return xfiq_error(XFIQ_ERR_UNSUPPORTED, "Transpose node '%s': no perm on input %s would move the batch",
                              nd->name, s);
        L->n_perm = 1;
        L->perm[0] = 0;
    }
    if (L->n_perm != r)
        return xfiq_error(XFIQ_ERR_SHAPE, "Transpose node '%s': perm has %d entries for input %s", nd->name, L->n_perm,
                          s);
    for (int a = 0; a < r; a++) {
        if (L->perm[a] < 0 || L->perm[a] >= r || seen[L->perm[a]]++)
            return xfiq_error(XFIQ_ERR_FORMAT, "Transpose node '%s': perm is not a permutation of the %d axes",
                              nd->name, r);
    }
    if (L->perm[0] != 0)
        return xfiq_error(XFIQ_ERR_UNSUPPORTED, "Transpose node '%s': perm moves the batch axis (input %s)", nd->name,
                          s);
    int64_t dims[XFIQ_MAX_DIMS];
    for (int a = 0; a < r; a++)
        dims[a] = x->dims[L->perm[a]];
    set_shape(y, r, dims);
    return XFIQ_OK;
}

/* ONNX Slice bounds: negative from the end, then clamped to [0, dim]. */
static int64_t clamp_bound(int64_t v, int64_t dim)
{
    if (v < 0)
        v = v < -dim ? 0 : v + dim;
    return v > dim ? dim : v;
}

static xfiq_status infer_slice(xfiq_node *nd, const xfiq_value *x, xfiq_value *y, const char *s)
{
    xfiq_layout_desc *L = &nd->d.lay;
    int r = x->ndim, done[XFIQ_MAX_DIMS] = {0};
    int64_t dims[XFIQ_MAX_DIMS];
    memcpy(dims, x->dims, sizeof dims);
    for (int a = 0; a < r; a++) {
        L->start[a] = 0;
        L->step[a] = 1;
    }
    for (int k = 0; k < L->n_slice; k++) {
        int64_t ax = L->s_axis[k] < 0 ? L->s_axis[k] + r : L->s_axis[k];
        if (ax < 0 || ax >= r || done[ax]++)
            return xfiq_error(XFIQ_ERR_FORMAT, "Slice node '%s': axis %lld is out of range or repeated for input %s",
                              nd->name, (long long)L->s_axis[k], s);
        int64_t st = clamp_bound(L->s_start[k], x->dims[ax]), en = clamp_bound(L->s_end[k], x->dims[ax]);
        if (ax == 0) {
            if (st != 0 || L->s_end[k] < INT32_MAX || L->s_step[k] != 1)
                return xfiq_error(XFIQ_ERR_UNSUPPORTED, "Slice node '%s': slicing the batch axis is not supported",
                                  nd->name);
            continue;
        }
        L->start[ax] = st;
        L->step[ax] = L->s_step[k];
        dims[ax] = en > st ? (en - st + L->s_step[k] - 1) / L->s_step[k] : 0;
    }
    set_shape(y, r, dims);
    return XFIQ_OK;
}

xfiq_status xfiq_graph_shape_infer(xfiq_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        xfiq_node *nd = &g->nodes[i];
        const xfiq_value *x = &g->values[nd->in[0]];
        xfiq_value *y = &g->values[nd->out];
        char s[128];
        shape_str(x, s, sizeof s);
        switch (nd->op) {
        case XFIQ_OP_CONV:
            XFIQ_TRY(infer_conv(g, nd, x, y));
            break;
        case XFIQ_OP_GEMM:
            /* [N,k], or [N,k,1,1] for a 1x1 Conv on a 1x1 map turned into a Gemm (passes.c). */
            if (x->ndim < 2 || x->dims[1] != nd->d.gemm.k || x->numel != nd->d.gemm.k)
                return xfiq_error(XFIQ_ERR_SHAPE, "%s node '%s': input %s, expected [N,%d]", nd->onnx_op, nd->name, s,
                                  nd->d.gemm.k);
            {
                int64_t dims[XFIQ_MAX_DIMS];
                for (int a = 0; a < x->ndim; a++)
                    dims[a] = a == 1 ? nd->d.gemm.m : 1;
                set_shape(y, x->ndim, dims);
            }
            break;
        case XFIQ_OP_GAP:
            if (x->ndim < 3)
                return xfiq_error(XFIQ_ERR_SHAPE, "GlobalAveragePool node '%s': input %s has no spatial dims", nd->name, s);
            {
                int64_t dims[XFIQ_MAX_DIMS];
                for (int a = 0; a < x->ndim; a++)
                    dims[a] = a < 2 ? x->dims[a] : 1;
                set_shape(y, x->ndim, dims);
            }
            break;
        case XFIQ_OP_BINARY: {
            const xfiq_value *x2 = &g->values[nd->in[1]];
            if (x2->ndim != x->ndim || memcmp(x->dims, x2->dims, (size_t)x->ndim * sizeof x->dims[0]) != 0) {
                char s2[128];
                shape_str(x2, s2, sizeof s2);
                return xfiq_error(XFIQ_ERR_SHAPE, "%s node '%s': inputs %s and %s differ (broadcasting between "
                                  "activations is not supported)", nd->onnx_op, nd->name, s, s2);
            }
            set_shape(y, x->ndim, x->dims);
            break;
        }
        case XFIQ_OP_AFFINE:
            if (x->ndim < 2 || x->dims[1] != nd->channels)
                return xfiq_error(XFIQ_ERR_SHAPE, "%s node '%s': input %s, expected %d channels", nd->onnx_op, nd->name,
                                  s, nd->channels);
            set_shape(y, x->ndim, x->dims);
            break;
        case XFIQ_OP_PRELU:
        case XFIQ_OP_BINCONST: {
            set_shape(y, x->ndim, x->dims);
            if (nd->channels != 0) { /* resolved by an earlier finalize */
                if (nd->channels > 0 && (x->ndim < 2 || x->dims[1] != nd->channels))
                    return xfiq_error(XFIQ_ERR_SHAPE, "node '%s': channel count changed", nd->name);
                break;
            }
            int kind = classify_broadcast(nd, x);
            if (kind == BCAST_BAD)
                return xfiq_error(XFIQ_ERR_SHAPE, "%s node '%s': constant of %d dims does not broadcast to input %s",
                                  nd->onnx_op, nd->name, nd->kndim, s);
            int c = x->ndim >= 2 ? (int)x->dims[1] : 1;
            if (nd->op == XFIQ_OP_PRELU) {
                if (kind == BCAST_FULL)
                    return xfiq_error(XFIQ_ERR_UNSUPPORTED, "PRelu node '%s': slope must be scalar or per channel "
                                      "for input %s", nd->name, s);
                nd->slope = nd->w;
                nd->w = -1;
                nd->slope_per_channel = kind == BCAST_CHANNEL;
                nd->channels = c;
            } else if (kind != BCAST_FULL && !(nd->const_first && nd->bin == XFIQ_BIN_DIV)) {
                XFIQ_TRY(binconst_to_affine(g, nd, c, kind == BCAST_SCALAR));
            } else {
                int64_t off = expand_constant(g, nd, x);
                if (off < 0)
                    return xfiq_error(XFIQ_ERR_NOMEM, "out of memory expanding the constant of node '%s'", nd->name);
                nd->w = off;
                nd->channels = -1;
            }
            break;
        }
        case XFIQ_OP_RELU:
            set_shape(y, x->ndim, x->dims);
            break;
        case XFIQ_OP_VIEW:
            XFIQ_TRY(infer_view(nd, x, y));
            break;
        case XFIQ_OP_CONCAT:
            XFIQ_TRY(infer_concat(g, nd, x, y, s));
            break;
        case XFIQ_OP_TRANSPOSE:
            XFIQ_TRY(infer_transpose(nd, x, y, s));
            break;
        case XFIQ_OP_SLICE:
            XFIQ_TRY(infer_slice(nd, x, y, s));
            break;
        case XFIQ_OP_SOFTMAX: {
            int axis = 1;
            XFIQ_TRY(resolve_axis(nd, nd->d.lay.axis, x->ndim, s, &axis));
            nd->d.lay.axis = axis;
            set_shape(y, x->ndim, x->dims);
            break;
        }
        case XFIQ_OP_UNARY:
            set_shape(y, x->ndim, x->dims);
            break;
        default:
            return xfiq_error(XFIQ_ERR_INTERNAL, "node '%s': unknown op %d", nd->name, (int)nd->op);
        }
        for (int a = 1; a < y->ndim; a++)
            if (y->dims[a] < 0 || y->dims[a] > XFIQ_MAX_DIM)
                return xfiq_error(XFIQ_ERR_SHAPE, "%s node '%s': output dimension %d is %lld (outside [0, 2^24])",
                                  nd->onnx_op, nd->name, a, (long long)y->dims[a]);
        if (y->numel < 0 || y->numel > XFIQ_MAX_NUMEL)
            return xfiq_error(XFIQ_ERR_SHAPE, "%s node '%s': output of more than 2^26 values per image (input %s)",
                              nd->onnx_op, nd->name, s);
    }
    return XFIQ_OK;
}
