/* cmd_eval.h - the evaluation subcommands (`xfiq eval`, `xfiq edc`,
 * `xfiq qmagface-train`) and what they share: where the benchmark and its
 * embeddings come from (precomputed .npy + names, or a model). */
#ifndef XFIQ_CLI_CMD_EVAL_H
#define XFIQ_CLI_CMD_EVAL_H

#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"
#include "xfiq_eval.h"

int xfiq_cmd_eval(int argc, char **argv);
int xfiq_cmd_edc(int argc, char **argv);
int xfiq_cmd_qmagface_train(int argc, char **argv);

typedef struct xfiq_eval_source {
    const char *bench;
    xfiq_bench_options bopt;
    const char *select_folds; /* "1,3": file folds to keep, 1-based */
    const char *embeddings, *names;
    xfiq_cli_model_opts model;
    int flip;
    int detect, det_order;      /* --detect / --central: align raw photos on the face found */
    int no_face_skip;           /* --no-face skip: leave out the pairs of images without a face */
    int no_face_given;          /* --no-face was given (it needs --detect) */
    const char *detector_dir;
    const char *save_embeddings;
    int quiet;
    int64_t max_pixels; /* --max-image-pixels (0: the library's default) */
} xfiq_eval_source;

typedef struct xfiq_eval_data {
    xfiq_bench_t bench;
    xfiq_embset_t emb;
    float *z_owned;
    const float *z;
    int64_t n_rows;
    int dim;
    int64_t n_pairs;
    int64_t *ia, *ib; /* embedding rows of each pair */
    const uint8_t *labels;
    const int32_t *file_folds;
    int n_file_folds;
    int64_t n_no_face, pairs_left_out; /* --detect: images without a face; pairs --no-face skip left out */
    uint8_t *no_face;       /* --detect: (images) 1 where no face was found (all ranks' shares under mpirun) */
    uint8_t *labels_owned;  /* --no-face skip: the kept pairs' labels and folds */
    int32_t *folds_owned;
    int64_t *pair_src;      /* --no-face skip: each kept pair's index in the benchmark (NULL: all kept) */
    char desc[1024]; /* where the embeddings came from */
} xfiq_eval_data;

void xfiq_eval_source_init(xfiq_eval_source *s);
/* Consumes argv[*i] (and its value) when it is a source option: 1, 0 when
 * not one, -1 on a bad or missing value (message printed). */
int xfiq_eval_source_opt(xfiq_eval_source *s, int argc, char **argv, int *i);
void xfiq_eval_source_help(FILE *f);
/* Opens the benchmark and gets its embeddings; prints errors, returns 0 on
 * success. */
int xfiq_eval_data_load(const xfiq_eval_source *s, xfiq_eval_data *d, const char *cmd);
/* xfiq_score_pairs of d's pairs, on the device when the job's backend is
 * not the CPU (xfiq_backend_score_pairs); sets the last error on failure. */
xfiq_status xfiq_eval_score_pairs(const xfiq_eval_source *s, const xfiq_eval_data *d, const xfiq_qmag_params *p,
                                  double *cos_out, double *q_out, double *qmag_out);
void xfiq_eval_data_free(xfiq_eval_data *d);
/* "--name value" or "--name=value": 1 matched (value in *v), 0 not this
 * option, -1 missing value (printed). */
int xfiq_eval_opt_value(int argc, char **argv, int *i, const char *name, const char **v);
int xfiq_eval_parse_double(const char *opt, const char *v, double lo, double hi, double *out);
int xfiq_eval_parse_int(const char *opt, const char *v, int lo, int hi, int *out);
/* Under mpirun (host/cli/eval_mpi.c): every rank scores its share of the
 * pairs and the 10-fold accuracy (QMagFace protocol) and the ROC summary of
 * each of the nc columns (cosine, QMagFace) are reduced over the ranks,
 * equal to one process's. Collective; non-zero (printed) on failure. */
int xfiq_cli_eval_spread(const xfiq_eval_data *d, const int32_t *folds, int n_folds, const xfiq_qmag_params *qp,
                         int nc, xfiq_kfold_result *kf, xfiq_roc_summary *roc);
/* Writes cJSON text atomically; prints the error. 0 on success. */
int xfiq_eval_write_json(const char *path, void *cjson_root);

#endif
