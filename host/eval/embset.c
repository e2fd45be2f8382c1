/* embset.c - an embedding matrix (.npy, N x D float32) with the names of its
 * rows, and the lookup of benchmark image paths among those names (exact,
 * else by the longest unambiguous trailing run of path components, so
 * relative and absolute spellings of one file meet). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "eval/bench_internal.h"
#include "eval/namemap.h"
#include "io/csv.h"
#include "io/npy.h"
#include "io/path.h"
#include "io/readall.h"

struct xfiq_embset {
    xfiq_npy npy;
    int64_t rows;
    int dim;
    int has_names;
    xfiq_namemap names;
};

typedef struct names_ctx {
    xfiq_embset_t e;
    const char *path;
    int csv;
    int col_path, col_index, col_status, ncols;
    int64_t next_row;
} names_ctx;

static int find_col(char **f, int n, const char *const *names)
{
    for (int i = 0; i < n; i++)
        for (int k = 0; names[k]; k++)
            if (!strcmp(f[i], names[k]))
                return i;
    return -1;
}

static xfiq_status names_line(void *ctx, char *line, int64_t lineno)
{
    names_ctx *c = ctx;
    if (!c->csv) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
            line[--n] = 0;
        if (!n)
            return XFIQ_OK;
        if (c->next_row >= c->e->rows)
            return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: more names than the %lld embedding rows",
                              c->path, (long long)lineno, (long long)c->e->rows);
        return xfiq_namemap_add(&c->e->names, line, c->next_row++);
    }
    if (!line[0])
        return XFIQ_OK;
    char where[1100];
    snprintf(where, sizeof(where), "%.1000s:%lld", c->path, (long long)lineno);
    char *f[64];
    int n = 0;
    XFIQ_TRY(xfiq_csv_split(line, f, 64, &n, where));
    if (c->col_path < 0) { /* header */
        static const char *const pn[] = {"path", "file", "filename", "image", "name", NULL};
        static const char *const rn[] = {"row", NULL};
        static const char *const in[] = {"index", NULL};
        static const char *const sn[] = {"status", NULL};
        c->col_path = find_col(f, n, pn);
        c->col_index = find_col(f, n, rn); /* `xfiq embed`: index = input, row = .npy row */
        if (c->col_index < 0)
            c->col_index = find_col(f, n, in);
        c->col_status = find_col(f, n, sn);
        c->ncols = n;
        if (c->col_path < 0)
            return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: the CSV header names no 'path' column",
                              c->path, (long long)lineno);
        return XFIQ_OK;
    }
    if (n <= c->col_path || (c->col_index >= 0 && n <= c->col_index))
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: %d fields, the header has %d", c->path,
                          (long long)lineno, n, c->ncols);
    if (c->col_status >= 0 && c->col_status < n && strcmp(f[c->col_status], "ok"))
        return XFIQ_OK; /* a failed image has no row */
    int64_t row = c->next_row;
    if (c->col_index >= 0) {
        if (!f[c->col_index][0])
            return XFIQ_OK;
        if (!xfiq_parse_i64(f[c->col_index], &row) || row < 0)
            return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: index '%s' is not a row number", c->path,
                              (long long)lineno, f[c->col_index]);
    }
    if (row >= c->e->rows)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: row %lld but the embeddings have %lld rows",
                          c->path, (long long)lineno, (long long)row, (long long)c->e->rows);
    c->next_row = row + 1;
    return xfiq_namemap_add(&c->e->names, f[c->col_path], row);
}

void xfiq_embset_free(xfiq_embset_t e)
{
    if (!e)
        return;
    xfiq_npy_free(&e->npy);
    xfiq_namemap_free(&e->names);
    free(e);
}

xfiq_status xfiq_embset_load(const char *npy_path, const char *names_path, xfiq_embset_t *out)
{
    if (!npy_path || !out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_embset_load: NULL argument");
    *out = NULL;
    xfiq_embset_t e = calloc(1, sizeof(*e));
    if (!e)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    xfiq_namemap_init(&e->names);
    xfiq_status st = xfiq_npy_read_f32(npy_path, &e->npy);
    if (st == XFIQ_OK && (e->npy.ndim != 2 || e->npy.shape[1] < 1 || e->npy.shape[1] > (1 << 20)))
        st = xfiq_error(XFIQ_ERR_SHAPE, "%s: embeddings must be a 2-D array N x D (got %d dims)",
                        npy_path, e->npy.ndim);
    if (st == XFIQ_OK) {
        e->rows = e->npy.shape[0];
        e->dim = (int)e->npy.shape[1];
    }
    if (st == XFIQ_OK && names_path) {
        uint8_t *data = NULL;
        size_t len = 0;
        st = xfiq_file_read_all(names_path, (size_t)1 << 32, &data, &len);
        size_t nl = strlen(names_path);
        names_ctx c = {.e = e, .path = names_path, .col_path = -1, .col_index = -1,
                       .col_status = -1,
                       .csv = nl >= 4 && !strcasecmp(names_path + nl - 4, ".csv")};
        if (st == XFIQ_OK)
            st = xfiq_text_lines((char *)data, len, names_path, names_line, &c);
        if (st == XFIQ_OK && !c.csv && c.next_row != e->rows)
            st = xfiq_error(XFIQ_ERR_FORMAT, "%s: %lld names for %lld embedding rows", names_path,
                            (long long)c.next_row, (long long)e->rows);
        if (st == XFIQ_OK && c.csv && c.col_path < 0)
            st = xfiq_error(XFIQ_ERR_FORMAT, "%s: empty names file", names_path);
        free(data);
        e->has_names = 1;
    }
    if (st != XFIQ_OK) {
        xfiq_embset_free(e);
        return st;
    }
    *out = e;
    return XFIQ_OK;
}

int64_t xfiq_embset_rows(xfiq_embset_t e) { return e->rows; }
int xfiq_embset_dim(xfiq_embset_t e) { return e->dim; }
const float *xfiq_embset_data(xfiq_embset_t e) { return e->npy.data; }
int xfiq_embset_has_names(xfiq_embset_t e) { return e->has_names; }

int64_t xfiq_embset_find(xfiq_embset_t e, const char *path)
{
    return e->has_names ? xfiq_namemap_find(&e->names, path) : XFIQ_NAMEMAP_ABSENT;
}

xfiq_status xfiq_embset_match(xfiq_embset_t e, xfiq_bench_t b, int64_t *rows)
{
    int64_t n = xfiq_bench_num_images(b);
    if (!e->has_names) {
        /* only a .bin fixes an image order the embeddings could follow */
        if (b->format != XFIQ_BENCH_BIN)
            return xfiq_error(XFIQ_ERR_ARG,
                              "%s: the embeddings need row names (--names: files.csv of `xfiq embed` or a list) to be matched to the benchmark's images",
                              b->source);
        if (e->rows != n)
            return xfiq_error(XFIQ_ERR_SHAPE,
                              "%lld embedding rows but the benchmark has %lld images: give the row names (--names)",
                              (long long)e->rows, (long long)n);
        for (int64_t i = 0; i < n; i++)
            rows[i] = i;
        return XFIQ_OK;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t p = b->first_pair[i];
        if (p < 0) { /* no selected pair needs it */
            rows[i] = -1;
            continue;
        }
        rows[i] = xfiq_embset_find(e, xfiq_bench_image_name(b, i));
        if (rows[i] >= 0)
            continue;
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: image '%s' %s among the embedding names",
                          p >= 0 ? xfiq_bench_pair_origin(b, p) : "benchmark",
                          xfiq_bench_image_name(b, i),
                          rows[i] == XFIQ_NAMEMAP_AMBIGUOUS ? "matches several rows" : "not found");
    }
    return XFIQ_OK;
}
