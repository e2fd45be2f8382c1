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

void ops_pad_rows_phased(const float *x, const xfiq_conv_desc *d, const ops_conv_plan *p, int cin, int r0, int r1,
                         float *xp)
{
    const int sh = d->sh, sw = d->sw, pws = p->pws;
    const int64_t plane = (int64_t)d->ih * d->iw, sub = (int64_t)p->phs * pws;
    if (r1 > p->phs)
        r1 = p->phs;
    for (int c = 0; c < cin; c++)
        for (int r = r0; r < r1; r++)
            for (int a = 0; a < sh; a++) {
                if (!(p->amask >> a & 1u))
                    continue;
                const int iy = r * sh + a - d->pad_t;
                const float *row = x + c * plane + (int64_t)iy * d->iw;
                for (int b = 0; b < sw; b++) {
                    if (!(p->bmask >> b & 1u))
                        continue;
                    float *dst = xp + (((int64_t)c * sh + a) * sw + b) * sub + (int64_t)r * pws;
                    if (iy < 0 || iy >= d->ih) {
                        memset(dst, 0, sizeof(float) * (size_t)pws);
                        continue;
                    }
                    /* Columns j of this phase read ix = j*sw + b - pad_l, inside [0, iw) for j in [j0, j1). */
                    const int t = d->pad_l - b, u = d->iw - 1 + d->pad_l - b;
                    const int j0 = clampi(t > 0 ? (t + sw - 1) / sw : 0, 0, pws);
                    const int j1 = clampi(u < 0 ? 0 : u / sw + 1, j0, pws);
                    const int ix0 = b - d->pad_l;
                    memset(dst, 0, sizeof(float) * (size_t)j0);
                    if (sw == 1) {
                        memcpy(dst + j0, row + j0 + ix0, sizeof(float) * (size_t)(j1 - j0));
                    } else if (sw == 2) { /* constant stride: vectorised */
                        for (int j = j0; j < j1; j++)
                            dst[j] = row[2 * j + ix0];
                    } else {
                        for (int j = j0; j < j1; j++)
                            dst[j] = row[j * sw + ix0];
                    }
                    memset(dst + j1, 0, sizeof(float) * (size_t)(pws - j1));
                }
            }
}

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static void blas_set_one(void) { openblas_set_num_threads(1); }

void ops_blas_single_thread(void) { pthread_once(&blas_once, blas_set_one); }
