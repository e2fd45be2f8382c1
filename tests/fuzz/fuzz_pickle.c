/* fuzz_pickle.c - the insightface .bin pickle reader. */
#include <stdint.h>
#include <stddef.h>

#include "eval/pickle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xfiq_pickle_bin b;
    if (xfiq_pickle_read_bin(data, size, "fuzz.bin", &b) == XFIQ_OK)
        xfiq_pickle_bin_free(&b);
    return 0;
}
