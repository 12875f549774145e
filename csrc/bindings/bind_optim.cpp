// Python bindings of the fused optimizer updates (cpu/optim.h): <name>_step(param, grad, state...,
// hyperparameters..., variant=None). Parameters and state are updated in place, so they must be
// writeable C-contiguous float32 arrays of the parameter's shape: never silently copied. The
// gradient may be any float32 array of that shape. variant="ref" runs the plain-loop reference.
#include "bindings/bindings.h"
#include "bindings/checks.h"
#include "cpu/optim.h"

#include <algorithm>
#include <string>

namespace tn::bind {
namespace {

py::array inplace(const py::handle& obj, const char* name) {
    const py::array a = require_float32(obj, name, -1);
    if (!is_c_contiguous(a))
        throw py::value_error(std::string(name) +
                              " is updated in place and must be C-contiguous (a copy would drop "
                              "the update)");
    if (!a.writeable()) throw py::value_error(std::string(name) + " is read-only");
    return a;
}

// The arrays of one update, checked against the parameter's shape.
struct Arrays {
    py::array param, grad;
    std::vector<py::array> keep;  // state arrays, kept alive for the call

    Arrays(const py::handle& p, const py::handle& g)
        : param(inplace(p, "param")), grad(require_float32_contiguous(g, "grad")) {
        if (!same_shape(param, grad))
            throw py::value_error("grad must have the shape of param " + shape_str(param) +
                                  ", got " + shape_str(grad));
    }
    float* p() { return static_cast<float*>(param.mutable_data()); }
    const float* g() const { return static_cast<const float*>(grad.data()); }
    int64_t n() const { return param.size(); }

    // A state array; nullptr when it is None and not required.
    float* state(const py::object& obj, const char* name, bool required) {
        if (obj.is_none()) {
            if (required) throw py::value_error(std::string(name) + " is required here, got None");
            return nullptr;
        }
        py::array a = inplace(obj, name);
        if (!same_shape(a, param))
            throw py::value_error(std::string(name) + " must have the shape of param " +
                                  shape_str(param) + ", got " + shape_str(a));
        if (may_overlap(a, param) || may_overlap(a, grad))
            throw py::value_error(std::string(name) + " shares memory with param or grad");
        keep.push_back(a);
        return static_cast<float*>(a.mutable_data());
    }
};

void check_step(int64_t step) {
    if (step < 1) throw py::value_error("step must be >= 1, got " + std::to_string(step));
}

}  // namespace

void bind_optim(py::module_& m) {
    m.def(
        "sgd_step",
        [](const py::handle& p, const py::handle& g, const py::object& buf, float lr,
           float momentum, float dampening, float weight_decay, bool nesterov, bool maximize,
           bool first_step, const py::object& variant) {
            Arrays a(p, g);
            float* b = a.state(buf, "momentum_buffer", momentum != 0.0f);
            const SgdHyper h{lr, momentum, dampening, weight_decay, nesterov, maximize, first_step};
            const bool r = wants_reference(variant);
            py::gil_scoped_release nogil;
            (r ? ref::sgd_step : sgd_step)(a.p(), a.g(), momentum != 0.0f ? b : nullptr, a.n(), h);
        },
        py::arg("param"), py::arg("grad"), py::arg("momentum_buffer"), py::arg("lr"),
        py::arg("momentum"), py::arg("dampening"), py::arg("weight_decay"), py::arg("nesterov"),
        py::arg("maximize"), py::arg("first_step"), py::arg("variant") = py::none());
    m.def(
        "adam_step",
        [](const py::handle& p, const py::handle& g, const py::object& m1, const py::object& m2,
           const py::object& vmax, float lr, float beta1, float beta2, float eps,
           float weight_decay, int64_t step, bool amsgrad, bool maximize, bool decoupled,
           const py::object& variant) {
            check_step(step);
            Arrays a(p, g);
            float* ea = a.state(m1, "exp_avg", true);
            float* eas = a.state(m2, "exp_avg_sq", true);
            float* mx = a.state(vmax, "max_exp_avg_sq", amsgrad);
            const AdamHyper h{lr, beta1, beta2, eps, weight_decay, step, amsgrad, maximize,
                              decoupled};
            const bool r = wants_reference(variant);
            py::gil_scoped_release nogil;
            (r ? ref::adam_step : adam_step)(a.p(), a.g(), ea, eas, amsgrad ? mx : nullptr, a.n(),
                                             h);
        },
        py::arg("param"), py::arg("grad"), py::arg("exp_avg"), py::arg("exp_avg_sq"),
        py::arg("max_exp_avg_sq"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"),
        py::arg("eps"), py::arg("weight_decay"), py::arg("step"), py::arg("amsgrad"),
        py::arg("maximize"), py::arg("decoupled"), py::arg("variant") = py::none());
    m.def(
        "adagrad_step",
        [](const py::handle& p, const py::handle& g, const py::object& sum, float lr,
           float lr_decay, float weight_decay, float eps, int64_t step, bool maximize,
           const py::object& variant) {
            check_step(step);
            Arrays a(p, g);
            float* s = a.state(sum, "state_sum", true);
            const AdagradHyper h{lr, lr_decay, weight_decay, eps, step, maximize};
            const bool r = wants_reference(variant);
            py::gil_scoped_release nogil;
            (r ? ref::adagrad_step : adagrad_step)(a.p(), a.g(), s, a.n(), h);
        },
        py::arg("param"), py::arg("grad"), py::arg("state_sum"), py::arg("lr"), py::arg("lr_decay"),
        py::arg("weight_decay"), py::arg("eps"), py::arg("step"), py::arg("maximize"),
        py::arg("variant") = py::none());
    m.def(
        "rmsprop_step",
        [](const py::handle& p, const py::handle& g, const py::object& sq, const py::object& ga,
           const py::object& buf, float lr, float alpha, float eps, float weight_decay,
           float momentum, bool centered, bool maximize, const py::object& variant) {
            Arrays a(p, g);
            float* s = a.state(sq, "square_avg", true);
            float* avg = a.state(ga, "grad_avg", centered);
            float* b = a.state(buf, "momentum_buffer", momentum > 0.0f);
            const RmspropHyper h{lr, alpha, eps, weight_decay, momentum, centered, maximize};
            const bool r = wants_reference(variant);
            py::gil_scoped_release nogil;
            (r ? ref::rmsprop_step : rmsprop_step)(a.p(), a.g(), s, centered ? avg : nullptr,
                                                   momentum > 0.0f ? b : nullptr, a.n(), h);
        },
        py::arg("param"), py::arg("grad"), py::arg("square_avg"), py::arg("grad_avg"),
        py::arg("momentum_buffer"), py::arg("lr"), py::arg("alpha"), py::arg("eps"),
        py::arg("weight_decay"), py::arg("momentum"), py::arg("centered"), py::arg("maximize"),
        py::arg("variant") = py::none());
    m.def(
        "adadelta_step",
        [](const py::handle& p, const py::handle& g, const py::object& sq, const py::object& acc,
           float lr, float rho, float eps, float weight_decay, bool maximize,
           const py::object& variant) {
            Arrays a(p, g);
            float* s = a.state(sq, "square_avg", true);
            float* d = a.state(acc, "acc_delta", true);
            const AdadeltaHyper h{lr, rho, eps, weight_decay, maximize};
            const bool r = wants_reference(variant);
            py::gil_scoped_release nogil;
            (r ? ref::adadelta_step : adadelta_step)(a.p(), a.g(), s, d, a.n(), h);
        },
        py::arg("param"), py::arg("grad"), py::arg("square_avg"), py::arg("acc_delta"),
        py::arg("lr"), py::arg("rho"), py::arg("eps"), py::arg("weight_decay"), py::arg("maximize"),
        py::arg("variant") = py::none());
}

}  // namespace tn::bind
