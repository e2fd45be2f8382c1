/* cmd_embed.c - `xfiq embed`: embeddings and magnitudes of many face images.
 * A file that fails is recorded in the CSV with its reason and the run
 * carries on; outputs are committed atomically at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    xfiq_npy_writer we, wm;
    xfiq_afile csv;
    float *emb, *mag;
    long rows, failed;
} embed_ctx;

static int embed_batch(void *vctx, size_t s, int k, const xfiq_cli_item *it, const uint8_t *faces, const uint64_t *ids,
                       int ng)
{
    embed_ctx *c = vctx;
    (void)ids;
    if (ng && (xfiq_pool_embed(c->job->pool, faces, ng, c->emb, c->mag) != XFIQ_OK ||
               xfiq_npy_writer_append(&c->we, c->emb, ng) != XFIQ_OK ||
               xfiq_npy_writer_append(&c->wm, c->mag, ng) != XFIQ_OK)) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        return XFIQ_EXIT_FATAL;
    }
    for (int i = 0, g = 0; i < k; i++) {
        fprintf(c->csv.fp, "%zu,", s + (size_t)i);
        xfiq_csv_write_field(c->csv.fp, c->job->paths.items[s + (size_t)i]);
        if (it[i].ok) {
            fprintf(c->csv.fp, ",%ld,%.9g,ok,\n", c->rows + g, (double)c->mag[g]);
            g++;
        } else {
            fprintf(c->csv.fp, ",-1,,error,");
            xfiq_csv_write_field(c->csv.fp, it[i].msg);
            fputc('\n', c->csv.fp);
            c->failed++;
        }
    }
    c->rows += ng;
    return 0;
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
    if (xfiq_cli_job_open(&job, 1))
        goto done;
    int d = job.info.embedding_dim, bs = job.model.batch;
    c.emb = malloc((size_t)bs * (size_t)d * sizeof(float));
    c.mag = malloc((size_t)bs * sizeof(float));
    size_t n = strlen(job.out) + 32;
    char *p_emb = malloc(n), *p_mag = malloc(n), *p_csv = malloc(n);
    int64_t shape_e[2] = {0, d}, shape_m[1] = {0};
    if (!c.emb || !c.mag || !p_emb || !p_mag || !p_csv) {
        fprintf(stderr, "xfiq: out of memory\n");
    } else {
        snprintf(p_emb, n, "%s/embeddings.npy", job.out);
        snprintf(p_mag, n, "%s/magnitudes.npy", job.out);
        snprintf(p_csv, n, "%s/files.csv", job.out);
        if (xfiq_npy_writer_open(&c.we, p_emb, 2, shape_e) != XFIQ_OK ||
            xfiq_npy_writer_open(&c.wm, p_mag, 1, shape_m) != XFIQ_OK || xfiq_afile_open(&c.csv, p_csv) != XFIQ_OK) {
            fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        } else {
            fprintf(c.csv.fp, "index,path,row,magnitude,status,message\n");
            xfiq_cli_batch_opts bo = xfiq_cli_job_batch_opts(&job, "embed");
            if (xfiq_cli_run_batches(&job.paths, &bo, embed_batch, &c) == 0) {
                if (xfiq_npy_writer_commit(&c.we) != XFIQ_OK || xfiq_npy_writer_commit(&c.wm) != XFIQ_OK ||
                    xfiq_afile_commit(&c.csv) != XFIQ_OK) {
                    fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
                } else {
                    if (!job.quiet)
                        fprintf(stderr, "xfiq embed: %ld of %zu images embedded (%d-d, model %s) -> %s%s\n", c.rows,
                                job.paths.count, d, job.info.name, job.out,
                                c.failed ? "; failures are listed in files.csv" : "");
                    rc = c.failed ? XFIQ_EXIT_SOME_FAILED : XFIQ_EXIT_OK;
                }
            }
        }
    }
    xfiq_npy_writer_abort(&c.we);
    xfiq_npy_writer_abort(&c.wm);
    xfiq_afile_abort(&c.csv);
    free(p_emb);
    free(p_mag);
    free(p_csv);
done:
    free(c.emb);
    free(c.mag);
    xfiq_cli_job_close(&job);
    return rc;
}
