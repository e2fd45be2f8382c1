/* cmd_qmagface.c - `xfiq qmagface-train`: fit QMagFace alpha, beta on the
 * labelled pairs of a benchmark (SPEC 5), print them and write the JSON the
 * other commands take with --qmag. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd_eval.h"

static void train_help(FILE *f)
{
    fprintf(f,
            "usage: xfiq qmagface-train --bench PATH [--embeddings E.npy [--names N] | --model M]\n"
            "                           [--out PARAMS.json] [options]\n\n"
            "Fits the QMagFace parameters on labelled pairs: for 20 weights omega in\n"
            "[-r/max(q), +r/max(q)] the ROC of sigmoid(omega q + s); for 50 FMRs spaced\n"
            "logarithmically in [fmr-min, fmr-max] the omega with the lowest FNMR (at FPR < FMR)\n"
            "and its threshold; a least-squares line omega = m t + c gives beta = m, alpha = -c.\n\n");
    xfiq_eval_source_help(f);
    fprintf(f,
            "training:\n"
            "  --out PARAMS.json    write {alpha, beta, training facts} (for --qmag)\n"
            "  --fmr-min X          1e-5      --fmr-max X   1e-2      --n-fmr N   50\n"
            "  --n-weights N        20        --max-ratio R 0.5\n");
}

int xfiq_cmd_qmagface_train(int argc, char **argv)
{
    xfiq_eval_source src;
    xfiq_eval_source_init(&src);
    xfiq_qmag_train_options to;
    xfiq_qmag_train_options_default(&to);
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            train_help(stdout);
            return 0;
        }
        if ((r = xfiq_eval_source_opt(&src, argc, argv, &i)) != 0) {
            if (r < 0)
                return 1;
        } else if ((r = xfiq_eval_opt_value(argc, argv, &i, "--out", &out))) {
            if (r < 0)
                return 1;
        } else if ((r = xfiq_eval_opt_value(argc, argv, &i, "--fmr-min", &v))) {
            if (r < 0 || xfiq_eval_parse_double("--fmr-min", v, 1e-12, 1.0, &to.fmr_min) < 0)
                return 1;
        } else if ((r = xfiq_eval_opt_value(argc, argv, &i, "--fmr-max", &v))) {
            if (r < 0 || xfiq_eval_parse_double("--fmr-max", v, 1e-12, 1.0, &to.fmr_max) < 0)
                return 1;
        } else if ((r = xfiq_eval_opt_value(argc, argv, &i, "--n-fmr", &v))) {
            if (r < 0 || xfiq_eval_parse_int("--n-fmr", v, 1, XFIQ_QMAG_TRAIN_MAX, &to.n_fmr) < 0)
                return 1;
        } else if ((r = xfiq_eval_opt_value(argc, argv, &i, "--n-weights", &v))) {
            if (r < 0 || xfiq_eval_parse_int("--n-weights", v, 1, 4096, &to.n_weights) < 0)
                return 1;
        } else if ((r = xfiq_eval_opt_value(argc, argv, &i, "--max-ratio", &v))) {
            if (r < 0 || xfiq_eval_parse_double("--max-ratio", v, 1e-9, 1e9, &to.max_ratio) < 0)
                return 1;
        } else {
            fprintf(stderr, "xfiq qmagface-train: unknown option '%s' (see --help)\n", argv[i]);
            return 1;
        }
    }
    xfiq_eval_data d;
    if (xfiq_eval_data_load(&src, &d, "qmagface-train")) {
        xfiq_eval_data_free(&d);
        return 1;
    }
    int rc = 0;
    double *s = malloc((size_t)d.n_pairs * sizeof(double));
    double *q = malloc((size_t)d.n_pairs * sizeof(double));
    xfiq_qmag_train_report *rep = malloc(sizeof(*rep));
    xfiq_qmag_params p;
    if (!s || !q || !rep) {
        fprintf(stderr, "xfiq qmagface-train: out of memory\n");
        rc = 1;
    }
    double t0 = xfiq_now();
    if (!rc && (xfiq_eval_score_pairs(&src, &d, NULL, s, q, NULL) != XFIQ_OK ||
                xfiq_qmag_train(s, q, d.labels, d.n_pairs, &to, &p, rep) != XFIQ_OK)) {
        fprintf(stderr, "xfiq qmagface-train: %s\n", xfiq_last_error());
        rc = 1;
    }
    double secs = xfiq_now() - t0;
    if (!rc) {
        printf("pairs      %lld (%lld genuine, %lld impostor) from %s\n", (long long)rep->n_pairs,
               (long long)rep->n_genuine, (long long)rep->n_impostor, src.bench);
        printf("embeddings %s\n", d.desc);
        printf("grid       %d FMRs in [%g, %g], %d omegas in +-%g / max(q) (max q = %.4f)\n", to.n_fmr,
               to.fmr_min, to.fmr_max, to.n_weights, to.max_ratio, rep->max_q);
        printf("alpha      %.9f\nbeta       %.9f\n", p.alpha, p.beta);
        printf("           (QMagFace: s + min(0, beta s - alpha) q; no correction for s >= %.6f)\n",
               p.beta > 0 ? p.alpha / p.beta : 0.0);
        if (!src.quiet)
            fprintf(stderr, "xfiq qmagface-train: scored and trained in %.3f s\n", secs);
        if (out) {
            if (xfiq_qmag_params_save(out, &p, rep) != XFIQ_OK) {
                fprintf(stderr, "xfiq qmagface-train: %s\n", xfiq_last_error());
                rc = 1;
            } else
                printf("written    %s\n", out);
        }
    }
    free(s);
    free(q);
    free(rep);
    xfiq_eval_data_free(&d);
    return rc;
}
