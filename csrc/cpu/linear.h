// Dense (fully connected) layer: out = inp @ weight^T + bias with torch's weight layout
// (out_features, in_features), and its backward. All three products run on our SGEMM.
// Gradient convention (as the activations): accumulate adds into dinp/dweight/dbias, else they
// are overwritten; a null gradient pointer skips that gradient entirely.
#pragma once
#include "core/common.h"

namespace tn {

// inp (M, K) and weight (N, K) are strided views; bias (N) contiguous or null; out (M, N) row-major.
void linear_forward(float* out, ConstMat inp, ConstMat weight, const float* bias, int64_t M,
                    int64_t N, int64_t K);

// dout (M, N) strided; dinp (M, K), dweight (N, K) row-major, dbias (N); any of them may be null.
void linear_backward(float* dinp, float* dweight, float* dbias, ConstMat dout, ConstMat inp,
                     ConstMat weight, int64_t M, int64_t N, int64_t K, bool accumulate);

// dbias (+)= column sums of x (M, N): each column summed in row order, so the result does not
// depend on the thread count.
void column_sum(float* dbias, ConstMat x, int64_t M, int64_t N, bool accumulate);

}  // namespace tn
