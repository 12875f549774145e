"""``layer_norm`` (re-exported by ``turbonn.nn.functional``): one Function around the native
layer-norm forward and backward (``turbonn.ops``), with torch's argument checks and messages.
The forward saves the input, weight, mean and rstd; the backward computes only the gradients
that are needed."""
from __future__ import annotations

import numbers

import numpy as np

from .. import ops
from ..autograd import Function
from ..tensor import Tensor

__all__ = ["layer_norm"]


def _dims(shape) -> str:
    """A shape as torch prints it in messages: ``[2, 3, 32]``."""
    return "[" + ", ".join(str(int(s)) for s in shape) + "]"


def _normalized_shape(normalized_shape, fn: str) -> tuple[int, ...]:
    """An int or a sequence of ints as a tuple (torch accepts both); at least one element."""
    if isinstance(normalized_shape, (int, np.integer)) and not isinstance(normalized_shape, bool):
        shape = (int(normalized_shape),)
    elif isinstance(normalized_shape, (tuple, list)):
        for pos, s in enumerate(normalized_shape):
            if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
                raise TypeError(f"{fn}(): argument 'normalized_shape' must be tuple of ints, but "
                                f"found element of type {type(s).__name__} at pos {pos}")
        shape = tuple(int(s) for s in normalized_shape)
    else:
        raise TypeError(f"{fn}(): argument 'normalized_shape' must be an int or a tuple of ints, "
                        f"not {type(normalized_shape).__name__}")
    if not shape:
        raise ValueError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                         "containing at least one element, but got normalized_shape = []")
    return shape


def _eps(eps, fn: str) -> float:
    """A real eps >= 0 (a negative one makes var + eps negative: NaN for near-constant rows)."""
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"{fn}(): argument 'eps' must be a float, not {type(eps).__name__}")
    if not eps >= 0:
        raise ValueError(f"{fn}(): eps must be >= 0, got {eps}")
    return float(eps)


def _affine(t, name: str, shape: tuple[int, ...]):
    if t is None:
        return None
    if not isinstance(t, Tensor):
        raise TypeError(f"layer_norm(): argument '{name}' must be a Tensor or None, not "
                        f"{type(t).__name__}")
    if t.dtype != np.float32:
        raise TypeError(f"layer_norm(): expected a float32 tensor for '{name}', got {t.dtype}")
    if tuple(t.shape) != shape:
        raise ValueError(f"Expected {name} to be of same shape as normalized_shape, but got "
                         f"{name} of shape {_dims(t.shape)} and normalized_shape = "
                         f"{_dims(shape)}")
    return t


class _LayerNorm(Function):
    """forward(x, weight or None, bias or None, normalized_ndim, eps) -> out of x's shape."""

    _fresh_grads = True
    _numpy_math = False

    @staticmethod
    def forward(ctx, x, weight, bias, ndim, eps):
        x = np.ascontiguousarray(x)  # kept for the backward: copied (once) only when a view
        out, mean, rstd = ops.layer_norm_forward(x, ndim, weight, bias, eps)
        ctx.save_for_backward(x, weight, mean, rstd)
        ctx.ndim = ndim
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight, mean, rstd = ctx.saved_tensors
        need = ctx.needs_arg_grad
        dx, dw, db = ops.layer_norm_backward(np.asarray(g, np.float32), x, mean, rstd, ctx.ndim,
                                             weight, need_dinput=need[0], need_dweight=need[1],
                                             need_dbias=need[2])
        per_arg = (dx, dw, db, None, None)
        return tuple(per_arg[p] for p in ctx.tensor_positions)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """torch's ``F.layer_norm``: normalise ``input`` over its trailing ``normalized_shape``
    dims to zero mean and unit (biased) variance, ``(x - mean) / sqrt(var + eps)``, then scale
    by ``weight`` and shift by ``bias`` (each of shape ``normalized_shape``, or None).

    A shape mismatch raises ValueError with torch's message (torch raises RuntimeError).
    Gradients of ``input``, ``weight`` and ``bias`` come from one native backward call.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"layer_norm(): argument 'input' must be a Tensor, not "
                        f"{type(input).__name__}")
    if input.dtype != np.float32:
        raise TypeError(f"layer_norm(): expected a float32 tensor for 'input', got {input.dtype}")
    shape = _normalized_shape(normalized_shape, "layer_norm")
    k = len(shape)
    if input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise ValueError(f"Given normalized_shape={_dims(shape)}, expected input with shape "
                         f"[*, {_dims(shape)[1:-1]}], but got input of size{_dims(input.shape)}")
    weight = _affine(weight, "weight", shape)
    bias = _affine(bias, "bias", shape)
    return _LayerNorm.apply(input, weight, bias, k, _eps(eps, "layer_norm"))
