/* cmd_quality.c - `xfiq quality`: SER-FIQ quality and magnitude of each image
 * as one CSV (atomically written; failed files listed with their reason). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/quality_opts.h"
#include "io/afile.h"
#include "io/csv.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: xfiq quality [options] INPUT...\n");
    xfiq_cli_job_help(f);
    xfiq_cli_qopts_help(f, 0);
    fprintf(f, "  -o, --out FILE      CSV to write (default xfiq-out/quality.csv; its folder must exist)\n"
               "columns: index,path,serfiq_raw,serfiq,magnitude,sum_e,calibration,status,message\n"
               "(calibration: calibrated, published, options or uncalibrated: see README)\n");
}

typedef struct quality_ctx {
    xfiq_cli_job *job;
    xfiq_plq_opts o;
    xfiq_afile csv;
    xfiq_quality *q;
    const char *calibration;
    long failed;
} quality_ctx;

static int quality_batch(void *vctx, size_t s, int k, const xfiq_cli_item *it, const uint8_t *faces,
                         const uint64_t *ids, int ng)
{
    quality_ctx *c = vctx;
    if (ng && xfiq_model_serfiq(c->job->m, faces, ng, ids, &c->o.serfiq, c->q, NULL) != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        return XFIQ_EXIT_FATAL;
    }
    for (int i = 0, g = 0; i < k; i++) {
        fprintf(c->csv.fp, "%zu,", s + (size_t)i);
        xfiq_csv_write_field(c->csv.fp, c->job->paths.items[s + (size_t)i]);
        if (it[i].ok) {
            const xfiq_quality *q = &c->q[g++];
            fprintf(c->csv.fp, ",%.9g,%.9g,%.9g,%.9g,%s,ok,\n", (double)q->serfiq_raw, (double)q->serfiq,
                    (double)q->magnitude, (double)q->sum_e, c->calibration);
        } else {
            fprintf(c->csv.fp, ",,,,,%s,error,", c->calibration);
            xfiq_csv_write_field(c->csv.fp, it[i].msg);
            fputc('\n', c->csv.fp);
            c->failed++;
        }
    }
    return 0;
}

int xfiq_cmd_quality(int argc, char **argv)
{
    xfiq_cli_job job;
    xfiq_cli_qopts qo;
    xfiq_cli_job_init(&job, "xfiq-out/quality.csv", argc);
    xfiq_cli_qopts_init(&qo);
    int pr = xfiq_cli_parse(argc, argv, "quality", usage, &job, &qo, NULL, NULL);
    if (pr)
        return pr > 0 ? XFIQ_EXIT_OK : XFIQ_EXIT_FATAL;
    quality_ctx c = {.job = &job};
    int rc = XFIQ_EXIT_FATAL;
    if (xfiq_cli_job_open(&job, 0))
        goto done;
    xfiq_cli_qopts_apply(&qo, job.m, &c.o);
    c.calibration = xfiq_cli_calibration_state(&qo, job.m, "quality");
    c.q = malloc((size_t)job.model.batch * sizeof *c.q);
    if (!c.q || xfiq_afile_open(&c.csv, job.out) != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", c.q ? xfiq_last_error() : "out of memory");
        goto done;
    }
    fprintf(c.csv.fp, "index,path,serfiq_raw,serfiq,magnitude,sum_e,calibration,status,message\n");
    xfiq_cli_batch_opts bo = xfiq_cli_job_batch_opts(&job, "quality");
    if (xfiq_cli_run_batches(&job.paths, &bo, quality_batch, &c) != 0)
        goto done;
    if (xfiq_afile_commit(&c.csv) != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        goto done;
    }
    if (!job.quiet)
        fprintf(stderr, "xfiq quality: %zu images (T=%d, p=%g, alpha=%g, r=%g, seed=%llu) -> %s%s\n",
                job.paths.count, c.o.serfiq.T, (double)c.o.serfiq.p, c.o.serfiq.alpha, c.o.serfiq.r,
                (unsigned long long)c.o.serfiq.seed, job.out, c.failed ? "; failures are listed in it" : "");
    rc = c.failed ? XFIQ_EXIT_SOME_FAILED : XFIQ_EXIT_OK;
done:
    xfiq_afile_abort(&c.csv);
    free(c.q);
    xfiq_cli_job_close(&job);
    return rc;
}
