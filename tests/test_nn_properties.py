"""Hypothesis property tests of the dense-layer, softmax, cross-entropy and dropout kernels:
random shapes (zero-size included), strided and reversed views, every variant against float64
NumPy; big-endian and wrong dtypes rejected with TypeError."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from turbonn import _core

VARIANTS = [None, "ref"]
ELEMENTS = st.floats(-4, 4, width=32, allow_nan=False, allow_infinity=False)
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def strided(draw, shape):
    """A float32 array of ``shape``: contiguous, or a strided / reversed view of a larger one."""
    steps = draw(st.tuples(*[st.sampled_from([1, 2, -1, -2]) for _ in shape]))
    big = draw(hnp.arrays(np.float32, tuple(n * abs(s) for n, s in zip(shape, steps)),
                          elements=ELEMENTS))
    return big[tuple(slice(None, None, s) for s in steps)]


@st.composite
def linear_case(draw):
    M, N, K = (draw(st.integers(0, 24)) for _ in range(3))
    return draw(strided((M, K))), draw(strided((N, K))), draw(strided((M, N))), \
        draw(st.booleans())


@pytest.mark.parametrize("variant", VARIANTS)
@SETTINGS
@given(case=linear_case())
def test_linear_matches_float64(variant, case):
    x, w, g, with_bias = case
    X, W, G = (a.astype(np.float64) for a in (x, w, g))
    b = np.linspace(-1, 1, w.shape[0]).astype(np.float32) if with_bias else None
    out = _core.linear_forward(x, w, b, None, variant)
    exp = X @ W.T + (0 if b is None else b)
    tol = 1e-5 * (np.abs(X) @ np.abs(W).T + 1)
    assert out.shape == exp.shape and np.all(np.abs(out - exp) <= tol)
    dx, dw, db = _core.linear_backward(g, x, w, variant=variant)
    assert np.allclose(dx, G @ W, rtol=1e-5, atol=1e-4)
    assert np.allclose(dw, G.T @ X, rtol=1e-5, atol=1e-4)
    assert np.allclose(db, G.sum(0), rtol=1e-5, atol=1e-4)


@st.composite
def softmax_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=9))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return draw(strided(shape)), dim


@pytest.mark.parametrize("variant", VARIANTS)
@SETTINGS
@given(case=softmax_case())
def test_softmax_and_log_softmax_match_float64(variant, case):
    x, dim = case
    X = x.astype(np.float64)
    if X.size:
        e = np.exp(X - X.max(axis=dim, keepdims=True))
        sm = e / e.sum(axis=dim, keepdims=True)
    else:
        sm = X
    got = _core.softmax_forward(x, dim, None, variant)
    assert got.shape == x.shape and np.allclose(got, sm, rtol=1e-5, atol=1e-6)
    lsm = _core.log_softmax_forward(x, dim, None, variant)
    assert np.allclose(lsm, np.log(sm) if X.size else X, rtol=1e-5, atol=1e-5)


@st.composite
def ce_case(draw):
    N, C = draw(st.integers(0, 12)), draw(st.integers(1, 40))
    x = draw(strided((N, C)))
    t = draw(hnp.arrays(np.int64, (N,), elements=st.integers(0, C - 1)))
    smoothing = draw(st.sampled_from([0.0, 0.1]))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    return x, t, smoothing, reduction


@pytest.mark.parametrize("variant", VARIANTS)
@SETTINGS
@given(case=ce_case())
def test_cross_entropy_matches_float64(variant, case):
    x, t, eps, reduction = case
    N, C = x.shape
    X = x.astype(np.float64)
    lse = np.log(np.exp(X - X.max(1, keepdims=True)).sum(1)) + X.max(1) if N else np.zeros(0)
    logp = X - lse[:, None]
    per = -(1 - eps) * logp[np.arange(N), t] - eps / C * logp.sum(1)
    exp = {"none": per, "sum": per.sum(), "mean": per.mean() if N else np.nan}[reduction]
    loss = _core.cross_entropy_forward(np.ascontiguousarray(x), t, None, -100, eps, reduction,
                                       False, variant)[0]
    assert np.allclose(loss, exp, rtol=1e-5, atol=1e-5, equal_nan=True)


@SETTINGS
@given(n=st.integers(0, 3000), p=st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]),
       seed=st.integers(0, 2 ** 63 - 1))
def test_dropout_keeps_or_zeroes_each_element_and_matches_reference(n, p, seed):
    x = np.linspace(-2, 2, n).astype(np.float32)
    out, mask = _core.dropout_forward(x, p, seed)
    ref_out, ref_mask = _core.dropout_forward(x, p, seed, variant="ref")
    assert np.array_equal(mask, ref_mask) and np.array_equal(out, ref_out)
    kept = mask.astype(bool)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    assert np.allclose(out[kept], x[kept] * np.float32(scale), rtol=1e-6)
    assert np.all(out[~kept] == 0)
    if p == 0.0:
        assert kept.all()
    if p == 1.0:
        assert not kept.any()


@pytest.mark.parametrize("call", [
    lambda a: _core.linear_forward(a, np.zeros((2, 3), np.float32)),
    lambda a: _core.softmax_forward(a, 0),
    lambda a: _core.dropout_forward(a, 0.5, 1),
    lambda a: _core.cross_entropy_forward(a, np.zeros(3, np.int64)),
])
@pytest.mark.parametrize("dtype", [">f4", np.float64, np.int32, np.float16])
def test_wrong_or_big_endian_dtypes_raise_type_error(call, dtype):
    with pytest.raises(TypeError):
        call(np.zeros((3, 3), dtype))
