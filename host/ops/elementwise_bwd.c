/* elementwise_bwd.c - backward-data of the memory-bound CPU ops: affine
 * (folded BN / per-channel constants), PReLU, ReLU, the fused activation,
 * binary ops, ops with a per-sample constant and global average pooling.
 * Each element's gradient is one elem_bwd.h / elem_quality.h formula, so
 * there is nothing to reproduce beyond the formula; work is split like the
 * forward ops (planes or fixed chunks), tiny tensors stay on one thread.
 * The accumulate branch sits outside each loop so every loop vectorises.
 * Contraction is off in this file: "dx += dy * s" must round dy * s first,
 * so that accumulate = 1 gives exactly dx_old + (the accumulate = 0 value). */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "ops/elem_bwd.h"
#include "ops/ops_bwd_cpu.h"
#include "quality/elem_quality.h"

/* Below this many elements an op runs on the calling thread. */
#define BWD_PAR_MIN 32768
/* Chunk of the flat loops. */
#define BWD_CHUNK 16384

/* dst[j] (= or +=) EXPR for j in [J0, J1). */
#define GRAD_LOOP(ACC, DST, J0, J1, EXPR)            \
    do {                                             \
        if (ACC) {                                   \
            for (int64_t j = (J0); j < (J1); j++)    \
                (DST)[j] += (EXPR);                  \
        } else {                                     \
            for (int64_t j = (J0); j < (J1); j++)    \
                (DST)[j] = (EXPR);                   \
        }                                            \
    } while (0)

void affine_bwd_cpu(const float *dy, const float *scale, float *dx, int n, int c, int64_t spatial, int accumulate,
                    int num_threads)
{
    const int64_t planes = (int64_t)n * c;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (planes * spatial >= BWD_PAR_MIN)
    for (int64_t p = 0; p < planes; p++) {
        const float s = scale ? scale[p % c] : 1.0f;
        const float *g = dy + p * spatial;
        float *o = dx + p * spatial;
        GRAD_LOOP(accumulate, o, 0, spatial, xfiq_affine_backward(g[j], s));
    }
}

void prelu_bwd_cpu(const float *dy, const float *x, const float *slope, int per_channel, float *dx, int n, int c,
                   int64_t spatial, int accumulate, int num_threads)
{
    const int64_t planes = (int64_t)n * c;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (planes * spatial >= BWD_PAR_MIN)
    for (int64_t p = 0; p < planes; p++) {
        const float s = slope[per_channel ? (int)(p % c) : 0];
        const float *g = dy + p * spatial, *xs = x + p * spatial;
        float *o = dx + p * spatial;
        GRAD_LOOP(accumulate, o, 0, spatial, xfiq_prelu_backward(xs[j], s, g[j]));
    }
}

void relu_bwd_cpu(const float *dy, const float *x, float *dx, int64_t count, int accumulate, int num_threads)
{
    const int64_t chunks = (count + BWD_CHUNK - 1) / BWD_CHUNK;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (count >= BWD_PAR_MIN)
    for (int64_t ck = 0; ck < chunks; ck++) {
        const int64_t e = (ck + 1) * BWD_CHUNK < count ? (ck + 1) * BWD_CHUNK : count;
        GRAD_LOOP(accumulate, dx, ck * BWD_CHUNK, e, xfiq_relu_backward(x[j], dy[j]));
    }
}

void act_bwd_cpu(int act, const float *dy, const float *x, const float *slope, int per_channel, float *dx, int n,
                 int c, int64_t spatial, int accumulate, int num_threads)
{
    if (act == XFIQ_ACT_RELU) {
        relu_bwd_cpu(dy, x, dx, (int64_t)n * c * spatial, accumulate, num_threads);
    } else if (act == XFIQ_ACT_PRELU) {
        prelu_bwd_cpu(dy, x, slope, per_channel, dx, n, c, spatial, accumulate, num_threads);
    } else {
        /* Identity: the gradient passes through (a copy or a sum). */
        const int64_t count = (int64_t)n * c * spatial, chunks = (count + BWD_CHUNK - 1) / BWD_CHUNK;
        if (dx == dy && !accumulate)
            return;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (count >= BWD_PAR_MIN)
        for (int64_t ck = 0; ck < chunks; ck++) {
            const int64_t e = (ck + 1) * BWD_CHUNK < count ? (ck + 1) * BWD_CHUNK : count;
            GRAD_LOOP(accumulate, dx, ck * BWD_CHUNK, e, dy[j]);
        }
    }
}

/* Gradients of y = a op b over [j0, j1); the op is a constant in each loop.
 * The per-element order (read dy, a, b; write da; then db) keeps da == db
 * and in-place (da or db == dy) correct. */
static void binary_bwd_range(int op, const float *dy, const float *a, const float *b, float *da, float *db,
                             int acc_a, int acc_b, int64_t j0, int64_t j1)
{
    if (da && db) {
        for (int64_t j = j0; j < j1; j++) {
            const float g = dy[j], av = a ? a[j] : 0.0f, bv = b ? b[j] : 0.0f;
            const float gb = xfiq_binary_backward_b(op, g, av, bv);
            da[j] = xfiq_grad_store(da[j], xfiq_binary_backward_a(op, g, bv), acc_a);
            db[j] = xfiq_grad_store(db[j], gb, acc_b);
        }
        return;
    }
    switch (op) {
    case XFIQ_BIN_ADD:
        if (da)
            GRAD_LOOP(acc_a, da, j0, j1, xfiq_binary_backward_a(XFIQ_BIN_ADD, dy[j], 0.0f));
        if (db)
            GRAD_LOOP(acc_b, db, j0, j1, xfiq_binary_backward_b(XFIQ_BIN_ADD, dy[j], 0.0f, 0.0f));
        break;
    case XFIQ_BIN_SUB:
        if (da)
            GRAD_LOOP(acc_a, da, j0, j1, xfiq_binary_backward_a(XFIQ_BIN_SUB, dy[j], 0.0f));
        if (db)
            GRAD_LOOP(acc_b, db, j0, j1, xfiq_binary_backward_b(XFIQ_BIN_SUB, dy[j], 0.0f, 0.0f));
        break;
    case XFIQ_BIN_MUL:
        if (da)
            GRAD_LOOP(acc_a, da, j0, j1, xfiq_binary_backward_a(XFIQ_BIN_MUL, dy[j], b[j]));
        if (db)
            GRAD_LOOP(acc_b, db, j0, j1, xfiq_binary_backward_b(XFIQ_BIN_MUL, dy[j], a[j], 0.0f));
        break;
    default:
        if (da)
            GRAD_LOOP(acc_a, da, j0, j1, xfiq_binary_backward_a(XFIQ_BIN_DIV, dy[j], b[j]));
        if (db)
            GRAD_LOOP(acc_b, db, j0, j1, xfiq_binary_backward_b(XFIQ_BIN_DIV, dy[j], a[j], b[j]));
        break;
    }
}

void binary_bwd_cpu(int op, const float *dy, const float *a, const float *b, float *da, float *db, int64_t count,
                    int acc_a, int acc_b, int num_threads)
{
    const int64_t chunks = (count + BWD_CHUNK - 1) / BWD_CHUNK;
    if (!da && !db)
        return;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (count >= BWD_PAR_MIN)
    for (int64_t ck = 0; ck < chunks; ck++)
        binary_bwd_range(op, dy, a, b, da, db, acc_a, acc_b, ck * BWD_CHUNK,
                         (ck + 1) * BWD_CHUNK < count ? (ck + 1) * BWD_CHUNK : count);
}

void binconst_bwd_cpu(int op, int const_first, const float *dy, const float *x, const float *k, float *dx, int n,
                      int64_t per_sample, int accumulate, int num_threads)
{
    const int64_t chunks = (per_sample + BWD_CHUNK - 1) / BWD_CHUNK;
    const int64_t items = (int64_t)n * chunks;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (n * per_sample >= BWD_PAR_MIN)
    for (int64_t it = 0; it < items; it++) {
        const int64_t i = it / chunks, ck = it % chunks;
        const int64_t j0 = ck * BWD_CHUNK, j1 = j0 + BWD_CHUNK < per_sample ? j0 + BWD_CHUNK : per_sample;
        const float *g = dy + i * per_sample;
        float *o = dx + i * per_sample;
        /* Within a sample, dy, x, k and dx share the index j. */
        if (!const_first)
            binary_bwd_range(op, g, NULL, k, o, NULL, accumulate, 0, j0, j1);
        else
            binary_bwd_range(op, g, k, op == XFIQ_BIN_DIV ? x + i * per_sample : NULL, NULL, o, 0, accumulate, j0,
                             j1);
    }
}

void gap_bwd_cpu(const float *dy, float *dx, int n, int c, int64_t spatial, int accumulate, int num_threads)
{
    const int64_t planes = (int64_t)n * c;
#pragma omp parallel for schedule(static) num_threads(num_threads) if (planes * spatial >= BWD_PAR_MIN)
    for (int64_t p = 0; p < planes; p++) {
        const float v = xfiq_gap_backward(dy[p], (float)spatial);
        float *o = dx + p * spatial;
        GRAD_LOOP(accumulate, o, 0, spatial, v);
    }
}
