"""``Embedding``: a lookup table of ``num_embeddings`` vectors of size ``embedding_dim`` with
torch's signature, parameter layout (``weight`` is (num_embeddings, embedding_dim)), normal(0, 1)
init and ``padding_idx``. Not sparse: the gradient of ``weight`` is dense (``sparse=True`` is refused)."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import functional as F
from . import init
from ._embedding_functional import _padding_index, _unsupported
from .module import Module, Parameter

__all__ = ["Embedding"]


def _check_size(name: str, n) -> int:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"Embedding: {name} must be a non-negative int, got {n!r}")
    if n < 0:
        raise ValueError(f"Embedding: {name} must be a non-negative int, got {n!r}")
    return int(n)


def _check_device_dtype(device, dtype) -> None:
    if device is not None and str(device) != "cpu":
        raise ValueError(f"Embedding: device must be None or 'cpu', got {device!r}")
    if dtype is not None and np.dtype(dtype) != np.float32:
        raise TypeError(f"Embedding: dtype must be None or float32, got {dtype!r}")


class Embedding(Module):
    """``forward(input)`` = ``F.embedding(input, weight, padding_idx)``. ``weight`` ~ N(0, 1)
    drawn from the global ``turbonn.manual_seed`` generator, with the ``padding_idx`` row zeroed
    (a given ``_weight`` is used as is). ``max_norm``, ``scale_grad_by_freq`` and ``sparse``
    accept only their defaults (NotImplementedError otherwise)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False, _weight=None,
                 _freeze: bool = False, device=None, dtype=None):
        super().__init__()
        _unsupported(max_norm, scale_grad_by_freq, sparse, "Embedding")
        _check_device_dtype(device, dtype)
        self.num_embeddings = _check_size("num_embeddings", num_embeddings)
        self.embedding_dim = _check_size("embedding_dim", embedding_dim)
        self.padding_idx = _padding_index(padding_idx, self.num_embeddings)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim),
                                             np.float32), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            shape = tuple(np.shape(_weight.data if isinstance(_weight, Tensor) else _weight))
            if shape != (self.num_embeddings, self.embedding_dim):
                raise ValueError(f"Shape of weight does not match num_embeddings and "
                                 f"embedding_dim: expected "
                                 f"{(self.num_embeddings, self.embedding_dim)}, got {shape}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0.0

    def forward(self, input) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, sparse: bool = False) -> "Embedding":
        """An Embedding whose weight is ``embeddings`` (2-D; float32 data is shared, not
        copied), frozen (``requires_grad=False``) unless ``freeze=False``. The padding_idx row
        is left as given, as in torch."""
        shape = np.shape(embeddings.data if isinstance(embeddings, Tensor) else embeddings)
        if len(shape) != 2:
            raise ValueError(f"Embeddings parameter is expected to be 2-dimensional, got shape "
                             f"{tuple(shape)}")
        rows, cols = shape
        return cls(rows, cols, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx,
                   max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)
