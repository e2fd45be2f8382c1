/* test_eval_lfw_model.c - end to end on real faces with the default model:
 * `xfiq eval` embeds the 1,583 aligned LFW images of lfw-folds12 and prints
 * accuracy, EER and FNMR@FMR for cosine and QMagFace, with alpha/beta
 * trained on disjoint data (the ORL faces; the other LFW fold); the numbers
 * are checked against the numpy/scikit-learn reference on the same
 * embeddings. Skips where the data or the model is absent. */
#include "eval_test_util.h"

#include "cli/cmd_eval.h"
#include "xfiq.h"
#include "xfiq_eval.h"
#include "xfiq_image.h"

static char F[4096];

static char *fx(const char *name)
{
    static char buf[16][4400];
    static int k = 0;
    k = (k + 1) % 16;
    snprintf(buf[k], sizeof buf[k], "%s/%s", F, name);
    return buf[k];
}

static void summary(const char *what, const char *json)
{
    cJSON *j = load_json(json);
    CHECK(j != NULL);
    if (!j)
        return;
    for (int c = 0; c < 2; c++) {
        const cJSON *s = jget(j, "scores", c ? "qmagface" : "cosine", NULL);
        if (!s)
            continue;
        printf("  %-44s %-8s acc %6.2f%% +- %4.2f  EER %5.2f%%  FNMR@1e-2 %6.2f%%  AUC %.4f\n", what,
               c ? "qmagface" : "cosine", 100 * jnum(jget(s, "accuracy_mean", NULL)),
               100 * jnum(jget(s, "accuracy_std", NULL)), 100 * jnum(jget(s, "eer", NULL)),
               100 * jnum(jget(s, "fnmr_at_fmr", "1e-2", NULL)), jnum(jget(s, "auc", NULL)));
    }
    cJSON_Delete(j);
}

/* rows a,b,label of the benchmark pairs (only those of fold `only` when >= 0) */
static int write_rows(const char *bench, const char *root, const char *npy, const char *names,
                      int only, const char *out)
{
    xfiq_bench_options o;
    xfiq_bench_options_default(&o);
    o.image_root = root;
    xfiq_bench_t b = NULL;
    xfiq_embset_t e = NULL;
    if (xfiq_bench_open(bench, &o, &b) != XFIQ_OK || xfiq_embset_load(npy, names, &e) != XFIQ_OK) {
        fprintf(stderr, "%s\n", xfiq_last_error());
        xfiq_bench_free(b);
        return 1;
    }
    int64_t *rows = malloc(sizeof(int64_t) * xfiq_bench_num_images(b));
    int rc = xfiq_embset_match(e, b, rows) != XFIQ_OK;
    const int64_t *a, *bb;
    const uint8_t *y;
    const int32_t *f;
    xfiq_bench_pairs(b, &a, &bb, &y, &f);
    FILE *fp = fopen(out, "w");
    for (int64_t k = 0; !rc && fp && k < xfiq_bench_num_pairs(b); k++)
        if (only < 0 || f[k] == only)
            fprintf(fp, "%lld,%lld,%d,%d\n", (long long)rows[a[k]], (long long)rows[bb[k]], y[k], f[k]);
    if (fp)
        fclose(fp);
    free(rows);
    xfiq_embset_free(e);
    xfiq_bench_free(b);
    return rc || !fp;
}

/* flip = mean of the image's and its mirror's embeddings, checked on one
 * LFW pair against embedding the mirrored pixels by hand */
static void check_flip(const char *model, const char *root)
{
    char csv[4400];
    snprintf(csv, sizeof csv, "%s", fx("one_pair.csv"));
    FILE *f = fopen(csv, "w");
    fprintf(f, "%s/Abel_Pacheco/Abel_Pacheco_0001.jpg,%s/Abel_Pacheco/Abel_Pacheco_0004.jpg,1\n", root, root);
    fclose(f);
    xfiq_backend_t be = NULL;
    xfiq_model_t m = NULL;
    xfiq_bench_t b = NULL;
    CHECK_OK(xfiq_backend_init(&be, XFIQ_BACKEND_CPU, 0));
    CHECK_OK(xfiq_model_load(be, model, NULL, &m));
    CHECK_OK(xfiq_bench_open(csv, NULL, &b));
    if (!m || !b)
        return;
    float *z0 = NULL, *zf = NULL;
    int d0 = 0, d1 = 0;
    CHECK_OK(xfiq_bench_embed(b, m, 0, 2, &z0, &d0));
    CHECK_OK(xfiq_bench_embed(b, m, 1, 2, &zf, &d1));
    xfiq_image img;
    CHECK_OK(xfiq_image_load(xfiq_bench_image_name(b, 0), &img));
    uint8_t *px = malloc(112 * 112 * 3), *mir = malloc(112 * 112 * 3);
    float *zm = malloc(sizeof(float) * d0);
    CHECK_OK(xfiq_image_prepare(&img, NULL, 112, 112, px));
    for (int y = 0; y < 112; y++)
        for (int x = 0; x < 112; x++)
            memcpy(mir + (y * 112 + x) * 3, px + (y * 112 + 111 - x) * 3, 3);
    CHECK_OK(xfiq_model_embed(m, mir, 1, zm, NULL));
    double worst = 0, norm = 0;
    for (int k = 0; z0 && zf && k < d0; k++) {
        worst = fmax(worst, fabs(zf[k] - 0.5 * (z0[k] + zm[k])));
        norm = fmax(norm, fabs(z0[k]));
    }
    CHECK_MSG(worst <= 1e-4 * norm, "flip embedding differs from the mean by %g", worst);
    printf("  flip: mean of image and mirror embeddings, max deviation %.2g\n", worst);
    xfiq_image_free(&img);
    free(px);
    free(mir);
    free(zm);
    free(z0);
    free(zf);
    xfiq_bench_free(b);
    xfiq_model_free(m);
    xfiq_backend_free(be);
}

int main(void)
{
    const char *data = env_or("XFIQ_DATA_DIR", "../shared/data");
    char lfw[4200], pairs[4300], root[4300], orl[4200], model[4300];
    snprintf(lfw, sizeof lfw, "%s/lfw-folds12", data);
    snprintf(pairs, sizeof pairs, "%s/pairs_fold01-02.txt", lfw);
    snprintf(root, sizeof root, "%s/aligned_112x112", lfw);
    snprintf(orl, sizeof orl, "%s/orl-faces", data);
    snprintf(model, sizeof model, "%s", env_or("XFIQ_MODEL", ""));
    if (!model[0])
        snprintf(model, sizeof model, "%s/models/.cache/fr_feature.onnx", env_or("XFIQ_SOURCE_DIR", "."));
    struct stat sb;
    if (stat(pairs, &sb) != 0)
        SKIP("%s is absent", pairs);
    if (stat(model, &sb) != 0)
        SKIP("the default model %s is absent (models/fetch_default.sh fetches it)", model);
    snprintf(F, sizeof F, "%s", fixture_dir("eval_lfw_model"));

    /* 1. embed the LFW faces, cosine only */
    const char *e1[] = {"eval", "--bench", pairs, "--root", root, "--model", model, "--save-embeddings",
                        fx("lfw.npy"), "--no-qmag", "--json", fx("lfw_cos.json"), NULL};
    CHECK(run_cmd(xfiq_cmd_eval, e1) == 0);
    /* 2. QMagFace parameters from disjoint data: the ORL faces (all pairs),
     *    and each LFW fold for the other */
    int have_orl = stat(orl, &sb) == 0;
    if (have_orl) {
        const char *t1[] = {"qmagface-train", "--bench", orl, "--model", model, "--out", fx("orl.json"),
                            "--quiet", NULL};
        CHECK(run_cmd(xfiq_cmd_qmagface_train, t1) == 0);
    } else
        printf("ORL faces absent: no ORL-trained parameters\n");
    const char *t2[] = {"qmagface-train", "--bench", pairs, "--root", root, "--embeddings", fx("lfw.npy"),
                        "--names", fx("lfw.npy.names.txt"), "--select-folds", "2", "--out", fx("fold2.json"),
                        "--quiet", NULL};
    CHECK(run_cmd(xfiq_cmd_qmagface_train, t2) == 0);
    const char *t3[] = {"qmagface-train", "--bench", pairs, "--root", root, "--embeddings", fx("lfw.npy"),
                        "--names", fx("lfw.npy.names.txt"), "--select-folds", "1", "--out", fx("fold1.json"),
                        "--quiet", NULL};
    CHECK(run_cmd(xfiq_cmd_qmagface_train, t3) == 0);
    /* 3. evaluations */
    char params_all[4400]; /* fx() reuses its buffers: keep a copy */
    snprintf(params_all, sizeof params_all, "%s", have_orl ? fx("orl.json") : fx("fold2.json"));
    const char *e2[] = {"eval", "--bench", pairs, "--root", root, "--embeddings", fx("lfw.npy"), "--names",
                        fx("lfw.npy.names.txt"), "--qmag", params_all, "--json", fx("all.json"), "--plot",
                        fx("roc.svg"), "--det", fx("det.svg"), "--quiet", NULL};
    CHECK(run_cmd(xfiq_cmd_eval, e2) == 0);
    const char *e3[] = {"eval", "--bench", pairs, "--root", root, "--embeddings", fx("lfw.npy"), "--names",
                        fx("lfw.npy.names.txt"), "--select-folds", "1", "--qmag", fx("fold2.json"),
                        "--json", fx("f1.json"), "--quiet", NULL};
    CHECK(run_cmd(xfiq_cmd_eval, e3) == 0);
    const char *e4[] = {"eval", "--bench", pairs, "--root", root, "--embeddings", fx("lfw.npy"), "--names",
                        fx("lfw.npy.names.txt"), "--select-folds", "2", "--qmag", fx("fold1.json"),
                        "--json", fx("f2.json"), "--quiet", NULL};
    CHECK(run_cmd(xfiq_cmd_eval, e4) == 0);
    const char *ed[] = {"edc", "--bench", pairs, "--root", root, "--embeddings", fx("lfw.npy"), "--names",
                        fx("lfw.npy.names.txt"), "--quality", "magnitude", "--fmr", "1e-2", "--json",
                        fx("edc.json"), "--plot", fx("edc.svg"), "--quiet", NULL};
    CHECK(run_cmd(xfiq_cmd_edc, ed) == 0);

    /* the flip option, insightface protocol */
    const char *e5[] = {"eval", "--bench", pairs, "--root", root, "--model", model, "--flip",
                        "--protocol", "insightface", "--no-qmag", "--json", fx("flip.json"), "--quiet", NULL};
    CHECK(run_cmd(xfiq_cmd_eval, e5) == 0);
    check_flip(model, root);

    /* the .bin route (pickled JPEG bytes, decoded from memory) gives the
     * same faces as the files: fold 1 as a .bin against fold 1 by pairs.txt */
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "%s %s/tests/eval/make_lfw_bin.py %s %s", env_or("XFIQ_PYTHON", "/usr/bin/python3"),
             env_or("XFIQ_SOURCE_DIR", "."), lfw, fx("fold1.bin"));
    CHECK(system(cmd) == 0);
    const char *e6[] = {"eval", "--bench", fx("fold1.bin"), "--model", model, "--no-qmag", "--json",
                        fx("bin.json"), "--quiet", NULL};
    CHECK(run_cmd(xfiq_cmd_eval, e6) == 0);
    const char *e7[] = {"eval", "--bench", pairs, "--root", root, "--embeddings", fx("lfw.npy"), "--names",
                        fx("lfw.npy.names.txt"), "--select-folds", "1", "--no-qmag", "--json",
                        fx("txt1.json"), "--quiet", NULL};
    CHECK(run_cmd(xfiq_cmd_eval, e7) == 0);
    cJSON *jb = load_json(fx("bin.json")), *jt = load_json(fx("txt1.json"));
    CHECK(jb && jt);
    if (jb && jt) {
        double ab = jnum(jget(jb, "scores", "cosine", "auc", NULL)), at = jnum(jget(jt, "scores", "cosine", "auc", NULL));
        double cb = jnum(jget(jb, "scores", "cosine", "accuracy_mean", NULL));
        double ct = jnum(jget(jt, "scores", "cosine", "accuracy_mean", NULL));
        CHECK_MSG(fabs(ab - at) <= 1e-6 && fabs(cb - ct) <= 1e-9, ".bin vs pairs.txt: auc %.9f vs %.9f, acc %.6f vs %.6f",
                  ab, at, cb, ct);
        printf("  fold 1 as .bin (pickle protocol 2): acc %.4f%%, AUC %.6f; via pairs.txt: %.4f%%, %.6f\n",
               100 * cb, ab, 100 * ct, at);
    }
    cJSON_Delete(jb);
    cJSON_Delete(jt);

    /* 4. the reference on the same embeddings */
    CHECK(write_rows(pairs, root, fx("lfw.npy"), fx("lfw.npy.names.txt"), -1, fx("rows_all.csv")) == 0);
    CHECK(write_rows(pairs, root, fx("lfw.npy"), fx("lfw.npy.names.txt"), 1, fx("rows_fold2.csv")) == 0);
    /* training ignores the fold column (a 4th column of 1s here) */
    char args[8000];
    snprintf(args, sizeof args, "evalset %s %s %s %s %s", fx("lfw.npy"), fx("rows_all.csv"), params_all,
             fx("rows_fold2.csv"), fx("ref.json"));
    CHECK(run_ref(args) == 0);
    cJSON *ref = load_json(fx("ref.json")), *mine = load_json(fx("all.json"));
    CHECK(ref && mine);
    if (ref && mine) {
        cmp_kfold("lfw cosine", jget(mine, "scores", "cosine", NULL), jget(ref, "cos", NULL));
        cmp_kfold("lfw qmagface", jget(mine, "scores", "qmagface", NULL), jget(ref, "qmag", NULL));
        cmp_roc("lfw roc cosine", jget(mine, "scores", "cosine", NULL), jget(ref, "cos", NULL));
        cmp_roc("lfw roc qmagface", jget(mine, "scores", "qmagface", NULL), jget(ref, "qmag", NULL));
        xfiq_qmag_params p2;
        CHECK_OK(xfiq_qmag_params_load(fx("fold2.json"), &p2));
        CHECK_NEAR(p2.alpha, jnum(jget(ref, "train", "alpha", NULL)), 1e-6);
        CHECK_NEAR(p2.beta, jnum(jget(ref, "train", "beta", NULL)), 1e-6);
    }
    cJSON_Delete(ref);
    cJSON_Delete(mine);

    printf("\nreal faces, default model, lfw-folds12 (QMagFace protocol, 600 thresholds; all pairs: the file's\n"
           "2 folds; one fold: 10 consecutive blocks):\n");
    char label[256];
    snprintf(label, sizeof label, "all 1200 pairs, QMagFace from %s", have_orl ? "ORL pairs" : "LFW fold 2");
    summary(label, fx("all.json"));
    summary("fold 1 (600 pairs), QMagFace from fold 2", fx("f1.json"));
    summary("fold 2 (600 pairs), QMagFace from fold 1", fx("f2.json"));
    cJSON *fl = load_json(fx("flip.json"));
    if (fl) {
        const cJSON *c = jget(fl, "scores", "cosine", NULL);
        printf("  %-44s %-8s acc %6.2f%% +- %4.2f  VAL@FAR=1e-3 %6.2f%%\n",
               "all 1200 pairs, flip (insightface protocol)", "cosine", 100 * jnum(jget(c, "accuracy_mean", NULL)),
               100 * jnum(jget(c, "accuracy_std", NULL)), 100 * jnum(jget(c, "val_at_far_1e-3", NULL)));
        cJSON_Delete(fl);
    }
    TEST_END();
}
