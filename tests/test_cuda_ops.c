/* test_cuda_ops.c - every CUDA launcher against the CPU reference on random
 * inputs: conv2d and gemm against the double-accumulating *_ref loops, the
 * element-wise ops against the CPU ops (*_cpu, one thread), the epilogue and
 * the model-input kernel against loops over elem.h written here, the
 * detector's layout ops, Softmax and Exp against their *_ref (bounds below). Also checks
 * the CUDA op table, the cuDNN plan cache and the errors for a stream that
 * was never attached. Without a device (or without the CUDA backend) it says
 * "SKIPPED: no CUDA device (...)" and exits 77: it never passes without one. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "backend/backend.h"
#include "core/status.h"
#include "ops/elem.h"
#include "ops/ops_cpu.h"
#include "xfiq_test.h"
#include "compare_util.h"

#ifdef XFIQ_HAVE_CUDA
#include "ops_cuda.h"

static const xfiq_backend_ops *g_ops;
static void *g_ctx;
static const xfiq_backend_opts g_opts = {.num_threads = 1};
static cudaStream_t g_stream;

/* ------------------------------------------------------------ helpers */
static uint64_t g_rng = 0x9E3779B97F4A7C15ull;

static float frand(void) /* uniform in [-1, 1) */
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (float)((g_rng >> 40) * (1.0 / 16777216.0) * 2.0 - 1.0);
}

static float *host_rand(int64_t count)
{
    float *p = malloc((size_t)(count > 0 ? count : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    for (int64_t i = 0; i < count; i++)
        p[i] = frand();
    return p;
}

static float *host_zero(int64_t count)
{
    float *p = calloc((size_t)(count > 0 ? count : 1), sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* A device copy of count floats (NULL host gives NULL). */
static float *dev_from(const float *h, int64_t count)
{
    if (!h)
        return NULL;
    void *d = NULL;
    CHECK_OK(g_ops->mem_alloc(g_ctx, (size_t)count * sizeof(float), &d));
    if (d)
        CHECK_OK(g_ops->upload(g_ctx, d, h, (size_t)count * sizeof(float)));
    return d;
}

static float *dev_alloc(int64_t count)
{
    void *d = NULL;
    CHECK_OK(g_ops->mem_alloc(g_ctx, (size_t)(count > 0 ? count : 1) * sizeof(float), &d));
    return d;
}

static void dev_free(const void *d)
{
    if (d)
        g_ops->mem_free(g_ctx, (void *)d);
}

static float *host_from_dev(const float *d, int64_t count)
{
    float *h = host_zero(count);
    CHECK_OK(g_ops->sync(g_ctx));
    if (d)
        CHECK_OK(g_ops->download(g_ctx, h, d, (size_t)count * sizeof(float)));
    return h;
}


/* ------------------------------------------------------------- conv */
typedef struct conv_case {
    const char *name;
    int n, cin, cout, group, ih, iw, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
    int bias, act, slope_pc;
    int w_offset; /* floats: puts w off 16-byte alignment */
} conv_case;

static xfiq_conv_desc conv_desc_of(const conv_case *c)
{
    xfiq_conv_desc d;
    memset(&d, 0, sizeof d);
    d.cin = c->cin, d.cout = c->cout, d.group = c->group;
    d.kh = c->kh, d.kw = c->kw, d.sh = c->sh, d.sw = c->sw, d.dh = c->dh, d.dw = c->dw;
    d.pad_t = c->pt, d.pad_l = c->pl, d.pad_b = c->pb, d.pad_r = c->pr;
    d.ih = c->ih, d.iw = c->iw;
    d.oh = (c->ih + c->pt + c->pb - c->dh * (c->kh - 1) - 1) / c->sh + 1;
    d.ow = (c->iw + c->pl + c->pr - c->dw * (c->kw - 1) - 1) / c->sw + 1;
    return d;
}

static void run_conv_once(const conv_case *c, const xfiq_conv_desc *d, int n, const float *xh, const float *dx,
                          const float *dw, const float *db, const float *ds, const float *wh, const float *bh,
                          const float *sh, float *dws, size_t ws_bytes, const char *label)
{
    const int64_t ysz = (int64_t)n * d->cout * d->oh * d->ow;
    float *dy = dev_alloc(ysz);
    float *ref = host_zero(ysz);
    conv2d_fwd_ref(xh, wh, bh, ref, d, n, c->act, sh, c->slope_pc);
    CHECK_OK(conv2d_fwd_cuda(dx, dw, db, dy, d, n, c->act, ds, c->slope_pc, dws, ws_bytes, g_stream));
    float *got = host_from_dev(dy, ysz);
    char what[128];
    snprintf(what, sizeof what, "conv %s%s", c->name, label);
    test_compare(what, got, ref, ysz, 1e-5, 1e-4);
    free(got);
    free(ref);
    dev_free(dy);
}

static void test_conv_case(const conv_case *c)
{
    const xfiq_conv_desc d = conv_desc_of(c);
    const int64_t xsz = (int64_t)c->n * c->cin * c->ih * c->iw;
    const int64_t wsz = (int64_t)c->cout * (c->cin / c->group) * c->kh * c->kw;
    float *xh = host_rand(xsz), *wh = host_rand(wsz);
    float *bh = c->bias ? host_rand(c->cout) : NULL;
    float *sh = c->act == XFIQ_ACT_PRELU ? host_rand(c->slope_pc ? c->cout : 1) : NULL;
    float *dx = dev_from(xh, xsz);
    /* the weights sit w_offset floats into their buffer, as params inside one block do */
    float *wbuf = host_zero(wsz + c->w_offset);
    memcpy(wbuf + c->w_offset, wh, (size_t)wsz * sizeof(float));
    float *dwbuf = dev_from(wbuf, wsz + c->w_offset);
    const float *dw = dwbuf ? dwbuf + c->w_offset : NULL;
    float *db = dev_from(bh, c->cout), *ds = dev_from(sh, c->slope_pc ? c->cout : 1);
    int p_align = xfiq_cuda_align(dw);
    if (db && xfiq_cuda_align(db) < p_align)
        p_align = xfiq_cuda_align(db);

    size_t ws_bytes = 0;
    CHECK_OK(conv2d_fwd_cuda_workspace(&d, c->n, c->act, c->bias, p_align, &ws_bytes, g_stream));
    float *dws = ws_bytes ? dev_alloc((int64_t)(ws_bytes / sizeof(float)) + 1) : NULL;

    int plans0 = xfiq_cudnn_plan_count(g_stream);
    run_conv_once(c, &d, c->n, xh, dx, dw, db, ds, wh, bh, sh, dws, ws_bytes, "");
    int plans1 = xfiq_cudnn_plan_count(g_stream);
    CHECK_MSG(plans1 == plans0 + 1, "conv %s: first run should add one plan (%d -> %d)", c->name, plans0, plans1);
    run_conv_once(c, &d, c->n, xh, dx, dw, db, ds, wh, bh, sh, dws, ws_bytes, " (cached plan)");
    CHECK_MSG(xfiq_cudnn_plan_count(g_stream) == plans1, "conv %s: the second run rebuilt its plan", c->name);
    if (c->n > 1) /* a smaller batch than planned, within the same workspace */
        run_conv_once(c, &d, c->n - 1, xh, dx, dw, db, ds, wh, bh, sh, dws, ws_bytes, " (smaller batch)");

    dev_free(dws);
    dev_free(ds);
    dev_free(db);
    dev_free(dwbuf);
    dev_free(dx);
    free(wbuf);
    free(sh);
    free(bh);
    free(wh);
    free(xh);
}

static const conv_case g_conv_cases[] = {
    /* name               n cin cout g  ih  iw kh kw sh sw dh dw pt pl pb pr bias act pc woff */
    {"3x3 dense prelu", 2, 8, 16, 1, 12, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, XFIQ_ACT_PRELU, 1, 0},
    {"3x3 s2 asym pad relu", 3, 6, 8, 1, 11, 9, 3, 3, 2, 2, 1, 1, 0, 1, 1, 0, 1, XFIQ_ACT_RELU, 0, 0},
    {"3x3 depthwise prelu1", 2, 16, 16, 16, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, XFIQ_ACT_PRELU, 0, 0},
    {"3x3 depthwise s2", 2, 16, 16, 16, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, XFIQ_ACT_NONE, 0, 0},
    {"1x1 no bias", 4, 32, 8, 1, 7, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, XFIQ_ACT_NONE, 0, 0},
    {"3x3 dil2 group2 w+1", 2, 8, 8, 2, 13, 13, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, XFIQ_ACT_NONE, 0, 1},
    {"7x7 s2 stem relu", 1, 3, 8, 1, 32, 32, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, 1, XFIQ_ACT_RELU, 0, 0},
    {"7x7 depthwise valid", 2, 8, 8, 8, 7, 7, 7, 7, 1, 1, 1, 1, 0, 0, 0, 0, 0, XFIQ_ACT_NONE, 0, 0},
};
#define N_CONV_CASES (sizeof g_conv_cases / sizeof g_conv_cases[0])

static void test_conv(void)
{
    printf("conv2d_fwd_cuda vs conv2d_fwd_ref\n");
    for (size_t i = 0; i < N_CONV_CASES; i++)
        test_conv_case(&g_conv_cases[i]);
}

/* cuDNN accepts each case's tensors, convolution and (fused) pointwise
 * descriptors: checked before looking for a device, since it needs none. */
static void test_describe(void)
{
    int graphs = 0;
    for (size_t i = 0; i < N_CONV_CASES; i++) {
        const conv_case *c = &g_conv_cases[i];
        const xfiq_conv_desc d = conv_desc_of(c);
        CHECK_OK(xfiq_cudnn_conv_describe(&d, c->n, c->act, c->bias, 0));
        graphs++;
        if (c->act != XFIQ_ACT_PRELU && (c->bias || c->act == XFIQ_ACT_RELU)) {
            CHECK_OK(xfiq_cudnn_conv_describe(&d, c->n, c->act, c->bias, 1));
            graphs++;
        }
    }
    printf("cuDNN accepted the descriptors of %d conv graphs (no device needed)\n", graphs);
    /* cuDNN itself checks the output size against pads, stride and dilation */
    xfiq_conv_desc off = conv_desc_of(&g_conv_cases[1]);
    off.oh += 1;
    CHECK(xfiq_cudnn_conv_describe(&off, 1, XFIQ_ACT_NONE, 1, 0) == XFIQ_ERR_BACKEND);
    off = conv_desc_of(&g_conv_cases[1]);
    off.pad_t = 1, off.pad_b = 0; /* the same rows of padding on the other side: same size */
    CHECK_OK(xfiq_cudnn_conv_describe(&off, 1, XFIQ_ACT_NONE, 1, 0));
    xfiq_conv_desc bad = conv_desc_of(&g_conv_cases[0]);
    bad.group = 3; /* 8 input channels do not split into 3 groups */
    CHECK(xfiq_cudnn_conv_describe(&bad, 1, XFIQ_ACT_NONE, 1, 0) == XFIQ_ERR_SHAPE);
    const xfiq_conv_desc good = conv_desc_of(&g_conv_cases[0]);
    CHECK(xfiq_cudnn_conv_describe(&good, 1, XFIQ_ACT_PRELU, 1, 1) == XFIQ_ERR_ARG); /* PReLU never fuses */
}

/* ------------------------------------------------------------- gemm */
static void test_gemm_case(int n, int k, int m, int bias, int act, int spc)
{
    float *xh = host_rand((int64_t)n * k), *wh = host_rand((int64_t)m * k);
    float *bh = bias ? host_rand(m) : NULL, *sh = act == XFIQ_ACT_PRELU ? host_rand(spc ? m : 1) : NULL;
    float *ref = host_zero((int64_t)n * m);
    gemm_fwd_ref(xh, wh, bh, ref, n, k, m, act, sh, spc);
    float *dx = dev_from(xh, (int64_t)n * k), *dw = dev_from(wh, (int64_t)m * k);
    float *db = dev_from(bh, m), *ds = dev_from(sh, spc ? m : 1), *dy = dev_alloc((int64_t)n * m);
    CHECK_OK(gemm_fwd_cuda(dx, dw, db, dy, n, k, m, act, ds, spc, g_stream));
    float *got = host_from_dev(dy, (int64_t)n * m);
    char what[96];
    snprintf(what, sizeof what, "gemm n%d k%d m%d bias%d act%d", n, k, m, bias, act);
    test_compare(what, got, ref, (int64_t)n * m, 1e-5, 1e-4);
    dev_free(dy), dev_free(ds), dev_free(db), dev_free(dw), dev_free(dx);
    free(got), free(ref), free(sh), free(bh), free(wh), free(xh);
}

static void test_gemm(void)
{
    printf("gemm_fwd_cuda vs gemm_fwd_ref\n");
    test_gemm_case(5, 300, 64, 1, XFIQ_ACT_PRELU, 1);
    test_gemm_case(3, 512, 10, 0, XFIQ_ACT_RELU, 0);
    test_gemm_case(1, 7, 3, 1, XFIQ_ACT_NONE, 0);
    test_gemm_case(64, 2048, 512, 1, XFIQ_ACT_PRELU, 0);
}

/* ------------------------------------------------------ element-wise */
static void test_affine_prelu(void)
{
    const int n = 2, c = 5;
    const int64_t sp = 37, cnt = n * c * sp;
    float *xh = host_rand(cnt), *sc = host_rand(c), *sf = host_rand(c), *ref = host_zero(cnt);
    float *dx = dev_from(xh, cnt), *dsc = dev_from(sc, c), *dsf = dev_from(sf, c), *dy = dev_alloc(cnt);

    affine_fwd_cpu(xh, sc, sf, ref, n, c, sp, 1);
    CHECK_OK(affine_fwd_cuda(dx, dsc, dsf, dy, n, c, sp, g_stream));
    float *got = host_from_dev(dy, cnt);
    test_compare("affine", got, ref, cnt, 1e-6, 1e-6);
    free(got);

    for (int pc = 0; pc <= 1; pc++) {
        prelu_fwd_cpu(xh, sc, pc, ref, n, c, sp, 1);
        CHECK_OK(prelu_fwd_cuda(dx, dsc, pc, dy, n, c, sp, g_stream));
        got = host_from_dev(dy, cnt);
        test_compare(pc ? "prelu per channel" : "prelu scalar", got, ref, cnt, 0.0, 1e-7);
        free(got);
    }

    /* in place, as the engine may run them */
    affine_fwd_cpu(xh, sc, sf, ref, n, c, sp, 1);
    CHECK_OK(affine_fwd_cuda(dx, dsc, dsf, dx, n, c, sp, g_stream));
    got = host_from_dev(dx, cnt);
    test_compare("affine in place", got, ref, cnt, 1e-6, 1e-6);
    free(got);

    dev_free(dy), dev_free(dsf), dev_free(dsc), dev_free(dx);
    free(ref), free(sf), free(sc), free(xh);
}

static void test_relu_binary(void)
{
    const int64_t cnt = 1001;
    float *ah = host_rand(cnt), *bh = host_rand(cnt), *ref = host_zero(cnt);
    for (int64_t i = 0; i < cnt; i++)
        bh[i] = bh[i] >= 0 ? bh[i] + 0.5f : bh[i] - 0.5f; /* away from 0 for DIV */
    float *da = dev_from(ah, cnt), *dbb = dev_from(bh, cnt), *dy = dev_alloc(cnt);

    relu_fwd_cpu(ah, ref, cnt, 1);
    CHECK_OK(relu_fwd_cuda(da, dy, cnt, g_stream));
    float *got = host_from_dev(dy, cnt);
    test_compare("relu", got, ref, cnt, 0.0, 0.0);
    free(got);

    static const char *names[] = {"binary add", "binary sub", "binary mul", "binary div"};
    for (int op = XFIQ_BIN_ADD; op <= XFIQ_BIN_DIV; op++) {
        binary_fwd_cpu(op, ah, bh, ref, cnt, 1);
        CHECK_OK(binary_fwd_cuda(op, da, dbb, dy, cnt, g_stream));
        got = host_from_dev(dy, cnt);
        test_compare(names[op], got, ref, cnt, 0.0, 1e-6);
        free(got);
    }
    CHECK(binary_fwd_cuda(9, da, dbb, dy, cnt, g_stream) == XFIQ_ERR_ARG);

    const int n = 3;
    const int64_t per = cnt / n;
    for (int op = XFIQ_BIN_ADD; op <= XFIQ_BIN_DIV; op++)
        for (int cf = 0; cf <= 1; cf++) {
            binconst_fwd_cpu(op, cf, ah, bh, ref, n, per, 1);
            CHECK_OK(binconst_fwd_cuda(op, cf, da, dbb, dy, n, per, g_stream));
            got = host_from_dev(dy, n * per);
            char what[64];
            snprintf(what, sizeof what, "binconst op%d const_first%d", op, cf);
            test_compare(what, got, ref, n * per, 0.0, 1e-6);
            free(got);
        }

    dev_free(dy), dev_free(dbb), dev_free(da);
    free(ref), free(bh), free(ah);
}

static void test_gap(void)
{
    static const int64_t spatials[] = {1, 49, 3000};
    for (size_t t = 0; t < 3; t++) {
        const int n = 2, c = 7;
        const int64_t sp = spatials[t], cnt = n * c * sp;
        float *xh = host_rand(cnt), *ref = host_zero(n * c);
        float *dx = dev_from(xh, cnt), *dy = dev_alloc(n * c);
        gap_fwd_cpu(xh, ref, n, c, sp, 1);
        CHECK_OK(gap_fwd_cuda(dx, dy, n, c, sp, g_stream));
        float *got = host_from_dev(dy, n * c);
        char what[64];
        snprintf(what, sizeof what, "gap spatial %lld", (long long)sp);
        test_compare(what, got, ref, n * c, 1e-6, 1e-5);
        free(got), free(ref), free(xh);
        dev_free(dy), dev_free(dx);
    }
}

static void test_bias_act(void)
{
    const int n = 3, c = 4;
    const int64_t sp = 9, cnt = n * c * sp;
    float *yh = host_rand(cnt), *bh = host_rand(c), *sh = host_rand(c), *ref = host_zero(cnt);
    static const int acts[] = {XFIQ_ACT_NONE, XFIQ_ACT_RELU, XFIQ_ACT_PRELU};
    for (int a = 0; a < 3; a++)
        for (int pc = 0; pc <= 1; pc++) {
            for (int64_t i = 0; i < cnt; i++) {
                int ch = (int)((i / sp) % c);
                ref[i] = xfiq_act(acts[a], yh[i] + bh[ch], sh[pc ? ch : 0]);
            }
            float *dy = dev_from(yh, cnt), *db = dev_from(bh, c), *ds = dev_from(sh, c);
            CHECK_OK(bias_act_fwd_cuda(dy, db, acts[a], ds, pc, n, c, sp, g_stream));
            float *got = host_from_dev(dy, cnt);
            char what[64];
            snprintf(what, sizeof what, "bias+act %d per_channel %d", acts[a], pc);
            test_compare(what, got, ref, cnt, 0.0, 1e-6);
            free(got);
            dev_free(ds), dev_free(db), dev_free(dy);
        }
    free(ref), free(sh), free(bh), free(yh);
}

static void test_preprocess(void)
{
    const int n = 2, h = 5, w = 4;
    const int64_t npx = (int64_t)n * h * w * 3;
    unsigned char *px = malloc((size_t)npx);
    for (int64_t i = 0; i < npx; i++)
        px[i] = (unsigned char)((i * 37 + 11) % 256);
    const float mean[3] = {127.5f, 120.0f, 110.0f}, scale[3] = {1.0f / 128, 1.0f / 64, 1.0f / 32};
    void *dpx = NULL;
    CHECK_OK(g_ops->mem_alloc(g_ctx, (size_t)npx, &dpx));
    CHECK_OK(g_ops->upload(g_ctx, dpx, px, (size_t)npx));
    float *dy = dev_alloc(npx), *ref = host_zero(npx);
    for (int order = XFIQ_ORDER_RGB; order <= XFIQ_ORDER_BGR; order++) {
        for (int i = 0; i < n; i++)
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < h * w; p++) {
                    int src = order == XFIQ_ORDER_BGR ? 2 - c : c;
                    ref[((int64_t)i * 3 + c) * h * w + p] =
                        xfiq_preprocess(px[((int64_t)i * h * w + p) * 3 + src], mean[c], scale[c]);
                }
        CHECK_OK(input_preprocess_cuda(dpx, dy, n, h, w, (xfiq_channel_order)order, mean, scale, g_stream));
        float *got = host_from_dev(dy, npx);
        test_compare(order == XFIQ_ORDER_BGR ? "input preprocess BGR" : "input preprocess RGB", got, ref, npx, 0.0, 1e-6);
        free(got);
    }
    CHECK(input_preprocess_cuda(dpx, dy, n, h, w, XFIQ_ORDER_GREY, mean, scale, g_stream) == XFIQ_ERR_UNSUPPORTED);
    dev_free(dy);
    g_ops->mem_free(g_ctx, dpx);
    free(ref), free(px);
}

/* ------------------------------------------------------- layout ops */
/* The detector's ops against the CPU references. Concat, Transpose and Slice
 * copy values: bit for bit. Exp: the device's expf is within 2 ulp of the
 * correctly rounded value (CUDA programming guide), glibc's within 1, so
 * 3 ulp. Softmax: each exponential within 3 ulp, the group sum (double, the
 * CPU's order) then inherits at most that relative error, and 1/sum and the
 * product round once each: 8 ulp of the CPU's value. */
static int64_t ulps_apart(float a, float b)
{
    if (a == b)
        return 0;
    if (!isfinite(a) || !isfinite(b))
        return INT64_MAX;
    int32_t ia, ib;
    memcpy(&ia, &a, 4), memcpy(&ib, &b, 4);
    int64_t la = ia < 0 ? (int64_t)INT32_MIN - ia : ia, lb = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
    return la > lb ? la - lb : lb - la;
}

static void compare_ulp(const char *what, const float *got, const float *ref, int64_t count, int64_t ulps)
{
    int64_t bad = 0, first = -1, worst = 0;
    for (int64_t i = 0; i < count; i++) {
        int64_t u = (isinf(got[i]) && got[i] == ref[i]) ? 0 : ulps_apart(got[i], ref[i]);
        if (u > worst)
            worst = u;
        if (u > ulps && !bad++)
            first = i;
    }
    CHECK_MSG(bad == 0, "%s: %lld of %lld beyond %lld ulp (first at %lld: %.9g vs %.9g)", what, (long long)bad,
              (long long)count, (long long)ulps, (long long)first, first >= 0 ? got[first] : 0.0,
              first >= 0 ? ref[first] : 0.0);
    printf("  %-34s worst %lld ulp (bound %lld)\n", what, (long long)worst, (long long)ulps);
}

/* Runs a launcher on device copies of x (and b) and compares with ref. */
static void layout_check(const char *what, const float *ref, int64_t ycount, int64_t ulps, float *dy)
{
    float *got = host_from_dev(dy, ycount);
    compare_ulp(what, got, ref, ycount, ulps);
    free(got);
}

static void test_layout(void)
{
    printf("layout ops (concat, transpose, slice, softmax, exp) vs the CPU references\n");
    /* the detector's tensors at batch 2, and odd ones */
    {
        const int64_t cases[][3] = {{2, 8840, 17680}, {2 * 4420, 2, 2}, {2, 3600 * 4, 600 * 4}, {3, 37, 1}, {1, 1, 1}};
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            const int64_t outer = cases[k][0], na = cases[k][1], nb = cases[k][2], yc = outer * (na + nb);
            float *a = host_rand(outer * na), *b = host_rand(outer * nb), *ref = host_zero(yc);
            float *da = dev_from(a, outer * na), *db = dev_from(b, outer * nb), *dy = dev_alloc(yc);
            concat_fwd_ref(a, b, ref, outer, na, nb);
            CHECK_OK(concat_fwd_cuda(da, db, dy, outer, na, nb, g_stream));
            layout_check("concat", ref, yc, 0, dy);
            dev_free(dy), dev_free(db), dev_free(da);
            free(ref), free(b), free(a);
        }
    }
    {
        const int64_t dims[][4] = {{0, 12, 30, 40}, {0, 6, 4, 5}, {0, 1, 33, 7}};
        const int perms[][4] = {{0, 2, 3, 1}, {0, 2, 3, 1}, {0, 3, 1, 2}};
        for (int k = 0; k < 3; k++) {
            const int n = 2;
            const int64_t c = n * dims[k][1] * dims[k][2] * dims[k][3];
            float *x = host_rand(c), *ref = host_zero(c), *dx = dev_from(x, c), *dy = dev_alloc(c);
            transpose_fwd_ref(x, ref, n, 4, dims[k], perms[k]);
            CHECK_OK(transpose_fwd_cuda(dx, dy, n, 4, dims[k], perms[k], g_stream));
            layout_check("transpose", ref, c, 0, dy);
            dev_free(dy), dev_free(dx);
            free(ref), free(x);
        }
    }
    {
        const int n = 2;
        const int64_t xd[3] = {0, 4420, 4}, st[3] = {0, 0, 2}, sp[3] = {1, 1, 1}, yd[3] = {0, 4420, 2};
        const int64_t xd2[4] = {0, 7, 9, 33}, st2[4] = {0, 1, 2, 3}, sp2[4] = {1, 2, 3, 2}, yd2[4] = {0, 3, 3, 15};
        const int64_t xc = n * 4420 * 4, yc = n * 4420 * 2, xc2 = n * 7 * 9 * 33, yc2 = n * 3 * 3 * 15;
        float *x = host_rand(xc2 > xc ? xc2 : xc), *ref = host_zero(yc > yc2 ? yc : yc2);
        float *dx = dev_from(x, xc2 > xc ? xc2 : xc), *dy = dev_alloc(yc > yc2 ? yc : yc2);
        slice_fwd_ref(x, ref, n, 3, xd, st, sp, yd);
        CHECK_OK(slice_fwd_cuda(dx, dy, n, 3, xd, st, sp, yd, g_stream));
        layout_check("slice (detector boxes)", ref, yc, 0, dy);
        slice_fwd_ref(x, ref, n, 4, xd2, st2, sp2, yd2);
        CHECK_OK(slice_fwd_cuda(dx, dy, n, 4, xd2, st2, sp2, yd2, g_stream));
        layout_check("slice (strided)", ref, yc2, 0, dy);
        dev_free(dy), dev_free(dx);
        free(ref), free(x);
    }
    {
        const int64_t cases[][3] = {{2 * 4420, 2, 1}, {3, 33, 1}, {2, 7, 65}, {1, 1, 1}};
        for (int k = 0; k < 4; k++) {
            const int64_t c = cases[k][0] * cases[k][1] * cases[k][2];
            float *x = host_rand(c), *ref = host_zero(c);
            for (int64_t i = 0; i < c; i++)
                x[i] *= 8.0f;
            float *dx = dev_from(x, c), *dy = dev_alloc(c);
            softmax_fwd_ref(x, ref, cases[k][0], cases[k][1], cases[k][2]);
            CHECK_OK(softmax_fwd_cuda(dx, dy, cases[k][0], cases[k][1], cases[k][2], g_stream));
            layout_check("softmax", ref, c, 8, dy);
            dev_free(dy), dev_free(dx);
            free(ref), free(x);
        }
    }
    {
        const int64_t c = 2 * 8840 + 13;
        float *x = host_rand(c), *ref = host_zero(c);
        /* and some whose exponential overflows to inf or underflows to 0 on both
         * (results in the subnormal range are left out: ulps there mean little) */
        for (int64_t i = 0; i < c; i++)
            x[i] = i % 7 == 3 ? (x[i] < 0 ? -200.0f : 200.0f) : 10.0f * x[i];
        float *dx = dev_from(x, c), *dy = dev_alloc(c);
        unary_fwd_ref(XFIQ_UN_EXP, x, ref, c);
        CHECK_OK(unary_fwd_cuda(XFIQ_UN_EXP, dx, dy, c, g_stream));
        layout_check("exp", ref, c, 3, dy);
        dev_free(dy), dev_free(dx);
        free(ref), free(x);
    }
}

/* Launchers on a stream that no backend attached must say so, not crash. */
static void test_unattached_stream(void)
{
    cudaStream_t other = (cudaStream_t)0; /* the default stream: no backend attaches it */
    float *d = dev_alloc(64);
    xfiq_conv_desc cd = {.cin = 1, .cout = 1, .group = 1, .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                         .ih = 8, .iw = 8, .oh = 8, .ow = 8};
    xfiq_status st = gemm_fwd_cuda(d, d, NULL, d, 1, 1, 1, XFIQ_ACT_NONE, NULL, 0, other);
    CHECK(st == XFIQ_ERR_BACKEND && strstr(xfiq_last_error(), "cuBLAS"));
    st = conv2d_fwd_cuda(d, d, NULL, d, &cd, 1, XFIQ_ACT_NONE, NULL, 0, NULL, 0, other);
    CHECK(st == XFIQ_ERR_BACKEND && strstr(xfiq_last_error(), "cuDNN"));
    CHECK(xfiq_cudnn_plan_count(other) == -1);
    dev_free(d);
}
#endif /* XFIQ_HAVE_CUDA */

int main(void)
{
#ifndef XFIQ_HAVE_CUDA
    (void)xfiq_test_failures;
    SKIP("no CUDA device (the CUDA backend is not built: XFIQ_CUDA=OFF or no nvcc)");
#else
    /* The table itself needs no device. */
    g_ops = xfiq_backend_cuda_ops();
    CHECK(g_ops && g_ops->kind == XFIQ_BACKEND_CUDA && strcmp(g_ops->name, "cuda") == 0);
    /* Every op runs forward on CUDA. The face-recognition ops also have
     * backward-data; the detector's (Concat .. Unary, from XFIQ_OP_CONCAT
     * on) are forward only, and the table must say so, so that the runner
     * refuses a backward runner over them before doing any work. */
    for (int op = 0; op < XFIQ_OP_COUNT; op++) {
        CHECK_MSG(g_ops->supports_op((xfiq_op)op) && g_ops->fwd[op], "op %d has no CUDA forward", op);
        if (op >= XFIQ_OP_CONCAT)
            CHECK_MSG(g_ops->bwd && !g_ops->bwd[op], "op %d claims a CUDA backward-data", op);
        else
            CHECK_MSG(g_ops->bwd && g_ops->bwd[op], "op %d has no CUDA backward-data", op);
    }
    CHECK(g_ops->init && g_ops->destroy && g_ops->mem_alloc && g_ops->mem_free && g_ops->upload &&
          g_ops->download && g_ops->sync && g_ops->stream && g_ops->workspace_bytes);
    test_describe();
    if (xfiq_test_failures)
        TEST_END();

    int devices = xfiq_cuda_device_count();
    if (devices <= 0)
        SKIP("no CUDA device (%d found)", devices);
    /* A device exists: a setup that fails is a failure, never a skip. */
    xfiq_status st = g_ops->init(&g_ctx, &g_opts);
    if (st != XFIQ_OK) {
        fprintf(stderr, "FAILED: %d CUDA device(s) but the backend does not start: %s\n", devices, xfiq_last_error());
        return 1;
    }
    g_stream = (cudaStream_t)g_ops->stream(g_ctx);
    CHECK(g_stream != NULL);
    /* a second attach of the same stream is refused */
    CHECK(xfiq_cublas_attach(g_stream) == XFIQ_ERR_ARG);
    CHECK(xfiq_cudnn_attach(g_stream) == XFIQ_ERR_ARG);
    CHECK(xfiq_cudnn_plan_count(g_stream) == 0);

    test_affine_prelu();
    test_relu_binary();
    test_gap();
    test_bias_act();
    test_preprocess();
    test_gemm();
    test_conv();
    test_layout();
    test_unattached_stream();

    g_ops->destroy(g_ctx);
    TEST_END();
#endif
}
