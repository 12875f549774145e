// conv_wide.h: the wide-position forward (implicit GEMM, B panels copied from plane stretches)
// and dW (wide im2col, then the SGEMM's transposing pack) of stride-1 convolutions.
#include "cpu/conv_wide.h"
#include "core/parallel.h"
#include "cpu/gemm.h"

#include <cstring>
#include <memory>

namespace tn {
namespace {

struct WideSource {
    const float* xp;  // padded input (N, C, Hp, Wp)
    const ConvDims* d;
    int64_t Hp, Wp, Lw;  // Lw = (OH - 1) * Wp + OW wide positions per image (none past the plane)
    int64_t n0, c0;
};

// One stretch of a panel: NR-column panel `panel`, columns [t, t + len) of it, read from offset
// src (image m's plane start + wide position) of every packed row.
struct WideRun {
    int64_t panel, t, len, src;
};

void pack_wide(const void* ctx, int64_t k0, int64_t kc, int64_t j0, int64_t nc, int64_t NR,
               float* Bp) {
    const WideSource& s = *static_cast<const WideSource*>(ctx);
    const ConvDims& d = *s.d;
    const int64_t plane = s.Hp * s.Wp, KK = d.KH * d.KW;
    // nc <= 512 for every kernel (gemm_config.h: NC <= 512; the reference fallback uses 8), and a
    // stretch ends at a panel or image edge, so there are fewer than 2 * 512 of them.
    WideRun runs[1024];
    int64_t count = 0;
    for (int64_t col = j0; col < j0 + nc;) {
        const int64_t rel = col - j0, m = col / s.Lw, t = col % s.Lw;
        const int64_t len = std::min({s.Lw - t, NR - rel % NR, j0 + nc - col});
        runs[count++] = WideRun{rel / NR, rel % NR, len, (s.n0 + m) * d.C * plane + t};
        col += len;
    }
    const int64_t last = (nc - 1) / NR, tail = nc - last * NR;
    for (int64_t kk = 0; kk < kc; ++kk) {
        const int64_t r = k0 + kk, c = s.c0 + r / KK, i = (r % KK) / d.KW, jw = r % d.KW;
        const float* row = s.xp + c * plane + i * d.DH * s.Wp + jw * d.DW;
        for (int64_t u = 0; u < count; ++u) {
            const WideRun& run = runs[u];
            float* TN_RESTRICT dst = Bp + run.panel * NR * kc + kk * NR + run.t;
            const float* TN_RESTRICT src = row + run.src;
            for (int64_t v = 0; v < run.len; ++v) dst[v] = src[v];
        }
        float* pad = Bp + last * NR * kc + kk * NR;
        for (int64_t v = tail; v < NR; ++v) pad[v] = 0.0f;
    }
}

// xp (N * C planes of Hp x Wp) = x with PH rows and PW columns of zeros around each plane.
void pad_planes(float* xp, const float* x, const ConvDims& d, int64_t Hp, int64_t Wp) {
    parallel_chunks(d.N * d.C, conv_grain(Hp * Wp), [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) {
            conv_pad_plane(xp + p * Hp * Wp, x + p * d.H * d.W, d, Hp, Wp);
        }
    });
}

// The padded input and the wide layout's sizes, shared by the forward and dW.
struct Wide {
    int64_t Hp, Wp, Lw, nb;  // nb: images per SGEMM (kConvMinColumns wide positions or more)
    std::unique_ptr<float[]> padded;
    const float* xp;

    Wide(const float* x, const ConvDims& d)
        : Hp(d.H + 2 * d.PH), Wp(d.W + 2 * d.PW), Lw((d.OH - 1) * Wp + d.OW), xp(x) {
        nb = conv_images_per_group(d.N, (kConvMinColumns + Lw - 1) / Lw);
        if (d.PH > 0 || d.PW > 0) {
            padded.reset(new float[d.N * d.C * Hp * Wp]);
            pad_planes(padded.get(), x, d, Hp, Wp);
            xp = padded.get();
        }
    }
    WideSource source(const ConvDims& d, int64_t n0, int64_t c0) const {
        return WideSource{xp, &d, Hp, Wp, Lw, n0, c0};
    }
};

}  // namespace

void conv2d_forward_wide(float* out, const float* x, const float* weight, const float* bias,
                  const ConvDims& d) {
    const int64_t L = d.L(), Og = d.O / d.G, Kg = d.CKK() / d.G, Cg = d.C / d.G;
    const Wide wd(x, d);
    const int64_t nb = wd.nb, Wp = wd.Wp, Lw = wd.Lw;
    const std::unique_ptr<float[]> res(new float[d.O * nb * Lw]);
    for (int64_t n0 = 0; n0 < d.N; n0 += nb) {
        const int64_t m_count = std::min(nb, d.N - n0), ld = m_count * Lw;
        for (int64_t k = 0; k < d.G; ++k) {
            const WideSource src = wd.source(d, n0, k * Cg);
            sgemm_packed_b(Og, ld, Kg, 1.0f, ConstMat{weight + k * Og * Kg, Kg, 1},
                           BPacker{pack_wide, &src}, 0.0f, res.get() + k * Og * ld, ld);
        }
        // Drop the wide columns and add the bias, row by row of the output.
        parallel_chunks(m_count * d.O, conv_grain(L), [&](int64_t b, int64_t e) {
            for (int64_t it = b; it < e; ++it) {
                const int64_t m = it / d.O, o = it % d.O;
                const float bo = bias ? bias[o] : 0.0f;
                const float* src = res.get() + o * ld + m * Lw;
                float* dst = out + ((n0 + m) * d.O + o) * L;
                for (int64_t oh = 0; oh < d.OH; ++oh)
                    for (int64_t ow = 0; ow < d.OW; ++ow)
                        dst[oh * d.OW + ow] = src[oh * Wp + ow] + bo;
            }
        });
    }
}

// dW of a stride-1 convolution over wide positions: the patch matrix times dout laid out wide
// (zeros in the dropped columns, so the patches there add nothing), transposed, group after
// group with beta = 1 after the first (a fixed order of the sum over images). The patch matrix
// is unfolded first, a plain copy of plane stretches, so the SGEMM's transposing pack reads it.
void conv2d_dweight_wide(float* dweight, const float* dout, const float* x, const ConvDims& d) {
    const int64_t L = d.L(), Og = d.O / d.G, Kg = d.CKK() / d.G, KK = d.KH * d.KW;
    const Wide wd(x, d);
    const int64_t nb = wd.nb, Wp = wd.Wp, Lw = wd.Lw, plane = wd.Hp * Wp;
    const std::unique_ptr<float[]> dw(new float[(d.O + d.CKK()) * nb * Lw]);
    float* cols = dw.get() + d.O * nb * Lw;
    const std::unique_ptr<float[]> dwt(new float[d.O * Kg]);  // dW transposed, per conv group
    for (int64_t n0 = 0; n0 < d.N; n0 += nb) {
        const int64_t m_count = std::min(nb, d.N - n0), ld = m_count * Lw;
        parallel_chunks(m_count * d.O, conv_grain(Lw), [&](int64_t b, int64_t e) {
            for (int64_t it = b; it < e; ++it) {
                const int64_t m = it / d.O, o = it % d.O;
                const float* src = dout + ((n0 + m) * d.O + o) * L;
                float* dst = dw.get() + o * ld + m * Lw;
                for (int64_t oh = 0; oh < d.OH; ++oh) {
                    float* row = dst + oh * Wp;
                    std::memcpy(row, src + oh * d.OW, sizeof(float) * d.OW);
                    if (oh + 1 < d.OH) std::fill(row + d.OW, row + Wp, 0.0f);
                }
            }
        });
        parallel_chunks(d.CKK(), conv_grain(ld), [&](int64_t b, int64_t e) {
            for (int64_t r = b; r < e; ++r) {
                const int64_t c = r / KK, i = (r % KK) / d.KW, jw = r % d.KW;
                const float* src = wd.xp + c * plane + i * d.DH * Wp + jw * d.DW;
                for (int64_t m = 0; m < m_count; ++m)
                    std::memcpy(cols + r * ld + m * Lw, src + (n0 + m) * d.C * plane,
                                sizeof(float) * Lw);
            }
        });
        // dW^T = cols @ dout^T: the tall side (C*KH*KW rows) is the one split over threads, so
        // each thread packs half the patches instead of all of them (dW = dout @ cols^T split
        // its 64 rows and packed every patch twice).
        for (int64_t k = 0; k < d.G; ++k)
            sgemm(Kg, Og, ld, 1.0f, ConstMat{cols + k * Kg * ld, ld, 1},
                  ConstMat{dw.get() + k * Og * ld, 1, ld}, n0 == 0 ? 0.0f : 1.0f,
                  dwt.get() + k * Kg * Og, Og);
    }
    for (int64_t k = 0; k < d.G; ++k)
        for (int64_t o = 0; o < Og; ++o)
            for (int64_t r = 0; r < Kg; ++r)
                dweight[(k * Og + o) * Kg + r] = dwt[(k * Kg + r) * Og + o];
}

}  // namespace tn
