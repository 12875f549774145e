// Fast softmax/log_softmax, losses and dropout: the entry points take the table of active_isa()'s
// variant (loss_impl.h, compiled here as tn::generic and in isa/ for AVX2 and AVX-512). nll and
// the binary cross entropies are portable loops here: a libm log per element, or a gather.
#include "cpu/loss.h"
#include "core/dispatch.h"

#define TN_ISA_NS generic
#include "cpu/loss_impl.h"
#undef TN_ISA_NS

namespace tn {

TN_ISA_TABLE(LossTable, loss_table)

namespace {

using generic::blocked_sum;
using generic::grad_scale;
using generic::kGrain;
using generic::reduce;

inline float clamp_log(float l) { return l < -100.0f ? -100.0f : l; }  // NaN stays NaN

inline float sigmoid(float x) {
    const float e = std::exp(-std::fabs(x));
    return x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

// log(1 + e^-x) without overflow: max(-x, 0) + log1p(e^-|x|).
inline float softplus_neg(float x) {
    return std::fmax(-x, 0.0f) + std::log1p(std::exp(-std::fabs(x)));
}

// An elementwise loss: loss (n) for none, else *reduced = sum (/ n for mean), fixed block order.
template <typename F>
void pointwise_loss(float* loss, float* reduced, int64_t n, Reduction r, F f) {
    if (r == Reduction::none) {
        parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) loss[i] = f(i);
        });
        return;
    }
    *reduced = reduce(blocked_sum(n, f), double(n), r);
}

}  // namespace

void softmax_forward(float* out, const float* inp, int64_t outer, int64_t C, int64_t inner) {
    table().softmax_forward(out, inp, outer, C, inner);
}
void softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer, int64_t C,
                      int64_t inner, bool accumulate) {
    table().softmax_backward(dinp, dout, out, outer, C, inner, accumulate);
}
void log_softmax_forward(float* out, const float* inp, int64_t outer, int64_t C, int64_t inner) {
    table().log_softmax_forward(out, inp, outer, C, inner);
}
void log_softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer,
                          int64_t C, int64_t inner, bool accumulate) {
    table().log_softmax_backward(dinp, dout, out, outer, C, inner, accumulate);
}
void cross_entropy_forward(float* loss, float* lse, float* reduced, float* total_weight,
                           float* dinp, const float* inp, const int64_t* target,
                           const ClassLoss& a) {
    table().cross_entropy_forward(loss, lse, reduced, total_weight, dinp, inp, target, a);
}
void cross_entropy_backward(float* dinp, const float* dloss, const float* inp, const float* lse,
                            const int64_t* target, float total_weight, const ClassLoss& a,
                            bool accumulate) {
    table().cross_entropy_backward(dinp, dloss, inp, lse, target, total_weight, a, accumulate);
}
void cross_entropy_prob_forward(float* loss, float* lse, float* reduced, const float* inp,
                                const float* target, const ClassLoss& a) {
    table().cross_entropy_prob_forward(loss, lse, reduced, inp, target, a);
}
void cross_entropy_prob_backward(float* dinp, float* dtarget, const float* dloss, const float* inp,
                                 const float* lse, const float* target, const ClassLoss& a,
                                 bool accumulate) {
    table().cross_entropy_prob_backward(dinp, dtarget, dloss, inp, lse, target, a, accumulate);
}
void mse_loss_forward(float* loss, float* reduced, float* total_weight, const float* inp,
                      const float* target, const float* weight, int64_t n, Reduction r) {
    table().mse_loss_forward(loss, reduced, total_weight, inp, target, weight, n, r);
}
void mse_loss_backward(float* dinp, float* dtarget, const float* dloss, const float* inp,
                       const float* target, const float* weight, float total_weight, int64_t n,
                       Reduction r, bool accumulate) {
    table().mse_loss_backward(dinp, dtarget, dloss, inp, target, weight, total_weight, n, r,
                              accumulate);
}
void dropout_forward(float* out, uint8_t* mask, const float* inp, int64_t n, double p,
                     uint64_t seed) {
    table().dropout_forward(out, mask, inp, n, p, seed);
}
void dropout_backward(float* dinp, const float* dout, const uint8_t* mask, int64_t n, double p,
                      bool accumulate) {
    table().dropout_backward(dinp, dout, mask, n, p, accumulate);
}

// ------------------------------------------------------------------------------------- nll

void nll_loss_forward(float* loss, float* reduced, float* total_weight, const float* inp,
                      const int64_t* target, const ClassLoss& a) {
    const int64_t rows = a.outer * a.inner;
    auto weight_of = [&](int64_t r) {
        const int64_t t = target[r];
        return t == a.ignore_index ? 0.0f : (a.weight ? a.weight[t] : 1.0f);
    };
    parallel_chunks(rows, kGrain, [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
            const int64_t t = target[r];
            const int64_t i = (r / a.inner) * a.C * a.inner + r % a.inner + t * a.inner;
            loss[r] = t == a.ignore_index ? 0.0f : -weight_of(r) * inp[i];
        }
    });
    const double total = blocked_sum(rows, weight_of);
    *total_weight = static_cast<float>(total);
    if (a.reduction != Reduction::none)
        *reduced =
            reduce(blocked_sum(rows, [&](int64_t r) { return loss[r]; }), total, a.reduction);
}

void nll_loss_backward(float* dinp, const float* dloss, const int64_t* target, float total_weight,
                       const ClassLoss& a, bool accumulate) {
    generic::for_rows(a.outer, a.C, a.inner, [&](int64_t off, int64_t row, auto ix) {
        float* d = dinp + off;
        if (!accumulate)
            for (int64_t c = 0; c < a.C; ++c) d[ix(c)] = 0.0f;
        const int64_t t = target[row];
        if (t == a.ignore_index) return;
        const float wt = a.weight ? a.weight[t] : 1.0f;
        d[ix(t)] -= grad_scale(dloss, row, a.reduction, total_weight) * wt;
    });
}

// ------------------------------------------------------------------ binary cross entropies

void binary_cross_entropy_forward(float* loss, float* reduced, const float* inp,
                                  const float* target, const float* weight, int64_t n,
                                  Reduction r) {
    pointwise_loss(loss, reduced, n, r, [&](int64_t i) {
        const float x = inp[i], t = target[i];
        const float v = (t - 1.0f) * clamp_log(std::log1p(-x)) - t * clamp_log(std::log(x));
        return weight ? v * weight[i] : v;
    });
}

void binary_cross_entropy_backward(float* dinp, float* dtarget, const float* dloss,
                                   const float* inp, const float* target, const float* weight,
                                   int64_t n, Reduction r, bool accumulate) {
    parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
            const float x = inp[i], t = target[i];
            const float g = grad_scale(dloss, i, r, float(n)) * (weight ? weight[i] : 1.0f);
            // torch's guard: the derivative's denominator x (1 - x) never below 1e-12.
            const float v = g * (x - t) / std::fmax((1.0f - x) * x, 1e-12f);
            dinp[i] = accumulate ? dinp[i] + v : v;
            if (dtarget) dtarget[i] = g * (std::log1p(-x) - std::log(x));  // -logit(x), as torch
        }
    });
}

void bce_with_logits_forward(float* loss, float* reduced, const float* inp, const float* target,
                             const float* weight, const float* pos_weight, int64_t n,
                             Reduction r) {
    pointwise_loss(loss, reduced, n, r, [&](int64_t i) {
        const float x = inp[i], t = target[i];
        const float lw = pos_weight ? 1.0f + (pos_weight[i] - 1.0f) * t : 1.0f;
        const float v = (1.0f - t) * x + lw * softplus_neg(x);
        return weight ? v * weight[i] : v;
    });
}

void bce_with_logits_backward(float* dinp, float* dtarget, const float* dloss, const float* inp,
                              const float* target, const float* weight, const float* pos_weight,
                              int64_t n, Reduction r, bool accumulate) {
    parallel_chunks(n, kGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
            const float x = inp[i], t = target[i];
            const float g = grad_scale(dloss, i, r, float(n)) * (weight ? weight[i] : 1.0f);
            const float pw = pos_weight ? pos_weight[i] : 1.0f;
            const float v = g * (sigmoid(x) * (1.0f + (pw - 1.0f) * t) - pw * t);
            dinp[i] = accumulate ? dinp[i] + v : v;
            if (dtarget) dtarget[i] = g * (-x + (pw - 1.0f) * softplus_neg(x));
        }
    });
}

// ------------------------------------------------------------------------------------ checks

int64_t find_bad_target(const int64_t* target, int64_t n, int64_t C, int64_t ignore_index) {
    for (int64_t i = 0; i < n; ++i)
        if (target[i] != ignore_index && (target[i] < 0 || target[i] >= C)) return i;
    return -1;
}

int64_t find_outside_unit(const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
        if (x[i] < 0.0f || x[i] > 1.0f) return i;
    return -1;
}

}  // namespace tn
