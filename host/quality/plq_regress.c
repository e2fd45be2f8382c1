/* plq_regress.c - PLQ quality-regression seeds (see plq_regress.h). */
#include "quality/plq_regress.h"

#include <math.h>
#include <string.h>

#include "core/status.h"
#include "quality/elem_quality.h"

static const char *const plq_mode_names[] = {"paper", "signed", "magnitude"};

const char *plq_mode_name(plq_mode mode)
{
    return (unsigned)mode < sizeof plq_mode_names / sizeof *plq_mode_names ? plq_mode_names[mode] : NULL;
}

xfiq_status plq_mode_parse(const char *name, plq_mode *mode)
{
    for (unsigned i = 0; name && i < sizeof plq_mode_names / sizeof *plq_mode_names; i++)
        if (!strcmp(name, plq_mode_names[i])) {
            *mode = (plq_mode)i;
            return XFIQ_OK;
        }
    return xfiq_error(XFIQ_ERR_ARG, "plq: unknown regression mode '%s' (paper, signed, magnitude)",
                      name ? name : "(null)");
}

static xfiq_status plq_check(const float *v, int D, const char *what)
{
    if (!v || D <= 0)
        return xfiq_error(XFIQ_ERR_ARG, "plq: %s is NULL or empty (D = %d)", what, D);
    for (int k = 0; k < D; k++)
        if (!isfinite(v[k]))
            return xfiq_error(XFIQ_ERR_ARG, "plq: %s element %d is not finite", what, k);
    return XFIQ_OK;
}

xfiq_status plq_regression_weights(plq_mode mode, const float *e, int D, double Q, float *out_v,
                                   plq_regress_info *info)
{
    XFIQ_TRY(plq_check(e, D, "embedding"));
    if (!out_v)
        return xfiq_error(XFIQ_ERR_ARG, "plq: output seed is NULL");
    double denom = 0;
    if (mode == PLQ_MODE_PAPER) {
        for (int k = 0; k < D; k++)
            denom += e[k];
    } else if (mode == PLQ_MODE_SIGNED) {
        for (int k = 0; k < D; k++)
            denom += fabs((double)e[k]);
    } else {
        return xfiq_error(XFIQ_ERR_ARG, "plq: mode '%s' is not defined on the normalised embedding",
                          plq_mode_name(mode) ? plq_mode_name(mode) : "?");
    }
    if (denom == 0.0)
        return xfiq_error(XFIQ_ERR_ARG, "plq: %s regression weight undefined: denominator is 0",
                          plq_mode_name(mode));
    double w = Q / denom;
    for (int k = 0; k < D; k++)
        out_v[k] = mode == PLQ_MODE_PAPER ? (float)w
                 : (float)(e[k] > 0 ? w : e[k] < 0 ? -w : 0.0);
    if (info) {
        info->denom = denom;
        info->weight = w;
        info->unstable = mode == PLQ_MODE_PAPER && fabs(denom) < PLQ_PAPER_UNSTABLE_SUM;
    }
    return XFIQ_OK;
}

/* ||z|| in double. */
static double plq_norm(const float *z, int D)
{
    double s = 0;
    for (int k = 0; k < D; k++)
        s += (double)z[k] * z[k];
    return sqrt(s);
}

xfiq_status plq_l2norm_backward(const float *z, const float *g, int D, float *out_dz)
{
    XFIQ_TRY(plq_check(z, D, "raw embedding"));
    if (!g || !out_dz)
        return xfiq_error(XFIQ_ERR_ARG, "plq: L2 backward needs an incoming gradient and an output");
    double n = plq_norm(z, D);
    if (n == 0.0)
        return xfiq_error(XFIQ_ERR_ARG, "plq: embedding is all zeros; its normalisation has no gradient");
    double dot = 0;
    for (int k = 0; k < D; k++)
        dot += (z[k] / n) * g[k];
    for (int k = 0; k < D; k++)
        out_dz[k] = xfiq_l2norm_backward(g[k], (float)(z[k] / n), (float)dot, (float)(1.0 / n));
    return XFIQ_OK;
}

xfiq_status plq_regression_seed(plq_mode mode, const float *z, int D, double Q, float *out_seed,
                                plq_regress_info *info)
{
    XFIQ_TRY(plq_check(z, D, "raw embedding"));
    if (!out_seed)
        return xfiq_error(XFIQ_ERR_ARG, "plq: output seed is NULL");
    if (mode != PLQ_MODE_PAPER && mode != PLQ_MODE_SIGNED && mode != PLQ_MODE_MAGNITUDE)
        return xfiq_error(XFIQ_ERR_ARG, "plq: unknown regression mode %d", (int)mode);
    double n = plq_norm(z, D);
    if (n == 0.0)
        return xfiq_error(XFIQ_ERR_ARG, "plq: embedding is all zeros; no regression direction");
    /* Everything in double from z: sum(e) of the paper mode can be far
     * smaller than the rounding of a float e, so e is never rounded here. */
    double denom = 0;
    for (int k = 0; k < D; k++)
        denom += xfiq_plq_denom_term((int)mode, z[k] / n);
    if (mode == PLQ_MODE_MAGNITUDE)
        denom = n;
    if (denom == 0.0)
        return xfiq_error(XFIQ_ERR_ARG, "plq: %s regression weight undefined: denominator is 0",
                          plq_mode_name(mode));
    const double w = Q / denom;
    /* seed_e = w * (1 or sign(e)); seed_z = (seed_e - e (e . seed_e)) / ||z|| (MAGNITUDE: w e on z). */
    double dot = 0;
    if (mode != PLQ_MODE_MAGNITUDE)
        for (int k = 0; k < D; k++) {
            double e = z[k] / n;
            dot += e * xfiq_plq_seed_dir((int)mode, e, w);
        }
    for (int k = 0; k < D; k++)
        out_seed[k] = xfiq_plq_seed_value((int)mode, z[k] / n, w, dot, n);
    if (info) {
        info->denom = denom;
        info->weight = w;
        info->unstable = mode == PLQ_MODE_PAPER && fabs(denom) < PLQ_PAPER_UNSTABLE_SUM;
    }
    return XFIQ_OK;
}
