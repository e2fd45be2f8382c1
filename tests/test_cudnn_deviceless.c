/* test_cudnn_deviceless.c - cuDNN planning with no GPU: every convolution,
 * forward and backward-data, of the test models (tiny iResNet and tiny
 * MobileFaceNet of make_golden.py, the default MobileFaceNet when it is in
 * models/.cache) and of iResNet-18/50/100 (random-weight ONNX exports, loaded
 * by xfiq's importer) gets a finalized cuDNN execution plan from the committed
 * H100 description cuda/devprops/h100_sxm.json, in fp32 (no tensor-core
 * engines), tf32, bf16 and fp16 (all-bf16/fp16 tensors: the launchers' staging
 * copies), at batch 1 and 64; backward both plain and accumulating.
 * Prints counts per model and an engine histogram; fails when any conv gets
 * no plan. Also checks the engine-timing cache file (round trip, a corrupt
 * file ignored). The plans cannot run here. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"
#include "graph/graph.h"
#include "onnx/onnx_import.h"
#include "ops/elem.h"
#include "test_util.h"
#include "xfiq_test.h"

#ifdef XFIQ_HAVE_CUDA
#include "cudnn_plan.h"

#define MAX_SHAPES 4096
#define MAX_ENGINES 256

typedef struct shape {
    xfiq_conv_desc d;
    int act, has_bias;
} shape;

typedef struct engine_count {
    char name[128];
    int dir, prec, count;
} engine_count;

static engine_count g_eng[MAX_ENGINES];
static int g_n_eng;
/* [dir][prec]: most configs of other numerics ranked ahead of the one taken, and requests */
static int g_max_skipped[2][4], g_requests[2][4];
static char g_json[4096];

static void count_engine(const char *name, int dir, int prec)
{
    for (int i = 0; i < g_n_eng; i++)
        if (g_eng[i].dir == dir && g_eng[i].prec == prec && strcmp(g_eng[i].name, name) == 0) {
            g_eng[i].count++;
            return;
        }
    if (g_n_eng < MAX_ENGINES) {
        snprintf(g_eng[g_n_eng].name, sizeof g_eng[g_n_eng].name, "%s", name);
        g_eng[g_n_eng].dir = dir;
        g_eng[g_n_eng].prec = prec;
        g_eng[g_n_eng].count = 1;
        g_n_eng++;
    }
}

static int shape_equal(const shape *a, const shape *b) { return memcmp(a, b, sizeof *a) == 0; }

/* Distinct forward shapes (with the fused epilogue as the runner plans it)
 * of a graph optimised the way the forward engine does. */
static int conv_shapes(const char *path, shape *out, int max, int *layers)
{
    xfiq_graph g;
    xfiq_graph_init(&g);
    xfiq_status st = xfiq_onnx_import(path, &g);
    if (st == XFIQ_OK)
        st = xfiq_graph_optimize(&g, 1);
    CHECK_MSG(st == XFIQ_OK, "%s: %s", path, xfiq_last_error());
    int n = 0;
    *layers = 0;
    for (int i = 0; st == XFIQ_OK && i < g.n_nodes; i++) {
        const xfiq_node *nd = &g.nodes[i];
        if (nd->op != XFIQ_OP_CONV)
            continue;
        (*layers)++;
        shape s;
        memset(&s, 0, sizeof s);
        s.d = nd->d.conv;
        s.act = nd->act;
        s.has_bias = nd->b >= 0;
        int seen = 0;
        for (int j = 0; j < n && !seen; j++)
            seen = shape_equal(&out[j], &s);
        if (!seen && n < max)
            out[n++] = s;
    }
    xfiq_graph_free(&g);
    return n;
}

static const char *prec_str(int p)
{
    return p == XFIQ_PRECISION_FP32 ? "fp32" : p == XFIQ_PRECISION_TF32 ? "tf32" : p == XFIQ_PRECISION_BF16 ? "bf16" : "fp16";
}

static void plan_shapes(const char *label, const shape *shapes, int ns)
{
    static const int batches[2] = {1, 64};
    for (int pi = 0; pi < 4; pi++) {
        const int prec = pi; /* XFIQ_PRECISION_FP32, TF32, BF16, FP16 */
        int plans = 0, failed = 0, fused = 0, scratch = 0;
        for (int s = 0; s < ns; s++)
            for (int b = 0; b < 2; b++)
                for (int v = 0; v < 3; v++) { /* fwd, bwd, bwd accumulate */
                    const int dir = v ? XFIQ_CUDNN_BWD_DATA : XFIQ_CUDNN_FWD;
                    xfiq_cudnn_plan_info info;
                    memset(&info, 0, sizeof info);
                    xfiq_status st = xfiq_cudnn_plan_deviceless(g_json, dir, &shapes[s].d, batches[b], shapes[s].act,
                                                                shapes[s].has_bias, v == 2, prec, &info);
                    if (st != XFIQ_OK) {
                        failed++;
                        CHECK_MSG(0, "%s %s: no plan: %s", label, prec_str(prec), xfiq_last_error());
                        continue;
                    }
                    plans++;
                    fused += info.fused;
                    scratch += info.scratch;
                    count_engine(info.engine, dir, prec);
                    g_requests[dir][pi]++;
                    if (info.rejected_numerics > g_max_skipped[dir][pi])
                        g_max_skipped[dir][pi] = info.rejected_numerics;
                }
        printf("  %s: %d plans (fwd + bwd + bwd accumulate, batch 1 and 64), %d failed, %d fwd fused with "
               "bias/ReLU, %d accumulating through scratch\n",
               prec_str(prec), plans, failed, fused, scratch);
    }
}

static void plan_model(const char *label, const char *path)
{
    static shape shapes[MAX_SHAPES];
    int layers = 0;
    if (!test_file_exists(path)) {
        CHECK_MSG(0, "%s: model %s missing (its fixture did not run?)", label, path);
        return;
    }
    const int ns = conv_shapes(path, shapes, MAX_SHAPES, &layers);
    printf("%s (%s): %d conv layers, %d distinct shapes\n", label, path, layers, ns);
    CHECK_MSG(layers > 0, "%s: no convolution found", label);
    plan_shapes(label, shapes, ns);
}

/* The odd shapes of the GPU tests (tests/test_cuda_conv_bwd.c, test_cuda_ops.c):
 * asymmetric pads, strides that leave rows uncovered, dilation, groups. */
static void plan_odd_shapes(void)
{
    static const int c[][16] = {
        /* cin cout g  ih  iw kh kw sh sw dh dw pt pl pb pr act */
        {8, 16, 1, 12, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, XFIQ_ACT_PRELU},
        {16, 32, 1, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, XFIQ_ACT_RELU},
        {8, 8, 1, 13, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, XFIQ_ACT_NONE},
        {8, 8, 1, 14, 14, 3, 3, 2, 2, 1, 1, 0, 0, 0, 0, XFIQ_ACT_NONE},
        {6, 10, 1, 9, 11, 3, 3, 1, 2, 1, 1, 0, 1, 2, 0, XFIQ_ACT_RELU},
        {32, 32, 32, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, XFIQ_ACT_PRELU},
        {16, 24, 4, 10, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, XFIQ_ACT_NONE},
        {8, 8, 1, 15, 15, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, XFIQ_ACT_NONE},
        {64, 32, 1, 7, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, XFIQ_ACT_NONE},
        {32, 64, 1, 14, 14, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, XFIQ_ACT_NONE},
        {64, 64, 64, 7, 7, 7, 7, 1, 1, 1, 1, 0, 0, 0, 0, XFIQ_ACT_NONE},
        {3, 8, 1, 20, 20, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, XFIQ_ACT_RELU},
    };
    shape shapes[sizeof c / sizeof c[0]];
    const int ns = (int)(sizeof c / sizeof c[0]);
    for (int i = 0; i < ns; i++) {
        xfiq_conv_desc *d = &shapes[i].d;
        memset(&shapes[i], 0, sizeof shapes[i]);
        d->cin = c[i][0], d->cout = c[i][1], d->group = c[i][2], d->ih = c[i][3], d->iw = c[i][4];
        d->kh = c[i][5], d->kw = c[i][6], d->sh = c[i][7], d->sw = c[i][8], d->dh = c[i][9], d->dw = c[i][10];
        d->pad_t = c[i][11], d->pad_l = c[i][12], d->pad_b = c[i][13], d->pad_r = c[i][14];
        d->oh = (d->ih + d->pad_t + d->pad_b - d->dh * (d->kh - 1) - 1) / d->sh + 1;
        d->ow = (d->iw + d->pad_l + d->pad_r - d->dw * (d->kw - 1) - 1) / d->sw + 1;
        shapes[i].act = c[i][15];
        shapes[i].has_bias = i % 2;
    }
    printf("odd shapes of the GPU tests: %d\n", ns);
    plan_shapes("odd shapes", shapes, ns);
}

/* The timing cache: entries survive a round trip, a second writer merges,
 * a corrupt file reads as empty (warning) and is replaced by the next put. */
static void test_tune_file(const char *dir)
{
    char path[4400], eng[96];
    double ms = 0;
    snprintf(path, sizeof path, "%s/cudnn_tune_test/sub/cudnn-test.json", dir);
    unlink(path);
    CHECK(xfiq_cudnn_tune_get(path, "k1", eng, sizeof eng, &ms) == 0);
    CHECK_OK(xfiq_cudnn_tune_put(path, "Test GPU", 91900, "k1", "eng1_k2=3", 0.25));
    CHECK_OK(xfiq_cudnn_tune_put(path, "Test GPU", 91900, "k2 \"quoted\"", "eng7", 1.5));
    CHECK(xfiq_cudnn_tune_get(path, "k1", eng, sizeof eng, &ms) == 1);
    CHECK(strcmp(eng, "eng1_k2=3") == 0);
    CHECK_NEAR(ms, 0.25, 1e-12);
    CHECK(xfiq_cudnn_tune_get(path, "k2 \"quoted\"", eng, sizeof eng, &ms) == 1);
    CHECK(strcmp(eng, "eng7") == 0);
    CHECK(xfiq_cudnn_tune_get(path, "k3", eng, sizeof eng, &ms) == 0);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("{\"format\": \"xfiq-cudnn-tune\", \"entries\": {\"k1\": {\"engine\": ", f);
        fclose(f);
    }
    printf("  (a warning about a corrupt cache file is expected next)\n");
    fflush(stdout);
    CHECK(xfiq_cudnn_tune_get(path, "k1", eng, sizeof eng, &ms) == 0);
    CHECK_OK(xfiq_cudnn_tune_put(path, "Test GPU", 91900, "k4", "eng3", 2.0));
    CHECK(xfiq_cudnn_tune_get(path, "k4", eng, sizeof eng, &ms) == 1);
    printf("timing cache file: round trip, merge and corrupt-file recovery checked (%s)\n", path);
}

int main(void)
{
    const char *src = test_env("XFIQ_SOURCE_DIR", ".");
    const char *fix = test_env("XFIQ_FIXTURE_DIR", ".");
    snprintf(g_json, sizeof g_json, "%s/cuda/devprops/h100_sxm.json", src);
    test_tune_file(fix);

    /* The description loads and a first plan finalizes, or nothing else can. */
    xfiq_conv_desc d = {.cin = 64, .cout = 64, .group = 1, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                        .pad_t = 1, .pad_l = 1, .pad_b = 1, .pad_r = 1, .ih = 56, .iw = 56, .oh = 56, .ow = 56};
    xfiq_cudnn_plan_info info;
    xfiq_status st = xfiq_cudnn_plan_deviceless(g_json, XFIQ_CUDNN_FWD, &d, 8, XFIQ_ACT_NONE, 0, 0,
                                                XFIQ_PRECISION_FP32, &info);
    CHECK_MSG(st == XFIQ_OK, "deviceless plan from %s: %s", g_json, xfiq_last_error());
    if (st != XFIQ_OK)
        TEST_END();
    printf("first deviceless plan: %s, workspace %zu, %d configs seen (%d other numerics, %d unreadable notes)\n",
           info.engine, info.workspace, info.configs_seen, info.rejected_numerics, info.rejected_unreadable);
    const size_t ws32 = info.workspace;
    CHECK_OK(xfiq_cudnn_plan_deviceless(g_json, XFIQ_CUDNN_FWD, &d, 8, XFIQ_ACT_NONE, 0, 0, XFIQ_PRECISION_BF16,
                                        &info));
    /* its workspace starts with the bf16 copies of x, w and y */
    const size_t staged = 2 * ((size_t)8 * d.cin * d.ih * d.iw + (size_t)d.cout * (d.cin / d.group) * d.kh * d.kw +
                               (size_t)8 * d.cout * d.oh * d.ow);
    printf("bf16 plan: %s, workspace %zu (fp32: %zu; staging at least %zu)\n", info.engine, info.workspace, ws32,
           staged);
    CHECK_MSG(info.workspace >= staged, "bf16 workspace %zu holds no staging (%zu bytes)", info.workspace, staged);
    /* Plans are cached: the same request builds nothing. */
    long built = xfiq_cudnn_plans_built();
    CHECK_OK(xfiq_cudnn_plan_deviceless(g_json, XFIQ_CUDNN_FWD, &d, 8, XFIQ_ACT_NONE, 0, 0, XFIQ_PRECISION_FP32,
                                        &info));
    CHECK_MSG(xfiq_cudnn_plans_built() == built, "a cached plan was rebuilt");

    plan_odd_shapes();
    char p[4400];
    snprintf(p, sizeof p, "%s/golden/iresnet_tiny.onnx", fix);
    plan_model("tiny iResNet", p);
    snprintf(p, sizeof p, "%s/golden/mfn_tiny.onnx", fix);
    plan_model("tiny MobileFaceNet", p);
    snprintf(p, sizeof p, "%s/models/.cache/fr_feature.onnx", src);
    if (test_file_exists(p))
        plan_model("default MobileFaceNet", p);
    else
        printf("default MobileFaceNet: %s not fetched, left out\n", p);
    snprintf(p, sizeof p, "%s/cudnn/iresnet18.onnx", fix);
    plan_model("iResNet-18", p);
    snprintf(p, sizeof p, "%s/cudnn/iresnet50.onnx", fix);
    plan_model("iResNet-50", p);
    snprintf(p, sizeof p, "%s/iresnet100/iresnet100.onnx", fix);
    plan_model("iResNet-100", p);

    printf("distinct plans built in all (cached across models): %ld\n", xfiq_cudnn_plans_built());
    for (int dir = 0; dir < 2; dir++)
        for (int prec = 0; prec < 4; prec++) {
            int distinct = 0;
            for (int i = 0; i < g_n_eng; i++)
                distinct += g_eng[i].dir == dir && g_eng[i].prec == prec;
            printf("%s %s: %d requests, %d distinct engine configs; at most %d configs with other numerics ranked "
                   "ahead of the one taken\n",
                   dir ? "bwd_data" : "fwd", prec_str(prec), g_requests[dir][prec], distinct,
                   g_max_skipped[dir][prec]);
            /* most used first */
            for (int done = 0; done < distinct; done++) {
                int best = -1;
                for (int i = 0; i < g_n_eng; i++)
                    if (g_eng[i].dir == dir && g_eng[i].prec == prec && g_eng[i].count > 0 &&
                        (best < 0 || g_eng[i].count > g_eng[best].count))
                        best = i;
                if (best < 0)
                    break;
                printf("  %5d  %s\n", g_eng[best].count, g_eng[best].name);
                g_eng[best].count = -g_eng[best].count; /* printed */
            }
        }
    TEST_END();
}

#else
int main(void) { SKIP("built without the CUDA backend"); }
#endif
