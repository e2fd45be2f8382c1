/* readall.c - read a whole file into memory (images, landmark and list files). */
#define _GNU_SOURCE
#include "io/readall.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"

static int g_allow_special = -1; /* -1: not set, read $XFIQ_ALLOW_SPECIAL_INPUTS */

void xfiq_io_allow_special_inputs(int allow) { g_allow_special = allow != 0; }

int xfiq_io_special_inputs_allowed(void)
{
    if (g_allow_special < 0) {
        const char *e = getenv("XFIQ_ALLOW_SPECIAL_INPUTS");
        return e && *e && strcmp(e, "0") != 0;
    }
    return g_allow_special;
}

const char *xfiq_file_kind(mode_t m)
{
    return S_ISREG(m) ? "regular file" : S_ISDIR(m) ? "folder" : S_ISFIFO(m) ? "FIFO (named pipe)"
         : S_ISCHR(m) ? "character device" : S_ISBLK(m) ? "block device" : S_ISSOCK(m) ? "socket" : "special file";
}

FILE *xfiq_open_input(const char *path, size_t *max_len, xfiq_status *st_out)
{
    *st_out = XFIQ_OK;
    /* O_NONBLOCK: opening a FIFO with no writer must not hang before we can refuse it. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *st_out = xfiq_error(XFIQ_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        *st_out = xfiq_error(XFIQ_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        *st_out = xfiq_error(XFIQ_ERR_IO, "%s: is a folder, not a file", path);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        if (!xfiq_io_special_inputs_allowed()) {
            close(fd);
            *st_out = xfiq_error(XFIQ_ERR_IO, "%s: is a %s, not a regular file: refused (its size has no bound; "
                                 "--allow-special-inputs or XFIQ_ALLOW_SPECIAL_INPUTS=1 reads it, up to %d MiB)",
                                 path, xfiq_file_kind(st.st_mode), (int)(XFIQ_SPECIAL_INPUT_MAX >> 20));
            return NULL;
        }
        if (*max_len > XFIQ_SPECIAL_INPUT_MAX)
            *max_len = XFIQ_SPECIAL_INPUT_MAX;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        int e = errno;
        close(fd);
        *st_out = xfiq_error(XFIQ_ERR_NOMEM, "%s: cannot open: %s", path, strerror(e));
    }
    return fp;
}

xfiq_status xfiq_file_read_all(const char *path, size_t max_len, uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (!path)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_file_read_all: path is NULL");
    xfiq_status ost;
    FILE *fp = xfiq_open_input(path, &max_len, &ost);
    if (!fp)
        return ost;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        int e = errno;
        fclose(fp);
        return xfiq_error(XFIQ_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
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
