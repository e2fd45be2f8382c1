/* elem_eval.h - per-element formulas of the evaluation suite, written once:
 * the CPU scoring loops include them, and a CUDA epilogue kernel can include
 * them too (XFIQ_HD marks them host + device under nvcc). */
#ifndef XFIQ_EVAL_ELEM_EVAL_H
#define XFIQ_EVAL_ELEM_EVAL_H

#include "ops/elem.h"

/* QMagFace score: s + min(0, beta * s - alpha) * q. The correction vanishes
 * for s >= alpha / beta; q is the smaller magnitude of the two samples. */
static inline XFIQ_HD double xfiq_qmag_elem(double s, double q, double alpha, double beta)
{
    double omega = beta * s - alpha;
    if (omega > 0.0)
        omega = 0.0;
    return s + omega * q;
}

static inline XFIQ_HD float xfiq_qmag_elem_f(float s, float q, float alpha, float beta)
{
    float omega = beta * s - alpha;
    if (omega > 0.0f)
        omega = 0.0f;
    return s + omega * q;
}

/* Pair quality of two samples: the weaker one decides. */
static inline XFIQ_HD double xfiq_pair_quality(double qa, double qb) { return qa < qb ? qa : qb; }

static inline XFIQ_HD float xfiq_pair_quality_f(float qa, float qb) { return qa < qb ? qa : qb; }

#endif
