// AVX-512 row kernels of 2x2 stride-2 max pooling, forward and backward, for pool_impl.h's
// avx512 build. Sixteen windows a step; the last step of a row is masked, so rows narrower than
// a vector (MNIST's 14 or 5 outputs) are one masked step instead of a scalar loop. Masked loads
// never touch the lanes they leave out. Same results as the portable loops: the select chain in
// window order, a later element winning when greater or NaN.
#pragma once
#if !defined(__AVX512F__)
#error "cpu/pool_2x2_avx512.h needs AVX-512F"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace tn::TN_ISA_NS {
namespace x2 {

// The masks of one step of n <= 16 windows: n outputs, 2n inputs per row in two vectors.
struct StepMasks {
    __mmask16 out, lo, hi;
    explicit StepMasks(int64_t n) {
        const uint64_t in = (uint64_t(1) << (2 * n)) - 1;
        out = __mmask16((uint32_t(1) << n) - 1);
        lo = __mmask16(in);
        hi = __mmask16(in >> 16);
    }
};

inline __m512i even_lanes() {
    return _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}

// The even and odd elements of 2n consecutive floats at p.
inline void load_pairs(const float* p, const StepMasks& m, __m512& even, __m512& odd) {
    const __m512 v0 = _mm512_maskz_loadu_ps(m.lo, p), v1 = _mm512_maskz_loadu_ps(m.hi, p + 16);
    const __m512i e = even_lanes();
    even = _mm512_permutex2var_ps(v0, e, v1);
    odd = _mm512_permutex2var_ps(v0, _mm512_add_epi32(e, _mm512_set1_epi32(1)), v1);
}

// v wins over m where v > m or v is NaN; the index follows.
inline void take(__m512& m, __m512i& k, __m512 v, __m512i kv) {
    const __mmask16 t = _mm512_cmp_ps_mask(v, m, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    m = _mm512_mask_mov_ps(m, t, v);
    k = _mm512_mask_mov_epi32(k, t, kv);
}

inline void max_row(float* o, int32_t* idx, const float* r0, const float* r1, int64_t OW,
                    int32_t base, int32_t W) {
    const __m512i two_j = even_lanes();
    for (int64_t j = 0; j < OW; j += 16) {
        const StepMasks m(std::min<int64_t>(16, OW - j));
        __m512 a, b, c, d;
        load_pairs(r0 + 2 * j, m, a, b);
        load_pairs(r1 + 2 * j, m, c, d);
        const __m512i i = _mm512_add_epi32(_mm512_set1_epi32(base + 2 * int32_t(j)), two_j);
        __m512 best = a;
        __m512i k = i;
        take(best, k, b, _mm512_add_epi32(i, _mm512_set1_epi32(1)));
        take(best, k, c, _mm512_add_epi32(i, _mm512_set1_epi32(W)));
        take(best, k, d, _mm512_add_epi32(i, _mm512_set1_epi32(W + 1)));
        _mm512_mask_storeu_ps(o + j, m.out, best);
        _mm512_mask_storeu_epi32(idx + j, m.out, k);
    }
}

// Offsets of the indices of one step from their windows' first cells, and which of them lie in
// their own window (offset 0, 1, W or W + 1).
struct WindowOffsets {
    __m512i off;
    __mmask16 at0, at1, atW, atW1;
    WindowOffsets(const int32_t* ind, __mmask16 lanes, int32_t first, int32_t W) {
        off = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(lanes, ind),
                               _mm512_add_epi32(_mm512_set1_epi32(first), even_lanes()));
        at0 = _mm512_cmpeq_epi32_mask(off, _mm512_setzero_si512());
        at1 = _mm512_cmpeq_epi32_mask(off, _mm512_set1_epi32(1));
        atW = _mm512_cmpeq_epi32_mask(off, _mm512_set1_epi32(W));
        atW1 = _mm512_cmpeq_epi32_mask(off, _mm512_set1_epi32(W + 1));
    }
    __mmask16 outside(__mmask16 lanes) const { return lanes & ~(at0 | at1 | atW | atW1); }
};

inline bool in_windows_row(const int32_t* ind, int64_t OW, int32_t base, int32_t W) {
    __mmask16 bad = 0;
    for (int64_t j = 0; j < OW; j += 16) {
        const StepMasks m(std::min<int64_t>(16, OW - j));
        bad |= WindowOffsets(ind + j, m.out, base + 2 * int32_t(j), W).outside(m.out);
    }
    return bad == 0;
}

// Interleaves x (even positions) and y (odd) into 2n floats at p, added to what is there when
// Acc.
template <bool Acc>
inline void store_pairs(float* p, const StepMasks& m, __m512 x, __m512 y) {
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
    __m512 v0 = _mm512_permutex2var_ps(x, lo, y), v1 = _mm512_permutex2var_ps(x, hi, y);
    if (Acc) {
        v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m.lo, p), v0);
        v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m.hi, p + 16), v1);
    }
    _mm512_mask_storeu_ps(p, m.lo, v0);
    _mm512_mask_storeu_ps(p + 16, m.hi, v1);
}

// Writes the row's windows; false when an index lay outside its window (its gradient was then
// dropped: the caller redoes the plane by scattering).
template <bool Acc>
inline bool max_backward_row(float* d0, float* d1, const float* dy, const int32_t* ind, int64_t OW,
                             int32_t base, int32_t W) {
    __mmask16 bad = 0;
    for (int64_t j = 0; j < OW; j += 16) {
        const StepMasks m(std::min<int64_t>(16, OW - j));
        const __m512 v = _mm512_maskz_loadu_ps(m.out, dy + j);
        const WindowOffsets w(ind + j, m.out, base + 2 * int32_t(j), W);
        bad |= w.outside(m.out);
        store_pairs<Acc>(d0 + 2 * j, m, _mm512_maskz_mov_ps(w.at0, v), _mm512_maskz_mov_ps(w.at1, v));
        store_pairs<Acc>(d1 + 2 * j, m, _mm512_maskz_mov_ps(w.atW, v), _mm512_maskz_mov_ps(w.atW1, v));
    }
    return bad == 0;
}

}  // namespace x2
}  // namespace tn::TN_ISA_NS
