/* bench_cuda.c - throughput of the CUDA launchers at the sizes of the face
 * networks (iResNet-50 and MobileFaceNet layers at batch 64): time per call
 * from CUDA events on the backend's stream, GFLOP/s for conv/gemm and GB/s
 * (bytes read + written) for the memory-bound ops. Prints "SKIPPED: ..." and
 * exits 0 where the CUDA backend or a device is missing.
 * Usage: bench_cuda [batch (64)] [iterations (20)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/status.h"
#include "ops/elem.h"

#ifdef XFIQ_HAVE_CUDA
#include "ops_cuda.h"

static const xfiq_backend_ops *g_ops;
static void *g_ctx;
static const xfiq_backend_opts g_opts = {.num_threads = 1};
static cudaStream_t g_stream;
static int g_iters = 20;

static void die(const char *what)
{
    fprintf(stderr, "bench_cuda: %s: %s\n", what, xfiq_last_error());
    exit(1);
}

static void *dalloc(size_t bytes)
{
    void *p = NULL;
    if (g_ops->mem_alloc(g_ctx, bytes, &p) != XFIQ_OK)
        die("allocation");
    /* any finite values: throughput does not depend on them */
    if (cudaMemsetAsync(p, 0, bytes, g_stream) != cudaSuccess)
        die("memset");
    return p;
}

typedef xfiq_status (*bench_fn)(void *arg);

/* Mean milliseconds per call after 3 warm-up calls (the first builds plans). */
static double time_ms(bench_fn fn, void *arg)
{
    for (int i = 0; i < 3; i++)
        if (fn(arg) != XFIQ_OK)
            die("warm-up");
    cudaEvent_t t0, t1;
    cudaEventCreate(&t0);
    cudaEventCreate(&t1);
    cudaEventRecord(t0, g_stream);
    for (int i = 0; i < g_iters; i++)
        if (fn(arg) != XFIQ_OK)
            die("run");
    cudaEventRecord(t1, g_stream);
    cudaEventSynchronize(t1);
    float ms = 0.0f;
    cudaEventElapsedTime(&ms, t0, t1);
    cudaEventDestroy(t0);
    cudaEventDestroy(t1);
    return ms / g_iters;
}

/* ---------------------------------------------------------------- conv */
typedef struct conv_arg {
    xfiq_conv_desc d;
    int n, act;
    float *x, *w, *b, *y, *slope, *ws;
    size_t ws_bytes;
} conv_arg;

static xfiq_status conv_run(void *a)
{
    conv_arg *c = a;
    return conv2d_fwd_cuda(c->x, c->w, c->b, c->y, &c->d, c->n, c->act, c->slope, 1, c->ws, c->ws_bytes, g_stream);
}

static void bench_conv(const char *name, int n, int cin, int cout, int group, int hw, int k, int s, int act)
{
    conv_arg c;
    memset(&c, 0, sizeof c);
    int pad = k / 2;
    c.d = (xfiq_conv_desc){.cin = cin, .cout = cout, .group = group, .kh = k, .kw = k, .sh = s, .sw = s, .dh = 1,
                           .dw = 1, .pad_t = pad, .pad_l = pad, .pad_b = pad, .pad_r = pad, .ih = hw, .iw = hw};
    c.d.oh = (hw + 2 * pad - k) / s + 1;
    c.d.ow = c.d.oh;
    c.n = n;
    c.act = act;
    size_t xs = (size_t)n * cin * hw * hw, ys = (size_t)n * cout * c.d.oh * c.d.ow;
    size_t wsz = (size_t)cout * (cin / group) * k * k;
    c.x = dalloc(xs * 4), c.y = dalloc(ys * 4), c.w = dalloc(wsz * 4), c.b = dalloc((size_t)cout * 4);
    c.slope = dalloc((size_t)cout * 4);
    if (conv2d_fwd_cuda_workspace(&c.d, n, act, 1, 16, &c.ws_bytes, g_stream) != XFIQ_OK)
        die(name);
    c.ws = c.ws_bytes ? dalloc(c.ws_bytes) : NULL;
    double ms = time_ms(conv_run, &c);
    double flop = 2.0 * n * cout * c.d.oh * c.d.ow * (double)(cin / group) * k * k;
    printf("%-34s %9.3f ms  %8.1f GFLOP/s  %7.1f img/ms  ws %zu KiB\n", name, ms, flop / ms * 1e-6, n / ms,
           c.ws_bytes >> 10);
    g_ops->mem_free(g_ctx, c.ws), g_ops->mem_free(g_ctx, c.slope), g_ops->mem_free(g_ctx, c.b);
    g_ops->mem_free(g_ctx, c.w), g_ops->mem_free(g_ctx, c.y), g_ops->mem_free(g_ctx, c.x);
}

/* ---------------------------------------------------------------- gemm */
typedef struct gemm_arg {
    int n, k, m;
    float *x, *w, *b, *y, *slope;
} gemm_arg;

static xfiq_status gemm_run(void *a)
{
    gemm_arg *g = a;
    return gemm_fwd_cuda(g->x, g->w, g->b, g->y, g->n, g->k, g->m, XFIQ_ACT_NONE, g->slope, 0, g_stream);
}

static void bench_gemm(const char *name, int n, int k, int m)
{
    gemm_arg g = {n, k, m, dalloc((size_t)n * k * 4), dalloc((size_t)m * k * 4), dalloc((size_t)m * 4),
                  dalloc((size_t)n * m * 4), dalloc(4)};
    double ms = time_ms(gemm_run, &g);
    printf("%-34s %9.3f ms  %8.1f GFLOP/s\n", name, ms, 2.0 * n * k * m / ms * 1e-6);
    g_ops->mem_free(g_ctx, g.slope), g_ops->mem_free(g_ctx, g.y), g_ops->mem_free(g_ctx, g.b);
    g_ops->mem_free(g_ctx, g.w), g_ops->mem_free(g_ctx, g.x);
}

/* --------------------------------------------------------- element-wise */
typedef struct ew_arg {
    int which, n, c;
    int64_t spatial;
    float *x, *x2, *y, *p1, *p2;
    unsigned char *px;
} ew_arg;

static xfiq_status ew_run(void *a)
{
    ew_arg *e = a;
    int64_t count = (int64_t)e->n * e->c * e->spatial;
    static const float mean[3] = {127.5f, 127.5f, 127.5f}, scale[3] = {1 / 128.f, 1 / 128.f, 1 / 128.f};
    switch (e->which) {
    case 0: return affine_fwd_cuda(e->x, e->p1, e->p2, e->y, e->n, e->c, e->spatial, g_stream);
    case 1: return prelu_fwd_cuda(e->x, e->p1, 1, e->y, e->n, e->c, e->spatial, g_stream);
    case 2: return relu_fwd_cuda(e->x, e->y, count, g_stream);
    case 3: return binary_fwd_cuda(XFIQ_BIN_ADD, e->x, e->x2, e->y, count, g_stream);
    case 4: return binconst_fwd_cuda(XFIQ_BIN_MUL, 0, e->x, e->x2, e->y, e->n, (int64_t)e->c * e->spatial, g_stream);
    case 5: return gap_fwd_cuda(e->x, e->y, e->n, e->c, e->spatial, g_stream);
    default: return input_preprocess_cuda(e->px, e->y, e->n, 112, 112, XFIQ_ORDER_RGB, mean, scale, g_stream);
    }
}

static void bench_elementwise(int n)
{
    static const char *names[] = {"affine", "prelu", "relu", "binary add", "binconst mul", "gap", "input preprocess"};
    const int c = 64;
    const int64_t sp = 56 * 56, count = (int64_t)n * c * sp;
    ew_arg e = {0, n, c, sp, dalloc((size_t)count * 4), dalloc((size_t)count * 4), dalloc((size_t)count * 4),
                dalloc((size_t)c * 4), dalloc((size_t)c * 4), dalloc((size_t)n * 112 * 112 * 3)};
    for (int w = 0; w < 7; w++) {
        e.which = w;
        ew_arg run = e;
        double bytes;
        if (w == 6) {
            run.c = 3, run.spatial = 112 * 112;
            bytes = (double)n * 112 * 112 * 3 * (1 + 4);
        } else if (w == 5) {
            run.c = 512, run.spatial = 49;
            bytes = (double)n * 512 * 49 * 4 + (double)n * 512 * 4;
        } else {
            bytes = (double)count * 4 * (w == 3 ? 3 : 2);
        }
        double ms = time_ms(ew_run, &run);
        printf("%-34s %9.3f ms  %8.1f GB/s\n", names[w], ms, bytes / ms * 1e-6);
    }
    g_ops->mem_free(g_ctx, e.px), g_ops->mem_free(g_ctx, e.p2), g_ops->mem_free(g_ctx, e.p1);
    g_ops->mem_free(g_ctx, e.y), g_ops->mem_free(g_ctx, e.x2), g_ops->mem_free(g_ctx, e.x);
}
#endif /* XFIQ_HAVE_CUDA */

int main(int argc, char **argv)
{
#ifndef XFIQ_HAVE_CUDA
    (void)argc, (void)argv;
    printf("SKIPPED: the CUDA backend is not built (XFIQ_CUDA=OFF or no nvcc)\n");
    return 0;
#else
    int n = argc > 1 ? atoi(argv[1]) : 64;
    if (argc > 2)
        g_iters = atoi(argv[2]);
    if (n < 1 || g_iters < 1) {
        fprintf(stderr, "usage: bench_cuda [batch >= 1] [iterations >= 1]\n");
        return 2;
    }
    g_ops = xfiq_backend_cuda_ops();
    int devices = xfiq_cuda_device_count();
    if (g_ops->init(&g_ctx, &g_opts) != XFIQ_OK) {
        printf("SKIPPED: no CUDA device (%d found; %s)\n", devices, xfiq_last_error());
        return 0;
    }
    g_stream = (cudaStream_t)g_ops->stream(g_ctx);
    struct cudaDeviceProp prop;
    int dev = 0;
    cudaGetDevice(&dev);
    if (cudaGetDeviceProperties(&prop, dev) == cudaSuccess)
        printf("device: %s, %d SMs, %.1f GiB; batch %d, %d iterations per figure\n", prop.name,
               prop.multiProcessorCount, prop.totalGlobalMem / 1073741824.0, n, g_iters);

    printf("-- convolutions (cuDNN graph API, FP32, bias + activation)\n");
    bench_conv("iresnet 3x3 64->64 56x56 prelu", n, 64, 64, 1, 56, 3, 1, XFIQ_ACT_PRELU);
    bench_conv("iresnet 3x3 s2 64->128 56x56", n, 64, 128, 1, 56, 3, 2, XFIQ_ACT_NONE);
    bench_conv("iresnet 3x3 256->256 14x14 prelu", n, 256, 256, 1, 14, 3, 1, XFIQ_ACT_PRELU);
    bench_conv("iresnet 3x3 512->512 7x7", n, 512, 512, 1, 7, 3, 1, XFIQ_ACT_NONE);
    bench_conv("mfn 3x3 stem s2 3->64 112x112", n, 3, 64, 1, 112, 3, 2, XFIQ_ACT_PRELU);
    bench_conv("mfn depthwise 3x3 64 56x56 prelu", n, 64, 64, 64, 56, 3, 1, XFIQ_ACT_PRELU);
    bench_conv("mfn 1x1 64->128 28x28 relu", n, 64, 128, 1, 28, 1, 1, XFIQ_ACT_RELU);
    printf("-- gemm (cuBLAS SGEMM + epilogue)\n");
    bench_gemm("iresnet fc 25088->512", n, 25088, 512);
    bench_gemm("mfn linear 512->512", n, 512, 512);
    printf("-- memory-bound ops (64 x 56 x 56 per image; gap 512 x 7 x 7; input 112 x 112 x 3)\n");
    bench_elementwise(n);

    g_ops->destroy(g_ctx);
    return 0;
#endif
}
