"""Scaled dot-product attention kernels on NumPy arrays (flash style: no (L, S) matrix is ever
built): q (B, Hq, L, E), k (B, Hk, S, E), v (B, Hk, S, Ev) float32, Hq a multiple of Hk; any
strides whose last one is a single element. ``attn_mask`` is an additive float32 mask that
broadcasts to (B, Hq, L, S) (-inf excludes a pair); ``is_causal`` lets query i see keys j <= i.
"""
from __future__ import annotations

import numpy as np

from . import _core

__all__ = ["attention_forward", "attention_backward"]


def attention_forward(query, key, value, attn_mask=None, scale=None, is_causal=False,
                      dropout_p=0.0, seed=0):
    """``(out (B, Hq, L, Ev), lse (B, Hq, L))``: softmax(scale q k^T + mask) v and each query's
    log-sum-exp (+inf for a query that sees no key; its output is 0). ``scale`` defaults to
    1/sqrt(E). With ``dropout_p`` each probability is dropped by a hash of (seed, position)."""
    return _core.attention_forward(query, key, value, attn_mask, scale, bool(is_causal),
                                   float(dropout_p), int(seed))


def attention_backward(grad_out, query, key, value, out, lse, attn_mask=None, scale=None,
                       is_causal=False, dropout_p=0.0, seed=0):
    """``(dq, dk, dv)`` of :func:`attention_forward` (the same arguments, its out and lse)."""
    return _core.attention_backward(grad_out, query, key, value, out, lse, attn_mask, scale,
                                    bool(is_causal), float(dropout_p), int(seed))
