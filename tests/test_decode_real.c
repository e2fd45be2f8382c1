/* test_decode_real.c - the LFW JPEGs of ../shared/data decoded by xfiq equal
 * Pillow's pixels exactly (libjpeg-turbo, integer slow IDCT, fancy
 * upsampling: the decoder of PIL, OpenCV and insightface), and embeddings of
 * the JPEG files agree with a PyTorch run of the ONNX graph on Pillow's
 * pixels (tests/ref/jpeg_real_ref.py) to a relative L2 error < 1e-4. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/npy.h"
#include "test_util.h"
#include "xfiq.h"
#include "xfiq_image.h"
#include "xfiq_test.h"

int main(void)
{
    const char *fix = getenv("XFIQ_FIXTURE_DIR"), *src = getenv("XFIQ_SOURCE_DIR");
    if (!fix || !src)
        SKIP("XFIQ_FIXTURE_DIR / XFIQ_SOURCE_DIR not set (run through ctest)");
    char p[4200], model[4200];
    snprintf(p, sizeof p, "%s/jpeg_real/lfw_list.txt", fix);
    FILE *lf = fopen(p, "r");
    if (!lf)
        SKIP("no reference list %s (the fixture skipped: no LFW faces or model)", p);
    snprintf(p, sizeof p, "%s/jpeg_real/lfw_pil.u8", fix);
    FILE *pf = fopen(p, "rb");
    CHECK(pf != NULL);
    const size_t img = 112 * 112 * 3;
    uint8_t *ref = malloc(img);
    char line[4200];
    int n = 0, n_diff = 0, worst = 0;
    size_t n_px_diff = 0;
    while (pf && fgets(line, sizeof line, lf)) {
        line[strcspn(line, "\n")] = 0;
        CHECK(fread(ref, 1, img, pf) == img);
        xfiq_image im;
        xfiq_status st = xfiq_image_load(line, &im);
        CHECK_MSG(st == XFIQ_OK, "%s: %s", line, xfiq_last_error());
        if (st != XFIQ_OK)
            continue;
        CHECK_MSG(im.width == 112 && im.height == 112 && im.channels == 3, "%s: %dx%dx%d", line, im.width,
                  im.height, im.channels);
        int d_img = 0;
        for (size_t i = 0; im.channels == 3 && i < img; i++) {
            int d = abs((int)im.data[i] - (int)ref[i]);
            n_px_diff += d != 0;
            d_img = d > d_img ? d : d_img;
        }
        n_diff += d_img != 0;
        worst = d_img > worst ? d_img : worst;
        xfiq_image_free(&im);
        n++;
    }
    fclose(lf);
    if (pf)
        fclose(pf);
    printf("%d LFW JPEGs: max |xfiq - Pillow| = %d, %d images and %zu samples differ\n", n, worst, n_diff,
           n_px_diff);
    CHECK(n >= 1000);
    CHECK_MSG(worst == 0, "decoded pixels differ from Pillow's by up to %d", worst);

    /* Embeddings of the first files, straight from the JPEGs. */
    snprintf(model, sizeof model, "%s/models/.cache/fr_feature.onnx", src);
    snprintf(p, sizeof p, "%s/jpeg_real/lfw_ref_emb.npy", fix);
    xfiq_npy r;
    CHECK_OK(xfiq_npy_read_f32(p, &r));
    xfiq_backend_t be;
    xfiq_model_t m;
    CHECK_OK(xfiq_backend_init(&be, XFIQ_BACKEND_CPU, 0));
    CHECK_OK(xfiq_model_load(be, model, NULL, &m));
    int ne = (int)r.shape[0], dim = (int)r.shape[1];
    uint8_t *faces = malloc((size_t)ne * img);
    float *emb = malloc((size_t)ne * dim * sizeof *emb);
    snprintf(p, sizeof p, "%s/jpeg_real/lfw_list.txt", fix);
    lf = fopen(p, "r");
    for (int i = 0; i < ne && fgets(line, sizeof line, lf); i++) {
        line[strcspn(line, "\n")] = 0;
        xfiq_image im;
        CHECK_OK(xfiq_image_load(line, &im));
        memcpy(faces + (size_t)i * img, im.data, img);
        xfiq_image_free(&im);
    }
    fclose(lf);
    CHECK_OK(xfiq_model_embed(m, faces, ne, emb, NULL));
    double worst_e = 0, sum_e = 0;
    for (int i = 0; i < ne; i++) {
        double dd = 0, nn = 0;
        for (int k = 0; k < dim; k++) {
            double a = emb[(size_t)i * dim + k], b = r.data[(size_t)i * dim + k];
            dd += (a - b) * (a - b);
            nn += b * b;
        }
        double e = sqrt(dd / nn);
        sum_e += e;
        worst_e = e > worst_e ? e : worst_e;
    }
    printf("%d LFW JPEGs embedded by xfiq from the files vs PyTorch on Pillow's pixels: relative L2 max %.3g, "
           "mean %.3g\n", ne, worst_e, sum_e / ne);
    CHECK(ne >= 100);
    CHECK_MSG(worst_e < 1e-4, "relative L2 %.3g", worst_e);
    xfiq_npy_free(&r);
    free(faces);
    free(emb);
    free(ref);
    xfiq_model_free(m);
    xfiq_backend_free(be);
    TEST_END();
}
