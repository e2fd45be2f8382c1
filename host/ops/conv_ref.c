/* conv_ref.c - the reference convolution and fully connected layer: loops
 * straight from the definitions, accumulating in double. They are the oracle
 * the fast paths are tested against, so nothing here is clever. */
#include "ops/elem.h"
#include "ops/ops_cpu.h"

void conv2d_fwd_ref(const float *x, const float *w, const float *b, float *y,
                    const xfiq_conv_desc *d, int n, int act, const float *slope, int slope_per_channel)
{
    const int cin_g = d->cin / d->group, cout_g = d->cout / d->group;
    for (int i = 0; i < n; i++)
        for (int co = 0; co < d->cout; co++) {
            const int g = co / cout_g;
            const float s = slope ? slope[slope_per_channel ? co : 0] : 0.0f;
            for (int oy = 0; oy < d->oh; oy++)
                for (int ox = 0; ox < d->ow; ox++) {
                    double acc = b ? (double)b[co] : 0.0;
                    for (int ci = 0; ci < cin_g; ci++) {
                        const float *xp = x + ((int64_t)i * d->cin + (int64_t)g * cin_g + ci) * d->ih * d->iw;
                        const float *wp = w + ((int64_t)co * cin_g + ci) * d->kh * d->kw;
                        for (int ky = 0; ky < d->kh; ky++) {
                            const int iy = oy * d->sh - d->pad_t + ky * d->dh;
                            if (iy < 0 || iy >= d->ih)
                                continue;
                            for (int kx = 0; kx < d->kw; kx++) {
                                const int ix = ox * d->sw - d->pad_l + kx * d->dw;
                                if (ix < 0 || ix >= d->iw)
                                    continue;
                                acc += (double)wp[ky * d->kw + kx] * (double)xp[(int64_t)iy * d->iw + ix];
                            }
                        }
                    }
                    y[(((int64_t)i * d->cout + co) * d->oh + oy) * d->ow + ox] = xfiq_act(act, (float)acc, s);
                }
        }
}

void gemm_fwd_ref(const float *x, const float *w, const float *b, float *y, int n, int k, int m,
                  int act, const float *slope, int slope_per_channel)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) {
            double acc = b ? (double)b[j] : 0.0;
            for (int t = 0; t < k; t++)
                acc += (double)x[(int64_t)i * k + t] * (double)w[(int64_t)j * k + t];
            const float s = slope ? slope[slope_per_channel ? j : 0] : 0.0f;
            y[(int64_t)i * m + j] = xfiq_act(act, (float)acc, s);
        }
}
