// Argument types shared by the loss kernels (cpu/loss.h) and their references (ref/ref.h):
// torch's reduction enum and the layout/options of a loss over classes.
#pragma once
#include <cstdint>

namespace tn {

// torch's reduction enum: none keeps one loss per element/target position, mean and sum one
// scalar. Reduced sums add fixed blocks in a fixed order: the same bits for any thread count.
enum class Reduction : int { none = 0, mean = 1, sum = 2 };

// A loss over classes: input (outer, C, inner) (torch's (N, C, d1, ...); unbatched (C,) is
// outer = inner = 1), one target per (outer, inner) position: rows = outer * inner.
struct ClassLoss {
    int64_t outer, C, inner;
    const float* weight;      // (C,) per-class weight, or null for all ones
    int64_t ignore_index;     // index targets equal to it contribute nothing (0 loss, 0 grad)
    float label_smoothing;    // cross entropy only: targets become (1 - e) * t + e / C
    Reduction reduction;
};

}  // namespace tn
