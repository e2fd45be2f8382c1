/* fuzz_card.c - the model card (JSON) parser. */
#include "fuzz_util.h"
#include "engine/card.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fuzz_write("model.card.json", data, size);
    xfiq_card c;
    (void)xfiq_card_load(p, &c);
    return 0;
}
