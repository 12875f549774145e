// Fast 2-D max and average pooling over NCHW float32 planes, forward and backward. Same
// signatures, saved argmax (int32 h * W + w in the input plane) and gradient convention as the
// references in ref/ref.h (backward overwrites dinp, or adds to it when accumulate is true).
#pragma once
#include "core/common.h"
#include "ref/ref.h"

namespace tn {

void max_pool2d_forward(float* out, int32_t* indices, const float* inp, const Pool2d& g);
void max_pool2d_backward(float* dinp, const float* dout, const int32_t* indices, const Pool2d& g,
                         bool accumulate);
void avg_pool2d_forward(float* out, const float* inp, const Pool2d& g, bool count_include_pad,
                        int64_t divisor_override);
void avg_pool2d_backward(float* dinp, const float* dout, const Pool2d& g, bool count_include_pad,
                         int64_t divisor_override, bool accumulate);

// The four kernels of one CPU variant (pool_impl.h builds one table per variant).
struct PoolTable {
    void (*max_forward)(float*, int32_t*, const float*, const Pool2d&);
    void (*max_backward)(float*, const float*, const int32_t*, const Pool2d&, bool);
    void (*avg_forward)(float*, const float*, const Pool2d&, bool, int64_t);
    void (*avg_backward)(float*, const float*, const Pool2d&, bool, int64_t, bool);
};

}  // namespace tn
