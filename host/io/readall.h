/* readall.h - read a whole file into memory with errors that name the file. */
#ifndef XFIQ_IO_READALL_H
#define XFIQ_IO_READALL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "xfiq.h"

/* *data receives a malloc'ed copy of the file (plus one 0 byte after it, so
 * text can be parsed in place), *len its size. Files larger than max_len are
 * refused (XFIQ_ERR_FORMAT) before anything is read. XFIQ_ERR_IO when the
 * file is missing, unreadable or a folder. */
xfiq_status xfiq_file_read_all(const char *path, size_t max_len, uint8_t **data, size_t *len);

/* Inputs that are not regular files (FIFOs, /dev/zero, sockets) have no
 * size bound: every reader refuses them unless allowed here (the CLI's
 * --allow-special-inputs) or by XFIQ_ALLOW_SPECIAL_INPUTS=1 in the
 * environment; even then at most XFIQ_SPECIAL_INPUT_MAX bytes are read. */
#define XFIQ_SPECIAL_INPUT_MAX ((size_t)1 << 30)
void xfiq_io_allow_special_inputs(int allow);
int xfiq_io_special_inputs_allowed(void);
/* Opens path for reading under that policy, without blocking on a FIFO;
 * lowers *max_len for special files. NULL (and *st set, file named) on error. */
FILE *xfiq_open_input(const char *path, size_t *max_len, xfiq_status *st);
/* "regular file", "FIFO (named pipe)", "character device", ... */
const char *xfiq_file_kind(mode_t mode);

#endif
