/* test_cuda_emu.cc - every custom CUDA kernel of the backend, run through
 * its launcher on the CPU emulation (cuda/emu/cuda_emu.h: one host thread per
 * CUDA thread, barriers for __syncthreads and warp shuffles) and compared
 * with the CPU op or stage that shares its formulas. Built with ASan/UBSan,
 * it also checks every index the kernels touch. Each case runs three ways:
 * default launch limits; a grid capped at 2 blocks (the grid-stride loops
 * wrap many times); and 64-bit indices forced on small tensors.
 * Element-wise backward ops, masks and maps must agree bit for bit (same
 * formulas, no FMA contraction on either side); forward ops within 2 ulp
 * (the CPU build may contract x*s + b); sums in double within 1e-12. The
 * detector's layout ops, Softmax and Exp must agree bit for bit with both
 * the CPU reference and the CPU fast path (same C, same host expf here). */
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "elem_cuda.h"
#include "launch.h"
#include "ops_cuda.h"
#include "reduce.h"

extern "C" {
#include "backend/backend.h"
#include "core/status.h"
#include "ops/ops_bwd_cpu.h"
#include "ops/ops_cpu.h"
#include "quality/plq_map.h"
#include "quality/serfiq.h"
#include "xfiq_eval.h"
}

static int g_failures = 0, g_checks = 0;
static const char *g_mode = "";

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        g_checks++;                                                                         \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "[%s] %s:%d: CHECK failed: %s: ", g_mode, __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                                   \
            fprintf(stderr, "\n");                                                          \
            g_failures++;                                                                   \
        }                                                                                   \
    } while (0)

#define CHECK_OK(expr) CHECK((expr) == XFIQ_OK, "%s", xfiq_last_error())

static uint64_t g_rng = 0x243F6A8885A308D3ull;
static float frand()
{
    g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
    return (float)((g_rng >> 40) * (1.0 / 16777216.0) * 2.0 - 1.0);
}
static std::vector<float> rnd(size_t n, float lo_abs = 0.0f)
{
    std::vector<float> v(n);
    for (float &x : v) {
        x = frand();
        if (lo_abs > 0 && std::fabs(x) < lo_abs)
            x = x < 0 ? -lo_abs : lo_abs; /* divisors away from 0 */
    }
    return v;
}
/* Outputs start poisoned: an element no kernel wrote shows as NaN. */
static std::vector<float> poison(size_t n) { return std::vector<float>(n, NAN); }

static void same_bits(const char *what, const std::vector<float> &a, const std::vector<float> &b)
{
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < a.size(); i++)
        if (std::memcmp(&a[i], &b[i], sizeof(float))) {
            if (!bad++)
                first = i;
        }
    CHECK(bad == 0 && a.size() == b.size(), "%s: %zu of %zu differ (first at %zu: %.9g vs %.9g)", what, bad, a.size(),
          first, bad ? a[first] : 0.0, bad ? b[first] : 0.0);
}

static void close_ulp(const char *what, const std::vector<float> &a, const std::vector<float> &b, int ulps)
{
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < a.size(); i++) {
        float x = a[i], y = b[i];
        bool ok = std::isfinite(x) && std::isfinite(y) &&
                  std::fabs(x - y) <= ulps * std::nextafter(std::fabs(y), INFINITY) - ulps * std::fabs(y) + 1e-30f;
        if (!ok && !bad++)
            first = i;
    }
    CHECK(bad == 0, "%s: %zu of %zu beyond %d ulp (first at %zu: %.9g vs %.9g)", what, bad, a.size(), ulps, first,
          bad ? a[first] : 0.0, bad ? b[first] : 0.0);
}

static const cudaStream_t S = nullptr;

/* ------------------------------------------------------------ forward */
static void test_forward()
{
    const int n = 3, c = 5;
    const int64_t sp = 37, count = (int64_t)n * c * sp;
    auto x = rnd(count), sc = rnd(c), sh = rnd(c), sl = rnd(c), b2 = rnd(count, 0.05f), k = rnd(c * sp, 0.05f);
    auto y = poison(count), r = poison(count);
    CHECK_OK(affine_fwd_cuda(x.data(), sc.data(), sh.data(), y.data(), n, c, sp, S));
    affine_fwd_cpu(x.data(), sc.data(), sh.data(), r.data(), n, c, sp, 1);
    /* x*s + b: the CPU build may fuse it (one rounding), the device does not. */
    for (int64_t i = 0; i < count; i++) {
        int ch = (int)((i / sp) % c);
        float bound = 2 * FLT_EPSILON * (std::fabs(x[i] * sc[ch]) + std::fabs(sh[ch]));
        CHECK(std::fabs(y[i] - r[i]) <= bound, "affine fwd %lld: %.9g vs %.9g", (long long)i, y[i], r[i]);
    }
    for (int per = 0; per < 2; per++) {
        y = poison(count), r = poison(count);
        CHECK_OK(prelu_fwd_cuda(x.data(), sl.data(), per, y.data(), n, c, sp, S));
        prelu_fwd_cpu(x.data(), sl.data(), per, r.data(), n, c, sp, 1);
        same_bits("prelu fwd", y, r);
    }
    y = poison(count), r = poison(count);
    CHECK_OK(relu_fwd_cuda(x.data(), y.data(), count, S));
    relu_fwd_cpu(x.data(), r.data(), count, 1);
    same_bits("relu fwd", y, r);
    for (int op = XFIQ_BIN_ADD; op <= XFIQ_BIN_DIV; op++) {
        y = poison(count), r = poison(count);
        CHECK_OK(binary_fwd_cuda(op, x.data(), b2.data(), y.data(), count, S));
        binary_fwd_cpu(op, x.data(), b2.data(), r.data(), count, 1);
        same_bits("binary fwd", y, r);
        for (int cf = 0; cf < 2; cf++) {
            std::vector<float> xs = cf && op == XFIQ_BIN_DIV ? b2 : x;
            y = poison(count), r = poison(count);
            CHECK_OK(binconst_fwd_cuda(op, cf, xs.data(), k.data(), y.data(), n, c * sp, S));
            binconst_fwd_cpu(op, cf, xs.data(), k.data(), r.data(), n, c * sp, 1);
            same_bits("binconst fwd", y, r);
        }
    }
    /* The conv/gemm epilogue against the activation formulas. */
    for (int act = XFIQ_ACT_NONE; act <= XFIQ_ACT_PRELU; act++) {
        y = x, r = poison(count);
        CHECK_OK(bias_act_fwd_cuda(y.data(), sh.data(), act, sl.data(), 1, n, c, sp, S));
        for (int64_t i = 0; i < count; i++) {
            int ch = (int)((i / sp) % c);
            r[i] = xfiq_act(act, x[i] + sh[ch], act == XFIQ_ACT_PRELU ? sl[ch] : 0.0f);
        }
        same_bits("bias_act fwd", y, r);
    }
    /* GAP over odd spatial sizes (warp per row, shuffle tree). */
    for (int64_t spatial : {1, 31, 33, 49, 200}) {
        auto gx = rnd((size_t)n * c * spatial);
        std::vector<float> gy = poison(n * c), gr = poison(n * c);
        CHECK_OK(gap_fwd_cuda(gx.data(), gy.data(), n, c, spatial, S));
        gap_fwd_cpu(gx.data(), gr.data(), n, c, spatial, 1);
        for (int i = 0; i < n * c; i++)
            CHECK(std::fabs(gy[i] - gr[i]) <= 1e-6f * (1 + std::fabs(gr[i])), "gap %lld row %d: %g vs %g",
                  (long long)spatial, i, gy[i], gr[i]);
    }
}

/* Model input: u8 HWC RGB -> float NCHW per the card, all three orders. */
/* bf16 / fp16 staging of the reduced-precision convolutions: the kernels
 * give ops/elem_half.h's bits (itself checked against numpy and PyTorch by
 * test_half), widening writes or accumulates. */
static void test_half_staging()
{
    const int64_t count = 4099;
    auto x = rnd(count, 300.0f);
    x[0] = 1e30f, x[1] = -1e-30f, x[2] = 65520.0f;
    for (int kind = 0; kind < 2; kind++) {
        std::vector<uint16_t> h(count, 0xdead);
        CHECK_OK(half_from_f32_cuda(x.data(), h.data(), count, kind, S));
        long bad = 0;
        for (int64_t i = 0; i < count; i++)
            bad += h[i] != xfiq_f32_to_half(kind, x[i]);
        CHECK(bad == 0, "%s narrowing: %ld of %lld differ", kind ? "fp16" : "bf16", bad, (long long)count);
        for (int acc = 0; acc < 2; acc++) {
            auto base = rnd(count), y = base;
            CHECK_OK(half_to_f32_cuda(h.data(), y.data(), count, kind, acc, S));
            bad = 0;
            for (int64_t i = 0; i < count; i++) {
                const float want = acc ? base[i] + xfiq_half_to_f32(kind, h[i]) : xfiq_half_to_f32(kind, h[i]);
                bad += memcmp(&y[i], &want, sizeof want) != 0;
            }
            CHECK(bad == 0, "%s widening (accumulate %d): %ld differ", kind ? "fp16" : "bf16", acc, bad);
        }
    }
}

static void test_preprocess()
{
    const int n = 2, h = 7, w = 9;
    std::vector<uint8_t> px((size_t)n * h * w * 3);
    for (size_t i = 0; i < px.size(); i++)
        px[i] = (uint8_t)((i * 37 + 11) & 255);
    const float mean[3] = {127.5f, 120.0f, 110.0f}, scale[3] = {1 / 127.5f, 1 / 128.0f, 1 / 64.0f};
    for (int order = XFIQ_ORDER_RGB; order <= XFIQ_ORDER_GREY; order++) {
        int C = order == XFIQ_ORDER_GREY ? 1 : 3;
        auto y = poison((size_t)n * C * h * w), r = poison((size_t)n * C * h * w);
        CHECK_OK(input_preprocess_cuda(px.data(), y.data(), n, h, w, (xfiq_channel_order)order, mean, scale, S));
        int threads = 1;
        CHECK_OK(xfiq_cpu_input_u8(&threads, px.data(), n, h, w, order, mean, scale, r.data()));
        same_bits("preprocess", y, r);
    }
}

/* ------------------------------------------------------- backward-data */
static void test_backward()
{
    const int n = 2, c = 6;
    const int64_t sp = 45, count = (int64_t)n * c * sp;
    auto dy = rnd(count), x = rnd(count), sc = rnd(c), sl = rnd(c), b = rnd(count, 0.05f), k = rnd(c * sp, 0.05f);
    x[3] = 0.0f; /* the x == 0 branch of (P)ReLU */
    for (int acc = 0; acc < 2; acc++) {
        auto base = rnd(count);
        auto y = acc ? base : poison(count), r = acc ? base : poison(count);
        CHECK_OK(affine_bwd_cuda(dy.data(), sc.data(), y.data(), n, c, sp, acc, S));
        affine_bwd_cpu(dy.data(), sc.data(), r.data(), n, c, sp, acc, 1);
        same_bits("affine bwd", y, r);
        y = acc ? base : poison(count), r = acc ? base : poison(count);
        CHECK_OK(affine_bwd_cuda(dy.data(), nullptr, y.data(), n, c, sp, acc, S));
        affine_bwd_cpu(dy.data(), nullptr, r.data(), n, c, sp, acc, 1);
        same_bits("affine bwd (no scale)", y, r);
        for (int per = 0; per < 2; per++) {
            y = acc ? base : poison(count), r = acc ? base : poison(count);
            CHECK_OK(prelu_bwd_cuda(dy.data(), x.data(), sl.data(), per, y.data(), n, c, sp, acc, S));
            prelu_bwd_cpu(dy.data(), x.data(), sl.data(), per, r.data(), n, c, sp, acc, 1);
            same_bits("prelu bwd", y, r);
        }
        y = acc ? base : poison(count), r = acc ? base : poison(count);
        CHECK_OK(relu_bwd_cuda(dy.data(), x.data(), y.data(), count, acc, S));
        relu_bwd_cpu(dy.data(), x.data(), r.data(), count, acc, 1);
        same_bits("relu bwd", y, r);
        for (int op = XFIQ_BIN_ADD; op <= XFIQ_BIN_DIV; op++) {
            auto base2 = rnd(count);
            auto ya = acc ? base : poison(count), yb = base2, ra = acc ? base : poison(count), rb = base2;
            CHECK_OK(binary_bwd_cuda(op, dy.data(), x.data(), b.data(), ya.data(), yb.data(), count, acc, 1, S));
            binary_bwd_cpu(op, dy.data(), x.data(), b.data(), ra.data(), rb.data(), count, acc, 1, 1);
            same_bits("binary bwd da", ya, ra);
            same_bits("binary bwd db", yb, rb);
            /* x op x: both contributions into one buffer, as the adapters do. */
            auto yy = acc ? base : poison(count), rr = acc ? base : poison(count);
            CHECK_OK(binary_bwd_cuda(op, dy.data(), b.data(), b.data(), yy.data(), nullptr, count, acc, 0, S));
            CHECK_OK(binary_bwd_cuda(op, dy.data(), b.data(), b.data(), nullptr, yy.data(), count, 0, 1, S));
            binary_bwd_cpu(op, dy.data(), b.data(), b.data(), rr.data(), nullptr, count, acc, 0, 1);
            binary_bwd_cpu(op, dy.data(), b.data(), b.data(), nullptr, rr.data(), count, 0, 1, 1);
            same_bits("binary bwd x op x", yy, rr);
            for (int cf = 0; cf < 2; cf++) {
                y = acc ? base : poison(count), r = acc ? base : poison(count);
                CHECK_OK(binconst_bwd_cuda(op, cf, dy.data(), b.data(), k.data(), y.data(), n, c * sp, acc, S));
                binconst_bwd_cpu(op, cf, dy.data(), b.data(), k.data(), r.data(), n, c * sp, acc, 1);
                same_bits("binconst bwd", y, r);
            }
        }
        auto gdy = rnd((size_t)n * c);
        y = acc ? base : poison(count), r = acc ? base : poison(count);
        CHECK_OK(gap_bwd_cuda(gdy.data(), y.data(), n, c, sp, acc, S));
        gap_bwd_cpu(gdy.data(), r.data(), n, c, sp, acc, 1);
        same_bits("gap bwd", y, r);
    }
}

/* ------------------------------------------------------ SER-FIQ / PLQ */
static void test_serfiq()
{
    const int B = 3, T = 7, D = 48;
    std::vector<uint64_t> ids = {5, 0x100000003ull, 77};
    for (int kind = 0; kind < 2; kind++) {
        for (int dim : {45, 48, 130}) {
            serfiq_dropout cfg = {};
            cfg.seed = 0xC0FFEE12345ull;
            cfg.p = 0.35f;
            cfg.kind = kind ? SERFIQ_MASK_CHANNEL : SERFIQ_MASK_ELEMENT;
            cfg.dim = kind ? dim / 5 * 5 : dim;
            cfg.spatial = kind ? 5 : 1;
            auto x = rnd((size_t)B * cfg.dim);
            auto y = poison((size_t)B * T * cfg.dim), r = poison((size_t)B * T * cfg.dim);
            CHECK_OK(serfiq_heads_input_cuda(&cfg, ids.data(), x.data(), B, T, y.data(), S));
            CHECK_OK(serfiq_heads_input(&cfg, ids.data(), x.data(), B, T, r.data(), 1));
            same_bits("dropout rows (masks bit-identical)", y, r);
        }
    }
    /* Quality statistics per image, against the CPU stage (serfiq_quality). */
    auto emb = rnd((size_t)B * T * D), z = rnd((size_t)B * D);
    for (int k = 0; k < D; k++)
        emb[(size_t)(1 * T + 2) * D + k] = 0.0f; /* an all-zero pass stays zero */
    std::vector<double> work(serfiq_work_doubles(B, T, D));
    std::vector<serfiq_image_result> g(B), c(B);
    CHECK_OK(serfiq_quality_batch_cuda(emb.data(), z.data(), B, T, D, 104.16, 0.5752, work.data(), g.data(), S));
    CHECK_OK(xfiq_cpu_serfiq_quality(nullptr, emb.data(), z.data(), B, T, D, 104.16, 0.5752, work.data(), c.data()));
    for (int b = 0; b < B; b++) {
        CHECK(std::fabs(g[b].r.mean_dist - c[b].r.mean_dist) <= 1e-12 * c[b].r.mean_dist, "image %d d %.17g vs %.17g",
              b, g[b].r.mean_dist, c[b].r.mean_dist);
        CHECK(std::fabs(g[b].r.q - c[b].r.q) <= 1e-12, "image %d Q %.17g vs %.17g", b, g[b].r.q, c[b].r.q);
        CHECK(std::fabs(g[b].magnitude - c[b].magnitude) <= 1e-12 * c[b].magnitude, "magnitude %d", b);
        CHECK(std::fabs(g[b].sum_e - c[b].sum_e) <= 1e-12, "sum_e %d: %.17g vs %.17g", b, g[b].sum_e, c[b].sum_e);
    }
    /* A non-finite pass gives NaN for that image only. */
    emb[(size_t)(2 * T + 4) * D + 9] = INFINITY;
    CHECK_OK(serfiq_quality_batch_cuda(emb.data(), z.data(), B, T, D, 104.16, 0.5752, work.data(), g.data(), S));
    CHECK(std::isnan(g[2].r.q) && std::isfinite(g[0].r.q) && std::isfinite(g[1].r.q), "NaN only for image 2");
}

static void test_plq()
{
    const int B = 3, D = 40;
    auto z = rnd((size_t)B * D);
    for (int k = 0; k < D; k++)
        z[(size_t)2 * D + k] = 0.0f; /* no direction: zero seed */
    for (int mode = 0; mode <= 2; mode++) {
        std::vector<serfiq_image_result> g(B), c(B);
        for (int b = 0; b < B; b++)
            g[b].r.q = c[b].r.q = 0.2 + 0.3 * b;
        auto ys = poison((size_t)B * D), rs = poison((size_t)B * D);
        CHECK_OK(plq_seed_batch_cuda(mode, z.data(), B, D, g.data(), ys.data(), S));
        CHECK_OK(xfiq_cpu_plq_seed(nullptr, mode, z.data(), B, D, c.data(), rs.data()));
        close_ulp("plq seed", ys, rs, 4);
        for (int b = 0; b < B; b++)
            CHECK(std::fabs(g[b].plq_denom - c[b].plq_denom) <= 1e-12 * (1 + std::fabs(c[b].plq_denom)),
                  "mode %d image %d denom %.17g vs %.17g", mode, b, g[b].plq_denom, c[b].plq_denom);
    }
    /* Maps from model-input gradients for each channel order. */
    const int H = 13, W = 11;
    std::vector<uint8_t> mask((size_t)H * W);
    plq_face_mask_default(H, W, mask.data());
    const float scale[3] = {1 / 127.5f, 1 / 128.0f, 1 / 255.0f};
    for (int order = XFIQ_ORDER_RGB; order <= XFIQ_ORDER_GREY; order++) {
        const int C = order == XFIQ_ORDER_GREY ? 1 : 3;
        auto gx = rnd((size_t)B * C * H * W);
        for (float &v : gx)
            v *= 1e-3f;
        auto ym = poison((size_t)B * H * W), rm = poison((size_t)B * H * W);
        auto yg = poison((size_t)B * H * W), rg = poison((size_t)B * H * W);
        std::vector<serfiq_image_result> g(B), c(B);
        CHECK_OK(plq_map_batch_cuda(gx.data(), B, C, H, W, order, scale, 6.41e11f, 2.0f, mask.data(), ym.data(),
                                    yg.data(), g.data(), S));
        int threads = 1;
        CHECK_OK(xfiq_cpu_plq_map(&threads, gx.data(), B, C, H, W, order, scale, 6.41e11f, 2.0f, mask.data(),
                                  rm.data(), rg.data(), c.data()));
        same_bits("plq map", ym, rm);
        same_bits("plq gradient magnitude", yg, rg);
        for (int b = 0; b < B; b++)
            CHECK(std::fabs(g[b].mean_plq - c[b].mean_plq) <= 1e-12, "mean plq %d: %.17g vs %.17g", b, g[b].mean_plq,
                  c[b].mean_plq);
    }
}

/* ------------------------------------------------------------- scores */
static void test_scores()
{
    const int n = 41, dim = 70;
    auto z = rnd((size_t)n * dim);
    std::vector<double> mag(n, NAN), ref(n);
    CHECK_OK(magnitudes_cuda(z.data(), n, dim, mag.data(), S));
    CHECK_OK(xfiq_embeddings_magnitudes(z.data(), n, dim, ref.data()));
    for (int i = 0; i < n; i++)
        CHECK(std::fabs(mag[i] - ref[i]) <= 1e-13 * ref[i], "magnitude %d: %.17g vs %.17g", i, mag[i], ref[i]);
    const int64_t np = 97;
    std::vector<int64_t> ia(np), ib(np);
    for (int64_t i = 0; i < np; i++)
        ia[i] = (i * 7) % n, ib[i] = (i * 13 + 5) % n;
    xfiq_qmag_params p = {0.077428, 0.125926};
    std::vector<double> c(np, NAN), q(np, NAN), s(np, NAN), rc(np), rq(np), rs(np);
    CHECK_OK(score_pairs_cuda(z.data(), dim, mag.data(), ia.data(), ib.data(), np, &p, c.data(), q.data(), s.data(), S));
    CHECK_OK(xfiq_score_pairs(z.data(), n, dim, NULL, ia.data(), ib.data(), np, &p, rc.data(), rq.data(), rs.data()));
    for (int64_t i = 0; i < np; i++) {
        CHECK(std::fabs(c[i] - rc[i]) <= 1e-13, "pair %lld cos %.17g vs %.17g", (long long)i, c[i], rc[i]);
        CHECK(q[i] == rq[i], "pair %lld q", (long long)i);
        CHECK(std::fabs(s[i] - rs[i]) <= 1e-13, "pair %lld qmag %.17g vs %.17g", (long long)i, s[i], rs[i]);
    }
    /* All-vs-all block: cuBLAS (here OpenBLAS through the shim) + epilogue. */
    CHECK_OK(xfiq_cublas_attach(S));
    const int ng = 19, npr = 22; /* rows 0..40 of z */
    std::vector<float> work(score_block_cuda_work_floats(ng, npr, dim)), out((size_t)ng * npr, NAN),
        rout((size_t)ng * npr);
    for (int qm = 0; qm < 2; qm++) {
        CHECK_OK(score_block_cuda(z.data(), ng, z.data() + (size_t)ng * dim, npr, dim, qm ? &p : nullptr, work.data(),
                                  out.data(), S));
        CHECK_OK(xfiq_score_block(z.data(), ng, z.data() + (size_t)ng * dim, npr, dim, qm ? &p : nullptr, rout.data()));
        for (size_t i = 0; i < out.size(); i++)
            CHECK(std::fabs(out[i] - rout[i]) <= 1e-6f, "block %zu: %.9g vs %.9g", i, out[i], rout[i]);
    }
    xfiq_cublas_detach(S);
    /* Histograms: exact counts, values outside [lo, hi) in the end bins. */
    std::vector<uint8_t> lab(out.size());
    for (size_t i = 0; i < lab.size(); i++)
        lab[i] = (uint8_t)(i % 3 == 0);
    const int bins = 16;
    std::vector<unsigned long long> g(bins, 0), im(bins, 0), rg(bins, 0), ri(bins, 0);
    CHECK_OK(score_histogram_cuda(out.data(), lab.data(), (int64_t)out.size(), -0.25, 0.25, bins, g.data(), im.data(), S));
    for (size_t i = 0; i < out.size(); i++) {
        int b = (int)std::floor((out[i] + 0.25) / (0.5 / bins));
        b = b < 0 ? 0 : b >= bins ? bins - 1 : b;
        (lab[i] ? rg : ri)[b]++;
    }
    CHECK(g == rg && im == ri, "histogram counts differ");
}

/* ------------------------------------------------------- layout ops */
/* The detector's ops against the CPU reference and the CPU fast path. They
 * read their indices and softmax groups from the same C (ops/elem_layout.h)
 * and, here, the same libm expf: everything must agree bit for bit. (On a
 * device expf may differ by 2 ulp: tests/test_cuda_ops.c bounds that.) */
static int g_layout_checks = 0;

static void layout_same(const char *what, const std::vector<float> &got, const std::vector<float> &ref)
{
    int before = g_checks;
    same_bits(what, got, ref);
    g_layout_checks += g_checks - before;
}

static void concat_case(const char *what, int64_t outer, int64_t na, int64_t nb)
{
    auto a = rnd((size_t)(outer * na)), b = rnd((size_t)(outer * nb));
    const size_t count = (size_t)(outer * (na + nb));
    auto y = poison(count), r = poison(count), f = poison(count);
    g_layout_checks++;
    CHECK_OK(concat_fwd_cuda(a.data(), b.data(), y.data(), outer, na, nb, S));
    concat_fwd_ref(a.data(), b.data(), r.data(), outer, na, nb);
    concat_fwd_cpu(a.data(), b.data(), f.data(), outer, na, nb, 2);
    layout_same(what, y, r);
    layout_same(what, f, r);
}

/* a and b of one rank, equal but along axis (a's dims with b's extent there). */
static void concat_axis_case(int n, int ndim, const int64_t *dims, int axis, int64_t b_extent)
{
    xfiq_value va, vb;
    memset(&va, 0, sizeof va), memset(&vb, 0, sizeof vb);
    va.ndim = vb.ndim = ndim;
    for (int d = 0; d < ndim; d++)
        va.dims[d] = vb.dims[d] = dims[d];
    vb.dims[axis] = b_extent;
    int64_t outer, na, nb;
    xfiq_concat_geometry(&va, &vb, axis, n, &outer, &na, &nb);
    char what[96];
    snprintf(what, sizeof what, "concat rank %d axis %d (+%lld)", ndim, axis, (long long)b_extent);
    concat_case(what, outer, na, nb);
}

static void transpose_case(int n, int ndim, const int64_t *dims, const int *perm)
{
    int64_t count = n;
    for (int a = 1; a < ndim; a++)
        count *= dims[a];
    auto x = rnd((size_t)count), y = poison((size_t)count), r = poison((size_t)count), f = poison((size_t)count);
    char what[96];
    int k = snprintf(what, sizeof what, "transpose rank %d perm", ndim);
    for (int a = 0; a < ndim && k < (int)sizeof what - 4; a++)
        k += snprintf(what + k, sizeof what - (size_t)k, " %d", perm[a]);
    g_layout_checks++;
    CHECK_OK(transpose_fwd_cuda(x.data(), y.data(), n, ndim, dims, perm, S));
    transpose_fwd_ref(x.data(), r.data(), n, ndim, dims, perm);
    transpose_fwd_cpu(x.data(), f.data(), n, ndim, dims, perm, 2);
    layout_same(what, y, r);
    layout_same(what, f, r);
}

/* Every permutation of axes 1..ndim-1 (the batch stays first). */
static void transpose_all_perms(int n, int ndim, const int64_t *dims)
{
    int perm[XFIQ_MAX_DIMS];
    for (int a = 0; a < ndim; a++)
        perm[a] = a;
    for (;;) {
        transpose_case(n, ndim, dims, perm);
        /* next permutation of perm[1..ndim-1] in lexicographic order */
        int i = ndim - 2;
        while (i >= 1 && perm[i] > perm[i + 1])
            i--;
        if (i < 1)
            break;
        int j = ndim - 1;
        while (perm[j] < perm[i])
            j--;
        std::swap(perm[i], perm[j]);
        for (int lo = i + 1, hi = ndim - 1; lo < hi; lo++, hi--)
            std::swap(perm[lo], perm[hi]);
    }
}

/* end: one past the last index along each axis (clamped as shape inference does). */
static void slice_case(int n, int ndim, const int64_t *xdims, const int64_t *start, const int64_t *end,
                       const int64_t *step)
{
    int64_t ydims[XFIQ_MAX_DIMS] = {0}, xcount = n, ycount = n;
    ydims[0] = xdims[0];
    for (int a = 1; a < ndim; a++) {
        ydims[a] = end[a] > start[a] ? (end[a] - start[a] + step[a] - 1) / step[a] : 0;
        xcount *= xdims[a], ycount *= ydims[a];
    }
    auto x = rnd((size_t)xcount), y = poison((size_t)ycount), r = poison((size_t)ycount), f = poison((size_t)ycount);
    char what[128];
    int k = snprintf(what, sizeof what, "slice rank %d", ndim);
    for (int a = 1; a < ndim && k < (int)sizeof what - 24; a++)
        k += snprintf(what + k, sizeof what - (size_t)k, " %lld:%lld:%lld", (long long)start[a], (long long)end[a],
                      (long long)step[a]);
    g_layout_checks++;
    CHECK_OK(slice_fwd_cuda(x.data(), y.data(), n, ndim, xdims, start, step, ydims, S));
    slice_fwd_ref(x.data(), r.data(), n, ndim, xdims, start, step, ydims);
    slice_fwd_cpu(x.data(), f.data(), n, ndim, xdims, start, step, ydims, 2);
    layout_same(what, y, r);
    layout_same(what, f, r);
}

static void softmax_case(const char *what, int64_t outer, int64_t len, int64_t inner, float scale)
{
    const size_t count = (size_t)(outer * len * inner);
    auto x = rnd(count);
    for (float &v : x)
        v *= scale; /* wide inputs: the max subtraction matters */
    auto y = poison(count), r = poison(count), f = poison(count);
    g_layout_checks++;
    CHECK_OK(softmax_fwd_cuda(x.data(), y.data(), outer, len, inner, S));
    softmax_fwd_ref(x.data(), r.data(), outer, len, inner);
    softmax_fwd_cpu(x.data(), f.data(), outer, len, inner, 2);
    layout_same(what, y, r);
    layout_same(what, f, r);
    /* and each group sums to 1 (to float rounding of len terms) */
    double worst = 0;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double s = 0;
            for (int64_t j = 0; j < len; j++)
                s += y[(size_t)((o * len + j) * inner + i)];
            worst = std::fmax(worst, std::fabs(s - 1.0));
        }
    g_layout_checks++;
    CHECK(worst <= 2.0 * (double)len * FLT_EPSILON, "%s: a group sums to 1 %+g", what, worst);
}

/* The node's geometry (xfiq_softmax_geometry) in both ONNX modes, on every axis. */
static void softmax_modes(int n, int ndim, const int64_t *dims)
{
    xfiq_value v;
    memset(&v, 0, sizeof v);
    v.ndim = ndim;
    for (int d = 0; d < ndim; d++)
        v.dims[d] = dims[d];
    for (int legacy = 0; legacy < 2; legacy++)
        for (int axis = 1; axis < ndim; axis++) {
            xfiq_layout_desc L;
            memset(&L, 0, sizeof L);
            L.axis = axis, L.legacy = legacy;
            int64_t outer, len, inner;
            xfiq_softmax_geometry(&v, &L, n, &outer, &len, &inner);
            char what[96];
            snprintf(what, sizeof what, "softmax rank %d axis %d%s", ndim, axis, legacy ? " (opset < 13)" : "");
            softmax_case(what, outer, len, inner, 8.0f);
        }
}

static void test_layout()
{
    /* Concat: degenerate rows, 1-element runs, sizes off multiples of 32, an empty input. */
    concat_case("concat 1x(1+1)", 1, 1, 1);
    concat_case("concat 3x(37+5)", 3, 37, 5);
    concat_case("concat 5x(0+33)", 5, 0, 33);
    concat_case("concat 2x(65+0)", 2, 65, 0);
    concat_case("concat 1x(257+31)", 1, 257, 31);
    const int64_t d4[4] = {0, 3, 5, 7}, d5[5] = {0, 1, 4, 1, 33};
    for (int axis = 1; axis < 4; axis++)
        for (int64_t be : {(int64_t)1, (int64_t)6})
            concat_axis_case(2, 4, d4, axis, be);
    for (int axis = 1; axis < 5; axis++)
        concat_axis_case(3, 5, d5, axis, 2);

    /* Transpose: every permutation up to rank 5, 1-element axes, odd extents. */
    const int64_t t2[2] = {0, 37}, t3[3] = {0, 33, 3}, t6[6] = {0, 2, 1, 3, 1, 5};
    transpose_all_perms(3, 2, t2);
    transpose_all_perms(2, 3, t3);
    transpose_all_perms(2, 4, d4);
    transpose_all_perms(1, 5, d5);
    const int p6[6] = {0, 5, 3, 1, 4, 2};
    transpose_case(2, 6, t6, p6);

    /* Slice: steps 1..3, starts inside, 1-element and empty outputs, rank 1 (batch only). */
    const int64_t sx[4] = {0, 7, 9, 33};
    struct {
        int64_t start[4], end[4], step[4];
    } sc[] = {
        {{0, 0, 0, 0}, {0, 7, 9, 33}, {1, 1, 1, 1}},  /* whole */
        {{0, 1, 2, 3}, {0, 6, 9, 32}, {1, 2, 3, 2}},  /* strided on every axis */
        {{0, 6, 8, 32}, {0, 7, 9, 33}, {1, 1, 1, 1}}, /* the last element only */
        {{0, 0, 4, 0}, {0, 7, 5, 33}, {1, 3, 1, 5}},  /* one row of axis 2 */
        {{0, 2, 0, 1}, {0, 2, 9, 33}, {1, 1, 1, 1}},  /* empty along axis 1 */
        {{0, 0, 0, 5}, {0, 7, 9, 6}, {1, 1, 1, 4}},   /* one column */
    };
    for (const auto &c : sc)
        slice_case(3, 4, sx, c.start, c.end, c.step);
    const int64_t s1[1] = {0}, z1[1] = {0}, o1[1] = {1};
    slice_case(5, 1, s1, z1, z1, o1);
    /* The launcher refuses a window outside its input rather than read past it. */
    {
        const int64_t xd[2] = {0, 4}, st[2] = {0, 3}, sp[2] = {1, 1}, yd[2] = {0, 2};
        float xv[8] = {0}, yv[4];
        g_layout_checks++;
        CHECK(slice_fwd_cuda(xv, yv, 2, 2, xd, st, sp, yd, S) == XFIQ_ERR_ARG, "window past the end accepted");
        const int bad[2] = {1, 0};
        g_layout_checks++;
        CHECK(transpose_fwd_cuda(xv, yv, 2, 2, xd, bad, S) == XFIQ_ERR_ARG, "batch moved by a transpose");
        g_layout_checks++;
        CHECK(unary_fwd_cuda(XFIQ_UN_COUNT, xv, yv, 4, S) == XFIQ_ERR_ARG, "unknown unary op accepted");
        xfiq_error_clear();
    }

    /* Softmax: 1-element groups, len 2 (the detector's classes), long groups, strided groups. */
    softmax_case("softmax 1x1x1", 1, 1, 1, 1.0f);
    softmax_case("softmax 37x2x1", 37, 2, 1, 4.0f);
    softmax_case("softmax 3x33x1", 3, 33, 1, 30.0f);
    softmax_case("softmax 2x7x65", 2, 7, 65, 8.0f);
    softmax_case("softmax 1x300x3", 1, 300, 3, 60.0f);
    const int64_t m4[4] = {0, 3, 1, 5};
    softmax_modes(2, 4, m4);
    softmax_modes(3, 3, t3);

    /* fr_detect.onnx's own layout nodes (shapes per image at its 320 x 240
     * input), at batch 1 and 2. */
    for (int n = 1; n <= 2; n++) {
        const int p0231[4] = {0, 2, 3, 1};
        const int64_t heads[][4] = {{0, 12, 4, 5}, {0, 8, 8, 10}, {0, 8, 15, 20}, {0, 12, 30, 40},
                                    {0, 6, 4, 5},  {0, 4, 8, 10}, {0, 4, 15, 20}, {0, 6, 30, 40}};
        for (const auto &h : heads)
            transpose_case(n, 4, h, p0231);
        const int64_t fm[4] = {0, 16, 30, 40};
        concat_axis_case(n, 4, fm, 1, 16);
        const int64_t fm32[4] = {0, 32, 30, 40};
        concat_axis_case(n, 4, fm32, 1, 16);
        for (int64_t w : {(int64_t)4, (int64_t)2}) {
            concat_case("detector priors 3600+600", n, 3600 * w, 600 * w);
            concat_case("detector priors 4200+160", n, 4200 * w, 160 * w);
            concat_case("detector priors 4360+60", n, 4360 * w, 60 * w);
        }
        concat_case("detector box halves", (int64_t)n * 4420, 2, 2);
        concat_case("detector output", n, 8840, 17680);
        const int64_t bx[3] = {0, 4420, 4}, s0[3] = {0, 0, 0}, s2[3] = {0, 0, 2}, e2[3] = {0, 4420, 2},
                      e4[3] = {0, 4420, 4}, one[3] = {1, 1, 1};
        slice_case(n, 3, bx, s0, e2, one);
        slice_case(n, 3, bx, s2, e4, one);
        const int64_t sm[3] = {0, 4420, 2};
        xfiq_value v;
        memset(&v, 0, sizeof v);
        v.ndim = 3, v.dims[1] = 4420, v.dims[2] = 2;
        xfiq_layout_desc L;
        memset(&L, 0, sizeof L);
        L.axis = 2, L.legacy = 1;
        int64_t outer, len, inner;
        xfiq_softmax_geometry(&v, &L, n, &outer, &len, &inner);
        softmax_case("detector class softmax", outer, len, inner, 6.0f);
        softmax_modes(n, 3, sm);
        auto x = rnd((size_t)n * 8840);
        auto y = poison(x.size()), r = poison(x.size());
        g_layout_checks++;
        CHECK_OK(unary_fwd_cuda(XFIQ_UN_EXP, x.data(), y.data(), (int64_t)x.size(), S));
        unary_fwd_ref(XFIQ_UN_EXP, x.data(), r.data(), (int64_t)x.size());
        layout_same("detector exp", y, r);
    }

    /* Exp, including inputs where expf over- and underflows. */
    for (int64_t count : {(int64_t)1, (int64_t)31, (int64_t)1000}) {
        auto x = rnd((size_t)count);
        for (size_t i = 0; i < x.size(); i++)
            x[i] *= i % 7 == 3 ? 120.0f : 10.0f;
        auto y = poison((size_t)count), r = poison((size_t)count), f = poison((size_t)count);
        g_layout_checks++;
        CHECK_OK(unary_fwd_cuda(XFIQ_UN_EXP, x.data(), y.data(), count, S));
        unary_fwd_ref(XFIQ_UN_EXP, x.data(), r.data(), count);
        unary_fwd_cpu(XFIQ_UN_EXP, x.data(), f.data(), count, 2);
        layout_same("exp", y, r);
        layout_same("exp", f, r);
    }
}

/* ------------------------------------------------ the emulator itself */
__global__ void emu_reduce_kernel(const double *x, int n, double *out)
{
    __shared__ double scratch[33];
    double s = 0;
    for (int i = threadIdx.x; i < n; i += blockDim.x)
        s += x[i];
    s = xfiq_cuda::block_sum(s, scratch);
    if (threadIdx.x == 0)
        out[blockIdx.x] = s;
}

static void test_emulator()
{
    std::vector<double> x(1000), out(2, NAN);
    double ref = 0;
    for (size_t i = 0; i < x.size(); i++)
        ref += (x[i] = (double)(i % 17) - 8.0);
    XFIQ_LAUNCH(emu_reduce_kernel, 2, 128, 0, S)(x.data(), (int)x.size(), out.data());
    CHECK(cudaGetLastError() == cudaSuccess, "launch");
    CHECK(out[0] == ref && out[1] == ref, "block sum %g %g vs %g", out[0], out[1], ref);
    /* An impossible launch is refused and reported by the next check. */
    XFIQ_LAUNCH(emu_reduce_kernel, 1, 2048, 0, S)(x.data(), (int)x.size(), out.data());
    CHECK(cudaGetLastError() == cudaErrorInvalidConfiguration, "2048-thread block accepted");
    CHECK(cudaGetLastError() == cudaSuccess, "error not cleared");
}

int main()
{
    test_emulator();
    struct {
        const char *name;
        int64_t max_blocks, i32_limit;
    } modes[] = {{"default limits", 0, 0}, {"grid capped at 2 blocks", 2, 0}, {"64-bit indices", 3, 1}};
    for (const auto &md : modes) {
        g_mode = md.name;
        xfiq_cuda_set_launch_limits(md.max_blocks, md.i32_limit);
        test_forward();
        test_preprocess();
        test_half_staging();
        test_backward();
        test_serfiq();
        test_plq();
        test_scores();
        test_layout();
    }
    xfiq_cuda_set_launch_limits(0, 0);
    if (g_failures) {
        fprintf(stderr, "FAILED: %d of %d checks\n", g_failures, g_checks);
        return 1;
    }
    printf("test_cuda_emu: %d checks over 3 launch configurations (%d of the layout ops)\n", g_checks,
           g_layout_checks);
    printf("PASSED\n");
    return 0;
}
