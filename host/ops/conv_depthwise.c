/* conv_depthwise.c - depthwise convolution (group == cin == cout), the
 * MobileFaceNet case: 3x3 stride 1/2 and the 7x7 global depthwise conv.
 * Each (image, channel) plane is copied once into a zero-padded buffer split
 * into sw column phases, so that for every kernel tap the input row is a
 * contiguous run: the inner loop over output columns is a plain multiply-add
 * the compiler vectorises, with no border tests. Each output element sums its
 * taps in (ky, kx) order from 0, then the epilogue adds bias + activation, so
 * results do not depend on the batch size or thread count. */
#include <string.h>

#include <omp.h>

#include "ops/ops_internal.h"

/* Zero-padded plane, column px stored in phase px % sw at index px / sw. */
static void pad_plane_phased(const float *xs, const xfiq_conv_desc *d, const ops_conv_plan *p, int64_t pws,
                             float *xp)
{
    const int sw = d->sw;
    const int64_t pstride = (int64_t)p->ph * pws;
    for (int py = 0; py < p->ph; py++) {
        const int iy = py - d->pad_t;
        if (iy < 0 || iy >= d->ih) {
            for (int ph = 0; ph < sw; ph++)
                memset(xp + ph * pstride + py * pws, 0, sizeof(float) * (size_t)pws);
            continue;
        }
        const float *row = xs + (int64_t)iy * d->iw;
        if (sw == 1) {
            float *dst = xp + py * pws;
            memset(dst, 0, sizeof(float) * (size_t)d->pad_l);
            memcpy(dst + d->pad_l, row, sizeof(float) * (size_t)d->iw);
            memset(dst + d->pad_l + d->iw, 0, sizeof(float) * (size_t)(pws - d->pad_l - d->iw));
            continue;
        }
        for (int ph = 0; ph < sw; ph++) {
            float *dst = xp + ph * pstride + py * pws;
            for (int64_t j = 0; j < pws; j++) {
                const int64_t ix = j * sw + ph - d->pad_l;
                dst[j] = ix >= 0 && ix < d->iw ? row[ix] : 0.0f;
            }
        }
    }
}

void ops_conv_fwd_depthwise(const ops_conv_plan *p, const float *x, const float *w, const float *b, float *y,
                            const xfiq_conv_desc *d, int n, int act, const float *slope, int slope_per_channel,
                            char *ws, int num_threads)
{
    const int C = d->cin, ow = d->ow;
    const int64_t planes = (int64_t)n * C, iplane = (int64_t)d->ih * d->iw;
    const int64_t pws = (p->pw + d->sw - 1) / d->sw, pstride = (int64_t)p->ph * pws;

#pragma omp parallel num_threads(num_threads)
    {
        char *tws = ws + (size_t)omp_get_thread_num() * p->thread_bytes;
        float *xp = (float *)tws;
        float *acc = (float *)(tws + p->src_bytes);

#pragma omp for schedule(static)
        for (int64_t pl = 0; pl < planes; pl++) {
            const int c = (int)(pl % C);
            const float *wc = w + (int64_t)c * d->kh * d->kw;
            const float bias = b ? b[c] : 0.0f, s = ops_slope_of(slope, slope_per_channel, c);
            float *ys = y + pl * p->hw;
            pad_plane_phased(x + pl * iplane, d, p, pws, xp);
            for (int oy = 0; oy < d->oh; oy++) {
                for (int ox = 0; ox < ow; ox++)
                    acc[ox] = 0.0f;
                for (int ky = 0; ky < d->kh; ky++) {
                    const int64_t py = (int64_t)oy * d->sh + (int64_t)ky * d->dh;
                    for (int kx = 0; kx < d->kw; kx++) {
                        const int o = kx * d->dw;
                        const float *src = xp + (o % d->sw) * pstride + py * pws + o / d->sw;
                        const float wv = wc[ky * d->kw + kx];
                        for (int ox = 0; ox < ow; ox++)
                            acc[ox] += wv * src[ox];
                    }
                }
                ops_epilogue_row(ys + (int64_t)oy * ow, acc, ow, bias, act, s);
            }
        }
    }
}
