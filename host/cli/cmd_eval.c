/* cmd_eval.c - `xfiq eval`: 10-fold accuracy (protocol named in the output),
 * EER, FNMR@FMR and AUC for cosine and QMagFace side by side, from a
 * benchmark and either precomputed embeddings or a model; JSON and ROC/DET
 * plots. Also holds the source options the other evaluation commands share. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cmd_eval.h"
#include "cli/ranks.h"
#include "core/status.h"
#include "io/afile.h"
#include "io/npy.h"
#include "io/path.h"

/* ------------------------------------------------------------ shared bits */
int xfiq_eval_opt_value(int argc, char **argv, int *i, const char *name, const char **v)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n))
        return 0;
    if (a[n] == '=') {
        *v = a + n + 1;
        return 1;
    }
    if (a[n])
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "xfiq: %s needs a value\n", name);
        return -1;
    }
    *v = argv[++*i];
    return 1;
}

int xfiq_eval_parse_double(const char *opt, const char *v, double lo, double hi, double *out)
{
    char *end;
    double x = strtod(v, &end);
    if (!*v || *end || !(x >= lo && x <= hi)) {
        fprintf(stderr, "xfiq: %s needs a number in [%g, %g], got '%s'\n", opt, lo, hi, v);
        return -1;
    }
    *out = x;
    return 1;
}

int xfiq_eval_parse_int(const char *opt, const char *v, int lo, int hi, int *out)
{
    char *end;
    long x = strtol(v, &end, 10);
    if (!*v || *end || x < lo || x > hi) {
        fprintf(stderr, "xfiq: %s needs an integer in [%d, %d], got '%s'\n", opt, lo, hi, v);
        return -1;
    }
    *out = (int)x;
    return 1;
}

int xfiq_eval_write_json(const char *path, void *root)
{
    char *text = cJSON_Print((cJSON *)root);
    if (!text) {
        fprintf(stderr, "xfiq: out of memory writing %s\n", path);
        return 1;
    }
    size_t n = strlen(text);
    text[n] = '\n';
    xfiq_status st = xfiq_afile_write_all(path, text, n + 1);
    free(text);
    if (st != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        return 1;
    }
    return 0;
}

void xfiq_eval_source_init(xfiq_eval_source *s)
{
    memset(s, 0, sizeof(*s));
    xfiq_bench_options_default(&s->bopt);
    xfiq_cli_model_opts_init(&s->model);
}

static int parse_format(const char *v, xfiq_bench_format *f)
{
    for (int k = XFIQ_BENCH_AUTO; k <= XFIQ_BENCH_FOLDERS; k++)
        if (!strcmp(v, xfiq_bench_format_name((xfiq_bench_format)k))) {
            *f = (xfiq_bench_format)k;
            return 1;
        }
    fprintf(stderr, "xfiq: --format: unknown '%s' (auto, lfw, cfp, cplfw, csv, bin, folders)\n", v);
    return -1;
}

int xfiq_eval_source_opt(xfiq_eval_source *s, int argc, char **argv, int *i)
{
    const char *v = NULL;
    int r;
    if ((r = xfiq_eval_opt_value(argc, argv, i, "--bench", &s->bench)))
        return r;
    if ((r = xfiq_eval_opt_value(argc, argv, i, "--format", &v)))
        return r < 0 ? r : parse_format(v, &s->bopt.format);
    if ((r = xfiq_eval_opt_value(argc, argv, i, "--root", &s->bopt.image_root)))
        return r;
    if ((r = xfiq_eval_opt_value(argc, argv, i, "--ext", &s->bopt.image_ext)))
        return r;
    if ((r = xfiq_eval_opt_value(argc, argv, i, "--cfp", &s->bopt.cfp_protocol)))
        return r;
    if ((r = xfiq_eval_opt_value(argc, argv, i, "--select-folds", &s->select_folds)))
        return r;
    if ((r = xfiq_eval_opt_value(argc, argv, i, "--embeddings", &s->embeddings)))
        return r;
    if ((r = xfiq_eval_opt_value(argc, argv, i, "--names", &s->names)))
        return r;
    if ((r = xfiq_eval_opt_value(argc, argv, i, "--save-embeddings", &s->save_embeddings)))
        return r;
    if ((r = xfiq_eval_opt_value(argc, argv, i, "--max-image-pixels", &v)))
        return r < 0 ? r : xfiq_cli_max_pixels_opt("--max-image-pixels", v, &s->max_pixels);
    if (!strcmp(argv[*i], "--flip")) {
        s->flip = 1;
        return 1;
    }
    if (!strcmp(argv[*i], "--detect") || !strcmp(argv[*i], "--central")) {
        s->detect = 1;
        s->det_order = argv[*i][2] == 'c' ? XFIQ_FACES_CENTRAL : s->det_order;
        return 1;
    }
    if ((r = xfiq_eval_opt_value(argc, argv, i, "--no-face", &v))) {
        if (r > 0 && strcmp(v, "resize") && strcmp(v, "skip")) {
            fprintf(stderr, "xfiq: --no-face: resize or skip, got '%s'\n", v);
            return -1;
        }
        if (r > 0) {
            s->no_face_skip = v[0] == 's';
            s->no_face_given = 1;
        }
        return r;
    }
    if ((r = xfiq_eval_opt_value(argc, argv, i, "--detector-dir", &s->detector_dir))) {
        s->detect = r > 0;
        return r;
    }
    if (!strcmp(argv[*i], "--quiet") || !strcmp(argv[*i], "-q")) {
        s->quiet = 1;
        return 1;
    }
    return xfiq_cli_model_opt(&s->model, argc, argv, i);
}

void xfiq_eval_source_help(FILE *f)
{
    fprintf(f,
            "benchmark:\n"
            "  --bench PATH         LFW/XQLFW pairs.txt, CFP protocol folder, CPLFW/CALFW pairs,\n"
            "                       CSV path_a,path_b,label[,fold], insightface .bin, or a folder\n"
            "                       with one sub-folder per identity (all pairs)\n"
            "  --format F           auto (default), lfw, cfp, cplfw, csv, bin, folders\n"
            "  --root DIR           image folder (default: the benchmark file's folder)\n"
            "  --ext EXT            LFW image extension (default jpg)\n"
            "  --cfp FP|FF          CFP protocol (default FP)\n"
            "  --select-folds LIST  keep only these folds of the file, 1-based (e.g. 2 or 1,3)\n"
            "embeddings (one of):\n"
            "  --embeddings E.npy   float32 N x D, rows named by --names (files.csv of `xfiq\n"
            "                       embed`, or a list with one path per line); without names\n"
            "                       (a .bin only) row i is image i of the benchmark\n"
            "  --model M.onnx       embed the images here (default: the default model);\n"
            "                       --card, --backend cpu|cuda, --threads N, --batch B as in\n"
            "                       `xfiq embed`; --flip averages with the mirrored image\n"
            "  --max-image-pixels N refuse images of more than N pixels (width x height) before\n"
            "                       decoding them (default 268435456 = 2^28; at most 2^30)\n"
            "  --save-embeddings OUT.npy  keep them (names in OUT.npy.names.txt)\n"
            "  --detect             raw photos (native protocol folders): align each image on the largest\n"
            "                       face found (fr_detect + fr_landmark); an image with none gets an error\n"
            "                       line PATH: no face found (and is listed in --json)\n"
            "  --no-face resize|skip  such an image: used resized as it is (default; every pair of the\n"
            "                       protocol scored, comparable with published numbers) or its pairs left out\n"
            "  --central            the same with the face nearest the image centre\n"
            "  --detector-dir D     folder of fr_detect.onnx and fr_landmark.onnx (default: beside the model)\n");
}

void xfiq_eval_data_free(xfiq_eval_data *d)
{
    free(d->labels_owned);
    free(d->folds_owned);
    free(d->pair_src);
    free(d->no_face);
    xfiq_bench_free(d->bench);
    xfiq_embset_free(d->emb);
    free(d->z_owned);
    free(d->ia);
    free(d->ib);
    memset(d, 0, sizeof(*d));
}

static int fail(const char *cmd)
{
    fprintf(stderr, "xfiq %s: %s\n", cmd, xfiq_last_error());
    return 1;
}

static int parse_fold_list(const char *s, int *keep, int *n)
{
    *n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > XFIQ_MAX_FOLDS || *n >= XFIQ_MAX_FOLDS)
            return -1;
        keep[(*n)++] = (int)v - 1;
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return *n ? 0 : -1;
}

static int save_embeddings(const char *path, xfiq_bench_t b, const float *z, int64_t n, int d)
{
    int64_t shape[2] = {n, d};
    if (xfiq_npy_write_f32(path, z, 2, shape) != XFIQ_OK)
        return 1;
    char *names = malloc(strlen(path) + 16);
    if (!names)
        return 1;
    sprintf(names, "%s.names.txt", path);
    xfiq_afile af;
    xfiq_status st = xfiq_afile_open(&af, names);
    for (int64_t i = 0; st == XFIQ_OK && i < n; i++)
        fprintf(af.fp, "%s\n", xfiq_bench_image_name(b, i));
    if (st == XFIQ_OK)
        st = xfiq_afile_commit(&af);
    free(names);
    return st != XFIQ_OK;
}

xfiq_status xfiq_eval_score_pairs(const xfiq_eval_source *s, const xfiq_eval_data *d, const xfiq_qmag_params *p,
                                  double *cos_out, double *q_out, double *qmag_out)
{
    if (!strcmp(s->model.backend, "cpu")) /* no backend to open */
        return xfiq_score_pairs(d->z, d->n_rows, d->dim, NULL, d->ia, d->ib, d->n_pairs, p, cos_out, q_out,
                                qmag_out);
    xfiq_backend_t be = NULL;
    if (xfiq_cli_open_backend(&s->model, &be)) /* its reason is printed */
        return xfiq_error(XFIQ_ERR_BACKEND, "pair scores need the %s backend, which did not start",
                          s->model.backend);
    xfiq_status st =
        xfiq_backend_score_pairs(be, d->z, d->n_rows, d->dim, d->ia, d->ib, d->n_pairs, p, cos_out, q_out, qmag_out);
    xfiq_backend_free(be);
    return st;
}

/* Under mpirun: every rank gets every rank's no-face flags (its share
 * [a, e) found by itself), through the row gather the embeddings use. */
static int gather_no_face(xfiq_eval_data *d, int64_t n_img, int64_t a, int64_t e)
{
    float *f = calloc((size_t)(n_img ? n_img : 1), sizeof *f);
    if (!f || (!d->no_face && !(d->no_face = calloc((size_t)(n_img ? n_img : 1), 1)))) {
        free(f);
        return 1;
    }
    for (int64_t i = a; i < e; i++)
        f[i] = (float)xfiq_bench_image_no_face(d->bench, i);
    int rc = xfiq_ranks_allgather_rows(f, n_img, 1);
    for (int64_t i = 0; i < n_img && !rc; i++)
        d->no_face[i] = f[i] != 0.0f;
    free(f);
    return rc;
}

/* --no-face skip: keeps the pairs whose images both have a face (a and b:
 * the benchmark's image indices of each pair). */
static int drop_no_face_pairs(xfiq_eval_data *d, const int64_t *a, const int64_t *b, const char *cmd)
{
    d->labels_owned = malloc((size_t)(d->n_pairs ? d->n_pairs : 1));
    d->folds_owned = d->file_folds ? malloc((size_t)(d->n_pairs ? d->n_pairs : 1) * sizeof(int32_t)) : NULL;
    d->pair_src = malloc((size_t)(d->n_pairs ? d->n_pairs : 1) * sizeof(int64_t));
    if (!d->labels_owned || (d->file_folds && !d->folds_owned) || !d->pair_src) {
        fprintf(stderr, "xfiq %s: out of memory\n", cmd);
        return 1;
    }
    int64_t kept = 0;
    for (int64_t k = 0; k < d->n_pairs; k++) {
        if (d->no_face[a[k]] || d->no_face[b[k]])
            continue;
        d->pair_src[kept] = k;
        d->ia[kept] = d->ia[k];
        d->ib[kept] = d->ib[k];
        d->labels_owned[kept] = d->labels[k];
        if (d->folds_owned)
            d->folds_owned[kept] = d->file_folds[k];
        kept++;
    }
    d->pairs_left_out = d->n_pairs - kept;
    d->n_pairs = kept;
    d->labels = d->labels_owned;
    d->file_folds = d->folds_owned;
    if (xfiq_cli_ranks.rank == 0)
        fprintf(stderr, "xfiq %s: --no-face skip: %lld pairs left out, %lld kept\n", cmd,
                (long long)d->pairs_left_out, (long long)kept);
    if (kept == 0) {
        fprintf(stderr, "xfiq %s: no pair left to evaluate\n", cmd);
        return 1;
    }
    return 0;
}

int xfiq_eval_data_load(const xfiq_eval_source *s, xfiq_eval_data *d, const char *cmd)
{
    memset(d, 0, sizeof(*d));
    if (!s->bench) {
        fprintf(stderr, "xfiq %s: --bench is required (see --help)\n", cmd);
        return 1;
    }
    if (s->no_face_given && (!s->detect || s->embeddings)) {
        fprintf(stderr, "xfiq %s: --no-face applies to --detect with a model (images without a face)\n", cmd);
        return 1;
    }
    if (s->embeddings && (s->model.model || s->flip)) {
        fprintf(stderr, "xfiq %s: give either --embeddings or --model/--flip, not both\n", cmd);
        return 1;
    }
    xfiq_bench_options bo = s->bopt;
    bo.check_images = !s->embeddings;
    if (xfiq_bench_open(s->bench, &bo, &d->bench) != XFIQ_OK ||
        xfiq_bench_set_max_image_pixels(d->bench, s->max_pixels) != XFIQ_OK)
        return fail(cmd);
    if (s->select_folds) {
        int keep[XFIQ_MAX_FOLDS], nk;
        if (parse_fold_list(s->select_folds, keep, &nk)) {
            fprintf(stderr, "xfiq %s: --select-folds: expected a list like 2 or 1,3, got '%s'\n", cmd,
                    s->select_folds);
            return 1;
        }
        if (xfiq_bench_select_folds(d->bench, keep, nk) != XFIQ_OK)
            return fail(cmd);
    }
    const int64_t n_img = xfiq_bench_num_images(d->bench);
    int64_t *rows = malloc((size_t)(n_img ? n_img : 1) * sizeof(int64_t));
    if (!rows) {
        fprintf(stderr, "xfiq %s: out of memory\n", cmd);
        return 1;
    }
    if (s->embeddings) {
        if (xfiq_embset_load(s->embeddings, s->names, &d->emb) != XFIQ_OK ||
            xfiq_embset_match(d->emb, d->bench, rows) != XFIQ_OK) {
            free(rows);
            return fail(cmd);
        }
        d->z = xfiq_embset_data(d->emb);
        d->n_rows = xfiq_embset_rows(d->emb);
        d->dim = xfiq_embset_dim(d->emb);
        snprintf(d->desc, sizeof(d->desc), "%s (%lld x %d)%s%s", s->embeddings,
                 (long long)d->n_rows, d->dim, s->names ? ", names " : "", s->names ? s->names : "");
    } else {
        xfiq_backend_t be = NULL;
        xfiq_model_t m = NULL;
        if (xfiq_cli_open_model(&s->model, &be, &m)) {
            free(rows);
            return 1;
        }
        double t0 = xfiq_now();
        const xfiq_ranks *rk = &xfiq_cli_ranks;
        if (!s->quiet && rk->rank == 0)
            fprintf(stderr, "xfiq %s: embedding %lld images%s%s ...\n", cmd, (long long)n_img,
                    s->flip ? " and their mirror images" : "", rk->split && rk->size > 1 ? ", split over the ranks" : "");
        xfiq_backend_t dbe = NULL;
        xfiq_detector_t det = NULL;
        if (s->detect && xfiq_cli_open_detector_for(&s->model, s->detector_dir, &dbe, &det)) {
            xfiq_model_free(m);
            xfiq_backend_free(be);
            free(rows);
            return 1;
        }
        xfiq_status st = xfiq_bench_set_detector(d->bench, det, s->det_order);
        xfiq_model_info info;
        if (st == XFIQ_OK)
            st = xfiq_model_get_info(m, &info);
        if (rk->split && rk->size > 1) {
            /* rank r embeds its contiguous share, then every rank gets all rows
             * (a rank that failed before still joins the agreement below) */
            int64_t a, e;
            xfiq_ranks_slice(n_img, rk->rank, rk->size, &a, &e);
            if (st == XFIQ_OK) {
                d->dim = info.embedding_dim;
                d->z_owned = calloc((size_t)(n_img ? n_img : 1) * (size_t)d->dim, sizeof(float));
                st = d->z_owned ? xfiq_bench_embed_range(d->bench, m, s->flip, s->model.batch, a, e, d->z_owned)
                                : xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
            }
            if (st != XFIQ_OK)
                fprintf(stderr, "xfiq %s: rank %d: %s\n", cmd, rk->rank, xfiq_last_error());
            int bad;
            if (xfiq_ranks_agree(st == XFIQ_OK ? 0 : 1, &bad)) {
                if (rk->rank == 0)
                    fprintf(stderr, "xfiq %s: rank %d of %d could not embed its share (message above)\n", cmd, bad,
                            rk->size);
                xfiq_detector_free(det);
                xfiq_backend_free(dbe);
                xfiq_model_free(m);
                xfiq_backend_free(be);
                free(rows);
                return 1;
            }
            if (xfiq_ranks_allgather_rows(d->z_owned, n_img, d->dim))
                st = XFIQ_ERR_IO;
            if (st == XFIQ_OK && det && gather_no_face(d, n_img, a, e))
                st = XFIQ_ERR_IO;
        } else if (st == XFIQ_OK) {
            st = xfiq_bench_embed(d->bench, m, s->flip, s->model.batch, &d->z_owned, &d->dim);
        }
        if (st == XFIQ_OK && det && !d->no_face && !(d->no_face = calloc((size_t)(n_img ? n_img : 1), 1)))
            st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
        if (st == XFIQ_OK && det && !(rk->split && rk->size > 1))
            for (int64_t i = 0; i < n_img; i++)
                d->no_face[i] = (uint8_t)xfiq_bench_image_no_face(d->bench, i);
        (void)xfiq_bench_set_detector(d->bench, NULL, 0);
        if (st == XFIQ_OK && det) {
            d->n_no_face = 0;
            for (int64_t i = 0; i < n_img; i++)
                d->n_no_face += d->no_face[i];
            for (int64_t i = 0; i < n_img && rk->rank == 0; i++) /* the error rows (-q does not hide failures) */
                if (d->no_face[i])
                    fprintf(stderr, "xfiq %s: %s: no face found (%s)\n", cmd, xfiq_bench_image_name(d->bench, i),
                            s->no_face_skip ? "its pairs left out" : "used resized as it is");
            if (!s->quiet && rk->rank == 0)
                fprintf(stderr, "xfiq %s: --detect: no face found in %lld of %lld images\n", cmd,
                        (long long)d->n_no_face, (long long)n_img);
        }
        xfiq_detector_free(det);
        xfiq_backend_free(dbe);
        if (st == XFIQ_OK)
            snprintf(d->desc, sizeof(d->desc), "model %s (%s, %d-d, %s), flip %s, %.1f s",
                     s->model.model ? s->model.model : xfiq_cli_default_model(), info.name, d->dim,
                     xfiq_backend_name(be), s->flip ? "yes" : "no", xfiq_now() - t0);
        xfiq_model_free(m);
        xfiq_backend_free(be);
        if (st != XFIQ_OK) {
            free(rows);
            return fail(cmd);
        }
        d->z = d->z_owned;
        d->n_rows = n_img;
        for (int64_t i = 0; i < n_img; i++)
            rows[i] = i;
        if (s->save_embeddings && xfiq_cli_ranks.rank == 0 && save_embeddings(s->save_embeddings, d->bench, d->z, n_img, d->dim)) {
            free(rows);
            return fail(cmd);
        }
    }
    d->n_pairs = xfiq_bench_num_pairs(d->bench);
    const int64_t *a, *b;
    xfiq_bench_pairs(d->bench, &a, &b, &d->labels, &d->file_folds);
    d->n_file_folds = xfiq_bench_num_folds(d->bench);
    d->ia = malloc((size_t)d->n_pairs * sizeof(int64_t));
    d->ib = malloc((size_t)d->n_pairs * sizeof(int64_t));
    if (!d->ia || !d->ib) {
        free(rows);
        fprintf(stderr, "xfiq %s: out of memory\n", cmd);
        return 1;
    }
    for (int64_t k = 0; k < d->n_pairs; k++) {
        d->ia[k] = rows[a[k]];
        d->ib[k] = rows[b[k]];
    }
    free(rows);
    if (s->no_face_skip && d->no_face && d->n_no_face > 0 && drop_no_face_pairs(d, a, b, cmd))
        return 1;
    return 0;
}

/* ------------------------------------------------------------- xfiq eval */
static void eval_help(FILE *f)
{
    fprintf(f,
            "usage: xfiq eval --bench PATH [--embeddings E.npy [--names N] | --model M] [options]\n\n"
            "Verification accuracy (10-fold, protocol named in the output), EER, FNMR at FMR\n"
            "1e-1..1e-6 and AUC for cosine and QMagFace scores side by side.\n\n");
    xfiq_eval_source_help(f);
    fprintf(f,
            "protocol:\n"
            "  --protocol P         qmagface (default: 600 thresholds linspace(min,max), score > t),\n"
            "                       insightface (squared L2 < t, t = 0..3.99; also VAL@FAR=1e-3),\n"
            "                       magface (arccos(cos)/pi < t after subtracting the training\n"
            "                       folds' mean embedding)\n"
            "  --folds N            number of folds (default 10)\n"
            "  --fold-source S      auto (the file's folds when it defines some and --folds is\n"
            "                       not given otherwise, else consecutive blocks in file order),\n"
            "                       file, consecutive\n"
            "QMagFace:\n"
            "  --qmag P             magface-100 (default), magface-50, magface-18, or a JSON from\n"
            "                       `xfiq qmagface-train`\n"
            "  --no-qmag            cosine only\n"
            "templates (IJB-B/C style, with --embeddings/--names instead of --bench):\n"
            "  --ijb-media F        lines 'image template_id media_id'\n"
            "  --ijb-pairs F        lines 'template_a template_b label'\n"
            "  --aggregate A        mean (default) or magnitude\n"
            "output:\n"
            "  --json OUT.json      everything printed, per fold, plus the ROC summaries\n"
            "  --plot ROC.svg       ROC (log FMR axis); --det DET.svg: DET (log-log)\n"
            "  --quiet              no progress on stderr\n");
}

typedef struct score_col {
    const char *name;
    double *s;
    xfiq_kfold_result kf;
    int have_kf;
    xfiq_roc_summary roc;
    xfiq_roc_t r;
} score_col;

static cJSON *json_doubles(const double *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
    return a;
}

static void json_roc(cJSON *o, const xfiq_roc_summary *r)
{
    cJSON_AddNumberToObject(o, "eer", r->eer);
    cJSON_AddNumberToObject(o, "eer_threshold", r->eer_threshold);
    cJSON_AddNumberToObject(o, "auc", r->auc);
    cJSON *f = cJSON_AddObjectToObject(o, "fnmr_at_fmr");
    cJSON *t = cJSON_AddObjectToObject(o, "threshold_at_fmr");
    for (int k = 0; k < XFIQ_ROC_NUM_FMR; k++) {
        char key[16];
        snprintf(key, sizeof key, "1e-%d", k + 1);
        cJSON_AddNumberToObject(f, key, r->fnmr[k]);
        cJSON_AddItemToObject(t, key, isfinite(r->threshold[k]) ? cJSON_CreateNumber(r->threshold[k])
                                                                 : cJSON_CreateString("inf"));
    }
}

static void print_roc_header(int with_acc, int with_val)
{
    printf("\n%-10s", "score");
    if (with_acc)
        printf(" %-19s", "accuracy (%)");
    if (with_val)
        printf(" %-9s", "VAL@1e-3");
    printf(" %8s   FNMR (%%) at FMR:", "EER (%)");
    printf("\n%-10s%s%s %8s", "", with_acc ? "                    " : "", with_val ? "          " : "", "");
    for (int k = 0; k < XFIQ_ROC_NUM_FMR; k++)
        printf("   1e-%d ", k + 1);
    printf("  AUC\n");
}

static void print_roc_row(const score_col *c, int with_acc, int with_val)
{
    printf("%-10s", c->name);
    if (with_acc)
        printf(" %7.3f +- %-8.3f", 100 * c->kf.acc_mean, 100 * c->kf.acc_std);
    if (with_val)
        printf(" %-9.3f", 100 * c->kf.val_mean);
    printf(" %8.3f", 100 * c->roc.eer);
    for (int k = 0; k < XFIQ_ROC_NUM_FMR; k++)
        printf(" %7.3f", 100 * c->roc.fnmr[k]);
    printf("  %.6f\n", c->roc.auc);
}

static int write_plots(const char *roc_path, const char *det_path, score_col *cols, int nc,
                       const char *title)
{
    xfiq_plot_curve curves[2];
    double *fnmr[2] = {NULL, NULL};
    for (int i = 0; i < nc; i++) {
        const double *fpr, *tpr;
        xfiq_roc_points(cols[i].r, &fpr, &tpr, NULL);
        int64_t np = xfiq_roc_num_points(cols[i].r);
        curves[i] = (xfiq_plot_curve){cols[i].name, fpr, tpr, np};
    }
    int rc = 0;
    if (roc_path && xfiq_plot_svg(roc_path, XFIQ_PLOT_ROC, title, curves, nc) != XFIQ_OK)
        rc = 1;
    if (det_path && !rc) {
        for (int i = 0; i < nc; i++) {
            int64_t np = curves[i].n;
            fnmr[i] = malloc((size_t)np * sizeof(double));
            if (!fnmr[i]) {
                rc = 1;
                break;
            }
            for (int64_t k = 0; k < np; k++)
                fnmr[i][k] = 1.0 - curves[i].y[k];
            curves[i].y = fnmr[i];
        }
        if (!rc && xfiq_plot_svg(det_path, XFIQ_PLOT_DET, title, curves, nc) != XFIQ_OK)
            rc = 1;
    }
    free(fnmr[0]);
    free(fnmr[1]);
    if (rc)
        fprintf(stderr, "xfiq eval: %s\n", xfiq_last_error());
    return rc;
}

typedef struct eval_opts {
    xfiq_protocol proto;
    int n_folds;
    int folds_given;
    const char *fold_source;
    const char *qmag;
    int no_qmag;
    const char *json, *plot, *det;
    const char *ijb_media, *ijb_pairs, *aggregate;
} eval_opts;

static int eval_templates(const xfiq_eval_source *src, const eval_opts *o,
                          const xfiq_qmag_params *qp)
{
    if (!src->embeddings) {
        fprintf(stderr, "xfiq eval: template protocols need --embeddings (and --names): embed the images with `xfiq embed` first\n");
        return 1;
    }
    xfiq_aggregation agg = XFIQ_AGG_MEAN;
    if (o->aggregate && !strcmp(o->aggregate, "magnitude"))
        agg = XFIQ_AGG_MAGNITUDE;
    else if (o->aggregate && strcmp(o->aggregate, "mean")) {
        fprintf(stderr, "xfiq eval: --aggregate: mean or magnitude, got '%s'\n", o->aggregate);
        return 1;
    }
    xfiq_ijb_t t = NULL;
    xfiq_embset_t e = NULL;
    if (xfiq_ijb_open(o->ijb_media, o->ijb_pairs, &t) != XFIQ_OK ||
        xfiq_embset_load(src->embeddings, src->names, &e) != XFIQ_OK) {
        xfiq_ijb_free(t);
        return fail("eval");
    }
    int64_t ni = xfiq_ijb_num_images(t), np = xfiq_ijb_num_pairs(t);
    int64_t *rows = malloc((size_t)ni * 8);
    double *c = malloc((size_t)np * 8), *cq = malloc((size_t)np * 8);
    int rc = !rows || !c || !cq;
    for (int64_t i = 0; !rc && i < ni; i++) {
        rows[i] = xfiq_embset_has_names(e) ? xfiq_embset_find(e, xfiq_ijb_image_name(t, i)) : i;
        if (rows[i] < 0 || rows[i] >= xfiq_embset_rows(e)) {
            fprintf(stderr, "xfiq eval: %s: image '%s' (line %lld) %s among the embeddings\n",
                    o->ijb_media, xfiq_ijb_image_name(t, i), (long long)i + 1,
                    rows[i] == -2 ? "matches several rows" : "not found");
            rc = 1;
        }
    }
    if (!rc && xfiq_ijb_score(t, xfiq_embset_data(e), xfiq_embset_dim(e), rows, agg, qp, c,
                              qp ? cq : NULL) != XFIQ_OK)
        rc = fail("eval");
    score_col cols[2] = {{.name = "cosine", .s = c}, {.name = "qmagface", .s = cq}};
    int nc = qp ? 2 : 1;
    for (int i = 0; !rc && i < nc; i++)
        if (xfiq_roc_build(cols[i].s, xfiq_ijb_labels(t), np, &cols[i].r) != XFIQ_OK ||
            xfiq_roc_summarize(cols[i].r, &cols[i].roc) != XFIQ_OK)
            rc = fail("eval");
    if (!rc) {
        printf("templates  %s + %s: %lld images, %lld templates, %lld pairs (%lld genuine, %lld impostor)\n",
               o->ijb_media, o->ijb_pairs, (long long)ni, (long long)xfiq_ijb_num_templates(t),
               (long long)np, (long long)cols[0].roc.n_genuine, (long long)cols[0].roc.n_impostor);
        printf("aggregate  %s\n", agg == XFIQ_AGG_MEAN ? "mean (media = mean of images, template = mean of media)"
                                                        : "magnitude-weighted (sum of raw embeddings)");
        if (qp)
            printf("qmagface   alpha %.6f beta %.6f\n", qp->alpha, qp->beta);
        printf("\n%-10s %8s   TAR (%%) at FAR:\n%-10s %8s", "score", "EER (%)", "", "");
        for (int k = 0; k < XFIQ_ROC_NUM_FMR; k++)
            printf("   1e-%d ", k + 1);
        printf("  AUC\n");
        for (int i = 0; i < nc; i++) {
            printf("%-10s %8.3f", cols[i].name, 100 * cols[i].roc.eer);
            for (int k = 0; k < XFIQ_ROC_NUM_FMR; k++)
                printf(" %7.3f", 100 * (1.0 - cols[i].roc.fnmr[k]));
            printf("  %.6f\n", cols[i].roc.auc);
        }
    }
    if (!rc && o->json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "kind", "xfiq-eval-templates");
        cJSON_AddStringToObject(root, "media", o->ijb_media);
        cJSON_AddStringToObject(root, "pairs", o->ijb_pairs);
        cJSON_AddStringToObject(root, "aggregate", agg == XFIQ_AGG_MEAN ? "mean" : "magnitude");
        cJSON *sc = cJSON_AddObjectToObject(root, "scores");
        for (int i = 0; i < nc; i++) {
            cJSON *o2 = cJSON_AddObjectToObject(sc, cols[i].name);
            json_roc(o2, &cols[i].roc);
            cJSON *t = cJSON_AddObjectToObject(o2, "tar_at_far");
            for (int k = 0; k < XFIQ_ROC_NUM_FMR; k++) {
                char key[16];
                snprintf(key, sizeof key, "1e-%d", k + 1);
                cJSON_AddNumberToObject(t, key, 1.0 - cols[i].roc.fnmr[k]);
            }
        }
        rc = xfiq_eval_write_json(o->json, root);
        cJSON_Delete(root);
    }
    if (!rc && (o->plot || o->det))
        rc = write_plots(o->plot, o->det, cols, nc, "template verification");
    for (int i = 0; i < 2; i++)
        xfiq_roc_free(cols[i].r);
    free(rows);
    free(c);
    free(cq);
    xfiq_ijb_free(t);
    xfiq_embset_free(e);
    return rc;
}

int xfiq_cmd_eval(int argc, char **argv)
{
    xfiq_eval_source src;
    xfiq_eval_source_init(&src);
    eval_opts o = {.proto = XFIQ_PROTOCOL_QMAGFACE, .n_folds = 10, .fold_source = "auto",
                   .qmag = "magface-100"};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            eval_help(stdout);
            return 0;
        }
        if ((r = xfiq_eval_source_opt(&src, argc, argv, &i)) != 0) {
            if (r < 0)
                return 1;
        } else if ((r = xfiq_eval_opt_value(argc, argv, &i, "--protocol", &v))) {
            if (r < 0 || xfiq_protocol_parse(v, &o.proto) != XFIQ_OK)
                return fail("eval");
        } else if ((r = xfiq_eval_opt_value(argc, argv, &i, "--folds", &v))) {
            if (r < 0 || xfiq_eval_parse_int("--folds", v, 2, XFIQ_MAX_FOLDS, &o.n_folds) < 0)
                return 1;
            o.folds_given = 1;
        } else if ((r = xfiq_eval_opt_value(argc, argv, &i, "--fold-source", &o.fold_source)) ||
                   (r = xfiq_eval_opt_value(argc, argv, &i, "--qmag", &o.qmag)) ||
                   (r = xfiq_eval_opt_value(argc, argv, &i, "--json", &o.json)) ||
                   (r = xfiq_eval_opt_value(argc, argv, &i, "--plot", &o.plot)) ||
                   (r = xfiq_eval_opt_value(argc, argv, &i, "--det", &o.det)) ||
                   (r = xfiq_eval_opt_value(argc, argv, &i, "--ijb-media", &o.ijb_media)) ||
                   (r = xfiq_eval_opt_value(argc, argv, &i, "--ijb-pairs", &o.ijb_pairs)) ||
                   (r = xfiq_eval_opt_value(argc, argv, &i, "--aggregate", &o.aggregate))) {
            if (r < 0)
                return 1;
        } else if (!strcmp(argv[i], "--no-qmag")) {
            o.no_qmag = 1;
        } else {
            fprintf(stderr, "xfiq eval: unknown option '%s' (see xfiq eval --help)\n", argv[i]);
            return 1;
        }
    }
    if (strcmp(o.fold_source, "auto") && strcmp(o.fold_source, "file") &&
        strcmp(o.fold_source, "consecutive")) {
        fprintf(stderr, "xfiq eval: --fold-source: auto, file or consecutive, got '%s'\n", o.fold_source);
        return 1;
    }
    xfiq_qmag_params qp;
    if (!o.no_qmag && xfiq_qmag_params_resolve(o.qmag, &qp) != XFIQ_OK)
        return fail("eval");
    const xfiq_qmag_params *qpp = o.no_qmag ? NULL : &qp;
    if (o.ijb_media || o.ijb_pairs) {
        if (!o.ijb_media || !o.ijb_pairs) {
            fprintf(stderr, "xfiq eval: templates need both --ijb-media and --ijb-pairs\n");
            return 1;
        }
        /* under mpirun the template protocols run on rank 0 (they take precomputed embeddings) */
        const xfiq_ranks *rk = &xfiq_cli_ranks;
        if (!rk->split || rk->size < 2)
            return eval_templates(&src, &o, qpp);
        int bad;
        return xfiq_ranks_agree(rk->rank == 0 ? eval_templates(&src, &o, qpp) : 0, &bad);
    }

    xfiq_eval_data d;
    if (xfiq_eval_data_load(&src, &d, "eval")) {
        xfiq_eval_data_free(&d);
        return 1;
    }
    /* folds */
    const int32_t *folds = NULL;
    const char *fold_desc = "consecutive blocks in file order (sklearn KFold, no shuffle)";
    /* auto: the file's own folds when it defines some (LFW, CFP, CPLFW:
     * ten folds, as the protocols use them; lfw-folds12: its two), unless
     * --folds asked for another number; else consecutive blocks */
    if (!strcmp(o.fold_source, "file") ||
        (!strcmp(o.fold_source, "auto") && d.n_file_folds >= 2 &&
         (!o.folds_given || d.n_file_folds == o.n_folds))) {
        if (!d.file_folds || d.n_file_folds < 2) {
            fprintf(stderr, "xfiq eval: --fold-source file: %s defines no folds\n", src.bench);
            xfiq_eval_data_free(&d);
            return 1;
        }
        folds = d.file_folds;
        o.n_folds = d.n_file_folds;
        fold_desc = "as defined by the file";
    }
    score_col cols[2] = {{.name = "cosine"}, {.name = "qmagface"}};
    const int nc = qpp ? 2 : 1;
    int rc = 0;
    const xfiq_ranks *rk = &xfiq_cli_ranks;
    /* under mpirun the ranks share the scoring: no rank holds all scores */
    int spread = rk->split && rk->size > 1 && o.proto == XFIQ_PROTOCOL_QMAGFACE && !o.plot && !o.det;
    size_t n_held = spread ? 1 : (size_t)d.n_pairs;
    double *q = malloc(n_held * sizeof(double));
    cols[0].s = malloc(n_held * sizeof(double));
    cols[1].s = malloc(n_held * sizeof(double));
    if (!q || !cols[0].s || !cols[1].s) {
        fprintf(stderr, "xfiq eval: out of memory\n");
        rc = 1;
    }
    double t0 = xfiq_now();
#ifdef XFIQ_HAVE_MPI
    if (!rc && spread) {
        xfiq_kfold_result kf[2];
        xfiq_roc_summary roc[2];
        rc = xfiq_cli_eval_spread(&d, folds, o.n_folds, qpp, nc, kf, roc);
        for (int i = 0; !rc && i < nc; i++) {
            cols[i].kf = kf[i];
            cols[i].roc = roc[i];
        }
    }
#endif
    if (rk->split && rk->size > 1 && !spread && rk->rank == 0)
        fprintf(stderr, "xfiq eval: the %s protocol%s: scored on rank 0 alone (the embedding was split)\n",
                xfiq_protocol_name(o.proto), o.plot || o.det ? " with plots" : "");
    if (rk->split && rk->size > 1 && (spread || rk->rank != 0)) {
        /* done here: the metrics are reduced (rank 0 prints them), or rank 0 scores alone */
        if (rk->rank != 0) {
            free(q);
            free(cols[0].s);
            free(cols[1].s);
            xfiq_eval_data_free(&d);
            return rc;
        }
    } else if (!rc && xfiq_eval_score_pairs(&src, &d, qpp, cols[0].s, q, qpp ? cols[1].s : NULL) != XFIQ_OK)
        rc = fail("eval");
    for (int i = 0; !rc && !spread && i < nc; i++) {
        /* the QMagFace protocol works on the scores at hand; the others
         * transform the embeddings (flip sums, fold means) themselves */
        xfiq_status st = o.proto == XFIQ_PROTOCOL_QMAGFACE
                             ? xfiq_kfold_scores(cols[i].s, d.labels, d.n_pairs, folds, o.n_folds, &cols[i].kf)
                             : xfiq_kfold_protocol(o.proto, d.z, d.n_rows, d.dim, d.ia, d.ib, d.labels,
                                                   d.n_pairs, folds, o.n_folds, i ? qpp : NULL, &cols[i].kf);
        if (st != XFIQ_OK ||
            xfiq_roc_build(cols[i].s, d.labels, d.n_pairs, &cols[i].r) != XFIQ_OK ||
            xfiq_roc_summarize(cols[i].r, &cols[i].roc) != XFIQ_OK)
            rc = fail("eval");
    }
    double secs = xfiq_now() - t0;
    int one_class = 0; /* a test fold with a single class: accuracy is still defined, but odd */
    if (!rc && !folds) {
        int32_t *tmp = malloc((size_t)d.n_pairs * sizeof(int32_t));
        if (tmp && xfiq_kfold_assign(d.n_pairs, o.n_folds, tmp) == XFIQ_OK) {
            int seen[XFIQ_MAX_FOLDS][2] = {{0}};
            for (int64_t k = 0; k < d.n_pairs; k++)
                seen[tmp[k]][d.labels[k] ? 1 : 0] = 1;
            for (int f = 0; f < o.n_folds; f++)
                one_class += !(seen[f][0] && seen[f][1]);
        }
        free(tmp);
    }
    if (!rc) {
        const xfiq_roc_summary *r0 = &cols[0].roc;
        printf("benchmark  %s %s: %lld pairs (%lld genuine, %lld impostor), %lld images",
               xfiq_bench_format_name(xfiq_bench_get_format(d.bench)), src.bench, (long long)d.n_pairs,
               (long long)r0->n_genuine, (long long)r0->n_impostor,
               (long long)xfiq_bench_num_images(d.bench));
        if (d.n_file_folds)
            printf(", %d fold%s in the file", d.n_file_folds, d.n_file_folds > 1 ? "s" : "");
        if (d.bench && *xfiq_bench_fold_note(d.bench))
            printf(" (folds: %s)", xfiq_bench_fold_note(d.bench));
        if (src.select_folds)
            printf(" (selected: %s)", src.select_folds);
        printf("\nembeddings %s\n", d.desc);
        printf("protocol   %s: %d folds %s; ", xfiq_protocol_name(o.proto), o.n_folds, fold_desc);
        if (o.proto == XFIQ_PROTOCOL_QMAGFACE)
            printf("600 thresholds linspace(min, max), genuine iff score > t\n");
        else if (o.proto == XFIQ_PROTOCOL_INSIGHTFACE)
            printf("squared L2 of normalised embeddings < t, t = 0, 0.01, ..., 3.99%s\n",
                   src.embeddings ? " (flip: as embedded)" : src.flip ? " (with flip)" : " (no flip)");
        else
            printf("arccos(cos)/pi < t after subtracting the training folds' mean, t = 0, 0.01, ..., 3.99\n");
        if (qpp)
            printf("qmagface   alpha %.6f beta %.6f (%s)\n", qpp->alpha, qpp->beta, o.qmag);
        printf("roc        all pairs, accept iff score >= t; EER where FMR = FNMR on the ROC path\n");
        print_roc_header(1, o.proto == XFIQ_PROTOCOL_INSIGHTFACE);
        for (int i = 0; i < nc; i++)
            print_roc_row(&cols[i], 1, o.proto == XFIQ_PROTOCOL_INSIGHTFACE);
        if (one_class)
            printf("note: %d of the %d consecutive test folds hold only one class (the file lists the classes in blocks)\n",
                   one_class, o.n_folds);
        if (o.proto == XFIQ_PROTOCOL_INSIGHTFACE && isnan(cols[0].kf.val_mean))
            printf("note: VAL@FAR is undefined here: some fold holds only one class (file sorted by label?)\n");
        if (r0->n_impostor < 1000000)
            printf("note: %lld impostor pairs: FNMR at FMR below %.1e is measured at FMR 0\n",
                   (long long)r0->n_impostor, 1.0 / (double)r0->n_impostor);
        if (!src.quiet)
            fprintf(stderr, "xfiq eval: metrics in %.3f s\n", secs);
    }
    if (!rc && o.json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "kind", "xfiq-eval");
        cJSON *b = cJSON_AddObjectToObject(root, "benchmark");
        cJSON_AddStringToObject(b, "path", src.bench);
        cJSON_AddStringToObject(b, "format", xfiq_bench_format_name(xfiq_bench_get_format(d.bench)));
        cJSON_AddNumberToObject(b, "pairs", (double)d.n_pairs);
        cJSON_AddNumberToObject(b, "genuine", (double)cols[0].roc.n_genuine);
        cJSON_AddNumberToObject(b, "impostor", (double)cols[0].roc.n_impostor);
        cJSON_AddNumberToObject(b, "images", (double)xfiq_bench_num_images(d.bench));
        if (src.detect) {
            cJSON *nf = cJSON_AddArrayToObject(b, "no_face");
            for (int64_t i = 0; d.no_face && i < xfiq_bench_num_images(d.bench); i++)
                if (d.no_face[i])
                    cJSON_AddItemToArray(nf, cJSON_CreateString(xfiq_bench_image_name(d.bench, i)));
            cJSON_AddStringToObject(b, "no_face_policy", src.no_face_skip ? "skip" : "resize");
            cJSON_AddNumberToObject(b, "pairs_left_out", (double)d.pairs_left_out);
        }
        if (src.select_folds)
            cJSON_AddStringToObject(b, "selected_folds", src.select_folds);
        cJSON_AddStringToObject(root, "embeddings", d.desc);
        cJSON *p = cJSON_AddObjectToObject(root, "protocol");
        cJSON_AddStringToObject(p, "name", xfiq_protocol_name(o.proto));
        cJSON_AddNumberToObject(p, "folds", o.n_folds);
        cJSON_AddStringToObject(p, "fold_source", folds ? "file" : "consecutive");
        if (qpp) {
            cJSON *qj = cJSON_AddObjectToObject(root, "qmagface");
            cJSON_AddNumberToObject(qj, "alpha", qpp->alpha);
            cJSON_AddNumberToObject(qj, "beta", qpp->beta);
            cJSON_AddStringToObject(qj, "source", o.qmag);
        }
        cJSON *sc = cJSON_AddObjectToObject(root, "scores");
        for (int i = 0; i < nc; i++) {
            cJSON *c = cJSON_AddObjectToObject(sc, cols[i].name);
            cJSON_AddNumberToObject(c, "accuracy_mean", cols[i].kf.acc_mean);
            cJSON_AddNumberToObject(c, "accuracy_std", cols[i].kf.acc_std);
            cJSON_AddItemToObject(c, "fold_accuracy", json_doubles(cols[i].kf.accuracy, o.n_folds));
            cJSON_AddItemToObject(c, "fold_threshold", json_doubles(cols[i].kf.threshold, o.n_folds));
            if (o.proto == XFIQ_PROTOCOL_INSIGHTFACE) {
                double vv[3] = {cols[i].kf.val_mean, cols[i].kf.val_std, cols[i].kf.far_mean};
                static const char *vk[3] = {"val_at_far_1e-3", "val_std", "far_mean"};
                for (int k = 0; k < 3; k++)
                    cJSON_AddItemToObject(c, vk[k], isfinite(vv[k]) ? cJSON_CreateNumber(vv[k]) : cJSON_CreateNull());
            }
            json_roc(c, &cols[i].roc);
        }
        rc = xfiq_eval_write_json(o.json, root);
        cJSON_Delete(root);
    }
    if (!rc && (o.plot || o.det)) {
        char title[512];
        snprintf(title, sizeof title, "%s (%lld pairs)", xfiq_path_basename(src.bench),
                 (long long)d.n_pairs);
        rc = write_plots(o.plot, o.det, cols, nc, title);
    }
    for (int i = 0; i < 2; i++) {
        xfiq_roc_free(cols[i].r);
        free(cols[i].s);
    }
    free(q);
    xfiq_eval_data_free(&d);
    return rc;
}
