// AVX-512 GEMM micro-kernel, 12 x 32 tile: 24 zmm accumulators, two B vectors per k, A broadcast
// from memory. Row counts below 12 get their own instantiation (skinny M stays fast); column
// edges use masked loads/stores. Compiled with -mavx512f/vl/dq/bw only in this file.
#include "cpu/gemm_config.h"

#include <immintrin.h>

namespace tn {
namespace {

using namespace gemm_config::avx512;
static_assert(NR == 32, "the tile holds two zmm vectors per row");

template <int R>
void tile(int64_t kc, const float* TN_RESTRICT Ap, const float* TN_RESTRICT Bp, float* C,
          int64_t ldc, int64_t nr, float alpha, float beta) {
    __m512 c0[R], c1[R];
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) c0[r] = c1[r] = _mm512_setzero_ps();
    for (int64_t k = 0; k < kc; ++k) {
        const __m512 b0 = _mm512_load_ps(Bp + k * NR);
        const __m512 b1 = _mm512_load_ps(Bp + k * NR + 16);
#pragma GCC unroll 12
        for (int r = 0; r < R; ++r) {
            const __m512 a = _mm512_set1_ps(Ap[k * MR + r]);
            c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);
            c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);
        }
    }
    const __mmask16 m0 = nr >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << nr) - 1);
    const __mmask16 m1 = nr >= 32 ? __mmask16(0xFFFF)
                         : nr > 16 ? __mmask16((1u << (nr - 16)) - 1) : __mmask16(0);
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
        float* c = C + r * ldc;
        __m512 v0 = _mm512_mul_ps(va, c0[r]), v1 = _mm512_mul_ps(va, c1[r]);
        if (beta != 0.0f) {  // C is never read when beta == 0
            v0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, c), v0);
            v1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, c + 16), v1);
        }
        _mm512_mask_storeu_ps(c, m0, v0);
        _mm512_mask_storeu_ps(c + 16, m1, v1);
    }
}

void ukernel(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, int64_t mr,
             int64_t nr, float alpha, float beta) {
    switch (mr) {
        case 12: return tile<12>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        case 11: return tile<11>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        case 10: return tile<10>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        case 9: return tile<9>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        case 8: return tile<8>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        case 7: return tile<7>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        case 6: return tile<6>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        case 5: return tile<5>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        case 4: return tile<4>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        case 3: return tile<3>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        case 2: return tile<2>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
        default: return tile<1>(kc, Ap, Bp, C, ldc, nr, alpha, beta);
    }
}

}  // namespace

const GemmKernel& gemm_kernel_avx512() {
    static const GemmKernel k{"avx512_12x32", ukernel, MR, NR, MC, KC, NC};
    return k;
}

}  // namespace tn
