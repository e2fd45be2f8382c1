/* fuzz_npy.c - the .npy reader. */
#include "fuzz_util.h"
#include "io/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fuzz_write("a.npy", data, size);
    xfiq_npy a;
    if (xfiq_npy_read_f32(p, &a) == XFIQ_OK)
        xfiq_npy_free(&a);
    return 0;
}
