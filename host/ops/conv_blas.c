/* conv_blas.c - the convolution GEMM engine on OpenBLAS: per work item
 * (image, group, column tile, channel range) an im2col tile (or the image
 * itself for 1x1 stride-1 convs), one single-threaded cblas_sgemm straight
 * into y, and the fused bias+activation epilogue on the hot output tile.
 *
 * Reproducibility: the items come from ops_conv_plan_make, a function of the
 * layer shape only, so the sgemm call that computes a given output element has
 * the same shape and operands whatever the batch size or the thread count; the
 * BLAS itself is held to one thread, so each call is deterministic. */
#include <cblas.h>

#include <omp.h>

#include "ops/ops_internal.h"

void ops_conv_fwd_blas(const ops_conv_plan *p, const float *x, const float *w, const float *b, float *y,
                       const xfiq_conv_desc *d, int n, int act, const float *slope, int slope_per_channel,
                       char *ws, int num_threads)
{
    const int groups = d->group;
    const int64_t items = (int64_t)n * groups * p->nq * p->nm;
    const int64_t xstride = (int64_t)d->cin * d->ih * d->iw, ystride = (int64_t)d->cout * p->hw;
    ops_blas_single_thread();

#pragma omp parallel num_threads(num_threads)
    {
        float *col = (float *)(ws + (size_t)omp_get_thread_num() * p->thread_bytes);
        int c_img = -1, c_g = -1, c_qt = -1;

#pragma omp for schedule(static)
        for (int64_t it = 0; it < items; it++) {
            const ops_item wi = ops_item_decode(it, p->nm, p->nq, groups);
            const int mt = wi.mt, qt = wi.qt, g = wi.g, img = wi.img;
            const int64_t q0 = (int64_t)qt * p->tq;
            const int qlen = (int)(p->qtot - q0 < p->tq ? p->qtot - q0 : p->tq);
            const float *ximg = x + img * xstride + (int64_t)g * p->cin_g * d->ih * d->iw;
            const float *bsrc;
            int ldb;
            if (p->path == OPS_CONV_DIRECT1X1) {
                bsrc = ximg + q0;
                ldb = (int)p->hw;
            } else {
                if (c_img != img || c_g != g || c_qt != qt) {
                    ops_im2col_tile(ximg, d, p->cin_g, q0, qlen, col, p->tq);
                    c_img = img, c_g = g, c_qt = qt;
                }
                bsrc = col;
                ldb = p->tq;
            }
            const int m0 = mt * p->pm * OPS_MR;
            const int m1 = (mt + 1) * p->pm * OPS_MR < p->cout_g ? (mt + 1) * p->pm * OPS_MR : p->cout_g;
            const int co0 = g * p->cout_g + m0;
            float *yt = y + img * ystride + (int64_t)co0 * p->hw + q0;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m1 - m0, qlen, p->K, 1.0f, w + (int64_t)co0 * p->K,
                        p->K, bsrc, ldb, 0.0f, yt, (int)p->hw);
            for (int r = 0; r < m1 - m0; r++)
                ops_epilogue_row(yt + r * p->hw, yt + r * p->hw, qlen, b ? b[co0 + r] : 0.0f, act,
                                 ops_slope_of(slope, slope_per_channel, co0 + r));
        }
    }
}
