/* bench_gpu.c - whole-model GPU throughput of xfiq through the public API
 * only: embed (xfiq_model_embed), SER-FIQ (xfiq_model_serfiq) and PLQ maps
 * (xfiq_model_plq) at one batch size, in each precision of the CUDA backend
 * (xfiq_backend_init_opts), on random 8-bit faces from a fixed seed. Each
 * (precision, task) prints one JSON line; bench/gpu_check.sh puts them beside
 * the PyTorch peer (bench/peers/peer_torch_gpu.py) in one table.
 *
 * Timing: every public call is synchronous (pixels in host memory, results
 * back in host memory), so the wall clock around one call is the time of the
 * batch, transfers included. Warm-up calls first (the first plans memory and
 * builds the cuDNN plans; its time is reported as first_call_s), then up to
 * --iters timed calls, stopping early after --max-seconds (at least 3 calls);
 * img_per_s = batch / median call time.
 *
 * Checks on every result (never throughput of garbage): outputs finite and not
 * all equal; embeddings non-zero; SER-FIQ in (0, 1]; PLQ maps in [0, 1]. At
 * the end, the other precisions' outputs are compared with the fp32 run of the
 * same process ("kind": "compare" lines: min cosine of the embeddings, max
 * |delta| raw SER-FIQ, mean |delta P|), whatever order they ran in.
 *
 * A precision other than fp32 that the build declines (XFIQ_ERR_UNSUPPORTED
 * from any call, or XFIQ_ERR_ARG from the backend initialisation) gives status
 * "refused" with the library's message; every other error "failed".
 *
 * Usage:
 *   bench_gpu --model M.onnx [--card C.json] [--name LABEL] [--backend cuda|cpu]
 *             [--device 0] [--threads 0] [--precisions fp32,tf32,bf16,fp16]
 *             [--tasks embed,serfiq,plq] [--batch 256] [--T 100] [--warmup 2]
 *             [--iters 10] [--max-seconds 5] [--deadline UNIX_SECONDS]
 *   bench_gpu --dump-devprop PATH [--device 0]   cuDNN device-properties JSON
 *   bench_gpu --versions                          runtime versions (JSON line)
 *   --dry-run: CPU backend, batch 2, 1 iteration, 1 warm-up (plumbing check
 *   without a GPU; later options still override). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xfiq.h"
#include "xfiq_quality.h"

/* Added to the CUDA backend by the cuDNN work (cuda/): may not exist yet. The
 * weak reference is NULL when the symbol is absent; bench/gpu.cmake links the
 * CUDA archive whole so that a present one is found. */
extern xfiq_status xfiq_cudnn_dump_device_json(int device, const char *path) __attribute__((weak));

enum { TASK_EMBED, TASK_SERFIQ, TASK_PLQ, TASK_COUNT };
static const char *const k_task_names[TASK_COUNT] = {"embed", "serfiq", "plq"};

typedef struct args {
    const char *model, *card, *name, *dump_path;
    xfiq_backend_kind kind;
    int device, threads, batch, T, warmup, iters, versions, dry_run;
    double max_seconds, deadline;
    int precisions[4], n_precisions;
    int tasks[TASK_COUNT], n_tasks;
} args;

/* Outputs of one precision's runs, kept to compare the precisions with fp32
 * at the end (whatever order they ran in). */
typedef struct kept {
    int have[TASK_COUNT];
    float *emb;   /* batch x D (embed) */
    float *q_raw; /* batch (SER-FIQ) */
    float *maps;  /* batch x H x W (PLQ) */
    float *plq_q; /* batch (raw SER-FIQ of the PLQ call) */
} kept;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* JSON string body: quotes, backslashes and control characters escaped. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_gpu --model M.onnx [--card C.json] [--name LABEL] [--backend cuda|cpu] [--device 0]\n"
            "                 [--threads 0] [--precisions fp32,tf32,bf16,fp16] [--tasks embed,serfiq,plq]\n"
            "                 [--batch 256] [--T 100] [--warmup 2] [--iters 10] [--max-seconds 5]\n"
            "                 [--deadline UNIX_SECONDS] [--dry-run]\n"
            "       bench_gpu --dump-devprop PATH [--device 0]\n"
            "       bench_gpu --versions\n");
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi)
        return 0;
    *out = (int)v;
    return 1;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !isfinite(v) || v < 0)
        return 0;
    *out = v;
    return 1;
}

/* Comma-separated names into indices; 0 on an unknown name. */
static int parse_precisions(const char *list, args *a)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list);
    a->n_precisions = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        xfiq_precision p;
        if (xfiq_precision_parse(tok, &p) != XFIQ_OK || a->n_precisions == 4) {
            fprintf(stderr, "bench_gpu: --precisions: %s\n", xfiq_last_error());
            return 0;
        }
        a->precisions[a->n_precisions++] = (int)p;
    }
    return a->n_precisions > 0;
}

static int parse_tasks(const char *list, args *a)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", list);
    a->n_tasks = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        int t = 0;
        while (t < TASK_COUNT && strcmp(tok, k_task_names[t]))
            t++;
        if (t == TASK_COUNT || a->n_tasks == TASK_COUNT) {
            fprintf(stderr, "bench_gpu: --tasks: unknown task '%s' (embed, serfiq, plq)\n", tok);
            return 0;
        }
        a->tasks[a->n_tasks++] = t;
    }
    return a->n_tasks > 0;
}

static int parse_args(int argc, char **argv, args *a)
{
    *a = (args){.kind = XFIQ_BACKEND_CUDA, .batch = 256, .T = 100, .warmup = 2, .iters = 10, .max_seconds = 5};
    parse_precisions("fp32,tf32,bf16,fp16", a);
    parse_tasks("embed,serfiq,plq", a);
    /* --dry-run first, so that explicit options override its defaults. */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--dry-run")) {
            a->dry_run = 1;
            a->kind = XFIQ_BACKEND_CPU;
            a->batch = 2, a->iters = 1, a->warmup = 1, a->max_seconds = 2, a->threads = 1;
        }
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        if (!strcmp(k, "--dry-run"))
            continue;
        if (!strcmp(k, "--versions")) {
            a->versions = 1;
            continue;
        }
        if (!strcmp(k, "--help") || !strcmp(k, "-h"))
            return 0;
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_gpu: option '%s' needs a value\n", k);
            return 0;
        }
        const char *v = argv[++i];
        int ok = 1;
        if (!strcmp(k, "--model"))
            a->model = v;
        else if (!strcmp(k, "--card"))
            a->card = v;
        else if (!strcmp(k, "--name"))
            a->name = v;
        else if (!strcmp(k, "--dump-devprop"))
            a->dump_path = v;
        else if (!strcmp(k, "--backend")) {
            if (!strcmp(v, "cuda"))
                a->kind = XFIQ_BACKEND_CUDA;
            else if (!strcmp(v, "cpu"))
                a->kind = XFIQ_BACKEND_CPU;
            else
                ok = 0;
        } else if (!strcmp(k, "--device"))
            ok = parse_int(v, 0, 64, &a->device);
        else if (!strcmp(k, "--threads"))
            ok = parse_int(v, 0, 1024, &a->threads);
        else if (!strcmp(k, "--batch"))
            ok = parse_int(v, 1, 65536, &a->batch);
        else if (!strcmp(k, "--T"))
            ok = parse_int(v, 2, 10000, &a->T);
        else if (!strcmp(k, "--warmup"))
            ok = parse_int(v, 0, 1000, &a->warmup);
        else if (!strcmp(k, "--iters"))
            ok = parse_int(v, 1, 100000, &a->iters);
        else if (!strcmp(k, "--max-seconds"))
            ok = parse_double(v, &a->max_seconds);
        else if (!strcmp(k, "--deadline"))
            ok = parse_double(v, &a->deadline);
        else if (!strcmp(k, "--precisions"))
            ok = parse_precisions(v, a);
        else if (!strcmp(k, "--tasks"))
            ok = parse_tasks(v, a);
        else {
            fprintf(stderr, "bench_gpu: unknown option '%s'\n", k);
            return 0;
        }
        if (!ok) {
            fprintf(stderr, "bench_gpu: bad value '%s' for %s\n", v, k);
            return 0;
        }
    }
    if (!a->model && !a->dump_path && !a->versions) {
        fprintf(stderr, "bench_gpu: --model (or --dump-devprop / --versions) is required\n");
        return 0;
    }
    return 1;
}

/* Versions of the CUDA libraries loaded in this process (NULL symbols where the
 * build has no CUDA backend): asked of the libraries themselves, so they are
 * the ones found on LD_LIBRARY_PATH, not the ones of the build machine. */
static void print_versions(const args *a)
{
    int rt = 0, drv = 0;
    size_t cudnn = 0;
    int (*rt_fn)(int *) = (int (*)(int *))dlsym(RTLD_DEFAULT, "cudaRuntimeGetVersion");
    int (*drv_fn)(int *) = (int (*)(int *))dlsym(RTLD_DEFAULT, "cudaDriverGetVersion");
    size_t (*dnn_fn)(void) = (size_t(*)(void))dlsym(RTLD_DEFAULT, "cudnnGetVersion");
    if (rt_fn && rt_fn(&rt) != 0)
        rt = 0;
    if (drv_fn && drv_fn(&drv) != 0)
        drv = 0;
    if (dnn_fn)
        cudnn = dnn_fn();
    char rts[32] = "n/a", drvs[32] = "n/a", dnns[32] = "n/a";
    if (rt)
        snprintf(rts, sizeof rts, "%d.%d", rt / 1000, rt % 1000 / 10);
    if (drv)
        snprintf(drvs, sizeof drvs, "%d.%d", drv / 1000, drv % 1000 / 10);
    if (cudnn)
        snprintf(dnns, sizeof dnns, "%zu.%zu.%zu", cudnn / 10000, cudnn % 10000 / 100, cudnn % 100);
    printf("{\"peer\": \"xfiq\", \"kind\": \"versions\", \"xfiq\": \"%d.%d\", \"cuda_runtime\": \"%s\", "
           "\"cuda_driver\": \"%s\", \"cudnn\": \"%s\", \"cuda_available\": %d, \"devprop_dump\": %d, "
           "\"dry_run\": %d}\n",
           XFIQ_VERSION_MAJOR, XFIQ_VERSION_MINOR, rts, drvs, dnns, xfiq_backend_available(XFIQ_BACKEND_CUDA),
           xfiq_cudnn_dump_device_json != NULL, a->dry_run);
    fflush(stdout);
}

static int dump_devprop(const args *a)
{
    if (!xfiq_cudnn_dump_device_json) {
        printf("devprop: not available in this build (no extern \"C\" xfiq_cudnn_dump_device_json in the CUDA backend)\n");
        return 0;
    }
    xfiq_status st = xfiq_cudnn_dump_device_json(a->device, a->dump_path);
    if (st != XFIQ_OK) {
        printf("devprop: xfiq_cudnn_dump_device_json(%d, %s) failed: %s: %s\n", a->device, a->dump_path,
               xfiq_status_string(st), xfiq_last_error());
        return 1;
    }
    printf("devprop: cuDNN device properties of device %d written to %s\n", a->device, a->dump_path);
    return 0;
}

/* splitmix64: the same faces on every run, whatever the platform's rand(). */
static void fill_faces(uint8_t *px, size_t n)
{
    uint64_t s = 0x2545F4914F6CDD1DULL;
    for (size_t i = 0; i < n; i++) {
        uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        px[i] = (uint8_t)((z ^ (z >> 31)) >> 56);
    }
}

typedef struct bufs {
    uint8_t *pixels;
    float *emb, *mag, *maps;
    xfiq_quality *q;
    int dim;   /* 0 until the first model load sized the buffers */
    size_t hw;
} bufs;

/* Sizes the buffers at the first model load (and prints the model line);
 * later loads must have the same shape. 0 on failure (message printed). */
static int ensure_bufs(const args *a, const xfiq_model_info *info, bufs *b)
{
    size_t hw = (size_t)info->input_width * (size_t)info->input_height, n = (size_t)a->batch;
    if (b->dim)
        return b->dim == info->embedding_dim && b->hw == hw ? 1
               : (fprintf(stderr, "bench_gpu: the model's shape changed between precisions\n"), 0);
    if (info->input_channels > 3 || info->embedding_dim < 1 || hw == 0) {
        fprintf(stderr, "bench_gpu: unexpected model shape\n");
        return 0;
    }
    b->pixels = malloc(n * hw * 3);
    b->emb = malloc(n * (size_t)info->embedding_dim * sizeof *b->emb);
    b->mag = malloc(n * sizeof *b->mag);
    b->maps = malloc(n * hw * sizeof *b->maps);
    b->q = malloc(n * sizeof *b->q);
    if (!b->pixels || !b->emb || !b->mag || !b->maps || !b->q) {
        fprintf(stderr, "bench_gpu: out of memory for batch %d\n", a->batch);
        return 0;
    }
    fill_faces(b->pixels, n * hw * 3);
    b->dim = info->embedding_dim;
    b->hw = hw;
    printf("{\"peer\": \"xfiq\", \"kind\": \"model\", \"model\": ");
    json_str(stdout, a->name ? a->name : a->model);
    printf(", \"path\": ");
    json_str(stdout, a->model);
    printf(", \"family\": ");
    json_str(stdout, info->family);
    printf(", \"embedding_layer\": ");
    json_str(stdout, info->embedding_layer);
    printf(", \"macs_per_image\": %.0f, \"num_params\": %lld, \"embedding_dim\": %d, \"input\": [%d, %d, %d]}\n",
           info->macs_per_image, (long long)info->num_params, info->embedding_dim, info->input_width,
           info->input_height, info->input_channels);
    fflush(stdout);
    return 1;
}

static xfiq_status run_task(xfiq_model_t m, int task, int n, bufs *b, const xfiq_serfiq_opts *so,
                            const xfiq_plq_opts *po)
{
    switch (task) {
    case TASK_EMBED: return xfiq_model_embed(m, b->pixels, n, b->emb, b->mag);
    case TASK_SERFIQ: return xfiq_model_serfiq(m, b->pixels, n, NULL, so, b->q, b->emb);
    default: return xfiq_model_plq(m, b->pixels, n, NULL, po, b->q, b->maps, NULL);
    }
}

/* Sanity of one batch's outputs; "" when fine, else the reason (static). */
static const char *check_outputs(int task, int n, int dim, size_t hw, const bufs *b)
{
    if (task == TASK_EMBED) {
        for (int i = 0; i < n; i++) {
            double ss = 0;
            for (int k = 0; k < dim; k++) {
                float v = b->emb[(size_t)i * dim + k];
                if (!isfinite(v))
                    return "non-finite embedding";
                ss += (double)v * v;
            }
            if (!(ss > 0))
                return "zero embedding";
        }
        return "";
    }
    float q0 = b->q[0].serfiq_raw;
    int all_equal = 1;
    for (int i = 0; i < n; i++) {
        float q = b->q[i].serfiq_raw;
        if (!isfinite(q) || q <= 0 || q > 1)
            return "raw SER-FIQ outside (0, 1]";
        all_equal &= q == q0;
    }
    if (all_equal && n > 2)
        return "every raw SER-FIQ equal";
    if (task == TASK_PLQ) {
        float p0 = b->maps[0];
        int flat = 1;
        for (size_t i = 0; i < (size_t)n * hw; i++) {
            float p = b->maps[i];
            if (!isfinite(p) || p < 0 || p > 1)
                return "PLQ map value outside [0, 1]";
            flat &= p == p0;
        }
        if (flat)
            return "PLQ maps constant";
    }
    return "";
}

/* One comparison line of precision p's outputs against fp32's. */
static void emit_compare(const args *a, int p, int task, int dim, size_t hw, const kept *x, const kept *r)
{
    int n = a->batch;
    printf("{\"peer\": \"xfiq\", \"kind\": \"compare\", \"model\": ");
    json_str(stdout, a->name ? a->name : a->model);
    printf(", \"task\": \"%s\", \"precision\": \"%s\", \"against\": \"fp32\"", k_task_names[task],
           xfiq_precision_name((xfiq_precision)p));
    if (task == TASK_EMBED) {
        double worst = 1;
        for (int i = 0; i < n; i++) {
            double d = 0, na = 0, nb = 0;
            for (int k = 0; k < dim; k++) {
                double u = x->emb[(size_t)i * dim + k], v = r->emb[(size_t)i * dim + k];
                d += u * v, na += u * u, nb += v * v;
            }
            double c = d / sqrt(na * nb + 1e-300);
            if (c < worst)
                worst = c;
        }
        printf(", \"min_cos_vs_fp32\": %.6f", worst);
    } else {
        const float *qx = task == TASK_SERFIQ ? x->q_raw : x->plq_q, *qr = task == TASK_SERFIQ ? r->q_raw : r->plq_q;
        double dq = 0;
        for (int i = 0; i < n; i++) {
            double d = fabs((double)qx[i] - qr[i]);
            if (d > dq)
                dq = d;
        }
        printf(", \"max_dq_raw_vs_fp32\": %.6f", dq);
        if (task == TASK_PLQ) {
            double dp = 0;
            for (size_t i = 0; i < (size_t)n * hw; i++)
                dp += fabs((double)x->maps[i] - r->maps[i]);
            printf(", \"mean_dP_vs_fp32\": %.6f", dp / ((double)n * hw));
        }
    }
    printf("}\n");
    fflush(stdout);
}

/* Keeps this run's outputs; 0 when out of memory (then just not compared). */
static int keep(int task, int n, int dim, size_t hw, const bufs *b, kept *k)
{
    if (task == TASK_EMBED) {
        if (!k->emb && !(k->emb = malloc((size_t)n * dim * sizeof *k->emb)))
            return 0;
        memcpy(k->emb, b->emb, (size_t)n * dim * sizeof *k->emb);
    } else {
        float **q = task == TASK_SERFIQ ? &k->q_raw : &k->plq_q;
        if (!*q && !(*q = malloc((size_t)n * sizeof **q)))
            return 0;
        for (int i = 0; i < n; i++)
            (*q)[i] = b->q[i].serfiq_raw;
        if (task == TASK_PLQ) {
            if (!k->maps && !(k->maps = malloc((size_t)n * hw * sizeof *k->maps)))
                return 0;
            memcpy(k->maps, b->maps, (size_t)n * hw * sizeof *k->maps);
        }
    }
    k->have[task] = 1;
    return 1;
}

/* One result line. status: ok, refused, failed, skipped. */
static void emit(const args *a, const char *prec, int task, const char *status, const char *message,
                 const xfiq_model_info *info, double img_s, double med_ms, int iters, double first_s,
                 const char *extra)
{
    printf("{\"peer\": \"xfiq\", \"kind\": \"result\", \"model\": ");
    json_str(stdout, a->name ? a->name : a->model);
    printf(", \"task\": \"%s\", \"precision\": \"%s\", \"backend\": \"%s\", \"batch\": %d, \"T\": %d, \"status\": ",
           k_task_names[task], prec, a->kind == XFIQ_BACKEND_CUDA ? "cuda" : "cpu", a->batch,
           task == TASK_EMBED ? 0 : a->T);
    json_str(stdout, status);
    printf(", \"message\": ");
    json_str(stdout, message ? message : "");
    if (info)
        printf(", \"macs_per_image\": %.0f, \"num_params\": %lld, \"embedding_dim\": %d, \"input\": [%d, %d, %d]",
               info->macs_per_image, (long long)info->num_params, info->embedding_dim, info->input_width,
               info->input_height, info->input_channels);
    if (!strcmp(status, "ok"))
        printf(", \"img_per_s\": %.2f, \"ms_per_iter_median\": %.3f, \"iters\": %d, \"first_call_s\": %.3f", img_s,
               med_ms, iters, first_s);
    if (extra && *extra)
        printf(", %s", extra);
    printf("}\n");
    fflush(stdout);
}

/* A failed call: "refused" when the build declines a precision other than
 * fp32 (XFIQ_ERR_UNSUPPORTED anywhere, or XFIQ_ERR_ARG from the backend
 * initialisation, as the CPU backend answers), else "failed". */
static const char *fail_kind(xfiq_status st, int precision, int at_init)
{
    int refused = precision != XFIQ_PRECISION_FP32 && (st == XFIQ_ERR_UNSUPPORTED || (at_init && st == XFIQ_ERR_ARG));
    return refused ? "refused" : "failed";
}

/* All tasks of one precision; returns 1 when something failed (not refused). */
static int bench_precision(const args *a, int precision, bufs *b, kept *k)
{
    const char *pname = xfiq_precision_name((xfiq_precision)precision);
    int failed = 0;
    if (a->deadline > 0 && wall_s() > a->deadline) {
        for (int t = 0; t < a->n_tasks; t++)
            emit(a, pname, a->tasks[t], "skipped", "out of time (the script's benchmark budget)", NULL, 0, 0, 0, 0, "");
        return 0;
    }
    xfiq_backend_opts o;
    xfiq_backend_opts_default(&o);
    o.num_threads = a->threads;
    o.device = a->device;
    o.precision = (xfiq_precision)precision;
    xfiq_backend_t be = NULL;
    xfiq_model_t m = NULL;
    xfiq_status st = xfiq_backend_init_opts(&be, a->kind, &o);
    if (st != XFIQ_OK) {
        char msg[512], where[160];
        snprintf(msg, sizeof msg, "%s", xfiq_last_error());
        snprintf(where, sizeof where, "\"call\": \"xfiq_backend_init_opts(%s, %s)\", \"code\": \"%s\"",
                 a->kind == XFIQ_BACKEND_CUDA ? "cuda" : "cpu", pname, xfiq_status_string(st));
        const char *kind = fail_kind(st, precision, 1);
        for (int t = 0; t < a->n_tasks; t++)
            emit(a, pname, a->tasks[t], kind, msg, NULL, 0, 0, 0, 0, where);
        return strcmp(kind, "refused") != 0;
    }
    double t_load = now_s();
    st = xfiq_model_load(be, a->model, a->card, &m);
    xfiq_model_info info;
    if (st == XFIQ_OK)
        st = xfiq_model_get_info(m, &info);
    if (st != XFIQ_OK) {
        char msg[512], where[160];
        snprintf(msg, sizeof msg, "%s", xfiq_last_error());
        snprintf(where, sizeof where, "\"call\": \"xfiq_model_load\", \"code\": \"%s\"", xfiq_status_string(st));
        const char *kind = fail_kind(st, precision, 0);
        for (int t = 0; t < a->n_tasks; t++)
            emit(a, pname, a->tasks[t], kind, msg, NULL, 0, 0, 0, 0, where);
        xfiq_model_free(m);
        xfiq_backend_free(be);
        return strcmp(kind, "refused") != 0;
    }
    t_load = now_s() - t_load;
    if (!ensure_bufs(a, &info, b)) {
        xfiq_model_free(m);
        xfiq_backend_free(be);
        return 1;
    }
    size_t hw = b->hw;
    xfiq_serfiq_opts so;
    xfiq_plq_opts po;
    xfiq_serfiq_opts_default(m, 0, &so);
    xfiq_plq_opts_default(m, 0, &po);
    so.T = po.serfiq.T = a->T;
    double *times = malloc((size_t)a->iters * sizeof *times);
    if (!times) {
        fprintf(stderr, "bench_gpu: out of memory\n");
        xfiq_model_free(m);
        xfiq_backend_free(be);
        return 1;
    }
    for (int ti = 0; ti < a->n_tasks; ti++) {
        int task = a->tasks[ti];
        char extra[256];
        snprintf(extra, sizeof extra, "\"load_s\": %.3f", t_load);
        if (a->deadline > 0 && wall_s() > a->deadline) {
            emit(a, pname, task, "skipped", "out of time (the script's benchmark budget)", &info, 0, 0, 0, 0, extra);
            continue;
        }
        double first = 0;
        int n_done = 0;
        st = XFIQ_OK;
        for (int w = 0; w < (a->warmup > 0 ? a->warmup : 1) && st == XFIQ_OK; w++) {
            double t0 = now_s();
            st = run_task(m, task, a->batch, b, &so, &po);
            if (w == 0)
                first = now_s() - t0;
        }
        double t_start = now_s();
        for (int i = 0; i < a->iters && st == XFIQ_OK; i++) {
            if (i >= 3 && now_s() - t_start > a->max_seconds)
                break;
            double t0 = now_s();
            st = run_task(m, task, a->batch, b, &so, &po);
            times[i] = now_s() - t0;
            n_done = i + 1;
        }
        if (st != XFIQ_OK) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", xfiq_last_error());
            size_t el = strlen(extra);
            snprintf(extra + el, sizeof extra - el, ", \"call\": \"xfiq_model_%s\", \"code\": \"%s\"",
                     k_task_names[task], xfiq_status_string(st));
            const char *kind = fail_kind(st, precision, 0);
            failed |= strcmp(kind, "refused") != 0;
            emit(a, pname, task, kind, msg, &info, 0, 0, 0, 0, extra);
            continue;
        }
        const char *bad = check_outputs(task, a->batch, info.embedding_dim, hw, b);
        if (*bad) {
            emit(a, pname, task, "failed", bad, &info, 0, 0, 0, 0, extra);
            failed = 1;
            continue;
        }
        keep(task, a->batch, info.embedding_dim, hw, b, k);
        qsort(times, (size_t)n_done, sizeof *times, cmp_double);
        double med = times[n_done / 2]; /* upper median, as the other benchmarks */
        double q_mean = 0;
        for (int i = 0; i < a->batch && task != TASK_EMBED; i++)
            q_mean += b->q[i].serfiq_raw / a->batch;
        size_t el = strlen(extra);
        if (task != TASK_EMBED)
            snprintf(extra + el, sizeof extra - el, ", \"q_raw_mean\": %.4f", q_mean);
        emit(a, pname, task, "ok", "", &info, a->batch / med, 1e3 * med, n_done, first, extra);
    }
    free(times);
    xfiq_model_free(m);
    xfiq_backend_free(be);
    return failed;
}

int main(int argc, char **argv)
{
    args a;
    if (!parse_args(argc, argv, &a)) {
        usage();
        return 2;
    }
    if (a.versions)
        print_versions(&a);
    if (a.dump_path && dump_devprop(&a))
        return 1;
    if (!a.model)
        return 0;

    /* Buffers are sized at the first successful load (no extra load just for
     * the shape: an iResNet-100 takes seconds to read). */
    bufs b = {0};
    kept k[4];
    memset(k, 0, sizeof k);
    int rc = 0;
    for (int p = 0; p < a.n_precisions; p++)
        rc |= bench_precision(&a, a.precisions[p], &b, &k[a.precisions[p]]);
    const kept *r = &k[XFIQ_PRECISION_FP32];
    for (int p = 1; p < 4; p++)
        for (int t = 0; t < TASK_COUNT; t++)
            if (k[p].have[t] && r->have[t])
                emit_compare(&a, p, t, b.dim, b.hw, &k[p], r);
    free(b.pixels), free(b.emb), free(b.mag), free(b.maps), free(b.q);
    for (int p = 0; p < 4; p++)
        free(k[p].emb), free(k[p].q_raw), free(k[p].maps), free(k[p].plq_q);
    return rc;
}
