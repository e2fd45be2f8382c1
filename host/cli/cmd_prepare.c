/* cmd_prepare.c - `xfiq prepare`: aligned faces as PNG files (the model's
 * input size), optionally with synthetic degradations for quality
 * experiments: a grey bar over the eyes and a Gaussian blur. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/quality_opts.h"
#include "io/path.h"
#include "quality/png_write.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: xfiq prepare [options] INPUT...\n");
    xfiq_cli_job_help(f);
    fprintf(f, "  -o, --out DIR       output folder (default xfiq-out/aligned)\n"
               "      --variants      also write <name>_eyes.png (grey bar over the eyes) and <name>_blur.png\n"
               "      --blur SIGMA    blur of the _blur variant in pixels (default 2.5)\n"
               "writes DIR/<name>.png: each face aligned to the ArcFace template at the model's input size\n");
}

typedef struct prep_ctx {
    xfiq_cli_job *job;
    int variants;
    float sigma;
    uint8_t *tmp;
    long failed;
} prep_ctx;

static int save(const prep_ctx *c, size_t idx, const char *suffix, const uint8_t *px)
{
    const char *base = xfiq_path_basename(c->job->paths.items[idx]);
    const char *dot = strrchr(base, '.');
    int len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    char path[4096];
    snprintf(path, sizeof path, "%s/%.*s%s.png", c->job->out, len, base, suffix);
    if (plq_png_write_image(path, px, c->job->info.input_width, c->job->info.input_height, 3, 0) != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        return XFIQ_EXIT_FATAL;
    }
    return 0;
}

static int prep_batch(void *vctx, size_t s, int k, const xfiq_cli_item *it, const uint8_t *faces, const uint64_t *ids,
                      int ng)
{
    prep_ctx *c = vctx;
    int w = c->job->info.input_width, h = c->job->info.input_height, box[4];
    size_t img = (size_t)w * h * 3;
    (void)s, (void)ng;
    xfiq_align_eye_box(w, h, box);
    for (int i = 0, g = 0; i < k; i++) {
        if (!it[i].ok) {
            c->failed++;
            continue;
        }
        const uint8_t *f = faces + (size_t)g * img;
        size_t idx = (size_t)ids[g++];
        if (save(c, idx, "", f))
            return XFIQ_EXIT_FATAL;
        if (!c->variants)
            continue;
        memcpy(c->tmp, f, img);
        xfiq_image_occlude(c->tmp, w, h, 3, box[0], box[1], box[2], box[3], 128);
        if (save(c, idx, "_eyes", c->tmp))
            return XFIQ_EXIT_FATAL;
        if (xfiq_image_blur(f, w, h, 3, c->sigma, c->tmp) != XFIQ_OK || save(c, idx, "_blur", c->tmp))
            return XFIQ_EXIT_FATAL;
    }
    return 0;
}

static int prep_opt(void *vctx, int argc, char **argv, int *i)
{
    prep_ctx *c = vctx;
    if (!strcmp(argv[*i], "--variants"))
        return c->variants = 1, 1;
    if (!strcmp(argv[*i], "--blur")) {
        float s = *i + 1 < argc ? (float)atof(argv[*i + 1]) : 0;
        if (!(s > 0 && s <= 50)) {
            fprintf(stderr, "xfiq prepare: --blur needs a sigma in (0, 50]\n");
            return -1;
        }
        c->sigma = s;
        return ++*i, 1;
    }
    return 0;
}

int xfiq_cmd_prepare(int argc, char **argv)
{
    xfiq_cli_job job;
    xfiq_cli_job_init(&job, "xfiq-out/aligned", argc);
    prep_ctx c = {.job = &job, .sigma = 2.5f};
    int pr = xfiq_cli_parse(argc, argv, "prepare", usage, &job, NULL, prep_opt, &c);
    if (pr)
        return pr > 0 ? XFIQ_EXIT_OK : XFIQ_EXIT_FATAL;
    int rc = XFIQ_EXIT_FATAL;
    if (xfiq_cli_job_open(&job, 1))
        goto done;
    c.tmp = malloc((size_t)job.info.input_width * job.info.input_height * 3);
    xfiq_cli_batch_opts bo = xfiq_cli_job_batch_opts(&job, "prepare");
    if (!c.tmp || xfiq_cli_run_batches(&job.paths, &bo, prep_batch, &c) != 0)
        goto done;
    if (!job.quiet)
        fprintf(stderr, "xfiq prepare: %zu faces -> %s%s\n", job.paths.count - (size_t)c.failed, job.out,
                c.failed ? " (some inputs failed, see above)" : "");
    rc = c.failed ? XFIQ_EXIT_SOME_FAILED : XFIQ_EXIT_OK;
done:
    free(c.tmp);
    xfiq_cli_job_close(&job);
    return rc;
}
