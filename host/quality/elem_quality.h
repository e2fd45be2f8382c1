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

/* The quality Q the PLQ regression reproduces: the published (float) scaled
 * SER-FIQ of the image, as a double. */
static inline XFIQ_HD double xfiq_plq_target(double q) { return (double)(float)q; }

/* PLQ quality regression (quality/plq_regress.h), one element at a time, in
 * double from the raw embedding z with e = z/||z|| (mode: plq_mode, 0 PAPER,
 * 1 SIGNED, 2 MAGNITUDE). The regression's denominator is the sum of
 * xfiq_plq_denom_term over the elements (MAGNITUDE: ||z|| instead). */
static inline XFIQ_HD double xfiq_plq_denom_term(int mode, double e)
{
    return mode == 0 ? e : mode == 1 ? fabs(e) : 0.0;
}

/* Seed on e of one element for weight w = Q / denom: the paper's all-ones
 * direction or its sign-corrected form. */
static inline XFIQ_HD double xfiq_plq_seed_dir(int mode, double e, double w)
{
    return mode == 0 ? w : e > 0 ? w : e < 0 ? -w : 0.0;
}

/* Seed on z of one element: MAGNITUDE w e; else the seed on e pushed
 * through the L2 normalisation, (v - e (e . v)) / ||z|| with dot = e . v. */
static inline XFIQ_HD float xfiq_plq_seed_value(int mode, double e, double w, double dot, double norm)
{
    return mode == 2 ? (float)(w * e) : (float)((xfiq_plq_seed_dir(mode, e, w) - e * dot) / norm);
}

/* Gradient per 8-bit pixel unit of pixel channel pc (0 R, 1 G, 2 B) from the
 * model-input gradient gx (planar, channels of the model's order) at plane
 * offset p, plane size hw: the card's scaling is part of the chain rule
 * (order: 0 RGB, 1 BGR, 2 GREY with BT.601 luma weights). */
static inline XFIQ_HD float xfiq_plq_pixel_grad(int order, const float *gx, size_t hw, size_t p, int pc,
                                                float s0, float s1, float s2)
{
    if (order == 2) {
        const float luma = pc == 0 ? 0.299f : pc == 1 ? 0.587f : 0.114f;
        return luma * s0 * gx[p];
    }
    const int ch = order == 1 ? 2 - pc : pc;
    const float s = ch == 0 ? s0 : ch == 1 ? s1 : s2;
    return s * gx[(size_t)ch * hw + p];
}

/* PLQ m of one pixel: mean over the C planes of |g| (C = 3 pixel channels),
 * summed in plane order in float as plq_map_compute does. */
static inline XFIQ_HD float xfiq_plq_mean_abs3(float g0, float g1, float g2)
{
    float s = 0.0f;
    s += fabsf(g0);
    s += fabsf(g1);
    s += fabsf(g2);
    return s * (1.0f / 3.0f);
}

/* Backward-data of the L2 normalisation e = z/||z||, one element:
 * dz_k = (g_k - e_k * (e . g)) / ||z||, with dot = e . g and inv_norm = 1/||z||
 * computed once per vector. */
static inline XFIQ_HD float xfiq_l2norm_backward(float g, float e, float dot, float inv_norm)
{
    return (g - e * dot) * inv_norm;
}

#endif
