/* model.h - the model object behind xfiq_model_t, shared by the engine's
 * embed, SER-FIQ and PLQ paths. */
#ifndef XFIQ_ENGINE_MODEL_H
#define XFIQ_ENGINE_MODEL_H

#include "backend/backend.h"
#include "engine/card.h"
#include "engine/plan.h"
#include "graph/graph.h"

/* Images per forward call; larger requests are split so memory stays bounded. */
#define XFIQ_MAX_CHUNK 64

struct xfiq_model {
    xfiq_backend_t be;
    xfiq_graph g;
    xfiq_card card;
    char *path;
    int embedding_value;     /* value feeding the embedding layer */
    xfiq_plan plan;          /* for plan.batch images */
    char *block;             /* backend memory: activations + workspace */
    float *params;           /* graph params in backend memory (== g.params on the CPU) */
    float *staging;          /* host input (batch, C, H, W) when the backend is not the host */
};

/* Makes sure the plan and its block hold n images (allocates only when n grows). */
xfiq_status xfiq_model_reserve(xfiq_model_t m, int n);
/* Host pointer where the (n, C, H, W) input goes before xfiq_model_run. */
float *xfiq_model_input_host(xfiq_model_t m);
/* Runs the forward pass on the n images already placed in the input. */
xfiq_status xfiq_model_run(xfiq_model_t m, int n);
/* u8 HWC RGB -> the model's float NCHW input per the card. */
void xfiq_model_preprocess(const xfiq_card *card, const uint8_t *rgb, int n, float *out);

#endif
