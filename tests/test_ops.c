/* test_ops.c - the fast CPU ops against the reference loops: convolution
 * (both GEMM engines and the depthwise loop) over named and random shapes,
 * fused activations, the Winograd path bit for bit against its formulas,
 * bitwise reproducibility across batch sizes and thread
 * counts, workspace bounds, the fully connected layer and the element-wise
 * ops. The PyTorch cross-check lives in test_ops_torch.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops_cpu.h"
#include "ops/ops_internal.h"
#include "ops/winograd.h"
#include "test_util.h"
#include "xfiq_test.h"



static void desc_finish(xfiq_conv_desc *d)
{
    d->oh = (d->ih + d->pad_t + d->pad_b - d->dh * (d->kh - 1) - 1) / d->sh + 1;
    d->ow = (d->iw + d->pad_l + d->pad_r - d->dw * (d->kw - 1) - 1) / d->sw + 1;
}

static xfiq_conv_desc conv_desc(int cin, int cout, int group, int k, int s, int pad, int ih, int iw)
{
    xfiq_conv_desc d = {cin, cout, group, k, k, s, s, 1, 1, pad, pad, pad, pad, ih, iw, 0, 0};
    desc_finish(&d);
    return d;
}

static int conv_cases, gemm_cases;

static const char *engine_name(int e)
{
    return e == OPS_ENGINE_BLAS ? "blas" : e == OPS_ENGINE_DIRECT ? "avx512-direct" : "avx512/default";
}

/* Runs the fast conv with a workspace of exactly the announced size, placed
 * off the 64-byte grid, and checks a canary just past its end. */
static void run_conv(const float *x, const float *w, const float *b, float *y, const xfiq_conv_desc *d, int n,
                     int act, const float *slope, int spc, int threads, int engine)
{
    const size_t bytes = ops_conv_workspace(d, threads, engine);
    unsigned char *raw = malloc(bytes + 4 + 64);
    memset(raw + 4 + bytes, 0xA5, 64);
    ops_conv_fwd(x, w, NULL, b, y, d, n, act, slope, spc, (float *)(raw + 4), threads, engine);
    int intact = 1;
    for (int i = 0; i < 64; i++)
        intact &= raw[4 + bytes + i] == 0xA5;
    CHECK_MSG(intact, "workspace overrun (%zu bytes announced)", bytes);
    free(raw);
}

static void fmt_desc(char *s, size_t cap, const xfiq_conv_desc *d, int act, int spc, int engine)
{
    snprintf(s, cap, "conv cin %d cout %d g %d k %dx%d s %d,%d dil %d,%d pad %d,%d,%d,%d in %dx%d out %dx%d act %d/%d %s",
             d->cin, d->cout, d->group, d->kh, d->kw, d->sh, d->sw, d->dh, d->dw, d->pad_t, d->pad_l, d->pad_b,
             d->pad_r, d->ih, d->iw, d->oh, d->ow, act, spc, engine_name(engine));
}

/* One conv case: the ref on nmax images, then for each engine the fast path
 * at nmax images (2 threads) against the ref, and bitwise against batch 1
 * (1 and 2 threads), batch 3 and 3 threads. */
static void check_conv(const xfiq_conv_desc *d, int nmax, int act, int spc, int with_bias)
{
    const int64_t xs = (int64_t)d->cin * d->ih * d->iw, ys = (int64_t)d->cout * d->oh * d->ow;
    const int K = d->cin / d->group * d->kh * d->kw;
    float *x = test_rand_buf(xs * nmax, 1.0f);
    float *w = test_rand_buf((int64_t)d->cout * K, 1.0f / sqrtf((float)K));
    float *b = with_bias ? test_rand_buf(d->cout, 0.5f) : NULL;
    float *slope = test_rand_buf(d->cout, 0.5f);
    float *ref = malloc(sizeof(float) * (size_t)(ys * nmax));
    float *got = malloc(sizeof(float) * (size_t)(ys * nmax));
    float *one = malloc(sizeof(float) * (size_t)(ys * nmax));
    char what[256];
    conv2d_fwd_ref(x, w, b, ref, d, nmax, act, slope, spc);
    conv_cases++;
    for (int e = 0; e < 3; e++) {
        const int engine = e == 0 ? OPS_ENGINE_DEFAULT : e == 1 ? OPS_ENGINE_BLAS : OPS_ENGINE_DIRECT;
        fmt_desc(what, sizeof what, d, act, spc, engine);
        run_conv(x, w, b, got, d, nmax, act, slope, spc, 2, engine);
        CHECK_MSG(test_compare_ops(got, ref, ys * nmax, what), "%s: fast vs ref", what);
        int same = 1;
        for (int i = 0; i < nmax; i++) {
            for (int t = 1; t <= 2; t++) {
                run_conv(x + i * xs, w, b, one, d, 1, act, slope, spc, t, engine);
                same &= memcmp(one, got + i * ys, sizeof(float) * (size_t)ys) == 0;
            }
        }
        CHECK_MSG(same, "%s: batch %d vs batch 1 (1 and 2 threads) not bitwise equal", what, nmax);
        if (nmax >= 3) {
            run_conv(x, w, b, one, d, 3, act, slope, spc, 3, engine);
            CHECK_MSG(memcmp(one, got, sizeof(float) * (size_t)(3 * ys)) == 0,
                      "%s: batch 3 x 3 threads vs batch %d x 2 threads not bitwise equal", what, nmax);
        }
    }
    /* The public entry point is the default engine. */
    {
        const size_t bytes = conv2d_fwd_cpu_workspace(d, 2);
        float *ws = malloc(bytes);
        conv2d_fwd_cpu(x, w, b, one, d, nmax, act, slope, spc, ws, 2);
        run_conv(x, w, b, got, d, nmax, act, slope, spc, 2, OPS_ENGINE_DEFAULT);
        CHECK(memcmp(one, got, sizeof(float) * (size_t)(ys * nmax)) == 0);
        /* Weights packed ahead of time give the same bits. */
        const size_t pb = conv2d_cpu_pack_bytes(d);
        float *packed = pb ? malloc(pb) : NULL;
        if (packed)
            conv2d_cpu_pack(d, w, packed, 2);
        conv2d_fwd_cpu_packed(x, w, packed, b, one, d, nmax, act, slope, spc, ws, 2);
        CHECK_MSG(memcmp(one, got, sizeof(float) * (size_t)(ys * nmax)) == 0, "prepacked weights differ (%zu bytes)",
                  pb);
        free(packed);
        free(ws);
    }
    free(x), free(w), free(b), free(slope), free(ref), free(got), free(one);
}

static void test_conv_named(void)
{
    xfiq_conv_desc d;
    /* iResNet: 3x3 s1 p1, 3x3 s2 p1, 1x1 s2 shortcut; MobileFaceNet stem. */
    d = conv_desc(16, 24, 1, 3, 1, 1, 13, 11);
    check_conv(&d, 5, XFIQ_ACT_PRELU, 1, 1);
    d = conv_desc(24, 40, 1, 3, 2, 1, 14, 14);
    check_conv(&d, 3, XFIQ_ACT_NONE, 0, 0);
    d = conv_desc(32, 48, 1, 1, 2, 0, 14, 14);
    check_conv(&d, 5, XFIQ_ACT_NONE, 0, 1);
    d = conv_desc(3, 64, 1, 3, 2, 1, 28, 28);
    check_conv(&d, 3, XFIQ_ACT_PRELU, 1, 1);
    /* 1x1 stride 1 (direct GEMM), cout not a multiple of 16 or of the panel. */
    d = conv_desc(64, 40, 1, 1, 1, 0, 7, 7);
    check_conv(&d, 5, XFIQ_ACT_RELU, 0, 1);
    d = conv_desc(33, 17, 1, 1, 1, 0, 28, 28);
    check_conv(&d, 3, XFIQ_ACT_PRELU, 0, 1);
    d = conv_desc(512, 30, 1, 1, 1, 0, 1, 1);
    check_conv(&d, 5, XFIQ_ACT_PRELU, 1, 1);
    /* Large spatial: several column tiles (implicit and im2col). */
    d = conv_desc(16, 32, 1, 3, 1, 1, 56, 56);
    check_conv(&d, 2, XFIQ_ACT_PRELU, 1, 1);
    d = conv_desc(32, 20, 1, 3, 2, 1, 60, 60);
    check_conv(&d, 2, XFIQ_ACT_RELU, 0, 1);
    /* Deep K (3x3 x 256 channels) on 7x7, and tiny spatial sizes. */
    d = conv_desc(256, 30, 1, 3, 1, 1, 7, 7);
    check_conv(&d, 3, XFIQ_ACT_NONE, 0, 1);
    d = conv_desc(8, 12, 1, 3, 1, 1, 1, 1);
    check_conv(&d, 5, XFIQ_ACT_RELU, 0, 1);
    d = conv_desc(8, 12, 1, 3, 2, 1, 1, 1);
    check_conv(&d, 3, XFIQ_ACT_NONE, 0, 1);
    /* Winograd F(2x2,3x3) (3x3 s1, cin >= 32, maps >= 8x8): the smallest map,
     * odd sizes with cout off the channel tile, a tile row wider than one
     * vector, many bands, no padding, asymmetric padding. */
    d = conv_desc(32, 32, 1, 3, 1, 1, 8, 8);
    check_conv(&d, 3, XFIQ_ACT_PRELU, 1, 1);
    d = conv_desc(64, 48, 1, 3, 1, 1, 15, 13);
    check_conv(&d, 3, XFIQ_ACT_PRELU, 0, 1);
    d = conv_desc(40, 70, 1, 3, 1, 1, 36, 35);
    check_conv(&d, 2, XFIQ_ACT_RELU, 0, 1);
    d = conv_desc(256, 32, 1, 3, 1, 1, 40, 40);
    check_conv(&d, 2, XFIQ_ACT_NONE, 0, 1);
    d = conv_desc(32, 16, 1, 3, 1, 0, 10, 10);
    check_conv(&d, 3, XFIQ_ACT_PRELU, 1, 0);
    d = conv_desc(512, 16, 1, 3, 1, 1, 14, 14); /* 3 bands of 2, 2, 3 tile rows */
    check_conv(&d, 2, XFIQ_ACT_NONE, 0, 1);
    d = conv_desc(32, 24, 1, 3, 1, 1, 47, 16); /* chunks per thread, two tile rows a vector */
    check_conv(&d, 2, XFIQ_ACT_PRELU, 1, 1);
    d = conv_desc(33, 17, 1, 3, 1, 0, 12, 17);
    d.pad_t = 0, d.pad_l = 2, d.pad_b = 1, d.pad_r = 0;
    desc_finish(&d);
    check_conv(&d, 3, XFIQ_ACT_PRELU, 1, 1);
    /* Depthwise: 3x3 s1/s2 p1 (even and odd sizes), the 7x7 GDC, 5x5 dilated. */
    d = conv_desc(32, 32, 32, 3, 1, 1, 14, 14);
    check_conv(&d, 5, XFIQ_ACT_PRELU, 1, 1);
    d = conv_desc(24, 24, 24, 3, 2, 1, 15, 15);
    check_conv(&d, 3, XFIQ_ACT_PRELU, 1, 1);
    d = conv_desc(24, 24, 24, 3, 2, 1, 56, 56);
    check_conv(&d, 2, XFIQ_ACT_RELU, 0, 0);
    d = conv_desc(64, 64, 64, 7, 1, 0, 7, 7);
    check_conv(&d, 5, XFIQ_ACT_NONE, 0, 1);
    d = conv_desc(16, 16, 16, 5, 2, 3, 17, 12);
    d.dh = d.dw = 2, d.pad_b = 1, d.pad_r = 2;
    desc_finish(&d);
    check_conv(&d, 3, XFIQ_ACT_PRELU, 0, 1);
    /* One input column, stride 2, padding only on the right: the odd column
     * phase holds nothing but padding. */
    d = conv_desc(4, 4, 4, 3, 2, 0, 5, 1);
    d.pad_r = 2, d.pad_b = 1;
    desc_finish(&d);
    check_conv(&d, 3, XFIQ_ACT_NONE, 0, 1);
    d = conv_desc(4, 6, 1, 3, 2, 0, 5, 1);
    d.pad_r = 2, d.pad_b = 1;
    desc_finish(&d);
    check_conv(&d, 3, XFIQ_ACT_NONE, 0, 1);
    /* Stride 3 with dilation 2 (phases read unevenly). */
    d = conv_desc(6, 9, 1, 3, 3, 2, 17, 19);
    d.dh = d.dw = 2;
    desc_finish(&d);
    check_conv(&d, 3, XFIQ_ACT_PRELU, 1, 1);
    d = conv_desc(6, 6, 6, 3, 3, 2, 17, 19);
    d.dh = 2;
    desc_finish(&d);
    check_conv(&d, 3, XFIQ_ACT_PRELU, 1, 1);
    /* Asymmetric pads, dilation 2, non-square kernels and strides. */
    d = conv_desc(10, 14, 1, 3, 1, 0, 12, 9);
    d.pad_t = 0, d.pad_l = 1, d.pad_b = 2, d.pad_r = 1;
    desc_finish(&d);
    check_conv(&d, 3, XFIQ_ACT_PRELU, 1, 1);
    d = conv_desc(12, 18, 1, 3, 1, 2, 13, 13);
    d.dh = d.dw = 2;
    desc_finish(&d);
    check_conv(&d, 3, XFIQ_ACT_RELU, 0, 1);
    d = conv_desc(6, 10, 1, 3, 1, 0, 11, 16);
    d.kw = 5, d.sw = 2, d.pad_l = 2, d.pad_r = 1, d.pad_t = 1;
    desc_finish(&d);
    check_conv(&d, 3, XFIQ_ACT_NONE, 0, 1);
    /* Grouped: 2 and 4 groups, and depthwise with a channel multiplier. */
    d = conv_desc(16, 24, 2, 3, 1, 1, 9, 9);
    check_conv(&d, 3, XFIQ_ACT_PRELU, 1, 1);
    d = conv_desc(32, 16, 4, 3, 2, 1, 10, 10);
    check_conv(&d, 5, XFIQ_ACT_RELU, 0, 1);
    d = conv_desc(8, 16, 8, 3, 1, 1, 9, 9);
    check_conv(&d, 3, XFIQ_ACT_NONE, 0, 1);
}

/* The Winograd path computes exactly the formulas of ops/winograd.h: per
 * tile, V = in_tile(d), U = weight_tile(g), M = sum over input channels of
 * fmaf(U, V, M) in increasing order, y = act(out_tile(M) + b). Written here
 * as plain loops, compared bit for bit (the CUDA kernels are to do the same). */
static void check_winograd_formula(const xfiq_conv_desc *d, int n)
{
    ops_conv_plan p;
    ops_conv_plan_make(&p, d, OPS_ENGINE_DEFAULT);
    if (p.path != OPS_CONV_WINOGRAD) {
        CHECK_MSG(!ops_conv_avx512_available(), "%dx%d %d>%d: the Winograd path was not chosen", d->ih, d->iw,
                  d->cin, d->cout);
        return;
    }
    const int64_t xs = (int64_t)d->cin * d->ih * d->iw, ys = (int64_t)d->cout * d->oh * d->ow;
    float *x = test_rand_buf(xs * n, 1.0f), *w = test_rand_buf((int64_t)d->cout * d->cin * 9, 0.2f);
    float *b = test_rand_buf(d->cout, 0.5f), *slope = test_rand_buf(d->cout, 0.5f);
    float *got = malloc(sizeof(float) * (size_t)(ys * n)), *u = malloc(sizeof(float) * 16 * (size_t)d->cin);
    run_conv(x, w, b, got, d, n, XFIQ_ACT_PRELU, slope, 1, 2, OPS_ENGINE_DEFAULT);
    int64_t differ = 0;
    for (int img = 0; img < n; img++)
        for (int co = 0; co < d->cout; co++) {
            for (int c = 0; c < d->cin; c++)
                xfiq_wino_weight_tile(w + ((int64_t)co * d->cin + c) * 9, u + 16 * c);
            for (int oy = 0; oy < d->oh; oy += 2)
                for (int ox = 0; ox < d->ow; ox += 2) {
                    float m[16] = {0}, t[16], v[16], yt[4];
                    for (int c = 0; c < d->cin; c++) {
                        for (int i = 0; i < 4; i++)
                            for (int j = 0; j < 4; j++) {
                                const int iy = oy + i - d->pad_t, ix = ox + j - d->pad_l;
                                t[4 * i + j] = iy >= 0 && iy < d->ih && ix >= 0 && ix < d->iw
                                                   ? x[img * xs + ((int64_t)c * d->ih + iy) * d->iw + ix]
                                                   : 0.0f;
                            }
                        xfiq_wino_in_tile(t, v);
                        for (int q = 0; q < 16; q++)
                            m[q] = fmaf(u[16 * c + q], v[q], m[q]);
                    }
                    xfiq_wino_out_tile(m, yt);
                    for (int k = 0; k < 4; k++) {
                        const int yy = oy + k / 2, xx = ox + k % 2;
                        if (yy >= d->oh || xx >= d->ow)
                            continue;
                        const float want = xfiq_act(XFIQ_ACT_PRELU, yt[k] + b[co], slope[co]);
                        const float have = got[img * ys + ((int64_t)co * d->oh + yy) * d->ow + xx];
                        differ += memcmp(&want, &have, sizeof want) != 0;
                    }
                }
        }
    CHECK_MSG(differ == 0, "winograd %dx%d %d>%d: %lld outputs differ from the formulas", d->ih, d->iw, d->cin,
              d->cout, (long long)differ);
    free(x), free(w), free(b), free(slope), free(got), free(u);
}

static void test_winograd_formula(void)
{
    xfiq_conv_desc d = conv_desc(40, 24, 1, 3, 1, 1, 9, 13);
    check_winograd_formula(&d, 2);
    d = conv_desc(300, 33, 1, 3, 1, 1, 8, 8); /* depth in several passes */
    check_winograd_formula(&d, 1);
    d = conv_desc(32, 20, 1, 3, 1, 1, 37, 30); /* chunks per thread */
    check_winograd_formula(&d, 2);
}

static void test_conv_random(int cases)
{
    for (int t = 0; t < cases; t++) {
        xfiq_conv_desc d;
        do {
            const int group = test_rng_int(0, 3) == 0 ? test_rng_int(2, 4) : 1;
            d.group = group;
            d.cin = group * test_rng_int(1, 12);
            d.cout = test_rng_int(0, 4) == 0 ? d.cin : group * test_rng_int(1, 12);
            if (test_rng_int(0, 5) == 0)
                d.group = d.cout = d.cin; /* depthwise */
            d.kh = test_rng_int(1, 5), d.kw = test_rng_int(1, 5);
            d.sh = test_rng_int(1, 3), d.sw = test_rng_int(1, 3);
            d.dh = test_rng_int(1, 2), d.dw = test_rng_int(1, 2);
            d.pad_t = test_rng_int(0, 2), d.pad_l = test_rng_int(0, 2), d.pad_b = test_rng_int(0, 2), d.pad_r = test_rng_int(0, 2);
            d.ih = test_rng_int(1, 24), d.iw = test_rng_int(1, 24);
        } while (d.ih + d.pad_t + d.pad_b < d.dh * (d.kh - 1) + 1 || d.iw + d.pad_l + d.pad_r < d.dw * (d.kw - 1) + 1);
        desc_finish(&d);
        check_conv(&d, 3, test_rng_int(0, 2), test_rng_int(0, 1), test_rng_int(0, 3) != 0);
    }
    /* 3x3 stride-1 shapes the Winograd path takes (most of them): channels
     * past the thresholds, pads 0..3, maps from below 4x4 to several bands. */
    for (int t = 0; t < cases / 6; t++) {
        xfiq_conv_desc d = conv_desc(test_rng_int(8, 48), test_rng_int(8, 48), 1, 3, 1, 0, test_rng_int(2, 30),
                                     test_rng_int(2, 30));
        d.pad_t = test_rng_int(0, 3), d.pad_l = test_rng_int(0, 3), d.pad_b = test_rng_int(0, 3),
        d.pad_r = test_rng_int(0, 3);
        if (d.ih + d.pad_t + d.pad_b < 3)
            d.pad_b = 3 - d.ih - d.pad_t;
        if (d.iw + d.pad_l + d.pad_r < 3)
            d.pad_r = 3 - d.iw - d.pad_l;
        desc_finish(&d);
        check_conv(&d, 3, test_rng_int(0, 2), test_rng_int(0, 1), test_rng_int(0, 3) != 0);
    }
}

static void check_gemm(int n, int k, int m, int act, int spc, int with_bias)
{
    float *x = test_rand_buf((int64_t)n * k, 1.0f), *w = test_rand_buf((int64_t)m * k, 1.0f / sqrtf((float)k));
    float *b = with_bias ? test_rand_buf(m, 0.5f) : NULL, *slope = test_rand_buf(m, 0.5f);
    float *ref = malloc(sizeof(float) * (size_t)n * m), *got = malloc(sizeof(float) * (size_t)n * m);
    float *one = malloc(sizeof(float) * (size_t)m);
    char what[128];
    snprintf(what, sizeof what, "gemm n %d k %d m %d act %d/%d", n, k, m, act, spc);
    gemm_fwd_ref(x, w, b, ref, n, k, m, act, slope, spc);
    gemm_cases++;
    ops_gemm_fwd(x, w, b, got, n, k, m, act, slope, spc, 2);
    CHECK_MSG(test_compare_ops(got, ref, (int64_t)n * m, what), "%s: fast vs ref", what);
    int same = 1;
    for (int i = 0; i < n; i++)
        for (int t = 1; t <= 3; t++) {
            ops_gemm_fwd(x + (int64_t)i * k, w, b, one, 1, k, m, act, slope, spc, t);
            same &= memcmp(one, got + (int64_t)i * m, sizeof(float) * (size_t)m) == 0;
        }
    CHECK_MSG(same, "%s: batch %d vs batch 1 (1..3 threads) not bitwise equal", what, n);
    float *pub = malloc(sizeof(float) * (size_t)n * m); /* the public entry point */
    gemm_fwd_cpu(x, w, b, pub, n, k, m, act, slope, spc, 2);
    CHECK_MSG(memcmp(pub, got, sizeof(float) * (size_t)n * m) == 0, "%s: gemm_fwd_cpu differs", what);
    free(pub);
    free(x), free(w), free(b), free(slope), free(ref), free(got), free(one);
}

static void test_gemm(void)
{
    check_gemm(1, 512, 512, XFIQ_ACT_NONE, 0, 1);
    check_gemm(5, 2048, 130, XFIQ_ACT_PRELU, 1, 1);
    check_gemm(7, 33, 7, XFIQ_ACT_RELU, 0, 0);
    check_gemm(3, 25088, 64, XFIQ_ACT_NONE, 0, 1);
    check_gemm(9, 1, 5, XFIQ_ACT_PRELU, 0, 1);
    check_gemm(70, 1000, 13, XFIQ_ACT_PRELU, 1, 1); /* more rows than one chunk of x, depth in chunks */
    for (int t = 0; t < 12; t++)
        check_gemm(test_rng_int(1, 9), test_rng_int(1, 300), test_rng_int(1, 70), test_rng_int(0, 2), test_rng_int(0, 1), test_rng_int(0, 1));
}

/* Element-wise ops against loops written here from the ONNX definitions. */
static void test_elementwise(void)
{
    const int n = 3, c = 5;
    const int64_t sp = 4099, cnt = n * c * sp; /* big enough for the threaded loops */
    float *x = test_rand_buf(cnt, 2.0f), *x2 = test_rand_buf(cnt, 2.0f), *y = malloc(sizeof(float) * (size_t)cnt);
    float *inpl = malloc(sizeof(float) * (size_t)cnt);
    float *scale = test_rand_buf(c, 1.5f), *shift = test_rand_buf(c, 1.0f), *slope = test_rand_buf(c, 0.5f);
    int bad;

    for (int64_t i = 0; i < cnt; i++) /* keep divisors away from 0 */
        x2[i] = x2[i] >= 0 ? x2[i] + 0.5f : x2[i] - 0.5f;

    affine_fwd_cpu(x, scale, shift, y, n, c, sp, 2);
    memcpy(inpl, x, sizeof(float) * (size_t)cnt);
    affine_fwd_cpu(inpl, scale, shift, inpl, n, c, sp, 2);
    bad = 0;
    for (int64_t i = 0; i < cnt; i++) {
        const int ch = (int)(i / sp % c);
        bad += fabsf(y[i] - (x[i] * scale[ch] + shift[ch])) > 1e-6f * (1 + fabsf(y[i])) || inpl[i] != y[i];
    }
    CHECK_MSG(bad == 0, "affine: %d bad", bad);

    for (int pc = 0; pc <= 1; pc++) {
        prelu_fwd_cpu(x, slope, pc, y, n, c, sp, 2);
        memcpy(inpl, x, sizeof(float) * (size_t)cnt);
        prelu_fwd_cpu(inpl, slope, pc, inpl, n, c, sp, 2);
        bad = 0;
        for (int64_t i = 0; i < cnt; i++) {
            const float s = slope[pc ? (int)(i / sp % c) : 0];
            bad += y[i] != (x[i] >= 0 ? x[i] : s * x[i]) || inpl[i] != y[i];
        }
        CHECK_MSG(bad == 0, "prelu (per channel %d): %d bad", pc, bad);
    }

    relu_fwd_cpu(x, y, cnt, 2);
    bad = 0;
    for (int64_t i = 0; i < cnt; i++)
        bad += y[i] != (x[i] > 0 ? x[i] : 0.0f);
    CHECK_MSG(bad == 0, "relu: %d bad", bad);

    for (int op = XFIQ_BIN_ADD; op <= XFIQ_BIN_DIV; op++) {
        binary_fwd_cpu(op, x, x2, y, cnt, 2);
        bad = 0;
        for (int64_t i = 0; i < cnt; i++) {
            const double a = x[i], bb = x2[i];
            const double e = op == XFIQ_BIN_ADD ? a + bb : op == XFIQ_BIN_SUB ? a - bb : op == XFIQ_BIN_MUL ? a * bb : a / bb;
            bad += fabs(y[i] - e) > 1e-6 * (1 + fabs(e));
        }
        CHECK_MSG(bad == 0, "binary op %d: %d bad", op, bad);
        for (int cf = 0; cf <= 1; cf++) {
            const int64_t per = c * sp; /* the constant is x2's first sample */
            binconst_fwd_cpu(op, cf, x, x2, y, n, per, 2);
            bad = 0;
            for (int64_t i = 0; i < cnt; i++) {
                const double a = cf ? x2[i % per] : x[i], bb = cf ? x[i] : x2[i % per];
                const double e =
                    op == XFIQ_BIN_ADD ? a + bb : op == XFIQ_BIN_SUB ? a - bb : op == XFIQ_BIN_MUL ? a * bb : a / bb;
                bad += fabs(y[i] - e) > 1e-6 * (1 + fabs(e));
            }
            CHECK_MSG(bad == 0, "binconst op %d const_first %d: %d bad", op, cf, bad);
        }
    }

    gap_fwd_cpu(x, y, n, c, sp, 2);
    bad = 0;
    for (int p = 0; p < n * c; p++) {
        double s = 0;
        for (int64_t j = 0; j < sp; j++)
            s += x[p * sp + j];
        bad += fabs(y[p] - s / sp) > 1e-6;
    }
    CHECK_MSG(bad == 0, "gap: %d bad", bad);
    free(x), free(x2), free(y), free(inpl), free(scale), free(shift), free(slope);
}

int main(int argc, char **argv)
{
    const int random_cases = argc > 1 ? atoi(argv[1]) : 80;
    printf("conv engine by default: %s\n", ops_conv_avx512_available() ? "avx512" : "blas");
    test_conv_named();
    test_winograd_formula();
    test_conv_random(random_cases);
    test_gemm();
    test_elementwise();
    printf("checked %d conv and %d gemm cases\n", conv_cases, gemm_cases);
    TEST_END();
}
