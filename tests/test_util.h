/* test_util.h - helpers for the engine tests: uint8 .npy reading (the
 * library's reader takes float arrays only), relative errors, paths. */
#ifndef XFIQ_TEST_UTIL_H
#define XFIQ_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Reads a C-order '|u1' .npy; returns malloc'ed data and the element count. */
static inline uint8_t *test_npy_read_u8(const char *path, size_t *count)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char pre[10];
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6)) {
        fclose(f);
        return NULL;
    }
    size_t hl = pre[6] == 1 ? (size_t)(pre[8] | pre[9] << 8) : 0;
    if (pre[6] != 1) {
        unsigned char b[2];
        if (fread(b, 1, 2, f) != 2) {
            fclose(f);
            return NULL;
        }
        hl = (size_t)(pre[8] | pre[9] << 8 | b[0] << 16 | b[1] << 24);
    }
    char *hdr = calloc(hl + 1, 1);
    if (!hdr || fread(hdr, 1, hl, f) != hl || !strstr(hdr, "'|u1'")) {
        free(hdr);
        fclose(f);
        return NULL;
    }
    size_t n = 1;
    char *p = strchr(strstr(hdr, "'shape'"), '(') + 1;
    while (*p && *p != ')') {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        n *= (size_t)v;
        p = end;
        while (*p == ',' || *p == ' ')
            p++;
    }
    free(hdr);
    uint8_t *d = malloc(n);
    if (d && fread(d, 1, n, f) != n) {
        free(d);
        d = NULL;
    }
    fclose(f);
    *count = n;
    return d;
}

/* max |a - b| / max |b|, the measure the Python side uses too. */
static inline double test_rel_err(const float *a, const float *b, size_t n)
{
    double md = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > md || isnan(d))
            md = isnan(d) ? INFINITY : d;
        if (fabs((double)b[i]) > mb)
            mb = fabs((double)b[i]);
    }
    return md / (mb > 1e-30 ? mb : 1e-30);
}

static inline int test_file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static inline const char *test_env(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

/* Small deterministic generator (xorshift64) for the op tests' shapes and data. */
static uint64_t test_rng_state = 0x9E3779B97F4A7C15ull;

static inline void test_rng_seed(uint64_t s) { test_rng_state = s; }

static inline uint32_t test_rng_u32(void)
{
    test_rng_state ^= test_rng_state << 13;
    test_rng_state ^= test_rng_state >> 7;
    test_rng_state ^= test_rng_state << 17;
    return (uint32_t)(test_rng_state >> 16);
}

static inline int test_rng_int(int lo, int hi) { return lo + (int)(test_rng_u32() % (uint32_t)(hi - lo + 1)); }

/* Uniform in [-a, a). */
static inline float test_rng_uniform(float a)
{
    return a * (2.0f * (float)(test_rng_u32() & 0xFFFFFF) / 16777216.0f - 1.0f);
}

static inline float *test_rand_buf(int64_t count, float a)
{
    float *p = malloc(sizeof(float) * (size_t)(count > 0 ? count : 1));
    for (int64_t i = 0; i < count; i++)
        p[i] = test_rng_uniform(a);
    return p;
}

/* Max over elements of |got-ref| / (1+|ref|) below 1e-4 and L2 relative
 * error below 1e-5: the tolerance of fast ops against their references. */
static inline int test_compare_ops(const float *got, const float *ref, int64_t count, const char *what)
{
    double worst = 0.0, num = 0.0, den = 0.0;
    int64_t at = 0;
    for (int64_t i = 0; i < count; i++) {
        const double e = fabs((double)got[i] - (double)ref[i]), r = e / (1.0 + fabs((double)ref[i]));
        if (!(r <= worst)) {
            worst = r;
            at = i;
        }
        num += e * e;
        den += (double)ref[i] * ref[i];
    }
    const double l2 = den > 0 ? sqrt(num / den) : sqrt(num);
    const int ok = worst < 1e-4 && l2 < 1e-5;
    if (!ok)
        fprintf(stderr, "%s: worst elementwise %.3g at %lld (%.9g vs %.9g), L2 rel %.3g\n", what, worst,
                (long long)at, (double)got[at], (double)ref[at], l2);
    return ok;
}

/* Reads a whole file into a malloc'ed buffer with a NUL after its bytes (a
 * text file comes back as a string); *len (when given) gets the byte count.
 * NULL when it cannot be read. */
static inline void *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && n > 0 && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b)
        b[n] = 0;
    if (len)
        *len = b ? (size_t)n : 0;
    return b;
}

/* Writes text to path; a test that cannot write its own fixture stops (exit 2). */
static inline void test_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

static inline double test_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
