/* cmd_embed.c - `xfiq embed`: embeddings and magnitudes of many face images.
 * Decoding runs in parallel per batch; a file that fails is recorded in the
 * CSV with its reason and the run carries on; outputs are committed
 * atomically at the end. */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/status.h"
#include "io/afile.h"
#include "io/csv.h"
#include "io/npy.h"
#include "xfiq_image.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: xfiq embed [options] INPUT...\n"
            "  INPUT               image file (JPEG/PNG/PGM), folder (recursive, sorted) or @LIST (one path a line)\n"
            "  -m, --model PATH    ONNX model (default: $XFIQ_MODEL or models/.cache/fr_feature.onnx)\n"
            "      --card PATH     model card JSON (default: <model>.card.json, else family defaults)\n"
            "  -l, --landmarks F   5-point landmarks file (`path x1 y1 ... x5 y5`): faces are aligned to the\n"
            "                      ArcFace template; images without an entry must already be aligned at the\n"
            "                      model's size (e.g. 112x112), else they are reported as failed\n"
            "      --resize        use unaligned images of another size as they are, resized (no alignment)\n"
            "  -o, --out DIR       output folder (default xfiq-out)\n"
            "  -b, --batch N       images per forward pass (default 32)\n"
            "  -t, --threads N     CPU threads (default: all cores)\n"
            "      --backend B     cpu (default) or cuda\n"
            "  -q, --quiet         no progress on stderr\n"
            "writes DIR/embeddings.npy (float32, rows = images that decoded, raw not normalised),\n"
            "DIR/magnitudes.npy (float32 L2 norms) and DIR/files.csv (index,path,row,magnitude,status,message);\n"
            "exit 0 when every image worked, 2 when some failed (the rest are still written), 1 on fatal errors.\n");
}

typedef struct item {
    int ok;
    char msg[512];
} item;

static int make_dir(const char *dir)
{
    if (mkdir(dir, 0777) == 0 || errno == EEXIST)
        return 0;
    fprintf(stderr, "xfiq: cannot create output folder %s: %s\n", dir, strerror(errno));
    return 1;
}

/* Decodes and prepares images [s, s+k) into px (k slots); per-item status in it. */
static void load_batch(const xfiq_pathlist *paths, size_t s, int k, const xfiq_landmarks_set *lms, int w, int h,
                       int allow_resize, uint8_t *px, item *it, int threads)
{
#pragma omp parallel for schedule(dynamic) num_threads(threads)
    for (int i = 0; i < k; i++) {
        const char *path = paths->items[s + (size_t)i];
        xfiq_image img;
        it[i].ok = 0;
        xfiq_status st = xfiq_image_load(path, &img);
        if (st == XFIQ_OK) {
            const xfiq_landmarks *lm = lms ? xfiq_landmarks_find(lms, path) : NULL;
            /* A whole photo squeezed to the model size gives a meaningless embedding: refuse it unless asked. */
            if (!lm && !allow_resize && (img.width != w || img.height != h))
                st = xfiq_error(XFIQ_ERR_SHAPE, "%s: %dx%d is not an aligned %dx%d face and has no landmarks%s "
                                "(give --landmarks, or --resize to use it as it is)", path, img.width, img.height, w, h,
                                lms ? " entry" : "");
            else
                st = xfiq_image_prepare(&img, lm, w, h, px + (size_t)i * (size_t)w * (size_t)h * 3);
            xfiq_image_free(&img);
        }
        if (st == XFIQ_OK)
            it[i].ok = 1;
        else
            snprintf(it[i].msg, sizeof it[i].msg, "%s", xfiq_last_error());
    }
}

int xfiq_cmd_embed(int argc, char **argv)
{
    xfiq_cli_model_opts mo;
    xfiq_cli_model_opts_init(&mo);
    const char *out_dir = "xfiq-out", *lm_path = NULL;
    int quiet = 0, n_in = 0, allow_resize = 0;
    char **inputs = calloc((size_t)argc, sizeof *inputs);
    if (!inputs)
        return XFIQ_EXIT_FATAL;
    for (int i = 1; i < argc; i++) {
        int r = xfiq_cli_model_opt(&mo, argc, argv, &i);
        if (r < 0)
            return free(inputs), XFIQ_EXIT_FATAL;
        if (r > 0)
            continue;
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            free(inputs);
            return XFIQ_EXIT_OK;
        } else if ((!strcmp(a, "--out") || !strcmp(a, "-o")) && i + 1 < argc)
            out_dir = argv[++i];
        else if ((!strcmp(a, "--landmarks") || !strcmp(a, "-l")) && i + 1 < argc)
            lm_path = argv[++i];
        else if (!strcmp(a, "--quiet") || !strcmp(a, "-q"))
            quiet = 1;
        else if (!strcmp(a, "--resize"))
            allow_resize = 1;
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "xfiq embed: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            free(inputs);
            return XFIQ_EXIT_FATAL;
        } else
            inputs[n_in++] = argv[i];
    }
    if (!n_in) {
        usage(stderr);
        free(inputs);
        return XFIQ_EXIT_FATAL;
    }
    xfiq_pathlist paths;
    xfiq_pathlist_init(&paths);
    int rc = xfiq_cli_gather_inputs(inputs, n_in, &paths);
    free(inputs);
    if (rc || make_dir(out_dir)) {
        xfiq_pathlist_free(&paths);
        return XFIQ_EXIT_FATAL;
    }
    xfiq_landmarks_set *lms = NULL;
    if (lm_path && xfiq_landmarks_load(lm_path, &lms) != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        xfiq_pathlist_free(&paths);
        return XFIQ_EXIT_FATAL;
    }
    xfiq_backend_t be = NULL;
    xfiq_model_t m = NULL;
    if (xfiq_cli_open_model(&mo, &be, &m)) {
        xfiq_landmarks_free(lms);
        xfiq_pathlist_free(&paths);
        return XFIQ_EXIT_FATAL;
    }
    xfiq_model_info info;
    xfiq_model_get_info(m, &info);
    int w = info.input_width, h = info.input_height, d = info.embedding_dim, bs = mo.batch;
    size_t img_bytes = (size_t)w * (size_t)h * 3;
    uint8_t *px = malloc((size_t)bs * img_bytes), *good = malloc((size_t)bs * img_bytes);
    float *emb = malloc((size_t)bs * (size_t)d * sizeof(float)), *mag = malloc((size_t)bs * sizeof(float));
    item *it = calloc((size_t)bs, sizeof *it);
    char *p_emb = malloc(strlen(out_dir) + 32), *p_mag = malloc(strlen(out_dir) + 32), *p_csv = malloc(strlen(out_dir) + 32);
    xfiq_npy_writer we = {0}, wm = {0};
    xfiq_afile csv = {0};
    int64_t shape_e[2] = {0, d}, shape_m[1] = {0};
    rc = XFIQ_EXIT_FATAL;
    if (!px || !good || !emb || !mag || !it || !p_emb || !p_mag || !p_csv) {
        fprintf(stderr, "xfiq: out of memory\n");
        goto done;
    }
    sprintf(p_emb, "%s/embeddings.npy", out_dir);
    sprintf(p_mag, "%s/magnitudes.npy", out_dir);
    sprintf(p_csv, "%s/files.csv", out_dir);
    if (xfiq_npy_writer_open(&we, p_emb, 2, shape_e) != XFIQ_OK ||
        xfiq_npy_writer_open(&wm, p_mag, 1, shape_m) != XFIQ_OK || xfiq_afile_open(&csv, p_csv) != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        goto done;
    }
    fprintf(csv.fp, "index,path,row,magnitude,status,message\n");
    xfiq_progress prog;
    xfiq_progress_init(&prog, "embed", (long)paths.count, quiet);
    long rows = 0, failed = 0;
    int threads = mo.threads > 0 ? mo.threads : omp_get_num_procs();
    for (size_t s = 0; s < paths.count; s += (size_t)bs) {
        int k = paths.count - s < (size_t)bs ? (int)(paths.count - s) : bs, ng = 0;
        load_batch(&paths, s, k, lms, w, h, allow_resize, px, it, threads);
        for (int i = 0; i < k; i++)
            if (it[i].ok)
                memcpy(good + (size_t)ng++ * img_bytes, px + (size_t)i * img_bytes, img_bytes);
        if (ng && xfiq_model_embed(m, good, ng, emb, mag) != XFIQ_OK) {
            fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
            goto done;
        }
        if (ng && (xfiq_npy_writer_append(&we, emb, ng) != XFIQ_OK || xfiq_npy_writer_append(&wm, mag, ng) != XFIQ_OK)) {
            fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
            goto done;
        }
        for (int i = 0, g = 0; i < k; i++) {
            fprintf(csv.fp, "%zu,", s + (size_t)i);
            xfiq_csv_write_field(csv.fp, paths.items[s + (size_t)i]);
            if (it[i].ok) {
                fprintf(csv.fp, ",%ld,%.9g,ok,\n", rows + g, (double)mag[g]);
                g++;
            } else {
                fprintf(csv.fp, ",-1,,error,");
                xfiq_csv_write_field(csv.fp, it[i].msg);
                fputc('\n', csv.fp);
                if (!quiet)
                    fprintf(stderr, "%sxfiq: skipped %s\n", prog.tty ? "\n" : "", it[i].msg);
                failed++;
            }
        }
        rows += ng;
        xfiq_progress_update(&prog, (long)(s + (size_t)k));
    }
    xfiq_progress_finish(&prog);
    if (xfiq_npy_writer_commit(&we) != XFIQ_OK || xfiq_npy_writer_commit(&wm) != XFIQ_OK ||
        xfiq_afile_commit(&csv) != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        goto done;
    }
    if (!quiet)
        fprintf(stderr, "xfiq embed: %ld of %zu images embedded (%d-d, model %s) -> %s/{embeddings.npy,magnitudes.npy,files.csv}%s\n",
                rows, paths.count, d, info.name, out_dir, failed ? "; failures are listed in files.csv" : "");
    rc = failed ? XFIQ_EXIT_SOME_FAILED : XFIQ_EXIT_OK;
done:
    xfiq_npy_writer_abort(&we);
    xfiq_npy_writer_abort(&wm);
    xfiq_afile_abort(&csv);
    free(px);
    free(good);
    free(emb);
    free(mag);
    free(it);
    free(p_emb);
    free(p_mag);
    free(p_csv);
    xfiq_model_free(m);
    xfiq_backend_free(be);
    xfiq_landmarks_free(lms);
    xfiq_pathlist_free(&paths);
    return rc;
}
