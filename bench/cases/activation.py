"""Activation cases, float32: forward then backward (from the output) of ReLU, sigmoid, tanh.

Memory-bound: rated in GB/s over the 20 bytes per element a forward+backward moves (x in, y out;
dout and y in, dinp out). Every library writes into preallocated outputs.
"""
from __future__ import annotations

import numpy as np

from . import Case


def _inputs(seed, n):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(n, dtype=np.float32) * 3, rng.standard_normal(n, dtype=np.float32))


def _numpy_pair(name, x, dout, y, d):
    if name == "relu":
        def run():
            np.maximum(x, 0, out=y)
            np.multiply(dout, y > 0, out=d)
            return d
    elif name == "sigmoid":
        def run():
            np.negative(x, out=y)
            np.exp(y, out=y)
            np.add(y, 1, out=y)
            np.reciprocal(y, out=y)
            np.multiply(dout, y * (1 - y), out=d)
            return d
    else:
        def run():
            np.tanh(x, out=y)
            np.multiply(dout, 1 - y * y, out=d)
            return d
    return run


def activation_case(name, n, quick=False):
    case = Case(name=f"{name}_fwd_bwd_{n}", setup={}, bytes=20.0 * n, quick=quick,
                note=f"{name} forward + backward over {n} floats")

    def setup_turbonn():
        import turbonn as tn
        x, dout = _inputs(case.seed(), n)
        y, d = np.empty_like(x), np.empty_like(x)
        f, b = getattr(tn.ops, f"{name}_forward"), getattr(tn.ops, f"{name}_backward")

        def run():
            f(x, out=y)
            return b(dout, y, dinp=d)
        return run

    def setup_numpy():
        x, dout = _inputs(case.seed(), n)
        return _numpy_pair(name, x, dout, np.empty_like(x), np.empty_like(x))

    def setup_torch():
        import torch
        x, dout = (torch.from_numpy(a) for a in _inputs(case.seed(), n))
        y, d = torch.empty_like(x), torch.empty_like(x)
        aten = torch.ops.aten
        fwd = {"relu": lambda: torch.clamp_min(x, 0, out=y), "sigmoid": lambda: torch.sigmoid(x, out=y),
               "tanh": lambda: torch.tanh(x, out=y)}[name]
        bwd = {"relu": lambda: aten.threshold_backward.grad_input(dout, y, 0, grad_input=d),
               "sigmoid": lambda: aten.sigmoid_backward.grad_input(dout, y, grad_input=d),
               "tanh": lambda: aten.tanh_backward.grad_input(dout, y, grad_input=d)}[name]

        def run():
            fwd()
            return bwd()
        return run

    case.setup = {"turbonn": setup_turbonn, "numpy": setup_numpy, "torch": setup_torch}
    return case


CASES = [activation_case(name, n, quick=(n == 1 << 20))
         for name in ("relu", "sigmoid", "tanh") for n in (64 * 128, 1 << 20)]
