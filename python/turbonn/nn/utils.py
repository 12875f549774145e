"""Gradient utilities (``turbonn.nn.utils``): ``clip_grad_norm_`` and ``clip_grad_value_``,
scaling or clamping each parameter's ``.grad`` in place as torch does."""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"parameters must be Tensors (or one Tensor), got an element of type "
                            f"{type(p).__name__}")
    return [p.grad for p in parameters if p.grad is not None]


def _real(value, name: str, fn: str, minimum: float | None = 0.0) -> float:
    """``value`` as a float: a TypeError for a non-number, a ValueError below ``minimum`` or NaN
    (a negative bound would flip the gradients' signs instead of clipping them)."""
    if isinstance(value, (bool, str, bytes)) or not isinstance(value, (numbers.Real, Tensor)):
        raise TypeError(f"{fn}: {name} must be a float, got {type(value).__name__}")
    value = float(value)
    if minimum is not None and not value >= minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value}")
    return value


# Elements per float64 chunk: the sums never materialise a float64 copy of a whole gradient
# (5M parameters cost 40 MB of copies and ~60 ms), and never call BLAS (np.dot wakes NumPy's
# OpenBLAS threads, which then spin against turbonn's for the 2 cores: the next LSTM step ran
# ~10x slower).
_CHUNK = 1 << 16


def _chunked_sum(a: np.ndarray, f) -> float:
    """sum(f(chunk as float64)) over chunks of the flattened float array a."""
    total = 0.0
    for i in range(0, a.size, _CHUNK):
        total += float(np.sum(f(a[i:i + _CHUNK].astype(np.float64))))
    return total


def _vector_norm(x: np.ndarray, ord: float) -> float:
    """torch.linalg.vector_norm of a flattened float array, accumulated in float64."""
    a = np.asarray(x).ravel()
    if ord == math.inf:
        return float(np.abs(a).max()) if a.size else 0.0
    if ord == -math.inf:
        return float(np.abs(a).min()) if a.size else math.inf
    if ord == 0:
        return float(np.count_nonzero(a))
    if a.size == 0:
        return 0.0
    if ord == 1:
        return _chunked_sum(a, np.abs)
    if ord == 2:
        return math.sqrt(_chunked_sum(a, np.square))
    return _chunked_sum(a, lambda c: np.abs(c) ** ord) ** (1.0 / ord)


def _scale_in_place(g: Tensor, coef: np.float32) -> None:
    if g.data.flags.writeable:
        np.multiply(g.data, coef, out=g.data)
    else:
        g.data = (g.data * coef).astype(np.float32)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale all gradients together so their total ``norm_type``-norm is at most ``max_norm``.

    The total norm is the norm of the per-parameter norms; gradients are multiplied by
    ``min(max_norm / (total_norm + 1e-6), 1)``. Returns the total norm (a 0-d float32 Tensor).
    """
    grads = _grads(parameters)
    max_norm = _real(max_norm, "max_norm", "clip_grad_norm_")
    if isinstance(norm_type, str):  # torch takes 'inf' (anything float() reads)
        try:
            norm_type = float(norm_type)
        except ValueError:
            raise ValueError(f"clip_grad_norm_: norm_type must be a float or 'inf', got "
                             f"{norm_type!r}") from None
    norm_type = _real(norm_type, "norm_type", "clip_grad_norm_", None)
    if math.isnan(norm_type):
        raise ValueError(f"clip_grad_norm_: norm_type must be a number, got {norm_type}")
    if not grads:
        return Tensor(np.asarray(0.0, np.float32))
    total = _vector_norm(np.array([_vector_norm(g.data, norm_type) for g in grads]), norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` "
                           f"is non-finite, so it cannot be clipped. To disable this error and "
                           f"scale the gradients by the non-finite norm anyway, set "
                           f"`error_if_nonfinite=False`")
    with np.errstate(all="ignore"):
        coef = np.float32(max_norm) / (np.float32(total) + np.float32(1e-6))
    coef = np.minimum(coef, np.float32(1.0))  # NaN stays NaN (NaN in, NaN out, as torch)
    with no_grad():
        for g in grads:
            _scale_in_place(g, coef)
    return Tensor(np.asarray(total, np.float32))


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient elementwise into ``[-clip_value, clip_value]``, in place."""
    clip_value = _real(clip_value, "clip_value", "clip_grad_value_")
    with no_grad():
        for g in _grads(parameters):
            if g.data.flags.writeable:
                np.clip(g.data, -clip_value, clip_value, out=g.data)
            else:
                g.data = np.clip(g.data, -clip_value, clip_value).astype(np.float32)
