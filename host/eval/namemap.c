/* namemap.c - file names to rows with suffix matching (see namemap.h): lets
 * "lfw/aligned/A/A_0001.jpg" find the row written for
 * "/data/lfw/aligned/A/A_0001.jpg" or "A/A_0001.jpg". */
#include "eval/namemap.h"

#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "io/path.h"

void xfiq_namemap_init(xfiq_namemap *m) { xfiq_strmap_init(&m->suffix); }

void xfiq_namemap_free(xfiq_namemap *m) { xfiq_strmap_free(&m->suffix); }

xfiq_status xfiq_namemap_add(xfiq_namemap *m, const char *name, int64_t row)
{
    char *p = strdup(name);
    if (!p)
        return xfiq_error(XFIQ_ERR_NOMEM, "out of memory");
    xfiq_path_normalize(p);
    xfiq_status st = XFIQ_OK;
    const char *s = p;
    while (st == XFIQ_OK) {
        int64_t *slot;
        int added;
        st = xfiq_strmap_put(&m->suffix, s, strlen(s), row, &slot, &added);
        if (st == XFIQ_OK && !added && *slot != row)
            *slot = XFIQ_NAMEMAP_AMBIGUOUS;
        const char *sl = strchr(s, '/');
        if (!sl)
            break;
        s = sl + 1;
    }
    free(p);
    return st;
}

int64_t xfiq_namemap_find(const xfiq_namemap *m, const char *path)
{
    if (!path)
        return XFIQ_NAMEMAP_ABSENT;
    char *p = strdup(path);
    if (!p)
        return XFIQ_NAMEMAP_ABSENT;
    xfiq_path_normalize(p);
    int64_t found = XFIQ_NAMEMAP_ABSENT;
    const char *s = p;
    for (;;) {
        int64_t *v = xfiq_strmap_get(&m->suffix, s, strlen(s));
        if (v) { /* longest run first: a unique row wins, else ambiguous */
            found = *v;
            break;
        }
        const char *sl = strchr(s, '/');
        if (!sl)
            break;
        s = sl + 1;
    }
    free(p);
    return found;
}
