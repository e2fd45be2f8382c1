/* quality_opts.c - parsing of the SER-FIQ / PLQ options. */
#include "cli/quality_opts.h"
#include "cli/ckpt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xfiq.h"

void xfiq_cli_qopts_init(xfiq_cli_qopts *q) { memset(q, 0, sizeof *q); }

static int num(const char *opt, const char *v, double lo, double hi, double *out)
{
    char *end;
    double x = v ? strtod(v, &end) : NAN;
    if (!v || *end || !(x >= lo && x <= hi)) {
        fprintf(stderr, "xfiq: %s needs a number in [%g, %g], got '%s'\n", opt, lo, hi, v ? v : "");
        return -1;
    }
    *out = x;
    return 1;
}

int xfiq_cli_qopt(xfiq_cli_qopts *q, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    double x;
    int r;
    if (!strcmp(a, "--published")) {
        q->published = 1;
        return 1;
    }
    if (!strcmp(a, "-T") || !strcmp(a, "--passes")) {
        if ((r = num(a, v, 2, 100000, &x)) > 0)
            q->T = (int)x;
    } else if (!strcmp(a, "--dropout")) {
        if ((r = num(a, v, 1e-6, 0.999999, &x)) > 0)
            q->p = (float)x;
    } else if (!strcmp(a, "--mask")) {
        r = v && (!strcmp(v, "element") || !strcmp(v, "channel")) ? 1 : -1;
        if (r < 0)
            fprintf(stderr, "xfiq: --mask takes element or channel\n");
        else
            q->channel_wise = !strcmp(v, "channel");
    } else if (!strcmp(a, "--seed")) {
        if ((r = num(a, v, 0, 1.8e19, &x)) > 0) {
            q->seed = strtoull(v, NULL, 10);
            q->has_seed = 1;
        }
    } else if (!strcmp(a, "--alpha")) {
        if ((r = num(a, v, -1e9, 1e9, &q->alpha)) > 0)
            q->has_alpha = 1;
    } else if (!strcmp(a, "--r")) {
        if ((r = num(a, v, -1e9, 1e9, &q->r)) > 0)
            q->has_r = 1;
    } else if (!strcmp(a, "--plq-mode")) {
        r = v && xfiq_plq_mode_parse(v, &q->mode) == XFIQ_OK ? 1 : -1;
        if (r < 0)
            fprintf(stderr, "xfiq: --plq-mode takes paper, signed or magnitude\n");
        else
            q->has_mode = 1;
    } else if (!strcmp(a, "--plq-a")) {
        if ((r = num(a, v, 0, 1e300, &q->a)) > 0)
            q->has_a = 1;
    } else if (!strcmp(a, "--plq-b")) {
        if ((r = num(a, v, 1e-6, 100, &q->b)) > 0)
            q->has_b = 1;
    } else
        return 0;
    if (r > 0)
        (*i)++;
    return r;
}

void xfiq_cli_qopts_help(FILE *f, int with_plq)
{
    fprintf(f, "  -T, --passes N      SER-FIQ stochastic passes (100)\n"
               "      --dropout P     dropout rate (0.5)\n"
               "      --mask KIND     element (default) or channel masks\n"
               "      --seed S        Philox seed of the masks (0); image id = index in the input list\n"
               "      --alpha A, --r R  SER-FIQ scaling (default: the model card's calibration, else 130, 0.88)\n"
               "      --published     use the published constants (alpha 130, r 0.88%s)\n",
            with_plq ? ", paper mode, a 10^7.5, b 2" : "");
    if (with_plq)
        fprintf(f, "      --plq-mode M    paper (w = Q/sum e), signed (default: w = Q/||e||_1 on sign(e)) or magnitude\n"
                   "      --plq-a A, --plq-b B  map P = 1 - 1/(1 + A m^B) (default: card calibration, else 10^7.5, 2)\n");
}

void xfiq_cli_qopts_apply(const xfiq_cli_qopts *q, xfiq_model_t m, xfiq_plq_opts *o)
{
    xfiq_plq_opts_default(m, q->published, o);
    if (q->T)
        o->serfiq.T = q->T;
    if (q->p > 0)
        o->serfiq.p = q->p;
    o->serfiq.channel_wise = q->channel_wise;
    if (q->has_seed)
        o->serfiq.seed = q->seed;
    if (q->has_alpha)
        o->serfiq.alpha = q->alpha;
    if (q->has_r)
        o->serfiq.r = q->r;
    if (q->has_mode)
        o->mode = q->mode;
    if (q->has_a)
        o->a = q->a;
    if (q->has_b)
        o->b = q->b;
}

int xfiq_cli_parse(int argc, char **argv, const char *cmd, void (*usage)(FILE *), xfiq_cli_job *job,
                   xfiq_cli_qopts *qo, xfiq_cli_extra_fn extra, void *ctx)
{
    /* The job's fingerprint for --resume: the command and its arguments
     * (without --resume, --quiet and --[no-]decode-ahead, which change no output). */
    job->cmd = cmd;
    job->fingerprint = xfiq_ckpt_hash(XFIQ_CKPT_HASH0, cmd, strlen(cmd) + 1);
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--resume") && strcmp(argv[i], "-q") && strcmp(argv[i], "--quiet") &&
            strcmp(argv[i], "--decode-ahead") && strcmp(argv[i], "--no-decode-ahead"))
            job->fingerprint = xfiq_ckpt_hash(job->fingerprint, argv[i], strlen(argv[i]) + 1);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            xfiq_cli_job_close(job);
            return 1;
        }
        int r = qo ? xfiq_cli_qopt(qo, argc, argv, &i) : 0;
        if (r == 0)
            r = xfiq_cli_job_opt(job, argc, argv, &i);
        if (r == 0 && extra)
            r = extra(ctx, argc, argv, &i);
        if (r <= 0) {
            if (r == 0)
                fprintf(stderr, "xfiq %s: unknown or incomplete option '%s'\n", cmd, argv[i]);
            usage(stderr);
            xfiq_cli_job_close(job);
            return -1;
        }
    }
    return 0;
}

const char *xfiq_cli_calibration_state(const xfiq_cli_qopts *q, xfiq_model_t m, const char *cmd)
{
    if (q->published)
        return "published";
    if (xfiq_model_is_calibrated(m))
        return "calibrated";
    if (q->has_alpha && q->has_r)
        return "options";
    fprintf(stderr,
            "xfiq %s: warning: the model has no calibration (card: %s), so SER-FIQ is scaled with the\n"
            "  published alpha 130, r 0.88 and maps use a = 10^7.5, b = 2, set for another network: scaled\n"
            "  SER-FIQ and PLQ maps may be all near 0 or 1 (raw SER-FIQ is unaffected). Calibrate it with\n"
            "  `xfiq calibrate --model MODEL -o MODEL.card.json REFERENCE_FACES` (README, \"Calibration\").\n",
            cmd, xfiq_model_card_source(m));
    return "uncalibrated";
}
