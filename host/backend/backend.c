/* backend.c - the public backend calls: pick a table, create its context. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

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

void xfiq_backend_opts_default(xfiq_backend_opts *o)
{
    memset(o, 0, sizeof *o);
    o->precision = XFIQ_PRECISION_FP32;
}

static const char *const k_precision_names[] = {"fp32", "tf32", "bf16", "fp16"};

const char *xfiq_precision_name(xfiq_precision p)
{
    return (unsigned)p < 4 ? k_precision_names[p] : NULL;
}

xfiq_status xfiq_precision_parse(const char *name, xfiq_precision *out)
{
    for (int i = 0; name && i < 4; i++)
        if (!strcmp(name, k_precision_names[i])) {
            *out = (xfiq_precision)i;
            return XFIQ_OK;
        }
    return xfiq_error(XFIQ_ERR_ARG, "unknown precision '%s' (fp32, tf32, bf16 or fp16)", name ? name : "(null)");
}

xfiq_status xfiq_backend_init(xfiq_backend_t *out, xfiq_backend_kind kind, int num_threads)
{
    xfiq_backend_opts o;
    xfiq_backend_opts_default(&o);
    o.num_threads = num_threads;
    return xfiq_backend_init_opts(out, kind, &o);
}

xfiq_status xfiq_backend_init_opts(xfiq_backend_t *out, xfiq_backend_kind kind, const xfiq_backend_opts *opts)
{
    xfiq_backend_opts o;
    if (opts)
        o = *opts;
    else
        xfiq_backend_opts_default(&o);
    if (!xfiq_precision_name(o.precision))
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_backend_init: unknown precision %d", (int)o.precision);
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
    be->num_threads = o.num_threads > 0 ? o.num_threads : omp_get_num_procs();
    o.num_threads = be->num_threads;
    xfiq_status st = ops->init(&be->ctx, &o);
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
