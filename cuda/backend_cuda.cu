/* backend_cuda.cu - the CUDA op table: the same structure as the CPU table
 * (host/backend/backend_cpu.c), thin adapters from (exec, graph, node) to the
 * launchers of ops_cuda.h, plus the device side of the backend: one stream per
 * backend context with its cuBLAS and cuDNN handles attached, plain cudaMalloc
 * memory (never managed memory), and copies ordered on that stream. The
 * library's C code sees only the two extern "C" functions declared in
 * host/backend/backend.h. */
#include <new>
#include <vector>

#include "check.h"
#include "elem_cuda.h"
#include "ops_cuda.h"

extern "C" {
#include "backend/backend.h"
}

#define IN0(ex, nd) xfiq_exec_value(ex, (nd)->in[0])
#define OUT(ex, nd) xfiq_exec_value(ex, (nd)->out)
#define P(ex, off) xfiq_exec_param(ex, off)
#define STREAM(ex) ((cudaStream_t)(ex)->stream)

namespace {

/* Model input staging: pinned host buffers and device u8 buffers, two of
 * each, used in turn. The copy stream uploads batch k+1 while the compute
 * stream still works on batch k; events order the reuse of each pair. */
struct staging {
    uint8_t *host = nullptr;   /* pinned */
    uint8_t *dev = nullptr;
    size_t bytes = 0;
    cudaEvent_t uploaded = nullptr; /* copy stream: this buffer's upload done */
    cudaEvent_t consumed = nullptr; /* compute stream: its preprocess done */
    bool used = false;
};

struct cuda_ctx {
    int device;
    int precision; /* xfiq_precision */
    cudaStream_t stream;
    bool cublas, cudnn; /* attached */
    cudaStream_t copy = nullptr;
    staging stage[2];
    int next = 0;
};

int64_t spatial_of(const xfiq_graph *g, const xfiq_node *nd)
{
    return g->values[nd->in[0]].numel / (nd->channels > 0 ? nd->channels : 1);
}

xfiq_status cuda_conv(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    (void)g;
    return conv2d_fwd_cuda(IN0(ex, nd), P(ex, nd->w), P(ex, nd->b), OUT(ex, nd), &nd->d.conv, ex->batch, nd->act,
                           P(ex, nd->slope), nd->slope_per_channel, ex->workspace, ex->workspace_bytes, STREAM(ex));
}

xfiq_status cuda_gemm(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    (void)g;
    return gemm_fwd_cuda(IN0(ex, nd), P(ex, nd->w), P(ex, nd->b), OUT(ex, nd), ex->batch, nd->d.gemm.k,
                         nd->d.gemm.m, nd->act, P(ex, nd->slope), nd->slope_per_channel, STREAM(ex));
}

xfiq_status cuda_affine(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    return affine_fwd_cuda(IN0(ex, nd), P(ex, nd->w), P(ex, nd->b), OUT(ex, nd), ex->batch, nd->channels,
                           spatial_of(g, nd), STREAM(ex));
}

xfiq_status cuda_prelu(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    return prelu_fwd_cuda(IN0(ex, nd), P(ex, nd->slope), nd->slope_per_channel, OUT(ex, nd), ex->batch,
                          nd->channels, spatial_of(g, nd), STREAM(ex));
}

xfiq_status cuda_relu(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    return relu_fwd_cuda(IN0(ex, nd), OUT(ex, nd), g->values[nd->in[0]].numel * ex->batch, STREAM(ex));
}

xfiq_status cuda_binary(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    return binary_fwd_cuda(nd->bin, IN0(ex, nd), xfiq_exec_value(ex, nd->in[1]), OUT(ex, nd),
                           g->values[nd->in[0]].numel * ex->batch, STREAM(ex));
}

xfiq_status cuda_binconst(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    return binconst_fwd_cuda(nd->bin, nd->const_first, IN0(ex, nd), P(ex, nd->w), OUT(ex, nd), ex->batch,
                             g->values[nd->in[0]].numel, STREAM(ex));
}

xfiq_status cuda_gap(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    const xfiq_value *x = &g->values[nd->in[0]];
    return gap_fwd_cuda(IN0(ex, nd), OUT(ex, nd), ex->batch, (int)x->dims[1], x->numel / x->dims[1], STREAM(ex));
}

xfiq_status cuda_view(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    (void)ex, (void)g, (void)nd; /* shares its input's storage: nothing to do */
    return XFIQ_OK;
}

xfiq_status cuda_concat(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int64_t outer, na, nb;
    xfiq_concat_geometry(&g->values[nd->in[0]], &g->values[nd->in[1]], nd->d.lay.axis, ex->batch, &outer, &na, &nb);
    return concat_fwd_cuda(IN0(ex, nd), xfiq_exec_value(ex, nd->in[1]), OUT(ex, nd), outer, na, nb, STREAM(ex));
}

xfiq_status cuda_transpose(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    const xfiq_value *x = &g->values[nd->in[0]];
    return transpose_fwd_cuda(IN0(ex, nd), OUT(ex, nd), ex->batch, x->ndim, x->dims, nd->d.lay.perm, STREAM(ex));
}

xfiq_status cuda_slice(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    const xfiq_value *x = &g->values[nd->in[0]], *y = &g->values[nd->out];
    return slice_fwd_cuda(IN0(ex, nd), OUT(ex, nd), ex->batch, x->ndim, x->dims, nd->d.lay.start, nd->d.lay.step,
                          y->dims, STREAM(ex));
}

xfiq_status cuda_softmax(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int64_t outer, len, inner;
    xfiq_softmax_geometry(&g->values[nd->in[0]], &nd->d.lay, ex->batch, &outer, &len, &inner);
    return softmax_fwd_cuda(IN0(ex, nd), OUT(ex, nd), outer, len, inner, STREAM(ex));
}

xfiq_status cuda_unary(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    return unary_fwd_cuda(nd->d.lay.unary, IN0(ex, nd), OUT(ex, nd), g->values[nd->in[0]].numel * ex->batch,
                          STREAM(ex));
}

/* ---------------------------------------------------- backward-data
 * The same adapters as host/backend/backend_cpu_bwd.c: each input's gradient
 * is written by its first contribution and accumulated by later ones. */
float *grad_in(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd, int k, int *acc)
{
    int s = g->values[nd->in[k]].storage;
    *acc = ex->grad_written[s];
    ex->grad_written[s] = 1;
    return xfiq_exec_grad(ex, nd->in[k]);
}

#define DY(ex, nd) xfiq_exec_grad(ex, (nd)->out)

xfiq_status need_unfused(const xfiq_node *nd)
{
    return nd->act == XFIQ_ACT_NONE
               ? XFIQ_OK
               : xfiq_error(XFIQ_ERR_INTERNAL, "backward of node '%s' with a fused activation", nd->name);
}

xfiq_status bwd_conv(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int acc;
    XFIQ_TRY(need_unfused(nd));
    float *dx = grad_in(ex, g, nd, 0, &acc);
    return conv2d_bwd_data_cuda(DY(ex, nd), P(ex, nd->w), dx, &nd->d.conv, ex->batch, acc, ex->workspace,
                                ex->workspace_bytes, STREAM(ex));
}

xfiq_status bwd_gemm(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int acc;
    XFIQ_TRY(need_unfused(nd));
    float *dx = grad_in(ex, g, nd, 0, &acc);
    return gemm_bwd_data_cuda(DY(ex, nd), P(ex, nd->w), dx, ex->batch, nd->d.gemm.k, nd->d.gemm.m, acc, STREAM(ex));
}

xfiq_status bwd_affine(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int acc;
    float *dx = grad_in(ex, g, nd, 0, &acc);
    return affine_bwd_cuda(DY(ex, nd), P(ex, nd->w), dx, ex->batch, nd->channels, spatial_of(g, nd), acc, STREAM(ex));
}

xfiq_status bwd_prelu(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int acc;
    float *dx = grad_in(ex, g, nd, 0, &acc);
    return prelu_bwd_cuda(DY(ex, nd), IN0(ex, nd), P(ex, nd->slope), nd->slope_per_channel, dx, ex->batch,
                          nd->channels, spatial_of(g, nd), acc, STREAM(ex));
}

xfiq_status bwd_relu(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int acc;
    float *dx = grad_in(ex, g, nd, 0, &acc);
    return relu_bwd_cuda(DY(ex, nd), IN0(ex, nd), dx, g->values[nd->in[0]].numel * ex->batch, acc, STREAM(ex));
}

xfiq_status bwd_binary(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int64_t count = g->values[nd->in[0]].numel * ex->batch;
    const float *a = IN0(ex, nd), *b = xfiq_exec_value(ex, nd->in[1]);
    int acc_a, acc_b;
    float *da = grad_in(ex, g, nd, 0, &acc_a);
    if (g->values[nd->in[0]].storage == g->values[nd->in[1]].storage) {
        /* x op x: two contributions into one buffer, one after the other. */
        XFIQ_TRY(binary_bwd_cuda(nd->bin, DY(ex, nd), a, b, da, nullptr, count, acc_a, 0, STREAM(ex)));
        return binary_bwd_cuda(nd->bin, DY(ex, nd), a, b, nullptr, da, count, 0, 1, STREAM(ex));
    }
    float *db = grad_in(ex, g, nd, 1, &acc_b);
    return binary_bwd_cuda(nd->bin, DY(ex, nd), a, b, da, db, count, acc_a, acc_b, STREAM(ex));
}

xfiq_status bwd_binconst(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int acc;
    float *dx = grad_in(ex, g, nd, 0, &acc);
    return binconst_bwd_cuda(nd->bin, nd->const_first, DY(ex, nd), IN0(ex, nd), P(ex, nd->w), dx, ex->batch,
                             g->values[nd->in[0]].numel, acc, STREAM(ex));
}

xfiq_status bwd_gap(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    int acc;
    const xfiq_value *x = &g->values[nd->in[0]];
    float *dx = grad_in(ex, g, nd, 0, &acc);
    return gap_bwd_cuda(DY(ex, nd), dx, ex->batch, (int)x->dims[1], x->numel / x->dims[1], acc, STREAM(ex));
}

xfiq_status bwd_view(const xfiq_exec *ex, const xfiq_graph *g, const xfiq_node *nd)
{
    (void)ex, (void)g, (void)nd; /* the gradient buffer is shared with the input's, like the storage */
    return XFIQ_OK;
}

xfiq_node_fn g_bwd[XFIQ_OP_COUNT];
xfiq_backend_ops make_ops();

/* Forward support only: the detector's layout ops have no backward-data
 * kernel and need none (it never runs backward). A runner built for
 * backward checks g_bwd itself, before any work. */
int cuda_supports_op(xfiq_op op)
{
    static const xfiq_backend_ops &o = *xfiq_backend_cuda_ops();
    return (unsigned)op < XFIQ_OP_COUNT && o.fwd[op];
}

/* Byte alignment of a parameter at float offset off in the device copy of
 * graph->params (cudaMalloc'd, so 256-byte aligned), capped at 16 as cuDNN sees it. */
int param_align(int64_t off)
{
    if (off <= 0)
        return 16;
    int64_t bytes = off * (int64_t)sizeof(float);
    int al = 16;
    while (al > 4 && bytes % al)
        al >>= 1;
    return al;
}

/* cuDNN's engine decides a conv's scratch; a failed query reports 0 and the
 * forward call then says why (it searches again, within the planned budget). */
size_t cuda_workspace_bytes(void *vctx, const xfiq_graph *g, const xfiq_node *nd, int batch, int num_threads)
{
    (void)g, (void)num_threads;
    const cudaStream_t s = ((cuda_ctx *)vctx)->stream;
    if (nd->op != XFIQ_OP_CONV)
        return 0;
    int pa = param_align(nd->w);
    if (nd->b >= 0 && param_align(nd->b) < pa)
        pa = param_align(nd->b);
    size_t bytes = 0, bwd = 0;
    if (conv2d_fwd_cuda_workspace(&nd->d.conv, batch, nd->act, nd->b >= 0, pa, &bytes, s) != XFIQ_OK)
        bytes = 0;
    /* Unfused graphs are the ones that run backward (PLQ). */
    if (nd->act == XFIQ_ACT_NONE && conv2d_bwd_data_cuda_workspace(&nd->d.conv, batch, param_align(nd->w), &bwd, s) != XFIQ_OK)
        bwd = 0;
    xfiq_error_clear();
    return bytes > bwd ? bytes : bwd;
}

void staging_free(staging *s)
{
    if (s->host)
        cudaFreeHost(s->host);
    if (s->dev)
        cudaFree(s->dev);
    if (s->uploaded)
        cudaEventDestroy(s->uploaded);
    if (s->consumed)
        cudaEventDestroy(s->consumed);
    *s = staging();
}

void cuda_destroy(void *vctx)
{
    cuda_ctx *c = (cuda_ctx *)vctx;
    if (!c)
        return;
    cudaSetDevice(c->device);
    if (c->stream)
        cudaStreamSynchronize(c->stream);
    if (c->copy) {
        cudaStreamSynchronize(c->copy);
        cudaStreamDestroy(c->copy);
    }
    for (staging &s : c->stage)
        staging_free(&s);
    if (c->cudnn)
        xfiq_cudnn_detach(c->stream);
    if (c->cublas)
        xfiq_cublas_detach(c->stream);
    if (c->stream)
        cudaStreamDestroy(c->stream);
    (void)cudaGetLastError();
    delete c;
}

xfiq_status cuda_init_ctx(cuda_ctx *c)
{
    XFIQ_CUDA_CHECK(cudaSetDevice(c->device));
    XFIQ_CUDA_CHECK(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
    XFIQ_CUDA_CHECK(cudaStreamCreateWithFlags(&c->copy, cudaStreamNonBlocking));
    for (staging &s : c->stage) {
        XFIQ_CUDA_CHECK(cudaEventCreateWithFlags(&s.uploaded, cudaEventDisableTiming));
        XFIQ_CUDA_CHECK(cudaEventCreateWithFlags(&s.consumed, cudaEventDisableTiming));
    }
    XFIQ_TRY(xfiq_cublas_attach(c->stream));
    c->cublas = true;
    XFIQ_TRY(xfiq_cublas_set_precision(c->stream, c->precision));
    XFIQ_TRY(xfiq_cudnn_attach(c->stream));
    c->cudnn = true;
    XFIQ_TRY(xfiq_cudnn_set_precision(c->stream, c->precision));
    return XFIQ_OK;
}

xfiq_status cuda_init(void **ctx, const xfiq_backend_opts *o)
{
    *ctx = nullptr;
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count <= 0) {
        (void)cudaGetLastError();
        return xfiq_error(XFIQ_ERR_BACKEND, "CUDA backend: no CUDA device (cudaGetDeviceCount: %s, %d devices)",
                          e == cudaSuccess ? "ok" : cudaGetErrorString(e), e == cudaSuccess ? count : 0);
    }
    if (o->device < 0 || o->device >= count)
        return xfiq_error(XFIQ_ERR_ARG, "CUDA backend: device %d does not exist (%d device%s)", o->device, count,
                          count == 1 ? "" : "s");
    cuda_ctx *c = new (std::nothrow) cuda_ctx;
    if (c) {
        c->device = o->device;
        c->precision = (int)o->precision;
        c->stream = nullptr;
        c->cublas = c->cudnn = false;
    }
    if (!c)
        return xfiq_error(XFIQ_ERR_NOMEM, "CUDA backend: out of memory");
    xfiq_status st = cuda_init_ctx(c);
    if (st != XFIQ_OK) {
        cuda_destroy(c);
        return xfiq_error_prefix(st, "CUDA backend init");
    }
    *ctx = c;
    return XFIQ_OK;
}

xfiq_status cuda_alloc(void *vctx, size_t bytes, void **out)
{
    cuda_ctx *c = (cuda_ctx *)vctx;
    *out = nullptr;
    XFIQ_CUDA_CHECK(cudaSetDevice(c->device));
    cudaError_t e = cudaMalloc(out, bytes ? bytes : 1);
    if (e == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();
        *out = nullptr;
        return xfiq_error(XFIQ_ERR_NOMEM, "cudaMalloc of %zu bytes failed: out of device memory", bytes);
    }
    XFIQ_CUDA_CHECK(e);
    return XFIQ_OK;
}

void cuda_free(void *vctx, void *p)
{
    (void)vctx;
    if (p)
        cudaFree(p);
}

/* The calling thread's current device is the context's from here on. A
 * runner may be driven from any host thread (the CLI's detector runs on
 * whichever OpenMP thread holds its lock), and a thread starts on device 0;
 * every run begins with one of these calls, so the launches after it go to
 * the context's device. Cheap when already current. */
xfiq_status make_current(const cuda_ctx *c)
{
    XFIQ_CUDA_CHECK(cudaSetDevice(c->device));
    return XFIQ_OK;
}

/* Copies wait for completion: the caller may reuse or free its host buffer
 * at once, pinned or not. */
xfiq_status cuda_upload(void *vctx, void *dst, const void *src, size_t bytes)
{
    cuda_ctx *c = (cuda_ctx *)vctx;
    XFIQ_TRY(make_current(c));
    XFIQ_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, c->stream));
    XFIQ_CUDA_CHECK(cudaStreamSynchronize(c->stream));
    return XFIQ_OK;
}

xfiq_status cuda_download(void *vctx, void *dst, const void *src, size_t bytes)
{
    cuda_ctx *c = (cuda_ctx *)vctx;
    XFIQ_TRY(make_current(c));
    XFIQ_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, c->stream));
    XFIQ_CUDA_CHECK(cudaStreamSynchronize(c->stream));
    return XFIQ_OK;
}

xfiq_status cuda_sync(void *vctx)
{
    cuda_ctx *c = (cuda_ctx *)vctx;
    XFIQ_CUDA_CHECK(cudaStreamSynchronize(c->stream));
    return XFIQ_OK;
}

void *cuda_stream(void *vctx) { return vctx ? (void *)((cuda_ctx *)vctx)->stream : nullptr; }

xfiq_status cuda_zero(void *vctx, void *dst, size_t bytes)
{
    cuda_ctx *c = (cuda_ctx *)vctx;
    XFIQ_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, c->stream));
    return XFIQ_OK;
}

/* 8-bit images -> model input on the device. The host copies the pixels
 * into the next pinned buffer (after that buffer's previous upload), the copy
 * stream uploads them, the compute stream waits for the upload and converts;
 * nothing here waits for the compute stream, so the copy of batch k+1
 * overlaps the network's work on batch k. */
xfiq_status cuda_input_u8(void *vctx, const uint8_t *pixels, int n, int h, int w, int order, const float mean[3],
                          const float scale[3], float *dst)
{
    cuda_ctx *c = (cuda_ctx *)vctx;
    const size_t bytes = (size_t)n * h * w * 3;
    if (n <= 0)
        return XFIQ_OK;
    XFIQ_TRY(make_current(c));
    staging &s = c->stage[c->next];
    c->next ^= 1;
    if (s.used)
        XFIQ_CUDA_CHECK(cudaEventSynchronize(s.uploaded)); /* its last upload has left the pinned buffer */
    if (bytes > s.bytes) {
        /* Grows to the largest batch once, outside any forward pass. */
        XFIQ_CUDA_CHECK(cudaStreamSynchronize(c->stream));
        if (s.host)
            XFIQ_CUDA_CHECK(cudaFreeHost(s.host));
        if (s.dev)
            XFIQ_CUDA_CHECK(cudaFree(s.dev));
        s.host = s.dev = nullptr;
        s.bytes = 0;
        XFIQ_CUDA_CHECK(cudaHostAlloc((void **)&s.host, bytes, cudaHostAllocDefault));
        XFIQ_CUDA_CHECK(cudaMalloc((void **)&s.dev, bytes));
        s.bytes = bytes;
    }
    memcpy(s.host, pixels, bytes);
    if (s.used)
        XFIQ_CUDA_CHECK(cudaStreamWaitEvent(c->copy, s.consumed, 0)); /* the device buffer is free again */
    XFIQ_CUDA_CHECK(cudaMemcpyAsync(s.dev, s.host, bytes, cudaMemcpyHostToDevice, c->copy));
    XFIQ_CUDA_CHECK(cudaEventRecord(s.uploaded, c->copy));
    XFIQ_CUDA_CHECK(cudaStreamWaitEvent(c->stream, s.uploaded, 0));
    XFIQ_TRY(input_preprocess_cuda(s.dev, dst, n, h, w, (xfiq_channel_order)order, mean, scale, c->stream));
    XFIQ_CUDA_CHECK(cudaEventRecord(s.consumed, c->stream));
    s.used = true;
    return XFIQ_OK;
}

/* ------------------------------------------------------ quality stages */
xfiq_status cuda_heads_input(void *vctx, const serfiq_dropout *cfg, const uint64_t *ids, const float *x, int B, int T,
                             float *out)
{
    return serfiq_heads_input_cuda(cfg, ids, x, B, T, out, ((cuda_ctx *)vctx)->stream);
}

xfiq_status cuda_serfiq_quality(void *vctx, const float *emb, const float *z, int B, int T, int D, double alpha,
                                double r, double *work, serfiq_image_result *res)
{
    return serfiq_quality_batch_cuda(emb, z, B, T, D, alpha, r, work, res, ((cuda_ctx *)vctx)->stream);
}

xfiq_status cuda_plq_seed(void *vctx, int mode, const float *z, int B, int D, serfiq_image_result *res, float *seed)
{
    return plq_seed_batch_cuda(mode, z, B, D, res, seed, ((cuda_ctx *)vctx)->stream);
}

xfiq_status cuda_plq_map(void *vctx, const float *gx, int B, int C, int H, int W, int order, const float scale[3],
                         float a, float b, const uint8_t *mask, float *maps, float *grad_mag, serfiq_image_result *res)
{
    return plq_map_batch_cuda(gx, B, C, H, W, order, scale, a, b, mask, maps, grad_mag, res,
                              ((cuda_ctx *)vctx)->stream);
}

/* Pair scores on the device (cuda/scores.cu): z and the magnitudes go up
 * once, pairs in chunks of at most kPairChunk (bounded device memory), the
 * scores come back. Checks and magnitudes were done by the caller. */
const int64_t kPairChunk = (int64_t)1 << 22;

struct dev_block {
    cuda_ctx *c;
    std::vector<void *> p;
    explicit dev_block(cuda_ctx *ctx) : c(ctx) {}
    ~dev_block()
    {
        for (void *q : p)
            cuda_free(c, q);
    }
    template <typename T> xfiq_status get(size_t count, T **out)
    {
        void *q = nullptr;
        XFIQ_TRY(cuda_alloc(c, count * sizeof(T), &q));
        try { /* C code called us: nothing may throw through it */
            p.push_back(q);
        } catch (...) {
            cuda_free(c, q);
            return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
        }
        *out = (T *)q;
        return XFIQ_OK;
    }
};

xfiq_status cuda_score_pairs(void *vctx, const float *z, int64_t n, int dim, const double *mag, const int64_t *ia,
                             const int64_t *ib, int64_t n_pairs, const xfiq_qmag_params *p, double *cos_out,
                             double *q_out, double *qmag_out)
{
    cuda_ctx *c = (cuda_ctx *)vctx;
    if (n_pairs == 0)
        return XFIQ_OK;
    const int64_t chunk = n_pairs < kPairChunk ? n_pairs : kPairChunk;
    const bool want_qmag = p && qmag_out;
    dev_block B(c);
    float *dz = nullptr;
    double *dmag = nullptr, *dcos = nullptr, *dq = nullptr, *dqm = nullptr;
    int64_t *da = nullptr, *db = nullptr;
    XFIQ_TRY(B.get((size_t)n * (size_t)dim, &dz));       // (n, dim)
    XFIQ_TRY(B.get((size_t)n, &dmag));                    // (n)
    XFIQ_TRY(B.get((size_t)chunk, &da));                  // (chunk)
    XFIQ_TRY(B.get((size_t)chunk, &db));                  // (chunk)
    XFIQ_TRY(B.get((size_t)chunk, &dcos));                // (chunk)
    if (q_out)
        XFIQ_TRY(B.get((size_t)chunk, &dq));              // (chunk)
    if (want_qmag)
        XFIQ_TRY(B.get((size_t)chunk, &dqm));             // (chunk)
    XFIQ_TRY(cuda_upload(c, dz, z, (size_t)n * (size_t)dim * sizeof(float)));
    XFIQ_TRY(cuda_upload(c, dmag, mag, (size_t)n * sizeof(double)));
    for (int64_t s = 0; s < n_pairs; s += chunk) {
        const int64_t k = n_pairs - s < chunk ? n_pairs - s : chunk;
        XFIQ_TRY(cuda_upload(c, da, ia + s, (size_t)k * sizeof(int64_t)));
        XFIQ_TRY(cuda_upload(c, db, ib + s, (size_t)k * sizeof(int64_t)));
        XFIQ_TRY(score_pairs_cuda(dz, dim, dmag, da, db, k, want_qmag ? p : nullptr, dcos, dq, dqm, c->stream));
        XFIQ_TRY(cuda_download(c, cos_out + s, dcos, (size_t)k * sizeof(double)));
        if (q_out)
            XFIQ_TRY(cuda_download(c, q_out + s, dq, (size_t)k * sizeof(double)));
        if (want_qmag)
            XFIQ_TRY(cuda_download(c, qmag_out + s, dqm, (size_t)k * sizeof(double)));
    }
    return XFIQ_OK;
}

xfiq_backend_ops make_ops()
{
    xfiq_backend_ops o;
    memset(&o, 0, sizeof o);
    o.name = "cuda";
    o.kind = XFIQ_BACKEND_CUDA;
    o.supports_op = cuda_supports_op;
    o.fwd[XFIQ_OP_CONV] = cuda_conv;
    o.fwd[XFIQ_OP_AFFINE] = cuda_affine;
    o.fwd[XFIQ_OP_PRELU] = cuda_prelu;
    o.fwd[XFIQ_OP_RELU] = cuda_relu;
    o.fwd[XFIQ_OP_BINARY] = cuda_binary;
    o.fwd[XFIQ_OP_BINCONST] = cuda_binconst;
    o.fwd[XFIQ_OP_GEMM] = cuda_gemm;
    o.fwd[XFIQ_OP_GAP] = cuda_gap;
    o.fwd[XFIQ_OP_VIEW] = cuda_view;
    o.fwd[XFIQ_OP_CONCAT] = cuda_concat;
    o.fwd[XFIQ_OP_TRANSPOSE] = cuda_transpose;
    o.fwd[XFIQ_OP_SLICE] = cuda_slice;
    o.fwd[XFIQ_OP_SOFTMAX] = cuda_softmax;
    o.fwd[XFIQ_OP_UNARY] = cuda_unary;
    o.workspace_bytes = cuda_workspace_bytes;
    o.init = cuda_init;
    o.destroy = cuda_destroy;
    o.mem_alloc = cuda_alloc;
    o.mem_free = cuda_free;
    o.upload = cuda_upload;
    o.download = cuda_download;
    o.sync = cuda_sync;
    o.stream = cuda_stream;
    o.mem_zero = cuda_zero;
    o.input_u8 = cuda_input_u8;
    o.heads_input = cuda_heads_input;
    o.serfiq_quality = cuda_serfiq_quality;
    o.plq_seed = cuda_plq_seed;
    o.plq_map = cuda_plq_map;
    o.score_pairs = cuda_score_pairs;
    /* Large batches keep the GPU busy (SPEC 9); PLQ retains every activation. */
    o.chunk = 256;
    o.plq_chunk = 64;
    g_bwd[XFIQ_OP_CONV] = bwd_conv;
    g_bwd[XFIQ_OP_AFFINE] = bwd_affine;
    g_bwd[XFIQ_OP_PRELU] = bwd_prelu;
    g_bwd[XFIQ_OP_RELU] = bwd_relu;
    g_bwd[XFIQ_OP_BINARY] = bwd_binary;
    g_bwd[XFIQ_OP_BINCONST] = bwd_binconst;
    g_bwd[XFIQ_OP_GEMM] = bwd_gemm;
    g_bwd[XFIQ_OP_GAP] = bwd_gap;
    g_bwd[XFIQ_OP_VIEW] = bwd_view;
    o.bwd = g_bwd;
    return o;
}

} // namespace

extern "C" const xfiq_backend_ops *xfiq_backend_cuda_ops(void)
{
    static const xfiq_backend_ops ops = make_ops(); /* built once, thread-safe */
    return &ops;
}

extern "C" int xfiq_cuda_device_count(void)
{
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return count;
}
