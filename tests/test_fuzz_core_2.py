"""Hypothesis fuzz tests of the loss, optimizer and embedding bindings: random shapes (zero-size
included) and layouts checked against float64 NumPy and the variant="ref" plain loops, and bad
inputs (dtypes, shapes, out-of-range targets and indices, huge sizes, aliasing state) that must
raise a clear exception naming the argument. gemm/linear/activations/softmax/dropout/runtime:
test_fuzz_core.py. `pytest --fuzz` runs 10x the cases (>= 1,000 per family)."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from turbonn import _core
from fuzz_arrays import (BAD_FLOAT_KINDS, HUGE_MIN, assert_close, bad_float, floats, huge,
                         huge_shape, misaligned, run_case, shapes)
from fuzz_support import fuzz_settings

ISAS = tuple(_core.supported_isas())
REDUCTIONS = ("mean", "sum", "none")
WEIGHTS = st.floats(0.125, 2, width=32)


def same(fast, ref, what):
    """Fast kernel result == the plain-loop reference (tuples, arrays, None), to float32 noise."""
    if isinstance(fast, tuple):
        for f, r in zip(fast, ref):
            same(f, r, what)
    elif fast is None or ref is None:
        assert fast is None and ref is None, what
    else:
        assert_close(fast, np.asarray(ref, np.float64), 1e-5, 1e-5, what)


# -------------------------------------------------------------------------------------- loss

def rows_view(X, form):
    """(positions, C) float64 view of a class-loss input of form (C,), (N, C) or (N, C, d)."""
    if form == "C":
        return X.reshape(1, X.shape[0])
    if form == "NC":
        return X
    return X.transpose(0, 2, 1).reshape(X.shape[0] * X.shape[2], X.shape[1])


def target_weights(tt, w, C):
    """(weight of each position's target class, 0 where ignored; its class, 0 where ignored)."""
    keep = tt != -100
    cls = np.where(keep, tt, 0)
    wv = np.ones(C + 1) if w is None else np.append(w.astype(np.float64), 1.0)
    return np.where(keep, wv[np.where(keep, tt, C)], 0.0), cls


def class_oracle(X, t, w, form, reduction, log_input):
    """float64 nll / cross entropy (no smoothing): (loss, total_weight)."""
    R = rows_view(X, form)
    if not log_input and R.size:
        m = R.max(1, keepdims=True)
        R = R - (m + np.log(np.exp(R - m).sum(1, keepdims=True)))
    tt = t.reshape(-1)
    ww, cls = target_weights(tt, w, R.shape[1])
    per = -ww * (R[np.arange(len(tt)), cls] if R.size else np.zeros(len(tt)))
    tw = ww.sum()
    if reduction == "none":
        return per.reshape(t.shape), tw
    return (per.sum() / tw if tw else np.nan) if reduction == "mean" else per.sum(), tw


@st.composite
def class_case(draw):
    form = draw(st.sampled_from(["C", "NC", "NCd"]))
    C, N, d = draw(st.integers(0, 9)), draw(st.integers(0, 6)), draw(st.integers(0, 4))
    shape, rows = {"C": ((C,), ()), "NC": ((N, C), (N,)), "NCd": ((N, C, d), (N, d))}[form]
    x = draw(floats(shape))
    classes = st.integers(0, C - 1) | st.just(-100) if C else st.just(-100)  # C = 0: all ignored
    t = draw(hnp.arrays(np.int64, rows, elements=classes))
    w = draw(st.none() | hnp.arrays(np.float32, (C,), elements=WEIGHTS))
    return form, C, x, t, w


POINT_BAD = ["input", "target", "target_shape", "weight", "reduction", "dloss", "accumulate",
             "huge"]
CLASS_BAD = POINT_BAD + ["target_range", "input_0d", "smoothing", "lse"]


@fuzz_settings(150)
@given(case=class_case(), nll=st.booleans(), backward=st.booleans(),
       reduction=st.sampled_from(REDUCTIONS), isa=st.sampled_from(ISAS),
       bad=st.sampled_from([None] * 8 + CLASS_BAD), data=st.data())
def test_class_losses(case, nll, backward, reduction, isa, bad, data):
    _core._set_isa(isa)
    form, C, x, t, w = case
    eps = 0.0 if nll else data.draw(st.sampled_from([0.0, 0.0, 0.1, 1.0]))
    prob = not nll and data.draw(st.integers(0, 3)) == 0  # class-probability targets
    if prob:
        t = np.abs(data.draw(floats(x.shape)))
    xc = x.copy()
    lse = tw = None
    if backward:  # what the forward saved, from the reference
        if nll:
            tw = float(_core.nll_loss_forward(xc, t, w, -100, reduction, "ref")[1])
        else:
            _, lse, tw, _ = _core.cross_entropy_forward(xc, t, w, -100, eps, reduction, False,
                                                        "ref")
            tw = float(tw)
    rows = t.shape if not prob else x.shape[:1] + x.shape[2:] if form != "C" else ()
    dloss = (data.draw(floats(rows)) if reduction == "none" else
             np.array(data.draw(st.floats(-2, 2, width=32)), np.float32))
    dinp, accumulate = None, False
    if backward and bad is None and data.draw(st.booleans()):
        dinp, accumulate = np.ones(x.shape, np.float32), data.draw(st.booleans())
    if bad == "input":
        x = bad_float(data.draw(st.sampled_from(BAD_FLOAT_KINDS)), x)
    elif bad == "target":
        t = (t.astype(data.draw(st.sampled_from([np.int32, np.float64, np.uint64])))
             if not prob else t.astype(np.float64))
    elif bad == "target_shape":
        t = np.zeros(t.shape + (2,), t.dtype)
    elif bad == "target_range":
        if prob or t.size == 0:
            t = np.full(3, C, np.int64)  # also the wrong shape
        else:
            t = t.copy()
            t.flat[data.draw(st.integers(0, t.size - 1))] = data.draw(
                st.integers(C, 2 ** 63 - 1) | st.integers(-2 ** 63, -1).filter(lambda v: v != -100))
    elif bad == "weight":
        w = np.ones(C + 1, np.float32) if data.draw(st.booleans()) else np.ones(C, np.float64)
    elif bad == "reduction":
        reduction = data.draw(st.sampled_from(["avg", "", "MEAN", "elementwise_mean"]))
    elif bad == "dloss":
        backward = True
        dloss = np.zeros(tuple(rows) + (2,), np.float32)
        lse = np.zeros(rows, np.float32) if lse is None and not nll else lse
        tw = 1.0 if tw is None else tw
    elif bad == "accumulate":
        backward, accumulate = True, True
        lse = np.zeros(rows, np.float32) if lse is None and not nll else lse
        tw = 1.0 if tw is None else tw
    elif bad == "huge":
        x = huge(data.draw(huge_shape(2, {1: max(C, 1)})))
    elif bad == "input_0d":
        x = np.float32(1.0).reshape(())
    elif bad == "smoothing" and not nll:
        eps = data.draw(st.sampled_from([-0.1, 1.5, float("nan")]))
    elif bad == "lse" and not nll:
        backward = True
        tw = 1.0
        lse = np.zeros(tuple(rows) + (3,), np.float32)
    elif bad in ("smoothing", "lse"):
        bad = "target_shape"
        t = np.zeros((7,) + t.shape, t.dtype)
    if backward and lse is None and not nll:
        lse = np.zeros(rows, np.float32)
        tw = 1.0
    names = ["input", "target", "weight", "reduction", "dloss", "lse", "dinp", "accumulate",
             "label_smoothing", "ignore_index"]
    if nll:
        if backward:
            def call(v=None):
                return _core.nll_loss_backward(dloss, x, t, tw, w, -100, reduction,
                                               None if dinp is None else dinp.copy(),
                                               accumulate, v)

            def check(got):
                same(got, call("ref"), "nll_loss_backward")
                G = np.zeros((len(t.reshape(-1)), C))
                tt = t.reshape(-1)
                keep = tt != -100
                g = dloss.astype(np.float64).reshape(-1) if reduction == "none" else float(dloss)
                ww = target_weights(tt, w, C)[0]
                with np.errstate(invalid="ignore", divide="ignore"):
                    scale = ww * g / (tw if reduction == "mean" else 1.0)
                G[np.arange(len(tt))[keep], tt[keep]] = -scale[keep] if len(tt) else 0
                exp = G.reshape(rows + (C,)) if form != "NCd" else \
                    G.reshape(x.shape[0], x.shape[2], C).transpose(0, 2, 1)
                if reduction == "mean" and not tw:
                    return
                assert_close(got, exp + (1.0 if accumulate else 0.0), 1e-5, 1e-5, "nll grad")
        else:
            def call(v=None):
                return _core.nll_loss_forward(x, t, w, -100, reduction, v)

            def check(got):
                same(got[0], call("ref")[0], "nll_loss")
                loss, tw_ = class_oracle(x.astype(np.float64), t, w, form, reduction, True)
                assert_close(got[0], loss, 1e-5, 1e-5, "nll_loss")
                assert_close(got[1], tw_, 1e-5, 1e-5, "nll total_weight")
    elif backward:
        def call(v=None):
            return _core.cross_entropy_backward(dloss, x, t, lse, tw, w, -100, eps, reduction,
                                                prob, None if dinp is None else dinp.copy(),
                                                accumulate, v)

        def check(got):
            same(got, call("ref"), "cross_entropy_backward")
    else:
        def call(v=None):
            return _core.cross_entropy_forward(x, t, w, -100, eps, reduction, not prob, v)

        def check(got):
            same(got, call("ref"), "cross_entropy")
            if eps == 0.0 and not prob:
                loss, tw_ = class_oracle(x.astype(np.float64), t, w, form, reduction, False)
                assert_close(got[0], loss, 1e-5, 1e-5, "cross_entropy")
                one = np.ones(rows if reduction == "none" else (), np.float32)
                back = _core.cross_entropy_backward(one, xc, t, got[1], float(got[2]), w, -100,
                                                    0.0, reduction)[0]
                assert_close(got[3], back, 1e-5, 1e-6, "cross_entropy dinput")
    run_case("loss", names, call, bad=bad is not None, check=check)


def point_oracle(kind, X, T, w, pw):
    if kind == "mse":
        per = (X - T) ** 2
    elif kind == "bce":
        per = -(T * np.maximum(np.log(X), -100) + (1 - T) * np.maximum(np.log1p(-X), -100))
    else:
        lw = 1 + ((1 if pw is None else pw) - 1) * T
        per = (1 - T) * X + lw * (np.log1p(np.exp(-np.abs(X))) + np.maximum(-X, 0))
    return per * (1 if w is None else w)


@fuzz_settings(150)
@given(kind=st.sampled_from(["mse", "bce", "bcel"]), shape=shapes(max_side=7),
       backward=st.booleans(), reduction=st.sampled_from(REDUCTIONS), isa=st.sampled_from(ISAS),
       with_w=st.booleans(), with_pw=st.booleans(),
       bad=st.sampled_from([None] * 8 + POINT_BAD + ["range"]), data=st.data())
def test_pointwise_losses(kind, shape, backward, reduction, isa, with_w, with_pw, bad, data):
    _core._set_isa(isa)
    unit = st.floats(0.0078125, 0.9921875, width=32)
    x = data.draw(floats(shape, unit) if kind == "bce" else floats(shape))
    t = data.draw(floats(shape, unit))
    w = data.draw(floats(shape, WEIGHTS)) if with_w else None
    pw = data.draw(floats(shape, WEIGHTS)) if with_pw and kind == "bcel" else None
    dloss = (data.draw(floats(shape)) if reduction == "none" else
             np.array(data.draw(st.floats(-2, 2, width=32)), np.float32))
    dinp, accumulate = None, False
    if backward and bad is None and data.draw(st.booleans()):
        dinp, accumulate = np.ones(shape, np.float32), data.draw(st.booleans())
    tw = float(np.size(x)) if w is None else float(w.sum(dtype=np.float64))
    if bad == "input":
        x = bad_float(data.draw(st.sampled_from(BAD_FLOAT_KINDS)), x)
    elif bad == "target":
        t = bad_float(data.draw(st.sampled_from(BAD_FLOAT_KINDS)), t)
    elif bad == "target_shape":
        t = np.zeros(shape + (2,), np.float32)
    elif bad == "weight":
        w = np.zeros((3,) + shape, np.float32)
    elif bad == "reduction":
        reduction = "batchmean"
    elif bad == "dloss":
        backward, dloss = True, np.zeros(shape + (2,), np.float32)
    elif bad == "accumulate":
        backward, accumulate = True, True
    elif bad == "huge":
        x = huge(data.draw(huge_shape(data.draw(st.integers(1, 4)))))
    elif bad == "range":  # bce input outside [0, 1]; for the others, a misaligned target
        if kind == "bce" and x.size:
            x = x.copy()
            x.flat[data.draw(st.integers(0, x.size - 1))] = data.draw(
                st.sampled_from([-0.5, 1.5, np.inf, -np.inf]))
            backward = False
        else:
            t = misaligned(t.copy()) if t.size else t.astype(np.float64)
    name = {"mse": "mse_loss", "bce": "binary_cross_entropy",
            "bcel": "binary_cross_entropy_with_logits"}[kind]
    need_dt = data.draw(st.booleans())
    extra = (w, pw) if kind == "bcel" else (w,)
    names = ["input", "target", "weight", "pos_weight", "reduction", "dloss", "dinp",
             "accumulate"]
    if backward:
        f = getattr(_core, name + "_backward")
        pre = (tw,) if kind == "mse" else ()

        def call(v=None):
            return f(dloss, x, t, *pre, *extra, reduction, need_dt,
                     None if dinp is None else dinp.copy(), accumulate, v)

        def check(got):
            same(got, call("ref"), name + "_backward")
            if kind == "mse" and w is None:
                with np.errstate(invalid="ignore", divide="ignore"):
                    g = dloss.astype(np.float64) / (x.size if reduction == "mean" else 1)
                d = 2 * (x.astype(np.float64) - t) * g
                assert_close(got[0], d + (1.0 if accumulate else 0.0), 1e-5, 1e-5, "mse grad")
    else:
        f = getattr(_core, name + "_forward")

        def call(v=None):
            return f(x, t, *extra, reduction, v)

        def check(got):
            same(got, call("ref"), name)
            loss = got[0] if kind == "mse" else got
            per = point_oracle(kind, x.astype(np.float64), t.astype(np.float64), w, pw)
            if kind == "mse" and w is not None:
                return
            exp = {"none": per, "sum": per.sum(),
                   "mean": per.mean() if per.size else np.nan}[reduction]
            assert_close(loss, exp, 1e-4, 1e-5, name)
    run_case("loss", names, call, bad=bad is not None, check=check)


# ------------------------------------------------------------------------------------- optim

OPTIM = {  # name -> (state arrays (name, required-when), hyperparameters)
    "sgd": ([("momentum_buffer", lambda h: h["momentum"] != 0)],
            dict(lr=st.floats(0, 1), momentum=st.sampled_from([0.0, 0.9]),
                 dampening=st.sampled_from([0.0, 0.1]), weight_decay=st.sampled_from([0.0, 0.01]),
                 nesterov=st.booleans(), maximize=st.booleans(), first_step=st.booleans())),
    "adam": ([("exp_avg", lambda h: True), ("exp_avg_sq", lambda h: True),
              ("max_exp_avg_sq", lambda h: h["amsgrad"])],
             dict(lr=st.floats(0, 1), beta1=st.sampled_from([0.0, 0.9]),
                  beta2=st.sampled_from([0.5, 0.999]), eps=st.sampled_from([1e-8, 1e-3]),
                  weight_decay=st.sampled_from([0.0, 0.01]), step=st.integers(1, 10 ** 6),
                  amsgrad=st.booleans(), maximize=st.booleans(), decoupled=st.booleans())),
    "adagrad": ([("state_sum", lambda h: True)],
                dict(lr=st.floats(0, 1), lr_decay=st.sampled_from([0.0, 0.1]),
                     weight_decay=st.sampled_from([0.0, 0.01]), eps=st.sampled_from([1e-10, 1e-3]),
                     step=st.integers(1, 10 ** 6), maximize=st.booleans())),
    "rmsprop": ([("square_avg", lambda h: True), ("grad_avg", lambda h: h["centered"]),
                 ("momentum_buffer", lambda h: h["momentum"] > 0)],
                dict(lr=st.floats(0, 1), alpha=st.sampled_from([0.9, 0.99]),
                     eps=st.sampled_from([1e-8, 1e-2]), weight_decay=st.sampled_from([0.0, 0.01]),
                     momentum=st.sampled_from([0.0, 0.9]), centered=st.booleans(),
                     maximize=st.booleans())),
    "adadelta": ([("square_avg", lambda h: True), ("acc_delta", lambda h: True)],
                 dict(lr=st.floats(0, 1), rho=st.sampled_from([0.9, 0.5]),
                      eps=st.sampled_from([1e-6, 1e-3]), weight_decay=st.sampled_from([0.0, 0.01]),
                      maximize=st.booleans())),
}


@fuzz_settings(300)
@given(name=st.sampled_from(sorted(OPTIM)), shape=shapes(), isa=st.sampled_from(ISAS),
       bad=st.sampled_from([None] * 6 + ["param", "param_layout", "readonly", "grad",
                                         "grad_shape", "state", "state_missing", "state_alias",
                                         "step", "variant"]), data=st.data())
def test_optim(name, shape, isa, bad, data):
    _core._set_isa(isa)
    states, hyper = OPTIM[name]
    h = {k: data.draw(v) for k, v in hyper.items()}
    p = data.draw(floats(shape)).copy()  # C order (ascontiguousarray makes 0-d arrays 1-d)
    g = data.draw(floats(shape))
    st_arrays = {n: np.array(np.abs(data.draw(floats(shape)))) if need(h) or
                 data.draw(st.booleans()) else None for n, need in states}
    variant = None
    required = [n for n, need in states if need(h)]
    if bad == "param":
        p = bad_float(data.draw(st.sampled_from(BAD_FLOAT_KINDS)), p)
    elif bad == "param_layout":
        p = (np.zeros(shape + (2,), np.float32)[..., 0] if p.size > 1 else
             np.zeros((3, 2), np.float32)[:, 0])
        g = np.zeros(p.shape, np.float32)
        st_arrays = {n: None if a is None else np.zeros(p.shape, np.float32)
                     for n, a in st_arrays.items()}
    elif bad == "readonly":
        p = huge(shape)  # read-only (and zero strides: not C-contiguous when size > 1)
    elif bad == "grad":
        g = bad_float(data.draw(st.sampled_from(BAD_FLOAT_KINDS)), g)
    elif bad == "grad_shape":
        g = np.zeros(shape + (2,), np.float32)
    elif bad in ("state", "state_missing", "state_alias") and required:
        which = data.draw(st.sampled_from(required))
        if bad == "state":
            st_arrays[which] = data.draw(st.sampled_from([
                np.zeros(shape + (1,), np.float32), np.zeros(shape, np.float64), [0.0]]))
        elif bad == "state_missing":
            st_arrays[which] = None
        else:
            st_arrays[which] = p if p.size else np.zeros(shape + (1,), np.float32)
    elif bad in ("state", "state_missing", "state_alias"):
        bad = "grad_shape"
        g = np.zeros(shape + (2,), np.float32)
    elif bad == "step":
        if "step" in h:
            h["step"] = data.draw(st.integers(-2 ** 63, 0))
        else:
            bad, variant = "variant", "bogus"
    elif bad == "variant":
        variant = data.draw(st.sampled_from(["bogus", "avx2", ""]))
    names = ["param", "grad", "step", "variant"] + [n for n, _ in states]
    args = [n for n, _ in states]
    f = getattr(_core, name + "_step")

    def run(v, arrays):
        f(arrays["param"], g, *[arrays[n] for n in args], **h, variant=v)
        return arrays

    def copies():
        return {"param": p.copy() if isinstance(p, np.ndarray) and bad is None else p,
                **{n: None if a is None else (a.copy() if bad is None else a)
                   for n, a in st_arrays.items()}}

    def check(got):
        ref = run("ref", copies())
        for n, a in got.items():
            if a is not None:
                assert_close(a, ref[n], 1e-5, 1e-6, f"{name} {n}")
        if name == "sgd" and h["momentum"] == 0:
            d = (-1 if h["maximize"] else 1) * g.astype(np.float64) + h["weight_decay"] * p
            exp = p - np.float32(h["lr"]) * d
            assert_close(got["param"], exp, 1e-5, 1e-6, "sgd")

    run_case("optim", names, lambda: run(variant, copies()), bad=bad is not None, check=check)


# --------------------------------------------------------------------------------- embedding

@fuzz_settings(300)
@given(V=st.integers(0, 9), D=st.integers(0, 7), ishape=shapes(max_dims=3, max_side=5),
       idtype=st.sampled_from([np.int64, np.int32, ">i8", "<i4"]), backward=st.booleans(),
       layout=st.sampled_from(["c", "strided", "misaligned"]),
       bad=st.sampled_from([None] * 6 + ["weight", "weight_ndim", "indices", "range", "num",
                                         "padding", "dout", "out", "huge", "huge_num"]),
       data=st.data())
def test_embedding(V, D, ishape, idtype, backward, layout, bad, data):
    if bad not in ("range", "num", "huge_num"):
        V = max(V, 1)  # indices need a row to name unless they are empty
    idx = np.asarray(data.draw(hnp.arrays(np.int64, ishape, elements=st.integers(0, max(V - 1, 0))))
                     if V else np.zeros(ishape, np.int64)).astype(idtype)
    if layout == "strided" and idx.ndim:
        idx = np.repeat(idx, 2, axis=-1)[..., ::2]
    elif layout == "misaligned":
        idx = misaligned(idx)
    weight = data.draw(floats((V, D)))
    dout = data.draw(floats(ishape + (D,)))
    pad = data.draw(st.none() | st.integers(-V, V - 1)) if V else None
    num, out, dweight, accumulate = V, None, None, False
    if bad is None and data.draw(st.booleans()):
        if backward:
            dweight, accumulate = np.ones((V, D), np.float32), data.draw(st.booleans())
        else:
            out = np.empty(ishape + (D,), np.float32)
    if bad == "weight":
        weight = bad_float(data.draw(st.sampled_from(BAD_FLOAT_KINDS)), weight)
        backward = False
    elif bad == "weight_ndim":
        weight, backward = weight.reshape(-1), False
    elif bad == "indices":
        idx = data.draw(st.sampled_from([idx.astype(np.float32), idx.astype(np.uint8),
                                         idx.astype(bool), idx.tolist(), idx.astype(np.int16),
                                         idx.astype(object)]))
    elif bad == "range":
        idx = np.asarray(idx, np.int64).copy()
        bad_v = data.draw(st.integers(V, 2 ** 63 - 1) | st.integers(-2 ** 63, -1))
        idx = np.append(idx.reshape(-1), bad_v).reshape(-1)
        dout = np.zeros(idx.shape + (D,), np.float32)
    elif bad == "num":
        backward = True
        num = data.draw(st.integers(-2 ** 63, -1) | st.integers(2 ** 63, 2 ** 70)
                        | st.sampled_from([1.5, None, "3", True]))
    elif bad == "huge_num":  # dweight (num_weights, D) past memory
        backward, D = True, max(D, 1)
        num = data.draw(st.integers(-(-HUGE_MIN // D), 2 ** 63 - 1))
        dout = np.zeros(idx.shape + (D,), np.float32)
    elif bad == "padding":
        backward = True
        pad = data.draw(st.integers(V, 2 ** 62) | st.integers(-2 ** 62, -V - 1)
                        | st.sampled_from([1.5, "0", True]))
    elif bad == "dout":
        backward = True
        dout = np.zeros((2,) + ishape + (D,), np.float32) if data.draw(st.booleans()) else \
            bad_float(data.draw(st.sampled_from(BAD_FLOAT_KINDS)), dout)
    elif bad == "out":
        backward = False
        out = np.zeros(ishape + (D + 1,), np.float32)
    elif bad == "huge":  # zero-stride views past memory: their copies must be refused
        if backward or D == 0:
            shape = data.draw(huge_shape(2, {1: 1}))
            idx = huge(shape, np.int64, 0)
            dout = np.zeros((1, 1, 1), np.float32)
            backward = data.draw(st.booleans())
        else:
            weight = huge(data.draw(huge_shape(2, {0: V})))
    names = ["weight", "indices", "num_weights", "padding_idx", "dout", "dweight", "out"]
    I = np.asarray(idx).astype(np.int64) if bad is None else None
    if backward:
        def call():
            return _core.embedding_backward(dout, idx, num, pad, dweight, accumulate)

        def check(got):
            exp = np.zeros((V, D)) + (1.0 if accumulate else 0.0)
            np.add.at(exp, I.reshape(-1), dout.astype(np.float64).reshape(I.size, D))
            if pad is not None:
                exp[pad % V] = 1.0 if accumulate else 0.0
            assert_close(got, exp, 1e-5, 1e-5, "embedding_backward")
            ref = _core.embedding_backward(dout, idx, num, pad, None if dweight is None else
                                           np.ones((V, D), np.float32), accumulate, "ref")
            assert_close(got, ref.astype(np.float64), 0, 0, "embedding_backward vs ref")
    else:
        def check(got):
            assert_close(got, weight.astype(np.float64)[I], 0, 0, "embedding_forward")
            if out is not None:
                assert got is out

        def call():
            return _core.embedding_forward(weight, idx, out)
    run_case("embedding", names, call, bad=bad is not None, check=check)
