/* winograd.h - the three tile transforms of Winograd's minimal filtering
 * F(2x2, 3x3) (Lavin & Gray 2016), written once. A 3x3 stride-1 correlation
 * of a 4x4 input tile d with a 3x3 filter g gives the 2x2 output
 *     Y = A^T [ (G g G^T) (.) (B^T d B) ] A,
 * 16 multiplies instead of 36. The 1-D steps are macros over ADD/SUB so the
 * scalar functions below (weight packing, tests, a CUDA kernel: XFIQ_HD) and
 * the AVX-512 engine (intrinsics for ADD/SUB) run the same adds in the same
 * order. Tiles are row-major: position p = 4*i + j. */
#ifndef XFIQ_OPS_WINOGRAD_H
#define XFIQ_OPS_WINOGRAD_H

#include "ops/elem.h"

/* B^T applied to (d0, d1, d2, d3). */
#define XFIQ_WINO_IN_1D(ADD, SUB, d0, d1, d2, d3, o0, o1, o2, o3) \
    do {                                                           \
        (o0) = SUB((d0), (d2));                                    \
        (o1) = ADD((d1), (d2));                                    \
        (o2) = SUB((d2), (d1));                                    \
        (o3) = SUB((d1), (d3));                                    \
    } while (0)

/* A^T applied to (m0, m1, m2, m3). */
#define XFIQ_WINO_OUT_1D(ADD, SUB, m0, m1, m2, m3, o0, o1) \
    do {                                                    \
        (o0) = ADD(ADD((m0), (m1)), (m2));                  \
        (o1) = SUB(SUB((m1), (m2)), (m3));                  \
    } while (0)

#define XFIQ_WINO_ADDF(a, b) ((a) + (b))
#define XFIQ_WINO_SUBF(a, b) ((a) - (b))

/* v = B^T d B: along each row first, then along each column. */
static inline XFIQ_HD void xfiq_wino_in_tile(const float d[16], float v[16])
{
    float t[16];
    for (int i = 0; i < 4; i++)
        XFIQ_WINO_IN_1D(XFIQ_WINO_ADDF, XFIQ_WINO_SUBF, d[4 * i], d[4 * i + 1], d[4 * i + 2], d[4 * i + 3],
                        t[4 * i], t[4 * i + 1], t[4 * i + 2], t[4 * i + 3]);
    for (int j = 0; j < 4; j++)
        XFIQ_WINO_IN_1D(XFIQ_WINO_ADDF, XFIQ_WINO_SUBF, t[j], t[4 + j], t[8 + j], t[12 + j], v[j], v[4 + j],
                        v[8 + j], v[12 + j]);
}

/* y (2x2) = A^T m A: along each row first, then along each column. */
static inline XFIQ_HD void xfiq_wino_out_tile(const float m[16], float y[4])
{
    float r[8];
    for (int i = 0; i < 4; i++)
        XFIQ_WINO_OUT_1D(XFIQ_WINO_ADDF, XFIQ_WINO_SUBF, m[4 * i], m[4 * i + 1], m[4 * i + 2], m[4 * i + 3],
                         r[2 * i], r[2 * i + 1]);
    for (int j = 0; j < 2; j++)
        XFIQ_WINO_OUT_1D(XFIQ_WINO_ADDF, XFIQ_WINO_SUBF, r[j], r[2 + j], r[4 + j], r[6 + j], y[j], y[2 + j]);
}

/* u = G g G^T for one 3x3 filter, in double and rounded once: the weights
 * are transformed at load time, so their error stays that of one rounding. */
static inline XFIQ_HD void xfiq_wino_weight_tile(const float g[9], float u[16])
{
    double t[4][3];
    for (int c = 0; c < 3; c++) {
        const double g0 = g[c], g1 = g[3 + c], g2 = g[6 + c];
        t[0][c] = g0;
        t[1][c] = 0.5 * (g0 + g1 + g2);
        t[2][c] = 0.5 * (g0 - g1 + g2);
        t[3][c] = g2;
    }
    for (int i = 0; i < 4; i++) {
        const double g0 = t[i][0], g1 = t[i][1], g2 = t[i][2];
        u[4 * i] = (float)g0;
        u[4 * i + 1] = (float)(0.5 * (g0 + g1 + g2));
        u[4 * i + 2] = (float)(0.5 * (g0 - g1 + g2));
        u[4 * i + 3] = (float)g2;
    }
}

#endif
