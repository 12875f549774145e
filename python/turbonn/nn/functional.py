"""Stateless layer functions (``turbonn.nn.functional``, also ``turbonn.functional``): linear,
activations, softmax/log_softmax, the losses and dropout, each one Function around one native
forward and one native backward kernel (``turbonn.ops``)."""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import ops
from ..autograd import Function
from ..random import default_generator
from ..tensor import Tensor, _canonical_dtype, _norm_dim

__all__ = ["linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax", "cross_entropy",
           "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss",
           "dropout", "conv2d", "max_pool2d", "avg_pool2d", "embedding", "layer_norm"]


def _check_tensor(x, fn: str, arg: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' must be a Tensor, not {type(x).__name__}")
    return x


def _check_float(x: Tensor, fn: str) -> Tensor:
    if x.dtype != np.float32:
        raise TypeError(f"{fn}(): expected a float32 tensor for 'input', got {x.dtype}")
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
    if bias.dtype != np.float32:
        raise TypeError(f"linear(): expected a float32 bias, got {bias.dtype}")
    if bias.shape == (weight.shape[0],):
        return _Linear.apply(input, weight, bias)
    if bias.shape not in ((), (1,)):  # those two broadcast, as in torch
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


def _softmax_function(name: str, forward_kernel, backward_kernel) -> type:
    """A Function for softmax or log_softmax along ``dim``: the forward saves its output, which
    is all either backward kernel needs."""

    def forward(ctx, x, dim):
        out = forward_kernel(x, dim)
        ctx.dim = dim
        ctx.save_for_backward(out)
        return out

    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return backward_kernel(np.asarray(g, np.float32), out, ctx.dim)

    return type(name, (Function,), {"forward": staticmethod(forward),
                                     "backward": staticmethod(backward), "_fresh_grads": True,
                                     "_numpy_math": False})


_Softmax = _softmax_function("_Softmax", ops.softmax_forward, ops.softmax_backward)
_LogSoftmax = _softmax_function("_LogSoftmax", ops.log_softmax_forward, ops.log_softmax_backward)


def _softmax_dim(name: str, ndim: int, dim, stacklevel: int = 3) -> int:
    if dim is None:  # torch's legacy implicit choice, with its warning
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                      f"call to include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
        dim = 0 if ndim in (0, 1, 3) else 1
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
        raise TypeError(f"{name}(): dim must be an int, got {type(dim).__name__}")
    return _norm_dim(dim, ndim)


def _softmax_args(name: str, input, dim, stacklevel: int, dtype) -> int:
    _check_float(_check_tensor(input, name), name)
    if dtype is not None and np.dtype(dtype) != np.float32:
        raise TypeError(f"{name}(): dtype must be None or float32, got {dtype}")
    return _softmax_dim(name, input.ndim, dim, stacklevel + 1)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``, max-subtracted (native kernel, any dim)."""
    return _Softmax.apply(input, _softmax_args("softmax", input, dim, _stacklevel, dtype))


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype=None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``, max-subtracted (native kernel, any dim)."""
    return _LogSoftmax.apply(input, _softmax_args("log_softmax", input, dim, _stacklevel, dtype))


# ------------------------------------------------------------------------------------ losses

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction (expected one of "
                         f"{', '.join(_REDUCTIONS)})")
    return reduction


def _reduction(size_average, reduce, reduction: str) -> str:
    """torch's legacy ``size_average``/``reduce`` pair, when given, overrides ``reduction``."""
    if size_average is None and reduce is None:
        return _check_reduction(reduction)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{ret}' instead.", UserWarning, stacklevel=3)
    return ret


def _ignore_index(ignore_index, fn: str) -> int:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"{fn}(): argument 'ignore_index' must be int, not "
                        f"{type(ignore_index).__name__}")
    return int(ignore_index)


def _target(target, fn: str) -> Tensor:
    """A Tensor target (a NumPy array is wrapped: float data as float32, integers as int64)."""
    if isinstance(target, np.ndarray):
        return Tensor(target.astype(_canonical_dtype(target.dtype, f"{fn}(): target")))
    return _check_tensor(target, fn, "target")


def _array(t, fn: str, arg: str):
    """The array of an optional Tensor argument (weights never receive gradients here)."""
    if t is None:
        return None
    return _check_tensor(t, fn, arg).data


def _broadcast(t, shape: tuple, fn: str, arg: str):
    """An optional Tensor argument broadcast to ``shape`` (a view; the kernel reads it whole)."""
    a = _array(t, fn, arg)
    if a is None or a.shape == shape:
        return a
    try:
        return np.broadcast_to(a, shape)
    except ValueError:
        raise ValueError(f"{fn}(): {arg} of shape {a.shape} cannot be broadcast to the input's "
                         f"shape {shape}") from None


def _contiguous(a: np.ndarray) -> np.ndarray:
    """C-contiguous (a copy only when needed), keeping 0-d arrays 0-d (unlike ascontiguousarray)."""
    return np.asarray(a, order="C")


def _needs(ctx, i: int) -> bool:
    return len(ctx.needs_input_grad) > i and ctx.needs_input_grad[i]


class _CrossEntropy(Function):
    """Softmax cross entropy from logits: one native forward (saving each row's log-sum-exp) and
    one native backward writing ``s * (softmax - smoothed one-hot)``. A probability target is a
    Tensor input (it gets a gradient); class indices come as a plain array.

    When the logits need a gradient, the forward also writes the gradient for ``dloss = 1``
    while each row is in cache (class indices only), and a backward seeded with ones (the usual
    ``loss.backward()``) hands it over instead of reading the logits again: one pass over them
    instead of two."""

    _fresh_grads = True
    _numpy_math = False

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, label_smoothing, reduction):
        x, target = _contiguous(x), _contiguous(target)
        fused = _needs(ctx, 0) and target.dtype == np.int64
        loss, lse, total, dx = ops.cross_entropy_forward(x, target, weight, ignore_index,
                                                         label_smoothing, reduction, fused)
        ctx.save_for_backward(x, target, lse)
        ctx.args = (float(total), weight, ignore_index, label_smoothing, reduction)
        ctx.dx = dx
        return loss

    @staticmethod
    def backward(ctx, g):
        x, target, lse = ctx.saved_tensors
        g = np.asarray(g, np.float32)
        dx, ctx.dx = ctx.dx, None  # handed over once: a retained graph's next backward recomputes
        if dx is not None and np.all(g == 1.0):
            return (dx, None)[:len(ctx.needs_input_grad)]
        total, weight, ignore_index, label_smoothing, reduction = ctx.args
        dx, dt = ops.cross_entropy_backward(g, x, target, lse, total, weight, ignore_index,
                                            label_smoothing, reduction,
                                            need_dtarget=_needs(ctx, 1))
        return (dx, dt)[:len(ctx.needs_input_grad)]


def cross_entropy(input: Tensor, target, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """torch's ``F.cross_entropy`` on logits: int64 class indices (N,)/(N, d1, ...)/() or float
    class probabilities of the input's shape; per-class ``weight``, ``ignore_index``,
    ``label_smoothing``; a mean divides by the summed weight of the targets not ignored."""
    _check_tensor(input, "cross_entropy")
    target = _target(target, "cross_entropy")
    reduction = _reduction(size_average, reduce, reduction)
    w = _array(weight, "cross_entropy", "weight")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real):
        raise TypeError(f"cross_entropy(): argument 'label_smoothing' must be float, not "
                        f"{type(label_smoothing).__name__}")
    t = target.data if target.dtype == np.int64 else target
    return _CrossEntropy.apply(input, t, w, _ignore_index(ignore_index, "cross_entropy"),
                               float(label_smoothing), reduction)


class _NLLLoss(Function):
    """Negative log likelihood on log-probabilities: ``-weight[t] * input[t]`` per target."""

    _fresh_grads = True
    _numpy_math = False

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        x, target = _contiguous(x), _contiguous(target)
        loss, total = ops.nll_loss_forward(x, target, weight, ignore_index, reduction)
        ctx.save_for_backward(x, target)  # x only gives the backward its shape
        ctx.args = (float(total), weight, ignore_index, reduction)
        return loss

    @staticmethod
    def backward(ctx, g):
        x, target = ctx.saved_tensors
        total, weight, ignore_index, reduction = ctx.args
        return ops.nll_loss_backward(np.asarray(g, np.float32), x, target, total, weight,
                                     ignore_index, reduction)


def nll_loss(input: Tensor, target, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """torch's ``F.nll_loss``: input holds log-probabilities, target int64 class indices."""
    _check_tensor(input, "nll_loss")
    target = _target(target, "nll_loss")
    reduction = _reduction(size_average, reduce, reduction)
    return _NLLLoss.apply(input, target.data, _array(weight, "nll_loss", "weight"),
                          _ignore_index(ignore_index, "nll_loss"), reduction)


def _pointwise_loss(name: str, forward_kernel, backward_kernel) -> type:
    """A Function for an elementwise loss ``f(input, target; weight, pos_weight)``: one native
    call each way; the target is a Tensor input, so it gets a gradient when it asks for one."""

    def forward(ctx, x, target, weight, pos_weight, reduction):
        extra = () if pos_weight is False else (pos_weight,)
        ctx.save_for_backward(x, target)
        ctx.args = (weight,) + extra + (reduction,)
        return forward_kernel(x, target, weight, *extra, reduction)

    def backward(ctx, g):
        x, target = ctx.saved_tensors
        dx, dt = backward_kernel(np.asarray(g, np.float32), x, target, *ctx.args,
                                 need_dtarget=_needs(ctx, 1))
        return (dx, dt)[:len(ctx.needs_input_grad)]

    return type(name, (Function,), {"forward": staticmethod(forward),
                                     "backward": staticmethod(backward), "_fresh_grads": True,
                                     "_numpy_math": False})


_BCE = _pointwise_loss("_BCE", ops.binary_cross_entropy_forward,
                       ops.binary_cross_entropy_backward)
_BCEWithLogits = _pointwise_loss("_BCEWithLogits", ops.binary_cross_entropy_with_logits_forward,
                                 ops.binary_cross_entropy_with_logits_backward)


def binary_cross_entropy(input: Tensor, target, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """torch's ``F.binary_cross_entropy`` on probabilities (ValueError for inputs outside
    [0, 1]); each log clamped at -100; ``weight`` broadcasts to the input's shape."""
    _check_tensor(input, "binary_cross_entropy")
    target = _target(target, "binary_cross_entropy")
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         f"size.")
    w = _broadcast(weight, input.shape, "binary_cross_entropy", "weight")
    return _BCE.apply(input, target, w, False, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """torch's ``F.binary_cross_entropy_with_logits``: stable for any logit; ``weight`` and
    ``pos_weight`` (the weight of positives, e.g. one per class) broadcast to the input."""
    fn = "binary_cross_entropy_with_logits"
    _check_tensor(input, fn)
    target = _target(target, fn)
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    return _BCEWithLogits.apply(input, target, _broadcast(weight, input.shape, fn, "weight"),
                                _broadcast(pos_weight, input.shape, fn, "pos_weight"), reduction)


class _MSELoss(Function):
    _fresh_grads = True
    _numpy_math = False

    @staticmethod
    def forward(ctx, x, target, weight, reduction):
        loss, total = ops.mse_loss_forward(x, target, weight, reduction)
        ctx.save_for_backward(x, target)
        ctx.args = (float(total), weight, reduction)
        return loss

    @staticmethod
    def backward(ctx, g):
        x, target = ctx.saved_tensors
        total, weight, reduction = ctx.args
        dx, dt = ops.mse_loss_backward(np.asarray(g, np.float32), x, target, total, weight,
                                       reduction, need_dtarget=_needs(ctx, 1))
        return (dx, dt)[:len(ctx.needs_input_grad)]


def mse_loss(input: Tensor, target, size_average=None, reduce=None, reduction: str = "mean",
             weight: Tensor | None = None) -> Tensor:
    """``weight * (input - target) ** 2`` reduced by ``'mean'`` (default; divided by the summed
    weight when given), ``'sum'`` or ``'none'`` (native kernel). Input and target get gradients;
    ``weight`` (the input's shape) does not."""
    _check_tensor(input, "mse_loss")
    target = _target(target, "mse_loss")
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                      f"size ({input.shape}). This will likely lead to incorrect results due "
                      f"to broadcasting. Please ensure they have the same size.",
                      UserWarning, stacklevel=2)
    reduction = _reduction(size_average, reduce, reduction)
    w = _array(weight, "mse_loss", "weight")
    if w is not None and w.shape != input.shape:
        raise ValueError(f"Weights and input must have the same size (weight {w.shape}, input "
                         f"{input.shape}).")
    if target.shape != input.shape:  # torch broadcasts both (the warning above); so do we
        try:
            shape = np.broadcast_shapes(input.shape, target.shape)
        except ValueError:
            raise ValueError(f"mse_loss(): target of shape {target.shape} cannot be broadcast "
                             f"with input of shape {input.shape}") from None
        zeros = Tensor._wrap(np.zeros(shape, np.float32))
        input = input if input.shape == shape else input + zeros
        target = target if target.shape == shape else target + zeros
    return _MSELoss.apply(input, target, w, reduction)


# ----------------------------------------------------------------------------------- dropout


class _Dropout(Function):
    """Dropout with the mask saved as bytes: the forward draws it from (seed, element index),
    the backward multiplies by it again."""

    _fresh_grads = True
    _numpy_math = False

    @staticmethod
    def forward(ctx, x, p, seed):
        out, mask = ops.dropout_forward(x, p, seed)
        ctx.save_for_backward(mask)
        ctx.p = p
        return out

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return ops.dropout_backward(np.asarray(g, np.float32), mask, ctx.p)


def _check_p(p) -> float:
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"dropout(): p must be a float, got {type(p).__name__}")
    if not 0.0 <= p <= 1.0:  # NaN too
        raise ValueError(f"dropout probability p has to be between 0 and 1, but got {p}")
    return float(p)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` while
    ``training`` (else return ``input``). The mask comes from a 64-bit seed drawn from
    ``turbonn.random.default_generator()``, so ``manual_seed`` makes it reproducible, for any
    thread count. ``inplace`` is accepted for compatibility; the result is a new tensor."""
    p = _check_p(p)
    _check_float(_check_tensor(input, "dropout"), "dropout")
    if not training:
        return input
    seed = int(default_generator().integers(0, 2 ** 64, dtype=np.uint64))
    return _Dropout.apply(input, p, seed)

from ._conv_functional import conv2d  # noqa: E402  (conv2d lives in its own file)
from ._pool_functional import avg_pool2d, max_pool2d  # noqa: E402  (pooling lives in its own file)
from ._embedding_functional import embedding  # noqa: E402  (embedding lives in its own file)
from ._attention_functional import scaled_dot_product_attention  # noqa: E402  (own file)
from ._norm_functional import layer_norm  # noqa: E402  (layer_norm lives in its own file)
