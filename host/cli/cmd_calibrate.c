/* cmd_calibrate.c - `xfiq calibrate`: a model's SER-FIQ scaling (alpha, r)
 * and PLQ map constant a from reference faces, written into its card. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/quality_opts.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: xfiq calibrate [options] REFERENCE_INPUT...\n");
    xfiq_cli_job_help(f);
    xfiq_cli_qopts_help(f, 1);
    fprintf(f, "  -o, --out CARD      card JSON to write (default: the model's card, <model>.card.json)\n"
               "      --note TEXT     description of the reference set stored in the card\n"
               "r = median raw SER-FIQ; alpha = smallest value putting the 5th/95th percentiles at <= 0.1 / >= 0.9;\n"
               "a = value putting P = 0.5 at the median face-pixel gradient of the chosen PLQ mode (SPEC 4.1).\n");
}

typedef struct cal_ctx {
    uint8_t *faces;
    uint64_t *ids;
    size_t n, cap, img;
} cal_ctx;

static int collect(void *vctx, size_t s, int k, const xfiq_cli_item *it, const uint8_t *faces, const uint64_t *ids,
                   int ng)
{
    cal_ctx *c = vctx;
    (void)s, (void)k, (void)it;
    if (c->n + (size_t)ng > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        while (cap < c->n + (size_t)ng)
            cap *= 2;
        uint8_t *f = realloc(c->faces, cap * c->img);
        uint64_t *d = realloc(c->ids, cap * sizeof *d);
        if (f)
            c->faces = f;
        if (d)
            c->ids = d;
        if (!f || !d) {
            fprintf(stderr, "xfiq: out of memory holding the reference faces\n");
            return XFIQ_EXIT_FATAL;
        }
        c->cap = cap;
    }
    memcpy(c->faces + c->n * c->img, faces, (size_t)ng * c->img);
    memcpy(c->ids + c->n, ids, (size_t)ng * sizeof *ids);
    c->n += (size_t)ng;
    return 0;
}

static int note_opt(void *ctx, int argc, char **argv, int *i)
{
    if (strcmp(argv[*i], "--note") || *i + 1 >= argc)
        return 0;
    *(const char **)ctx = argv[++*i];
    return 1;
}

int xfiq_cmd_calibrate(int argc, char **argv)
{
    xfiq_cli_job job;
    xfiq_cli_qopts qo;
    xfiq_cli_job_init(&job, NULL, argc);
    xfiq_cli_qopts_init(&qo);
    const char *note = NULL;
    int pr = xfiq_cli_parse(argc, argv, "calibrate", usage, &job, &qo, note_opt, &note);
    if (pr)
        return pr > 0 ? XFIQ_EXIT_OK : XFIQ_EXIT_FATAL;
    cal_ctx c = {0};
    int rc = XFIQ_EXIT_FATAL;
    char card_path[4096];
    job.all_faces_ok = 2;
    if (xfiq_cli_job_open(&job, 0))
        goto done;
    const char *model = job.model.model ? job.model.model : xfiq_cli_default_model();
    if (job.out)
        snprintf(card_path, sizeof card_path, "%s", job.out);
    else {
        size_t n = strlen(model);
        if (n > 5 && !strcmp(model + n - 5, ".onnx"))
            n -= 5;
        snprintf(card_path, sizeof card_path, "%.*s.card.json", (int)n, model);
    }
    xfiq_plq_opts o;
    xfiq_cli_qopts_apply(&qo, job.m, &o);
    c.img = (size_t)job.info.input_width * (size_t)job.info.input_height * 3;
    xfiq_cli_batch_opts bo = xfiq_cli_job_batch_opts(&job, "load");
    if (xfiq_cli_run_batches(&job.paths, &bo, collect, &c) != 0)
        goto done;
    xfiq_calibration cal;
    if (!job.quiet)
        fprintf(stderr, "xfiq calibrate: %zu reference faces, T=%d, PLQ mode %s ...\n", c.n, o.serfiq.T,
                xfiq_plq_mode_name(o.mode));
    if (xfiq_model_calibrate(job.m, c.faces, (int)c.n, c.ids, &o, &cal) != XFIQ_OK ||
        xfiq_model_set_calibration(job.m, &cal) != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        goto done;
    }
    char ref[512];
    snprintf(ref, sizeof ref, "%s (%d faces; T=%d, p=%g, seed=%llu; raw SER-FIQ p5/p50/p95 %.4f/%.4f/%.4f; "
             "median face-pixel gradient %.4g)", note ? note : "xfiq calibrate", cal.n_faces, o.serfiq.T,
             (double)o.serfiq.p, (unsigned long long)o.serfiq.seed, cal.q_raw_p5, cal.q_raw_p50, cal.q_raw_p95,
             cal.grad_median);
    if (xfiq_model_save_card(job.m, card_path, ref) != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        goto done;
    }
    printf("faces             %d\nraw SER-FIQ       p5 %.4f  median %.4f  p95 %.4f\n"
           "serfiq_alpha      %.6g\nserfiq_r          %.6g\nplq_mode          %s\n"
           "median gradient   %.6g (8-bit pixel units, face region)\nplq_a             %.6g\nplq_b             %g\n"
           "card              %s\n",
           cal.n_faces, cal.q_raw_p5, cal.q_raw_p50, cal.q_raw_p95, cal.serfiq_alpha, cal.serfiq_r,
           xfiq_plq_mode_name(cal.plq_mode), cal.grad_median, cal.plq_a, cal.plq_b, card_path);
    rc = XFIQ_EXIT_OK;
done:
    free(c.faces);
    free(c.ids);
    xfiq_cli_job_close(&job);
    return rc;
}
