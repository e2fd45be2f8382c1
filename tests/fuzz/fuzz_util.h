/* fuzz_util.h - helpers shared by the libFuzzer targets: most xfiq readers
 * take a path, so the input is written to a private temporary file first. */
#ifndef XFIQ_FUZZ_UTIL_H
#define XFIQ_FUZZ_UTIL_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A per-process scratch folder (removed at exit by the OS tmp cleaner; each
 * call overwrites the same names, so it never grows). */
static const char *fuzz_dir(void)
{
    static char dir[256];
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/xfiq-fuzz-%d", t && *t ? t : "/tmp", (int)getpid());
        mkdir(dir, 0700);
    }
    return dir;
}

/* Writes data to <fuzz_dir>/<name> and returns that path (static buffer per slot). */
static const char *fuzz_write(const char *name, const uint8_t *data, size_t len)
{
    static char paths[8][512];
    static int slot;
    char *p = paths[slot++ & 7];
    snprintf(p, 512, "%s/%s", fuzz_dir(), name);
    char *q = strrchr(p, '/');
    /* make the parent folders of name */
    for (char *s = p + strlen(fuzz_dir()) + 1; s && s < q; s = strchr(s + 1, '/')) {
        char c = *s;
        if (c != '/')
            continue;
        *s = 0;
        mkdir(p, 0700);
        *s = c;
    }
    FILE *f = fopen(p, "wb");
    if (!f)
        abort();
    if (len && fwrite(data, 1, len, f) != len)
        abort();
    fclose(f);
    return p;
}

/* Splits data at the separator "\n@@\n" into at most max parts. */
static int fuzz_split(const uint8_t *data, size_t len, const uint8_t **part, size_t *plen, int max)
{
    int n = 0;
    size_t s = 0;
    for (size_t i = 0; i + 4 <= len && n < max - 1; i++)
        if (memcmp(data + i, "\n@@\n", 4) == 0) {
            part[n] = data + s;
            plen[n++] = i - s;
            s = i + 4;
            i += 3;
        }
    part[n] = data + s;
    plen[n++] = len - s;
    for (int k = n; k < max; k++) {
        part[k] = data + len;
        plen[k] = 0;
    }
    return n;
}

#endif
