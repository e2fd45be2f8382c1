/* elem_cuda.h - includes the shared per-element headers (ops/elem.h,
 * ops/elem_bwd.h, ops/elem_half.h, ops/elem_layout.h, quality/elem_quality.h,
 * quality/philox.h, eval/elem_eval.h)
 * for the CUDA files. The shared
 * header marks its functions "static inline XFIQ_HD" with XFIQ_HD ending in
 * __forceinline__, which itself expands to __inline__: nvcc rejects the
 * doubled inline ("duplicate specifier"). Until that header drops one of the
 * two, __forceinline__ is narrowed to the attribute alone while it is read.
 * Harmless once the header is fixed. C++ (nvcc) only. */
#ifndef XFIQ_CUDA_ELEM_CUDA_H
#define XFIQ_CUDA_ELEM_CUDA_H

#pragma push_macro("__forceinline__")
#undef __forceinline__
#define __forceinline__ __attribute__((always_inline))
extern "C" {
#include "eval/elem_eval.h"
#include "ops/elem.h"
#include "ops/elem_bwd.h"
#include "ops/elem_half.h"
#include "ops/elem_layout.h"
#include "quality/elem_quality.h"
#include "quality/philox.h"
}
#pragma pop_macro("__forceinline__")

#endif
