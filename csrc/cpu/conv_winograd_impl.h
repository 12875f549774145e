// The Winograd F(2x2, 3x3) transforms (conv_winograd.cpp), written once and compiled once per
// CPU variant: conv_winograd.cpp includes this file as tn::generic, isa/conv_winograd_avx2.cpp
// and isa/conv_winograd_avx512.cpp as tn::avx2 and tn::avx512 with their flags, so the loops
// over a row of tiles vectorise 4, 8 or 16 wide. Define TN_ISA_NS before including it, once.
#include "core/parallel.h"
#include "cpu/conv_wide.h"
#include "cpu/conv_winograd.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#ifndef TN_ISA_NS
#error "define TN_ISA_NS (generic, avx2 or avx512) before including cpu/conv_winograd_impl.h"
#endif

namespace tn::TN_ISA_NS {
namespace {

// U (16, O, C): G g G^T of every 3x3 kernel g = weight[o, c].
void transform_weights(float* U, const float* w, const ConvDims& d) {
    const int64_t OC = d.O * d.C;
    parallel_chunks(OC, conv_grain(32), [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) {
            const float* g = w + p * 9;
            float t[4][3];  // G g
            for (int j = 0; j < 3; ++j) {
                const float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
                t[0][j] = g0;
                t[1][j] = 0.5f * (g0 + g1 + g2);
                t[2][j] = 0.5f * (g0 - g1 + g2);
                t[3][j] = g2;
            }
            for (int i = 0; i < 4; ++i) {
                const float a = t[i][0], b2 = t[i][1], c = t[i][2];
                const float u[4] = {a, 0.5f * (a + b2 + c), 0.5f * (a - b2 + c), c};
                for (int j = 0; j < 4; ++j) U[(i * 4 + j) * OC + p] = u[j];
            }
        }
    });
}

// V (16, C, Tc) for images [n0, n0 + nb): B^T d B of every 4x4 input tile; tile index
// t = (m * th + i) * tw + j. Each plane is first copied into a padded per-thread plane. Returns
// false when that scratch cannot be had.
bool transform_input(float* V, const float* x, const ConvDims& d, const WinogradTiles& T, int64_t n0,
                     int64_t nb) {
    const int64_t Tc = nb * T.per_image, CT = d.C * Tc, Wp = T.Wp;
    std::atomic<bool> ok{true};
    parallel_chunks(nb * d.C, conv_grain(T.Hp * Wp * 4), [&](int64_t b, int64_t e) {
        float* xp = thread_scratch(0, std::size_t(T.Hp * Wp));
        if (!xp) {
            ok.store(false);
            return;
        }
        for (int64_t p = b; p < e; ++p) {
            const int64_t m = p / d.C, c = p % d.C;
            const float* plane = x + ((n0 + m) * d.C + c) * d.H * d.W;
            conv_pad_plane(xp, plane, d, T.Hp, Wp);
            float* v = V + c * Tc + m * T.per_image;
            for (int64_t i = 0; i < T.th; ++i) {
                const float* s0 = xp + 2 * i * Wp;
                const float *s1 = s0 + Wp, *s2 = s1 + Wp, *s3 = s2 + Wp;
                float* o = v + i * T.tw;
                // Tiles of a row side by side: every statement is elementwise over j (loads 2
                // apart), so the loop vectorises; the 16 outputs are 16 rows of V.
#pragma GCC ivdep
                for (int64_t j = 0; j < T.tw; ++j) {
                    float r[4][4];  // B^T d
                    for (int l = 0; l < 4; ++l) {
                        const float d0 = s0[2 * j + l], d1 = s1[2 * j + l], d2 = s2[2 * j + l],
                                    d3 = s3[2 * j + l];
                        r[0][l] = d0 - d2;
                        r[1][l] = d1 + d2;
                        r[2][l] = d2 - d1;
                        r[3][l] = d1 - d3;
                    }
                    for (int k = 0; k < 4; ++k) {  // (B^T d) B
                        o[(4 * k) * CT + j] = r[k][0] - r[k][2];
                        o[(4 * k + 1) * CT + j] = r[k][1] + r[k][2];
                        o[(4 * k + 2) * CT + j] = r[k][2] - r[k][1];
                        o[(4 * k + 3) * CT + j] = r[k][1] - r[k][3];
                    }
                }
            }
        }
    });
    return ok.load();
}

// out images [n0, n0 + nb) = A^T m A of every tile of M (16, O, Tc), cropped to OH x OW, + bias.
void transform_output(float* out, const float* M, const float* bias, const ConvDims& d,
                      const WinogradTiles& T, int64_t n0, int64_t nb) {
    const int64_t Tc = nb * T.per_image, OT = d.O * Tc, L = d.L();
    parallel_chunks(nb * d.O, conv_grain(L * 4), [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) {
            const int64_t m = p / d.O, o = p % d.O;
            const float* src = M + o * Tc + m * T.per_image;
            float* dst = out + ((n0 + m) * d.O + o) * L;
            const float bo = bias ? bias[o] : 0.0f;
            // One tile row at a time: A^T m A for the row's tiles into a buffer of two output
            // rows (elementwise over j, so it vectorises), then copied out cropped.
            float rows[2][2 * 64];
            for (int64_t i = 0; i < T.th; ++i) {
                for (int64_t j0 = 0; j0 < T.tw; j0 += 64) {
                    const int64_t n = std::min<int64_t>(64, T.tw - j0);
                    const float* q = src + i * T.tw + j0;
#pragma GCC ivdep
                    for (int64_t j = 0; j < n; ++j) {
                        float s0[4], s1[4];  // A^T m
                        for (int l = 0; l < 4; ++l) {
                            const float m0 = q[l * OT + j], m1 = q[(4 + l) * OT + j],
                                        m2 = q[(8 + l) * OT + j], m3 = q[(12 + l) * OT + j];
                            s0[l] = m0 + m1 + m2;
                            s1[l] = m1 - m2 - m3;
                        }
                        rows[0][2 * j] = s0[0] + s0[1] + s0[2] + bo;
                        rows[0][2 * j + 1] = s0[1] - s0[2] - s0[3] + bo;
                        rows[1][2 * j] = s1[0] + s1[1] + s1[2] + bo;
                        rows[1][2 * j + 1] = s1[1] - s1[2] - s1[3] + bo;
                    }
                    const int64_t w = std::min<int64_t>(2 * n, d.OW - 2 * j0);
                    for (int a = 0; a < 2 && 2 * i + a < d.OH; ++a)
                        std::memcpy(dst + (2 * i + a) * d.OW + 2 * j0, rows[a],
                                    sizeof(float) * w);
                }
            }
        }
    });
}

}  // namespace

const WinogradTable& conv_winograd_table() {
    static const WinogradTable t{transform_weights, transform_input, transform_output};
    return t;
}

}  // namespace tn::TN_ISA_NS
