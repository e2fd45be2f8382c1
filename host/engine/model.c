/* model.c - the public model calls: load (ONNX + card + graph passes), plan,
 * run the op table node by node, embed. */
#include "engine/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/status.h"
#include "io/sha256.h"
#include "onnx/onnx_import.h"
#include "ops/elem.h"

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The card: the one given, else "<model>.card.json" beside the file, else a
 * known model's card found by the file's sha256 (xfiq_card_find_known), else
 * the family defaults. A card that names its model's sha256 is refused for
 * any other file. */
static xfiq_status resolve_card(xfiq_model_t m, const char *onnx_path, const char *card_path)
{
    xfiq_card_default(&m->g, onnx_path, &m->card);
    char sibling[4096], digest[65] = "";
    if (!card_path) {
        size_t n = strlen(onnx_path);
        if (n > 5 && !strcmp(onnx_path + n - 5, ".onnx"))
            n -= 5;
        snprintf(sibling, sizeof sibling, "%.*s.card.json", (int)n, onnx_path);
        if (file_exists(sibling))
            card_path = sibling;
    }
    if (card_path) {
        XFIQ_TRY(xfiq_card_load(card_path, &m->card));
        if (m->card.sha256[0]) {
            XFIQ_TRY(xfiq_sha256_file(onnx_path, digest));
            if (strcmp(digest, m->card.sha256))
                return xfiq_error(XFIQ_ERR_FORMAT,
                                  "%s: the card is for another model file: it names sha256 %.12s..., "
                                  "but %s has sha256 %.12s... (a different or damaged file; give its own card "
                                  "with --card, or remove \"sha256\" from the card)",
                                  card_path, m->card.sha256, onnx_path, digest);
        }
    } else {
        XFIQ_TRY(xfiq_sha256_file(onnx_path, digest));
        if (xfiq_card_find_known(digest, &m->card) < 0)
            return XFIQ_ERR_FORMAT;
    }
    const xfiq_value *in = &m->g.values[m->g.input];
    const xfiq_card *c = &m->card;
    if (c->channels != in->dims[1] || c->height != in->dims[2] || c->width != in->dims[3])
        return xfiq_error(XFIQ_ERR_SHAPE, "%s: card says input %dx%dx%d but the graph takes %lldx%lldx%lld",
                          c->source[0] ? c->source : onnx_path, c->channels, c->height, c->width,
                          (long long)in->dims[1], (long long)in->dims[2], (long long)in->dims[3]);
    return XFIQ_OK;
}

int xfiq_model_is_calibrated(xfiq_model_t m)
{
    return m && m->card.has_calibration;
}

const char *xfiq_model_card_source(xfiq_model_t m)
{
    return m ? m->card.source : "";
}

static xfiq_status resolve_embedding(xfiq_model_t m)
{
    xfiq_graph *g = &m->g;
    if (m->card.embedding_layer[0]) {
        m->embedding_value = xfiq_graph_find_value(g, m->card.embedding_layer);
        if (m->embedding_value < 0 || (g->values[m->embedding_value].producer < 0 && m->embedding_value != g->input))
            return xfiq_error(XFIQ_ERR_FORMAT, "%s: card's embedding_layer '%s' is not a value of the graph",
                              m->card.source, m->card.embedding_layer);
    } else {
        m->embedding_value = -1;
        for (int i = g->n_nodes - 1; i >= 0; i--)
            if (g->nodes[i].op == XFIQ_OP_CONV || g->nodes[i].op == XFIQ_OP_GEMM) {
                m->embedding_value = g->nodes[i].in[0];
                break;
            }
        if (m->embedding_value < 0)
            return xfiq_error(XFIQ_ERR_FORMAT, "%s: the graph has no Conv/Gemm to take as embedding layer", m->path);
        snprintf(m->card.embedding_layer, sizeof m->card.embedding_layer, "%s", g->values[m->embedding_value].name);
    }
    g->values[m->embedding_value].keep = 1;
    return XFIQ_OK;
}

xfiq_status xfiq_model_load(xfiq_backend_t be, const char *onnx_path, const char *card_path, xfiq_model_t *out)
{
    if (!be || !onnx_path || !out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_model_load: backend, path and out are required");
    *out = NULL;
    xfiq_model_t m = calloc(1, sizeof *m);
    if (!m || !(m->path = dup_str(onnx_path))) {
        free(m);
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    }
    m->be = be;
    xfiq_status st = xfiq_onnx_import(onnx_path, &m->g);
    if (st == XFIQ_OK && m->g.n_outputs != 1) {
        /* joined outputs suit the detector, not an embedding */
        st = xfiq_error(XFIQ_ERR_UNSUPPORTED, "%s: a face recognition model must have exactly one output (this graph "
                        "has %d)", onnx_path, m->g.n_outputs);
        xfiq_graph_free(&m->g);
    }
    if (st != XFIQ_OK) {
        free(m->path);
        free(m);
        return st;
    }
    if ((st = resolve_card(m, onnx_path, card_path)) != XFIQ_OK || (st = resolve_embedding(m)) != XFIQ_OK ||
        (st = xfiq_graph_optimize(&m->g, 1)) != XFIQ_OK) {
        xfiq_model_free(m);
        return st;
    }
    if ((st = xfiq_runner_init(&m->full, be, &m->g, m->path, 0)) != XFIQ_OK) {
        xfiq_model_free(m);
        return st;
    }
    *out = m;
    return XFIQ_OK;
}

void xfiq_model_free(xfiq_model_t m)
{
    if (!m)
        return;
    if (m->qblock)
        m->be->ops->mem_free(m->be->ctx, m->qblock);
    /* Runners sharing the full runner's parameters go first. */
    xfiq_runner_free(&m->head_run);
    xfiq_runner_free(&m->back);
    xfiq_runner_free(&m->full);
    xfiq_graph_free(&m->head);
    xfiq_graph_free(&m->gb);
    for (int i = 0; i < 4; i++)
        free(m->scratch[i]);
    xfiq_graph_free(&m->g);
    free(m->path);
    free(m);
}

xfiq_status xfiq_model_get_info(xfiq_model_t m, xfiq_model_info *info)
{
    if (!m || !info)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_model_get_info: NULL argument");
    memset(info, 0, sizeof *info);
    info->input_width = m->card.width;
    info->input_height = m->card.height;
    info->input_channels = m->card.channels;
    info->embedding_dim = (int)m->g.values[m->g.output].numel;
    info->channel_order = m->card.order;
    memcpy(info->mean, m->card.mean, sizeof info->mean);
    memcpy(info->scale, m->card.scale, sizeof info->scale);
    info->num_params = xfiq_graph_num_params(&m->g);
    info->macs_per_image = xfiq_graph_macs(&m->g);
    info->name = m->card.name;
    info->family = m->card.family;
    info->embedding_layer = m->card.embedding_layer;
    return XFIQ_OK;
}

xfiq_status xfiq_model_prepare_head(xfiq_model_t m)
{
    if (m->head.n_nodes)
        return XFIQ_OK;
    xfiq_status st = xfiq_graph_subgraph(&m->g, m->embedding_value, &m->head);
    if (st != XFIQ_OK)
        return xfiq_error_prefix(st, "%s: SER-FIQ head after embedding layer '%s'", m->path, m->card.embedding_layer);
    if ((st = xfiq_runner_init_shared(&m->head_run, m->be, &m->head, m->path, 0, &m->full)) != XFIQ_OK)
        xfiq_graph_free(&m->head);
    return st;
}

xfiq_status xfiq_model_prepare_backward(xfiq_model_t m)
{
    if (m->gb.n_nodes)
        return XFIQ_OK;
    /* Re-read the file: the loaded graph already has activations fused away. */
    XFIQ_TRY(xfiq_onnx_import(m->path, &m->gb));
    xfiq_status st = XFIQ_OK;
    m->gb_embedding_value = xfiq_graph_find_value(&m->gb, m->card.embedding_layer);
    if (m->gb_embedding_value < 0)
        st = xfiq_error(XFIQ_ERR_INTERNAL, "%s: embedding layer '%s' vanished", m->path, m->card.embedding_layer);
    else {
        m->gb.values[m->gb_embedding_value].keep = 1;
        if ((st = xfiq_graph_optimize(&m->gb, 0)) == XFIQ_OK)
            st = xfiq_runner_init_shared(&m->back, m->be, &m->gb, m->path, 1, &m->full);
    }
    if (st != XFIQ_OK)
        xfiq_graph_free(&m->gb);
    return st;
}

void xfiq_model_preprocess(const xfiq_card *card, const uint8_t *rgb, int n, float *out)
{
    int64_t hw = (int64_t)card->width * card->height;
    for (int i = 0; i < n; i++) {
        const uint8_t *src = rgb + (size_t)i * (size_t)hw * 3;
        float *dst = out + (size_t)i * (size_t)hw * (size_t)card->channels;
        if (card->order == XFIQ_ORDER_GREY) {
            for (int64_t p = 0; p < hw; p++) {
                dst[p] = xfiq_preprocess(xfiq_luma_u8(src[3 * p], src[3 * p + 1], src[3 * p + 2]), card->mean[0],
                                         card->scale[0]);
            }
            continue;
        }
        for (int c = 0; c < 3; c++) {
            int sc = card->order == XFIQ_ORDER_BGR ? 2 - c : c;
            for (int64_t p = 0; p < hw; p++)
                dst[c * hw + p] = xfiq_preprocess(src[3 * p + sc], card->mean[c], card->scale[c]);
        }
    }
}

xfiq_status xfiq_model_forward(xfiq_model_t m, const float *input_nchw, int n, float *embeddings)
{
    if (!m || !input_nchw || !embeddings || n < 1)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_model_forward: NULL argument or n < 1");
    int64_t in_numel = m->g.values[m->g.input].numel, d = m->g.values[m->g.output].numel;
    const int chunk = m->be->ops->chunk;
    for (int s = 0; s < n; s += chunk) {
        int k = n - s < chunk ? n - s : chunk;
        XFIQ_TRY(xfiq_runner_reserve(&m->full, k));
        float *in = xfiq_runner_input_host(&m->full);
        if (!in)
            return xfiq_error(XFIQ_ERR_NOMEM, "out of memory for the input staging buffer");
        memcpy(in, input_nchw + (size_t)s * (size_t)in_numel, (size_t)k * (size_t)in_numel * sizeof(float));
        XFIQ_TRY(xfiq_runner_run(&m->full, k));
        XFIQ_TRY(xfiq_runner_read(&m->full, m->g.output, k, embeddings + (size_t)s * (size_t)d));
    }
    return XFIQ_OK;
}

xfiq_status xfiq_model_embed(xfiq_model_t m, const uint8_t *pixels, int n, float *embeddings, float *magnitudes)
{
    if (!m || !pixels || !embeddings || n < 1)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_model_embed: NULL argument or n < 1");
    if (m->card.channels != 3 && !(m->card.channels == 1 && m->card.order == XFIQ_ORDER_GREY))
        return xfiq_error(XFIQ_ERR_UNSUPPORTED, "%s: images cannot feed a model with %d input channels (3, or 1 with "
                          "order GREY); use xfiq_model_forward", m->path, m->card.channels);
    int64_t d = m->g.values[m->g.output].numel;
    size_t img_bytes = (size_t)m->card.width * (size_t)m->card.height * 3;
    const int chunk = m->be->ops->chunk, h = m->card.height, w = m->card.width, order = (int)m->card.order;
    XFIQ_TRY(xfiq_runner_reserve(&m->full, n < chunk ? n : chunk));
    /* The next chunk's pixels are staged and uploaded (on CUDA, a second
     * stream) before this chunk's result is read: the copy overlaps the
     * network's work. The planner keeps the input buffer apart from every
     * other value, so the next input never overwrites this output. */
    XFIQ_TRY(xfiq_runner_input_u8(&m->full, pixels, n < chunk ? n : chunk, h, w, order, m->card.mean, m->card.scale));
    for (int s = 0; s < n; s += chunk) {
        int k = n - s < chunk ? n - s : chunk, next = s + chunk;
        XFIQ_TRY(xfiq_runner_run(&m->full, k));
        if (next < n)
            XFIQ_TRY(xfiq_runner_input_u8(&m->full, pixels + (size_t)next * img_bytes, n - next < chunk ? n - next : chunk,
                                          h, w, order, m->card.mean, m->card.scale));
        XFIQ_TRY(xfiq_runner_read(&m->full, m->g.output, k, embeddings + (size_t)s * (size_t)d));
    }
    if (magnitudes)
        for (int i = 0; i < n; i++) {
            double ss = 0;
            for (int64_t j = 0; j < d; j++)
                ss += (double)embeddings[(size_t)i * (size_t)d + (size_t)j] * embeddings[(size_t)i * (size_t)d + (size_t)j];
            magnitudes[i] = (float)sqrt(ss);
        }
    return XFIQ_OK;
}
