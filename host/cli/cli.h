/* cli.h - what the subcommands of the `xfiq` program share: their entry
 * points, input gathering, model opening and progress reporting. */
#ifndef XFIQ_CLI_H
#define XFIQ_CLI_H

#include <stdio.h>

#include "io/pathlist.h"
#include "xfiq.h"
#include "xfiq_image.h"

int xfiq_cmd_embed(int argc, char **argv);
int xfiq_cmd_info(int argc, char **argv);
int xfiq_cmd_quality(int argc, char **argv);
int xfiq_cmd_plq(int argc, char **argv);
int xfiq_cmd_calibrate(int argc, char **argv);
int xfiq_cmd_prepare(int argc, char **argv);
int xfiq_cmd_merge(int argc, char **argv);
/* The body of `xfiq merge` (also rank 0's last step under mpirun): shards in
 * order, folders of embed outputs or quality/plq CSV files. An exit code. */
int xfiq_cli_merge(const char *out, char *const *shards, int n, int quiet);

/* Exit codes of every subcommand. */
enum { XFIQ_EXIT_OK = 0, XFIQ_EXIT_FATAL = 1, XFIQ_EXIT_SOME_FAILED = 2 };

/* Default model: $XFIQ_MODEL, else models/.cache/fr_feature.onnx under the
 * source tree (where models/fetch_default.sh puts it), else that path
 * relative to the current folder. */
const char *xfiq_cli_default_model(void);

/* Options every model-running command takes. */
#define XFIQ_CLI_MAX_DEVICES 16
typedef struct xfiq_cli_model_opts {
    const char *model, *card, *backend, *precision;
    int threads, batch;
    int devices[XFIQ_CLI_MAX_DEVICES], n_devices; /* --devices (CUDA); none: device 0 */
} xfiq_cli_model_opts;

void xfiq_cli_model_opts_init(xfiq_cli_model_opts *o);
/* Consumes argv[*i] (and its value) when it is one of --model/-m, --card,
 * --backend, --threads/-t, --batch/-b, --precision, --devices. Returns 1 when
 * consumed, 0 when not, -1 on a bad value (message printed). */
int xfiq_cli_model_opt(xfiq_cli_model_opts *o, int argc, char **argv, int *i);
/* Opens the backend alone (the first device of --devices); prints the error
 * and returns non-zero on failure. */
int xfiq_cli_open_backend(const xfiq_cli_model_opts *o, xfiq_backend_t *be);
/* Opens backend + model (the first device of --devices); prints the error
 * and returns non-zero on failure. */
int xfiq_cli_open_model(const xfiq_cli_model_opts *o, xfiq_backend_t *be, xfiq_model_t *m);
/* Opens one backend per device of --devices (one when none) into bes and the
 * model on each as a pool; non-zero (message printed) on failure. */
int xfiq_cli_open_pool(const xfiq_cli_model_opts *o, xfiq_backend_t *bes, int *n_be, xfiq_pool_t *pool);

/* Expands inputs: files as given, folders recursively (sorted), @file lists. */
int xfiq_cli_gather_inputs(char **inputs, int n, xfiq_pathlist *out);
/* mkdir -p of one level; prints the reason on failure. */
int xfiq_cli_make_dir(const char *dir);

/* Faces --detect found in one input (the first is the one used). */
#define XFIQ_CLI_MAX_FACES 16
typedef struct xfiq_cli_face {
    xfiq_landmarks lm;
    float score, box[4];
} xfiq_cli_face;

/* Outcome of decoding one input. */
typedef struct xfiq_cli_item {
    int ok;
    char msg[512];
    int n_faces;                /* --detect: faces found (0 without --detect or with a landmarks entry) */
    xfiq_cli_face faces[XFIQ_CLI_MAX_FACES];
} xfiq_cli_item;

/* --detect: the detector and which face comes first (XFIQ_FACES_*). */
typedef struct xfiq_cli_detect {
    xfiq_detector_t det;
    int order;
    /* --all-faces (after xfiq_cli_expand_faces): entry i of the path list is
     * face entry_k[i] of its photo (-1: none found), found at entry_face[i];
     * the loader aligns on it without detecting again. NULL otherwise. */
    const xfiq_cli_face *entry_face;
    const int *entry_k;
} xfiq_cli_detect;

/* Decodes and prepares images [s, s+k) of paths in parallel into px (k slots
 * of h x w x 3): aligned with their landmarks when lms has an entry, else on
 * the face the detector finds when det is given ("no face found" otherwise),
 * used as they are when already w x h, resized when allow_resize, else refused.
 * Images over max_pixels (0: the library's default) are refused undecoded. */
void xfiq_cli_load_faces(const xfiq_pathlist *paths, size_t s, int k, const xfiq_landmarks_set *lms,
                         const xfiq_cli_detect *det, int w, int h, int allow_resize, int64_t max_pixels, uint8_t *px,
                         xfiq_cli_item *it, int threads);
/* --max-image-pixels N: parses v into *out (1, or -1 with the message printed). */
int xfiq_cli_max_pixels_opt(const char *opt, const char *v, int64_t *out);

/* Progress on stderr: a redrawn line on a terminal, a line every 10% (at
 * most every few seconds) otherwise; silent when quiet. */
typedef struct xfiq_progress {
    const char *what;
    long total, done;
    double t0, last;
    int tty, quiet, last_decile;
} xfiq_progress;

void xfiq_progress_init(xfiq_progress *p, const char *what, long total, int quiet);
void xfiq_progress_update(xfiq_progress *p, long done);
void xfiq_progress_finish(xfiq_progress *p);
double xfiq_now(void);

/* The loop every image command shares: decode batch after batch, pack the
 * faces that decoded, hand them to cb with their image ids (= index in the
 * input list) and the per-item outcome of the whole batch. cb returns
 * non-zero to stop (fatal). Returns 0, or cb's value. */
typedef int (*xfiq_cli_batch_fn)(void *ctx, size_t start, int k, const xfiq_cli_item *items, const uint8_t *faces,
                                 const uint64_t *ids, int n_good);

typedef struct xfiq_cli_batch_opts {
    const xfiq_landmarks_set *lms;
    const xfiq_cli_detect *det;  /* NULL: no --detect */
    int width, height, allow_resize, batch, threads, quiet;
    int64_t max_pixels;         /* --max-image-pixels (0: the library's default) */
    const char *what;           /* progress label */
    size_t first, end;          /* inputs [first, end) (end 0: all); batches start at first */
    int decode_ahead;           /* decode batch i+1 on a loader thread while cb computes batch i */
} xfiq_cli_batch_opts;

int xfiq_cli_run_batches(const xfiq_pathlist *paths, const xfiq_cli_batch_opts *o, xfiq_cli_batch_fn cb, void *ctx);

/* Options of every image command besides the model's. */
typedef struct xfiq_cli_job {
    const char *cmd;            /* "embed", "quality" ... (set by xfiq_cli_parse) */
    xfiq_cli_model_opts model;
    const char *out, *landmarks;
    int quiet, allow_resize;
    int64_t max_pixels;         /* --max-image-pixels (0: the library's default) */
    int resume;                 /* --resume: continue a checkpoint of the same job */
    int writes_images;          /* set before open: the out folder may not hold an input */
    int can_resume;             /* set before open by commands that checkpoint (embed, quality) */
    int decode_ahead;           /* --decode-ahead / --no-decode-ahead; -1: on for GPU backends only */
    int shard_k, shard_n;       /* --shard K/N (1-based K; N 0: no sharding) */
    int detect, all_faces;      /* --detect, --all-faces (commands that take it set all_faces_ok first) */
    int all_faces_ok;           /* 1: the command handles the faces itself (prepare); 2: one entry per face */
    xfiq_cli_face *entry_face;  /* --all-faces with all_faces_ok 2: see xfiq_cli_detect */
    int *entry_k;
    const char *detector_dir;   /* --detector-dir: folder of fr_detect.onnx and fr_landmark.onnx */
    xfiq_cli_detect det;        /* filled by xfiq_cli_job_open with --detect */
    xfiq_backend_t det_be;
    size_t first, end;          /* this job's slice of paths (set by xfiq_cli_job_open) */
    uint64_t fingerprint;       /* argv (without --resume) and every input path */
    int rank_done;              /* under mpirun with --resume: this rank's part is complete already;
                                   the exit code it had, plus 1 (host/cli/mpi_job.c) */
    char **inputs;
    int n_inputs;
    /* filled by xfiq_cli_job_open */
    xfiq_pathlist paths;
    xfiq_landmarks_set *lms;
    xfiq_backend_t be;         /* the first of bes */
    xfiq_model_t m;            /* the pool's first model (info, options) */
    xfiq_backend_t bes[XFIQ_CLI_MAX_DEVICES];
    int n_be;
    xfiq_pool_t pool;          /* the model on every device of --devices */
    xfiq_model_info info;
} xfiq_cli_job;

void xfiq_cli_job_init(xfiq_cli_job *j, const char *default_out, int argc);
/* Consumes a model option, -o/--out, -l/--landmarks, --resize, -q/--quiet,
 * --max-image-pixels, --resume, --shard or
 * (anything not starting with '-') an input: 1 consumed, 0 not, -1 error. */
int xfiq_cli_job_opt(xfiq_cli_job *j, int argc, char **argv, int *i);
void xfiq_cli_job_help(FILE *f);
/* Gathers inputs, loads landmarks, opens the model, makes the out folder
 * when out_is_dir. Non-zero (message printed) on failure. */
int xfiq_cli_job_open(xfiq_cli_job *j, int out_is_dir);
/* Refuses outputs that would destroy inputs: out (a file, or a folder when
 * out_is_dir) must not be one of the inputs, nor (for commands that write
 * images into a folder: writes_images) the folder of an input. Prints the
 * reason and returns non-zero. */
int xfiq_cli_check_output(const xfiq_cli_job *j, const char *out, int out_is_dir, int writes_images);
void xfiq_cli_job_close(xfiq_cli_job *j);
/* --all-faces: detects the faces of paths [first, end) and replaces the list
 * by one entry per face (a photo without a face, or one that does not
 * decode, stays one entry and gets its error row from the loader). Non-zero
 * (message printed) on failure. */
int xfiq_cli_expand_faces(xfiq_cli_job *j);
/* The CSV columns --all-faces adds after `path` (face number from 1,
 * detector score, box x1 y1 x2 y2 in the photo): header text, and entry
 * idx's fields; both empty without --all-faces. */
const char *xfiq_cli_face_header(const xfiq_cli_job *j);
void xfiq_cli_face_fields(FILE *f, const xfiq_cli_job *j, size_t idx);
/* --detect's networks from dir, else beside the default model, on o's
 * backend: with --backend cuda (or --devices) the first GPU
 * in FP32, falling back to the CPU (with a note) only when the CUDA backend
 * lacks an op of either network; otherwise the CPU with o->threads. */
int xfiq_cli_open_detector_for(const xfiq_cli_model_opts *o, const char *dir, xfiq_backend_t *be,
                               xfiq_detector_t *det);
xfiq_cli_batch_opts xfiq_cli_job_batch_opts(const xfiq_cli_job *j, const char *what);

/* Image commands under mpirun (host/cli/mpi_job.c). begin, from
 * xfiq_cli_job_open once the inputs are known: takes this rank's slice,
 * points j->out at this rank's part output and picks its GPU. finish, from
 * main after the command: every rank agrees on the outcome, then rank 0
 * joins the parts into the outputs a single process writes. */
int xfiq_cli_mpi_job_begin(xfiq_cli_job *j, const char *cmd, int out_is_dir);
int xfiq_cli_mpi_job_finish(const char *cmd, int rc);


#endif
