/* serfiq.h - SER-FIQ building blocks that do not need the network: the
 * reproducible dropout masks of a batch (Philox stream of quality/philox.h)
 * and the quality of one image from its T stochastic embeddings (SPEC 3). */
#ifndef XFIQ_QUALITY_SERFIQ_H
#define XFIQ_QUALITY_SERFIQ_H

#include <stddef.h>
#include <stdint.h>

#include "xfiq.h"

typedef enum serfiq_mask_kind {
    SERFIQ_MASK_ELEMENT = 0, /* one keep/drop decision per element */
    SERFIQ_MASK_CHANNEL = 1  /* one decision per channel, shared by its spatial positions */
} serfiq_mask_kind;

/* Where and how dropout acts. The dropout point of one image is `dim` floats;
 * channel-wise masks see it as (dim/spatial channels) x (spatial) in NCHW
 * order, i.e. element e belongs to channel e / spatial. */
typedef struct serfiq_dropout {
    uint64_t seed;
    float p;               /* drop rate, 0 <= p < 1 (default 0.5) */
    serfiq_mask_kind kind;
    int dim;               /* D: elements of the dropout point per image */
    int spatial;           /* channel-wise only: elements per channel; dim % spatial == 0 */
} serfiq_dropout;

/* XFIQ_ERR_ARG with a message when the configuration cannot be used. */
xfiq_status serfiq_dropout_check(const serfiq_dropout *cfg);

/* Mask multipliers (0 or 1/(1-p)) of passes t0 .. t0+nt-1 of one image:
 * out (nt x dim), row-major. cfg must pass serfiq_dropout_check. */
void serfiq_mask_rows(const serfiq_dropout *cfg, uint64_t image_id, uint32_t t0, int nt, float *out);

/* Masks of a batch: B images with the given ids, T passes each;
 * out (B*T x dim), row b*T + t. Identical whatever B, the split of a job into
 * batches or num_threads (<= 0: OpenMP default). */
xfiq_status serfiq_masks_fill(const serfiq_dropout *cfg, const uint64_t *image_ids, int B, int T,
                              float *out, int num_threads);

/* The T dropout copies of each image's deterministic activation at the
 * dropout point, ready for one head GEMM of B*T rows:
 * x (B x dim) -> out (B*T x dim), out[b*T+t][e] = x[b][e] * (keep ? 1/(1-p) : 0)
 * (the same masks as serfiq_masks_fill). */
xfiq_status serfiq_heads_input(const serfiq_dropout *cfg, const uint64_t *image_ids, const float *x,
                               int B, int T, float *out, int num_threads);

typedef struct serfiq_result {
    double mean_dist; /* d: mean pairwise Euclidean distance of the normalised embeddings */
    double q_raw;     /* 2 / (1 + exp(d)) */
    double q;         /* 1 / (1 + exp(-alpha (q_raw - r))) */
} serfiq_result;

/* Everything the quality stages compute for one image, laid out identically
 * in host and device memory (the CUDA stages fill an array of these). */
typedef struct serfiq_image_result {
    serfiq_result r;   /* SER-FIQ: mean distance, raw and scaled quality */
    double magnitude;  /* ||z|| of the deterministic embedding */
    double sum_e;      /* sum of z / ||z|| (0 for z = 0) */
    double plq_denom;  /* PLQ regression denominator (0: no direction, zero seed) */
    double mean_plq;   /* mean of the PLQ map over the face region */
} serfiq_image_result;

/* Bytes of `work` serfiq_quality needs for T embeddings of length D. */
size_t serfiq_workspace_bytes(int T, int D);

/* Quality of one image from its T raw stochastic embeddings emb (T x D).
 * Each row is L2-normalised in double (an all-zero row stays zero, as in
 * sklearn's normalize and PyTorch's F.normalize); d comes from the Gram
 * matrix G = X X^T in double: ||x_i - x_j||^2 = G_ii + G_jj - 2 G_ij
 * (= 2 - 2 x_i.x_j for unit rows), clamped at 0 before the square root.
 * In double the cancellation costs ~1e-16 in the squared distance, so d
 * equals the direct O(T^2 D) form (serfiq_mean_distance_direct) to float
 * precision for any distance above ~1e-7; it is O(T^2 D / 2) with no
 * per-pair difference vector. work: NULL (allocated here) or
 * serfiq_workspace_bytes(T, D) bytes. T >= 2; non-finite input -> ARG. */
xfiq_status serfiq_quality(const float *emb, int T, int D, double alpha, double r, void *work,
                           serfiq_result *out);

/* Reference: the same d from the direct definition, in double (tests). */
double serfiq_mean_distance_direct(const float *emb, int T, int D);

#endif
