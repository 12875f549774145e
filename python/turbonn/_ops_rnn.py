"""Recurrent-layer kernels on NumPy arrays: one layer of torch's ``nn.RNN`` (tanh/relu) or
``nn.LSTM``, one direction, time-major float32 arrays in torch's parameter layout
(``weight_ih`` (G*H, I), ``weight_hh`` (G*H, H), gate order i, f, g, o for the LSTM, G = 4).
"""
from __future__ import annotations

import numpy as np

from . import _core

__all__ = ["rnn_forward", "rnn_backward"]


def rnn_forward(mode: str, input: np.ndarray, hx: np.ndarray, cx: np.ndarray | None,
                weight_ih: np.ndarray, weight_hh: np.ndarray, bias_ih: np.ndarray | None = None,
                bias_hh: np.ndarray | None = None):
    """One layer over ``input`` (T, B, I) from ``hx`` (B, H) (and, for ``mode='LSTM'``, ``cx``).

    ``mode`` is ``'RNN_TANH'``, ``'RNN_RELU'`` or ``'LSTM'``. Returns ``(output (T, B, H), h_n,
    c_n or None, workspace)``; the workspace (what the backward needs) is opaque.
    """
    return _core.rnn_forward(mode, input, hx, cx, weight_ih, weight_hh, bias_ih, bias_hh)


def rnn_backward(mode: str, input: np.ndarray, hx: np.ndarray, cx: np.ndarray | None,
                 weight_ih: np.ndarray, weight_hh: np.ndarray, bias: bool, output: np.ndarray,
                 workspace: np.ndarray, grad_output: np.ndarray,
                 grad_hn: np.ndarray | None = None, grad_cn: np.ndarray | None = None):
    """Gradients ``(dinput, dhx, dcx or None, dweight_ih, dweight_hh, dbias or None)`` of the
    layer :func:`rnn_forward` ran, given the gradients of its output and (optionally, None
    meaning zero) of h_n and c_n. ``dbias`` is the gradient of ``bias_ih`` and of ``bias_hh``."""
    return _core.rnn_backward(mode, input, hx, cx, weight_ih, weight_hh, bool(bias), output,
                              workspace, grad_output, grad_hn, grad_cn)
