// Softmax, log_softmax, cross entropy, mse and dropout kernels written once and compiled once per
// CPU variant: loss.cpp includes this file as tn::generic, isa/loss_avx2.cpp and
// isa/loss_avx512.cpp as tn::avx2 / tn::avx512 with their flags. Define TN_ISA_NS first.
//
// A row is the C classes of one (outer, inner) position. Rows are independent, so threads split
// rows and every row is summed in the same order whatever the thread count. Sums and maxima over
// a row are `omp simd` reductions (built with -fopenmp-simd: vectorised without -ffast-math);
// exp is exp_nonpositive after the max shift.
#include "core/counter_rng.h"
#include "core/parallel.h"
#include "cpu/exp_impl.h"
#include "cpu/loss.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#ifndef TN_ISA_NS
#error "define TN_ISA_NS (generic, avx2 or avx512) before including cpu/loss_impl.h"
#endif

namespace tn::TN_ISA_NS {
namespace {

// Elements per thread before a team pays off (memory-bound passes, exp on top).
constexpr int64_t kGrain = 1 << 15;
// Reductions over all elements add fixed blocks of this size in order (thread-count independent).
constexpr int64_t kSumBlock = 1 << 12;
constexpr float kInf = std::numeric_limits<float>::infinity();

// Where class c of a row lives: contiguous rows when inner == 1, else every inner-th float.
struct Contig {
    int64_t operator()(int64_t c) const { return c; }
};
struct Strided {
    int64_t s;
    int64_t operator()(int64_t c) const { return c * s; }
};

// sum over i in [b, e) of f(i): `omp simd` partial sums (one per lane; plain loops stay scalar
// without -ffast-math, and a hand-written lane array did not vectorise maxima with GCC 12) over
// chunks of kSumChunk, the chunk sums added in double. A softmax row of 10^4 terms, one of them
// ~1, then loses ~1e-7 instead of ~1e-5 (float lanes each adding hundreds of tiny terms to 1).
constexpr int64_t kSumChunk = 512;

template <typename F>
TN_ALWAYS_INLINE float simd_sum(int64_t b, int64_t e, F f) {
    double total = 0.0;
    for (int64_t s = b; s < e; s += kSumChunk) {
        const int64_t stop = std::min(e, s + kSumChunk);
        float part = 0.0f;
#pragma omp simd reduction(+ : part)
        for (int64_t i = s; i < stop; ++i) part += f(i);
        total += part;
    }
    return static_cast<float>(total);
}

// Max of x over a row; a NaN may be skipped here: it reaches every output through exp instead.
template <typename Ix>
TN_ALWAYS_INLINE float row_max(const float* TN_RESTRICT x, int64_t C, Ix ix) {
    float m = -kInf;
#pragma omp simd reduction(max : m)
    for (int64_t c = 0; c < C; ++c) m = x[ix(c)] > m ? x[ix(c)] : m;
    return m;
}

// A row's max and log(sum(exp(x - max))), max-subtracted so that exp cannot overflow. Outputs use
// (x - max) - log_sum: adding max and log_sum first (the log-sum-exp) rounds away digits for
// large logits. With Store, the numerators exp(x - max) go to y (softmax divides them in place
// afterwards) and their sum to *sum_out.
struct RowLse {
    float max, log_sum;
    float lse() const { return max + log_sum; }
};

template <bool Store, typename Ix>
TN_ALWAYS_INLINE RowLse row_lse(float* TN_RESTRICT y, const float* TN_RESTRICT x, int64_t C,
                                Ix ix, float* sum_out = nullptr) {
    const float m = row_max(x, C, ix);
    const float s = simd_sum(0, C, [&](int64_t c) {
        const float e = exp_nonpositive(x[ix(c)] - m);
        if (Store) y[ix(c)] = e;
        return e;
    });
    if (sum_out) *sum_out = s;
    return RowLse{m, std::log(s)};
}

// Runs row(offset of class 0, row index, index functor) for every (outer, inner) position,
// rows split across threads. Consecutive strided rows are neighbouring columns: cache friendly.
template <typename Row>
void for_rows(int64_t outer, int64_t C, int64_t inner, Row row) {
    const int64_t rows = outer * inner;
    const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(C, 1));
    if (inner == 1) {
        parallel_chunks(rows, grain, [&](int64_t b, int64_t e) {
            for (int64_t r = b; r < e; ++r) row(r * C, r, Contig{});
        });
    } else {
        parallel_chunks(rows, grain, [&](int64_t b, int64_t e) {
            for (int64_t r = b; r < e; ++r)
                row((r / inner) * C * inner + r % inner, r, Strided{inner});
        });
    }
}

// sum over i in [0, n) of f(i) in fixed blocks, block sums added in block order.
template <typename F>
double blocked_sum(int64_t n, F f) {
    const int64_t nb = ceil_div(n, kSumBlock);
    std::vector<double> part(static_cast<std::size_t>(nb));  // may throw: before any team starts
    parallel_chunks(nb, std::max<int64_t>(1, kGrain / kSumBlock), [&](int64_t b, int64_t e) {
        for (int64_t k = b; k < e; ++k)
            part[k] = simd_sum(k * kSumBlock, std::min(n, (k + 1) * kSumBlock), f);
    });
    double s = 0.0;
    for (double v : part) s += v;
    return s;
}

// The scale of a row's gradient: its own upstream value (none), or the scalar one / divisor.
inline float grad_scale(const float* dloss, int64_t row, Reduction r, float divisor) {
    if (r == Reduction::none) return dloss[row];
    return r == Reduction::mean ? dloss[0] / divisor : dloss[0];
}

inline float reduce(double sum, double divisor, Reduction r) {
    return static_cast<float>(r == Reduction::mean ? sum / divisor : sum);
}

inline float class_weight_sum(const ClassLoss& a) {
    if (!a.weight) return static_cast<float>(a.C);
    double s = 0.0;
    for (int64_t c = 0; c < a.C; ++c) s += a.weight[c];
    return static_cast<float>(s);
}

// Writes (or adds) v(c) to d[ix(c)] over a row; the branch on accumulate is outside the loop.
template <typename Ix, typename V>
TN_ALWAYS_INLINE void row_put(float* TN_RESTRICT d, int64_t C, Ix ix, bool accumulate, V v) {
    if (accumulate)
        for (int64_t c = 0; c < C; ++c) d[ix(c)] += v(c);
    else
        for (int64_t c = 0; c < C; ++c) d[ix(c)] = v(c);
}

}  // namespace

// ----------------------------------------------------------------------- softmax, log_softmax

void softmax_forward(float* out, const float* inp, int64_t outer, int64_t C, int64_t inner) {
    for_rows(outer, C, inner, [&](int64_t off, int64_t, auto ix) {
        float* TN_RESTRICT y = out + off;
        float s;
        row_lse<true>(y, inp + off, C, ix, &s);
        const float inv = 1.0f / s;
        for (int64_t c = 0; c < C; ++c) y[ix(c)] *= inv;
    });
}

void softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer, int64_t C,
                      int64_t inner, bool accumulate) {
    for_rows(outer, C, inner, [&](int64_t off, int64_t, auto ix) {
        const float* TN_RESTRICT dy = dout + off;
        const float* TN_RESTRICT y = out + off;
        const float dot = simd_sum(0, C, [&](int64_t c) { return dy[ix(c)] * y[ix(c)]; });
        row_put(dinp + off, C, ix, accumulate,
                [&](int64_t c) { return y[ix(c)] * (dy[ix(c)] - dot); });
    });
}

void log_softmax_forward(float* out, const float* inp, int64_t outer, int64_t C, int64_t inner) {
    for_rows(outer, C, inner, [&](int64_t off, int64_t, auto ix) {
        const float* TN_RESTRICT x = inp + off;
        float* TN_RESTRICT y = out + off;
        const RowLse r = row_lse<false>(nullptr, x, C, ix);
        for (int64_t c = 0; c < C; ++c) y[ix(c)] = (x[ix(c)] - r.max) - r.log_sum;
    });
}

void log_softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer,
                          int64_t C, int64_t inner, bool accumulate) {
    for_rows(outer, C, inner, [&](int64_t off, int64_t, auto ix) {
        const float* TN_RESTRICT dy = dout + off;
        const float* TN_RESTRICT y = out + off;
        const float s = simd_sum(0, C, [&](int64_t c) { return dy[ix(c)]; });
        row_put(dinp + off, C, ix, accumulate,
                [&](int64_t c) { return dy[ix(c)] - exp_nonpositive(y[ix(c)]) * s; });
    });
}

// ------------------------------------------------------------------- cross entropy, indices

void cross_entropy_forward(float* loss, float* lse, float* reduced, float* total_weight,
                           float* dinp, const float* inp, const int64_t* target,
                           const ClassLoss& a) {
    const int64_t C = a.C, rows = a.outer * a.inner;
    const float eps = a.label_smoothing, eps_c = eps / static_cast<float>(C);
    const float* w = a.weight;
    // The total weight first (a fixed order: the same bits for any thread count): it scales the
    // gradient that dinp receives for a mean.
    const double total = blocked_sum(rows, [&](int64_t r) {
        const int64_t t = target[r];
        return t == a.ignore_index ? 0.0f : (w ? w[t] : 1.0f);
    });
    *total_weight = static_cast<float>(total);
    const float s = a.reduction == Reduction::mean ? 1.0f / static_cast<float>(total) : 1.0f;
    const float wsum = dinp ? class_weight_sum(a) : 0.0f;
    for_rows(a.outer, C, a.inner, [&](int64_t off, int64_t row, auto ix) {
        const float* TN_RESTRICT x = inp + off;
        float* TN_RESTRICT d = dinp ? dinp + off : nullptr;
        float sum = 0.0f;  // with dinp, the numerators exp(x - max) go there first
        const RowLse rl = d ? row_lse<true>(d, x, C, ix, &sum) : row_lse<false>(nullptr, x, C, ix);
        lse[row] = rl.lse();
        const int64_t t = target[row];
        if (t == a.ignore_index) {
            loss[row] = 0.0f;
            if (d)
                for (int64_t c = 0; c < C; ++c) d[ix(c)] = 0.0f;
            return;
        }
        const float wt = w ? w[t] : 1.0f, m = rl.max, ls = rl.log_sum;
        float v = (1.0f - eps) * wt * ((m - x[ix(t)]) + ls);
        if (eps > 0.0f) {  // + eps / C * sum_c w_c (lse - x_c)
            const float smooth =
                w ? simd_sum(0, C, [&](int64_t c) { return w[c] * ((m - x[ix(c)]) + ls); })
                  : simd_sum(0, C, [&](int64_t c) { return (m - x[ix(c)]) + ls; });
            v += eps_c * smooth;
        }
        loss[row] = v;
        if (!d) return;
        // The backward's formula for dloss = 1, the softmax from the numerators in d (in cache):
        // d = s * (coef * softmax - eps/C * w_c), then the target's own -s (1 - eps) w_t.
        const float sc = s * ((1.0f - eps) * wt + eps_c * wsum) / sum, se = s * eps_c;
        if (w)
            for (int64_t c = 0; c < C; ++c) d[ix(c)] = sc * d[ix(c)] - se * w[c];
        else
            for (int64_t c = 0; c < C; ++c) d[ix(c)] = sc * d[ix(c)] - se;
        d[ix(t)] -= s * (1.0f - eps) * wt;
    });
    if (a.reduction != Reduction::none)
        *reduced =
            reduce(blocked_sum(rows, [&](int64_t r) { return loss[r]; }), total, a.reduction);
}

void cross_entropy_backward(float* dinp, const float* dloss, const float* inp, const float* lse,
                            const int64_t* target, float total_weight, const ClassLoss& a,
                            bool accumulate) {
    const int64_t C = a.C;
    const float eps = a.label_smoothing, eps_c = eps / static_cast<float>(C);
    const float* w = a.weight;
    const float wsum = class_weight_sum(a);
    for_rows(a.outer, C, a.inner, [&](int64_t off, int64_t row, auto ix) {
        const float* TN_RESTRICT x = inp + off;
        float* TN_RESTRICT d = dinp + off;
        const int64_t t = target[row];
        if (t == a.ignore_index) {
            if (!accumulate)
                for (int64_t c = 0; c < C; ++c) d[ix(c)] = 0.0f;
            return;
        }
        // d = s * (coef * softmax - eps/C * w_c), then the target's own -s (1 - eps) w_t.
        const float s = grad_scale(dloss, row, a.reduction, total_weight);
        const float wt = w ? w[t] : 1.0f;
        const float sc = s * ((1.0f - eps) * wt + eps_c * wsum), l = lse[row];
        if (w) {
            const float se = s * eps_c;
            row_put(d, C, ix, accumulate,
                    [&](int64_t c) { return sc * exp_nonpositive(x[ix(c)] - l) - se * w[c]; });
        } else {
            const float b = s * eps_c;
            row_put(d, C, ix, accumulate,
                    [&](int64_t c) { return sc * exp_nonpositive(x[ix(c)] - l) - b; });
        }
        d[ix(t)] -= s * (1.0f - eps) * wt;
    });
}

// -------------------------------------------------------------- cross entropy, probabilities

void cross_entropy_prob_forward(float* loss, float* lse, float* reduced, const float* inp,
                                const float* target, const ClassLoss& a) {
    const int64_t C = a.C;
    const float eps = a.label_smoothing, keep = 1.0f - eps, eps_c = eps / static_cast<float>(C);
    const float* w = a.weight;
    for_rows(a.outer, C, a.inner, [&](int64_t off, int64_t row, auto ix) {
        const float* TN_RESTRICT x = inp + off;
        const float* TN_RESTRICT q = target + off;
        const RowLse rl = row_lse<false>(nullptr, x, C, ix);
        lse[row] = rl.lse();
        const float m = rl.max, ls = rl.log_sum;
        // -sum_c w_c q'_c log_softmax_c, q' = (1 - eps) q + eps / C
        auto wq = [&](int64_t c) { return (w ? w[c] : 1.0f) * (keep * q[ix(c)] + eps_c); };
        loss[row] = -simd_sum(0, C, [&](int64_t c) { return wq(c) * ((x[ix(c)] - m) - ls); });
    });
    const int64_t rows = a.outer * a.inner;
    if (a.reduction != Reduction::none)
        *reduced = reduce(blocked_sum(rows, [&](int64_t r) { return loss[r]; }), double(rows),
                          a.reduction);
}

void cross_entropy_prob_backward(float* dinp, float* dtarget, const float* dloss, const float* inp,
                                 const float* lse, const float* target, const ClassLoss& a,
                                 bool accumulate) {
    const int64_t C = a.C;
    const float eps = a.label_smoothing, keep = 1.0f - eps, eps_c = eps / static_cast<float>(C);
    const float rows = static_cast<float>(a.outer * a.inner);
    const float* w = a.weight;
    for_rows(a.outer, C, a.inner, [&](int64_t off, int64_t row, auto ix) {
        const float* TN_RESTRICT x = inp + off;
        const float* TN_RESTRICT q = target + off;
        const float s = grad_scale(dloss, row, a.reduction, rows), l = lse[row];
        auto wc = [&](int64_t c) { return w ? w[c] : 1.0f; };
        // d_c = s * (S * softmax_c - w_c q'_c) with S = sum_c w_c q'_c.
        const float S = static_cast<float>(
            simd_sum(0, C, [&](int64_t c) { return wc(c) * (keep * q[ix(c)] + eps_c); }));
        row_put(dinp + off, C, ix, accumulate, [&](int64_t c) {
            return s * (S * exp_nonpositive(x[ix(c)] - l) - wc(c) * (keep * q[ix(c)] + eps_c));
        });
        if (dtarget) {
            float* TN_RESTRICT dt = dtarget + off;
            const float k = -s * keep;
            for (int64_t c = 0; c < C; ++c) dt[ix(c)] = k * wc(c) * (x[ix(c)] - l);
        }
    });
}

// ------------------------------------------------------------------------------------- mse

void mse_loss_forward(float* loss, float* reduced, float* total_weight, const float* inp,
                      const float* target, const float* weight, int64_t n, Reduction r) {
    const float* TN_RESTRICT x = inp;
    const float* TN_RESTRICT t = target;
    const float* TN_RESTRICT w = weight;
    *total_weight =
        static_cast<float>(w ? blocked_sum(n, [&](int64_t i) { return w[i]; }) : double(n));
    if (r == Reduction::none) {
        parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
            float* TN_RESTRICT o = loss;
            if (w)
                for (int64_t i = b; i < e; ++i) o[i] = w[i] * ((x[i] - t[i]) * (x[i] - t[i]));
            else
                for (int64_t i = b; i < e; ++i) o[i] = (x[i] - t[i]) * (x[i] - t[i]);
        });
        return;
    }
    auto sq = [&](int64_t i) { return (x[i] - t[i]) * (x[i] - t[i]); };
    const double sum = w ? blocked_sum(n, [&](int64_t i) { return w[i] * sq(i); })
                         : blocked_sum(n, sq);
    *reduced = reduce(sum, *total_weight, r);
}

void mse_loss_backward(float* dinp, float* dtarget, const float* dloss, const float* inp,
                       const float* target, const float* weight, float total_weight, int64_t n,
                       Reduction r, bool accumulate) {
    const float k = r == Reduction::none ? 2.0f : 2.0f * grad_scale(dloss, 0, r, total_weight);
    parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
        const float* TN_RESTRICT x = inp;
        const float* TN_RESTRICT t = target;
        const float* TN_RESTRICT w = weight;
        const float* TN_RESTRICT g = dloss;
        float* TN_RESTRICT d = dinp;
        float* TN_RESTRICT dt = dtarget;
        const bool each = r == Reduction::none;
        for (int64_t i = b; i < e; ++i) {
            const float v = (each ? k * g[i] : k) * (w ? w[i] : 1.0f) * (x[i] - t[i]);
            d[i] = accumulate ? d[i] + v : v;
            if (dt) dt[i] = -v;
        }
    });
}

// --------------------------------------------------------------------------------- dropout

void dropout_forward(float* out, uint8_t* mask, const float* inp, int64_t n, double p,
                     uint64_t seed) {
    const uint64_t threshold = keep_threshold(p);
    const float scale = p < 1.0 ? 1.0f / static_cast<float>(1.0 - p) : 0.0f;
    parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
        const float k = scale;  // locals, not reads through the closure (those stay scalar)
        const uint64_t threshold_l = threshold;
        // Split at multiples of 2^32 so that each piece has one key pair and 32-bit counters.
        for (int64_t s = b; s < e;) {
            const uint64_t hi = static_cast<uint64_t>(s) >> 32;
            const int64_t stop = std::min<int64_t>(e, static_cast<int64_t>((hi + 1) << 32));
            const CounterKeys keys = counter_keys(seed, hi);
            const uint32_t lo0 = static_cast<uint32_t>(s);
            const int64_t len = stop - s;
            float* TN_RESTRICT o = out + s;
            uint8_t* TN_RESTRICT m = mask + s;
            const float* TN_RESTRICT x = inp + s;
            if (threshold_l > 0xffffffffULL) {  // p = 1: nothing is kept
                for (int64_t i = 0; i < len; ++i) {
                    m[i] = 0;
                    o[i] = x[i] * 0.0f;
                }
            } else {
                const uint32_t thr = static_cast<uint32_t>(threshold_l);
                for (int64_t i = 0; i < len; ++i) {
                    const bool keep = counter_bits(lo0 + static_cast<uint32_t>(i), keys) >= thr;
                    m[i] = keep;
                    o[i] = x[i] * (keep ? k : 0.0f);
                }
            }
            s = stop;
        }
    });
}

void dropout_backward(float* dinp, const float* dout, const uint8_t* mask, int64_t n, double p,
                      bool accumulate) {
    const float scale = p < 1.0 ? 1.0f / static_cast<float>(1.0 - p) : 0.0f;
    parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
        const float k = scale;  // a local: read through the closure, GCC kept the loop scalar
        float* TN_RESTRICT d = dinp;
        const float* TN_RESTRICT g = dout;
        const uint8_t* TN_RESTRICT m = mask;
        if (accumulate)
            for (int64_t i = b; i < e; ++i) d[i] += g[i] * (m[i] ? k : 0.0f);
        else
            for (int64_t i = b; i < e; ++i) d[i] = g[i] * (m[i] ? k : 0.0f);
    });
}

const LossTable& loss_table() {
    static const LossTable t{softmax_forward,       softmax_backward,
                             log_softmax_forward,   log_softmax_backward,
                             cross_entropy_forward, cross_entropy_backward,
                             cross_entropy_prob_forward, cross_entropy_prob_backward,
                             mse_loss_forward,      mse_loss_backward,
                             dropout_forward,       dropout_backward};
    return t;
}

}  // namespace tn::TN_ISA_NS
