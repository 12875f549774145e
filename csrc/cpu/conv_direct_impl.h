// Direct conv2d kernels for few-channel layers, written once and compiled once per CPU variant:
// conv_direct.cpp includes this file as tn::generic, isa/conv_direct_avx2.cpp and
// isa/conv_direct_avx512.cpp as tn::avx2 and tn::avx512. Stride 1 and one group only; when to
// use them is decided in conv_direct.cpp. Define TN_ISA_NS before including it, once per file.
//
// Forward and dW read each image through "shifted planes" xs(c, j), zero-padded copies with
// Hp = H + 2 PH rows of OW columns: xs(c, j)[r][ow] = x[c][r - PH][ow + j DW - PW]. Output
// position p = oh OW + ow meets tap (c, i, j) at xs(c, j)[p + i DH OW], so a whole output plane
// is one flat loop over p with no bounds checks. dX is the product Y = W^T dout (rows c, i, j;
// the reduction over O reads dout's rows as they are), then Y's rows are gathered into dx, each
// over the columns where its tap is inside the image. Padding enters the forward and dW as
// zeros times the weight, as in im2col (so an infinite weight gives NaN there, as it does there).
#include "core/parallel.h"
#include "cpu/conv_direct.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <vector>

#ifndef TN_ISA_NS
#error "define TN_ISA_NS (generic, avx2 or avx512) before including cpu/conv_direct_impl.h"
#endif

namespace tn::TN_ISA_NS {
namespace {

#if defined(__GNUC__) || defined(__clang__)
// The GCC/Clang vector extension: one register of this variant (the vectoriser, left with plain
// arrays, shuffled the tile across taps and spilled it). Products contract to FMA where enabled.
#if defined(__AVX512F__)
constexpr int kVec = 16;
#elif defined(__AVX__)
constexpr int kVec = 8;
#else
constexpr int kVec = 4;
#endif
typedef float vec __attribute__((vector_size(4 * kVec)));
#else
constexpr int kVec = 1;  // other compilers: the same tiles over scalars
typedef float vec;
#endif

// Unaligned loads and stores (memcpy compiles to one move).
inline vec load(const float* p) { vec v; std::memcpy(&v, p, sizeof v); return v; }
inline void store(float* p, vec v) { std::memcpy(p, &v, sizeof v); }

// Flat correlation tiles: kOB output channels x kU4 vectors, or 1 channel x kU1 vectors (8
// independent accumulators either way, enough to hide the FMA latency; 16 registers suffice).
constexpr int kOB = 4, kU4 = 2, kU1 = 8;
// Floats after every padded buffer that a last, partial tile may read (and then drop).
constexpr int64_t kSlack = int64_t(std::max(kU4, kU1)) * kVec;
// dW tiles: up to kTB taps of one output channel, one vector accumulator each. (Two channels
// per tile, sharing the loads of x, ran no faster: the tile waits on dout streaming in.)
constexpr int kTB = kVec == 16 ? 16 : 10;
// Multiply-adds a thread should get before a team pays off.
constexpr double kGrain = 1 << 17;

int64_t grain_items(double work_per_item) {
    return std::max<int64_t>(1, int64_t(kGrain / std::max(work_per_item, 1.0)));
}

// Output channels go in blocks of kOB, the last Q % kOB one by one; block k starts at channel
// block_start and has block_size channels. Blocks depend on Q only, never on the threads.
int64_t num_blocks(int64_t Q) { return Q / kOB + Q % kOB; }
int64_t block_start(int64_t k, int64_t Q) {
    return k < Q / kOB ? k * kOB : Q / kOB * kOB + (k - Q / kOB);
}
int64_t block_size(int64_t k, int64_t Q) { return k < Q / kOB ? kOB : 1; }

// packed[q0 * taps + t * size + b] = wt(q0 + b, t) for each block (q0, size): a tile reads its
// channels' weights for one tap side by side.
template <typename Wt>
std::vector<float> pack_weights(int64_t Q, int64_t taps, Wt&& wt) {
    std::vector<float> packed(std::size_t(Q * taps));
    for (int64_t k = 0; k < num_blocks(Q); ++k) {
        const int64_t q0 = block_start(k, Q), size = block_size(k, Q);
        for (int64_t t = 0; t < taps; ++t)
            for (int64_t b = 0; b < size; ++b) packed[q0 * taps + t * size + b] = wt(q0 + b, t);
    }
    return packed;
}

// dst[0, n) = src[0, n) in vector moves: a library call per short row cost more than the copy.
inline void copy_row(float* TN_RESTRICT dst, const float* TN_RESTRICT src, int64_t n) {
    int64_t k = 0;
    for (; k + kVec <= n; k += kVec) store(dst + k, load(src + k));
    if (k < n && n >= kVec)
        store(dst + n - kVec, load(src + n - kVec));  // the last vector overlaps the one before
    else
        for (; k < n; ++k) dst[k] = src[k];
}

// The shifted planes of one image (forward and dW) and each tap's offset in them, in the
// weight's order. The zeros around x do not change from image to image: the buffer is zeroed
// once, then fill() copies only x's rows.
struct Shifted {
    int64_t plane;              // Hp * OW floats per (c, j)
    int64_t floats;             // the whole buffer, slack included
    std::vector<int64_t> off;   // tap (c, i, j) -> offset of its first read
    explicit Shifted(const ConvDims& d) {
        plane = (d.OH + (d.KH - 1) * d.DH) * d.OW;
        floats = d.C * d.KW * plane + kSlack;
        for (int64_t c = 0; c < d.C; ++c)
            for (int64_t i = 0; i < d.KH; ++i)
                for (int64_t j = 0; j < d.KW; ++j)
                    off.push_back((c * d.KW + j) * plane + i * d.DH * d.OW);
    }
    void fill(float* xs, const float* x, const ConvDims& d) const {
        for (int64_t c = 0; c < d.C; ++c)
            for (int64_t j = 0; j < d.KW; ++j) {
                // Plane (c, j) column ow holds x column ow + left; columns [c0, c1) are inside.
                const int64_t left = j * d.DW - d.PW;
                const int64_t c0 = std::clamp<int64_t>(-left, 0, d.OW);
                const int64_t c1 = std::clamp<int64_t>(d.W - left, c0, d.OW);
                float* dst = xs + (c * d.KW + j) * plane + d.PH * d.OW;
                for (int64_t ih = 0; ih < d.H; ++ih)
                    copy_row(dst + ih * d.OW + c0, x + (c * d.H + ih) * d.W + c0 + left, c1 - c0);
            }
    }
};

// out[b * ld + p + k] for b < OB, k < count <= U kVec: bias[b] (when given) + the sum over taps
// t, in order, of w[t * OB + b] * in[off[t] + p + k]. Reads in up to off[t] + p + U kVec.
// Inlined into corr()'s loop: called once per tile, the forward ran 1.35x slower.
template <int OB, int U>
TN_ALWAYS_INLINE void corr_tile(float* out, int64_t ld, const float* in, const int64_t* off,
                                const float* w, int64_t taps, const float* bias, int64_t p,
                                int64_t count) {
    vec acc[OB][U];
    for (int b = 0; b < OB; ++b)
        for (int u = 0; u < U; ++u) acc[b][u] = vec{};
    for (int64_t t = 0; t < taps; ++t) {
        const float* src = in + off[t] + p;
        vec xv[U];
        for (int u = 0; u < U; ++u) xv[u] = load(src + u * kVec);
        for (int b = 0; b < OB; ++b) {
            const float wb = w[t * OB + b];
            for (int u = 0; u < U; ++u) acc[b][u] += wb * xv[u];
        }
    }
    if (bias)
        for (int b = 0; b < OB; ++b)
            for (int u = 0; u < U; ++u) acc[b][u] += bias[b];
    // Constant indices only: a run-time index into acc would keep the tile off registers.
    if (count == U * kVec) {
        for (int b = 0; b < OB; ++b)
            for (int u = 0; u < U; ++u) store(out + b * ld + p + u * kVec, acc[b][u]);
        return;
    }
    float part[OB][U * kVec];
    for (int b = 0; b < OB; ++b)
        for (int u = 0; u < U; ++u) store(part[b] + u * kVec, acc[b][u]);
    for (int b = 0; b < OB; ++b) std::copy(part[b], part[b] + count, out + b * ld + p);
}

// Where the last, partial tile reads when its inputs end exactly at the last position (dout
// for dX, which has no slack): buf[t * kSlack + k] gets in[off[t] + p + k], zeros after.
struct Tail {
    float* buf;           // taps * kSlack floats
    const int64_t* off;   // t * kSlack
};

// One block of OB channels over p < len. The last tile reads up to kSlack past in's last
// position, or, given a Tail, a padded copy of what it needs.
template <int OB>
void corr(float* out, int64_t ld, const float* in, const int64_t* off, const float* w,
          int64_t taps, const float* bias, int64_t len, const Tail* tail) {
    constexpr int U = OB == 1 ? kU1 : kU4;
    constexpr int64_t T = U * kVec;
    int64_t p = 0;
    for (; p + T <= len; p += T) corr_tile<OB, U>(out, ld, in, off, w, taps, bias, p, T);
    if (p == len) return;
    if (!tail) return corr_tile<OB, U>(out, ld, in, off, w, taps, bias, p, len - p);
    for (int64_t t = 0; t < taps; ++t) {
        float* dst = tail->buf + t * kSlack;
        std::copy(in + off[t] + p, in + off[t] + len, dst);
        std::fill(dst + (len - p), dst + T, 0.0f);
    }
    corr_tile<OB, U>(out + p, ld, tail->buf, tail->off, w, taps, bias, 0, len - p);
}

void corr_block(int64_t size, float* out, int64_t ld, const float* in, const int64_t* off,
                const float* w, int64_t taps, const float* bias, int64_t len,
                const Tail* tail = nullptr) {
    if (size == kOB)
        corr<kOB>(out, ld, in, off, w, taps, bias, len, tail);
    else  // blocks are kOB channels or one
        corr<1>(out, ld, in, off, w, taps, bias, len, tail);
}

// acc[t] (kVec partial sums each) += g[p] * in[off[t] + p] over p < Lv (whole vectors), lane
// by lane, for t < TB: each sum runs in the same order whichever thread computes it.
template <int TB>
void dw_tile(float* acc, const float* g, const float* in, const int64_t* off, int64_t Lv) {
    vec a[TB];
    const float* src[TB];
    for (int t = 0; t < TB; ++t) {
        a[t] = load(acc + t * kVec);
        src[t] = in + off[t];
    }
    for (int64_t p = 0; p < Lv; p += kVec) {
        const vec gv = load(g + p);
        for (int t = 0; t < TB; ++t) a[t] += gv * load(src[t] + p);
    }
    for (int t = 0; t < TB; ++t) store(acc + t * kVec, a[t]);
}

// dw_tile<tb> for a run-time tb <= TB.
template <int TB>
void dw_block(int64_t tb, float* acc, const float* g, const float* in, const int64_t* off,
              int64_t Lv) {
    if constexpr (TB > 1)
        if (tb < TB) return dw_block<TB - 1>(tb, acc, g, in, off, Lv);
    dw_tile<TB>(acc, g, in, off, Lv);
}

// acc[k] (kVec floats) += g's vectors k, k + 4, ... over p < Lv: four chains of partial sums,
// since one would wait on the add latency.
constexpr int kSumChains = 4;
void plane_sum(float* acc, const float* g, int64_t Lv) {
    vec s[kSumChains];
    for (int k = 0; k < kSumChains; ++k) s[k] = load(acc + k * kVec);
    int64_t p = 0;
    for (; p + kSumChains * kVec <= Lv; p += kSumChains * kVec)
        for (int k = 0; k < kSumChains; ++k) s[k] += load(g + p + k * kVec);
    for (int k = 0; p < Lv; p += kVec, ++k) s[k] += load(g + p);
    for (int k = 0; k < kSumChains; ++k) store(acc + k * kVec, s[k]);
}

float lanes_sum(const float* v, int64_t n) {
    float s = 0.0f;
    for (int64_t k = 0; k < n; ++k) s += v[k];
    return s;
}

// dweight and/or dbias, threads over output channels: channel o's sums run over images, then
// positions (in vector lanes, the last L % kVec in a scalar), then lanes, on one thread.
void weight_bias_grad(float* dweight, float* dbias, const float* dout, const float* x,
                      const ConvDims& d) {
    const int64_t L = d.L(), taps = d.CKK(), Lv = L - L % kVec;
    const Shifted sh(d);
    const int64_t* off = sh.off.data();
    const int64_t runs = (taps + kTB - 1) / kTB, tb = runs ? (taps + runs - 1) / runs : 0;
    // Per channel: taps vector sums, kSumChains for the bias, then taps + 1 scalar tails.
    const int64_t vper = (taps + kSumChains) * kVec, per = vper + taps + 1;
    std::atomic<bool> failed{false};
    const double work = double(d.N) * double(L) * double(taps + 1);
    parallel_chunks(d.O, grain_items(work), [&](int64_t o0, int64_t o1) {
        float* xs = dweight ? thread_scratch(0, std::size_t(sh.floats)) : nullptr;
        float* acc = thread_scratch(1, std::size_t((o1 - o0) * per));
        if (!acc || (dweight && !xs)) {
            failed = true;
            return;
        }
        std::fill(acc, acc + (o1 - o0) * per, 0.0f);
        if (dweight) std::fill(xs, xs + sh.floats, 0.0f);
        for (int64_t n = 0; n < d.N; ++n) {
            if (dweight) sh.fill(xs, x + n * d.C * d.H * d.W, d);
            for (int64_t o = o0; o < o1; ++o) {
                const float* g = dout + (n * d.O + o) * L;
                float* va = acc + (o - o0) * per;
                float* tail = va + vper;
                if (dweight) {
                    for (int64_t t0 = 0; t0 < taps; t0 += tb)
                        dw_block<kTB>(std::min(tb, taps - t0), va + t0 * kVec, g, xs, off + t0, Lv);
                    for (int64_t t = 0; t < taps; ++t)
                        for (int64_t p = Lv; p < L; ++p) tail[t] += g[p] * xs[off[t] + p];
                }
                if (dbias) {
                    plane_sum(va + taps * kVec, g, Lv);
                    for (int64_t p = Lv; p < L; ++p) tail[taps] += g[p];
                }
            }
        }
        for (int64_t o = o0; o < o1; ++o) {
            const float* va = acc + (o - o0) * per;
            const float* tail = va + vper;
            for (int64_t t = 0; dweight && t < taps; ++t)
                dweight[o * taps + t] = lanes_sum(va + t * kVec, kVec) + tail[t];
            if (dbias) dbias[o] = lanes_sum(va + taps * kVec, kSumChains * kVec) + tail[taps];
        }
    });
    if (failed) throw std::bad_alloc();
}

#if defined(__GNUC__) || defined(__clang__)
typedef int32_t ivec __attribute__((vector_size(4 * kVec)));
#else
typedef int32_t ivec;
#endif
constexpr int kGR = 2, kGU = 2;  // gather() sums kGR rows x kGU vectors of dx in registers

// masks[(k * KW + j) * kGU + u]: all bits set in the lanes of row chunk k (columns from
// k kGU kVec on) where kernel column j meets an output column.
std::vector<ivec> gather_masks(const ConvDims& d) {
    std::vector<ivec> masks;
    for (int64_t iw0 = 0; iw0 < d.W; iw0 += kGU * kVec)
        for (int64_t j = 0; j < d.KW; ++j)
            for (int u = 0; u < kGU; ++u) {
                const int64_t s = d.PW - j * d.DW, lo = -s, hi = d.OW - s;  // ow = iw + s
                int32_t m[kVec];
                for (int k = 0; k < kVec; ++k) {
                    const int64_t iw = iw0 + u * kVec + k;
                    m[k] = iw >= lo && iw < hi && iw < d.W ? -1 : 0;
                }
                masks.push_back(ivec{});
                std::memcpy(&masks.back(), m, sizeof m);
            }
    return masks;
}

// dx (C, H, W) of one image from Y (C*KH*KW rows of OH*OW): element (c, ih, iw) sums, in tap
// order, Y[c, i, j] at (ih + PH - i DH, iw + PW - j DW) over the taps where that is an output
// position. Chunks of kGR rows x kGU vectors add whole vectors of Y with the lanes outside
// masked to zero, so the sums stay in registers (adding shifted, clipped rows in memory stalled
// on every store-to-load forward); rows without the tap read Y's start with an empty mask.
void gather(float* dx, const float* Y, const ConvDims& d, const ivec* masks) {
    const int64_t L = d.L();
    for (int64_t c = 0; c < d.C; ++c)
        for (int64_t iw0 = 0, k = 0; iw0 < d.W; iw0 += kGU * kVec, ++k)
            for (int64_t ih0 = 0; ih0 < d.H; ih0 += kGR) {
                vec acc[kGR][kGU];
                for (int r = 0; r < kGR; ++r)
                    for (int u = 0; u < kGU; ++u) acc[r][u] = vec{};
                for (int64_t i = 0; i < d.KH; ++i) {
                    bool in[kGR];
                    int64_t oh[kGR];
                    for (int r = 0; r < kGR; ++r) {
                        oh[r] = ih0 + r + d.PH - i * d.DH;
                        in[r] = ih0 + r < d.H && oh[r] >= 0 && oh[r] < d.OH;
                    }
                    if (!in[0] && !in[1]) continue;
                    const float* yi = Y + (c * d.KH + i) * d.KW * L;
                    for (int64_t j = 0; j < d.KW; ++j) {
                        const ivec* m = masks + (k * d.KW + j) * kGU;
                        const float* yj = yi + j * L + (d.PW - j * d.DW) + iw0;
                        for (int r = 0; r < kGR; ++r) {
                            const float* y = in[r] ? yj + oh[r] * d.OW : Y;
                            for (int u = 0; u < kGU; ++u) {
                                const ivec mu = in[r] ? m[u] : ivec{};
                                acc[r][u] += mu ? load(y + u * kVec) : vec{};
                            }
                        }
                    }
                }
                const int64_t n = std::min<int64_t>(kGU * kVec, d.W - iw0);
                for (int r = 0; r < kGR && ih0 + r < d.H; ++r) {
                    float part[kGU * kVec];
                    for (int u = 0; u < kGU; ++u) store(part + u * kVec, acc[r][u]);
                    std::copy(part, part + n, dx + (c * d.H + ih0 + r) * d.W + iw0);
                }
            }
}

// dx, threads over images: per image Y = W^T dout (the flat tiles with the reduction over O,
// reading dout's planes in place), then gather().
void input_grad(float* dx, const float* dout, const float* weight, const ConvDims& d) {
    const int64_t L = d.L(), rows = d.CKK();
    std::vector<int64_t> off, tail_off;
    for (int64_t o = 0; o < d.O; ++o) {
        off.push_back(o * L);
        tail_off.push_back(o * kSlack);
    }
    const std::vector<float> wt =
        pack_weights(rows, d.O, [&](int64_t r, int64_t o) { return weight[o * rows + r]; });
    const std::vector<ivec> masks = gather_masks(d);
    // gather() reads Y this far before its start and after its end, in lanes it masks off.
    const int64_t front = std::max<int64_t>(0, (d.KW - 1) * d.DW - d.PW);
    const int64_t back = std::max<int64_t>(0, d.PW + round_up(d.W, kGU * kVec) - d.OW);
    const int64_t ys = front + rows * L + back;
    std::atomic<bool> failed{false};
    const double work = double(L) * double(rows) * double(d.O + 1);
    parallel_chunks(d.N, grain_items(work), [&](int64_t n0, int64_t n1) {
        float* Yg = thread_scratch(1, std::size_t(ys));
        const Tail tail{thread_scratch(0, std::size_t(std::max<int64_t>(1, d.O * kSlack))),
                        tail_off.data()};
        if (!Yg || !tail.buf) {
            failed = true;
            return;
        }
        std::fill(Yg, Yg + ys, 0.0f);
        float* Y = Yg + front;
        for (int64_t n = n0; n < n1; ++n) {
            for (int64_t k = 0; k < num_blocks(rows); ++k) {
                const int64_t r0 = block_start(k, rows);
                corr_block(block_size(k, rows), Y + r0 * L, L, dout + n * d.O * L, off.data(),
                           wt.data() + r0 * d.O, d.O, nullptr, L, &tail);
            }
            gather(dx + n * d.C * d.H * d.W, Y, d, masks.data());
        }
    });
    if (failed) throw std::bad_alloc();
}

}  // namespace

void conv2d_direct_forward(float* out, const float* x, const float* weight, const float* bias,
                           const ConvDims& d) {
    const int64_t L = d.L(), taps = d.CKK();
    if (d.N == 0 || d.O == 0 || L == 0) return;
    const Shifted sh(d);
    const std::vector<float> wp =
        pack_weights(d.O, taps, [&](int64_t o, int64_t t) { return weight[o * taps + t]; });
    const int64_t blocks = num_blocks(d.O);
    std::atomic<bool> failed{false};
    const double work = double(L) * double(taps + 1) * double(d.O) / double(blocks);
    parallel_chunks(d.N * blocks, grain_items(work), [&](int64_t b, int64_t e) {
        float* xs = thread_scratch(0, std::size_t(sh.floats));
        if (!xs) {
            failed = true;
            return;
        }
        std::fill(xs, xs + sh.floats, 0.0f);
        int64_t built = -1;
        for (int64_t item = b; item < e; ++item) {
            const int64_t n = item / blocks, k = item % blocks;
            if (n != built) sh.fill(xs, x + n * d.C * d.H * d.W, d);
            built = n;
            const int64_t o0 = block_start(k, d.O);
            corr_block(block_size(k, d.O), out + (n * d.O + o0) * L, L, xs, sh.off.data(),
                       wp.data() + o0 * taps, taps, bias ? bias + o0 : nullptr, L);
        }
    });
    if (failed) throw std::bad_alloc();
}

void conv2d_direct_backward(float* dx, float* dweight, float* dbias, const float* dout,
                            const float* x, const float* weight, const ConvDims& d) {
    const int64_t L = d.L();
    if (d.N == 0 || L == 0) {  // nothing flows back: every gradient is zero
        if (dweight) std::fill(dweight, dweight + d.O * d.CKK(), 0.0f);
        if (dbias) std::fill(dbias, dbias + d.O, 0.0f);
        if (dx) std::fill(dx, dx + d.N * d.C * d.H * d.W, 0.0f);
        return;
    }
    if (dweight || dbias) weight_bias_grad(dweight, dbias, dout, x, d);
    if (dx && d.C * d.H * d.W > 0) input_grad(dx, dout, weight, d);
}

const ConvDirectTable& conv_direct_table() {
    static const ConvDirectTable t{conv2d_direct_forward, conv2d_direct_backward};
    return t;
}

}  // namespace tn::TN_ISA_NS
