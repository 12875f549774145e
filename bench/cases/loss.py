"""Loss cases, float32, through each library's autograd: softmax cross entropy forward + backward
(F.cross_entropy(x, t).backward(), class-index targets, mean reduction) and log_softmax forward +
backward (y = F.log_softmax(x, 1); y.backward(g)), batch x classes.

Memory-bound: rated in GB/s over the bytes a fused implementation must move (cross entropy: x read
once, dx written once: 8 bytes per logit; log_softmax: x in, y out, then g and y in, dx out: 20
bytes per element). NumPy has no autograd: '-'.
"""
from __future__ import annotations

import numpy as np

from . import Case


def _inputs(seed, batch, classes):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((batch, classes), dtype=np.float32) * 2,
            rng.integers(0, classes, batch).astype(np.int64),
            rng.standard_normal((batch, classes), dtype=np.float32))


def _both(case, batch, classes, step):
    """Setups for turbonn and torch: x (requires grad), integer targets t and an upstream g, then
    run() = step(F, x, t, g) with x.grad cleared first; run returns x's gradient."""
    def setup(lib_name):
        def run_setup():
            lib = __import__(lib_name)
            wrap = lib.from_numpy if lib_name == "torch" else lib.tensor
            x0, t0, g0 = _inputs(case.seed(), batch, classes)
            x, t, g = wrap(x0).requires_grad_(True), wrap(t0), wrap(g0)
            F = lib.nn.functional

            def run():
                x.grad = None
                step(F, x, t, g)
                return x.grad.numpy()
            return run
        return run_setup

    case.setup = {"turbonn": setup("turbonn"), "torch": setup("torch")}
    return case


def cross_entropy_case(batch, classes, quick=False):
    case = Case(name=f"cross_entropy_fwd_bwd_{batch}x{classes}", setup={},
                bytes=8.0 * batch * classes, quick=quick,
                note=f"F.cross_entropy(x, t).backward(), x ({batch}, {classes}), mean")
    return _both(case, batch, classes, lambda F, x, t, g: F.cross_entropy(x, t).backward())


def log_softmax_case(batch, classes, quick=False):
    case = Case(name=f"log_softmax_fwd_bwd_{batch}x{classes}", setup={},
                bytes=20.0 * batch * classes, quick=quick,
                note=f"y = F.log_softmax(x, 1); y.backward(g), x ({batch}, {classes})")
    return _both(case, batch, classes, lambda F, x, t, g: F.log_softmax(x, 1).backward(g))


# 64x10 measures the per-call overhead of the Python layer (its arithmetic is a microsecond).
CASES = [cross_entropy_case(512, 10000, quick=True), cross_entropy_case(64, 10, quick=True),
         log_softmax_case(512, 10000, quick=True)]
