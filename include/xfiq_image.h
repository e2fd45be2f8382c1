/* xfiq_image.h - public image API: decode JPEG/PNG/PNM, convert, resize, and
 * 5-point similarity alignment to the ArcFace template; landmarks files.
 *
 * Conventions
 *  - Pixels are 8-bit, interleaved, rows packed without padding.
 *  - Pixel coordinates put the centre of pixel (i, j) at (x = i, y = j), as
 *    OpenCV and insightface do; landmarks use the same convention.
 *  - Every fallible call returns an xfiq_status and sets xfiq_last_error() to
 *    a message that names the file (or the caller's name for a buffer).
 *  - All calls are thread-safe on distinct objects; a loaded landmarks set may
 *    be read from several threads at once.
 *  - Struct layouts are fixed whatever the build flags.
 */
#ifndef XFIQ_IMAGE_H
#define XFIQ_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "xfiq.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A face needs some pixels; anything smaller is a broken or placeholder file. */
#define XFIQ_IMAGE_MIN_SIDE 8
/* Larger than any camera makes: such headers are corrupt or hostile. */
#define XFIQ_IMAGE_MAX_SIDE 32768
/* Default limit on width * height (256 Mpixels: 768 MB decoded as RGB);
 * xfiq_image_load_opts.max_pixels changes it per call, up to the ceiling
 * (a full XFIQ_IMAGE_MAX_SIDE square). */
#define XFIQ_IMAGE_MAX_PIXELS ((int64_t)1 << 28)
#define XFIQ_IMAGE_MAX_PIXELS_CEILING ((int64_t)XFIQ_IMAGE_MAX_SIDE * XFIQ_IMAGE_MAX_SIDE)

typedef struct xfiq_image {
    uint8_t *data; /* height rows of width * channels bytes; owned */
    int width;
    int height;
    int channels; /* 1: grey, 3: RGB (alpha is dropped when decoding) */
    int reserved; /* 0 */
} xfiq_image;

/* Five points in the order of the ArcFace template: left eye, right eye, nose
 * tip, left mouth corner, right mouth corner ("left" = smaller x in a frontal
 * photo, i.e. the subject's right). pt[k] = {x, y} in pixels. */
typedef struct xfiq_landmarks {
    float pt[5][2];
} xfiq_landmarks;

/* ---------------------------------------------------------------- decoding */
/* Decode a JPEG, PNG or PGM/PPM file. Grey files (incl. grey + alpha) give
 * channels 1, everything else channels 3. Errors: XFIQ_ERR_IO (missing or
 * unreadable file), XFIQ_ERR_FORMAT (empty, not an image, truncated, corrupt),
 * XFIQ_ERR_SHAPE (smaller than XFIQ_IMAGE_MIN_SIDE or larger than the limits
 * above: XFIQ_IMAGE_MAX_SIDE a side, XFIQ_IMAGE_MAX_PIXELS in all),
 * XFIQ_ERR_NOMEM. On failure *out is zeroed. */
xfiq_status xfiq_image_load(const char *path, xfiq_image *out);
/* Same from an encoded buffer; name is used in error messages only (may be
 * NULL). */
xfiq_status xfiq_image_load_memory(const void *bytes, size_t len, const char *name,
                                   xfiq_image *out);
/* Per-call decoding limits, so that one process can read trusted scans and
 * untrusted uploads with different bounds (no global setting). Start from
 * xfiq_image_load_opts_default(). */
typedef struct xfiq_image_load_opts {
    /* Images with width * height above this are refused before any pixel
     * buffer is allocated (XFIQ_ERR_SHAPE naming the file, its size and the
     * limit). 0: XFIQ_IMAGE_MAX_PIXELS; else in
     * [XFIQ_IMAGE_MIN_SIDE^2, XFIQ_IMAGE_MAX_PIXELS_CEILING]. */
    int64_t max_pixels;
    int64_t reserved[3]; /* 0 */
} xfiq_image_load_opts;

void xfiq_image_load_opts_default(xfiq_image_load_opts *o);
/* xfiq_image_load / xfiq_image_load_memory under opts (NULL: defaults).
 * XFIQ_ERR_ARG when opts->max_pixels is outside its range. */
xfiq_status xfiq_image_load_ex(const char *path, const xfiq_image_load_opts *opts, xfiq_image *out);
xfiq_status xfiq_image_load_memory_ex(const void *bytes, size_t len, const char *name,
                                      const xfiq_image_load_opts *opts, xfiq_image *out);
/* Frees img->data and zeroes *img; NULL and zeroed images are fine. */
void xfiq_image_free(xfiq_image *img);

/* ------------------------------------------------------------- conversions */
/* New RGB copy of img (grey is replicated into R, G and B). */
xfiq_status xfiq_image_to_rgb(const xfiq_image *img, xfiq_image *out);
/* Resize to out_w x out_h with img->channels channels into out (caller owns
 * out_h * out_w * channels bytes). Enlarging: bilinear with half-pixel
 * centres (OpenCV INTER_LINEAR, PyTorch align_corners=False). Shrinking:
 * area averaging with exact fractional coverage (OpenCV INTER_AREA), per axis. */
xfiq_status xfiq_image_resize(const xfiq_image *img, int out_w, int out_h, uint8_t *out);

/* --------------------------------------------------------------- alignment */
/* The ArcFace 112x112 template scaled to out_w x out_h the way insightface
 * does for square sizes (multiples of 112: template * size / 112; multiples of
 * 128: template * size / 128 shifted right by 8 * size / 128); other sizes
 * scale x by out_w / 112 and y by out_h / 112. */
void xfiq_align_template(int out_w, int out_h, xfiq_landmarks *out);
/* Least-squares similarity (rotation, uniform scale, translation; no
 * reflection) mapping n >= 2 points src onto dst: Umeyama's estimate.
 * m is row-major 2x3: x' = m[0] x + m[1] y + m[2], y' = m[3] x + m[4] y + m[5].
 * XFIQ_ERR_ARG when the source points all coincide. */
xfiq_status xfiq_similarity_estimate(const float (*src)[2], const float (*dst)[2], int n,
                                     double m[6]);
/* out(x, y) = img(inverse of m applied to (x, y)): bilinear, pixels outside
 * img count as 0 (black border), same channels as img; m maps img
 * coordinates to out coordinates (as from xfiq_similarity_estimate). */
xfiq_status xfiq_image_warp_affine(const xfiq_image *img, const double m[6], int out_w,
                                   int out_h, uint8_t *out);

/* The model input for one face: out_rgb (out_h x out_w x 3, RGB) receives the
 * face aligned to the template when lm is given, else img resized as it is
 * (for faces that are already aligned). Grey images are replicated to RGB.
 * XFIQ_ERR_ARG when the landmarks are degenerate or far outside the image. */
xfiq_status xfiq_image_prepare(const xfiq_image *img, const xfiq_landmarks *lm, int out_w,
                               int out_h, uint8_t *out_rgb);

/* ------------------------------------------------- synthetic degradations */
/* For quality experiments on aligned faces (interleaved, channels 1 or 3):
 * fill the box [x0,x1) x [y0,y1) (clipped to the image) with grey level v. */
void xfiq_image_occlude(uint8_t *pixels, int width, int height, int channels, int x0, int y0, int x1, int y1,
                        uint8_t v);
/* The box covering both eyes of the ArcFace template, scaled to w x h. */
void xfiq_align_eye_box(int width, int height, int box[4]);
/* Gaussian blur (separable, kernel radius ceil(3 sigma), edges clamped) of
 * src into dst (same size; may not alias). XFIQ_ERR_ARG for sigma <= 0 or > 50. */
xfiq_status xfiq_image_blur(const uint8_t *src, int width, int height, int channels, float sigma, uint8_t *dst);

/* ---------------------------------------------------------- landmarks file */
/* Text file, one face per line: `path x1 y1 x2 y2 x3 y3 x4 y4 x5 y5` (points
 * in the order of xfiq_landmarks); a path with spaces is written in double
 * quotes; '#' starts a comment line; blank lines are skipped. Relative paths
 * are relative to the landmarks file's folder. */
typedef struct xfiq_landmarks_set xfiq_landmarks_set;

/* Errors: XFIQ_ERR_IO, XFIQ_ERR_FORMAT naming "file:line: reason" (wrong
 * number of fields, not a number, non-finite value, duplicate path). */
xfiq_status xfiq_landmarks_load(const char *path, xfiq_landmarks_set **out);
/* Landmarks of image_path, or NULL. Matches the entry whose resolved path is
 * image_path (both made absolute against the current directory and
 * normalised: "." and ".." components, repeated slashes). Failing that, a
 * relative entry also matches an image_path that ends with it at a folder
 * boundary, if exactly one entry does (so "astronaut.png" finds
 * "models/.cache/samples/astronaut.png"). */
const xfiq_landmarks *xfiq_landmarks_find(const xfiq_landmarks_set *set, const char *image_path);
size_t xfiq_landmarks_count(const xfiq_landmarks_set *set);
void xfiq_landmarks_free(xfiq_landmarks_set *set);

/* ---------------------------------------------------- detection (--detect) */
/* Faces in raw photos: the face detector fr_detect.onnx and the 68-point
 * landmark network fr_landmark.onnx (models/fetch_default.sh) run by xfiq's
 * engine; the 68 points give the template's 5 (eye centres = mean of each
 * eye's 6 contour points, nose tip, mouth corners). */
typedef struct xfiq_detector *xfiq_detector_t;

typedef enum xfiq_face_order {
    XFIQ_FACES_LARGEST = 0, /* largest box first */
    XFIQ_FACES_CENTRAL = 1  /* box centre nearest the image centre first */
} xfiq_face_order;

typedef struct xfiq_face {
    float box[4];          /* x1 y1 x2 y2 in image pixels (square, clipped to the image) */
    float score;           /* detector confidence of the face class, 0..1 */
    xfiq_landmarks lm;     /* the 5 template points */
    float lm68[68][2];     /* the landmark network's points (iBUG order) */
} xfiq_face;

/* Default score threshold (the package's own) and NMS IoU. */
#define XFIQ_DETECT_THRESHOLD 0.65f
#define XFIQ_DETECT_NMS 0.4f
#define XFIQ_DETECT_MAX_FACES 64

/* Loads both networks on be, CPU or CUDA (a backend lacking an op of either
 * network refuses it with XFIQ_ERR_UNSUPPORTED; use the CPU then). NULL
 * paths: models/.cache beside the default model is not guessed, both paths
 * are required. */
xfiq_status xfiq_detector_init(xfiq_backend_t be, const char *detect_onnx, const char *landmark_onnx,
                               xfiq_detector_t *out);
void xfiq_detector_free(xfiq_detector_t d);
/* Faces of img (grey or RGB) with score >= threshold, after NMS, sorted by
 * order; at most max_faces written, *n_faces = how many were written (0: no
 * face, not an error). */
xfiq_status xfiq_detector_find(xfiq_detector_t d, const xfiq_image *img, float threshold, xfiq_face_order order,
                               xfiq_face *faces, int max_faces, int *n_faces);

#ifdef __cplusplus
}
#endif
#endif /* XFIQ_IMAGE_H */
