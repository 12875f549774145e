// Threading helpers: the library-wide thread count, a work threshold below which kernels stay
// serial (small ops must not get slower with more threads), and reusable per-thread scratch.
// Without OpenMP (TURBONN_OPENMP=OFF) everything here runs on the calling thread.
#pragma once
#include <cstdint>
#include <cstddef>

#ifdef TURBONN_OPENMP
#include <omp.h>
#endif

namespace tn {

// Threads a kernel may use; starts at omp_get_max_threads() (so OMP_NUM_THREADS is respected).
int num_threads();
// n >= 1; the binding rejects anything else with ValueError.
void set_num_threads(int n);
bool openmp_enabled();

// How many threads to use for `work` units (roughly multiply-adds) when one thread should get at
// least `grain` of them: 1 below the threshold, never more than num_threads() nor the processors.
int threads_for_work(double work, double grain);

// Several Python threads may call kernels at once (the GIL is released). Their OpenMP teams would
// oversubscribe the cores and spin against each other, so only one call at a time runs a team:
// a TeamLease taken while another is held grants 1 thread. Kernels split work without changing
// the arithmetic, so the result is the same either way.
class TeamLease {
public:
    explicit TeamLease(int wanted);
    ~TeamLease();
    TeamLease(const TeamLease&) = delete;
    TeamLease& operator=(const TeamLease&) = delete;
    int threads() const { return threads_; }

private:
    int threads_ = 1;
    bool held_ = false;
};

// Runs fn(begin, end) over [0, n) split into contiguous chunks, one per thread, on as many
// threads as n / grain allows (serially below 2 * grain). fn must not throw.
template <typename Fn>
void parallel_chunks(int64_t n, int64_t grain, Fn&& fn) {
    const TeamLease lease(threads_for_work(double(n), double(grain)));
    const int nt = lease.threads();
    if (nt <= 1) {
        if (n > 0) fn(int64_t(0), n);
        return;
    }
#ifdef TURBONN_OPENMP
#pragma omp parallel num_threads(nt)
    {
        const int got = omp_get_num_threads();
        for (int t = omp_get_thread_num(); t < nt; t += got) fn(n * t / nt, n * (t + 1) / nt);
    }
#endif
}

// Per-thread scratch that grows and is kept (no page faults on every call), slot 0 or 1. The
// pointer is valid until the next call with the same slot on the same thread. Returns nullptr when memory runs out:
// it is called inside OpenMP regions, where nothing may throw; the caller raises after the region.
float* thread_scratch(int slot, std::size_t n_floats);

inline int thread_id() {
#ifdef TURBONN_OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

}  // namespace tn
