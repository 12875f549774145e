"""``conv2d`` for ``turbonn.nn.functional``: one Function around the native conv2d forward and
backward kernels (``turbonn.ops.conv2d_forward/backward``), with torch's argument forms (int or
pair; padding also 'valid'/'same'). Argument checks naming the argument; no arithmetic here."""
from __future__ import annotations

import numbers

import numpy as np

from .. import ops
from ..autograd import Function
from ..tensor import Tensor

__all__ = ["conv2d"]


class _Conv2d(Function):
    """conv2d as one native call each way; dX, dW and db come from one backward call (dX is not
    computed when the input needs no gradient). Its gradients are fresh arrays."""

    _fresh_grads = True
    _numpy_math = False

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        out = ops.conv2d_forward(x, weight, bias, stride, padding, dilation, groups)
        ctx.save_for_backward(x, weight)
        ctx.geometry = (stride, padding, dilation, groups)
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        need = ctx.needs_input_grad + (False,) * (3 - len(ctx.needs_input_grad))
        grads = ops.conv2d_backward(np.asarray(g, np.float32), x, weight, *ctx.geometry,
                                    need_dinput=need[0], need_dweight=need[1],
                                    need_dbias=need[2])
        return grads[:len(ctx.needs_input_grad)]


def _pair(v, name: str, fn: str = "conv2d") -> tuple[int, int]:
    def is_int(a):
        return isinstance(a, (numbers.Integral, np.integer)) and not isinstance(a, bool)

    if is_int(v):
        return (int(v), int(v))
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(is_int(a) for a in v):
        return (int(v[0]), int(v[1]))
    if isinstance(v, (tuple, list)) and len(v) == 1 and is_int(v[0]):
        return (int(v[0]), int(v[0]))
    raise TypeError(f"{fn}(): {name} must be an int or a pair of ints, got {v!r}")


def _check(t, arg: str) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"conv2d(): argument '{arg}' must be a Tensor, not {type(t).__name__}")
    if t.dtype != np.float32:
        raise TypeError(f"conv2d(): expected float32 {arg}, got {t.dtype}")
    return t


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation, as torch) of ``input`` (N, C, H, W) or (C, H, W) with
    ``weight`` (out_channels, C / groups, kH, kW) plus ``bias`` (out_channels,).

    ``stride``, ``dilation``: int or pair, >= 1. ``padding``: int or pair >= 0, or 'valid'
    (none) or 'same' (output as large as the input; stride 1 only; an odd total padding puts
    the extra row/column at the bottom/right, as torch does).
    """
    _check(input, "input")
    _check(weight, "weight")
    if input.ndim not in (3, 4):
        raise ValueError(f"conv2d(): input must be 3-D (C, H, W) or 4-D (N, C, H, W), got shape "
                         f"{input.shape}")
    if weight.ndim != 4:
        raise ValueError(f"conv2d(): weight must be 4-D (out_channels, in_channels / groups, "
                         f"kH, kW), got shape {weight.shape}")
    if bias is not None:
        _check(bias, "bias")
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"conv2d(): bias must have shape ({weight.shape[0]},) = "
                             f"(out_channels,), got {bias.shape}")
    if not isinstance(groups, (numbers.Integral, np.integer)) or isinstance(groups, bool):
        raise TypeError(f"conv2d(): groups must be an int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"conv2d(): groups must be positive, got {groups}")
    channels = input.shape[-3]
    if weight.shape[1] * groups != channels:
        raise ValueError(f"conv2d(): input {input.shape} has {channels} channels but weight "
                         f"{weight.shape} with groups={groups} expects "
                         f"{weight.shape[1] * groups} (weight.shape[1] * groups)")
    stride = _pair(stride, "stride")
    dilation = _pair(dilation, "dilation")
    crop = (0, 0)
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError(f"conv2d(): padding='same' needs stride 1, got stride={stride}")
            total = [d * (k - 1) for d, k in zip(dilation, weight.shape[2:])]
            # Symmetric padding of ceil(total / 2), then the first row/column dropped when the
            # total is odd: the same windows as torch's extra padding at the bottom/right.
            padding = tuple((t + 1) // 2 for t in total)
            crop = tuple(t % 2 for t in total)
        else:
            raise ValueError(f"conv2d(): padding must be an int, a pair, 'valid' or 'same', got "
                             f"{padding!r}")
    else:
        padding = _pair(padding, "padding")
    unbatched = input.ndim == 3
    x = input.reshape((1,) + input.shape) if unbatched else input
    args = (x, weight, bias, stride, padding, dilation, int(groups))
    out = _Conv2d.apply(*args)
    if crop != (0, 0):
        out = out[:, :, crop[0]:, crop[1]:]
    return out.reshape(out.shape[1:]) if unbatched else out
