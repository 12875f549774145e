"""Hypothesis fuzz tests of the layer_norm, attention and rnn binding families (conv and pool:
test_fuzz_nn.py, whose helpers this file reuses). Valid draws (sizes 0 included; strided,
reversed, Fortran-order and zero-stride views; masks that broadcast, causal, dropout) must match
the plain-loop reference (variant="ref") on contiguous copies; corrupted ones (wrong dtypes,
big-endian, misaligned, wrong ndim, head-dim / key-value length / batch / head-count mismatches,
bad masks, scale and dropout_p, wrong hidden sizes, wrong workspace, bad modes) must raise a clear
exception naming the argument. The *_huge tests use sizes past int32 or memory, built without
allocating: MemoryError / ValueError, or the right empty result."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz_support import fuzz_call, fuzz_settings
from test_fuzz_nn import (HUGE, INT_BAD, LAYOUT_BAD, TYPE_BAD, assert_close, bcast_huge, c,
                          case_view, check_raises, corrupt, rand, view_of)
from turbonn import _core

# ------------------------------------------------------------------------------- layer_norm

@st.composite
def ln_case(draw):
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=1, max_size=4)))
    k = draw(st.integers(1, len(shape)))
    seed = draw(st.integers(0, 2 ** 31))
    norm = shape[len(shape) - k:]
    w = rand(seed + 1, norm) if draw(st.booleans()) else None
    b = rand(seed + 2, norm) if draw(st.booleans()) else None
    return dict(x=draw(view_of(rand(seed, shape) * 3 + 1)), k=k, w=w, b=b, seed=seed,
                eps=draw(st.sampled_from([1e-5, 1e-3, 0.5])),
                need=draw(st.tuples(st.booleans(), st.booleans(), st.booleans())))


LN_BAD = ("none",) * 6 + tuple(f"{a}:{t}" for a in ("input", "weight", "dout")
                               for t in TYPE_BAD + LAYOUT_BAD) + (
    "normalized_ndim", "weight:shape", "bias:shape", "dout:shape", "mean:shape", "rstd:shape",
    "mean:f64", "variant")


@pytest.mark.parametrize("fast", [None, "ref"])
@fuzz_settings(70)
@given(case=ln_case(), bad=st.sampled_from(LN_BAD), badint=st.sampled_from(INT_BAD))
def test_layer_norm_fuzz(fast, case, bad, badint):
    x, k, w, b = case["x"], case["k"], case["w"], case["b"]
    target, _, how = bad.partition(":")
    exc, names, variant = (TypeError, ValueError), (target,), fast
    if bad in ("input:" + t for t in TYPE_BAD + LAYOUT_BAD):
        x, exc = corrupt(how, c(x))
    elif bad in ("weight:" + t for t in TYPE_BAD + LAYOUT_BAD):
        w, exc = corrupt(how, rand(1, x.shape[x.ndim - k:]))
    elif bad == "normalized_ndim":
        k = x.ndim + 1 if badint[0] in ("zero", "huge") else badint[1]
    elif bad == "weight:shape":
        w = np.zeros(x.shape[x.ndim - k:] + (1,), np.float32)
    elif bad == "bias:shape":
        norm = x.shape[x.ndim - k:]
        b = np.zeros(norm[:-1] + (norm[-1] + 1,), np.float32)
    elif bad == "variant":
        variant = "Ref"
    fwd_bad = target in ("input", "weight", "bias", "normalized_ndim", "variant")
    with fuzz_call("layer_norm", *names) as call:
        call.value = _core.layer_norm_forward(x, k, w, b, case["eps"], variant)
    if fwd_bad:
        return check_raises(call, exc)
    ref = _core.layer_norm_forward(c(x), k, w, b, case["eps"], "ref")
    for got, exp, nm in zip(call.value, ref, ("out", "mean", "rstd")):
        assert_close(got, exp.astype(np.float64), nm, 2e-5, 2e-5)
    out, mean, rstd = call.value
    dout = case_view(case, x.shape)
    if target == "dout" and how != "shape":
        dout, exc = corrupt(how, c(dout))
    elif bad == "dout:shape":
        dout = dout[None]
    elif bad == "mean:shape":
        mean = mean.reshape(-1)[:-1] if mean.size else np.zeros(1, np.float32)
    elif bad == "rstd:shape":
        rstd = rstd[..., None]
    elif bad == "mean:f64":
        mean, exc = mean.astype(np.float64), TypeError
    with fuzz_call("layer_norm", *names) as call:
        call.value = _core.layer_norm_backward(dout, x, mean, rstd, k, w, *case["need"], fast)
    if target in ("dout", "mean", "rstd"):
        return check_raises(call, exc)
    gref = _core.layer_norm_backward(c(dout), c(x), mean, rstd, k, w, True, True, True, "ref")
    for got, exp, want, nm in zip(call.value, gref, case["need"], ("dx", "dw", "db")):
        if not want:
            assert got is None, nm
        else:
            assert_close(got, exp.astype(np.float64), nm, 1e-4, 1e-4)


@fuzz_settings(20)
@given(kind=st.sampled_from(["input", "rows", "zero", "weight", "backward"]),
       n=st.integers(2 ** 31, 2 ** 40))
def test_layer_norm_huge(kind, n):
    with fuzz_call("layer_norm", "input", "out", "mean", "weight", "dout", "dinput") as call:
        if kind == "input":
            call.value = _core.layer_norm_forward(bcast_huge((HUGE, HUGE, 8)), 1)
        elif kind == "rows":  # 2**43+ empty rows: mean and rstd would be that long
            call.value = _core.layer_norm_forward(np.empty((n, 2 ** 11, 0), np.float32), 1)
        elif kind == "zero":
            call.value = _core.layer_norm_forward(np.empty((0, n), np.float32), 1)
        elif kind == "weight":
            call.value = _core.layer_norm_forward(np.ones((2, 3), np.float32), 1,
                                                  bcast_huge((HUGE, HUGE)))
        else:
            x = bcast_huge((HUGE, HUGE, 4))
            call.value = _core.layer_norm_backward(x, x, bcast_huge((HUGE, HUGE)),
                                                   bcast_huge((HUGE, HUGE)), 1)
    if kind == "zero":
        out, mean, rstd = call.value
        assert out.shape == (0, n) and mean.shape == rstd.shape == (0,)
    else:
        check_raises(call, (MemoryError, ValueError))


# -------------------------------------------------------------------------------- attention


@st.composite
def attn_case(draw):
    B, Hk, rep = draw(st.integers(0, 2)), draw(st.integers(0, 2)), draw(st.integers(1, 2))
    Hq = Hk * rep
    Tq, Tk, D, Dv = (draw(st.integers(0, 6)) for _ in range(4))
    seed = draw(st.integers(0, 2 ** 31))
    q, k = rand(seed, (B, Hq, Tq, D)), rand(seed + 1, (B, Hk, Tk, D))
    v = rand(seed + 2, (B, Hk, Tk, Dv))
    mask = None
    if draw(st.booleans()):
        full = (B, Hq, Tq, Tk)
        nd = draw(st.integers(1, 4))
        mshape = tuple(1 if draw(st.booleans()) else n for n in full[4 - nd:])
        mask = rand(seed + 3, mshape)
        if mask.size and draw(st.booleans()):
            mask.flat[seed % mask.size] = -np.inf  # an excluded pair (maybe a whole row)
        mask = draw(view_of(mask))
    return dict(q=draw(view_of(q)), k=draw(view_of(k)), v=draw(view_of(v)), mask=mask,
                scale=draw(st.sampled_from([None, None, 0.5, 2.0])), causal=draw(st.booleans()),
                p=draw(st.sampled_from([0.0, 0.0, 0.25])), seed=seed)


ATTN_BAD = ("none",) * 8 + tuple(f"{a}:{t}" for a in ("query", "key", "value", "attn_mask")
                                 for t in TYPE_BAD + LAYOUT_BAD) + (
    "query:ndim", "key:dim", "value:length", "key:batch", "key:heads", "attn_mask:shape",
    "attn_mask:ndim", "scale", "dropout_p", "seed", "variant", "lse:shape", "lse:f64", "out:shape",
    "grad_out:dtype", "grad_out:shape")


@pytest.mark.parametrize("fast", [None, "ref"])
@fuzz_settings(80)
@given(case=attn_case(), bad=st.sampled_from(ATTN_BAD), badint=st.sampled_from(INT_BAD))
def test_attention_fuzz(fast, case, bad, badint):
    q, k, v, mask = case["q"], case["k"], case["v"], case["mask"]
    scale, p, seed, causal = case["scale"], case["p"], case["seed"], case["causal"]
    target, _, how = bad.partition(":")
    exc, names, variant = (TypeError, ValueError), (target,), fast
    fwd_bad = target in ("query", "key", "value", "attn_mask", "scale", "dropout_p", "seed",
                         "variant")
    B, Hq, Tq, D = q.shape
    _, Hk, Tk, Dv = v.shape
    if how in TYPE_BAD + LAYOUT_BAD and target != "attn_mask":
        arr, exc = corrupt(how, c({"query": q, "key": k, "value": v}[target]))
        q, k, v = (arr if target == t else o for t, o in (("query", q), ("key", k), ("value", v)))
    elif how in TYPE_BAD + LAYOUT_BAD:
        arr = rand(seed, (B, Hq, Tq, Tk)) if mask is None else c(mask)
        mask, exc = corrupt(how, arr)
        if how == "list":
            exc = TypeError
    elif bad == "query:ndim":
        q = q[None]
    elif bad == "key:dim":
        k, names = rand(seed, (B, Hk, Tk, D + 1)), ("key", "query")
    elif bad == "value:length":
        v, names = rand(seed, (B, Hk, Tk + 1, Dv)), ("key", "value")
    elif bad == "key:batch":
        k, names = rand(seed, (B + 1, Hk, Tk, D)), ("query", "key", "value")
    elif bad == "key:heads":
        h = Hq + 1  # not a divisor of Hq (any is one of 0 query heads: then valid)
        k, v = rand(seed, (B, h, Tk, D)), rand(seed, (B, h, Tk, Dv))
        names, fwd_bad = ("query", "key"), Hq > 0
    elif bad == "attn_mask:shape":
        mask = rand(seed, (B, Hq, Tq, Tk + 2))
    elif bad == "attn_mask:ndim":
        mask = rand(seed, (1, B, Hq, Tq, Tk))
    elif bad == "scale":
        scale = {"str": "0.5", "none": [0.5], "triple": (1, 1, 1)}.get(badint[0], "x")
    elif bad == "dropout_p":
        p = {"neg": -0.5, "zero": 1.0, "huge": float("nan")}.get(badint[0], 1.5)
    elif bad == "seed":
        seed = {"neg": -1, "vhuge": 2 ** 70, "str": "1", "float": 1.5}.get(badint[0], -2)
    elif bad == "variant":
        variant = "REF"
    with fuzz_call("attention", *names) as call:
        call.value = _core.attention_forward(q, k, v, mask, scale, causal, p, seed, variant)
    if fwd_bad:
        return check_raises(call, exc)
    args = (mask, scale, causal, p, seed)
    ref = _core.attention_forward(c(q), c(k), c(v), c(mask), scale, causal, p, seed, "ref")
    assert_close(call.value[0], ref[0].astype(np.float64), "out", 2e-5, 2e-5)
    assert_close(call.value[1], ref[1].astype(np.float64), "lse", 2e-5, 2e-5)
    out, lse = call.value
    dout = case_view(case, out.shape)
    if bad == "lse:shape":
        lse = lse[..., None]
    elif bad == "lse:f64":
        lse, exc = lse.astype(np.float64), TypeError
    elif bad == "out:shape":
        out, names = out[:, :, :, :0] if out.shape[3] else rand(1, out.shape[:3] + (1,)), \
            ("out", "grad_out")
    elif bad == "grad_out:dtype":
        dout, exc = dout.astype(np.int32), TypeError
    elif bad == "grad_out:shape":
        dout, names = rand(1, out.shape[:2] + (out.shape[2] + 1, out.shape[3])), ("out", "grad_out")
    with fuzz_call("attention", *names) as call:
        call.value = _core.attention_backward(dout, q, k, v, out, lse, *args, variant)
    if target in ("lse", "out", "grad_out"):
        return check_raises(call, exc)
    gref = _core.attention_backward(c(dout), c(q), c(k), c(v), ref[0], ref[1], c(mask), scale,
                                    causal, p, seed, "ref")
    for got, exp, nm in zip(call.value, gref, ("dq", "dk", "dv")):
        assert_close(got, exp.astype(np.float64), nm, 1e-4, 5e-5)


@fuzz_settings(20)
@given(kind=st.sampled_from(["query", "key", "copy", "zero", "mask", "backward"]),
       n=st.integers(2 ** 31, 2 ** 40))
def test_attention_huge(kind, n):
    small = np.ones((1, 1, 2, 4), np.float32)
    kv = np.broadcast_to(small, (HUGE, 1, 2, 4))  # read in place (unit last stride)
    with fuzz_call("attention", "query", "key", "value", "out", "lse", "attn_mask", "dq",
                   "dk") as call:
        if kind == "query":  # read in place (unit last stride): the output is 2**44 floats
            q = np.broadcast_to(np.ones(4, np.float32), (HUGE, 1, HUGE, 4))
            call.value = _core.attention_forward(q, kv, kv)
        elif kind == "key":  # a 2**40-long key, with a value of another length
            kk = np.broadcast_to(np.ones(4, np.float32), (1, 1, n, 4))
            call.value = _core.attention_forward(small, kk, small)
        elif kind == "copy":  # a last stride of 0 needs a copy of 2**44 floats
            call.value = _core.attention_forward(bcast_huge((HUGE, 1, HUGE, 4)), small, small)
        elif kind == "zero":
            call.value = _core.attention_forward(np.empty((0, 1, n, 4), np.float32), small[:0],
                                                 small[:0])
        elif kind == "mask":
            call.value = _core.attention_forward(small, small, small,
                                                 bcast_huge((HUGE, HUGE, 2, 2)))
        else:
            q = np.broadcast_to(np.ones(4, np.float32), (HUGE, 1, HUGE, 4))
            call.value = _core.attention_backward(q, q, kv, kv, q,
                                                  bcast_huge((HUGE, 1, HUGE)))
    if kind == "zero":
        out, lse = call.value
        assert out.shape == (0, 1, n, 4) and lse.shape == (0, 1, n)
    else:
        check_raises(call, (MemoryError, ValueError))


# -------------------------------------------------------------------------------------- rnn

MODES = ("RNN_TANH", "RNN_RELU", "LSTM")


@st.composite
def rnn_case(draw):
    mode = draw(st.sampled_from(MODES))
    T, B, I, H = (draw(st.integers(0, 4)) for _ in range(4))
    G = 4 if mode == "LSTM" else 1
    seed = draw(st.integers(0, 2 ** 31))
    bias = draw(st.booleans())
    a = dict(x=rand(seed, (T, B, I)), h0=rand(seed + 1, (B, H)),
             c0=rand(seed + 2, (B, H)) if G == 4 else None, w_ih=rand(seed + 3, (G * H, I), 0.4),
             w_hh=rand(seed + 4, (G * H, H), 0.4), b_ih=rand(seed + 5, (G * H,)) if bias else None,
             b_hh=rand(seed + 6, (G * H,)) if bias else None)
    a = {k: None if v is None else draw(view_of(v)) for k, v in a.items()}
    return dict(a=a, mode=mode, seed=seed, bias=bias, T=T, B=B, I=I, H=H, G=G,
                dhn=draw(st.booleans()), dcn=draw(st.booleans()) and G == 4)


RNN_BAD = ("none",) * 8 + tuple(f"{a}:{t}" for a in ("input", "weight_hh", "hx")
                                for t in TYPE_BAD + LAYOUT_BAD) + (
    "mode", "input:ndim", "weight_ih:shape", "weight_hh:shape", "bias_ih:shape", "bias_hh:none",
    "hx:shape", "cx:missing", "cx:extra", "variant", "workspace:shape", "workspace:f64",
    "output:shape", "grad_output:dtype", "grad_hn:shape", "grad_cn:extra")


@pytest.mark.parametrize("fast", [None, "ref"])
@fuzz_settings(80)
@given(case=rnn_case(), bad=st.sampled_from(RNN_BAD), badint=st.sampled_from(INT_BAD))
def test_rnn_fuzz(fast, case, bad, badint):
    a, mode, seed, G = dict(case["a"]), case["mode"], case["seed"], case["G"]
    T, B, I, H = case["T"], case["B"], case["I"], case["H"]
    target, _, how = bad.partition(":")
    exc, names, variant = (TypeError, ValueError), (target,), fast
    key = {"input": "x", "weight_hh": "w_hh", "hx": "h0", "weight_ih": "w_ih", "bias_ih": "b_ih",
           "bias_hh": "b_hh", "cx": "c0"}.get(target)
    fwd_bad = target in ("mode", "input", "weight_ih", "weight_hh", "bias_ih", "bias_hh", "hx",
                         "cx", "variant")
    if how in TYPE_BAD + LAYOUT_BAD:
        a[key], exc = corrupt(how, c(a[key]))
    elif bad == "mode":
        mode = {"str": "GRU", "none": None, "zero": 0}.get(badint[0], mode.lower())
    elif bad == "input:ndim":
        a["x"] = a["x"][None]
    elif bad == "weight_ih:shape":
        a["w_ih"], names = rand(seed, (G * H, I + 1)), ("weight_ih",)
    elif bad == "weight_hh:shape":
        a["w_hh"] = rand(seed, (G * H + 1, H)) if seed % 2 else rand(seed, (G * H, H + 1))
        names = ("weight_hh", "weight_ih", "hx", "cx")  # the hidden size may move the blame
    elif bad == "bias_ih:shape":
        a["b_ih"], a["b_hh"] = rand(seed, (G * H + 1,)), rand(seed, (G * H,))
    elif bad == "bias_hh:none":
        a["b_ih"], a["b_hh"] = rand(seed, (G * H,)), None
        names = ("bias_ih", "bias_hh")
    elif bad == "hx:shape":
        a["h0"] = rand(seed, (B + 1, H))
    elif bad == "cx:missing":
        fwd_bad = G == 4
        a["c0"] = None
    elif bad == "cx:extra":
        fwd_bad = G == 1
        a["c0"] = rand(seed, (B, H))
    elif bad == "variant":
        variant = "generic"
    if mode is None:
        names = ("mode",)
    with fuzz_call("rnn", *names) as call:
        call.value = _core.rnn_forward(mode, a["x"], a["h0"], a["c0"], a["w_ih"], a["w_hh"],
                                       a["b_ih"], a["b_hh"], variant)
    if fwd_bad:
        return check_raises(call, exc)
    ca = {k: c(v) for k, v in a.items()}
    ref = _core.rnn_forward(mode, ca["x"], ca["h0"], ca["c0"], ca["w_ih"], ca["w_hh"], ca["b_ih"],
                            ca["b_hh"], "ref")
    y, hn, cn, ws = call.value
    for got, exp, nm in zip((y, hn, cn), ref, ("output", "h_n", "c_n")):
        if exp is None:
            assert got is None, nm
        else:
            assert_close(got, exp.astype(np.float64), nm, 2e-5, 2e-5)
    assert ws.shape == ref[3].shape
    dy = case_view(case, y.shape)
    dhn = rand(seed + 8, (B, H)) if case["dhn"] else None
    dcn = rand(seed + 9, (B, H)) if case["dcn"] else None
    if bad == "workspace:shape":
        ws = np.zeros(ws.size + 1, np.float32)
    elif bad == "workspace:f64":
        ws, exc = ws.astype(np.float64), TypeError
    elif bad == "output:shape":
        y = rand(seed, (T + 1, B, H))
    elif bad == "grad_output:dtype":
        dy, exc = dy.astype(bool), TypeError
    elif bad == "grad_hn:shape":
        dhn = rand(seed, (B, H + 1))
    elif bad == "grad_cn:extra":
        dcn = rand(seed, (B, H))
        names = ("grad_cn",)
    bwd_bad = target in ("workspace", "output", "grad_output", "grad_hn") or (
        bad == "grad_cn:extra" and G == 1)
    with fuzz_call("rnn", *names) as call:
        call.value = _core.rnn_backward(mode, a["x"], a["h0"], a["c0"], a["w_ih"], a["w_hh"],
                                        case["bias"], y, ws, dy, dhn, dcn, fast)
    if bwd_bad:
        return check_raises(call, exc)
    gref = _core.rnn_backward(mode, ca["x"], ca["h0"], ca["c0"], ca["w_ih"], ca["w_hh"],
                              case["bias"], ref[0], ref[3], c(dy), dhn, dcn, "ref")
    for got, exp, nm in zip(call.value, gref, ("dx", "dhx", "dcx", "dw_ih", "dw_hh", "db")):
        if exp is None:
            assert got is None, nm
        else:
            assert_close(got, exp.astype(np.float64), nm, 1e-4, 1e-4)


@fuzz_settings(20)
@given(kind=st.sampled_from(["input", "weight_hh", "steps", "workspace", "zero"]),
       n=st.integers(2 ** 31, 2 ** 40), mode=st.sampled_from(MODES))
def test_rnn_huge(kind, n, mode):
    G = 4 if mode == "LSTM" else 1
    h = lambda B, H: np.zeros((B, H), np.float32)  # noqa: E731
    cx = (lambda B, H: h(B, H) if G == 4 else None)
    with fuzz_call("rnn", "input", "weight_hh", "output", "workspace", "hx") as call:
        if kind == "input":
            call.value = _core.rnn_forward(mode, bcast_huge((HUGE, HUGE, 2)), h(HUGE, 1),
                                           cx(HUGE, 1), h(G, 2), h(G, 1))
        elif kind == "weight_hh":  # hidden size 2**22: weight_hh needs a 2**46-float copy
            H = HUGE
            call.value = _core.rnn_forward(mode, h(1, 1)[None], h(1, H), cx(1, H),
                                           bcast_huge((G * H, 1)), bcast_huge((G * H, H)))
        elif kind == "steps":  # 2**31+ steps of an input_size-0 layer: a 2**43+-float output
            hb = bcast_huge((2 ** 11, 2))
            call.value = _core.rnn_forward(mode, np.empty((n, 2 ** 11, 0), np.float32), hb,
                                           hb if G == 4 else None, h(2 * G, 0), h(2 * G, 2))
        elif kind == "workspace":  # T * B * 5 * H past int64 for the LSTM's workspace
            x = np.empty((2 ** 40, 2 ** 20, 0), np.float32)
            hb = bcast_huge((2 ** 20, 8))
            call.value = _core.rnn_forward(mode, x, hb, hb if G == 4 else None, h(8 * G, 0),
                                           h(8 * G, 8))
        else:
            call.value = _core.rnn_forward(mode, np.empty((n, 0, 3), np.float32), h(0, 2),
                                           cx(0, 2), h(2 * G, 3), h(2 * G, 2))
    if kind == "zero":
        y, hn, cn, ws = call.value
        assert y.shape == (n, 0, 2) and hn.shape == (0, 2) and ws.size == 0
    else:
        check_raises(call, (MemoryError, ValueError))
