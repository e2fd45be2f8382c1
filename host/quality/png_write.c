/* png_write.c - PNG writer (libpng simplified API, atomic through
 * io/afile.h) and the PLQ pictures. */
#include "quality/png_write.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/afile.h"

xfiq_status plq_png_write_image(const char *path, const uint8_t *pixels, int width, int height, int channels,
                                size_t stride)
{
    if (!path || !pixels)
        return xfiq_error(XFIQ_ERR_ARG, "png: path or pixels is NULL");
    if (width <= 0 || height <= 0 || (channels != 1 && channels != 3))
        return xfiq_error(XFIQ_ERR_ARG, "png %s: bad image %d x %d x %d (channels 1 or 3)", path, width,
                          height, channels);
    if (stride == 0)
        stride = (size_t)width * channels;
    if (stride < (size_t)width * channels || stride > 0x7fffffff)
        return xfiq_error(XFIQ_ERR_ARG, "png %s: row stride %zu does not fit width %d", path, stride, width);

    xfiq_afile af;
    XFIQ_TRY(xfiq_afile_open(&af, path));
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)width;
    img.height = (png_uint_32)height;
    img.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    int ok = png_image_write_to_stdio(&img, af.fp, 0, pixels, (png_int_32)stride, NULL);
    if (!ok) {
        xfiq_status st = xfiq_error(XFIQ_ERR_IO, "png %s: libpng: %s", path, img.message);
        png_image_free(&img);
        xfiq_afile_abort(&af);
        return st;
    }
    png_image_free(&img);
    return xfiq_afile_commit(&af);
}

xfiq_status plq_png_write_heatmap(const char *path, const float *map, int H, int W, int zoom)
{
    if (H <= 0 || W <= 0 || zoom < 1 || zoom > 64)
        return xfiq_error(XFIQ_ERR_ARG, "png %s: bad heatmap size %d x %d or zoom %d", path ? path : "?", W, H, zoom);
    uint8_t *rgb = malloc((size_t)H * W * zoom * zoom * 3);
    if (!rgb)
        return xfiq_error(XFIQ_ERR_NOMEM, "png %s: no memory for the heatmap", path ? path : "?");
    xfiq_status st = plq_panel_heatmap(map, H, W, zoom, rgb);
    if (st == XFIQ_OK)
        st = plq_png_write_image(path, rgb, W * zoom, H * zoom, 3, 0);
    free(rgb);
    return st;
}

xfiq_status plq_png_write_side_by_side(const char *path, const uint8_t *face, int channels, const float *map,
                                       int H, int W, const plq_panel_opts *opts)
{
    if (!opts || H <= 0 || W <= 0 || opts->zoom < 1 || opts->zoom > 64)
        return xfiq_error(XFIQ_ERR_ARG, "png %s: bad panel size %d x %d or options", path ? path : "?", W, H);
    int cw, ch;
    plq_panel_size(H, W, opts, &cw, &ch);
    uint8_t *rgb = malloc((size_t)cw * ch * 3);
    if (!rgb)
        return xfiq_error(XFIQ_ERR_NOMEM, "png %s: no memory for a %d x %d picture", path ? path : "?", cw, ch);
    xfiq_status st = plq_panel_render(face, channels, map, H, W, opts, rgb);
    if (st == XFIQ_OK)
        st = plq_png_write_image(path, rgb, cw, ch, 3, 0);
    free(rgb);
    return st;
}
