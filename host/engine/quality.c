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

/* SER-FIQ of the k images whose forward pass runner r has just run: reads
 * the deterministic output z (k x D) and the embedding-layer activation. */
static xfiq_status serfiq_after_run(xfiq_model_t m, xfiq_runner *r, int emb_value, int k, const uint64_t *ids,
                                    const xfiq_serfiq_opts *o, xfiq_quality *out, float *z)
{
    const xfiq_value *ev = &r->g->values[emb_value];
    int E = (int)ev->numel, D = (int)r->g->values[r->g->output].numel, T = o->T;
    serfiq_dropout cfg = {.seed = o->seed, .p = o->p, .kind = o->channel_wise ? SERFIQ_MASK_CHANNEL : SERFIQ_MASK_ELEMENT,
                          .dim = E, .spatial = o->channel_wise && ev->ndim > 2 ? (int)(E / ev->dims[1]) : 1};
    XFIQ_TRY(serfiq_dropout_check(&cfg));
    XFIQ_TRY(xfiq_runner_read(r, r->g->output, k, z));
    float *x = scratch(m, 1, (size_t)k * (size_t)E);
    int per = HEAD_ROWS / T > 0 ? HEAD_ROWS / T : 1;
    per = per < k ? per : k;
    float *y = scratch(m, 2, (size_t)per * (size_t)T * (size_t)D);
    void *work = scratch(m, 3, (serfiq_workspace_bytes(T, D) + sizeof(float) - 1) / sizeof(float));
    if (!x || !y || !work)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory for SER-FIQ buffers");
    XFIQ_TRY(xfiq_runner_read(r, emb_value, k, x));
    XFIQ_TRY(xfiq_runner_reserve(&m->head_run, per * T));
    for (int s = 0; s < k; s += per) {
        int c = k - s < per ? k - s : per;
        XFIQ_TRY(serfiq_heads_input(&cfg, ids + s, x + (size_t)s * (size_t)E, c, T,
                                    xfiq_runner_input_host(&m->head_run), m->be->num_threads));
        XFIQ_TRY(xfiq_runner_run(&m->head_run, c * T));
        XFIQ_TRY(xfiq_runner_read(&m->head_run, m->head.output, c * T, y));
        for (int i = 0; i < c; i++) {
            serfiq_result res;
            XFIQ_TRY(serfiq_quality(y + (size_t)i * (size_t)T * (size_t)D, T, D, o->alpha, o->r, work, &res));
            xfiq_quality *q = &out[s + i];
            const float *zi = z + (size_t)(s + i) * (size_t)D;
            double ss = 0, sum = 0;
            for (int j = 0; j < D; j++) {
                ss += (double)zi[j] * zi[j];
                sum += zi[j];
            }
            q->serfiq_raw = (float)res.q_raw;
            q->serfiq = (float)res.q;
            q->magnitude = (float)sqrt(ss);
            q->sum_e = ss > 0 ? (float)(sum / sqrt(ss)) : 0.0f;
            q->unstable = fabs(q->sum_e) < 0.1;
            q->mean_plq = NAN;
        }
    }
    return XFIQ_OK;
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

xfiq_status xfiq_model_serfiq(xfiq_model_t m, const uint8_t *pixels, int n, const uint64_t *ids,
                              const xfiq_serfiq_opts *o, xfiq_quality *out, float *embeddings)
{
    if (!m || !pixels || n < 1 || !o || !out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_model_serfiq: NULL argument or n < 1");
    XFIQ_TRY(check_opts(o));
    XFIQ_TRY(xfiq_model_prepare_head(m));
    uint64_t *own;
    const uint64_t *id = default_ids(m, ids, n, &own);
    int D = (int)m->g.values[m->g.output].numel;
    size_t img = (size_t)m->card.width * (size_t)m->card.height * 3;
    float *z = scratch(m, 0, (size_t)XFIQ_MAX_CHUNK * (size_t)D);
    xfiq_status st = id && z ? XFIQ_OK : xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    for (int s = 0; s < n && st == XFIQ_OK; s += XFIQ_MAX_CHUNK) {
        int k = n - s < XFIQ_MAX_CHUNK ? n - s : XFIQ_MAX_CHUNK;
        if ((st = xfiq_runner_reserve(&m->full, k)) != XFIQ_OK)
            break;
        xfiq_model_preprocess(&m->card, pixels + (size_t)s * img, k, xfiq_runner_input_host(&m->full));
        if ((st = xfiq_runner_run(&m->full, k)) != XFIQ_OK ||
            (st = serfiq_after_run(m, &m->full, m->embedding_value, k, id + s, o, out + s, z)) != XFIQ_OK)
            break;
        if (embeddings)
            memcpy(embeddings + (size_t)s * (size_t)D, z, (size_t)k * (size_t)D * sizeof(float));
    }
    free(own);
    return st;
}

/* dQ/dx (model input, C x H x W) -> dQ/dpixel (RGB planar, 3 x H x W). */
static void to_pixel_units(const xfiq_card *c, const float *gx, float *gp)
{
    size_t hw = (size_t)c->width * (size_t)c->height;
    if (c->order == XFIQ_ORDER_GREY) {
        static const float luma[3] = {0.299f, 0.587f, 0.114f};
        for (int ch = 0; ch < 3; ch++)
            for (size_t p = 0; p < hw; p++)
                gp[ch * hw + p] = luma[ch] * c->scale[0] * gx[p];
        return;
    }
    for (int ch = 0; ch < 3; ch++) {
        int src = c->order == XFIQ_ORDER_BGR ? 2 - ch : ch;
        for (size_t p = 0; p < hw; p++)
            gp[(size_t)src * hw + p] = c->scale[ch] * gx[(size_t)ch * hw + p];
    }
}

xfiq_status xfiq_model_plq(xfiq_model_t m, const uint8_t *pixels, int n, const uint64_t *ids,
                           const xfiq_plq_opts *o, xfiq_quality *out, float *maps, float *grad_mag)
{
    if (!m || !pixels || n < 1 || !o || !out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_model_plq: NULL argument or n < 1");
    if (m->card.channels != 3 && !(m->card.channels == 1 && m->card.order == XFIQ_ORDER_GREY))
        return xfiq_error(XFIQ_ERR_UNSUPPORTED, "%s: PLQ needs an image model (3 channels, or 1 with order GREY)",
                          m->path);
    if (!(o->a >= 0) || !(o->b > 0))
        return xfiq_error(XFIQ_ERR_ARG, "PLQ map constants need a >= 0 and b > 0 (got a=%g, b=%g)", o->a, o->b);
    XFIQ_TRY(check_opts(&o->serfiq));
    XFIQ_TRY(xfiq_model_prepare_head(m));
    XFIQ_TRY(xfiq_model_prepare_backward(m));
    uint64_t *own;
    const uint64_t *id = default_ids(m, ids, n, &own);
    int D = (int)m->gb.values[m->gb.output].numel, H = m->card.height, W = m->card.width;
    size_t img = (size_t)W * (size_t)H * 3, hw = (size_t)W * (size_t)H;
    size_t in_numel = (size_t)m->gb.values[m->gb.input].numel;
    float *z = scratch(m, 0, (size_t)PLQ_CHUNK * (size_t)D);
    float *seeds = malloc((size_t)PLQ_CHUNK * (size_t)D * sizeof *seeds);
    float *dx = malloc((size_t)PLQ_CHUNK * in_numel * sizeof *dx), *gp = malloc(3 * hw * sizeof *gp);
    float *mm = malloc(hw * sizeof *mm), *pm = malloc(hw * sizeof *pm);
    uint8_t *mask = malloc(hw);
    xfiq_status st = id && z && seeds && dx && gp && mm && pm && mask ? XFIQ_OK
                                                                       : xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    if (mask)
        plq_face_mask_default(H, W, mask);
    for (int s = 0; s < n && st == XFIQ_OK; s += PLQ_CHUNK) {
        int k = n - s < PLQ_CHUNK ? n - s : PLQ_CHUNK;
        if ((st = xfiq_runner_reserve(&m->back, k)) != XFIQ_OK)
            break;
        xfiq_model_preprocess(&m->card, pixels + (size_t)s * img, k, xfiq_runner_input_host(&m->back));
        if ((st = xfiq_runner_run(&m->back, k)) != XFIQ_OK ||
            (st = serfiq_after_run(m, &m->back, m->gb_embedding_value, k, id + s, &o->serfiq, out + s, z)) != XFIQ_OK)
            break;
        for (int i = 0; i < k && st == XFIQ_OK; i++) {
            plq_regress_info info;
            st = plq_regression_seed((plq_mode)o->mode, z + (size_t)i * (size_t)D, D, out[s + i].serfiq,
                                     seeds + (size_t)i * (size_t)D, &info);
            if (st == XFIQ_ERR_ARG) {
                /* sum(e) exactly 0 (paper mode): no regression weight exists; the map is undefined. */
                memset(seeds + (size_t)i * (size_t)D, 0, (size_t)D * sizeof(float));
                out[s + i].unstable = 1;
                st = XFIQ_OK;
            }
        }
        if (st != XFIQ_OK || (st = xfiq_runner_backward(&m->back, k, seeds, dx)) != XFIQ_OK)
            break;
        for (int i = 0; i < k && st == XFIQ_OK; i++) {
            to_pixel_units(&m->card, dx + (size_t)i * in_numel, gp);
            st = plq_map_compute(gp, 3, H, W, (float)o->a, (float)o->b, mm, pm);
            out[s + i].mean_plq = (float)plq_map_mean(pm, H, W, mask);
            if (maps)
                memcpy(maps + (size_t)(s + i) * hw, pm, hw * sizeof(float));
            if (grad_mag)
                memcpy(grad_mag + (size_t)(s + i) * hw, mm, hw * sizeof(float));
        }
    }
    free(own);
    free(seeds);
    free(dx);
    free(gp);
    free(mm);
    free(pm);
    free(mask);
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
