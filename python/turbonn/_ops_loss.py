"""Softmax, loss and dropout kernels on NumPy float32 arrays: ``<op>_forward`` / ``<op>_backward``.

Forwards return what their backward needs (the log-sum-exp of each row, the total weight of a
mean, the dropout mask); backwards return new arrays, or with ``accumulate=True`` add ``dinput``
into the array passed as ``dinp``. ``reduction`` is ``'none'``, ``'mean'`` or ``'sum'`` as in
torch; a reduced loss is a 0-d array. Errors name the argument and the expected shape.
"""
from __future__ import annotations

import numpy as np

from . import _core

__all__ = [
    "softmax_forward", "softmax_backward", "log_softmax_forward", "log_softmax_backward",
    "cross_entropy_forward", "cross_entropy_backward", "nll_loss_forward", "nll_loss_backward",
    "binary_cross_entropy_forward", "binary_cross_entropy_backward",
    "binary_cross_entropy_with_logits_forward", "binary_cross_entropy_with_logits_backward",
    "mse_loss_forward", "mse_loss_backward", "dropout_forward", "dropout_backward",
]


def softmax_forward(x: np.ndarray, dim: int = -1, out: np.ndarray | None = None) -> np.ndarray:
    """``exp(x) / sum(exp(x))`` along ``dim``, max-subtracted; ``out`` may be ``x`` itself."""
    return _core.softmax_forward(x, dim, out)


def softmax_backward(dout: np.ndarray, out: np.ndarray, dim: int = -1,
                     dinp: np.ndarray | None = None, accumulate: bool = False) -> np.ndarray:
    """``y * (dout - sum(dout * y))`` along ``dim``, ``y`` being the forward's output."""
    return _core.softmax_backward(dout, out, dim, dinp, bool(accumulate))


def log_softmax_forward(x: np.ndarray, dim: int = -1,
                        out: np.ndarray | None = None) -> np.ndarray:
    """``x - logsumexp(x)`` along ``dim``, max-subtracted; ``out`` may be ``x`` itself."""
    return _core.log_softmax_forward(x, dim, out)


def log_softmax_backward(dout: np.ndarray, out: np.ndarray, dim: int = -1,
                         dinp: np.ndarray | None = None, accumulate: bool = False) -> np.ndarray:
    """``dout - exp(y) * sum(dout)`` along ``dim``, ``y`` being the forward's output."""
    return _core.log_softmax_backward(dout, out, dim, dinp, bool(accumulate))


def cross_entropy_forward(input: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                          ignore_index: int = -100, label_smoothing: float = 0.0,
                          reduction: str = "mean", need_dinput: bool = False):
    """``(loss, lse, total_weight, dinput)`` of torch's ``F.cross_entropy`` from logits.

    ``input`` is (C,), (N, C) or (N, C, d1, ...); ``target`` int64 class indices of the input's
    shape without the class dim, or float32 class probabilities of the input's shape. ``lse``
    (one per target position) and ``total_weight`` (the mean's divisor) feed the backward. A
    class index outside ``[0, C)`` that is not ``ignore_index`` raises IndexError. With
    ``need_dinput`` and class indices, ``dinput`` is the gradient for ``dloss = 1`` computed in
    the same pass (what ``loss.backward()`` needs); otherwise it is None.
    """
    return _core.cross_entropy_forward(input, target, weight, int(ignore_index),
                                       float(label_smoothing), reduction, bool(need_dinput))


def cross_entropy_backward(dloss: np.ndarray, input: np.ndarray, target: np.ndarray,
                           lse: np.ndarray, total_weight: float, weight: np.ndarray | None = None,
                           ignore_index: int = -100, label_smoothing: float = 0.0,
                           reduction: str = "mean", need_dtarget: bool = False,
                           dinp: np.ndarray | None = None, accumulate: bool = False):
    """``(dinput, dtarget)``: ``dinput = s * (softmax - smoothed one-hot)`` in one pass;
    ``dtarget`` only for probability targets with ``need_dtarget``, else None."""
    return _core.cross_entropy_backward(dloss, input, target, lse, float(total_weight), weight,
                                        int(ignore_index), float(label_smoothing), reduction,
                                        bool(need_dtarget), dinp, bool(accumulate))


def nll_loss_forward(input: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                     ignore_index: int = -100, reduction: str = "mean"):
    """``(loss, total_weight)`` of torch's ``F.nll_loss`` on log-probabilities."""
    return _core.nll_loss_forward(input, target, weight, int(ignore_index), reduction)


def nll_loss_backward(dloss: np.ndarray, input: np.ndarray, target: np.ndarray,
                      total_weight: float, weight: np.ndarray | None = None,
                      ignore_index: int = -100, reduction: str = "mean",
                      dinp: np.ndarray | None = None, accumulate: bool = False) -> np.ndarray:
    """``dinput``: ``-s * weight[target]`` at each target, 0 elsewhere (input gives the shape)."""
    return _core.nll_loss_backward(dloss, input, target, float(total_weight), weight,
                                   int(ignore_index), reduction, dinp, bool(accumulate))


def binary_cross_entropy_forward(input: np.ndarray, target: np.ndarray,
                                 weight: np.ndarray | None = None,
                                 reduction: str = "mean") -> np.ndarray:
    """Binary cross entropy of probabilities (ValueError outside [0, 1]); logs clamped at -100.
    ``weight`` has the input's shape (broadcast it first)."""
    return _core.binary_cross_entropy_forward(input, target, weight, reduction)


def binary_cross_entropy_backward(dloss: np.ndarray, input: np.ndarray, target: np.ndarray,
                                  weight: np.ndarray | None = None, reduction: str = "mean",
                                  need_dtarget: bool = False, dinp: np.ndarray | None = None,
                                  accumulate: bool = False):
    """``(dinput, dtarget or None)`` with torch's 1e-12 guard on ``x (1 - x)``."""
    return _core.binary_cross_entropy_backward(dloss, input, target, weight, reduction,
                                               bool(need_dtarget), dinp, bool(accumulate))


def binary_cross_entropy_with_logits_forward(input: np.ndarray, target: np.ndarray,
                                             weight: np.ndarray | None = None,
                                             pos_weight: np.ndarray | None = None,
                                             reduction: str = "mean") -> np.ndarray:
    """Binary cross entropy of logits, stable for any input; ``weight`` and ``pos_weight`` have
    the input's shape (broadcast them first)."""
    return _core.binary_cross_entropy_with_logits_forward(input, target, weight, pos_weight,
                                                          reduction)


def binary_cross_entropy_with_logits_backward(dloss: np.ndarray, input: np.ndarray,
                                              target: np.ndarray,
                                              weight: np.ndarray | None = None,
                                              pos_weight: np.ndarray | None = None,
                                              reduction: str = "mean",
                                              need_dtarget: bool = False,
                                              dinp: np.ndarray | None = None,
                                              accumulate: bool = False):
    """``(dinput, dtarget or None)``."""
    return _core.binary_cross_entropy_with_logits_backward(
        dloss, input, target, weight, pos_weight, reduction, bool(need_dtarget), dinp,
        bool(accumulate))


def mse_loss_forward(input: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                     reduction: str = "mean"):
    """``(loss, total_weight)``: ``weight * (input - target) ** 2``; a mean divides by
    ``total_weight = sum(weight)`` (the element count without weight)."""
    return _core.mse_loss_forward(input, target, weight, reduction)


def mse_loss_backward(dloss: np.ndarray, input: np.ndarray, target: np.ndarray,
                      total_weight: float, weight: np.ndarray | None = None,
                      reduction: str = "mean", need_dtarget: bool = False,
                      dinp: np.ndarray | None = None, accumulate: bool = False):
    """``(dinput, dtarget or None)``, ``dtarget = -dinput``."""
    return _core.mse_loss_backward(dloss, input, target, float(total_weight), weight, reduction,
                                   bool(need_dtarget), dinp, bool(accumulate))


def dropout_forward(x: np.ndarray, p: float, seed: int, out: np.ndarray | None = None):
    """``(out, mask)``: ``out = x * mask / (1 - p)`` with a uint8 mask whose bits come from a
    counter-based hash of ``(seed, element index)``: the same for any thread count."""
    return _core.dropout_forward(x, float(p), int(seed), out)


def dropout_backward(dout: np.ndarray, mask: np.ndarray, p: float,
                     dinp: np.ndarray | None = None, accumulate: bool = False) -> np.ndarray:
    """``dout * mask / (1 - p)``."""
    return _core.dropout_backward(dout, mask, float(p), dinp, bool(accumulate))
