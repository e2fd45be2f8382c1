/* test_iresnet100.c - a full-size iResNet-100 (random weights) loads and runs
 * at batch 32; two of its images match PyTorch, the 16 copies of each agree
 * bit for bit. */
#include <string.h>

#include "io/npy.h"
#include "test_util.h"
#include "xfiq_test.h"

int main(void)
{
    char dir[4096], p[4200], q[4200];
    snprintf(dir, sizeof dir, "%s/iresnet100", test_env("XFIQ_FIXTURE_DIR", "fixtures"));
    snprintf(p, sizeof p, "%s/iresnet100.onnx", dir);
    snprintf(q, sizeof q, "%s/output.npy", dir);
    if (!test_file_exists(q))
        SKIP("fixture missing (%s): made by tests/ref/make_iresnet100.py", q);
    xfiq_backend_t be;
    xfiq_model_t m;
    CHECK_OK(xfiq_backend_init(&be, XFIQ_BACKEND_CPU, 0));
    CHECK_OK(xfiq_model_load(be, p, NULL, &m));
    xfiq_model_info info;
    CHECK_OK(xfiq_model_get_info(m, &info));
    printf("iResNet-100: %.1f M parameters, %.2f G multiply-adds per image\n", info.num_params / 1e6,
           info.macs_per_image / 1e9);
    CHECK_NEAR(info.macs_per_image / 1e9, 12.09, 0.3);
    xfiq_npy in, out;
    snprintf(p, sizeof p, "%s/input.npy", dir);
    CHECK_OK(xfiq_npy_read_f32(p, &in));
    CHECK_OK(xfiq_npy_read_f32(q, &out));
    const int n = 32;
    size_t per = 3 * 112 * 112, d = 512;
    float *x = malloc(n * per * sizeof *x), *y = malloc(n * d * sizeof *y);
    for (int i = 0; i < n; i++)
        memcpy(x + i * per, in.data + (i % 2) * per, per * sizeof *x);
    double t0 = test_now();
    CHECK_OK(xfiq_model_forward(m, x, n, y));
    double dt = test_now() - t0;
    printf("batch %d forward in %.2f s (%.1f img/s)\n", n, dt, n / dt);
    double err = test_rel_err(y, out.data, 2 * d);
    printf("max rel err vs PyTorch (float64) %.3g\n", err);
    CHECK_MSG(err < 1e-4, "rel err %.3g", err);
    for (int i = 2; i < n; i++)
        CHECK(memcmp(y + i * d, y + (i % 2) * d, d * sizeof *y) == 0);
    free(x);
    free(y);
    xfiq_npy_free(&in);
    xfiq_npy_free(&out);
    xfiq_model_free(m);
    xfiq_backend_free(be);
    TEST_END();
}
