/* calib.h - per-model calibration arithmetic of SER-FIQ and PLQ (SPEC 4.1;
 * plan in host/quality/README.md): percentiles of a reference set and the
 * constants derived from them. The engine collects the reference values. */
#ifndef XFIQ_QUALITY_CALIB_H
#define XFIQ_QUALITY_CALIB_H

#include <stddef.h>

#include "xfiq.h"

/* q-th percentile (0..100) of v[0..n-1] with linear interpolation between
 * order statistics (numpy's default "linear" method). v is sorted in place.
 * NaN values are not allowed (ARG). */
xfiq_status calib_percentile(double *v, size_t n, double q, double *out);

/* SER-FIQ scaling from raw qualities of reference faces: r = median, and the
 * smallest alpha for which the scaled qualities of the lo-th and hi-th
 * percentiles lie at or beyond q_lo and q_hi (e.g. 5, 95 -> 0.1, 0.9):
 * alpha = max(logit(q_hi) / (P_hi - r), logit(1 - q_lo) / (r - P_lo)).
 * v is sorted in place; a degenerate spread (P_hi == r or P_lo == r) -> ARG. */
xfiq_status calib_serfiq(double *q_raw, size_t n, double lo, double hi, double q_lo, double q_hi,
                         double *alpha, double *r);

#endif
