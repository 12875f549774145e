"""The tape autograd: grad mode (``no_grad``), the ``Function`` base class and the backward engine.

Ops themselves (``Add``, ``MatMul`` ...) live in ``turbonn._functions``; ``Tensor`` in
``turbonn.tensor``. Gradients flowing through the engine are float32 NumPy arrays, never mutated.
"""
from __future__ import annotations

import functools
import threading

import numpy as np

__all__ = ["Function", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled"]

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward(). Specify retain_graph=True if you need to backward through the graph a "
    "second time or if you need to access saved tensors after calling backward.")

# ---------------------------------------------------------------------------------- grad mode

_mode = threading.local()


def is_grad_enabled() -> bool:
    return getattr(_mode, "enabled", True)


def _set_enabled(flag: bool) -> None:
    _mode.enabled = bool(flag)


class _GradMode:
    """Context manager and decorator that sets grad mode, restoring the previous one on exit."""

    _flag: bool = True

    def __new__(cls, orig_func=None):
        # Allow the bare decorator form ``@tn.no_grad`` as well as ``@tn.no_grad()`` (like torch).
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)

    def __init__(self, orig_func=None):
        self._prev: list[bool] = []  # a stack, so one instance may be entered re-entrantly

    def __enter__(self):
        self._prev.append(is_grad_enabled())
        _set_enabled(self._flag)
        return None

    def __exit__(self, *exc):
        _set_enabled(self._prev.pop())
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with type(self)():
                return func(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Disable graph recording: results of ops computed inside never require grad."""

    _flag = False


class enable_grad(_GradMode):
    """Re-enable graph recording inside a ``no_grad`` block."""

    _flag = True


class set_grad_enabled:
    """``set_grad_enabled(False)`` as a context manager, or as a plain call that sets the mode."""

    def __init__(self, mode: bool):
        self._prev = is_grad_enabled()
        _set_enabled(mode)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        _set_enabled(self._prev)
        return False


# ------------------------------------------------------------------------------- graph nodes


class Context:
    """One recorded op: what its backward needs, and where each input's gradient goes.

    ``edges[i]`` is, for the i-th tensor input, the producing node (a ``Context``), the leaf
    ``Tensor`` that accumulates ``.grad``, or ``None`` when that input needs no gradient.
    Holding nodes rather than intermediate tensors lets unsaved activations be freed early.
    """

    def __init__(self, fn: type):
        self.fn = fn
        self.needs_input_grad: tuple[bool, ...] = ()
        self.edges: tuple = ()
        self.input_shapes: tuple = ()
        self._saved: tuple | None = ()
        self._freed = False

    def save_for_backward(self, *arrays) -> None:
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError(_FREED_MSG)
        return self._saved

    def _free(self) -> None:
        keep = ("fn", "needs_input_grad", "edges", "input_shapes", "tensor_positions",
                "needs_arg_grad")
        for key in [k for k in self.__dict__ if k not in keep]:
            del self.__dict__[key]
        self._saved = None
        self._freed = True

    def name(self) -> str:
        return self.fn.__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class Function:
    """A differentiable op on NumPy arrays.

    Subclasses define ``forward(ctx, *args, **kwargs) -> ndarray`` (tensor arguments arrive as
    their arrays; save exactly what backward needs on ``ctx``) and
    ``backward(ctx, grad) -> ndarray | tuple`` returning one gradient (or ``None``) per tensor
    argument, each of that argument's shape. Call ``SubClass.apply(*args, **kwargs)``.
    """

    # True when backward returns new arrays that nothing else references (a native kernel's
    # outputs): the engine may then store them as a leaf's .grad without copying.
    _fresh_grads = False

    @staticmethod
    def forward(ctx, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    # False for ops whose forward and backward are native kernels only: NumPy's floating-point
    # error state (a context manager costing microseconds per call) is then left alone.
    _numpy_math = True

    @classmethod
    def apply(cls, *args, **kwargs):
        Tensor = _tensor_class()
        tensors = []
        positions = []
        raw = []
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                tensors.append(a)
                positions.append(i)
                raw.append(a.data)
            else:
                raw.append(a)
        record = is_grad_enabled() and any(t._requires_grad for t in tensors)
        ctx = Context(cls)
        if record:
            ctx.needs_input_grad = tuple(t._requires_grad for t in tensors)
            needs = [False] * len(args)
            for p, t in zip(positions, tensors):
                needs[p] = t._requires_grad
            ctx.needs_arg_grad = tuple(needs)
        else:
            ctx.needs_input_grad = (False,) * len(tensors)
            ctx.needs_arg_grad = (False,) * len(args)
        # Per positional argument, for ops taking a scalar on either side.
        ctx.tensor_positions = tuple(positions)
        if cls._numpy_math:
            with np.errstate(all="ignore"):  # NaN in, NaN out, silently (like torch)
                out = np.asarray(cls.forward(ctx, *raw, **kwargs))
        else:
            out = cls.forward(ctx, *raw, **kwargs)
        if out.dtype == np.float64:  # int/float mixes promote to the default float32
            out = out.astype(np.float32)
        result = Tensor._wrap(out)
        if record:
            ctx.edges = tuple(_edge(t) for t in tensors)
            ctx.input_shapes = tuple(t.shape for t in tensors)
            result._grad_fn = ctx
            result._requires_grad = True
        return result


_TENSOR = []


def _tensor_class():
    """``turbonn.tensor.Tensor``, imported on first use (tensor.py imports this module); a
    function-level import on every op costs more than the op's bookkeeping."""
    if not _TENSOR:
        from .tensor import Tensor
        _TENSOR.append(Tensor)
    return _TENSOR[0]


def _edge(t):
    if not t.requires_grad:
        return None
    return t._grad_fn if t._grad_fn is not None else t


# ---------------------------------------------------------------------------------- backward


def _topo_order(root: Context) -> list[Context]:
    """Nodes reachable from root, each after every node that consumes its output."""
    order: list[Context] = []
    seen = {id(root)}
    stack = [(root, iter(root.edges))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if isinstance(child, Context) and id(child) not in seen:
                seen.add(id(child))
                stack.append((child, iter(child.edges)))
                break
        else:
            stack.pop()
            order.append(node)
    order.reverse()
    return order


def _accumulate_leaf(leaf, g: np.ndarray, fresh: bool = False) -> None:
    Tensor = _tensor_class()
    if leaf._grad is None:
        # A copy unless g is fresh: g may alias another gradient or a user array, and users
        # update .grad in place.
        leaf._grad = Tensor._wrap(g if fresh and g.flags.c_contiguous
                                  else np.array(g, dtype=np.float32, copy=True))
    else:
        acc = leaf._grad.data
        if acc.dtype == np.float32 and acc.flags.writeable and acc.shape == leaf.shape:
            np.add(acc, g, out=acc)  # in place, as torch: a reference to .grad sees the sum
        else:
            leaf._grad = Tensor._wrap((acc + g).astype(np.float32, copy=False))


def run_backward(root, gradient: np.ndarray, retain_graph: bool) -> None:
    """Propagate ``gradient`` (of root's shape) to every leaf reachable from ``root``."""
    if root._grad_fn is None:  # a leaf: its gradient is the seed itself
        _accumulate_leaf(root, gradient)
        return
    if root._grad_fn._freed:
        raise RuntimeError(_FREED_MSG)
    grads: dict[int, np.ndarray] = {id(root._grad_fn): gradient}
    for node in _topo_order(root._grad_fn):
        if node._freed:
            raise RuntimeError(_FREED_MSG)
        g = grads.pop(id(node), None)
        if g is None:  # no path from root carries a gradient here
            continue
        if node.fn._numpy_math:
            with np.errstate(all="ignore"):
                outs = node.fn.backward(node, g)
        else:
            outs = node.fn.backward(node, g)
        if not isinstance(outs, tuple):
            outs = (outs,)
        if len(outs) != len(node.edges):
            raise RuntimeError(f"{node.name()} returned {len(outs)} gradients, "
                               f"expected {len(node.edges)}")
        fresh = node.fn._fresh_grads
        for i, (edge, gi) in enumerate(zip(node.edges, outs)):
            if edge is None or gi is None:
                continue
            gi = np.asarray(gi)
            if gi.shape != node.input_shapes[i]:
                raise RuntimeError(f"{node.name()} returned a gradient of shape {gi.shape} for "
                                   f"input {i}, expected {node.input_shapes[i]}")
            if gi.dtype != np.float32:
                gi = gi.astype(np.float32)
            if isinstance(edge, Context):
                prev = grads.get(id(edge))
                grads[id(edge)] = gi if prev is None else prev + gi
            else:
                _accumulate_leaf(edge, gi, fresh and gi.dtype == np.float32)
        if not retain_graph:
            node._free()
