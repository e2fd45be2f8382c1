/* conv_bwd_dw.c - backward-data of the depthwise convolution (group == cin
 * == cout: MobileFaceNet's 3x3 stride 1/2 convs and its 7x7 global depthwise
 * conv). Each (image, channel) plane is one work item: dy is scattered, tap by
 * tap, into a zero-padded copy of the input plane that is split into sw
 * column phases (padded column px lives in phase px % sw at index px / sw), so
 * every tap adds w * (a row of dy) to a contiguous run and the inner loop is a
 * plain vectorisable multiply-add; the interior of the padded plane is then
 * written or added into dx. Each dx element takes its contributions in the
 * fixed (oy, ky, kx) order inside one item, so results do not depend on the
 * batch size or the thread count, and accumulate adds the finished value. */
#include <string.h>

#include <omp.h>

#include "ops/ops_bwd_cpu.h"
#include "ops/ops_internal.h"

void ops_conv_bwd_depthwise(const ops_bwd_plan *p, const float *dy, const float *w, float *dx,
                            const xfiq_conv_desc *d, int n, int accumulate, char *ws, int num_threads)
{
    const int C = d->cin, ow = d->ow, sw = d->sw;
    const int64_t planes = (int64_t)n * C, pws = p->pws, pstride = (int64_t)p->ph * pws;

#pragma omp parallel num_threads(num_threads)
    {
        float *buf = (float *)(ws + (size_t)omp_get_thread_num() * p->thread_bytes);

#pragma omp for schedule(static)
        for (int64_t pl = 0; pl < planes; pl++) {
            const int c = (int)(pl % C);
            const float *wc = w + (int64_t)c * d->kh * d->kw;
            const float *dys = dy + pl * p->hw;
            float *dxs = dx + pl * p->plane;
            memset(buf, 0, sizeof(float) * (size_t)(sw * pstride));
            for (int oy = 0; oy < d->oh; oy++) {
                const float *src = dys + (int64_t)oy * ow;
                for (int ky = 0; ky < d->kh; ky++) {
                    const int64_t py = (int64_t)oy * d->sh + (int64_t)ky * d->dh;
                    for (int kx = 0; kx < d->kw; kx++) {
                        const int o = kx * d->dw;
                        float *dst = buf + (o % sw) * pstride + py * pws + o / sw;
                        const float wv = wc[ky * d->kw + kx];
                        for (int ox = 0; ox < ow; ox++)
                            dst[ox] += wv * src[ox];
                    }
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
                for (int ix = 0; ix < d->iw; ix++) {
                    const int px = ix + d->pad_l;
                    const float v = buf[(px % sw) * pstride + py * pws + px / sw];
                    drow[ix] = accumulate ? drow[ix] + v : v;
                }
            }
        }
    }
}
