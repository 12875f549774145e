// Fast pooling entry points: the loops live in pool_impl.h, compiled here for the baseline and
// in isa/pool_avx2.cpp, isa/pool_avx512.cpp with their flags (the 2x2 stride-2 rows vectorise
// 4, 8 or 16 wide); these take the table of active_isa()'s variant.
#include "cpu/pool.h"
#include "core/dispatch.h"

#define TN_ISA_NS generic
#include "cpu/pool_impl.h"
#undef TN_ISA_NS

namespace tn {

TN_ISA_TABLE(PoolTable, pool_table)

void max_pool2d_forward(float* out, int32_t* indices, const float* inp, const Pool2d& g) {
    table().max_forward(out, indices, inp, g);
}
void max_pool2d_backward(float* dinp, const float* dout, const int32_t* indices, const Pool2d& g,
                         bool accumulate) {
    table().max_backward(dinp, dout, indices, g, accumulate);
}
void avg_pool2d_forward(float* out, const float* inp, const Pool2d& g, bool count_include_pad,
                        int64_t divisor_override) {
    table().avg_forward(out, inp, g, count_include_pad, divisor_override);
}
void avg_pool2d_backward(float* dinp, const float* dout, const Pool2d& g, bool count_include_pad,
                         int64_t divisor_override, bool accumulate) {
    table().avg_backward(dinp, dout, g, count_include_pad, divisor_override, accumulate);
}

}  // namespace tn
