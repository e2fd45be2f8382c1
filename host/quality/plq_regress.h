/* plq_regress.h - the sample-specific quality regression of PLQ (SPEC 4,
 * step 1) in its published and stable forms: the backward seed that the
 * engine pushes from the embedding back to the pixels.
 *
 * Every mode defines a linear unit Qhat on the embedding whose value at the
 * image equals the scaled quality Q; the gradient dQhat/dI is what the map
 * shows. Notation: z = raw embedding (network output), e = z/||z||, e0 and
 * z0 their values at the image (constants of the unit).
 *
 *  PAPER      Qhat = w sum_k e_k, w = Q / sum_k e0_k (Terhorst et al.).
 *             Seed on e: w * 1. Unstable: sum(e0) is centred on 0 for some
 *             models (SPEC 4.1), so w explodes and flips sign.
 *  SIGNED     Qhat = Q (s . e) / (s . e0), s = sign(e0) (frozen).
 *             The paper's all-ones direction with each coordinate's sign
 *             flipped to agree with e0, so the denominator is ||e0||_1,
 *             which is >= ||e0||_2 = 1 and typically ~0.8 sqrt(D); it never
 *             vanishes. Seed on e: Q s / ||e0||_1.
 *  MAGNITUDE  Qhat = Q (e0 . z) / ||z0||: the regression on the image's own
 *             direction, applied to the raw embedding. Denominator ||z0||
 *             (the magnitude, > 0 for any image the model embeds). Seed on
 *             z (not e): Q e0 / ||z0||. Needs a model whose output is not
 *             already normalised (otherwise the seed is ~0; info->denom
 *             = ||z0|| = 1 shows it).
 *
 * Not offered: the own direction on the NORMALISED embedding,
 * Qhat = Q (e0 . e). Its value is Q, but the L2 normalisation's Jacobian
 * J = (I - e e^T)/||z|| maps e0 to zero at the image (J^T e0 = 0: e0 . e is
 * a cosine at its maximum), so its gradient vanishes identically. */
#ifndef XFIQ_QUALITY_PLQ_REGRESS_H
#define XFIQ_QUALITY_PLQ_REGRESS_H

#include "xfiq.h"

typedef enum plq_mode {
    PLQ_MODE_PAPER = 0,
    PLQ_MODE_SIGNED = 1,
    PLQ_MODE_MAGNITUDE = 2
} plq_mode;

/* |sum(e0)| below this flags a PAPER-mode weight as unstable (SPEC 4.1:
 * 8% of LFW faces for the default model). */
#define PLQ_PAPER_UNSTABLE_SUM 0.1

typedef struct plq_regress_info {
    double denom;   /* PAPER: sum(e0); SIGNED: ||e0||_1; MAGNITUDE: ||z0|| */
    double weight;  /* scale of the seed: Q / denom */
    int unstable;   /* PAPER only: 1 when |denom| < PLQ_PAPER_UNSTABLE_SUM */
} plq_regress_info;

/* Short lower-case name ("paper", "signed", "magnitude"); NULL if unknown. */
const char *plq_mode_name(plq_mode mode);
/* Parses a name of plq_mode_name; XFIQ_ERR_ARG when unknown. */
xfiq_status plq_mode_parse(const char *name, plq_mode *mode);

/* Seed on the normalised embedding e (D floats, unit norm): out_v = dQhat/de.
 * Only for the modes defined on e (PAPER, SIGNED); MAGNITUDE -> ARG. info
 * may be NULL. A zero denominator gives ARG (the weight does not exist). */
xfiq_status plq_regression_weights(plq_mode mode, const float *e, int D, double Q, float *out_v,
                                   plq_regress_info *info);

/* Seed on the raw embedding z (what the engine's backward-data starts from):
 * out_seed = dQhat/dz for every mode, i.e. the seed on e pushed through the
 * L2 normalisation's backward for PAPER and SIGNED. Computed in double from
 * z (e is never rounded to float), so even a PAPER denominator far below
 * float resolution is exact to ~1e-15. */
xfiq_status plq_regression_seed(plq_mode mode, const float *z, int D, double Q, float *out_seed,
                                plq_regress_info *info);

/* Backward-data of e = z/||z||: dz = (g - e (e . g)) / ||z||. ||z|| == 0 -> ARG. */
xfiq_status plq_l2norm_backward(const float *z, const float *g, int D, float *out_dz);

#endif
