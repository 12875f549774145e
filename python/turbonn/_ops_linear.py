"""Dense-layer kernels on NumPy float32 arrays: ``linear_forward`` / ``linear_backward``.

torch's layout: ``weight`` is (out_features, in_features). ``x``, ``weight`` and ``dout`` may have
any strides (read in place by the SGEMM); gradients are new C-contiguous arrays, or are written
(``accumulate=False``) or added (``accumulate=True``) into the arrays passed as ``dinp`` /
``dweight`` / ``dbias``.
"""
from __future__ import annotations

import numpy as np

from . import _core

__all__ = ["linear_forward", "linear_backward"]


def linear_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None,
                   out: np.ndarray | None = None) -> np.ndarray:
    """``x @ weight.T + bias`` for 2-D ``x`` (M, K), ``weight`` (N, K), ``bias`` (N,) or None."""
    return _core.linear_forward(x, weight, bias, out)


def linear_backward(dout: np.ndarray, x: np.ndarray, weight: np.ndarray, *,
                    need_dinp: bool = True, need_dweight: bool = True, need_dbias: bool = True,
                    dinp: np.ndarray | None = None, dweight: np.ndarray | None = None,
                    dbias: np.ndarray | None = None, accumulate: bool = False):
    """``(dout @ weight, dout.T @ x, dout.sum(0))``; a gradient not needed comes back as None."""
    return _core.linear_backward(dout, x, weight, bool(need_dinp), bool(need_dweight),
                                 bool(need_dbias), dinp, dweight, dbias, bool(accumulate))
