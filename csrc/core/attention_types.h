// Argument types shared by the attention kernels (cpu/attention.h) and their references
// (ref/ref.h): scaled dot-product attention over (batch, heads, time, features) float32 views.
#pragma once
#include <cstdint>

namespace tn {

// A (B, H, T, F) float32 view whose last dimension is contiguous: element (b, h, t, f) at
// data[b * sb + h * sh + t * st + f].
struct Heads {
    const float* data;
    int64_t sb, sh, st;
    const float* row(int64_t b, int64_t h, int64_t t) const { return data + b * sb + h * sh + t * st; }
};
struct MutHeads {
    float* data;
    int64_t sb, sh, st;
    float* row(int64_t b, int64_t h, int64_t t) const { return data + b * sb + h * sh + t * st; }
};

// softmax(scale * q k^T + mask) v for q (B, Hq, Tq, D), k (B, Hk, Tk, D), v (B, Hk, Tk, Dv);
// query head h reads key/value head h / (Hq / Hk) (grouped-query attention when Hk < Hq).
// mask: an additive float mask read at b * mb + h * mh + i * mq + j * mk (strides 0 where it
// broadcasts; -inf excludes a pair), or null. causal: query i sees keys j <= i (torch's
// is_causal, top-left aligned). dropout_p > 0 zeroes each probability with that chance (the
// rest scaled by 1 / (1 - p)), drawn from a counter-based hash of (seed, b, h, i, j), so the
// backward regenerates the same mask. A query that sees no key (all masked, or Tk == 0) gives
// 0, as torch's CPU kernel does.
struct Attention {
    int64_t B, Hq, Hk, Tq, Tk, D, Dv;
    float scale;
    bool causal;
    const float* mask;
    int64_t mb, mh, mq, mk;
    float dropout_p;
    uint64_t seed;
};

// Keep (true) or drop probability (b, h, i, j) under dropout_p: the same draw in every kernel.
inline bool attention_keep(const Attention& a, int64_t b, int64_t h, int64_t i, int64_t j) {
    uint64_t z = a.seed ^ (((uint64_t(b) * uint64_t(a.Hq) + uint64_t(h)) * uint64_t(a.Tq) +
                            uint64_t(i)) * uint64_t(a.Tk) + uint64_t(j)) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;  // splitmix64's finaliser
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return double(z >> 11) * (1.0 / 9007199254740992.0) >= double(a.dropout_p);
}

}  // namespace tn
