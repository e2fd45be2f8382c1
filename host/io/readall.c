/* readall.c - read a whole file into memory (images, landmark and list files). */
#define _POSIX_C_SOURCE 200809L
#include "io/readall.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/status.h"

xfiq_status xfiq_file_read_all(const char *path, size_t max_len, uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (!path)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_file_read_all: path is NULL");
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return xfiq_error(XFIQ_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        int e = errno;
        fclose(fp);
        return xfiq_error(XFIQ_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        fclose(fp);
        return xfiq_error(XFIQ_ERR_IO, "%s: is a folder, not a file", path);
    }
    /* Regular files report their size; pipes and devices are read to the end. */
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size : 65536;
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > (uint64_t)max_len) {
        fclose(fp);
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: file of %lld bytes is larger than the limit of %zu",
                          path, (long long)st.st_size, max_len);
    }
    uint8_t *buf = malloc(cap + 1);
    if (!buf) {
        fclose(fp);
        return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory for %zu bytes", path, cap + 1);
    }
    size_t n = 0;
    for (;;) {
        if (n == cap) {
            /* Probe before growing: a file that is exactly cap bytes long is done. */
            int c = fgetc(fp);
            if (c == EOF)
                break;
            ungetc(c, fp);
            if (cap >= max_len) {
                free(buf);
                fclose(fp);
                return xfiq_error(XFIQ_ERR_FORMAT, "%s: file is larger than the limit of %zu bytes",
                                  path, max_len);
            }
            size_t ncap = cap * 2 > max_len ? max_len : cap * 2;
            if (ncap < 4096)
                ncap = 4096 < max_len ? 4096 : max_len;
            uint8_t *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                fclose(fp);
                return xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory for %zu bytes", path, ncap + 1);
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0) {
            if (ferror(fp)) {
                int e = errno;
                free(buf);
                fclose(fp);
                return xfiq_error(XFIQ_ERR_IO, "%s: read error after %zu bytes: %s", path, n,
                                  strerror(e));
            }
            break;
        }
    }
    if (ferror(fp)) {
        free(buf);
        fclose(fp);
        return xfiq_error(XFIQ_ERR_IO, "%s: read error after %zu bytes", path, n);
    }
    fclose(fp);
    buf[n] = 0;
    *data = buf;
    *len = n;
    return XFIQ_OK;
}
