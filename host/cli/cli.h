/* cli.h - what the subcommands of the `xfiq` program share: their entry
 * points, input gathering, model opening and progress reporting. */
#ifndef XFIQ_CLI_H
#define XFIQ_CLI_H

#include <stdio.h>

#include "io/pathlist.h"
#include "xfiq.h"

int xfiq_cmd_embed(int argc, char **argv);
int xfiq_cmd_info(int argc, char **argv);
#if __has_include("cli/cmd_eval.h")
#include "cli/cmd_eval.h"
#define XFIQ_CLI_HAVE_EVAL 1
#endif

/* Exit codes of every subcommand. */
enum { XFIQ_EXIT_OK = 0, XFIQ_EXIT_FATAL = 1, XFIQ_EXIT_SOME_FAILED = 2 };

/* Default model: $XFIQ_MODEL, else models/.cache/fr_feature.onnx under the
 * source tree (where models/fetch_default.sh puts it), else that path
 * relative to the current folder. */
const char *xfiq_cli_default_model(void);

/* Options every model-running command takes. */
typedef struct xfiq_cli_model_opts {
    const char *model, *card, *backend;
    int threads, batch;
} xfiq_cli_model_opts;

void xfiq_cli_model_opts_init(xfiq_cli_model_opts *o);
/* Consumes argv[*i] (and its value) when it is one of --model/-m, --card,
 * --backend, --threads/-t, --batch/-b. Returns 1 when consumed, 0 when not,
 * -1 on a bad value (message printed). */
int xfiq_cli_model_opt(xfiq_cli_model_opts *o, int argc, char **argv, int *i);
/* Opens backend + model; prints the error and returns non-zero on failure. */
int xfiq_cli_open_model(const xfiq_cli_model_opts *o, xfiq_backend_t *be, xfiq_model_t *m);

/* Expands inputs: files as given, folders recursively (sorted), @file lists. */
int xfiq_cli_gather_inputs(char **inputs, int n, xfiq_pathlist *out);

/* Progress on stderr: a redrawn line on a terminal, a line every 10% (at
 * most every few seconds) otherwise; silent when quiet. */
typedef struct xfiq_progress {
    const char *what;
    long total, done;
    double t0, last;
    int tty, quiet, last_decile;
} xfiq_progress;

void xfiq_progress_init(xfiq_progress *p, const char *what, long total, int quiet);
void xfiq_progress_update(xfiq_progress *p, long done);
void xfiq_progress_finish(xfiq_progress *p);
double xfiq_now(void);

#endif
