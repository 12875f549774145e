// AVX-512 GEMM micro-kernel, MR x 32 tile (MR in gemm_config.h): 2 * MR zmm accumulators, two B vectors per k, A broadcast
// from memory. Row counts below MR get their own instantiation (skinny M stays fast); column
// edges use masked loads/stores. Compiled with -mavx512f/vl/dq/bw only in this file.
#include "cpu/gemm_config.h"

#include <immintrin.h>

#include <array>
#include <utility>

namespace tn {
namespace {

using namespace gemm_config::avx512;
static_assert(NR == 32, "the tile holds two zmm vectors per row");

// Rows of k before the end at which the C tile is prefetched.
constexpr int64_t kPrefetchC = 24;

// One k step of the tile: two B vectors, R broadcasts of A, 2R FMAs.
template <int R, bool Direct>
TN_ALWAYS_INLINE void step(int64_t k, const float* TN_RESTRICT Ap, const float* TN_RESTRICT Bp,
                           int64_t ldb, __mmask16 m0, __mmask16 m1, __m512 (&c0)[R],
                           __m512 (&c1)[R]) {
    const __m512 b0 = _mm512_maskz_loadu_ps(m0, Bp + k * ldb);
    const __m512 b1 = _mm512_maskz_loadu_ps(m1, Bp + k * ldb + 16);
    if (Direct) {  // B read in place: fetch the same rows of the next micro-panel meanwhile
        _mm_prefetch(reinterpret_cast<const char*>(Bp + k * ldb + NR), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(Bp + k * ldb + NR + 16), _MM_HINT_T0);
    } else {  // packed B streams from L2: pull it into L1 8 rows ahead (+4-5%, bench/dev/02)
        _mm_prefetch(reinterpret_cast<const char*>(Bp + (k + 8) * NR), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(Bp + (k + 8) * NR + 16), _MM_HINT_T0);
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
        const __m512 a = _mm512_set1_ps(Ap[k * MR + r]);
        c0[r] = _mm512_fmadd_ps(a, b0, c0[r]);
        c1[r] = _mm512_fmadd_ps(a, b1, c1[r]);
    }
}

template <int R, bool Direct>
void tile(int64_t kc, const float* TN_RESTRICT Ap, const float* TN_RESTRICT Bp, int64_t ldb,
          float* C, int64_t ldc, int64_t nr, float alpha, float beta) {
    // Masks cover the column edge; masked loads cost the same as plain ones and let B be read
    // in place (direct_b) without touching columns past nr.
    const __mmask16 m0 = nr >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << nr) - 1);
    const __mmask16 m1 = nr >= 32 ? __mmask16(0xFFFF)
                         : nr > 16 ? __mmask16((1u << (nr - 16)) - 1) : __mmask16(0);
    __m512 c0[R], c1[R];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) c0[r] = c1[r] = _mm512_setzero_ps();
    // C is fetched near the end of the k loop, not at its start: by then kc rows of B have
    // streamed through L1 and would have evicted it again.
    const int64_t k_pf = kc > kPrefetchC ? kc - kPrefetchC : 0;
#pragma GCC unroll 4
    for (int64_t k = 0; k < k_pf; ++k) step<R, Direct>(k, Ap, Bp, ldb, m0, m1, c0, c1);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
        _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc + 16), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (int64_t k = k_pf; k < kc; ++k) step<R, Direct>(k, Ap, Bp, ldb, m0, m1, c0, c1);
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 16
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

using TileFn = void (*)(int64_t, const float*, const float*, int64_t, float*, int64_t, int64_t, float,
                       float);

// tiles[d][r - 1] runs an r-row tile; d = 1 when B is read in place.
template <int... R>
constexpr std::array<std::array<TileFn, MR>, 2> make_tiles(std::integer_sequence<int, R...>) {
    return {{{&tile<R + 1, false>...}, {&tile<R + 1, true>...}}};
}
constexpr auto tiles = make_tiles(std::make_integer_sequence<int, MR>{});

void ukernel(int64_t kc, const float* Ap, const float* Bp, int64_t ldb, float* C, int64_t ldc,
             int64_t mr, int64_t nr, float alpha, float beta) {
    tiles[ldb != NR][mr - 1](kc, Ap, Bp, ldb, C, ldc, nr, alpha, beta);
}

}  // namespace

const GemmKernel& gemm_kernel_avx512() {
    static const GemmKernel k{"avx512_14x32", ukernel, gemm_pack_a_avx512(), gemm_pack_b_avx512(),
                              MR, NR, MC, KC, NC, /*direct_b=*/true};
    return k;
}

}  // namespace tn
