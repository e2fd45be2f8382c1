/* card.h - model cards: the preprocessing an ONNX file does not carry
 * (channel order, mean, scale, input size) and the embedding layer name. */
#ifndef XFIQ_ENGINE_CARD_H
#define XFIQ_ENGINE_CARD_H

#include "graph/graph.h"
#include "xfiq.h"

typedef struct xfiq_card {
    char name[128];
    char family[32];
    int width, height, channels;
    xfiq_channel_order order;
    float mean[3], scale[3];
    char embedding_layer[256];  /* "" = the input of the last Conv/Gemm */
    char source[512];           /* the card file, or "defaults for <family>" */
    char license[128];
    char origin[1024];          /* the card's "source" text: where the model comes from */
    /* Calibration (xfiq calibrate); has_calibration = 0 means published constants. */
    int has_calibration;
    double serfiq_alpha, serfiq_r, plq_a, plq_b;
    int plq_mode;               /* xfiq_plq_mode */
    char calibration_note[512];
    char sha256[65];            /* the model file's sha256 the card is for ("" = any file) */
} xfiq_card;

/* Reads a card JSON file (format in models/README.md). */
xfiq_status xfiq_card_load(const char *path, xfiq_card *card);
/* Same from JSON text; path names the card in error messages. */
xfiq_status xfiq_card_parse(const char *text, const char *path, xfiq_card *card);
/* The card of a known model, by its file's sha256 (64 hex digits): first the
 * cards in the folders of $XFIQ_CARD_PATH (':'-separated, *.card.json), then
 * the cards of models/ built into the library. Returns 1 and fills card
 * (over what it holds) when found, 0 when not, -1 on an error (a malformed
 * card in $XFIQ_CARD_PATH; message set). */
int xfiq_card_find_known(const char *sha256_hex, xfiq_card *card);
/* Defaults of the family the graph looks like (iResNet: ends in Gemm/MatMul;
 * otherwise MobileFaceNet), input size from the graph. */
void xfiq_card_default(const xfiq_graph *g, const char *model_path, xfiq_card *card);
/* Writes card as JSON to path atomically (the format xfiq_card_load reads). */
xfiq_status xfiq_card_save(const xfiq_card *card, const char *path);

#endif
