/* test_ops_bwd.c - the backward-data ops (ops/ops_bwd_cpu.h).
 *
 * Default mode, no reference program needed:
 *  - conv / gemm: the fast path (both GEMM engines, and the Winograd path of
 *    3x3 stride-1 convs next to the direct kernel) equals the reference on
 *    named and random shapes; the reference and the fast path pass the
 *    adjoint identity <dy, F x> = <F^T dy, x> with the FORWARD reference op
 *    (an exact check of the transpose, to float rounding);
 *  - element-wise ops: central differences of the forward ops (float, step
 *    1e-2 or 2e-3, tolerance 1e-3), the adjoint identity for the linear ones;
 *  - accumulate = 1 adds exactly (bitwise dx_old + fresh result);
 *  - bitwise identity across thread counts and batch splits;
 *  - workspace bounds (a canary past the announced size).
 * --torch: PyTorch autograd in float64 (tests/ref/ops_bwd_torch_ref.py, run
 * into a temporary folder)
 * on a set of shapes, both the reference and the fast ops; exit 77 without
 * torch. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ops/elem.h"
#include "ops/ops_bwd_cpu.h"
#include "ops/ops_cpu.h"
#include "ops/ops_internal.h"
#include "test_util.h"
#include "xfiq_test.h"


static float *copy_buf(const float *src, int64_t count)
{
    float *p = malloc(sizeof(float) * (size_t)(count > 0 ? count : 1));
    memcpy(p, src, sizeof(float) * (size_t)count);
    return p;
}


/* accumulate = 1 must give exactly old + fresh in float. */
static int check_accumulated(const float *got, const float *old, const float *fresh, int64_t count)
{
    for (int64_t i = 0; i < count; i++) {
        const float want = old[i] + fresh[i];
        if (memcmp(&got[i], &want, sizeof want) != 0) {
            fprintf(stderr, "accumulate at %lld: %.9g != %.9g + %.9g\n", (long long)i, (double)got[i],
                    (double)old[i], (double)fresh[i]);
            return 0;
        }
    }
    return 1;
}

static double dot(const float *a, const float *b, int64_t count, double *abs_sum)
{
    double s = 0.0, t = 0.0;
    for (int64_t i = 0; i < count; i++) {
        s += (double)a[i] * (double)b[i];
        t += fabs((double)a[i] * (double)b[i]);
    }
    if (abs_sum)
        *abs_sum = t;
    return s;
}

/* <dy, y> == <dx, x> up to float rounding of y and dx. */
static int adjoint_ok(const float *dy, const float *y, int64_t ny, const float *dx, const float *x, int64_t nx,
                      const char *what)
{
    double s1, s2;
    const double l = dot(dy, y, ny, &s1), r = dot(dx, x, nx, &s2);
    const double scale = s1 > s2 ? s1 : s2;
    const int ok = fabs(l - r) <= 1e-5 * (scale > 1e-30 ? scale : 1e-30);
    if (!ok)
        fprintf(stderr, "%s: adjoint <dy,Fx> = %.12g, <F^T dy,x> = %.12g (scale %.3g)\n", what, l, r, scale);
    return ok;
}

/* ------------------------------------------------------------------ conv */

static void desc_finish(xfiq_conv_desc *d)
{
    d->oh = (d->ih + d->pad_t + d->pad_b - d->dh * (d->kh - 1) - 1) / d->sh + 1;
    d->ow = (d->iw + d->pad_l + d->pad_r - d->dw * (d->kw - 1) - 1) / d->sw + 1;
}

static xfiq_conv_desc conv_desc(int cin, int cout, int group, int kh, int kw, int sh, int sw, int dh, int dw, int pt,
                                int pl, int pb, int pr, int ih, int iw)
{
    xfiq_conv_desc d = {cin, cout, group, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, ih, iw, 0, 0};
    desc_finish(&d);
    return d;
}

static const char *engine_name(int e)
{
    return e == OPS_ENGINE_BLAS ? "blas" : e == OPS_ENGINE_DIRECT ? "avx512-direct" : "default";
}

/* The fast backward with a workspace of exactly the announced size, placed
 * off the 64-byte grid, and a canary just past its end. */
static void run_bwd(const float *dy, const float *w, float *dx, const xfiq_conv_desc *d, int n, int acc, int threads,
                    int engine)
{
    const size_t bytes = ops_bwd_workspace(d, threads, engine);
    unsigned char *raw = malloc(bytes + 4 + 64);
    unsigned char *ws = raw + 4;
    memset(ws + bytes, 0xA5, 64);
    ops_conv_bwd(dy, w, dx, d, n, acc, (float *)ws, threads, engine);
    int canary = 1;
    for (int i = 0; i < 64; i++)
        canary &= ws[bytes + i] == 0xA5;
    CHECK_MSG(canary, "conv bwd workspace overrun (%zu bytes announced)", bytes);
    free(raw);
}

static void conv_case(const xfiq_conv_desc *d, int n, const char *label)
{
    char what[256];
    const int64_t nx = (int64_t)n * d->cin * d->ih * d->iw, ny = (int64_t)n * d->cout * d->oh * d->ow;
    const int K = d->cin / d->group * d->kh * d->kw;
    float *w = test_rand_buf((int64_t)d->cout * K, 1.0f / sqrtf((float)K));
    float *dy = test_rand_buf(ny, 1.0f), *x = test_rand_buf(nx, 1.0f);
    float *ref = malloc(sizeof(float) * (size_t)nx), *got = malloc(sizeof(float) * (size_t)nx);
    float *y = malloc(sizeof(float) * (size_t)ny);
    float *old = test_rand_buf(nx, 1.0f), *acc = malloc(sizeof(float) * (size_t)nx);

    conv2d_bwd_data_ref(dy, w, ref, d, n, 0);
    conv2d_fwd_ref(x, w, NULL, y, d, n, XFIQ_ACT_NONE, NULL, 0);
    snprintf(what, sizeof what, "%s n=%d ref", label, n);
    CHECK_MSG(adjoint_ok(dy, y, ny, ref, x, nx, what), "%s", what);
    memcpy(acc, old, sizeof(float) * (size_t)nx);
    conv2d_bwd_data_ref(dy, w, acc, d, n, 1);
    CHECK_MSG(check_accumulated(acc, old, ref, nx), "%s accumulate", what);

    const int engines[3] = {OPS_ENGINE_DEFAULT, OPS_ENGINE_BLAS, OPS_ENGINE_DIRECT};
    for (int e = 0; e < 3; e++) {
        snprintf(what, sizeof what, "%s n=%d %s", label, n, engine_name(engines[e]));
        run_bwd(dy, w, got, d, n, 0, 2, engines[e]);
        CHECK_MSG(test_compare_ops(got, ref, nx, what), "%s", what);
        CHECK_MSG(adjoint_ok(dy, y, ny, got, x, nx, what), "%s", what);
        memcpy(acc, old, sizeof(float) * (size_t)nx);
        run_bwd(dy, w, acc, d, n, 1, 2, engines[e]);
        CHECK_MSG(check_accumulated(acc, old, got, nx), "%s accumulate", what);
        /* Same bits for other thread counts and for one image at a time. */
        for (int t = 1; t <= 3; t += 2) {
            run_bwd(dy, w, acc, d, n, 0, t, engines[e]);
            CHECK_MSG(memcmp(acc, got, sizeof(float) * (size_t)nx) == 0, "%s: threads %d differ from 2", what, t);
        }
        const int64_t sx = nx / n, sy = ny / n;
        for (int i = 0; i < n; i++)
            run_bwd(dy + i * sy, w, acc + i * sx, d, 1, 0, 2, engines[e]);
        CHECK_MSG(memcmp(acc, got, sizeof(float) * (size_t)nx) == 0, "%s: batch split differs", what);
    }
    /* The public entry point is the default engine. */
    {
        const size_t bytes = conv2d_bwd_data_cpu_workspace(d, 2);
        float *ws = malloc(bytes);
        float *pub = malloc(sizeof(float) * (size_t)nx);
        float *def = malloc(sizeof(float) * (size_t)nx);
        conv2d_bwd_data_cpu(dy, w, pub, d, n, 0, ws, 2);
        run_bwd(dy, w, def, d, n, 0, 2, OPS_ENGINE_DEFAULT);
        CHECK_MSG(memcmp(pub, def, sizeof(float) * (size_t)nx) == 0, "%s: conv2d_bwd_data_cpu != default engine",
                  label);
        /* Weights packed ahead of time give the same bits. */
        const size_t pb = conv2d_bwd_data_cpu_pack_bytes(d);
        float *packed = pb ? malloc(pb) : NULL;
        if (packed)
            conv2d_bwd_data_cpu_pack(d, w, packed, 2);
        conv2d_bwd_data_cpu_packed(dy, w, packed, def, d, n, 0, ws, 2);
        CHECK_MSG(memcmp(pub, def, sizeof(float) * (size_t)nx) == 0, "%s: prepacked weights differ (%zu bytes)", label,
                  pb);
        free(packed);
        free(ws);
        free(pub);
        free(def);
    }
    free(w), free(dy), free(x), free(ref), free(got), free(y), free(old), free(acc);
}

static void test_conv_named(void)
{
    struct {
        const char *name;
        xfiq_conv_desc d;
    } c[] = {
        {"stem 3->16 3x3 s1", conv_desc(3, 16, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 12, 11)},
        {"stem 3->8 3x3 s2 odd", conv_desc(3, 8, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 15, 13)},
        {"dilation 2", conv_desc(16, 24, 1, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 10, 9)},
        {"1x1 s1", conv_desc(8, 12, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 9, 7)},
        {"1x1 s2", conv_desc(8, 12, 1, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 9, 7)},
        {"1x1 pad 1", conv_desc(4, 6, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5, 6)},
        {"group 2", conv_desc(12, 12, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 8, 8)},
        {"group 3 s2", conv_desc(12, 18, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 9, 9)},
        {"depthwise s1", conv_desc(16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 9, 10)},
        {"depthwise s2", conv_desc(16, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 11, 9)},
        {"GDC 7x7", conv_desc(16, 16, 16, 7, 7, 1, 1, 1, 1, 0, 0, 0, 0, 7, 7)},
        {"depthwise one output, pad + dilation", conv_desc(5, 5, 5, 3, 3, 2, 2, 2, 2, 1, 1, 0, 0, 4, 5)},
        {"depthwise dil 2", conv_desc(8, 8, 8, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 9, 10)},
        {"depthwise 5x3 s(2,1) asym", conv_desc(8, 8, 8, 5, 3, 2, 1, 1, 1, 2, 1, 1, 0, 12, 9)},
        {"depthwise pad 2", conv_desc(6, 6, 6, 3, 3, 1, 3, 1, 1, 2, 2, 2, 2, 7, 8)},
        {"depthwise s2 pad 2 even", conv_desc(6, 6, 6, 3, 3, 2, 2, 1, 1, 2, 2, 2, 2, 10, 12)},
        {"depthwise s2 pad 0 odd", conv_desc(6, 6, 6, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, 11, 13)},
        {"depthwise s2 pad (0,3)", conv_desc(6, 6, 6, 3, 3, 2, 2, 1, 1, 0, 3, 1, 0, 11, 13)},
        {"3x5 s(2,1) d(1,2) asym", conv_desc(5, 7, 1, 3, 5, 2, 1, 1, 2, 1, 2, 0, 1, 11, 16)},
        {"64->64 3x3 28x28", conv_desc(64, 64, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 28, 28)},
        /* Winograd backward (3x3 s1, pads <= 2): odd map, asymmetric pads, pad 2, pad 0, bands. */
        {"winograd 48->40 13x11", conv_desc(48, 40, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 13, 11)},
        {"winograd 32->24 pads (0,2,1,0)", conv_desc(32, 24, 1, 3, 3, 1, 1, 1, 1, 0, 2, 1, 0, 15, 12)},
        {"winograd 24->32 pad 2", conv_desc(24, 32, 1, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 9, 10)},
        {"winograd 40->40 pad 0", conv_desc(40, 40, 1, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 12, 12)},
        {"winograd 32->512 14x14", conv_desc(32, 512, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 14, 14)},
        {"64->32 3x3 s2 30x30", conv_desc(64, 32, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 30, 30)},
        {"128->64 1x1 14x14", conv_desc(128, 64, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 14, 14)},
        {"40->24 1x1 23x23", conv_desc(40, 24, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 23, 23)},
        {"3->64 3x3 40x40", conv_desc(3, 64, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 40, 40)},
        {"16->16 3x3 100x100", conv_desc(16, 16, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 100, 100)},
        {"512->20 1x1 7x7", conv_desc(512, 20, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 7, 7)},
        {"96->40 3x3 7x7", conv_desc(96, 40, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 7, 7)},
        {"unused border rows", conv_desc(4, 5, 1, 3, 3, 3, 3, 1, 1, 0, 0, 0, 0, 11, 10)},
        {"1x1 on a 1x1 map", conv_desc(40, 24, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1)},
        {"bands: s2 dilation 2", conv_desc(2, 6, 1, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 45, 20)},
        {"bands: 5x5 s3", conv_desc(3, 5, 1, 5, 5, 3, 3, 1, 1, 2, 2, 2, 2, 70, 9)},
        {"bands: stem 3->8 s2 64x64", conv_desc(3, 8, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 64, 64)},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        if (strncmp(c[i].name, "winograd", 8) == 0 && ops_conv_avx512_available()) {
            ops_bwd_plan p;
            ops_bwd_plan_make(&p, &c[i].d, OPS_ENGINE_DEFAULT);
            CHECK_MSG(p.path == OPS_BWD_WINOGRAD, "%s: the Winograd path was not chosen", c[i].name);
        }
        conv_case(&c[i].d, 1, c[i].name);
        conv_case(&c[i].d, 3, c[i].name);
    }
}

static void test_conv_random(void)
{
    char name[128];
    for (int t = 0; t < 40; t++) {
        const int dw = test_rng_int(0, 3) == 0;
        const int group = dw ? test_rng_int(2, 8) : test_rng_int(1, 3);
        const int cin = dw ? group : group * test_rng_int(1, 6), cout = dw ? group : group * test_rng_int(1, 6);
        const int kh = test_rng_int(1, 5), kw = test_rng_int(1, 5), sh = test_rng_int(1, 3), sw = test_rng_int(1, 3);
        const int dh = test_rng_int(1, 2), dwl = test_rng_int(1, 2);
        const int pt = test_rng_int(0, 2), pl = test_rng_int(0, 2), pb = test_rng_int(0, 2), pr = test_rng_int(0, 2);
        int ih = test_rng_int(1, 14), iw = test_rng_int(1, 14);
        if (ih + pt + pb < dh * (kh - 1) + 1)
            ih = dh * (kh - 1) + 1;
        if (iw + pl + pr < dwl * (kw - 1) + 1)
            iw = dwl * (kw - 1) + 1;
        xfiq_conv_desc d = conv_desc(cin, cout, group, kh, kw, sh, sw, dh, dwl, pt, pl, pb, pr, ih, iw);
        snprintf(name, sizeof name, "random %d: %d->%d g%d k%dx%d s%d,%d d%d,%d p%d,%d,%d,%d %dx%d", t, cin, cout,
                 group, kh, kw, sh, sw, dh, dwl, pt, pl, pb, pr, ih, iw);
        conv_case(&d, test_rng_int(1, 3), name);
    }
    /* 3x3 stride-1 shapes the Winograd paths take (most of them): channels
     * past the thresholds, pads 0..2, small odd and even maps. */
    for (int t = 0; t < 12; t++) {
        const int cin = test_rng_int(8, 48), cout = test_rng_int(8, 48);
        const int pt = test_rng_int(0, 2), pl = test_rng_int(0, 2), pb = test_rng_int(0, 2), pr = test_rng_int(0, 2);
        const int ih = test_rng_int(3, 20), iw = test_rng_int(3, 20);
        xfiq_conv_desc d = conv_desc(cin, cout, 1, 3, 3, 1, 1, 1, 1, pt, pl, pb, pr, ih, iw);
        snprintf(name, sizeof name, "random winograd %d: %d->%d p%d,%d,%d,%d %dx%d", t, cin, cout, pt, pl, pb, pr, ih,
                 iw);
        conv_case(&d, test_rng_int(1, 3), name);
    }
}

/* ------------------------------------------------------------------ gemm */

static void gemm_case(int n, int k, int m)
{
    char what[128];
    snprintf(what, sizeof what, "gemm n=%d k=%d m=%d", n, k, m);
    float *w = test_rand_buf((int64_t)m * k, 1.0f / sqrtf((float)(m > 0 ? m : 1)));
    float *dy = test_rand_buf((int64_t)n * m, 1.0f), *x = test_rand_buf((int64_t)n * k, 1.0f);
    float *ref = malloc(sizeof(float) * (size_t)n * k), *got = malloc(sizeof(float) * (size_t)n * k);
    float *y = malloc(sizeof(float) * (size_t)n * m), *old = test_rand_buf((int64_t)n * k, 1.0f);
    float *acc = malloc(sizeof(float) * (size_t)n * k);
    const int64_t nx = (int64_t)n * k;

    gemm_bwd_data_ref(dy, w, ref, n, k, m, 0);
    gemm_fwd_ref(x, w, NULL, y, n, k, m, XFIQ_ACT_NONE, NULL, 0);
    CHECK_MSG(adjoint_ok(dy, y, (int64_t)n * m, ref, x, nx, what), "%s ref", what);
    memcpy(acc, old, sizeof(float) * (size_t)nx);
    gemm_bwd_data_ref(dy, w, acc, n, k, m, 1);
    CHECK_MSG(check_accumulated(acc, old, ref, nx), "%s ref accumulate", what);

    gemm_bwd_data_cpu(dy, w, got, n, k, m, 0, 2);
    CHECK_MSG(test_compare_ops(got, ref, nx, what), "%s", what);
    CHECK_MSG(adjoint_ok(dy, y, (int64_t)n * m, got, x, nx, what), "%s fast", what);
    memcpy(acc, old, sizeof(float) * (size_t)nx);
    gemm_bwd_data_cpu(dy, w, acc, n, k, m, 1, 2);
    CHECK_MSG(check_accumulated(acc, old, got, nx), "%s accumulate", what);
    for (int t = 1; t <= 3; t += 2) {
        gemm_bwd_data_cpu(dy, w, acc, n, k, m, 0, t);
        CHECK_MSG(memcmp(acc, got, sizeof(float) * (size_t)nx) == 0, "%s: threads %d differ", what, t);
    }
    for (int i = 0; i < n; i++)
        gemm_bwd_data_cpu(dy + (int64_t)i * m, w, acc + (int64_t)i * k, 1, k, m, 0, 2);
    CHECK_MSG(memcmp(acc, got, sizeof(float) * (size_t)nx) == 0, "%s: batch split differs", what);
    free(w), free(dy), free(x), free(ref), free(got), free(y), free(old), free(acc);
}

static void test_gemm(void)
{
    const int shapes[][3] = {{1, 1, 1},   {1, 5, 3},    {3, 17, 33},   {4, 64, 10},  {5, 100, 64},
                             {9, 129, 70}, {2, 1000, 37}, {6, 200, 512}, {2, 3136, 96}, {7, 16, 1}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        gemm_case(shapes[i][0], shapes[i][1], shapes[i][2]);
}

/* ---------------------------------------------------------- element-wise */

/* Values with |v| in [lo, hi] and random sign: central differences stay on
 * one side of a kink / away from a pole. */
static float *rand_away(int64_t count, float lo, float hi)
{
    float *p = malloc(sizeof(float) * (size_t)count);
    for (int64_t i = 0; i < count; i++) {
        const float m = lo + (hi - lo) * (0.5f + 0.5f * test_rng_uniform(1.0f));
        p[i] = test_rng_u32() & 1 ? m : -m;
    }
    return p;
}

/* Checks got[i] == dy[i] * (f(x+h)_i - f(x-h)_i) / (x+h - (x-h)) within tol,
 * for an element-wise f (diagonal Jacobian, so all elements move at once). */
typedef void (*fwd_fn)(const float *x, float *y, void *ctx);

static void central_check(fwd_fn f, void *ctx, const float *x, const float *dy, const float *got, int64_t count,
                          float h, double tol, const char *what)
{
    float *xp = malloc(sizeof(float) * (size_t)count), *xm = malloc(sizeof(float) * (size_t)count);
    float *yp = malloc(sizeof(float) * (size_t)count), *ym = malloc(sizeof(float) * (size_t)count);
    for (int64_t i = 0; i < count; i++) {
        xp[i] = x[i] + h;
        xm[i] = x[i] - h;
    }
    f(xp, yp, ctx);
    f(xm, ym, ctx);
    double worst = 0.0;
    int64_t at = 0;
    for (int64_t i = 0; i < count; i++) {
        const double fd = ((double)yp[i] - (double)ym[i]) / ((double)xp[i] - (double)xm[i]);
        const double want = (double)dy[i] * fd, e = fabs((double)got[i] - want) / (1.0 + fabs(want));
        if (!(e <= worst))
            worst = e, at = i;
    }
    CHECK_MSG(worst <= tol, "%s: central difference off by %.3g at %lld (tol %.3g)", what, worst, (long long)at, tol);
    free(xp), free(xm), free(yp), free(ym);
}

typedef struct elem_ctx {
    int n, c, per_channel, op, const_first, which;
    int64_t spatial, count;
    const float *slope, *other, *k;
} elem_ctx;

static void f_prelu(const float *x, float *y, void *v)
{
    elem_ctx *e = v;
    prelu_fwd_cpu(x, e->slope, e->per_channel, y, e->n, e->c, e->spatial, 1);
}

static void f_relu(const float *x, float *y, void *v)
{
    elem_ctx *e = v;
    relu_fwd_cpu(x, y, e->count, 1);
}

/* which = 0: x is a (b = other), 1: x is b (a = other). */
static void f_binary(const float *x, float *y, void *v)
{
    elem_ctx *e = v;
    if (e->which == 0)
        binary_fwd_cpu(e->op, x, e->other, y, e->count, 1);
    else
        binary_fwd_cpu(e->op, e->other, x, y, e->count, 1);
}

static void f_binconst(const float *x, float *y, void *v)
{
    elem_ctx *e = v;
    binconst_fwd_cpu(e->op, e->const_first, x, e->k, y, e->n, e->spatial, 1);
}

/* Runs op twice (accumulate 0 into a buffer, then 1 onto old values) and
 * checks the sum; returns the fresh gradient. */
#define ACC_CHECK(count, what, CALL_INTO)                                           \
    do {                                                                            \
        float *old_ = test_rand_buf((count), 1.0f);                                      \
        float *acc_ = copy_buf(old_, (count));                                      \
        {                                                                           \
            float *out_ = acc_;                                                     \
            const int accumulate_ = 1;                                              \
            CALL_INTO;                                                              \
        }                                                                           \
        CHECK_MSG(check_accumulated(acc_, old_, got, (count)), "%s accumulate", (what)); \
        free(old_), free(acc_);                                                     \
    } while (0)

static void test_prelu_relu(void)
{
    const int n = 3, c = 5;
    const int64_t sp = 4000, count = n * c * sp; /* above the threading threshold */
    float *x = rand_away(count, 0.05f, 2.0f), *dy = test_rand_buf(count, 1.0f);
    float *got = malloc(sizeof(float) * (size_t)count), *t2 = malloc(sizeof(float) * (size_t)count);
    for (int pc = 0; pc < 2; pc++) {
        float *slope = test_rand_buf(pc ? c : 1, 0.8f); /* negative slopes too */
        elem_ctx e = {.n = n, .c = c, .per_channel = pc, .spatial = sp, .count = count, .slope = slope};
        const char *what = pc ? "prelu per channel" : "prelu scalar";
        prelu_bwd_cpu(dy, x, slope, pc, got, n, c, sp, 0, 2);
        central_check(f_prelu, &e, x, dy, got, count, 1e-2f, 1e-3, what);
        ACC_CHECK(count, what, prelu_bwd_cpu(dy, x, slope, pc, out_, n, c, sp, accumulate_, 2));
        prelu_bwd_cpu(dy, x, slope, pc, t2, n, c, sp, 0, 1);
        CHECK_MSG(memcmp(t2, got, sizeof(float) * (size_t)count) == 0, "%s: threads differ", what);
        memcpy(t2, dy, sizeof(float) * (size_t)count);
        prelu_bwd_cpu(t2, x, slope, pc, t2, n, c, sp, 0, 2);
        CHECK_MSG(memcmp(t2, got, sizeof(float) * (size_t)count) == 0, "%s: in place differs", what);
        act_bwd_cpu(XFIQ_ACT_PRELU, dy, x, slope, pc, t2, n, c, sp, 0, 2);
        CHECK_MSG(memcmp(t2, got, sizeof(float) * (size_t)count) == 0, "act_bwd PRELU != prelu_bwd");
        free(slope);
    }
    /* x == 0 takes the slope branch (forward: slope * 0; PyTorch does the same). */
    {
        float z[2] = {0.0f, -0.0f}, g[2] = {1.5f, -2.0f}, s = 0.25f, o[2];
        prelu_bwd_cpu(g, z, &s, 0, o, 1, 1, 2, 0, 1);
        CHECK(o[0] == 0.375f && o[1] == -0.5f);
        relu_bwd_cpu(g, z, o, 2, 0, 1);
        CHECK(o[0] == 0.0f && o[1] == 0.0f);
    }
    elem_ctx e = {.count = count};
    relu_bwd_cpu(dy, x, got, count, 0, 2);
    central_check(f_relu, &e, x, dy, got, count, 1e-2f, 1e-3, "relu");
    ACC_CHECK(count, "relu", relu_bwd_cpu(dy, x, out_, count, accumulate_, 2));
    act_bwd_cpu(XFIQ_ACT_RELU, dy, x, NULL, 0, t2, n, c, sp, 0, 2);
    CHECK_MSG(memcmp(t2, got, sizeof(float) * (size_t)count) == 0, "act_bwd RELU != relu_bwd");
    memcpy(t2, dy, sizeof(float) * (size_t)count);
    relu_bwd_cpu(t2, x, t2, count, 0, 2);
    CHECK_MSG(memcmp(t2, got, sizeof(float) * (size_t)count) == 0, "relu in place differs");
    act_bwd_cpu(XFIQ_ACT_NONE, dy, x, NULL, 0, t2, n, c, sp, 0, 2);
    CHECK_MSG(memcmp(t2, dy, sizeof(float) * (size_t)count) == 0, "act_bwd NONE is not a copy");
    memcpy(got, dy, sizeof(float) * (size_t)count);
    ACC_CHECK(count, "act none", act_bwd_cpu(XFIQ_ACT_NONE, dy, x, NULL, 0, out_, n, c, sp, accumulate_, 2));
    free(x), free(dy), free(got), free(t2);
}

static void test_affine_gap(void)
{
    const int n = 2, c = 7;
    const int64_t sp = 3000, count = n * c * sp;
    float *x = test_rand_buf(count, 1.0f), *dy = test_rand_buf(count, 1.0f), *scale = test_rand_buf(c, 2.0f);
    float *y = malloc(sizeof(float) * (size_t)count), *got = malloc(sizeof(float) * (size_t)count);
    float *t2 = malloc(sizeof(float) * (size_t)count);
    affine_fwd_cpu(x, scale, NULL, y, n, c, sp, 1);
    affine_bwd_cpu(dy, scale, got, n, c, sp, 0, 2);
    CHECK_MSG(adjoint_ok(dy, y, count, got, x, count, "affine"), "affine adjoint");
    for (int64_t i = 0; i < count; i++)
        if (got[i] != dy[i] * scale[(i / sp) % c]) {
            CHECK_MSG(0, "affine element %lld", (long long)i);
            break;
        }
    ACC_CHECK(count, "affine", affine_bwd_cpu(dy, scale, out_, n, c, sp, accumulate_, 2));
    memcpy(t2, dy, sizeof(float) * (size_t)count);
    affine_bwd_cpu(t2, scale, t2, n, c, sp, 0, 3);
    CHECK_MSG(memcmp(t2, got, sizeof(float) * (size_t)count) == 0, "affine in place / threads differ");
    affine_bwd_cpu(dy, NULL, t2, n, c, sp, 0, 2);
    CHECK_MSG(memcmp(t2, dy, sizeof(float) * (size_t)count) == 0, "affine without scale is not a copy");

    /* GAP: y (n, c) from x (n, c, sp). */
    float *gy = malloc(sizeof(float) * (size_t)n * c), *gdy = test_rand_buf((int64_t)n * c, 1.0f);
    gap_fwd_cpu(x, gy, n, c, sp, 1);
    gap_bwd_cpu(gdy, got, n, c, sp, 0, 2);
    CHECK_MSG(adjoint_ok(gdy, gy, (int64_t)n * c, got, x, count, "gap"), "gap adjoint");
    ACC_CHECK(count, "gap", gap_bwd_cpu(gdy, out_, n, c, sp, accumulate_, 2));
    gap_bwd_cpu(gdy, t2, n, c, sp, 0, 1);
    CHECK_MSG(memcmp(t2, got, sizeof(float) * (size_t)count) == 0, "gap threads differ");
    free(x), free(dy), free(scale), free(y), free(got), free(t2), free(gy), free(gdy);
}

static void test_binary(void)
{
    const int64_t count = 40000;
    float *a = rand_away(count, 1.0f, 2.0f), *b = rand_away(count, 1.0f, 2.0f), *dy = test_rand_buf(count, 1.0f);
    float *got = malloc(sizeof(float) * (size_t)count), *gb = malloc(sizeof(float) * (size_t)count);
    float *t2 = malloc(sizeof(float) * (size_t)count), *t3 = malloc(sizeof(float) * (size_t)count);
    static const char *names[4] = {"add", "sub", "mul", "div"};
    for (int op = 0; op < 4; op++) {
        char what[64];
        const float h = op == XFIQ_BIN_DIV ? 2e-3f : 1e-2f;
        binary_bwd_cpu(op, dy, a, b, got, gb, count, 0, 0, 2);
        elem_ctx e = {.op = op, .count = count, .which = 0, .other = b};
        snprintf(what, sizeof what, "binary %s da", names[op]);
        central_check(f_binary, &e, a, dy, got, count, h, 1e-3, what);
        ACC_CHECK(count, what, binary_bwd_cpu(op, dy, a, b, out_, NULL, count, accumulate_, 0, 2));
        binary_bwd_cpu(op, dy, a, b, t2, NULL, count, 0, 0, 1);
        CHECK_MSG(memcmp(t2, got, sizeof(float) * (size_t)count) == 0, "%s: db NULL / threads differ", what);
        e.which = 1;
        e.other = a;
        snprintf(what, sizeof what, "binary %s db", names[op]);
        central_check(f_binary, &e, b, dy, gb, count, h, 1e-3, what);
        memcpy(got, gb, sizeof(float) * (size_t)count);
        ACC_CHECK(count, what, binary_bwd_cpu(op, dy, a, b, NULL, out_, count, 0, accumulate_, 2));
        /* Both gradients with their own flags, in one call. */
        float *oa = test_rand_buf(count, 1.0f), *ob = copy_buf(gb, count);
        memcpy(t2, oa, sizeof(float) * (size_t)count);
        binary_bwd_cpu(op, dy, a, b, t2, t3, count, 1, 0, 3);
        binary_bwd_cpu(op, dy, a, b, ob, NULL, count, 0, 0, 1); /* ob = fresh da */
        CHECK_MSG(check_accumulated(t2, oa, ob, count), "%s: da accumulate with db", names[op]);
        CHECK_MSG(memcmp(t3, gb, sizeof(float) * (size_t)count) == 0, "%s: db with da", names[op]);
        /* y = x op x: da == db, the second one adds. */
        binary_bwd_cpu(op, dy, a, a, t2, t2, count, 0, 1, 2);
        binary_bwd_cpu(op, dy, a, a, oa, NULL, count, 0, 0, 2);
        binary_bwd_cpu(op, dy, a, a, NULL, ob, count, 0, 0, 2);
        CHECK_MSG(check_accumulated(t2, oa, ob, count), "%s: da == db", names[op]);
        free(oa), free(ob);
    }
    free(a), free(b), free(dy), free(got), free(gb), free(t2), free(t3);
}

static void test_binconst(void)
{
    const int n = 3;
    const int64_t ps = 15000, count = n * ps;
    float *x = rand_away(count, 1.0f, 2.0f), *k = rand_away(ps, 1.0f, 2.0f), *dy = test_rand_buf(count, 1.0f);
    float *got = malloc(sizeof(float) * (size_t)count), *t2 = malloc(sizeof(float) * (size_t)count);
    static const char *names[4] = {"add", "sub", "mul", "div"};
    for (int op = 0; op < 4; op++)
        for (int cf = 0; cf < 2; cf++) {
            char what[64];
            snprintf(what, sizeof what, "binconst %s%s", names[op], cf ? " (const first)" : "");
            elem_ctx e = {.op = op, .const_first = cf, .n = n, .spatial = ps, .k = k};
            binconst_bwd_cpu(op, cf, dy, x, k, got, n, ps, 0, 2);
            central_check(f_binconst, &e, x, dy, got, count, op == XFIQ_BIN_DIV ? 2e-3f : 1e-2f, 1e-3, what);
            ACC_CHECK(count, what, binconst_bwd_cpu(op, cf, dy, x, k, out_, n, ps, accumulate_, 2));
            memcpy(t2, dy, sizeof(float) * (size_t)count);
            binconst_bwd_cpu(op, cf, t2, x, k, t2, n, ps, 0, 1);
            CHECK_MSG(memcmp(t2, got, sizeof(float) * (size_t)count) == 0, "%s: in place / threads differ", what);
        }
    free(x), free(k), free(dy), free(got), free(t2);
}

/* ---------------------------------------------------------------- torch */

static float *read_bin(const char *dir, const char *name, const char *key, int64_t count)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s_%s.bin", dir, name, key);
    FILE *f = fopen(path, "rb");
    float *p = malloc(sizeof(float) * (size_t)(count > 0 ? count : 1));
    if (!f || fread(p, sizeof(float), (size_t)count, f) != (size_t)count) {
        fprintf(stderr, "cannot read %lld floats from %s\n", (long long)count, path);
        xfiq_test_failures++;
        memset(p, 0, sizeof(float) * (size_t)count);
    }
    if (f)
        fclose(f);
    return p;
}

/* Compares one op's reference and fast results against PyTorch. */
static void torch_compare(const float *ref, const float *fast, const float *want, int64_t count, const char *kind,
                          const char *name)
{
    char what[256];
    if (ref) {
        snprintf(what, sizeof what, "torch %s %s (ref)", kind, name);
        CHECK_MSG(test_compare_ops(ref, want, count, what), "%s", what);
    }
    snprintf(what, sizeof what, "torch %s %s (fast)", kind, name);
    CHECK_MSG(test_compare_ops(fast, want, count, what), "%s", what);
}

static int torch_cases(const char *dir)
{
    char path[4096], kind[32], name[128];
    snprintf(path, sizeof path, "%s/cases.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "no %s\n", path);
        return 0;
    }
    int cases = 0;
    while (fscanf(f, "%31s %127s", kind, name) == 2) {
        cases++;
        if (!strcmp(kind, "conv")) {
            xfiq_conv_desc d;
            int n;
            if (fscanf(f, "%d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d", &n, &d.cin, &d.cout, &d.group,
                       &d.kh, &d.kw, &d.sh, &d.sw, &d.dh, &d.dw, &d.pad_t, &d.pad_l, &d.pad_b, &d.pad_r, &d.ih,
                       &d.iw, &d.oh, &d.ow) != 18)
                break;
            const int64_t nx = (int64_t)n * d.cin * d.ih * d.iw, ny = (int64_t)n * d.cout * d.oh * d.ow;
            float *dy = read_bin(dir, name, "dy", ny);
            float *w = read_bin(dir, name, "w", (int64_t)d.cout * (d.cin / d.group) * d.kh * d.kw);
            float *want = read_bin(dir, name, "dx", nx);
            float *ref = malloc(sizeof(float) * (size_t)nx), *fast = malloc(sizeof(float) * (size_t)nx);
            float *ws = malloc(conv2d_bwd_data_cpu_workspace(&d, 2));
            conv2d_bwd_data_ref(dy, w, ref, &d, n, 0);
            conv2d_bwd_data_cpu(dy, w, fast, &d, n, 0, ws, 2);
            torch_compare(ref, fast, want, nx, kind, name);
            run_bwd(dy, w, fast, &d, n, 0, 2, OPS_ENGINE_BLAS);
            torch_compare(NULL, fast, want, nx, "conv blas", name);
            free(dy), free(w), free(want), free(ref), free(fast), free(ws);
        } else if (!strcmp(kind, "gemm")) {
            int n, k, m;
            if (fscanf(f, "%d %d %d", &n, &k, &m) != 3)
                break;
            float *dy = read_bin(dir, name, "dy", (int64_t)n * m), *w = read_bin(dir, name, "w", (int64_t)m * k);
            float *want = read_bin(dir, name, "dx", (int64_t)n * k);
            float *ref = malloc(sizeof(float) * (size_t)n * k), *fast = malloc(sizeof(float) * (size_t)n * k);
            gemm_bwd_data_ref(dy, w, ref, n, k, m, 0);
            gemm_bwd_data_cpu(dy, w, fast, n, k, m, 0, 2);
            torch_compare(ref, fast, want, (int64_t)n * k, kind, name);
            free(dy), free(w), free(want), free(ref), free(fast);
        } else if (!strcmp(kind, "affine") || !strcmp(kind, "prelu") || !strcmp(kind, "gap")) {
            int n, c, pc = 0;
            long long sp;
            if (fscanf(f, "%d %d %lld", &n, &c, &sp) != 3 || (!strcmp(kind, "prelu") && fscanf(f, "%d", &pc) != 1))
                break;
            const int64_t count = (int64_t)n * c * sp;
            float *want = read_bin(dir, name, "dx", count), *fast = malloc(sizeof(float) * (size_t)count);
            if (!strcmp(kind, "gap")) {
                float *dy = read_bin(dir, name, "dy", (int64_t)n * c);
                gap_bwd_cpu(dy, fast, n, c, sp, 0, 2);
                free(dy);
            } else {
                float *dy = read_bin(dir, name, "dy", count);
                if (!strcmp(kind, "affine")) {
                    float *s = read_bin(dir, name, "scale", c);
                    affine_bwd_cpu(dy, s, fast, n, c, sp, 0, 2);
                    free(s);
                } else {
                    float *x = read_bin(dir, name, "x", count), *s = read_bin(dir, name, "slope", pc ? c : 1);
                    prelu_bwd_cpu(dy, x, s, pc, fast, n, c, sp, 0, 2);
                    free(x), free(s);
                }
                free(dy);
            }
            torch_compare(NULL, fast, want, count, kind, name);
            free(want), free(fast);
        } else if (!strcmp(kind, "relu")) {
            long long count;
            if (fscanf(f, "%lld", &count) != 1)
                break;
            float *dy = read_bin(dir, name, "dy", count), *x = read_bin(dir, name, "x", count);
            float *want = read_bin(dir, name, "dx", count), *fast = malloc(sizeof(float) * (size_t)count);
            relu_bwd_cpu(dy, x, fast, count, 0, 2);
            torch_compare(NULL, fast, want, count, kind, name);
            free(dy), free(x), free(want), free(fast);
        } else if (!strcmp(kind, "binary")) {
            int op;
            long long count;
            if (fscanf(f, "%d %lld", &op, &count) != 2)
                break;
            float *dy = read_bin(dir, name, "dy", count), *a = read_bin(dir, name, "a", count);
            float *b = read_bin(dir, name, "b", count), *wa = read_bin(dir, name, "da", count);
            float *wb = read_bin(dir, name, "db", count);
            float *da = malloc(sizeof(float) * (size_t)count), *db = malloc(sizeof(float) * (size_t)count);
            binary_bwd_cpu(op, dy, a, b, da, db, count, 0, 0, 2);
            torch_compare(NULL, da, wa, count, "binary da", name);
            torch_compare(NULL, db, wb, count, "binary db", name);
            free(dy), free(a), free(b), free(wa), free(wb), free(da), free(db);
        } else if (!strcmp(kind, "binconst")) {
            int op, cf, n;
            long long ps;
            if (fscanf(f, "%d %d %d %lld", &op, &cf, &n, &ps) != 4)
                break;
            const int64_t count = (int64_t)n * ps;
            float *dy = read_bin(dir, name, "dy", count), *x = read_bin(dir, name, "x", count);
            float *k = read_bin(dir, name, "k", ps), *want = read_bin(dir, name, "dx", count);
            float *fast = malloc(sizeof(float) * (size_t)count);
            binconst_bwd_cpu(op, cf, dy, x, k, fast, n, ps, 0, 2);
            torch_compare(NULL, fast, want, count, kind, name);
            free(dy), free(x), free(k), free(want), free(fast);
        } else {
            fprintf(stderr, "unknown case kind '%s'\n", kind);
            xfiq_test_failures++;
            break;
        }
    }
    fclose(f);
    return cases;
}

static int run_torch(void)
{
    char dir[] = "/tmp/xfiq_ops_bwd_XXXXXX", cmd[8192];
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    const char *py = getenv("XFIQ_PYTHON"), *src = getenv("XFIQ_SOURCE_DIR");
    snprintf(cmd, sizeof cmd, "nice '%s' '%s/tests/ref/ops_bwd_torch_ref.py' '%s'", py && *py ? py : "/usr/bin/python3",
             src && *src ? src : XFIQ_SOURCE_DIR_DEFAULT, dir);
    const int rc = system(cmd);
    if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
        if (rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 77)
            SKIP("PyTorch reference unavailable (tests/ref/ops_bwd_torch_ref.py)");
        fprintf(stderr, "reference script failed\n");
        return 1;
    }
    const int cases = torch_cases(dir);
    printf("compared %d cases against PyTorch autograd (float64)\n", cases);
    CHECK_MSG(cases >= 30, "only %d torch cases read", cases);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (!xfiq_test_failures && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    if (xfiq_test_failures)
        fprintf(stderr, "exchange files kept in %s\n", dir);
    TEST_END();
}

int main(int argc, char **argv)
{
    test_rng_seed(0x2545F4914F6CDD1Dull);
    if (argc > 1 && !strcmp(argv[1], "--torch"))
        return run_torch();
    test_conv_named();
    test_conv_random();
    test_gemm();
    test_prelu_relu();
    test_affine_gap();
    test_binary();
    test_binconst();
    TEST_END();
}
