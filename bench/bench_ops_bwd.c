/* bench_ops_bwd.c - throughput of the convolution backward-data
 * (conv2d_bwd_data_cpu) next to the forward convolution (conv2d_fwd_cpu) on
 * the layer shapes of MobileFaceNet (the default model) and iResNet-50, at
 * the given batch sizes and thread count; also the fully connected layer.
 * Weights are packed once ahead for both directions, as a model runner does.
 * Per unique layer shape: GFLOP/s of each direction (2 * MACs / time, the
 * best of --reps interleaved runs), the backward/forward time ratio and the
 * backward of the direct kernel (no Winograd); per network: the
 * totals weighted by how often each shape occurs.
 *
 * usage: bench_ops_bwd [--threads N] [--batch B[,B...]] [--reps R] [--net mfn|r50|all] [--blas] [--cpu-time]
 * (--cpu-time: thread CPU time instead of wall time; only with --threads 1). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/elem.h"
#include "ops/ops_bwd_cpu.h"
#include "ops/ops_cpu.h"
#include "ops/ops_internal.h"

typedef struct layer {
    int count;                  /* occurrences in the network */
    int cin, cout, group, k, s, pad, ih;
} layer;

/* MobileFaceNet as in the default model (models/.cache/fr_feature.onnx). */
static const layer mfn[] = {
    {1, 3, 64, 1, 3, 2, 1, 112},     {1, 64, 64, 64, 3, 1, 1, 56},    {1, 64, 128, 1, 1, 1, 0, 56},
    {1, 128, 128, 128, 3, 2, 1, 56}, {4, 128, 128, 128, 3, 1, 1, 28}, {5, 128, 64, 1, 1, 1, 0, 28},
    {4, 64, 128, 1, 1, 1, 0, 28},    {1, 64, 256, 1, 1, 1, 0, 28},    {1, 256, 256, 256, 3, 2, 1, 28},
    {6, 256, 256, 256, 3, 1, 1, 14}, {7, 256, 128, 1, 1, 1, 0, 14},   {6, 128, 256, 1, 1, 1, 0, 14},
    {1, 128, 512, 1, 1, 1, 0, 14},   {1, 512, 512, 512, 3, 2, 1, 14}, {1, 512, 128, 1, 1, 1, 0, 7},
    {2, 128, 256, 1, 1, 1, 0, 7},    {2, 256, 256, 256, 3, 1, 1, 7},  {2, 256, 128, 1, 1, 1, 0, 7},
    {1, 128, 512, 1, 1, 1, 0, 7},    {1, 512, 512, 512, 7, 1, 0, 7},  {1, 512, 512, 1, 1, 1, 0, 1},
};

/* iResNet-50 (SPEC 2.1): stem, then per stage the first block's two 3x3
 * convs and 1x1 stride-2 shortcut, and the other blocks' 3x3 convs. */
static const layer r50[] = {
    {1, 3, 64, 1, 3, 1, 1, 112},
    {1, 64, 64, 1, 3, 1, 1, 112},    {1, 64, 64, 1, 3, 2, 1, 112},    {1, 64, 64, 1, 1, 2, 0, 112},
    {4, 64, 64, 1, 3, 1, 1, 56},
    {1, 64, 128, 1, 3, 1, 1, 56},    {1, 128, 128, 1, 3, 2, 1, 56},   {1, 64, 128, 1, 1, 2, 0, 56},
    {6, 128, 128, 1, 3, 1, 1, 28},
    {1, 128, 256, 1, 3, 1, 1, 28},   {1, 256, 256, 1, 3, 2, 1, 28},   {1, 128, 256, 1, 1, 2, 0, 28},
    {26, 256, 256, 1, 3, 1, 1, 14},
    {1, 256, 512, 1, 3, 1, 1, 14},   {1, 512, 512, 1, 3, 2, 1, 14},   {1, 256, 512, 1, 1, 2, 0, 14},
    {4, 512, 512, 1, 3, 1, 1, 7},
};

/* --cpu-time with one thread: the calling thread's CPU time, which a busy
 * shared machine does not inflate the way it inflates wall time. */
static int use_cpu_time = 0;

static double now(void)
{
    struct timespec ts;
    clock_gettime(use_cpu_time ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float *fill(int64_t count, float a)
{
    float *p = malloc(sizeof(float) * (size_t)(count > 0 ? count : 1));
    if (!p) {
        fprintf(stderr, "out of memory (%lld floats)\n", (long long)count);
        exit(1);
    }
    uint32_t s = 12345u;
    for (int64_t i = 0; i < count; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = a * ((float)(s >> 8) / 8388608.0f - 1.0f);
    }
    return p;
}

static xfiq_conv_desc make_desc(const layer *l)
{
    xfiq_conv_desc d = {l->cin, l->cout, l->group, l->k, l->k, l->s, l->s, 1, 1,
                        l->pad, l->pad, l->pad, l->pad, l->ih, l->ih, 0, 0};
    d.oh = (d.ih + 2 * l->pad - l->k) / l->s + 1;
    d.ow = d.oh;
    return d;
}

typedef struct totals {
    double flop, tf, tb, tbb, tbd;
} totals;

static double elapsed(double t0) { return now() - t0; }

/* Best of reps runs, after one warm-up run, the directions interleaved so
 * that both see the same machine load (2 shared cores are noisy). */
#define TIME_MIN(best, CALL)                   \
    do {                                       \
        const double t0_ = now();              \
        CALL;                                  \
        const double t_ = elapsed(t0_);        \
        (best) = t_ < (best) ? t_ : (best);    \
    } while (0)

static void bench_layer(const layer *l, int n, int threads, int reps, int blas, totals *tot)
{
    const xfiq_conv_desc d = make_desc(l);
    const int64_t nx = (int64_t)n * d.cin * d.ih * d.iw, ny = (int64_t)n * d.cout * d.oh * d.ow;
    const int K = d.cin / d.group * d.kh * d.kw;
    float *x = fill(nx, 1.0f), *w = fill((int64_t)d.cout * K, 0.1f), *y = fill(ny, 0.0f), *dy = fill(ny, 1.0f);
    float *dx = fill(nx, 0.0f);
    size_t wsb = conv2d_fwd_cpu_workspace(&d, threads), wsb2 = conv2d_bwd_data_cpu_workspace(&d, threads);
    const size_t wsb3 = blas ? ops_bwd_workspace(&d, threads, OPS_ENGINE_BLAS) : 0;
    const size_t wsb4 = ops_bwd_workspace(&d, threads, OPS_ENGINE_DIRECT);
    if (wsb2 > wsb)
        wsb = wsb2;
    if (wsb4 > wsb)
        wsb = wsb4;
    if (wsb3 > wsb)
        wsb = wsb3;
    float *ws = malloc(wsb);
    /* Weights packed once ahead, both directions, as a model runner does. */
    const size_t fpb = conv2d_cpu_pack_bytes(&d), bpb = conv2d_bwd_data_cpu_pack_bytes(&d);
    float *fpack = fpb ? malloc(fpb) : NULL, *bpack = bpb ? malloc(bpb) : NULL;
    if (fpack)
        conv2d_cpu_pack(&d, w, fpack, threads);
    if (bpack)
        conv2d_bwd_data_cpu_pack(&d, w, bpack, threads);
    const double flop = 2.0 * n * d.cout * (double)K * d.oh * d.ow;
    double tf = 1e30, tb = 1e30, tbb = blas ? 1e30 : 0.0, tbd = 1e30;
    for (int r = -1; r < reps; r++) {
        if (r < 0) { /* warm-up */
            double junk = 1e30;
            TIME_MIN(junk, conv2d_fwd_cpu_packed(x, w, fpack, NULL, y, &d, n, XFIQ_ACT_NONE, NULL, 0, ws, threads));
            TIME_MIN(junk, conv2d_bwd_data_cpu_packed(dy, w, bpack, dx, &d, n, 0, ws, threads));
            continue;
        }
        TIME_MIN(tf, conv2d_fwd_cpu_packed(x, w, fpack, NULL, y, &d, n, XFIQ_ACT_NONE, NULL, 0, ws, threads));
        TIME_MIN(tb, conv2d_bwd_data_cpu_packed(dy, w, bpack, dx, &d, n, 0, ws, threads));
        TIME_MIN(tbd, ops_conv_bwd(dy, w, dx, &d, n, 0, ws, threads, OPS_ENGINE_DIRECT));
        if (blas)
            TIME_MIN(tbb, ops_conv_bwd(dy, w, dx, &d, n, 0, ws, threads, OPS_ENGINE_BLAS));
    }
    printf("  %2dx %4d->%-4d g%-4d %dx%d s%d %3dx%-3d | fwd %7.2f GF/s %9.3f ms | bwd %7.2f GF/s %9.3f ms"
           " | bwd/fwd %5.2f | bwd(direct) %7.2f GF/s",
           l->count, d.cin, d.cout, d.group, d.kh, d.kw, d.sh, d.ih, d.iw, flop / tf * 1e-9, tf * 1e3,
           flop / tb * 1e-9, tb * 1e3, tb / tf, flop / tbd * 1e-9);
    if (blas)
        printf(" | bwd(blas) %7.2f GF/s", flop / tbb * 1e-9);
    printf("\n");
    tot->flop += l->count * flop;
    tot->tf += l->count * tf;
    tot->tb += l->count * tb;
    tot->tbb += l->count * tbb;
    tot->tbd += l->count * tbd;
    free(x), free(w), free(y), free(dy), free(dx), free(ws), free(fpack), free(bpack);
}

static void bench_fc(int n, int k, int m, int threads, int reps)
{
    float *x = fill((int64_t)n * k, 1.0f), *w = fill((int64_t)m * k, 0.01f), *y = fill((int64_t)n * m, 0.0f);
    float *dy = fill((int64_t)n * m, 1.0f), *dx = fill((int64_t)n * k, 0.0f);
    const double flop = 2.0 * n * (double)k * m;
    double tf = 1e30, tb = 1e30;
    for (int r = -1; r < reps; r++) {
        TIME_MIN(tf, gemm_fwd_cpu(x, w, NULL, y, n, k, m, XFIQ_ACT_NONE, NULL, 0, threads));
        TIME_MIN(tb, gemm_bwd_data_cpu(dy, w, dx, n, k, m, 0, threads));
    }
    printf("  FC %d->%d             | fwd %7.2f GF/s %9.3f ms | bwd %7.2f GF/s %9.3f ms | bwd/fwd %5.2f\n", k, m,
           flop / tf * 1e-9, tf * 1e3, flop / tb * 1e-9, tb * 1e3, tb / tf);
    free(x), free(w), free(y), free(dy), free(dx);
}

static void bench_net(const char *name, const layer *ls, int nl, int n, int threads, int reps, int blas)
{
    totals tot = {0, 0, 0, 0, 0};
    printf("%s, batch %d, %d thread(s): conv layers (count x shape)\n", name, n, threads);
    for (int i = 0; i < nl; i++)
        bench_layer(&ls[i], n, threads, reps, blas, &tot);
    printf("  total convs: %.2f GFLOP/image | fwd %.2f GF/s %.2f ms/img | bwd %.2f GF/s %.2f ms/img | bwd/fwd %.2f",
           tot.flop / n * 1e-9, tot.flop / tot.tf * 1e-9, tot.tf / n * 1e3, tot.flop / tot.tb * 1e-9,
           tot.tb / n * 1e3, tot.tb / tot.tf);
    printf(" | bwd(direct) %.2f ms/img", tot.tbd / n * 1e3);
    if (blas)
        printf(" | bwd(blas) %.2f GF/s", tot.flop / tot.tbb * 1e-9);
    printf("\n");
    if (ls == r50)
        bench_fc(n, 25088, 512, threads, reps);
    printf("\n");
}

int main(int argc, char **argv)
{
    int threads = 2, reps = 3, blas = 0, nb = 0, batches[8];
    const char *net = "all", *blist = "1,32";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            blist = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--net") && i + 1 < argc)
            net = argv[++i];
        else if (!strcmp(argv[i], "--blas"))
            blas = 1;
        else if (!strcmp(argv[i], "--cpu-time"))
            use_cpu_time = 1;
        else {
            fprintf(stderr,
                    "usage: %s [--threads N] [--batch B[,B...]] [--reps R] [--net mfn|r50|all] [--blas] [--cpu-time]\n",
                    argv[0]);
            return 2;
        }
    }
    for (const char *p = blist; *p && nb < 8;) {
        batches[nb++] = atoi(p);
        p = strchr(p, ',');
        if (!p)
            break;
        p++;
    }
    if (threads < 1 || reps < 1 || nb == 0 || (use_cpu_time && threads != 1)) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    printf("timing: %s\n", use_cpu_time ? "thread CPU time" : "wall time");
    printf("engines: forward %s, backward %s\n",
           ops_conv_engine_resolve(OPS_ENGINE_DEFAULT) == OPS_ENGINE_AVX512 ? "AVX-512 kernel" : "OpenBLAS",
           ops_conv_engine_resolve(OPS_ENGINE_DEFAULT) == OPS_ENGINE_AVX512 ? "AVX-512 kernel" : "OpenBLAS");
    for (int b = 0; b < nb; b++) {
        if (!strcmp(net, "mfn") || !strcmp(net, "all"))
            bench_net("MobileFaceNet (default model)", mfn, (int)(sizeof mfn / sizeof mfn[0]), batches[b], threads,
                      reps, blas);
        if (!strcmp(net, "r50") || !strcmp(net, "all"))
            bench_net("iResNet-50", r50, (int)(sizeof r50 / sizeof r50[0]), batches[b], threads, reps, blas);
    }
    return 0;
}
