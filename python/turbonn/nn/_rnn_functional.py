"""The recurrent layers' autograd: one ``Function`` per layer around the native kernels
(``turbonn.ops.rnn_forward`` / ``rnn_backward``), and ``rnn_layers``, which stacks them as
torch's ``nn.RNN`` / ``nn.LSTM`` do (dropout between layers, h_n and c_n per layer).

A layer's three results (output, h_n, c_n) leave its Function as one flat array, sliced into
views afterwards: the tape holds single-output nodes, and this way the gradients of all three
reach the one native backward.
"""
from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd import Function
from ..tensor import Tensor, stack

__all__ = ["rnn_layers"]


class _RecurrentLayer(Function):
    """forward(x (T, B, I), h0, c0 or None, w_ih, w_hh, b_ih, b_hh, mode) -> flat
    [output (T*B*H) | h_n (B*H) | c_n (B*H), LSTM only]."""

    _fresh_grads = True
    _numpy_math = False

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode):
        x = np.ascontiguousarray(x, dtype=np.float32)  # kept for the backward: copied once
        y, h_n, c_n, ws = ops.rnn_forward(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh)
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, y, ws)
        ctx.mode = mode
        ctx.bias = b_ih is not None
        parts = (y, h_n) if c_n is None else (y, h_n, c_n)
        return np.concatenate([p.reshape(-1) for p in parts])

    @staticmethod
    def backward(ctx, g):
        x, h0, c0, w_ih, w_hh, y, ws = ctx.saved_tensors
        T, B, H = y.shape
        g = np.asarray(g, np.float32)
        n, s = T * B * H, B * H
        dy = g[:n].reshape(T, B, H)
        dh_n = g[n:n + s].reshape(B, H)
        dc_n = g[n + s:n + 2 * s].reshape(B, H) if c0 is not None else None
        dx, dh0, dc0, dw_ih, dw_hh, db = ops.rnn_backward(
            ctx.mode, x, h0, c0, w_ih, w_hh, ctx.bias, y, ws, dy, dh_n, dc_n)
        # one gradient per argument, then only those of the arguments that were tensors
        per_arg = (dx, dh0, dc0, dw_ih, dw_hh, db, None if db is None else db.copy(), None)
        return tuple(per_arg[p] for p in ctx.tensor_positions)


def _layer(x: Tensor, h0: Tensor, c0: Tensor | None, w_ih, w_hh, b_ih, b_hh, mode: str):
    """One layer: (output (T, B, H), h_n (B, H), c_n (B, H) or None)."""
    T, B, H = x.shape[0], x.shape[1], w_hh.shape[1]
    flat = _RecurrentLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode)
    n, s = T * B * H, B * H
    y = flat[:n].reshape(T, B, H)
    h_n = flat[n:n + s].reshape(B, H)
    c_n = flat[n + s:].reshape(B, H) if c0 is not None else None
    return y, h_n, c_n


def rnn_layers(x: Tensor, h0: Tensor, c0: Tensor | None, weights: list, mode: str,
               dropout: float, training: bool):
    """Stacked layers over time-major ``x`` (T, B, I) from ``h0`` (and ``c0``), each
    (num_layers, B, H). ``weights``: per layer (w_ih, w_hh, b_ih, b_hh), biases possibly None.
    Dropout with probability ``dropout`` on every layer's output but the last (when training).
    Returns (output (T, B, H), h_n, c_n or None)."""
    from . import functional as F

    hs, cs = [], []
    for k, (w_ih, w_hh, b_ih, b_hh) in enumerate(weights):
        if k > 0 and dropout > 0 and training:
            x = F.dropout(x, dropout, True)
        x, h, c = _layer(x, h0[k], None if c0 is None else c0[k], w_ih, w_hh, b_ih, b_hh, mode)
        hs.append(h)
        cs.append(c)
    h_n = stack(hs) if len(hs) > 1 else hs[0].reshape(1, *hs[0].shape)
    c_n = None
    if c0 is not None:
        c_n = stack(cs) if len(cs) > 1 else cs[0].reshape(1, *cs[0].shape)
    return x, h_n, c_n
