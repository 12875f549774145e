"""``scaled_dot_product_attention`` (re-exported by ``turbonn.nn.functional``): one Function
around the native flash-attention kernels (``turbonn.ops.attention_forward/backward``), which
save only each query's log-sum-exp, so memory stays O(L) per head at any length."""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import ops
from ..autograd import Function
from ..random import default_generator
from ..tensor import Tensor

__all__ = ["scaled_dot_product_attention", "additive_mask"]


class _Attention(Function):
    """forward(q, k, v (4-D arrays), mask, scale, causal, dropout_p, seed) -> out."""

    _fresh_grads = True
    _numpy_math = False

    @staticmethod
    def forward(ctx, q, k, v, mask, scale, causal, dropout_p, seed):
        out, lse = ops.attention_forward(q, k, v, mask, scale, causal, dropout_p, seed)
        ctx.save_for_backward(q, k, v, out, lse)
        ctx.args = (mask, scale, causal, dropout_p, seed)
        return out

    @staticmethod
    def backward(ctx, g):
        q, k, v, out, lse = ctx.saved_tensors
        dq, dk, dv = ops.attention_backward(np.asarray(g, np.float32), q, k, v, out, lse,
                                            *ctx.args)
        return dq, dk, dv


def additive_mask(mask, what: str = "attn_mask", true_means_keep: bool = True) -> np.ndarray:
    """A float32 additive mask from a bool one (a kept pair 0, an excluded one -inf; torch's
    SDPA keeps True, MultiheadAttention excludes True) or a float one (used as is)."""
    a = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if a.dtype == np.bool_:
        keep = a if true_means_keep else ~a
        return np.where(keep, np.float32(0.0), np.float32(-np.inf))
    if a.dtype.kind != "f":
        raise TypeError(f"{what} must be a bool or float tensor, got dtype {a.dtype}")
    return np.asarray(a, np.float32)


def _check(query, key, value):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): {name} must be a Tensor, got "
                            f"{type(t).__name__}")
        if t.dtype != np.float32:
            raise TypeError(f"scaled_dot_product_attention(): {name} must be float32, got "
                            f"{t.dtype}")
        if t.ndim < 2:
            raise ValueError(f"scaled_dot_product_attention(): {name} must be at least 2-D "
                             f"(..., length, features), got shape {t.shape}")
    if not query.ndim == key.ndim == value.ndim:
        raise ValueError(f"scaled_dot_product_attention(): query, key and value must have the "
                         f"same number of dimensions, got {query.shape}, {key.shape}, "
                         f"{value.shape}")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"scaled_dot_product_attention(): the head dimension of query and key "
                         f"must match, got query {query.shape} and key {key.shape}")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention(): key and value must have the same "
                         f"length (dim -2), got key {key.shape} and value {value.shape}")
    if key.shape[:-2] != value.shape[:-2]:
        raise ValueError(f"scaled_dot_product_attention(): key and value must have the same "
                         f"batch and head dimensions, got {key.shape} and {value.shape}")
    if query.shape[:-3] != key.shape[:-3]:
        raise ValueError(f"scaled_dot_product_attention(): query and key must have the same "
                         f"batch dimensions, got {query.shape} and {key.shape}")


def _as4(t: Tensor) -> Tensor:
    """(..., H, T, F) -> (B, H, T, F): leading dimensions folded into one batch dimension."""
    if t.ndim == 4:
        return t
    if t.ndim == 2:
        return t.reshape(1, 1, *t.shape)
    return t.reshape(int(np.prod(t.shape[:-3], dtype=np.int64)), *t.shape[-3:])


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask=None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, enable_gqa: bool = False) -> Tensor:
    """torch's ``F.scaled_dot_product_attention``: softmax(q k^T * scale + mask) v for query
    (..., Hq, L, E), key (..., Hk, S, E), value (..., Hk, S, Ev) -> (..., Hq, L, Ev).

    ``attn_mask`` broadcasts to (..., L, S): bool (True takes part) or float (added to the
    scores). ``is_causal`` lets query i see keys j <= i (not with ``attn_mask``). ``scale``
    defaults to 1/sqrt(E). ``dropout_p`` drops attention probabilities (always, as torch's
    functional form does: pass 0.0 in evaluation). ``enable_gqa`` lets Hq be a multiple of Hk.
    A query that sees no key gets 0. Runs the flash kernel: no (L, S) matrix is built.
    """
    _check(query, key, value)
    for name, v in (("dropout_p", dropout_p), ("scale", scale)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Real)):
            raise TypeError(f"scaled_dot_product_attention(): {name} must be a float, got "
                            f"{type(v).__name__}")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"scaled_dot_product_attention(): dropout_p must be in [0, 1), got "
                         f"{dropout_p!r}")
    if attn_mask is not None and is_causal:
        raise ValueError("scaled_dot_product_attention(): attn_mask must be None when "
                         "is_causal=True")
    if scale is not None and not (isinstance(scale, numbers.Real) and math.isfinite(scale)):
        raise ValueError(f"scaled_dot_product_attention(): scale must be a finite number, got "
                         f"{scale!r}")
    hq = query.shape[-3] if query.ndim >= 3 else 1
    hk = key.shape[-3] if key.ndim >= 3 else 1
    if hq != hk and not (enable_gqa and hk > 0 and hq % hk == 0):
        raise ValueError(f"scaled_dot_product_attention(): query has {hq} heads and key {hk}: "
                         f"they must match, or enable_gqa=True with a multiple")
    L, S = query.shape[-2], key.shape[-2]
    mask = None
    if attn_mask is not None:
        mask = additive_mask(attn_mask)
        try:
            full = np.broadcast_shapes(mask.shape, query.shape[:-2] + (L, S))
        except ValueError:
            full = None
        if full != query.shape[:-2] + (L, S):
            raise ValueError(f"scaled_dot_product_attention(): attn_mask of shape {mask.shape} "
                             f"does not broadcast to {query.shape[:-2] + (L, S)}")
        if query.ndim != 4:
            mask = np.ascontiguousarray(np.broadcast_to(mask, full)).reshape(
                (-1, hq, L, S) if query.ndim >= 3 else (1, 1, L, S))
    seed = 0
    if dropout_p > 0.0:
        seed = int(default_generator().integers(0, 2 ** 63))
    out = _Attention.apply(_as4(query), _as4(key), _as4(value), mask, scale, bool(is_causal),
                           float(dropout_p), seed)
    return out if query.ndim == 4 else out.reshape(*query.shape[:-1], value.shape[-1])
