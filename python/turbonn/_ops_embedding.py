"""Embedding kernels on NumPy arrays: a row gather and its scatter-add gradient (torch's
``F.embedding``). ``weight`` is float32 (num_embeddings, embedding_dim); ``indices`` an int32 or
int64 array of any shape, every value in [0, num_embeddings) (else IndexError, nothing written).
"""
from __future__ import annotations

import numpy as np

from . import _core

__all__ = ["embedding_forward", "embedding_backward"]


def embedding_forward(weight: np.ndarray, indices: np.ndarray,
                      out: np.ndarray | None = None) -> np.ndarray:
    """``weight[indices]``: shape ``indices.shape + (embedding_dim,)``."""
    return _core.embedding_forward(weight, indices, out)


def embedding_backward(dout: np.ndarray, indices: np.ndarray, num_weights: int,
                       padding_idx: int | None = None, dweight: np.ndarray | None = None,
                       accumulate: bool = False) -> np.ndarray:
    """Gradient of ``weight`` (num_weights, D): each ``dout`` row added to the row its index
    names (repeated indices add up, in index order, for any thread count); the ``padding_idx``
    row (negative counts from the end) gets nothing. Overwrites ``dweight`` unless
    ``accumulate``."""
    return _core.embedding_backward(dout, indices, num_weights, padding_idx, dweight,
                                    bool(accumulate))
