/* layout_cpu.c - the data-movement and normalisation ops the face detector
 * needs (Concat, Transpose, Slice, Softmax, Exp): plain references, index by
 * index, and fast paths that move whole contiguous runs and split the work
 * over threads. The index arithmetic and the softmax of a group are those of
 * ops/elem_layout.h, shared with the CUDA kernels. */
#include <string.h>

#include "ops/elem.h"
#include "ops/elem_layout.h"
#include "ops/ops_cpu.h"

/* Below this many elements an op runs on the calling thread. */
#define LAYOUT_PAR_MIN 32768

void concat_fwd_ref(const float *a, const float *b, float *y, int64_t outer, int64_t na, int64_t nb)
{
    for (int64_t e = 0; e < outer * (na + nb); e++)
        y[e] = xfiq_concat_elem(a, b, e, na, nb);
}

void concat_fwd_cpu(const float *a, const float *b, float *y, int64_t outer, int64_t na, int64_t nb,
                    int num_threads)
{
#pragma omp parallel for schedule(static) num_threads(num_threads) if (outer * (na + nb) >= LAYOUT_PAR_MIN)
    for (int64_t o = 0; o < outer; o++) {
        /* an empty input may have no buffer at all, and memcpy wants one even for 0 bytes */
        if (na)
            memcpy(y + o * (na + nb), a + o * na, (size_t)na * sizeof *y);
        if (nb)
            memcpy(y + o * (na + nb) + na, b + o * nb, (size_t)nb * sizeof *y);
    }
}

static void gather_ref(const float *x, float *y, const xfiq_gather_geom *g)
{
    const int64_t total = xfiq_gather_count(g);
    for (int64_t e = 0; e < total; e++)
        y[e] = x[xfiq_gather_src(g, e)];
}

/* One output row of the fast paths: inner values read stride apart. */
static void row_copy(float *y, const float *x, int64_t inner, int64_t stride)
{
    if (stride == 1)
        memcpy(y, x, (size_t)inner * sizeof *y);
    else
        for (int64_t j = 0; j < inner; j++)
            y[j] = x[j * stride];
}

/* One output row per task: its source is a strided run of x, found from the
 * row's first element by the same arithmetic as the reference's. */
static void gather_cpu(const float *x, float *y, const xfiq_gather_geom *g, int num_threads)
{
    const int64_t inner = g->ndim > 1 ? g->yd[g->ndim - 1] : 1;
    const int64_t stride = g->ndim > 1 ? g->st[g->ndim - 1] : 0;
    const int64_t rows = inner ? xfiq_gather_count(g) / inner : 0;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (rows * inner >= LAYOUT_PAR_MIN)
    for (int64_t r = 0; r < rows; r++)
        row_copy(y + r * inner, x + xfiq_gather_src(g, r * inner), inner, stride);
}

void transpose_fwd_ref(const float *x, float *y, int n, int ndim, const int64_t *dims, const int *perm)
{
    xfiq_gather_geom g;
    xfiq_transpose_geom(&g, n, ndim, dims, perm);
    gather_ref(x, y, &g);
}

void transpose_fwd_cpu(const float *x, float *y, int n, int ndim, const int64_t *dims, const int *perm,
                       int num_threads)
{
    xfiq_gather_geom g;
    xfiq_transpose_geom(&g, n, ndim, dims, perm);
    gather_cpu(x, y, &g, num_threads);
}

void slice_fwd_ref(const float *x, float *y, int n, int ndim, const int64_t *xdims, const int64_t *start,
                   const int64_t *step, const int64_t *ydims)
{
    xfiq_gather_geom g;
    xfiq_slice_geom(&g, n, ndim, xdims, start, step, ydims);
    gather_ref(x, y, &g);
}

void slice_fwd_cpu(const float *x, float *y, int n, int ndim, const int64_t *xdims, const int64_t *start,
                   const int64_t *step, const int64_t *ydims, int num_threads)
{
    xfiq_gather_geom g;
    xfiq_slice_geom(&g, n, ndim, xdims, start, step, ydims);
    gather_cpu(x, y, &g, num_threads);
}

void softmax_fwd_ref(const float *x, float *y, int64_t outer, int64_t len, int64_t inner)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++)
            xfiq_softmax_group(x + o * len * inner + i, y + o * len * inner + i, len, inner);
}

void softmax_fwd_cpu(const float *x, float *y, int64_t outer, int64_t len, int64_t inner, int num_threads)
{
    const int64_t groups = outer * inner;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (groups * len >= LAYOUT_PAR_MIN)
    for (int64_t g = 0; g < groups; g++) {
        const int64_t o = g / inner, i = g % inner;
        xfiq_softmax_group(x + o * len * inner + i, y + o * len * inner + i, len, inner);
    }
}

void unary_fwd_ref(int op, const float *x, float *y, int64_t count)
{
    for (int64_t i = 0; i < count; i++)
        y[i] = xfiq_unary(op, x[i]);
}

void unary_fwd_cpu(int op, const float *x, float *y, int64_t count, int num_threads)
{
#pragma omp parallel for schedule(static) num_threads(num_threads) if (count >= LAYOUT_PAR_MIN)
    for (int64_t i = 0; i < count; i++)
        y[i] = xfiq_unary(op, x[i]);
}
