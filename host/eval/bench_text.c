/* bench_text.c - two line-based pair lists: CPLFW / CALFW ("file label" on
 * consecutive lines, two lines per pair) and the generic CSV
 * "path_a,path_b,label[,fold]" (optional header line). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "eval/bench_internal.h"
#include "io/csv.h"
#include "io/path.h"
#include "io/readall.h"

static xfiq_status add_rel_image(xfiq_bench_t b, const char *root, const char *rel, int64_t *idx)
{
    char *full = xfiq_path_join(root, rel);
    if (!full)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    xfiq_path_normalize(full);
    xfiq_status st = xfiq_bench_add_image(b, full, idx);
    free(full);
    return st;
}

static xfiq_status parse_label(const char *path, int64_t lineno, const char *tok, int *label)
{
    if (!strcmp(tok, "0") || !strcmp(tok, "1")) {
        *label = tok[0] == '1';
        return XFIQ_OK;
    }
    return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: label '%s' is not 0 or 1", path, (long long)lineno,
                      tok);
}

/* ------------------------------------------------------------ CPLFW */
typedef struct cplfw_ctx {
    xfiq_bench_t b;
    const char *path, *root;
    int file;
    int64_t lines;     /* pair lines seen */
    int64_t pend_img;  /* first image of the open pair */
    int pend_label;
    int64_t pend_line;
} cplfw_ctx;

static xfiq_status cplfw_line(void *ctx, char *line, int64_t lineno)
{
    cplfw_ctx *c = ctx;
    char *tok[3];
    int n = xfiq_tokens(line, tok, 2);
    if (n == 0)
        return XFIQ_OK;
    int64_t v;
    if (n == 2 && c->lines == 0 && lineno == 1 && !xfiq_parse_i64(tok[1], &v))
        return XFIQ_OK; /* a header such as "name same_person" */
    if (n != 2)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: expected 'file label', got %d fields", c->path,
                          (long long)lineno, n > 2 ? 3 : n);
    int label = 0;
    XFIQ_TRY(parse_label(c->path, lineno, tok[1], &label));
    int64_t img;
    XFIQ_TRY(add_rel_image(c->b, c->root, tok[0], &img));
    if (c->lines % 2 == 0) {
        c->pend_img = img;
        c->pend_label = label;
        c->pend_line = lineno;
    } else {
        if (label != c->pend_label)
            return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: label %d differs from the pair's first line %lld (label %d)",
                              c->path, (long long)lineno, label, (long long)c->pend_line, c->pend_label);
        XFIQ_TRY(xfiq_bench_add_pair(c->b, c->pend_img, img, label, 0, c->file, c->pend_line));
    }
    c->lines++;
    return XFIQ_OK;
}

/* The published files list all genuine pairs, then all impostor pairs:
 * fold = position within its class x 10 / class size, so every fold holds
 * a tenth of each class (as the .bin versions interleave them). */
static void cplfw_folds(xfiq_bench_t b)
{
    int64_t cnt[2] = {0, 0}, seen[2] = {0, 0};
    for (int64_t i = 0; i < b->n_pairs; i++)
        cnt[b->label[i]]++;
    if (cnt[0] < 10 || cnt[1] < 10) {
        b->n_folds = 0;
        return;
    }
    for (int64_t i = 0; i < b->n_pairs; i++) {
        int l = b->label[i];
        b->fold[i] = (int32_t)(seen[l]++ * 10 / cnt[l]);
    }
    b->n_folds = 10;
}

xfiq_status xfiq_bench_read_cplfw(xfiq_bench_t b, const char *path, const xfiq_bench_options *o)
{
    uint8_t *data = NULL;
    size_t len = 0;
    XFIQ_TRY(xfiq_file_read_all(path, (size_t)1 << 32, &data, &len));
    char *dir = xfiq_path_dirname(path);
    cplfw_ctx c = {.b = b, .path = path, .root = o->image_root ? o->image_root : dir};
    xfiq_status st = dir ? xfiq_bench_add_file(b, path, &c.file)
                         : xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    if (st == XFIQ_OK)
        st = xfiq_text_lines((char *)data, len, path, cplfw_line, &c);
    if (st == XFIQ_OK && c.lines == 0)
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: empty file (no pair lines)", path);
    if (st == XFIQ_OK && c.lines % 2)
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: odd number of lines: the last pair has one image",
                        path, (long long)c.pend_line);
    if (st == XFIQ_OK)
        cplfw_folds(b);
    free(dir);
    free(data);
    return st;
}

/* -------------------------------------------------------------- CSV */
typedef struct csv_ctx {
    xfiq_bench_t b;
    const char *path, *root;
    int file;
    int64_t rows;
    int with_fold; /* -1 unknown */
    int64_t *fold_raw;
    size_t fold_cap;
} csv_ctx;

static xfiq_status csv_line(void *ctx, char *line, int64_t lineno)
{
    csv_ctx *c = ctx;
    if (!line[strspn(line, " \t")])
        return XFIQ_OK;
    char where[1100];
    snprintf(where, sizeof(where), "%.1000s:%lld", c->path, (long long)lineno);
    char *f[5];
    int n = 0;
    XFIQ_TRY(xfiq_csv_split(line, f, 4, &n, where));
    if (n < 3)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: expected 'path_a,path_b,label[,fold]', got %d fields",
                          c->path, (long long)lineno, n);
    int64_t v;
    if (c->rows == 0 && c->with_fold < 0 && !xfiq_parse_i64(f[2], &v)) {
        c->with_fold = -2; /* header seen; the next row decides */
        return XFIQ_OK;
    }
    int label = 0;
    XFIQ_TRY(parse_label(c->path, lineno, f[2], &label));
    int wf = n == 4;
    if (c->with_fold < 0)
        c->with_fold = wf;
    else if (c->with_fold != wf)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: %s fold column (the first row %s one)", c->path,
                          (long long)lineno, wf ? "unexpected" : "missing", c->with_fold ? "has" : "has no");
    int64_t fold = 0;
    if (wf && (!xfiq_parse_i64(f[3], &fold) || fold < 0))
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: fold '%s' is not a non-negative integer", c->path,
                          (long long)lineno, f[3]);
    if (!f[0][0] || !f[1][0])
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: empty image path", c->path, (long long)lineno);
    int64_t ia, ib;
    XFIQ_TRY(add_rel_image(c->b, c->root, f[0], &ia));
    XFIQ_TRY(add_rel_image(c->b, c->root, f[1], &ib));
    XFIQ_TRY(xfiq_grow((void **)&c->fold_raw, &c->fold_cap, (size_t)c->rows + 1, sizeof(int64_t)));
    c->fold_raw[c->rows++] = fold;
    return xfiq_bench_add_pair(c->b, ia, ib, label, 0, c->file, lineno);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

xfiq_status xfiq_bench_read_csv(xfiq_bench_t b, const char *path, const xfiq_bench_options *o)
{
    uint8_t *data = NULL;
    size_t len = 0;
    XFIQ_TRY(xfiq_file_read_all(path, (size_t)1 << 32, &data, &len));
    char *dir = xfiq_path_dirname(path);
    csv_ctx c = {.b = b, .path = path, .root = o->image_root ? o->image_root : dir, .with_fold = -1};
    xfiq_status st = dir ? xfiq_bench_add_file(b, path, &c.file)
                         : xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    if (st == XFIQ_OK)
        st = xfiq_text_lines((char *)data, len, path, csv_line, &c);
    if (st == XFIQ_OK && c.rows == 0)
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: empty file (no pair rows)", path);
    if (st == XFIQ_OK && c.with_fold == 1) {
        /* distinct fold values, ascending, become folds 0.. */
        int64_t *u = malloc((size_t)c.rows * 8);
        if (!u)
            st = xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
        else {
            memcpy(u, c.fold_raw, (size_t)c.rows * 8);
            qsort(u, (size_t)c.rows, 8, cmp_i64);
            int64_t nu = 0;
            for (int64_t i = 0; i < c.rows; i++)
                if (!nu || u[nu - 1] != u[i])
                    u[nu++] = u[i];
            if (nu > XFIQ_MAX_FOLDS)
                st = xfiq_error(XFIQ_ERR_FORMAT, "%s: %lld distinct folds (at most %d)", path,
                                (long long)nu, XFIQ_MAX_FOLDS);
            for (int64_t i = 0; st == XFIQ_OK && i < c.rows; i++) {
                int64_t lo = 0, hi = nu - 1;
                while (lo < hi) {
                    int64_t mid = (lo + hi) / 2;
                    if (u[mid] < c.fold_raw[i])
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                b->fold[i] = (int32_t)lo;
            }
            if (st == XFIQ_OK)
                b->n_folds = nu >= 2 ? (int)nu : 0;
            free(u);
        }
    }
    free(c.fold_raw);
    free(dir);
    free(data);
    return st;
}
