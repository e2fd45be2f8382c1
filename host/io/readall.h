/* readall.h - read a whole file into memory with errors that name the file. */
#ifndef XFIQ_IO_READALL_H
#define XFIQ_IO_READALL_H

#include <stddef.h>
#include <stdint.h>

#include "xfiq.h"

/* *data receives a malloc'ed copy of the file (plus one 0 byte after it, so
 * text can be parsed in place), *len its size. Files larger than max_len are
 * refused (XFIQ_ERR_FORMAT) before anything is read. XFIQ_ERR_IO when the
 * file is missing, unreadable or a folder. */
xfiq_status xfiq_file_read_all(const char *path, size_t max_len, uint8_t **data, size_t *len);

#endif
