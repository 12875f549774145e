// Variant selection (see dispatch.h). Kernel tables that depend on the variant live beside their
// kernels (e.g. gemm_ukernel_for() in cpu/gemm.cpp) and ask active_isa().
#include "core/dispatch.h"
#include "core/cpu_features.h"

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace tn {
namespace {

std::atomic<int> g_isa{-1};

}  // namespace

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::generic: return "generic";
        case Isa::avx2: return "avx2";
        case Isa::avx512: return "avx512";
    }
    return "?";
}

bool isa_supported(Isa isa) {
    switch (isa) {
        case Isa::generic: return true;
#ifdef TURBONN_HAVE_X86_KERNELS
        case Isa::avx2: return cpu_features().avx2;
        case Isa::avx512: return cpu_features().avx512;
#else
        default: return false;
#endif
    }
    return false;
}

std::vector<Isa> supported_isas() {
    std::vector<Isa> out;
    for (Isa i : {Isa::generic, Isa::avx2, Isa::avx512})
        if (isa_supported(i)) out.push_back(i);
    return out;
}

Isa best_isa() { return supported_isas().back(); }

Isa parse_isa(const std::string& name, const char* what) {
    for (Isa i : {Isa::generic, Isa::avx2, Isa::avx512}) {
        if (name == isa_name(i)) {
            if (!isa_supported(i))
                throw std::invalid_argument(std::string(what) + "=" + name +
                                            ": this CPU or build does not support it");
            return i;
        }
    }
    throw std::invalid_argument(std::string(what) + "=" + name +
                                ": expected one of generic, avx2, avx512");
}

Isa active_isa() {
    int v = g_isa.load(std::memory_order_acquire);
    if (v >= 0) return static_cast<Isa>(v);
    Isa chosen = best_isa();
    const char* env = std::getenv("TURBONN_CPU");
    if (env && *env) chosen = parse_isa(env, "TURBONN_CPU");
    int expected = -1;
    g_isa.compare_exchange_strong(expected, static_cast<int>(chosen));
    return static_cast<Isa>(g_isa.load(std::memory_order_acquire));
}

void set_active_isa(Isa isa) { g_isa.store(static_cast<int>(isa), std::memory_order_release); }

}  // namespace tn
