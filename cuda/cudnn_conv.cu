/* cudnn_conv.cu - every cuDNN call of the backend: conv2d_fwd_cuda and
 * conv2d_bwd_data_cuda through cuDNN 9's graph (backend) API, their
 * workspace queries, the per-device plan cache, engine choice by timing,
 * planning without a device from a JSON device description, and the
 * device-description dump (the last two: cudnn_plan.h).
 *
 * Plans are built from a device-property descriptor, never from a handle:
 * for a real device it is made once from a handle on that device, for
 * deviceless planning from a JSON file. So one finalized plan serves every
 * stream (handle) of its device, and the workspace query and the launcher
 * share it: a plan is built once per (direction, conv shape, batch,
 * epilogue, alignments, precision) and device. cudnnBackendExecute takes the
 * stream's handle at run time. (The handle attributes of the operation graph
 * and plan are deprecated in 9.19; they are used only when
 * XFIQ_CUDNN_PLAN_HANDLE=1 asks for plans bound to the device's own handle,
 * the pre-9.8 way: a fallback to try on a GPU should plans made from a
 * device description fail to run there.)
 *
 * A plan: tensors + convolution descriptor -> operation graph
 * (CONVOLUTION_FORWARD, then pointwise ADD bias and RELU_FWD when the
 * activation allows; or CONVOLUTION_BACKWARD_DATA with beta 1 when
 * accumulating) -> engine heuristics -> the configs whose numerical notes fit
 * the precision -> the first that finalizes and fits the workspace budget,
 * or, on a real device with timing on, the fastest of the first few.
 *
 * bf16 / fp16: cuDNN plans reduced-precision convolutions only for tensors of
 * that type in memory, while the backend keeps FP32 activations. So the
 * launcher casts x (dy) and w into staging buffers at the start of the
 * workspace, runs an all-bf16/fp16 graph that accumulates in FP32, and
 * widens y (dx) back, adding bias and activation (or accumulating) after
 * the cast. The roundings are ops/elem_half.h's, tested on the CPU. fp16's
 * backward-data runs in bf16 (gradients need the range). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <chrono>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "check.h"
#include "cudnn_internal.h"
#include "cudnn_plan.h"
#include "elem_cuda.h"
#include "ops_cuda.h"
#include "stream_table.h"

namespace {

/* Unique ids of the tensors of one conv graph (variant pack keys). Backward:
 * UID_X is dx and UID_Y is dy, so both directions read the same way. */
enum : int64_t { UID_X = 1, UID_W = 2, UID_Y = 3, UID_B = 4, UID_CONV = 5, UID_BIAS = 6 };

const size_t kQueryBudget = (size_t)256 << 20; /* most workspace one conv may ask for */
const int kMaxConfigs = 64;                     /* engine configs examined per heuristic mode */
const int kMaxDevices = 64;
const int kTuneCandidates = 4; /* configs timed per layer: the heuristic's top acceptable ones */
const int kTuneRuns = 3;       /* timed runs per candidate, after one warm-up */

struct conv_key {
    xfiq_conv_desc d;
    int dir, n, act, has_bias, beta, x_align, p_align, y_align, precision;
};

bool key_equal(const conv_key &a, const conv_key &b) { return memcmp(&a, &b, sizeof a) == 0; }

bool is_half(int precision) { return precision == XFIQ_PRECISION_BF16 || precision == XFIQ_PRECISION_FP16; }

/* ops/elem_half.h's kind: 0 bfloat16, 1 float16. */
int half_kind(int precision) { return precision == XFIQ_PRECISION_FP16; }

/* Type of x, w and y in memory. */
cudnnDataType_t io_type(int precision)
{
    return precision == XFIQ_PRECISION_BF16 ? CUDNN_DATA_BFLOAT16
           : precision == XFIQ_PRECISION_FP16 ? CUDNN_DATA_HALF
                                              : CUDNN_DATA_FLOAT;
}

size_t align256(size_t b) { return (b + 255) & ~(size_t)255; }

/* bf16 / fp16 staging at the start of the workspace: x (dx), w, y (dy). */
struct half_staging {
    size_t x, w, y, total;
};

half_staging staging_of(const xfiq_conv_desc &d, int n)
{
    half_staging s;
    s.x = align256((size_t)n * d.cin * d.ih * d.iw * sizeof(uint16_t));
    s.w = align256((size_t)d.cout * (d.cin / d.group) * d.kh * d.kw * sizeof(uint16_t));
    s.y = align256((size_t)n * d.cout * d.oh * d.ow * sizeof(uint16_t));
    s.total = s.x + s.w + s.y;
    return s;
}

conv_key key_make(int dir, const xfiq_conv_desc *d, int n, int act, int has_bias, int beta, int x_align,
                  int p_align, int y_align, int precision)
{
    conv_key k;
    memset(&k, 0, sizeof k); /* memcmp-compared: no stray bytes */
    k.d = *d;
    k.dir = dir;
    k.n = n;
    k.act = dir == XFIQ_CUDNN_FWD ? act : XFIQ_ACT_NONE;
    k.has_bias = dir == XFIQ_CUDNN_FWD ? has_bias : 0;
    k.beta = dir == XFIQ_CUDNN_BWD_DATA ? beta : 0;
    k.x_align = x_align;
    k.p_align = p_align;
    k.y_align = y_align;
    /* fp16's range would flush small PLQ gradients (below ~6e-8) to zero:
     * its backward-data runs in bf16, which keeps fp32's exponent */
    k.precision = dir == XFIQ_CUDNN_BWD_DATA && precision == XFIQ_PRECISION_FP16 ? XFIQ_PRECISION_BF16 : precision;
    if (is_half(precision)) { /* cuDNN sees only the staging buffers; the widening kernel accumulates */
        k.beta = 0;
        k.has_bias = 0;
        k.act = XFIQ_ACT_NONE;
        k.x_align = k.p_align = k.y_align = 16;
    }
    return k;
}

const char *act_name(int act)
{
    return act == XFIQ_ACT_RELU ? "relu" : act == XFIQ_ACT_PRELU ? "prelu" : "none";
}

const char *prec_name(int p)
{
    return p == XFIQ_PRECISION_FP32 ? "fp32" : p == XFIQ_PRECISION_TF32 ? "tf32" : p == XFIQ_PRECISION_BF16 ? "bf16" : "fp16";
}

/* The layer's name in messages, the log and the timing cache file. */
std::string key_string(const conv_key &k)
{
    const xfiq_conv_desc &d = k.d;
    char s[320];
    snprintf(s, sizeof s,
             "%s n%d x%dx%dx%d y%dx%dx%d k%dx%d s%dx%d d%dx%d p%d,%d,%d,%d g%d act=%s bias=%d beta=%d "
             "align=%d,%d,%d %s",
             k.dir == XFIQ_CUDNN_FWD ? "fwd" : "bwd_data", k.n, d.cin, d.ih, d.iw, d.cout, d.oh, d.ow, d.kh, d.kw,
             d.sh, d.sw, d.dh, d.dw, d.pad_t, d.pad_l, d.pad_b, d.pad_r, d.group, act_name(k.act), k.has_bias,
             k.beta, k.x_align, k.p_align, k.y_align, prec_name(k.precision));
    return s;
}

/* Every descriptor a plan was built from; destroyed with the plan, since the
 * plan may refer to them. */
struct desc_list {
    std::vector<cudnnBackendDescriptor_t> v;
    desc_list() = default;
    desc_list(const desc_list &) = delete;
    desc_list &operator=(const desc_list &) = delete;
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
    bool scratch = false;                    /* backward accumulate: dx made in ws, added by a kernel */
    size_t ws = 0;                           /* workspace the launcher needs (scratch, staging included) */
    size_t scratch_bytes = 0;                /* at the start of ws; cuDNN's workspace follows */
    size_t staging = 0;                      /* bf16 / fp16 copies of x, w, y at the start of ws (not budgeted) */
    size_t budget = 0;                       /* budget it was chosen under */
    bool capped = false;                     /* some better-ranked config was over the budget */
    std::string engine;
    xfiq_cudnn_plan_info info;
};

/* A device as cuDNN plans for it: a real one (device >= 0, with a handle and
 * stream of its own for timing) or a JSON description (device -1). Plans and
 * the timing cache live here, shared by all streams on the device. */
struct dev_ctx {
    int device = -1;
    std::string json_path;
    cudnnHandle_t qh = nullptr;
    cudaStream_t qs = nullptr;
    desc_list props;
    cudnnBackendDescriptor_t devprop = nullptr; /* owned by props */
    cudnnHandle_t bind = nullptr;               /* qh when XFIQ_CUDNN_PLAN_HANDLE=1 */
    std::string name;
    std::mutex m; /* plans, tune map */
    std::vector<conv_plan *> plans;
    std::vector<conv_plan *> retired; /* forgotten (tests) but maybe still run by a stream */
    bool tune_loaded = false;
    std::string tune_path;
    xfiq_tune_map tune;
};

struct dev_ctx;
struct cudnn_ctx {
    cudnnHandle_t h = nullptr;
    int device = 0;
    dev_ctx *dc = nullptr; /* the device's plans, found at attach */
    int precision = XFIQ_PRECISION_FP32;
    std::mutex m; /* one host thread at a time per handle (cuDNN rule) */
    std::vector<const conv_plan *> used; /* distinct plans this stream ran */
};

xfiq_stream_table<cudnn_ctx> g_cudnn;

std::mutex g_dev_mutex; /* the two tables below */
dev_ctx *g_dev[kMaxDevices];
std::vector<dev_ctx *> g_deviceless;

std::mutex g_count_mutex;
long g_plans_built = 0;

#define SET_ATTR(desc, name, type, count, ptr) \
    XFIQ_CUDNN_CHECK(cudnnBackendSetAttribute((desc), (name), (type), (count), (ptr)))

xfiq_status desc_new(desc_list &L, cudnnBackendDescriptorType_t type, cudnnBackendDescriptor_t *out)
{
    *out = nullptr;
    XFIQ_CUDNN_CHECK(cudnnBackendCreateDescriptor(type, out));
    try {
        L.v.push_back(*out);
    } catch (...) {
        cudnnBackendDestroyDescriptor(*out);
        *out = nullptr;
        return xfiq_error(XFIQ_ERR_NOMEM, "cudnn_conv: out of memory");
    }
    return XFIQ_OK;
}

/* Packed NCHW tensor of type dt (dims in cuDNN's outermost-first order). */
xfiq_status tensor_new(desc_list &L, int64_t uid, const int64_t dims[4], int64_t align, bool is_virtual,
                       cudnnDataType_t dt, cudnnBackendDescriptor_t *out)
{
    const int64_t strides[4] = {dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1};
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

/* The operations of one conv's graph: forward conv alone or conv -> +bias ->
 * relu; or backward-data (dx = alpha * conv_transpose(dy, w) + beta * dx).
 * Needs no handle nor device: only heuristics and plans take the device. */
xfiq_status ops_build(const conv_key &k, bool fused, desc_list &L, cudnnBackendDescriptor_t ops[3], int64_t *n_ops)
{
    const xfiq_conv_desc &d = k.d;
    const int64_t xd[4] = {k.n, d.cin, d.ih, d.iw};
    const int64_t wd[4] = {d.cout, d.cin / d.group, d.kh, d.kw}; /* groups = cin / w's C */
    const int64_t yd[4] = {k.n, d.cout, d.oh, d.ow};
    cudnnBackendDescriptor_t x, w, y, conv_out, conv, conv_op;
    const cudnnDataType_t io = io_type(k.precision), f32 = CUDNN_DATA_FLOAT;
    XFIQ_TRY(tensor_new(L, UID_X, xd, k.x_align, false, io, &x));
    XFIQ_TRY(tensor_new(L, UID_W, wd, k.p_align, false, io, &w));
    XFIQ_TRY(tensor_new(L, UID_Y, yd, k.y_align, false, io, &y));
    conv_out = y;
    if (fused)
        XFIQ_TRY(tensor_new(L, UID_CONV, yd, 16, true, f32, &conv_out));

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

    const float alpha = 1.0f, beta = k.beta ? 1.0f : 0.0f;
    if (k.dir == XFIQ_CUDNN_FWD) {
        XFIQ_TRY(desc_new(L, CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR, &conv_op));
        SET_ATTR(conv_op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x);
        SET_ATTR(conv_op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &w);
        SET_ATTR(conv_op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &conv_out);
        SET_ATTR(conv_op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &conv);
        SET_ATTR(conv_op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, CUDNN_TYPE_FLOAT, 1, &alpha);
        SET_ATTR(conv_op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, CUDNN_TYPE_FLOAT, 1, &beta);
    } else {
        XFIQ_TRY(desc_new(L, CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR, &conv_op));
        SET_ATTR(conv_op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x);
        SET_ATTR(conv_op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &w);
        SET_ATTR(conv_op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y);
        SET_ATTR(conv_op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &conv);
        SET_ATTR(conv_op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_ALPHA, CUDNN_TYPE_FLOAT, 1, &alpha);
        SET_ATTR(conv_op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_BETA, CUDNN_TYPE_FLOAT, 1, &beta);
    }
    XFIQ_CUDNN_CHECK(cudnnBackendFinalize(conv_op));

    ops[0] = conv_op;
    *n_ops = 1;
    if (fused) {
        cudnnBackendDescriptor_t cur = conv_out;
        const bool relu = k.act == XFIQ_ACT_RELU;
        if (k.has_bias) {
            const int64_t bd[4] = {1, d.cout, 1, 1};
            cudnnBackendDescriptor_t bias, sum = y;
            XFIQ_TRY(tensor_new(L, UID_B, bd, k.p_align, false, f32, &bias));
            if (relu)
                XFIQ_TRY(tensor_new(L, UID_BIAS, yd, 16, true, f32, &sum));
            XFIQ_TRY(pointwise_new(L, CUDNN_POINTWISE_ADD, cur, bias, sum, &ops[(*n_ops)++]));
            cur = sum;
        }
        if (relu)
            XFIQ_TRY(pointwise_new(L, CUDNN_POINTWISE_RELU_FWD, cur, nullptr, y, &ops[(*n_ops)++]));
    }
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

/* bind: the device's handle when plans are bound to it (XFIQ_CUDNN_PLAN_HANDLE=1), else NULL. */
xfiq_status graph_build(const conv_key &k, bool fused, cudnnHandle_t bind, desc_list &L,
                        cudnnBackendDescriptor_t *graph)
{
    cudnnBackendDescriptor_t ops[3] = {nullptr, nullptr, nullptr};
    int64_t n_ops = 0;
    XFIQ_TRY(ops_build(k, fused, L, ops, &n_ops));
    XFIQ_TRY(desc_new(L, CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, graph));
    SET_ATTR(*graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, n_ops, ops);
    if (bind)
        SET_ATTR(*graph, kGraphHandle, CUDNN_TYPE_HANDLE, 1, &bind);
    XFIQ_CUDNN_CHECK(cudnnBackendFinalize(*graph));
    return XFIQ_OK;
}

enum verdict { V_OK, V_NUMERICS, V_UNREADABLE };

/* Whether a config's engine keeps the numerics the precision asks for.
 * FP32: results must match the CPU path to about 1e-4 and repeat bit for bit,
 * so tensor cores (TF32 gives about 1e-3), down-converted inputs,
 * reduced-precision reductions, FFT, non-fused Winograd (the tiled variants)
 * and non-deterministic engines are out. TF32 admits the tensor cores and
 * keeps the rest; so do bf16 / fp16, whose inputs are already rounded (the
 * accumulation must still be FP32). Engines compiled at run time are out in every mode (seconds
 * of NVRTC each at plan time). An engine whose notes cannot be read is out:
 * nothing then says it is exact. */
verdict engine_check(cudnnBackendDescriptor_t cfg, int precision, cudnnBackendDescriptor_t eng)
{
    int64_t cnt = 0;
    if (cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cnt, &eng) !=
            CUDNN_STATUS_SUCCESS ||
        cnt != 1)
        return V_UNREADABLE;
    cudnnBackendNumericalNote_t notes[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
    cudnnBackendBehaviorNote_t behav[CUDNN_BEHAVIOR_NOTE_TYPE_COUNT];
    int64_t nn = 0, nb = 0;
    if (cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
                                 CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &nn, notes) != CUDNN_STATUS_SUCCESS ||
        cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE, CUDNN_TYPE_BEHAVIOR_NOTE,
                                 CUDNN_BEHAVIOR_NOTE_TYPE_COUNT, &nb, behav) != CUDNN_STATUS_SUCCESS ||
        nn < 0 || nb < 0)
        return V_UNREADABLE;
    for (int64_t i = 0; i < nn && i < CUDNN_NUMERICAL_NOTE_TYPE_COUNT; i++)
        switch (notes[i]) {
        case CUDNN_NUMERICAL_NOTE_TENSOR_CORE:
            if (precision == XFIQ_PRECISION_FP32)
                return V_NUMERICS;
            break;
        case CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS:
        case CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION:
        case CUDNN_NUMERICAL_NOTE_FFT:
        case CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC:
        case CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_4x4:
        case CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_6x6:
        case CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_13x13:
            return V_NUMERICS;
        default:
            break;
        }
    for (int64_t i = 0; i < nb && i < CUDNN_BEHAVIOR_NOTE_TYPE_COUNT; i++)
        if (behav[i] == CUDNN_BEHAVIOR_NOTE_RUNTIME_COMPILATION)
            return V_NUMERICS;
    return V_OK;
}

/* "eng<global index>" then "_k<knob type>=<value>" per knob choice: names a
 * config across runs of one cuDNN version (the timing cache's value). */
std::string engine_name(cudnnBackendDescriptor_t cfg, cudnnBackendDescriptor_t eng)
{
    int64_t gid = -1, cnt = 0;
    if (cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &cnt, &gid) !=
            CUDNN_STATUS_SUCCESS ||
        cnt != 1)
        return "";
    std::string s = "eng" + std::to_string((long long)gid);
    cudnnBackendDescriptor_t kc[CUDNN_KNOB_TYPE_COUNTS];
    int made = 0;
    for (; made < CUDNN_KNOB_TYPE_COUNTS; made++)
        if (cudnnBackendCreateDescriptor(CUDNN_BACKEND_KNOB_CHOICE_DESCRIPTOR, &kc[made]) != CUDNN_STATUS_SUCCESS)
            break;
    int64_t nk = 0;
    if (made == CUDNN_KNOB_TYPE_COUNTS &&
        cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_KNOB_CHOICES, CUDNN_TYPE_BACKEND_DESCRIPTOR, made, &nk,
                                 kc) == CUDNN_STATUS_SUCCESS) {
        for (int64_t i = 0; i < nk && i < made; i++) {
            cudnnBackendKnobType_t type;
            int64_t value = 0, c1 = 0, c2 = 0;
            if (cudnnBackendGetAttribute(kc[i], CUDNN_ATTR_KNOB_CHOICE_KNOB_TYPE, CUDNN_TYPE_KNOB_TYPE, 1, &c1,
                                         &type) == CUDNN_STATUS_SUCCESS &&
                cudnnBackendGetAttribute(kc[i], CUDNN_ATTR_KNOB_CHOICE_KNOB_VALUE, CUDNN_TYPE_INT64, 1, &c2,
                                         &value) == CUDNN_STATUS_SUCCESS)
                s += "_k" + std::to_string((int)type) + "=" + std::to_string((long long)value);
        }
    }
    for (int i = 0; i < made; i++)
        cudnnBackendDestroyDescriptor(kc[i]);
    return s;
}

struct candidate {
    cudnnBackendDescriptor_t cfg = nullptr, plan = nullptr; /* plan owned here until chosen */
    size_t ws = 0;
    std::string name;
    double ms = -1.0;
};

void candidates_free(std::vector<candidate> &c)
{
    for (candidate &x : c)
        if (x.plan)
            cudnnBackendDestroyDescriptor(x.plan);
    c.clear();
}

/* The acceptable configs of one heuristic mode that finalize on the device and
 * fit the budget, in the heuristic's order: at most `want_count`, except that
 * the search goes on to the end for `want` (a timing-cache name), which, when
 * found, is returned alone. Configs stay in L (plans refer to them). */
xfiq_status collect(cudnnBackendDescriptor_t devprop, cudnnHandle_t bind, cudnnBackendDescriptor_t graph,
                    cudnnBackendHeurMode_t mode,
                    const conv_key &k, size_t budget, int want_count, const std::string &want, desc_list &L,
                    std::vector<candidate> &out, xfiq_cudnn_plan_info *t)
{
    cudnnBackendDescriptor_t heur;
    XFIQ_TRY(desc_new(L, CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, &heur));
    SET_ATTR(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &graph);
    SET_ATTR(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode);
    if (!bind)
        SET_ATTR(heur, CUDNN_ATTR_ENGINEHEUR_DEVICEPROP, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &devprop);
    if (cudnnBackendFinalize(heur) != CUDNN_STATUS_SUCCESS)
        return XFIQ_OK; /* this mode has nothing for the graph */

    int64_t count = 0;
    XFIQ_CUDNN_CHECK(cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0,
                                              &count, nullptr));
    if (count > kMaxConfigs)
        count = kMaxConfigs;
    if (count <= 0)
        return XFIQ_OK;
    const size_t first = L.v.size();
    for (int64_t i = 0; i < count; i++) {
        cudnnBackendDescriptor_t cfg;
        XFIQ_TRY(desc_new(L, CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, &cfg));
    }
    cudnnBackendDescriptor_t eng = nullptr; /* scratch for reading each config's engine */
    XFIQ_TRY(desc_new(L, CUDNN_BACKEND_ENGINE_DESCRIPTOR, &eng));
    int64_t got = 0;
    XFIQ_CUDNN_CHECK(cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                                              count, &got, &L.v[first]));
    bool found = false;
    for (int64_t i = 0; i < got && i < count && !found; i++) {
        if ((int)out.size() >= want_count && want.empty())
            break;
        cudnnBackendDescriptor_t cfg = L.v[first + (size_t)i];
        t->configs_seen++;
        verdict v = engine_check(cfg, k.precision, eng);
        if (v != V_OK) {
            if (v == V_NUMERICS)
                t->rejected_numerics++;
            else
                t->rejected_unreadable++;
            continue;
        }
        std::string name = engine_name(cfg, eng);
        const bool is_want = !want.empty() && name == want;
        if ((int)out.size() >= want_count && !is_want)
            continue; /* only looking for the cached choice now */
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
        bool ok = (bind ? cudnnBackendSetAttribute(p, kPlanHandle, CUDNN_TYPE_HANDLE, 1, &bind)
                        : cudnnBackendSetAttribute(p, CUDNN_ATTR_EXECUTION_PLAN_DEVICEPROP,
                                                   CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &devprop)) == CUDNN_STATUS_SUCCESS &&
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
        candidate c;
        c.cfg = cfg;
        c.plan = p;
        c.ws = (size_t)plan_ws;
        c.name = name.empty() ? "eng?" : name;
        if (is_want) {
            candidates_free(out);
            found = true;
        }
        try {
            out.push_back(c);
        } catch (...) {
            cudnnBackendDestroyDescriptor(p);
            return xfiq_error(XFIQ_ERR_NOMEM, "cudnn_conv: out of memory");
        }
    }
    xfiq_error_clear(); /* the failed finalizes above are expected, not errors */
    return XFIQ_OK;
}

/* ------------------------------------------------------------ execution */
/* x/w/y are the conv's input, weight and output pointers (backward: dx, w,
 * dy under the same uids). */
xfiq_status plan_exec(cudnnHandle_t h, cudnnBackendDescriptor_t plan, bool with_bias, const void *x, const void *w,
                      const void *y, const void *b, void *work)
{
    int64_t uids[4] = {UID_X, UID_W, UID_Y, UID_B};
    void *ptrs[4] = {(void *)x, (void *)w, (void *)y, (void *)b};
    int64_t n = with_bias ? 4 : 3;
    desc_list L;
    cudnnBackendDescriptor_t vp;
    XFIQ_TRY(desc_new(L, CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &vp));
    SET_ATTR(vp, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, n, uids);
    SET_ATTR(vp, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, n, ptrs);
    SET_ATTR(vp, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &work);
    XFIQ_CUDNN_CHECK(cudnnBackendFinalize(vp));
    XFIQ_CUDNN_CHECK(cudnnBackendExecute(h, plan, vp));
    return XFIQ_OK;
}

/* Scratch device buffers for timing, freed on scope exit. */
struct dev_buffers {
    std::vector<void *> p;
    ~dev_buffers()
    {
        for (void *q : p)
            cudaFree(q);
    }
    void *get(size_t bytes)
    {
        void *q = nullptr;
        if (cudaMalloc(&q, bytes ? bytes : 256) != cudaSuccess) {
            (void)cudaGetLastError();
            return nullptr;
        }
        p.push_back(q);
        if (cudaMemset(q, 0, bytes ? bytes : 256) != cudaSuccess) {
            (void)cudaGetLastError();
            return nullptr;
        }
        return q;
    }
};

/* Times each candidate on the device's own stream with zeroed operands of the
 * layer's shape (one warm-up, kTuneRuns timed). A candidate that fails to run
 * is dropped (ms < 0). False when the buffers could not be had: then nothing
 * was timed. Called at planning time (workspace queries), not in a launcher. */
bool time_candidates(dev_ctx *dc, const conv_key &k, bool fused, std::vector<candidate> &c, std::string *why)
{
    const xfiq_conv_desc &d = k.d;
    size_t ws = 0;
    for (const candidate &x : c)
        ws = x.ws > ws ? x.ws : ws;
    dev_buffers B;
    void *x = B.get((size_t)k.n * d.cin * d.ih * d.iw * sizeof(float));
    void *w = x ? B.get((size_t)d.cout * (d.cin / d.group) * d.kh * d.kw * sizeof(float)) : nullptr;
    void *y = w ? B.get((size_t)k.n * d.cout * d.oh * d.ow * sizeof(float)) : nullptr;
    void *b = y ? B.get((size_t)d.cout * sizeof(float)) : nullptr;
    void *work = b ? B.get(ws) : nullptr;
    cudaEvent_t e0 = nullptr, e1 = nullptr;
    if (!work || cudaEventCreate(&e0) != cudaSuccess || cudaEventCreate(&e1) != cudaSuccess) {
        (void)cudaGetLastError();
        if (e0)
            cudaEventDestroy(e0);
        *why = "no_device_memory_for_timing";
        return false;
    }
    const bool with_bias = fused && k.has_bias;
    for (candidate &cd : c) {
        cd.ms = -1.0;
        if (plan_exec(dc->qh, cd.plan, with_bias, x, w, y, b, work) != XFIQ_OK ||
            cudaEventRecord(e0, dc->qs) != cudaSuccess) {
            xfiq_error_clear();
            (void)cudaGetLastError();
            continue;
        }
        bool ok = true;
        for (int r = 0; r < kTuneRuns && ok; r++)
            ok = plan_exec(dc->qh, cd.plan, with_bias, x, w, y, b, work) == XFIQ_OK;
        float ms = 0.0f;
        ok = ok && cudaEventRecord(e1, dc->qs) == cudaSuccess && cudaEventSynchronize(e1) == cudaSuccess &&
             cudaEventElapsedTime(&ms, e0, e1) == cudaSuccess;
        if (!ok) {
            xfiq_error_clear();
            (void)cudaGetLastError();
            (void)cudaStreamSynchronize(dc->qs);
            continue;
        }
        cd.ms = ms / kTuneRuns;
    }
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    return true;
}

/* ------------------------------------------------------------ plan build */
/* One plan for a key: fused graph first where it can express the epilogue,
 * else the bare conv (heuristic mode A, then FALLBACK). Backward with beta 1
 * that no engine takes becomes beta 0 into scratch plus an add kernel. The
 * choice: the timing cache's entry for the layer if one of the candidates has
 * its name; else, on a real device with timing allowed, the fastest of the
 * first kTuneCandidates (recorded in the cache); else the first. */
xfiq_status plan_build(dev_ctx *dc, const conv_key &key, size_t budget, bool allow_timing, conv_plan **out)
{
    *out = nullptr;
    const auto t0 = std::chrono::steady_clock::now();
    conv_plan *p = new (std::nothrow) conv_plan;
    if (!p)
        return xfiq_error(XFIQ_ERR_NOMEM, "cudnn_conv: out of memory");
    memset(&p->info, 0, sizeof p->info);
    p->key = key;
    p->budget = budget;
    const std::string kname = key_string(key);
    const bool tuning = dc->device >= 0 && xfiq_cudnn_tuning_enabled();
    std::string want;
    if (tuning) {
        if (!dc->tune_loaded) {
            if (xfiq_tune_file_for(dc->name, (long)cudnnGetVersion(), &dc->tune_path) == XFIQ_OK)
                xfiq_tune_load(dc->tune_path, dc->tune);
            else
                xfiq_error_clear();
            dc->tune_loaded = true;
        }
        auto it = dc->tune.find(kname);
        if (it != dc->tune.end())
            want = it->second.engine;
    }
    const bool timing = tuning && allow_timing && dc->qh;
    const int want_count = timing ? kTuneCandidates : 1;
    xfiq_cudnn_plan_info &t = p->info;
    std::string choice = "heuristic";

    const bool can_fuse = key.dir == XFIQ_CUDNN_FWD && key.act != XFIQ_ACT_PRELU &&
                          (key.has_bias || key.act == XFIQ_ACT_RELU);
    const bool may_scratch = key.dir == XFIQ_CUDNN_BWD_DATA && key.beta;
    const size_t dx_bytes = align256((size_t)key.n * key.d.cin * key.d.ih * key.d.iw * sizeof(float));
    /* attempts: 0 fused/beta graph mode A, 1 bare mode A, 2 bare FALLBACK; 3, 4: scratch (beta 0) A, FALLBACK */
    for (int attempt = can_fuse ? 0 : 1; attempt < (may_scratch ? 5 : 3) && !p->plan; attempt++) {
        const bool fused = attempt == 0;
        const bool scratch = attempt >= 3;
        if (scratch && budget < dx_bytes)
            break;
        conv_key k = key;
        if (scratch)
            k.beta = 0;
        desc_list L;
        std::vector<candidate> cands;
        cudnnBackendDescriptor_t graph = nullptr;
        const cudnnBackendHeurMode_t mode =
            (attempt == 2 || attempt == 4) ? CUDNN_HEUR_MODE_FALLBACK : CUDNN_HEUR_MODE_A;
        xfiq_status st = graph_build(k, fused, dc->bind, L, &graph);
        if (st == XFIQ_OK)
            st = collect(dc->devprop, dc->bind, graph, mode, k, scratch ? budget - dx_bytes : budget, want_count, want, L,
                         cands, &t);
        if (st != XFIQ_OK && fused) { /* cuDNN will not describe or plan the fused graph: go unfused */
            candidates_free(cands);
            xfiq_error_clear();
            continue;
        }
        if (st != XFIQ_OK) {
            candidates_free(cands);
            delete p;
            return xfiq_error_prefix(st, "cudnn_conv: %s", kname.c_str());
        }
        if (cands.empty())
            continue;
        size_t best = 0;
        if (!want.empty() && cands.size() == 1 && cands[0].name == want) {
            choice = "cached";
        } else if (timing && cands.size() > 1) {
            std::string why;
            if (time_candidates(dc, k, fused, cands, &why)) {
                bool any = false;
                for (size_t i = 0; i < cands.size(); i++)
                    if (cands[i].ms >= 0 && (!any || cands[i].ms < cands[best].ms)) {
                        best = i;
                        any = true;
                    }
                if (any) {
                    choice = "timed(" + std::to_string(cands.size()) + ")";
                    dc->tune[kname].engine = cands[best].name;
                    dc->tune[kname].ms = cands[best].ms;
                    xfiq_tune_map one;
                    one[kname] = dc->tune[kname];
                    if (!dc->tune_path.empty() &&
                        xfiq_tune_save(dc->tune_path, one, dc->name, (long)cudnnGetVersion()) != XFIQ_OK) {
                        fprintf(stderr, "xfiq: warning: cuDNN timing cache not written: %s\n", xfiq_last_error());
                        xfiq_error_clear();
                    }
                } else {
                    choice = "heuristic:no_candidate_ran";
                }
            } else {
                choice = "heuristic:" + why;
            }
        }
        t.candidates = (int)cands.size();
        p->plan = cands[best].plan;
        cands[best].plan = nullptr;
        p->engine = cands[best].name;
        p->fused = fused;
        p->scratch = scratch;
        p->scratch_bytes = scratch ? dx_bytes : 0;
        p->staging = is_half(key.precision) ? staging_of(key.d, key.n).total : 0;
        p->ws = p->staging + p->scratch_bytes + cands[best].ws;
        p->capped = t.too_big > 0;
        t.heur_mode = mode == CUDNN_HEUR_MODE_FALLBACK;
        double ms = cands[best].ms;
        candidates_free(cands);
        try {
            L.v.push_back(p->plan);
        } catch (...) {
            cudnnBackendDestroyDescriptor(p->plan);
            delete p;
            return xfiq_error(XFIQ_ERR_NOMEM, "cudnn_conv: out of memory");
        }
        p->descs.v.swap(L.v);
        const double build_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        char line[256];
        snprintf(line, sizeof line, " engine=%s ws=%zu fused=%d scratch=%d mode=%s choice=%s time_ms=%.4f build_ms=%.1f",
                 p->engine.c_str(), p->ws, (int)p->fused, (int)p->scratch, t.heur_mode ? "fallback" : "a",
                 choice.c_str(), ms, build_ms);
        xfiq_cudnn_log_line("cudnn_plan device=" + (dc->device >= 0 ? std::to_string(dc->device) : dc->json_path) +
                            " " + kname + line + (dc->bind ? " bound=handle" : " bound=deviceprop"));
    }
    if (!p->plan) {
        const xfiq_cudnn_plan_info tc = t;
        delete p;
        return xfiq_error(XFIQ_ERR_BACKEND,
                          "cudnn_conv: no cuDNN engine for %s: %d configs seen, %d with other numerics than %s, "
                          "%d with unreadable notes, %d unsupported, %d above the workspace budget of %zu bytes",
                          kname.c_str(), tc.configs_seen, tc.rejected_numerics, prec_name(key.precision),
                          tc.rejected_unreadable, tc.unsupported, tc.too_big, budget);
    }
    snprintf(p->info.engine, sizeof p->info.engine, "%s", p->engine.c_str());
    p->info.workspace = p->ws;
    p->info.fused = p->fused;
    p->info.scratch = p->scratch;
    {
        std::lock_guard<std::mutex> g(g_count_mutex);
        g_plans_built++;
    }
    *out = p;
    return XFIQ_OK;
}

/* The device's plan for key under budget: the cached one when it fits and no
 * better-ranked config was excluded by a smaller budget than this one, else a
 * new one (kept beside the old: a stream may be running that). */
xfiq_status plan_get(dev_ctx *dc, const conv_key &k, size_t budget, bool allow_timing, const conv_plan **out)
{
    std::lock_guard<std::mutex> g(dc->m);
    for (const conv_plan *p : dc->plans)
        if (key_equal(p->key, k) && p->ws - p->staging <= budget && (!p->capped || budget <= p->budget)) {
            *out = p;
            return XFIQ_OK;
        }
    conv_plan *p = nullptr;
    XFIQ_TRY(plan_build(dc, k, budget, allow_timing, &p));
    try {
        dc->plans.push_back(p);
    } catch (...) {
        delete p;
        return xfiq_error(XFIQ_ERR_NOMEM, "cudnn_conv: out of memory");
    }
    *out = p;
    return XFIQ_OK;
}

/* ------------------------------------------------------------ devices */
xfiq_status devprop_from_handle(desc_list &L, cudnnHandle_t h, cudnnBackendDescriptor_t *out)
{
    XFIQ_TRY(desc_new(L, CUDNN_BACKEND_DEVICEPROP_DESCRIPTOR, out));
    SET_ATTR(*out, CUDNN_ATTR_DEVICEPROP_HANDLE, CUDNN_TYPE_HANDLE, 1, &h);
    XFIQ_CUDNN_CHECK(cudnnBackendFinalize(*out));
    return XFIQ_OK;
}

void dev_ctx_free(dev_ctx *dc)
{
    for (conv_plan *p : dc->plans)
        delete p;
    for (conv_plan *p : dc->retired)
        delete p;
    dc->plans.clear();
    dc->retired.clear();
    if (dc->qh)
        cudnnDestroy(dc->qh);
    if (dc->qs)
        cudaStreamDestroy(dc->qs);
    delete dc;
}

/* The current CUDA device's context, made at first use (the query handle and
 * stream are the device's; timing runs there, never on a caller's stream). */
xfiq_status dev_current(dev_ctx **out)
{
    int dev = 0;
    XFIQ_CUDA_CHECK(cudaGetDevice(&dev));
    if (dev < 0 || dev >= kMaxDevices)
        return xfiq_error(XFIQ_ERR_BACKEND, "cudnn_conv: device %d out of range", dev);
    std::lock_guard<std::mutex> g(g_dev_mutex);
    if (g_dev[dev]) {
        *out = g_dev[dev];
        return XFIQ_OK;
    }
    dev_ctx *dc = new (std::nothrow) dev_ctx;
    if (!dc)
        return xfiq_error(XFIQ_ERR_NOMEM, "cudnn_conv: out of memory");
    dc->device = dev;
    cudaDeviceProp prop;
    xfiq_status st = XFIQ_OK;
    cudaError_t ce = cudaGetDeviceProperties(&prop, dev);
    if (ce == cudaSuccess)
        ce = cudaStreamCreateWithFlags(&dc->qs, cudaStreamNonBlocking);
    if (ce != cudaSuccess) {
        (void)cudaGetLastError();
        st = xfiq_error(XFIQ_ERR_BACKEND, "cudnn_conv: device %d: %s", dev, cudaGetErrorString(ce));
    }
    if (st == XFIQ_OK) {
        dc->name = prop.name;
        cudnnStatus_t ds = cudnnCreate(&dc->qh);
        if (ds == CUDNN_STATUS_SUCCESS)
            ds = cudnnSetStream(dc->qh, dc->qs);
        if (ds != CUDNN_STATUS_SUCCESS)
            st = xfiq_error(XFIQ_ERR_BACKEND, "cudnn_conv: cuDNN handle for device %d: %s (%d)", dev,
                            cudnnGetErrorString(ds), (int)ds);
    }
    if (st == XFIQ_OK)
        st = devprop_from_handle(dc->props, dc->qh, &dc->devprop);
    const char *bind = getenv("XFIQ_CUDNN_PLAN_HANDLE");
    if (bind && strcmp(bind, "1") == 0)
        dc->bind = dc->qh;
    if (st != XFIQ_OK) {
        dev_ctx_free(dc);
        return st;
    }
    g_dev[dev] = dc;
    *out = dc;
    return XFIQ_OK;
}

/* A JSON description's context, made once per path. */
xfiq_status dev_from_json(const char *path, dev_ctx **out)
{
    std::lock_guard<std::mutex> g(g_dev_mutex);
    for (dev_ctx *dc : g_deviceless)
        if (dc->json_path == path) {
            *out = dc;
            return XFIQ_OK;
        }
    FILE *f = fopen(path, "rb");
    if (!f)
        return xfiq_error(XFIQ_ERR_IO, "cuDNN device description %s: cannot open: %s", path, strerror(errno));
    std::string text;
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        text.append(buf, got);
    fclose(f);
    dev_ctx *dc = new (std::nothrow) dev_ctx;
    if (!dc)
        return xfiq_error(XFIQ_ERR_NOMEM, "cudnn_conv: out of memory");
    dc->json_path = path;
    cudnnStatus_t ds = CUDNN_STATUS_SUCCESS;
    xfiq_status st = desc_new(dc->props, CUDNN_BACKEND_DEVICEPROP_DESCRIPTOR, &dc->devprop);
    if (st == XFIQ_OK) {
        ds = cudnnBackendSetAttribute(dc->devprop, CUDNN_ATTR_DEVICEPROP_JSON_REPRESENTATION, CUDNN_TYPE_CHAR,
                                      (int64_t)text.size(), text.data());
        if (ds == CUDNN_STATUS_SUCCESS)
            ds = cudnnBackendFinalize(dc->devprop);
        if (ds != CUDNN_STATUS_SUCCESS) {
            char msg[256] = "";
            cudnnGetLastErrorString(msg, sizeof msg);
            st = xfiq_error(XFIQ_ERR_FORMAT, "cuDNN device description %s rejected: %s (%d)%s%s", path,
                            cudnnGetErrorString(ds), (int)ds, msg[0] ? ": " : "", msg);
        }
    }
    if (st == XFIQ_OK) {
        try {
            g_deviceless.push_back(dc);
        } catch (...) {
            st = xfiq_error(XFIQ_ERR_NOMEM, "cudnn_conv: out of memory");
        }
    }
    if (st != XFIQ_OK) {
        dev_ctx_free(dc);
        return st;
    }
    *out = dc;
    return XFIQ_OK;
}

xfiq_status conv_check(const char *fn, const xfiq_conv_desc *d, int n, int act)
{
    if (!d || n < 0)
        return xfiq_error(XFIQ_ERR_ARG, "%s: no descriptor or negative batch", fn);
    if (d->group < 1 || d->cin % d->group || d->cout % d->group || d->kh < 1 || d->kw < 1 || d->sh < 1 ||
        d->sw < 1 || d->dh < 1 || d->dw < 1 || d->oh < 1 || d->ow < 1 || d->ih < 1 || d->iw < 1)
        return xfiq_error(XFIQ_ERR_SHAPE, "%s: bad conv descriptor (cin %d cout %d group %d kernel %dx%d out %dx%d)",
                          fn, d->cin, d->cout, d->group, d->kh, d->kw, d->oh, d->ow);
    if (act != XFIQ_ACT_NONE && act != XFIQ_ACT_RELU && act != XFIQ_ACT_PRELU)
        return xfiq_error(XFIQ_ERR_ARG, "%s: unknown activation %d", fn, act);
    return XFIQ_OK;
}

void cudnn_ctx_free(cudnn_ctx *c)
{
    if (c->h)
        cudnnDestroy(c->h);
    delete c;
}

/* Records that the stream ran p (for xfiq_cudnn_plan_count). */
void note_used(cudnn_ctx *c, const conv_plan *p)
{
    for (const conv_plan *q : c->used)
        if (q == p)
            return;
    try {
        c->used.push_back(p);
    } catch (...) {
        /* only the count is off */
    }
}

/* The stream's context and device, for a launcher. */
xfiq_status launch_ctx(const char *fn, cudaStream_t stream, cudnn_ctx **c, dev_ctx **dc)
{
    *c = g_cudnn.find(stream);
    if (!*c)
        return xfiq_error(XFIQ_ERR_BACKEND, "%s: stream %p has no cuDNN handle (xfiq_cudnn_attach)", fn,
                          (void *)stream);
    int cur = 0;
    XFIQ_CUDA_CHECK(cudaGetDevice(&cur));
    if (cur != (*c)->device)
        return xfiq_error(XFIQ_ERR_BACKEND, "%s: stream attached on device %d, current device is %d", fn,
                          (*c)->device, cur);
    *dc = (*c)->dc;
    return XFIQ_OK;
}

/* What of a launcher's workspace cuDNN may use: all of it, less the bf16 /
 * fp16 staging (a plan rebuilt at launch for a larger workspace than the
 * query's must leave room for it). */
size_t cudnn_budget(const conv_key &k, size_t ws_bytes)
{
    if (!is_half(k.precision))
        return ws_bytes;
    /* at most the query's budget: the runner's workspace is the largest
     * layer's staging, far above what a small layer's plan was chosen under */
    const size_t st = staging_of(k.d, k.n).total, left = ws_bytes > st ? ws_bytes - st : 0;
    return left < kQueryBudget ? left : kQueryBudget;
}

/* A bf16 / fp16 launch with a workspace too small for its staging: said
 * before any plan is looked for (or built for nothing). */
xfiq_status staging_fits(const char *who, const conv_key &k, size_t ws_bytes)
{
    const size_t st = is_half(k.precision) ? staging_of(k.d, k.n).total : 0;
    if (ws_bytes < st)
        return xfiq_error(XFIQ_ERR_ARG, "%s: %s workspace of %zu bytes cannot hold the staging (%zu bytes)", who,
                          prec_name(k.precision), ws_bytes, st);
    return XFIQ_OK;
}

/* A bf16 / fp16 plan run on staged copies: in (x forward, dy backward) and
 * w narrowed into the workspace, the conv, the result (y forward, dx
 * backward: uids X and Y keep their places) widened into out, or added to
 * it. The launcher's workspace must hold the staging too. */
xfiq_status staged_run(const char *who, cudnn_ctx *c, const conv_plan *plan, const xfiq_conv_desc *d, int n,
                       const float *in, const float *w, float *out, int accumulate, float *ws, size_t ws_bytes,
                       cudaStream_t stream)
{
    if (ws_bytes < plan->ws)
        return xfiq_error(XFIQ_ERR_ARG, "%s: %s workspace of %zu bytes, the plan needs %zu (staging %zu)", who,
                          prec_name(plan->key.precision), ws_bytes, plan->ws, plan->staging);
    const half_staging hs = staging_of(*d, n);
    const int kind = half_kind(plan->key.precision);
    const bool fwd = plan->key.dir == XFIQ_CUDNN_FWD;
    uint16_t *xh = (uint16_t *)ws, *wh = (uint16_t *)((char *)ws + hs.x);
    uint16_t *yh = (uint16_t *)((char *)ws + hs.x + hs.w);
    const int64_t nx = (int64_t)n * d->cin * d->ih * d->iw, ny = (int64_t)n * d->cout * d->oh * d->ow;
    XFIQ_TRY(half_from_f32_cuda(in, fwd ? xh : yh, fwd ? nx : ny, kind, stream));
    XFIQ_TRY(half_from_f32_cuda(w, wh, (int64_t)d->cout * (d->cin / d->group) * d->kh * d->kw, kind, stream));
    XFIQ_TRY(plan_exec(c->h, plan->plan, false, xh, wh, yh, nullptr, (char *)ws + hs.total));
    return half_to_f32_cuda(fwd ? yh : xh, out, fwd ? ny : nx, kind, accumulate, stream);
}

__global__ void add_kernel(float *__restrict__ y, const float *__restrict__ t, int64_t count)
{
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < count; i += (int64_t)gridDim.x * blockDim.x)
        y[i] += t[i];
}

} // namespace

/* ================================================================ C API */

extern "C" xfiq_status xfiq_cudnn_attach(cudaStream_t stream)
{
    cudnn_ctx *c = new (std::nothrow) cudnn_ctx;
    if (!c)
        return xfiq_error(XFIQ_ERR_NOMEM, "xfiq_cudnn_attach: out of memory");
    cudaError_t ce = cudaGetDevice(&c->device);
    if (ce != cudaSuccess) {
        (void)cudaGetLastError();
        cudnn_ctx_free(c);
        return xfiq_error(XFIQ_ERR_BACKEND, "xfiq_cudnn_attach: no current device: %s", cudaGetErrorString(ce));
    }
    cudnnStatus_t st = cudnnCreate(&c->h);
    if (st == CUDNN_STATUS_SUCCESS)
        st = cudnnSetStream(c->h, stream);
    if (st != CUDNN_STATUS_SUCCESS) {
        cudnn_ctx_free(c);
        return xfiq_error(XFIQ_ERR_BACKEND, "cuDNN handle setup failed: %s (%d)", cudnnGetErrorString(st), (int)st);
    }
    xfiq_status xs = dev_current(&c->dc);
    if (xs != XFIQ_OK) {
        cudnn_ctx_free(c);
        return xs;
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
    return (int)c->used.size();
}

extern "C" xfiq_status xfiq_cudnn_set_precision(cudaStream_t stream, int precision)
{
    /* bf16 / fp16: checked deviceless on sm_90 with cuDNN 9.19, heuristics
     * return no config for FP32 operands cast inside the graph, nor for
     * BF16/FP16 inputs with an FP32 output; all-BF16/FP16 tensors plan, hence
     * the staging of the launchers. */
    if (precision < XFIQ_PRECISION_FP32 || precision > XFIQ_PRECISION_FP16)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_cudnn_set_precision: unknown precision %d", precision);
    cudnn_ctx *c = g_cudnn.find(stream);
    if (!c)
        return xfiq_error(XFIQ_ERR_BACKEND, "xfiq_cudnn_set_precision: stream %p has no cuDNN handle",
                          (void *)stream);
    std::lock_guard<std::mutex> g(c->m);
    c->precision = precision;
    return XFIQ_OK;
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
    cudnn_ctx *c = nullptr;
    dev_ctx *dc = nullptr;
    XFIQ_TRY(launch_ctx("conv2d_fwd_cuda", stream, &c, &dc));
    if (!ws)
        ws_bytes = 0;
    int p_align = xfiq_cuda_align(w);
    if (b && xfiq_cuda_align(b) < p_align)
        p_align = xfiq_cuda_align(b);
    bool fused = false;
    {
        std::lock_guard<std::mutex> g(c->m);
        const conv_key k = key_make(XFIQ_CUDNN_FWD, d, n, act, b != nullptr, 0, xfiq_cuda_align(x), p_align,
                                    xfiq_cuda_align(y), c->precision);
        const conv_plan *plan = nullptr;
        XFIQ_TRY(staging_fits("conv2d_fwd_cuda", k, ws_bytes));
        XFIQ_TRY(plan_get(dc, k, cudnn_budget(k, ws_bytes), false, &plan));
        note_used(c, plan);
        if (plan->staging) {
            XFIQ_TRY(staged_run("conv2d_fwd_cuda", c, plan, d, n, x, w, y, 0, ws, ws_bytes, stream));
        } else {
            XFIQ_TRY(plan_exec(c->h, plan->plan, plan->fused && k.has_bias, x, w, y, b, ws));
        }
        fused = plan->fused;
    }
    if (fused)
        return XFIQ_OK;
    return bias_act_fwd_cuda(y, b, act, slope, slope_per_channel, n, d->cout, (int64_t)d->oh * d->ow, stream);
}

extern "C" xfiq_status conv2d_bwd_data_cuda(const float *dy, const float *w, float *dx, const xfiq_conv_desc *d,
                                            int n, int accumulate, float *ws, size_t ws_bytes, cudaStream_t stream)
{
    XFIQ_TRY(conv_check("conv2d_bwd_data_cuda", d, n, XFIQ_ACT_NONE));
    if (n == 0)
        return XFIQ_OK;
    if (!dy || !w || !dx)
        return xfiq_error(XFIQ_ERR_ARG, "conv2d_bwd_data_cuda: missing dy, w or dx");
    cudnn_ctx *c = nullptr;
    dev_ctx *dc = nullptr;
    XFIQ_TRY(launch_ctx("conv2d_bwd_data_cuda", stream, &c, &dc));
    if (!ws)
        ws_bytes = 0;
    std::lock_guard<std::mutex> g(c->m);
    const conv_key k = key_make(XFIQ_CUDNN_BWD_DATA, d, n, XFIQ_ACT_NONE, 0, accumulate != 0, xfiq_cuda_align(dx),
                                xfiq_cuda_align(w), xfiq_cuda_align(dy), c->precision);
    const conv_plan *plan = nullptr;
    XFIQ_TRY(staging_fits("conv2d_bwd_data_cuda", k, ws_bytes));
    XFIQ_TRY(plan_get(dc, k, cudnn_budget(k, ws_bytes), false, &plan));
    note_used(c, plan);
    if (plan->staging) /* dx = widen(conv_transpose(dy_h, w_h)), or dx += */
        return staged_run("conv2d_bwd_data_cuda", c, plan, d, n, dy, w, dx, accumulate != 0, ws, ws_bytes, stream);
    if (!plan->scratch)
        return plan_exec(c->h, plan->plan, false, dx, w, dy, nullptr, ws);
    /* accumulate without a beta = 1 engine: dx' in scratch (256-byte aligned
     * start of ws, as planned with x_align 16), then dx += dx'. */
    float *tmp = ws;
    XFIQ_TRY(plan_exec(c->h, plan->plan, false, tmp, w, dy, nullptr, (char *)ws + plan->scratch_bytes));
    const int64_t count = (int64_t)n * d->cin * d->ih * d->iw;
    const int threads = 256;
    const int64_t want = (count + threads - 1) / threads;
    const int blocks = (int)(want < 4096 ? want : 4096);
    add_kernel<<<blocks, threads, 0, stream>>>(dx, tmp, count);
    XFIQ_CUDA_CHECK_LAUNCH();
    return XFIQ_OK;
}

extern "C" xfiq_status xfiq_cudnn_conv_describe(const xfiq_conv_desc *d, int n, int act, int has_bias, int fused)
{
    XFIQ_TRY(conv_check("xfiq_cudnn_conv_describe", d, n, act));
    if (fused && (act == XFIQ_ACT_PRELU || (!has_bias && act != XFIQ_ACT_RELU)))
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_cudnn_conv_describe: nothing to fuse for act %s, bias %d",
                          act_name(act), has_bias);
    const conv_key k = key_make(XFIQ_CUDNN_FWD, d, n > 0 ? n : 1, act, has_bias != 0, 0, 16, 4, 16,
                                XFIQ_PRECISION_FP32);
    desc_list L;
    cudnnBackendDescriptor_t ops[3];
    int64_t n_ops = 0;
    XFIQ_TRY(ops_build(k, fused != 0, L, ops, &n_ops));
    return XFIQ_OK;
}

namespace {
/* The stream's device plans and precision, for a workspace query. */
xfiq_status query_context(const char *fn, cudaStream_t stream, dev_ctx **dc, int *prec)
{
    cudnn_ctx *c = nullptr;
    XFIQ_TRY(launch_ctx(fn, stream, &c, dc));
    std::lock_guard<std::mutex> g(c->m);
    *prec = c->precision;
    return XFIQ_OK;
}
} // namespace

extern "C" xfiq_status conv2d_fwd_cuda_workspace(const xfiq_conv_desc *d, int n, int act, int has_bias,
                                                 int param_align, size_t *bytes, cudaStream_t stream)
{
    *bytes = 0;
    XFIQ_TRY(conv_check("conv2d_fwd_cuda_workspace", d, n, act));
    if (n == 0)
        return XFIQ_OK;
    dev_ctx *dc = nullptr;
    int prec = 0;
    XFIQ_TRY(query_context("conv2d_fwd_cuda_workspace", stream, &dc, &prec));
    const conv_key k = key_make(XFIQ_CUDNN_FWD, d, n, act, has_bias != 0, 0, 16, param_align, 16, prec);
    const conv_plan *p = nullptr;
    XFIQ_TRY(plan_get(dc, k, kQueryBudget, true, &p));
    *bytes = p->ws;
    return XFIQ_OK;
}

/* The query has no accumulate flag: the answer covers both (each plan is
 * built here once and reused by the launcher). */
extern "C" xfiq_status conv2d_bwd_data_cuda_workspace(const xfiq_conv_desc *d, int n, int param_align, size_t *bytes,
                                                      cudaStream_t stream)
{
    *bytes = 0;
    XFIQ_TRY(conv_check("conv2d_bwd_data_cuda_workspace", d, n, XFIQ_ACT_NONE));
    if (n == 0)
        return XFIQ_OK;
    dev_ctx *dc = nullptr;
    int prec = 0;
    XFIQ_TRY(query_context("conv2d_bwd_data_cuda_workspace", stream, &dc, &prec));
    for (int beta = 0; beta < 2; beta++) {
        const conv_key k = key_make(XFIQ_CUDNN_BWD_DATA, d, n, XFIQ_ACT_NONE, 0, beta, 16, param_align, 16, prec);
        const conv_plan *p = nullptr;
        XFIQ_TRY(plan_get(dc, k, kQueryBudget, true, &p));
        if (p->ws > *bytes)
            *bytes = p->ws;
    }
    return XFIQ_OK;
}

extern "C" xfiq_status xfiq_cudnn_plan_deviceless(const char *json_path, int direction, const xfiq_conv_desc *d,
                                                  int n, int act, int has_bias, int accumulate, int precision,
                                                  xfiq_cudnn_plan_info *info)
{
    if (!json_path || !info || (direction != XFIQ_CUDNN_FWD && direction != XFIQ_CUDNN_BWD_DATA))
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_cudnn_plan_deviceless: bad arguments");
    XFIQ_TRY(conv_check("xfiq_cudnn_plan_deviceless", d, n, direction == XFIQ_CUDNN_FWD ? act : XFIQ_ACT_NONE));
    if (n < 1)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_cudnn_plan_deviceless: batch %d", n);
    if (precision < XFIQ_PRECISION_FP32 || precision > XFIQ_PRECISION_FP16)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_cudnn_plan_deviceless: unknown precision %d", precision);
    dev_ctx *dc = nullptr;
    XFIQ_TRY(dev_from_json(json_path, &dc));
    const conv_key k = key_make(direction, d, n, act, has_bias != 0, accumulate != 0, 16, 16, 16, precision);
    const conv_plan *p = nullptr;
    XFIQ_TRY(plan_get(dc, k, kQueryBudget, false, &p));
    *info = p->info;
    return XFIQ_OK;
}

extern "C" xfiq_status xfiq_cudnn_dump_device_json(int device, const char *path)
{
    if (!path)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_cudnn_dump_device_json: no path");
    int prev = 0;
    XFIQ_CUDA_CHECK(cudaGetDevice(&prev));
    XFIQ_CUDA_CHECK(cudaSetDevice(device));
    cudnnHandle_t h = nullptr;
    cudnnStatus_t ds = cudnnCreate(&h);
    xfiq_status st = XFIQ_OK;
    std::vector<char> buf((size_t)1 << 16, '\0');
    int64_t len = 0;
    if (ds != CUDNN_STATUS_SUCCESS) {
        st = xfiq_error(XFIQ_ERR_BACKEND, "xfiq_cudnn_dump_device_json: cudnnCreate on device %d: %s (%d)", device,
                        cudnnGetErrorString(ds), (int)ds);
    } else {
        desc_list L;
        cudnnBackendDescriptor_t dp = nullptr;
        st = devprop_from_handle(L, h, &dp);
        if (st == XFIQ_OK) {
            ds = cudnnBackendGetAttribute(dp, CUDNN_ATTR_DEVICEPROP_JSON_REPRESENTATION, CUDNN_TYPE_CHAR,
                                          (int64_t)buf.size() - 1, &len, buf.data());
            if (ds != CUDNN_STATUS_SUCCESS || len <= 0 || len >= (int64_t)buf.size())
                st = xfiq_error(XFIQ_ERR_BACKEND, "xfiq_cudnn_dump_device_json: no JSON from cuDNN: %s (%d)",
                                cudnnGetErrorString(ds), (int)ds);
        }
        cudnnDestroy(h);
    }
    cudaSetDevice(prev);
    if (st != XFIQ_OK)
        return st;
    std::string text(buf.data(), strnlen(buf.data(), (size_t)len));
    text += "\n";
    FILE *f = fopen(path, "wb");
    if (!f)
        return xfiq_error(XFIQ_ERR_IO, "xfiq_cudnn_dump_device_json: cannot write %s: %s", path, strerror(errno));
    bool ok = fwrite(text.data(), 1, text.size(), f) == text.size();
    ok = fclose(f) == 0 && ok;
    if (!ok)
        return xfiq_error(XFIQ_ERR_IO, "xfiq_cudnn_dump_device_json: write error on %s", path);
    return XFIQ_OK;
}

extern "C" long xfiq_cudnn_plans_built(void)
{
    std::lock_guard<std::mutex> g(g_count_mutex);
    return g_plans_built;
}

extern "C" void xfiq_cudnn_forget_plans(void)
{
    std::lock_guard<std::mutex> g(g_dev_mutex);
    std::vector<dev_ctx *> all(g_deviceless);
    for (int i = 0; i < kMaxDevices; i++)
        if (g_dev[i])
            all.push_back(g_dev[i]);
    for (dev_ctx *dc : all) {
        std::lock_guard<std::mutex> g2(dc->m);
        dc->retired.insert(dc->retired.end(), dc->plans.begin(), dc->plans.end());
        dc->plans.clear();
        dc->tune.clear();
        dc->tune_loaded = false;
    }
}

extern "C" xfiq_status xfiq_cudnn_tune_path(int device, char *path, size_t len)
{
    if (!path || !len)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_cudnn_tune_path: no buffer");
    cudaDeviceProp prop;
    XFIQ_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    std::string p;
    XFIQ_TRY(xfiq_tune_file_for(prop.name, (long)cudnnGetVersion(), &p));
    if (p.size() >= len)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_cudnn_tune_path: buffer of %zu bytes too small", len);
    memcpy(path, p.c_str(), p.size() + 1);
    return XFIQ_OK;
}
