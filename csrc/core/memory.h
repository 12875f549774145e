// Process allocator policy. Page faults on freshly mapped memory are the dominant cost of many
// kernels here (a 2x2 max pool over 6 MB took 1.8 ms with fresh pages, 0.3 ms without): glibc
// hands out large blocks with mmap and returns freed ones at once, so every call that allocates
// its output faults it in again. tune_malloc() raises both thresholds so freed blocks are kept
// and reused, the policy PyTorch users get from jemalloc or tcmalloc.
#pragma once

namespace tn {

// Serve blocks below 32 MiB from the heap and keep up to 256 MiB of freed heap before giving it
// back. Process-wide; returns false where the C library has no such knobs (not glibc).
bool tune_malloc();

// Whether tune_malloc() has run and taken effect in this process.
bool malloc_tuned();

}  // namespace tn
