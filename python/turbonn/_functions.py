"""The differentiable ops behind ``Tensor``: one small ``Function`` per op, NumPy glue plus
``ops.gemm`` for matmul. Each forward saves exactly what its backward needs.
Not public API: use the ``Tensor`` methods and ``turbonn.cat``/``stack``/``matmul``.
"""
from __future__ import annotations

import numpy as np

from . import ops
from .autograd import Function


def broadcast_shape(a: tuple, b: tuple) -> tuple:
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        raise ValueError(f"shapes {a} and {b} cannot be broadcast together") from None


def unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``g`` down to ``shape``: over leading axes broadcasting added, and (keeping the axis)
    over axes where ``shape`` has size 1 but ``g`` does not."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def _shape(x) -> tuple:
    return np.shape(x)


# ------------------------------------------------------------------------------ elementwise


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        broadcast_shape(_shape(a), _shape(b))
        ctx.shapes = (_shape(a), _shape(b))
        return np.add(a, b)

    @staticmethod
    def backward(ctx, g):
        return _grads_for_tensors(ctx, *(unbroadcast(g, s) for s in ctx.shapes))


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        broadcast_shape(_shape(a), _shape(b))
        ctx.shapes = (_shape(a), _shape(b))
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, g):
        return _grads_for_tensors(ctx, unbroadcast(g, ctx.shapes[0]),
                                  unbroadcast(-g, ctx.shapes[1]))


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        broadcast_shape(_shape(a), _shape(b))
        ctx.save_for_backward(a, b)
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        da = unbroadcast(g * b, _shape(a)) if ctx.needs_arg_grad[0] else None
        db = unbroadcast(g * a, _shape(b)) if ctx.needs_arg_grad[1] else None
        return _grads_for_tensors(ctx, da, db)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        broadcast_shape(_shape(a), _shape(b))
        ctx.save_for_backward(a, b)
        return np.true_divide(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        da = unbroadcast(g / b, _shape(a)) if ctx.needs_arg_grad[0] else None
        db = unbroadcast(-g * a / (b * b), _shape(b)) if ctx.needs_arg_grad[1] else None
        return _grads_for_tensors(ctx, da, db)


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        broadcast_shape(_shape(a), _shape(b))
        out = np.power(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        da = db = None
        if ctx.needs_arg_grad[0]:
            # b * a**(b-1), with 0 where b == 0 (torch: d/da a**0 = 0 even at a == 0)
            da = np.where(np.equal(b, 0), 0.0, g * b * np.power(a, np.subtract(b, 1)))
            da = unbroadcast(da.astype(np.float32, copy=False), _shape(a))
        if ctx.needs_arg_grad[1]:
            # a**b * log(a), with 0 where a == 0 and b >= 0 (the limit torch uses)
            db = np.where(np.equal(a, 0) & np.greater_equal(b, 0), 0.0, g * out * np.log(a))
            db = unbroadcast(db.astype(np.float32, copy=False), _shape(b))
        return _grads_for_tensors(ctx, da, db)


def _grads_for_tensors(ctx, da, db):
    """Binary ops may have a Python scalar on either side; return grads for tensor args only."""
    both = (da, db)
    return tuple(both[p] for p in ctx.tensor_positions)


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, g):
        return -g


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g / a


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g / (2 * out)


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * np.sign(a)  # sign(0) = 0, torch's subgradient


# ----------------------------------------------------------------------------------- matmul


def _rows(shape: tuple) -> int:
    """The product of ``shape``: an explicit count where ``reshape(-1, ...)`` cannot infer one
    (a zero-size array with another zero-size axis)."""
    return int(np.prod(shape, dtype=np.int64))


class MatMul(Function):
    """``a @ b`` with NumPy's matmul rules, every product one ``ops.gemm`` call.

    1-D operands get a unit axis (removed again from the result); an N-D @ 2-D product folds
    the leading axes into rows (one gemm); otherwise batch axes broadcast and gemm runs per batch.
    Backward uses gemm's transpose flags: dA = dC @ B^T, dB = A^T @ dC.
    """

    @staticmethod
    def forward(ctx, a, b):
        if a.dtype != np.float32 or b.dtype != np.float32:
            raise TypeError(f"matmul needs float32 tensors, got {a.dtype} and {b.dtype}")
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul needs at least 1-D operands, got shapes {a.shape} and "
                             f"{b.shape}")
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a2.shape[-1] != b2.shape[-2]:
            raise ValueError(f"matmul shape mismatch: {a.shape} @ {b.shape} "
                             f"(inner sizes {a2.shape[-1]} and {b2.shape[-2]} differ)")
        M, K, N = a2.shape[-2], a2.shape[-1], b2.shape[-1]
        ctx.save_for_backward(a2, b2)
        ctx.shapes = (a.shape, b.shape)
        if b2.ndim == 2:
            out = ops.gemm(a2.reshape(_rows(a2.shape[:-1]), K), b2).reshape(a2.shape[:-1] + (N,))
        else:
            batch = broadcast_shape(a2.shape[:-2], b2.shape[:-2])
            A = np.broadcast_to(a2, batch + (M, K)).reshape(_rows(batch), M, K)
            B = np.broadcast_to(b2, batch + (K, N)).reshape(_rows(batch), K, N)
            out = np.empty((A.shape[0], M, N), np.float32)
            for i in range(A.shape[0]):
                ops.gemm(A[i], B[i], out=out[i])
            out = out.reshape(batch + (M, N))
        ctx.out_shape = out.shape  # before dropping the unit axes of 1-D operands
        if a.ndim == 1:
            out = out.squeeze(-2)
        if b.ndim == 1:
            out = out.squeeze(-1)
        return out

    @staticmethod
    def backward(ctx, g):
        a2, b2 = ctx.saved_tensors
        sa, sb = ctx.shapes
        g = g.reshape(ctx.out_shape)
        M, K, N = a2.shape[-2], a2.shape[-1], b2.shape[-1]
        da = db = None
        if b2.ndim == 2:
            g2 = g.reshape(_rows(g.shape[:-1]), N)
            if ctx.needs_input_grad[0]:
                da = ops.gemm(g2, b2, trans_b=True).reshape(sa)
            if ctx.needs_input_grad[1]:
                db = ops.gemm(a2.reshape(_rows(a2.shape[:-1]), K), g2, trans_a=True).reshape(sb)
            return da, db
        batch = g.shape[:-2]
        A = np.broadcast_to(a2, batch + (M, K)).reshape(_rows(batch), M, K)
        B = np.broadcast_to(b2, batch + (K, N)).reshape(_rows(batch), K, N)
        G = g.reshape(_rows(batch), M, N)
        if ctx.needs_input_grad[0]:
            full = np.empty(A.shape, np.float32)
            for i in range(G.shape[0]):
                ops.gemm(G[i], B[i], trans_b=True, out=full[i])
            da = unbroadcast(full.reshape(batch + (M, K)), a2.shape).reshape(sa)
        if ctx.needs_input_grad[1]:
            full = np.empty(B.shape, np.float32)
            for i in range(G.shape[0]):
                ops.gemm(A[i], G[i], trans_a=True, out=full[i])
            db = unbroadcast(full.reshape(batch + (K, N)), b2.shape).reshape(sb)
        return da, db


# ---------------------------------------------------------------------------- shape and views


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise ValueError(f"shape {tuple(shape)} is invalid for a tensor of shape {a.shape} "
                             f"({a.size} elements)") from None

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)


class Permute(Function):
    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return np.transpose(a, dims)

    @staticmethod
    def backward(ctx, g):
        return np.transpose(g, np.argsort(ctx.dims))


class Index(Function):
    """``a[key]`` for a NumPy key (integer arrays, no bool masks: the caller turns those into
    integer arrays); backward scatter-adds, so repeated indices accumulate."""

    @staticmethod
    def forward(ctx, a, key):
        ctx.key = key
        ctx.in_shape = a.shape
        parts = key if isinstance(key, tuple) else (key,)
        ctx.advanced = any(isinstance(k, np.ndarray) for k in parts)
        return a[key]

    @staticmethod
    def backward(ctx, g):
        out = np.zeros(ctx.in_shape, np.float32)
        if ctx.advanced:
            np.add.at(out, ctx.key, g)
        else:  # basic indexing selects each element at most once
            out[ctx.key] = g
        return out


class Cat(Function):
    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in arrays]
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        cuts = np.cumsum(ctx.sizes)[:-1]
        return tuple(np.split(g, cuts, axis=ctx.dim))


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, dim):
        ctx.dim = dim
        ctx.n = len(arrays)
        return np.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return tuple(np.take(g, i, axis=ctx.dim) for i in range(ctx.n))


# ------------------------------------------------------------------------------- reductions


class Sum(Function):
    @staticmethod
    def forward(ctx, a, dim, keepdim):
        ctx.in_shape, ctx.dim, ctx.keepdim = a.shape, dim, keepdim
        return np.sum(a, axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return _expand_reduced(g, ctx.in_shape, ctx.dim, ctx.keepdim)


class Mean(Function):
    @staticmethod
    def forward(ctx, a, dim, keepdim):
        ctx.in_shape, ctx.dim, ctx.keepdim = a.shape, dim, keepdim
        out = np.mean(a, axis=dim, keepdims=keepdim)
        ctx.count = a.size // max(out.size, 1)
        return out

    @staticmethod
    def backward(ctx, g):
        return _expand_reduced(g / np.float32(max(ctx.count, 1)), ctx.in_shape, ctx.dim,
                               ctx.keepdim)


class MaxAll(Function):
    """Max over all elements; the gradient is shared evenly among tied maxima (as in torch)."""

    @staticmethod
    def forward(ctx, a):
        if a.size == 0:
            raise ValueError("max(): expected a non-empty input tensor (the reduction has no "
                             "identity); pass dim= for empty dimensions")
        out = np.max(a)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        mask = (a == out) | (np.isnan(out) & np.isnan(a))
        return mask * (g / np.float32(mask.sum()))


class Gather(Function):
    """Values at ``indices`` along ``dim`` (max/min with dim); backward scatters into zeros."""

    @staticmethod
    def forward(ctx, a, indices, dim, keepdim):
        idx = np.expand_dims(indices, dim) if not keepdim else indices
        ctx.in_shape, ctx.idx, ctx.dim, ctx.keepdim = a.shape, idx, dim, keepdim
        out = np.take_along_axis(a, idx, axis=dim)
        return out if keepdim else np.squeeze(out, dim)

    @staticmethod
    def backward(ctx, g):
        out = np.zeros(ctx.in_shape, np.float32)
        gk = g if ctx.keepdim else np.expand_dims(g, ctx.dim)
        np.put_along_axis(out, ctx.idx, gk, axis=ctx.dim)
        return out


def _expand_reduced(g, in_shape, dim, keepdim):
    if dim is None:
        return np.broadcast_to(g, in_shape)
    if not keepdim:
        g = np.expand_dims(g, dim)
    return np.broadcast_to(g, in_shape)
