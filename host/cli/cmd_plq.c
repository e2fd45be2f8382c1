/* cmd_plq.c - `xfiq plq`: pixel-level quality maps. Per image: the map as
 * .npy, a heatmap PNG and a side-by-side PNG (face | map | blend, quality in
 * the caption), and a CSV row; all files are written atomically. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/quality_opts.h"
#include "core/status.h"
#include "io/afile.h"
#include "io/csv.h"
#include "io/npy.h"
#include "io/path.h"
#include "quality/png_write.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: xfiq plq [options] INPUT...\n");
    xfiq_cli_job_help(f);
    xfiq_cli_qopts_help(f, 1);
    fprintf(f, "  -o, --out DIR       output folder (default xfiq-out/plq)\n"
               "      --zoom Z        magnification of the PNG pictures (default 2)\n"
               "      --no-png, --no-npy  skip the pictures / the raw maps\n"
               "writes DIR/plq.csv (index,path,serfiq_raw,serfiq,magnitude,sum_e,unstable,mean_plq,plq_mode,\n"
               "calibration,status,message) and per image DIR/maps/NNNNNN_<name>.npy (float32 2xHxW: [0] the\n"
               "PLQ map P in [0,1], high = useful; [1] the relative map, P of |gradient| x local detail over\n"
               "its median on this face, 0.5 at that median whatever Q), NNNNNN_<name>_heatmap.png and NNNNNN_<name>_plq.png (aligned face |\n"
               "map | relative map | blend, Q in the caption).\n");
}

typedef struct plq_ctx {
    xfiq_cli_job *job;
    xfiq_plq_opts o;
    xfiq_afile csv;
    xfiq_quality *q;
    float *maps, *grad, *rel;
    int zoom, png, npy;
    char *maps_dir;
    const char *calibration;
    long failed;
} plq_ctx;

/* "maps/000012_name" for input index i. */
static void stem_of(const plq_ctx *c, size_t i, char *buf, size_t n)
{
    const char *base = xfiq_path_basename(c->job->paths.items[i]);
    const char *dot = strrchr(base, '.');
    int len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(buf, n, "%s/%06zu_%.*s", c->maps_dir, i, len, base);
}

static int write_outputs(plq_ctx *c, size_t idx, const uint8_t *face, const float *map, const float *rel,
                         const xfiq_quality *q)
{
    int H = c->job->info.input_height, W = c->job->info.input_width;
    char stem[4096], path[4200], caption[96];
    stem_of(c, idx, stem, sizeof stem);
    int64_t shape[3] = {2, H, W};
    snprintf(path, sizeof path, "%s.npy", stem);
    float *both = c->npy ? malloc(2 * (size_t)H * W * sizeof *both) : NULL;
    if (c->npy && !both)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory"), -1;
    if (both) {
        memcpy(both, map, (size_t)H * W * sizeof *both);
        memcpy(both + (size_t)H * W, rel, (size_t)H * W * sizeof *both);
    }
    xfiq_status wst = both ? xfiq_npy_write_f32(path, both, 3, shape) : XFIQ_OK;
    free(both);
    if (wst != XFIQ_OK)
        return -1;
    if (!c->png)
        return 0;
    snprintf(path, sizeof path, "%s_heatmap.png", stem);
    if (plq_png_write_heatmap(path, map, H, W, c->zoom) != XFIQ_OK)
        return -1;
    snprintf(caption, sizeof caption, "Q %.3f  PLQ %.3f", (double)q->serfiq, (double)q->mean_plq);
    plq_panel_opts po = {.zoom = c->zoom, .overlay = 1, .caption = caption, .map2 = rel};
    snprintf(path, sizeof path, "%s_plq.png", stem);
    return plq_png_write_side_by_side(path, face, 3, map, H, W, &po) == XFIQ_OK ? 0 : -1;
}

static int plq_batch(void *vctx, size_t s, int k, const xfiq_cli_item *it, const uint8_t *faces, const uint64_t *ids,
                     int ng)
{
    plq_ctx *c = vctx;
    size_t hw = (size_t)c->job->info.input_height * (size_t)c->job->info.input_width;
    if (ng && (xfiq_pool_plq(c->job->pool, faces, ng, ids, &c->o, c->q, c->maps, c->grad) != XFIQ_OK ||
               xfiq_plq_relative_map(c->grad, faces, ng, c->job->info.input_height, c->job->info.input_width, 3,
                                     c->o.b, c->rel, NULL) != XFIQ_OK)) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        return XFIQ_EXIT_FATAL;
    }
    for (int i = 0, g = 0; i < k; i++) {
        size_t idx = s + (size_t)i;
        fprintf(c->csv.fp, "%zu,", idx);
        xfiq_csv_write_field(c->csv.fp, c->job->paths.items[idx]);
        xfiq_cli_face_fields(c->csv.fp, c->job, idx);
        if (!it[i].ok) {
            fprintf(c->csv.fp, ",,,,,,,%s,%s,error,", xfiq_plq_mode_name(c->o.mode), c->calibration);
            xfiq_csv_write_field(c->csv.fp, it[i].msg);
            fputc('\n', c->csv.fp);
            c->failed++;
            continue;
        }
        const xfiq_quality *q = &c->q[g];
        if (write_outputs(c, idx, faces + (size_t)g * hw * 3, c->maps + (size_t)g * hw, c->rel + (size_t)g * hw, q)) {
            fprintf(stderr, "xfiq: %s\n", xfiq_last_error()); /* disk full or similar: stop, keep what is done */
            return XFIQ_EXIT_FATAL;
        }
        fprintf(c->csv.fp, ",%.9g,%.9g,%.9g,%.9g,%d,%.9g,%s,%s,ok,\n", (double)q->serfiq_raw, (double)q->serfiq,
                (double)q->magnitude, (double)q->sum_e, q->unstable, (double)q->mean_plq,
                xfiq_plq_mode_name(c->o.mode), c->calibration);
        g++;
    }
    fflush(c->csv.fp);
    return 0;
}

static int plq_opt(void *vctx, int argc, char **argv, int *i)
{
    plq_ctx *c = vctx;
    const char *a = argv[*i];
    if (!strcmp(a, "--no-png"))
        return c->png = 0, 1;
    if (!strcmp(a, "--no-npy"))
        return c->npy = 0, 1;
    if (!strcmp(a, "--zoom")) {
        int z = *i + 1 < argc ? atoi(argv[*i + 1]) : 0;
        if (z < 1 || z > 16) {
            fprintf(stderr, "xfiq plq: --zoom needs an integer in [1, 16]\n");
            return -1;
        }
        c->zoom = z;
        return ++*i, 1;
    }
    return 0;
}

int xfiq_cmd_plq(int argc, char **argv)
{
    xfiq_cli_job job;
    xfiq_cli_qopts qo;
    xfiq_cli_job_init(&job, "xfiq-out/plq", argc);
    xfiq_cli_qopts_init(&qo);
    plq_ctx c = {.job = &job, .zoom = 2, .png = 1, .npy = 1};
    int pr = xfiq_cli_parse(argc, argv, "plq", usage, &job, &qo, plq_opt, &c);
    if (pr)
        return pr > 0 ? XFIQ_EXIT_OK : XFIQ_EXIT_FATAL;
    int rc = XFIQ_EXIT_FATAL;
    job.writes_images = 1; /* an output folder holding an input is refused */
    job.all_faces_ok = 2;
    if (xfiq_cli_job_open(&job, 1))
        goto done;
    xfiq_cli_qopts_apply(&qo, job.m, &c.o);
    c.calibration = xfiq_cli_calibration_state(&qo, job.m, "plq");
    size_t hw = (size_t)job.info.input_height * (size_t)job.info.input_width;
    c.q = malloc((size_t)job.model.batch * sizeof *c.q);
    c.maps = malloc((size_t)job.model.batch * hw * sizeof *c.maps);
    c.grad = malloc((size_t)job.model.batch * hw * sizeof *c.grad);
    c.rel = malloc((size_t)job.model.batch * hw * sizeof *c.rel);
    c.maps_dir = xfiq_path_join(job.out, "maps");
    char *csv_path = xfiq_path_join(job.out, "plq.csv");
    if (!c.q || !c.maps || !c.grad || !c.rel || !c.maps_dir || !csv_path) {
        fprintf(stderr, "xfiq: out of memory\n");
        free(csv_path);
        goto done;
    }
    if (xfiq_cli_make_dir(c.maps_dir) || xfiq_afile_open(&c.csv, csv_path) != XFIQ_OK) {
        if (c.csv.fp == NULL)
            fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        free(csv_path);
        goto done;
    }
    free(csv_path);
    fprintf(c.csv.fp, "index,path%s,serfiq_raw,serfiq,magnitude,sum_e,unstable,mean_plq,plq_mode,calibration,status,message\n",
            xfiq_cli_face_header(&job));
    xfiq_cli_batch_opts bo = xfiq_cli_job_batch_opts(&job, "plq");
    int brc = xfiq_cli_run_batches(&job.paths, &bo, plq_batch, &c);
    /* Keep the rows of the images already done even when a later batch failed. */
    if (xfiq_afile_commit(&c.csv) != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        goto done;
    }
    if (brc)
        goto done;
    if (!job.quiet)
        fprintf(stderr, "xfiq plq: %zu images (mode %s, T=%d, alpha=%g, r=%g, a=%g, b=%g) -> %s%s\n",
                job.paths.count, xfiq_plq_mode_name(c.o.mode), c.o.serfiq.T, c.o.serfiq.alpha, c.o.serfiq.r, c.o.a,
                c.o.b, job.out, c.failed ? "; failures are listed in plq.csv" : "");
    rc = c.failed ? XFIQ_EXIT_SOME_FAILED : XFIQ_EXIT_OK;
done:
    xfiq_afile_abort(&c.csv);
    free(c.q);
    free(c.maps);
    free(c.grad);
    free(c.rel);
    free(c.maps_dir);
    xfiq_cli_job_close(&job);
    return rc;
}
