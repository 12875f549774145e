// Reference embedding gather and scatter-add: plain loops, the oracle of cpu/embedding.cpp.
// Semantics (padding_idx, overwrite vs accumulate) are documented in ref.h.
#include "ref/ref.h"

namespace tn::ref {

void embedding_forward(float* out, const int64_t* indices, const float* weight, int64_t n,
                       int64_t V, int64_t D) {
    // out is (n, D), indices (n,), weight (V, D)
    (void)V;
    for (int64_t i = 0; i < n; ++i) {
        const float* w = weight + indices[i] * D;
        for (int64_t d = 0; d < D; ++d) out[i * D + d] = w[d];
    }
}

void embedding_backward(float* dweight, const float* dout, const int64_t* indices, int64_t n,
                        int64_t V, int64_t D, int64_t padding_idx, bool accumulate) {
    // dweight is (V, D), dout (n, D), indices (n,)
    if (!accumulate)
        for (int64_t k = 0; k < V * D; ++k) dweight[k] = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
        const int64_t r = indices[i];
        if (r == padding_idx) continue;
        for (int64_t d = 0; d < D; ++d) dweight[r * D + d] += dout[i * D + d];
    }
}

}  // namespace tn::ref
