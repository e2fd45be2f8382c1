/* roc_part.h - one part of an ROC whose scores are spread over processes
 * (`mpirun ... xfiq eval`): the part holds every score of one key range, so
 * its points are a contiguous run of the whole ROC's, and the counts of the
 * ranges above it (tp0, fp0) place them. The metrics of the whole ROC then
 * follow from a few numbers per part (reduced by the caller, e.g. with MPI),
 * exactly as xfiq_roc_summarize computes them on one process. Internal. */
#ifndef XFIQ_EVAL_ROC_PART_H
#define XFIQ_EVAL_ROC_PART_H

#include <stdint.h>

#include "xfiq.h"

typedef struct xfiq_roc_part {
    int64_t n_points;       /* distinct keys of this range */
    int64_t *tps, *fps;     /* cumulative over the whole ROC (tp0, fp0 included) */
    uint64_t *key;          /* descending */
    int64_t tp0, fp0;       /* genuine / impostor scores above this range */
    int64_t n_gen, n_imp;   /* of the whole ROC */
} xfiq_roc_part;

/* gen, imp: this range's keys (xfiq_key_of), ascending. */
xfiq_status xfiq_roc_part_build(const uint64_t *gen, int64_t ng, const uint64_t *imp, int64_t ni, int64_t tp0,
                                int64_t fp0, int64_t n_gen, int64_t n_imp, xfiq_roc_part *p);
void xfiq_roc_part_free(xfiq_roc_part *p);

/* FNMR at FMR fmr, in two reductions: want = the MAX over parts of
 * xfiq_roc_part_fnmr_tp (the true positives of the last point with
 * FPR <= fmr; the whole ROC's first point (0, 0) makes it at least 0), then
 * the threshold = the MAX over parts of xfiq_roc_part_first_key (the first
 * point reaching want; 0 from a part without one, and want 0 means the
 * point (0, 0) at +inf). */
int64_t xfiq_roc_part_fnmr_tp(const xfiq_roc_part *p, double fmr);
int xfiq_roc_part_first_key(const xfiq_roc_part *p, int64_t want, uint64_t *key);
/* EER: the part whose local point index xfiq_roc_part_eer_index returns
 * (>= 0) at the lowest global position (points of higher key ranges come
 * first) holds the crossing, and xfiq_roc_part_eer_at gives its value. */
int64_t xfiq_roc_part_eer_index(const xfiq_roc_part *p);
void xfiq_roc_part_eer_at(const xfiq_roc_part *p, int64_t i, double *eer, double *threshold);
/* This part's share of twice the AUC's integer numerator (sum over parts,
 * divide by 2 n_gen n_imp as xfiq_roc_auc does). */
unsigned __int128 xfiq_roc_part_auc2(const xfiq_roc_part *p);

#endif
