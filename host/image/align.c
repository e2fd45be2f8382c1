/* align.c - 5-point similarity alignment to the ArcFace template, affine
 * warping, and xfiq_image_prepare (the one entry point the engine uses). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "image/image_internal.h"

/* insightface's arcface_dst for 112x112 (left eye, right eye, nose, mouth L/R). */
static const float k_arcface_112[5][2] = {
    {38.2946f, 51.6963f}, {73.5318f, 51.5014f}, {56.0252f, 71.7366f},
    {41.5493f, 92.3655f}, {70.7299f, 92.2041f},
};

void xfiq_align_template(int out_w, int out_h, xfiq_landmarks *out)
{
    double sx = out_w / 112.0, sy = out_h / 112.0, dx = 0.0;
    if (out_w == out_h && out_w % 112 != 0 && out_w % 128 == 0) {
        /* insightface's 128-pixel variant: scale by size/128, shift by 8 px at 128. */
        sx = sy = out_w / 128.0;
        dx = 8.0 * sx;
    }
    for (int k = 0; k < 5; k++) {
        out->pt[k][0] = (float)(k_arcface_112[k][0] * sx + dx);
        out->pt[k][1] = (float)(k_arcface_112[k][1] * sy);
    }
}

/* Umeyama (1991) with scaling, specialised to 2-D: with centred points
 * p_i (source) and q_i (destination), the optimal scaled rotation
 * [[a, -b], [b, a]] is a = sum(p.q) / sum|p|^2, b = sum(p x q) / sum|p|^2;
 * the SVD form reduces to this because every 2x2 scaled rotation is
 * [[a, -b], [b, a]] and the objective is quadratic in (a, b). */
xfiq_status xfiq_similarity_estimate(const float (*src)[2], const float (*dst)[2], int n,
                                     double m[6])
{
    if (!src || !dst || !m || n < 2)
        return xfiq_error(XFIQ_ERR_ARG, "similarity estimate needs at least 2 point pairs (got %d)", n);
    double ms[2] = {0, 0}, md[2] = {0, 0};
    for (int i = 0; i < n; i++) {
        if (!isfinite(src[i][0]) || !isfinite(src[i][1]) || !isfinite(dst[i][0]) ||
            !isfinite(dst[i][1]))
            return xfiq_error(XFIQ_ERR_ARG, "similarity estimate: point %d is not finite", i + 1);
        ms[0] += src[i][0], ms[1] += src[i][1];
        md[0] += dst[i][0], md[1] += dst[i][1];
    }
    ms[0] /= n, ms[1] /= n, md[0] /= n, md[1] /= n;
    double var = 0, dot = 0, crs = 0;
    for (int i = 0; i < n; i++) {
        double px = src[i][0] - ms[0], py = src[i][1] - ms[1];
        double qx = dst[i][0] - md[0], qy = dst[i][1] - md[1];
        var += px * px + py * py;
        dot += px * qx + py * qy;
        crs += px * qy - py * qx;
    }
    /* Below a hundredth of a pixel the points coincide for every purpose. */
    if (var < 1e-4 * n)
        return xfiq_error(XFIQ_ERR_ARG, "similarity estimate: the source points coincide");
    double a = dot / var, b = crs / var;
    m[0] = a;
    m[1] = -b;
    m[2] = md[0] - (a * ms[0] - b * ms[1]);
    m[3] = b;
    m[4] = a;
    m[5] = md[1] - (b * ms[0] + a * ms[1]);
    return XFIQ_OK;
}

xfiq_status xfiq_image_warp_affine(const xfiq_image *img, const double m[6], int out_w,
                                   int out_h, uint8_t *out)
{
    if (!img || !img->data || img->width <= 0 || img->height <= 0 ||
        (img->channels != 1 && img->channels != 3) || !m || !out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_image_warp_affine: invalid arguments");
    if (out_w <= 0 || out_h <= 0 || out_w > XFIQ_IMAGE_MAX_SIDE || out_h > XFIQ_IMAGE_MAX_SIDE)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_image_warp_affine: bad output size %dx%d", out_w, out_h);
    double det = m[0] * m[4] - m[1] * m[3];
    if (!isfinite(det) || fabs(det) < 1e-12)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_image_warp_affine: transform is not invertible");
    /* Inverse mapping: each output pixel samples the source. */
    double ia = m[4] / det, ib = -m[1] / det, ic = -m[3] / det, id = m[0] / det;
    double itx = -(ia * m[2] + ib * m[5]), ity = -(ic * m[2] + id * m[5]);
    const int c = img->channels, w = img->width, h = img->height;
    const uint8_t *px = img->data;
    for (int y = 0; y < out_h; y++) {
        uint8_t *orow = out + (size_t)y * out_w * c;
        for (int x = 0; x < out_w; x++) {
            double sx = ia * x + ib * y + itx, sy = ic * x + id * y + ity;
            uint8_t *o = orow + (size_t)x * c;
            if (!(sx > -1.0 && sy > -1.0 && sx < w && sy < h)) {
                memset(o, 0, (size_t)c);
                continue;
            }
            int x0 = (int)floor(sx), y0 = (int)floor(sy);
            double fx = sx - x0, fy = sy - y0;
            double wt[4] = {(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy};
            int xs[4] = {x0, x0 + 1, x0, x0 + 1}, ys[4] = {y0, y0, y0 + 1, y0 + 1};
            double acc[3] = {0, 0, 0};
            for (int k = 0; k < 4; k++) {
                if (xs[k] < 0 || ys[k] < 0 || xs[k] >= w || ys[k] >= h)
                    continue; /* black border */
                const uint8_t *s = px + ((size_t)ys[k] * w + xs[k]) * c;
                for (int ch = 0; ch < c; ch++)
                    acc[ch] += wt[k] * s[ch];
            }
            for (int ch = 0; ch < c; ch++) {
                double v = acc[ch] + 0.5;
                o[ch] = v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)v;
            }
        }
    }
    return XFIQ_OK;
}

static xfiq_status landmarks_check(const xfiq_image *img, const xfiq_landmarks *lm)
{
    for (int k = 0; k < 5; k++) {
        double x = lm->pt[k][0], y = lm->pt[k][1];
        if (!isfinite(x) || !isfinite(y))
            return xfiq_error(XFIQ_ERR_ARG, "landmark %d is not finite", k + 1);
        /* Faces may reach past the frame, but not by a whole image: such
         * points belong to another image or another scale. */
        if (x < -img->width || x > 2.0 * img->width || y < -img->height || y > 2.0 * img->height)
            return xfiq_error(XFIQ_ERR_ARG, "landmark %d (%.1f, %.1f) is far outside the %dx%d image",
                              k + 1, x, y, img->width, img->height);
    }
    return XFIQ_OK;
}

xfiq_status xfiq_image_prepare(const xfiq_image *img, const xfiq_landmarks *lm, int out_w,
                               int out_h, uint8_t *out_rgb)
{
    if (!img || !img->data || img->width <= 0 || img->height <= 0 ||
        (img->channels != 1 && img->channels != 3) || !out_rgb)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_image_prepare: invalid image or output");
    if (out_w <= 0 || out_h <= 0 || out_w > XFIQ_IMAGE_MAX_SIDE || out_h > XFIQ_IMAGE_MAX_SIDE)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_image_prepare: bad output size %dx%d", out_w, out_h);
    double m[6];
    if (lm) {
        XFIQ_TRY(landmarks_check(img, lm));
        xfiq_landmarks tpl;
        xfiq_align_template(out_w, out_h, &tpl);
        XFIQ_TRY(xfiq_similarity_estimate((const float(*)[2])lm->pt, (const float(*)[2])tpl.pt, 5, m));
    }
    /* Colour images go straight into the output; grey ones through a plane. */
    uint8_t *dst = out_rgb, *grey = NULL;
    size_t npix = (size_t)out_w * out_h;
    if (img->channels == 1) {
        grey = malloc(npix);
        if (!grey)
            return xfiq_error(XFIQ_ERR_NOMEM, "xfiq_image_prepare: out of memory");
        dst = grey;
    }
    xfiq_status st = lm ? xfiq_image_warp_affine(img, m, out_w, out_h, dst)
                        : xfiq_image_resize(img, out_w, out_h, dst);
    if (st == XFIQ_OK && grey)
        xfiq_grey_to_rgb(grey, npix, out_rgb);
    free(grey);
    return st;
}
