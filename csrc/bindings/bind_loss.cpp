// Python bindings of the losses (cross entropy, nll, binary cross entropy with and without
// logits, mse), forward and backward. Every argument is checked here
// (TypeError/ValueError/IndexError naming it and the expected shape) before a kernel writes
// anything; variant="ref" runs the plain-loop reference (tests).
#include "bindings/bindings.h"
#include "bindings/array_args.h"
#include "bindings/checks.h"
#include "cpu/loss.h"
#include "ref/ref.h"

#include <cmath>
#include <string>

namespace tn::bind {
namespace {

Reduction parse_reduction(const std::string& r) {
    if (r == "none") return Reduction::none;
    if (r == "mean") return Reduction::mean;
    if (r == "sum") return Reduction::sum;
    throw py::value_error(r + " is not a valid value for reduction (expected one of none, mean, "
                                "sum)");
}

// int64 class indices of `shape`; any other dtype is a TypeError naming the argument.
py::array int64_of_shape(const py::handle& obj, const char* name, const Shape& shape,
                         const std::string& what) {
    if (!py::isinstance<py::array>(obj))
        throw py::type_error(std::string(name) +
                             " must be a numpy.ndarray of int64 class indices, got " +
                             type_name(obj));
    py::array a = py::reinterpret_borrow<py::array>(obj);
    if (!a.dtype().equal(py::dtype::of<int64_t>()))
        throw py::type_error(std::string(name) + " must hold int64 class indices, got dtype " +
                             std::string(py::str(a.dtype())));
    if (shape_of(a) != shape)
        throw py::value_error(std::string(name) + " must have shape " + dims_str(shape) + what +
                              ", got " + shape_str(a));
    return ensure_flags(a, name, py::array::c_style | npy_aligned);
}

bool is_int64_array(const py::handle& obj) {
    return py::isinstance<py::array>(obj) &&
           py::reinterpret_borrow<py::array>(obj).dtype().equal(py::dtype::of<int64_t>());
}

// dloss: the forward's unreduced shape for reduction='none', else one value.
py::array check_dloss(const py::handle& obj, Reduction r, const Shape& none_shape) {
    py::array g = require_float32_contiguous(obj, "dloss");
    if (r == Reduction::none) {
        if (shape_of(g) != none_shape)
            throw py::value_error("dloss must have the loss's shape " + dims_str(none_shape) +
                                  " for reduction='none', got " + shape_str(g));
    } else if (g.size() != 1) {
        throw py::value_error("dloss must hold one value for a reduced loss, got shape " +
                              shape_str(g));
    }
    return g;
}

// ------------------------------------------------------------------------------ class losses

// The (outer, C, inner) layout of a class-loss input and the shape of one target per position.
struct ClassInput {
    py::array input;
    int64_t outer = 1, C = 1, inner = 1;
    Shape rows;  // input's shape without the class dim
};

ClassInput class_input(const py::handle& obj, const char* fn) {
    ClassInput ci;
    ci.input = require_float32_contiguous(obj, "input");
    const py::array& x = ci.input;
    if (x.ndim() == 0)
        throw py::value_error(std::string(fn) +
                              ": input must be (C,), (N, C) or (N, C, d1, ...), got shape ()");
    if (x.ndim() == 1) {
        ci.C = x.shape(0);
        return ci;
    }
    ci.outer = x.shape(0);
    ci.C = x.shape(1);
    ci.rows.push_back(x.shape(0));
    for (py::ssize_t i = 2; i < x.ndim(); ++i) {
        ci.inner *= x.shape(i);
        ci.rows.push_back(x.shape(i));
    }
    return ci;
}

std::string rows_what(const ClassInput& ci) {
    if (ci.input.ndim() == 1) return " (no batch dim: one class index for input (C,))";
    return " (input's shape " + shape_str(ci.input) + " without the class dim 1)";
}

py::array class_targets(const py::handle& obj, const ClassInput& ci, int64_t ignore_index) {
    py::array t = int64_of_shape(obj, "target", ci.rows, rows_what(ci));
    const auto* tp = static_cast<const int64_t*>(t.data());
    const int64_t bad = find_bad_target(tp, ci.outer * ci.inner, ci.C, ignore_index);
    if (bad >= 0)
        throw py::index_error("target " + std::to_string(tp[bad]) + " at flat position " +
                              std::to_string(bad) + " is out of bounds: class indices must be in "
                              "[0, " + std::to_string(ci.C) + ") or ignore_index=" +
                              std::to_string(ignore_index));
    return t;
}

py::object class_weight(const py::object& obj, const ClassInput& ci) {
    return optional_float(obj, "weight", Shape{static_cast<py::ssize_t>(ci.C)},
                          " (one weight per class, C = input.shape[" +
                              std::to_string(ci.input.ndim() == 1 ? 0 : 1) + "])");
}

void check_smoothing(float e) {
    if (!(e >= 0.0f && e <= 1.0f))
        throw py::value_error("label_smoothing must be between 0.0 and 1.0, got " +
                              std::to_string(e));
}

ClassLoss class_args(const ClassInput& ci, const py::object& w, int64_t ignore_index, float eps,
                     Reduction r) {
    return ClassLoss{ci.outer, ci.C, ci.inner, fptr(w), ignore_index, eps, r};
}

py::tuple ce_forward(const py::handle& input, const py::handle& target, const py::object& weight,
                     int64_t ignore_index, float label_smoothing, const std::string& reduction,
                     bool need_dinput, const py::object& variant) {
    const ClassInput ci = class_input(input, "cross_entropy");
    const Reduction r = parse_reduction(reduction);
    check_smoothing(label_smoothing);
    const py::object w = class_weight(weight, ci);
    const bool ref = wants_reference(variant);
    py::array loss = py::array_t<float>(ci.rows), lse = py::array_t<float>(ci.rows);
    py::array reduced = py::array_t<float>(Shape{}), tw = py::array_t<float>(Shape{});
    const ClassLoss a = class_args(ci, w, ignore_index, label_smoothing, r);
    py::object dinput = py::none();
    if (is_int64_array(target)) {
        const py::array t = class_targets(target, ci, ignore_index);
        if (need_dinput) dinput = py::array_t<float>(shape_of(ci.input));
        const auto f = ref ? ref::cross_entropy_forward : cross_entropy_forward;
        const auto* tp = static_cast<const int64_t*>(t.data());
        float *lp = mptr(loss), *sp = mptr(lse), *rp = mptr(reduced), *wp = mptr(tw);
        float* dp = dinput.is_none() ? nullptr : mptr(dinput.cast<py::array>());
        const float* xp = cptr(ci.input);
        py::gil_scoped_release nogil;
        f(lp, sp, rp, wp, dp, xp, tp, a);
    } else {
        if (!py::isinstance<py::array>(target) ||
            !py::reinterpret_borrow<py::array>(target).dtype().equal(py::dtype::of<float>()))
            throw py::type_error("target must be int64 class indices of shape " +
                                 dims_str(ci.rows) +
                                 " or float32 class probabilities of input's shape " +
                                 shape_str(ci.input) + ", got " +
                                 (py::isinstance<py::array>(target)
                                      ? "dtype " + std::string(py::str(target.attr("dtype")))
                                      : type_name(target)));
        const py::array t = float_of_shape(target, "target", shape_of(ci.input),
                                           " (class probabilities: input's shape)");
        if (ignore_index >= 0)  // torch's rule: any negative index (never a class) is allowed
            throw py::value_error("ignore_index is not supported for floating point target "
                                  "(class probabilities), got ignore_index=" +
                                  std::to_string(ignore_index));
        const auto f = ref ? ref::cross_entropy_prob_forward : cross_entropy_prob_forward;
        *mptr(tw) = static_cast<float>(ci.outer * ci.inner);
        float *lp = mptr(loss), *sp = mptr(lse), *rp = mptr(reduced);
        const float *xp = cptr(ci.input), *tp = cptr(t);
        py::gil_scoped_release nogil;
        f(lp, sp, rp, xp, tp, a);
    }
    return py::make_tuple(r == Reduction::none ? loss : reduced, lse, tw, dinput);
}

py::tuple ce_backward(const py::handle& dloss_obj, const py::handle& input,
                      const py::handle& target, const py::handle& lse_obj, float total_weight,
                      const py::object& weight, int64_t ignore_index, float label_smoothing,
                      const std::string& reduction, bool need_dtarget, const py::object& dinp_obj,
                      bool accumulate, const py::object& variant) {
    const ClassInput ci = class_input(input, "cross_entropy_backward");
    const Reduction r = parse_reduction(reduction);
    check_smoothing(label_smoothing);
    const py::object w = class_weight(weight, ci);
    const py::array dloss = check_dloss(dloss_obj, r, ci.rows);
    const py::array lse = float_of_shape(lse_obj, "lse", ci.rows, " (saved by the forward)");
    const bool ref = wants_reference(variant);
    const ClassLoss a = class_args(ci, w, ignore_index, label_smoothing, r);
    if (is_int64_array(target)) {
        const py::array t = class_targets(target, ci, ignore_index);
        py::array dinp = grad_out(dinp_obj, ci.input, accumulate);
        const auto f = ref ? ref::cross_entropy_backward : cross_entropy_backward;
        const auto* tp = static_cast<const int64_t*>(t.data());
        float* dp = mptr(dinp);
        const float *gp = cptr(dloss), *xp = cptr(ci.input), *sp = cptr(lse);
        {
            py::gil_scoped_release nogil;
            f(dp, gp, xp, sp, tp, total_weight, a, accumulate);
        }
        return py::make_tuple(dinp, py::none());
    }
    const py::array t = float_of_shape(target, "target", shape_of(ci.input),
                                       " (class probabilities: input's shape)");
    py::array dinp = grad_out(dinp_obj, ci.input, accumulate);
    py::object dt = need_dtarget ? py::object(py::array_t<float>(shape_of(ci.input))) : py::none();
    float* dtp = dt.is_none() ? nullptr : mptr(dt.cast<py::array>());
    const auto f = ref ? ref::cross_entropy_prob_backward : cross_entropy_prob_backward;
    float* dp = mptr(dinp);
    const float *gp = cptr(dloss), *xp = cptr(ci.input), *sp = cptr(lse), *tp = cptr(t);
    {
        py::gil_scoped_release nogil;
        f(dp, dtp, gp, xp, sp, tp, a, accumulate);
    }
    return py::make_tuple(dinp, dt);
}

py::tuple nll_forward(const py::handle& input, const py::handle& target, const py::object& weight,
                      int64_t ignore_index, const std::string& reduction,
                      const py::object& variant) {
    const ClassInput ci = class_input(input, "nll_loss");
    const Reduction r = parse_reduction(reduction);
    const py::object w = class_weight(weight, ci);
    const py::array t = class_targets(target, ci, ignore_index);
    py::array loss = py::array_t<float>(ci.rows), reduced = py::array_t<float>(Shape{});
    py::array tw = py::array_t<float>(Shape{});
    const ClassLoss a = class_args(ci, w, ignore_index, 0.0f, r);
    const auto f = wants_reference(variant) ? ref::nll_loss_forward : nll_loss_forward;
    float *lp = mptr(loss), *rp = mptr(reduced), *wp = mptr(tw);
    const float* xp = cptr(ci.input);
    const auto* tp = static_cast<const int64_t*>(t.data());
    {
        py::gil_scoped_release nogil;
        f(lp, rp, wp, xp, tp, a);
    }
    return py::make_tuple(r == Reduction::none ? loss : reduced, tw);
}

py::array nll_backward(const py::handle& dloss_obj, const py::handle& input,
                       const py::handle& target, float total_weight, const py::object& weight,
                       int64_t ignore_index, const std::string& reduction,
                       const py::object& dinp_obj, bool accumulate, const py::object& variant) {
    const ClassInput ci = class_input(input, "nll_loss_backward");
    const Reduction r = parse_reduction(reduction);
    const py::object w = class_weight(weight, ci);
    const py::array t = class_targets(target, ci, ignore_index);
    const py::array dloss = check_dloss(dloss_obj, r, ci.rows);
    py::array dinp = grad_out(dinp_obj, ci.input, accumulate);
    const ClassLoss a = class_args(ci, w, ignore_index, 0.0f, r);
    const auto f = wants_reference(variant) ? ref::nll_loss_backward : nll_loss_backward;
    float* dp = mptr(dinp);
    const float* gp = cptr(dloss);
    const auto* tp = static_cast<const int64_t*>(t.data());
    {
        py::gil_scoped_release nogil;
        f(dp, gp, tp, total_weight, a, accumulate);
    }
    return dinp;
}

// ------------------------------------------------------------------------ elementwise losses

// input, target (and weight, pos_weight when given) of one shape.
struct PointArgs {
    py::array input, target;
    py::object weight, pos_weight;
    Reduction r;
    int64_t n;
    const float *x, *t, *w, *pw;  // raw pointers, taken while the GIL is held
};

PointArgs point_args(const py::handle& input, const py::handle& target, const py::object& weight,
                     const py::object& pos_weight, const std::string& reduction) {
    PointArgs p;
    p.input = require_float32_contiguous(input, "input");
    const Shape s = shape_of(p.input);
    p.target = float_of_shape(target, "target", s, " (input's shape)");
    p.weight = optional_float(weight, "weight", s, " (input's shape; broadcast it first)");
    p.pos_weight =
        optional_float(pos_weight, "pos_weight", s, " (input's shape; broadcast it first)");
    p.r = parse_reduction(reduction);
    p.n = p.input.size();
    p.x = cptr(p.input);
    p.t = cptr(p.target);
    p.w = fptr(p.weight);
    p.pw = fptr(p.pos_weight);
    return p;
}

// A pointwise loss's outputs: the elementwise loss for reduction='none', else one 0-d value.
struct PointOut {
    py::array loss, reduced;
    float *lp, *rp;
    explicit PointOut(const PointArgs& p)
        : loss(py::array_t<float>(p.r == Reduction::none ? shape_of(p.input) : Shape{0})),
          reduced(py::array_t<float>(Shape{})), lp(mptr(loss)), rp(mptr(reduced)) {}
    py::array result(Reduction r) const { return r == Reduction::none ? loss : reduced; }
};

// A pointwise loss's gradients: dloss checked, dinp given or new, dtarget new when asked.
struct PointGrads {
    py::array dloss, dinp;
    py::object dtarget;
    const float* g;
    float *d, *dt;
    PointGrads(const py::handle& dloss_obj, const PointArgs& p, bool need_dtarget,
               const py::object& dinp_obj, bool accumulate)
        : dloss(check_dloss(dloss_obj, p.r, shape_of(p.input))),
          dinp(grad_out(dinp_obj, p.input, accumulate)),
          dtarget(need_dtarget ? py::object(py::array_t<float>(shape_of(p.input))) : py::none()),
          g(cptr(dloss)), d(mptr(dinp)),
          dt(dtarget.is_none() ? nullptr : mptr(dtarget.cast<py::array>())) {}
    py::tuple result() const { return py::make_tuple(dinp, dtarget); }
};

py::array bce_forward(const py::handle& input, const py::handle& target, const py::object& weight,
                      const std::string& reduction, const py::object& variant) {
    const PointArgs p = point_args(input, target, weight, py::none(), reduction);
    const int64_t bad = find_outside_unit(p.x, p.n);
    if (bad >= 0)
        throw py::value_error("binary_cross_entropy: all elements of input should be between 0 "
                              "and 1 (probabilities), got " + std::to_string(p.x[bad]) +
                              " at flat position " + std::to_string(bad));
    const PointOut o(p);
    const auto f = wants_reference(variant) ? ref::binary_cross_entropy_forward
                                            : binary_cross_entropy_forward;
    {
        py::gil_scoped_release nogil;
        f(o.lp, o.rp, p.x, p.t, p.w, p.n, p.r);
    }
    return o.result(p.r);
}

py::tuple bce_backward(const py::handle& dloss, const py::handle& input, const py::handle& target,
                       const py::object& weight, const std::string& reduction, bool need_dtarget,
                       const py::object& dinp, bool accumulate, const py::object& variant) {
    const PointArgs p = point_args(input, target, weight, py::none(), reduction);
    const PointGrads gr(dloss, p, need_dtarget, dinp, accumulate);
    const auto f = wants_reference(variant) ? ref::binary_cross_entropy_backward
                                            : binary_cross_entropy_backward;
    {
        py::gil_scoped_release nogil;
        f(gr.d, gr.dt, gr.g, p.x, p.t, p.w, p.n, p.r, accumulate);
    }
    return gr.result();
}

py::array bcel_forward(const py::handle& input, const py::handle& target, const py::object& weight,
                       const py::object& pos_weight, const std::string& reduction,
                       const py::object& variant) {
    const PointArgs p = point_args(input, target, weight, pos_weight, reduction);
    const PointOut o(p);
    const auto f =
        wants_reference(variant) ? ref::bce_with_logits_forward : bce_with_logits_forward;
    {
        py::gil_scoped_release nogil;
        f(o.lp, o.rp, p.x, p.t, p.w, p.pw, p.n, p.r);
    }
    return o.result(p.r);
}

py::tuple bcel_backward(const py::handle& dloss, const py::handle& input, const py::handle& target,
                        const py::object& weight, const py::object& pos_weight,
                        const std::string& reduction, bool need_dtarget, const py::object& dinp,
                        bool accumulate, const py::object& variant) {
    const PointArgs p = point_args(input, target, weight, pos_weight, reduction);
    const PointGrads gr(dloss, p, need_dtarget, dinp, accumulate);
    const auto f =
        wants_reference(variant) ? ref::bce_with_logits_backward : bce_with_logits_backward;
    {
        py::gil_scoped_release nogil;
        f(gr.d, gr.dt, gr.g, p.x, p.t, p.w, p.pw, p.n, p.r, accumulate);
    }
    return gr.result();
}

py::tuple mse_forward(const py::handle& input, const py::handle& target, const py::object& weight,
                      const std::string& reduction, const py::object& variant) {
    const PointArgs p = point_args(input, target, weight, py::none(), reduction);
    const PointOut o(p);
    py::array tw = py::array_t<float>(Shape{});
    float* wp = mptr(tw);
    const auto f = wants_reference(variant) ? ref::mse_loss_forward : mse_loss_forward;
    {
        py::gil_scoped_release nogil;
        f(o.lp, o.rp, wp, p.x, p.t, p.w, p.n, p.r);
    }
    return py::make_tuple(o.result(p.r), tw);
}

py::tuple mse_backward(const py::handle& dloss, const py::handle& input, const py::handle& target,
                       float total_weight, const py::object& weight, const std::string& reduction,
                       bool need_dtarget, const py::object& dinp, bool accumulate,
                       const py::object& variant) {
    const PointArgs p = point_args(input, target, weight, py::none(), reduction);
    const PointGrads gr(dloss, p, need_dtarget, dinp, accumulate);
    const auto f = wants_reference(variant) ? ref::mse_loss_backward : mse_loss_backward;
    {
        py::gil_scoped_release nogil;
        f(gr.d, gr.dt, gr.g, p.x, p.t, p.w, total_weight, p.n, p.r, accumulate);
    }
    return gr.result();
}

}  // namespace

void bind_losses(py::module_& m) {
    const auto none = py::none();
    m.def("cross_entropy_forward", &ce_forward, py::arg("input"), py::arg("target"),
          py::arg("weight") = none, py::arg("ignore_index") = -100,
          py::arg("label_smoothing") = 0.0f, py::arg("reduction") = "mean",
          py::arg("need_dinput") = false, py::arg("variant") = none,
          "(loss, lse, total_weight, dinput): softmax cross entropy from logits; int64 "
          "class-index or float32 class-probability targets (torch's F.cross_entropy). With "
          "need_dinput and class indices, dinput is the backward's result for dloss = 1 (else "
          "None).");
    m.def("cross_entropy_backward", &ce_backward, py::arg("dloss"), py::arg("input"),
          py::arg("target"), py::arg("lse"), py::arg("total_weight"), py::arg("weight") = none,
          py::arg("ignore_index") = -100, py::arg("label_smoothing") = 0.0f,
          py::arg("reduction") = "mean", py::arg("need_dtarget") = false,
          py::arg("dinp") = none, py::arg("accumulate") = false, py::arg("variant") = none,
          "(dinput, dtarget or None) in one pass from the forward's lse.");
    m.def("nll_loss_forward", &nll_forward, py::arg("input"), py::arg("target"),
          py::arg("weight") = none, py::arg("ignore_index") = -100, py::arg("reduction") = "mean",
          py::arg("variant") = none, "(loss, total_weight) of log-probabilities (F.nll_loss).");
    m.def("nll_loss_backward", &nll_backward, py::arg("dloss"), py::arg("input"),
          py::arg("target"), py::arg("total_weight"), py::arg("weight") = none,
          py::arg("ignore_index") = -100, py::arg("reduction") = "mean", py::arg("dinp") = none,
          py::arg("accumulate") = false, py::arg("variant") = none, "dinput of nll_loss.");
    m.def("binary_cross_entropy_forward", &bce_forward, py::arg("input"), py::arg("target"),
          py::arg("weight") = none, py::arg("reduction") = "mean", py::arg("variant") = none,
          "binary cross entropy of probabilities in [0, 1], logs clamped at -100.");
    m.def("binary_cross_entropy_backward", &bce_backward, py::arg("dloss"), py::arg("input"),
          py::arg("target"), py::arg("weight") = none, py::arg("reduction") = "mean",
          py::arg("need_dtarget") = false, py::arg("dinp") = none,
          py::arg("accumulate") = false, py::arg("variant") = none, "(dinput, dtarget or None).");
    m.def("binary_cross_entropy_with_logits_forward", &bcel_forward, py::arg("input"),
          py::arg("target"), py::arg("weight") = none, py::arg("pos_weight") = none,
          py::arg("reduction") = "mean", py::arg("variant") = none,
          "binary cross entropy of logits, stable for any input.");
    m.def("binary_cross_entropy_with_logits_backward", &bcel_backward, py::arg("dloss"),
          py::arg("input"), py::arg("target"), py::arg("weight") = none,
          py::arg("pos_weight") = none, py::arg("reduction") = "mean",
          py::arg("need_dtarget") = false, py::arg("dinp") = none,
          py::arg("accumulate") = false, py::arg("variant") = none, "(dinput, dtarget or None).");
    m.def("mse_loss_forward", &mse_forward, py::arg("input"), py::arg("target"),
          py::arg("weight") = none, py::arg("reduction") = "mean", py::arg("variant") = none,
          "(loss, total_weight): weight * (input - target)^2, mean divided by sum(weight).");
    m.def("mse_loss_backward", &mse_backward, py::arg("dloss"), py::arg("input"),
          py::arg("target"), py::arg("total_weight"), py::arg("weight") = none,
          py::arg("reduction") = "mean", py::arg("need_dtarget") = false,
          py::arg("dinp") = none, py::arg("accumulate") = false, py::arg("variant") = none,
          "(dinput, dtarget or None).");
}

}  // namespace tn::bind
