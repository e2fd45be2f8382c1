/* bench_models.c - whole-model throughput of xfiq through the public API:
 * embed (xfiq_model_embed), SER-FIQ (xfiq_model_serfiq) or PLQ maps
 * (xfiq_model_plq) on random 8-bit faces from a fixed seed, printed as one
 * JSON line in the format of the peers in bench/peers/ so
 * bench/run_cpu_bench.sh can put them side by side. Never run by ctest.
 *
 * --profile adds a per-node time table on stderr: it walks the model's
 * internal runner (engine/runner.h) the same way xfiq_runner_run and
 * xfiq_runner_backward do, timing each node. Read-only use of the engine, to
 * say which layers dominate when a target is missed.
 *
 * Usage: bench_models --mode embed|serfiq|plq --model M.onnx [--card C.json]
 *          [--batch 1] [--iters 10] [--threads 2] [--warmup 2] [--T 100]
 *          [--profile] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "core/status.h"
#include "engine/model.h"
#include "engine/runner.h"
#include "xfiq.h"
#include "xfiq_quality.h"

typedef enum { MODE_EMBED, MODE_SERFIQ, MODE_PLQ } bench_mode;

typedef struct bench_args {
    bench_mode mode;
    const char *model, *card;
    int batch, iters, threads, warmup, T, profile;
} bench_args;

typedef struct bench_bufs {
    uint8_t *pixels;
    float *emb, *mag, *maps;
    xfiq_quality *q;
    xfiq_serfiq_opts so;
    xfiq_plq_opts po;
} bench_bufs;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_models --mode embed|serfiq|plq --model M.onnx [--card C.json] [--batch 1]\n"
                    "                    [--iters 10] [--threads 2] [--warmup 2] [--T 100] [--profile]\n");
}

static int parse_int(const char *s, int lo, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > 1000000)
        return 0;
    *out = (int)v;
    return 1;
}

static int parse_args(int argc, char **argv, bench_args *a)
{
    *a = (bench_args){.mode = MODE_EMBED, .batch = 1, .iters = 10, .threads = 2, .warmup = 2, .T = 100};
    int have_mode = 0;
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        if (!strcmp(k, "--profile")) {
            a->profile = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_models: option '%s' needs a value\n", k);
            return 0;
        }
        const char *v = argv[++i];
        int ok = 1;
        if (!strcmp(k, "--mode")) {
            have_mode = 1;
            if (!strcmp(v, "embed"))
                a->mode = MODE_EMBED;
            else if (!strcmp(v, "serfiq"))
                a->mode = MODE_SERFIQ;
            else if (!strcmp(v, "plq"))
                a->mode = MODE_PLQ;
            else
                ok = 0;
        } else if (!strcmp(k, "--model"))
            a->model = v;
        else if (!strcmp(k, "--card"))
            a->card = v;
        else if (!strcmp(k, "--batch"))
            ok = parse_int(v, 1, &a->batch);
        else if (!strcmp(k, "--iters"))
            ok = parse_int(v, 1, &a->iters);
        else if (!strcmp(k, "--threads"))
            ok = parse_int(v, 1, &a->threads);
        else if (!strcmp(k, "--warmup"))
            ok = parse_int(v, 0, &a->warmup);
        else if (!strcmp(k, "--T"))
            ok = parse_int(v, 2, &a->T);
        else {
            fprintf(stderr, "bench_models: unknown option '%s'\n", k);
            return 0;
        }
        if (!ok) {
            fprintf(stderr, "bench_models: bad value '%s' for %s\n", v, k);
            return 0;
        }
    }
    if (!have_mode || !a->model) {
        fprintf(stderr, "bench_models: --mode and --model are required\n");
        return 0;
    }
    return 1;
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

static xfiq_status run_once(xfiq_model_t m, const bench_args *a, bench_bufs *b)
{
    switch (a->mode) {
    case MODE_EMBED:
        return xfiq_model_embed(m, b->pixels, a->batch, b->emb, b->mag);
    case MODE_SERFIQ:
        return xfiq_model_serfiq(m, b->pixels, a->batch, NULL, &b->so, b->q, NULL);
    case MODE_PLQ:
        return xfiq_model_plq(m, b->pixels, a->batch, NULL, &b->po, b->q, b->maps, NULL);
    }
    return XFIQ_ERR_ARG;
}

/* ------------------------------------------------------------ profiling */
typedef struct node_time {
    int node;
    double fwd, bwd; /* medians over the repetitions, seconds */
} node_time;

static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static int cmp_node_total(const void *pa, const void *pb)
{
    const node_time *x = pa, *y = pb;
    double tx = x->fwd + x->bwd, ty = y->fwd + y->bwd;
    return (tx < ty) - (tx > ty);
}

/* Multiply-adds of one image through a conv or gemm node (0 for the others). */
static double node_macs(const xfiq_node *nd)
{
    if (nd->op == XFIQ_OP_CONV) {
        const xfiq_conv_desc *c = &nd->d.conv;
        return (double)c->cout * (c->cin / c->group) * c->kh * c->kw * c->oh * c->ow;
    }
    if (nd->op == XFIQ_OP_GEMM)
        return (double)nd->d.gemm.k * nd->d.gemm.m;
    return 0;
}

static void describe_node(const xfiq_graph *g, const xfiq_node *nd, char *buf, size_t len)
{
    if (nd->op == XFIQ_OP_CONV) {
        const xfiq_conv_desc *c = &nd->d.conv;
        snprintf(buf, len, "%s%dx%d s%d %d>%d @%d", c->group == c->cin && c->group > 1 ? "dw " : "", c->kh, c->kw,
                 c->sh, c->cin, c->cout, c->ih);
    } else if (nd->op == XFIQ_OP_GEMM) {
        snprintf(buf, len, "%d>%d", nd->d.gemm.k, nd->d.gemm.m);
    } else {
        snprintf(buf, len, "%lld el", (long long)g->values[nd->out].numel);
    }
}

/* Conv/gemm time grouped by layer shape (the nodes in graph order). */
static void print_by_shape(const xfiq_graph *g, const node_time *t, int n)
{
    char *seen = calloc((size_t)g->n_nodes, 1);
    if (!seen)
        return;
    fprintf(stderr, "conv/gemm by shape:  %-24s %5s %10s %10s %9s %9s\n", "shape", "count", "fwd ms/img", "bwd ms/img",
            "fwd GF/s", "bwd GF/s");
    for (int i = 0; i < g->n_nodes; i++) {
        if (seen[i] || node_macs(&g->nodes[i]) == 0)
            continue;
        char di[96], dj[96];
        describe_node(g, &g->nodes[i], di, sizeof di);
        double f = 0, bw = 0, macs = 0;
        int count = 0;
        for (int j = i; j < g->n_nodes; j++) {
            if (seen[j] || g->nodes[j].op != g->nodes[i].op)
                continue;
            describe_node(g, &g->nodes[j], dj, sizeof dj);
            if (strcmp(di, dj))
                continue;
            seen[j] = 1;
            count++;
            f += t[j].fwd;
            bw += t[j].bwd;
            macs += node_macs(&g->nodes[j]);
        }
        fprintf(stderr, "                     %-24s %5d %10.3f %10.3f %9.0f %9.0f\n", di, count, 1e3 * f / n,
                1e3 * bw / n, f > 0 ? 2e-9 * macs * n / f : 0.0, bw > 0 ? 2e-9 * macs * n / bw : 0.0);
    }
    free(seen);
}

/* Times each node of runner r at batch n (already reserved and run once):
 * forward always, backward when with_bwd (r retains activations). */
static xfiq_status profile_runner(xfiq_runner *r, int n, int reps, int with_bwd, const char *title)
{
    const xfiq_graph *g = r->g;
    const xfiq_backend_ops *ops = r->be->ops;
    node_time *t = calloc((size_t)g->n_nodes, sizeof *t);
    /* Per node and repetition: the median per node resists other load. */
    double *tf_all = calloc((size_t)g->n_nodes * (size_t)reps, sizeof *tf_all);
    double *tb_all = calloc((size_t)g->n_nodes * (size_t)reps, sizeof *tb_all);
    float *seed = NULL, *dx = NULL;
    if (!t || !tf_all || !tb_all) {
        free(t);
        free(tf_all);
        free(tb_all);
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory for the profile");
    }
    for (int i = 0; i < g->n_nodes; i++)
        t[i].node = i;
    xfiq_exec ex = xfiq_runner_exec(r, n);
    xfiq_status st = XFIQ_OK;
    if (with_bwd) {
        size_t out_n = (size_t)g->values[g->output].numel * (size_t)n;
        seed = malloc(out_n * sizeof *seed);
        dx = malloc((size_t)g->values[g->input].numel * (size_t)n * sizeof *dx);
        if (!seed || !dx)
            st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory for the profile");
        for (size_t i = 0; seed && i < out_n; i++)
            seed[i] = (i & 1) ? 0.01f : -0.01f;
        /* The public call allocates the gradient buffers; the timed walk reuses them. */
        if (st == XFIQ_OK)
            st = xfiq_runner_backward(r, n, seed, dx);
    }
    for (int rep = 0; rep < reps && st == XFIQ_OK; rep++) {
        for (int i = 0; i < g->n_nodes && st == XFIQ_OK; i++) {
            double t0 = now_s();
            st = ops->fwd[g->nodes[i].op](&ex, g, &g->nodes[i]);
            tf_all[(size_t)i * (size_t)reps + (size_t)rep] = now_s() - t0;
        }
        if (!with_bwd || st != XFIQ_OK)
            continue;
        ex.grad_arena = r->grad_block;
        ex.grad_offsets = r->grad_offsets;
        ex.grad_written = r->grad_written;
        memset(r->grad_written, 0, (size_t)g->n_values);
        memcpy(xfiq_exec_grad(&ex, g->output), seed, (size_t)g->values[g->output].numel * (size_t)n * sizeof *seed);
        r->grad_written[g->values[g->output].storage] = 1;
        for (int i = g->n_nodes - 1; i >= 0 && st == XFIQ_OK; i--) {
            const xfiq_node *nd = &g->nodes[i];
            if (!r->grad_written[g->values[nd->out].storage] || !ops->bwd[nd->op])
                continue;
            double t0 = now_s();
            st = ops->bwd[nd->op](&ex, g, nd);
            tb_all[(size_t)i * (size_t)reps + (size_t)rep] = now_s() - t0;
        }
    }
    for (int i = 0; i < g->n_nodes && st == XFIQ_OK; i++) {
        t[i].fwd = median_of(tf_all + (size_t)i * (size_t)reps, reps);
        t[i].bwd = median_of(tb_all + (size_t)i * (size_t)reps, reps);
    }
    if (st == XFIQ_OK) {
        double by_op_f[XFIQ_OP_COUNT] = {0}, by_op_b[XFIQ_OP_COUNT] = {0}, tf = 0, tb = 0;
        for (int i = 0; i < g->n_nodes; i++) {
            by_op_f[g->nodes[i].op] += t[i].fwd;
            by_op_b[g->nodes[i].op] += t[i].bwd;
            tf += t[i].fwd;
            tb += t[i].bwd;
        }
        double per = 1e3 / n;
        fprintf(stderr, "\n== profile %s: batch %d, median of %d reps per node, ms per image: forward %.3f%s", title, n, reps, tf * per,
                with_bwd ? "" : "\n");
        if (with_bwd)
            fprintf(stderr, ", backward %.3f\n", tb * per);
        fprintf(stderr, "%-10s %10s %10s\n", "op", "fwd ms/img", "bwd ms/img");
        for (int o = 0; o < XFIQ_OP_COUNT; o++)
            if (by_op_f[o] + by_op_b[o] > 0)
                fprintf(stderr, "%-10s %10.3f %10.3f\n", xfiq_op_name((xfiq_op)o), by_op_f[o] * per, by_op_b[o] * per);
        print_by_shape(g, t, n);
        qsort(t, (size_t)g->n_nodes, sizeof *t, cmp_node_total);
        double macs = 0;
        for (int i = 0; i < g->n_nodes; i++)
            macs += node_macs(&g->nodes[i]);
        /* Flops of the direct convolution: Winograd layers do 2.25x fewer multiplies. */
        fprintf(stderr, "conv+gemm: %.3f GMAC per image (direct), forward %.0f GFLOP/s overall\n", 1e-9 * macs,
                2e-9 * macs * n / tf);
        fprintf(stderr, "top nodes (fwd+bwd):\n");
        for (int i = 0; i < g->n_nodes && i < 15; i++) {
            const xfiq_node *nd = &g->nodes[t[i].node];
            char desc[96];
            describe_node(g, nd, desc, sizeof desc);
            double gf = 2e-9 * node_macs(nd) * n; /* GFLOP of the node at this batch */
            fprintf(stderr, "  %-28.28s %-8s %-24s fwd %7.3f bwd %7.3f ms/img (%4.1f%%)", nd->name,
                    xfiq_op_name(nd->op), desc, t[i].fwd * per, t[i].bwd * per,
                    100.0 * (t[i].fwd + t[i].bwd) / (tf + tb));
            if (gf > 0 && t[i].fwd > 0)
                fprintf(stderr, " fwd %5.0f GFLOP/s", gf / t[i].fwd);
            if (gf > 0 && t[i].bwd > 0)
                fprintf(stderr, " bwd %5.0f GFLOP/s", gf / t[i].bwd);
            fputc('\n', stderr);
        }
    }
    free(t);
    free(tf_all);
    free(tb_all);
    free(seed);
    free(dx);
    return st;
}

/* Walks the runner the public call used last: the whole fused network for
 * embed/SER-FIQ (plus the head), the unfused retained one for PLQ. */
static xfiq_status profile_model(xfiq_model_t m, const bench_args *a)
{
    int reps = a->iters < 5 ? 5 : a->iters > 15 ? 15 : a->iters;
    if (a->mode == MODE_PLQ) {
        int n = a->batch < XFIQ_MAX_CHUNK ? a->batch : XFIQ_MAX_CHUNK;
        if (n > m->back.plan.batch)
            n = m->back.plan.batch;
        return profile_runner(&m->back, n, reps, 1, "PLQ network (unfused, forward + backward-data)");
    }
    int n = a->batch < XFIQ_MAX_CHUNK ? a->batch : XFIQ_MAX_CHUNK;
    XFIQ_TRY(profile_runner(&m->full, n, reps, 0, "whole network (fused)"));
    if (a->mode == MODE_SERFIQ && m->head_run.plan.batch > 0)
        XFIQ_TRY(profile_runner(&m->head_run, m->head_run.plan.batch, reps, 0, "SER-FIQ head (rows = images x T)"));
    return XFIQ_OK;
}

/* ------------------------------------------------------------------ main */
static const char *mode_name(bench_mode m)
{
    return m == MODE_EMBED ? "embed" : m == MODE_SERFIQ ? "serfiq" : "plq";
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

int main(int argc, char **argv)
{
    bench_args a;
    if (!parse_args(argc, argv, &a)) {
        usage();
        return 2;
    }
    xfiq_backend_t be = NULL;
    xfiq_model_t m = NULL;
    bench_bufs b = {0};
    double *times = NULL;
    int rc = 1;
    if (xfiq_backend_init(&be, XFIQ_BACKEND_CPU, a.threads) != XFIQ_OK ||
        xfiq_model_load(be, a.model, a.card, &m) != XFIQ_OK) {
        fprintf(stderr, "bench_models: %s\n", xfiq_last_error());
        goto done;
    }
    xfiq_model_info info;
    if (xfiq_model_get_info(m, &info) != XFIQ_OK) {
        fprintf(stderr, "bench_models: %s\n", xfiq_last_error());
        goto done;
    }
    size_t img = (size_t)info.input_width * (size_t)info.input_height * 3;
    size_t hw = (size_t)info.input_width * (size_t)info.input_height;
    b.pixels = malloc(img * (size_t)a.batch);
    b.emb = malloc((size_t)a.batch * (size_t)info.embedding_dim * sizeof(float));
    b.mag = malloc((size_t)a.batch * sizeof(float));
    b.maps = malloc((size_t)a.batch * hw * sizeof(float));
    b.q = malloc((size_t)a.batch * sizeof *b.q);
    times = malloc((size_t)a.iters * sizeof *times);
    if (!b.pixels || !b.emb || !b.mag || !b.maps || !b.q || !times) {
        fprintf(stderr, "bench_models: out of memory\n");
        goto done;
    }
    fill_faces(b.pixels, img * (size_t)a.batch);
    xfiq_serfiq_opts_default(m, 0, &b.so);
    xfiq_plq_opts_default(m, 0, &b.po);
    b.so.T = b.po.serfiq.T = a.T;

    for (int i = 0; i < a.warmup + a.iters; i++) {
        double t0 = now_s();
        if (run_once(m, &a, &b) != XFIQ_OK) {
            fprintf(stderr, "bench_models: %s\n", xfiq_last_error());
            goto done;
        }
        if (i >= a.warmup)
            times[i - a.warmup] = now_s() - t0;
    }
    double total = 0;
    for (int i = 0; i < a.iters; i++)
        total += times[i];
    qsort(times, (size_t)a.iters, sizeof *times, cmp_double);
    double median = times[a.iters / 2]; /* the peers' convention: upper median */
    double q_mean = 0;
    for (int i = 0; i < a.batch && a.mode != MODE_EMBED; i++)
        q_mean += b.q[i].serfiq_raw / a.batch;
    char q_text[32] = "null"; /* embed computes no quality */
    if (a.mode != MODE_EMBED)
        snprintf(q_text, sizeof q_text, "%.4f", q_mean);
    printf("{\"peer\": \"xfiq\", \"version\": \"%d.%d\", \"mode\": \"%s\", \"model\": \"%s\", \"batch\": %d, "
           "\"threads\": %d, \"iters\": %d, \"T\": %d, \"img_per_s\": %.2f, \"img_per_s_median\": %.2f, "
           "\"ms_per_img_median\": %.3f, \"q_raw_mean\": %s}\n",
           XFIQ_VERSION_MAJOR, XFIQ_VERSION_MINOR, mode_name(a.mode), base_name(a.model), a.batch, a.threads, a.iters,
           a.mode == MODE_EMBED ? 0 : a.T, a.batch * a.iters / total, a.batch / median, 1e3 * median / a.batch, q_text);
    fflush(stdout);
    if (a.profile && profile_model(m, &a) != XFIQ_OK) {
        fprintf(stderr, "bench_models: profile: %s\n", xfiq_last_error());
        goto done;
    }
    rc = 0;
done:
    free(times);
    free(b.pixels);
    free(b.emb);
    free(b.mag);
    free(b.maps);
    free(b.q);
    xfiq_model_free(m);
    xfiq_backend_free(be);
    return rc;
}
