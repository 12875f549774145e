// Fast embedding gather (forward) and deterministic scatter-add (backward) over float32 rows.
// Same signatures and gradient convention as the references in ref/ref.h: the backward
// overwrites dweight (never-indexed rows become 0), or adds to it when accumulate is true.
// Indices must already lie in [0, V): the binding checks them before anything is written.
#pragma once
#include "core/common.h"

namespace tn {

// out is (n, D), indices (n,), weight (V, D)
void embedding_forward(float* out, const int64_t* indices, const float* weight, int64_t n,
                       int64_t V, int64_t D);
// dweight is (V, D), dout (n, D), indices (n,); padding_idx in [0, V) or -1 for none.
void embedding_backward(float* dweight, const float* dout, const int64_t* indices, int64_t n,
                        int64_t V, int64_t D, int64_t padding_idx, bool accumulate);

}  // namespace tn
