/* conv_im2col.c - the data movers of the convolution engines: im2col of one
 * column tile, zero-padded plane rows for the implicit GEMM, and the switch
 * that keeps OpenBLAS single-threaded inside our own OpenMP threads. */
#include <cblas.h>
#include <pthread.h>
#include <string.h>

#include "ops/ops_internal.h"

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void ops_im2col_tile(const float *x, const xfiq_conv_desc *d, int cin_g, int64_t q0, int len, float *col, int tq)
{
    const int64_t q1 = q0 + len;
    const int oy0 = (int)(q0 / d->ow), oy1 = (int)((q1 - 1) / d->ow);
    const int64_t plane = (int64_t)d->ih * d->iw;
    for (int c = 0; c < cin_g; c++)
        for (int ky = 0; ky < d->kh; ky++)
            for (int kx = 0; kx < d->kw; kx++) {
                float *row = col + ((int64_t)(c * d->kh + ky) * d->kw + kx) * tq;
                const float *xc = x + c * plane;
                /* Output columns whose input column falls inside the image. */
                const int t = d->pad_l - kx * d->dw, u = d->iw - 1 + d->pad_l - kx * d->dw;
                const int lo = clampi(t <= 0 ? 0 : (t + d->sw - 1) / d->sw, 0, d->ow);
                const int hi = clampi(u < 0 ? 0 : u / d->sw + 1, lo, d->ow);
                int64_t j = 0;
                for (int oy = oy0; oy <= oy1; oy++) {
                    const int a = oy == oy0 ? (int)(q0 - (int64_t)oy * d->ow) : 0;
                    const int e = oy == oy1 ? (int)(q1 - (int64_t)oy * d->ow) : d->ow;
                    const int iy = oy * d->sh - d->pad_t + ky * d->dh;
                    if (iy < 0 || iy >= d->ih) {
                        memset(row + j, 0, sizeof(float) * (size_t)(e - a));
                        j += e - a;
                        continue;
                    }
                    const float *xr = xc + (int64_t)iy * d->iw;
                    const int ca = clampi(lo, a, e), cb = clampi(hi, ca, e);
                    for (int ox = a; ox < ca; ox++)
                        row[j++] = 0.0f;
                    if (d->sw == 1) {
                        memcpy(row + j, xr + ca - d->pad_l + kx * d->dw, sizeof(float) * (size_t)(cb - ca));
                        j += cb - ca;
                    } else {
                        for (int ox = ca; ox < cb; ox++)
                            row[j++] = xr[ox * d->sw - d->pad_l + kx * d->dw];
                    }
                    for (int ox = cb; ox < e; ox++)
                        row[j++] = 0.0f;
                }
            }
}

void ops_pad_rows(const float *x, const xfiq_conv_desc *d, int cin, int ph, int pw, int r0, int r1, float *xp)
{
    const int64_t plane = (int64_t)d->ih * d->iw;
    if (r1 > ph)
        r1 = ph;
    for (int c = 0; c < cin; c++)
        for (int py = r0; py < r1; py++) {
            float *dst = xp + ((int64_t)c * ph + py) * pw;
            const int iy = py - d->pad_t;
            if (iy < 0 || iy >= d->ih) {
                memset(dst, 0, sizeof(float) * (size_t)pw);
                continue;
            }
            memset(dst, 0, sizeof(float) * (size_t)d->pad_l);
            memcpy(dst + d->pad_l, x + c * plane + (int64_t)iy * d->iw, sizeof(float) * (size_t)d->iw);
            memset(dst + d->pad_l + d->iw, 0, sizeof(float) * (size_t)d->pad_r);
        }
}

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static void blas_set_one(void) { openblas_set_num_threads(1); }

void ops_blas_single_thread(void) { pthread_once(&blas_once, blas_set_one); }
