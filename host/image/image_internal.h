/* image_internal.h - helpers shared by the image files (not public). */
#ifndef XFIQ_IMAGE_INTERNAL_H
#define XFIQ_IMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "xfiq_image.h"

/* Container-level completeness checks, run before decoding: libjpeg pads a
 * cut-off JPEG with grey after a warning (Pillow refuses such files), and a
 * clear "truncated" message names the problem before any decoder runs.
 * Return XFIQ_OK or XFIQ_ERR_FORMAT naming name. They also give the declared
 * size (0 when absent), checked against the limits before decoding. */
xfiq_status xfiq_jpeg_check_complete(const uint8_t *b, size_t len, const char *name, int *width,
                                     int *height);
xfiq_status xfiq_png_check_complete(const uint8_t *b, size_t len, const char *name, int64_t *width,
                                    int64_t *height);

/* Copies a grey plane into RGB (each value three times). */
void xfiq_grey_to_rgb(const uint8_t *grey, size_t npixels, uint8_t *rgb);

#endif
