/* backend.c - the public backend calls: pick a table, create its context. */
#include <omp.h>
#include <stdlib.h>

#include "backend/backend.h"
#include "core/status.h"

int xfiq_backend_available(xfiq_backend_kind kind)
{
    if (kind == XFIQ_BACKEND_CPU)
        return 1;
#ifdef XFIQ_HAVE_CUDA
    if (kind == XFIQ_BACKEND_CUDA)
        return xfiq_cuda_device_count() > 0;
#endif
    return 0;
}

xfiq_status xfiq_backend_init(xfiq_backend_t *out, xfiq_backend_kind kind, int num_threads)
{
    if (!out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_backend_init: out is NULL");
    *out = NULL;
    const xfiq_backend_ops *ops = NULL;
    if (kind == XFIQ_BACKEND_CPU)
        ops = xfiq_backend_cpu_ops();
#ifdef XFIQ_HAVE_CUDA
    else if (kind == XFIQ_BACKEND_CUDA)
        ops = xfiq_backend_cuda_ops();
#endif
    if (!ops)
        return xfiq_error(XFIQ_ERR_BACKEND, "backend %d is not compiled into this build of xfiq%s", (int)kind,
                          kind == XFIQ_BACKEND_CUDA ? " (configure with -DXFIQ_CUDA=ON where nvcc exists)" : "");
    xfiq_backend_t be = calloc(1, sizeof *be);
    if (!be)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    be->ops = ops;
    be->num_threads = num_threads > 0 ? num_threads : omp_get_num_procs();
    xfiq_status st = ops->init(&be->ctx, be->num_threads);
    if (st != XFIQ_OK) {
        free(be);
        return st;
    }
    *out = be;
    return XFIQ_OK;
}

void xfiq_backend_free(xfiq_backend_t be)
{
    if (!be)
        return;
    be->ops->destroy(be->ctx);
    free(be);
}

const char *xfiq_backend_name(xfiq_backend_t be) { return be ? be->ops->name : "none"; }
