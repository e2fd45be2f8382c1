/* layout_geometry.c - how a CONCAT or SOFTMAX node's tensors fold into the
 * 2-D / 3-D views the CPU ops and the CUDA launchers take; one copy for both
 * backends' op tables, so they cannot disagree on a node's geometry. */
#include "backend/backend.h"

/* Concat as (outer, na + nb): the axes before axis are rows, the rest one run per input. */
void xfiq_concat_geometry(const xfiq_value *a, const xfiq_value *b, int axis, int batch, int64_t *outer,
                          int64_t *na, int64_t *nb)
{
    *outer = batch;
    *na = *nb = 1;
    for (int d = 1; d < a->ndim; d++) {
        if (d < axis)
            *outer *= a->dims[d];
        else
            *na *= a->dims[d], *nb *= b->dims[d];
    }
}

/* Softmax as (outer, len, inner): opset < 13 takes every axis from axis on as one. */
void xfiq_softmax_geometry(const xfiq_value *x, const xfiq_layout_desc *L, int batch, int64_t *outer, int64_t *len,
                           int64_t *inner)
{
    *outer = batch;
    *len = *inner = 1;
    for (int d = 1; d < x->ndim; d++) {
        if (d < L->axis)
            *outer *= x->dims[d];
        else if (d == L->axis || L->legacy)
            *len *= x->dims[d];
        else
            *inner *= x->dims[d];
    }
}
