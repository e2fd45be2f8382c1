/* stb_impl.c - the one compilation unit holding stb_image's implementation,
 * limited to JPEG, PNG and binary PGM/PPM, decoding from memory only. */
#include <stdlib.h>

#include "xfiq_image.h"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_PNM
#define STBI_NO_STDIO /* files are read by xfiq_file_read_all, with better errors */
#define STBI_NO_LINEAR
#define STBI_NO_HDR
/* Pixels are released with free() by xfiq_image_free. */
#define STBI_MALLOC(sz) malloc(sz)
#define STBI_REALLOC(p, sz) realloc(p, sz)
#define STBI_FREE(p) free(p)
#define STBI_MAX_DIMENSIONS XFIQ_IMAGE_MAX_SIDE

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
