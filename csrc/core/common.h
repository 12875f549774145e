// Shared basics for every kernel: int64 sizes, restrict, alignment, a strided matrix view.
// Kernels include this and nothing from Python; bindings add the checks (csrc/bindings/checks.h).
#pragma once
#include <cstddef>
#include <cstdint>

#if defined(__GNUC__) || defined(__clang__)
#define TN_RESTRICT __restrict__
#define TN_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define TN_RESTRICT
#define TN_ALWAYS_INLINE inline
#endif

namespace tn {

// Every buffer handed to a micro-kernel is aligned to a cache line (also a full AVX-512 vector).
constexpr std::size_t kAlign = 64;

// A read-only strided 2-D view: element (i, j) is data[i * rs + j * cs], strides in elements.
// Transposes are a swap of rs and cs, so kernels never materialise a transposed copy.
struct ConstMat {
    const float* data;
    int64_t rs;
    int64_t cs;
    const float& at(int64_t i, int64_t j) const { return data[i * rs + j * cs]; }
    ConstMat t() const { return ConstMat{data, cs, rs}; }
};

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

}  // namespace tn
