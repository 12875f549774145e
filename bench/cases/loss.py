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


def cross_entropy_case(batch, classes, quick=False):
    case = Case(name=f"cross_entropy_fwd_bwd_{batch}x{classes}", setup={},
                bytes=8.0 * batch * classes, quick=quick,
                note=f"F.cross_entropy(x, t).backward(), x ({batch}, {classes}), mean")

    def setup_turbonn():
        import turbonn as tn
        x0, t0, _ = _inputs(case.seed(), batch, classes)
        x, t = tn.tensor(x0, requires_grad=True), tn.tensor(t0)
        F = tn.nn.functional

        def run():
            x.grad = None
            F.cross_entropy(x, t).backward()
            return x.grad.numpy()
        return run

    def setup_torch():
        import torch
        x0, t0, _ = _inputs(case.seed(), batch, classes)
        x, t = torch.from_numpy(x0).requires_grad_(True), torch.from_numpy(t0)
        F = torch.nn.functional

        def run():
            x.grad = None
            F.cross_entropy(x, t).backward()
            return x.grad
        return run

    case.setup = {"turbonn": setup_turbonn, "torch": setup_torch}
    return case


def log_softmax_case(batch, classes, quick=False):
    case = Case(name=f"log_softmax_fwd_bwd_{batch}x{classes}", setup={},
                bytes=20.0 * batch * classes, quick=quick,
                note=f"y = F.log_softmax(x, 1); y.backward(g), x ({batch}, {classes})")

    def setup_turbonn():
        import turbonn as tn
        x0, _, g0 = _inputs(case.seed(), batch, classes)
        x, g = tn.tensor(x0, requires_grad=True), tn.tensor(g0)
        F = tn.nn.functional

        def run():
            x.grad = None
            F.log_softmax(x, 1).backward(g)
            return x.grad.numpy()
        return run

    def setup_torch():
        import torch
        x0, _, g0 = _inputs(case.seed(), batch, classes)
        x, g = torch.from_numpy(x0).requires_grad_(True), torch.from_numpy(g0)
        F = torch.nn.functional

        def run():
            x.grad = None
            F.log_softmax(x, 1).backward(g)
            return x.grad
        return run

    case.setup = {"turbonn": setup_turbonn, "torch": setup_torch}
    return case


# 64x10 measures the per-call overhead of the Python layer (its arithmetic is a microsecond).
CASES = [cross_entropy_case(512, 10000, quick=True), cross_entropy_case(64, 10, quick=True),
         log_softmax_case(512, 10000, quick=True)]
