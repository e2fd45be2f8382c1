/* test_eval_ref.c - the evaluation suite against its numpy/scikit-learn
 * reference (tests/eval/ref_eval.py) on synthetic embeddings with known
 * structure, tied scores and a small template protocol: scores, the three
 * 10-fold protocols (1e-9), ROC figures (1e-6), training (1e-6), EDC,
 * template scores. */
#include "eval_test_util.h"

#include "io/npy.h"
#include "xfiq.h"
#include "xfiq_eval.h"

static const cJSON *ref;

static void check_kfold(const char *what, const xfiq_kfold_result *r, const cJSON *j, int with_val)
{
    const cJSON *acc = jget(j, "acc", NULL), *thr = jget(j, "thr", NULL);
    CHECK_MSG(cJSON_GetArraySize(acc) == r->n_folds, "%s: fold count", what);
    for (int f = 0; f < r->n_folds; f++) {
        CHECK_MSG(fabs(r->accuracy[f] - jidx(acc, f)) <= 1e-9, "%s fold %d acc %.12g vs %.12g", what, f,
                  r->accuracy[f], jidx(acc, f));
        CHECK_MSG(fabs(r->threshold[f] - jidx(thr, f)) <= 1e-9, "%s fold %d thr %.12g vs %.12g", what,
                  f, r->threshold[f], jidx(thr, f));
    }
    CHECK_MSG(fabs(r->acc_mean - jnum(jget(j, "acc_mean", NULL))) <= 1e-9, "%s mean", what);
    CHECK_MSG(fabs(r->acc_std - jnum(jget(j, "acc_std", NULL))) <= 1e-9, "%s std", what);
    if (with_val) {
        CHECK_MSG(fabs(r->val_mean - jnum(jget(j, "val", NULL))) <= 1e-9, "%s val %.12g vs %.12g",
                  what, r->val_mean, jnum(jget(j, "val", NULL)));
        CHECK_MSG(fabs(r->val_std - jnum(jget(j, "val_std", NULL))) <= 1e-9, "%s val_std", what);
        CHECK_MSG(fabs(r->far_mean - jnum(jget(j, "far", NULL))) <= 1e-9, "%s far", what);
    }
    printf("  %-28s acc %.4f%% +- %.4f  (reference %.4f%%)\n", what, 100 * r->acc_mean,
           100 * r->acc_std, 100 * jnum(jget(j, "acc_mean", NULL)));
}

static void check_roc(const char *what, const double *s, const uint8_t *y, int64_t n, const cJSON *j)
{
    xfiq_roc_t roc = NULL;
    CHECK_OK(xfiq_roc_build(s, y, n, &roc));
    if (!roc)
        return;
    xfiq_roc_summary sum;
    CHECK_OK(xfiq_roc_summarize(roc, &sum));
    CHECK_MSG(fabs(sum.eer - jnum(jget(j, "eer", NULL))) <= 1e-6, "%s eer %.12g vs %.12g", what,
              sum.eer, jnum(jget(j, "eer", NULL)));
    CHECK_MSG(fabs(sum.auc - jnum(jget(j, "auc", NULL))) <= 1e-9, "%s auc %.15g vs %.15g", what,
              sum.auc, jnum(jget(j, "auc", NULL)));
    for (int k = 0; k < XFIQ_ROC_NUM_FMR; k++)
        CHECK_MSG(fabs(sum.fnmr[k] - jidx(jget(j, "fnmr", NULL), k)) <= 1e-9,
                  "%s fnmr@%g %.12g vs %.12g", what, sum.fmr[k], sum.fnmr[k],
                  jidx(jget(j, "fnmr", NULL), k));
    printf("  %-28s EER %.4f%%  FNMR@1e-2 %.4f%%  AUC %.6f\n", what, 100 * sum.eer,
           100 * sum.fnmr[1], sum.auc);
    xfiq_roc_free(roc);
}

static void check_train(const char *what, const double *s, const double *q, const uint8_t *y,
                        int64_t n, const cJSON *j)
{
    xfiq_qmag_params p = {0, 0};
    static xfiq_qmag_train_report rep;
    CHECK_OK(xfiq_qmag_train(s, q, y, n, NULL, &p, &rep));
    CHECK_MSG(fabs(p.alpha - jnum(jget(j, "alpha", NULL))) <= 1e-6, "%s alpha %.12g vs %.12g", what,
              p.alpha, jnum(jget(j, "alpha", NULL)));
    CHECK_MSG(fabs(p.beta - jnum(jget(j, "beta", NULL))) <= 1e-6, "%s beta %.12g vs %.12g", what,
              p.beta, jnum(jget(j, "beta", NULL)));
    for (int k = 0; k < rep.n_fmr; k++) {
        CHECK_MSG(fabs(rep.omega[k] - jidx(jget(j, "omega", NULL), k)) <= 1e-15,
                  "%s omega[%d] %.12g vs %.12g", what, k, rep.omega[k], jidx(jget(j, "omega", NULL), k));
        CHECK_MSG(fabs(rep.threshold[k] - jidx(jget(j, "threshold", NULL), k)) <= 1e-12,
                  "%s threshold[%d] %.15g vs %.15g", what, k, rep.threshold[k],
                  jidx(jget(j, "threshold", NULL), k));
    }
    printf("  %-28s alpha %.9f beta %.9f  (reference %.9f %.9f)\n", what, p.alpha, p.beta,
           jnum(jget(j, "alpha", NULL)), jnum(jget(j, "beta", NULL)));
}

static void check_edc(const char *what, const double *s, const uint8_t *y, const double *q,
                      int64_t n, double lo, double hi, int pts, xfiq_edc_mode mode, const cJSON *j)
{
    double disc[64], fn[64], thr = 0, auc = 0;
    CHECK_OK(xfiq_edc_compute(s, y, q, n, 1e-2, mode, lo, hi, pts, disc, fn, &thr, &auc));
    const cJSON *rf = jget(j, "fnmr", NULL);
    CHECK_MSG(cJSON_GetArraySize(rf) == pts, "%s points", what);
    for (int k = 0; k < pts; k++) {
        CHECK_SAME(disc[k], jidx(jget(j, "discard", NULL), k), 1e-15);
        CHECK_SAME(fn[k], jidx(rf, k), 1e-9);
    }
    CHECK_SAME(auc, jnum(jget(j, "auc", NULL)), 1e-9);
    if (mode == XFIQ_EDC_FIXED)
        CHECK_SAME(thr, jnum(jget(j, "threshold", NULL)), 1e-12); /* a score: ulps apart */
    printf("  %-28s FNMR %.4f -> %.4f, AUC %.6f\n", what, fn[0], fn[pts - 1], auc);
}

int main(void)
{
    char *dir = fixture_dir("eval_ref");
    char args[4600], path[4600];
    snprintf(args, sizeof args, "synth %s --seed 7", dir);
    CHECK(run_ref(args) == 0);
    snprintf(args, sizeof args, "run %s", dir);
    CHECK(run_ref(args) == 0);
    snprintf(path, sizeof path, "%s/ref.json", dir);
    cJSON *root = load_json(path);
    CHECK(root != NULL);
    if (!root)
        TEST_END();
    ref = root;

    xfiq_npy emb;
    snprintf(path, sizeof path, "%s/emb.npy", dir);
    CHECK_OK(xfiq_npy_read_f32(path, &emb));
    const int64_t n_emb = emb.shape[0];
    const int dim = (int)emb.shape[1];
    int64_t n;
    snprintf(path, sizeof path, "%s/pairs.csv", dir);
    double *pt = read_table(path, 3, &n);
    int64_t *a = malloc(n * 8), *b = malloc(n * 8);
    uint8_t *y = malloc(n);
    for (int64_t i = 0; i < n; i++) {
        a[i] = (int64_t)pt[3 * i];
        b[i] = (int64_t)pt[3 * i + 1];
        y[i] = (uint8_t)pt[3 * i + 2];
    }
    printf("synthetic: %lld embeddings (%d-d), %lld pairs\n", (long long)n_emb, dim, (long long)n);

    /* scores */
    xfiq_qmag_params p100;
    CHECK_OK(xfiq_qmag_preset("magface-100", &p100));
    double *s = malloc(n * 8), *q = malloc(n * 8), *v = malloc(n * 8);
    CHECK_OK(xfiq_score_pairs(emb.data, n_emb, dim, NULL, a, b, n, &p100, s, q, v));
    const cJSON *rs = jget(ref, "scores", NULL);
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs(s[i] - jidx(jget(rs, "cos", NULL), (int)i)));
        worst = fmax(worst, fabs(v[i] - jidx(jget(rs, "qmag", NULL), (int)i)));
        worst = fmax(worst, fabs(q[i] - jidx(jget(rs, "q", NULL), (int)i)) / q[i]);
    }
    CHECK_MSG(worst <= 1e-12, "pair scores differ by %g", worst);
    printf("  pair scores                  max difference %.3g\n", worst);

    /* 10-fold protocols */
    static const char *names[3] = {"qmagface", "insightface", "magface"};
    for (int pr = 0; pr < 3; pr++) {
        char key[64], what[64];
        snprintf(key, sizeof key, "kfold_%s", names[pr]);
        for (int qm = 0; qm < 2; qm++) {
            xfiq_kfold_result r;
            CHECK_OK(xfiq_kfold_protocol((xfiq_protocol)pr, emb.data, n_emb, dim, a, b, y, n, NULL, 10,
                                         qm ? &p100 : NULL, &r));
            snprintf(what, sizeof what, "%s %s", names[pr], qm ? "qmagface" : "cosine");
            check_kfold(what, &r, jget(ref, key, qm ? "qmag" : "cos", NULL), pr == 1);
        }
    }
    int32_t *folds = malloc(n * 4);
    for (int64_t i = 0; i < n - 1; i++)
        folds[i] = (int32_t)(i / 600);
    folds[n - 1] = 0;
    {
        xfiq_kfold_result r;
        CHECK_OK(xfiq_kfold_scores(s, y, n, folds, 10, &r));
        check_kfold("explicit folds (cosine)", &r, jget(ref, "kfold_explicit", NULL), 0);
    }

    check_roc("ROC cosine", s, y, n, jget(ref, "roc_cos", NULL));
    check_roc("ROC qmagface", v, y, n, jget(ref, "roc_qmag", NULL));
    check_train("training", s, q, y, n, jget(ref, "train", NULL));
    check_edc("EDC fixed", s, y, q, n, 0.0, 0.5, 26, XFIQ_EDC_FIXED, jget(ref, "edc_fixed", NULL));
    check_edc("EDC recompute", s, y, q, n, 0.0, 0.5, 11, XFIQ_EDC_RECOMPUTE,
              jget(ref, "edc_recompute", NULL));

    /* tied scores */
    int64_t m;
    snprintf(path, sizeof path, "%s/tied.csv", dir);
    double *tt = read_table(path, 3, &m);
    double *ts = malloc(m * 8), *tq = malloc(m * 8), *td = malloc(m * 8);
    uint8_t *ty = malloc(m);
    for (int64_t i = 0; i < m; i++) {
        ts[i] = tt[3 * i];
        tq[i] = tt[3 * i + 1];
        ty[i] = (uint8_t)tt[3 * i + 2];
        td[i] = 1.0 - ts[i];
    }
    check_roc("tied ROC", ts, ty, m, jget(ref, "tied_roc", NULL));
    {
        xfiq_kfold_result r;
        CHECK_OK(xfiq_kfold_scores(ts, ty, m, NULL, 10, &r));
        check_kfold("tied 10-fold scores", &r, jget(ref, "tied_kfold", NULL), 0);
        CHECK_OK(xfiq_kfold_distances(td, ty, m, NULL, 10, 0.01, 400, &r));
        CHECK_OK(xfiq_kfold_val_far(td, ty, m, NULL, 10, 0.001, 4000, 1e-3, &r.val_mean, &r.val_std,
                                    &r.far_mean));
        check_kfold("tied 10-fold distances", &r, jget(ref, "tied_kfold_dist", NULL), 1);
    }
    check_train("tied training", ts, tq, ty, m, jget(ref, "tied_train", NULL));
    check_edc("tied EDC fixed", ts, ty, tq, m, 0.0, 0.8, 17, XFIQ_EDC_FIXED, jget(ref, "tied_edc", NULL));
    check_edc("tied EDC recompute", ts, ty, tq, m, 0.0, 0.8, 17, XFIQ_EDC_RECOMPUTE,
              jget(ref, "tied_edc_recompute", NULL));

    /* templates */
    char media[4600], tpairs[4600], npath[4600], names_path[4600];
    snprintf(media, sizeof media, "%s/ijb_media.txt", dir);
    snprintf(tpairs, sizeof tpairs, "%s/ijb_pairs.txt", dir);
    snprintf(npath, sizeof npath, "%s/emb.npy", dir);
    snprintf(names_path, sizeof names_path, "%s/names.txt", dir);
    xfiq_ijb_t ijb = NULL;
    xfiq_embset_t es = NULL;
    CHECK_OK(xfiq_ijb_open(media, tpairs, &ijb));
    CHECK_OK(xfiq_embset_load(npath, names_path, &es));
    if (ijb && es) {
        int64_t ni = xfiq_ijb_num_images(ijb), np = xfiq_ijb_num_pairs(ijb);
        int64_t *rows = malloc(ni * 8);
        for (int64_t i = 0; i < ni; i++) {
            rows[i] = xfiq_embset_find(es, xfiq_ijb_image_name(ijb, i));
            CHECK(rows[i] >= 0);
        }
        double *c = malloc(np * 8), *cq = malloc(np * 8);
        for (int agg = 0; agg < 2; agg++) {
            const cJSON *j = jget(ref, agg ? "ijb_magnitude" : "ijb_mean", NULL);
            CHECK_OK(xfiq_ijb_score(ijb, xfiq_embset_data(es), xfiq_embset_dim(es), rows,
                                    (xfiq_aggregation)agg, &p100, c, cq));
            double w = 0;
            for (int64_t k = 0; k < np; k++) {
                w = fmax(w, fabs(c[k] - jidx(jget(j, "cos", NULL), (int)k)));
                w = fmax(w, fabs(cq[k] - jidx(jget(j, "qmag", NULL), (int)k)));
            }
            CHECK_MSG(w <= 1e-12, "template scores (%s) differ by %g", agg ? "magnitude" : "mean", w);
            printf("  templates %-18s %lld pairs, max difference %.3g\n", agg ? "magnitude" : "mean",
                   (long long)np, w);
            check_roc(agg ? "templates ROC (magnitude)" : "templates ROC (mean)", c,
                      xfiq_ijb_labels(ijb), np, jget(j, "roc", NULL));
        }
        free(rows);
        free(c);
        free(cq);
    }
    xfiq_ijb_free(ijb);
    xfiq_embset_free(es);

    free(pt);
    free(a);
    free(b);
    free(y);
    free(s);
    free(q);
    free(v);
    free(folds);
    free(tt);
    free(ts);
    free(tq);
    free(td);
    free(ty);
    xfiq_npy_free(&emb);
    cJSON_Delete(root);
    TEST_END();
}
