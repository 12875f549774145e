// AVX2 + FMA GEMM micro-kernel, 6 x 16 tile: 12 ymm accumulators, two B vectors per k, A
// broadcast from memory. Row counts below 6 get their own instantiation; column edges use
// masked loads/stores. Compiled with -mavx2 -mfma only in this file.
#include "cpu/gemm_config.h"
#include "cpu/gemm_pack.h"

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

// Full-width tiles use plain loads/stores; the column edge (and B read in place) uses masks.
template <int R, bool Full>
void tile(int64_t kc, const float* TN_RESTRICT Ap, const float* TN_RESTRICT Bp, int64_t ldb,
          float* C, int64_t ldc, int64_t nr, float alpha, float beta) {
    const __m256i m0 = lane_mask(nr), m1 = lane_mask(nr - 8);
    auto load = [&](const float* p, __m256i m) {
        return Full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
    };
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc), _MM_HINT_T0);
    __m256 c0[R], c1[R];
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) c0[r] = c1[r] = _mm256_setzero_ps();
    for (int64_t k = 0; k < kc; ++k) {
        const __m256 b0 = load(Bp + k * ldb, m0);
        const __m256 b1 = load(Bp + k * ldb + 8, m1);
#pragma GCC unroll 6
        for (int r = 0; r < R; ++r) {
            const __m256 a = _mm256_broadcast_ss(Ap + k * MR + r);
            c0[r] = _mm256_fmadd_ps(a, b0, c0[r]);
            c1[r] = _mm256_fmadd_ps(a, b1, c1[r]);
        }
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
        float* c = C + r * ldc;
        __m256 v0 = _mm256_mul_ps(va, c0[r]), v1 = _mm256_mul_ps(va, c1[r]);
        if (beta != 0.0f) {  // C is never read when beta == 0
            v0 = _mm256_fmadd_ps(vb, load(c, m0), v0);
            v1 = _mm256_fmadd_ps(vb, load(c + 8, m1), v1);
        }
        if (Full) {
            _mm256_storeu_ps(c, v0);
            _mm256_storeu_ps(c + 8, v1);
        } else {
            _mm256_maskstore_ps(c, m0, v0);
            _mm256_maskstore_ps(c + 8, m1, v1);
        }
    }
}

template <bool Full>
void rows(int64_t kc, const float* Ap, const float* Bp, int64_t ldb, float* C, int64_t ldc,
          int64_t mr, int64_t nr, float alpha, float beta) {
    switch (mr) {
        case 6: return tile<6, Full>(kc, Ap, Bp, ldb, C, ldc, nr, alpha, beta);
        case 5: return tile<5, Full>(kc, Ap, Bp, ldb, C, ldc, nr, alpha, beta);
        case 4: return tile<4, Full>(kc, Ap, Bp, ldb, C, ldc, nr, alpha, beta);
        case 3: return tile<3, Full>(kc, Ap, Bp, ldb, C, ldc, nr, alpha, beta);
        case 2: return tile<2, Full>(kc, Ap, Bp, ldb, C, ldc, nr, alpha, beta);
        default: return tile<1, Full>(kc, Ap, Bp, ldb, C, ldc, nr, alpha, beta);
    }
}

void ukernel(int64_t kc, const float* Ap, const float* Bp, int64_t ldb, float* C, int64_t ldc,
             int64_t mr, int64_t nr, float alpha, float beta) {
    if (nr == NR) return rows<true>(kc, Ap, Bp, ldb, C, ldc, mr, nr, alpha, beta);
    return rows<false>(kc, Ap, Bp, ldb, C, ldc, mr, nr, alpha, beta);
}

}  // namespace

const GemmKernel& gemm_kernel_avx2() {
    static const GemmKernel k{"avx2_6x16", ukernel, pack_a_tmpl<MR>, pack_b_tmpl<NR>,
                              MR, NR, MC, KC, NC, /*direct_b=*/true};
    return k;
}

}  // namespace tn
