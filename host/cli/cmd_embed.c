/* cmd_embed.c - `xfiq embed`: embeddings and magnitudes of many face images.
 * A file that fails is recorded in the CSV with its reason and the run
 * carries on; outputs are committed atomically at the end. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ckpt.h"
#include "cli/cli.h"
#include "cli/quality_opts.h"
#include "io/afile.h"
#include "io/csv.h"
#include "io/npy.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: xfiq embed [options] INPUT...\n");
    xfiq_cli_job_help(f);
    fprintf(f, "  -o, --out DIR       output folder (default xfiq-out)\n"
               "writes DIR/embeddings.npy (float32, one row per image that decoded, raw, not normalised),\n"
               "DIR/magnitudes.npy (float32 L2 norms) and DIR/files.csv (index,path,row,magnitude,status,message);\n"
               "exit 0 when every image worked, 2 when some failed (the rest are still written), 1 on fatal errors.\n");
}

typedef struct embed_ctx {
    xfiq_cli_job *job;
    xfiq_ckpt ck; /* files: embeddings.npy, magnitudes.npy, files.csv */
    float *emb, *mag;
    int dim;
    long rows, failed;
} embed_ctx;

/* A network that yields NaN or Inf (negative BN variance, division by a
 * zero constant, overflow) has not embedded the image: an error for it. */
static int finite_row(const float *e, int d, float mag)
{
    if (!isfinite(mag))
        return 0;
    for (int j = 0; j < d; j++)
        if (!isfinite(e[j]))
            return 0;
    return 1;
}

static int embed_batch(void *vctx, size_t s, int k, const xfiq_cli_item *it, const uint8_t *faces, const uint64_t *ids,
                       int ng)
{
    embed_ctx *c = vctx;
    (void)ids;
    if (ng && xfiq_pool_embed(c->job->pool, faces, ng, c->emb, c->mag) != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        return XFIQ_EXIT_FATAL;
    }
    FILE *fe = c->ck.f[0].fp, *fm = c->ck.f[1].fp, *csv = c->ck.f[2].fp;
    for (int i = 0, g = 0; i < k; i++) {
        fprintf(csv, "%zu,", s + (size_t)i);
        xfiq_csv_write_field(csv, c->job->paths.items[s + (size_t)i]);
        xfiq_cli_face_fields(csv, c->job, s + (size_t)i);
        if (it[i].ok && finite_row(c->emb + (size_t)g * (size_t)c->dim, c->dim, c->mag[g])) {
            fprintf(csv, ",%ld,%.9g,ok,\n", c->rows, (double)c->mag[g]);
            fwrite(c->emb + (size_t)g * (size_t)c->dim, sizeof(float), (size_t)c->dim, fe);
            fwrite(c->mag + g, sizeof(float), 1, fm);
            c->rows++;
        } else {
            char msg[700];
            if (it[i].ok)
                snprintf(msg, sizeof msg, "%s: the model's output is not finite (NaN or Inf): no embedding",
                         c->job->paths.items[s + (size_t)i]);
            if (it[i].ok)
                fprintf(stderr, "xfiq: skipped %s\n", msg);
            fprintf(csv, ",-1,,error,");
            xfiq_csv_write_field(csv, it[i].ok ? msg : it[i].msg);
            fputc('\n', csv);
            c->failed++;
        }
        if (it[i].ok)
            g++;
    }
    c->ck.counters[0] = c->rows;
    c->ck.counters[1] = c->failed;
    return xfiq_ckpt_save(&c->ck, s + (size_t)k) ? XFIQ_EXIT_FATAL : 0;
}

int xfiq_cmd_embed(int argc, char **argv)
{
    xfiq_cli_job job;
    xfiq_cli_job_init(&job, "xfiq-out", argc);
    int pr = xfiq_cli_parse(argc, argv, "embed", usage, &job, NULL, NULL, NULL);
    if (pr)
        return pr > 0 ? XFIQ_EXIT_OK : XFIQ_EXIT_FATAL;
    embed_ctx c = {.job = &job};
    int rc = XFIQ_EXIT_FATAL;
    char *paths[4] = {NULL, NULL, NULL, NULL};
    job.can_resume = 1;
    job.all_faces_ok = 2;
    if (xfiq_cli_job_open(&job, 1))
        goto done;
    if (job.rank_done) { /* mpirun --resume: this rank's part was complete */
        rc = job.rank_done - 1;
        goto done;
    }
    int d = job.info.embedding_dim, bs = job.model.batch;
    c.dim = d;
    c.emb = malloc((size_t)bs * (size_t)d * sizeof(float));
    c.mag = malloc((size_t)bs * sizeof(float));
    size_t n = strlen(job.out) + 32;
    for (int i = 0; i < 4; i++)
        paths[i] = malloc(n);
    if (!c.emb || !c.mag || !paths[0] || !paths[1] || !paths[2] || !paths[3]) {
        fprintf(stderr, "xfiq: out of memory\n");
        goto done;
    }
    snprintf(paths[0], n, "%s/embeddings.npy", job.out);
    snprintf(paths[1], n, "%s/magnitudes.npy", job.out);
    snprintf(paths[2], n, "%s/files.csv", job.out);
    snprintf(paths[3], n, "%s/.xfiq-partial", job.out);
    c.ck.n_files = 3;
    c.ck.f[0] = (xfiq_ckpt_file){.final = paths[0], .npy_cols = d};
    c.ck.f[1] = (xfiq_ckpt_file){.final = paths[1], .npy_cols = 1, .npy_vector = 1};
    c.ck.f[2] = (xfiq_ckpt_file){.final = paths[2]};
    if (xfiq_ckpt_open(&c.ck, paths[3], job.fingerprint, job.resume, job.first, "embed"))
        goto done;
    c.rows = (long)c.ck.counters[0];
    c.failed = (long)c.ck.counters[1];
    if (c.ck.done == job.first)
        fprintf(c.ck.f[2].fp, "index,path%s,row,magnitude,status,message\n", xfiq_cli_face_header(&job));
    xfiq_cli_batch_opts bo = xfiq_cli_job_batch_opts(&job, "embed");
    bo.first = c.ck.done;
    if (xfiq_cli_run_batches(&job.paths, &bo, embed_batch, &c) == 0 && xfiq_ckpt_commit(&c.ck, c.rows) == 0) {
        if (!job.quiet)
            fprintf(stderr, "xfiq embed: %ld of %zu images embedded (%d-d, model %s) -> %s%s\n", c.rows,
                    job.end - job.first, d, job.info.name, job.out,
                    c.failed ? "; failures are listed in files.csv" : "");
        rc = c.failed ? XFIQ_EXIT_SOME_FAILED : XFIQ_EXIT_OK;
    }
done:
    xfiq_ckpt_close(&c.ck);
    for (int i = 0; i < 4; i++)
        free(paths[i]);
    free(c.emb);
    free(c.mag);
    xfiq_cli_job_close(&job);
    return rc;
}
