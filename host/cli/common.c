/* common.c - option parsing, input gathering and model opening shared by the
 * model-running subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

#ifndef XFIQ_SOURCE_DIR
#define XFIQ_SOURCE_DIR "."
#endif

const char *xfiq_cli_default_model(void)
{
    static char buf[4096];
    const char *env = getenv("XFIQ_MODEL");
    if (env && *env)
        return env;
    struct stat st;
    snprintf(buf, sizeof buf, "%s/models/.cache/fr_feature.onnx", XFIQ_SOURCE_DIR);
    if (stat(buf, &st) == 0)
        return buf;
    return "models/.cache/fr_feature.onnx";
}

void xfiq_cli_model_opts_init(xfiq_cli_model_opts *o)
{
    memset(o, 0, sizeof *o);
    o->backend = "cpu";
    o->batch = 32;
}

static int int_value(const char *opt, const char *v, int lo, int hi, int *out)
{
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || x < lo || x > hi) {
        fprintf(stderr, "xfiq: %s needs an integer in [%d, %d], got '%s'\n", opt, lo, hi, v ? v : "");
        return -1;
    }
    *out = (int)x;
    return 1;
}

int xfiq_cli_model_opt(xfiq_cli_model_opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    int r = 0;
    if (!strcmp(a, "--model") || !strcmp(a, "-m"))
        o->model = v, r = v ? 1 : -1;
    else if (!strcmp(a, "--card"))
        o->card = v, r = v ? 1 : -1;
    else if (!strcmp(a, "--backend"))
        o->backend = v, r = v ? 1 : -1;
    else if (!strcmp(a, "--threads") || !strcmp(a, "-t"))
        r = int_value(a, v, 0, 1024, &o->threads);
    else if (!strcmp(a, "--batch") || !strcmp(a, "-b"))
        r = int_value(a, v, 1, 4096, &o->batch);
    else
        return 0;
    if (r < 0 && !v)
        fprintf(stderr, "xfiq: %s needs a value\n", a);
    if (r > 0)
        (*i)++;
    return r;
}

int xfiq_cli_open_model(const xfiq_cli_model_opts *o, xfiq_backend_t *be, xfiq_model_t *m)
{
    xfiq_backend_kind kind;
    if (!strcmp(o->backend, "cpu"))
        kind = XFIQ_BACKEND_CPU;
    else if (!strcmp(o->backend, "cuda"))
        kind = XFIQ_BACKEND_CUDA;
    else {
        fprintf(stderr, "xfiq: unknown backend '%s' (cpu or cuda)\n", o->backend);
        return 1;
    }
    const char *model = o->model ? o->model : xfiq_cli_default_model();
    xfiq_status st = xfiq_backend_init(be, kind, o->threads);
    if (st != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        return 1;
    }
    st = xfiq_model_load(*be, model, o->card, m);
    if (st != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        if (st == XFIQ_ERR_IO && !o->model)
            fprintf(stderr, "xfiq: fetch the default model first: models/fetch_default.sh\n");
        xfiq_backend_free(*be);
        *be = NULL;
        return 1;
    }
    return 0;
}

int xfiq_cli_gather_inputs(char **inputs, int n, xfiq_pathlist *out)
{
    for (int i = 0; i < n; i++) {
        const char *in = inputs[i];
        struct stat st;
        xfiq_status s;
        if (in[0] == '@')
            s = xfiq_listfile_read(in + 1, out);
        else if (stat(in, &st) == 0 && S_ISDIR(st.st_mode))
            s = xfiq_dir_list_images(in, out);
        else
            s = xfiq_pathlist_push(out, in); /* missing files are reported per item later */
        if (s != XFIQ_OK) {
            fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
            return 1;
        }
    }
    return 0;
}
