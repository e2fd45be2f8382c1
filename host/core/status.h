/* status.h - internal error reporting: set the thread-local message and return a status. */
#ifndef XFIQ_CORE_STATUS_H
#define XFIQ_CORE_STATUS_H

#include "xfiq.h"

#if defined(__GNUC__)
#define XFIQ_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define XFIQ_PRINTF(a, b)
#endif

/* Records "fmt..." as the thread's last error and returns st. */
xfiq_status xfiq_error(xfiq_status st, const char *fmt, ...) XFIQ_PRINTF(2, 3);
/* Prefixes the current message with "prefix: " (keeps the status). */
xfiq_status xfiq_error_prefix(xfiq_status st, const char *fmt, ...) XFIQ_PRINTF(2, 3);
void xfiq_error_clear(void);

#define XFIQ_TRY(expr)                      \
    do {                                    \
        xfiq_status xfiq_try_st_ = (expr);  \
        if (xfiq_try_st_ != XFIQ_OK)        \
            return xfiq_try_st_;            \
    } while (0)

#endif
