/* cmd_quality.c - `xfiq quality`: SER-FIQ quality and magnitude of each image
 * as one CSV (atomically written; failed files listed with their reason). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ckpt.h"
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
    xfiq_ckpt ck; /* the CSV, built in <out>.xfiq-partial/ */
    xfiq_quality *q;
    const char *calibration;
    long failed;
} quality_ctx;

static int quality_batch(void *vctx, size_t s, int k, const xfiq_cli_item *it, const uint8_t *faces,
                         const uint64_t *ids, int ng)
{
    quality_ctx *c = vctx;
    if (ng && xfiq_pool_serfiq(c->job->pool, faces, ng, ids, &c->o.serfiq, c->q, NULL) != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        return XFIQ_EXIT_FATAL;
    }
    FILE *csv = c->ck.f[0].fp;
    for (int i = 0, g = 0; i < k; i++) {
        fprintf(csv, "%zu,", s + (size_t)i);
        xfiq_csv_write_field(csv, c->job->paths.items[s + (size_t)i]);
        xfiq_cli_face_fields(csv, c->job, s + (size_t)i);
        const xfiq_quality *q = it[i].ok ? &c->q[g++] : NULL;
        /* NaN or Inf from the network is no quality: an error for that image */
        if (q && isfinite(q->serfiq_raw) && isfinite(q->serfiq) && isfinite(q->magnitude) && isfinite(q->sum_e)) {
            fprintf(csv, ",%.9g,%.9g,%.9g,%.9g,%s,ok,\n", (double)q->serfiq_raw, (double)q->serfiq,
                    (double)q->magnitude, (double)q->sum_e, c->calibration);
        } else {
            char msg[700];
            if (q)
                snprintf(msg, sizeof msg, "%s: the model's output is not finite (NaN or Inf): no quality",
                         c->job->paths.items[s + (size_t)i]);
            if (q)
                fprintf(stderr, "xfiq: skipped %s\n", msg);
            fprintf(csv, ",,,,,%s,error,", c->calibration);
            xfiq_csv_write_field(csv, q ? msg : it[i].msg);
            fputc('\n', csv);
            c->failed++;
        }
    }
    c->ck.counters[1] = c->failed;
    return xfiq_ckpt_save(&c->ck, s + (size_t)k) ? XFIQ_EXIT_FATAL : 0;
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
    char *part = NULL;
    job.can_resume = 1;
    job.all_faces_ok = 2;
    if (xfiq_cli_job_open(&job, 0))
        goto done;
    if (job.rank_done) { /* mpirun --resume: this rank's part was complete */
        rc = job.rank_done - 1;
        goto done;
    }
    xfiq_cli_qopts_apply(&qo, job.m, &c.o);
    c.calibration = xfiq_cli_calibration_state(&qo, job.m, "quality");
    c.q = malloc((size_t)job.model.batch * sizeof *c.q);
    part = malloc(strlen(job.out) + 32);
    if (!c.q || !part) {
        fprintf(stderr, "xfiq: out of memory\n");
        goto done;
    }
    sprintf(part, "%s.xfiq-partial", job.out);
    c.ck.n_files = 1;
    c.ck.f[0] = (xfiq_ckpt_file){.final = job.out};
    if (xfiq_ckpt_open(&c.ck, part, job.fingerprint, job.resume, job.first, "quality"))
        goto done;
    c.failed = (long)c.ck.counters[1];
    if (c.ck.done == job.first)
        fprintf(c.ck.f[0].fp, "index,path%s,serfiq_raw,serfiq,magnitude,sum_e,calibration,status,message\n",
                xfiq_cli_face_header(&job));
    xfiq_cli_batch_opts bo = xfiq_cli_job_batch_opts(&job, "quality");
    bo.first = c.ck.done;
    if (xfiq_cli_run_batches(&job.paths, &bo, quality_batch, &c) != 0 || xfiq_ckpt_commit(&c.ck, 0))
        goto done;
    if (!job.quiet)
        fprintf(stderr, "xfiq quality: %zu images (T=%d, p=%g, alpha=%g, r=%g, seed=%llu) -> %s%s\n",
                job.end - job.first, c.o.serfiq.T, (double)c.o.serfiq.p, c.o.serfiq.alpha, c.o.serfiq.r,
                (unsigned long long)c.o.serfiq.seed, job.out, c.failed ? "; failures are listed in it" : "");
    rc = c.failed ? XFIQ_EXIT_SOME_FAILED : XFIQ_EXIT_OK;
done:
    xfiq_ckpt_close(&c.ck);
    free(part);
    free(c.q);
    xfiq_cli_job_close(&job);
    return rc;
}
