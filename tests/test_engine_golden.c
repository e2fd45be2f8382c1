/* test_engine_golden.c - xfiq's forward pass against PyTorch on the tiny
 * iResNet and tiny MobileFaceNet (fixtures from tests/ref/make_golden.py):
 * float input and uint8 images through the card's preprocessing, < 1e-4
 * relative error; bitwise identical results for any batch split and thread
 * count; BN folded away. */
#include <string.h>

#include "engine/model.h"
#include "io/npy.h"
#include "ops/elem.h"
#include "test_util.h"
#include "xfiq_test.h"

static void check_model(const char *dir, const char *stem)
{
    char p[4400], q[4400];
    xfiq_backend_t be1, be2;
    xfiq_model_t m, m1;
    snprintf(p, sizeof p, "%s/%s.onnx", dir, stem);
    CHECK_OK(xfiq_backend_init(&be2, XFIQ_BACKEND_CPU, 2));
    CHECK_OK(xfiq_backend_init(&be1, XFIQ_BACKEND_CPU, 1));
    xfiq_status st = xfiq_model_load(be2, p, NULL, &m);
    CHECK_OK(st);
    CHECK_OK(xfiq_model_load(be1, p, NULL, &m1));
    if (st != XFIQ_OK)
        return;
    /* The card beside the model was found and BN is gone from after every Conv/Gemm. */
    CHECK(strstr(m->card.source, ".card.json") != NULL);
    int affine_after_conv = 0;
    for (int i = 0; i < m->g.n_nodes; i++) {
        const xfiq_node *nd = &m->g.nodes[i];
        int pr = m->g.values[nd->in[0]].producer;
        /* BN after a fused activation (iResNet's stem -> PReLU -> bn1) cannot fold. */
        if (nd->op == XFIQ_OP_AFFINE && pr >= 0 && m->g.nodes[pr].act == XFIQ_ACT_NONE &&
            (m->g.nodes[pr].op == XFIQ_OP_CONV || m->g.nodes[pr].op == XFIQ_OP_GEMM))
            affine_after_conv++;
    }
    CHECK_MSG(affine_after_conv == 0, "%s: %d BN nodes left after Conv/Gemm", stem, affine_after_conv);

    xfiq_npy in, out;
    snprintf(p, sizeof p, "%s/%s_input.npy", dir, stem);
    snprintf(q, sizeof q, "%s/%s_output.npy", dir, stem);
    CHECK_OK(xfiq_npy_read_f32(p, &in));
    CHECK_OK(xfiq_npy_read_f32(q, &out));
    int n = (int)in.shape[0];
    size_t d = (size_t)out.shape[1];
    float *y = calloc((size_t)n * d, sizeof *y), *y1 = calloc(d, sizeof *y1), *yt = calloc((size_t)n * d, sizeof *yt);
    CHECK_OK(xfiq_model_forward(m, in.data, n, y));
    double err = test_rel_err(y, out.data, (size_t)n * d);
    printf("%s: batch %d forward, max rel err vs PyTorch %.3g\n", stem, n, err);
    CHECK_MSG(err < 1e-4, "%s: rel err %.3g", stem, err);
    /* Same bits one image at a time and with one thread. */
    size_t in_per = (size_t)(in.shape[1] * in.shape[2] * in.shape[3]);
    int same_bits = 1;
    for (int i = 0; i < n; i++) {
        CHECK_OK(xfiq_model_forward(m, in.data + (size_t)i * in_per, 1, y1));
        same_bits &= memcmp(y1, y + (size_t)i * d, d * sizeof(float)) == 0;
    }
    CHECK_MSG(same_bits, "%s: batch-1 results differ in bits from batch-%d results", stem, n);
    CHECK_OK(xfiq_model_forward(m1, in.data, n, yt));
    CHECK_MSG(memcmp(yt, y, (size_t)n * d * sizeof(float)) == 0, "%s: 1-thread results differ from 2-thread", stem);

    /* uint8 RGB images through the card's preprocessing. */
    size_t ni;
    snprintf(p, sizeof p, "%s/%s_images.npy", dir, stem);
    uint8_t *img = test_npy_read_u8(p, &ni);
    xfiq_npy iout;
    snprintf(q, sizeof q, "%s/%s_images_output.npy", dir, stem);
    CHECK(img != NULL);
    CHECK_OK(xfiq_npy_read_f32(q, &iout));
    if (img) {
        float *mag = calloc((size_t)n, sizeof *mag);
        CHECK_OK(xfiq_model_embed(m, img, n, y, mag));
        err = test_rel_err(y, iout.data, (size_t)n * d);
        printf("%s: uint8 images through the card, max rel err vs PyTorch %.3g\n", stem, err);
        CHECK_MSG(err < 1e-4, "%s: images rel err %.3g", stem, err);
        for (int i = 0; i < n; i++) {
            double ss = 0;
            for (size_t j = 0; j < d; j++)
                ss += (double)iout.data[(size_t)i * d + j] * iout.data[(size_t)i * d + j];
            CHECK_NEAR(mag[i], sqrt(ss), 1e-4 * sqrt(ss));
        }
        free(mag);
    }
    free(img);
    xfiq_npy_free(&iout);
    free(y);
    free(y1);
    free(yt);
    xfiq_npy_free(&in);
    xfiq_npy_free(&out);
    xfiq_model_free(m);
    xfiq_model_free(m1);
    xfiq_backend_free(be1);
    xfiq_backend_free(be2);
}

/* One graph with the ops the two networks lack; expected output from plain numpy. */
static void check_ops_mix(const char *dir)
{
    char p[4400], q[4400];
    xfiq_backend_t be;
    xfiq_model_t m;
    snprintf(p, sizeof p, "%s/ops_mix.onnx", dir);
    CHECK_OK(xfiq_backend_init(&be, XFIQ_BACKEND_CPU, 2));
    xfiq_status st = xfiq_model_load(be, p, NULL, &m);
    CHECK_OK(st);
    xfiq_npy in, out;
    snprintf(p, sizeof p, "%s/ops_mix_input.npy", dir);
    snprintf(q, sizeof q, "%s/ops_mix_output.npy", dir);
    CHECK_OK(xfiq_npy_read_f32(p, &in));
    CHECK_OK(xfiq_npy_read_f32(q, &out));
    if (st == XFIQ_OK) {
        float *y = calloc((size_t)out.count, sizeof *y);
        CHECK_OK(xfiq_model_forward(m, in.data, (int)in.shape[0], y));
        double err = test_rel_err(y, out.data, (size_t)out.count);
        printf("ops_mix: max rel err vs numpy %.3g\n", err);
        CHECK_MSG(err < 1e-4, "ops_mix rel err %.3g", err);
        free(y);
        xfiq_model_free(m);
    }
    xfiq_npy_free(&in);
    xfiq_npy_free(&out);
    xfiq_backend_free(be);
}

int main(void)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/golden", test_env("XFIQ_FIXTURE_DIR", "fixtures"));
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/golden.json", dir);
    if (!test_file_exists(probe))
        SKIP("golden fixtures missing (%s): PyTorch/ONNX from Debian are needed to make them", probe);
    check_model(dir, "iresnet_tiny");
    check_model(dir, "mfn_tiny");
    check_ops_mix(dir);
    TEST_END();
}
