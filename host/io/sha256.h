/* sha256.h - SHA-256 (FIPS 180-4) of memory and of files: identifies model
 * files by content (a model card may carry its model's digest). */
#ifndef XFIQ_IO_SHA256_H
#define XFIQ_IO_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "xfiq.h"

typedef struct xfiq_sha256 {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t nbuf;
} xfiq_sha256;

void xfiq_sha256_init(xfiq_sha256 *s);
void xfiq_sha256_update(xfiq_sha256 *s, const void *data, size_t n);
/* 32-byte digest, and its 64 lowercase hex digits + NUL in hex (may be NULL). */
void xfiq_sha256_final(xfiq_sha256 *s, uint8_t digest[32], char hex[65]);
/* hex of the whole file at path; XFIQ_ERR_IO naming the file when unreadable. */
xfiq_status xfiq_sha256_file(const char *path, char hex[65]);

#endif
