// Plain-loop references of every op: no OpenMP, no intrinsics, no blocking. They are the oracle
// of the tests and the fallback for any shape or machine the fast kernels do not take.
#pragma once
#include "core/common.h"
#include "core/loss_types.h"
#include "core/rnn_types.h"
#include "core/attention_types.h"

namespace tn::ref {

// C = alpha * A @ B + beta * C, with A (M, K) and B (K, N) strided views (transposes folded into
// their strides) and C (M, N) row-major with leading dimension ldc. C is not read when beta == 0.
void gemm(int64_t M, int64_t N, int64_t K, float alpha, ConstMat A, ConstMat B, float beta,
          float* C, int64_t ldc);

}  // namespace tn::ref

namespace tn::ref {

// Activations, elementwise over n floats. Backward kernels follow one convention: they write
// dinp = dout * f'(...) when accumulate is false and add it to dinp when true. They take the
// forward's output (relu, sigmoid, tanh all differentiate through it), never its input.
void relu_forward(float* out, const float* inp, int64_t n);
void relu_backward(float* dinp, const float* dout, const float* out, int64_t n, bool accumulate);
void sigmoid_forward(float* out, const float* inp, int64_t n);
void sigmoid_backward(float* dinp, const float* dout, const float* out, int64_t n, bool accumulate);
void tanh_forward(float* out, const float* inp, int64_t n);
void tanh_backward(float* dinp, const float* dout, const float* out, int64_t n, bool accumulate);

}  // namespace tn::ref

namespace tn::ref {

// Dense layer, torch layout: out (M, N) = inp (M, K) @ weight (N, K)^T + bias (N, or null).
// Backward writes (or with accumulate adds) dinp = dout @ weight, dweight = dout^T @ inp and
// dbias = column sums of dout; a null gradient pointer is skipped.
void linear_forward(float* out, ConstMat inp, ConstMat weight, const float* bias, int64_t M,
                    int64_t N, int64_t K);
void linear_backward(float* dinp, float* dweight, float* dbias, ConstMat dout, ConstMat inp,
                     ConstMat weight, int64_t M, int64_t N, int64_t K, bool accumulate);

}  // namespace tn::ref

namespace tn::ref {

// Softmax, log_softmax, the losses and dropout: the same signatures, conventions and saved
// buffers as the fast kernels in cpu/loss.h (documented there).
void softmax_forward(float* out, const float* inp, int64_t outer, int64_t C, int64_t inner);
void softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer, int64_t C,
                      int64_t inner, bool accumulate);
void log_softmax_forward(float* out, const float* inp, int64_t outer, int64_t C, int64_t inner);
void log_softmax_backward(float* dinp, const float* dout, const float* out, int64_t outer,
                          int64_t C, int64_t inner, bool accumulate);
void cross_entropy_forward(float* loss, float* lse, float* reduced, float* total_weight,
                           float* dinp, const float* inp, const int64_t* target,
                           const ClassLoss& a);
void cross_entropy_backward(float* dinp, const float* dloss, const float* inp, const float* lse,
                            const int64_t* target, float total_weight, const ClassLoss& a,
                            bool accumulate);
void cross_entropy_prob_forward(float* loss, float* lse, float* reduced, const float* inp,
                                const float* target, const ClassLoss& a);
void cross_entropy_prob_backward(float* dinp, float* dtarget, const float* dloss, const float* inp,
                                 const float* lse, const float* target, const ClassLoss& a,
                                 bool accumulate);
void nll_loss_forward(float* loss, float* reduced, float* total_weight, const float* inp,
                      const int64_t* target, const ClassLoss& a);
void nll_loss_backward(float* dinp, const float* dloss, const int64_t* target, float total_weight,
                       const ClassLoss& a, bool accumulate);
void binary_cross_entropy_forward(float* loss, float* reduced, const float* inp,
                                  const float* target, const float* weight, int64_t n,
                                  Reduction r);
void binary_cross_entropy_backward(float* dinp, float* dtarget, const float* dloss,
                                   const float* inp, const float* target, const float* weight,
                                   int64_t n, Reduction r, bool accumulate);
void bce_with_logits_forward(float* loss, float* reduced, const float* inp, const float* target,
                             const float* weight, const float* pos_weight, int64_t n, Reduction r);
void bce_with_logits_backward(float* dinp, float* dtarget, const float* dloss, const float* inp,
                              const float* target, const float* weight, const float* pos_weight,
                              int64_t n, Reduction r, bool accumulate);
void mse_loss_forward(float* loss, float* reduced, float* total_weight, const float* inp,
                      const float* target, const float* weight, int64_t n, Reduction r);
void mse_loss_backward(float* dinp, float* dtarget, const float* dloss, const float* inp,
                       const float* target, const float* weight, float total_weight, int64_t n,
                       Reduction r, bool accumulate);
void dropout_forward(float* out, uint8_t* mask, const float* inp, int64_t n, double p,
                     uint64_t seed);
void dropout_backward(float* dinp, const float* dout, const uint8_t* mask, int64_t n, double p,
                      bool accumulate);

}  // namespace tn::ref

namespace tn {

// Geometry of a 2-D pooling over N*C planes of H x W (NCHW, or CHW with N = 1), output OH x OW.
// Windows start at o * stride - pad; max pool steps through a window by dilation (avg: 1).
struct Pool2d {
    int64_t planes, H, W, OH, OW;
    int64_t kh, kw, sh, sw, ph, pw, dh, dw;
};

}  // namespace tn

namespace tn::ref {

// Pooling (NCHW float32). max_pool2d_forward writes each window's max and, in `indices` (same
// shape as out), the position h * W + w of that max in its input plane: the first maximum in
// window order, or the last NaN (torch's rule: a NaN wins). The backward adds each dout to the
// one input its index names. avg divides by divisor_override when not 0, else by the window's
// size clipped to the padded input (count_include_pad) or to the input itself. Backward kernels
// overwrite dinp, or add to it when accumulate is true.
void max_pool2d_forward(float* out, int32_t* indices, const float* inp, const Pool2d& g);
void max_pool2d_backward(float* dinp, const float* dout, const int32_t* indices, const Pool2d& g,
                         bool accumulate);
void avg_pool2d_forward(float* out, const float* inp, const Pool2d& g, bool count_include_pad,
                        int64_t divisor_override);
void avg_pool2d_backward(float* dinp, const float* dout, const Pool2d& g, bool count_include_pad,
                         int64_t divisor_override, bool accumulate);

}  // namespace tn::ref

namespace tn::ref {

// Embedding (torch's F.embedding): out (n, D) row i = weight (V, D) row indices[i]. The backward
// adds dout row i into dweight row indices[i], in index order, skipping rows whose index equals
// padding_idx (-1: none); it overwrites dweight (rows never indexed become 0) unless accumulate.
// Indices are int64 and already checked to lie in [0, V) by the caller (the binding).
void embedding_forward(float* out, const int64_t* indices, const float* weight, int64_t n,
                       int64_t V, int64_t D);
void embedding_backward(float* dweight, const float* dout, const int64_t* indices, int64_t n,
                        int64_t V, int64_t D, int64_t padding_idx, bool accumulate);

}  // namespace tn::ref

#include "cpu/conv.h"  // ConvDims

namespace tn::ref {

// conv2d over NCHW with groups, the same signatures and convention as cpu/conv.h.
void conv2d_forward(float* out, const float* x, const float* weight, const float* bias,
                    const ConvDims& d);
void conv2d_backward(float* dx, float* dweight, float* dbias, const float* dout, const float* x,
                     const float* weight, const ConvDims& d);

}  // namespace tn::ref

namespace tn::ref {

// One recurrent layer (torch's nn.RNN / nn.LSTM, one direction), see core/rnn_types.h. The
// forward writes y, h_n and (LSTM) c_n from h0 and (LSTM) c0, and fills ws
// (rnn_workspace_floats(L)). The backward takes dy (T, B, H) and optional (null: zero) dh_n,
// dc_n, and overwrites dx, dh0, dc0 (LSTM), dw_ih, dw_hh and db (the gradient of b_ih, which is
// also b_hh's; null when the layer has no bias). c0, c_n, dc_n, dc0 are ignored by the plain RNN.
void rnn_forward(const RnnLayer& L, const float* x, const float* h0, const float* c0, float* y,
                 float* h_n, float* c_n, float* ws);
void rnn_backward(const RnnLayer& L, const float* x, const float* h0, const float* c0,
                  const float* y, const float* ws, const float* dy, const float* dh_n,
                  const float* dc_n, float* dx, float* dh0, float* dc0, float* dw_ih,
                  float* dw_hh, float* db);

}  // namespace tn::ref

namespace tn::ref {

// Scaled dot-product attention (core/attention_types.h). The forward writes out (B, Hq, Tq, Dv)
// and lse (B, Hq, Tq): each query's log-sum-exp of its scaled, masked scores (+inf for a query
// that sees no key). The backward takes dout and the forward's out and lse and overwrites dq,
// dk, dv (a key/value head shared by several query heads gets their sum).
void attention_forward(const Attention& a, Heads q, Heads k, Heads v, MutHeads out, float* lse);
void attention_backward(const Attention& a, Heads q, Heads k, Heads v, Heads out,
                        const float* lse, Heads dout, MutHeads dq, MutHeads dk, MutHeads dv);

}  // namespace tn::ref

namespace tn::ref {

// Layer normalisation over the last N values of M rows (torch's F.layer_norm), the same
// signatures and convention as cpu/layer_norm.h, every sum in double. The forward writes out
// (M, N) and saves mean (M) and rstd (M) = 1 / sqrt(biased variance + eps); the backward
// overwrites dx (M, N), dweight (N) and dbias (N), skipping any that is null. weight and bias
// (N) may be null (no affine, or no shift).
void layer_norm_forward(float* out, float* mean, float* rstd, const float* x, const float* weight,
                        const float* bias, int64_t M, int64_t N, double eps);
void layer_norm_backward(float* dx, float* dweight, float* dbias, const float* dout,
                         const float* x, const float* mean, const float* rstd,
                         const float* weight, int64_t M, int64_t N);

}  // namespace tn::ref
