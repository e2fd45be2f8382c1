/* container_check.c - is a JPEG/PNG byte stream complete? (marker/chunk walk,
 * bounds-checked at every step: runs on hostile bytes before the decoders) */
#include <string.h>

#include "core/status.h"
#include "image/image_internal.h"

xfiq_status xfiq_jpeg_check_complete(const uint8_t *b, size_t len, const char *name, int *width,
                                     int *height)
{
    size_t p = 2; /* after SOI */
    *width = *height = 0;
    for (;;) {
        /* Markers are 0xFF (fill bytes allowed) followed by a code. */
        while (p < len && b[p] != 0xFF)
            p++;
        while (p < len && b[p] == 0xFF)
            p++;
        if (p >= len)
            return xfiq_error(XFIQ_ERR_FORMAT,
                              "%s: truncated JPEG: no end-of-image marker (%zu bytes)", name, len);
        uint8_t m = b[p++];
        if (m == 0xD9)
            return XFIQ_OK; /* EOI; anything after it is ignored as decoders do */
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7) || m == 0xD8)
            continue; /* markers without a length */
        if (p + 2 > len)
            return xfiq_error(XFIQ_ERR_FORMAT, "%s: truncated JPEG: segment 0x%02X cut at byte %zu",
                              name, m, len);
        size_t seg = (size_t)b[p] << 8 | b[p + 1];
        if (seg < 2 || p + seg > len)
            return xfiq_error(XFIQ_ERR_FORMAT,
                              "%s: truncated JPEG: segment 0x%02X at byte %zu needs %zu bytes, %zu left",
                              name, m, p - 2, seg, len - p);
        /* Start of frame (SOF0-SOF15 less DHT, JPG, DAC): P, Y, X follow the length. */
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC && seg >= 7 && !*width) {
            *height = b[p + 3] << 8 | b[p + 4];
            *width = b[p + 5] << 8 | b[p + 6];
        }
        p += seg;
        if (m != 0xDA)
            continue;
        /* Entropy-coded data of a scan: ends at a marker other than a
         * stuffed 0xFF00 or a restart marker. */
        for (;;) {
            while (p < len && b[p] != 0xFF)
                p++;
            size_t q = p;
            while (q < len && b[q] == 0xFF)
                q++;
            if (q >= len)
                return xfiq_error(XFIQ_ERR_FORMAT,
                                  "%s: truncated JPEG: file ends inside the compressed data "
                                  "(%zu bytes, no end-of-image marker)",
                                  name, len);
            if (b[q] == 0x00 || (b[q] >= 0xD0 && b[q] <= 0xD7)) {
                p = q + 1;
                continue;
            }
            break; /* p is at the marker's 0xFF */
        }
    }
}

static uint32_t be32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

xfiq_status xfiq_png_check_complete(const uint8_t *b, size_t len, const char *name, int64_t *width,
                                    int64_t *height)
{
    size_t p = 8; /* after the signature */
    *width = *height = 0;
    int chunks = 0;
    while (p + 8 <= len) {
        uint32_t clen = be32(b + p);
        const uint8_t *type = b + p + 4;
        if (clen > 0x7FFFFFFFu)
            return xfiq_error(XFIQ_ERR_FORMAT, "%s: corrupt PNG: chunk length %u at byte %zu", name,
                              clen, p);
        if (chunks == 0 && memcmp(type, "IHDR", 4) != 0)
            return xfiq_error(XFIQ_ERR_FORMAT, "%s: corrupt PNG: first chunk is not IHDR", name);
        if ((uint64_t)p + 12 + clen > len)
            return xfiq_error(XFIQ_ERR_FORMAT,
                              "%s: truncated PNG: chunk '%.4s' at byte %zu needs %u bytes, %zu left",
                              name, (const char *)type, p, clen + 12, len - p);
        if (chunks == 0 && clen >= 8) {
            *width = be32(b + p + 8);
            *height = be32(b + p + 12);
        }
        if (memcmp(type, "IEND", 4) == 0)
            return XFIQ_OK;
        p += 12 + (size_t)clen;
        chunks++;
    }
    return xfiq_error(XFIQ_ERR_FORMAT, "%s: truncated PNG: no IEND chunk (%zu bytes)", name, len);
}
