/* ckpt.h - checkpointed outputs of long image jobs (`embed`, `quality`):
 * results are appended to partial files in a hidden folder next to the
 * outputs, and after every batch a small state file records how many
 * inputs are done and how long each partial file is. `--resume` continues
 * from there after Ctrl-C, kill -9 or a crash (partial files are cut back to
 * the recorded lengths, so a batch half-written when the job died is redone);
 * the final outputs are built from the partial files and committed together
 * only when the job ends. Batches restart at the same boundaries, so the
 * outputs are byte-identical to an uninterrupted run. */
#ifndef XFIQ_CLI_CKPT_H
#define XFIQ_CLI_CKPT_H

#include <stdint.h>
#include <stdio.h>

#include "io/afile.h"

#define XFIQ_CKPT_MAX_FILES 4
#define XFIQ_CKPT_MAX_COUNTERS 4

typedef struct xfiq_ckpt_file {
    const char *final; /* output path */
    int npy_cols;      /* > 0: float32 rows of npy_cols values (npy_ndim 2, or 1 when npy_cols == 1
                          and npy_vector); 0: bytes copied as they are */
    int npy_vector;
    FILE *fp;          /* partial file: append here */
    char *part;
} xfiq_ckpt_file;

typedef struct xfiq_ckpt {
    char *dir;  /* the partial folder */
    char *state;
    uint64_t job;
    int n_files;
    xfiq_ckpt_file f[XFIQ_CKPT_MAX_FILES];
    size_t done;                              /* inputs done (absolute index of the next one) */
    int64_t counters[XFIQ_CKPT_MAX_COUNTERS]; /* the command's own tallies (rows, failures ...) */
} xfiq_ckpt;

/* FNV-1a, to fingerprint a job (argv without --resume, every input path). */
uint64_t xfiq_ckpt_hash(uint64_t h, const void *data, size_t len);
#define XFIQ_CKPT_HASH0 1469598103934665603ull

/* Opens the partial files in dir (created when missing). resume: continue a
 * checkpoint of the same job when one is there (ck->done, ck->counters set
 * from it; a checkpoint of another job is an error); otherwise start from
 * first. Prints the error and returns non-zero on failure. */
int xfiq_ckpt_open(xfiq_ckpt *ck, const char *dir, uint64_t job, int resume, size_t first, const char *cmd);
/* Flushes and fsyncs the partial files, then records done + counters
 * (temporary fsync'd, renamed, folder fsync'd): consistent after kill -9 and
 * after a power loss. */
int xfiq_ckpt_save(xfiq_ckpt *ck, size_t done);
/* Builds every final output from its partial file and commits them all
 * together (nothing replaced when any write fails); removes the partial
 * folder on success. rows: npy row count. */
int xfiq_ckpt_commit(xfiq_ckpt *ck, int64_t rows);
/* Closes the partial files, keeps them for --resume. */
void xfiq_ckpt_close(xfiq_ckpt *ck);

#endif
