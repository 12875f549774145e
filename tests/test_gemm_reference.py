"""The plain-loop reference GEMM (variant='ref', the oracle of the fast kernels) against NumPy
float64 on small awkward shapes, every transpose, alpha/beta, out= and strided views."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from conftest import assert_gemm_close, randn, stored_shape
from turbonn import _core

SMALL = (0, 1, 2, 3, 5, 9, 13)
TRANS = list(itertools.product([False, True], repeat=2))


def ref_gemm(a, b, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, out=None):
    return _core.gemm(a, b, trans_a, trans_b, alpha, beta, out, "ref")


@pytest.mark.parametrize("trans_a,trans_b", TRANS)
@pytest.mark.parametrize("M", SMALL)
def test_reference_matches_float64_on_small_shapes(rng, M, trans_a, trans_b):
    for N, K in itertools.product(SMALL, SMALL):
        a = randn(rng, stored_shape(M, K, trans_a))
        b = randn(rng, stored_shape(K, N, trans_b))
        got = ref_gemm(a, b, trans_a, trans_b)
        assert got.shape == (M, N) and got.flags.c_contiguous
        assert_gemm_close(got, a, b, trans_a=trans_a, trans_b=trans_b,
                          what=f"ref M={M} N={N} K={K} ta={trans_a} tb={trans_b}")


@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (0.0, 0.0), (-0.75, 0.0), (1.0, 1.0),
                                        (2.5, -0.75), (0.0, 2.5), (-1.0, 1.0)])
@pytest.mark.parametrize("M,N,K", [(1, 1, 1), (3, 5, 9), (13, 2, 7), (5, 13, 0), (9, 9, 31)])
def test_reference_alpha_beta_out(rng, M, N, K, alpha, beta):
    a, b = randn(rng, (M, K)), randn(rng, (K, N))
    c0 = randn(rng, (M, N))
    out = c0.copy()
    got = ref_gemm(a, b, alpha=alpha, beta=beta, out=out)
    assert got is out
    assert_gemm_close(out, a, b, alpha=alpha, beta=beta, out=c0, what=f"alpha={alpha} beta={beta}")


def test_reference_exact_on_small_integers(rng):
    # Small integers: every product and partial sum is exact in float32, so equality is exact.
    a = rng.integers(-8, 9, size=(7, 11)).astype(np.float32)
    b = rng.integers(-8, 9, size=(11, 5)).astype(np.float32)
    np.testing.assert_array_equal(ref_gemm(a, b), (a.astype(np.float64) @ b).astype(np.float32))


def test_reference_strided_views(rng):
    base_a = randn(rng, (20, 30))
    base_b = randn(rng, (40, 12))
    a = base_a[1:14:2, ::-3]          # (7, 10), negative column stride
    b = base_b[::-4, 2:9]             # (10, 7)
    assert_gemm_close(ref_gemm(a, b), a, b, what="strided")
    assert_gemm_close(ref_gemm(b, a, True, True), b, a, trans_a=True, trans_b=True,
                      what="strided transposed")
    row = np.broadcast_to(randn(rng, (1, 10)), (7, 10))   # zero row stride
    assert_gemm_close(ref_gemm(row, b), row, b, what="broadcast")
