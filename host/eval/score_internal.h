/* score_internal.h - scoring helpers shared inside the evaluation suite.
 * Internal. */
#ifndef XFIQ_EVAL_SCORE_INTERNAL_H
#define XFIQ_EVAL_SCORE_INTERNAL_H

#include <stdint.h>

#include "xfiq.h"

/* Magnitudes (double accumulation) of the rows some pair uses; the others
 * get -1. The indexes must be valid. XFIQ_ERR_ARG for a NaN/inf row. */
xfiq_status xfiq_magnitudes_used(const float *z, int64_t n, int dim, const int64_t *idx_a,
                                 const int64_t *idx_b, int64_t n_pairs, double *mag);

/* The checks every pair scorer makes first: arguments and row indexes
 * (XFIQ_ERR_ARG naming the pair); then, with the magnitudes, that no pair
 * uses an all-zero row (naming it). */
xfiq_status xfiq_pairs_check_rows(const char *who, const float *z, int64_t n, int dim, const int64_t *idx_a,
                                  const int64_t *idx_b, int64_t n_pairs, const double *cos_out);
xfiq_status xfiq_pairs_check_zero(const double *mag, const int64_t *idx_a, const int64_t *idx_b, int64_t n_pairs);

#endif
