"""Dense layer cases, float32: Linear forward + backward through each library's autograd
(y = x @ W.T + b; loss = y.sum(); gradients for x, W and b), batch x in -> out.

Rated in GFLOP/s over the three GEMMs (6 * batch * in * out). NumPy has no autograd: '-'.
"""
from __future__ import annotations

import numpy as np

from . import Case


def _inputs(seed, batch, n_in, n_out):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((batch, n_in), dtype=np.float32),
            rng.standard_normal((n_out, n_in), dtype=np.float32) * 0.05,
            rng.standard_normal(n_out, dtype=np.float32))


def dense_case(batch, n_in, n_out, quick=False):
    case = Case(name=f"dense_fwd_bwd_{batch}x{n_in}x{n_out}", setup={},
                flops=6.0 * batch * n_in * n_out, quick=quick,
                note=f"Linear({n_in}, {n_out}) forward + backward, batch {batch}")

    def setup_turbonn():
        import turbonn as tn
        x0, w0, b0 = _inputs(case.seed(), batch, n_in, n_out)
        layer = tn.nn.Linear(n_in, n_out)
        layer.load_state_dict({"weight": w0, "bias": b0})
        x = tn.tensor(x0, requires_grad=True)

        def run():
            layer.zero_grad()
            x.grad = None
            layer(x).sum().backward()
            return layer.weight.grad.numpy()
        return run

    def setup_torch():
        import torch
        x0, w0, b0 = _inputs(case.seed(), batch, n_in, n_out)
        layer = torch.nn.Linear(n_in, n_out)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(w0))
            layer.bias.copy_(torch.from_numpy(b0))
        x = torch.from_numpy(x0).requires_grad_(True)

        def run():
            layer.zero_grad()
            x.grad = None
            layer(x).sum().backward()
            return layer.weight.grad
        return run

    case.setup = {"turbonn": setup_turbonn, "torch": setup_torch}
    return case


# 4x16x8 measures the Python and dispatch overhead per layer (the "tiny Linear" case):
# its arithmetic is a few hundred nanoseconds.
CASES = [dense_case(64, 784, 128, quick=True), dense_case(256, 1024, 1024, quick=True),
         dense_case(4, 16, 8, quick=True)]
