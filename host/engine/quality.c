/* quality.c - SER-FIQ and PLQ on a loaded model (SPEC 3, 4): the network
 * runs once per image up to the embedding layer, the T dropout passes of the
 * head run as one GEMM over B*T rows, and PLQ pushes the quality regression's
 * seed back to the 8-bit pixels through the unfused network. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "engine/model.h"
#include "quality/calib.h"
#include "quality/plq_map.h"
#include "quality/plq_regress.h"
#include "quality/serfiq.h"
#include "xfiq_quality.h"

/* Dropout rows per head GEMM: whole images, about this many rows. */
#define HEAD_ROWS 2048
/* Images per PLQ chunk: every activation is retained for the backward pass. */
#define PLQ_CHUNK 16

#define PUBLISHED_ALPHA 130.0
#define PUBLISHED_R 0.88
#define PUBLISHED_A 31622776.601683792 /* 10^7.5 */
#define PUBLISHED_B 2.0

static float *scratch(xfiq_model_t m, int slot, size_t floats)
{
    size_t bytes = floats * sizeof(float);
    if (bytes > m->scratch_bytes[slot]) {
        float *p = realloc(m->scratch[slot], bytes);
        if (!p)
            return NULL;
        m->scratch[slot] = p;
        m->scratch_bytes[slot] = bytes;
    }
    return m->scratch[slot];
}

const char *xfiq_plq_mode_name(xfiq_plq_mode mode) { return plq_mode_name((plq_mode)mode); }

xfiq_status xfiq_plq_mode_parse(const char *name, xfiq_plq_mode *mode)
{
    plq_mode pm;
    XFIQ_TRY(plq_mode_parse(name, &pm));
    *mode = (xfiq_plq_mode)pm;
    return XFIQ_OK;
}

void xfiq_serfiq_opts_default(xfiq_model_t m, int published, xfiq_serfiq_opts *o)
{
    memset(o, 0, sizeof *o);
    o->T = 100;
    o->p = 0.5f;
    int cal = m && m->card.has_calibration && !published;
    o->alpha = cal ? m->card.serfiq_alpha : PUBLISHED_ALPHA;
    o->r = cal ? m->card.serfiq_r : PUBLISHED_R;
}

void xfiq_plq_opts_default(xfiq_model_t m, int published, xfiq_plq_opts *o)
{
    memset(o, 0, sizeof *o);
    xfiq_serfiq_opts_default(m, published, &o->serfiq);
    int cal = m && m->card.has_calibration && !published;
    o->mode = published ? XFIQ_PLQ_PAPER : cal ? (xfiq_plq_mode)m->card.plq_mode : XFIQ_PLQ_SIGNED;
    o->a = cal ? m->card.plq_a : PUBLISHED_A;
    o->b = cal ? m->card.plq_b : PUBLISHED_B;
}

static xfiq_status check_opts(const xfiq_serfiq_opts *o)
{
    if (o->T < 2 || o->T > 100000)
        return xfiq_error(XFIQ_ERR_ARG, "SER-FIQ needs 2 <= T <= 100000 passes (got %d)", o->T);
    if (!(o->p > 0.0f && o->p < 1.0f))
        return xfiq_error(XFIQ_ERR_ARG, "dropout rate p must be in (0, 1) (got %g)", (double)o->p);
    if (!isfinite(o->alpha) || !isfinite(o->r))
        return xfiq_error(XFIQ_ERR_ARG, "alpha and r must be finite");
    return XFIQ_OK;
}

/* Backend buffers of the quality stages for `images` images per chunk,
 * `head` images per head pass of T rows, D-dimensional embeddings and maps
 * of hw pixels: one block, carved in 256-byte aligned pieces, grown only when
 * a larger job arrives (never inside a forward or backward pass). */
static xfiq_status qbuf_reserve(xfiq_model_t m, int images, int head, int T, int D, int hw)
{
    const xfiq_backend_ops *ops = m->be->ops;
    size_t sizes[6] = {(size_t)images * sizeof(uint64_t), (size_t)images * sizeof(serfiq_image_result),
                       serfiq_work_doubles(head, T, D) * sizeof(double), (size_t)images * hw * sizeof(float),
                       (size_t)images * hw * sizeof(float), (size_t)hw};
    size_t off[6], total = 0;
    for (int i = 0; i < 6; i++) {
        off[i] = total;
        total += (sizes[i] + XFIQ_ALIGN - 1) & ~(size_t)(XFIQ_ALIGN - 1);
    }
    if (total > m->qbytes) {
        if (m->qblock)
            ops->mem_free(m->be->ctx, m->qblock);
        m->qblock = NULL;
        m->qbytes = 0;
        XFIQ_TRY(ops->mem_alloc(m->be->ctx, total, (void **)&m->qblock));
        m->qbytes = total;
        m->q_mask = NULL; /* uploaded again below */
    }
    m->q_ids = (uint64_t *)(m->qblock + off[0]);
    m->q_res = (serfiq_image_result *)(m->qblock + off[1]);
    m->q_work = (double *)(m->qblock + off[2]);
    m->q_maps = (float *)(m->qblock + off[3]);
    m->q_gmag = (float *)(m->qblock + off[4]);
    uint8_t *mask = (uint8_t *)(m->qblock + off[5]);
    if (hw > 0 && m->q_mask != mask) {
        uint8_t *h = malloc((size_t)hw);
        if (!h)
            return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
        plq_face_mask_default(m->card.height, m->card.width, h);
        xfiq_status st = ops->upload(m->be->ctx, mask, h, (size_t)hw);
        free(h);
        XFIQ_TRY(st);
        m->q_mask = mask;
    }
    return XFIQ_OK;
}

/* Head images per pass: whole images, about HEAD_ROWS rows on the CPU; the
 * whole chunk on backends that want large batches. */
static int head_images(xfiq_model_t m, int k, int T)
{
    int per = m->be->ops->kind == XFIQ_BACKEND_CPU ? HEAD_ROWS / T : k;
    per = per > 0 ? per : 1;
    return per < k ? per : k;
}

/* SER-FIQ of the k images whose forward pass runner r has just run (chunk of
 * the job starting at `first`): the dropout rows of the embedding-layer
 * activation go straight into the head runner's input, the head runs for
 * per*T rows, and the quality stage leaves one result per image in
 * m->q_res (backend memory); out gets the copy on the host. */
static xfiq_status serfiq_stage(xfiq_model_t m, xfiq_runner *r, int emb_value, int k, const uint64_t *ids,
                                const xfiq_serfiq_opts *o, serfiq_image_result *out)
{
    const xfiq_backend_ops *ops = m->be->ops;
    const xfiq_value *ev = &r->g->values[emb_value];
    const int E = (int)ev->numel, D = (int)r->g->values[r->g->output].numel, T = o->T;
    serfiq_dropout cfg = {.seed = o->seed, .p = o->p, .kind = o->channel_wise ? SERFIQ_MASK_CHANNEL : SERFIQ_MASK_ELEMENT,
                          .dim = E, .spatial = o->channel_wise && ev->ndim > 2 ? (int)(E / ev->dims[1]) : 1};
    XFIQ_TRY(serfiq_dropout_check(&cfg));
    const int per = head_images(m, k, T);
    XFIQ_TRY(xfiq_runner_reserve(&m->head_run, per * T));
    XFIQ_TRY(qbuf_reserve(m, k, per, T, D, m->card.width * m->card.height));
    XFIQ_TRY(ops->upload(m->be->ctx, m->q_ids, ids, (size_t)k * sizeof *ids));
    const float *x = xfiq_runner_value(r, emb_value), *z = xfiq_runner_value(r, r->g->output);
    float *head_in = xfiq_runner_value(&m->head_run, m->head.input);
    for (int s = 0; s < k; s += per) {
        int c = k - s < per ? k - s : per;
        XFIQ_TRY(ops->heads_input(m->be->ctx, &cfg, m->q_ids + s, x + (size_t)s * E, c, T, head_in));
        m->head_run.input_resident = 1;
        XFIQ_TRY(xfiq_runner_run(&m->head_run, c * T));
        XFIQ_TRY(ops->serfiq_quality(m->be->ctx, xfiq_runner_value(&m->head_run, m->head.output), z + (size_t)s * D, c,
                                     T, D, o->alpha, o->r, m->q_work, m->q_res + s));
    }
    XFIQ_TRY(ops->download(m->be->ctx, out, m->q_res, (size_t)k * sizeof *out));
    for (int i = 0; i < k; i++)
        if (!isfinite(out[i].r.q_raw))
            return xfiq_error(XFIQ_ERR_ARG, "%s: the network gives a non-finite embedding for image %d of the batch "
                              "(id %llu): no SER-FIQ quality", m->path, i, (unsigned long long)ids[i]);
    return XFIQ_OK;
}

static void quality_from(const serfiq_image_result *r, xfiq_quality *q)
{
    q->serfiq_raw = (float)r->r.q_raw;
    q->serfiq = (float)r->r.q;
    q->magnitude = (float)r->magnitude;
    q->sum_e = (float)r->sum_e;
    q->unstable = fabs(q->sum_e) < 0.1;
    q->mean_plq = NAN;
}

static uint64_t *default_ids(xfiq_model_t m, const uint64_t *ids, int n, uint64_t **owned)
{
    *owned = NULL;
    if (ids)
        return (uint64_t *)ids;
    (void)m;
    uint64_t *v = malloc((size_t)n * sizeof *v);
    if (v)
        for (int i = 0; i < n; i++)
            v[i] = (uint64_t)i;
    *owned = v;
    return v;
}

/* Images of this model can be fed (3 channels, or 1 with order GREY). */
static xfiq_status check_image_model(xfiq_model_t m, const char *what)
{
    if (m->card.channels != 3 && !(m->card.channels == 1 && m->card.order == XFIQ_ORDER_GREY))
        return xfiq_error(XFIQ_ERR_UNSUPPORTED, "%s: %s needs an image model (3 channels, or 1 with order GREY)",
                          m->path, what);
    return XFIQ_OK;
}

static xfiq_status feed(xfiq_model_t m, xfiq_runner *r, const uint8_t *pixels, int k)
{
    return xfiq_runner_input_u8(r, pixels, k, m->card.height, m->card.width, (int)m->card.order, m->card.mean,
                                m->card.scale);
}

xfiq_status xfiq_model_serfiq(xfiq_model_t m, const uint8_t *pixels, int n, const uint64_t *ids,
                              const xfiq_serfiq_opts *o, xfiq_quality *out, float *embeddings)
{
    if (!m || !pixels || n < 1 || !o || !out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_model_serfiq: NULL argument or n < 1");
    XFIQ_TRY(check_opts(o));
    XFIQ_TRY(check_image_model(m, "SER-FIQ"));
    XFIQ_TRY(xfiq_model_prepare_head(m));
    uint64_t *own;
    const uint64_t *id = default_ids(m, ids, n, &own);
    const int D = (int)m->g.values[m->g.output].numel, chunk = m->be->ops->chunk;
    const size_t img = (size_t)m->card.width * (size_t)m->card.height * 3;
    serfiq_image_result *res = (serfiq_image_result *)scratch(m, 0, (size_t)chunk * sizeof *res / sizeof(float) + 1);
    xfiq_status st = id && res ? XFIQ_OK : xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    if (st == XFIQ_OK)
        st = xfiq_runner_reserve(&m->full, n < chunk ? n : chunk);
    for (int s = 0; s < n && st == XFIQ_OK; s += chunk) {
        int k = n - s < chunk ? n - s : chunk;
        if ((st = feed(m, &m->full, pixels + (size_t)s * img, k)) != XFIQ_OK ||
            (st = xfiq_runner_run(&m->full, k)) != XFIQ_OK ||
            (st = serfiq_stage(m, &m->full, m->embedding_value, k, id + s, o, res)) != XFIQ_OK)
            break;
        for (int i = 0; i < k; i++)
            quality_from(&res[i], &out[s + i]);
        if (embeddings)
            st = xfiq_runner_read(&m->full, m->g.output, k, embeddings + (size_t)s * (size_t)D);
    }
    free(own);
    return st;
}

xfiq_status xfiq_model_plq(xfiq_model_t m, const uint8_t *pixels, int n, const uint64_t *ids,
                           const xfiq_plq_opts *o, xfiq_quality *out, float *maps, float *grad_mag)
{
    if (!m || !pixels || n < 1 || !o || !out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_model_plq: NULL argument or n < 1");
    XFIQ_TRY(check_image_model(m, "PLQ"));
    if (!(o->a >= 0) || !(o->b > 0) || isinf(o->a) || isinf(o->b))
        return xfiq_error(XFIQ_ERR_ARG, "PLQ map constants need finite a >= 0 and b > 0 (got a=%g, b=%g)", o->a, o->b);
    if (o->mode != XFIQ_PLQ_PAPER && o->mode != XFIQ_PLQ_SIGNED && o->mode != XFIQ_PLQ_MAGNITUDE)
        return xfiq_error(XFIQ_ERR_ARG, "unknown PLQ regression mode %d", (int)o->mode);
    XFIQ_TRY(check_opts(&o->serfiq));
    XFIQ_TRY(xfiq_model_prepare_head(m));
    XFIQ_TRY(xfiq_model_prepare_backward(m));
    const xfiq_backend_ops *ops = m->be->ops;
    uint64_t *own;
    const uint64_t *id = default_ids(m, ids, n, &own);
    const int D = (int)m->gb.values[m->gb.output].numel, H = m->card.height, W = m->card.width;
    const int C = (int)m->gb.values[m->gb.input].dims[1], chunk = ops->plq_chunk;
    const size_t img = (size_t)W * (size_t)H * 3, hw = (size_t)W * (size_t)H;
    serfiq_image_result *res = (serfiq_image_result *)scratch(m, 0, (size_t)chunk * sizeof *res / sizeof(float) + 1);
    xfiq_status st = id && res ? XFIQ_OK : xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    if (st == XFIQ_OK)
        st = xfiq_runner_reserve(&m->back, n < chunk ? n : chunk);
    for (int s = 0; s < n && st == XFIQ_OK; s += chunk) {
        const int k = n - s < chunk ? n - s : chunk;
        float *seed, *gx;
        if ((st = feed(m, &m->back, pixels + (size_t)s * img, k)) != XFIQ_OK ||
            (st = xfiq_runner_run(&m->back, k)) != XFIQ_OK ||
            (st = serfiq_stage(m, &m->back, m->gb_embedding_value, k, id + s, &o->serfiq, res)) != XFIQ_OK)
            break;
        /* Seed on the device from z and Q, backward to the model input, then
         * the maps: only the per-image numbers and the maps asked for come back. */
        if ((st = xfiq_runner_backward_begin(&m->back, k, &seed)) != XFIQ_OK ||
            (st = ops->plq_seed(m->be->ctx, (int)o->mode, xfiq_runner_value(&m->back, m->gb.output), k, D, m->q_res,
                                seed)) != XFIQ_OK ||
            (st = xfiq_runner_backward_run(&m->back, k, &gx)) != XFIQ_OK ||
            (st = ops->plq_map(m->be->ctx, gx, k, C, H, W, (int)m->card.order, m->card.scale, (float)o->a,
                               (float)o->b, m->q_mask, m->q_maps, grad_mag ? m->q_gmag : NULL, m->q_res)) != XFIQ_OK ||
            (st = ops->download(m->be->ctx, res, m->q_res, (size_t)k * sizeof *res)) != XFIQ_OK)
            break;
        for (int i = 0; i < k; i++) {
            quality_from(&res[i], &out[s + i]);
            out[s + i].mean_plq = (float)res[i].mean_plq;
            if (res[i].plq_denom == 0.0)
                out[s + i].unstable = 1; /* no regression direction: the map is undefined (zero gradient) */
        }
        if (maps && (st = ops->download(m->be->ctx, maps + (size_t)s * hw, m->q_maps, (size_t)k * hw * sizeof(float))) !=
                        XFIQ_OK)
            break;
        if (grad_mag &&
            (st = ops->download(m->be->ctx, grad_mag + (size_t)s * hw, m->q_gmag, (size_t)k * hw * sizeof(float))) !=
                XFIQ_OK)
            break;
    }
    free(own);
    return st;
}

xfiq_status xfiq_model_set_calibration(xfiq_model_t m, const xfiq_calibration *cal)
{
    if (!m || !cal)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_model_set_calibration: NULL argument");
    m->card.has_calibration = 1;
    m->card.serfiq_alpha = cal->serfiq_alpha;
    m->card.serfiq_r = cal->serfiq_r;
    m->card.plq_a = cal->plq_a;
    m->card.plq_b = cal->plq_b;
    m->card.plq_mode = (int)cal->plq_mode;
    return XFIQ_OK;
}

xfiq_status xfiq_model_calibrate(xfiq_model_t m, const uint8_t *pixels, int n, const uint64_t *ids,
                                 const xfiq_plq_opts *o, xfiq_calibration *out)
{
    if (!m || !pixels || !o || !out || n < 20)
        return xfiq_error(XFIQ_ERR_ARG, "calibration needs at least 20 reference faces (got %d)", n);
    memset(out, 0, sizeof *out);
    int H = m->card.height, W = m->card.width;
    size_t hw = (size_t)H * W;
    xfiq_quality *q = malloc((size_t)n * sizeof *q);
    double *v = malloc((size_t)n * sizeof *v);
    uint8_t *mask = malloc(hw);
    float *gm = malloc((size_t)PLQ_CHUNK * hw * sizeof *gm);
    size_t n_in = 0;
    xfiq_status st = q && v && mask && gm ? XFIQ_OK : xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    double *g = NULL;
    if (st == XFIQ_OK) {
        plq_face_mask_default(H, W, mask);
        for (size_t p = 0; p < hw; p++)
            n_in += mask[p] != 0;
        g = malloc((size_t)n * n_in * sizeof *g);
        if (!g)
            st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    }
    /* 1. SER-FIQ scaling from the raw qualities. */
    if (st == XFIQ_OK)
        st = xfiq_model_serfiq(m, pixels, n, ids, &o->serfiq, q, NULL);
    if (st == XFIQ_OK) {
        for (int i = 0; i < n; i++)
            v[i] = q[i].serfiq_raw;
        st = calib_serfiq(v, (size_t)n, 5, 95, 0.1, 0.9, &out->serfiq_alpha, &out->serfiq_r);
        calib_percentile(v, (size_t)n, 5, &out->q_raw_p5);
        calib_percentile(v, (size_t)n, 50, &out->q_raw_p50);
        calib_percentile(v, (size_t)n, 95, &out->q_raw_p95);
    }
    /* 2. Map scale from the face-region gradients under the new scaling. */
    xfiq_plq_opts po = *o;
    po.serfiq.alpha = out->serfiq_alpha;
    po.serfiq.r = out->serfiq_r;
    size_t ng = 0;
    for (int s = 0; s < n && st == XFIQ_OK; s += PLQ_CHUNK) {
        int k = n - s < PLQ_CHUNK ? n - s : PLQ_CHUNK;
        uint64_t idbuf[PLQ_CHUNK];
        for (int i = 0; i < k; i++)
            idbuf[i] = ids ? ids[s + i] : (uint64_t)(s + i);
        st = xfiq_model_plq(m, pixels + (size_t)s * hw * 3, k, idbuf, &po, q + s, NULL, gm);
        for (int i = 0; i < k && st == XFIQ_OK; i++)
            for (size_t p = 0; p < hw; p++)
                if (mask[p])
                    g[ng++] = gm[(size_t)i * hw + p];
    }
    if (st == XFIQ_OK)
        st = calib_percentile(g, ng, 50, &out->grad_median);
    if (st == XFIQ_OK && !(out->grad_median > 0))
        st = xfiq_error(XFIQ_ERR_ARG, "the median face-pixel gradient is %g: cannot scale the PLQ map",
                        out->grad_median);
    if (st == XFIQ_OK) {
        out->plq_b = o->b;
        out->plq_a = plq_calibrate_a(out->grad_median, o->b);
        out->plq_mode = o->mode;
        out->n_faces = n;
    }
    free(q);
    free(v);
    free(mask);
    free(gm);
    free(g);
    return st;
}

xfiq_status xfiq_model_save_card(xfiq_model_t m, const char *path, const char *reference_note)
{
    if (!m || !path)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_model_save_card: NULL argument");
    if (reference_note)
        snprintf(m->card.calibration_note, sizeof m->card.calibration_note, "%s", reference_note);
    return xfiq_card_save(&m->card, path);
}
