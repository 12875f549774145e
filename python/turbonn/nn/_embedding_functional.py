"""``embedding`` (re-exported by ``turbonn.nn.functional``): one Function around the native row
gather and its scatter-add gradient (``turbonn.ops``). Only the gradient of ``weight`` exists;
the indices are saved as an int64 array for the backward."""
from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd import Function
from ..tensor import Tensor

__all__ = ["embedding"]


def _unsupported(max_norm, scale_grad_by_freq, sparse, fn: str) -> None:
    """max_norm renormalises weight in place and sparse gives sparse gradients: neither exists
    here yet, so a non-default value is refused rather than silently ignored."""
    for name, value, default in (("max_norm", max_norm, None),
                                 ("scale_grad_by_freq", scale_grad_by_freq, False),
                                 ("sparse", sparse, False)):
        if value is not default and value != default:
            raise NotImplementedError(f"{fn}(): {name}={value!r} is not supported yet "
                                      f"(only the default {default!r})")


def _padding_index(padding_idx, num_embeddings: int) -> int | None:
    """torch's rule: an int in [-num_embeddings, num_embeddings), negative counted from the end."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
        raise TypeError(f"padding_idx must be an int or None, got {type(padding_idx).__name__}")
    p = int(padding_idx)
    if not -num_embeddings <= p < num_embeddings:
        raise ValueError(f"Padding_idx must be within num_embeddings: expected in "
                         f"[{-num_embeddings}, {num_embeddings}), got {p}")
    return p + num_embeddings if p < 0 else p


def _index_array(input) -> np.ndarray:
    if not isinstance(input, (Tensor, np.ndarray)):
        raise TypeError(f"embedding(): argument 'input' (the indices) must be a Tensor, not "
                        f"{type(input).__name__}")
    a = input.data if isinstance(input, Tensor) else input
    if a.dtype.kind != "i" or a.dtype.itemsize not in (4, 8):
        raise TypeError(f"Expected tensor for argument #1 'indices' to have one of the following "
                        f"scalar types: Long, Int; but got {a.dtype} instead")
    return a


class _Embedding(Function):
    """Forward gathers rows of weight; backward scatter-adds into a fresh (V, D) gradient."""

    _fresh_grads = True
    _numpy_math = False

    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        out = ops.embedding_forward(weight, indices)
        ctx.save_for_backward(indices)
        ctx.num_weights = weight.shape[0]
        ctx.padding_idx = padding_idx
        return out

    @staticmethod
    def backward(ctx, g):
        (indices,) = ctx.saved_tensors
        return ops.embedding_backward(np.asarray(g, np.float32), indices, ctx.num_weights,
                                      ctx.padding_idx)


def embedding(input, weight: Tensor, padding_idx: int | None = None, max_norm=None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (num_embeddings, embedding_dim) named by the integer ``input`` (any
    shape): the result has shape ``input.shape + (embedding_dim,)``, as torch's ``F.embedding``.

    The gradient of ``weight`` sums the upstream rows of repeated indices; the ``padding_idx``
    row (negative counts from the end) gets none. An index outside [0, num_embeddings) raises
    IndexError. ``max_norm``, ``scale_grad_by_freq`` and ``sparse`` accept only their defaults
    (NotImplementedError otherwise); ``norm_type`` matters only with ``max_norm``.
    """
    _unsupported(max_norm, scale_grad_by_freq, sparse, "embedding")
    indices = _index_array(input)
    if not isinstance(weight, Tensor):
        raise TypeError(f"embedding(): argument 'weight' must be a Tensor, not "
                        f"{type(weight).__name__}")
    if weight.dtype != np.float32:
        raise TypeError(f"embedding(): expected a float32 tensor for 'weight', got {weight.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"embedding(): 'weight' must be 2-D (num_embeddings, embedding_dim), "
                         f"got shape {tuple(weight.shape)}")
    pad = _padding_index(padding_idx, weight.shape[0])
    return _Embedding.apply(weight, indices, pad)
