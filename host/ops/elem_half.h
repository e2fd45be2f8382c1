/* elem_half.h - float32 <-> bfloat16 / float16 conversions (bit patterns in
 * uint16_t), written once for the CPU tests and the CUDA kernels (XFIQ_HD)
 * that feed cuDNN's reduced-precision convolutions. Rounding is to nearest,
 * ties to even, as PyTorch's .to(bfloat16) and numpy's astype(float16) do;
 * overflow gives infinity, NaN stays a (quiet) NaN, float16 keeps its
 * subnormals. Plain integer arithmetic, so host and device agree bit for
 * bit whatever the compiler's floating-point flags. */
#ifndef XFIQ_OPS_ELEM_HALF_H
#define XFIQ_OPS_ELEM_HALF_H

#include <stdint.h>
#include <string.h>

#include "ops/elem.h"

static inline XFIQ_HD uint32_t xfiq_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline XFIQ_HD float xfiq_bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline XFIQ_HD uint16_t xfiq_f32_to_bf16(float f)
{
    uint32_t u = xfiq_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline XFIQ_HD float xfiq_bf16_to_f32(uint16_t h) { return xfiq_bits_f32((uint32_t)h << 16); }

static inline XFIQ_HD uint16_t xfiq_f32_to_f16(float f)
{
    const uint32_t u = xfiq_f32_bits(f);
    const uint32_t sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
    if (a >= 0x7f800000u)                       /* Inf, NaN */
        return (uint16_t)(sign | (a > 0x7f800000u ? 0x7e00u : 0x7c00u));
    if (a >= 0x477ff000u)                       /* >= 65520: rounds past 65504 */
        return (uint16_t)(sign | 0x7c00u);
    if (a < 0x38800000u) {                      /* below 2^-14: a float16 subnormal or 0 */
        if (a < 0x33000000u)                    /* below 2^-25 (2^-25 itself ties to 0) */
            return (uint16_t)sign;
        const uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u;
        const uint32_t shift = 126u - e;        /* value / 2^-24 = m >> shift; shift in [14, 24] */
        uint32_t r = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
        r += rem > half || (rem == half && (r & 1u));
        return (uint16_t)(sign | r);
    }
    uint32_t r = (a >> 13) - (112u << 10);      /* exponent bias 127 -> 15 */
    const uint32_t rem = a & 0x1fffu;
    r += rem > 0x1000u || (rem == 0x1000u && (r & 1u)); /* a carry into the exponent is right */
    return (uint16_t)(sign | r);
}

static inline XFIQ_HD float xfiq_f16_to_f32(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0) {                               /* zero or subnormal: m * 2^-24, exact in float */
        const float v = (float)m * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    if (e == 31)
        return xfiq_bits_f32(sign | 0x7f800000u | (m << 13));
    return xfiq_bits_f32(sign | ((e + 112u) << 23) | (m << 13));
}

/* One element of a reduced-precision tensor: kind 0 bfloat16, 1 float16. */
static inline XFIQ_HD uint16_t xfiq_f32_to_half(int kind, float f)
{
    return kind ? xfiq_f32_to_f16(f) : xfiq_f32_to_bf16(f);
}

static inline XFIQ_HD float xfiq_half_to_f32(int kind, uint16_t h)
{
    return kind ? xfiq_f16_to_f32(h) : xfiq_bf16_to_f32(h);
}

#endif
