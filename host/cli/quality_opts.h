/* quality_opts.h - the SER-FIQ / PLQ options shared by `xfiq quality`,
 * `xfiq plq` and `xfiq calibrate`: parsed before the model is open, applied
 * over the model's (calibrated or published) defaults after. */
#ifndef XFIQ_CLI_QUALITY_OPTS_H
#define XFIQ_CLI_QUALITY_OPTS_H

#include <stdio.h>

#include "cli/cli.h"
#include "xfiq_quality.h"

typedef struct xfiq_cli_qopts {
    int published;
    int T, channel_wise, has_seed, has_alpha, has_r, has_mode, has_a, has_b;
    float p;
    unsigned long long seed;
    double alpha, r, a, b;
    xfiq_plq_mode mode;
} xfiq_cli_qopts;

void xfiq_cli_qopts_init(xfiq_cli_qopts *q);
/* Consumes argv[*i] (+ value) when it is a quality option: 1 consumed, 0 not, -1 bad value. */
int xfiq_cli_qopt(xfiq_cli_qopts *q, int argc, char **argv, int *i);
void xfiq_cli_qopts_help(FILE *f, int with_plq);
/* Model defaults overridden by what was given. */
void xfiq_cli_qopts_apply(const xfiq_cli_qopts *q, xfiq_model_t m, xfiq_plq_opts *out);

/* The CSV's calibration column: "calibrated" (the card's alpha, r, a, b),
 * "published" (--published), "options" (--alpha and --r given) or
 * "uncalibrated" (published constants because the card has no calibration;
 * a warning naming the card and `xfiq calibrate` goes to stderr). */
const char *xfiq_cli_calibration_state(const xfiq_cli_qopts *q, xfiq_model_t m, const char *cmd);

/* A command's own option: like xfiq_cli_job_opt (1 consumed, 0 not, -1 bad). */
typedef int (*xfiq_cli_extra_fn)(void *ctx, int argc, char **argv, int *i);

/* The argument loop of the image commands: --help (usage to stdout, returns
 * 1: exit 0), quality options when qo is given, job options, then extra.
 * Returns 0 to go on, 1 to exit with 0, -1 on a bad argument (usage printed);
 * on 1 and -1 the job is closed already. */
int xfiq_cli_parse(int argc, char **argv, const char *cmd, void (*usage)(FILE *), xfiq_cli_job *job,
                   xfiq_cli_qopts *qo, xfiq_cli_extra_fn extra, void *ctx);

#endif
