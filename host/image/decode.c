/* decode.c - xfiq_image_load*: read, check and decode JPEG/PNG/PGM/PPM. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "core/status.h"
#include "image/image_internal.h"
#include "io/readall.h"

/* Compressed files beyond this are not photos of faces. */
#define XFIQ_IMAGE_MAX_FILE_BYTES ((size_t)1 << 30)

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

static const char *kind_name(image_kind k)
{
    switch (k) {
    case KIND_JPEG: return "JPEG";
    case KIND_PNG: return "PNG";
    case KIND_PNM: return "PGM/PPM";
    default: return "image";
    }
}

static xfiq_status image_check_size(const char *name, int64_t w, int64_t h)
{
    if (w < XFIQ_IMAGE_MIN_SIDE || h < XFIQ_IMAGE_MIN_SIDE)
        return xfiq_error(XFIQ_ERR_SHAPE, "%s: image too small for a face: %lldx%lld", name,
                          (long long)w, (long long)h);
    if (w > XFIQ_IMAGE_MAX_SIDE || h > XFIQ_IMAGE_MAX_SIDE || w * h > XFIQ_IMAGE_MAX_PIXELS)
        return xfiq_error(XFIQ_ERR_SHAPE,
                          "%s: image of %lldx%lld pixels is too large (limits: %d a side, %lld pixels)",
                          name, (long long)w, (long long)h, XFIQ_IMAGE_MAX_SIDE,
                          (long long)XFIQ_IMAGE_MAX_PIXELS);
    return XFIQ_OK;
}

void xfiq_image_free(xfiq_image *img)
{
    if (!img)
        return;
    free(img->data);
    memset(img, 0, sizeof *img);
}

xfiq_status xfiq_image_load_memory(const void *bytes, size_t len, const char *name,
                                   xfiq_image *out)
{
    if (!out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_image_load_memory: out is NULL");
    memset(out, 0, sizeof *out);
    if (!name)
        name = "(memory)";
    if (!bytes && len)
        return xfiq_error(XFIQ_ERR_ARG, "%s: NULL buffer of %zu bytes", name, len);
    if (len == 0)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: empty file (0 bytes): not an image", name);
    if (len > (size_t)INT_MAX || len > XFIQ_IMAGE_MAX_FILE_BYTES)
        return xfiq_error(XFIQ_ERR_SHAPE, "%s: %zu bytes is too large for an image file", name, len);
    const uint8_t *b = bytes;
    image_kind kind = image_sniff(b, len);
    if (kind == KIND_PNM_ASCII)
        return xfiq_error(XFIQ_ERR_UNSUPPORTED,
                          "%s: text (ASCII) PBM/PGM/PPM 'P%c' is not supported; use binary P5/P6",
                          name, b[1]);
    int64_t hw = 0, hh = 0; /* size declared by the header, when known */
    if (kind == KIND_JPEG) {
        int jw, jh;
        XFIQ_TRY(xfiq_jpeg_check_complete(b, len, name, &jw, &jh));
        hw = jw, hh = jh;
    } else if (kind == KIND_PNG) {
        XFIQ_TRY(xfiq_png_check_complete(b, len, name, &hw, &hh));
    }
    if (hw > 0 && hh > 0)
        XFIQ_TRY(image_check_size(name, hw, hh));

    int w = 0, h = 0, comp = 0;
    if (!stbi_info_from_memory(b, (int)len, &w, &h, &comp)) {
        const char *why = stbi_failure_reason();
        if (kind == KIND_UNKNOWN)
            return xfiq_error(XFIQ_ERR_FORMAT,
                              "%s: not an image: not JPEG, PNG or binary PGM/PPM (%s)", name,
                              why ? why : "unknown image type");
        if (why && strstr(why, "too large"))
            return xfiq_error(XFIQ_ERR_SHAPE, "%s: %s header declares an image over %d pixels a side",
                              name, kind_name(kind), XFIQ_IMAGE_MAX_SIDE);
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: corrupt %s header (%s)", name, kind_name(kind),
                          why ? why : "unknown reason");
    }
    XFIQ_TRY(image_check_size(name, w, h));

    /* Grey and grey+alpha stay grey; colour drops alpha. */
    int want = comp <= 2 ? 1 : 3;
    int dw = 0, dh = 0, dc = 0;
    uint8_t *px = stbi_load_from_memory(b, (int)len, &dw, &dh, &dc, want);
    if (!px) {
        const char *why = stbi_failure_reason();
        if (why && strcmp(why, "outofmem") == 0)
            return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory decoding %dx%d pixels", name, w, h);
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: corrupt %s data (%s)", name, kind_name(kind),
                          why ? why : "unknown reason");
    }
    if (dw != w || dh != h) { /* cannot happen with a sane decoder; never trust sizes blindly */
        free(px);
        return xfiq_error(XFIQ_ERR_INTERNAL, "%s: decoder returned %dx%d for a %dx%d header", name,
                          dw, dh, w, h);
    }
    out->data = px;
    out->width = w;
    out->height = h;
    out->channels = want;
    return XFIQ_OK;
}

xfiq_status xfiq_image_load(const char *path, xfiq_image *out)
{
    if (!out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_image_load: out is NULL");
    memset(out, 0, sizeof *out);
    uint8_t *buf;
    size_t len;
    xfiq_status st = xfiq_file_read_all(path, XFIQ_IMAGE_MAX_FILE_BYTES, &buf, &len);
    if (st == XFIQ_ERR_FORMAT) /* only "larger than the limit" comes back as FORMAT */
        return xfiq_error_prefix(XFIQ_ERR_SHAPE, "image file too large");
    if (st != XFIQ_OK)
        return st;
    st = xfiq_image_load_memory(buf, len, path, out);
    free(buf);
    return st;
}
