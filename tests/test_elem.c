/* test_elem.c - CPU unit tests of every per-element formula in
 * host/ops/elem.h (the functions both backends call), against values worked
 * out by hand from their definitions, and the Winograd F(2x2,3x3) tile
 * transforms (ops/winograd.h) against the 3x3 correlation they replace.
 * Inputs are chosen so the expected results are exact in float, hence the
 * exact comparisons. */
#include <math.h>
#include <stdint.h>

#include "ops/elem.h"
#include "ops/winograd.h"
#include "xfiq_test.h"

static void test_relu(void)
{
    CHECK(xfiq_relu(3.5f) == 3.5f);
    CHECK(xfiq_relu(-2.0f) == 0.0f);
    CHECK(xfiq_relu(0.0f) == 0.0f);
    CHECK(xfiq_relu(1e-30f) == 1e-30f);
    CHECK(xfiq_relu(-INFINITY) == 0.0f);
    CHECK(!signbit(xfiq_relu(-0.0f))); /* max(x, 0): negative zero is not kept */
}

static void test_prelu(void)
{
    CHECK(xfiq_prelu(2.0f, 0.25f) == 2.0f);       /* positive side untouched */
    CHECK(xfiq_prelu(-4.0f, 0.25f) == -1.0f);     /* -4 * 0.25 */
    CHECK(xfiq_prelu(0.0f, 0.25f) == 0.0f);
    CHECK(xfiq_prelu(-3.0f, -0.5f) == 1.5f);      /* negative slopes flip the sign */
    CHECK(xfiq_prelu(-6.0f, 0.0f) == 0.0f);       /* slope 0 is ReLU */
    CHECK(xfiq_prelu(-6.0f, 1.0f) == -6.0f);      /* slope 1 is the identity */
}

static void test_act(void)
{
    CHECK(XFIQ_ACT_NONE != XFIQ_ACT_RELU && XFIQ_ACT_RELU != XFIQ_ACT_PRELU && XFIQ_ACT_NONE != XFIQ_ACT_PRELU);
    CHECK(xfiq_act(XFIQ_ACT_NONE, -3.0f, 0.5f) == -3.0f);
    CHECK(xfiq_act(XFIQ_ACT_NONE, 2.5f, 0.5f) == 2.5f);
    CHECK(xfiq_act(XFIQ_ACT_RELU, -3.0f, 0.5f) == 0.0f); /* slope ignored */
    CHECK(xfiq_act(XFIQ_ACT_RELU, 2.5f, 0.5f) == 2.5f);
    CHECK(xfiq_act(XFIQ_ACT_PRELU, -3.0f, 0.5f) == -1.5f);
    CHECK(xfiq_act(XFIQ_ACT_PRELU, 2.5f, 0.5f) == 2.5f);
}

static void test_affine(void)
{
    CHECK(xfiq_affine(2.0f, 3.0f, -1.0f) == 5.0f);       /* 2*3 - 1 */
    CHECK(xfiq_affine(-1.5f, 0.5f, 0.25f) == -0.5f);     /* -0.75 + 0.25 */
    CHECK(xfiq_affine(7.0f, 0.0f, 4.0f) == 4.0f);        /* scale 0 leaves the shift */
    CHECK(xfiq_affine(7.0f, 1.0f, 0.0f) == 7.0f);        /* identity */
    /* BN folded: (x - mean) / sqrt(var + eps) * gamma + beta with mean 1,
     * var + eps 4, gamma 3, beta 0.5 is scale 1.5, shift 0.5 - 1.5 = -1. */
    CHECK(xfiq_affine(5.0f, 1.5f, -1.0f) == (5.0f - 1.0f) / 2.0f * 3.0f + 0.5f);
}

static void test_binary(void)
{
    CHECK(XFIQ_BIN_ADD == 0 && XFIQ_BIN_SUB == 1 && XFIQ_BIN_MUL == 2 && XFIQ_BIN_DIV == 3);
    CHECK(xfiq_binary(XFIQ_BIN_ADD, 1.5f, 2.25f) == 3.75f);
    CHECK(xfiq_binary(XFIQ_BIN_SUB, 2.0f, 5.0f) == -3.0f); /* a - b, in that order */
    CHECK(xfiq_binary(XFIQ_BIN_SUB, 5.0f, 2.0f) == 3.0f);
    CHECK(xfiq_binary(XFIQ_BIN_MUL, -1.5f, 4.0f) == -6.0f);
    CHECK(xfiq_binary(XFIQ_BIN_DIV, 7.0f, 2.0f) == 3.5f);  /* a / b, in that order */
    CHECK(xfiq_binary(XFIQ_BIN_DIV, 2.0f, 8.0f) == 0.25f);
    CHECK(isinf(xfiq_binary(XFIQ_BIN_DIV, 1.0f, 0.0f)));   /* IEEE, no trap */
}

static void test_preprocess(void)
{
    /* insightface style: (p - 127.5) / 128 */
    CHECK(xfiq_preprocess(255, 127.5f, 1.0f / 128.0f) == 127.5f / 128.0f);
    CHECK(xfiq_preprocess(0, 127.5f, 1.0f / 128.0f) == -127.5f / 128.0f);
    CHECK(xfiq_preprocess(128, 127.5f, 1.0f / 128.0f) == 0.5f / 128.0f);
    /* MagFace style: p / 255 with no mean */
    CHECK(xfiq_preprocess(255, 0.0f, 1.0f / 255.0f) == 255.0f * (1.0f / 255.0f));
    CHECK(xfiq_preprocess(0, 0.0f, 1.0f / 255.0f) == 0.0f);
    /* the pixel is unsigned: 200 is not read as -56 */
    CHECK(xfiq_preprocess(200, 100.0f, 0.5f) == 50.0f);
}

/* out(U . V) of integer tiles is the integer 2x2 correlation exactly: the
 * halves in G g G^T and every sum stay exact in float. */
static void test_winograd_tiles(void)
{
    uint32_t st = 12345u;
    int bad = 0;
    for (int rep = 0; rep < 500; rep++) {
        float d[16], g[9], u[16], v[16], m[16], y[4];
        for (int i = 0; i < 16; i++) {
            st = st * 1664525u + 1013904223u;
            d[i] = (float)((int)(st >> 24) % 17 - 8);
        }
        for (int i = 0; i < 9; i++) {
            st = st * 1664525u + 1013904223u;
            g[i] = (float)((int)(st >> 24) % 9 - 4);
        }
        xfiq_wino_weight_tile(g, u);
        xfiq_wino_in_tile(d, v);
        for (int q = 0; q < 16; q++)
            m[q] = u[q] * v[q];
        xfiq_wino_out_tile(m, y);
        for (int oy = 0; oy < 2; oy++)
            for (int ox = 0; ox < 2; ox++) {
                float want = 0.0f;
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++)
                        want += d[4 * (oy + ky) + ox + kx] * g[3 * ky + kx];
                bad += y[2 * oy + ox] != want;
            }
    }
    CHECK_MSG(bad == 0, "%d Winograd outputs differ from the correlation", bad);
    /* Hand-worked rows of the transforms: B^T (1,2,3,4) = (-2, 5, 1, -2);
     * A^T (1,2,3,4) = (6, -5); G (2,4,6) = (2, 6, 2, 6). */
    {
        float dd[16] = {1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, vv[16];
        xfiq_wino_in_tile(dd, vv); /* only row 0 set: B^T (1,0,0,0) = (1,0,0,0) keeps it there */
        CHECK(vv[0] == -2.0f && vv[1] == 5.0f && vv[2] == 1.0f && vv[3] == -2.0f);
        CHECK(vv[4] == 0.0f && vv[8] == 0.0f && vv[12] == 0.0f);
        float mm[16] = {1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, yy[4];
        xfiq_wino_out_tile(mm, yy); /* then A^T (1,0,0,0) = (1,0) down the columns */
        CHECK(yy[0] == 6.0f && yy[1] == -5.0f && yy[2] == 0.0f && yy[3] == 0.0f);
        float gg[9] = {2, 0, 0, 4, 0, 0, 6, 0, 0}, uu[16];
        xfiq_wino_weight_tile(gg, uu); /* column 0 only: G (2,4,6) down, then G (x,0,0) = (x,x/2,x/2,0) along rows */
        CHECK(uu[0] == 2.0f && uu[4] == 6.0f && uu[8] == 2.0f && uu[12] == 6.0f);
        CHECK(uu[1] == 1.0f && uu[2] == 1.0f && uu[3] == 0.0f && uu[5] == 3.0f && uu[15] == 0.0f);
    }
}

int main(void)
{
    test_winograd_tiles();
    test_relu();
    test_prelu();
    test_act();
    test_affine();
    test_binary();
    test_preprocess();
    TEST_END();
}
