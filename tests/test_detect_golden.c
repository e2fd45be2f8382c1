/* test_detect_golden.c - the face detector and the 68-point landmark network
 * (models/.cache, fetched by models/fetch_default.sh) run by xfiq's engine
 * against an independent run of the same ONNX graphs with PyTorch ops in
 * float64 (tests/ref/onnx_torch_ref.py), at batch 2 (a real photo and noise),
 * which also checks that the detector's Shape/Gather/Reshape chains follow
 * the batch. Skips when the models or /usr/bin/python3 with torch are absent. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "engine/runner.h"
#include "graph/graph.h"
#include "io/npy.h"
#include "onnx/onnx_import.h"
#include "test_util.h"
#include "xfiq.h"
#include "xfiq_image.h"
#include "xfiq_test.h"

static void golden(xfiq_backend_t be, const char *model, const char *photo, const char *py, const char *src,
                   const char *fix, const char *tag)
{
    xfiq_graph g;
    CHECK_OK(xfiq_onnx_import(model, &g));
    CHECK_OK(xfiq_graph_optimize(&g, 1));
    const xfiq_value *in = &g.values[g.input];
    const int C = (int)in->dims[1], H = (int)in->dims[2], W = (int)in->dims[3];
    const int64_t per = in->numel, outn = g.values[g.output].numel;
    float *x = malloc(sizeof(float) * 2 * (size_t)per), *y = malloc(sizeof(float) * 2 * (size_t)outn);
    /* Image 0: the photo resized to the input, scaled as the package does;
     * image 1: uniform noise in the same range. */
    xfiq_image img;
    CHECK_OK(xfiq_image_load(photo, &img));
    xfiq_image rgb;
    CHECK_OK(xfiq_image_to_rgb(&img, &rgb));
    uint8_t *px = malloc((size_t)W * H * 3);
    CHECK_OK(xfiq_image_resize(&rgb, W, H, px));
    for (int c = 0; c < C; c++)
        for (int i = 0; i < W * H; i++) {
            const uint8_t *p = px + (size_t)i * 3;
            x[(size_t)c * W * H + i] = C == 1 ? (0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]) / 256.0f
                                              : (p[c] - 127.0f) / 128.0f;
        }
    test_rng_seed(11);
    for (int64_t i = 0; i < per; i++)
        x[per + i] = C == 1 ? 0.5f + test_rng_uniform(0.5f) : test_rng_uniform(1.0f);
    xfiq_runner r;
    CHECK_OK(xfiq_runner_init(&r, be, &g, model, 0));
    CHECK_OK(xfiq_runner_reserve(&r, 2));
    memcpy(xfiq_runner_input_host(&r), x, sizeof(float) * 2 * (size_t)per);
    CHECK_OK(xfiq_runner_run(&r, 2));
    CHECK_OK(xfiq_runner_read(&r, g.output, 2, y));

    char xin[4096], yout[4096], cmd[16384];
    snprintf(xin, sizeof xin, "%s/%s_in.npy", fix, tag);
    snprintf(yout, sizeof yout, "%s/%s_ref.npy", fix, tag);
    const int64_t shape[4] = {2, C, H, W};
    CHECK_OK(xfiq_npy_write_f32(xin, x, 4, shape));
    snprintf(cmd, sizeof cmd, "nice -n 10 '%s' '%s/tests/ref/onnx_torch_ref.py' '%s' --input '%s' --output '%s' --double",
             py, src, model, xin, yout);
    int rc = system(cmd);
    CHECK_MSG(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "%s failed", cmd);
    xfiq_npy ref;
    CHECK_OK(xfiq_npy_read_f32(yout, &ref));
    CHECK_MSG(ref.count == 2 * outn, "%s: reference has %lld values, xfiq %lld", tag, (long long)ref.count,
              (long long)(2 * outn));
    if (ref.count == 2 * outn) {
        double rel = test_rel_err(y, ref.data, (size_t)ref.count);
        printf("%-10s %lld outputs per image, batch 2: max |xfiq - torch| / max |torch| = %.2e\n", tag,
               (long long)outn, rel);
        CHECK_MSG(rel < 1e-4, "%s: relative error %.3g", tag, rel);
        CHECK(test_compare_ops(y, ref.data, ref.count, tag));
    }
    xfiq_npy_free(&ref);
    xfiq_runner_free(&r);
    xfiq_graph_free(&g);
    xfiq_image_free(&img);
    xfiq_image_free(&rgb);
    free(px), free(x), free(y);
}

int main(void)
{
    const char *src = test_env("XFIQ_SOURCE_DIR", "."), *fix = test_env("XFIQ_FIXTURE_DIR", "fixtures");
    const char *py = test_env("XFIQ_PYTHON", "/usr/bin/python3");
    char det[4096], lm[4096], photo[4096], cmd[4200];
    snprintf(det, sizeof det, "%s/models/.cache/fr_detect.onnx", src);
    snprintf(lm, sizeof lm, "%s/models/.cache/fr_landmark.onnx", src);
    if (!test_file_exists(det) || !test_file_exists(lm))
        SKIP("detector models not fetched (%s): run models/fetch_default.sh", det);
    snprintf(cmd, sizeof cmd, "'%s' -c 'import torch, onnx' 2>/dev/null", py);
    if (system(cmd) != 0)
        SKIP("%s cannot import torch and onnx", py);
    const char *data = test_env("XFIQ_DATA_DIR", "../shared/data");
    snprintf(photo, sizeof photo, "%s/magface-toy/5.jpg", data);
    if (!test_file_exists(photo))
        SKIP("no photo (%s)", photo);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", fix);
    CHECK(system(cmd) == 0);
    xfiq_backend_t be;
    CHECK_OK(xfiq_backend_init(&be, XFIQ_BACKEND_CPU, 2));
    golden(be, det, photo, py, src, fix, "detector");
    golden(be, lm, photo, py, src, fix, "landmarks");
    xfiq_backend_free(be);
    TEST_END();
}
