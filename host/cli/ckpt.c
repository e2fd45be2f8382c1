/* ckpt.c - checkpointed, resumable outputs (see ckpt.h). */
#define _GNU_SOURCE
#include "cli/ckpt.h"

#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"
#include "io/npy.h"

uint64_t xfiq_ckpt_hash(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", a, b);
    return s;
}

static const char *base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Reads the state file: 1 when a valid one of this job was read, 0 when
 * there is none, -1 (printed) when it belongs to another job or is corrupt. */
static int read_state(xfiq_ckpt *ck, const char *cmd, long long *sizes)
{
    FILE *f = fopen(ck->state, "r");
    if (!f)
        return 0;
    char magic[32];
    unsigned long long job = 0, done = 0;
    int nf = 0, ok = fscanf(f, "%31s %llx %llu %d", magic, &job, &done, &nf) == 4 && !strcmp(magic, "xfiq-ckpt-1") &&
                     nf == ck->n_files;
    for (int i = 0; ok && i < XFIQ_CKPT_MAX_COUNTERS; i++)
        ok = fscanf(f, "%" SCNd64, &ck->counters[i]) == 1;
    for (int i = 0; ok && i < nf; i++)
        ok = fscanf(f, "%lld", &sizes[i]) == 1 && sizes[i] >= 0;
    fclose(f);
    if (!ok) {
        fprintf(stderr, "xfiq %s: %s: unreadable checkpoint: remove the folder %s and start again\n", cmd, ck->state,
                ck->dir);
        return -1;
    }
    if (job != ck->job) {
        fprintf(stderr, "xfiq %s: %s holds a checkpoint of a different job (other inputs or options): remove it "
                "or run without --resume\n", cmd, ck->dir);
        return -1;
    }
    ck->done = (size_t)done;
    return 1;
}

int xfiq_ckpt_open(xfiq_ckpt *ck, const char *dir, uint64_t job, int resume, size_t first, const char *cmd)
{
    ck->dir = strdup(dir);
    ck->state = join(dir, "state");
    ck->job = job;
    ck->done = first;
    memset(ck->counters, 0, sizeof ck->counters);
    if (!ck->dir || !ck->state) {
        fprintf(stderr, "xfiq %s: out of memory\n", cmd);
        return 1;
    }
    if (mkdir(dir, 0777) == 0) {
        if (xfiq_dir_sync_of(dir) != XFIQ_OK) { /* the new folder itself must outlive a power loss */
            fprintf(stderr, "xfiq %s: %s\n", cmd, xfiq_last_error());
            return 1;
        }
    } else if (errno != EEXIST) {
        fprintf(stderr, "xfiq %s: cannot create the checkpoint folder %s: %s\n", cmd, dir, strerror(errno));
        return 1;
    }
    long long sizes[XFIQ_CKPT_MAX_FILES] = {0};
    int have = 0;
    if (resume) {
        have = read_state(ck, cmd, sizes);
        if (have < 0)
            return 1;
        if (!have)
            fprintf(stderr, "xfiq %s: --resume: no checkpoint in %s, starting from the beginning\n", cmd, dir);
        else
            fprintf(stderr, "xfiq %s: resuming after input %zu\n", cmd, ck->done);
    } else {
        unlink(ck->state); /* an unfinished earlier run is discarded */
    }
    for (int i = 0; i < ck->n_files; i++) {
        xfiq_ckpt_file *f = &ck->f[i];
        char name[300];
        snprintf(name, sizeof name, "%.200s.part", base(f->final));
        f->part = join(dir, name);
        if (!f->part) {
            fprintf(stderr, "xfiq %s: out of memory\n", cmd);
            return 1;
        }
        struct stat ls;
        if (lstat(f->part, &ls) == 0 && !S_ISREG(ls.st_mode)) {
            fprintf(stderr, "xfiq %s: %s is not a regular file: refused\n", cmd, f->part);
            return 1;
        }
        f->fp = fopen(f->part, have ? "r+b" : "w+b");
        if (!f->fp) {
            fprintf(stderr, "xfiq %s: %s: %s%s\n", cmd, f->part, strerror(errno),
                    have ? " (the checkpoint is incomplete: remove its folder and start again)" : "");
            return 1;
        }
        if (have) {
            if (ftruncate(fileno(f->fp), (off_t)sizes[i]) != 0 || fseek(f->fp, 0, SEEK_END) != 0 ||
                ftell(f->fp) != (long)sizes[i]) {
                fprintf(stderr, "xfiq %s: %s is shorter than its checkpoint says: remove %s and start again\n", cmd,
                        f->part, dir);
                return 1;
            }
        }
    }
    return 0;
}

/* Test hook (tests/cli/resume.sh): XFIQ_CKPT_KILL="N:before" or "N:after"
 * kills the process with SIGKILL at the N-th checkpoint, before or after its
 * state is written (partial files then hold data the state does not cover). */
static void test_kill(int phase_after)
{
    static int count;
    const char *e = getenv("XFIQ_CKPT_KILL");
    if (!e || !*e)
        return;
    int n = atoi(e);
    const char *ph = strchr(e, ':');
    int after = ph && !strcmp(ph + 1, "after");
    if (!phase_after)
        count++;
    if (after == phase_after && count == n)
        raise(SIGKILL);
}

int xfiq_ckpt_save(xfiq_ckpt *ck, size_t done)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "xfiq-ckpt-1 %016llx %llu %d", (unsigned long long)ck->job,
                     (unsigned long long)done, ck->n_files);
    for (int i = 0; i < XFIQ_CKPT_MAX_COUNTERS; i++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, " %" PRId64, ck->counters[i]);
    for (int i = 0; i < ck->n_files; i++) {
        /* Synced before the state that covers them is renamed into place:
         * after a power loss the state never counts bytes the disk lacks. */
        if (fflush(ck->f[i].fp) != 0 || ferror(ck->f[i].fp) ||
            (fsync(fileno(ck->f[i].fp)) != 0 && errno != EINVAL && errno != EROFS)) {
            fprintf(stderr, "xfiq: %s: write failed: %s\n", ck->f[i].part, strerror(errno));
            return 1;
        }
        n += snprintf(buf + n, sizeof buf - (size_t)n, " %ld", ftell(ck->f[i].fp));
    }
    n += snprintf(buf + n, sizeof buf - (size_t)n, "\n");
    test_kill(0);
    /* Written to a temporary, synced, renamed, and the folder synced: after
     * kill -9 or a power loss the state is the old one or the new one, whole,
     * and the partial files hold at least what it counts (one fsync per file
     * and batch: milliseconds against a batch's tenths of a second). */
    char tmpname[4200];
    snprintf(tmpname, sizeof tmpname, "%s.tmp", ck->state);
    FILE *f = fopen(tmpname, "w");
    int bad = !f;
    if (f) {
        bad = fwrite(buf, 1, (size_t)n, f) != (size_t)n;
        bad |= fflush(f) != 0 || (fsync(fileno(f)) != 0 && errno != EINVAL && errno != EROFS);
        bad |= fclose(f) != 0;
    }
    if (bad || rename(tmpname, ck->state) != 0) {
        fprintf(stderr, "xfiq: checkpoint %s: %s\n", ck->state, strerror(errno));
        return 1;
    }
    if (xfiq_dir_sync(ck->dir) != XFIQ_OK) {
        fprintf(stderr, "xfiq: checkpoint %s: %s\n", ck->state, xfiq_last_error());
        return 1;
    }
    test_kill(1);
    ck->done = done;
    return 0;
}

static xfiq_status copy_part(FILE *src, FILE *dst, const char *part, const char *final)
{
    char buf[1 << 16];
    size_t got;
    if (fseek(src, 0, SEEK_SET) != 0)
        return xfiq_error(XFIQ_ERR_IO, "%s: %s", part, strerror(errno));
    while ((got = fread(buf, 1, sizeof buf, src)) > 0)
        if (fwrite(buf, 1, got, dst) != got)
            return xfiq_error(XFIQ_ERR_IO, "%s: write failed: %s", final, strerror(errno));
    if (ferror(src))
        return xfiq_error(XFIQ_ERR_IO, "%s: read error", part);
    return XFIQ_OK;
}

int xfiq_ckpt_commit(xfiq_ckpt *ck, int64_t rows)
{
    xfiq_afile out[XFIQ_CKPT_MAX_FILES];
    xfiq_afile *ptr[XFIQ_CKPT_MAX_FILES];
    xfiq_npy_writer w[XFIQ_CKPT_MAX_FILES];
    memset(out, 0, sizeof out);
    memset(w, 0, sizeof w);
    xfiq_status st = XFIQ_OK;
    for (int i = 0; i < ck->n_files && st == XFIQ_OK; i++) {
        xfiq_ckpt_file *f = &ck->f[i];
        if (fflush(f->fp) != 0)
            st = xfiq_error(XFIQ_ERR_IO, "%s: write failed: %s", f->part, strerror(errno));
        else if (f->npy_cols > 0) {
            int64_t shape[2] = {0, f->npy_cols};
            st = xfiq_npy_writer_open(&w[i], f->final, f->npy_vector ? 1 : 2, shape);
            if (st == XFIQ_OK) {
                w[i].shape[0] = rows; /* the data is copied below, not appended */
                st = copy_part(f->fp, w[i].af.fp, f->part, f->final);
                if (st == XFIQ_OK && ftell(w[i].af.fp) != w[i].header_len + (long)(rows * f->npy_cols * 4))
                    st = xfiq_error(XFIQ_ERR_INTERNAL, "%s: the partial file does not hold %lld rows", f->part,
                                    (long long)rows);
                if (st == XFIQ_OK)
                    st = xfiq_npy_writer_finish_header(&w[i]);
            }
            ptr[i] = &w[i].af;
        } else {
            st = xfiq_afile_open(&out[i], f->final);
            if (st == XFIQ_OK)
                st = copy_part(f->fp, out[i].fp, f->part, f->final);
            ptr[i] = &out[i];
        }
    }
    if (st == XFIQ_OK)
        st = xfiq_afile_commit_set(ptr, ck->n_files);
    if (st != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        for (int i = 0; i < ck->n_files; i++) {
            xfiq_afile_abort(&out[i]);
            xfiq_npy_writer_abort(&w[i]);
        }
        return 1;
    }
    for (int i = 0; i < ck->n_files; i++) {
        fclose(ck->f[i].fp);
        ck->f[i].fp = NULL;
        unlink(ck->f[i].part);
    }
    unlink(ck->state);
    rmdir(ck->dir);
    return 0;
}

void xfiq_ckpt_close(xfiq_ckpt *ck)
{
    for (int i = 0; i < ck->n_files; i++) {
        if (ck->f[i].fp)
            fclose(ck->f[i].fp);
        free(ck->f[i].part);
        ck->f[i].fp = NULL;
        ck->f[i].part = NULL;
    }
    free(ck->dir);
    free(ck->state);
    ck->dir = ck->state = NULL;
}
