// Portable GEMM micro-kernel (4 x 16 tile) in plain C++: the fallback on CPUs without AVX2 and
// the "generic" variant of TURBONN_CPU. Compiled with the baseline flags only.
#include "cpu/gemm_config.h"
#include "cpu/gemm_pack.h"

namespace tn {
namespace {

using namespace gemm_config::generic;

template <int R>
void tile(int64_t kc, const float* TN_RESTRICT Ap, const float* TN_RESTRICT Bp, float* C,
          int64_t ldc, int64_t nr, float alpha, float beta) {  // Bp packed: ldb == NR
    float acc[R][NR] = {};
    for (int64_t k = 0; k < kc; ++k) {
        const float* b = Bp + k * NR;
        for (int r = 0; r < R; ++r) {
            const float a = Ap[k * MR + r];
            for (int j = 0; j < NR; ++j) acc[r][j] += a * b[j];
        }
    }
    for (int r = 0; r < R; ++r) {
        float* c = C + r * ldc;
        if (beta == 0.0f)
            for (int64_t j = 0; j < nr; ++j) c[j] = alpha * acc[r][j];
        else
            for (int64_t j = 0; j < nr; ++j) c[j] = alpha * acc[r][j] + beta * c[j];
    }
}

void ukernel(int64_t kc, const float* Ap, const float* Bp, int64_t /*ldb == NR*/, float* C,
             int64_t ldc, int64_t mr, int64_t nr, float alpha, float beta) {
    switch (mr) {
        case 4: return tile<4>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        case 3: return tile<3>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        case 2: return tile<2>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        default: return tile<1>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
    }
}

}  // namespace

const GemmKernel& gemm_kernel_generic() {
    static const GemmKernel k{"generic_4x16", ukernel, pack_a_tmpl<MR>, pack_b_tmpl<NR>,
                              MR, NR, MC, KC, NC, /*direct_b=*/false};
    return k;
}

}  // namespace tn
