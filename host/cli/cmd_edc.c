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
#include "io/afile.h"
#include "io/csv.h"

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
            "  --mode M             the convention (SPEC 12), named in every output:\n"
            "                       fixed (default; ISO/IEC 29794-5): threshold set once on all pairs at\n"
            "                       the FMR (or --start-fnmr), pairs of equal quality discarded together,\n"
            "                       partial area up to --discard-limit (0.2) [less the theoretical best];\n"
            "                       recompute (CR-FIQA/MagFace scripts): discard 0, 0.05, ..., 0.95 and\n"
            "                       choose the threshold again at the FMR on the pairs left\n"
            "  --start-fnmr E       fixed: set the threshold where the FNMR of all pairs is E (e.g. 0.1)\n"
            "  --discard-limit L    fixed: partial area over [0, L] (0.2); recompute: last fraction (0.95)\n"
            "  --step S             recompute: fraction step (0.05)\n"
            "  --subtract-best      fixed: report the area less that of the theoretical best curve\n"
            "  --discard LO:HI, --points N: the JSON's 'discard'/'fnmr'/'auc' also sample the curve at N\n"
            "  evenly spaced fractions (round(f n) pairs discarded, ties in file order, threshold at the\n"
            "  FMR); each quality's 'curve' holds the convention's full curve\n"
            "  --score S            cosine (default) or qmagface (--qmag as in xfiq eval)\n"
            "output:\n"
            "  --json OUT.json      --plot EDC.svg (the convention's curves)\n"
            "  --csv OUT.csv        the convention's full curve: quality,convention,discard,fnmr,best\n");
}

typedef struct quality_spec {
    char label[256];
    double *img_q; /* per benchmark image */
    double *pair_q;
    double fnmr[4096], disc[4096], auc, thr;
    xfiq_edc_result conv; /* the named convention's curve */
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
        for (int64_t k = 0; k < d->n_pairs; k++) { /* pair_src: --no-face skip kept a subset */
            const int64_t p = d->pair_src ? d->pair_src[k] : k;
            qs->pair_q[k] = xfiq_pair_quality(qs->img_q[a[p]], qs->img_q[b[p]]);
        }
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
               *plot = NULL, *discard = NULL, *csv = NULL;
    double start_fnmr = 0, limit = -1, step = 0.05;
    int subtract_best = 0;
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
        } else if (!strcmp(argv[i], "--subtract-best")) {
            subtract_best = 1;
        } else if ((r = xfiq_eval_opt_value(argc, argv, &i, "--start-fnmr", &v))) {
            if (r < 0 || xfiq_eval_parse_double("--start-fnmr", v, 0.0, 0.999, &start_fnmr) < 0)
                return 1;
        } else if ((r = xfiq_eval_opt_value(argc, argv, &i, "--discard-limit", &v))) {
            if (r < 0 || xfiq_eval_parse_double("--discard-limit", v, 1e-9, 1.0, &limit) < 0)
                return 1;
        } else if ((r = xfiq_eval_opt_value(argc, argv, &i, "--step", &v))) {
            if (r < 0 || xfiq_eval_parse_double("--step", v, 1e-6, 1.0, &step) < 0)
                return 1;
        } else if ((r = xfiq_eval_opt_value(argc, argv, &i, "--points", &v))) {
            if (r < 0 || xfiq_eval_parse_int("--points", v, 2, 4096, &points) < 0)
                return 1;
        } else if ((r = xfiq_eval_opt_value(argc, argv, &i, "--discard", &discard)) ||
                   (r = xfiq_eval_opt_value(argc, argv, &i, "--mode", &mode_s)) ||
                   (r = xfiq_eval_opt_value(argc, argv, &i, "--score", &score_s)) ||
                   (r = xfiq_eval_opt_value(argc, argv, &i, "--qmag", &qmag)) ||
                   (r = xfiq_eval_opt_value(argc, argv, &i, "--json", &json)) ||
                   (r = xfiq_eval_opt_value(argc, argv, &i, "--plot", &plot)) ||
                   (r = xfiq_eval_opt_value(argc, argv, &i, "--csv", &csv))) {
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
    if (!rc && xfiq_eval_score_pairs(&src, &d, use_qmag ? &qp : NULL, s, NULL, use_qmag ? v : NULL) != XFIQ_OK) {
        fprintf(stderr, "xfiq edc: %s\n", xfiq_last_error());
        rc = 1;
    }
    const double *score = use_qmag ? v : s;
    xfiq_edc_options eo;
    xfiq_edc_options_default(mode, &eo);
    eo.fmr = fmr;
    eo.start_fnmr = mode == XFIQ_EDC_FIXED ? start_fnmr : 0;
    eo.step = step;
    eo.subtract_best = subtract_best;
    if (limit > 0)
        eo.discard_limit = limit;
    for (int k = 0; !rc && k < n_spec; k++) {
        rc = load_quality(specs[k], &d, &qs[k]);
        if (!rc && (xfiq_edc_compute(score, d.labels, qs[k].pair_q, d.n_pairs, fmr, mode, lo, hi, points, qs[k].disc,
                                     qs[k].fnmr, &qs[k].thr, &qs[k].auc) != XFIQ_OK ||
                    xfiq_edc_run(score, d.labels, qs[k].pair_q, d.n_pairs, &eo, &qs[k].conv) != XFIQ_OK)) {
            fprintf(stderr, "xfiq edc: %s\n", xfiq_last_error());
            rc = 1;
        }
    }
    const char *conv_name = mode == XFIQ_EDC_FIXED ? "fixed threshold (ISO/IEC 29794-5)"
                                                   : "recomputed threshold (CR-FIQA/MagFace)";
    if (!rc) {
        printf("benchmark  %s: %lld pairs\nembeddings %s\n", src.bench, (long long)d.n_pairs, d.desc);
        printf("convention %s\n", conv_name);
        printf("edc        FNMR at %s %g, %s; score %s; pair quality = min of the two images\n",
               mode == XFIQ_EDC_FIXED && start_fnmr > 0 ? "starting FNMR" : "FMR",
               mode == XFIQ_EDC_FIXED && start_fnmr > 0 ? start_fnmr : fmr,
               mode == XFIQ_EDC_FIXED ? "threshold fixed on all pairs" : "threshold recomputed on the pairs left",
               use_qmag ? "qmagface" : "cosine");
        if (mode == XFIQ_EDC_FIXED)
            printf("threshold  %.9g (accept iff score >= threshold)\n", qs[0].conv.threshold);
        printf("\n%-10s", "discarded");
        for (int k = 0; k < n_spec; k++)
            printf(" %14.14s", qs[k].label);
        printf("\n");
        /* the convention's curve at evenly spaced fractions of [0, limit]
         * (fixed: the step value of the last point at or before f) */
        const double top = mode == XFIQ_EDC_FIXED ? eo.discard_limit : qs[0].conv.discard[qs[0].conv.n_points - 1];
        const int rows = mode == XFIQ_EDC_FIXED ? 11 : (int)qs[0].conv.n_points;
        for (int j = 0; j < rows; j++) {
            double f = mode == XFIQ_EDC_FIXED ? top * j / 10.0 : qs[0].conv.discard[j];
            printf("%8.1f %% ", 100 * f);
            for (int k = 0; k < n_spec; k++) {
                const xfiq_edc_result *er = &qs[k].conv;
                int64_t at = 0;
                while (at + 1 < er->n_points && er->discard[at + 1] <= f + 1e-12)
                    at++;
                printf(" %12.3f %%", 100 * er->fnmr[at]);
            }
            printf("\n");
        }
        printf("%-10s", mode == XFIQ_EDC_FIXED ? (subtract_best ? "pAUC-best" : "pAUC") : "AUC");
        for (int k = 0; k < n_spec; k++)
            printf(" %14.6f", qs[k].conv.auc);
        if (mode == XFIQ_EDC_FIXED)
            printf("\n(%s: area under the step curve over [0, %g]%s, lower is better; %lld points in the full "
                   "curve, starting FNMR %.4f)\n", conv_name, eo.discard_limit,
                   subtract_best ? " less the theoretical best's" : "", (long long)qs[0].conv.n_points,
                   qs[0].conv.fnmr0);
        else
            printf("\n(%s: trapezoid rule over 0, %g, ..., %g, lower is better)\n", conv_name, eo.step, top);
    }
    if (!rc && json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "kind", "xfiq-edc");
        cJSON_AddStringToObject(root, "benchmark", src.bench);
        cJSON_AddNumberToObject(root, "pairs", (double)d.n_pairs);
        cJSON_AddNumberToObject(root, "fmr", fmr);
        cJSON_AddStringToObject(root, "mode", mode == XFIQ_EDC_FIXED ? "fixed" : "recompute");
        cJSON_AddStringToObject(root, "convention", conv_name);
        if (mode == XFIQ_EDC_FIXED) {
            cJSON_AddNumberToObject(root, "start_fnmr", start_fnmr);
            cJSON_AddBoolToObject(root, "subtract_best", subtract_best);
        } else
            cJSON_AddNumberToObject(root, "step", step);
        cJSON_AddNumberToObject(root, "discard_limit", eo.discard_limit);
        cJSON_AddStringToObject(root, "score", use_qmag ? "qmagface" : "cosine");
        cJSON *arr = cJSON_AddArrayToObject(root, "qualities");
        for (int k = 0; k < n_spec; k++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "label", qs[k].label);
            cJSON_AddStringToObject(o, "spec", specs[k]);
            cJSON_AddNumberToObject(o, "auc", qs[k].auc);
            if (mode == XFIQ_EDC_FIXED)
                cJSON_AddNumberToObject(o, "threshold", qs[k].thr);
            cJSON *cv = cJSON_AddObjectToObject(o, "curve");
            const xfiq_edc_result *er = &qs[k].conv;
            cJSON_AddStringToObject(cv, "convention", conv_name);
            cJSON_AddNumberToObject(cv, "auc", er->auc);
            if (mode == XFIQ_EDC_FIXED) {
                cJSON_AddNumberToObject(cv, "threshold", er->threshold);
                cJSON_AddNumberToObject(cv, "auc_best", er->auc_best);
            }
            cJSON_AddNumberToObject(cv, "fnmr0", er->fnmr0);
            const char *cn[3] = {"discard", "fnmr", "best"};
            const double *cd[3] = {er->discard, er->fnmr, er->best};
            for (int a = 0; a < 3; a++) {
                if (!cd[a])
                    continue;
                cJSON *ca = cJSON_AddArrayToObject(cv, cn[a]);
                for (int64_t j = 0; j < er->n_points; j++)
                    cJSON_AddItemToArray(ca, isfinite(cd[a][j]) ? cJSON_CreateNumber(cd[a][j]) : cJSON_CreateNull());
            }
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
            curves[k] = (xfiq_plot_curve){qs[k].label, qs[k].conv.discard, qs[k].conv.fnmr, (int)qs[k].conv.n_points};
        char title[256];
        snprintf(title, sizeof title, "EDC: FNMR at %s %g, %s", mode == XFIQ_EDC_FIXED && start_fnmr > 0 ? "FNMR" : "FMR",
                 mode == XFIQ_EDC_FIXED && start_fnmr > 0 ? start_fnmr : fmr, conv_name);
        if (xfiq_plot_svg(plot, XFIQ_PLOT_EDC, title, curves, n_spec) != XFIQ_OK) {
            fprintf(stderr, "xfiq edc: %s\n", xfiq_last_error());
            rc = 1;
        }
    }
    if (!rc && csv) {
        xfiq_afile af;
        if (xfiq_afile_open(&af, csv) != XFIQ_OK) {
            fprintf(stderr, "xfiq edc: %s\n", xfiq_last_error());
            rc = 1;
        } else {
            fprintf(af.fp, "quality,convention,discard,fnmr,best\n");
            for (int k = 0; k < n_spec; k++)
                for (int64_t j = 0; j < qs[k].conv.n_points; j++) {
                    xfiq_csv_write_field(af.fp, qs[k].label);
                    fputc(',', af.fp);
                    xfiq_csv_write_field(af.fp, conv_name);
                    fprintf(af.fp, ",%.17g,", qs[k].conv.discard[j]);
                    if (isfinite(qs[k].conv.fnmr[j]))
                        fprintf(af.fp, "%.17g", qs[k].conv.fnmr[j]);
                    fputc(',', af.fp);
                    if (qs[k].conv.best)
                        fprintf(af.fp, "%.17g", qs[k].conv.best[j]);
                    fputc('\n', af.fp);
                }
            if (xfiq_afile_commit(&af) != XFIQ_OK) {
                fprintf(stderr, "xfiq edc: %s\n", xfiq_last_error());
                rc = 1;
            }
        }
    }
    for (int k = 0; qs && k < n_spec; k++) {
        xfiq_edc_result_free(&qs[k].conv);
        free(qs[k].img_q);
        free(qs[k].pair_q);
    }
    free(qs);
    free(s);
    free(v);
    xfiq_eval_data_free(&d);
    return rc;
}
