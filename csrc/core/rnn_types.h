// Argument types shared by the recurrent kernels (cpu/rnn.h) and their references (ref/ref.h):
// one layer, one direction, time-major, torch's parameter layout.
#pragma once
#include <cstdint>

namespace tn {

// torch's nn.RNN (nonlinearity 'tanh' / 'relu') and nn.LSTM.
enum class RnnMode : int { rnn_tanh = 0, rnn_relu = 1, lstm = 2 };

// Gates per hidden unit: the LSTM's i, f, g, o (in torch's order), the plain RNN's one.
inline int64_t rnn_gates(RnnMode m) { return m == RnnMode::lstm ? 4 : 1; }

// x (T, B, I), states (B, H), output y (T, B, H): all C-contiguous float32.
// w_ih (G*H, I), w_hh (G*H, H), b_ih and b_hh (G*H,) or both null (bias=False).
struct RnnLayer {
    RnnMode mode;
    int64_t T, B, I, H;
    const float* w_ih;
    const float* w_hh;
    const float* b_ih;
    const float* b_hh;
};

// Floats the forward saves for the backward (opaque: the fast kernel and the reference lay it
// out differently, so a workspace goes back to the variant that wrote it). The LSTM keeps its
// activated gates (T, B, 4H) and cell states (T, B, H); the plain RNN differentiates through y.
inline int64_t rnn_workspace_floats(const RnnLayer& L) {
    return L.mode == RnnMode::lstm ? L.T * L.B * 5 * L.H : 0;
}

}  // namespace tn
