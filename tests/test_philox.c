/* test_philox.c - Philox4x32-10 against the published known-answer vectors
 * (Random123 distribution, tests/kat_vectors, "philox4x32 10" lines: counter
 * words, key words, expected output words), and properties of the dropout
 * stream built on it (layout, uniform range, keep rate). */
#include <stdint.h>
#include <string.h>

#include "quality/philox.h"
#include "xfiq_test.h"

typedef struct kat {
    uint32_t ctr[4], key[2], want[4];
} kat;

static const kat kats[] = {
    {{0x00000000, 0x00000000, 0x00000000, 0x00000000}, {0x00000000, 0x00000000},
     {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};

int main(void)
{
    for (size_t i = 0; i < sizeof kats / sizeof *kats; i++) {
        uint32_t out[4];
        xfiq_philox4x32_10(kats[i].ctr, kats[i].key, out);
        for (int j = 0; j < 4; j++)
            CHECK_MSG(out[j] == kats[i].want[j], "KAT %zu word %d: %08x, expected %08x", i, j, out[j],
                      kats[i].want[j]);
        /* In-place use (out aliasing ctr) gives the same words. */
        uint32_t c[4];
        memcpy(c, kats[i].ctr, sizeof c);
        xfiq_philox4x32_10(c, kats[i].key, c);
        CHECK(memcmp(c, out, sizeof c) == 0);
    }

    /* Stream layout as documented in philox.h. */
    const uint64_t seed = 0x0123456789abcdefull, image = 0xfedcba9876543210ull;
    const uint32_t pass = 77, element = 4 * 1234 + 2;
    uint32_t ctr[4] = {element >> 2, pass, (uint32_t)image, (uint32_t)(image >> 32)};
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t w[4];
    xfiq_philox4x32_10(ctr, key, w);
    float u = xfiq_dropout_uniform(seed, image, pass, element);
    CHECK(u == (float)(w[2] >> 8) / 16777216.0f);
    CHECK(xfiq_dropout_keep(seed, image, pass, element, 0.5f) == (u >= 0.5f));

    /* Uniform range and the two extremes of the mapping. */
    CHECK(xfiq_philox_to_uniform(0u) == 0.0f);
    CHECK(xfiq_philox_to_uniform(0xffffffffu) < 1.0f);
    CHECK(xfiq_philox_to_uniform(0xffffffffu) == 1.0f - 1.0f / 16777216.0f);
    CHECK(xfiq_dropout_keep_word(0u, 0.0f) == 1);          /* p = 0 keeps everything */
    CHECK(xfiq_dropout_keep_word(0xffffffffu, 0.999f) == 1);

    /* Integer threshold == float compare, at and around every threshold. */
    const float pe[] = {0.0f, 0.1f, 0.25f, 0.3f, 0.5f, 0.7f, 0.9f, 0.999f, 1e-7f, 0.99999994f, 1.0f / 3.0f};
    int disagree = 0;
    for (size_t i = 0; i < sizeof pe / sizeof *pe; i++) {
        uint32_t thr = xfiq_dropout_threshold(pe[i]);
        for (int64_t d = -3; d <= 3; d++) {
            int64_t top = (int64_t)thr + d;
            if (top < 0 || top > 0xffffff)
                continue;
            for (uint32_t low = 0; low < 256; low += 85) {
                uint32_t word = ((uint32_t)top << 8) | low;
                disagree += xfiq_dropout_keep_word(word, pe[i]) != ((word >> 8) >= thr);
            }
        }
    }
    for (uint32_t i = 0; i < 1000000; i++) { /* and on random words */
        uint32_t wr[4];
        xfiq_dropout_words(5, 6, 7, i, wr);
        disagree += xfiq_dropout_keep_word(wr[0], 0.37f) != ((wr[0] >> 8) >= xfiq_dropout_threshold(0.37f));
    }
    CHECK_MSG(disagree == 0, "%d integer/float keep decisions disagree", disagree);

    /* Keep rate and mean of the uniforms over 4e6 draws: binomial bounds
     * (6 sigma) for p = 0.5 and p = 0.1, mean 0.5 +- 6 sqrt(1/12/n). */
    const long n = 4000000;
    const float ps[2] = {0.5f, 0.1f};
    for (int k = 0; k < 2; k++) {
        long kept = 0;
        double usum = 0;
        for (long i = 0; i < n; i++) {
            uint32_t e = (uint32_t)(i % 25088), t = (uint32_t)(i / 25088);
            float v = xfiq_dropout_uniform(42 + k, 7, t, e);
            CHECK(v >= 0.0f && v < 1.0f);
            kept += v >= ps[k];
            usum += v;
        }
        double rate = (double)kept / n, want = 1.0 - ps[k];
        double sigma = sqrt(want * (1 - want) / n);
        printf("p = %.2f: keep rate %.6f (expected %.6f +- %.6f), mean u %.6f\n", ps[k], rate, want, sigma,
               usum / n);
        CHECK_NEAR(rate, want, 6 * sigma);
        CHECK_NEAR(usum / n, 0.5, 6 * sqrt(1.0 / 12.0 / n));
    }

    /* Neighbouring counters are not correlated in the obvious ways: a
     * different seed, image, pass or element changes about half the bits. */
    uint32_t base[4], other[4];
    xfiq_dropout_words(1, 2, 3, 4, base);
    const uint64_t var[4][4] = {{2, 2, 3, 4}, {1, 3, 3, 4}, {1, 2, 4, 4}, {1, 2, 3, 5}};
    for (int v = 0; v < 4; v++) {
        xfiq_dropout_words(var[v][0], var[v][1], (uint32_t)var[v][2], (uint32_t)var[v][3], other);
        int flips = 0;
        for (int j = 0; j < 4; j++)
            flips += __builtin_popcount(base[j] ^ other[j]);
        CHECK_MSG(flips > 32 && flips < 96, "variant %d flips %d of 128 bits", v, flips);
    }
    TEST_END();
}
