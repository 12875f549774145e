"""Hypothesis fuzz tests of the nn binding families conv and pool (layer_norm, attention and rnn:
test_fuzz_nn_seq.py, which reuses the helpers here). Each case draws a small valid call (sizes
0 included), then maybe one corruption: a wrong dtype (float64, int32, bool, object, float16,
a list), big-endian float32, a misaligned or half-element-strided view, a wrong ndim or shape,
or a bad geometry / scalar argument. Valid arrays arrive as strided, reversed, Fortran-order or
zero-stride broadcast views. A call that returns must match the plain-loop reference
(variant="ref") on contiguous copies; one that raises must raise the expected clear exception
naming the argument (fuzz_support.fuzz_call). The *_huge tests use sizes whose element count
overflows int32 or memory, built as zero-size arrays or zero-stride views (nothing large is
ever allocated): MemoryError / ValueError, or the right (empty) result."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz_support import fuzz_call, fuzz_settings
from turbonn import _core

# ------------------------------------------------------------------------------- shared helpers

TYPE_BAD = ("float64", "int32", "bool", "object", "float16", "list", "bigendian")
LAYOUT_BAD = ("misaligned", "halfstride")


def rand(seed, shape, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


@st.composite
def view_of(draw, a):
    """An array of `a`'s shape in a drawn layout: `a` itself, a strided or reversed view of a
    copy, Fortran order, or a zero-stride broadcast of one slice (values then differ from `a`:
    compare against np.ascontiguousarray of what this returns)."""
    kind = draw(st.sampled_from(["c", "c", "step", "rev", "lead_step", "lead_rev", "fortran",
                                 "bcast", "newaxis"]))
    if kind == "step" and a.ndim:
        big = np.zeros(tuple(2 * n for n in a.shape), np.float32)
        sl = tuple(slice(None, None, 2) for _ in a.shape)
        big[sl] = a
        return big[sl]
    if kind == "rev" and a.ndim:
        rev = tuple(slice(None, None, -1) for _ in a.shape)
        return a[rev].copy()[rev]
    if kind in ("lead_step", "lead_rev") and a.ndim > 1:  # all but the last axis (unit stride)
        st_ = 2 if kind == "lead_step" else -1
        big = np.zeros(tuple(abs(st_) * n for n in a.shape[:-1]) + a.shape[-1:], np.float32)
        sl = tuple(slice(None, None, st_) for _ in a.shape[:-1]) + (slice(None),)
        big[sl] = a
        return big[sl]
    if kind == "newaxis" and a.ndim and a.shape[0] == 1:  # a size-1 axis of stride 0
        return a[0][None]
    if kind == "fortran":
        return np.asfortranarray(a)
    if kind == "bcast" and a.ndim and a.size:
        ax = draw(st.integers(0, a.ndim - 1))
        return np.broadcast_to(np.take(a, [0], axis=ax), a.shape)
    return a


def c(a):
    return None if a is None else np.ascontiguousarray(a)


def corrupt(kind, a):
    """`a` made wrong in the given way; returns (bad array or list, the exception type)."""
    if kind == "list":
        return a.tolist(), TypeError
    if kind == "bigendian":
        return a.astype(">f4"), TypeError
    if kind in TYPE_BAD:
        with np.errstate(invalid="ignore"):  # (-inf to int32)
            return a.astype(kind), TypeError
    if a.ndim == 0 or a.size == 0:  # nothing to misplace: a wrong dtype instead
        return a.astype(np.float64), TypeError
    raw = np.zeros(a.size * 4 + 8, np.uint8)
    if kind == "misaligned":
        return raw[1:1 + a.size * 4].view(np.float32).reshape(a.shape), ValueError
    assert kind == "halfstride"
    strides = tuple(2 if i == a.ndim - 1 else 2 * int(np.prod(a.shape[i + 1:]))
                    for i in range(a.ndim))
    return np.lib.stride_tricks.as_strided(raw.view(np.float32), a.shape, strides), ValueError


def bcast_huge(shape):
    """A float32 view of `shape` (typically 2**43+ elements) that stores one element."""
    return np.broadcast_to(np.ones((1,) * len(shape), np.float32), shape)


def assert_close(got, exp, what, rtol=2e-5, atol=2e-5, scale=None):
    """got (float32) against exp, to rtol * scale + atol where scale defaults to |exp|."""
    assert isinstance(got, np.ndarray) and got.shape == exp.shape, (
        what, getattr(got, "shape", got), exp.shape)
    assert got.dtype == np.float32, (what, got.dtype)
    s = np.abs(exp) if scale is None else scale
    both_inf = np.isinf(got) & (got == exp)
    with np.errstate(invalid="ignore"):
        ok = (np.abs(got.astype(np.float64) - exp) <= rtol * s + atol) | both_inf
    ok |= np.isnan(got) & np.isnan(exp)
    assert ok.all(), f"{what}: {int((~ok).sum())} of {ok.size} off, max err " \
                     f"{np.nanmax(np.abs(got.astype(np.float64) - exp)):.3g}"


def check_raises(call, exc):
    """After a fuzz_call block for a draw that must fail: it failed, with `exc`."""
    assert call.error is not None, f"an invalid call returned {type(call.value).__name__}"
    assert isinstance(call.error, exc), (
        f"{type(call.error).__name__} instead of {exc}: {call.error}")


INT_BAD = [("zero", 0), ("neg", -1), ("huge", 2 ** 31), ("vhuge", 2 ** 70), ("str", "2"),
           ("float", 1.5), ("triple", (1, 1, 1)), ("none", None)]


# ------------------------------------------------------------------------------------- conv

def conv_out(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


@st.composite
def conv_case(draw):
    G = draw(st.sampled_from([1, 1, 2, 3]))
    N, cg, og = draw(st.integers(0, 3)), draw(st.integers(0, 3)), draw(st.integers(0, 3))
    H, W = draw(st.integers(0, 7)), draw(st.integers(0, 7))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    seed = draw(st.integers(0, 2 ** 31))
    x = rand(seed, (N, G * cg, H, W))
    w = rand(seed + 1, (G * og, cg) + k, 0.5)
    b = rand(seed + 2, (G * og,)) if draw(st.booleans()) else None
    valid = all(n + 2 * pp >= dd * (kk - 1) + 1 for n, kk, pp, dd in zip((H, W), k, p, d))
    # geometry as an int when both are equal, half of the time
    geo = [v[0] if v[0] == v[1] and draw(st.booleans()) else v for v in (s, p, d)]
    return dict(x=draw(view_of(x)), w=draw(view_of(w)), b=b, G=G, geo=geo, valid=valid,
                k=k, seed=seed)


CONV_BAD = ("none",) * 6 + tuple(f"{a}:{t}" for a in ("x", "weight", "bias", "dout")
                                 for t in TYPE_BAD + LAYOUT_BAD) + (
    "x:ndim", "weight:ndim", "weight:channels", "bias:shape", "dout:shape", "groups",
    "stride", "padding", "dilation", "variant", "out:shape", "out:readonly", "out:fortran")


def pair(v):
    return v if isinstance(v, tuple) else (v, v)


@pytest.mark.parametrize("fast", [None, "ref"])
@fuzz_settings(90)
@given(case=conv_case(), bad=st.sampled_from(CONV_BAD), badint=st.sampled_from(INT_BAD))
def test_conv_fuzz(fast, case, bad, badint):
    x, w, b, G, (s, p, d) = case["x"], case["w"], case["b"], case["G"], case["geo"]
    out = variant = None
    target, _, how = bad.partition(":")
    exc, names, fwd_bad = (TypeError, ValueError), (target,), target not in ("none", "dout")
    if how in TYPE_BAD + LAYOUT_BAD and target in ("x", "weight", "bias"):
        if target == "bias" and b is None:
            b = np.zeros(w.shape[0], np.float32)
        bad_arr, exc = corrupt(how, {"x": x, "weight": w, "bias": c(b)}[target])
        x, w, b = (bad_arr if target == t else v for t, v in (("x", x), ("weight", w), ("bias", b)))
    elif bad == "x:ndim":
        x = x.reshape(x.shape[:2] + (-1,)) if x.size else x[None]
    elif bad == "weight:ndim":
        w = w.reshape(w.shape[:2] + (w.shape[2] * w.shape[3],))
    elif bad == "weight:channels":
        w, names = np.zeros((w.shape[0], w.shape[1] + 1) + w.shape[2:], np.float32), ("x", "weight")
    elif bad == "bias:shape":
        b = np.zeros(w.shape[0] + 1, np.float32)
    elif bad == "groups":
        G = badint[1] if badint[0] != "none" else G + 1
        C, O = x.shape[1], w.shape[0]
        fwd_bad = not (isinstance(G, int) and 1 <= G < 2 ** 63 and C % G == 0 and O % G == 0
                       and w.shape[1] * G == C)
    elif target in ("stride", "padding", "dilation"):
        v = -1 if badint[0] == "zero" and target == "padding" else badint[1]
        s, p, d = (v if t == target else o
                   for t, o in (("stride", s), ("padding", p), ("dilation", d)))
    elif bad == "variant":
        variant = "fast"
    if target == "out" and case["valid"]:
        oshape = (x.shape[0], w.shape[0]) + tuple(
            conv_out(n, kk, ss, pp, dd) for n, kk, ss, pp, dd in
            zip(x.shape[2:], case["k"], pair(s), pair(p), pair(d)))
        if how == "shape":
            out = np.zeros((oshape[0], oshape[1] + 1) + oshape[2:], np.float32)
        elif how == "readonly":
            out = np.zeros(oshape, np.float32)
            out.flags.writeable = False
        else:
            out = np.zeros(oshape[::-1], np.float32).T  # Fortran order
            fwd_bad = not out.flags.c_contiguous
    elif target == "out":
        fwd_bad = False
    if not case["valid"]:
        names, exc = names + ("kernel", "input"), (TypeError, ValueError)
    with fuzz_call("conv", *names) as call:
        call.value = _core.conv2d_forward(x, w, b, s, p, d, out, variant or fast, G)
    if fwd_bad or not case["valid"]:
        return check_raises(call, exc)
    got = call.value
    ref = _core.conv2d_forward(c(x), c(w), b, s, p, d, None, "ref", G)
    scale = _core.conv2d_forward(np.abs(c(x)), np.abs(c(w)), None if b is None else np.abs(b),
                                 s, p, d, None, "ref", G)
    assert_close(got, ref.astype(np.float64), "conv2d forward", scale=scale, rtol=1e-5, atol=1e-6)
    if out is not None:
        assert got is out
    # backward on the same geometry
    dout = case_view(case, got.shape)
    if bad == "dout:shape":
        dout = np.zeros(got.shape[:-1] + (got.shape[-1] + 1,), np.float32)
    elif target == "dout":
        dout, exc = corrupt(how, c(dout))
    need = (bool(case["seed"] & 1), bool(case["seed"] & 2), bool(case["seed"] & 4))
    with fuzz_call("conv", "dout", "conv2d_backward") as call:
        call.value = _core.conv2d_backward(dout, x, w, s, p, d, *need, fast, G)
    if target == "dout":
        return check_raises(call, exc if how != "shape" else ValueError)
    gref = _core.conv2d_backward(c(dout), c(x), c(w), s, p, d, True, True, True, "ref", G)
    gabs = _core.conv2d_backward(np.abs(c(dout)), np.abs(c(x)), np.abs(c(w)), s, p, d,
                                 True, True, True, "ref", G)
    for got_g, ref_g, sc, wanted, nm in zip(call.value, gref, gabs, need, ("dx", "dw", "db")):
        if not wanted:
            assert got_g is None, nm
        else:
            assert_close(got_g, ref_g.astype(np.float64), nm, scale=sc, rtol=1e-5, atol=1e-6)


def case_view(case, shape):
    """A deterministic upstream gradient of `shape`, in a seed-chosen layout."""
    g = rand(case["seed"] + 7, shape)
    if case["seed"] % 3 == 0 and g.ndim and g.size:
        rev = tuple(slice(None, None, -1) for _ in shape)
        return g[rev].copy()[rev]
    return np.asfortranarray(g) if case["seed"] % 3 == 1 else g


def im2col64(x, k, s, p, d):
    N, C, H, W = x.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    OH, OW = conv_out(H, k[0], s[0], p[0], d[0]), conv_out(W, k[1], s[1], p[1], d[1])
    cols = np.zeros((N, C, k[0], k[1], OH, OW))
    for i in range(k[0]):
        for j in range(k[1]):
            cols[:, :, i, j] = xp[:, :, i * d[0]:i * d[0] + s[0] * (OH - 1) + 1:s[0],
                                  j * d[1]:j * d[1] + s[1] * (OW - 1) + 1:s[1]]
    return cols.reshape(N, C * k[0] * k[1], OH * OW)


def col2im64(cols, shape, k, s, p, d):
    N, C, H, W = shape
    OH, OW = conv_out(H, k[0], s[0], p[0], d[0]), conv_out(W, k[1], s[1], p[1], d[1])
    xp = np.zeros((N, C, H + 2 * p[0], W + 2 * p[1]))
    cc = cols.astype(np.float64).reshape(N, C, k[0], k[1], OH, OW)
    for i in range(k[0]):
        for j in range(k[1]):
            xp[:, :, i * d[0]:i * d[0] + s[0] * (OH - 1) + 1:s[0],
               j * d[1]:j * d[1] + s[1] * (OW - 1) + 1:s[1]] += cc[:, :, i, j]
    return xp[:, :, p[0]:p[0] + H, p[1]:p[1] + W]


@fuzz_settings(60)
@given(case=conv_case(), bad=st.sampled_from(("none",) * 4 + ("x:float64", "x:bigendian",
                                              "x:ndim", "kernel", "cols:shape", "shape")),
       badint=st.sampled_from(INT_BAD))
def test_im2col_col2im_fuzz(case, bad, badint):
    x, k = case["x"], case["k"]
    s, p, d = ((v, v) if isinstance(v, int) else v for v in case["geo"])
    kern = k
    names = ("x", "kernel", "kernel_size", "input")
    if bad.startswith("x:") and bad != "x:ndim":
        x, _ = corrupt(bad[2:], c(x))
    elif bad == "x:ndim":
        x = x[None]
    elif bad == "kernel":
        kern, names = badint[1], ("kernel_size",)
    with fuzz_call("conv", *names) as call:
        call.value = _core.im2col(x, kern, s, p, d)
    if bad in ("x:float64", "x:bigendian"):
        return check_raises(call, TypeError)
    if bad in ("x:ndim", "kernel") or not case["valid"]:
        return check_raises(call, (TypeError, ValueError))
    exp = im2col64(c(x), k, s, p, d)
    assert_close(call.value, exp.astype(np.float32).astype(np.float64), "im2col", 0, 0)
    cols = case_view(case, exp.shape)
    shape = list(x.shape)
    if bad == "cols:shape":
        cols = np.zeros(exp.shape[:2] + (exp.shape[2] + 1,), np.float32)
    elif bad == "shape":
        shape = badint[1] if badint[0] in ("str", "float", "triple", "none") else \
            shape[:3] + [badint[1]]
        if shape == list(x.shape):
            bad = "none"  # (W was already 0)
    with fuzz_call("conv", "cols", "input_shape", "kernel", "input") as call:
        call.value = _core.col2im(cols, shape, k, s, p, d)
    if bad in ("cols:shape", "shape"):
        return check_raises(call, (TypeError, ValueError))
    exp = col2im64(c(cols), x.shape, k, s, p, d)
    sc = col2im64(np.abs(c(cols)), x.shape, k, s, p, d)
    assert_close(call.value, exp, "col2im", scale=sc, rtol=1e-6, atol=1e-7)


HUGE = 2 ** 22  # broadcast extents: products of two or three of these pass 2**43 elements


@fuzz_settings(20)
@given(kind=st.sampled_from(["x", "weight", "out", "zero_x", "cols", "col2im", "im2col_zero"]),
       n=st.integers(2 ** 31, 2 ** 40), small=st.integers(1, 3))
def test_conv_huge(kind, n, small):
    w = np.ones((small, 1, 1, 1), np.float32)
    with fuzz_call("conv", "x", "weight", "out", "cols", "input_shape") as call:
        if kind == "x":
            call.value = _core.conv2d_forward(bcast_huge((HUGE, 1, HUGE, small)), w)
        elif kind == "weight":
            call.value = _core.conv2d_forward(np.ones((1, 1, 2, 2), np.float32),
                                              bcast_huge((n, 1, 1, 1)) if n > 2 ** 33 else
                                              bcast_huge((HUGE * HUGE, 1, 1, 1)))
        elif kind == "out":  # a 1x1 conv of a broadcast x whose output is 2**44 floats
            call.value = _core.conv2d_forward(bcast_huge((HUGE, 1, HUGE, 1)), w, padding=small)
        elif kind == "zero_x":  # zero-size x with extents past int32
            call.value = _core.conv2d_forward(np.empty((0, 1, n, 1), np.float32), w,
                                              padding=(0, small))
        elif kind == "cols":  # C*kH*kW*OH*OW past int64 on an empty batch
            call.value = _core.im2col(np.empty((0, 2 ** 20, 2 ** 20, 1), np.float32),
                                      2 ** 30, padding=2 ** 30)
        elif kind == "im2col_zero":
            call.value = _core.im2col(np.empty((0, small, n, 2), np.float32), (1, 2))
        else:
            call.value = _core.col2im(bcast_huge((HUGE, HUGE, 4)), (HUGE, HUGE, 2, 2), 1)
    if kind == "zero_x":
        assert call.value.shape == (0, small, n, 1 + 2 * small)
    elif kind == "im2col_zero":
        assert call.value.shape == (0, 2 * small, n)
    else:
        check_raises(call, (MemoryError, ValueError))


# ------------------------------------------------------------------------------------- pool

def pool_out(n, k, s, p, d, ceil):
    o = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    return o - 1 if ceil and (o - 1) * s >= n + p else o


def empty_window(n, k, s, p, d, ceil):
    """Whether a window along this axis has no input element (its taps all in the padding)."""
    for o in range(pool_out(n, k, s, p, d, ceil)):
        start = o * s - p
        if start >= 0:
            break
        skip = (-start + d - 1) // d
        if skip >= k or start + skip * d >= n:
            return True
    return False


@st.composite
def pool_case(draw):
    lead = (draw(st.integers(0, 2)),) if draw(st.booleans()) else ()
    C, H, W = draw(st.integers(1, 3)), draw(st.integers(1, 8)), draw(st.integers(1, 8))
    if draw(st.integers(0, 9)) == 0:  # a zero C/H/W (only the batch may be 0)
        C, H, W = draw(st.sampled_from([(0, H, W), (C, 0, W), (C, H, 0)]))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = None if draw(st.booleans()) else (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    ceil = draw(st.booleans())
    seed = draw(st.integers(0, 2 ** 31))
    x = rand(seed, lead + (C, H, W))
    ss = s or k
    ok = C > 0 and H > 0 and W > 0
    valid_max = ok and all(pool_out(*a, ceil) >= 1 and not empty_window(*a, ceil)
                           for a in zip((H, W), k, ss, p, d))
    valid_avg = ok and all(pool_out(*a, 1, ceil) >= 1 for a in zip((H, W), k, ss, p))
    return dict(x=draw(view_of(x)), k=k, s=s, p=p, d=d, ceil=ceil, seed=seed,
                valid_max=valid_max, valid_avg=valid_avg, incl=draw(st.booleans()),
                div=draw(st.sampled_from([None, None, 1, 3, -2])),
                acc=draw(st.booleans()))


POOL_BAD = ("none",) * 8 + tuple(f"x:{t}" for t in TYPE_BAD + LAYOUT_BAD) + (
    "x:ndim", "kernel_size", "stride", "padding", "dilation", "divisor_override",
    "indices:int64", "indices:range", "indices:shape", "indices:bigendian",
    "indices:misaligned", "indices:strided", "out:shape", "out:readonly", "out:overlap",
    "input_shape", "dout:shape",
    "dout:f64", "dinp:shape", "dinp:readonly", "accumulate", "variant")


@fuzz_settings(160)
@given(case=pool_case(), bad=st.sampled_from(POOL_BAD), badint=st.sampled_from(INT_BAD),
       is_max=st.booleans())
def test_pool_fuzz(case, bad, badint, is_max):
    x, k, s, p, d = case["x"], case["k"], case["s"], case["p"], case["d"]
    target, _, how = bad.partition(":")
    variant, exc, names = None, (TypeError, ValueError), (target,)
    if target == "x" and how != "ndim":
        x, exc = corrupt(how, c(x))
    elif bad == "x:ndim":
        x = x[None, None] if case["seed"] % 2 else x.reshape(-1)
    elif target in ("kernel_size", "stride", "padding", "dilation"):
        v = badint[1] if not (target == "stride" and badint[0] == "none") else 0
        if target == "padding" and badint[0] == "zero":
            v = k[0] // 2 + 1  # more than half the kernel
        k, s, p, d = (v if t == target else o for t, o in
                      (("kernel_size", k), ("stride", s), ("padding", p), ("dilation", d)))
    elif bad == "variant":
        variant, names = "avx", ("variant",)
    out = None
    if target == "out" and case["valid_max" if is_max else "valid_avg"]:
        ss = pair(s or k)
        oshape = x.shape[:-2] + tuple(pool_out(n, kk, st_, pp, dd if is_max else 1, case["ceil"])
                                      for n, kk, st_, pp, dd in zip(x.shape[-2:], k, ss, p, d))
        if how == "shape":
            out = np.zeros(oshape[:-1] + (oshape[-1] + 1,), np.float32)
        elif how == "readonly":
            out = np.zeros(oshape, np.float32)
            out.flags.writeable = False
        elif x.size:  # out over x's own memory
            out = np.asarray(x).reshape(-1)[:int(np.prod(oshape))].reshape(oshape) \
                if x.flags.c_contiguous and x.size >= np.prod(oshape) else None
    fwd_bad = out is not None or target in ("x", "kernel_size", "stride", "padding", "variant") or (
        is_max and target == "dilation") or (not is_max and target == "divisor_override")
    valid = case["valid_max" if is_max else "valid_avg"]
    div = case["div"]
    if not is_max and target == "divisor_override":
        div = 0 if badint[0] in ("zero", "none") else badint[1]
        fwd_bad = badint[0] not in ("neg", "huge")  # -1 and 2**31 are divisors too
    if not valid:
        names, exc = names + ("x", "kernel_size", "output", "dilation"), (TypeError, ValueError)
    with fuzz_call("pool", *names) as call:
        if is_max:
            call.value = _core.max_pool2d_forward(x, k, s, p, d, case["ceil"], out, variant)
        else:
            call.value = _core.avg_pool2d_forward(x, k, s, p, case["ceil"], case["incl"], div,
                                                  out, variant)
    if fwd_bad or not valid:
        return check_raises(call, exc)
    args = (k, s, p, d, case["ceil"]) if is_max else (k, s, p, case["ceil"], case["incl"], div)
    ref = (_core.max_pool2d_forward if is_max else _core.avg_pool2d_forward)(
        c(x), *args, *((None, "ref") if is_max else (None, "ref")))
    if is_max:
        assert np.array_equal(call.value[0], ref[0], equal_nan=True)
        assert np.array_equal(call.value[1], ref[1]) and call.value[1].dtype == np.int32
        oshape = ref[0].shape
    else:
        assert_close(call.value, ref.astype(np.float64), "avg_pool2d", 1e-6, 1e-6)
        oshape = ref.shape
    # backward
    dout = case_view(case, oshape)
    shape = tuple(x.shape)
    ind = call.value[1] if is_max else None
    dinp = np.full(shape, 0.5, np.float32) if case["acc"] else None
    acc = case["acc"]
    if bad == "indices:int64" and is_max:
        ind, exc = ind.astype(np.int64), TypeError
    elif bad == "indices:range" and is_max and ind.size:
        ind = ind.copy()
        ind.flat[case["seed"] % ind.size] = -1 if case["seed"] % 2 else shape[-1] * shape[-2]
        exc = IndexError
    elif bad == "indices:shape" and is_max:
        ind = ind[..., :0]
    elif bad == "indices:bigendian" and is_max:
        ind, exc = ind.astype(">i4"), TypeError
    elif bad == "indices:misaligned" and is_max and ind.size:  # valid: copied aligned
        raw = np.zeros(ind.size * 4 + 1, np.uint8)
        ind = raw[1:].view(np.int32).reshape(ind.shape)
        ind[...] = call.value[1]
    elif bad == "indices:strided" and is_max:  # valid: copied contiguous
        ind = np.asfortranarray(ind)
    elif bad == "input_shape":
        shape = badint[1] if badint[0] in ("str", "none") else shape[:-1] + (0,)
        names = ("input_shape", "dout")
    elif bad == "dout:shape":
        dout = dout[..., :0] if is_max else np.zeros(oshape[:-1] + (oshape[-1] + 1,), np.float32)
        names = ("dout", "indices")
    elif bad == "dout:f64":
        dout, exc = dout.astype(np.float64), TypeError
    elif bad == "dinp:shape":
        dinp = np.zeros(shape[:-1] + (shape[-1] + 1,), np.float32)
    elif bad == "dinp:readonly":
        dinp = np.zeros(shape, np.float32)
        dinp.flags.writeable = False
    elif bad == "accumulate":
        dinp, acc = None, True
    bwd_bad = target in ("indices", "input_shape", "dout", "dinp", "accumulate") and how not in (
        "misaligned", "strided") and not (
        target == "indices" and not is_max) and not (bad == "indices:range" and not ind.size)
    if bad == "dout:shape" and is_max:
        bwd_bad = True  # indices then mismatch it too
    if bad == "indices:shape" and is_max and not ind.size and oshape == ind.shape:
        bwd_bad = False
    dinp0 = None if dinp is None else dinp.copy()
    with fuzz_call("pool", *names, "dinp") as call:
        if is_max:
            call.value = _core.max_pool2d_backward(dout, ind, shape, dinp, acc)
        else:
            call.value = _core.avg_pool2d_backward(dout, shape, *args, dinp, acc)
    if bwd_bad:
        return check_raises(call, exc if target in ("indices", "dout") and how in
                            ("int64", "range", "f64", "bigendian") else (TypeError, ValueError))
    dref = np.full(shape, 0.5, np.float32) if acc else None
    if is_max:
        dref = _core.max_pool2d_backward(c(dout), ind, shape, dref, acc, "ref")
    else:
        dref = _core.avg_pool2d_backward(c(dout), shape, *args, dref, acc, "ref")
    assert_close(call.value, dref.astype(np.float64), "pool backward", 1e-6, 1e-6)
    if dinp is not None:
        assert call.value is dinp and dinp0 is not None


@fuzz_settings(20)
@given(kind=st.sampled_from(["x", "plane", "zero", "max_bwd", "avg_bwd", "kernel"]),
       n=st.integers(2 ** 31, 2 ** 40), is_max=st.booleans())
def test_pool_huge(kind, n, is_max):
    fwd = (lambda x, **kw: _core.max_pool2d_forward(x, **kw)) if is_max else \
        (lambda x, **kw: _core.avg_pool2d_forward(x, **kw))
    with fuzz_call("pool", "x", "input_shape", "out", "dout", "dinp", "kernel_size") as call:
        if kind == "x":
            call.value = fwd(bcast_huge((HUGE, HUGE, 4, 4)), kernel_size=2)
        elif kind == "plane":  # a plane past int32 (the indices' range)
            call.value = fwd(bcast_huge((1, 1, 2 ** 16, n)), kernel_size=2)
        elif kind == "zero":
            call.value = fwd(np.empty((0, n, 2, 3), np.float32), kernel_size=2)
        elif kind == "max_bwd":
            call.value = _core.max_pool2d_backward(
                bcast_huge((HUGE, HUGE, 1, 1)), np.broadcast_to(np.int32(0), (HUGE, HUGE, 1, 1)),
                (HUGE, HUGE, 2, 2))
        elif kind == "avg_bwd":
            call.value = _core.avg_pool2d_backward(bcast_huge((HUGE, HUGE, 1, 1)),
                                                   (HUGE, HUGE, 2, 2), 2)
        else:
            call.value = fwd(np.ones((1, 2, 2), np.float32), kernel_size=n, padding=n // 2)
    if kind == "zero":
        got = call.value[0] if is_max else call.value
        assert got.shape == (0, n, 1, 1)
    else:
        check_raises(call, (MemoryError, ValueError))
