/* conv_bwd_dw.c - backward-data of the depthwise convolution (group == cin
 * == cout: MobileFaceNet's 3x3 stride 1/2 convs and its 7x7 global depthwise
 * conv). Each (image, channel) plane is one work item.
 *
 * dy is scattered into a zero-padded copy of the input plane split into
 * sh x sw phase sub-planes of phs x pws (padded row py, column px live in
 * sub-plane (py % sh, px % sw) at (py / sh, px / sw)). There every kernel tap
 * is a constant shift of the output grid q = oy*pws + ox, so with dy laid on
 * that grid (its pws - ow extra columns held at zero) each tap is ONE long
 * contiguous multiply-add loop over the whole plane, which vectorises with
 * no short rows (a 7x7 or 14x14 row alone is shorter than one AVX-512
 * vector); the zero columns add w * 0 to their targets, which changes no
 * value. The interior of the padded plane is then written or added into dx.
 *
 * Each dx element takes its contributions in the fixed tap order inside one
 * item, so results do not depend on the batch size or the thread count, and
 * accumulate adds the finished value. A 1x1 output (the GDC) takes a direct
 * path: each dx element is then 0 or one product. */
#include <string.h>

#include <omp.h>

#include "ops/ops_bwd_cpu.h"
#include "ops/ops_internal.h"

/* Writes (accumulate = 0) or adds row into drow. */
static void put_row(float *drow, const float *row, int len, int accumulate)
{
    if (accumulate)
        for (int j = 0; j < len; j++)
            drow[j] += row[j];
    else
        memcpy(drow, row, sizeof(float) * (size_t)len);
}

/* Row iy of dx from the phased padded plane buf (rows of sub-planes of
 * sub = phs x pws floats); row: a scratch row for the column phases. */
static void extract_row(const float *buf, const xfiq_conv_desc *d, int64_t sub, int pws, int iy, float *row,
                        float *drow, int accumulate)
{
    const int sh = d->sh, sw = d->sw, py = iy + d->pad_t;
    const float *base = buf + (int64_t)(py % sh) * sw * sub + (int64_t)(py / sh) * pws;
    if (sw == 1) {
        put_row(drow, base + d->pad_l, d->iw, accumulate);
        return;
    }
    if (sw == 2) {
        /* The common case: interleave two phase rows (vectorises). */
        const float *ra = base + (d->pad_l & 1) * sub + (d->pad_l >> 1);
        const float *rb = base + ((d->pad_l + 1) & 1) * sub + ((d->pad_l + 1) >> 1);
        const int half = d->iw / 2;
        for (int j = 0; j < half; j++) {
            row[2 * j] = ra[j];
            row[2 * j + 1] = rb[j];
        }
        if (d->iw & 1)
            row[d->iw - 1] = ra[half];
    } else {
        /* dx columns ix0, ix0 + sw, ... sit at consecutive indices of one phase row. */
        for (int ph = 0; ph < sw; ph++) {
            const int ix0 = ((ph - d->pad_l) % sw + sw) % sw;
            const float *srow = base + ph * sub + (ix0 + d->pad_l) / sw;
            for (int ix = ix0, j = 0; ix < d->iw; ix += sw, j++)
                row[ix] = srow[j];
        }
    }
    put_row(drow, row, d->iw, accumulate);
}

void ops_conv_bwd_depthwise(const ops_bwd_plan *p, const float *dy, const float *w, float *dx,
                            const xfiq_conv_desc *d, int n, int accumulate, char *ws, int num_threads)
{
    const int C = d->cin, ow = d->ow, taps = d->kh * d->kw, pws = p->pws;
    const int64_t planes = (int64_t)n * C, sub = (int64_t)p->phs * pws;
    const int64_t qtot = (int64_t)(d->oh - 1) * pws + ow;

#pragma omp parallel num_threads(num_threads)
    {
        char *tws = ws + (size_t)omp_get_thread_num() * p->thread_bytes;
        float *buf = (float *)tws;
        float *row = (float *)(tws + p->acc_bytes);
        float *restrict grid = (float *)(tws + p->acc_bytes + p->col_bytes);
        int64_t *toff = (int64_t *)(tws + p->acc_bytes + p->col_bytes + p->bpack_bytes);
        /* dy's grid: the extra columns are never written, so zero them once. */
        memset(grid, 0, sizeof(float) * (size_t)(d->oh * pws));
        /* Offset of each kernel tap's target in the phased plane, (ky, kx) order. */
        for (int ky = 0, t = 0; ky < d->kh; ky++)
            for (int kx = 0; kx < d->kw; kx++, t++) {
                const int oy = ky * d->dh, ox = kx * d->dw;
                toff[t] = ((int64_t)(oy % d->sh) * d->sw + ox % d->sw) * sub + (int64_t)(oy / d->sh) * pws +
                          ox / d->sw;
            }

#pragma omp for schedule(static)
        for (int64_t pl = 0; pl < planes; pl++) {
            const int c = (int)(pl % C);
            const float *wc = w + (int64_t)c * taps;
            const float *dys = dy + pl * p->hw;
            float *dxs = dx + pl * p->plane;
            if (p->hw == 1) {
                /* One output: distinct taps reach distinct inputs. */
                const float v = dys[0];
                memset(buf, 0, sizeof(float) * (size_t)p->plane);
                for (int ky = 0; ky < d->kh; ky++) {
                    const int iy = ky * d->dh - d->pad_t;
                    for (int kx = 0; kx < d->kw && iy >= 0 && iy < d->ih; kx++) {
                        const int ix = kx * d->dw - d->pad_l;
                        if (ix >= 0 && ix < d->iw)
                            buf[(int64_t)iy * d->iw + ix] = wc[ky * d->kw + kx] * v;
                    }
                }
                put_row(dxs, buf, (int)p->plane, accumulate);
                continue;
            }
            memset(buf, 0, sizeof(float) * (size_t)(sub * d->sh * d->sw));
            if (ow == pws)
                memcpy(grid, dys, sizeof(float) * (size_t)p->hw);
            else
                for (int oy = 0; oy < d->oh; oy++)
                    memcpy(grid + (int64_t)oy * pws, dys + (int64_t)oy * ow, sizeof(float) * (size_t)ow);
            for (int t = 0; t < taps; t++) {
                float *restrict dst = buf + toff[t];
                const float wv = wc[t];
                for (int64_t q = 0; q < qtot; q++)
                    dst[q] += wv * grid[q];
            }
            for (int iy = 0; iy < d->ih; iy++)
                extract_row(buf, d, sub, pws, iy, row, dxs + (int64_t)iy * d->iw, accumulate);
        }
    }
}
