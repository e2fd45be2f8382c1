/* pool.c - one model on several backends (xfiq_pool_t): a call cuts its
 * images into contiguous parts, one per model, and runs the parts in
 * parallel threads; each thread writes only its own slice of the outputs. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "engine/model.h"
#include "xfiq.h"
#include "xfiq_quality.h"

struct xfiq_pool {
    int count;
    xfiq_model_t *models;
};

xfiq_status xfiq_pool_create(const xfiq_backend_t *backends, int count, const char *onnx_path, const char *card_path,
                             xfiq_pool_t *out)
{
    if (!backends || count < 1 || !onnx_path || !out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_pool_create: need at least one backend, a model path and out");
    *out = NULL;
    xfiq_pool_t p = calloc(1, sizeof *p);
    if (!p || !(p->models = calloc((size_t)count, sizeof *p->models))) {
        free(p);
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    }
    p->count = count;
    for (int i = 0; i < count; i++) {
        xfiq_status st = xfiq_model_load(backends[i], onnx_path, card_path, &p->models[i]);
        if (st != XFIQ_OK) {
            xfiq_pool_free(p);
            return st;
        }
    }
    *out = p;
    return XFIQ_OK;
}

void xfiq_pool_free(xfiq_pool_t p)
{
    if (!p)
        return;
    for (int i = 0; i < p->count; i++)
        xfiq_model_free(p->models[i]);
    free(p->models);
    free(p);
}

int xfiq_pool_size(xfiq_pool_t p) { return p ? p->count : 0; }

xfiq_model_t xfiq_pool_model(xfiq_pool_t p, int i) { return p && i >= 0 && i < p->count ? p->models[i] : NULL; }

/* One part of a call: images [first, first + n) on model m. */
typedef enum { JOB_EMBED, JOB_SERFIQ, JOB_PLQ } job_kind;

typedef struct part {
    job_kind kind;
    xfiq_model_t m;
    const uint8_t *pixels;
    int n;
    const uint64_t *ids;
    const void *opts;
    xfiq_quality *q;
    float *emb, *mag, *maps, *gmag;
    xfiq_status st;
    char msg[512];
} part;

static void *part_run(void *arg)
{
    part *w = arg;
    switch (w->kind) {
    case JOB_EMBED: w->st = xfiq_model_embed(w->m, w->pixels, w->n, w->emb, w->mag); break;
    case JOB_SERFIQ: w->st = xfiq_model_serfiq(w->m, w->pixels, w->n, w->ids, w->opts, w->q, w->emb); break;
    default: w->st = xfiq_model_plq(w->m, w->pixels, w->n, w->ids, w->opts, w->q, w->maps, w->gmag); break;
    }
    if (w->st != XFIQ_OK) /* error messages are thread-local: carry it back */
        strncpy(w->msg, xfiq_last_error(), sizeof w->msg - 1);
    return NULL;
}

/* Splits n images over the pool (near-equal contiguous parts, in order), runs
 * them, and reports the first part's error in part order. */
static xfiq_status pool_run(xfiq_pool_t p, job_kind kind, const uint8_t *pixels, int n, const uint64_t *ids,
                            const void *opts, xfiq_quality *q, float *emb, float *mag, float *maps, float *gmag)
{
    if (!p || !pixels || n < 1)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_pool: NULL argument or n < 1");
    xfiq_model_t m0 = p->models[0];
    const size_t img = (size_t)m0->card.width * m0->card.height * 3, hw = (size_t)m0->card.width * m0->card.height;
    const size_t D = (size_t)m0->g.values[m0->g.output].numel;
    int parts = p->count < n ? p->count : n;
    uint64_t *own = NULL;
    if (kind != JOB_EMBED && !ids) {
        if (!(own = malloc((size_t)n * sizeof *own)))
            return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
        for (int i = 0; i < n; i++)
            own[i] = (uint64_t)i;
        ids = own;
    }
    part *w = calloc((size_t)parts, sizeof *w);
    pthread_t *th = calloc((size_t)parts, sizeof *th);
    char *started = calloc((size_t)parts, 1);
    xfiq_status st = w && th && started ? XFIQ_OK : xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    for (int i = 0, first = 0; i < parts && st == XFIQ_OK; i++) {
        int cnt = n / parts + (i < n % parts);
        part *x = &w[i];
        *x = (part){.kind = kind, .m = p->models[i], .pixels = pixels + (size_t)first * img, .n = cnt, .opts = opts};
        x->ids = ids ? ids + first : NULL;
        x->q = q ? q + first : NULL;
        x->emb = emb ? emb + (size_t)first * D : NULL;
        x->mag = mag ? mag + first : NULL;
        x->maps = maps ? maps + (size_t)first * hw : NULL;
        x->gmag = gmag ? gmag + (size_t)first * hw : NULL;
        first += cnt;
        if (parts == 1)
            part_run(x);
        else if (pthread_create(&th[i], NULL, part_run, x) == 0)
            started[i] = 1;
        else
            st = xfiq_error(XFIQ_ERR_INTERNAL, "xfiq_pool: cannot start a thread for device part %d", i);
    }
    for (int i = 0; i < parts && w && th && started; i++)
        if (started[i])
            pthread_join(th[i], NULL);
    for (int i = 0; i < parts && st == XFIQ_OK && w; i++)
        if (w[i].st != XFIQ_OK)
            st = xfiq_error(w[i].st, "%s", w[i].msg);
    free(w);
    free(th);
    free(started);
    free(own);
    return st;
}

xfiq_status xfiq_pool_embed(xfiq_pool_t p, const uint8_t *pixels, int n, float *embeddings, float *magnitudes)
{
    if (!embeddings)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_pool_embed: embeddings is NULL");
    return pool_run(p, JOB_EMBED, pixels, n, NULL, NULL, NULL, embeddings, magnitudes, NULL, NULL);
}

xfiq_status xfiq_pool_serfiq(xfiq_pool_t p, const uint8_t *pixels, int n, const uint64_t *ids,
                             const xfiq_serfiq_opts *o, xfiq_quality *out, float *embeddings)
{
    if (!o || !out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_pool_serfiq: NULL options or output");
    return pool_run(p, JOB_SERFIQ, pixels, n, ids, o, out, embeddings, NULL, NULL, NULL);
}

xfiq_status xfiq_pool_plq(xfiq_pool_t p, const uint8_t *pixels, int n, const uint64_t *ids, const xfiq_plq_opts *o,
                          xfiq_quality *out, float *maps, float *grad_mag)
{
    if (!o || !out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_pool_plq: NULL options or output");
    return pool_run(p, JOB_PLQ, pixels, n, ids, o, out, NULL, NULL, maps, grad_mag);
}
