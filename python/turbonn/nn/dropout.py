"""``Dropout``: zeroes each element with probability ``p`` while training (scaling the rest by
``1 / (1 - p)``) and passes its input through in eval mode, as torch's ``nn.Dropout``."""
from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Masks come from ``turbonn.random.default_generator()``: ``tn.manual_seed`` reproduces
    them for any thread count. ``inplace`` is accepted (and shown) but results are new."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        F._check_p(p)
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
