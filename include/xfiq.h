/* xfiq.h - public C API of the xfiq toolkit: backends, ONNX face models, embeddings.
 *
 * Conventions
 *  - Every call returns an xfiq_status; on failure xfiq_last_error() holds a
 *    message naming the file/node/argument and the reason (thread-local).
 *  - Handles are opaque. Structs in this header have one fixed layout whatever
 *    the build flags (no CUDA types anywhere).
 *  - The library never calls exit() and never prints except through the
 *    optional progress callback of the CLI helpers.
 *  - Thread safety: a backend may be shared by several models. A model handle
 *    owns its working memory: calls on ONE model must not run concurrently;
 *    different models may be used from different threads at the same time.
 */
#ifndef XFIQ_H
#define XFIQ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XFIQ_VERSION_MAJOR 0
#define XFIQ_VERSION_MINOR 1

typedef enum xfiq_status {
    XFIQ_OK = 0,
    XFIQ_ERR_ARG = 1,         /* invalid argument from the caller */
    XFIQ_ERR_IO = 2,          /* a file cannot be opened, read or written */
    XFIQ_ERR_FORMAT = 3,      /* malformed file: model, image, card, protocol */
    XFIQ_ERR_UNSUPPORTED = 4, /* unknown op, attribute value or data type */
    XFIQ_ERR_SHAPE = 5,       /* tensor or image shapes do not fit */
    XFIQ_ERR_NOMEM = 6,       /* allocation failed */
    XFIQ_ERR_BACKEND = 7,     /* backend unavailable (e.g. no GPU) or failed */
    XFIQ_ERR_INTERNAL = 8
} xfiq_status;

/* Short constant name of a status ("XFIQ_ERR_FORMAT"). */
const char *xfiq_status_string(xfiq_status s);
/* Message of the last failing call on this thread; "" when none. */
const char *xfiq_last_error(void);

/* ---------------------------------------------------------------- backends */
typedef struct xfiq_backend *xfiq_backend_t;

typedef enum xfiq_backend_kind {
    XFIQ_BACKEND_CPU = 0,
    XFIQ_BACKEND_CUDA = 1
} xfiq_backend_kind;

/* 1 when the backend was compiled in AND a device is present, else 0. */
int xfiq_backend_available(xfiq_backend_kind kind);
/* num_threads <= 0: use all cores (CPU backend). */
xfiq_status xfiq_backend_init(xfiq_backend_t *out, xfiq_backend_kind kind, int num_threads);
void xfiq_backend_free(xfiq_backend_t be);

/* Arithmetic of the GPU backend (the CPU backend is always FP32). FP32 is
 * the default and the parity mode (results match the CPU to ~1e-4); TF32,
 * BF16 and FP16 use the tensor cores at the cost of precision (README). */
typedef enum xfiq_precision {
    XFIQ_PRECISION_FP32 = 0,
    XFIQ_PRECISION_TF32 = 1,
    XFIQ_PRECISION_BF16 = 2,
    XFIQ_PRECISION_FP16 = 3
} xfiq_precision;

/* "fp32", "tf32", "bf16", "fp16" (NULL when unknown). */
const char *xfiq_precision_name(xfiq_precision p);
xfiq_status xfiq_precision_parse(const char *name, xfiq_precision *out);

typedef struct xfiq_backend_opts {
    int num_threads;          /* CPU threads; <= 0: all cores */
    int device;               /* CUDA device ordinal (ignored by the CPU backend) */
    xfiq_precision precision; /* CUDA only; the CPU backend refuses anything but FP32 */
    int reserved[8];          /* zero */
} xfiq_backend_opts;

void xfiq_backend_opts_default(xfiq_backend_opts *o);
/* xfiq_backend_init with options (opts NULL: the defaults). */
xfiq_status xfiq_backend_init_opts(xfiq_backend_t *out, xfiq_backend_kind kind, const xfiq_backend_opts *opts);
const char *xfiq_backend_name(xfiq_backend_t be);

/* ------------------------------------------------------------------ models */
typedef struct xfiq_model *xfiq_model_t;

typedef enum xfiq_channel_order {
    XFIQ_ORDER_RGB = 0,
    XFIQ_ORDER_BGR = 1,
    XFIQ_ORDER_GREY = 2
} xfiq_channel_order;

typedef struct xfiq_model_info {
    int input_width;            /* pixels the model takes, e.g. 112 */
    int input_height;
    int input_channels;         /* 3 (or 1 for grey models) */
    int embedding_dim;          /* length of the output vector, e.g. 512 */
    xfiq_channel_order channel_order;
    float mean[3];              /* model input = (pixel - mean[c]) * scale[c] */
    float scale[3];
    int64_t num_params;         /* parameters after BN folding */
    double macs_per_image;      /* multiply-adds of one forward pass */
    const char *name;           /* owned by the model */
    const char *family;         /* "mobilefacenet", "iresnet", ... */
    const char *embedding_layer;/* value feeding the embedding layer (card or auto) */
} xfiq_model_info;

/* Load an ONNX model. card_path: JSON model card (see models/README.md); NULL
 * looks for "<onnx path without .onnx>.card.json" and falls back to the
 * defaults of the family recognised from the graph. */
xfiq_status xfiq_model_load(xfiq_backend_t be, const char *onnx_path,
                            const char *card_path, xfiq_model_t *out);
xfiq_status xfiq_model_get_info(xfiq_model_t m, xfiq_model_info *info);
void xfiq_model_free(xfiq_model_t m);

/* Embed n aligned faces. pixels: n images, each input_height x input_width x 3
 * interleaved 8-bit RGB (always RGB here; the card's channel order, mean and
 * scale are applied inside). embeddings: n x embedding_dim raw (not
 * normalised) floats; magnitudes (may be NULL): n L2 norms. Any n >= 1 works;
 * memory is planned once for the largest batch seen. */
xfiq_status xfiq_model_embed(xfiq_model_t m, const uint8_t *pixels, int n,
                             float *embeddings, float *magnitudes);

/* ------------------------------------------------------------- pools */
/* One model on several backends (e.g. every GPU of a machine): a call splits
 * its n images into contiguous parts, one per model, runs them concurrently
 * (one thread per model) and writes each part's outputs in place. Every
 * per-image result is the one that part's model gives alone; SER-FIQ masks
 * are keyed by image id, so they do not depend on the split. */
typedef struct xfiq_pool *xfiq_pool_t;

/* Loads onnx_path (and card, as xfiq_model_load) once per backend. */
xfiq_status xfiq_pool_create(const xfiq_backend_t *backends, int count, const char *onnx_path,
                             const char *card_path, xfiq_pool_t *out);
void xfiq_pool_free(xfiq_pool_t p);
int xfiq_pool_size(xfiq_pool_t p);
/* Model i of the pool (owned by the pool). */
xfiq_model_t xfiq_pool_model(xfiq_pool_t p, int i);
xfiq_status xfiq_pool_embed(xfiq_pool_t p, const uint8_t *pixels, int n, float *embeddings, float *magnitudes);

/* Same on already-preprocessed NCHW float input (n x C x H x W). */
xfiq_status xfiq_model_forward(xfiq_model_t m, const float *input_nchw, int n,
                               float *embeddings);

#ifdef __cplusplus
}
#endif
#endif /* XFIQ_H */
