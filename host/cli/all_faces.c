/* all_faces.c - --all-faces on the image commands (embed, quality, plq,
 * calibrate): a detection pass over the job's photos turns each photo into
 * one entry per face, so every later step (batches, checkpoints, outputs)
 * sees a plain list of entries and writes one row per face, with the face's
 * number, detector score and box. (prepare keeps its own: one crop per face
 * from the loader's face list.) */
#include <stdlib.h>
#include <string.h>

#include "cli/ckpt.h"
#include "cli/cli.h"

typedef struct expand_out {
    xfiq_pathlist paths;
    xfiq_cli_face *face; // (entries)
    int *k;              // (entries) face number in its photo; -1: none found (or not decoded)
    size_t n, cap;
} expand_out;

static int push(expand_out *e, const char *path, const xfiq_cli_face *f, int k)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 256;
        xfiq_cli_face *nf = realloc(e->face, cap * sizeof *nf);
        if (nf)
            e->face = nf;
        int *nk = nf ? realloc(e->k, cap * sizeof *nk) : NULL;
        if (!nf || !nk)
            return 1;
        e->k = nk;
        e->cap = cap;
    }
    if (xfiq_pathlist_push(&e->paths, path) != XFIQ_OK)
        return 1;
    if (f)
        e->face[e->n] = *f;
    else
        memset(&e->face[e->n], 0, sizeof *e->face);
    e->k[e->n++] = k;
    return 0;
}

int xfiq_cli_expand_faces(xfiq_cli_job *j)
{
    expand_out e = {0};
    xfiq_pathlist_init(&e.paths);
    xfiq_image_load_opts lo;
    xfiq_image_load_opts_default(&lo);
    lo.max_pixels = j->max_pixels;
    xfiq_progress pr;
    xfiq_progress_init(&pr, "detect", (long)(j->end - j->first), j->quiet);
    /* Every face the detector returns (the loader's own list stops at XFIQ_CLI_MAX_FACES). */
    xfiq_face *faces = malloc(XFIQ_DETECT_MAX_FACES * sizeof *faces);
    int rc = faces ? 0 : 1;
    long photos_without = 0;
    for (size_t i = j->first; i < j->end && !rc; i++) {
        const char *path = j->paths.items[i];
        int nf = 0;
        xfiq_image img;
        /* A photo that does not decode stays one entry: the loader reports why. */
        int decoded = xfiq_image_load_ex(path, &lo, &img) == XFIQ_OK;
        if (decoded) {
            const xfiq_landmarks *lm = j->lms ? xfiq_landmarks_find(j->lms, path) : NULL;
            if (lm) { /* a landmarks entry wins over detection, as without --all-faces */
                xfiq_cli_face f = {.lm = *lm, .score = 1.0f, .box = {0, 0, (float)img.width - 1, (float)img.height - 1}};
                rc = push(&e, path, &f, 0);
                xfiq_image_free(&img);
                xfiq_progress_update(&pr, (long)(i + 1 - j->first));
                continue;
            }
            xfiq_status st = xfiq_detector_find(j->det.det, &img, XFIQ_DETECT_THRESHOLD,
                                                (xfiq_face_order)j->det.order, faces, XFIQ_DETECT_MAX_FACES, &nf);
            xfiq_image_free(&img);
            if (st != XFIQ_OK) {
                fprintf(stderr, "xfiq: --all-faces: %s\n", xfiq_last_error());
                rc = 2;
                break;
            }
        }
        photos_without += decoded && nf == 0;
        for (int k = 0; k < nf && !rc; k++) {
            xfiq_cli_face f = {.lm = faces[k].lm, .score = faces[k].score};
            memcpy(f.box, faces[k].box, sizeof f.box);
            rc = push(&e, path, &f, k);
        }
        if (nf == 0 && !rc)
            rc = push(&e, path, NULL, -1);
        xfiq_progress_update(&pr, (long)(i + 1 - j->first));
    }
    xfiq_progress_finish(&pr);
    free(faces);
    if (rc) {
        if (rc == 1)
            fprintf(stderr, "xfiq: --all-faces: out of memory\n");
        xfiq_pathlist_free(&e.paths);
        free(e.face);
        free(e.k);
        return 1;
    }
    if (!j->quiet)
        fprintf(stderr, "xfiq %s: --all-faces: %zu photos -> %zu entries (%ld without a face)\n", j->cmd,
                j->end - j->first, e.n, photos_without);
    xfiq_pathlist_free(&j->paths);
    j->paths = e.paths;
    j->entry_face = e.face;
    j->entry_k = e.k;
    j->first = 0;
    j->end = e.n;
    j->det.entry_face = e.face;
    j->det.entry_k = e.k;
    /* --resume continues only the same expansion. */
    for (size_t i = 0; i < e.n; i++)
        j->fingerprint = xfiq_ckpt_hash(j->fingerprint, &e.k[i], sizeof e.k[i]);
    return 0;
}

const char *xfiq_cli_face_header(const xfiq_cli_job *j)
{
    return j->entry_k ? ",face,det_score,box_x1,box_y1,box_x2,box_y2" : "";
}

void xfiq_cli_face_fields(FILE *f, const xfiq_cli_job *j, size_t idx)
{
    if (!j->entry_k)
        return;
    const xfiq_cli_face *fc = &j->entry_face[idx];
    if (j->entry_k[idx] < 0)
        fprintf(f, ",,,,,,");
    else
        fprintf(f, ",%d,%.6g,%.2f,%.2f,%.2f,%.2f", j->entry_k[idx] + 1, (double)fc->score, (double)fc->box[0],
                (double)fc->box[1], (double)fc->box[2], (double)fc->box[3]);
}
