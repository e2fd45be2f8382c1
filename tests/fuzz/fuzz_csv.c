/* fuzz_csv.c - the CSV benchmark reader (xfiq_bench_open, images not checked). */
#include "fuzz_util.h"
#include "xfiq_eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fuzz_write("pairs.txt", data, size);
    xfiq_bench_options o;
    xfiq_bench_options_default(&o);
    o.format = XFIQ_BENCH_CSV;
    o.check_images = 0;
    xfiq_bench_t b;
    if (xfiq_bench_open(p, &o, &b) == XFIQ_OK)
        xfiq_bench_free(b);
    return 0;
}
