/* eval_util.c - growable arrays, radix sorts, numpy-compatible grids and a
 * string hash map for the evaluation suite. */
#include "eval/eval_util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

xfiq_status xfiq_grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return XFIQ_OK;
    size_t nc = *cap ? *cap : 16;
    while (nc < need)
        nc *= 2;
    void *p = realloc(*buf, nc * elem);
    if (!p)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory growing an array to %zu elements", nc);
    *buf = p;
    *cap = nc;
    return XFIQ_OK;
}

/* 11-bit digits: 6 passes cover 64 bits; passes where every key has the
 * same digit are skipped, which removes most of them for scores in a
 * narrow range. */
#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_PASSES 6

static void radix_histograms(const uint64_t *keys, size_t n, uint32_t (*hist)[RADIX_SIZE])
{
    memset(hist, 0, sizeof(uint32_t) * RADIX_SIZE * RADIX_PASSES);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = keys[i];
        for (int p = 0; p < RADIX_PASSES; p++)
            hist[p][(k >> (p * RADIX_BITS)) & (RADIX_SIZE - 1)]++;
    }
}

static int radix_pass_trivial(const uint32_t *h, size_t n)
{
    for (unsigned d = 0; d < RADIX_SIZE; d++)
        if (h[d])
            return h[d] == n;
    return 1;
}

static void small_sort_u64(uint64_t *k, uint32_t *pay, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t v = k[i];
        uint32_t pv = pay ? pay[i] : 0;
        size_t j = i;
        while (j > 0 && k[j - 1] > v) {
            k[j] = k[j - 1];
            if (pay)
                pay[j] = pay[j - 1];
            j--;
        }
        k[j] = v;
        if (pay)
            pay[j] = pv;
    }
}

static void radix_sort_impl(uint64_t *keys, uint32_t *pay, uint64_t *tmp, uint32_t *tmp_pay,
                            size_t n)
{
    if (n < 64) {
        small_sort_u64(keys, pay, n);
        return;
    }
    uint32_t(*hist)[RADIX_SIZE] = malloc(sizeof(uint32_t) * RADIX_SIZE * RADIX_PASSES);
    if (!hist) { /* fall back to an allocation-free (slow) sort */
        small_sort_u64(keys, pay, n);
        return;
    }
    radix_histograms(keys, n, hist);
    uint64_t *src = keys, *dst = tmp;
    uint32_t *psrc = pay, *pdst = tmp_pay;
    for (int p = 0; p < RADIX_PASSES; p++) {
        uint32_t *h = hist[p];
        if (radix_pass_trivial(h, n))
            continue;
        uint32_t sum = 0;
        for (unsigned d = 0; d < RADIX_SIZE; d++) {
            uint32_t c = h[d];
            h[d] = sum;
            sum += c;
        }
        int shift = p * RADIX_BITS;
        for (size_t i = 0; i < n; i++) {
            uint32_t pos = h[(src[i] >> shift) & (RADIX_SIZE - 1)]++;
            dst[pos] = src[i];
            if (pay)
                pdst[pos] = psrc[i];
        }
        uint64_t *t = src;
        src = dst;
        dst = t;
        uint32_t *tp = psrc;
        psrc = pdst;
        pdst = tp;
    }
    if (src != keys) {
        memcpy(keys, src, n * sizeof(uint64_t));
        if (pay)
            memcpy(pay, psrc, n * sizeof(uint32_t));
    }
    free(hist);
}

void xfiq_radix_sort_u64(uint64_t *keys, uint64_t *tmp, size_t n)
{
    radix_sort_impl(keys, NULL, tmp, NULL, n);
}

void xfiq_radix_sort_u64_pay(uint64_t *keys, uint32_t *pay, uint64_t *tmp, uint32_t *tmp_pay,
                             size_t n)
{
    radix_sort_impl(keys, pay, tmp, tmp_pay, n);
}

/* numpy.linspace: y = arange(num) * step + start (or / div * delta when the
 * step underflows to 0), y[-1] = stop. Kept as two roundings on purpose:
 * a fused multiply-add would round once and move the grid by an ulp. */
double xfiq_linspace_at(double start, double stop, int num, int i)
{
    if (num <= 1)
        return start;
    if (i == num - 1)
        return stop;
    int div = num - 1;
    double delta = stop - start;
    double step = delta / div;
    volatile double prod; /* volatile: no contraction into an fma */
    if (step == 0.0)
        prod = ((double)i / div) * delta;
    else
        prod = (double)i * step;
    return prod + start;
}

static uint64_t str_hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

void xfiq_strmap_init(xfiq_strmap *m) { memset(m, 0, sizeof(*m)); }

void xfiq_strmap_free(xfiq_strmap *m)
{
    if (m->keys)
        for (size_t i = 0; i < m->cap; i++)
            free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

static int key_eq(const char *k, const char *s, size_t len)
{
    return strncmp(k, s, len) == 0 && k[len] == 0;
}

int64_t *xfiq_strmap_get(const xfiq_strmap *m, const char *key, size_t len)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = str_hash(key, len) & mask;; i = (i + 1) & mask) {
        if (!m->keys[i])
            return NULL;
        if (key_eq(m->keys[i], key, len))
            return &m->vals[i];
    }
}

static xfiq_status strmap_rehash(xfiq_strmap *m, size_t ncap)
{
    char **nk = calloc(ncap, sizeof(char *));
    int64_t *nv = calloc(ncap, sizeof(int64_t));
    if (!nk || !nv) {
        free(nk);
        free(nv);
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory growing a name table to %zu", ncap);
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = str_hash(m->keys[i], strlen(m->keys[i])) & (ncap - 1);
        while (nk[j])
            j = (j + 1) & (ncap - 1);
        nk[j] = m->keys[i];
        nv[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = nk;
    m->vals = nv;
    m->cap = ncap;
    return XFIQ_OK;
}

xfiq_status xfiq_strmap_put(xfiq_strmap *m, const char *key, size_t len, int64_t val,
                            int64_t **slot, int *added)
{
    if ((m->count + 1) * 2 > m->cap)
        XFIQ_TRY(strmap_rehash(m, m->cap ? m->cap * 2 : 64));
    size_t mask = m->cap - 1;
    size_t i = str_hash(key, len) & mask;
    for (; m->keys[i]; i = (i + 1) & mask) {
        if (key_eq(m->keys[i], key, len)) {
            if (slot)
                *slot = &m->vals[i];
            if (added)
                *added = 0;
            return XFIQ_OK;
        }
    }
    char *k = malloc(len + 1);
    if (!k)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory storing a name");
    memcpy(k, key, len);
    k[len] = 0;
    m->keys[i] = k;
    m->vals[i] = val;
    m->count++;
    if (slot)
        *slot = &m->vals[i];
    if (added)
        *added = 1;
    return XFIQ_OK;
}

int xfiq_parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s)
        return 0;
    *out = v;
    return 1;
}

int xfiq_parse_f64(const char *s, double *out)
{
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || end == s || (errno == ERANGE && fabs(v) > 1.0))
        return 0;
    *out = v;
    return 1;
}
