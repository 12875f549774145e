"""``Conv2d``: 2-D convolution with torch's parameter names, shapes (weight is
(out_channels, in_channels / groups, kH, kW)), default initialisation and repr."""
from __future__ import annotations


import numpy as np

from ..tensor import Tensor
from . import functional as F
from . import init
from ._conv_functional import _pair
from .module import Module, Parameter

__all__ = ["Conv2d"]


def _positive_int(v, name: str) -> int:
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
        raise TypeError(f"Conv2d: {name} must be a positive int, got {v!r}")
    if v <= 0:
        raise ValueError(f"Conv2d: {name} must be a positive int, got {v!r}")
    return int(v)


class Conv2d(Module):
    """Cross-correlation of (N, C, H, W) inputs. weight ~ kaiming_uniform_(a=sqrt(5)), bias
    ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels / groups * kH * kW, both from
    the global ``turbonn.manual_seed`` generator (torch's defaults)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros"):
        super().__init__()
        self.in_channels = _positive_int(in_channels, "in_channels")
        self.out_channels = _positive_int(out_channels, "out_channels")
        self.groups = _positive_int(groups, "groups")
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"Conv2d: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must both be divisible by groups ({groups})")
        if padding_mode != "zeros":
            raise ValueError(f"Conv2d: only padding_mode='zeros' is supported, got "
                             f"{padding_mode!r}")
        self.padding_mode = padding_mode
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = _pair(stride, "stride", "Conv2d")
        self.dilation = _pair(dilation, "dilation", "Conv2d")
        for name, v, lo in (("kernel_size", self.kernel_size, 1), ("stride", self.stride, 1),
                            ("dilation", self.dilation, 1)):
            if min(v) < lo:
                raise ValueError(f"Conv2d: {name} must be positive, got {v}")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Conv2d: padding must be an int, a pair, 'valid' or 'same', "
                                 f"got {padding!r}")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError("Conv2d: padding='same' needs stride 1")
            self.padding = padding
        else:
            self.padding = _pair(padding, "padding", "Conv2d")
            if min(self.padding) < 0:
                raise ValueError(f"Conv2d: padding must be non-negative, got {self.padding}")
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, np.float32))
        if bias:
            self.bias = Parameter(np.empty((self.out_channels,), np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init._default_layer_init_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"  # torch prints 'same' unquoted
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
