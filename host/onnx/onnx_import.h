/* onnx_import.h - ONNX file -> xfiq_graph (protobuf-c reader generated from ONNX's own schema). */
#ifndef XFIQ_ONNX_IMPORT_H
#define XFIQ_ONNX_IMPORT_H

#include "graph/graph.h"

/* Reads path into g (initialised here). The graph is finalised (sorted,
 * shapes inferred) but not optimised. On error g is freed and the message
 * names the file and, where it applies, the node and the reason. */
xfiq_status xfiq_onnx_import(const char *path, xfiq_graph *g);
/* Same from bytes in memory; name is used in messages. */
xfiq_status xfiq_onnx_import_memory(const uint8_t *data, size_t len, const char *name, xfiq_graph *g);

#endif
