"""Optimizer cases: one Adam step over a 10M-parameter tensor (its gradient already there).

DRAM-bound: rated in GB/s over the 28 bytes per parameter a step moves (param, m, v read and
written; grad read). torch runs its default (foreach) path here and, in the `_fused` case, with
fused=True; NumPy runs the same update as whole-array operations.
"""
from __future__ import annotations

import numpy as np

from . import Case

N = 10_000_000


def _inputs(seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(N, dtype=np.float32), rng.standard_normal(N, dtype=np.float32)


def adam_case(torch_fused):
    name = "adam_step_10M" + ("_torch_fused" if torch_fused else "")
    case = Case(name=name, setup={}, bytes=28.0 * N, quick=not torch_fused,
                note=f"Adam step, 10M float32 parameters (torch fused={torch_fused})")

    def setup_turbonn():
        import turbonn as tn
        from turbonn import optim
        p0, g = _inputs(case.seed())
        p = tn.tensor(p0, requires_grad=True)
        p.grad = tn.tensor(g)
        opt = optim.Adam([p], lr=1e-3)

        def run():
            opt.step()
            return p.data
        return run

    def setup_numpy():
        p, g = _inputs(case.seed())
        m, v = np.zeros_like(p), np.zeros_like(p)
        state = {"t": 0}
        b1, b2, lr, eps = 0.9, 0.999, 1e-3, 1e-8

        def run():
            state["t"] += 1
            t = state["t"]
            m.__imul__(b1).__iadd__((1 - b1) * g)
            v.__imul__(b2).__iadd__((1 - b2) * g * g)
            denom = np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps
            p.__isub__(lr / (1 - b1 ** t) * m / denom)
            return p
        return run

    def setup_torch():
        import torch
        p0, g = _inputs(case.seed())
        p = torch.from_numpy(p0).requires_grad_(True)
        p.grad = torch.from_numpy(g)
        opt = torch.optim.Adam([p], lr=1e-3, fused=torch_fused or None)

        def run():
            opt.step()
            return p.detach()
        return run

    case.setup = {"turbonn": setup_turbonn, "numpy": setup_numpy, "torch": setup_torch}
    return case


CASES = [adam_case(False), adam_case(True)]
