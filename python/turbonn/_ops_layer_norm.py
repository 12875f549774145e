"""Layer-norm kernels on NumPy arrays (torch's ``F.layer_norm``): the last ``normalized_ndim``
dimensions of a float32 array are normalised together, one row per position of the leading
dimensions. The forward saves ``mean`` and ``rstd`` (1 / sqrt(biased variance + eps)) for the
backward, as torch's ``native_layer_norm`` does.
"""
from __future__ import annotations

import numpy as np

from . import _core

__all__ = ["layer_norm_forward", "layer_norm_backward"]


def layer_norm_forward(input: np.ndarray, normalized_ndim: int, weight: np.ndarray | None = None,
                       bias: np.ndarray | None = None, eps: float = 1e-5):
    """``(out, mean, rstd)``: ``out`` of ``input``'s shape, ``(x - mean) * rstd * weight +
    bias`` per row; ``mean`` and ``rstd`` of shape ``input.shape[:-normalized_ndim]``.
    ``weight`` and ``bias`` have shape ``input.shape[-normalized_ndim:]`` or are None."""
    return _core.layer_norm_forward(input, normalized_ndim, weight, bias, float(eps))


def layer_norm_backward(dout: np.ndarray, input: np.ndarray, mean: np.ndarray, rstd: np.ndarray,
                        normalized_ndim: int, weight: np.ndarray | None = None,
                        need_dinput: bool = True, need_dweight: bool = True,
                        need_dbias: bool = True):
    """``(dinput, dweight, dbias)``, each a new array or None when not asked for. ``dweight``
    (sum over rows of ``dout * xhat``) is computed on request even when ``weight`` is None;
    ``dbias`` is the row sum of ``dout``. Both are the same bits for any thread count."""
    return _core.layer_norm_backward(dout, input, mean, rstd, normalized_ndim, weight,
                                     bool(need_dinput), bool(need_dweight), bool(need_dbias))
