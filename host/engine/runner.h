/* runner.h - executes one graph on one backend: parameters in backend
 * memory, a memory plan for the largest batch seen, the op table walk.
 * A model holds several (the whole network, SER-FIQ's head, the unfused
 * network for backward). */
#ifndef XFIQ_ENGINE_RUNNER_H
#define XFIQ_ENGINE_RUNNER_H

#include "backend/backend.h"
#include "engine/plan.h"
#include "graph/graph.h"

typedef struct xfiq_runner {
    xfiq_backend_t be;
    const xfiq_graph *g;
    const char *label;        /* for messages: the model file */
    float *params;            /* g->params in backend memory (== g->params on the CPU) */
    int params_shared;        /* params belong to another runner (one upload per model) */
    int input_resident;       /* the next run's input is already in backend memory */
    char *prep_block;         /* data the backend prepared per node at init (packed weights), one block */
    void **prepared;          /* per node: pointer into prep_block or NULL */
    xfiq_plan plan;
    char *block;              /* activations + workspace, backend memory */
    float *staging;           /* host copy of the input when the backend is not the host */
    int retain_all;           /* keep every activation to the end (backward needs them) */
    /* Backward-data state (xfiq_runner_backward): one gradient buffer per value. */
    size_t *grad_offsets;
    char *grad_block;
    size_t grad_bytes;
    int grad_batch;
    unsigned char *grad_written;  /* host: per storage value, holds a contribution */
} xfiq_runner;

xfiq_status xfiq_runner_init(xfiq_runner *r, xfiq_backend_t be, const xfiq_graph *g, const char *label,
                             int retain_all);
/* Same, sharing share's parameters in backend memory when g's parameters are
 * share's (a subgraph) or equal to them (the unfused graph of the same
 * model): the weights are uploaded once per model. */
xfiq_status xfiq_runner_init_shared(xfiq_runner *r, xfiq_backend_t be, const xfiq_graph *g, const char *label,
                                    int retain_all, const xfiq_runner *share);
/* Batch a backend runs for n images: n on the CPU; on other backends the
 * next power of two (within the plan), so that per-layer library plans
 * (cuDNN) are built for a few batch buckets only. */
int xfiq_runner_bucket(const xfiq_runner *r, int n);
/* Backend pointer of value v of the current plan (its first image). */
float *xfiq_runner_value(xfiq_runner *r, int v);
/* The next run's input from n host images of 8-bit RGB, converted per the
 * card by the backend (on the device for CUDA). */
xfiq_status xfiq_runner_input_u8(xfiq_runner *r, const uint8_t *pixels, int n, int h, int w, int order,
                                 const float mean[3], const float scale[3]);
void xfiq_runner_free(xfiq_runner *r);
/* Plans and allocates for n images when n exceeds what is planned. */
xfiq_status xfiq_runner_reserve(xfiq_runner *r, int n);
/* Host pointer for the (n, input...) input of the next run (NULL when out
 * of memory). */
float *xfiq_runner_input_host(xfiq_runner *r);
xfiq_status xfiq_runner_run(xfiq_runner *r, int n);
/* What the op table sees for a run of n images (for tools that walk the nodes themselves, e.g. a profiler). */
xfiq_exec xfiq_runner_exec(xfiq_runner *r, int n);
/* Copies value v of the last run (n images) to host memory. */
xfiq_status xfiq_runner_read(xfiq_runner *r, int value, int n, float *dst);
/* Backward-data after xfiq_runner_run(r, n) of a runner made with
 * retain_all: d(seed . output)/d(input) for each image, with seed (n x
 * output) given on the host; the result (n x input) lands in dinput (host).
 * Needs an unfused graph (no activation fused into Conv/Gemm). */
xfiq_status xfiq_runner_backward(xfiq_runner *r, int n, const float *seed, float *dinput);
/* The same in two steps on backend memory: _begin gives the (n x output)
 * seed buffer to fill, _run walks the graph backward and gives the
 * gradient of the input (n x input, zero where the output does not depend on
 * it). */
xfiq_status xfiq_runner_backward_begin(xfiq_runner *r, int n, float **seed);
xfiq_status xfiq_runner_backward_run(xfiq_runner *r, int n, float **dinput);

#endif
