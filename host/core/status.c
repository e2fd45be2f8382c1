/* status.c - thread-local last-error message behind xfiq_last_error(). */
#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define XFIQ_MSG_MAX 1024
static _Thread_local char g_msg[XFIQ_MSG_MAX];

const char *xfiq_status_string(xfiq_status s)
{
    switch (s) {
    case XFIQ_OK: return "XFIQ_OK";
    case XFIQ_ERR_ARG: return "XFIQ_ERR_ARG";
    case XFIQ_ERR_IO: return "XFIQ_ERR_IO";
    case XFIQ_ERR_FORMAT: return "XFIQ_ERR_FORMAT";
    case XFIQ_ERR_UNSUPPORTED: return "XFIQ_ERR_UNSUPPORTED";
    case XFIQ_ERR_SHAPE: return "XFIQ_ERR_SHAPE";
    case XFIQ_ERR_NOMEM: return "XFIQ_ERR_NOMEM";
    case XFIQ_ERR_BACKEND: return "XFIQ_ERR_BACKEND";
    case XFIQ_ERR_INTERNAL: return "XFIQ_ERR_INTERNAL";
    }
    return "XFIQ_ERR_UNKNOWN";
}

const char *xfiq_last_error(void) { return g_msg; }

void xfiq_error_clear(void) { g_msg[0] = '\0'; }

xfiq_status xfiq_error(xfiq_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_msg, sizeof g_msg, fmt, ap);
    va_end(ap);
    return st;
}

xfiq_status xfiq_error_prefix(xfiq_status st, const char *fmt, ...)
{
    char prefix[XFIQ_MSG_MAX / 2], old[XFIQ_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, g_msg, sizeof old);
    /* Truncation of very long chains is fine: the head names the file. */
    int n = snprintf(g_msg, sizeof g_msg, "%s: ", prefix);
    if (n > 0 && (size_t)n < sizeof g_msg)
        snprintf(g_msg + n, sizeof g_msg - (size_t)n, "%s", old);
    return st;
}
