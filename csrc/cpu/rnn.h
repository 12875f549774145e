// Fast recurrent layers (torch's nn.RNN tanh/relu and nn.LSTM, one layer, one direction): the
// same signatures and gradient convention as the references in ref/ref.h (see
// core/rnn_types.h), a different (opaque) workspace layout.
//
// How it runs: the input projection of all timesteps is one GEMM; W_hh is packed once per call
// and each timestep's recurrent product (M = batch, N = gates x H, K = H) is split across the
// threads of one persistent team by blocks of hidden units, each thread applying the gate
// nonlinearities and cell update to its own block right after its product (one barrier per
// step). The backward runs only the recurrence step by step; dW_ih, dW_hh, dX and the bias
// gradient are large GEMMs over all timesteps afterwards.
#pragma once
#include "core/common.h"
#include "core/rnn_types.h"

namespace tn {

void rnn_forward(const RnnLayer& L, const float* x, const float* h0, const float* c0, float* y,
                 float* h_n, float* c_n, float* ws);
void rnn_backward(const RnnLayer& L, const float* x, const float* h0, const float* c0,
                  const float* y, const float* ws, const float* dy, const float* dh_n,
                  const float* dc_n, float* dx, float* dh0, float* dc0, float* dw_ih,
                  float* dw_hh, float* db);

// ---- internals shared by rnn.cpp and the per-variant loops in rnn_impl.h ----

// Gate columns are stored blocked: hidden units in blocks of kRnnBlock; block k of width w
// (kRnnBlock, or less for the last) holds its G gates side by side, gate g of unit
// k * kRnnBlock + u at column k * G * kRnnBlock + g * w + u. A thread owning a block thus owns
// every gate of its units; kRnnBlock is a multiple of every variant's NR.
constexpr int64_t kRnnBlock = 32;

// torch's row (g * H + unit) of blocked gate column p.
inline int64_t rnn_torch_row(int64_t p, int64_t H, int64_t G) {
    const int64_t blk = p / (G * kRnnBlock), rem = p - blk * G * kRnnBlock;
    const int64_t w = H - blk * kRnnBlock < kRnnBlock ? H - blk * kRnnBlock : kRnnBlock;
    return (rem / w) * H + blk * kRnnBlock + rem % w;
}

// The elementwise part of one timestep for hidden units [j0, j1) (j0 a block start) of all B
// rows, per CPU variant. Gates are (B, G*H) blocked; states (B, H).
struct RnnTable {
    // LSTM: gates in: pre-activations without the bias (blocked, G*H), out:
    // activated i, f, g, o. c = f c_prev + i g, h = o tanh(c).
    void (*lstm_forward)(int64_t B, int64_t H, int64_t j0, int64_t j1, float* gates,
                         const float* bias, const float* c_prev, float* c, float* h);
    // dh: the step's whole gradient into h; dc: in, from the next step; out, to the previous.
    void (*lstm_backward)(int64_t B, int64_t H, int64_t j0, int64_t j1, const float* gates,
                          const float* c_prev, const float* c, const float* dh, float* dc,
                          float* dgates);
    // Plain RNN: h = tanh(pre + bias) or relu(pre + bias) in place (bias (H));
    // dpre = dh * act'(h).
    void (*rnn_forward)(bool relu, int64_t B, int64_t H, int64_t j0, int64_t j1, float* h,
                        const float* bias);
    void (*rnn_backward)(bool relu, int64_t B, int64_t H, int64_t j0, int64_t j1, const float* h,
                         const float* dh, float* dpre);
};

}  // namespace tn
