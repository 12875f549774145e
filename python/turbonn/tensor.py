"""``Tensor``: a NumPy array (float32 data, int64 indices, bool masks) plus autograd bookkeeping,
with PyTorch's names and semantics. Constructors ``tensor``/``from_numpy`` and ``cat``/``stack``.
Graph recording and backward live in ``turbonn.autograd``; the ops in ``turbonn._functions``.
"""
from __future__ import annotations

import collections
import numbers

import numpy as np

from . import _functions as F
from .autograd import run_backward

__all__ = ["Tensor", "tensor", "from_numpy", "cat", "stack", "matmul"]

_DTYPES = (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_))

# torch.return_types.max: a (values, indices) tuple also readable by name.
MaxResult = collections.namedtuple("max", ["values", "indices"])
MinResult = collections.namedtuple("min", ["values", "indices"])


def _canonical_dtype(dt: np.dtype, what: str) -> np.dtype:
    """float -> float32, integer -> int64, bool -> bool; anything else is a TypeError."""
    if dt.kind == "f":
        return np.dtype(np.float32)
    if dt.kind in "iu":
        return np.dtype(np.int64)
    if dt.kind == "b":
        return np.dtype(np.bool_)
    raise TypeError(f"{what}: unsupported dtype {dt} (expected float, integer or bool data)")


def _norm_dim(dim: int, ndim: int) -> int:
    if not isinstance(dim, numbers.Integral) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    lo, hi = -max(ndim, 1), max(ndim, 1) - 1
    if not lo <= dim <= hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], "
                         f"but got {dim})")
    return int(dim) % max(ndim, 1)


def _norm_dims(dim, ndim: int):
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        dims = tuple(_norm_dim(d, ndim) for d in dim)
        if len(set(dims)) != len(dims):
            raise ValueError(f"dim {tuple(dim)} appears multiple times in the list of dims")
        return dims
    return _norm_dim(dim, ndim)


def _shape_args(args) -> tuple:
    shape = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
    if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in shape):
        raise TypeError(f"shape must be a sequence of ints, got {tuple(shape)!r}")
    return tuple(int(n) for n in shape)


class Tensor:
    """An n-d array with autograd. Data is a NumPy array shared, never copied, by ``numpy()``."""

    __array_ufunc__ = None  # make NumPy defer to our reflected operators (ndarray + Tensor)
    __hash__ = object.__hash__  # == is elementwise, identity hashing as in torch

    def __init__(self, data: np.ndarray, requires_grad: bool = False):
        if not isinstance(data, np.ndarray):
            raise TypeError(f"Tensor(data): data must be a NumPy array; use turbonn.tensor(...) "
                            f"for {type(data).__name__}")
        if data.dtype not in _DTYPES:
            raise TypeError(f"Tensor(data): unsupported dtype {data.dtype} of data (expected "
                            f"float32, int64 or bool)")
        self.data = data
        self._grad: Tensor | None = None
        self._grad_fn = None
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _wrap(cls, data: np.ndarray) -> "Tensor":
        t = cls.__new__(cls)
        t.data, t._grad, t._grad_fn, t._requires_grad = data, None, None, False
        return t

    # ------------------------------------------------------------------------- properties
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def device(self) -> str:
        # The one backend seam: a CUDA backend will set this and ops will dispatch on it.
        return "cpu"

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[_norm_dim(dim, self.ndim)]

    def numel(self) -> int:
        return int(self.data.size)

    def dim(self) -> int:
        return self.ndim

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        flag = bool(flag)
        if self._grad_fn is not None and not flag:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. "
                               "Use .detach() to get a tensor that does not require grad.")
        if flag and self.dtype != np.float32:
            raise TypeError(f"requires_grad: only Tensors of floating point dtype can require "
                            f"gradients (this one is {self.dtype})")
        self._requires_grad = flag

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        self.requires_grad = flag
        return self

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def grad(self) -> "Tensor | None":
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"grad must be a Tensor or None, got {type(value).__name__}")
            if value.dtype != self.dtype:  # an int grad would be summed into and stepped on
                raise TypeError(f"grad of dtype {value.dtype} assigned to a tensor of dtype "
                                f"{self.dtype}")
            if value.shape != self.shape:
                raise ValueError(f"grad of shape {value.shape} assigned to a tensor of shape "
                                 f"{self.shape}")
        self._grad = value

    # -------------------------------------------------------------------------- conversion
    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self.data

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def detach(self) -> "Tensor":
        return Tensor._wrap(self.data)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"a Tensor with {self.data.size} elements cannot be converted "
                             f"to Scalar")
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def float(self) -> "Tensor":
        return self if self.dtype == np.float32 else Tensor._wrap(self.data.astype(np.float32))

    def long(self) -> "Tensor":
        return Tensor._wrap(self.data.astype(np.int64))

    def bool(self) -> "Tensor":
        return Tensor._wrap(self.data.astype(np.bool_))

    def cpu(self) -> "Tensor":
        return self

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.data.item())

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __repr__(self) -> str:
        body = _format(self.data)
        extras = []
        if self._grad_fn is not None:
            extras.append(f"grad_fn=<{self._grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.data.size == 0 and self.dtype != np.float32:  # torch names non-default dtypes
            extras.append(f"dtype={self.dtype}")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # ---------------------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph: bool | None = None) -> None:
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have "
                               "a grad_fn")
        if gradient is None:
            if self.data.size != 1:
                raise ValueError(f"grad can be implicitly created only for scalar outputs: pass "
                                 f"a gradient of shape {self.shape}")
            seed = np.ones(self.shape, np.float32)
        else:
            seed = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
            if seed.dtype.kind not in "fiub":  # complex would drop its imaginary part
                raise TypeError(f"gradient must hold real numbers, got dtype {seed.dtype}")
            if seed.shape != self.shape:
                raise ValueError(f"Mismatch in shape: gradient has a shape of {seed.shape} "
                                 f"and output has a shape of {self.shape}")
            seed = seed.astype(np.float32, copy=False)
        run_backward(self, seed, bool(retain_graph))

    # -------------------------------------------------------------------------- arithmetic
    def _binary(self, fn, other, reflected=False):
        if isinstance(other, np.ndarray):
            other = tensor(other)
        elif not isinstance(other, (Tensor, numbers.Number, np.generic)):
            return NotImplemented
        return fn.apply(other, self) if reflected else fn.apply(self, other)

    def __add__(self, o):
        return self._binary(F.Add, o)

    def __radd__(self, o):
        return self._binary(F.Add, o, True)

    def __sub__(self, o):
        return self._binary(F.Sub, o)

    def __rsub__(self, o):
        return self._binary(F.Sub, o, True)

    def __mul__(self, o):
        return self._binary(F.Mul, o)

    def __rmul__(self, o):
        return self._binary(F.Mul, o, True)

    def __truediv__(self, o):
        return self._binary(F.Div, o)

    def __rtruediv__(self, o):
        return self._binary(F.Div, o, True)

    def __pow__(self, o):
        return self._binary(F.Pow, o)

    def __rpow__(self, o):
        return self._binary(F.Pow, o, True)

    def __matmul__(self, o):
        if not isinstance(o, Tensor):
            return NotImplemented
        return F.MatMul.apply(self, o)

    def __rmatmul__(self, o):
        if not isinstance(o, Tensor):
            return NotImplemented
        return F.MatMul.apply(o, self)

    def __neg__(self):
        return F.Neg.apply(self)

    def __pos__(self):
        return self

    def matmul(self, o):
        return matmul(self, o)

    add, sub, mul, div, pow = __add__, __sub__, __mul__, __truediv__, __pow__

    def exp(self):
        return F.Exp.apply(self)

    def log(self):
        return F.Log.apply(self)

    def sqrt(self):
        return F.Sqrt.apply(self)

    def abs(self):
        return F.Abs.apply(self)

    # -------------------------------------------------------------------------- comparison
    def _compare(self, ufunc, other):
        o = other.data if isinstance(other, Tensor) else other
        if isinstance(o, np.ndarray):
            F.broadcast_shape(self.shape, o.shape)
        elif not isinstance(o, (numbers.Number, np.generic)):
            return NotImplemented
        return Tensor._wrap(np.asarray(ufunc(self.data, o)))

    def __eq__(self, o):
        return self._compare(np.equal, o)

    def __ne__(self, o):
        return self._compare(np.not_equal, o)

    def __lt__(self, o):
        return self._compare(np.less, o)

    def __le__(self, o):
        return self._compare(np.less_equal, o)

    def __gt__(self, o):
        return self._compare(np.greater, o)

    def __ge__(self, o):
        return self._compare(np.greater_equal, o)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    # ------------------------------------------------------------------------------ shapes
    def reshape(self, *shape) -> "Tensor":
        return F.Reshape.apply(self, _shape_args(shape))

    def view(self, *shape) -> "Tensor":
        return self.reshape(*shape)

    def flatten(self) -> "Tensor":
        return self.reshape(-1)

    def permute(self, *dims) -> "Tensor":
        dims = _shape_args(dims)
        norm = tuple(_norm_dim(d, self.ndim) for d in dims)
        if sorted(norm) != list(range(self.ndim)):
            raise ValueError(f"permute dims {dims} are not a permutation of the {self.ndim} "
                             f"dims of a tensor of shape {self.shape}")
        return F.Permute.apply(self, norm)

    def transpose(self, dim0: int, dim1: int) -> "Tensor":
        perm = list(range(self.ndim))
        d0, d1 = _norm_dim(dim0, self.ndim), _norm_dim(dim1, self.ndim)
        if self.ndim < 2:
            return self
        perm[d0], perm[d1] = perm[d1], perm[d0]
        return F.Permute.apply(self, tuple(perm))

    @property
    def T(self) -> "Tensor":
        return F.Permute.apply(self, tuple(reversed(range(self.ndim))))

    def __getitem__(self, key) -> "Tensor":
        return F.Index.apply(self, _index_key(key))

    # -------------------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim: bool = False) -> "Tensor":
        return F.Sum.apply(self, _norm_dims(dim, self.ndim), bool(keepdim))

    def mean(self, dim=None, keepdim: bool = False) -> "Tensor":
        return F.Mean.apply(self, _norm_dims(dim, self.ndim), bool(keepdim))

    def max(self, dim=None, keepdim: bool = False):
        """``max()`` is the scalar max; ``max(dim)`` is ``(values, indices)`` as in torch."""
        return self._extremum(np.argmax, dim, keepdim, MaxResult)

    def min(self, dim=None, keepdim: bool = False):
        return self._extremum(np.argmin, dim, keepdim, MinResult)

    def _extremum(self, argfn, dim, keepdim, result):
        if dim is None:
            if argfn is np.argmax:
                return F.MaxAll.apply(self)
            return -F.MaxAll.apply(-self)
        d = _norm_dim(dim, self.ndim)
        if self.ndim == 0:
            return result(self * 1, Tensor._wrap(np.asarray(0, np.int64)))
        if self.shape[d] == 0:
            raise IndexError(f"cannot reduce over dim {dim} of size 0 (shape {self.shape})")
        idx = argfn(self.data, axis=d, keepdims=bool(keepdim)).astype(np.int64, copy=False)
        values = F.Gather.apply(self, idx, d, bool(keepdim))
        return result(values, Tensor._wrap(np.asarray(idx)))

    def argmax(self, dim=None, keepdim: bool = False) -> "Tensor":
        if dim is None:
            return Tensor._wrap(np.asarray(np.argmax(self.data), np.int64))
        d = _norm_dim(dim, self.ndim)
        return Tensor._wrap(np.asarray(np.argmax(self.data, axis=d, keepdims=bool(keepdim)),
                                       np.int64))


def _index_key(key):
    """Tensors to arrays; bool masks to integer arrays (so backward can scatter-add)."""
    parts = key if isinstance(key, tuple) else (key,)
    out = []
    for k in parts:
        if isinstance(k, Tensor):
            k = k.data
        elif isinstance(k, list):
            k = np.asarray(k)
        if isinstance(k, np.ndarray):
            if k.dtype == np.bool_:
                out.extend(np.nonzero(k))
                continue
            if k.dtype.kind not in "iu":
                raise IndexError(f"tensors used as indices must be long or bool, got {k.dtype}")
        elif not (k is None or k is Ellipsis or isinstance(k, (slice, numbers.Integral))):
            raise TypeError(f"unsupported index {k!r} of type {type(k).__name__}")
        out.append(k)
    return tuple(out) if isinstance(key, tuple) or len(out) != 1 else out[0]


def _float_formatter(a: np.ndarray):
    """torch's choice: ``1.`` when all values are integral, 4 decimals, or scientific when the
    nonzero finite magnitudes span more than 1000x, exceed 1e8 or go below 1e-4."""
    vals = np.abs(a[np.isfinite(a) & (a != 0)]).astype(np.float64)
    integral = bool(np.all(vals == np.round(vals)))
    sci = vals.size > 0 and (vals.max() / vals.min() > 1000 or vals.max() > 1e8
                             or (not integral and vals.min() < 1e-4))

    def fmt(x) -> str:
        x = float(x)
        if np.isnan(x):
            return "nan"
        if np.isinf(x):
            return "inf" if x > 0 else "-inf"
        if sci:
            return f"{x:.4e}"
        return f"{x:.0f}." if integral else f"{x:.4f}"
    return fmt


def _format(a: np.ndarray) -> str:
    """Array text in torch's style (``tensor([1.0000, 2.5000])``, ``tensor([True, False])``)."""
    if a.dtype == np.float32:
        fmt = _float_formatter(a)
        sample = a.ravel() if a.size <= 1000 else np.concatenate([a.ravel()[:3], a.ravel()[-3:]])
        width = max((len(fmt(x)) for x in sample), default=0)
        formatter = {"float": lambda x: fmt(x).rjust(width)}  # torch right-aligns columns
    elif a.dtype == np.bool_:
        fmt = str
        width = 5 if not a.all() else 4
        formatter = {"bool": lambda x: str(bool(x)).rjust(width)}
    else:
        fmt = str
        formatter = None
    if a.ndim == 0:
        return fmt(a.item())
    return np.array2string(a, separator=", ", prefix="tensor(", threshold=1000, edgeitems=3,
                           formatter=formatter, max_line_width=80)


# ------------------------------------------------------------------------------ constructors


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, scalars, arrays or a Tensor).

    Floats become float32 (torch's default dtype), integers int64, bools bool; ``dtype`` may
    ask for one of those three explicitly.
    """
    if isinstance(data, Tensor):
        data = data.data
    try:
        arr = np.array(data)
    except ValueError as e:  # ragged nested lists
        raise ValueError(f"tensor(): could not build a rectangular array from data: {e}") \
            from None
    target = _canonical_dtype(np.dtype(dtype) if dtype is not None else arr.dtype, "tensor()")
    if dtype is not None and np.dtype(dtype) not in _DTYPES:
        raise TypeError(f"tensor(): dtype must be float32, int64 or bool, got {np.dtype(dtype)}")
    return Tensor(np.array(arr, dtype=target, copy=True), requires_grad=requires_grad)


def from_numpy(a: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``a`` (float32, int64 or bool; no conversion, no copy)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(a).__name__})")
    if a.dtype not in _DTYPES:
        raise TypeError(f"from_numpy: can't convert np.ndarray of type {a.dtype} without a "
                        f"copy; supported types are float32, int64 and bool "
                        f"(use turbonn.tensor(a) to convert)")
    return Tensor(a)


def _tensor_list(tensors, what: str) -> list:
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{what}() expects a non-empty sequence of tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{what}() expects a sequence of Tensors, got {type(t).__name__}")
    return tensors


def cat(tensors, dim: int = 0) -> Tensor:
    ts = _tensor_list(tensors, "cat")
    d = _norm_dim(dim, ts[0].ndim)
    for t in ts:
        if t.ndim != ts[0].ndim or t.shape[:d] + t.shape[d + 1:] != \
                ts[0].shape[:d] + ts[0].shape[d + 1:]:
            raise ValueError(f"cat(): shapes {[x.shape for x in ts]} must match except in "
                             f"dim {dim}")
    return F.Cat.apply(*ts, dim=d)


def stack(tensors, dim: int = 0) -> Tensor:
    ts = _tensor_list(tensors, "stack")
    if any(t.shape != ts[0].shape for t in ts):
        raise ValueError(f"stack(): expects each tensor to be equal size, got "
                         f"{[t.shape for t in ts]}")
    d = _norm_dim(dim, ts[0].ndim + 1)
    return F.Stack.apply(*ts, dim=d)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"matmul() expects Tensors, got {type(a).__name__} and "
                        f"{type(b).__name__}")
    return F.MatMul.apply(a, b)
