/* elem_quality.h - the per-element formulas of SER-FIQ and PLQ (and the
 * backward-data rules they need), written once in plain C for the CPU code
 * and the CUDA kernels (XFIQ_HD). The vector routines in host/quality/ (serfiq.c, plq_map.c, ...)
 * and the engine's backward pass call these, never their own copies. */
#ifndef XFIQ_QUALITY_ELEM_QUALITY_H
#define XFIQ_QUALITY_ELEM_QUALITY_H

#include <math.h>

#include "ops/elem.h"

/* Inverted dropout: x times the mask value m = keep ? 1/(1-p) : 0, with
 * 1/(1-p) computed once in float by the caller (as PyTorch does: x * mask,
 * so a NaN/inf activation stays NaN when dropped, and no branch on keep). */
static inline XFIQ_HD float xfiq_dropout_mask(int keep, float scale)
{
    return keep ? scale : 0.0f;
}

static inline XFIQ_HD float xfiq_dropout_apply(int keep, float x, float scale)
{
    return x * xfiq_dropout_mask(keep, scale);
}

/* Multiplier of inverted dropout with drop rate p, in float. */
static inline XFIQ_HD float xfiq_dropout_scale(float p)
{
    return 1.0f / (1.0f - p);
}

/* SER-FIQ raw quality from the mean pairwise distance d: 2/(1+exp(d)) = 2*sigmoid(-d). */
static inline XFIQ_HD double xfiq_serfiq_raw(double d)
{
    return 2.0 / (1.0 + exp(d));
}

/* Scaled SER-FIQ quality: sigmoid(alpha * (q_raw - r)). */
static inline XFIQ_HD double xfiq_serfiq_scaled(double q_raw, double alpha, double r)
{
    return 1.0 / (1.0 + exp(-alpha * (q_raw - r)));
}

/* PLQ map value of a pixel with mean absolute gradient m (8-bit units):
 * P = 1 - 1/(1 + a*m^b), written as t/(1+t) with t = a*m^b so that small
 * values keep their precision; t beyond 1e30 (incl. inf) gives exactly 1,
 * NaN stays NaN. */
static inline XFIQ_HD float xfiq_plq_value(float m, float a, float b)
{
    float t = a * powf(m, b);
    return t > 1e30f ? 1.0f : t / (1.0f + t);
}

/* Backward-data of ReLU: dx = dy where the forward input (or output) was > 0. */
static inline XFIQ_HD float xfiq_relu_backward(float x, float dy)
{
    return x > 0.0f ? dy : 0.0f;
}

/* Backward-data of PReLU (forward: x > 0 ? x : slope*x, see ops/elem.h): at
 * x == 0 the slope branch is taken, as in the forward and in PyTorch. */
static inline XFIQ_HD float xfiq_prelu_backward(float x, float slope, float dy)
{
    return x > 0.0f ? dy : slope * dy;
}

/* Backward-data of the fused activation of ops/elem.h (x = pre-activation). */
static inline XFIQ_HD float xfiq_act_backward(int act, float x, float slope, float dy)
{
    return act == XFIQ_ACT_RELU ? xfiq_relu_backward(x, dy)
         : act == XFIQ_ACT_PRELU ? xfiq_prelu_backward(x, slope, dy) : dy;
}

/* Backward-data of the L2 normalisation e = z/||z||, one element:
 * dz_k = (g_k - e_k * (e . g)) / ||z||, with dot = e . g and inv_norm = 1/||z||
 * computed once per vector. */
static inline XFIQ_HD float xfiq_l2norm_backward(float g, float e, float dot, float inv_norm)
{
    return (g - e * dot) * inv_norm;
}

#endif
