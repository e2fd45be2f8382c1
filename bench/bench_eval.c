/* bench_eval.c - throughput of the evaluation suite against the same run's
 * numpy/scikit-learn reference (bench_eval_peer.py on the same data):
 * QMagFace scores of 1e6 listed pairs, a 10,000 x 10,000 all-vs-all block,
 * a full 6,000-pair 10-fold evaluation (cosine + QMagFace: accuracy, EER,
 * FNMR@FMR, AUC) and training on 100,000 pairs. Prints a table and checks
 * that both sides computed the same thing.
 *   bench_eval [--quick] [--reps N] [--no-peer] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>
#include <cjson/cJSON.h>
#include <omp.h>

#include "io/npy.h"
#include "xfiq.h"
#include "xfiq_eval.h"

#ifndef XFIQ_SOURCE_DIR
#define XFIQ_SOURCE_DIR "."
#endif
#ifndef XFIQ_PYTHON
#define XFIQ_PYTHON "/usr/bin/python3"
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static double unif(void) { return (rnd() >> 11) * (1.0 / 9007199254740992.0); }
static double gauss(void)
{
    double u = unif() + 1e-300, v = unif();
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static int write_raw(const char *dir, const char *name, const void *p, size_t n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 1;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) != 0 || w != n;
}

int main(int argc, char **argv)
{
    int quick = 0, reps = 3, peer = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-peer"))
            peer = 0;
        else {
            fprintf(stderr, "usage: bench_eval [--quick] [--reps N] [--no-peer]\n");
            return 2;
        }
    }
    const int n_emb = 10000, dim = 512;
    const int64_t n_pairs = quick ? 200000 : 1000000;
    const int block = quick ? 3000 : 10000;
    const int64_t n_eval = 6000, n_train = 100000;
    char dir[4096];
    snprintf(dir, sizeof dir, "/tmp/xfiq_bench_eval.%d", (int)getpid());
    mkdir(dir, 0777);

    /* 1000 identities x 10 samples: direction + noise shrinking with the magnitude */
    float *z = malloc(sizeof(float) * n_emb * dim);
    float *center = malloc(sizeof(float) * dim);
    for (int id = 0; id < n_emb / 10; id++) {
        double nc = 0;
        for (int k = 0; k < dim; k++) {
            center[k] = (float)gauss();
            nc += center[k] * center[k];
        }
        for (int s = 0; s < 10; s++) {
            double mag = 10 + 100 * unif(), sd = 12.0 / sqrt(mag) / sqrt(dim), nn = 0;
            float *r = z + (size_t)(id * 10 + s) * dim;
            for (int k = 0; k < dim; k++) {
                r[k] = (float)(center[k] / sqrt(nc) + sd * gauss());
                nn += (double)r[k] * r[k];
            }
            for (int k = 0; k < dim; k++)
                r[k] = (float)(r[k] / sqrt(nn) * mag);
        }
    }
    int64_t *pairs = malloc(sizeof(int64_t) * 2 * n_pairs);
    for (int64_t i = 0; i < n_pairs; i++) {
        pairs[2 * i] = (int64_t)(rnd() % n_emb);
        pairs[2 * i + 1] = (int64_t)(rnd() % n_emb);
    }
    /* 6,000 evaluation pairs, LFW style: 10 folds of 300 genuine + 300 impostor */
    int64_t *ev = malloc(sizeof(int64_t) * 3 * n_eval);
    for (int64_t i = 0; i < n_eval; i++) {
        int gen = (i % 600) < 300;
        int64_t a = (int64_t)(rnd() % n_emb), b;
        do
            b = gen ? (a / 10) * 10 + (int64_t)(rnd() % 10) : (int64_t)(rnd() % n_emb);
        while (b == a || (!gen && b / 10 == a / 10));
        ev[3 * i] = a;
        ev[3 * i + 1] = b;
        ev[3 * i + 2] = gen;
    }
    /* 100,000 training pairs: 20% genuine */
    int64_t *ta = malloc(sizeof(int64_t) * n_train), *tb = malloc(sizeof(int64_t) * n_train);
    uint8_t *ty = malloc(n_train);
    for (int64_t i = 0; i < n_train; i++) {
        int gen = rnd() % 5 == 0;
        int64_t a = (int64_t)(rnd() % n_emb), b;
        do
            b = gen ? (a / 10) * 10 + (int64_t)(rnd() % 10) : (int64_t)(rnd() % n_emb);
        while (b == a || (!gen && b / 10 == a / 10));
        ta[i] = a;
        tb[i] = b;
        ty[i] = (uint8_t)gen;
    }
    double *ts = malloc(sizeof(double) * n_train), *tq = malloc(sizeof(double) * n_train);
    xfiq_score_pairs(z, n_emb, dim, NULL, ta, tb, n_train, NULL, ts, tq, NULL);
    double *tr = malloc(sizeof(double) * 3 * n_train);
    for (int64_t i = 0; i < n_train; i++) {
        tr[3 * i] = ts[i];
        tr[3 * i + 1] = tq[i];
        tr[3 * i + 2] = ty[i];
    }

    xfiq_qmag_params p;
    xfiq_qmag_preset("magface-100", &p);
    double t_pairs = 1e9, t_block = 1e9, t_eval = 1e9, t_train = 1e9;
    double check_pairs = 0, check_block = 0;
    double *s = malloc(sizeof(double) * n_pairs), *v = malloc(sizeof(double) * n_pairs),
           *q = malloc(sizeof(double) * n_pairs);
    int64_t *pa = malloc(sizeof(int64_t) * n_pairs), *pb = malloc(sizeof(int64_t) * n_pairs);
    for (int64_t i = 0; i < n_pairs; i++) {
        pa[i] = pairs[2 * i];
        pb[i] = pairs[2 * i + 1];
    }
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        xfiq_score_pairs(z, n_emb, dim, NULL, pa, pb, n_pairs, &p, s, q, v);
        t_pairs = fmin(t_pairs, now() - t0);
    }
    for (int64_t i = 0; i < n_pairs; i++)
        check_pairs += v[i];
    float *out = malloc(sizeof(float) * (size_t)block * block);
    for (int r = 0; r < (reps < 2 ? reps : 2); r++) {
        double t0 = now();
        xfiq_score_block(z, block, z + (size_t)(n_emb - block) * dim, block, dim, &p, out);
        t_block = fmin(t_block, now() - t0);
    }
    for (int i = 0; i < 100; i++)
        for (int j = 0; j < 100; j++)
            check_block += out[(size_t)i * block + j];
    free(out);

    /* the full evaluation: scores, 10-fold accuracy and ROC summary for both */
    int64_t *ea = malloc(sizeof(int64_t) * n_eval), *eb = malloc(sizeof(int64_t) * n_eval);
    uint8_t *ey = malloc(n_eval);
    for (int64_t i = 0; i < n_eval; i++) {
        ea[i] = ev[3 * i];
        eb[i] = ev[3 * i + 1];
        ey[i] = (uint8_t)ev[3 * i + 2];
    }
    double es[6000], eq[6000], evq[6000];
    xfiq_kfold_result kr[2];
    xfiq_roc_summary rs[2];
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        xfiq_score_pairs(z, n_emb, dim, NULL, ea, eb, n_eval, &p, es, eq, evq);
        for (int c = 0; c < 2; c++) {
            xfiq_kfold_scores(c ? evq : es, ey, n_eval, NULL, 10, &kr[c]); /* as `xfiq eval` */
            xfiq_roc_t roc;
            xfiq_roc_build(c ? evq : es, ey, n_eval, &roc);
            xfiq_roc_summarize(roc, &rs[c]);
            xfiq_roc_free(roc);
        }
        t_eval = fmin(t_eval, now() - t0);
    }
    xfiq_qmag_params tp;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        xfiq_qmag_train(ts, tq, ty, n_train, NULL, &tp, NULL);
        t_train = fmin(t_train, now() - t0);
    }

    double py[4] = {NAN, NAN, NAN, NAN};
    cJSON *pj = NULL;
    if (peer) {
        char cfg[256], path[4200], cmd[8800];
        int64_t shape[2] = {n_emb, dim};
        snprintf(path, sizeof path, "%s/emb.npy", dir);
        int bad = xfiq_npy_write_f32(path, z, 2, shape) != XFIQ_OK;
        bad |= write_raw(dir, "pairs.i64", pairs, sizeof(int64_t) * 2 * n_pairs);
        bad |= write_raw(dir, "eval.i64", ev, sizeof(int64_t) * 3 * n_eval);
        bad |= write_raw(dir, "train.f64", tr, sizeof(double) * 3 * n_train);
        snprintf(cfg, sizeof cfg, "{\"reps\": %d, \"block\": %d}", reps, block);
        bad |= write_raw(dir, "config.json", cfg, strlen(cfg));
        snprintf(cmd, sizeof cmd, "%s %s/bench/bench_eval_peer.py %s", XFIQ_PYTHON, XFIQ_SOURCE_DIR, dir);
        fprintf(stderr, "bench_eval: running the numpy/scikit-learn peer ...\n");
        if (bad || system(cmd) != 0)
            fprintf(stderr, "bench_eval: the Python peer failed; only xfiq's times are shown\n");
        snprintf(path, sizeof path, "%s/peer.json", dir);
        FILE *f = fopen(path, "rb");
        if (f) {
            static char buf[1 << 16];
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            buf[n] = 0;
            fclose(f);
            pj = cJSON_Parse(buf);
        }
        if (pj) {
            py[0] = cJSON_GetObjectItem(pj, "pairs_s")->valuedouble;
            py[1] = cJSON_GetObjectItem(pj, "block_s")->valuedouble;
            py[2] = cJSON_GetObjectItem(pj, "eval_s")->valuedouble;
            py[3] = cJSON_GetObjectItem(pj, "train_s")->valuedouble;
        }
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_eval: could not remove %s\n", dir);
    }
    const double x[4] = {t_pairs, t_block, t_eval, t_train};
    const char *what[4] = {"QMagFace scores, listed pairs", "QMagFace all-vs-all block",
                           "10-fold eval, 6,000 pairs (cos+QMag)", "QMagFace training, 100,000 pairs"};
    char size[4][64];
    snprintf(size[0], 64, "%lld pairs", (long long)n_pairs);
    snprintf(size[1], 64, "%d x %d", block, block);
    snprintf(size[2], 64, "6000 pairs");
    snprintf(size[3], 64, "100000 pairs");
    const double work[4] = {(double)n_pairs, (double)block * block, (double)n_eval, (double)n_train};
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    printf("\nthreads: OpenMP %d, OpenBLAS %d (numpy's the same environment); load average %.1f\n",
           omp_get_max_threads(), openblas_get_num_threads(), load[0]);
    printf("%-38s %-16s %12s %12s %14s %8s\n", "job (D = 512, best of runs)", "size", "xfiq (s)",
           "numpy (s)", "xfiq pairs/s", "ratio");
    for (int k = 0; k < 4; k++)
        printf("%-38s %-16s %12.4f %12.4f %14.3g %7.1fx\n", what[k], size[k], x[k], py[k], work[k] / x[k],
               py[k] / x[k]);
    printf("\nxfiq: 10-fold accuracy cosine %.4f%% qmagface %.4f%%, EER %.4f%% / %.4f%%; trained alpha %.6f beta %.6f\n",
           100 * kr[0].acc_mean, 100 * kr[1].acc_mean, 100 * rs[0].eer, 100 * rs[1].eer, tp.alpha, tp.beta);
    int rc = 0;
    if (pj) {
        const cJSON *e = cJSON_GetObjectItem(pj, "eval");
        double pa_c = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "cos"), "acc")->valuedouble;
        double pa_q = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "qmag"), "acc")->valuedouble;
        double pal = cJSON_GetObjectItem(pj, "alpha")->valuedouble, pbe = cJSON_GetObjectItem(pj, "beta")->valuedouble;
        double pc = cJSON_GetObjectItem(pj, "pairs_check")->valuedouble;
        double bc = cJSON_GetObjectItem(pj, "block_check")->valuedouble;
        printf("peer: 10-fold accuracy cosine %.4f%% qmagface %.4f%%; trained alpha %.6f beta %.6f\n",
               100 * pa_c, 100 * pa_q, pal, pbe);
        int same = fabs(pa_c - kr[0].acc_mean) < 1e-9 && fabs(pa_q - kr[1].acc_mean) < 1e-9 &&
                   fabs(pal - tp.alpha) < 1e-6 && fabs(pbe - tp.beta) < 1e-6 &&
                   fabs(pc - check_pairs) < 1e-3 * fabs(pc) + 1e-3 && fabs(bc - check_block) < 1e-2;
        printf("agreement: %s (sums of pair scores %.6g vs %.6g, block corner %.6g vs %.6g)\n",
               same ? "yes" : "NO", check_pairs, pc, check_block, bc);
        rc = !same;
        cJSON_Delete(pj);
    }
    free(z);
    free(center);
    free(pairs);
    free(ev);
    free(ta);
    free(tb);
    free(ty);
    free(ts);
    free(tq);
    free(tr);
    free(s);
    free(v);
    free(q);
    free(pa);
    free(pb);
    free(ea);
    free(eb);
    free(ey);
    return rc;
}
