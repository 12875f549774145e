// Python bindings of softmax/log_softmax (any dim, as (outer, C, inner) of a contiguous array)
// and dropout (uint8 mask from a counter-based hash of (seed, index)), forward and backward.
// variant="ref" runs the plain-loop reference (tests).
#include "bindings/array_args.h"
#include "bindings/bindings.h"
#include "bindings/checks.h"
#include "cpu/loss.h"
#include "ref/ref.h"

#include <string>

namespace tn::bind {
namespace {

int64_t norm_dim(int64_t dim, int64_t ndim) {
    const int64_t n = ndim > 0 ? ndim : 1;
    if (dim < -n || dim >= n)
        throw py::index_error("dim out of range (expected to be in range of [" +
                              std::to_string(-n) + ", " + std::to_string(n - 1) + "], but got " +
                              std::to_string(dim) + ")");
    return dim < 0 ? dim + n : dim;
}

// (outer, C, inner) around axis `dim` of a contiguous array (a 0-d array is one element).
void split_at(const py::array& x, int64_t dim, int64_t& outer, int64_t& C, int64_t& inner) {
    outer = C = inner = 1;
    const int64_t d = norm_dim(dim, x.ndim());
    for (py::ssize_t i = 0; i < x.ndim(); ++i) (i < d ? outer : i == d ? C : inner) *= x.shape(i);
}

// ----------------------------------------------------------------------- softmax, log_softmax

using SoftmaxFwd = void (*)(float*, const float*, int64_t, int64_t, int64_t);
using SoftmaxBwd = void (*)(float*, const float*, const float*, int64_t, int64_t, int64_t, bool);

void bind_softmax(py::module_& m, const char* name, SoftmaxFwd fast_f, SoftmaxFwd ref_f,
                  SoftmaxBwd fast_b, SoftmaxBwd ref_b) {
    const std::string n = name;
    m.def(
        (n + "_forward").c_str(),
        [=](const py::handle& x_obj, int64_t dim, const py::object& out_obj,
            const py::object& variant) {
            const py::array x = require_float32_contiguous(x_obj, "x");
            int64_t outer, C, inner;
            split_at(x, dim, outer, C, inner);
            py::array out = output_like(out_obj, "out", x);
            if (may_overlap(out, x) && out.data() != x.data())
                throw py::value_error("out must be x itself or not overlap it");
            const SoftmaxFwd f = wants_reference(variant) ? ref_f : fast_f;
            const float* xp = cptr(x);
            float* op = mptr(out);
            {
                py::gil_scoped_release nogil;
                f(op, xp, outer, C, inner);
            }
            return out;
        },
        py::arg("x"), py::arg("dim"), py::arg("out") = py::none(), py::arg("variant") = py::none(),
        (n + "(x) along dim, max-subtracted, into out (new array when None)").c_str());
    m.def(
        (n + "_backward").c_str(),
        [=](const py::handle& dout_obj, const py::handle& y_obj, int64_t dim,
            const py::object& dinp_obj, bool accumulate, const py::object& variant) {
            const py::array y = require_float32_contiguous(y_obj, "out");
            const py::array dout = float_of_shape(dout_obj, "dout", shape_of(y), " (out's shape)");
            int64_t outer, C, inner;
            split_at(y, dim, outer, C, inner);
            py::array dinp = grad_out(dinp_obj, y, accumulate);
            const SoftmaxBwd f = wants_reference(variant) ? ref_b : fast_b;
            const float *gp = cptr(dout), *yp = cptr(y);
            float* dp = mptr(dinp);
            {
                py::gil_scoped_release nogil;
                f(dp, gp, yp, outer, C, inner, accumulate);
            }
            return dinp;
        },
        py::arg("dout"), py::arg("out"), py::arg("dim"), py::arg("dinp") = py::none(),
        py::arg("accumulate") = false, py::arg("variant") = py::none(),
        ("gradient of " + n + " from its output out").c_str());
}

// --------------------------------------------------------------------------------- dropout

void check_p(double p) {
    if (!(p >= 0.0 && p <= 1.0))
        throw py::value_error("dropout probability p has to be between 0 and 1, but got " +
                              std::to_string(p));
}

py::tuple dropout_fwd(const py::handle& x_obj, double p, uint64_t seed, const py::object& out_obj,
                      const py::object& variant) {
    const py::array x = require_float32_contiguous(x_obj, "x");
    check_p(p);
    py::array out = output_like(out_obj, "out", x);
    if (may_overlap(out, x) && out.data() != x.data())
        throw py::value_error("out must be x itself or not overlap it");
    py::array_t<uint8_t> mask(shape_of(x));
    const auto f = wants_reference(variant) ? ref::dropout_forward : dropout_forward;
    const float* xp = cptr(x);
    float* op = mptr(out);
    uint8_t* mp = mask.mutable_data();
    const int64_t n = x.size();
    {
        py::gil_scoped_release nogil;
        f(op, mp, xp, n, p, seed);
    }
    return py::make_tuple(out, mask);
}

py::array dropout_bwd(const py::handle& dout_obj, const py::handle& mask_obj, double p,
                      const py::object& dinp_obj, bool accumulate, const py::object& variant) {
    const py::array dout = require_float32_contiguous(dout_obj, "dout");
    check_p(p);
    if (!py::isinstance<py::array>(mask_obj))
        throw py::type_error("mask must be the numpy.ndarray of uint8 from dropout_forward, got " +
                             type_name(mask_obj));
    py::array mask = py::reinterpret_borrow<py::array>(mask_obj);
    if (!mask.dtype().equal(py::dtype::of<uint8_t>()) && !mask.dtype().equal(py::dtype("bool")))
        throw py::type_error("mask must have dtype uint8 (from dropout_forward), got " +
                             std::string(py::str(mask.dtype())));
    if (shape_of(mask) != shape_of(dout))
        throw py::value_error("mask must have dout's shape " + shape_str(dout) + ", got " +
                              shape_str(mask));
    mask = ensure_flags(mask, "mask", py::array::c_style);
    py::array dinp = grad_out(dinp_obj, dout, accumulate);
    const auto f = wants_reference(variant) ? ref::dropout_backward : dropout_backward;
    const float* gp = cptr(dout);
    const auto* mp = static_cast<const uint8_t*>(mask.data());
    float* dp = mptr(dinp);
    const int64_t n = dout.size();
    {
        py::gil_scoped_release nogil;
        f(dp, gp, mp, n, p, accumulate);
    }
    return dinp;
}

}  // namespace

void bind_softmax_dropout(py::module_& m) {
    bind_softmax(m, "softmax", softmax_forward, ref::softmax_forward, softmax_backward,
                 ref::softmax_backward);
    bind_softmax(m, "log_softmax", log_softmax_forward, ref::log_softmax_forward,
                 log_softmax_backward, ref::log_softmax_backward);
    const auto none = py::none();
    m.def("dropout_forward", &dropout_fwd, py::arg("x"), py::arg("p"), py::arg("seed"),
          py::arg("out") = none, py::arg("variant") = none,
          "(out, mask): out = x * mask / (1 - p), the uint8 mask from a counter-based hash of "
          "(seed, element index).");
    m.def("dropout_backward", &dropout_bwd, py::arg("dout"), py::arg("mask"), py::arg("p"),
          py::arg("dinp") = none, py::arg("accumulate") = false, py::arg("variant") = none,
          "dinp = dout * mask / (1 - p).");
}

}  // namespace tn::bind
