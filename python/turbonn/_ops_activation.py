"""Activation kernels on NumPy float32 arrays: ``<name>_forward`` / ``<name>_backward`` pairs.

Backward kernels take the forward's output (ReLU, sigmoid and tanh differentiate through it) and
either write ``dinp = dout * f'`` or, with ``accumulate=True``, add it into ``dinp``.
"""
from __future__ import annotations

import numpy as np

from . import _core

__all__ = [
    "relu_forward", "relu_backward", "sigmoid_forward", "sigmoid_backward",
    "tanh_forward", "tanh_backward",
]


def relu_forward(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``max(x, 0)`` elementwise (NaN stays NaN); ``out`` may be ``x`` itself."""
    return _core.relu_forward(x, out)


def relu_backward(dout: np.ndarray, out: np.ndarray, dinp: np.ndarray | None = None,
                  accumulate: bool = False) -> np.ndarray:
    """``dout`` where the forward's output is positive, else 0 (none at exactly 0, as torch)."""
    return _core.relu_backward(dout, out, dinp, bool(accumulate))


def sigmoid_forward(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``1 / (1 + exp(-x))`` elementwise, without overflow for any finite x."""
    return _core.sigmoid_forward(x, out)


def sigmoid_backward(dout: np.ndarray, out: np.ndarray, dinp: np.ndarray | None = None,
                     accumulate: bool = False) -> np.ndarray:
    """``dout * y * (1 - y)`` with ``y`` the forward's output."""
    return _core.sigmoid_backward(dout, out, dinp, bool(accumulate))


def tanh_forward(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``tanh(x)`` elementwise."""
    return _core.tanh_forward(x, out)


def tanh_backward(dout: np.ndarray, out: np.ndarray, dinp: np.ndarray | None = None,
                  accumulate: bool = False) -> np.ndarray:
    """``dout * (1 - y**2)`` with ``y`` the forward's output."""
    return _core.tanh_backward(dout, out, dinp, bool(accumulate))
