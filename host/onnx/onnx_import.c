/* onnx_import.c - maps ONNX nodes onto xfiq's ops. Constants (initializers and
 * Constant nodes) are kept in a side table and become parameters of the nodes
 * that use them; only activations become graph values. */
#include "onnx/onnx_import.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/readall.h"
#include "onnx/onnx.pb-c.h"
#include "ops/elem.h"

typedef struct onnx_const {
    const char *name;
    int ndim;
    int64_t dims[XFIQ_MAX_DIMS];
    int64_t count;
    float *f;       /* values as float */
    int64_t *i64;   /* values as int64 (for shapes) */
    int shape_of;   /* >= 0: Shape of this activation, values unknown until shape inference */
    int symbolic;   /* some i64 is XFIQ_SYM_BATCH or it is a Shape: only shape arithmetic may read it */
} onnx_const;

/* Every constant is decoded once into the side table (12 bytes a value) and
 * copied into the parameters of each node that uses it (4 bytes a value), so
 * a small file whose one weight feeds thousands of nodes, or whose many
 * tensors each pass the per-tensor checks, could still ask for gigabytes.
 * A real model needs about 4x its file size (float32 weights used once);
 * the total is refused beyond IMPORT_MAX_EXPANSION x the file + 64 MiB. */
#define IMPORT_MAX_EXPANSION 8
#define IMPORT_BASE_BYTES ((size_t)64 << 20)

/* The batch size in a folded shape tensor (Shape -> Gather(0) -> ...): known
 * only at run time, and only allowed as a Reshape's leading entry, where it
 * means "keep the batch". */
#define XFIQ_SYM_BATCH (INT64_MIN + 1)

typedef struct import_ctx {
    const char *file;
    int64_t opset;  /* of the default domain */
    xfiq_graph *g;
    onnx_const *consts;
    int n_consts, cap_consts;
    size_t file_len;
    size_t budget, used; /* bytes of constants and parameters: the limit and so far */
} import_ctx;

enum { ONNX_FLOAT = 1, ONNX_INT32 = 6, ONNX_INT64 = 7, ONNX_DOUBLE = 11 };

/* protobuf-c leaves absent optional strings NULL. */
static const char *S(const char *s) { return s ? s : ""; }

static xfiq_status fail(import_ctx *c, xfiq_status st, const char *fmt, const char *a, const char *b, const char *d)
{
    char msg[768];
    snprintf(msg, sizeof msg, fmt, S(a), S(b), S(d));
    return xfiq_error(st, "%s: %s", c->file, msg);
}

static const onnx_const *find_const(const import_ctx *c, const char *name)
{
    if (!name || !*name)
        return NULL;
    for (int i = c->n_consts - 1; i >= 0; i--)
        if (strcmp(c->consts[i].name, name) == 0)
            return &c->consts[i];
    return NULL;
}

/* Books n values of elem bytes each for what (a tensor or node name). */
static xfiq_status charge(import_ctx *c, int64_t n, size_t elem, const char *kind, const char *what)
{
    const size_t avail = c->budget - c->used;
    if (n < 0 || (uint64_t)n > avail / elem || (size_t)n * elem + 64 > avail)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: the model's constants expand to more than %zu MiB in memory at %s "
                          "'%s' (limit: %d x the %zu-byte file + 64 MiB; a weight shared by many nodes, or many "
                          "large tensors?): refused", c->file, c->budget >> 20, kind, S(what), IMPORT_MAX_EXPANSION,
                          c->file_len);
    c->used += (size_t)n * elem + 64; /* + alignment and bookkeeping */
    return XFIQ_OK;
}

static int64_t le_i64(const uint8_t *p) { int64_t v; memcpy(&v, p, 8); return v; }
static int32_t le_i32(const uint8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }
static float le_f32(const uint8_t *p) { float v; memcpy(&v, p, 4); return v; }
static double le_f64(const uint8_t *p) { double v; memcpy(&v, p, 8); return v; }

/* The next free entry of the constants table (grown as needed), zeroed; the
 * caller fills it and counts it in n_consts. */
static xfiq_status const_slot(import_ctx *c, onnx_const **out)
{
    if (c->n_consts == c->cap_consts) {
        int cap = c->cap_consts ? 2 * c->cap_consts : 256;
        onnx_const *p = realloc(c->consts, (size_t)cap * sizeof *p);
        if (!p)
            return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", c->file);
        c->consts = p;
        c->cap_consts = cap;
    }
    *out = &c->consts[c->n_consts];
    memset(*out, 0, sizeof **out);
    return XFIQ_OK;
}

/* Decodes a TensorProto's data into float and int64 arrays. */
static xfiq_status add_const(import_ctx *c, const char *name, const Onnx__TensorProto *t)
{
    if (t->n_dims > XFIQ_MAX_DIMS)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "tensor '%s' has more than 6 dims%s%s", name, "", "");
    if (c->n_consts >= 4 * XFIQ_MAX_NODES)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "tensor '%s': more than %s constants in one model%s", name, "131072", "");
    if (t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL || t->n_external_data)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "tensor '%s' keeps its data in an external file (not supported)%s%s",
                    name, "", "");
    int64_t count = 1;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0 || (t->dims[i] > 0 && count > ((int64_t)1 << 40) / t->dims[i]))
            return fail(c, XFIQ_ERR_FORMAT, "tensor '%s' has an invalid dimension (negative, or more than 2^40 "
                        "values)%s%s", name, "", "");
        count *= t->dims[i];
    }
    int dt = t->data_type;
    size_t esize = dt == ONNX_FLOAT || dt == ONNX_INT32 ? 4 : dt == ONNX_INT64 || dt == ONNX_DOUBLE ? 8 : 0;
    if (!esize) {
        char dts[16];
        snprintf(dts, sizeof dts, "%d", dt);
        return fail(c, XFIQ_ERR_UNSUPPORTED, "tensor '%s' has data type %s (supported: float, double, int32, int64)%s",
                    name, dts, "");
    }
    size_t have;
    if (t->has_raw_data)
        have = t->raw_data.len / esize;
    else if (dt == ONNX_FLOAT)
        have = t->n_float_data;
    else if (dt == ONNX_INT32)
        have = t->n_int32_data;
    else if (dt == ONNX_INT64)
        have = t->n_int64_data;
    else
        have = t->n_double_data;
    if (t->has_raw_data && t->raw_data.len != (size_t)count * esize)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: tensor '%s' has %zu bytes of raw data but its dims need %lld values "
                          "of %zu bytes = %lld bytes (truncated file?)", c->file, S(name), t->raw_data.len,
                          (long long)count, esize, (long long)count * (long long)esize);
    if ((int64_t)have != count)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: tensor '%s' holds %zu values but its dims need %lld (truncated file?)",
                          c->file, S(name), have, (long long)count);
    XFIQ_TRY(charge(c, count, sizeof(float) + sizeof(int64_t), "tensor", name));
    onnx_const *k = NULL;
    XFIQ_TRY(const_slot(c, &k));
    k->name = name;
    k->shape_of = -1;
    k->ndim = (int)t->n_dims;
    for (size_t i = 0; i < t->n_dims; i++)
        k->dims[i] = t->dims[i];
    k->count = count;
    k->f = malloc((size_t)(count ? count : 1) * sizeof(float));
    k->i64 = malloc((size_t)(count ? count : 1) * sizeof(int64_t));
    if (!k->f || !k->i64) {
        free(k->f);
        free(k->i64);
        return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory for tensor '%s'", c->file, name);
    }
    const uint8_t *raw = t->has_raw_data ? t->raw_data.data : NULL;
    for (int64_t i = 0; i < count; i++) {
        double v;
        switch (dt) {
        case ONNX_FLOAT: v = raw ? le_f32(raw + 4 * i) : t->float_data[i]; break;
        case ONNX_INT32: v = raw ? le_i32(raw + 4 * i) : t->int32_data[i]; break;
        case ONNX_INT64: v = (double)(raw ? le_i64(raw + 8 * i) : t->int64_data[i]); break;
        default: v = raw ? le_f64(raw + 8 * i) : t->double_data[i]; break;
        }
        k->f[i] = (float)v;
        /* float/double -> int64 only where representable (shape tensors are
         * int64 anyway; NaN or out-of-range values can never be a shape) */
        k->i64[i] = dt == ONNX_INT64 ? (raw ? le_i64(raw + 8 * i) : t->int64_data[i])
                  : v >= -9.2e18 && v <= 9.2e18 ? (int64_t)v : INT64_MIN;
    }
    c->n_consts++;
    return XFIQ_OK;
}

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0)
            return n->attribute[i];
    return NULL;
}

static int64_t attr_int(const Onnx__NodeProto *n, const char *name, int64_t dflt)
{
    const Onnx__AttributeProto *a = attr(n, name);
    return a ? a->i : dflt;
}

static const char *node_label(const Onnx__NodeProto *n);

/* Integer attribute (or its k-th list element when list) that must lie in
 * [lo, hi]: int64 values never get truncated to int silently. */
static xfiq_status attr_check(import_ctx *c, const Onnx__NodeProto *n, const char *name, int64_t v, int64_t lo,
                              int64_t hi)
{
    if (v >= lo && v <= hi)
        return XFIQ_OK;
    return xfiq_error(XFIQ_ERR_FORMAT, "%s: %s node '%s': attribute '%s' value %lld is outside [%lld, %lld]", c->file,
                      S(n->op_type), S(node_label(n)), name, (long long)v, (long long)lo, (long long)hi);
}

static float attr_float(const Onnx__NodeProto *n, const char *name, float dflt)
{
    const Onnx__AttributeProto *a = attr(n, name);
    return a ? a->f : dflt;
}

static const char *node_label(const Onnx__NodeProto *n)
{
    return n->name && *n->name ? n->name : (n->n_output && n->output[0] ? n->output[0] : "?");
}

/* Activation value for an input name (creates nothing: must exist). */
static int act_input(import_ctx *c, const Onnx__NodeProto *n, size_t k, int *out)
{
    if (k >= n->n_input || !n->input[k] || !*n->input[k]) {
        fail(c, XFIQ_ERR_FORMAT, "%s node '%s' lacks input %s", S(n->op_type), node_label(n),
             k == 0 ? "0" : k == 1 ? "1" : "2");
        return -1;
    }
    int v = xfiq_graph_find_value(c->g, n->input[k]);
    if (v < 0) {
        fail(c, XFIQ_ERR_FORMAT, "%s node '%s' reads '%s', which is neither a graph input, a node output "
             "nor a constant", n->op_type, node_label(n), n->input[k]);
        return -1;
    }
    *out = v;
    return 0;
}

static xfiq_status new_node(import_ctx *c, const Onnx__NodeProto *n, xfiq_op op, xfiq_node **out)
{
    if (n->n_output < 1 || !n->output[0] || !*n->output[0])
        return fail(c, XFIQ_ERR_FORMAT, "%s node '%s' has no output%s", n->op_type, node_label(n), "");
    int v = xfiq_graph_add_value(c->g, n->output[0]);
    int id = xfiq_graph_add_node(c->g, op, node_label(n), n->op_type);
    if (v < 0 || id < 0)
        return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", c->file);
    xfiq_node *nd = &c->g->nodes[id];
    nd->out = v;
    *out = nd;
    return XFIQ_OK;
}

/* count parameters for node n (copied from data, or zeros), booked against the budget. */
static xfiq_status add_params(import_ctx *c, const Onnx__NodeProto *n, const float *data, int64_t count,
                              int64_t *off)
{
    XFIQ_TRY(charge(c, count, sizeof(float), "node", node_label(n)));
    *off = xfiq_graph_add_params(c->g, data, count);
    return *off < 0 ? xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", c->file) : XFIQ_OK;
}

static xfiq_status params_from(import_ctx *c, const Onnx__NodeProto *n, const onnx_const *k, int64_t *off)
{
    return add_params(c, n, k->f, k->count, off);
}

static xfiq_status need_const(import_ctx *c, const Onnx__NodeProto *n, size_t k, const onnx_const **out)
{
    const onnx_const *kc = k < n->n_input ? find_const(c, n->input[k]) : NULL;
    if (!kc)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "%s node '%s': input '%s' must be a constant (initializer)", n->op_type,
                    node_label(n), k < n->n_input ? n->input[k] : "(missing)");
    if (kc->symbolic && strcmp(S(n->op_type), "Reshape") != 0)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "%s node '%s': input '%s' is computed from the run-time batch size "
                    "(only a Reshape target may be)", n->op_type, node_label(n), kc->name);
    *out = kc;
    return XFIQ_OK;
}

static xfiq_status import_conv(import_ctx *c, const Onnx__NodeProto *n)
{
    int x;
    const onnx_const *w, *b = NULL;
    if (act_input(c, n, 0, &x))
        return XFIQ_ERR_FORMAT;
    XFIQ_TRY(need_const(c, n, 1, &w));
    if (n->n_input > 2 && *n->input[2])
        XFIQ_TRY(need_const(c, n, 2, &b));
    if (w->ndim != 4)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "Conv node '%s': only 2-D convolutions are supported (weight '%s')%s",
                    node_label(n), w->name, "");
    for (int i = 0; i < 4; i++)
        XFIQ_TRY(attr_check(c, n, "weight dims", w->dims[i], 1, XFIQ_MAX_CONV_ATTR));
    xfiq_node *nd;
    XFIQ_TRY(new_node(c, n, XFIQ_OP_CONV, &nd));
    xfiq_conv_desc *d = &nd->d.conv;
    nd->in[0] = x;
    int64_t group = attr_int(n, "group", 1);
    XFIQ_TRY(attr_check(c, n, "group", group, 1, XFIQ_MAX_CONV_ATTR));
    XFIQ_TRY(attr_check(c, n, "group * weight dim 1", w->dims[1] * group, 1, XFIQ_MAX_CONV_ATTR));
    d->group = (int)group;
    d->cout = (int)w->dims[0];
    d->cin = (int)w->dims[1] * d->group;
    d->kh = (int)w->dims[2];
    d->kw = (int)w->dims[3];
    d->sh = d->sw = d->dh = d->dw = 1;
    const Onnx__AttributeProto *a;
    if ((a = attr(n, "kernel_shape")) && (a->n_ints != 2 || a->ints[0] != d->kh || a->ints[1] != d->kw))
        return fail(c, XFIQ_ERR_FORMAT, "Conv node '%s': kernel_shape disagrees with weight '%s'%s", node_label(n),
                    w->name, "");
    if ((a = attr(n, "strides"))) {
        if (a->n_ints != 2)
            return fail(c, XFIQ_ERR_FORMAT, "Conv node '%s': strides needs 2 values%s%s", node_label(n), "", "");
        for (int i = 0; i < 2; i++)
            XFIQ_TRY(attr_check(c, n, "strides", a->ints[i], 1, XFIQ_MAX_CONV_ATTR));
        d->sh = (int)a->ints[0];
        d->sw = (int)a->ints[1];
    }
    if ((a = attr(n, "dilations"))) {
        if (a->n_ints != 2)
            return fail(c, XFIQ_ERR_FORMAT, "Conv node '%s': dilations needs 2 values%s%s", node_label(n), "", "");
        for (int i = 0; i < 2; i++)
            XFIQ_TRY(attr_check(c, n, "dilations", a->ints[i], 1, XFIQ_MAX_CONV_ATTR));
        d->dh = (int)a->ints[0];
        d->dw = (int)a->ints[1];
    }
    if ((a = attr(n, "pads"))) {
        if (a->n_ints != 4)
            return fail(c, XFIQ_ERR_FORMAT, "Conv node '%s': pads needs 4 values%s%s", node_label(n), "", "");
        for (int i = 0; i < 4; i++)
            XFIQ_TRY(attr_check(c, n, "pads", a->ints[i], 0, XFIQ_MAX_CONV_ATTR));
        d->pad_t = (int)a->ints[0];
        d->pad_l = (int)a->ints[1];
        d->pad_b = (int)a->ints[2];
        d->pad_r = (int)a->ints[3];
    }
    if ((a = attr(n, "auto_pad")) && a->has_s && a->s.len) {
        char ap[32] = {0};
        memcpy(ap, a->s.data, a->s.len < 31 ? a->s.len : 31);
        for (char *q = ap; *q; q++)
            if (*q < 32 || *q > 126)
                *q = '?';
        nd->auto_pad = !strcmp(ap, "SAME_UPPER") ? 1 : !strcmp(ap, "SAME_LOWER") ? 2 : !strcmp(ap, "VALID") ? 3
                     : !strcmp(ap, "NOTSET") ? 0 : -1;
        if (nd->auto_pad < 0)
            return fail(c, XFIQ_ERR_UNSUPPORTED, "Conv node '%s': auto_pad '%s'%s", node_label(n), ap, "");
    }
    if (d->cout % d->group)
        return fail(c, XFIQ_ERR_FORMAT, "Conv node '%s': output channels are not a multiple of group%s%s",
                    node_label(n), "", "");
    XFIQ_TRY(params_from(c, n, w, &nd->w));
    if (b) {
        if (b->count != d->cout)
            return fail(c, XFIQ_ERR_FORMAT, "Conv node '%s': bias '%s' does not have cout values%s", node_label(n),
                        b->name, "");
        XFIQ_TRY(params_from(c, n, b, &nd->b));
    } else {
        XFIQ_TRY(add_params(c, n, NULL, d->cout, &nd->b)); /* zero bias: BN folding writes into it */
    }
    return XFIQ_OK;
}

static xfiq_status import_bn(import_ctx *c, const Onnx__NodeProto *n)
{
    int x;
    const onnx_const *k[4];
    if (act_input(c, n, 0, &x))
        return XFIQ_ERR_FORMAT;
    for (int i = 0; i < 4; i++)
        XFIQ_TRY(need_const(c, n, (size_t)i + 1, &k[i]));
    int64_t ch = k[0]->count;
    for (int i = 1; i < 4; i++)
        if (k[i]->count != ch)
            return fail(c, XFIQ_ERR_FORMAT, "BatchNormalization node '%s': scale/bias/mean/var sizes differ%s%s",
                        node_label(n), "", "");
    if (ch < 1 || ch > XFIQ_MAX_NUMEL)
        return fail(c, XFIQ_ERR_FORMAT, "BatchNormalization node '%s': scale '%s' has no or too many values%s",
                    node_label(n), k[0]->name, "");
    if (attr_int(n, "training_mode", 0))
        return fail(c, XFIQ_ERR_UNSUPPORTED, "BatchNormalization node '%s' is in training mode%s%s", node_label(n), "", "");
    float eps = attr_float(n, "epsilon", 1e-5f);
    xfiq_node *nd;
    XFIQ_TRY(new_node(c, n, XFIQ_OP_AFFINE, &nd));
    nd->in[0] = x;
    nd->channels = (int)ch;
    int64_t soff, toff;
    XFIQ_TRY(add_params(c, n, NULL, ch, &soff));
    XFIQ_TRY(add_params(c, n, NULL, ch, &toff));
    for (int64_t i = 0; i < ch; i++) {
        /* In double so that the folded scale/shift round once. */
        double s = (double)k[0]->f[i] / sqrt((double)k[3]->f[i] + (double)eps);
        c->g->params[soff + i] = (float)s;
        c->g->params[toff + i] = (float)((double)k[1]->f[i] - (double)k[2]->f[i] * s);
    }
    nd->w = soff;
    nd->b = toff;
    return XFIQ_OK;
}

static xfiq_status import_gemm(import_ctx *c, const Onnx__NodeProto *n, int is_matmul)
{
    int x;
    const onnx_const *w, *b = NULL;
    if (act_input(c, n, 0, &x))
        return XFIQ_ERR_FORMAT;
    XFIQ_TRY(need_const(c, n, 1, &w));
    if (!is_matmul && n->n_input > 2 && *n->input[2])
        XFIQ_TRY(need_const(c, n, 2, &b));
    if (w->ndim != 2)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "%s node '%s': weight '%s' must be 2-D", n->op_type, node_label(n), w->name);
    if (!is_matmul && attr_int(n, "transA", 0))
        return fail(c, XFIQ_ERR_UNSUPPORTED, "Gemm node '%s': transA=1 would transpose the batch%s%s", node_label(n), "", "");
    int64_t tb = is_matmul ? 0 : attr_int(n, "transB", 0);
    XFIQ_TRY(attr_check(c, n, "transB", tb, 0, 1));
    for (int i = 0; i < 2; i++)
        XFIQ_TRY(attr_check(c, n, "weight dims", w->dims[i], 1, XFIQ_MAX_NUMEL));
    int transb = (int)tb;
    float alpha = is_matmul ? 1.0f : attr_float(n, "alpha", 1.0f), beta = is_matmul ? 1.0f : attr_float(n, "beta", 1.0f);
    int k = (int)(transb ? w->dims[1] : w->dims[0]), m = (int)(transb ? w->dims[0] : w->dims[1]);
    xfiq_node *nd;
    XFIQ_TRY(new_node(c, n, XFIQ_OP_GEMM, &nd));
    nd->in[0] = x;
    nd->d.gemm.k = k;
    nd->d.gemm.m = m;
    int64_t woff, boff;
    XFIQ_TRY(add_params(c, n, NULL, (int64_t)k * m, &woff));
    XFIQ_TRY(add_params(c, n, NULL, m, &boff));
    float *W = c->g->params + woff, *B = c->g->params + boff;
    for (int i = 0; i < m; i++) /* store as (m, k) row-major */
        for (int j = 0; j < k; j++)
            W[(int64_t)i * k + j] = alpha * (transb ? w->f[(int64_t)i * k + j] : w->f[(int64_t)j * m + i]);
    if (b) {
        if (b->count != m && b->count != 1)
            return fail(c, XFIQ_ERR_UNSUPPORTED, "Gemm node '%s': bias '%s' must have 1 or N values%s", node_label(n),
                        b->name, "");
        for (int i = 0; i < m; i++)
            B[i] = beta * b->f[b->count == 1 ? 0 : i];
    }
    nd->w = woff;
    nd->b = boff;
    return XFIQ_OK;
}

/* Add/Sub/Mul/Div: activation-activation, activation-constant or constant-activation. */
static xfiq_status import_binary(import_ctx *c, const Onnx__NodeProto *n, int bin)
{
    if (n->n_input != 2)
        return fail(c, XFIQ_ERR_FORMAT, "%s node '%s' needs 2 inputs%s", n->op_type, node_label(n), "");
    if (!n->input[0] || !n->input[1])
        return fail(c, XFIQ_ERR_FORMAT, "%s node '%s' has an unnamed input%s", n->op_type, node_label(n), "");
    const onnx_const *k0 = find_const(c, n->input[0]), *k1 = find_const(c, n->input[1]);
    if (k0 && k1)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "%s node '%s': both inputs are constants (constant folding of this "
                    "op is not supported)%s", n->op_type, node_label(n), "");
    xfiq_node *nd;
    if (!k0 && !k1) {
        int a, b;
        if (act_input(c, n, 0, &a) || act_input(c, n, 1, &b))
            return XFIQ_ERR_FORMAT;
        XFIQ_TRY(new_node(c, n, XFIQ_OP_BINARY, &nd));
        nd->in[0] = a;
        nd->in[1] = b;
        nd->bin = bin;
        return XFIQ_OK;
    }
    const onnx_const *k = k0 ? k0 : k1;
    if (k->symbolic)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "%s node '%s': operand '%s' is a shape computed at run time",
                    n->op_type, node_label(n), k->name);
    int x;
    if (act_input(c, n, k0 ? 1 : 0, &x))
        return XFIQ_ERR_FORMAT;
    XFIQ_TRY(new_node(c, n, XFIQ_OP_BINCONST, &nd));
    nd->in[0] = x;
    nd->bin = bin;
    nd->const_first = k0 != NULL;
    nd->kndim = k->ndim;
    memcpy(nd->kshape, k->dims, sizeof nd->kshape);
    return params_from(c, n, k, &nd->w);
}

static xfiq_status import_view(import_ctx *c, const Onnx__NodeProto *n, int kind)
{
    int x;
    if (act_input(c, n, 0, &x))
        return XFIQ_ERR_FORMAT;
    if (kind == 2 && n->n_output > 1 && n->output[1] && *n->output[1]) {
        /* The mask output is only a problem if something reads it; nothing we support does. */
    }
    const onnx_const *shape = NULL;
    if (kind == 1) {
        if (n->n_input < 2)
            return fail(c, XFIQ_ERR_UNSUPPORTED, "Reshape node '%s' without a shape input (opset < 5)%s%s",
                        node_label(n), "", "");
        XFIQ_TRY(need_const(c, n, 1, &shape));
        if (shape->count < 1 || shape->count > XFIQ_MAX_DIMS)
            return fail(c, XFIQ_ERR_UNSUPPORTED, "Reshape node '%s': target shape '%s' has an unsupported rank%s",
                        node_label(n), shape->name, "");
        if (attr_int(n, "allowzero", 0))
            return fail(c, XFIQ_ERR_UNSUPPORTED, "Reshape node '%s': allowzero=1%s%s", node_label(n), "", "");
    }
    xfiq_node *nd;
    XFIQ_TRY(new_node(c, n, XFIQ_OP_VIEW, &nd));
    nd->in[0] = x;
    if (kind == 1) {
        nd->view_ndim = (int)shape->count;
        for (int i = 0; i < nd->view_ndim; i++) {
            nd->view_dims[i] = shape->i64[i];
            if (shape->i64[i] == XFIQ_SYM_BATCH) {
                if (i != 0)
                    return fail(c, XFIQ_ERR_UNSUPPORTED, "Reshape node '%s': the batch size is used away from the "
                                "first entry of target shape '%s'%s", node_label(n), shape->name, "");
                nd->view_dims[i] = 0; /* 0 keeps the input's dim 0, the batch */
            }
        }
    } else if (kind == 3) {
        int64_t axis = attr_int(n, "axis", 1);
        XFIQ_TRY(attr_check(c, n, "axis", axis, -XFIQ_MAX_DIMS, XFIQ_MAX_DIMS));
        nd->view_ndim = axis == 0 ? -1000 : axis < 0 ? -1000 + (int)axis : (int)-axis; /* -1001..-1006: negative */
    }
    return XFIQ_OK;
}

/* ------------------------------------------------ the detector's ops
 * Shape arithmetic (Shape, Gather, Unsqueeze, Concat of constants) is folded
 * here into constants; the batch size, unknown until run time, folds to
 * XFIQ_SYM_BATCH. Activations get CONCAT, TRANSPOSE, SLICE, SOFTMAX, UNARY. */

/* A new constant of count values, zeroed; its name is borrowed from the file. */
static xfiq_status new_const(import_ctx *c, const Onnx__NodeProto *n, int ndim, const int64_t *dims,
                             onnx_const **out)
{
    if (n->n_output < 1 || !n->output[0] || !*n->output[0])
        return fail(c, XFIQ_ERR_FORMAT, "%s node '%s' has no output%s", n->op_type, node_label(n), "");
    if (c->n_consts >= 4 * XFIQ_MAX_NODES)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "node '%s': more than %s constants in one model%s", node_label(n),
                    "131072", "");
    int64_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0 || dims[i] > XFIQ_MAX_NUMEL || (dims[i] && count > XFIQ_MAX_NUMEL / dims[i]))
            return fail(c, XFIQ_ERR_UNSUPPORTED, "%s node '%s': constant result of more than 2^26 values%s",
                        n->op_type, node_label(n), "");
        count *= dims[i];
    }
    onnx_const *k = NULL;
    XFIQ_TRY(const_slot(c, &k));
    k->name = n->output[0];
    k->shape_of = -1;
    k->ndim = ndim;
    memcpy(k->dims, dims, (size_t)ndim * sizeof *dims);
    k->count = count;
    k->f = calloc((size_t)(count ? count : 1), sizeof(float));
    k->i64 = calloc((size_t)(count ? count : 1), sizeof(int64_t));
    if (!k->f || !k->i64) {
        free(k->f);
        free(k->i64);
        return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", c->file);
    }
    c->n_consts++;
    *out = k;
    return XFIQ_OK;
}

static void const_set_i64(onnx_const *k, int64_t i, int64_t v)
{
    k->i64[i] = v;
    k->f[i] = v == XFIQ_SYM_BATCH ? NAN : (float)v;
    if (v == XFIQ_SYM_BATCH)
        k->symbolic = 1;
}

static xfiq_status import_shape(import_ctx *c, const Onnx__NodeProto *n)
{
    int x;
    if (act_input(c, n, 0, &x))
        return XFIQ_ERR_FORMAT;
    if (attr(n, "start") || attr(n, "end"))
        return fail(c, XFIQ_ERR_UNSUPPORTED, "Shape node '%s': start/end attributes are not supported%s%s",
                    node_label(n), "", "");
    int64_t dims[1] = {0};
    onnx_const *k = NULL;
    XFIQ_TRY(new_const(c, n, 1, dims, &k));
    k->shape_of = x;
    k->symbolic = 1;
    return XFIQ_OK;
}

/* Gather on constants: entry 0 of a Shape (the batch), or any 1-D constant. */
static xfiq_status import_gather(import_ctx *c, const Onnx__NodeProto *n)
{
    if (n->n_input != 2 || !n->input[0] || !n->input[1])
        return fail(c, XFIQ_ERR_FORMAT, "Gather node '%s' needs 2 inputs%s%s", node_label(n), "", "");
    const onnx_const *d = find_const(c, n->input[0]), *ix = find_const(c, n->input[1]);
    if (!d || !ix)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "Gather node '%s': only a Gather of constants or of a Shape is "
                    "supported (input '%s')%s", node_label(n), d ? n->input[1] : n->input[0], "");
    if (attr_int(n, "axis", 0) != 0 || (d->shape_of < 0 && d->ndim != 1) || ix->symbolic || ix->ndim > 1)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "Gather node '%s': only axis 0 of a 1-D constant with scalar or 1-D "
                    "indices is supported%s%s", node_label(n), "", "");
    int64_t dims[1] = {ix->count};
    onnx_const *k = NULL;
    XFIQ_TRY(new_const(c, n, ix->ndim, dims, &k));
    for (int64_t i = 0; i < ix->count; i++) {
        int64_t j = ix->i64[i];
        if (d->shape_of >= 0) {
            if (j != 0)
                return fail(c, XFIQ_ERR_UNSUPPORTED, "Gather node '%s': only entry 0 (the batch) of a Shape may be "
                            "read (asked for another)%s%s", node_label(n), "", "");
            const_set_i64(k, i, XFIQ_SYM_BATCH);
            continue;
        }
        if (j < 0)
            j += d->count;
        if (j < 0 || j >= d->count)
            return fail(c, XFIQ_ERR_FORMAT, "Gather node '%s': index out of range of '%s'%s", node_label(n), d->name,
                        "");
        k->i64[i] = d->i64[j];
        k->f[i] = d->f[j];
    }
    k->symbolic |= d->symbolic && d->shape_of < 0;
    return XFIQ_OK;
}

/* Unsqueeze of a constant: the values stay, dims of 1 are inserted. */
static xfiq_status import_unsqueeze(import_ctx *c, const Onnx__NodeProto *n)
{
    const onnx_const *x = n->n_input >= 1 ? find_const(c, n->input[0]) : NULL;
    if (!x || x->shape_of >= 0)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "Unsqueeze node '%s': only constants may be unsqueezed (input '%s')%s",
                    node_label(n), n->n_input ? S(n->input[0]) : "", "");
    const Onnx__AttributeProto *a = attr(n, "axes");
    const onnx_const *ax = a ? NULL : n->n_input >= 2 ? find_const(c, n->input[1]) : NULL;
    size_t na = a ? a->n_ints : ax ? (size_t)ax->count : 0;
    if (na < 1 || x->ndim + (int64_t)na > XFIQ_MAX_DIMS || (ax && ax->symbolic))
        return fail(c, XFIQ_ERR_UNSUPPORTED, "Unsqueeze node '%s': needs 1 to %s constant axes within 6 dims%s",
                    node_label(n), "6", "");
    int r = x->ndim + (int)na, is_new[XFIQ_MAX_DIMS] = {0};
    for (size_t i = 0; i < na; i++) {
        int64_t v = a ? a->ints[i] : ax->i64[i];
        if (v < 0)
            v += r;
        if (v < 0 || v >= r || is_new[v]++)
            return fail(c, XFIQ_ERR_FORMAT, "Unsqueeze node '%s': axis out of range or repeated%s%s", node_label(n),
                        "", "");
    }
    int64_t dims[XFIQ_MAX_DIMS];
    for (int i = 0, j = 0; i < r; i++)
        dims[i] = is_new[i] ? 1 : x->dims[j++];
    onnx_const *k = NULL;
    XFIQ_TRY(new_const(c, n, r, dims, &k));
    x = find_const(c, n->input[0]); /* new_const may have moved the table */
    memcpy(k->f, x->f, (size_t)x->count * sizeof *k->f);
    memcpy(k->i64, x->i64, (size_t)x->count * sizeof *k->i64);
    k->symbolic = x->symbolic;
    return XFIQ_OK;
}

/* Concat of constants (shape arithmetic) folds; of activations it becomes a
 * chain of two-input CONCAT nodes. */
static xfiq_status import_concat(import_ctx *c, const Onnx__NodeProto *n)
{
    const Onnx__AttributeProto *ax = attr(n, "axis");
    if (!ax)
        return fail(c, XFIQ_ERR_FORMAT, "Concat node '%s' has no axis attribute%s%s", node_label(n), "", "");
    XFIQ_TRY(attr_check(c, n, "axis", ax->i, -XFIQ_MAX_DIMS, XFIQ_MAX_DIMS - 1));
    if (n->n_input < 1 || n->n_input > 1024)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "Concat node '%s' has %s inputs (1 to 1024 supported)%s", node_label(n),
                    n->n_input ? "more than 1024" : "no", "");
    size_t n_const = 0;
    for (size_t i = 0; i < n->n_input; i++) {
        if (!n->input[i] || !*n->input[i])
            return fail(c, XFIQ_ERR_FORMAT, "Concat node '%s' has an unnamed input%s%s", node_label(n), "", "");
        n_const += find_const(c, n->input[i]) != NULL;
    }
    if (n_const == n->n_input) {
        int64_t total = 0;
        for (size_t i = 0; i < n->n_input; i++) {
            const onnx_const *k = find_const(c, n->input[i]);
            if (k->ndim != 1 || k->shape_of >= 0 || (ax->i != 0 && ax->i != -1))
                return fail(c, XFIQ_ERR_UNSUPPORTED, "Concat node '%s': constant inputs must be 1-D (input '%s')%s",
                            node_label(n), k->name, "");
            total += k->count;
        }
        onnx_const *out;
        XFIQ_TRY(new_const(c, n, 1, &total, &out));
        int64_t at = 0;
        for (size_t i = 0; i < n->n_input; i++) {
            const onnx_const *k = find_const(c, n->input[i]);
            memcpy(out->f + at, k->f, (size_t)k->count * sizeof *out->f);
            memcpy(out->i64 + at, k->i64, (size_t)k->count * sizeof *out->i64);
            out->symbolic |= k->symbolic;
            at += k->count;
        }
        return XFIQ_OK;
    }
    if (n_const)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "Concat node '%s' mixes constants and activations%s%s", node_label(n),
                    "", "");
    int prev;
    if (act_input(c, n, 0, &prev))
        return XFIQ_ERR_FORMAT;
    if (n->n_input == 1) { /* a Concat of one input is a copy */
        xfiq_node *nd;
        XFIQ_TRY(new_node(c, n, XFIQ_OP_VIEW, &nd));
        nd->in[0] = prev;
        return XFIQ_OK;
    }
    for (size_t i = 1; i < n->n_input; i++) {
        int b;
        if (act_input(c, n, i, &b))
            return XFIQ_ERR_FORMAT;
        int out, id;
        if (i + 1 == n->n_input) {
            if (n->n_output < 1 || !n->output[0] || !*n->output[0])
                return fail(c, XFIQ_ERR_FORMAT, "Concat node '%s' has no output%s%s", node_label(n), "", "");
            out = xfiq_graph_add_value(c->g, n->output[0]);
        } else { /* a name no ONNX value can clash with: '#' then the step */
            char tmp[600];
            snprintf(tmp, sizeof tmp, "%.500s#concat%zu", node_label(n), i);
            out = xfiq_graph_add_value(c->g, tmp);
        }
        id = xfiq_graph_add_node(c->g, XFIQ_OP_CONCAT, node_label(n), n->op_type);
        if (out < 0 || id < 0)
            return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", c->file);
        xfiq_node *nd = &c->g->nodes[id];
        nd->in[0] = prev;
        nd->in[1] = b;
        nd->out = out;
        nd->d.lay.axis = (int)ax->i;
        prev = out;
    }
    return XFIQ_OK;
}

static xfiq_status import_transpose(import_ctx *c, const Onnx__NodeProto *n)
{
    int x;
    if (act_input(c, n, 0, &x))
        return XFIQ_ERR_FORMAT;
    const Onnx__AttributeProto *a = attr(n, "perm");
    if (a && a->n_ints > XFIQ_MAX_DIMS)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "Transpose node '%s': perm of more than 6 axes%s%s", node_label(n), "",
                    "");
    xfiq_node *nd;
    XFIQ_TRY(new_node(c, n, XFIQ_OP_TRANSPOSE, &nd));
    nd->in[0] = x;
    nd->d.lay.n_perm = a ? (int)a->n_ints : 0;
    for (int i = 0; i < nd->d.lay.n_perm; i++) {
        XFIQ_TRY(attr_check(c, n, "perm", a->ints[i], 0, XFIQ_MAX_DIMS - 1));
        nd->d.lay.perm[i] = (int)a->ints[i];
    }
    return XFIQ_OK;
}

/* Slice: attributes before opset 10, constant inputs from it on. */
static xfiq_status import_slice(import_ctx *c, const Onnx__NodeProto *n)
{
    int x;
    if (act_input(c, n, 0, &x))
        return XFIQ_ERR_FORMAT;
    int64_t v[4][XFIQ_MAX_DIMS];
    size_t cnt[4] = {0, 0, 0, 0}; /* starts, ends, axes, steps */
    int given[4] = {0, 0, 0, 0};
    static const char *names[4] = {"starts", "ends", "axes", "steps"};
    for (int k = 0; k < 4; k++) {
        const Onnx__AttributeProto *a = k < 3 ? attr(n, names[k]) : NULL;
        const onnx_const *kc = n->n_input > (size_t)k + 1 && n->input[k + 1] && *n->input[k + 1]
                                   ? find_const(c, n->input[k + 1]) : NULL;
        if (n->n_input > (size_t)k + 1 && n->input[k + 1] && *n->input[k + 1] && !kc)
            return fail(c, XFIQ_ERR_UNSUPPORTED, "Slice node '%s': input '%s' must be a constant%s", node_label(n),
                        n->input[k + 1], "");
        if (kc && kc->symbolic)
            return fail(c, XFIQ_ERR_UNSUPPORTED, "Slice node '%s': input '%s' is computed at run time%s",
                        node_label(n), kc->name, "");
        cnt[k] = a ? a->n_ints : kc ? (size_t)kc->count : 0;
        given[k] = a || kc;
        if (cnt[k] > XFIQ_MAX_DIMS)
            return fail(c, XFIQ_ERR_UNSUPPORTED, "Slice node '%s': '%s' has more than 6 entries%s", node_label(n),
                        names[k], "");
        for (size_t i = 0; i < cnt[k]; i++)
            v[k][i] = a ? a->ints[i] : kc->i64[i];
    }
    if (!given[0] || !given[1] || cnt[0] != cnt[1] || (given[2] && cnt[2] != cnt[0]) ||
        (given[3] && cnt[3] != cnt[0]))
        return fail(c, XFIQ_ERR_FORMAT, "Slice node '%s': starts, ends, axes and steps must have the same length%s%s",
                    node_label(n), "", "");
    xfiq_node *nd;
    XFIQ_TRY(new_node(c, n, XFIQ_OP_SLICE, &nd));
    nd->in[0] = x;
    xfiq_layout_desc *L = &nd->d.lay;
    L->n_slice = (int)cnt[0];
    for (int i = 0; i < L->n_slice; i++) {
        L->s_start[i] = v[0][i] == INT64_MIN ? INT64_MIN + 1 : v[0][i]; /* negation must not overflow */
        L->s_end[i] = v[1][i] == INT64_MIN ? INT64_MIN + 1 : v[1][i];
        L->s_axis[i] = given[2] ? v[2][i] : i;
        L->s_step[i] = given[3] ? v[3][i] : 1;
        XFIQ_TRY(attr_check(c, n, "axes", L->s_axis[i], -XFIQ_MAX_DIMS, XFIQ_MAX_DIMS - 1));
        XFIQ_TRY(attr_check(c, n, "steps (positive only)", L->s_step[i], 1, XFIQ_MAX_DIM));
    }
    return XFIQ_OK;
}

static xfiq_status import_softmax(import_ctx *c, const Onnx__NodeProto *n)
{
    int x;
    if (act_input(c, n, 0, &x))
        return XFIQ_ERR_FORMAT;
    int64_t axis = attr_int(n, "axis", c->opset >= 13 ? -1 : 1);
    XFIQ_TRY(attr_check(c, n, "axis", axis, -XFIQ_MAX_DIMS, XFIQ_MAX_DIMS - 1));
    xfiq_node *nd;
    XFIQ_TRY(new_node(c, n, XFIQ_OP_SOFTMAX, &nd));
    nd->in[0] = x;
    nd->d.lay.axis = (int)axis;
    nd->d.lay.legacy = c->opset < 13;
    return XFIQ_OK;
}

static xfiq_status import_unary(import_ctx *c, const Onnx__NodeProto *n, int op)
{
    int x;
    if (act_input(c, n, 0, &x))
        return XFIQ_ERR_FORMAT;
    xfiq_node *nd;
    XFIQ_TRY(new_node(c, n, XFIQ_OP_UNARY, &nd));
    nd->in[0] = x;
    nd->d.lay.unary = op;
    return XFIQ_OK;
}

/* Several graph outputs: each flattened per image and joined in graph order,
 * so one output buffer holds them all (the detector: scores, then boxes). */
static xfiq_status join_outputs(import_ctx *c, const Onnx__GraphProto *gp)
{
    xfiq_graph *g = c->g;
    int prev = -1;
    for (size_t i = 0; i < gp->n_output; i++) {
        const char *name = gp->output[i]->name;
        int v = name && *name ? xfiq_graph_find_value(g, name) : -1;
        if (v < 0 || v == g->input)
            return fail(c, XFIQ_ERR_FORMAT, "graph output '%s' is not computed by any node%s%s", S(name), "", "");
        char tmp[600];
        snprintf(tmp, sizeof tmp, "%.500s#flat", name);
        int fv = xfiq_graph_add_value(g, tmp), fid = xfiq_graph_add_node(g, XFIQ_OP_VIEW, tmp, "Flatten");
        if (fv < 0 || fid < 0)
            return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", c->file);
        g->nodes[fid].in[0] = v;
        g->nodes[fid].out = fv;
        g->nodes[fid].view_ndim = -1; /* Flatten(axis 1) */
        if (prev < 0) {
            prev = fv;
            continue;
        }
        snprintf(tmp, sizeof tmp, "#outputs%zu", i);
        int jv = xfiq_graph_add_value(g, tmp), jid = xfiq_graph_add_node(g, XFIQ_OP_CONCAT, tmp, "Concat");
        if (jv < 0 || jid < 0)
            return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", c->file);
        g->nodes[jid].in[0] = prev;
        g->nodes[jid].in[1] = fv;
        g->nodes[jid].out = jv;
        g->nodes[jid].d.lay.axis = 1;
        prev = jv;
    }
    g->output = prev;
    return XFIQ_OK;
}

static xfiq_status import_node(import_ctx *c, const Onnx__NodeProto *n)
{
    const char *op = n->op_type ? n->op_type : "";
    if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx") != 0)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "node '%s': op '%s' from domain '%s' is not supported", node_label(n), op,
                    n->domain);
    if (!strcmp(op, "Constant")) {
        const Onnx__AttributeProto *a = attr(n, "value");
        if (!a || !a->t || n->n_output < 1 || !n->output[0] || !*n->output[0])
            return fail(c, XFIQ_ERR_UNSUPPORTED, "Constant node '%s': only the 'value' tensor form is supported%s%s",
                        node_label(n), "", "");
        return add_const(c, n->output[0], a->t);
    }
    if (!strcmp(op, "Conv"))
        return import_conv(c, n);
    if (!strcmp(op, "BatchNormalization"))
        return import_bn(c, n);
    if (!strcmp(op, "Gemm"))
        return import_gemm(c, n, 0);
    if (!strcmp(op, "MatMul"))
        return import_gemm(c, n, 1);
    if (!strcmp(op, "Add"))
        return import_binary(c, n, XFIQ_BIN_ADD);
    if (!strcmp(op, "Sub"))
        return import_binary(c, n, XFIQ_BIN_SUB);
    if (!strcmp(op, "Mul"))
        return import_binary(c, n, XFIQ_BIN_MUL);
    if (!strcmp(op, "Div"))
        return import_binary(c, n, XFIQ_BIN_DIV);
    if (!strcmp(op, "Identity") || !strcmp(op, "Dropout"))
        return import_view(c, n, !strcmp(op, "Dropout") ? 2 : 0);
    if (!strcmp(op, "Reshape"))
        return import_view(c, n, 1);
    if (!strcmp(op, "Flatten"))
        return import_view(c, n, 3);
    if (!strcmp(op, "Shape"))
        return import_shape(c, n);
    if (!strcmp(op, "Gather"))
        return import_gather(c, n);
    if (!strcmp(op, "Unsqueeze"))
        return import_unsqueeze(c, n);
    if (!strcmp(op, "Concat"))
        return import_concat(c, n);
    if (!strcmp(op, "Transpose"))
        return import_transpose(c, n);
    if (!strcmp(op, "Slice"))
        return import_slice(c, n);
    if (!strcmp(op, "Softmax"))
        return import_softmax(c, n);
    if (!strcmp(op, "Exp"))
        return import_unary(c, n, XFIQ_UN_EXP);
    xfiq_node *nd;
    int x;
    if (!strcmp(op, "Relu") || !strcmp(op, "GlobalAveragePool")) {
        if (act_input(c, n, 0, &x))
            return XFIQ_ERR_FORMAT;
        XFIQ_TRY(new_node(c, n, op[0] == 'R' ? XFIQ_OP_RELU : XFIQ_OP_GAP, &nd));
        nd->in[0] = x;
        return XFIQ_OK;
    }
    if (!strcmp(op, "PRelu")) {
        const onnx_const *s;
        if (act_input(c, n, 0, &x))
            return XFIQ_ERR_FORMAT;
        XFIQ_TRY(need_const(c, n, 1, &s));
        XFIQ_TRY(new_node(c, n, XFIQ_OP_PRELU, &nd));
        nd->in[0] = x;
        nd->kndim = s->ndim;
        memcpy(nd->kshape, s->dims, sizeof nd->kshape);
        return params_from(c, n, s, &nd->w); /* moved to nd->slope once shapes are known */
    }
    return fail(c, XFIQ_ERR_UNSUPPORTED, "unsupported ONNX op '%s' in node '%s'%s", op, node_label(n), "");
}

static xfiq_status import_model(import_ctx *c, const Onnx__ModelProto *m)
{
    const Onnx__GraphProto *gp = m->graph;
    if (!gp)
        return fail(c, XFIQ_ERR_FORMAT, "the model has no graph (not an ONNX model?)%s%s%s", "", "", "");
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *t = gp->initializer[i];
        XFIQ_TRY(add_const(c, t->name ? t->name : "", t));
    }
    /* The real input: the one graph input that is not an initializer. */
    const Onnx__ValueInfoProto *in = NULL;
    for (size_t i = 0; i < gp->n_input; i++) {
        if (find_const(c, gp->input[i]->name))
            continue;
        if (in)
            return fail(c, XFIQ_ERR_UNSUPPORTED, "the graph has more than one input ('%s', '%s')%s", in->name,
                        gp->input[i]->name, "");
        in = gp->input[i];
    }
    if (!in)
        return fail(c, XFIQ_ERR_FORMAT, "the graph has no input%s%s%s", "", "", "");
    if (!in->name || !*in->name)
        return fail(c, XFIQ_ERR_FORMAT, "the graph input has no name%s%s%s", "", "", "");
    if (gp->n_output < 1 || gp->n_output > 16)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "the graph must have 1 to 16 outputs%s%s%s", "", "", "");
    for (size_t i = 0; i < gp->n_output; i++)
        if (!gp->output[i]->name || !*gp->output[i]->name)
            return fail(c, XFIQ_ERR_FORMAT, "a graph output has no name%s%s%s", "", "", "");
    c->opset = 1;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        if (o && (!o->domain || !*o->domain || !strcmp(o->domain, "ai.onnx")) && o->version > c->opset)
            c->opset = o->version;
    }
    if (gp->n_node > XFIQ_MAX_NODES)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "the graph has more than %s nodes%s%s", "32768", "", "");
    const Onnx__TypeProto *tp = in->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type->shape)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "input '%s' has no tensor shape%s%s", in->name, "", "");
    const Onnx__TensorShapeProto *sh = tp->tensor_type->shape;
    if (tp->tensor_type->elem_type != ONNX_FLOAT)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "input '%s' is not float32%s%s", in->name, "", "");
    if (sh->n_dim != 4)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "input '%s' must be 4-D (N,C,H,W)%s%s", in->name, "", "");
    xfiq_graph *g = c->g;
    g->input = xfiq_graph_add_value(g, in->name);
    if (g->input < 0)
        return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", c->file);
    xfiq_value *v = &g->values[g->input];
    v->ndim = 4;
    v->dims[0] = 1;
    for (int i = 1; i < 4; i++) {
        const Onnx__TensorShapeProto__Dimension *d = sh->dim[i];
        if (d->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE || d->dim_value <= 0)
            return fail(c, XFIQ_ERR_UNSUPPORTED, "input '%s': only the batch may be symbolic (C, H, W must be fixed)%s%s",
                        in->name, "", "");
        if (d->dim_value > 65536)
            return fail(c, XFIQ_ERR_UNSUPPORTED, "input '%s': a dimension above 65536%s%s", in->name, "", "");
        v->dims[i] = d->dim_value;
    }
    v->numel = v->dims[1] * v->dims[2] * v->dims[3];
    if (v->numel > XFIQ_MAX_NUMEL)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "input '%s': more than 2^26 values per image%s%s", in->name, "", "");
    int64_t db = sh->dim[0]->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                     ? sh->dim[0]->dim_value : 0;
    if (db < 0 || db > 65536)
        return fail(c, XFIQ_ERR_UNSUPPORTED, "input '%s': declared batch outside [0, 65536]%s%s", in->name, "", "");
    g->declared_batch = (int)db;
    for (size_t i = 0; i < gp->n_node; i++)
        XFIQ_TRY(import_node(c, gp->node[i]));
    g->n_outputs = (int)gp->n_output;
    if (gp->n_output > 1)
        XFIQ_TRY(join_outputs(c, gp));
    else
        g->output = xfiq_graph_find_value(g, gp->output[0]->name);
    if (g->output < 0)
        return fail(c, XFIQ_ERR_FORMAT, "graph output '%s' is not produced by any node%s%s", gp->output[0]->name, "", "");
    if (g->output == g->input)
        return fail(c, XFIQ_ERR_FORMAT, "graph output '%s' is the graph input: no node computes it%s%s",
                    gp->output[0]->name, "", "");
    xfiq_status st = xfiq_graph_finalize(g);
    if (st != XFIQ_OK)
        return xfiq_error_prefix(st, "%s", c->file);
    return XFIQ_OK;
}


/* ------------------------------------------------ protobuf pre-scan
 * protobuf-c's unpacker recurses once per nested message (a graph inside an
 * attribute inside a node inside a graph ...) and allocates a whole C
 * struct for every (possibly 2-byte) submessage. Before unpacking, walk the
 * wire format with the schema's descriptors: refuse nesting deeper than
 * PB_MAX_DEPTH and files whose decoded form would need more than
 * PB_MAX_EXPANSION times their size (plus 64 MiB). */
#define PB_MAX_DEPTH 32
#define PB_MAX_EXPANSION 16

typedef struct pb_scan {
    size_t bytes;  /* estimated allocation of the unpacked message */
    int depth_hit; /* nesting deeper than PB_MAX_DEPTH */
    int bad;       /* malformed wire format (left to protobuf-c to report) */
} pb_scan;

static int pb_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t x = 0;
    for (int sh = 0; sh < 64; sh += 7) {
        if (*pos >= len)
            return 0;
        uint8_t b = p[(*pos)++];
        x |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) {
            *v = x;
            return 1;
        }
    }
    return 0;
}

static void pb_walk(const uint8_t *p, size_t len, const ProtobufCMessageDescriptor *d, int depth, pb_scan *sc)
{
    if (depth > PB_MAX_DEPTH) {
        sc->depth_hit = 1;
        return;
    }
    sc->bytes += d->sizeof_message + 16;
    size_t pos = 0;
    while (pos < len && !sc->depth_hit && !sc->bad) {
        uint64_t key, v;
        if (!pb_varint(p, len, &pos, &key)) {
            sc->bad = 1;
            return;
        }
        const ProtobufCFieldDescriptor *f =
            key >> 3 <= 0x1fffffff ? protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3)) : NULL;
        size_t rep = f && f->label == PROTOBUF_C_LABEL_REPEATED ? 8 : 0;
        switch (key & 7) {
        case 0:
            if (!pb_varint(p, len, &pos, &v))
                sc->bad = 1;
            sc->bytes += f ? rep : 32;
            break;
        case 1:
        case 5: {
            size_t w = (key & 7) == 1 ? 8 : 4;
            if (len - pos < w)
                sc->bad = 1;
            else
                pos += w;
            sc->bytes += f ? rep : 32;
            break;
        }
        case 2:
            if (!pb_varint(p, len, &pos, &v) || v > len - pos) {
                sc->bad = 1;
                return;
            }
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE)
                pb_walk(p + pos, (size_t)v, f->descriptor, depth + 1, sc);
            else /* strings and bytes are copied; packed repeated: <= 8 bytes per byte */
                sc->bytes += (f && rep && f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_BYTES
                                  ? 8 * (size_t)v
                                  : (size_t)v + 1) + 16;
            sc->bytes += rep;
            pos += (size_t)v;
            break;
        default:
            sc->bad = 1;
            return;
        }
    }
}

static xfiq_status pb_prescan(const uint8_t *data, size_t len, const char *name)
{
    pb_scan sc = {0};
    pb_walk(data, len, &onnx__model_proto__descriptor, 0, &sc);
    if (sc.depth_hit)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: messages nested more than %d deep (not a face recognition model; "
                          "refused before decoding)", name, PB_MAX_DEPTH);
    size_t limit = (size_t)64 << 20;
    limit += len > (SIZE_MAX - limit) / PB_MAX_EXPANSION ? SIZE_MAX - limit : len * PB_MAX_EXPANSION;
    if (sc.bytes > limit)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: decoding this %zu-byte file would need about %zu MiB (many empty "
                          "or tiny messages; refused)", name, len, sc.bytes >> 20);
    return XFIQ_OK;
}

xfiq_status xfiq_onnx_import_memory(const uint8_t *data, size_t len, const char *name, xfiq_graph *g)
{
    xfiq_graph_init(g);
    import_ctx c = {.file = name, .g = g, .file_len = len};
    c.budget = IMPORT_BASE_BYTES + (len > (SIZE_MAX - IMPORT_BASE_BYTES) / IMPORT_MAX_EXPANSION
                                        ? SIZE_MAX - IMPORT_BASE_BYTES
                                        : len * IMPORT_MAX_EXPANSION);
    if (len == 0)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: empty file (0 bytes), not an ONNX model", name);
    XFIQ_TRY(pb_prescan(data, len, name));
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, data);
    if (!m)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: not a valid ONNX protobuf (truncated or corrupt file, %zu bytes)",
                          name, len);
    xfiq_status st = import_model(&c, m);
    for (int i = 0; i < c.n_consts; i++) {
        free(c.consts[i].f);
        free(c.consts[i].i64);
    }
    free(c.consts);
    onnx__model_proto__free_unpacked(m, NULL);
    if (st != XFIQ_OK)
        xfiq_graph_free(g);
    return st;
}

xfiq_status xfiq_onnx_import(const char *path, xfiq_graph *g)
{
    xfiq_graph_init(g);
    uint8_t *buf = NULL;
    size_t len = 0;
    /* protobuf messages are limited to 2 GiB: larger files are not ONNX models. */
    xfiq_status st = xfiq_file_read_all(path, (size_t)1 << 31, &buf, &len);
    if (st != XFIQ_OK)
        return xfiq_error_prefix(st, "cannot read the model");
    st = xfiq_onnx_import_memory(buf, len, path, g);
    free(buf);
    return st;
}
