// conv_winograd.h's F(2x2, 3x3) forward: the transforms (conv_winograd_impl.h, one table per CPU
// variant) around 16 SGEMMs per chunk of images. Matrices (Lavin & Gray's F(2x2, 3x3)):
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//   A^T = [1 1 1 0; 0 1 -1 -1]
#include "cpu/conv_winograd.h"
#include "core/dispatch.h"
#include "cpu/conv_wide.h"
#include "cpu/gemm.h"

#include <algorithm>
#include <memory>
#include <new>

#define TN_ISA_NS generic
#include "cpu/conv_winograd_impl.h"
#undef TN_ISA_NS

namespace tn {

TN_ISA_TABLE(WinogradTable, conv_winograd_table)

namespace {

// Channels below which the 16 products (reduction length C) are too short to pay for the
// transforms: at 32 input channels the implicit GEMM won (bench/cases/conv.py shapes).
constexpr int64_t kMinChannels = 64;
// Floats of one transformed buffer (16 positions x channels x tiles) per chunk of images.
constexpr int64_t kChunkFloats = int64_t(1) << 22;

}  // namespace

bool conv2d_winograd_applies(const ConvDims& d) {
    return d.KH == 3 && d.KW == 3 && d.SH == 1 && d.SW == 1 && d.DH == 1 && d.DW == 1 &&
           d.G == 1 && d.C >= kMinChannels && d.O >= kMinChannels && d.OH >= 1 && d.OW >= 1;
}

void conv2d_winograd_forward(float* out, const float* x, const float* weight, const float* bias,
                             const ConvDims& d) {
    const WinogradTable& tab = table();
    const WinogradTiles T(d);
    const int64_t chans = std::max(d.C, d.O);
    const int64_t nb = conv_images_per_group(d.N, kChunkFloats / (16 * chans * T.per_image));
    const int64_t Tmax = nb * T.per_image;
    const std::unique_ptr<float[]> U(new float[16 * d.O * d.C]);
    const std::unique_ptr<float[]> V(new float[16 * d.C * Tmax]);
    const std::unique_ptr<float[]> M(new float[16 * d.O * Tmax]);
    tab.weights(U.get(), weight, d);
    for (int64_t n0 = 0; n0 < d.N; n0 += nb) {
        const int64_t m_count = std::min(nb, d.N - n0), Tc = m_count * T.per_image;
        if (!tab.input(V.get(), x, d, T, n0, m_count)) throw std::bad_alloc();
        for (int64_t k = 0; k < 16; ++k)
            sgemm(d.O, Tc, d.C, 1.0f, ConstMat{U.get() + k * d.O * d.C, d.C, 1},
                  ConstMat{V.get() + k * d.C * Tc, Tc, 1}, 0.0f, M.get() + k * d.O * Tc, Tc);
        tab.output(out, M.get(), bias, d, T, n0, m_count);
    }
}

}  // namespace tn
