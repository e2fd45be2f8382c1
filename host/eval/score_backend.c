/* score_backend.c - pair scores on a backend (xfiq_backend_score_pairs):
 * the checks and magnitudes on the host, the pair products where the backend
 * does them (the device for CUDA, cuda/scores.cu; the host for the CPU). */
#include <stdlib.h>

#include "backend/backend.h"
#include "core/status.h"
#include "eval/score_internal.h"
#include "xfiq_eval.h"

xfiq_status xfiq_backend_score_pairs(xfiq_backend_t be, const float *z, int64_t n, int dim, const int64_t *idx_a,
                                     const int64_t *idx_b, int64_t n_pairs, const xfiq_qmag_params *p,
                                     double *cos_out, double *q_out, double *qmag_out)
{
    if (!be || !be->ops->score_pairs)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_backend_score_pairs: no backend, or one that cannot score");
    XFIQ_TRY(xfiq_pairs_check_rows("xfiq_backend_score_pairs", z, n, dim, idx_a, idx_b, n_pairs, cos_out));
    double *mag = malloc((size_t)(n ? n : 1) * sizeof *mag);
    if (!mag)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory for %lld magnitudes", (long long)n);
    xfiq_status st = xfiq_magnitudes_used(z, n, dim, idx_a, idx_b, n_pairs, mag);
    if (st == XFIQ_OK)
        st = xfiq_pairs_check_zero(mag, idx_a, idx_b, n_pairs);
    if (st == XFIQ_OK)
        st = be->ops->score_pairs(be->ctx, z, n, dim, mag, idx_a, idx_b, n_pairs, p, cos_out, q_out, qmag_out);
    free(mag);
    return st;
}
