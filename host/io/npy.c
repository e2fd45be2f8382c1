/* npy.c - NumPy .npy float32 writer (atomic, streaming) and strict reader. */
#define _POSIX_C_SOURCE 200809L
#include "io/npy.h"
#include "io/readall.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/status.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAX_HEADER (1 << 20)

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* ------------------------------------------------------------------ writer */

/* Builds preamble + header dict into buf; total length is a multiple of 64
 * (numpy's alignment) and at least min_total. Returns the length, or -1. */
static long npy_header_build(char *buf, size_t cap, int ndim, const int64_t *shape,
                             long min_total)
{
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < ndim; i++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%s%" PRId64, i ? ", " : "", shape[i]);
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", ndim == 1 ? "," : "");
    if (n <= 0 || (size_t)n >= sizeof dict)
        return -1;
    long total = 10 + n + 1;
    total = (total + 63) / 64 * 64;
    if (total < min_total)
        total = min_total;
    if ((size_t)total > cap || total - 10 > 65535)
        return -1;
    memcpy(buf, NPY_MAGIC, 6);
    buf[6] = 1;
    buf[7] = 0;
    long hlen = total - 10;
    buf[8] = (char)(hlen & 0xff);
    buf[9] = (char)(hlen >> 8);
    memcpy(buf + 10, dict, (size_t)n);
    memset(buf + 10 + n, ' ', (size_t)(total - 10 - n - 1));
    buf[total - 1] = '\n';
    return total;
}

xfiq_status xfiq_npy_writer_open(xfiq_npy_writer *w, const char *path, int ndim,
                                 const int64_t *shape)
{
    memset(w, 0, sizeof *w);
    if (ndim < 1 || ndim > XFIQ_NPY_MAX_DIMS)
        return xfiq_error(XFIQ_ERR_ARG, "%s: npy writer needs 1 to %d dimensions, got %d",
                          path ? path : "(null)", XFIQ_NPY_MAX_DIMS, ndim);
    w->ndim = ndim;
    w->row_len = 1;
    for (int i = 1; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] && w->row_len > INT64_MAX / 4 / shape[i]))
            return xfiq_error(XFIQ_ERR_ARG, "%s: bad npy dimension %d: %" PRId64, path, i,
                              shape[i]);
        w->shape[i] = shape[i];
        w->row_len *= shape[i];
    }
    /* Reserve room for the widest row count so the header can be rewritten
     * in place at commit. */
    int64_t widest[XFIQ_NPY_MAX_DIMS];
    memcpy(widest, w->shape, sizeof widest);
    widest[0] = INT64_MAX;
    char hdr[1024];
    w->header_len = npy_header_build(hdr, sizeof hdr, ndim, widest, 0);
    if (w->header_len < 0)
        return xfiq_error(XFIQ_ERR_INTERNAL, "%s: npy header does not fit", path);
    XFIQ_TRY(xfiq_afile_open(&w->af, path));
    /* Placeholder: rewritten with the real count at commit. */
    if (fwrite(hdr, 1, (size_t)w->header_len, w->af.fp) != (size_t)w->header_len) {
        int e = errno;
        xfiq_afile_abort(&w->af);
        return xfiq_error(XFIQ_ERR_IO, "%s: write failed: %s", path, strerror(e));
    }
    return XFIQ_OK;
}

xfiq_status xfiq_npy_writer_append(xfiq_npy_writer *w, const float *rows, int64_t nrows)
{
    if (!w->af.fp)
        return xfiq_error(XFIQ_ERR_ARG, "npy writer is not open");
    if (nrows < 0 || (w->row_len && nrows > (INT64_MAX / 4 - w->shape[0] * w->row_len) / w->row_len))
        return xfiq_error(XFIQ_ERR_ARG, "%s: bad row count %" PRId64, w->af.path, nrows);
    size_t n = (size_t)(nrows * w->row_len);
    if (host_is_little_endian()) {
        if (n && fwrite(rows, sizeof(float), n, w->af.fp) != n)
            return xfiq_error(XFIQ_ERR_IO, "%s: write failed: %s", w->af.path, strerror(errno));
    } else {
        for (size_t i = 0; i < n; i++) {
            uint8_t b[4], s[4];
            memcpy(b, &rows[i], 4);
            s[0] = b[3], s[1] = b[2], s[2] = b[1], s[3] = b[0];
            if (fwrite(s, 1, 4, w->af.fp) != 4)
                return xfiq_error(XFIQ_ERR_IO, "%s: write failed: %s", w->af.path,
                                  strerror(errno));
        }
    }
    w->shape[0] += nrows;
    return XFIQ_OK;
}

xfiq_status xfiq_npy_writer_commit(xfiq_npy_writer *w)
{
    XFIQ_TRY(xfiq_npy_writer_finish_header(w));
    return xfiq_afile_commit(&w->af);
}

xfiq_status xfiq_npy_writer_finish_header(xfiq_npy_writer *w)
{
    if (!w->af.fp)
        return xfiq_error(XFIQ_ERR_ARG, "npy writer is not open");
    char hdr[1024];
    long len = npy_header_build(hdr, sizeof hdr, w->ndim, w->shape, w->header_len);
    if (len != w->header_len) {
        xfiq_npy_writer_abort(w);
        return xfiq_error(XFIQ_ERR_INTERNAL, "npy header grew from %ld to %ld bytes",
                          w->header_len, len);
    }
    if (fseek(w->af.fp, 0, SEEK_SET) != 0 || fwrite(hdr, 1, (size_t)len, w->af.fp) != (size_t)len) {
        int e = errno;
        char *path = strdup(w->af.path);
        xfiq_npy_writer_abort(w);
        xfiq_status st = xfiq_error(XFIQ_ERR_IO, "%s: cannot rewrite the npy header: %s",
                                    path ? path : "npy", strerror(e));
        free(path);
        return st;
    }
    return XFIQ_OK;
}

void xfiq_npy_writer_abort(xfiq_npy_writer *w)
{
    xfiq_afile_abort(&w->af);
}

xfiq_status xfiq_npy_write_f32(const char *path, const float *data, int ndim,
                               const int64_t *shape)
{
    if (!path)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_npy_write_f32: path is NULL");
    if (ndim < 0 || ndim > XFIQ_NPY_MAX_DIMS)
        return xfiq_error(XFIQ_ERR_ARG, "%s: npy needs 0 to %d dimensions, got %d", path,
                          XFIQ_NPY_MAX_DIMS, ndim);
    if (ndim == 0) { /* a scalar: one float, shape () */
        int64_t one = 1;
        xfiq_npy_writer w;
        XFIQ_TRY(xfiq_npy_writer_open(&w, path, 1, &one));
        w.ndim = 0; /* the reserved header for one dim is long enough for () */
        xfiq_status st = xfiq_npy_writer_append(&w, data, 1);
        if (st != XFIQ_OK) {
            xfiq_npy_writer_abort(&w);
            return st;
        }
        return xfiq_npy_writer_commit(&w);
    }
    if (shape[0] < 0)
        return xfiq_error(XFIQ_ERR_ARG, "%s: bad npy dimension 0: %" PRId64, path, shape[0]);
    xfiq_npy_writer w;
    XFIQ_TRY(xfiq_npy_writer_open(&w, path, ndim, shape));
    xfiq_status st = xfiq_npy_writer_append(&w, data, shape[0]);
    if (st != XFIQ_OK) {
        xfiq_npy_writer_abort(&w);
        return st;
    }
    return xfiq_npy_writer_commit(&w);
}

/* ------------------------------------------------------------------ reader */

typedef struct npy_parser {
    const char *p, *end;
    const char *path;
} npy_parser;

static void npy_skip_ws(npy_parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static xfiq_status npy_bad(npy_parser *ps, const char *base, const char *what)
{
    return xfiq_error(XFIQ_ERR_FORMAT, "%s: bad npy header at offset %ld: %s", ps->path,
                      10L + (long)(ps->p - base), what);
}

static int npy_expect(npy_parser *ps, char c)
{
    npy_skip_ws(ps);
    if (ps->p < ps->end && *ps->p == c) {
        ps->p++;
        return 1;
    }
    return 0;
}

/* A Python string literal without escapes (all numpy writes). */
static int npy_string(npy_parser *ps, char *out, size_t cap)
{
    npy_skip_ws(ps);
    if (ps->p >= ps->end || (*ps->p != '\'' && *ps->p != '"'))
        return 0;
    char q = *ps->p++;
    size_t n = 0;
    while (ps->p < ps->end && *ps->p != q) {
        if (*ps->p == '\\' || n + 1 >= cap)
            return 0;
        out[n++] = *ps->p++;
    }
    if (ps->p >= ps->end)
        return 0;
    ps->p++;
    out[n] = '\0';
    return 1;
}

static int npy_word(npy_parser *ps, const char *w)
{
    npy_skip_ws(ps);
    size_t n = strlen(w);
    if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, w, n) == 0) {
        ps->p += n;
        return 1;
    }
    return 0;
}

typedef struct npy_header {
    char descr[32];
    int fortran;
    int ndim;
    int64_t shape[XFIQ_NPY_MAX_DIMS];
    int have_descr, have_fortran, have_shape;
} npy_header;

static xfiq_status npy_parse_shape(npy_parser *ps, const char *base, npy_header *h)
{
    if (!npy_expect(ps, '('))
        return npy_bad(ps, base, "shape is not a tuple");
    h->ndim = 0;
    for (;;) {
        npy_skip_ws(ps);
        if (npy_expect(ps, ')'))
            break;
        if (h->ndim == XFIQ_NPY_MAX_DIMS)
            return xfiq_error(XFIQ_ERR_UNSUPPORTED, "%s: npy array has more than %d dimensions",
                              ps->path, XFIQ_NPY_MAX_DIMS);
        int64_t v = 0;
        int digits = 0;
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
            int d = *ps->p++ - '0';
            if (v > (INT64_MAX - d) / 10)
                return npy_bad(ps, base, "dimension too large");
            v = v * 10 + d;
            digits++;
        }
        if (!digits)
            return npy_bad(ps, base, "shape entry is not a non-negative integer");
        if (ps->p < ps->end && *ps->p == 'L') /* Python 2 long */
            ps->p++;
        h->shape[h->ndim++] = v;
        if (npy_expect(ps, ','))
            continue;
        if (npy_expect(ps, ')'))
            break;
        return npy_bad(ps, base, "expected ',' or ')' in shape");
    }
    return XFIQ_OK;
}

static xfiq_status npy_parse_header(const char *text, size_t len, const char *path, npy_header *h)
{
    npy_parser ps = {text, text + len, path};
    memset(h, 0, sizeof *h);
    if (!npy_expect(&ps, '{'))
        return npy_bad(&ps, text, "header is not a dict");
    for (;;) {
        if (npy_expect(&ps, '}'))
            break;
        char key[32];
        if (!npy_string(&ps, key, sizeof key))
            return npy_bad(&ps, text, "expected a quoted key");
        if (!npy_expect(&ps, ':'))
            return npy_bad(&ps, text, "expected ':' after a key");
        if (strcmp(key, "descr") == 0) {
            if (!npy_string(&ps, h->descr, sizeof h->descr))
                return npy_bad(&ps, text, "descr is not a simple dtype string (structured arrays are not supported)");
            h->have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (npy_word(&ps, "True"))
                h->fortran = 1;
            else if (npy_word(&ps, "False"))
                h->fortran = 0;
            else
                return npy_bad(&ps, text, "fortran_order is not True or False");
            h->have_fortran = 1;
        } else if (strcmp(key, "shape") == 0) {
            XFIQ_TRY(npy_parse_shape(&ps, text, h));
            h->have_shape = 1;
        } else {
            return npy_bad(&ps, text, "unexpected key");
        }
        if (npy_expect(&ps, ','))
            continue;
        if (npy_expect(&ps, '}'))
            break;
        return npy_bad(&ps, text, "expected ',' or '}'");
    }
    npy_skip_ws(&ps);
    if (ps.p != ps.end)
        return npy_bad(&ps, text, "text after the header dict");
    if (!h->have_descr || !h->have_fortran || !h->have_shape)
        return xfiq_error(XFIQ_ERR_FORMAT, "%s: npy header lacks '%s'", path,
                          !h->have_descr ? "descr" : !h->have_fortran ? "fortran_order" : "shape");
    return XFIQ_OK;
}

static uint32_t npy_le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static xfiq_status npy_read_data(FILE *fp, const char *path, const npy_header *h, int64_t count,
                                 float *out)
{
    int little = host_is_little_endian();
    int is_f8 = strcmp(h->descr, "<f8") == 0;
    size_t item = is_f8 ? 8 : 4;
    uint8_t buf[65536];
    size_t per = sizeof buf / item;
    for (int64_t done = 0; done < count;) {
        size_t n = (size_t)(count - done) < per ? (size_t)(count - done) : per;
        if (fread(buf, item, n, fp) != n)
            return xfiq_error(XFIQ_ERR_FORMAT, "%s: truncated npy data after %" PRId64 " values",
                              path, done);
        for (size_t i = 0; i < n; i++) {
            uint8_t *b = buf + i * item;
            if (!little)
                for (size_t k = 0; k < item / 2; k++) {
                    uint8_t t = b[k];
                    b[k] = b[item - 1 - k];
                    b[item - 1 - k] = t;
                }
            if (is_f8) {
                double d;
                memcpy(&d, b, 8);
                out[done + (int64_t)i] = (float)d;
            } else {
                memcpy(&out[done + (int64_t)i], b, 4);
            }
        }
        done += (int64_t)n;
    }
    return XFIQ_OK;
}

void xfiq_npy_free(xfiq_npy *a)
{
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

xfiq_status xfiq_npy_read_f32(const char *path, xfiq_npy *out)
{
    memset(out, 0, sizeof *out);
    if (!path)
        return xfiq_error(XFIQ_ERR_ARG, "xfiq_npy_read_f32: path is NULL");
    size_t max_len = SIZE_MAX;
    xfiq_status st = XFIQ_OK;
    FILE *fp = xfiq_open_input(path, &max_len, &st);
    if (!fp)
        return st;
    char *text = NULL;
    struct stat sb;
    uint8_t pre[12];
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = xfiq_error(XFIQ_ERR_IO, "%s: is a %s, not a regular file (npy arrays are read from files only)", path,
                        xfiq_file_kind(sb.st_mode));
        goto done;
    }
    size_t got = fread(pre, 1, 8, fp);
    if (got < 6 || memcmp(pre, NPY_MAGIC, 6) != 0) {
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: not an npy file (bad magic; %lld bytes)", path,
                        (long long)sb.st_size);
        goto done;
    }
    if (got < 8) {
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: truncated npy preamble", path);
        goto done;
    }
    int major = pre[6];
    size_t lenbytes = major == 1 ? 2 : (major == 2 || major == 3) ? 4 : 0;
    if (!lenbytes) {
        st = xfiq_error(XFIQ_ERR_UNSUPPORTED, "%s: npy format version %d.%d is not supported", path,
                        major, pre[7]);
        goto done;
    }
    if (fread(pre + 8, 1, lenbytes, fp) != lenbytes) {
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: truncated npy preamble", path);
        goto done;
    }
    uint32_t hlen = lenbytes == 2 ? (uint32_t)pre[8] | (uint32_t)pre[9] << 8 : npy_le32(pre + 8);
    long data_off = (long)(8 + lenbytes + hlen);
    if (hlen > NPY_MAX_HEADER || data_off > sb.st_size) {
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: truncated npy header (%u bytes announced, file has %lld)",
                        path, hlen, (long long)sb.st_size);
        goto done;
    }
    text = malloc(hlen + 1);
    if (!text) {
        st = xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if (fread(text, 1, hlen, fp) != hlen) {
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: truncated npy header", path);
        goto done;
    }
    text[hlen] = '\0';
    npy_header h;
    st = npy_parse_header(text, hlen, path, &h);
    if (st != XFIQ_OK)
        goto done;
    if (strcmp(h.descr, "<f4") != 0 && strcmp(h.descr, "<f8") != 0) {
        st = xfiq_error(XFIQ_ERR_UNSUPPORTED,
                        "%s: npy dtype '%s' is not supported (only '<f4' and '<f8')", path, h.descr);
        goto done;
    }
    if (h.fortran) {
        int64_t big = 0;
        for (int i = 0; i < h.ndim; i++)
            big += h.shape[i] > 1;
        if (big > 1) { /* with at most one dimension > 1 both orders agree */
            st = xfiq_error(XFIQ_ERR_UNSUPPORTED,
                            "%s: npy array is in Fortran order; save it in C order", path);
            goto done;
        }
    }
    size_t item = strcmp(h.descr, "<f8") == 0 ? 8 : 4;
    int64_t count = 1;
    for (int i = 0; i < h.ndim; i++) {
        if (h.shape[i] && count > INT64_MAX / 8 / h.shape[i]) {
            st = xfiq_error(XFIQ_ERR_FORMAT, "%s: npy shape is too large", path);
            goto done;
        }
        count *= h.shape[i];
    }
    int64_t need = data_off + count * (int64_t)item;
    if ((int64_t)sb.st_size < need) {
        st = xfiq_error(XFIQ_ERR_FORMAT,
                        "%s: truncated npy data: the header promises %" PRId64
                        " values (%" PRId64 " bytes) after offset %ld, the file has %lld bytes",
                        path, count, count * (int64_t)item, data_off, (long long)sb.st_size);
        goto done;
    }
    if ((int64_t)sb.st_size > need) {
        st = xfiq_error(XFIQ_ERR_FORMAT, "%s: %" PRId64 " unexpected bytes after the npy data",
                        path, (int64_t)sb.st_size - need);
        goto done;
    }
    out->data = malloc(count ? (size_t)count * sizeof(float) : 1);
    if (!out->data) {
        st = xfiq_error(XFIQ_ERR_NOMEM, "%s: out of memory for %" PRId64 " floats", path, count);
        goto done;
    }
    st = npy_read_data(fp, path, &h, count, out->data);
    if (st != XFIQ_OK)
        goto done;
    out->ndim = h.ndim;
    memcpy(out->shape, h.shape, sizeof out->shape);
    out->count = count;
done:
    free(text);
    fclose(fp);
    if (st != XFIQ_OK)
        xfiq_npy_free(out);
    return st;
}
