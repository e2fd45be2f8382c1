/* xfiq_eval.h - public C API of the evaluation suite: magnitude quality and
 * QMagFace scores, QMagFace training, verification metrics (10-fold accuracy
 * under three named protocols, ROC with EER / FNMR@FMR / AUC, TAR@FAR for
 * templates), benchmark readers, embedding sets and error-versus-discard
 * curves. The exact definitions (ties, threshold semantics) are written down
 * in host/eval/README.md; the tests hold them to a numpy/scikit-learn
 * reference.
 *
 * Conventions (as in xfiq.h): every fallible call returns an xfiq_status and
 * sets xfiq_last_error(); handles are opaque; the library never prints.
 * Scores are "greater = more similar"; labels are 1 (genuine, same identity)
 * or 0 (impostor). Pair scores are computed in double precision from float32
 * embeddings; all-vs-all blocks in float32 through BLAS. */
#ifndef XFIQ_EVAL_H
#define XFIQ_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "xfiq.h"
#include "xfiq_image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------- QMagFace */
/* s_QMag = s + min(0, beta * s - alpha) * q, q = min of the two magnitudes. */
typedef struct xfiq_qmag_params {
    double alpha;
    double beta;
} xfiq_qmag_params;

/* Published parameter sets (trained on Adience): "magface-100",
 * "magface-50", "magface-18" (also without the dash). XFIQ_ERR_ARG otherwise. */
xfiq_status xfiq_qmag_preset(const char *name, xfiq_qmag_params *out);
/* A preset name, or a JSON file {"alpha": a, "beta": b, ...} as written by
 * xfiq_qmag_params_save / `xfiq qmagface-train`. */
xfiq_status xfiq_qmag_params_resolve(const char *name_or_path, xfiq_qmag_params *out);
xfiq_status xfiq_qmag_params_load(const char *json_path, xfiq_qmag_params *out);
/* Writes {"alpha", "beta"} plus the optional training facts (NULL: none),
 * atomically. */
typedef struct xfiq_qmag_train_report xfiq_qmag_train_report;
xfiq_status xfiq_qmag_params_save(const char *json_path, const xfiq_qmag_params *p,
                                  const xfiq_qmag_train_report *rep);
/* The QMagFace score of one comparison. */
double xfiq_qmag_score(double s, double q, const xfiq_qmag_params *p);

/* ---------------------------------------------------------------- scores */
/* Magnitudes ||z|| (double accumulation) of n raw embeddings of dim floats. */
xfiq_status xfiq_embeddings_magnitudes(const float *z, int64_t n, int dim, double *mag);

/* Pair scores from raw embeddings z (n x dim): cos[i] = z_a.z_b / (|z_a| |z_b|)
 * of rows a = idx_a[i], b = idx_b[i] in double; q_out[i] = min(|z_a|, |z_b|)
 * (may be NULL); qmag_out[i] the QMagFace score (NULL, or p NULL: not
 * computed). mag: precomputed magnitudes (NULL: computed here). A zero
 * embedding gives XFIQ_ERR_ARG naming its row. */
xfiq_status xfiq_score_pairs(const float *z, int64_t n, int dim, const double *mag,
                             const int64_t *idx_a, const int64_t *idx_b, int64_t n_pairs,
                             const xfiq_qmag_params *p, double *cos_out, double *q_out,
                             double *qmag_out);

/* xfiq_score_pairs on a backend: the CUDA backend uploads z and the pair
 * lists and scores on the device (a warp per pair, double accumulation: the
 * cosines agree with the host's to ~1e-15, magnitudes and pair qualities are
 * the host's); the CPU backend gives xfiq_score_pairs's bits. Same
 * arguments and errors (magnitudes always computed here). */
xfiq_status xfiq_backend_score_pairs(xfiq_backend_t be, const float *z, int64_t n, int dim,
                                     const int64_t *idx_a, const int64_t *idx_b, int64_t n_pairs,
                                     const xfiq_qmag_params *p, double *cos_out, double *q_out,
                                     double *qmag_out);

/* All-vs-all block: out[i * n_probe + j] = score of gallery row i against
 * probe row j (row-major, n_gallery x n_probe floats), cosine when p is
 * NULL, else QMagFace. One float32 GEMM (OpenBLAS) on the normalised rows,
 * then the elementwise epilogue (elem_eval.h). */
xfiq_status xfiq_score_block(const float *gallery, int64_t n_gallery, const float *probe,
                             int64_t n_probe, int dim, const xfiq_qmag_params *p, float *out);

/* ------------------------------------------------------------------ ROC */
/* The empirical ROC over all distinct score values (accept iff score >= t),
 * built once by sorting; queried many times. */
typedef struct xfiq_roc *xfiq_roc_t;

xfiq_status xfiq_roc_build(const double *scores, const uint8_t *labels, int64_t n,
                           xfiq_roc_t *out);
void xfiq_roc_free(xfiq_roc_t roc);
/* Points in order of decreasing threshold, starting at (0, 0) whose
 * threshold is +inf. Arrays are owned by roc. */
int64_t xfiq_roc_num_points(xfiq_roc_t roc);
void xfiq_roc_points(xfiq_roc_t roc, const double **fpr, const double **tpr,
                     const double **thresholds);
int64_t xfiq_roc_num_genuine(xfiq_roc_t roc);
int64_t xfiq_roc_num_impostor(xfiq_roc_t roc);
/* Lowest FNMR over the points with FMR <= fmr, and the threshold of the
 * first point (highest threshold) reaching it. */
xfiq_status xfiq_roc_fnmr_at(xfiq_roc_t roc, double fmr, double *fnmr, double *threshold);
/* Equal error rate: the FMR where the ROC path (straight segments between
 * consecutive points, vertical and horizontal runs included) crosses the
 * line FMR = FNMR; *threshold: threshold of the point that ends the crossing
 * segment (may be NULL). */
xfiq_status xfiq_roc_eer(xfiq_roc_t roc, double *eer, double *threshold);
/* Area under the ROC by the trapezoid rule over the points (ties count
 * one half, as in sklearn.metrics.roc_auc_score). */
double xfiq_roc_auc(xfiq_roc_t roc);

#define XFIQ_ROC_NUM_FMR 6 /* FMR 1e-1 ... 1e-6 */
typedef struct xfiq_roc_summary {
    int64_t n_genuine;
    int64_t n_impostor;
    double eer;
    double eer_threshold;
    double auc;
    double fmr[XFIQ_ROC_NUM_FMR];       /* 1e-1, 1e-2, ..., 1e-6 */
    double fnmr[XFIQ_ROC_NUM_FMR];      /* FNMR at each */
    double threshold[XFIQ_ROC_NUM_FMR]; /* threshold reaching it */
} xfiq_roc_summary;

xfiq_status xfiq_roc_summarize(xfiq_roc_t roc, xfiq_roc_summary *out);

/* ------------------------------------------------------- k-fold accuracy */
typedef enum xfiq_protocol {
    /* QMagFace: score > t, 600 thresholds linspace(min, max) of all scores. */
    XFIQ_PROTOCOL_QMAGFACE = 0,
    /* insightface: squared L2 of normalised (flip-summed) embeddings < t,
     * t = 0, 0.01, ..., 3.99; also VAL@FAR=1e-3 (t = 0, 0.001, ..., 3.999). */
    XFIQ_PROTOCOL_INSIGHTFACE = 1,
    /* MagFace: arccos(cos)/pi < t after subtracting the training folds' mean
     * embedding, t = 0, 0.01, ..., 3.99. */
    XFIQ_PROTOCOL_MAGFACE = 2
} xfiq_protocol;

const char *xfiq_protocol_name(xfiq_protocol p);
/* "qmagface", "insightface", "magface" (XFIQ_ERR_ARG otherwise). */
xfiq_status xfiq_protocol_parse(const char *name, xfiq_protocol *out);

#define XFIQ_MAX_FOLDS 64
typedef struct xfiq_kfold_result {
    int n_folds;
    double accuracy[XFIQ_MAX_FOLDS];  /* test accuracy of each fold */
    double threshold[XFIQ_MAX_FOLDS]; /* best training threshold of each fold */
    double acc_mean;
    double acc_std;  /* population standard deviation (numpy's default) */
    double val_mean; /* insightface VAL@FAR=1e-3 (NaN for other protocols, or
                        when a fold lacks genuine or impostor pairs) */
    double val_std;
    double far_mean;
} xfiq_kfold_result;

/* Fold of every pair: folds[i] in [0, n_folds). NULL folds: consecutive
 * blocks in file order (sklearn KFold(n_folds) without shuffling: the first
 * n % n_folds folds hold one pair more). */
xfiq_status xfiq_kfold_assign(int64_t n, int n_folds, int32_t *folds);

/* QMagFace protocol on given scores (greater = genuine). */
xfiq_status xfiq_kfold_scores(const double *scores, const uint8_t *labels, int64_t n,
                              const int32_t *folds, int n_folds, xfiq_kfold_result *out);
/* Distances (smaller = genuine), predicted genuine iff dist < t_i with
 * t_i = i * step for i < count (numpy.arange(0, count*step, step)). */
xfiq_status xfiq_kfold_distances(const double *dist, const uint8_t *labels, int64_t n,
                                 const int32_t *folds, int n_folds, double step, int count,
                                 xfiq_kfold_result *out);
/* insightface VAL@FAR: per fold the threshold where the training FAR meets
 * far_target (t_i = i*step, i < count; linear between the last t_i with
 * FAR <= far_target and the next; 0 when the FAR never reaches it), then
 * VAL/FAR on the test fold. */
xfiq_status xfiq_kfold_val_far(const double *dist, const uint8_t *labels, int64_t n,
                               const int32_t *folds, int n_folds, double step, int count,
                               double far_target, double *val_mean, double *val_std,
                               double *far_mean);

/* Whole protocol from raw embeddings z (n_emb x dim) and pairs: cosine when p
 * is NULL, else QMagFace scores (q = min of the raw magnitudes); see
 * host/eval/README.md for how each protocol carries the QMagFace score. */
xfiq_status xfiq_kfold_protocol(xfiq_protocol proto, const float *z, int64_t n_emb, int dim,
                                const int64_t *idx_a, const int64_t *idx_b,
                                const uint8_t *labels, int64_t n_pairs, const int32_t *folds,
                                int n_folds, const xfiq_qmag_params *p,
                                xfiq_kfold_result *out);

/* ---------------------------------------------------- QMagFace training */
typedef struct xfiq_qmag_train_options {
    int n_fmr;        /* 50 FMR values ... */
    double fmr_min;   /* ... spaced logarithmically in [1e-5, */
    double fmr_max;   /*                                 1e-2] */
    int n_weights;    /* 20 candidate omegas in */
    double max_ratio; /* [-max_ratio / max(q), +max_ratio / max(q)], 0.5 */
} xfiq_qmag_train_options;

#define XFIQ_QMAG_TRAIN_MAX 1024
struct xfiq_qmag_train_report {
    int64_t n_pairs;
    int64_t n_genuine;
    int64_t n_impostor;
    double max_q;
    int n_fmr;
    double fmr[XFIQ_QMAG_TRAIN_MAX];       /* the FMR grid */
    double omega[XFIQ_QMAG_TRAIN_MAX];     /* best omega at each FMR */
    double threshold[XFIQ_QMAG_TRAIN_MAX]; /* its threshold (sigmoid units) */
    double fnmr[XFIQ_QMAG_TRAIN_MAX];      /* its FNMR */
};

void xfiq_qmag_train_options_default(xfiq_qmag_train_options *o);
/* Fits alpha, beta on cosine scores s, magnitudes q (min of the pair) and
 * labels. rep may be NULL. Needs both classes present. */
xfiq_status xfiq_qmag_train(const double *s, const double *q, const uint8_t *labels, int64_t n,
                            const xfiq_qmag_train_options *o, xfiq_qmag_params *out,
                            xfiq_qmag_train_report *rep);

/* ------------------------------------------------------------- EDC */
typedef enum xfiq_edc_mode {
    XFIQ_EDC_FIXED = 0,    /* threshold fixed at the FMR of the full set */
    XFIQ_EDC_RECOMPUTE = 1 /* FNMR@FMR recomputed on the retained pairs */
} xfiq_edc_mode;

/* Error-versus-discard curve: discard the round(f * n) pairs of lowest pair
 * quality (stable order: ties by pair index), report FNMR at the given FMR
 * for each of n_points fractions f evenly spaced in [lo, hi]. auc: trapezoid
 * rule over those points. discard_out/fnmr_out: n_points each; fnmr is NaN
 * where no genuine pair is left. threshold_out: the fixed threshold (FIXED
 * mode; may be NULL). */
xfiq_status xfiq_edc_compute(const double *scores, const uint8_t *labels,
                             const double *pair_quality, int64_t n, double fmr,
                             xfiq_edc_mode mode, double lo, double hi, int n_points,
                             double *discard_out, double *fnmr_out, double *threshold_out,
                             double *auc_out);

/* The two conventions of SPEC 12, named in every output.
 *
 * XFIQ_EDC_FIXED, "fixed threshold" (ISO/IEC 29794-5 style; Schlett et al.,
 * IEEE T-BIOM 2023): the threshold is set once on all pairs, where the FMR
 * is fmr (the highest threshold reaching it) or, with start_fnmr > 0, where
 * the FNMR is the starting error (t = the (floor(start_fnmr * G) + 1)-th
 * smallest genuine score of G); accept iff score >= t. Pairs are discarded
 * in order of pair quality, pairs of equal quality together, so the curve
 * has a point at 0 and after each run of equal qualities (up to all pairs,
 * while genuine pairs remain): discard = k / n, fnmr = rejected genuine
 * pairs left / genuine pairs left. auc = the area under that step curve
 * (the FNMR of a point holds until the next point) over [0, discard_limit];
 * with subtract_best the area of the theoretical best curve (the R rejected
 * genuine pairs discarded first: fnmr_best(k) = max(0, R - k) / (G -
 * min(k, R)) after k pairs, a step per pair) is subtracted.
 *
 * XFIQ_EDC_RECOMPUTE, "recomputed threshold" (CR-FIQA and MagFace
 * evaluation scripts): fractions 0, step, 2 step, ... <= discard_limit
 * (0.95); round(f * n) pairs of lowest quality discarded (ties by pair
 * index), then FNMR at FMR fmr on the pairs left with the threshold chosen
 * again (xfiq_edc_compute); the distance arccos(cos)/pi of those scripts
 * orders pairs as the cosine does, so the FNMR is the same; auc by the
 * trapezoid rule over the fractions. */
typedef struct xfiq_edc_options {
    xfiq_edc_mode mode;
    double fmr;           /* 1e-3 */
    double start_fnmr;    /* FIXED: > 0 sets the threshold at this FNMR instead of at fmr (0) */
    double discard_limit; /* FIXED 0.2, RECOMPUTE 0.95 */
    double step;          /* RECOMPUTE: 0.05 */
    int subtract_best;    /* FIXED: 0 */
} xfiq_edc_options;

typedef struct xfiq_edc_result {
    int64_t n_points;
    double *discard;    /* n_points discarded fractions */
    double *fnmr;       /* n_points FNMR (NaN where no genuine pair is left: RECOMPUTE) */
    double *best;       /* FIXED: the theoretical best FNMR at the same fractions; else NULL */
    double threshold;   /* FIXED: the threshold; RECOMPUTE: NaN */
    double fnmr0;       /* FNMR with nothing discarded */
    double auc;         /* area as described above (less auc_best when subtract_best) */
    double auc_best;    /* FIXED: area of the theoretical best curve over [0, discard_limit] */
    const char *convention; /* "fixed threshold (ISO/IEC 29794-5)" or "recomputed threshold (CR-FIQA/MagFace)" */
} xfiq_edc_result;

void xfiq_edc_options_default(xfiq_edc_mode mode, xfiq_edc_options *o);
xfiq_status xfiq_edc_run(const double *scores, const uint8_t *labels, const double *pair_quality, int64_t n,
                         const xfiq_edc_options *o, xfiq_edc_result *out);
void xfiq_edc_result_free(xfiq_edc_result *r);

/* ------------------------------------------------------- benchmarks */
typedef enum xfiq_bench_format {
    XFIQ_BENCH_AUTO = 0,
    XFIQ_BENCH_BIN = 1,     /* insightface .bin (pickle of (bins, issame_list)) */
    XFIQ_BENCH_LFW = 2,     /* LFW / XQLFW pairs.txt */
    XFIQ_BENCH_CFP = 3,     /* CFP protocol folder, FP or FF */
    XFIQ_BENCH_CPLFW = 4,   /* CPLFW / CALFW: consecutive "file label" lines */
    XFIQ_BENCH_CSV = 5,     /* path_a,path_b,label[,fold] */
    XFIQ_BENCH_FOLDERS = 6  /* one folder per identity: all pairs */
} xfiq_bench_format;

typedef struct xfiq_bench_options {
    xfiq_bench_format format;
    const char *image_root;   /* NULL: the benchmark file's folder (LFW: also
                                 tries nothing else; set it for aligned sets) */
    const char *image_ext;    /* LFW: file extension, NULL = "jpg" */
    const char *cfp_protocol; /* "FP" (default) or "FF" */
    int check_images;         /* 1: every referenced image file must exist */
} xfiq_bench_options;

typedef struct xfiq_bench *xfiq_bench_t;

void xfiq_bench_options_default(xfiq_bench_options *o);
xfiq_status xfiq_bench_open(const char *path, const xfiq_bench_options *opt, xfiq_bench_t *out);
void xfiq_bench_free(xfiq_bench_t b);
xfiq_bench_format xfiq_bench_get_format(xfiq_bench_t b);
const char *xfiq_bench_format_name(xfiq_bench_format f);
int64_t xfiq_bench_num_pairs(xfiq_bench_t b);
int64_t xfiq_bench_num_images(xfiq_bench_t b);
/* Number of folds the file defines (0: none; then use KFold in file order). */
int xfiq_bench_num_folds(xfiq_bench_t b);
/* Where those folds come from, for the output (e.g. LFW: "from the header
 * line '10 300'" or "no header line: 10 consecutive blocks of 600 pairs");
 * "" when the reader has nothing to say. */
const char *xfiq_bench_fold_note(xfiq_bench_t b);
/* Arrays owned by b (n_pairs each); folds NULL when the file defines none. */
void xfiq_bench_pairs(xfiq_bench_t b, const int64_t **idx_a, const int64_t **idx_b,
                      const uint8_t **labels, const int32_t **folds);
/* Path of image i (a file), or for .bin "<file>#<i>". */
const char *xfiq_bench_image_name(xfiq_bench_t b, int64_t i);
/* Encoded bytes of image i of a .bin benchmark (owned by b); XFIQ_ERR_ARG for
 * other formats. */
xfiq_status xfiq_bench_image_bytes(xfiq_bench_t b, int64_t i, const uint8_t **data,
                                   size_t *len);
/* Where pair i was defined ("pairs.txt:123"), for messages; "" if unknown. */
const char *xfiq_bench_pair_origin(xfiq_bench_t b, int64_t i);
/* Keeps only the pairs whose file fold is in keep (n_keep fold numbers,
 * 0-based); images stay. XFIQ_ERR_ARG when the file defines no folds. */
xfiq_status xfiq_bench_select_folds(xfiq_bench_t b, const int *keep, int n_keep);

/* Embed every image of the benchmark with a model (aligned faces, resized to
 * the model input when needed). flip: mean of the image's and its mirror's
 * embeddings. z_out: n_images x embedding_dim floats (malloc'ed, caller
 * frees). A missing or undecodable image fails with the pair that needs it. */
xfiq_status xfiq_bench_embed(xfiq_bench_t b, xfiq_model_t m, int flip, int batch, float **z_out,
                             int *dim_out);
/* The same for the images [first, end) only, into rows first..end-1 of z
 * (n_images x embedding_dim, allocated by the caller; other rows are left
 * as they are): one process's share when many embed a benchmark together.
 * Each row equals xfiq_bench_embed's (batches never mix images' results). */
xfiq_status xfiq_bench_embed_range(xfiq_bench_t b, xfiq_model_t m, int flip, int batch, int64_t first,
                                   int64_t end, float *z);
/* Pixel limit (width * height) of the images xfiq_bench_embed decodes, as
 * xfiq_image_load_opts.max_pixels of xfiq_image.h (0: the default). A larger
 * image fails with a message naming it, its size and the limit. XFIQ_ERR_ARG
 * when out of range. */
xfiq_status xfiq_bench_set_max_image_pixels(xfiq_bench_t b, int64_t max_pixels);
/* Raw photos: xfiq_bench_embed then aligns each image on the face det finds
 * (order: XFIQ_FACES_*); det must outlive the embedding. An image where no
 * face is found is used resized as it is, and counted: xfiq_bench_no_face. */
xfiq_status xfiq_bench_set_detector(xfiq_bench_t b, xfiq_detector_t det, int order);
int64_t xfiq_bench_no_face(xfiq_bench_t b);
/* 1 when the detector found no face in image i (during an embed since the
 * detector was set), else 0. */
int xfiq_bench_image_no_face(xfiq_bench_t b, int64_t i);

/* ------------------------------------------------------ embedding sets */
/* A float32 N x D .npy with the names of its rows: a text list (one path per
 * line) or a CSV with a header naming a "path" column (and optionally
 * "index": the row of each path, and "status": rows not "ok" are skipped),
 * as written by `xfiq embed`. */
typedef struct xfiq_embset *xfiq_embset_t;

xfiq_status xfiq_embset_load(const char *npy_path, const char *names_path, xfiq_embset_t *out);
void xfiq_embset_free(xfiq_embset_t e);
int64_t xfiq_embset_rows(xfiq_embset_t e);
int xfiq_embset_dim(xfiq_embset_t e);
const float *xfiq_embset_data(xfiq_embset_t e);
/* Row of path: exact match of the normalised path, else the longest
 * trailing run of path components that names exactly one row. -1: absent;
 * -2: ambiguous. Without names: -1. */
int64_t xfiq_embset_find(xfiq_embset_t e, const char *path);
int xfiq_embset_has_names(xfiq_embset_t e);

/* Rows for every image of the benchmark that a pair needs (-1 for the
 * others): by name; without names only for a .bin benchmark, row i = image
 * i (the counts must agree). rows: n_images, caller-owned. */
xfiq_status xfiq_embset_match(xfiq_embset_t e, xfiq_bench_t b, int64_t *rows);

/* Quality of every benchmark image from one numeric column of a per-image
 * CSV with a header (`xfiq quality`, `xfiq plq`, `xfiq embed` files.csv);
 * the path column ("path", "file", ...) is matched like embedding names. q:
 * n_images values, NaN for images no pair needs. An image a pair needs that
 * has no row or no value fails with the pair and the CSV line. */
xfiq_status xfiq_quality_csv_read(const char *csv_path, const char *column, xfiq_bench_t b,
                                  double *q);

/* ---------------------------------------------- templates (IJB-B/C style) */
typedef enum xfiq_aggregation {
    XFIQ_AGG_MEAN = 0,     /* media = mean of its normalised images,
                              template = mean of media, normalised; quality =
                              mean magnitude */
    XFIQ_AGG_MAGNITUDE = 1 /* f = sum_i q_i e_i (= sum of raw embeddings),
                              normalised; quality sum(q_i^2)/sum(q_i) */
} xfiq_aggregation;

typedef struct xfiq_ijb *xfiq_ijb_t;

/* media_path: lines "image template_id media_id" (IJB *_face_tid_mid.txt);
 * pairs_path: lines "template_a template_b label" (*_template_pair_label.txt). */
xfiq_status xfiq_ijb_open(const char *media_path, const char *pairs_path, xfiq_ijb_t *out);
void xfiq_ijb_free(xfiq_ijb_t t);
int64_t xfiq_ijb_num_images(xfiq_ijb_t t);
const char *xfiq_ijb_image_name(xfiq_ijb_t t, int64_t i);
int64_t xfiq_ijb_num_templates(xfiq_ijb_t t);
int64_t xfiq_ijb_num_pairs(xfiq_ijb_t t);
const uint8_t *xfiq_ijb_labels(xfiq_ijb_t t);
/* z: raw embeddings, row rows[i] for image i of the media file. Writes the
 * pair scores (cosine, and QMagFace when p is given) of all template pairs. */
xfiq_status xfiq_ijb_score(xfiq_ijb_t t, const float *z, int dim, const int64_t *rows,
                           xfiq_aggregation agg, const xfiq_qmag_params *p, double *cos_out,
                           double *qmag_out);

/* ------------------------------------------------------------- plots */
typedef struct xfiq_plot_curve {
    const char *label;
    const double *x;
    const double *y;
    int64_t n;
} xfiq_plot_curve;

typedef enum xfiq_plot_kind {
    XFIQ_PLOT_ROC = 0, /* x = FMR (log), y = 1 - FNMR */
    XFIQ_PLOT_DET = 1, /* x = FMR (log), y = FNMR (log) */
    XFIQ_PLOT_EDC = 2  /* x = discarded fraction, y = FNMR */
} xfiq_plot_kind;

/* Writes an SVG plot atomically (path must end in .svg). */
xfiq_status xfiq_plot_svg(const char *path, xfiq_plot_kind kind, const char *title,
                          const xfiq_plot_curve *curves, int n_curves);

#ifdef __cplusplus
}
#endif
#endif /* XFIQ_EVAL_H */
