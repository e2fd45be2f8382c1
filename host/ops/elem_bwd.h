/* elem_bwd.h - per-element backward-data formulas of the affine, binary,
 * constant and pooling ops, written once for the CPU ops and the CUDA kernels
 * (XFIQ_HD). ReLU / PReLU / fused activation backward live next to the other
 * quality formulas in quality/elem_quality.h. Each formula is the one
 * PyTorch's autograd uses, so the reference comparisons hold to rounding. */
#ifndef XFIQ_OPS_ELEM_BWD_H
#define XFIQ_OPS_ELEM_BWD_H

#include "ops/elem.h"

/* y = x*scale + shift. */
static inline XFIQ_HD float xfiq_affine_backward(float dy, float scale) { return dy * scale; }

/* y = a op b: gradient at a. */
static inline XFIQ_HD float xfiq_binary_backward_a(int op, float dy, float b)
{
    switch (op) {
    case XFIQ_BIN_ADD:
    case XFIQ_BIN_SUB: return dy;
    case XFIQ_BIN_MUL: return dy * b;
    default: return dy / b;
    }
}

/* y = a op b: gradient at b. For DIV, -dy * ((a / b) / b) as PyTorch writes
 * it (no b*b, which would overflow first). */
static inline XFIQ_HD float xfiq_binary_backward_b(int op, float dy, float a, float b)
{
    switch (op) {
    case XFIQ_BIN_ADD: return dy;
    case XFIQ_BIN_SUB: return -dy;
    case XFIQ_BIN_MUL: return dy * a;
    default: return -dy * ((a / b) / b);
    }
}

/* GlobalAveragePool over `spatial` elements. */
static inline XFIQ_HD float xfiq_gap_backward(float dy, float spatial) { return dy / spatial; }

/* Writes or accumulates one gradient element. */
static inline XFIQ_HD float xfiq_grad_store(float old, float g, int accumulate) { return accumulate ? old + g : g; }

#endif
