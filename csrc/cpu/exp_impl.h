// e^x for x <= 0 as a polynomial the compiler vectorises (no libm call), shared by the kernel
// families compiled once per CPU variant (activation_impl.h, loss_impl.h). Include it after
// defining TN_ISA_NS: the functions land in tn::<variant>::(anonymous), one copy per variant.
#pragma once
#include <cstdint>
#include <cstring>

#ifndef TN_ISA_NS
#error "define TN_ISA_NS (generic, avx2 or avx512) before including cpu/exp_impl.h"
#endif

namespace tn::TN_ISA_NS {
namespace {

inline float bits_to_float(int32_t b) {
    float f;
    std::memcpy(&f, &b, sizeof f);
    return f;
}

// e^x for x <= 0 (what the activations and max-shifted softmaxes need), within 2 ulp; 0 below
// -87.3 where e^x leaves the normal range. x = n ln2 + r with |r| <= ln2/2, e^r by a degree-6
// polynomial (Cephes expf coefficients), 2^n assembled in the exponent bits. NaN stays NaN.
inline float exp_nonpositive(float x) {
    // n = round(x / ln2) by the 1.5 * 2^23 trick; its integer is read from the sum's low mantissa
    // bits instead of a float-to-int conversion, which is undefined for NaN (UBSan caught it)
    // and cost a clamp and two selects per element: NaN now simply flows through to the result.
    const float t = x < -87.3f ? -87.3f : x;
    const float magic = 12582912.0f;
    const float shifted = t * 1.44269504088896341f + magic;
    const float n = shifted - magic;
    const float r = (t - n * 0.693359375f) + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float er = p * r * r + r + 1.0f;
    uint32_t bits;
    std::memcpy(&bits, &shifted, sizeof bits);
    // bits = 0x4B400000 + n for |n| < 2^22; unsigned, so a NaN's bits shift without UB.
    const float two_n = bits_to_float(static_cast<int32_t>((bits - 0x4B400000u + 127u) << 23));
    return x < -87.3f ? 0.0f : er * two_n;
}

}  // namespace
}  // namespace tn::TN_ISA_NS
