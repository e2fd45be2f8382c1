/* test_eval_qmag.c - the QMagFace formula on hand-computed cases with the
 * published MagFace-100/50/18 parameters (values worked out with bc, see
 * the comments), the parameter JSON round trip, magnitudes, and the
 * all-vs-all block (GEMM + epilogue) against the per-pair scores, and
 * xfiq_backend_score_pairs on the CPU backend: the same bits and errors as
 * xfiq_score_pairs (the GPU's is compared in test_cuda_pipeline). */
#include "eval_test_util.h"

#include "xfiq.h"
#include "xfiq_eval.h"

int main(void)
{
    xfiq_qmag_params p100, p50, p18, tmp;
    CHECK_OK(xfiq_qmag_preset("magface-100", &p100));
    CHECK_OK(xfiq_qmag_preset("magface50", &p50));
    CHECK_OK(xfiq_qmag_preset("magface-18", &p18));
    CHECK(xfiq_qmag_preset("magface-34", &tmp) == XFIQ_ERR_ARG);
    CHECK_NEAR(p100.alpha, 0.077428, 0);
    CHECK_NEAR(p100.beta, 0.125926, 0);

    /* s + min(0, beta s - alpha) q, MagFace-100 (alpha 0.077428, beta 0.125926):
     * s 0.3, q 30:  0.3 + (0.0377778 - 0.077428) * 30 = 0.3 - 1.189506 = -0.889506
     * s 0.5, q 80:  0.5 + (0.062963 - 0.077428) * 80   = -0.6572
     * s -0.2, q 10: -0.2 + (-0.0251852 - 0.077428) * 10 = -1.226132
     * s 0.6, q 100: 0.6 + (0.0755556 - 0.077428) * 100  = 0.41276
     * s 0.7, q 50:  beta s - alpha = +0.0107202 > 0: no correction, 0.7 */
    CHECK_NEAR(xfiq_qmag_score(0.3, 30, &p100), -0.889506, 1e-12);
    CHECK_NEAR(xfiq_qmag_score(0.5, 80, &p100), -0.6572, 1e-12);
    CHECK_NEAR(xfiq_qmag_score(-0.2, 10, &p100), -1.226132, 1e-12);
    CHECK_NEAR(xfiq_qmag_score(0.6, 100, &p100), 0.41276, 1e-12);
    CHECK_NEAR(xfiq_qmag_score(0.7, 50, &p100), 0.7, 0);
    /* at s = alpha / beta the correction vanishes */
    double s0 = p100.alpha / p100.beta;
    CHECK_NEAR(xfiq_qmag_score(s0, 110, &p100), s0, 1e-12);
    /* MagFace-50: 0.45 + (0.103799 * 0.45 - 0.065984) * 40 = -0.320978
     * MagFace-18: 0.2 + (0.135311 * 0.2 - 0.092861) * 25 = -1.44497 */
    CHECK_NEAR(xfiq_qmag_score(0.45, 40, &p50), -0.320978, 1e-12);
    CHECK_NEAR(xfiq_qmag_score(0.2, 25, &p18), -1.44497, 1e-12);

    /* two embeddings with cos 0.3 and magnitudes 30, 45: the pair score
     * uses q = min = 30, so it must equal the first hand case */
    float z[2 * 4] = {30, 0, 0, 0, 0, 0, 0, 0};
    z[4] = (float)(45 * 0.3);
    z[5] = (float)(45 * sqrt(1 - 0.09));
    int64_t ia = 0, ib = 1;
    double cs, q, v;
    CHECK_OK(xfiq_score_pairs(z, 2, 4, NULL, &ia, &ib, 1, &p100, &cs, &q, &v));
    CHECK_NEAR(cs, 0.3, 1e-6);
    CHECK_NEAR(q, 30, 1e-5);
    CHECK_NEAR(v, -0.889506, 5e-5);

    /* zero embedding: refused with its row */
    float zz[2 * 4] = {1, 2, 3, 4, 0, 0, 0, 0};
    CHECK(xfiq_score_pairs(zz, 2, 4, NULL, &ia, &ib, 1, NULL, &cs, NULL, NULL) == XFIQ_ERR_ARG);
    CHECK(strstr(xfiq_last_error(), "row 1") != NULL);

    /* parameter file round trip */
    char path[4200];
    snprintf(path, sizeof path, "%s/qmag_params.json", fixture_dir("eval_qmag"));
    xfiq_qmag_params w = {0.0123456789012345, -0.987654321098765}, r = {0, 0};
    CHECK_OK(xfiq_qmag_params_save(path, &w, NULL));
    CHECK_OK(xfiq_qmag_params_resolve(path, &r));
    CHECK(r.alpha == w.alpha && r.beta == w.beta);
    FILE *f = fopen(path, "w");
    fputs("{\"alpha\": 1}", f);
    fclose(f);
    CHECK(xfiq_qmag_params_load(path, &r) == XFIQ_ERR_FORMAT);

    /* all-vs-all block against per-pair scores */
    const int ng = 300, np = 517, d = 96;
    float *g = malloc(sizeof(float) * ng * d), *pr = malloc(sizeof(float) * np * d);
    srand(3);
    for (int i = 0; i < ng * d; i++)
        g[i] = (float)(rand() / (double)RAND_MAX - 0.5) * (1 + i / d % 7);
    for (int i = 0; i < np * d; i++)
        pr[i] = (float)(rand() / (double)RAND_MAX - 0.5) * (1 + i / d % 5);
    float *blk = malloc(sizeof(float) * ng * np), *blc = malloc(sizeof(float) * ng * np);
    float *both = malloc(sizeof(float) * (ng + np) * d);
    memcpy(both, g, sizeof(float) * ng * d);
    memcpy(both + ng * d, pr, sizeof(float) * np * d);
    CHECK_OK(xfiq_score_block(g, ng, pr, np, d, &p100, blk));
    CHECK_OK(xfiq_score_block(g, ng, pr, np, d, NULL, blc));
    double worst = 0, worst_c = 0;
    int64_t *pa = malloc(sizeof(int64_t) * ng * np), *pb = malloc(sizeof(int64_t) * ng * np);
    double *pc = malloc(sizeof(double) * ng * np), *pv = malloc(sizeof(double) * ng * np);
    for (int i = 0; i < ng; i++)
        for (int j = 0; j < np; j++) {
            pa[(size_t)i * np + j] = i;
            pb[(size_t)i * np + j] = ng + j;
        }
    CHECK_OK(xfiq_score_pairs(both, ng + np, d, NULL, pa, pb, (int64_t)ng * np, &p100, pc, NULL, pv));
    for (size_t k = 0; k < (size_t)ng * np; k++) {
        worst = fmax(worst, fabs(blk[k] - pv[k]) / fmax(1.0, fabs(pv[k])));
        worst_c = fmax(worst_c, fabs(blc[k] - pc[k]));
    }
    /* through the CPU backend: xfiq_score_pairs's bits, and its errors */
    {
        const int64_t np2 = (int64_t)ng * np;
        double *hq = malloc((size_t)np2 * sizeof *hq), *bc = malloc((size_t)np2 * sizeof *bc),
               *bq = malloc((size_t)np2 * sizeof *bq), *bv = malloc((size_t)np2 * sizeof *bv);
        xfiq_backend_t cpu = NULL;
        CHECK_OK(xfiq_backend_init(&cpu, XFIQ_BACKEND_CPU, 0));
        CHECK_OK(xfiq_score_pairs(both, ng + np, d, NULL, pa, pb, np2, &p100, pc, hq, pv));
        CHECK_OK(xfiq_backend_score_pairs(cpu, both, ng + np, d, pa, pb, np2, &p100, bc, bq, bv));
        CHECK_MSG(!memcmp(bc, pc, (size_t)np2 * sizeof *bc) && !memcmp(bq, hq, (size_t)np2 * sizeof *bq) &&
                      !memcmp(bv, pv, (size_t)np2 * sizeof *bv),
                  "backend pair scores differ from xfiq_score_pairs");
        CHECK(xfiq_backend_score_pairs(cpu, zz, 2, 4, &ia, &ib, 1, NULL, &cs, NULL, NULL) == XFIQ_ERR_ARG);
        CHECK(strstr(xfiq_last_error(), "row 1 is all zeros") != NULL);
        int64_t far = 9;
        CHECK(xfiq_backend_score_pairs(cpu, z, 2, 4, &ia, &far, 1, NULL, &cs, NULL, NULL) == XFIQ_ERR_ARG);
        CHECK(strstr(xfiq_last_error(), "refers to row 0/9 of 2") != NULL);
        CHECK(xfiq_backend_score_pairs(NULL, z, 2, 4, &ia, &ib, 1, NULL, &cs, NULL, NULL) == XFIQ_ERR_ARG);
        xfiq_backend_free(cpu);
        free(hq), free(bc), free(bq), free(bv);
    }
    free(pa);
    free(pb);
    free(pc);
    free(pv);
    CHECK_MSG(worst < 2e-5, "block qmagface scores off by %g", worst);
    CHECK_MSG(worst_c < 2e-6, "block cosine scores off by %g", worst_c);
    printf("block %dx%d: max deviation from the double pair scores %.2g (cosine %.2g)\n", ng, np, worst,
           worst_c);
    free(g);
    free(pr);
    free(blk);
    free(blc);
    free(both);
    TEST_END();
}
