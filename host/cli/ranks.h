/* ranks.h - the processes of one job started by mpirun (or srun): who this
 * process is, and the few collective steps the commands need. MPI is
 * initialised only when a launcher started the process, so a plain run of
 * an MPI-enabled xfiq never needs mpirun; without MPI built in every call
 * is that of a one-process job. */
#ifndef XFIQ_CLI_RANKS_H
#define XFIQ_CLI_RANKS_H

#include <stdint.h>

typedef struct xfiq_ranks {
    int active;     /* MPI initialised: a job of `size` processes */
    int rank, size; /* 0 and 1 for a plain run */
    int local_rank; /* rank among the processes of this node (picks the GPU) */
    int split;      /* the command splits its inputs over the ranks (embed, quality, plq, eval) */
} xfiq_ranks;

extern xfiq_ranks xfiq_cli_ranks;

/* Called first by main: initialises MPI when a launcher's environment says
 * this process is one of several. Non-zero (message printed) when it cannot,
 * e.g. launched by mpirun but built without MPI. */
int xfiq_ranks_start(int *argc, char ***argv);
/* MPI_Finalize when active. */
void xfiq_ranks_stop(void);
/* "Open MPI v4.1.4 ..." or "not built in", for --version. */
const char *xfiq_ranks_library(void);

/* Collective over every rank: each gives its exit code; the job's code is
 * fatal (1) when any rank's was, else 2 when any had failed images, else 0.
 * *first_fatal: the lowest rank that failed fatally (-1: none). */
int xfiq_ranks_agree(int rc, int *first_fatal);
/* Collective: the rows [first_r, end_r) of an n x d float matrix that each
 * rank r computed in place in z are sent to every rank (z whole everywhere).
 * The slices are xfiq_ranks_slice's. Non-zero (message set) on failure. */
int xfiq_ranks_allgather_rows(float *z, int64_t n, int d);
/* Rank r's contiguous share of n items, balanced by count, in order (the
 * slicing of --shard K/N with K = r + 1, N = size). */
void xfiq_ranks_slice(int64_t n, int r, int size, int64_t *first, int64_t *end);

/* Test hook (tests/cli/mpi.sh): XFIQ_MPI_TEST_ABORT="R:N" makes rank R
 * abort() after its N-th batch, as a node that dies mid-job. */
void xfiq_ranks_test_hook(void);

#endif
