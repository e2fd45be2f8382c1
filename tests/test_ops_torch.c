/* test_ops_torch.c - the CPU ops (fast paths and references) against PyTorch:
 * runs tests/ref/ops_torch_ref.py, which writes float32 inputs and float64
 * PyTorch results, then runs the same ops here and compares. Skips (77) when
 * /usr/bin/python3 or torch is missing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ops/elem.h"
#include "ops/ops_cpu.h"
#include "xfiq_test.h"

static char g_dir[1024];

static float *load(const char *name, const char *key, int64_t count)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s_%s.bin", g_dir, name, key);
    FILE *f = fopen(path, "rb");
    float *p = malloc(sizeof(float) * (size_t)(count > 0 ? count : 1));
    if (!f || fread(p, sizeof(float), (size_t)count, f) != (size_t)count) {
        fprintf(stderr, "cannot read %lld floats from %s\n", (long long)count, path);
        exit(1);
    }
    fclose(f);
    return p;
}

static int compare(const float *got, const float *ref, int64_t count, const char *what)
{
    double worst = 0.0, num = 0.0, den = 0.0;
    int64_t at = 0;
    for (int64_t i = 0; i < count; i++) {
        const double e = fabs((double)got[i] - (double)ref[i]), r = e / (1.0 + fabs((double)ref[i]));
        if (!(r <= worst))
            worst = r, at = i;
        num += e * e;
        den += (double)ref[i] * ref[i];
    }
    const double l2 = den > 0 ? sqrt(num / den) : sqrt(num);
    const int ok = worst < 1e-4 && l2 < 1e-5;
    printf("%-28s elems %8lld  worst %.2e  L2 %.2e  %s\n", what, (long long)count, worst, l2, ok ? "ok" : "FAIL");
    if (!ok)
        fprintf(stderr, "%s: at %lld got %.9g want %.9g\n", what, (long long)at, (double)got[at], (double)ref[at]);
    return ok;
}

static void case_conv(const char *name, const int *v)
{
    const int n = v[0];
    const xfiq_conv_desc d = {v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9],
                              v[10], v[11], v[12], v[13], v[14], v[15], v[16], v[17]};
    const int act = v[18], spc = v[19], has_bias = v[20];
    const int64_t xs = (int64_t)n * d.cin * d.ih * d.iw, ys = (int64_t)n * d.cout * d.oh * d.ow;
    float *x = load(name, "x", xs), *w = load(name, "w", (int64_t)d.cout * (d.cin / d.group) * d.kh * d.kw);
    float *b = load(name, "b", d.cout), *slope = load(name, "slope", spc ? d.cout : 1), *want = load(name, "y", ys);
    float *got = malloc(sizeof(float) * (size_t)ys);
    float *ws = malloc(conv2d_fwd_cpu_workspace(&d, 2));
    char what[128];
    conv2d_fwd_cpu(x, w, has_bias ? b : NULL, got, &d, n, act, slope, spc, ws, 2);
    snprintf(what, sizeof what, "conv %s", name);
    CHECK_MSG(compare(got, want, ys, what), "%s", what);
    conv2d_fwd_ref(x, w, has_bias ? b : NULL, got, &d, n, act, slope, spc);
    snprintf(what, sizeof what, "conv_ref %s", name);
    CHECK_MSG(compare(got, want, ys, what), "%s", what);
    free(x), free(w), free(b), free(slope), free(want), free(got), free(ws);
}

static void case_gemm(const char *name, const int *v)
{
    const int n = v[0], k = v[1], m = v[2], act = v[3], spc = v[4], has_bias = v[5];
    float *x = load(name, "x", (int64_t)n * k), *w = load(name, "w", (int64_t)m * k), *b = load(name, "b", m);
    float *slope = load(name, "slope", spc ? m : 1), *want = load(name, "y", (int64_t)n * m);
    float *got = malloc(sizeof(float) * (size_t)n * m);
    char what[128];
    gemm_fwd_cpu(x, w, has_bias ? b : NULL, got, n, k, m, act, slope, spc, 2);
    snprintf(what, sizeof what, "gemm %s", name);
    CHECK_MSG(compare(got, want, (int64_t)n * m, what), "%s", what);
    gemm_fwd_ref(x, w, has_bias ? b : NULL, got, n, k, m, act, slope, spc);
    snprintf(what, sizeof what, "gemm_ref %s", name);
    CHECK_MSG(compare(got, want, (int64_t)n * m, what), "%s", what);
    free(x), free(w), free(b), free(slope), free(want), free(got);
}

/* Concat, Transpose, Slice, Softmax, Exp: fast path and reference. */
static void case_layout(const char *kind, const char *name, const int *v)
{
    char what[128], what_ref[128];
    snprintf(what, sizeof what, "%s %s", kind, name);
    snprintf(what_ref, sizeof what_ref, "%s_ref %s", kind, name);
    int64_t dims[XFIQ_MAX_DIMS] = {0}, ydims[XFIQ_MAX_DIMS] = {0}, start[XFIQ_MAX_DIMS] = {0}, step[XFIQ_MAX_DIMS] = {0};
    int64_t cnt = 0, ycnt = 0;
    float *x = NULL, *b = NULL, *want, *got;
    if (!strcmp(kind, "concat")) {
        cnt = (int64_t)v[0] * v[1], ycnt = (int64_t)v[0] * (v[1] + v[2]);
        x = load(name, "a", cnt), b = load(name, "b", (int64_t)v[0] * v[2]);
    } else if (!strcmp(kind, "transpose") || !strcmp(kind, "slice")) {
        const int n = v[0], nd = v[1];
        cnt = ycnt = n;
        for (int a = 1; a < nd; a++)
            dims[a] = v[1 + a], cnt *= dims[a];
        if (!strcmp(kind, "slice")) {
            for (int a = 1; a < nd; a++) {
                start[a] = v[nd + a], step[a] = v[2 * nd - 1 + a], ydims[a] = v[3 * nd - 2 + a];
                ycnt *= ydims[a];
            }
        } else {
            ycnt = cnt;
        }
        x = load(name, "x", cnt);
    } else if (!strcmp(kind, "softmax")) {
        cnt = ycnt = (int64_t)v[0] * v[1] * v[2];
        x = load(name, "x", cnt);
    } else {
        cnt = ycnt = v[0];
        x = load(name, "x", cnt);
    }
    want = load(name, "y", ycnt);
    got = malloc(sizeof(float) * (size_t)ycnt);
    for (int ref = 0; ref < 2; ref++) {
        memset(got, 0xff, sizeof(float) * (size_t)ycnt); /* NaN: every element must be written */
        if (!strcmp(kind, "concat")) {
            if (ref)
                concat_fwd_ref(x, b, got, v[0], v[1], v[2]);
            else
                concat_fwd_cpu(x, b, got, v[0], v[1], v[2], 2);
        } else if (!strcmp(kind, "transpose")) {
            int perm[XFIQ_MAX_DIMS];
            for (int a = 0; a < v[1]; a++)
                perm[a] = v[v[1] + 1 + a];
            if (ref)
                transpose_fwd_ref(x, got, v[0], v[1], dims, perm);
            else
                transpose_fwd_cpu(x, got, v[0], v[1], dims, perm, 2);
        } else if (!strcmp(kind, "slice")) {
            if (ref)
                slice_fwd_ref(x, got, v[0], v[1], dims, start, step, ydims);
            else
                slice_fwd_cpu(x, got, v[0], v[1], dims, start, step, ydims, 2);
        } else if (!strcmp(kind, "softmax")) {
            if (ref)
                softmax_fwd_ref(x, got, v[0], v[1], v[2]);
            else
                softmax_fwd_cpu(x, got, v[0], v[1], v[2], 2);
        } else {
            if (ref)
                unary_fwd_ref(XFIQ_UN_EXP, x, got, cnt);
            else
                unary_fwd_cpu(XFIQ_UN_EXP, x, got, cnt, 2);
        }
        CHECK_MSG(compare(got, want, ycnt, ref ? what_ref : what), "%s", ref ? what_ref : what);
    }
    free(x), free(b), free(want), free(got);
}

static void case_elementwise(const char *kind, const char *name, const int *v)
{
    char what[128];
    snprintf(what, sizeof what, "%s %s", kind, name);
    if (!strcmp(kind, "affine") || !strcmp(kind, "prelu") || !strcmp(kind, "gap")) {
        const int n = v[0], c = v[1], sp = v[2];
        const int64_t cnt = (int64_t)n * c * sp;
        float *x = load(name, "x", cnt);
        if (!strcmp(kind, "gap")) {
            float *want = load(name, "y", (int64_t)n * c), *got = malloc(sizeof(float) * (size_t)n * c);
            gap_fwd_cpu(x, got, n, c, sp, 2);
            CHECK_MSG(compare(got, want, (int64_t)n * c, what), "%s", what);
            free(want), free(got);
        } else {
            float *want = load(name, "y", cnt), *got = malloc(sizeof(float) * (size_t)cnt);
            if (!strcmp(kind, "affine")) {
                float *scale = load(name, "scale", c), *shift = load(name, "shift", c);
                affine_fwd_cpu(x, scale, shift, got, n, c, sp, 2);
                free(scale), free(shift);
            } else {
                float *slope = load(name, "slope", v[3] ? c : 1);
                prelu_fwd_cpu(x, slope, v[3], got, n, c, sp, 2);
                free(slope);
            }
            CHECK_MSG(compare(got, want, cnt, what), "%s", what);
            free(want), free(got);
        }
        free(x);
    } else if (!strcmp(kind, "relu")) {
        float *x = load(name, "x", v[0]), *want = load(name, "y", v[0]), *got = malloc(sizeof(float) * (size_t)v[0]);
        relu_fwd_cpu(x, got, v[0], 2);
        CHECK_MSG(compare(got, want, v[0], what), "%s", what);
        free(x), free(want), free(got);
    } else if (!strcmp(kind, "binary")) {
        float *a = load(name, "a", v[1]), *b = load(name, "b", v[1]), *want = load(name, "y", v[1]);
        float *got = malloc(sizeof(float) * (size_t)v[1]);
        binary_fwd_cpu(v[0], a, b, got, v[1], 2);
        CHECK_MSG(compare(got, want, v[1], what), "%s", what);
        free(a), free(b), free(want), free(got);
    } else if (!strcmp(kind, "binconst")) {
        const int op = v[0], cf = v[1], n = v[2], per = v[3];
        float *x = load(name, "x", (int64_t)n * per), *k = load(name, "k", per);
        float *want = load(name, "y", (int64_t)n * per), *got = malloc(sizeof(float) * (size_t)n * per);
        binconst_fwd_cpu(op, cf, x, k, got, n, per, 2);
        CHECK_MSG(compare(got, want, (int64_t)n * per, what), "%s", what);
        free(x), free(k), free(want), free(got);
    } else {
        CHECK_MSG(0, "unknown case kind %s", kind);
    }
}

int main(void)
{
    const char *py = getenv("XFIQ_PYTHON") ? getenv("XFIQ_PYTHON") : "/usr/bin/python3";
    const char *src = getenv("XFIQ_SOURCE_DIR") ? getenv("XFIQ_SOURCE_DIR") : ".";
    const char *fix = getenv("XFIQ_FIXTURE_DIR") ? getenv("XFIQ_FIXTURE_DIR") : "/tmp";
    char cmd[4096];
    if (access(py, X_OK) != 0)
        SKIP("%s not found: cannot run the PyTorch reference", py);
    snprintf(g_dir, sizeof g_dir, "%s/ops_torch", fix);
    mkdir(g_dir, 0755);
    snprintf(cmd, sizeof cmd, "nice -n 10 '%s' '%s/tests/ref/ops_torch_ref.py' '%s'", py, src, g_dir);
    const int rc = system(cmd);
    if (rc == -1 || !WIFEXITED(rc)) {
        fprintf(stderr, "cannot run: %s\n", cmd);
        return 1;
    }
    if (WEXITSTATUS(rc) == XFIQ_SKIP_CODE)
        SKIP("torch is not importable by %s", py);
    if (WEXITSTATUS(rc) != 0) {
        fprintf(stderr, "%s failed with exit code %d\n", cmd, WEXITSTATUS(rc));
        return 1;
    }

    char path[1200], line[512], kind[32], name[64];
    snprintf(path, sizeof path, "%s/cases.txt", g_dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    int cases = 0;
    while (fgets(line, sizeof line, f)) {
        int v[24] = {0}, used = 0, cnt = 0;
        if (sscanf(line, "%31s %63s%n", kind, name, &used) != 2)
            continue;
        for (char *p = line + used; cnt < 24;) {
            int adv = 0;
            if (sscanf(p, "%d%n", &v[cnt], &adv) != 1)
                break;
            cnt++;
            p += adv;
        }
        if (!strcmp(kind, "conv"))
            case_conv(name, v);
        else if (!strcmp(kind, "gemm"))
            case_gemm(name, v);
        else if (!strcmp(kind, "concat") || !strcmp(kind, "transpose") || !strcmp(kind, "slice") ||
                 !strcmp(kind, "softmax") || !strcmp(kind, "exp"))
            case_layout(kind, name, v);
        else
            case_elementwise(kind, name, v);
        cases++;
    }
    fclose(f);
    CHECK_MSG(cases >= 43, "only %d cases read from %s", cases, path);
    TEST_END();
}
