/* cudnn_conv.cu - conv2d_fwd_cuda through cuDNN 9's graph (backend) API; all
 * cuDNN calls of the backend live in this file.
 *
 * A plan is built once per (conv shape, batch, activation, bias, operand
 * alignments) and cached on the stream: tensors + convolution descriptor ->
 * operation graph (CONVOLUTION_FORWARD, then pointwise ADD bias and RELU_FWD
 * when the activation allows) -> engine heuristics -> the first engine config
 * that keeps FP32 accuracy, finalizes and fits the workspace budget. Running a
 * layer then only builds a variant pack (device pointers) and executes.
 * When no engine takes the fused graph (PReLU never fuses: cuDNN has no
 * per-channel slope), the plan is the bare convolution and bias/activation run
 * in the epilogue kernel of ops_elementwise.cu, with elem.h's formulas.
 *
 * The handle attributes of the operation graph and the execution plan are
 * marked deprecated in cuDNN 9.19 in favour of device-property descriptors,
 * but they are still the documented way to build a plan that runs on a
 * handle; the two names are read once below (kGraphHandle, kPlanHandle). */
#include <new>
#include <vector>

#include "check.h"
#include "elem_cuda.h"
#include "ops_cuda.h"
#include "stream_table.h"


namespace {

/* Unique ids of the tensors of one conv graph (variant pack keys). */
enum : int64_t { UID_X = 1, UID_W = 2, UID_Y = 3, UID_B = 4, UID_CONV = 5, UID_BIAS = 6 };

const size_t kQueryBudget = (size_t)256 << 20; /* most workspace one conv may ask for */
const int kMaxConfigs = 64;                     /* engine configs examined per heuristic mode */
const int kMaxDevices = 64;

struct conv_key {
    xfiq_conv_desc d;
    int n, act, has_bias, x_align, p_align, y_align;
};

bool key_equal(const conv_key &a, const conv_key &b) { return memcmp(&a, &b, sizeof a) == 0; }

conv_key key_make(const xfiq_conv_desc *d, int n, int act, int has_bias, int x_align, int p_align,
                  int y_align)
{
    conv_key k;
    memset(&k, 0, sizeof k); /* memcmp-compared: no stray bytes */
    k.d = *d;
    k.n = n;
    k.act = act;
    k.has_bias = has_bias;
    k.x_align = x_align;
    k.p_align = p_align;
    k.y_align = y_align;
    return k;
}

/* Every descriptor a plan was built from; destroyed with the plan, since the
 * plan may refer to them. */
struct desc_list {
    std::vector<cudnnBackendDescriptor_t> v;
    ~desc_list()
    {
        for (size_t i = v.size(); i-- > 0;)
            if (v[i])
                cudnnBackendDestroyDescriptor(v[i]);
    }
};

struct conv_plan {
    conv_key key;
    desc_list descs;
    cudnnBackendDescriptor_t plan = nullptr; /* owned by descs */
    bool fused = false;                      /* bias + activation done by cuDNN */
    size_t ws = 0;                           /* workspace the plan needs */
    size_t budget = 0;                       /* budget it was chosen under */
};

struct cudnn_ctx {
    cudnnHandle_t h = nullptr;
    std::mutex m; /* one host thread at a time per handle (cuDNN rule) */
    std::vector<conv_plan *> plans;
};

xfiq_stream_table<cudnn_ctx> g_cudnn;

/* Workspace queries run on one handle per device, not on a stream's. */
std::mutex g_query_mutex;
cudnnHandle_t g_query_handle[kMaxDevices];
struct query_entry {
    int device;
    conv_key key;
    size_t ws;
};
std::vector<query_entry> g_query_cache;

#define SET_ATTR(desc, name, type, count, ptr) \
    XFIQ_CUDNN_CHECK(cudnnBackendSetAttribute((desc), (name), (type), (count), (ptr)))

xfiq_status desc_new(desc_list &L, cudnnBackendDescriptorType_t type, cudnnBackendDescriptor_t *out)
{
    *out = nullptr;
    XFIQ_CUDNN_CHECK(cudnnBackendCreateDescriptor(type, out));
    L.v.push_back(*out);
    return XFIQ_OK;
}

xfiq_status set_handle(cudnnBackendDescriptor_t desc, cudnnBackendAttributeName_t name, cudnnHandle_t h)
{
    XFIQ_CUDNN_CHECK(cudnnBackendSetAttribute(desc, name, CUDNN_TYPE_HANDLE, 1, &h));
    return XFIQ_OK;
}

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
const cudnnBackendAttributeName_t kGraphHandle = CUDNN_ATTR_OPERATIONGRAPH_HANDLE;
const cudnnBackendAttributeName_t kPlanHandle = CUDNN_ATTR_EXECUTION_PLAN_HANDLE;
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* Packed NCHW float tensor (dims in cuDNN's outermost-first order). */
xfiq_status tensor_new(desc_list &L, int64_t uid, const int64_t dims[4], int64_t align, bool is_virtual,
                       cudnnBackendDescriptor_t *out)
{
    const int64_t strides[4] = {dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1};
    const cudnnDataType_t dt = CUDNN_DATA_FLOAT;
    XFIQ_TRY(desc_new(L, CUDNN_BACKEND_TENSOR_DESCRIPTOR, out));
    SET_ATTR(*out, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &dt);
    SET_ATTR(*out, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dims);
    SET_ATTR(*out, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, strides);
    SET_ATTR(*out, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid);
    SET_ATTR(*out, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &align);
    if (is_virtual) {
        bool v = true;
        SET_ATTR(*out, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &v);
    }
    XFIQ_CUDNN_CHECK(cudnnBackendFinalize(*out));
    return XFIQ_OK;
}

xfiq_status pointwise_new(desc_list &L, cudnnPointwiseMode_t mode, cudnnBackendDescriptor_t x,
                          cudnnBackendDescriptor_t b, cudnnBackendDescriptor_t y, cudnnBackendDescriptor_t *op)
{
    cudnnBackendDescriptor_t pw;
    const cudnnDataType_t prec = CUDNN_DATA_FLOAT;
    XFIQ_TRY(desc_new(L, CUDNN_BACKEND_POINTWISE_DESCRIPTOR, &pw));
    SET_ATTR(pw, CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode);
    SET_ATTR(pw, CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &prec);
    XFIQ_CUDNN_CHECK(cudnnBackendFinalize(pw));
    XFIQ_TRY(desc_new(L, CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR, op));
    SET_ATTR(*op, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &pw);
    SET_ATTR(*op, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x);
    if (b)
        SET_ATTR(*op, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &b);
    SET_ATTR(*op, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y);
    XFIQ_CUDNN_CHECK(cudnnBackendFinalize(*op));
    return XFIQ_OK;
}

/* The operations of one conv's graph: conv alone, or conv -> +bias -> relu.
 * Needs no handle (nor a device): only the graph descriptor does. */
xfiq_status ops_build(const conv_key &k, bool fused, desc_list &L, cudnnBackendDescriptor_t ops[3], int64_t *n_ops)
{
    const xfiq_conv_desc &d = k.d;
    const int64_t xd[4] = {k.n, d.cin, d.ih, d.iw};
    const int64_t wd[4] = {d.cout, d.cin / d.group, d.kh, d.kw}; /* groups = cin / w's C */
    const int64_t yd[4] = {k.n, d.cout, d.oh, d.ow};
    cudnnBackendDescriptor_t x, w, y, conv_out, conv, conv_op;
    XFIQ_TRY(tensor_new(L, UID_X, xd, k.x_align, false, &x));
    XFIQ_TRY(tensor_new(L, UID_W, wd, k.p_align, false, &w));
    XFIQ_TRY(tensor_new(L, UID_Y, yd, k.y_align, false, &y));
    conv_out = y;
    if (fused)
        XFIQ_TRY(tensor_new(L, UID_CONV, yd, 16, true, &conv_out));

    const cudnnDataType_t comp = CUDNN_DATA_FLOAT;
    const cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
    const int64_t dims = 2;
    const int64_t dil[2] = {d.dh, d.dw}, str[2] = {d.sh, d.sw};
    const int64_t pre[2] = {d.pad_t, d.pad_l}, post[2] = {d.pad_b, d.pad_r};
    XFIQ_TRY(desc_new(L, CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR, &conv));
    SET_ATTR(conv, CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &comp);
    SET_ATTR(conv, CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode);
    SET_ATTR(conv, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, &dims);
    SET_ATTR(conv, CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, 2, dil);
    SET_ATTR(conv, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, 2, str);
    SET_ATTR(conv, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, 2, pre);
    SET_ATTR(conv, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, 2, post);
    XFIQ_CUDNN_CHECK(cudnnBackendFinalize(conv));

    const float alpha = 1.0f, beta = 0.0f;
    XFIQ_TRY(desc_new(L, CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR, &conv_op));
    SET_ATTR(conv_op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x);
    SET_ATTR(conv_op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &w);
    SET_ATTR(conv_op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &conv_out);
    SET_ATTR(conv_op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &conv);
    SET_ATTR(conv_op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, CUDNN_TYPE_FLOAT, 1, &alpha);
    SET_ATTR(conv_op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, CUDNN_TYPE_FLOAT, 1, &beta);
    XFIQ_CUDNN_CHECK(cudnnBackendFinalize(conv_op));

    ops[0] = conv_op;
    *n_ops = 1;
    if (fused) {
        cudnnBackendDescriptor_t cur = conv_out;
        const bool relu = k.act == XFIQ_ACT_RELU;
        if (k.has_bias) {
            const int64_t bd[4] = {1, d.cout, 1, 1};
            cudnnBackendDescriptor_t bias, sum = y;
            XFIQ_TRY(tensor_new(L, UID_B, bd, k.p_align, false, &bias));
            if (relu)
                XFIQ_TRY(tensor_new(L, UID_BIAS, yd, 16, true, &sum));
            XFIQ_TRY(pointwise_new(L, CUDNN_POINTWISE_ADD, cur, bias, sum, &ops[(*n_ops)++]));
            cur = sum;
        }
        if (relu)
            XFIQ_TRY(pointwise_new(L, CUDNN_POINTWISE_RELU_FWD, cur, nullptr, y, &ops[(*n_ops)++]));
    }
    return XFIQ_OK;
}

xfiq_status graph_build(cudnnHandle_t h, const conv_key &k, bool fused, desc_list &L,
                        cudnnBackendDescriptor_t *graph)
{
    cudnnBackendDescriptor_t ops[3] = {nullptr, nullptr, nullptr};
    int64_t n_ops = 0;
    XFIQ_TRY(ops_build(k, fused, L, ops, &n_ops));
    XFIQ_TRY(desc_new(L, CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, graph));
    SET_ATTR(*graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, n_ops, ops);
    XFIQ_TRY(set_handle(*graph, kGraphHandle, h));
    XFIQ_CUDNN_CHECK(cudnnBackendFinalize(*graph));
    return XFIQ_OK;
}

/* Engines whose numerics differ from plain FP32 are left out: results must
 * match the CPU path to about 1e-4 (TF32 tensor cores give about 1e-3), and
 * runs must repeat bit for bit. Engines compiled at run time are left out
 * too: each costs seconds of NVRTC at plan time. Only notes cuDNN reports
 * reject an engine: one whose notes cannot be read is kept. */
bool engine_acceptable(cudnnBackendDescriptor_t cfg)
{
    cudnnBackendDescriptor_t eng = nullptr;
    if (cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINE_DESCRIPTOR, &eng) != CUDNN_STATUS_SUCCESS)
        return true;
    bool ok = true;
    int64_t cnt = 0;
    if (cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cnt, &eng) ==
            CUDNN_STATUS_SUCCESS &&
        cnt == 1) {
        cudnnBackendNumericalNote_t notes[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
        cudnnBackendBehaviorNote_t behav[CUDNN_BEHAVIOR_NOTE_TYPE_COUNT];
        int64_t nn = 0, nb = 0;
        if (cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
                                     CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &nn, notes) != CUDNN_STATUS_SUCCESS)
            nn = 0;
        if (cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE, CUDNN_TYPE_BEHAVIOR_NOTE,
                                     CUDNN_BEHAVIOR_NOTE_TYPE_COUNT, &nb, behav) != CUDNN_STATUS_SUCCESS)
            nb = 0;
        for (int64_t i = 0; i < nn && i < CUDNN_NUMERICAL_NOTE_TYPE_COUNT; i++)
            if (notes[i] == CUDNN_NUMERICAL_NOTE_TENSOR_CORE || notes[i] == CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS ||
                notes[i] == CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION ||
                notes[i] == CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC || notes[i] == CUDNN_NUMERICAL_NOTE_FFT)
                ok = false;
        for (int64_t i = 0; i < nb && i < CUDNN_BEHAVIOR_NOTE_TYPE_COUNT; i++)
            if (behav[i] == CUDNN_BEHAVIOR_NOTE_RUNTIME_COMPILATION)
                ok = false;
    }
    cudnnBackendDestroyDescriptor(eng);
    return ok;
}

struct search_tally {
    int configs = 0, numerics = 0, unsupported = 0, too_big = 0;
};

/* The first config of the heuristic's ranking that is acceptable, finalizes
 * and fits the budget; *plan stays NULL when none does (not an error). */
xfiq_status plan_search(cudnnHandle_t h, cudnnBackendDescriptor_t graph, cudnnBackendHeurMode_t mode,
                        size_t budget, desc_list &L, cudnnBackendDescriptor_t *plan, size_t *ws,
                        search_tally *t)
{
    *plan = nullptr;
    cudnnBackendDescriptor_t heur;
    XFIQ_TRY(desc_new(L, CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, &heur));
    SET_ATTR(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &graph);
    SET_ATTR(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode);
    if (cudnnBackendFinalize(heur) != CUDNN_STATUS_SUCCESS)
        return XFIQ_OK; /* this mode has nothing for the graph */

    int64_t count = 0;
    XFIQ_CUDNN_CHECK(cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0,
                                              &count, nullptr));
    if (count > kMaxConfigs)
        count = kMaxConfigs;
    if (count <= 0)
        return XFIQ_OK;
    desc_list cfgs; /* the one chosen moves into L */
    cfgs.v.resize((size_t)count, nullptr);
    for (int64_t i = 0; i < count; i++)
        XFIQ_CUDNN_CHECK(cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, &cfgs.v[(size_t)i]));
    int64_t got = 0;
    XFIQ_CUDNN_CHECK(cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                                              count, &got, cfgs.v.data()));
    for (int64_t i = 0; i < got && i < count; i++) {
        cudnnBackendDescriptor_t cfg = cfgs.v[(size_t)i];
        t->configs++;
        if (!engine_acceptable(cfg)) {
            t->numerics++;
            continue;
        }
        int64_t cfg_ws = 0, cnt = 0;
        if (cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &cnt, &cfg_ws) ==
                CUDNN_STATUS_SUCCESS &&
            cnt == 1 && cfg_ws >= 0 && (uint64_t)cfg_ws > budget) {
            t->too_big++;
            continue;
        }
        cudnnBackendDescriptor_t p = nullptr;
        XFIQ_CUDNN_CHECK(cudnnBackendCreateDescriptor(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, &p));
        int64_t plan_ws = 0;
        bool ok = set_handle(p, kPlanHandle, h) == XFIQ_OK &&
                  cudnnBackendSetAttribute(p, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1,
                                           &cfg) == CUDNN_STATUS_SUCCESS &&
                  cudnnBackendFinalize(p) == CUDNN_STATUS_SUCCESS &&
                  cudnnBackendGetAttribute(p, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &cnt,
                                           &plan_ws) == CUDNN_STATUS_SUCCESS;
        if (!ok || plan_ws < 0 || (uint64_t)plan_ws > budget) {
            if (ok)
                t->too_big++;
            else
                t->unsupported++;
            cudnnBackendDestroyDescriptor(p);
            continue;
        }
        L.v.push_back(cfg);
        cfgs.v[(size_t)i] = nullptr;
        L.v.push_back(p);
        *plan = p;
        *ws = (size_t)plan_ws;
        break;
    }
    xfiq_error_clear(); /* the failed finalizes above are expected, not errors */
    return XFIQ_OK;
}

void plan_free(conv_plan *p) { delete p; }

const char *act_name(int act)
{
    return act == XFIQ_ACT_RELU ? "relu" : act == XFIQ_ACT_PRELU ? "prelu" : "none";
}

/* Fused graph first where it can express the epilogue, else conv alone with
 * the heuristic's fast mode, then its fallback mode. */
xfiq_status plan_build(cudnnHandle_t h, const conv_key &k, size_t budget, conv_plan **out)
{
    *out = nullptr;
    conv_plan *p = new (std::nothrow) conv_plan;
    if (!p)
        return xfiq_error(XFIQ_ERR_NOMEM, "cudnn_conv: out of memory");
    p->key = k;
    p->budget = budget;
    search_tally t;
    const bool can_fuse = k.act != XFIQ_ACT_PRELU && (k.has_bias || k.act == XFIQ_ACT_RELU);
    for (int attempt = can_fuse ? 0 : 1; attempt < 3 && !p->plan; attempt++) {
        const bool fused = attempt == 0;
        desc_list L;
        cudnnBackendDescriptor_t graph = nullptr;
        xfiq_status st = graph_build(h, k, fused, L, &graph);
        if (st == XFIQ_OK)
            st = plan_search(h, graph, attempt == 2 ? CUDNN_HEUR_MODE_FALLBACK : CUDNN_HEUR_MODE_A, budget, L,
                             &p->plan, &p->ws, &t);
        if (st != XFIQ_OK && fused) { /* cuDNN will not describe or plan the fused graph: go unfused */
            p->plan = nullptr;
            xfiq_error_clear();
            continue;
        }
        if (st != XFIQ_OK) {
            plan_free(p);
            return st;
        }
        if (p->plan) {
            p->descs.v.swap(L.v);
            p->fused = fused;
        }
    }
    if (!p->plan) {
        const xfiq_conv_desc &d = k.d;
        plan_free(p);
        return xfiq_error(XFIQ_ERR_BACKEND,
                          "cudnn_conv: no cuDNN engine for conv %dx%dx%dx%d -> %d, kernel %dx%d stride %dx%d "
                          "dilation %dx%d group %d, act %s: %d configs seen, %d with inexact numerics, "
                          "%d unsupported, %d above the workspace budget of %zu bytes",
                          k.n, d.cin, d.ih, d.iw, d.cout, d.kh, d.kw, d.sh, d.sw, d.dh, d.dw, d.group,
                          act_name(k.act), t.configs, t.numerics, t.unsupported, t.too_big, budget);
    }
    *out = p;
    return XFIQ_OK;
}

xfiq_status plan_run(cudnnHandle_t h, const conv_plan *p, const float *x, const float *w, const float *b, float *y,
                     float *ws)
{
    int64_t uids[4] = {UID_X, UID_W, UID_Y, UID_B};
    void *ptrs[4] = {(void *)x, (void *)w, (void *)y, (void *)b};
    int64_t n = p->fused && p->key.has_bias ? 4 : 3;
    void *work = ws;
    desc_list L;
    cudnnBackendDescriptor_t vp;
    XFIQ_TRY(desc_new(L, CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &vp));
    SET_ATTR(vp, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, n, uids);
    SET_ATTR(vp, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, n, ptrs);
    SET_ATTR(vp, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &work);
    XFIQ_CUDNN_CHECK(cudnnBackendFinalize(vp));
    XFIQ_CUDNN_CHECK(cudnnBackendExecute(h, p->plan, vp));
    return XFIQ_OK;
}

xfiq_status conv_check(const char *fn, const xfiq_conv_desc *d, int n, int act)
{
    if (!d || n < 0)
        return xfiq_error(XFIQ_ERR_ARG, "%s: no descriptor or negative batch", fn);
    if (d->group < 1 || d->cin % d->group || d->cout % d->group || d->kh < 1 || d->kw < 1 || d->sh < 1 ||
        d->sw < 1 || d->dh < 1 || d->dw < 1 || d->oh < 1 || d->ow < 1)
        return xfiq_error(XFIQ_ERR_SHAPE, "%s: bad conv descriptor (cin %d cout %d group %d kernel %dx%d out %dx%d)",
                          fn, d->cin, d->cout, d->group, d->kh, d->kw, d->oh, d->ow);
    if (act != XFIQ_ACT_NONE && act != XFIQ_ACT_RELU && act != XFIQ_ACT_PRELU)
        return xfiq_error(XFIQ_ERR_ARG, "%s: unknown activation %d", fn, act);
    return XFIQ_OK;
}

void cudnn_ctx_free(cudnn_ctx *c)
{
    for (conv_plan *p : c->plans)
        plan_free(p);
    if (c->h)
        cudnnDestroy(c->h);
    delete c;
}

} // namespace

extern "C" xfiq_status xfiq_cudnn_attach(cudaStream_t stream)
{
    cudnn_ctx *c = new (std::nothrow) cudnn_ctx;
    if (!c)
        return xfiq_error(XFIQ_ERR_NOMEM, "xfiq_cudnn_attach: out of memory");
    cudnnStatus_t st = cudnnCreate(&c->h);
    if (st == CUDNN_STATUS_SUCCESS)
        st = cudnnSetStream(c->h, stream);
    if (st != CUDNN_STATUS_SUCCESS) {
        cudnn_ctx_free(c);
        return xfiq_error(XFIQ_ERR_BACKEND, "cuDNN handle setup failed: %s (%d)", cudnnGetErrorString(st), (int)st);
    }
    if (!g_cudnn.add(stream, c)) {
        cudnn_ctx_free(c);
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_cudnn_attach: stream %p is already attached", (void *)stream);
    }
    return XFIQ_OK;
}

extern "C" void xfiq_cudnn_detach(cudaStream_t stream)
{
    cudnn_ctx *c = g_cudnn.remove(stream);
    if (c)
        cudnn_ctx_free(c);
}

extern "C" int xfiq_cudnn_plan_count(cudaStream_t stream)
{
    cudnn_ctx *c = g_cudnn.find(stream);
    if (!c)
        return -1;
    std::lock_guard<std::mutex> g(c->m);
    return (int)c->plans.size();
}

extern "C" xfiq_status conv2d_fwd_cuda(const float *x, const float *w, const float *b, float *y,
                                       const xfiq_conv_desc *d, int n, int act, const float *slope,
                                       int slope_per_channel, float *ws, size_t ws_bytes, cudaStream_t stream)
{
    XFIQ_TRY(conv_check("conv2d_fwd_cuda", d, n, act));
    if (n == 0)
        return XFIQ_OK;
    if (!x || !w || !y || (act == XFIQ_ACT_PRELU && !slope))
        return xfiq_error(XFIQ_ERR_ARG, "conv2d_fwd_cuda: missing x, w, y or PReLU slope");
    cudnn_ctx *c = g_cudnn.find(stream);
    if (!c)
        return xfiq_error(XFIQ_ERR_BACKEND, "conv2d_fwd_cuda: stream %p has no cuDNN handle (xfiq_cudnn_attach)",
                          (void *)stream);
    if (!ws)
        ws_bytes = 0;
    int p_align = xfiq_cuda_align(w);
    if (b && xfiq_cuda_align(b) < p_align)
        p_align = xfiq_cuda_align(b);
    const conv_key k = key_make(d, n, act, b != nullptr, xfiq_cuda_align(x), p_align, xfiq_cuda_align(y));

    conv_plan *plan = nullptr;
    bool fused = false;
    {
        std::lock_guard<std::mutex> g(c->m);
        size_t slot = c->plans.size();
        for (size_t i = 0; i < c->plans.size(); i++)
            if (key_equal(c->plans[i]->key, k)) {
                slot = i;
                /* Same choice as now: it fits, and nothing better was excluded. */
                if (c->plans[i]->ws <= ws_bytes && ws_bytes <= c->plans[i]->budget)
                    plan = c->plans[i];
                break;
            }
        if (!plan) {
            XFIQ_TRY(plan_build(c->h, k, ws_bytes, &plan));
            if (slot < c->plans.size()) {
                plan_free(c->plans[slot]);
                c->plans[slot] = plan;
            } else {
                try {
                    c->plans.push_back(plan);
                } catch (...) {
                    plan_free(plan);
                    return xfiq_error(XFIQ_ERR_NOMEM, "conv2d_fwd_cuda: out of memory");
                }
            }
        }
        XFIQ_TRY(plan_run(c->h, plan, x, w, b, y, ws));
        fused = plan->fused; /* read under the lock: another thread may replace the plan */
    }
    if (fused)
        return XFIQ_OK;
    return bias_act_fwd_cuda(y, b, act, slope, slope_per_channel, n, d->cout, (int64_t)d->oh * d->ow, stream);
}

extern "C" xfiq_status xfiq_cudnn_conv_describe(const xfiq_conv_desc *d, int n, int act, int has_bias, int fused)
{
    XFIQ_TRY(conv_check("xfiq_cudnn_conv_describe", d, n, act));
    if (fused && (act == XFIQ_ACT_PRELU || (!has_bias && act != XFIQ_ACT_RELU)))
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_cudnn_conv_describe: nothing to fuse for act %s, bias %d",
                          act_name(act), has_bias);
    const conv_key k = key_make(d, n > 0 ? n : 1, act, has_bias != 0, 16, 4, 16);
    desc_list L;
    cudnnBackendDescriptor_t ops[3];
    int64_t n_ops = 0;
    XFIQ_TRY(ops_build(k, fused != 0, L, ops, &n_ops));
    return XFIQ_OK;
}

extern "C" xfiq_status conv2d_fwd_cuda_workspace(const xfiq_conv_desc *d, int n, int act, int has_bias,
                                                 int param_align, size_t *bytes)
{
    *bytes = 0;
    XFIQ_TRY(conv_check("conv2d_fwd_cuda_workspace", d, n, act));
    if (n == 0)
        return XFIQ_OK;
    int dev = 0;
    XFIQ_CUDA_CHECK(cudaGetDevice(&dev));
    if (dev < 0 || dev >= kMaxDevices)
        return xfiq_error(XFIQ_ERR_BACKEND, "conv2d_fwd_cuda_workspace: device %d out of range", dev);
    const conv_key k = key_make(d, n, act, has_bias != 0, 16, param_align, 16);

    std::lock_guard<std::mutex> g(g_query_mutex);
    for (const query_entry &e : g_query_cache)
        if (e.device == dev && key_equal(e.key, k)) {
            *bytes = e.ws;
            return XFIQ_OK;
        }
    if (!g_query_handle[dev])
        XFIQ_CUDNN_CHECK(cudnnCreate(&g_query_handle[dev]));
    conv_plan *p = nullptr;
    XFIQ_TRY(plan_build(g_query_handle[dev], k, kQueryBudget, &p));
    *bytes = p->ws;
    plan_free(p);
    try {
        g_query_cache.push_back(query_entry{dev, k, *bytes});
    } catch (...) {
        /* only the cache entry is lost */
    }
    return XFIQ_OK;
}

/* Placeholders until the backward-data plans land (the cuDNN work of the CUDA issue). */
extern "C" xfiq_status conv2d_bwd_data_cuda(const float *dy, const float *w, float *dx, const xfiq_conv_desc *d,
                                            int n, int accumulate, float *ws, size_t ws_bytes, cudaStream_t stream)
{
    (void)dy, (void)w, (void)dx, (void)d, (void)n, (void)accumulate, (void)ws, (void)ws_bytes, (void)stream;
    return xfiq_error(XFIQ_ERR_UNSUPPORTED, "conv2d_bwd_data_cuda: not implemented yet");
}

extern "C" xfiq_status conv2d_bwd_data_cuda_workspace(const xfiq_conv_desc *d, int n, int param_align, size_t *bytes)
{
    (void)d, (void)n, (void)param_align;
    *bytes = 0;
    return XFIQ_OK;
}

extern "C" xfiq_status xfiq_cudnn_set_precision(cudaStream_t stream, int precision)
{
    (void)stream;
    if (precision != 0)
        return xfiq_error(XFIQ_ERR_UNSUPPORTED, "cuDNN: only fp32 is implemented yet");
    return XFIQ_OK;
}
