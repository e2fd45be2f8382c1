/* cmd_prepare.c - `xfiq prepare`: aligned faces as PNG files (the model's
 * input size), optionally with synthetic degradations for quality
 * experiments: a grey bar over the eyes and a Gaussian blur. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/quality_opts.h"
#include "io/path.h"
#include "quality/png_write.h"
#include "io/afile.h"
#include "io/csv.h"
#include "io/path.h"
#include "io/readall.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: xfiq prepare [options] INPUT...\n");
    xfiq_cli_job_help(f);
    fprintf(f, "  -o, --out DIR       output folder (default xfiq-out/aligned)\n"
               "      --variants      also write <name>_eyes.png (grey bar over the eyes) and <name>_blur.png\n"
               "      --blur SIGMA    blur of the _blur variant in pixels (default 2.5)\n"
               "writes DIR/<name>.png: each face aligned to the ArcFace template at the model's input size;\n"
               "with --detect also DIR/landmarks.txt: the 5 points found in each input (the -l format, input\n"
               "paths made absolute), each after a comment `# score S box X1 Y1 X2 Y2 face K`; with --all-faces\n"
               "every further face K >= 1 gives DIR/<name>_faceK.png and a row of its own (no variants), its\n"
               "points in landmarks.txt as a comment line (-l takes one entry per input)\n");
}

typedef struct prep_ctx {
    xfiq_cli_job *job;
    int variants;
    float sigma;
    uint8_t *tmp;
    long failed;
    char **stem;    /* output name stem of every input */
    char *part;     /* <out>/.xfiq-partial: images until the job is done */
    xfiq_afile csv; /* <out>/prepare.csv: which input went where */
    xfiq_afile lmf; /* <out>/landmarks.txt (--detect) */
} prep_ctx;

static const char *const k_suffix[3] = {"", "_eyes", "_blur"};

/* Output name stem of input i: its file name without the extension; when
 * several inputs (or their variants) would get the same name, each of them
 * gets "__" and 8 hex digits of a hash of its full path: stable whatever the
 * order, the shard or the other inputs. Never contains '/', so it stays in
 * the output folder. */
static uint32_t path_hash(const char *p)
{
    uint32_t h = 2166136261u;
    for (; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char *stem_of(const char *path, int hashed)
{
    const char *base = xfiq_path_basename(path);
    const char *dot = strrchr(base, '.');
    int len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    if (len > 200)
        len = 200;
    char buf[256];
    if (hashed)
        snprintf(buf, sizeof buf, "%.*s__%08x", len, base, (unsigned)path_hash(path));
    else
        snprintf(buf, sizeof buf, "%.*s", len, base);
    if (!buf[0] || !strcmp(buf, ".") || !strcmp(buf, ".."))
        snprintf(buf, sizeof buf, "image__%08x", (unsigned)path_hash(path));
    return strdup(buf);
}

/* Fills c->stem[] so that every output name is unique. Returns non-zero on
 * out of memory or when even hashed names collide. */
static int assign_stems(prep_ctx *c)
{
    size_t n = c->job->paths.count, nv = c->variants ? 3 : 1;
    c->stem = calloc(n ? n : 1, sizeof *c->stem);
    char **names = malloc((n * nv + 1) * sizeof *names);
    int *hashed = calloc(n ? n : 1, sizeof *hashed);
    int rc = !c->stem || !names || !hashed;
    for (int pass = 0; !rc && pass < 2; pass++) {
        for (size_t i = 0; !rc && i < n; i++) {
            free(c->stem[i]);
            c->stem[i] = stem_of(c->job->paths.items[i], hashed[i]);
            rc = !c->stem[i];
        }
        /* all output names, sorted, to find the duplicates */
        size_t m = 0;
        for (size_t i = 0; !rc && i < n; i++)
            for (size_t v = 0; v < nv && !rc; v++) {
                size_t l = strlen(c->stem[i]) + 8;
                names[m] = malloc(l + 12);
                rc = !names[m];
                if (!rc)
                    snprintf(names[m++], l + 12, "%s%s\t%zu", c->stem[i], k_suffix[v], i);
            }
        if (rc)
            break;
        qsort(names, m, sizeof *names, cmp_str);
        int dup = 0;
        for (size_t k = 0; k + 1 < m; k++) {
            size_t la = strcspn(names[k], "\t"), lb = strcspn(names[k + 1], "\t");
            if (la == lb && !memcmp(names[k], names[k + 1], la)) {
                hashed[strtoul(names[k] + la + 1, NULL, 10)] = 1;
                hashed[strtoul(names[k + 1] + lb + 1, NULL, 10)] = 1;
                dup = 1;
                if (pass == 1) {
                    fprintf(stderr, "xfiq prepare: inputs %s and %s give the same output name %.*s.png\n",
                            c->job->paths.items[strtoul(names[k] + la + 1, NULL, 10)],
                            c->job->paths.items[strtoul(names[k + 1] + lb + 1, NULL, 10)], (int)la, names[k]);
                    rc = 1;
                    break;
                }
            }
        }
        for (size_t k = 0; k < m; k++)
            free(names[k]);
        if (!dup)
            break;
    }
    free(names);
    free(hashed);
    return rc;
}

/* Writes the image into the partial folder; it is renamed into the output
 * folder with all the others when the job has succeeded. */
static int save(prep_ctx *c, size_t idx, int v, const uint8_t *px)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s.png", c->part, c->stem[idx], k_suffix[v]);
    if (plq_png_write_image(path, px, c->job->info.input_width, c->job->info.input_height, 3, 0) != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        return XFIQ_EXIT_FATAL;
    }
    return 0;
}

static void write_lm(prep_ctx *c, const char *abs, const xfiq_cli_face *f, int k)
{
    fprintf(c->lmf.fp, "# score %.4f box %.1f %.1f %.1f %.1f face %d\n", f->score, f->box[0], f->box[1], f->box[2],
            f->box[3], k);
    /* One entry per path is what -l accepts: further faces stay comments. */
    fprintf(c->lmf.fp, strchr(abs, ' ') ? "%s\"%s\"" : "%s%s", k ? "# " : "", abs);
    for (int p = 0; p < 5; p++)
        fprintf(c->lmf.fp, " %.2f %.2f", f->lm.pt[p][0], f->lm.pt[p][1]);
    fputc('\n', c->lmf.fp);
}

/* --detect: the landmarks file; --all-faces: a crop and a CSV row for every further face. */
static int write_faces(prep_ctx *c, size_t idx, const xfiq_cli_item *it)
{
    const char *path = c->job->paths.items[idx];
    char abs[4096];
    if (!realpath(path, abs))
        snprintf(abs, sizeof abs, "%s", path);
    write_lm(c, abs, &it->faces[0], 0);
    if (!c->job->all_faces || it->n_faces < 2)
        return 0;
    xfiq_image im;
    if (xfiq_image_load(path, &im) != XFIQ_OK) {
        fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
        return XFIQ_EXIT_FATAL;
    }
    int w = c->job->info.input_width, h = c->job->info.input_height, rc = 0;
    for (int k = 1; k < it->n_faces && !rc; k++) {
        char out[300], file[4200];
        snprintf(out, sizeof out, "%s_face%d.png", c->stem[idx], k);
        fprintf(c->csv.fp, "%zu,", idx);
        xfiq_csv_write_field(c->csv.fp, path);
        fputc(',', c->csv.fp);
        if (xfiq_image_prepare(&im, &it->faces[k].lm, w, h, c->tmp) != XFIQ_OK) {
            fprintf(c->csv.fp, ",error,");
            xfiq_csv_write_field(c->csv.fp, xfiq_last_error());
            fputc('\n', c->csv.fp);
            continue;
        }
        xfiq_csv_write_field(c->csv.fp, out);
        fprintf(c->csv.fp, ",ok,\n");
        write_lm(c, abs, &it->faces[k], k);
        snprintf(file, sizeof file, "%s/%s", c->part, out);
        if (plq_png_write_image(file, c->tmp, w, h, 3, 0) != XFIQ_OK) {
            fprintf(stderr, "xfiq: %s\n", xfiq_last_error());
            rc = XFIQ_EXIT_FATAL;
        }
    }
    xfiq_image_free(&im);
    return rc;
}

static int prep_batch(void *vctx, size_t s, int k, const xfiq_cli_item *it, const uint8_t *faces, const uint64_t *ids,
                      int ng)
{
    prep_ctx *c = vctx;
    int w = c->job->info.input_width, h = c->job->info.input_height, box[4];
    size_t img = (size_t)w * h * 3;
    (void)ng, (void)ids;
    xfiq_align_eye_box(w, h, box);
    for (int i = 0, g = 0; i < k; i++) {
        size_t idx = s + (size_t)i;
        fprintf(c->csv.fp, "%zu,", idx);
        xfiq_csv_write_field(c->csv.fp, c->job->paths.items[idx]);
        if (!it[i].ok) {
            c->failed++;
            fprintf(c->csv.fp, ",,error,");
            xfiq_csv_write_field(c->csv.fp, it[i].msg);
            fputc('\n', c->csv.fp);
            continue;
        }
        char out[300];
        snprintf(out, sizeof out, "%s.png", c->stem[idx]);
        fputc(',', c->csv.fp);
        xfiq_csv_write_field(c->csv.fp, out);
        fprintf(c->csv.fp, ",ok,\n");
        const uint8_t *f = faces + (size_t)g++ * img;
        if (save(c, idx, 0, f))
            return XFIQ_EXIT_FATAL;
        if (c->job->detect && it[i].n_faces > 0 && write_faces(c, idx, &it[i]))
            return XFIQ_EXIT_FATAL;
        if (!c->variants)
            continue;
        memcpy(c->tmp, f, img);
        xfiq_image_occlude(c->tmp, w, h, 3, box[0], box[1], box[2], box[3], 128);
        if (save(c, idx, 1, c->tmp))
            return XFIQ_EXIT_FATAL;
        if (xfiq_image_blur(f, w, h, 3, c->sigma, c->tmp) != XFIQ_OK || save(c, idx, 2, c->tmp))
            return XFIQ_EXIT_FATAL;
    }
    return 0;
}

/* Output suffix number v: the variants first, then _face1, _face2, ... */
static void face_suffix(const prep_ctx *c, int v, char *suf)
{
    int nv = c->variants ? 3 : 1;
    if (v < nv)
        snprintf(suf, 32, "%s", k_suffix[v]);
    else
        snprintf(suf, 32, "_face%d", v - nv + 1);
}

static int prep_opt(void *vctx, int argc, char **argv, int *i)
{
    prep_ctx *c = vctx;
    if (!strcmp(argv[*i], "--variants"))
        return c->variants = 1, 1;
    if (!strcmp(argv[*i], "--blur")) {
        float s = *i + 1 < argc ? (float)atof(argv[*i + 1]) : 0;
        if (!(s > 0 && s <= 50)) {
            fprintf(stderr, "xfiq prepare: --blur needs a sigma in (0, 50]\n");
            return -1;
        }
        c->sigma = s;
        return ++*i, 1;
    }
    return 0;
}

int xfiq_cmd_prepare(int argc, char **argv)
{
    xfiq_cli_job job;
    xfiq_cli_job_init(&job, "xfiq-out/aligned", argc);
    prep_ctx c = {.job = &job, .sigma = 2.5f};
    int pr = xfiq_cli_parse(argc, argv, "prepare", usage, &job, NULL, prep_opt, &c);
    if (pr)
        return pr > 0 ? XFIQ_EXIT_OK : XFIQ_EXIT_FATAL;
    int rc = XFIQ_EXIT_FATAL;
    job.writes_images = 1; /* an output folder holding an input is refused */
    job.all_faces_ok = 1;
    if (xfiq_cli_job_open(&job, 1))
        goto done;
    c.tmp = malloc((size_t)job.info.input_width * job.info.input_height * 3);
    c.part = malloc(strlen(job.out) + 32);
    char csv_path[4096];
    snprintf(csv_path, sizeof csv_path, "%s/prepare.csv", job.out);
    if (!c.tmp || !c.part || assign_stems(&c))
        goto done;
    sprintf(c.part, "%s/.xfiq-partial", job.out);
    if (mkdir(c.part, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "xfiq prepare: cannot create %s: %s\n", c.part, strerror(errno));
        goto done;
    }
    if (xfiq_afile_open(&c.csv, csv_path) != XFIQ_OK) {
        fprintf(stderr, "xfiq prepare: %s\n", xfiq_last_error());
        goto done;
    }
    fprintf(c.csv.fp, "index,path,output,status,message\n");
    char lm_path[4096];
    snprintf(lm_path, sizeof lm_path, "%s/landmarks.txt", job.out);
    if (job.detect) {
        if (xfiq_afile_open(&c.lmf, lm_path) != XFIQ_OK) {
            fprintf(stderr, "xfiq prepare: %s\n", xfiq_last_error());
            goto done;
        }
        fprintf(c.lmf.fp, "# xfiq prepare --detect: 5 points per face in the input photo (x1 y1 ... x5 y5: eyes, "
                          "nose tip, mouth corners); `-l` reads this file\n");
    }
    xfiq_cli_batch_opts bo = xfiq_cli_job_batch_opts(&job, "prepare");
    if (xfiq_cli_run_batches(&job.paths, &bo, prep_batch, &c) != 0)
        goto done;
    /* commit: the CSV first (data synced), then every image renamed into place */
    if (xfiq_afile_finish(&c.csv) != XFIQ_OK || (job.detect && xfiq_afile_finish(&c.lmf) != XFIQ_OK)) {
        fprintf(stderr, "xfiq prepare: %s (no image was written)\n", xfiq_last_error());
        goto done;
    }
    for (size_t i = job.first; i < job.end; i++)
        for (int v = 0; v < (c.variants ? 3 : 1) + (job.all_faces ? XFIQ_CLI_MAX_FACES : 0); v++) {
            char from[4096], to[4096], suf[32];
            face_suffix(&c, v, suf);
            snprintf(from, sizeof from, "%s/%s%s.png", c.part, c.stem[i], suf);
            snprintf(to, sizeof to, "%s/%s%s.png", job.out, c.stem[i], suf);
            struct stat ls;
            if (lstat(from, &ls) != 0)
                continue; /* that input failed */
            if (lstat(to, &ls) == 0 && !S_ISREG(ls.st_mode)) {
                fprintf(stderr, "xfiq prepare: %s is a %s: not replaced\n", to, xfiq_file_kind(ls.st_mode));
                goto done;
            }
            if (rename(from, to) != 0) {
                fprintf(stderr, "xfiq prepare: cannot move %s to %s: %s\n", from, to, strerror(errno));
                goto done;
            }
        }
    /* one folder sync makes every rename above and the CSV's durable */
    if (xfiq_afile_publish(&c.csv) != XFIQ_OK || (job.detect && xfiq_afile_publish(&c.lmf) != XFIQ_OK) ||
        xfiq_dir_sync(job.out) != XFIQ_OK) {
        fprintf(stderr, "xfiq prepare: %s\n", xfiq_last_error());
        goto done;
    }
    if (!job.quiet)
        fprintf(stderr, "xfiq prepare: %zu faces -> %s (prepare.csv lists which input went where)%s\n",
                job.end - job.first - (size_t)c.failed, job.out, c.failed ? "; some inputs failed, see above" : "");
    rc = c.failed ? XFIQ_EXIT_SOME_FAILED : XFIQ_EXIT_OK;
done:
    if (c.part) { /* whatever is left of a failed run */
        for (size_t i = 0; c.stem && i < job.paths.count; i++)
            for (int v = 0; v < 3 + XFIQ_CLI_MAX_FACES; v++) {
                char from[4096], suf[32];
                if (v < 3)
                    snprintf(suf, sizeof suf, "%s", k_suffix[v]);
                else
                    snprintf(suf, sizeof suf, "_face%d", v - 2);
                snprintf(from, sizeof from, "%s/%s%s.png", c.part, c.stem[i] ? c.stem[i] : "", suf);
                if (c.stem[i])
                    unlink(from);
            }
        rmdir(c.part);
    }
    xfiq_afile_abort(&c.csv);
    xfiq_afile_abort(&c.lmf);
    for (size_t i = 0; c.stem && i < job.paths.count; i++)
        free(c.stem[i]);
    free(c.stem);
    free(c.part);
    free(c.tmp);
    xfiq_cli_job_close(&job);
    return rc;
}
