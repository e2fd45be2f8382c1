/* fuzz_onnx.c - ONNX import: protobuf decoding, op mapping, graph checks
 * (sorting, cycles), passes and shape inference (xfiq_graph_finalize). */
#include <stdint.h>
#include <stddef.h>

#include "graph/graph.h"
#include "onnx/onnx_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xfiq_graph g;
    if (xfiq_onnx_import_memory(data, size, "fuzz.onnx", &g) == XFIQ_OK)
        xfiq_graph_free(&g);
    return 0;
}
