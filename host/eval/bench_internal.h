/* bench_internal.h - the benchmark handle shared by the readers (LFW,
 * CFP, CPLFW, CSV, folders, .bin). Internal. */
#ifndef XFIQ_EVAL_BENCH_INTERNAL_H
#define XFIQ_EVAL_BENCH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "eval/eval_util.h"
#include "eval/pickle.h"
#include "xfiq_eval.h"

struct xfiq_bench {
    xfiq_bench_format format;
    char *source;
    /* images, deduplicated by name */
    int64_t n_images;
    size_t cap_images;
    char **names;
    int64_t *first_pair; /* first pair that needs the image (messages) */
    xfiq_strmap map;
    xfiq_pickle_bin bin; /* .bin payloads */
    uint8_t *blob;       /* .bin file contents */
    /* pairs */
    int64_t n_pairs;
    size_t cap_pairs;
    int64_t *a, *b;
    uint8_t *label;
    int32_t *fold;
    int32_t *file_of; /* index into files */
    int64_t *line;    /* 1-based line in that file (0: none) */
    int n_folds;
    char **files;
    int n_files;
    char origin[1024];
    char fold_note[192]; /* where the folds come from (LFW: header or blocks) */
    int64_t max_image_pixels; /* decoding limit of xfiq_bench_embed (0: default) */
    xfiq_detector_t det; /* --detect: align each image on its detected face (not owned) */
    int det_order;
    int64_t no_face;     /* images where none was found (used resized as they are) */
    uint8_t *no_face_at; // (n_images) 1 where none was found; allocated by xfiq_bench_set_detector
};

xfiq_status xfiq_bench_new(xfiq_bench_format fmt, const char *source, xfiq_bench_t *out);
xfiq_status xfiq_bench_add_file(xfiq_bench_t b, const char *path, int *idx);
xfiq_status xfiq_bench_add_image(xfiq_bench_t b, const char *path, int64_t *idx);
xfiq_status xfiq_bench_add_pair(xfiq_bench_t b, int64_t ia, int64_t ib, int label, int fold,
                                int file, int64_t line);
/* Every image file must exist (error names the first pair needing it). */
xfiq_status xfiq_bench_check_images(xfiq_bench_t b);

/* Readers: fill b from path. */
xfiq_status xfiq_bench_read_lfw(xfiq_bench_t b, const char *path, const xfiq_bench_options *o);
xfiq_status xfiq_bench_read_cfp(xfiq_bench_t b, const char *path, const xfiq_bench_options *o);
xfiq_status xfiq_bench_read_cplfw(xfiq_bench_t b, const char *path, const xfiq_bench_options *o);
xfiq_status xfiq_bench_read_csv(xfiq_bench_t b, const char *path, const xfiq_bench_options *o);
xfiq_status xfiq_bench_read_folders(xfiq_bench_t b, const char *path, const xfiq_bench_options *o);
xfiq_status xfiq_bench_read_bin(xfiq_bench_t b, const char *path, const xfiq_bench_options *o);

/* Splits text in place into lines; calls fn for each (1-based number,
 * without the line break). Stops at the first error. */
typedef xfiq_status (*xfiq_line_fn)(void *ctx, char *line, int64_t lineno);
/* Splits text in place into lines ('\n', '\r\n', or '\r' alone when the
 * file has no '\n'); name: the file, for the error on a NUL byte (binary
 * or UTF-16 data, which would otherwise cut lines short silently). */
xfiq_status xfiq_text_lines(char *text, size_t len, const char *name, xfiq_line_fn fn, void *ctx);
/* Whitespace tokens of a line, in place; returns the count (<= max). */
int xfiq_tokens(char *line, char **tok, int max);

#endif
