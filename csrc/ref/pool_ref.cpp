// Reference max and average 2-D pooling, forward and backward: plain loops over each plane,
// the oracle of cpu/pool.cpp and the fallback of any shape it does not take. Semantics: ref.h.
#include "ref/ref.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tn::ref {
namespace {

// Window bounds of avg pooling along one axis: [lo, hi) clipped to the input, and `padded`, its
// size clipped to the padded input (what count_include_pad divides by).
struct Span {
    int64_t lo, hi, padded;
};

Span avg_span(int64_t o, int64_t k, int64_t s, int64_t p, int64_t n) {
    int64_t lo = o * s - p;
    int64_t hi = lo + k < n + p ? lo + k : n + p;
    const int64_t padded = hi - lo;
    lo = lo < 0 ? 0 : lo;
    hi = hi < n ? hi : n;
    return {lo, hi, padded};
}

int64_t avg_divisor(const Span& y, const Span& x, bool count_include_pad, int64_t over) {
    if (over != 0) return over;
    if (count_include_pad) return y.padded * x.padded;
    return (y.hi - y.lo) * (x.hi - x.lo);
}

}  // namespace

void max_pool2d_forward(float* out, int32_t* indices, const float* inp, const Pool2d& g) {
    for (int64_t p = 0; p < g.planes; ++p) {
        const float* x = inp + p * g.H * g.W;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
            for (int64_t ow = 0; ow < g.OW; ++ow) {
                int64_t h0 = oh * g.sh - g.ph, w0 = ow * g.sw - g.pw;
                const int64_t h1 = std::min(h0 + (g.kh - 1) * g.dh + 1, g.H);
                const int64_t w1 = std::min(w0 + (g.kw - 1) * g.dw + 1, g.W);
                while (h0 < 0) h0 += g.dh;
                while (w0 < 0) w0 += g.dw;
                float m = -std::numeric_limits<float>::infinity();
                int64_t best = h0 * g.W + w0;
                for (int64_t h = h0; h < h1; h += g.dh)
                    for (int64_t w = w0; w < w1; w += g.dw) {
                        const float v = x[h * g.W + w];
                        if (v > m || std::isnan(v)) {
                            m = v;
                            best = h * g.W + w;
                        }
                    }
                const int64_t o = (p * g.OH + oh) * g.OW + ow;
                out[o] = m;
                indices[o] = int32_t(best);
            }
        }
    }
}

void max_pool2d_backward(float* dinp, const float* dout, const int32_t* indices, const Pool2d& g,
                         bool accumulate) {
    const int64_t in_plane = g.H * g.W, out_plane = g.OH * g.OW;
    if (!accumulate)
        for (int64_t i = 0; i < g.planes * in_plane; ++i) dinp[i] = 0.0f;
    for (int64_t p = 0; p < g.planes; ++p)
        for (int64_t o = 0; o < out_plane; ++o)
            dinp[p * in_plane + indices[p * out_plane + o]] += dout[p * out_plane + o];
}

void avg_pool2d_forward(float* out, const float* inp, const Pool2d& g, bool count_include_pad,
                        int64_t divisor_override) {
    for (int64_t p = 0; p < g.planes; ++p) {
        const float* x = inp + p * g.H * g.W;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
            const Span y = avg_span(oh, g.kh, g.sh, g.ph, g.H);
            for (int64_t ow = 0; ow < g.OW; ++ow) {
                const Span s = avg_span(ow, g.kw, g.sw, g.pw, g.W);
                float sum = 0.0f;
                for (int64_t h = y.lo; h < y.hi; ++h)
                    for (int64_t w = s.lo; w < s.hi; ++w) sum += x[h * g.W + w];
                const int64_t div = avg_divisor(y, s, count_include_pad, divisor_override);
                out[(p * g.OH + oh) * g.OW + ow] = sum / float(div);
            }
        }
    }
}

void avg_pool2d_backward(float* dinp, const float* dout, const Pool2d& g, bool count_include_pad,
                         int64_t divisor_override, bool accumulate) {
    const int64_t in_plane = g.H * g.W;
    if (!accumulate)
        for (int64_t i = 0; i < g.planes * in_plane; ++i) dinp[i] = 0.0f;
    for (int64_t p = 0; p < g.planes; ++p) {
        float* dx = dinp + p * in_plane;
        for (int64_t oh = 0; oh < g.OH; ++oh) {
            const Span y = avg_span(oh, g.kh, g.sh, g.ph, g.H);
            for (int64_t ow = 0; ow < g.OW; ++ow) {
                const Span s = avg_span(ow, g.kw, g.sw, g.pw, g.W);
                const int64_t div = avg_divisor(y, s, count_include_pad, divisor_override);
                const float d = dout[(p * g.OH + oh) * g.OW + ow] / float(div);
                for (int64_t h = y.lo; h < y.hi; ++h)
                    for (int64_t w = s.lo; w < s.hi; ++w) dx[h * g.W + w] += d;
            }
        }
    }
}

}  // namespace tn::ref
