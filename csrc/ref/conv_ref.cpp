// Reference conv2d: the textbook seven nested loops (forward) and their transposes (backward),
// each sum in float in index order, no unfolding. The oracle for cpu/conv.cpp.
// Convention: see cpu/conv.h (backward overwrites; a null gradient pointer is skipped).
#include "ref/ref.h"

namespace tn::ref {
namespace {

// Calls fn(c, ih, iw, wi) for each in-bounds tap of output (o, oh, ow): input channel c,
// input position (ih, iw) and the flat index wi of the weight element it meets.
template <typename Fn>
void taps(const ConvDims& d, int64_t o, int64_t oh, int64_t ow, Fn&& fn) {
    const int64_t Cg = d.C / d.G, Og = d.O / d.G, g = o / Og;
    for (int64_t cg = 0; cg < Cg; ++cg)
        for (int64_t i = 0; i < d.KH; ++i) {
            const int64_t ih = oh * d.SH - d.PH + i * d.DH;
            if (ih < 0 || ih >= d.H) continue;
            for (int64_t j = 0; j < d.KW; ++j) {
                const int64_t iw = ow * d.SW - d.PW + j * d.DW;
                if (iw < 0 || iw >= d.W) continue;
                fn(g * Cg + cg, ih, iw, ((o * Cg + cg) * d.KH + i) * d.KW + j);
            }
        }
}

}  // namespace

void conv2d_forward(float* out, const float* x, const float* weight, const float* bias,
                    const ConvDims& d) {
    for (int64_t n = 0; n < d.N; ++n)
        for (int64_t o = 0; o < d.O; ++o)
            for (int64_t oh = 0; oh < d.OH; ++oh)
                for (int64_t ow = 0; ow < d.OW; ++ow) {
                    float acc = 0.0f;
                    taps(d, o, oh, ow, [&](int64_t c, int64_t ih, int64_t iw, int64_t wi) {
                        acc += x[((n * d.C + c) * d.H + ih) * d.W + iw] * weight[wi];
                    });
                    out[((n * d.O + o) * d.OH + oh) * d.OW + ow] = bias ? acc + bias[o] : acc;
                }
}

void conv2d_backward(float* dx, float* dweight, float* dbias, const float* dout, const float* x,
                     const float* weight, const ConvDims& d) {
    if (dx)
        for (int64_t k = 0; k < d.N * d.C * d.H * d.W; ++k) dx[k] = 0.0f;
    if (dweight)
        for (int64_t k = 0; k < d.O * (d.C / d.G) * d.KH * d.KW; ++k) dweight[k] = 0.0f;
    if (dbias)
        for (int64_t o = 0; o < d.O; ++o) dbias[o] = 0.0f;
    for (int64_t n = 0; n < d.N; ++n)
        for (int64_t o = 0; o < d.O; ++o)
            for (int64_t oh = 0; oh < d.OH; ++oh)
                for (int64_t ow = 0; ow < d.OW; ++ow) {
                    const float g = dout[((n * d.O + o) * d.OH + oh) * d.OW + ow];
                    if (dbias) dbias[o] += g;
                    taps(d, o, oh, ow, [&](int64_t c, int64_t ih, int64_t iw, int64_t wi) {
                        const int64_t xi = ((n * d.C + c) * d.H + ih) * d.W + iw;
                        if (dx) dx[xi] += g * weight[wi];
                        if (dweight) dweight[wi] += g * x[xi];
                    });
                }
}

}  // namespace tn::ref
