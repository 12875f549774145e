// The private extension module turbonn._core: runtime configuration (threads, CPU variant,
// build facts) plus one bind_<family>() per kernel family.
#include "bindings/bindings.h"
#include "core/cpu_features.h"
#include "core/dispatch.h"
#include "core/memory.h"
#include "core/parallel.h"
#include "cpu/gemm.h"

#include <pybind11/stl.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace tn::bind {

namespace py = pybind11;

void bind_runtime(py::module_& m) {
    m.def("get_num_threads", &num_threads, "Threads the kernels may use.");
    m.def(
        "set_num_threads",
        [](int n) {
            if (n <= 0)
                throw py::value_error("set_num_threads: n must be a positive integer, got " +
                                      std::to_string(n));
            set_num_threads(n);
        },
        py::arg("n"), "Set the threads the kernels may use (n >= 1).");
    m.def("active_isa", [] { return std::string(isa_name(active_isa())); },
          "The kernel variant in use: generic, avx2 or avx512.");
    m.def(
        "_set_isa",
        [](const std::string& name) {
            try {
                set_active_isa(parse_isa(name, "isa"));
            } catch (const std::invalid_argument& e) {
                throw py::value_error(e.what());
            }
        },
        py::arg("name"), "Force a kernel variant (tests). Same names as TURBONN_CPU.");
    m.def("supported_isas", [] {
        std::vector<std::string> out;
        for (Isa i : supported_isas()) out.emplace_back(isa_name(i));
        return out;
    });
    m.def("build_info", [] {
        py::dict d;
        d["version"] = TURBONN_VERSION;
        d["compiler"] = TURBONN_COMPILER;
        d["openmp"] = openmp_enabled();
#ifdef TURBONN_CUDA_TOOLCHAIN
        d["cuda_toolchain"] = true;
#else
        d["cuda_toolchain"] = false;
#endif
        d["cuda_kernels"] = false;  // no .cu kernels exist yet
#ifdef TURBONN_SANITIZE
        d["sanitize"] = true;
#else
        d["sanitize"] = false;
#endif
        d["malloc_tuned"] = malloc_tuned();
        const GemmKernel* g = gemm_kernel_for(active_isa());
        d["gemm_kernel"] = g ? g->name : "reference";
        return d;
    });
}

}  // namespace tn::bind

PYBIND11_MODULE(_core, m) {
    m.doc() = "turbonn native kernels (private: use turbonn.ops and turbonn.nn)";
    // Keep freed memory for reuse (core/memory.h) unless TURBONN_TUNE_MALLOC=0.
    const char* tune = std::getenv("TURBONN_TUNE_MALLOC");
    if (!(tune && std::strcmp(tune, "0") == 0)) tn::tune_malloc();
    tn::bind::bind_runtime(m);
    tn::bind::bind_gemm(m);
    tn::bind::bind_activations(m);
    tn::bind::bind_optim(m);
    tn::bind::bind_linear(m);
    tn::bind::bind_losses(m);
    tn::bind::bind_softmax_dropout(m);
    tn::bind::bind_pool(m);
    tn::bind::bind_conv(m);
    tn::bind::bind_embedding(m);
    tn::bind::bind_rnn(m);
    tn::bind::bind_attention(m);
    tn::bind::bind_layer_norm(m);
    // Fail at import, with the reason, when TURBONN_CPU names a variant that cannot run here.
    try {
        tn::active_isa();
    } catch (const std::invalid_argument& e) {
        throw pybind11::import_error(e.what());
    }
}
