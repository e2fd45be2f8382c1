/* plq_map.c - PLQ map from a pixel gradient, its face-region mean, and the
 * relative map (gradient x local detail over the face's median). */
#include "quality/plq_map.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "quality/elem_quality.h"
#include "xfiq_quality.h"

xfiq_status plq_map_compute(const float *grad, int C, int H, int W, float a, float b,
                            float *m_out, float *p_out)
{
    if (!grad)
        return xfiq_error(XFIQ_ERR_ARG, "plq_map: gradient is NULL");
    if (C <= 0 || H <= 0 || W <= 0)
        return xfiq_error(XFIQ_ERR_SHAPE, "plq_map: bad gradient shape %d x %d x %d", C, H, W);
    if (!(a >= 0.0f) || !(b > 0.0f) || isinf(a) || isinf(b))
        return xfiq_error(XFIQ_ERR_ARG, "plq_map: constants a = %g, b = %g (need finite a >= 0, b > 0)",
                          (double)a, (double)b);
    const size_t plane = (size_t)H * W;
    const float inv_c = 1.0f / (float)C;
    for (size_t i = 0; i < plane; i++) {
        float s = 0.0f;
        for (int c = 0; c < C; c++)
            s += fabsf(grad[(size_t)c * plane + i]);
        float m = s * inv_c;
        if (m_out)
            m_out[i] = m;
        if (p_out)
            p_out[i] = xfiq_plq_value(m, a, b);
    }
    return XFIQ_OK;
}

double plq_map_mean(const float *map, int H, int W, const uint8_t *mask)
{
    double s = 0;
    size_t n = 0;
    for (size_t i = 0; i < (size_t)H * W; i++)
        if (!mask || mask[i]) {
            s += map[i];
            n++;
        }
    return n ? s / (double)n : NAN;
}

void plq_face_mask_default(int H, int W, uint8_t *mask)
{
    const double cx = 0.50 * W, cy = 0.57 * H, rx = 0.36 * W, ry = 0.46 * H;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double u = (x + 0.5 - cx) / rx, v = (y + 0.5 - cy) / ry;
            mask[(size_t)y * W + x] = u * u + v * v <= 1.0;
        }
}

double plq_calibrate_a(double m_ref, double b)
{
    return pow(m_ref, -b);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

xfiq_status xfiq_plq_relative_map(const float *grad_mag, const uint8_t *pixels, int n, int H, int W, int C,
                                  double b, float *maps, float *medians)
{
    if (!grad_mag || !pixels || !maps || n < 0 || H <= 0 || W <= 0 || C <= 0)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_plq_relative_map: needs grad_mag, pixels, maps, n >= 0 and "
                                        "H, W, C >= 1 (got n %d, %d x %d x %d)", n, H, W, C);
    if (!(b > 0.0) || isinf(b))
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_plq_relative_map: exponent b = %g (need finite b > 0)", b);
    const size_t hw = (size_t)H * (size_t)W;
    uint8_t *mask = malloc(hw);
    float *v = malloc(hw * sizeof *v), *attr = malloc(hw * sizeof *attr);
    double *t = malloc(hw * sizeof *t), *d = malloc(hw * sizeof *d);
    if (!mask || !v || !attr || !t || !d) {
        free(mask);
        free(v);
        free(attr);
        free(t);
        free(d);
        return xfiq_error(XFIQ_ERR_NOMEM, "xfiq_plq_relative_map: out of memory for a %d x %d map", H, W);
    }
    plq_face_mask_default(H, W, mask);
    const int R = XFIQ_PLQ_RELATIVE_BASELINE_RADIUS;
    for (int i = 0; i < n; i++) {
        /* d = mean over channels of |I - blur(I)|, blur the mean of the
         * (2R+1)^2 window clipped to the image (two separable passes) */
        const uint8_t *px = pixels + (size_t)i * hw * (size_t)C;
        memset(d, 0, hw * sizeof *d);
        for (int c = 0; c < C; c++) {
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    int x0 = x - R < 0 ? 0 : x - R, x1 = x + R >= W ? W - 1 : x + R;
                    double acc = 0;
                    for (int u = x0; u <= x1; u++)
                        acc += px[((size_t)y * W + u) * C + c];
                    t[(size_t)y * W + x] = acc / (x1 - x0 + 1);
                }
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    int y0 = y - R < 0 ? 0 : y - R, y1 = y + R >= H ? H - 1 : y + R;
                    double acc = 0;
                    for (int u = y0; u <= y1; u++)
                        acc += t[(size_t)u * W + x];
                    d[(size_t)y * W + x] += fabs(px[((size_t)y * W + x) * C + c] - acc / (y1 - y0 + 1));
                }
        }
        const float *g = grad_mag + (size_t)i * hw;
        for (size_t p = 0; p < hw; p++)
            attr[p] = (float)(fabs((double)g[p]) * d[p] / C);
        size_t k = 0;
        for (size_t p = 0; p < hw; p++)
            if (mask[p])
                v[k++] = attr[p];
        if (!k) /* a map too small for the face ellipse: the whole image */
            for (size_t p = 0; p < hw; p++)
                v[k++] = attr[p];
        qsort(v, k, sizeof *v, cmp_float);
        /* median as numpy: the mean of the two middle values for an even count */
        double med = k % 2 ? (double)v[k / 2] : 0.5 * ((double)v[k / 2 - 1] + (double)v[k / 2]);
        if (medians)
            medians[i] = (float)med;
        float *out = maps + (size_t)i * hw;
        for (size_t p = 0; p < hw; p++) {
            double a = attr[p];
            double x = med > 0.0 ? pow(a / med, b) : (a > 0.0 ? INFINITY : 1.0);
            out[p] = (float)(isinf(x) ? 1.0 : x / (1.0 + x));
        }
    }
    free(mask);
    free(v);
    free(attr);
    free(t);
    free(d);
    return XFIQ_OK;
}
