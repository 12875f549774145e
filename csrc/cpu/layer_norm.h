// Fast layer normalisation (torch's F.layer_norm) over the last N values of each of M rows,
// forward and backward, float32. Same signatures as the references in ref/ref.h.
//
// Gradient convention: the backward overwrites dx, dweight and dbias (never accumulates) and
// skips any that is null; weight and bias may be null (no affine / no shift). The forward saves
// mean (M) and rstd (M) = 1 / sqrt(biased variance + eps) for the backward, as torch does; the
// backward recomputes xhat = (x - mean) * rstd from them. dweight and dbias are the same bits
// for any thread count: rows are summed per fixed chunk, the chunk sums added in chunk order.
// An empty row (N = 0) has mean 0 and rstd NaN (0/0 variance), as torch; NaN in, NaN out.
#pragma once
#include "core/common.h"

namespace tn {

// out (M, N), mean (M), rstd (M), x (M, N), weight and bias (N) or null
void layer_norm_forward(float* out, float* mean, float* rstd, const float* x, const float* weight,
                        const float* bias, int64_t M, int64_t N, double eps);
// dx (M, N), dweight (N), dbias (N), each or null; dout, x (M, N); mean, rstd (M); weight (N)
// or null
void layer_norm_backward(float* dx, float* dweight, float* dbias, const float* dout,
                         const float* x, const float* mean, const float* rstd,
                         const float* weight, int64_t M, int64_t N);

// ---- internals shared by layer_norm.cpp and the per-variant loops in layer_norm_impl.h ----

// The whole forward and backward of one CPU variant (rows split across threads inside).
struct LayerNormTable {
    void (*forward)(float* out, float* mean, float* rstd, const float* x, const float* weight,
                    const float* bias, int64_t M, int64_t N, double eps);
    // part: scratch of layer_norm_partial_floats(M, N) floats when dweight or dbias is wanted,
    // else null; wsum: scratch of 2 * N doubles, same condition.
    void (*backward)(float* dx, float* dweight, float* dbias, const float* dout, const float* x,
                     const float* mean, const float* rstd, const float* weight, int64_t M,
                     int64_t N, float* part, double* wsum);
};

// Rows per chunk of the backward's dweight/dbias sums: a function of M only (never of the
// thread count), so the chunk sums and their order are fixed. Small M gets one-row chunks (every
// row may go to its own thread); large M at most 256 chunks (bounded scratch).
inline int64_t layer_norm_chunk_rows(int64_t M) {
    const int64_t by_count = ceil_div(M, 256);
    const int64_t small = ceil_div(M, 16) < 16 ? ceil_div(M, 16) : 16;
    const int64_t r = by_count > small ? by_count : small;
    return r > 0 ? r : 1;
}

// Floats of the per-chunk partial sums: each chunk's dweight row then dbias row (2 * N).
inline int64_t layer_norm_partial_floats(int64_t M, int64_t N) {
    return ceil_div(M, layer_norm_chunk_rows(M)) * 2 * N;
}

}  // namespace tn
