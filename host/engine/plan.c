/* plan.c - greedy lifetime-aware placement of activation buffers: largest
 * first, each at the lowest offset that no live buffer overlaps. */
#include "engine/plan.h"

#include <stdlib.h>
#include <string.h>

#include "core/status.h"

typedef struct buf {
    int value;
    int start, end;   /* node index range during which the buffer is live */
    size_t size, offset;
} buf;

static size_t align_up(size_t x) { return (x + XFIQ_ALIGN - 1) & ~(size_t)(XFIQ_ALIGN - 1); }

static int by_size_desc(const void *a, const void *b)
{
    const buf *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? 1 : -1;
    return x->value - y->value; /* stable: the plan is the same on every run */
}

xfiq_status xfiq_plan_build(xfiq_plan *p, const xfiq_graph *g, const xfiq_backend_ops *ops, void *ctx, int batch,
                            int num_threads)
{
    memset(p, 0, sizeof *p);
    p->batch = batch;
    p->offsets = calloc((size_t)g->n_values, sizeof *p->offsets);
    buf *bufs = malloc((size_t)g->n_values * sizeof *bufs);
    buf **placed = malloc((size_t)g->n_values * sizeof *placed);
    if (!p->offsets || !bufs || !placed) {
        free(bufs);
        free(placed);
        xfiq_plan_free(p);
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory planning buffers");
    }
    int nb = 0;
    for (int v = 0; v < g->n_values; v++) {
        const xfiq_value *val = &g->values[v];
        if (val->storage != v || (val->producer < 0 && v != g->input) || val->last_use < 0)
            continue;
        bufs[nb].value = v;
        bufs[nb].start = v == g->input ? -1 : val->producer;
        /* The input stays live to the end: the next batch's input may be
         * written while this batch's output is still to be read. */
        bufs[nb].end = v == g->input ? g->n_nodes : val->last_use;
        bufs[nb].size = align_up((size_t)val->numel * (size_t)batch * sizeof(float));
        nb++;
    }
    qsort(bufs, (size_t)nb, sizeof *bufs, by_size_desc);
    size_t top = 0;
    int n_placed = 0;
    for (int i = 0; i < nb; i++) {
        buf *b = &bufs[i];
        size_t off = 0;
        /* Move past every overlapping live buffer until a gap fits (placed is sorted by offset). */
        for (int j = 0; j < n_placed; j++) {
            const buf *o = placed[j];
            int live = !(o->end < b->start || b->end < o->start);
            if (live && off < o->offset + o->size && o->offset < off + b->size)
                off = o->offset + o->size;
        }
        b->offset = off;
        int k = n_placed++;
        while (k > 0 && placed[k - 1]->offset > off) {
            placed[k] = placed[k - 1];
            k--;
        }
        placed[k] = b;
        if (off + b->size > top)
            top = off + b->size;
    }
    for (int i = 0; i < nb; i++)
        p->offsets[bufs[i].value] = bufs[i].offset;
    for (int v = 0; v < g->n_values; v++)
        p->offsets[v] = p->offsets[g->values[v].storage];
    free(bufs);
    free(placed);
    size_t ws = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        size_t w = ops->workspace_bytes ? ops->workspace_bytes(ctx, g, &g->nodes[i], batch, num_threads) : 0;
        if (w > ws)
            ws = w;
    }
    p->activation_bytes = align_up(top);
    p->workspace_offset = p->activation_bytes;
    p->workspace_bytes = align_up(ws);
    p->total_bytes = p->activation_bytes + p->workspace_bytes;
    return XFIQ_OK;
}

void xfiq_plan_free(xfiq_plan *p)
{
    free(p->offsets);
    memset(p, 0, sizeof *p);
}
