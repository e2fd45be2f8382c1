/* csv.h - RFC 4180 CSV fields: quoting on output (file names may hold commas,
 * quotes or line breaks) and the matching in-place line splitter. */
#ifndef XFIQ_IO_CSV_H
#define XFIQ_IO_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "xfiq.h"

/* 1 when s must be quoted: it holds ',', '"', CR or LF, or starts or ends
 * with a space or tab (which many readers strip). */
int xfiq_csv_needs_quotes(const char *s);
/* Writes s as one field (quoted and with '"' doubled when needed). Errors
 * show up in ferror(fp), checked when the file is committed. */
void xfiq_csv_write_field(FILE *fp, const char *s);
/* Splits one line (no line break inside, trailing CR/LF ignored) into at
 * most max_fields fields, in place: quotes are removed and "" becomes ".
 * XFIQ_ERR_FORMAT for an unterminated quote, text after a closing quote, or
 * more than max_fields fields; the message names where (where + column). */
xfiq_status xfiq_csv_split(char *line, char **fields, int max_fields, int *nfields,
                           const char *where);

#endif
