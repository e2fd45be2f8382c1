/* convert.c - grey to RGB and separable resizing (bilinear up, area down). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "image/image_internal.h"

void xfiq_grey_to_rgb(const uint8_t *grey, size_t npixels, uint8_t *rgb)
{
    for (size_t i = 0; i < npixels; i++) {
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i];
    }
}

static xfiq_status image_check(const xfiq_image *img, const char *fn)
{
    if (!img || !img->data || img->width <= 0 || img->height <= 0 ||
        (img->channels != 1 && img->channels != 3))
        return xfiq_error(XFIQ_ERR_ARG, "%s: invalid image (%dx%d, %d channels)", fn,
                          img ? img->width : 0, img ? img->height : 0, img ? img->channels : 0);
    return XFIQ_OK;
}

xfiq_status xfiq_image_to_rgb(const xfiq_image *img, xfiq_image *out)
{
    XFIQ_TRY(image_check(img, "xfiq_image_to_rgb"));
    size_t n = (size_t)img->width * img->height;
    xfiq_image r = {malloc(n * 3), img->width, img->height, 3, 0};
    if (!r.data)
        return xfiq_error(XFIQ_ERR_NOMEM, "xfiq_image_to_rgb: out of memory for %dx%d",
                          img->width, img->height);
    if (img->channels == 3)
        memcpy(r.data, img->data, n * 3);
    else
        xfiq_grey_to_rgb(img->data, n, r.data);
    *out = r;
    return XFIQ_OK;
}

/* One output sample = sum of w[k] * in[first + k], k < n. */
typedef struct axis_taps {
    int *first;
    int *n;
    float *w; /* out x stride weights */
    int stride;
} axis_taps;

static void taps_free(axis_taps *t)
{
    free(t->first);
    free(t->n);
    free(t->w);
}

static xfiq_status taps_build(int in, int out, axis_taps *t)
{
    double scale = (double)in / out;
    /* Area: a footprint of `scale` input pixels touches at most ceil+1 of them. */
    t->stride = scale > 1.0 ? (int)ceil(scale) + 1 : 2;
    t->first = malloc(sizeof(int) * (size_t)out);
    t->n = malloc(sizeof(int) * (size_t)out);
    t->w = calloc((size_t)out * (size_t)t->stride, sizeof(float));
    if (!t->first || !t->n || !t->w) {
        taps_free(t);
        return xfiq_error(XFIQ_ERR_NOMEM, "resize: out of memory for %d taps", out);
    }
    for (int i = 0; i < out; i++) {
        float *w = t->w + (size_t)i * t->stride;
        if (scale > 1.0) {
            double a = i * scale, b = (i + 1) * scale;
            if (b > in)
                b = in;
            int j0 = (int)floor(a);
            int j1 = (int)ceil(b);
            if (j1 > in)
                j1 = in;
            int k = 0;
            for (int j = j0; j < j1 && k < t->stride; j++) {
                double lo = j > a ? j : a, hi = j + 1 < b ? j + 1 : b;
                if (hi > lo)
                    w[k] = (float)((hi - lo) / scale);
                k++;
            }
            t->first[i] = j0;
            t->n[i] = k;
        } else {
            double s = (i + 0.5) * scale - 0.5;
            if (s < 0)
                s = 0;
            int j0 = (int)floor(s);
            double f = s - j0;
            if (j0 >= in - 1) {
                j0 = in - 1;
                f = 0;
            }
            t->first[i] = j0;
            t->n[i] = f > 0 ? 2 : 1;
            w[0] = (float)(1 - f);
            w[1] = (float)f;
        }
    }
    return XFIQ_OK;
}

static uint8_t to_u8(float v)
{
    v = v + 0.5f;
    return v <= 0.f ? 0 : v >= 255.f ? 255 : (uint8_t)v;
}

xfiq_status xfiq_image_resize(const xfiq_image *img, int out_w, int out_h, uint8_t *out)
{
    XFIQ_TRY(image_check(img, "xfiq_image_resize"));
    if (out_w <= 0 || out_h <= 0 || out_w > XFIQ_IMAGE_MAX_SIDE || out_h > XFIQ_IMAGE_MAX_SIDE || !out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_image_resize: bad output size %dx%d", out_w, out_h);
    const int c = img->channels, iw = img->width, ih = img->height;
    if (iw == out_w && ih == out_h) {
        memcpy(out, img->data, (size_t)iw * ih * c);
        return XFIQ_OK;
    }
    axis_taps tx, ty;
    XFIQ_TRY(taps_build(iw, out_w, &tx));
    xfiq_status st = taps_build(ih, out_h, &ty);
    if (st != XFIQ_OK) {
        taps_free(&tx);
        return st;
    }
    /* Horizontal pass into float rows, then vertical pass to bytes. */
    float *tmp = malloc(sizeof(float) * (size_t)ih * out_w * c);
    if (!tmp) {
        taps_free(&tx);
        taps_free(&ty);
        return xfiq_error(XFIQ_ERR_NOMEM, "xfiq_image_resize: out of memory");
    }
    for (int y = 0; y < ih; y++) {
        const uint8_t *row = img->data + (size_t)y * iw * c;
        float *trow = tmp + (size_t)y * out_w * c;
        for (int x = 0; x < out_w; x++) {
            const float *w = tx.w + (size_t)x * tx.stride;
            const uint8_t *src = row + (size_t)tx.first[x] * c;
            for (int ch = 0; ch < c; ch++) {
                float acc = 0.f;
                for (int k = 0; k < tx.n[x]; k++)
                    acc += w[k] * src[k * c + ch];
                trow[x * c + ch] = acc;
            }
        }
    }
    const int rowlen = out_w * c;
    for (int y = 0; y < out_h; y++) {
        const float *w = ty.w + (size_t)y * ty.stride;
        const float *src = tmp + (size_t)ty.first[y] * rowlen;
        uint8_t *orow = out + (size_t)y * rowlen;
        for (int i = 0; i < rowlen; i++) {
            float acc = 0.f;
            for (int k = 0; k < ty.n[y]; k++)
                acc += w[k] * src[(size_t)k * rowlen + i];
            orow[i] = to_u8(acc);
        }
    }
    free(tmp);
    taps_free(&tx);
    taps_free(&ty);
    return XFIQ_OK;
}
