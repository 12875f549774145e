// Reference softmax, log_softmax, losses and dropout: plain loops over (outer, C, inner) views,
// libm, sums in double. The oracle for cpu/loss*.{h,cpp}; conventions documented in cpu/loss.h.
#include "core/counter_rng.h"
#include "ref/ref.h"

#include <cmath>
#include <limits>
#include <vector>

namespace tn::ref {
namespace {

inline void put(float* d, float v, bool accumulate) { *d = accumulate ? *d + v : v; }

// Max over a strided row; NaN is skipped here and reaches every output through exp instead.
float row_max(const float* x, int64_t C, int64_t stride) {
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t c = 0; c < C; ++c)
        if (x[c * stride] > m) m = x[c * stride];
    return m;
}

// A strided row's max and log(sum(exp(x - max))) (no overflow). Outputs use (x - max) - log_sum:
// adding max and log_sum first (the log-sum-exp) rounds away digits for large logits.
struct RowLse {
    float max, log_sum;
    float lse() const { return max + log_sum; }
    float log_softmax(float x) const { return (x - max) - log_sum; }
};

RowLse row_lse(const float* x, int64_t C, int64_t stride) {
    const float m = row_max(x, C, stride);
    double s = 0.0;
    for (int64_t c = 0; c < C; ++c) s += std::exp(x[c * stride] - m);
    return RowLse{m, static_cast<float>(std::log(s))};
}

// Calls f(row pointer offset, row index) for each (outer, inner) position.
template <typename F>
void for_rows(int64_t outer, int64_t C, int64_t inner, F f) {
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < inner; ++j) f(o * C * inner + j, o * inner + j);
}

// The scale of a row's gradient: its own upstream value (none), or the scalar one / divisor.
inline float grad_scale(const float* dloss, int64_t row, Reduction r, float divisor) {
    if (r == Reduction::none) return dloss[row];
    return r == Reduction::mean ? dloss[0] / divisor : dloss[0];
}

inline float reduce(double sum, double divisor, Reduction r) {
    return static_cast<float>(r == Reduction::mean ? sum / divisor : sum);
}

double class_weight_sum(const ClassLoss& a) {
    if (!a.weight) return static_cast<double>(a.C);
    double s = 0.0;
    for (int64_t c = 0; c < a.C; ++c) s += a.weight[c];
    return s;
}

inline float sigmoid(float x) {
    const float e = std::exp(-std::fabs(x));
    return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

// log(1 + e^-x) without overflow: max(-x, 0) + log1p(e^-|x|).
inline float softplus_neg(float x) {
    return std::fmax(-x, 0.0f) + std::log1p(std::exp(-std::fabs(x)));
}

inline float clamp_log(float l) { return l < -100.0f ? -100.0f : l; }  // NaN stays NaN

}  // namespace

void softmax_forward(float* out, const float* inp, int64_t outer, int64_t C, int64_t inner) {
    for_rows(outer, C, inner, [&](int64_t off, int64_t) {
        const float* x = inp + off;
        float* y = out + off;
        const float m = row_max(x, C, inner);
        double s = 0.0;
        for (int64_t c = 0; c < C; ++c) s += std::exp(x[c * inner] - m);
        for (int64_t c = 0; c < C; ++c)
            y[c * inner] = static_cast<float>(std::exp(x[c * inner] - m) / s);
    });
}

void softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer, int64_t C,
                      int64_t inner, bool accumulate) {
    for_rows(outer, C, inner, [&](int64_t off, int64_t) {
        double dot = 0.0;
        for (int64_t c = 0; c < C; ++c) dot += double(dout[off + c * inner]) * out[off + c * inner];
        for (int64_t c = 0; c < C; ++c) {
            const int64_t i = off + c * inner;
            put(dinp + i, out[i] * (dout[i] - static_cast<float>(dot)), accumulate);
        }
    });
}

void log_softmax_forward(float* out, const float* inp, int64_t outer, int64_t C, int64_t inner) {
    for_rows(outer, C, inner, [&](int64_t off, int64_t) {
        const RowLse r = row_lse(inp + off, C, inner);
        for (int64_t c = 0; c < C; ++c) out[off + c * inner] = r.log_softmax(inp[off + c * inner]);
    });
}

void log_softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer,
                          int64_t C, int64_t inner, bool accumulate) {
    for_rows(outer, C, inner, [&](int64_t off, int64_t) {
        double s = 0.0;
        for (int64_t c = 0; c < C; ++c) s += dout[off + c * inner];
        for (int64_t c = 0; c < C; ++c) {
            const int64_t i = off + c * inner;
            put(dinp + i, dout[i] - std::exp(out[i]) * static_cast<float>(s), accumulate);
        }
    });
}

void cross_entropy_forward(float* loss, float* lse, float* reduced, float* total_weight,
                           float* dinp, const float* inp, const int64_t* target,
                           const ClassLoss& a) {
    const int64_t C = a.C, inner = a.inner;
    const float eps = a.label_smoothing;
    double total = 0.0, sum = 0.0;
    for_rows(a.outer, C, inner, [&](int64_t off, int64_t row) {
        const float* x = inp + off;
        const RowLse r = row_lse(x, C, inner);
        lse[row] = r.lse();
        const int64_t t = target[row];
        if (t == a.ignore_index) {
            loss[row] = 0.0f;
            return;
        }
        const float wt = a.weight ? a.weight[t] : 1.0f;
        double v = -(1.0 - eps) * wt * r.log_softmax(x[t * inner]);
        if (eps > 0.0f) {
            double smooth = 0.0;  // -sum_c w_c log_softmax_c
            for (int64_t c = 0; c < C; ++c)
                smooth -= (a.weight ? a.weight[c] : 1.0) * r.log_softmax(x[c * inner]);
            v += eps / double(C) * smooth;
        }
        loss[row] = static_cast<float>(v);
        total += wt;
        sum += loss[row];
    });
    *total_weight = static_cast<float>(total);
    if (a.reduction != Reduction::none) *reduced = reduce(sum, total, a.reduction);
    if (dinp) {  // the backward for dloss = 1
        const std::vector<float> ones(static_cast<std::size_t>(a.outer * a.inner) + 1, 1.0f);
        cross_entropy_backward(dinp, ones.data(), inp, lse, target, *total_weight, a, false);
    }
}

void cross_entropy_backward(float* dinp, const float* dloss, const float* inp, const float* lse,
                            const int64_t* target, float total_weight, const ClassLoss& a,
                            bool accumulate) {
    const int64_t C = a.C, inner = a.inner;
    const float eps = a.label_smoothing;
    const float wsum = static_cast<float>(class_weight_sum(a));
    for_rows(a.outer, C, inner, [&](int64_t off, int64_t row) {
        const int64_t t = target[row];
        const bool ignored = t == a.ignore_index;
        const float wt = ignored ? 0.0f : (a.weight ? a.weight[t] : 1.0f);
        const float s = grad_scale(dloss, row, a.reduction, total_weight);
        for (int64_t c = 0; c < C; ++c) {
            const int64_t i = off + c * inner;
            const float p = std::exp(inp[i] - lse[row]);
            const float wc = a.weight ? a.weight[c] : 1.0f;
            const float coef = (1.0f - eps) * wt + eps / float(C) * wsum;
            const float hot = (1.0f - eps) * (c == t ? wt : 0.0f) + eps / float(C) * wc;
            put(dinp + i, ignored ? 0.0f : s * (coef * p - hot), accumulate);
        }
    });
}

void cross_entropy_prob_forward(float* loss, float* lse, float* reduced, const float* inp,
                                const float* target, const ClassLoss& a) {
    const int64_t C = a.C, inner = a.inner;
    const float eps = a.label_smoothing;
    double sum = 0.0;
    for_rows(a.outer, C, inner, [&](int64_t off, int64_t row) {
        const RowLse r = row_lse(inp + off, C, inner);
        lse[row] = r.lse();
        double v = 0.0;
        for (int64_t c = 0; c < C; ++c) {
            const int64_t i = off + c * inner;
            const double q = (1.0 - eps) * target[i] + eps / double(C);
            v -= (a.weight ? a.weight[c] : 1.0) * q * r.log_softmax(inp[i]);
        }
        loss[row] = static_cast<float>(v);
        sum += loss[row];
    });
    if (a.reduction != Reduction::none)
        *reduced = reduce(sum, double(a.outer * a.inner), a.reduction);
}

void cross_entropy_prob_backward(float* dinp, float* dtarget, const float* dloss, const float* inp,
                                 const float* lse, const float* target, const ClassLoss& a,
                                 bool accumulate) {
    const int64_t C = a.C, inner = a.inner;
    const float eps = a.label_smoothing;
    const float rows = static_cast<float>(a.outer * a.inner);
    for_rows(a.outer, C, inner, [&](int64_t off, int64_t row) {
        const float s = grad_scale(dloss, row, a.reduction, rows);
        double S = 0.0;  // sum_c w_c q'_c
        for (int64_t c = 0; c < C; ++c)
            S += (a.weight ? a.weight[c] : 1.0) *
                 ((1.0 - eps) * target[off + c * inner] + eps / double(C));
        for (int64_t c = 0; c < C; ++c) {
            const int64_t i = off + c * inner;
            const float wc = a.weight ? a.weight[c] : 1.0f;
            const float q = (1.0f - eps) * target[i] + eps / float(C);
            const float logp = inp[i] - lse[row];
            put(dinp + i, s * (static_cast<float>(S) * std::exp(logp) - wc * q), accumulate);
            if (dtarget) dtarget[i] = -s * (1.0f - eps) * wc * logp;
        }
    });
}

void nll_loss_forward(float* loss, float* reduced, float* total_weight, const float* inp,
                      const int64_t* target, const ClassLoss& a) {
    double total = 0.0, sum = 0.0;
    for_rows(a.outer, a.C, a.inner, [&](int64_t off, int64_t row) {
        const int64_t t = target[row];
        if (t == a.ignore_index) {
            loss[row] = 0.0f;
            return;
        }
        const float wt = a.weight ? a.weight[t] : 1.0f;
        loss[row] = -wt * inp[off + t * a.inner];
        total += wt;
        sum += loss[row];
    });
    *total_weight = static_cast<float>(total);
    if (a.reduction != Reduction::none) *reduced = reduce(sum, total, a.reduction);
}

void nll_loss_backward(float* dinp, const float* dloss, const int64_t* target, float total_weight,
                       const ClassLoss& a, bool accumulate) {
    for_rows(a.outer, a.C, a.inner, [&](int64_t off, int64_t row) {
        const int64_t t = target[row];
        const bool ignored = t == a.ignore_index;  // 0, even where the scale is 1/0 (all ignored)
        const float wt = ignored ? 0.0f : (a.weight ? a.weight[t] : 1.0f);
        const float g = ignored ? 0.0f : -grad_scale(dloss, row, a.reduction, total_weight) * wt;
        for (int64_t c = 0; c < a.C; ++c)
            put(dinp + off + c * a.inner, c == t ? g : 0.0f, accumulate);
    });
}

void binary_cross_entropy_forward(float* loss, float* reduced, const float* inp,
                                  const float* target, const float* weight, int64_t n,
                                  Reduction r) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        const float x = inp[i], t = target[i];
        float v = (t - 1.0f) * clamp_log(std::log1p(-x)) - t * clamp_log(std::log(x));
        if (weight) v *= weight[i];
        if (r == Reduction::none) loss[i] = v;
        sum += v;
    }
    if (r != Reduction::none) *reduced = reduce(sum, double(n), r);
}

void binary_cross_entropy_backward(float* dinp, float* dtarget, const float* dloss,
                                   const float* inp, const float* target, const float* weight,
                                   int64_t n, Reduction r, bool accumulate) {
    for (int64_t i = 0; i < n; ++i) {
        const float x = inp[i], t = target[i];
        const float g = grad_scale(dloss, i, r, float(n)) * (weight ? weight[i] : 1.0f);
        // torch's guard: the derivative's denominator x (1 - x) never below 1e-12.
        put(dinp + i, g * (x - t) / std::fmax((1.0f - x) * x, 1e-12f), accumulate);
        if (dtarget) dtarget[i] = g * (std::log1p(-x) - std::log(x));  // -logit(x), as torch
    }
}

void bce_with_logits_forward(float* loss, float* reduced, const float* inp, const float* target,
                             const float* weight, const float* pos_weight, int64_t n,
                             Reduction r) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        const float x = inp[i], t = target[i];
        const float lw = pos_weight ? 1.0f + (pos_weight[i] - 1.0f) * t : 1.0f;
        float v = (1.0f - t) * x + lw * softplus_neg(x);
        if (weight) v *= weight[i];
        if (r == Reduction::none) loss[i] = v;
        sum += v;
    }
    if (r != Reduction::none) *reduced = reduce(sum, double(n), r);
}

void bce_with_logits_backward(float* dinp, float* dtarget, const float* dloss, const float* inp,
                              const float* target, const float* weight, const float* pos_weight,
                              int64_t n, Reduction r, bool accumulate) {
    for (int64_t i = 0; i < n; ++i) {
        const float x = inp[i], t = target[i];
        const float g = grad_scale(dloss, i, r, float(n)) * (weight ? weight[i] : 1.0f);
        const float pw = pos_weight ? pos_weight[i] : 1.0f;
        put(dinp + i, g * (sigmoid(x) * (1.0f + (pw - 1.0f) * t) - pw * t), accumulate);
        if (dtarget) dtarget[i] = g * (-x + (pw - 1.0f) * softplus_neg(x));
    }
}

void mse_loss_forward(float* loss, float* reduced, float* total_weight, const float* inp,
                      const float* target, const float* weight, int64_t n, Reduction r) {
    double sum = 0.0, wsum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        const float d = inp[i] - target[i];
        const float v = (weight ? weight[i] : 1.0f) * d * d;
        if (r == Reduction::none) loss[i] = v;
        sum += v;
        wsum += weight ? weight[i] : 1.0f;
    }
    *total_weight = static_cast<float>(wsum);
    if (r != Reduction::none) *reduced = reduce(sum, wsum, r);
}

void mse_loss_backward(float* dinp, float* dtarget, const float* dloss, const float* inp,
                       const float* target, const float* weight, float total_weight, int64_t n,
                       Reduction r, bool accumulate) {
    for (int64_t i = 0; i < n; ++i) {
        const float g = grad_scale(dloss, i, r, total_weight) * (weight ? weight[i] : 1.0f);
        const float v = 2.0f * g * (inp[i] - target[i]);
        put(dinp + i, v, accumulate);
        if (dtarget) dtarget[i] = -v;
    }
}

void dropout_forward(float* out, uint8_t* mask, const float* inp, int64_t n, double p,
                     uint64_t seed) {
    const uint64_t threshold = keep_threshold(p);
    const float scale = p < 1.0 ? 1.0f / static_cast<float>(1.0 - p) : 0.0f;
    for (int64_t i = 0; i < n; ++i) {
        const uint64_t u = static_cast<uint64_t>(i);
        const uint32_t bits = counter_bits(static_cast<uint32_t>(u), counter_keys(seed, u >> 32));
        const bool keep = bits >= threshold;
        mask[i] = keep ? 1 : 0;
        out[i] = inp[i] * (keep ? scale : 0.0f);
    }
}

void dropout_backward(float* dinp, const float* dout, const uint8_t* mask, int64_t n, double p,
                      bool accumulate) {
    const float scale = p < 1.0 ? 1.0f / static_cast<float>(1.0 - p) : 0.0f;
    for (int64_t i = 0; i < n; ++i) put(dinp + i, dout[i] * (mask[i] ? scale : 0.0f), accumulate);
}

}  // namespace tn::ref
