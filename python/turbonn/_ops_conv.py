"""Convolution kernels on NumPy float32 arrays: ``conv2d_forward`` / ``conv2d_backward`` (NCHW,
torch's weight layout (out_channels, in_channels / groups, kH, kW)) and ``im2col`` / ``col2im``
(torch's ``unfold`` / ``fold``). ``stride``, ``padding``, ``dilation``: an int or a pair."""
from __future__ import annotations

import numpy as np

from . import _core

__all__ = ["conv2d_forward", "conv2d_backward", "im2col", "col2im"]


def conv2d_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None,
                   stride=1, padding=0, dilation=1, groups: int = 1,
                   out: np.ndarray | None = None) -> np.ndarray:
    """conv2d of ``x`` (N, C, H, W) with ``weight`` (O, C/groups, kH, kW) plus ``bias`` (O,)."""
    return _core.conv2d_forward(x, weight, bias, stride, padding, dilation, out, None, groups)


def conv2d_backward(dout: np.ndarray, x: np.ndarray, weight: np.ndarray, stride=1, padding=0,
                    dilation=1, groups: int = 1, *, need_dinput: bool = True,
                    need_dweight: bool = True, need_dbias: bool = True):
    """``(dx, dweight, dbias)`` of conv2d for upstream ``dout`` (N, O, OH, OW); a gradient not
    needed comes back as None."""
    return _core.conv2d_backward(dout, x, weight, stride, padding, dilation, bool(need_dinput),
                                 bool(need_dweight), bool(need_dbias), None, groups)


def im2col(x: np.ndarray, kernel_size, stride=1, padding=0, dilation=1) -> np.ndarray:
    """``x`` (N, C, H, W) -> (N, C*kH*kW, OH*OW): every kernel window as a column."""
    return _core.im2col(x, kernel_size, stride, padding, dilation)


def col2im(cols: np.ndarray, input_shape, kernel_size, stride=1, padding=0,
           dilation=1) -> np.ndarray:
    """The adjoint of :func:`im2col`: columns summed back into an (N, C, H, W) array."""
    return _core.col2im(cols, tuple(input_shape), kernel_size, stride, padding, dilation)
