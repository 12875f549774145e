// AVX-512 GEMM micro-kernel, MR x NR tile (gemm_config.h): MR * NR / 16 zmm accumulators, NR / 16
// B vectors per k, A broadcast from memory. Row counts below MR get their own instantiation
// (skinny M stays fast); column edges use masked loads/stores. AVX-512 flags only in this file.
#include "cpu/gemm_config.h"

#include <immintrin.h>

#include <array>
#include <utility>

namespace tn {
namespace {

using namespace gemm_config::avx512;
static_assert(NR % 16 == 0, "a tile row is whole zmm vectors");
constexpr int NV = NR / 16;  // vectors per tile row

// Rows of k before the end at which the C tile is prefetched.
constexpr int64_t kPrefetchC = 24;

// A read in place (gemm_config.h: ukernel_rows_a / ukernel_cols_a) has this leading
// dimension, which attention takes for its score tiles: 128 columns and a cache line of padding.
constexpr int64_t kInPlaceALd = 144;

// Element (r, k) of A at Ap[r * RS + k * KS]: packed micro-panel (1, MR), row-major in place
// (kInPlaceALd, 1) or transposed in place (1, kInPlaceALd).
template <int64_t RS, int64_t KS>
TN_ALWAYS_INLINE float a_at(const float* TN_RESTRICT Ap, int64_t k, int r) {
    return Ap[r * RS + k * KS];
}

// One k step of the tile: NV B vectors, R broadcasts of A, NV * R FMAs.
template <int R, bool Direct, int64_t RS, int64_t KS>
TN_ALWAYS_INLINE void step(int64_t k, const float* TN_RESTRICT Ap, const float* TN_RESTRICT Bp,
                           int64_t ldb, const __mmask16 (&m)[NV], __m512 (&c)[R][NV]) {
    __m512 b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
        b[v] = _mm512_maskz_loadu_ps(m[v], Bp + k * ldb + 16 * v);
        // Direct: B read in place, fetch the same rows of the next micro-panel meanwhile.
        // Packed: B streams from L2, pull it into L1 8 rows ahead (+4-5%, bench/dev/02).
        const float* pf = Direct ? Bp + k * ldb + NR + 16 * v : Bp + (k + 8) * NR + 16 * v;
        _mm_prefetch(reinterpret_cast<const char*>(pf), _MM_HINT_T0);
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
        const __m512 a = _mm512_set1_ps(a_at<RS, KS>(Ap, k, r));
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) c[r][v] = _mm512_fmadd_ps(a, b[v], c[r][v]);
    }
}

__mmask16 lanes(int64_t n) {  // the first n lanes, n clamped to [0, 16]
    return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1);
}

template <int R, bool Direct, int64_t RS, int64_t KS>
void tile(int64_t kc, const float* TN_RESTRICT Ap, const float* TN_RESTRICT Bp, int64_t ldb,
          float* C, int64_t ldc, int64_t nr, float alpha, float beta) {
    // Masks cover the column edge; masked loads cost the same as plain ones and let B be read
    // in place (direct_b) without touching columns past nr.
    __mmask16 m[NV];
    for (int v = 0; v < NV; ++v) m[v] = lanes(nr - 16 * v);
    __m512 c[R][NV];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) c[r][v] = _mm512_setzero_ps();
    // C is fetched near the end of the k loop, not at its start: by then kc rows of B have
    // streamed through L1 and would have evicted it again.
    const int64_t k_pf = kc > kPrefetchC ? kc - kPrefetchC : 0;
#pragma GCC unroll 4
    for (int64_t k = 0; k < k_pf; ++k) step<R, Direct, RS, KS>(k, Ap, Bp, ldb, m, c);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
        for (int v = 0; v < NV; ++v)
            _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc + 16 * v), _MM_HINT_T0);
#pragma GCC unroll 4
    for (int64_t k = k_pf; k < kc; ++k) step<R, Direct, RS, KS>(k, Ap, Bp, ldb, m, c);
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
            float* cp = C + r * ldc + 16 * v;
            __m512 x = _mm512_mul_ps(va, c[r][v]);
            if (beta != 0.0f)  // C is never read when beta == 0
                x = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m[v], cp), x);
            _mm512_mask_storeu_ps(cp, m[v], x);
        }
    }
}

using TileFn = void (*)(int64_t, const float*, const float*, int64_t, float*, int64_t, int64_t, float,
                       float);

// tiles[d][r - 1] runs an r-row tile; d = 1 when B is read in place.
template <int64_t RS, int64_t KS, int... R>
constexpr std::array<std::array<TileFn, MR>, 2> make_tiles(std::integer_sequence<int, R...>) {
    return {{{&tile<R + 1, false, RS, KS>...}, {&tile<R + 1, true, RS, KS>...}}};
}
constexpr auto rows = std::make_integer_sequence<int, MR>{};
constexpr auto tiles = make_tiles<1, MR>(rows);
constexpr auto tiles_rows_a = make_tiles<kInPlaceALd, 1>(rows);
constexpr auto tiles_cols_a = make_tiles<1, kInPlaceALd>(rows);

void ukernel(int64_t kc, const float* Ap, const float* Bp, int64_t ldb, float* C, int64_t ldc,
             int64_t mr, int64_t nr, float alpha, float beta) {
    tiles[ldb != NR][mr - 1](kc, Ap, Bp, ldb, C, ldc, nr, alpha, beta);
}

void ukernel_rows_a(int64_t kc, const float* Ap, const float* Bp, int64_t ldb, float* C,
                    int64_t ldc, int64_t mr, int64_t nr, float alpha, float beta) {
    tiles_rows_a[ldb != NR][mr - 1](kc, Ap, Bp, ldb, C, ldc, nr, alpha, beta);
}

void ukernel_cols_a(int64_t kc, const float* Ap, const float* Bp, int64_t ldb, float* C,
                    int64_t ldc, int64_t mr, int64_t nr, float alpha, float beta) {
    tiles_cols_a[ldb != NR][mr - 1](kc, Ap, Bp, ldb, C, ldc, nr, alpha, beta);
}

}  // namespace

const GemmKernel& gemm_kernel_avx512() {
    static const GemmKernel k{"avx512_14x32", ukernel, gemm_pack_a_avx512(), gemm_pack_b_avx512(),
                              MR, NR, MC, KC, NC, /*direct_b=*/true, ukernel_rows_a,
                              ukernel_cols_a, kInPlaceALd};
    return k;
}

}  // namespace tn
