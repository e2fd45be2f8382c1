/* batches.c - the decode-then-compute loop every image command shares.
 * With decode-ahead a loader thread decodes batch i+1 while the command's
 * callback computes batch i, so a GPU is not left idle while JPEGs are
 * decoded; the callback sees the same batches, in the same order, with the
 * same bytes either way (outputs are identical). */
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/ranks.h"

/* One batch of decoded inputs: images [s, s+k) of the list. */
typedef struct batch_slot {
    uint8_t *px;        // (bs, H, W, 3) as decoded, one slot per input
    xfiq_cli_item *it;  // (bs) outcome per input
    size_t s;
    int k, full;
} batch_slot;

typedef struct batch_loader {
    const xfiq_pathlist *paths;
    const xfiq_cli_batch_opts *o;
    size_t first, end;
    int bs, threads, stop;
    batch_slot slot[2];
    pthread_mutex_t mu;
    pthread_cond_t cv;
} batch_loader;

static void slot_fill(batch_loader *L, batch_slot *sl, size_t s)
{
    sl->s = s;
    sl->k = L->end - s < (size_t)L->bs ? (int)(L->end - s) : L->bs;
    xfiq_cli_load_faces(L->paths, s, sl->k, L->o->lms, L->o->det, L->o->width, L->o->height, L->o->allow_resize,
                        L->o->max_pixels, sl->px, sl->it, L->threads);
}

/* The loader thread: fills slot 0, 1, 0, ... as the consumer frees them. */
static void *loader_main(void *arg)
{
    batch_loader *L = arg;
    int i = 0;
    for (size_t s = L->first; s < L->end; s += (size_t)L->bs, i ^= 1) {
        batch_slot *sl = &L->slot[i];
        pthread_mutex_lock(&L->mu);
        while (sl->full && !L->stop)
            pthread_cond_wait(&L->cv, &L->mu);
        int stop = L->stop;
        pthread_mutex_unlock(&L->mu);
        if (stop)
            break;
        slot_fill(L, sl, s);
        pthread_mutex_lock(&L->mu);
        sl->full = 1;
        pthread_cond_broadcast(&L->cv);
        pthread_mutex_unlock(&L->mu);
    }
    return NULL;
}

int xfiq_cli_run_batches(const xfiq_pathlist *paths, const xfiq_cli_batch_opts *o, xfiq_cli_batch_fn cb, void *ctx)
{
    batch_loader L = {.paths = paths, .o = o, .first = o->first, .end = o->end ? o->end : paths->count};
    L.bs = o->batch > 0 ? o->batch : 32;
    L.threads = o->threads > 0 ? o->threads : omp_get_num_procs();
    size_t img = (size_t)o->width * (size_t)o->height * 3;
    int rc = 0, nslots = o->decode_ahead ? 2 : 1, started = 0;
    uint8_t *good = malloc((size_t)L.bs * img);   // (n_good, H, W, 3) the faces that decoded, packed
    uint64_t *ids = malloc((size_t)L.bs * sizeof *ids);
    int ok = good && ids;
    for (int i = 0; i < nslots; i++) {
        L.slot[i].px = malloc((size_t)L.bs * img);
        L.slot[i].it = calloc((size_t)L.bs, sizeof *L.slot[i].it);
        ok = ok && L.slot[i].px && L.slot[i].it;
    }
    pthread_mutex_init(&L.mu, NULL);
    pthread_cond_init(&L.cv, NULL);
    if (!ok) {
        fprintf(stderr, "xfiq: out of memory\n");
        rc = XFIQ_EXIT_FATAL;
        goto done;
    }
    pthread_t th;
    if (nslots == 2) {
        if (pthread_create(&th, NULL, loader_main, &L) != 0) {
            nslots = 1; /* no thread to be had: decode in line */
        } else {
            started = 1;
        }
    }
    xfiq_progress prog;
    xfiq_progress_init(&prog, o->what, (long)(L.end - L.first), o->quiet);
    int i = 0;
    for (size_t s = L.first; s < L.end; s += (size_t)L.bs, i = (i + 1) % nslots) {
        batch_slot *sl = &L.slot[i];
        if (started) {
            pthread_mutex_lock(&L.mu);
            while (!sl->full)
                pthread_cond_wait(&L.cv, &L.mu);
            pthread_mutex_unlock(&L.mu);
        } else {
            slot_fill(&L, sl, s);
        }
        int k = sl->k, ng = 0;
        for (int j = 0; j < k; j++) {
            if (sl->it[j].ok) {
                ids[ng] = (uint64_t)(s + (size_t)j);
                memcpy(good + (size_t)ng++ * img, sl->px + (size_t)j * img, img);
            } else { /* -q hides progress, never failures */
                fprintf(stderr, "%sxfiq: skipped %s\n", prog.tty && !o->quiet ? "\n" : "", sl->it[j].msg);
            }
        }
        rc = cb(ctx, s, k, sl->it, good, ids, ng);
        pthread_mutex_lock(&L.mu);
        sl->full = 0;
        if (rc)
            L.stop = 1;
        pthread_cond_broadcast(&L.cv);
        pthread_mutex_unlock(&L.mu);
        if (rc)
            break;
        xfiq_progress_update(&prog, (long)(s + (size_t)k - L.first));
        xfiq_ranks_test_hook();
    }
    if (!rc)
        xfiq_progress_finish(&prog);
    if (started)
        pthread_join(th, NULL);
done:
    pthread_cond_destroy(&L.cv);
    pthread_mutex_destroy(&L.mu);
    for (int j = 0; j < 2; j++) {
        free(L.slot[j].px);
        free(L.slot[j].it);
    }
    free(good);
    free(ids);
    return rc;
}
