/* plan.h - the memory plan: sizes first, then one block carved into 256-byte
 * aligned buffers, activations whose lifetimes do not overlap sharing space. */
#ifndef XFIQ_ENGINE_PLAN_H
#define XFIQ_ENGINE_PLAN_H

#include <stddef.h>

#include "backend/backend.h"
#include "graph/graph.h"

#define XFIQ_ALIGN 256

typedef struct xfiq_plan {
    int batch;                 /* largest batch the plan holds */
    size_t *offsets;           /* per value id: byte offset of its storage in the block */
    size_t activation_bytes;   /* activations part of the block */
    size_t workspace_offset;   /* scratch after the activations */
    size_t workspace_bytes;
    size_t total_bytes;
} xfiq_plan;

xfiq_status xfiq_plan_build(xfiq_plan *p, const xfiq_graph *g, const xfiq_backend_ops *ops, void *ctx, int batch,
                            int num_threads);
void xfiq_plan_free(xfiq_plan *p);

#endif
