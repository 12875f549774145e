"""``Linear``: ``y = x @ weight.T + bias`` with torch's layout (weight is (out, in)) and init."""
from __future__ import annotations


import numpy as np

from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, Parameter

__all__ = ["Linear"]


class Linear(Module):
    """Affine map; weight ~ kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)), bias
    ~ U(-1/sqrt(in), 1/sqrt(in)), both from the global ``turbonn.manual_seed`` generator."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
                raise TypeError(f"Linear: {name} must be a non-negative int, got {n!r}")
            if n < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {n!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), np.float32))
        if bias:
            self.bias = Parameter(np.empty((self.out_features,), np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init._default_layer_init_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
