/* png_write.h - 8-bit PNG files through libpng, written atomically
 * (io/afile.h: a temporary file in the target folder, renamed over the target
 * only when complete), and the PLQ pictures of panel.h saved as PNG.
 * (Prefix plq_png_: libpng owns png_*.)
 *
 * The quality value goes into the side-by-side picture as a caption drawn in
 * the built-in 5x7 font (font5x7.h), so the picture stays self-describing
 * whatever the file is renamed to; callers may put it in the file name too. */
#ifndef XFIQ_QUALITY_PNG_WRITE_H
#define XFIQ_QUALITY_PNG_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "quality/panel.h"
#include "xfiq.h"

/* pixels: height rows of stride bytes (0: width*channels), each width x
 * channels 8-bit samples; channels 1 (grey) or 3 (RGB). */
xfiq_status plq_png_write_image(const char *path, const uint8_t *pixels, int width, int height, int channels,
                                size_t stride);

/* The coloured PLQ heatmap of map (H x W), magnified by zoom. */
xfiq_status plq_png_write_heatmap(const char *path, const float *map, int H, int W, int zoom);

/* The side-by-side picture of plq_panel_render. */
xfiq_status plq_png_write_side_by_side(const char *path, const uint8_t *face, int channels, const float *map,
                                       int H, int W, const plq_panel_opts *opts);

#endif
