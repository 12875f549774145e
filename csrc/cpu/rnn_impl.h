// The elementwise part of a recurrent timestep (LSTM gates and cell update, the plain RNN's
// tanh/relu, and their gradients), written once and compiled once per CPU variant: rnn.cpp
// includes this file as tn::generic, isa/rnn_avx2.cpp and isa/rnn_avx512.cpp as tn::avx2 and
// tn::avx512 with their flags. The inner loops run along one block's units (vectorised 4, 8 or
// 16 wide). Define TN_ISA_NS before including it.
#include "cpu/rnn.h"
#include "cpu/tanh_sigmoid_impl.h"

#ifndef TN_ISA_NS
#error "define TN_ISA_NS (generic, avx2 or avx512) before including cpu/rnn_impl.h"
#endif

namespace tn::TN_ISA_NS {
namespace {

// Calls fn(b, u0, w, gcol) for every row b and block of [j0, j1): units [u0, u0 + w), whose
// gates start at column gcol of the row (see rnn.h's blocked layout).
template <typename Fn>
inline void for_blocks(int64_t B, int64_t H, int64_t G, int64_t j0, int64_t j1, Fn fn) {
    for (int64_t b = 0; b < B; ++b)
        for (int64_t u0 = j0; u0 < j1; u0 += kRnnBlock) {
            const int64_t w = H - u0 < kRnnBlock ? H - u0 : kRnnBlock;
            fn(b, u0, w, (u0 / kRnnBlock) * G * kRnnBlock);
        }
}

// One block's units [0, w) of one row: its gates gi, gf, gg, go (each w wide, disjoint) in,
// without their biases (the block's four at bias, bias + w, ...), activated out.
inline void lstm_block_forward(int64_t w, float* TN_RESTRICT gi, float* TN_RESTRICT gf,
                               float* TN_RESTRICT gg, float* TN_RESTRICT go,
                               const float* TN_RESTRICT bias, const float* TN_RESTRICT cp,
                               float* TN_RESTRICT cn, float* TN_RESTRICT hn) {
    for (int64_t u = 0; u < w; ++u) {
        const float i = sigmoid_fast(gi[u] + bias[u]), f = sigmoid_fast(gf[u] + bias[w + u]);
        const float z = tanh_fast(gg[u] + bias[2 * w + u]);
        const float o = sigmoid_fast(go[u] + bias[3 * w + u]);
        const float cv = f * cp[u] + i * z;
        gi[u] = i;
        gf[u] = f;
        gg[u] = z;
        go[u] = o;
        cn[u] = cv;
        hn[u] = o * tanh_fast(cv);
    }
}

void lstm_forward(int64_t B, int64_t H, int64_t j0, int64_t j1, float* gates, const float* bias,
                  const float* c_prev, float* c, float* h) {
    for_blocks(B, H, 4, j0, j1, [&](int64_t b, int64_t u0, int64_t w, int64_t gcol) {
        float* g = gates + b * 4 * H + gcol;
        lstm_block_forward(w, g, g + w, g + 2 * w, g + 3 * w, bias + gcol, c_prev + b * H + u0,
                           c + b * H + u0, h + b * H + u0);
    });
}

inline void lstm_block_backward(int64_t w, const float* TN_RESTRICT gi,
                                const float* TN_RESTRICT gf, const float* TN_RESTRICT gg,
                                const float* TN_RESTRICT go, const float* TN_RESTRICT cp,
                                const float* TN_RESTRICT cv, const float* TN_RESTRICT d,
                                float* TN_RESTRICT dcell, float* TN_RESTRICT di,
                                float* TN_RESTRICT df, float* TN_RESTRICT dz,
                                float* TN_RESTRICT dout) {
    for (int64_t u = 0; u < w; ++u) {
        const float i = gi[u], f = gf[u], z = gg[u], o = go[u];
        const float tc = tanh_fast(cv[u]);
        const float dct = dcell[u] + d[u] * o * (1.0f - tc * tc);
        di[u] = dct * z * i * (1.0f - i);
        df[u] = dct * cp[u] * f * (1.0f - f);
        dz[u] = dct * i * (1.0f - z * z);
        dout[u] = d[u] * tc * o * (1.0f - o);
        dcell[u] = dct * f;
    }
}

void lstm_backward(int64_t B, int64_t H, int64_t j0, int64_t j1, const float* gates,
                   const float* c_prev, const float* c, const float* dh, float* dc,
                   float* dgates) {
    for_blocks(B, H, 4, j0, j1, [&](int64_t b, int64_t u0, int64_t w, int64_t gcol) {
        const float* g = gates + b * 4 * H + gcol;
        float* dg = dgates + b * 4 * H + gcol;
        const int64_t s = b * H + u0;
        lstm_block_backward(w, g, g + w, g + 2 * w, g + 3 * w, c_prev + s, c + s, dh + s, dc + s,
                            dg, dg + w, dg + 2 * w, dg + 3 * w);
    });
}

void rnn_forward(bool relu, int64_t B, int64_t H, int64_t j0, int64_t j1, float* h,
                 const float* bias) {
    const float* TN_RESTRICT bv = bias;
    for (int64_t b = 0; b < B; ++b) {
        float* TN_RESTRICT p = h + b * H;
        if (relu)
            for (int64_t u = j0; u < j1; ++u) {
                const float v = p[u] + bv[u];
                p[u] = v < 0.0f ? 0.0f : v;
            }
        else
            for (int64_t u = j0; u < j1; ++u) p[u] = tanh_fast(p[u] + bv[u]);
    }
}

void rnn_backward(bool relu, int64_t B, int64_t H, int64_t j0, int64_t j1, const float* h,
                  const float* dh, float* dpre) {
    for (int64_t b = 0; b < B; ++b) {
        const float* TN_RESTRICT y = h + b * H;
        const float* TN_RESTRICT d = dh + b * H;
        float* TN_RESTRICT dp = dpre + b * H;
        if (relu)
            for (int64_t u = j0; u < j1; ++u) dp[u] = y[u] > 0.0f ? d[u] : 0.0f;
        else
            for (int64_t u = j0; u < j1; ++u) dp[u] = d[u] * (1.0f - y[u] * y[u]);
    }
}

}  // namespace

const RnnTable& rnn_table() {
    static const RnnTable t{lstm_forward, lstm_backward, rnn_forward, rnn_backward};
    return t;
}

}  // namespace tn::TN_ISA_NS
