/* fuzz_image.c - libFuzzer target of the image decoders (JPEG through
 * libjpeg-turbo, PNG through libpng, binary PGM/PPM) and the container
 * checks in front of them: any byte string must give XFIQ_OK with a sane
 * image, or an error with a message, never a crash, a leak or a read out of
 * bounds. Seeds: tests/fuzz/corpus/image/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "xfiq_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xfiq_image img;
    xfiq_status st = xfiq_image_load_memory(data, size, "fuzz", &img);
    if (st == XFIQ_OK) {
        if (!img.data || img.width < XFIQ_IMAGE_MIN_SIDE || img.height < XFIQ_IMAGE_MIN_SIDE ||
            img.width > XFIQ_IMAGE_MAX_SIDE || img.height > XFIQ_IMAGE_MAX_SIDE ||
            (img.channels != 1 && img.channels != 3))
            abort();
        /* touch every byte: a short buffer shows up under ASan */
        volatile unsigned sum = 0;
        size_t n = (size_t)img.width * (size_t)img.height * (size_t)img.channels;
        for (size_t i = 0; i < n; i += 97)
            sum += img.data[i];
        sum += img.data[n - 1];
        xfiq_image_free(&img);
    } else if (!xfiq_last_error()[0]) {
        abort(); /* every failure names its reason */
    }
    return 0;
}
