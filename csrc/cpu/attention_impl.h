// The row operations of flash attention (online softmax, recomputed probabilities, softmax
// gradient) written once and compiled once per CPU variant: attention.cpp includes this file
// as tn::generic, isa/attention_avx2.cpp and isa/attention_avx512.cpp as tn::avx2 and
// tn::avx512 with their flags. Define TN_ISA_NS before including it.
#include "cpu/attention.h"
#include "cpu/exp_impl.h"

#include <limits>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#ifndef TN_ISA_NS
#error "define TN_ISA_NS (generic, avx2 or avx512) before including cpu/attention_impl.h"
#endif

namespace tn::TN_ISA_NS {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Reductions keep kLanes partial results (one vector's worth) so the compiler vectorises them
// without reassociating floats on its own (strict IEEE code keeps a scalar chain otherwise).
constexpr int64_t kLanes = 16;

// lane[0] op ... op lane[15] as a tree of 4 dependent steps (each one vector operation), not a
// chain of 16.
template <typename Op>
TN_ALWAYS_INLINE float reduce_lanes(float* lane, Op op) {
#pragma GCC unroll 8
    for (int u = 0; u < 8; ++u) lane[u] = op(lane[u], lane[u + 8]);
#pragma GCC unroll 4
    for (int u = 0; u < 4; ++u) lane[u] = op(lane[u], lane[u + 4]);
    lane[0] = op(lane[0], lane[2]);
    lane[1] = op(lane[1], lane[3]);
    return op(lane[0], lane[1]);
}

// Rows run in whole kLanes blocks; a partial last block goes through a kLanes buffer padded
// with -inf (exp gives 0 there), so a causal row of any length stays vectorised instead of
// ending in scalar exp calls.
struct Tail {
    float v[kLanes];
    Tail(const float* s, int64_t n) {
        for (int64_t u = 0; u < kLanes; ++u) v[u] = u < n ? s[u] : kNegInf;
    }
};

#ifdef __AVX512F__
inline float row_max(const float* TN_RESTRICT s, int64_t n, float init) {
    __m512 mx = _mm512_set1_ps(init);
    __mmask16 nan = 0;
    for (int64_t c = 0; c < n; c += kLanes) {
        const __mmask16 m = n - c >= kLanes ? __mmask16(0xFFFF) : __mmask16((1u << (n - c)) - 1);
        const __m512 x = _mm512_mask_loadu_ps(_mm512_set1_ps(kNegInf), m, s + c);
        nan |= _mm512_cmpunord_ps_mask(x, x);
        mx = _mm512_max_ps(mx, x);
    }
    return nan ? std::numeric_limits<float>::quiet_NaN() : _mm512_reduce_max_ps(mx);
}
#else
// The maximum, NaN if any value is NaN: plain max lanes plus a NaN count, both of which the
// compiler vectorises (a NaN-propagating select chain it kept scalar).
inline float row_max(const float* TN_RESTRICT s, int64_t n, float init) {
    float lane[kLanes], nans[kLanes] = {};
    for (int64_t u = 0; u < kLanes; ++u) lane[u] = init;
    int64_t c = 0;
    for (; c + kLanes <= n; c += kLanes)
        for (int64_t u = 0; u < kLanes; ++u) {
            const float x = s[c + u];
            lane[u] = x > lane[u] ? x : lane[u];
            nans[u] += x != x ? 1.0f : 0.0f;
        }
    if (c < n) {
        const Tail t(s + c, n - c);
        for (int64_t u = 0; u < kLanes; ++u) {
            lane[u] = t.v[u] > lane[u] ? t.v[u] : lane[u];
            nans[u] += t.v[u] != t.v[u] ? 1.0f : 0.0f;
        }
    }
    const float mx = reduce_lanes(lane, [](float a, float b) { return a > b ? a : b; });
    const float any_nan = reduce_lanes(nans, [](float a, float b) { return a + b; });
    return any_nan > 0.0f || init != init ? std::numeric_limits<float>::quiet_NaN() : mx;
}
#endif

inline float exp_one(float s, float shift) {
    const float x = s - shift;
    const float e = exp_nonpositive(x < 0.0f ? x : 0.0f);
    return x != x ? x : e;  // NaN in, NaN out
}

#ifdef __AVX512F__
// 2^t for 16 lanes with vscalefps: t = n + f, |f| <= 1/2, 2^f by a degree-6 polynomial (rel.
// error ~1e-7), then scaled by 2^n in one instruction that also flushes to 0 far below the
// normal range. t is clamped at -150 first (exp of -inf is then 0); the clamp keeps a NaN.
TN_ALWAYS_INLINE __m512 exp2_avx512(__m512 t) {
    t = _mm512_max_ps(_mm512_set1_ps(-150.0f), t);  // NaN in t is returned as is
    const __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 f = _mm512_sub_ps(t, n);
    __m512 p = _mm512_set1_ps(1.540353e-4f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.333355e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.618129e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550411e-2f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402265e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931472e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

// s = exp(s - shift) in place over [0, n), returning the sum (shift finite). The tail is one
// masked vector.
inline float exp_shifted(float* TN_RESTRICT s, int64_t n, float shift) {
    const __m512 log2e = _mm512_set1_ps(1.44269504f);
    const __m512 off = _mm512_set1_ps(-shift * 1.44269504f);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t c = 0; c < n; c += kLanes) {
        const __mmask16 m = n - c >= kLanes ? __mmask16(0xFFFF) : __mmask16((1u << (n - c)) - 1);
        const __m512 x = _mm512_maskz_loadu_ps(m, s + c);
        // (s - shift) log2(e) as one FMA; s <= shift up to rounding, so clamp at 0
        const __m512 t = _mm512_min_ps(_mm512_fmadd_ps(x, log2e, off), _mm512_setzero_ps());
        const __m512 e = exp2_avx512(_mm512_mask_mov_ps(t, _mm512_cmpunord_ps_mask(x, x), x));
        _mm512_mask_storeu_ps(s + c, m, e);
        acc = _mm512_mask_add_ps(acc, m, acc, e);
    }
    return _mm512_reduce_add_ps(acc);
}
#else
// s = exp(s - shift) in place over [0, n), returning the sum (shift finite; s - shift <= 0 up
// to rounding).
inline float exp_shifted(float* TN_RESTRICT s, int64_t n, float shift) {
    float lane[kLanes] = {};
    int64_t c = 0;
    for (; c + kLanes <= n; c += kLanes)
        for (int64_t u = 0; u < kLanes; ++u) {
            s[c + u] = exp_one(s[c + u], shift);
            lane[u] += s[c + u];
        }
    if (c < n) {
        Tail t(s + c, n - c);
        for (int64_t u = 0; u < kLanes; ++u) {
            t.v[u] = exp_one(t.v[u], shift);
            lane[u] += t.v[u];
        }
        for (int64_t u = 0; u < n - c; ++u) s[c + u] = t.v[u];
    }
    return reduce_lanes(lane, [](float a, float b) { return a + b; });
}
#endif

// Columns of row r a causal tile lets it see: [0, r + diag + 1) clamped to [0, cols].
inline int64_t visible(int64_t r, int64_t cols, int64_t diag) {
    const int64_t n = r + diag + 1;
    return n < 0 ? 0 : (n > cols ? cols : n);
}

void online_softmax(int64_t rows, int64_t cols, float* S, int64_t ld, float* m, float* l,
                    float* alpha, int64_t diag) {
    for (int64_t r = 0; r < rows; ++r) {
        float* s = S + r * ld;
        const int64_t n = visible(r, cols, diag);
        for (int64_t c = n; c < cols; ++c) s[c] = 0.0f;  // past the diagonal: P = 0
        const float mx = row_max(s, n, m[r]);
        if (mx == kNegInf) {  // nothing visible yet
            for (int64_t c = 0; c < n; ++c) s[c] = 0.0f;
            alpha[r] = 1.0f;
            continue;
        }
        alpha[r] = m[r] == kNegInf ? 0.0f : exp_nonpositive(m[r] - mx);
        l[r] = l[r] * alpha[r] + exp_shifted(s, n, mx);
        m[r] = mx;
    }
}

void rescale_rows(int64_t rows, int64_t cols, float* A, int64_t ld, const float* factor) {
    for (int64_t r = 0; r < rows; ++r) {
        if (factor[r] == 1.0f) continue;
        float* TN_RESTRICT a = A + r * ld;
        const float f = factor[r];
        for (int64_t c = 0; c < cols; ++c) a[c] *= f;
    }
}

void exp_rows(int64_t rows, int64_t cols, float* S, int64_t ld, const float* lse,
              int64_t diag) {
    for (int64_t r = 0; r < rows; ++r) {
        float* s = S + r * ld;
        const int64_t n = lse[r] == std::numeric_limits<float>::infinity() ? 0
                                                                            : visible(r, cols, diag);
        for (int64_t c = n; c < cols; ++c) s[c] = 0.0f;
        exp_shifted(s, n, lse[r]);
    }
}

void softmax_grad(int64_t rows, int64_t cols, const float* P, float* dP, int64_t ld,
                  const float* Drow) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* TN_RESTRICT p = P + r * ld;
        float* TN_RESTRICT d = dP + r * ld;
        const float D = Drow[r];
        for (int64_t c = 0; c < cols; ++c) d[c] = p[c] * (d[c] - D);
    }
}

}  // namespace

const AttentionTable& attention_table() {
    static const AttentionTable t{online_softmax, rescale_rows, exp_rows, softmax_grad};
    return t;
}

}  // namespace tn::TN_ISA_NS
