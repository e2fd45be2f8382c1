/* elem.h - every per-element formula of xfiq, written once in plain C.
 * Included by the CPU ops and by the CUDA kernels (nvcc marks them
 * __host__ __device__), so both backends compute the same thing; the unit
 * tests check these functions on the CPU. */
#ifndef XFIQ_OPS_ELEM_H
#define XFIQ_OPS_ELEM_H

#include <math.h>

#ifdef __CUDACC__
#define XFIQ_HD __host__ __device__
#else
#define XFIQ_HD
#endif

/* Binary op codes shared by ADD-like nodes (activation op activation, or op constant). */
enum { XFIQ_BIN_ADD = 0, XFIQ_BIN_SUB = 1, XFIQ_BIN_MUL = 2, XFIQ_BIN_DIV = 3 };

/* Element-wise functions of UNARY nodes. */
enum { XFIQ_UN_EXP = 0, XFIQ_UN_COUNT };

static inline XFIQ_HD float xfiq_unary(int op, float x)
{
    (void)op; /* XFIQ_UN_EXP is the only one so far */
    return expf(x);
}

/* Activation fused into a producer's epilogue. */
enum { XFIQ_ACT_NONE = 0, XFIQ_ACT_RELU = 1, XFIQ_ACT_PRELU = 2 };

static inline XFIQ_HD float xfiq_relu(float x) { return x > 0.0f ? x : 0.0f; }

static inline XFIQ_HD float xfiq_prelu(float x, float slope) { return x > 0.0f ? x : slope * x; }

/* Applies a fused activation; slope is only read for PRELU. */
static inline XFIQ_HD float xfiq_act(int act, float x, float slope)
{
    return act == XFIQ_ACT_RELU ? xfiq_relu(x) : act == XFIQ_ACT_PRELU ? xfiq_prelu(x, slope) : x;
}

/* BatchNormalization / per-channel constant op folded to y = x*scale + shift. */
static inline XFIQ_HD float xfiq_affine(float x, float scale, float shift) { return x * scale + shift; }

static inline XFIQ_HD float xfiq_binary(int op, float a, float b)
{
    switch (op) {
    case XFIQ_BIN_ADD: return a + b;
    case XFIQ_BIN_SUB: return a - b;
    case XFIQ_BIN_MUL: return a * b;
    default: return a / b;
    }
}

/* Model input from an 8-bit pixel: (p - mean) * scale. */
static inline XFIQ_HD float xfiq_preprocess(unsigned char p, float mean, float scale)
{
    return ((float)p - mean) * scale;
}

/* ITU-R BT.601 luma of an 8-bit RGB pixel, rounded to 8 bits as an image
 * decoder would (grey models). */
static inline XFIQ_HD unsigned char xfiq_luma_u8(unsigned char r, unsigned char g, unsigned char b)
{
    return (unsigned char)((299 * r + 587 * g + 114 * b + 500) / 1000);
}

#endif
