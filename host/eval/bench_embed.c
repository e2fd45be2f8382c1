/* bench_embed.c - embeddings of every image a benchmark needs, through the
 * engine (xfiq.h): decode (file or .bin payload) in parallel, fit to the
 * model input, embed in batches, optionally average with the mirror image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "eval/bench_internal.h"
#include "xfiq_image.h"

static xfiq_status load_one(xfiq_bench_t b, int64_t i, int w, int h, uint8_t *rgb)
{
    xfiq_image img;
    xfiq_status st;
    xfiq_image_load_opts lo;
    xfiq_image_load_opts_default(&lo);
    lo.max_pixels = b->max_image_pixels;
    if (b->format == XFIQ_BENCH_BIN)
        st = xfiq_image_load_memory_ex(b->bin.data[i], b->bin.len[i], b->names[i], &lo, &img);
    else
        st = xfiq_image_load_ex(b->names[i], &lo, &img);
    if (st != XFIQ_OK)
        return st;
    const xfiq_landmarks *lm = NULL;
    xfiq_face face;
    if (b->det) {
        int nf = 0;
        /* one detector, one set of working buffers: one image at a time */
#pragma omp critical(xfiq_bench_detect)
        st = xfiq_detector_find(b->det, &img, XFIQ_DETECT_THRESHOLD, (xfiq_face_order)b->det_order, &face, 1, &nf);
        if (st == XFIQ_OK && nf == 1)
            lm = &face.lm;
        else if (st == XFIQ_OK) {
#pragma omp atomic
            b->no_face++;
            if (b->no_face_at)
                b->no_face_at[i] = 1;
        }
    }
    if (st == XFIQ_OK)
        st = xfiq_image_prepare(&img, lm, w, h, rgb);
    xfiq_image_free(&img);
    return st;
}

xfiq_status xfiq_bench_set_detector(xfiq_bench_t b, xfiq_detector_t det, int order)
{
    if (!b)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_bench_set_detector: NULL benchmark");
    b->det = det;
    b->det_order = order;
    if (det && !b->no_face_at && !(b->no_face_at = calloc((size_t)(b->n_images ? b->n_images : 1), 1)))
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    if (det) { /* counts start again with each detector set */
        memset(b->no_face_at, 0, (size_t)(b->n_images ? b->n_images : 1));
        b->no_face = 0;
    }
    return XFIQ_OK;
}

int64_t xfiq_bench_no_face(xfiq_bench_t b) { return b ? b->no_face : 0; }

int xfiq_bench_image_no_face(xfiq_bench_t b, int64_t i)
{
    return b && b->no_face_at && i >= 0 && i < b->n_images ? b->no_face_at[i] : 0;
}

static void mirror(const uint8_t *src, uint8_t *dst, int w, int h)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(dst + ((size_t)y * w + x) * 3, src + ((size_t)y * w + (w - 1 - x)) * 3, 3);
}

xfiq_status xfiq_bench_set_max_image_pixels(xfiq_bench_t b, int64_t max_pixels)
{
    if (!b)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_bench_set_max_image_pixels: NULL benchmark");
    if (max_pixels != 0 && (max_pixels < (int64_t)XFIQ_IMAGE_MIN_SIDE * XFIQ_IMAGE_MIN_SIDE ||
                            max_pixels > XFIQ_IMAGE_MAX_PIXELS_CEILING))
        return xfiq_error(XFIQ_ERR_ARG, "%s: image pixel limit %lld is outside [%d, %lld]", b->source,
                          (long long)max_pixels, XFIQ_IMAGE_MIN_SIDE * XFIQ_IMAGE_MIN_SIDE,
                          (long long)XFIQ_IMAGE_MAX_PIXELS_CEILING);
    b->max_image_pixels = max_pixels;
    return XFIQ_OK;
}

xfiq_status xfiq_bench_embed_range(xfiq_bench_t b, xfiq_model_t m, int flip, int batch, int64_t first,
                                   int64_t end, float *z)
{
    if (!b || !m || !z)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_bench_embed_range: NULL argument");
    if (first < 0 || end < first || end > b->n_images)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_bench_embed_range: rows [%lld, %lld) outside the %lld images",
                          (long long)first, (long long)end, (long long)b->n_images);
    xfiq_model_info info;
    XFIQ_TRY(xfiq_model_get_info(m, &info));
    const int w = info.input_width, h = info.input_height, d = info.embedding_dim;
    if (batch < 1)
        batch = 32;
    const int64_t n = end;
    const size_t img_bytes = (size_t)w * h * 3;
    uint8_t *pix = malloc(img_bytes * batch * (flip ? 2 : 1));
    float *ef = flip ? malloc((size_t)batch * d * sizeof(float)) : NULL;
    int64_t *which = malloc((size_t)batch * sizeof(int64_t));
    if (!pix || (flip && !ef) || !which) {
        free(pix);
        free(ef);
        free(which);
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory embedding %lld images", (long long)(end - first));
    }
    xfiq_status st = XFIQ_OK;
    float *zb = malloc((size_t)batch * d * sizeof(float));
    if (!zb)
        st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    int64_t next = first;
    while (st == XFIQ_OK && next < n) {
        int cnt = 0;
        while (next < n && cnt < batch) {
            if (b->first_pair[next] >= 0) /* images no pair needs stay zero */
                which[cnt++] = next;
            next++;
        }
        if (!cnt)
            break;
        int64_t bad = -1;
        char msg[512] = "";
#pragma omp parallel for schedule(dynamic, 1)
        for (int k = 0; k < cnt; k++) {
            xfiq_status s = load_one(b, which[k], w, h, pix + img_bytes * k);
            if (s != XFIQ_OK) {
#pragma omp critical(xfiq_bench_embed_err)
                if (bad < 0 || which[k] < bad) {
                    bad = which[k];
                    snprintf(msg, sizeof(msg), "%s", xfiq_last_error());
                }
            }
        }
        if (bad >= 0) {
            st = xfiq_error(XFIQ_ERR_FORMAT, "%s: image needed here cannot be used: %s",
                            xfiq_bench_pair_origin(b, b->first_pair[bad]), msg);
            break;
        }
        st = xfiq_model_embed(m, pix, cnt, zb, NULL);
        if (st == XFIQ_OK && flip) {
            uint8_t *mir = pix + img_bytes * batch;
            for (int k = 0; k < cnt; k++) {
                mirror(pix + img_bytes * k, mir, w, h);
                memcpy(pix + img_bytes * k, mir, img_bytes);
            }
            st = xfiq_model_embed(m, pix, cnt, ef, NULL);
            for (int64_t k = 0; st == XFIQ_OK && k < (int64_t)cnt * d; k++)
                zb[k] = 0.5f * (zb[k] + ef[k]);
        }
        for (int k = 0; st == XFIQ_OK && k < cnt; k++)
            memcpy(z + which[k] * d, zb + (size_t)k * d, (size_t)d * sizeof(float));
    }
    free(zb);
    free(pix);
    free(ef);
    free(which);
    return st;
}

xfiq_status xfiq_bench_embed(xfiq_bench_t b, xfiq_model_t m, int flip, int batch, float **z_out,
                             int *dim_out)
{
    if (!b || !m || !z_out || !dim_out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_bench_embed: NULL argument");
    *z_out = NULL;
    xfiq_model_info info;
    XFIQ_TRY(xfiq_model_get_info(m, &info));
    const int64_t n = b->n_images;
    float *z = calloc((size_t)(n ? n : 1) * info.embedding_dim, sizeof(float));
    if (!z)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory embedding %lld images", (long long)n);
    xfiq_status st = xfiq_bench_embed_range(b, m, flip, batch, 0, n, z);
    if (st != XFIQ_OK) {
        free(z);
        return st;
    }
    *z_out = z;
    *dim_out = info.embedding_dim;
    return XFIQ_OK;
}
