// Fast embedding: the forward is a row gather (one memcpy per index, indices split over
// threads); the backward a scatter-add whose result is bit-identical for every thread count and
// equal to the reference's. No per-ISA split: both directions are memory-bound row copies/adds.
#include "cpu/embedding.h"
#include "core/parallel.h"

#include <algorithm>
#include <cstring>

namespace tn {
namespace {

// A thread should move at least this many floats (~64 KiB) before another one is worth waking.
constexpr int64_t kGrainFloats = 16384;
// Column blocks of the backward are whole cache lines, so no two threads write one line.
constexpr int64_t kColBlock = 16;

}  // namespace

void embedding_forward(float* out, const int64_t* indices, const float* weight, int64_t n,
                       int64_t V, int64_t D) {
    (void)V;
    if (n == 0 || D == 0) return;
    const int64_t grain = std::max<int64_t>(1, kGrainFloats / D);  // in rows
    parallel_chunks(n, grain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i)
            std::memcpy(out + i * D, weight + indices[i] * D, sizeof(float) * std::size_t(D));
    });
}

// Why columns: repeated indices make rows of dweight receive several dout rows. Splitting the
// indices over threads would need atomics or per-thread copies whose summation order depends on
// the thread count. Instead every thread owns a range of whole cache-line column blocks of
// dweight and walks ALL indices in order, adding only its columns: each dweight element gets
// its contributions in index order, exactly as the reference does, whatever the thread count.
// (The alternative, bucketing indices by row first, costs a sort and an n-sized scratch; the
// column split needs nothing and reads each index n times per thread, which is cheap next to
// the D-wide rows.) Narrow rows (D < 32) get one thread: there is nothing to split.
void embedding_backward(float* dweight, const float* dout, const int64_t* indices, int64_t n,
                        int64_t V, int64_t D, int64_t padding_idx, bool accumulate) {
    if (D == 0) return;
    if (!accumulate)
        parallel_chunks(V * D, kGrainFloats, [&](int64_t b, int64_t e) {
            std::memset(dweight + b, 0, sizeof(float) * std::size_t(e - b));
        });
    if (n == 0) return;
    const int64_t blocks = ceil_div(D, kColBlock);
    // parallel_chunks sizes the team by blocks / grain: a grain in blocks that gives each thread
    // about kGrainFloats of additions in total.
    const int64_t grain = std::max<int64_t>(1, kGrainFloats / (n * kColBlock));
    parallel_chunks(blocks, grain, [&](int64_t b, int64_t e) {
        const int64_t c0 = b * kColBlock, c1 = std::min(D, e * kColBlock), w = c1 - c0;
        for (int64_t i = 0; i < n; ++i) {
            const int64_t r = indices[i];
            if (r == padding_idx) continue;
            float* TN_RESTRICT dst = dweight + r * D + c0;
            const float* TN_RESTRICT src = dout + i * D + c0;
            for (int64_t d = 0; d < w; ++d) dst[d] += src[d];
        }
    });
}

}  // namespace tn
