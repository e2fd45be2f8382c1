/* path.c - lexical path helpers used to resolve list and landmarks entries. */
#define _POSIX_C_SOURCE 200809L
#include "io/path.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

char *xfiq_path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    while (slash > path && slash[-1] == '/')
        slash--;
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

const char *xfiq_path_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

char *xfiq_path_join(const char *dir, const char *rel)
{
    if (rel[0] == '/' || !dir || !*dir || strcmp(dir, ".") == 0)
        return strdup(rel);
    size_t a = strlen(dir), b = strlen(rel);
    char *out = malloc(a + b + 2);
    if (!out)
        return NULL;
    memcpy(out, dir, a);
    size_t k = a;
    if (a && dir[a - 1] != '/')
        out[k++] = '/';
    memcpy(out + k, rel, b + 1);
    return out;
}

void xfiq_path_normalize(char *path)
{
    /* "" stays "": writing "." would need a second byte the buffer may not have
     * (heap overflow found by fuzzing the quality CSV reader). */
    if (!path[0])
        return;
    int absolute = path[0] == '/';
    char *w = path; /* write position */
    char *r = path;
    if (absolute) {
        w++;
        r++;
    }
    char *base = w; /* components start here; ".." never pops past it */
    while (*r) {
        while (*r == '/')
            r++;
        if (!*r)
            break;
        char *end = r;
        while (*end && *end != '/')
            end++;
        size_t len = (size_t)(end - r);
        if (len == 1 && r[0] == '.') {
            r = end;
            continue;
        }
        if (len == 2 && r[0] == '.' && r[1] == '.') {
            /* Pop the previous component unless it is itself "..". */
            char *prev = w;
            if (prev > base && prev[-1] == '/')
                prev--;
            char *pstart = prev;
            while (pstart > base && pstart[-1] != '/')
                pstart--;
            int prev_is_dotdot = (prev - pstart == 2) && pstart[0] == '.' && pstart[1] == '.';
            if (prev > base && !prev_is_dotdot) {
                w = pstart;
                r = end;
                continue;
            }
            if (absolute) { /* "/.." is "/" */
                r = end;
                continue;
            }
        }
        if (w > base && w[-1] != '/')
            *w++ = '/';
        memmove(w, r, len);
        w += len;
        r = end;
    }
    if (w > base && w[-1] == '/')
        w--;
    if (w == path) {
        *w++ = '.';
    }
    *w = '\0';
}

char *xfiq_path_absolute(const char *path)
{
    char *joined;
    if (path[0] == '/') {
        joined = strdup(path);
    } else {
        char *cwd = getcwd(NULL, 0);
        if (!cwd)
            return NULL;
        joined = xfiq_path_join(cwd, path);
        free(cwd);
    }
    if (joined)
        xfiq_path_normalize(joined);
    return joined;
}

int xfiq_path_is_image(const char *path)
{
    static const char *const exts[] = {".jpg", ".jpeg", ".png", ".pgm", ".ppm", ".pnm"};
    const char *base = xfiq_path_basename(path);
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot, exts[i]) == 0)
            return 1;
    return 0;
}
