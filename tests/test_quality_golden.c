/* test_quality_golden.c - SER-FIQ and PLQ of xfiq against an independent
 * PyTorch autograd reference (tests/ref/serfiq_plq_ref.py, float64) with the
 * same Philox masks, on the tiny iResNet and tiny MobileFaceNet: the
 * reference runs the whole network NPASS times (the naive method), xfiq the
 * network once and the head NPASS times. Also: bitwise-identical results for
 * any batch split and thread count. */
#include <string.h>

#include "engine/model.h"
#include "io/npy.h"
#include "quality/serfiq.h"
#include "test_util.h"
#include "xfiq_quality.h"
#include "xfiq_test.h"

#define NIMG 3
#define NPASS 8

static double rel(double a, double b) { return fabs(a - b) / fmax(fabs(b), 1e-30); }

/* Qhat of the signed regression at preprocessed input x (one image): Q (s.e)/(s.e0). */
static double qhat_signed(xfiq_model_t m, const float *x, const float *e0, double Q, float *z, int D)
{
    xfiq_model_forward(m, x, 1, z);
    double nz = 0, se = 0, se0 = 0;
    for (int j = 0; j < D; j++)
        nz += (double)z[j] * z[j];
    nz = sqrt(nz);
    for (int j = 0; j < D; j++) {
        double sg = e0[j] > 0 ? 1.0 : e0[j] < 0 ? -1.0 : 0.0;
        se += sg * z[j] / nz;
        se0 += sg * e0[j];
    }
    return Q * se / se0;
}

/* Central differences of xfiq's own forward pass (float32) against its PLQ
 * gradient magnitude m on the 6 pixels where m is largest; h = 0.5 in 8-bit
 * pixel units. Float32 and PReLU kinks limit the agreement: tolerance 2e-2. */
static void check_fd(xfiq_model_t m, const uint8_t *img, double Q, const float *gm, const char *stem)
{
    int H = m->card.height, W = m->card.width, D = (int)m->g.values[m->g.output].numel;
    size_t hw = (size_t)H * W;
    float *x = malloc(3 * hw * sizeof *x), *z = malloc((size_t)D * sizeof *z), *e0 = malloc((size_t)D * sizeof *e0);
    xfiq_model_preprocess(&m->card, img, 1, x);
    xfiq_model_forward(m, x, 1, e0);
    double n0 = 0;
    for (int j = 0; j < D; j++)
        n0 += (double)e0[j] * e0[j];
    for (int j = 0; j < D; j++)
        e0[j] = (float)(e0[j] / sqrt(n0));
    int used[6] = {-1, -1, -1, -1, -1, -1};
    double worst = 0;
    for (int k = 0; k < 6; k++) {
        int best = -1;
        for (size_t p = 0; p < hw; p++) {
            int taken = 0;
            for (int j = 0; j < k; j++)
                taken |= used[j] == (int)p;
            if (!taken && (best < 0 || gm[p] > gm[best]))
                best = (int)p;
        }
        used[k] = best;
        const float h = 0.5f;
        double mfd = 0;
        for (int c = 0; c < 3; c++) { /* model channel c reads pixel channel c (RGB) or 2-c (BGR) */
            float *xc = x + (size_t)c * hw + best, keep = *xc, dx = h * m->card.scale[c];
            *xc = keep + dx;
            double qp = qhat_signed(m, x, e0, Q, z, D);
            *xc = keep - dx;
            double qm = qhat_signed(m, x, e0, Q, z, D);
            *xc = keep;
            mfd += fabs(qp - qm) / (2 * h) / 3;
        }
        worst = fmax(worst, fabs(mfd - gm[best]) / gm[best]);
    }
    printf("%s signed: xfiq's PLQ gradient vs central differences of xfiq's forward (6 strongest pixels): "
           "max rel err %.2e\n", stem, worst);
    CHECK_MSG(worst < 2e-2, "%s: finite differences disagree (%.3g)", stem, worst);
    free(x);
    free(z);
    free(e0);
}

static void check(const char *dir, const char *stem, xfiq_plq_mode mode)
{
    const char *py = test_env("XFIQ_PYTHON", "/usr/bin/python3"), *src = test_env("XFIQ_SOURCE_DIR", ".");
    char p[4400], card[4400], faces_p[4400], masks_p[4400], prm_p[4400], out_p[4400], cmd[30000];
    snprintf(p, sizeof p, "%s/%s.onnx", dir, stem);
    snprintf(card, sizeof card, "%s/%s.card.json", dir, stem);
    xfiq_backend_t be, be1;
    xfiq_model_t m, m1;
    CHECK_OK(xfiq_backend_init(&be, XFIQ_BACKEND_CPU, 2));
    CHECK_OK(xfiq_backend_init(&be1, XFIQ_BACKEND_CPU, 1));
    CHECK_OK(xfiq_model_load(be, p, NULL, &m));
    CHECK_OK(xfiq_model_load(be1, p, NULL, &m1));
    size_t nb;
    snprintf(p, sizeof p, "%s/%s_images.npy", dir, stem);
    uint8_t *img = test_npy_read_u8(p, &nb);
    CHECK(img != NULL && nb >= (size_t)NIMG * m->card.width * m->card.height * 3);
    if (!img)
        return;
    int H = m->card.height, W = m->card.width;
    size_t hw = (size_t)H * W;
    uint64_t ids[NIMG] = {5, 9, 1000000007ULL};
    xfiq_plq_opts o;
    xfiq_plq_opts_default(m, 1, &o);
    o.serfiq.T = NPASS;
    o.serfiq.alpha = 10;
    o.serfiq.r = 0.5;
    o.serfiq.seed = 1234;
    o.mode = mode;
    o.a = 1;
    o.b = 2;
    xfiq_quality q[NIMG], q1;
    float *maps = malloc(NIMG * hw * sizeof *maps), *gm = malloc(NIMG * hw * sizeof *gm);
    float *map1 = malloc(hw * sizeof *map1), *gm1 = malloc(hw * sizeof *gm1);
    CHECK_OK(xfiq_model_plq(m, img, NIMG, ids, &o, q, maps, gm));
    /* SER-FIQ alone gives the same qualities as the PLQ path. */
    xfiq_quality qs[NIMG];
    CHECK_OK(xfiq_model_serfiq(m, img, NIMG, ids, &o.serfiq, qs, NULL));
    for (int i = 0; i < NIMG; i++)
        CHECK_MSG(qs[i].serfiq_raw == q[i].serfiq_raw, "%s: serfiq %g vs plq path %g", stem, qs[i].serfiq_raw,
                  q[i].serfiq_raw);
    /* One image at a time, one thread: the same bits. */
    int same = 1;
    for (int i = 0; i < NIMG; i++) {
        CHECK_OK(xfiq_model_plq(m1, img + (size_t)i * hw * 3, 1, &ids[i], &o, &q1, map1, gm1));
        same &= q1.serfiq_raw == q[i].serfiq_raw && q1.serfiq == q[i].serfiq;
        same &= memcmp(map1, maps + (size_t)i * hw, hw * sizeof *map1) == 0;
        same &= memcmp(gm1, gm + (size_t)i * hw, hw * sizeof *gm1) == 0;
    }
    CHECK_MSG(same, "%s: batch-1 / 1-thread PLQ results differ in bits from batch-%d / 2 threads", stem, NIMG);
    if (mode == XFIQ_PLQ_SIGNED)
        check_fd(m, img, q[0].serfiq, gm, stem);

    /* The masks xfiq used, for the reference. */
    int E = (int)m->head.values[m->head.input].numel;
    serfiq_dropout cfg = {.seed = o.serfiq.seed, .p = o.serfiq.p, .kind = SERFIQ_MASK_ELEMENT, .dim = E, .spatial = 1};
    float *mk = malloc((size_t)NIMG * NPASS * E * sizeof *mk);
    CHECK_OK(serfiq_masks_fill(&cfg, ids, NIMG, NPASS, mk, 1));
    float *fx = malloc(NIMG * hw * 3 * sizeof *fx);
    for (size_t i = 0; i < NIMG * hw * 3; i++)
        fx[i] = img[i];
    const char *fix = test_env("XFIQ_FIXTURE_DIR", "fixtures");
    const char *mname = xfiq_plq_mode_name(mode);
    snprintf(faces_p, sizeof faces_p, "%s/q_%s_%s_faces.npy", fix, stem, mname);
    snprintf(masks_p, sizeof masks_p, "%s/q_%s_%s_masks.npy", fix, stem, mname);
    snprintf(prm_p, sizeof prm_p, "%s/q_%s_%s_params.json", fix, stem, mname);
    snprintf(out_p, sizeof out_p, "%s/q_%s_%s_ref", fix, stem, mname);
    int64_t sf[4] = {NIMG, H, W, 3}, sm[2] = {NIMG * NPASS, E};
    CHECK_OK(xfiq_npy_write_f32(faces_p, fx, 4, sf));
    CHECK_OK(xfiq_npy_write_f32(masks_p, mk, 2, sm));
    FILE *f = fopen(prm_p, "w");
    if (f) {
        fprintf(f, "{\"T\": %d, \"alpha\": %g, \"r\": %g, \"mode\": \"%s\", \"a\": %g, \"b\": %g}\n", NPASS,
                o.serfiq.alpha, o.serfiq.r, mname, o.a, o.b);
        fclose(f);
    }
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/ref/serfiq_plq_ref.py' '%s/%s.onnx' '%s' '%s' '%s' '%s' '%s'", py, src,
             dir, stem, card, faces_p, masks_p, prm_p, out_p);
    int rc = system(cmd);
    CHECK_MSG(rc == 0, "reference failed: %s", cmd);
    if (rc == 0) {
        xfiq_npy rq, rqs, rm, rfd;
        char k[4600];
        snprintf(k, sizeof k, "%s_q_raw.npy", out_p);
        CHECK_OK(xfiq_npy_read_f32(k, &rq));
        snprintf(k, sizeof k, "%s_q.npy", out_p);
        CHECK_OK(xfiq_npy_read_f32(k, &rqs));
        snprintf(k, sizeof k, "%s_m.npy", out_p);
        CHECK_OK(xfiq_npy_read_f32(k, &rm));
        snprintf(k, sizeof k, "%s_fd_rel.npy", out_p);
        CHECK_OK(xfiq_npy_read_f32(k, &rfd));
        double eq = 0, es = 0, eg = test_rel_err(gm, rm.data, NIMG * hw), efd = 0;
        for (int i = 0; i < NIMG; i++) {
            eq = fmax(eq, rel(q[i].serfiq_raw, rq.data[i]));
            es = fmax(es, rel(q[i].serfiq, rqs.data[i]));
            efd = fmax(efd, rfd.data[i]);
        }
        printf("%s %-6s: q_raw %.4f %.4f %.4f  max rel err vs naive PyTorch: q_raw %.2e, Q %.2e, "
               "pixel gradient %.2e (autograd vs finite differences %.1e)\n",
               stem, mname, q[0].serfiq_raw, q[1].serfiq_raw, q[2].serfiq_raw, eq, es, eg, efd);
        CHECK_MSG(eq < 1e-5, "%s: q_raw rel err %.3g", stem, eq);
        CHECK_MSG(es < 1e-4, "%s: Q rel err %.3g", stem, es);
        CHECK_MSG(eg < 1e-4, "%s: gradient rel err %.3g", stem, eg);
        CHECK_MSG(efd < 1e-6, "%s: the reference's autograd disagrees with finite differences (%.3g)", stem, efd);
        xfiq_npy_free(&rq);
        xfiq_npy_free(&rqs);
        xfiq_npy_free(&rm);
        xfiq_npy_free(&rfd);
    }
    free(mk);
    free(fx);
    free(maps);
    free(gm);
    free(map1);
    free(gm1);
    free(img);
    xfiq_model_free(m);
    xfiq_model_free(m1);
    xfiq_backend_free(be);
    xfiq_backend_free(be1);
}

int main(void)
{
    char dir[4096], probe[4200];
    snprintf(dir, sizeof dir, "%s/golden", test_env("XFIQ_FIXTURE_DIR", "fixtures"));
    snprintf(probe, sizeof probe, "%s/golden.json", dir);
    if (!test_file_exists(probe))
        SKIP("golden fixtures missing (%s)", probe);
    check(dir, "iresnet_tiny", XFIQ_PLQ_SIGNED);
    check(dir, "iresnet_tiny", XFIQ_PLQ_PAPER);
    check(dir, "mfn_tiny", XFIQ_PLQ_SIGNED);
    check(dir, "mfn_tiny", XFIQ_PLQ_PAPER);
    TEST_END();
}
