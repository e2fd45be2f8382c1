/* mpi_job.c - `embed`, `quality` and `plq` under mpirun: rank r processes
 * its contiguous share of the sorted input list (the slicing of --shard)
 * into part outputs of its own (OUT/.xfiq-mpi/rank-NNNN/, or
 * OUT.xfiq-mpi/rank-NNNN.csv for a quality CSV), checkpointed as usual;
 * when every rank has finished, rank 0 joins the parts with the streaming
 * logic of `xfiq merge` (one part in memory at a time), so the outputs are
 * byte for byte those of one process and appear only when all are done. A
 * rank whose part is complete leaves a marker, so --resume redoes only the
 * parts that were not. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/backend.h"
#include "cli/ckpt.h"
#include "cli/cli.h"
#include "cli/ranks.h"

typedef enum { JOB_EMBED, JOB_QUALITY, JOB_PLQ } job_kind;

/* What finish needs of the job that begin set up (one job per process). */
static struct {
    int valid, skipped;
    job_kind kind;
    char *out, *root, *rank_out, *marker;
    uint64_t fingerprint;
} rec;

static char *fmt(const char *f, const char *a, int r)
{
    char *s = NULL;
    return asprintf(&s, f, a, r) < 0 ? NULL : s;
}

static char *join(const char *a, const char *b)
{
    char *s = NULL;
    return asprintf(&s, "%s/%s", a, b) < 0 ? NULL : s;
}

static char *part_of(int r)
{
    return fmt(rec.kind == JOB_QUALITY ? "%s/rank-%04d.csv" : "%s/rank-%04d", rec.root, r);
}

static void pick_device(xfiq_cli_model_opts *m, int local)
{
    if (!strcmp(m->backend, "cpu"))
        return;
    if (m->n_devices > 1) {
        m->devices[0] = m->devices[local % m->n_devices];
        m->n_devices = 1;
    }
#ifdef XFIQ_HAVE_CUDA
    else if (m->n_devices == 0) {
        int n = xfiq_cuda_device_count();
        if (n > 0) {
            m->devices[0] = local % n;
            m->n_devices = 1;
        }
    }
#endif
}

int xfiq_cli_mpi_job_begin(xfiq_cli_job *j, const char *cmd, int out_is_dir)
{
    const xfiq_ranks *r = &xfiq_cli_ranks;
    if (j->shard_n) {
        fprintf(stderr, "xfiq %s: --shard and mpirun both split the inputs: give one of them\n", cmd);
        return 1;
    }
    rec.kind = !strcmp(cmd, "embed") ? JOB_EMBED : !strcmp(cmd, "quality") ? JOB_QUALITY : JOB_PLQ;
    int64_t a, b;
    xfiq_ranks_slice((int64_t)j->paths.count, r->rank, r->size, &a, &b);
    j->first = (size_t)a;
    j->end = (size_t)b;
    /* a checkpoint of another split is another job */
    int split[2] = {r->rank, r->size};
    j->fingerprint = xfiq_ckpt_hash(j->fingerprint, split, sizeof split);
    rec.fingerprint = j->fingerprint;
    rec.out = strdup(j->out);
    rec.root = fmt(out_is_dir ? "%s/.xfiq-mpi" : "%s.xfiq-mpi", j->out, 0);
    if (!rec.out || !rec.root || (out_is_dir && xfiq_cli_make_dir(j->out)) || xfiq_cli_make_dir(rec.root))
        return 1;
    rec.rank_out = part_of(r->rank);
    rec.marker = fmt("%s/rank-%04d.done", rec.root, r->rank);
    if (!rec.rank_out || !rec.marker) {
        fprintf(stderr, "xfiq: out of memory\n");
        return 1;
    }
    if (j->resume) {
        FILE *f = fopen(rec.marker, "r");
        unsigned long long fp = 0;
        int rc = -1;
        if (f && fscanf(f, "xfiq-mpi-done %llx %d", &fp, &rc) == 2 && fp == rec.fingerprint && rc >= 0 && rc != 1)
            j->rank_done = rc + 1, rec.skipped = 1;
        if (f)
            fclose(f);
    } else {
        unlink(rec.marker);
    }
    j->out = rec.rank_out;
    if (r->rank)
        j->quiet = 1; /* one progress line: rank 0's (failures are still printed by every rank) */
    pick_device(&j->model, r->local_rank);
    rec.valid = 1;
    return 0;
}

static int write_marker(int rc)
{
    FILE *f = fopen(rec.marker, "w");
    int bad = !f;
    if (f) {
        bad = fprintf(f, "xfiq-mpi-done %016llx %d\n", (unsigned long long)rec.fingerprint, rc) < 0;
        bad |= fclose(f) != 0;
    }
    if (bad)
        fprintf(stderr, "xfiq: %s: %s\n", rec.marker, strerror(errno));
    return bad;
}

/* Moves the maps of rank part `part` into OUT/maps (renames in one file
 * system: nothing copied, every map whole). */
static int move_maps(const char *part)
{
    char *src = join(part, "maps"), *dst = join(rec.out, "maps");
    int rc = !src || !dst || xfiq_cli_make_dir(dst);
    DIR *d = rc ? NULL : opendir(src);
    if (!rc && !d) {
        fprintf(stderr, "xfiq plq: %s: %s\n", src, strerror(errno));
        rc = 1;
    }
    for (struct dirent *e; d && !rc && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char *pa = join(src, e->d_name), *pb = join(dst, e->d_name);
        if (!pa || !pb || rename(pa, pb) != 0) {
            fprintf(stderr, "xfiq plq: cannot move %s to %s: %s\n", pa ? pa : "", pb ? pb : "", strerror(errno));
            rc = 1;
        }
        free(pa);
        free(pb);
    }
    if (d)
        closedir(d);
    if (!rc)
        rmdir(src);
    free(src);
    free(dst);
    return rc;
}

/* Removes the parts once the outputs are committed (only names xfiq wrote). */
static void remove_parts(char **parts, int n)
{
    static const char *files[] = {"embeddings.npy", "magnitudes.npy", "files.csv", "plq.csv"};
    for (int i = 0; i < n; i++) {
        if (rec.kind == JOB_QUALITY) {
            unlink(parts[i]);
        } else {
            for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
                char *p = join(parts[i], files[k]);
                if (p)
                    unlink(p);
                free(p);
            }
            rmdir(parts[i]);
        }
        char *m = fmt("%s/rank-%04d.done", rec.root, i);
        if (m)
            unlink(m);
        free(m);
    }
    rmdir(rec.root);
}

static int join_parts(int n)
{
    char **parts = calloc((size_t)n, sizeof *parts), **csv = calloc((size_t)n, sizeof *csv);
    int rc = !parts || !csv;
    for (int i = 0; !rc && i < n; i++) {
        parts[i] = part_of(i);
        csv[i] = parts[i] ? join(parts[i], "plq.csv") : NULL;
        rc = !parts[i] || !csv[i];
        if (!rc && rec.kind == JOB_PLQ)
            rc = move_maps(parts[i]);
    }
    if (!rc && rec.kind == JOB_PLQ) {
        char *out = join(rec.out, "plq.csv");
        rc = !out || xfiq_cli_merge(out, csv, n, 1) != 0;
        free(out);
    } else if (!rc) {
        rc = xfiq_cli_merge(rec.out, parts, n, 1) != 0;
    }
    if (!rc)
        remove_parts(parts, n);
    for (int i = 0; i < n && parts && csv; i++) {
        free(parts[i]);
        free(csv[i]);
    }
    free(parts);
    free(csv);
    return rc;
}

int xfiq_cli_mpi_job_finish(const char *cmd, int rc)
{
    const xfiq_ranks *r = &xfiq_cli_ranks;
    int bad, all;
    if (!rec.valid && rc != XFIQ_EXIT_FATAL) { /* --help, or nothing to join */
        all = xfiq_ranks_agree(rc, &bad);
        return all;
    }
    if (rc != XFIQ_EXIT_FATAL && !rec.skipped && write_marker(rc))
        rc = XFIQ_EXIT_FATAL;
    all = xfiq_ranks_agree(rc, &bad);
    if (all == XFIQ_EXIT_FATAL) {
        if (r->rank == 0)
            fprintf(stderr, "xfiq %s: rank %d of %d failed (its message is above): no output was written%s%s%s\n",
                    cmd, bad, r->size, rec.kind != JOB_PLQ && rec.root ? "; the finished parts stay in " : "",
                    rec.kind != JOB_PLQ && rec.root ? rec.root : "",
                    rec.kind != JOB_PLQ && rec.root ? ": the same mpirun command with --resume continues" : "");
        return XFIQ_EXIT_FATAL;
    }
    double t0 = xfiq_now();
    int m = r->rank == 0 ? join_parts(r->size) : 0;
    if (xfiq_ranks_agree(m ? XFIQ_EXIT_FATAL : 0, &bad) == XFIQ_EXIT_FATAL)
        return XFIQ_EXIT_FATAL;
    if (r->rank == 0)
        fprintf(stderr, "xfiq %s: %d ranks, parts joined by rank 0 in %.2f s -> %s\n", cmd, r->size,
                xfiq_now() - t0, rec.out);
    return all;
}
