/* ranks.c - the processes of an mpirun job (see ranks.h). */
#include "cli/ranks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

#ifdef XFIQ_HAVE_MPI
#include <mpi.h>
#endif

xfiq_ranks xfiq_cli_ranks = {0, 0, 1, 0, 0};

/* The process count a launcher announces: Open MPI, then PMI/PMIx (MPICH,
 * Intel MPI, Slurm's srun). 0 when none did. */
static int launcher_size(void)
{
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return atoi(v);
    }
    return getenv("PMIX_RANK") ? 1 : 0;
}

int xfiq_ranks_start(int *argc, char ***argv)
{
    int n = launcher_size();
#ifdef XFIQ_HAVE_MPI
    if (!n)
        return 0;
    int provided;
    /* Threads (OpenMP, the decoder) compute, only the main thread calls MPI. */
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "xfiq: started by an MPI launcher but MPI_Init failed\n");
        return 1;
    }
    xfiq_ranks *r = &xfiq_cli_ranks;
    r->active = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &r->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &r->size);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, r->rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &r->local_rank);
    MPI_Comm_free(&node);
    return 0;
#else
    (void)argc;
    (void)argv;
    if (n > 1) {
        fprintf(stderr, "xfiq: started by an MPI launcher as one of %d processes, but this xfiq was built without "
                "MPI: every process would do the whole job. Rebuild with -DXFIQ_MPI=ON (Debian: libopenmpi-dev), "
                "or run it without mpirun.\n", n);
        return 1;
    }
    return 0;
#endif
}

void xfiq_ranks_stop(void)
{
#ifdef XFIQ_HAVE_MPI
    if (xfiq_cli_ranks.active)
        MPI_Finalize();
    xfiq_cli_ranks.active = 0;
#endif
}

const char *xfiq_ranks_library(void)
{
#ifdef XFIQ_HAVE_MPI
    static char buf[MPI_MAX_LIBRARY_VERSION_STRING + 16];
    int len = 0;
    MPI_Get_library_version(buf, &len);
    char *nl = strpbrk(buf, ",\n"); /* the first clause names it and its version */
    if (nl)
        *nl = 0;
    return buf;
#else
    return "not built in";
#endif
}

int xfiq_ranks_agree(int rc, int *first_fatal)
{
    *first_fatal = rc == 1 ? xfiq_cli_ranks.rank : -1;
#ifdef XFIQ_HAVE_MPI
    if (xfiq_cli_ranks.active) {
        /* fatal rank as size - rank so MAX finds the lowest */
        int mine[2] = {rc == 1 ? xfiq_cli_ranks.size - xfiq_cli_ranks.rank : 0, rc == 2}, all[2];
        MPI_Allreduce(mine, all, 2, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        *first_fatal = all[0] ? xfiq_cli_ranks.size - all[0] : -1;
        return all[0] ? 1 : all[1] ? 2 : 0;
    }
#endif
    return rc;
}

void xfiq_ranks_slice(int64_t n, int r, int size, int64_t *first, int64_t *end)
{
    *first = n * (int64_t)r / size;
    *end = n * (int64_t)(r + 1) / size;
}

int xfiq_ranks_allgather_rows(float *z, int64_t n, int d)
{
#ifdef XFIQ_HAVE_MPI
    xfiq_ranks *r = &xfiq_cli_ranks;
    if (!r->active || r->size < 2)
        return 0;
    if (n > 0x7fffffff) {
        xfiq_error(XFIQ_ERR_ARG, "%lld rows: more than MPI can count", (long long)n);
        return 1;
    }
    int *cnt = malloc((size_t)r->size * sizeof *cnt), *off = malloc((size_t)r->size * sizeof *off);
    if (!cnt || !off) {
        free(cnt);
        free(off);
        xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
        return 1;
    }
    for (int k = 0; k < r->size; k++) {
        int64_t a, b;
        xfiq_ranks_slice(n, k, r->size, &a, &b);
        off[k] = (int)a;
        cnt[k] = (int)(b - a);
    }
    MPI_Datatype row; /* counts in rows, so that n x d may exceed 2^31 values */
    MPI_Type_contiguous(d, MPI_FLOAT, &row);
    MPI_Type_commit(&row);
    int e = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, z, cnt, off, row, MPI_COMM_WORLD);
    MPI_Type_free(&row);
    free(cnt);
    free(off);
    if (e != MPI_SUCCESS) {
        xfiq_error(XFIQ_ERR_IO, "MPI_Allgatherv of the embeddings failed");
        return 1;
    }
#else
    (void)z;
    (void)n;
    (void)d;
#endif
    return 0;
}

void xfiq_ranks_test_hook(void)
{
    static int batches;
    const char *e = getenv("XFIQ_MPI_TEST_ABORT");
    int r, n;
    if (!e || sscanf(e, "%d:%d", &r, &n) != 2)
        return;
    if (r == xfiq_cli_ranks.rank && ++batches == n) {
        fprintf(stderr, "xfiq: XFIQ_MPI_TEST_ABORT: rank %d aborts after batch %d\n", r, n);
        abort();
    }
}
