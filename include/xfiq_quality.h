/* xfiq_quality.h - public C API for SER-FIQ quality, PLQ explanation maps
 * and per-model calibration (SPEC 3, 4). Same conventions as xfiq.h: every
 * call returns an xfiq_status with xfiq_last_error(); calls on one model must
 * not run concurrently.
 *
 * Reproducibility: dropout masks come from Philox4x32-10 keyed by (seed,
 * image id, pass, element). The image id is the caller's: the CLI uses the
 * 0-based index of the image in the job's input list, so a result depends on
 * (seed, position in the list, pixels) and not on the batch size or the
 * number of threads. */
#ifndef XFIQ_QUALITY_H
#define XFIQ_QUALITY_H

#include <stdint.h>

#include "xfiq.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xfiq_serfiq_opts {
    int T;               /* stochastic passes (100) */
    float p;             /* dropout rate (0.5) */
    int channel_wise;    /* 0: element-wise masks (default); 1: one decision per channel */
    double alpha, r;     /* scaling Q = sigmoid(alpha (q_raw - r)) */
    uint64_t seed;       /* Philox key (0) */
} xfiq_serfiq_opts;

typedef enum xfiq_plq_mode {
    XFIQ_PLQ_PAPER = 0,     /* published: w = Q / sum(e) (unstable when sum(e) ~ 0) */
    XFIQ_PLQ_SIGNED = 1,    /* w = Q / ||e||_1 on the direction sign(e): never vanishes (default) */
    XFIQ_PLQ_MAGNITUDE = 2  /* regression on the raw embedding along its own direction */
} xfiq_plq_mode;

typedef struct xfiq_plq_opts {
    xfiq_serfiq_opts serfiq;
    xfiq_plq_mode mode;
    double a, b;         /* P = 1 - 1/(1 + a m^b) */
} xfiq_plq_opts;

/* Per-image results. */
typedef struct xfiq_quality {
    float serfiq_raw;    /* 2 / (1 + exp(d)) */
    float serfiq;        /* scaled with alpha, r */
    float magnitude;     /* ||z|| of the deterministic embedding */
    float sum_e;         /* sum of the normalised embedding (the paper's regression denominator) */
    float mean_plq;      /* mean P over the default face region (PLQ calls only) */
    int unstable;        /* paper mode: |sum(e)| < 0.1, the map scale is arbitrary */
} xfiq_quality;

/* Defaults: T 100, p 0.5, element-wise, seed 0; alpha, r and the PLQ mode,
 * a, b from the model card's calibration when it has one, else the published
 * alpha 130, r 0.88, a 10^7.5, b 2 and mode SIGNED. published = 1 forces the
 * published constants (and PAPER mode). */
void xfiq_serfiq_opts_default(xfiq_model_t m, int published, xfiq_serfiq_opts *o);
/* 1 when the model's card carries a calibration (`xfiq calibrate`): the card
 * beside the file, the one given, or a known model's card found by the
 * file's sha256. 0 means the defaults above use the published constants. */
int xfiq_model_is_calibrated(xfiq_model_t m);
/* Where the model's card came from: its path, "built-in card models/NAME"
 * or "defaults for FAMILY". Owned by the model. */
const char *xfiq_model_card_source(xfiq_model_t m);
void xfiq_plq_opts_default(xfiq_model_t m, int published, xfiq_plq_opts *o);
const char *xfiq_plq_mode_name(xfiq_plq_mode mode);
xfiq_status xfiq_plq_mode_parse(const char *name, xfiq_plq_mode *mode);

/* SER-FIQ of n aligned faces (pixels as for xfiq_model_embed). ids: n image
 * ids (NULL: 0..n-1). out: n results (mean_plq = NaN). embeddings (may be
 * NULL): n x D deterministic raw embeddings. The network runs once per image
 * up to the embedding layer; the T dropout passes of the head run as one
 * GEMM over the batch. */
/* Several devices (xfiq_pool_t of xfiq.h): the images are split into
 * contiguous parts run concurrently, one per model of the pool; ids NULL
 * means 0..n-1 for the whole call, so masks do not depend on the split. */
xfiq_status xfiq_pool_serfiq(xfiq_pool_t p, const uint8_t *pixels, int n, const uint64_t *ids,
                             const xfiq_serfiq_opts *o, xfiq_quality *out, float *embeddings);
xfiq_status xfiq_pool_plq(xfiq_pool_t p, const uint8_t *pixels, int n, const uint64_t *ids,
                          const xfiq_plq_opts *o, xfiq_quality *out, float *maps, float *grad_mag);

xfiq_status xfiq_model_serfiq(xfiq_model_t m, const uint8_t *pixels, int n, const uint64_t *ids,
                              const xfiq_serfiq_opts *o, xfiq_quality *out, float *embeddings);

/* PLQ maps: SER-FIQ as above, then the gradient of the quality regression
 * back to the 8-bit pixels. maps: n x H x W values P in [0,1] (model input
 * size); grad_mag (may be NULL): n x H x W mean |dQhat/dpixel| over the
 * colour channels. */
xfiq_status xfiq_model_plq(xfiq_model_t m, const uint8_t *pixels, int n, const uint64_t *ids,
                           const xfiq_plq_opts *o, xfiq_quality *out, float *maps, float *grad_mag);

/* Relative PLQ maps (xfiq's addition; the absolute map above is the
 * published definition): an attribution, gradient x input against a blurred
 * baseline, normalised by the face's own median. A = m * d with m the
 * gradient magnitude that xfiq_model_plq returns in grad_mag and d the mean
 * over colour channels of |I - blur(I)|, blur the mean of the
 * (2R+1) x (2R+1) window clipped at the borders (R =
 * XFIQ_PLQ_RELATIVE_BASELINE_RADIUS): to first order, how much Qhat moves
 * when the pixel loses its local detail, so a pixel that carries no detail
 * (a flat occluder) explains nothing. P_rel = 1 - 1/(1 + (A / A_med)^b),
 * A_med the median of A over the image's default face region (the ellipse
 * of the aligned face): 0.5 there whatever the overall quality (the
 * absolute map of a low-quality face is uniformly red because its gradient
 * scales with Q; P_rel does not change when m is scaled). README: chosen by
 * occlusion measurements. grad_mag, maps: n x H x W; pixels: the n x H x W x
 * C uint8 faces given to xfiq_model_plq; medians (may be NULL): n values
 * A_med. b > 0 (the card's b, 2). */
#define XFIQ_PLQ_RELATIVE_BASELINE_RADIUS 1
xfiq_status xfiq_plq_relative_map(const float *grad_mag, const uint8_t *pixels, int n, int H, int W, int C,
                                  double b, float *maps, float *medians);

/* Calibration from reference faces (SPEC 4.1): r = median raw SER-FIQ, alpha
 * the smallest value putting the 5th/95th percentiles at <= 0.1 / >= 0.9,
 * and a such that P = 0.5 at the median face-region pixel gradient of mode. */
typedef struct xfiq_calibration {
    double serfiq_alpha, serfiq_r;
    double plq_a, plq_b;
    xfiq_plq_mode plq_mode;
    int n_faces;
    double q_raw_p5, q_raw_p50, q_raw_p95, grad_median;
} xfiq_calibration;

xfiq_status xfiq_model_calibrate(xfiq_model_t m, const uint8_t *pixels, int n, const uint64_t *ids,
                                 const xfiq_plq_opts *o, xfiq_calibration *out);
/* Uses cal from now on (as if it were in the card). */
xfiq_status xfiq_model_set_calibration(xfiq_model_t m, const xfiq_calibration *cal);
/* Writes the model's card, with its calibration and a note of the reference
 * set, as JSON to path (atomically). */
xfiq_status xfiq_model_save_card(xfiq_model_t m, const char *path, const char *reference_note);

#ifdef __cplusplus
}
#endif
#endif
