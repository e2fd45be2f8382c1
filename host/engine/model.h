/* model.h - the model object behind xfiq_model_t, shared by the engine's
 * embed, SER-FIQ and PLQ paths. */
#ifndef XFIQ_ENGINE_MODEL_H
#define XFIQ_ENGINE_MODEL_H

#include "backend/backend.h"
#include "engine/card.h"
#include "engine/plan.h"
#include "engine/runner.h"
#include "graph/graph.h"

/* Images per forward call on the CPU (the backend table's chunk); larger
 * requests are split so memory stays bounded. */
#define XFIQ_MAX_CHUNK 64

struct xfiq_model {
    xfiq_backend_t be;
    xfiq_graph g;
    xfiq_card card;
    char *path;
    int embedding_value;     /* value feeding the embedding layer */
    xfiq_runner full;        /* the whole network (BN folded, activations fused) */
    /* SER-FIQ: the part after the embedding layer, run for B*T dropout rows. */
    xfiq_graph head;
    xfiq_runner head_run;
    /* PLQ: the network without fused activations (backward needs the
     * pre-activations), run with every activation retained. */
    xfiq_graph gb;
    xfiq_runner back;
    int gb_embedding_value;
    /* Host scratch of the quality paths, grown on demand outside forward/backward. */
    float *scratch[4];
    size_t scratch_bytes[4];
    /* Backend memory of the quality stages, one block grown on demand
     * outside forward/backward and carved into: */
    char *qblock;
    size_t qbytes;
    uint64_t *q_ids;             /* (images) image ids of the chunk */
    serfiq_image_result *q_res;  /* (images) per-image results */
    double *q_work;              /* serfiq_work_doubles(head images, T, D) */
    float *q_maps, *q_gmag;      /* (plq images, H, W) PLQ maps and gradient magnitudes */
    uint8_t *q_mask;             /* (H, W) face region of the map mean */
};

/* Lazily builds the SER-FIQ head / the backward graph. */
xfiq_status xfiq_model_prepare_head(xfiq_model_t m);
xfiq_status xfiq_model_prepare_backward(xfiq_model_t m);
/* u8 HWC RGB -> the model's float NCHW input per the card. */
void xfiq_model_preprocess(const xfiq_card *card, const uint8_t *rgb, int n, float *out);

#endif
