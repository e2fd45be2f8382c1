/* fuzz_util.h - helpers shared by the libFuzzer targets: most xfiq readers
 * take a path, so the input is written to a private temporary file first. */
#ifndef XFIQ_FUZZ_UTIL_H
#define XFIQ_FUZZ_UTIL_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

static char fuzz_dir_buf[256];

static int fuzz_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void fuzz_cleanup(void)
{
    if (fuzz_dir_buf[0])
        nftw(fuzz_dir_buf, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* A per-process scratch folder, removed at exit; each call overwrites the
 * same names, so it never grows. */
static inline const char *fuzz_dir(void)
{
    if (!fuzz_dir_buf[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(fuzz_dir_buf, sizeof fuzz_dir_buf, "%s/xfiq-fuzz-%d", t && *t ? t : "/tmp", (int)getpid());
        mkdir(fuzz_dir_buf, 0700);
        atexit(fuzz_cleanup);
    }
    return fuzz_dir_buf;
}

/* Writes data to <fuzz_dir>/<name> and returns that path (static buffer per slot). */
static inline const char *fuzz_write(const char *name, const uint8_t *data, size_t len)
{
    static char paths[8][512];
    static int slot;
    char *p = paths[slot++ & 7];
    snprintf(p, 512, "%s/%s", fuzz_dir(), name);
    char *q = strrchr(p, '/');
    /* make the parent folders of name */
    for (char *s = p + strlen(fuzz_dir()) + 1; s && s <= q; s = strchr(s + 1, '/')) {
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
static inline int fuzz_split(const uint8_t *data, size_t len, const uint8_t **part, size_t *plen, int max)
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
