/* roc_internal.h - the ROC walk shared by the ROC handle, the QMagFace
 * training and the EDC: from the sorted keys of each class to the points of
 * every distinct score value. Internal. */
#ifndef XFIQ_EVAL_ROC_INTERNAL_H
#define XFIQ_EVAL_ROC_INTERNAL_H

#include <stdint.h>

#include "xfiq.h"

/* gen (n_gen) and imp (n_imp): ascending keys (xfiq_key_of). Writes one
 * point per distinct value in decreasing order (no leading (0, 0) point):
 * tps/fps = how many genuine/impostor keys are >= that value, key = the
 * value. Returns the number of points (<= n_gen + n_imp). */
int64_t xfiq_roc_walk(const uint64_t *gen, int64_t n_gen, const uint64_t *imp, int64_t n_imp,
                      int64_t *tps, int64_t *fps, uint64_t *key);

/* Splits scores by label into key arrays (caller allocates n_gen / n_imp)
 * and sorts them (tmp: max(n_gen, n_imp) scratch). XFIQ_ERR_ARG for NaN. */
xfiq_status xfiq_roc_keys(const double *scores, const uint8_t *labels, int64_t n, uint64_t *gen,
                          uint64_t *imp, uint64_t *tmp);

#endif
