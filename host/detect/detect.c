/* detect.c - face detection and landmarks for raw photos: fr_detect.onnx
 * (RFB-320, boxes decoded inside the graph) and fr_landmark.onnx (68
 * points) on xfiq's engine, with the pre- and post-processing of the
 * package's lib/fr_detect.js and lib/fr_landmark.js (see models/README.md),
 * except where noted why. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "engine/runner.h"
#include "graph/graph.h"
#include "onnx/onnx_import.h"
#include "ops/elem.h"
#include "xfiq_image.h"

#define DET_W 320
#define DET_H 240
#define LM_SIDE 64
/* The landmark crop is the detector's square box moved down by this share of
 * its side: this detector's boxes sit higher on the face than the crops the
 * landmark network expects (chosen on the LFW crops the test does not sample
 * among shifts 0, 0.03, 0.05, 0.07, 0.08, 0.11: mean 5-point error to the
 * true points 1.74 px unshifted, 1.57 at 0.05, before k_five_offset). */
#define LM_SHIFT 0.05f
/* Black margin, as a share of the longer side, put around the photo before
 * it is letterboxed into 320x240: on tight crops (a face filling the image,
 * like aligned datasets) the detector's box and the landmarks are far off
 * without it (mean 5-point error to the template points on 40 LFW crops 4.6 px
 * without, 3.1 px with). */
#define DET_MARGIN 0.25
#define DET_TOP_K 750

struct xfiq_detector {
    xfiq_backend_t be;
    xfiq_graph gd, gl;
    xfiq_runner rd, rl;
    int n_priors;
    uint8_t *canvas;      // (DET_H, DET_W, 3)
    struct cand *cands;   // (n_priors) scratch sized at init: nothing allocated per photo for these
    float *scores_boxes;  // (n_priors, 6) the detector's output: scores (P, 2) then boxes (P, 4)
};

typedef struct cand {
    float b[4], score;
} cand;

static xfiq_status load_net(xfiq_backend_t be, const char *path, xfiq_graph *g, xfiq_runner *r, int64_t in_numel)
{
    XFIQ_TRY(xfiq_onnx_import(path, g));
    xfiq_status st = xfiq_graph_optimize(g, 1);
    if (st == XFIQ_OK && g->values[g->input].numel != in_numel)
        st = xfiq_error(XFIQ_ERR_SHAPE, "%s: input has %lld values per image, expected %lld", path,
                        (long long)g->values[g->input].numel, (long long)in_numel);
    if (st == XFIQ_OK)
        st = xfiq_runner_init(r, be, g, path, 0);
    if (st == XFIQ_OK)
        st = xfiq_runner_reserve(r, 1);
    return st;
}

xfiq_status xfiq_detector_init(xfiq_backend_t be, const char *detect_onnx, const char *landmark_onnx,
                               xfiq_detector_t *out)
{
    if (!be || !detect_onnx || !landmark_onnx || !out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_detector_init: backend, both model paths and out are required");
    *out = NULL;
    xfiq_detector_t d = calloc(1, sizeof *d);
    if (!d || !(d->canvas = malloc((size_t)DET_W * DET_H * 3))) {
        free(d);
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    }
    d->be = be;
    xfiq_status st = load_net(be, detect_onnx, &d->gd, &d->rd, 3 * DET_W * DET_H);
    if (st == XFIQ_OK) {
        int64_t n = d->gd.values[d->gd.output].numel;
        if (n % 6 || n < 6)
            st = xfiq_error(XFIQ_ERR_SHAPE, "%s: output of %lld values is not scores (P x 2) then boxes (P x 4)",
                            detect_onnx, (long long)n);
        d->n_priors = (int)(n / 6);
    }
    if (st == XFIQ_OK) {
        d->cands = malloc((size_t)d->n_priors * sizeof *d->cands);
        d->scores_boxes = malloc((size_t)d->n_priors * 6 * sizeof *d->scores_boxes);
        if (!d->cands || !d->scores_boxes)
            st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    }
    if (st == XFIQ_OK)
        st = load_net(be, landmark_onnx, &d->gl, &d->rl, LM_SIDE * LM_SIDE);
    if (st == XFIQ_OK && d->gl.values[d->gl.output].numel != 136)
        st = xfiq_error(XFIQ_ERR_SHAPE, "%s: output is not 68 points (136 values)", landmark_onnx);
    if (st != XFIQ_OK) {
        xfiq_detector_free(d);
        return st;
    }
    *out = d;
    return XFIQ_OK;
}

void xfiq_detector_free(xfiq_detector_t d)
{
    if (!d)
        return;
    xfiq_runner_free(&d->rd);
    xfiq_runner_free(&d->rl);
    xfiq_graph_free(&d->gd);
    xfiq_graph_free(&d->gl);
    free(d->canvas);
    free(d->cands);
    free(d->scores_boxes);
    free(d);
}

static int by_score_desc(const void *a, const void *b)
{
    float x = ((const cand *)a)->score, y = ((const cand *)b)->score;
    return x < y ? 1 : x > y ? -1 : 0;
}

static float iou(const float *a, const float *b)
{
    float w = fminf(a[2], b[2]) - fmaxf(a[0], b[0]), h = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
    if (w <= 0 || h <= 0)
        return 0;
    float i = w * h, u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i;
    return u > 0 ? i / u : 0;
}

/* Greedy NMS in score order (the JS sorts its candidates by y2 and divides
 * by one box's area, which keeps a lower-scored box over a better one; the
 * detector's own repository uses this IoU form). Returns how many survive,
 * moved to the front. */
static int nms(cand *c, int n, float thr)
{
    int kept = 0;
    for (int i = 0; i < n; i++) {
        int ok = 1;
        for (int j = 0; j < kept && ok; j++)
            ok = iou(c[i].b, c[j].b) <= thr;
        if (ok)
            c[kept++] = c[i];
    }
    return kept;
}

/* iBUG 68-point index of each point's mirror image (left-right swap). */
static int mirror68(int k)
{
    if (k <= 16)
        return 16 - k; /* jaw */
    if (k <= 26)
        return 43 - k; /* brows 17-21 <-> 26-22 */
    if (k <= 30)
        return k; /* nose bridge */
    if (k <= 35)
        return 66 - k; /* nostrils 31-35 */
    if (k <= 47) {     /* eyes: 36-39 <-> 45-42, 40-41 <-> 47-46 */
        static const int m[12] = {45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40};
        return m[k - 36];
    }
    if (k <= 54)
        return 102 - k; /* outer lip top 48-54 */
    if (k <= 59)
        return 114 - k; /* outer lip bottom 55-59 */
    if (k <= 64)
        return 124 - k; /* inner lip top 60-64 */
    return 132 - k;     /* inner lip bottom 65-67 */
}

/* One landmark-network pass over a 64x64 grey crop: 68 points in [0, 1]. */
static xfiq_status landmark_pass(xfiq_detector_t d, const uint8_t *lm_in, float *o)
{
    float *in = xfiq_runner_input_host(&d->rl);
    if (!in)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    for (int i = 0; i < LM_SIDE * LM_SIDE; i++)
        in[i] = lm_in[i] / 256.0f; /* the package's scaling */
    XFIQ_TRY(xfiq_runner_run(&d->rl, 1));
    return xfiq_runner_read(&d->rl, d->gl.output, 1, o);
}

/* 68 landmarks of the square box (x0, y0, side) of the RGB image: the mean
 * of the network's points on the crop and on its mirror image (mapped back
 * with the iBUG mirror order), which halves the network's left-right
 * asymmetric error (on LFW crops, the mean 5-point error to the true points
 * went from 1.93 to 1.74 px). */
static xfiq_status landmarks68(xfiq_detector_t d, const xfiq_image *rgb, int x0, int y0, int side, float (*pt)[2])
{
    uint8_t *crop = malloc((size_t)side * side), lm_in[LM_SIDE * LM_SIDE], lm_flip[LM_SIDE * LM_SIDE];
    if (!crop)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory for a %dx%d face crop", side, side);
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            int sx = x0 + x, sy = y0 + y;
            const uint8_t *p = rgb->data + ((size_t)sy * rgb->width + sx) * 3;
            crop[(size_t)y * side + x] = sx < 0 || sy < 0 || sx >= rgb->width || sy >= rgb->height
                                             ? 0 : xfiq_luma_u8(p[0], p[1], p[2]);
        }
    xfiq_image ci = {crop, side, side, 1, 0};
    xfiq_status st = xfiq_image_resize(&ci, LM_SIDE, LM_SIDE, lm_in);
    free(crop);
    XFIQ_TRY(st);
    for (int y = 0; y < LM_SIDE; y++)
        for (int x = 0; x < LM_SIDE; x++)
            lm_flip[y * LM_SIDE + x] = lm_in[y * LM_SIDE + LM_SIDE - 1 - x];
    float o[136], of[136];
    XFIQ_TRY(landmark_pass(d, lm_in, o));
    XFIQ_TRY(landmark_pass(d, lm_flip, of));
    /* Pixel centres: x in the flipped crop is (LM_SIDE - 1 - x) here, in
     * units of the crop (o * LM_SIDE is a position in 64-pixel units). The
     * network's outputs follow this convention: on the LFW crops the mean
     * x error of the 5 points is 0.00 eye distances with 63/64 - u and -0.02
     * (0.7 px to the left) with the pixel-edge mirror 1 - u. */
    const float flip_c = (float)(LM_SIDE - 1) / LM_SIDE;
    for (int k = 0; k < 68; k++) {
        int mk = mirror68(k);
        float fx = flip_c - of[2 * mk], fy = of[2 * mk + 1];
        pt[k][0] = 0.5f * (o[2 * k] + fx) * side + x0;
        pt[k][1] = 0.5f * (o[2 * k + 1] + fy) * side + y0;
    }
    return XFIQ_OK;
}

/* Where the 5-point annotation of the ArcFace template's datasets (MTCNN's
 * points) lies relative to the 68-point scheme's: the mean offset of the true
 * points from the network's, in units of the eye distance along (x) and
 * across (y, downwards) the eye line. Fitted once on the LFW crops of
 * ../shared/data that tests/test_detect_real.c does not sample (lines with
 * index % 4 != 0, 1,187 faces) with the LM_SHIFT crop; on the 396 it
 * samples the mean 5-point error went from 1.56 to 1.29 px (to the template
 * points: 3.17 to 2.98 px). The 5-point scheme's eye centres sit higher than
 * the mean of the 68-point eye contours, its nose tip lower than point 30. */
static const float k_five_offset[5][2] = {
    {0.00917f, -0.03401f}, /* left eye */
    {0.00367f, -0.03745f}, /* right eye */
    {-0.00278f, 0.01335f}, /* nose tip */
    {0.00034f, -0.01074f}, /* left mouth corner */
    {0.00438f, -0.00876f}, /* right mouth corner */
};

/* The template's 5 points from the 68 (iBUG: eyes 36-41 and 42-47, nose tip
 * 30, mouth corners 48 and 54), then moved by k_five_offset. */
static void five_points(const float (*p)[2], xfiq_landmarks *lm)
{
    float raw[5][2];
    for (int e = 0; e < 2; e++) {
        float sx = 0, sy = 0;
        for (int k = 36 + 6 * e; k < 42 + 6 * e; k++)
            sx += p[k][0], sy += p[k][1];
        raw[e][0] = sx / 6;
        raw[e][1] = sy / 6;
    }
    const int idx[3] = {30, 48, 54};
    for (int k = 0; k < 3; k++) {
        raw[2 + k][0] = p[idx[k]][0];
        raw[2 + k][1] = p[idx[k]][1];
    }
    /* (ux, uy): the eye line scaled to the eye distance; (-uy, ux) across it. */
    const float ux = raw[1][0] - raw[0][0], uy = raw[1][1] - raw[0][1];
    for (int k = 0; k < 5; k++) {
        lm->pt[k][0] = raw[k][0] + k_five_offset[k][0] * ux - k_five_offset[k][1] * uy;
        lm->pt[k][1] = raw[k][1] + k_five_offset[k][0] * uy + k_five_offset[k][1] * ux;
    }
}

static float order_key(const xfiq_face *f, xfiq_face_order order, int w, int h)
{
    if (order == XFIQ_FACES_CENTRAL) {
        float dx = (f->box[0] + f->box[2]) / 2 - (w - 1) / 2.0f, dy = (f->box[1] + f->box[3]) / 2 - (h - 1) / 2.0f;
        return -(dx * dx + dy * dy);
    }
    return (f->box[2] - f->box[0]) * (f->box[3] - f->box[1]);
}

/* The detector on the photo letterboxed into 320x240 with a black margin of
 * margin x its longer side: the candidates >= threshold, boxes in photo
 * pixels, into d->cands. */
static xfiq_status detect_at(xfiq_detector_t d, const xfiq_image *rgb, double margin, float threshold, int *n_cand)
{
    cand *c = d->cands;
    float *out = d->scores_boxes;
    const int w = rgb->width, h = rgb->height;
    const double m = margin * (w > h ? w : h);
    const double s = fmax((w + 2 * m) / DET_W, (h + 2 * m) / DET_H); /* photo pixels per canvas pixel */
    int nw = (int)lround(w / s), nh = (int)lround(h / s);
    nw = nw < 1 ? 1 : nw > DET_W ? DET_W : nw;
    nh = nh < 1 ? 1 : nh > DET_H ? DET_H : nh;
    const int ox = (DET_W - nw) / 2, oy = (DET_H - nh) / 2;
    const double sx = (double)nw / w, sy = (double)nh / h;
    *n_cand = 0;
    uint8_t *small = malloc((size_t)nw * nh * 3);
    if (!small)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    xfiq_status st = xfiq_image_resize(rgb, nw, nh, small);
    if (st == XFIQ_OK) {
        memset(d->canvas, 0, (size_t)DET_W * DET_H * 3);
        for (int y = 0; y < nh; y++)
            memcpy(d->canvas + ((size_t)(y + oy) * DET_W + ox) * 3, small + (size_t)y * nw * 3, (size_t)nw * 3);
    }
    free(small);
    XFIQ_TRY(st);
    float *in = xfiq_runner_input_host(&d->rd);
    if (!in)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    for (int ch = 0; ch < 3; ch++) /* RGB, (x - 127) / 128 as lib/fr_detect.js */
        for (int i = 0; i < DET_W * DET_H; i++)
            in[(size_t)ch * DET_W * DET_H + i] = xfiq_preprocess(d->canvas[(size_t)i * 3 + ch], 127.0f, 1.0f / 128);
    XFIQ_TRY(xfiq_runner_run(&d->rd, 1));
    XFIQ_TRY(xfiq_runner_read(&d->rd, d->gd.output, 1, out));
    int n = 0;
    const float *scores = out, *boxes = out + 2 * (size_t)d->n_priors;
    for (int i = 0; i < d->n_priors; i++) {
        float sc = scores[2 * i + 1];
        if (!(sc >= threshold))
            continue;
        const float *b = boxes + 4 * (size_t)i;
        c[n].score = sc;
        c[n].b[0] = (float)((b[0] * DET_W - ox) / sx);
        c[n].b[1] = (float)((b[1] * DET_H - oy) / sy);
        c[n].b[2] = (float)((b[2] * DET_W - ox) / sx);
        c[n].b[3] = (float)((b[3] * DET_H - oy) / sy);
        if (c[n].b[2] > c[n].b[0] && c[n].b[3] > c[n].b[1])
            n++;
    }
    *n_cand = n;
    return XFIQ_OK;
}

xfiq_status xfiq_detector_find(xfiq_detector_t d, const xfiq_image *img, float threshold, xfiq_face_order order,
                               xfiq_face *faces, int max_faces, int *n_faces)
{
    if (!d || !img || !img->data || !faces || !n_faces || max_faces < 1 || (img->channels != 1 && img->channels != 3))
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_detector_find: detector, image (grey or RGB), faces and a count "
                          "are required");
    if (!(threshold >= 0.0f && threshold <= 1.0f))
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_detector_find: threshold %g is outside [0, 1]", threshold);
    *n_faces = 0;
    xfiq_image rgb = *img, own = {0};
    if (img->channels == 1) {
        XFIQ_TRY(xfiq_image_to_rgb(img, &own));
        rgb = own;
    }
    const int w = rgb.width, h = rgb.height;
    xfiq_status st = XFIQ_OK;
    cand *c = d->cands;
    int n = 0;
    /* The default margin first; a photo with no face there gets a second
     * look at other scales (a pyramid of margins, as multi-scale testing
     * does): the one network's anchors match a face that fills a tight crop
     * at some scales only (MagFace's toy 1.jpg, a cut-off profile: best
     * score 0.11 at the default margin, 0.91 at 0.55). Only images that
     * would otherwise have no face pay for it. */
    static const double k_margins[] = {DET_MARGIN, 0.1, 0.4, 0.55, 0.7, 0.85, 1.0};
    for (size_t k = 0; k < sizeof k_margins / sizeof *k_margins && n == 0 && st == XFIQ_OK; k++)
        st = detect_at(d, &rgb, k_margins[k], threshold, &n);
    if (st != XFIQ_OK)
        goto done;
    qsort(c, (size_t)n, sizeof *c, by_score_desc);
    if (n > DET_TOP_K)
        n = DET_TOP_K;
    n = nms(c, n, XFIQ_DETECT_NMS);
    if (n > XFIQ_DETECT_MAX_FACES)
        n = XFIQ_DETECT_MAX_FACES;
    xfiq_face *all = calloc((size_t)(n ? n : 1), sizeof *all);
    if (!all) {
        st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < n && st == XFIQ_OK; i++) {
        /* Square box of side = height around the centre (lib/fr_detect.js),
         * reported as the face's box; the landmark crop is moved down by
         * LM_SHIFT of its side. */
        float cx = (c[i].b[0] + c[i].b[2]) / 2, cy = (c[i].b[1] + c[i].b[3]) / 2, side = c[i].b[3] - c[i].b[1];
        if (side > 4.0f * (w > h ? w : h))
            side = 4.0f * (w > h ? w : h);
        int x0 = (int)floorf(cx - side / 2), y0 = (int)floorf(cy + LM_SHIFT * side - side / 2), is = (int)lroundf(side);
        is = is < 8 ? 8 : is;
        xfiq_face *f = &all[i];
        f->score = c[i].score;
        f->box[0] = fmaxf(0, cx - side / 2);
        f->box[1] = fmaxf(0, cy - side / 2);
        f->box[2] = fminf((float)w - 1, cx + side / 2);
        f->box[3] = fminf((float)h - 1, cy + side / 2);
        st = landmarks68(d, &rgb, x0, y0, is, f->lm68);
        five_points((const float(*)[2])f->lm68, &f->lm);
    }
    if (st == XFIQ_OK) {
        /* Insertion sort by the order's key: a handful of faces. */
        for (int i = 1; i < n; i++) {
            xfiq_face t = all[i];
            float k = order_key(&t, order, w, h);
            int j = i;
            while (j > 0 && order_key(&all[j - 1], order, w, h) < k) {
                all[j] = all[j - 1];
                j--;
            }
            all[j] = t;
        }
        *n_faces = n < max_faces ? n : max_faces;
        memcpy(faces, all, (size_t)*n_faces * sizeof *faces);
    }
    free(all);
done:
    xfiq_image_free(&own);
    return st;
}
