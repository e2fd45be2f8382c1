/* landmarks.c - landmarks files (`path x1 y1 ... x5 y5` per line) and lookup
 * of an image's five points by path. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/path.h"
#include "io/readall.h"
#include "xfiq_image.h"

#define LANDMARKS_MAX_FILE_BYTES ((size_t)1 << 31)

typedef struct lm_entry {
    char *abs;     /* resolved absolute, normalised path (the key) */
    char *rel;     /* normalised path as written, when relative; else NULL */
    const char *base; /* basename of abs */
    int line;
    xfiq_landmarks lm;
} lm_entry;

struct xfiq_landmarks_set {
    lm_entry *e; /* sorted by abs */
    size_t n;
    size_t *by_base; /* indices into e sorted by basename */
};

size_t xfiq_landmarks_count(const xfiq_landmarks_set *set) { return set ? set->n : 0; }

void xfiq_landmarks_free(xfiq_landmarks_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++) {
        free(set->e[i].abs);
        free(set->e[i].rel);
    }
    free(set->e);
    free(set->by_base);
    free(set);
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const lm_entry *)a)->abs, ((const lm_entry *)b)->abs);
}

/* qsort has no context argument: the base array travels in a thread-local. */
static _Thread_local const lm_entry *g_sort_entries;

static int base_cmp(const void *a, const void *b)
{
    const lm_entry *e = g_sort_entries;
    return strcmp(e[*(const size_t *)a].base, e[*(const size_t *)b].base);
}

/* Parses one non-comment line into path (in place) and ten numbers. */
static xfiq_status parse_line(char *s, const char *file, int lineno, char **path, float v[10])
{
    if (*s == '"') {
        char *close = strchr(s + 1, '"');
        if (!close)
            return xfiq_error(XFIQ_ERR_FORMAT, "%s:%d: unterminated quoted path", file, lineno);
        *path = s + 1;
        *close = '\0';
        s = close + 1;
        if (*s && !isspace((unsigned char)*s))
            return xfiq_error(XFIQ_ERR_FORMAT, "%s:%d: text right after the quoted path", file, lineno);
    } else {
        *path = s;
        while (*s && !isspace((unsigned char)*s))
            s++;
        if (*s)
            *s++ = '\0';
    }
    if (!**path)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s:%d: empty path", file, lineno);
    char *tok[11];
    int nt = 0;
    for (;;) {
        while (*s && isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        if (nt < 11)
            tok[nt] = s;
        nt++;
        while (*s && !isspace((unsigned char)*s))
            s++;
        if (*s)
            *s++ = '\0';
    }
    if (nt != 10)
        return xfiq_error(XFIQ_ERR_FORMAT,
                          "%s:%d: expected a path and 10 numbers (x1 y1 ... x5 y5), found %d number%s",
                          file, lineno, nt, nt == 1 ? "" : "s");
    for (int i = 0; i < 10; i++) {
        char *end;
        errno = 0;
        double d = strtod(tok[i], &end);
        if (end == tok[i] || *end)
            return xfiq_error(XFIQ_ERR_FORMAT, "%s:%d: field %d ('%s') is not a number", file,
                              lineno, i + 2, tok[i]);
        if (!isfinite(d) || fabs(d) > 1e9)
            return xfiq_error(XFIQ_ERR_FORMAT, "%s:%d: field %d ('%s') is not a finite coordinate",
                              file, lineno, i + 2, tok[i]);
        v[i] = (float)d;
    }
    return XFIQ_OK;
}

static xfiq_status set_push(xfiq_landmarks_set *set, size_t *cap, const char *dir,
                            const char *path, int lineno, const float v[10], const char *file)
{
    if (set->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        lm_entry *ne = realloc(set->e, nc * sizeof *ne);
        if (!ne)
            return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", file);
        set->e = ne;
        *cap = nc;
    }
    lm_entry *e = &set->e[set->n];
    memset(e, 0, sizeof *e);
    char *joined = xfiq_path_join(dir, path);
    e->abs = joined ? xfiq_path_absolute(joined) : NULL;
    free(joined);
    if (path[0] != '/') {
        e->rel = strdup(path);
        if (e->rel)
            xfiq_path_normalize(e->rel);
    }
    if (!e->abs || (path[0] != '/' && !e->rel)) {
        free(e->abs);
        free(e->rel);
        return xfiq_error(XFIQ_ERR_NOMEM, "%s:%d: cannot resolve the path (out of memory or no current folder)",
                          file, lineno);
    }
    e->line = lineno;
    for (int k = 0; k < 5; k++) {
        e->lm.pt[k][0] = v[2 * k];
        e->lm.pt[k][1] = v[2 * k + 1];
    }
    set->n++;
    return XFIQ_OK;
}

xfiq_status xfiq_landmarks_load(const char *path, xfiq_landmarks_set **out)
{
    if (!out)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_landmarks_load: out is NULL");
    *out = NULL;
    uint8_t *buf;
    size_t len;
    XFIQ_TRY(xfiq_file_read_all(path, LANDMARKS_MAX_FILE_BYTES, &buf, &len));
    xfiq_landmarks_set *set = calloc(1, sizeof *set);
    char *dir = xfiq_path_dirname(path);
    if (!set || !dir) {
        free(set);
        free(dir);
        free(buf);
        return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", path);
    }
    xfiq_status st = XFIQ_OK;
    size_t cap = 0;
    char *line = (char *)buf, *bufend = (char *)buf + len;
    int lineno = 0;
    while (st == XFIQ_OK && line < bufend) {
        lineno++;
        char *nl = memchr(line, '\n', (size_t)(bufend - line));
        char *next = nl ? nl + 1 : bufend;
        char *end = nl ? nl : bufend;
        if (memchr(line, '\0', (size_t)(end - line))) {
            st = xfiq_error(XFIQ_ERR_FORMAT, "%s:%d: NUL byte: not a text file", path, lineno);
            break;
        }
        *end = '\0';
        while (end > line && isspace((unsigned char)end[-1]))
            *--end = '\0';
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        line = next;
        if (!*s || *s == '#')
            continue;
        char *p = NULL;
        float v[10];
        st = parse_line(s, path, lineno, &p, v);
        if (st == XFIQ_OK)
            st = set_push(set, &cap, dir, p, lineno, v, path);
    }
    free(dir);
    free(buf);
    if (st == XFIQ_OK && set->n) {
        qsort(set->e, set->n, sizeof *set->e, entry_cmp);
        for (size_t i = 1; i < set->n && st == XFIQ_OK; i++)
            if (strcmp(set->e[i - 1].abs, set->e[i].abs) == 0) {
                int a = set->e[i - 1].line, b = set->e[i].line;
                st = xfiq_error(XFIQ_ERR_FORMAT, "%s:%d: duplicate entry for %s (also on line %d)",
                                path, a > b ? a : b, set->e[i].abs, a < b ? a : b);
            }
        set->by_base = st == XFIQ_OK ? malloc(set->n * sizeof *set->by_base) : NULL;
        if (st == XFIQ_OK && !set->by_base)
            st = xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", path);
        if (st == XFIQ_OK) {
            for (size_t i = 0; i < set->n; i++) {
                set->e[i].base = xfiq_path_basename(set->e[i].abs);
                set->by_base[i] = i;
            }
            g_sort_entries = set->e;
            qsort(set->by_base, set->n, sizeof *set->by_base, base_cmp);
        }
    }
    if (st != XFIQ_OK) {
        xfiq_landmarks_free(set);
        return st;
    }
    *out = set;
    return XFIQ_OK;
}

/* 1 when path ends with "/" + rel (rel has no leading '/'). */
static int ends_with_component(const char *path, const char *rel)
{
    size_t a = strlen(path), b = strlen(rel);
    if (b == 0 || b >= a || strncmp(rel, "..", 2) == 0)
        return 0;
    return path[a - b - 1] == '/' && strcmp(path + a - b, rel) == 0;
}

const xfiq_landmarks *xfiq_landmarks_find(const xfiq_landmarks_set *set, const char *image_path)
{
    if (!set || !image_path || !set->n)
        return NULL;
    char *abs = xfiq_path_absolute(image_path);
    if (!abs)
        return NULL;
    const xfiq_landmarks *found = NULL;
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(set->e[mid].abs, abs);
        if (c == 0) {
            found = &set->e[mid].lm;
            break;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!found) {
        /* Entries sharing the basename are adjacent in by_base. */
        const char *base = xfiq_path_basename(abs);
        lo = 0, hi = set->n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(set->e[set->by_base[mid]].base, base) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        int matches = 0;
        for (size_t i = lo; i < set->n && strcmp(set->e[set->by_base[i]].base, base) == 0; i++) {
            const lm_entry *e = &set->e[set->by_base[i]];
            if (e->rel && ends_with_component(abs, e->rel)) {
                found = &e->lm;
                matches++;
            }
        }
        if (matches != 1)
            found = NULL;
    }
    free(abs);
    return found;
}
