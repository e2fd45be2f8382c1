/* compare_util.h - the max-error comparison the GPU tests share (include
 * after xfiq_test.h): max |got - ref| <= atol + rtol * max |ref|, NaN fails. */
#ifndef XFIQ_TEST_COMPARE_UTIL_H
#define XFIQ_TEST_COMPARE_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

static inline void test_compare(const char *what, const float *got, const float *ref, int64_t count, double atol,
                                double rtol)
{
    double max_ref = 0.0, max_err = 0.0;
    int64_t at = 0;
    for (int64_t i = 0; i < count; i++)
        if (fabs((double)ref[i]) > max_ref)
            max_ref = fabs((double)ref[i]);
    for (int64_t i = 0; i < count; i++) {
        double e = fabs((double)got[i] - (double)ref[i]);
        if (e > max_err || e != e) {
            max_err = e;
            at = i;
        }
    }
    double tol = atol + rtol * max_ref;
    CHECK_MSG(max_err <= tol, "%s: max error %.3g at %lld (got %.9g, want %.9g), tolerance %.3g", what, max_err,
              (long long)at, (double)got[at], (double)ref[at], tol);
    printf("  %-52s max err %.2e (max |ref| %.3g)\n", what, max_err, max_ref);
}

#endif
