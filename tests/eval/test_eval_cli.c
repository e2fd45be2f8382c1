/* test_eval_cli.c - `xfiq eval`, `xfiq qmagface-train` and `xfiq edc` end to
 * end on synthetic embeddings named by path (a pairs CSV + .npy + names):
 * their JSON output equals the numpy/scikit-learn reference, plots are
 * written, --help works, bad options and inputs fail. */
#include "eval_test_util.h"

#include "cli/cmd_eval.h"
#include "io/npy.h"
#include "xfiq.h"
#include "xfiq_eval.h"

int main(void)
{
    char *dir = fixture_dir("eval_cli");
    char args[4600];
    snprintf(args, sizeof args, "synth %s --seed 11", dir);
    CHECK(run_ref(args) == 0);
    snprintf(args, sizeof args, "run %s", dir);
    CHECK(run_ref(args) == 0);
    char p_ref[4400], p_pairs[4400], p_csv[4400], p_npy[4400], p_names[4400], p_json[4400],
        p_roc[4400], p_det[4400], p_params[4400], p_q[4400], p_edc[4400], p_edcsvg[4400];
    snprintf(p_ref, sizeof p_ref, "%s/ref.json", dir);
    snprintf(p_pairs, sizeof p_pairs, "%s/pairs.csv", dir);
    snprintf(p_csv, sizeof p_csv, "%s/named_pairs.csv", dir);
    snprintf(p_npy, sizeof p_npy, "%s/emb.npy", dir);
    snprintf(p_names, sizeof p_names, "%s/names.txt", dir);
    snprintf(p_json, sizeof p_json, "%s/eval.json", dir);
    snprintf(p_roc, sizeof p_roc, "%s/roc.svg", dir);
    snprintf(p_det, sizeof p_det, "%s/det.svg", dir);
    snprintf(p_params, sizeof p_params, "%s/params.json", dir);
    snprintf(p_q, sizeof p_q, "%s/quality.csv", dir);
    snprintf(p_edc, sizeof p_edc, "%s/edc.json", dir);
    snprintf(p_edcsvg, sizeof p_edcsvg, "%s/edc.svg", dir);
    cJSON *ref = load_json(p_ref);
    CHECK(ref != NULL);
    if (!ref)
        TEST_END();

    /* the pairs as image paths (matched to the names by path suffix) and a
     * quality CSV holding the magnitudes */
    int64_t n;
    double *pt = read_table(p_pairs, 3, &n);
    FILE *f = fopen(p_csv, "w");
    fprintf(f, "path_a,path_b,label\n");
    for (int64_t i = 0; i < n; i++)
        fprintf(f, "pics/img_%d.jpg,pics/img_%d.jpg,%d\n", (int)pt[3 * i], (int)pt[3 * i + 1], (int)pt[3 * i + 2]);
    fclose(f);
    xfiq_npy emb;
    CHECK_OK(xfiq_npy_read_f32(p_npy, &emb));
    double *mag = malloc(sizeof(double) * emb.shape[0]);
    CHECK_OK(xfiq_embeddings_magnitudes(emb.data, emb.shape[0], (int)emb.shape[1], mag));
    f = fopen(p_q, "w");
    fprintf(f, "file,serfiq,myq\n");
    for (int64_t i = 0; i < emb.shape[0]; i++)
        fprintf(f, "/elsewhere/pics/img_%lld.jpg,0.5,%.17g\n", (long long)i, mag[i]);
    fclose(f);
    /* names.txt says some/folder/img_N.jpg: rewrite as pics/ to match */
    f = fopen(p_names, "w");
    for (int64_t i = 0; i < emb.shape[0]; i++)
        fprintf(f, "/data/pics/img_%lld.jpg\n", (long long)i);
    fclose(f);

    /* xfiq eval, QMagFace protocol */
    const char *ev[] = {"eval", "--bench", p_csv, "--embeddings", p_npy, "--names", p_names, "--json",
                        p_json, "--plot", p_roc, "--det", p_det, "--quiet", NULL};
    CHECK(run_cmd(xfiq_cmd_eval, ev) == 0);
    cJSON *j = load_json(p_json);
    CHECK(j != NULL);
    if (j) {
        CHECK(strcmp(jget(j, "protocol", "name", NULL)->valuestring, "qmagface") == 0);
        cmp_kfold("eval cosine", jget(j, "scores", "cosine", NULL), jget(ref, "kfold_qmagface", "cos", NULL));
        cmp_kfold("eval qmagface", jget(j, "scores", "qmagface", NULL), jget(ref, "kfold_qmagface", "qmag", NULL));
        cmp_roc("eval roc cosine", jget(j, "scores", "cosine", NULL), jget(ref, "roc_cos", NULL));
        cmp_roc("eval roc qmagface", jget(j, "scores", "qmagface", NULL), jget(ref, "roc_qmag", NULL));
        cJSON_Delete(j);
    }
    struct stat sb;
    CHECK(stat(p_roc, &sb) == 0 && sb.st_size > 1000);
    CHECK(stat(p_det, &sb) == 0 && sb.st_size > 1000);

    /* insightface and magface protocols */
    const char *ev2[] = {"eval", "--bench", p_csv, "--embeddings", p_npy, "--names", p_names,
                         "--protocol", "insightface", "--json", p_json, "--quiet", NULL};
    CHECK(run_cmd(xfiq_cmd_eval, ev2) == 0);
    j = load_json(p_json);
    if (j) {
        cmp_kfold("insightface cosine", jget(j, "scores", "cosine", NULL), jget(ref, "kfold_insightface", "cos", NULL));
        CHECK(fabs(jnum(jget(j, "scores", "cosine", "val_at_far_1e-3", NULL)) -
                   jnum(jget(ref, "kfold_insightface", "cos", "val", NULL))) <= 1e-9);
        cJSON_Delete(j);
    }
    const char *ev3[] = {"eval", "--bench", p_csv, "--embeddings", p_npy, "--names", p_names,
                         "--protocol=magface", "--json", p_json, "--quiet", NULL};
    CHECK(run_cmd(xfiq_cmd_eval, ev3) == 0);
    j = load_json(p_json);
    if (j) {
        cmp_kfold("magface qmagface", jget(j, "scores", "qmagface", NULL), jget(ref, "kfold_magface", "qmag", NULL));
        cJSON_Delete(j);
    }

    /* training, then eval with the trained parameters */
    const char *tr[] = {"qmagface-train", "--bench", p_csv, "--embeddings", p_npy, "--names", p_names,
                        "--out", p_params, "--quiet", NULL};
    CHECK(run_cmd(xfiq_cmd_qmagface_train, tr) == 0);
    xfiq_qmag_params p = {0, 0};
    CHECK_OK(xfiq_qmag_params_load(p_params, &p));
    CHECK_NEAR(p.alpha, jnum(jget(ref, "train", "alpha", NULL)), 1e-6);
    CHECK_NEAR(p.beta, jnum(jget(ref, "train", "beta", NULL)), 1e-6);
    const char *ev4[] = {"eval", "--bench", p_csv, "--embeddings", p_npy, "--names", p_names, "--qmag",
                         p_params, "--quiet", NULL};
    CHECK(run_cmd(xfiq_cmd_eval, ev4) == 0);

    /* EDC: the magnitude from the embeddings and from a CSV column agree
     * with the reference curve */
    const char *ed[] = {"edc", "--bench", p_csv, "--embeddings", p_npy, "--names", p_names,
                        "--quality", "magnitude", "--quality", NULL, "--quality", NULL, "--fmr", "1e-2",
                        "--discard", "0:0.5", "--points", "26", "--json", p_edc, "--plot", p_edcsvg,
                        "--quiet", NULL};
    char qspec[4500], qspec2[4500];
    snprintf(qspec, sizeof qspec, "%s:myq:magnitude (csv)", p_q);
    snprintf(qspec2, sizeof qspec2, "%s:serfiq", p_q);
    ed[10] = qspec;
    ed[12] = qspec2;
    CHECK(run_cmd(xfiq_cmd_edc, ed) == 0);
    j = load_json(p_edc);
    if (j) {
        const cJSON *qa = jget(j, "qualities", NULL);
        CHECK(cJSON_GetArraySize(qa) == 3);
        for (int k = 0; k < 2; k++) {
            const cJSON *q = cJSON_GetArrayItem(qa, k);
            const cJSON *rf = jget(ref, "edc_fixed", "fnmr", NULL);
            for (int i = 0; i < 26; i++)
                CHECK_MSG(fabs(jidx(jget(q, "fnmr", NULL), i) - jidx(rf, i)) <= 1e-9, "edc %d point %d", k, i);
            CHECK(fabs(jnum(jget(q, "auc", NULL)) - jnum(jget(ref, "edc_fixed", "auc", NULL))) <= 1e-9);
        }
        CHECK(strcmp(jget(cJSON_GetArrayItem(qa, 1), "label", NULL)->valuestring, "magnitude (csv)") == 0);
        cJSON_Delete(j);
    }
    CHECK(stat(p_edcsvg, &sb) == 0 && sb.st_size > 1000);

    /* templates (IJB style) through the command */
    char p_media[4400], p_tp[4400], p_tj[4400];
    snprintf(p_media, sizeof p_media, "%s/ijb_media.txt", dir);
    snprintf(p_tp, sizeof p_tp, "%s/ijb_pairs.txt", dir);
    snprintf(p_tj, sizeof p_tj, "%s/templates.json", dir);
    for (int agg = 0; agg < 2; agg++) {
        const char *tv[] = {"eval", "--ijb-media", p_media, "--ijb-pairs", p_tp, "--embeddings", p_npy,
                            "--names", p_names, "--aggregate", agg ? "magnitude" : "mean", "--json", p_tj,
                            NULL};
        CHECK(run_cmd(xfiq_cmd_eval, tv) == 0);
        j = load_json(p_tj);
        if (j) {
            cmp_roc(agg ? "templates magnitude" : "templates mean", jget(j, "scores", "cosine", NULL),
                    jget(ref, agg ? "ijb_magnitude" : "ijb_mean", "roc", NULL));
            CHECK(fabs(jnum(jget(j, "scores", "cosine", "tar_at_far", "1e-2", NULL)) -
                       (1.0 - jidx(jget(ref, agg ? "ijb_magnitude" : "ijb_mean", "roc", "fnmr", NULL), 1))) <= 1e-12);
            cJSON_Delete(j);
        }
    }

    /* help, bad options, bad inputs */
    const char *h1[] = {"eval", "--help", NULL}, *h2[] = {"edc", "--help", NULL},
               *h3[] = {"qmagface-train", "-h", NULL};
    CHECK(run_cmd(xfiq_cmd_eval, h1) == 0);
    CHECK(run_cmd(xfiq_cmd_edc, h2) == 0);
    CHECK(run_cmd(xfiq_cmd_qmagface_train, h3) == 0);
    const char *b1[] = {"eval", "--bogus", NULL};
    CHECK(run_cmd(xfiq_cmd_eval, b1) == 1);
    const char *b2[] = {"eval", "--embeddings", p_npy, NULL};
    CHECK(run_cmd(xfiq_cmd_eval, b2) == 1);
    const char *b3[] = {"eval", "--bench", p_csv, "--embeddings", p_npy, "--quiet", NULL}; /* no names */
    CHECK(run_cmd(xfiq_cmd_eval, b3) == 1);
    const char *b4[] = {"edc", "--bench", p_csv, "--embeddings", p_npy, "--names", p_names, NULL};
    CHECK(run_cmd(xfiq_cmd_edc, b4) == 1);
    const char *b5[] = {"eval", "--bench", p_csv, "--embeddings", p_npy, "--names", p_names,
                        "--protocol", "lfw", NULL};
    CHECK(run_cmd(xfiq_cmd_eval, b5) == 1);
    const char *b6[] = {"eval", "--bench", p_csv, "--embeddings", p_npy, "--names", p_names,
                        "--plot", "roc.png", "--quiet", NULL};
    CHECK(run_cmd(xfiq_cmd_eval, b6) == 1);

    free(pt);
    free(mag);
    xfiq_npy_free(&emb);
    cJSON_Delete(ref);
    TEST_END();
}
