/* hello_xfiq.c - a small program built against an installed xfiq (by
 * tests/install/install_test.sh): loads the model given, embeds one image. */
#include <stdio.h>
#include <stdlib.h>

#include <xfiq.h>
#include <xfiq_image.h>
#include <xfiq_quality.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: hello_xfiq MODEL.onnx FACE_112x112\n");
        return 2;
    }
    xfiq_backend_t be;
    xfiq_model_t m;
    xfiq_image img;
    if (xfiq_backend_init(&be, XFIQ_BACKEND_CPU, 1) != XFIQ_OK || xfiq_model_load(be, argv[1], NULL, &m) != XFIQ_OK ||
        xfiq_image_load(argv[2], &img) != XFIQ_OK) {
        fprintf(stderr, "hello_xfiq: %s\n", xfiq_last_error());
        return 1;
    }
    xfiq_model_info info;
    xfiq_model_get_info(m, &info);
    uint8_t *face = malloc((size_t)info.input_width * info.input_height * 3);
    float *emb = malloc((size_t)info.embedding_dim * sizeof *emb), mag;
    if (xfiq_image_prepare(&img, NULL, info.input_width, info.input_height, face) != XFIQ_OK ||
        xfiq_model_embed(m, face, 1, emb, &mag) != XFIQ_OK) {
        fprintf(stderr, "hello_xfiq: %s\n", xfiq_last_error());
        return 1;
    }
    printf("hello_xfiq: %s, %d-d, magnitude %.4f, calibrated %d\n", info.name, info.embedding_dim, mag,
           xfiq_model_is_calibrated(m));
    free(face);
    free(emb);
    xfiq_image_free(&img);
    xfiq_model_free(m);
    xfiq_backend_free(be);
    return 0;
}
