/* xfiq_test.h - tiny assertion helpers shared by the C tests (no framework). */
#ifndef XFIQ_TEST_H
#define XFIQ_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define XFIQ_SKIP_CODE 77

static int xfiq_test_failures = 0;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            xfiq_test_failures++;                                                \
        }                                                                        \
    } while (0)

#define CHECK_MSG(cond, ...)                                                     \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                        \
            fprintf(stderr, "\n");                                               \
            xfiq_test_failures++;                                                \
        }                                                                        \
    } while (0)

#define CHECK_OK(expr)                                                           \
    do {                                                                         \
        xfiq_status st_ = (expr);                                                \
        if (st_ != XFIQ_OK) {                                                    \
            fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #expr,  \
                    xfiq_status_string(st_), xfiq_last_error());                 \
            xfiq_test_failures++;                                                \
        }                                                                        \
    } while (0)

#define CHECK_NEAR(a, b, tol) CHECK_MSG(fabs((double)(a) - (double)(b)) <= (tol), "%.9g vs %.9g (tol %g)", (double)(a), (double)(b), (double)(tol))

#define SKIP(...)                                                                \
    do {                                                                         \
        printf("SKIPPED: ");                                                     \
        printf(__VA_ARGS__);                                                     \
        printf("\n");                                                            \
        exit(XFIQ_SKIP_CODE);                                                    \
    } while (0)

#define TEST_END()                                                               \
    do {                                                                         \
        if (xfiq_test_failures) {                                                \
            fprintf(stderr, "FAILED: %d check(s)\n", xfiq_test_failures);       \
            return 1;                                                            \
        }                                                                        \
        printf("PASSED\n");                                                      \
        return 0;                                                                \
    } while (0)

#endif
