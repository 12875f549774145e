"""GEMM cases, float32: C (M, N) = op(A) @ op(B), with K the inner dimension.

Every library writes into a preallocated output (``out=``) so nobody pays for allocation.
"""
from __future__ import annotations

import numpy as np

from . import Case


def _inputs(seed, m, n, k, trans_a, trans_b):
    """A is stored (K, M) when trans_a, else (M, K); B is stored (N, K) when trans_b, else (K, N)."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if trans_a else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n), dtype=np.float32)
    return a, b


def gemm_case(m, n, k, trans_a=False, trans_b=False, quick=False, note=""):
    kind = ("t" if trans_a else "n") + ("t" if trans_b else "n")
    name = f"gemm_{m}x{n}x{k}" if kind == "nn" else f"gemm_{kind}_{m}x{n}x{k}"
    case = Case(name=name, setup={}, flops=2.0 * m * n * k, quick=quick,
                note=note or f"C({m},{n}) = {'A.T' if trans_a else 'A'} @ {'B.T' if trans_b else 'B'}")

    def setup_numpy():
        a, b = _inputs(case.seed(), m, n, k, trans_a, trans_b)
        c = np.empty((m, n), dtype=np.float32)
        a_op = a.T if trans_a else a            # a view: matmul passes the transpose to BLAS
        b_op = b.T if trans_b else b
        return lambda: np.matmul(a_op, b_op, out=c)

    def setup_torch():
        import torch
        a, b = (torch.from_numpy(x) for x in _inputs(case.seed(), m, n, k, trans_a, trans_b))
        c = torch.empty((m, n), dtype=torch.float32)
        a_op = a.t() if trans_a else a
        b_op = b.t() if trans_b else b
        return lambda: torch.mm(a_op, b_op, out=c)

    def setup_turbonn():
        import turbonn as tn
        a, b = _inputs(case.seed(), m, n, k, trans_a, trans_b)
        c = np.empty((m, n), dtype=np.float32)
        return lambda: tn.ops.gemm(a, b, trans_a=trans_a, trans_b=trans_b, out=c)

    case.setup = {"turbonn": setup_turbonn, "numpy": setup_numpy, "torch": setup_torch}
    return case


CASES = [
    gemm_case(512, 512, 512, quick=True),
    gemm_case(1024, 1024, 1024, quick=True),
    gemm_case(2048, 2048, 2048),
    gemm_case(64, 128, 784, quick=True, note="MNIST-sized dense layer: batch 64, 784 -> 128"),
    gemm_case(256, 1024, 1024, note="dense layer batch 256, 1024 -> 1024; also its dX = dY @ W"),
    gemm_case(8, 4096, 1024, quick=True, note="small batch, wide layer: batch 8, 1024 -> 4096"),
    # The dense layer (batch 256, 1024 -> 1024, torch layout W (out, in)) as the other two GEMMs:
    gemm_case(256, 1024, 1024, trans_b=True, quick=True, note="dense forward Y = X @ W.T"),
    gemm_case(1024, 1024, 256, trans_a=True, quick=True, note="dense backward dW = dY.T @ X"),
]
