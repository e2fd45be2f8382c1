/* test_cuda_pipeline.c - whole pipelines on the GPU against the CPU backend
 * (label gpu): embeddings and SER-FIQ qualities within 1e-4 relative in
 * fp32, dropout masks bit-identical, PLQ maps within 1e-3 absolute, a pool
 * over every device equal to one device, pair scores on the device equal to
 * the host's, and the reduced precisions near
 * FP32 (embedding relative L2: TF32 1e-2, BF16 5e-2, FP16 1e-2).
 * Models: the tiny iResNet and MobileFaceNet goldens, and the default model
 * when it has been fetched. Without a device (or without the CUDA backend)
 * it says SKIPPED and exits 77; with a device whose setup fails it FAILS. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "quality/serfiq.h"
#include "test_util.h"
#include "xfiq.h"
#include "xfiq_eval.h"
#include "xfiq_quality.h"
#include "xfiq_test.h"

static uint64_t g_rng = 0x2545F4914F6CDD1Dull;
static uint32_t next_u32(void)
{
    g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 32);
}

static double rel_l2(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(a[i]))
            return INFINITY;
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num / (den > 0 ? den : 1));
}

#ifdef XFIQ_HAVE_CUDA
/* The dropout rows of the device stage equal the CPU's bit for bit. */
static void check_masks(xfiq_backend_t gpu)
{
    const int B = 5, T = 9, E = 1000;
    const xfiq_backend_ops *ops = gpu->ops;
    serfiq_dropout cfg = {.seed = 0x5EED, .p = 0.5f, .kind = SERFIQ_MASK_ELEMENT, .dim = E, .spatial = 1};
    uint64_t ids[5] = {0, 1, 77, 1ull << 40, 3};
    float *x = malloc(sizeof(float) * B * E), *cpu = malloc(sizeof(float) * B * T * E), *got = malloc(sizeof(float) * B * T * E);
    for (int i = 0; i < B * E; i++)
        x[i] = (float)(next_u32() % 2001) / 1000.0f - 1.0f;
    void *dx = NULL, *dids = NULL, *dout = NULL;
    CHECK_OK(ops->mem_alloc(gpu->ctx, sizeof(float) * B * E, &dx));
    CHECK_OK(ops->mem_alloc(gpu->ctx, sizeof ids, &dids));
    CHECK_OK(ops->mem_alloc(gpu->ctx, sizeof(float) * B * T * E, &dout));
    CHECK_OK(ops->upload(gpu->ctx, dx, x, sizeof(float) * B * E));
    CHECK_OK(ops->upload(gpu->ctx, dids, ids, sizeof ids));
    CHECK_OK(ops->heads_input(gpu->ctx, &cfg, dids, dx, B, T, dout));
    CHECK_OK(ops->download(gpu->ctx, got, dout, sizeof(float) * B * T * E));
    CHECK_OK(serfiq_heads_input(&cfg, ids, x, B, T, cpu, 1));
    CHECK_MSG(!memcmp(got, cpu, sizeof(float) * B * T * E), "device dropout rows differ from the CPU's");
    ops->mem_free(gpu->ctx, dx), ops->mem_free(gpu->ctx, dids), ops->mem_free(gpu->ctx, dout);
    free(x), free(cpu), free(got);
}

/* Pair scores on the device (xfiq_backend_score_pairs) against the CPU's:
 * cosines to 1e-13 (only the order of a double sum differs), pair qualities
 * identical (the same host magnitudes), QMagFace to 1e-12; errors the same. */
static void check_scores(xfiq_backend_t cpu, xfiq_backend_t gpu)
{
    const int n = 311, d = 512;
    const int64_t np = 50000;
    float *z = malloc(sizeof(float) * n * d);
    int64_t *ia = malloc(sizeof(int64_t) * np), *ib = malloc(sizeof(int64_t) * np);
    double *out[6];
    for (int k = 0; k < 6; k++)
        out[k] = malloc(sizeof(double) * np);
    for (int i = 0; i < n * d; i++)
        z[i] = (float)((int)(next_u32() % 20001) - 10000) * 1e-3f;
    for (int64_t i = 0; i < np; i++)
        ia[i] = next_u32() % n, ib[i] = next_u32() % n;
    xfiq_qmag_params p;
    CHECK_OK(xfiq_qmag_preset("magface-100", &p));
    CHECK_OK(xfiq_backend_score_pairs(cpu, z, n, d, ia, ib, np, &p, out[0], out[1], out[2]));
    CHECK_OK(xfiq_backend_score_pairs(gpu, z, n, d, ia, ib, np, &p, out[3], out[4], out[5]));
    double dc = 0, dv = 0;
    int64_t dq = 0;
    for (int64_t i = 0; i < np; i++) {
        dc = fmax(dc, fabs(out[0][i] - out[3][i]));
        dv = fmax(dv, fabs(out[2][i] - out[5][i]));
        dq += out[1][i] != out[4][i];
    }
    printf("pair scores on the device, %lld pairs: cosine max |diff| %.2e, QMagFace %.2e, %lld qualities differ\n",
           (long long)np, dc, dv, (long long)dq);
    CHECK(dc < 1e-13 && dv < 1e-12 && dq == 0);
    memset(z + 7 * d, 0, sizeof(float) * d);
    ia[3] = 7;
    CHECK(xfiq_backend_score_pairs(gpu, z, n, d, ia, ib, np, NULL, out[3], NULL, NULL) == XFIQ_ERR_ARG);
    CHECK(strstr(xfiq_last_error(), "row 7 is all zeros") != NULL);
    free(z), free(ia), free(ib);
    for (int k = 0; k < 6; k++)
        free(out[k]);
}

#define N_REDUCED 3 /* tf32, bf16, fp16 */
static const char *const k_red_name[N_REDUCED] = {"tf32", "bf16", "fp16"};
static const double k_red_tol[N_REDUCED] = {1e-2, 5e-2, 1e-2};

static void compare_model(const char *onnx, const char *card, xfiq_backend_t cpu, xfiq_backend_t gpu,
                          xfiq_backend_t red[N_REDUCED])
{
    xfiq_model_t mc = NULL, mg = NULL, mt = NULL;
    CHECK_OK(xfiq_model_load(cpu, onnx, card, &mc));
    CHECK_OK(xfiq_model_load(gpu, onnx, card, &mg));
    if (!mc || !mg)
        return;
    xfiq_model_info info;
    xfiq_model_get_info(mc, &info);
    const int n = 37, D = info.embedding_dim;
    const size_t img = (size_t)info.input_width * info.input_height * 3, hw = (size_t)info.input_width * info.input_height;
    uint8_t *px = malloc(img * n);
    for (size_t i = 0; i < img * n; i++)
        px[i] = (uint8_t)(next_u32() & 255);
    uint64_t ids[37];
    for (int i = 0; i < n; i++)
        ids[i] = 1000 + 3 * (uint64_t)i;
    float *ec = malloc(sizeof(float) * n * D), *eg = malloc(sizeof(float) * n * D);
    CHECK_OK(xfiq_model_embed(mc, px, n, ec, NULL));
    CHECK_OK(xfiq_model_embed(mg, px, n, eg, NULL));
    double e = 0;
    for (int i = 0; i < n; i++) {
        double r = rel_l2(eg + (size_t)i * D, ec + (size_t)i * D, (size_t)D);
        e = r > e ? r : e;
    }
    printf("%s: embed fp32 max rel err %.2e\n", onnx, e);
    CHECK_MSG(e < 1e-4, "embeddings differ: %g", e);
    for (int r = 0; r < N_REDUCED; r++) {
        mt = NULL;
        CHECK_OK(xfiq_model_load(red[r], onnx, card, &mt));
        if (!mt)
            continue;
        CHECK_OK(xfiq_model_embed(mt, px, n, eg, NULL));
        double t = rel_l2(eg, ec, (size_t)n * D);
        printf("%s: embed %s rel err %.2e (limit %.0e)\n", onnx, k_red_name[r], t, k_red_tol[r]);
        CHECK_MSG(t < k_red_tol[r], "%s embeddings too far from fp32: %g", k_red_name[r], t);
        xfiq_model_free(mt);
    }
    xfiq_serfiq_opts so;
    xfiq_serfiq_opts_default(mc, 0, &so);
    xfiq_quality qc[37], qg[37];
    CHECK_OK(xfiq_model_serfiq(mc, px, n, ids, &so, qc, NULL));
    CHECK_OK(xfiq_model_serfiq(mg, px, n, ids, &so, qg, NULL));
    double dq = 0;
    for (int i = 0; i < n; i++) {
        double r = fabs((double)qg[i].serfiq_raw - qc[i].serfiq_raw) / fabs(qc[i].serfiq_raw);
        dq = r > dq ? r : dq;
        CHECK_MSG(fabs(qg[i].magnitude - qc[i].magnitude) <= 1e-4 * qc[i].magnitude, "magnitude %d", i);
    }
    printf("%s: SER-FIQ raw max rel err %.2e\n", onnx, dq);
    CHECK_MSG(dq < 1e-4, "SER-FIQ differs: %g", dq);
    for (int mode = XFIQ_PLQ_PAPER; mode <= XFIQ_PLQ_MAGNITUDE; mode++) {
        xfiq_plq_opts po;
        xfiq_plq_opts_default(mc, 0, &po);
        po.mode = (xfiq_plq_mode)mode;
        float *mcpu = malloc(sizeof(float) * n * hw), *mgpu = malloc(sizeof(float) * n * hw);
        CHECK_OK(xfiq_model_plq(mc, px, n, ids, &po, qc, mcpu, NULL));
        CHECK_OK(xfiq_model_plq(mg, px, n, ids, &po, qg, mgpu, NULL));
        double dm = 0;
        for (size_t i = 0; i < n * hw; i++) {
            double d = fabs((double)mcpu[i] - mgpu[i]);
            dm = d > dm ? d : dm;
        }
        printf("%s: PLQ %s max abs map difference %.2e\n", onnx, xfiq_plq_mode_name((xfiq_plq_mode)mode), dm);
        CHECK_MSG(dm < 1e-3, "PLQ maps differ by %g", dm);
        free(mcpu), free(mgpu);
    }
    free(px), free(ec), free(eg);
    xfiq_model_free(mc);
    xfiq_model_free(mg);
}

/* A pool over every device gives what one device gives. */
static void check_pool(const char *onnx, const char *card, int devices)
{
    xfiq_backend_t bes[16];
    int nb = devices < 16 ? devices : 16;
    for (int d = 0; d < nb; d++) {
        xfiq_backend_opts o;
        xfiq_backend_opts_default(&o);
        o.device = d;
        CHECK_OK(xfiq_backend_init_opts(&bes[d], XFIQ_BACKEND_CUDA, &o));
    }
    xfiq_pool_t all = NULL, one = NULL;
    CHECK_OK(xfiq_pool_create(bes, nb, onnx, card, &all));
    CHECK_OK(xfiq_pool_create(bes, 1, onnx, card, &one));
    if (all && one) {
        xfiq_model_info info;
        xfiq_model_get_info(xfiq_pool_model(one, 0), &info);
        const int n = 53, D = info.embedding_dim;
        const size_t img = (size_t)info.input_width * info.input_height * 3;
        uint8_t *px = malloc(img * n);
        for (size_t i = 0; i < img * n; i++)
            px[i] = (uint8_t)(next_u32() & 255);
        float *a = malloc(sizeof(float) * n * D), *b = malloc(sizeof(float) * n * D);
        CHECK_OK(xfiq_pool_embed(all, px, n, a, NULL));
        CHECK_OK(xfiq_pool_embed(one, px, n, b, NULL));
        double e = rel_l2(a, b, (size_t)n * D);
        printf("pool of %d device(s) vs one: embed rel err %.2e\n", nb, e);
        CHECK_MSG(e < 1e-5, "pool differs: %g", e);
        free(px), free(a), free(b);
    }
    xfiq_pool_free(all);
    xfiq_pool_free(one);
    for (int d = 0; d < nb; d++)
        xfiq_backend_free(bes[d]);
}
#endif

int main(void)
{
#ifndef XFIQ_HAVE_CUDA
    (void)xfiq_test_failures, (void)rel_l2, (void)next_u32;
    SKIP("no CUDA device (the CUDA backend is not built)");
#else
    int devices = xfiq_backend_available(XFIQ_BACKEND_CUDA) ? xfiq_cuda_device_count() : 0;
    if (devices <= 0)
        SKIP("no CUDA device");
    xfiq_backend_t cpu = NULL, gpu = NULL, red[N_REDUCED] = {NULL, NULL, NULL};
    xfiq_backend_opts o;
    xfiq_backend_opts_default(&o);
    if (xfiq_backend_init(&cpu, XFIQ_BACKEND_CPU, 0) != XFIQ_OK ||
        xfiq_backend_init_opts(&gpu, XFIQ_BACKEND_CUDA, &o) != XFIQ_OK) {
        fprintf(stderr, "FAILED: %d CUDA device(s) but a backend does not start: %s\n", devices, xfiq_last_error());
        return 1;
    }
    for (int r = 0; r < N_REDUCED; r++) {
        o.precision = (xfiq_precision)(XFIQ_PRECISION_TF32 + r);
        CHECK_OK(xfiq_backend_init_opts(&red[r], XFIQ_BACKEND_CUDA, &o));
    }
    check_masks(gpu);
    check_scores(cpu, gpu);
    char onnx[1024], card[1024];
    const char *fx = test_env("XFIQ_FIXTURE_DIR", "fixtures"), *src = test_env("XFIQ_SOURCE_DIR", ".");
    const char *tiny[] = {"iresnet_tiny", "mfn_tiny"};
    for (int k = 0; k < 2; k++) {
        snprintf(onnx, sizeof onnx, "%s/golden/%s.onnx", fx, tiny[k]);
        snprintf(card, sizeof card, "%s/golden/%s.card.json", fx, tiny[k]);
        compare_model(onnx, card, cpu, gpu, red);
    }
    snprintf(onnx, sizeof onnx, "%s/models/.cache/fr_feature.onnx", src);
    snprintf(card, sizeof card, "%s/models/.cache/fr_feature.card.json", src);
    FILE *f = fopen(onnx, "rb");
    if (f) {
        fclose(f);
        compare_model(onnx, card, cpu, gpu, red);
    } else {
        printf("default model not fetched (%s): tiny models only\n", onnx);
    }
    snprintf(onnx, sizeof onnx, "%s/golden/iresnet_tiny.onnx", fx);
    snprintf(card, sizeof card, "%s/golden/iresnet_tiny.card.json", fx);
    check_pool(onnx, card, devices);
    for (int r = 0; r < N_REDUCED; r++)
        xfiq_backend_free(red[r]);
    xfiq_backend_free(gpu);
    xfiq_backend_free(cpu);
    TEST_END();
#endif
}
