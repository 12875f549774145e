// Flash attention on the CPU (plan in attention.h): tile sizes, the per-pair packing of keys,
// values, queries and output gradients into micro-kernel panels, and the forward and backward
// drivers. The row operations live in attention_impl.h, compiled per CPU variant; the products
// run on TileGemm (cpu/gemm.h).
#include "cpu/attention.h"
#include "core/dispatch.h"
#include "core/parallel.h"
#include "cpu/gemm.h"

#define TN_ISA_NS generic
#include "cpu/attention_impl.h"
#undef TN_ISA_NS

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <new>

namespace tn {

TN_ISA_TABLE(AttentionTable, attention_table)

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Tile sizes: queries in whole micro-panels (about 64 rows), keys in whole panels (128
// columns): a tile's scores stay in L1 and each product is a few dozen micro-kernel calls.
struct Tiles {
    TileGemm tg;
    int64_t BQ = tg.MR() * std::max<int64_t>(1, 64 / tg.MR());
    int64_t BK = round_up(128, tg.NR());
    // Leading dimension of the score tiles: the one the variant's in-place A kernels are
    // compiled for when a tile fits it (AVX-512: 144), else a cache line past BK. With BK
    // itself (512 bytes), walking a tile's column (its transpose read in place as an A operand)
    // landed every row in one L1 set.
    int64_t LD = tg.g->in_place_a_ld >= BK ? tg.g->in_place_a_ld : BK + 16;
};

// Carves a thread's scratch into buffers. With a null base it only counts: a layout function
// run once on a counting arena sizes the scratch it then carves, so the two never disagree.
struct Arena {
    float* base;
    int64_t used = 0;
    float* take(int64_t n) {
        float* p = base ? base + used : nullptr;
        used += round_up(std::max<int64_t>(n, 1), 16);  // 64-byte steps
        return p;
    }
};

// Adds the mask to a tile of scores: rows [i0, i0 + rows) x keys [j0, j0 + cols) of pair
// (b, h). (The causal cut is the row operations' diag argument.)
void mask_tile(const Attention& a, int64_t b, int64_t h, int64_t i0, int64_t rows, int64_t j0,
               int64_t cols, float* S, int64_t ld) {
    if (a.mask)
        for (int64_t r = 0; r < rows; ++r) {
            const float* mrow = a.mask + b * a.mb + h * a.mh + (i0 + r) * a.mq + j0 * a.mk;
            float* TN_RESTRICT s = S + r * ld;
            if (a.mk == 1)
                for (int64_t c = 0; c < cols; ++c) s[c] += mrow[c];
            else
                for (int64_t c = 0; c < cols; ++c) s[c] += mrow[c * a.mk];
        }
}

// Multiplies a tile of probabilities by the dropout keep mask scaled by 1 / (1 - p).
void dropout_tile(const Attention& a, int64_t b, int64_t h, int64_t i0, int64_t rows, int64_t j0,
                  int64_t cols, float* P, int64_t ld) {
    const float keep = 1.0f / (1.0f - a.dropout_p);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
            P[r * ld + c] *= attention_keep(a, b, h, i0 + r, j0 + c) ? keep : 0.0f;
}

using Band = TileGemm::Band;
using TileB = TileGemm::B;

// A row-major B operand: its rows read in place when the kernel can, else its packed panels at
// packed + at (packed is null when reading in place, so the offset is taken only here).
TileB rows_b(bool direct, const float* rows, int64_t ld, const float* packed, int64_t at) {
    return direct ? TileB{rows, ld} : TileB{packed + at, 0};
}

// A row-major tile (leading dimension ld) as the A operand (M, K) of a product, the tile itself
// or (transposed) its transpose: read in place when the kernel can, else packed into Ap.
TileGemm::A tile_a(const TileGemm& tg, const float* tile, int64_t ld, bool transposed, int64_t M,
                   int64_t K, float* Ap) {
    if (tg.reads_a_in_place(ld)) return {tile, ld, transposed};
    tg.pack_a(M, K, transposed ? ConstMat{tile, 1, ld} : ConstMat{tile, ld, 1}, Ap);
    return {Ap, 0};
}

// The causal band of a tile product (none without causality).
Band band(const Attention& a, Band::Kind kind, int64_t off) {
    return a.causal ? Band{kind, off} : Band{};
}

// The row operations' causal cut for a tile at (i0, j0): row r sees columns c <= r + diag.
int64_t diag(const Attention& a, int64_t i0, int64_t j0, int64_t cols) {
    return a.causal ? i0 - j0 : cols;
}

// Keys visible to query rows [i0, i1) (causal: up to row i1 - 1).
int64_t key_end(const Attention& a, int64_t i1) { return a.causal ? std::min(a.Tk, i1) : a.Tk; }

// Runs fn(item, buffers) for items [0, n) across threads, buffers = layout(arena) carved from
// the thread's scratch; throws std::bad_alloc after the parallel region when some thread could
// not get its scratch.
template <typename Layout, typename Fn>
void for_items(int64_t n, double work_per_item, Layout layout, Fn&& fn) {
    Arena count{nullptr};
    layout(count);
    const int64_t floats = count.used;
    std::atomic<bool> oom{false};
    const int64_t grain = std::max<int64_t>(1, int64_t((1 << 20) / std::max(1.0, work_per_item)));
    parallel_chunks(n, grain, [&](int64_t i0, int64_t i1) {
        float* base = thread_scratch(0, static_cast<std::size_t>(floats));
        if (!base) {
            oom.store(true);
            return;
        }
        for (int64_t i = i0; i < i1; ++i) {
            Arena arena{base};
            fn(i, layout(arena));
        }
    });
    if (oom.load()) throw std::bad_alloc();
}

}  // namespace

void attention_forward(const Attention& a, Heads q, Heads k, Heads v, MutHeads out, float* lse) {
    const Tiles t;
    const TileGemm& tg = t.tg;
    const int64_t D = a.D, Dv = a.Dv, BQ = t.BQ, BK = t.BK, LD = t.LD;
    const int64_t DvR = round_up(Dv, tg.NR());
    const bool direct = tg.reads_b_in_place();  // row-major B operands need no packing
    const AttentionTable& rows = table();
    const double work = double(a.Tq) * double(a.Tk) * double(D + Dv);
    struct Bufs {
        float *KT, *Vp, *Qp, *S, *acc, *m, *l, *alpha, *Pp;
    };
    const auto layout = [&](Arena& ar) {
        return Bufs{ar.take(round_up(a.Tk, BK) * D),  // key tile j's panels at KT + j0 * D
                    direct ? nullptr : ar.take(round_up(a.Tk, BK) * DvR),
                    ar.take(tg.a_floats(BQ, D)),
                    ar.take(BQ * LD),
                    ar.take(BQ * Dv),
                    ar.take(BQ),
                    ar.take(BQ),
                    ar.take(BQ),
                    tg.reads_a_in_place(LD) ? nullptr : ar.take(tg.a_floats(BQ, BK))};
    };
    for_items(a.B * a.Hq, work, layout, [&](int64_t item, const Bufs& u) {
        const int64_t b = item / a.Hq, h = item % a.Hq, hk = h / (a.Hq / a.Hk);
        float *KT = u.KT, *Vp = u.Vp, *Qp = u.Qp, *S = u.S, *acc = u.acc, *m = u.m, *l = u.l,
              *alpha = u.alpha, *Pp = u.Pp;
        for (int64_t j0 = 0; j0 < a.Tk; j0 += BK) {
            const int64_t bk = std::min(BK, a.Tk - j0);
            tg.pack_b(D, bk, ConstMat{k.row(b, hk, j0), 1, k.st}, KT + j0 * D);
            if (!direct) tg.pack_b(bk, Dv, ConstMat{v.row(b, hk, j0), v.st, 1}, Vp + j0 * DvR);
        }

        for (int64_t i0 = 0; i0 < a.Tq; i0 += BQ) {
            const int64_t bq = std::min(BQ, a.Tq - i0);
            tg.pack_a(bq, D, ConstMat{q.row(b, h, i0), q.st, 1}, Qp);
            std::fill(m, m + bq, -kInf);
            std::fill(l, l + bq, 0.0f);
            std::fill(acc, acc + bq * Dv, 0.0f);
            // Whole key tiles (their packed panels have the tile's K); the causal cut inside
            // the diagonal one is the row operations' diag.
            const int64_t jend = key_end(a, i0 + bq);
            for (int64_t j0 = 0; j0 < jend; j0 += BK) {
                const int64_t bk = std::min(BK, a.Tk - j0);
                const Band cols = band(a, Band::cols, i0 - j0);
                tg.multiply(bq, bk, D, a.scale, Qp, KT + j0 * D, 0.0f, S, LD, cols);
                mask_tile(a, b, h, i0, bq, j0, bk, S, LD);
                rows.online_softmax(bq, bk, S, LD, m, l, alpha, diag(a, i0, j0, bk));
                rows.rescale_rows(bq, Dv, acc, Dv, alpha);
                if (a.dropout_p > 0.0f) dropout_tile(a, b, h, i0, bq, j0, bk, S, LD);
                tg.multiply(bq, Dv, bk, 1.0f, tile_a(tg, S, LD, false, bq, bk, Pp),
                            rows_b(direct, v.row(b, hk, j0), v.st, Vp, j0 * DvR), 1.0f, acc, Dv,
                            band(a, Band::k_upper, i0 - j0));
            }
            for (int64_t r = 0; r < bq; ++r) {
                float* o = out.row(b, h, i0 + r);
                const float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
                for (int64_t f = 0; f < Dv; ++f) o[f] = acc[r * Dv + f] * inv;
                lse[(b * a.Hq + h) * a.Tq + i0 + r] = l[r] > 0.0f ? m[r] + std::log(l[r]) : kInf;
            }
        }
    });
}

void attention_backward(const Attention& a, Heads q, Heads k, Heads v, Heads out,
                        const float* lse, Heads dout, MutHeads dq, MutHeads dk, MutHeads dv) {
    const Tiles t;
    const TileGemm& tg = t.tg;
    const int64_t D = a.D, Dv = a.Dv, BQ = t.BQ, BK = t.BK, LD = t.LD, G = a.Hq / a.Hk;
    const int64_t DR = round_up(D, tg.NR()), DvR = round_up(Dv, tg.NR());
    const int64_t TqR = round_up(a.Tq, BQ), TkR = round_up(a.Tk, BK);
    const bool direct = tg.reads_b_in_place();  // row-major B operands need no packing
    const AttentionTable& rows = table();
    const double work = double(G) * double(a.Tq) * double(a.Tk) * double(2 * D + 2 * Dv);
    const int64_t pf = tg.a_floats(std::max(BQ, BK), std::max(BQ, BK));
    const bool in_place_a = tg.reads_a_in_place(LD);  // tiles as A operands need no packing
    struct Bufs {
        float *KT, *Kb, *VT, *Qa, *Qb, *Oa, *Ob, *Drow, *S, *dP, *Zp, *Pd, *dSa, *dSt;
    };
    const auto layout = [&](Arena& ar) {
        return Bufs{ar.take(TkR * D),                        // K^T panels (scores)
                    direct ? nullptr : ar.take(TkR * DR),    // K panels (dq)
                    ar.take(TkR * Dv),                       // V^T panels (dP)
                    ar.take(TqR * D),                        // Q as A (scores)
                    direct ? nullptr : ar.take(TqR * DR),    // Q panels (dk)
                    ar.take(TqR * Dv),                       // dout as A (dP)
                    direct ? nullptr : ar.take(TqR * DvR),   // dout panels (dv)
                    ar.take(TqR),
                    ar.take(BQ * LD),
                    ar.take(BQ * LD),
                    a.dropout_p > 0.0f ? ar.take(BQ * LD) : nullptr,  // dropped P
                    in_place_a ? nullptr : ar.take(pf),                // packed (dropped) P^T
                    in_place_a ? nullptr : ar.take(pf),                // packed dS
                    in_place_a ? nullptr : ar.take(pf)};               // packed dS^T
    };
    // Items are (batch, key/value head): the query heads sharing a key/value head add into
    // its dk and dv, so one thread takes them all.
    for_items(a.B * a.Hk, work, layout, [&](int64_t item, const Bufs& u) {
        const int64_t b = item / a.Hk, hk = item % a.Hk;
        float *KT = u.KT, *Kb = u.Kb, *VT = u.VT, *Qa = u.Qa, *Qb = u.Qb, *Oa = u.Oa, *Ob = u.Ob,
              *Drow = u.Drow, *S = u.S, *dP = u.dP, *Zp = u.Zp, *Pd = u.Pd, *dSa = u.dSa,
              *dSt = u.dSt;
        for (int64_t j = 0; j < a.Tk; ++j) {
            std::fill(dk.row(b, hk, j), dk.row(b, hk, j) + D, 0.0f);
            std::fill(dv.row(b, hk, j), dv.row(b, hk, j) + Dv, 0.0f);
        }
        for (int64_t j0 = 0; j0 < a.Tk; j0 += BK) {
            const int64_t bk = std::min(BK, a.Tk - j0);
            tg.pack_b(D, bk, ConstMat{k.row(b, hk, j0), 1, k.st}, KT + j0 * D);
            if (!direct) tg.pack_b(bk, D, ConstMat{k.row(b, hk, j0), k.st, 1}, Kb + j0 * DR);
            tg.pack_b(Dv, bk, ConstMat{v.row(b, hk, j0), 1, v.st}, VT + j0 * Dv);
        }
        for (int64_t h = hk * G; h < (hk + 1) * G; ++h) {
            const float* L = lse + (b * a.Hq + h) * a.Tq;
            for (int64_t i = 0; i < a.Tq; ++i) {
                std::fill(dq.row(b, h, i), dq.row(b, h, i) + D, 0.0f);
                const float *go = dout.row(b, h, i), *o = out.row(b, h, i);
                float s = 0.0f;
                for (int64_t f = 0; f < Dv; ++f) s += go[f] * o[f];
                Drow[i] = s;
            }
            for (int64_t i0 = 0; i0 < a.Tq; i0 += BQ) {
                const int64_t bq = std::min(BQ, a.Tq - i0);
                tg.pack_a(bq, D, ConstMat{q.row(b, h, i0), q.st, 1}, Qa + i0 * D);
                if (!direct) tg.pack_b(bq, D, ConstMat{q.row(b, h, i0), q.st, 1}, Qb + i0 * DR);
                tg.pack_a(bq, Dv, ConstMat{dout.row(b, h, i0), dout.st, 1}, Oa + i0 * Dv);
                if (!direct)
                    tg.pack_b(bq, Dv, ConstMat{dout.row(b, h, i0), dout.st, 1}, Ob + i0 * DvR);
            }
            for (int64_t j0 = 0; j0 < a.Tk; j0 += BK) {
                const int64_t bk = std::min(BK, a.Tk - j0);
                // causal: query rows before j0 see none of these keys
                const int64_t istart = a.causal ? (std::min(j0, a.Tq) / BQ) * BQ : 0;
                for (int64_t i0 = istart; i0 < a.Tq; i0 += BQ) {
                    const int64_t bq = std::min(BQ, a.Tq - i0);
                    const Band cols = band(a, Band::cols, i0 - j0);
                    const Band upper = band(a, Band::k_upper, i0 - j0);
                    const Band lower = band(a, Band::k_lower, j0 - i0);
                    tg.multiply(bq, bk, D, a.scale, Qa + i0 * D, KT + j0 * D, 0.0f, S, LD, cols);
                    mask_tile(a, b, h, i0, bq, j0, bk, S, LD);
                    rows.exp_rows(bq, bk, S, LD, L + i0, diag(a, i0, j0, bk));
                    // dP = dout_i @ V_j^T, then (with dropout) both P and dP take the mask
                    tg.multiply(bq, bk, Dv, 1.0f, Oa + i0 * Dv, VT + j0 * Dv, 0.0f, dP, LD, cols);
                    // dv_j += P^T dout_i; with dropout (P * Z)^T, the dropped probabilities in
                    // Zp, and dP takes the mask too
                    const float* Pz = S;
                    if (a.dropout_p > 0.0f) {
                        dropout_tile(a, b, h, i0, bq, j0, bk, dP, LD);
                        std::copy(S, S + BQ * LD, Zp);
                        dropout_tile(a, b, h, i0, bq, j0, bk, Zp, LD);
                        Pz = Zp;
                    }
                    tg.multiply(bk, Dv, bq, 1.0f, tile_a(tg, Pz, LD, true, bk, bq, Pd),
                                rows_b(direct, dout.row(b, h, i0), dout.st, Ob, i0 * DvR), 1.0f,
                                dv.row(b, hk, j0), dv.st, lower);
                    rows.softmax_grad(bq, bk, S, dP, LD, Drow + i0);  // dS, in dP's place
                    tg.multiply(bq, D, bk, a.scale, tile_a(tg, dP, LD, false, bq, bk, dSa),
                                rows_b(direct, k.row(b, hk, j0), k.st, Kb, j0 * DR), 1.0f,
                                dq.row(b, h, i0), dq.st, upper);
                    tg.multiply(bk, D, bq, a.scale, tile_a(tg, dP, LD, true, bk, bq, dSt),
                                rows_b(direct, q.row(b, h, i0), q.st, Qb, i0 * DR), 1.0f,
                                dk.row(b, hk, j0), dk.st, lower);
                }
            }
        }
    });
}

}  // namespace tn
