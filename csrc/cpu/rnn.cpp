// Fast recurrent layers (see rnn.h for the plan): the packers that lay torch's gate rows out in
// the blocked order, the persistent per-step team, and the forward and backward drivers. The
// elementwise step kernels live in rnn_impl.h, compiled per CPU variant.
#include "cpu/rnn.h"
#include "core/dispatch.h"
#include "core/parallel.h"
#include "cpu/gemm.h"
#include "cpu/linear.h"

#define TN_ISA_NS generic
#include "cpu/rnn_impl.h"
#undef TN_ISA_NS

#include <algorithm>
#include <cstring>
#include <memory>

namespace tn {

TN_ISA_TABLE(RnnTable, rnn_table)

namespace {

// A step's product must give each thread this many multiply-adds before a second one pays for
// the barrier it adds to every timestep.
constexpr double kStepGrain = 1 << 17;

// A torch weight (G*H, ld) with its rows read in the blocked gate order.
struct GateRows {
    const float* w;
    int64_t ld, H, G;
};

// B(k, j) = w[row(j), k]: the weight transposed, its columns blocked (forward products). A
// gate's run of a whole block is kRnnBlock consecutive torch rows starting on a micro-panel
// edge: the variant's transposing pack takes it; the last, narrower block goes element-wise.
void pack_gate_rows_transposed(const void* ctx, int64_t k0, int64_t kc, int64_t j0, int64_t nc,
                               int64_t NR, float* Bp) {
    const auto& s = *static_cast<const GateRows*>(ctx);
    const GemmKernel* g = gemm_kernel_for(active_isa());
    const int64_t full = (s.H / kRnnBlock) * s.G * kRnnBlock;  // columns of whole blocks
    for (int64_t jj = 0; jj < round_up(nc, NR);) {
        const int64_t p = j0 + jj;
        if (g && g->NR == NR && jj % NR == 0 && p % kRnnBlock == 0 && p + kRnnBlock <= full &&
            jj + kRnnBlock <= nc) {
            const float* src = s.w + rnn_torch_row(p, s.H, s.G) * s.ld + k0;
            g->pack_b(kc, kRnnBlock, ConstMat{src, 1, s.ld}, Bp + (jj / NR) * NR * kc);
            jj += kRnnBlock;
            continue;
        }
        float* dst = Bp + (jj / NR) * NR * kc + jj % NR;
        if (jj >= nc) {
            for (int64_t k = 0; k < kc; ++k) dst[k * NR] = 0.0f;
        } else {
            const float* src = s.w + rnn_torch_row(p, s.H, s.G) * s.ld + k0;
            for (int64_t k = 0; k < kc; ++k) dst[k * NR] = src[k];
        }
        ++jj;
    }
}

// B(k, j) = w[row(k), j]: the weight with its rows blocked (backward products).
void pack_gate_rows(const void* ctx, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int64_t NR,
                    float* Bp) {
    const auto& s = *static_cast<const GateRows*>(ctx);
    for (int64_t q = 0; q * NR < nc; ++q) {
        const int64_t n = std::min(NR, nc - q * NR);
        float* dst = Bp + q * NR * kc;
        for (int64_t k = 0; k < kc; ++k) {
            const float* src = s.w + rnn_torch_row(k0 + k, s.H, s.G) * s.ld + j0 + q * NR;
            std::memcpy(dst + k * NR, src, sizeof(float) * size_t(n));
            std::fill(dst + k * NR + n, dst + (k + 1) * NR, 0.0f);
        }
    }
}

// One persistent team runs `steps` dependent steps: step(s, share) for every share in
// [0, shares), then a barrier. Shares are fixed, so the result does not depend on how many
// threads the runtime grants. step must not throw.
template <typename Fn>
void run_steps(int shares, int64_t steps, Fn&& step) {
    if (shares <= 1) {
        for (int64_t s = 0; s < steps; ++s) step(s, 0);
        return;
    }
#ifdef TURBONN_OPENMP
#pragma omp parallel num_threads(shares)
    {
        const int got = omp_get_num_threads();
        for (int64_t s = 0; s < steps; ++s) {
            for (int t = omp_get_thread_num(); t < shares; t += got) step(s, t);
#pragma omp barrier
        }
    }
#else
    for (int64_t s = 0; s < steps; ++s)
        for (int t = 0; t < shares; ++t) step(s, t);
#endif
}

// Hidden units [j0, j1) and blocked gate columns [g0, g1) of share t of n.
struct Share {
    int64_t j0, j1, g0, g1;
    Share(int t, int n, int64_t H, int64_t G) {
        const int64_t blocks = ceil_div(H, kRnnBlock);
        const int64_t b0 = blocks * t / n, b1 = blocks * (t + 1) / n;
        j0 = b0 * kRnnBlock;
        j1 = std::min(H, b1 * kRnnBlock);
        g0 = G * j0;
        g1 = G * j1;
    }
};

// Team size for one step's product of work multiply-adds: never more shares than blocks.
int step_shares(const TeamLease& lease, int64_t H) {
    return int(std::min<int64_t>(lease.threads(), std::max<int64_t>(1, ceil_div(H, kRnnBlock))));
}

// What a recurrence needs: the packed recurrent weight, the team's lease (held as long as this
// lives), the number of shares and each share's A-packing scratch.
struct StepTeam {
    PackedB W;
    TeamLease lease;
    int shares;
    int64_t ap_floats;
    std::unique_ptr<float[]> ap;
    StepTeam(int64_t K, int64_t N, const BPacker& pack, int64_t B, int64_t H, double work)
        : W(K, N, pack),
          lease(threads_for_work(work, kStepGrain)),
          shares(step_shares(lease, H)),
          ap_floats(W.a_scratch_floats(B)),
          ap(new float[shares * ap_floats]) {}
    float* scratch(int s) const { return ap.get() + s * ap_floats; }
};

// rows (rows, G*H) blocked -> out (G*H, cols) torch order, row by row.
void unblock_rows(const float* rows, int64_t cols, int64_t H, int64_t G, float* out) {
    for (int64_t p = 0; p < G * H; ++p)
        std::memcpy(out + rnn_torch_row(p, H, G) * cols, rows + p * cols,
                    sizeof(float) * size_t(cols));
}

}  // namespace

void rnn_forward(const RnnLayer& L, const float* x, const float* h0, const float* c0, float* y,
                 float* h_n, float* c_n, float* ws) {
    const int64_t T = L.T, B = L.B, I = L.I, H = L.H, G = rnn_gates(L.mode), GH = G * H;
    const bool lstm = L.mode == RnnMode::lstm;
    if (T == 0 || B == 0 || H == 0) {
        std::copy(h0, h0 + B * H, h_n);
        if (lstm) std::copy(c0, c0 + B * H, c_n);
        return;
    }
    // pre: the gate pre-activations of every step (the LSTM's workspace; the RNN's output).
    // The biases are added by the step kernels, so the projection overwrites it.
    float* pre = lstm ? ws : y;
    float* cells = lstm ? ws + T * B * GH : nullptr;
    const std::unique_ptr<float[]> bias(new float[GH]);  // b_ih + b_hh (or 0), blocked
    for (int64_t p = 0; p < GH; ++p) {
        const int64_t r = rnn_torch_row(p, H, G);
        bias[p] = L.b_ih ? L.b_ih[r] + L.b_hh[r] : 0.0f;
    }
    const GateRows wih{L.w_ih, I, H, G}, whh{L.w_hh, H, H, G};
    sgemm_packed_b(T * B, GH, I, 1.0f, ConstMat{x, I, 1}, BPacker{pack_gate_rows_transposed, &wih},
                   0.0f, pre, GH);

    const StepTeam team(H, GH, BPacker{pack_gate_rows_transposed, &whh}, B, H,
                        double(B) * double(GH) * double(H));
    const RnnTable& k = table();
    run_steps(team.shares, T, [&](int64_t t, int s) {
        const Share sh(s, team.shares, H, G);
        const float* hp = t ? y + (t - 1) * B * H : h0;
        float* pt = pre + t * B * GH;
        sgemm_prepacked(B, sh.g0, sh.g1, 1.0f, ConstMat{hp, H, 1}, team.W, 1.0f, pt, GH,
                        team.scratch(s));
        if (lstm)
            k.lstm_forward(B, H, sh.j0, sh.j1, pt, bias.get(), t ? cells + (t - 1) * B * H : c0,
                           cells + t * B * H, y + t * B * H);
        else
            k.rnn_forward(L.mode == RnnMode::rnn_relu, B, H, sh.j0, sh.j1, pt, bias.get());
    });
    std::copy(y + (T - 1) * B * H, y + T * B * H, h_n);
    if (lstm) std::copy(cells + (T - 1) * B * H, cells + T * B * H, c_n);
}

void rnn_backward(const RnnLayer& L, const float* x, const float* h0, const float* c0,
                  const float* y, const float* ws, const float* dy, const float* dh_n,
                  const float* dc_n, float* dx, float* dh0, float* dc0, float* dw_ih,
                  float* dw_hh, float* db) {
    const int64_t T = L.T, B = L.B, I = L.I, H = L.H, G = rnn_gates(L.mode), GH = G * H;
    const bool lstm = L.mode == RnnMode::lstm;
    if (T == 0 || B == 0 || H == 0) {
        // Nothing flows through the weights; dh0 and dc0 are dh_n and dc_n.
        std::fill(dx, dx + T * B * I, 0.0f);
        std::fill(dw_ih, dw_ih + GH * I, 0.0f);
        std::fill(dw_hh, dw_hh + GH * H, 0.0f);
        if (db) std::fill(db, db + GH, 0.0f);
        for (int64_t k = 0; k < B * H; ++k) {
            dh0[k] = dh_n ? dh_n[k] : 0.0f;
            if (lstm) dc0[k] = dc_n ? dc_n[k] : 0.0f;
        }
        return;
    }
    const float* gates = ws;
    const float* cells = lstm ? ws + T * B * GH : nullptr;
    // dpre: the gradient of every step's gate pre-activations, blocked.
    const std::unique_ptr<float[]> dpre(new float[T * B * GH + 2 * B * H]);
    float* dh = dpre.get() + T * B * GH;  // the current step's whole gradient into h
    float* dc = dh + B * H;               // the cell gradient flowing back (LSTM)
    for (int64_t k = 0; k < B * H; ++k) dc[k] = lstm && dc_n ? dc_n[k] : 0.0f;

    const GateRows wih{L.w_ih, I, H, G}, whh{L.w_hh, H, H, G};
    {
        // The team's lease ends with the recurrence: the products after it each take their own (a
        // lease held across them would leave them one thread).
        const StepTeam team(GH, H, BPacker{pack_gate_rows, &whh}, B, H,
                            double(B) * double(GH) * double(H));
        const RnnTable& k = table();
        // Steps T-1 .. 0, then dh0 = dpre_0 @ W_hh.
        run_steps(team.shares, T + 1, [&](int64_t s, int sidx) {
            const Share sh(sidx, team.shares, H, G);
            float* a = team.scratch(sidx);
            if (s == T) {
                sgemm_prepacked(B, sh.j0, sh.j1, 1.0f, ConstMat{dpre.get(), GH, 1}, team.W, 0.0f,
                                dh0, H, a);
                if (lstm)
                    for (int64_t b = 0; b < B; ++b)
                        std::copy(dc + b * H + sh.j0, dc + b * H + sh.j1, dc0 + b * H + sh.j0);
                return;
            }
            const int64_t t = T - 1 - s;
            const float* dyt = dy + t * B * H;
            for (int64_t b = 0; b < B; ++b)
                for (int64_t j = sh.j0; j < sh.j1; ++j)
                    dh[b * H + j] = dyt[b * H + j] + (t == T - 1 && dh_n ? dh_n[b * H + j] : 0.0f);
            if (t < T - 1)
                sgemm_prepacked(B, sh.j0, sh.j1, 1.0f,
                                ConstMat{dpre.get() + (t + 1) * B * GH, GH, 1}, team.W, 1.0f, dh,
                                H, a);
            float* dpt = dpre.get() + t * B * GH;
            if (lstm)
                k.lstm_backward(B, H, sh.j0, sh.j1, gates + t * B * GH,
                                t ? cells + (t - 1) * B * H : c0, cells + t * B * H, dh, dc, dpt);
            else
                k.rnn_backward(L.mode == RnnMode::rnn_relu, B, H, sh.j0, sh.j1, y + t * B * H, dh,
                               dpt);
        });
    }

    // The weight, input and bias gradients as products over all timesteps.
    const float* dp = dpre.get();
    const ConstMat dpT{dp, 1, GH};  // (GH, T*B)
    const std::unique_ptr<float[]> tmp(G > 1 ? new float[GH * std::max(I, H)] : nullptr);
    float* gi = G > 1 ? tmp.get() : dw_ih;
    sgemm(GH, I, T * B, 1.0f, dpT, ConstMat{x, I, 1}, 0.0f, gi, I);
    if (G > 1) unblock_rows(gi, I, H, G, dw_ih);
    float* gh = G > 1 ? tmp.get() : dw_hh;
    sgemm(GH, H, B, 1.0f, dpT, ConstMat{h0, H, 1}, 0.0f, gh, H);
    sgemm(GH, H, (T - 1) * B, 1.0f, ConstMat{dp + B * GH, 1, GH}, ConstMat{y, H, 1}, 1.0f, gh, H);
    if (G > 1) unblock_rows(gh, H, H, G, dw_hh);
    sgemm_packed_b(T * B, I, GH, 1.0f, ConstMat{dp, GH, 1}, BPacker{pack_gate_rows, &wih}, 0.0f,
                   dx, I);
    if (db) {
        const std::unique_ptr<float[]> sums(new float[GH]);  // blocked
        column_sum(sums.get(), ConstMat{dp, GH, 1}, T * B, GH, false);
        for (int64_t c = 0; c < GH; ++c) db[rnn_torch_row(c, H, G)] = sums[c];
    }
}

}  // namespace tn
