/* npy.h - NumPy .npy files of float32: an atomic (optionally streaming)
 * writer and a strict reader. Format: NPY v1.0, descr '<f4', C order. */
#ifndef XFIQ_IO_NPY_H
#define XFIQ_IO_NPY_H

#include <stdint.h>

#include "io/afile.h"
#include "xfiq.h"

#define XFIQ_NPY_MAX_DIMS 8

typedef struct xfiq_npy {
    float *data; /* count floats, C order; malloc'ed */
    int ndim;
    int64_t shape[XFIQ_NPY_MAX_DIMS];
    int64_t count; /* product of shape (1 for ndim 0) */
} xfiq_npy;

/* Writes data (product of shape floats, C order) to path atomically. */
xfiq_status xfiq_npy_write_f32(const char *path, const float *data, int ndim,
                               const int64_t *shape);

/* Reads '<f4' (or '<f8', converted to float) C-order arrays of up to
 * XFIQ_NPY_MAX_DIMS dims, NPY versions 1.0 to 3.0. XFIQ_ERR_FORMAT naming the
 * file and the reason for: bad magic, truncated header or data, trailing
 * bytes, unparsable header, Fortran order; XFIQ_ERR_UNSUPPORTED for other
 * dtypes (named in the message). */
xfiq_status xfiq_npy_read_f32(const char *path, xfiq_npy *out);
void xfiq_npy_free(xfiq_npy *a);

/* Streaming writer for arrays whose first dimension is known only at the end
 * (e.g. embeddings of the images that decoded): rows are appended, the
 * header is rewritten with the final row count at commit. */
typedef struct xfiq_npy_writer {
    xfiq_afile af;
    int ndim;
    int64_t shape[XFIQ_NPY_MAX_DIMS]; /* shape[0] counts appended rows */
    int64_t row_len;                  /* floats per row: product of shape[1..] */
    long header_len;                  /* bytes reserved for magic + header */
} xfiq_npy_writer;

/* shape[0] is ignored (rows start at 0); ndim >= 1. */
xfiq_status xfiq_npy_writer_open(xfiq_npy_writer *w, const char *path, int ndim,
                                 const int64_t *shape);
xfiq_status xfiq_npy_writer_append(xfiq_npy_writer *w, const float *rows, int64_t nrows);
xfiq_status xfiq_npy_writer_commit(xfiq_npy_writer *w);
/* Writes the final header but leaves w->af open: commit it with others
 * (xfiq_afile_commit_set). */
xfiq_status xfiq_npy_writer_finish_header(xfiq_npy_writer *w);
void xfiq_npy_writer_abort(xfiq_npy_writer *w);

#endif
