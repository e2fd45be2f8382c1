/* elementwise_cpu.c - the memory-bound CPU ops: per-channel affine, PReLU,
 * ReLU, binary ops, ops with a per-sample constant and global average pooling.
 * Parallel over (image, channel) planes or fixed chunks; the op switch sits
 * outside each loop so every inner loop is one vectorisable elem.h formula.
 * Tiny tensors stay on one thread (starting a team costs more than the work). */
#include "ops/elem.h"
#include "ops/ops_cpu.h"

/* Below this many elements an op runs on the calling thread. */
#define OPS_PAR_MIN 32768
/* Chunk of the flat loops: a multiple of the vector width, cache friendly. */
#define OPS_CHUNK 16384

void affine_fwd_cpu(const float *x, const float *scale, const float *shift, float *y,
                    int n, int c, int64_t spatial, int num_threads)
{
    const int64_t planes = (int64_t)n * c;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (planes * spatial >= OPS_PAR_MIN)
    for (int64_t p = 0; p < planes; p++) {
        const int ch = (int)(p % c);
        const float s = scale ? scale[ch] : 1.0f, t = shift ? shift[ch] : 0.0f;
        const float *xs = x + p * spatial;
        float *ys = y + p * spatial;
        for (int64_t j = 0; j < spatial; j++)
            ys[j] = xfiq_affine(xs[j], s, t);
    }
}

void prelu_fwd_cpu(const float *x, const float *slope, int per_channel, float *y,
                   int n, int c, int64_t spatial, int num_threads)
{
    const int64_t planes = (int64_t)n * c;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (planes * spatial >= OPS_PAR_MIN)
    for (int64_t p = 0; p < planes; p++) {
        const float s = slope[per_channel ? (int)(p % c) : 0];
        const float *xs = x + p * spatial;
        float *ys = y + p * spatial;
        for (int64_t j = 0; j < spatial; j++)
            ys[j] = xfiq_prelu(xs[j], s);
    }
}

void relu_fwd_cpu(const float *x, float *y, int64_t count, int num_threads)
{
    const int64_t chunks = (count + OPS_CHUNK - 1) / OPS_CHUNK;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (count >= OPS_PAR_MIN)
    for (int64_t ck = 0; ck < chunks; ck++) {
        const int64_t e = (ck + 1) * OPS_CHUNK < count ? (ck + 1) * OPS_CHUNK : count;
        for (int64_t j = ck * OPS_CHUNK; j < e; j++)
            y[j] = xfiq_relu(x[j]);
    }
}

/* y[j] = a[j] op b[j] over [j0, j1); the op is a constant in each loop. */
static void binary_range(int op, const float *a, const float *b, float *y, int64_t j0, int64_t j1)
{
    int64_t j;
    switch (op) {
    case XFIQ_BIN_ADD:
        for (j = j0; j < j1; j++)
            y[j] = xfiq_binary(XFIQ_BIN_ADD, a[j], b[j]);
        break;
    case XFIQ_BIN_SUB:
        for (j = j0; j < j1; j++)
            y[j] = xfiq_binary(XFIQ_BIN_SUB, a[j], b[j]);
        break;
    case XFIQ_BIN_MUL:
        for (j = j0; j < j1; j++)
            y[j] = xfiq_binary(XFIQ_BIN_MUL, a[j], b[j]);
        break;
    default:
        for (j = j0; j < j1; j++)
            y[j] = xfiq_binary(XFIQ_BIN_DIV, a[j], b[j]);
        break;
    }
}

void binary_fwd_cpu(int op, const float *a, const float *b, float *y, int64_t count, int num_threads)
{
    const int64_t chunks = (count + OPS_CHUNK - 1) / OPS_CHUNK;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (count >= OPS_PAR_MIN)
    for (int64_t ck = 0; ck < chunks; ck++)
        binary_range(op, a, b, y, ck * OPS_CHUNK, (ck + 1) * OPS_CHUNK < count ? (ck + 1) * OPS_CHUNK : count);
}

void binconst_fwd_cpu(int op, int const_first, const float *x, const float *k, float *y,
                      int n, int64_t per_sample, int num_threads)
{
    const int64_t chunks = (per_sample + OPS_CHUNK - 1) / OPS_CHUNK;
    const int64_t items = (int64_t)n * chunks;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (n * per_sample >= OPS_PAR_MIN)
    for (int64_t it = 0; it < items; it++) {
        const int64_t i = it / chunks, ck = it % chunks;
        const int64_t j0 = ck * OPS_CHUNK, j1 = j0 + OPS_CHUNK < per_sample ? j0 + OPS_CHUNK : per_sample;
        const float *xs = x + i * per_sample;
        float *ys = y + i * per_sample;
        /* Within a sample, x, k and y share the index j. */
        if (const_first)
            binary_range(op, k, xs, ys, j0, j1);
        else
            binary_range(op, xs, k, ys, j0, j1);
    }
}

void gap_fwd_cpu(const float *x, float *y, int n, int c, int64_t spatial, int num_threads)
{
    const int64_t planes = (int64_t)n * c;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (planes * spatial >= OPS_PAR_MIN)
    for (int64_t p = 0; p < planes; p++) {
        const float *xs = x + p * spatial;
        double s = 0.0;
        for (int64_t j = 0; j < spatial; j++)
            s += xs[j];
        y[p] = (float)(s / (double)spatial);
    }
}
