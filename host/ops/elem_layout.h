/* elem_layout.h - the per-element index arithmetic of the detector's layout
 * ops (Concat, Transpose, Slice) and the softmax of one group, written once
 * in plain C. Included by the CPU ops (ops/layout_cpu.c) and by the CUDA
 * kernels (cuda/ops_layout.cu, through cuda/elem_cuda.h), so both backends
 * read the same source element for every output element and sum a softmax
 * group in the same order. Geometries are filled on the host, once per call,
 * and handed to kernels by value. */
#ifndef XFIQ_OPS_ELEM_LAYOUT_H
#define XFIQ_OPS_ELEM_LAYOUT_H

#include <stdint.h>
#include <string.h>

#include "graph/graph.h"
#include "ops/elem.h"

/* Concat as (outer, na + nb): element e of y, from a (outer, na) or b (outer, nb). */
static inline XFIQ_HD float xfiq_concat_elem(const float *a, const float *b, int64_t e, int64_t na, int64_t nb)
{
    const int64_t row = na + nb, o = e / row, j = e - o * row;
    return j < na ? a[o * na + j] : b[o * nb + (j - na)];
}

/* Transpose and Slice are both gathers through a strided view of x:
 * y[e] = x[base + sum over axes a of (index of e along a) * st[a]], with
 * y's dims yd (yd[0] = the batch). */
typedef struct xfiq_gather_geom {
    int ndim;
    int64_t yd[XFIQ_MAX_DIMS];
    int64_t st[XFIQ_MAX_DIMS];
    int64_t base;
} xfiq_gather_geom;

/* Row-major strides of dims with dims[0] replaced by the batch n. */
static inline void xfiq_row_major_strides(int n, int ndim, const int64_t *dims, int64_t *st)
{
    int64_t s = 1;
    for (int a = ndim - 1; a >= 0; a--) {
        st[a] = s;
        s *= a ? dims[a] : n;
    }
}

/* y.dims[a] = x.dims[perm[a]]; perm[0] = 0 keeps the batch first. */
static inline void xfiq_transpose_geom(xfiq_gather_geom *g, int n, int ndim, const int64_t *dims, const int *perm)
{
    int64_t xs[XFIQ_MAX_DIMS] = {0};
    memset(g, 0, sizeof *g);
    xfiq_row_major_strides(n, ndim, dims, xs);
    g->ndim = ndim;
    for (int a = 0; a < ndim; a++) {
        g->yd[a] = a ? dims[perm[a]] : n;
        g->st[a] = xs[perm[a]];
    }
}

/* y[i] = x[start + i * step] along each axis but the batch's (whose start
 * and step are 0 and 1 whatever the arrays hold). */
static inline void xfiq_slice_geom(xfiq_gather_geom *g, int n, int ndim, const int64_t *xdims,
                                   const int64_t *start, const int64_t *step, const int64_t *ydims)
{
    int64_t xs[XFIQ_MAX_DIMS] = {0};
    memset(g, 0, sizeof *g);
    xfiq_row_major_strides(n, ndim, xdims, xs);
    g->ndim = ndim;
    for (int a = 0; a < ndim; a++) {
        g->yd[a] = a ? ydims[a] : n;
        g->st[a] = a ? step[a] * xs[a] : xs[0];
        g->base += a ? start[a] * xs[a] : 0;
    }
}

static inline int64_t xfiq_gather_count(const xfiq_gather_geom *g)
{
    int64_t c = 1;
    for (int a = 0; a < g->ndim; a++)
        c *= g->yd[a];
    return c;
}

/* Offset in x of y's element e. The fast paths call it for a row's first
 * element and step along the last axis by st[ndim - 1] themselves. */
static inline XFIQ_HD int64_t xfiq_gather_src(const xfiq_gather_geom *g, int64_t e)
{
    int64_t r = e, src = g->base;
    for (int a = g->ndim - 1; a >= 0; a--) {
        const int64_t q = r / g->yd[a];
        src += (r - q * g->yd[a]) * g->st[a];
        r = q;
    }
    return src;
}

/* One softmax group: len values at stride inner. Max-subtracted; the sum is
 * in double, in index order, on one thread on either backend, so the two
 * differ only by their expf. */
static inline XFIQ_HD void xfiq_softmax_group(const float *x, float *y, int64_t len, int64_t inner)
{
    if (len <= 0)
        return;
    float m = x[0];
    for (int64_t j = 1; j < len; j++)
        m = x[j * inner] > m ? x[j * inner] : m;
    double sum = 0.0;
    for (int64_t j = 0; j < len; j++) {
        const float e = xfiq_unary(XFIQ_UN_EXP, x[j * inner] - m);
        y[j * inner] = e;
        sum += e;
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t j = 0; j < len; j++)
        y[j * inner] *= inv;
}

#endif
