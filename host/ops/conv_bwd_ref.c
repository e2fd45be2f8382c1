/* conv_bwd_ref.c - the reference backward-data of the convolution and the
 * fully connected layer: each input element gathers, straight from the
 * definition, every (output element, weight) pair that read it, summed in
 * double. The oracle of the fast paths' tests, so nothing here is clever. */
#include "ops/ops_bwd_cpu.h"

void conv2d_bwd_data_ref(const float *dy, const float *w, float *dx, const xfiq_conv_desc *d, int n, int accumulate)
{
    const int cin_g = d->cin / d->group, cout_g = d->cout / d->group;
    for (int i = 0; i < n; i++)
        for (int ci = 0; ci < d->cin; ci++) {
            const int g = ci / cin_g, cl = ci % cin_g;
            for (int iy = 0; iy < d->ih; iy++)
                for (int ix = 0; ix < d->iw; ix++) {
                    double acc = 0.0;
                    for (int co = g * cout_g; co < (g + 1) * cout_g; co++) {
                        const float *wp = w + ((int64_t)co * cin_g + cl) * d->kh * d->kw;
                        const float *dyp = dy + ((int64_t)i * d->cout + co) * d->oh * d->ow;
                        for (int ky = 0; ky < d->kh; ky++) {
                            /* Output row oy read input row iy through tap ky when oy*sh - pad_t + ky*dh == iy. */
                            const int ty = iy + d->pad_t - ky * d->dh;
                            if (ty < 0 || ty % d->sh != 0 || ty / d->sh >= d->oh)
                                continue;
                            for (int kx = 0; kx < d->kw; kx++) {
                                const int tx = ix + d->pad_l - kx * d->dw;
                                if (tx < 0 || tx % d->sw != 0 || tx / d->sw >= d->ow)
                                    continue;
                                acc += (double)wp[ky * d->kw + kx] *
                                       (double)dyp[(int64_t)(ty / d->sh) * d->ow + tx / d->sw];
                            }
                        }
                    }
                    float *o = dx + (((int64_t)i * d->cin + ci) * d->ih + iy) * d->iw + ix;
                    *o = accumulate ? *o + (float)acc : (float)acc;
                }
        }
}

void gemm_bwd_data_ref(const float *dy, const float *w, float *dx, int n, int k, int m, int accumulate)
{
    for (int i = 0; i < n; i++)
        for (int t = 0; t < k; t++) {
            double acc = 0.0;
            for (int j = 0; j < m; j++)
                acc += (double)dy[(int64_t)i * m + j] * (double)w[(int64_t)j * k + t];
            float *o = dx + (int64_t)i * k + t;
            *o = accumulate ? *o + (float)acc : (float)acc;
        }
}
