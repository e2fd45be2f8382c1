/* test_onnx_errors.c - bad model files give a clear status and a message that
 * names the file and the reason (fixtures: tests/ref/make_bad_models.py). */
#include <string.h>

#include "test_util.h"
#include "xfiq.h"
#include "xfiq_test.h"

static xfiq_backend_t be;

static void expect(const char *path, xfiq_status want, const char *must_mention)
{
    xfiq_model_t m = NULL;
    xfiq_status st = xfiq_model_load(be, path, NULL, &m);
    const char *msg = xfiq_last_error();
    printf("%-60s -> %s: %s\n", strrchr(path, '/') + 1, xfiq_status_string(st), msg);
    CHECK_MSG(st == want, "%s: got %s, want %s", path, xfiq_status_string(st), xfiq_status_string(want));
    CHECK_MSG(strstr(msg, path) != NULL, "message does not name the file: %s", msg);
    if (must_mention)
        CHECK_MSG(strstr(msg, must_mention) != NULL, "message does not mention '%s': %s", must_mention, msg);
    CHECK(m == NULL);
    xfiq_model_free(m);
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

int main(void)
{
    char dir[4096], p[4200], q[4200];
    snprintf(dir, sizeof dir, "%s/bad_models", test_env("XFIQ_FIXTURE_DIR", "fixtures"));
    snprintf(p, sizeof p, "%s/good_small.onnx", dir);
    if (!test_file_exists(p))
        SKIP("fixtures missing (%s): made by tests/ref/make_bad_models.py with Debian's python3-onnx", p);
    CHECK_OK(xfiq_backend_init(&be, XFIQ_BACKEND_CPU, 2));

    /* The good one loads and runs. */
    xfiq_model_t m;
    CHECK_OK(xfiq_model_load(be, p, NULL, &m));
    float x[3 * 8 * 8] = {0}, y[4];
    CHECK_OK(xfiq_model_forward(m, x, 1, y));
    CHECK(xfiq_model_forward(m, x, 0, y) == XFIQ_ERR_ARG);
    CHECK(xfiq_model_embed(m, NULL, 1, y, NULL) == XFIQ_ERR_ARG);
    xfiq_model_free(m);

    snprintf(q, sizeof q, "%s/unknown_op.onnx", dir);
    expect(q, XFIQ_ERR_UNSUPPORTED, "Hardmax");
    CHECK(strstr(xfiq_last_error(), "the_hardmax") != NULL);
    snprintf(q, sizeof q, "%s/missing_input.onnx", dir);
    expect(q, XFIQ_ERR_FORMAT, "nowhere");
    snprintf(q, sizeof q, "%s/bad_channels.onnx", dir);
    expect(q, XFIQ_ERR_SHAPE, "wrong_cin");
    snprintf(q, sizeof q, "%s/short_tensor.onnx", dir);
    expect(q, XFIQ_ERR_FORMAT, "short");
    snprintf(q, sizeof q, "%s/does_not_exist.onnx", dir);
    expect(q, XFIQ_ERR_IO, NULL);

    /* Zero bytes, text, and every truncation of the good model. */
    snprintf(q, sizeof q, "%s/empty.onnx", dir);
    write_bytes(q, "", 0);
    expect(q, XFIQ_ERR_FORMAT, "empty");
    snprintf(q, sizeof q, "%s/text.onnx", dir);
    const char *txt = "this is not a model\n";
    write_bytes(q, txt, strlen(txt));
    expect(q, XFIQ_ERR_FORMAT, NULL);
    FILE *f = fopen(p, "rb");
    unsigned char buf[1 << 16];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    CHECK(n > 100 && n < sizeof buf);
    int bad = 0;
    for (size_t cut = 1; cut < n; cut += 7) {
        snprintf(q, sizeof q, "%s/truncated.onnx", dir);
        write_bytes(q, buf, cut);
        xfiq_model_t t = NULL;
        xfiq_status st = xfiq_model_load(be, q, NULL, &t);
        if (st == XFIQ_OK || strstr(xfiq_last_error(), q) == NULL)
            bad++;
        xfiq_model_free(t);
    }
    CHECK_MSG(bad == 0, "%d truncations were accepted or gave an unnamed error", bad);
    snprintf(q, sizeof q, "%s/truncated.onnx", dir);
    write_bytes(q, buf, n * 3 / 5);
    expect(q, XFIQ_ERR_FORMAT, NULL);
    xfiq_backend_free(be);
    /* Hostile attributes of the detector's ops: refused, naming the node. */
    static const struct {
        const char *file;
        xfiq_status st;
        const char *mention;
    } det[] = {
        {"det_transpose_batch", XFIQ_ERR_UNSUPPORTED, "tr_batch"}, {"det_transpose_dup", XFIQ_ERR_FORMAT, "tr_dup"},
        {"det_transpose_rank", XFIQ_ERR_SHAPE, "tr_rank"},         {"det_transpose_huge", XFIQ_ERR_FORMAT, "tr_huge"},
        {"det_slice_step0", XFIQ_ERR_FORMAT, "sl_step0"},          {"det_slice_extreme", XFIQ_ERR_FORMAT, "sl_ext"},
        {"det_slice_batch", XFIQ_ERR_UNSUPPORTED, "sl_batch"},     {"det_concat_batch", XFIQ_ERR_UNSUPPORTED, "cat_batch"},
        {"det_concat_shape", XFIQ_ERR_SHAPE, "cat_shape"},         {"det_softmax_axis", XFIQ_ERR_FORMAT, "sm_axis"},
        {"det_gather_dim", XFIQ_ERR_UNSUPPORTED, "ga_dim"},        {"det_gather_range", XFIQ_ERR_FORMAT, "ga_range"},
        {"det_batch_late", XFIQ_ERR_UNSUPPORTED, "rs_late"},
    };
    for (size_t k = 0; k < sizeof det / sizeof det[0]; k++) {
        snprintf(q, sizeof q, "%s/%s.onnx", dir, det[k].file);
        expect(q, det[k].st, det[k].mention);
    }
    snprintf(q, sizeof q, "%s/two_outputs.onnx", dir);
    expect(q, XFIQ_ERR_UNSUPPORTED, "exactly one output");
    TEST_END();
}
