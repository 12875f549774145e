"""Parameter initialisers with torch's names and formulas, filling a float32 tensor in place
(under ``no_grad``) from the global generator of ``turbonn.manual_seed``; each returns its tensor."""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ..autograd import no_grad
from ..random import default_generator
from ..tensor import Tensor

__all__ = [
    "calculate_gain", "uniform_", "normal_", "constant_", "ones_", "zeros_", "eye_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
]


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for ``nonlinearity`` (torch's table)."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Real) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _array(tensor, fn: str) -> np.ndarray:
    """The float32 array to fill in place (never a converted copy)."""
    arr = tensor.data if isinstance(tensor, Tensor) else tensor
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{fn}: expected a Tensor, got {type(tensor).__name__}")
    if arr.dtype != np.float32:
        raise TypeError(f"{fn}: expected a float32 tensor, got {arr.dtype} (initialisers fill "
                        f"in place and never convert)")
    if not arr.flags.writeable:
        raise ValueError(f"{fn}: the tensor's array is read-only")
    return arr


def _fill(tensor, fn: str, values) -> Tensor:
    arr = _array(tensor, fn)
    with no_grad():
        arr[...] = values(arr.shape) if callable(values) else values
    return tensor


def _calculate_fan_in_and_fan_out(tensor) -> tuple[int, int]:
    shape = np.shape(tensor.data if isinstance(tensor, Tensor) else tensor)
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than "
                         "2 dimensions")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor, mode: str) -> int:
    valid = ["fan_in", "fan_out"]
    mode = mode.lower() if isinstance(mode, str) else mode
    if mode not in valid:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with values drawn from U(a, b)."""
    if not a <= b:
        raise ValueError(f"uniform_ expects to return a [a, b) range, but found a={a} > b={b}")
    gen = generator or default_generator()
    return _fill(tensor, "uniform_", lambda shape: gen.uniform(a, b, size=shape))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with values drawn from N(mean, std**2)."""
    if not std >= 0:
        raise ValueError(f"normal_ expects std >= 0.0, but found std {std}")
    gen = generator or default_generator()
    return _fill(tensor, "normal_", lambda shape: gen.normal(mean, std, size=shape))


def constant_(tensor, val: float) -> Tensor:
    return _fill(tensor, "constant_", val)


def ones_(tensor) -> Tensor:
    return _fill(tensor, "ones_", 1.0)


def zeros_(tensor) -> Tensor:
    return _fill(tensor, "zeros_", 0.0)


def eye_(tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the main diagonal)."""
    if len(_array(tensor, "eye_").shape) != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, "eye_", lambda shape: np.eye(*shape))


def xavier_uniform_(tensor, gain: float = 1.0, generator=None) -> Tensor:
    """U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None) -> Tensor:
    """N(0, std**2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor, a, mode, nonlinearity, fn) -> float | None:
    if 0 in np.shape(_array(tensor, fn)):
        warnings.warn("Initializing zero-element tensors is a no-op")
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """U(-bound, bound) with ``bound = gain * sqrt(3 / fan)`` (He et al.)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """N(0, std**2) with ``std = gain / sqrt(fan)`` (He et al.)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator)


def _default_layer_init_(weight, bias) -> None:
    """torch's reset_parameters of Linear and ConvNd: weight by kaiming_uniform_(a=sqrt(5)),
    i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias (when given) from the same bound."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)
