/* philox.h - the Philox4x32-10 counter-based generator and the SER-FIQ
 * dropout stream built on it, in plain C usable from the CPU and from CUDA
 * kernels (XFIQ_HD), so both backends draw bit-identical masks.
 *
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
 * SC'11): a 4 x 32-bit counter and a 2 x 32-bit key go through 10 rounds of
 * multiply-hi/lo and xor, with the key bumped by the Weyl constants before
 * every round after the first. Checked against the Random123 kat_vectors in
 * tests/test_philox.c.
 *
 * Dropout stream layout (what makes results independent of batch size, batch
 * order and thread count: a mask bit depends only on these four numbers):
 *   key     = { seed low 32 bits, seed high 32 bits }
 *   counter = { element >> 2, pass, image_id low 32 bits, image_id high 32 bits }
 *   word    = output[element & 3]
 * One Philox call therefore serves four consecutive elements of one pass.
 * `element` is the element index (element-wise masks) or the channel index
 * (channel-wise masks); `pass` is t = 0..T-1; `image_id` is chosen by the
 * caller (the engine uses the image's index in the job, see
 * host/quality/README.md).
 *
 * Uniform: u = (word >> 8) * 2^-24, exactly representable, in [0, 1).
 * Keep decision: keep iff u >= p (drop iff u < p), compared in float, which
 * is exact on both CPU and GPU, so there is no rounding-mode dependence.
 * P(drop) = ceil(p * 2^24) / 2^24, i.e. p to within 6e-8. */
#ifndef XFIQ_QUALITY_PHILOX_H
#define XFIQ_QUALITY_PHILOX_H

#include <math.h>
#include <stdint.h>

#include "ops/elem.h"

#define XFIQ_PHILOX_M0 0xD2511F53u
#define XFIQ_PHILOX_M1 0xCD9E8D57u
#define XFIQ_PHILOX_W0 0x9E3779B9u /* golden ratio */
#define XFIQ_PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

static inline XFIQ_HD uint32_t xfiq_philox_mulhilo(uint32_t a, uint32_t b, uint32_t *hi)
{
#ifdef __CUDA_ARCH__
    *hi = __umulhi(a, b);
    return a * b;
#else
    uint64_t p = (uint64_t)a * (uint64_t)b;
    *hi = (uint32_t)(p >> 32);
    return (uint32_t)p;
#endif
}

/* One Philox4x32 round on c with key k. */
static inline XFIQ_HD void xfiq_philox_round(uint32_t c[4], uint32_t k0, uint32_t k1)
{
    uint32_t hi0, hi1;
    uint32_t lo0 = xfiq_philox_mulhilo(XFIQ_PHILOX_M0, c[0], &hi0);
    uint32_t lo1 = xfiq_philox_mulhilo(XFIQ_PHILOX_M1, c[2], &hi1);
    uint32_t n0 = hi1 ^ c[1] ^ k0;
    uint32_t n2 = hi0 ^ c[3] ^ k1;
    c[0] = n0;
    c[1] = lo1;
    c[2] = n2;
    c[3] = lo0;
}

/* out = Philox4x32-10(ctr, key). out may alias ctr. */
static inline XFIQ_HD void xfiq_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c[4] = {ctr[0], ctr[1], ctr[2], ctr[3]};
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k0 += XFIQ_PHILOX_W0;
            k1 += XFIQ_PHILOX_W1;
        }
        xfiq_philox_round(c, k0, k1);
    }
    out[0] = c[0];
    out[1] = c[1];
    out[2] = c[2];
    out[3] = c[3];
}

/* The four dropout-stream words of elements 4*group .. 4*group+3 (layout above). */
static inline XFIQ_HD void xfiq_dropout_words(uint64_t seed, uint64_t image_id, uint32_t pass,
                                              uint32_t group, uint32_t out[4])
{
    uint32_t ctr[4] = {group, pass, (uint32_t)image_id, (uint32_t)(image_id >> 32)};
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    xfiq_philox4x32_10(ctr, key, out);
}

/* 32-bit word -> uniform float in [0, 1) with 24 random bits. */
static inline XFIQ_HD float xfiq_philox_to_uniform(uint32_t word)
{
    return (float)(word >> 8) * (1.0f / 16777216.0f);
}

/* Dropout-stream uniform of one element (one Philox call; kernels that need
 * four consecutive elements should call xfiq_dropout_words once instead). */
static inline XFIQ_HD float xfiq_dropout_uniform(uint64_t seed, uint64_t image_id, uint32_t pass, uint32_t element)
{
    uint32_t w[4];
    xfiq_dropout_words(seed, image_id, pass, element >> 2, w);
    return xfiq_philox_to_uniform(w[element & 3]);
}

/* 1 = keep the element, 0 = drop it (drop probability p). */
static inline XFIQ_HD int xfiq_dropout_keep_word(uint32_t word, float p)
{
    return xfiq_philox_to_uniform(word) >= p;
}

/* The same decision in integers, for vector loops: keep iff (word >> 8) >=
 * xfiq_dropout_threshold(p). Exactly equivalent to the float compare:
 * p * 2^24 is exact in float (a power-of-two scaling) and word >> 8 is an
 * integer, so u >= p <=> (word >> 8) >= ceil(p * 2^24). */
static inline XFIQ_HD uint32_t xfiq_dropout_threshold(float p)
{
    return (uint32_t)ceilf(p * 16777216.0f);
}

static inline XFIQ_HD int xfiq_dropout_keep(uint64_t seed, uint64_t image_id, uint32_t pass, uint32_t element, float p)
{
    return xfiq_dropout_uniform(seed, image_id, pass, element) >= p;
}

#endif
