/* fuzz_qcsv.c - per-image quality CSV (xfiq eval --quality) against a small
 * CSV benchmark: the input is the quality CSV. */
#include "fuzz_util.h"
#include "xfiq_eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char pairs[] = "a.jpg,b.jpg,1\nc/a.jpg,d.jpg,0\n";
    const char *bp = fuzz_write("bench.csv", (const uint8_t *)pairs, sizeof pairs - 1);
    const char *qp = fuzz_write("quality.csv", data, size);
    xfiq_bench_options o;
    xfiq_bench_options_default(&o);
    o.format = XFIQ_BENCH_CSV;
    o.check_images = 0;
    xfiq_bench_t b;
    if (xfiq_bench_open(bp, &o, &b) != XFIQ_OK)
        return 0;
    double q[8];
    (void)xfiq_quality_csv_read(qp, "serfiq", b, q);
    xfiq_bench_free(b);
    return 0;
}
