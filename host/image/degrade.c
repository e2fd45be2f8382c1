/* degrade.c - synthetic degradations of aligned faces (occluding box, blur)
 * used to check that quality and PLQ react where they should. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "xfiq_image.h"

void xfiq_image_occlude(uint8_t *pixels, int width, int height, int channels, int x0, int y0, int x1, int y1,
                        uint8_t v)
{
    x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0;
    x1 = x1 > width ? width : x1, y1 = y1 > height ? height : y1;
    for (int y = y0; y < y1; y++)
        if (x1 > x0)
            memset(pixels + ((size_t)y * width + x0) * channels, v, (size_t)(x1 - x0) * channels);
}

void xfiq_align_eye_box(int width, int height, int box[4])
{
    /* Template eyes at x 38.3 / 73.5, y ~51.6 of 112: a bar from brow to cheekbone. */
    box[0] = (int)lround(24.0 * width / 112.0);
    box[1] = (int)lround(38.0 * height / 112.0);
    box[2] = (int)lround(88.0 * width / 112.0);
    box[3] = (int)lround(62.0 * height / 112.0);
}

xfiq_status xfiq_image_blur(const uint8_t *src, int width, int height, int channels, float sigma, uint8_t *dst)
{
    if (!(sigma > 0 && sigma <= 50) || width < 1 || height < 1 || channels < 1)
        return xfiq_error(XFIQ_ERR_ARG, "blur: sigma must be in (0, 50] (got %g)", (double)sigma);
    int r = (int)ceilf(3 * sigma);
    float *k = malloc((size_t)(2 * r + 1) * sizeof *k);
    float *tmp = malloc((size_t)width * height * channels * sizeof *tmp);
    if (!k || !tmp) {
        free(k);
        free(tmp);
        return xfiq_error(XFIQ_ERR_NOMEM, "blur: out of memory");
    }
    float sum = 0;
    for (int i = -r; i <= r; i++)
        sum += k[i + r] = expf(-(float)(i * i) / (2 * sigma * sigma));
    for (int i = 0; i <= 2 * r; i++)
        k[i] /= sum;
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            for (int c = 0; c < channels; c++) {
                float a = 0;
                for (int i = -r; i <= r; i++) {
                    int xx = x + i < 0 ? 0 : x + i >= width ? width - 1 : x + i;
                    a += k[i + r] * src[((size_t)y * width + xx) * channels + c];
                }
                tmp[((size_t)y * width + x) * channels + c] = a;
            }
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
            for (int c = 0; c < channels; c++) {
                float a = 0;
                for (int i = -r; i <= r; i++) {
                    int yy = y + i < 0 ? 0 : y + i >= height ? height - 1 : y + i;
                    a += k[i + r] * tmp[((size_t)yy * width + x) * channels + c];
                }
                dst[((size_t)y * width + x) * channels + c] = (uint8_t)(a + 0.5f);
            }
    free(k);
    free(tmp);
    return XFIQ_OK;
}
