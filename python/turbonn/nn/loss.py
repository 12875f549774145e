"""Loss modules; each wraps its ``turbonn.nn.functional`` counterpart."""
from __future__ import annotations

from ..tensor import Tensor
from . import functional as F
from .module import Module

__all__ = ["MSELoss"]


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = F._check_reduction(reduction)


class MSELoss(_Loss):
    """Mean squared error: ``(input - target) ** 2`` reduced by ``reduction``."""

    def forward(self, input: Tensor, target) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)
