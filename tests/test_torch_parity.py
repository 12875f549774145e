"""tn.ops.gemm against PyTorch (torch.mm / torch.addmm in float64) for a few shapes, every
transpose and alpha/beta; skipped when torch is not installed (an optional test dependency)."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import turbonn as tn
from conftest import RTOL, assert_within, randn, stored_shape

torch = pytest.importorskip("torch")

SHAPES = [(1, 1, 1), (13, 33, 9), (12, 32, 385), (37, 481, 31), (129, 65, 1000)]
TRANS = list(itertools.product([False, True], repeat=2))


def t64(x: np.ndarray, trans: bool):
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
    return t.T if trans else t


def tolerance(A, B, alpha, beta, C):
    scale = abs(alpha) * (A.abs() @ B.abs())
    if beta:
        scale = scale + abs(beta) * C.abs()
    K = A.shape[1]
    return RTOL * max(1.0, math.sqrt(K) / 8) * scale.numpy() + 1e-30


@pytest.mark.parametrize("trans_a,trans_b", TRANS, ids=["NN", "NT", "TN", "TT"])
@pytest.mark.parametrize("M,N,K", SHAPES)
def test_matches_torch_mm(rng, M, N, K, trans_a, trans_b):
    a = randn(rng, stored_shape(M, K, trans_a))
    b = randn(rng, stored_shape(K, N, trans_b))
    A, B = t64(a, trans_a), t64(b, trans_b)
    expected = torch.mm(A, B)
    got = tn.ops.gemm(a, b, trans_a=trans_a, trans_b=trans_b)
    assert_within(got, expected.numpy(), tolerance(A, B, 1.0, 0.0, None),
                  f"torch.mm {M}x{N}x{K} ta={trans_a} tb={trans_b}")


@pytest.mark.parametrize("alpha,beta", [(1.0, 1.0), (-0.75, 2.5), (2.5, 0.0), (0.0, -0.75)])
@pytest.mark.parametrize("M,N,K", SHAPES)
def test_matches_torch_addmm(rng, M, N, K, alpha, beta):
    for trans_a, trans_b in TRANS:
        a = randn(rng, stored_shape(M, K, trans_a))
        b = randn(rng, stored_shape(K, N, trans_b))
        c0 = randn(rng, (M, N))
        A, B, C = t64(a, trans_a), t64(b, trans_b), t64(c0, False)
        expected = torch.addmm(C, A, B, beta=beta, alpha=alpha)
        out = c0.copy()
        got = tn.ops.gemm(a, b, trans_a=trans_a, trans_b=trans_b, alpha=alpha, beta=beta, out=out)
        assert got is out
        assert_within(got, expected.numpy(), tolerance(A, B, alpha, beta, C),
                      f"torch.addmm {M}x{N}x{K} ta={trans_a} tb={trans_b} a={alpha} b={beta}")


def test_matches_torch_float32_closely(rng):
    # Same float32 inputs through torch's own float32 SGEMM: both within float32 rounding.
    a, b = randn(rng, (200, 300)), randn(rng, (300, 150))
    ours = tn.ops.gemm(a, b)
    theirs = torch.mm(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    A, B = t64(a, False), t64(b, False)
    assert_within(ours, theirs.astype(np.float64), 2 * tolerance(A, B, 1.0, 0.0, None),
                  "vs torch float32")


def test_zero_inner_dimension_like_torch(rng):
    a, b = np.empty((4, 0), np.float32), np.empty((0, 6), np.float32)
    c0 = randn(rng, (4, 6))
    expected = torch.addmm(t64(c0, False), t64(a, False), t64(b, False), beta=0.5, alpha=2.0)
    out = c0.copy()
    tn.ops.gemm(a, b, alpha=2.0, beta=0.5, out=out)
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-7, atol=0)
    np.testing.assert_array_equal(tn.ops.gemm(a, b), torch.mm(t64(a, False), t64(b, False)).numpy())
