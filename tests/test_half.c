/* test_half.c - the float32 <-> bfloat16 / float16 conversions of
 * ops/elem_half.h (used by the CUDA backend's reduced-precision
 * convolutions) against numpy (float16) and PyTorch (bfloat16): every
 * float16 and bfloat16 bit pattern widened, and float32 inputs narrowed -
 * edge cases, exact ties between neighbours (ties to even), subnormals,
 * overflow, and 300,000 random bit patterns. Bits must agree exactly (NaN:
 * both NaN). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/npy.h"
#include "ops/elem_half.h"
#include "test_util.h"
#include "xfiq_test.h"

#define NRAND 300000

static uint32_t rng_next(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 32);
}

static int is_nan16(uint16_t h, int kind)
{
    return kind ? (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) : (h & 0x7f80u) == 0x7f80u && (h & 0x7fu);
}

int main(void)
{
    const char *fix = test_env("XFIQ_FIXTURE_DIR", "/tmp"), *py = test_env("XFIQ_PYTHON", "/usr/bin/python3"),
               *src = test_env("XFIQ_SOURCE_DIR", ".");
    size_t cap = 4 * 65536 + NRAND + 64, n = 0;
    float *in = malloc(cap * sizeof *in);
    CHECK(in != NULL);
    if (!in)
        { TEST_END(); }
    static const float edge[] = {0.0f, -0.0f, 1.0f, -1.0f, 65504.0f, 65519.99f, 65520.0f, 65536.0f, 1e30f, -1e30f,
                                 6.103515625e-05f, 5.9604644775390625e-08f, 2.98023223876953125e-08f, 2.9e-08f,
                                 3.0e-08f, 1e-45f, 3.3895313892515355e+38f, 3.4028234663852886e+38f};
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        in[n++] = edge[i];
    in[n++] = INFINITY;
    in[n++] = -INFINITY;
    /* every float16 value, and the exact midpoint to its neighbour (ties),
     * and the same for bfloat16 (whose midpoints are float32 values too) */
    for (uint32_t h = 0; h < 0x7c00u; h++) {
        const float a = xfiq_f16_to_f32((uint16_t)h), b = xfiq_f16_to_f32((uint16_t)(h + 1));
        in[n++] = a;
        in[n++] = -(float)(((double)a + (double)b) / 2.0);
    }
    for (uint32_t h = 0; h < 0x7f80u; h += 7) {
        const float a = xfiq_bf16_to_f32((uint16_t)h), b = xfiq_bf16_to_f32((uint16_t)(h + 1));
        in[n++] = (float)(((double)a + (double)b) / 2.0);
    }
    uint64_t s = 12345;
    for (int i = 0; i < NRAND; i++)
        in[n++] = xfiq_bits_f32(rng_next(&s));

    char ipath[4200], opath[4200], cmd[9000];
    snprintf(ipath, sizeof ipath, "%s/half_in.npy", fix);
    snprintf(opath, sizeof opath, "%s/half_ref.npy", fix);
    int64_t shp[1] = {(int64_t)n};
    CHECK_OK(xfiq_npy_write_f32(ipath, in, 1, shp));
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/ref/half_ref.py' '%s' '%s'", py, src, ipath, opath);
    CHECK_MSG(system(cmd) == 0, "reference failed: %s", cmd);
    xfiq_npy ref;
    if (xfiq_npy_read_f32(opath, &ref) != XFIQ_OK) {
        CHECK_MSG(0, "cannot read %s", opath);
        free(in);
        { TEST_END(); }
    }
    const int64_t w = n > 65536 ? (int64_t)n : 65536;
    CHECK(ref.count == 4 * w);
    long bad[4] = {0, 0, 0, 0};
    for (size_t i = 0; ref.count == 4 * w && i < n; i++)
        for (int kind = 0; kind < 2; kind++) {
            const uint16_t got = kind ? xfiq_f32_to_f16(in[i]) : xfiq_f32_to_bf16(in[i]);
            const uint16_t want = (uint16_t)ref.data[(size_t)kind * w + i];
            if (got != want && !(is_nan16(got, kind) && is_nan16(want, kind)) && bad[kind]++ < 5)
                printf("  %s of %.9g (0x%08x): 0x%04x, reference 0x%04x\n", kind ? "float16" : "bfloat16",
                       (double)in[i], xfiq_f32_bits(in[i]), got, want);
        }
    for (uint32_t h = 0; ref.count == 4 * w && h < 65536; h++)
        for (int kind = 0; kind < 2; kind++) {
            const float got = kind ? xfiq_bf16_to_f32((uint16_t)h) : xfiq_f16_to_f32((uint16_t)h);
            const float want = ref.data[(size_t)(2 + kind) * w + h];
            if (xfiq_f32_bits(got) != xfiq_f32_bits(want) && !(isnan(got) && isnan(want)) && bad[2 + kind]++ < 5)
                printf("  %s pattern 0x%04x: %.9g, reference %.9g\n", kind ? "bfloat16" : "float16", h, (double)got,
                       (double)want);
        }
    printf("%zu float32 values narrowed: %ld bfloat16 and %ld float16 differ from PyTorch / numpy\n", n, bad[0],
           bad[1]);
    printf("65,536 patterns widened: %ld float16 and %ld bfloat16 differ\n", bad[2], bad[3]);
    CHECK(bad[0] == 0 && bad[1] == 0 && bad[2] == 0 && bad[3] == 0);
    /* the pair is a round trip on every finite value */
    long trip = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        if (!is_nan16((uint16_t)h, 1) && xfiq_f32_to_f16(xfiq_f16_to_f32((uint16_t)h)) != h)
            trip++;
        if (!is_nan16((uint16_t)h, 0) && xfiq_f32_to_bf16(xfiq_bf16_to_f32((uint16_t)h)) != h)
            trip++;
    }
    CHECK_MSG(trip == 0, "%ld patterns do not survive a round trip", trip);
    xfiq_npy_free(&ref);
    free(in);
    TEST_END();
}
