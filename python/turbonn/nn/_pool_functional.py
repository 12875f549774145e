"""``max_pool2d`` and ``avg_pool2d`` (re-exported by ``turbonn.nn.functional``): each one Function
around one native forward and one native backward kernel (``turbonn.ops``); max pooling saves its
int32 argmax, so the backward sends every gradient to exactly one input."""
from __future__ import annotations

import numpy as np

from .. import ops
from ..autograd import Function
from ..tensor import Tensor

__all__ = ["max_pool2d", "avg_pool2d"]


def _check_input(x, fn: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be a Tensor, not {type(x).__name__}")
    if x.dtype != np.float32:
        raise TypeError(f"{fn}(): expected a float32 tensor for 'input', got {x.dtype}")
    if x.ndim not in (3, 4):
        raise ValueError(f"{fn}(): input must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape "
                         f"{x.shape}")
    return x


class _MaxPool2d(Function):
    """Forward saves the indices (int32, one per output); backward scatters through them."""

    _fresh_grads = True
    _numpy_math = False

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, dilation, ceil_mode, holder):
        out, indices = ops.max_pool2d_forward(x, kernel_size, stride, padding, dilation,
                                              ceil_mode)
        ctx.save_for_backward(indices)
        ctx.x_shape = x.shape
        holder.append(indices)
        return out

    @staticmethod
    def backward(ctx, g):
        (indices,) = ctx.saved_tensors
        return ops.max_pool2d_backward(np.asarray(g, np.float32), indices, ctx.x_shape)


class _AvgPool2d(Function):
    _fresh_grads = True
    _numpy_math = False

    @staticmethod
    def forward(ctx, x, args):
        ctx.x_shape = x.shape
        ctx.args = args
        return ops.avg_pool2d_forward(x, *args)

    @staticmethod
    def backward(ctx, g):
        return ops.avg_pool2d_backward(np.asarray(g, np.float32), ctx.x_shape, *ctx.args)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """2-D max pooling over (N, C, H, W) or (C, H, W), as torch's ``F.max_pool2d``.

    With ``return_indices`` also returns the int64 positions ``h * W + w`` of the maxima in
    their input planes (torch's layout). A NaN in a window wins; ties go to the first maximum.
    """
    _check_input(input, "max_pool2d")
    holder: list = []
    out = _MaxPool2d.apply(input, kernel_size, stride, padding, dilation, bool(ceil_mode), holder)
    if return_indices:
        return out, Tensor._wrap(holder[0].astype(np.int64))
    return out


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """2-D average pooling over (N, C, H, W) or (C, H, W), as torch's ``F.avg_pool2d``."""
    _check_input(input, "avg_pool2d")
    args = (kernel_size, stride, padding, bool(ceil_mode), bool(count_include_pad),
            divisor_override)
    return _AvgPool2d.apply(input, args)
