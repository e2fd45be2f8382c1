/* decode.c - xfiq_image_load*: read, check and decode JPEG/PNG/PGM/PPM.
 *
 * JPEG goes through libjpeg(-turbo) with the settings of Pillow, OpenCV and
 * insightface (integer slow IDCT, fancy upsampling, YCbCr -> RGB in the
 * library), so the pixels equal theirs exactly; PNG through libpng with the
 * conversions Pillow applies (16-bit samples keep their high byte, palettes
 * expand, alpha is dropped, no gamma correction); binary PGM/PPM is read here.
 * Every header's size is checked against the limits of xfiq_image.h (the
 * pixel limit per call, xfiq_image_load_opts) before any pixel buffer is
 * allocated. */
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "core/status.h"
#include "image/image_internal.h"
#include "io/readall.h"

/* Compressed files beyond this are not photos of faces. */
#define XFIQ_IMAGE_MAX_FILE_BYTES ((size_t)1 << 30)
/* A progressive JPEG with more scans than this is hostile (each scan
 * re-reads the whole coefficient buffer); libjpeg-turbo's tools use 500. */
#define XFIQ_JPEG_MAX_SCANS 500

typedef enum image_kind { KIND_UNKNOWN, KIND_JPEG, KIND_PNG, KIND_PNM, KIND_PNM_ASCII } image_kind;

static image_kind image_sniff(const uint8_t *b, size_t len)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    if (len >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
        return KIND_JPEG;
    if (len >= 8 && memcmp(b, png_sig, 8) == 0)
        return KIND_PNG;
    if (len >= 2 && b[0] == 'P' && (b[1] == '5' || b[1] == '6'))
        return KIND_PNM;
    if (len >= 2 && b[0] == 'P' && b[1] >= '1' && b[1] <= '4')
        return KIND_PNM_ASCII;
    return KIND_UNKNOWN;
}

static xfiq_status image_check_size(const char *name, int64_t w, int64_t h, int64_t max_pixels)
{
    if (w < XFIQ_IMAGE_MIN_SIDE || h < XFIQ_IMAGE_MIN_SIDE)
        return xfiq_error(XFIQ_ERR_SHAPE, "%s: image too small for a face: %lldx%lld", name,
                          (long long)w, (long long)h);
    if (w > XFIQ_IMAGE_MAX_SIDE || h > XFIQ_IMAGE_MAX_SIDE)
        return xfiq_error(XFIQ_ERR_SHAPE, "%s: image of %lldx%lld pixels is too large (limit: %d a side)", name,
                          (long long)w, (long long)h, XFIQ_IMAGE_MAX_SIDE);
    if (w * h > max_pixels) /* both sides <= 32768 here: no overflow */
        return xfiq_error(XFIQ_ERR_SHAPE,
                          "%s: image of %lldx%lld = %lld pixels is too large (limit: %lld pixels)", name,
                          (long long)w, (long long)h, (long long)(w * h), (long long)max_pixels);
    return XFIQ_OK;
}

void xfiq_image_load_opts_default(xfiq_image_load_opts *o)
{
    if (o)
        memset(o, 0, sizeof *o);
}

/* The pixel limit of opts (NULL or 0: the default), or -1 when out of range. */
static int64_t opts_max_pixels(const xfiq_image_load_opts *opts)
{
    if (!opts || opts->max_pixels == 0)
        return XFIQ_IMAGE_MAX_PIXELS;
    if (opts->max_pixels < (int64_t)XFIQ_IMAGE_MIN_SIDE * XFIQ_IMAGE_MIN_SIDE ||
        opts->max_pixels > XFIQ_IMAGE_MAX_PIXELS_CEILING)
        return -1;
    return opts->max_pixels;
}

static xfiq_status bad_max_pixels(const char *name, const xfiq_image_load_opts *opts)
{
    return xfiq_error(XFIQ_ERR_ARG, "%s: image pixel limit %lld is outside [%d, %lld]", name,
                      (long long)opts->max_pixels, XFIQ_IMAGE_MIN_SIDE * XFIQ_IMAGE_MIN_SIDE,
                      (long long)XFIQ_IMAGE_MAX_PIXELS_CEILING);
}

static xfiq_status alloc_pixels(const char *name, int w, int h, int c, uint8_t **px)
{
    *px = malloc((size_t)w * (size_t)h * (size_t)c);
    if (!*px)
        return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory decoding %dx%d pixels", name, w, h);
    return XFIQ_OK;
}

/* ------------------------------------------------------------------ JPEG */
typedef struct jpeg_err {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_on_error(j_common_ptr ci)
{
    jpeg_err *e = (jpeg_err *)ci->err;
    e->pub.format_message(ci, e->msg);
    longjmp(e->jb, 1);
}

/* Warnings (e.g. "extraneous bytes before marker") are what Pillow and
 * OpenCV ignore too; the container check has refused truncated files. */
static void jpeg_on_message(j_common_ptr ci, int level)
{
    (void)ci;
    (void)level;
}

static void jpeg_on_progress(j_common_ptr ci)
{
    j_decompress_ptr d = (j_decompress_ptr)ci;
    if (d->is_decompressor && d->input_scan_number > XFIQ_JPEG_MAX_SCANS) {
        jpeg_err *e = (jpeg_err *)ci->err;
        snprintf(e->msg, sizeof e->msg, "more than %d progressive scans (hostile file)", XFIQ_JPEG_MAX_SCANS);
        longjmp(e->jb, 1);
    }
}

static xfiq_status decode_jpeg(const uint8_t *b, size_t len, const char *name, int64_t max_pixels, xfiq_image *out)
{
    struct jpeg_decompress_struct ci;
    jpeg_err err;
    struct jpeg_progress_mgr prog = {.progress_monitor = jpeg_on_progress};
    /* volatile: changed between setjmp and a longjmp back to it */
    uint8_t *volatile px = NULL;
    volatile int stage = 0; /* 0 header, 1 pixels */
    memset(&ci, 0, sizeof ci);
    ci.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = jpeg_on_error;
    err.pub.emit_message = jpeg_on_message;
    err.msg[0] = 0;
    if (setjmp(err.jb)) {
        jpeg_destroy_decompress(&ci);
        free(px);
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: corrupt JPEG %s (libjpeg: %s)", name,
                          stage ? "data" : "header", err.msg);
    }
    jpeg_create_decompress(&ci);
    ci.progress = &prog;
    ci.mem->max_memory_to_use = 2L << 30;
    jpeg_mem_src(&ci, b, (unsigned long)len);
    jpeg_read_header(&ci, TRUE);
    xfiq_status st = image_check_size(name, ci.image_width, ci.image_height, max_pixels);
    int ch = 0;
    if (st == XFIQ_OK) {
        switch (ci.jpeg_color_space) {
        case JCS_GRAYSCALE: ci.out_color_space = JCS_GRAYSCALE, ch = 1; break;
        case JCS_YCbCr:
        case JCS_RGB: ci.out_color_space = JCS_RGB, ch = 3; break;
        default:
            st = xfiq_error(XFIQ_ERR_UNSUPPORTED, "%s: CMYK/YCCK JPEG (%d components) is not supported; "
                            "convert it to RGB", name, ci.num_components);
        }
    }
    if (st != XFIQ_OK) {
        jpeg_destroy_decompress(&ci);
        return st;
    }
    /* Pillow's and OpenCV's settings (also libjpeg's defaults). */
    ci.dct_method = JDCT_ISLOW;
    ci.do_fancy_upsampling = TRUE;
    ci.do_block_smoothing = TRUE;
    ci.dither_mode = JDITHER_FS;
    ci.quantize_colors = FALSE;
    ci.scale_num = ci.scale_denom = 1;
    stage = 1;
    jpeg_start_decompress(&ci);
    if ((int)ci.output_width != (int)ci.image_width || (int)ci.output_height != (int)ci.image_height ||
        ci.output_components != ch) {
        jpeg_destroy_decompress(&ci);
        return xfiq_error(XFIQ_ERR_INTERNAL, "%s: libjpeg gives %ux%ux%d for a %ux%u header", name,
                          ci.output_width, ci.output_height, ci.output_components, ci.image_width,
                          ci.image_height);
    }
    const int w = (int)ci.output_width, h = (int)ci.output_height;
    uint8_t *p;
    if ((st = alloc_pixels(name, w, h, ch, &p)) != XFIQ_OK) {
        jpeg_destroy_decompress(&ci);
        return st;
    }
    px = p;
    const size_t stride = (size_t)w * (size_t)ch;
    while (ci.output_scanline < ci.output_height) {
        JSAMPROW row = px + (size_t)ci.output_scanline * stride;
        jpeg_read_scanlines(&ci, &row, 1);
    }
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    out->data = px;
    out->width = w;
    out->height = h;
    out->channels = ch;
    return XFIQ_OK;
}

/* ------------------------------------------------------------------- PNG */
typedef struct png_src {
    const uint8_t *b;
    size_t len, pos;
    char msg[256];
} png_src;

static void png_on_error(png_structp png, png_const_charp msg)
{
    png_src *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", msg ? msg : "unknown error");
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void png_on_read(png_structp png, png_bytep data, size_t n)
{
    png_src *s = png_get_io_ptr(png);
    if (n > s->len - s->pos)
        png_error(png, "read past the end of the data");
    memcpy(data, s->b + s->pos, n);
    s->pos += n;
}

static xfiq_status decode_png(const uint8_t *b, size_t len, const char *name, int64_t max_pixels, xfiq_image *out)
{
    png_src src = {.b = b, .len = len, .pos = 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory starting the PNG decoder", name);
    }
    uint8_t *volatile px = NULL;
    png_bytep *volatile rows = NULL;
    volatile int stage = 0;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(px);
        free(rows);
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: corrupt PNG %s (libpng: %s)", name, stage ? "data" : "header",
                          src.msg);
    }
    png_set_read_fn(png, &src, png_on_read);
    png_set_user_limits(png, XFIQ_IMAGE_MAX_SIDE, XFIQ_IMAGE_MAX_SIDE);
    png_set_chunk_malloc_max(png, (png_alloc_size_t)64 << 20); /* text/ICC chunks, not IDAT */
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int depth = png_get_bit_depth(png, info), type = png_get_color_type(png, info);
    xfiq_status st = image_check_size(name, w, h, max_pixels);
    if (st != XFIQ_OK) {
        png_destroy_read_struct(&png, &info, NULL);
        return st;
    }
    /* Pillow's conversions: high byte of 16-bit samples, palette to RGB,
     * grey stays grey, alpha (and tRNS) dropped, no gamma. */
    if (depth == 16)
        png_set_strip_16(png);
    if (type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (type & PNG_COLOR_MASK_ALPHA)
        png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    const int ch = png_get_channels(png, info);
    if ((ch != 1 && ch != 3) || png_get_rowbytes(png, info) != (size_t)w * (size_t)ch) {
        png_destroy_read_struct(&png, &info, NULL);
        return xfiq_error(XFIQ_ERR_INTERNAL, "%s: libpng gives %d channels, %zu bytes a row for width %u", name,
                          ch, (size_t)png_get_rowbytes(png, info), (unsigned)w);
    }
    uint8_t *p;
    if ((st = alloc_pixels(name, (int)w, (int)h, ch, &p)) != XFIQ_OK) {
        png_destroy_read_struct(&png, &info, NULL);
        return st;
    }
    px = p;
    png_bytep *r = malloc((size_t)h * sizeof *r);
    if (!r) {
        png_destroy_read_struct(&png, &info, NULL);
        free(p);
        return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory for %u PNG rows", name, (unsigned)h);
    }
    rows = r;
    for (png_uint_32 y = 0; y < h; y++)
        r[y] = p + (size_t)y * w * (size_t)ch;
    stage = 1;
    png_read_image(png, r);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(r);
    out->data = p;
    out->width = (int)w;
    out->height = (int)h;
    out->channels = ch;
    return XFIQ_OK;
}

/* ---------------------------------------------------------------- PGM/PPM */
/* Next header number after whitespace and '#' comments; -1 when malformed. */
static long pnm_number(const uint8_t *b, size_t len, size_t *p)
{
    for (;;) {
        while (*p < len && (b[*p] == ' ' || b[*p] == '\t' || b[*p] == '\n' || b[*p] == '\r' || b[*p] == '\v' ||
                            b[*p] == '\f'))
            (*p)++;
        if (*p < len && b[*p] == '#') {
            while (*p < len && b[*p] != '\n' && b[*p] != '\r')
                (*p)++;
            continue;
        }
        break;
    }
    if (*p >= len || b[*p] < '0' || b[*p] > '9')
        return -1;
    long v = 0;
    while (*p < len && b[*p] >= '0' && b[*p] <= '9') {
        v = v * 10 + (b[*p] - '0');
        if (v > 1000000000L)
            return -1;
        (*p)++;
    }
    return v;
}

static xfiq_status decode_pnm(const uint8_t *b, size_t len, const char *name, int64_t max_pixels, xfiq_image *out)
{
    const int ch = b[1] == '6' ? 3 : 1;
    size_t p = 2;
    long w = pnm_number(b, len, &p), h = w >= 0 ? pnm_number(b, len, &p) : -1;
    long maxval = h >= 0 ? pnm_number(b, len, &p) : -1;
    if (w < 0 || h < 0 || maxval < 0 || p >= len)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: corrupt PGM/PPM header (expected width, height and maxval)", name);
    XFIQ_TRY(image_check_size(name, w, h, max_pixels));
    if (maxval < 1 || maxval > 255)
        return xfiq_error(XFIQ_ERR_UNSUPPORTED, "%s: PGM/PPM maxval %ld is not supported (8-bit files only: 1..255)",
                          name, maxval);
    p++; /* the single whitespace after maxval */
    const size_t need = (size_t)w * (size_t)h * (size_t)ch;
    if (len - p < need)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: truncated PGM/PPM: %zu pixel bytes, %zu needed", name, len - p,
                          need);
    uint8_t *px;
    XFIQ_TRY(alloc_pixels(name, (int)w, (int)h, ch, &px));
    if (maxval == 255)
        memcpy(px, b + p, need);
    else /* values scaled to 0..255 (rounded), as Pillow does */
        for (size_t i = 0; i < need; i++) {
            unsigned v = b[p + i] > maxval ? (unsigned)maxval : b[p + i];
            px[i] = (uint8_t)((v * 255u + (unsigned)maxval / 2) / (unsigned)maxval);
        }
    out->data = px;
    out->width = (int)w;
    out->height = (int)h;
    out->channels = ch;
    return XFIQ_OK;
}

void xfiq_image_free(xfiq_image *img)
{
    if (!img)
        return;
    free(img->data);
    memset(img, 0, sizeof *img);
}

xfiq_status xfiq_image_load_memory_ex(const void *bytes, size_t len, const char *name,
                                      const xfiq_image_load_opts *opts, xfiq_image *out)
{
    if (!out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_image_load_memory: out is NULL");
    memset(out, 0, sizeof *out);
    if (!name)
        name = "(memory)";
    const int64_t max_pixels = opts_max_pixels(opts);
    if (max_pixels < 0)
        return bad_max_pixels(name, opts);
    if (!bytes && len)
        return xfiq_error(XFIQ_ERR_ARG, "%s: NULL buffer of %zu bytes", name, len);
    if (len == 0)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: empty file (0 bytes): not an image", name);
    if (len > (size_t)INT_MAX || len > XFIQ_IMAGE_MAX_FILE_BYTES)
        return xfiq_error(XFIQ_ERR_SHAPE, "%s: %zu bytes is too large for an image file", name, len);
    const uint8_t *b = bytes;
    switch (image_sniff(b, len)) {
    case KIND_JPEG: {
        int jw, jh;
        XFIQ_TRY(xfiq_jpeg_check_complete(b, len, name, &jw, &jh));
        if (jw > 0 && jh > 0)
            XFIQ_TRY(image_check_size(name, jw, jh, max_pixels));
        return decode_jpeg(b, len, name, max_pixels, out);
    }
    case KIND_PNG: {
        int64_t pw, ph;
        XFIQ_TRY(xfiq_png_check_complete(b, len, name, &pw, &ph));
        if (pw > 0 && ph > 0)
            XFIQ_TRY(image_check_size(name, pw, ph, max_pixels));
        return decode_png(b, len, name, max_pixels, out);
    }
    case KIND_PNM:
        return decode_pnm(b, len, name, max_pixels, out);
    case KIND_PNM_ASCII:
        return xfiq_error(XFIQ_ERR_UNSUPPORTED,
                          "%s: text (ASCII) PBM/PGM/PPM 'P%c' is not supported; use binary P5/P6", name, b[1]);
    default:
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: not an image: not JPEG, PNG or binary PGM/PPM", name);
    }
}

xfiq_status xfiq_image_load_memory(const void *bytes, size_t len, const char *name,
                                   xfiq_image *out)
{
    return xfiq_image_load_memory_ex(bytes, len, name, NULL, out);
}

xfiq_status xfiq_image_load_ex(const char *path, const xfiq_image_load_opts *opts, xfiq_image *out)
{
    if (!out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_image_load: out is NULL");
    memset(out, 0, sizeof *out);
    if (opts_max_pixels(opts) < 0) /* before reading a possibly large file */
        return bad_max_pixels(path ? path : "(null)", opts);
    uint8_t *buf;
    size_t len;
    xfiq_status st = xfiq_file_read_all(path, XFIQ_IMAGE_MAX_FILE_BYTES, &buf, &len);
    if (st == XFIQ_ERR_FORMAT) /* only "larger than the limit" comes back as FORMAT */
        return xfiq_error_prefix(XFIQ_ERR_SHAPE, "image file too large");
    if (st != XFIQ_OK)
        return st;
    st = xfiq_image_load_memory_ex(buf, len, path, opts, out);
    free(buf);
    return st;
}

xfiq_status xfiq_image_load(const char *path, xfiq_image *out)
{
    return xfiq_image_load_ex(path, NULL, out);
}
