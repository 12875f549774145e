// tune_malloc(): glibc's mallopt thresholds (see memory.h for why).
#include "core/memory.h"

#include <cstdlib>  // defines __GLIBC__ where the C library is glibc

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tn {
namespace {
bool g_tuned = false;
}

bool tune_malloc() {
#if defined(__GLIBC__)
    constexpr int kMmapThreshold = 32 << 20;   // glibc's own ceiling for its dynamic threshold
    constexpr int kTrimThreshold = 256 << 20;
    g_tuned = mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 &&
              mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1;
#endif
    return g_tuned;
}

bool malloc_tuned() { return g_tuned; }

}  // namespace tn
