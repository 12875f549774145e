"""``LayerNorm``: torch's ``nn.LayerNorm`` (signature, defaults, parameter names and repr):
normalises the trailing ``normalized_shape`` dims of its input, then applies an elementwise
``weight`` (ones) and ``bias`` (zeros) when ``elementwise_affine``. Other norms are not here yet."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import functional as F
from . import init
from ._norm_functional import _eps, _normalized_shape
from .module import Module, Parameter

__all__ = ["LayerNorm"]


class LayerNorm(Module):
    """``forward(input)`` = ``F.layer_norm(input, normalized_shape, weight, bias, eps)``.
    ``bias=False`` keeps the weight only; ``elementwise_affine=False`` has no parameters."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        if device is not None and str(device) != "cpu":
            raise ValueError(f"LayerNorm: device must be None or 'cpu', got {device!r}")
        if dtype is not None and np.dtype(dtype) != np.float32:
            raise TypeError(f"LayerNorm: dtype must be None or float32, got {dtype!r}")
        self.normalized_shape = _normalized_shape(normalized_shape, "LayerNorm")
        if any(s < 0 for s in self.normalized_shape):
            raise ValueError(f"LayerNorm: normalized_shape must be non-negative, got "
                             f"{self.normalized_shape}")
        _eps(eps, "LayerNorm")
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.empty(self.normalized_shape, np.float32))
            if bias:
                self.bias = Parameter(np.empty(self.normalized_shape, np.float32))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        # torch >= 2.1 shows bias too: "(64,), eps=1e-05, elementwise_affine=True, bias=True"
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")
