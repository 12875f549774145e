// Python bindings of the dense layer: linear_forward(x, weight, bias=None, out=None) and
// linear_backward(dout, x, weight, ...) -> (dinp, dweight, dbias). x, weight and dout may have
// any strides (read in place by the SGEMM); variant="ref" runs the plain-loop reference (tests).
#include "bindings/array_args.h"
#include "bindings/bindings.h"
#include "bindings/checks.h"
#include "cpu/linear.h"
#include "ref/ref.h"

#include <string>
#include <vector>

namespace tn::bind {
namespace {

ConstMat view2d(const py::array& a) {
    const auto s = elem_strides(a);
    return ConstMat{static_cast<const float*>(a.data()), s[0], s[1]};
}

std::string dims(int64_t a, int64_t b) {
    return "(" + std::to_string(a) + ", " + std::to_string(b) + ")";
}

// A gradient output that may be skipped: None stays None when `wanted` is false.
py::object grad_output(const py::object& obj, const char* name, const Shape& shape, bool wanted,
                       bool accumulate) {
    if (obj.is_none() && !wanted) return py::none();
    return grad_out(obj, name, shape, accumulate);
}

void check_weight(const py::array& x, const py::array& w) {
    if (w.shape(1) != x.shape(1))
        throw py::value_error("linear: x " + shape_str(x) + " and weight " + shape_str(w) +
                              " do not match: weight must be (out_features, in_features) with "
                              "in_features = x.shape[1] = " + std::to_string(x.shape(1)));
}

py::array forward(const py::handle& x_obj, const py::handle& w_obj, const py::object& b_obj,
                  const py::object& out_obj, const py::object& variant) {
    const py::array x = require_float32(x_obj, "x", 2);
    const py::array w = require_float32(w_obj, "weight", 2);
    check_weight(x, w);
    const int64_t M = x.shape(0), K = x.shape(1), N = w.shape(0);
    py::array b;  // a default py::array is an empty array, not null: test has_bias, never b
    const bool has_bias = !b_obj.is_none();
    if (has_bias) {
        b = require_float32_contiguous(b_obj, "bias");
        if (b.ndim() != 1 || b.shape(0) != N)
            throw py::value_error("linear: bias must have shape (" + std::to_string(N) +
                                  ",) = (out_features,), got " + shape_str(b));
    }
    py::array out = output_of_shape(out_obj, "out", {M, N});
    if (may_overlap(out, x) || may_overlap(out, w) || (has_bias && may_overlap(out, b)))
        throw py::value_error("linear: out must not overlap x, weight or bias");
    const auto fn = wants_reference(variant) ? ref::linear_forward : linear_forward;
    const ConstMat X = view2d(x), W = view2d(w);
    const float* bp = has_bias ? static_cast<const float*>(b.data()) : nullptr;
    float* op = static_cast<float*>(out.mutable_data());
    {
        py::gil_scoped_release nogil;
        fn(op, X, W, bp, M, N, K);
    }
    return out;
}

py::tuple backward(const py::handle& dout_obj, const py::handle& x_obj, const py::handle& w_obj,
                   bool need_dinp, bool need_dweight, bool need_dbias, const py::object& dinp_obj,
                   const py::object& dweight_obj, const py::object& dbias_obj, bool accumulate,
                   const py::object& variant) {
    const py::array dout = require_float32(dout_obj, "dout", 2);
    const py::array x = require_float32(x_obj, "x", 2);
    const py::array w = require_float32(w_obj, "weight", 2);
    check_weight(x, w);
    const int64_t M = x.shape(0), K = x.shape(1), N = w.shape(0);
    if (dout.shape(0) != M || dout.shape(1) != N)
        throw py::value_error("linear_backward: dout must have shape " + dims(M, N) +
                              " = (x.shape[0], weight.shape[0]), got " + shape_str(dout));
    py::object dinp = grad_output(dinp_obj, "dinp", {M, K}, need_dinp, accumulate);
    py::object dweight = grad_output(dweight_obj, "dweight", {N, K}, need_dweight, accumulate);
    py::object dbias = grad_output(dbias_obj, "dbias", {N}, need_dbias, accumulate);
    std::vector<py::array> given;  // dX and dW may be written at once by two threads
    for (const py::object* g : {&dinp, &dweight, &dbias}) {
        if (g->is_none()) continue;
        const py::array ga = g->cast<py::array>();
        if (may_overlap(ga, dout) || may_overlap(ga, x) || may_overlap(ga, w))
            throw py::value_error("linear_backward: gradient outputs must not overlap dout, x "
                                  "or weight");
        for (const py::array& other : given)
            if (may_overlap(ga, other))
                throw py::value_error("linear_backward: dinp, dweight and dbias must not "
                                      "overlap each other");
        given.push_back(ga);
    }
    const auto fn = wants_reference(variant) ? ref::linear_backward : linear_backward;
    const ConstMat G = view2d(dout), X = view2d(x), W = view2d(w);
    float *di = mptr_or_null(dinp), *dw = mptr_or_null(dweight), *db = mptr_or_null(dbias);
    {
        py::gil_scoped_release nogil;
        fn(di, dw, db, G, X, W, M, N, K, accumulate);
    }
    return py::make_tuple(dinp, dweight, dbias);
}

}  // namespace

void bind_linear(py::module_& m) {
    m.def("linear_forward", &forward, py::arg("x"), py::arg("weight"),
          py::arg("bias") = py::none(), py::arg("out") = py::none(),
          py::arg("variant") = py::none(),
          "out = x @ weight.T + bias; x (M, K), weight (N, K), bias (N,) or None.");
    m.def("linear_backward", &backward, py::arg("dout"), py::arg("x"), py::arg("weight"),
          py::arg("need_dinp") = true, py::arg("need_dweight") = true,
          py::arg("need_dbias") = true, py::arg("dinp") = py::none(),
          py::arg("dweight") = py::none(), py::arg("dbias") = py::none(),
          py::arg("accumulate") = false, py::arg("variant") = py::none(),
          "(dinp, dweight, dbias) = (dout @ weight, dout.T @ x, dout.sum(0)); an unneeded one "
          "is None; with accumulate=True they are added into the given arrays.");
}

}  // namespace tn::bind
