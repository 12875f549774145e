// Python binding of the SGEMM: validate, allocate the result, release the GIL, call cpu/gemm.
#include "bindings/bindings.h"
#include "bindings/checks.h"
#include "cpu/gemm.h"

#include <cstdint>
#include <cstring>
#include <string>

namespace tn::bind {
namespace {

struct Operand {
    ConstMat view;
    int64_t rows, cols;  // of op(x)
};

Operand operand(const py::array& x, bool trans) {
    const auto s = elem_strides(x);
    const int64_t r = x.shape(0), c = x.shape(1);
    ConstMat v{static_cast<const float*>(x.data()), s[0], s[1]};
    return trans ? Operand{v.t(), c, r} : Operand{v, r, c};
}

const GemmKernel* kernel_by_name(const py::object& variant) {
    if (variant.is_none()) return gemm_kernel_for(active_isa());
    const std::string name = py::str(variant);
    if (name == "ref" || name == "reference") return nullptr;
    try {
        return gemm_kernel_for(parse_isa(name, "variant"));
    } catch (const std::invalid_argument& e) {
        throw py::value_error(e.what());
    }
}

py::array gemm(const py::handle& a_obj, const py::handle& b_obj, bool trans_a, bool trans_b,
               double alpha, double beta, const py::object& out_obj, const py::object& variant) {
    const py::array a = require_float32(a_obj, "a", 2);
    const py::array b = require_float32(b_obj, "b", 2);
    const Operand A = operand(a, trans_a), B = operand(b, trans_b);
    if (A.cols != B.rows)
        throw py::value_error("gemm: inner dimensions differ: op(a) is (" + std::to_string(A.rows) +
                              ", " + std::to_string(A.cols) + ") from a " + shape_str(a) +
                              (trans_a ? " transposed" : "") + ", op(b) is (" +
                              std::to_string(B.rows) + ", " + std::to_string(B.cols) +
                              ") from b " + shape_str(b) + (trans_b ? " transposed" : ""));
    const int64_t M = A.rows, N = B.cols, K = A.cols;
    const std::string want = "(" + std::to_string(M) + ", " + std::to_string(N) + ")";
    const GemmKernel* kernel = kernel_by_name(variant);

    py::array out;
    if (out_obj.is_none()) {
        if (beta != 0.0)
            throw py::value_error("gemm: beta=" + std::to_string(beta) +
                                  " scales out, but out is None; pass out= (the C to scale)");
        check_alloc("out", {M, N}, sizeof(float));  // a and b may be broadcast views
        out = py::array_t<float>({M, N});
    } else {
        if (!py::isinstance<py::array>(out_obj))
            throw py::type_error("out must be a numpy.ndarray, got " +
                                 std::string(py::str(py::type::handle_of(out_obj).attr("__name__"))));
        out = py::reinterpret_borrow<py::array>(out_obj);
        const py::dtype dt = out.dtype();
        if (!dt.equal(py::dtype::of<float>()))
            throw py::value_error("out must have dtype float32, got " + std::string(py::str(dt)));
        if (out.ndim() != 2 || out.shape(0) != M || out.shape(1) != N)
            throw py::value_error("out must have shape " + want + ", got " + shape_str(out));
        if (!is_c_contiguous(out))
            throw py::value_error("out must be C-contiguous (shape " + want + ")");
        if (!out.writeable()) throw py::value_error("out is read-only");
        if (reinterpret_cast<std::uintptr_t>(out.data()) % alignof(float) != 0)
            throw py::value_error("out is not aligned to float32");
    }
    if (M == 0 || N == 0) return out;

    // An out that aliases a or b would be overwritten while still being read: go through a copy.
    const bool alias = may_overlap(out, a) || may_overlap(out, b);
    py::array target = alias ? py::array_t<float>({M, N}) : out;
    if (alias && beta != 0.0) std::memcpy(target.mutable_data(), out.data(), M * N * sizeof(float));
    float* C = static_cast<float*>(target.mutable_data());
    {
        py::gil_scoped_release nogil;
        sgemm_with(kernel, M, N, K, float(alpha), A.view, B.view, float(beta), C, N);
    }
    if (alias) std::memcpy(out.mutable_data(), target.data(), M * N * sizeof(float));
    return out;
}

}  // namespace

void bind_gemm(py::module_& m) {
    m.def("gemm", &gemm, py::arg("a"), py::arg("b"), py::arg("trans_a") = false,
          py::arg("trans_b") = false, py::arg("alpha") = 1.0, py::arg("beta") = 0.0,
          py::arg("out") = py::none(), py::arg("variant") = py::none(),
          "C = alpha * op(a) @ op(b) + beta * out (float32, 2-D). variant: None (the active "
          "one), 'ref', 'generic', 'avx2' or 'avx512'.");
    m.def(
        "_gemm_kernel_info",
        [](const py::object& variant) {
            py::dict d;
            const GemmKernel* g = kernel_by_name(variant);
            if (!g) return d;  // the reference has no blocking
            d["name"] = g->name;
            d["MR"] = g->MR;
            d["NR"] = g->NR;
            d["MC"] = g->MC;
            d["KC"] = g->KC;
            d["NC"] = g->NC;
            return d;
        },
        py::arg("variant") = py::none(), "Blocking of a GEMM variant (tests pick edge shapes from it).");
}

}  // namespace tn::bind
