"""Hypothesis property tests of GEMM: random shapes (zero-size included), transposes, strided
and reversed views, alpha/beta/out, on every variant against NumPy float64; big-endian rejected."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import turbonn as tn
from conftest import assert_gemm_close
from turbonn import _core

VARIANTS = ["ref"] + list(_core.supported_isas())
ELEMENTS = st.floats(-4, 4, width=32, allow_nan=False, allow_infinity=False)
SCALARS = st.one_of(st.sampled_from([0.0, 1.0, -0.75, 2.5]),
                    st.floats(-3, 3, width=32, allow_nan=False))
SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def operand(draw, rows, cols, trans):
    """A float32 array x with op(x) of shape (rows, cols): contiguous, or a strided/reversed view
    of a larger array (non-contiguous, possibly negative strides)."""
    shape = (cols, rows) if trans else (rows, cols)
    steps = draw(st.tuples(st.sampled_from([1, 2, 3, -1, -2]), st.sampled_from([1, 2, -1, -3])))
    big = draw(hnp.arrays(np.float32, (shape[0] * abs(steps[0]), shape[1] * abs(steps[1])),
                          elements=ELEMENTS))
    return big[::steps[0], ::steps[1]]


@st.composite
def gemm_case(draw):
    M, K = draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=40))
    N = draw(st.integers(0, 40))
    ta, tb = draw(st.booleans()), draw(st.booleans())
    a = draw(operand(M, K, ta))
    b = draw(operand(K, N, tb))
    alpha = draw(SCALARS)
    beta = draw(SCALARS)
    use_out = beta != 0.0 or draw(st.booleans())
    c0 = draw(hnp.arrays(np.float32, (M, N), elements=ELEMENTS)) if use_out else None
    variant = draw(st.sampled_from(VARIANTS))
    return a, b, ta, tb, alpha, beta, c0, variant


@SETTINGS
@given(gemm_case())
def test_gemm_matches_float64(case):
    a, b, ta, tb, alpha, beta, c0, variant = case
    out = None if c0 is None else c0.copy()
    a_before, b_before = a.copy(), b.copy()
    got = _core.gemm(a, b, ta, tb, alpha, beta, out, variant)
    M = a.shape[1] if ta else a.shape[0]
    N = b.shape[0] if tb else b.shape[1]
    assert got.shape == (M, N) and got.dtype == np.float32 and got.flags.c_contiguous
    if out is not None:
        assert got is out
    assert_gemm_close(got, a, b, trans_a=ta, trans_b=tb, alpha=alpha, beta=beta, out=c0,
                      what=f"{variant} {M}x{N} ta={ta} tb={tb} alpha={alpha} beta={beta}")
    np.testing.assert_array_equal(a, a_before)
    np.testing.assert_array_equal(b, b_before)


@SETTINGS
@given(gemm_case())
def test_public_gemm_equals_active_variant(case):
    a, b, ta, tb, alpha, beta, c0, _ = case
    out1 = None if c0 is None else c0.copy()
    out2 = None if c0 is None else c0.copy()
    r1 = tn.ops.gemm(a, b, trans_a=ta, trans_b=tb, alpha=alpha, beta=beta, out=out1)
    r2 = _core.gemm(a, b, ta, tb, alpha, beta, out2, _core.active_isa())
    np.testing.assert_array_equal(r1, r2)


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(">f4", hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=8),
                  elements=ELEMENTS),
       st.sampled_from(["a", "b"]))
def test_big_endian_rejected(x, which):
    other = np.zeros((x.shape[1], 3), np.float32) if which == "a" else \
        np.zeros((3, x.shape[0]), np.float32)
    args = (x, other) if which == "a" else (other, x)
    with pytest.raises(TypeError, match=rf"^{which} must be native-endian"):
        tn.ops.gemm(*args)
    # the same values in native order are accepted
    native = x.astype(np.float32)
    args = (native, other) if which == "a" else (other, native)
    assert_gemm_close(tn.ops.gemm(*args), *args)
