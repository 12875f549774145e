// Python bindings of rnn_forward / rnn_backward: one recurrent layer (torch's nn.RNN with
// nonlinearity tanh/relu or nn.LSTM, one direction) on time-major float32 arrays, with torch's
// parameter layout. mode is "RNN_TANH", "RNN_RELU" or "LSTM" (torch's names). The forward
// returns (y, h_n, c_n, workspace); the workspace is opaque and goes back to the backward of the
// same variant.
#include "bindings/array_args.h"
#include "bindings/bindings.h"
#include "bindings/checks.h"
#include "cpu/rnn.h"
#include "ref/ref.h"

#include <algorithm>
#include <string>

namespace tn::bind {
namespace {

RnnMode mode_arg(const std::string& mode) {
    if (mode == "RNN_TANH") return RnnMode::rnn_tanh;
    if (mode == "RNN_RELU") return RnnMode::rnn_relu;
    if (mode == "LSTM") return RnnMode::lstm;
    throw py::value_error("mode must be 'RNN_TANH', 'RNN_RELU' or 'LSTM', got '" + mode + "'");
}

// The layer's arrays, checked against each other: x (T, B, I), w_ih (G*H, I), w_hh (G*H, H),
// biases (G*H,) or None, h0 (and c0 for the LSTM) (B, H).
struct Args {
    RnnLayer L;
    py::array x, w_ih, w_hh, h0;
    py::object c0 = py::none(), b_ih, b_hh;

    Args(const std::string& mode, const py::handle& x_obj, const py::handle& h0_obj,
         const py::object& c0_obj, const py::handle& wih_obj, const py::handle& whh_obj,
         const py::object& bih_obj, const py::object& bhh_obj) {
        L.mode = mode_arg(mode);
        const int64_t G = rnn_gates(L.mode);
        const std::string gates = G > 1 ? "4*hidden_size" : "hidden_size";
        x = require_float32(x_obj, "input", -1);
        if (x.ndim() != 3)
            throw py::value_error("input must be 3-D (seq_len, batch, input_size), got shape " +
                                  shape_str(x));
        L.T = x.shape(0);
        L.B = x.shape(1);
        L.I = x.shape(2);
        w_hh = require_float32(whh_obj, "weight_hh", -1);
        if (w_hh.ndim() != 2 || w_hh.shape(0) != G * w_hh.shape(1))
            throw py::value_error("weight_hh must have shape (" + gates +
                                  ", hidden_size), got " + shape_str(w_hh));
        L.H = w_hh.shape(1);
        // The outputs' sizes, checked before anything is copied or allocated.
        check_alloc("output", Shape{L.T, L.B, L.H});
        check_alloc("workspace", Shape{workspace_floats()});
        x = contiguous_copy(x, "input");
        w_hh = contiguous_copy(w_hh, "weight_hh");
        w_ih = float_of_shape(wih_obj, "weight_ih", Shape{G * L.H, L.I},
                              " (" + gates + ", input_size)");
        b_ih = optional_float(bih_obj, "bias_ih", Shape{G * L.H}, " (" + gates + ",)");
        b_hh = optional_float(bhh_obj, "bias_hh", Shape{G * L.H}, " (" + gates + ",)");
        if (b_ih.is_none() != b_hh.is_none())
            throw py::value_error("bias_ih and bias_hh must both be arrays or both be None");
        const std::string state = " (batch, hidden_size)";
        h0 = float_of_shape(h0_obj, "hx", Shape{L.B, L.H}, state);
        if (L.mode == RnnMode::lstm) {
            if (c0_obj.is_none()) throw py::value_error("the LSTM needs cx (batch, hidden_size)");
            c0 = float_of_shape(c0_obj, "cx", Shape{L.B, L.H}, state);
        } else if (!c0_obj.is_none()) {
            throw py::value_error("cx is for the LSTM only; the plain RNN takes None");
        }
        L.w_ih = cptr(w_ih);
        L.w_hh = cptr(w_hh);
        L.b_ih = fptr(b_ih);
        L.b_hh = fptr(b_hh);
    }
    bool lstm() const { return L.mode == RnnMode::lstm; }
    // rnn_workspace_floats(L) with its product checked (T * B may be huge when input_size is 0).
    int64_t workspace_floats() const {
        if (!lstm()) return 0;
        return checked_mul(checked_mul(checked_mul(L.T, L.B, "workspace"), 5, "workspace"), L.H,
                           "workspace");
    }
    Shape seq_h() const { return Shape{L.T, L.B, L.H}; }
    Shape state() const { return Shape{L.B, L.H}; }
};

py::tuple rnn_fwd(const std::string& mode, const py::handle& x, const py::handle& h0,
                  const py::object& c0, const py::handle& w_ih, const py::handle& w_hh,
                  const py::object& b_ih, const py::object& b_hh, const py::object& variant) {
    const Args a(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh);
    py::array y = output_of_shape(py::none(), "y", a.seq_h());
    py::array h_n = output_of_shape(py::none(), "h_n", a.state());
    py::object c_n = py::none();
    if (a.lstm()) c_n = output_of_shape(py::none(), "c_n", a.state());
    py::array ws = output_of_shape(py::none(), "workspace", Shape{a.workspace_floats()});
    const auto f = wants_reference(variant) ? ref::rnn_forward : rnn_forward;
    const float* xp = cptr(a.x);
    const float* hp = cptr(a.h0);
    const float* cp = fptr(a.c0);
    float *yp = mptr(y), *hnp = mptr(h_n), *cnp = mptr_or_null(c_n), *wsp = mptr(ws);
    {
        py::gil_scoped_release nogil;
        // hidden_size 0: every output is empty; the reference indexed its empty gate rows.
        if (a.L.H > 0) f(a.L, xp, hp, cp, yp, hnp, cnp, wsp);
    }
    return py::make_tuple(y, h_n, c_n, ws);
}

py::tuple rnn_bwd(const std::string& mode, const py::handle& x, const py::handle& h0,
                  const py::object& c0, const py::handle& w_ih, const py::handle& w_hh,
                  bool bias, const py::handle& y_obj, const py::handle& ws_obj,
                  const py::handle& dy_obj, const py::object& dhn_obj, const py::object& dcn_obj,
                  const py::object& variant) {
    // The backward never reads the biases: only whether the layer has them (for db).
    const Args a(mode, x, h0, c0, w_ih, w_hh, py::none(), py::none());
    const std::string seq = " (seq_len, batch, hidden)", state = " (batch, hidden)";
    const py::array y = float_of_shape(y_obj, "output", a.seq_h(), seq);
    const py::array ws = float_of_shape(ws_obj, "workspace", Shape{a.workspace_floats()},
                                                " (the forward's)");
    const py::array dy = float_of_shape(dy_obj, "grad_output", a.seq_h(), seq);
    const py::object dh_n = optional_float(dhn_obj, "grad_hn", a.state(), state);
    const py::object dc_n = optional_float(dcn_obj, "grad_cn", a.state(), state);
    if (!dc_n.is_none() && !a.lstm())
        throw py::value_error("grad_cn is for the LSTM only; the plain RNN takes None");
    const int64_t GH = rnn_gates(a.L.mode) * a.L.H;
    py::array dx = output_of_shape(py::none(), "dx", shape_of(a.x));
    py::array dh0 = output_of_shape(py::none(), "dhx", a.state());
    py::object dc0 = py::none();
    if (a.lstm()) dc0 = output_of_shape(py::none(), "dcx", a.state());
    py::array dw_ih = output_of_shape(py::none(), "dweight_ih", shape_of(a.w_ih));
    py::array dw_hh = output_of_shape(py::none(), "dweight_hh", shape_of(a.w_hh));
    py::object db = py::none();
    if (bias) db = output_of_shape(py::none(), "dbias", Shape{GH});
    const auto f = wants_reference(variant) ? ref::rnn_backward : rnn_backward;
    const float *xp = cptr(a.x), *hp = cptr(a.h0), *cp = fptr(a.c0), *yp = cptr(y),
                *wsp = cptr(ws), *dyp = cptr(dy), *dhnp = fptr(dh_n), *dcnp = fptr(dc_n);
    float *dxp = mptr(dx), *dh0p = mptr(dh0), *dc0p = mptr_or_null(dc0), *dwi = mptr(dw_ih),
          *dwh = mptr(dw_hh), *dbp = mptr_or_null(db);
    {
        py::gil_scoped_release nogil;
        // hidden_size 0: the input has no effect (dx = 0) and the other gradients are empty;
        // the reference took &dpre[b * GH] of an empty vector (UBSan: null reference).
        if (a.L.H == 0)
            std::fill(dxp, dxp + a.L.T * a.L.B * a.L.I, 0.0f);
        else
            f(a.L, xp, hp, cp, yp, wsp, dyp, dhnp, dcnp, dxp, dh0p, dc0p, dwi, dwh, dbp);
    }
    return py::make_tuple(dx, dh0, dc0, dw_ih, dw_hh, db);
}

}  // namespace

void bind_rnn(py::module_& m) {
    const auto none = py::none();
    m.def("rnn_forward", &rnn_fwd, py::arg("mode"), py::arg("input"), py::arg("hx"),
          py::arg("cx"), py::arg("weight_ih"), py::arg("weight_hh"), py::arg("bias_ih") = none,
          py::arg("bias_hh") = none, py::arg("variant") = none,
          "One recurrent layer over input (T, B, I) from hx (and cx): (output (T, B, H), h_n, "
          "c_n or None, workspace).");
    m.def("rnn_backward", &rnn_bwd, py::arg("mode"), py::arg("input"), py::arg("hx"),
          py::arg("cx"), py::arg("weight_ih"), py::arg("weight_hh"), py::arg("bias"),
          py::arg("output"), py::arg("workspace"), py::arg("grad_output"),
          py::arg("grad_hn") = none, py::arg("grad_cn") = none, py::arg("variant") = none,
          "Gradients (dinput, dhx, dcx or None, dweight_ih, dweight_hh, dbias or None) of one "
          "recurrent layer; dbias is the gradient of bias_ih and of bias_hh alike.");
}

}  // namespace tn::bind
