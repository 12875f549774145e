// Portable GEMM micro-kernel (6 x 8 tile, 12 four-float accumulators) in plain C++: the fallback
// on CPUs without AVX2 and the "generic" variant of TURBONN_CPU. Baseline compiler flags only.
#include "cpu/gemm_config.h"
#include "cpu/gemm_pack.h"

#include <cstring>

namespace tn {
namespace {

using namespace gemm_config::generic;

#if defined(__GNUC__) || defined(__clang__)
// GCC/Clang vector extension: SSE2 on x86-64, NEON on AArch64, no intrinsics. Left to itself the
// vectoriser shuffled a 4 x 16 float tile across k and spilled it (8 GFLOP/s).
typedef float v4 __attribute__((vector_size(16)));
static_assert(NR == 8, "two 4-float vectors per row");

inline v4 load4(const float* p) {
    v4 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

template <int R>
void tile(int64_t kc, const float* TN_RESTRICT Ap, const float* TN_RESTRICT Bp, float* C,
          int64_t ldc, int64_t nr, float alpha, float beta) {  // Bp packed: ldb == NR
    v4 acc[R][2] = {};
    for (int64_t k = 0; k < kc; ++k) {
        const v4 b0 = load4(Bp + k * NR), b1 = load4(Bp + k * NR + 4);
        for (int r = 0; r < R; ++r) {
            const float a = Ap[k * MR + r];
            const v4 va = {a, a, a, a};
            acc[r][0] += va * b0;
            acc[r][1] += va * b1;
        }
    }
    for (int r = 0; r < R; ++r) {
        float out[NR];
        std::memcpy(out, acc[r], sizeof out);
        float* c = C + r * ldc;
        if (beta == 0.0f)
            for (int64_t j = 0; j < nr; ++j) c[j] = alpha * out[j];
        else
            for (int64_t j = 0; j < nr; ++j) c[j] = alpha * out[j] + beta * c[j];
    }
}
#else
template <int R>
void tile(int64_t kc, const float* TN_RESTRICT Ap, const float* TN_RESTRICT Bp, float* C,
          int64_t ldc, int64_t nr, float alpha, float beta) {  // Bp packed: ldb == NR
    float acc[R][NR] = {};
    for (int64_t k = 0; k < kc; ++k)
        for (int r = 0; r < R; ++r)
            for (int j = 0; j < NR; ++j) acc[r][j] += Ap[k * MR + r] * Bp[k * NR + j];
    for (int r = 0; r < R; ++r) {
        float* c = C + r * ldc;
        for (int64_t j = 0; j < nr; ++j)
            c[j] = beta == 0.0f ? alpha * acc[r][j] : alpha * acc[r][j] + beta * c[j];
    }
}
#endif

void ukernel(int64_t kc, const float* Ap, const float* Bp, int64_t /*ldb == NR*/, float* C,
             int64_t ldc, int64_t mr, int64_t nr, float alpha, float beta) {
    switch (mr) {
        case 6: return tile<6>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        case 5: return tile<5>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        case 4: return tile<4>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        case 3: return tile<3>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        case 2: return tile<2>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        default: return tile<1>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
    }
}

}  // namespace

const GemmKernel& gemm_kernel_generic() {
    static const GemmKernel k{"generic_6x8", ukernel, pack_a_tmpl<MR>, pack_b_tmpl<NR>,
                              MR, NR, MC, KC, NC, /*direct_b=*/false};
    return k;
}

}  // namespace tn
