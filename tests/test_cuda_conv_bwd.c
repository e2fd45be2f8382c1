/* test_cuda_conv_bwd.c - conv2d_bwd_data_cuda (cuDNN graph backward-data)
 * against the double-accumulating CPU reference conv2d_bwd_data_ref on
 * random inputs: dense, strided, asymmetric pads, depthwise, grouped,
 * dilated, 1x1 and 7x7, with accumulate off and on, < 1e-4 relative in fp32;
 * tf32 within 1e-2; bf16 and fp16 (staged through bf16 copies: fp16's
 * backward runs in bf16) against the reference on the same rounded inputs
 * (ops/elem_half.h), within the output's rounding (8e-3 of the largest
 * value). Also: the workspace query and the launcher
 * share one plan (no second build), the engine-timing cache file is written
 * and read back (a rebuilt plan takes the cached engine), a corrupt cache
 * file is survived, $XFIQ_CUDNN_LOG gets a line per plan, and the device's
 * cuDNN JSON description dumps and plans deviceless.
 * Without a device it prints "SKIPPED: ..." and exits 77 (it never passes
 * there); with a device whose setup fails it fails. */
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"
#include "ops/elem.h"
#include "ops/elem_half.h"
#include "ops/ops_bwd_cpu.h"
#include "test_util.h"
#include "xfiq_test.h"
#include "compare_util.h"

#ifdef XFIQ_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "cudnn_plan.h"
#include "ops_cuda.h"

static cudaStream_t g_stream;

#define CUDA_OK(stmt)                                                                                    \
    do {                                                                                                 \
        cudaError_t e_ = (stmt);                                                                         \
        if (e_ != cudaSuccess) {                                                                         \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #stmt, cudaGetErrorString(e_)); \
            exit(1);                                                                                     \
        }                                                                                                \
    } while (0)

static float *dev_from(const float *h, int64_t count)
{
    void *d = NULL;
    CUDA_OK(cudaMalloc(&d, (size_t)(count > 0 ? count : 1) * sizeof(float)));
    if (h)
        CUDA_OK(cudaMemcpy(d, h, (size_t)count * sizeof(float), cudaMemcpyHostToDevice));
    return d;
}

static float *host_from_dev(const float *d, int64_t count)
{
    float *h = calloc((size_t)count, sizeof *h);
    if (!h)
        exit(2);
    CUDA_OK(cudaStreamSynchronize(g_stream));
    CUDA_OK(cudaMemcpy(h, d, (size_t)count * sizeof(float), cudaMemcpyDeviceToHost));
    return h;
}

typedef struct bwd_case {
    const char *name;
    int n, cin, cout, group, ih, iw, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
} bwd_case;

static xfiq_conv_desc desc_of(const bwd_case *c)
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

static const bwd_case g_cases[] = {
    /* name                  n cin cout g  ih  iw kh kw sh sw dh dw pt pl pb pr */
    {"3x3 dense", 2, 8, 16, 1, 12, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
    {"3x3 stride 2", 3, 16, 32, 1, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
    {"3x3 stride 2 odd input", 2, 8, 8, 1, 13, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
    {"stride 2, last row uncovered", 2, 8, 8, 1, 14, 14, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0},
    {"asymmetric pads", 2, 6, 10, 1, 9, 11, 3, 3, 1, 2, 1, 1, 0, 1, 2, 0},
    {"depthwise 3x3 stride 2", 2, 32, 32, 32, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
    {"grouped g4", 2, 16, 24, 4, 10, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
    {"dilated 2", 2, 8, 8, 1, 15, 15, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},
    {"1x1", 4, 64, 32, 1, 7, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},
    {"1x1 stride 2 (shortcut)", 2, 32, 64, 1, 14, 14, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0},
    {"7x7 depthwise valid (GDC)", 3, 64, 64, 64, 7, 7, 7, 7, 1, 1, 1, 1, 0, 0, 0, 0},
    {"stem 7x7 stride 2", 2, 3, 8, 1, 20, 20, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3},
    {"iResNet 3x3 64ch", 2, 64, 64, 1, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
};

#define LAST (sizeof g_cases / sizeof g_cases[0] - 1)

static void run_case(const bwd_case *c, int precision)
{
    const xfiq_conv_desc d = desc_of(c);
    const int64_t xsz = (int64_t)c->n * c->cin * c->ih * c->iw;
    const int64_t wsz = (int64_t)c->cout * (c->cin / c->group) * c->kh * c->kw;
    const int64_t ysz = (int64_t)c->n * c->cout * d.oh * d.ow;
    float *dyh = test_rand_buf(ysz, 1.0f), *wh = test_rand_buf(wsz, 1.0f), *dx0 = test_rand_buf(xsz, 1.0f);
    float *ref = malloc((size_t)xsz * sizeof *ref);
    float *ddy = dev_from(dyh, ysz), *dw = dev_from(wh, wsz), *ddx = dev_from(dx0, xsz);
    /* fp16's backward-data runs in bf16 (cudnn_conv.cu: gradients need the range) */
    const double rtol = precision == XFIQ_PRECISION_FP32 ? 1e-4 : precision == XFIQ_PRECISION_TF32 ? 1e-2 : 8e-3;
    const char *pname = precision == XFIQ_PRECISION_FP32   ? "fp32"
                        : precision == XFIQ_PRECISION_TF32 ? "tf32"
                        : precision == XFIQ_PRECISION_BF16 ? "bf16"
                                                           : "fp16";
    if (precision == XFIQ_PRECISION_BF16 || precision == XFIQ_PRECISION_FP16) {
        /* the reference sees the inputs the device's convolution sees (dev copies keep FP32) */
        const int kind = 0; /* bfloat16, for both */
        for (int64_t i = 0; i < ysz; i++)
            dyh[i] = xfiq_half_to_f32(kind, xfiq_f32_to_half(kind, dyh[i]));
        for (int64_t i = 0; i < wsz; i++)
            wh[i] = xfiq_half_to_f32(kind, xfiq_f32_to_half(kind, wh[i]));
    }

    size_t ws = 0;
    CHECK_OK(conv2d_bwd_data_cuda_workspace(&d, c->n, 16, &ws, g_stream));
    float *dws = ws ? dev_from(NULL, (int64_t)(ws / sizeof(float)) + 1) : NULL;
    const long built = xfiq_cudnn_plans_built();
    for (int acc = 0; acc < 2; acc++) {
        memcpy(ref, dx0, (size_t)xsz * sizeof *ref);
        conv2d_bwd_data_ref(dyh, wh, ref, &d, c->n, acc);
        CUDA_OK(cudaMemcpy(ddx, dx0, (size_t)xsz * sizeof(float), cudaMemcpyHostToDevice));
        CHECK_OK(conv2d_bwd_data_cuda(ddy, dw, ddx, &d, c->n, acc, dws, ws, g_stream));
        float *got = host_from_dev(ddx, xsz);
        char what[160];
        snprintf(what, sizeof what, "bwd %s %s%s", c->name, pname, acc ? " accumulate" : "");
        test_compare(what, got, ref, xsz, 1e-5, rtol);
        free(got);
    }
    /* The launcher found both plans (accumulate off/on) the query built. */
    CHECK_MSG(xfiq_cudnn_plans_built() == built, "bwd %s: the launcher built %ld plan(s) the query had built",
              c->name, xfiq_cudnn_plans_built() - built);
    cudaFree(dws);
    cudaFree(ddx);
    cudaFree(dw);
    cudaFree(ddy);
    free(ref);
    free(dx0);
    free(wh);
    free(dyh);
}

/* Every case's backward workspace query, fp32 then tf32 (the plans the
 * first pass timed, built again); the stream ends in fp32. */
static void requery_all(void)
{
    for (int p = 1; p >= 0; p--) {
        CHECK_OK(xfiq_cudnn_set_precision(g_stream, p ? XFIQ_PRECISION_TF32 : XFIQ_PRECISION_FP32));
        for (size_t i = 0; i < sizeof g_cases / sizeof g_cases[0]; i++) {
            const xfiq_conv_desc d = desc_of(&g_cases[i]);
            size_t ws = 0;
            CHECK_OK(conv2d_bwd_data_cuda_workspace(&d, g_cases[i].n, 16, &ws, g_stream));
        }
    }
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *s = calloc(1 << 22, 1);
    if (s)
        (void)!fread(s, 1, (1 << 22) - 1, f);
    fclose(f);
    return s;
}

int main(void)
{
    const char *fix = test_env("XFIQ_FIXTURE_DIR", ".");
    char cache_dir[4400], log_path[4400], tune[4400], json[4400];
    int devices = 0;
    cudaError_t ce = cudaGetDeviceCount(&devices);
    if (ce != cudaSuccess || devices <= 0)
        SKIP("no CUDA device (%s)", ce != cudaSuccess ? cudaGetErrorString(ce) : "0 devices");
    /* A private cache folder and log, set before the first plan reads them. */
    snprintf(cache_dir, sizeof cache_dir, "%s/cudnn_gpu_cache", fix);
    snprintf(log_path, sizeof log_path, "%s/cudnn_gpu_plans.log", fix);
    setenv("XDG_CACHE_HOME", cache_dir, 1);
    setenv("XFIQ_CUDNN_LOG", log_path, 1);
    unsetenv("XFIQ_CUDNN_TUNE");
    unlink(log_path);
    CUDA_OK(cudaSetDevice(0));
    CHECK_OK(xfiq_cudnn_tune_path(0, tune, sizeof tune));
    unlink(tune);
    /* From here on a failure is a failure: there is a device. */
    CUDA_OK(cudaStreamCreateWithFlags(&g_stream, cudaStreamNonBlocking));
    xfiq_status st = xfiq_cudnn_attach(g_stream);
    CHECK_MSG(st == XFIQ_OK, "cuDNN attach failed on a machine with %d device(s): %s", devices, xfiq_last_error());
    if (st != XFIQ_OK)
        TEST_END();

    printf("fp32 (deterministic, no tensor cores):\n");
    for (size_t i = 0; i < sizeof g_cases / sizeof g_cases[0]; i++)
        run_case(&g_cases[i], XFIQ_PRECISION_FP32);
    CHECK_OK(xfiq_cudnn_set_precision(g_stream, XFIQ_PRECISION_TF32));
    printf("tf32:\n");
    for (size_t i = 0; i < sizeof g_cases / sizeof g_cases[0]; i++)
        run_case(&g_cases[i], XFIQ_PRECISION_TF32);
    for (int p = XFIQ_PRECISION_BF16; p <= XFIQ_PRECISION_FP16; p++) {
        CHECK_OK(xfiq_cudnn_set_precision(g_stream, p));
        printf("%s (bf16/fp16 copies of dy and w, FP32 accumulation):\n", p == XFIQ_PRECISION_BF16 ? "bf16" : "fp16");
        for (size_t i = 0; i < sizeof g_cases / sizeof g_cases[0]; i++)
            run_case(&g_cases[i], p);
    }
    CHECK_OK(xfiq_cudnn_set_precision(g_stream, XFIQ_PRECISION_FP32));

    /* The timing cache file: written by the queries above (layers with more
     * than one candidate), read back after the plans are forgotten. */
    char *text = read_text(tune);
    CHECK_MSG(text && strstr(text, "\"engine\""), "timing cache %s missing or empty", tune);
    printf("timing cache %s: %s\n", tune, text ? "written" : "missing");
    free(text);
    xfiq_cudnn_forget_plans();
    long built = xfiq_cudnn_plans_built();
    requery_all();
    CHECK_MSG(xfiq_cudnn_plans_built() > built, "forgotten plans were not rebuilt");
    printf("plans rebuilt from the timing cache:\n");
    for (size_t i = 0; i < sizeof g_cases / sizeof g_cases[0]; i++)
        run_case(&g_cases[i], XFIQ_PRECISION_FP32);
    const xfiq_conv_desc d = desc_of(&g_cases[LAST]);
    size_t ws = 0;
    CHECK_OK(conv2d_fwd_cuda_workspace(&d, g_cases[LAST].n, XFIQ_ACT_NONE, 0, 16, &ws, g_stream));
    text = read_text(log_path);
    CHECK_MSG(text && strstr(text, "choice=cached"), "no plan took its engine from the timing cache (log %s)",
              log_path);
    CHECK_MSG(text && strstr(text, "choice=timed"), "no plan was chosen by timing (log %s)", log_path);
    free(text);
    /* A corrupt cache file: a warning, plans still build, the file is rewritten. */
    FILE *f = fopen(tune, "w");
    if (f) {
        fputs("{ not json", f);
        fclose(f);
    }
    printf("(a warning about a corrupt timing cache is expected next)\n");
    fflush(stdout);
    xfiq_cudnn_forget_plans();
    requery_all();
    text = read_text(tune);
    CHECK_MSG(text && strstr(text, "xfiq-cudnn-tune"), "corrupt timing cache was not rewritten");
    free(text);
    /* XFIQ_CUDNN_TUNE=0: heuristic order, no timing, no file. */
    setenv("XFIQ_CUDNN_TUNE", "0", 1);
    unlink(tune);
    xfiq_cudnn_forget_plans();
    requery_all();
    CHECK_MSG(!test_file_exists(tune), "XFIQ_CUDNN_TUNE=0 still wrote %s", tune);
    unsetenv("XFIQ_CUDNN_TUNE");

    /* The device's own description, and a deviceless plan from it. */
    snprintf(json, sizeof json, "%s/cudnn_device0.json", fix);
    CHECK_OK(xfiq_cudnn_dump_device_json(0, json));
    text = read_text(json);
    printf("device 0 cuDNN description (%s):\n%s\n", json, text ? text : "(none)");
    free(text);
    xfiq_cudnn_plan_info info;
    CHECK_OK(xfiq_cudnn_plan_deviceless(json, XFIQ_CUDNN_BWD_DATA, &d, 2, XFIQ_ACT_NONE, 0, 0, XFIQ_PRECISION_FP32,
                                        &info));
    printf("deviceless plan from the dump: %s\n", info.engine);
    text = read_text(log_path);
    printf("plan log (%s):\n%s\n", log_path, text ? text : "(none)");
    free(text);

    xfiq_cudnn_detach(g_stream);
    cudaStreamDestroy(g_stream);
    TEST_END();
}

#else
int main(void) { SKIP("no CUDA device (the CUDA backend is not built)"); }
#endif
