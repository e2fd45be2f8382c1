/* test_plq_relative.c - the relative PLQ map (xfiq_plq_relative_map) on real
 * faces with the default model and its calibrated card:
 *  - it equals a numpy computation from the same gradient magnitudes and
 *    pixels (tests/ref/plq_relative_ref.py), and does not change when the
 *    gradient is scaled (it does not scale with Q);
 *  - a grey bar over the eyes, and a random 28x28 grey box in the face, is
 *    the lowest region of the relative map: its mean is below that of every
 *    other 28x28 box of a grid over the face, in >= 90% of NOCC LFW faces
 *    each; printed too: how often it is below the mean of the rest of the
 *    face, and the same figures for the absolute map;
 *  - it still follows the network: on clean faces its mean correlation with
 *    the absolute map is > 0.3 (a map of image detail alone, which would
 *    also pass the occlusion checks, has about 0);
 *  - on faces with the eyes covered (Q near 0) the absolute map is saturated
 *    red while the relative map keeps part of the face above P = 0.5.
 * Prints every figure (quoted in the README). */
#include <string.h>

#include "io/npy.h"
#include "io/pathlist.h"
#include "quality/plq_map.h"
#include "test_util.h"
#include "xfiq_image.h"
#include "xfiq_quality.h"
#include "xfiq_test.h"

#define S 112
#define HW (S * S)
#define NOCC 100
#define BOX 28

static double box_mean(const float *map, int x0, int y0, int x1, int y1)
{
    double s = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            s += map[y * S + x];
    return s / ((double)(x1 - x0) * (y1 - y0));
}

/* 1 when the box's mean is below the mean of the other face pixels. */
static int below_rest(const float *map, const uint8_t *face, int x0, int y0, int x1, int y1)
{
    double in = box_mean(map, x0, y0, x1, y1), out = 0;
    int no = 0;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            if (face[y * S + x] && !(x >= x0 && x < x1 && y >= y0 && y < y1))
                out += map[y * S + x], no++;
    return in < out / no;
}

/* 1 when the box's mean is below that of every BOX x BOX box of a grid
 * (stride BOX/2) whose centre lies in the face and which does not overlap it. */
static int lowest_box(const float *map, const uint8_t *face, int x0, int y0, int x1, int y1)
{
    double in = box_mean(map, x0, y0, x1, y1);
    for (int by = 0; by + BOX <= S; by += BOX / 2)
        for (int bx = 0; bx + BOX <= S; bx += BOX / 2) {
            if (!face[(by + BOX / 2) * S + bx + BOX / 2])
                continue;
            if (bx < x1 && bx + BOX > x0 && by < y1 && by + BOX > y0)
                continue;
            if (box_mean(map, bx, by, bx + BOX, by + BOX) <= in)
                return 0;
        }
    return 1;
}

int main(void)
{
    const char *src = test_env("XFIQ_SOURCE_DIR", "."), *data = test_env("XFIQ_DATA_DIR", "../shared/data");
    const char *fix = test_env("XFIQ_FIXTURE_DIR", "/tmp"), *py = test_env("XFIQ_PYTHON", "/usr/bin/python3");
    char model[4096], lfw[4096];
    snprintf(model, sizeof model, "%s/models/.cache/fr_feature.onnx", src);
    snprintf(lfw, sizeof lfw, "%s/lfw-folds12/aligned_112x112", data);
    if (!test_file_exists(model))
        SKIP("default model not fetched (%s): run models/fetch_default.sh", model);
    if (!test_file_exists(lfw))
        SKIP("real faces absent (%s)", lfw);
    xfiq_backend_t be;
    xfiq_model_t m;
    CHECK_OK(xfiq_backend_init(&be, XFIQ_BACKEND_CPU, 0));
    CHECK_OK(xfiq_model_load(be, model, NULL, &m));
    CHECK_MSG(xfiq_model_is_calibrated(m), "the default model's card has no calibration (%s)",
              xfiq_model_card_source(m));

    /* Argument checks. */
    float one[HW], out[HW];
    static uint8_t flat[HW * 3];
    CHECK(xfiq_plq_relative_map(NULL, flat, 1, S, S, 3, 2, out, NULL) == XFIQ_ERR_ARG);
    CHECK(xfiq_plq_relative_map(one, NULL, 1, S, S, 3, 2, out, NULL) == XFIQ_ERR_ARG);
    CHECK(xfiq_plq_relative_map(one, flat, 1, S, S, 0, 2, out, NULL) == XFIQ_ERR_ARG);
    CHECK(xfiq_plq_relative_map(one, flat, 1, S, S, 3, 0, out, NULL) == XFIQ_ERR_ARG);
    CHECK(strstr(xfiq_last_error(), "b = 0") != NULL);

    xfiq_pathlist pl;
    xfiq_pathlist_init(&pl);
    CHECK_OK(xfiq_dir_list_images(lfw, &pl));
    const int n = (int)pl.count, step = n / NOCC;
    CHECK(n >= NOCC);
    uint8_t *clean = malloc((size_t)NOCC * HW * 3), *eye = malloc((size_t)NOCC * HW * 3),
            *rnd = malloc((size_t)NOCC * HW * 3);
    for (int i = 0; i < NOCC; i++) {
        xfiq_image img;
        CHECK_OK(xfiq_image_load(pl.items[(size_t)i * step], &img));
        CHECK_OK(xfiq_image_prepare(&img, NULL, S, S, clean + (size_t)i * HW * 3));
        xfiq_image_free(&img);
    }
    uint8_t mask[HW];
    plq_face_mask_default(S, S, mask);
    int eb[4];
    xfiq_align_eye_box(S, S, eb);
    int rx[NOCC], ry[NOCC];
    unsigned seed = 20261205;
    for (int i = 0; i < NOCC; i++) {
        memcpy(eye + (size_t)i * HW * 3, clean + (size_t)i * HW * 3, HW * 3);
        memcpy(rnd + (size_t)i * HW * 3, clean + (size_t)i * HW * 3, HW * 3);
        xfiq_image_occlude(eye + (size_t)i * HW * 3, S, S, 3, eb[0], eb[1], eb[2], eb[3], 128);
        do { /* a BOX x BOX box whose centre lies in the face region */
            seed = seed * 1103515245u + 12345u;
            rx[i] = (int)((seed >> 8) % (S - BOX));
            seed = seed * 1103515245u + 12345u;
            ry[i] = (int)((seed >> 8) % (S - BOX));
        } while (!mask[(ry[i] + BOX / 2) * S + rx[i] + BOX / 2]);
        xfiq_image_occlude(rnd + (size_t)i * HW * 3, S, S, 3, rx[i], ry[i], rx[i] + BOX, ry[i] + BOX, 128);
    }
    xfiq_plq_opts o;
    xfiq_plq_opts_default(m, 0, &o);
    xfiq_quality q[NOCC];
    float *maps = malloc((size_t)NOCC * HW * sizeof *maps), *grad = malloc((size_t)NOCC * HW * sizeof *grad),
          *rel = malloc((size_t)NOCC * HW * sizeof *rel), med[NOCC];
    uint64_t ids[NOCC];
    for (int i = 0; i < NOCC; i++)
        ids[i] = (uint64_t)i;

    /* Against numpy, and invariance to the gradient's scale, on the clean faces. */
    CHECK_OK(xfiq_model_plq(m, clean, NOCC, ids, &o, q, maps, grad));
    CHECK_OK(xfiq_plq_relative_map(grad, clean, NOCC, S, S, 3, o.b, rel, med));
    char gpath[4200], ppath[4200], rpath[4200], cmd[17000];
    snprintf(gpath, sizeof gpath, "%s/plq_rel_grad.npy", fix);
    snprintf(ppath, sizeof ppath, "%s/plq_rel_pixels.npy", fix);
    snprintf(rpath, sizeof rpath, "%s/plq_rel_ref.npy", fix);
    int64_t shp[3] = {NOCC, S, S}, pshp[4] = {NOCC, S, S, 3};
    CHECK_OK(xfiq_npy_write_f32(gpath, grad, 3, shp));
    float *pxf = malloc((size_t)NOCC * HW * 3 * sizeof *pxf);
    for (size_t i = 0; i < (size_t)NOCC * HW * 3; i++)
        pxf[i] = clean[i];
    CHECK_OK(xfiq_npy_write_f32(ppath, pxf, 4, pshp));
    free(pxf);
    snprintf(cmd, sizeof cmd, "'%s' '%s/tests/ref/plq_relative_ref.py' '%s' '%s' %g '%s'", py, src, gpath, ppath,
             o.b, rpath);
    CHECK_MSG(system(cmd) == 0, "numpy reference failed: %s", cmd);
    xfiq_npy ref;
    if (xfiq_npy_read_f32(rpath, &ref) == XFIQ_OK) {
        double worst = 0;
        for (size_t i = 0; i < (size_t)NOCC * HW; i++)
            worst = fmax(worst, fabs((double)rel[i] - ref.data[i]));
        printf("relative map vs numpy on %d faces: max |diff| %.3g\n", NOCC, worst);
        CHECK_MSG(worst < 1e-5, "relative map differs from numpy by %.3g", worst);
        xfiq_npy_free(&ref);
    } else
        CHECK_MSG(0, "cannot read %s", rpath);
    for (size_t i = 0; i < HW; i++)
        one[i] = grad[i] * 1e-3f;
    CHECK_OK(xfiq_plq_relative_map(one, clean, 1, S, S, 3, o.b, out, NULL));
    double dscale = 0;
    for (size_t i = 0; i < HW; i++)
        dscale = fmax(dscale, fabs((double)out[i] - rel[i]));
    printf("relative map of the gradient scaled by 1e-3: max |change| %.3g\n", dscale);
    CHECK(dscale < 1e-5);

    /* Still the network's map: Pearson correlation with the absolute map over
     * the face pixels of each clean face, averaged. */
    double corr = 0, above_clean = 0;
    for (int i = 0; i < NOCC; i++) {
        const float *a = maps + (size_t)i * HW, *r = rel + (size_t)i * HW;
        double sa = 0, sr = 0, saa = 0, srr = 0, sar = 0;
        int cnt = 0, above = 0;
        for (int p = 0; p < HW; p++)
            if (mask[p]) {
                sa += a[p], sr += r[p], saa += (double)a[p] * a[p], srr += (double)r[p] * r[p];
                sar += (double)a[p] * r[p], cnt++, above += r[p] > 0.5f;
            }
        double cov = sar - sa * sr / cnt, va = saa - sa * sa / cnt, vr = srr - sr * sr / cnt;
        corr += cov / sqrt(va * vr) / NOCC;
        above_clean += (double)above / cnt / NOCC;
    }
    printf("clean faces: mean correlation of the relative with the absolute map %.2f; face pixels with "
           "P_rel > 0.5: %.0f%%\n", corr, 100 * above_clean);
    CHECK_MSG(corr > 0.3, "the relative map no longer follows the gradient (correlation %.2f)", corr);

    /* Occlusion: absolute vs relative map. */
    int eye_rest[2] = {0, 0}, eye_low[2] = {0, 0}, rnd_rest[2] = {0, 0}, rnd_low[2] = {0, 0};
    double sat_abs = 0, above_rel = 0, qeye = 0;
    for (int pass = 0; pass < 2; pass++) {
        const uint8_t *img = pass ? rnd : eye;
        CHECK_OK(xfiq_model_plq(m, img, NOCC, ids, &o, q, maps, grad));
        CHECK_OK(xfiq_plq_relative_map(grad, img, NOCC, S, S, 3, o.b, rel, NULL));
        for (int i = 0; i < NOCC; i++) {
            const float *mp[2] = {maps + (size_t)i * HW, rel + (size_t)i * HW};
            int x0 = pass ? rx[i] : eb[0], y0 = pass ? ry[i] : eb[1];
            int x1 = pass ? rx[i] + BOX : eb[2], y1 = pass ? ry[i] + BOX : eb[3];
            for (int k = 0; k < 2; k++) {
                (pass ? rnd_rest : eye_rest)[k] += below_rest(mp[k], mask, x0, y0, x1, y1);
                (pass ? rnd_low : eye_low)[k] += lowest_box(mp[k], mask, x0, y0, x1, y1);
            }
            if (!pass) {
                int sat = 0, above = 0, tot = 0;
                for (int p = 0; p < HW; p++)
                    if (mask[p])
                        sat += mp[0][p] < 0.05f, above += mp[1][p] > 0.5f, tot++;
                sat_abs += (double)sat / tot / NOCC;
                above_rel += (double)above / tot / NOCC;
                qeye += q[i].serfiq / NOCC;
            }
        }
    }
    const char *names[2] = {"absolute", "relative"};
    for (int k = 0; k < 2; k++)
        printf("%s map, %d LFW faces: occluded box below the rest of the face: eyes %d/%d, random box %d/%d; "
               "lowest of the grid's %dx%d boxes: eyes %d/%d, random box %d/%d\n",
               names[k], NOCC, eye_rest[k], NOCC, rnd_rest[k], NOCC, BOX, BOX, eye_low[k], NOCC, rnd_low[k], NOCC);
    printf("eyes covered (mean scaled SER-FIQ %.3f): absolute map has %.0f%% of face pixels below P 0.05; "
           "relative map %.0f%% above P 0.5\n", qeye, 100 * sat_abs, 100 * above_rel);
    CHECK_MSG(eye_low[1] >= NOCC * 9 / 10, "eyes: the bar is the lowest box of the relative map in only %d/%d faces",
              eye_low[1], NOCC);
    CHECK_MSG(rnd_low[1] >= NOCC * 9 / 10, "random box: the lowest box of the relative map in only %d/%d faces",
              rnd_low[1], NOCC);
    CHECK(above_rel > 0.3);

    free(clean);
    free(eye);
    free(rnd);
    free(maps);
    free(grad);
    free(rel);
    xfiq_pathlist_free(&pl);
    xfiq_model_free(m);
    xfiq_backend_free(be);
    TEST_END();
}
