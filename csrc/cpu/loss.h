// Fast softmax, log_softmax, the losses (cross entropy, nll, binary cross entropy, mse) and
// dropout, forward and backward, on raw float32 buffers. The plain-loop references with the same
// signatures are in ref/ref.h (tn::ref); the bindings validate everything before calling these.
//
// Gradient convention (as the activations): a backward kernel writes dinp, or with `accumulate`
// adds into it; an optional second gradient (dtarget, null to skip) is always written. What the
// backward needs the forward saves in caller-owned buffers (log-sum-exp, total weight, mask).
#pragma once
#include "core/common.h"
#include "core/loss_types.h"

namespace tn {

// ---- softmax / log_softmax over the middle axis of a contiguous array viewed as
// (outer, C, inner), so any `dim` works without a transpose. Max-subtracted; NaN in, NaN out.
// Backward kernels take the forward's output y: softmax dinp = y * (dout - sum(dout * y)),
// log_softmax dinp = dout - exp(y) * sum(dout).
void softmax_forward(float* out, const float* inp, int64_t outer, int64_t C, int64_t inner);
void softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer, int64_t C,
                      int64_t inner, bool accumulate);
void log_softmax_forward(float* out, const float* inp, int64_t outer, int64_t C, int64_t inner);
void log_softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer,
                          int64_t C, int64_t inner, bool accumulate);

// ---- losses over classes (ClassLoss in core/loss_types.h: layout, weight, options).

// Cross entropy from logits with class-index targets (every target in [0, C) or ignore_index:
// the bindings check with find_bad_target first). Writes loss (rows,) per position (weighted),
// lse (rows,) the log-sum-exp saved for the backward, *total_weight = sum of weight[target] over
// positions not ignored, and for mean/sum *reduced = sum(loss) (/ total_weight for mean, torch's
// rule, label smoothing included). Backward: dinp = s * (a * softmax - b) in one pass, where
// s = dloss[row] (none), dloss[0] (sum) or dloss[0] / total_weight (mean). A forward given a
// dinp (null to skip) also writes the backward's result for dloss = 1 (all ones for none) while
// the row is in cache: training's loss.backward() then costs no second pass over the logits.
void cross_entropy_forward(float* loss, float* lse, float* reduced, float* total_weight,
                           float* dinp, const float* inp, const int64_t* target,
                           const ClassLoss& a);
void cross_entropy_backward(float* dinp, const float* dloss, const float* inp, const float* lse,
                            const int64_t* target, float total_weight, const ClassLoss& a,
                            bool accumulate);

// Cross entropy with class-probability targets of the input's shape (no ignore_index, as torch):
// loss = -sum_c weight_c * t'_c * log_softmax_c, mean divides by rows. dtarget (input's shape,
// null to skip) = -s * (1 - label_smoothing) * weight_c * log_softmax_c.
void cross_entropy_prob_forward(float* loss, float* lse, float* reduced, const float* inp,
                                const float* target, const ClassLoss& a);
void cross_entropy_prob_backward(float* dinp, float* dtarget, const float* dloss, const float* inp,
                                 const float* lse, const float* target, const ClassLoss& a,
                                 bool accumulate);

// Negative log likelihood on log-probabilities: loss = -weight[t] * inp[t]; same reduction and
// total weight as cross_entropy (label_smoothing unused). The backward only needs the targets.
void nll_loss_forward(float* loss, float* reduced, float* total_weight, const float* inp,
                      const int64_t* target, const ClassLoss& a);
void nll_loss_backward(float* dinp, const float* dloss, const int64_t* target, float total_weight,
                       const ClassLoss& a, bool accumulate);

// ---- elementwise losses over n elements; weight and pos_weight are full-size (n) or null.
// Forward writes loss (n) for Reduction::none, else only *reduced (mean divides by n, or for a
// weighted mse by *total_weight). dloss is (n) for none, else one scalar.

// Binary cross entropy on probabilities (inputs in [0, 1]: bindings check with
// find_outside_unit): -w * (t * log(x) + (1 - t) * log(1 - x)), each log clamped at -100.
// dinp = s w (x - t) / max(x (1 - x), 1e-12) and dtarget = -s w logit(x), as torch.
void binary_cross_entropy_forward(float* loss, float* reduced, const float* inp,
                                  const float* target, const float* weight, int64_t n,
                                  Reduction r);
void binary_cross_entropy_backward(float* dinp, float* dtarget, const float* dloss,
                                   const float* inp, const float* target, const float* weight,
                                   int64_t n, Reduction r, bool accumulate);

// Binary cross entropy on logits, stable for any x: w * ((1 - t) x + (1 + (pw - 1) t) *
// softplus(-x)), pw = pos_weight (1 when null). dinp = s w (sigmoid(x) (1 + (pw - 1) t) - pw t),
// dtarget = s w ((pw - 1) softplus(-x) - x).
void bce_with_logits_forward(float* loss, float* reduced, const float* inp, const float* target,
                             const float* weight, const float* pos_weight, int64_t n, Reduction r);
void bce_with_logits_backward(float* dinp, float* dtarget, const float* dloss, const float* inp,
                              const float* target, const float* weight, const float* pos_weight,
                              int64_t n, Reduction r, bool accumulate);

// Mean squared error w * (x - t)^2; *total_weight = sum(w) (n when weight is null) divides the
// mean. dtarget = -dinp.
void mse_loss_forward(float* loss, float* reduced, float* total_weight, const float* inp,
                      const float* target, const float* weight, int64_t n, Reduction r);
void mse_loss_backward(float* dinp, float* dtarget, const float* dloss, const float* inp,
                       const float* target, const float* weight, float total_weight, int64_t n,
                       Reduction r, bool accumulate);

// ---- dropout: element i is kept when the counter-based bits of (seed, i) pass p
// (core/counter_rng.h): the mask depends on neither the thread count nor the variant.
// out = x * (mask ? 1 / (1 - p) : 0) (torch's arithmetic; NaN stays NaN); mask (n) is 0/1
// bytes. p = 1 drops everything.
void dropout_forward(float* out, uint8_t* mask, const float* inp, int64_t n, double p,
                     uint64_t seed);
void dropout_backward(float* dinp, const float* dout, const uint8_t* mask, int64_t n, double p,
                      bool accumulate);

// ---- checks the bindings run before any kernel writes (cheap, serial, no Python).
// Position of the first target outside [0, C) that is not ignore_index, or -1.
int64_t find_bad_target(const int64_t* target, int64_t n, int64_t C, int64_t ignore_index);
// Position of the first element outside [0, 1], or -1 (NaN passes: NaN in, NaN out).
int64_t find_outside_unit(const float* x, int64_t n);

// The kernels compiled once per CPU variant (loss_impl.h builds one table per variant); nll and
// the binary cross entropies (a libm log per element, nothing to vectorise) live in loss.cpp.
struct LossTable {
    void (*softmax_forward)(float*, const float*, int64_t, int64_t, int64_t);
    void (*softmax_backward)(float*, const float*, const float*, int64_t, int64_t, int64_t, bool);
    void (*log_softmax_forward)(float*, const float*, int64_t, int64_t, int64_t);
    void (*log_softmax_backward)(float*, const float*, const float*, int64_t, int64_t, int64_t,
                                 bool);
    void (*cross_entropy_forward)(float*, float*, float*, float*, float*, const float*,
                                  const int64_t*, const ClassLoss&);
    void (*cross_entropy_backward)(float*, const float*, const float*, const float*,
                                   const int64_t*, float, const ClassLoss&, bool);
    void (*cross_entropy_prob_forward)(float*, float*, float*, const float*, const float*,
                                       const ClassLoss&);
    void (*cross_entropy_prob_backward)(float*, float*, const float*, const float*, const float*,
                                        const float*, const ClassLoss&, bool);
    void (*mse_loss_forward)(float*, float*, float*, const float*, const float*, const float*,
                             int64_t, Reduction);
    void (*mse_loss_backward)(float*, float*, const float*, const float*, const float*,
                              const float*, float, int64_t, Reduction, bool);
    void (*dropout_forward)(float*, uint8_t*, const float*, int64_t, double, uint64_t);
    void (*dropout_backward)(float*, const float*, const uint8_t*, int64_t, double, bool);
};

}  // namespace tn
