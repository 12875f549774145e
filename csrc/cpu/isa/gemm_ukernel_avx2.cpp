// AVX2 + FMA GEMM micro-kernel, 6 x 16 tile: 12 ymm accumulators, two B vectors per k, A
// broadcast from memory. Row counts below 6 get their own instantiation; column edges use
// masked loads/stores. Compiled with -mavx2 -mfma only in this file.
#include "cpu/gemm_config.h"

#include <immintrin.h>

namespace tn {
namespace {

using namespace gemm_config::avx2;
static_assert(NR == 16, "the tile holds two ymm vectors per row");

__m256i lane_mask(int64_t n) {  // lanes [0, n) set, n clamped to [0, 8]
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const int v = static_cast<int>(n < 0 ? 0 : n > 8 ? 8 : n);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(v), iota);
}

template <int R>
void tile(int64_t kc, const float* TN_RESTRICT Ap, const float* TN_RESTRICT Bp, float* C,
          int64_t ldc, int64_t nr, float alpha, float beta) {
    __m256 c0[R], c1[R];
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) c0[r] = c1[r] = _mm256_setzero_ps();
    for (int64_t k = 0; k < kc; ++k) {
        const __m256 b0 = _mm256_load_ps(Bp + k * NR);
        const __m256 b1 = _mm256_load_ps(Bp + k * NR + 8);
#pragma GCC unroll 6
        for (int r = 0; r < R; ++r) {
            const __m256 a = _mm256_broadcast_ss(Ap + k * MR + r);
            c0[r] = _mm256_fmadd_ps(a, b0, c0[r]);
            c1[r] = _mm256_fmadd_ps(a, b1, c1[r]);
        }
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    if (nr == NR) {
#pragma GCC unroll 6
        for (int r = 0; r < R; ++r) {
            float* c = C + r * ldc;
            __m256 v0 = _mm256_mul_ps(va, c0[r]), v1 = _mm256_mul_ps(va, c1[r]);
            if (beta != 0.0f) {  // C is never read when beta == 0
                v0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c), v0);
                v1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + 8), v1);
            }
            _mm256_storeu_ps(c, v0);
            _mm256_storeu_ps(c + 8, v1);
        }
        return;
    }
    const __m256i m0 = lane_mask(nr), m1 = lane_mask(nr - 8);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
        float* c = C + r * ldc;
        __m256 v0 = _mm256_mul_ps(va, c0[r]), v1 = _mm256_mul_ps(va, c1[r]);
        if (beta != 0.0f) {
            v0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(c, m0), v0);
            v1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(c + 8, m1), v1);
        }
        _mm256_maskstore_ps(c, m0, v0);
        _mm256_maskstore_ps(c + 8, m1, v1);
    }
}

void ukernel(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, int64_t mr,
             int64_t nr, float alpha, float beta) {
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

const GemmKernel& gemm_kernel_avx2() {
    static const GemmKernel k{"avx2_6x16", ukernel, MR, NR, MC, KC, NC};
    return k;
}

}  // namespace tn
