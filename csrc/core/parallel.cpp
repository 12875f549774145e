// Thread count, work threshold and per-thread scratch (see parallel.h).
#include "core/parallel.h"
#include "core/common.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>

namespace tn {
namespace {

int initial_threads() {
#ifdef TURBONN_OPENMP
    const int n = omp_get_max_threads();
    return n > 0 ? n : 1;
#else
    return 1;
#endif
}

std::atomic<int>& thread_setting() {
    static std::atomic<int> n{initial_threads()};
    return n;
}

struct Scratch {
    float* p = nullptr;
    std::size_t cap = 0;
    ~Scratch() { std::free(p); }
};

constexpr int kScratchSlots = 2;  // slot 0: packed A, slot 1: packed B (cpu/gemm.cpp)

}  // namespace

int num_threads() {
#ifdef TURBONN_OPENMP
    return thread_setting().load(std::memory_order_relaxed);
#else
    return 1;
#endif
}

void set_num_threads(int n) { thread_setting().store(n < 1 ? 1 : n, std::memory_order_relaxed); }

bool openmp_enabled() {
#ifdef TURBONN_OPENMP
    return true;
#else
    return false;
#endif
}

int threads_for_work(double work, double grain) {
    // More threads than processors never helps a compute kernel, and asking libgomp for
    // thousands makes it abort the process when the OS refuses them.
    int nt = num_threads();
#ifdef TURBONN_OPENMP
    nt = std::min(nt, std::max(1, std::min(omp_get_num_procs(), omp_get_thread_limit())));
#endif
    if (nt <= 1 || work < 2.0 * grain) return 1;
    const double by_work = work / grain;
    return by_work < nt ? static_cast<int>(by_work) : nt;
}

namespace {
std::atomic<bool> g_team_busy{false};
}  // namespace

TeamLease::TeamLease(int wanted) {
    if (wanted <= 1) return;
#ifdef TURBONN_OPENMP
    if (omp_in_parallel()) return;  // called from inside another kernel's team: stay serial
#endif
    bool expected = false;
    if (g_team_busy.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
        held_ = true;
        threads_ = wanted;
    }
}

TeamLease::~TeamLease() {
    if (held_) g_team_busy.store(false, std::memory_order_release);
}

float* thread_scratch(int slot, std::size_t n_floats) {
    thread_local Scratch slots[kScratchSlots];
    Scratch& s = slots[slot];
    if (n_floats > s.cap) {
        std::free(s.p);
        s.p = nullptr;
        s.cap = 0;
        const std::size_t bytes = round_up(static_cast<int64_t>(n_floats * sizeof(float)), kAlign);
        void* p = std::aligned_alloc(kAlign, bytes);
        if (!p) return nullptr;
        s.p = static_cast<float*>(p);
        s.cap = n_floats;
    }
    return s.p;
}

}  // namespace tn
