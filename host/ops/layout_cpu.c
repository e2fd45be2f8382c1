/* layout_cpu.c - the data-movement and normalisation ops the face detector
 * needs (Concat, Transpose, Slice, Softmax, Exp): plain references written
 * from the ONNX definitions, index by index, and fast paths that move whole
 * contiguous runs and split the work over threads. */
#include <string.h>

#include "ops/elem.h"
#include "ops/ops_cpu.h"

/* Below this many elements an op runs on the calling thread. */
#define LAYOUT_PAR_MIN 32768

void concat_fwd_ref(const float *a, const float *b, float *y, int64_t outer, int64_t na, int64_t nb)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < na + nb; j++)
            y[o * (na + nb) + j] = j < na ? a[o * na + j] : b[o * nb + j - na];
}

void concat_fwd_cpu(const float *a, const float *b, float *y, int64_t outer, int64_t na, int64_t nb,
                    int num_threads)
{
#pragma omp parallel for schedule(static) num_threads(num_threads) if (outer * (na + nb) >= LAYOUT_PAR_MIN)
    for (int64_t o = 0; o < outer; o++) {
        memcpy(y + o * (na + nb), a + o * na, (size_t)na * sizeof *y);
        memcpy(y + o * (na + nb) + na, b + o * nb, (size_t)nb * sizeof *y);
    }
}

/* Row-major strides of dims with dims[0] = n. */
static void strides_of(int n, int ndim, const int64_t *dims, int64_t *st)
{
    int64_t s = 1;
    for (int a = ndim - 1; a >= 0; a--) {
        st[a] = s;
        s *= a ? dims[a] : n;
    }
}

static int64_t count_of(int n, int ndim, const int64_t *dims)
{
    int64_t c = n;
    for (int a = 1; a < ndim; a++)
        c *= dims[a];
    return c;
}

void transpose_fwd_ref(const float *x, float *y, int n, int ndim, const int64_t *dims, const int *perm)
{
    int64_t xs[XFIQ_MAX_DIMS] = {0}, yd[XFIQ_MAX_DIMS] = {0};
    strides_of(n, ndim, dims, xs);
    for (int a = 0; a < ndim; a++)
        yd[a] = a ? dims[perm[a]] : n;
    const int64_t total = count_of(n, ndim, dims);
    for (int64_t e = 0; e < total; e++) {
        int64_t r = e, src = 0;
        for (int a = ndim - 1; a >= 0; a--) {
            src += (r % yd[a]) * xs[perm[a]];
            r /= yd[a];
        }
        y[e] = x[src];
    }
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

void transpose_fwd_cpu(const float *x, float *y, int n, int ndim, const int64_t *dims, const int *perm,
                       int num_threads)
{
    int64_t xs[XFIQ_MAX_DIMS] = {0}, yd[XFIQ_MAX_DIMS] = {0};
    strides_of(n, ndim, dims, xs);
    for (int a = 0; a < ndim; a++)
        yd[a] = a ? dims[perm[a]] : n;
    const int64_t inner = yd[ndim - 1], in_stride = xs[perm[ndim - 1]];
    const int64_t rows = count_of(n, ndim, dims) / (inner ? inner : 1);
    /* One output row per task: its source is a strided run of x. */
#pragma omp parallel for schedule(static) num_threads(num_threads) if (rows * inner >= LAYOUT_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        int64_t q = r, src = 0;
        for (int a = ndim - 2; a >= 0; a--) {
            src += (q % yd[a]) * xs[perm[a]];
            q /= yd[a];
        }
        row_copy(y + r * inner, x + src, inner, in_stride);
    }
}

void slice_fwd_ref(const float *x, float *y, int n, int ndim, const int64_t *xdims, const int64_t *start,
                   const int64_t *step, const int64_t *ydims)
{
    int64_t xs[XFIQ_MAX_DIMS] = {0};
    strides_of(n, ndim, xdims, xs);
    const int64_t total = count_of(n, ndim, ydims);
    for (int64_t e = 0; e < total; e++) {
        int64_t r = e, src = 0;
        for (int a = ndim - 1; a >= 1; a--) {
            src += (start[a] + (r % ydims[a]) * step[a]) * xs[a];
            r /= ydims[a];
        }
        y[e] = x[src + r * xs[0]];
    }
}

void slice_fwd_cpu(const float *x, float *y, int n, int ndim, const int64_t *xdims, const int64_t *start,
                   const int64_t *step, const int64_t *ydims, int num_threads)
{
    int64_t xs[XFIQ_MAX_DIMS] = {0};
    strides_of(n, ndim, xdims, xs);
    const int64_t inner = ndim > 1 ? ydims[ndim - 1] : 1, istep = ndim > 1 ? step[ndim - 1] : 1;
    const int64_t istart = ndim > 1 ? start[ndim - 1] : 0;
    const int64_t rows = count_of(n, ndim, ydims) / (inner ? inner : 1);
#pragma omp parallel for schedule(static) num_threads(num_threads) if (rows * inner >= LAYOUT_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        int64_t q = r, src = istart * (ndim > 1 ? xs[ndim - 1] : 0);
        for (int a = ndim - 2; a >= 1; a--) {
            src += (start[a] + (q % ydims[a]) * step[a]) * xs[a];
            q /= ydims[a];
        }
        src += q * xs[0];
        row_copy(y + r * inner, x + src, inner, istep);
    }
}

/* One softmax group: len values at stride inner. */
static void softmax_group(const float *x, float *y, int64_t len, int64_t inner)
{
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

void softmax_fwd_ref(const float *x, float *y, int64_t outer, int64_t len, int64_t inner)
{
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++)
            softmax_group(x + o * len * inner + i, y + o * len * inner + i, len, inner);
}

void softmax_fwd_cpu(const float *x, float *y, int64_t outer, int64_t len, int64_t inner, int num_threads)
{
    const int64_t groups = outer * inner;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (groups * len >= LAYOUT_PAR_MIN)
    for (int64_t g = 0; g < groups; g++) {
        const int64_t o = g / inner, i = g % inner;
        softmax_group(x + o * len * inner + i, y + o * len * inner + i, len, inner);
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
