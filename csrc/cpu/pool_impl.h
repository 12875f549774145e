// Pooling kernels written once and compiled once per CPU variant: pool.cpp includes this file as
// tn::generic, isa/pool_avx2.cpp and isa/pool_avx512.cpp as tn::avx2 and tn::avx512. Threads
// split the N*C planes; the 2x2 stride-2 unpadded case (every CNN's downsampling) has row
// kernels of branch-free selects that the compiler vectorises over the output row (AVX-512:
// masked intrinsics, cpu/pool_2x2_avx512.h, so narrow rows vectorise too). Define
// TN_ISA_NS before including it; nothing here may be included twice in one file.
#include "core/parallel.h"
#include "cpu/pool.h"

#include <algorithm>
#include <cstring>
#include <limits>

#ifndef TN_ISA_NS
#error "define TN_ISA_NS (generic, avx2 or avx512) before including cpu/pool_impl.h"
#endif
#if defined(__AVX512F__)
#include "cpu/pool_2x2_avx512.h"
#endif

namespace tn::TN_ISA_NS {
namespace {

// Pooling is memory-bound: a thread needs ~100 KiB of planes before a team pays off.
constexpr int64_t kGrainElems = 1 << 15;

template <typename Fn>
void over_planes(const Pool2d& g, Fn&& fn) {
    const int64_t per_plane = g.H * g.W + g.OH * g.OW;
    const int64_t grain = per_plane >= kGrainElems ? 1 : kGrainElems / (per_plane > 0 ? per_plane : 1);
    parallel_chunks(g.planes, grain, [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) fn(p);
    });
}

// Every window is a full, unpadded, undilated 2x2 at stride 2.
bool is_2x2(const Pool2d& g) {
    return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 &&
           g.dh == 1 && g.dw == 1 && 2 * g.OH <= g.H && 2 * g.OW <= g.W;
}

// One output row of 2x2 max pooling from input rows r0, r1 (r1 = r0 + W). The select chain is
// the reference's window order: a later element wins when greater, or when it is NaN.
void max2x2_row(float* TN_RESTRICT o, int32_t* TN_RESTRICT idx, const float* TN_RESTRICT r0,
                const float* TN_RESTRICT r1, int64_t OW, int32_t base, int32_t W) {
#if defined(__AVX512F__)
    return x2::max_row(o, idx, r0, r1, OW, base, W);
#endif
    for (int64_t j = 0; j < OW; ++j) {
        const float a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];
        const int32_t i = base + 2 * int32_t(j);
        // `|` rather than `||`: no branch, so GCC vectorises the chain.
        float m = a;
        int32_t k = i;
        bool t = (b > m) | (b != b);
        m = t ? b : m;
        k = t ? i + 1 : k;
        t = (c > m) | (c != c);
        m = t ? c : m;
        k = t ? i + W : k;
        t = (d > m) | (d != d);
        m = t ? d : m;
        k = t ? i + W + 1 : k;
        o[j] = m;
        idx[j] = k;
    }
}

// True when every saved index of a 2x2 plane lies in its own window (always, for indices this
// library's forward wrote), so the row kernel below may write the windows instead of scattering.
bool indices_in_windows(const int32_t* ind, const Pool2d& g) {
    const int32_t W = int32_t(g.W);
    bool ok = true;
    for (int64_t oh = 0; oh < g.OH; ++oh) {
        const int32_t* k = ind + oh * g.OW;
        const int32_t base = int32_t(2 * oh * g.W);
#if defined(__AVX512F__)
        if (!x2::in_windows_row(k, g.OW, base, W)) return false;
        continue;
#endif
        for (int64_t j = 0; j < g.OW; ++j) {
            const int32_t off = k[j] - (base + 2 * int32_t(j));
            ok &= (off == 0) | (off == 1) | (off == W) | (off == W + 1);
        }
    }
    return ok;
}

// One output row's gradients into input rows d0, d1 = d0 + W of 2x2 windows: each window gets
// dy at its argmax and 0 elsewhere (added to what is there when Acc). Branch-free selects, so
// the compiler vectorises over the row; no scatter and no separate zeroing pass.
// Returns false when an index lay outside its window (its gradient was dropped).
template <bool Acc>
bool max2x2_backward_row(float* TN_RESTRICT d0, float* TN_RESTRICT d1, const float* TN_RESTRICT dy,
                         const int32_t* TN_RESTRICT ind, int64_t OW, int32_t base, int32_t W) {
#if defined(__AVX512F__)
    return x2::max_backward_row<Acc>(d0, d1, dy, ind, OW, base, W);
#endif
    bool ok = true;
    for (int64_t j = 0; j < OW; ++j) {
        const int32_t off = ind[j] - (base + 2 * int32_t(j));
        ok &= (off == 0) | (off == 1) | (off == W) | (off == W + 1);
        const float v = dy[j];
        const float a = off == 0 ? v : 0.0f, b = off == 1 ? v : 0.0f;
        const float c = off == W ? v : 0.0f, e = off == W + 1 ? v : 0.0f;
        if (Acc) {
            d0[2 * j] += a;
            d0[2 * j + 1] += b;
            d1[2 * j] += c;
            d1[2 * j + 1] += e;
        } else {
            d0[2 * j] = a;
            d0[2 * j + 1] = b;
            d1[2 * j] = c;
            d1[2 * j + 1] = e;
        }
    }
    return ok;
}

// A plane's backward by 2x2 stride-2 windows. False when an index lay outside its window: the
// plane is then incomplete (overwrite mode: the caller redoes it by scattering; accumulate mode
// checks indices_in_windows first, since added gradients cannot be taken back). Overwrite mode
// also zeroes the odd last column and rows that no window covers.
bool max2x2_backward_plane(float* dx, const float* dy, const int32_t* ind, const Pool2d& g,
                           bool accumulate) {
    const int32_t W = int32_t(g.W);
    bool ok = true;
    for (int64_t oh = 0; oh < g.OH; ++oh) {
        float* d0 = dx + 2 * oh * g.W;
        const int32_t base = int32_t(2 * oh * g.W);
        if (accumulate) {
            ok &= max2x2_backward_row<true>(d0, d0 + W, dy + oh * g.OW, ind + oh * g.OW, g.OW,
                                            base, W);
            continue;
        }
        ok &= max2x2_backward_row<false>(d0, d0 + W, dy + oh * g.OW, ind + oh * g.OW, g.OW, base,
                                         W);
        for (int64_t w = 2 * g.OW; w < g.W; ++w) d0[w] = d0[W + w] = 0.0f;
    }
    if (!accumulate)
        std::memset(dx + 2 * g.OH * g.W, 0, sizeof(float) * std::size_t((g.H - 2 * g.OH) * g.W));
    return ok;
}

// The sum in the reference's order (0 + a + b + c + d) so both round alike.
void avg2x2_row(float* TN_RESTRICT o, const float* TN_RESTRICT r0, const float* TN_RESTRICT r1,
                int64_t OW, float div) {
    for (int64_t j = 0; j < OW; ++j)
        o[j] = ((((0.0f + r0[2 * j]) + r0[2 * j + 1]) + r1[2 * j]) + r1[2 * j + 1]) / div;
}

void max_plane(float* out, int32_t* ind, const float* x, const Pool2d& g) {
    if (is_2x2(g)) {
        for (int64_t oh = 0; oh < g.OH; ++oh) {
            const float* r0 = x + 2 * oh * g.W;
            max2x2_row(out + oh * g.OW, ind + oh * g.OW, r0, r0 + g.W, g.OW,
                       int32_t(2 * oh * g.W), int32_t(g.W));
        }
        return;
    }
    for (int64_t oh = 0; oh < g.OH; ++oh) {
        int64_t h0 = oh * g.sh - g.ph;
        const int64_t h1 = std::min(h0 + (g.kh - 1) * g.dh + 1, g.H);
        while (h0 < 0) h0 += g.dh;
        for (int64_t ow = 0; ow < g.OW; ++ow) {
            int64_t w0 = ow * g.sw - g.pw;
            const int64_t w1 = std::min(w0 + (g.kw - 1) * g.dw + 1, g.W);
            while (w0 < 0) w0 += g.dw;
            float m = -std::numeric_limits<float>::infinity();
            int64_t best = h0 * g.W + w0;
            for (int64_t h = h0; h < h1; h += g.dh) {
                const float* row = x + h * g.W;
                for (int64_t w = w0; w < w1; w += g.dw) {
                    const float v = row[w];
                    if (v > m || v != v) {
                        m = v;
                        best = h * g.W + w;
                    }
                }
            }
            out[oh * g.OW + ow] = m;
            ind[oh * g.OW + ow] = int32_t(best);
        }
    }
}

struct Span {
    int64_t lo, hi, padded;
};

inline Span avg_span(int64_t o, int64_t k, int64_t s, int64_t p, int64_t n) {
    int64_t lo = o * s - p;
    int64_t hi = std::min(lo + k, n + p);
    const int64_t padded = hi - lo;
    return {std::max<int64_t>(lo, 0), std::min(hi, n), padded};
}

inline float avg_divisor(const Span& y, const Span& x, bool include_pad, int64_t over) {
    if (over != 0) return float(over);
    if (include_pad) return float(y.padded * x.padded);
    return float((y.hi - y.lo) * (x.hi - x.lo));
}

void avg_plane(float* out, const float* x, const Pool2d& g, bool include_pad, int64_t over) {
    if (is_2x2(g)) {
        const float div = over != 0 ? float(over) : 4.0f;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
            const float* r0 = x + 2 * oh * g.W;
            avg2x2_row(out + oh * g.OW, r0, r0 + g.W, g.OW, div);
        }
        return;
    }
    for (int64_t oh = 0; oh < g.OH; ++oh) {
        const Span y = avg_span(oh, g.kh, g.sh, g.ph, g.H);
        for (int64_t ow = 0; ow < g.OW; ++ow) {
            const Span s = avg_span(ow, g.kw, g.sw, g.pw, g.W);
            float sum = 0.0f;
            for (int64_t h = y.lo; h < y.hi; ++h)
                for (int64_t w = s.lo; w < s.hi; ++w) sum += x[h * g.W + w];
            out[oh * g.OW + ow] = sum / avg_divisor(y, s, include_pad, over);
        }
    }
}

void avg_plane_backward(float* dx, const float* dy, const Pool2d& g, bool include_pad,
                        int64_t over) {
    for (int64_t oh = 0; oh < g.OH; ++oh) {
        const Span y = avg_span(oh, g.kh, g.sh, g.ph, g.H);
        for (int64_t ow = 0; ow < g.OW; ++ow) {
            const Span s = avg_span(ow, g.kw, g.sw, g.pw, g.W);
            const float d = dy[oh * g.OW + ow] / avg_divisor(y, s, include_pad, over);
            for (int64_t h = y.lo; h < y.hi; ++h)
                for (int64_t w = s.lo; w < s.hi; ++w) dx[h * g.W + w] += d;
        }
    }
}

}  // namespace

void max_pool2d_forward(float* out, int32_t* indices, const float* inp, const Pool2d& g) {
    const int64_t in_plane = g.H * g.W, out_plane = g.OH * g.OW;
    over_planes(g, [&](int64_t p) {
        max_plane(out + p * out_plane, indices + p * out_plane, inp + p * in_plane, g);
    });
}

// Each plane's gradients land in that plane only, so threads never share an output and the
// summation order (window order, as the reference) does not depend on the thread count.
void max_pool2d_backward(float* dinp, const float* dout, const int32_t* indices, const Pool2d& g,
                         bool accumulate) {
    const int64_t in_plane = g.H * g.W, out_plane = g.OH * g.OW;
    over_planes(g, [&](int64_t p) {
        float* TN_RESTRICT dx = dinp + p * in_plane;
        const float* dy = dout + p * out_plane;
        const int32_t* ind = indices + p * out_plane;
        // The backward has no kernel geometry, only indices: windows are written whenever the
        // plane holds 2x2 stride-2 windows and every index lies in its own (true for 2x2 pools).
        if (2 * g.OH <= g.H && 2 * g.OW <= g.W &&
            (!accumulate || indices_in_windows(ind, g)) &&
            max2x2_backward_plane(dx, dy, ind, g, accumulate))
            return;
        if (!accumulate) std::memset(dx, 0, sizeof(float) * std::size_t(in_plane));
        for (int64_t o = 0; o < out_plane; ++o) dx[ind[o]] += dy[o];
    });
}

void avg_pool2d_forward(float* out, const float* inp, const Pool2d& g, bool count_include_pad,
                        int64_t divisor_override) {
    const int64_t in_plane = g.H * g.W, out_plane = g.OH * g.OW;
    over_planes(g, [&](int64_t p) {
        avg_plane(out + p * out_plane, inp + p * in_plane, g, count_include_pad, divisor_override);
    });
}

void avg_pool2d_backward(float* dinp, const float* dout, const Pool2d& g, bool count_include_pad,
                         int64_t divisor_override, bool accumulate) {
    const int64_t in_plane = g.H * g.W, out_plane = g.OH * g.OW;
    over_planes(g, [&](int64_t p) {
        float* dx = dinp + p * in_plane;
        if (!accumulate) std::memset(dx, 0, sizeof(float) * std::size_t(in_plane));
        avg_plane_backward(dx, dout + p * out_plane, g, count_include_pad, divisor_override);
    });
}

const PoolTable& pool_table() {
    static const PoolTable t{max_pool2d_forward, max_pool2d_backward, avg_pool2d_forward,
                             avg_pool2d_backward};
    return t;
}

}  // namespace tn::TN_ISA_NS
