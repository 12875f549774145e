"""Stateless layer functions (``turbonn.nn.functional``, also ``turbonn.functional``): linear,
activations on the native kernels, softmax/log_softmax (NumPy glue for now) and mse_loss."""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import ops
from ..autograd import Function
from ..tensor import Tensor, _norm_dim

__all__ = ["linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "mse_loss"]


def _check_tensor(x, fn: str, arg: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' must be a Tensor, not {type(x).__name__}")
    return x


def _check_float(x: Tensor, fn: str) -> Tensor:
    if x.dtype != np.float32:
        raise TypeError(f"{fn}(): expected a float32 tensor, got {x.dtype}")
    return x


# ------------------------------------------------------------------------------------ linear


class _Linear(Function):
    """``x @ W.T + b`` as one native call each way (bias fused into the forward; dX, dW and db
    from one backward call, transposes read as strides). Its gradients are fresh arrays, so the
    engine hands them to leaves without a copy."""

    _fresh_grads = True
    _numpy_math = False

    @staticmethod
    def forward(ctx, x, weight, bias):
        x2 = x.reshape(math.prod(x.shape[:-1]), x.shape[-1])  # -1 fails when K == 0
        out = ops.linear_forward(x2, weight, bias)
        ctx.save_for_backward(x2, weight)
        ctx.x_shape = x.shape
        return out.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, g):
        x2, weight = ctx.saved_tensors
        need = ctx.needs_input_grad + (False,) * (3 - len(ctx.needs_input_grad))
        dx, dw, db = ops.linear_backward(g.reshape(x2.shape[0], weight.shape[0]), x2, weight,
                                         need_dinp=need[0], need_dweight=need[1],
                                         need_dbias=need[2])
        if dx is not None:
            dx = dx.reshape(ctx.x_shape)
        return (dx, dw, db)[:len(ctx.needs_input_grad)]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``; weight is (out_features, in_features) as in torch.

    One native kernel call forward and one backward (``ops.linear_forward/backward``).
    """
    _check_tensor(input, "linear")
    _check_tensor(weight, "linear", "weight")
    if weight.ndim != 2:
        raise ValueError(f"linear(): weight must be 2-D (out_features, in_features), got shape "
                         f"{weight.shape}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear(): input shape {input.shape} and weight shape {weight.shape} "
                         f"cannot be multiplied (input's last dim must be "
                         f"in_features={weight.shape[1]})")
    if input.dtype != np.float32 or weight.dtype != np.float32:
        raise TypeError(f"linear(): expected float32 input and weight, got {input.dtype} and "
                        f"{weight.dtype}")
    if bias is None:
        return _Linear.apply(input, weight, None)
    _check_tensor(bias, "linear", "bias")
    if bias.shape == (weight.shape[0],) and bias.dtype == np.float32:
        return _Linear.apply(input, weight, bias)
    if bias.shape != ():
        raise ValueError(f"linear(): bias shape {bias.shape} does not match "
                         f"out_features={weight.shape[0]}")
    return _Linear.apply(input, weight, None) + bias


# ------------------------------------------------------------------------------- activations


def _activation(name: str, forward_kernel, backward_kernel) -> type:
    """A Function for a native activation pair: the forward saves its output, which is all the
    backward kernel needs (ReLU, sigmoid and tanh all differentiate through their output)."""

    def forward(ctx, x):
        out = forward_kernel(x)
        ctx.save_for_backward(out)
        return out

    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return backward_kernel(np.asarray(g, np.float32), out)

    return type(name, (Function,), {"forward": staticmethod(forward),
                                     "backward": staticmethod(backward)})


_ReLU = _activation("_ReLU", ops.relu_forward, ops.relu_backward)
_Sigmoid = _activation("_Sigmoid", ops.sigmoid_forward, ops.sigmoid_backward)
_Tanh = _activation("_Tanh", ops.tanh_forward, ops.tanh_backward)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)`` (native kernel). ``inplace`` is accepted for compatibility; the result is
    always a new tensor."""
    return _ReLU.apply(_check_float(_check_tensor(input, "relu"), "relu"))


def sigmoid(input: Tensor) -> Tensor:
    return _Sigmoid.apply(_check_float(_check_tensor(input, "sigmoid"), "sigmoid"))


def tanh(input: Tensor) -> Tensor:
    return _Tanh.apply(_check_float(_check_tensor(input, "tanh"), "tanh"))


# ----------------------------------------------------------------------------------- softmax


def _max_shifted(x: np.ndarray, dim: int) -> np.ndarray:
    """x minus its max along dim (so exp cannot overflow); empty arrays pass through."""
    return x - np.max(x, axis=dim, keepdims=True) if x.size else x


class _Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        e = np.exp(_max_shifted(x, dim))
        out = e / np.sum(e, axis=dim, keepdims=True)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return out * (g - np.sum(g * out, axis=ctx.dim, keepdims=True))


class _LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        shifted = _max_shifted(x, dim)
        with np.errstate(divide="ignore"):  # log(0) only for an empty softmax axis
            out = shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g - np.exp(out) * np.sum(g, axis=ctx.dim, keepdims=True)


def _softmax_dim(name: str, ndim: int, dim) -> int:
    if dim is None:  # torch's legacy implicit choice, with its warning
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                      f"call to include dim=X as an argument.", UserWarning, stacklevel=3)
        dim = 0 if ndim in (0, 1, 3) else 1
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
        raise TypeError(f"{name}(): dim must be an int, got {type(dim).__name__}")
    return _norm_dim(dim, ndim)


def softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``, computed max-subtracted (no overflow)."""
    _check_float(_check_tensor(input, "softmax"), "softmax")
    return _Softmax.apply(input, _softmax_dim("softmax", input.ndim, dim))


def log_softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``, computed max-subtracted (no overflow)."""
    _check_float(_check_tensor(input, "log_softmax"), "log_softmax")
    return _LogSoftmax.apply(input, _softmax_dim("log_softmax", input.ndim, dim))


# ------------------------------------------------------------------------------------ losses

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction (expected one of "
                         f"{', '.join(_REDUCTIONS)})")
    return reduction


def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """``(input - target) ** 2`` reduced by ``'mean'`` (default), ``'sum'`` or ``'none'``."""
    _check_tensor(input, "mse_loss")
    _check_reduction(reduction)
    if isinstance(target, np.ndarray):
        target = Tensor(np.asarray(target, np.float32))
    _check_tensor(target, "mse_loss", "target")
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                      f"size ({input.shape}). This will likely lead to incorrect results due "
                      f"to broadcasting. Please ensure they have the same size.",
                      UserWarning, stacklevel=2)
    diff = input - target
    loss = diff * diff
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
