/* pickle.h - a small strict reader for the Python pickles that insightface
 * verification sets (.bin) are: a tuple (bins, issame_list). Internal. */
#ifndef XFIQ_EVAL_PICKLE_H
#define XFIQ_EVAL_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "xfiq.h"

typedef struct xfiq_pickle_bin {
    int64_t n_images;
    const uint8_t **data; /* encoded image i: into the caller's buffer or owned[] */
    size_t *len;
    uint8_t **owned;      /* n_images: payloads that had to be converted, else NULL */
    int64_t n_labels;
    uint8_t *labels;      /* issame_list as 0/1 */
} xfiq_pickle_bin;

/* Parses buf (the whole file; it must outlive out). name: for messages.
 * Supported (protocols 0-5 as far as such files use them): PROTO, FRAME,
 * MARK, STOP, EMPTY_LIST, EMPTY_TUPLE, LIST, TUPLE, TUPLE1-3, APPEND(S),
 * BINSTRING, SHORT_BINSTRING (Python 2 str: raw bytes), BINBYTES,
 * SHORT_BINBYTES, BINBYTES8, BINUNICODE, SHORT_BINUNICODE, BINUNICODE8,
 * NEWTRUE, NEWFALSE, NONE, INT, BININT, BININT1, BININT2, BINPUT,
 * LONG_BINPUT, MEMOIZE, BINGET, LONG_BINGET, and GLOBAL / STACK_GLOBAL +
 * REDUCE only for _codecs.encode(str, 'latin1') and bytes() (how Python 3
 * writes bytes at protocol 2). Anything else (numpy arrays, dicts, ...)
 * fails with the offset and opcode. */
xfiq_status xfiq_pickle_read_bin(const uint8_t *buf, size_t len, const char *name,
                                 xfiq_pickle_bin *out);
void xfiq_pickle_bin_free(xfiq_pickle_bin *b);

#endif
