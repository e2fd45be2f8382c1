/* bench_ops.c - throughput of the CPU convolution and FC layer on the layer
 * shapes of MobileFaceNet (the default model) and iResNet-50 at 112x112: the
 * default engine (own AVX-512 micro-kernels, Winograd F(2x2,3x3) for 3x3
 * stride-1 layers), the AVX-512 direct convolution and OpenBLAS, at batch 1
 * and 32.
 * Prints GFLOP/s per layer (2 flops per multiply-add, best of the repeats,
 * as other processes share the cores) and per network the conv+FC time per
 * image weighted by how often each shape occurs.
 * Usage: bench_ops [threads=2] [min_seconds_per_config=0.3] [name_filter] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/ops_cpu.h"
#include "ops/ops_internal.h"

typedef struct layer {
    const char *net, *name;
    int count; /* occurrences in the network */
    int cin, cout, group, k, s, pad, ih;
    int fc_k, fc_m; /* FC layer when fc_k > 0 */
} layer;

#define CONV(net, name, count, cin, cout, group, k, s, pad, ih) {net, name, count, cin, cout, group, k, s, pad, ih, 0, 0}
static const layer layers[] = {
    CONV("mfn", "stem 3x3 s2 3>64 @112", 1, 3, 64, 1, 3, 2, 1, 112),
    CONV("mfn", "dw 3x3 s1 64 @56", 1, 64, 64, 64, 3, 1, 1, 56),
    CONV("mfn", "1x1 64>128 @56", 1, 64, 128, 1, 1, 1, 0, 56),
    CONV("mfn", "dw 3x3 s2 128 @56", 1, 128, 128, 128, 3, 2, 1, 56),
    CONV("mfn", "1x1 128>64 @28", 5, 128, 64, 1, 1, 1, 0, 28),
    CONV("mfn", "1x1 64>128 @28", 4, 64, 128, 1, 1, 1, 0, 28),
    CONV("mfn", "dw 3x3 s1 128 @28", 4, 128, 128, 128, 3, 1, 1, 28),
    CONV("mfn", "1x1 64>256 @28", 1, 64, 256, 1, 1, 1, 0, 28),
    CONV("mfn", "dw 3x3 s2 256 @28", 1, 256, 256, 256, 3, 2, 1, 28),
    CONV("mfn", "1x1 256>128 @14", 7, 256, 128, 1, 1, 1, 0, 14),
    CONV("mfn", "1x1 128>256 @14", 6, 128, 256, 1, 1, 1, 0, 14),
    CONV("mfn", "dw 3x3 s1 256 @14", 6, 256, 256, 256, 3, 1, 1, 14),
    CONV("mfn", "1x1 128>512 @14", 1, 128, 512, 1, 1, 1, 0, 14),
    CONV("mfn", "dw 3x3 s2 512 @14", 1, 512, 512, 512, 3, 2, 1, 14),
    CONV("mfn", "1x1 512>128 @7", 1, 512, 128, 1, 1, 1, 0, 7),
    CONV("mfn", "1x1 128>256 @7", 3, 128, 256, 1, 1, 1, 0, 7),
    CONV("mfn", "dw 3x3 s1 256 @7", 2, 256, 256, 256, 3, 1, 1, 7),
    CONV("mfn", "1x1 256>128 @7", 2, 256, 128, 1, 1, 1, 0, 7),
    CONV("mfn", "gdc 7x7 512 @7", 1, 512, 512, 512, 7, 1, 0, 7),
    CONV("mfn", "1x1 512>512 @1", 1, 512, 512, 1, 1, 1, 0, 1),
    CONV("r50", "stem 3x3 3>64 @112", 1, 3, 64, 1, 3, 1, 1, 112),
    CONV("r50", "3x3 64>64 @112", 1, 64, 64, 1, 3, 1, 1, 112),
    CONV("r50", "3x3 s2 64>64 @112", 1, 64, 64, 1, 3, 2, 1, 112),
    CONV("r50", "1x1 s2 64>64 @112", 1, 64, 64, 1, 1, 2, 0, 112),
    CONV("r50", "3x3 64>64 @56", 4, 64, 64, 1, 3, 1, 1, 56),
    CONV("r50", "3x3 64>128 @56", 1, 64, 128, 1, 3, 1, 1, 56),
    CONV("r50", "3x3 s2 128>128 @56", 1, 128, 128, 1, 3, 2, 1, 56),
    CONV("r50", "1x1 s2 64>128 @56", 1, 64, 128, 1, 1, 2, 0, 56),
    CONV("r50", "3x3 128>128 @28", 6, 128, 128, 1, 3, 1, 1, 28),
    CONV("r50", "3x3 128>256 @28", 1, 128, 256, 1, 3, 1, 1, 28),
    CONV("r50", "3x3 s2 256>256 @28", 1, 256, 256, 1, 3, 2, 1, 28),
    CONV("r50", "1x1 s2 128>256 @28", 1, 128, 256, 1, 1, 2, 0, 28),
    CONV("r50", "3x3 256>256 @14", 26, 256, 256, 1, 3, 1, 1, 14),
    CONV("r50", "3x3 256>512 @14", 1, 256, 512, 1, 3, 1, 1, 14),
    CONV("r50", "3x3 s2 512>512 @14", 1, 512, 512, 1, 3, 2, 1, 14),
    CONV("r50", "1x1 s2 256>512 @14", 1, 256, 512, 1, 1, 2, 0, 14),
    CONV("r50", "3x3 512>512 @7", 4, 512, 512, 1, 3, 1, 1, 7),
    {"r50", "fc 25088>512", 1, 0, 0, 0, 0, 0, 0, 0, 25088, 512},
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *filled(size_t count)
{
    float *p = malloc(sizeof(float) * (count ? count : 1));
    for (size_t i = 0; i < count; i++)
        p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    return p;
}

/* Best time of one call over repeats lasting at least min_s. */
static double time_layer(const layer *L, int n, int engine, int prepack, int threads, double min_s, double *macs)
{
    double best = 1e30, start = now();
    int reps = 0;
    if (L->fc_k > 0) {
        float *x = filled((size_t)n * L->fc_k), *w = filled((size_t)L->fc_k * L->fc_m), *y = filled((size_t)n * L->fc_m);
        *macs = (double)n * L->fc_k * L->fc_m;
        while (reps < 3 || now() - start < min_s) {
            const double t0 = now();
            gemm_fwd_cpu(x, w, NULL, y, n, L->fc_k, L->fc_m, XFIQ_ACT_NONE, NULL, 0, threads);
            const double t = now() - t0;
            best = t < best ? t : best;
            reps++;
        }
        free(x), free(w), free(y);
        return best;
    }
    xfiq_conv_desc d = {L->cin, L->cout, L->group, L->k, L->k, L->s, L->s, 1, 1,
                        L->pad, L->pad, L->pad, L->pad, L->ih, L->ih, 0, 0};
    d.oh = d.ow = (L->ih + 2 * L->pad - L->k) / L->s + 1;
    const size_t xs = (size_t)n * d.cin * d.ih * d.iw, ys = (size_t)n * d.cout * d.oh * d.ow;
    const size_t ws_bytes = ops_conv_workspace(&d, threads, engine);
    float *x = filled(xs), *y = filled(ys), *b = filled((size_t)d.cout), *slope = filled((size_t)d.cout);
    float *w = filled((size_t)d.cout * (d.cin / d.group) * d.kh * d.kw), *ws = malloc(ws_bytes);
    /* Weights packed once ahead, as the model runner does, for the plan of this engine. */
    ops_conv_plan plan;
    ops_conv_plan_make(&plan, &d, engine);
    const size_t pb = prepack && plan.engine == OPS_ENGINE_AVX512 && plan.path != OPS_CONV_DEPTHWISE ? plan.pack_bytes : 0;
    float *packed = pb ? malloc(pb) : NULL;
    if (packed && plan.path == OPS_CONV_WINOGRAD)
        ops_conv_pack_winograd(&plan, &d, w, packed, threads);
    else if (packed)
        ops_conv_pack_avx512(&plan, &d, w, packed, threads);
    *macs = (double)n * d.cout * d.oh * d.ow * (d.cin / d.group) * d.kh * d.kw;
    while (reps < 3 || now() - start < min_s) {
        const double t0 = now();
        ops_conv_fwd(x, w, packed, b, y, &d, n, XFIQ_ACT_PRELU, slope, 1, ws, threads, engine);
        const double t = now() - t0;
        best = t < best ? t : best;
        reps++;
    }
    free(x), free(y), free(b), free(slope), free(w), free(ws), free(packed);
    return best;
}

int main(int argc, char **argv)
{
    const int threads = argc > 1 ? atoi(argv[1]) : 2;
    const double min_s = argc > 2 ? atof(argv[2]) : 0.3;
    const char *filter = argc > 3 ? argv[3] : NULL;
    const int batches[2] = {1, 32};
    /* Variants: the default engine as models run it (AVX-512, Winograd for
     * 3x3 stride-1 layers, weights packed once ahead), the AVX-512 direct
     * convolution (the same, without Winograd), OpenBLAS (AVX2 kernels on
     * this CPU, im2col per call). */
    const char *vname[3] = {"default", "direct", "blas"};
    const int nl = (int)(sizeof layers / sizeof layers[0]);
    /* Per network, batch and variant: weighted seconds per image; MACs per image. */
    double net_s[2][2][3] = {{{0}}}, net_macs[2] = {0};

    printf("xfiq bench_ops: %d threads, default conv engine %s (GFLOP/s, best of repeats over >= %.2f s)\n", threads,
           ops_conv_avx512_available() ? "avx512" : "blas", min_s);
    printf("%-4s %-24s %5s | %26s | %26s\n", "", "", "", "batch 1", "batch 32");
    printf("%-4s %-24s %5s |", "net", "layer", "count");
    for (int bi = 0; bi < 2; bi++) {
        for (int v = 0; v < 3; v++)
            printf(" %8s", vname[v]);
        printf(" |");
    }
    printf("\n");
    for (int i = 0; i < nl; i++) {
        const layer *L = &layers[i];
        const int net = strcmp(L->net, "mfn") != 0;
        if (filter && !strstr(L->name, filter) && !strstr(L->net, filter))
            continue;
        printf("%-4s %-24s %5d |", L->net, L->name, L->count);
        for (int bi = 0; bi < 2; bi++) {
            for (int v = 0; v < 3; v++) {
                const int engine = v == 2 ? OPS_ENGINE_BLAS : v == 1 ? OPS_ENGINE_DIRECT : OPS_ENGINE_DEFAULT;
                double macs = 0;
                /* The FC layer has one implementation: all columns run it.
                 * GFLOP/s count the direct convolution's multiply-adds. */
                const double t = time_layer(L, batches[bi], engine, v != 2, threads, min_s, &macs);
                printf(" %8.1f", 2.0 * macs / t * 1e-9);
                net_s[net][bi][v] += L->count * t / batches[bi];
                if (bi == 0 && v == 0)
                    net_macs[net] += L->count * macs;
            }
            printf(" |");
        }
        printf("\n");
        fflush(stdout);
    }
    for (int net = 0; net < 2; net++) {
        if (net_macs[net] == 0)
            continue;
        printf("%s conv+fc layers: %.3f GMAC/image; ms/image (images/s):\n", net ? "iresnet50" : "mobilefacenet",
               net_macs[net] * 1e-9);
        for (int bi = 0; bi < 2; bi++) {
            printf("   batch %2d:", batches[bi]);
            for (int v = 0; v < 3; v++)
                printf("  %s %.2f (%.0f)", vname[v], net_s[net][bi][v] * 1e3, 1.0 / net_s[net][bi][v]);
            printf("\n");
        }
    }
    return 0;
}
