// Fast scaled dot-product attention, flash style (core/attention_types.h for the semantics; the
// same signatures and gradient convention as the references in ref/ref.h).
//
// How it runs: (batch, head) pairs are split across threads. Per pair, the keys and values are
// packed once into the GEMM micro-kernel's panels; each tile of queries then runs against the
// key tiles with an online (running-max) softmax, so no (Tq, Tk) matrix ever exists: extra
// memory is O(T) per thread. Causal attention skips the tiles above the diagonal. The backward
// recomputes each tile's probabilities from the saved log-sum-exp and accumulates dq, dk, dv
// straight into the outputs.
#pragma once
#include "core/attention_types.h"
#include "core/common.h"

namespace tn {

void attention_forward(const Attention& a, Heads q, Heads k, Heads v, MutHeads out, float* lse);
void attention_backward(const Attention& a, Heads q, Heads k, Heads v, Heads out,
                        const float* lse, Heads dout, MutHeads dq, MutHeads dk, MutHeads dv);

// Row operations on a tile of scores (rows x cols, leading dimension ld), per CPU variant.
struct AttentionTable {
    // One key tile of the online softmax: S becomes exp(S - m') with m' the new running row
    // maximum; the row sums l are rescaled and extended; alpha[r] = exp(m - m') rescales the
    // row's output accumulator (1 for a row that has seen no key yet, whose P is 0). Row r
    // sees columns c <= r + diag only (the causal cut; P = 0 past it, whatever S held there).
    void (*online_softmax)(int64_t rows, int64_t cols, float* S, int64_t ld, float* m, float* l,
                           float* alpha, int64_t diag);
    // A's rows times factor[r] (rows whose factor is 1 untouched).
    void (*rescale_rows)(int64_t rows, int64_t cols, float* A, int64_t ld, const float* factor);
    // S = exp(S - lse[r]) (0 for a row whose lse is +inf, and past the causal cut r + diag).
    void (*exp_rows)(int64_t rows, int64_t cols, float* S, int64_t ld, const float* lse,
                     int64_t diag);
    // dP = P * (dP - Drow[r]): the softmax gradient.
    void (*softmax_grad)(int64_t rows, int64_t cols, const float* P, float* dP, int64_t ld,
                         const float* Drow);
};

}  // namespace tn
