// Winograd F(2x2, 3x3) forward for 3x3, stride-1, undilated, ungrouped convolutions with enough
// channels that the products dominate. Each 2x2 block of outputs takes 16 multiplies per
// (input, output) channel pair instead of 36: the input is cut into overlapping 4x4 tiles and
// transformed (B^T d B), the weights likewise (G g G^T), the 16 transformed positions are 16
// SGEMMs (O x C) @ (C x tiles), and A^T m A turns each 4x4 result back into 2x2 outputs. The
// transforms add only additions (and halves, for the weights), so results differ from the direct
// sum by rounding only. Same conventions as conv.h; results do not depend on the thread count.
#pragma once
#include "cpu/conv.h"

namespace tn {

// True when conv2d's forward (and so the transposed-convolution dX) takes this path.
bool conv2d_winograd_applies(const ConvDims& d);

// out (N, O, OH, OW) = conv(x, weight) + bias (O, or null). Throws std::bad_alloc (never from a
// parallel region) when scratch cannot be had.
void conv2d_winograd_forward(float* out, const float* x, const float* weight, const float* bias,
                             const ConvDims& d);

// 2x2 output tiles: th x tw per image; a tile reads the 4x4 input block at (2 th, 2 tw) of the
// image padded to Hp x Wp (PH, PW zeros before, zeros after up to the last tile's reach).
struct WinogradTiles {
    int64_t th, tw, per_image, Hp, Wp;
    explicit WinogradTiles(const ConvDims& d)
        : th((d.OH + 1) / 2), tw((d.OW + 1) / 2), per_image(th * tw), Hp(2 * th + 2),
          Wp(2 * tw + 2) {}
};

// The transforms of one CPU variant (conv_winograd_impl.h builds one table per variant):
// weights: U (16, O, C) = G g G^T of every kernel; input: V (16, C, tiles) = B^T d B of every
// tile of images [n0, n0 + nb) (false when its scratch cannot be had); output: the images =
// A^T m A of every tile of M (16, O, tiles), cropped, + bias.
struct WinogradTable {
    void (*weights)(float* U, const float* w, const ConvDims& d);
    bool (*input)(float* V, const float* x, const ConvDims& d, const WinogradTiles& T,
                  int64_t n0, int64_t nb);
    void (*output)(float* out, const float* M, const float* bias, const ConvDims& d,
                   const WinogradTiles& T, int64_t n0, int64_t nb);
};

}  // namespace tn
