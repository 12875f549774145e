// Pooling kernels written once and compiled once per CPU variant: pool.cpp includes this file as
// tn::generic, isa/pool_avx2.cpp and isa/pool_avx512.cpp as tn::avx2 and tn::avx512. Threads
// split the N*C planes; the 2x2 stride-2 unpadded case (every CNN's downsampling) has row
// kernels of branch-free selects that the compiler vectorises over the output row. Define
// TN_ISA_NS before including it; nothing here may be included twice in one file.
#include "core/parallel.h"
#include "cpu/pool.h"

#include <algorithm>
#include <cstring>
#include <limits>

#ifndef TN_ISA_NS
#error "define TN_ISA_NS (generic, avx2 or avx512) before including cpu/pool_impl.h"
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
