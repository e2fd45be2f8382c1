/* conv_depthwise.c - depthwise convolution (group == cin == cout), the
 * MobileFaceNet case: 3x3 stride 1/2 and the 7x7 global depthwise conv.
 *
 * Each (image, channel) plane is copied once into a zero-padded buffer split
 * into sh x sw phase sub-planes (row py, column px go to sub-plane
 * (py % sh, px % sw) at (py / sh, px / sw)). On a sub-plane every kernel tap
 * is a constant shift of the output grid q = oy*pws + ox, so the whole plane
 * is computed by one long contiguous multiply-add loop per tap that the
 * compiler vectorises, with no border tests and no short rows (a 7x7 or
 * 14x14 output row alone is shorter than one AVX-512 vector). The grid has
 * pws - ow junk columns per row, dropped when the epilogue writes y.
 * Each output element sums its taps in (ky, kx) order from 0, then the
 * epilogue adds bias + activation: results do not depend on the batch size or
 * the thread count. */
#include <string.h>

#include <omp.h>

#include "ops/ops_internal.h"

/* Grid elements per block: 4 KB of sums plus 9 taps' 4 KB sources fit L1. */
#define DW_BLOCK 1024

/* Writes the image part of the padded plane into its phase sub-planes of
 * phs x pws; the padding stays as zeroed once per call (never written). */
static void pad_plane_phased(const float *xs, const xfiq_conv_desc *d, int phs, int pws, float *xp)
{
    const int sh = d->sh, sw = d->sw;
    const int64_t sub = (int64_t)phs * pws;
    if (sw == 1) {
        for (int iy = 0; iy < d->ih; iy++) {
            const int py = iy + d->pad_t;
            memcpy(xp + (int64_t)(py % sh) * sub + (int64_t)(py / sh) * pws + d->pad_l, xs + (int64_t)iy * d->iw,
                   sizeof(float) * (size_t)d->iw);
        }
        return;
    }
    for (int ph = 0; ph < sw; ph++) {
        /* Columns px = j*sw + ph whose ix = px - pad_l lies in [0, iw). */
        const int t = d->pad_l - ph, u = d->iw - 1 + d->pad_l - ph;
        const int j0 = t > 0 ? (t + sw - 1) / sw : 0;
        int j1 = u < 0 ? 0 : u / sw + 1;
        j1 = j1 > pws ? pws : j1;
        const int ix0 = ph - d->pad_l;
        for (int iy = 0; iy < d->ih; iy++) {
            const int py = iy + d->pad_t;
            const float *restrict row = xs + (int64_t)iy * d->iw;
            float *restrict dst = xp + ((int64_t)(py % sh) * sw + ph) * sub + (int64_t)(py / sh) * pws;
            if (sw == 2) { /* constant stride: the compiler can vectorise the gather */
                for (int j = j0; j < j1; j++)
                    dst[j] = row[2 * j + ix0];
            } else {
                for (int j = j0; j < j1; j++)
                    dst[j] = row[j * sw + ix0];
            }
        }
    }
}

/* The global depthwise conv: one dot product per plane, kept in 16 lane
 * partial sums (a loop the compiler vectorises) reduced in a fixed order. */
static float plane_dot(const float *restrict w, const float *restrict x, int64_t len)
{
    float part[16] = {0};
    int64_t t = 0;
    for (; t + 16 <= len; t += 16)
        for (int l = 0; l < 16; l++)
            part[l] += w[t + l] * x[t + l];
    for (int l = 0; t + l < len; l++)
        part[l] += w[t + l] * x[t + l];
    for (int h = 8; h >= 1; h /= 2)
        for (int l = 0; l < h; l++)
            part[l] += part[l + h];
    return part[0];
}

void ops_conv_fwd_depthwise(const ops_conv_plan *p, const float *x, const float *w, const float *b, float *y,
                            const xfiq_conv_desc *d, int n, int act, const float *slope, int slope_per_channel,
                            char *ws, int num_threads)
{
    const int C = d->cin, ow = d->ow;
    const int64_t planes = (int64_t)n * C, iplane = (int64_t)d->ih * d->iw;
    const int phs = (p->ph + d->sh - 1) / d->sh, pws = (p->pw + d->sw - 1) / d->sw;
    const int64_t sub = (int64_t)phs * pws;
    const int64_t qtot = (int64_t)(d->oh - 1) * pws + ow;
    const int taps = d->kh * d->kw;

    if (ops_conv_is_whole_window(d)) {
#pragma omp parallel for schedule(static) num_threads(num_threads)
        for (int64_t pl = 0; pl < planes; pl++) {
            const int c = (int)(pl % C);
            const float v = plane_dot(w + (int64_t)c * iplane, x + pl * iplane, iplane);
            ops_epilogue_row(y + pl, &v, 1, b ? b[c] : 0.0f, act, ops_slope_of(slope, slope_per_channel, c));
        }
        return;
    }

#pragma omp parallel num_threads(num_threads)
    {
        char *tws = ws + (size_t)omp_get_thread_num() * p->thread_bytes;
        float *xp = (float *)tws;
        float *restrict acc = (float *)(tws + p->src_bytes);
        memset(xp, 0, sizeof(float) * (size_t)(sub * d->sh * d->sw));
        /* Offset of each kernel tap's source in the phased plane, (ky, kx) order. */
        int64_t *toff = (int64_t *)(tws + p->src_bytes + ops_align_up(sizeof(float) * ((size_t)sub + 16)));
        for (int ky = 0, t = 0; ky < d->kh; ky++)
            for (int kx = 0; kx < d->kw; kx++, t++) {
                const int oy = ky * d->dh, ox = kx * d->dw;
                toff[t] = ((int64_t)(oy % d->sh) * d->sw + ox % d->sw) * sub + (int64_t)(oy / d->sh) * pws + ox / d->sw;
            }

#pragma omp for schedule(static)
        for (int64_t pl = 0; pl < planes; pl++) {
            const int c = (int)(pl % C);
            const float *wc = w + (int64_t)c * d->kh * d->kw;
            const float bias = b ? b[c] : 0.0f, s = ops_slope_of(slope, slope_per_channel, c);
            float *ys = y + pl * p->hw;
            pad_plane_phased(x + pl * iplane, d, phs, pws, xp);
            /* In blocks of the grid that stay in L1 across all taps (a
             * 120x160 plane is 77 KB; one pass per tap over it ran from L2). */
            for (int64_t q0 = 0; q0 < qtot; q0 += DW_BLOCK) {
                const int64_t q1 = q0 + DW_BLOCK < qtot ? q0 + DW_BLOCK : qtot;
                for (int64_t q = q0; q < q1; q++)
                    acc[q] = 0.0f;
                for (int t = 0; t < taps; t++) {
                    const float *restrict src = xp + toff[t];
                    const float wv = wc[t];
                    for (int64_t q = q0; q < q1; q++)
                        acc[q] += wv * src[q];
                }
            }
            /* Epilogue over the whole grid (one long vector loop), then drop junk columns. */
            ops_epilogue_row(acc, acc, qtot, bias, act, s);
            if (ow == pws) {
                memcpy(ys, acc, sizeof(float) * (size_t)p->hw);
            } else {
                for (int oy = 0; oy < d->oh; oy++)
                    memcpy(ys + (int64_t)oy * ow, acc + (int64_t)oy * pws, sizeof(float) * (size_t)ow);
            }
        }
    }
}
