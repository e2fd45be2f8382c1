/* cudnn_plan.h - the cuDNN planner's internal C interface for tests, tools
 * and the GPU script (not part of ops_cuda.h, whose launchers are what the
 * engine uses): planning without a device from a JSON device description,
 * the device-description dump, plan-build counters, and the engine-timing
 * cache file. Implemented in cudnn_conv.cu / cudnn_tune.cu. */
#ifndef XFIQ_CUDA_CUDNN_PLAN_H
#define XFIQ_CUDA_CUDNN_PLAN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "graph/graph.h"
#include "xfiq.h"

/* Directions of a convolution plan. */
enum { XFIQ_CUDNN_FWD = 0, XFIQ_CUDNN_BWD_DATA = 1 };

/* What one plan build chose. */
typedef struct xfiq_cudnn_plan_info {
    char engine[128];   /* "eng<global index>" then "_k<knob type>=<value>" per knob */
    size_t workspace;  /* bytes the launcher needs (engine workspace + any scratch) */
    int fused;         /* forward: bias/ReLU done inside cuDNN's graph */
    int scratch;       /* backward, accumulate: cuDNN took no beta = 1 graph, so
                          dx is made in scratch and added by a kernel */
    int heur_mode;     /* 0 heuristics mode A, 1 mode FALLBACK */
    int candidates;    /* acceptable configs that finalized (at most the timing count) */
    int configs_seen, rejected_numerics, rejected_unreadable, unsupported, too_big;
} xfiq_cudnn_plan_info;

/* Finalizes an execution plan for one convolution with no handle and no GPU:
 * the device is the JSON description at json_path (the cuDNN 9.8+ format that
 * xfiq_cudnn_dump_device_json writes; cuda/devprops/). direction is
 * XFIQ_CUDNN_FWD (act/has_bias as for conv2d_fwd_cuda, accumulate ignored) or
 * XFIQ_CUDNN_BWD_DATA (act/has_bias ignored); precision an xfiq_precision.
 * Tensors are taken 16-byte aligned. The plan cannot run (no device); the
 * engine choice is the heuristic order's (no timing). Plans are cached per
 * description file like a device's. XFIQ_ERR_BACKEND names the layer and the
 * rejection counts when no engine qualifies. */
xfiq_status xfiq_cudnn_plan_deviceless(const char *json_path, int direction, const xfiq_conv_desc *d, int n,
                                       int act, int has_bias, int accumulate, int precision,
                                       xfiq_cudnn_plan_info *info);

/* Writes the cuDNN JSON description of CUDA device `device` (a device-property
 * descriptor made from a handle on it) to path. Needs that device. */
xfiq_status xfiq_cudnn_dump_device_json(int device, const char *path);

/* Plans built so far in this process (all devices, deviceless included):
 * lets tests check that a plan is built once and shared. */
long xfiq_cudnn_plans_built(void);
/* Tests only: later lookups build fresh plans and re-read the timing cache
 * file (the old plans stay allocated: streams may still run them). */
void xfiq_cudnn_forget_plans(void);

/* The engine-timing cache of device `device`:
 * $XDG_CACHE_HOME/xfiq/ (else ~/.cache/xfiq/) cudnn-<device name>-<cuDNN version>.json. */
xfiq_status xfiq_cudnn_tune_path(int device, char *path, size_t len);
/* The file's entry for a layer key: 1 found (engine, and ms when not NULL,
 * filled), 0 absent; a missing file is empty, a corrupt one is ignored with
 * a warning on stderr. */
int xfiq_cudnn_tune_get(const char *path, const char *key, char *engine, size_t len, double *ms);
/* Adds or replaces an entry, merging with what the file holds now; written
 * to a temporary file then renamed over the old one. device/cudnn_version
 * are recorded in the file. */
xfiq_status xfiq_cudnn_tune_put(const char *path, const char *device, long cudnn_version, const char *key,
                                const char *engine, double ms);

#ifdef __cplusplus
}
#endif

#endif
