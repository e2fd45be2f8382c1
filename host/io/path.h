/* path.h - small lexical path helpers (no file system access except getcwd). */
#ifndef XFIQ_IO_PATH_H
#define XFIQ_IO_PATH_H

#include "xfiq.h"

/* Folder part of path ("a/b.jpg" -> "a", "b.jpg" -> ".", "/b" -> "/"); malloc'ed. */
char *xfiq_path_dirname(const char *path);
/* Last component ("a/b.jpg" -> "b.jpg"); points into path. */
const char *xfiq_path_basename(const char *path);
/* rel when it is absolute (or dir is NULL/"."), else "dir/rel"; malloc'ed. */
char *xfiq_path_join(const char *dir, const char *rel);
/* Lexical normal form: repeated '/' and "." dropped, "x/.." removed where x
 * is a name (".." kept at the start of a relative path), no trailing '/';
 * "" becomes ".". In place; the result is never longer. */
void xfiq_path_normalize(char *path);
/* Absolute, normalised form of path against the current folder; malloc'ed.
 * NULL when out of memory or the current folder is unknown. */
char *xfiq_path_absolute(const char *path);
/* 1 when the file name ends in .jpg .jpeg .png .pgm .ppm .pnm (any case). */
int xfiq_path_is_image(const char *path);

#endif
