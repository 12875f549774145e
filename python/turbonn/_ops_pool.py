"""Max and average 2-D pooling kernels on NumPy float32 arrays (N, C, H, W) or unbatched (C, H, W).

``max_pool2d_forward`` returns ``(out, indices)``, the int32 position ``h * W + w`` of each
window's maximum in its input plane, which ``max_pool2d_backward`` scatters through. Geometry
follows torch (``stride=None`` means ``kernel_size``; padding at most half the kernel), except
that a dilation and padding leaving a window with no input element in it (torch gives it -inf and
an index outside the plane) raise ValueError.
"""
from __future__ import annotations

import numpy as np

from . import _core

__all__ = ["max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward",
           "avg_pool2d_backward"]


def max_pool2d_forward(x: np.ndarray, kernel_size, stride=None, padding=0, dilation=1,
                       ceil_mode: bool = False, out: np.ndarray | None = None):
    """``(out, indices)``: each window's max (a NaN wins; ties go to the first in window order)
    and its int32 position in the input plane."""
    return _core.max_pool2d_forward(x, kernel_size, stride, padding, dilation, bool(ceil_mode),
                                    out)


def max_pool2d_backward(dout: np.ndarray, indices: np.ndarray, input_shape,
                        dinp: np.ndarray | None = None, accumulate: bool = False) -> np.ndarray:
    """Gradient of the input: each ``dout`` element added to the one input its index names."""
    return _core.max_pool2d_backward(dout, indices, tuple(input_shape), dinp, bool(accumulate))


def avg_pool2d_forward(x: np.ndarray, kernel_size, stride=None, padding=0,
                       ceil_mode: bool = False, count_include_pad: bool = True,
                       divisor_override: int | None = None,
                       out: np.ndarray | None = None) -> np.ndarray:
    """Window means, divided as torch's ``avg_pool2d`` (``count_include_pad``,
    ``divisor_override``)."""
    return _core.avg_pool2d_forward(x, kernel_size, stride, padding, bool(ceil_mode),
                                    bool(count_include_pad), divisor_override, out)


def avg_pool2d_backward(dout: np.ndarray, input_shape, kernel_size, stride=None, padding=0,
                        ceil_mode: bool = False, count_include_pad: bool = True,
                        divisor_override: int | None = None, dinp: np.ndarray | None = None,
                        accumulate: bool = False) -> np.ndarray:
    """Gradient of the input: each ``dout`` divided by its window's divisor, spread over it."""
    return _core.avg_pool2d_backward(dout, tuple(input_shape), kernel_size, stride, padding,
                                     bool(ceil_mode), bool(count_include_pad), divisor_override,
                                     dinp, bool(accumulate))
