/* plq_map.h - the PLQ map of one image from its pixel gradient (SPEC 4):
 * m = mean over colour channels of |dQhat/dpixel| (8-bit units), P = 1 -
 * 1/(1 + a m^b), and summaries of P over a face region. */
#ifndef XFIQ_QUALITY_PLQ_MAP_H
#define XFIQ_QUALITY_PLQ_MAP_H

#include <stdint.h>

#include "xfiq.h"

#define PLQ_DEFAULT_A 31622776.601683795f /* 10^7.5, the published constant */
#define PLQ_DEFAULT_B 2.0f

/* grad (C x H x W, planar, derivative per 8-bit pixel unit) -> m (H x W, may
 * be NULL) and P (H x W, may be NULL). C >= 1; a >= 0, b > 0. */
xfiq_status plq_map_compute(const float *grad, int C, int H, int W, float a, float b,
                            float *m_out, float *p_out);

/* Mean of map (H x W) over the pixels where mask != 0 (mask NULL: all
 * pixels), in double. NaN when the region is empty. */
double plq_map_mean(const float *map, int H, int W, const uint8_t *mask);

/* Default face region of an aligned face (ArcFace 112 x 112 template, any
 * size by scaling): the ellipse centred at (0.50 W, 0.57 H) with semi-axes
 * 0.36 W and 0.46 H, which covers brows to chin and cheek to cheek and
 * leaves out the corners (background, hair). mask (H x W): 1 inside, 0 out. */
void plq_face_mask_default(int H, int W, uint8_t *mask);

/* Map constant a that puts P = 0.5 at gradient magnitude m_ref: a = m_ref^-b. */
double plq_calibrate_a(double m_ref, double b);

#endif
