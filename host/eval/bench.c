/* bench.c - the benchmark handle: images deduplicated by name, labelled
 * pairs with the file line that defined them, format detection and the
 * accessors of the public API. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/status.h"
#include "eval/bench_internal.h"
#include "io/path.h"
#include "io/readall.h"

void xfiq_bench_options_default(xfiq_bench_options *o)
{
    memset(o, 0, sizeof(*o));
    o->format = XFIQ_BENCH_AUTO;
}

const char *xfiq_bench_format_name(xfiq_bench_format f)
{
    switch (f) {
    case XFIQ_BENCH_AUTO: return "auto";
    case XFIQ_BENCH_BIN: return "bin";
    case XFIQ_BENCH_LFW: return "lfw";
    case XFIQ_BENCH_CFP: return "cfp";
    case XFIQ_BENCH_CPLFW: return "cplfw";
    case XFIQ_BENCH_CSV: return "csv";
    case XFIQ_BENCH_FOLDERS: return "folders";
    }
    return "unknown";
}

xfiq_status xfiq_bench_new(xfiq_bench_format fmt, const char *source, xfiq_bench_t *out)
{
    xfiq_bench_t b = calloc(1, sizeof(*b));
    if (!b || !(b->source = strdup(source))) {
        free(b);
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory opening %s", source);
    }
    b->format = fmt;
    xfiq_strmap_init(&b->map);
    *out = b;
    return XFIQ_OK;
}

void xfiq_bench_free(xfiq_bench_t b)
{
    if (!b)
        return;
    for (int64_t i = 0; i < b->n_images; i++)
        free(b->names[i]);
    for (int i = 0; i < b->n_files; i++)
        free(b->files[i]);
    free(b->names);
    free(b->no_face_at);
    free(b->first_pair);
    xfiq_strmap_free(&b->map);
    xfiq_pickle_bin_free(&b->bin);
    free(b->blob);
    free(b->a);
    free(b->b);
    free(b->label);
    free(b->fold);
    free(b->file_of);
    free(b->line);
    free(b->files);
    free(b->source);
    free(b);
}

xfiq_status xfiq_bench_add_file(xfiq_bench_t b, const char *path, int *idx)
{
    char **f = realloc(b->files, (size_t)(b->n_files + 1) * sizeof(char *));
    if (!f)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    b->files = f;
    if (!(f[b->n_files] = strdup(path)))
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    *idx = b->n_files++;
    return XFIQ_OK;
}

xfiq_status xfiq_bench_add_image(xfiq_bench_t b, const char *path, int64_t *idx)
{
    int64_t *slot;
    int added;
    XFIQ_TRY(xfiq_strmap_put(&b->map, path, strlen(path), b->n_images, &slot, &added));
    if (!added) {
        *idx = *slot;
        return XFIQ_OK;
    }
    size_t cap = b->cap_images;
    XFIQ_TRY(xfiq_grow((void **)&b->names, &cap, (size_t)b->n_images + 1, sizeof(char *)));
    size_t cap2 = b->cap_images;
    XFIQ_TRY(xfiq_grow((void **)&b->first_pair, &cap2, (size_t)b->n_images + 1, sizeof(int64_t)));
    b->cap_images = cap < cap2 ? cap : cap2;
    if (!(b->names[b->n_images] = strdup(path)))
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    b->first_pair[b->n_images] = -1;
    *idx = b->n_images++;
    return XFIQ_OK;
}

xfiq_status xfiq_bench_add_pair(xfiq_bench_t b, int64_t ia, int64_t ib, int label, int fold,
                                int file, int64_t line)
{
    size_t need = (size_t)b->n_pairs + 1;
    if (need > b->cap_pairs) {
        size_t nc = b->cap_pairs ? b->cap_pairs * 2 : 1024;
        int64_t *na = realloc(b->a, nc * 8), *nb = na ? realloc(b->b, nc * 8) : NULL;
        if (na)
            b->a = na;
        if (nb)
            b->b = nb;
        uint8_t *nl = nb ? realloc(b->label, nc) : NULL;
        if (nl)
            b->label = nl;
        int32_t *nf = nl ? realloc(b->fold, nc * 4) : NULL;
        if (nf)
            b->fold = nf;
        int32_t *nfo = nf ? realloc(b->file_of, nc * 4) : NULL;
        if (nfo)
            b->file_of = nfo;
        int64_t *nli = nfo ? realloc(b->line, nc * 8) : NULL;
        if (!nli)
            return xfiq_error(XFIQ_ERR_NOMEM, "out of memory for %zu pairs", nc);
        b->line = nli;
        b->cap_pairs = nc;
    }
    int64_t k = b->n_pairs++;
    b->a[k] = ia;
    b->b[k] = ib;
    b->label[k] = (uint8_t)label;
    b->fold[k] = fold;
    b->file_of[k] = file;
    b->line[k] = line;
    if (b->first_pair[ia] < 0)
        b->first_pair[ia] = k;
    if (b->first_pair[ib] < 0)
        b->first_pair[ib] = k;
    return XFIQ_OK;
}

const char *xfiq_bench_pair_origin(xfiq_bench_t b, int64_t i)
{
    if (!b || i < 0 || i >= b->n_pairs || b->file_of[i] < 0)
        return "";
    if (b->line[i] > 0)
        snprintf(b->origin, sizeof(b->origin), "%s:%lld", b->files[b->file_of[i]],
                 (long long)b->line[i]);
    else
        snprintf(b->origin, sizeof(b->origin), "%s (pair %lld)", b->files[b->file_of[i]],
                 (long long)i);
    return b->origin;
}

xfiq_status xfiq_bench_check_images(xfiq_bench_t b)
{
    for (int64_t i = 0; i < b->n_images; i++) {
        struct stat sb;
        if (stat(b->names[i], &sb) == 0 && S_ISREG(sb.st_mode))
            continue;
        int64_t p = b->first_pair[i];
        return xfiq_error(XFIQ_ERR_IO, "%s: image '%s' not found", p >= 0 ? xfiq_bench_pair_origin(b, p) : b->source,
                          b->names[i]);
    }
    return XFIQ_OK;
}

xfiq_status xfiq_text_lines(char *text, size_t len, const char *name, xfiq_line_fn fn, void *ctx)
{
    int64_t lineno = 0;
    char *p = text, *end = text + len;
    /* old Mac line ends: '\r' alone, when no '\n' occurs at all */
    char sep = memchr(text, '\n', len) || !memchr(text, '\r', len) ? '\n' : '\r';
    while (p < end) {
        char *nl = memchr(p, sep, (size_t)(end - p));
        char *e = nl ? nl : end;
        lineno++;
        if (memchr(p, 0, (size_t)(e - p)))
            return xfiq_error(XFIQ_ERR_FORMAT, "%s:%lld: NUL byte in a text file (binary data, or UTF-16 text: "
                              "save it as UTF-8)", name ? name : "text", (long long)lineno);
        if (e > p && e[-1] == '\r')
            e[-1] = 0;
        *e = 0;
        XFIQ_TRY(fn(ctx, p, lineno));
        p = nl ? nl + 1 : end;
    }
    return XFIQ_OK;
}

int xfiq_tokens(char *line, char **tok, int max)
{
    int n = 0;
    char *p = line;
    while (*p) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        if (n == max)
            return max + 1;
        tok[n++] = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        if (*p)
            *p++ = 0;
    }
    return n;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
}

/* Guess the format: folders by their content, files by their name and
 * first meaningful line. */
static xfiq_status detect_format(const char *path, xfiq_bench_format *fmt)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return xfiq_error(XFIQ_ERR_IO, "%s: no such file or folder", path);
    if (S_ISDIR(sb.st_mode)) {
        char *p1 = xfiq_path_join(path, "Protocol/Pair_list_F.txt");
        char *p2 = xfiq_path_join(path, "Pair_list_F.txt");
        int cfp = p1 && p2 && (stat(p1, &sb) == 0 || stat(p2, &sb) == 0);
        free(p1);
        free(p2);
        *fmt = cfp ? XFIQ_BENCH_CFP : XFIQ_BENCH_FOLDERS;
        return XFIQ_OK;
    }
    if (ends_with(path, ".bin") || ends_with(path, ".pkl") || ends_with(path, ".pickle")) {
        *fmt = XFIQ_BENCH_BIN;
        return XFIQ_OK;
    }
    if (ends_with(path, ".csv")) {
        *fmt = XFIQ_BENCH_CSV;
        return XFIQ_OK;
    }
    uint8_t *data = NULL;
    size_t len = 0;
    XFIQ_TRY(xfiq_file_read_all(path, (size_t)1 << 34, &data, &len));
    *fmt = XFIQ_BENCH_LFW;
    char *line = (char *)data;
    while (*line) { /* first non-blank line */
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        char *tok[4];
        int n = xfiq_tokens(line, tok, 3);
        if (n > 0) {
            int64_t v;
            if (n == 2 && !xfiq_parse_i64(tok[0], &v))
                *fmt = XFIQ_BENCH_CPLFW;
            else if (n == 1 && strchr(tok[0], ','))
                *fmt = XFIQ_BENCH_CSV;
            break;
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    free(data);
    return XFIQ_OK;
}

xfiq_status xfiq_bench_open(const char *path, const xfiq_bench_options *opt, xfiq_bench_t *out)
{
    if (!path || !out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_bench_open: NULL argument");
    *out = NULL;
    xfiq_bench_options o;
    if (opt)
        o = *opt;
    else
        xfiq_bench_options_default(&o);
    xfiq_bench_format fmt = o.format;
    if (fmt == XFIQ_BENCH_AUTO)
        XFIQ_TRY(detect_format(path, &fmt));
    xfiq_bench_t b = NULL;
    XFIQ_TRY(xfiq_bench_new(fmt, path, &b));
    xfiq_status st;
    switch (fmt) {
    case XFIQ_BENCH_BIN: st = xfiq_bench_read_bin(b, path, &o); break;
    case XFIQ_BENCH_LFW: st = xfiq_bench_read_lfw(b, path, &o); break;
    case XFIQ_BENCH_CFP: st = xfiq_bench_read_cfp(b, path, &o); break;
    case XFIQ_BENCH_CPLFW: st = xfiq_bench_read_cplfw(b, path, &o); break;
    case XFIQ_BENCH_CSV: st = xfiq_bench_read_csv(b, path, &o); break;
    case XFIQ_BENCH_FOLDERS: st = xfiq_bench_read_folders(b, path, &o); break;
    default: st = xfiq_error(XFIQ_ERR_ARG, "unknown benchmark format %d", (int)fmt);
    }
    if (st == XFIQ_OK && b->n_pairs == 0)
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: no pairs in the file", path);
    if (st == XFIQ_OK && o.check_images && fmt != XFIQ_BENCH_BIN)
        st = xfiq_bench_check_images(b);
    if (st != XFIQ_OK) {
        xfiq_bench_free(b);
        return st;
    }
    *out = b;
    return XFIQ_OK;
}

xfiq_bench_format xfiq_bench_get_format(xfiq_bench_t b) { return b->format; }
int64_t xfiq_bench_num_pairs(xfiq_bench_t b) { return b->n_pairs; }
int64_t xfiq_bench_num_images(xfiq_bench_t b) { return b->n_images; }
int xfiq_bench_num_folds(xfiq_bench_t b) { return b->n_folds; }

const char *xfiq_bench_fold_note(xfiq_bench_t b) { return b->fold_note; }

void xfiq_bench_pairs(xfiq_bench_t b, const int64_t **ia, const int64_t **ib,
                      const uint8_t **labels, const int32_t **folds)
{
    if (ia)
        *ia = b->a;
    if (ib)
        *ib = b->b;
    if (labels)
        *labels = b->label;
    if (folds)
        *folds = b->n_folds ? b->fold : NULL;
}

const char *xfiq_bench_image_name(xfiq_bench_t b, int64_t i)
{
    return i >= 0 && i < b->n_images ? b->names[i] : NULL;
}

xfiq_status xfiq_bench_image_bytes(xfiq_bench_t b, int64_t i, const uint8_t **data, size_t *len)
{
    if (b->format != XFIQ_BENCH_BIN)
        return xfiq_error(XFIQ_ERR_ARG, "%s: images are files, not stored in the benchmark",
                          b->source);
    if (i < 0 || i >= b->bin.n_images)
        return xfiq_error(XFIQ_ERR_ARG, "%s: no image %lld", b->source, (long long)i);
    *data = b->bin.data[i];
    *len = b->bin.len[i];
    return XFIQ_OK;
}

xfiq_status xfiq_bench_select_folds(xfiq_bench_t b, const int *keep, int n_keep)
{
    if (!b->n_folds)
        return xfiq_error(XFIQ_ERR_ARG, "%s: the file defines no folds to select", b->source);
    for (int k = 0; k < n_keep; k++)
        if (keep[k] < 0 || keep[k] >= b->n_folds)
            return xfiq_error(XFIQ_ERR_ARG, "%s: fold %d does not exist (the file has %d)",
                              b->source, keep[k] + 1, b->n_folds);
    /* renumber the kept folds 0.. in the order given by the file */
    int map[XFIQ_MAX_FOLDS];
    for (int f = 0; f < XFIQ_MAX_FOLDS; f++)
        map[f] = -1;
    int nf = 0;
    for (int f = 0; f < b->n_folds; f++)
        for (int k = 0; k < n_keep; k++)
            if (keep[k] == f && map[f] < 0)
                map[f] = nf++;
    int64_t m = 0;
    for (int64_t i = 0; i < b->n_pairs; i++) {
        if (map[b->fold[i]] < 0)
            continue;
        b->a[m] = b->a[i];
        b->b[m] = b->b[i];
        b->label[m] = b->label[i];
        b->fold[m] = map[b->fold[i]];
        b->file_of[m] = b->file_of[i];
        b->line[m] = b->line[i];
        m++;
    }
    b->n_pairs = m;
    b->n_folds = nf;
    for (int64_t i = 0; i < b->n_images; i++)
        b->first_pair[i] = -1;
    for (int64_t i = 0; i < m; i++) {
        if (b->first_pair[b->a[i]] < 0)
            b->first_pair[b->a[i]] = i;
        if (b->first_pair[b->b[i]] < 0)
            b->first_pair[b->b[i]] = i;
    }
    return XFIQ_OK;
}
