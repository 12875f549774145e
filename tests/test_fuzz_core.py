"""Hypothesis fuzz tests of the gemm, linear, activation, softmax, dropout and runtime bindings:
random shapes (zero-size dims included) and layouts checked against float64 NumPy, and bad inputs
(dtypes, byte order, ndim, shapes, alignment, zero-stride views past int32 and memory) that must
raise a clear exception naming the argument. Losses, optimizers and embedding: test_fuzz_core_2.
`pytest --fuzz` runs 10x the cases (>= 1,000 per family)."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import turbonn as tn
from turbonn import _core
from fuzz_arrays import (BAD_FLOAT_KINDS, assert_close, bad_float, floats, huge, huge_shape,
                         misaligned, run_case, shapes)
from fuzz_support import fuzz_settings

ISAS = tuple(_core.supported_isas())
DIMS = st.integers(0, 17)


# --------------------------------------------------------------------------------------- gemm

@st.composite
def gemm_case(draw):
    M, N, K = draw(DIMS), draw(DIMS), draw(DIMS)
    ta, tb = draw(st.booleans()), draw(st.booleans())
    a = draw(floats((K, M) if ta else (M, K)))
    b = draw(floats((N, K) if tb else (K, N)))
    alpha = draw(st.sampled_from([1.0, -0.5, 2.0, 0.0]))
    beta = draw(st.sampled_from([0.0, 0.0, 1.0, -1.5]))
    out = np.ascontiguousarray(draw(floats((M, N)))) if beta or draw(st.booleans()) else None
    kw = dict(trans_a=ta, trans_b=tb, alpha=alpha, beta=beta, out=out,
              variant=draw(st.sampled_from((None, "ref") + ISAS)))
    bad = draw(st.sampled_from([None] * 6 + ["a", "b", "ndim", "inner", "out", "beta",
                                             "variant", "huge"]))
    names = ["a", "b", "out", "beta", "variant"]
    if bad in ("a", "b"):
        kind = draw(st.sampled_from(BAD_FLOAT_KINDS))
        a, b = (bad_float(kind, a), b) if bad == "a" else (a, bad_float(kind, b))
    elif bad == "ndim":
        a = a.reshape(a.shape + (1,)) if draw(st.booleans()) else a.reshape(-1)
    elif bad == "inner":
        extra = np.zeros((1, b.shape[1]) if not tb else (b.shape[0], 1), np.float32)
        b = np.concatenate([b, extra], axis=1 if tb else 0)
    elif bad == "out":
        how = draw(st.sampled_from(["shape", "dtype", "strided", "readonly", "misaligned",
                                    "list"]))
        base = np.zeros((M, N), np.float32)
        if how == "strided" and M > 1 and N > 0:
            kw["out"] = np.zeros((M, N + 1), np.float32)[:, :N]
        elif how == "readonly" and M * N:
            kw["out"] = huge((M, N), value=0.0)
        elif how == "misaligned" and M * N:
            kw["out"] = misaligned(base)
        elif how in ("dtype", "list"):
            kw["out"] = base.astype(np.float64) if how == "dtype" else base.tolist()
        else:
            kw["out"] = np.zeros((M + 1, N), np.float32)
        kw["beta"] = 0.0
    elif bad == "beta":
        kw["out"], kw["beta"] = None, 0.5
    elif bad == "variant":
        kw["variant"] = draw(st.sampled_from(["bogus", "AVX2", "", "avx1024"]))
    elif bad == "huge":
        # op(a) has M > memory rows (or op(b) N columns): the output cannot be allocated
        which = draw(st.sampled_from(["M", "N"]))
        K = max(K, 1)
        n_ = max(N, 1)
        m_ = max(M, 1)
        if which == "M":
            a = huge(draw(huge_shape(2, {0: K} if ta else {1: K})))
            b = np.ones((n_, K) if tb else (K, n_), np.float32)
        else:
            a = np.ones((K, m_) if ta else (m_, K), np.float32)
            b = huge(draw(huge_shape(2, {1: K} if tb else {0: K})))
        kw["out"], kw["beta"] = None, 0.0
    return a, b, kw, bad, names


@fuzz_settings(260)
@given(case=gemm_case())
def test_gemm(case):
    a, b, kw, bad, names = case
    out0 = None if kw["out"] is None or bad else kw["out"].copy()

    def check(got):
        A = np.asarray(a, np.float64)
        B = np.asarray(b, np.float64)
        A, B = (A.T if kw["trans_a"] else A), (B.T if kw["trans_b"] else B)
        exp = kw["alpha"] * (A @ B)
        scale = abs(kw["alpha"]) * (np.abs(A) @ np.abs(B))
        if kw["beta"]:
            exp = exp + kw["beta"] * out0
            scale = scale + abs(kw["beta"]) * np.abs(out0)
        tol = 1e-5 * max(1.0, math.sqrt(A.shape[1]) / 8) * scale + 1e-30
        assert got.shape == exp.shape and got.dtype == np.float32
        assert np.all(np.abs(got - exp) <= tol)
        if kw["out"] is not None:
            assert got is kw["out"]

    run_case("gemm", names, lambda: _core.gemm(a, b, **kw), bad=bad is not None, check=check)


@fuzz_settings(30)
@given(n=st.integers(1, 9), beta=st.sampled_from([0.0, 1.0]), which=st.sampled_from("ab"))
def test_gemm_out_aliasing_an_input(n, beta, which):
    """out may be a or b itself (read through a copy): still the right answer."""
    rng = np.random.default_rng(n)
    a, b = rng.standard_normal((2, n, n)).astype(np.float32)
    exp = a.astype(np.float64) @ b + beta * (a if which == "a" else b)
    out = a if which == "a" else b
    run_case("gemm", ["out"], lambda: _core.gemm(a, b, beta=beta, out=out), bad=False,
             check=lambda got: assert_close(got, exp, 1e-5, 1e-5, "gemm aliased"))


# ------------------------------------------------------------------------------------- linear

@st.composite
def linear_case(draw):
    M, N, K = draw(DIMS), draw(DIMS), draw(DIMS)
    x, w, g = draw(floats((M, K))), draw(floats((N, K))), draw(floats((M, N)))
    bias = draw(st.none() | floats((N,)))
    bad = draw(st.sampled_from([None] * 5 + ["x", "weight", "bias", "ndim", "in_features",
                                             "dout", "accumulate", "variant", "huge"]))
    return M, N, K, x, w, g, bias, bad


@fuzz_settings(300)
@given(case=linear_case(), backward=st.booleans(), variant=st.sampled_from([None, "ref"]),
       need=st.tuples(st.booleans(), st.booleans(), st.booleans()), data=st.data())
def test_linear(case, backward, variant, need, data):
    M, N, K, x, w, g, bias, bad = case
    names = ["x", "weight", "bias", "dout", "dinp", "dweight", "dbias", "variant"]
    given_grads = [None, None, None]
    accumulate = False
    if backward and bad is None and data.draw(st.booleans()):
        accumulate = True
        given_grads = [np.ones(s, np.float32) for s in ((M, K), (N, K), (N,))]
    if bad in ("x", "weight", "bias", "dout"):
        kind = data.draw(st.sampled_from(BAD_FLOAT_KINDS))
        if bad == "bias" and bias is None:
            bias = np.zeros(N, np.float32)
        backward = {"dout": True, "bias": False}.get(bad, backward)
        x, w, bias, g = (bad_float(kind, v) if n == bad else v
                         for n, v in (("x", x), ("weight", w), ("bias", bias), ("dout", g)))
    elif bad == "ndim":
        which = data.draw(st.sampled_from(["x", "weight"] + ["bias"] * (not backward)))
        if which == "bias":
            bias = np.zeros((N, 1), np.float32)
        elif which == "x":
            x = x.reshape(-1)
        else:
            w = w[None]
    elif bad == "in_features":
        w = np.zeros((N, K + 1), np.float32)
    elif bad == "accumulate":
        backward, accumulate, need = True, True, (True, need[1], need[2])
    elif bad == "variant":
        variant = data.draw(st.sampled_from(["avx2", "reference", "REF"]))
    elif bad == "huge":  # M past memory: out (M, N) / dinp (M, K) cannot be allocated
        N, K = max(N, 1), max(K, 1)
        shape = data.draw(huge_shape(2, {1: K}))
        x, w, g = huge(shape), np.ones((N, K), np.float32), huge((shape[0], N))
        need = (True, need[1], need[2])
    if backward and bad is None and data.draw(st.booleans()) and M:
        g = np.zeros((M + 1, N), np.float32)  # dout of the wrong shape
        bad = "dout"
    X, W, G = (np.asarray(v, np.float64) if bad is None else None for v in (x, w, g))

    if not backward:
        def check(out):
            exp = X @ W.T + (0 if bias is None else bias)
            tol = 1e-5 * max(1.0, math.sqrt(K) / 8) * (np.abs(X) @ np.abs(W).T + 1)
            assert out.shape == (M, N) and np.all(np.abs(out - exp) <= tol)

        run_case("linear", names, lambda: _core.linear_forward(x, w, bias, None, variant),
                 bad=bad is not None, check=check)
        return

    def check(res):
        extra = 1.0 if accumulate else 0.0
        for got, want, exp in zip(res, need, (G @ W + extra, G.T @ X + extra, G.sum(0) + extra)):
            if want or accumulate:
                assert_close(got, exp, 1e-4, 1e-4, "linear_backward")
            else:
                assert got is None

    run_case("linear", names, lambda: _core.linear_backward(
        g, x, w, *need, *given_grads, accumulate=accumulate, variant=variant),
        bad=bad is not None, check=check)


@fuzz_settings(20)
@given(n=st.integers(1, 6), which=st.sampled_from(["x", "weight"]))
def test_linear_out_overlapping_an_input_is_refused(n, which):
    x = np.ones((n, n), np.float32)
    w = np.ones((n, n), np.float32)
    out = x if which == "x" else w
    run_case("linear", ["out"], lambda: _core.linear_forward(x, w, None, out), bad=True)


# --------------------------------------------------------------------------------- activation

ACT = {
    "relu": (lambda x: np.maximum(x, 0), lambda g, y: g * (y > 0)),
    "sigmoid": (lambda x: 1 / (1 + np.exp(-x)), lambda g, y: g * y * (1 - y)),
    "tanh": (np.tanh, lambda g, y: g * (1 - y * y)),
}


@fuzz_settings(300)
@given(name=st.sampled_from(sorted(ACT)), shape=shapes(), backward=st.booleans(),
       isa=st.sampled_from(ISAS), variant=st.sampled_from([None, "ref"]),
       bad=st.sampled_from([None] * 5 + ["x", "dout", "shape", "out", "accumulate", "huge"]),
       data=st.data())
def test_activation(name, shape, backward, isa, variant, bad, data):
    _core._set_isa(isa)
    fwd, bwd = ACT[name]
    x = data.draw(floats(shape))
    y = np.asarray(fwd(x.astype(np.float64)), np.float32)
    g = data.draw(floats(shape))
    out = dinp = None
    accumulate = False
    if bad is None and data.draw(st.booleans()):
        if backward:
            dinp, accumulate = np.ones(shape, np.float32), data.draw(st.booleans())
        else:
            out = np.empty(shape, np.float32)
    if bad in ("x", "dout"):
        backward = bad == "dout"
        kind = data.draw(st.sampled_from(BAD_FLOAT_KINDS))
        x, g = (bad_float(kind, x), g) if bad == "x" else (x, bad_float(kind, g))
    elif bad == "shape":
        backward = True
        g = np.zeros(shape + (2,), np.float32)
    elif bad == "out":  # wrong shape, dtype or alignment
        bad_out = np.zeros(shape + (1,) if data.draw(st.booleans()) else (7,) + shape,
                           np.float64 if data.draw(st.booleans()) else np.float32)
        if data.draw(st.booleans()) and x.size:
            bad_out = misaligned(np.zeros(shape, np.float32))
        out, dinp = (None, bad_out) if backward else (bad_out, None)
    elif bad == "accumulate":
        backward, accumulate = True, True
    elif bad == "huge":  # a zero-stride view past memory: its copy must be refused
        x = huge(data.draw(huge_shape(data.draw(st.integers(1, 4)))))
        backward = False
    f = getattr(_core, f"{name}_{'backward' if backward else 'forward'}")
    names = ["x", "out", "dout", "dinp", "accumulate"]
    if backward:
        base = 0.0 if dinp is None else dinp.astype(np.float64)

        def check(got):
            exp = bwd(np.asarray(g, np.float64), y.astype(np.float64)) + (base if accumulate
                                                                           else 0.0)
            assert_close(got, exp, 1e-5, 1e-6, name)
        call = lambda: f(g, y, dinp, accumulate, variant)  # noqa: E731
    else:
        def check(got):
            assert_close(got, fwd(x.astype(np.float64)), 1e-5, 1e-6, name)
            if out is not None:
                assert got is out
        call = lambda: f(x, out, variant)  # noqa: E731
    run_case("activation", names, call, bad=bad is not None, check=check)


# ------------------------------------------------------------------------------------ softmax

def softmax64(X, dim):
    if X.size == 0:
        return X
    if X.ndim == 0:
        return np.ones_like(X)
    e = np.exp(X - X.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


@fuzz_settings(300)
@given(log=st.booleans(), shape=shapes(max_dims=3, max_side=9), backward=st.booleans(),
       isa=st.sampled_from(ISAS), variant=st.sampled_from([None, "ref"]),
       bad=st.sampled_from([None] * 5 + ["x", "dim", "dout", "dinp", "accumulate", "huge"]),
       data=st.data())
def test_softmax(log, shape, backward, isa, variant, bad, data):
    _core._set_isa(isa)
    n = max(len(shape), 1)
    dim = data.draw(st.integers(-n, n - 1))
    x = data.draw(floats(shape))
    X = x.astype(np.float64)
    sm = softmax64(X, dim)
    y = np.asarray(np.log(sm) if log else sm, np.float32)
    g = data.draw(floats(shape))
    dinp, accumulate = None, False
    if bad is None and backward and data.draw(st.booleans()):
        dinp, accumulate = np.ones(shape, np.float32), data.draw(st.booleans())
    if bad == "x":
        x, backward = bad_float(data.draw(st.sampled_from(BAD_FLOAT_KINDS)), x), False
    elif bad == "dim":
        dim = data.draw(st.integers(n, 2 ** 62) | st.integers(-2 ** 62, -n - 1)
                        | st.sampled_from([2 ** 63, -2 ** 70, 1.0, "0", None]))
    elif bad == "dout":
        backward = True
        g = (np.zeros(shape + (1,), np.float32) if data.draw(st.booleans()) else
             bad_float(data.draw(st.sampled_from(BAD_FLOAT_KINDS)), g))
    elif bad == "dinp":
        backward, dinp = True, np.zeros(shape + (2,), np.float32)
    elif bad == "accumulate":
        backward, accumulate = True, True
    elif bad == "huge":
        x, backward = huge(data.draw(huge_shape(data.draw(st.integers(1, 3))))), False
    name = ("log_softmax" if log else "softmax") + ("_backward" if backward else "_forward")
    f = getattr(_core, name)
    names = ["x", "dim", "out", "dout", "dinp", "accumulate"]
    if backward:
        base = 0.0 if dinp is None or not accumulate else dinp.astype(np.float64)

        def check(got):
            G, Y = (v.astype(np.float64).reshape(shape or (1,)) for v in (g, y))
            if log:
                exp = G - np.exp(Y) * G.sum(axis=dim, keepdims=True)
            else:
                exp = Y * (G - (G * Y).sum(axis=dim, keepdims=True))
            assert_close(got, exp.reshape(shape) + base, 1e-4, 1e-5, name)
        call = lambda: f(g, y, dim, dinp, accumulate, variant)  # noqa: E731
    else:
        def check(got):
            assert_close(got, np.log(sm) if log and X.size else sm, 1e-5, 1e-5, name)
        call = lambda: f(x, dim, None, variant)  # noqa: E731
    run_case("softmax", names, call, bad=bad is not None, check=check)


# ------------------------------------------------------------------------------------ dropout

@fuzz_settings(300)
@given(shape=shapes(max_side=9), p=st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]) | st.floats(0, 1),
       seed=st.integers(0, 2 ** 64 - 1), backward=st.booleans(),
       bad=st.sampled_from([None] * 5 + ["x", "p", "seed", "mask", "dout", "accumulate", "huge"]),
       data=st.data())
def test_dropout(shape, p, seed, backward, bad, data):
    x = data.draw(floats(shape))
    mask = (np.arange(x.size) % 3 != 0).reshape(shape).astype(
        data.draw(st.sampled_from([np.uint8, np.bool_])))
    dinp, accumulate = None, False
    if bad is None and backward and data.draw(st.booleans()):
        dinp, accumulate = np.ones(shape, np.float32), data.draw(st.booleans())
    if bad == "x":
        x = bad_float(data.draw(st.sampled_from(BAD_FLOAT_KINDS)), x)
    elif bad == "p":
        p = data.draw(st.sampled_from([-0.1, 1.5, float("nan"), float("inf"), -1e300]))
    elif bad == "seed":
        seed, backward = data.draw(st.sampled_from([-1, 2 ** 64, 0.5, "1"])), False
    elif bad == "mask":
        backward = True
        mask = data.draw(st.sampled_from([
            mask.astype(np.float32), mask.astype(np.int64), mask.tolist(),
            np.zeros(shape + (2,), np.uint8), None]))
    elif bad == "dout":
        backward = True
        x = bad_float(data.draw(st.sampled_from(BAD_FLOAT_KINDS)), x)
    elif bad == "accumulate":
        backward, accumulate = True, True
    elif bad == "huge":
        x = huge(data.draw(huge_shape(data.draw(st.integers(1, 4)))))
        mask = huge(x.shape, np.uint8, 1)
    names = ["x", "p", "seed", "mask", "dout", "dinp", "accumulate"]
    if backward:
        scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
        base = 0.0 if dinp is None or not accumulate else dinp.astype(np.float64)

        def check(got):
            exp = x.astype(np.float64) * mask * np.float32(scale) + base
            assert_close(got, exp, 1e-6, 1e-6, "dropout_backward")
        call = lambda: _core.dropout_backward(x, mask, p, dinp, accumulate)  # noqa: E731
    else:
        def check(res):
            out, m = res
            ref_out, ref_m = _core.dropout_forward(x, p, seed, variant="ref")
            assert np.array_equal(m, ref_m) and np.array_equal(out, ref_out)
            assert m.shape == x.shape and m.dtype == np.uint8 and set(np.unique(m)) <= {0, 1}
            kept = m.astype(bool)
            scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
            assert_close(out[kept], x[kept] * np.float32(scale), 1e-6, 0, "dropout")
            assert np.all(out[~kept] == 0)
        call = lambda: _core.dropout_forward(x, p, seed)  # noqa: E731
    run_case("dropout", names, call, bad=bad is not None, check=check)


# ------------------------------------------------------------------------------------ runtime

@fuzz_settings(250)
@given(what=st.sampled_from(["threads", "bad_threads", "isa", "bad_isa", "info"]),
       n=st.integers(1, 64), bad_n=st.integers(-2 ** 40, 0) | st.integers(2 ** 31, 2 ** 70)
       | st.sampled_from([1.5, "2", None, [2]]),
       isa=st.sampled_from(ISAS),
       bad_isa=st.sampled_from(["", "AVX2", "sse", "avx512 ", "ref", "reference"]) | st.text(),
       m=st.integers(0, 40))
def test_runtime(what, n, bad_n, isa, bad_isa, m):
    if what == "threads":
        def call():
            tn.set_num_threads(n)
            got = tn.get_num_threads()
            a = np.ones((m, m), np.float32)
            return got, _core.gemm(a, a)

        def check(res):
            got, c = res
            assert got == n and np.all(c == m)
        run_case("runtime", ["n"], call, bad=False, check=check)
    elif what == "bad_threads":
        before = _core.get_num_threads()
        run_case("runtime", ["n"], lambda: _core.set_num_threads(bad_n), bad=True)
        assert _core.get_num_threads() == before
    elif what == "isa":
        def call():
            _core._set_isa(isa)
            return _core.active_isa(), _core.build_info()
        def check(res):
            assert res[0] == isa
            assert res[1]["gemm_kernel"] == _core._gemm_kernel_info(isa)["name"]
        run_case("runtime", ["isa"], call, bad=False, check=check)
    elif what == "bad_isa":
        before = _core.active_isa()
        bad = bad_isa not in ISAS
        run_case("runtime", ["isa", "name"], lambda: _core._set_isa(bad_isa), bad=bad)
        assert _core.active_isa() == (before if bad else bad_isa)
    else:
        def check(res):
            info, isas, active = res
            assert active in isas and "generic" in isas
            assert {"version", "compiler", "openmp", "gemm_kernel"} <= set(info)
        run_case("runtime", [], lambda: (_core.build_info(), _core.supported_isas(),
                                         _core.active_isa()), bad=False, check=check)

