/* backend_cuda.cu - the CUDA op table: the same structure as the CPU table
 * (host/backend/backend_cpu.c), thin adapters from (exec, graph, node) to the
 * launchers of ops_cuda.h, plus the device side of the backend: one stream per
 * backend context with its cuBLAS and cuDNN handles attached, plain cudaMalloc
 * memory (never managed memory), and copies ordered on that stream. The
 * library's C code sees only the two extern "C" functions declared in
 * host/backend/backend.h. */
#include <new>

#include "check.h"
#include "ops_cuda.h"

extern "C" {
#include "backend/backend.h"
}

#define IN0(ex, nd) xfiq_exec_value(ex, (nd)->in[0])
#define OUT(ex, nd) xfiq_exec_value(ex, (nd)->out)
#define P(ex, off) xfiq_exec_param(ex, off)
#define STREAM(ex) ((cudaStream_t)(ex)->stream)

namespace {

struct cuda_ctx {
    int device;
    int precision; /* xfiq_precision */
    cudaStream_t stream;
    bool cublas, cudnn; /* attached */
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

/* Every op of the IR has a forward kernel here; the table's bwd stays NULL
 * (no backward-data on CUDA yet: that comes with the CUDA issue). */
int cuda_supports_op(xfiq_op op) { return (unsigned)op < XFIQ_OP_COUNT; }

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
size_t cuda_workspace_bytes(const xfiq_graph *g, const xfiq_node *nd, int batch, int num_threads)
{
    (void)g, (void)num_threads;
    if (nd->op != XFIQ_OP_CONV)
        return 0;
    int pa = param_align(nd->w);
    if (nd->b >= 0 && param_align(nd->b) < pa)
        pa = param_align(nd->b);
    size_t bytes = 0;
    if (conv2d_fwd_cuda_workspace(&nd->d.conv, batch, nd->act, nd->b >= 0, pa, &bytes) != XFIQ_OK)
        return 0;
    return bytes;
}

void cuda_destroy(void *vctx)
{
    cuda_ctx *c = (cuda_ctx *)vctx;
    if (!c)
        return;
    cudaSetDevice(c->device);
    if (c->stream)
        cudaStreamSynchronize(c->stream);
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
    cuda_ctx *c = new (std::nothrow) cuda_ctx{o->device, (int)o->precision, nullptr, false, false};
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

/* Copies wait for completion: the caller may reuse or free its host buffer
 * at once, pinned or not. */
xfiq_status cuda_upload(void *vctx, void *dst, const void *src, size_t bytes)
{
    cuda_ctx *c = (cuda_ctx *)vctx;
    XFIQ_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, c->stream));
    XFIQ_CUDA_CHECK(cudaStreamSynchronize(c->stream));
    return XFIQ_OK;
}

xfiq_status cuda_download(void *vctx, void *dst, const void *src, size_t bytes)
{
    cuda_ctx *c = (cuda_ctx *)vctx;
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
    o.workspace_bytes = cuda_workspace_bytes;
    o.init = cuda_init;
    o.destroy = cuda_destroy;
    o.mem_alloc = cuda_alloc;
    o.mem_free = cuda_free;
    o.upload = cuda_upload;
    o.download = cuda_download;
    o.sync = cuda_sync;
    o.stream = cuda_stream;
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
