// AVX-512 packing for the MR x 32 GEMM kernel: the two layouts that need a transpose (row-major
// A into k-major micro-panels; a transposed B, i.e. x @ W^T, into row-major micro-panels) go
// through 16 x 16 register transposes instead of element-by-element copies. Other layouts fall
// back to the templated packs of gemm_pack.h. Compiled with the AVX-512 flags only in this file.
#include "cpu/gemm_config.h"
#include "cpu/gemm_pack.h"

#include <immintrin.h>

#include <algorithm>

namespace tn {
namespace {

using namespace gemm_config::avx512;

// In-register transpose: on return r[j] holds what was column j of the 16 x 16 block r[0..15].
TN_ALWAYS_INLINE void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    }
    // r[4q + s] now holds, in each 128-bit lane L, elements (rows 4q..4q+3, column 4L + s).
    for (int s = 0; s < 4; ++s) {
        const __m512 a = _mm512_shuffle_f32x4(r[s], r[4 + s], 0x88);       // lanes 0,2 | 0,2
        const __m512 b = _mm512_shuffle_f32x4(r[s], r[4 + s], 0xDD);       // lanes 1,3 | 1,3
        const __m512 c = _mm512_shuffle_f32x4(r[8 + s], r[12 + s], 0x88);
        const __m512 d = _mm512_shuffle_f32x4(r[8 + s], r[12 + s], 0xDD);
        t[s] = _mm512_shuffle_f32x4(a, c, 0x88);       // column s
        t[8 + s] = _mm512_shuffle_f32x4(a, c, 0xDD);   // column 8 + s
        t[4 + s] = _mm512_shuffle_f32x4(b, d, 0x88);   // column 4 + s
        t[12 + s] = _mm512_shuffle_f32x4(b, d, 0xDD);  // column 12 + s
    }
    for (int i = 0; i < 16; ++i) r[i] = t[i];
}

static_assert(MR <= 16, "one transposed vector holds a k-column of the micro-panel");
constexpr __mmask16 kRowMask = __mmask16((1u << MR) - 1);

__mmask16 first_lanes(int64_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }
static_assert(NR % 16 == 0, "micro-panels are whole zmm vectors wide");

// Row-major A (cs == 1): `rows` rows x 16 k at a time, transposed so each k gives MR contiguous
// values (rows past `rows` zero).
void pack_a(int64_t rows, int64_t kc, ConstMat A, float* TN_RESTRICT Ap) {
    if (A.rs == 1 && A.cs != 1) {  // trans_a of a row-major array: each k is `rows` contiguous
        const __mmask16 rm = first_lanes(rows);
        for (int64_t k = 0; k < kc; ++k)
            _mm512_mask_storeu_ps(Ap + k * MR, kRowMask, _mm512_maskz_loadu_ps(rm, A.data + k * A.cs));
        return;
    }
    if (A.cs != 1) return pack_a_tmpl<MR>(rows, kc, A, Ap);
    for (int64_t k0 = 0; k0 < kc; k0 += 16) {
        const int64_t kn = kc - k0 < 16 ? kc - k0 : 16;
        const __mmask16 km = first_lanes(kn);
        __m512 r[16];
        for (int i = 0; i < 16; ++i)
            r[i] = i < rows ? _mm512_maskz_loadu_ps(km, A.data + i * A.rs + k0) : _mm512_setzero_ps();
        transpose16(r);
        for (int64_t kk = 0; kk < kn; ++kk) _mm512_mask_storeu_ps(Ap + (k0 + kk) * MR, kRowMask, r[kk]);
    }
}

// Row-major B (cs == 1): walk B row by row (k outer) so each visit reads nc contiguous floats,
// scattering two vectors per micro-panel. Walking one micro-panel at a time reads only 128 bytes
// per row, and with rows a page apart (N = 1024) no hardware prefetcher follows; that made the
// pack read B at ~17 GB/s. Rows a few ahead are prefetched by hand.
void pack_b_rows(int64_t kc, int64_t nc, ConstMat B, float* TN_RESTRICT Bp) {
    const int64_t full = nc / NR * NR;
    __mmask16 edge[NR / 16];
    for (int64_t v = 0; v < NR / 16; ++v) edge[v] = first_lanes(std::max<int64_t>(nc - full - 16 * v, 0));
    for (int64_t k = 0; k < kc; ++k) {
        const float* src = B.data + k * B.rs;
        if (k + 4 < kc)
            for (int64_t j = 0; j < nc; j += 16)
                _mm_prefetch(reinterpret_cast<const char*>(src + 4 * B.rs + j), _MM_HINT_T0);
        float* dst = Bp + k * NR;
        for (int64_t j0 = 0; j0 < full; j0 += NR)
            for (int64_t v = 0; v < NR; v += 16)
                _mm512_store_ps(dst + j0 * kc + v, _mm512_loadu_ps(src + j0 + v));
        if (full < nc)
            for (int64_t v = 0; v < NR / 16; ++v)
                _mm512_store_ps(dst + full * kc + 16 * v,
                                _mm512_maskz_loadu_ps(edge[v], src + full + 16 * v));
    }
}

// Transposed B (rs == 1, columns contiguous along k): 16 columns x 16 k at a time.
void pack_b(int64_t kc, int64_t nc, ConstMat B, float* TN_RESTRICT Bp) {
    if (B.cs == 1) return pack_b_rows(kc, nc, B, Bp);
    if (B.rs != 1) return pack_b_tmpl<NR>(kc, nc, B, Bp);
    for (int64_t j0 = 0; j0 < nc; j0 += NR) {
        float* dst = Bp + j0 * kc;
        for (int64_t h = 0; h < NR; h += 16) {
            const int64_t cols = nc - j0 - h < 0 ? 0 : (nc - j0 - h < 16 ? nc - j0 - h : 16);
            const float* src = B.data + (j0 + h) * B.cs;
            for (int64_t k0 = 0; k0 < kc; k0 += 16) {
                const int64_t kn = kc - k0 < 16 ? kc - k0 : 16;
                const __mmask16 km = first_lanes(kn);
                __m512 r[16];
                for (int j = 0; j < 16; ++j)
                    r[j] = j < cols ? _mm512_maskz_loadu_ps(km, src + j * B.cs + k0) : _mm512_setzero_ps();
                transpose16(r);
                for (int64_t kk = 0; kk < kn; ++kk) _mm512_storeu_ps(dst + (k0 + kk) * NR + h, r[kk]);
            }
        }
    }
}

}  // namespace

GemmPackAFn gemm_pack_a_avx512() { return pack_a; }
GemmPackBFn gemm_pack_b_avx512() { return pack_b; }

}  // namespace tn
