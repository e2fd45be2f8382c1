/* kfold_internal.h - the per-fold cumulative counts behind every k-fold
 * sweep, shared by kfold.c and the protocol wrappers. Internal. */
#ifndef XFIQ_EVAL_KFOLD_INTERNAL_H
#define XFIQ_EVAL_KFOLD_INTERNAL_H

#include <stdint.h>

#include "xfiq_eval.h"

/* QMagFace protocol: thresholds linspace(min, max, 600). */
#define XFIQ_QMAG_PROTOCOL_THRESHOLDS 600

typedef struct xfiq_kfold_counts {
    int64_t *cum; /* n_thr x n_folds x 2 (label) */
    int64_t total[2 * XFIQ_MAX_FOLDS];
    int n_thr;
    int n_folds;
} xfiq_kfold_counts;

/* strict: count values < thr[i], else values <= thr[i]. */
xfiq_status xfiq_kfold_counts_build(const double *v, const uint8_t *labels, const int32_t *folds,
                                    int64_t n, int n_folds, const double *thr, int n_thr,
                                    int strict, xfiq_kfold_counts *c);
void xfiq_kfold_counts_free(xfiq_kfold_counts *c);
/* Best training threshold index of fold f and its test accuracy. */
xfiq_status xfiq_kfold_fold_eval(const xfiq_kfold_counts *c, int f, int accept_below,
                                 int *best, double *test_acc);
/* Mean and population std of out->accuracy. */
void xfiq_kfold_finish(xfiq_kfold_result *out);
/* numpy.arange(0, count * step, step) values (malloc'ed). */
double *xfiq_arange_thresholds(double step, int count);
double xfiq_interp_staircase(const double *x, const double *y, int m, double xv);

#endif
