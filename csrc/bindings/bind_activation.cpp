// Python bindings of the activations: <name>_forward(x, out=None) and
// <name>_backward(dout, out, dinp=None, accumulate=False), any shape, float32. variant="ref"
// runs the plain-loop reference instead (tests).
#include "bindings/bindings.h"
#include "bindings/checks.h"
#include "cpu/activation.h"
#include "ref/ref.h"

#include <string>

namespace tn::bind {
namespace {

using Forward = void (*)(float*, const float*, int64_t);
using Backward = void (*)(float*, const float*, const float*, int64_t, bool);

struct Activation {
    const char* name;
    Forward fast_forward, ref_forward;
    Backward fast_backward, ref_backward;
};

void bind_activation(py::module_& m, const Activation& act) {
    const std::string name = act.name;
    m.def(
        (name + "_forward").c_str(),
        [act](const py::handle& x_obj, const py::object& out_obj, const py::object& variant) {
            const py::array x = require_float32_contiguous(x_obj, "x");
            py::array out = output_like(out_obj, "out", x);
            const Forward f = wants_reference(variant) ? act.ref_forward : act.fast_forward;
            const auto* xp = static_cast<const float*>(x.data());
            auto* op = static_cast<float*>(out.mutable_data());
            const int64_t n = x.size();
            {
                py::gil_scoped_release nogil;
                f(op, xp, n);
            }
            return out;
        },
        py::arg("x"), py::arg("out") = py::none(), py::arg("variant") = py::none(),
        (name + "(x), elementwise, into out (new array when None)").c_str());
    m.def(
        (name + "_backward").c_str(),
        [act](const py::handle& dout_obj, const py::handle& out_obj, const py::object& dinp_obj,
              bool accumulate, const py::object& variant) {
            const py::array dout = require_float32_contiguous(dout_obj, "dout");
            const py::array y = require_float32_contiguous(out_obj, "out");
            if (!same_shape(dout, y))
                throw py::value_error("dout and out must have the same shape, got " +
                                      shape_str(dout) + " and " + shape_str(y));
            if (accumulate && dinp_obj.is_none())
                throw py::value_error("accumulate=True needs dinp= (the gradient to add to)");
            py::array dinp = output_like(dinp_obj, "dinp", y);
            const Backward f = wants_reference(variant) ? act.ref_backward : act.fast_backward;
            const auto* dyp = static_cast<const float*>(dout.data());
            const auto* yp = static_cast<const float*>(y.data());
            auto* dp = static_cast<float*>(dinp.mutable_data());
            const int64_t n = y.size();
            {
                py::gil_scoped_release nogil;
                f(dp, dyp, yp, n, accumulate);
            }
            return dinp;
        },
        py::arg("dout"), py::arg("out"), py::arg("dinp") = py::none(),
        py::arg("accumulate") = false, py::arg("variant") = py::none(),
        ("gradient of " + name + " from its output: dinp (+)= dout * " + name + "'").c_str());
}

}  // namespace

void bind_activations(py::module_& m) {
    bind_activation(m, {"relu", relu_forward, ref::relu_forward, relu_backward, ref::relu_backward});
    bind_activation(m, {"sigmoid", sigmoid_forward, ref::sigmoid_forward, sigmoid_backward,
                        ref::sigmoid_backward});
    bind_activation(m, {"tanh", tanh_forward, ref::tanh_forward, tanh_backward, ref::tanh_backward});
}

}  // namespace tn::bind
