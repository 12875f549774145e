// Reference recurrent layers (torch's nn.RNN with tanh/relu and nn.LSTM, one direction): plain
// loops over time, batch, gates and units with libm's tanh/exp, the oracle of cpu/rnn.cpp.
// Workspace (LSTM): activated gates (T, B, 4H) in torch's row order i, f, g, o, then the cell
// states (T, B, H).
#include "ref/ref.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tn::ref {
namespace {

float sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }

// pre[b, r] = b_ih[r] + b_hh[r] + x_row . w_ih[r] + h_row . w_hh[r] for the G*H gate rows r.
void gate_inputs(const RnnLayer& L, const float* xt, const float* hp, float* pre) {
    const int64_t GH = rnn_gates(L.mode) * L.H;
    for (int64_t b = 0; b < L.B; ++b)
        for (int64_t r = 0; r < GH; ++r) {
            float s = L.b_ih ? L.b_ih[r] + L.b_hh[r] : 0.0f;
            for (int64_t k = 0; k < L.I; ++k) s += xt[b * L.I + k] * L.w_ih[r * L.I + k];
            for (int64_t k = 0; k < L.H; ++k) s += hp[b * L.H + k] * L.w_hh[r * L.H + k];
            pre[b * GH + r] = s;
        }
}

}  // namespace

void rnn_forward(const RnnLayer& L, const float* x, const float* h0, const float* c0, float* y,
                 float* h_n, float* c_n, float* ws) {
    const int64_t T = L.T, B = L.B, H = L.H, G = rnn_gates(L.mode), GH = G * H;
    const bool lstm = L.mode == RnnMode::lstm;
    std::vector<float> pre(static_cast<size_t>(B * GH));
    for (int64_t t = 0; t < T; ++t) {
        const float* hp = t ? y + (t - 1) * B * H : h0;
        gate_inputs(L, x + t * B * L.I, hp, pre.data());
        float* yt = y + t * B * H;
        for (int64_t b = 0; b < B; ++b)
            for (int64_t j = 0; j < H; ++j) {
                const float* p = &pre[b * GH];
                if (!lstm) {
                    const float v = p[j];
                    yt[b * H + j] = L.mode == RnnMode::rnn_tanh ? std::tanh(v)
                                                                : (v > 0.0f ? v : (v == v ? 0.0f : v));
                    continue;
                }
                const float i = sigmoid(p[j]), f = sigmoid(p[H + j]), g = std::tanh(p[2 * H + j]),
                            o = sigmoid(p[3 * H + j]);
                const float cp = t ? ws[T * B * GH + (t - 1) * B * H + b * H + j] : c0[b * H + j];
                const float c = f * cp + i * g;
                float* gs = ws + t * B * GH + b * GH;
                gs[j] = i;
                gs[H + j] = f;
                gs[2 * H + j] = g;
                gs[3 * H + j] = o;
                ws[T * B * GH + t * B * H + b * H + j] = c;
                yt[b * H + j] = o * std::tanh(c);
            }
    }
    for (int64_t k = 0; k < B * H; ++k) {
        h_n[k] = T ? y[(T - 1) * B * H + k] : h0[k];
        if (lstm) c_n[k] = T ? ws[T * B * GH + (T - 1) * B * H + k] : c0[k];
    }
}

void rnn_backward(const RnnLayer& L, const float* x, const float* h0, const float* c0,
                  const float* y, const float* ws, const float* dy, const float* dh_n,
                  const float* dc_n, float* dx, float* dh0, float* dc0, float* dw_ih,
                  float* dw_hh, float* db) {
    const int64_t T = L.T, B = L.B, I = L.I, H = L.H, G = rnn_gates(L.mode), GH = G * H;
    const bool lstm = L.mode == RnnMode::lstm;
    std::fill(dw_ih, dw_ih + GH * I, 0.0f);
    std::fill(dw_hh, dw_hh + GH * H, 0.0f);
    if (db) std::fill(db, db + GH, 0.0f);
    // dh, dc: the gradient flowing into the current step's h and c from later steps.
    std::vector<float> dh(static_cast<size_t>(B * H), 0.0f), dc(dh), dpre(static_cast<size_t>(B * GH));
    if (dh_n) std::copy(dh_n, dh_n + B * H, dh.begin());
    if (lstm && dc_n) std::copy(dc_n, dc_n + B * H, dc.begin());
    const float* cells = ws + T * B * GH;
    for (int64_t t = T - 1; t >= 0; --t) {
        const float* hp = t ? y + (t - 1) * B * H : h0;
        for (int64_t b = 0; b < B; ++b)
            for (int64_t j = 0; j < H; ++j) {
                const int64_t k = b * H + j;
                const float d = dh[k] + dy[t * B * H + k];
                const float h = y[t * B * H + k];
                if (!lstm) {
                    dpre[b * GH + j] = L.mode == RnnMode::rnn_tanh ? d * (1.0f - h * h)
                                                                   : (h > 0.0f ? d : 0.0f);
                    continue;
                }
                const float* gs = ws + t * B * GH + b * GH;
                const float i = gs[j], f = gs[H + j], g = gs[2 * H + j], o = gs[3 * H + j];
                const float c = cells[t * B * H + k];
                const float cp = t ? cells[(t - 1) * B * H + k] : c0[k];
                const float tc = std::tanh(c);
                const float dcell = dc[k] + d * o * (1.0f - tc * tc);
                float* dp = &dpre[b * GH];
                dp[j] = dcell * g * i * (1.0f - i);
                dp[H + j] = dcell * cp * f * (1.0f - f);
                dp[2 * H + j] = dcell * i * (1.0f - g * g);
                dp[3 * H + j] = d * tc * o * (1.0f - o);
                dc[k] = dcell * f;
            }
        // dh for step t - 1, dx_t and the weight/bias gradients from this step's dpre.
        const float* xt = x + t * B * I;
        for (int64_t b = 0; b < B; ++b) {
            const float* dp = &dpre[b * GH];
            for (int64_t k = 0; k < H; ++k) {
                float s = 0.0f;
                for (int64_t r = 0; r < GH; ++r) s += dp[r] * L.w_hh[r * H + k];
                dh[b * H + k] = s;
            }
            for (int64_t k = 0; k < I; ++k) {
                float s = 0.0f;
                for (int64_t r = 0; r < GH; ++r) s += dp[r] * L.w_ih[r * I + k];
                dx[t * B * I + b * I + k] = s;
            }
            for (int64_t r = 0; r < GH; ++r) {
                for (int64_t k = 0; k < I; ++k) dw_ih[r * I + k] += dp[r] * xt[b * I + k];
                for (int64_t k = 0; k < H; ++k) dw_hh[r * H + k] += dp[r] * hp[b * H + k];
                if (db) db[r] += dp[r];
            }
        }
    }
    std::copy(dh.begin(), dh.end(), dh0);
    if (lstm) std::copy(dc.begin(), dc.end(), dc0);
}

}  // namespace tn::ref
