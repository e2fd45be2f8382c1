/* bench_detect.c - images/s of --detect's whole path on one photo: decode
 * once, then per iteration detection (fr_detect.onnx), 68 landmarks
 * (fr_landmark.onnx), 68 -> 5 points and the alignment to a 112x112 crop.
 * Prints one JSON line like the peers (bench/peers/README.md): img_per_s over
 * all iterations and img_per_s_median from the median iteration.
 * Usage: bench_detect DETECT.onnx LANDMARK.onnx PHOTO [--iters N] [--threads T] [--warmup W] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xfiq.h"
#include "xfiq_image.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_detect DETECT.onnx LANDMARK.onnx PHOTO [--iters N] [--threads T] [--warmup W]\n");
        return 1;
    }
    int iters = 50, threads = 2, warmup = 3;
    for (int i = 4; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--iters"))
            iters = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup"))
            warmup = atoi(argv[i + 1]);
    }
    if (iters < 1 || threads < 1 || warmup < 0) {
        fprintf(stderr, "bench_detect: --iters and --threads must be >= 1\n");
        return 1;
    }
    xfiq_backend_t be;
    xfiq_detector_t d;
    xfiq_image img;
    if (xfiq_backend_init(&be, XFIQ_BACKEND_CPU, threads) != XFIQ_OK ||
        xfiq_detector_init(be, argv[1], argv[2], &d) != XFIQ_OK || xfiq_image_load(argv[3], &img) != XFIQ_OK) {
        fprintf(stderr, "bench_detect: %s\n", xfiq_last_error());
        return 1;
    }
    uint8_t crop[112 * 112 * 3];
    double *t = malloc(sizeof(double) * (size_t)iters), total = 0;
    int faces = 0;
    for (int i = -warmup; i < iters; i++) {
        double t0 = now();
        xfiq_face f;
        int n = 0;
        if (xfiq_detector_find(d, &img, XFIQ_DETECT_THRESHOLD, XFIQ_FACES_LARGEST, &f, 1, &n) != XFIQ_OK ||
            (n == 1 && xfiq_image_prepare(&img, &f.lm, 112, 112, crop) != XFIQ_OK)) {
            fprintf(stderr, "bench_detect: %s\n", xfiq_last_error());
            return 1;
        }
        faces = n;
        if (i >= 0) {
            t[i] = now() - t0;
            total += t[i];
        }
    }
    qsort(t, (size_t)iters, sizeof *t, cmp_d);
    printf("{\"peer\": \"xfiq\", \"what\": \"detect+landmarks+align\", \"photo\": \"%s\", \"size\": \"%dx%d\", "
           "\"faces\": %d, \"threads\": %d, \"iters\": %d, \"img_per_s\": %.2f, \"img_per_s_median\": %.2f}\n",
           argv[3], img.width, img.height, faces, threads, iters, iters / total, 1.0 / t[iters / 2]);
    free(t);
    xfiq_image_free(&img);
    xfiq_detector_free(d);
    xfiq_backend_free(be);
    return 0;
}
