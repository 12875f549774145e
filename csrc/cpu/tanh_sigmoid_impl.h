// tanh and the logistic sigmoid as branch-free float code the compiler vectorises (no libm
// call), shared by the kernel families compiled once per CPU variant (activation_impl.h,
// rnn_impl.h). Include it after defining TN_ISA_NS: one copy per variant.
#pragma once
#include "cpu/exp_impl.h"

namespace tn::TN_ISA_NS {
namespace {

// tanh: an odd Taylor polynomial below |x| = 0.3 (where 1 - e^-2|x| would cancel), else
// (1 - e)/(1 + e) with e = e^-2|x| <= 0.55.
inline float tanh_fast(float x) {
    const float ax = x < 0.0f ? -x : x;
    const float x2 = x * x;
    float p = 21844.0f / 6081075.0f;
    p = p * x2 - 1382.0f / 155925.0f;
    p = p * x2 + 62.0f / 2835.0f;
    p = p * x2 - 17.0f / 315.0f;
    p = p * x2 + 2.0f / 15.0f;
    p = p * x2 - 1.0f / 3.0f;
    const float small = x + x * x2 * p;
    const float e = exp_nonpositive(-2.0f * ax);
    const float big = (1.0f - e) / (1.0f + e);
    const float r = ax < 0.3f ? small : (x < 0.0f ? -big : big);
    return x != x ? x : r;
}

inline float sigmoid_fast(float x) {
    const float e = exp_nonpositive(x < 0.0f ? x : -x);
    const float r = (x >= 0.0f ? 1.0f : e) / (1.0f + e);
    return x != x ? x : r;
}

}  // namespace
}  // namespace tn::TN_ISA_NS
