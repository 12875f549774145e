// The row operations of flash attention (online softmax, recomputed probabilities, softmax
// gradient) written once and compiled once per CPU variant: attention.cpp includes this file
// as tn::generic, isa/attention_avx2.cpp and isa/attention_avx512.cpp as tn::avx2 and
// tn::avx512 with their flags. Define TN_ISA_NS before including it.
#include "cpu/attention.h"
#include "cpu/exp_impl.h"

#include <limits>

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

// The larger of a and b, NaN winning (a row with a NaN score must give NaN, not be skipped).
inline float max_nan(float a, float b) {
    const float m = b > a ? b : a;  // two selects, no ||: the compiler keeps it branch-free
    return b != b ? b : m;
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

inline float row_max(const float* TN_RESTRICT s, int64_t n, float init) {
    float lane[kLanes];
    for (int64_t u = 0; u < kLanes; ++u) lane[u] = init;
    int64_t c = 0;
    for (; c + kLanes <= n; c += kLanes)
        for (int64_t u = 0; u < kLanes; ++u) lane[u] = max_nan(lane[u], s[c + u]);
    if (c < n) {
        const Tail t(s + c, n - c);
        for (int64_t u = 0; u < kLanes; ++u) lane[u] = max_nan(lane[u], t.v[u]);
    }
    return reduce_lanes(lane, [](float a, float b) { return max_nan(a, b); });
}

inline float exp_one(float s, float shift) {
    const float x = s - shift;
    const float e = exp_nonpositive(x < 0.0f ? x : 0.0f);
    return x != x ? x : e;  // NaN in, NaN out
}

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
