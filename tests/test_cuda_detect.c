/* test_cuda_detect.c - the --detect networks (fr_detect.onnx, fr_landmark.onnx)
 * on the CUDA backend against the CPU backend (label gpu): each network's
 * raw output for a real photo and for noise, at batch 2, within 1e-4 of the
 * CPU's largest output (the FP32 bound test_cuda_pipeline.c holds the
 * embeddings to), then the faces xfiq_detector_find reports on both. Skips
 * (exit 77) without the models, the photo, the CUDA backend or a device; a
 * device whose backend fails to start is a failure, never a skip. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "engine/runner.h"
#include "graph/graph.h"
#include "onnx/onnx_import.h"
#include "test_util.h"
#include "xfiq.h"
#include "xfiq_image.h"
#include "xfiq_test.h"

#ifdef XFIQ_HAVE_CUDA
/* out (2 x output) from the network on be for x (2 x input). */
static void run_net(xfiq_backend_t be, xfiq_graph *g, const char *model, const float *x, float *out)
{
    xfiq_runner r;
    xfiq_status st = xfiq_runner_init(&r, be, g, model, 0);
    CHECK_OK(st);
    if (st != XFIQ_OK)
        return;
    CHECK_OK(xfiq_runner_reserve(&r, 2));
    float *in = xfiq_runner_input_host(&r);
    CHECK(in != NULL);
    if (in) {
        memcpy(in, x, sizeof(float) * 2 * (size_t)g->values[g->input].numel);
        CHECK_OK(xfiq_runner_run(&r, 2));
        CHECK_OK(xfiq_runner_read(&r, g->output, 2, out));
    }
    xfiq_runner_free(&r);
}

static void compare_net(xfiq_backend_t cpu, xfiq_backend_t gpu, const char *model, const xfiq_image *rgb)
{
    xfiq_graph g;
    CHECK_OK(xfiq_onnx_import(model, &g));
    CHECK_OK(xfiq_graph_optimize(&g, 1));
    const xfiq_value *iv = &g.values[g.input];
    const int C = (int)iv->dims[1], H = (int)iv->dims[2], W = (int)iv->dims[3];
    const int64_t per = iv->numel, outn = g.values[g.output].numel;
    float *x = malloc(sizeof(float) * 2 * (size_t)per), *yc = calloc(2 * (size_t)outn, sizeof(float)),
          *yg = calloc(2 * (size_t)outn, sizeof(float));
    uint8_t *px = malloc((size_t)W * H * 3);
    CHECK_OK(xfiq_image_resize(rgb, W, H, px));
    /* image 0: the photo in roughly the networks' input range; image 1: noise */
    for (int c = 0; c < C; c++)
        for (int i = 0; i < W * H; i++) {
            const uint8_t *p = px + (size_t)i * 3;
            x[(size_t)c * W * H + i] = C == 1 ? (0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]) / 256.0f
                                              : (p[c] - 127.0f) / 128.0f;
        }
    test_rng_seed(5);
    for (int64_t i = 0; i < per; i++)
        x[per + i] = C == 1 ? 0.5f + test_rng_uniform(0.5f) : test_rng_uniform(1.0f);
    run_net(cpu, &g, model, x, yc);
    run_net(gpu, &g, model, x, yg);
    double rel = test_rel_err(yg, yc, 2 * (size_t)outn);
    printf("%s: %lld outputs per image, batch 2: max |cuda - cpu| / max |cpu| = %.2e\n", model, (long long)outn, rel);
    CHECK_MSG(rel < 1e-4, "%s: relative error %.3g", model, rel);
    xfiq_graph_free(&g);
    free(px), free(yg), free(yc), free(x);
}

/* The same faces: count, boxes and landmarks within half a pixel, scores within 1e-3. */
static void compare_faces(xfiq_backend_t cpu, xfiq_backend_t gpu, const char *det, const char *lm,
                          const xfiq_image *img)
{
    xfiq_detector_t dc = NULL, dg = NULL;
    CHECK_OK(xfiq_detector_init(cpu, det, lm, &dc));
    CHECK_OK(xfiq_detector_init(gpu, det, lm, &dg));
    if (!dc || !dg) {
        xfiq_detector_free(dc), xfiq_detector_free(dg);
        return;
    }
    static xfiq_face fc[XFIQ_DETECT_MAX_FACES], fg[XFIQ_DETECT_MAX_FACES];
    int nc = 0, ng = 0;
    CHECK_OK(xfiq_detector_find(dc, img, XFIQ_DETECT_THRESHOLD, XFIQ_FACES_LARGEST, fc, XFIQ_DETECT_MAX_FACES, &nc));
    CHECK_OK(xfiq_detector_find(dg, img, XFIQ_DETECT_THRESHOLD, XFIQ_FACES_LARGEST, fg, XFIQ_DETECT_MAX_FACES, &ng));
    printf("faces: cpu %d, cuda %d\n", nc, ng);
    CHECK_MSG(nc >= 1, "no face found on the photo by the CPU");
    CHECK_MSG(nc == ng, "cpu finds %d faces, cuda %d", nc, ng);
    for (int f = 0; f < nc && f < ng; f++) {
        CHECK_NEAR(fg[f].score, fc[f].score, 1e-3);
        for (int k = 0; k < 4; k++)
            CHECK_NEAR(fg[f].box[k], fc[f].box[k], 0.5);
        for (int p = 0; p < 68; p++)
            for (int k = 0; k < 2; k++)
                CHECK_NEAR(fg[f].lm68[p][k], fc[f].lm68[p][k], 0.5);
    }
    xfiq_detector_free(dg);
    xfiq_detector_free(dc);
}
#endif

int main(void)
{
#ifndef XFIQ_HAVE_CUDA
    (void)xfiq_test_failures;
    SKIP("no CUDA device (the CUDA backend is not built: XFIQ_CUDA=OFF or no nvcc)");
#else
    const char *src = test_env("XFIQ_SOURCE_DIR", "."), *data = test_env("XFIQ_DATA_DIR", "../shared/data");
    char det[4096], lm[4096], photo[4096];
    snprintf(det, sizeof det, "%s/models/.cache/fr_detect.onnx", src);
    snprintf(lm, sizeof lm, "%s/models/.cache/fr_landmark.onnx", src);
    if (!test_file_exists(det) || !test_file_exists(lm))
        SKIP("detector models not fetched (%s): run models/fetch_default.sh", det);
    snprintf(photo, sizeof photo, "%s/magface-toy/5.jpg", data);
    if (!test_file_exists(photo))
        snprintf(photo, sizeof photo, "%s/models/.cache/samples/grace_hopper.jpg", src);
    if (!test_file_exists(photo))
        SKIP("no photo (%s)", photo);
    int devices = xfiq_cuda_device_count();
    if (devices <= 0)
        SKIP("no CUDA device (%d found)", devices);
    xfiq_backend_t cpu = NULL, gpu = NULL;
    CHECK_OK(xfiq_backend_init(&cpu, XFIQ_BACKEND_CPU, 0));
    xfiq_status st = xfiq_backend_init(&gpu, XFIQ_BACKEND_CUDA, 0);
    if (st != XFIQ_OK || !cpu) {
        fprintf(stderr, "FAILED: %d CUDA device(s) but a backend does not start: %s\n", devices, xfiq_last_error());
        return 1;
    }
    xfiq_image img, rgb;
    CHECK_OK(xfiq_image_load(photo, &img));
    CHECK_OK(xfiq_image_to_rgb(&img, &rgb));
    compare_net(cpu, gpu, det, &rgb);
    compare_net(cpu, gpu, lm, &rgb);
    compare_faces(cpu, gpu, det, lm, &img);
    xfiq_image_free(&rgb);
    xfiq_image_free(&img);
    xfiq_backend_free(gpu);
    xfiq_backend_free(cpu);
    TEST_END();
#endif
}
