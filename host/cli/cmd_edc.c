/* cmd_edc.c - `xfiq edc`: error-versus-discard curves of one or more
 * quality measures (magnitude, SER-FIQ or mean PLQ columns of per-image
 * CSVs) on the same pairs, FNMR at a chosen FMR, area over a discard range;
 * table, JSON and SVG plot. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cmd_eval.h"
#include "eval/elem_eval.h"

#define EDC_MAX_QUALITIES 16

static void edc_help(FILE *f)
{
    fprintf(f,
            "usage: xfiq edc --bench PATH [--embeddings E.npy [--names N] | --model M]\n"
            "                --quality SPEC [--quality SPEC ...] [options]\n\n"
            "Error-versus-discard curves: drop the pairs of lowest pair quality (the lower of\n"
            "the two images' qualities; ties keep file order) and report the FNMR at a fixed\n"
            "FMR against the discarded fraction, with the area under the curve.\n\n");
    xfiq_eval_source_help(f);
    fprintf(f,
            "quality:\n"
            "  --quality SPEC       'magnitude' (embedding norms), or FILE.csv:COLUMN[:LABEL] for a\n"
            "                       column of `xfiq quality` / `xfiq plq` / `xfiq embed` output,\n"
            "                       e.g. quality.csv:serfiq or plq.csv:mean_plq:PLQ\n"
            "curve:\n"
            "  --fmr X              FMR of the operating point (default 1e-3)\n"
            "  --discard LO:HI      discard range (default 0:0.5)\n"
            "  --points N           evaluated fractions, evenly spaced (default 51)\n"
            "  --mode M             fixed (default: threshold set at the FMR on all pairs) or\n"
            "                       recompute (FNMR@FMR on the pairs left)\n"
            "  --score S            cosine (default) or qmagface (--qmag as in xfiq eval)\n"
            "output:\n"
            "  --json OUT.json      --plot EDC.svg\n");
}

typedef struct quality_spec {
    char label[256];
    double *img_q; /* per benchmark image */
    double *pair_q;
    double fnmr[4096], disc[4096], auc, thr;
} quality_spec;

static int load_quality(const char *spec, xfiq_eval_data *d, quality_spec *qs)
{
    const int64_t ni = xfiq_bench_num_images(d->bench);
    qs->img_q = malloc((size_t)(ni ? ni : 1) * sizeof(double));
    qs->pair_q = malloc((size_t)d->n_pairs * sizeof(double));
    if (!qs->img_q || !qs->pair_q) {
        fprintf(stderr, "xfiq edc: out of memory\n");
        return 1;
    }
    if (!strcmp(spec, "magnitude")) {
        snprintf(qs->label, sizeof qs->label, "magnitude");
        double *mag = malloc((size_t)d->n_rows * sizeof(double));
        if (!mag || xfiq_embeddings_magnitudes(d->z, d->n_rows, d->dim, mag) != XFIQ_OK) {
            free(mag);
            fprintf(stderr, "xfiq edc: %s\n", xfiq_last_error());
            return 1;
        }
        for (int64_t k = 0; k < d->n_pairs; k++)
            qs->pair_q[k] = xfiq_pair_quality(mag[d->ia[k]], mag[d->ib[k]]);
        free(mag);
        return 0;
    }
    /* FILE:COLUMN[:LABEL]; the file name ends at ".csv:" when there is one,
     * so names holding ':' still work */
    char *buf = strdup(spec);
    char *sep = buf ? strstr(buf, ".csv:") : NULL;
    if (sep)
        sep += 4;
    else if (buf)
        sep = strchr(buf, ':');
    if (!sep || !sep[1]) {
        free(buf);
        fprintf(stderr, "xfiq edc: --quality '%s': expected 'magnitude' or FILE.csv:COLUMN[:LABEL]\n", spec);
        return 1;
    }
    *sep = 0;
    const char *file = buf, *col = sep + 1, *label = sep + 1;
    char *c2 = strchr(sep + 1, ':');
    if (c2) {
        *c2 = 0;
        label = c2 + 1;
    }
    snprintf(qs->label, sizeof qs->label, "%s", label);
    int rc = 0;
    if (xfiq_quality_csv_read(file, col, d->bench, qs->img_q) != XFIQ_OK) {
        fprintf(stderr, "xfiq edc: %s\n", xfiq_last_error());
        rc = 1;
    } else {
        const int64_t *a, *b;
        xfiq_bench_pairs(d->bench, &a, &b, NULL, NULL);
        for (int64_t k = 0; k < d->n_pairs; k++)
            qs->pair_q[k] = xfiq_pair_quality(qs->img_q[a[k]], qs->img_q[b[k]]);
    }
    free(buf);
    return rc;
}

int xfiq_cmd_edc(int argc, char **argv)
{
    xfiq_eval_source src;
    xfiq_eval_source_init(&src);
    const char *specs[EDC_MAX_QUALITIES];
    int n_spec = 0, points = 51;
    double fmr = 1e-3, lo = 0.0, hi = 0.5;
    const char *mode_s = "fixed", *score_s = "cosine", *qmag = "magface-100", *json = NULL,
               *plot = NULL, *discard = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            edc_help(stdout);
            return 0;
        }
        if ((r = xfiq_eval_source_opt(&src, argc, argv, &i)) != 0) {
            if (r < 0)
                return 1;
        } else if ((r = xfiq_eval_opt_value(argc, argv, &i, "--quality", &v))) {
            if (r < 0)
                return 1;
            if (n_spec == EDC_MAX_QUALITIES) {
                fprintf(stderr, "xfiq edc: at most %d --quality options\n", EDC_MAX_QUALITIES);
                return 1;
            }
            specs[n_spec++] = v;
        } else if ((r = xfiq_eval_opt_value(argc, argv, &i, "--fmr", &v))) {
            if (r < 0 || xfiq_eval_parse_double("--fmr", v, 0.0, 1.0, &fmr) < 0)
                return 1;
        } else if ((r = xfiq_eval_opt_value(argc, argv, &i, "--points", &v))) {
            if (r < 0 || xfiq_eval_parse_int("--points", v, 2, 4096, &points) < 0)
                return 1;
        } else if ((r = xfiq_eval_opt_value(argc, argv, &i, "--discard", &discard)) ||
                   (r = xfiq_eval_opt_value(argc, argv, &i, "--mode", &mode_s)) ||
                   (r = xfiq_eval_opt_value(argc, argv, &i, "--score", &score_s)) ||
                   (r = xfiq_eval_opt_value(argc, argv, &i, "--qmag", &qmag)) ||
                   (r = xfiq_eval_opt_value(argc, argv, &i, "--json", &json)) ||
                   (r = xfiq_eval_opt_value(argc, argv, &i, "--plot", &plot))) {
            if (r < 0)
                return 1;
        } else {
            fprintf(stderr, "xfiq edc: unknown option '%s' (see xfiq edc --help)\n", argv[i]);
            return 1;
        }
    }
    if (!n_spec) {
        fprintf(stderr, "xfiq edc: give at least one --quality (see --help)\n");
        return 1;
    }
    if (discard) {
        char *end;
        lo = strtod(discard, &end);
        if (*end != ':' || (hi = strtod(end + 1, &end), *end) || !(lo >= 0 && lo <= hi && hi <= 1)) {
            fprintf(stderr, "xfiq edc: --discard: expected LO:HI with 0 <= LO <= HI <= 1, got '%s'\n", discard);
            return 1;
        }
    }
    xfiq_edc_mode mode = XFIQ_EDC_FIXED;
    if (!strcmp(mode_s, "recompute"))
        mode = XFIQ_EDC_RECOMPUTE;
    else if (strcmp(mode_s, "fixed")) {
        fprintf(stderr, "xfiq edc: --mode: fixed or recompute, got '%s'\n", mode_s);
        return 1;
    }
    int use_qmag = !strcmp(score_s, "qmagface");
    if (!use_qmag && strcmp(score_s, "cosine")) {
        fprintf(stderr, "xfiq edc: --score: cosine or qmagface, got '%s'\n", score_s);
        return 1;
    }
    xfiq_qmag_params qp;
    if (use_qmag && xfiq_qmag_params_resolve(qmag, &qp) != XFIQ_OK) {
        fprintf(stderr, "xfiq edc: %s\n", xfiq_last_error());
        return 1;
    }
    xfiq_eval_data d;
    if (xfiq_eval_data_load(&src, &d, "edc")) {
        xfiq_eval_data_free(&d);
        return 1;
    }
    int rc = 0;
    quality_spec *qs = calloc((size_t)n_spec, sizeof(quality_spec));
    double *s = malloc((size_t)d.n_pairs * sizeof(double));
    double *v = malloc((size_t)d.n_pairs * sizeof(double));
    if (!qs || !s || !v) {
        fprintf(stderr, "xfiq edc: out of memory\n");
        rc = 1;
    }
    if (!rc && xfiq_score_pairs(d.z, d.n_rows, d.dim, NULL, d.ia, d.ib, d.n_pairs, use_qmag ? &qp : NULL,
                                s, NULL, use_qmag ? v : NULL) != XFIQ_OK) {
        fprintf(stderr, "xfiq edc: %s\n", xfiq_last_error());
        rc = 1;
    }
    const double *score = use_qmag ? v : s;
    for (int k = 0; !rc && k < n_spec; k++) {
        rc = load_quality(specs[k], &d, &qs[k]);
        if (!rc && xfiq_edc_compute(score, d.labels, qs[k].pair_q, d.n_pairs, fmr, mode, lo, hi, points,
                                    qs[k].disc, qs[k].fnmr, &qs[k].thr, &qs[k].auc) != XFIQ_OK) {
            fprintf(stderr, "xfiq edc: %s\n", xfiq_last_error());
            rc = 1;
        }
    }
    if (!rc) {
        printf("benchmark  %s: %lld pairs\nembeddings %s\n", src.bench, (long long)d.n_pairs, d.desc);
        printf("edc        FNMR at FMR %g, %s; score %s; pair quality = min of the two images\n", fmr,
               mode == XFIQ_EDC_FIXED ? "threshold fixed on all pairs" : "threshold recomputed on the pairs left",
               use_qmag ? "qmagface" : "cosine");
        if (mode == XFIQ_EDC_FIXED)
            printf("threshold  %.9g (accept iff score >= threshold)\n", qs[0].thr);
        printf("\n%-10s", "discarded");
        for (int k = 0; k < n_spec; k++)
            printf(" %14.14s", qs[k].label);
        printf("\n");
        int step = points > 11 ? (points - 1) / 10 : 1;
        for (int j = 0; j < points; j += step) {
            printf("%8.1f %% ", 100 * qs[0].disc[j]);
            for (int k = 0; k < n_spec; k++)
                printf(" %12.3f %%", 100 * qs[k].fnmr[j]);
            printf("\n");
        }
        printf("%-10s", "AUC");
        for (int k = 0; k < n_spec; k++)
            printf(" %14.6f", qs[k].auc);
        printf("\n(AUC: trapezoid rule over the %d fractions in [%g, %g]; lower is better)\n", points, lo, hi);
    }
    if (!rc && json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "kind", "xfiq-edc");
        cJSON_AddStringToObject(root, "benchmark", src.bench);
        cJSON_AddNumberToObject(root, "pairs", (double)d.n_pairs);
        cJSON_AddNumberToObject(root, "fmr", fmr);
        cJSON_AddStringToObject(root, "mode", mode == XFIQ_EDC_FIXED ? "fixed" : "recompute");
        cJSON_AddStringToObject(root, "score", use_qmag ? "qmagface" : "cosine");
        cJSON *arr = cJSON_AddArrayToObject(root, "qualities");
        for (int k = 0; k < n_spec; k++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "label", qs[k].label);
            cJSON_AddStringToObject(o, "spec", specs[k]);
            cJSON_AddNumberToObject(o, "auc", qs[k].auc);
            if (mode == XFIQ_EDC_FIXED)
                cJSON_AddNumberToObject(o, "threshold", qs[k].thr);
            cJSON *dj = cJSON_AddArrayToObject(o, "discard"), *fj = cJSON_AddArrayToObject(o, "fnmr");
            for (int j = 0; j < points; j++) {
                cJSON_AddItemToArray(dj, cJSON_CreateNumber(qs[k].disc[j]));
                cJSON_AddItemToArray(fj, isfinite(qs[k].fnmr[j]) ? cJSON_CreateNumber(qs[k].fnmr[j])
                                                                 : cJSON_CreateNull());
            }
            cJSON_AddItemToArray(arr, o);
        }
        rc = xfiq_eval_write_json(json, root);
        cJSON_Delete(root);
    }
    if (!rc && plot) {
        xfiq_plot_curve curves[EDC_MAX_QUALITIES];
        for (int k = 0; k < n_spec; k++)
            curves[k] = (xfiq_plot_curve){qs[k].label, qs[k].disc, qs[k].fnmr, points};
        char title[256];
        snprintf(title, sizeof title, "EDC: FNMR at FMR %g (%s threshold)", fmr,
                 mode == XFIQ_EDC_FIXED ? "fixed" : "recomputed");
        if (xfiq_plot_svg(plot, XFIQ_PLOT_EDC, title, curves, n_spec) != XFIQ_OK) {
            fprintf(stderr, "xfiq edc: %s\n", xfiq_last_error());
            rc = 1;
        }
    }
    for (int k = 0; qs && k < n_spec; k++) {
        free(qs[k].img_q);
        free(qs[k].pair_q);
    }
    free(qs);
    free(s);
    free(v);
    xfiq_eval_data_free(&d);
    return rc;
}
