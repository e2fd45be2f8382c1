/* common.c - option parsing, input gathering and model opening shared by the
 * model-running subcommands. */
#define _GNU_SOURCE
#include <errno.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/ckpt.h"
#include "cli/ranks.h"
#include "core/status.h"
#include "io/readall.h"

#ifndef XFIQ_SOURCE_DIR
#define XFIQ_SOURCE_DIR "."
#endif

const char *xfiq_cli_default_model(void)
{
    static char buf[4096];
    const char *env = getenv("XFIQ_MODEL");
    if (env && *env)
        return env;
    struct stat st;
    snprintf(buf, sizeof buf, "%s/models/.cache/fr_feature.onnx", XFIQ_SOURCE_DIR);
    if (stat(buf, &st) == 0)
        return buf;
    return "models/.cache/fr_feature.onnx";
}

void xfiq_cli_model_opts_init(xfiq_cli_model_opts *o)
{
    memset(o, 0, sizeof *o);
    o->backend = "cpu";
    o->batch = 32;
}

static int int_value(const char *opt, const char *v, int lo, int hi, int *out)
{
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || x < lo || x > hi) {
        fprintf(stderr, "xfiq: %s needs an integer in [%d, %d], got '%s'\n", opt, lo, hi, v ? v : "");
        return -1;
    }
    *out = (int)x;
    return 1;
}

int xfiq_cli_model_opt(xfiq_cli_model_opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    int r = 0;
    if (!strcmp(a, "--model") || !strcmp(a, "-m"))
        o->model = v, r = v ? 1 : -1;
    else if (!strcmp(a, "--card"))
        o->card = v, r = v ? 1 : -1;
    else if (!strcmp(a, "--backend"))
        o->backend = v, r = v ? 1 : -1;
    else if (!strcmp(a, "--threads") || !strcmp(a, "-t"))
        r = int_value(a, v, 0, 1024, &o->threads);
    else if (!strcmp(a, "--batch") || !strcmp(a, "-b"))
        r = int_value(a, v, 1, 4096, &o->batch);
    else if (!strcmp(a, "--precision")) {
        xfiq_precision pr;
        r = v ? 1 : -1;
        if (v && xfiq_precision_parse(v, &pr) != XFIQ_OK) {
            fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
            r = -1;
        }
        o->precision = v;
    } else if (!strcmp(a, "--devices")) {
        r = v ? 1 : -1;
        o->n_devices = 0;
        for (const char *p = v; p && *p && r > 0;) {
            char *end;
            long d = strtol(p, &end, 10);
            if (end == p || d < 0 || d > 1023 || (*end && *end != ',') || o->n_devices == XFIQ_CLI_MAX_DEVICES) {
                fprintf(stderr, "xfiq: --devices needs a comma-separated list of device numbers (at most %d), got '%s'\n",
                        XFIQ_CLI_MAX_DEVICES, v);
                r = -1;
                break;
            }
            for (int k = 0; k < o->n_devices; k++)
                if (o->devices[k] == (int)d) {
                    fprintf(stderr, "xfiq: device %ld is listed twice in --devices\n", d);
                    r = -1;
                }
            o->devices[o->n_devices++] = (int)d;
            p = *end ? end + 1 : end;
        }
        if (r > 0 && !strcmp(o->backend, "cpu"))
            o->backend = "cuda"; /* devices are GPUs */
    } else
        return 0;
    if (r < 0 && !v)
        fprintf(stderr, "xfiq: %s needs a value\n", a);
    if (r > 0)
        (*i)++;
    return r;
}

/* Backend of device slot k of o (--devices, else device 0). */
static int open_backend(const xfiq_cli_model_opts *o, int k, xfiq_backend_t *be);

int xfiq_cli_open_backend(const xfiq_cli_model_opts *o, xfiq_backend_t *be) { return open_backend(o, 0, be); }

static int open_backend(const xfiq_cli_model_opts *o, int k, xfiq_backend_t *be)
{
    xfiq_backend_kind kind;
    if (!strcmp(o->backend, "cpu"))
        kind = XFIQ_BACKEND_CPU;
    else if (!strcmp(o->backend, "cuda"))
        kind = XFIQ_BACKEND_CUDA;
    else {
        fprintf(stderr, "xfiq: unknown backend '%s' (cpu or cuda)\n", o->backend);
        return 1;
    }
    xfiq_backend_opts bo;
    xfiq_backend_opts_default(&bo);
    bo.num_threads = o->threads;
    bo.device = o->n_devices ? o->devices[k] : 0;
    if (o->precision && xfiq_precision_parse(o->precision, &bo.precision) != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        return 1;
    }
    if (xfiq_backend_init_opts(be, kind, &bo) != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        return 1;
    }
    return 0;
}

int xfiq_cli_open_pool(const xfiq_cli_model_opts *o, xfiq_backend_t *bes, int *n_be, xfiq_pool_t *pool)
{
    int n = o->n_devices ? o->n_devices : 1;
    *n_be = 0;
    *pool = NULL;
    for (int k = 0; k < n; k++) {
        if (open_backend(o, k, &bes[k]))
            return 1;
        (*n_be)++;
    }
    const char *model = o->model ? o->model : xfiq_cli_default_model();
    xfiq_status st = xfiq_pool_create(bes, n, model, o->card, pool);
    if (st != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        if (st == XFIQ_ERR_IO && !o->model)
            fprintf(stderr, "xfiq: fetch the default model first: models/fetch_default.sh\n");
        return 1;
    }
    return 0;
}

int xfiq_cli_open_model(const xfiq_cli_model_opts *o, xfiq_backend_t *be, xfiq_model_t *m)
{
    const char *model = o->model ? o->model : xfiq_cli_default_model();
    if (open_backend(o, 0, be))
        return 1;
    xfiq_status st;
    st = xfiq_model_load(*be, model, o->card, m);
    if (st != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        if (st == XFIQ_ERR_IO && !o->model)
            fprintf(stderr, "xfiq: fetch the default model first: models/fetch_default.sh\n");
        xfiq_backend_free(*be);
        *be = NULL;
        return 1;
    }
    return 0;
}

int xfiq_cli_gather_inputs(char **inputs, int n, xfiq_pathlist *out)
{
    for (int i = 0; i < n; i++) {
        const char *in = inputs[i];
        struct stat st;
        xfiq_status s;
        if (in[0] == '@')
            s = xfiq_listfile_read(in + 1, out);
        else if (stat(in, &st) == 0 && S_ISDIR(st.st_mode))
            s = xfiq_dir_list_images(in, out);
        else
            s = xfiq_pathlist_push(out, in); /* missing files are reported per item later */
        if (s != XFIQ_OK) {
            fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
            return 1;
        }
    }
    return 0;
}

int xfiq_cli_make_dir(const char *dir)
{
    if (mkdir(dir, 0777) == 0 || errno == EEXIST)
        return 0;
    fprintf(stderr, "xfiq: cannot create output folder %s: %s\n", dir, strerror(errno));
    return 1;
}

int xfiq_cli_max_pixels_opt(const char *opt, const char *v, int64_t *out)
{
    const long long lo = (long long)XFIQ_IMAGE_MIN_SIDE * XFIQ_IMAGE_MIN_SIDE, hi = XFIQ_IMAGE_MAX_PIXELS_CEILING;
    char *end;
    errno = 0;
    long long x = v ? strtoll(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || x < lo || x > hi) {
        fprintf(stderr, "xfiq: %s needs a pixel count (width x height) in [%lld, %lld], got '%s'\n", opt, lo, hi,
                v ? v : "");
        return -1;
    }
    *out = x;
    return 1;
}

void xfiq_cli_load_faces(const xfiq_pathlist *paths, size_t s, int k, const xfiq_landmarks_set *lms,
                         const xfiq_cli_detect *det, int w, int h, int allow_resize, int64_t max_pixels, uint8_t *px,
                         xfiq_cli_item *it, int threads)
{
    xfiq_image_load_opts lo;
    xfiq_image_load_opts_default(&lo);
    lo.max_pixels = max_pixels;
#pragma omp parallel for schedule(dynamic) num_threads(threads)
    for (int i = 0; i < k; i++) {
        const char *path = paths->items[s + (size_t)i];
        xfiq_image img;
        it[i].ok = 0;
        it[i].n_faces = 0;
        xfiq_status st = xfiq_image_load_ex(path, &lo, &img);
        const xfiq_landmarks *lm = NULL;
        if (st == XFIQ_OK && det && det->entry_k) { /* --all-faces: found by the expansion pass */
            const int fk = det->entry_k[s + (size_t)i];
            if (fk < 0) {
                st = xfiq_error(XFIQ_ERR_SHAPE, "%s: no face found", path);
            } else {
                it[i].faces[0] = det->entry_face[s + (size_t)i];
                it[i].n_faces = 1;
                lm = &it[i].faces[0].lm;
            }
        } else if (st == XFIQ_OK && (lm = lms ? xfiq_landmarks_find(lms, path) : NULL) == NULL && det && det->det) {
            xfiq_face faces[XFIQ_CLI_MAX_FACES];
            int nf = 0;
            /* one detector, one set of working buffers: one image at a time */
#pragma omp critical(xfiq_cli_detect)
            st = xfiq_detector_find(det->det, &img, XFIQ_DETECT_THRESHOLD, (xfiq_face_order)det->order, faces,
                                    XFIQ_CLI_MAX_FACES, &nf);
            if (st == XFIQ_OK && nf == 0)
                st = xfiq_error(XFIQ_ERR_SHAPE, "%s: no face found", path);
            for (int f = 0; st == XFIQ_OK && f < nf; f++) {
                it[i].faces[f].lm = faces[f].lm;
                it[i].faces[f].score = faces[f].score;
                memcpy(it[i].faces[f].box, faces[f].box, sizeof faces[f].box);
            }
            if (st == XFIQ_OK) {
                it[i].n_faces = nf;
                lm = &it[i].faces[0].lm;
            }
        }
        if (st == XFIQ_OK) {
            /* A whole photo squeezed to the model size gives a meaningless embedding: refuse it unless asked. */
            if (!lm && !allow_resize && (img.width != w || img.height != h))
                st = xfiq_error(XFIQ_ERR_SHAPE, "%s: %dx%d is not an aligned %dx%d face and has no landmarks%s "
                                "(give --landmarks, or --resize to use it as it is)", path, img.width, img.height, w, h,
                                lms ? " entry" : "");
            else
                st = xfiq_image_prepare(&img, lm, w, h, px + (size_t)i * (size_t)w * (size_t)h * 3);
        }
        xfiq_image_free(&img);
        if (st == XFIQ_OK)
            it[i].ok = 1;
        else
            snprintf(it[i].msg, sizeof it[i].msg, "%s", xfiq_last_error());
    }
}

void xfiq_cli_job_init(xfiq_cli_job *j, const char *default_out, int argc)
{
    memset(j, 0, sizeof *j);
    xfiq_cli_model_opts_init(&j->model);
    j->out = default_out;
    j->decode_ahead = -1;
    j->inputs = calloc((size_t)argc + 1, sizeof *j->inputs);
    xfiq_pathlist_init(&j->paths);
}

int xfiq_cli_job_opt(xfiq_cli_job *j, int argc, char **argv, int *i)
{
    int r = xfiq_cli_model_opt(&j->model, argc, argv, i);
    if (r)
        return r;
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (!strcmp(a, "--out") || !strcmp(a, "-o") || !strcmp(a, "--landmarks") || !strcmp(a, "-l")) {
        if (!v) {
            fprintf(stderr, "xfiq: %s needs a value\n", a);
            return -1;
        }
        *(a[1] == 'o' || a[2] == 'o' ? &j->out : &j->landmarks) = v;
        (*i)++;
        return 1;
    }
    if (!strcmp(a, "--resize"))
        return j->allow_resize = 1;
    if (!strcmp(a, "--max-image-pixels")) {
        int r = xfiq_cli_max_pixels_opt(a, v, &j->max_pixels);
        if (r > 0)
            (*i)++;
        return r;
    }
    if (!strcmp(a, "--detect"))
        return j->detect = 1;
    if (!strcmp(a, "--central"))
        return j->det.order = XFIQ_FACES_CENTRAL, j->detect = 1;
    if (!strcmp(a, "--all-faces"))
        return j->all_faces = 1, j->detect = 1;
    if (!strcmp(a, "--detector-dir")) {
        if (!v) {
            fprintf(stderr, "xfiq: %s needs a value\n", a);
            return -1;
        }
        j->detector_dir = v;
        j->detect = 1;
        (*i)++;
        return 1;
    }
    if (!strcmp(a, "--resume"))
        return j->resume = 1;
    if (!strcmp(a, "--decode-ahead") || !strcmp(a, "--no-decode-ahead")) {
        j->decode_ahead = a[2] == 'd';
        return 1;
    }
    if (!strcmp(a, "--shard")) {
        int k = 0, n = 0, used = 0;
        if (!v || sscanf(v, "%d/%d%n", &k, &n, &used) != 2 || v[used] || n < 1 || n > 100000 || k < 1 || k > n) {
            fprintf(stderr, "xfiq: --shard needs K/N with 1 <= K <= N (e.g. 2/8), got '%s'\n", v ? v : "");
            return -1;
        }
        j->shard_k = k;
        j->shard_n = n;
        (*i)++;
        return 1;
    }
    if (!strcmp(a, "--quiet") || !strcmp(a, "-q"))
        return j->quiet = 1;
    if (a[0] != '-' || !a[1]) {
        if (j->inputs)
            j->inputs[j->n_inputs++] = argv[*i];
        return 1;
    }
    return 0;
}

void xfiq_cli_job_help(FILE *f)
{
    fprintf(f, "  INPUT               image file (JPEG/PNG/PGM), folder (recursive, sorted) or @LIST (one path a line)\n"
               "  -m, --model PATH    ONNX model (default: $XFIQ_MODEL or models/.cache/fr_feature.onnx)\n"
               "      --card PATH     model card JSON (default: <model>.card.json, else the card of a\n"
               "                      known model found by the file's sha256, else family defaults)\n"
               "  -l, --landmarks F   5-point landmarks file (`path x1 y1 ... x5 y5`): faces are aligned to the\n"
               "                      ArcFace template; images without an entry must already be aligned at the\n"
               "                      model's size (e.g. 112x112), else they are reported as failed\n"
               "      --resize        use unaligned images of another size as they are, resized (no alignment)\n"
               "      --decode-ahead  decode the next batch while this one computes (default with --backend cuda;\n"
               "                      --no-decode-ahead turns it off)\n"
               "      --max-image-pixels N  refuse (as failed inputs) images of more than N pixels (width x height)\n"
               "                      before decoding them (default 268435456 = 2^28; at most 2^30)\n"
               "      --detect        raw photos: find the face (fr_detect.onnx + fr_landmark.onnx beside the\n"
               "                      default model, see models/fetch_default.sh) and align it; the largest face\n"
               "                      is used; an image with none is an error row \"no face found\"\n"
               "      --central       (implies --detect) use the face nearest the image centre instead\n"
               "      --all-faces     (implies --detect) one row per face, with its number, score and box\n"
               "      --detector-dir D  folder holding fr_detect.onnx and fr_landmark.onnx (implies --detect)\n"
               "  -b, --batch N       images per batch (default 32)\n"
               "  -t, --threads N     CPU threads (default: all cores)\n"
               "      --backend B     cpu (default) or cuda\n"
               "      --precision P   GPU arithmetic: fp32 (default), tf32, bf16 or fp16\n"
               "      --devices LIST  GPUs to split the job over, e.g. 0,1 (implies --backend cuda)\n"
               "  -q, --quiet         no progress on stderr\n"
               "      --shard K/N     process only the K-th of N equal slices of the sorted input list\n"
               "                      (join the shards' outputs with `xfiq merge`)\n"
               "      --resume        (embed, quality) continue an interrupted run (Ctrl-C, kill, crash) from its\n"
               "                      last checkpoint; same command line and inputs: outputs identical to an\n"
               "                      uninterrupted run\n");
}

int xfiq_cli_job_open(xfiq_cli_job *j, int out_is_dir)
{
    if (!j->inputs) {
        fprintf(stderr, "xfiq: out of memory\n");
        return 1;
    }
    if (!j->n_inputs) {
        fprintf(stderr, "xfiq: no input images given\n");
        return 1;
    }
    if (j->all_faces && !j->all_faces_ok) {
        fprintf(stderr, "xfiq %s: --all-faces is taken by prepare, embed, quality, plq and calibrate\n", j->cmd);
        return 1;
    }
    if (j->all_faces && j->all_faces_ok == 2 && (xfiq_cli_ranks.split || j->shard_n)) {
        fprintf(stderr, "xfiq %s: --all-faces with --shard or under mpirun is not supported yet (parts are split by "
                        "photo, rows by face); run prepare --detect --all-faces, then this command on its output "
                        "folder\n", j->cmd);
        return 1;
    }
    if (j->resume && !j->can_resume) {
        fprintf(stderr, "xfiq: --resume: only `embed` and `quality` keep checkpoints\n");
        return 1;
    }
    if (xfiq_cli_gather_inputs(j->inputs, j->n_inputs, &j->paths))
        return 1;
    j->first = 0;
    j->end = j->paths.count;
    if (j->shard_n) {
        j->first = j->paths.count * (size_t)(j->shard_k - 1) / (size_t)j->shard_n;
        j->end = j->paths.count * (size_t)j->shard_k / (size_t)j->shard_n;
    }
    for (size_t i = 0; i < j->paths.count; i++)
        j->fingerprint = xfiq_ckpt_hash(j->fingerprint, j->paths.items[i], strlen(j->paths.items[i]) + 1);
    if (xfiq_cli_check_output(j, j->out, out_is_dir, j->writes_images))
        return 1;
    if (xfiq_cli_ranks.split && xfiq_cli_mpi_job_begin(j, j->cmd, out_is_dir))
        return 1;
    if (out_is_dir && xfiq_cli_make_dir(j->out))
        return 1;
    if (j->landmarks && xfiq_landmarks_load(j->landmarks, &j->lms) != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        return 1;
    }
    if (j->detect && xfiq_cli_open_detector_for(&j->model, j->detector_dir, &j->det_be, &j->det.det))
        return 1;
    if (j->all_faces && j->all_faces_ok == 2 && xfiq_cli_expand_faces(j))
        return 1;
    if (xfiq_cli_open_pool(&j->model, j->bes, &j->n_be, &j->pool))
        return 1;
    j->be = j->bes[0];
    j->m = xfiq_pool_model(j->pool, 0);
    xfiq_model_get_info(j->m, &j->info);
    return 0;
}

void xfiq_cli_job_close(xfiq_cli_job *j)
{
    xfiq_pool_free(j->pool);
    for (int k = 0; k < j->n_be; k++)
        xfiq_backend_free(j->bes[k]);
    xfiq_landmarks_free(j->lms);
    xfiq_detector_free(j->det.det);
    xfiq_backend_free(j->det_be);
    free(j->entry_face);
    free(j->entry_k);
    xfiq_pathlist_free(&j->paths);
    free(j->inputs);
    memset(j, 0, sizeof *j);
}

xfiq_cli_batch_opts xfiq_cli_job_batch_opts(const xfiq_cli_job *j, const char *what)
{
    xfiq_cli_batch_opts o = {.lms = j->lms, .det = j->detect ? &j->det : NULL, .width = j->info.input_width,
                             .height = j->info.input_height, .allow_resize = j->allow_resize,
                             .max_pixels = j->max_pixels, .batch = j->model.batch, .threads = j->model.threads,
                             .quiet = j->quiet, .what = what, .first = j->first, .end = j->end};
    /* On the CPU the decoder's threads would compete with the network's for
     * the same cores; on a GPU the host is otherwise idle during compute. */
    int gpu = j->model.n_devices > 0 || (j->model.backend && strcmp(j->model.backend, "cpu") != 0);
    o.decode_ahead = j->decode_ahead >= 0 ? j->decode_ahead : gpu;
    return o;
}

/* dir/fr_detect.onnx and dir/fr_landmark.onnx, dir defaulting to the default model's folder. */
static void detector_paths(const char *dir, char *m, size_t m_size, char *l, size_t l_size)
{
    char d[4096];
    if (dir) {
        snprintf(d, sizeof d, "%s", dir);
    } else { /* beside the default model */
        snprintf(d, sizeof d, "%s", xfiq_cli_default_model());
        char *slash = strrchr(d, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(d, sizeof d, ".");
    }
    snprintf(m, m_size, "%s/fr_detect.onnx", d);
    snprintf(l, l_size, "%s/fr_landmark.onnx", d);
}

static int open_detector_cpu(const char *m, const char *l, int threads, xfiq_backend_t *be, xfiq_detector_t *det)
{
    if (xfiq_backend_init(be, XFIQ_BACKEND_CPU, threads) != XFIQ_OK || xfiq_detector_init(*be, m, l, det) != XFIQ_OK) {
        fprintf(stderr, "xfiq: --detect: %s (models/fetch_default.sh fetches both networks)\n", xfiq_last_error());
        xfiq_backend_free(*be);
        *be = NULL;
        return 1;
    }
    return 0;
}

int xfiq_cli_open_detector_for(const xfiq_cli_model_opts *o, const char *dir, xfiq_backend_t *be,
                               xfiq_detector_t *det)
{
    char l[4200], m[4200];
    detector_paths(dir, m, sizeof m, l, sizeof l);
    *be = NULL;
    *det = NULL;
    if (strcmp(o->backend, "cuda") != 0)
        return open_detector_cpu(m, l, o->threads, be, det);
    /* The first of the job's GPUs, in FP32 whatever --precision says: the
     * score threshold and NMS were tuned on FP32 outputs. */
    xfiq_cli_model_opts fp32 = *o;
    fp32.precision = NULL;
    if (open_backend(&fp32, 0, be))
        return 1;
    xfiq_status st = xfiq_detector_init(*be, m, l, det);
    if (st == XFIQ_OK)
        return 0;
    xfiq_backend_free(*be);
    *be = NULL;
    if (st != XFIQ_ERR_UNSUPPORTED) {
        fprintf(stderr, "xfiq: --detect: %s (models/fetch_default.sh fetches both networks)\n", xfiq_last_error());
        return 1;
    }
    /* The runner refused an op the CUDA backend cannot run (another detector
     * network than the default one): the CPU runs every op. */
    fprintf(stderr, "xfiq: --detect: %s; the detector runs on the CPU\n", xfiq_last_error());
    return open_detector_cpu(m, l, o->threads, be, det);
}

/* Same file or folder (by device and inode when both exist). */
static int same_node(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static char *dir_of(const char *p)
{
    const char *s = strrchr(p, '/');
    char *d = s ? strndup(p, (size_t)(s - p)) : strdup(".");
    if (d && !*d) {
        free(d);
        d = strdup("/");
    }
    return d;
}

int xfiq_cli_check_output(const xfiq_cli_job *j, const char *out, int out_is_dir, int writes_images)
{
    struct stat ls;
    if (lstat(out, &ls) == 0) {
        if (S_ISLNK(ls.st_mode) && !out_is_dir) {
            fprintf(stderr, "xfiq: output %s is a symbolic link: refused (it would be replaced by a regular file)\n",
                    out);
            return 1;
        }
        if (!out_is_dir && !S_ISREG(ls.st_mode) && !S_ISLNK(ls.st_mode)) {
            fprintf(stderr, "xfiq: output %s is a %s: refused\n", out, xfiq_file_kind(ls.st_mode));
            return 1;
        }
        if (out_is_dir && !S_ISDIR(ls.st_mode) && !(S_ISLNK(ls.st_mode))) {
            fprintf(stderr, "xfiq: output folder %s exists and is a %s, not a folder: refused\n", out,
                    xfiq_file_kind(ls.st_mode));
            return 1;
        }
    }
    for (size_t i = 0; i < j->paths.count; i++) {
        const char *in = j->paths.items[i];
        if (!out_is_dir && same_node(in, out)) {
            fprintf(stderr, "xfiq: output %s is also an input (%s): refused (it would be overwritten)\n", out, in);
            return 1;
        }
        if (out_is_dir && writes_images) {
            char *d = dir_of(in);
            int same = d && same_node(d, out);
            free(d);
            if (same) {
                fprintf(stderr, "xfiq: output folder %s holds input %s: refused (images written there could "
                        "replace the originals; choose an empty or separate folder)\n", out, in);
                return 1;
            }
        }
    }
    if (j->landmarks && !out_is_dir && same_node(j->landmarks, out)) {
        fprintf(stderr, "xfiq: output %s is the landmarks file: refused\n", out);
        return 1;
    }
    return 0;
}
