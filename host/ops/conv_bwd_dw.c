/* conv_bwd_dw.c - backward-data of the depthwise convolution (group == cin
 * == cout: MobileFaceNet's 3x3 stride 1/2 convs and its 7x7 global depthwise
 * conv). Each (image, channel) plane is one work item: dy is scattered, tap by
 * tap, into a zero-padded copy of the input plane that is split into sw
 * column phases (padded column px lives in phase px % sw at index px / sw), so
 * every tap adds w * (a row of dy) to a contiguous run and the inner loop is a
 * plain vectorisable multiply-add. With AVX-512 the row's tail is one
 * whole-vector add whose extra lanes add w * 0 (a masked load of dy) to the
 * next padded columns, which changes no value: no scalar tail and no masked
 * store (slow on some CPUs). The interior of the padded plane is then
 * written or added into dx. Each dx element takes its contributions in the
 * fixed (ky, kx, oy) order inside one item, so results do not depend on the
 * batch size or the thread count, and accumulate adds the finished value. */
#include <string.h>

#include <omp.h>

#include "ops/ops_bwd_cpu.h"
#include "ops/ops_internal.h"

static inline void axpy_row_plain(float *dst, const float *src, float wv, int len)
{
    for (int j = 0; j < len; j++)
        dst[j] += wv * src[j];
}

#if defined(__AVX512F__)
#include <immintrin.h>

/* dst[0, len) += wv * src[0, len); dst has 16 floats of slack past len. */
static inline void axpy_row(float *dst, const float *src, float wv, int len)
{
    const __m512 w = _mm512_set1_ps(wv);
    int j = 0;
    for (; j + 16 <= len; j += 16)
        _mm512_storeu_ps(dst + j, _mm512_fmadd_ps(w, _mm512_loadu_ps(src + j), _mm512_loadu_ps(dst + j)));
    if (j < len) {
        const __m512 s = _mm512_maskz_loadu_ps((__mmask16)((1u << (len - j)) - 1u), src + j);
        _mm512_storeu_ps(dst + j, _mm512_fmadd_ps(w, s, _mm512_loadu_ps(dst + j)));
    }
}
#else
#define axpy_row axpy_row_plain
#endif

void ops_conv_bwd_depthwise(const ops_bwd_plan *p, const float *dy, const float *w, float *dx,
                            const xfiq_conv_desc *d, int n, int accumulate, char *ws, int num_threads)
{
    const int C = d->cin, ow = d->ow, sw = d->sw;
    const int64_t planes = (int64_t)n * C, pws = p->pws, pstride = (int64_t)p->ph * pws;

#pragma omp parallel num_threads(num_threads)
    {
        float *buf = (float *)(ws + (size_t)omp_get_thread_num() * p->thread_bytes);
        float *row = (float *)(ws + (size_t)omp_get_thread_num() * p->thread_bytes + p->acc_bytes);

#pragma omp for schedule(static)
        for (int64_t pl = 0; pl < planes; pl++) {
            const int c = (int)(pl % C);
            const float *wc = w + (int64_t)c * d->kh * d->kw;
            const float *dys = dy + pl * p->hw;
            float *dxs = dx + pl * p->plane;
            if (p->hw == 1) {
                /* One output (the GDC): distinct taps reach distinct inputs,
                 * so each dx element is 0 or one product. */
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
                if (accumulate)
                    for (int64_t j = 0; j < p->plane; j++)
                        dxs[j] += buf[j];
                else
                    memcpy(dxs, buf, sizeof(float) * (size_t)p->plane);
                continue;
            }
            memset(buf, 0, sizeof(float) * (size_t)(sw * pstride + 16));
            /* Tap-major: consecutive read-modify-writes hit different rows,
             * never a store still in flight at an offset one float away. */
            for (int ky = 0; ky < d->kh; ky++)
                for (int kx = 0; kx < d->kw; kx++) {
                    const int o = kx * d->dw;
                    float *dst0 = buf + (o % sw) * pstride + (int64_t)ky * d->dh * pws + o / sw;
                    const float wv = wc[ky * d->kw + kx];
                    for (int oy = 0; oy < d->oh; oy++) {
                        if (d->oh > 1)
                            axpy_row(dst0 + (int64_t)oy * d->sh * pws, dys + (int64_t)oy * ow, wv, ow);
                        else /* one row: taps shift by a float, keep them scalar */
                            axpy_row_plain(dst0, dys, wv, ow);
                    }
                }
            for (int iy = 0; iy < d->ih; iy++) {
                const int64_t py = iy + d->pad_t;
                float *drow = dxs + (int64_t)iy * d->iw;
                if (sw == 1) {
                    const float *srow = buf + py * pws + d->pad_l;
                    if (accumulate)
                        for (int ix = 0; ix < d->iw; ix++)
                            drow[ix] += srow[ix];
                    else
                        memcpy(drow, srow, sizeof(float) * (size_t)d->iw);
                    continue;
                }
                /* Phase by phase into a row in L1 (dx columns ix0, ix0 + sw,
                 * ... sit at consecutive indices of one phase row), then one
                 * contiguous pass over dx. */
                if (sw == 2) {
                    /* The common case: interleave two phase rows (vectorises). */
                    const float *ra = buf + (d->pad_l & 1) * pstride + py * pws + (d->pad_l >> 1);
                    const float *rb = buf + ((d->pad_l + 1) & 1) * pstride + py * pws + ((d->pad_l + 1) >> 1);
                    const int half = d->iw / 2;
                    for (int j = 0; j < half; j++) {
                        row[2 * j] = ra[j];
                        row[2 * j + 1] = rb[j];
                    }
                    if (d->iw & 1)
                        row[d->iw - 1] = ra[half];
                }
                for (int ph = 0; ph < sw && sw != 2; ph++) {
                    const int ix0 = ((ph - d->pad_l) % sw + sw) % sw;
                    const float *srow = buf + ph * pstride + py * pws + (ix0 + d->pad_l) / sw;
                    for (int ix = ix0, j = 0; ix < d->iw; ix += sw, j++)
                        row[ix] = srow[j];
                }
                if (accumulate)
                    for (int ix = 0; ix < d->iw; ix++)
                        drow[ix] += row[ix];
                else
                    memcpy(drow, row, sizeof(float) * (size_t)d->iw);
            }
        }
    }
}
