/* calib.c - percentiles and SER-FIQ scaling constants of a reference set. */
#include "quality/calib.h"

#include <math.h>
#include <stdlib.h>

#include "core/status.h"

static int calib_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

xfiq_status calib_percentile(double *v, size_t n, double q, double *out)
{
    if (!v || n == 0 || !out)
        return xfiq_error(XFIQ_ERR_ARG, "calibration: empty reference set");
    if (!(q >= 0.0 && q <= 100.0))
        return xfiq_error(XFIQ_ERR_ARG, "calibration: percentile %g outside [0, 100]", q);
    for (size_t i = 0; i < n; i++)
        if (isnan(v[i]))
            return xfiq_error(XFIQ_ERR_ARG, "calibration: reference value %zu is NaN", i);
    qsort(v, n, sizeof *v, calib_cmp);
    double pos = q / 100.0 * (double)(n - 1);
    size_t i = (size_t)floor(pos);
    if (i >= n - 1) {
        *out = v[n - 1];
        return XFIQ_OK;
    }
    double f = pos - (double)i;
    *out = v[i] + f * (v[i + 1] - v[i]);
    return XFIQ_OK;
}

xfiq_status calib_serfiq(double *q_raw, size_t n, double lo, double hi, double q_lo, double q_hi,
                         double *alpha, double *r)
{
    if (!(lo < 50.0 && hi > 50.0 && q_lo > 0.0 && q_lo < 0.5 && q_hi > 0.5 && q_hi < 1.0))
        return xfiq_error(XFIQ_ERR_ARG, "calibration: need lo < 50 < hi percentiles and 0 < q_lo < 0.5 < q_hi < 1");
    double p_lo, p_hi, med;
    XFIQ_TRY(calib_percentile(q_raw, n, 50.0, &med));
    XFIQ_TRY(calib_percentile(q_raw, n, lo, &p_lo));
    XFIQ_TRY(calib_percentile(q_raw, n, hi, &p_hi));
    if (!(p_hi > med && med > p_lo))
        return xfiq_error(XFIQ_ERR_ARG,
                          "calibration: raw qualities do not spread (P%g %.6g, median %.6g, P%g %.6g)", lo, p_lo,
                          med, hi, p_hi);
    double a_hi = log(q_hi / (1.0 - q_hi)) / (p_hi - med);
    double a_lo = log((1.0 - q_lo) / q_lo) / (med - p_lo);
    *alpha = a_hi > a_lo ? a_hi : a_lo;
    *r = med;
    return XFIQ_OK;
}
