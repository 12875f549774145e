// Counter-based random bits: element i of a stream keyed by a 64-bit seed is a pure function of
// (seed, i), so dropout masks do not depend on how the work is split across threads, and the
// reference and every CPU variant draw the same bits. Not cryptographic; plain integer code.
#pragma once
#include <cstdint>

namespace tn {
namespace {  // TU-local: each variant's file keeps its own copy (compiled with its own flags)

// splitmix64's finaliser: a bijection of 64-bit words with good avalanche.
inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// A 32-bit bijection with low bias (two multiply-xorshift rounds): 32-bit lanes multiply in
// every SIMD width, where 64-bit products would need AVX-512DQ.
inline uint32_t mix32(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    return x ^ (x >> 16);
}

// Keys for the 2^32 elements whose index has high word `hi`: derived from the seed by
// splitmix64, once per block, so the per-element work stays in 32 bits.
struct CounterKeys {
    uint32_t k1, k2;
};

inline CounterKeys counter_keys(uint64_t seed, uint64_t hi) {
    const uint64_t a = mix64(seed + 0x9e3779b97f4a7c15ULL * (2 * hi + 1));
    return CounterKeys{static_cast<uint32_t>(a), static_cast<uint32_t>(a >> 32)};
}

// The 32 random bits of the element whose index has low word `lo`.
inline uint32_t counter_bits(uint32_t lo, CounterKeys k) { return mix32(mix32(lo ^ k.k1) + k.k2); }

// Bernoulli(1 - p) from 32 bits: keep when bits >= threshold = floor(p * 2^32); p = 1 gives
// 2^32, which no 32-bit value reaches.
inline uint64_t keep_threshold(double p) {
    return static_cast<uint64_t>(p * 4294967296.0);
}

}  // namespace
}  // namespace tn
