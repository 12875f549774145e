// Experiment 01: how close does the AVX-512 micro-kernel alone get to the FMA peak, with its
// panels resident in L1/L2 (no packing, no threads)? Build and run:
//   g++ -O3 -std=c++17 -DTURBONN_HAVE_X86_KERNELS -mavx512f -mavx512vl -mavx512dq -mavx512bw \
//       -mavx2 -mfma -I../../csrc 01_gemm_ukernel.cpp -o /tmp/ukbench && /tmp/ukbench
// Prints GFLOP/s for a few kc and for panels sized to L1 / L2.
#include "cpu/isa/gemm_ukernel_avx512.cpp"  // the kernel under test, compiled into this file
#include "cpu/isa/gemm_pack_avx512.cpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main() {
    using namespace tn;
    const GemmKernel& g = gemm_kernel_avx512();
    for (int64_t kc : {128, 256, 384, 512}) {
        for (int64_t nc : {g.NR, int64_t(480), int64_t(960)}) {
            std::vector<float, std::allocator<float>> a(g.MR * kc, 1.0f), c(g.MR * nc, 0.0f);
            float* bp = static_cast<float*>(std::aligned_alloc(64, kc * nc * 4));
            for (int64_t i = 0; i < kc * nc; ++i) bp[i] = 0.5f;
            const int reps = int(4e8 / double(g.MR * nc * kc));
            auto t0 = std::chrono::steady_clock::now();
            for (int r = 0; r < reps; ++r)
                for (int64_t jr = 0; jr < nc; jr += g.NR)
                    g.ukernel(kc, a.data(), bp + jr * kc, g.NR, c.data() + jr, nc, g.MR, g.NR, 1.0f, 1.0f);
            const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::printf("kc=%4ld nc=%4ld  %.1f GFLOP/s\n", long(kc), long(nc),
                        2.0 * g.MR * nc * kc * reps / s / 1e9);
            std::free(bp);
        }
    }
}
